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
// and the LSA calls on trusted domain objects (lsa.go) need and change,
// beside the directory the rest of the model holds. Every function here expects the caller to hold the model's lock
// (inside Do, or in a WinRM handler).

// MIMPAMModulePath is the MIMPAM module the PAM components install on a
// PRIV host (domain-facts section 2).
const MIMPAMModulePath = MIMServiceDir + `\PAM\PowerShell\Modules\MIMPAM\MIMPAM.psd1`

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
// SID history, quarantine and the PIM bit are set afterwards through LSA
// (lsa.go), as MIMDocs sets them with netdom.
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
