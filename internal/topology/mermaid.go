package topology

import (
	"fmt"
	"strings"
	"unicode"

	"github.com/bastion-pam/terraform-provider-bastion/internal/adnames"
)

// RenderMermaid draws the topology as a Mermaid flowchart: a subgraph per
// site holding its servers (DCs with FSMO roles and GC, SQL FCI nodes, MIM
// Service hosts with their names), the PRIV domain, the SQL Server instance
// and its storage, dependency edges, DNS edges to DCs, and r's violations as
// notes tied to red (error) or amber (warning) hosts. Every label is quoted
// and escaped with Mermaid entity codes, so host names cannot break out.
func RenderMermaid(t Topology, r Result) string {
	m := newModel(t)
	var b strings.Builder
	line := func(format string, args ...any) {
		b.WriteString("    ")
		fmt.Fprintf(&b, format, args...)
		b.WriteByte('\n')
	}
	b.WriteString("flowchart TB\n")

	type named struct{ host, id string }
	var ids []named // in order, so a short name finds the first match
	nodeID := func(h string) string {
		for _, n := range ids {
			if adnames.SameHost(n.host, h) {
				return n.id
			}
		}
		return ""
	}
	for i, h := range m.servers {
		ids = append(ids, named{h, fmt.Sprintf("srv_%d", i)})
	}

	// Domain.
	domLines := []string{"PRIV domain " + orUnnamed(t.Domain.DNSName, "(name not given)"),
		fmt.Sprintf("forest level %d (%s)", m.level, adnames.LevelName(m.level))}
	line("domain{{%s}}", label(domLines...))

	// Servers, grouped by site in order of first appearance.
	siteOf := func(h string) string {
		for _, d := range t.DomainControllers {
			if adnames.SameHost(d.Host, h) && d.Site != "" {
				return d.Site
			}
		}
		for _, n := range t.MIMNodes {
			if adnames.SameHost(n.Host, h) && n.Site != "" {
				return n.Site
			}
		}
		return ""
	}
	var sites []string
	bySite := map[string][]string{}
	for _, h := range m.servers {
		s := siteOf(h)
		if _, ok := bySite[s]; !ok && s != "" {
			sites = append(sites, s)
		}
		bySite[s] = append(bySite[s], h)
	}
	for i, s := range sites {
		line("subgraph site_%d[%s]", i, label("Site: "+s))
		for _, h := range bySite[s] {
			line("    %s[%s]", nodeID(h), label(m.serverLines(h)...))
		}
		line("end")
	}
	for _, h := range bySite[""] {
		line("%s[%s]", nodeID(h), label(m.serverLines(h)...))
	}

	// Computers outside the bastion that appear in DNSServers (CORP DCs).
	others := 0
	for _, h := range m.dnsKeys() {
		if nodeID(h) != "" {
			continue
		}
		id := fmt.Sprintf("other_%d", others)
		others++
		ids = append(ids, named{h, id})
		line("%s[%s]", id, label(h, "outside the bastion"))
	}

	// SQL Server and its storage.
	if s := t.SQL; s != nil {
		kind := "SQL Server (standalone)"
		if s.Clustered {
			kind = "SQL Server failover cluster instance"
		}
		line("sql([%s])", label(kind, orUnnamed(s.NetworkName, "(network name not given)")))
		for _, h := range m.sqlHosts() {
			rel := "SQL Server host"
			if s.Clustered {
				rel = "FCI node"
			}
			line("%s -->|%s| sql", nodeID(h), label(rel))
		}
		dirs := append(append([]string{}, s.DataDirectories...), s.LogDirectories...)
		if len(dirs) > 0 {
			title := "Storage"
			if s.Clustered {
				title = "Shared storage"
			}
			line("storage[(%s)]", label(append([]string{title}, dirs...)...))
			line("sql -->|%s| storage", label("data and logs"))
		}
		line("sql -->|%s| domain", label("AD"))
	}

	// DCs, MIM Service dependencies.
	for _, h := range m.dcHosts() {
		line("%s -.->|%s| domain", nodeID(h), label("DC of"))
	}
	for _, h := range m.mimHosts() {
		if t.SQL != nil {
			line("%s -->|%s| sql", nodeID(h), label("FIMService database"))
		}
		line("%s -->|%s| domain", nodeID(h), label("AD"))
	}

	// DNS edges to the DCs a computer uses.
	for _, h := range m.dnsKeys() {
		var done []string
		for _, e := range m.dnsEntries(h) {
			dc := m.dnsTarget(h, e)
			if dc == "" || adnames.HostIn(dc, done) || adnames.SameHost(dc, h) {
				continue
			}
			done = append(done, dc)
			line("%s -.->|%s| %s", nodeID(h), label("DNS"), nodeID(dc))
		}
	}

	// Violations: a note per violation, tied to its hosts; hosts coloured.
	severity := map[string]Severity{}
	var order []string
	for i, v := range r.Violations {
		id := fmt.Sprintf("v_%d", i)
		line("%s[%s]:::note", id, label(fmt.Sprintf("%s (%s)", v.RuleID, v.Severity), v.Message))
		for _, h := range uniqueHosts(v.Hosts) {
			nid := nodeID(h)
			if nid == "" {
				continue
			}
			line("%s -.- %s", id, nid)
			if old, ok := severity[nid]; !ok || v.Severity > old {
				if !ok {
					order = append(order, nid)
				}
				severity[nid] = v.Severity
			}
		}
	}
	line("classDef error fill:#fdd,stroke:#c00,stroke-width:2px,color:#600")
	line("classDef warning fill:#ffe8b0,stroke:#c80,stroke-width:2px")
	line("classDef note fill:#fff5f5,stroke:#c00,stroke-dasharray: 4 2")
	for _, nid := range order {
		line("class %s %s", nid, severity[nid])
	}
	return b.String()
}

// serverLines describes a server's roles, one line each.
func (m *model) serverLines(h string) []string {
	lines := []string{h}
	for _, d := range m.t.DomainControllers {
		if !adnames.SameHost(d.Host, h) {
			continue
		}
		role := "Domain controller"
		if d.ReadOnly {
			role = "Read-only domain controller"
		}
		if d.GlobalCatalog {
			role += ", global catalog"
		}
		lines = append(lines, role)
		if roles := sortedRoles(d.FSMORoles); len(roles) > 0 {
			lines = append(lines, "FSMO: "+strings.Join(roles, ", "))
		}
	}
	if s := m.t.SQL; s != nil && adnames.HostIn(h, m.sqlHosts()) {
		if s.Clustered {
			lines = append(lines, "SQL Server FCI node")
		} else {
			lines = append(lines, "SQL Server")
		}
	}
	for _, n := range m.t.MIMNodes {
		if !adnames.SameHost(n.Host, h) {
			continue
		}
		mim := "MIM Service"
		if n.PAMComponents {
			mim += " + PAM components"
		}
		lines = append(lines, mim)
		if n.ServiceName != "" {
			lines = append(lines, "serviceName: "+n.ServiceName)
		}
		if p := n.EffectivePartitionName(); p != "" {
			lines = append(lines, "servicePartitionName: "+p)
		}
		if n.ExternalHostName != "" {
			lines = append(lines, "externalHostName: "+n.ExternalHostName)
		}
	}
	return lines
}

// label quotes lines for a Mermaid node, subgraph or edge label, joined by
// <br/>. Only letters, digits, spaces and harmless punctuation stay as they
// are; everything else (quotes, brackets, angle brackets, #, %, ;, |, `,
// backslashes, control characters) becomes an entity code "#<decimal>;",
// which Mermaid decodes for display only.
func label(lines ...string) string {
	esc := make([]string, len(lines))
	for i, l := range lines {
		esc[i] = mermaidEscape(l)
	}
	return `"` + strings.Join(esc, "<br/>") + `"`
}

func mermaidEscape(s string) string {
	var b strings.Builder
	for _, r := range s {
		if unicode.IsLetter(r) || unicode.IsDigit(r) || r == ' ' || strings.ContainsRune(".,-_:/()@+=?!'*$~", r) {
			b.WriteRune(r)
			continue
		}
		fmt.Fprintf(&b, "#%d;", r)
	}
	return b.String()
}
