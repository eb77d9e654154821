package topology

import (
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bastion-pam/terraform-provider-bastion/internal/adnames"
)

// Host names of MinimalHATopology.
const (
	dc1  = "priv-dc1.priv.contoso.com"
	dc2  = "priv-dc2.priv.contoso.com"
	app1 = "priv-app1.priv.contoso.com"
	app2 = "priv-app2.priv.contoso.com"
)

func intPtr(i int) *int { return &i }

// withoutDC2 drops priv-dc2 everywhere, leaving priv-dc1 alone.
func withoutDC2(t *Topology) {
	t.DomainControllers = t.DomainControllers[:1]
	t.DomainControllers[0].FSMORoles = adnames.FSMORoles()
	delete(t.DNSServers, dc2)
	t.DNSServers[dc1] = []string{"127.0.0.1", "10.9.9.9"}
	t.DNSServers[app1] = []string{"10.0.0.11", "10.9.9.9"}
	t.DNSServers[app2] = []string{"10.0.0.11", "10.9.9.9"}
	t.Backups = t.Backups[:1]
}

func markOnly(fs ...Function) func(*Topology) {
	return func(t *Topology) { t.HAFunctions = fs }
}

func chain(fns ...func(*Topology)) func(*Topology) {
	return func(t *Topology) {
		for _, f := range fns {
			f(t)
		}
	}
}

type ruleCase struct {
	name   string
	mutate func(*Topology)
	rule   string
	// want is false for a passing case: no violation of rule at all.
	want     bool
	severity Severity
	hosts    []string // each must be among one violation's hosts
	contains []string // each must be in that violation's message
	attr     string   // prefix of that violation's Attribute, when set
}

func TestRules(t *testing.T) {
	cases := []ruleCase{
		// HA-1: at least two DCs.
		{name: "HA-1 two DCs pass", rule: "HA-1"},
		{name: "HA-1 one DC fails", mutate: withoutDC2, rule: "HA-1", want: true, severity: Error, hosts: []string{dc1},
			contains: []string{"All six bastion functions are marked", "at least two domain controllers", "only one writable domain controller, " + dc1, "Install-ADDSDomainController"}, attr: "domain_controllers"},
		{name: "HA-1 an RODC does not count", mutate: func(t *Topology) { t.DomainControllers[1].ReadOnly = true; t.DomainControllers[1].FSMORoles = nil },
			rule: "HA-1", want: true, severity: Error, hosts: []string{dc1}, contains: []string{"read-only domain controllers such as " + dc2}},
		{name: "HA-1 no DC at all fails", mutate: func(t *Topology) { t.DomainControllers = nil }, rule: "HA-1", want: true, severity: Error,
			contains: []string{"has no writable domain controller"}},
		{name: "HA-1 message without a domain name", mutate: chain(withoutDC2, markOnly(MIMAdministration), func(t *Topology) { t.Domain.DNSName = "" }), rule: "HA-1", want: true,
			severity: Error, contains: []string{"MIM administration is marked as needing high availability", "but the bastion domain has only one"}},
		{name: "HA-1 one DC without HA functions passes (rule 10)", mutate: chain(withoutDC2, markOnly()), rule: "HA-1"},

		// HA-2: two MIM Service computers and a clustered SQL Server.
		{name: "HA-2 pass", rule: "HA-2"},
		{name: "HA-2 one MIM Service computer fails", mutate: func(t *Topology) { t.MIMNodes = t.MIMNodes[:1] }, rule: "HA-2", want: true,
			severity: Error, hosts: []string{app1}, contains: []string{"at least two computers hosting the MIM Service", "only " + app1 + " hosts it", "privileged role activation"}, attr: "mim_nodes"},
		{name: "HA-2 no MIM Service fails", mutate: func(t *Topology) { t.MIMNodes = nil }, rule: "HA-2", want: true, severity: Error,
			contains: []string{"no computer hosts it"}},
		{name: "HA-2 no SQL Server fails", mutate: func(t *Topology) { t.SQL = nil }, rule: "HA-2", want: true, severity: Error,
			contains: []string{"no SQL Server instance is described"}, attr: "sql"},
		{name: "HA-2 standalone SQL Server fails", mutate: func(t *Topology) { t.SQL.Clustered = false; t.SQL.Nodes = []string{app1} }, rule: "HA-2", want: true,
			severity: Error, hosts: []string{app1}, contains: []string{"SQL Server priv-sql.priv.contoso.com is a standalone instance on " + app1 + ";", "failover cluster instance"}, attr: "sql.clustered"},
		{name: "HA-2 standalone SQL Server named after its server", mutate: func(t *Topology) { t.SQL.Clustered = false; t.SQL.Nodes = nil; t.SQL.NetworkName = app1 }, rule: "HA-2",
			want: true, severity: Error, hosts: []string{app1}, contains: []string{"SQL Server " + app1 + " is a standalone instance;"}},
		{name: "HA-2 resource management alone at level 7 needs no MIM", mutate: chain(markOnly(ResourceManagement), func(t *Topology) { t.MIMNodes = t.MIMNodes[:1] }), rule: "HA-2"},
		{name: "HA-2 resource management below level 7 needs two MIM Service computers",
			mutate: chain(markOnly(ResourceManagement), func(t *Topology) { t.MIMNodes = t.MIMNodes[:1]; t.Domain.ForestFunctionalLevel = 6 }),
			rule:   "HA-2", want: true, severity: Error, hosts: []string{app1}, contains: []string{"Resource management is marked", "at forest level 6 the PAM Component service, not AD, removes expired memberships"}},

		// HA-3: FCI with two nodes, none a DC.
		{name: "HA-3 pass", rule: "HA-3"},
		{name: "HA-3 one FCI node fails", mutate: func(t *Topology) { t.SQL.Nodes = []string{app1} }, rule: "HA-3", want: true, severity: Error,
			hosts: []string{app1}, contains: []string{"at least two nodes and has only " + app1}, attr: "sql.nodes"},
		{name: "HA-3 duplicate node names count once", mutate: func(t *Topology) { t.SQL.Nodes = []string{app1, "PRIV-APP1"} }, rule: "HA-3", want: true,
			severity: Error, contains: []string{"has only " + app1}},
		{name: "HA-3 one FCI node without SQL functions marked passes", mutate: chain(markOnly(ResourceManagement), func(t *Topology) { t.SQL.Nodes = []string{app1} }), rule: "HA-3"},
		{name: "HA-3 FCI node on a DC fails", mutate: func(t *Topology) { t.SQL.Nodes = []string{app1, "PRIV-DC2"} }, rule: "HA-3", want: true,
			severity: Error, hosts: []string{"PRIV-DC2"}, contains: []string{"PRIV-DC2 is both a SQL Server failover cluster node and a domain controller", "cannot be the same as a domain controller"}},
		{name: "HA-3 FCI node on a DC warns without HA", mutate: chain(markOnly(), func(t *Topology) { t.SQL.Nodes = []string{app1, dc2} }), rule: "HA-3", want: true,
			severity: Warning, hosts: []string{dc2}},
		{name: "HA-3 standalone SQL Server on a DC warns", mutate: chain(markOnly(ResourceManagement), func(t *Topology) { t.SQL.Clustered = false; t.SQL.Nodes = []string{dc1} }),
			rule: "HA-3", want: true, severity: Warning, hosts: []string{dc1}, contains: []string{"dedicated server, distinct from that of the domain controller"}},
		{name: "HA-3 standalone SQL Server on a member server passes", mutate: chain(markOnly(ResourceManagement), func(t *Topology) { t.SQL.Clustered = false; t.SQL.Nodes = nil; t.SQL.NetworkName = app1 }), rule: "HA-3"},

		// HA-4: no MIM Service on a DC, whatever is marked.
		{name: "HA-4 pass", rule: "HA-4"},
		{name: "HA-4 MIM Service on a DC fails even without HA", mutate: chain(markOnly(), func(t *Topology) { t.MIMNodes[1].Host = "priv-dc2" }),
			rule: "HA-4", want: true, severity: Error, hosts: []string{"priv-dc2"}, contains: []string{"minimize the attack surface"}, attr: "mim_nodes[1].host"},

		// HA-5: same servicePartitionName with long-lived requests.
		{name: "HA-5 pass, names differ only in case", mutate: func(t *Topology) { t.MIMNodes[0].ServicePartitionName = "PAM.priv.contoso.com " }, rule: "HA-5"},
		{name: "HA-5 different names fail", mutate: func(t *Topology) { t.MIMNodes[1].ServicePartitionName = "app2" }, rule: "HA-5", want: true, severity: Error,
			hosts: []string{app1, app2}, contains: []string{`uses "APP2"`, `uses "PAM.PRIV.CONTOSO.COM"`, "restart FIMService"}, attr: "mim_nodes.service_partition_name"},
		{name: "HA-5 default partition from externalHostName fails", mutate: func(t *Topology) {
			t.MIMNodes[0].ServicePartitionName, t.MIMNodes[1].ServicePartitionName = "", ""
			t.MIMNodes[1].ExternalHostName = app2
		}, rule: "HA-5", want: true, severity: Error, hosts: []string{app1, app2}},
		{name: "HA-5 unknown names are skipped", mutate: func(t *Topology) {
			t.MIMNodes[1].ServicePartitionName, t.MIMNodes[1].ExternalHostName = "", ""
		}, rule: "HA-5"},
		{name: "HA-5 without long-lived requests passes", mutate: func(t *Topology) { t.MIMNodes[1].ServicePartitionName = "app2"; t.LongLivedRequests = false }, rule: "HA-5"},
		{name: "HA-5 without HA functions warns", mutate: chain(markOnly(), func(t *Topology) { t.MIMNodes[1].ServicePartitionName = "app2" }), rule: "HA-5", want: true, severity: Warning},

		// HA-6: four servers and shared storage.
		{name: "HA-6 pass", rule: "HA-6"},
		{name: "HA-6 three servers fail", mutate: func(t *Topology) { t.MIMNodes = t.MIMNodes[:1]; t.SQL.Nodes = []string{app1} }, rule: "HA-6", want: true, severity: Error,
			hosts: []string{dc1, dc2, app1}, contains: []string{"at least four servers, and shared storage", "has 3"}},
		{name: "HA-6 data on the system drive fails", mutate: func(t *Topology) {
			t.SQL.DataDirectories = []string{`C:\Program Files\Microsoft SQL Server\MSSQL\Data`}
		}, rule: "HA-6", want: true,
			severity: Error, hosts: []string{app1, app2}, contains: []string{"priv-sql.priv.contoso.com cannot keep data or logs there, because every node must reach them: C:\\Program Files", "system drive C:", "shared storage"}, attr: "sql.data_directories[0]"},
		{name: "HA-6 log dir that is not a path fails", mutate: func(t *Topology) { t.SQL.LogDirectories = []string{`L:\Log`, `logs`} }, rule: "HA-6", want: true,
			severity: Error, contains: []string{"not an absolute Windows path"}, attr: "sql.log_directories[1]"},
		{name: "HA-6 share served by a bastion server fails", mutate: func(t *Topology) { t.SQL.DataDirectories = []string{`\\priv-dc2\sql\data`} }, rule: "HA-6", want: true,
			severity: Error, hosts: []string{"priv-dc2"}, contains: []string{"itself a bastion server"}},
		{name: "HA-6 dedicated SMB share passes", mutate: func(t *Topology) { t.SQL.DataDirectories = []string{`\\pam-store.priv.contoso.com\sql\data`} }, rule: "HA-6"},
		{name: "HA-6 local FCI path warns without SQL functions marked", mutate: chain(markOnly(ResourceManagement), func(t *Topology) { t.SQL.DataDirectories = []string{`C:\Data`} }),
			rule: "HA-6", want: true, severity: Warning},
		{name: "HA-6 standalone SQL on C: passes", mutate: chain(markOnly(ResourceManagement), func(t *Topology) { t.SQL.Clustered = false; t.SQL.DataDirectories = []string{`C:\Data`} }), rule: "HA-6"},

		// HA-7: no dependency on one DC through DNS.
		{name: "HA-7 pass", rule: "HA-7"},
		{name: "HA-7 single DNS server fails", mutate: func(t *Topology) { t.DNSServers[app1] = []string{"10.0.0.11"} }, rule: "HA-7", want: true, severity: Error,
			hosts: []string{app1, dc1}, contains: []string{app1 + " has a single DNS server, 10.0.0.11"}, attr: `dns_servers["` + app1 + `"]`},
		{name: "HA-7 a DC listing only itself fails", mutate: func(t *Topology) { t.DNSServers[dc1] = []string{"127.0.0.1", "10.0.0.11"} }, rule: "HA-7", want: true, severity: Error,
			hosts: []string{dc1}, contains: []string{"is the domain controller " + dc1}},
		{name: "HA-7 address and name of one DC fail", mutate: func(t *Topology) { t.DNSServers[app2] = []string{"10.0.0.12", "PRIV-DC2."} }, rule: "HA-7", want: true,
			severity: Error, hosts: []string{app2, dc2}, contains: []string{"depends on that one domain controller"}},
		{name: "HA-7 a CORP DC pointing at one PRIV DC fails", mutate: func(t *Topology) { t.DNSServers["corp-dc1.corp.contoso.com"] = []string{"10.0.0.11"} }, rule: "HA-7",
			want: true, severity: Error, hosts: []string{"corp-dc1.corp.contoso.com"}},
		{name: "HA-7 unknown second server passes", mutate: func(t *Topology) { t.DNSServers[app1] = []string{"10.0.0.11", "10.0.5.5"} }, rule: "HA-7"},
		{name: "HA-7 empty list is unknown", mutate: func(t *Topology) { t.DNSServers[app1] = []string{" "} }, rule: "HA-7"},
		{name: "HA-7 without HA functions passes", mutate: chain(markOnly(), func(t *Topology) { t.DNSServers[app1] = []string{"10.0.0.11"} }), rule: "HA-7"},

		// HA-8: recovery needs the PAM services, so the PAM components.
		{name: "HA-8 pass", rule: "HA-8"},
		{name: "HA-8 MIM Service without PAM components warns", mutate: func(t *Topology) { t.MIMNodes[1].PAMComponents = false }, rule: "HA-8", want: true,
			severity: Warning, hosts: []string{app2}, contains: []string{"cannot be added subsequently"}, attr: "mim_nodes[1].pam_components"},
		{name: "HA-8 no PAM components anywhere fails", mutate: func(t *Topology) { t.MIMNodes[0].PAMComponents = false; t.MIMNodes[1].PAMComponents = false },
			rule: "HA-8", want: true, severity: Error, hosts: []string{app1, app2}, contains: []string{"PAM Monitoring service"}, attr: "mim_nodes"},
		{name: "HA-8 MIM Service started before its SQL Server came online warns", mutate: func(t *Topology) {
			t.SQL.StartedAt = ExampleNow
			t.MIMNodes[0].ServiceStartedAt = ExampleNow.Add(-time.Millisecond)
			t.MIMNodes[1].ServiceStartedAt = ExampleNow.Add(time.Minute)
		}, rule: "HA-8", want: true, severity: Warning, hosts: []string{app1, "priv-sql.priv.contoso.com"},
			contains: []string{"before the SQL Server instance priv-sql.priv.contoso.com last came online", "restart each MIM Service", "restart_triggers"}, attr: "mim_nodes[0].service_started_at"},
		{name: "HA-8 MIM Service restarted after SQL Server passes", mutate: func(t *Topology) {
			t.SQL.StartedAt = ExampleNow
			t.MIMNodes[0].ServiceStartedAt = ExampleNow
			t.MIMNodes[1].ServiceStartedAt = ExampleNow.Add(time.Minute)
		}, rule: "HA-8"},
		{name: "HA-8 start times unknown pass", mutate: func(t *Topology) { t.MIMNodes[0].ServiceStartedAt = ExampleNow }, rule: "HA-8"},

		// HA-9: FSMO holders backed up within the tombstone lifetime.
		{name: "HA-9 pass", rule: "HA-9"},
		{name: "HA-9 stale backup fails", mutate: func(t *Topology) { t.Backups[1].LastBackup = ExampleNow.AddDate(0, 0, -61) }, rule: "HA-9", want: true, severity: Error,
			hosts: []string{dc2}, contains: []string{"DC=priv,DC=contoso,DC=com on " + dc2, "RIDMaster, InfrastructureMaster", "61 days ago", "tombstone lifetime of 60 days"}, attr: "backups"},
		{name: "HA-9 exactly the tombstone lifetime is stale", mutate: func(t *Topology) { t.Backups[1].LastBackup = ExampleNow.AddDate(0, 0, -60) }, rule: "HA-9", want: true, severity: Error},
		{name: "HA-9 a longer tombstone lifetime keeps it fresh", mutate: func(t *Topology) {
			t.Backups[1].LastBackup = ExampleNow.AddDate(0, 0, -100)
			t.TombstoneLifetimeDays = intPtr(180)
		}, rule: "HA-9"},
		{name: "HA-9 FSMO holder without backup fails", mutate: func(t *Topology) { t.Backups = t.Backups[:1] }, rule: "HA-9", want: true, severity: Error,
			hosts: []string{dc2}, contains: []string{dc2 + " holds the FSMO roles RIDMaster, InfrastructureMaster but has no backup"}},
		{name: "HA-9 never backed up fails", mutate: func(t *Topology) { t.Backups[0].LastBackup = time.Time{} }, rule: "HA-9", want: true, severity: Error,
			hosts: []string{dc1}, contains: []string{"has never backed up"}},
		{name: "HA-9 DC without roles needs no backup", mutate: func(t *Topology) {
			t.DomainControllers[0].FSMORoles = adnames.FSMORoles()
			t.DomainControllers[1].FSMORoles = nil
			t.Backups = t.Backups[:1]
		}, rule: "HA-9"},
		{name: "HA-9 backup state unknown is skipped", mutate: func(t *Topology) { t.Backups = nil }, rule: "HA-9"},
		{name: "HA-9 without HA functions warns", mutate: chain(markOnly(), func(t *Topology) { t.Backups = t.Backups[:1] }), rule: "HA-9", want: true, severity: Warning},

		// HA-10: only the marked functions; unknown ids; the simulation's catch-all.
		{name: "HA-10 pass", rule: "HA-10"},
		{name: "HA-10 unknown function fails", mutate: markOnly("role_activation"), rule: "HA-10", want: true, severity: Error,
			contains: []string{`"role_activation" is not a bastion function`, "privileged_role_activation"}, attr: "ha_functions"},
		{name: "HA-10 a loss no other rule explains fails", mutate: func(t *Topology) { t.MIMNodes[1].PAMComponents = false }, rule: "HA-10", want: true, severity: Error,
			hosts: []string{app1}, contains: []string{"Privileged role activation is marked as needing high availability but does not survive the loss of " + app1, "only MIM Service host with the PAM components"}},
		{name: "HA-10 no catch-all when another rule explains it", mutate: withoutDC2, rule: "HA-10"},
		{name: "HA-10 unmarked fragile function passes", mutate: chain(markOnly(ResourceManagement), func(t *Topology) { t.MIMNodes[1].PAMComponents = false }), rule: "HA-10"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			top := MinimalHATopology()
			if c.mutate != nil {
				c.mutate(&top)
			}
			got := Evaluate(top).ByRule(c.rule)
			if !c.want {
				if len(got) != 0 {
					t.Fatalf("want no %s violation, got %+v", c.rule, got)
				}
				return
			}
			if len(got) == 0 {
				t.Fatalf("want a %s violation, got none (all: %+v)", c.rule, Evaluate(top).Violations)
			}
			for _, v := range got {
				if matches(v, c) {
					return
				}
			}
			t.Fatalf("no %s violation matches severity %v, hosts %v, attribute %q, message containing %q:\n%+v", c.rule, c.severity, c.hosts, c.attr, c.contains, got)
		})
	}
}

func matches(v Violation, c ruleCase) bool {
	if v.Severity != c.severity || !strings.HasPrefix(v.Attribute, c.attr) {
		return false
	}
	for _, h := range c.hosts {
		if !slices.Contains(v.Hosts, h) {
			return false
		}
	}
	for _, s := range c.contains {
		if !strings.Contains(v.Message, s) {
			return false
		}
	}
	return v.Message != "" && strings.HasSuffix(v.Message, ".")
}

func TestEveryRuleHasAFailingCase(t *testing.T) {
	// Guards the table above: a rule added to the catalog needs cases too.
	var ids []string
	for _, r := range Rules() {
		ids = append(ids, r.ID)
		if r.Title == "" || r.Seed == "" {
			t.Errorf("rule %s lacks a title or seed quote", r.ID)
		}
	}
	want := []string{"HA-1", "HA-2", "HA-3", "HA-4", "HA-5", "HA-6", "HA-7", "HA-8", "HA-9", "HA-10"}
	if !reflect.DeepEqual(ids, want) {
		t.Fatalf("rule ids = %v, want %v", ids, want)
	}
}

func TestMinimalTopologyIsClean(t *testing.T) {
	r := Evaluate(MinimalHATopology())
	if len(r.Violations) != 0 {
		t.Fatalf("violations: %+v", r.Violations)
	}
	if r.HasErrors() {
		t.Fatal("HasErrors on a clean topology")
	}
}

func TestResultHelpers(t *testing.T) {
	top := MinimalHATopology()
	top.MIMNodes[1].PAMComponents = false // HA-8 warning and HA-10 error
	r := Evaluate(top)
	if !r.HasErrors() {
		t.Fatal("HasErrors = false")
	}
	if len(r.ByRule("HA-8")) != 1 || r.ByRule("HA-8")[0].Severity != Warning {
		t.Fatalf("ByRule(HA-8) = %+v", r.ByRule("HA-8"))
	}
	if _, ok := r.ReadinessOf("nope"); ok {
		t.Fatal("ReadinessOf unknown function found something")
	}
	fr, ok := r.ReadinessOf(Monitoring)
	if !ok || fr.SurvivesSingleLoss {
		t.Fatalf("ReadinessOf(Monitoring) = %+v, %v", fr, ok)
	}
	if Error.String() != "error" || Warning.String() != "warning" {
		t.Fatal("Severity.String")
	}
}

func TestEvaluateIsDeterministic(t *testing.T) {
	top := MinimalHATopology()
	top.DNSServers["corp-dc1.corp.contoso.com"] = []string{"10.0.0.11"}
	top.DNSServers["corp-dc2.corp.contoso.com"] = []string{"10.0.0.12"}
	top.MIMNodes[1].ServicePartitionName = "other"
	first := Evaluate(top)
	for range 20 {
		if got := Evaluate(top); !reflect.DeepEqual(got, first) {
			t.Fatal("Evaluate differs between runs")
		}
		if m := RenderMermaid(top, first); m != RenderMermaid(top, first) {
			t.Fatal("RenderMermaid differs between runs")
		}
	}
}

func TestNowDefaultsToTheClock(t *testing.T) {
	top := MinimalHATopology()
	top.Now = time.Time{}
	// Backups relative to the real clock: one an hour old, one 70 days old.
	// Only the second is stale, which holds only if Now became the clock.
	top.Backups[0].LastBackup = time.Now().Add(-time.Hour)
	top.Backups[1].LastBackup = time.Now().AddDate(0, 0, -70)
	got := Evaluate(top).ByRule("HA-9")
	if len(got) != 1 || !slices.Contains(got[0].Hosts, dc2) {
		t.Fatalf("HA-9 with the clock = %+v", got)
	}
}
