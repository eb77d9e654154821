// Package ldapsim is the lab's Active Directory over LDAP: one LDAP server
// per simulated domain controller (LDAPS on 636 with a lab CA certificate
// for the DC's FQDN, and plain LDAP on 389 with StartTLS), all rendering the
// one environment model as an AD-shaped tree: rootDSE, the domain NC with
// its FSMO role objects and trustedDomain objects, the Configuration NC with
// Partitions, Sites/Servers/NTDS Settings, Directory Service and optional
// features, the Schema NC head, and the DNS application partitions.
//
// Requests are parsed and answered by github.com/jimlambrt/gldap. In front
// of each DC's gldap server sits a small LDAP-aware relay that does what
// gldap cannot: it counts operations (model.CountCall), applies injected
// latency and faults (drop the connection, busy, invalidCredentials,
// refuse), terminates TLS and answers StartTLS.
//
// Searches support base/one/sub scopes (not crossing naming contexts),
// AND/OR/NOT, equality with AD's objectCategory shorthand, presence,
// substrings, ordering, the bitwise matching rules and the paged results
// control. Modify supports what the provider writes: NTDS Settings options,
// fSMORoleOwner (seize) and the rootDSE become* operations (transfer), with
// AD's result codes (noSuchAttribute on a stale delete, a referral from an
// RODC, unavailable when the current role holder is down). Anonymous binds
// may read the rootDSE only.
package ldapsim

import (
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/bastion-pam/terraform-provider-bastion/internal/lab/labca"
	"github.com/bastion-pam/terraform-provider-bastion/internal/lab/model"
	"github.com/bastion-pam/terraform-provider-bastion/internal/transport"
)

// Well-known LDAP ports: the names ConnectTo maps.
const (
	PortLDAP  = 389
	PortLDAPS = 636
)

// Options tune a Server.
type Options struct {
	// Logger gets the lab's diagnostics (nil: discard).
	Logger *slog.Logger
	// BeforeModify, when set, runs before each modify request is applied
	// (without the model's lock), so a test can change the model between a
	// client's read and its write, as a concurrent administrator would.
	BeforeModify func(host, dn string)
}

// Server is the LDAP side of the lab.
type Server struct {
	env     *model.Env
	ca      *labca.CA
	log     *slog.Logger
	opts    Options
	closing chan struct{}
	stamps  *stamps

	mu     sync.Mutex
	closed bool
	hosts  map[string]*hostServer
	wg     sync.WaitGroup
}

// hostServer is one host's LDAP endpoints. Every host of the model gets
// listeners with stable ports, so a server promoted to DC later is already
// in ConnectTo; connections to a host that is not a DC are reset, as a
// Windows server without AD DS refuses them.
type hostServer struct {
	fqdn      string
	listeners []*listener
	backend   *backend
	conns     map[*conn]struct{}
}

type listener struct {
	tls  bool
	port int
	ln   net.Listener // nil while the host is unreachable
}

// shut closes the listener; its port stays the listener's for a reopen.
func (l *listener) shut() {
	if l.ln != nil {
		_ = l.ln.Close()
		l.ln = nil
	}
}

// Start seeds the model's directory (model.Env.SeedDirectory), opens
// listeners for every host and DC of env and returns the server.
func Start(env *model.Env, ca *labca.CA, opts Options) (*Server, error) {
	if ca == nil {
		return nil, errors.New("ldapsim: a lab CA is required")
	}
	lg := opts.Logger
	if lg == nil {
		lg = transport.Discard
	}
	env.SeedDirectory()
	s := &Server{env: env, ca: ca, log: lg, opts: opts, closing: make(chan struct{}), hosts: map[string]*hostServer{}, stamps: newStamps()}
	if err := s.Sync(); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// hostInfo is what Sync needs to know of a name.
type hostInfo struct {
	up, dc bool
}

func (s *Server) snapshot() map[string]hostInfo {
	out := map[string]hostInfo{}
	_ = s.env.Do(func(e *model.Env) error {
		for name, h := range e.Hosts {
			out[name] = hostInfo{up: h.Reachable}
		}
		for _, d := range e.Directories() {
			for name := range d.DCs {
				hi, known := out[name]
				if !known {
					hi.up = true // a DC of another forest with no host entry (CORP)
				}
				hi.dc = true
				out[name] = hi
			}
		}
		return nil
	})
	return out
}

// Sync brings the listeners in line with the model: listeners for hosts and
// DCs added since (a promotion), closed listeners for unreachable hosts
// (connections are then refused) reopened on the same ports when they are
// back, the LDAP service stopped on hosts that are no longer DCs (a
// demotion), and everything closed for hosts that are gone.
func (s *Server) Sync() error {
	s.env.NormalizeDirectory()
	names := s.snapshot()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return errors.New("ldapsim: server closed")
	}
	var errs []error
	for name, hi := range names {
		h := s.hosts[name]
		if h == nil {
			h = &hostServer{fqdn: name, conns: map[*conn]struct{}{}, listeners: []*listener{{tls: true}, {}}}
			s.hosts[name] = h
		}
		for _, l := range h.listeners {
			if err := model.FollowReachability(hi.up, l.ln != nil, l.port, func() error { return s.open(h, l) }, l.shut); err != nil {
				errs = append(errs, err)
			}
		}
		if !hi.up || !hi.dc {
			s.stopHost(h)
		}
	}
	for name, h := range s.hosts {
		if _, ok := names[name]; !ok {
			for _, l := range h.listeners {
				l.shut()
			}
			s.stopHost(h)
			delete(s.hosts, name)
		}
	}
	return errors.Join(errs...)
}

// stopHost closes a host's connections and stops its LDAP service. Callers hold s.mu.
func (s *Server) stopHost(h *hostServer) {
	for c := range h.conns {
		c.close(true)
	}
	if h.backend != nil {
		b := h.backend
		h.backend = nil
		go b.stop() // gldap waits for its connections, which are closing
	}
}

func (s *Server) open(h *hostServer, l *listener) error {
	ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", l.port))
	if err != nil {
		return fmt.Errorf("ldapsim: listen for %s: %w", h.fqdn, err)
	}
	l.port = ln.Addr().(*net.TCPAddr).Port
	ln = s.env.CostListener(ln, model.LDAP, h.fqdn)
	l.ln = ln
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				s.handle(h, l.tls, c)
			}()
		}
	}()
	return nil
}

func (s *Server) isDC(host string) bool {
	ok := false
	_ = s.env.Do(func(e *model.Env) error {
		_, dc := e.DirectoryOf(host)
		ok = dc != nil
		return nil
	})
	return ok
}

func (s *Server) reachable(host string) bool {
	up := true
	_ = s.env.Do(func(e *model.Env) error {
		if h := e.Host(host); h != nil {
			up = h.Reachable
		}
		return nil
	})
	return up
}

// tlsConfig is the DC's server certificate: its FQDN and computer name,
// and, as the Domain Controller Authentication / Kerberos Authentication
// templates put in a DC's certificate, its domain's DNS and NetBIOS names,
// so a client that connects to the domain name (which DNS resolves to the
// domain's DCs) can verify the DC that answers.
func (s *Server) tlsConfig(host string) (*tls.Config, error) {
	short := strings.SplitN(host, ".", 2)[0]
	names := []string{host, short}
	_ = s.env.Do(func(e *model.Env) error {
		if d, _ := e.DirectoryOf(host); d != nil {
			names = append(names, model.Key(d.DNSName), d.NetBIOSName)
		}
		return nil
	})
	// LDAPS and StartTLS present the same certificate, good or flawed.
	cfg, err := s.ca.FlawedServerConfig(func() labca.Flaw { return s.env.CertificateFlawOf(host, model.LDAP) }, names...)
	if err != nil {
		return nil, err
	}
	return s.env.CostTLS(cfg, model.LDAP, host), nil
}

// handle serves one accepted connection.
func (s *Server) handle(h *hostServer, implicitTLS bool, raw net.Conn) {
	if !s.reachable(h.fqdn) || !s.isDC(h.fqdn) {
		model.ResetConn(raw)
		return
	}
	client := raw
	if implicitTLS {
		cfg, err := s.tlsConfig(h.fqdn)
		if err != nil {
			model.ResetConn(raw)
			return
		}
		tc := tls.Server(raw, cfg)
		_ = tc.SetDeadline(time.Now().Add(10 * time.Second))
		if err := tc.Handshake(); err != nil {
			_ = raw.Close()
			return
		}
		_ = tc.SetDeadline(time.Time{})
		client = tc
	}
	b, err := s.ensureBackend(h)
	if err != nil {
		s.log.Error("ldapsim: backend", "host", h.fqdn, "error", err.Error())
		model.ResetConn(raw)
		return
	}
	bc, err := net.Dial("tcp", b.addr)
	if err != nil {
		model.ResetConn(raw)
		return
	}
	c := &conn{s: s, host: h.fqdn, raw: raw, client: client, isTLS: implicitTLS, backend: bc}
	c.rd = newReader(client)
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		c.close(true)
		return
	}
	h.conns[c] = struct{}{}
	s.mu.Unlock()
	c.serve()
	s.mu.Lock()
	delete(h.conns, c)
	s.mu.Unlock()
}

func (s *Server) ensureBackend(h *hostServer) (*backend, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, errors.New("ldapsim: server closed")
	}
	if h.backend == nil {
		b, err := startBackend(s, h.fqdn)
		if err != nil {
			return nil, err
		}
		h.backend = b
	}
	return h.backend, nil
}

// ConnectTo maps "<host>:636" and "<host>:389" of every host and DC to the
// loopback addresses of its listeners, and "<domain>:636" and "<domain>:389"
// of every domain to those of its first writable DC (by name): a domain's
// DNS name resolves to its DCs' addresses, as on Windows.
func (s *Server) ConnectTo() transport.ConnectTo {
	domainDC := map[string]string{}
	_ = s.env.Do(func(e *model.Env) error {
		for _, d := range e.Directories() {
			for _, dc := range d.SortedDCs() {
				if !dc.ReadOnly {
					domainDC[model.Key(d.DNSName)] = model.Key(dc.Host)
					break
				}
			}
		}
		return nil
	})
	s.mu.Lock()
	defer s.mu.Unlock()
	out := transport.ConnectTo{}
	add := func(name string, h *hostServer) {
		for _, l := range h.listeners {
			if l.port == 0 {
				continue
			}
			port := PortLDAP
			if l.tls {
				port = PortLDAPS
			}
			out[fmt.Sprintf("%s:%d", name, port)] = fmt.Sprintf("127.0.0.1:%d", l.port)
		}
	}
	for name, h := range s.hosts {
		add(name, h)
	}
	for domain, dc := range domainDC {
		if h := s.hosts[dc]; h != nil && s.hosts[domain] == nil {
			add(domain, h)
		}
	}
	return out
}

// Hosts lists the hosts with listeners, sorted.
func (s *Server) Hosts() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Sorted(maps.Keys(s.hosts))
}

// Close stops every listener, connection and DC service.
func (s *Server) Close() {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.closed = true
	close(s.closing)
	var backends []*backend
	for _, h := range s.hosts {
		for _, l := range h.listeners {
			l.shut()
		}
		for c := range h.conns {
			c.close(true)
		}
		if h.backend != nil {
			backends = append(backends, h.backend)
			h.backend = nil
		}
	}
	s.mu.Unlock()
	s.wg.Wait()
	for _, b := range backends {
		b.stop()
	}
}
