package ad

import (
	"context"
	"net/netip"
	"sort"
	"strings"

	"github.com/bastion-pam/terraform-provider-bastion/internal/adnames"
	"github.com/bastion-pam/terraform-provider-bastion/internal/directory"
	"github.com/bastion-pam/terraform-provider-bastion/internal/scripts"
	"github.com/bastion-pam/terraform-provider-bastion/internal/winrmexec"
)

// DCAddresses maps every address of a PRIV DC to that DC's host name: the
// DCs are the forest's nTDSDSA objects (their server objects' dNSHostName),
// their addresses the A and AAAA records of those names in zone (the
// domain's AD-integrated zone, where each DC registers its own). Cost: the
// DC inventory (shared with the plan's other reads) and 1 search.
func DCAddresses(ctx context.Context, dir *directory.Client, zone string) (map[string]string, error) {
	inv, err := dir.Inventory(ctx)
	if err != nil {
		return nil, err
	}
	hosts := make([]string, 0, len(inv.DCs))
	for _, dc := range inv.DCs {
		hosts = append(hosts, dc.Host)
	}
	addrs, err := dir.HostAddresses(ctx, zone, hosts)
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for host, as := range addrs {
		for _, a := range as {
			out[a] = host
		}
	}
	return out, nil
}

// ResolveDNSServer names what a DNS server entry points at: the DC whose
// address or host name it is, or "" when it is no DC of dcAddresses. A
// loopback entry on a DC is that DC itself.
func ResolveDNSServer(host, entry string, dcAddresses map[string]string) string {
	entry = strings.TrimSpace(entry)
	if ip, err := netip.ParseAddr(entry); err == nil {
		if ip.IsLoopback() {
			for _, dc := range dcAddresses {
				if adnames.SameHost(dc, host) {
					return dc
				}
			}
			return ""
		}
		return dcAddresses[ip.String()]
	}
	for _, dc := range dcAddresses {
		if adnames.SameHost(dc, entry) {
			return dc
		}
	}
	return ""
}

// CorpDirectory is a CORP domain whose directory is read with its own
// credential.
type CorpDirectory struct {
	Domain   string
	Username string
	Password string
}

// ZoneForwarding is how one CORP DC's DNS server reaches a zone of the
// bastion: through the conditional forwarder or stub zone stored in the
// CORP directory that covers the zone most specifically.
type ZoneForwarding struct {
	// DC is the CORP DC's host name.
	DC string
	// Zone is the forwarder's or stub zone's name (the bastion's zone or a
	// domain above it).
	Zone string
	// Type is "forwarder" or "stub".
	Type string
	// Partition is where the zone is stored (its replication scope):
	// ForestDnsZones, DomainDnsZones or Domain.
	Partition string
	// Servers are the addresses the DC sends the zone's queries to, in order.
	Servers []string
}

// CorpZoneForwarding reads, from a CORP domain's directory with its own
// credential and the provider's LDAP transport settings, how each of the
// CORP forest's DCs reaches zone: the AD-integrated conditional forwarders
// and stub zones ([MS-DNSP] 2.3: dnsZone objects whose dnsProperty
// DSPROPERTY_ZONE_TYPE is a forwarder or stub, DSPROPERTY_ZONE_MASTER_SERVERS
// their servers). A zone stored in ForestDnsZones serves every DC of the
// forest; one in DomainDnsZones or the domain partition the DCs of that
// domain. A DC no such zone serves is absent: it reaches the zone through
// its server-level forwarders, a file-backed zone or the root hints, none of
// which the directory holds. The bind is always simple with the CORP
// credential, never base's Kerberos identity, and refused without TLS
// (directory.ErrCleartextCredential). Cost: 5 LDAP operations on one CORP DC (bind,
// the DC list, 3 zone searches) on a short-lived connection.
func CorpZoneForwarding(ctx context.Context, base directory.Config, corp CorpDirectory, zone string) ([]ZoneForwarding, error) {
	domain := strings.TrimSuffix(corp.Domain, ".")
	client, err := directory.NewOtherDomain(base, domain, corp.Username, corp.Password)
	if err != nil {
		return nil, err
	}
	defer func() { _ = client.Close() }()
	dcs, err := client.DomainControllers(ctx)
	if err != nil {
		return nil, err
	}
	zones, err := client.ZoneForwardings(ctx, zone)
	if err != nil {
		return nil, err
	}
	return forwardingByDC(dcs, zones, domain), nil
}

// forwardingByDC gives each DC the most specific of zones (sorted most
// specific first) that serves it: any ForestDnsZones zone, and a
// DomainDnsZones or domain-partition zone only to the DCs of domain.
func forwardingByDC(dcs []directory.DomainController, zones []directory.ZoneForwarding, domain string) []ZoneForwarding {
	var out []ZoneForwarding
	for _, dc := range dcs {
		for _, z := range zones { // most specific first
			if z.Partition != "ForestDnsZones" && !strings.EqualFold(dcDomain(dc), strings.TrimSuffix(domain, ".")) {
				continue
			}
			typ := "forwarder"
			if z.Type == directory.DNSZoneTypeStub {
				typ = "stub"
			}
			out = append(out, ZoneForwarding{DC: dc.Host, Zone: z.Zone, Type: typ, Partition: z.Partition, Servers: z.MasterServers})
			break
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].DC < out[j].DC })
	return out
}

// dcDomain is the DNS name of the domain a DC belongs to: the domain of its
// computer account (the server object's serverReference, read with the DC
// list), else the DNS suffix of its host name, which can differ from the
// domain (a disjoint namespace).
func dcDomain(dc directory.DomainController) string {
	if d := adnames.DNSNameOfDN(dc.ComputerDN); d != "" {
		return d
	}
	if _, suffix, ok := strings.Cut(strings.TrimSuffix(dc.Host, "."), "."); ok {
		return strings.ToLower(suffix)
	}
	return ""
}

// DNSServerZone is a forwarder or stub zone a DNS server holds, file-backed
// or stored in Active Directory.
type DNSServerZone struct {
	Name string `json:"name"`
	// Type is DNS_ZONE_TYPE: 3 stub, 4 forwarder.
	Type          uint32   `json:"zone_type"`
	DSIntegrated  bool     `json:"ds_integrated"`
	MasterServers []string `json:"master_servers"`
}

// DNSServerConfig is what a DNS server does with a name it is not
// authoritative for: its forwarder and stub zones, then its server-level
// forwarders.
type DNSServerConfig struct {
	Forwarders []string        `json:"forwarders"`
	Zones      []DNSServerZone `json:"zones"`
}

// ReadDNSServerConfig reads host's DNS Server configuration with one script
// run (dns_server_read: MicrosoftDNS_Server and MicrosoftDNS_Zone).
func ReadDNSServerConfig(ctx context.Context, x winrmexec.Runner, host string) (DNSServerConfig, error) {
	var out DNSServerConfig
	err := x.Run(ctx, host, scripts.Get("dns_server_read"), struct{}{}, &out, winrmexec.Idempotent())
	return out, err
}

// ServersFor says where the server sends the queries for zone: to the
// master servers of the most specific forwarder or stub zone for zone or a
// domain above it ("forwarder", "stub"), else to its server-level
// forwarders ("server_forwarders"); "" when neither (root hints or a
// delegation).
func (c DNSServerConfig) ServersFor(zone string) (servers []string, how string, from DNSServerZone) {
	zone = strings.ToLower(strings.TrimSuffix(zone, "."))
	best := -1
	for i, z := range c.Zones {
		name := strings.ToLower(strings.TrimSuffix(z.Name, "."))
		if name != zone && !strings.HasSuffix(zone, "."+name) {
			continue
		}
		if best < 0 || len(name) > len(c.Zones[best].Name) {
			best = i
		}
	}
	if best >= 0 {
		z := c.Zones[best]
		how = "forwarder"
		if z.Type == directory.DNSZoneTypeStub {
			how = "stub"
		}
		return z.MasterServers, how, z
	}
	if len(c.Forwarders) > 0 {
		return c.Forwarders, "server_forwarders", DNSServerZone{}
	}
	return nil, "", DNSServerZone{}
}
