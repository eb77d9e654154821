package pscheck

import (
	"strings"
	"testing"
)

const preamble = "param([Parameter(Mandatory = $true)] $Params)\nSet-StrictMode -Version Latest\n$ErrorActionPreference = 'Stop'\n"

// Each case is a small script (after the standard preamble) and the finding
// it must produce, or none: the checks discriminate both ways.
func TestChecksOnSnippets(t *testing.T) {
	Require(t)
	cases := []struct {
		name  string
		body  string
		check string // "" = no finding at all
		want  string // substring of the finding's message
	}{
		{"clean result", "$svc = Get-Service -Name 'FIMService'\n[ordered]@{ status = [string]$svc.Status }", "", ""},
		{"switch value not attached is positional", "$null = Stop-Service -Name 'x' -Force $true", CheckSignature, "positional argument $true"},
		{"switch attached bool", "$null = Stop-Service -Name 'x' -Force:$true", "", ""},
		{"switch attached string", "$null = Stop-Service -Name 'x' -Force:'false'", CheckSignature, "even 'false'"},
		{"abbreviated parameter", "$null = Get-Service -Na 'x'", CheckSignature, "abbreviates -Name"},
		{"alias", "$null = gci -LiteralPath 'C:\\'", CheckSignature, "alias of Get-ChildItem"},
		{"unknown command", "$null = Get-ADDomainController -Filter *", CheckSignature, "LDAP"},
		{"powershell 7 parameter", "$x = ConvertFrom-Json -InputObject '{}' -AsHashtable", CheckSignature, "no parameter -AsHashtable"},
		{"secret literal", "$s = ConvertTo-SecureString -String 'hunter2' -AsPlainText -Force", CheckSignature, "secrets must come from $Params"},
		{"secret from params", "$s = ConvertTo-SecureString -String ([string]$Params.password) -AsPlainText -Force", "", ""},
		{"credential string", "$null = Remove-PAMTrust -SourceForest 'corp' -Credentials 'CORP\\admin'", CheckSignature, "prompt for the password"},
		{"credential built from params", "$pw = ConvertTo-SecureString -String ([string]$Params.pw) -AsPlainText -Force\n$c = New-Object -TypeName System.Management.Automation.PSCredential -ArgumentList ([string]$Params.user), $pw\n$null = Remove-PAMTrust -SourceForest ([string]$Params.corp) -Credentials $c", "", ""},
		{"test-pamtrust syntax name", "$c = $Params.c\n$ok = Test-PAMTrust -SourceForest 'corp.contoso.com' -CorpCredentials $c", "", ""},
		{"test-pamtrust example name", "$c = $Params.c\n$ok = Test-PAMTrust -SourceForest 'corp.contoso.com' -Credentials $c", CheckSignature, "no parameter -Credentials"},
		{"enum value", "$x = Test-Path -LiteralPath 'C:\\x' -PathType Directory", CheckSignature, "not one of Any, Container, Leaf"},
		{"inquire prompts", "$x = Get-Service -Name 'x' -ErrorAction Inquire", CheckSignature, "not one of"},
		{"splat checked", "$p = @{ DomainName = 'corp.contoso.com'; SafeModeAdministratorPassword = 'x' }\n$null = Install-ADDSDomainController @p -Force", CheckSignature, "takes SecureString"},
		{"splat key added later", "$p = @{ DomainName = 'corp.contoso.com' }\n$p['Bogus'] = 1\n$null = Install-ADDSDomainController @p -Force", CheckSignature, "passes Bogus"},
		{"splat unresolvable", "$null = Install-ADDSDomainController @Params", CheckSignature, "no hashtable literal"},
		{"msiexec option", "$null = Start-Process -FilePath 'msiexec.exe' -ArgumentList @('/i', 'x.msi', '/qn', '/l*v', 'log.txt', '/norestart') -Wait", "", ""},
		{"msiexec bad option", "$null = Start-Process -FilePath 'msiexec.exe' -ArgumentList @('/i', 'x.msi', '/silent') -Wait", CheckSignature, "no option /silent"},
		{"unknown program", "$null = Start-Process -FilePath 'cmd.exe' -ArgumentList @('/c', 'dir') -Wait", CheckSignature, "no row in the signature table"},
		{"setup options", "$pw = [string]$Params.pw\n# pscheck: program=setup\n$out = & $setup /ACTION=AddNode /Q /IACCEPTSQLSERVERLICENSETERMS \"/SQLSVCPASSWORD=$pw\" /CONFIRMIPDEPENDENCYCHANGE=0", "", ""},
		{"setup unannotated", "$out = & $setup /ACTION=AddNode /Q", CheckSignature, "dynamic command"},
		{"setup literal password", "# pscheck: program=setup\n$out = & $setup /ACTION=AddNode /SQLSVCPASSWORD=abc", CheckSignature, "is a secret"},
		{"netdom", "$out = & netdom trust $corp /domain:$priv /enablepimtrust:yes /quarantine:no /usero:$u /passwordo:$p 2>&1", "", ""},
		{"netdom unknown subcommand", "$out = netdom join $corp /domain:$priv", CheckSignature, "sub-command"},
		{"netdom prompt", "$out = netdom trust $corp /domain:$priv /passwordo:*", CheckSignature, "no console"},
		{"list add is void", "$l = New-Object -TypeName 'System.Collections.Generic.List[string]'\n$l.Add('a')\n[ordered]@{ n = $l.Count }", "", ""},
		{"arraylist add emits", "$l = New-Object -TypeName System.Collections.ArrayList\n$l.Add('a')\n[ordered]@{ n = $l.Count }", CheckStdout, "joins the script's result"},
		{"stringbuilder append emits", "$b = New-Object -TypeName System.Text.StringBuilder\n$b.Append('a')\n[ordered]@{ s = $b.ToString() }", CheckStdout, "joins"},
		{"void cast", "$b = New-Object -TypeName System.Text.StringBuilder\n[void]$b.Append('a')\n[ordered]@{ s = $b.ToString() }", "", ""},
		{"out-null", "Get-Service -Name 'x' | Out-Null\n[ordered]@{}", "", ""},
		{"redirect to null", "Get-Service -Name 'x' > $null\n[ordered]@{}", "", ""},
		{"stderr redirect still emits", "Get-Service -Name 'x' 2> $null\n[ordered]@{}", CheckStdout, "joins"},
		{"native output emits", "netdom trust $c /domain:$d /verify\n[ordered]@{}", CheckStdout, "joins"},
		{"loop body emits", "foreach ($n in @('a')) { Get-Service -Name $n }\n[ordered]@{}", CheckStdout, "joins"},
		{"last if branches are results", "if ($Params.x) { [ordered]@{ a = 1 } } else { [ordered]@{ a = 2 } }", "", ""},
		{"early return", "if ($Params.x) { return [ordered]@{ a = 1 } }\n[ordered]@{ a = 2 }", "", ""},
		{"finally is no result", "try { [ordered]@{ a = 1 } } finally { Get-Service -Name 'x' }", CheckStdout, "joins"},
		{"function intermediate output", "function Get-X {\n    param([string] $Name)\n    Get-Service -Name $Name\n    'done'\n}\n$x = Get-X -Name 'a'\n[ordered]@{ x = $x }", CheckStdout, "function's result"},
		{"function call emits", "function Get-X {\n    param([string] $Name)\n    'done'\n}\nGet-X -Name 'a'\n[ordered]@{}", CheckStdout, "joins"},
		{"function parameters checked", "function Get-X {\n    param([string] $Name)\n    'done'\n}\n$x = Get-X -Nome 'a'\n[ordered]@{}", CheckSignature, "no parameter -Nome"},
		{"increment is silent", "$i = 0\n$i++\n[ordered]@{ i = $i }", "", ""},
		{"console write", "[Console]::Out.Write('x')\n[ordered]@{}", CheckStdout, "direct console write"},
		{"write-output mid script", "Write-Output 'x'\n[ordered]@{}", CheckStdout, "joins"},
		{"echo", "$x = 1\necho $x\n[ordered]@{}", CheckStdout, "Write-Output"},
		{"add-type source", "Add-Type -TypeDefinition 'public class X {}'\n[ordered]@{}", CheckForbidden, "compiles source"},
		{"expandstring", "$v = $ExecutionContext.InvokeCommand.ExpandString([string]$Params.t)\n[ordered]@{ v = $v }", CheckForbidden, "ExpandString"},
		{"environment exit", "[Environment]::Exit(1)", CheckForbidden, "Environment"},
		{"nested powershell", "$o = powershell.exe -NoProfile -EncodedCommand $e\n[ordered]@{}", CheckForbidden, "nested"},
		{"strict mode relaxed later", "Set-StrictMode -Off\n[ordered]@{}", CheckPreamble, "must stay"},
		{"error action relaxed later", "$ErrorActionPreference = 'Continue'\n[ordered]@{}", CheckPreamble, "must stay 'Stop'"},
		{"go format verb", "$x = 'value: %v'\n[ordered]@{ x = $x }", CheckPlaceholder, "%v"},
	}
	// One parser run for all cases; CheckScript then finds them in the cache.
	var sources []Source
	for _, tc := range cases {
		sources = append(sources, Source{Name: "snippet.ps1", Text: preamble + tc.body + "\n"})
	}
	if _, err := Parse(sources...); err != nil {
		t.Fatal(err)
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f, err := CheckScript("snippet.ps1", preamble+tc.body+"\n", RoleScript)
			if err != nil {
				t.Fatal(err)
			}
			if tc.check == "" {
				if len(f) > 0 {
					t.Fatalf("want no finding, got:\n%s", f)
				}
				return
			}
			for _, x := range f.Of(tc.check) {
				if strings.Contains(x.Message, tc.want) {
					return
				}
			}
			t.Fatalf("want a %s finding containing %q, got:\n%s", tc.check, tc.want, f)
		})
	}
}

func TestCommandLineText(t *testing.T) {
	ok := CommandLineFor("Set-StrictMode -Version Latest\n")
	if f := CheckCommandLineText("ok", ok); len(f) > 0 {
		t.Fatalf("a short bootstrap's command line: %s", f)
	}
	cases := map[string]string{
		"powershell.exe -NoProfile -EncodedCommand QQA=":                            "-noninteractive",
		"powershell.exe -NoProfile -NonInteractive -Command Get-Date":               "-Command puts script text",
		"cmd.exe /c powershell.exe -NoProfile -NonInteractive -EncodedCommand QQA=": "must start with powershell.exe",
		"powershell.exe -NoProfile -NonInteractive -EncodedCommand QQA= -Extra":     "must end with -EncodedCommand",
		CommandLineFor(strings.Repeat("# padding\n", 400)):                          "over cmd.exe's 8191",
	}
	for cl, want := range cases {
		f := CheckCommandLineText("cl", cl)
		found := false
		for _, x := range f {
			found = found || strings.Contains(x.Message, want)
		}
		if !found {
			t.Errorf("%.60s...: want %q, got %s", cl, want, f)
		}
	}
}

func TestPlaceholdersIgnorePowerShellFormatting(t *testing.T) {
	for _, text := range []string{"'{0} of {1}' -f $a, $b", "@{ a = @{ b = 1 }}", "$x % 2", "'100%'"} {
		if f := CheckPlaceholders("x.ps1", text); len(f) > 0 {
			t.Errorf("%q: %s", text, f)
		}
	}
}
