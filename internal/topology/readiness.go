package topology

import (
	"fmt"
	"strings"

	"github.com/bastion-pam/terraform-provider-bastion/internal/adnames"
)

// state is the bastion with at most one server offline.
type state struct {
	m       *model
	offline string // "" when every server is up
}

func (s state) up(h string) bool { return s.offline == "" || !adnames.SameHost(h, s.offline) }

// resolves reports whether h can still use DNS: some listed server is up. A
// DC entry is up when that DC is; a loopback entry works on a DC only;
// another bastion server is up when it is; anything else is outside the
// bastion and assumed up. No list at all is unknown, taken as working.
func (s state) resolves(h string) bool {
	entries := s.m.dnsEntries(h)
	if len(entries) == 0 {
		return true
	}
	for _, e := range entries {
		if dc := s.m.dnsTarget(h, e); dc != "" {
			if s.up(dc) {
				return true
			}
			continue
		}
		if isLoopback(e) {
			continue
		}
		if adnames.HostIn(e, s.m.servers) {
			if s.up(e) {
				return true
			}
			continue
		}
		return true
	}
	return false
}

func (s state) dcUp() bool {
	for _, h := range s.m.writableDCHosts() {
		if s.up(h) {
			return true
		}
	}
	return false
}

// storageUp: an SMB share served by a bastion server is down with it.
func (s state) storageUp() bool {
	sql := s.m.t.SQL
	for _, d := range append(append([]string{}, sql.DataDirectories...), sql.LogDirectories...) {
		if srv := uncServer(d); srv != "" && adnames.HostIn(srv, s.m.servers) && !s.up(srv) {
			return false
		}
	}
	return true
}

func (s state) sqlUp() bool {
	if s.m.t.SQL == nil || !s.dcUp() || !s.storageUp() {
		return false
	}
	for _, h := range s.m.sqlHosts() {
		if s.up(h) && s.resolves(h) {
			return true
		}
	}
	return false
}

func (s state) mimUp() bool {
	if !s.sqlUp() {
		return false
	}
	for _, h := range s.m.pamHosts() {
		if s.up(h) && s.resolves(h) {
			return true
		}
	}
	return false
}

func (s state) componentUp(c component) bool {
	switch c {
	case compDC:
		return s.dcUp()
	case compSQL:
		return s.sqlUp()
	}
	return s.mimUp()
}

// available reports whether f works; failed is the first component missing.
func (s state) available(f Function) (bool, component) {
	for _, c := range requirements(f, s.m.level) {
		if !s.componentUp(c) {
			return false, c
		}
	}
	return true, 0
}

// readiness takes each server offline in turn.
func (m *model) readiness() []FunctionReadiness {
	var out []FunctionReadiness
	for _, fi := range functionTable {
		f := fi.ID
		fr := FunctionReadiness{Function: f, DisplayName: fi.DisplayName, Priority: fi.Priority, NeedsHA: containsFunction(m.marked, f)}
		ok, missing := state{m: m}.available(f)
		fr.Available = ok
		if !ok {
			fr.Summary = fmt.Sprintf("%s: is not available even with every server online: %s", f.lowerName(), m.absentReason(missing))
			out = append(out, fr)
			continue
		}
		for _, h := range m.servers {
			s := state{m: m, offline: h}
			if ok, missing := s.available(f); !ok {
				fr.Losses = append(fr.Losses, Loss{Host: h, Reason: s.lossReason(f, missing)})
			}
		}
		fr.SurvivesSingleLoss = len(fr.Losses) == 0
		if fr.SurvivesSingleLoss {
			fr.Summary = f.lowerName() + ": survives the loss of any one server"
		} else {
			var parts []string
			for _, l := range fr.Losses {
				parts = append(parts, l.Host+": "+l.Reason)
			}
			fr.Summary = fmt.Sprintf("%s: does not survive the loss of %s", f.lowerName(), strings.Join(parts, "; nor the loss of "))
		}
		out = append(out, fr)
	}
	return out
}

// absentReason says why a component is missing with every server up.
func (m *model) absentReason(c component) string {
	full := state{m: m}
	switch {
	case c == compDC || !full.dcUp():
		if len(m.dcHosts()) > 0 {
			return "no writable domain controller is described (read-only DCs cannot take PAM's group membership changes)"
		}
		return "no domain controller is described"
	case c == compSQL || !full.sqlUp():
		switch {
		case m.t.SQL == nil:
			return "no SQL Server instance is described"
		case len(m.sqlHosts()) == 0:
			return "the SQL Server instance has no node"
		case !full.storageUp():
			return "the SQL Server storage is unreachable"
		}
		return fmt.Sprintf("no SQL Server node (%s) can resolve names through DNS", joinAnd(m.sqlHosts()))
	}
	if len(m.pamHosts()) == 0 {
		if len(m.mimHosts()) > 0 {
			return fmt.Sprintf("no MIM Service host has the PAM components (%s lack%s them)", joinAnd(m.mimHosts()), sIfOne(len(m.mimHosts()), "s"))
		}
		return "no MIM Service host is described"
	}
	return fmt.Sprintf("no MIM Service host with the PAM components (%s) can resolve names through DNS", joinAnd(m.pamHosts()))
}

// lossReason says why losing s.offline stops f, whose first missing
// component is c.
func (s state) lossReason(f Function, c component) string {
	m, h := s.m, s.offline
	full := state{m: m}
	if !s.dcUp() {
		return "it is the only writable domain controller"
	}
	var reasons []string
	if c == compSQL || !s.sqlUp() {
		sql := m.t.SQL
		name := orUnnamed(sql.NetworkName, "(unnamed)")
		if adnames.HostIn(h, m.sqlHosts()) {
			others := otherHosts(m.sqlHosts(), h)
			resolving := 0
			for _, x := range others {
				if s.resolves(x) {
					resolving++
				}
			}
			switch {
			case !sql.Clustered:
				reasons = append(reasons, fmt.Sprintf("it hosts SQL Server %s, which is not a failover cluster instance", name))
			case len(others) == 0:
				reasons = append(reasons, fmt.Sprintf("it is the only node of the SQL Server failover cluster instance %s", name))
			case resolving == 0:
				reasons = append(reasons, fmt.Sprintf("it is a node of the SQL Server failover cluster instance %s and the other nodes (%s) use it as their only reachable DNS server", name, joinAnd(others)))
			}
		}
		if full.storageUp() && !s.storageUp() {
			reasons = append(reasons, "it serves the SMB share holding the SQL Server data or logs")
		}
		if len(reasons) == 0 {
			reasons = append(reasons, fmt.Sprintf("the SQL Server nodes (%s) use it as their only reachable DNS server", joinAnd(otherHosts(m.sqlHosts(), h))))
		}
	}
	if needs(f, m.level, compMIM) {
		others := otherHosts(m.pamHosts(), h)
		mimAlone := adnames.HostIn(h, m.pamHosts()) && len(others) == 0
		switch {
		case mimAlone && len(m.pamHosts()) < len(m.mimHosts()):
			reasons = append(reasons, fmt.Sprintf("it is the only MIM Service host with the PAM components (%s lack%s them)", joinAnd(otherHosts(m.mimHosts(), h)), sIfOne(len(otherHosts(m.mimHosts(), h)), "s")))
		case mimAlone:
			reasons = append(reasons, "it is the only MIM Service host")
		case c == compMIM:
			reasons = append(reasons, fmt.Sprintf("the other MIM Service hosts (%s) use it as their only reachable DNS server", joinAnd(others)))
		}
	}
	return strings.Join(reasons, ", and ")
}

func otherHosts(hosts []string, h string) []string {
	var out []string
	for _, x := range hosts {
		if !adnames.SameHost(x, h) {
			out = append(out, x)
		}
	}
	return out
}
