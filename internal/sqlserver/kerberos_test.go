package sqlserver_test

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/jcmturner/gokrb5/v8/iana/etypeID"
	"github.com/jcmturner/gokrb5/v8/keytab"

	"github.com/bastion-pam/terraform-provider-bastion/internal/lab/tdssim"
	"github.com/bastion-pam/terraform-provider-bastion/internal/sqlserver"
	"github.com/bastion-pam/terraform-provider-bastion/internal/transport"
)

// The lab has no KDC. This checks the wiring up to the KDC: the keytab, realm
// and krb5.conf given in Config reach go-mssqldb's krb5 authenticator, which
// sends an AS-REQ to the KDC the krb5.conf names (a loopback stub that
// hangs up), and the failure maps to ErrUnreachable without retries.
func TestKerberosReachesTheConfiguredKDC(t *testing.T) {
	l := newLab(t, tdssim.Options{})
	kdc, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = kdc.Close() }()
	asReq := make(chan []byte, 4)
	go func() {
		for {
			c, err := kdc.Accept()
			if err != nil {
				return
			}
			_ = c.SetDeadline(time.Now().Add(5 * time.Second))
			var n [4]byte
			if _, err := io.ReadFull(c, n[:]); err == nil {
				msg := make([]byte, int(n[0])<<24|int(n[1])<<16|int(n[2])<<8|int(n[3]))
				_, _ = io.ReadFull(c, msg)
				asReq <- msg
			}
			_ = c.Close()
		}
	}()

	dir := t.TempDir()
	conf := filepath.Join(dir, "krb5.conf")
	krb5conf := fmt.Sprintf("[libdefaults]\n default_realm = PRIV.CONTOSO.TEST\n dns_lookup_kdc = false\n dns_lookup_realm = false\n udp_preference_limit = 1\n\n[realms]\n PRIV.CONTOSO.TEST = {\n  kdc = %s\n }\n", kdc.Addr())
	if err := os.WriteFile(conf, []byte(krb5conf), 0o600); err != nil {
		t.Fatal(err)
	}
	kt := keytab.New()
	if err := kt.AddEntry("svc-terraform", "PRIV.CONTOSO.TEST", "Keytab!Pass1", time.Now(), 1, etypeID.AES256_CTS_HMAC_SHA1_96); err != nil {
		t.Fatal(err)
	}
	ktBytes, err := kt.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	ktPath := filepath.Join(dir, "svc-terraform.keytab")
	if err := os.WriteFile(ktPath, ktBytes, 0o600); err != nil {
		t.Fatal(err)
	}

	c := l.client(t, func(c *sqlserver.Config) {
		c.Auth, c.Username, c.Password = sqlserver.AuthWindows, "svc-terraform", ""
		c.Kerberos = sqlserver.Kerberos{Realm: "PRIV.CONTOSO.TEST", ConfigFile: conf, KeytabFile: ktPath, NoDNSLookupKDC: true}
	})
	_, err = c.ServerInfo(ctx(t))
	if !errors.Is(err, transport.ErrUnreachable) {
		t.Fatalf("Kerberos with a KDC that hangs up: %v", err)
	}
	t.Log(err)
	select {
	case msg := <-asReq:
		// An AS-REQ is [APPLICATION 10]: DER tag 0x6a.
		if len(msg) == 0 || msg[0] != 0x6a {
			t.Fatalf("the KDC got %x, want an AS-REQ", msg)
		}
	default:
		t.Fatal("the configured KDC was never contacted")
	}
	if s := c.Stats(); s.Retries != 0 {
		t.Fatalf("a Kerberos failure was retried: %+v", s)
	}
}
