package provider

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/diag"

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
