package provider

import (
	"fmt"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/bastion-pam/terraform-provider-bastion/internal/lab"
	"github.com/bastion-pam/terraform-provider-bastion/internal/lab/model"
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
    { host = %q, addresses = ["10.0.0.11"] },
    { host = %q, addresses = ["10.0.0.12"] },
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
		rs := s.RootModule().Resources["data.bastion_topology.t"]
		if rs == nil {
			return fmt.Errorf("no topology in state")
		}
		a := rs.Primary.Attributes
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

// The DNS client settings are read from the machines: both hosts use both
// DCs and HA-7 holds; once one host is left with a single DC, the next plan
// fails on HA-7 naming that host and that DC.
func TestAccDNSClientServers_feedsHA7(t *testing.T) {
	skipUnlessAcc(t)
	l := startLab(t)
	setDNSServers(l, model.App1, "10.0.0.11", "10.0.0.12")()
	setDNSServers(l, model.App2, "10.0.0.12", "10.0.0.11")()
	ds := "data.bastion_dns_client_servers.bastion"
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config: dnsClientHCL(l),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(ds, tfjsonpath.New("dns_servers"), knownvalue.MapExact(map[string]knownvalue.Check{
						model.App1: knownvalue.ListExact([]knownvalue.Check{knownvalue.StringExact("10.0.0.11"), knownvalue.StringExact("10.0.0.12")}),
						model.App2: knownvalue.ListExact([]knownvalue.Check{knownvalue.StringExact("10.0.0.12"), knownvalue.StringExact("10.0.0.11")}),
					})),
				},
				Check: resource.ComposeTestCheckFunc(noRejectedScripts(l), ha7Hosts(nil)),
			},
			{ // drift on the machine: app1 now depends on priv-dc1 alone
				PreConfig: setDNSServers(l, model.App1, "10.0.0.11"),
				Config:    dnsClientHCL(l),
				Check:     ha7Hosts([]string{model.App1, model.DC1}),
			},
		},
	})
}
