package directory

import (
	"testing"

	"github.com/bastion-pam/terraform-provider-bastion/internal/adnames"
	"github.com/go-ldap/ldap/v3"
)

// TestFilterBuildersEscape compiles each built filter and checks that a
// hostile value stays one equality assertion holding the value verbatim.
func TestFilterBuildersEscape(t *testing.T) {
	for _, v := range []string{"*", "*)(objectClass=*", "a)(|(b=*", `back\slash`, "nul\x00byte", "(", "ünïcødé", "CORP"} {
		f := and(eq("objectCategory", "trustedDomain"), or(eq("trustPartner", v), eq("flatName", v)))
		p, err := ldap.CompileFilter(f)
		if err != nil {
			t.Fatalf("%q: filter %s does not compile: %v", v, f, err)
		}
		if p.Tag != ldap.FilterAnd || len(p.Children) != 2 {
			t.Fatalf("%q: filter %s is not an AND of two", v, f)
		}
		orp := p.Children[1]
		if orp.Tag != ldap.FilterOr || len(orp.Children) != 2 {
			t.Fatalf("%q: filter %s: the OR has %d children", v, f, len(orp.Children))
		}
		for _, c := range orp.Children {
			if c.Tag != ldap.FilterEqualityMatch {
				t.Errorf("%q: filter %s holds a non-equality (%d)", v, f, c.Tag)
				continue
			}
			if got := c.Children[1].Data.String(); got != v {
				t.Errorf("%q: value compiled as %q", v, got)
			}
		}
	}
}

func TestDomainDNEscapes(t *testing.T) {
	for in, want := range map[string]string{
		"priv.contoso.test":  "DC=priv,DC=contoso,DC=test",
		"priv.contoso.test.": "DC=priv,DC=contoso,DC=test",
		"a,b.test":           `DC=a\,b,DC=test`,
		"x+y.test":           `DC=x\+y,DC=test`,
	} {
		if got := adnames.DomainDN(in); got != want {
			t.Errorf("DomainDN(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestDNHelpers(t *testing.T) {
	dn := `CN=NTDS Settings,CN=PRIV\,DC1,CN=Servers,CN=Site,CN=Sites,CN=Configuration,DC=x`
	if p := parentOf(dn); p != `CN=PRIV\,DC1,CN=Servers,CN=Site,CN=Sites,CN=Configuration,DC=x` {
		t.Errorf("parentOf = %q", p)
	}
	if v := adnames.RDNValue(parentOf(dn)); v != "PRIV,DC1" {
		t.Errorf("rdnValue = %q", v)
	}
	if !adnames.SameDN("cn=a, dc=X", "CN=A,DC=x") || adnames.SameDN("CN=A,DC=x", "CN=B,DC=x") {
		t.Error("sameDN")
	}
	if parentOf("DC=x") != "" {
		t.Error("parentOf of a single RDN")
	}
}

func TestTransientClassification(t *testing.T) {
	for name, c := range map[string]struct {
		err       error
		transient bool
	}{
		"busy":               {ldap.NewError(ldap.LDAPResultBusy, errString("diag")), true},
		"unavailable":        {ldap.NewError(ldap.LDAPResultUnavailable, errString("diag")), true},
		"network":            {ldap.NewError(ldap.ErrorNetwork, errString("diag")), true},
		"reader died":        {errString("unable to read LDAP response packet: EOF"), true},
		"invalid creds":      {ldap.NewError(ldap.LDAPResultInvalidCredentials, errString("diag")), false},
		"no such object":     {ldap.NewError(ldap.LDAPResultNoSuchObject, errString("diag")), false},
		"unwilling":          {ldap.NewError(ldap.LDAPResultUnwillingToPerform, errString("diag")), false},
		"certificate":        {ErrCertificate, false},
		"connection is lost": {errConnectionLost, true},
	} {
		if got := transient(c.err); got != c.transient {
			t.Errorf("%s: transient = %t, want %t", name, got, c.transient)
		}
	}
	if retryBusy(ldap.NewError(ldap.LDAPResultUnavailable, errString("diag"))) {
		t.Error("role changes must not retry unavailable")
	}
}

type errString string

func (e errString) Error() string { return string(e) }
