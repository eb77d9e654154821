package directory

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"sort"
	"strings"

	"github.com/go-ldap/ldap/v3"
)

// Zone types of DSPROPERTY_ZONE_TYPE (DNS_ZONE_TYPE, [MS-DNSP] 2.2.5.1.1).
const (
	DNSZoneTypePrimary   uint32 = 0x01
	DNSZoneTypeSecondary uint32 = 0x02
	DNSZoneTypeStub      uint32 = 0x03
	DNSZoneTypeForwarder uint32 = 0x04
)

// dnsProperty ids this package reads ([MS-DNSP] 2.3.2.1.1).
const (
	dsPropZoneType        uint32 = 0x01
	dsPropMasterServers   uint32 = 0x81 // IP4_ARRAY
	dsPropMasterServersDA uint32 = 0x91 // DNS_ADDR_ARRAY
)

// ErrMalformedDNSProperty: a dnsProperty value does not follow [MS-DNSP]
// 2.3.2.1.
var ErrMalformedDNSProperty = errors.New("malformed dnsProperty value")

// DNSProperty is one value of a dnsZone's dnsProperty attribute ([MS-DNSP]
// 2.3.2.1): DataLength, NameLength, Flag, Version (1) and Id as
// little-endian DWORDs, then Data, then one Name byte.
type DNSProperty struct {
	ID   uint32
	Data []byte
}

// MarshalDNSProperty encodes p as a dnsProperty value.
func MarshalDNSProperty(p DNSProperty) []byte {
	b := make([]byte, 20, 20+len(p.Data)+1)
	binary.LittleEndian.PutUint32(b[0:], uint32(len(p.Data))) //nolint:gosec // property data is a few hundred bytes
	binary.LittleEndian.PutUint32(b[4:], 1)
	binary.LittleEndian.PutUint32(b[12:], 1)
	binary.LittleEndian.PutUint32(b[16:], p.ID)
	return append(append(b, p.Data...), 0)
}

// ParseDNSProperty decodes one dnsProperty value.
func ParseDNSProperty(b []byte) (DNSProperty, error) {
	if len(b) < 20 {
		return DNSProperty{}, fmt.Errorf("%w: %d bytes, the header alone is 20", ErrMalformedDNSProperty, len(b))
	}
	n := binary.LittleEndian.Uint32(b[0:])
	if len(b)-20 < int(n) {
		return DNSProperty{}, fmt.Errorf("%w: DataLength %d, %d bytes follow the header", ErrMalformedDNSProperty, n, len(b)-20)
	}
	return DNSProperty{ID: binary.LittleEndian.Uint32(b[16:]), Data: append([]byte(nil), b[20:20+int(n)]...)}, nil
}

// MarshalIP4Array encodes IPv4 addresses as an IP4_ARRAY ([MS-DNSP]
// 2.2.3.2.1): AddrCount, then each address in network byte order.
func MarshalIP4Array(addrs []string) ([]byte, error) {
	b := make([]byte, 4, 4+4*len(addrs))
	binary.LittleEndian.PutUint32(b, uint32(len(addrs))) //nolint:gosec // a handful of servers
	for _, a := range addrs {
		ip, err := netip.ParseAddr(a)
		if err != nil || !ip.Is4() {
			return nil, fmt.Errorf("%w: %q is not an IPv4 address", ErrMalformedDNSProperty, a)
		}
		b = append(b, ip.AsSlice()...)
	}
	return b, nil
}

func parseIP4Array(b []byte) ([]string, error) {
	if len(b) < 4 {
		return nil, fmt.Errorf("%w: IP4_ARRAY of %d bytes", ErrMalformedDNSProperty, len(b))
	}
	n := binary.LittleEndian.Uint32(b)
	if (len(b)-4)/4 < int(n) {
		return nil, fmt.Errorf("%w: IP4_ARRAY of %d addresses in %d bytes", ErrMalformedDNSProperty, n, len(b))
	}
	out := make([]string, 0, n)
	for i := range int(n) {
		out = append(out, netip.AddrFrom4([4]byte(b[4+4*i:8+4*i])).String())
	}
	return out, nil
}

// DNS_ADDR_ARRAY ([MS-DNSP] 2.2.3.2.3): a 32-byte header (MaxCount,
// AddrCount, Tag, Family, WordReserved, Flags, MatchFlag, Reserved1,
// Reserved2), then DNS_ADDR entries of 64 bytes (2.2.3.2.2): a 32-byte
// socket address, then 32 bytes of DnsAddrUserDword.
const (
	dnsAddrArrayHeader = 32
	dnsAddrSize        = 64
	afInet             = 2  // AF_INET
	afInet6            = 23 // AF_INET6 on Windows
)

// MarshalDNSAddrArray encodes addresses as a DNS_ADDR_ARRAY.
func MarshalDNSAddrArray(addrs []string) ([]byte, error) {
	b := make([]byte, dnsAddrArrayHeader+dnsAddrSize*len(addrs))
	binary.LittleEndian.PutUint32(b[0:], uint32(len(addrs))) //nolint:gosec // a handful of servers
	binary.LittleEndian.PutUint32(b[4:], uint32(len(addrs))) //nolint:gosec // a handful of servers
	for i, a := range addrs {
		ip, err := netip.ParseAddr(a)
		if err != nil {
			return nil, fmt.Errorf("%w: %q is not an IP address", ErrMalformedDNSProperty, a)
		}
		sa := b[dnsAddrArrayHeader+dnsAddrSize*i:]
		if ip.Is4() {
			binary.LittleEndian.PutUint16(sa, afInet)
			copy(sa[4:8], ip.AsSlice()) // sockaddr_in: family, port, address
		} else {
			binary.LittleEndian.PutUint16(sa, afInet6)
			copy(sa[8:24], ip.AsSlice()) // sockaddr_in6: family, port, flowinfo, address
		}
	}
	return b, nil
}

func parseDNSAddrArray(b []byte) ([]string, error) {
	if len(b) < dnsAddrArrayHeader {
		return nil, fmt.Errorf("%w: DNS_ADDR_ARRAY of %d bytes", ErrMalformedDNSProperty, len(b))
	}
	n := binary.LittleEndian.Uint32(b[4:])
	if (len(b)-dnsAddrArrayHeader)/dnsAddrSize < int(n) {
		return nil, fmt.Errorf("%w: DNS_ADDR_ARRAY of %d addresses in %d bytes", ErrMalformedDNSProperty, n, len(b))
	}
	out := make([]string, 0, n)
	for i := range int(n) {
		sa := b[dnsAddrArrayHeader+dnsAddrSize*i:]
		switch binary.LittleEndian.Uint16(sa) {
		case afInet:
			out = append(out, netip.AddrFrom4([4]byte(sa[4:8])).String())
		case afInet6:
			out = append(out, netip.AddrFrom16([16]byte(sa[8:24])).String())
		default:
			return nil, fmt.Errorf("%w: DNS_ADDR of address family %d", ErrMalformedDNSProperty, binary.LittleEndian.Uint16(sa))
		}
	}
	return out, nil
}

// ZoneForwarding is an AD-integrated zone through which a DNS server sends
// the queries for a name elsewhere: a conditional forwarder or a stub zone,
// with the servers it asks.
type ZoneForwarding struct {
	Zone string
	// Type is DNSZoneTypeForwarder or DNSZoneTypeStub.
	Type uint32
	// Partition is where the dnsZone lives: "ForestDnsZones" (every DNS
	// server of the forest), "DomainDnsZones" (of the domain), or "Domain"
	// (CN=MicrosoftDNS,CN=System, every DC of the domain).
	Partition string
	DN        string
	// MasterServers are the addresses the zone sends queries to, in order:
	// DSPROPERTY_ZONE_MASTER_SERVERS_DA when present, else
	// DSPROPERTY_ZONE_MASTER_SERVERS.
	MasterServers []string
}

// ZoneForwardings reads the conditional forwarders and stub zones stored in
// the directory for name or any domain above it (a forwarder for
// contoso.com also carries priv.contoso.com), from the three places
// [MS-DNSP] 2.3 keeps dnsZone objects: the forest's and the domain's DNS
// application partitions and the domain partition's CN=MicrosoftDNS,
// CN=System. Primary and secondary zones are left out. A partition that
// does not exist is skipped. The most specific zone comes first. Cost: 3
// searches (plus 1 bind on a fresh pool).
func (c *Client) ZoneForwardings(ctx context.Context, name string) ([]ZoneForwarding, error) {
	n, err := c.naming(ctx)
	if err != nil {
		return nil, err
	}
	var names []string
	labels := strings.Split(strings.ToLower(strings.TrimSuffix(strings.TrimSpace(name), ".")), ".")
	for i := range labels {
		names = append(names, eq("name", strings.Join(labels[i:], ".")))
	}
	filter := and(eq("objectClass", "dnsZone"), or(names...))
	places := []struct{ partition, base string }{
		{"ForestDnsZones", "CN=MicrosoftDNS,DC=ForestDnsZones," + n.root},
		{"DomainDnsZones", "CN=MicrosoftDNS,DC=DomainDnsZones," + n.domain},
		{"Domain", "CN=MicrosoftDNS,CN=System," + n.domain},
	}
	var out []ZoneForwarding
	err = c.do(ctx, "", "read DNS zones for "+name, nil, func(_ context.Context, s *session) error {
		out = nil
		for _, p := range places {
			entries, err := s.searchPaged(p.base, ldap.ScopeSingleLevel, filter, "name", "dNSProperty")
			if code, ok := ldapCode(err); ok && code == ldap.LDAPResultNoSuchObject {
				continue
			}
			if err != nil {
				return err
			}
			for _, e := range entries {
				z, err := zoneForwarding(e, p.partition)
				if err != nil {
					return err
				}
				if z.Type == DNSZoneTypeForwarder || z.Type == DNSZoneTypeStub {
					out = append(out, z)
				}
			}
		}
		return nil
	})
	sort.SliceStable(out, func(i, j int) bool { return len(out[i].Zone) > len(out[j].Zone) })
	return out, err
}

func zoneForwarding(e *ldap.Entry, partition string) (ZoneForwarding, error) {
	z := ZoneForwarding{Zone: e.GetEqualFoldAttributeValue("name"), Type: DNSZoneTypePrimary, Partition: partition, DN: e.DN}
	var ip4, da []string
	// AD and Samba name it dNSProperty (its lDAPDisplayName), whatever case
	// the request used.
	for _, raw := range e.GetEqualFoldRawAttributeValues("dNSProperty") {
		p, err := ParseDNSProperty(raw)
		if err != nil {
			return z, fmt.Errorf("dnsProperty of %s: %w", e.DN, err)
		}
		switch p.ID {
		case dsPropZoneType:
			// A property of DataLength 0 takes its default ([MS-DNSP]
			// 2.3.2.1.1): a primary zone.
			if len(p.Data) >= 4 {
				z.Type = binary.LittleEndian.Uint32(p.Data)
			}
		case dsPropMasterServers:
			if len(p.Data) == 0 {
				continue
			}
			if ip4, err = parseIP4Array(p.Data); err != nil {
				return z, fmt.Errorf("DSPROPERTY_ZONE_MASTER_SERVERS of %s: %w", e.DN, err)
			}
		case dsPropMasterServersDA:
			if len(p.Data) == 0 {
				continue
			}
			if da, err = parseDNSAddrArray(p.Data); err != nil {
				return z, fmt.Errorf("DSPROPERTY_ZONE_MASTER_SERVERS_DA of %s: %w", e.DN, err)
			}
		}
	}
	z.MasterServers = ip4
	if len(da) > 0 {
		z.MasterServers = da
	}
	return z, nil
}

// HostAddresses reads the A and AAAA records of each host in zone (an
// AD-integrated zone of the domain's DNS partition), keyed by the host as
// given; a host outside the zone or without a record is absent. Cost: 1
// search.
func (c *Client) HostAddresses(ctx context.Context, zone string, hosts []string) (map[string][]string, error) {
	n, err := c.naming(ctx)
	if err != nil {
		return nil, err
	}
	zone = strings.ToLower(strings.TrimSuffix(zone, "."))
	byLabel := map[string][]string{}
	var terms []string
	for _, h := range hosts {
		rel, ok := strings.CutSuffix(strings.ToLower(strings.TrimSuffix(h, ".")), "."+zone)
		if !ok || rel == "" {
			continue
		}
		if byLabel[rel] == nil {
			terms = append(terms, eq("dc", rel))
		}
		byLabel[rel] = append(byLabel[rel], h)
	}
	out := map[string][]string{}
	if len(terms) == 0 {
		return out, nil
	}
	err = c.do(ctx, "", "read host addresses in "+zone, nil, func(_ context.Context, s *session) error {
		entries, err := s.searchPaged(DNSZoneDN(zone, n.domain), ldap.ScopeSingleLevel, and(eq("objectClass", "dnsNode"), or(terms...)), "dc", "dnsRecord", "dNSTombstoned")
		if err != nil {
			return err
		}
		for _, e := range entries {
			if strings.EqualFold(e.GetEqualFoldAttributeValue("dNSTombstoned"), "TRUE") {
				continue
			}
			var addrs []string
			for _, raw := range e.GetEqualFoldRawAttributeValues("dnsRecord") {
				r, err := ParseDNSRecord(raw)
				if err != nil {
					return fmt.Errorf("dnsRecord of %s: %w", e.DN, err)
				}
				if r.Type == DNSTypeA || r.Type == DNSTypeAAAA {
					addrs = append(addrs, r.Value)
				}
			}
			for _, h := range byLabel[strings.ToLower(e.GetEqualFoldAttributeValue("dc"))] {
				out[h] = addrs
			}
		}
		return nil
	})
	return out, err
}
