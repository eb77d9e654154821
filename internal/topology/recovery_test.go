package topology

import (
	"reflect"
	"strings"
	"testing"
)

// step is a RecoveryStep without its Reason, which is checked separately.
type step struct {
	Order   int
	Action  string
	Hosts   []string
	Command string
}

func steps(rs []RecoveryStep) []step {
	var out []step
	for _, s := range rs {
		out = append(out, step{s.Order, s.Action, s.Hosts, s.Command})
	}
	return out
}

func TestRecoveryOrderMinimalTopology(t *testing.T) {
	got := Evaluate(MinimalHATopology()).RecoveryOrder
	want := []step{
		{1, "Bring at least one domain controller of the domain priv.contoso.com online before restarting any other server", []string{dc1, dc2}, ""},
		{2, "If a domain controller will not return to production, check which FSMO roles it held and transfer them to a working domain controller (seize them only if it is gone for good, and never bring it back then)", []string{dc1, dc2}, "netdom query fsmo"},
		{3, "Check the DNS settings of the bastion's computers and of the CORP domain controllers trusting the bastion: none may point only at the lost domain controller's address", []string{dc1, dc2, app1, app2}, ""},
		{4, "Bring SQL Server priv-sql.priv.contoso.com online (the failover cluster instance on any one of its nodes)", []string{app1, app2}, ""},
		{5, "Restart the MIM Service (FIMService) on " + app1, []string{app1}, "Restart-Service FIMService"},
		{6, "Restart the MIM Service (FIMService) on " + app2, []string{app2}, "Restart-Service FIMService"},
		{7, "Start the PAM Monitoring service (PamMonitoringService) on at least one server where the MIM Service is running", []string{app1, app2}, `net start "PAM Monitoring service"`},
	}
	if g := steps(got); !reflect.DeepEqual(g, want) {
		t.Fatalf("recovery order\n got %#v\nwant %#v", g, want)
	}
	reasons := []string{
		"ensure that at least one domain controller is available in the bastion environment before restarting other servers",
		"check whether any roles were assigned to that domain controller and reassign them",
		"hard coded with a dependency on that domain controller computer's IP address",
		"ensure that at least one Active Directory domain controller and SQL Server are available",
		"restart each MIM Service",
		"restart each MIM Service",
		"ensure that the MIM PAM monitoring service is also running on that server",
	}
	for i, r := range reasons {
		if !strings.Contains(got[i].Reason, r) || !strings.HasPrefix(got[i].Reason, "Microsoft's HA and disaster recovery considerations") {
			t.Errorf("step %d reason %q lacks %q", i+1, got[i].Reason, r)
		}
	}
}

func TestRecoveryOrderBelowLevel2016(t *testing.T) {
	for _, level := range []int{0, 6} {
		top := MinimalHATopology()
		top.Domain.ForestFunctionalLevel = level
		got := Evaluate(top).RecoveryOrder
		last := got[len(got)-1]
		if len(got) != 8 || last.Order != 8 || last.Command != `net start "PAM Component service"` ||
			!reflect.DeepEqual(last.Hosts, []string{app1, app2}) ||
			!strings.Contains(last.Action, "below 7 (Windows Server 2016)") ||
			!strings.Contains(last.Reason, "not at Windows Server 2012 R2") {
			t.Fatalf("level %d: last step %+v of %d", level, last, len(got))
		}
	}
	top := MinimalHATopology()
	top.Domain.ForestFunctionalLevel = 10
	if got := Evaluate(top).RecoveryOrder; len(got) != 7 {
		t.Fatalf("level 10: %d steps, want 7", len(got))
	}
}

func TestRecoveryOrderPartialTopologies(t *testing.T) {
	cases := []struct {
		name   string
		mutate func(*Topology)
		want   []string // action prefixes in order
		hosts  map[int][]string
	}{
		{"no SQL, no MIM", func(t *Topology) { t.SQL = nil; t.MIMNodes = nil }, []string{"Bring at least one domain controller", "If a domain controller", "Check the DNS"}, nil},
		{"FSMO holders only", func(t *Topology) { t.DomainControllers[0].FSMORoles = nil }, nil, map[int][]string{1: {dc2}}},
		{"RODC not a first step host", func(t *Topology) {
			t.DomainControllers = append(t.DomainControllers, DomainController{Host: "priv-rodc.priv.contoso.com", ReadOnly: true})
		}, nil, map[int][]string{0: {dc1, dc2}}},
		{"only an RODC", func(t *Topology) {
			t.DomainControllers = []DomainController{{Host: "priv-rodc", ReadOnly: true}}
		}, nil, map[int][]string{0: {"priv-rodc"}, 1: {"priv-rodc"}}},
		{"standalone SQL", func(t *Topology) { t.SQL.Clustered = false }, nil, map[int][]string{3: {app1}}},
		{"MIM without PAM components", func(t *Topology) { t.MIMNodes[1].PAMComponents = false }, nil, map[int][]string{6: {app1}}},
		{"CORP DC in DNS list", func(t *Topology) { t.DNSServers["corp-dc1.corp.contoso.com"] = []string{"10.0.0.11", "10.0.0.12"} }, nil,
			map[int][]string{2: {dc1, dc2, app1, app2, "corp-dc1.corp.contoso.com"}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			top := MinimalHATopology()
			c.mutate(&top)
			got := Evaluate(top).RecoveryOrder
			if c.want != nil {
				if len(got) != len(c.want) {
					t.Fatalf("%d steps: %+v", len(got), steps(got))
				}
				for i, w := range c.want {
					if !strings.HasPrefix(got[i].Action, w) {
						t.Errorf("step %d = %q, want %q", i+1, got[i].Action, w)
					}
				}
			}
			for i, h := range c.hosts {
				if !reflect.DeepEqual(got[i].Hosts, h) {
					t.Errorf("step %d hosts = %v, want %v", i+1, got[i].Hosts, h)
				}
			}
			if c.name == "standalone SQL" && strings.Contains(got[3].Action, "failover cluster") {
				t.Errorf("standalone step says failover cluster: %q", got[3].Action)
			}
		})
	}
}
