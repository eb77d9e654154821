package provider

import (
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
)

// keepPlanned stores the planned object as the state after a create that
// changed Windows but could not read the result back: every value the plan
// left unknown becomes null (a state holds no unknowns). Terraform marks a
// resource whose Create returned an error with a state as tainted, so the
// state says the object may be half-built instead of forgetting it.
func keepPlanned(plan tfsdk.Plan, state *tfsdk.State) diag.Diagnostics {
	var diags diag.Diagnostics
	raw, err := tftypes.Transform(plan.Raw, func(_ *tftypes.AttributePath, v tftypes.Value) (tftypes.Value, error) {
		if !v.IsKnown() {
			return tftypes.NewValue(v.Type(), nil), nil
		}
		return v, nil
	})
	if err != nil {
		diags.AddError("State Not Saved", "The planned object could not be saved as the state of the half-built resource: "+err.Error())
		return diags
	}
	state.Raw = raw
	return diags
}

// keepPlannedWarning is the warning a create adds when it kept the planned
// object: what is saved, and how to keep the object if it turns out whole.
func keepPlannedWarning(diags *diag.Diagnostics, summary, what string) {
	diags.AddWarning(summary, what+" The resource is saved in the state as tainted with the planned values, so the next plan shows it "+
		"replaced. If the object turns out to be complete, run `terraform untaint` on the resource and the next refresh reads it.")
}
