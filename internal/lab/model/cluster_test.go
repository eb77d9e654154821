package model

import (
	"errors"
	"strings"
	"testing"
)

func bastionEnv(t *testing.T) *Env {
	t.Helper()
	e, _ := NewDefault(Seed{Topology: TopologyBastion})
	return e
}

func fciParams() SQLSetupParams {
	return SQLSetupParams{
		"INSTANCENAME": {"MSSQLSERVER"}, "FEATURES": {"SQLENGINE"}, "FAILOVERCLUSTERNETWORKNAME": {"PRIV-SQL"},
		"FAILOVERCLUSTERIPADDRESSES": {"DEFAULT"}, "INSTALLSQLDATADIR": {`C:\ClusterStorage\Volume1\MSSQL`},
		"SQLSVCACCOUNT": {`PRIV\gmsa-sql$`}, "AGTSVCACCOUNT": {`PRIV\gmsa-sql$`}, "SQLSYSADMINACCOUNTS": {AdminUser},
	}
}

// installTwoNodes installs the failover cluster instance on App1 and adds
// App2; it returns the AddNode parameters for more nodes.
func installTwoNodes(t *testing.T, e *Env) SQLSetupParams {
	t.Helper()
	if _, err := e.InstallFailoverCluster(App1, fciParams()); err != nil {
		t.Fatal(err)
	}
	add := SQLSetupParams{"INSTANCENAME": {"MSSQLSERVER"}, "SQLSVCACCOUNT": {`PRIV\gmsa-sql$`}, "AGTSVCACCOUNT": {`PRIV\gmsa-sql$`}, "FAILOVERCLUSTERIPADDRESSES": {"DEFAULT"}}
	if err := e.AddNode(App2, add); err != nil {
		t.Fatal(err)
	}
	return add
}

// The bastion topologies start from member servers: one DC, no instance, a
// Windows failover cluster of the three application servers.
func TestBastionTopologySeed(t *testing.T) {
	e := bastionEnv(t)
	if !e.Domain.IsDC(DC1) || e.Domain.IsDC(DC2) || len(e.SQL) != 0 {
		t.Fatalf("DCs %v, SQL %v: want only %s and no instance", e.Domain.DCs, e.SQL, DC1)
	}
	if got := strings.Join(e.Cluster.Nodes, ","); got != strings.Join([]string{App1, App2, App3}, ",") {
		t.Fatalf("cluster nodes %s", got)
	}
	m, _ := NewDefault(Seed{Topology: TopologyBastionMultiSite})
	if m.Host(DC3) == nil || m.Host(App4) == nil || !m.Domain.SiteExists(BranchSite) {
		t.Fatal("the multi-site seed lacks the Branch site's servers")
	}
}

// Setup needs a cluster node, refuses a cluster with a node down, and
// accepts the replacement once Remove-ClusterNode evicted the lost node.
func TestClusterMembershipAndEviction(t *testing.T) {
	e := bastionEnv(t)
	var se *SQLSetupError
	if _, err := e.InstallFailoverCluster(Spare1, fciParams()); !errors.As(err, &se) || !strings.Contains(err.Error(), "not a node of a Windows Server failover cluster") {
		t.Fatalf("install on a non-node: %v", err)
	}
	add := installTwoNodes(t, e)
	if err := e.SetReachable(App2, false); err != nil {
		t.Fatal(err)
	}
	if err := e.AddNode(App3, add); err == nil || !strings.Contains(err.Error(), "Cluster_VerifyForErrors") {
		t.Fatalf("AddNode with a node down: %v", err)
	}
	if err := e.RemoveClusterNode(App2, App2); err == nil {
		t.Fatal("a node evicted itself")
	}
	if err := e.RemoveClusterNode(Spare1, App2); err == nil {
		t.Fatal("Remove-ClusterNode ran on a server outside the cluster")
	}
	if err := e.RemoveClusterNode(App1, App2); err != nil {
		t.Fatal(err)
	}
	if e.IsClusterNode(App2) || e.SQL[Key(SQLNetwork)].Node(App2) != nil {
		t.Fatal("the evicted node is still a member or a possible owner")
	}
	if err := e.AddNode(App3, add); err != nil {
		t.Fatalf("AddNode after the eviction: %v", err)
	}
}

// A lost owner: the cluster moves the instance to a node that is up.
func TestClusterFailsOverFromALostOwner(t *testing.T) {
	e := bastionEnv(t)
	installTwoNodes(t, e)
	if err := e.SetReachable(App1, false); err != nil {
		t.Fatal(err)
	}
	if o := e.SQL[Key(SQLNetwork)].Owner(); o == nil || o.Host != Key(App2) || !e.SQLReachable(SQLNetwork) {
		t.Fatalf("owner after losing %s: %+v", App1, o)
	}
}
