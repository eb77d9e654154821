package directory

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"unicode/utf16"

	"github.com/go-ldap/ldap/v3"

	"github.com/bastion-pam/terraform-provider-bastion/internal/transport"
)

// ErrInsecurePasswordWrite: a password may only travel over an encrypted
// connection, and AD refuses unicodePwd on any other.
var ErrInsecurePasswordWrite = errors.New("password write needs an encrypted LDAP connection")

// encodePassword is the unicodePwd value: the password in double quotes,
// UTF-16LE ([MS-ADTS] 3.1.1.3.1.5.2 "unicodePwd").
// https://learn.microsoft.com/troubleshoot/windows-server/active-directory/set-user-password-with-ldifde
func encodePassword(password string) string {
	u := utf16.Encode([]rune(`"` + password + `"`))
	b := make([]byte, 2*len(u))
	for i, r := range u {
		binary.LittleEndian.PutUint16(b[2*i:], r)
	}
	return string(b)
}

// SetAccountPassword resets the password of the domain user samAccountName
// on the domain controller dc itself (an administrative reset: a replace of
// unicodePwd, [MS-ADTS] 3.1.1.3.1.5.2), so a tool run on that DC next reads
// the new password without waiting for replication. The connection must be
// LDAPS, StartTLS or a sealed Kerberos bind: AD refuses the write otherwise,
// and the adapter refuses before sending it. A password the domain's policy
// rejects comes back as constraintViolation.
// Cost: 1 search + 1 modify on dc.
func (c *Client) SetAccountPassword(ctx context.Context, dc, samAccountName, password string) error {
	if c.cfg.TLSMode == TLSModeNone && (c.cfg.BindMode != BindKerberos || c.cfg.Kerberos.Protection == ProtectionSign) {
		return fmt.Errorf("%w: ldap.tls_mode is none without a sealed Kerberos bind; use ldaps or starttls", ErrInsecurePasswordWrite)
	}
	n, err := c.naming(ctx)
	if err != nil {
		return err
	}
	return c.do(ctx, dc, "reset the password of "+samAccountName+" on "+dc, nil, func(ctx context.Context, s *session) error {
		users, err := s.searchPaged(n.domain, ldap.ScopeWholeSubtree, and(eq("objectClass", "user"), eq("sAMAccountName", samAccountName)), "distinguishedName")
		if err != nil {
			return err
		}
		switch len(users) {
		case 0:
			return fmt.Errorf("%w: no user %q in %s", transport.ErrNotFound, samAccountName, n.domain)
		case 1:
		default:
			return fmt.Errorf("%d users have the sAMAccountName %q", len(users), samAccountName)
		}
		req := ldap.NewModifyRequest(users[0].DN, nil)
		req.Replace("unicodePwd", []string{encodePassword(password)})
		return s.modify(req)
	})
}
