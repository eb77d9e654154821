package ad

import (
	"context"
	"net/netip"
	"sort"
	"strings"

	"github.com/bastion-pam/terraform-provider-bastion/internal/adnames"
	"github.com/bastion-pam/terraform-provider-bastion/internal/directory"
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
// which the directory holds. Cost: 5 LDAP operations on one CORP DC (bind,
// the DC list, 3 zone searches) on a short-lived connection.
func CorpZoneForwarding(ctx context.Context, base directory.Config, corp CorpDirectory, zone string) ([]ZoneForwarding, error) {
	domain := strings.TrimSuffix(corp.Domain, ".")
	c := base
	c.Servers = []string{domain} // a domain's DNS name resolves to its DCs
	c.PinnedDC = ""
	c.Domain = domain
	c.Username = corp.Username
	c.Password = corp.Password
	client, err := directory.New(c)
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
	var out []ZoneForwarding
	for _, dc := range dcs {
		for _, z := range zones { // most specific first
			if z.Partition != "ForestDnsZones" && !strings.HasSuffix(strings.ToLower(dc.Host), "."+strings.ToLower(domain)) {
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
	return out, nil
}
