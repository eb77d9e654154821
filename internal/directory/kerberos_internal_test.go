package directory

import (
	"errors"
	"testing"

	"github.com/bastion-pam/terraform-provider-bastion/internal/transport"
)

func TestSplitPrincipal(t *testing.T) {
	for in, want := range map[string][2]string{
		`PRIV\Administrator`:           {"Administrator", ""},
		"svc@PRIV.CONTOSO.TEST":        {"svc", "PRIV.CONTOSO.TEST"},
		"Administrator":                {"Administrator", ""},
		"  spaced@REALM ":              {"spaced", "REALM"},
		`CORP\svc-sync`:                {"svc-sync", ""},
		"host/app.priv.contoso.test@R": {"host/app.priv.contoso.test", "R"},
	} {
		u, r := splitPrincipal(in)
		if u != want[0] || r != want[1] {
			t.Errorf("splitPrincipal(%q) = %q, %q; want %q, %q", in, u, r, want[0], want[1])
		}
	}
}

func TestSPN(t *testing.T) {
	k := &kerberos{spn: DefaultSPN}
	if got := k.spnFor("PRIV-DC1.priv.contoso.test."); got != "ldap/priv-dc1.priv.contoso.test" {
		t.Errorf("default SPN = %q", got)
	}
	k.spn = "LDAP/%s@PRIV.CONTOSO.TEST"
	if got := k.spnFor("dc"); got != "LDAP/dc@PRIV.CONTOSO.TEST" {
		t.Errorf("templated SPN = %q", got)
	}
	k.spn = "ldap/alias.priv.contoso.test"
	if got := k.spnFor("dc"); got != "ldap/alias.priv.contoso.test" {
		t.Errorf("fixed SPN = %q", got)
	}
}

func TestClassifyKerberos(t *testing.T) {
	for msg, want := range map[string]error{
		"[Root cause: KDC_Error] KDC_Error: AS Exchange Error: kerberos error response from KDC: KRB Error: (24) KDC_ERR_PREAUTH_FAILED": transport.ErrUnauthorized,
		"KRB Error: (6) KDC_ERR_C_PRINCIPAL_UNKNOWN Client not found in Kerberos database":                                               transport.ErrUnauthorized,
		"[Root cause: Networking_Error] Networking_Error: AS Exchange Error: failed sending AS_REQ to KDC":                               transport.ErrUnreachable,
		"communication error with KDC via TCP: dial tcp 127.0.0.1:1: connect: connection refused":                                        transport.ErrUnreachable,
	} {
		if err := classifyKerberos("dc", "u@R", errString(msg)); !errors.Is(err, want) {
			t.Errorf("%q -> %v, want %v", msg, err, want)
		}
	}
	if err := classifyKerberos("dc", "u@R", errString("something else")); errors.Is(err, transport.ErrUnauthorized) || errors.Is(err, transport.ErrUnreachable) {
		t.Errorf("unknown kerberos error classified: %v", err)
	}
}
