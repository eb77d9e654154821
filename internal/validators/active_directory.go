package validators

import (
	"fmt"
	"strings"

	"github.com/bastion-pam/terraform-provider-bastion/internal/adnames"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
)

// CheckDNSDomainName reports why s is not the DNS name of an Active
// Directory domain: at least two labels of letters, digits and hyphens
// (RFC 1123), none purely numeric at the end (a TLD is never numeric).
func CheckDNSDomainName(s string) error {
	d := strings.TrimSuffix(s, ".")
	if d == "" {
		return fmt.Errorf("is empty")
	}
	if len(d) > 253 {
		return fmt.Errorf("is %d characters long (at most 253)", len(d))
	}
	parts := strings.Split(d, ".")
	if len(parts) < 2 {
		return fmt.Errorf("%s is a single label: an Active Directory domain needs a DNS name such as priv.contoso.com (single-label domains are not supported)", Quote(s))
	}
	for _, p := range parts {
		if !label.MatchString(p) {
			return fmt.Errorf("has an invalid label %s", Quote(p))
		}
	}
	if strings.Trim(parts[len(parts)-1], "0123456789") == "" {
		return fmt.Errorf("%s ends in a numeric label, which no DNS domain does", Quote(s))
	}
	return nil
}

// DNSDomainName validates the DNS name of a domain (not a host: its first
// label may be longer than a computer name).
func DNSDomainName() validator.String {
	return stringCheck{desc: "value must be the DNS name of a domain such as `priv.contoso.com`", check: CheckDNSDomainName}
}

// SyncAccount checks the account of ntdsutil's "sync from domain account":
// a plain sAMAccountName (adnames.CheckSyncAccount).
func SyncAccount() validator.String {
	return stringCheck{desc: "value must be a sAMAccountName without the domain: 1 to 20 letters, digits, dots, underscores or hyphens, e.g. `svc-dsrm`", check: func(s string) error {
		// The length first: adnames' message quotes the whole value.
		if err := CheckLength(s, MaxSAMAccountName); err != nil {
			return err
		}
		return adnames.CheckSyncAccount(s)
	}}
}
