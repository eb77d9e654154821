package winrmsim

import (
	"encoding/json"
	"sort"
	"strings"

	"github.com/bastion-pam/terraform-provider-bastion/internal/lab/model"
)

// dns_client_read: the host's DNS client server list, as
// Get-DnsClientServerAddress (MSFT_DNSClientServerAddress) reports it.
// dns_server_read: the DNS Server service's forwarders and its forwarder and
// stub zones (MicrosoftDNS_Server, MicrosoftDNS_Zone in root/MicrosoftDNS).

func init() {
	Register("dns_client_read", dnsClientRead)
	Register("dns_server_read", dnsServerRead)
}

func dnsClientRead(_ *model.Env, h *model.Host, _ json.RawMessage) (any, error) {
	servers := append([]string{}, h.DNSServers...)
	return map[string]any{"computer_name": h.ComputerName, "servers": servers}, nil
}

func dnsServerRead(e *model.Env, h *model.Host, _ json.RawMessage) (any, error) {
	// The zones stored in a directory are loaded by every DNS server that is
	// a DC of it (the lab replicates both DNS partitions to each DC).
	var dir *model.Domain
	for _, d := range e.Directories() {
		if d.DC(h.FQDN) != nil {
			dir = d
		}
	}
	if dir == nil && len(h.DNSForwarders) == 0 && len(h.DNSFileZones) == 0 {
		// No DNS Server role: the WMI namespace does not exist.
		return nil, &ScriptError{Type: "Microsoft.Management.Infrastructure.CimException", Message: "Invalid namespace ",
			Category: "MetadataError", ID: "HRESULT 0x8004100e,Microsoft.Management.Infrastructure.CimCmdlets.GetCimInstanceCommand"}
	}
	zones := []map[string]any{}
	add := func(z *model.DNSZone, ds bool) {
		if z.IsPrimary() {
			return
		}
		zones = append(zones, map[string]any{"name": z.Name, "zone_type": z.Type, "ds_integrated": ds, "master_servers": append([]string{}, z.MasterServers...)})
	}
	if dir != nil {
		for _, z := range dir.DNSZones {
			add(z, true)
		}
	}
	for _, z := range h.DNSFileZones {
		add(z, false)
	}
	sort.Slice(zones, func(i, j int) bool {
		return strings.ToLower(zones[i]["name"].(string)) < strings.ToLower(zones[j]["name"].(string))
	})
	return map[string]any{"computer_name": h.ComputerName, "forwarders": append([]string{}, h.DNSForwarders...), "zones": zones}, nil
}
