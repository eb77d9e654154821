package fci

import (
	"context"
	"errors"
	"strings"

	"github.com/bastion-pam/terraform-provider-bastion/internal/adnames"
	"github.com/bastion-pam/terraform-provider-bastion/internal/scripts"
	"github.com/bastion-pam/terraform-provider-bastion/internal/sqlserver"
	"github.com/bastion-pam/terraform-provider-bastion/internal/transport"
)

// NodeView is a node as a refresh sees it, named by FQDN.
type NodeView struct {
	Host   string
	Status sqlserver.NodeStatus
	Owner  bool
}

// NodeViews names the instance's nodes by FQDN: a node that prior lists
// keeps its spelling and place; others (an import, a node added out of
// band) get <NetBIOS name>.<network name's domain>, in the order read.
func NodeViews(network string, prior []string, fc sqlserver.FailoverCluster) []NodeView {
	read := fc.Nodes
	used := make([]bool, len(read))
	var out []NodeView
	for _, p := range prior {
		for i, n := range read {
			if !used[i] && strings.EqualFold(adnames.ShortName(p), n.Name) {
				used[i] = true
				out = append(out, NodeView{Host: p, Status: n.Status, Owner: n.IsCurrentOwner})
				break
			}
		}
	}
	for i, n := range read {
		if !used[i] {
			out = append(out, NodeView{Host: HostOf(n.Name, network), Status: n.Status, Owner: n.IsCurrentOwner})
		}
	}
	return out
}

// RemovalOrder: passive nodes first, from the last listed, then the owner,
// so the instance never fails over while it is taken down.
func RemovalOrder(views []NodeView) []string {
	var out []string
	owner := ""
	for i := len(views) - 1; i >= 0; i-- {
		if views[i].Owner {
			owner = views[i].Host
			continue
		}
		out = append(out, views[i].Host)
	}
	if owner != "" {
		out = append(out, owner)
	}
	return out
}

// HostOf names a node's NetBIOS name as an FQDN in the network name's domain.
func HostOf(netbios, network string) string {
	h := adnames.HostKey(network)
	if i := strings.IndexByte(h, '.'); i >= 0 {
		return strings.ToLower(netbios) + h[i:]
	}
	return strings.ToLower(netbios)
}

// changes returns the items of want not in have (in want's order) and those
// of have not in want (in have's order), by equal.
func changes(have, want []string, equal func(a, b string) bool) (added, removed []string) {
	in := func(list []string, s string) bool {
		for _, x := range list {
			if equal(x, s) {
				return true
			}
		}
		return false
	}
	for _, s := range want {
		if !in(have, s) {
			added = append(added, s)
		}
	}
	for _, s := range have {
		if !in(want, s) {
			removed = append(removed, s)
		}
	}
	return added, removed
}

// NodeChanges compares node lists by host (adnames.SameHost).
func NodeChanges(have, want []string) (added, removed []string) {
	return changes(have, want, adnames.SameHost)
}

// AccountChanges compares account lists case-insensitively.
func AccountChanges(have, want []string) (added, removed []string) {
	return changes(have, want, strings.EqualFold)
}

// Logins is what SetSysadmins needs of the SQL adapter (sqlserver.Client).
type Logins interface {
	Login(ctx context.Context, name string) (sqlserver.Login, error)
	CreateLogin(ctx context.Context, name string, roles []string) error
	SetLoginRoles(ctx context.Context, name string, roles []string) error
}

// SetSysadmins makes the sysadmin members follow a change from have to
// want: a new account's login is created (or given sysadmin), a removed
// one loses sysadmin and keeps its other roles.
func SetSysadmins(ctx context.Context, sql Logins, have, want []string) error {
	added, removed := AccountChanges(have, want)
	for _, name := range added {
		l, err := sql.Login(ctx, name)
		switch {
		case errors.Is(err, transport.ErrNotFound):
			if err := sql.CreateLogin(ctx, name, []string{"sysadmin"}); err != nil {
				return err
			}
		case err != nil:
			return err
		default:
			if err := sql.SetLoginRoles(ctx, name, append(l.Roles, "sysadmin")); err != nil {
				return err
			}
		}
	}
	for _, name := range removed {
		l, err := sql.Login(ctx, name)
		if errors.Is(err, transport.ErrNotFound) {
			continue
		}
		if err != nil {
			return err
		}
		var keep []string
		for _, role := range l.Roles {
			if !strings.EqualFold(role, "sysadmin") {
				keep = append(keep, role)
			}
		}
		if err := sql.SetLoginRoles(ctx, name, keep); err != nil {
			return err
		}
	}
	return nil
}

// EvictResult is cluster_evict_node.ps1's reply: the cluster's nodes by
// computer name with their state (Get-ClusterNode) after the eviction.
type EvictResult struct {
	Nodes map[string]string `json:"nodes"`
}

// EvictNode evicts the lost node from the Windows failover cluster with
// Remove-ClusterNode -Force, run on survivor (a node that stays). The node
// leaves the possible owners of the instance's group, which SQL Server
// setup's AddNode of its replacement needs: setup's cluster verification
// fails while a node is down. Evicting a node already gone changes nothing.
func EvictNode(ctx context.Context, x Executor, survivor, lost string) (EvictResult, error) {
	var out EvictResult
	err := x.Run(ctx, survivor, scripts.Get("cluster_evict_node"), map[string]string{"node": strings.ToUpper(adnames.ShortName(adnames.HostKey(lost)))}, &out)
	return out, err
}

// Survivor picks the node to run an eviction on: the current owner when it
// stays, else the first node of keep that is up and not lost.
func Survivor(views []NodeView, keep []string, lost func(string) bool) string {
	usable := func(h string) bool {
		if lost(h) {
			return false
		}
		for _, k := range keep {
			if adnames.SameHost(k, h) {
				return true
			}
		}
		return false
	}
	for _, v := range views {
		if v.Owner && v.Status == sqlserver.NodeUp && usable(v.Host) {
			return v.Host
		}
	}
	for _, v := range views {
		if v.Status == sqlserver.NodeUp && usable(v.Host) {
			return v.Host
		}
	}
	return ""
}
