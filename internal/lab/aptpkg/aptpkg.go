// Package aptpkg installs the Debian packages a test needs (Samba, OpenLDAP's
// ldapsearch, FreeTDS, python3-winrm, dnsutils) with apt, one installer at a
// time: every test binary of `go test ./...` that installs takes the same
// lock, so two packages never race for dpkg's lock.
//
// It is test tooling: never imported by the provider's production code.
package aptpkg

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

// LockPath is the lock every apt installer of this project holds while apt
// runs (samba-lab.sh takes it too; by hand: `flock /run/lock/bastion-apt.lock apt-get ...`).
const LockPath = "/run/lock/bastion-apt.lock"

// ErrUnavailable: packages cannot be installed here (not root, or no apt-get).
// A test skips with the error's text, which says why.
var ErrUnavailable = errors.New("cannot install Debian packages")

// Installed reports whether dpkg has pkg installed.
func Installed(pkg string) bool {
	out, err := exec.Command("dpkg-query", "-W", "-f=${Status}", pkg).Output()
	return err == nil && strings.Contains(string(out), "install ok installed")
}

// Ensure installs the packages of pkgs that are not installed, holding
// LockPath while apt runs. It runs `apt-get update` only when apt does not
// know a package yet.
func Ensure(ctx context.Context, pkgs ...string) error {
	missing := missingOf(pkgs)
	if len(missing) == 0 {
		return nil
	}
	if os.Geteuid() != 0 {
		return fmt.Errorf("%w: %s not installed and this process is not root (run the tests as root, e.g. `sudo make test`, or `apt-get install %s`)",
			ErrUnavailable, strings.Join(missing, " "), strings.Join(missing, " "))
	}
	if _, err := exec.LookPath("apt-get"); err != nil {
		return fmt.Errorf("%w: %s not installed and apt-get not found: %w", ErrUnavailable, strings.Join(missing, " "), err)
	}
	unlock, err := Lock(ctx)
	if err != nil {
		return err
	}
	defer unlock()
	// Another binary may have installed them while this one waited.
	if missing = missingOf(missing); len(missing) == 0 {
		return nil
	}
	install := append([]string{"install", "-y", "-qq", "--no-install-recommends"}, missing...)
	if _, err := aptGet(ctx, install...); err == nil {
		return nil
	}
	if out, err := aptGet(ctx, "update", "-qq"); err != nil {
		return fmt.Errorf("apt-get update: %w\n%s", err, out)
	}
	if out, err := aptGet(ctx, install...); err != nil {
		return fmt.Errorf("apt-get install %s: %w\n%s", strings.Join(missing, " "), err, out)
	}
	return nil
}

// EnsureCommand returns the path of command, installing pkg when command is
// not on PATH.
func EnsureCommand(ctx context.Context, command, pkg string) (string, error) {
	if p, err := exec.LookPath(command); err == nil {
		return p, nil
	}
	if err := Ensure(ctx, pkg); err != nil {
		return "", err
	}
	p, err := exec.LookPath(command)
	if err != nil {
		return "", fmt.Errorf("%s installed but %s is not on PATH: %w", pkg, command, err)
	}
	return p, nil
}

// NeedCommand is EnsureCommand for a test: it skips t with the reason when
// packages cannot be installed here (ErrUnavailable says how to run it) and
// fails t on any other error.
func NeedCommand(ctx context.Context, t testing.TB, command, pkg string) string {
	t.Helper()
	p, err := EnsureCommand(ctx, command, pkg)
	if errors.Is(err, ErrUnavailable) {
		t.Skipf("%s (Debian package %s) is needed: %v", command, pkg, err)
	}
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// Lock takes LockPath, waiting as long as ctx allows, and returns the unlock.
func Lock(ctx context.Context) (func(), error) {
	f, err := os.OpenFile(LockPath, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("apt lock: %w", err)
	}
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return func() { _ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN); _ = f.Close() }, nil
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) {
			_ = f.Close()
			return nil, fmt.Errorf("apt lock %s: %w", LockPath, err)
		}
		select {
		case <-ctx.Done():
			_ = f.Close()
			return nil, fmt.Errorf("apt lock %s held by another installer: %w", LockPath, ctx.Err())
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func missingOf(pkgs []string) []string {
	var out []string
	for _, p := range pkgs {
		if !Installed(p) {
			out = append(out, p)
		}
	}
	return out
}

// aptGet runs apt-get non-interactively; dpkg's own lock, if a process
// outside this project holds it, is waited for rather than failed on.
func aptGet(ctx context.Context, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, "apt-get", append([]string{"-o", "DPkg::Lock::Timeout=300"}, args...)...)
	cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.String(), err
}
