// Package winrmexec runs the provider's embedded PowerShell scripts on
// Windows hosts over WinRM (WS-Management remote shells).
//
// Every run has the same shape: one shell, one command line that never
// changes (powershell.exe with the bootstrap as -EncodedCommand, see
// scripts.CommandLine), the script text and its input as one JSON envelope
// on stdin, and one JSON reply on stdout. Configuration values never become
// PowerShell text.
//
// The wire format is masterzen/winrm's: its request builders and response
// parsers, posted through this package's own HTTP client so that every
// request carries the caller's context, the connections to a host are
// pooled, and each step of a run is known (to retry only what is safe).
package winrmexec

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/masterzen/winrm"

	"github.com/bastion-pam/terraform-provider-bastion/internal/scripts"
	"github.com/bastion-pam/terraform-provider-bastion/internal/transport"
)

// Authentication schemes.
const (
	AuthNTLM     = "ntlm"
	AuthKerberos = "kerberos"
	AuthBasic    = "basic"
)

// Defaults for zero Config fields.
const (
	DefaultOperationTimeout = 60 * time.Second
	// ServerShellIdleTimeout is the IdleTimeOut each shell is created with
	// (at least twice OperationTimeout): the host deletes a shell left idle
	// that long, e.g. by a provider that was killed.
	ServerShellIdleTimeout       = 2 * time.Minute
	DefaultMaxConcurrencyPerHost = 4
)

// KerberosConfig configures Kerberos authentication.
type KerberosConfig struct {
	// Realm of the user (default: from user@REALM, then krb5.conf's default_realm).
	Realm string
	// KrbConfPath is the krb5.conf to use (default: $KRB5_CONFIG, then /etc/krb5.conf).
	KrbConfPath string
	// SPN is the service principal (default: HTTP/<host>).
	SPN string
	// CCachePath is a credential cache to use instead of the password.
	CCachePath string
}

// Config configures a Client.
type Config struct {
	// Port is the WinRM port (0: 5986 with HTTPS, 5985 without).
	Port  int
	HTTPS bool
	// Auth is "ntlm" (default), "kerberos" or "basic".
	Auth     string
	Username string
	Password string
	// CACertPEM are the CAs that sign the hosts' certificates (empty: the system's).
	CACertPEM []byte
	// Insecure skips TLS verification (the caller warns), and allows
	// Basic or NTLM over plain HTTP.
	Insecure bool
	// TLSServerName overrides the name the certificate must carry (default: the host).
	TLSServerName string
	// OperationTimeout is WS-Management's OperationTimeout: how long the
	// service may hold a request, e.g. a Receive waiting for output (0: 60s).
	OperationTimeout time.Duration
	// ConnectTimeout bounds each TCP connect, apart from OperationTimeout
	// (0: transport.DefaultConnectTimeout, 15 s).
	ConnectTimeout time.Duration
	// MaxConcurrencyPerHost bounds the scripts running at once on one host (0: 4).
	MaxConcurrencyPerHost int
	// ConnectTo overrides the addresses dialed.
	ConnectTo transport.ConnectTo
	Kerberos  KerberosConfig
	// Retry bounds retries of transient failures (zero: transport.DefaultRetry).
	Retry  transport.RetryPolicy
	Logger *slog.Logger
	// SecondHop is how a step that reaches another machine gets there (see
	// AsAccount): SecondHopRunAs (default) runs it under the account's own
	// logon; SecondHopDelegation runs it in the WinRM session, for hosts
	// whose targets allow resource-based constrained delegation from them.
	SecondHop string
}

// The second-hop mechanisms of Config.SecondHop.
const (
	SecondHopRunAs      = "run_as"
	SecondHopDelegation = "delegation"
)

// Client runs scripts on hosts. It is safe for concurrent use; it keeps one
// pool of connections per host.
type Client struct {
	cfg    Config
	log    *slog.Logger
	auth   authenticator
	roots  *x509.CertPool
	params *winrm.Parameters
	// shellIdle is the IdleTimeOut sent with every shell Create.
	shellIdle time.Duration
	limiter   *transport.Limiter

	mu    sync.Mutex
	hosts map[string]*hostConn
}

// HostStats are the remote-call costs of one host.
type HostStats struct {
	// Runs is the number of Run calls; Failures how many returned an error.
	Runs     int
	Failures int
	// Attempts counts script executions tried, retries included.
	Attempts int
	// Requests counts HTTP requests sent, authentication round trips included.
	Requests int
	// Shells counts shells created (a shell serves many scripts in turn).
	Shells int
}

// DefaultPort is the port of Windows' WinRM listener: 5986 for HTTPS, 5985
// for HTTP (Installation and configuration for Windows Remote Management).
func DefaultPort(https bool) int {
	if https {
		return 5986
	}
	return 5985
}

// New validates cfg and returns a Client. It dials nothing.
func New(cfg Config) (*Client, error) {
	switch cfg.SecondHop {
	case "":
		cfg.SecondHop = SecondHopRunAs
	case SecondHopRunAs, SecondHopDelegation:
	default:
		return nil, fmt.Errorf("winrm second hop %q: want %q or %q", cfg.SecondHop, SecondHopRunAs, SecondHopDelegation)
	}
	cfg.Auth = strings.ToLower(strings.TrimSpace(cfg.Auth))
	if cfg.Auth == "" {
		cfg.Auth = AuthNTLM
	}
	if cfg.Port == 0 {
		cfg.Port = DefaultPort(cfg.HTTPS)
	}
	if cfg.Port < 1 || cfg.Port > 65535 {
		return nil, fmt.Errorf("winrm port %d is not a TCP port", cfg.Port)
	}
	if cfg.OperationTimeout == 0 {
		cfg.OperationTimeout = DefaultOperationTimeout
	}
	if cfg.OperationTimeout < time.Second {
		return nil, fmt.Errorf("winrm operation timeout %s is below one second", cfg.OperationTimeout)
	}
	if cfg.MaxConcurrencyPerHost <= 0 {
		cfg.MaxConcurrencyPerHost = DefaultMaxConcurrencyPerHost
	}
	if cfg.Retry == (transport.RetryPolicy{}) {
		cfg.Retry = transport.DefaultRetry
	}
	c := &Client{
		cfg:     cfg,
		log:     cfg.Logger,
		limiter: transport.NewLimiter(cfg.MaxConcurrencyPerHost),
		hosts:   map[string]*hostConn{},
		params:  winrm.NewParameters(fmt.Sprintf("PT%.3fS", cfg.OperationTimeout.Seconds()), "en-US", 153600),
		// Longer than any Receive may wait, so a running script's shell
		// never idles out; short enough that a killed provider's shells go.
		shellIdle: max(2*cfg.OperationTimeout, ServerShellIdleTimeout),
	}
	if c.log == nil {
		c.log = transport.Discard
	}

	switch cfg.Auth {
	case AuthBasic, AuthNTLM:
		if cfg.Username == "" || cfg.Password == "" {
			return nil, fmt.Errorf("winrm %s authentication needs a username and a password", cfg.Auth)
		}
		if cfg.Auth == AuthBasic {
			if !cfg.HTTPS && !cfg.Insecure {
				return nil, errors.New("winrm basic authentication over plain HTTP sends the password and every script in clear text: use HTTPS (port 5986), or NTLM, which seals every message on HTTP; set insecure only for a host that allows AllowUnencrypted")
			}
			c.auth = basicAuth{cfg.Username, cfg.Password}
		} else {
			// On HTTP, NTLM seals every message (sealed.go); it never
			// sends one in clear text, insecure or not.
			c.auth = ntlmAuth{cfg.Username, cfg.Password}
		}
	case AuthKerberos:
		if !cfg.HTTPS {
			// masterzen/winrm seals only NTLM message bodies; Windows refuses
			// unencrypted Kerberos traffic (terraform-provider-ad #120).
			return nil, errors.New("winrm kerberos over plain HTTP is not supported: the messages would not be encrypted and Windows refuses them by default; use HTTPS (port 5986)")
		}
		if cfg.Kerberos.CCachePath == "" && (cfg.Username == "" || cfg.Password == "") {
			return nil, errors.New("winrm kerberos authentication needs a username and a password, or a credential cache")
		}
		k, err := newKerberosAuth(cfg, c.log)
		if err != nil {
			return nil, fmt.Errorf("winrm %w", err)
		}
		c.auth = k
	default:
		return nil, fmt.Errorf("winrm auth %q: want ntlm, kerberos or basic", cfg.Auth)
	}

	if len(cfg.CACertPEM) > 0 {
		c.roots = x509.NewCertPool()
		if !c.roots.AppendCertsFromPEM(cfg.CACertPEM) {
			return nil, errors.New("winrm CA certificates: no PEM certificate found")
		}
	}
	return c, nil
}

// RunOption modifies one Run.
type RunOption func(*runOptions)

type runOptions struct{ idempotent, asAccount bool }

// Idempotent marks a script that changes nothing, so a run that failed
// after the command started may run again whole. Without it, only failures
// before the command was accepted are retried: a script that changes
// things never runs twice.
func Idempotent() RunOption { return func(o *runOptions) { o.idempotent = true } }

// AsAccount runs a script's step under the connection account's own logon
// instead of the WinRM session's network logon, which cannot reach a
// second machine: the input gains run_as = {username, password}, and the
// script (one that includes runas.ps1) runs itself again in a one-shot
// scheduled task registered with that password. The password travels as
// data on stdin only. It needs the account's password (not a Kerberos
// credential cache). With Config.SecondHop = SecondHopDelegation it does
// nothing: the step runs in the session and relies on delegation.
func AsAccount() RunOption { return func(o *runOptions) { o.asAccount = true } }

// RunFlags are a Run's options, resolved: what a fake Runner in a test
// checks.
type RunFlags struct{ Idempotent, AsAccount bool }

// Flags resolves opts.
func Flags(opts ...RunOption) RunFlags {
	var o runOptions
	for _, opt := range opts {
		opt(&o)
	}
	return RunFlags{Idempotent: o.idempotent, AsAccount: o.asAccount}
}

// ErrNoRunAsPassword: AsAccount needs the WinRM account's password.
var ErrNoRunAsPassword = errors.New("winrm: running a step under the account's own logon needs its password (username and password, not a Kerberos credential cache)")

type runAs struct {
	Username string `json:"username"`
	Password string `json:"password"`
}

// withRunAs adds run_as to an input that marshals to a JSON object.
func (c *Client) withRunAs(input any) (any, error) {
	if c.cfg.Username == "" || c.cfg.Password == "" {
		return nil, ErrNoRunAsPassword
	}
	raw, err := json.Marshal(input)
	if err != nil {
		return nil, err
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil || fields == nil {
		return nil, errors.New("winrm: a run-as input must be a JSON object")
	}
	as, err := json.Marshal(runAs{c.cfg.Username, c.cfg.Password}) //nolint:gosec // G117: the run-as password goes to the host as data on stdin, by design
	if err != nil {
		return nil, err
	}
	fields["run_as"] = as
	return fields, nil
}

// Run executes s on host with input (marshalled to JSON) and decodes the
// script's result into out (a pointer; nil to discard it).
//
// Errors: *RemoteError when the script failed (errors.Is ErrNotFound for
// ObjectNotFound); transport.ErrUnauthorized when the host refused the
// credentials; transport.ErrUnreachable when it could not be reached or did
// not answer in time; *HTTPError for other WinRM refusals.
func (c *Client) Run(ctx context.Context, host string, s scripts.Script, input any, out any, opts ...RunOption) error {
	var o runOptions
	for _, opt := range opts {
		opt(&o)
	}
	host = strings.TrimSuffix(strings.TrimSpace(host), ".")
	if host == "" {
		return errors.New("winrm: no host")
	}
	if s.Text == "" {
		return fmt.Errorf("winrm: script %q has no text", s.Name)
	}
	if s.SHA256 != "" {
		if sum := sha256.Sum256([]byte(s.Text)); hex.EncodeToString(sum[:]) != s.SHA256 {
			return fmt.Errorf("winrm: script %s does not match its digest", s.Name)
		}
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("winrm %s: running %s: %w", host, s.Name, err)
	}
	if o.asAccount && c.cfg.SecondHop != SecondHopDelegation {
		var err error
		if input, err = c.withRunAs(input); err != nil {
			return fmt.Errorf("winrm %s: running %s: %w", host, s.Name, err)
		}
	}
	stdin, err := json.Marshal(scripts.Envelope{Script: s.Text, Input: input})
	if err != nil {
		return fmt.Errorf("winrm: encoding the input of %s: %w", s.Name, err)
	}
	if stdin, err = asciiJSON(stdin); err != nil {
		return fmt.Errorf("winrm: the input of %s: %w", s.Name, err)
	}
	h := c.conn(host)
	h.count(func(st *HostStats) { st.Runs++ })

	var (
		res       *output
		attempt   int
		retryable bool
	)
	cmdline := scripts.CommandLine()
	err = transport.Retry(ctx, c.cfg.Retry, c.log, "winrm "+s.Name+" on "+host,
		func(error) bool { return retryable },
		func(ctx context.Context) error {
			attempt++
			retryable = false
			release, err := c.limiter.Acquire(ctx, h.key)
			if err != nil {
				return fmt.Errorf("waiting for one of the %d sessions allowed on the host: %w", c.cfg.MaxConcurrencyPerHost, err)
			}
			defer release()
			h.count(func(st *HostStats) { st.Attempts++ })
			start, reqs := time.Now(), h.requests.Load()
			r, started, err := h.execute(ctx, cmdline, stdin)
			attrs := []any{"host", host, "script", s.Name, "attempt", attempt,
				"duration", time.Since(start).String(), "requests", h.requests.Load() - reqs}
			if err != nil {
				c.log.DebugContext(ctx, "winrm script run failed", append(attrs, "command_started", started, "error", err.Error())...)
				if started && !o.idempotent {
					if transient(err) {
						err = fmt.Errorf("%w (not retried: the script may have run, and it changes the host)", err)
					}
					return err
				}
				retryable = transient(err)
				if !started {
					err = notStarted{err}
				}
				return err
			}
			c.log.DebugContext(ctx, "winrm script run", append(attrs, "exit_code", r.exitCode)...)
			res = r
			return nil
		})
	if err == nil {
		err = decode(host, s.Name, res, out)
	} else {
		err = fmt.Errorf("winrm %s: running %s: %w", host, s.Name, err)
	}
	if err != nil {
		h.count(func(st *HostStats) { st.Failures++ })
	}
	return err
}

// Stats returns the remote-call costs per host (lower-case names).
func (c *Client) Stats() map[string]HostStats {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[string]HostStats, len(c.hosts))
	for k, h := range c.hosts {
		st := h.stats
		st.Requests = int(h.requests.Load())
		out[k] = st
	}
	return out
}

// Close deletes the shells kept for reuse on every host (in parallel,
// bounded by ctx) and closes idle connections; later runs still work and
// delete their shell when done. The provider calls it when it stops.
func (c *Client) Close(ctx context.Context) {
	c.mu.Lock()
	hosts := make([]*hostConn, 0, len(c.hosts))
	for _, h := range c.hosts {
		hosts = append(hosts, h)
	}
	c.mu.Unlock()
	var wg sync.WaitGroup
	for _, h := range hosts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			h.closeShells(ctx)
		}()
	}
	wg.Wait()
	c.CloseIdleConnections()
}

// CloseIdleConnections closes kept-alive connections to every host.
func (c *Client) CloseIdleConnections() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, h := range c.hosts {
		h.http.CloseIdleConnections()
	}
}

// hostConn is everything kept per host: its URL, HTTP client and pools of
// connections and shells.
type hostConn struct {
	c        *Client
	key, url string
	http     *http.Client
	requests atomic.Int64
	stats    HostStats // guarded by c.mu

	shellMu sync.Mutex
	idle    []idleShell // shells waiting for a script, oldest first
	reaper  *time.Timer
	closed  bool
}

func (h *hostConn) count(f func(*HostStats)) {
	h.c.mu.Lock()
	defer h.c.mu.Unlock()
	f(&h.stats)
}

func (c *Client) conn(host string) *hostConn {
	key := strings.ToLower(host)
	c.mu.Lock()
	defer c.mu.Unlock()
	if h, ok := c.hosts[key]; ok {
		return h
	}
	scheme := "http"
	if c.cfg.HTTPS {
		scheme = "https"
	}
	h := &hostConn{c: c, key: key, url: fmt.Sprintf("%s://%s/wsman", scheme, net.JoinHostPort(host, fmt.Sprint(c.cfg.Port)))}
	serverName := c.cfg.TLSServerName
	if serverName == "" {
		serverName = host
	}
	dial := func(ctx context.Context, network, addr string) (net.Conn, error) {
		conn, err := c.cfg.ConnectTo.DialTimeout(ctx, network, addr, c.cfg.ConnectTimeout)
		if err != nil {
			return nil, &dialError{err}
		}
		return conn, nil
	}
	base := &http.Transport{
		Proxy:       nil, // connect_to is the override; a proxy for registry downloads must not catch WinRM
		DialContext: dial,
		TLSClientConfig: &tls.Config{
			RootCAs:            c.roots,
			ServerName:         serverName,     // the host's name, not the address dialed
			InsecureSkipVerify: c.cfg.Insecure, //nolint:gosec // G402: winrm.insecure is an explicit opt-in that warns at configure time
			MinVersion:         tls.VersionTLS12,
		},
		TLSHandshakeTimeout: 30 * time.Second,
		// A Receive may legitimately wait OperationTimeout for output.
		ResponseHeaderTimeout: c.cfg.OperationTimeout + 30*time.Second,
		MaxIdleConnsPerHost:   c.cfg.MaxConcurrencyPerHost,
		IdleConnTimeout:       90 * time.Second,
		DisableCompression:    true,
	}
	counted := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		h.requests.Add(1)
		return base.RoundTrip(r)
	})
	rt := c.auth.wrap(counted)
	if c.cfg.HTTPS && c.cfg.Auth == AuthNTLM {
		rt = newNTLMSlots(base, c.cfg.MaxConcurrencyPerHost, func(t http.RoundTripper) http.RoundTripper {
			return c.auth.wrap(roundTripFunc(func(r *http.Request) (*http.Response, error) {
				h.requests.Add(1)
				return t.RoundTrip(r)
			}))
		})
	}
	if !c.cfg.HTTPS && c.cfg.Auth == AuthNTLM {
		st := newSealedTransport(dial, c.cfg.Username, c.cfg.Password, c.cfg.MaxConcurrencyPerHost)
		st.onRequest = func() { h.requests.Add(1) }
		rt = st
	}
	h.http = &http.Client{
		Transport: rt,
		// WinRM never redirects; a redirect would resend the credentials elsewhere.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	c.hosts[key] = h
	return h
}

// decode checks that stdout is exactly one bootstrap reply and decodes it.
func decode(host, script string, r *output, out any) error {
	stdout := bytes.TrimSpace(bytes.TrimPrefix(r.stdout, []byte("\xef\xbb\xbf")))
	stderr := bytes.TrimSpace(readableStderr(r.stderr))
	if len(stdout) == 0 {
		return fmt.Errorf("winrm %s: %s printed no reply (exit code %d); stderr: %s", host, script, r.exitCode, quote(stderr))
	}
	var reply struct {
		OK     *bool               `json:"ok"`
		Result json.RawMessage     `json:"result"`
		Error  *scripts.ReplyError `json:"error"`
	}
	dec := json.NewDecoder(bytes.NewReader(stdout))
	err := dec.Decode(&reply)
	if err == nil {
		if _, extra := dec.Token(); extra != io.EOF {
			err = errors.New("more output after the reply")
		}
	}
	if err != nil || reply.OK == nil || (!*reply.OK && reply.Error == nil) {
		if err == nil {
			err = errors.New(`no "ok" reply`)
		}
		return fmt.Errorf("winrm %s: the output of %s is not one JSON reply (%w); something on the host printed to the console, e.g. a logon script or a module (exit code %d); stdout: %s; stderr: %s",
			host, script, err, r.exitCode, quote(stdout), quote(stderr))
	}
	if !*reply.OK {
		return &RemoteError{Host: host, Script: script, Type: reply.Error.Type, Message: reply.Error.Message,
			Category: reply.Error.Category, ID: reply.Error.ID, ExitCode: r.exitCode}
	}
	if r.exitCode != 0 {
		return fmt.Errorf("winrm %s: %s replied ok but exited with code %d; stderr: %s", host, script, r.exitCode, quote(stderr))
	}
	if out != nil {
		if err := json.Unmarshal(reply.Result, out); err != nil {
			return fmt.Errorf("winrm %s: decoding the result of %s: %w", host, script, err)
		}
	}
	return nil
}

// Runner runs an embedded script on a host: what the domain packages
// (internal/mim, ad, pam, fci) need of a Client, so tests can fake it.
type Runner interface {
	Run(ctx context.Context, host string, s scripts.Script, input any, out any, opts ...RunOption) error
}

var _ Runner = (*Client)(nil)
