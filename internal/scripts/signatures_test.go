package scripts_test

import (
	"testing"

	"github.com/bastion-pam/terraform-provider-bastion/internal/scripts"
	"github.com/bastion-pam/terraform-provider-bastion/internal/testsupport/pscheck"
)

// Every command a script calls has a row in pscheck.Table (or is a function
// the script defines), every parameter is documented in that row, and every
// value is of an acceptable kind: no string literal where a SecureString or
// PSCredential is required, no string where a switch or bool is.
func TestEveryCommandMatchesTheSignatureTable(t *testing.T) {
	eachScript(t, func(t *testing.T, _ scripts.Script, sum *pscheck.Summary, role pscheck.Role) {
		report(t, pscheck.CheckSignatures(sum, role))
	})
}

// No script but the bootstrap builds code from text: no Invoke-Expression or
// iex, no Add-Type with source, no [ScriptBlock]::Create, no nested
// powershell.exe, and no exit (which would end the bootstrap's process).
func TestNoCodeFromStrings(t *testing.T) {
	eachScript(t, func(t *testing.T, _ scripts.Script, sum *pscheck.Summary, role pscheck.Role) {
		report(t, pscheck.CheckDynamicCode(sum, role))
	})
}
