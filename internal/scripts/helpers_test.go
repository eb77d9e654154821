package scripts_test

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/bastion-pam/terraform-provider-bastion/internal/scripts"
	"github.com/bastion-pam/terraform-provider-bastion/internal/testsupport/pscheck"
)

// embedded returns the bootstrap and every runnable script: whatever *.ps1
// is in this folder, so a script added later is checked without a test edit.
func embedded() []scripts.Script {
	return append([]scripts.Script{scripts.Bootstrap()}, scripts.All()...)
}

// fixture is a deliberately broken script from testdata/broken. Its first
// comment lines say what must catch it: "# expect: <check>" and, for a
// bootstrap variant, "# role: bootstrap".
type fixture struct {
	File   string
	Text   string
	Expect string
	Role   pscheck.Role
}

func fixtures(t *testing.T) []fixture {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join("testdata", "broken"))
	if err != nil {
		t.Fatal(err)
	}
	var out []fixture
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".ps1") {
			continue
		}
		b, err := os.ReadFile(filepath.Join("testdata", "broken", e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		f := fixture{File: e.Name(), Text: string(b), Role: pscheck.RoleScript}
		var base bool
		var edits [][2]string // {line, replacement}; no replacement drops the line
		for _, line := range strings.Split(f.Text, "\n") {
			if !strings.HasPrefix(line, "#") {
				break
			}
			if v, ok := strings.CutPrefix(line, "# expect: "); ok {
				f.Expect = strings.TrimSpace(v)
			}
			if v, ok := strings.CutPrefix(line, "# role: "); ok && strings.TrimSpace(v) == "bootstrap" {
				f.Role = pscheck.RoleBootstrap
			}
			base = base || strings.HasPrefix(line, "# base: bootstrap")
			if v, ok := strings.CutPrefix(line, "# drop: "); ok {
				edits = append(edits, [2]string{strings.TrimSpace(v), ""})
			}
			if v, ok := strings.CutPrefix(line, "# replace: "); ok {
				old, repl, _ := strings.Cut(v, " => ")
				edits = append(edits, [2]string{strings.TrimSpace(old), strings.TrimSpace(repl)})
			}
		}
		if base {
			f.Text += edited(t, f.File, scripts.Bootstrap().Text, edits)
		}
		out = append(out, f)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].File < out[j].File })
	return out
}

// edited applies a fixture's edits to the real script it is based on, so a
// broken variant differs from the real one only where its header says. Each
// edit must match exactly one line (compared without its indentation).
func edited(t *testing.T, file, text string, edits [][2]string) string {
	t.Helper()
	lines := strings.Split(text, "\n")
	for _, e := range edits {
		at := -1
		for i, l := range lines {
			if strings.TrimSpace(l) == e[0] {
				if at >= 0 {
					t.Fatalf("%s: the edit of %q matches more than one line of the bootstrap", file, e[0])
				}
				at = i
			}
		}
		if at < 0 {
			t.Fatalf("%s: the edit of %q matches no line of the bootstrap", file, e[0])
		}
		if e[1] == "" {
			lines = append(lines[:at], lines[at+1:]...)
			continue
		}
		indent := lines[at][:len(lines[at])-len(strings.TrimLeft(lines[at], " \t"))]
		lines[at] = indent + e[1]
	}
	return strings.Join(lines, "\n")
}

var (
	parseOnce sync.Once
	parsed    map[string]*pscheck.Summary
	parseErr  error
)

// summaries parses every embedded script and every fixture with one run of
// the parser, keyed by file name ("mim_read.ps1", "broken/x.ps1").
func summaries(t *testing.T) map[string]*pscheck.Summary {
	t.Helper()
	pscheck.Require(t)
	parseOnce.Do(func() {
		var sources []pscheck.Source
		for _, s := range embedded() {
			sources = append(sources, pscheck.Source{Name: s.Name + ".ps1", Text: s.Text})
		}
		for _, f := range fixtures(t) {
			sources = append(sources, pscheck.Source{Name: "broken/" + f.File, Text: f.Text})
		}
		var out []*pscheck.Summary
		out, parseErr = pscheck.Parse(sources...)
		if parseErr != nil {
			return
		}
		parsed = map[string]*pscheck.Summary{}
		for i, s := range sources {
			parsed[s.Name] = out[i]
		}
	})
	if parseErr != nil {
		t.Fatal(parseErr)
	}
	return parsed
}

// eachScript runs fn for the bootstrap and every embedded script.
func eachScript(t *testing.T, fn func(t *testing.T, s scripts.Script, sum *pscheck.Summary, role pscheck.Role)) {
	t.Helper()
	sums := summaries(t)
	for _, s := range embedded() {
		t.Run(s.Name, func(t *testing.T) {
			fn(t, s, sums[s.Name+".ps1"], pscheck.RoleOf(s.Name))
		})
	}
}

func report(t *testing.T, f pscheck.Findings) {
	t.Helper()
	if len(f) > 0 {
		t.Errorf("%d finding(s):\n%s", len(f), f)
	}
}
