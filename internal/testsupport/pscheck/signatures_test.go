package pscheck

import (
	"regexp"
	"strings"
	"testing"
)

// The table is well formed: every row cites a Microsoft Learn page, names
// are unique, positional names exist, enums list their values.
func TestSignatureTableIsWellFormed(t *testing.T) {
	kinds := map[Kind]bool{KString: true, KStringArray: true, KSwitch: true, KSecureString: true, KCredential: true,
		KSecretString: true, KInt: true, KBool: true, KScriptBlock: true, KHashtable: true, KEnum: true, KObject: true, KObjectArray: true}
	seen := map[string]bool{}
	params := 0
	for _, s := range Table {
		key := strings.ToLower(s.Name)
		if seen[key] {
			t.Errorf("%s: duplicate row", s.Name)
		}
		seen[key] = true
		if !strings.HasPrefix(s.DocURL, "https://learn.microsoft.com/") {
			t.Errorf("%s: DocURL %q is not a Microsoft Learn page", s.Name, s.DocURL)
		}
		if s.Output == "" {
			t.Errorf("%s: no Output", s.Name)
		}
		if s.Kind == External && s.Program == "" {
			t.Errorf("%s: external row without Program", s.Name)
		}
		names := map[string]bool{}
		for _, p := range s.Params {
			params++
			for _, n := range append([]string{p.Name}, p.Aliases...) {
				if names[strings.ToLower(n)] {
					t.Errorf("%s: -%s listed twice", s.Name, n)
				}
				names[strings.ToLower(n)] = true
			}
			if !kinds[p.Kind] {
				t.Errorf("%s -%s: unknown kind %q", s.Name, p.Name, p.Kind)
			}
			if (p.Kind == KEnum) != (len(p.Values) > 0) {
				t.Errorf("%s -%s: Values go with KEnum only", s.Name, p.Name)
			}
			if p.Pattern != "" {
				if _, err := regexp.Compile(p.Pattern); err != nil {
					t.Errorf("%s -%s: %v", s.Name, p.Name, err)
				}
			}
			if p.DocURL != "" && !strings.HasPrefix(p.DocURL, "https://learn.microsoft.com/") {
				t.Errorf("%s -%s: DocURL %q", s.Name, p.Name, p.DocURL)
			}
		}
		if s.CommonParameters {
			for _, p := range CommonParams {
				if names[strings.ToLower(p.Name)] {
					t.Errorf("%s: -%s shadows a common parameter", s.Name, p.Name)
				}
			}
		}
		for _, pos := range s.Positional {
			if _, ok := s.FindParam(pos); !ok {
				t.Errorf("%s: positional %s is not a parameter", s.Name, pos)
			}
		}
	}
	t.Logf("%d rows, %d parameters/options (plus %d common parameters)", len(Table), params, len(CommonParams)+len(RiskParams))
}

// The rows the issue names are all there.
func TestSignatureTableCoversTheIssue(t *testing.T) {
	for _, name := range []string{
		"Install-ADDSDomainController", "Uninstall-ADDSDomainController", "Install-WindowsFeature",
		"New-PAMTrust", "Test-PAMTrust", "Remove-PAMTrust", "New-PAMDomainConfiguration",
		"Test-PAMDomainConfiguration", "Remove-PAMDomainConfiguration", "Get-Service", "Start-Service",
		"Stop-Service", "Restart-Service", "Get-ItemProperty", "Get-ChildItem", "Get-Item", "Test-Path",
		"Start-Process", "ConvertTo-SecureString", "New-Object", "ConvertTo-Json", "ConvertFrom-Json",
		"Set-StrictMode", "Import-Module",
	} {
		if _, ok := Lookup(name); !ok {
			t.Errorf("no row for %s", name)
		}
	}
	for _, prog := range []string{"msiexec.exe", `C:\SQLMedia\setup.exe`, "netdom"} {
		if len(LookupExternal(prog)) == 0 {
			t.Errorf("no row for %s", prog)
		}
	}
	if _, ok := Denied["get-addomaincontroller"]; !ok {
		t.Error("Get-ADDomainController must be denied: reads are LDAP")
	}
	tp, _ := Lookup("Test-PAMTrust")
	if _, ok := tp.FindParam("CorpCredentials"); !ok || !strings.Contains(tp.Note, "-Credentials") {
		t.Errorf("Test-PAMTrust must record -CorpCredentials and note the -Credentials discrepancy: %+v", tp)
	}
	if _, ok := tp.FindParam("Credentials"); ok {
		t.Error("Test-PAMTrust records the syntax block's names, not the example's -Credentials")
	}
}

func TestAcceptListFormat(t *testing.T) {
	line := regexp.MustCompile(`^[0-9a-f]{64}  [a-z0-9_]+\.ps1$`)
	lines := AcceptList()
	found := false
	for _, l := range lines {
		if !line.MatchString(l) {
			t.Errorf("line %q is not sha256sum output", l)
		}
		found = found || strings.HasSuffix(l, "  bootstrap.ps1")
	}
	if !found {
		t.Error("the list lacks bootstrap.ps1")
	}
}
