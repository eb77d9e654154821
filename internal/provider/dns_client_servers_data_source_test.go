package provider

import (
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/bastion-pam/terraform-provider-bastion/internal/lab"
	"github.com/bastion-pam/terraform-provider-bastion/internal/lab/model"
	"github.com/bastion-pam/terraform-provider-bastion/internal/topology"
)

// dnsClientHCL reads the two MIM hosts' DNS client settings and feeds them
// to bastion_topology's HA-7.
func dnsClientHCL(l *lab.Lab) string {
	return l.ProviderHCL() + fmt.Sprintf(`
data "bastion_dns_client_servers" "bastion" {
  hosts = [%q, %q]
}

data "bastion_topology" "t" {
  domain = { dns_name = %q, forest_functional_level = 7 }
  domain_controllers = [
    { host = %q }, # no addresses: the data source names the DCs itself
    { host = %q },
  ]
  dns_servers  = data.bastion_dns_client_servers.bastion.dns_servers
  ha_functions = ["trust_establishment"]
  enforce      = false # only HA-7 matters here; the topology lacks SQL and MIM
}
`, model.App1, model.App2, model.DomainDNS, model.DC1, model.DC2)
}

// ha7Hosts checks the topology's HA-7 violations: none when want is nil,
// else exactly one naming want.
func ha7Hosts(want []string) resource.TestCheckFunc {
	return func(s *terraform.State) error {
		a, err := attributesOf(s, "data.bastion_topology.t")
		if err != nil {
			return err
		}
		var found [][]string
		for k, v := range a {
			if !strings.HasSuffix(k, ".rule_id") || v != "HA-7" {
				continue
			}
			prefix := strings.TrimSuffix(k, "rule_id")
			var hosts []string
			for i := 0; a[fmt.Sprintf("%shosts.%d", prefix, i)] != ""; i++ {
				hosts = append(hosts, a[fmt.Sprintf("%shosts.%d", prefix, i)])
			}
			found = append(found, hosts)
		}
		if want == nil && len(found) == 0 {
			return nil
		}
		if len(found) != 1 || strings.Join(found[0], ",") != strings.Join(want, ",") {
			return fmt.Errorf("HA-7 violations name %v, want %v", found, want)
		}
		return nil
	}
}

func setDNSServers(l *lab.Lab, host string, servers ...string) func() {
	return func() {
		_ = l.Env.Do(func(e *model.Env) error { e.Host(host).DNSServers = servers; return nil })
	}
}

// The DNS client settings are read from the machines and every DC address
// is resolved to the DC: both hosts use both DCs and HA-7 holds; once one
// host is left with a single DC, HA-7 names that host and that DC.
func TestAccDNSClientServers_feedsHA7(t *testing.T) {
	skipUnlessAcc(t)
	l := startLab(t)
	setDNSServers(l, model.App1, model.DC1Address, model.DC2Address)()
	setDNSServers(l, model.App2, model.DC2Address, model.DC1Address)()
	ds := "data.bastion_dns_client_servers.bastion"
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config: dnsClientHCL(l),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(ds, tfjsonpath.New("dns_servers"), knownvalue.MapExact(map[string]knownvalue.Check{
						model.App1: exactStrings(model.DC1, model.DC2),
						model.App2: exactStrings(model.DC2, model.DC1),
					})),
					statecheck.ExpectKnownValue(ds, tfjsonpath.New("non_dc_servers"), knownvalue.MapExact(map[string]knownvalue.Check{
						model.App1: knownvalue.ListExact([]knownvalue.Check{}),
						model.App2: knownvalue.ListExact([]knownvalue.Check{}),
					})),
				},
				Check: resource.ComposeTestCheckFunc(noRejectedScripts(l), ha7Hosts(nil)),
			},
			{ // drift on the machine: app1 now depends on priv-dc1 alone
				PreConfig: setDNSServers(l, model.App1, model.DC1Address),
				Config:    dnsClientHCL(l),
				Check:     ha7Hosts([]string{model.App1, model.DC1}),
			},
		},
	})
}

// corpForwarderHCL reads the two MIM hosts' DNS clients and CORP's
// directory-stored forwarding of the PRIV zone, and feeds them to the
// minimal HA topology (lab names) with enforce = true, so any HA-7
// violation fails the plan.
func corpForwarderHCL(l *lab.Lab) string {
	return forwardingHCL(l, fmt.Sprintf("  corp_domains = [{ dns_name = %q, username = %q }]\n", model.CorpDomainDNS, model.CorpAdminUser))
}

// forwardingHCL is corpForwarderHCL with read, the data source's arguments
// beside hosts.
func forwardingHCL(l *lab.Lab, read string) string {
	provider := providerWithCorpPassword(l)
	top := topology.MinimalHATopology()
	top.DNSServers = nil
	hcl := topologyHCL(top, boolPtr(true))
	hcl = strings.ReplaceAll(strings.ReplaceAll(hcl, "contoso.com", "contoso.test"), "DC=contoso,DC=com", "DC=contoso,DC=test")
	hcl = strings.Replace(hcl, "  long_lived_requests", "  dns_servers = data.bastion_dns_client_servers.x.dns_servers\n  long_lived_requests", 1)
	return provider + fmt.Sprintf(`
data "bastion_dns_client_servers" "x" {
  hosts = [%q, %q]
%s}
`, model.App1, model.App2, read) + hcl
}

func setCorpForwarder(l *lab.Lab, masters ...string) func() {
	return func() {
		_ = l.Env.Do(func(e *model.Env) error {
			corp := e.Forests[model.CorpDomainDNS]
			delete(corp.DNSZones, model.DomainDNS)
			return corp.AddConditionalForwarder(model.DomainDNS, masters, model.ForestDNSZones)
		})
	}
}

// HA-7 over the CORP side: a CORP DC whose directory-stored conditional
// forwarder for the PRIV zone points at one PRIV DC fails the plan of an
// enforced topology naming that CORP DC and that PRIV DC; once the
// forwarder lists both DCs the next plan is clean. An address that is no
// DC stays an address and is listed in non_dc_servers.
func TestAccDNSClientServers_corpForwarderHA7(t *testing.T) {
	skipUnlessAcc(t)
	l := startLab(t)
	setDNSServers(l, model.App1, model.DC1Address, model.DC2Address)()
	setDNSServers(l, model.App2, model.DC2Address, "192.0.2.53")()
	setCorpForwarder(l, model.DC1Address)()
	ds := "data.bastion_dns_client_servers.x"
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config:      corpForwarderHCL(l),
				PlanOnly:    true,
				ExpectError: ruleError("HA-7", model.CorpDC1, model.DC1),
			},
			{ // fixed in CORP's directory: the forwarder lists both PRIV DCs
				PreConfig: setCorpForwarder(l, model.DC2Address, model.DC1Address),
				Config:    corpForwarderHCL(l),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(ds, tfjsonpath.New("dns_servers"), knownvalue.MapExact(map[string]knownvalue.Check{
						model.App1:    exactStrings(model.DC1, model.DC2),
						model.App2:    exactStrings(model.DC2, "192.0.2.53"),
						model.CorpDC1: exactStrings(model.DC2, model.DC1),
					})),
					statecheck.ExpectKnownValue(ds, tfjsonpath.New("non_dc_servers"), knownvalue.MapExact(map[string]knownvalue.Check{
						model.App1:    knownvalue.ListExact([]knownvalue.Check{}),
						model.App2:    exactStrings("192.0.2.53"),
						model.CorpDC1: knownvalue.ListExact([]knownvalue.Check{}),
					})),
					statecheck.ExpectKnownValue(ds, tfjsonpath.New("zone_forwarding"), corpForwarder("directory", knownvalue.StringExact("ForestDnsZones"), model.DC2Address, model.DC1Address)),
				},
				Check: resource.ComposeTestCheckFunc(noRejectedScripts(l), ha7Hosts(nil)),
			},
			{ // drift in CORP's directory shows at the next plan
				PreConfig:   setCorpForwarder(l, model.DC2Address),
				Config:      corpForwarderHCL(l),
				PlanOnly:    true,
				ExpectError: ruleError("HA-7", model.CorpDC1, model.DC2),
			},
		},
	})
}

// Without pam_corp_password, corp_domains cannot be read: a plan-time
// error naming the attribute.
func TestAccDNSClientServers_corpPasswordMissing(t *testing.T) {
	skipUnlessAcc(t)
	l := startLab(t)
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{{
			Config: l.ProviderHCL() + fmt.Sprintf(`
data "bastion_dns_client_servers" "x" {
  corp_domains = [{ dns_name = %q, username = %q }]
}
`, model.CorpDomainDNS, model.CorpAdminUser),
			PlanOnly:    true,
			ExpectError: regexp.MustCompile(`(?s)CORP Password Not Set.*pam_corp_password`),
		}},
	})
}

// With ldap.tls_mode = "none", corp_domains would send pam_corp_password in
// a cleartext simple bind: an error naming corp_domains and tls_mode before
// any CORP DC is contacted.
func TestAccDNSClientServers_corpPasswordNeedsTLS(t *testing.T) {
	skipUnlessAcc(t)
	l := startLab(t)
	provider := strings.Replace(providerWithCorpPassword(l), "  ldap {\n", "  ldap {\n    tls_mode = \"none\"\n", 1)
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{{
			Config: provider + fmt.Sprintf(`
data "bastion_dns_client_servers" "x" {
  corp_domains = [{ dns_name = %q, username = %q }]
}
`, model.CorpDomainDNS, model.CorpAdminUser),
			PlanOnly:    true,
			ExpectError: regexp.MustCompile(`(?is)CORP Password Needs TLS.*corp_domains.*tls_mode`),
		}},
	})
}

// The DNS server's own configuration, read over WinRM on the CORP DC: a
// server-level forwarder to one PRIV DC fails the enforced plan naming the
// CORP DC and that DC; a file-backed conditional forwarder for the PRIV zone
// (which the directory cannot show) listing both DCs takes precedence and
// the plan is clean; a host without the DNS Server role is an error naming
// it.
func TestAccDNSClientServers_dnsServerForwarders(t *testing.T) {
	skipUnlessAcc(t)
	l := startLab(t)
	l.Env.AddHost(model.CorpDC1) // the CORP DC, reachable over WinRM
	if err := l.Sync(); err != nil {
		t.Fatal(err)
	}
	setDNSServers(l, model.App1, model.DC1Address, model.DC2Address)()
	setDNSServers(l, model.App2, model.DC2Address, model.DC1Address)()
	withHost := func(host string, f func(h *model.Host)) func() {
		return func() { _ = l.Env.Do(func(e *model.Env) error { f(e.Host(host)); return nil }) }
	}
	withHost(model.CorpDC1, func(h *model.Host) { h.DNSForwarders = []string{model.DC1Address} })()
	read := fmt.Sprintf("  dns_server_hosts = [%q]\n", model.CorpDC1)
	ds := "data.bastion_dns_client_servers.x"
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config:      forwardingHCL(l, read),
				PlanOnly:    true,
				ExpectError: ruleError("HA-7", model.CorpDC1, model.DC1),
			},
			{
				PreConfig: withHost(model.CorpDC1, func(h *model.Host) {
					h.DNSFileZones = map[string]*model.DNSZone{model.DomainDNS: {
						Name: model.DomainDNS, Type: model.DNSZoneForwarder, MasterServers: []string{model.DC1Address, model.DC2Address},
					}}
				}),
				Config: forwardingHCL(l, read),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(ds, tfjsonpath.New("zone_forwarding"), corpForwarder("dns_server", knownvalue.Null(), model.DC1Address, model.DC2Address)),
					statecheck.ExpectKnownValue(ds, tfjsonpath.New("dns_servers").AtMapKey(model.CorpDC1),
						exactStrings(model.DC1, model.DC2)),
				},
				Check: resource.ComposeTestCheckFunc(noRejectedScripts(l), ha7Hosts(nil)),
			},
			{
				Config:      forwardingHCL(l, fmt.Sprintf("  dns_server_hosts = [%q]\n", model.App1)),
				PlanOnly:    true,
				ExpectError: regexp.MustCompile(`(?s)DNS Server Configuration Not Read.*` + regexp.QuoteMeta(model.App1) + `.*Invalid\s+namespace`),
			},
		},
	})
}

// A DNS server with no forwarder for the bastion zone (root hints or a
// delegation) has no forwarding list to judge, but a host read through
// hosts as well keeps its own DNS client list in dns_servers.
func TestAccDNSClientServers_dnsServerWithoutForwarderKeepsClientList(t *testing.T) {
	skipUnlessAcc(t)
	l := startLab(t)
	l.Env.AddHost(model.CorpDC1)
	if err := l.Sync(); err != nil {
		t.Fatal(err)
	}
	setDNSServers(l, model.CorpDC1, model.DC2Address, model.DC1Address)()
	ds := "data.bastion_dns_client_servers.x"
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{{
			Config: l.ProviderHCL() + fmt.Sprintf(`
data "bastion_dns_client_servers" "x" {
  hosts            = [%q]
  dns_server_hosts = [%q]
}
`, model.CorpDC1, model.CorpDC1),
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue(ds, tfjsonpath.New("dns_servers"), knownvalue.MapExact(map[string]knownvalue.Check{
					model.CorpDC1: exactStrings(model.DC2, model.DC1),
				})),
				statecheck.ExpectKnownValue(ds, tfjsonpath.New("zone_forwarding"), knownvalue.ListExact([]knownvalue.Check{})),
			},
			Check: noRejectedScripts(l),
		}},
	})
}

// corpForwarder checks zone_forwarding: one conditional forwarder of the
// PRIV domain's zone on CORP's DC, found by source, in partition, that
// forwards to masters in this order.
func corpForwarder(source string, partition knownvalue.Check, masters ...string) knownvalue.Check {
	return knownvalue.ListExact([]knownvalue.Check{
		knownvalue.ObjectExact(map[string]knownvalue.Check{
			"host":           knownvalue.StringExact(model.CorpDC1),
			"source":         knownvalue.StringExact(source),
			"zone":           knownvalue.StringExact(model.DomainDNS),
			"type":           knownvalue.StringExact("forwarder"),
			"partition":      partition,
			"master_servers": exactStrings(masters...),
		}),
	})
}
