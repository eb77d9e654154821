package provider

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	fwresource "github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
	"github.com/hashicorp/terraform-plugin-testing/config"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/bastion-pam/terraform-provider-bastion/internal/adnames"
	"github.com/bastion-pam/terraform-provider-bastion/internal/lab"
	"github.com/bastion-pam/terraform-provider-bastion/internal/lab/model"
	"github.com/bastion-pam/terraform-provider-bastion/internal/lab/winrmsim"
)

const labDSRMPassword = "Dsrm!Passw0rd-lab"

// dcConfig renders a bastion_domain_controller. With AdminPassword set it
// overrides the promotion credential (admin_username = PRIV\Administrator);
// without it the promotion uses the provider's WinRM account.
type dcConfig struct {
	Name, Host, Site, DatabasePath string
	ReplicationSource              string
	GlobalCatalog                  *bool
	AdminUsername, AdminPassword   string
}

func (c dcConfig) hcl() string {
	if c.Name == "" {
		c.Name = "dc"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "resource \"bastion_domain_controller\" %q {\n", c.Name)
	fmt.Fprintf(&b, "  host = %q\n  domain_name = %q\n  safe_mode_password_wo = %q\n", c.Host, model.DomainDNS, labDSRMPassword)
	if c.AdminPassword != "" {
		if c.AdminUsername == "" {
			c.AdminUsername = model.AdminUser
		}
		fmt.Fprintf(&b, "  admin_username = %q\n  admin_password_wo = %q\n", c.AdminUsername, c.AdminPassword)
	}
	if c.Site != "" {
		fmt.Fprintf(&b, "  site_name = %q\n", c.Site)
	}
	if c.DatabasePath != "" {
		fmt.Fprintf(&b, "  database_path = %q\n", c.DatabasePath)
	}
	if c.ReplicationSource != "" {
		fmt.Fprintf(&b, "  replication_source_dc = %q\n", c.ReplicationSource)
	}
	if c.GlobalCatalog != nil {
		fmt.Fprintf(&b, "  global_catalog = %t\n", *c.GlobalCatalog)
	}
	b.WriteString("}\n")
	return b.String()
}

// importBlock adopts an existing DC with an import block.
func importBlock(name, id string) string {
	return fmt.Sprintf("import {\n  to = bastion_domain_controller.%s\n  id = %q\n}\n", name, id)
}

// forget drops a DC from the state without demoting it.
func forget(name string) string {
	return fmt.Sprintf("removed {\n  from = bastion_domain_controller.%s\n  lifecycle {\n    destroy = false\n  }\n}\n", name)
}

// ntdsOptions returns a DC's nTDSDSA options and whether host is a DC.
func ntdsOptions(l *lab.Lab, host string) (uint32, bool) {
	var v uint32
	var ok bool
	_ = l.Env.Do(func(e *model.Env) error {
		if _, dc := e.DirectoryOf(host); dc != nil {
			v, ok = dc.NTDSOptions(), true
		}
		return nil
	})
	return v, ok
}

func isLabDC(l *lab.Lab, host string) bool { _, ok := ntdsOptions(l, host); return ok }

// localAdminPassword is the local Administrator password the lab's
// Uninstall-ADDSDomainController last set on host ("" when none).
func localAdminPassword(l *lab.Lab, host string) string {
	var pw string
	_ = l.Env.Do(func(e *model.Env) error { pw = e.Credentials[winrmsim.LocalAdministrator(host)]; return nil })
	return pw
}

// lastDemotionPassword is the local Administrator password the lab's
// Uninstall-ADDSDomainController last set on host, even after a later
// promotion removed the account ("" when none).
func lastDemotionPassword(l *lab.Lab, host string) string {
	var pw string
	_ = l.Env.Do(func(e *model.Env) error {
		if set := e.DemotionPasswords[model.Key(host)]; len(set) > 0 {
			pw = set[len(set)-1]
		}
		return nil
	})
	return pw
}

// checkRandomPassword: 32 characters with upper and lower case letters,
// digits and symbols.
func checkRandomPassword(pw string) error {
	c := adnames.ClassesOf(pw)
	if len(pw) != 32 || c.Count() != 4 {
		return fmt.Errorf("a password of %d characters (upper %t, lower %t, digit %t, symbol %t), want 32 with all four classes", len(pw), c.Upper, c.Lower, c.Digit, c.Other)
	}
	return nil
}

// A promotion as on Windows: the server restarts as the cmdlet completes
// (the WinRM command loses its connection, the host refuses connections
// for the restart window), and the new DC reaches the pinned DC only after
// a 30 s replication delay from its replication source (DC2). The create
// verifies on DC2, waits for the pinned DC within the create timeout, and
// the next plan is empty.
func TestAccDomainController_restartAndReplicationDelay(t *testing.T) {
	skipUnlessAcc(t)
	l := startLab(t)
	const delay = 30 * time.Second
	_ = l.Env.Do(func(e *model.Env) error {
		e.RestartWindow, e.ReplicationDelay = 3*time.Second, delay
		return nil
	})
	cfg := dcConfig{Host: model.Spare1, ReplicationSource: model.DC2}
	moved := cfg
	moved.DatabasePath = `D:\NTDS`
	var started time.Time
	var eventsBefore int
	var dc2Reads int
	events := func(kind string) []model.Event { return labEvents(l, kind, model.Spare1) }
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				PreConfig: func() {
					started = time.Now()
					dc2Reads = l.Env.CallCount(model.LDAP, model.DC2)
				},
				Config: l.ProviderHCL() + cfg.hcl(),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("bastion_domain_controller.dc", tfjsonpath.New("id"), knownvalue.StringExact(model.Spare1)),
					statecheck.ExpectKnownValue("bastion_domain_controller.dc", tfjsonpath.New("replication_source_dc"), knownvalue.StringExact(model.DC2)),
				},
				Check: resource.ComposeTestCheckFunc(
					noRejectedScripts(l),
					func(*terraform.State) error {
						if len(events("winrm-connection-lost")) != 1 {
							return fmt.Errorf("the promotion's WinRM command did not lose its connection to the restart: %+v", l.Env.Events())
						}
						restarts := events("restart")
						if len(restarts) != 2 || restarts[1].Detail != "back" {
							return fmt.Errorf("want the host down and back, got %+v", restarts)
						}
						repl := events("replication")
						if len(repl) != 1 || !strings.Contains(repl[0].Detail, "written on "+model.DC2) {
							return fmt.Errorf("replication events %+v", repl)
						}
						// The pinned DC saw the new DC only after the delay, and the
						// create waited for it: it cannot have ended sooner.
						if took := time.Since(started); took < delay {
							return fmt.Errorf("the create ended after %s, before the new DC could reach the pinned DC (%s)", took, delay)
						}
						if n := l.Env.CallCount(model.LDAP, model.DC2) - dc2Reads; n == 0 {
							return fmt.Errorf("the promotion was never verified on its replication source %s", model.DC2)
						}
						return nil
					},
				),
			},
			{
				// Quick replication again so the destroy's demotion reaches the pinned DC soon.
				PreConfig: func() {
					_ = l.Env.Do(func(e *model.Env) error { e.ReplicationDelay = time.Second; return nil })
				},
				Config: l.ProviderHCL() + cfg.hcl(),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
			},
			{
				// A replacement demotes, and the server restarts for longer than
				// the WinRM client's own retries last: the promotion waits for it.
				PreConfig: func() {
					_ = l.Env.Do(func(e *model.Env) error { e.RestartWindow = 8 * time.Second; return nil })
					eventsBefore = len(l.Env.Events())
				},
				Config: l.ProviderHCL() + moved.hcl(),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction("bastion_domain_controller.dc", plancheck.ResourceActionDestroyBeforeCreate)},
				},
				Check: func(*terraform.State) error {
					var seen []string
					for _, ev := range l.Env.Events()[eventsBefore:] {
						if ev.Host == model.Spare1 && (strings.HasPrefix(ev.Kind, "dc-") || ev.Kind == "restart") {
							seen = append(seen, ev.Kind+" "+ev.Detail)
						}
					}
					want := []string{"dc-demoted", "restart down", "restart back", "dc-promoted", "restart down", "restart back"}
					if len(seen) != len(want) {
						return fmt.Errorf("events on %s: %q, want %q", model.Spare1, seen, want)
					}
					for i, w := range want {
						if !strings.HasPrefix(seen[i], w) {
							return fmt.Errorf("events on %s: %q, want %q", model.Spare1, seen, want)
						}
					}
					return nil
				},
			},
		},
	})
}

func TestAccDomainController_lifecycle(t *testing.T) {
	skipUnlessAcc(t)
	l := startLab(t)
	addr := "bastion_domain_controller.dc"
	// No admin_username: the promotion and every demotion use the provider's WinRM account.
	base := dcConfig{Host: model.Spare1}
	noGC := base
	noGC.GlobalCatalog = boolPtr(false)
	moved := noGC
	moved.DatabasePath = `D:\NTDS`
	var optionsBefore uint32
	var eventsBefore int
	var invocation, firstLocalPassword string

	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy: func(*terraform.State) error {
			if isLabDC(l, model.Spare1) {
				return fmt.Errorf("%s is still a DC after destroy", model.Spare1)
			}
			// The destroy demoted with a fresh random local Administrator password.
			pw := localAdminPassword(l, model.Spare1)
			if err := checkRandomPassword(pw); err != nil {
				return fmt.Errorf("local Administrator password after the destroy: %w", err)
			}
			if pw == firstLocalPassword {
				return fmt.Errorf("two demotions set the same local Administrator password")
			}
			return nil
		},
		Steps: []resource.TestStep{
			{ // promote priv-spare1
				Config: l.ProviderHCL() + base.hcl(),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("id"), knownvalue.StringExact(model.Spare1)),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("site_name"), knownvalue.StringExact(model.DefaultSite)),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("global_catalog"), knownvalue.Bool(true)),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("read_only"), knownvalue.Bool(false)),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("functional_level"), knownvalue.Int64Exact(7)),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("fsmo_roles"), knownvalue.ListExact(nil)),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("admin_username"), knownvalue.Null()),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("ntds_settings_dn"),
						knownvalue.StringExact("CN=NTDS Settings,CN=PRIV-SPARE1,CN=Servers,CN="+model.DefaultSite+",CN=Sites,CN=Configuration,DC=priv,DC=contoso,DC=test")),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("admin_password_wo"), knownvalue.Null()),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("safe_mode_password_wo"), knownvalue.Null()),
				},
				Check: resource.ComposeTestCheckFunc(
					noRejectedScripts(l),
					labCheck(l, func(e *model.Env) error {
						dc := e.Domain.DC(model.Spare1)
						if dc == nil || !dc.GlobalCatalog {
							return fmt.Errorf("the model has %+v for %s, want a GC", dc, model.Spare1)
						}
						invocation = dc.InvocationID
						return nil
					}),
					func(s *terraform.State) error {
						if got := s.RootModule().Resources[addr].Primary.Attributes["invocation_id"]; got != invocation {
							return fmt.Errorf("invocation_id = %q, the lab's is %q", got, invocation)
						}
						var files []string
						_ = l.Env.Do(func(e *model.Env) error {
							for k := range e.Host(model.Spare1).Files {
								if strings.Contains(strings.ToLower(k), "bastion") {
									files = append(files, k)
								}
							}
							return nil
						})
						if len(files) > 0 {
							return fmt.Errorf("the provider left files on the new DC: %v", files)
						}
						// The new DC answers LDAP itself, on the listener the lab opened for every host at start.
						ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
						defer cancel()
						root, err := labDirectory(t, l, model.Spare1).RootDSE(ctx)
						if err != nil || !strings.Contains(root.DSServiceName, "CN=PRIV-SPARE1,") {
							return fmt.Errorf("the new DC's own rootDSE: %+v, %w", root, err)
						}
						return nil
					},
				),
			},
			{ // GC off in place: only bit 0x1 of options changes
				PreConfig: func() {
					_ = l.Env.Do(func(e *model.Env) error {
						dc := e.Domain.DC(model.Spare1)
						dc.SetNTDSOptions(dc.NTDSOptions() | adnames.NTDSOptDisableOutboundRepl | adnames.NTDSOptDisableSPNRegistration)
						optionsBefore = dc.NTDSOptions()
						return nil
					})
				},
				Config:           l.ProviderHCL() + noGC.hcl(),
				ConfigPlanChecks: plannedAction(addr, plancheck.ResourceActionUpdate),
				Check: func(*terraform.State) error {
					after, _ := ntdsOptions(l, model.Spare1)
					if after != optionsBefore&^adnames.NTDSOptIsGC || optionsBefore&adnames.NTDSOptIsGC == 0 {
						return fmt.Errorf("options 0x%x -> 0x%x: want only bit 0x1 cleared", optionsBefore, after)
					}
					return nil
				},
			},
			// import by host
			importStep(l.ProviderHCL()+noGC.hcl(), addr, model.Spare1),
			{ // drift: GC switched back on out of band -> in-place update turns it off again
				PreConfig: func() {
					_ = l.Env.Do(func(e *model.Env) error {
						dc := e.Domain.DC(model.Spare1)
						dc.SetNTDSOptions(dc.NTDSOptions() | adnames.NTDSOptIsGC)
						return nil
					})
				},
				Config: l.ProviderHCL() + noGC.hcl(),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(addr, plancheck.ResourceActionUpdate),
					plancheck.ExpectKnownValue(addr, tfjsonpath.New("global_catalog"), knownvalue.Bool(false)),
				}},
				Check: func(*terraform.State) error {
					if v, _ := ntdsOptions(l, model.Spare1); v&adnames.NTDSOptIsGC != 0 {
						return fmt.Errorf("options 0x%x: the GC bit is still set", v)
					}
					return nil
				},
			},
			{ // drift: demoted out of band -> the refresh drops it and the plan promotes it again
				PreConfig: func() {
					if err := l.Env.DemoteDC(model.Spare1); err != nil {
						t.Fatal(err)
					}
				},
				Config:           l.ProviderHCL() + noGC.hcl(),
				ConfigPlanChecks: plannedAction(addr, plancheck.ResourceActionCreate),
				Check: resource.ComposeTestCheckFunc(noRejectedScripts(l), func(*terraform.State) error {
					if v, ok := ntdsOptions(l, model.Spare1); !ok || v&adnames.NTDSOptIsGC != 0 {
						return fmt.Errorf("after re-promotion: DC=%t options 0x%x, want a DC without GC", ok, v)
					}
					return nil
				}),
			},
			{ // the next plan is empty
				Config:   l.ProviderHCL() + noGC.hcl(),
				PlanOnly: true,
			},
			{ // a database path on a DC promoted with Windows' default: demote, then promote again
				PreConfig:        func() { eventsBefore = len(l.Env.Events()) },
				Config:           l.ProviderHCL() + moved.hcl(),
				ConfigPlanChecks: plannedAction(addr, plancheck.ResourceActionDestroyBeforeCreate),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("database_path"), knownvalue.StringExact(`D:\NTDS`)),
				},
				Check: func(*terraform.State) error {
					var kinds []string
					for _, ev := range l.Env.Events()[eventsBefore:] {
						if ev.Host == model.Spare1 && strings.HasPrefix(ev.Kind, "dc-") {
							kinds = append(kinds, ev.Kind)
						}
					}
					if strings.Join(kinds, ",") != "dc-demoted,dc-promoted" {
						return fmt.Errorf("events on %s: %v, want a demotion then a promotion", model.Spare1, kinds)
					}
					// The promotion removed the account again; the demotion's password is in the lab's record.
					firstLocalPassword = lastDemotionPassword(l, model.Spare1)
					return checkRandomPassword(firstLocalPassword)
				},
			},
			{ // a case-only change of the path replaces nothing
				Config:           l.ProviderHCL() + strings.Replace(moved.hcl(), `D:\\NTDS`, `d:\\ntds`, 1),
				ConfigPlanChecks: plannedAction(addr, plancheck.ResourceActionUpdate),
			},
		},
	})
}

// Plan-time refusals: demoting a DC that holds FSMO roles, and the last
// writable DC. The DCs are adopted with import blocks, refused a destroy,
// then forgotten with a removed block.
func TestAccDomainController_demotionRefused(t *testing.T) {
	skipUnlessAcc(t)
	cases := map[string]struct {
		prepare func(l *lab.Lab) error
		want    string
	}{
		"fsmo holder": {
			want: `(?s)Domain Controller Holds FSMO Roles.*priv-dc1\.priv\.contoso\.test.*bastion_fsmo_roles.*Move-ADDirectoryServerOperationMasterRole.*SchemaMaster,\s*DomainNamingMaster,\s*PDCEmulator,\s*RIDMaster,\s*InfrastructureMaster`,
		},
		"last dc": {
			prepare: func(l *lab.Lab) error { return l.Env.DemoteDC(model.DC2) },
			want:    `(?s)Last Domain Controller Not Demoted.*priv-dc1\.priv\.contoso\.test.*writable\s+domain\s+controller`,
		},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			l := startLab(t, c.prepare)
			dc1 := dcConfig{Name: "dc1", Host: model.DC1}
			resource.ParallelTest(t, resource.TestCase{
				ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
				Steps: []resource.TestStep{
					{ // adopt
						Config: l.ProviderHCL() + importBlock("dc1", model.DC1) + dc1.hcl(),
						ConfigStateChecks: []statecheck.StateCheck{
							statecheck.ExpectKnownValue("bastion_domain_controller.dc1", tfjsonpath.New("fsmo_roles"), knownvalue.ListSizeExact(5)),
						},
					},
					{ // removing it from the configuration plans a demotion: refused at plan time
						PreConfig:   func() { l.Env.ResetCounters() },
						Config:      l.ProviderHCL(),
						ExpectError: regexp.MustCompile(c.want),
					},
					{
						PreConfig: func() {
							if n := l.Env.CallCount(model.WinRM, ""); n != 0 {
								t.Fatalf("the refused demotion ran %d scripts", n)
							}
							if !isLabDC(l, model.DC1) {
								t.Fatal("priv-dc1 was demoted")
							}
						},
						Config: l.ProviderHCL() + forget("dc1"),
					},
				},
			})
		})
	}
}

func TestAccDomainController_planTimeErrors(t *testing.T) {
	skipUnlessAcc(t)
	l := startLab(t)
	withLine := func(c dcConfig, line string) string { return strings.Replace(c.hcl(), "\n", "\n"+line+"\n", 1) }
	// Checked when applying, before any script: a replacement on the same host plans the new DC while the host is still one.
	expectErrors(t, l.ProviderHCL(), false, map[string]errorCase{
		"already a dc": {dcConfig{Host: model.DC2}.hcl(), `(?s)Already A Domain Controller.*terraform\s+import`},
	})
	expectErrors(t, l.ProviderHCL(), true, map[string]errorCase{
		"short host":    {dcConfig{Host: "priv-spare1"}.hcl(), `(?s)host.*fully\s+qualified\s+domain\s+name`},
		"relative path": {dcConfig{Host: model.Spare1, DatabasePath: `NTDS`}.hcl(), `(?s)database_path.*absolute\s+Windows\s+path`},
		"bad domain": {strings.Replace(dcConfig{Host: model.Spare1}.hcl(), `domain_name = "`+model.DomainDNS+`"`, `domain_name = "PRIV"`, 1),
			`(?s)domain_name.*single\s+label`},
		"username without password": {withLine(dcConfig{Host: model.Spare1}, `  admin_username = "PRIV\\Administrator"`),
			`(?s)Invalid\s+Attribute\s+Combination.*configured\s+together.*admin_username,\s*admin_password_wo`},
		"password without username": {withLine(dcConfig{Host: model.Spare1}, `  admin_password_wo = "x"`),
			`(?s)Invalid\s+Attribute\s+Combination.*configured\s+together.*admin_username,\s*admin_password_wo`},
		"upn override": {dcConfig{Host: model.Spare1, AdminUsername: "administrator@priv.contoso.test", AdminPassword: "x"}.hcl(),
			`(?s)admin_username.*DOMAIN\\name`},
	})
	// Cleanup runs after the parallel subtests have finished.
	t.Cleanup(func() {
		if n := l.Env.CallCount(model.WinRM, ""); n != 0 {
			t.Errorf("these errors must stop before any script runs; the lab saw %d WinRM calls", n)
		}
	})
}

// Promotions the lab refuses fail with Windows' message and leave the
// server a member server: a DSRM password too weak for the domain's policy,
// and an admin_username override that is not a domain admin (so the
// override, not the provider's domain admin WinRM account, reached
// Install-ADDSDomainController).
func TestAccDomainController_promotionFails(t *testing.T) {
	skipUnlessAcc(t)
	l := startLab(t)
	cases := map[string]errorCase{
		"weak dsrm": {strings.Replace(dcConfig{Host: model.Spare1}.hcl(), labDSRMPassword, "password", 1),
			`(?s)Domain Controller Not Promoted.*priv-spare1.*SafeModeAdministratorPassword`},
		"override not a domain admin": {dcConfig{Host: model.Spare1, AdminUsername: model.MIMSvcUser, AdminPassword: l.Seed.MIMSvcPassword}.hcl(),
			`(?s)Domain Controller Not Promoted.*priv-spare1.*Domain\s+Admins`},
		"override wrong password": {dcConfig{Host: model.Spare1, AdminPassword: "Wrong!Passw0rd"}.hcl(),
			`(?s)Domain Controller Not Promoted.*priv-spare1.*user\s+name\s+or\s+password\s+is\s+incorrect`},
	}
	expectErrors(t, l.ProviderHCL(), false, cases)
	t.Cleanup(func() {
		if isLabDC(l, model.Spare1) {
			t.Error("a refused promotion made priv-spare1 a DC")
		}
		if n := l.Env.CallCount(model.WinRM, model.Spare1); n != len(cases) {
			t.Errorf("the lab saw %d WinRM calls on priv-spare1, want one refused promotion per case (%d)", n, len(cases))
		}
	})
}

func TestDNSNameOfDN(t *testing.T) {
	for dn, want := range map[string]string{
		"CN=PRIV-DC1,OU=Domain Controllers,DC=priv,DC=contoso,DC=test": "priv.contoso.test",
		"DC=PRIV,DC=Contoso,DC=Test":                                   "priv.contoso.test",
		"CN=x,CN=Servers":                                              "",
	} {
		if got := adnames.DNSNameOfDN(dn); got != want {
			t.Errorf("DNSNameOfDN(%q) = %q, want %q", dn, got, want)
		}
	}
}

// No password of the promotion or the demotion reaches the state, the plan
// or a TF_LOG=trace log, through the create and the destroy: the
// provider's WinRM password (also the promotion override's here), the DSRM
// password, and the random local Administrator password the demotion set
// (as the lab received it).
func TestAccDomainController_secretsStayOut(t *testing.T) {
	skipUnlessAcc(t)
	l := startLab(t)
	logFile := logTo(t, "trace")
	secrets := secretSet(func() []string {
		s := []string{l.Seed.AdminPassword, labDSRMPassword}
		if pw := localAdminPassword(l, model.Spare1); pw != "" {
			s = append(s, pw)
		}
		return s
	})
	planHasNoSecret, stateHasNoSecret := secrets.plan(), secrets.state
	// As a pipeline gives them: the provider's credentials in BASTION_*, the
	// resource's secrets in ephemeral variables.
	vars := config.Variables{"admin": config.StringVariable(l.Seed.AdminPassword), "dsrm": config.StringVariable(labDSRMPassword)}
	header := providerFromEnv(t, l) + secretVariables("admin", "dsrm")
	// The promotion with the override (admin_password_wo), the demotion with the provider's account.
	dc := dcConfig{Host: model.Spare1, AdminPassword: "ADMIN"}.hcl()
	dc = strings.NewReplacer(`"ADMIN"`, "var.admin", `"`+labDSRMPassword+`"`, "var.dsrm").Replace(dc)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config: header + dc, ConfigVariables: vars,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{planHasNoSecret}},
				Check:            stateHasNoSecret,
			},
			{ // the resource leaves the configuration: destroyed (demoted) by an apply
				Config: header, ConfigVariables: vars,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply:             []plancheck.PlanCheck{planHasNoSecret, plancheck.ExpectResourceAction("bastion_domain_controller.dc", plancheck.ResourceActionDestroy)},
					PostApplyPostRefresh: []plancheck.PlanCheck{planHasNoSecret},
				},
				Check: resource.ComposeTestCheckFunc(
					func(*terraform.State) error {
						if isLabDC(l, model.Spare1) {
							return fmt.Errorf("%s is still a DC", model.Spare1)
						}
						return checkRandomPassword(localAdminPassword(l, model.Spare1))
					},
					stateHasNoSecret),
			},
		},
	})
	secrets.traceLog(t, logFile, "ad_install_dc", "ad_uninstall_dc", "Local Administrator Password Randomised")
}

// TestImportByID: the resources imported by one value take it as id and as
// their key attribute, and refuse an ID of the wrong form with the format
// and the reason.
func TestImportByID(t *testing.T) {
	cases := []struct {
		r            fwresource.ResourceWithImportState
		attr         string
		good, bad    string
		usage, cause string
	}{
		{&mimServiceNodeResource{}, "host", "priv-app1.priv.contoso.com", "priv-app1", "the node's host FQDN", "priv-app1"},
		{&domainControllerResource{}, "host", "priv-dc2.priv.contoso.com", "priv dc2.priv.contoso.com", "the domain controller's host FQDN", "priv dc2"},
		{&sqlLoginResource{}, "name", `PRIV\svc-mim`, "svc-mim", `the login name as DOMAIN\name`, "svc-mim"},
	}
	ctx := context.Background()
	for _, c := range cases {
		var sr fwresource.SchemaResponse
		c.r.Schema(ctx, fwresource.SchemaRequest{}, &sr)
		importAs := func(id string) *fwresource.ImportStateResponse {
			resp := &fwresource.ImportStateResponse{State: tfsdk.State{Schema: sr.Schema, Raw: tftypes.NewValue(sr.Schema.Type().TerraformType(ctx), nil)}}
			c.r.ImportState(ctx, fwresource.ImportStateRequest{ID: id}, resp)
			return resp
		}
		resp := importAs(c.good)
		if resp.Diagnostics.HasError() {
			t.Fatalf("%T: import %q: %v", c.r, c.good, resp.Diagnostics)
		}
		var obj map[string]tftypes.Value
		if err := resp.State.Raw.As(&obj); err != nil {
			t.Fatalf("%T: import %q: %v", c.r, c.good, err)
		}
		for _, a := range []string{"id", c.attr} {
			var got string
			if err := obj[a].As(&got); err != nil || got != c.good {
				t.Errorf("%T: import %q set %s = %q (%v)", c.r, c.good, a, got, err)
			}
		}
		resp = importAs(c.bad)
		if len(resp.Diagnostics.Errors()) != 1 {
			t.Fatalf("%T: import %q: %v, want one error", c.r, c.bad, resp.Diagnostics)
		}
		d := resp.Diagnostics.Errors()[0]
		if d.Summary() != "Invalid Import ID" || !strings.Contains(d.Detail(), "The import ID is "+c.usage) || !strings.Contains(d.Detail(), c.cause) {
			t.Errorf("%T: import %q: %s: %s", c.r, c.bad, d.Summary(), d.Detail())
		}
	}
}

// dcResource returns the resource wired to data, and a state holding m.
func dcResource(t *testing.T, data *providerData, m domainControllerResourceModel) (*domainControllerResource, tfsdk.State) {
	t.Helper()
	ctx := context.Background()
	r := &domainControllerResource{configuredResource{data}}
	var sr fwresource.SchemaResponse
	r.Schema(ctx, fwresource.SchemaRequest{}, &sr)
	st := tfsdk.State{Schema: sr.Schema, Raw: tftypes.NewValue(sr.Schema.Type().TerraformType(ctx), nil)}
	if d := st.Set(ctx, &m); d.HasError() {
		t.Fatalf("state: %v", d)
	}
	return r, st
}

// dcModel is host as configured with the defaults (no override).
func dcModel(host string) domainControllerResourceModel {
	return domainControllerResourceModel{
		ID: types.StringValue(host), Host: types.StringValue(host), DomainName: newCaseInsensitiveString(model.DomainDNS),
		SiteName: newCaseInsensitiveString(model.DefaultSite), GlobalCatalog: types.BoolValue(true),
		SafeModePasswordWO: types.StringValue(labDSRMPassword),
		FSMORoles:          types.ListNull(types.StringType), Timeouts: timeoutsNull,
	}
}

func summaries(d diag.Diagnostics) []string {
	var s []string
	for _, x := range d {
		s = append(s, x.Severity().String()+": "+x.Summary())
	}
	return s
}

// Delete demotes with the provider's WinRM account and a fresh random local
// Administrator password, says so in a warning, and keeps the password out
// of its diagnostics. Without a WinRM password it refuses before any script.
func TestDomainControllerDelete(t *testing.T) {
	l := startLab(t)
	ctx := context.Background()

	noPassword := labProviderData(t, l)
	noPassword.winrmCredential = credential{} // WinRM through a Kerberos ccache only
	r, st := dcResource(t, noPassword, dcModel(model.DC2))
	l.Env.ResetCounters()
	resp := fwresource.DeleteResponse{State: st}
	r.Delete(ctx, fwresource.DeleteRequest{State: st}, &resp)
	if got := strings.Join(summaries(resp.Diagnostics), "; "); got != "Error: Demotion Credential Missing" ||
		!strings.Contains(resp.Diagnostics[0].Detail(), "winrm.username and winrm.password") {
		t.Fatalf("Delete without a WinRM password: %s %v", got, resp.Diagnostics)
	}
	if n := l.Env.CallCount(model.WinRM, ""); n != 0 || !isLabDC(l, model.DC2) {
		t.Fatalf("the refused demotion ran %d scripts (DC2 still a DC: %t)", n, isLabDC(l, model.DC2))
	}

	data := labProviderData(t, l)
	data.winrmCredential = credential{Username: model.AdminUser, Password: l.Seed.AdminPassword}
	r, st = dcResource(t, data, dcModel(model.DC2))
	resp = fwresource.DeleteResponse{State: st}
	r.Delete(ctx, fwresource.DeleteRequest{State: st}, &resp)
	if got := strings.Join(summaries(resp.Diagnostics), "; "); got != "Warning: Local Administrator Password Randomised" {
		t.Fatalf("Delete: %s %v", got, resp.Diagnostics)
	}
	pw := localAdminPassword(l, model.DC2)
	if err := checkRandomPassword(pw); err != nil {
		t.Fatal(err)
	}
	if d := resp.Diagnostics[0]; strings.Contains(d.Detail(), pw) || !strings.Contains(d.Detail(), "LAPS") || !strings.Contains(d.Detail(), model.DC2) {
		t.Fatalf("the warning's detail: %q", d.Detail())
	}
	if isLabDC(l, model.DC2) {
		t.Fatal("DC2 is still a DC")
	}
}

// The plan refuses a promotion (without the override) and a demotion when
// the provider's WinRM account has no password, before anything runs.
func TestDomainControllerModifyPlanCredentials(t *testing.T) {
	l := startLab(t)
	ctx := context.Background()
	data := labProviderData(t, l)
	data.winrmCredential = credential{}
	override := dcModel(model.Spare1)
	override.AdminUsername, override.AdminPasswordWO = types.StringValue(model.AdminUser), types.StringValue(l.Seed.AdminPassword)

	plan := func(state, config *domainControllerResourceModel) []string {
		t.Helper()
		r, null := dcResource(t, data, dcModel(model.Spare1))
		null.Raw = tftypes.NewValue(null.Schema.Type().TerraformType(ctx), nil)
		req := fwresource.ModifyPlanRequest{State: null, Plan: tfsdk.Plan(null), Config: tfsdk.Config(null)}
		if state != nil {
			_, st := dcResource(t, data, *state)
			req.State = st
		}
		if config != nil {
			_, c := dcResource(t, data, *config)
			req.Plan.Raw, req.Config.Raw = c.Raw, c.Raw
		}
		resp := fwresource.ModifyPlanResponse{Plan: req.Plan}
		r.ModifyPlan(ctx, req, &resp)
		return summaries(resp.Diagnostics)
	}
	dc2, spare := dcModel(model.DC2), dcModel(model.Spare1)
	l.Env.ResetCounters()
	for name, c := range map[string]struct {
		state, config *domainControllerResourceModel
		want          string
	}{
		"create":               {nil, &spare, "Error: Promotion Credential Missing"},
		"create with override": {nil, &override, ""},
		"destroy":              {&dc2, nil, "Error: Demotion Credential Missing"},
	} {
		if got := strings.Join(plan(c.state, c.config), "; "); got != c.want {
			t.Errorf("%s: diagnostics %q, want %q", name, got, c.want)
		}
	}
	if n := l.Env.CallCount(model.WinRM, ""); n != 0 {
		t.Fatalf("planning ran %d scripts", n)
	}
}

// What a refresh (ReadResource) costs, by protocol: LDAP only, on the pinned
// DC (a bind on the new connection and the three FSMO holder searches of
// the shared inventory, whose Configuration NC search also lists every DC);
// no script.
func TestDomainControllerRefreshCost(t *testing.T) {
	l := startLab(t)
	r, _ := dcResource(t, labProviderData(t, l), dcModel(model.DC2))
	st, calls := readOnce(t, l, r, dcModel(model.DC2))
	if st == nil {
		t.Fatal("Read removed a DC that exists")
	}
	if fmt.Sprint(calls) != fmt.Sprintf("map[%s:map[%s:4]]", model.LDAP, model.DC1) {
		t.Fatalf("refresh cost %v, want 4 LDAP operations on %s and nothing else", calls, model.DC1)
	}
}
