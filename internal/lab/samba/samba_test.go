package samba

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bastion-pam/terraform-provider-bastion/internal/adnames"
	"github.com/go-ldap/ldap/v3"
)

// The lab is built once for the package (about 20 s), by the first test that
// needs it, so `-run TestParse` or `-skip Samba` never touches the machine;
// TestMain tears it down after the tests and checks that nothing is left.
// Every test that needs the lab is called TestSamba*.
var (
	labOnce    sync.Once
	lab        *Lab
	labErr     error
	skipReason string
)

func TestMain(m *testing.M) {
	_ = os.Setenv("CHECKPOINT_DISABLE", "1") // project policy for anything that might run Terraform
	os.Exit(runMain(m))
}

func runMain(m *testing.M) int {
	code := m.Run()
	if lab == nil {
		return code
	}
	// Remember what to look for once the lab is gone.
	_ = lab.Reload()
	pids := []int{lab.Network.DnsmasqPID}
	for _, d := range lab.DCNamespaces() {
		pids = append(pids, d.PIDs...)
	}
	scriptPath := lab.scriptPath
	start := time.Now()
	err := lab.Down(context.Background())
	Report("samba lab [internal/lab/samba]: down in %s", time.Since(start).Round(time.Millisecond))
	if err != nil {
		fmt.Fprintln(os.Stderr, "samba lab: down failed:", err)
		code = 1
	}
	if leftovers := Leftovers(lab.StateDir, scriptPath, pids); len(leftovers) > 0 {
		fmt.Fprintf(os.Stderr, "FAIL: samba lab left behind: %s\n", strings.Join(leftovers, "; "))
		code = 1
	} else {
		Report("samba lab [internal/lab/samba]: teardown check passed: no process, namespace, veth, mount or file left")
	}
	return code
}

// bringUp first makes an up fail on purpose and checks it left nothing, then
// builds the lab the tests share.
func bringUp() {
	if err := Available(); err != nil {
		skipReason = err.Error()
		return
	}
	// The failing up, a wait for another binary's lab and the real up share it:
	// on the 2-core machine under load each took 4 to 7 minutes (Samba 4.22).
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()
	if labErr = failedUpLeavesNothing(ctx); labErr != nil {
		return
	}
	stateDir, err := os.MkdirTemp("", "bastion-samba-lab-")
	if err != nil {
		labErr = err
		return
	}
	start := time.Now()
	l, err := Up(ctx, stateDir)
	upTime := time.Since(start)
	if err != nil {
		labErr = fmt.Errorf("up failed after %s: %w", upTime.Round(time.Millisecond), err)
		if leftovers := Leftovers(stateDir, "", nil); len(leftovers) > 0 {
			labErr = fmt.Errorf("%w; left behind after the failed up: %s", labErr, strings.Join(leftovers, "; "))
		}
		return
	}
	lab = l
	Report("samba lab [internal/lab/samba]: up in %s (Samba %s, functional level %s, state %s)",
		upTime.Round(time.Millisecond), lab.SambaVersion, lab.FunctionalLevel, lab.StateDir)
}

// failedUpLeavesNothing makes an up fail on purpose once both first DCs run (the
// script's BASTION_LAB_FAIL_AT hook) and checks that its trap tore everything down.
func failedUpLeavesNothing(ctx context.Context) error {
	stateDir, err := os.MkdirTemp("", "bastion-samba-lab-fail-")
	if err != nil {
		return err
	}
	_ = os.Setenv("BASTION_LAB_FAIL_AT", "trust")
	start := time.Now()
	l, err := Up(ctx, stateDir)
	_ = os.Unsetenv("BASTION_LAB_FAIL_AT")
	if err == nil {
		_ = l.Down(context.Background())
		return fmt.Errorf("up with BASTION_LAB_FAIL_AT=trust succeeded")
	}
	if !strings.Contains(err.Error(), "failure injected at step trust") {
		return fmt.Errorf("the failing up failed for another reason: %w", err)
	}
	if left := Leftovers(stateDir, "", nil); len(left) > 0 {
		return fmt.Errorf("a failed up left behind: %s", strings.Join(left, "; "))
	}
	Report("samba lab [internal/lab/samba]: failed up (injected after the first DCs started) cleaned up after itself in %s",
		time.Since(start).Round(time.Millisecond))
	return nil
}

func needLab(t *testing.T) *Lab {
	t.Helper()
	labOnce.Do(bringUp)
	if skipReason != "" {
		t.Skip(skipReason)
	}
	if labErr != nil {
		t.Fatalf("samba lab: %v", labErr)
	}
	return lab
}

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// dial opens LDAPS to DC dc, verifying its certificate with the lab CA, and binds
// as the forest's Administrator (a UPN, or the DN when byDN).
func dial(t *testing.T, l *Lab, dc string, byDN bool) *ldap.Conn {
	t.Helper()
	d, ok := l.DC(dc)
	if !ok {
		t.Fatalf("no DC %s", dc)
	}
	f, _ := l.Forest(d.Forest)
	cfg, err := l.TLSConfig(dc)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := ldap.DialURL(d.LDAPSURL, ldap.DialWithTLSConfig(cfg), ldap.DialWithDialer(&net.Dialer{Timeout: 10 * time.Second}))
	if err != nil {
		t.Fatalf("LDAPS %s (%s): %v", dc, d.LDAPSURL, err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	user := f.AdminUPN
	if byDN {
		user = f.AdminBindDN
	}
	if err := conn.Bind(user, f.AdminPassword); err != nil {
		t.Fatalf("bind %s on %s: %v", user, dc, err)
	}
	return conn
}

func search(t *testing.T, conn *ldap.Conn, base string, scope int, filter string, attrs ...string) []*ldap.Entry {
	t.Helper()
	res, err := conn.Search(ldap.NewSearchRequest(base, scope, ldap.NeverDerefAliases, 0, 30, false, filter, attrs, nil))
	if err != nil {
		t.Fatalf("search %s %s: %v", base, filter, err)
	}
	return res.Entries
}

func ntdsDSAs(t *testing.T, conn *ldap.Conn, baseDN string) []string {
	t.Helper()
	var dns []string
	for _, e := range search(t, conn, "CN=Sites,CN=Configuration,"+baseDN, ldap.ScopeWholeSubtree, "(objectCategory=nTDSDSA)", "dn") {
		dns = append(dns, e.DN)
	}
	sort.Strings(dns)
	return dns
}

func sameDN(a, b string) bool {
	da, err1 := ldap.ParseDN(a)
	db, err2 := ldap.ParseDN(b)
	return err1 == nil && err2 == nil && da.EqualFold(db)
}

func TestSambaLDAPSVerifiesLabCertificates(t *testing.T) {
	l := needLab(t)
	for _, dc := range []string{"priv-dc1", "priv-dc2", "corp-dc1"} {
		conn := dial(t, l, dc, false)
		res := search(t, conn, "", ldap.ScopeBaseObject, "(objectClass=*)", "dnsHostName")
		d, _ := l.DC(dc)
		if got := res[0].GetAttributeValue("dnsHostName"); !strings.EqualFold(got, d.FQDN) {
			t.Errorf("%s rootDSE dnsHostName = %q, want %q", dc, got, d.FQDN)
		}
	}
	dial(t, l, "priv-dc1", true) // a bind DN works as well as a UPN

	// The verification is real: the wrong name, or no lab CA, is refused.
	d, _ := l.DC("priv-dc1")
	cfg, _ := l.TLSConfig("priv-dc1")
	cfg.ServerName = "priv-dc2.priv.contoso.test"
	if conn, err := ldap.DialURL(d.LDAPSURL, ldap.DialWithTLSConfig(cfg)); err == nil {
		_ = conn.Close()
		t.Error("LDAPS to priv-dc1 verified as priv-dc2")
	}
	if conn, err := ldap.DialURL(d.LDAPSURL, ldap.DialWithTLSConfig(&tls.Config{ServerName: d.FQDN})); err == nil {
		_ = conn.Close()
		t.Error("LDAPS to priv-dc1 verified without the lab CA")
	}
	// Simple bind on plain 389 is refused unless the lab was built to allow it.
	conn, err := ldap.DialURL("ldap://" + net.JoinHostPort(d.IP, strconv.Itoa(d.LDAPPort)))
	if err != nil {
		t.Fatalf("LDAP %s: %v", d.IP, err)
	}
	defer func() { _ = conn.Close() }()
	f, _ := l.Forest("priv")
	if err := conn.Bind(f.AdminUPN, f.AdminPassword); (err == nil) != l.LDAPPlainSimpleBind {
		t.Errorf("simple bind on 389: err = %v, lab ldap_plain_simple_bind = %v", err, l.LDAPPlainSimpleBind)
	}
}

func TestSambaBothPRIVDCsAreNTDSDSAs(t *testing.T) {
	l := needLab(t)
	ctx := testContext(t)
	ref, err := l.DCs(ctx, "priv-dc1")
	if err != nil {
		t.Fatal(err)
	}
	var refNames []string
	for _, d := range ref {
		refNames = append(refNames, d.Name)
	}
	if strings.Join(refNames, ",") != "PRIV-DC1,PRIV-DC2" {
		t.Fatalf("reference DCs (ldbsearch on priv-dc1) = %v, want PRIV-DC1,PRIV-DC2", refNames)
	}
	// Both DCs answer the same over LDAPS: the join replicated.
	for _, dc := range []string{"priv-dc1", "priv-dc2"} {
		got := ntdsDSAs(t, dial(t, l, dc, false), "DC=priv,DC=contoso,DC=test")
		if len(got) != len(ref) {
			t.Fatalf("%s lists %d nTDSDSA objects %v, want %d", dc, len(got), got, len(ref))
		}
		for i := range got {
			if !sameDN(got[i], ref[i].NTDSSettingsDN) {
				t.Errorf("%s nTDSDSA[%d] = %q, reference %q", dc, i, got[i], ref[i].NTDSSettingsDN)
			}
		}
	}
	for _, d := range ref {
		if want := strings.ToLower(d.Name) + ".priv.contoso.test"; !strings.EqualFold(d.DNSHostName, want) {
			t.Errorf("%s dNSHostName = %q, want %q", d.Name, d.DNSHostName, want)
		}
	}
}

// fsmoOverLDAP reads the five fSMORoleOwner values where MS-ADCAP puts them
// (domain-facts §1).
func fsmoOverLDAP(t *testing.T, conn *ldap.Conn, base string) map[FSMORole]string {
	t.Helper()
	owner := func(dn string) string {
		e := search(t, conn, dn, ldap.ScopeBaseObject, "(objectClass=*)", "fSMORoleOwner", "rIDManagerReference")
		return e[0].GetAttributeValue("fSMORoleOwner")
	}
	head := search(t, conn, base, ldap.ScopeBaseObject, "(objectClass=*)", "fSMORoleOwner", "rIDManagerReference")[0]
	return map[FSMORole]string{
		adnames.SchemaMaster:         owner("CN=Schema,CN=Configuration," + base),
		adnames.DomainNamingMaster:   owner("CN=Partitions,CN=Configuration," + base),
		adnames.PDCEmulator:          head.GetAttributeValue("fSMORoleOwner"),
		adnames.RIDMaster:            owner(head.GetAttributeValue("rIDManagerReference")),
		adnames.InfrastructureMaster: owner("CN=Infrastructure," + base),
	}
}

func TestSambaFSMORoleOwnersMatchSambaTool(t *testing.T) {
	l := needLab(t)
	ctx := testContext(t)
	for _, dc := range []string{"priv-dc1", "priv-dc2", "corp-dc1"} {
		ref, err := l.FSMOHolders(ctx, dc)
		if err != nil {
			t.Fatal(err)
		}
		d, _ := l.DC(dc)
		got := fsmoOverLDAP(t, dial(t, l, dc, false), d.BaseDN)
		for _, role := range FSMORoles {
			if got[role] == "" || !sameDN(got[role], ref[role]) {
				t.Errorf("%s %s: LDAP fSMORoleOwner %q, samba-tool fsmo show %q", dc, role, got[role], ref[role])
			}
		}
		// The first DC of each forest provisioned it and holds every role.
		first := strings.ToUpper(d.Forest) + "-DC1"
		for _, role := range FSMORoles {
			if ServerOf(ref[role]) != first {
				t.Errorf("%s: %s held by %q, want %s", dc, role, ServerOf(ref[role]), first)
			}
		}
	}
}

func TestSambaForestTrustObjectMatchesSambaTool(t *testing.T) {
	l := needLab(t)
	ctx := testContext(t)
	for _, side := range []struct{ dc, partnerNetBIOS, partnerDNS string }{
		{"priv-dc1", "CORP", "corp.contoso.test"},
		{"priv-dc2", "CORP", "corp.contoso.test"}, // replicated from priv-dc1
		{"corp-dc1", "PRIV", "priv.contoso.test"},
	} {
		trusts, err := l.Trusts(ctx, side.dc)
		if err != nil {
			t.Fatal(err)
		}
		if len(trusts) != 1 || !strings.EqualFold(trusts[0].Name, side.partnerDNS) {
			t.Fatalf("%s: samba-tool trusts = %+v, want one to %s", side.dc, trusts, side.partnerDNS)
		}
		ref := trusts[0]
		d, _ := l.DC(side.dc)
		entries := search(t, dial(t, l, side.dc, false), "CN=System,"+d.BaseDN, ldap.ScopeSingleLevel,
			"(&(objectClass=trustedDomain)(flatName="+ldap.EscapeFilter(side.partnerNetBIOS)+"))",
			"trustDirection", "trustType", "trustAttributes", "trustPartner", "flatName")
		if len(entries) != 1 {
			t.Fatalf("%s: %d trustedDomain objects for %s, want 1", side.dc, len(entries), side.partnerNetBIOS)
		}
		e := entries[0]
		for attr, want := range map[string]uint32{"trustDirection": ref.Direction, "trustType": ref.Type, "trustAttributes": ref.Attributes} {
			got, err := strconv.ParseUint(e.GetAttributeValue(attr), 10, 32)
			if err != nil || uint32(got) != want {
				t.Errorf("%s: %s over LDAP = %q, samba-tool says %d", side.dc, attr, e.GetAttributeValue(attr), want)
			}
		}
		if !strings.EqualFold(e.GetAttributeValue("trustPartner"), ref.Name) {
			t.Errorf("%s: trustPartner %q, samba-tool %q", side.dc, e.GetAttributeValue("trustPartner"), ref.Name)
		}
		// A two-way forest trust (samba-ad-lab.md): direction 3, uplevel, FOREST_TRANSITIVE.
		if ref.Direction != 3 || ref.Type != 2 || ref.Attributes != 0x8 || !ref.Transitive {
			t.Errorf("%s: trust %+v, want direction 3, type 2, attributes 0x8, transitive", side.dc, ref)
		}
	}
}

func TestSambaFunctionalLevelsAndTombstoneLifetime(t *testing.T) {
	l := needLab(t)
	ctx := testContext(t)
	for _, dc := range []string{"priv-dc1", "corp-dc1"} {
		levels, err := l.FunctionalLevels(ctx, dc)
		if err != nil {
			t.Fatal(err)
		}
		if want, _ := BehaviorVersion(strings.ReplaceAll(l.FunctionalLevel, "_", " ")); levels.ForestVersion != want || levels.DomainVersion != want {
			t.Errorf("%s: levels %+v, lab built at %s (%d)", dc, levels, l.FunctionalLevel, want)
		}
		d, _ := l.DC(dc)
		conn := dial(t, l, dc, false)
		root := search(t, conn, "", ldap.ScopeBaseObject, "(objectClass=*)", "forestFunctionality", "domainFunctionality")[0]
		if root.GetAttributeValue("forestFunctionality") != strconv.Itoa(levels.ForestVersion) ||
			root.GetAttributeValue("domainFunctionality") != strconv.Itoa(levels.DomainVersion) {
			t.Errorf("%s: rootDSE forest/domain functionality %s/%s, samba-tool %d/%d", dc,
				root.GetAttributeValue("forestFunctionality"), root.GetAttributeValue("domainFunctionality"),
				levels.ForestVersion, levels.DomainVersion)
		}
		tsl, err := l.TombstoneLifetime(ctx, dc)
		if err != nil {
			t.Fatal(err)
		}
		ds := search(t, conn, "CN=Directory Service,CN=Windows NT,CN=Services,CN=Configuration,"+d.BaseDN,
			ldap.ScopeBaseObject, "(objectClass=*)", "tombstoneLifetime")[0]
		if ds.GetAttributeValue("tombstoneLifetime") != strconv.Itoa(tsl) || tsl != 180 {
			t.Errorf("%s: tombstoneLifetime LDAP %q, ldbsearch %d, want 180", dc, ds.GetAttributeValue("tombstoneLifetime"), tsl)
		}
	}
}

// waitNTDSDSAs polls dc over LDAPS until it lists want nTDSDSA objects.
func waitNTDSDSAs(t *testing.T, l *Lab, dc string, want int, timeout time.Duration) []string {
	t.Helper()
	conn := dial(t, l, dc, false)
	deadline := time.Now().Add(timeout)
	for {
		got := ntdsDSAs(t, conn, "DC=priv,DC=contoso,DC=test")
		if len(got) == want {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s lists %d nTDSDSA objects after %s, want %d: %v", dc, len(got), timeout, want, got)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// Last in the file on purpose: it changes the topology the tests above read.
func TestSambaJoinAndDemoteThirdDC(t *testing.T) {
	l := needLab(t)
	ctx := testContext(t)
	if d, _ := l.DC("priv-dc3"); d.State != "prepared" {
		t.Fatalf("priv-dc3 state %q, want prepared", d.State)
	}

	start := time.Now()
	if err := l.JoinDC(ctx, "priv-dc3"); err != nil {
		t.Fatal(err)
	}
	Report("samba lab [internal/lab/samba]: JoinDC(priv-dc3) in %s", time.Since(start).Round(time.Millisecond))
	if d, _ := l.DC("priv-dc3"); !d.Running() || d.SambaPID == 0 {
		t.Fatalf("after JoinDC priv-dc3 = %+v, want running", d)
	}
	for _, dc := range []string{"priv-dc1", "priv-dc2", "priv-dc3"} {
		got := waitNTDSDSAs(t, l, dc, 3, 30*time.Second)
		if ServerOf(got[2]) != "PRIV-DC3" {
			t.Errorf("%s: third nTDSDSA %q, want PRIV-DC3's", dc, got[2])
		}
	}
	ref, err := l.DCs(ctx, "priv-dc1")
	if err != nil || len(ref) != 3 {
		t.Errorf("reference DCs after join = %+v, %v; want 3", ref, err)
	}

	start = time.Now()
	if err := l.DemoteDC(ctx, "priv-dc3"); err != nil {
		t.Fatal(err)
	}
	Report("samba lab [internal/lab/samba]: DemoteDC(priv-dc3) in %s", time.Since(start).Round(time.Millisecond))
	d, _ := l.DC("priv-dc3")
	if d.State != "prepared" || len(d.PIDs) != 0 {
		t.Errorf("after DemoteDC priv-dc3 = state %q pids %v, want prepared and no process", d.State, d.PIDs)
	}
	for _, dc := range []string{"priv-dc1", "priv-dc2"} {
		got := waitNTDSDSAs(t, l, dc, 2, 30*time.Second)
		for _, dn := range got {
			if ServerOf(dn) == "PRIV-DC3" {
				t.Errorf("%s still lists %s", dc, dn)
			}
		}
	}
}

func TestSkipMessageSaysHowToRun(t *testing.T) {
	if Available() == nil {
		t.Skip("this machine can run the lab: there is no skip message")
	}
	if reason := Available().Error(); !strings.Contains(reason, "sudo go test ./internal/lab/samba/...") {
		t.Errorf("skip reason %q does not say how to run the suite", reason)
	}
}
