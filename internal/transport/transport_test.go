package transport

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"
)

func TestParseConnectTo(t *testing.T) {
	c, err := ParseConnectTo("DC1.priv.test:636=127.0.0.1:4000, app1.priv.test=127.0.0.1:5000")
	if err != nil {
		t.Fatal(err)
	}
	cases := map[string]string{
		"dc1.priv.test:636":   "127.0.0.1:4000",
		"dc1.priv.test:389":   "dc1.priv.test:389",
		"app1.priv.test:5986": "127.0.0.1:5000",
		"other:1":             "other:1",
	}
	for in, want := range cases {
		if got := c.Resolve(in); got != want {
			t.Errorf("Resolve(%q) = %q, want %q", in, got, want)
		}
	}
	if got := c.String(); got != "app1.priv.test=127.0.0.1:5000,dc1.priv.test:636=127.0.0.1:4000" {
		t.Errorf("String() = %q", got)
	}
	for _, bad := range []string{"nohost", "a=b", "=1.2.3.4:5"} {
		if _, err := ParseConnectTo(bad); err == nil {
			t.Errorf("ParseConnectTo(%q) accepted", bad)
		}
	}
}

func TestRetry(t *testing.T) {
	transientErr := errors.New("busy")
	var n atomic.Int32
	err := Retry(context.Background(), RetryPolicy{Attempts: 4, Initial: time.Millisecond, Max: 2 * time.Millisecond}, nil, "op",
		func(err error) bool { return errors.Is(err, transientErr) },
		func(context.Context) error {
			if n.Add(1) < 3 {
				return transientErr
			}
			return nil
		})
	if err != nil || n.Load() != 3 {
		t.Fatalf("err=%v attempts=%d, want nil after 3", err, n.Load())
	}
	n.Store(0)
	permanent := errors.New("denied")
	err = Retry(context.Background(), DefaultRetry, nil, "op", func(err error) bool { return errors.Is(err, transientErr) },
		func(context.Context) error { n.Add(1); return permanent })
	if !errors.Is(err, permanent) || n.Load() != 1 {
		t.Fatalf("permanent error retried: err=%v attempts=%d", err, n.Load())
	}
	n.Store(0)
	err = Retry(context.Background(), RetryPolicy{Attempts: 3, Initial: time.Millisecond}, nil, "op", func(error) bool { return true },
		func(context.Context) error { n.Add(1); return transientErr })
	if !errors.Is(err, transientErr) || n.Load() != 3 {
		t.Fatalf("attempts not bounded: err=%v attempts=%d", err, n.Load())
	}
	// A deadline shorter than the next backoff stops the retries.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Millisecond)
	defer cancel()
	n.Store(0)
	err = Retry(ctx, RetryPolicy{Attempts: 100, Initial: time.Hour, Max: time.Hour}, nil, "op", func(error) bool { return true },
		func(context.Context) error { n.Add(1); return transientErr })
	if err == nil || n.Load() > 2 {
		t.Fatalf("deadline ignored: err=%v attempts=%d", err, n.Load())
	}
}

func TestLimiter(t *testing.T) {
	l := NewLimiter(2)
	ctx := context.Background()
	r1, _ := l.Acquire(ctx, "h")
	r2, _ := l.Acquire(ctx, "h")
	other, err := l.Acquire(ctx, "other")
	if err != nil {
		t.Fatal(err)
	}
	other()
	short, cancel := context.WithTimeout(ctx, 10*time.Millisecond)
	defer cancel()
	if _, err := l.Acquire(short, "h"); err == nil {
		t.Fatal("third holder admitted past the limit of 2")
	}
	r1()
	r3, err := l.Acquire(ctx, "h")
	if err != nil {
		t.Fatal(err)
	}
	r2()
	r3()
}
