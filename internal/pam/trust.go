package pam

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"

	"github.com/bastion-pam/terraform-provider-bastion/internal/adnames"
	"github.com/bastion-pam/terraform-provider-bastion/internal/directory"
	"github.com/bastion-pam/terraform-provider-bastion/internal/transport"
	"github.com/bastion-pam/terraform-provider-bastion/internal/winrmexec"
)

// SettingBits are the CORP side's trustAttributes bits the PAM trust's
// settings are (MIMDocs sets them with netdom; pam_trust_settings through
// the same LSA calls): SID history (TREAT_AS_EXTERNAL), quarantine and the
// PIM trust.
const SettingBits = adnames.TrustAttrTreatAsExternal | adnames.TrustAttrQuarantinedDomain | adnames.TrustAttrPIMTrust

// Trust names a PAM trust with a CORP forest and the credential to reach it.
type Trust struct {
	SourceForest  string
	Corp          Credential
	Bidirectional bool
}

// Settings are the PAM settings of the CORP side (netdom's /EnableSIDHistory,
// /Quarantine and /EnablePIMTrust).
type Settings struct {
	SIDHistory, Quarantine, PIMTrust bool
}

// Bits is the trustAttributes value the settings ask for (SettingBits only).
func (s Settings) Bits() uint32 {
	var bits uint32
	if s.SIDHistory {
		bits |= adnames.TrustAttrTreatAsExternal
	}
	if s.Quarantine {
		bits |= adnames.TrustAttrQuarantinedDomain
	}
	if s.PIMTrust {
		bits |= adnames.TrustAttrPIMTrust
	}
	return bits
}

// DescribeBits says which of SettingBits a trustAttributes value has.
func DescribeBits(bits uint32) string {
	on := func(bit uint32) string {
		if bits&bit != 0 {
			return "on"
		}
		return "off"
	}
	return fmt.Sprintf("SID history (TREAT_AS_EXTERNAL) %s, quarantine %s, PIM trust %s",
		on(adnames.TrustAttrTreatAsExternal), on(adnames.TrustAttrQuarantinedDomain), on(adnames.TrustAttrPIMTrust))
}

// trustInput is what pam_trust_create, pam_trust_settings and
// pam_trust_remove read from stdin.
type trustInput struct {
	SourceForest  string `json:"source_forest"`
	CorpUsername  string `json:"corp_username"`
	CorpPassword  string `json:"corp_password"`
	Bidirectional *bool  `json:"bidirectional,omitempty"`
	Apply         *bool  `json:"apply,omitempty"`
	SIDHistory    *bool  `json:"sid_history,omitempty"`
	Quarantine    *bool  `json:"quarantine,omitempty"`
	PIMTrust      *bool  `json:"pim_trust,omitempty"`
	Verify        *bool  `json:"verify,omitempty"`
}

func (t Trust) input() trustInput {
	return trustInput{SourceForest: strings.TrimSuffix(t.SourceForest, "."), CorpUsername: t.Corp.Username, CorpPassword: t.Corp.Password, Bidirectional: &t.Bidirectional}
}

// CreateTrust runs New-PAMTrust on host. repairedHalf is true when a half
// trust left behind was removed first.
func CreateTrust(ctx context.Context, x Executor, host string, t Trust) (repairedHalf bool, err error) {
	var out struct {
		Repaired bool `json:"repaired_half_trust"`
	}
	err = run(ctx, x, host, "pam_trust_create", t.input(), &out, winrmexec.AsAccount())
	return out.Repaired, err
}

// SettingsReply is what pam_trust_settings found (and changed) on the CORP side.
type SettingsReply struct {
	PrivForest          string
	CorpSidePresent     bool
	CorpTrustDirection  int
	CorpTrustAttributes uint32
	// SettingsChanged are the settings the run changed, in netdom's words
	// ("/EnableSIDHistory:yes"); empty when nothing differed or without apply.
	SettingsChanged []string
	// Verified is Test-PAMTrust's answer; nil when it did not run.
	Verified *bool
}

// Has reports whether the CORP side has a trustAttributes bit.
func (r SettingsReply) Has(bit uint32) bool { return r.CorpTrustAttributes&bit != 0 }

type settingsReply struct {
	PrivForest          string   `json:"priv_forest"`
	CorpSidePresent     bool     `json:"corp_side_present"`
	CorpTrustDirection  int64    `json:"corp_trust_direction"`
	CorpTrustAttributes int64    `json:"corp_trust_attributes"`
	SettingsChanged     []string `json:"settings_changed"`
	Verified            *bool    `json:"verified"`
}

// ApplySettings runs pam_trust_settings on host: it reads the CORP side and,
// with apply, sets every wanted setting that differs with one LSA call on
// the CORP forest root's PDC under the CORP credential; with verify,
// Test-PAMTrust. Without apply it changes nothing and may be retried.
func ApplySettings(ctx context.Context, x Executor, host string, t Trust, want Settings, apply, verify bool) (*SettingsReply, error) {
	in := t.input()
	in.Apply, in.SIDHistory, in.Quarantine, in.PIMTrust, in.Verify = &apply, &want.SIDHistory, &want.Quarantine, &want.PIMTrust, &verify
	var opts []winrmexec.RunOption
	if !apply {
		opts = append(opts, winrmexec.Idempotent())
	}
	var out settingsReply
	if err := run(ctx, x, host, "pam_trust_settings", in, &out, append(opts, winrmexec.AsAccount())...); err != nil {
		return nil, err
	}
	return &SettingsReply{
		PrivForest: out.PrivForest, CorpSidePresent: out.CorpSidePresent,
		CorpTrustDirection: int(out.CorpTrustDirection), CorpTrustAttributes: bits32(out.CorpTrustAttributes),
		SettingsChanged: out.SettingsChanged, Verified: out.Verified,
	}, nil
}

// RemoveResult is what Remove-PAMTrust removed.
type RemoveResult struct {
	Removed         bool
	CorpSideRemoved bool
}

// RemoveTrust runs Remove-PAMTrust on host. Without a CORP password only
// PRIV's side goes.
func RemoveTrust(ctx context.Context, x Executor, host string, t Trust) (RemoveResult, error) {
	in := t.input()
	in.Bidirectional = nil
	var out struct {
		Removed         bool `json:"removed"`
		CorpSideRemoved bool `json:"corp_side_removed"`
	}
	err := run(ctx, x, host, "pam_trust_remove", in, &out, winrmexec.AsAccount())
	return RemoveResult(out), err
}

// bits32 reads a trustAttributes value (32 bits) a script returned as a number.
func bits32(v int64) uint32 {
	if v < 0 || v > math.MaxUint32 {
		return 0
	}
	return uint32(v)
}

// ReadCorpSide reads the CORP side of the trust (the source forest's
// trustedDomain object for the PRIV forest, which holds the settings' bits)
// over LDAP from the source forest's DCs, with the CORP credential and the
// provider's LDAP transport settings; nil when the object is absent. A
// refused credential comes back as ErrCorpCredentialRefused.
// Cost: 2 LDAP operations on a CORP DC (bind, search) on a short-lived
// connection.
func ReadCorpSide(ctx context.Context, base directory.Config, privForest string, t Trust) (*directory.Trust, error) {
	forest := strings.TrimSuffix(t.SourceForest, ".")
	client, err := directory.NewOtherDomain(base, forest, t.Corp.Username, t.Corp.Password)
	if err != nil {
		return nil, err
	}
	defer func() { _ = client.Close() }()
	got, err := client.Trust(ctx, privForest)
	switch {
	case errors.Is(err, transport.ErrNotFound):
		return nil, nil
	case errors.Is(err, transport.ErrUnauthorized):
		return nil, fmt.Errorf("%w over LDAP: %w", ErrCorpCredentialRefused, err)
	case err != nil:
		return nil, err
	}
	return &got, nil
}
