// Package labca makes the lab's certificate authority and server
// certificates, so every lab endpoint speaks verified TLS (WinRM HTTPS, LDAPS,
// StartTLS, TDS encryption) exactly as the provider expects in production.
package labca

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"strings"
	"sync"
	"time"
)

// CA is an in-memory certificate authority.
type CA struct {
	cert    *x509.Certificate
	key     *ecdsa.PrivateKey
	certPEM []byte

	mu     sync.Mutex
	leaves map[string]*tls.Certificate
	rogue  *CA // the unknown authority of Flaw UnknownAuthority, made on first use
}

// Flaw is what is wrong with a certificate an endpoint presents on purpose,
// so a client's refusal can be seen and tested: the three ways a TLS client
// rejects a server (RFC 5280 6.1.3 validity and chain, RFC 6125 6 names).
type Flaw string

const (
	// NoFlaw is the good certificate: the lab CA's, for the endpoint's names.
	NoFlaw Flaw = ""
	// Expired is signed by the lab CA for the right names, but its validity
	// ended yesterday.
	Expired Flaw = "expired"
	// WrongName is signed by the lab CA and valid, but issued for the
	// host's short (NetBIOS) name only, a common mistake, so it names
	// neither the FQDN nor the loopback address.
	WrongName Flaw = "wrong_name"
	// UnknownAuthority is valid and names the host, but is signed by a
	// second CA that no lab ca.pem holds.
	UnknownAuthority Flaw = "unknown_ca"
)

// Flaws lists every flaw a lab endpoint can serve.
var Flaws = []Flaw{Expired, WrongName, UnknownAuthority}

// ParseFlaw accepts a Flaw's name, or "none" / "" for the good certificate.
func ParseFlaw(s string) (Flaw, error) {
	if s == "" || s == "none" {
		return NoFlaw, nil
	}
	for _, f := range Flaws {
		if string(f) == s {
			return f, nil
		}
	}
	return NoFlaw, fmt.Errorf("certificate flaw %q: want one of expired, wrong_name, unknown_ca or none", s)
}

// New creates a CA valid for a day.
func New() (*CA, error) { return newCA("bastion lab CA") }

func newCA(name string) (*CA, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{CommonName: name, Organization: []string{"terraform-provider-bastion lab"}},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	return &CA{cert: cert, key: key, certPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), leaves: map[string]*tls.Certificate{}}, nil
}

// CertPEM is the CA certificate in PEM form (what the provider's ca_file holds).
func (c *CA) CertPEM() []byte { return c.certPEM }

// Pool is a cert pool holding only the CA.
func (c *CA) Pool() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(c.cert)
	return p
}

// Leaf returns (and caches) a server certificate for the given DNS names; the
// certificate also carries 127.0.0.1 and ::1 as IP SANs.
func (c *CA) Leaf(names ...string) (*tls.Certificate, error) {
	return c.FlawedLeaf(NoFlaw, names...)
}

// FlawedLeaf returns (and caches) a server certificate for names with the
// given flaw (NoFlaw: the same as Leaf).
func (c *CA) FlawedLeaf(flaw Flaw, names ...string) (*tls.Certificate, error) {
	if len(names) == 0 {
		return nil, fmt.Errorf("labca: no names")
	}
	if flaw == UnknownAuthority {
		rogue, err := c.rogueCA()
		if err != nil {
			return nil, err
		}
		return rogue.FlawedLeaf(NoFlaw, names...)
	}
	key := string(flaw) + fmt.Sprint(names)
	c.mu.Lock()
	defer c.mu.Unlock()
	if l, ok := c.leaves[key]; ok {
		return l, nil
	}
	pk, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial(),
		Subject:      pkix.Name{CommonName: names[0]},
		DNSNames:     names,
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1"), net.ParseIP("::1")},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	switch flaw {
	case Expired:
		tmpl.NotBefore, tmpl.NotAfter = time.Now().Add(-48*time.Hour), time.Now().Add(-24*time.Hour)
	case WrongName:
		short, _, _ := strings.Cut(names[0], ".")
		if short == names[0] {
			short = "wrong-name.invalid"
		}
		tmpl.Subject.CommonName, tmpl.DNSNames, tmpl.IPAddresses = short, []string{short}, nil
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, c.cert, &pk.PublicKey, c.key)
	if err != nil {
		return nil, err
	}
	leaf := &tls.Certificate{Certificate: [][]byte{der}, PrivateKey: pk}
	c.leaves[key] = leaf
	return leaf, nil
}

func (c *CA) rogueCA() (*CA, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.rogue == nil {
		r, err := newCA("bastion lab unknown CA")
		if err != nil {
			return nil, err
		}
		c.rogue = r
	}
	return c.rogue, nil
}

// ServerConfig is a TLS server config presenting a leaf for names.
func (c *CA) ServerConfig(names ...string) (*tls.Config, error) {
	leaf, err := c.Leaf(names...)
	if err != nil {
		return nil, err
	}
	return &tls.Config{Certificates: []tls.Certificate{*leaf}, MinVersion: tls.VersionTLS12}, nil
}

// FlawedServerConfig is a TLS server config presenting, at each handshake,
// the certificate for names with the flaw flaw() returns then, so a running
// endpoint can be switched to a bad certificate and back.
func (c *CA) FlawedServerConfig(flaw func() Flaw, names ...string) (*tls.Config, error) {
	if _, err := c.Leaf(names...); err != nil {
		return nil, err
	}
	return &tls.Config{MinVersion: tls.VersionTLS12, GetCertificate: c.GetCertificate(flaw, names...)}, nil
}

// GetCertificate is the tls.Config callback FlawedServerConfig uses.
func (c *CA) GetCertificate(flaw func() Flaw, names ...string) func(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	return func(*tls.ClientHelloInfo) (*tls.Certificate, error) { return c.FlawedLeaf(flaw(), names...) }
}

func serial() *big.Int {
	n, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	return n
}
