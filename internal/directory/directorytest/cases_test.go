package directorytest

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/bastion-pam/terraform-provider-bastion/internal/directory"
)

func TestRunEndsACaseOnAFailedRead(t *testing.T) {
	boom := errors.New("read failed")
	var n int64
	ctx := WithAssertionCounter(context.Background(), &n)
	reached := false
	err := run(func(_ context.Context, k *checker, _ *directory.Client, _ Reference) {
		k.check(false, "first check")
		_ = need(0, boom)
		reached = true
	})(ctx, nil, nil)
	if reached {
		t.Error("the case went on after a failed read")
	}
	if !errors.Is(err, boom) || !strings.Contains(err.Error(), "first check") {
		t.Errorf("error = %v; want the failed check and the read's error", err)
	}
	if n != 2 {
		t.Errorf("%d assertions counted; want 2 (the check and the read)", n)
	}
	if err := run(func(context.Context, *checker, *directory.Client, Reference) {})(ctx, nil, nil); err != nil {
		t.Errorf("a case without checks: %v", err)
	}
}

func TestRunLetsOtherPanicsThrough(t *testing.T) {
	defer func() {
		if r := recover(); r != "bug" {
			t.Errorf("recovered %v; want the case's own panic", r)
		}
	}()
	_ = run(func(context.Context, *checker, *directory.Client, Reference) { panic("bug") })(context.Background(), nil, nil)
	t.Error("run swallowed a panic that is not a failed read")
}
