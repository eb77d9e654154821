package ad

import (
	"slices"
	"testing"

	"github.com/bastion-pam/terraform-provider-bastion/internal/directory"
)

// ServersFor follows the DNS server: the most specific forwarder or stub
// zone for the name or a domain above it, then the server-level
// forwarders, else nothing (root hints).
func TestServersFor(t *testing.T) {
	cfg := DNSServerConfig{
		Forwarders: []string{"192.0.2.1"},
		Zones: []DNSServerZone{
			{Name: "contoso.com", Type: 4, MasterServers: []string{"10.0.0.1"}},
			{Name: "priv.contoso.com", Type: 4, MasterServers: []string{"10.0.0.11", "10.0.0.12"}},
			{Name: "other.priv.contoso.com", Type: 3, MasterServers: []string{"10.9.9.9"}},
			{Name: "riv.contoso.com", Type: 4, MasterServers: []string{"10.6.6.6"}},
		},
	}
	for _, c := range []struct {
		zone, how string
		want      []string
	}{
		{"priv.contoso.com", "forwarder", []string{"10.0.0.11", "10.0.0.12"}},
		{"PRIV.contoso.com.", "forwarder", []string{"10.0.0.11", "10.0.0.12"}},
		{"other.priv.contoso.com", "stub", []string{"10.9.9.9"}},
		{"corp.contoso.com", "forwarder", []string{"10.0.0.1"}},
		{"fabrikam.com", "server_forwarders", []string{"192.0.2.1"}},
	} {
		got, how, _ := cfg.ServersFor(c.zone)
		if how != c.how || !slices.Equal(got, c.want) {
			t.Errorf("ServersFor(%q) = %v %q, want %v %q", c.zone, got, how, c.want, c.how)
		}
	}
	if got, how, _ := (DNSServerConfig{}).ServersFor("priv.contoso.com"); got != nil || how != "" {
		t.Errorf("no forwarding configured: %v %q", got, how)
	}
}

// ResolveDNSServer names the DC an entry points at: by address, by name,
// loopback on the DC itself; anything else is no DC.
func TestResolveDNSServer(t *testing.T) {
	dcs := map[string]string{"10.0.0.11": "priv-dc1.priv.contoso.com", "10.0.0.12": "priv-dc2.priv.contoso.com"}
	for _, c := range []struct{ host, entry, want string }{
		{"priv-app1.priv.contoso.com", "10.0.0.11", "priv-dc1.priv.contoso.com"},
		{"priv-app1.priv.contoso.com", " 10.0.0.12 ", "priv-dc2.priv.contoso.com"},
		{"priv-app1.priv.contoso.com", "PRIV-DC2.priv.contoso.com", "priv-dc2.priv.contoso.com"},
		{"priv-dc1.priv.contoso.com", "127.0.0.1", "priv-dc1.priv.contoso.com"},
		{"priv-dc1.priv.contoso.com", "::1", "priv-dc1.priv.contoso.com"},
		{"priv-app1.priv.contoso.com", "127.0.0.1", ""},
		{"priv-app1.priv.contoso.com", "192.0.2.53", ""},
	} {
		if got := ResolveDNSServer(c.host, c.entry, dcs); got != c.want {
			t.Errorf("ResolveDNSServer(%q, %q) = %q, want %q", c.host, c.entry, got, c.want)
		}
	}
}

// A DomainDnsZones or domain-partition zone serves the DCs of the read
// domain, judged by each DC's computer account, not its host name; a
// ForestDnsZones zone serves every DC of the forest.
func TestForwardingByDC(t *testing.T) {
	dc := func(host, computerDN string) directory.DomainController {
		return directory.DomainController{Host: host, ComputerDN: computerDN}
	}
	corp1 := dc("corp-dc1.corp.contoso.test", "CN=CORP-DC1,OU=Domain Controllers,DC=corp,DC=contoso,DC=test")
	child := dc("child-dc1.child.corp.contoso.test", "CN=CHILD-DC1,OU=Domain Controllers,DC=child,DC=corp,DC=contoso,DC=test")
	disjoint := dc("dc9.dns.contoso.test", "CN=DC9,OU=Domain Controllers,DC=corp,DC=contoso,DC=test")
	noRef := dc("corp-dc2.corp.contoso.test", "")
	domainZone := directory.ZoneForwarding{Zone: "priv.contoso.test", Type: directory.DNSZoneTypeForwarder, Partition: "DomainDnsZones", MasterServers: []string{"10.0.0.11"}}
	forestZone := directory.ZoneForwarding{Zone: "contoso.test", Type: directory.DNSZoneTypeStub, Partition: "ForestDnsZones", MasterServers: []string{"10.0.0.1"}}
	for _, tc := range []struct {
		name  string
		dcs   []directory.DomainController
		zones []directory.ZoneForwarding
		want  map[string]string // DC -> zone partition served
	}{
		{"domain zone: the domain's DCs, not a child domain's", []directory.DomainController{corp1, child}, []directory.ZoneForwarding{domainZone},
			map[string]string{corp1.Host: "DomainDnsZones"}},
		{"disjoint namespace: the computer account decides", []directory.DomainController{disjoint}, []directory.ZoneForwarding{domainZone},
			map[string]string{disjoint.Host: "DomainDnsZones"}},
		{"no serverReference: the host name's suffix", []directory.DomainController{noRef}, []directory.ZoneForwarding{domainZone},
			map[string]string{noRef.Host: "DomainDnsZones"}},
		{"forest zone serves every DC; most specific first wins", []directory.DomainController{corp1, child}, []directory.ZoneForwarding{domainZone, forestZone},
			map[string]string{corp1.Host: "DomainDnsZones", child.Host: "ForestDnsZones"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := map[string]string{}
			for _, f := range forwardingByDC(tc.dcs, tc.zones, "corp.contoso.test.") {
				got[f.DC] = f.Partition
			}
			if len(got) != len(tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
			for h, p := range tc.want {
				if got[h] != p {
					t.Errorf("%s: partition %q, want %q (all: %v)", h, got[h], p, got)
				}
			}
		})
	}
}
