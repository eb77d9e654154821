package directory_test

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/jcmturner/gokrb5/v8/iana/errorcode"
	"github.com/jcmturner/gokrb5/v8/iana/nametype"
	"github.com/jcmturner/gokrb5/v8/keytab"
	"github.com/jcmturner/gokrb5/v8/messages"
	"github.com/jcmturner/gokrb5/v8/types"

	"github.com/bastion-pam/terraform-provider-bastion/internal/directory"
	"github.com/bastion-pam/terraform-provider-bastion/internal/transport"
)

// The Samba suite tests Kerberos binds against a real KDC. Here a stub KDC
// on loopback answers every request with a KRB-ERROR, which is enough to
// check what the client asks for and how KDC answers map to errors.

const realm = "PRIV.CONTOSO.TEST"

// stubKDC answers each AS-REQ over TCP (RFC 4120 7.2.2) with errorCode and
// records the client principals it was asked about.
type stubKDC struct {
	ln        net.Listener
	errorCode int32
	mu        sync.Mutex
	cnames    []string
}

func startStubKDC(t *testing.T, code int32) *stubKDC {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	k := &stubKDC{ln: ln, errorCode: code}
	t.Cleanup(func() { _ = ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go k.serve(c)
		}
	}()
	return k
}

func (k *stubKDC) serve(c net.Conn) {
	defer func() { _ = c.Close() }()
	var n uint32
	if err := binary.Read(c, binary.BigEndian, &n); err != nil || n > 1<<20 {
		return
	}
	req := make([]byte, n)
	if _, err := io.ReadFull(c, req); err != nil {
		return
	}
	var as messages.ASReq
	if err := as.Unmarshal(req); err == nil {
		k.mu.Lock()
		k.cnames = append(k.cnames, as.ReqBody.CName.PrincipalNameString()+"@"+as.ReqBody.Realm)
		k.mu.Unlock()
	}
	e := messages.NewKRBError(types.NewPrincipalName(nametype.KRB_NT_SRV_INST, "krbtgt/"+realm), realm, k.errorCode, "stub KDC")
	b, err := e.Marshal()
	if err != nil {
		return
	}
	_ = binary.Write(c, binary.BigEndian, uint32(len(b)))
	_, _ = c.Write(b)
}

func (k *stubKDC) asked() []string {
	k.mu.Lock()
	defer k.mu.Unlock()
	return append([]string(nil), k.cnames...)
}

func writeKrb5Conf(t *testing.T, kdc string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "krb5.conf")
	conf := fmt.Sprintf(`[libdefaults]
  default_realm = %[1]s
  dns_lookup_kdc = false
  dns_lookup_realm = false
  udp_preference_limit = 1

[realms]
  %[1]s = {
    kdc = %[2]s
  }

[domain_realm]
  .priv.contoso.test = %[1]s
  priv.contoso.test = %[1]s
`, realm, kdc)
	if err := os.WriteFile(p, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func kerberosConfig(krb5 string) func(*directory.Config) {
	return func(c *directory.Config) {
		c.BindMode = directory.BindKerberos
		c.Kerberos = directory.KerberosConfig{KrbConfPath: krb5}
		c.Servers = []string{"priv-dc1.priv.contoso.test"}
	}
}

func TestKerberosBindRejectedByKDC(t *testing.T) {
	l := startLab(t)
	kdc := startStubKDC(t, errorcode.KDC_ERR_C_PRINCIPAL_UNKNOWN)
	c := l.client(t, kerberosConfig(writeKrb5Conf(t, kdc.ln.Addr().String())))
	_, err := c.RootDSE(ctxT(t))
	if !errors.Is(err, transport.ErrUnauthorized) {
		t.Fatalf("KDC says principal unknown: %v, want ErrUnauthorized", err)
	}
	if got := kdc.asked(); len(got) == 0 || got[0] != "Administrator@"+realm {
		t.Errorf("the KDC was asked about %v, want Administrator@%s (from PRIV\\Administrator and the domain)", got, realm)
	}
	if st := c.TotalStats(); st.Dials != 1 || st.Binds != 1 || st.Searches != 0 {
		t.Errorf("stats %+v: a refused Kerberos bind is final", st)
	}
}

func TestKerberosKDCUnreachable(t *testing.T) {
	l := startLab(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := ln.Addr().String()
	_ = ln.Close()
	c := l.client(t, kerberosConfig(writeKrb5Conf(t, closed)))
	start := time.Now()
	if _, err := c.RootDSE(ctxT(t)); !errors.Is(err, transport.ErrUnreachable) {
		t.Fatalf("no KDC: %v, want ErrUnreachable", err)
	}
	if time.Since(start) > 10*time.Second {
		t.Errorf("took %s", time.Since(start))
	}
}

func TestKerberosKeytabPrincipal(t *testing.T) {
	l := startLab(t)
	kdc := startStubKDC(t, errorcode.KDC_ERR_CLIENT_REVOKED) // account disabled
	kt := keytab.New()
	if err := kt.AddEntry("svc-bastion", realm, "not-a-real-secret", time.Now(), 1, 18); err != nil {
		t.Fatal(err)
	}
	b, err := kt.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	ktPath := filepath.Join(t.TempDir(), "bastion.keytab")
	if err := os.WriteFile(ktPath, b, 0o600); err != nil {
		t.Fatal(err)
	}
	krb5 := writeKrb5Conf(t, kdc.ln.Addr().String())
	c := l.client(t, kerberosConfig(krb5), func(c *directory.Config) {
		c.Username, c.Password = "svc-bastion@"+realm, ""
		c.Kerberos.KeytabPath = ktPath
	})
	if _, err := c.RootDSE(ctxT(t)); !errors.Is(err, transport.ErrUnauthorized) {
		t.Fatalf("credentials revoked: %v, want ErrUnauthorized", err)
	}
	if got := kdc.asked(); len(got) == 0 || got[0] != "svc-bastion@"+realm {
		t.Errorf("the KDC was asked about %v", got)
	}
}

func TestKerberosConfigErrors(t *testing.T) {
	krb5 := writeKrb5Conf(t, "127.0.0.1:1")
	base := directory.Config{Servers: []string{"dc"}, Domain: "priv.contoso.test", BindMode: directory.BindKerberos}
	for name, mut := range map[string]func(*directory.Config){
		"no krb5.conf": func(c *directory.Config) { c.Username, c.Password = "u", "p" },
		"missing krb5.conf": func(c *directory.Config) {
			c.Kerberos.KrbConfPath = "/nonexistent/krb5.conf"
			c.Username, c.Password = "u", "p"
		},
		"no credentials":       func(c *directory.Config) { c.Kerberos.KrbConfPath = krb5; c.Username = "u" },
		"bad credential cache": func(c *directory.Config) { c.Kerberos.KrbConfPath = krb5; c.Kerberos.CCachePath = krb5 },
		"missing keytab": func(c *directory.Config) {
			c.Kerberos.KrbConfPath = krb5
			c.Username = "u"
			c.Kerberos.KeytabPath = "/nonexistent"
		},
		"keytab, no principal": func(c *directory.Config) { c.Kerberos.KrbConfPath = krb5; c.Kerberos.KeytabPath = krb5 },
	} {
		cfg := base
		mut(&cfg)
		if _, err := directory.New(cfg); !errors.Is(err, directory.ErrInvalidConfig) {
			t.Errorf("%s: %v, want ErrInvalidConfig", name, err)
		}
	}
	cfg := base
	cfg.Kerberos.KrbConfPath = krb5
	cfg.Username, cfg.Password = `PRIV\Administrator`, "p"
	c, err := directory.New(cfg)
	if err != nil {
		t.Fatalf("valid kerberos config: %v", err)
	}
	_ = c.Close()
}
