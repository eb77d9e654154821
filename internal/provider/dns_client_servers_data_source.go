package provider

import (
	"context"
	"errors"
	"fmt"
	"sort"

	"github.com/hashicorp/terraform-plugin-framework-validators/datasourcevalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/listvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/setvalidator"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/bastion-pam/terraform-provider-bastion/internal/ad"
	"github.com/bastion-pam/terraform-provider-bastion/internal/transport"
	"github.com/bastion-pam/terraform-provider-bastion/internal/validators"
)

var (
	_ datasource.DataSource                     = &dnsClientServersDataSource{}
	_ datasource.DataSourceWithConfigure        = &dnsClientServersDataSource{}
	_ datasource.DataSourceWithConfigValidators = &dnsClientServersDataSource{}
)

// NewDNSClientServersDataSource is the bastion_dns_client_servers data source.
func NewDNSClientServersDataSource() datasource.DataSource { return &dnsClientServersDataSource{} }

type dnsClientServersDataSource struct {
	configuredDataSource
}

type dnsClientServersDataSourceModel struct {
	Hosts          types.Set         `tfsdk:"hosts"`
	CorpDomains    []corpDomainModel `tfsdk:"corp_domains"`
	Zone           types.String      `tfsdk:"zone"`
	DNSServers     types.Map         `tfsdk:"dns_servers"`
	NonDCServers   types.Map         `tfsdk:"non_dc_servers"`
	CorpForwarders types.List        `tfsdk:"corp_forwarders"`
}

type corpDomainModel struct {
	DNSName  types.String `tfsdk:"dns_name"`
	Username types.String `tfsdk:"username"`
}

var corpForwarderType = types.ObjectType{AttrTypes: map[string]attr.Type{
	"domain_controller": types.StringType,
	"zone":              types.StringType,
	"type":              types.StringType,
	"partition":         types.StringType,
	"master_servers":    types.ListType{ElemType: types.StringType},
}}

func (d *dnsClientServersDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_dns_client_servers"
}

func (d *dnsClientServersDataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "The DNS servers the bastion's computers and the CORP domain controllers really use to find the bastion's domain, " +
			"with every address resolved to the PRIV domain controller it belongs to. Feed `dns_servers` to `bastion_topology`'s `dns_servers`, so rule HA-7 " +
			"judges what the machines are configured with and a change made on a server shows at the next plan. *High availability and disaster recovery " +
			"considerations for the bastion environment* asks for both: \"make sure that they are not inadvertently configured with a dependency on a particular " +
			"domain controller for services such as DNS\", and \"check DNS settings of computers joined to the bastion environment, as well as the domain " +
			"controllers in CORP domains which have a trust relationship to that domain controller, to ensure none are hard coded with a dependency on that " +
			"domain controller computer's IP address\".\n\n" +
			"What is read, and how:\n\n" +
			"- **`hosts`**: each computer's DNS client server list (`Get-DnsClientServerAddress`: the `ServerAddresses` of every interface, IPv4 first), " +
			"over WinRM with one script per host.\n" +
			"- **`corp_domains`**: the conditional forwarders and stub zones the CORP domain stores in its directory for the bastion's zone or a domain above it, " +
			"over LDAP with the CORP account: `dnsZone` objects in the `ForestDnsZones` and `DomainDnsZones` application partitions and in " +
			"`CN=MicrosoftDNS,CN=System` whose `dnsProperty` `DSPROPERTY_ZONE_TYPE` is a forwarder or stub zone and whose `DSPROPERTY_ZONE_MASTER_SERVERS` " +
			"(or `_DA`) lists the servers their queries go to ([MS-DNSP] 2.3.2.1). A zone in `ForestDnsZones` serves every domain controller of the CORP " +
			"forest; one in `DomainDnsZones` or the domain partition the domain controllers of that domain. Each such domain controller appears in " +
			"`dns_servers` with those servers. Five LDAP operations per CORP domain (bind, the DC list, three zone searches).\n" +
			"- **Resolution**: with the provider's `ldap` block set, the PRIV domain controllers (`nTDSDSA` objects and their `dNSHostName`) and their A and AAAA " +
			"records in `zone` are read (the DC inventory the plan shares, and one search); an address of a DC becomes that DC's host name, so HA-7 names the " +
			"DC, and an address that belongs to no DC is kept and listed in `non_dc_servers`.\n\n" +
			"Not read: server-level forwarders and conditional forwarders stored in a DNS server's own files or registry (not AD-integrated); a CORP domain " +
			"that has no directory-stored forwarder or stub zone for the bastion's zone gets a warning saying so.",
		Attributes: map[string]schema.Attribute{
			"hosts": schema.SetAttribute{
				ElementType: types.StringType, Optional: true,
				MarkdownDescription: "FQDNs of the computers whose DNS client settings are read over WinRM: the bastion's servers (and any other computer the provider's WinRM account may reach).",
				Validators:          []validator.Set{setvalidator.SizeAtLeast(1), setvalidator.ValueStringsAre(validators.FQDN())},
			},
			"corp_domains": schema.ListNestedAttribute{
				Optional: true,
				MarkdownDescription: "CORP domains whose directory-stored conditional forwarders and stub zones for `zone` are read over LDAP, with the provider's `ldap` " +
					"transport settings (port, `tls_mode`, `ca_file`, `connect_to`) and the provider's `pam_corp_password` as the password of `username`.",
				Validators: []validator.List{listvalidator.SizeAtLeast(1)},
				NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
					"dns_name": schema.StringAttribute{
						Required:            true,
						MarkdownDescription: "DNS name of the CORP domain, e.g. `corp.contoso.com`; it must resolve to its domain controllers where Terraform runs (or be mapped in `connect_to`).",
						Validators:          []validator.String{validators.DNSDomainName()},
					},
					"username": schema.StringAttribute{
						Required: true,
						MarkdownDescription: "A CORP account as `DOMAIN\\name` that may read the DNS application partitions (any authenticated user of the domain may, by default). " +
							"Its password is the provider's `pam_corp_password` (or `BASTION_PAM_CORP_PASSWORD`): a data source cannot hold a secret without writing it to the state.",
						Validators: []validator.String{validators.WindowsAccount()},
					},
				}},
			},
			"zone": schema.StringAttribute{
				Optional: true,
				MarkdownDescription: "The bastion's DNS zone: the zone whose forwarding is read in the CORP domains and where the PRIV domain controllers' address records are. " +
					"Defaults to the provider's `ldap.domain`.",
				Validators: []validator.String{validators.DNSDomainName()},
			},
			"dns_servers": schema.MapAttribute{
				ElementType: types.ListType{ElemType: types.StringType}, Computed: true,
				MarkdownDescription: "The DNS servers of each computer, in the order they are used, keyed by the host as given in `hosts` and, for a CORP domain " +
					"controller, by its host name: the servers it sends the bastion zone's queries to. An address of a PRIV domain controller is replaced by the " +
					"DC's host name. This is the shape of `bastion_topology`'s `dns_servers`. An empty list means the host has no DNS server configured.",
			},
			"non_dc_servers": schema.MapAttribute{
				ElementType: types.ListType{ElemType: types.StringType}, Computed: true,
				MarkdownDescription: "For each key of `dns_servers`, the entries that are no PRIV domain controller (no DC's address record holds them). " +
					"Null when the provider has no `ldap` block, so nothing could be resolved.",
			},
			"corp_forwarders": schema.ListNestedAttribute{
				Computed:            true,
				MarkdownDescription: "What was read in `corp_domains`: per CORP domain controller, the directory-stored zone that carries the bastion zone's queries.",
				NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
					"domain_controller": schema.StringAttribute{Computed: true, MarkdownDescription: "The CORP domain controller (`dNSHostName`)."},
					"zone":              schema.StringAttribute{Computed: true, MarkdownDescription: "The forwarder's or stub zone's name: `zone` or a domain above it."},
					"type":              schema.StringAttribute{Computed: true, MarkdownDescription: "`forwarder` (a conditional forwarder) or `stub`."},
					"partition":         schema.StringAttribute{Computed: true, MarkdownDescription: "Where the zone is stored, which is its replication scope: `ForestDnsZones`, `DomainDnsZones` or `Domain`."},
					"master_servers":    schema.ListAttribute{ElementType: types.StringType, Computed: true, MarkdownDescription: "The addresses the zone's queries go to, in order, as stored."},
				}},
			},
		},
	}
}

func (d *dnsClientServersDataSource) ConfigValidators(context.Context) []datasource.ConfigValidator {
	return []datasource.ConfigValidator{datasourcevalidator.AtLeastOneOf(path.MatchRoot("hosts"), path.MatchRoot("corp_domains"))}
}

func (d *dnsClientServersDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	var m dnsClientServersDataSourceModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() || d.data == nil {
		return
	}
	ctx = d.data.logCtx(ctx)
	servers := map[string][]string{}
	var hosts []string
	if !m.Hosts.IsNull() {
		resp.Diagnostics.Append(m.Hosts.ElementsAs(ctx, &hosts, false)...)
	}
	sort.Strings(hosts)
	for _, host := range hosts {
		if d.data.isLost(host) {
			continue // declared lost: nothing to read, and nothing depends on it any more
		}
		list, err := ad.DNSClientServers(ctx, d.data.winrm, host)
		if err != nil {
			report(&resp.Diagnostics, failure{"DNS Client Servers Not Read", host, viaWinRM, "reading the DNS client server list (Get-DnsClientServerAddress)"}, err)
			return
		}
		servers[host] = list
	}
	zone := m.Zone.ValueString()
	if zone == "" && d.data.dirConfig != nil {
		zone = d.data.dirConfig.Domain
	}
	forwarders := d.readCorp(ctx, m.CorpDomains, zone, servers, &resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	var dcAddresses map[string]string
	if d.data.dir != nil && zone != "" {
		var err error
		if dcAddresses, err = ad.DCAddresses(ctx, d.data.dir, zone); err != nil {
			report(&resp.Diagnostics, failure{"DNS Servers Not Resolved", "", viaLDAP, "reading the PRIV domain controllers and their address records in " + zone}, err)
			return
		}
	}
	m.DNSServers, m.NonDCServers = resolvedDNSServers(servers, dcAddresses)
	m.CorpForwarders = corpForwardersValue(forwarders)
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}

// readCorp reads each CORP domain's directory-stored forwarding of zone
// and adds its DCs to servers.
func (d *dnsClientServersDataSource) readCorp(ctx context.Context, corps []corpDomainModel, zone string, servers map[string][]string, diags *diagsT) []ad.ZoneForwarding {
	if len(corps) == 0 {
		return nil
	}
	at := path.Root("corp_domains")
	switch {
	case d.data.dirConfig == nil:
		d.data.needDirectory("Reading the CORP domains' DNS zones uses the provider's LDAP transport settings.", diags)
		return nil
	case zone == "":
		diags.AddAttributeError(path.Root("zone"), "DNS Zone Not Known", "Set zone to the bastion's DNS zone (the provider's ldap.domain is not set either).")
		return nil
	case d.data.pamCorpPassword == "":
		diags.AddAttributeError(at, "CORP Password Not Set",
			"Reading a CORP domain's directory needs the password of corp_domains[*].username: set the provider's pam_corp_password (or BASTION_PAM_CORP_PASSWORD), "+
				"from an ephemeral variable or the environment. A data source cannot take a secret itself without writing it to the state.")
		return nil
	}
	var all []ad.ZoneForwarding
	for i, c := range corps {
		domain := c.DNSName.ValueString()
		got, err := ad.CorpZoneForwarding(ctx, *d.data.dirConfig, ad.CorpDirectory{Domain: domain, Username: c.Username.ValueString(), Password: d.data.pamCorpPassword}, zone)
		if errors.Is(err, transport.ErrUnauthorized) {
			diags.AddAttributeError(at.AtListIndex(i).AtName("username"), "CORP Credential Refused",
				fmt.Sprintf("The domain controllers of %s refused %s with the provider's pam_corp_password. Check both.\n\n%v", domain, c.Username.ValueString(), err))
			return nil
		}
		if err != nil {
			report(diags, failure{"CORP DNS Zones Not Read", domain, viaCorpLDAP, "reading the conditional forwarders and stub zones for " + zone}, err)
			return nil
		}
		if len(got) == 0 {
			diags.AddAttributeWarning(at.AtListIndex(i), "No CORP Forwarding For The Bastion Zone In The Directory",
				fmt.Sprintf("The directory of %s holds no conditional forwarder or stub zone for %s or a domain above it, so its domain controllers reach the "+
					"bastion through server-level forwarders, a conditional forwarder kept in a DNS server's own files, or a delegation, none of which LDAP can read. "+
					"Check them on each domain controller (Get-DnsServerForwarder, Get-DnsServerZone), or store the conditional forwarder in Active Directory "+
					"(Add-DnsServerConditionalForwarderZone -ReplicationScope Forest) with at least two bastion domain controllers.", domain, zone))
		}
		for _, f := range got {
			servers[f.DC] = f.Servers
		}
		all = append(all, got...)
	}
	return all
}

// resolvedDNSServers replaces each address of a PRIV DC by the DC's host
// name and lists, per host, the entries that are no DC. Without
// dcAddresses (no directory), nothing is resolved and the second map is
// null.
func resolvedDNSServers(servers map[string][]string, dcAddresses map[string]string) (types.Map, types.Map) {
	listType := types.ListType{ElemType: types.StringType}
	out, nonDC := map[string]attr.Value{}, map[string]attr.Value{}
	for host, list := range servers {
		vals, other := []attr.Value{}, []attr.Value{}
		for _, s := range list {
			if dcAddresses == nil {
				vals = append(vals, types.StringValue(s))
				continue
			}
			if dc := ad.ResolveDNSServer(host, s, dcAddresses); dc != "" {
				vals = append(vals, types.StringValue(dc))
				continue
			}
			vals = append(vals, types.StringValue(s))
			other = append(other, types.StringValue(s))
		}
		out[host] = types.ListValueMust(types.StringType, vals)
		nonDC[host] = types.ListValueMust(types.StringType, other)
	}
	if dcAddresses == nil {
		return types.MapValueMust(listType, out), types.MapNull(listType)
	}
	return types.MapValueMust(listType, out), types.MapValueMust(listType, nonDC)
}

func corpForwardersValue(fs []ad.ZoneForwarding) types.List {
	vals := make([]attr.Value, 0, len(fs))
	for _, f := range fs {
		masters := make([]attr.Value, len(f.Servers))
		for i, s := range f.Servers {
			masters[i] = types.StringValue(s)
		}
		vals = append(vals, types.ObjectValueMust(corpForwarderType.AttrTypes, map[string]attr.Value{
			"domain_controller": types.StringValue(f.DC),
			"zone":              types.StringValue(f.Zone),
			"type":              types.StringValue(f.Type),
			"partition":         types.StringValue(f.Partition),
			"master_servers":    types.ListValueMust(types.StringType, masters),
		}))
	}
	return types.ListValueMust(corpForwarderType, vals)
}
