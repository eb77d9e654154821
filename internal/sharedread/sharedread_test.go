package sharedread

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"
)

// counter is a read that returns how many times it ran.
type counter struct{ n atomic.Int64 }

func (c *counter) read(context.Context) (int64, error) { return c.n.Add(1), nil }

// clock is a settable time for the maximum age.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func TestReadServesOneReadUntilAgeOrInvalidate(t *testing.T) {
	const maxAge = time.Minute
	for _, tc := range []struct {
		name    string
		between func(v *Value[int64], c *clock)
		want    int64 // the second Read's value: 1 shared, 2 read again
	}{
		{"shared", func(*Value[int64], *clock) {}, 1},
		{"younger than max age", func(_ *Value[int64], c *clock) { c.t = c.t.Add(maxAge - time.Nanosecond) }, 1},
		{"max age reached", func(_ *Value[int64], c *clock) { c.t = c.t.Add(maxAge) }, 2},
		{"invalidated", func(v *Value[int64], _ *clock) { v.Invalidate() }, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := &clock{t: time.Unix(1_700_000_000, 0)}
			v := &Value[int64]{now: c.now}
			var r counter
			if got, err := v.Read(context.Background(), maxAge, r.read); err != nil || got != 1 {
				t.Fatalf("first Read = %d, %v; want 1", got, err)
			}
			tc.between(v, c)
			if got, err := v.Read(context.Background(), maxAge, r.read); err != nil || got != tc.want {
				t.Fatalf("second Read = %d, %v; want %d", got, err, tc.want)
			}
		})
	}
}

func TestReadKeepsNoError(t *testing.T) {
	v := &Value[string]{}
	boom := errors.New("boom")
	if _, err := v.Read(context.Background(), time.Hour, func(context.Context) (string, error) { return "", boom }); !errors.Is(err, boom) {
		t.Fatalf("Read error = %v; want boom", err)
	}
	got, err := v.Read(context.Background(), time.Hour, func(context.Context) (string, error) { return "fresh", nil })
	if err != nil || got != "fresh" {
		t.Fatalf("Read after an error = %q, %v; want a new read", got, err)
	}
}

// blocked is a read that waits for release and says when it has started.
type blocked struct {
	started chan context.Context
	release chan struct{}
	val     int
}

func newBlocked(val int) *blocked {
	return &blocked{started: make(chan context.Context, 1), release: make(chan struct{}), val: val}
}

func (b *blocked) read(ctx context.Context) (int, error) {
	b.started <- ctx
	<-b.release
	return b.val, nil
}

func mustNotRead(t *testing.T) func(context.Context) (int, error) {
	return func(context.Context) (int, error) {
		t.Error("a second read started while one was in flight")
		return 0, nil
	}
}

// readAsync reads v in a goroutine; the channel gets what the caller got.
func readAsync(v *Value[int], read func(context.Context) (int, error)) <-chan int {
	got := make(chan int, 1)
	go func() {
		val, _ := v.Read(context.Background(), time.Hour, read)
		got <- val
	}()
	return got
}

func TestReadJoinsTheReadInFlight(t *testing.T) {
	v := &Value[int]{}
	b := newBlocked(7)
	first := readAsync(v, b.read)
	<-b.started
	// A caller that gives up while the read is in flight gets its own
	// error, and does not start a read of its own.
	gone, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := v.Read(gone, time.Hour, mustNotRead(t)); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled caller: %v; want context.Canceled", err)
	}
	second := readAsync(v, mustNotRead(t))
	close(b.release)
	if a, b := <-first, <-second; a != 7 || b != 7 {
		t.Fatalf("callers got %d and %d; want 7 from the one read", a, b)
	}
}

func TestReadOutlivesTheCallerThatStartedIt(t *testing.T) {
	v := &Value[int]{}
	b := newBlocked(3)
	deadline := time.Now().Add(time.Hour)
	ctx, cancel := context.WithDeadline(context.Background(), deadline)
	errc := make(chan error)
	go func() {
		_, err := v.Read(ctx, time.Hour, b.read)
		errc <- err
	}()
	rctx := <-b.started
	if dl, ok := rctx.Deadline(); !ok || !dl.Equal(deadline) {
		t.Errorf("the read's deadline = %v, %v; want the starting caller's %v", dl, ok, deadline)
	}
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Fatalf("starting caller: %v; want context.Canceled", err)
	}
	if rctx.Err() != nil {
		t.Fatalf("the read was cancelled with its caller: %v", rctx.Err())
	}
	close(b.release)
	if got, err := v.Read(context.Background(), time.Hour, b.read); err != nil || got != 3 {
		t.Fatalf("next caller = %d, %v; want the finished read's 3", got, err)
	}
}

func TestInvalidateDuringAReadDropsIt(t *testing.T) {
	v := &Value[int]{}
	old := newBlocked(1)
	first := readAsync(v, old.read)
	<-old.started
	v.Invalidate()
	// The read in flight may have missed the write: a caller after the
	// Invalidate starts its own.
	fresh := newBlocked(2)
	second := readAsync(v, fresh.read)
	<-fresh.started
	close(old.release)
	if got := <-first; got != 1 {
		t.Fatalf("first caller = %d; want its own read's 1", got)
	}
	close(fresh.release)
	if got := <-second; got != 2 {
		t.Fatalf("caller after Invalidate = %d; want 2", got)
	}
	if got, err := v.Read(context.Background(), time.Hour, mustNotRead(t)); err != nil || got != 2 {
		t.Fatalf("kept value = %d, %v; want 2, never the invalidated 1", got, err)
	}
}

// A caller that joins a read started by a caller with a shorter deadline
// does not inherit that deadline's failure: it reads again under its own.
func TestJoinerOutlivesTheStartersDeadline(t *testing.T) {
	joinedRead := make(chan struct{})
	v := &Value[int]{joined: func() { close(joinedRead) }}
	started, release := make(chan struct{}), make(chan struct{})
	calls := 0
	read := func(ctx context.Context) (int, error) {
		calls++
		if calls == 1 {
			close(started)
			<-release
			return 0, ctx.Err()
		}
		return 42, nil
	}
	short, cancel := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer cancel()
	if _, err := v.Read(short, time.Minute, read); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("starter: err = %v, want its own deadline", err)
	}
	<-started
	got := make(chan error, 1)
	var val int
	go func() {
		var err error
		val, err = v.Read(context.Background(), time.Minute, read)
		got <- err
	}()
	<-joinedRead
	close(release)
	if err := <-got; err != nil || val != 42 {
		t.Fatalf("joiner: %d, %v; want 42 from its own read", val, err)
	}
	if calls != 2 {
		t.Fatalf("reads = %d, want 2 (the starter's, then the joiner's own)", calls)
	}
}
