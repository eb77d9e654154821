package model

import (
	"fmt"
	"strings"

	"github.com/bastion-pam/terraform-provider-bastion/internal/adnames"
)

// The LSA calls on a trusted domain object (TDO), as a client makes them
// against one DC: LsaOpenPolicy, LsaQueryTrustedDomainInfoByName and
// LsaSetTrustedDomainInfoByName with TrustedDomainInformationEx (MS-LSAD
// 3.1.4.7: LsarQueryTrustedDomainInfoByName, LsarSetTrustedDomainInfoByName).
// TDOs change only this way, never over LDAP (MS-ADTS 6.1.6.9.7). netdom's
// /EnableSIDHistory, /Quarantine and /EnablePIMTrust are these calls; the
// pam_trust_settings script makes them itself. Every function here expects
// the caller to hold the model's lock.

// TrustSetting is one setting of the trusting side of a PAM trust: the
// netdom option MIMDocs ("Deploy MIM PAM", step 5) sets it with and its
// trustAttributes bit (MS-ADTS 6.1.6.7.9).
type TrustSetting struct {
	Option string
	Bit    uint32
}

// PAMTrustSettings are the CORP side's settings in the order MIMDocs gives
// them: SID history relaxes a forest trust's SID filtering to an external
// trust's (TREAT_AS_EXTERNAL), quarantine filters every SID but the trusted
// domain's (QUARANTINED_DOMAIN), and the PIM trust marks the PAM trust.
var PAMTrustSettings = []TrustSetting{
	{OptionEnableSIDHistory, adnames.TrustAttrTreatAsExternal},
	{OptionQuarantine, adnames.TrustAttrQuarantinedDomain},
	{OptionEnablePIMTrust, adnames.TrustAttrPIMTrust},
}

// The netdom options, as pam_trust_settings names the settings it changed
// ("/EnableSIDHistory:yes").
const (
	OptionEnableSIDHistory = "/EnableSIDHistory"
	OptionQuarantine       = "/Quarantine"
	OptionEnablePIMTrust   = "/EnablePIMTrust"
)

// NTSTATUS values the LSA calls return here, and the Win32 error each one
// becomes through LsaNtStatusToWinError, with Windows' message for it
// (Microsoft, System Error Codes 0-499 and 1300-1699).
const (
	StatusAccessDenied       uint32 = 0xC0000022 // ERROR_ACCESS_DENIED (5)
	StatusObjectNameNotFound uint32 = 0xC0000034 // ERROR_FILE_NOT_FOUND (2)
	StatusLogonFailure       uint32 = 0xC000006D // ERROR_LOGON_FAILURE (1326)
	// RPC_NT_SERVER_UNAVAILABLE: nothing answers LSA RPC at that name.
	StatusRPCServerUnavailable uint32 = 0xC0020017 // RPC_S_SERVER_UNAVAILABLE (1722)
)

var lsaWinErrors = map[uint32]struct {
	code int
	msg  string
}{
	StatusAccessDenied:         {5, "Access is denied."},
	StatusObjectNameNotFound:   {2, "The system cannot find the file specified."},
	StatusLogonFailure:         {1326, "The user name or password is incorrect."},
	StatusRPCServerUnavailable: {1722, "The RPC server is unavailable."},
}

// LSAError is an LSA call's failure: the call, its NTSTATUS, and the Win32
// error and message LsaNtStatusToWinError and FormatMessage make of it.
type LSAError struct {
	Call    string
	Status  uint32
	Code    int
	Message string
}

func (e *LSAError) Error() string { return e.Call + ": " + e.Message }

func lsaError(call string, status uint32) error {
	w := lsaWinErrors[status]
	return &LSAError{Call: call, Status: status, Code: w.code, Message: w.msg}
}

// NewCredentials is the thread token LogonUserW(LOGON32_LOGON_NEW_CREDENTIALS,
// LOGON32_PROVIDER_WINNT50) gives for user: the caller's own token on this
// host, whose outbound connections authenticate as user
// (https://learn.microsoft.com/windows/win32/api/winbase/nf-winbase-logonuserw).
// LogonUserW checks nothing for this logon type: a wrong name or password
// fails at the first network call.
func NewCredentials(user string) Identity {
	return Identity{Account: strings.ToLower(user), Kind: AccountDomain, Logon: LogonExplicit}
}

// LSAPolicy is a policy handle LsaOpenPolicy gave on Server, a DC of Domain,
// to Account.
type LSAPolicy struct {
	Domain  *Domain
	Server  string
	Account string
}

// LsaOpenPolicy opens domain d's policy on its DC server from host from, as
// the thread token who, whose explicit credential (if any) has password.
// A server that is not one of d's DCs (a PDC role still held by a DC that
// is gone) does not answer: RPC_S_SERVER_UNAVAILABLE. The connection is a
// second hop: a plain network logon reaches server as
// ANONYMOUS LOGON and gets ERROR_ACCESS_DENIED. The DC then checks the
// credential (ERROR_LOGON_FAILURE), and POLICY_TRUST_ADMIN, which the
// policy object grants to administrators only (ERROR_ACCESS_DENIED).
func (e *Env) LsaOpenPolicy(from *Host, who Identity, password string, d *Domain, server string) (*LSAPolicy, error) {
	if !d.IsDC(server) {
		return nil, lsaError("LsaOpenPolicy", StatusRPCServerUnavailable)
	}
	if err := e.Reach(from, who, Hop{Kind: HopLSA, Target: server}); err != nil {
		return nil, err
	}
	if err := e.CheckDomainCredential(d, who.Account, password); err != nil {
		return nil, lsaError("LsaOpenPolicy", StatusLogonFailure)
	}
	_, sam, _ := strings.Cut(who.Account, `\`)
	if !d.IsDomainAdmin(sam) {
		return nil, lsaError("LsaOpenPolicy", StatusAccessDenied)
	}
	return &LSAPolicy{Domain: d, Server: Key(server), Account: who.Account}, nil
}

// TrustedDomainInfoEx is TRUSTED_DOMAIN_INFORMATION_EX: what
// LsaQueryTrustedDomainInfoByName returns for TrustedDomainInformationEx.
type TrustedDomainInfoEx struct {
	Name, FlatName, SID string
	Direction, Type     int
	Attributes          uint32
}

// tdo finds the policy's TDO by DNS or NetBIOS name, as the ByName calls do.
func (p *LSAPolicy) tdo(name string) *Trust {
	p.Domain.normalize()
	if t := p.Domain.Trusts[Key(name)]; t != nil {
		return t
	}
	for _, t := range p.Domain.Trusts {
		if strings.EqualFold(t.FlatName, name) {
			return t
		}
	}
	return nil
}

// LsaQueryTrustedDomainInfoByName reads the TDO for name
// (STATUS_OBJECT_NAME_NOT_FOUND when there is none).
func (e *Env) LsaQueryTrustedDomainInfoByName(p *LSAPolicy, name string) (TrustedDomainInfoEx, error) {
	t := p.tdo(name)
	if t == nil {
		return TrustedDomainInfoEx{}, lsaError("LsaQueryTrustedDomainInfoByName", StatusObjectNameNotFound)
	}
	return TrustedDomainInfoEx{Name: t.Partner, FlatName: t.FlatName, SID: t.SID, Direction: t.Direction, Type: t.Type, Attributes: t.Attributes}, nil
}

// LsaSetTrustedDomainInfoByName writes a TrustedDomainInformationEx back to
// the TDO for name: the caller changes TrustAttributes only. The event names
// the DC the call went to, the account and the change.
func (e *Env) LsaSetTrustedDomainInfoByName(p *LSAPolicy, name string, info TrustedDomainInfoEx) error {
	t := p.tdo(name)
	if t == nil {
		return lsaError("LsaSetTrustedDomainInfoByName", StatusObjectNameNotFound)
	}
	before := t.Attributes
	t.Direction, t.Type, t.Attributes = info.Direction, info.Type, info.Attributes
	p.Domain.NextUSN()
	e.Record(p.Server, "lsa-trust-set", fmt.Sprintf("LsaSetTrustedDomainInfoByName(%s) on \\\\%s as %s: trustAttributes 0x%X -> 0x%X",
		t.Partner, p.Server, p.Account, before, info.Attributes))
	return nil
}

// TrustRuleError is a change of the trust's settings that netdom refuses
// before it calls LSA, and the pam_trust_settings script refuses the same way.
type TrustRuleError struct{ Message string }

func (e *TrustRuleError) Error() string { return e.Message }

// CheckTrustAttributeChange applies netdom's rules to changing the bits in
// changed on trusting's TDO for trusted (MS-ADTS 6.1.6.7.9):
// TREAT_AS_EXTERNAL is valid only on the outbound side of a
// forest-transitive trust, and PIM_TRUST needs FOREST_TRANSITIVE. The
// messages are the script's, word for word.
func CheckTrustAttributeChange(trusting, trusted string, info TrustedDomainInfoEx, changed uint32) error {
	forest := info.Attributes&adnames.TrustAttrForestTransitive != 0
	if changed&adnames.TrustAttrTreatAsExternal != 0 && (!forest || info.Direction&adnames.TrustDirectionOutbound == 0) {
		return &TrustRuleError{Message: fmt.Sprintf("TRUST_ATTRIBUTE_TREAT_AS_EXTERNAL (/EnableSIDHistory) is valid only on the outbound side of a forest-transitive trust "+
			"(MS-ADTS 6.1.6.7.9); the trust of %s with %s has trustDirection %d and trustAttributes 0x%X.", trusting, trusted, info.Direction, info.Attributes)}
	}
	if changed&adnames.TrustAttrPIMTrust != 0 && !forest {
		return &TrustRuleError{Message: fmt.Sprintf("TRUST_ATTRIBUTE_PIM_TRUST (/EnablePIMTrust) needs TRUST_ATTRIBUTE_FOREST_TRANSITIVE "+
			"(MS-ADTS 6.1.6.7.9); the trust of %s with %s has trustAttributes 0x%X.", trusting, trusted, info.Attributes)}
	}
	return nil
}
