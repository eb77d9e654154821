package provider

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/bastion-pam/terraform-provider-bastion/internal/adnames"
	"github.com/bastion-pam/terraform-provider-bastion/internal/directory"
	"github.com/bastion-pam/terraform-provider-bastion/internal/lab"
	"github.com/bastion-pam/terraform-provider-bastion/internal/lab/model"
	"github.com/bastion-pam/terraform-provider-bastion/internal/transport"
)

func fsmoHCL(allowSeize bool, holders map[string]string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "resource \"bastion_fsmo_roles\" \"roles\" {\n  domain_name = %q\n", model.DomainDNS)
	if allowSeize {
		b.WriteString("  allow_seize = true\n")
	}
	for _, a := range fsmoAttributes {
		if h, ok := holders[a.attr]; ok {
			fmt.Fprintf(&b, "  %s = %q\n", a.attr, h)
		}
	}
	b.WriteString("}\n")
	return b.String()
}

func labHolder(l *lab.Lab, role string) string {
	var h string
	_ = l.Env.Do(func(e *model.Env) error { h = e.Domain.FSMOHolder(role); return nil })
	return h
}

// providerPinnedTo is the lab's provider block with every LDAP request
// going to host.
func providerPinnedTo(l *lab.Lab, host string) string {
	return strings.Replace(l.ProviderHCL(), fmt.Sprintf("pinned_dc = %q", model.DC1), fmt.Sprintf("pinned_dc = %q", host), 1)
}

func TestAccFSMORoles_lifecycle(t *testing.T) {
	skipUnlessAcc(t)
	l := startLab(t)
	addr := "bastion_fsmo_roles.roles"
	cfg := l.ProviderHCL() + fsmoHCL(false, map[string]string{"pdc_emulator": model.DC2, "rid_master": strings.ToUpper(model.DC2)})
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy: func(*terraform.State) error {
			// Destroy forgets: the roles stay where they are.
			if h := labHolder(l, adnames.PDCEmulator); h != model.DC2 {
				return fmt.Errorf("PDCEmulator moved to %q on destroy", h)
			}
			return nil
		},
		Steps: []resource.TestStep{
			{ // adopt the domain's roles and move two of them
				Config: cfg,
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("id"), knownvalue.StringExact(model.DomainDNS)),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("schema_master"), knownvalue.StringExact(model.DC1)),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("infrastructure_master"), knownvalue.StringExact(model.DC1)),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("pdc_emulator"), knownvalue.StringExact(model.DC2)),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("rid_master"), knownvalue.StringExact(strings.ToUpper(model.DC2))),
				},
				Check: func(*terraform.State) error {
					for role, want := range map[string]string{adnames.PDCEmulator: model.DC2, adnames.RIDMaster: model.DC2, adnames.SchemaMaster: model.DC1} {
						if got := labHolder(l, role); got != want {
							return fmt.Errorf("%s is held by %s, want %s", role, got, want)
						}
					}
					if ev := labEvents(l, "fsmo-seize", ""); len(ev) > 0 {
						return fmt.Errorf("a transfer seized: %+v", ev[0])
					}
					return nil
				},
			},
			// import by domain name; the configuration spells the RID master in
			// upper case, the directory in lower
			importStep(cfg, addr, model.DomainDNS, "rid_master"),
			// the same import ID however it is spelled: the ID after import is the ID after create
			importStep(cfg, addr, strings.ToUpper(model.DomainDNS)+".", "rid_master"),
			{ // drift: the PDC emulator moved back out of band; the plan moves it again
				PreConfig: func() {
					if err := l.Env.TransferFSMO(adnames.PDCEmulator, model.DC1); err != nil {
						t.Fatal(err)
					}
				},
				Config: cfg,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(addr, plancheck.ResourceActionUpdate),
					plancheck.ExpectKnownValue(addr, tfjsonpath.New("pdc_emulator"), knownvalue.StringExact(model.DC2)),
				}},
				Check: func(*terraform.State) error {
					if h := labHolder(l, adnames.PDCEmulator); h != model.DC2 {
						return fmt.Errorf("PDCEmulator is on %s after the apply", h)
					}
					return nil
				},
			},
			{ // a role left unset is only read: its move out of band is no change
				PreConfig: func() {
					if err := l.Env.TransferFSMO(adnames.InfrastructureMaster, model.DC2); err != nil {
						t.Fatal(err)
					}
				},
				Config:           cfg,
				ConfigPlanChecks: plannedAction(addr, plancheck.ResourceActionNoop),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("infrastructure_master"), knownvalue.StringExact(model.DC2)),
				},
			},
		},
	})
}

func TestAccFSMORoles_seize(t *testing.T) {
	skipUnlessAcc(t)
	l := startLab(t)
	provider := providerPinnedTo(l, model.DC2)
	want := map[string]string{"pdc_emulator": model.DC2}
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{ // the holder is gone: without allow_seize the transfer fails, naming role, holder and opt-in
				PreConfig: func() {
					if err := l.Env.SetReachable(model.DC1, false); err != nil {
						t.Fatal(err)
					}
					if err := l.Sync(); err != nil {
						t.Fatal(err)
					}
				},
				Config:      provider + fsmoHCL(false, want),
				ExpectError: regexp.MustCompile(`(?s)FSMO Role Not Transferred.*PDCEmulator.*priv-dc2\.priv\.contoso\.test.*priv-dc1\.priv\.contoso\.test.*did not\s+answer.*allow_seize\s+=\s+true`),
			},
			{ // allow_seize: the role is seized on the new holder
				Config: provider + fsmoHCL(true, want),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("bastion_fsmo_roles.roles", tfjsonpath.New("pdc_emulator"), knownvalue.StringExact(model.DC2)),
					statecheck.ExpectKnownValue("bastion_fsmo_roles.roles", tfjsonpath.New("schema_master"), knownvalue.StringExact(model.DC1)),
				},
				Check: func(*terraform.State) error {
					if h := labHolder(l, adnames.PDCEmulator); h != model.DC2 {
						return fmt.Errorf("PDCEmulator held by %s", h)
					}
					seized := false
					for _, ev := range labEvents(l, "fsmo-seize", model.DC2) {
						seized = seized || strings.HasPrefix(ev.Detail, adnames.PDCEmulator)
					}
					if !seized {
						return fmt.Errorf("no seizure of the PDC emulator on %s in the lab's events", model.DC2)
					}
					return nil
				},
			},
		},
	})
}

func TestAccFSMORoles_planTimeErrors(t *testing.T) {
	skipUnlessAcc(t)
	l := startLab(t)
	expectErrors(t, l.ProviderHCL(), false, map[string]errorCase{
		"not a dc":     {fsmoHCL(false, map[string]string{"rid_master": model.App1}), `(?s)FSMO Role Holder Not A Domain Controller.*priv-app1.*RIDMaster`},
		"short name":   {fsmoHCL(false, map[string]string{"rid_master": "priv-dc2"}), `(?s)rid_master.*fully\s+qualified\s+domain\s+name`},
		"other domain": {strings.Replace(fsmoHCL(false, nil), model.DomainDNS, model.CorpDomainDNS, 1), `(?s)FSMO Roles Not Read.*reach the domain\s+priv\.contoso\.test`},
	})
	// The subtests run in parallel, after this function returns.
	t.Cleanup(func() {
		if h := labHolder(l, adnames.RIDMaster); h != model.DC1 {
			t.Errorf("a refused plan moved the RID master to %s", h)
		}
	})
}

// labDirectory is a directory client on the lab, pinned to host.
func labDirectory(t *testing.T, l *lab.Lab, host string) *directory.Client {
	t.Helper()
	c, err := directory.New(directory.Config{
		Servers: []string{host}, PinnedDC: host, Domain: model.DomainDNS,
		CACertPEM: l.CA.CertPEM(), Username: model.AdminUser, Password: l.Seed.AdminPassword,
		ConnectTo: l.ConnectTo(), Retry: transport.RetryPolicy{Attempts: 2, Initial: time.Millisecond, Max: time.Millisecond},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// The seizure's warning says why the old holder must never come back; the
// refusal names the role, the holder and the opt-in.
func TestFSMOMoveSeizeDiagnostics(t *testing.T) {
	l := startLab(t, func(l *lab.Lab) error { return l.Env.SetReachable(model.DC1, false) })
	if err := l.Sync(); err != nil {
		t.Fatal(err)
	}
	dir := labDirectory(t, l, model.DC2)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	current, err := dir.FSMORoles(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{adnames.RIDMaster: model.DC2}

	var refused diag.Diagnostics
	fsmoMove(ctx, dir, current, want, false, &refused)
	if len(refused.Errors()) != 1 || labHolder(l, adnames.RIDMaster) != model.DC1 {
		t.Fatalf("without allow_seize: %v, holder %s", refused, labHolder(l, adnames.RIDMaster))
	}
	for _, s := range []string{"RIDMaster", model.DC1, model.DC2, "allow_seize = true", "never return"} {
		if !strings.Contains(refused.Errors()[0].Detail(), s) {
			t.Errorf("the refusal does not say %q:\n%s", s, refused.Errors()[0].Detail())
		}
	}

	var seized diag.Diagnostics
	fsmoMove(ctx, dir, current, want, true, &seized)
	if seized.HasError() || len(seized.Warnings()) != 1 || labHolder(l, adnames.RIDMaster) != model.DC2 {
		t.Fatalf("with allow_seize: %v, holder %s", seized, labHolder(l, adnames.RIDMaster))
	}
	w := seized.Warnings()[0]
	if w.Summary() != "FSMO Role Seized" {
		t.Errorf("summary %q", w.Summary())
	}
	for _, s := range []string{model.DC1 + " must never return to the network", "two DCs acting as the same operations master corrupt the directory", "duplicate SIDs"} {
		if !strings.Contains(w.Detail(), s) {
			t.Errorf("the warning does not say %q:\n%s", s, w.Detail())
		}
	}
}
