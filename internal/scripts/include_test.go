package scripts

import (
	"strings"
	"testing"
)

func TestExpand(t *testing.T) {
	got, err := Expand("param($Params)\r\n# include: pam_trust\r\n$x = 1\n")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(got, "param($Params)\r\n# Shared by the PAM trust scripts") || !strings.Contains(got, "$password = [string]$Params.corp_password\n") || !strings.HasSuffix(got, "}\n$x = 1\n") {
		t.Errorf("expanded:\n%s", got)
	}
	if _, err := Expand("# include: nothing\n"); err == nil || !strings.Contains(err.Error(), `"nothing"`) {
		t.Errorf("unknown include: %v", err)
	}
	if got, _ := Expand("#  include: pam\n"); got != "#  include: pam\n" {
		t.Errorf("a line that is not exactly the marker changed: %q", got)
	}
	// Every PAM script carries the shared text once and no marker is left.
	for _, s := range All() {
		if strings.Contains(s.Text, includeMarker) {
			t.Errorf("%s: an include marker was left unexpanded", s.Name)
		}
		if strings.HasPrefix(s.Name, "pam_") && strings.Count(s.Text, "function Get-MIMPAMModulePath") != 1 {
			t.Errorf("%s: Get-MIMPAMModulePath defined %d times", s.Name, strings.Count(s.Text, "function Get-MIMPAMModulePath"))
		}
	}
}
