package directory

import (
	"fmt"
	"strings"
)

// ErrCleartextCredential: a password would cross a connection without TLS.
var ErrCleartextCredential = fmt.Errorf("%w: password without TLS", ErrInvalidConfig)

// OtherDomainConfig is the Config that reads another forest's domain (a
// CORP domain of a PAM trust) with that domain's own account: base's
// transport settings (port, TLS, CA, connect_to, timeouts, retries) and
// nothing of its identity. It always binds simple with username and
// password, never with base's Kerberos ticket cache, keytab or realm, which
// belong to the bastion's account. A simple bind sends the password as is,
// so a base without TLS (TLSModeNone) is refused with ErrCleartextCredential
// (RFC 4513 section 5.1.2 and 6.3.1: protect it with TLS).
func OtherDomainConfig(base Config, domain, username, password string) (Config, error) {
	if base.TLSMode == TLSModeNone {
		return Config{}, fmt.Errorf("%w: reading %s as %s needs ldaps or starttls", ErrCleartextCredential, domain, username)
	}
	domain = strings.TrimSuffix(domain, ".")
	return Config{
		Servers:            []string{domain}, // a domain's DNS name resolves to its DCs
		Port:               base.Port,
		TLSMode:            base.TLSMode,
		CACertPEM:          base.CACertPEM,
		InsecureSkipVerify: base.InsecureSkipVerify,
		BindMode:           BindSimple,
		Username:           username,
		Password:           password,
		Domain:             domain,
		ConnectTo:          base.ConnectTo,
		PoolSize:           base.PoolSize,
		Retry:              base.Retry,
		Logger:             base.Logger,
		PageSize:           base.PageSize,
		DialTimeout:        base.DialTimeout,
		IdleTimeout:        base.IdleTimeout,
		DownFor:            base.DownFor,
		RequestTimeout:     base.RequestTimeout,
	}, nil
}

// NewOtherDomain is New on OtherDomainConfig: a Client of another forest's
// domain, reading it with that domain's own account.
func NewOtherDomain(base Config, domain, username, password string) (*Client, error) {
	c, err := OtherDomainConfig(base, domain, username, password)
	if err != nil {
		return nil, err
	}
	return New(c)
}
