package scripts_test

import (
	"os"
	"sort"
	"strings"
	"testing"

	"github.com/bastion-pam/terraform-provider-bastion/internal/scripts"
	"github.com/bastion-pam/terraform-provider-bastion/internal/testsupport/pscheck"
)

// Every script, the bootstrap included, parses with the tree-sitter
// PowerShell grammar without an ERROR or MISSING node.
func TestGrammarParsesEveryScript(t *testing.T) {
	eachScript(t, func(t *testing.T, s scripts.Script, sum *pscheck.Summary, _ pscheck.Role) {
		report(t, pscheck.CheckGrammarErrors(sum))
		if len(sum.Commands) == 0 {
			t.Errorf("the parse of %s.ps1 found no command at all: the parser is not looking at the script", s.Name)
		}
	})
}

// The checks see every .ps1 beside scripts.go: go:embed skips files whose
// names start with . or _, which would run unchecked (and unembedded).
func TestEveryScriptFileIsEmbedded(t *testing.T) {
	entries, err := os.ReadDir(".")
	if err != nil {
		t.Fatal(err)
	}
	var onDisk, inBinary []string
	for _, e := range entries {
		if !e.IsDir() && strings.HasSuffix(e.Name(), ".ps1") {
			onDisk = append(onDisk, strings.TrimSuffix(e.Name(), ".ps1"))
		}
	}
	for _, s := range embedded() {
		inBinary = append(inBinary, s.Name)
		b, err := os.ReadFile(s.Name + ".ps1")
		if x, xerr := scripts.Expand(string(b)); err != nil || xerr != nil || x != s.Text {
			t.Errorf("%s.ps1 on disk differs from the embedded text", s.Name)
		}
	}
	sort.Strings(onDisk)
	sort.Strings(inBinary)
	if strings.Join(onDisk, ",") != strings.Join(inBinary, ",") {
		t.Errorf("scripts on disk %v, embedded %v", onDisk, inBinary)
	}
}
