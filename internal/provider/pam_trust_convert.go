package provider

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"

	"github.com/bastion-pam/terraform-provider-bastion/internal/adnames"
	"github.com/bastion-pam/terraform-provider-bastion/internal/directory"
	"github.com/bastion-pam/terraform-provider-bastion/internal/pam"
	"github.com/bastion-pam/terraform-provider-bastion/internal/transport"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"
)

// Conversions between the bastion_pam_trust model and the pam and directory
// packages.

// pamTrust is the trust of m with the CORP password from the config.
func pamTrust(m *pamTrustResourceModel, password string) pam.Trust {
	return pam.Trust{SourceForest: m.SourceForest.ValueString(), Corp: pam.Credential{Username: m.CorpUsername.ValueString(), Password: password},
		Bidirectional: m.Bidirectional.ValueBool()}
}

// settings runs pam_trust_settings with m's wanted settings.
func (r *pamTrustResource) settings(ctx context.Context, host string, m *pamTrustResourceModel, password string, apply, verify bool) (*pam.SettingsReply, error) {
	want := pam.Settings{SIDHistory: m.SIDHistory.ValueBool(), Quarantine: m.Quarantine.ValueBool(), PIMTrust: m.PIMTrust.ValueBool()}
	reply, err := pam.ApplySettings(ctx, r.data.winrm, host, pamTrust(m, password), want, apply, verify)
	if err == nil && len(reply.SettingsChanged) > 0 {
		tflog.Info(ctx, "PAM trust settings changed on the CORP side", map[string]any{
			"host": host, "source_forest": m.SourceForest.ValueString(), "settings_changed": reply.SettingsChanged,
			"corp_trust_attributes": fmt.Sprintf("0x%X", reply.CorpTrustAttributes)})
	}
	return reply, err
}

// readCorpSide reads the CORP side of the trust over LDAP (pam.ReadCorpSide),
// learning the PRIV forest's name from PRIV's rootDSE when the provider's
// ldap block names no domain (one more search).
func (r *pamTrustResource) readCorpSide(ctx context.Context, m *pamTrustResourceModel, password string) (*directory.Trust, error) {
	base := r.data.dirConfig
	if base == nil {
		return nil, errors.New("the provider's LDAP configuration is not available")
	}
	privForest := base.Domain
	if privForest == "" {
		dse, err := r.data.dir.RootDSE(ctx)
		if err != nil {
			return nil, fmt.Errorf("reading the PRIV forest's name from PRIV's rootDSE: %w", err)
		}
		privForest = adnames.DNSNameOfDN(dse.RootDomainNamingContext)
	}
	return pam.ReadCorpSide(ctx, *base, privForest, pamTrust(m, password))
}

// readPRIVSide reads PRIV's trustedDomain object into m; false when absent.
// Cost: 1 LDAP search (plus the bind of a new connection).
func (r *pamTrustResource) readPRIVSide(ctx context.Context, m *pamTrustResourceModel, diags *diag.Diagnostics) bool {
	t, err := r.data.dir.Trust(ctx, m.SourceForest.ValueString())
	if errors.Is(err, transport.ErrNotFound) {
		return false
	}
	if err != nil {
		report(diags, failure{summary: "PAM Trust Not Read", protocol: viaLDAP, doing: "reading PRIV's trustedDomain object for " + m.SourceForest.ValueString()}, err)
		return false
	}
	pamFromPRIVSide(t, m)
	return true
}

// refreshCorpSide reads the CORP side on a refresh when the provider has the
// CORP password (pam_corp_password) and the state names the account: a refresh
// gets no configuration, so the write-only corp_password_wo cannot reach it.
// After an import, the settings not yet in the state are taken from the CORP
// side as it is, so the first plan compares the configuration with CORP.
// Cost: a bind and a search on a short-lived connection to the source forest.
func (r *pamTrustResource) refreshCorpSide(ctx context.Context, m *pamTrustResourceModel, diags *diag.Diagnostics) {
	password := r.data.pamCorpPassword
	if password == "" || !known(m.CorpUsername) || m.CorpUsername.ValueString() == "" {
		return
	}
	ctx = r.data.logCtx(ctx, password)
	corp, err := r.readCorpSide(ctx, m, password)
	if err != nil {
		warnAt(diags, path.Empty(), failure{"CORP Side Of PAM Trust Not Read", "", viaCorpLDAP,
			fmt.Sprintf("reading the CORP side of the trust (the source forest's trustedDomain object for the PRIV forest) from %s as %s (corp_username) with the provider's pam_corp_password", m.SourceForest.ValueString(), m.CorpUsername.ValueString())},
			"The state keeps the CORP side as last read, and the plan reads it again with corp_password_wo.", err)
		return
	}
	if corp == nil {
		return // the plan, which reads it too, replaces the trust and says why
	}
	m.CorpTrustDirection = types.Int64Value(int64(corp.Direction))
	m.CorpTrustAttributes = types.Int64Value(int64(corp.Attributes))
	m.SIDHistoryEnabled = types.BoolValue(corp.Has(adnames.TrustAttrTreatAsExternal))
	m.Quarantined = types.BoolValue(corp.Has(adnames.TrustAttrQuarantinedDomain))
	m.PIMTrustEnabled = types.BoolValue(corp.Has(adnames.TrustAttrPIMTrust))
	if m.SIDHistory.IsNull() {
		m.SIDHistory = m.SIDHistoryEnabled
	}
	if m.Quarantine.IsNull() {
		m.Quarantine = m.Quarantined
	}
	if m.PIMTrust.IsNull() {
		m.PIMTrust = m.PIMTrustEnabled
	}
}

func pamFromPRIVSide(t directory.Trust, m *pamTrustResourceModel) {
	m.ID = types.StringValue(strings.ToLower(strings.TrimSuffix(m.SourceForest.ValueString(), ".")))
	m.Bidirectional = types.BoolValue(t.Direction == adnames.TrustDirectionBidirectional)
	m.TrustDirection = types.Int64Value(int64(t.Direction))
	m.TrustType = types.Int64Value(int64(t.Type))
	m.TrustAttributes = types.Int64Value(int64(t.Attributes))
	m.ForestTransitive = types.BoolValue(t.Has(adnames.TrustAttrForestTransitive))
	m.FlatName = types.StringValue(t.FlatName)
	m.PartnerSID = types.StringValue(t.SID)
}

func pamFromSettings(reply *pam.SettingsReply, m *pamTrustResourceModel) {
	m.CorpTrustDirection = types.Int64Value(int64(reply.CorpTrustDirection))
	m.CorpTrustAttributes = types.Int64Value(int64(reply.CorpTrustAttributes))
	m.SIDHistoryEnabled = types.BoolValue(reply.Has(adnames.TrustAttrTreatAsExternal))
	m.Quarantined = types.BoolValue(reply.Has(adnames.TrustAttrQuarantinedDomain))
	m.PIMTrustEnabled = types.BoolValue(reply.Has(adnames.TrustAttrPIMTrust))
}

// pamBits reads a trustAttributes value (32 bits) the script returned as a number.
func pamBits(v int64) uint32 {
	if v < 0 || v > math.MaxUint32 {
		return 0
	}
	return uint32(v)
}

func pamVerifiedValue(reply *pam.SettingsReply) types.Bool {
	if reply.Verified == nil {
		return types.BoolNull()
	}
	return types.BoolValue(*reply.Verified)
}

// pamCheckVerified records Test-PAMTrust's answer after an apply.
func pamCheckVerified(reply *pam.SettingsReply, m *pamTrustResourceModel, diags *diag.Diagnostics) {
	if !m.VerifyOnPlan.ValueBool() {
		if m.Verified.IsUnknown() {
			m.Verified = types.BoolNull()
		}
		return
	}
	m.Verified = pamVerifiedValue(reply)
	if !m.Verified.IsNull() && !m.Verified.ValueBool() {
		diags.AddWarning("PAM Trust Not Verified", pamNotVerifiedDetail(m.SourceForest.ValueString(), m.Host.ValueString()))
	}
}

// pamWantedBits are the CORP side's settings bits the configuration asks for.
func pamWantedBits(m *pamTrustResourceModel) (uint32, bool) {
	if m.SIDHistory.IsUnknown() || m.Quarantine.IsUnknown() || m.PIMTrust.IsUnknown() {
		return 0, false
	}
	return pam.Settings{SIDHistory: m.SIDHistory.ValueBool(), Quarantine: m.Quarantine.ValueBool(), PIMTrust: m.PIMTrust.ValueBool()}.Bits(), true
}

func pamAnyPRIVUnknown(m *pamTrustResourceModel) bool {
	return m.ID.IsUnknown() || m.TrustDirection.IsUnknown() || m.TrustType.IsUnknown() || m.TrustAttributes.IsUnknown() ||
		m.ForestTransitive.IsUnknown() || m.FlatName.IsUnknown() || m.PartnerSID.IsUnknown()
}

// pamNullUnknowns gives every value still unknown after an apply a null:
// a state holds no unknowns.
func pamNullUnknowns(m *pamTrustResourceModel) {
	for _, b := range []*types.Bool{&m.Verified, &m.ForestTransitive, &m.SIDHistoryEnabled, &m.Quarantined, &m.PIMTrustEnabled} {
		if b.IsUnknown() {
			*b = types.BoolNull()
		}
	}
	for _, i := range []*types.Int64{&m.TrustDirection, &m.TrustType, &m.TrustAttributes, &m.CorpTrustDirection, &m.CorpTrustAttributes} {
		if i.IsUnknown() {
			*i = types.Int64Null()
		}
	}
	for _, s := range []*types.String{&m.ID, &m.FlatName, &m.PartnerSID} {
		if s.IsUnknown() {
			*s = types.StringNull()
		}
	}
}
