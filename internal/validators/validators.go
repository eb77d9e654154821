// Package validators holds the provider's custom attribute validators. Each
// skips null and unknown values (unknown values are checked once known, at
// apply) and reports on the attribute's path with what is allowed.
package validators

import (
	"context"
	"fmt"
	"regexp"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
)

type stringCheck struct {
	desc  string
	check func(string) error
}

func (v stringCheck) Description(context.Context) string         { return v.desc }
func (v stringCheck) MarkdownDescription(context.Context) string { return v.desc }

func (v stringCheck) ValidateString(_ context.Context, req validator.StringRequest, resp *validator.StringResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	if err := v.check(req.ConfigValue.ValueString()); err != nil {
		resp.Diagnostics.AddAttributeError(req.Path, "Invalid Attribute Value",
			fmt.Sprintf("%s %s; %s.", pathName(req.Path), err, v.desc))
	}
}

// pathName names an attribute for an error. A set element's path holds
// the element's whole value; the error quotes the value itself, once and
// cut, so the name says "an element of" instead.
func pathName(p path.Path) string {
	if isSetElement(p) {
		return "an element of " + p.ParentPath().String()
	}
	return p.String()
}

var label = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$`)

// CheckFQDN reports why s is not a fully qualified host name.
func CheckFQDN(s string) error {
	h := strings.TrimSuffix(s, ".")
	if h == "" {
		return fmt.Errorf("is empty")
	}
	if err := CheckLength(h, MaxFQDN); err != nil {
		return fmt.Errorf("%w: a DNS name is at most 255 octets on the wire (RFC 1035 2.3.4)", err)
	}
	parts := strings.Split(h, ".")
	if len(parts) < 2 {
		return fmt.Errorf("%s is a short name, not a fully qualified domain name", Quote(s))
	}
	for _, p := range parts {
		if !label.MatchString(p) {
			return fmt.Errorf("has an invalid label %s (letters, digits and hyphens, at most 63 characters)", Quote(p))
		}
	}
	if len(parts[0]) > 15 {
		// The first label is the computer's NetBIOS name on Windows.
		return fmt.Errorf("%s has a first label longer than 15 characters, which no Windows computer name can be", Quote(s))
	}
	return nil
}

// FQDN validates a fully qualified host name whose first label can be a
// Windows computer name.
func FQDN() validator.String {
	return stringCheck{desc: "value must be a fully qualified domain name such as `host.priv.contoso.com` (letters, digits and hyphens; labels at most 63 characters, the first at most 15, the whole at most 253)", check: CheckFQDN}
}

// HostName validates a DNS name (fully qualified or not), for aliases.
func HostName() validator.String {
	return stringCheck{desc: "value must be a DNS host name (letters, digits, hyphens and dots; labels at most 63 characters, the whole at most 253)", check: checkHostName}
}

// checkHostName reports why s is not a DNS host name (qualified or not).
func checkHostName(s string) error {
	if err := CheckLength(strings.TrimSuffix(s, "."), MaxFQDN); err != nil {
		return err
	}
	for _, p := range strings.Split(strings.TrimSuffix(s, "."), ".") {
		if !label.MatchString(p) {
			return fmt.Errorf("has an invalid label %s (letters, digits and hyphens, at most 63 characters)", Quote(p))
		}
	}
	return nil
}

var samName = regexp.MustCompile(`^[^"/\\\[\]:;|=,+*?<>@\x00-\x1f]{1,20}$`)
var netbios = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9!#$%&'()\-.^_{}~]{0,14}$`)

// CheckWindowsAccount reports why s is not DOMAIN\name.
func CheckWindowsAccount(s string) error {
	domain, name, ok := strings.Cut(s, `\`)
	if !ok {
		return fmt.Errorf("%s is not in the form DOMAIN\\name", Quote(s))
	}
	if !netbios.MatchString(domain) {
		return fmt.Errorf("has an invalid NetBIOS domain name %s (at most 15 characters)", Quote(domain))
	}
	if !samName.MatchString(name) {
		return fmt.Errorf("has an invalid account name %s (at most 20 characters, the sAMAccountName limit, none of \"/\\[]:;|=,+*?<>@)", Quote(name))
	}
	return nil
}

// WindowsAccount validates DOMAIN\name.
func WindowsAccount() validator.String {
	return stringCheck{desc: "value must be a domain account as `DOMAIN\\name`, e.g. `PRIV\\svc-mim`", check: CheckWindowsAccount}
}

var drivePath = regexp.MustCompile(`^[A-Za-z]:\\`)
var uncPath = regexp.MustCompile(`^\\\\[^\\/:*?"<>|]+\\[^\\/:*?"<>|]+`)

// CheckWindowsPath reports why s is not an absolute Windows path of at
// most MAX_PATH characters.
func CheckWindowsPath(s string) error {
	return checkPath(s, MaxPath)
}

func checkPath(s string, max int) error {
	if err := CheckLength(s, max); err != nil {
		return fmt.Errorf("%w: Windows paths are limited to MAX_PATH (260 with the terminating NUL) unless long paths are enabled", err)
	}
	if !drivePath.MatchString(s) && !uncPath.MatchString(s) {
		return fmt.Errorf("%s is not an absolute Windows path", Quote(s))
	}
	if strings.ContainsAny(s, "\"<>|\r\n\t") || strings.ContainsRune(s[2:], ':') {
		return fmt.Errorf("%s contains a character Windows paths cannot hold", Quote(s))
	}
	return nil
}

// WindowsPath validates an absolute Windows path (drive letter or UNC).
func WindowsPath() validator.String {
	return stringCheck{desc: "value must be an absolute Windows path such as `C:\\Sources\\file.msi` or `\\\\server\\share\\file.msi`", check: CheckWindowsPath}
}

// CheckSingleLine reports control characters (line breaks and the like).
func CheckSingleLine(s string) error {
	for _, r := range s {
		if r < 0x20 || r == 0x7f {
			return fmt.Errorf("contains the control character %U", r)
		}
	}
	if strings.TrimSpace(s) != s {
		return fmt.Errorf("%s has leading or trailing white space", Quote(s))
	}
	return nil
}

// SingleLine validates printable text without control characters or
// surrounding white space.
func SingleLine() validator.String {
	return stringCheck{desc: "value must be printable text on one line, without leading or trailing white space", check: CheckSingleLine}
}

func isSetElement(p path.Path) bool {
	last, _ := p.Steps().LastStep()
	_, ok := last.(path.PathStepElementKeyValue)
	return ok
}
