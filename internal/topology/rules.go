package topology

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/bastion-pam/terraform-provider-bastion/internal/adnames"
)

// Rule is one entry of domain-facts section 6, with Microsoft's wording.
type Rule struct {
	ID    string
	Title string
	// Seed quotes the source document.
	Seed string
}

var rules = []Rule{
	{"HA-1", "At least two domain controllers",
		"\"High availability for any function provided by the bastion environment requires at least two domain controllers.\" (HA and disaster recovery considerations, Minimal high availability topologies)"},
	{"HA-2", "Two MIM Service computers and a clustered SQL Server",
		"\"High availability for activation requests requires at least two computers hosting the MIM Service and also requires high availability for the SQL Server.\" (HA and disaster recovery considerations)"},
	{"HA-3", "SQL Server FCI: two nodes, none a domain controller",
		"\"SQL Server high availability with failover clusters requires at least two servers providing SQL Server, and these cannot be the same as a domain controller.\" (HA and disaster recovery considerations)"},
	{"HA-4", "No MIM Service on a domain controller",
		"\"MIM Service should not be installed on the domain controller, in order to minimize the attack surface of each server.\" (HA and disaster recovery considerations)"},
	{"HA-5", "Same servicePartitionName on every MIM Service",
		"\"If the PAM scenario includes manual approvals or other long-lived request processing, ensure that each MIM Service has the same servicePartitionName attribute in that configuration file.\" (HA and disaster recovery considerations, MIM Service)"},
	{"HA-6", "Four servers and shared storage",
		"\"The smallest high availability topology for all functions in a bastion environment comprises at least four servers, and shared storage.\" SQL Server FCIs \"rely upon shared storage between all nodes for database and log storage\" (HA and disaster recovery considerations)"},
	{"HA-7", "No dependency on one particular domain controller",
		"\"Make sure that they are not inadvertently configured with a dependency on a particular domain controller for services such as DNS.\" (HA and disaster recovery considerations, Windows Server)"},
	{"HA-8", "Recovery order and the PAM services",
		"\"After an outage, ensure that at least one domain controller is available in the bastion environment before restarting other servers\"; then SQL Server, then restart each MIM Service, then \"net start \"PAM Monitoring service\"\" (HA and disaster recovery considerations, Recovery sections). The PAM components \"cannot be added subsequently\"."},
	{"HA-9", "Back up every FSMO holder within the tombstone lifetime",
		"\"If you back up more than one domain controller, make sure all the ones holding the FSMO roles are backed up.\" \"The backup should never be more than 60 days old\" (*Back up and restore Active Directory*; the limit is the tombstone lifetime)"},
	{"HA-10", "HA applies to the functions marked for it",
		"\"An organization can select which functions in their bastion environment require high availability\"; priorities: trust establishment, user and group migration, MIM administration and monitoring Low, privileged role activation Medium, resource management High (HA and disaster recovery considerations)"},
}

// Rules returns the catalog of rule IDs.
func Rules() []Rule {
	out := make([]Rule, len(rules))
	copy(out, rules)
	return out
}

// Evaluate checks every rule against t, simulates the loss of each server to
// find which functions survive it, and writes the recovery runbook.
func Evaluate(t Topology) Result {
	m := newModel(t)
	var vs []Violation
	for _, rule := range []func() []Violation{
		m.ruleHA1, m.ruleHA2, m.ruleHA3, m.ruleHA4, m.ruleHA5,
		m.ruleHA6, m.ruleHA7, m.ruleHA8, m.ruleHA9,
	} {
		vs = append(vs, rule()...)
	}
	readiness := m.readiness()
	vs = append(vs, m.ruleHA10(readiness, vs)...)
	for i := range vs {
		vs[i].Attribute = vs[i].Path.String()
	}
	return Result{Violations: vs, Readiness: readiness, RecoveryOrder: m.recoveryOrder()}
}

func (m *model) domainName() string {
	if m.t.Domain.DNSName != "" {
		return "the domain " + m.t.Domain.DNSName
	}
	return "the bastion domain"
}

func (m *model) ruleHA1() []Violation {
	fs := m.marked
	w := m.writableDCHosts()
	if len(fs) == 0 || len(w) >= 2 {
		return nil
	}
	have := "no writable domain controller"
	if len(w) == 1 {
		have = "only one writable domain controller, " + w[0]
	}
	if ro := m.readOnlyDCHosts(); len(ro) > 0 {
		have += fmt.Sprintf(" (read-only domain controllers such as %s do not count: PAM writes group memberships)", joinAnd(ro))
	}
	return []Violation{{
		RuleID: "HA-1", Severity: Error, Functions: fs, Hosts: w, Path: AttrPath("domain_controllers"),
		Message: fmt.Sprintf("%s %s marked as needing high availability, which requires at least two domain controllers in the bastion domain, but %s has %s; add a replica domain controller (Install-ADDSDomainController), preferably in another site or on other hardware.",
			capitalize(functionList(fs)), isAre(len(fs)), m.domainName(), have),
	}}
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

func sIfOne(n int, s string) string {
	if n == 1 {
		return s
	}
	return ""
}

func capitalize(s string) string {
	if s == "" || strings.HasPrefix(s, "MIM") {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

func (m *model) ruleHA2() []Violation {
	fs := m.markedNeeding(compMIM)
	if len(fs) == 0 {
		return nil
	}
	var out []Violation
	what := fmt.Sprintf("%s %s marked as needing high availability and %s on the MIM Service", capitalize(functionList(fs)), isAre(len(fs)), plural(len(fs), "depends", "depend"))
	if containsFunction(fs, ResourceManagement) {
		what += fmt.Sprintf(" (resource management does because at forest level %d the PAM Component service, not AD, removes expired memberships)", m.level)
	}
	if h := m.mimHosts(); len(h) < 2 {
		have := "no computer hosts it"
		if len(h) == 1 {
			have = "only " + h[0] + " hosts it"
		}
		out = append(out, Violation{
			RuleID: "HA-2", Severity: Error, Functions: fs, Hosts: h, Path: AttrPath("mim_nodes"),
			Message: fmt.Sprintf("%s, which needs at least two computers hosting the MIM Service, but %s; install the MIM Service with the PAM components on a second member server (not a domain controller) with the same servicePartitionName.", what, have),
		})
	}
	switch s := m.t.SQL; {
	case s == nil:
		out = append(out, Violation{
			RuleID: "HA-2", Severity: Error, Functions: fs, Path: AttrPath("sql"),
			Message: fmt.Sprintf("%s, which needs high availability for the SQL Server holding the FIMService database, but no SQL Server instance is described; use a SQL Server failover cluster instance with at least two nodes.", what),
		})
	case !s.Clustered:
		hosts := m.sqlHosts()
		where := ""
		if len(hosts) > 0 && !adnames.SameHost(hosts[0], s.NetworkName) {
			where = " on " + hosts[0]
		}
		out = append(out, Violation{
			RuleID: "HA-2", Severity: Error, Functions: fs, Hosts: hosts, Path: AttrPath("sql").Name("clustered"),
			Message: fmt.Sprintf("%s, which needs high availability for the SQL Server, but SQL Server %s is a standalone instance%s; move the FIMService database to a SQL Server failover cluster instance with at least two nodes.", what, orUnnamed(s.NetworkName, "(unnamed)"), where),
		})
	}
	return out
}

func orUnnamed(s, dflt string) string {
	if strings.TrimSpace(s) == "" {
		return dflt
	}
	return s
}

func (m *model) ruleHA3() []Violation {
	s := m.t.SQL
	if s == nil {
		return nil
	}
	sev, fs := m.severityFor(compSQL)
	var out []Violation
	if !s.Clustered {
		// Preparation: "it is recommended that the SQL Server be deployed on
		// a dedicated server, distinct from that of the domain controller".
		var bad []string
		for _, h := range m.sqlHosts() {
			if m.isDC(h) {
				bad = append(bad, h)
			}
		}
		if len(bad) > 0 {
			out = append(out, Violation{RuleID: "HA-3", Severity: Warning, Functions: fs, Hosts: bad, Path: AttrPath("sql").Name("nodes"),
				Message: fmt.Sprintf("SQL Server %s runs on the domain controller %s; Microsoft's document recommends \"that the SQL Server be deployed on a dedicated server, distinct from that of the domain controller\": move it to a member server.", orUnnamed(s.NetworkName, ""), joinAnd(bad))})
		}
		return out
	}
	if err := checkFCINodeCount(s.Nodes); err != nil && sev == Error {
		out = append(out, Violation{RuleID: "HA-3", Severity: Error, Functions: fs, Hosts: err.Hosts, Path: AttrPath("sql").Name("nodes"),
			Message: fmt.Sprintf("%s %s marked as needing high availability, but SQL Server %s: %s.", capitalize(functionList(fs)), isAre(len(fs)), orUnnamed(s.NetworkName, "(unnamed)"), strings.TrimPrefix(err.Message, "a SQL Server failover cluster instance "))})
	}
	if err := checkFCINodesNotDCs(s.Nodes, m.dcHosts()); err != nil {
		out = append(out, Violation{RuleID: "HA-3", Severity: sev, Functions: fs, Hosts: err.Hosts, Path: AttrPath("sql").Name("nodes"),
			Message: err.Message + "."})
	}
	return out
}

func (m *model) ruleHA4() []Violation {
	var out []Violation
	for i, n := range m.t.MIMNodes {
		if !m.isDC(n.Host) {
			continue
		}
		out = append(out, Violation{RuleID: "HA-4", Severity: Error, Functions: m.allNeeding(compMIM), Hosts: []string{n.Host},
			Path:    AttrPath("mim_nodes").Index(i).Name("host"),
			Message: fmt.Sprintf("The MIM Service is installed on %s, a domain controller; \"MIM Service should not be installed on the domain controller, in order to minimize the attack surface of each server\": install it on a member server and uninstall it from %s.", n.Host, n.Host)})
	}
	return out
}

func (m *model) ruleHA5() []Violation {
	if !m.t.LongLivedRequests {
		return nil
	}
	var re *RuleError
	if !errors.As(CheckMIMPartitionNames(m.t.MIMNodes), &re) {
		return nil
	}
	sev, fs := m.severityFor(compMIM)
	return []Violation{{RuleID: "HA-5", Severity: sev, Functions: fs, Hosts: re.Hosts, Path: AttrPath("mim_nodes").Name("service_partition_name"),
		Message: capitalize(re.Message) + "."}}
}

func (m *model) ruleHA6() []Violation {
	var out []Violation
	fs := m.markedNeeding(compSQL)
	if len(fs) > 0 && len(m.servers) < 4 {
		out = append(out, Violation{RuleID: "HA-6", Severity: Error, Functions: fs, Hosts: m.servers,
			Message: fmt.Sprintf("%s %s marked as needing high availability; the smallest such topology \"comprises at least four servers, and shared storage\": two domain controllers and two member servers that are both SQL Server failover cluster nodes and MIM Service hosts, but the bastion has %d (%s).",
				capitalize(functionList(fs)), isAre(len(fs)), len(m.servers), orUnnamed(strings.Join(m.servers, ", "), "none"))})
	}
	s := m.t.SQL
	if s == nil || !s.Clustered {
		return out
	}
	sev, sfs := m.severityFor(compSQL)
	check := func(attr Path, dirs []string) {
		for i, d := range dirs {
			if ok, why := IsSharedStoragePath(d); !ok {
				out = append(out, Violation{RuleID: "HA-6", Severity: sev, Functions: sfs, Hosts: m.sqlHosts(), Path: attr.Index(i),
					Message: fmt.Sprintf("SQL Server failover cluster instance %s cannot keep data or logs there, because every node must reach them: %s.", orUnnamed(s.NetworkName, "(unnamed)"), strings.TrimSuffix(why, "."))})
				continue
			}
			if srv := uncServer(d); srv != "" && adnames.HostIn(srv, m.servers) {
				out = append(out, Violation{RuleID: "HA-6", Severity: sev, Functions: sfs, Hosts: []string{srv}, Path: attr.Index(i),
					Message: fmt.Sprintf("SQL Server failover cluster instance %s keeps data or logs on %s, a share served by %s, which is itself a bastion server: losing it stops SQL Server; use a cluster disk, a Cluster Shared Volume or an SMB server dedicated to the bastion storage.", orUnnamed(s.NetworkName, "(unnamed)"), d, srv)})
			}
		}
	}
	check(AttrPath("sql").Name("data_directories"), s.DataDirectories)
	check(AttrPath("sql").Name("log_directories"), s.LogDirectories)
	return out
}

// dnsTarget names what a DNS server entry of host h points at: a DC's host,
// or "" when unknown.
func (m *model) dnsTarget(h, entry string) string {
	if isLoopback(entry) {
		if m.isDC(h) {
			d, _ := m.dcFor(h)
			return d.Host
		}
		return ""
	}
	if d, ok := m.dcFor(entry); ok {
		return d.Host
	}
	return ""
}

func (m *model) ruleHA7() []Violation {
	fs := m.marked
	if len(fs) == 0 {
		return nil
	}
	var out []Violation
	for _, h := range m.dnsKeys() {
		entries := m.dnsEntries(h)
		if len(entries) == 0 {
			continue
		}
		attr := AttrPath("dns_servers").Key(h)
		if len(entries) < 2 {
			hosts := []string{h}
			if dc := m.dnsTarget(h, entries[0]); dc != "" && !adnames.SameHost(dc, h) {
				hosts = append(hosts, dc)
			}
			out = append(out, Violation{RuleID: "HA-7", Severity: Error, Functions: fs, Hosts: hosts, Path: attr,
				Message: fmt.Sprintf("%s has a single DNS server, %s: when it is down %s cannot find the domain; list at least two domain controllers as DNS servers so that no computer depends on one particular domain controller.", h, entries[0], h)})
			continue
		}
		first := m.dnsTarget(h, entries[0])
		same := first != ""
		for _, e := range entries[1:] {
			if t := m.dnsTarget(h, e); t == "" || !adnames.SameHost(t, first) {
				same = false
			}
		}
		if same {
			out = append(out, Violation{RuleID: "HA-7", Severity: Error, Functions: fs, Hosts: uniqueHosts([]string{h, first}), Path: attr,
				Message: fmt.Sprintf("Every DNS server of %s (%s) is the domain controller %s: %s depends on that one domain controller; add a second domain controller to its DNS server list.", h, strings.Join(entries, ", "), first, h)})
		}
	}
	return out
}

func (m *model) ruleHA8() []Violation {
	var out []Violation
	if len(m.t.MIMNodes) == 0 {
		return nil
	}
	for i, n := range m.t.MIMNodes {
		if n.PAMComponents {
			continue
		}
		out = append(out, Violation{RuleID: "HA-8", Severity: Warning, Functions: m.allNeeding(compMIM), Hosts: []string{n.Host}, Path: AttrPath("mim_nodes").Index(i).Name("pam_components"),
			Message: fmt.Sprintf("%s runs the MIM Service without the PAM components, so it cannot serve PAM requests or run the PAM Monitoring and PAM Component services that recovery starts; Microsoft's document says they \"cannot be added subsequently\": reinstall the MIM Service on %s with the PAM components.", n.Host, n.Host)})
	}
	out = append(out, m.staleMIMServices()...)
	if len(m.pamHosts()) == 0 {
		sev, fs := m.severityFor(compMIM)
		out = append(out, Violation{RuleID: "HA-8", Severity: sev, Functions: fs, Hosts: m.mimHosts(), Path: AttrPath("mim_nodes"),
			Message: fmt.Sprintf("No MIM Service host has the PAM components (%s), so the recovery steps \"net start \"PAM Monitoring service\"\" and \"PAM Component service\" have nowhere to run; install the MIM Service with the PAM components on each MIM Service computer.", joinAnd(m.mimHosts()))})
	}
	return out
}

// staleMIMServices finds the MIM Services running since before their SQL
// Server instance last came online: "after SQL Server has been restored, it
// is recommended to restart each MIM Service" (HA and disaster recovery
// considerations, SQL Server, Recovery). A warning: the restart is the fix,
// and the same apply can make it.
func (m *model) staleMIMServices() []Violation {
	if m.t.SQL == nil || m.t.SQL.StartedAt.IsZero() {
		return nil
	}
	sql := m.t.SQL
	var out []Violation
	for i, n := range m.t.MIMNodes {
		if n.ServiceStartedAt.IsZero() || !n.ServiceStartedAt.Before(sql.StartedAt) {
			continue
		}
		out = append(out, Violation{RuleID: "HA-8", Severity: Warning, Functions: m.allNeeding(compMIM), Hosts: []string{n.Host, sql.NetworkName},
			Path: AttrPath("mim_nodes").Index(i).Name("service_started_at"),
			Message: fmt.Sprintf("The MIM Service on %s has been running since %s, before the SQL Server instance %s last came online at %s (a failover, a restart or a restore), "+
				"so it may hold connections from before; \"after SQL Server has been restored, it is recommended to restart each MIM Service\": restart FIMService and the PAM services on %s "+
				"(change restart_triggers of its bastion_mim_service_node).",
				n.Host, n.ServiceStartedAt.UTC().Format(time.RFC3339), sql.NetworkName, sql.StartedAt.UTC().Format(time.RFC3339), n.Host)})
	}
	return out
}

func (m *model) ruleHA9() []Violation {
	if len(m.t.Backups) == 0 {
		return nil
	}
	sev, fs := Warning, AllFunctions()
	if len(m.marked) > 0 {
		sev, fs = Error, m.marked
	}
	limit := m.now.AddDate(0, 0, -m.tomb)
	var out []Violation
	for _, d := range m.t.DomainControllers {
		roles := sortedRoles(d.FSMORoles)
		holder := ""
		if len(roles) > 0 {
			holder = fmt.Sprintf(" (it holds %s)", strings.Join(roles, ", "))
		}
		seen := false
		for _, b := range m.t.Backups {
			if !adnames.SameHost(b.DC, d.Host) {
				continue
			}
			seen = true
			nc := orUnnamed(b.NamingContext, "(naming context not given)")
			switch {
			case b.LastBackup.IsZero():
				out = append(out, Violation{RuleID: "HA-9", Severity: sev, Functions: fs, Hosts: []string{d.Host}, Path: AttrPath("backups"),
					Message: fmt.Sprintf("%s%s has never backed up %s; back up its system state (repadmin /showbackup shows the result).", d.Host, holder, nc)})
			case !b.LastBackup.After(limit):
				age := int(m.now.Sub(b.LastBackup).Hours() / 24)
				out = append(out, Violation{RuleID: "HA-9", Severity: sev, Functions: fs, Hosts: []string{d.Host}, Path: AttrPath("backups"),
					Message: fmt.Sprintf("The last backup of %s on %s%s is from %s, %d days ago, not younger than the tombstone lifetime of %d days, so it cannot be restored; back up %s's system state now.", nc, d.Host, holder, b.LastBackup.UTC().Format("2006-01-02"), age, m.tomb, d.Host)})
			}
		}
		if !seen && len(roles) > 0 {
			out = append(out, Violation{RuleID: "HA-9", Severity: sev, Functions: fs, Hosts: []string{d.Host}, Path: AttrPath("backups"),
				Message: fmt.Sprintf("%s holds the FSMO roles %s but has no backup; *Back up and restore Active Directory*: \"make sure all the ones holding the FSMO roles are backed up\", within the tombstone lifetime of %d days.", d.Host, strings.Join(roles, ", "), m.tomb)})
		}
	}
	return out
}

func (m *model) ruleHA10(readiness []FunctionReadiness, earlier []Violation) []Violation {
	var out []Violation
	for _, u := range m.unknown {
		out = append(out, Violation{RuleID: "HA-10", Severity: Error, Path: AttrPath("ha_functions"),
			Message: fmt.Sprintf("%q is not a bastion function; Microsoft's functions are %s.", u, strings.Join(functionIDs(), ", "))})
	}
	// The catch-all: a marked function that the simulation shows failing,
	// for a cause no other rule reported as an Error.
	for _, fr := range readiness {
		if !fr.NeedsHA || fr.SurvivesSingleLoss || explained(fr.Function, earlier) {
			continue
		}
		var hosts []string
		for _, l := range fr.Losses {
			hosts = append(hosts, l.Host)
		}
		out = append(out, Violation{RuleID: "HA-10", Severity: Error, Functions: []Function{fr.Function}, Hosts: hosts, Path: AttrPath("ha_functions"),
			Message: fmt.Sprintf("%s is marked as needing high availability but %s.", fr.DisplayName, strings.TrimPrefix(fr.Summary, fr.Function.lowerName()+": "))})
	}
	return out
}

func explained(f Function, vs []Violation) bool {
	for _, v := range vs {
		if v.Severity == Error && containsFunction(v.Functions, f) {
			return true
		}
	}
	return false
}
