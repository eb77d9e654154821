package transport

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"math/big"
	"net"
	"strings"
	"testing"
	"time"
)

type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
}

func newTestCA(t *testing.T, name string) testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := x509.ParseCertificate(der)
	return testCA{c, key}
}

func (ca testCA) leaf(t *testing.T, cn string, names []string, notBefore, notAfter time.Time) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: cn}, DNSNames: names,
		NotBefore: notBefore, NotAfter: notAfter,
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

// handshake serves cert on loopback and returns the client's handshake error.
func handshake(t *testing.T, cert tls.Certificate, roots *x509.CertPool, serverName string) error {
	t.Helper()
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = ln.Close() }()
	go func() {
		c, err := ln.Accept()
		if err == nil {
			_ = c.(*tls.Conn).Handshake()
			_ = c.Close()
		}
	}()
	raw, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	c := tls.Client(raw, &tls.Config{RootCAs: roots, ServerName: serverName, MinVersion: tls.VersionTLS12})
	defer func() { _ = c.Close() }()
	return c.Handshake()
}

func TestDescribeCertificateError(t *testing.T) {
	ca, other := newTestCA(t, "PRIV Root CA"), newTestCA(t, "Somebody Else CA")
	pool := x509.NewCertPool()
	pool.AddCert(ca.cert)
	now := time.Now()
	host := "priv-dc1.priv.contoso.test"
	good := ca.leaf(t, host, []string{host}, now.Add(-time.Hour), now.Add(time.Hour))
	cases := []struct {
		name string
		cert tls.Certificate
		want []string // "" first: accepted
	}{
		{"trusted", good, nil},
		{"unknown authority", other.leaf(t, host, []string{host}, now.Add(-time.Hour), now.Add(time.Hour)),
			[]string{`"priv-dc1.priv.contoso.test"`, `signed by "Somebody Else CA"`, "(unknown authority)", "ca_file"}},
		{"name mismatch", ca.leaf(t, "priv-dc2.priv.contoso.test", []string{"priv-dc2.priv.contoso.test", "dc2"}, now.Add(-time.Hour), now.Add(time.Hour)),
			[]string{`"priv-dc2.priv.contoso.test" is issued for priv-dc2.priv.contoso.test, dc2, not for priv-dc1.priv.contoso.test (name mismatch)`}},
		{"expired", ca.leaf(t, host, []string{host}, now.Add(-48*time.Hour), now.Add(-24*time.Hour)),
			[]string{`"priv-dc1.priv.contoso.test" expired on ` + now.Add(-24*time.Hour).UTC().Format("2006-01-02"), "(expired)"}},
		{"not yet valid", ca.leaf(t, host, []string{host}, now.Add(24*time.Hour), now.Add(48*time.Hour)),
			[]string{"not valid before " + now.Add(24*time.Hour).UTC().Format("2006-01-02"), "(not yet valid)", "clocks"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := handshake(t, c.cert, pool, host)
			what, ok := DescribeCertificateError(err)
			if c.want == nil {
				if err != nil || ok {
					t.Fatalf("handshake: %v (described %q)", err, what)
				}
				return
			}
			if !ok {
				t.Fatalf("%v not described as a certificate error", err)
			}
			for _, w := range c.want {
				if !strings.Contains(what, w) {
					t.Errorf("description %q lacks %q", what, w)
				}
			}
		})
	}
	if _, ok := DescribeCertificateError(errors.New("connection refused")); ok {
		t.Error("a refused connection was described as a certificate error")
	}
}

// IsCertificateError is the one certificate rule of the three adapters: the
// sentinel an adapter wraps, or the verification errors of crypto/tls and
// crypto/x509 however deep they are wrapped; nothing else.
func TestIsCertificateError(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
		want bool
	}{
		{"sentinel, wrapped with unreachable", fmt.Errorf("dial: %w: %w: x", ErrUnreachable, ErrCertificate), true},
		{"unknown authority", fmt.Errorf("handshake: %w", x509.UnknownAuthorityError{}), true},
		{"name mismatch", x509.HostnameError{Host: "h"}, true},
		{"expired", x509.CertificateInvalidError{Reason: x509.Expired}, true},
		{"verification error", &tls.CertificateVerificationError{Err: errors.New("x")}, true},
		{"unreachable only", fmt.Errorf("dial: %w", ErrUnreachable), false},
		{"unauthorized", ErrUnauthorized, false},
		{"nil", nil, false},
	} {
		if got := IsCertificateError(tc.err); got != tc.want {
			t.Errorf("%s: IsCertificateError = %v, want %v", tc.name, got, tc.want)
		}
	}
}
