package main

import "testing"

// The demo's refresh: two directory data sources, the SQL login, two MIM
// nodes that reference it, and the topology that references them all.
func TestBoundPlacesSetUpsOnTheGraph(t *testing.T) {
	g := &graph{nodes: []node{
		{typ: "bastion_domain_controllers"},
		{typ: "bastion_backup_status"},
		{typ: "bastion_sql_login"},
		{typ: "bastion_mim_service_node", host: "app1", deps: []int{2}},
		{typ: "bastion_mim_service_node", host: "app2", deps: []int{2}},
		{typ: "bastion_topology", deps: []int{0, 1, 3, 4}},
	}}
	for _, tc := range []struct {
		p    int
		want float64 // round trips
	}{
		// One at a time: every set-up and read in a row: LDAP 3+1+1, TDS 5+1, WinRM (2+1) twice.
		{1, 17},
		// Ten at a time: the SQL login's set-up and read, then a MIM node's set-up and read.
		{10, 9},
	} {
		if got := g.bound(tc.p, 20); got < tc.want*0.02-1e-9 || got > tc.want*0.02+1e-9 {
			t.Errorf("p=%d: bound %.3f s, want %v round trips (%.3f s)", tc.p, got, tc.want, tc.want*0.02)
		}
	}
	if got := g.bound(10, 0); got != 0 {
		t.Errorf("at 0 ms the bound is %v", got)
	}
}
