package winrmexec

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"

	ntlmssp "github.com/Azure/go-ntlmssp"
	krbclient "github.com/jcmturner/gokrb5/v8/client"
	krbconfig "github.com/jcmturner/gokrb5/v8/config"
	"github.com/jcmturner/gokrb5/v8/credentials"
	"github.com/jcmturner/gokrb5/v8/spnego"

	"github.com/bastion-pam/terraform-provider-bastion/internal/transport"
)

// authenticator adds credentials to the requests of one host.
type authenticator interface {
	// wrap returns the round tripper that authenticates over base.
	wrap(base http.RoundTripper) http.RoundTripper
	// prepare sets what the round tripper needs on each request.
	prepare(req *http.Request)
}

// basicAuth sends the password on every request: only over TLS (or Insecure).
type basicAuth struct{ user, password string }

func (a basicAuth) wrap(base http.RoundTripper) http.RoundTripper { return base }
func (a basicAuth) prepare(req *http.Request)                     { req.SetBasicAuth(a.user, a.password) }

// ntlmAuth is NTLMv2 over HTTPS: ntlmNegotiator authenticates each
// connection in two legs. WinRM authenticates the connection, so requests on
// a kept-alive connection need no handshake. It never falls back to Basic.
type ntlmAuth struct{ user, password string }

func (a ntlmAuth) wrap(base http.RoundTripper) http.RoundTripper {
	return &ntlmNegotiator{base: base, user: a.user, password: a.password}
}
func (a ntlmAuth) prepare(*http.Request) {}

// ntlmNegotiator is NTLM's connection-oriented handshake over HTTP
// ([MS-NLMP] 1.3.1.1; RFC 4559 4.2): the first request on a connection
// carries the NEGOTIATE message at once (empty body), the host answers 401
// with its CHALLENGE, and the request goes again with the AUTHENTICATE
// message. go-ntlmssp's Negotiator sends every request anonymously first,
// a wasted round trip on each new connection. Later requests go without a
// header; a 401 to one of them means a new connection, which then gets the
// handshake. The base round tripper holds one connection (ntlmSlots), so
// authenticated describes it.
type ntlmNegotiator struct {
	base           http.RoundTripper
	user, password string
	authenticated  atomic.Bool
}

func (n *ntlmNegotiator) RoundTrip(req *http.Request) (*http.Response, error) {
	body, err := readBody(req)
	if err != nil {
		return nil, err
	}
	if n.authenticated.Load() {
		resp, err := n.base.RoundTrip(ntlmLeg(req, body, ""))
		if err != nil || resp.StatusCode != http.StatusUnauthorized {
			return resp, err
		}
		drain(resp)
		n.authenticated.Store(false)
	}
	negotiate, err := ntlmssp.NewNegotiateMessage("", "")
	if err != nil {
		return nil, fmt.Errorf("%w: NTLM: %w", transport.ErrUnauthorized, err)
	}
	resp, err := n.base.RoundTrip(ntlmLeg(req, nil, "Negotiate "+base64.StdEncoding.EncodeToString(negotiate)))
	if err != nil {
		return nil, err
	}
	challenge := negotiateToken(resp.Header)
	switch {
	case resp.StatusCode == http.StatusUnauthorized && challenge == nil:
		// The host offers no NTLM (say Basic only): its 401 is the answer.
		return resp, nil
	case resp.StatusCode < 300:
		drain(resp)
		return nil, fmt.Errorf("%w: the host answered an NTLM negotiation with HTTP %d and no challenge", transport.ErrUnauthorized, resp.StatusCode)
	case resp.StatusCode != http.StatusUnauthorized:
		// A refusal before authentication (503, 500): the request was not run.
		return resp, nil
	}
	drain(resp)
	authenticate, err := ntlmssp.NewAuthenticateMessage(challenge, n.user, n.password, nil)
	if err != nil {
		return nil, fmt.Errorf("%w: NTLM: %w", transport.ErrUnauthorized, err)
	}
	resp, err = n.base.RoundTrip(ntlmLeg(req, body, "Negotiate "+base64.StdEncoding.EncodeToString(authenticate)))
	if err == nil && resp.StatusCode != http.StatusUnauthorized {
		n.authenticated.Store(true)
	}
	return resp, err
}

// ntlmLeg is req with body and authorization (none when empty).
func ntlmLeg(req *http.Request, body []byte, authorization string) *http.Request {
	r := req.Clone(req.Context())
	r.Header.Del("Authorization")
	if authorization != "" {
		r.Header.Set("Authorization", authorization)
	}
	r.ContentLength = int64(len(body))
	r.Body = http.NoBody
	r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	if len(body) > 0 {
		r.Body, _ = r.GetBody()
	}
	return r
}

func drain(resp *http.Response) {
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	_ = resp.Body.Close()
}

// kerberosAuth puts a SPNEGO token on every request. The gokrb5 client logs
// in once and caches the service ticket, so later requests cost no KDC trip.
type kerberosAuth struct {
	mu  sync.Mutex
	cl  *krbclient.Client
	spn string
}

func newKerberosAuth(cfg Config, lg *slog.Logger) (*kerberosAuth, error) {
	// gokrb5 logs its ticket cache and sessions: bridge it to our logger.
	logOpt := krbclient.Logger(log.New(logWriter{lg}, "", 0))
	k := cfg.Kerberos
	path := KrbConfPath(k.KrbConfPath)
	kc, err := krbconfig.Load(path)
	if err != nil {
		return nil, fmt.Errorf("kerberos: reading krb5.conf %s: %w", path, err)
	}
	if k.CCachePath != "" {
		cc, err := credentials.LoadCCache(k.CCachePath)
		if err != nil {
			return nil, fmt.Errorf("kerberos: reading credential cache %s: %w", k.CCachePath, err)
		}
		cl, err := krbclient.NewFromCCache(cc, kc, krbclient.DisablePAFXFAST(true), logOpt)
		if err != nil {
			return nil, fmt.Errorf("kerberos: credential cache %s: %w", k.CCachePath, err)
		}
		return &kerberosAuth{cl: cl, spn: k.SPN}, nil
	}
	user, realm := cfg.Username, k.Realm
	if u, r, ok := strings.Cut(user, "@"); ok {
		user = u
		if realm == "" {
			realm = r
		}
	} else if _, u, ok := strings.Cut(user, `\`); ok {
		user = u
	}
	if realm == "" {
		realm = kc.LibDefaults.DefaultRealm
	}
	if realm == "" {
		return nil, fmt.Errorf("kerberos: no realm: set the Kerberos realm, write the user as user@REALM, or set default_realm in %s", path)
	}
	cl := krbclient.NewWithPassword(user, strings.ToUpper(realm), cfg.Password, kc,
		krbclient.DisablePAFXFAST(true), krbclient.AssumePreAuthentication(true), logOpt)
	return &kerberosAuth{cl: cl, spn: k.SPN}, nil
}

func (a *kerberosAuth) wrap(base http.RoundTripper) http.RoundTripper {
	return roundTripFunc(func(req *http.Request) (*http.Response, error) {
		r := req.Clone(req.Context())
		a.mu.Lock()
		// An empty SPN means HTTP/<host of the URL>: the host's own name,
		// not the address dialed.
		err := spnego.SetSPNEGOHeader(a.cl, r, a.spn)
		a.mu.Unlock()
		if err != nil {
			return nil, fmt.Errorf("%w: kerberos: %w", transport.ErrUnauthorized, err)
		}
		return base.RoundTrip(r)
	})
}
func (a *kerberosAuth) prepare(*http.Request) {}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// logWriter turns a third-party *log.Logger's lines into debug records.
type logWriter struct{ l *slog.Logger }

func (w logWriter) Write(p []byte) (int, error) {
	w.l.Log(context.Background(), slog.LevelDebug, "gokrb5", "message", strings.TrimSpace(string(p)))
	return len(p), nil
}

// KrbConfPath is the krb5.conf Kerberos reads: the configured path, else
// $KRB5_CONFIG, else /etc/krb5.conf (MIT Kerberos' order).
func KrbConfPath(configured string) string {
	if configured != "" {
		return configured
	}
	if p := os.Getenv("KRB5_CONFIG"); p != "" {
		return p
	}
	return "/etc/krb5.conf"
}

// readBody reads and closes a request's body, which an authenticating
// round tripper sends more than once (or sealed).
func readBody(req *http.Request) ([]byte, error) {
	if req.Body == nil {
		return nil, nil
	}
	defer func() { _ = req.Body.Close() }()
	return io.ReadAll(req.Body)
}
