// Package transport holds what every protocol adapter shares: the error
// sentinels callers test with errors.Is, dial overrides (connect_to), and
// retry with backoff bounded by the context's deadline. It is plain Go.
package transport

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"math/rand/v2"
	"net"
	"slices"
	"strings"
	"time"
)

// Sentinels shared by the WinRM, LDAP and SQL adapters.
var (
	// ErrNotFound: the object asked for does not exist.
	ErrNotFound = errors.New("not found")
	// ErrUnreachable: the host could not be reached (refused, timed out, DNS, TLS handshake).
	ErrUnreachable = errors.New("host unreachable")
	// ErrUnauthorized: the host refused the credentials.
	ErrUnauthorized = errors.New("unauthorized")
	// ErrConnectTimeout: a TCP connect got no answer within the connect
	// timeout (the host is off or a firewall drops the packets). It comes
	// with ErrUnreachable, and tells it from the operation's own timeout.
	ErrConnectTimeout = errors.New("connect timed out")
	// ErrCertificate: the server's TLS certificate did not verify (unknown
	// CA, wrong name, expired). It comes with ErrUnreachable; retrying
	// cannot help.
	ErrCertificate = errors.New("TLS certificate not trusted")
)

// ConnectTo maps "host:port" (or just "host", any port) to the "address:port"
// to dial instead, like curl's --connect-to. The TLS server name and the
// protocol's own host name (HTTP Host, SPN) stay the original host's. It lets
// the provider reach hosts through port forwards or the lab.
type ConnectTo map[string]string

// ParseConnectTo parses "host:port=addr:port,host=addr:port" (commas or
// whitespace between entries), the BASTION_CONNECT_TO form.
func ParseConnectTo(s string) (ConnectTo, error) {
	out := ConnectTo{}
	for _, f := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '\n' || r == '\t' }) {
		k, v, ok := strings.Cut(f, "=")
		if !ok || k == "" || v == "" {
			return nil, fmt.Errorf("connect_to entry %q: want host[:port]=address:port", f)
		}
		if _, _, err := net.SplitHostPort(v); err != nil {
			return nil, fmt.Errorf("connect_to entry %q: target %q is not address:port", f, v)
		}
		out[strings.ToLower(k)] = v
	}
	return out, nil
}

// String renders the map in the ParseConnectTo form, sorted.
func (c ConnectTo) String() string {
	keys := slices.Sorted(maps.Keys(c))
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, k+"="+c[k])
	}
	return strings.Join(parts, ",")
}

// Resolve returns the address to dial for addr ("host:port").
func (c ConnectTo) Resolve(addr string) string {
	if len(c) == 0 {
		return addr
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	if v, ok := c[strings.ToLower(addr)]; ok {
		return v
	}
	if v, ok := c[strings.ToLower(strings.TrimSuffix(host, "."))]; ok {
		return v
	}
	return addr
}

// DefaultConnectTimeout bounds one TCP connect, apart from the operation's
// own timeout: a host that drops SYNs (powered off, firewalled) fails within
// it instead of the operating system's minutes of SYN retries.
const DefaultConnectTimeout = 15 * time.Second

// connectTimeout is DefaultConnectTimeout; tests shorten it.
var connectTimeout = DefaultConnectTimeout

// DialContext dials addr after applying the overrides, within the connect
// timeout (or ctx's deadline, if sooner).
func (c ConnectTo) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	return c.DialTimeout(ctx, network, addr, 0)
}

// DialTimeout is DialContext with a connect timeout of its own (0: the default).
func (c ConnectTo) DialTimeout(ctx context.Context, network, addr string, timeout time.Duration) (net.Conn, error) {
	if timeout <= 0 {
		timeout = connectTimeout
	}
	d := net.Dialer{Timeout: timeout}
	start := time.Now()
	conn, err := d.DialContext(ctx, network, c.Resolve(addr))
	if err == nil {
		return conn, nil
	}
	// A connect that timed out after (about) the connect timeout, rather
	// than the operation's earlier deadline: the adapters' own dial
	// contexts end with the same timeout, so ctx may have expired with it.
	if ne := net.Error(nil); errors.As(err, &ne) && ne.Timeout() && time.Since(start) >= timeout*9/10 {
		return nil, fmt.Errorf("%w: %s: %w after %v: %w", ErrUnreachable, addr, ErrConnectTimeout, timeout, err)
	}
	return nil, fmt.Errorf("%w: %s: %w", ErrUnreachable, addr, err)
}

// RetryPolicy bounds retries; the context's deadline bounds them too.
type RetryPolicy struct {
	Attempts int           // total attempts, >= 1
	Initial  time.Duration // first backoff
	Max      time.Duration // largest backoff
}

// DefaultRetry is what adapters use unless configured otherwise.
var DefaultRetry = RetryPolicy{Attempts: 5, Initial: 200 * time.Millisecond, Max: 5 * time.Second}

// Retry runs op until it succeeds, returns a non-transient error, runs out of
// attempts, or ctx is done. The last error is returned.
func Retry(ctx context.Context, p RetryPolicy, log *slog.Logger, what string, transient func(error) bool, op func(ctx context.Context) error) error {
	if p.Attempts < 1 {
		p.Attempts = 1
	}
	backoff := p.Initial
	var err error
	for attempt := 1; ; attempt++ {
		err = op(ctx)
		if err == nil || !transient(err) || attempt >= p.Attempts {
			return err
		}
		// Full jitter keeps parallel resources from retrying in lockstep.
		wait := time.Duration(rand.Int64N(int64(backoff) + 1)) //nolint:gosec // G404: jitter needs no unpredictability
		if dl, ok := ctx.Deadline(); ok && time.Until(dl) < wait {
			return err
		}
		if log != nil {
			log.DebugContext(ctx, "retrying after transient error", "operation", what, "attempt", attempt, "wait", wait.String(), "error", err.Error())
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return errors.Join(err, ctx.Err())
		case <-t.C:
		}
		backoff *= 2
		if p.Max > 0 && backoff > p.Max {
			backoff = p.Max
		}
	}
}

// Limiter is a per-key concurrency limit (per host).
type Limiter struct {
	n    int
	sems map[string]chan struct{}
	mu   chan struct{}
}

// NewLimiter allows n concurrent holders per key (n < 1 means 1).
func NewLimiter(n int) *Limiter {
	if n < 1 {
		n = 1
	}
	l := &Limiter{n: n, sems: map[string]chan struct{}{}, mu: make(chan struct{}, 1)}
	return l
}

// Acquire blocks until a slot for key is free or ctx is done.
func (l *Limiter) Acquire(ctx context.Context, key string) (release func(), err error) {
	l.mu <- struct{}{}
	s, ok := l.sems[key]
	if !ok {
		s = make(chan struct{}, l.n)
		l.sems[key] = s
	}
	<-l.mu
	select {
	case s <- struct{}{}:
		return func() { <-s }, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// Discard is a logger that drops everything (for tests and the lab).
var Discard = slog.New(slog.DiscardHandler)

// hostError records which host an operation failed on, for callers that let
// the adapter choose the server (the LDAP pool). Its text is err's.
type hostError struct {
	host string
	err  error
}

func (e *hostError) Error() string { return e.err.Error() }
func (e *hostError) Unwrap() error { return e.err }

// AtHost marks err as an operation's failure on host (nil stays nil).
func AtHost(host string, err error) error {
	if err == nil || host == "" {
		return err
	}
	return &hostError{host: host, err: err}
}

// HostOf is the host AtHost recorded in err's chain, or "".
func HostOf(err error) string {
	var h *hostError
	if errors.As(err, &h) {
		return h.host
	}
	return ""
}
