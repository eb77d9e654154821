package provider

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/bastion-pam/terraform-provider-bastion/internal/ad"
	"github.com/bastion-pam/terraform-provider-bastion/internal/directory"
	"github.com/bastion-pam/terraform-provider-bastion/internal/transport"
	"github.com/bastion-pam/terraform-provider-bastion/internal/validators"
)

var (
	_ resource.Resource                = &adOptionalFeatureResource{}
	_ resource.ResourceWithConfigure   = &adOptionalFeatureResource{}
	_ resource.ResourceWithImportState = &adOptionalFeatureResource{}
	_ resource.ResourceWithModifyPlan  = &adOptionalFeatureResource{}
)

// NewADOptionalFeatureResource is the bastion_ad_optional_feature resource.
func NewADOptionalFeatureResource() resource.Resource { return &adOptionalFeatureResource{} }

type adOptionalFeatureResource struct {
	configuredResource
}

type adOptionalFeatureResourceModel struct {
	ID                    types.String   `tfsdk:"id"`
	Name                  types.String   `tfsdk:"name"`
	GUID                  types.String   `tfsdk:"guid"`
	RequiredForestLevel   types.Int64    `tfsdk:"required_forest_level"`
	ForestFunctionalLevel types.Int64    `tfsdk:"forest_functional_level"`
	EnabledBy             types.String   `tfsdk:"enabled_by"`
	Timeouts              timeouts.Value `tfsdk:"timeouts"`
}

func (r *adOptionalFeatureResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_ad_optional_feature"
}

func (r *adOptionalFeatureResource) Schema(ctx context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	stable := []planmodifier.String{stringplanmodifier.UseStateForUnknown()}
	resp.Schema = schema.Schema{
		MarkdownDescription: "A forest-wide Active Directory optional feature, enabled in the PRIV forest: the **Recycle Bin Feature** " +
			"(\"Back up and restore Active Directory\" points to the Active Directory Recycle Bin for restoring deleted objects) or the " +
			"**Privileged Access Management Feature** (needed by MIM PAM's time-limited group memberships; MIM PAM deployment step 2).\n\n" +
			"Create checks the forest functional level against the feature's `msDS-RequiredForestBehaviorVersion` (at plan time too), then " +
			"performs the rootDSE `enableOptionalFeature` modify ([MS-ADTS] 3.1.1.3.3.28) on the domain naming master, the only DC that accepts it, " +
			"and reads the result back there. Read lists the feature in `msDS-EnabledFeature` on `CN=Partitions`; a feature found disabled " +
			"(a forest restored from a backup taken before it was enabled) leaves the state, so the next plan enables it again.\n\n" +
			"**An optional feature cannot be disabled** ([MS-ADTS] 3.1.1.9; Microsoft: \"once the Recycle Bin is enabled, it cannot be disabled\"). " +
			"Destroy only removes the resource from the state and says so in a warning: the feature stays on in the forest.",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{
				Computed: true, MarkdownDescription: "The feature's name, as `name`.",
				PlanModifiers: stable,
			},
			"name": schema.StringAttribute{
				Required: true,
				MarkdownDescription: "The optional feature, as Microsoft names it: `Recycle Bin Feature` (needs forest functional level 4, Windows Server 2008 R2) " +
					"or `Privileged Access Management Feature` (needs level 7, Windows Server 2016). Changing it manages another feature (replacement); " +
					"the old one stays enabled.",
				Validators:    []validator.String{validators.OneOf(ad.OptionalFeatureNames()...)},
				PlanModifiers: []planmodifier.String{stringplanmodifier.RequiresReplace()},
			},
			"guid": schema.StringAttribute{
				Computed: true, MarkdownDescription: "`msDS-OptionalFeatureGUID` of the feature object (the value `enableOptionalFeature` names).",
				PlanModifiers: stable,
			},
			"required_forest_level": schema.Int64Attribute{
				Computed: true, MarkdownDescription: "`msDS-RequiredForestBehaviorVersion` of the feature: the forest functional level it needs.",
			},
			"forest_functional_level": schema.Int64Attribute{
				Computed: true, MarkdownDescription: "The forest functional level read with the feature (`msDS-Behavior-Version` on `CN=Partitions`; 7 = Windows Server 2016).",
			},
			"enabled_by": schema.StringAttribute{
				Computed: true,
				MarkdownDescription: "The domain naming master the feature was enabled on (FQDN), or the holder of that role when the feature was already enabled and only adopted. " +
					"Kept from create on; informational.",
				PlanModifiers: stable,
			},
			"timeouts": timeouts.Attributes(ctx, timeouts.Opts{Create: true, Read: true}),
		},
	}
}

const (
	featureCreateTimeout = 10 * time.Minute
	featureReadTimeout   = 5 * time.Minute
)

func (r *adOptionalFeatureResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var plan adOptionalFeatureResourceModel
	if !load(ctx, &resp.Diagnostics, from(req.Plan, &plan)) {
		return
	}
	ctx, cancel, ok := r.data.operation(ctx, plan.Timeouts.Create, featureCreateTimeout, &resp.Diagnostics)
	if !ok {
		return
	}
	defer cancel()
	if !r.data.needDirectory(readsOverLDAP, &resp.Diagnostics) {
		return
	}
	name := plan.Name.ValueString()
	st, err := r.data.dir.EnableOptionalFeature(ctx, name)
	if err != nil {
		reportFeature(&resp.Diagnostics, failure{"Optional Feature Not Enabled", st.NamingMaster, viaLDAP, fmt.Sprintf("enabling the optional feature %q on the domain naming master", name)}, st, err)
		return
	}
	featureToModel(st, &plan)
	plan.EnabledBy = types.StringValue(st.NamingMaster)
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

func (r *adOptionalFeatureResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var state adOptionalFeatureResourceModel
	if !load(ctx, &resp.Diagnostics, from(req.State, &state)) {
		return
	}
	ctx, cancel, ok := r.data.operation(ctx, state.Timeouts.Read, featureReadTimeout, &resp.Diagnostics)
	if !ok {
		return
	}
	defer cancel()
	if !r.data.needDirectory(readsOverLDAP, &resp.Diagnostics) {
		return
	}
	if state.Name.IsNull() || state.Name.ValueString() == "" {
		state.Name = state.ID
	}
	st, err := r.data.dir.OptionalFeature(ctx, state.Name.ValueString())
	if errors.Is(err, transport.ErrNotFound) || err == nil && !st.Enabled {
		// Not enabled (or no such feature object): a forest recovered from a
		// backup older than the feature. The plan enables it again.
		resp.State.RemoveResource(ctx)
		return
	}
	if err != nil {
		report(&resp.Diagnostics, failure{"Optional Feature Not Read", "", viaLDAP, fmt.Sprintf("reading the optional feature %q (the state is kept unchanged)", state.Name.ValueString())}, err)
		return
	}
	featureToModel(st, &state)
	if state.EnabledBy.IsNull() || state.EnabledBy.ValueString() == "" {
		state.EnabledBy = types.StringValue(st.NamingMaster)
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
}

// Update is never called with a change: name forces replacement and the
// rest is computed. It keeps the state as planned.
func (r *adOptionalFeatureResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan adOptionalFeatureResourceModel
	if !load(ctx, &resp.Diagnostics, from(req.Plan, &plan)) {
		return
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

// Delete removes the resource from the state only: AD cannot disable an
// optional feature ([MS-ADTS] 3.1.1.9).
func (r *adOptionalFeatureResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var state adOptionalFeatureResourceModel
	if !load(ctx, &resp.Diagnostics, from(req.State, &state)) {
		return
	}
	resp.Diagnostics.AddWarning("Optional Feature Stays Enabled",
		fmt.Sprintf("%q was removed from the Terraform state only: Active Directory cannot disable an optional feature once it is enabled "+
			"([MS-ADTS] 3.1.1.9), so it stays enabled in the forest.", state.Name.ValueString()))
}

func (r *adOptionalFeatureResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	known := false
	for _, n := range ad.OptionalFeatureNames() {
		if n == req.ID {
			known = true
		}
	}
	if !known {
		resp.Diagnostics.AddError("Invalid Import ID", fmt.Sprintf("The import ID is the feature's name, one of %q; got %q.", ad.OptionalFeatureNames(), req.ID))
		return
	}
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("id"), req.ID)...)
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("name"), req.ID)...)
}

// ModifyPlan asks the forest, when the feature is to be enabled, whether its
// functional level allows it, so a forest below the level fails the plan
// instead of the apply.
func (r *adOptionalFeatureResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	if req.Plan.Raw.IsNull() || !req.State.Raw.IsNull() || r.data == nil || r.data.dir == nil {
		return
	}
	var plan adOptionalFeatureResourceModel
	if !load(ctx, &resp.Diagnostics, from(req.Plan, &plan)) || plan.Name.IsUnknown() || plan.Name.IsNull() {
		return
	}
	ctx, cancel := context.WithTimeout(r.data.logCtx(ctx), featureReadTimeout)
	defer cancel()
	name := plan.Name.ValueString()
	st, err := r.data.dir.OptionalFeature(ctx, name)
	if err != nil {
		reportFeature(&resp.Diagnostics, failure{"Optional Feature Not Available", st.NamingMaster, viaLDAP, fmt.Sprintf("reading the optional feature %q", name)}, st, err)
		return
	}
	if err := ad.FeatureBlocked(st); err != nil {
		resp.Diagnostics.AddAttributeError(path.Root("name"), "Forest Functional Level Too Low", err.Error())
	}
}

// reportFeature reports a failed read or enable of an optional feature on
// the name attribute, with what to do for the directory's refusals.
func reportFeature(diags *diag.Diagnostics, f failure, st directory.OptionalFeatureState, err error) {
	hint := ""
	switch {
	case errors.Is(err, directory.ErrFunctionalLevel):
		if blocked := ad.FeatureBlocked(st); blocked != nil {
			hint = blocked.Error()
		}
	case errors.Is(err, transport.ErrNotFound):
		hint = "The forest has no optional feature of that name (no msDS-OptionalFeature object under CN=Optional Features), " +
			"or its domain naming master is unknown. The Privileged Access Management feature exists from Windows Server 2016 on."
	case errors.Is(err, directory.ErrAccessDenied):
		hint = "The LDAP account may not enable it: it needs the Manage-Optional-Features control access right on CN=Partitions (Enterprise Admins have it)."
	}
	reportAt(diags, path.Root("name"), f, hint, err)
}

func featureToModel(st directory.OptionalFeatureState, m *adOptionalFeatureResourceModel) {
	m.ID = types.StringValue(st.Name)
	m.Name = types.StringValue(st.Name)
	m.GUID = types.StringValue(st.GUID)
	m.RequiredForestLevel = types.Int64Value(int64(st.RequiredForestLevel))
	m.ForestFunctionalLevel = types.Int64Value(int64(st.ForestLevel))
}
