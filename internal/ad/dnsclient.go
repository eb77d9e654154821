package ad

import (
	"context"

	"github.com/bastion-pam/terraform-provider-bastion/internal/scripts"
	"github.com/bastion-pam/terraform-provider-bastion/internal/winrmexec"
)

// DNSClientServers reads host's DNS client server list, in order, with one
// script run (dns_client_read: the CIM class behind
// Get-DnsClientServerAddress). Rule HA-7 judges it: no computer may depend on
// one domain controller for DNS.
func DNSClientServers(ctx context.Context, x winrmexec.Runner, host string) ([]string, error) {
	var out struct {
		Servers []string `json:"servers"`
	}
	if err := x.Run(ctx, host, scripts.Get("dns_client_read"), struct{}{}, &out, winrmexec.Idempotent()); err != nil {
		return nil, err
	}
	if out.Servers == nil {
		out.Servers = []string{}
	}
	return out.Servers, nil
}
