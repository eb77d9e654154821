package topology

import (
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// mermaidLine is every line shape RenderMermaid may write; labels are
// "..." without a raw quote inside.
var mermaidLine = regexp.MustCompile(`^(flowchart TB|    (` +
	`subgraph site_\d+\["[^"]*"\]|end|` +
	`(    )?(srv|other|v)_\d+\["[^"]*"\](:::note)?|` +
	`domain\{\{"[^"]*"\}\}|sql\(\["[^"]*"\]\)|storage\[\("[^"]*"\)\]|` +
	`\w+ (-->|-\.->)\|"[^"]*"\| \w+|v_\d+ -\.- \w+|` +
	`classDef (error|warning|note) [^"]*|class \w+ (error|warning)))$`)

var labelText = regexp.MustCompile(`"[^"]*"`)

// checkMermaid asserts every line has a known shape and every label holds
// only safe characters, <br/> and entity codes.
func checkMermaid(t *testing.T, out string) {
	t.Helper()
	for _, l := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
		if !mermaidLine.MatchString(l) {
			t.Errorf("unexpected line shape: %q", l)
		}
		for _, q := range labelText.FindAllString(l, -1) {
			inner := regexp.MustCompile(`#\d+;|<br/>`).ReplaceAllString(q[1:len(q)-1], "")
			if strings.ContainsAny(inner, "\"[]{}<>#;|`%&\\\n\r") {
				t.Errorf("unescaped character in label %q", q)
			}
		}
	}
}

func TestRenderMermaidMinimal(t *testing.T) {
	top := MinimalHATopology()
	out := RenderMermaid(top, Evaluate(top))
	checkMermaid(t, out)
	for _, want := range []string{
		"flowchart TB\n",
		`domain{{"PRIV domain priv.contoso.com<br/>forest level 7 (Windows Server 2016)"}}`,
		`subgraph site_0["Site: Default-First-Site-Name"]`,
		`srv_0["priv-dc1.priv.contoso.com<br/>Domain controller, global catalog<br/>FSMO: SchemaMaster, DomainNamingMaster, PDCEmulator"]`,
		`srv_1["priv-dc2.priv.contoso.com<br/>Domain controller, global catalog<br/>FSMO: RIDMaster, InfrastructureMaster"]`,
		`srv_2["priv-app1.priv.contoso.com<br/>SQL Server FCI node<br/>MIM Service + PAM components<br/>serviceName: priv-app1<br/>servicePartitionName: PAM.PRIV.CONTOSO.COM<br/>externalHostName: pam.priv.contoso.com"]`,
		`sql(["SQL Server failover cluster instance<br/>priv-sql.priv.contoso.com"])`,
		`srv_2 -->|"FCI node"| sql`, `srv_3 -->|"FCI node"| sql`,
		`storage[("Shared storage<br/>C:#92;ClusterStorage#92;Volume1#92;MSSQL#92;Data<br/>L:#92;MSSQL#92;Log")]`,
		`sql -->|"data and logs"| storage`,
		`srv_0 -.->|"DC of"| domain`,
		`srv_2 -->|"FIMService database"| sql`,
		`srv_2 -.->|"DNS"| srv_0`, `srv_2 -.->|"DNS"| srv_1`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q\n%s", want, out)
		}
	}
	if strings.Contains(out, "\n    v_0") || strings.Contains(out, "class srv") {
		t.Errorf("clean topology drawn with violations:\n%s", out)
	}
}

func TestRenderMermaidViolations(t *testing.T) {
	top := MinimalHATopology()
	// HA-4 error on dc2, HA-8 warning on priv-app3, HA-7 error on a
	// computer outside the bastion.
	top.MIMNodes[1].Host = dc2
	top.MIMNodes = append(top.MIMNodes, MIMNode{Host: "priv-app3", ServicePartitionName: "pam.priv.contoso.com"})
	top.DNSServers["corp-dc1.corp.contoso.com"] = []string{"10.0.0.11"}
	r := Evaluate(top)
	out := RenderMermaid(top, r)
	checkMermaid(t, out)
	for _, want := range []string{
		"class srv_1 error",
		"class srv_4 warning",
		"class other_0 error",
		`other_0["corp-dc1.corp.contoso.com<br/>outside the bastion"]`,
		`other_0 -.->|"DNS"| srv_0`,
		`["HA-4 (error)<br/>The MIM Service is installed on priv-dc2.priv.contoso.com, a domain controller`,
		`["HA-8 (warning)<br/>priv-app3 runs the MIM Service without the PAM components`,
		"classDef error fill:#fdd",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q\n%s", want, out)
		}
	}
	// Each note is tied to its hosts.
	for i, v := range r.Violations {
		if v.RuleID == "HA-4" && !strings.Contains(out, "v_"+strconv.Itoa(i)+" -.- srv_1") {
			t.Errorf("HA-4 note not tied to srv_1\n%s", out)
		}
	}
	// An error outranks a warning on the same host.
	if strings.Contains(out, "class srv_1 warning") {
		t.Errorf("srv_1 drawn as warning too\n%s", out)
	}
}

func TestRenderMermaidPartial(t *testing.T) {
	top := Topology{
		DomainControllers: []DomainController{{Host: "dc1", ReadOnly: true}},
		SQL:               &SQLInstance{NetworkName: "sql1"},
		MIMNodes:          []MIMNode{{Host: "mim1"}},
	}
	out := RenderMermaid(top, Result{Violations: []Violation{{RuleID: "HA-2", Message: "no host"}}})
	checkMermaid(t, out)
	for _, want := range []string{
		`domain{{"PRIV domain (name not given)<br/>forest level 0 (Windows 2000)"}}`,
		`srv_0["dc1<br/>Read-only domain controller"]`,
		`sql(["SQL Server (standalone)<br/>sql1"])`,
		`srv_1 -->|"SQL Server host"| sql`,
		`srv_2["mim1<br/>MIM Service"]`,
		`v_0["HA-2 (warning)<br/>no host"]:::note`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q\n%s", want, out)
		}
	}
	if strings.Contains(out, "subgraph") || strings.Contains(out, "storage") {
		t.Errorf("no sites and no storage expected\n%s", out)
	}
}

func TestRenderMermaidEscapesHostileLabels(t *testing.T) {
	hostile := []string{
		`evil"]; click srv_0 call alert(1); x["`,
		`<img src=x onerror=alert(1)>`,
		"end\n%%{init: {'securityLevel':'loose'}}%%",
		"a|b`c`{d}#quot;&amp;",
		`x --> y`,
		"rtl\u202eoverride",
	}
	top := MinimalHATopology()
	top.Domain.DNSName = hostile[0]
	top.DomainControllers[0].Host = hostile[1]
	top.DomainControllers[0].Site = hostile[2]
	top.DomainControllers[1].FSMORoles = []string{hostile[3]}
	top.SQL.NetworkName = hostile[4]
	top.SQL.DataDirectories = []string{hostile[3]}
	top.MIMNodes[0].ServiceName = hostile[5]
	top.MIMNodes[1].ServicePartitionName = hostile[0]
	top.DNSServers[hostile[2]] = []string{"10.0.0.11"}
	out := RenderMermaid(top, Evaluate(top))
	checkMermaid(t, out)
	for _, h := range hostile {
		if strings.Contains(out, h) {
			t.Errorf("raw hostile text %q in output", h)
		}
	}
	for _, bad := range []string{"<img", `"]; click`, "%%{", "\u202e", "`"} {
		if strings.Contains(out, bad) {
			t.Errorf("output contains %q\n%s", bad, out)
		}
	}
	for _, want := range []string{
		"evil#34;#93;#59; click srv_0 call alert(1)#59; x#91;#34;",
		"#60;img src=x onerror=alert(1)#62;",
		"a#124;b#96;c#96;#123;d#125;#35;quot#59;#38;amp#59;",
		"rtl#8238;override",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks escaped %q\n%s", want, out)
		}
	}
}

func TestMermaidEscape(t *testing.T) {
	cases := map[string]string{
		"priv-dc1.priv.contoso.com": "priv-dc1.priv.contoso.com",
		`"`:                         "#34;",
		"#":                         "#35;",
		"a\nb":                      "a#10;b",
		"Zürich (HQ), 2/3 @x+y=z?!": "Zürich (HQ), 2/3 @x+y=z?!",
		`C:\x`:                      "C:#92;x",
	}
	for in, want := range cases {
		if got := mermaidEscape(in); got != want {
			t.Errorf("mermaidEscape(%q) = %q, want %q", in, got, want)
		}
	}
}
