package scripts_test

import (
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/bastion-pam/terraform-provider-bastion/internal/lab/winrmsim"
)

// The simulated bastion accepts exactly the embedded scripts, bootstrap
// included, byte for byte (by SHA-256), so the lab never runs a script the
// provider does not ship nor misses one it does.
func TestLabAcceptsExactlyTheEmbeddedScripts(t *testing.T) {
	want := map[string]string{}
	for _, s := range embedded() {
		want[s.Name] = s.SHA256
	}
	got := winrmsim.AcceptedScripts()
	names := map[string]bool{}
	for n := range want {
		names[n] = true
	}
	for n := range got {
		names[n] = true
	}
	sorted := slices.Sorted(maps.Keys(names))
	var problems []string
	for _, n := range sorted {
		w, inCatalogue := want[n]
		g, inLab := got[n]
		switch {
		case !inLab:
			problems = append(problems, n+".ps1 is embedded but the lab does not accept it")
		case !inCatalogue:
			problems = append(problems, n+".ps1 is accepted by the lab but not embedded")
		case !strings.EqualFold(w, g):
			problems = append(problems, n+".ps1 differs: embedded sha256 "+w+", the lab accepts "+g)
		}
	}
	if len(problems) > 0 {
		t.Errorf("internal/lab/winrmsim/accepted_scripts.sha256 is out of step with the scripts:\n  %s\nreview the script changes, then regenerate it with\n  go run ./internal/testsupport/pscheck/cmd/acceptlist > internal/lab/winrmsim/accepted_scripts.sha256",
			strings.Join(problems, "\n  "))
	}
}
