package validators

import (
	"fmt"
	"net"
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
		return fmt.Errorf("%q is not an RFC 3339 timestamp", s)
	}
	return nil
}

// IPAddress validates an IPv4 or IPv6 address.
func IPAddress() validator.String {
	return stringCheck{desc: "value must be an IP address such as `10.0.0.11` or `fd00::11`", check: checkIPAddress}
}

func checkIPAddress(s string) error {
	if net.ParseIP(s) == nil {
		return fmt.Errorf("%q is not an IP address", s)
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
			return fmt.Errorf("%q is neither an IP address nor a host name", s)
		}
	}
	return nil
}
