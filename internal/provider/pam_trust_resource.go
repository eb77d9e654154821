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
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/boolplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/int64planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/bastion-pam/terraform-provider-bastion/internal/pam"
	"github.com/bastion-pam/terraform-provider-bastion/internal/transport"
	"github.com/bastion-pam/terraform-provider-bastion/internal/validators"
)

var (
	_ resource.Resource                     = &pamTrustResource{}
	_ resource.ResourceWithConfigure        = &pamTrustResource{}
	_ resource.ResourceWithImportState      = &pamTrustResource{}
	_ resource.ResourceWithConfigValidators = &pamTrustResource{}
	_ resource.ResourceWithModifyPlan       = &pamTrustResource{}
)

// NewPAMTrustResource is the bastion_pam_trust resource.
func NewPAMTrustResource() resource.Resource { return &pamTrustResource{} }

type pamTrustResource struct {
	configuredResource
}

type pamTrustResourceModel struct {
	ID                    types.String          `tfsdk:"id"`
	Host                  types.String          `tfsdk:"host"`
	SourceForest          caseInsensitiveString `tfsdk:"source_forest"`
	Bidirectional         types.Bool            `tfsdk:"bidirectional"`
	AllowTrustRecreation  types.Bool            `tfsdk:"allow_trust_recreation"`
	CorpUsername          types.String          `tfsdk:"corp_username"`
	CorpPasswordWO        types.String          `tfsdk:"corp_password_wo"`
	CorpPasswordWOVersion types.Int64           `tfsdk:"corp_password_wo_version"`
	SIDHistory            types.Bool            `tfsdk:"sid_history"`
	Quarantine            types.Bool            `tfsdk:"quarantine"`
	PIMTrust              types.Bool            `tfsdk:"pim_trust"`
	VerifyOnPlan          types.Bool            `tfsdk:"verify_on_plan"`
	Verified              types.Bool            `tfsdk:"verified"`
	TrustDirection        types.Int64           `tfsdk:"trust_direction"`
	TrustType             types.Int64           `tfsdk:"trust_type"`
	TrustAttributes       types.Int64           `tfsdk:"trust_attributes"`
	ForestTransitive      types.Bool            `tfsdk:"forest_transitive"`
	FlatName              types.String          `tfsdk:"flat_name"`
	PartnerSID            types.String          `tfsdk:"partner_sid"`
	CorpTrustDirection    types.Int64           `tfsdk:"corp_trust_direction"`
	CorpTrustAttributes   types.Int64           `tfsdk:"corp_trust_attributes"`
	SIDHistoryEnabled     types.Bool            `tfsdk:"sid_history_enabled"`
	Quarantined           types.Bool            `tfsdk:"quarantined"`
	PIMTrustEnabled       types.Bool            `tfsdk:"pim_trust_enabled"`
	Timeouts              timeouts.Value        `tfsdk:"timeouts"`
}

func (r *pamTrustResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_pam_trust"
}

// pamCorpPasswordEnv names where a destroy finds the CORP password (the
// provider's pam_corp_password, or this environment variable): Terraform gives
// a delete no configuration, so a write-only attribute cannot reach it.
const pamCorpPasswordEnv = "pam_corp_password (or BASTION_PAM_CORP_PASSWORD)"

const pamCorpSideDoc = " Read from the source forest's `trustedDomain` object for the PRIV forest (the trusting, outbound side, which holds these bits) " +
	"over LDAP from the source forest's domain controllers with the CORP credential: at every plan of an existing trust, at every refresh when the provider has " +
	"`pam_corp_password`, and by the settings script after create and update (as CORP's PDC holds them then). `null` after an import without `pam_corp_password` until the first apply."

func (r *pamTrustResource) Schema(ctx context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "The PAM trust between the bastion (PRIV) forest and an existing (CORP) forest: the source forest trusts PRIV, so PRIV's shadow " +
			"principals can act in CORP (MIMDocs, \"Step 5 - Establish trust between PRIV and CORP forests\").\n\n" +
			"Create runs `New-PAMTrust -SourceForest -Credentials [-Bidirectional]` on `host`, then sets what the netdom step of \"Deploy MIM PAM with Windows Server 2016\" " +
			"sets (`netdom trust <CORP> /domain:<PRIV> /EnableSIDHistory:yes /Quarantine:no /EnablePIMTrust:yes`), through the same LSA calls netdom makes, on " +
			"the PDC of the source forest's root domain, with the CORP credential as data: `LsaQueryTrustedDomainInfoByName`, then one `LsaSetTrustedDomainInfoByName` " +
			"for every bit that differs. These settings live on the **CORP** side of the trust: the source forest's `trustedDomain` object for PRIV, the outbound side " +
			"where SID filtering is applied. netdom's own checks come first (MS-ADTS 6.1.6.7.9): `sid_history` is valid only on the outbound side of a forest trust, " +
			"`pim_trust` only on a forest trust.\n\n" +
			"**Reads.** A refresh reads PRIV's `trustedDomain` object for the source forest over LDAP and nothing else: no WinRM. " +
			"The CORP side's bits live in the source forest's directory, and the CORP credential is write-only, so Terraform gives it to plans and applies but never " +
			"to a refresh: every plan of an existing trust reads the CORP side over LDAP with it (a bind and a search on a short-lived connection to the source " +
			"forest's DNS name, which resolves to its domain controllers, with the provider's `ldap` transport settings: `tls_mode`, `port`, `ca_file`, " +
			"`connect_to`), and no PowerShell. Terraform must therefore reach the source forest's domain controllers over LDAPS, and `ldap.ca_file` must " +
			"trust their certificates. With `verify_on_plan`, a plan also runs `Test-PAMTrust` on `host`. A bit changed outside Terraform shows as a planned " +
			"change and apply sets it back; a trust gone from PRIV is recreated. (`terraform apply -refresh-only` runs no plan, so no CORP read; the deprecated " +
			"`terraform refresh` plans internally and does.) When the provider has `pam_corp_password` (the password destroys use), every refresh reads the CORP side " +
			"too, as `corp_username` from the state: its bits are in the state at once, and an import (ID `<host>/<source_forest>/<corp_username>`) records " +
			"`sid_history`, `quarantine` and `pim_trust` as the CORP side holds them, so the first plan after the import is empty when the configuration matches " +
			"and shows the difference when the CORP side drifted.\n\n" +
			"**No credential on a command line.** Trusted domain objects change only through LSA (MS-LSAD; MS-ADTS 6.1.6.9.7: they \"cannot be created or " +
			"modified by client machines over the LDAPv3 transport\"). Microsoft's walkthrough runs netdom with the CORP credential as `/usero` and `/passwordo`, " +
			"where local administrators of `host` and process-creation auditing (event 4688 with command lines, EDR agents) could read it. The provider starts no " +
			"program: its script on `host` makes the LSA calls itself, under a `LogonUserW` logon of type `LOGON32_LOGON_NEW_CREDENTIALS` for the CORP account " +
			"(the password is an argument of that call, as data; the logon's connections to the CORP PDC authenticate as that account), impersonated for those " +
			"calls only.\n\n" +
			"**Plan-time guard.** A plan that takes the trust down (destroy, replacement, `-replace`, a tainted trust) runs `Test-PAMDomainConfiguration` for the trust's " +
			"NetBIOS name on `host` and is refused while the PAM configuration of that domain is in place: destroy the `bastion_pam_domain_configuration` first, or both in one " +
			"`terraform destroy` (which plans the configuration first). A replacement with `allow_trust_recreation = true` is the operator's explicit choice and is not refused.\n\n" +
			"**Destroy.** Terraform gives a destroy no configuration, so the write-only CORP password cannot reach it. When the environment of the Terraform run holds `" +
			pamCorpPasswordEnv + "`, destroy runs `Remove-PAMTrust` with it and `corp_username` (both sides go). Otherwise it deletes only PRIV's side (as the WinRM account, " +
			"a PRIV administrator) and warns that CORP's side remains; a later create of the same trust clears such a half trust first.",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{
				Computed: true, MarkdownDescription: "The source forest's DNS name, lower case.",
				PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"host": schema.StringAttribute{
				Required: true,
				MarkdownDescription: "FQDN of the PRIV server the commands run on: it needs the MIMPAM module (a MIM Service node installed with the PAM components, " +
					"e.g. `bastion_mim_service_node.a.host`), and it must reach the CORP forest root domain's PDC over LSA RPC (SMB 445 or RPC 135 and dynamic ports). " +
					"The trust does not live on it: changing it only moves where later commands run.",
				Validators: []validator.String{validators.FQDN()},
			},
			"source_forest": schema.StringAttribute{
				CustomType: caseInsensitiveStringType{},
				Required:   true,
				MarkdownDescription: "DNS name of the existing (CORP) forest's root domain, e.g. `corp.contoso.com` (`New-PAMTrust -SourceForest`). " +
					"A trust belongs to its two forests: changing it builds a new trust (replacement).",
				Validators:    []validator.String{validators.DNSDomainName()},
				PlanModifiers: []planmodifier.String{stringplanmodifier.RequiresReplace()},
			},
			"bidirectional": schema.BoolAttribute{
				Optional: true, Computed: true, Default: booldefault.StaticBool(false),
				MarkdownDescription: "Whether PRIV also trusts CORP (`New-PAMTrust -Bidirectional`). Defaults to `false`: PAM needs only CORP trusting PRIV. " +
					"Read from PRIV's side (`trustDirection` 3). Windows cannot change a trust's direction in place: a change deletes and recreates the trust, " +
					"which the plan refuses unless `allow_trust_recreation` is `true`.",
				PlanModifiers: []planmodifier.Bool{pamTrustRecreation()},
			},
			"allow_trust_recreation": schema.BoolAttribute{
				Optional: true, Computed: true, Default: booldefault.StaticBool(false),
				MarkdownDescription: "Allow a change of `bidirectional` to delete and recreate the trust (as ActiveDirectoryDsc's `AllowTrustRecreation`). " +
					"Defaults to `false`. While the trust is rebuilt, nothing in CORP can be reached through the bastion and the trust secret is new.",
			},
			"corp_username": schema.StringAttribute{
				Required:            true,
				MarkdownDescription: "A domain administrator of the source forest as `DOMAIN\\name`, e.g. `CORP\\Administrator`. Sent to the host as data and used as the LDAP bind name on the source forest's domain controllers; kept in state (it is not a secret).",
				Validators:          []validator.String{validators.WindowsAccount()},
			},
			"corp_password_wo": schema.StringAttribute{
				Required: true, WriteOnly: true, Sensitive: true, Validators: []validator.String{validators.Password()},
				MarkdownDescription: "Password of `corp_username`. Write-only: sent to the host as data on stdin, never stored in state or plan, masked in logs " +
					"(and handed to `LogonUserW` as data, never a command line, see above). Used by create and update (on `host`) and by every plan (the LDAP bind on the " +
					"source forest's domain controllers); a destroy takes it from `" + pamCorpPasswordEnv + "`.",
			},
			"corp_password_wo_version": schema.Int64Attribute{
				Optional: true,
				MarkdownDescription: "Any number; change it after rotating the CORP password so that the next apply checks the new one against the source forest " +
					"(the password itself is never compared, being write-only)." + versionAfterImportDoc,
			},
			"sid_history": schema.BoolAttribute{
				Optional: true, Computed: true, Default: booldefault.StaticBool(true),
				MarkdownDescription: "What `netdom trust ... /EnableSIDHistory:yes|no` sets. Defaults to `true`, as MIMDocs requires. On a forest trust it sets " +
					"`TRUST_ATTRIBUTE_TREAT_AS_EXTERNAL` (0x40) on the CORP side: SID filtering then follows the rules of an external trust, which let SID history through " +
					"unless the trust is quarantined (MS-ADTS 6.1.6.7.9, MS-PAC 4.1.2.2). Valid only on the outbound side of a forest trust. Changed in place through LSA.",
			},
			"quarantine": schema.BoolAttribute{
				Optional: true, Computed: true, Default: booldefault.StaticBool(false),
				MarkdownDescription: "What `netdom trust ... /Quarantine:yes|no` sets: `TRUST_ATTRIBUTE_QUARANTINED_DOMAIN` (0x4) on the CORP side, which filters out every SID " +
					"but the trusted domain's own and so breaks PAM's shadow principals. Defaults to `false`, as MIMDocs requires. Changed in place through LSA.",
			},
			"pim_trust": schema.BoolAttribute{
				Optional: true, Computed: true, Default: booldefault.StaticBool(true),
				MarkdownDescription: "What `netdom trust ... /EnablePIMTrust:yes|no` sets: `TRUST_ATTRIBUTE_PIM_TRUST` (0x400) on the CORP side, which with 0x40 makes the trust " +
					"a Privileged Identity Management trust for SID filtering (time-limited shadow principal memberships). Defaults to `true`; needs `sid_history`. " +
					"Needs a forest trust. Changed in place through LSA.",
			},
			"verify_on_plan": schema.BoolAttribute{
				Optional: true, Computed: true, Default: booldefault.StaticBool(false),
				MarkdownDescription: "Also run `Test-PAMTrust -SourceForest -CorpCredentials [-Bidirectional]` on `host` at each plan of an existing trust (one script run " +
					"beside the plan's LDAP read) and after create and update, and record its answer in `verified`. Defaults to `false`. A refresh cannot run it: it needs " +
					"the write-only CORP credential.",
			},
			"verified": schema.BoolAttribute{
				Computed: true,
				MarkdownDescription: "`Test-PAMTrust`'s answer at the last plan or apply with `verify_on_plan`; `null` when it never ran. A `false` is reported as a warning " +
					"and kept: the provider does not rebuild a trust on a failed test.",
				PlanModifiers: []planmodifier.Bool{boolplanmodifier.UseStateForUnknown()},
			},
			"trust_direction": schema.Int64Attribute{
				Computed: true, MarkdownDescription: "`trustDirection` of PRIV's object for the source forest (LDAP): 1 inbound (CORP trusts PRIV), 3 both ways.",
				PlanModifiers: []planmodifier.Int64{int64planmodifier.UseStateForUnknown()},
			},
			"trust_type": schema.Int64Attribute{
				Computed: true, MarkdownDescription: "`trustType` of PRIV's object (LDAP): 2 for an Active Directory (uplevel) trust.",
				PlanModifiers: []planmodifier.Int64{int64planmodifier.UseStateForUnknown()},
			},
			"trust_attributes": schema.Int64Attribute{
				Computed: true, MarkdownDescription: "`trustAttributes` of PRIV's object (LDAP). A PAM trust has 0x8 (FOREST_TRANSITIVE) here; the bits of `sid_history`, `quarantine` and `pim_trust` are on the CORP side, in `corp_trust_attributes`.",
				PlanModifiers: []planmodifier.Int64{int64planmodifier.UseStateForUnknown()},
			},
			"forest_transitive": schema.BoolAttribute{
				Computed: true, MarkdownDescription: "Whether PRIV's object has `TRUST_ATTRIBUTE_FOREST_TRANSITIVE` (0x8): a forest trust, which the PIM trust needs.",
				PlanModifiers: []planmodifier.Bool{boolplanmodifier.UseStateForUnknown()},
			},
			"flat_name": schema.StringAttribute{
				Computed: true, MarkdownDescription: "The source forest root domain's NetBIOS name (`flatName`), the `source_domain` of `bastion_pam_domain_configuration`.",
				PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"partner_sid": schema.StringAttribute{
				Computed: true, MarkdownDescription: "The source forest root domain's SID (`securityIdentifier` of PRIV's object).",
				PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"corp_trust_direction": schema.Int64Attribute{
				Computed: true, MarkdownDescription: "`trustDirection` of the CORP side: 2 outbound (CORP trusts PRIV), 3 both ways." + pamCorpSideDoc,
				PlanModifiers: []planmodifier.Int64{int64planmodifier.UseStateForUnknown()},
			},
			"corp_trust_attributes": schema.Int64Attribute{
				Computed: true, MarkdownDescription: "`trustAttributes` of the CORP side; with the defaults 0x448 (1096): FOREST_TRANSITIVE, TREAT_AS_EXTERNAL, PIM_TRUST." + pamCorpSideDoc,
				PlanModifiers: []planmodifier.Int64{int64planmodifier.UseStateForUnknown()},
			},
			"sid_history_enabled": schema.BoolAttribute{
				Computed: true, MarkdownDescription: "Whether the CORP side has TREAT_AS_EXTERNAL (0x40), what `/EnableSIDHistory:yes` sets." + pamCorpSideDoc,
				PlanModifiers: []planmodifier.Bool{boolplanmodifier.UseStateForUnknown()},
			},
			"quarantined": schema.BoolAttribute{
				Computed: true, MarkdownDescription: "Whether the CORP side has QUARANTINED_DOMAIN (0x4)." + pamCorpSideDoc,
				PlanModifiers: []planmodifier.Bool{boolplanmodifier.UseStateForUnknown()},
			},
			"pim_trust_enabled": schema.BoolAttribute{
				Computed: true, MarkdownDescription: "Whether the CORP side has PIM_TRUST (0x400)." + pamCorpSideDoc,
				PlanModifiers: []planmodifier.Bool{boolplanmodifier.UseStateForUnknown()},
			},
			"timeouts": timeouts.Attributes(ctx, timeouts.Opts{Create: true, Read: true, Update: true, Delete: true}),
		},
	}
}

const (
	pamDefaultCreateTimeout = 20 * time.Minute
	pamDefaultReadTimeout   = 5 * time.Minute
	pamDefaultUpdateTimeout = 10 * time.Minute
	pamDefaultDeleteTimeout = 10 * time.Minute
)

func (r *pamTrustResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var plan, config pamTrustResourceModel
	if !load(ctx, &resp.Diagnostics, from(req.Plan, &plan), from(req.Config, &config)) {
		return
	}
	password := config.CorpPasswordWO.ValueString()
	ctx, cancel, ok := r.data.operation(ctx, plan.Timeouts.Create, pamDefaultCreateTimeout, &resp.Diagnostics, password)
	if !ok {
		return
	}
	defer cancel()
	host, forest := plan.Host.ValueString(), plan.SourceForest.ValueString()
	if r.data.refuseLost(path.Root("host"), host, "The trust cannot be created from it: choose another PRIV server with the MIMPAM module.", &resp.Diagnostics) {
		return
	}
	if !r.data.needDirectory(pamTrustOverLDAP, &resp.Diagnostics) {
		return
	}

	repaired, err := pam.CreateTrust(ctx, r.data.winrm, host, pamTrust(&plan, password))
	if err != nil {
		report(&resp.Diagnostics, failure{"PAM Trust Not Created", host, viaWinRM, "creating the trust with " + forest + " (New-PAMTrust)"}, err)
		return
	}
	if repaired {
		resp.Diagnostics.AddWarning("Half PAM Trust Replaced",
			fmt.Sprintf("Only one side of a trust with %s was left (a destroy without the CORP password, or a removal outside Terraform). It was removed with Remove-PAMTrust before New-PAMTrust built the trust again.", forest))
	}
	reply, err := r.settings(ctx, host, &plan, password, true, plan.VerifyOnPlan.ValueBool())
	if err != nil {
		report(&resp.Diagnostics, failure{"PAM Trust Settings Not Applied", host, viaWinRM,
			"setting SID history, quarantine and the PIM trust through LSA on the CORP PDC after New-PAMTrust (the trust exists; the resource is saved as tainted, so the next apply replaces it)"}, err)
		r.saveAfterFailure(ctx, &plan, resp)
		return
	}
	pamFromSettings(reply, &plan)
	pamCheckVerified(reply, &plan, &resp.Diagnostics)
	if !r.readPRIVSide(ctx, &plan, &resp.Diagnostics) {
		if !resp.Diagnostics.HasError() {
			resp.Diagnostics.AddError("PAM Trust Not Found After Create",
				fmt.Sprintf("New-PAMTrust reported success on %s, but the PRIV directory has no trustedDomain object for %s. Check replication to the DC the provider reads from (ldap.pinned_dc).", host, forest))
		}
		return
	}
	resp.Diagnostics.Append(recordObject(ctx, resp.Private, pamTrustObjectOf(&plan))...)
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

// saveAfterFailure records a trust New-PAMTrust built but the settings step did not
// finish, so the state says so (Terraform marks it tainted).
func (r *pamTrustResource) saveAfterFailure(ctx context.Context, plan *pamTrustResourceModel, resp *resource.CreateResponse) {
	var diags diag.Diagnostics
	if !r.readPRIVSide(ctx, plan, &diags) {
		return
	}
	pamNullUnknowns(plan)
	resp.Diagnostics.Append(resp.State.Set(ctx, plan)...)
}

func (r *pamTrustResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var state pamTrustResourceModel
	if !load(ctx, &resp.Diagnostics, from(req.State, &state)) {
		return
	}
	ctx, cancel, ok := r.data.operation(ctx, state.Timeouts.Read, pamDefaultReadTimeout, &resp.Diagnostics)
	if !ok {
		return
	}
	defer cancel()
	if !r.data.needDirectory(pamTrustOverLDAP, &resp.Diagnostics) {
		return
	}
	forest := state.SourceForest.ValueString()
	t, err := r.data.dir.Trust(ctx, forest)
	if errors.Is(err, transport.ErrNotFound) {
		resp.Diagnostics.AddWarning("PAM Trust Not Found",
			fmt.Sprintf("The PRIV domain has no trustedDomain object for %s any more: the trust was removed outside Terraform. It is removed from the state; the next plan creates it again.", forest))
		resp.State.RemoveResource(ctx)
		return
	}
	if err != nil {
		report(&resp.Diagnostics, failure{summary: "PAM Trust Not Read", protocol: viaLDAP, doing: "reading PRIV's trustedDomain object for " + forest + " (the state is kept unchanged)"}, err)
		return
	}
	pamFromPRIVSide(t, &state)
	r.refreshCorpSide(ctx, &state, &resp.Diagnostics)
	if state.AllowTrustRecreation.IsNull() {
		state.AllowTrustRecreation = types.BoolValue(false)
	}
	if state.VerifyOnPlan.IsNull() {
		state.VerifyOnPlan = types.BoolValue(false)
	}
	resp.Diagnostics.Append(recordObject(ctx, resp.Private, pamTrustObjectOf(&state))...)
	resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
}

func (r *pamTrustResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan, state, config pamTrustResourceModel
	if !load(ctx, &resp.Diagnostics, from(req.Plan, &plan), from(req.State, &state), from(req.Config, &config)) {
		return
	}
	password := config.CorpPasswordWO.ValueString()
	ctx, cancel, ok := r.data.operation(ctx, plan.Timeouts.Update, pamDefaultUpdateTimeout, &resp.Diagnostics, password)
	if !ok {
		return
	}
	defer cancel()
	host := plan.Host.ValueString()

	// The plan left the CORP side unknown when the settings step has something to change
	// (a setting changed in the configuration, or a bit changed outside Terraform).
	apply := plan.CorpTrustAttributes.IsUnknown()
	check := !plan.CorpPasswordWOVersion.Equal(state.CorpPasswordWOVersion) || plan.Verified.IsUnknown()
	if apply || check {
		if r.data.refuseLost(path.Root("host"), host, "Set host to another PRIV server with the MIMPAM module.", &resp.Diagnostics) {
			return
		}
		reply, err := r.settings(ctx, host, &plan, password, apply, plan.VerifyOnPlan.ValueBool())
		if err != nil {
			doing := "checking the CORP side of the trust with the new credential"
			if apply {
				doing = "setting SID history, quarantine and the PIM trust through LSA on the CORP PDC"
			}
			report(&resp.Diagnostics, failure{"PAM Trust Not Updated", host, viaWinRM, doing}, err)
			return
		}
		if apply {
			pamFromSettings(reply, &plan)
		}
		if plan.Verified.IsUnknown() {
			pamCheckVerified(reply, &plan, &resp.Diagnostics)
		}
	}
	if pamAnyPRIVUnknown(&plan) && !r.readPRIVSide(ctx, &plan, &resp.Diagnostics) {
		if !resp.Diagnostics.HasError() {
			resp.Diagnostics.AddError("PAM Trust Disappeared", fmt.Sprintf("The trust with %s was removed during the update.", plan.SourceForest.ValueString()))
		}
		return
	}
	pamNullUnknowns(&plan)
	resp.Diagnostics.Append(recordObject(ctx, resp.Private, pamTrustObjectOf(&plan))...)
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

func (r *pamTrustResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var state pamTrustResourceModel
	if !load(ctx, &resp.Diagnostics, from(req.State, &state)) {
		return
	}
	password := r.data.pamCorpPassword
	ctx, cancel, ok := r.data.operation(ctx, state.Timeouts.Delete, pamDefaultDeleteTimeout, &resp.Diagnostics, password)
	if !ok {
		return
	}
	defer cancel()
	host, forest := state.Host.ValueString(), state.SourceForest.ValueString()
	if r.data.refuseLost(path.Root("host"), host, fmt.Sprintf("The trust with %s is still there: set host to another PRIV server with the MIMPAM module (an in-place change), apply, then destroy.", forest), &resp.Diagnostics) {
		return
	}
	out, err := pam.RemoveTrust(ctx, r.data.winrm, host, pamTrust(&state, password))
	if err != nil {
		report(&resp.Diagnostics, failure{"PAM Trust Not Removed", host, viaWinRM, "removing the trust with " + forest}, err)
		return
	}
	if password == "" && out.Removed {
		resp.Diagnostics.AddWarning("CORP Side Of PAM Trust Left In Place", pamCorpSideLeftDetail(forest, host))
	}
}

func pamCorpSideLeftDetail(forest, host string) string {
	return fmt.Sprintf("PRIV's side of the trust with %s was deleted, so the trust no longer works. %s's own trustedDomain object for the PRIV forest is still there: "+
		"removing it needs a CORP administrator's password, which Terraform never gives to a destroy. Remove it on %s with "+
		"Remove-PAMTrust -SourceForest %s -Credentials (Get-Credential), or on a CORP domain controller with "+
		"netdom trust %s /domain:<PRIV forest> /remove /oneside:trusting. To have destroy do it, set %s. "+
		"A later create of the same trust removes the leftover itself.", forest, forest, host, forest, forest, pamCorpPasswordEnv)
}

func (r *pamTrustResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	importPAM(ctx, req, resp, pamImportID{"source_forest", validators.CheckDNSDomainName, func(forest string) string { return strings.ToLower(strings.TrimSuffix(forest, ".")) },
		"The import ID is <host>/<source_forest>[/<corp_username>], e.g. priv-app1.priv.contoso.com/corp.contoso.com/CORP\\Administrator: the PRIV server with the MIMPAM module, " +
			"the CORP forest's DNS name, and optionally the CORP account to read the CORP side with (with the provider's pam_corp_password). Got %q."})
}

// Remote calls and conversions ---------------------------------------------

// pamTrustOverLDAP is why the PAM trust needs the ldap settings.
const pamTrustOverLDAP = "The PAM trust is read from the PRIV directory over LDAP (its trustedDomain object), never PowerShell."
