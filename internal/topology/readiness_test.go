package topology

import (
	"strings"
	"testing"
)

func readinessOf(t *testing.T, top Topology, f Function) FunctionReadiness {
	t.Helper()
	fr, ok := Evaluate(top).ReadinessOf(f)
	if !ok {
		t.Fatalf("no readiness for %s", f)
	}
	return fr
}

func TestReadinessMinimalTopologySurvivesAnyLoss(t *testing.T) {
	r := Evaluate(MinimalHATopology())
	if len(r.Readiness) != 6 {
		t.Fatalf("readiness for %d functions, want 6", len(r.Readiness))
	}
	for i, fr := range r.Readiness {
		if fr.Function != AllFunctions()[i] {
			t.Errorf("readiness[%d] is %s, want the seed's order", i, fr.Function)
		}
		if !fr.Available || !fr.SurvivesSingleLoss || len(fr.Losses) != 0 || !fr.NeedsHA {
			t.Errorf("%s: %+v", fr.Function, fr)
		}
		if want := fr.Function.lowerName() + ": survives the loss of any one server"; fr.Summary != want {
			t.Errorf("summary %q, want %q", fr.Summary, want)
		}
	}
	fr, _ := r.ReadinessOf(PrivilegedRoleActivation)
	if fr.Summary != "privileged role activation: survives the loss of any one server" {
		t.Errorf("summary = %q", fr.Summary)
	}
}

func TestReadinessLosses(t *testing.T) {
	cases := []struct {
		name    string
		mutate  func(*Topology)
		f       Function
		losses  map[string]string // host -> reason substring; exactly these hosts
		summary string            // substring
	}{
		{name: "one DC", mutate: withoutDC2, f: ResourceManagement,
			losses:  map[string]string{dc1: "it is the only writable domain controller"},
			summary: "resource management: does not survive the loss of " + dc1 + ": it is the only writable domain controller"},
		{name: "one DC stops activation too", mutate: withoutDC2, f: PrivilegedRoleActivation,
			losses: map[string]string{dc1: "only writable domain controller"}},
		{name: "one MIM Service host", mutate: func(t *Topology) { t.MIMNodes = t.MIMNodes[:1] }, f: PrivilegedRoleActivation,
			losses:  map[string]string{app1: "it is the only MIM Service host"},
			summary: "privileged role activation: does not survive the loss of " + app1 + ": it is the only MIM Service host"},
		{name: "one MIM Service host leaves resource management at level 7 alone", mutate: func(t *Topology) { t.MIMNodes = t.MIMNodes[:1] }, f: ResourceManagement,
			losses: map[string]string{}},
		{name: "below level 7 resource management needs MIM", mutate: func(t *Topology) { t.MIMNodes = t.MIMNodes[:1]; t.Domain.ForestFunctionalLevel = 6 }, f: ResourceManagement,
			losses: map[string]string{app1: "only MIM Service host"}},
		{name: "one server is FCI node and MIM host", mutate: func(t *Topology) { t.MIMNodes = t.MIMNodes[:1]; t.SQL.Nodes = []string{app1} }, f: Monitoring,
			losses: map[string]string{app1: "it is the only node of the SQL Server failover cluster instance priv-sql.priv.contoso.com, and it is the only MIM Service host"}},
		{name: "standalone SQL Server", mutate: func(t *Topology) { t.SQL.Clustered = false; t.SQL.Nodes = []string{"priv-sql1"} }, f: MIMAdministration,
			losses: map[string]string{"priv-sql1": "it hosts SQL Server priv-sql.priv.contoso.com, which is not a failover cluster instance"}},
		{name: "one node with PAM components", mutate: func(t *Topology) { t.MIMNodes[1].PAMComponents = false }, f: TrustEstablishment,
			losses: map[string]string{app1: "only MIM Service host with the PAM components (" + app2 + " lacks them)"}},
		{name: "SQL nodes resolve only through one DC", mutate: func(t *Topology) {
			t.DNSServers[app1] = []string{"10.0.0.11", dc1}
			t.DNSServers[app2] = []string{"10.0.0.11"}
		}, f: UserGroupMigration,
			losses: map[string]string{dc1: "the SQL Server nodes (" + app1 + " and " + app2 + ") use it as their only reachable DNS server"}},
		{name: "MIM hosts resolve only through one DC while SQL does not", mutate: func(t *Topology) {
			// SQL runs on two other servers; the MIM hosts depend on dc1.
			t.SQL.Nodes = []string{"priv-sql1", "priv-sql2"}
			t.DNSServers[app1] = []string{"10.0.0.11"}
			t.DNSServers[app2] = []string{"10.0.0.11", "127.0.0.1"}
		}, f: PrivilegedRoleActivation,
			losses: map[string]string{dc1: "the other MIM Service hosts (" + app1 + " and " + app2 + ") use it as their only reachable DNS server"}},
		{name: "DNS through a bastion member server", mutate: func(t *Topology) {
			t.DNSServers[app1] = []string{app2}
			t.DNSServers[app2] = []string{app1}
		}, f: PrivilegedRoleActivation,
			losses: map[string]string{
				app1: "it is a node of the SQL Server failover cluster instance priv-sql.priv.contoso.com and the other nodes (" + app2 + ") use it as their only reachable DNS server",
				app2: "the other nodes (" + app1 + ") use it",
			}},
		{name: "SQL storage on a share served by a DC", mutate: func(t *Topology) { t.SQL.LogDirectories = []string{`\\priv-dc2\sqllog`} }, f: PrivilegedRoleActivation,
			losses: map[string]string{dc2: "it serves the SMB share holding the SQL Server data or logs"}},
		{name: "unmarked functions are simulated too", mutate: chain(markOnly(), withoutDC2), f: MIMAdministration,
			losses: map[string]string{dc1: "only writable domain controller"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			top := MinimalHATopology()
			c.mutate(&top)
			fr := readinessOf(t, top, c.f)
			if !fr.Available {
				t.Fatalf("not available: %s", fr.Summary)
			}
			if fr.SurvivesSingleLoss != (len(c.losses) == 0) {
				t.Fatalf("SurvivesSingleLoss = %v; %s", fr.SurvivesSingleLoss, fr.Summary)
			}
			if len(fr.Losses) != len(c.losses) {
				t.Fatalf("losses = %+v, want hosts %v", fr.Losses, c.losses)
			}
			for _, l := range fr.Losses {
				want, ok := c.losses[l.Host]
				if !ok || !strings.Contains(l.Reason, want) {
					t.Errorf("loss of %s: %q, want %q", l.Host, l.Reason, want)
				}
			}
			if !strings.Contains(fr.Summary, c.summary) {
				t.Errorf("summary %q lacks %q", fr.Summary, c.summary)
			}
		})
	}
}

func TestReadinessSeveralLosses(t *testing.T) {
	top := MinimalHATopology()
	withoutDC2(&top)
	top.MIMNodes = top.MIMNodes[:1]
	fr := readinessOf(t, top, PrivilegedRoleActivation)
	want := "privileged role activation: does not survive the loss of " + dc1 + ": it is the only writable domain controller; nor the loss of " + app1 + ": it is the only MIM Service host"
	if fr.Summary != want {
		t.Fatalf("summary\n got %q\nwant %q", fr.Summary, want)
	}
}

func TestReadinessNotAvailable(t *testing.T) {
	cases := []struct {
		name   string
		mutate func(*Topology)
		f      Function
		reason string
	}{
		{"no DC", func(t *Topology) { t.DomainControllers = nil }, ResourceManagement, "no domain controller is described"},
		{"only an RODC", func(t *Topology) {
			t.DomainControllers = t.DomainControllers[:1]
			t.DomainControllers[0].ReadOnly = true
		}, Monitoring, "no writable domain controller is described"},
		{"no SQL", func(t *Topology) { t.SQL = nil }, PrivilegedRoleActivation, "no SQL Server instance is described"},
		{"SQL without nodes", func(t *Topology) { t.SQL.Nodes = nil }, PrivilegedRoleActivation, "the SQL Server instance has no node"},
		{"no MIM", func(t *Topology) { t.MIMNodes = nil }, MIMAdministration, "no MIM Service host is described"},
		{"no PAM components", func(t *Topology) { t.MIMNodes[0].PAMComponents = false; t.MIMNodes[1].PAMComponents = false }, Monitoring,
			"no MIM Service host has the PAM components (" + app1 + " and " + app2 + " lack them)"},
		{"SQL nodes cannot resolve", func(t *Topology) {
			t.DNSServers[app1] = []string{"127.0.0.1"}
			t.DNSServers[app2] = []string{"localhost"}
		}, TrustEstablishment, "no SQL Server node (" + app1 + " and " + app2 + ") can resolve names"},
		{"MIM hosts cannot resolve", func(t *Topology) {
			t.SQL.Nodes = []string{"priv-sql1", "priv-sql2"}
			t.DNSServers[app1] = []string{"127.0.0.1"}
			t.DNSServers[app2] = []string{"127.0.0.1"}
		}, TrustEstablishment, "no MIM Service host with the PAM components (" + app1 + " and " + app2 + ") can resolve names"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			top := MinimalHATopology()
			c.mutate(&top)
			fr := readinessOf(t, top, c.f)
			if fr.Available || fr.SurvivesSingleLoss {
				t.Fatalf("%+v", fr)
			}
			want := c.f.lowerName() + ": is not available even with every server online: " + c.reason
			if !strings.HasPrefix(fr.Summary, want) {
				t.Fatalf("summary\n got %q\nwant %q", fr.Summary, want)
			}
		})
	}
}

func TestReadinessNeedsHAFollowsMarks(t *testing.T) {
	top := MinimalHATopology()
	top.HAFunctions = []Function{ResourceManagement, ResourceManagement}
	for _, fr := range Evaluate(top).Readiness {
		if fr.NeedsHA != (fr.Function == ResourceManagement) {
			t.Errorf("%s NeedsHA = %v", fr.Function, fr.NeedsHA)
		}
		if fr.Priority != fr.Function.Priority() || fr.DisplayName != fr.Function.DisplayName() {
			t.Errorf("%s: priority %v, name %q", fr.Function, fr.Priority, fr.DisplayName)
		}
	}
}
