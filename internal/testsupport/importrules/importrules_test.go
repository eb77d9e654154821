package importrules

import (
	"bufio"
	"bytes"
	"os/exec"
	"sort"
	"strings"
	"testing"
)

const module = "github.com/bastion-pam/terraform-provider-bastion"

// plainGo are the packages that never depend on Terraform's plugin
// libraries: the protocol adapters, the shared vocabulary and rules, and the
// domain packages (docs/DESIGN.md, "Rooms").
var plainGo = []string{
	"internal/adnames", "internal/transport", "internal/sharedread", "internal/scripts",
	"internal/directory", "internal/sqlserver", "internal/winrmexec",
	"internal/topology", "internal/mim", "internal/ad", "internal/pam", "internal/fci",
}

// domain are the packages that hold the remote operations of one domain;
// they are called by the provider and never call it.
var domain = []string{"internal/topology", "internal/mim", "internal/ad", "internal/pam", "internal/fci"}

// graph maps each package of the module (without the module prefix) to its
// non-test dependencies, as `go list -deps` reports them.
func graph(t *testing.T) map[string][]string {
	t.Helper()
	cmd := exec.Command("go", "list", "-f", `{{.ImportPath}}{{range .Deps}} {{.}}{{end}}`, module+"/...")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, stderr.String())
	}
	g := map[string][]string{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 0 {
			continue
		}
		g[rel(f[0])] = f[1:]
	}
	if len(g) < 10 {
		t.Fatalf("go list found %d packages; want the whole module", len(g))
	}
	return g
}

func rel(p string) string {
	if p == module {
		return "."
	}
	return strings.TrimPrefix(p, module+"/")
}

func under(pkg, room string) bool { return pkg == room || strings.HasPrefix(pkg, room+"/") }

func inAny(pkg string, rooms []string) bool {
	for _, r := range rooms {
		if under(pkg, r) {
			return true
		}
	}
	return false
}

// violations lists "pkg imports dep" for every package matching from whose
// dependencies include one for which bad is true.
func violations(g map[string][]string, from func(string) bool, bad func(string) bool) []string {
	var out []string
	for pkg, deps := range g {
		if !from(pkg) {
			continue
		}
		for _, d := range deps {
			if bad(d) {
				out = append(out, pkg+" depends on "+rel(d))
			}
		}
	}
	sort.Strings(out)
	return out
}

func TestImportRules(t *testing.T) {
	g := graph(t)
	// bench is `make bench`'s harness: like the tests it drives the lab, and
	// nothing in the provider binary imports it.
	production := func(p string) bool {
		return !under(p, "internal/lab") && !under(p, "internal/testsupport") && !under(p, "bench")
	}
	for _, rule := range []struct {
		name string
		from func(string) bool
		bad  func(string) bool
	}{
		{
			"adapters, vocabulary and domain packages import no terraform-plugin-*",
			func(p string) bool { return inAny(p, plainGo) },
			func(d string) bool { return strings.HasPrefix(d, "github.com/hashicorp/terraform-plugin-") },
		},
		{
			"domain packages and adapters never import the provider",
			func(p string) bool { return inAny(p, plainGo) || inAny(p, domain) },
			func(d string) bool { return under(rel(d), "internal/provider") },
		},
		{
			"production code never imports the lab, test support or the bench harness",
			production,
			func(d string) bool {
				return under(rel(d), "internal/lab") || under(rel(d), "internal/testsupport") || under(rel(d), "bench")
			},
		},
		{
			"adapters never import a domain package",
			func(p string) bool {
				return inAny(p, []string{"internal/directory", "internal/sqlserver", "internal/winrmexec", "internal/transport", "internal/sharedread", "internal/adnames"})
			},
			func(d string) bool { return inAny(rel(d), domain) },
		},
	} {
		t.Run(rule.name, func(t *testing.T) {
			for _, v := range violations(g, rule.from, rule.bad) {
				t.Error(v)
			}
		})
	}
}

// The rules must be able to fail: a made-up graph that breaks each one is caught.
func TestImportRulesCatch(t *testing.T) {
	g := map[string][]string{
		"internal/pam":       {"github.com/hashicorp/terraform-plugin-framework/diag", module + "/internal/provider"},
		"internal/provider":  {module + "/internal/lab/model"},
		"internal/lab/model": {module + "/internal/provider"},
	}
	tf := violations(g, func(p string) bool { return inAny(p, plainGo) }, func(d string) bool {
		return strings.HasPrefix(d, "github.com/hashicorp/terraform-plugin-")
	})
	lab := violations(g, func(p string) bool { return !under(p, "internal/lab") }, func(d string) bool { return under(rel(d), "internal/lab") })
	if len(tf) != 1 || len(lab) != 1 || lab[0] != "internal/provider depends on internal/lab/model" {
		t.Fatalf("violations: terraform %v, lab %v", tf, lab)
	}
}
