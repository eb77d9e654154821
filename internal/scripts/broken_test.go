package scripts_test

import (
	"testing"

	"github.com/bastion-pam/terraform-provider-bastion/internal/testsupport/pscheck"
)

// required are the fixtures the issue asks for, one per check that must be
// shown to fail; any other fixture in testdata/broken is checked the same way.
var required = map[string]string{
	"grammar_error.ps1":         pscheck.CheckGrammar,
	"unknown_parameter.ps1":     pscheck.CheckSignature,
	"securestring_literal.ps1":  pscheck.CheckSignature,
	"missing_strictmode.ps1":    pscheck.CheckPreamble,
	"stray_write_host.ps1":      pscheck.CheckStdout,
	"oversized_bootstrap.ps1":   pscheck.CheckCommandLine,
	"scriptblock_create.ps1":    pscheck.CheckForbidden,
	"template_placeholder.ps1":  pscheck.CheckPlaceholder,
	"bootstrap_error_reply.ps1": pscheck.CheckBootstrap,
}

// Each deliberately broken fixture is caught by the check its header names,
// and (except the grammar one, whose broken tree confuses the rest) by no
// other check: a fixture proves one check, not the noise of several.
func TestBrokenFixturesAreCaught(t *testing.T) {
	sums := summaries(t)
	seen := map[string]bool{}
	for _, f := range fixtures(t) {
		t.Run(f.File, func(t *testing.T) {
			seen[f.File] = true
			if f.Expect == "" {
				t.Fatal("the fixture has no '# expect: <check>' header line")
			}
			if want, ok := required[f.File]; ok && want != f.Expect {
				t.Fatalf("header says %q, the issue's list says %q", f.Expect, want)
			}
			findings := pscheck.CheckSummary(sums["broken/"+f.File], f.Text, f.Role)
			if f.Role == pscheck.RoleBootstrap {
				findings = append(findings, pscheck.CheckCommandLineText(f.File, pscheck.CommandLineFor(f.Text))...)
			}
			if len(findings.Of(f.Expect)) == 0 {
				t.Fatalf("the %s check did not catch %s; all findings:\n%s", f.Expect, f.File, findings)
			}
			t.Logf("caught:\n%s", findings.Of(f.Expect))
			if f.Expect != pscheck.CheckGrammar {
				var other pscheck.Findings
				for _, x := range findings {
					if x.Check != f.Expect {
						other = append(other, x)
					}
				}
				if len(other) > 0 {
					t.Errorf("the fixture should break only the %s check; also:\n%s", f.Expect, other)
				}
			}
		})
	}
	for file := range required {
		if !seen[file] {
			t.Errorf("required fixture testdata/broken/%s is missing", file)
		}
	}
}
