package model

import (
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"weak"

	"github.com/bastion-pam/terraform-provider-bastion/internal/adnames"
)

// What the MIMPAM cmdlets (New-PAMTrust, New-PAMDomainConfiguration, ...)
// and netdom need and change, beside the directory the rest of the model
// holds. Every function here expects the caller to hold the model's lock
// (inside Do, or in a WinRM handler).

// Paths on a PRIV host.
const (
	// MIMPAMModulePath is the MIMPAM module the PAM components install
	// (domain-facts section 2).
	MIMPAMModulePath = MIMServiceDir + `\PAM\PowerShell\Modules\MIMPAM\MIMPAM.psd1`
	// NetdomPath is netdom.exe, present on domain controllers and on servers
	// with the AD DS tools (Install-WindowsFeature RSAT-ADDS-Tools).
	NetdomPath = `C:\Windows\System32\netdom.exe`
)

// CorpFacts are the facts of a source (CORP) domain that PAM depends on and
// that the model's Domain does not carry: the groups New-PAMDomainConfiguration
// needs, whether auditing is on, and whether the domain holds PAM's
// configuration data.
type CorpFacts struct {
	// Groups present in the domain, by lower-case name. Only the ones PAM
	// looks at are modelled (the domain local group <NETBIOS>$$$).
	Groups map[string]bool
	// Auditing is success and failure auditing of account management and
	// directory service access (MIMDocs, "Prepare the CORP domain").
	Auditing bool
	// Configured is the configuration data New-PAMDomainConfiguration adds
	// to the domain (and Remove-PAMDomainConfiguration removes).
	Configured bool
}

// The facts live in a table beside each Env, keyed weakly so a finished
// lab's facts go with it.
var corpFacts = struct {
	sync.Mutex
	m map[weak.Pointer[Env]]map[string]*CorpFacts
}{m: map[weak.Pointer[Env]]map[string]*CorpFacts{}}

// CorpFacts returns the PAM facts of domain d (not the PRIV domain). A
// source forest starts as MIMDocs' "Prepare the CORP domain" leaves it: the
// group <NETBIOS>$$$ exists and auditing is on; it holds no PAM configuration.
func (e *Env) CorpFacts(d *Domain) *CorpFacts {
	key := weak.Make(e)
	corpFacts.Lock()
	defer corpFacts.Unlock()
	byDomain, ok := corpFacts.m[key]
	if !ok {
		byDomain = map[string]*CorpFacts{}
		corpFacts.m[key] = byDomain
		runtime.AddCleanup(e, func(k weak.Pointer[Env]) {
			corpFacts.Lock()
			delete(corpFacts.m, k)
			corpFacts.Unlock()
		}, key)
	}
	f, ok := byDomain[Key(d.DNSName)]
	if !ok {
		f = &CorpFacts{Groups: map[string]bool{strings.ToLower(SIDHistoryGroup(d)): true}, Auditing: true}
		byDomain[Key(d.DNSName)] = f
	}
	return f
}

// SIDHistoryGroup is the domain local group SID-history migration and
// New-PAMDomainConfiguration need in the source domain: <NETBIOS>$$$.
func SIDHistoryGroup(d *Domain) string { return strings.ToUpper(d.NetBIOSName) + "$$$" }

// HasMIMPAM reports whether the MIMPAM module is on h: the PAM components of
// the MIM Service install it (the lab does not write the module file, so
// the PAM services stand for it), or a test put the file there.
func HasMIMPAM(h *Host) bool {
	if _, ok := h.ReadFile(MIMPAMModulePath); ok {
		return true
	}
	return h.Service(PamMonitoring) != nil
}

// SecondaryLogonService is the Secondary Logon service (seclogon) that
// CreateProcessWithLogonW goes through: Manual start by default, started on
// demand; hardened hosts may disable it, and then the call fails.
const SecondaryLogonService = "seclogon"

// HasNetdom reports whether netdom.exe is on h: every DC has it, other
// servers only with the AD DS tools.
func (e *Env) HasNetdom(h *Host) bool {
	if _, ok := h.ReadFile(NetdomPath); ok {
		return true
	}
	d, _ := e.DirectoryOf(h.FQDN)
	return d != nil
}

// InstallADDSTools puts netdom.exe on h (Install-WindowsFeature RSAT-ADDS-Tools).
func InstallADDSTools(h *Host) { h.WriteFile(NetdomPath, []byte("MZ simulated netdom.exe")) }

// ErrLogonFailure is a credential the source domain refuses.
var ErrLogonFailure = errors.New("model: the user name or password is incorrect")

// CheckDomainCredential checks DOMAIN\name and password against domain d.
func (e *Env) CheckDomainCredential(d *Domain, username, password string) error {
	domain, _, ok := strings.Cut(username, `\`)
	if !ok || !strings.EqualFold(domain, d.NetBIOSName) {
		return ErrLogonFailure
	}
	want, ok := e.Credentials[strings.ToLower(username)]
	if !ok || want != password {
		return ErrLogonFailure
	}
	return nil
}

// PAMTrustSides returns the PRIV domain's trustedDomain object for corp and
// corp's for PRIV (nil when absent).
func (e *Env) PAMTrustSides(corp *Domain) (privSide, corpSide *Trust) {
	if e.Domain == nil || corp == nil {
		return nil, nil
	}
	e.Domain.normalize()
	corp.normalize()
	return e.Domain.Trusts[Key(corp.DNSName)], corp.Trusts[Key(e.Domain.DNSName)]
}

// ErrTrustExists is a trust that is already there on either side.
var ErrTrustExists = errors.New("model: the trust relationship already exists")

// NewPAMTrust creates a forest trust in which corp trusts the PRIV domain
// (and, when bidirectional, PRIV trusts corp), both sides at once as
// New-PAMTrust does over LSA: PRIV's object is inbound (3 when
// bidirectional), corp's outbound (3), both uplevel and FOREST_TRANSITIVE.
// SID history, quarantine and the PIM bit are left to netdom.
func (e *Env) NewPAMTrust(corp *Domain, bidirectional bool) error {
	if e.Domain == nil {
		return fmt.Errorf("model: no PRIV domain")
	}
	privSide, corpSide := e.PAMTrustSides(corp)
	if privSide != nil || corpSide != nil {
		return ErrTrustExists
	}
	privDir, corpDir := adnames.TrustDirectionInbound, adnames.TrustDirectionOutbound
	if bidirectional {
		privDir, corpDir = adnames.TrustDirectionBidirectional, adnames.TrustDirectionBidirectional
	}
	p := e.Domain
	p.Trusts[Key(corp.DNSName)] = &Trust{Partner: corp.DNSName, FlatName: corp.NetBIOSName, Direction: privDir, Type: adnames.TrustTypeUplevel, Attributes: adnames.TrustAttrForestTransitive, SID: corp.SID}
	corp.Trusts[Key(p.DNSName)] = &Trust{Partner: p.DNSName, FlatName: p.NetBIOSName, Direction: corpDir, Type: adnames.TrustTypeUplevel, Attributes: adnames.TrustAttrForestTransitive, SID: p.SID}
	p.NextUSN()
	corp.NextUSN()
	e.Record(p.DNSName, "pam-trust-created", fmt.Sprintf("%s bidirectional=%t", corp.DNSName, bidirectional))
	return nil
}

// RemovePAMTrust deletes whichever sides of the trust with corp exist, as
// Remove-PAMTrust does; it reports whether there was anything to delete.
func (e *Env) RemovePAMTrust(corp *Domain) bool {
	privSide, corpSide := e.PAMTrustSides(corp)
	if privSide == nil && corpSide == nil {
		return false
	}
	delete(e.Domain.Trusts, Key(corp.DNSName))
	delete(corp.Trusts, Key(e.Domain.DNSName))
	e.Record(e.Domain.DNSName, "pam-trust-removed", corp.DNSName)
	return true
}

// Netdom trust options the PAM trust needs, and the trustAttributes bit each
// one sets on the trusting domain's object (MS-ADTS 6.1.6.7.9):
// /EnableSIDHistory relaxes a forest trust's SID filtering to an external
// trust's (TREAT_AS_EXTERNAL), /Quarantine filters every SID but the trusted
// domain's (QUARANTINED_DOMAIN), /EnablePIMTrust marks the PIM trust.
const (
	NetdomEnableSIDHistory = "EnableSIDHistory"
	NetdomQuarantine       = "Quarantine"
	NetdomEnablePIMTrust   = "EnablePIMTrust"
)

// NetdomBit returns the trustAttributes bit a netdom option sets.
func NetdomBit(option string) (uint32, bool) {
	switch strings.ToLower(option) {
	case strings.ToLower(NetdomEnableSIDHistory):
		return adnames.TrustAttrTreatAsExternal, true
	case strings.ToLower(NetdomQuarantine):
		return adnames.TrustAttrQuarantinedDomain, true
	case strings.ToLower(NetdomEnablePIMTrust):
		return adnames.TrustAttrPIMTrust, true
	}
	return 0, false
}

// NetdomError is netdom's failure: its message and exit code.
type NetdomError struct {
	Message  string
	ExitCode int
}

func (e *NetdomError) Error() string { return e.Message }

// NetdomTrust does `netdom trust <trusting> /domain:<trusted> /<option>:yes|no`:
// it sets or clears the option's bit on the trusting domain's object for the
// trusted domain, with netdom's rules: the object must exist, SID history
// is valid only on the outbound side of a forest trust, and the PIM trust
// needs a forest-transitive trust.
func (e *Env) NetdomTrust(trusting, trusted *Domain, option string, on bool) error {
	bit, ok := NetdomBit(option)
	if !ok {
		return &NetdomError{Message: "The syntax of this command is:\r\nNETDOM TRUST trusting_domain_name /Domain:trusted_domain_name [/UserD:user] ...", ExitCode: 87}
	}
	trusting.normalize()
	t := trusting.Trusts[Key(trusted.DNSName)]
	if t == nil {
		return &NetdomError{Message: fmt.Sprintf("The trust between %s and %s could not be found.\r\n\r\nThe command failed to complete successfully.", trusting.DNSName, trusted.DNSName), ExitCode: 1}
	}
	forest := t.Attributes&adnames.TrustAttrForestTransitive != 0
	switch bit {
	case adnames.TrustAttrTreatAsExternal:
		if !forest || t.Direction&adnames.TrustDirectionOutbound == 0 {
			return &NetdomError{Message: "This operation is only valid on the outbound side of a forest trust.\r\n\r\nThe command failed to complete successfully.", ExitCode: 1}
		}
	case adnames.TrustAttrPIMTrust:
		if !forest {
			return &NetdomError{Message: "The trust must be marked forest transitive before the PIM trust can be enabled.\r\n\r\nThe command failed to complete successfully.", ExitCode: 1}
		}
	}
	if on {
		t.Attributes |= bit
	} else {
		t.Attributes &^= bit
	}
	trusting.NextUSN()
	e.Record(trusting.DNSName, "netdom-trust", fmt.Sprintf("%s /domain:%s /%s:%s", trusting.DNSName, trusted.DNSName, option, yesNo(on)))
	return nil
}

func yesNo(on bool) string {
	if on {
		return "yes"
	}
	return "no"
}
