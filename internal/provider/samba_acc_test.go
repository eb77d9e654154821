package provider

import (
	"context"
	"fmt"
	"os"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/bastion-pam/terraform-provider-bastion/internal/lab"
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
	connect := map[string]string{}
	for k, v := range l.WinRM.ConnectTo() {
		connect[k] = v
	}
	for k, v := range sl.ConnectTo(636) {
		connect[k] = v
	}
	var ct []string
	for k, v := range connect {
		ct = append(ct, fmt.Sprintf("    %q = %q", k, v))
	}
	sort.Strings(ct)
	return fmt.Sprintf(`provider "bastion" {
  connect_to = {
%s
  }
  winrm {
    auth     = "basic"
    username = %q
    password = %q
    ca_file  = %q
  }
  ldap {
    domain    = %q
    servers   = [%q, %q]
    pinned_dc = %q
    username  = %q
    password  = %q
    ca_file   = %q
  }
}
`, strings.Join(ct, "\n"), model.AdminUser, l.Seed.AdminPassword, l.CAFile,
		f.DNSDomain, dc1.FQDN, dc2.FQDN, dc1.FQDN, f.AdminUPN, f.AdminPassword, sl.CACert)
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

// TestAccDomainController_samba drives bastion_domain_controller against a
// real directory: LDAP reads go to the Samba lab's PRIV DCs, WinRM to the
// simulated Windows host priv-dc3, whose promotion and demotion scripts the lab
// hands to a samba.Backend, so `terraform apply` really joins priv-dc3 to the
// domain with samba-tool and `terraform destroy` really demotes it.
func TestAccDomainController_samba(t *testing.T) {
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

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	t.Cleanup(cancel)
	addr := "bastion_domain_controller.dc"
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
		statecheck.ExpectKnownValue(addr, tfjsonpath.New("functional_level"), knownvalue.Int64Exact(7)),
		statecheck.ExpectKnownValue(addr, tfjsonpath.New("fsmo_roles"), knownvalue.ListExact(nil)),
		statecheck.ExpectKnownValue(addr, tfjsonpath.New("ntds_settings_dn"), knownvalue.StringExact(ntds)),
	}
	var steps [3]time.Time

	// Not parallel: the Samba lab is one per machine, so this test runs in the
	// package's sequential phase, before the parallel tests start, and gives the
	// lab back as soon as it is done.
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
