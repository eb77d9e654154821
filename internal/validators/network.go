package validators

import (
	"fmt"
	"net"
	"regexp"
	"strings"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
)

// RFC3339 validates an RFC 3339 timestamp such as 2025-05-31T10:00:00Z.
func RFC3339() validator.String {
	return stringCheck{desc: "value must be an RFC 3339 timestamp such as `2025-05-31T10:00:00Z` or `2025-05-31T12:00:00+02:00`", check: checkRFC3339}
}

func checkRFC3339(s string) error {
	if _, err := time.Parse(time.RFC3339, s); err != nil {
		return fmt.Errorf("%s is not an RFC 3339 timestamp", Quote(s))
	}
	return nil
}

// IPAddress validates an IPv4 or IPv6 address.
func IPAddress() validator.String {
	return stringCheck{desc: "value must be an IP address such as `10.0.0.11` or `fd00::11`", check: checkIPAddress}
}

func checkIPAddress(s string) error {
	if net.ParseIP(s) == nil {
		return fmt.Errorf("%s is not an IP address", Quote(s))
	}
	return nil
}

// DNSServerEntry validates a DNS server list entry: an IP address or a host
// name.
func DNSServerEntry() validator.String {
	return stringCheck{desc: "value must be a DNS server as an IP address (`10.0.0.11`, `127.0.0.1`) or a host name", check: checkDNSServerEntry}
}

func checkDNSServerEntry(s string) error {
	if net.ParseIP(s) != nil {
		return nil
	}
	for _, l := range strings.Split(strings.TrimSuffix(s, "."), ".") {
		if !label.MatchString(l) {
			return fmt.Errorf("%s is neither an IP address nor a host name", Quote(s))
		}
	}
	return nil
}

var dnsRelativeName = regexp.MustCompile(`^(@|[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?(\.[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?)*)$`)

// CheckDNSRelativeName reports why s is not a record name relative to its
// zone: `@`, or DNS labels (underscores allowed, as in SRV owner names).
func CheckDNSRelativeName(s string) error {
	if err := CheckLength(s, MaxFQDN); err != nil {
		return err
	}
	if !dnsRelativeName.MatchString(s) {
		return fmt.Errorf("%s is not @ or DNS labels of at most 63 characters", Quote(s))
	}
	return nil
}

// DNSRelativeName validates a DNS record's name relative to its zone.
func DNSRelativeName() validator.String {
	return stringCheck{desc: "value must be @ or DNS labels (letters, digits, hyphens, underscores) separated by dots, without the zone", check: CheckDNSRelativeName}
}

// DNSRecordData validates one record's data (an address or a target name)
// as far as its form goes; the rules per record type are the resource's.
func DNSRecordData() validator.String {
	return Text(MaxFQDN, "an IP address or a host name (at most 253 characters)")
}
