package provider

import (
	"context"
	"errors"
	"fmt"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/bastion-pam/terraform-provider-bastion/internal/ad"
)

// DSRM password rotation of bastion_domain_controller (ad.RotateDSRM).

// dsrmRotationRequested reports whether safe_mode_password_wo_version
// changed to a value: set after an import counts, removing it does not.
func dsrmRotationRequested(plan, state *domainControllerResourceModel) bool {
	return !plan.SafeModePasswordWOVer.IsNull() && !plan.SafeModePasswordWOVer.Equal(state.SafeModePasswordWOVer)
}

// rotateDSRM gives host the configured safe_mode_password_wo as its DSRM
// password through dsrm_sync_account; it reports success.
func (r *domainControllerResource) rotateDSRM(ctx context.Context, host string, plan *domainControllerResourceModel, config tfsdk.Config, diags *diag.Diagnostics) bool {
	var password types.String
	diags.Append(config.GetAttribute(ctx, path.Root("safe_mode_password_wo"), &password)...)
	if diags.HasError() {
		return false
	}
	account := plan.DSRMSyncAccount.ValueString()
	if account == "" || password.ValueString() == "" {
		diags.AddAttributeError(path.Root("dsrm_sync_account"), "DSRM Sync Account Missing",
			"safe_mode_password_wo_version changed, but a rotation needs dsrm_sync_account (the domain user that carries the password to the DC) and safe_mode_password_wo. Nothing was changed.")
		return false
	}
	ctx = r.data.logCtx(ctx, password.ValueString())
	err := ad.RotateDSRM(ctx, r.data.dir, r.data.winrm, host, account, password.ValueString())
	if scramble := (*ad.ScrambleError)(nil); errors.As(err, &scramble) {
		warnAt(diags, path.Root("dsrm_sync_account"), failure{"DSRM Sync Account Still Holds The Password", "", viaLDAP, "resetting " + account + " to a random password after the rotation"},
			fmt.Sprintf("The DSRM password of %s is rotated, but the account's password is still the DSRM password. Reset it by hand or rotate again.", host), scramble.Err)
		return true
	}
	if err != nil {
		report(diags, failure{"DSRM Password Not Rotated", host, viaWinRM,
			fmt.Sprintf("setting the DSRM password through %s (LDAP password reset on the DC, then ntdsutil \"sync from domain account\"); the DC keeps its previous DSRM password", account)}, err)
		return false
	}
	return true
}
