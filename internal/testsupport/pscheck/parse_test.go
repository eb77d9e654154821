package pscheck

import (
	"encoding/json"
	"os/exec"
	"path/filepath"
	"testing"
)

// parse.mjs reports each parameter with the kind of the argument after it.
func TestSummaryKinds(t *testing.T) {
	Require(t)
	s, err := ParseText("kinds.ps1", `Invoke-Thing -A 'lit' -B "x$y" -C "plain" -D $v -E $true -F @(1) -G $(Get-Date) -H ([string]$w) -I { 1 } -J @{ k = 1 } -K 5 -L 'a','b' -M -N:$false -O bare -P $o.Prop -Q $list.ToArray() @splat positional`)
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Errors) > 0 {
		t.Fatalf("grammar errors: %+v", s.Errors)
	}
	if len(s.Commands) != 2 { // Invoke-Thing and Get-Date
		t.Fatalf("commands: %+v", s.Commands)
	}
	c := s.Commands[0]
	if c.Name != "Invoke-Thing" {
		c = s.Commands[1]
	}
	want := map[string]string{
		"A": ArgString, "B": ArgExpandableString, "C": ArgExpandableString, "D": ArgVariable, "E": ArgBool,
		"F": ArgArraySubexpression, "G": ArgSubexpression, "H": ArgParenthesized, "I": ArgScriptBlock,
		"J": ArgHashtable, "K": ArgInt, "L": ArgArray, "M": ArgNone, "N": ArgBool, "O": ArgBareword,
		"P": ArgMember, "Q": ArgInvocation,
	}
	got := map[string]string{}
	for _, u := range c.Parameters {
		k := ArgNone
		if u.Value != nil {
			k = u.Value.Kind
		}
		got[u.Name] = k
	}
	for name, kind := range want {
		if got[name] != kind {
			t.Errorf("-%s: kind %q, want %q", name, got[name], kind)
		}
	}
	for _, u := range c.Parameters {
		if u.Name == "N" && !u.Attached {
			t.Error("-N:$false not marked attached")
		}
		if u.Name == "B" && (u.Value == nil || !u.Value.Interpolated) {
			t.Error(`"x$y" not marked interpolated`)
		}
		if u.Name == "C" && (u.Value == nil || u.Value.Value == nil || *u.Value.Value != "plain") {
			t.Error(`"plain" value not reported`)
		}
	}
	if len(c.Splats) != 1 || c.Splats[0].Name != "splat" {
		t.Errorf("splats: %+v", c.Splats)
	}
	if len(c.Positionals) != 1 || c.Positionals[0].Kind != ArgBareword {
		t.Errorf("positionals: %+v", c.Positionals)
	}
}

// The command-line form prints one summary object for one file.
func TestParseCommandLine(t *testing.T) {
	Require(t)
	dir, err := Dir()
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("node", filepath.Join(dir, "parse.mjs"), filepath.Join(dir, "..", "..", "scripts", "bootstrap.ps1")).Output()
	if err != nil {
		t.Fatal(err)
	}
	var s Summary
	if err := json.Unmarshal(out, &s); err != nil {
		t.Fatal(err)
	}
	if s.Name != "bootstrap.ps1" || len(s.Commands) == 0 || len(s.Errors) != 0 {
		t.Fatalf("summary: name %q, %d commands, %d errors", s.Name, len(s.Commands), len(s.Errors))
	}
}

// A grammar error is reported with its position.
func TestGrammarErrorPosition(t *testing.T) {
	Require(t)
	s, err := ParseText("bad.ps1", "$a = 1\nif (($a -eq 1) {\n  $a\n}\n")
	if err != nil {
		t.Fatal(err)
	}
	f := CheckGrammarErrors(s)
	if len(f) == 0 || f[0].Pos.Line != 2 {
		t.Fatalf("findings: %s", f)
	}
}
