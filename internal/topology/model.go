package topology

import (
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/bastion-pam/terraform-provider-bastion/internal/adnames"
)

// DefaultTombstoneLifetimeDays applies when tombstoneLifetime is unset
// (domain-facts section 1; *Back up and restore Active Directory*: "never be more than 60 days old").
const DefaultTombstoneLifetimeDays = 60

// model is a Topology with the derived facts the rules share.
type model struct {
	t       Topology
	level   int
	marked  []Function // valid, deduped, in the order given
	unknown []string   // ids in HAFunctions that are not functions
	now     time.Time
	tomb    int
	servers []string // every bastion computer, deduped (SameHost)
	// hostLists caches dcHosts, writableDCHosts, readOnlyDCHosts, sqlHosts and pamHosts: the readiness
	// simulation asks for them in every loss scenario, and deduplicating
	// with SameHost is quadratic.
	hostLists map[string][]string
}

// cachedHosts returns the list named key, computing it once per model.
func (m *model) cachedHosts(key string, compute func() []string) []string {
	if l, ok := m.hostLists[key]; ok {
		return l
	}
	if m.hostLists == nil {
		m.hostLists = map[string][]string{}
	}
	l := compute()
	m.hostLists[key] = l
	return l
}

func newModel(t Topology) *model {
	m := &model{t: t, level: t.Domain.ForestFunctionalLevel, now: t.Now, tomb: DefaultTombstoneLifetimeDays}
	if m.now.IsZero() {
		m.now = time.Now()
	}
	if t.TombstoneLifetimeDays != nil {
		m.tomb = *t.TombstoneLifetimeDays
	}
	for _, f := range t.HAFunctions {
		if _, ok := f.Info(); !ok {
			m.unknown = append(m.unknown, string(f))
			continue
		}
		if !containsFunction(m.marked, f) {
			m.marked = append(m.marked, f)
		}
	}
	var all []string
	all = append(all, m.dcHosts()...)
	all = append(all, m.sqlHosts()...)
	all = append(all, m.mimHosts()...)
	m.servers = uniqueHosts(all)
	return m
}

func containsFunction(fs []Function, f Function) bool {
	for _, x := range fs {
		if x == f {
			return true
		}
	}
	return false
}

func (m *model) dcHosts() []string {
	return m.dcHostsWhere("dcHosts", func(DomainController) bool { return true })
}

func (m *model) writableDCHosts() []string {
	return m.dcHostsWhere("writableDCHosts", func(d DomainController) bool { return !d.ReadOnly })
}

func (m *model) readOnlyDCHosts() []string {
	return m.dcHostsWhere("readOnlyDCHosts", func(d DomainController) bool { return d.ReadOnly })
}

// dcHostsWhere are the distinct hosts of the DCs keep accepts, computed
// once under key.
func (m *model) dcHostsWhere(key string, keep func(DomainController) bool) []string {
	return m.cachedHosts(key, func() []string {
		var out []string
		for _, d := range m.t.DomainControllers {
			if keep(d) {
				out = append(out, d.Host)
			}
		}
		return uniqueHosts(out)
	})
}

// sqlHosts are the servers SQL Server can run on: the FCI nodes, or the one
// server of a standalone instance (its first node, else its network name).
func (m *model) sqlHosts() []string {
	return m.cachedHosts("sqlHosts", func() []string {
		s := m.t.SQL
		if s == nil {
			return nil
		}
		nodes := uniqueHosts(s.Nodes)
		if s.Clustered {
			return nodes
		}
		if len(nodes) > 0 {
			return nodes[:1]
		}
		return uniqueHosts([]string{s.NetworkName})
	})
}

func (m *model) mimHosts() []string {
	var out []string
	for _, n := range m.t.MIMNodes {
		out = append(out, n.Host)
	}
	return uniqueHosts(out)
}

func (m *model) pamHosts() []string {
	return m.cachedHosts("pamHosts", func() []string {
		var out []string
		for _, n := range m.t.MIMNodes {
			if n.PAMComponents {
				out = append(out, n.Host)
			}
		}
		return uniqueHosts(out)
	})
}

func (m *model) isDC(h string) bool { return adnames.HostIn(h, m.dcHosts()) }

// dcFor returns the DC a DNS server entry (host name or address) points at.
func (m *model) dcFor(entry string) (DomainController, bool) {
	for _, d := range m.t.DomainControllers {
		if adnames.SameHost(entry, d.Host) {
			return d, true
		}
		for _, a := range d.Addresses {
			if adnames.SameHost(entry, a) {
				return d, true
			}
		}
	}
	return DomainController{}, false
}

// dnsEntries returns the DNS server list of host h, trimmed and deduped.
func (m *model) dnsEntries(h string) []string {
	var raw []string
	for k, v := range m.t.DNSServers {
		if adnames.SameHost(k, h) {
			raw = append(raw, v...)
		}
	}
	var out []string
	for _, e := range raw {
		e = strings.TrimSpace(e)
		if e == "" {
			continue
		}
		dup := false
		for _, o := range out {
			if strings.EqualFold(o, e) {
				dup = true
			}
		}
		if !dup {
			out = append(out, e)
		}
	}
	return out
}

// dnsKeys returns the hosts of DNSServers in a stable order.
func (m *model) dnsKeys() []string {
	keys := slices.Sorted(maps.Keys(m.t.DNSServers))
	return uniqueHosts(keys)
}

// markedNeeding returns the marked functions that need component c.
func (m *model) markedNeeding(c component) []Function {
	var out []Function
	for _, f := range m.marked {
		if needs(f, m.level, c) {
			out = append(out, f)
		}
	}
	return out
}

// allNeeding returns every function that needs component c.
func (m *model) allNeeding(c component) []Function {
	var out []Function
	for _, f := range AllFunctions() {
		if needs(f, m.level, c) {
			out = append(out, f)
		}
	}
	return out
}

// severityFor is Error when some marked function depends on the component,
// else Warning; it also says which functions to name.
func (m *model) severityFor(c component) (Severity, []Function) {
	if fs := m.markedNeeding(c); len(fs) > 0 {
		return Error, fs
	}
	return Warning, m.allNeeding(c)
}

// functionList renders "privileged role activation and monitoring".
func functionList(fs []Function) string {
	if len(fs) == len(functionTable) {
		return "all six bastion functions"
	}
	var names []string
	for _, f := range fs {
		names = append(names, f.lowerName())
	}
	return joinAnd(names)
}

func joinAnd(xs []string) string {
	switch len(xs) {
	case 0:
		return ""
	case 1:
		return xs[0]
	case 2:
		return xs[0] + " and " + xs[1]
	}
	return strings.Join(xs[:len(xs)-1], ", ") + " and " + xs[len(xs)-1]
}
