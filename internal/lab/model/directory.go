package model

import (
	"cmp"
	"crypto/sha1"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/bastion-pam/terraform-provider-bastion/internal/adnames"
)

// Domain is an Active Directory domain (the PRIV domain, or a CORP forest's
// root domain). Every Domain here is the root of its own single-domain forest,
// so it also carries the forest-wide facts. The LDAP simulator renders it as
// an AD-shaped tree.
type Domain struct {
	DNSName     string // priv.contoso.test
	NetBIOSName string // PRIV
	SID         string // S-1-5-21-...
	// DCs by lower-case FQDN.
	DCs map[string]*DomainController

	// GUID is the objectGUID of the domain NC head.
	GUID string
	// ForestFunctionalLevel is msDS-Behavior-Version on CN=Partitions;
	// DomainFunctionalLevel the one on the domain NC head (7 = 2016).
	ForestFunctionalLevel int
	DomainFunctionalLevel int
	// TombstoneLifetimeDays is tombstoneLifetime on CN=Directory Service;
	// 0 means unset (AD then uses 60 days).
	TombstoneLifetimeDays int
	// DeletedObjectLifetimeDays is msDS-deletedObjectLifetime; 0 means unset.
	DeletedObjectLifetimeDays int
	// FSMO maps a role (SchemaMaster, ...) to the lower-case FQDN of its
	// holder. A holder that is no longer a DC renders as a deleted DSA.
	FSMO map[string]string
	// Trusts are the trustedDomain objects under CN=System, by lower-case
	// partner DNS name.
	Trusts map[string]*Trust
	// OptionalFeatures enabled in the forest (msDS-EnabledFeature on
	// CN=Partitions), by feature name.
	OptionalFeatures map[string]bool
	// DNSPartitions is true when DomainDnsZones and ForestDnsZones exist.
	DNSPartitions bool
	// DNSZones are the AD-integrated zones in DomainDnsZones, by lower-case
	// zone name (the seed adds the domain's own zone).
	DNSZones map[string]*DNSZone
	// Sites declared in the forest beyond those the DCs sit in.
	Sites []string
	// Groups are global security groups under CN=Users beyond the
	// well-known ones, by name, each with its members' sAMAccountNames (a
	// member with no account of that name is a user the directory holds
	// without lab credentials).
	Groups map[string][]string
	// ManagedServiceAccounts are the group managed service accounts'
	// sAMAccountNames (ending in $) by their lower-case form.
	ManagedServiceAccounts map[string]string

	// Departed are DCs demoted a moment ago: gone on the DC that removed
	// their objects (RemovedOn, kept in WrittenOn), still listed on the
	// others until replication reaches them (VisibleAt).
	Departed map[string]*DomainController

	usn           int64
	backupVersion map[string]int
	dirSeeded     bool
}

// DomainController is one DC of a domain.
type DomainController struct {
	Host          string // lower-case FQDN
	Site          string
	GlobalCatalog bool

	// ReadOnly marks an RODC (NTDS Settings of class nTDSDSARO).
	ReadOnly bool
	// Options is the nTDSDSA options value. Bit 0x1 always mirrors
	// GlobalCatalog: read and write it through NTDSOptions/SetNTDSOptions.
	Options uint32
	// InvocationID is the DSA's invocationId; NTDSGUID the objectGUID of its
	// NTDS Settings object; ComputerGUID the computer object's.
	InvocationID string
	NTDSGUID     string
	ComputerGUID string
	// Addresses are the DC's IPv4 addresses: the seed registers an A record
	// for each in the domain's zone, as a DC's DNS client does.
	Addresses []string
	// DSRMPassword is the DC's Directory Services Restore Mode administrator
	// password: -SafeModeAdministratorPassword at promotion, then what
	// ntdsutil "set dsrm password" last set ("" when the seed made the DC).
	DSRMPassword string
	// FunctionalLevel is msDS-Behavior-Version on nTDSDSA; 0 is filled with
	// the domain's level.
	FunctionalLevel int
	// Backups is when this DC was last backed up, per naming context kind
	// (NCDomain, ...). A backup writes dSASignature on each NC head as an
	// originating change of this DC, which replicates to every DC.
	Backups map[string]time.Time

	// WrittenOn is the DC a promotion wrote this DC's objects to first (its
	// replication source); the other DCs see them from VisibleAt on, after
	// replication ([MS-DRSR] 4.1.1.2.3 CreateNtdsDsa). Zero: everywhere.
	WrittenOn string
	VisibleAt time.Time
}

// Trust is one trustedDomain object (MS-ADTS 6.1.6.7).
type Trust struct {
	Partner    string // trustPartner: the partner's DNS name
	FlatName   string // the partner's NetBIOS name
	Direction  int
	Type       int
	Attributes uint32
	SID        string // securityIdentifier: the partner domain's SID
}

// DCOptions describes a DC being promoted (Install-ADDSDomainController).
type DCOptions struct {
	Site          string
	GlobalCatalog bool
	ReadOnly      bool
}

// DomainAdminsGroup is the well-known group Domain Admins (RID 512), whose
// members may promote and demote the domain's DCs.
const DomainAdminsGroup = "Domain Admins"

// IsDomainAdmin reports whether the domain account sam (its sAMAccountName)
// is a member of Domain Admins: the built-in Administrator, or a member the
// model lists in Groups[DomainAdminsGroup].
func (d *Domain) IsDomainAdmin(sam string) bool {
	if strings.EqualFold(sam, "Administrator") {
		return true
	}
	for _, m := range d.Groups[DomainAdminsGroup] {
		if strings.EqualFold(m, sam) {
			return true
		}
	}
	return false
}

// IsDC reports whether host is a DC of d. Callers hold the lock.
func (d *Domain) IsDC(host string) bool {
	if d == nil {
		return false
	}
	_, ok := d.DCs[Key(host)]
	return ok
}

// DC returns the DC with the given FQDN, or nil. Callers hold the lock.
func (d *Domain) DC(host string) *DomainController {
	if d == nil {
		return nil
	}
	return d.DCs[Key(host)]
}

// VisibleDCs returns the DCs as the DC self shows them at now, ordered by
// host name: a DC promoted on another DC appears after the replication
// delay, a DC demoted through another DC disappears after it. Callers hold
// the lock.
func (d *Domain) VisibleDCs(self string, now time.Time) []*DomainController {
	self = Key(self)
	seen := func(dc *DomainController) bool {
		return dc.WrittenOn == "" || dc.Host == self || dc.WrittenOn == self || !now.Before(dc.VisibleAt)
	}
	out := make([]*DomainController, 0, len(d.DCs)+len(d.Departed))
	for _, dc := range d.DCs {
		if seen(dc) {
			out = append(out, dc)
		}
	}
	for k, dc := range d.Departed {
		switch {
		case !now.Before(dc.VisibleAt):
			delete(d.Departed, k)
		case dc.WrittenOn != self && d.DCs[k] == nil:
			out = append(out, dc)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Host < out[j].Host })
	return out
}

// SortedDCs returns the DCs ordered by host name. Callers hold the lock.
func (d *Domain) SortedDCs() []*DomainController {
	return slices.SortedFunc(maps.Values(d.DCs), func(a, b *DomainController) int { return cmp.Compare(a.Host, b.Host) })
}

// FSMOHolder returns the FQDN of a role's holder ("" when unset). Callers hold the lock.
func (d *Domain) FSMOHolder(role string) string { return d.FSMO[role] }

// NamingContexts lists the NC kinds the domain's DCs hold.
func (d *Domain) NamingContexts() []string {
	ncs := []string{adnames.NCDomain, adnames.NCConfiguration, adnames.NCSchema}
	if d.DNSPartitions {
		ncs = append(ncs, adnames.NCDomainDNSZones, adnames.NCForestDNSZones)
	}
	return ncs
}

// AllSites returns the declared sites and every DC's site, sorted. Callers hold the lock.
func (d *Domain) AllSites() []string {
	seen := map[string]bool{}
	var out []string
	add := func(s string) {
		if s != "" && !seen[strings.ToLower(s)] {
			seen[strings.ToLower(s)] = true
			out = append(out, s)
		}
	}
	for _, s := range d.Sites {
		add(s)
	}
	for _, dc := range d.SortedDCs() {
		add(dc.Site)
	}
	sort.Strings(out)
	return out
}

// NextUSN returns a fresh update sequence number. Callers hold the lock.
func (d *Domain) NextUSN() int64 {
	if d.usn < 12000 {
		d.usn = 12000
	}
	d.usn++
	return d.usn
}

// HighestUSN is the last USN handed out. Callers hold the lock.
func (d *Domain) HighestUSN() int64 {
	if d.usn < 12000 {
		return 12000
	}
	return d.usn
}

// LastBackup is the replicated dSASignature stamp of one naming context: the
// most recent backup of any DC. ok is false when no DC was ever backed up.
// Callers hold the lock.
func (d *Domain) LastBackup(nc string) (host string, at time.Time, version int, ok bool) {
	for _, dc := range d.SortedDCs() {
		t, has := dc.Backups[nc]
		if !has || t.IsZero() {
			continue
		}
		if !ok || t.After(at) {
			host, at, ok = dc.Host, t, true
		}
	}
	if !ok {
		return "", time.Time{}, 0, false
	}
	version = d.backupVersion[nc]
	if version < 1 {
		version = 1
	}
	return host, at, version, true
}

// ShortName is the DC's computer name in upper case (PRIV-DC1).
func (dc *DomainController) ShortName() string {
	return strings.ToUpper(strings.SplitN(dc.Host, ".", 2)[0])
}

// NTDSOptions returns the nTDSDSA options value, bit 0x1 from GlobalCatalog.
func (dc *DomainController) NTDSOptions() uint32 {
	v := dc.Options &^ adnames.NTDSOptIsGC
	if dc.GlobalCatalog {
		v |= adnames.NTDSOptIsGC
	}
	return v
}

// SetNTDSOptions stores a new options value and keeps GlobalCatalog in step.
func (dc *DomainController) SetNTDSOptions(v uint32) {
	dc.Options = v
	dc.GlobalCatalog = v&adnames.NTDSOptIsGC != 0
}

// Directories returns the PRIV domain and every other forest, PRIV first.
// Callers hold the lock.
func (e *Env) Directories() []*Domain {
	var out []*Domain
	if e.Domain != nil {
		out = append(out, e.Domain)
	}
	names := slices.Sorted(maps.Keys(e.Forests))
	for _, k := range names {
		if d := e.Forests[k]; d != nil && d != e.Domain {
			out = append(out, d)
		}
	}
	return out
}

// DirectoryByName finds a domain by DNS or NetBIOS name. Callers hold the lock.
func (e *Env) DirectoryByName(name string) *Domain {
	for _, d := range e.Directories() {
		if strings.EqualFold(d.DNSName, Key(name)) || strings.EqualFold(d.NetBIOSName, name) {
			return d
		}
	}
	return nil
}

// domainNamed is DirectoryByName for a domain the caller needs: an error
// names the one that is not in the model. Callers hold the lock.
func (e *Env) domainNamed(name string) (*Domain, error) {
	if d := e.DirectoryByName(name); d != nil {
		return d, nil
	}
	return nil, fmt.Errorf("model: no domain %s", name)
}

// DirectoryOf returns the domain a DC belongs to and the DC itself, or nils.
// Callers hold the lock.
func (e *Env) DirectoryOf(host string) (*Domain, *DomainController) {
	for _, d := range e.Directories() {
		if dc := d.DC(host); dc != nil {
			return d, dc
		}
	}
	return nil, nil
}

// NormalizeDirectory fills in the identity of DCs added without it (a DC
// promoted by another simulator): invocation ID, GUIDs, site, functional
// level. It never changes a value already set.
func (e *Env) NormalizeDirectory() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.normalizeDirectory()
}

func (e *Env) normalizeDirectory() {
	for _, d := range e.Directories() {
		d.normalize()
	}
}

func (d *Domain) normalize() {
	if d.DCs == nil {
		d.DCs = map[string]*DomainController{}
	}
	if d.FSMO == nil {
		d.FSMO = map[string]string{}
	}
	if d.Trusts == nil {
		d.Trusts = map[string]*Trust{}
	}
	if d.OptionalFeatures == nil {
		d.OptionalFeatures = map[string]bool{}
	}
	if d.backupVersion == nil {
		d.backupVersion = map[string]int{}
	}
	if d.GUID == "" {
		d.GUID = LabGUID("domain", d.DNSName)
	}
	for k, dc := range d.DCs {
		if dc.Host == "" {
			dc.Host = k
		}
		if dc.Site == "" {
			dc.Site = DefaultSite
		}
		if dc.InvocationID == "" {
			dc.InvocationID = LabGUID("invocationId", dc.Host)
		}
		if dc.NTDSGUID == "" {
			dc.NTDSGUID = LabGUID("ntds", dc.Host)
		}
		if dc.ComputerGUID == "" {
			dc.ComputerGUID = LabGUID("computer", dc.Host)
		}
		if dc.FunctionalLevel == 0 {
			dc.FunctionalLevel = d.DomainFunctionalLevel
		}
		if dc.Backups == nil {
			dc.Backups = map[string]time.Time{}
		}
	}
}

// PromoteDC makes host a DC of the domain named domainDNS, as
// Install-ADDSDomainController does once the server has rebooted.
func (e *Env) PromoteDC(domainDNS, host string, o DCOptions) (*DomainController, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.PromoteDCLocked(domainDNS, host, o)
}

// DemoteDC removes host from its domain's DCs (Uninstall-ADDSDomainController).
// It refuses while the DC holds FSMO roles, as Windows does without
// -DemoteOperationMasterRole.
func (e *Env) DemoteDC(host string) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.DemoteDCLocked(host)
}

// TransferFSMO moves a role to host within its domain (no checks beyond
// membership: the LDAP simulator enforces the protocol's rules).
func (e *Env) TransferFSMO(role, host string) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	d, dc := e.DirectoryOf(host)
	if dc == nil {
		return fmt.Errorf("model: %s is not a domain controller", Key(host))
	}
	if !validRole(role) {
		return fmt.Errorf("model: unknown FSMO role %q", role)
	}
	d.FSMO[role] = dc.Host
	e.Record(dc.Host, "fsmo", role+" now held by "+dc.Host)
	return nil
}

func validRole(role string) bool {
	for _, r := range adnames.FSMORoles() {
		if r == role {
			return true
		}
	}
	return false
}

// RecordBackup records a backup of host taken at time at, for the given
// naming contexts (all the DC holds when none are given). It bumps the
// replicated dSASignature version of each.
func (e *Env) RecordBackup(host string, at time.Time, ncs ...string) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	d, dc := e.DirectoryOf(host)
	if dc == nil {
		return fmt.Errorf("model: %s is not a domain controller", Key(host))
	}
	d.normalize()
	if len(ncs) == 0 {
		ncs = d.NamingContexts()
	}
	for _, nc := range ncs {
		dc.Backups[nc] = at.UTC().Truncate(time.Second)
		d.backupVersion[nc]++
	}
	e.Record(dc.Host, "backup", strings.Join(ncs, ","))
	return nil
}

// ClearBackups forgets every backup of host (a DC never backed up).
func (e *Env) ClearBackups(host string) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	_, dc := e.DirectoryOf(host)
	if dc == nil {
		return fmt.Errorf("model: %s is not a domain controller", Key(host))
	}
	dc.Backups = map[string]time.Time{}
	return nil
}

// CreateTrust creates the trustedDomain object for partner in the domain
// named local and, when the partner forest is in the model, the mirror object
// on its side (direction reversed), as New-PAMTrust / netdom do over LSA RPC.
func (e *Env) CreateTrust(local, partner string, direction int, attrs uint32) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	l, err := e.domainNamed(local)
	if err != nil {
		return err
	}
	p := e.DirectoryByName(partner)
	if p == nil {
		return fmt.Errorf("model: no forest %q", partner)
	}
	l.normalize()
	p.normalize()
	l.Trusts[Key(p.DNSName)] = &Trust{Partner: p.DNSName, FlatName: p.NetBIOSName, Direction: direction, Type: adnames.TrustTypeUplevel, Attributes: attrs, SID: p.SID}
	mirror := direction
	switch direction {
	case adnames.TrustDirectionInbound:
		mirror = adnames.TrustDirectionOutbound
	case adnames.TrustDirectionOutbound:
		mirror = adnames.TrustDirectionInbound
	}
	p.Trusts[Key(l.DNSName)] = &Trust{Partner: l.DNSName, FlatName: l.NetBIOSName, Direction: mirror, Type: adnames.TrustTypeUplevel, Attributes: attrs &^ adnames.TrustAttrPIMTrust, SID: l.SID}
	e.Record(l.DNSName, "trust-created", fmt.Sprintf("%s direction %d attributes 0x%x", p.DNSName, direction, attrs))
	return nil
}

// RemoveTrust deletes the trust objects on both sides.
func (e *Env) RemoveTrust(local, partner string) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	l, err := e.domainNamed(local)
	if err != nil {
		return err
	}
	if _, ok := l.Trusts[Key(partner)]; !ok {
		return fmt.Errorf("model: %s has no trust with %s", l.DNSName, partner)
	}
	delete(l.Trusts, Key(partner))
	if p := e.DirectoryByName(partner); p != nil {
		delete(p.Trusts, Key(l.DNSName))
	}
	return nil
}

// LabGUID derives a stable GUID from a kind and a name, so a seeded lab is
// the same from run to run.
func LabGUID(kind, name string) string {
	h := sha1.Sum([]byte("bastion-lab/" + kind + "/" + Key(name)))
	h[6] = (h[6] & 0x0f) | 0x50 // version 5 (name-based)
	h[8] = (h[8] & 0x3f) | 0x80 // RFC 4122 variant
	return fmt.Sprintf("%x-%x-%x-%x-%x", h[0:4], h[4:6], h[6:8], h[8:10], h[10:16])
}
