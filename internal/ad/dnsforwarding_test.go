package ad

import (
	"slices"
	"testing"
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
