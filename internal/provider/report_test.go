package provider

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/diag"

	"github.com/bastion-pam/terraform-provider-bastion/internal/directory"
	"github.com/bastion-pam/terraform-provider-bastion/internal/sqlserver"
	"github.com/bastion-pam/terraform-provider-bastion/internal/transport"
)

// TestReportCertificateErrors: a refused certificate is reported with the
// host, the operation, which certificate and why, and the protocol's advice.
func TestReportCertificateErrors(t *testing.T) {
	leaf := &x509.Certificate{Subject: pkix.Name{CommonName: "priv-dc2.priv.contoso.test"}, DNSNames: []string{"priv-dc2.priv.contoso.test"},
		Issuer: pkix.Name{CommonName: "Somebody Else CA"}, NotAfter: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	classes := map[string]error{
		"(name mismatch)":     x509.HostnameError{Certificate: leaf, Host: "priv-dc1.priv.contoso.test"},
		"(unknown authority)": x509.UnknownAuthorityError{Cert: leaf},
		"(expired)":           x509.CertificateInvalidError{Cert: leaf, Reason: x509.Expired},
	}
	for _, p := range []protocol{viaWinRM, viaLDAP, viaSQL, viaCorpLDAP} {
		for class, cause := range classes {
			err := fmt.Errorf("%w: TLS handshake with priv-dc1.priv.contoso.test: %w", transport.ErrUnreachable, cause)
			var diags diag.Diagnostics
			report(&diags, failure{summary: "Thing Not Read", host: "priv-dc1.priv.contoso.test", protocol: p, doing: "reading the thing"}, err)
			if len(diags) != 1 {
				t.Fatalf("%d diagnostics", len(diags))
			}
			d := diags[0].Detail()
			for _, want := range []string{"On priv-dc1.priv.contoso.test over " + protocolNames[p] + ", reading the thing failed.", `"priv-dc2.priv.contoso.test"`, class, advice[p].certificate} {
				if !strings.Contains(d, want) {
					t.Errorf("protocol %d, %s: detail lacks %q:\n%s", p, class, want, d)
				}
			}
			if strings.Contains(d, advice[p].unreachable) {
				t.Errorf("protocol %d, %s: a certificate failure reported as unreachable:\n%s", p, class, d)
			}
		}
	}
}

// An adapter's certificate sentinel is enough for the certificate advice,
// even when the handshake error reached it only as text (go-mssqldb
// formats the PRELOGIN handshake error with %v); without it the same text
// is an unreachable host.
func TestReportCertificateSentinels(t *testing.T) {
	text := errors.New("TLS Handshake failed: tls: failed to verify certificate: x509: certificate signed by unknown authority")
	for name, c := range map[string]struct {
		p      protocol
		err    error
		isCert bool
	}{
		"sql sentinel":       {viaSQL, fmt.Errorf("sqlserver: ServerInfo on priv-sql: %w: %w for priv-sql: %w", transport.ErrUnreachable, sqlserver.ErrCertificate, text), true},
		"directory sentinel": {viaLDAP, fmt.Errorf("%w: %w: priv-dc1: %w", transport.ErrUnreachable, directory.ErrCertificate, text), true},
		"sql text only":      {viaSQL, fmt.Errorf("sqlserver: ServerInfo on priv-sql: %w: %w", transport.ErrUnreachable, text), false},
	} {
		var diags diag.Diagnostics
		report(&diags, failure{summary: "Thing Not Read", host: "priv-sql", protocol: c.p, doing: "reading the thing"}, c.err)
		d := diags[0].Detail()
		if got := strings.Contains(d, advice[c.p].certificate); got != c.isCert {
			t.Errorf("%s: certificate advice %t, want %t:\n%s", name, got, c.isCert, d)
		}
		if got := strings.Contains(d, advice[c.p].unreachable); got == c.isCert {
			t.Errorf("%s: unreachable advice %t, want %t:\n%s", name, got, !c.isCert, d)
		}
	}
}
