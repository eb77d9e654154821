package topology

import (
	"errors"
	"fmt"
	"net"
	"slices"
	"sort"
	"strings"
	"unicode"

	"github.com/bastion-pam/terraform-provider-bastion/internal/adnames"
)

// Sentinels for errors.Is on what the helpers return.
var (
	// ErrRule marks every *RuleError.
	ErrRule = errors.New("topology rule violated")
	// ErrLastDomainController: demoting would leave the domain without a
	// writable DC.
	ErrLastDomainController = errors.New("last writable domain controller of the domain")
	// ErrHoldsFSMORoles: the DC still holds operations master roles.
	ErrHoldsFSMORoles = errors.New("domain controller holds FSMO roles")
	// ErrNotDomainController: the host is not among the given DCs.
	ErrNotDomainController = errors.New("not a domain controller of the domain")
)

// RuleError is a broken rule as an error, for validators that check one
// attribute. errors.Is(err, ErrRule) holds for it.
type RuleError struct {
	RuleID  string
	Hosts   []string
	Message string
}

func (e *RuleError) Error() string { return e.RuleID + ": " + e.Message }

// Is makes errors.Is(err, ErrRule) true.
func (e *RuleError) Is(target error) bool { return target == ErrRule }

// uniqueHosts drops blanks and duplicates (SameHost), keeping the first
// spelling and the order.
func uniqueHosts(hosts []string) []string {
	var out []string
	for _, h := range hosts {
		if strings.TrimSpace(h) == "" || adnames.HostIn(h, out) {
			continue
		}
		out = append(out, strings.TrimSpace(h))
	}
	return out
}

// NormalizePartitionName is servicePartitionName as MIM stores and compares
// it: trimmed and upper case.
func NormalizePartitionName(name string) string {
	return strings.ToUpper(strings.TrimSpace(name))
}

// EffectivePartitionName is the node's servicePartitionName, or its
// externalHostName when unset (MIM's default), normalized; "" when neither
// is known.
func (n MIMNode) EffectivePartitionName() string {
	if p := NormalizePartitionName(n.ServicePartitionName); p != "" {
		return p
	}
	return NormalizePartitionName(n.ExternalHostName)
}

// CheckMIMPartitionNames checks rule HA-5 on its own: every MIM Service node
// must have the same servicePartitionName, because "only other MIM Service
// installations that have the same service partition name are permitted to
// interact with that request". Call it when manual approvals or long-lived
// requests are in use. Nodes whose name is unknown are skipped.
func CheckMIMPartitionNames(nodes []MIMNode) error {
	groups := map[string][]string{}
	var order []string
	for _, n := range nodes {
		p := n.EffectivePartitionName()
		if p == "" {
			continue
		}
		if _, ok := groups[p]; !ok {
			order = append(order, p)
		}
		groups[p] = append(groups[p], n.Host)
	}
	if len(order) < 2 {
		return nil
	}
	var parts, hosts []string
	for _, p := range order {
		parts = append(parts, fmt.Sprintf("%s uses %q", strings.Join(groups[p], " and "), p))
		hosts = append(hosts, groups[p]...)
	}
	// Suggest the most used name, the first on a tie.
	best := order[0]
	for _, p := range order {
		if len(groups[p]) > len(groups[best]) {
			best = p
		}
	}
	return &RuleError{RuleID: "HA-5", Hosts: hosts, Message: fmt.Sprintf(
		"the MIM Service nodes have different servicePartitionName values (%s); with manual approvals or long-lived requests a request can only be handled by a MIM Service with the same service partition name, so set servicePartitionName to the same value on every node (for example %q) and restart FIMService on each",
		strings.Join(parts, ", "), best)}
}

// CheckFCINodes checks rule HA-3 on its own: a SQL Server failover cluster
// instance "requires at least two servers providing SQL Server, and these
// cannot be the same as a domain controller". dcs are the DC host names.
func CheckFCINodes(nodes []string, dcs []string) error {
	var errs []error
	if err := checkFCINodeCount(nodes); err != nil {
		errs = append(errs, err)
	}
	if err := checkFCINodesNotDCs(nodes, dcs); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

func checkFCINodeCount(nodes []string) *RuleError {
	u := uniqueHosts(nodes)
	if len(u) >= 2 {
		return nil
	}
	have := "none"
	if len(u) == 1 {
		have = "only " + u[0]
	}
	return &RuleError{RuleID: "HA-3", Hosts: u, Message: fmt.Sprintf(
		"a SQL Server failover cluster instance needs at least two nodes and has %s; add a second node (setup.exe /ACTION=AddNode) on a server that is not a domain controller", have)}
}

func checkFCINodesNotDCs(nodes []string, dcs []string) *RuleError {
	var bad []string
	for _, n := range uniqueHosts(nodes) {
		if adnames.HostIn(n, dcs) {
			bad = append(bad, n)
		}
	}
	if len(bad) == 0 {
		return nil
	}
	return &RuleError{RuleID: "HA-3", Hosts: bad, Message: fmt.Sprintf(
		"%s %s both a SQL Server failover cluster node and a domain controller; Microsoft's document says the servers providing SQL Server \"cannot be the same as a domain controller\": use dedicated member servers as FCI nodes",
		strings.Join(bad, " and "), isAre(len(bad)))}
}

func isAre(n int) string {
	if n == 1 {
		return "is"
	}
	return "are"
}

// IsSharedStoragePath tells whether a data or log directory of a SQL Server
// FCI is on storage all nodes share: an SMB share (\\server\share\...), a
// Cluster Shared Volume (C:\ClusterStorage\<volume>\...), or a drive other
// than the system drive C:, taken to be a cluster disk or SAN LUN (only the
// cluster knows; sys.dm_io_cluster_valid_path_names lists the real ones).
// Any other path on C: is local to each node. Forward slashes are accepted.
// A mount point of a cluster disk under C: is reported as local: mount the
// disk on a drive letter or use the CSV path instead.
func IsSharedStoragePath(path string) (bool, string) {
	p := strings.ReplaceAll(strings.TrimSpace(path), "/", `\`)
	if p == "" {
		return false, "the path is empty"
	}
	switch {
	case strings.HasPrefix(p, `\\?\UNC\`):
		p = `\\` + p[len(`\\?\UNC\`):]
	case strings.HasPrefix(p, `\\?\`):
		p = p[len(`\\?\`):]
	case strings.HasPrefix(p, `\\.\`):
		return false, fmt.Sprintf("%s is a device path, not a directory on shared storage", path)
	}
	if strings.HasPrefix(p, `\\`) {
		parts := strings.Split(p[2:], `\`)
		if len(parts) < 2 || parts[0] == "" || parts[1] == "" {
			return false, fmt.Sprintf("%s is not a complete UNC path: use \\\\server\\share\\folder", path)
		}
		return true, fmt.Sprintf("%s is on the SMB share \\\\%s\\%s", path, parts[0], parts[1])
	}
	if len(p) < 2 || p[1] != ':' || !isASCIILetter(rune(p[0])) || (len(p) > 2 && p[2] != '\\') {
		return false, fmt.Sprintf("%s is not an absolute Windows path: use a cluster disk drive (D:\\...), a Cluster Shared Volume (C:\\ClusterStorage\\Volume1\\...) or an SMB share (\\\\server\\share\\...)", path)
	}
	drive := unicode.ToUpper(rune(p[0]))
	if drive != 'C' {
		return true, fmt.Sprintf("%s is on drive %c:, taken to be a cluster disk", path, drive)
	}
	rest := strings.Split(strings.TrimPrefix(p[2:], `\`), `\`)
	if len(rest) >= 2 && strings.EqualFold(rest[0], "ClusterStorage") && rest[1] != "" {
		return true, fmt.Sprintf("%s is on the Cluster Shared Volume C:\\ClusterStorage\\%s", path, rest[1])
	}
	return false, fmt.Sprintf("%s is on the system drive C: of each node, not on shared storage; use a cluster disk, a Cluster Shared Volume (C:\\ClusterStorage\\Volume1\\...) or an SMB share dedicated to the bastion", path)
}

func isASCIILetter(r rune) bool { return (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') }

// uncServer returns the server of a UNC path, or "".
func uncServer(path string) string {
	p := strings.ReplaceAll(strings.TrimSpace(path), "/", `\`)
	if strings.HasPrefix(p, `\\?\UNC\`) {
		p = `\\` + p[len(`\\?\UNC\`):]
	}
	if !strings.HasPrefix(p, `\\`) || strings.HasPrefix(p, `\\?\`) || strings.HasPrefix(p, `\\.\`) {
		return ""
	}
	return strings.Split(p[2:], `\`)[0]
}

// CanDemote tells whether dc may be demoted (Uninstall-ADDSDomainController)
// without harm: it refuses the last writable DC of the domain
// (ErrLastDomainController) and a DC that still holds FSMO roles
// (ErrHoldsFSMORoles), naming the roles and where to move them. *Back up and restore Active Directory*:
// while any DC works, recover by adding a replica, so keep one.
func CanDemote(dc string, dcs []DomainController) error {
	idx := -1
	for i, d := range dcs {
		if adnames.SameHost(d.Host, dc) {
			idx = i
			break
		}
	}
	if idx < 0 {
		return fmt.Errorf("cannot check the demotion of %s: %w", dc, ErrNotDomainController)
	}
	me := dcs[idx]
	var others []string
	for i, d := range dcs {
		if i != idx && !d.ReadOnly && !adnames.SameHost(d.Host, me.Host) {
			others = append(others, d.Host)
		}
	}
	if !me.ReadOnly && len(others) == 0 {
		return fmt.Errorf("cannot demote %s: it is the last writable domain controller of the domain; add a replica domain controller first (Install-ADDSDomainController), since a domain without a working DC can only come back from a backup: %w", me.Host, ErrLastDomainController)
	}
	roles := sortedRoles(me.FSMORoles)
	if len(roles) > 0 {
		target := "another domain controller"
		if len(others) > 0 {
			target = others[0]
		}
		return fmt.Errorf("cannot demote %s: it holds the FSMO roles %s; transfer them first, e.g. Move-ADDirectoryServerOperationMasterRole -Identity %s -OperationMasterRole %s (an LDAP rootDSE become* operation on the target), then demote: %w",
			me.Host, strings.Join(roles, ", "), target, strings.Join(roles, ","), ErrHoldsFSMORoles)
	}
	return nil
}

// sortedRoles puts roles in Microsoft's order, unknown names last, deduped.
func sortedRoles(roles []string) []string {
	known := adnames.FSMORoles()
	var out []string
	for _, r := range roles {
		r = strings.TrimSpace(r)
		if r == "" || slices.ContainsFunc(out, func(o string) bool { return strings.EqualFold(o, r) }) {
			continue
		}
		for _, k := range known {
			if strings.EqualFold(k, r) {
				r = k
			}
		}
		out = append(out, r)
	}
	rank := func(r string) int {
		if i := slices.Index(known, r); i >= 0 {
			return i
		}
		return len(known)
	}
	sort.SliceStable(out, func(i, j int) bool { return rank(out[i]) < rank(out[j]) })
	return out
}

// isLoopback reports whether a DNS server entry points at the computer
// itself.
func isLoopback(entry string) bool {
	e := adnames.HostKey(entry)
	if e == "localhost" {
		return true
	}
	ip := net.ParseIP(e)
	return ip != nil && ip.IsLoopback()
}
