// Package winrmsim is the lab's WinRM: a WS-Management server (SOAP 1.2 over
// HTTPS and optionally HTTP, path /wsman) for every host of the lab model,
// speaking the Windows Remote Shell subset that WinRM clients use to run a
// command: Create, Command, Send, Receive (a long poll), Signal and Delete
// ([MS-WSMV] 3.1.4). It authenticates as Windows does (model/identity.go):
// NTLMv2 for local, domain and trusted accounts, Basic only for a host's
// local accounts by bare name and only where the host's WinRM service
// allows Basic. On HTTP it requires NTLM-sealed messages (sealing.go)
// unless the host allows unencrypted traffic. Each shell carries its
// logon (model.Identity).
//
// It runs exactly one program: powershell.exe with the bastion bootstrap as
// -EncodedCommand, checked against its own list of script digests
// (accepted_scripts.sha256), not against the provider's catalogue. The script
// the bootstrap receives on stdin is looked up by digest and simulated by a
// Handler (registered from handlers_*.go) that reads and changes the model;
// stdout is the JSON reply bootstrap.ps1 would print. Anything else is
// refused and recorded with model.Reject.
//
// Faults: model.TakeFault is consulted once per HTTP request (FaultRefuse
// resets the connection, FaultTimeout holds the request until the client or
// the server gives up); FailAction aims a fault at one step of a run. Latency
// (model.Latency) is a script's run time, spent between the end of stdin and
// the handler. A host that is not Reachable has its connections reset, and
// after Sync its listeners closed, so dialing it is refused.
package winrmsim

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/bastion-pam/terraform-provider-bastion/internal/lab/labca"
	"github.com/bastion-pam/terraform-provider-bastion/internal/lab/model"
	"github.com/bastion-pam/terraform-provider-bastion/internal/transport"
)

// Well-known WinRM ports: the names ConnectTo maps.
const (
	PortHTTP  = 5985
	PortHTTPS = 5986
)

// DefaultMaxShellsPerUser is Windows Server's MaxShellsPerUser default.
const DefaultMaxShellsPerUser = 30

// Options tune a Server.
type Options struct {
	// HTTP also opens a plain-HTTP listener per host (port 5985).
	HTTP bool
	// MaxShellsPerUser is the quota of open shells per user and host
	// (0: DefaultMaxShellsPerUser); Create beyond it gets the QuotaLimit fault.
	MaxShellsPerUser int
	// Logger gets one debug line per request (nil: discard).
	Logger *slog.Logger
	// ExtraScripts are accepted by this server only (tests of clients).
	ExtraScripts []ExtraScript
}

// HostStats are one host's counters since Start or ResetStats.
type HostStats struct {
	// Requests is the number of HTTP requests received.
	Requests int
	// Connections is the number of TCP connections accepted.
	Connections int
	// Commands is the number of Command requests accepted (script executions).
	Commands int
	// Shells is the number of shells open now; MaxShells the most open at once.
	Shells    int
	MaxShells int
	// IdleExpired counts shells the service deleted after their IdleTimeOut.
	IdleExpired int
	// Sealed counts requests on the HTTP listener whose SOAP message came
	// NTLM-sealed ([MS-WSMV] 2.2.9.1.1); Unsealed those that came in clear
	// (refused with HTTP 500 unless the host allows unencrypted traffic).
	Sealed   int
	Unsealed int
}

// Server is the WinRM side of the lab.
type Server struct {
	env     *model.Env
	ca      *labca.CA
	opts    Options
	log     *slog.Logger
	scripts *scriptSet

	mu      sync.Mutex
	hosts   map[string]*hostState
	shells  map[string]*shell
	closed  bool
	closing chan struct{}
	runs    sync.WaitGroup
}

type hostState struct {
	fqdn      string
	endpoints []*endpoint
	stats     HostStats
	faults    map[string][]*injected // short action name -> faults
	banner    string
	// badSeals is how many sealed messages to come are answered as
	// undecryptable (FailSealed).
	badSeals int
}

type injected struct {
	kind      model.FaultKind
	remaining int
}

type endpoint struct {
	tls  bool
	port int
	srv  *http.Server // nil while the host is unreachable
}

// Start opens listeners for every host of env and returns the server.
func Start(env *model.Env, ca *labca.CA, opts Options) (*Server, error) {
	if opts.MaxShellsPerUser <= 0 {
		opts.MaxShellsPerUser = DefaultMaxShellsPerUser
	}
	lg := opts.Logger
	if lg == nil {
		lg = transport.Discard
	}
	set, err := newScriptSet(opts.ExtraScripts)
	if err != nil {
		return nil, err
	}
	s := &Server{
		env: env, ca: ca, opts: opts, log: lg, scripts: set,
		hosts: map[string]*hostState{}, shells: map[string]*shell{}, closing: make(chan struct{}),
	}
	if err := s.Sync(); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// Sync brings the listeners in line with the model: it opens listeners for
// hosts added since, closes those of hosts that are not Reachable (with
// their connections, so clients see "connection refused"), and reopens them
// on the same ports when the host is back.
func (s *Server) Sync() error {
	names := s.env.HostNames()
	up := map[string]bool{}
	for _, n := range names {
		up[n] = s.env.Reachable(n)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return errors.New("winrmsim: server closed")
	}
	var errs []error
	for _, n := range names {
		h := s.hosts[n]
		if h == nil {
			h = &hostState{fqdn: n, faults: map[string][]*injected{}}
			h.endpoints = append(h.endpoints, &endpoint{tls: true})
			if s.opts.HTTP {
				h.endpoints = append(h.endpoints, &endpoint{})
			}
			s.hosts[n] = h
		}
		for _, ep := range h.endpoints {
			if err := model.FollowReachability(up[n], ep.srv != nil, ep.port, func() error { return s.open(h, ep) }, func() { s.shut(ep) }); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}

func (s *Server) open(h *hostState, ep *endpoint) error {
	ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", ep.port))
	if err != nil {
		return fmt.Errorf("winrmsim: listen for %s: %w", h.fqdn, err)
	}
	ep.port = ln.Addr().(*net.TCPAddr).Port
	var l net.Listener = &hostListener{Listener: s.env.CostListener(ln, model.WinRM, h.fqdn), s: s, host: h.fqdn}
	if ep.tls {
		fqdn := h.fqdn
		cfg, err := s.ca.FlawedServerConfig(func() labca.Flaw { return s.env.CertificateFlawOf(fqdn, model.WinRM) }, h.fqdn)
		if err != nil {
			_ = ln.Close()
			return err
		}
		cfg.NextProtos = []string{"http/1.1"}
		l = tls.NewListener(l, s.env.CostTLS(cfg, model.WinRM, h.fqdn))
	}
	host, secure := h.fqdn, ep.tls
	srv := &http.Server{
		Handler:           http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { s.serve(host, secure, w, r) }),
		ReadHeaderTimeout: 30 * time.Second,
		ConnContext: func(ctx context.Context, c net.Conn) context.Context {
			return context.WithValue(ctx, connKey{}, &connState{})
		},
		ErrorLog: log.New(logWriter{s.log}, "", 0),
	}
	ep.srv = srv
	go func() { _ = srv.Serve(l) }()
	return nil
}

// shut closes an endpoint's listener and every connection on it.
func (s *Server) shut(ep *endpoint) {
	if ep.srv != nil {
		_ = ep.srv.Close()
		ep.srv = nil
	}
}

// ConnectTo maps each host's "<fqdn>:5986" (and ":5985" with Options.HTTP)
// to its loopback listener, for the adapters' dial override.
func (s *Server) ConnectTo() transport.ConnectTo {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := transport.ConnectTo{}
	for n, h := range s.hosts {
		for _, ep := range h.endpoints {
			port := PortHTTP
			if ep.tls {
				port = PortHTTPS
			}
			out[fmt.Sprintf("%s:%d", n, port)] = fmt.Sprintf("127.0.0.1:%d", ep.port)
		}
	}
	return out
}

// Close stops every listener, drops every connection and waits for running
// scripts to finish.
func (s *Server) Close() {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.closed = true
	close(s.closing)
	for _, h := range s.hosts {
		for _, ep := range h.endpoints {
			s.shut(ep)
		}
	}
	s.mu.Unlock()
	s.runs.Wait()
}

// Stats returns one host's counters.
func (s *Server) Stats(host string) HostStats {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.expireLocked(s.env.Now())
	if h := s.hosts[model.Key(host)]; h != nil {
		return h.stats
	}
	return HostStats{}
}

// ResetStats zeroes every host's counters (open shells stay counted).
func (s *Server) ResetStats() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, h := range s.hosts {
		h.stats = HostStats{Shells: h.stats.Shells, MaxShells: h.stats.Shells}
	}
}

// FailAction makes the next n requests (n < 0: until ClearActionFaults) of
// one WS-Man action on host fail with kind, after authentication. action is
// Create, Command, Send, Receive, Signal or Delete. It places a fault at an
// exact step of a script run, e.g. a Receive after the script has run.
func (s *Server) FailAction(host, action string, kind model.FaultKind, n int) error {
	known := false
	for _, a := range actionNames {
		known = known || a == action
	}
	if !known {
		return fmt.Errorf("winrmsim: unknown action %q", action)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	h := s.hosts[model.Key(host)]
	if h == nil {
		return fmt.Errorf("winrmsim: no host %q", host)
	}
	h.faults[action] = append(h.faults[action], &injected{kind: kind, remaining: n})
	return nil
}

// FailSealed makes the next n sealed messages to host fail as a message
// Windows cannot unseal does (HTTP 400), so tests can see that a client
// gives up rather than resending in clear text.
func (s *Server) FailSealed(host string, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if h := s.hosts[model.Key(host)]; h != nil {
		h.badSeals = n
	}
}

func (s *Server) takeBadSeal(host string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if h := s.hosts[host]; h != nil && h.badSeals > 0 {
		h.badSeals--
		return true
	}
	return false
}

// ClearActionFaults removes the faults FailAction placed on host.
func (s *Server) ClearActionFaults(host string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if h := s.hosts[model.Key(host)]; h != nil {
		h.faults = map[string][]*injected{}
	}
}

// SetBanner makes host print text on stdout before every script's reply, as
// a logon script or module writing to the console does (peers #116).
func (s *Server) SetBanner(host, text string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if h := s.hosts[model.Key(host)]; h != nil {
		h.banner = text
	}
}

// Hosts returns the hosts with listeners, sorted.
func (s *Server) Hosts() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Sorted(maps.Keys(s.hosts))
}

func (s *Server) takeActionFault(host, action string) (model.FaultKind, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	h := s.hosts[host]
	if h == nil {
		return "", false
	}
	list := h.faults[action]
	for len(list) > 0 && list[0].remaining == 0 {
		list = list[1:]
	}
	h.faults[action] = list
	if len(list) == 0 {
		return "", false
	}
	if list[0].remaining > 0 {
		list[0].remaining--
	}
	return list[0].kind, true
}

func (s *Server) count(host string, f func(*HostStats)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if h := s.hosts[host]; h != nil {
		f(&h.stats)
	}
}

// hostListener counts accepted connections and resets those that reach a
// host the model says is gone (before Sync closed its listener).
type hostListener struct {
	net.Listener
	s    *Server
	host string
}

func (l *hostListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		l.s.count(l.host, func(st *HostStats) { st.Connections++ })
		if !l.s.env.Reachable(l.host) {
			model.ResetConn(c)
			continue
		}
		return c, nil
	}
}

type connKey struct{}

// connState is per TCP connection: NTLM authenticates connections, not
// requests, and its sealing state belongs to the connection too.
type connState struct {
	mu        sync.Mutex
	id        model.Identity
	challenge []byte
	flags     uint32
	seal      *sealState
}

func connFrom(ctx context.Context) *connState {
	c, _ := ctx.Value(connKey{}).(*connState)
	return c
}

type logWriter struct{ l *slog.Logger }

func (w logWriter) Write(p []byte) (int, error) {
	w.l.Debug("winrmsim http server", "message", strings.TrimSpace(string(p)))
	return len(p), nil
}
