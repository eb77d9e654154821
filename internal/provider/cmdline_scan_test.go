package provider

import (
	"fmt"
	"io"
	"sync"
	"testing"

	"github.com/bastion-pam/terraform-provider-bastion/internal/lab"
	"github.com/bastion-pam/terraform-provider-bastion/internal/lab/model"
	"github.com/bastion-pam/terraform-provider-bastion/internal/lab/samba"
)

// Every lab an acceptance test starts hands its process log and its
// secrets to suiteLabs when the test ends; TestMain scans them all once
// the suite is done (scanCommandLines). A secret is any password the lab
// knows or received: every account's, every one a demotion set, every
// password a script's input carried.
var suiteLabs struct {
	sync.Mutex
	labs, processes int
	leaks           []string
}

// watchLab registers l's end-of-test scan; call it right after starting l
// (before its Close cleanup runs, which this cleanup precedes).
func watchLab(t *testing.T, l *lab.Lab) {
	t.Helper()
	name := t.Name()
	t.Cleanup(func() {
		starts := l.Env.ProcessStarts()
		leaks := model.CommandLineLeaks(starts, l.Env.Secrets())
		suiteLabs.Lock()
		defer suiteLabs.Unlock()
		suiteLabs.labs++
		suiteLabs.processes += len(starts)
		for _, k := range leaks {
			suiteLabs.leaks = append(suiteLabs.leaks, fmt.Sprintf("%s: a secret of %d characters on the command line of a process on %s (as %q): %.120s...",
				name, len(k.Secret), k.Process.Host, k.Process.Account, k.Process.CommandLine))
		}
	})
}

// scanCommandLines reports, after the whole suite, every secret found on a
// process command line any lab recorded; false means the suite must fail.
func scanCommandLines(w io.Writer) bool {
	suiteLabs.Lock()
	defer suiteLabs.Unlock()
	if suiteLabs.labs == 0 {
		return true
	}
	if len(suiteLabs.leaks) == 0 {
		// A passing package's output is hidden by go test ./...: the line
		// also goes to make test's summary, where CI shows it.
		samba.Report("command-line secret scan: %d labs, %d process command lines, no secret on any", suiteLabs.labs, suiteLabs.processes)
		return true
	}
	_, _ = fmt.Fprintf(w, "--- FAIL: command-line secret scan: %d secrets on process command lines:\n", len(suiteLabs.leaks))
	for _, l := range suiteLabs.leaks {
		_, _ = fmt.Fprintln(w, "    "+l)
	}
	return false
}
