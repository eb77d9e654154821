package pscheck

import (
	"os"
	"testing"
)

// SkipEnv, set to 1, lets a developer without Node skip the parser-based
// checks outside CI. Under CI they always run.
const SkipEnv = "BASTION_SKIP_PSCHECK"

// Require makes the parser available for a test: it installs node_modules
// when missing (see EnsureInstalled) and otherwise fails the test, or skips
// it when BASTION_SKIP_PSCHECK=1 outside CI.
func Require(tb testing.TB) {
	tb.Helper()
	err := EnsureInstalled()
	if err == nil {
		return
	}
	if os.Getenv("CI") != "" {
		tb.Fatalf("%v\nUnder CI the PowerShell checks must run: run `make test` (it installs node_modules with npm ci).", err)
	}
	if os.Getenv(SkipEnv) == "1" {
		tb.Skipf("%v (skipped because %s=1)", err, SkipEnv)
	}
	tb.Fatalf("%v\nInstall Node.js >= 20 and run `make test` (or `npm ci --ignore-scripts` in internal/testsupport/pscheck), or set %s=1 to skip these checks locally.", err, SkipEnv)
}
