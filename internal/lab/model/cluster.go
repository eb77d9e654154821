package model

import (
	"fmt"
	"strings"
)

// The Windows Server failover cluster (WSFC) under the SQL Server failover
// cluster instances: which servers are its nodes, whether each is up, and
// eviction (Remove-ClusterNode). SQL Server setup's InstallFailoverCluster
// and AddNode need the computer to be a node of the cluster, and their
// cluster verification rule fails while a node of the cluster is down, so a
// lost node must be evicted before its replacement is added.
// https://learn.microsoft.com/powershell/module/failoverclusters/remove-clusternode

// WindowsCluster is a failover cluster: its name and its nodes.
type WindowsCluster struct {
	Name  string   // lower-case FQDN of the cluster name object
	Nodes []string // lower-case FQDNs, in join order
}

// Cluster node states as Get-ClusterNode shows them.
const (
	ClusterNodeUp   = "Up"
	ClusterNodeDown = "Down"
)

// IsClusterNode reports whether host is a node of the cluster. Callers hold the lock.
func (e *Env) IsClusterNode(host string) bool {
	if e.Cluster == nil {
		return false
	}
	k := Key(host)
	for _, n := range e.Cluster.Nodes {
		if n == k {
			return true
		}
	}
	return false
}

// ClusterNodeState is a node's state: Down when its server cannot be reached
// (the cluster service on the other nodes lost its heartbeat). Callers hold the lock.
func (e *Env) ClusterNodeState(host string) string {
	if h := e.Host(host); h != nil && h.Reachable {
		return ClusterNodeUp
	}
	return ClusterNodeDown
}

// clusterSetupCheck applies setup's cluster rules for action on host: the
// host must be a node of the cluster and every node must be up (setup's
// Cluster_VerifyForErrors rule fails on a cluster with a node down). A lab
// without a cluster model skips them. Callers hold the lock.
func (e *Env) clusterSetupCheck(host string) error {
	if e.Cluster == nil {
		return nil
	}
	if !e.IsClusterNode(host) {
		return setupErr("The computer '%s' is not a node of a Windows Server failover cluster. Add it to the cluster (Add-ClusterNode) before running SQL Server Setup for a failover cluster instance.", strings.ToUpper(shortName(host)))
	}
	for _, n := range e.Cluster.Nodes {
		if e.ClusterNodeState(n) != ClusterNodeUp {
			return setupErr(`Rule "Cluster_VerifyForErrors" failed. The cluster either has not been verified or there are errors or failures in the verification report. ` +
				`Refer to KB953748 or SQL Server Books Online for more information.`)
		}
	}
	return nil
}

// ClusterCmdletError is a FailoverClusters cmdlet's failure.
type ClusterCmdletError struct {
	Message  string
	Category string
}

func (e *ClusterCmdletError) Error() string { return e.Message }

// RemoveClusterNode runs Remove-ClusterNode -Name node -Force on onHost, a
// node of the cluster that is up: node leaves the cluster and the possible
// owners of every clustered role (an instance it owned fails over). The
// evicted node is not cleaned up (-Force skips it), as for a lost server.
// Callers hold the lock.
func (e *Env) RemoveClusterNode(onHost, node string) error {
	if e.Cluster == nil || !e.IsClusterNode(onHost) {
		return &ClusterCmdletError{Message: fmt.Sprintf("The cluster service is not running on '%s'. Run the command on a node of the cluster.", strings.ToUpper(shortName(onHost))), Category: "ConnectionError"}
	}
	if !e.IsClusterNode(node) {
		return &ClusterCmdletError{Message: fmt.Sprintf("The cluster node '%s' was not found.", shortName(node)), Category: "ObjectNotFound"}
	}
	k := Key(node)
	if k == Key(onHost) {
		return &ClusterCmdletError{Message: "A node cannot evict itself from the cluster. Run Remove-ClusterNode on another node.", Category: "InvalidOperation"}
	}
	var keep []string
	for _, n := range e.Cluster.Nodes {
		if n != k {
			keep = append(keep, n)
		}
	}
	e.Cluster.Nodes = keep
	e.leavePossibleOwners(k)
	e.Record(k, "cluster-node-evicted", "Remove-ClusterNode on "+Key(onHost))
	return nil
}

// clusterNodeLost is the cluster's answer to a node that stops answering
// heartbeats: every instance it owned fails over to another up node (the
// node stays a member, Down, until it is evicted). Callers hold the lock.
func (e *Env) clusterNodeLost(host string) {
	for _, name := range sortedSQLNames(e) {
		s := e.SQL[name]
		if n := s.Node(host); n != nil && n.Owner {
			if next := e.firstUpNode(s); next != nil {
				e.failover(s, next, FailoverOptions{})
			}
		}
	}
}

// ClusterNodeNames returns the cluster's nodes (nil without a cluster). It takes the lock.
func (e *Env) ClusterNodeNames() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.Cluster == nil {
		return nil
	}
	return append([]string(nil), e.Cluster.Nodes...)
}

func shortName(host string) string { return strings.SplitN(Key(host), ".", 2)[0] }
