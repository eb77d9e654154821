package validators

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
)

// Length limits of the strings that reach Windows, with where they come from.
const (
	// MaxSAMAccountName: a user's sAMAccountName (pre-Windows 2000 logon
	// name) holds at most 20 characters ([MS-SAMR] 2.2.7.11 and Microsoft's
	// "sAMAccountName attribute": "must be less than 20 characters" for users).
	MaxSAMAccountName = 20
	// MaxNetBIOSName: NetBIOS computer and domain names, 15 characters
	// (Microsoft: "Naming conventions in Active Directory").
	MaxNetBIOSName = 15
	// MaxDNSLabel and MaxFQDN: RFC 1035 2.3.4 (63 octets a label, 255 a
	// name on the wire, which is 253 characters written out).
	MaxDNSLabel = 63
	MaxFQDN     = 253
	// MaxPath is MAX_PATH (260) less the terminating NUL (Microsoft:
	// "Maximum Path Length Limitation"); MaxLongPath the \\?\ limit.
	MaxPath     = 259
	MaxLongPath = 32767
	// MaxPassword: Active Directory takes passwords of up to 256 characters
	// (Microsoft: "Password must meet complexity requirements", "Maximum
	// password length"); an empty password is never a bastion account's.
	MaxPassword = 256
	// quoteLimit is how much of a value an error message shows.
	quoteLimit = 200
)

// Quote renders a value for an error message: quoted once, cut to 200
// characters, with how much was cut.
func Quote(s string) string {
	if utf8.RuneCountInString(s) <= quoteLimit {
		return strconv.Quote(s)
	}
	r := []rune(s)
	return strconv.Quote(string(r[:quoteLimit])) + fmt.Sprintf(" (cut: %d characters in all)", len(r))
}

// CheckLength reports a value longer than max characters, or with NUL.
func CheckLength(s string, max int) error {
	if strings.ContainsRune(s, 0) {
		return fmt.Errorf("contains a NUL character (U+0000), which Windows cuts a value at")
	}
	if n := utf8.RuneCountInString(s); n > max {
		return fmt.Errorf("is %d characters long (at most %d)", n, max)
	}
	return nil
}

// CheckPassword reports why s cannot be an Active Directory password. It
// never shows the value.
func CheckPassword(s string) error {
	if s == "" {
		return fmt.Errorf("is empty")
	}
	return CheckLength(s, MaxPassword)
}

// Password validates a password for Active Directory (1 to 256
// characters, no NUL). Errors never show the value.
func Password() validator.String {
	return stringCheck{desc: fmt.Sprintf("value must be a password of 1 to %d characters without NUL, as Active Directory allows", MaxPassword), check: CheckPassword}
}

// CheckSetupPassword reports why s cannot be a password SQL Server setup
// reads from its configuration file: an AD password, without a double
// quote (a value there is one quoted string, with no escape for a quote).
func CheckSetupPassword(s string) error {
	if err := CheckPassword(s); err != nil {
		return err
	}
	if strings.Contains(s, `"`) {
		return fmt.Errorf("contains a double quote, which SQL Server setup's configuration file (where the provider puts passwords, off the command line) cannot hold")
	}
	return nil
}

// SetupPassword validates a password given to SQL Server setup.
func SetupPassword() validator.String {
	return stringCheck{desc: fmt.Sprintf("value must be a password of 1 to %d characters without NUL or double quote (SQL Server setup reads it from a configuration file)", MaxPassword), check: CheckSetupPassword}
}

// CheckWindowsLongPath reports why s is not an absolute Windows path of
// up to 32767 characters (for a resource that opts into long paths).
func CheckWindowsLongPath(s string) error {
	return checkPath(s, MaxLongPath)
}

// WindowsLongPath validates an absolute Windows path for a step that opts
// into long paths (\\?\ prefix or LongPathsEnabled).
func WindowsLongPath() validator.String {
	return stringCheck{desc: fmt.Sprintf("value must be an absolute Windows path of at most %d characters", MaxLongPath), check: CheckWindowsLongPath}
}

// Further limits, with where they come from.
const (
	// MaxLogonName bounds a logon name: DOMAIN\name, a user principal name
	// (userPrincipalName's rangeUpper is 1024, [MS-ADA3] 2.349) or, for an
	// LDAP simple bind, a distinguished name.
	MaxLogonName = 1024
	// MaxSiteName: a site's name is a DNS label in the _sites SRV records
	// its DCs register (RFC 1035 2.3.4: 63 octets).
	MaxSiteName = MaxDNSLabel
	// MaxSysname: SQL Server identifiers (sysname, nvarchar(128)).
	MaxSysname = 128
)

// OneOf validates a choice among values (compared exactly). Unlike the
// framework's stringvalidator.OneOf, its error quotes the value once, cut
// to 200 characters.
func OneOf(values ...string) validator.String {
	quoted := make([]string, len(values))
	for i, v := range values {
		quoted[i] = strconv.Quote(v)
	}
	list := strings.Join(quoted, ", ")
	return stringCheck{desc: "value must be one of: " + list, check: func(s string) error {
		for _, v := range values {
			if s == v {
				return nil
			}
		}
		return fmt.Errorf("is %s", Quote(s))
	}}
}

// CheckText reports why s is not printable text on one line of at most max
// characters (which also refuses NUL).
func CheckText(s string, max int) error {
	if err := CheckLength(s, max); err != nil {
		return err
	}
	return CheckSingleLine(s)
}

// Text validates printable text on one line, without surrounding white
// space, of 1 to max characters; what names the thing and its limit's
// source for the error.
func Text(max int, what string) validator.String {
	return stringCheck{desc: fmt.Sprintf("value must be %s: printable text on one line of 1 to %d characters", what, max), check: func(s string) error {
		if s == "" {
			return fmt.Errorf("is empty")
		}
		return CheckText(s, max)
	}}
}

// CheckLogonName reports why s cannot be a logon name (DOMAIN\name, a UPN
// or a bind DN).
func CheckLogonName(s string) error {
	if s == "" {
		return fmt.Errorf("is empty")
	}
	return CheckText(s, MaxLogonName)
}

// LogonName validates the account a connection logs on with.
func LogonName() validator.String {
	return stringCheck{desc: fmt.Sprintf("value must be a logon name such as `PRIV\\admin`, `admin@priv.contoso.com` or a bind DN, on one line, at most %d characters", MaxLogonName), check: CheckLogonName}
}

// SiteName validates an Active Directory site's name.
func SiteName() validator.String {
	return Text(MaxSiteName, "an Active Directory site name (a DNS label in the site's SRV records, at most 63 characters)")
}

// MIMServiceName validates serviceName or servicePartitionName of a MIM
// Service config file: a host name or partition label, bounded as a DNS
// name (external_host_name, the partition's default, is one).
func MIMServiceName() validator.String {
	return Text(MaxFQDN, "a MIM service or partition name (at most 253 characters, a DNS name's limit)")
}

// DistinguishedName validates a distinguished name written out, bounded as
// a logon name (a bind DN is one).
func DistinguishedName() validator.String {
	return Text(MaxLogonName, "a distinguished name such as `DC=priv,DC=contoso,DC=com`")
}
