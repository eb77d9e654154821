package provider

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/config"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/bastion-pam/terraform-provider-bastion/internal/lab"
	"github.com/bastion-pam/terraform-provider-bastion/internal/lab/model"
	"github.com/bastion-pam/terraform-provider-bastion/internal/lab/samba"
)

// examples/bastion and examples/bastion-multi-site against the lab seeded
// with what they build on (bastion-lab serve -topology): the forest's first
// DC, member servers and the Windows failover cluster.

// startTopologyLab starts a lab seeded for one of the bastion examples.
func startTopologyLab(t *testing.T, topology string) *lab.Lab {
	t.Helper()
	l, err := lab.Start(lab.Options{Dir: t.TempDir(), Seed: model.Seed{Topology: topology}})
	if err != nil {
		t.Fatalf("starting the lab: %v", err)
	}
	t.Cleanup(l.Close)
	watchLab(t, l)
	return l
}

// bastionExampleConfig reads examples/<name>/main.tf as make demo applies
// it, with the lab's provider block (plus lost_hosts) instead of the
// environment-configured one: parallel tests cannot share BASTION_* variables.
// The terraform block goes too: the test framework serves the provider.
//
// With lost and replacement set, the configuration is the guide's recovery:
// lost in lost_hosts and its name in the example replaced.
func bastionExampleConfig(t *testing.T, l *lab.Lab, name, lost, replacement string) string {
	t.Helper()
	b, err := os.ReadFile("../../examples/" + name + "/main.tf")
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	start := strings.Index(s, "terraform {\n")
	end := strings.Index(s[start:], "\n}\n")
	if start < 0 || end < 0 || !strings.Contains(s, "provider \"bastion\" {}\n") {
		t.Fatalf("examples/%s/main.tf: no terraform block or provider \"bastion\" {} to replace", name)
	}
	s = s[:start] + s[start+end+3:]
	provider := l.ProviderHCL()
	extra := fmt.Sprintf("  pam_corp_password = %q\n", l.CorpAdminPassword())
	if lost != "" {
		extra += fmt.Sprintf("  lost_hosts = [%q]\n", lost)
		s = replaceHost(t, s, lost, replacement)
	}
	provider = strings.Replace(provider, "provider \"bastion\" {\n", "provider \"bastion\" {\n"+extra, 1)
	return strings.Replace(s, "provider \"bastion\" {}\n", provider, 1)
}

// replaceHost is the guide's edit: the lost server's name, which the
// example spells once, becomes the new server's.
func replaceHost(t *testing.T, cfg, lost, replacement string) string {
	t.Helper()
	q := fmt.Sprintf("%q", lost)
	if n := strings.Count(cfg, q); n != 1 {
		t.Fatalf("the example names %s %d times, want once", lost, n)
	}
	return strings.Replace(cfg, q, fmt.Sprintf("%q", replacement), 1)
}

func bastionExampleVars(l *lab.Lab) config.Variables {
	return config.Variables{
		"dsrm_password":                config.StringVariable(labDSRMPassword),
		"mim_service_account_password": config.StringVariable(l.Seed.MIMSvcPassword),
		"corp_admin_password":          config.StringVariable(l.CorpAdminPassword()),
	}
}

// bastionBuilt checks what an apply of the example must leave: its DCs, the
// FCI on its nodes, a running MIM Service with the PAM components on each
// MIM host, the PAM trust on both sides and PAM's configuration in CORP.
func bastionBuilt(l *lab.Lab, dcs, sqlNodes, mimHosts []string) resource.TestCheckFunc {
	return func(*terraform.State) error {
		return l.Env.Do(func(e *model.Env) error {
			for _, dc := range dcs {
				if !e.Domain.IsDC(dc) {
					return fmt.Errorf("%s is not a DC", dc)
				}
			}
			s := e.SQLInstanceByName(model.SQLNetwork)
			if s == nil {
				return fmt.Errorf("no instance %s", model.SQLNetwork)
			}
			var nodes []string
			for _, n := range s.Nodes {
				nodes = append(nodes, n.Host)
			}
			slices.Sort(nodes)
			want := slices.Sorted(slices.Values(sqlNodes))
			if !slices.Equal(nodes, want) {
				return fmt.Errorf("FCI nodes %v, want %v", nodes, want)
			}
			for _, h := range mimHosts {
				for _, svc := range []string{model.FIMService, model.PamMonitoring} {
					if x := e.Host(h).Service(svc); x == nil || x.Status != "Running" {
						return fmt.Errorf("%s on %s: %+v", svc, h, x)
					}
				}
			}
			corp := e.Forests[model.CorpDomainDNS]
			if priv, corpSide := e.PAMTrustSides(corp); priv == nil || corpSide == nil {
				return fmt.Errorf("PAM trust missing: PRIV side %v, CORP side %v", priv, corpSide)
			}
			if !e.CorpFacts(corp).Configured {
				return fmt.Errorf("PAM's configuration is not in CORP")
			}
			return nil
		})
	}
}

// bastionTornDown is what terraform destroy must leave: the forest's first
// DC alone, holding every role, no instance, no MIM Service, no trust.
func bastionTornDown(l *lab.Lab, hosts []string) error {
	if err := rolesAll(l, model.DC1); err != nil {
		return err
	}
	return l.Env.Do(func(e *model.Env) error {
		var dcs []string
		for _, dc := range e.Domain.SortedDCs() {
			dcs = append(dcs, dc.Host)
		}
		if !slices.Equal(dcs, []string{model.DC1}) {
			return fmt.Errorf("DCs after destroy: %v, want only %s", dcs, model.DC1)
		}
		if !e.Host(model.DC1).Reachable {
			return fmt.Errorf("%s is not healthy", model.DC1)
		}
		if len(e.SQL) != 0 {
			return fmt.Errorf("SQL instances left: %v", e.SQL)
		}
		for _, h := range hosts {
			if x := e.Host(h).Service(model.FIMService); x != nil {
				return fmt.Errorf("the MIM Service is still on %s", h)
			}
		}
		corp := e.Forests[model.CorpDomainDNS]
		if priv, corpSide := e.PAMTrustSides(corp); priv != nil || corpSide != nil {
			return fmt.Errorf("PAM trust left: PRIV side %v, CORP side %v", priv, corpSide)
		}
		if e.CorpFacts(corp).Configured {
			return fmt.Errorf("PAM's configuration is still in CORP")
		}
		return nil
	})
}

// topologyOK: Microsoft's HA rules hold for what the example built (its
// check block "high_availability" passes).
var topologyOK = []statecheck.StateCheck{
	statecheck.ExpectKnownValue("data.bastion_topology.bastion", tfjsonpath.New("ok"), knownvalue.Bool(true)),
}

type bastionTopology struct {
	name     string // examples/<name>, the lab's -topology
	dcs      []string
	sqlNodes []string
	mimHosts []string
}

var bastionTopologies = []bastionTopology{
	{model.TopologyBastion, []string{model.DC1, model.DC2}, []string{model.App1, model.App2}, []string{model.App1, model.App2}},
	{model.TopologyBastionMultiSite, []string{model.DC1, model.DC2, model.DC3}, []string{model.App1, model.App2}, []string{model.App1, model.App2, model.App4}},
}

// Both examples build a whole bastion from member servers in one apply, plan
// empty after it, and terraform destroy takes everything down in one run,
// leaving the forest's first DC with every role.
func TestAccBastionExamples_buildAndDestroy(t *testing.T) {
	skipUnlessAcc(t)
	for _, topo := range bastionTopologies {
		t.Run(topo.name, func(t *testing.T) {
			l := startTopologyLab(t, topo.name)
			resource.ParallelTest(t, resource.TestCase{
				ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
				CheckDestroy:             func(*terraform.State) error { return bastionTornDown(l, topo.mimHosts) },
				Steps: []resource.TestStep{{
					Config: bastionExampleConfig(t, l, topo.name, "", ""), ConfigVariables: bastionExampleVars(l),
					Check:             bastionBuilt(l, topo.dcs, topo.sqlNodes, topo.mimHosts),
					ConfigStateChecks: topologyOK,
				}},
			})
		})
	}
}

// Recovery in one apply: each kind of server the topology has is lost in
// turn; the configuration's host becomes the spare server and the server
// goes into lost_hosts, as the guide says; one apply converges (the test
// framework then asserts an empty plan), MIM names are kept and requests the
// lost node held complete on its replacement.
func TestAccBastionExamples_recovery(t *testing.T) {
	skipUnlessAcc(t)
	cases := []struct {
		topology, kind    string
		lost, replacement string
	}{
		{model.TopologyBastion, "DC replica", model.DC2, model.Spare1},
		{model.TopologyBastion, "MIM and FCI node", model.App2, model.App3},
		{model.TopologyBastionMultiSite, "DC replica (Branch)", model.DC3, model.Spare1},
		{model.TopologyBastionMultiSite, "MIM node (Branch)", model.App4, model.Spare1},
		{model.TopologyBastionMultiSite, "MIM and FCI node", model.App2, model.App3},
	}
	for _, c := range cases {
		t.Run(c.topology+"/"+strings.ReplaceAll(c.kind, " ", "_"), func(t *testing.T) {
			var topo bastionTopology
			for _, x := range bastionTopologies {
				if x.name == c.topology {
					topo = x
				}
			}
			swap := func(list []string) []string {
				out := slices.Clone(list)
				for i, h := range out {
					if h == c.lost {
						out[i] = c.replacement
					}
				}
				return out
			}
			l := startTopologyLab(t, c.topology)
			full := bastionExampleConfig(t, l, c.topology, "", "")
			recovered := bastionExampleConfig(t, l, c.topology, c.lost, c.replacement)
			mimLost := slices.Contains(topo.mimHosts, c.lost)
			var serviceName string
			var started time.Time
			resource.ParallelTest(t, resource.TestCase{
				ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
				Steps: []resource.TestStep{
					{
						Config: full, ConfigVariables: bastionExampleVars(l),
						Check: bastionBuilt(l, topo.dcs, topo.sqlNodes, topo.mimHosts),
					},
					{
						PreConfig: func() {
							if mimLost {
								// A request the lost node accepted, bound to its partition and service name.
								if err := l.Env.AddRequest(c.lost, "held-by-lost-node"); err != nil {
									t.Fatal(err)
								}
								_ = l.Env.Do(func(e *model.Env) error {
									n, err := e.Host(c.lost).ReadMIMNames()
									serviceName = n.ServiceName
									return err
								})
							}
							if err := l.Env.SetReachable(c.lost, false); err != nil {
								t.Fatal(err)
							}
							l.Env.ResetCounters()
							started = time.Now()
						},
						Config: recovered, ConfigVariables: bastionExampleVars(l),
						ConfigStateChecks: topologyOK,
						Check: resource.ComposeAggregateTestCheckFunc(
							func(*terraform.State) error {
								elapsed := time.Since(started)
								calls := l.Env.Calls()
								line := fmt.Sprintf("recovery %-18s %-20s lost %-28s -> %-30s one apply %5.1fs, remote calls winrm=%d ldap=%d tds=%d",
									c.topology, c.kind, c.lost, c.replacement, elapsed.Seconds(),
									sumCalls(calls[model.WinRM]), sumCalls(calls[model.LDAP]), sumCalls(calls[model.TDS]))
								samba.Report("%s", line) // make test's summary
								return nil
							},
							bastionBuilt(l, swap(topo.dcs), swap(topo.sqlNodes), swap(topo.mimHosts)),
							func(*terraform.State) error {
								if !mimLost {
									return nil
								}
								var names model.MIMNames
								err := l.Env.Do(func(e *model.Env) error {
									var err error
									names, err = e.Host(c.replacement).ReadMIMNames()
									return err
								})
								if err != nil {
									return err
								}
								if names.ServiceName != serviceName || !strings.EqualFold(names.ServicePartitionName, model.MIMAlias) {
									return fmt.Errorf("rebuilt node's names %+v, want service name %q and partition %s", names, serviceName, model.MIMAlias)
								}
								done, err := l.Env.CompleteRequests(c.replacement)
								if err != nil {
									return fmt.Errorf("the rebuilt node completes nothing: %w", err)
								}
								if !slices.Equal(done, []string{"held-by-lost-node"}) {
									return fmt.Errorf("the rebuilt node completed %v, want the lost node's request", done)
								}
								return nil
							},
						),
					},
				},
			})
		})
	}
}

func sumCalls(byHost map[string]int) int {
	n := 0
	for _, c := range byHost {
		n += c
	}
	return n
}
