// Package directory reads and changes Active Directory over LDAP, never
// PowerShell: domain controllers, FSMO roles, functional levels, tombstone
// lifetime, backups (dSASignature replication metadata), trusts and optional
// features; it toggles the global catalog and transfers or seizes FSMO roles.
//
// A Client keeps a small pool of bound connections per DC (LDAPS by
// default, StartTLS, or plain LDAP as an explicit insecure choice; simple or
// Kerberos/GSSAPI bind), retries busy, unavailable and network failures
// within the context's deadline, pages every multi-entry search and escapes
// every value it puts in a filter or DN. Reads and writes go to one DC: the
// pinned one, or the first of Servers that answers, so a write and the read
// that follows it see the same replica. Errors wrap transport's sentinels
// (ErrNotFound, ErrUnreachable, ErrUnauthorized) and this package's.
//
// It is plain Go: no Terraform types, ctx first, plain structs out.
package directory

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	ber "github.com/go-asn1-ber/asn1-ber"
	"github.com/go-ldap/ldap/v3"

	"github.com/bastion-pam/terraform-provider-bastion/internal/adnames"
	"github.com/bastion-pam/terraform-provider-bastion/internal/sharedread"
	"github.com/bastion-pam/terraform-provider-bastion/internal/transport"
)

// TLS modes.
const (
	TLSModeLDAPS    = "ldaps"    // TLS from the first byte, port 636 (default)
	TLSModeStartTLS = "starttls" // plain port 389 upgraded with StartTLS
	TLSModeNone     = "none"     // no TLS: insecure, for labs only
)

// Bind modes.
const (
	BindSimple   = "simple"
	BindKerberos = "kerberos"
)

// Defaults.
const (
	DefaultPoolSize    = 4
	DefaultPageSize    = 500
	DefaultDialTimeout = 15 * time.Second
	// DefaultIdleTimeout stays under AD's MaxConnIdleTime (900 s), so the
	// pool never hands out a connection the DC has dropped for idleness.
	DefaultIdleTimeout = 5 * time.Minute
	// DefaultDownFor is how long a DC that refused a connection is tried
	// after the others when looking for the first reachable one.
	DefaultDownFor = 30 * time.Second
	// DefaultRequestTimeout bounds one LDAP request.
	DefaultRequestTimeout = 60 * time.Second
)

// KerberosConfig configures a GSSAPI bind (gokrb5). Credentials come from
// the credential cache when set, else the keytab, else Config.Username and
// Config.Password.
type KerberosConfig struct {
	// Realm defaults to the upper-cased Config.Domain.
	Realm string
	// KrbConfPath is the krb5.conf to use (required).
	KrbConfPath string
	CCachePath  string
	KeytabPath  string
	// SPN overrides the service principal; "%s" is replaced by the DC's
	// FQDN. Default "ldap/%s".
	SPN string
	// Protection is the SASL security layer of a bind without TLS:
	// ProtectionSeal (default) or ProtectionSign. Over TLS there is none.
	Protection string
}

// Config describes how to reach and authenticate to the domain's DCs.
type Config struct {
	// Servers are DC FQDNs; the first that answers serves the requests.
	Servers []string
	// PinnedDC sends every read and write to this DC (it need not be in
	// Servers), so a write and its read-back hit the same replica.
	PinnedDC string
	// Port defaults to 636 for ldaps, 389 otherwise.
	Port int
	// TLSMode is ldaps (default), starttls or none (insecure opt-in).
	TLSMode string
	// CACertPEM is added to the system roots to verify the DCs.
	CACertPEM          []byte
	InsecureSkipVerify bool
	// BindMode is simple (default) or kerberos.
	BindMode string
	// Username is DOMAIN\user, user@domain or a bind DN (simple); the
	// principal for kerberos with a password or keytab.
	Username string
	Password string
	Kerberos KerberosConfig
	// Domain is the domain's DNS name; its DN and the forest's naming
	// contexts derive from it (the bastion domain is its forest's root).
	// When empty the rootDSE is read once instead.
	Domain string
	// ConnectTo overrides the addresses dialled (lab, port forwards).
	ConnectTo transport.ConnectTo
	// PoolSize bounds the connections per DC (default 4).
	PoolSize int
	// Retry bounds retries of transient failures (default transport.DefaultRetry).
	Retry transport.RetryPolicy
	// Logger receives debug lines (never secrets); nil discards.
	Logger *slog.Logger

	// PageSize is the paged-results page size (default 500).
	PageSize int
	// DialTimeout bounds connect + TLS + bind (default 15 s).
	DialTimeout time.Duration
	// IdleTimeout closes pooled connections idle longer (default 5 min).
	IdleTimeout time.Duration
	// DownFor is how long an unreachable server is tried last (default 30 s).
	DownFor time.Duration
	// RequestTimeout bounds the wait for one response even when ctx has
	// no deadline (default 60 s); a request that times out is retried on a
	// new connection.
	RequestTimeout time.Duration
}

// Client talks to one domain's DCs. It is safe for concurrent use.
type Client struct {
	cfg  Config
	log  *slog.Logger
	tls  *tls.Config
	krb  *kerberos
	port int

	mu     sync.Mutex
	pools  map[string]*pool
	down   map[string]time.Time
	stats  map[string]*OpStats
	ncs    *namingContexts
	closed bool

	inventory sharedread.Value[Inventory] // see Inventory
}

// namingContexts are the DNs every read starts from.
type namingContexts struct {
	domain, config, schema, root string
}

// DefaultPort is a DC's LDAP port for a TLS mode: 636 for LDAPS, 389 for
// plain LDAP and StartTLS (RFC 4511 section 5; Microsoft's AD DS ports).
func DefaultPort(tlsMode string) int {
	if tlsMode == TLSModeLDAPS {
		return 636
	}
	return 389
}

// orDefault sets an unset (zero or negative) setting to its default.
func orDefault[T ~int | ~int64](v *T, def T) {
	if *v <= 0 {
		*v = def
	}
}

// New validates cfg and returns a Client. It dials nothing.
func New(cfg Config) (*Client, error) {
	if cfg.TLSMode == "" {
		cfg.TLSMode = TLSModeLDAPS
	}
	if cfg.BindMode == "" {
		cfg.BindMode = BindSimple
	}
	cfg.Domain = strings.TrimSuffix(strings.TrimSpace(cfg.Domain), ".")
	cfg.PinnedDC = strings.TrimSpace(cfg.PinnedDC)
	var servers []string
	for _, s := range cfg.Servers {
		if s = strings.TrimSpace(s); s != "" {
			servers = append(servers, s)
		}
	}
	cfg.Servers = servers
	if len(cfg.Servers) == 0 && cfg.PinnedDC == "" {
		return nil, fmt.Errorf("%w: no servers and no pinned DC", ErrInvalidConfig)
	}
	port := cfg.Port
	switch cfg.TLSMode {
	case TLSModeLDAPS, TLSModeStartTLS, TLSModeNone:
		if port == 0 {
			port = DefaultPort(cfg.TLSMode)
		}
	default:
		return nil, fmt.Errorf("%w: tls mode %q (want ldaps, starttls or none)", ErrInvalidConfig, cfg.TLSMode)
	}
	orDefault(&cfg.PoolSize, DefaultPoolSize)
	orDefault(&cfg.PageSize, DefaultPageSize)
	orDefault(&cfg.DialTimeout, DefaultDialTimeout)
	orDefault(&cfg.IdleTimeout, DefaultIdleTimeout)
	orDefault(&cfg.DownFor, DefaultDownFor)
	orDefault(&cfg.RequestTimeout, DefaultRequestTimeout)
	if cfg.Retry.Attempts == 0 {
		cfg.Retry = transport.DefaultRetry
	}
	lg := cfg.Logger
	if lg == nil {
		lg = transport.Discard
	}
	c := &Client{
		cfg: cfg, log: lg.With("subsystem", "ldap"), port: port,
		pools: map[string]*pool{}, down: map[string]time.Time{}, stats: map[string]*OpStats{},
	}
	if cfg.Domain != "" {
		c.ncs = derivedNamingContexts(cfg.Domain)
	}
	roots, err := x509.SystemCertPool()
	if err != nil || roots == nil {
		roots = x509.NewCertPool()
	}
	if len(cfg.CACertPEM) > 0 && !roots.AppendCertsFromPEM(cfg.CACertPEM) {
		return nil, fmt.Errorf("%w: the CA certificate holds no PEM certificate", ErrInvalidConfig)
	}
	c.tls = &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12, InsecureSkipVerify: cfg.InsecureSkipVerify} //nolint:gosec // opt-in
	switch cfg.BindMode {
	case BindSimple:
		if cfg.Username == "" || cfg.Password == "" {
			return nil, fmt.Errorf("%w: simple bind needs a username and a password (AD refuses anonymous reads)", ErrInvalidConfig)
		}
	case BindKerberos:
		k, err := newKerberos(cfg)
		if err != nil {
			return nil, err
		}
		c.krb = k
	default:
		return nil, fmt.Errorf("%w: bind mode %q (want simple or kerberos)", ErrInvalidConfig, cfg.BindMode)
	}
	return c, nil
}

func derivedNamingContexts(domain string) *namingContexts {
	base := adnames.DomainDN(domain)
	return &namingContexts{domain: base, root: base, config: "CN=Configuration," + base, schema: "CN=Schema,CN=Configuration," + base}
}

// Close closes every pooled connection.
func (c *Client) Close() error {
	c.mu.Lock()
	c.closed = true
	pools := c.pools
	c.pools = map[string]*pool{}
	c.mu.Unlock()
	for _, p := range pools {
		p.closeAll()
	}
	if c.krb != nil {
		c.krb.close()
	}
	return nil
}

// Stats returns the remote operations made so far, per DC.
func (c *Client) Stats() map[string]OpStats {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := map[string]OpStats{}
	for k, v := range c.stats {
		out[k] = *v
	}
	return out
}

// TotalStats sums Stats over every DC.
func (c *Client) TotalStats() OpStats {
	var t OpStats
	for _, s := range c.Stats() {
		t.Dials += s.Dials
		t.Binds += s.Binds
		t.Searches += s.Searches
		t.Modifies += s.Modifies
	}
	return t
}

func (c *Client) count(dc string, f func(*OpStats)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.stats[strings.ToLower(dc)]
	if s == nil {
		s = &OpStats{}
		c.stats[strings.ToLower(dc)] = s
	}
	f(s)
}

// pool is the connections to one DC.
type pool struct {
	dc   string
	sem  chan struct{}
	mu   sync.Mutex
	idle []*pooled
}

type pooled struct {
	conn     *ldap.Conn
	lastUsed time.Time
}

func (c *Client) pool(dc string) (*pool, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil, errors.New("ldap client closed")
	}
	k := strings.ToLower(dc)
	p := c.pools[k]
	if p == nil {
		p = &pool{dc: dc, sem: make(chan struct{}, c.cfg.PoolSize)}
		c.pools[k] = p
	}
	return p, nil
}

func (p *pool) closeAll() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, pc := range p.idle {
		_ = pc.conn.Close()
	}
	p.idle = nil
}

// session is one checked-out connection to one DC.
type session struct {
	c    *Client
	dc   string
	conn *ldap.Conn
}

// get returns a healthy idle connection or dials a new one. The health
// check is free: a connection the reader saw close is dropped, and one idle
// longer than IdleTimeout is closed rather than trusted.
func (c *Client) get(ctx context.Context, p *pool) (*session, error) {
	select {
	case p.sem <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	for {
		p.mu.Lock()
		n := len(p.idle)
		if n == 0 {
			p.mu.Unlock()
			break
		}
		pc := p.idle[n-1]
		p.idle = p.idle[:n-1]
		p.mu.Unlock()
		if pc.conn.IsClosing() || time.Since(pc.lastUsed) > c.cfg.IdleTimeout {
			_ = pc.conn.Close()
			continue
		}
		return &session{c: c, dc: p.dc, conn: pc.conn}, nil
	}
	conn, err := c.dial(ctx, p.dc)
	if err != nil {
		<-p.sem
		return nil, err
	}
	return &session{c: c, dc: p.dc, conn: conn}, nil
}

// put returns a connection to the pool, or closes it when the operation
// broke it.
func (c *Client) put(p *pool, s *session, opErr error) {
	defer func() { <-p.sem }()
	if s.conn.IsClosing() || (opErr != nil && (networkError(opErr) || errors.Is(opErr, context.Canceled) || errors.Is(opErr, context.DeadlineExceeded))) {
		_ = s.conn.Close()
		return
	}
	p.mu.Lock()
	p.idle = append(p.idle, &pooled{conn: s.conn, lastUsed: time.Now()})
	p.mu.Unlock()
}

// candidates is the order in which DCs are tried for a request.
func (c *Client) candidates(target string) []string {
	if target != "" {
		return []string{target}
	}
	if c.cfg.PinnedDC != "" {
		return []string{c.cfg.PinnedDC}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	var up, down []string
	for _, s := range c.cfg.Servers {
		if t, ok := c.down[strings.ToLower(s)]; ok && time.Since(t) < c.cfg.DownFor {
			down = append(down, s)
			continue
		}
		up = append(up, s)
	}
	return append(up, down...)
}

func (c *Client) markDown(dc string, down bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if down {
		c.down[strings.ToLower(dc)] = time.Now()
	} else {
		delete(c.down, strings.ToLower(dc))
	}
}

// acquire checks out a connection to target, or to the first DC that
// answers when target is empty.
func (c *Client) acquire(ctx context.Context, target string) (*pool, *session, error) {
	var errs []error
	var tried []string
	for _, dc := range c.candidates(target) {
		p, err := c.pool(dc)
		if err != nil {
			return nil, nil, err
		}
		s, err := c.get(ctx, p)
		if err == nil {
			c.markDown(dc, false)
			return p, s, nil
		}
		if ctx.Err() != nil || !networkError(err) || transport.IsCertificateError(err) {
			return nil, nil, transport.AtHost(dc, err)
		}
		c.markDown(dc, true)
		c.log.DebugContext(ctx, "domain controller unreachable", "dc", dc, "error", err.Error())
		errs = append(errs, err)
		tried = append(tried, dc)
	}
	if len(errs) == 1 {
		return nil, nil, transport.AtHost(tried[0], errs[0])
	}
	return nil, nil, transport.AtHost(strings.Join(tried, ", "), fmt.Errorf("%w: no domain controller answered: %w", transport.ErrUnreachable, errors.Join(errs...)))
}

// readAny is the skeleton of a read on any DC: the naming contexts, then fn
// in one session under do's retries; what fn returns on the attempt that
// ends the retries is the result.
func readAny[T any](ctx context.Context, c *Client, what string, fn func(s *session, n *namingContexts) (T, error)) (T, error) {
	var out T
	n, err := c.naming(ctx)
	if err != nil {
		return out, err
	}
	err = c.do(ctx, "", what, nil, func(_ context.Context, s *session) error {
		var err error
		out, err = fn(s, n)
		return err
	})
	return out, err
}

// do runs fn on a connection to target ("" = the home DC), retrying
// transient failures; a broken connection is replaced on the next attempt.
func (c *Client) do(ctx context.Context, target, what string, retryable func(error) bool, fn func(ctx context.Context, s *session) error) error {
	if retryable == nil {
		retryable = transient
	}
	var lastDC string
	err := transport.Retry(ctx, c.cfg.Retry, c.log, what, retryable, func(ctx context.Context) error {
		p, s, err := c.acquire(ctx, target)
		if err != nil {
			return err
		}
		lastDC = s.dc
		err = s.guard(ctx, func() error { return fn(ctx, s) })
		if err != nil && ctx.Err() == nil && s.conn.IsClosing() {
			err = fmt.Errorf("%w: %w", errConnectionLost, err)
		}
		c.put(p, s, err)
		return err
	})
	if lastDC == "" {
		lastDC = target
	}
	if lastDC == "" {
		lastDC = transport.HostOf(err) // the DCs the pool tried
	}
	return transport.AtHost(lastDC, classify(what, lastDC, err))
}

// guard closes the connection when ctx ends, so a blocked request returns.
func (s *session) guard(ctx context.Context, f func() error) error {
	stop := context.AfterFunc(ctx, func() { _ = s.conn.Close() })
	err := f()
	if !stop() {
		if ctxErr := ctx.Err(); ctxErr != nil {
			return errors.Join(ctxErr, err)
		}
	}
	return err
}

// dial connects to dc, sets up TLS and binds.
func (c *Client) dial(ctx context.Context, dc string) (*ldap.Conn, error) {
	ctx, cancel := context.WithTimeout(ctx, c.cfg.DialTimeout)
	defer cancel()
	addr := net.JoinHostPort(dc, strconv.Itoa(c.port))
	c.count(dc, func(s *OpStats) { s.Dials++ })
	raw, err := c.cfg.ConnectTo.DialTimeout(ctx, "tcp", addr, c.cfg.DialTimeout)
	if err != nil {
		return nil, err
	}
	stop := context.AfterFunc(ctx, func() { _ = raw.Close() })
	defer stop()
	var conn *ldap.Conn
	var tc *tls.Conn
	var sc *saslConn
	switch c.cfg.TLSMode {
	case TLSModeLDAPS:
		if tc, err = c.handshake(ctx, raw, dc); err != nil {
			return nil, err
		}
		conn = ldap.NewConn(tc, true)
	case TLSModeStartTLS:
		if tc, err = c.startTLS(ctx, raw, dc); err != nil {
			return nil, err
		}
		conn = ldap.NewConn(tc, true)
	default:
		if c.cfg.BindMode == BindKerberos {
			sc = &saslConn{Conn: raw}
			conn = ldap.NewConn(sc, false)
		} else {
			conn = ldap.NewConn(raw, false)
		}
	}
	// A Kerberos bind over TLS carries the channel bindings of the DC's certificate.
	var bindings []byte
	if tc != nil {
		if certs := tc.ConnectionState().PeerCertificates; len(certs) > 0 {
			bindings = tlsServerEndPoint(certs[0])
		}
	}
	conn.SetTimeout(c.cfg.RequestTimeout)
	conn.Start()
	c.count(dc, func(s *OpStats) { s.Binds++ })
	if err := c.bind(conn, dc, bindings, sc); err != nil {
		_ = conn.Close()
		if ctx.Err() != nil {
			return nil, fmt.Errorf("%w: bind to %s: %w", transport.ErrUnreachable, dc, ctx.Err())
		}
		return nil, err
	}
	c.log.DebugContext(ctx, "connected", "dc", dc, "tls_mode", c.cfg.TLSMode, "bind_mode", c.cfg.BindMode)
	return conn, nil
}

func (c *Client) tlsFor(dc string) *tls.Config {
	cfg := c.tls.Clone()
	cfg.ServerName = strings.TrimSuffix(dc, ".")
	return cfg
}

func (c *Client) handshake(ctx context.Context, raw net.Conn, dc string) (*tls.Conn, error) {
	tc := tls.Client(raw, c.tlsFor(dc))
	if err := tc.HandshakeContext(ctx); err != nil {
		_ = raw.Close()
		if transport.IsCertificateError(err) {
			return nil, fmt.Errorf("%w: %w: %s: %w", transport.ErrUnreachable, ErrCertificate, dc, err)
		}
		return nil, fmt.Errorf("%w: TLS handshake with %s: %w", transport.ErrUnreachable, dc, err)
	}
	return tc, nil
}

// startTLS sends the StartTLS extended request (RFC 4511 4.14) on the raw
// connection and upgrades it, so the handshake is bounded by ctx and its
// certificate errors keep their types.
func (c *Client) startTLS(ctx context.Context, raw net.Conn, dc string) (*tls.Conn, error) {
	req := ber.Encode(ber.ClassUniversal, ber.TypeConstructed, ber.TagSequence, nil, "LDAP Request")
	req.AppendChild(ber.NewInteger(ber.ClassUniversal, ber.TypePrimitive, ber.TagInteger, int64(1), "MessageID"))
	ext := ber.Encode(ber.ClassApplication, ber.TypeConstructed, ldap.ApplicationExtendedRequest, nil, "Start TLS")
	ext.AppendChild(ber.NewString(ber.ClassContext, ber.TypePrimitive, 0, "1.3.6.1.4.1.1466.20037", "TLS Extended Command"))
	req.AppendChild(ext)
	if _, err := raw.Write(req.Bytes()); err != nil {
		_ = raw.Close()
		return nil, fmt.Errorf("%w: StartTLS to %s: %w", transport.ErrUnreachable, dc, err)
	}
	resp, err := ber.ReadPacket(raw)
	if err != nil {
		_ = raw.Close()
		return nil, fmt.Errorf("%w: StartTLS to %s: %w", transport.ErrUnreachable, dc, err)
	}
	if err := ldap.GetLDAPError(resp); err != nil {
		_ = raw.Close()
		return nil, fmt.Errorf("StartTLS refused by %s: %w", dc, err)
	}
	return c.handshake(ctx, raw, dc)
}

// bind authenticates conn; a Kerberos bind on sc (a connection without TLS)
// switches it to the security layer it negotiated.
func (c *Client) bind(conn *ldap.Conn, dc string, channelBindings []byte, sc *saslConn) error {
	if c.cfg.BindMode == BindKerberos {
		layer, err := c.krb.bind(conn, dc, channelBindings, sc == nil)
		if err != nil {
			return err
		}
		if layer != nil {
			if sc == nil {
				return fmt.Errorf("kerberos bind to %s negotiated a SASL security layer over TLS", dc)
			}
			sc.activate(layer)
		}
		return nil
	}
	_, err := conn.SimpleBind(&ldap.SimpleBindRequest{Username: c.cfg.Username, Password: c.cfg.Password})
	if err != nil {
		if code, ok := ldapCode(err); ok && (code == ldap.LDAPResultInvalidCredentials || code == ldap.LDAPResultInappropriateAuthentication) {
			return fmt.Errorf("%w: simple bind to %s as %s: %w", transport.ErrUnauthorized, dc, c.cfg.Username, err)
		}
		return err
	}
	return nil
}

// naming returns the naming contexts, reading the rootDSE once when Domain was not given.
func (c *Client) naming(ctx context.Context) (*namingContexts, error) {
	c.mu.Lock()
	n := c.ncs
	c.mu.Unlock()
	if n != nil {
		return n, nil
	}
	r, err := c.RootDSE(ctx)
	if err != nil {
		return nil, err
	}
	if r.DefaultNamingContext == "" || r.ConfigurationNamingContext == "" {
		return nil, fmt.Errorf("ldap rootDSE of %s: no naming contexts", r.DC)
	}
	n = &namingContexts{domain: r.DefaultNamingContext, config: r.ConfigurationNamingContext, schema: r.SchemaNamingContext, root: r.RootDomainNamingContext}
	c.mu.Lock()
	c.ncs = n
	c.mu.Unlock()
	return n, nil
}
