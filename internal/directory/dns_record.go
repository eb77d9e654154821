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

	"github.com/bastion-pam/terraform-provider-bastion/internal/transport"
)

// DNS record types this package encodes (DNS_RECORD_TYPE, [MS-DNSP] 2.2.2.1.1).
const (
	DNSTypeA     uint16 = 0x0001
	DNSTypeNS    uint16 = 0x0002
	DNSTypeCNAME uint16 = 0x0005
	DNSTypeSOA   uint16 = 0x0006
	DNSTypeAAAA  uint16 = 0x001C
)

// DNSTypeNames maps the record types a bastion_dns_record manages to their names.
var DNSTypeNames = map[string]uint16{"A": DNSTypeA, "AAAA": DNSTypeAAAA, "CNAME": DNSTypeCNAME}

// dnsRankZone is DNS_RANK_ZONE: an authoritative record of the zone
// ([MS-DNSP] 2.2.2.2.5, low byte of dwFlags).
const dnsRankZone = 0xF0

// ErrMalformedDNSRecord: a dnsRecord value does not follow [MS-DNSP] 2.3.2.2.
var ErrMalformedDNSRecord = errors.New("malformed dnsRecord value")

// ErrDNSNameInUse: the name holds records that cannot live beside the ones
// asked for (a CNAME and anything else).
var ErrDNSNameInUse = errors.New("DNS name in use")

// DNSRecord is one value of a dnsNode's dnsRecord attribute ([MS-DNSP]
// 2.3.2.2): the header and the record data, decoded for A, AAAA and CNAME
// (Value: the address or the target FQDN without a trailing dot) and kept
// raw for other types.
type DNSRecord struct {
	Type   uint16
	Rank   uint8
	Serial uint32
	TTL    uint32
	// TimeStamp is hours since 1601-01-01; 0 marks a static record that
	// aging never scavenges.
	TimeStamp uint32
	Value     string
	Data      []byte
}

// MarshalDNSRecord encodes r as a dnsRecord value: little-endian fields
// except TtlSeconds, which is big-endian; Version 5; Reserved and Flags 0.
func MarshalDNSRecord(r DNSRecord) ([]byte, error) {
	data := r.Data
	switch r.Type {
	case DNSTypeA, DNSTypeAAAA:
		ip, err := netip.ParseAddr(r.Value)
		if err != nil || (r.Type == DNSTypeA) != ip.Is4() {
			return nil, fmt.Errorf("%w: %q is not an IPv%s address", ErrMalformedDNSRecord, r.Value, map[bool]string{true: "4", false: "6"}[r.Type == DNSTypeA])
		}
		data = ip.AsSlice()
	case DNSTypeCNAME, DNSTypeNS:
		var err error
		if data, err = marshalCountName(r.Value); err != nil {
			return nil, err
		}
	}
	if len(data) > 0xFFFF {
		return nil, fmt.Errorf("%w: %d bytes of data", ErrMalformedDNSRecord, len(data))
	}
	rank := r.Rank
	if rank == 0 {
		rank = dnsRankZone
	}
	b := make([]byte, 24+len(data))
	binary.LittleEndian.PutUint16(b[0:], uint16(len(data))) //nolint:gosec // at most 0xFFFF, checked above
	binary.LittleEndian.PutUint16(b[2:], r.Type)
	b[4] = 5
	b[5] = rank
	binary.LittleEndian.PutUint32(b[8:], r.Serial)
	binary.BigEndian.PutUint32(b[12:], r.TTL)
	binary.LittleEndian.PutUint32(b[20:], r.TimeStamp)
	copy(b[24:], data)
	return b, nil
}

// ParseDNSRecord decodes one dnsRecord value.
func ParseDNSRecord(b []byte) (DNSRecord, error) {
	if len(b) < 24 {
		return DNSRecord{}, fmt.Errorf("%w: %d bytes, the header alone is 24", ErrMalformedDNSRecord, len(b))
	}
	n := int(binary.LittleEndian.Uint16(b[0:]))
	if len(b) < 24+n {
		return DNSRecord{}, fmt.Errorf("%w: DataLength %d, %d bytes of data", ErrMalformedDNSRecord, n, len(b)-24)
	}
	if b[4] != 5 {
		return DNSRecord{}, fmt.Errorf("%w: version %d, want 5", ErrMalformedDNSRecord, b[4])
	}
	r := DNSRecord{
		Type: binary.LittleEndian.Uint16(b[2:]), Rank: b[5],
		Serial: binary.LittleEndian.Uint32(b[8:]), TTL: binary.BigEndian.Uint32(b[12:]),
		TimeStamp: binary.LittleEndian.Uint32(b[20:]),
		Data:      append([]byte(nil), b[24:24+n]...),
	}
	switch r.Type {
	case DNSTypeA, DNSTypeAAAA:
		ip, ok := netip.AddrFromSlice(r.Data)
		if !ok || (r.Type == DNSTypeA) != (len(r.Data) == 4) {
			return r, fmt.Errorf("%w: type %d with %d bytes of address", ErrMalformedDNSRecord, r.Type, len(r.Data))
		}
		r.Value = ip.String()
	case DNSTypeCNAME, DNSTypeNS:
		name, err := parseCountName(r.Data)
		if err != nil {
			return r, err
		}
		r.Value = name
	}
	return r, nil
}

// marshalCountName encodes a DNS_COUNT_NAME ([MS-DNSP] 2.2.2.2.2): Length
// (bytes of RawName, its terminating zero included), LabelCount, then each
// label as a length byte and its bytes, then a zero byte.
func marshalCountName(name string) ([]byte, error) {
	name = strings.TrimSuffix(strings.TrimSpace(name), ".")
	if name == "" {
		return nil, fmt.Errorf("%w: empty name", ErrMalformedDNSRecord)
	}
	labels := strings.Split(name, ".")
	raw := []byte{}
	for _, l := range labels {
		if l == "" || len(l) > 63 {
			return nil, fmt.Errorf("%w: %q has an empty or over-long label", ErrMalformedDNSRecord, name)
		}
		raw = append(raw, byte(len(l))) //nolint:gosec // at most 63, checked above
		raw = append(raw, l...)
	}
	raw = append(raw, 0)
	if len(raw) > 255 {
		return nil, fmt.Errorf("%w: %q is longer than 255 bytes", ErrMalformedDNSRecord, name)
	}
	return append([]byte{byte(len(raw)), byte(len(labels))}, raw...), nil //nolint:gosec // raw is at most 255 bytes, so fewer labels
}

func parseCountName(b []byte) (string, error) {
	if len(b) < 2 || int(b[0])+2 > len(b) {
		return "", fmt.Errorf("%w: DNS_COUNT_NAME of %d bytes", ErrMalformedDNSRecord, len(b))
	}
	raw, count := b[2:2+int(b[0])], int(b[1])
	var labels []string
	for i := 0; i < len(raw) && raw[i] != 0; {
		n := int(raw[i])
		if i+1+n > len(raw) {
			return "", fmt.Errorf("%w: label runs past the name", ErrMalformedDNSRecord)
		}
		labels = append(labels, string(raw[i+1:i+1+n]))
		i += 1 + n
	}
	if len(labels) != count {
		return "", fmt.Errorf("%w: LabelCount %d, %d labels", ErrMalformedDNSRecord, count, len(labels))
	}
	return strings.Join(labels, "."), nil
}

// DNSRecordSet is the records of one type at one name of an AD-integrated
// zone, read from its dnsNode object.
type DNSRecordSet struct {
	Zone, Name string
	Type       uint16
	// DN of the dnsNode.
	DN     string
	TTL    uint32
	Values []string
}

// DNSZoneDN is where an AD-integrated zone stored in the domain's DNS
// application partition lives ([MS-DNSP] 2.3: dnsZone objects under
// CN=MicrosoftDNS).
func DNSZoneDN(zone, domainNC string) string {
	return "DC=" + ldap.EscapeDN(strings.TrimSuffix(zone, ".")) + ",CN=MicrosoftDNS,DC=DomainDnsZones," + domainNC
}

// dnsNodeDN is the dnsNode of name ("@" for the zone apex) in zone.
func dnsNodeDN(zone, name, domainNC string) string {
	return "DC=" + ldap.EscapeDN(name) + "," + DNSZoneDN(zone, domainNC)
}

// DNSRecords reads the records of type typ at name in zone.
// transport.ErrNotFound when the zone does not exist; a missing node or no
// record of that type is an empty set (Values nil). Cost: 1 search.
func (c *Client) DNSRecords(ctx context.Context, zone, name string, typ uint16) (DNSRecordSet, error) {
	return readAny(ctx, c, "read DNS records "+name+"."+zone, func(s *session, n *namingContexts) (DNSRecordSet, error) {
		out, _, err := s.dnsRecords(n, zone, name, typ)
		return out, err
	})
}

// dnsRecords reads the node and returns this type's set plus every value of
// the node's dnsRecord (all types) for a rewrite.
func (s *session) dnsRecords(n *namingContexts, zone, name string, typ uint16) (DNSRecordSet, [][]byte, error) {
	out := DNSRecordSet{Zone: zone, Name: name, Type: typ, DN: dnsNodeDN(zone, name, n.domain)}
	e, err := s.searchBase(out.DN, "dnsRecord", "dNSTombstoned")
	if code, ok := ldapCode(err); ok && code == ldap.LDAPResultNoSuchObject {
		// No node: is there a zone?
		if _, zerr := s.searchBase(DNSZoneDN(zone, n.domain), "objectClass"); zerr != nil {
			if code, ok := ldapCode(zerr); ok && code == ldap.LDAPResultNoSuchObject {
				return out, nil, fmt.Errorf("%w: no AD-integrated zone %s in the domain's DNS partition (%s)", transport.ErrNotFound, zone, DNSZoneDN(zone, n.domain))
			}
			return out, nil, zerr
		}
		return out, nil, nil
	}
	if err != nil {
		return out, nil, err
	}
	all := e.GetRawAttributeValues("dnsRecord")
	if strings.EqualFold(e.GetAttributeValue("dNSTombstoned"), "TRUE") {
		// A tombstoned node holds one DNS_TYPE_ZERO record: nothing to serve,
		// but the node exists (a write revives it).
		return out, [][]byte{}, nil
	}
	for _, raw := range all {
		r, err := ParseDNSRecord(raw)
		if err != nil {
			return out, nil, fmt.Errorf("dnsRecord of %s: %w", out.DN, err)
		}
		if r.Type == typ {
			out.TTL = r.TTL
			out.Values = append(out.Values, r.Value)
		}
	}
	sort.Strings(out.Values)
	return out, all, nil
}

// SetDNSRecords makes values (with ttl) the only records of type typ at name
// in zone, keeping the node's records of other types: it adds the dnsNode
// when absent, rewrites its dnsRecord otherwise, and deletes the node when no
// record is left. Each record carries the zone's SOA serial and a zero
// TimeStamp (static: aging never scavenges it). Returns the set as read back
// from the same DC. Cost: 2-3 searches + 1 write + 1 search.
func (c *Client) SetDNSRecords(ctx context.Context, zone, name string, typ uint16, ttl uint32, values []string) (DNSRecordSet, error) {
	n, err := c.naming(ctx)
	if err != nil {
		return DNSRecordSet{}, err
	}
	var out DNSRecordSet
	err = c.do(ctx, "", "write DNS records "+name+"."+zone, nil, func(ctx context.Context, s *session) error {
		cur, all, err := s.dnsRecords(n, zone, name, typ)
		if err != nil {
			return err
		}
		serial, err := s.zoneSerial(n, zone)
		if err != nil {
			return err
		}
		var keep []string
		for _, raw := range all {
			r, _ := ParseDNSRecord(raw)
			if r.Type == typ || r.Type == 0 {
				continue
			}
			// A CNAME is the only data its name may have (RFC 1034 3.6.2).
			if len(values) > 0 && (typ == DNSTypeCNAME || r.Type == DNSTypeCNAME) {
				return fmt.Errorf("%w: %s in zone %s already has a record of type %d; a CNAME cannot share its name with other records (RFC 1034 3.6.2)", ErrDNSNameInUse, name, zone, r.Type)
			}
			keep = append(keep, string(raw))
		}
		for _, v := range values {
			b, err := MarshalDNSRecord(DNSRecord{Type: typ, Serial: serial, TTL: ttl, Value: v})
			if err != nil {
				return err
			}
			keep = append(keep, string(b))
		}
		switch {
		case all == nil && len(keep) > 0:
			if err := s.addDNSNode(cur.DN, name, keep); err != nil {
				return err
			}
		case all != nil && len(keep) == 0:
			if err := s.deleteDN(cur.DN); err != nil {
				return err
			}
		case all != nil:
			req := ldap.NewModifyRequest(cur.DN, nil)
			req.Replace("dnsRecord", keep)
			req.Replace("dNSTombstoned", []string{"FALSE"})
			if err := s.modify(req); err != nil {
				return err
			}
		}
		out, _, err = s.dnsRecords(n, zone, name, typ)
		return err
	})
	return out, err
}

// zoneSerial is the serial of the zone's SOA record (on its "@" node), 1
// when the zone has none.
func (s *session) zoneSerial(n *namingContexts, zone string) (uint32, error) {
	e, err := s.searchBase(dnsNodeDN(zone, "@", n.domain), "dnsRecord")
	if code, ok := ldapCode(err); ok && code == ldap.LDAPResultNoSuchObject {
		return 1, nil
	}
	if err != nil {
		return 0, err
	}
	for _, raw := range e.GetRawAttributeValues("dnsRecord") {
		// DNS_RPC_RECORD_SOA ([MS-DNSP] 2.2.2.2.4.3): dwSerialNo first, big-endian.
		if r, err := ParseDNSRecord(raw); err == nil && r.Type == DNSTypeSOA && len(r.Data) >= 4 {
			return binary.BigEndian.Uint32(r.Data), nil
		}
	}
	return 1, nil
}

func (s *session) addDNSNode(dn, name string, records []string) error {
	s.c.count(s.dc, func(st *OpStats) { st.Modifies++ })
	req := ldap.NewAddRequest(dn, nil)
	req.Attribute("objectClass", []string{"top", "dnsNode"})
	req.Attribute("dc", []string{name})
	req.Attribute("dnsRecord", records)
	return s.conn.Add(req)
}

func (s *session) deleteDN(dn string) error {
	s.c.count(s.dc, func(st *OpStats) { st.Modifies++ })
	return s.conn.Del(ldap.NewDelRequest(dn, nil))
}
