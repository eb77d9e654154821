package provider

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework-validators/setvalidator"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/int64planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/setdefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/bastion-pam/terraform-provider-bastion/internal/sqlserver"
	"github.com/bastion-pam/terraform-provider-bastion/internal/transport"
	"github.com/bastion-pam/terraform-provider-bastion/internal/validators"
)

var (
	_ resource.Resource                = &sqlLoginResource{}
	_ resource.ResourceWithConfigure   = &sqlLoginResource{}
	_ resource.ResourceWithImportState = &sqlLoginResource{}
)

// NewSQLLoginResource is the bastion_sql_login resource.
func NewSQLLoginResource() resource.Resource { return &sqlLoginResource{} }

type sqlLoginResource struct {
	configuredResource
}

type sqlLoginResourceModel struct {
	ID          types.String   `tfsdk:"id"`
	Name        types.String   `tfsdk:"name"`
	Roles       types.Set      `tfsdk:"roles"`
	Type        types.String   `tfsdk:"type"`
	PrincipalID types.Int64    `tfsdk:"principal_id"`
	Timeouts    timeouts.Value `tfsdk:"timeouts"`
}

func (r *sqlLoginResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_sql_login"
}

func (r *sqlLoginResource) Schema(ctx context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "A Windows login of the bastion's SQL Server (the instance the provider's `sql` settings reach: the failover cluster " +
			"instance's network name) with its server roles, e.g. the MIM Service account `PRIV\\svc-mim` with `dbcreator` and `securityadmin`, " +
			"which the MIM Service installer needs to create its database.\n\n" +
			"Every call is TDS with the values as parameters (`CREATE LOGIN ... FROM WINDOWS`, `ALTER SERVER ROLE`, `DROP LOGIN`, quoted on the " +
			"server by `QUOTENAME`). A role removed out of band is drift that the next apply grants again; a login dropped out of band is created again.",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{
				Computed: true, MarkdownDescription: "The login name.",
				PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"name": schema.StringAttribute{
				Required: true,
				MarkdownDescription: "Windows account or group as `DOMAIN\\name`, e.g. `PRIV\\svc-mim`. SQL Server compares names without regard to case. " +
					"The account must exist in Active Directory before the login is created (SQL Server refuses an unknown one with error 15401): " +
					"create it first, for example with `New-ADUser`, `New-ADGroup` or `New-ADServiceAccount`. " +
					"A login cannot be renamed to another account, so changing it drops this login and creates the other (replacement). The import ID.",
				Validators:    []validator.String{validators.WindowsAccount()},
				PlanModifiers: []planmodifier.String{stringplanmodifier.RequiresReplace()},
			},
			"roles": schema.SetAttribute{
				ElementType: types.StringType, Optional: true, Computed: true,
				Default: setdefault.StaticValue(types.SetValueMust(types.StringType, []attr.Value{})),
				MarkdownDescription: "Server roles the login is a member of, e.g. `[\"dbcreator\", \"securityadmin\"]` (`public` is implicit). " +
					"The provider keeps them exactly so: a role added or removed out of band is put back by the next apply, in place.",
				Validators: []validator.Set{setvalidator.ValueStringsAre(validators.SQLServerRole())},
			},
			"type": schema.StringAttribute{
				Computed: true, MarkdownDescription: "`WINDOWS_LOGIN` or `WINDOWS_GROUP` (`sys.server_principals.type_desc`).",
				PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"principal_id": schema.Int64Attribute{
				Computed: true, MarkdownDescription: "The login's `principal_id`.",
				PlanModifiers: []planmodifier.Int64{int64planmodifier.UseStateForUnknown()},
			},
			"timeouts": timeouts.Attributes(ctx, timeouts.Opts{Create: true, Read: true, Update: true, Delete: true}),
		},
	}
}

// sqlLoginTimeout bounds each operation, retries of a failover included.
const sqlLoginTimeout = 5 * time.Minute

func (r *sqlLoginResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var plan sqlLoginResourceModel
	if !load(ctx, &resp.Diagnostics, from(req.Plan, &plan)) {
		return
	}
	ctx, cancel, ok := r.data.checkedOperation(ctx, plan.Timeouts.Create, sqlLoginTimeout, r.checkSQL, &resp.Diagnostics)
	if !ok {
		return
	}
	defer cancel()
	name := plan.Name.ValueString()
	roles, ok := plannedRoles(plan, &resp.Diagnostics)
	if !ok {
		return
	}
	if err := r.data.sql.CreateLogin(ctx, name, roles); err != nil {
		if errors.Is(err, sqlserver.ErrLoginExists) {
			alreadyExists(&resp.Diagnostics, path.Root("name"), "SQL Login Already Exists", fmt.Sprintf("%s already has a login %q", r.data.sql.Server(), name), "bastion_sql_login", name)
			return
		}
		reportAt(&resp.Diagnostics, path.Root("name"), failure{"SQL Login Not Created", r.data.sql.Server(), viaSQL, fmt.Sprintf("creating the login %q with the roles [%s]", name, strings.Join(roles, ", "))}, "", err)
		return
	}
	l, err := r.data.sql.Login(ctx, name)
	if err != nil {
		report(&resp.Diagnostics, failure{"SQL Login Not Read", r.data.sql.Server(), viaSQL, fmt.Sprintf("reading the new login %q", name)}, err)
		keepPlannedWarning(&resp.Diagnostics, "SQL Login Saved Unread", fmt.Sprintf("The login %q was created on %s, but the provider could not read it back.", name, r.data.sql.Server()))
		resp.Diagnostics.Append(keepPlanned(req.Plan, &resp.State)...)
		return
	}
	sqlLoginInto(l, &plan)
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

func (r *sqlLoginResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var state sqlLoginResourceModel
	if !load(ctx, &resp.Diagnostics, from(req.State, &state)) {
		return
	}
	ctx, cancel, ok := r.data.checkedOperation(ctx, state.Timeouts.Read, sqlLoginTimeout, r.checkSQL, &resp.Diagnostics)
	if !ok {
		return
	}
	defer cancel()
	name := state.Name.ValueString()
	if name == "" {
		name = state.ID.ValueString()
	}
	l, err := r.data.sql.CachedLogin(ctx, name)
	if errors.Is(err, transport.ErrNotFound) {
		resp.Diagnostics.AddWarning("SQL Login Not Found",
			fmt.Sprintf("%s has no login %q any more (or the provider's login may not see it). It is removed from the state; the next plan creates it again.", r.data.sql.Server(), name))
		resp.State.RemoveResource(ctx)
		return
	}
	if err != nil {
		report(&resp.Diagnostics, failure{"SQL Login Not Read", r.data.sql.Server(), viaSQL, fmt.Sprintf("refreshing the login %q (the state is kept unchanged)", name)}, err)
		return
	}
	sqlLoginInto(l, &state)
	resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
}

func (r *sqlLoginResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan sqlLoginResourceModel
	if !load(ctx, &resp.Diagnostics, from(req.Plan, &plan)) {
		return
	}
	ctx, cancel, ok := r.data.checkedOperation(ctx, plan.Timeouts.Update, sqlLoginTimeout, r.checkSQL, &resp.Diagnostics)
	if !ok {
		return
	}
	defer cancel()
	name := plan.Name.ValueString()
	roles, ok := plannedRoles(plan, &resp.Diagnostics)
	if !ok {
		return
	}
	if err := r.data.sql.SetLoginRoles(ctx, name, roles); err != nil {
		report(&resp.Diagnostics, failure{"SQL Login Roles Not Changed", r.data.sql.Server(), viaSQL, fmt.Sprintf("setting the roles of %q to [%s]", name, strings.Join(roles, ", "))}, err)
		return
	}
	l, err := r.data.sql.Login(ctx, name)
	if err != nil {
		report(&resp.Diagnostics, failure{"SQL Login Not Read", r.data.sql.Server(), viaSQL, fmt.Sprintf("reading the login %q after the update", name)}, err)
		return
	}
	sqlLoginInto(l, &plan)
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

func (r *sqlLoginResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var state sqlLoginResourceModel
	if !load(ctx, &resp.Diagnostics, from(req.State, &state)) {
		return
	}
	ctx, cancel, ok := r.data.checkedOperation(ctx, state.Timeouts.Delete, sqlLoginTimeout, r.checkSQL, &resp.Diagnostics)
	if !ok {
		return
	}
	defer cancel()
	name := state.Name.ValueString()
	if err := r.data.sql.DropLogin(ctx, name); err != nil && !errors.Is(err, transport.ErrNotFound) {
		report(&resp.Diagnostics, failure{"SQL Login Not Dropped", r.data.sql.Server(), viaSQL, fmt.Sprintf("dropping the login %q", name)}, err)
	}
}

func (r *sqlLoginResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	importByID(ctx, req, resp, validators.CheckWindowsAccount, "the login name as DOMAIN\\name, e.g. PRIV\\svc-mim", "name")
}

// checkSQL reports whether the provider has SQL Server settings.
func (r *sqlLoginResource) checkSQL(diags *diag.Diagnostics) bool {
	if r.data.sql == nil {
		diags.AddError("SQL Server Not Configured",
			"bastion_sql_login manages logins over TDS, but the provider has no sql settings. Set sql.server (or BASTION_SQL_SERVER) to the "+
				"failover cluster instance's network name, with a login that may alter logins and server roles (sysadmin or securityadmin).")
		return false
	}
	return true
}

// plannedRoles are the plan's server roles, sorted.
func plannedRoles(plan sqlLoginResourceModel, diags *diag.Diagnostics) ([]string, bool) {
	roles := stringsOf(plan.Roles, diags)
	sort.Strings(roles)
	return roles, !diags.HasError()
}

// sqlLoginInto copies a login into m, keeping the configuration's spelling
// of names SQL Server compares without regard to case.
func sqlLoginInto(l sqlserver.Login, m *sqlLoginResourceModel) {
	if !strings.EqualFold(m.Name.ValueString(), l.Name) {
		m.Name = types.StringValue(l.Name)
	}
	m.ID = types.StringValue(m.Name.ValueString())
	m.Type = types.StringValue(l.Type)
	m.PrincipalID = types.Int64Value(int64(l.PrincipalID))
	var prior []string
	if !m.Roles.IsNull() && !m.Roles.IsUnknown() {
		for _, el := range m.Roles.Elements() {
			if s, ok := el.(types.String); ok && known(s) {
				prior = append(prior, s.ValueString())
			}
		}
	}
	roles := make([]attr.Value, 0, len(l.Roles))
	for _, role := range l.Roles {
		for _, p := range prior {
			if strings.EqualFold(p, role) {
				role = p
				break
			}
		}
		roles = append(roles, types.StringValue(role))
	}
	m.Roles = types.SetValueMust(types.StringType, roles)
}
