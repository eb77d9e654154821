package provider

import (
	"context"

	"github.com/bastion-pam/terraform-provider-bastion/internal/adnames"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

var (
	_ datasource.DataSource              = &domainControllersDataSource{}
	_ datasource.DataSourceWithConfigure = &domainControllersDataSource{}
)

// NewDomainControllersDataSource is the bastion_domain_controllers data source.
func NewDomainControllersDataSource() datasource.DataSource { return &domainControllersDataSource{} }

type domainControllersDataSource struct {
	configuredDataSource
}

type domainControllersDataSourceModel struct {
	DomainName                types.String `tfsdk:"domain_name"`
	ForestFunctionalLevel     types.Int64  `tfsdk:"forest_functional_level"`
	ForestFunctionalLevelName types.String `tfsdk:"forest_functional_level_name"`
	DomainFunctionalLevel     types.Int64  `tfsdk:"domain_functional_level"`
	FSMORoleHolders           types.Map    `tfsdk:"fsmo_role_holders"`
	DomainControllers         types.List   `tfsdk:"domain_controllers"`
}

var dcListAttrTypes = map[string]attr.Type{
	"host":             types.StringType,
	"name":             types.StringType,
	"site":             types.StringType,
	"global_catalog":   types.BoolType,
	"read_only":        types.BoolType,
	"fsmo_roles":       types.ListType{ElemType: types.StringType},
	"functional_level": types.Int64Type,
	"invocation_id":    types.StringType,
	"options":          types.Int64Type,
	"server_dn":        types.StringType,
	"ntds_settings_dn": types.StringType,
	"computer_dn":      types.StringType,
}

func (d *domainControllersDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_domain_controllers"
}

func (d *domainControllersDataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "Every domain controller of the bastion forest as the directory lists them (nTDSDSA and nTDSDSARO objects under `CN=Sites`), " +
			"with the FSMO role holders and the functional levels. LDAP only, on the provider's pinned DC: 6 searches. " +
			"Each DC carries what `bastion_topology`'s `domain_controllers` takes (`host`, `site`, `global_catalog`, `read_only`, `fsmo_roles`), " +
			"so the HA rules can be checked against the real directory.",
		Attributes: map[string]schema.Attribute{
			"domain_name":                  schema.StringAttribute{Computed: true, MarkdownDescription: "DNS name of the domain read (from the PDC emulator's role object, the domain head)."},
			"forest_functional_level":      schema.Int64Attribute{Computed: true, MarkdownDescription: "`msDS-Behavior-Version` on `CN=Partitions`: 7 is Windows Server 2016 and later, the level PAM's time-limited memberships need."},
			"forest_functional_level_name": schema.StringAttribute{Computed: true, MarkdownDescription: "The forest functional level's name, e.g. `Windows Server 2016`."},
			"domain_functional_level":      schema.Int64Attribute{Computed: true, MarkdownDescription: "`msDS-Behavior-Version` on the domain head."},
			"fsmo_role_holders": schema.MapAttribute{
				ElementType: types.StringType, Computed: true,
				MarkdownDescription: "FQDN of each role's holder by Microsoft's role name (`SchemaMaster`, `DomainNamingMaster`, `PDCEmulator`, `RIDMaster`, `InfrastructureMaster`); " +
					"empty when `fSMORoleOwner` names a DC that no longer exists.",
			},
			"domain_controllers": schema.ListNestedAttribute{
				Computed:            true,
				MarkdownDescription: "The DCs, sorted by host.",
				NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
					"host":             schema.StringAttribute{Computed: true, MarkdownDescription: "`dNSHostName` of the server object."},
					"name":             schema.StringAttribute{Computed: true, MarkdownDescription: "The server object's name (the computer name, e.g. `PRIV-DC1`)."},
					"site":             schema.StringAttribute{Computed: true, MarkdownDescription: "The site the server object sits in."},
					"global_catalog":   schema.BoolAttribute{Computed: true, MarkdownDescription: "Bit 0x1 of the NTDS Settings `options`."},
					"read_only":        schema.BoolAttribute{Computed: true, MarkdownDescription: "An RODC (nTDSDSARO)."},
					"fsmo_roles":       schema.ListAttribute{ElementType: types.StringType, Computed: true, MarkdownDescription: "Roles it holds, in Microsoft's order."},
					"functional_level": schema.Int64Attribute{Computed: true, MarkdownDescription: "`msDS-Behavior-Version` on its nTDSDSA."},
					"invocation_id":    schema.StringAttribute{Computed: true, MarkdownDescription: "The DSA's `invocationId`: the originating DC named by replication metadata, such as a backup's."},
					"options":          schema.Int64Attribute{Computed: true, MarkdownDescription: "The whole NTDS Settings `options` value (0x1 global catalog, 0x2 inbound and 0x4 outbound replication disabled, ...)."},
					"server_dn":        schema.StringAttribute{Computed: true, MarkdownDescription: "DN of the server object."},
					"ntds_settings_dn": schema.StringAttribute{Computed: true, MarkdownDescription: "DN of the NTDS Settings object."},
					"computer_dn":      schema.StringAttribute{Computed: true, MarkdownDescription: "DN of the DC's computer account (`serverReference`)."},
				}},
			},
		},
	}
}

func (d *domainControllersDataSource) Read(ctx context.Context, _ datasource.ReadRequest, resp *datasource.ReadResponse) {
	if d.data == nil || !d.data.needDirectory(readsOverLDAP, &resp.Diagnostics) {
		return
	}
	ctx = d.data.logCtx(ctx)
	// One shared read answers the DCs, the FSMO holders and the functional levels.
	inv, err := d.data.dir.Inventory(ctx)
	dcs, roles, levels := inv.DCs, inv.Roles, inv.Levels
	if err != nil {
		report(&resp.Diagnostics, failure{"Domain Controllers Not Read", "", viaLDAP, "reading the domain controllers, FSMO roles and functional levels"}, err)
		return
	}
	m := domainControllersDataSourceModel{
		DomainName:                types.StringValue(adnames.DNSNameOfDN(roles[adnames.PDCEmulator].RoleObjectDN)),
		ForestFunctionalLevel:     types.Int64Value(int64(levels.Forest)),
		ForestFunctionalLevelName: types.StringValue(adnames.LevelName(levels.Forest)),
		DomainFunctionalLevel:     types.Int64Value(int64(levels.Domain)),
	}
	holders := map[string]attr.Value{}
	for _, role := range adnames.FSMORoles() {
		holders[role] = types.StringValue(roles[role].Host)
	}
	var diags diag.Diagnostics
	m.FSMORoleHolders, diags = types.MapValue(types.StringType, holders)
	resp.Diagnostics.Append(diags...)
	var items []attr.Value
	for _, dc := range dcs {
		heldList := stringList(roles.HeldBy(dc.Host))
		obj, diags := types.ObjectValue(dcListAttrTypes, map[string]attr.Value{
			"host":             types.StringValue(dc.Host),
			"name":             types.StringValue(dc.Name),
			"site":             types.StringValue(dc.Site),
			"global_catalog":   types.BoolValue(dc.GlobalCatalog),
			"read_only":        types.BoolValue(dc.ReadOnly),
			"fsmo_roles":       heldList,
			"functional_level": types.Int64Value(int64(dc.FunctionalLevel)),
			"invocation_id":    types.StringValue(dc.InvocationID),
			"options":          types.Int64Value(int64(dc.Options)),
			"server_dn":        types.StringValue(dc.ServerDN),
			"ntds_settings_dn": types.StringValue(dc.NTDSSettingsDN),
			"computer_dn":      types.StringValue(dc.ComputerDN),
		})
		resp.Diagnostics.Append(diags...)
		items = append(items, obj)
	}
	m.DomainControllers, diags = types.ListValue(types.ObjectType{AttrTypes: dcListAttrTypes}, items)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}
