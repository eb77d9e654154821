package provider

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/booldefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/bastion-pam/terraform-provider-bastion/internal/ad"
	"github.com/bastion-pam/terraform-provider-bastion/internal/adnames"
	"github.com/bastion-pam/terraform-provider-bastion/internal/directory"
	"github.com/bastion-pam/terraform-provider-bastion/internal/validators"
)

var (
	_ resource.Resource                = &fsmoRolesResource{}
	_ resource.ResourceWithConfigure   = &fsmoRolesResource{}
	_ resource.ResourceWithImportState = &fsmoRolesResource{}
	_ resource.ResourceWithModifyPlan  = &fsmoRolesResource{}
)

// NewFSMORolesResource is the bastion_fsmo_roles resource.
func NewFSMORolesResource() resource.Resource { return &fsmoRolesResource{} }

type fsmoRolesResource struct {
	configuredResource
}

type fsmoRolesResourceModel struct {
	ID                   types.String          `tfsdk:"id"`
	DomainName           caseInsensitiveString `tfsdk:"domain_name"`
	SchemaMaster         caseInsensitiveString `tfsdk:"schema_master"`
	DomainNamingMaster   caseInsensitiveString `tfsdk:"domain_naming_master"`
	PDCEmulator          caseInsensitiveString `tfsdk:"pdc_emulator"`
	RIDMaster            caseInsensitiveString `tfsdk:"rid_master"`
	InfrastructureMaster caseInsensitiveString `tfsdk:"infrastructure_master"`
	AllowSeize           types.Bool            `tfsdk:"allow_seize"`
	HolderOnDestroy      caseInsensitiveString `tfsdk:"holder_on_destroy"`
	Timeouts             timeouts.Value        `tfsdk:"timeouts"`
}

// fsmoAttributes maps each role to its attribute, in Microsoft's order.
var fsmoAttributes = []struct{ role, attr, doc string }{
	{adnames.SchemaMaster, "schema_master", "the schema master (forest-wide: the only DC that writes the schema; `fSMORoleOwner` on `CN=Schema,CN=Configuration`)"},
	{adnames.DomainNamingMaster, "domain_naming_master", "the domain naming master (forest-wide: adds and removes domains and application partitions; `fSMORoleOwner` on `CN=Partitions,CN=Configuration`)"},
	{adnames.PDCEmulator, "pdc_emulator", "the PDC emulator (the domain's time source, password changes and Group Policy edits; `fSMORoleOwner` on the domain head)"},
	{adnames.RIDMaster, "rid_master", "the RID master (hands out RID pools, so every new account's SID is unique; `fSMORoleOwner` on `CN=RID Manager$,CN=System`)"},
	{adnames.InfrastructureMaster, "infrastructure_master", "the infrastructure master (updates cross-domain references; `fSMORoleOwner` on `CN=Infrastructure`)"},
}

func (m *fsmoRolesResourceModel) holder(role string) *caseInsensitiveString {
	switch role {
	case adnames.SchemaMaster:
		return &m.SchemaMaster
	case adnames.DomainNamingMaster:
		return &m.DomainNamingMaster
	case adnames.PDCEmulator:
		return &m.PDCEmulator
	case adnames.RIDMaster:
		return &m.RIDMaster
	case adnames.InfrastructureMaster:
		return &m.InfrastructureMaster
	}
	panic("fsmo: unknown role " + role)
}

func (r *fsmoRolesResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_fsmo_roles"
}

func (r *fsmoRolesResource) Schema(ctx context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	attrs := map[string]schema.Attribute{
		"id": schema.StringAttribute{
			Computed: true, MarkdownDescription: "The domain's DNS name.",
			PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
		},
		"domain_name": schema.StringAttribute{
			CustomType: caseInsensitiveStringType{},
			Required:   true,
			MarkdownDescription: "DNS name of the domain whose roles these are: the provider's ldap domain (the bastion domain is its forest's root, so the forest-wide roles are here too). " +
				"One `bastion_fsmo_roles` per domain.",
			Validators:    []validator.String{validators.DNSDomainName()},
			PlanModifiers: []planmodifier.String{dcReplaceUnlessSameText("another domain has its own roles")},
		},
		"allow_seize": schema.BoolAttribute{
			Optional: true, Computed: true, Default: booldefault.StaticBool(false),
			MarkdownDescription: "Seize a role when its current holder does not answer, instead of failing. Defaults to `false`. A transfer needs the holder online; " +
				"a seizure writes the new holder into `fSMORoleOwner` without it (what `Move-ADDirectoryServerOperationMasterRole -Force` does). " +
				"**The old holder must then never return to the network as a DC**: it would still believe it holds the role, and two DCs acting as the same operations master " +
				"corrupt the directory (duplicate RID pools and so duplicate SIDs, conflicting schema or partition changes). Rebuild it instead. Use only for a holder lost for good.",
		},
		"holder_on_destroy": schema.StringAttribute{
			CustomType: caseInsensitiveStringType{},
			Optional:   true,
			MarkdownDescription: "FQDN of a writable DC that stays, typically the forest's first DC, to return every role to when this resource is destroyed (a transfer per role " +
				"not already there, like the role attributes). Set it when Terraform builds replica DCs and places roles on them: `terraform destroy` then destroys this resource " +
				"first (it refers to those DCs), the roles go back, and the demotions that follow are allowed; the plan-time guard of `bastion_domain_controller` counts on it. " +
				"Unset: destroy leaves the roles where they are, and a DC that holds one is refused.",
			Validators: []validator.String{validators.FQDN()},
		},
		"timeouts": timeouts.Attributes(ctx, timeouts.Opts{Create: true, Read: true, Update: true, Delete: true}),
	}
	for _, a := range fsmoAttributes {
		attrs[a.attr] = schema.StringAttribute{
			CustomType: caseInsensitiveStringType{},
			Optional:   true, Computed: true,
			MarkdownDescription: "FQDN of the DC that holds " + a.doc + ". Leave it unset to just read the holder; set it to move the role there " +
				"(an LDAP `become*` operation on the new holder's rootDSE, which pulls the role from the current one). A role moved out of band shows in the plan and is moved back.",
			Validators:    []validator.String{validators.FQDN()},
			PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
		}
	}
	resp.Schema = schema.Schema{
		MarkdownDescription: "Where the five FSMO (operations master) roles of the bastion domain live. One per domain (id: the domain's DNS name). " +
			"*Back up and restore Active Directory*: back up every DC that holds a role (see `bastion_backup_status`); before demoting a holder, move its roles here.\n\n" +
			"Read uses LDAP only (the five `fSMORoleOwner` values, on the pinned DC). Create adopts the domain's roles and moves the configured ones; " +
			"Update moves each role whose holder changed, one transfer at a time, each on the new holder. " +
			"Delete returns every role to `holder_on_destroy` when it is set (for a teardown: see the decommission guide); otherwise it only removes the resource from the state, " +
			"and the roles stay where they are.",
		Attributes: attrs,
	}
}

const (
	fsmoCreateTimeout = 20 * time.Minute
	fsmoReadTimeout   = 5 * time.Minute
	fsmoUpdateTimeout = 20 * time.Minute
)

func (r *fsmoRolesResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var plan fsmoRolesResourceModel
	if !load(ctx, &resp.Diagnostics, from(req.Plan, &plan)) {
		return
	}
	ctx, cancel, ok := r.data.operation(ctx, plan.Timeouts.Create, fsmoCreateTimeout, &resp.Diagnostics)
	if !ok {
		return
	}
	defer cancel()
	r.apply(ctx, &plan, &resp.State, &resp.Diagnostics)
}

func (r *fsmoRolesResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var state fsmoRolesResourceModel
	if !load(ctx, &resp.Diagnostics, from(req.State, &state)) {
		return
	}
	ctx, cancel, ok := r.data.operation(ctx, state.Timeouts.Read, fsmoReadTimeout, &resp.Diagnostics)
	if !ok {
		return
	}
	defer cancel()
	if state.DomainName.IsNull() || state.DomainName.ValueString() == "" {
		state.DomainName = newCaseInsensitiveString(state.ID.ValueString())
	}
	if !r.data.needDirectory(readsOverLDAP, &resp.Diagnostics) {
		return
	}
	roles, err := r.read(ctx, state.DomainName.ValueString())
	if errors.Is(err, errDomainNotReached) && state.PDCEmulator.IsNull() {
		// An import of a domain the directory does not hold: nothing to import.
		warnAt(&resp.Diagnostics, path.Empty(), failure{"Domain Not Found", "", viaLDAP, "reading the FSMO role holders of " + state.DomainName.ValueString() + " to import them"},
			"Nothing was imported.", err)
		resp.State.RemoveResource(ctx)
		return
	}
	if err != nil {
		report(&resp.Diagnostics, failure{"FSMO Roles Not Read", "", viaLDAP, "reading the FSMO role holders (the state is kept unchanged)"}, err)
		return
	}
	fsmoFromDirectory(roles, &state, &resp.Diagnostics)
	if state.AllowSeize.IsNull() {
		state.AllowSeize = types.BoolValue(false)
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
}

func (r *fsmoRolesResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan fsmoRolesResourceModel
	if !load(ctx, &resp.Diagnostics, from(req.Plan, &plan)) {
		return
	}
	ctx, cancel, ok := r.data.operation(ctx, plan.Timeouts.Update, fsmoUpdateTimeout, &resp.Diagnostics)
	if !ok {
		return
	}
	defer cancel()
	r.apply(ctx, &plan, &resp.State, &resp.Diagnostics)
}

const fsmoDeleteTimeout = 20 * time.Minute

// Delete returns every role to holder_on_destroy when set; otherwise it
// removes the resource from the state only (the roles always live on some DC).
func (r *fsmoRolesResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var state fsmoRolesResourceModel
	if !load(ctx, &resp.Diagnostics, from(req.State, &state)) || !known(state.HolderOnDestroy.StringValue) {
		return
	}
	ctx, cancel, ok := r.data.operation(ctx, state.Timeouts.Delete, fsmoDeleteTimeout, &resp.Diagnostics)
	if !ok {
		return
	}
	defer cancel()
	if !r.data.needDirectory(readsOverLDAP, &resp.Diagnostics) {
		return
	}
	current, err := r.read(ctx, state.DomainName.ValueString())
	if err != nil {
		report(&resp.Diagnostics, failure{"FSMO Roles Not Returned", "", viaLDAP, "reading the FSMO role holders (no role was moved to " + state.HolderOnDestroy.ValueString() + ")"}, err)
		return
	}
	want := map[string]string{}
	for _, a := range fsmoAttributes {
		want[a.role] = state.HolderOnDestroy.ValueString()
	}
	fsmoMove(ctx, r.data.dir, current, want, false, &resp.Diagnostics)
}

func (r *fsmoRolesResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	if err := validators.CheckDNSDomainName(req.ID); err != nil {
		resp.Diagnostics.AddError("Invalid Import ID", fmt.Sprintf("The import ID is the domain's DNS name, e.g. priv.contoso.com: %s.", err))
		return
	}
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("id"), fsmoID(req.ID))...)
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("domain_name"), newCaseInsensitiveString(fsmoID(req.ID)))...)
}

// ModifyPlan checks, when a role is to move, that its new holder is a
// writable DC of the forest (1 LDAP search).
func (r *fsmoRolesResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	if req.Plan.Raw.IsNull() && !req.State.Raw.IsNull() && r.data != nil && r.data.dir != nil {
		r.planReturn(ctx, req, resp)
		return
	}
	if req.Plan.Raw.IsNull() || r.data == nil || r.data.dir == nil {
		return
	}
	var plan, state fsmoRolesResourceModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if !req.State.Raw.IsNull() {
		resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	}
	if resp.Diagnostics.HasError() {
		return
	}
	var moving []int
	for i, a := range fsmoAttributes {
		want := plan.holder(a.role)
		if known(want.StringValue) && adnames.HostKey(want.ValueString()) != adnames.HostKey(state.holder(a.role).ValueString()) {
			moving = append(moving, i)
		}
	}
	if len(moving) == 0 {
		return
	}
	ctx = r.data.logCtx(ctx)
	inv, err := r.data.dir.Inventory(ctx)
	dcs := inv.DCs
	if err != nil {
		warnAt(&resp.Diagnostics, path.Empty(), failure{"FSMO Role Holders Not Checked", "", viaLDAP, "reading the domain controllers to check the new role holders"},
			"The transfers will tell.", err)
		return
	}
	for _, i := range moving {
		a := fsmoAttributes[i]
		want := plan.holder(a.role).ValueString()
		var dc *directory.DomainController
		for j := range dcs {
			if adnames.HostKey(dcs[j].Host) == adnames.HostKey(want) {
				dc = &dcs[j]
			}
		}
		switch {
		case dc == nil:
			resp.Diagnostics.AddAttributeError(path.Root(a.attr), "FSMO Role Holder Not A Domain Controller",
				fmt.Sprintf("%s is not a domain controller of the forest, so it cannot hold the %s role. Domain controllers: %s.", want, a.role, dcHostList(dcs)))
		case dc.ReadOnly:
			resp.Diagnostics.AddAttributeError(path.Root(a.attr), "FSMO Role Holder Read-Only",
				fmt.Sprintf("%s is a read-only domain controller, which cannot hold an operations master role such as %s. Choose a writable DC.", want, a.role))
		}
	}
}

func dcHostList(dcs []directory.DomainController) string {
	var hosts []string
	for _, d := range dcs {
		hosts = append(hosts, d.Host)
	}
	return strings.Join(hosts, ", ")
}

// read reads the holders and checks that they are the configured domain's.
// Cost: the plan's shared inventory (3 LDAP searches once; transfers and
// seizures through the client invalidate it).
func (r *fsmoRolesResource) read(ctx context.Context, domain string) (directory.FSMORoles, error) {
	inv, err := r.data.dir.Inventory(ctx)
	if err != nil {
		return nil, err
	}
	roles := inv.Roles
	// The PDC emulator's role object is the domain NC head: it names the domain read.
	if pdc := roles[adnames.PDCEmulator].RoleObjectDN; !strings.EqualFold(adnames.DNSNameOfDN(pdc), strings.TrimSuffix(domain, ".")) {
		return nil, fmt.Errorf("%w: the provider's ldap settings reach the domain %s (%s), not %s: configure the provider for %s", errDomainNotReached, adnames.DNSNameOfDN(pdc), pdc, domain, domain)
	}
	return roles, nil
}

// errDomainNotReached: the directory the provider reaches is another domain's.
var errDomainNotReached = errors.New("domain not reached")

// apply adopts the domain's roles and moves each configured one whose
// holder differs, then saves what the directory says (also after a failure,
// so moved roles are in the state).
func (r *fsmoRolesResource) apply(ctx context.Context, plan *fsmoRolesResourceModel, st *tfsdk.State, diags *diag.Diagnostics) {
	if !r.data.needDirectory(readsOverLDAP, diags) {
		return
	}
	domain := plan.DomainName.ValueString()
	current, err := r.read(ctx, domain)
	if err != nil {
		report(diags, failure{"FSMO Roles Not Read", "", viaLDAP, "reading the FSMO role holders (no role was moved)"}, err)
		return
	}
	want := map[string]string{}
	for _, a := range fsmoAttributes {
		if h := plan.holder(a.role); known(h.StringValue) {
			want[a.role] = h.ValueString()
		}
	}
	fsmoMove(ctx, r.data.dir, current, want, plan.AllowSeize.ValueBool(), diags)
	after, err := r.read(ctx, domain)
	if err != nil {
		report(diags, failure{"FSMO Roles Not Read", "", viaLDAP, "reading the FSMO role holders back after the move"}, err)
		return
	}
	fsmoFromDirectory(after, plan, diags)
	diags.Append(st.Set(ctx, plan)...)
}

// fsmoMove moves the roles of want (ad.MoveRoles) and reports each seizure
// and the first failure on the role's attribute.
func fsmoMove(ctx context.Context, dir ad.Directory, current directory.FSMORoles, want map[string]string, allowSeize bool, diags *diag.Diagnostics) {
	attrOf := map[string]string{}
	for _, a := range fsmoAttributes {
		attrOf[a.role] = a.attr
	}
	for _, m := range ad.MoveRoles(ctx, dir, current, want, allowSeize) {
		at := path.Root(attrOf[m.Role])
		switch {
		case m.Seized:
			diags.AddAttributeWarning(at, "FSMO Role Seized",
				fmt.Sprintf("The %s role was seized by %s because its holder %s did not answer. %s must never return to the network as a domain controller: "+
					"it still believes it holds %s, and two DCs acting as the same operations master corrupt the directory (for the RID master, duplicate RID pools and so "+
					"duplicate SIDs; for the schema or domain naming master, conflicting schema or partition changes). Clean up its metadata (ntdsutil metadata cleanup) "+
					"and rebuild the server before it is reconnected.", m.Role, m.Target, m.Holder, m.Holder, m.Role))
		case errors.Is(m.Err, directory.ErrRoleOwnerUnavailable) && !allowSeize:
			reportAt(diags, at, failure{"FSMO Role Not Transferred", m.Target, viaLDAP, fmt.Sprintf("transferring the %s role from %s", m.Role, m.Holder)},
				fmt.Sprintf("The %s role could not be transferred to %s because its current holder %s did not answer: a transfer needs the holder online. "+
					"If %s is back soon, apply again then. If it is lost for good, set allow_seize = true to seize the role on %s; %s must then never return to the network "+
					"as a domain controller (two DCs that both believe they hold %s corrupt the directory).",
					m.Role, m.Target, m.Holder, m.Holder, m.Target, m.Holder, m.Role), m.Err)
		case m.Err != nil:
			reportAt(diags, at, failure{"FSMO Role Not Transferred", m.Target, viaLDAP, fmt.Sprintf("moving the %s role from %s", m.Role, m.Holder)}, "", m.Err)
		}
	}
}

// fsmoFromDirectory copies the holders into m; a role whose holder is no
// longer a DC is null, with a warning. Names are in lower case, however the DC's
// dNSHostName spells them (DNS names compare without case, RFC 4343): an import
// then plans empty against a configuration in lower case, as generated ones are.
// A configuration spelled otherwise keeps its spelling through semantic equality.
func fsmoFromDirectory(roles directory.FSMORoles, m *fsmoRolesResourceModel, diags *diag.Diagnostics) {
	m.ID = types.StringValue(fsmoID(m.DomainName.ValueString()))
	for _, a := range fsmoAttributes {
		h := roles[a.role]
		if h.Host == "" {
			*m.holder(a.role) = caseInsensitiveString{StringValue: types.StringNull()}
			diags.AddAttributeWarning(path.Root(a.attr), "FSMO Role Held By A Deleted DC",
				fmt.Sprintf("fSMORoleOwner of the %s role names %s, which is not a domain controller any more. The role is held by nobody that answers: "+
					"set %s to a working DC with allow_seize = true to seize it.", a.role, h.NTDSSettingsDN, a.attr))
			continue
		}
		*m.holder(a.role) = newCaseInsensitiveString(strings.ToLower(h.Host))
	}
}

// fsmoID is the resource's ID for a domain, the same after create and import.
func fsmoID(domain string) string { return strings.ToLower(strings.TrimSuffix(domain, ".")) }

// planReturn checks, when the resource is destroyed with holder_on_destroy,
// that the DC is a writable DC of the forest, and records for the
// bastion_domain_controller guard (planned after this resource in a destroy)
// which DCs give their roles back first.
func (r *fsmoRolesResource) planReturn(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	var state fsmoRolesResourceModel
	if !load(ctx, &resp.Diagnostics, from(req.State, &state)) || !known(state.HolderOnDestroy.StringValue) {
		return
	}
	target := state.HolderOnDestroy.ValueString()
	ctx = r.data.logCtx(ctx)
	inv, err := r.data.dir.Inventory(ctx)
	if err != nil {
		warnAt(&resp.Diagnostics, path.Empty(), failure{"FSMO Role Return Not Checked", "", viaLDAP, "reading the domain controllers to check holder_on_destroy (" + target + ")"},
			"The transfers will tell.", err)
		return
	}
	var dc *directory.DomainController
	for i := range inv.DCs {
		if adnames.SameHost(inv.DCs[i].Host, target) {
			dc = &inv.DCs[i]
		}
	}
	switch {
	case dc == nil:
		resp.Diagnostics.AddAttributeError(path.Root("holder_on_destroy"), "FSMO Role Holder Not A Domain Controller",
			fmt.Sprintf("holder_on_destroy names %s, which is not a domain controller of the forest, so destroying bastion_fsmo_roles cannot return the roles there. Domain controllers: %s.", target, dcHostList(inv.DCs)))
		return
	case dc.ReadOnly:
		resp.Diagnostics.AddAttributeError(path.Root("holder_on_destroy"), "FSMO Role Holder Read-Only",
			fmt.Sprintf("holder_on_destroy names %s, a read-only domain controller, which cannot hold an operations master role. Choose a writable DC that stays.", target))
		return
	}
	for _, a := range fsmoAttributes {
		if h := inv.Roles[a.role].Host; h != "" && !adnames.SameHost(h, target) {
			r.data.planned.add("fsmo_roles_return", adnames.HostKey(h))
		}
	}
}
