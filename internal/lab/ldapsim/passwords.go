package ldapsim

import (
	"strings"

	"github.com/jimlambrt/gldap"

	"github.com/bastion-pam/terraform-provider-bastion/internal/lab/model"
	"github.com/bastion-pam/terraform-provider-bastion/internal/lab/utf16le"
)

// Windows' answers to a password write ([MS-ADTS] 3.1.1.3.1.5.2 unicodePwd).
const (
	// Over a connection that is neither TLS nor sealed.
	diagPasswordNeedsEncryption = "0000001F: SvcErr: DSID-031A12D2, problem 5003 (WILL_NOT_PERFORM), data 0\n"
	// A value that is not a double-quoted UTF-16LE string.
	diagPasswordConversion = "00000057: LdapErr: DSID-0C090A85, comment: Error in attribute conversion operation, data 0, v4563"
	// A password the domain's policy refuses.
	diagPasswordPolicy = "0000052D: AtrErr: DSID-03191083, #1:\n\t0: 0000052D: DSID-03191083, problem 1005 (CONSTRAINT_ATT_TYPE), data 0, Att 9005a (unicodePwd)\n"
)

// isPasswordAttribute names the attributes AD only writes over an encrypted
// connection.
func isPasswordAttribute(name string) bool {
	return strings.EqualFold(name, "unicodePwd") || strings.EqualFold(name, "userPassword")
}

// decodeUnicodePwd reads the unicodePwd value: a password in double quotes,
// UTF-16LE.
func decodeUnicodePwd(v string) (string, bool) {
	b := []byte(v)
	if len(b) < 4 || len(b)%2 != 0 {
		return "", false
	}
	s := utf16le.Decode(b)
	if len(s) < 2 || s[0] != '"' || s[len(s)-1] != '"' {
		return "", false
	}
	return s[1 : len(s)-1], true
}

// resetPassword is an administrator's reset of a user's password: one
// replace of unicodePwd (a user's own change, delete of the old value and
// add of the new, is not modelled). Callers hold the lock.
func resetPassword(e *model.Env, d *model.Domain, name string, changes []change) (int, string) {
	if len(changes) != 1 || !strings.EqualFold(changes[0].attr, "unicodePwd") || changes[0].op != gldap.ReplaceAttribute || len(changes[0].vals) != 1 {
		return gldap.ResultUnwillingToPerform, "the lab changes a user only by an administrative password reset: one replace of unicodePwd"
	}
	pw, ok := decodeUnicodePwd(changes[0].vals[0])
	if !ok {
		return gldap.ResultConstraintViolation, diagPasswordConversion
	}
	if !model.MeetsComplexity(pw) {
		e.NoteSecret(pw)
		return gldap.ResultConstraintViolation, diagPasswordPolicy
	}
	if err := e.SetUserPassword(d, name, pw); err != nil {
		return gldap.ResultUnwillingToPerform, err.Error()
	}
	return gldap.ResultSuccess, ""
}
