package provider

import (
	"context"

	"github.com/bastion-pam/terraform-provider-bastion/internal/ad"
	"github.com/bastion-pam/terraform-provider-bastion/internal/adnames"
	"github.com/bastion-pam/terraform-provider-bastion/internal/directory"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

// Conversions between the bastion_domain_controller model and the ad and
// directory packages.

// dcLookup is ad.FindDC from the inventory every Read of the plan shares
// (directory.Client.Inventory): a refresh of n DCs costs one read, not n.
func dcLookup(ctx context.Context, dir *directory.Client, host string) (ad.DC, bool, error) {
	inv, err := dir.Inventory(ctx)
	if err != nil {
		return ad.DC{}, false, err
	}
	dc, found := ad.PickDC(inv.DCs, inv.Roles, host)
	return dc, found, nil
}

// fromDirectory copies what the directory says about the DC into m.
func (r *domainControllerResource) fromDirectory(ctx context.Context, dc ad.DC, m *domainControllerResourceModel, diags *diag.Diagnostics) {
	m.ID = types.StringValue(m.Host.ValueString())
	if m.DomainName.IsNull() || m.DomainName.IsUnknown() {
		m.DomainName = newCaseInsensitiveString(adnames.DNSNameOfDN(dc.ComputerDN))
	}
	m.SiteName = newCaseInsensitiveString(dc.Site)
	m.GlobalCatalog = types.BoolValue(dc.GlobalCatalog)
	m.ServerDN = types.StringValue(dc.ServerDN)
	m.NTDSSettingsDN = types.StringValue(dc.NTDSSettingsDN)
	m.InvocationID = types.StringValue(dc.InvocationID)
	m.FunctionalLevel = types.Int64Value(int64(dc.FunctionalLevel))
	m.ReadOnly = types.BoolValue(dc.ReadOnly)
	m.FSMORoles = stringList(dc.Roles)
}
