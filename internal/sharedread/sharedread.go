// Package sharedread shares one read of a remote value among every caller of
// a plan's refresh: one read in flight at a time (single flight), its result
// served until it is older than a maximum age or a write invalidates it.
// The LDAP inventory of DCs and FSMO holders and the SQL Server logins use
// it, so a refresh costs the same round trips whatever the number of
// resources.
package sharedread

import (
	"context"
	"errors"
	"sync"
	"time"
)

// Value holds the shared read of one T. The zero Value is ready to use and
// must not be copied after first use.
type Value[T any] struct {
	mu       sync.Mutex
	gen      uint64 // bumped by every Invalidate
	val      T
	have     bool
	valGen   uint64
	at       time.Time
	inflight *call[T]
	now      func() time.Time // time.Now; tests set a clock
	joined   func()           // tests: called when a caller joins a read in flight
}

type call[T any] struct {
	gen  uint64
	done chan struct{}
	val  T
	err  error
}

// Read returns the shared value when one read since the last Invalidate is
// younger than maxAge; otherwise it joins the read in flight or starts one
// with read. The read runs detached from any one caller's cancellation,
// bounded by the deadline of the caller that started it: a caller that gives
// up does not fail the others waiting on the same read, and a caller whose
// joined read ended at the starter's deadline reads again under its own.
// An error is returned to the callers of that read and never kept.
func (v *Value[T]) Read(ctx context.Context, maxAge time.Duration, read func(context.Context) (T, error)) (T, error) {
	val, joined, err := v.read(ctx, maxAge, read)
	// A joined read ran under the deadline of the caller that started it:
	// when that deadline ended it, a caller with time left reads again
	// under its own.
	if joined && errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
		val, _, err = v.read(ctx, maxAge, read)
	}
	return val, err
}

func (v *Value[T]) read(ctx context.Context, maxAge time.Duration, read func(context.Context) (T, error)) (T, bool, error) {
	v.mu.Lock()
	if v.have && v.valGen == v.gen && v.clock().Sub(v.at) < maxAge {
		val := v.val
		v.mu.Unlock()
		return val, false, nil
	}
	c := v.inflight
	joined := c != nil && c.gen == v.gen
	if joined && v.joined != nil {
		v.joined()
	}
	if !joined {
		c = &call[T]{gen: v.gen, done: make(chan struct{})}
		v.inflight = c
		rctx := context.WithoutCancel(ctx)
		var cancel context.CancelFunc = func() {}
		if dl, ok := ctx.Deadline(); ok {
			rctx, cancel = context.WithDeadline(rctx, dl)
		}
		go func() {
			defer cancel()
			c.val, c.err = read(rctx)
			v.mu.Lock()
			if v.inflight == c {
				v.inflight = nil
			}
			// A read that started before an Invalidate may have missed the
			// write: its callers get it, later callers read again.
			if c.err == nil && c.gen == v.gen {
				v.val, v.have, v.valGen, v.at = c.val, true, c.gen, v.clock()
			}
			v.mu.Unlock()
			close(c.done)
		}()
	}
	v.mu.Unlock()
	select {
	case <-c.done:
		return c.val, joined, c.err
	case <-ctx.Done():
		var zero T
		return zero, joined, ctx.Err()
	}
}

// Invalidate drops the shared value: the next Read reads again, and a read
// in flight is not kept.
func (v *Value[T]) Invalidate() {
	v.mu.Lock()
	v.gen++
	var zero T
	v.val, v.have = zero, false
	v.mu.Unlock()
}

func (v *Value[T]) clock() time.Time {
	if v.now != nil {
		return v.now()
	}
	return time.Now()
}
