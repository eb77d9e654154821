package directory_test

import (
	"errors"
	"testing"
	"time"

	"github.com/bastion-pam/terraform-provider-bastion/internal/directory"
)

func TestOtherDomainConfig(t *testing.T) {
	kerberosBase := directory.Config{
		Servers: []string{"priv-dc1.priv.contoso.test"}, PinnedDC: "priv-dc1.priv.contoso.test", Port: 636, TLSMode: directory.TLSModeLDAPS,
		CACertPEM: []byte("ca"), BindMode: directory.BindKerberos, Username: "svc-tf@PRIV.CONTOSO.TEST", Password: "priv-secret",
		Kerberos: directory.KerberosConfig{Realm: "PRIV.CONTOSO.TEST", KrbConfPath: "/etc/krb5.conf", CCachePath: "/tmp/krb5cc", KeytabPath: "/etc/tf.keytab", SPN: "ldap/%s"},
		Domain:   "priv.contoso.test", DialTimeout: 7 * time.Second,
	}
	for _, tc := range []struct {
		name    string
		base    directory.Config
		wantErr error
		tls     string
	}{
		{"kerberos base binds simple with the CORP credential", kerberosBase, nil, directory.TLSModeLDAPS},
		{"simple base over starttls", directory.Config{TLSMode: directory.TLSModeStartTLS, Port: 389, Username: "PRIV\\svc", Password: "priv-secret"}, nil, directory.TLSModeStartTLS},
		{"default TLS mode is ldaps, accepted", directory.Config{}, nil, ""},
		{"no TLS refused", directory.Config{TLSMode: directory.TLSModeNone}, directory.ErrCleartextCredential, ""},
		{"no TLS with kerberos base refused too", func() directory.Config { c := kerberosBase; c.TLSMode = directory.TLSModeNone; return c }(), directory.ErrCleartextCredential, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := directory.OtherDomainConfig(tc.base, "corp.contoso.test.", "CORP\\Administrator", "corp-secret")
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) || !errors.Is(err, directory.ErrInvalidConfig) {
					t.Fatalf("err = %v, want %v", err, tc.wantErr)
				}
				if got.Password != "" {
					t.Fatalf("a refused config still carries the password")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.BindMode != directory.BindSimple || got.Kerberos != (directory.KerberosConfig{}) {
				t.Errorf("bind %q kerberos %+v, want simple and no Kerberos setting", got.BindMode, got.Kerberos)
			}
			if got.Username != "CORP\\Administrator" || got.Password != "corp-secret" {
				t.Errorf("credential %q/%q, want the CORP one", got.Username, got.Password)
			}
			if got.Domain != "corp.contoso.test" || len(got.Servers) != 1 || got.Servers[0] != "corp.contoso.test" || got.PinnedDC != "" {
				t.Errorf("domain %q servers %v pinned %q, want the CORP domain only", got.Domain, got.Servers, got.PinnedDC)
			}
			if got.TLSMode != tc.tls || got.Port != tc.base.Port || string(got.CACertPEM) != string(tc.base.CACertPEM) || got.DialTimeout != tc.base.DialTimeout {
				t.Errorf("transport %q/%d/%q/%v not kept from base", got.TLSMode, got.Port, got.CACertPEM, got.DialTimeout)
			}
		})
	}
}
