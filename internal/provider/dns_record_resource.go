package provider

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"sort"
	"strings"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework-validators/setvalidator"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/int64default"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/bastion-pam/terraform-provider-bastion/internal/directory"
	"github.com/bastion-pam/terraform-provider-bastion/internal/transport"
	"github.com/bastion-pam/terraform-provider-bastion/internal/validators"
)

var (
	_ resource.Resource                   = &dnsRecordResource{}
	_ resource.ResourceWithConfigure      = &dnsRecordResource{}
	_ resource.ResourceWithImportState    = &dnsRecordResource{}
	_ resource.ResourceWithValidateConfig = &dnsRecordResource{}
)

// NewDNSRecordResource is the bastion_dns_record resource.
func NewDNSRecordResource() resource.Resource { return &dnsRecordResource{} }

type dnsRecordResource struct {
	configuredResource
}

type dnsRecordResourceModel struct {
	ID       types.String   `tfsdk:"id"`
	Zone     types.String   `tfsdk:"zone"`
	Name     types.String   `tfsdk:"name"`
	Type     types.String   `tfsdk:"type"`
	Records  types.Set      `tfsdk:"records"`
	TTL      types.Int64    `tfsdk:"ttl"`
	FQDN     types.String   `tfsdk:"fqdn"`
	DN       types.String   `tfsdk:"dn"`
	Timeouts timeouts.Value `tfsdk:"timeouts"`
}

func (r *dnsRecordResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_dns_record"
}

func (r *dnsRecordResource) Schema(ctx context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	replace := []planmodifier.String{stringplanmodifier.RequiresReplace()}
	resp.Schema = schema.Schema{
		MarkdownDescription: "The records of one type at one name of an Active Directory-integrated DNS zone of the PRIV domain, written over LDAP: " +
			"the `dnsRecord` values ([MS-DNSP] 2.3.2.2) of the `dnsNode` object `DC=<name>,DC=<zone>,CN=MicrosoftDNS,DC=DomainDnsZones,<domain>`. " +
			"Its use here is the single alias of the MIM Service nodes that Microsoft's \"High availability and disaster recovery considerations " +
			"for the bastion environment\" asks for (\"a single alias (for instance, A, or CNAME records) so that one common name is exposed to the user\").\n\n" +
			"The resource owns all records of its `type` at its `name` and leaves records of other types at that name alone. Records are static " +
			"(time stamp 0: aging never scavenges them) and carry the zone's SOA serial. Read reads the node from the pinned DC; a change made with " +
			"DNS Manager, `dnscmd`, `Add-DnsServerResourceRecord` or `samba-tool dns` shows at plan. The DNS server answers from the directory: " +
			"Windows' DNS server picks a change up at its next directory poll (`DsPollingInterval`, 180 seconds by default), other DCs after replication.",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{
				Computed: true, MarkdownDescription: "`<zone>/<name>/<type>`, e.g. `priv.contoso.com/mim/A`: the import ID.",
				PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"zone": schema.StringAttribute{
				Required: true,
				MarkdownDescription: "The AD-integrated zone, stored in the domain's `DomainDnsZones` partition (normally the PRIV domain's DNS name). " +
					"Changing it replaces the records.",
				Validators:    []validator.String{validators.DNSDomainName()},
				PlanModifiers: replace,
			},
			"name": schema.StringAttribute{
				Required:            true,
				MarkdownDescription: "The name relative to the zone (`mim` for `mim.priv.contoso.com`), or `@` for the zone's own name. Changing it replaces the records.",
				Validators:          []validator.String{validators.DNSRelativeName()},
				PlanModifiers:       replace,
			},
			"type": schema.StringAttribute{
				Required:            true,
				MarkdownDescription: "`A` (IPv4 addresses), `AAAA` (IPv6 addresses) or `CNAME` (one target name). Changing it replaces the records.",
				Validators:          []validator.String{validators.OneOf("A", "AAAA", "CNAME")},
				PlanModifiers:       replace,
			},
			"records": schema.SetAttribute{
				ElementType: types.StringType, Required: true,
				MarkdownDescription: "The record data: IPv4 addresses for `A`, IPv6 addresses in their canonical form (RFC 5952, e.g. `2001:db8::10`) for `AAAA`, " +
					"exactly one fully qualified target name without the trailing dot for `CNAME`. For the MIM alias: one `A` record per MIM Service node, " +
					"or a `CNAME` to the load balancer's name.",
				Validators: []validator.Set{setvalidator.SizeAtLeast(1), setvalidator.ValueStringsAre(validators.DNSRecordData())},
			},
			"ttl": schema.Int64Attribute{
				Optional: true, Computed: true, Default: int64default.StaticInt64(3600),
				MarkdownDescription: "Time to live in seconds (`TtlSeconds`). Defaults to `3600`, the zone default of Windows' DNS server.",
				Validators:          []validator.Int64{int64validator.Between(0, 2147483647)},
			},
			"fqdn": schema.StringAttribute{
				Computed: true, MarkdownDescription: "The fully qualified name the records answer for.",
				PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"dn": schema.StringAttribute{
				Computed: true, MarkdownDescription: "DN of the `dnsNode` object.",
				PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"timeouts": timeouts.Attributes(ctx, timeouts.Opts{Create: true, Read: true, Update: true, Delete: true}),
		},
	}
}

const dnsRecordTimeout = 5 * time.Minute

func (r *dnsRecordResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var plan dnsRecordResourceModel
	if !load(ctx, &resp.Diagnostics, from(req.Plan, &plan)) {
		return
	}
	ctx, cancel, ok := r.data.operation(ctx, plan.Timeouts.Create, dnsRecordTimeout, &resp.Diagnostics)
	if !ok {
		return
	}
	defer cancel()
	r.write(ctx, &plan, &resp.State, &resp.Diagnostics)
}

func (r *dnsRecordResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var state dnsRecordResourceModel
	if !load(ctx, &resp.Diagnostics, from(req.State, &state)) {
		return
	}
	ctx, cancel, ok := r.data.operation(ctx, state.Timeouts.Read, dnsRecordTimeout, &resp.Diagnostics)
	if !ok {
		return
	}
	defer cancel()
	if !r.data.needDirectory(readsOverLDAP, &resp.Diagnostics) {
		return
	}
	set, err := r.data.dir.DNSRecords(ctx, state.Zone.ValueString(), state.Name.ValueString(), directory.DNSTypeNames[state.Type.ValueString()])
	if errors.Is(err, transport.ErrNotFound) || err == nil && len(set.Values) == 0 {
		resp.State.RemoveResource(ctx)
		return
	}
	if err != nil {
		report(&resp.Diagnostics, failure{"DNS Records Not Read", "", viaLDAP, fmt.Sprintf("reading the DNS records %s (the state is kept unchanged)", state.ID.ValueString())}, err)
		return
	}
	resp.Diagnostics.Append(dnsSetToModel(ctx, set, &state)...)
	resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
}

func (r *dnsRecordResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan dnsRecordResourceModel
	if !load(ctx, &resp.Diagnostics, from(req.Plan, &plan)) {
		return
	}
	ctx, cancel, ok := r.data.operation(ctx, plan.Timeouts.Update, dnsRecordTimeout, &resp.Diagnostics)
	if !ok {
		return
	}
	defer cancel()
	r.write(ctx, &plan, &resp.State, &resp.Diagnostics)
}

func (r *dnsRecordResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var state dnsRecordResourceModel
	if !load(ctx, &resp.Diagnostics, from(req.State, &state)) {
		return
	}
	ctx, cancel, ok := r.data.operation(ctx, state.Timeouts.Delete, dnsRecordTimeout, &resp.Diagnostics)
	if !ok {
		return
	}
	defer cancel()
	if !r.data.needDirectory(readsOverLDAP, &resp.Diagnostics) {
		return
	}
	_, err := r.data.dir.SetDNSRecords(ctx, state.Zone.ValueString(), state.Name.ValueString(), directory.DNSTypeNames[state.Type.ValueString()], 0, nil)
	if err != nil && !errors.Is(err, transport.ErrNotFound) {
		report(&resp.Diagnostics, failure{"DNS Records Not Deleted", "", viaLDAP, "deleting the DNS records " + state.ID.ValueString()}, err)
	}
}

func (r *dnsRecordResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	parts := strings.Split(req.ID, "/")
	if len(parts) != 3 || validators.CheckDNSDomainName(parts[0]) != nil || validators.CheckDNSRelativeName(parts[1]) != nil || directory.DNSTypeNames[parts[2]] == 0 {
		resp.Diagnostics.AddError("Invalid Import ID", fmt.Sprintf("The import ID is <zone>/<name>/<type> with type A, AAAA or CNAME, e.g. priv.contoso.com/mim/A; got %q.", req.ID))
		return
	}
	for attr, v := range map[string]string{"id": req.ID, "zone": parts[0], "name": parts[1], "type": parts[2]} {
		resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root(attr), v)...)
	}
}

// ValidateConfig checks the records against the type: addresses of the
// right family in canonical form, or exactly one target name.
func (r *dnsRecordResource) ValidateConfig(ctx context.Context, req resource.ValidateConfigRequest, resp *resource.ValidateConfigResponse) {
	var cfg dnsRecordResourceModel
	if !load(ctx, &resp.Diagnostics, from(req.Config, &cfg)) || cfg.Type.IsUnknown() || cfg.Type.IsNull() || cfg.Records.IsUnknown() || cfg.Records.IsNull() {
		return
	}
	var values []types.String
	resp.Diagnostics.Append(cfg.Records.ElementsAs(ctx, &values, false)...)
	at := path.Root("records")
	typ := cfg.Type.ValueString()
	if typ == "CNAME" && len(values) != 1 {
		resp.Diagnostics.AddAttributeError(at, "Invalid CNAME Record", fmt.Sprintf("A CNAME has exactly one target name (RFC 1034 3.6.2); records lists %d.", len(values)))
		return
	}
	for _, v := range values {
		if v.IsUnknown() || v.IsNull() {
			continue
		}
		if msg := checkDNSRecordValue(typ, v.ValueString()); msg != "" {
			resp.Diagnostics.AddAttributeError(at, "Invalid DNS Record", msg)
		}
	}
}

// checkDNSRecordValue says what is wrong with value as data of typ, or "".
func checkDNSRecordValue(typ, value string) string {
	switch typ {
	case "A", "AAAA":
		ip, err := netip.ParseAddr(value)
		if err != nil || ip.Zone() != "" || (typ == "A") != ip.Is4() {
			return fmt.Sprintf("%q is not an IPv%s address (type %s).", value, map[bool]string{true: "4", false: "6"}[typ == "A"], typ)
		}
		if ip.String() != value {
			return fmt.Sprintf("%q: write the address in its canonical form, %q (RFC 5952), so the plan matches what the directory returns.", value, ip.String())
		}
	case "CNAME":
		if strings.HasSuffix(value, ".") || validators.CheckDNSDomainName(value) != nil {
			return fmt.Sprintf("%q is not a fully qualified host name without the trailing dot (e.g. mim-nlb.priv.contoso.com).", value)
		}
	}
	return ""
}

// write sets the records of plan and stores what the directory reads back.
func (r *dnsRecordResource) write(ctx context.Context, plan *dnsRecordResourceModel, state *tfsdk.State, diags *diagsT) {
	if !r.data.needDirectory(readsOverLDAP, diags) {
		return
	}
	values := stringsOf(plan.Records, diags)
	if diags.HasError() {
		return
	}
	zone, name, typ := plan.Zone.ValueString(), plan.Name.ValueString(), plan.Type.ValueString()
	set, err := r.data.dir.SetDNSRecords(ctx, zone, name, directory.DNSTypeNames[typ], uint32(plan.TTL.ValueInt64()), values) //nolint:gosec // ttl is validated to 0..2147483647
	if err != nil {
		report(diags, failure{"DNS Records Not Written", "", viaLDAP, fmt.Sprintf("writing the %s records of %s in zone %s", typ, name, zone)}, err)
		return
	}
	diags.Append(dnsSetToModel(ctx, set, plan)...)
	diags.Append(state.Set(ctx, plan)...)
}

func dnsSetToModel(ctx context.Context, set directory.DNSRecordSet, m *dnsRecordResourceModel) diagsT {
	typ := ""
	for k, v := range directory.DNSTypeNames {
		if v == set.Type {
			typ = k
		}
	}
	values := append([]string(nil), set.Values...)
	sort.Strings(values)
	recs, d := types.SetValueFrom(ctx, types.StringType, values)
	m.ID = types.StringValue(set.Zone + "/" + set.Name + "/" + typ)
	m.Zone, m.Name, m.Type = types.StringValue(set.Zone), types.StringValue(set.Name), types.StringValue(typ)
	m.Records = recs
	m.TTL = types.Int64Value(int64(set.TTL))
	m.DN = types.StringValue(set.DN)
	fqdn := set.Zone
	if set.Name != "@" {
		fqdn = set.Name + "." + set.Zone
	}
	m.FQDN = types.StringValue(fqdn)
	return d
}
