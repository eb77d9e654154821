package provider

import (
	"context"
	"fmt"

	"strings"

	"github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/boolplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/bastion-pam/terraform-provider-bastion/internal/pam"
	"github.com/bastion-pam/terraform-provider-bastion/internal/validators"
)

var (
	_ resource.Resource                = &pamDomainConfigurationResource{}
	_ resource.ResourceWithConfigure   = &pamDomainConfigurationResource{}
	_ resource.ResourceWithImportState = &pamDomainConfigurationResource{}
	_ resource.ResourceWithModifyPlan  = &pamDomainConfigurationResource{}
)

// NewPAMDomainConfigurationResource is the bastion_pam_domain_configuration resource.
func NewPAMDomainConfigurationResource() resource.Resource { return &pamDomainConfigurationResource{} }

type pamDomainConfigurationResource struct {
	configuredResource
}

type pamDomainConfigurationResourceModel struct {
	ID                    types.String          `tfsdk:"id"`
	Host                  types.String          `tfsdk:"host"`
	SourceDomain          caseInsensitiveString `tfsdk:"source_domain"`
	CorpUsername          types.String          `tfsdk:"corp_username"`
	CorpPasswordWO        types.String          `tfsdk:"corp_password_wo"`
	CorpPasswordWOVersion types.Int64           `tfsdk:"corp_password_wo_version"`
	Configured            types.Bool            `tfsdk:"configured"`
	Timeouts              timeouts.Value        `tfsdk:"timeouts"`
}

func (r *pamDomainConfigurationResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_pam_domain_configuration"
}

func (r *pamDomainConfigurationResource) Schema(ctx context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "PAM's configuration data in a domain of an existing (CORP) forest: `New-PAMDomainConfiguration -SourceDomain <NetBIOS name> -Credentials`, " +
			"run on a PRIV server with the MIMPAM module after the PAM trust exists (MIMDocs, \"Step 5 - Establish trust between PRIV and CORP forests\").\n\n" +
			"The cmdlet writes into the **source** domain; it leaves nothing in PRIV that LDAP could honestly be read for, and the provider's LDAP connection " +
			"does not reach CORP. `Test-PAMDomainConfiguration` is the only witness, and it needs the CORP credential, which is write-only: Terraform gives it to " +
			"plans and applies, never to a refresh. So a refresh makes no remote call and keeps the state; **every plan** runs `Test-PAMDomainConfiguration` on " +
			"`host` (one script run; the deprecated `terraform refresh` plans internally, so it runs it too), and a configuration found missing is planned as an " +
			"in-place update that runs `New-PAMDomainConfiguration` again.\n\n" +
			"The source domain must be ready as MIMDocs describes it: the PAM trust (`bastion_pam_trust`), a domain local group `<NETBIOS>$$$`, and success and failure " +
			"auditing of account management and directory service access; the cmdlet fails without them. (With both domains at the Windows Server 2016 functional " +
			"level, MIMDocs' \"Deploy MIM PAM with Windows Server 2016\" skips this cmdlet and the group altogether: use this resource for the SID-history setup.)\n\n" +
			"**Destroy.** Terraform gives a destroy no configuration. When the provider has `" + pamCorpPasswordEnv + "`, destroy runs " +
			"`Remove-PAMDomainConfiguration` with it and `corp_username`; otherwise the configuration stays in the source domain and destroy only forgets it, with a warning.",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{
				Computed: true, MarkdownDescription: "The source domain's NetBIOS name, upper case.",
				PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"host": schema.StringAttribute{
				Required: true,
				MarkdownDescription: "FQDN of the PRIV server the cmdlets run on: a MIM Service node installed with the PAM components (the MIMPAM module). " +
					"The configuration does not live on it: changing it only moves where later commands run.",
				Validators: []validator.String{validators.FQDN()},
			},
			"source_domain": schema.StringAttribute{
				CustomType: caseInsensitiveStringType{},
				Required:   true,
				MarkdownDescription: "NetBIOS name of the CORP domain (`-SourceDomain`), e.g. `CORP`: `bastion_pam_trust.x.flat_name` for the forest root domain. " +
					"Changing it configures another domain (replacement).",
				Validators:    []validator.String{validators.NetBIOSDomainName()},
				PlanModifiers: []planmodifier.String{stringplanmodifier.RequiresReplace()},
			},
			"corp_username": schema.StringAttribute{
				Required:            true,
				MarkdownDescription: "A domain administrator of the source domain as `DOMAIN\\name`. Sent to the host as data; kept in state (it is not a secret).",
				Validators:          []validator.String{validators.WindowsAccount()},
			},
			"corp_password_wo": schema.StringAttribute{
				Required: true, WriteOnly: true, Sensitive: true, Validators: []validator.String{validators.Password()},
				MarkdownDescription: "Password of `corp_username`. Write-only: sent to the host as data on stdin, never stored in state or plan, masked in logs. " +
					"Used by create, update and every plan; a destroy takes it from `" + pamCorpPasswordEnv + "`.",
			},
			"corp_password_wo_version": schema.Int64Attribute{
				Optional:            true,
				MarkdownDescription: "Any number; change it after rotating the CORP password so that the next apply checks the new one with `Test-PAMDomainConfiguration`." + versionAfterImportDoc,
			},
			"configured": schema.BoolAttribute{
				Computed: true,
				MarkdownDescription: "`Test-PAMDomainConfiguration`'s answer at the last plan or apply, and at each refresh when the provider has `pam_corp_password`. " +
					"After an import: the answer when the ID names the CORP account (`<host>/<source_domain>/<corp_username>`) and the provider has `pam_corp_password` " +
					"(importing a configuration that does not exist then fails), otherwise `null` until the first apply.",
				PlanModifiers: []planmodifier.Bool{boolplanmodifier.UseStateForUnknown()},
			},
			"timeouts": timeouts.Attributes(ctx, timeouts.Opts{Create: true, Read: true, Update: true, Delete: true}),
		},
	}
}

func (r *pamDomainConfigurationResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var plan, config pamDomainConfigurationResourceModel
	if !load(ctx, &resp.Diagnostics, from(req.Plan, &plan), from(req.Config, &config)) {
		return
	}
	password := config.CorpPasswordWO.ValueString()
	ctx, cancel, ok := r.data.operation(ctx, plan.Timeouts.Create, pamDefaultCreateTimeout, &resp.Diagnostics, password)
	if !ok {
		return
	}
	defer cancel()
	host := plan.Host.ValueString()
	if r.data.refuseLost(path.Root("host"), host, "The domain cannot be configured from it: choose another PRIV server with the MIMPAM module.", &resp.Diagnostics) {
		return
	}
	if !r.configure(ctx, host, &plan, password, &resp.Diagnostics) {
		return
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

// configure runs New-PAMDomainConfiguration and records the test's answer in m.
func (r *pamDomainConfigurationResource) configure(ctx context.Context, host string, m *pamDomainConfigurationResourceModel, password string, diags *diagsT) bool {
	domain := m.SourceDomain.ValueString()
	configured, err := pam.SetDomainConfiguration(ctx, r.data.winrm, host, pamDomain(m, password))
	if err != nil {
		report(diags, failure{"PAM Domain Configuration Not Created", host, viaWinRM, "configuring " + domain + " for PAM (New-PAMDomainConfiguration)"}, err)
		return false
	}
	if !configured {
		diags.AddError("PAM Domain Configuration Not Valid",
			fmt.Sprintf("New-PAMDomainConfiguration for %s succeeded on %s, but Test-PAMDomainConfiguration then answered false. Check the PAM trust, the group %s$$$ "+
				"and auditing in %s, and the cmdlets' events on %s.", domain, host, strings.ToUpper(domain), domain, host))
		return false
	}
	m.ID = types.StringValue(strings.ToUpper(domain))
	m.Configured = types.BoolValue(true)
	return true
}

// Read makes no remote call: the configuration lives in the source domain
// and only Test-PAMDomainConfiguration, which needs the write-only CORP
// credential, can see it. ModifyPlan runs it at every plan.
func (r *pamDomainConfigurationResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var state pamDomainConfigurationResourceModel
	if !load(ctx, &resp.Diagnostics, from(req.State, &state)) {
		return
	}
	if state.ID.IsNull() || state.ID.IsUnknown() {
		state.ID = types.StringValue(strings.ToUpper(state.SourceDomain.ValueString()))
	}
	// With the provider's pam_corp_password a refresh can ask Test-PAMDomainConfiguration
	// (it needs the CORP credential, which a refresh otherwise lacks): an import of a
	// configuration that does not exist then fails as Terraform says, "Cannot import
	// non-existent remote object". Cost: one script run on host.
	host := state.Host.ValueString()
	password := ""
	if r.data != nil {
		password = r.data.pamCorpPassword
	}
	if password != "" && known(state.CorpUsername) && state.CorpUsername.ValueString() != "" && !r.data.isLost(host) {
		ctx, cancel, ok := r.data.operation(ctx, state.Timeouts.Read, pamDefaultReadTimeout, &resp.Diagnostics, password)
		if !ok {
			return
		}
		defer cancel()
		configured, err := pam.TestDomainConfiguration(ctx, r.data.winrm, host, pamDomain(&state, password))
		if err != nil {
			report(&resp.Diagnostics, failure{"PAM Domain Configuration Not Read", host, viaWinRM, "testing the configuration of " + state.SourceDomain.ValueString() + " (Test-PAMDomainConfiguration, the state is kept unchanged)"}, err)
			return
		}
		if !configured && state.Configured.IsNull() { // just imported: there is nothing to import
			resp.State.RemoveResource(ctx)
			return
		}
		state.Configured = types.BoolValue(configured) // false: the plan runs New-PAMDomainConfiguration again
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
}

func (r *pamDomainConfigurationResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan, state, config pamDomainConfigurationResourceModel
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
	rerun := plan.Configured.IsUnknown()
	check := !plan.CorpPasswordWOVersion.Equal(state.CorpPasswordWOVersion)
	if (rerun || check) && r.data.refuseLost(path.Root("host"), host, "Set host to another PRIV server with the MIMPAM module.", &resp.Diagnostics) {
		return
	}
	switch {
	case rerun:
		if !r.configure(ctx, host, &plan, password, &resp.Diagnostics) {
			return
		}
	case check:
		configured, err := pam.TestDomainConfiguration(ctx, r.data.winrm, host, pamDomain(&plan, password))
		if err != nil {
			report(&resp.Diagnostics, failure{"PAM Domain Configuration Not Checked", host, viaWinRM, "testing the configuration of " + plan.SourceDomain.ValueString() + " with the new credential"}, err)
			return
		}
		if !configured {
			resp.Diagnostics.AddError("PAM Domain Configuration Not Valid",
				fmt.Sprintf("Test-PAMDomainConfiguration answered false for %s on %s; it answered true when this apply was planned. Plan again.", plan.SourceDomain.ValueString(), host))
			return
		}
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

func (r *pamDomainConfigurationResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var state pamDomainConfigurationResourceModel
	if !load(ctx, &resp.Diagnostics, from(req.State, &state)) {
		return
	}
	password := r.data.pamCorpPassword
	domain := state.SourceDomain.ValueString()
	host := state.Host.ValueString()
	if password == "" {
		resp.Diagnostics.AddWarning("PAM Domain Configuration Left In Place", pamDomainLeftDetail(domain, host))
		return
	}
	ctx, cancel, ok := r.data.operation(ctx, state.Timeouts.Delete, pamDefaultDeleteTimeout, &resp.Diagnostics, password)
	if !ok {
		return
	}
	defer cancel()
	if r.data.refuseLost(path.Root("host"), host, "Set host to another PRIV server with the MIMPAM module (an in-place change), apply, then destroy.", &resp.Diagnostics) {
		return
	}
	if _, err := pam.RemoveDomainConfiguration(ctx, r.data.winrm, host, pamDomain(&state, password)); err != nil {
		report(&resp.Diagnostics, failure{"PAM Domain Configuration Not Removed", host, viaWinRM, "removing the PAM configuration of " + domain + " (Remove-PAMDomainConfiguration)"}, err)
	}
}

func pamDomainLeftDetail(domain, host string) string {
	return fmt.Sprintf("The PAM configuration of %s stays in that domain: removing it needs a CORP administrator's password, which Terraform never gives to a destroy, "+
		"and %s is not set. Terraform forgets it. Remove it on %s with Remove-PAMDomainConfiguration -SourceDomain %s -Credentials (Get-Credential), or set %s "+
		"in the provider configuration (or its environment) before destroying.", domain, pamCorpPasswordEnv, host, domain, pamCorpPasswordEnv)
}

func (r *pamDomainConfigurationResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	importPAM(ctx, req, resp, pamImportID{"source_domain", validators.CheckNetBIOSDomainName, strings.ToUpper,
		"The import ID is <host>/<source_domain>[/<corp_username>], e.g. priv-app1.priv.contoso.com/CORP/CORP\\Administrator: the PRIV server with the MIMPAM module, " +
			"the CORP domain's NetBIOS name, and optionally the CORP account to check the configuration with (with the provider's pam_corp_password). Got %q."})
}

// pamImportID is how a PAM resource's import ID reads:
// <host>/<source>[/<corp_username>].
type pamImportID struct {
	source      string // the attribute the source names: source_domain or source_forest
	checkSource func(string) error
	id          func(source string) string
	usage       string // the Invalid Import ID detail; %q is the ID given
}

// importPAM sets host, the source, id and the optional corp_username of a
// PAM resource from its import ID.
func importPAM(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse, f pamImportID) {
	parts := strings.Split(req.ID, "/")
	if len(parts) < 2 || len(parts) > 3 || validators.CheckFQDN(parts[0]) != nil || f.checkSource(parts[1]) != nil ||
		(len(parts) == 3 && validators.CheckWindowsAccount(parts[2]) != nil) {
		resp.Diagnostics.AddError("Invalid Import ID", fmt.Sprintf(f.usage, req.ID))
		return
	}
	host, source := parts[0], parts[1]
	if len(parts) == 3 {
		resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("corp_username"), parts[2])...)
	}
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("id"), f.id(source))...)
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("host"), host)...)
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root(f.source), newCaseInsensitiveString(source))...)
}

// ModifyPlan runs Test-PAMDomainConfiguration with the CORP credential (only
// plans and applies have it): a configuration missing from the source domain
// is planned as an update that runs New-PAMDomainConfiguration again.
// Cost: one script run on host per plan.
func (r *pamDomainConfigurationResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	if req.Plan.Raw.IsNull() {
		if !req.State.Raw.IsNull() && r.data != nil {
			// The trust's guard lets the trust go when its configuration goes first in this plan.
			var domain caseInsensitiveString
			resp.Diagnostics.Append(req.State.GetAttribute(ctx, path.Root("source_domain"), &domain)...)
			r.data.planned.add("pam_domain_configuration", domain.ValueString())
		}
		if !req.State.Raw.IsNull() && r.data.pamCorpPassword == "" {
			var domain caseInsensitiveString
			var host types.String
			resp.Diagnostics.Append(req.State.GetAttribute(ctx, path.Root("source_domain"), &domain)...)
			resp.Diagnostics.Append(req.State.GetAttribute(ctx, path.Root("host"), &host)...)
			resp.Diagnostics.AddWarning("Destroy Leaves The PAM Domain Configuration", pamDomainLeftDetail(domain.ValueString(), host.ValueString()))
		}
		return
	}
	if req.State.Raw.IsNull() || r.data == nil {
		return
	}
	var plan, state, config pamDomainConfigurationResourceModel
	if !load(ctx, &resp.Diagnostics, from(req.Plan, &plan), from(req.State, &state), from(req.Config, &config)) {
		return
	}
	if !strings.EqualFold(plan.SourceDomain.ValueString(), state.SourceDomain.ValueString()) {
		return // a replacement
	}
	host := plan.Host.ValueString()
	if !known(plan.Host) || !known(config.CorpPasswordWO) || !known(plan.CorpUsername) {
		return
	}
	if r.data.skipLost(host, "PAM Domain Configuration Not Checked", "Test-PAMDomainConfiguration did not run: set host to another PRIV server with the MIMPAM module.", &resp.Diagnostics) {
		return
	}
	password := config.CorpPasswordWO.ValueString()
	configured, err := pam.TestDomainConfiguration(r.data.logCtx(ctx, password), r.data.winrm, host, pamDomain(&plan, password))
	if err != nil {
		report(&resp.Diagnostics, failure{"PAM Domain Configuration Not Checked", host, viaWinRM, "testing the configuration of " + plan.SourceDomain.ValueString() + " (Test-PAMDomainConfiguration)"}, err)
		return
	}
	if configured {
		resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root("configured"), types.BoolValue(true))...)
		return
	}
	resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root("configured"), types.BoolUnknown())...)
	resp.Diagnostics.AddWarning("PAM Domain Configuration Missing",
		fmt.Sprintf("Test-PAMDomainConfiguration on %s answered false for %s: its PAM configuration is gone or incomplete (removed outside Terraform, "+
			"or the group %s$$$, auditing or the trust changed). Apply runs New-PAMDomainConfiguration again.", host, plan.SourceDomain.ValueString(), strings.ToUpper(plan.SourceDomain.ValueString())))
}

// pamDomain is the configuration of m with the CORP password from the config.
func pamDomain(m *pamDomainConfigurationResourceModel, password string) pam.DomainConfiguration {
	return pam.DomainConfiguration{SourceDomain: m.SourceDomain.ValueString(), Corp: pam.Credential{Username: m.CorpUsername.ValueString(), Password: password}}
}
