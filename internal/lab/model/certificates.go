package model

import (
	"fmt"
	"sort"
	"strings"

	"github.com/bastion-pam/terraform-provider-bastion/internal/lab/labca"
)

// Bad certificates ----------------------------------------------------------

// CertificateFlaw is a bad certificate one endpoint serves on purpose: the
// host's WinRM HTTPS or LDAPS/StartTLS listener, or a SQL network name's
// TDS TLS.
type CertificateFlaw struct {
	Host     string     `json:"host"`
	Protocol string     `json:"protocol"`
	Flaw     labca.Flaw `json:"flaw"`
}

// SetCertificateFlaw makes the endpoint serve a certificate with flaw from
// its next TLS handshake (labca.NoFlaw: the good one again). host is a
// host's FQDN, or for TDS a SQL instance's network name.
func (e *Env) SetCertificateFlaw(host, protocol string, flaw labca.Flaw) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	switch protocol {
	case WinRM, LDAP:
		if e.Host(host) == nil {
			return fmt.Errorf("model: no host %q", host)
		}
	case TDS:
		if e.SQL[Key(host)] == nil {
			return fmt.Errorf("model: no SQL instance %q (TDS certificates belong to a network name)", host)
		}
	default:
		return fmt.Errorf("model: protocol %q has no TLS certificate (want winrm, ldap or tds)", protocol)
	}
	k := protocol + "/" + Key(host)
	if flaw == labca.NoFlaw {
		delete(e.certFlaws, k)
		return nil
	}
	if e.certFlaws == nil {
		e.certFlaws = map[string]labca.Flaw{}
	}
	e.certFlaws[k] = flaw
	return nil
}

// CertificateFlawOf is the flaw of the certificate the endpoint serves now.
func (e *Env) CertificateFlawOf(host, protocol string) labca.Flaw {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.certFlaws[protocol+"/"+Key(host)]
}

// CertificateFlaws lists the endpoints serving a bad certificate.
func (e *Env) CertificateFlaws() []CertificateFlaw {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []CertificateFlaw
	for k, f := range e.certFlaws {
		for _, p := range []string{WinRM, LDAP, TDS} {
			if h, ok := strings.CutPrefix(k, p+"/"); ok {
				out = append(out, CertificateFlaw{Host: h, Protocol: p, Flaw: f})
			}
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Host != out[j].Host {
			return out[i].Host < out[j].Host
		}
		return out[i].Protocol < out[j].Protocol
	})
	return out
}

// clearCertificateFlaws restores the good certificates of host (a host or
// a network name); the caller holds e.mu.
func (e *Env) clearCertificateFlaws(host string) {
	for _, p := range []string{WinRM, LDAP, TDS} {
		delete(e.certFlaws, p+"/"+Key(host))
	}
}
