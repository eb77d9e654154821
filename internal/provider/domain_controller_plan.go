package provider

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/bastion-pam/terraform-provider-bastion/internal/ad"
	"github.com/bastion-pam/terraform-provider-bastion/internal/adnames"
	"github.com/bastion-pam/terraform-provider-bastion/internal/topology"
	"github.com/bastion-pam/terraform-provider-bastion/internal/validators"
	"github.com/hashicorp/terraform-plugin-framework-validators/resourcevalidator"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
)

// Plan-time logic of bastion_domain_controller: credentials a promotion or
// demotion will use and the demotion guard, asked at plan.

// ConfigValidators: the promotion credential override comes whole.
func (r *domainControllerResource) ConfigValidators(context.Context) []resource.ConfigValidator {
	return []resource.ConfigValidator{
		resourcevalidator.RequiredTogether(path.MatchRoot("admin_username"), path.MatchRoot("admin_password_wo")),
		resourcevalidator.RequiredTogether(path.MatchRoot("safe_mode_password_wo_version"), path.MatchRoot("dsrm_sync_account")),
	}
}

// dcObject identifies a DC in private state (see demolition).
type dcObject struct {
	Host string `json:"host"`
}

// ModifyPlan checks the credentials a promotion or demotion will use, and
// asks the directory before a DC is demoted, whatever takes it down (destroy,
// an attribute that requires replacement, -replace, taint): it must be
// neither the last writable DC of the domain, nor an FSMO holder, nor the DC
// the provider's ldap.pinned_dc names.
func (r *domainControllerResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	if r.data == nil {
		return
	}
	ctx = r.data.logCtx(ctx)
	if !req.Plan.Raw.IsNull() && req.State.Raw.IsNull() {
		var config domainControllerResourceModel
		if !load(ctx, &resp.Diagnostics, from(req.Config, &config)) {
			return
		}
		// A new DC's host is not asked here: when a DC is replaced on the same
		// host, Terraform plans the new one while the host is still a DC.
		// Create asks the directory before running anything.
		if !config.AdminUsername.IsUnknown() {
			dcPromotionCredential(r.data, &config, &resp.Diagnostics)
		}
	}
	old, kind, d := demolition(ctx, req, func(o *dcObject) diag.Diagnostics {
		var state domainControllerResourceModel
		d := req.State.Get(ctx, &state)
		o.Host = state.Host.ValueString()
		return d
	})
	resp.Diagnostics.Append(d...)
	if resp.Diagnostics.HasError() {
		return
	}
	if kind == createOrTainted {
		// Terraform plans a tainted DC like a new one (null prior state and
		// no private state): a host that is already a DC is demoted first.
		var plan domainControllerResourceModel
		if !load(ctx, &resp.Diagnostics, from(req.Plan, &plan)) || !known(plan.Host) || r.data.dir == nil {
			return
		}
		old.Host = plan.Host.ValueString()
	}
	if kind == notDemolished {
		return
	}
	host := old.Host
	if r.data.isLost(host) {
		return
	}
	if kind == demolishedByDestroy {
		r.data.planned.add("domain_controller", host)
	}
	if r.data.dir == nil {
		dcHasDemotionCredential(r.data, host, &resp.Diagnostics)
		resp.Diagnostics.AddWarning("Demotion Not Checked", "The provider has no ldap settings, so it cannot check that demoting "+host+
			" leaves a writable domain controller and moves no FSMO role. Configure the ldap block (or BASTION_LDAP_*): the demotion needs it anyway.")
		return
	}
	err := ad.CanDemote(ctx, r.data.dir, host)
	if errors.Is(err, topology.ErrNotDomainController) {
		return // already demoted (or a new DC): Delete runs nothing
	}
	tainted := ""
	if kind == createOrTainted {
		tainted = fmt.Sprintf("\n\n%s is already a domain controller. If this bastion_domain_controller is tainted, Terraform demotes it before promoting it again, and that is what is refused: "+
			"run `terraform untaint` on it if the DC is healthy. If this is a new resource, bring the DC under Terraform with this import block instead:\n\n%s", host, importBlockFor("bastion_domain_controller", host))
		if err != nil {
			err = fmt.Errorf("%w%s", err, tainted)
		} else {
			resp.Diagnostics.AddAttributeWarning(path.Root("host"), "Already A Domain Controller",
				"Apply demotes and promotes it again only if this resource is tainted; for a new resource, apply refuses to promote it."+tainted)
		}
	}
	if errors.Is(err, topology.ErrHoldsFSMORoles) && r.data.planned.has("fsmo_roles_return", adnames.HostKey(host)) {
		err = nil // bastion_fsmo_roles, destroyed first in this plan, returns them
	}
	dcHasDemotionCredential(r.data, host, &resp.Diagnostics)
	if err != nil {
		report(&resp.Diagnostics, failure{"Demotion Not Checked", host, viaLDAP, "checking that a writable domain controller remains and that it holds no FSMO role before demoting it"}, err)
		return
	}
	if pinned := r.data.pinnedDC; pinned != "" && adnames.SameHost(pinned, host) {
		resp.Diagnostics.AddError("Pinned Domain Controller Not Demoted",
			fmt.Sprintf("This plan would %s bastion_domain_controller %s, the DC the provider's ldap.pinned_dc names: every directory read and write, and the wait for the demotion itself, "+
				"go to that DC. Point ldap.pinned_dc (or BASTION_LDAP_PINNED_DC) at a DC that stays, run a plan with it, then demote this one. Nothing was run on %s.%s", kind, host, host, tainted))
	}
}

// dcPromotionCredential is the promotion's -Credential: admin_username and
// admin_password_wo when set, else the provider's WinRM account.
func dcPromotionCredential(data *providerData, config *domainControllerResourceModel, diags *diag.Diagnostics) (credential, bool) {
	if !config.AdminUsername.IsNull() {
		return credential{Username: config.AdminUsername.ValueString(), Password: config.AdminPasswordWO.ValueString()}, true
	}
	if data.winrmCredential.Username != "" && data.winrmCredential.Password != "" {
		return data.winrmCredential, true
	}
	diags.AddAttributeError(path.Root("admin_username"), "Promotion Credential Missing",
		"Promoting a domain controller needs an explicit domain admin user name and password (Install-ADDSDomainController -Credential: a WinRM session cannot make "+
			"the second hop to a partner DC). admin_username and admin_password_wo are unset, and the provider's WinRM account has no password "+
			"(WinRM signs in with a Kerberos credential cache, or is not configured). Set winrm.username and winrm.password (or BASTION_WINRM_USERNAME and BASTION_WINRM_PASSWORD) "+
			"to a domain admin account, which the demotion needs anyway, or set admin_username and admin_password_wo for the promotion.")
	return credential{}, false
}

// dcHasDemotionCredential reports whether the provider's WinRM account can
// be the demotion's -Credential (Terraform hands Delete no configuration).
func dcHasDemotionCredential(data *providerData, host string, diags *diag.Diagnostics) bool {
	if data.winrmCredential.Username != "" && data.winrmCredential.Password != "" {
		return true
	}
	diags.AddError("Demotion Credential Missing",
		fmt.Sprintf("Demoting %s needs an explicit domain admin user name and password (Uninstall-ADDSDomainController -Credential: a WinRM session cannot make the second hop "+
			"to a partner DC), and the demotion uses the provider's WinRM account, because Terraform hands a provider no resource configuration when it destroys a resource. "+
			"The provider's WinRM account has no password (WinRM signs in with a Kerberos credential cache, or is not configured). Set winrm.username and winrm.password "+
			"(or BASTION_WINRM_USERNAME and BASTION_WINRM_PASSWORD) to a domain admin account, then plan again. Nothing was run on %s.", host, host))
	return false
}

// dcPathAttribute is a promotion-time folder: changing it on a DC this
// resource promoted replaces the DC (Windows cannot move them in place).
func dcPathAttribute(doc string) schema.StringAttribute {
	return schema.StringAttribute{
		Optional:            true,
		MarkdownDescription: doc + " Changing it on a DC this resource promoted replaces the DC: moving the database or SYSVOL is an offline `ntdsutil` procedure." + dcPromotionOnlyDoc,
		Validators:          []validator.String{validators.WindowsPath()},
		PlanModifiers: []planmodifier.String{stringplanmodifier.RequiresReplaceIf(func(ctx context.Context, req planmodifier.StringRequest, resp *stringplanmodifier.RequiresReplaceIfFuncResponse) {
			if !req.StateValue.IsNull() {
				resp.RequiresReplace = !strings.EqualFold(req.StateValue.ValueString(), req.PlanValue.ValueString())
				return
			}
			// No recorded value: a DC this resource promoted has Windows' default
			// there; an imported one adopts the configured value as it is.
			promoted, d := req.Private.GetKey(ctx, dcPromotedKey)
			resp.Diagnostics.Append(d...)
			resp.RequiresReplace = len(promoted) > 0
		}, "Replaces a DC this resource promoted.", "Replaces a DC this resource promoted.")},
	}
}

// dcReplaceUnlessSameText requires replacement when a known value changes
// other than in letter case (host, domain and site names are case-insensitive).
func dcReplaceUnlessSameText(why string) planmodifier.String {
	desc := "Replaces the DC: " + why + "."
	return stringplanmodifier.RequiresReplaceIf(func(_ context.Context, req planmodifier.StringRequest, resp *stringplanmodifier.RequiresReplaceIfFuncResponse) {
		resp.RequiresReplace = !req.StateValue.IsNull() && !req.PlanValue.IsUnknown() &&
			adnames.HostKey(req.StateValue.ValueString()) != adnames.HostKey(req.PlanValue.ValueString())
	}, desc, desc)
}
