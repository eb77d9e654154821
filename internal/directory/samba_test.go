package directory_test

// The directory adapter against real Active Directory: Samba AD DCs built by
// internal/lab/samba (root only; `sudo make test`). The same read table
// (directorytest.Cases) runs here with a Reference built from samba-tool and
// ldbsearch run on the DCs against their own databases, then the writes (FSMO
// transfers, the global catalog bit) and the three ways to bind.

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-ldap/ldap/v3"

	"github.com/bastion-pam/terraform-provider-bastion/internal/adnames"
	"github.com/bastion-pam/terraform-provider-bastion/internal/directory"
	"github.com/bastion-pam/terraform-provider-bastion/internal/directory/directorytest"
	"github.com/bastion-pam/terraform-provider-bastion/internal/lab/samba"
	"github.com/bastion-pam/terraform-provider-bastion/internal/transport"
)

// sambaLab is brought up by the first test that needs it and torn down by
// TestMain, which then checks nothing was left behind.
var sambaLab = samba.Suite{Name: "internal/directory"}

// Assertion counts of the parity runs, printed by TestMain so `make test`
// shows both (see samba.Report).
var (
	sambaParityAssertions, sambaParityRuns atomic.Int64
	labParityAssertions, labParityRuns     atomic.Int64
)

func TestMain(m *testing.M) {
	code := m.Run()
	if n := labParityAssertions.Load(); n > 0 {
		samba.Report("lab parity: %d assertions against the lab (%d cases x %d scenarios)",
			n, len(directorytest.Cases), labParityRuns.Load())
	}
	if n := sambaParityAssertions.Load(); n > 0 {
		samba.Report("samba parity: %d assertions against real AD (%d cases x %d scenarios)",
			n, len(directorytest.Cases), sambaParityRuns.Load())
	}
	if err := sambaLab.Close(); err != nil {
		fmt.Fprintln(os.Stderr, "FAIL:", err)
		code = 1
	}
	os.Exit(code)
}

const (
	privDC1 = "priv-dc1"
	privDC2 = "priv-dc2"
	privDC3 = "priv-dc3"
	corpDC1 = "corp-dc1"
)

func sambaCtx(t *testing.T) context.Context {
	t.Helper()
	// A guard against a hung call, not a performance claim: under load on the
	// 2-core machine, samba-tool alone took minutes.
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// fqdn is the FQDN of one of the lab's DCs.
func fqdn(t testing.TB, l *samba.Lab, name string) string {
	t.Helper()
	d, ok := l.DC(name)
	if !ok {
		t.Fatalf("no DC %s in the Samba lab", name)
	}
	return d.FQDN
}

// sambaConfig is the provider's way in: LDAPS verified with the lab CA, simple
// bind as the forest's Administrator (UPN), dialling each DC's IP for its FQDN.
func sambaConfig(t testing.TB, l *samba.Lab, forest string, servers ...string) directory.Config {
	t.Helper()
	f, ok := l.Forest(forest)
	if !ok {
		t.Fatalf("no forest %s in the Samba lab", forest)
	}
	ca, err := os.ReadFile(l.CACert)
	if err != nil {
		t.Fatal(err)
	}
	cfg := directory.Config{
		Domain:    f.DNSDomain,
		CACertPEM: ca,
		Username:  f.AdminUPN,
		Password:  f.AdminPassword,
		ConnectTo: l.ConnectTo(389, 636),
		Retry:     transport.RetryPolicy{Attempts: 3, Initial: 100 * time.Millisecond, Max: time.Second},
	}
	for _, s := range servers {
		cfg.Servers = append(cfg.Servers, fqdn(t, l, s))
	}
	return cfg
}

func sambaClient(t testing.TB, cfg directory.Config) *directory.Client {
	t.Helper()
	c, err := directory.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// sambaReference answers directorytest's questions with samba-tool and
// ldbsearch run on DC dc against its own database: none of it goes through
// LDAP or the adapter.
type sambaReference struct {
	lab    *samba.Lab
	dc     string
	forest samba.Forest
}

var _ directorytest.Reference = sambaReference{}

func newSambaReference(t testing.TB, l *samba.Lab, dc string) sambaReference {
	t.Helper()
	d, ok := l.DC(dc)
	if !ok {
		t.Fatalf("no DC %s", dc)
	}
	f, _ := l.Forest(d.Forest)
	return sambaReference{lab: l, dc: dc, forest: f}
}

func (r sambaReference) Domain() string { return r.forest.DNSDomain }

func (r sambaReference) DomainControllers(ctx context.Context) ([]directorytest.DC, error) {
	dcs, err := r.lab.DCs(ctx, r.dc)
	if err != nil {
		return nil, err
	}
	var out []directorytest.DC
	for _, d := range dcs {
		out = append(out, directorytest.DC{
			Host: d.DNSHostName, Site: d.Site, GlobalCatalog: d.Options&1 != 0,
			ReadOnly: d.ReadOnly, FunctionalLevel: d.BehaviorVersion,
		})
	}
	return out, nil
}

// NonDomainControllers: the lab's namespaces that are not DCs of this forest
// (priv-dc3 while only prepared, and the other forest's DCs).
func (r sambaReference) NonDomainControllers(ctx context.Context) ([]string, error) {
	dcs, err := r.lab.DCs(ctx, r.dc)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, ns := range r.lab.DCNamespaces() {
		isDC := false
		for _, d := range dcs {
			isDC = isDC || strings.EqualFold(d.DNSHostName, ns.FQDN)
		}
		if !isDC {
			out = append(out, ns.FQDN)
		}
	}
	sort.Strings(out)
	return out, nil
}

// hostOf maps NTDS Settings DNs and invocationIds to DC host names.
func (r sambaReference) hostOf(ctx context.Context) (map[string]string, error) {
	dcs, err := r.lab.DCs(ctx, r.dc)
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for _, d := range dcs {
		out[strings.ToLower(d.NTDSSettingsDN)] = d.DNSHostName
		out[strings.ToLower(d.InvocationID)] = d.DNSHostName
	}
	return out, nil
}

func (r sambaReference) FSMOHolders(ctx context.Context) (map[string]string, error) {
	holders, err := r.lab.FSMOHolders(ctx, r.dc)
	if err != nil {
		return nil, err
	}
	hosts, err := r.hostOf(ctx)
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for role, ntds := range holders {
		h, ok := hosts[strings.ToLower(ntds)]
		if !ok {
			return nil, fmt.Errorf("samba-tool fsmo show: %s held by %s, which is no DC", role, ntds)
		}
		out[role] = h
	}
	return out, nil
}

func (r sambaReference) FunctionalLevels(ctx context.Context) (forest, domain int, err error) {
	lv, err := r.lab.FunctionalLevels(ctx, r.dc)
	return lv.ForestVersion, lv.DomainVersion, err
}

func (r sambaReference) TombstoneLifetimeDays(ctx context.Context) (int, error) {
	return r.lab.TombstoneLifetime(ctx, r.dc)
}

// Backups: Samba's own decoding of each naming context head's
// replPropertyMetaData. Samba's backups never write dSASignature, so until a
// test stamps one (samba.Lab.StampBackup, what a Windows backup does) the truth
// is "never backed up" on every naming context.
func (r sambaReference) Backups(ctx context.Context) ([]directorytest.Backup, error) {
	stamps, err := r.lab.BackupStamps(ctx, r.dc)
	if err != nil {
		return nil, err
	}
	hosts, err := r.hostOf(ctx)
	if err != nil {
		return nil, err
	}
	base := strings.ToLower(r.forest.BaseDN)
	names := map[string]string{
		base:                                 adnames.NCDomain,
		"cn=configuration," + base:           adnames.NCConfiguration,
		"cn=schema,cn=configuration," + base: adnames.NCSchema,
		"dc=domaindnszones," + base:          adnames.NCDomainDNSZones,
		"dc=forestdnszones," + base:          adnames.NCForestDNSZones,
	}
	out := []directorytest.Backup{}
	for _, s := range stamps {
		name, ok := names[strings.ToLower(s.NamingContext)]
		if !ok {
			return nil, fmt.Errorf("unexpected naming context %s on %s", s.NamingContext, r.dc)
		}
		b := directorytest.Backup{NamingContext: name, Backed: s.Backed, LastBackup: s.Time}
		if s.Backed {
			if b.OriginatingDC, ok = hosts[s.InvocationID]; !ok {
				return nil, fmt.Errorf("%s: backup stamp from invocationId %s, which is no DC's", s.NamingContext, s.InvocationID)
			}
		}
		out = append(out, b)
	}
	return out, nil
}

func (r sambaReference) Trusts(ctx context.Context) ([]directorytest.Trust, error) {
	trusts, err := r.lab.Trusts(ctx, r.dc)
	if err != nil {
		return nil, err
	}
	var out []directorytest.Trust
	for _, t := range trusts {
		out = append(out, directorytest.Trust{
			Partner: t.Name, FlatName: t.NetBIOSName, SID: t.SID,
			Direction: int(t.Direction), Type: int(t.Type), Attributes: t.Attributes,
		})
	}
	return out, nil
}

// EnabledOptionalFeatures: msDS-EnabledFeature on CN=Partitions. Samba knows
// the Recycle Bin feature only (no Privileged Access Management feature object):
// the list is what Samba has, never nil, so the case always runs.
func (r sambaReference) EnabledOptionalFeatures(ctx context.Context) ([]string, error) {
	return r.lab.EnabledOptionalFeatures(ctx, r.dc)
}

// ComputerObject: ldbsearch of the DC's computer object on the DC's own
// database (objectGUID and objectSid as ldb prints them, whenCreated).
func (r sambaReference) ComputerObject(ctx context.Context, host string) (directorytest.Object, error) {
	e, err := r.lab.FindObject(ctx, r.dc, r.forest.BaseDN, "(&(objectClass=computer)(dNSHostName="+host+"))",
		"objectGUID", "objectSid", "objectCategory", "whenCreated")
	if err != nil {
		return directorytest.Object{}, err
	}
	o := directorytest.Object{GUID: e["objectguid"], SID: e["objectsid"], ObjectCategory: e["objectcategory"]}
	if i := strings.LastIndex(o.SID, "-"); i > 0 {
		o.DomainSID = o.SID[:i]
	}
	if t, err := time.Parse("20060102150405.0Z", e["whencreated"]); err == nil {
		o.WhenCreated = t
	}
	return o, nil
}

// GroupMembers: member of the group, from ldbsearch on the DC.
func (r sambaReference) GroupMembers(ctx context.Context, name string) ([]string, error) {
	return r.lab.GroupMembers(ctx, r.dc, name)
}

// RootDSELists: the rootDSE as an anonymous go-ldap search (not the adapter)
// reads it from the reference DC (Samba 4.17 lists neither supportedExtension
// nor supportedLDAPPolicies there).
func (r sambaReference) RootDSELists(ctx context.Context) ([]string, []string, error) {
	d, _ := r.lab.DC(r.dc)
	cfg, err := r.lab.TLSConfig(r.dc)
	if err != nil {
		return nil, nil, err
	}
	conn, err := ldap.DialURL(d.LDAPSURL, ldap.DialWithTLSConfig(cfg))
	if err != nil {
		return nil, nil, err
	}
	defer func() { _ = conn.Close() }()
	res, err := conn.Search(ldap.NewSearchRequest("", ldap.ScopeBaseObject, 0, 0, 0, false, "(objectClass=*)", []string{"supportedExtension", "supportedLDAPPolicies"}, nil))
	if err != nil {
		return nil, nil, err
	}
	if len(res.Entries) != 1 {
		return nil, nil, fmt.Errorf("rootDSE of %s: %d entries", r.dc, len(res.Entries))
	}
	e := res.Entries[0]
	return e.GetAttributeValues("supportedExtension"), e.GetAttributeValues("supportedLDAPPolicies"), nil
}

// runParity runs every case against c, counting assertions into the totals.
func runParity(t *testing.T, c *directory.Client, ref directorytest.Reference) {
	t.Helper()
	n := runCases(t, sambaCtx(t), c, ref)
	sambaParityAssertions.Add(n)
	sambaParityRuns.Add(1)
}

// TestSambaParity runs directorytest.Cases against the real Samba DCs through
// the real adapter: LDAPS with the lab CA, simple bind as Administrator.
func TestSambaParity(t *testing.T) {
	l := sambaLab.Lab(t)
	start := time.Now()
	before := sambaParityAssertions.Load()

	t.Run("PRIV, first DC that answers", func(t *testing.T) {
		c := sambaClient(t, sambaConfig(t, l, "priv", privDC1, privDC2))
		runParity(t, c, newSambaReference(t, l, privDC1))
	})
	t.Run("PRIV pinned to priv-dc2", func(t *testing.T) {
		cfg := sambaConfig(t, l, "priv", privDC1)
		cfg.PinnedDC = fqdn(t, l, privDC2)
		runParity(t, sambaClient(t, cfg), newSambaReference(t, l, privDC2))
	})
	t.Run("CORP, the trust's other side", func(t *testing.T) {
		c := sambaClient(t, sambaConfig(t, l, "corp", corpDC1))
		runParity(t, c, newSambaReference(t, l, corpDC1))
	})
	t.Run("PRIV after a backup of priv-dc2, with the recycle bin enabled", func(t *testing.T) {
		ctx := sambaCtx(t)
		f, _ := l.Forest("priv")
		// Only some naming contexts: the others must still read "never backed up".
		if err := l.StampBackup(ctx, privDC2, f.BaseDN, f.ConfigDN); err != nil {
			t.Fatal(err)
		}
		enableRecycleBin(t, l)
		stamps, err := l.BackupStamps(ctx, privDC1)
		if err != nil {
			t.Fatal(err)
		}
		backed := 0
		for _, s := range stamps {
			if s.Backed {
				backed++
			}
		}
		if backed != 2 {
			t.Fatalf("after stamping 2 naming contexts, priv-dc1 reports %d backed up: %+v", backed, stamps)
		}
		if on, err := l.EnabledOptionalFeatures(ctx, privDC1); err != nil || len(on) != 1 {
			t.Fatalf("enabled optional features on priv-dc1 = %v, %v; want the recycle bin", on, err)
		}
		c := sambaClient(t, sambaConfig(t, l, "priv", privDC1, privDC2))
		ref := newSambaReference(t, l, privDC1)
		runParity(t, c, ref)
		// The stamps and the feature are really compared: a reference off by
		// one DC, one hour or one feature fails.
		for name, wrong := range map[string]directorytest.Reference{
			"backup metadata (other DC)":    skewedReference{sambaReference: ref, backups: func(b *directorytest.Backup) { b.OriginatingDC = fqdn(t, l, privDC1) }},
			"backup metadata (an hour off)": skewedReference{sambaReference: ref, backups: func(b *directorytest.Backup) { b.LastBackup = b.LastBackup.Add(-time.Hour) }},
			"optional features (none)":      skewedReference{sambaReference: ref, noFeatures: true},
		} {
			c := caseByName(t, strings.SplitN(name, " (", 2)[0])
			if err := c.Run(sambaCtx(t), sambaClient(t, sambaConfig(t, l, "priv", privDC1)), wrong); err == nil {
				t.Errorf("case %q passed against a wrong reference", name)
			}
		}
	})
	t.Logf("samba parity: %d assertions against real AD in %s", sambaParityAssertions.Load()-before, time.Since(start).Round(time.Millisecond))
}

// skewedReference changes the backups or the optional features of a
// sambaReference, to show the cases compare them.
type skewedReference struct {
	sambaReference
	backups    func(*directorytest.Backup)
	noFeatures bool
}

func (r skewedReference) Backups(ctx context.Context) ([]directorytest.Backup, error) {
	b, err := r.sambaReference.Backups(ctx)
	for i := range b {
		if b[i].Backed && r.backups != nil {
			r.backups(&b[i])
		}
	}
	return b, err
}

func (r skewedReference) EnabledOptionalFeatures(ctx context.Context) ([]string, error) {
	if r.noFeatures {
		return []string{}, nil
	}
	return r.sambaReference.EnabledOptionalFeatures(ctx)
}

// enableRecycleBin enables the forest's Recycle Bin feature the way
// Enable-ADOptionalFeature does (rootDSE enableOptionalFeature, MS-ADTS
// 3.1.1.3.4.1.27) on priv-dc1, then replicates the Configuration NC. Samba
// accepts that operation only from its system session (over LDAP even the
// Administrator gets "Insufficient rights for enableoptionalfeature"), so it
// goes through ldbmodify on the DC's own database; the parity run then reads
// the result through the adapter.
func enableRecycleBin(t *testing.T, l *samba.Lab) {
	t.Helper()
	ctx := sambaCtx(t)
	f, _ := l.Forest("priv")
	ldif := fmt.Sprintf("dn:\nchangetype: modify\nadd: enableOptionalFeature\nenableOptionalFeature: CN=Partitions,%s:766ddcd8-acd0-445e-f3b9-a7f9b6744f2a\n", f.ConfigDN)
	if _, err := l.Exec(ctx, privDC1, "sh", "-c", `printf '%s' "$1" | ldbmodify -H /var/lib/samba/private/sam.ldb`, "_", ldif); err != nil {
		t.Fatalf("enable the recycle bin: %v", err)
	}
	if err := l.Replicate(ctx, privDC1, f.ConfigDN); err != nil {
		t.Fatal(err)
	}
}

// TestSambaReferenceCatchesAWrongAdapter shows the Samba reference can fail:
// a client bound to CORP read against PRIV's reference disagrees on nearly
// every case.
func TestSambaReferenceCatchesAWrongAdapter(t *testing.T) {
	l := sambaLab.Lab(t)
	c := sambaClient(t, sambaConfig(t, l, "corp", corpDC1))
	ref := newSambaReference(t, l, privDC1)
	var failed []string
	for _, tc := range directorytest.Cases {
		if err := tc.Run(sambaCtx(t), c, ref); err != nil {
			failed = append(failed, tc.Name)
		}
	}
	for _, name := range []string{"rootDSE", "domain controllers", "FSMO holders", "trusts", "trust lookup and escaping", "is domain controller"} {
		if !contains(failed, name) {
			t.Errorf("case %q passed with CORP's directory against PRIV's reference", name)
		}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// TestSambaFSMOTransfer moves each role to priv-dc2 through the adapter,
// checks samba-tool fsmo show agrees after each move, then moves them back.
func TestSambaFSMOTransfer(t *testing.T) {
	l := sambaLab.Lab(t)
	ctx := sambaCtx(t)
	c := sambaClient(t, sambaConfig(t, l, "priv", privDC1, privDC2))
	moveAll := func(to string) {
		t.Helper()
		target := fqdn(t, l, to)
		for _, role := range adnames.FSMORoles() {
			start := time.Now()
			h, err := c.TransferFSMO(ctx, role, target)
			if err != nil {
				t.Fatalf("TransferFSMO(%s, %s): %v", role, target, err)
			}
			if !strings.EqualFold(h.Host, target) {
				t.Errorf("TransferFSMO(%s, %s) returned holder %q", role, target, h.Host)
			}
			// samba-tool on the new holder, from its own database.
			holders, err := l.FSMOHolders(ctx, to)
			if err != nil {
				t.Fatal(err)
			}
			if got := samba.ServerOf(holders[role]); !strings.EqualFold(got, to) {
				t.Errorf("after TransferFSMO(%s, %s): samba-tool fsmo show on %s says %s", role, to, to, got)
			}
			t.Logf("%s -> %s in %s", role, to, time.Since(start).Round(time.Millisecond))
		}
		// Both DCs agree, and the adapter's read matches samba-tool on each.
		for _, dc := range []string{privDC1, privDC2} {
			cfg := sambaConfig(t, l, "priv")
			cfg.PinnedDC = fqdn(t, l, dc)
			var n int64
			err := caseByName(t, "FSMO holders").Run(directorytest.WithAssertionCounter(ctx, &n), sambaClient(t, cfg), newSambaReference(t, l, dc))
			if err != nil {
				t.Errorf("after moving every role to %s, read on %s: %v", to, dc, err)
			}
			holders, err := l.FSMOHolders(ctx, dc)
			if err != nil {
				t.Fatal(err)
			}
			for role, ntds := range holders {
				if !strings.EqualFold(samba.ServerOf(ntds), to) {
					t.Errorf("samba-tool fsmo show on %s: %s held by %s, want %s", dc, role, samba.ServerOf(ntds), to)
				}
			}
		}
	}
	moveAll(privDC2)
	// A second transfer to the holder writes nothing and still answers.
	h, err := c.TransferFSMO(ctx, adnames.PDCEmulator, fqdn(t, l, privDC2))
	if err != nil || !strings.EqualFold(h.Host, fqdn(t, l, privDC2)) {
		t.Errorf("TransferFSMO to the holder = %+v, %v", h, err)
	}
	moveAll(privDC1)
	if _, err := c.TransferFSMO(ctx, "PrimaryMaster", fqdn(t, l, privDC2)); !errors.Is(err, directory.ErrUnknownRole) {
		t.Errorf("TransferFSMO(unknown role) = %v, want ErrUnknownRole", err)
	}
	if _, err := c.TransferFSMO(ctx, adnames.RIDMaster, fqdn(t, l, privDC3)); err == nil {
		t.Error("TransferFSMO to priv-dc3, which is not a DC, succeeded")
	}
}

func caseByName(t *testing.T, name string) directorytest.Case {
	t.Helper()
	for _, c := range directorytest.Cases {
		if c.Name == name {
			return c
		}
	}
	t.Fatalf("no case %q in directorytest.Cases", name)
	return directorytest.Case{}
}

// TestSambaGlobalCatalogBit clears and sets priv-dc2's global catalog bit
// through the adapter; samba-tool's view (ldbsearch of the nTDSDSA options on
// both DCs) follows each write.
func TestSambaGlobalCatalogBit(t *testing.T) {
	l := sambaLab.Lab(t)
	ctx := sambaCtx(t)
	f, _ := l.Forest("priv")
	c := sambaClient(t, sambaConfig(t, l, "priv", privDC1, privDC2))
	dc2 := fqdn(t, l, privDC2)
	for _, enable := range []bool{false, true} {
		got, err := c.SetGlobalCatalog(ctx, dc2, enable)
		if err != nil {
			t.Fatalf("SetGlobalCatalog(%s, %t): %v", dc2, enable, err)
		}
		if got.GlobalCatalog != enable {
			t.Errorf("SetGlobalCatalog(%s, %t) read back %t", dc2, enable, got.GlobalCatalog)
		}
		// The write went to priv-dc1 (the first server); priv-dc2 learns it by replication.
		if err := l.Replicate(ctx, privDC1, f.ConfigDN); err != nil {
			t.Fatal(err)
		}
		for _, dc := range []string{privDC1, privDC2} {
			dcs, err := l.DCs(ctx, dc)
			if err != nil {
				t.Fatal(err)
			}
			for _, d := range dcs {
				if d.Name == "PRIV-DC2" && (d.Options&1 != 0) != enable {
					t.Errorf("after SetGlobalCatalog(%t), ldbsearch on %s: PRIV-DC2 options %d", enable, dc, d.Options)
				}
			}
		}
		for _, name := range []string{"global catalog bits", "domain controllers"} {
			if err := caseByName(t, name).Run(ctx, c, newSambaReference(t, l, privDC1)); err != nil {
				t.Errorf("%s after SetGlobalCatalog(%t): %v", name, enable, err)
			}
		}
	}
}

// TestSambaBindModes: a Kerberos (GSSAPI) bind over LDAPS against Samba's KDC,
// with a password and with a credential cache from kinit, and a simple bind over
// StartTLS on 389; each reads the DC list. Wrong credentials are refused as
// unauthorized, and StartTLS verifies the certificate.
func TestSambaBindModes(t *testing.T) {
	l := sambaLab.Lab(t)
	f, _ := l.Forest("priv")
	ref := newSambaReference(t, l, privDC1)
	want, err := ref.DomainControllers(sambaCtx(t))
	if err != nil {
		t.Fatal(err)
	}
	readDCs := func(t *testing.T, cfg directory.Config) error {
		t.Helper()
		c, err := directory.New(cfg)
		if err != nil {
			return err
		}
		defer func() { _ = c.Close() }()
		got, err := c.DomainControllers(sambaCtx(t))
		if err != nil {
			return err
		}
		if len(got) != len(want) {
			t.Errorf("%d DCs read, samba says %d", len(got), len(want))
		}
		for i := range got {
			if i < len(want) && !strings.EqualFold(got[i].Host, want[i].Host) {
				t.Errorf("DC %d: %s, samba says %s", i, got[i].Host, want[i].Host)
			}
		}
		return nil
	}
	kerberos := func(mut func(*directory.Config)) directory.Config {
		cfg := sambaConfig(t, l, "priv", privDC1, privDC2)
		cfg.BindMode = directory.BindKerberos
		cfg.Kerberos = directory.KerberosConfig{KrbConfPath: l.Krb5Conf}
		cfg.Retry = transport.RetryPolicy{Attempts: 1}
		if mut != nil {
			mut(&cfg)
		}
		return cfg
	}

	t.Run("kerberos with a password over LDAPS", func(t *testing.T) {
		if err := readDCs(t, kerberos(nil)); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("kerberos with a credential cache from kinit", func(t *testing.T) {
		ccache := filepath.Join(t.TempDir(), "krb5cc")
		kinit := exec.CommandContext(sambaCtx(t), "kinit", f.AdminUPN)
		kinit.Env = append(os.Environ(), "KRB5_CONFIG="+l.Krb5Conf, "KRB5CCNAME=FILE:"+ccache)
		kinit.Stdin = strings.NewReader(f.AdminPassword + "\n")
		if out, err := kinit.CombinedOutput(); err != nil {
			t.Fatalf("kinit %s: %v\n%s", f.AdminUPN, err, out)
		}
		err := readDCs(t, kerberos(func(c *directory.Config) {
			c.Username, c.Password = "", ""
			c.Kerberos.CCachePath = ccache
		}))
		if err != nil {
			t.Fatal(err)
		}
	})
	t.Run("kerberos over StartTLS on 389", func(t *testing.T) {
		if err := readDCs(t, kerberos(func(c *directory.Config) { c.TLSMode = directory.TLSModeStartTLS })); err != nil {
			t.Fatal(err)
		}
	})
	// Samba, like Windows with LdapEnforceChannelBinding=2, checks the TLS
	// channel bindings in the authenticator: wrong ones are refused.
	t.Run("kerberos with wrong channel bindings is refused", func(t *testing.T) {
		if l.SambaBefore(4, 21) {
			t.Skipf("Samba %s does not check TLS channel bindings (Samba checks them from 4.21)", l.SambaVersion)
		}
		restore := directory.TamperChannelBindings(func(b []byte) []byte {
			return append([]byte("tls-server-end-point:"), make([]byte, 32)...)
		})
		defer restore()
		err := readDCs(t, kerberos(nil))
		if !errors.Is(err, transport.ErrUnauthorized) || !strings.Contains(err.Error(), "80090346") {
			t.Fatalf("err = %v, want ErrUnauthorized with SEC_E_BAD_BINDINGS (80090346)", err)
		}
	})
	// On plain LDAP the bind negotiates the SASL security layer and every
	// later message is wrapped: Samba (ldap server require strong auth) and
	// Windows DCs that require LDAP signing refuse a Kerberos bind without it.
	for _, p := range []string{directory.ProtectionSeal, directory.ProtectionSign} {
		t.Run("kerberos on plain LDAP with protection "+p, func(t *testing.T) {
			cfg := kerberos(func(c *directory.Config) {
				c.TLSMode = directory.TLSModeNone
				c.Kerberos.Protection = p
			})
			if err := readDCs(t, cfg); err != nil {
				t.Fatal(err)
			}
		})
	}
	t.Run("kerberos with a wrong password is refused by the KDC", func(t *testing.T) {
		err := readDCs(t, kerberos(func(c *directory.Config) { c.Password = "not-" + c.Password }))
		if !errors.Is(err, transport.ErrUnauthorized) || !strings.Contains(err.Error(), "KDC_ERR_PREAUTH_FAILED") {
			t.Fatalf("err = %v, want ErrUnauthorized from the KDC (KDC_ERR_PREAUTH_FAILED)", err)
		}
	})
	t.Run("simple bind over StartTLS on 389", func(t *testing.T) {
		cfg := sambaConfig(t, l, "priv", privDC1, privDC2)
		cfg.TLSMode = directory.TLSModeStartTLS
		if err := readDCs(t, cfg); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("StartTLS verifies the certificate", func(t *testing.T) {
		cfg := sambaConfig(t, l, "priv", privDC1)
		cfg.TLSMode = directory.TLSModeStartTLS
		cfg.CACertPEM = nil
		cfg.Retry = transport.RetryPolicy{Attempts: 1}
		if err := readDCs(t, cfg); !errors.Is(err, directory.ErrCertificate) {
			t.Fatalf("err = %v, want ErrCertificate", err)
		}
	})
	t.Run("simple bind with a wrong password is unauthorized", func(t *testing.T) {
		cfg := sambaConfig(t, l, "priv", privDC1)
		cfg.Password = "not-" + cfg.Password
		cfg.Retry = transport.RetryPolicy{Attempts: 1}
		if err := readDCs(t, cfg); !errors.Is(err, transport.ErrUnauthorized) {
			t.Fatalf("err = %v, want ErrUnauthorized", err)
		}
	})
}

// TestSambaAdapterAttributesExist: every attribute the adapter reads or
// filters on (collected against the lab) is in real AD's schema, as Samba's
// schema NC holds it.
func TestSambaAdapterAttributesExist(t *testing.T) {
	l := sambaLab.Lab(t)
	attrs := adapterAttributes(t)
	f, _ := l.Forest("priv")
	d, _ := l.DC(privDC1)
	cfg, err := l.TLSConfig(privDC1)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := ldap.DialURL(d.LDAPSURL, ldap.DialWithTLSConfig(cfg))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = conn.Close() }()
	if err := conn.Bind(f.AdminUPN, f.AdminPassword); err != nil {
		t.Fatal(err)
	}
	missing := missingFromSchema(t, conn, f.SchemaDN, append(attrs, "uSNChangd"))
	if len(missing) != 1 || missing[0] != "uSNChangd" {
		t.Errorf("not in Samba's schema: %v (only the planted misspelling uSNChangd should be)", missing)
	}
	samba.Report("samba schema: the %d attributes the adapter uses all exist in Samba %s's schema", len(attrs), l.SambaVersion)
}
