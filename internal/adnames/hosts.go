package adnames

import (
	"net"
	"strings"
)

// HostKey normalises a host name for map keys and equality of FQDNs: trimmed,
// lower case, no trailing dot.
func HostKey(h string) string {
	return strings.ToLower(strings.TrimSuffix(strings.TrimSpace(h), "."))
}

// ShortName is a host name's first DNS label (PRIV-DC1 for
// priv-dc1.priv.contoso.test), in the case given.
func ShortName(h string) string {
	h = strings.TrimSpace(h)
	if i := strings.IndexByte(h, '.'); i >= 0 {
		return h[:i]
	}
	return h
}

// SameHost reports whether two names denote the same computer: equal
// ignoring case and a trailing dot, or a short name equal to the first
// label of an FQDN (PRIV-APP1 and priv-app1.priv.contoso.com). Two FQDNs
// match only when equal; IP addresses compare as addresses, never with names.
// An empty name matches nothing.
func SameHost(a, b string) bool {
	a, b = HostKey(a), HostKey(b)
	if a == "" || b == "" {
		return false
	}
	if a == b {
		return true
	}
	ipa, ipb := net.ParseIP(a), net.ParseIP(b)
	if ipa != nil || ipb != nil {
		return ipa != nil && ipb != nil && ipa.Equal(ipb)
	}
	if strings.Contains(a, ".") && strings.Contains(b, ".") {
		return false
	}
	return ShortName(a) == ShortName(b)
}

// HostIn reports whether h is one of hosts (SameHost).
func HostIn(h string, hosts []string) bool {
	for _, x := range hosts {
		if SameHost(h, x) {
			return true
		}
	}
	return false
}
