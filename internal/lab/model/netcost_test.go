package model

import (
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// One request/response exchange on a new connection costs the TCP handshake
// plus one round trip; two exchanges on the open connection one each more.
func TestCostListenerChargesRoundTrips(t *testing.T) {
	e := New()
	const rtt = 30 * time.Millisecond
	e.SetCosts(Costs{RTT: map[string]time.Duration{LDAP: rtt}})
	raw, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln := e.CostListener(raw, LDAP, "PRIV-DC1.priv.contoso.test")
	defer func() { _ = ln.Close() }()
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer func() { _ = c.Close() }()
		buf := make([]byte, 4)
		for {
			if _, err := io.ReadFull(c, buf); err != nil {
				return
			}
			if _, err := c.Write(buf); err != nil {
				return
			}
		}
	}()
	// The handshake is charged when the server accepts, which may be
	// before the client's Dial returns: time the first exchange from
	// before the Dial.
	dialed := time.Now()
	c, err := net.Dial("tcp", raw.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = c.Close() }()
	exchange := func(start time.Time) time.Duration {
		if _, err := c.Write([]byte("ping")); err != nil {
			t.Fatal(err)
		}
		if _, err := io.ReadFull(c, make([]byte, 4)); err != nil {
			t.Fatal(err)
		}
		return time.Since(start)
	}
	if d := exchange(dialed); d < 2*rtt {
		t.Errorf("dial and first exchange took %v, want >= %v (TCP handshake + one round trip)", d, 2*rtt)
	}
	// Only a lower bound: a loaded machine may add any delay. The counters
	// below prove the second exchange was charged exactly one round trip.
	if d := exchange(time.Now()); d < rtt {
		t.Errorf("second exchange took %v, want at least one round trip (%v)", d, rtt)
	}
	// Three round trips, one after the other: the measured network time.
	if busy, span := e.NetBusy(); busy < 3*rtt || busy > span || span < busy {
		t.Errorf("NetBusy = %v over a span of %v, want >= %v", busy, span, 3*rtt)
	}
	got := e.NetCounters()[LDAP]["priv-dc1.priv.contoso.test"]
	want := NetCounters{RoundTrips: 2, Connections: 1, BytesIn: 8, BytesOut: 8}
	if got != want {
		t.Errorf("counters = %+v, want %+v", got, want)
	}
	if tot := e.NetTotals()[LDAP]; tot != want {
		t.Errorf("totals = %+v, want %+v", tot, want)
	}
	e.ResetNetCounters()
	if got := e.NetTotals()[LDAP]; got != (NetCounters{}) {
		t.Errorf("after reset: %+v", got)
	}
	if busy, span := e.NetBusy(); busy != 0 || span != 0 {
		t.Errorf("after reset NetBusy = %v, %v", busy, span)
	}
	exchange(time.Now())
	if got := e.NetTotals()[LDAP]; got.RoundTrips != 1 {
		t.Errorf("after reset, one exchange counted %+v, want one round trip", got)
	}
}

func TestStartPowerShellChargesAndStops(t *testing.T) {
	e := New()
	e.SetCosts(Costs{PowerShellStart: 50 * time.Millisecond})
	start := time.Now()
	if !e.StartPowerShell("priv-app1.priv.contoso.test") {
		t.Fatal("StartPowerShell reported a stop without one")
	}
	if d := time.Since(start); d < 50*time.Millisecond {
		t.Errorf("PowerShell start took %v, want >= 50ms", d)
	}
	stop := make(chan struct{})
	close(stop)
	if e.StartPowerShell("priv-app1.priv.contoso.test", stop) {
		t.Error("StartPowerShell ignored a closed stop channel")
	}
	if n := e.NetCounters()[WinRM]["priv-app1.priv.contoso.test"].Scripts; n != 2 {
		t.Errorf("scripts = %d, want 2", n)
	}
}

// Round trips in flight at the same time count once in NetBusy; the
// brackets are given explicit instants, so the figures are exact.
func TestNetBusyIsTheUnion(t *testing.T) {
	e := New()
	const rtt = 40 * time.Millisecond
	t0 := time.Unix(1_800_000_000, 0)
	n := &e.net
	// Five round trips overlapping, each starting 5 ms after the last...
	// (recorded out of order, as concurrent connections may)...
	for _, i := range []int{2, 0, 4, 1, 3} {
		n.charge(t0.Add(time.Duration(i)*5*time.Millisecond), rtt)
	}
	// ...then a gap of 100 ms and one more.
	later := t0.Add(20*time.Millisecond + rtt + 100*time.Millisecond)
	n.charge(later, rtt)
	busy, span := e.NetBusy()
	if want := 20*time.Millisecond + rtt + rtt; busy != want {
		t.Errorf("NetBusy = %v, want the union %v (not the sum %v)", busy, want, 6*rtt)
	}
	if want := later.Add(rtt).Sub(t0); span != want {
		t.Errorf("span = %v, want %v", span, want)
	}
}

// A long-running lab compacts its spans; the union is unchanged.
func TestNetBusyCompacts(t *testing.T) {
	e := New()
	const rtt = 10 * time.Millisecond
	t0 := time.Unix(1_800_000_000, 0)
	// 3*maxSpans round trips, two at a time, 100 ms apart: 2 overlap each time.
	for i := range 3 * maxSpans / 2 {
		at := t0.Add(time.Duration(i) * 100 * time.Millisecond)
		e.net.charge(at, rtt)
		e.net.charge(at.Add(rtt/2), rtt)
	}
	if n := len(e.net.spans); n >= maxSpans {
		t.Errorf("%d spans kept, want fewer than %d", n, maxSpans)
	}
	busy, span := e.NetBusy()
	if want := time.Duration(3*maxSpans/2) * (rtt + rtt/2); busy != want {
		t.Errorf("NetBusy = %v, want %v", busy, want)
	}
	if want := time.Duration(3*maxSpans/2-1)*100*time.Millisecond + rtt + rtt/2; span != want {
		t.Errorf("span = %v, want %v", span, want)
	}
}

// A client that closes a TLS connection gets the server's close_notify,
// which it does not wait for: no round trip is charged for it.
func TestCostListenerChargesNoCloseNotify(t *testing.T) {
	e := New()
	e.SetCosts(Costs{RTT: map[string]time.Duration{WinRM: time.Millisecond}})
	raw, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := make(chan struct{})
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok") }))
	srv.Listener = e.CostListener(raw, WinRM, "priv-app1.priv.contoso.test")
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateClosed {
			close(closed)
		}
	}
	srv.StartTLS()
	defer srv.Close()
	cl := srv.Client()
	for range 2 {
		resp, err := cl.Get(srv.URL)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
	}
	before := e.NetTotals()[WinRM].RoundTrips
	cl.CloseIdleConnections()
	select {
	case <-closed:
	case <-time.After(10 * time.Second):
		t.Fatal("the server did not close the connection")
	}
	if after := e.NetTotals()[WinRM].RoundTrips; after != before || before < 2 {
		t.Errorf("round trips %d before the close, %d after; want the close free and at least the 2 exchanges", before, after)
	}
}

func TestTLSAlertRecord(t *testing.T) {
	for _, c := range []struct {
		name string
		b    []byte
		want bool
	}{
		{"TLS 1.3 close_notify", append([]byte{23, 3, 3, 0, 19}, make([]byte, 19)...), true},
		{"TLS 1.2 encrypted alert", append([]byte{21, 3, 3, 0, 26}, make([]byte, 26)...), true},
		{"plaintext handshake alert", []byte{21, 3, 3, 0, 2, 2, 40}, false},
		{"application data", append([]byte{23, 3, 3, 0, 40}, make([]byte, 40)...), false},
		{"length mismatch", append([]byte{23, 3, 3, 0, 19}, make([]byte, 20)...), false},
		{"not TLS", []byte("HTTP/1.1 200 OK\r\n\r\n1234"), false},
	} {
		if got := tlsAlertRecord(c.b); got != c.want {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
}

func TestFollowReachability(t *testing.T) {
	failed := errors.New("listen failed")
	tests := []struct {
		name       string
		up, isOpen bool
		port       int
		openErr    error
		wantOpen   bool
		wantShut   bool
		wantErr    error
	}{
		{"new host up: open", true, false, 0, nil, true, false, nil},
		{"new host down: open to fix the port, then shut", false, false, 0, nil, true, true, nil},
		{"host back: reopen on its port", true, false, 5986, nil, true, false, nil},
		{"host still down: stay shut", false, false, 5986, nil, false, false, nil},
		{"host goes down: shut", false, true, 5986, nil, false, true, nil},
		{"host still up: leave open", true, true, 5986, nil, false, false, nil},
		{"open fails: no shut, the error", false, false, 0, failed, true, false, failed},
	}
	for _, tc := range tests {
		var opened, shut bool
		err := FollowReachability(tc.up, tc.isOpen, tc.port, func() error { opened = true; return tc.openErr }, func() { shut = true })
		if opened != tc.wantOpen || shut != tc.wantShut || !errors.Is(err, tc.wantErr) || (err == nil) != (tc.wantErr == nil) {
			t.Errorf("%s: opened %t, shut %t, err %v; want %t, %t, %v", tc.name, opened, shut, err, tc.wantOpen, tc.wantShut, tc.wantErr)
		}
	}
}
