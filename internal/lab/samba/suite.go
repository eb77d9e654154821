package samba

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// Suite shares one lab among the tests of a test binary (internal/directory,
// internal/provider): the first test that asks for it brings it up, and the
// binary's TestMain calls Close after m.Run to take it down and check that
// nothing is left. Binaries in which no test asks never touch the machine, and
// binaries of different packages take turns (see "One lab at a time").
type Suite struct {
	// Name says whose lab it is in Report's lines (e.g. "internal/directory").
	Name string

	once     sync.Once
	lab      *Lab
	stateDir string
	attached bool // to a lab started outside the binary ($BASTION_SAMBA_LAB): left up
	skip     string
	err      error
	// UpTime is how long Up took (waiting for another binary's lab included).
	UpTime time.Duration
}

// Lab returns the shared lab, bringing it up on the first call. It skips t when
// the lab cannot run here (not root: the message says how to run the suite) and
// fails t when Up failed.
//
// Another test binary's lab makes Up wait (one lab per machine). The wait ends
// a few minutes before this binary's -timeout, with a failure that says so:
// better than the timeout's panic, which leaves the binary no chance to clean up.
func (s *Suite) Lab(t testing.TB) *Lab {
	t.Helper()
	s.once.Do(func() { s.up(t) })
	if s.skip != "" {
		t.Skip(s.skip)
	}
	if s.err != nil {
		t.Fatalf("samba lab: %v", s.err)
	}
	return s.lab
}

// AttachEnv names the state directory of a lab already up (`samba-lab.sh up DIR`)
// for a Suite to use instead of building its own: quicker while writing tests.
// That lab is left up; tests that change it (join, demote, FSMO transfers) put
// it back as they found it when they pass.
const AttachEnv = "BASTION_SAMBA_LAB"

// teardownMargin is left, before the test binary's deadline, for the tests
// that use the lab and for its teardown.
const teardownMargin = 4 * time.Minute

func (s *Suite) up(t testing.TB) {
	if err := Available(); err != nil {
		s.skip = err.Error()
		return
	}
	if dir := os.Getenv(AttachEnv); dir != "" {
		s.lab, s.err = Load(dir)
		s.attached = true
		return
	}
	// Not created here: samba-lab.sh creates it once the lab is ours, so a binary
	// killed while it waits leaves no empty directory behind.
	s.stateDir = filepath.Join(os.TempDir(), fmt.Sprintf("bastion-samba-lab-%d-%d", os.Getpid(), time.Now().UnixNano()))
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	if d, ok := t.(interface{ Deadline() (time.Time, bool) }); ok {
		if deadline, set := d.Deadline(); set {
			var c2 context.CancelFunc
			ctx, c2 = context.WithDeadline(ctx, deadline.Add(-teardownMargin))
			defer c2()
		}
	}
	start := time.Now()
	s.lab, s.err = Up(ctx, s.stateDir)
	s.UpTime = time.Since(start)
	if s.err != nil && ctx.Err() != nil {
		s.err = fmt.Errorf("not up %s before this test binary's -timeout (another binary's lab may have held it; rerun alone or with a longer -timeout): %w",
			teardownMargin, s.err)
		return
	}
	if s.err == nil {
		from := "system packages"
		if s.lab.SambaRoot != "" {
			from = "root " + s.lab.SambaRoot
		}
		Report("samba lab [%s]: up in %s (Samba %s from %s, functional level %s)", s.Name, s.UpTime.Round(time.Millisecond), s.lab.SambaVersion, from, s.lab.FunctionalLevel)
	}
}

// Close takes the lab down, if a test brought it up, and returns an error naming
// anything left behind (processes, namespaces, the veth, mounts, files).
func (s *Suite) Close() error {
	if s.stateDir == "" || s.attached {
		return nil
	}
	if s.lab == nil { // Up failed: it tore down after itself
		if left := Leftovers(s.stateDir, "", nil); len(left) > 0 {
			return fmt.Errorf("samba lab: a failed up left behind: %s", strings.Join(left, "; "))
		}
		return nil
	}
	_ = s.lab.Reload()
	pids := []int{s.lab.Network.DnsmasqPID}
	for _, d := range s.lab.DCNamespaces() {
		pids = append(pids, d.PIDs...)
	}
	s.lab.mu.Lock()
	scriptPath := s.lab.scriptPath
	s.lab.mu.Unlock()
	start := time.Now()
	err := s.lab.Down(context.Background())
	if err != nil {
		return fmt.Errorf("samba lab: down: %w", err)
	}
	if left := Leftovers(s.stateDir, scriptPath, pids); len(left) > 0 {
		return fmt.Errorf("samba lab left behind: %s", strings.Join(left, "; "))
	}
	Report("samba lab [%s]: down in %s; teardown check passed: no process, namespace, veth, mount or file left", s.Name, time.Since(start).Round(time.Millisecond))
	return nil
}

// SummaryEnv names a file to which Report appends its lines. `go test` shows a
// passing package's output only with -v, so `make test` sets it and prints the
// file at the end: that is how the assertion counts and lab timings reach CI.
const SummaryEnv = "BASTION_TEST_SUMMARY"

var summaryMu sync.Mutex

// Report prints one line on standard output (seen with -v or when the package
// fails) and appends it to the file named by $BASTION_TEST_SUMMARY, if set.
func Report(format string, args ...any) {
	line := fmt.Sprintf(format, args...)
	fmt.Println(line)
	path := os.Getenv(SummaryEnv)
	if path == "" {
		return
	}
	summaryMu.Lock()
	defer summaryMu.Unlock()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", SummaryEnv, err)
		return
	}
	defer func() { _ = f.Close() }() // the append above is what is checked
	// One write per line: the packages' test binaries append concurrently.
	if _, err := f.WriteString(line + "\n"); err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", SummaryEnv, err)
	}
}
