package transport

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"strings"
	"time"
)

// IsCertificateError reports a TLS peer certificate the client did not
// trust: an error marked ErrCertificate, or crypto/tls's and crypto/x509's
// own verification errors (unknown CA, wrong name, expired).
func IsCertificateError(err error) bool {
	var (
		verify    *tls.CertificateVerificationError
		unknownCA x509.UnknownAuthorityError
		hostname  x509.HostnameError
		invalid   x509.CertificateInvalidError
	)
	return errors.Is(err, ErrCertificate) || errors.As(err, &verify) || errors.As(err, &unknownCA) ||
		errors.As(err, &hostname) || errors.As(err, &invalid)
}

// DescribeCertificateError says which certificate a TLS handshake refused
// and why: signed by an authority the CA file does not hold, issued for
// other names, or outside its validity period. ok is false when err is not
// a certificate verification failure.
func DescribeCertificateError(err error) (what string, ok bool) {
	var verify *tls.CertificateVerificationError
	var leaf *x509.Certificate
	if errors.As(err, &verify) && len(verify.UnverifiedCertificates) > 0 {
		leaf = verify.UnverifiedCertificates[0]
	}
	var unknownCA x509.UnknownAuthorityError
	var hostname x509.HostnameError
	var invalid x509.CertificateInvalidError
	switch {
	case errors.As(err, &hostname):
		c := hostname.Certificate
		return fmt.Sprintf("the certificate %s is issued for %s, not for %s (name mismatch): the server must present a certificate that names the host the provider connects to",
			certName(c), certNames(c), hostname.Host), true
	case errors.As(err, &invalid) && invalid.Reason == x509.Expired:
		c := invalid.Cert
		if c == nil {
			c = leaf
		}
		now := time.Now().UTC()
		if c != nil && now.Before(c.NotBefore) {
			return fmt.Sprintf("the certificate %s is not valid before %s (not yet valid): check the clocks of this machine and the server", certName(c), c.NotBefore.UTC().Format(time.RFC3339)), true
		}
		if c != nil {
			return fmt.Sprintf("the certificate %s expired on %s (expired): renew it on the server", certName(c), c.NotAfter.UTC().Format(time.RFC3339)), true
		}
		return "the server's certificate has expired or is not yet valid: renew it, and check the clocks", true
	case errors.As(err, &invalid):
		return fmt.Sprintf("the certificate %s was refused: %s", certName(invalid.Cert), invalid.Error()), true
	case errors.As(err, &unknownCA):
		c := unknownCA.Cert
		if c == nil {
			c = leaf
		}
		return fmt.Sprintf("the certificate %s is signed by %s, an authority the configured CA file does not hold (unknown authority): add the CA that issued it to the ca_file setting",
			certName(c), issuerName(c)), true
	case verify != nil:
		return fmt.Sprintf("the certificate %s was refused: %s", certName(leaf), verify.Err), true
	}
	return "", false
}

func certName(c *x509.Certificate) string {
	if c == nil {
		return "the server presented"
	}
	if c.Subject.CommonName != "" {
		return fmt.Sprintf("%q", c.Subject.CommonName)
	}
	return fmt.Sprintf("with serial %s", c.SerialNumber)
}

func certNames(c *x509.Certificate) string {
	if c == nil {
		return "other names"
	}
	names := append([]string{}, c.DNSNames...)
	for _, ip := range c.IPAddresses {
		names = append(names, ip.String())
	}
	if len(names) == 0 {
		return "no host name (no subject alternative name)"
	}
	return strings.Join(names, ", ")
}

func issuerName(c *x509.Certificate) string {
	if c == nil || c.Issuer.CommonName == "" {
		return "an issuer"
	}
	return fmt.Sprintf("%q", c.Issuer.CommonName)
}
