package model

import (
	"crypto/tls"
	"net"
	"sort"
	"sync"
	"sync/atomic"
	"time"
)

// The cost model: what a real network and Windows would charge the client,
// so that a benchmark against the lab measures round trips, not loopback.
//
//   - Every request/response exchange on a connection (a WS-Management HTTP
//     request, an LDAP operation, a TDS packet exchange, a TLS handshake
//     flight) costs one round trip of its protocol: the first write after the
//     server read something waits RTT. Exchanges a client pipelines on one
//     connection share a round trip, as they would on a wire.
//   - A new connection costs one more round trip before its first byte
//     arrives (the TCP handshake); TLS costs what its flights cost (TLS 1.3:
//     one round trip, TLS 1.2 as SQL Server's PRELOGIN-wrapped TLS: two).
//   - Every WinRM command pays a PowerShell start (powershell.exe with the
//     script's modules) before the script runs, from the Command that
//     creates the process ([MS-WSMV] 3.1.4.11), not from stdin's End.
//
// The lab handles a request when its bytes arrive, half a round trip before
// a server across a network would, and charges the whole round trip on the
// answer. Everything that starts from a request (a process, a script's run)
// is then half a round trip early too, so an answer that waits for it, such
// as a long-polled Receive, leaves at ready+RTT in the lab's time, which is
// the real ready+RTT/2: when the real answer arrives. That is exact, not an
// overcharge.
//
// The counters are per protocol and per host.

// DefaultPowerShellStart is what one WinRM command costs before its script
// runs: Windows PowerShell 5.1 took 600 ms to start on a PowerShell team
// member's machine (https://github.com/PowerShell/PowerShell/issues/4239,
// SteveL-MSFT, 2017-07-13), before any module import; the bootstrap imports
// no module, and the read scripts none beyond it.
const DefaultPowerShellStart = 600 * time.Millisecond

// Costs is the cost model. The zero value charges nothing.
type Costs struct {
	// RTT is the round-trip time per protocol (WinRM, LDAP, TDS).
	RTT map[string]time.Duration
	// PowerShellStart is charged once per WinRM command.
	PowerShellStart time.Duration
}

// NetCounters are one host's counters for one protocol.
type NetCounters struct {
	// Requests: WS-Management HTTP requests, LDAP operations, TDS batches and RPCs.
	Requests int64 `json:"requests"`
	// RoundTrips: request/response exchanges the cost model charged (requests,
	// TLS handshake flights, login exchanges).
	RoundTrips    int64 `json:"round_trips"`
	Connections   int64 `json:"connections"`
	TLSHandshakes int64 `json:"tls_handshakes"`
	// Logins: LDAP binds, TDS logins, WinRM shells created.
	Logins int64 `json:"logins"`
	// Searches: LDAP search operations.
	Searches int64 `json:"searches"`
	// Scripts: WinRM commands (each one a PowerShell process).
	Scripts  int64 `json:"scripts"`
	BytesIn  int64 `json:"bytes_in"`
	BytesOut int64 `json:"bytes_out"`
}

type netCounters struct {
	requests, roundTrips, connections, tlsHandshakes, logins, searches, scripts, bytesIn, bytesOut atomic.Int64
}

func (c *netCounters) snapshot() NetCounters {
	return NetCounters{
		Requests: c.requests.Load(), RoundTrips: c.roundTrips.Load(), Connections: c.connections.Load(),
		TLSHandshakes: c.tlsHandshakes.Load(), Logins: c.logins.Load(), Searches: c.searches.Load(), Scripts: c.scripts.Load(),
		BytesIn: c.bytesIn.Load(), BytesOut: c.bytesOut.Load(),
	}
}

type netCost struct {
	mu       sync.Mutex
	costs    Costs
	counters map[string]map[string]*netCounters // protocol -> host -> counters

	// Every round trip charged, from its start for its RTT: their union
	// is the network part of a run (NetBusy).
	busyMu sync.Mutex
	spans  []chargedSpan
	// settled is the union of spans that ended long before the newest
	// began (compacted so a long-running lab keeps little), first and
	// last its bounds.
	settled     time.Duration
	first, last time.Time
	// tracing keeps every round trip in trace (Env.TraceNet).
	tracing  bool
	traceT0  time.Time
	trace    []RoundTrip
	psStarts []RoundTrip
}

// RoundTrip is one charged wait of the trace: which protocol endpoint, and
// when it began and ended after the last ResetNetCounters. Kind is "tcp"
// for a connection's handshake, "exchange" for a request/response pair,
// "powershell" for a PowerShell start (not network time).
type RoundTrip struct {
	Protocol   string
	Host       string
	Kind       string
	Start, End time.Duration
}

// TraceNet turns the round-trip trace on or off; NetTrace returns it.
func (e *Env) TraceNet(on bool) {
	e.net.busyMu.Lock()
	defer e.net.busyMu.Unlock()
	e.net.tracing, e.net.trace, e.net.psStarts = on, nil, nil
	e.net.traceT0 = time.Now()
}

// NetTrace returns the round trips (and PowerShell starts) charged since the
// last ResetNetCounters, by start time, while TraceNet is on.
func (e *Env) NetTrace() []RoundTrip {
	e.net.busyMu.Lock()
	defer e.net.busyMu.Unlock()
	out := append(append([]RoundTrip{}, e.net.trace...), e.net.psStarts...)
	sort.SliceStable(out, func(i, j int) bool { return out[i].Start < out[j].Start })
	return out
}

func (n *netCost) record(rt RoundTrip, start, end time.Time) {
	n.busyMu.Lock()
	defer n.busyMu.Unlock()
	if !n.tracing {
		return
	}
	rt.Start, rt.End = start.Sub(n.traceT0), end.Sub(n.traceT0)
	if rt.Kind == "powershell" {
		n.psStarts = append(n.psStarts, rt)
		return
	}
	n.trace = append(n.trace, rt)
}

// wait charges d as a round trip in flight: it sleeps and adds the time to
// the busy union.
func (n *netCost) wait(d time.Duration, rt RoundTrip) {
	start := time.Now()
	n.charge(start, d)
	time.Sleep(d)
	n.record(rt, start, time.Now())
}

// chargedSpan is one round trip's charged interval.
type chargedSpan struct{ start, end time.Time }

// charge records a round trip of d starting at start. Its end is start+d
// whatever the sleep took: on a loaded machine a sleep overruns by the
// scheduler's delay, which is CPU time, not network.
func (n *netCost) charge(start time.Time, d time.Duration) {
	n.busyMu.Lock()
	defer n.busyMu.Unlock()
	n.spans = append(n.spans, chargedSpan{start, start.Add(d)})
	if len(n.spans) >= maxSpans {
		// Round trips start now or later: merged intervals that ended a
		// second ago can no longer grow.
		cutoff := start.Add(-time.Second)
		keep := n.spans[:0]
		for _, m := range union(n.spans) {
			if m.end.Before(cutoff) {
				n.settle(m)
				continue
			}
			keep = append(keep, m)
		}
		n.spans = keep
	}
}

// maxSpans bounds the spans kept before compaction.
const maxSpans = 4096

func (n *netCost) settle(m chargedSpan) {
	n.settled += m.end.Sub(m.start)
	if n.first.IsZero() || m.start.Before(n.first) {
		n.first = m.start
	}
	if m.end.After(n.last) {
		n.last = m.end
	}
}

// union sorts spans and merges the overlapping ones.
func union(spans []chargedSpan) []chargedSpan {
	sort.Slice(spans, func(i, j int) bool { return spans[i].start.Before(spans[j].start) })
	var out []chargedSpan
	for _, sp := range spans {
		if k := len(out) - 1; k >= 0 && !sp.start.After(out[k].end) {
			if sp.end.After(out[k].end) {
				out[k].end = sp.end
			}
			continue
		}
		out = append(out, sp)
	}
	return out
}

// NetBusy is the network time the cost model charged since the last
// ResetNetCounters: the union of every round trip's charged interval (its
// start, plus its RTT), on every connection and protocol (overlapping
// round trips count once; PowerShell starts are not network and do not
// count). span is from the first round trip's start to the last one's end.
func (e *Env) NetBusy() (busy, span time.Duration) {
	n := &e.net
	n.busyMu.Lock()
	merged := union(append([]chargedSpan(nil), n.spans...))
	busy, first, last := n.settled, n.first, n.last
	n.busyMu.Unlock()
	for _, m := range merged {
		busy += m.end.Sub(m.start)
		if first.IsZero() || m.start.Before(first) {
			first = m.start
		}
		if m.end.After(last) {
			last = m.end
		}
	}
	if first.IsZero() {
		return 0, 0
	}
	return busy, last.Sub(first)
}

func (n *netCost) get(protocol, host string) *netCounters {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.counters == nil {
		n.counters = map[string]map[string]*netCounters{}
	}
	m := n.counters[protocol]
	if m == nil {
		m = map[string]*netCounters{}
		n.counters[protocol] = m
	}
	c := m[Key(host)]
	if c == nil {
		c = &netCounters{}
		m[Key(host)] = c
	}
	return c
}

func (n *netCost) rtt(protocol string) time.Duration {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.costs.RTT[protocol]
}

// SetCosts replaces the cost model.
func (e *Env) SetCosts(c Costs) {
	rtt := map[string]time.Duration{}
	for k, v := range c.RTT {
		rtt[k] = v
	}
	e.net.mu.Lock()
	defer e.net.mu.Unlock()
	e.net.costs = Costs{RTT: rtt, PowerShellStart: c.PowerShellStart}
}

// Costs returns the cost model in force.
func (e *Env) Costs() Costs {
	e.net.mu.Lock()
	defer e.net.mu.Unlock()
	rtt := map[string]time.Duration{}
	for k, v := range e.net.costs.RTT {
		rtt[k] = v
	}
	return Costs{RTT: rtt, PowerShellStart: e.net.costs.PowerShellStart}
}

// NetCounters returns a copy of the counters: protocol -> host -> counters.
func (e *Env) NetCounters() map[string]map[string]NetCounters {
	e.net.mu.Lock()
	defer e.net.mu.Unlock()
	out := map[string]map[string]NetCounters{}
	for p, m := range e.net.counters {
		out[p] = map[string]NetCounters{}
		for h, c := range m {
			out[p][h] = c.snapshot()
		}
	}
	return out
}

// NetTotals sums the counters of every host, per protocol.
func (e *Env) NetTotals() map[string]NetCounters {
	out := map[string]NetCounters{}
	for p, m := range e.NetCounters() {
		var t NetCounters
		for _, c := range m {
			t.Requests += c.Requests
			t.RoundTrips += c.RoundTrips
			t.Connections += c.Connections
			t.TLSHandshakes += c.TLSHandshakes
			t.Logins += c.Logins
			t.Searches += c.Searches
			t.Scripts += c.Scripts
			t.BytesIn += c.BytesIn
			t.BytesOut += c.BytesOut
		}
		out[p] = t
	}
	return out
}

// NetHosts lists the hosts with counters for protocol, sorted.
func (e *Env) NetHosts(protocol string) []string {
	e.net.mu.Lock()
	defer e.net.mu.Unlock()
	out := make([]string, 0, len(e.net.counters[protocol]))
	for h := range e.net.counters[protocol] {
		out = append(out, h)
	}
	sort.Strings(out)
	return out
}

// ResetNetCounters zeroes the cost model's counters.
func (e *Env) ResetNetCounters() {
	e.net.busyMu.Lock()
	e.net.spans, e.net.settled, e.net.first, e.net.last = nil, 0, time.Time{}, time.Time{}
	e.net.trace, e.net.psStarts, e.net.traceT0 = nil, nil, time.Now()
	e.net.busyMu.Unlock()
	e.net.mu.Lock()
	defer e.net.mu.Unlock()
	// Zeroed in place: listeners hold their host's counters.
	for _, m := range e.net.counters {
		for _, c := range m {
			for _, v := range []*atomic.Int64{&c.requests, &c.roundTrips, &c.connections, &c.tlsHandshakes, &c.logins, &c.searches, &c.scripts, &c.bytesIn, &c.bytesOut} {
				v.Store(0)
			}
		}
	}
}

// CountRequest records one protocol request (an HTTP request, an LDAP
// operation, a TDS batch or RPC) on host.
func (e *Env) CountRequest(protocol, host string) { e.net.get(protocol, host).requests.Add(1) }

// CountLogin records an LDAP bind, a TDS login or a WinRM shell on host.
func (e *Env) CountLogin(protocol, host string) { e.net.get(protocol, host).logins.Add(1) }

// CountSearch records one LDAP search on host.
func (e *Env) CountSearch(host string) { e.net.get(LDAP, host).searches.Add(1) }

// StartPowerShell records one WinRM command on host and waits the
// PowerShell start cost, or until stop is closed (false then).
func (e *Env) StartPowerShell(host string, stop ...<-chan struct{}) bool {
	e.net.get(WinRM, host).scripts.Add(1)
	e.net.mu.Lock()
	d := e.net.costs.PowerShellStart
	e.net.mu.Unlock()
	if d <= 0 {
		return true
	}
	start := time.Now()
	defer func() { e.net.record(RoundTrip{Protocol: WinRM, Host: host, Kind: "powershell"}, start, time.Now()) }()
	t := time.NewTimer(d)
	defer t.Stop()
	var s1, s2 <-chan struct{}
	if len(stop) > 0 {
		s1 = stop[0]
	}
	if len(stop) > 1 {
		s2 = stop[1]
	}
	select {
	case <-t.C:
		return true
	case <-s1:
	case <-s2:
	}
	return false
}

// CostTLS returns a copy of cfg that counts each TLS handshake on host.
func (e *Env) CostTLS(cfg *tls.Config, protocol, host string) *tls.Config {
	c := cfg.Clone()
	counters := e.net.get(protocol, host)
	next := c.GetConfigForClient
	c.GetConfigForClient = func(hi *tls.ClientHelloInfo) (*tls.Config, error) {
		counters.tlsHandshakes.Add(1)
		if next != nil {
			return next(hi)
		}
		return nil, nil
	}
	return c
}

// CostListener wraps a listener so every accepted connection is counted
// and charged by the cost model as host's protocol endpoint.
func (e *Env) CostListener(ln net.Listener, protocol, host string) net.Listener {
	return &costListener{Listener: ln, n: &e.net, protocol: protocol, host: host, counters: e.net.get(protocol, host)}
}

type costListener struct {
	net.Listener
	n              *netCost
	protocol, host string
	counters       *netCounters
}

func (l *costListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	l.counters.connections.Add(1)
	return &costConn{Conn: c, l: l, handshake: true}, nil
}

// costConn charges a round trip on the first write after a read (one
// exchange) and one for the TCP handshake before the first read.
type costConn struct {
	net.Conn
	l *costListener

	mu        sync.Mutex
	handshake bool // TCP handshake not yet charged
	turn      bool // the peer spoke since the last answer
}

func (c *costConn) Read(b []byte) (int, error) {
	c.mu.Lock()
	hs := c.handshake
	c.handshake = false
	c.mu.Unlock()
	if hs {
		if d := c.l.n.rtt(c.l.protocol); d > 0 {
			c.l.n.wait(d, RoundTrip{Protocol: c.l.protocol, Host: c.l.host, Kind: "tcp"})
		}
	}
	n, err := c.Conn.Read(b)
	if n > 0 {
		c.l.counters.bytesIn.Add(int64(n))
		c.mu.Lock()
		c.turn = true
		c.mu.Unlock()
	}
	return n, err
}

func (c *costConn) Write(b []byte) (int, error) {
	c.mu.Lock()
	turn := c.turn
	c.turn = false
	c.mu.Unlock()
	if turn && !tlsAlertRecord(b) {
		c.l.counters.roundTrips.Add(1)
		if d := c.l.n.rtt(c.l.protocol); d > 0 {
			c.l.n.wait(d, RoundTrip{Protocol: c.l.protocol, Host: c.l.host, Kind: "exchange"})
		}
	}
	// Counted before the bytes leave, so a client that has them sees them counted.
	c.l.counters.bytesOut.Add(int64(len(b)))
	n, err := c.Conn.Write(b)
	c.l.counters.bytesOut.Add(int64(n - len(b)))
	return n, err
}

// tlsAlertRecord reports whether b is one encrypted TLS alert record: the
// close_notify a server sends back when the client closes. Nobody waits for
// it (RFC 8446 6.1: the initiator of a close need not wait for the
// responding close_notify; RFC 5246 7.2.1), so it is no round trip. TLS 1.3
// sends it as application_data with a 3-byte inner plaintext (alert and
// content type) and a 16-byte tag: 24 bytes, a size no protocol message of
// ours has; TLS 1.2 as an alert record (type 21) longer than a plaintext
// alert's 7 bytes.
func tlsAlertRecord(b []byte) bool {
	const header = 5
	if len(b) < header || b[1] != 3 || int(b[3])<<8|int(b[4]) != len(b)-header {
		return false
	}
	switch b[0] {
	case 23: // application_data
		return len(b) == header+3+16
	case 21: // alert
		return len(b) > header+2
	}
	return false
}

// NetConn lets code that needs the TCP connection (TCP RST on reset) reach it.
func (c *costConn) NetConn() net.Conn { return c.Conn }

// SetLinger reaches the TCP connection, so a simulator can reset it.
func (c *costConn) SetLinger(sec int) error {
	if t, ok := c.Conn.(*net.TCPConn); ok {
		return t.SetLinger(sec)
	}
	return nil
}

// FollowReachability brings one listener of a simulated host in line with
// the host: a listener that never had a port (port 0) is opened once even
// while the host is down, so its port is fixed and the dial map can name
// it; it is closed while the host is unreachable, so clients see
// "connection refused", and reopened on the same port when the host is
// back. open listens on the listener's port; shut closes it.
func FollowReachability(up, isOpen bool, port int, open func() error, shut func()) error {
	switch {
	case !isOpen && (up || port == 0):
		if err := open(); err != nil {
			return err
		}
		if !up {
			shut()
		}
	case isOpen && !up:
		shut()
	}
	return nil
}

// ResetConn closes c with a TCP RST (linger 0), as a vanished or refusing
// host's network does. It reaches the TCP connection through TLS and the
// cost wrapper, so every simulator resets the same way.
func ResetConn(c net.Conn) {
	if t, ok := c.(*tls.Conn); ok {
		c = t.NetConn()
	}
	if t, ok := c.(interface{ SetLinger(int) error }); ok {
		_ = t.SetLinger(0)
	}
	_ = c.Close()
}
