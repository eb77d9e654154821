// Package tdssim is the lab's SQL Server: a TDS 7.4 (and TDS 8.0 strict)
// server with one loopback listener per instance network name. It speaks
// PRELOGIN with encryption negotiation (TLS inside PRELOGIN packets, or TLS
// first for strict), LOGIN7 with SQL Server authentication, SQLBatch and
// sp_executesql RPCs, and evaluates the T-SQL it receives with its own
// engine (tsql) over SQL Server's catalog views filled from the lab model.
package tdssim

import (
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sort"
	"sync"

	"github.com/bastion-pam/terraform-provider-bastion/internal/lab/labca"
	"github.com/bastion-pam/terraform-provider-bastion/internal/lab/model"
	"github.com/bastion-pam/terraform-provider-bastion/internal/transport"
)

// Port is the port the provider dials on a network name.
const Port = 1433

// Encryption is the server's encryption setting.
type Encryption string

const (
	// EncryptionAvailable: a certificate is installed; the client chooses (SQL Server's default once a certificate is set).
	EncryptionAvailable Encryption = ""
	// EncryptionForced: "Force Encryption = Yes": every session is encrypted.
	EncryptionForced Encryption = "force"
	// EncryptionNone: no certificate; PRELOGIN answers ENCRYPT_NOT_SUP.
	EncryptionNone Encryption = "none"
)

// Options configure a Server.
type Options struct {
	// NetworkNames to listen for besides the instances in the model, e.g. an
	// FCI the provider will install: connections are refused until it exists.
	NetworkNames []string
	Encryption   Encryption
	Logger       *slog.Logger
}

// Request is one batch or RPC the server received.
type Request struct {
	Network string
	Login   string
	Kind    string // "batch" or "rpc"
	Text    string // SQL text (sp_executesql's @stmt)
	Params  map[string]any
	// Error is the SQL Server error number answered, 0 for success.
	Error int32
	// Message is the error's text.
	Message string
}

// Server serves every SQL instance of one lab model.
type Server struct {
	env  *model.Env
	ca   *labca.CA
	opts Options
	log  *slog.Logger

	mu        sync.Mutex
	listeners map[string]*listener
	conns     map[net.Conn]struct{}
	requests  []Request
	rejected  []Request
	logins    int
	onRequest func(Request)
	nextSPID  uint16
	closed    bool
	done      chan struct{}
	wg        sync.WaitGroup
}

type listener struct {
	network string
	ln      net.Listener
	tls     *tls.Config // PRELOGIN-wrapped TLS (1.2, as SQL Server before TDS 8.0)
	strict  *tls.Config // TDS 8.0
}

// New returns a server for env that listens for nothing yet (see Start,
// Listen, Sync); ca signs each network name's certificate (nil only with
// EncryptionNone).
func New(env *model.Env, ca *labca.CA, opts Options) *Server {
	log := opts.Logger
	if log == nil {
		log = transport.Discard
	}
	return &Server{env: env, ca: ca, opts: opts, log: log.With("subsystem", "tdssim"), listeners: map[string]*listener{}, conns: map[net.Conn]struct{}{}, nextSPID: 51, done: make(chan struct{})}
}

// Start returns a server listening for every instance in the model, every
// name in Options.NetworkNames, and the seed's network name (model.SQLNetwork)
// so that an FCI the provider installs under it is reachable.
func Start(env *model.Env, ca *labca.CA, opts Options) (*Server, error) {
	s := New(env, ca, opts)
	for _, n := range append([]string{model.SQLNetwork}, opts.NetworkNames...) {
		if _, err := s.Listen(n); err != nil {
			_ = s.Close()
			return nil, err
		}
	}
	if err := s.Sync(); err != nil {
		_ = s.Close()
		return nil, err
	}
	return s, nil
}

// Sync listens for instances created since Start (by setup over WinRM).
func (s *Server) Sync() error {
	var names []string
	_ = s.env.Do(func(e *model.Env) error {
		for k := range e.SQL {
			names = append(names, k)
		}
		return nil
	})
	sort.Strings(names)
	for _, n := range names {
		if _, err := s.Listen(n); err != nil {
			return err
		}
	}
	return nil
}

// Listen starts (or returns) the loopback listener for a network name.
func (s *Server) Listen(network string) (string, error) {
	k := model.Key(network)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return "", errors.New("tdssim: server closed")
	}
	if l, ok := s.listeners[k]; ok {
		return l.ln.Addr().String(), nil
	}
	l := &listener{network: k}
	if s.opts.Encryption != EncryptionNone {
		if s.ca == nil {
			return "", errors.New("tdssim: a CA is needed unless encryption is none")
		}
		if _, err := s.ca.Leaf(k); err != nil {
			return "", err
		}
		// Both handshakes present the network name's certificate, good or flawed.
		cert := s.ca.GetCertificate(func() labca.Flaw { return s.env.CertificateFlawOf(k, model.TDS) }, k)
		l.tls = s.env.CostTLS(&tls.Config{GetCertificate: cert, MinVersion: tls.VersionTLS12, MaxVersion: tls.VersionTLS12, SessionTicketsDisabled: true}, model.TDS, k)
		l.strict = s.env.CostTLS(&tls.Config{GetCertificate: cert, MinVersion: tls.VersionTLS12, NextProtos: []string{"tds/8.0"}, SessionTicketsDisabled: true}, model.TDS, k)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	l.ln = s.env.CostListener(ln, model.TDS, k)
	s.listeners[k] = l
	s.wg.Add(1)
	go s.accept(l)
	return ln.Addr().String(), nil
}

// Addr returns the loopback address serving a network name ("" if none).
func (s *Server) Addr(network string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if l, ok := s.listeners[model.Key(network)]; ok {
		return l.ln.Addr().String()
	}
	return ""
}

// ConnectTo maps "<network name>:1433" to each listener.
func (s *Server) ConnectTo() transport.ConnectTo {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := transport.ConnectTo{}
	for k, l := range s.listeners {
		out[fmt.Sprintf("%s:%d", k, Port)] = l.ln.Addr().String()
	}
	return out
}

// Close stops every listener and connection.
func (s *Server) Close() error {
	s.mu.Lock()
	if !s.closed {
		close(s.done)
	}
	s.closed = true
	for _, l := range s.listeners {
		_ = l.ln.Close()
	}
	for c := range s.conns {
		_ = c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
	return nil
}

// Requests returns every batch and RPC received, in order.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// Rejected returns the requests SQL Server would not have compiled (syntax
// errors, unknown views, columns, functions or variables).
func (s *Server) Rejected() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.rejected...)
}

// Logins returns the number of successful logins.
func (s *Server) Logins() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.logins
}

// OnRequest sets a function called after each request is answered and
// before its reply is sent, e.g. to start a failover at an exact point of a
// test. The model is not locked while it runs.
func (s *Server) OnRequest(f func(Request)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.onRequest = f
}

// ResetLog clears the request log and counters.
func (s *Server) ResetLog() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests, s.rejected, s.logins = nil, nil, 0
}

func (s *Server) record(r Request, rejected bool) {
	s.mu.Lock()
	s.requests = append(s.requests, r)
	if rejected {
		s.rejected = append(s.rejected, r)
	}
	hook := s.onRequest
	s.mu.Unlock()
	if hook != nil {
		hook(r)
	}
	if rejected {
		sum := sha256.Sum256([]byte(r.Text))
		s.env.Reject(r.Network, hex.EncodeToString(sum[:]), fmt.Sprintf("tds: Msg %d: %s", r.Error, r.Message))
	}
}

func (s *Server) accept(l *listener) {
	defer s.wg.Done()
	for {
		c, err := l.ln.Accept()
		if err != nil {
			return
		}
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			_ = c.Close()
			return
		}
		s.conns[c] = struct{}{}
		spid := s.nextSPID
		s.nextSPID++
		s.wg.Add(1)
		s.mu.Unlock()
		go func() {
			defer s.wg.Done()
			defer func() {
				s.mu.Lock()
				delete(s.conns, c)
				s.mu.Unlock()
				_ = c.Close()
			}()
			sess := &session{srv: s, l: l, raw: c, spid: spid}
			if err := sess.serve(); err != nil {
				s.log.Debug("TDS session ended", "network", l.network, "error", err.Error())
			}
		}()
	}
}
