package winrmsim

import (
	"encoding/json"

	"github.com/bastion-pam/terraform-provider-bastion/internal/lab/model"
)

// dns_client_read: the host's DNS client server list, as
// Get-DnsClientServerAddress (MSFT_DNSClientServerAddress) reports it.

func init() { Register("dns_client_read", dnsClientRead) }

func dnsClientRead(_ *model.Env, h *model.Host, _ json.RawMessage) (any, error) {
	servers := append([]string{}, h.DNSServers...)
	return map[string]any{"computer_name": h.ComputerName, "servers": servers}, nil
}
