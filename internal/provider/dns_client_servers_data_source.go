package provider

import (
	"context"
	"sort"

	"github.com/hashicorp/terraform-plugin-framework-validators/setvalidator"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/bastion-pam/terraform-provider-bastion/internal/ad"
	"github.com/bastion-pam/terraform-provider-bastion/internal/validators"
)

var (
	_ datasource.DataSource              = &dnsClientServersDataSource{}
	_ datasource.DataSourceWithConfigure = &dnsClientServersDataSource{}
)

// NewDNSClientServersDataSource is the bastion_dns_client_servers data source.
func NewDNSClientServersDataSource() datasource.DataSource { return &dnsClientServersDataSource{} }

type dnsClientServersDataSource struct {
	configuredDataSource
}

type dnsClientServersDataSourceModel struct {
	Hosts      types.Set `tfsdk:"hosts"`
	DNSServers types.Map `tfsdk:"dns_servers"`
}

func (d *dnsClientServersDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_dns_client_servers"
}

func (d *dnsClientServersDataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "The DNS client server list each computer really uses (`Get-DnsClientServerAddress`: the `ServerAddresses` of every interface, " +
			"IPv4 first), read over WinRM with one script per host. Feed `dns_servers` to `bastion_topology`'s `dns_servers`, so rule HA-7 " +
			"(\"make sure that they are not inadvertently configured with a dependency on a particular domain controller for services such as DNS\", " +
			"*High availability and disaster recovery considerations for the bastion environment*) judges what the machines are configured with, and a " +
			"change made on a server shows at the next plan.",
		Attributes: map[string]schema.Attribute{
			"hosts": schema.SetAttribute{
				ElementType: types.StringType, Required: true,
				MarkdownDescription: "FQDNs of the computers to read: the bastion's servers, and the CORP domain controllers reachable over WinRM.",
				Validators:          []validator.Set{setvalidator.SizeAtLeast(1), setvalidator.ValueStringsAre(validators.FQDN())},
			},
			"dns_servers": schema.MapAttribute{
				ElementType: types.ListType{ElemType: types.StringType}, Computed: true,
				MarkdownDescription: "DNS server addresses of each host, in the order the DNS client uses them, keyed by the host as given in `hosts` " +
					"(the shape of `bastion_topology`'s `dns_servers`). An empty list means the host has none configured.",
			},
		},
	}
}

func (d *dnsClientServersDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	var m dnsClientServersDataSourceModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() || d.data == nil {
		return
	}
	ctx = d.data.logCtx(ctx)
	var hosts []string
	resp.Diagnostics.Append(m.Hosts.ElementsAs(ctx, &hosts, false)...)
	sort.Strings(hosts)
	out := map[string]attr.Value{}
	for _, host := range hosts {
		if d.data.isLost(host) {
			continue // declared lost: nothing to read, and nothing depends on it any more
		}
		servers, err := ad.DNSClientServers(ctx, d.data.winrm, host)
		if err != nil {
			report(&resp.Diagnostics, failure{"DNS Client Servers Not Read", host, viaWinRM, "reading the DNS client server list (Get-DnsClientServerAddress)"}, err)
			return
		}
		vals := make([]attr.Value, len(servers))
		for i, s := range servers {
			vals[i] = types.StringValue(s)
		}
		out[host] = types.ListValueMust(types.StringType, vals)
	}
	m.DNSServers = types.MapValueMust(types.ListType{ElemType: types.StringType}, out)
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}
