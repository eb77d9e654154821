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
	"github.com/bastion-pam/terraform-provider-bastion/internal/directory"
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
	DNSServerHosts types.Set         `tfsdk:"dns_server_hosts"`
	CorpDomains    []corpDomainModel `tfsdk:"corp_domains"`
	Zone           types.String      `tfsdk:"zone"`
	DNSServers     types.Map         `tfsdk:"dns_servers"`
	NonDCServers   types.Map         `tfsdk:"non_dc_servers"`
	ZoneForwarding types.List        `tfsdk:"zone_forwarding"`
}

type corpDomainModel struct {
	DNSName  types.String `tfsdk:"dns_name"`
	Username types.String `tfsdk:"username"`
}

var zoneForwardingType = types.ObjectType{AttrTypes: map[string]attr.Type{
	"host":           types.StringType,
	"source":         types.StringType,
	"zone":           types.StringType,
	"type":           types.StringType,
	"partition":      types.StringType,
	"master_servers": types.ListType{ElemType: types.StringType},
}}

// forwarding is one row of zone_forwarding.
type forwarding struct {
	host, source, zone, typ, partition string
	servers                            []string
}

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
			"over WinRM with one script per host.\n\n" +
			"- **`corp_domains`**: the conditional forwarders and stub zones the CORP domain stores in its directory for the bastion's zone or a domain above it, " +
			"over LDAP with the CORP account: `dnsZone` objects in the `ForestDnsZones` and `DomainDnsZones` application partitions and in " +
			"`CN=MicrosoftDNS,CN=System` whose `dnsProperty` `DSPROPERTY_ZONE_TYPE` is a forwarder or stub zone and whose `DSPROPERTY_ZONE_MASTER_SERVERS` " +
			"(or `_DA`) lists the servers their queries go to ([MS-DNSP] 2.3.2.1). A zone in `ForestDnsZones` serves every domain controller of the CORP " +
			"forest; one in `DomainDnsZones` or the domain partition the domain controllers of that domain. Each such domain controller appears in " +
			"`dns_servers` with those servers. Five LDAP operations per CORP domain (bind, the DC list, three zone searches).\n\n" +
			"- **`dns_server_hosts`**: each DNS server's own configuration over WinRM, one script per host (`MicrosoftDNS_Server` `Forwarders`, what " +
			"`Get-DnsServerForwarder` lists, and the `MicrosoftDNS_Zone` forwarder and stub zones, file-backed or in Active Directory, what " +
			"`Get-DnsServerZone` lists): the most specific forwarder or stub zone for `zone` or a domain above it, else the server-level forwarders. " +
			"This is what the server really does, including what the directory cannot show; it takes precedence over `corp_domains` for the same host. " +
			"The provider's WinRM account must be allowed on those servers: in a PAM trust the CORP forest is the trusting side and trusts the bastion " +
			"forest (*Deploy MIM PAM*), so a PRIV account can authenticate to a CORP domain controller through the trust; whether it may log on over " +
			"WinRM and read the DNS server's configuration depends on the permissions CORP grants it.\n\n" +
			"- **Resolution**: with the provider's `ldap` block set, the PRIV domain controllers (`nTDSDSA` objects and their `dNSHostName`) and their A and AAAA " +
			"records in `zone` are read (the DC inventory the plan shares, and one search); an address of a DC becomes that DC's host name, so HA-7 names the " +
			"DC, and an address that belongs to no DC is kept and listed in `non_dc_servers`.\n\n" +
			"Without `dns_server_hosts`, server-level forwarders and conditional forwarders kept in a DNS server's own files are not read; a CORP domain " +
			"that has no directory-stored forwarder or stub zone for the bastion's zone gets a warning saying so.",
		Attributes: map[string]schema.Attribute{
			"hosts": schema.SetAttribute{
				ElementType: types.StringType, Optional: true,
				MarkdownDescription: "FQDNs of the computers whose DNS client settings are read over WinRM: the bastion's servers (and any other computer the provider's WinRM account may reach).",
				Validators:          []validator.Set{setvalidator.SizeAtLeast(1), setvalidator.ValueStringsAre(validators.FQDN())},
			},
			"dns_server_hosts": schema.SetAttribute{
				ElementType: types.StringType, Optional: true,
				MarkdownDescription: "FQDNs of DNS servers (typically the CORP domain controllers) whose own forwarding of `zone` is read over WinRM: " +
					"conditional forwarders and stub zones, file-backed or AD-integrated, then server-level forwarders.",
				Validators: []validator.Set{setvalidator.SizeAtLeast(1), setvalidator.ValueStringsAre(validators.FQDN())},
			},
			"corp_domains": schema.ListNestedAttribute{
				Optional: true,
				MarkdownDescription: "CORP domains whose directory-stored conditional forwarders and stub zones for `zone` are read over LDAP, with the provider's `ldap` " +
					"transport settings (port, `tls_mode`, `ca_file`, `connect_to`) and the provider's `pam_corp_password` as the password of `username`, in a simple bind " +
					"(never the `ldap` block's Kerberos identity): `tls_mode` must be `ldaps` or `starttls`, as `none` would send that password in clear.",
				Validators: []validator.List{listvalidator.SizeAtLeast(1)},
				NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
					"dns_name": schema.StringAttribute{
						Required:            true,
						MarkdownDescription: "DNS name of the CORP domain, e.g. `corp.contoso.test`; it must resolve to its domain controllers where Terraform runs (or be mapped in `connect_to`).",
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
				MarkdownDescription: "The DNS servers of each computer, in the order they are used, keyed by the host as given in `hosts` and `dns_server_hosts` and, " +
					"for a CORP domain controller read through `corp_domains`, by its host name: for a DNS server, the servers it sends the bastion zone's queries to. An address of a PRIV domain controller is replaced by the " +
					"DC's host name. This is the shape of `bastion_topology`'s `dns_servers`. An empty list means the host has no DNS server configured.",
			},
			"non_dc_servers": schema.MapAttribute{
				ElementType: types.ListType{ElemType: types.StringType}, Computed: true,
				MarkdownDescription: "For each key of `dns_servers`, the entries that are no PRIV domain controller (no DC's address record holds them). " +
					"Null when the provider has no `ldap` block, so nothing could be resolved.",
			},
			"zone_forwarding": schema.ListNestedAttribute{
				Computed:            true,
				MarkdownDescription: "How each DNS server read through `corp_domains` or `dns_server_hosts` sends the bastion zone's queries on, as read.",
				NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
					"host":           schema.StringAttribute{Computed: true, MarkdownDescription: "The DNS server (a CORP domain controller's `dNSHostName`, or the host as given in `dns_server_hosts`)."},
					"source":         schema.StringAttribute{Computed: true, MarkdownDescription: "`directory` (read over LDAP through `corp_domains`) or `dns_server` (read on the server over WinRM)."},
					"zone":           schema.StringAttribute{Computed: true, MarkdownDescription: "The forwarder's or stub zone's name, `zone` or a domain above it; null for server-level forwarders."},
					"type":           schema.StringAttribute{Computed: true, MarkdownDescription: "`forwarder` (a conditional forwarder), `stub`, or `server_forwarders`."},
					"partition":      schema.StringAttribute{Computed: true, MarkdownDescription: "For `source = \"directory\"`, where the zone is stored, which is its replication scope: `ForestDnsZones`, `DomainDnsZones` or `Domain`; null otherwise."},
					"master_servers": schema.ListAttribute{ElementType: types.StringType, Computed: true, MarkdownDescription: "The addresses the queries go to, in order, as configured."},
				}},
			},
		},
	}
}

func (d *dnsClientServersDataSource) ConfigValidators(context.Context) []datasource.ConfigValidator {
	return []datasource.ConfigValidator{datasourcevalidator.AtLeastOneOf(path.MatchRoot("hosts"), path.MatchRoot("corp_domains"), path.MatchRoot("dns_server_hosts"))}
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
	clients := make(map[string][]string, len(servers))
	for host, list := range servers {
		clients[host] = list
	}
	forwarders := d.readCorp(ctx, m.CorpDomains, zone, servers, &resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	forwarders = append(forwarders, d.readDNSServers(ctx, m.DNSServerHosts, zone, clients, servers, &resp.Diagnostics)...)
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
	m.ZoneForwarding = zoneForwardingValue(forwarders)
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}

// readCorp reads each CORP domain's directory-stored forwarding of zone
// and adds its DCs to servers.
func (d *dnsClientServersDataSource) readCorp(ctx context.Context, corps []corpDomainModel, zone string, servers map[string][]string, diags *diagsT) []forwarding {
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
	case d.data.dirConfig.TLSMode == directory.TLSModeNone:
		diags.AddAttributeError(at, "CORP Password Needs TLS",
			"corp_domains are read with a simple bind that sends the provider's pam_corp_password to the CORP domain controllers, and the provider's "+
				"ldap.tls_mode is \"none\": the password would cross the network in clear. Set ldap.tls_mode to ldaps (the default) or starttls.")
		return nil
	case d.data.pamCorpPassword == "":
		diags.AddAttributeError(at, "CORP Password Not Set",
			"Reading a CORP domain's directory needs the password of corp_domains[*].username: set the provider's pam_corp_password (or BASTION_PAM_CORP_PASSWORD), "+
				"from an ephemeral variable or the environment. A data source cannot take a secret itself without writing it to the state.")
		return nil
	}
	var all []forwarding
	for i, c := range corps {
		domain := c.DNSName.ValueString()
		got, err := ad.CorpZoneForwarding(ctx, *d.data.dirConfig, ad.CorpDirectory{Domain: domain, Username: c.Username.ValueString(), Password: d.data.pamCorpPassword}, zone)
		if errors.Is(err, transport.ErrUnauthorized) {
			reportAt(diags, at.AtListIndex(i).AtName("username"), failure{"CORP Credential Refused", "", viaCorpLDAP,
				fmt.Sprintf("binding to the domain controllers of %s as %s (corp_domains[%d].username) with the provider's pam_corp_password", domain, c.Username.ValueString(), i)}, "", err)
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
			all = append(all, forwarding{host: f.DC, source: "directory", zone: f.Zone, typ: f.Type, partition: f.Partition, servers: f.Servers})
		}
	}
	return all
}

// readDNSServers reads each DNS server's own forwarding of zone over WinRM
// and sets its entry in servers. A server that forwards nothing for zone
// keeps its DNS client list from clients (the hosts read), if any.
func (d *dnsClientServersDataSource) readDNSServers(ctx context.Context, set types.Set, zone string, clients, servers map[string][]string, diags *diagsT) []forwarding {
	if set.IsNull() {
		return nil
	}
	if zone == "" {
		diags.AddAttributeError(path.Root("zone"), "DNS Zone Not Known", "Set zone to the bastion's DNS zone (the provider's ldap.domain is not set either).")
		return nil
	}
	var hosts []string
	diags.Append(set.ElementsAs(ctx, &hosts, false)...)
	sort.Strings(hosts)
	var out []forwarding
	for _, host := range hosts {
		if d.data.isLost(host) {
			continue
		}
		cfg, err := ad.ReadDNSServerConfig(ctx, d.data.winrm, host)
		if err != nil {
			report(diags, failure{"DNS Server Configuration Not Read", host, viaWinRM, "reading the DNS server's forwarders and zones (MicrosoftDNS_Server, MicrosoftDNS_Zone)"}, err)
			return nil
		}
		list, how, z := cfg.ServersFor(zone)
		if how == "" {
			// Root hints or a delegation: no forwarding list to judge, but
			// the host's own DNS client list, if read, still counts.
			if list, ok := clients[host]; ok {
				servers[host] = list
			} else {
				delete(servers, host)
			}
			diags.AddAttributeWarning(path.Root("dns_server_hosts"), "DNS Server Resolves The Bastion Zone Without A Forwarder",
				fmt.Sprintf("%s has no conditional forwarder, stub zone or server-level forwarder for %s, so it resolves the bastion's zone through the root hints "+
					"or a delegation, which this data source does not read and HA-7 cannot judge. If it should forward the zone, add a conditional forwarder "+
					"listing at least two bastion domain controllers (Add-DnsServerConditionalForwarderZone).", host, zone))
			continue
		}
		servers[host] = list
		out = append(out, forwarding{host: host, source: "dns_server", zone: z.Name, typ: how, servers: list})
	}
	return out
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

func zoneForwardingValue(fs []forwarding) types.List {
	orNull := func(s string) types.String {
		if s == "" {
			return types.StringNull()
		}
		return types.StringValue(s)
	}
	vals := make([]attr.Value, 0, len(fs))
	for _, f := range fs {
		masters := make([]attr.Value, len(f.servers))
		for i, s := range f.servers {
			masters[i] = types.StringValue(s)
		}
		vals = append(vals, types.ObjectValueMust(zoneForwardingType.AttrTypes, map[string]attr.Value{
			"host":           types.StringValue(f.host),
			"source":         types.StringValue(f.source),
			"zone":           orNull(f.zone),
			"type":           types.StringValue(f.typ),
			"partition":      orNull(f.partition),
			"master_servers": types.ListValueMust(types.StringType, masters),
		}))
	}
	return types.ListValueMust(zoneForwardingType, vals)
}
