package lab_test

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/go-ldap/ldap/v3"

	"github.com/bastion-pam/terraform-provider-bastion/internal/lab"
	"github.com/bastion-pam/terraform-provider-bastion/internal/lab/labca"
	"github.com/bastion-pam/terraform-provider-bastion/internal/lab/model"
)

// TestCertificateFlaws: every TLS endpoint of the lab (WinRM HTTPS, LDAPS,
// LDAP StartTLS, TDS 8.0 TLS) serves each flawed certificate it is told to,
// a verifying client refuses it for that reason, and "none" brings back a
// certificate the same client accepts.
func TestCertificateFlaws(t *testing.T) {
	l, err := lab.Start(lab.Options{CertificateFlaws: []model.CertificateFlaw{{Host: model.DC2, Protocol: model.LDAP, Flaw: labca.Expired}}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(l.Close)
	ct := l.ConnectTo()
	client := func(host string, alpn ...string) *tls.Config {
		return &tls.Config{RootCAs: l.CA.Pool(), ServerName: host, MinVersion: tls.VersionTLS12, NextProtos: alpn}
	}
	dialTLS := func(host, port string, alpn ...string) func() error {
		return func() error {
			d := &net.Dialer{Timeout: 5 * time.Second}
			c, err := tls.DialWithDialer(d, "tcp", ct.Resolve(net.JoinHostPort(host, port)), client(host, alpn...))
			if err == nil {
				_ = c.Close()
			}
			return err
		}
	}
	startTLS := func(host string) func() error {
		return func() error {
			c, err := ldap.DialURL("ldap://" + ct.Resolve(net.JoinHostPort(host, "389")))
			if err != nil {
				return err
			}
			defer func() { _ = c.Close() }()
			return c.StartTLS(client(host))
		}
	}
	endpoints := []struct {
		name, host, protocol string
		handshake            func() error
		// untyped: go-ldap's StartTLS keeps only the text of the x509 error
		// (the provider's directory adapter sends StartTLS itself to keep it).
		untyped bool
	}{
		{"WinRM HTTPS", model.App1, model.WinRM, dialTLS(model.App1, "5986", "http/1.1"), false},
		{"LDAPS", model.DC1, model.LDAP, dialTLS(model.DC1, "636"), false},
		{"LDAP StartTLS", model.DC1, model.LDAP, startTLS(model.DC1), true},
		{"TDS 8.0", model.SQLNetwork, model.TDS, dialTLS(model.Key(model.SQLNetwork), "1433", "tds/8.0"), false},
	}
	// What crypto/x509 says for each reason, for the untyped errors.
	texts := map[labca.Flaw]string{
		labca.Expired:          "certificate has expired",
		labca.WrongName:        "certificate is valid for priv-dc1, not " + model.DC1,
		labca.UnknownAuthority: "certificate signed by unknown authority",
	}
	reasons := map[labca.Flaw]func(error) bool{
		labca.Expired: func(err error) bool {
			var e x509.CertificateInvalidError
			return errors.As(err, &e) && e.Reason == x509.Expired
		},
		labca.WrongName: func(err error) bool {
			var e x509.HostnameError
			return errors.As(err, &e)
		},
		labca.UnknownAuthority: func(err error) bool {
			var e x509.UnknownAuthorityError
			return errors.As(err, &e) && e.Cert != nil && e.Cert.Issuer.CommonName == "bastion lab unknown CA"
		},
	}
	for _, ep := range endpoints {
		if err := ep.handshake(); err != nil {
			t.Fatalf("%s with the good certificate: %v", ep.name, err)
		}
		for _, flaw := range labca.Flaws {
			if err := l.Env.SetCertificateFlaw(ep.host, ep.protocol, flaw); err != nil {
				t.Fatal(err)
			}
			err := ep.handshake()
			if ep.untyped && err != nil && strings.Contains(err.Error(), texts[flaw]) {
				continue
			}
			if !reasons[flaw](err) {
				t.Errorf("%s serving %s: the client got %v, want a refusal for that reason", ep.name, flaw, err)
			}
		}
		if err := l.Env.SetCertificateFlaw(ep.host, ep.protocol, labca.NoFlaw); err != nil {
			t.Fatal(err)
		}
		if err := ep.handshake(); err != nil {
			t.Errorf("%s after -flaw none: %v", ep.name, err)
		}
	}
	// The Option: DC2's LDAPS was flawed from the start, DC1's never was.
	if err := dialTLS(model.DC2, "636")(); !reasons[labca.Expired](err) {
		t.Errorf("LDAPS of %s started with an expired certificate: %v", model.DC2, err)
	}
	if err := l.Env.SetCertificateFlaw(model.DC1, model.TDS, labca.Expired); err == nil {
		t.Error("a TDS certificate flaw on a host that is no SQL network name was accepted")
	}
}
