package lab_test

import (
	"errors"
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/bastion-pam/terraform-provider-bastion"

// forbidden are the provider's adapters, domain packages and the provider
// itself: the lab answers from its model and Microsoft's documentation,
// never from the code it tests.
var forbidden = []string{
	"internal/sqlserver", "internal/directory", "internal/winrmexec", "internal/mim", "internal/provider",
	"internal/ad", "internal/pam", "internal/fci",
}

// TestLabImportsNoAdapter runs `go list -deps` on every package under
// internal/lab (tests included) and fails if any depends on a forbidden package.
func TestLabImportsNoAdapter(t *testing.T) {
	pkgs := goList(t, "-f", "{{.ImportPath}}", module+"/internal/lab/...")
	if len(pkgs) < 5 {
		t.Fatalf("go list found %d lab packages: %v", len(pkgs), pkgs)
	}
	for _, pkg := range pkgs {
		deps := goList(t, "-deps", "-test", "-f", "{{.ImportPath}}", pkg)
		for _, d := range deps {
			if bad := forbiddenDep(d); bad != "" {
				t.Errorf("%s depends on %s", strings.TrimPrefix(pkg, module+"/"), bad)
			}
		}
	}
}

// forbiddenDep returns the forbidden package d is (or is under), or "".
// A test variant "p [q.test]" counts as p.
func forbiddenDep(d string) string {
	d, _, _ = strings.Cut(d, " ")
	d = strings.TrimSuffix(d, ".test")
	rel := strings.TrimPrefix(d, module+"/")
	if rel == d {
		return ""
	}
	for _, f := range forbidden {
		if rel == f || strings.HasPrefix(rel, f+"/") {
			return f
		}
	}
	return ""
}

func TestForbiddenDepCatches(t *testing.T) {
	for d, want := range map[string]string{
		module + "/internal/sqlserver":                                   "internal/sqlserver",
		module + "/internal/ad":                                          "internal/ad",
		module + "/internal/adnames":                                     "",
		module + "/internal/provider/validators [" + module + "/x.test]": "internal/provider",
		"github.com/microsoft/go-mssqldb":                                "",
		module + "/internal/lab/tdssim":                                  "",
	} {
		if got := forbiddenDep(d); got != want {
			t.Errorf("forbiddenDep(%q) = %q, want %q", d, got, want)
		}
	}
}

func goList(t *testing.T, args ...string) []string {
	t.Helper()
	out, err := exec.Command("go", append([]string{"list"}, args...)...).Output()
	if err != nil {
		msg := ""
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			msg = string(ee.Stderr)
		}
		t.Fatalf("go list %v: %v\n%s", args, err, msg)
	}
	return strings.Fields(string(out))
}
