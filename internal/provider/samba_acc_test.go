package provider

import (
	"context"
	"errors"
	"fmt"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	tfjson "github.com/hashicorp/terraform-json"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/bastion-pam/terraform-provider-bastion/internal/adnames"
	"github.com/bastion-pam/terraform-provider-bastion/internal/lab"
	"github.com/bastion-pam/terraform-provider-bastion/internal/lab/aptpkg"
	"github.com/bastion-pam/terraform-provider-bastion/internal/lab/model"
	"github.com/bastion-pam/terraform-provider-bastion/internal/lab/samba"
)

// sambaProviderHCL points the provider's LDAP at the real Samba DCs of the
// PRIV forest (LDAPS verified with the Samba lab's CA, simple bind as its
// Administrator, pinned to priv-dc1) and its WinRM at the simulated Windows
// hosts of l.
func sambaProviderHCL(l *lab.Lab, sl *samba.Lab) string {
	f, _ := sl.Forest("priv")
	dc1, _ := sl.DC("priv-dc1")
	dc2, _ := sl.DC("priv-dc2")
	s := l.ProviderSettings()
	s.ConnectTo = map[string]string{}
	for k, v := range l.WinRM.ConnectTo() {
		s.ConnectTo[k] = v
	}
	for k, v := range sl.ConnectTo(636) {
		s.ConnectTo[k] = v
	}
	s.LDAP = lab.LDAPSettings{Login: lab.Login{Username: f.AdminUPN, Password: f.AdminPassword, CAFile: sl.CACert},
		Domain: f.DNSDomain, Servers: [2]string{dc1.FQDN, dc2.FQDN}, PinnedDC: dc1.FQDN}
	s.SQL = nil
	return s.HCL()
}

// sambaDCNames lists the DCs samba-tool's side knows (ldbsearch of the
// nTDSDSA objects in dc's own database), by server name.
func sambaDCNames(ctx context.Context, sl *samba.Lab, dc string) ([]string, error) {
	dcs, err := sl.DCs(ctx, dc)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, d := range dcs {
		names = append(names, d.Name)
	}
	return names, nil
}

// sambaSubtestTimeout bounds one TestAccSamba subtest's calls to the lab (a
// guard against a hung samba-tool, not a performance claim): on the 2-core
// machine under load, samba-tool alone took minutes, and 5 minutes ran out in
// the middle of the FSMO subtest against Samba 4.22.
const sambaSubtestTimeout = 15 * time.Minute

// TestAccSamba runs the provider against real Active Directory: Samba AD DCs
// of internal/lab/samba (root only; `sudo make test`). One lab serves every
// subtest: it comes up on the first call and goes down, checked for leftovers,
// when the last subtest is done. Not parallel: the Samba lab is one per
// machine and the subtests change it (FSMO holders, a third DC), so they run
// one after the other in the package's sequential phase, before the parallel
// tests start, and the lab is given back as soon as they are done. Each
// subtest leaves the lab as it found it when it passes.
func TestAccSamba(t *testing.T) {
	skipUnlessAcc(t)
	if os.Geteuid() != 0 {
		t.Skip("needs root for the Samba AD lab (network namespaces); run the whole suite with `sudo make test`")
	}
	suite := &samba.Suite{Name: "internal/provider"}
	t.Cleanup(func() {
		if err := suite.Close(); err != nil {
			t.Error(err)
		}
	})
	sl := suite.Lab(t)
	start := time.Now()
	// FSMO first: it expects the forest as the lab builds it (two DCs, every
	// role on priv-dc1), which the join and demotion of priv-dc3 also keep.
	t.Run("FSMORolesAndDataSources", func(t *testing.T) { testSambaFSMORoles(t, sl) })
	t.Run("DomainController", func(t *testing.T) { testSambaDomainController(t, sl) })
	// Last: an optional feature cannot be disabled, so this one leaves the
	// Recycle Bin on.
	t.Run("PAMTrustCorpSide", func(t *testing.T) { testSambaPAMTrustCorpSide(t, sl) })
	t.Run("DNSRecord", func(t *testing.T) { testSambaDNSRecord(t, sl) })
	t.Run("OptionalFeatureRecycleBin", func(t *testing.T) { testSambaOptionalFeature(t, sl) })
	samba.Report("samba provider: tests %s after the lab was up in %s", time.Since(start).Round(time.Second), suite.UpTime.Round(time.Second))
}

// sambaFSMOHCL is a bastion_fsmo_roles for the PRIV domain with every role on
// holder, and the two data sources that read what the resource moves. They
// depend on it, so after an apply that moves roles they hold what the
// directory says then, not what it said at plan time.
func sambaFSMOHCL(domain, holder string, importBlock bool) string {
	var b strings.Builder
	if importBlock {
		// The ID in upper case: the import normalises it, so it still plans no change.
		fmt.Fprintf(&b, "import {\n  to = bastion_fsmo_roles.roles\n  id = %q\n}\n\n", strings.ToUpper(domain))
	}
	fmt.Fprintf(&b, "resource \"bastion_fsmo_roles\" \"roles\" {\n  domain_name = %q\n", domain)
	for _, a := range fsmoAttributes {
		fmt.Fprintf(&b, "  %s = %q\n", a.attr, holder)
	}
	b.WriteString("}\n\n")
	b.WriteString("data \"bastion_domain_controllers\" \"dcs\" {\n  depends_on = [bastion_fsmo_roles.roles]\n}\n\n")
	b.WriteString("data \"bastion_backup_status\" \"backups\" {\n  depends_on = [bastion_fsmo_roles.roles]\n}\n")
	return b.String()
}

// sambaFSMOOn checks with `samba-tool fsmo show` on both PRIV DCs, each from
// its own database, that every role is held by the DC named want (PRIV-DC2).
func sambaFSMOOn(ctx context.Context, sl *samba.Lab, want string) error {
	for _, dc := range []string{"priv-dc1", "priv-dc2"} {
		holders, err := sl.FSMOHolders(ctx, dc)
		if err != nil {
			return err
		}
		for _, role := range samba.FSMORoles {
			if got := samba.ServerOf(holders[role]); !strings.EqualFold(got, want) {
				return fmt.Errorf("samba-tool fsmo show on %s: %s is held by %s (%s), want %s", dc, role, got, holders[role], want)
			}
		}
	}
	return nil
}

// sambaDomainControllersAgree compares data.bastion_domain_controllers.dcs
// with Samba's own answers on priv-dc1: the DCs (ldbsearch of the nTDSDSA
// objects: exactly PRIV-DC1 and PRIV-DC2) and the FSMO holders (samba-tool
// fsmo show), both the map by role and each DC's list.
func sambaDomainControllersAgree(ctx context.Context, sl *samba.Lab, s *terraform.State) error {
	got, err := attributesOf(s, "data.bastion_domain_controllers.dcs")
	if err != nil {
		return err
	}
	dcs, err := sl.DCs(ctx, "priv-dc1")
	if err != nil {
		return err
	}
	holders, err := sl.FSMOHolders(ctx, "priv-dc1")
	if err != nil {
		return err
	}
	var names []string
	for _, d := range dcs {
		names = append(names, d.Name)
	}
	if strings.Join(names, ",") != "PRIV-DC1,PRIV-DC2" {
		return fmt.Errorf("ldbsearch on priv-dc1 lists the DCs %v, want PRIV-DC1 and PRIV-DC2 (the lab is not as this test expects it)", names)
	}
	if n := got["domain_controllers.#"]; n != strconv.Itoa(len(dcs)) {
		return fmt.Errorf("the data source lists %s DCs, ldbsearch %d (%v)", n, len(dcs), names)
	}
	hostOf := map[string]string{} // DC name -> dNSHostName
	for i, d := range dcs {
		p := fmt.Sprintf("domain_controllers.%d.", i) // both sorted: by host, by name
		hostOf[strings.ToUpper(d.Name)] = d.DNSHostName
		for attr, want := range map[string]string{
			"name": d.Name, "host": d.DNSHostName, "invocation_id": d.InvocationID, "ntds_settings_dn": d.NTDSSettingsDN,
			"server_dn": d.ServerDN, "site": d.Site, "global_catalog": strconv.FormatBool(d.Options&1 == 1),
			"read_only": strconv.FormatBool(d.ReadOnly), "functional_level": strconv.Itoa(d.BehaviorVersion),
		} {
			if !strings.EqualFold(got[p+attr], want) {
				return fmt.Errorf("DC %d %s: the data source says %q, ldbsearch %q", i, attr, got[p+attr], want)
			}
		}
		var held []string
		for _, role := range samba.FSMORoles {
			if strings.EqualFold(samba.ServerOf(holders[role]), d.Name) {
				held = append(held, role)
			}
		}
		var listed []string
		n, _ := strconv.Atoi(got[p+"fsmo_roles.#"])
		for j := 0; j < n; j++ {
			listed = append(listed, got[fmt.Sprintf("%sfsmo_roles.%d", p, j)])
		}
		if strings.Join(listed, ",") != strings.Join(held, ",") {
			return fmt.Errorf("%s's fsmo_roles: the data source says %v, samba-tool fsmo show %v", d.Name, listed, held)
		}
	}
	for _, role := range samba.FSMORoles {
		want := hostOf[strings.ToUpper(samba.ServerOf(holders[role]))]
		if h := got["fsmo_role_holders."+role]; want == "" || !strings.EqualFold(h, want) {
			return fmt.Errorf("fsmo_role_holders[%s] = %q; samba-tool fsmo show names %s (%q)", role, h, holders[role], want)
		}
	}
	return nil
}

// sambaBackupStatusAgrees compares data.bastion_backup_status.backups with
// Samba's own answers on priv-dc1 (the pinned DC): the tombstone lifetime
// (ldbsearch; 180 days, as samba-tool provisions a forest) and, for each
// naming context it holds, whether it was ever backed up (the dSASignature
// entry of replPropertyMetaData, decoded by Samba's NDR printer).
func sambaBackupStatusAgrees(ctx context.Context, sl *samba.Lab, s *terraform.State) error {
	got, err := attributesOf(s, "data.bastion_backup_status.backups")
	if err != nil {
		return err
	}
	dc1, _ := sl.DC("priv-dc1")
	tomb, err := sl.TombstoneLifetime(ctx, "priv-dc1")
	if err != nil {
		return err
	}
	if tomb != 180 {
		return fmt.Errorf("ldbsearch on priv-dc1: tombstoneLifetime %d, want the 180 days samba-tool provisions", tomb)
	}
	if got["tombstone_lifetime_days"] != strconv.Itoa(tomb) || got["threshold_days"] != strconv.Itoa(tomb) {
		return fmt.Errorf("tombstone_lifetime_days %s and threshold_days %s, ldbsearch says %d", got["tombstone_lifetime_days"], got["threshold_days"], tomb)
	}
	stamps, err := sl.BackupStamps(ctx, "priv-dc1")
	if err != nil {
		return err
	}
	backed := map[string]string{} // NC DN (lower case) -> backed_up
	n, _ := strconv.Atoi(got["backups.#"])
	for i := 0; i < n; i++ {
		p := fmt.Sprintf("backups.%d.", i)
		if !strings.EqualFold(got[p+"dc"], dc1.FQDN) {
			return fmt.Errorf("backups[%d] read on %q, want the pinned DC priv-dc1", i, got[p+"dc"])
		}
		backed[strings.ToLower(got[p+"dn"])] = got[p+"backed_up"]
	}
	if len(backed) != len(stamps) || n != len(stamps) {
		return fmt.Errorf("the data source lists %d naming contexts, priv-dc1's rootDSE %d", n, len(stamps))
	}
	for _, st := range stamps {
		b, ok := backed[strings.ToLower(st.NamingContext)]
		if !ok {
			return fmt.Errorf("the data source has no entry for the naming context %s", st.NamingContext)
		}
		if b != strconv.FormatBool(st.Backed) {
			return fmt.Errorf("%s: backed_up %s, Samba's replPropertyMetaData says %t", st.NamingContext, b, st.Backed)
		}
	}
	// Samba's own backups write no stamp: until StampBackup, no naming context has
	// one, and the data source must say so in one plain warning.
	anyStamp := false
	for _, st := range stamps {
		anyStamp = anyStamp || st.Backed
	}
	if got["backup_stamps_found"] != strconv.FormatBool(anyStamp) {
		return fmt.Errorf("backup_stamps_found %s, Samba's replPropertyMetaData has a stamp: %t", got["backup_stamps_found"], anyStamp)
	}
	if !anyStamp {
		if got["warnings.#"] != "1" || !strings.Contains(got["warnings.0"], "the directory records no backup at all") ||
			!strings.Contains(got["warnings.0"], "samba-tool domain backup") {
			return fmt.Errorf("no stamp on Samba: want the one warning saying no backup is recorded, got %s warnings: %q", got["warnings.#"], got["warnings.0"])
		}
	}
	return nil
}

// withAttribute is a copy of s in which the resource (or data source) addr
// has attr = value.
func withAttribute(s *terraform.State, addr, attr, value string) *terraform.State {
	c := s.DeepCopy() //nolint:staticcheck // SA1019: terraform-plugin-testing exports no other copy of a state; only this test's checks use it
	c.RootModule().Resources[addr].Primary.Attributes[attr] = value
	return c
}

// expectFSMOPlan checks the planned change of the bastion_fsmo_roles at addr,
// role by role: before (the refreshed state) and after (the plan) must name
// the holders given, so a role that is not to move shows no change.
func expectFSMOPlan(addr string, before, after map[string]string) plancheck.PlanCheck {
	return plannedChange(addr, "", func(_ *tfjson.ResourceChange, b, a map[string]any) error {
		var errs []error
		for _, f := range fsmoAttributes {
			gb, _ := b[f.attr].(string)
			ga, _ := a[f.attr].(string)
			if !strings.EqualFold(gb, before[f.attr]) || !strings.EqualFold(ga, after[f.attr]) {
				errs = append(errs, fmt.Errorf("%s: planned %q -> %q, want %q -> %q", f.attr, gb, ga, before[f.attr], after[f.attr]))
			}
		}
		return errors.Join(errs...)
	})
}

// plannedChange checks the plan's change of addr with check, given the
// values before and after as maps. A plan without a change for addr fails,
// with why appended to the message.
func plannedChange(addr, why string, check func(rc *tfjson.ResourceChange, before, after map[string]any) error) plancheck.PlanCheck {
	return planCheckFunc(func(_ context.Context, req plancheck.CheckPlanRequest, resp *plancheck.CheckPlanResponse) {
		for _, rc := range req.Plan.ResourceChanges {
			if rc.Address == addr {
				b, _ := rc.Change.Before.(map[string]any)
				a, _ := rc.Change.After.(map[string]any)
				resp.Error = check(rc, b, a)
				return
			}
		}
		resp.Error = fmt.Errorf("no planned change for %s%s", addr, why)
	})
}

// expectNoOpImport checks that the plan imports addr and changes nothing.
func expectNoOpImport(addr string) plancheck.PlanCheck {
	return plannedChange(addr, ": the import block imported nothing", func(rc *tfjson.ResourceChange, _, _ map[string]any) error {
		if rc.Change.Importing == nil || !rc.Change.Actions.NoOp() {
			return fmt.Errorf("%s: planned %v (importing: %t), want a no-op import", addr, rc.Change.Actions, rc.Change.Importing != nil)
		}
		return nil
	})
}

// testSambaFSMORoles drives bastion_fsmo_roles against the real PRIV domain:
// import with every role where the lab put it (priv-dc1), move them all to
// priv-dc2 and back through apply, then a PDC emulator transfer done out of
// band with samba-tool shows in the next plan and the apply puts it back.
// After each apply samba-tool on both DCs says where the roles are, and the
// data sources bastion_domain_controllers and bastion_backup_status, read in
// the same runs, agree with Samba's own tools.
func testSambaFSMORoles(t *testing.T, sl *samba.Lab) {
	ctx, cancel := context.WithTimeout(context.Background(), sambaSubtestTimeout)
	t.Cleanup(cancel)
	// The lab as samba-lab.sh builds it: every role on priv-dc1.
	if err := sambaFSMOOn(ctx, sl, "PRIV-DC1"); err != nil {
		t.Fatalf("before the test: %v", err)
	}
	l := startLab(t)
	f, _ := sl.Forest("priv")
	dc1, _ := sl.DC("priv-dc1")
	dc2, _ := sl.DC("priv-dc2")
	provider := sambaProviderHCL(l, sl)
	addr := "bastion_fsmo_roles.roles"
	on := func(host string) map[string]string {
		m := map[string]string{}
		for _, a := range fsmoAttributes {
			m[a.attr] = host
		}
		return m
	}
	stateOn := func(host string) []statecheck.StateCheck {
		checks := []statecheck.StateCheck{statecheck.ExpectKnownValue(addr, tfjsonpath.New("id"), knownvalue.StringExact(f.DNSDomain))}
		for _, a := range fsmoAttributes {
			checks = append(checks, statecheck.ExpectKnownValue(addr, tfjsonpath.New(a.attr), knownvalue.StringExact(host)))
		}
		return checks
	}
	rolesOn := func(dcName string) resource.TestCheckFunc {
		return func(s *terraform.State) error {
			if err := sambaFSMOOn(ctx, sl, dcName); err != nil {
				return err
			}
			return sambaDomainControllersAgree(ctx, sl, s)
		}
	}
	pdcOnDC2 := on(dc1.FQDN)
	pdcOnDC2["pdc_emulator"] = dc2.FQDN
	var steps [5]time.Time
	mark := func(i int) func() { return func() { steps[i] = time.Now() } }
	// everyRole is step i: an apply that moves every role from one DC to the
	// other, planned as that and nothing else.
	everyRole := func(i int, from, to samba.DC, toName string) resource.TestStep {
		return resource.TestStep{
			PreConfig: mark(i),
			Config:    provider + sambaFSMOHCL(f.DNSDomain, to.FQDN, false),
			ConfigPlanChecks: resource.ConfigPlanChecks{
				PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(addr, plancheck.ResourceActionUpdate),
					expectFSMOPlan(addr, on(from.FQDN), on(to.FQDN)),
				},
				PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
			},
			ConfigStateChecks: stateOn(to.FQDN),
			Check:             rolesOn(toName),
		}
	}

	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		// Destroy forgets the resource: the roles stay where they are.
		CheckDestroy: func(*terraform.State) error {
			steps[4] = time.Now()
			if err := sambaFSMOOn(ctx, sl, "PRIV-DC1"); err != nil {
				return fmt.Errorf("after destroy: %w", err)
			}
			samba.Report("samba provider: bastion_fsmo_roles import %s, apply moving 5 roles to priv-dc2 %s, back to priv-dc1 %s, "+
				"out-of-band PDC transfer (samba-tool) + plan + apply %s (each with the data sources and samba-tool checks)",
				steps[1].Sub(steps[0]).Round(100*time.Millisecond), steps[2].Sub(steps[1]).Round(100*time.Millisecond),
				steps[3].Sub(steps[2]).Round(100*time.Millisecond), steps[4].Sub(steps[3]).Round(100*time.Millisecond))
			return nil
		},
		Steps: []resource.TestStep{
			{ // import: the configuration names the current holders, so the import changes nothing
				PreConfig: mark(0),
				Config:    provider + sambaFSMOHCL(f.DNSDomain, dc1.FQDN, true),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply:             []plancheck.PlanCheck{expectNoOpImport(addr)},
					PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
				ConfigStateChecks: stateOn(dc1.FQDN),
				Check: resource.ComposeTestCheckFunc(rolesOn("PRIV-DC1"),
					func(s *terraform.State) error { return sambaBackupStatusAgrees(ctx, sl, s) },
					// The comparisons can fail: a state that says otherwise than Samba does.
					func(s *terraform.State) error {
						for name, c := range map[string]struct {
							data, attr, value string
							agree             func(context.Context, *samba.Lab, *terraform.State) error
						}{
							"PDC emulator on priv-dc2":     {"data.bastion_domain_controllers.dcs", "fsmo_role_holders.PDCEmulator", dc2.FQDN, sambaDomainControllersAgree},
							"PRIV-DC1 holding three roles": {"data.bastion_domain_controllers.dcs", "domain_controllers.0.fsmo_roles.#", "3", sambaDomainControllersAgree},
							"60-day tombstone lifetime":    {"data.bastion_backup_status.backups", "tombstone_lifetime_days", "60", sambaBackupStatusAgrees},
							"a backup stamp found":         {"data.bastion_backup_status.backups", "backup_stamps_found", "true", sambaBackupStatusAgrees},
						} {
							if err := c.agree(ctx, sl, withAttribute(s, c.data, c.attr, c.value)); err == nil {
								return fmt.Errorf("the comparison with Samba passed a state that says %s", name)
							}
						}
						return nil
					}),
			},
			everyRole(1, dc1, dc2, "PRIV-DC2"), // every role to priv-dc2
			everyRole(2, dc2, dc1, "PRIV-DC1"), // and back to priv-dc1
			{ // drift: priv-dc2 takes the PDC emulator with samba-tool; the plan moves that role alone back
				PreConfig: func() {
					steps[3] = time.Now()
					out, err := sl.Exec(ctx, "priv-dc2", "samba-tool", "fsmo", "transfer", "--role=pdc")
					if err != nil {
						t.Fatalf("samba-tool fsmo transfer --role=pdc on priv-dc2: %v\n%s", err, out)
					}
					holders, err := sl.FSMOHolders(ctx, "priv-dc1")
					if err != nil {
						t.Fatal(err)
					}
					if h := samba.ServerOf(holders[adnames.PDCEmulator]); !strings.EqualFold(h, "PRIV-DC2") {
						t.Fatalf("after samba-tool fsmo transfer --role=pdc on priv-dc2, samba-tool fsmo show on priv-dc1 names %s:\n%s", h, out)
					}
				},
				Config: provider + sambaFSMOHCL(f.DNSDomain, dc1.FQDN, false),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{
						plancheck.ExpectResourceAction(addr, plancheck.ResourceActionUpdate),
						expectFSMOPlan(addr, pdcOnDC2, on(dc1.FQDN)),
					},
					PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
				ConfigStateChecks: stateOn(dc1.FQDN),
				Check:             rolesOn("PRIV-DC1"),
			},
		},
	})
}

// testSambaDomainController drives bastion_domain_controller against a real
// directory: LDAP reads go to the Samba lab's PRIV DCs, WinRM to the simulated
// Windows host priv-dc3, whose promotion and demotion scripts the lab hands to
// a samba.Backend, so `terraform apply` really joins priv-dc3 to the domain
// with samba-tool and `terraform destroy` really demotes it.
func testSambaDomainController(t *testing.T, sl *samba.Lab) {
	dc3, ok := sl.DC("priv-dc3")
	if !ok || dc3.State != "prepared" {
		t.Fatalf("priv-dc3 = %+v, want a prepared namespace", dc3)
	}
	l := startLab(t)
	l.Env.AddHost(dc3.FQDN)
	if err := l.Sync(); err != nil {
		t.Fatal(err)
	}
	backend := samba.NewBackend(sl)
	_ = l.Env.Do(func(e *model.Env) error { e.DCBackend = backend; return nil })

	ctx, cancel := context.WithTimeout(context.Background(), 2*sambaSubtestTimeout)
	t.Cleanup(cancel)
	addr := "bastion_domain_controller.dc"
	// A DC joins at the level the lab was provisioned with: 2016 (7) from Samba
	// 4.19, 2008 R2 (4) on Debian stable's 4.17.
	level, ok := samba.BehaviorVersion(strings.ReplaceAll(sl.FunctionalLevel, "_", " "))
	if !ok {
		t.Fatalf("the Samba lab's functional level %q has no msDS-Behavior-Version", sl.FunctionalLevel)
	}
	config := sambaProviderHCL(l, sl) + dcConfig{Host: dc3.FQDN, AdminPassword: l.Seed.AdminPassword}.hcl()
	ntds := "CN=NTDS Settings,CN=PRIV-DC3,CN=Servers,CN=" + samba.DefaultSite + ",CN=Sites,CN=Configuration,DC=priv,DC=contoso,DC=test"

	// joined checks, with Samba's tools on both original DCs, whether PRIV-DC3 is a DC.
	joined := func(want bool) resource.TestCheckFunc {
		return func(*terraform.State) error {
			for _, dc := range []string{"priv-dc1", "priv-dc2"} {
				names, err := sambaDCNames(ctx, sl, dc)
				if err != nil {
					return err
				}
				has := false
				for _, n := range names {
					has = has || n == "PRIV-DC3"
				}
				if has != want {
					return fmt.Errorf("ldbsearch on %s lists the DCs %v; PRIV-DC3 among them: %t, want %t", dc, names, has, want)
				}
			}
			if d, _ := sl.DC("priv-dc3"); d.Running() != want {
				return fmt.Errorf("priv-dc3's samba running: %t, want %t", d.Running(), want)
			}
			return nil
		}
	}
	invocationMatches := func(s *terraform.State) error {
		dcs, err := sl.DCs(ctx, "priv-dc1")
		if err != nil {
			return err
		}
		got := s.RootModule().Resources[addr].Primary.Attributes["invocation_id"]
		for _, d := range dcs {
			if d.Name == "PRIV-DC3" && !strings.EqualFold(d.InvocationID, got) {
				return fmt.Errorf("invocation_id %s, ldbsearch says %s", got, d.InvocationID)
			}
		}
		return nil
	}
	calls := func(want ...string) resource.TestCheckFunc {
		return func(*terraform.State) error {
			if got := backend.Calls(); strings.Join(got, ",") != strings.Join(want, ",") {
				return fmt.Errorf("the Samba backend ran %v, want %v", got, want)
			}
			return nil
		}
	}
	stateChecks := []statecheck.StateCheck{
		statecheck.ExpectKnownValue(addr, tfjsonpath.New("id"), knownvalue.StringExact(dc3.FQDN)),
		statecheck.ExpectKnownValue(addr, tfjsonpath.New("site_name"), knownvalue.StringExact(samba.DefaultSite)),
		statecheck.ExpectKnownValue(addr, tfjsonpath.New("global_catalog"), knownvalue.Bool(true)),
		statecheck.ExpectKnownValue(addr, tfjsonpath.New("read_only"), knownvalue.Bool(false)),
		statecheck.ExpectKnownValue(addr, tfjsonpath.New("functional_level"), knownvalue.Int64Exact(int64(level))),
		statecheck.ExpectKnownValue(addr, tfjsonpath.New("fsmo_roles"), knownvalue.ListExact(nil)),
		statecheck.ExpectKnownValue(addr, tfjsonpath.New("ntds_settings_dn"), knownvalue.StringExact(ntds)),
	}
	var steps [3]time.Time

	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy: resource.ComposeTestCheckFunc(joined(false), calls("join priv-dc3", "join priv-dc3", "demote priv-dc3"),
			func(*terraform.State) error {
				samba.Report("samba provider: apply (join) %s, out-of-band demote + apply (re-join) %s, destroy (demote) %s",
					steps[1].Sub(steps[0]).Round(time.Second), steps[2].Sub(steps[1]).Round(time.Second), time.Since(steps[2]).Round(time.Second))
				return nil
			}),
		Steps: []resource.TestStep{
			{ // apply: a real join of priv-dc3; the plan after it is empty
				PreConfig:         func() { steps[0] = time.Now() },
				Config:            config,
				ConfigPlanChecks:  resource.ConfigPlanChecks{PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()}},
				ConfigStateChecks: stateChecks,
				Check:             resource.ComposeTestCheckFunc(noRejectedScripts(l), joined(true), invocationMatches, calls("join priv-dc3")),
			},
			{ // demoted out of band: the refresh drops it and the plan promotes it again
				PreConfig: func() {
					steps[1] = time.Now()
					if err := sl.DemoteDC(ctx, "priv-dc3"); err != nil {
						t.Fatalf("demoting priv-dc3 out of band: %v", err)
					}
				},
				Config: config,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply:             []plancheck.PlanCheck{plancheck.ExpectResourceAction(addr, plancheck.ResourceActionCreate)},
					PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
				ConfigStateChecks: stateChecks,
				Check: resource.ComposeTestCheckFunc(joined(true), invocationMatches, calls("join priv-dc3", "join priv-dc3"),
					func(*terraform.State) error { steps[2] = time.Now(); return nil }),
			},
		},
	})
}

// testSambaOptionalFeature holds bastion_ad_optional_feature to Samba AD.
// Samba 4.17 implements the rootDSE enableOptionalFeature modify for the
// Recycle Bin but accepts it only from a system session (a local ldbmodify
// of sam.ldb): over LDAP, even as Administrator, it answers unwillingToPerform
// "rootdse: Insufficient rights for enableoptionalfeature". So the test
// checks that refusal reaches the user as it is, then enables the feature the
// way Samba allows and proves the rest against Samba: create adopts the
// enabled feature without a write, the state matches ldbsearch of
// msDS-EnabledFeature in each PRIV DC's own database, import by name works,
// and a feature Samba has no object for (Privileged Access Management) fails
// the plan. The enable itself against Windows' semantics (naming master only,
// level check) is covered by the lab's tests. Destroy leaves the feature on:
// it cannot be disabled.
func testSambaOptionalFeature(t *testing.T, sl *samba.Lab) {
	l := startLab(t)
	ctx, cancel := context.WithTimeout(context.Background(), sambaSubtestTimeout)
	defer cancel()
	f, _ := sl.Forest("priv")
	levels, err := sl.FunctionalLevels(ctx, "priv-dc1")
	if err != nil {
		t.Fatal(err)
	}
	addr := "bastion_ad_optional_feature.f"
	provider := sambaProviderHCL(l, sl)
	cfg := provider + featureHCL(adnames.FeatureRecycleBin)
	enabledOn := func(dc string) (bool, error) {
		on, err := sl.EnabledOptionalFeatures(ctx, dc)
		if err != nil {
			return false, err
		}
		for _, n := range on {
			if n == adnames.FeatureRecycleBin {
				return true, nil
			}
		}
		return false, nil
	}
	already, err := enabledOn("priv-dc1")
	if err != nil {
		t.Fatal(err)
	}
	steps := []resource.TestStep{{
		Config:      provider + featureHCL(adnames.FeaturePAM),
		PlanOnly:    true,
		ExpectError: regexp.MustCompile(`(?s)Optional Feature Not Available.*no optional feature`),
	}}
	if !already { // an attached lab may have it on from an earlier run
		steps = append(steps, resource.TestStep{
			Config:      cfg,
			ExpectError: regexp.MustCompile(`(?s)Optional Feature Not Enabled.*Unwilling To Perform.*Insufficient rights for\s+enableoptionalfeature`),
		})
	}
	steps = append(steps,
		resource.TestStep{
			PreConfig: func() {
				if already {
					return
				}
				t.Log("Samba refuses enableOptionalFeature over LDAP (system sessions only): enabling the Recycle Bin with a local ldbmodify of sam.ldb on priv-dc1")
				ldif := fmt.Sprintf("dn:\nchangetype: modify\nadd: enableOptionalFeature\nenableOptionalFeature: CN=Partitions,%s:766ddcd8-acd0-445e-f3b9-a7f9b6744f2a\n", f.ConfigDN)
				if _, err := sl.Exec(ctx, "priv-dc1", "sh", "-c", `printf '%s' "$1" | ldbmodify -H /var/lib/samba/private/sam.ldb`, "_", ldif); err != nil {
					t.Fatalf("enable the Recycle Bin on priv-dc1: %v", err)
				}
				if err := sl.Replicate(ctx, "priv-dc1", f.ConfigDN); err != nil {
					t.Fatal(err)
				}
			},
			Config: cfg,
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue(addr, tfjsonpath.New("id"), knownvalue.StringExact(adnames.FeatureRecycleBin)),
				statecheck.ExpectKnownValue(addr, tfjsonpath.New("guid"), knownvalue.StringExact("766ddcd8-acd0-445e-f3b9-a7f9b6744f2a")),
				statecheck.ExpectKnownValue(addr, tfjsonpath.New("required_forest_level"), knownvalue.Int64Exact(4)),
				statecheck.ExpectKnownValue(addr, tfjsonpath.New("forest_functional_level"), knownvalue.Int64Exact(int64(levels.ForestVersion))),
			},
			Check: func(*terraform.State) error {
				for _, dc := range []string{"priv-dc1", "priv-dc2"} {
					on, err := enabledOn(dc)
					if err != nil {
						return err
					}
					if !on {
						return fmt.Errorf("ldbsearch on %s: the Recycle Bin is not enabled", dc)
					}
				}
				return nil
			},
		},
		importStep(cfg, addr, adnames.FeatureRecycleBin),
	)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy: func(*terraform.State) error {
			on, err := enabledOn("priv-dc1")
			if err != nil {
				return err
			}
			if !on {
				return fmt.Errorf("after destroy, the Recycle Bin is off on priv-dc1; it cannot be disabled")
			}
			return nil
		},
		Steps: steps,
	})
}

// testSambaDNSRecord holds bastion_dns_record to Samba AD end to end: the
// records the provider writes over LDAP are answered by Samba's own DNS
// server (dig from Debian's dnsutils, inside priv-dc1's namespace), a change
// made with `samba-tool dns update` (Samba's RPC path, not LDAP) shows as
// drift and the apply puts the records back, import works, and destroy
// leaves the name unanswered.
func testSambaDNSRecord(t *testing.T, sl *samba.Lab) {
	ctx, cancel := context.WithTimeout(context.Background(), sambaSubtestTimeout)
	defer cancel()
	dig := aptpkg.NeedCommand(ctx, t, "dig", "dnsutils")
	l := startLab(t)
	f, _ := sl.Forest("priv")
	dc1, _ := sl.DC("priv-dc1")
	zone := f.DNSDomain
	fqdn := "mim-alias." + zone
	query := func() (string, error) {
		out, err := sl.Exec(ctx, "priv-dc1", dig, "@"+dc1.IP, "+short", "+norecurse", "+time=2", "+tries=2", fqdn, "A")
		if err != nil {
			return "", err
		}
		lines := strings.Fields(out)
		sort.Strings(lines)
		return strings.Join(lines, ","), nil
	}
	expectDig := func(want string) func(*terraform.State) error {
		return func(*terraform.State) error {
			got, err := query()
			if err != nil {
				return err
			}
			if got != want {
				return fmt.Errorf("dig @%s %s A answers %q, want %q", dc1.IP, fqdn, got, want)
			}
			return nil
		}
	}
	addr := "bastion_dns_record.mim"
	cfg := sambaProviderHCL(l, sl) + dnsRecordHCL("mim", zone, "mim-alias", "A", 300, "10.77.0.201", "10.77.0.202")
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             func(s *terraform.State) error { return expectDig("")(s) },
		Steps: []resource.TestStep{
			{
				Config: cfg,
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("ttl"), knownvalue.Int64Exact(300)),
				},
				Check: expectDig("10.77.0.201,10.77.0.202"),
			},
			importStep(cfg, addr, zone+"/mim-alias/A"),
			{ // drift made with samba-tool over RPC: the plan shows it, the apply puts the record back
				PreConfig: func() {
					if _, err := sl.Exec(ctx, "priv-dc1", "samba-tool", "dns", "update", dc1.IP, zone, "mim-alias", "A", "10.77.0.202", "10.77.0.209",
						"-U", f.AdminNetBIOS, "--password="+f.AdminPassword); err != nil {
						t.Fatalf("samba-tool dns update: %v", err)
					}
					if got, err := query(); err != nil || got != "10.77.0.201,10.77.0.209" {
						t.Fatalf("after samba-tool dns update, dig answers %q (%v)", got, err)
					}
				},
				Config:           cfg,
				ConfigPlanChecks: plannedAction(addr, plancheck.ResourceActionUpdate),
				Check:            expectDig("10.77.0.201,10.77.0.202"),
			},
		},
	})
}

// sambaTrustProviderHCL is sambaProviderHCL with the CORP password for
// refreshes (pam_corp_password) and the CORP forest's DNS name dialled at its
// only DC, whose certificate names the realm (as a domain's DNS name resolves
// to its DCs).
func sambaTrustProviderHCL(l *lab.Lab, sl *samba.Lab) string {
	corp, _ := sl.Forest("corp")
	dc, _ := sl.DC("corp-dc1")
	return strings.Replace(sambaProviderHCL(l, sl), "provider \"bastion\" {\n  connect_to = {\n",
		fmt.Sprintf("provider \"bastion\" {\n  pam_corp_password = %q\n  connect_to = {\n    \"%s:636\" = \"%s:636\"\n", corp.AdminPassword, corp.DNSDomain, dc.IP), 1)
}

// sambaTrustHCL is a bastion_pam_trust for the Samba lab's real PRIV <-> CORP
// forest trust as samba-tool builds it (both ways, no netdom bits: sid_history,
// quarantine and pim_trust all false), imported with the CORP account in its ID
// when importBlock, or forgotten (a removed block) when forget.
func sambaTrustHCL(sl *samba.Lab, importBlock, forget bool) string {
	corp, _ := sl.Forest("corp")
	if forget {
		return "removed {\n  from = bastion_pam_trust.corp\n  lifecycle {\n    destroy = false\n  }\n}\n"
	}
	var b strings.Builder
	if importBlock {
		fmt.Fprintf(&b, "import {\n  to = bastion_pam_trust.corp\n  id = %q\n}\n\n", model.App1+"/"+corp.DNSDomain+"/"+corp.AdminNetBIOS)
	}
	fmt.Fprintf(&b, `resource "bastion_pam_trust" "corp" {
  host             = %q
  source_forest    = %q
  corp_username    = %q
  corp_password_wo = %q
  bidirectional    = true
  sid_history      = false
  quarantine       = false
  pim_trust        = false
}
`, model.App1, corp.DNSDomain, corp.AdminNetBIOS, corp.AdminPassword)
	return b.String()
}

// sambaSetCorpTrustAttributes writes trustAttributes of CORP's trustedDomain
// object for PRIV on corp-dc1 (ldbmodify on its own database: what netdom's
// /EnableSIDHistory changes on Windows) and checks samba-tool reads it back.
func sambaSetCorpTrustAttributes(ctx context.Context, sl *samba.Lab, attrs uint32) error {
	corp, _ := sl.Forest("corp")
	priv, _ := sl.Forest("priv")
	ldif := fmt.Sprintf("dn: CN=%s,CN=System,%s\nchangetype: modify\nreplace: trustAttributes\ntrustAttributes: %d\n", priv.DNSDomain, corp.BaseDN, attrs)
	if out, err := sl.Exec(ctx, "corp-dc1", "sh", "-c", `printf '%s' "$1" | ldbmodify -H /var/lib/samba/private/sam.ldb`, "_", ldif); err != nil {
		return fmt.Errorf("ldbmodify trustAttributes %d on corp-dc1: %w\n%s", attrs, err, out)
	}
	trusts, err := sl.Trusts(ctx, "corp-dc1")
	if err != nil {
		return err
	}
	for _, tr := range trusts {
		if strings.EqualFold(tr.Name, priv.DNSDomain) {
			if tr.Attributes != attrs {
				return fmt.Errorf("after ldbmodify, samba-tool domain trust show on corp-dc1 says trustAttributes 0x%X, want 0x%X", tr.Attributes, attrs)
			}
			return nil
		}
	}
	return fmt.Errorf("samba-tool domain trust list on corp-dc1 has no trust with %s", priv.DNSDomain)
}

// expectImportUpdate checks that the plan imports addr and changes attr from
// before (what the import read) to after (the configuration).
func expectImportUpdate(addr, attr string, before, after any) plancheck.PlanCheck {
	return plannedChange(addr, "", func(rc *tfjson.ResourceChange, b, a map[string]any) error {
		if rc.Change.Importing == nil || !rc.Change.Actions.Update() || b[attr] != before || a[attr] != after {
			return fmt.Errorf("%s: planned %v (importing: %t) with %s %v -> %v, want an import that updates %s %v -> %v",
				addr, rc.Change.Actions, rc.Change.Importing != nil, attr, b[attr], a[attr], attr, before, after)
		}
		return nil
	})
}

// testSambaPAMTrustCorpSide imports bastion_pam_trust for the lab's real
// forest trust and shows that the CORP side (corp-dc1's trustedDomain object
// for PRIV, read over LDAPS as CORP\Administrator) is read on every refresh:
// the import plans no change, a bit set on the CORP side shows in the state
// at the next refresh, and an import made while it is set plans the change on
// its first plan. The trust is never applied to (netdom would run on the
// simulated host, not on Samba): each state is forgotten with a removed block.
func testSambaPAMTrustCorpSide(t *testing.T, sl *samba.Lab) {
	ctx, cancel := context.WithTimeout(context.Background(), sambaSubtestTimeout)
	t.Cleanup(cancel)
	trusts, err := sl.Trusts(ctx, "corp-dc1")
	if err != nil {
		t.Fatal(err)
	}
	priv, _ := sl.Forest("priv")
	var base uint32
	for _, tr := range trusts {
		if strings.EqualFold(tr.Name, priv.DNSDomain) {
			base = tr.Attributes
		}
	}
	if base != adnames.TrustAttrForestTransitive {
		t.Fatalf("samba-tool domain trust show on corp-dc1: trustAttributes 0x%X for %s, want the forest trust's 0x8 (%+v)", base, priv.DNSDomain, trusts)
	}
	t.Cleanup(func() {
		if err := sambaSetCorpTrustAttributes(context.WithoutCancel(ctx), sl, base); err != nil {
			t.Errorf("putting the CORP side back: %v", err)
		}
	})
	drifted := base | adnames.TrustAttrTreatAsExternal
	l := startLab(t)
	provider := sambaTrustProviderHCL(l, sl)
	addr := "bastion_pam_trust.corp"
	corpSide := func(attrs uint32) []statecheck.StateCheck {
		return []statecheck.StateCheck{
			statecheck.ExpectKnownValue(addr, tfjsonpath.New("corp_trust_attributes"), knownvalue.Int64Exact(int64(attrs))),
			statecheck.ExpectKnownValue(addr, tfjsonpath.New("corp_trust_direction"), knownvalue.Int64Exact(int64(adnames.TrustDirectionBidirectional))),
			statecheck.ExpectKnownValue(addr, tfjsonpath.New("sid_history_enabled"), knownvalue.Bool(attrs&adnames.TrustAttrTreatAsExternal != 0)),
		}
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{ // import: PRIV's side from priv-dc1, CORP's from corp-dc1; nothing to change
				Config: provider + sambaTrustHCL(sl, true, false),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply:             []plancheck.PlanCheck{expectNoOpImport(addr)},
					PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
				ConfigStateChecks: append(corpSide(base),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("id"), knownvalue.StringExact(strings.ToLower(sambaCorpDNS(sl)))),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("trust_attributes"), knownvalue.Int64Exact(int64(adnames.TrustAttrForestTransitive))),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("flat_name"), knownvalue.StringExact("CORP")),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("sid_history"), knownvalue.Bool(false))),
			},
			{ // TREAT_AS_EXTERNAL set on the CORP side: a refresh alone records it
				PreConfig: func() {
					if err := sambaSetCorpTrustAttributes(ctx, sl, drifted); err != nil {
						t.Fatal(err)
					}
				},
				RefreshState:       true,
				ExpectNonEmptyPlan: true,
				Check: resource.ComposeTestCheckFunc(
					resource.TestCheckResourceAttr(addr, "corp_trust_attributes", strconv.Itoa(int(drifted))),
					resource.TestCheckResourceAttr(addr, "sid_history_enabled", "true"),
					resource.TestCheckResourceAttr(addr, "sid_history", "false")),
			},
			{ // forget it (a removed block), then import it again while the CORP side differs
				Config: provider + sambaTrustHCL(sl, false, true),
			},
			{ // the first plan of the new import shows the difference: sid_history true on CORP, false wanted
				Config:             provider + sambaTrustHCL(sl, true, false),
				PlanOnly:           true,
				ExpectNonEmptyPlan: true,
				ConfigPlanChecks: resource.ConfigPlanChecks{PostApplyPostRefresh: []plancheck.PlanCheck{
					expectImportUpdate(addr, "sid_history", true, false),
				}},
			},
			{ // the CORP side put back: the import plans no change again
				PreConfig: func() {
					if err := sambaSetCorpTrustAttributes(ctx, sl, base); err != nil {
						t.Fatal(err)
					}
				},
				Config: provider + sambaTrustHCL(sl, true, false),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply:             []plancheck.PlanCheck{expectNoOpImport(addr)},
					PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
				ConfigStateChecks: corpSide(base),
			},
			{ // forget it, so the test's destroy touches nothing
				Config: provider + sambaTrustHCL(sl, false, true),
			},
		},
	})
}

func sambaCorpDNS(sl *samba.Lab) string {
	f, _ := sl.Forest("corp")
	return f.DNSDomain
}
