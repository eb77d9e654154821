package directory_test

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf16"

	"github.com/go-ldap/ldap/v3"

	"github.com/bastion-pam/terraform-provider-bastion/internal/directory"
	"github.com/bastion-pam/terraform-provider-bastion/internal/lab/model"
	"github.com/bastion-pam/terraform-provider-bastion/internal/transport"
)

const syncAccount = "svc-dsrm"

func accountPassword(l *lab) string {
	var pw string
	_ = l.env.Do(func(e *model.Env) error { pw = e.Credentials[`priv\`+syncAccount]; return nil })
	return pw
}

// An administrative reset of unicodePwd on one DC: the account's password
// changes; the policy, an unknown user and an unencrypted connection are
// refused (the last by the adapter before anything is sent).
func TestSetAccountPassword(t *testing.T) {
	l := startLab(t)
	_ = l.env.Do(func(e *model.Env) error { e.Credentials[`priv\`+syncAccount] = model.RandomPassword(); return nil })
	c := l.client(t)
	ctx := ctxT(t)
	want := model.RandomPassword()
	l.env.ResetCounters()
	if err := c.SetAccountPassword(ctx, model.DC2, syncAccount, want); err != nil {
		t.Fatal(err)
	}
	if got := accountPassword(l); got != want {
		t.Fatal("the account's password did not change")
	}
	if n := l.calls(model.DC2); n < 2 {
		t.Fatalf("%d LDAP operations on %s; the reset must go to that DC", n, model.DC2)
	}
	err := c.SetAccountPassword(ctx, model.DC2, syncAccount, "short")
	if err == nil || !strings.Contains(err.Error(), "0000052D") || accountPassword(l) != want {
		t.Fatalf("a password the policy refuses: %v", err)
	}
	if err := c.SetAccountPassword(ctx, model.DC2, "svc-nobody", want); !errors.Is(err, transport.ErrNotFound) {
		t.Fatalf("an unknown account: %v, want ErrNotFound", err)
	}
	plain := l.client(t, func(cfg *directory.Config) { cfg.TLSMode = directory.TLSModeNone })
	l.env.ResetCounters()
	if err := plain.SetAccountPassword(ctx, model.DC2, syncAccount, model.RandomPassword()); !errors.Is(err, directory.ErrInsecurePasswordWrite) || l.calls(model.DC2) != 0 {
		t.Fatalf("without TLS: %v after %d operations, want ErrInsecurePasswordWrite before any", err, l.calls(model.DC2))
	}
}

// The lab, like AD, refuses a password write over a connection without TLS.
func TestLabRefusesPasswordWithoutTLS(t *testing.T) {
	l := startLab(t)
	_ = l.env.Do(func(e *model.Env) error { e.Credentials[`priv\`+syncAccount] = model.RandomPassword(); return nil })
	before := accountPassword(l)
	conn, err := ldap.DialURL("ldap://" + l.srv.ConnectTo()[model.DC1+":389"])
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = conn.Close() }()
	if err := conn.Bind(model.AdminUser, l.seed.AdminPassword); err != nil {
		t.Fatal(err)
	}
	u := utf16.Encode([]rune(`"` + model.RandomPassword() + `"`))
	b := make([]byte, 2*len(u))
	for i, r := range u {
		b[2*i], b[2*i+1] = byte(r), byte(r>>8)
	}
	req := ldap.NewModifyRequest("CN="+syncAccount+",CN=Users,DC=priv,DC=contoso,DC=test", nil)
	req.Replace("unicodePwd", []string{string(b)})
	err = conn.Modify(req)
	if !ldap.IsErrorWithCode(err, ldap.LDAPResultUnwillingToPerform) || !strings.Contains(err.Error(), "WILL_NOT_PERFORM") || accountPassword(l) != before {
		t.Fatalf("unicodePwd over plain LDAP: %v", err)
	}
}
