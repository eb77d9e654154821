package validators

import (
	"fmt"
	"net/mail"
	"regexp"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
)

// CheckSQLServerName reports why s cannot name a SQL Server for a client:
// a host name, or host\instance for a named instance (SQL Server's
// "server_name[\instance_name]" of the connection string).
func CheckSQLServerName(s string) error {
	host, instance, named := strings.Cut(s, `\`)
	if err := checkHostName(host); err != nil {
		return fmt.Errorf("has the host part %s, which %w", Quote(host), err)
	}
	if named {
		if err := CheckSQLInstanceName(instance); err != nil {
			return err
		}
	}
	return nil
}

// SQLServerName validates a SQL Server's network name with an optional instance.
func SQLServerName() validator.String {
	return stringCheck{desc: "value must be the SQL Server's network name, e.g. `priv-sql.priv.contoso.com`, or `name\\INSTANCE` for a named instance", check: CheckSQLServerName}
}

// sqlRegularIdentifier is a regular identifier as SQL Server defines it
// (Microsoft: "Database identifiers"): a letter, _, @ or # first, then
// letters, digits, @, $, # or _; sysname holds at most 128 characters.
var sqlRegularIdentifier = regexp.MustCompile(`^[\p{L}_@#][\p{L}\p{Nd}@$#_]*$`)

// MaxSQLIdentifier is sysname's length, nvarchar(128).
const MaxSQLIdentifier = 128

// CheckSQLDatabaseName reports why s cannot name a database that setup
// programs create by name: a regular identifier of at most 128 characters
// that is not a temporary object's (# first) or a variable's (@ first).
func CheckSQLDatabaseName(s string) error {
	if err := CheckLength(s, MaxSQLIdentifier); err != nil {
		return fmt.Errorf("%w: a database name is a sysname", err)
	}
	if !sqlRegularIdentifier.MatchString(s) || strings.HasPrefix(s, "#") || strings.HasPrefix(s, "@") {
		return fmt.Errorf("%s is not a regular SQL Server identifier (a letter or _ first, then letters, digits, _, @, $ or #)", Quote(s))
	}
	return nil
}

// SQLDatabaseName validates a SQL Server database name.
func SQLDatabaseName() validator.String {
	return stringCheck{desc: "value must be a SQL Server database name such as `FIMService`: up to 128 letters, digits, `_`, `@`, `$` and `#`, starting with a letter or `_`", check: CheckSQLDatabaseName}
}

// CheckEmailAddress reports why s is not a plain e-mail address
// (RFC 5322 addr-spec, no display name or angle brackets) with a domain.
func CheckEmailAddress(s string) error {
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || a.Name != "" {
		return fmt.Errorf("%s is not an e-mail address such as svc-mim@contoso.com", Quote(s))
	}
	_, domain, _ := strings.Cut(s, "@")
	if err := checkHostName(domain); err != nil || !strings.Contains(domain, ".") {
		return fmt.Errorf("%s has the domain %s, which is not a DNS domain name", Quote(s), Quote(domain))
	}
	return nil
}

// EmailAddress validates a mailbox address.
func EmailAddress() validator.String {
	return stringCheck{desc: "value must be an e-mail address such as `svc-mim@contoso.com` (no display name)", check: CheckEmailAddress}
}

// SMTPHost validates the host name of a mail server (Exchange or any SMTP server).
func SMTPHost() validator.String {
	return stringCheck{desc: "value must be the mail server's DNS host name, e.g. `mail.contoso.com`", check: checkHostName}
}
