package topology

import (
	"testing"

	"github.com/bastion-pam/terraform-provider-bastion/internal/adnames"
)

type example struct {
	name string
	top  Topology
	// breaks turns the example into the mistake its option invites.
	breaks func(*Topology)
	rule   string
	host   string // a host the broken variant's violation names ("" to skip)
}

func examples() []example {
	ind := IndependentBastionTopologies()
	return []example{
		{"minimal HA", MinimalHATopology(),
			// Saving two servers by putting the MIM Service on the DCs.
			func(t *Topology) { t.MIMNodes[0].Host = dc1; t.MIMNodes[1].Host = dc2 }, "HA-4", dc1},
		{"single bastion serving several sites", SingleBastionMultiSiteTopology(),
			// FCI databases on each node's own C: drive.
			func(t *Topology) { t.SQL.DataDirectories = []string{`C:\MSSQL\Data`} }, "HA-6", app1},
		{"bastion per site, shared directory and SQL cluster", BastionPerSiteTopology(),
			// Each site's MIM Service keeps its own site alias as partition.
			func(t *Topology) {
				t.MIMNodes[0].ServicePartitionName = "pam-a.priv.contoso.com"
				t.MIMNodes[1].ServicePartitionName = "pam-b.priv.contoso.com"
			}, "HA-5", "priv-b-app1.priv.contoso.com"},
		{"replicated directory only", ReplicatedDirectoryTopology(),
			// Below level 2016, resource management needs the MIM Service again.
			func(t *Topology) { t.Domain.ForestFunctionalLevel = 6 }, "HA-2", "priv-a-app1.priv.contoso.com"},
		{"independent bastion A", ind[0],
			func(t *Topology) {
				t.DomainControllers = t.DomainControllers[:1]
				t.DomainControllers[0].FSMORoles = adnames.FSMORoles()
			}, "HA-1", "priv-a-dc1.priv-a.contoso.com"},
		{"independent bastion B", ind[1],
			// A MIM host left with a single DNS server.
			func(t *Topology) { t.DNSServers["priv-b-app2.priv-b.contoso.com"] = []string{"10.2.0.11"} }, "HA-7", "priv-b-app2.priv-b.contoso.com"},
	}
}

func TestExamplesEvaluateCleanly(t *testing.T) {
	for _, e := range examples() {
		t.Run(e.name, func(t *testing.T) {
			r := Evaluate(e.top)
			if len(r.Violations) != 0 {
				t.Fatalf("violations: %+v", r.Violations)
			}
			if len(e.top.HAFunctions) == 0 {
				t.Fatal("the example marks no function for HA")
			}
			for _, fr := range r.Readiness {
				if fr.NeedsHA && !fr.SurvivesSingleLoss {
					t.Errorf("%s", fr.Summary)
				}
			}
			if len(r.RecoveryOrder) < 6 {
				t.Errorf("recovery order has %d steps", len(r.RecoveryOrder))
			}
			checkMermaid(t, RenderMermaid(e.top, r))
		})
	}
}

func TestExampleBrokenVariantsFail(t *testing.T) {
	for _, e := range examples() {
		t.Run(e.name, func(t *testing.T) {
			e.breaks(&e.top)
			r := Evaluate(e.top)
			got := r.ByRule(e.rule)
			if len(got) == 0 {
				t.Fatalf("want %s, got %+v", e.rule, r.Violations)
			}
			found := false
			for _, v := range got {
				if v.Severity != Error {
					continue
				}
				for _, h := range v.Hosts {
					if adnames.SameHost(h, e.host) {
						found = true
					}
				}
			}
			if !found {
				t.Fatalf("no %s error names %s: %+v", e.rule, e.host, got)
			}
		})
	}
}

func TestExampleShapes(t *testing.T) {
	// The options differ in what they share; keep them honest.
	rep := ReplicatedDirectoryTopology()
	if rep.SQL.Clustered || len(rep.MIMNodes) != 1 || rep.DomainControllers[0].Site == rep.DomainControllers[1].Site {
		t.Error("replicated directory: want one standalone SQL, one MIM node and DCs in two sites")
	}
	if fr, _ := Evaluate(rep).ReadinessOf(PrivilegedRoleActivation); fr.SurvivesSingleLoss {
		t.Error("replicated directory: activation should not survive the loss of site A's server")
	}
	per := BastionPerSiteTopology()
	if per.MIMNodes[0].Site == per.MIMNodes[1].Site || !per.SQL.Clustered {
		t.Error("bastion per site: want MIM nodes in two sites on one SQL cluster")
	}
	ind := IndependentBastionTopologies()
	if ind[0].Domain.DNSName == ind[1].Domain.DNSName {
		t.Error("independent bastions share a domain name")
	}
	a := newModel(ind[0]).servers
	for _, h := range newModel(ind[1]).servers {
		if adnames.HostIn(h, a) {
			t.Errorf("independent bastions share %s", h)
		}
	}
	if ind[0].SQL.NetworkName == ind[1].SQL.NetworkName {
		t.Error("independent bastions share a SQL Server")
	}
	if got := domainNC("priv.contoso.com"); got != "DC=priv,DC=contoso,DC=com" {
		t.Errorf("domainNC = %q", got)
	}
}
