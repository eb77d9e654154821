package winrmexec

import (
	"context"
	"fmt"
	"log"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"sync"

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

// ntlmAuth is NTLMv2 through go-ntlmssp's Negotiator, which turns the Basic
// credentials on the request into the NTLM handshake. WinRM authenticates
// the connection, so requests on a kept-alive connection need no handshake.
// It never falls back to Basic.
type ntlmAuth struct{ user, password string }

func (a ntlmAuth) wrap(base http.RoundTripper) http.RoundTripper {
	return ntlmssp.Negotiator{RoundTripper: base}
}
func (a ntlmAuth) prepare(req *http.Request) { req.SetBasicAuth(a.user, a.password) }

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
