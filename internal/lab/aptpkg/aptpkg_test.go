package aptpkg

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestInstalled(t *testing.T) {
	if !Installed("dpkg") {
		t.Error("dpkg is not reported installed")
	}
	if Installed("bastion-no-such-package") {
		t.Error("a package that does not exist is reported installed")
	}
}

func TestEnsureNothingMissing(t *testing.T) {
	if err := Ensure(context.Background(), "dpkg", "bash"); err != nil {
		t.Fatal(err)
	}
	p, err := EnsureCommand(context.Background(), "sh", "dash")
	if err != nil || !strings.HasSuffix(p, "/sh") {
		t.Fatalf("EnsureCommand(sh) = %q, %v", p, err)
	}
}

// TestLockSerialises: while one installer holds the lock, another waits, and
// gives up with its context.
func TestLockSerialises(t *testing.T) {
	unlock, err := Lock(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	if _, err := Lock(ctx); !errors.Is(err, context.DeadlineExceeded) {
		unlock()
		t.Fatalf("second Lock while held: %v, want the context's deadline", err)
	}
	got := make(chan error, 1)
	go func() {
		u, err := Lock(context.Background())
		if err == nil {
			u()
		}
		got <- err
	}()
	time.Sleep(50 * time.Millisecond)
	select {
	case err := <-got:
		t.Fatalf("Lock returned (%v) while the lock was held", err)
	default:
	}
	unlock()
	if err := <-got; err != nil {
		t.Fatal(err)
	}
}
