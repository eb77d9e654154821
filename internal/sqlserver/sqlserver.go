// Package sqlserver reads and changes a SQL Server failover cluster instance
// over TDS (github.com/microsoft/go-mssqldb), never through PowerShell. It
// always connects to the instance's network name, keeps one pooled *sql.DB per
// server, sends only the parameterised texts in queries.go, and retries the
// errors a failover produces (failed logins, dropped connections) within the
// context's deadline. It is plain Go: errors carry the transport sentinels.
package sqlserver

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"log/slog"
	mrand "math/rand/v2"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	mssql "github.com/microsoft/go-mssqldb"
	// Registers the "krb5" authenticator used for Windows authentication.
	_ "github.com/microsoft/go-mssqldb/integratedauth/krb5"
	"github.com/microsoft/go-mssqldb/msdsn"

	"github.com/bastion-pam/terraform-provider-bastion/internal/sharedread"
	"github.com/bastion-pam/terraform-provider-bastion/internal/transport"
)

// DefaultPort is SQL Server's TCP port.
const DefaultPort = 1433

// Auth is how the adapter logs in.
type Auth string

const (
	// AuthSQL is SQL Server authentication (a SQL login and its password).
	AuthSQL Auth = "sql"
	// AuthWindows is Windows authentication with Kerberos (go-mssqldb's krb5 authenticator).
	AuthWindows Auth = "windows"
)

// Encryption is go-mssqldb's "encrypt" setting. The zero value is EncryptOn.
type Encryption string

const (
	// EncryptOn: TLS negotiated in PRELOGIN then used for the whole session
	// (SQL Server 2016 and later), the certificate verified. The default.
	EncryptOn Encryption = "true"
	// EncryptStrict: TDS 8.0, TLS before any TDS byte (SQL Server 2022 and later).
	EncryptStrict Encryption = "strict"
	// EncryptOff: only the login packet is encrypted (insecure; opt-in).
	EncryptOff Encryption = "false"
)

// Kerberos configures Windows authentication (go-mssqldb's krb5 authenticator).
// Give Config.Username with Config.Password, or Username with KeytabFile, or
// CredCacheFile alone.
type Kerberos struct {
	// Realm, e.g. PRIV.CONTOSO.TEST (default: from the user name user@REALM, then krb5.conf).
	Realm string
	// ConfigFile is the krb5.conf path (default: $KRB5_CONFIG, then /etc/krb5.conf).
	ConfigFile string
	// KeytabFile holds the user's keys.
	KeytabFile string
	// CredCacheFile is a credential cache (kinit's ccache).
	CredCacheFile string
	// SPN of the instance; default MSSQLSvc/<server>:<port>, registered on the network name's computer object.
	SPN string
	// NoDNSLookupKDC finds KDCs only in krb5.conf, never by DNS SRV records.
	NoDNSLookupKDC bool
}

// Config is one SQL Server instance and how to reach it.
type Config struct {
	// Server is the FCI's network name (FQDN), never a node's name: the
	// instance moves between nodes and only the network name follows it.
	Server string
	// Port defaults to 1433.
	Port int
	// Instance is the instance name; "" or MSSQLSERVER for the default instance.
	Instance string
	// Auth defaults to AuthSQL.
	Auth     Auth
	Username string
	Password string
	// Encrypt defaults to EncryptOn.
	Encrypt Encryption
	// CACertPEM verifies the server's certificate (default: the system's roots).
	CACertPEM []byte
	// TrustServerCertificate skips certificate verification (insecure opt-in).
	TrustServerCertificate bool
	// ConnectTo redirects the dial; TLS still verifies the network name.
	ConnectTo transport.ConnectTo
	Kerberos  Kerberos
	// Retry bounds retries of transient errors (default transport.DefaultRetry).
	Retry transport.RetryPolicy
	// FailoverTimeout is how long the client keeps retrying once a server it
	// has reached starts failing transiently (connections refused or reset,
	// logins failing with 18456): a failover of the instance to another node,
	// which takes from seconds to a few minutes. 0 means
	// DefaultFailoverTimeout, a negative value only Retry's attempts. The
	// context's deadline always bounds it.
	// ConnectTimeout bounds each TCP connect, apart from the operation's
	// timeout (0: transport.DefaultConnectTimeout, 15 s).
	ConnectTimeout  time.Duration
	FailoverTimeout time.Duration
	Logger          *slog.Logger
}

// DefaultFailoverTimeout rides through a typical failover cluster instance
// failover (the group moves, the instance recovers and accepts logins).
// https://learn.microsoft.com/sql/sql-server/failover-clusters/windows/failover-policy-for-failover-cluster-instances
const DefaultFailoverTimeout = 3 * time.Minute

// Stats counts the adapter's work since New.
type Stats struct {
	Dials         int64 // TCP connections opened
	Logins        int64 // successful logins (one per pooled connection)
	LoginFailures int64 // failed connection attempts after the dial (TLS or login)
	Queries       int64 // batches and RPCs sent (one round trip each)
	Retries       int64 // attempts repeated after a transient error
}

// Client talks to one SQL Server instance. It is safe for concurrent use.
type Client struct {
	server string
	port   int
	db     *sql.DB
	retry  transport.RetryPolicy
	log    *slog.Logger
	// failoverTimeout: see Config.FailoverTimeout.
	failoverTimeout time.Duration
	// reached is set once an operation succeeded: later transient errors
	// are a failover to ride through, not a server that is not there.
	reached atomic.Bool

	dials, logins, loginFailures, queries, retries atomic.Int64

	// loginsRead is the plan's shared read of every login (CachedLogin).
	loginsRead sharedread.Value[map[string]Login]
}

// New validates cfg and prepares a pooled client; it dials nothing.
func New(cfg Config) (*Client, error) {
	p, err := buildParams(cfg)
	if err != nil {
		return nil, err
	}
	c := &Client{server: p.Host, port: int(p.Port), retry: cfg.Retry, log: cfg.Logger, failoverTimeout: cfg.FailoverTimeout} //nolint:gosec // G115: msdsn parses the port as a 16-bit number
	if c.retry.Attempts == 0 {
		c.retry = transport.DefaultRetry
	}
	if c.failoverTimeout == 0 {
		c.failoverTimeout = DefaultFailoverTimeout
	}
	if c.log == nil {
		c.log = transport.Discard
	}
	c.log = c.log.With("subsystem", "sqlserver", "server", c.server)
	c.db = sql.OpenDB(&connector{c: c, params: p, dialer: &dialer{c: c, host: p.Host, connectTo: cfg.ConnectTo, timeout: connectTimeout(cfg.ConnectTimeout)}})
	// One connection, kept: a login costs a TDS PRELOGIN, a TLS handshake and
	// LOGIN7 (five round trips), a query one, so a plan logs in once per
	// instance and queues its queries on that connection rather than logging
	// in again for each burst (issue 14: 38 logins for 202 queries with 4 open
	// and 2 idle). It is replaced only when it dies or idles for 5 minutes.
	c.db.SetMaxOpenConns(1)
	c.db.SetMaxIdleConns(1)
	c.db.SetConnMaxIdleTime(5 * time.Minute)
	return c, nil
}

// Close closes the pooled connections.
func (c *Client) Close() error { return c.db.Close() }

// Server is the network name the client connects to.
func (c *Client) Server() string { return c.server }

// Stats returns the counters.
func (c *Client) Stats() Stats {
	return Stats{Dials: c.dials.Load(), Logins: c.logins.Load(), LoginFailures: c.loginFailures.Load(), Queries: c.queries.Load(), Retries: c.retries.Load()}
}

func buildParams(cfg Config) (msdsn.Config, error) {
	server := strings.TrimSuffix(strings.TrimSpace(cfg.Server), ".")
	if server == "" || strings.ContainsAny(server, `\/:@ ;`) {
		return msdsn.Config{}, fmt.Errorf("sqlserver: server %q is not a host name: give the failover cluster instance's network name", cfg.Server)
	}
	port := cfg.Port
	if port == 0 {
		port = DefaultPort
	}
	if port < 1 || port > 65535 {
		return msdsn.Config{}, fmt.Errorf("sqlserver: port %d out of range", port)
	}
	instance := strings.TrimSpace(cfg.Instance)
	if strings.EqualFold(instance, "MSSQLSERVER") {
		instance = ""
	}
	activity := make([]byte, 16)
	_, _ = rand.Read(activity)
	workstation, _ := os.Hostname()
	p := msdsn.Config{
		Host:               server,
		Port:               uint64(port),
		Instance:           instance,
		User:               cfg.Username,
		Password:           cfg.Password,
		AppName:            "terraform-provider-bastion",
		Workstation:        workstation,
		Protocols:          []string{"tcp"},
		ProtocolParameters: map[string]interface{}{},
		Parameters:         map[string]string{},
		DialTimeout:        connectTimeout(cfg.ConnectTimeout),
		KeepAlive:          30 * time.Second,
		ActivityID:         activity,
		Encoding:           msdsn.EncodeParameters{Timezone: time.UTC},
	}
	switch cfg.Auth {
	case "", AuthSQL:
		if cfg.Username == "" || cfg.Password == "" {
			return msdsn.Config{}, errors.New("sqlserver: SQL authentication needs a username and a password")
		}
		if strings.Contains(cfg.Username, `\`) {
			// go-mssqldb would silently switch to NTLM for DOMAIN\user.
			return msdsn.Config{}, fmt.Errorf("sqlserver: %q looks like a Windows account: use Windows authentication for it", cfg.Username)
		}
	case AuthWindows:
		k := cfg.Kerberos
		if (cfg.Username == "" || (cfg.Password == "" && k.KeytabFile == "")) && k.CredCacheFile == "" {
			return msdsn.Config{}, errors.New("sqlserver: Windows authentication needs a username with a password or a keytab, or a Kerberos credential cache")
		}
		p.Parameters["authenticator"] = "krb5"
		set := func(k, v string) {
			if v != "" {
				p.Parameters[k] = v
			}
		}
		set("krb5-realm", k.Realm)
		set("krb5-configfile", k.ConfigFile)
		set("krb5-keytabfile", k.KeytabFile)
		set("krb5-credcachefile", k.CredCacheFile)
		p.Parameters["krb5-dnslookupkdc"] = strconv.FormatBool(!k.NoDNSLookupKDC)
		p.ServerSPN = k.SPN
		if p.ServerSPN == "" {
			p.ServerSPN = "MSSQLSvc/" + server + ":" + strconv.Itoa(port)
		}
	default:
		return msdsn.Config{}, fmt.Errorf("sqlserver: auth %q: want %q or %q", cfg.Auth, AuthSQL, AuthWindows)
	}
	tlsCfg := &tls.Config{
		ServerName:         server,
		MinVersion:         tls.VersionTLS12,
		InsecureSkipVerify: cfg.TrustServerCertificate, //nolint:gosec // explicit, documented opt-in
		// SQL Server expects one TDS packet per TLS record (go-mssqldb issue 166).
		DynamicRecordSizingDisabled: true,
	}
	if len(cfg.CACertPEM) > 0 {
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(cfg.CACertPEM) {
			return msdsn.Config{}, errors.New("sqlserver: the CA certificate is not PEM")
		}
		tlsCfg.RootCAs = pool
	}
	p.TLSConfig = tlsCfg
	switch cfg.Encrypt {
	case "", EncryptOn:
		p.Encryption = msdsn.EncryptionRequired
	case EncryptStrict:
		p.Encryption = msdsn.EncryptionStrict
		tlsCfg.NextProtos = []string{"tds/8.0"}
	case EncryptOff:
		p.Encryption = msdsn.EncryptionOff
	default:
		return msdsn.Config{}, fmt.Errorf("sqlserver: encrypt %q: want %q, %q or %q", cfg.Encrypt, EncryptOn, EncryptStrict, EncryptOff)
	}
	return p, nil
}

// dialer dials through ConnectTo and counts dials. As a HostDialer it gets
// the network name itself (go-mssqldb skips its own DNS lookup), so the TLS
// server name stays the network name.
type dialer struct {
	c         *Client
	host      string
	connectTo transport.ConnectTo
	timeout   time.Duration
}

func (d *dialer) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	d.c.dials.Add(1)
	return d.connectTo.DialTimeout(ctx, network, addr, d.timeout)
}

func (d *dialer) HostName() string { return d.host }

// connector makes one go-mssqldb connector per connection: go-mssqldb writes
// into the TLS config during a strict handshake, so each connection gets its own copy.
type connector struct {
	c      *Client
	params msdsn.Config
	dialer *dialer
}

func (cn *connector) Connect(ctx context.Context) (driver.Conn, error) {
	p := cn.params
	p.TLSConfig = p.TLSConfig.Clone()
	refused := keepCertificateError(p.TLSConfig)
	inner := mssql.NewConnectorConfig(p)
	// go-mssqldb sets no deadline on the connection while it logs in, so a
	// server that accepts and never answers PRELOGIN would hold the
	// operation past its timeout: close the connection when ctx ends.
	d := &loginDialer{dialer: cn.dialer}
	inner.Dialer = d
	stop := context.AfterFunc(ctx, d.abort)
	conn, err := inner.Connect(ctx)
	if !stop() && err == nil {
		_ = conn.Close()
		err = ctx.Err()
	}
	if err != nil {
		if ctx.Err() != nil && !errors.Is(err, ctx.Err()) {
			err = fmt.Errorf("%w: %w", ctx.Err(), err)
		}
		cn.c.loginFailures.Add(1)
		var typed *tls.CertificateVerificationError
		if *refused != nil && !errors.As(err, &typed) {
			// go-mssqldb keeps only the text of a PRELOGIN-wrapped handshake's error.
			return nil, fmt.Errorf("TLS handshake with %s: %w", cn.c.server, *refused)
		}
		return nil, err
	}
	cn.c.logins.Add(1)
	cn.c.log.DebugContext(ctx, "logged in to SQL Server")
	return conn, nil
}

// loginDialer is the dialer of one login; abort closes what it dialled.
type loginDialer struct {
	*dialer
	mu      sync.Mutex
	conns   []net.Conn
	aborted bool
}

func (d *loginDialer) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	c, err := d.dialer.DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.aborted {
		_ = c.Close()
		return nil, ctx.Err()
	}
	d.conns = append(d.conns, c)
	return c, nil
}

func (d *loginDialer) abort() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.aborted = true
	for _, c := range d.conns {
		_ = c.Close()
	}
}

// keepCertificateError makes cfg verify the server's certificate itself, as
// crypto/tls does (the chain to cfg.RootCAs, the name cfg.ServerName), and
// keep the typed error in *refused: go-mssqldb reports a PRELOGIN-wrapped
// handshake's failure as text only, and the provider's diagnostic needs to
// say which certificate failed and why. A config that does not verify
// (trust_server_certificate) is left alone.
func keepCertificateError(cfg *tls.Config) *error {
	refused := new(error)
	if cfg.InsecureSkipVerify {
		return refused
	}
	// Verification moves to VerifyConnection, which runs on every handshake
	// (resumed ones included) and fails it just as crypto/tls's own check would.
	cfg.InsecureSkipVerify = true //nolint:gosec // G402: VerifyConnection below verifies the chain and the name
	cfg.VerifyConnection = func(cs tls.ConnectionState) error {
		if len(cs.PeerCertificates) == 0 {
			*refused = errors.New("the server presented no certificate")
			return *refused
		}
		// The name of this handshake: a TDS routing redirect clones the
		// config with the routed server's name.
		name := cs.ServerName
		if name == "" {
			name = cfg.ServerName
		}
		if name == "" {
			*refused = errors.New("no server name to verify the certificate against")
			return *refused
		}
		opts := x509.VerifyOptions{Roots: cfg.RootCAs, DNSName: name, Intermediates: x509.NewCertPool()}
		for _, c := range cs.PeerCertificates[1:] {
			opts.Intermediates.AddCert(c)
		}
		if _, err := cs.PeerCertificates[0].Verify(opts); err != nil {
			*refused = &tls.CertificateVerificationError{UnverifiedCertificates: cs.PeerCertificates, Err: err}
			return *refused
		}
		return nil
	}
	return refused
}

func (cn *connector) Driver() driver.Driver { return mssql.NewConnectorConfig(cn.params).Driver() }

// run runs op with retries of transient errors and maps the final error.
// Retry's attempts bound the retries, except after the client has reached
// the server: then a transient failure is taken as a failover in progress
// and retries go on until FailoverTimeout has passed since the first
// failure. The context's deadline bounds both.
func (c *Client) run(ctx context.Context, what string, op func(ctx context.Context) error) error {
	backoff := max(c.retry.Initial, time.Millisecond)
	var firstFailure time.Time
	for attempt := 1; ; attempt++ {
		if attempt > 1 {
			c.retries.Add(1)
		}
		err := op(ctx)
		if err == nil {
			c.reached.Store(true)
			return nil
		}
		if !isTransient(err) {
			return c.wrap(what, err)
		}
		if firstFailure.IsZero() {
			firstFailure = time.Now()
		}
		failingOver := c.reached.Load() && time.Since(firstFailure) < c.failoverTimeout
		if attempt >= c.retry.Attempts && !failingOver {
			return c.wrap(what, err)
		}
		// Full jitter keeps parallel resources from retrying in lockstep.
		wait := time.Duration(mrand.Int64N(int64(backoff) + 1)) //nolint:gosec // jitter, not a secret
		if dl, ok := ctx.Deadline(); ok && time.Until(dl) < wait {
			return c.wrap(what, err)
		}
		c.log.DebugContext(ctx, "retrying after transient error", "operation", what, "attempt", attempt, "failing_over", failingOver, "wait", wait.String(), "error", err.Error())
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return c.wrap(what, errors.Join(err, ctx.Err()))
		case <-t.C:
		}
		backoff *= 2
		if c.retry.Max > 0 && backoff > c.retry.Max {
			backoff = c.retry.Max
		}
	}
}

// query runs one query and hands its rows to scan.
func (c *Client) query(ctx context.Context, what, text string, scan func(*sql.Rows) error, args ...any) error {
	return c.run(ctx, what, func(ctx context.Context) error {
		c.queries.Add(1)
		rows, err := c.db.QueryContext(ctx, text, args...)
		if err != nil {
			return err
		}
		defer func() { _ = rows.Close() }() // rows.Err below reports what went wrong
		if err := scan(rows); err != nil {
			return err
		}
		return rows.Err()
	})
}

// exec runs one statement.
func (c *Client) exec(ctx context.Context, what, text string, args ...any) error {
	defer c.invalidateLogins()
	return c.run(ctx, what, func(ctx context.Context) error {
		c.queries.Add(1)
		_, err := c.db.ExecContext(ctx, text, args...)
		return err
	})
}

func connectTimeout(d time.Duration) time.Duration {
	if d <= 0 {
		return transport.DefaultConnectTimeout
	}
	return d
}
