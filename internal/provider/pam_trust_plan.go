package provider

import (
	"context"
	"fmt"
	"strings"

	"github.com/bastion-pam/terraform-provider-bastion/internal/adnames"
	"github.com/bastion-pam/terraform-provider-bastion/internal/pam"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/boolplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

// Plan-time logic of bastion_pam_trust: the cross-attribute validator, the
// recreation guard, ModifyPlan (the CORP side read over LDAP, Test-PAMTrust)
// and the demolition guard.

func (r *pamTrustResource) ConfigValidators(context.Context) []resource.ConfigValidator {
	return []resource.ConfigValidator{pimNeedsSIDHistory}
}

// pimNeedsSIDHistory: PIM_TRUST acts only together with TREAT_AS_EXTERNAL
// (MS-ADTS 6.1.6.7.9), which /EnableSIDHistory:yes sets.
var pimNeedsSIDHistory = configRule{"pim_trust = true needs sid_history = true", checkPIMNeedsSIDHistory}

func checkPIMNeedsSIDHistory(ctx context.Context, req resource.ValidateConfigRequest, resp *resource.ValidateConfigResponse) {
	var pim, sid types.Bool
	resp.Diagnostics.Append(req.Config.GetAttribute(ctx, path.Root("pim_trust"), &pim)...)
	resp.Diagnostics.Append(req.Config.GetAttribute(ctx, path.Root("sid_history"), &sid)...)
	if pim.IsUnknown() || sid.IsUnknown() {
		return
	}
	pimOn := pim.IsNull() || pim.ValueBool() // the defaults: both true
	sidOn := sid.IsNull() || sid.ValueBool()
	if pimOn && !sidOn {
		resp.Diagnostics.AddAttributeError(path.Root("pim_trust"), "PIM Trust Needs SID History",
			"pim_trust is true but sid_history is false. TRUST_ATTRIBUTE_PIM_TRUST takes effect only together with TRUST_ATTRIBUTE_TREAT_AS_EXTERNAL (MS-ADTS 6.1.6.7.9), "+
				"which sid_history sets (netdom's /EnableSIDHistory:yes): set sid_history = true, or pim_trust = false for a trust without time-limited shadow principal memberships.")
	}
}

// pamTrustRecreation replaces the trust when bidirectional changes, and
// refuses to plan it unless allow_trust_recreation is set.
func pamTrustRecreation() planmodifier.Bool {
	return boolplanmodifier.RequiresReplaceIf(func(ctx context.Context, req planmodifier.BoolRequest, resp *boolplanmodifier.RequiresReplaceIfFuncResponse) {
		if req.StateValue.IsNull() || req.PlanValue.IsUnknown() || req.PlanValue.Equal(req.StateValue) {
			return
		}
		var allow types.Bool
		resp.Diagnostics.Append(req.Config.GetAttribute(ctx, path.Root("allow_trust_recreation"), &allow)...)
		if allow.IsUnknown() {
			return
		}
		if !allow.ValueBool() {
			var forest caseInsensitiveString
			resp.Diagnostics.Append(req.State.GetAttribute(ctx, path.Root("source_forest"), &forest)...)
			resp.Diagnostics.AddAttributeError(req.Path, "Trust Recreation Not Allowed",
				fmt.Sprintf("bidirectional changes from %s to %s for the trust with %s. Windows cannot change a trust's direction in place: the trust would be deleted and "+
					"recreated (Remove-PAMTrust, New-PAMTrust, the settings through LSA), cutting every access from the bastion into CORP until it is back, with a new trust secret. "+
					"Set allow_trust_recreation = true to allow it (as ActiveDirectoryDsc's AllowTrustRecreation), or keep bidirectional = %s.",
					req.StateValue, req.PlanValue, forest.ValueString(), req.StateValue))
			return
		}
		resp.RequiresReplace = true
	}, "Changing the direction deletes and recreates the trust; refused unless allow_trust_recreation is true.",
		"Changing the direction deletes and recreates the trust; refused unless `allow_trust_recreation` is `true`.")
}

// ModifyPlan reads the CORP side of an existing trust over LDAP from the
// source forest's DCs with the CORP credential (only plans and applies have
// it), so a settings bit changed outside Terraform shows as a planned change;
// with verify_on_plan it also runs Test-PAMTrust on host. Cost per plan: a
// bind and a search on a CORP DC; with verify_on_plan, one script run more.
func (r *pamTrustResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	if r.data != nil {
		r.guardDemolition(ctx, req, resp)
		if resp.Diagnostics.HasError() {
			return
		}
	}
	if req.Plan.Raw.IsNull() {
		if !req.State.Raw.IsNull() && r.data.pamCorpPassword == "" {
			var forest caseInsensitiveString
			resp.Diagnostics.Append(req.State.GetAttribute(ctx, path.Root("source_forest"), &forest)...)
			resp.Diagnostics.AddWarning("Destroy Leaves The CORP Side Of The Trust",
				fmt.Sprintf("Destroying the trust with %s deletes only PRIV's side: %s is not set, and Terraform gives a destroy no configuration, "+
					"so the write-only CORP password cannot reach it. Set %s to have Remove-PAMTrust remove both sides.",
					forest.ValueString(), pamCorpPasswordEnv, pamCorpPasswordEnv))
		}
		return
	}
	if req.State.Raw.IsNull() || r.data == nil {
		return
	}
	var plan, state, config pamTrustResourceModel
	if !load(ctx, &resp.Diagnostics, from(req.Plan, &plan), from(req.State, &state), from(req.Config, &config)) {
		return
	}
	if !plan.Bidirectional.Equal(state.Bidirectional) || !strings.EqualFold(plan.SourceForest.ValueString(), state.SourceForest.ValueString()) {
		return // a replacement: the create plans it again from scratch
	}
	forest := plan.SourceForest.ValueString()
	setCorp := func(attrs, dir types.Int64) {
		b := func(bit uint32) types.Bool {
			if attrs.IsUnknown() {
				return types.BoolUnknown()
			}
			return types.BoolValue(pamBits(attrs.ValueInt64())&bit != 0)
		}
		resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root("corp_trust_direction"), dir)...)
		resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root("corp_trust_attributes"), attrs)...)
		resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root("sid_history_enabled"), b(adnames.TrustAttrTreatAsExternal))...)
		resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root("quarantined"), b(adnames.TrustAttrQuarantinedDomain))...)
		resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root("pim_trust_enabled"), b(adnames.TrustAttrPIMTrust))...)
	}
	// A setting changed in the configuration: apply sets it through LSA, whatever the check below finds.
	configChanged := !plan.SIDHistory.Equal(state.SIDHistory) || !plan.Quarantine.Equal(state.Quarantine) || !plan.PIMTrust.Equal(state.PIMTrust)
	if configChanged {
		setCorp(types.Int64Unknown(), plan.CorpTrustDirection)
	}

	host := plan.Host.ValueString()
	password := config.CorpPasswordWO
	if !known(password) || !known(plan.CorpUsername) {
		return
	}
	if !r.data.needDirectory(pamTrustOverLDAP, &resp.Diagnostics) {
		return
	}
	ctx = r.data.logCtx(ctx, password.ValueString())
	corp, err := r.readCorpSide(ctx, &plan, password.ValueString())
	if err != nil {
		report(&resp.Diagnostics, failure{summary: "PAM Trust Not Checked", protocol: viaCorpLDAP,
			doing: fmt.Sprintf("reading the CORP side of the trust (the source forest's trustedDomain object for the PRIV forest) from %s as %s (corp_username) with corp_password_wo",
				forest, plan.CorpUsername.ValueString())}, err)
		return
	}
	if corp == nil {
		resp.Diagnostics.AddWarning("CORP Side Of PAM Trust Missing",
			fmt.Sprintf("%s has no trustedDomain object for the PRIV forest: PRIV's side is there but the trust cannot work. The plan replaces the trust (New-PAMTrust builds both sides again).", forest))
		resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root("id"), types.StringUnknown())...)
		resp.RequiresReplace = append(resp.RequiresReplace, path.Root("id"))
		return
	}
	want, wantKnown := pamWantedBits(&plan)
	have := corp.Attributes & pam.SettingBits
	switch {
	case !wantKnown || have != want:
		setCorp(types.Int64Unknown(), types.Int64Value(int64(corp.Direction)))
		if wantKnown && !configChanged {
			resp.Diagnostics.AddWarning("PAM Trust Changed Outside Terraform",
				fmt.Sprintf("The CORP side of the trust with %s has trustAttributes 0x%X: %s. The configuration wants %s; apply sets them back through LSA on CORP's PDC, from %s.",
					forest, corp.Attributes, pam.DescribeBits(have), pam.DescribeBits(want), host))
		}
	default:
		setCorp(types.Int64Value(int64(corp.Attributes)), types.Int64Value(int64(corp.Direction)))
	}
	if plan.VerifyOnPlan.ValueBool() && known(plan.Host) {
		// Test-PAMTrust has no LDAP equivalent: it runs on host (apply false: nothing is set).
		if r.data.skipLost(host, "PAM Trust Not Verified", "Test-PAMTrust was not run: set host to another PRIV server with the MIMPAM module.", &resp.Diagnostics) {
			return
		}
		reply, err := r.settings(ctx, host, &plan, password.ValueString(), false, true)
		if err != nil {
			report(&resp.Diagnostics, failure{"PAM Trust Not Checked", host, viaWinRM, "testing the trust with " + forest + " (Test-PAMTrust)"}, err)
			return
		}
		v := pamVerifiedValue(reply)
		resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root("verified"), v)...)
		if !v.IsNull() && !v.ValueBool() {
			resp.Diagnostics.AddWarning("PAM Trust Not Verified", pamNotVerifiedDetail(forest, host))
		}
	}
}

func pamNotVerifiedDetail(forest, host string) string {
	return fmt.Sprintf("Test-PAMTrust on %s answered false for the trust with %s: the trust is not in the state New-PAMTrust leaves it (a side missing, the wrong direction, "+
		"or not forest-transitive). The provider does not rebuild a trust on a failed test: check it with netdom trust /verify, and replace the resource "+
		"(terraform apply -replace) if it must be rebuilt.", host, forest)
}

// pamTrustObject identifies a trust in private state (see demolition).
type pamTrustObject struct {
	SourceForest string `json:"source_forest"`
	FlatName     string `json:"flat_name"`
	Host         string `json:"host"`
	CorpUsername string `json:"corp_username"`
}

func pamTrustObjectOf(m *pamTrustResourceModel) pamTrustObject {
	return pamTrustObject{SourceForest: m.SourceForest.ValueString(), FlatName: m.FlatName.ValueString(), Host: m.Host.ValueString(), CorpUsername: m.CorpUsername.ValueString()}
}

// guardDemolition refuses, at plan, to take down a trust that a PAM domain
// configuration still relies on (MIMDocs step 5: New-PAMDomainConfiguration
// runs after New-PAMTrust and works through it), whatever takes it down: a
// destroy, a replacement, -replace or a tainted trust. A configuration whose
// own destroy is planned first in the same plan (terraform destroy) does not
// count. The witness is Test-PAMDomainConfiguration (one script run, only on
// such plans), which needs the CORP credential: corp_password_wo on a
// replacement, the provider's pam_corp_password on a destroy.
func (r *pamTrustResource) guardDemolition(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	old, kind, d := demolition(ctx, req, func(o *pamTrustObject) diag.Diagnostics {
		var state pamTrustResourceModel
		d := req.State.Get(ctx, &state)
		*o = pamTrustObjectOf(&state)
		return d
	})
	resp.Diagnostics.Append(d...)
	if kind == notDemolished || resp.Diagnostics.HasError() {
		return
	}
	var config pamTrustResourceModel
	password := r.data.pamCorpPassword
	if kind != demolishedByDestroy {
		if !load(ctx, &resp.Diagnostics, from(req.Config, &config)) {
			return
		}
		if known(config.CorpPasswordWO) {
			password = config.CorpPasswordWO.ValueString()
		}
	}
	if kind == createOrTainted {
		// A tainted trust is planned like a new one: the directory says
		// whether the trust exists (and so would be removed first).
		if r.data.dir == nil || !known(config.SourceForest.StringValue) || !known(config.Host) || !known(config.CorpUsername) {
			return
		}
		t, err := r.data.dir.Trust(ctx, config.SourceForest.ValueString())
		if err != nil {
			return // none (a new trust), or unreadable: Create checks again
		}
		old = pamTrustObject{SourceForest: config.SourceForest.ValueString(), FlatName: t.FlatName, Host: config.Host.ValueString(), CorpUsername: config.CorpUsername.ValueString()}
	}
	if kind == demolishedByReplace && config.AllowTrustRecreation.ValueBool() {
		return // the operator opted in to recreating the trust
	}
	flat := old.FlatName
	if flat == "" || r.data.planned.has("pam_domain_configuration", flat) {
		return
	}
	if kind == demolishedByDestroy {
		r.data.planned.add("pam_trust", old.SourceForest)
	}
	if password == "" || r.data.isLost(old.Host) {
		resp.Diagnostics.AddWarning("PAM Domain Configuration Not Checked",
			fmt.Sprintf("This plan would %s the PAM trust with %s. The provider could not ask Test-PAMDomainConfiguration on %s whether the PAM configuration of %s still relies on the trust "+
				"(no CORP password: set %s, or the host is in lost_hosts). Destroy the bastion_pam_domain_configuration for %s first if there is one.",
				kind, old.SourceForest, old.Host, flat, pamCorpPasswordEnv, flat))
		return
	}
	ctx = r.data.logCtx(ctx, password)
	configured, err := pam.TestDomainConfiguration(ctx, r.data.winrm, old.Host, pam.DomainConfiguration{SourceDomain: flat, Corp: pam.Credential{Username: old.CorpUsername, Password: password}})
	if err != nil {
		report(&resp.Diagnostics, failure{"PAM Trust Removal Not Checked", old.Host, viaWinRM, "asking Test-PAMDomainConfiguration whether the PAM configuration of " + flat + " still relies on the trust with " + old.SourceForest}, err)
		return
	}
	if configured {
		extra := ""
		if kind == demolishedByReplace {
			extra = " A replacement the operator wants anyway (the trust's type changed) is allowed with allow_trust_recreation = true; run New-PAMDomainConfiguration again afterwards."
		}
		resp.Diagnostics.AddError("PAM Trust Still Used By A Domain Configuration",
			fmt.Sprintf("This plan would %s the PAM trust with %s, but Test-PAMDomainConfiguration on %s says the PAM configuration of %s is in place, and it works through this trust "+
				"(MIMDocs, \"Step 5 - Establish trust between PRIV and CORP forests\": New-PAMDomainConfiguration runs after New-PAMTrust). "+
				"Destroy the bastion_pam_domain_configuration for %s first (remove it from the configuration and apply), or destroy both in one plan (terraform destroy plans the configuration first). "+
				"Nothing was run.%s", kind, old.SourceForest, old.Host, flat, flat, extra))
	}
}
