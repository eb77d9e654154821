// Package directorytest holds the read assertions of the directory adapter
// as one table, so the same checks run against the lab (the Reference comes
// from the lab's model) and against real Samba AD DCs (the Reference comes
// from samba-tool and ldbsearch run on the DCs). A Case only talks to the
// directory through directory.Client and only learns the truth from the
// Reference; it never imports the lab.
package directorytest

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync/atomic"
	"time"

	"github.com/bastion-pam/terraform-provider-bastion/internal/adnames"
	"github.com/bastion-pam/terraform-provider-bastion/internal/directory"
	"github.com/bastion-pam/terraform-provider-bastion/internal/transport"
)

// Reference gives the answers the directory should return, from a source
// independent of the adapter under test.
type Reference interface {
	// Domain is the DNS name of the domain the client reads (the forest root).
	Domain() string
	// DomainControllers are the forest's DCs.
	DomainControllers(ctx context.Context) ([]DC, error)
	// NonDomainControllers are hosts known not to be DCs (may be empty).
	NonDomainControllers(ctx context.Context) ([]string, error)
	// FSMOHolders maps each role (FSMORoles()) to its holder's FQDN.
	FSMOHolders(ctx context.Context) (map[string]string, error)
	// FunctionalLevels are msDS-Behavior-Version of the forest and domain.
	FunctionalLevels(ctx context.Context) (forest, domain int, err error)
	// TombstoneLifetimeDays is the effective lifetime (60 when unset).
	TombstoneLifetimeDays(ctx context.Context) (int, error)
	// Backups are the expected dSASignature stamps per naming context;
	// nil skips the backup case.
	Backups(ctx context.Context) ([]Backup, error)
	// Trusts are the domain's trustedDomain objects.
	Trusts(ctx context.Context) ([]Trust, error)
	// EnabledOptionalFeatures are the names of the enabled optional
	// features; nil skips the check.
	EnabledOptionalFeatures(ctx context.Context) ([]string, error)
	// ComputerObject is what the directory holds of a DC's computer object.
	ComputerObject(ctx context.Context, host string) (Object, error)
	// GroupMembers are the member DNs of the domain's group with that
	// sAMAccountName.
	GroupMembers(ctx context.Context, name string) ([]string, error)
	// RootDSELists are values the DC's rootDSE must list in
	// supportedExtension and supportedLDAPPolicies.
	RootDSELists(ctx context.Context) (extensions, policies []string, err error)
}

// Object is what every AD object carries, as the Reference knows it.
type Object struct {
	GUID string
	// SID is the full objectSid; "" checks only that it is DomainSID-RID.
	SID       string
	DomainSID string
	// ObjectCategory is the class's DN in the schema.
	ObjectCategory string
	// WhenCreated is the replicated creation time; zero skips the check.
	WhenCreated time.Time
}

// DC is a domain controller as the Reference knows it.
type DC struct {
	Host          string
	Site          string
	GlobalCatalog bool
	ReadOnly      bool
	// FunctionalLevel is the DC's msDS-Behavior-Version; 0 skips the check.
	FunctionalLevel int
}

// Backup is the expected dSASignature stamp of one naming context.
type Backup struct {
	// NamingContext is NCDomain, NCConfiguration, ...
	NamingContext string
	Backed        bool
	// OriginatingDC is the host last backed up; "" skips the check.
	OriginatingDC string
	// LastBackup is the expected time; zero skips the check.
	LastBackup time.Time
	// Tolerance is how far LastBackup may be off (default 2 s: the stamp
	// has 1-second resolution).
	Tolerance time.Duration
}

// Trust is an expected trustedDomain object.
type Trust struct {
	Partner    string
	FlatName   string
	SID        string
	Direction  int
	Type       int
	Attributes uint32
}

// Case is one read assertion group.
type Case struct {
	Name string
	Run  func(ctx context.Context, c *directory.Client, ref Reference) error
}

// hostileValues must never match anything when used as names: each would
// widen a filter built without escaping. (A NUL byte is left to the
// adapter's unit tests: servers may refuse it rather than match nothing.)
var hostileValues = []string{"*", "*)(objectClass=*", "*)(|(objectClass=*", `\`, `)(`, "x)(trustPartner=*"}

type counterKey struct{}

// WithAssertionCounter makes the cases count each assertion they evaluate
// into n (atomically).
func WithAssertionCounter(ctx context.Context, n *int64) context.Context {
	return context.WithValue(ctx, counterKey{}, n)
}

// checker collects failed assertions and counts them all.
type checker struct {
	ctx  context.Context
	errs []error
}

func (k *checker) check(ok bool, format string, args ...any) bool {
	if n, _ := k.ctx.Value(counterKey{}).(*int64); n != nil {
		atomic.AddInt64(n, 1)
	}
	if !ok {
		k.errs = append(k.errs, fmt.Errorf(format, args...))
	}
	return ok
}

func (k *checker) err() error { return errors.Join(k.errs...) }

// stop ends a case whose read failed: what it checks next needs that read.
type stop struct{ err error }

// need returns v, or ends the case when the read that gave it failed.
func need[T any](v T, err error) T {
	must(err)
	return v
}

// must ends the case when a read it needs failed.
func must(err error) {
	if err != nil {
		panic(stop{err})
	}
}

// run makes a case body a Case's Run: the body's checks are counted and
// collected, and a failed need or must ends the body with that read's
// error, as t.Fatal ends a test.
func run(body func(ctx context.Context, k *checker, c *directory.Client, ref Reference)) func(context.Context, *directory.Client, Reference) error {
	return func(ctx context.Context, c *directory.Client, ref Reference) (err error) {
		k := &checker{ctx: ctx}
		defer func() {
			if r := recover(); r != nil {
				s, ok := r.(stop)
				if !ok {
					panic(r)
				}
				k.check(false, "%w", s.err)
			}
			err = k.err()
		}()
		body(ctx, k, c, ref)
		return nil
	}
}

func host(s string) string { return strings.ToLower(strings.TrimSuffix(s, ".")) }

// Cases is the table. Run every case against a fresh client per suite;
// none changes the directory.
var Cases = []Case{
	{Name: "rootDSE", Run: run(caseRootDSE)},
	{Name: "domain controllers", Run: run(caseDomainControllers)},
	{Name: "global catalog bits", Run: run(caseGlobalCatalog)},
	{Name: "FSMO holders", Run: run(caseFSMO)},
	{Name: "functional levels", Run: run(caseFunctionalLevels)},
	{Name: "tombstone lifetime", Run: run(caseTombstone)},
	{Name: "backup metadata", Run: run(caseBackups)},
	{Name: "trusts", Run: run(caseTrusts)},
	{Name: "trust lookup and escaping", Run: run(caseTrustLookup)},
	{Name: "is domain controller", Run: run(caseIsDC)},
	{Name: "optional features", Run: run(caseOptionalFeatures)},
	{Name: "object metadata", Run: run(caseObjectMetadata)},
	{Name: "group members", Run: run(caseGroupMembers)},
}

func refDCs(ctx context.Context, ref Reference) (map[string]DC, error) {
	dcs, err := ref.DomainControllers(ctx)
	if err != nil {
		return nil, err
	}
	out := map[string]DC{}
	for _, d := range dcs {
		out[host(d.Host)] = d
	}
	return out, nil
}

func caseRootDSE(ctx context.Context, k *checker, c *directory.Client, ref Reference) {
	r := need(c.RootDSE(ctx))
	want := need(refDCs(ctx, ref))
	forest, domain, err := ref.FunctionalLevels(ctx)
	must(err)
	base := adnames.DomainDN(ref.Domain())
	k.check(strings.EqualFold(r.DefaultNamingContext, base), "defaultNamingContext = %q, want %q", r.DefaultNamingContext, base)
	k.check(strings.EqualFold(r.ConfigurationNamingContext, "CN=Configuration,"+base), "configurationNamingContext = %q", r.ConfigurationNamingContext)
	k.check(strings.EqualFold(r.SchemaNamingContext, "CN=Schema,CN=Configuration,"+base), "schemaNamingContext = %q", r.SchemaNamingContext)
	k.check(strings.EqualFold(r.RootDomainNamingContext, base), "rootDomainNamingContext = %q", r.RootDomainNamingContext)
	k.check(r.SupportsControl("1.2.840.113556.1.4.319"), "rootDSE does not list the paged results control")
	k.check(r.HighestCommittedUSN > 0, "highestCommittedUSN = %d", r.HighestCommittedUSN)
	exts, policies, err := ref.RootDSELists(ctx)
	must(err)
	for _, x := range exts {
		k.check(contains(r.SupportedExtensions, x), "supportedExtension %v lacks %s", r.SupportedExtensions, x)
	}
	for _, p := range policies {
		k.check(contains(r.SupportedLDAPPolicies, p), "supportedLDAPPolicies %v lacks %s", r.SupportedLDAPPolicies, p)
	}
	k.check(r.DomainFunctionality == domain, "domainFunctionality = %d, want %d", r.DomainFunctionality, domain)
	k.check(r.ForestFunctionality == forest, "forestFunctionality = %d, want %d", r.ForestFunctionality, forest)
	dc, known := want[host(r.DNSHostName)]
	if k.check(known, "dnsHostName %q is not a DC of the reference", r.DNSHostName) {
		k.check(r.IsGlobalCatalogReady == dc.GlobalCatalog, "isGlobalCatalogReady = %t on %s, want %t", r.IsGlobalCatalogReady, r.DNSHostName, dc.GlobalCatalog)
		k.check(r.ReadOnly() == dc.ReadOnly, "rootDSE of %s announces read-only = %t, want %t", r.DNSHostName, r.ReadOnly(), dc.ReadOnly)
	}
	dcs := need(c.DomainControllers(ctx))
	var self *directory.DomainController
	for i := range dcs {
		if host(dcs[i].Host) == host(r.DNSHostName) {
			self = &dcs[i]
		}
	}
	if k.check(self != nil, "the DC answering (%s) is not in its own DC list", r.DNSHostName) {
		k.check(strings.EqualFold(r.DSServiceName, self.NTDSSettingsDN), "dsServiceName = %q, want the DC's NTDS Settings %q", r.DSServiceName, self.NTDSSettingsDN)
		k.check(strings.EqualFold(r.ServerName, self.ServerDN), "serverName = %q, want %q", r.ServerName, self.ServerDN)
	}
}

func caseDomainControllers(ctx context.Context, k *checker, c *directory.Client, ref Reference) {
	want := need(refDCs(ctx, ref))
	got := need(c.DomainControllers(ctx))
	base := strings.ToLower(adnames.DomainDN(ref.Domain()))
	sites := "cn=sites,cn=configuration," + base
	k.check(len(got) == len(want), "%d DCs listed, want %d", len(got), len(want))
	invocations := map[string]string{}
	for _, d := range got {
		w, ok := want[host(d.Host)]
		if !k.check(ok, "DC %q listed but not in the reference", d.Host) {
			continue
		}
		k.check(strings.EqualFold(d.Site, w.Site), "%s: site %q, want %q", d.Host, d.Site, w.Site)
		k.check(d.ReadOnly == w.ReadOnly, "%s: read-only %t, want %t", d.Host, d.ReadOnly, w.ReadOnly)
		if w.FunctionalLevel != 0 {
			k.check(d.FunctionalLevel == w.FunctionalLevel, "%s: msDS-Behavior-Version %d, want %d", d.Host, d.FunctionalLevel, w.FunctionalLevel)
		}
		k.check(strings.EqualFold(d.Name, strings.SplitN(host(d.Host), ".", 2)[0]), "%s: server object named %q", d.Host, d.Name)
		k.check(len(d.InvocationID) == 36, "%s: invocationId %q", d.Host, d.InvocationID)
		if prev, dup := invocations[d.InvocationID]; dup {
			k.check(false, "%s and %s share invocationId %s", prev, d.Host, d.InvocationID)
		}
		invocations[d.InvocationID] = d.Host
		k.check(strings.EqualFold(d.NTDSSettingsDN, "CN=NTDS Settings,"+d.ServerDN), "%s: NTDS Settings %q is not under server %q", d.Host, d.NTDSSettingsDN, d.ServerDN)
		k.check(strings.HasSuffix(strings.ToLower(d.ServerDN), ","+sites), "%s: server object %q is not under CN=Sites", d.Host, d.ServerDN)
		k.check(strings.HasSuffix(strings.ToLower(d.ComputerDN), ","+base), "%s: computer object %q is not in the domain", d.Host, d.ComputerDN)
	}
	for h := range want {
		found := false
		for _, d := range got {
			found = found || host(d.Host) == h
		}
		k.check(found, "reference DC %s is not listed", h)
	}
}

func caseGlobalCatalog(ctx context.Context, k *checker, c *directory.Client, ref Reference) {
	want := need(refDCs(ctx, ref))
	got := need(c.DomainControllers(ctx))
	for _, d := range got {
		k.check(d.GlobalCatalog == (d.Options&adnames.NTDSOptIsGC != 0), "%s: GlobalCatalog %t disagrees with options 0x%x", d.Host, d.GlobalCatalog, d.Options)
		if w, ok := want[host(d.Host)]; ok {
			k.check(d.GlobalCatalog == w.GlobalCatalog, "%s: global catalog %t, want %t", d.Host, d.GlobalCatalog, w.GlobalCatalog)
		}
	}
}

func caseFSMO(ctx context.Context, k *checker, c *directory.Client, ref Reference) {
	want := need(ref.FSMOHolders(ctx))
	got := need(c.FSMORoles(ctx))
	dcs := need(c.DomainControllers(ctx))
	base := adnames.DomainDN(ref.Domain())
	objects := map[string]string{
		adnames.SchemaMaster:         "CN=Schema,CN=Configuration," + base,
		adnames.DomainNamingMaster:   "CN=Partitions,CN=Configuration," + base,
		adnames.PDCEmulator:          base,
		adnames.RIDMaster:            "CN=RID Manager$,CN=System," + base,
		adnames.InfrastructureMaster: "CN=Infrastructure," + base,
	}
	for _, role := range adnames.FSMORoles() {
		h, ok := got[role]
		if !k.check(ok, "role %s not read", role) {
			continue
		}
		k.check(host(h.Host) == host(want[role]), "%s held by %q, want %q", role, h.Host, want[role])
		k.check(strings.EqualFold(h.RoleObjectDN, objects[role]), "%s read from %q, want %q", role, h.RoleObjectDN, objects[role])
		for _, d := range dcs {
			if host(d.Host) == host(want[role]) {
				k.check(strings.EqualFold(h.NTDSSettingsDN, d.NTDSSettingsDN), "%s: fSMORoleOwner %q, want %q", role, h.NTDSSettingsDN, d.NTDSSettingsDN)
			}
		}
	}
}

func caseFunctionalLevels(ctx context.Context, k *checker, c *directory.Client, ref Reference) {
	forest, domain, err := ref.FunctionalLevels(ctx)
	must(err)
	got := need(c.FunctionalLevels(ctx))
	k.check(got.Forest == forest, "forest level %d, want %d", got.Forest, forest)
	k.check(got.Domain == domain, "domain level %d, want %d", got.Domain, domain)
	k.check(got.Domain >= got.Forest, "domain level %d below forest level %d", got.Domain, got.Forest)
	// The inventory's searches bring the same levels along.
	inv := need(c.Inventory(ctx))
	k.check(inv.Levels == got, "inventory levels %+v, FunctionalLevels %+v", inv.Levels, got)
}

func caseTombstone(ctx context.Context, k *checker, c *directory.Client, ref Reference) {
	want := need(ref.TombstoneLifetimeDays(ctx))
	got := need(c.TombstoneLifetime(ctx))
	k.check(got.Days == want, "tombstone lifetime %d days, want %d", got.Days, want)
	k.check(got.Set || got.Days == directory.DefaultTombstoneLifetimeDays, "unset tombstone lifetime reported as %d days", got.Days)
}

func caseBackups(ctx context.Context, k *checker, c *directory.Client, ref Reference) {
	want := need(ref.Backups(ctx))
	if want == nil {
		return
	}
	rep := need(c.BackupStatus(ctx))
	k.check(len(rep.Unreadable) == 0, "DCs not read: %v", rep.Unreadable)
	tomb := need(c.TombstoneLifetime(ctx))
	k.check(rep.TombstoneRead && rep.Tombstone == tomb, "tombstone lifetime with the backups %+v (read %t), alone %+v", rep.Tombstone, rep.TombstoneRead, tomb)
	byNC := map[string][]directory.NCBackup{}
	for _, b := range rep.Backups {
		byNC[b.NamingContext] = append(byNC[b.NamingContext], b)
	}
	for _, w := range want {
		got := byNC[w.NamingContext]
		if !k.check(len(got) > 0, "no DC reported naming context %s", w.NamingContext) {
			continue
		}
		tol := w.Tolerance
		if tol == 0 {
			tol = 2 * time.Second
		}
		for _, g := range got {
			k.check(g.Backed == w.Backed, "%s on %s: backed up %t, want %t", w.NamingContext, g.DC, g.Backed, w.Backed)
			if !w.Backed || !g.Backed {
				continue
			}
			if w.OriginatingDC != "" {
				k.check(host(g.OriginatingDC) == host(w.OriginatingDC), "%s on %s: last backup of %q, want %q", w.NamingContext, g.DC, g.OriginatingDC, w.OriginatingDC)
			}
			if !w.LastBackup.IsZero() {
				d := g.LastBackup.Sub(w.LastBackup)
				k.check(d <= tol && d >= -tol, "%s on %s: last backup %s, want %s", w.NamingContext, g.DC, g.LastBackup, w.LastBackup)
			}
			k.check(g.Version >= 1, "%s on %s: dSASignature version %d", w.NamingContext, g.DC, g.Version)
		}
	}
}

func caseTrusts(ctx context.Context, k *checker, c *directory.Client, ref Reference) {
	want := need(ref.Trusts(ctx))
	got := need(c.Trusts(ctx))
	k.check(len(got) == len(want), "%d trusts, want %d", len(got), len(want))
	sort.Slice(want, func(i, j int) bool { return host(want[i].Partner) < host(want[j].Partner) })
	for _, w := range want {
		var g *directory.Trust
		for i := range got {
			if host(got[i].Partner) == host(w.Partner) {
				g = &got[i]
			}
		}
		if !k.check(g != nil, "no trust with %s", w.Partner) {
			continue
		}
		k.check(strings.EqualFold(g.FlatName, w.FlatName), "%s: flatName %q, want %q", w.Partner, g.FlatName, w.FlatName)
		k.check(g.Direction == w.Direction, "%s: direction %d, want %d", w.Partner, g.Direction, w.Direction)
		k.check(g.Type == w.Type, "%s: type %d, want %d", w.Partner, g.Type, w.Type)
		k.check(g.Attributes == w.Attributes, "%s: attributes 0x%x, want 0x%x", w.Partner, g.Attributes, w.Attributes)
		k.check(strings.Join(g.AttributeNames, ",") == strings.Join(adnames.TrustAttributeNames(w.Attributes), ","), "%s: attribute names %v", w.Partner, g.AttributeNames)
		if w.SID != "" {
			k.check(strings.EqualFold(g.SID, w.SID), "%s: SID %q, want %q", w.Partner, g.SID, w.SID)
		}
	}
}

func caseTrustLookup(ctx context.Context, k *checker, c *directory.Client, ref Reference) {
	want := need(ref.Trusts(ctx))
	for _, w := range want {
		byDNS, err := c.Trust(ctx, w.Partner)
		if k.check(err == nil, "Trust(%q): %v", w.Partner, err) {
			k.check(host(byDNS.Partner) == host(w.Partner), "Trust(%q) returned %q", w.Partner, byDNS.Partner)
		}
		if w.FlatName != "" {
			byNB, err := c.Trust(ctx, w.FlatName)
			if k.check(err == nil, "Trust(%q): %v", w.FlatName, err) {
				k.check(byNB.DN == byDNS.DN, "Trust(%q) and Trust(%q) differ: %q vs %q", w.FlatName, w.Partner, byNB.DN, byDNS.DN)
			}
		}
	}
	for _, bad := range append([]string{"no-such-partner.invalid"}, hostileValues...) {
		_, err := c.Trust(ctx, bad)
		k.check(errors.Is(err, transport.ErrNotFound), "Trust(%q) = %v, want ErrNotFound", bad, err)
	}
}

func caseIsDC(ctx context.Context, k *checker, c *directory.Client, ref Reference) {
	dcs := need(ref.DomainControllers(ctx))
	others := need(ref.NonDomainControllers(ctx))
	for _, d := range dcs {
		ok, err := c.IsDomainController(ctx, d.Host)
		k.check(err == nil && ok, "IsDomainController(%q) = %t, %v; want true", d.Host, ok, err)
		ok, err = c.IsDomainController(ctx, strings.ToUpper(d.Host)+".")
		k.check(err == nil && ok, "IsDomainController(%q) = %t, %v; want true (case and trailing dot)", strings.ToUpper(d.Host)+".", ok, err)
	}
	for _, h := range append(others, hostileValues...) {
		ok, err := c.IsDomainController(ctx, h)
		k.check(err == nil && !ok, "IsDomainController(%q) = %t, %v; want false", h, ok, err)
	}
}

func caseOptionalFeatures(ctx context.Context, k *checker, c *directory.Client, ref Reference) {
	want := need(ref.EnabledOptionalFeatures(ctx))
	if want == nil {
		return
	}
	got := need(c.OptionalFeatures(ctx))
	var enabled []string
	for _, f := range got {
		k.check(len(f.GUID) == 36, "feature %q: GUID %q", f.Name, f.GUID)
		if f.Enabled {
			enabled = append(enabled, strings.ToLower(f.Name))
		}
	}
	var exp []string
	for _, w := range want {
		exp = append(exp, strings.ToLower(w))
	}
	sort.Strings(enabled)
	sort.Strings(exp)
	k.check(strings.Join(enabled, "|") == strings.Join(exp, "|"), "enabled optional features %v, want %v", enabled, exp)
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if strings.EqualFold(x, v) {
			return true
		}
	}
	return false
}

// caseObjectMetadata reads each DC's computer object and the naming context
// heads: identity and creation from the Reference; instanceType from the
// Instance-Type flags (head 1, writable 4, parent NC held 8); USNs that are
// the answering DC's own (uSNCreated <= uSNChanged <= its
// highestCommittedUSN, read afterwards).
func caseObjectMetadata(ctx context.Context, k *checker, c *directory.Client, ref Reference) {
	dcs := need(c.DomainControllers(ctx))
	var metas []directory.ObjectMetadata
	for _, dc := range dcs {
		m := need(c.ObjectMetadata(ctx, dc.ComputerDN))
		want := need(ref.ComputerObject(ctx, dc.Host))
		metas = append(metas, m)
		k.check(strings.EqualFold(m.GUID, want.GUID), "%s objectGUID %q, want %q", dc.Host, m.GUID, want.GUID)
		if want.SID != "" {
			k.check(m.SID == want.SID, "%s objectSid %q, want %q", dc.Host, m.SID, want.SID)
		}
		k.check(strings.HasPrefix(m.SID, want.DomainSID+"-"), "%s objectSid %q is not in the domain %s", dc.Host, m.SID, want.DomainSID)
		k.check(strings.EqualFold(m.ObjectCategory, want.ObjectCategory), "%s objectCategory %q, want %q", dc.Host, m.ObjectCategory, want.ObjectCategory)
		if !want.WhenCreated.IsZero() {
			d := m.WhenCreated.Sub(want.WhenCreated)
			k.check(d > -time.Second && d < time.Second, "%s whenCreated %s, want %s", dc.Host, m.WhenCreated, want.WhenCreated)
		}
		k.check(!m.WhenCreated.IsZero() && !m.WhenChanged.Before(m.WhenCreated), "%s whenCreated %s, whenChanged %s", dc.Host, m.WhenCreated, m.WhenChanged)
		k.check(m.USNCreated > 0 && m.USNCreated <= m.USNChanged, "%s uSNCreated %d, uSNChanged %d", dc.Host, m.USNCreated, m.USNChanged)
	}
	base := adnames.DomainDN(ref.Domain())
	heads := map[string]int{base: 1, "CN=Configuration," + base: 1 | 8, "CN=Schema,CN=Configuration," + base: 1 | 8}
	for dn := range heads {
		m := need(c.ObjectMetadata(ctx, dn))
		metas = append(metas, m)
		k.check(len(m.GUID) == 36, "%s objectGUID %q", dn, m.GUID)
	}
	r := need(c.RootDSE(ctx))
	writable := 4
	if r.ReadOnly() {
		writable = 0
	}
	for _, m := range metas {
		k.check(m.USNChanged <= r.HighestCommittedUSN, "%s uSNChanged %d above %s's highestCommittedUSN %d", m.DN, m.USNChanged, r.DNSHostName, r.HighestCommittedUSN)
		want := writable
		for dn, it := range heads {
			if strings.EqualFold(dn, m.DN) {
				want |= it
			}
		}
		k.check(m.InstanceType == want, "%s instanceType %d, want %d on %s", m.DN, m.InstanceType, want, r.DNSHostName)
	}
}

// caseGroupMembers: Domain Admins holds what the Reference says; a group
// that does not exist is ErrNotFound.
func caseGroupMembers(ctx context.Context, k *checker, c *directory.Client, ref Reference) {
	want := need(ref.GroupMembers(ctx, "Domain Admins"))
	got := need(c.GroupMembers(ctx, "Domain Admins"))
	norm := func(dns []string) string {
		out := make([]string, len(dns))
		for i, d := range dns {
			out[i] = strings.ToLower(d)
		}
		sort.Strings(out)
		return strings.Join(out, "|")
	}
	k.check(len(want) > 0 && norm(got) == norm(want), "Domain Admins members %v, want %v", got, want)
	_, err := c.GroupMembers(ctx, "No Such Group*")
	k.check(errors.Is(err, transport.ErrNotFound), "members of a missing group: %v, want ErrNotFound", err)
}
