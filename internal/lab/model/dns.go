package model

import (
	"cmp"
	"encoding/binary"
	"fmt"
	"maps"
	"net"
	"slices"
	"strings"
)

// DNS record types the lab decodes (DNS_RECORD_TYPE, [MS-DNSP] 2.2.2.1.1).
const (
	DNSTypeA     uint16 = 1
	DNSTypeNS    uint16 = 2
	DNSTypeCNAME uint16 = 5
	DNSTypeSOA   uint16 = 6
	DNSTypeAAAA  uint16 = 28
)

// Zone types (DNS_ZONE_TYPE, [MS-DNSP] 2.2.5.1.1) the lab stores.
const (
	DNSZonePrimary   uint32 = 1
	DNSZoneStub      uint32 = 3
	DNSZoneForwarder uint32 = 4
)

// DNS application partitions a zone can be stored in (its replication
// scope): the domain's (the default) or the forest's.
const (
	DomainDNSZones = "DomainDnsZones"
	ForestDNSZones = "ForestDnsZones"
)

// DNSZone is an AD-integrated zone stored in one of the domain's DNS
// application partitions (a dnsZone object under CN=MicrosoftDNS). Its
// dnsNode objects keep their dnsRecord values as the directory stores them:
// opaque bytes in the format of [MS-DNSP] 2.3.2.2, which the DNS server
// (here: Resolve) decodes when it answers.
type DNSZone struct {
	Name string
	// Type is DSPROPERTY_ZONE_TYPE; 0 means primary. A conditional
	// forwarder (DNSZoneForwarder) or stub zone holds no nodes, only
	// MasterServers: the addresses its queries go to.
	Type          uint32
	MasterServers []string
	// Partition is DomainDNSZones ("" too) or ForestDNSZones.
	Partition string
	// Nodes by lower-case name relative to the zone ("@" = the apex).
	Nodes map[string]*DNSNode
	// Serial is the SOA serial; each change of a node in the zone raises it.
	Serial uint32
}

// DNSNode is one dnsNode object.
type DNSNode struct {
	Name    string
	Records []string // raw dnsRecord values
}

// DNSAnswer is one record as the lab's DNS server answers it.
type DNSAnswer struct {
	Type  uint16
	TTL   uint32
	Value string // an address, or a target name without the trailing dot
}

// labDNSRecord builds a dnsRecord value the way the DNS server writes one:
// header little-endian but for TtlSeconds (big-endian), version 5, rank
// DNS_RANK_ZONE (0xF0), TimeStamp 0 (static).
func labDNSRecord(typ uint16, serial, ttl uint32, data []byte) string {
	h := make([]byte, 24, 24+len(data))
	binary.LittleEndian.PutUint16(h, uint16(len(data)))
	binary.LittleEndian.PutUint16(h[2:], typ)
	h[4], h[5] = 5, 0xF0
	binary.LittleEndian.PutUint32(h[8:], serial)
	binary.BigEndian.PutUint32(h[12:], ttl)
	return string(append(h, data...))
}

// labCountName is a DNS_COUNT_NAME ([MS-DNSP] 2.2.2.2.2).
func labCountName(name string) []byte {
	labels := strings.Split(strings.TrimSuffix(name, "."), ".")
	var raw []byte
	for _, l := range labels {
		raw = append(append(raw, byte(len(l))), l...)
	}
	raw = append(raw, 0)
	return append([]byte{byte(len(raw)), byte(len(labels))}, raw...)
}

// decodeDNSRecord reads a dnsRecord value as the DNS server does; an error
// means the server would not serve it.
func decodeDNSRecord(v string) (DNSAnswer, error) {
	b := []byte(v)
	if len(b) < 24 || b[4] != 5 {
		return DNSAnswer{}, fmt.Errorf("dnsRecord: bad header")
	}
	n := int(binary.LittleEndian.Uint16(b))
	if len(b) != 24+n {
		return DNSAnswer{}, fmt.Errorf("dnsRecord: DataLength %d but %d bytes follow the header", n, len(b)-24)
	}
	a := DNSAnswer{Type: binary.LittleEndian.Uint16(b[2:]), TTL: binary.BigEndian.Uint32(b[12:])}
	data := b[24:]
	switch a.Type {
	case DNSTypeA, DNSTypeAAAA:
		if (a.Type == DNSTypeA && n != 4) || (a.Type == DNSTypeAAAA && n != 16) {
			return a, fmt.Errorf("dnsRecord: type %d with %d bytes of address", a.Type, n)
		}
		a.Value = net.IP(data).String()
	case DNSTypeCNAME, DNSTypeNS:
		if n < 2 || int(data[0]) != n-2 {
			return a, fmt.Errorf("dnsRecord: DNS_COUNT_NAME length %d in %d bytes", data[0], n)
		}
		var labels []string
		raw := data[2:]
		for len(raw) > 0 && raw[0] != 0 {
			l := int(raw[0])
			if l+1 > len(raw) {
				return a, fmt.Errorf("dnsRecord: label past the end")
			}
			labels = append(labels, string(raw[1:1+l]))
			raw = raw[1+l:]
		}
		if len(labels) != int(data[1]) {
			return a, fmt.Errorf("dnsRecord: LabelCount %d, %d labels", data[1], len(labels))
		}
		a.Value = strings.Join(labels, ".")
	}
	return a, nil
}

// seedDNSZone gives the domain its AD-integrated zone: the apex with an SOA
// (serial 1) and an NS record per DC, and an A record per DC that has an
// address in the lab (DomainController.Addresses). Callers hold the lock.
func (d *Domain) seedDNSZone() {
	if d.DNSZones == nil {
		d.DNSZones = map[string]*DNSZone{}
	}
	zone := strings.ToLower(d.DNSName)
	if _, ok := d.DNSZones[zone]; ok {
		return
	}
	z := &DNSZone{Name: d.DNSName, Serial: 1, Nodes: map[string]*DNSNode{}}
	apex := &DNSNode{Name: "@"}
	dcs := d.SortedDCs()
	primary := "localhost"
	if len(dcs) > 0 {
		primary = dcs[0].Host
	}
	// DNS_RPC_RECORD_SOA ([MS-DNSP] 2.2.2.2.4.3): five big-endian DWORDs,
	// then the primary server and the zone administrator as DNS_COUNT_NAME.
	soa := make([]byte, 20)
	for i, v := range []uint32{z.Serial, 900, 600, 86400, 3600} {
		binary.BigEndian.PutUint32(soa[4*i:], v)
	}
	soa = append(append(soa, labCountName(primary)...), labCountName("hostmaster."+d.DNSName)...)
	apex.Records = append(apex.Records, labDNSRecord(DNSTypeSOA, z.Serial, 3600, soa))
	for _, dc := range dcs {
		apex.Records = append(apex.Records, labDNSRecord(DNSTypeNS, z.Serial, 3600, labCountName(dc.Host)))
		rel, ok := strings.CutSuffix(dc.Host, "."+zone)
		if !ok || len(dc.Addresses) == 0 {
			continue
		}
		node := &DNSNode{Name: rel}
		for _, a := range dc.Addresses {
			if ip := net.ParseIP(a).To4(); ip != nil {
				node.Records = append(node.Records, labDNSRecord(DNSTypeA, z.Serial, 1200, ip)) // DNS registers host records with a TTL of 20 minutes
			}
		}
		z.Nodes[rel] = node
	}
	z.Nodes["@"] = apex
	d.DNSZones[zone] = z
}

// IsPrimary reports whether z holds zone data (not a forwarder or stub).
func (z *DNSZone) IsPrimary() bool { return z.Type == 0 || z.Type == DNSZonePrimary }

// AddConditionalForwarder stores a conditional forwarder for zone in the
// directory, sending its queries to masters, as
// Add-DnsServerConditionalForwarderZone -ReplicationScope Domain (or Forest)
// does. Callers hold the lock.
func (d *Domain) AddConditionalForwarder(zone string, masters []string, partition string) error {
	if d.DNSZones == nil {
		d.DNSZones = map[string]*DNSZone{}
	}
	key := strings.ToLower(strings.TrimSuffix(zone, "."))
	if d.DNSZones[key] != nil {
		// DNS_ERROR_ZONE_ALREADY_EXISTS (9609)
		return fmt.Errorf("failed to create zone %s: the zone already exists (9609)", zone)
	}
	if len(masters) == 0 {
		// DNS_ERROR_ZONE_REQUIRES_MASTER_IP (9620)
		return fmt.Errorf("failed to create zone %s: the zone requires a master IP address (9620)", zone)
	}
	for _, m := range masters {
		if net.ParseIP(m) == nil {
			return fmt.Errorf("not an address: %s", m)
		}
	}
	d.DNSZones[key] = &DNSZone{Name: strings.TrimSuffix(zone, "."), Type: DNSZoneForwarder, MasterServers: append([]string(nil), masters...), Partition: partition, Nodes: map[string]*DNSNode{}}
	return nil
}

// Zone returns the AD-integrated zone named name, or nil. Callers hold the lock.
func (d *Domain) Zone(name string) *DNSZone {
	return d.DNSZones[strings.ToLower(strings.TrimSuffix(name, "."))]
}

// SortedNodes returns the zone's nodes by name.
func (z *DNSZone) SortedNodes() []*DNSNode {
	return slices.SortedFunc(maps.Values(z.Nodes), func(a, b *DNSNode) int { return cmp.Compare(a.Name, b.Name) })
}

// Resolve answers a DNS query for fqdn and type as the PRIV domain's DNS
// server would from its AD-integrated zones: the decodable records of that
// type at the name, or the CNAME there. Records it cannot decode are not
// served (what Windows' DNS server does with a malformed value).
func (e *Env) Resolve(fqdn string, typ uint16) []DNSAnswer {
	e.mu.Lock()
	defer e.mu.Unlock()
	fqdn = strings.ToLower(strings.TrimSuffix(fqdn, "."))
	for _, d := range e.Directories() {
		for zname, z := range d.DNSZones {
			if !z.IsPrimary() {
				continue // the lab's resolver answers only from zone data
			}
			var rel string
			switch {
			case fqdn == zname:
				rel = "@"
			case strings.HasSuffix(fqdn, "."+zname):
				rel = strings.TrimSuffix(fqdn, "."+zname)
			default:
				continue
			}
			node := z.Nodes[rel]
			if node == nil {
				return nil
			}
			var out, cname []DNSAnswer
			for _, r := range node.Records {
				a, err := decodeDNSRecord(r)
				if err != nil {
					continue
				}
				switch a.Type {
				case typ:
					out = append(out, a)
				case DNSTypeCNAME:
					cname = append(cname, a)
				}
			}
			if len(out) == 0 {
				return cname
			}
			return out
		}
	}
	return nil
}

// SetDNSRecord replaces the records of typ at name in zone with one record
// of value (an address or a target name) and ttl, as `dnscmd
// /recordadd` or `samba-tool dns update` would: the lab's way to make DNS
// drift. Callers hold the lock.
func (d *Domain) SetDNSRecord(zone, name string, typ uint16, ttl uint32, value string) error {
	z := d.Zone(zone)
	if z == nil {
		return fmt.Errorf("no zone %s", zone)
	}
	var data []byte
	switch typ {
	case DNSTypeA, DNSTypeAAAA:
		ip := net.ParseIP(value)
		if ip == nil {
			return fmt.Errorf("not an address: %s", value)
		}
		if typ == DNSTypeA {
			data = ip.To4()
		} else {
			data = ip.To16()
		}
	case DNSTypeCNAME:
		data = labCountName(value)
	default:
		return fmt.Errorf("type %d not supported", typ)
	}
	z.Serial++
	key := strings.ToLower(name)
	node := z.Nodes[key]
	if node == nil {
		node = &DNSNode{Name: name}
		z.Nodes[key] = node
	}
	var keep []string
	for _, r := range node.Records {
		if a, err := decodeDNSRecord(r); err != nil || a.Type != typ {
			keep = append(keep, r)
		}
	}
	node.Records = append(keep, labDNSRecord(typ, z.Serial, ttl, data))
	return nil
}

// dnsProperty ids the lab writes ([MS-DNSP] 2.3.2.1.1).
const (
	dsPropZoneType        uint32 = 0x01
	dsPropMasterServers   uint32 = 0x81
	dsPropMasterServersDA uint32 = 0x91
)

// labDNSProperty builds a dnsProperty value ([MS-DNSP] 2.3.2.1):
// DataLength, NameLength, Flag (0), Version (1) and Id as little-endian
// DWORDs, the data, then one Name byte.
func labDNSProperty(id uint32, data []byte) string {
	b := make([]byte, 20, 21+len(data))
	binary.LittleEndian.PutUint32(b, uint32(len(data))) //nolint:gosec // a few hundred bytes at most
	binary.LittleEndian.PutUint32(b[4:], 1)
	binary.LittleEndian.PutUint32(b[12:], 1)
	binary.LittleEndian.PutUint32(b[16:], id)
	return string(append(append(b, data...), 0))
}

// Properties returns the zone's dnsProperty values as the DNS server writes
// them: the zone type, and for a forwarder or stub zone its master servers
// both as an IP4_ARRAY (2.2.3.2.1, IPv4 only) and as a DNS_ADDR_ARRAY
// (2.2.3.2.3: a 32-byte header, then 64 bytes per address, a sockaddr in
// the first 32).
func (z *DNSZone) Properties() []string {
	typ := z.Type
	if typ == 0 {
		typ = DNSZonePrimary
	}
	out := []string{labDNSProperty(dsPropZoneType, binary.LittleEndian.AppendUint32(nil, typ))}
	if z.IsPrimary() {
		return out
	}
	var v4 [][]byte
	da := make([]byte, 32)
	for _, m := range z.MasterServers {
		ip := net.ParseIP(m)
		if ip == nil {
			continue
		}
		sa := make([]byte, 64)
		if ip4 := ip.To4(); ip4 != nil {
			v4 = append(v4, ip4)
			binary.LittleEndian.PutUint16(sa, 2) // AF_INET
			copy(sa[4:], ip4)
		} else {
			binary.LittleEndian.PutUint16(sa, 23) // AF_INET6 on Windows
			copy(sa[8:], ip.To16())
		}
		da = append(da, sa...)
	}
	n := uint32((len(da) - 32) / 64) //nolint:gosec // a handful of servers
	binary.LittleEndian.PutUint32(da, n)
	binary.LittleEndian.PutUint32(da[4:], n)
	ip4 := binary.LittleEndian.AppendUint32(nil, uint32(len(v4))) //nolint:gosec // a handful of servers
	for _, a := range v4 {
		ip4 = append(ip4, a...)
	}
	return append(out, labDNSProperty(dsPropMasterServers, ip4), labDNSProperty(dsPropMasterServersDA, da))
}
