package model

import (
	"fmt"
	"strings"

	"github.com/bastion-pam/terraform-provider-bastion/internal/adnames"
)

// MeetsComplexity is the default domain password policy: at least 7
// characters from at least three of upper case, lower case, digits and
// other characters.
// https://learn.microsoft.com/windows/security/threat-protection/security-policy-settings/password-must-meet-complexity-requirements
func MeetsComplexity(p string) bool {
	if len([]rune(p)) < 7 {
		return false
	}
	return adnames.ClassesOf(p).Count() >= 3
}

// SetUserPassword is an administrative reset of the password of the domain
// user name (sAMAccountName) of d: the account's logon password changes
// at once. The lab has one copy of the directory, so every DC sees it.
// Callers hold the lock.
func (e *Env) SetUserPassword(d *Domain, name, password string) error {
	key := strings.ToLower(d.NetBIOSName + `\` + name)
	if _, ok := e.Credentials[key]; !ok {
		return fmt.Errorf("model: no user %s in %s", name, d.DNSName)
	}
	e.Credentials[key] = password
	e.NoteSecret(password)
	e.Record(d.DNSName, "password-reset", d.NetBIOSName+`\`+name)
	return nil
}

// UserPassword returns the password of the domain user name of d, as the
// DC's copy of the directory holds it. Callers hold the lock.
func (e *Env) UserPassword(d *Domain, name string) (string, bool) {
	pw, ok := e.Credentials[strings.ToLower(d.NetBIOSName+`\`+name)]
	return pw, ok
}
