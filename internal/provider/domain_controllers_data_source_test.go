package provider

import (
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/bastion-pam/terraform-provider-bastion/internal/adnames"
	"github.com/bastion-pam/terraform-provider-bastion/internal/lab/model"
)

const dcsDataSource = "data \"bastion_domain_controllers\" \"all\" {}\n"

func TestAccDomainControllersDataSource(t *testing.T) {
	skipUnlessAcc(t)
	l := startLab(t)
	// An RODC in another site, a GC-less DC with extra options bits, and a role moved.
	_ = l.Env.Do(func(e *model.Env) error {
		e.Domain.Sites = append(e.Domain.Sites, "Branch")
		return nil
	})
	if _, err := l.Env.PromoteDC(model.DomainDNS, model.App3, model.DCOptions{Site: "Branch", ReadOnly: true}); err != nil {
		t.Fatal(err)
	}
	_ = l.Env.Do(func(e *model.Env) error {
		e.Domain.DC(model.DC2).SetNTDSOptions(adnames.NTDSOptDisableOutboundRepl)
		e.Domain.FSMO[adnames.RIDMaster] = model.DC2
		return nil
	})
	want := map[string]struct {
		invocation string
		level      int
	}{}
	_ = l.Env.Do(func(e *model.Env) error {
		for _, dc := range e.Domain.SortedDCs() {
			want[dc.Host] = struct {
				invocation string
				level      int
			}{dc.InvocationID, dc.FunctionalLevel}
		}
		return nil
	})
	ds := "data.bastion_domain_controllers.all"
	at := func(i int, attr string) tfjsonpath.Path {
		return tfjsonpath.New("domain_controllers").AtSliceIndex(i).AtMapKey(attr)
	}
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{{
			Config: l.ProviderHCL() + dcsDataSource,
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue(ds, tfjsonpath.New("domain_name"), knownvalue.StringExact(model.DomainDNS)),
				statecheck.ExpectKnownValue(ds, tfjsonpath.New("forest_functional_level"), knownvalue.Int64Exact(7)),
				statecheck.ExpectKnownValue(ds, tfjsonpath.New("forest_functional_level_name"), knownvalue.StringExact("Windows Server 2016")),
				statecheck.ExpectKnownValue(ds, tfjsonpath.New("domain_functional_level"), knownvalue.Int64Exact(7)),
				statecheck.ExpectKnownValue(ds, tfjsonpath.New("fsmo_role_holders"), knownvalue.MapExact(map[string]knownvalue.Check{
					adnames.SchemaMaster: knownvalue.StringExact(model.DC1), adnames.DomainNamingMaster: knownvalue.StringExact(model.DC1),
					adnames.PDCEmulator: knownvalue.StringExact(model.DC1), adnames.RIDMaster: knownvalue.StringExact(model.DC2),
					adnames.InfrastructureMaster: knownvalue.StringExact(model.DC1),
				})),
				statecheck.ExpectKnownValue(ds, tfjsonpath.New("domain_controllers"), knownvalue.ListSizeExact(3)),
				// Sorted by host: priv-app3 (RODC), priv-dc1, priv-dc2.
				statecheck.ExpectKnownValue(ds, at(0, "host"), knownvalue.StringExact(model.App3)),
				statecheck.ExpectKnownValue(ds, at(0, "site"), knownvalue.StringExact("Branch")),
				statecheck.ExpectKnownValue(ds, at(0, "read_only"), knownvalue.Bool(true)),
				statecheck.ExpectKnownValue(ds, at(0, "global_catalog"), knownvalue.Bool(false)),
				statecheck.ExpectKnownValue(ds, at(1, "name"), knownvalue.StringExact("PRIV-DC1")),
				statecheck.ExpectKnownValue(ds, at(1, "fsmo_roles"), exactStrings(adnames.SchemaMaster, adnames.DomainNamingMaster, adnames.PDCEmulator, adnames.InfrastructureMaster)),
				statecheck.ExpectKnownValue(ds, at(1, "global_catalog"), knownvalue.Bool(true)),
				statecheck.ExpectKnownValue(ds, at(1, "invocation_id"), knownvalue.StringExact(want[model.DC1].invocation)),
				statecheck.ExpectKnownValue(ds, at(1, "functional_level"), knownvalue.Int64Exact(int64(want[model.DC1].level))),
				statecheck.ExpectKnownValue(ds, at(1, "computer_dn"), knownvalue.StringExact("CN=PRIV-DC1,OU=Domain Controllers,DC=priv,DC=contoso,DC=test")),
				statecheck.ExpectKnownValue(ds, at(2, "fsmo_roles"), exactStrings(adnames.RIDMaster)),
				statecheck.ExpectKnownValue(ds, at(2, "global_catalog"), knownvalue.Bool(false)),
				statecheck.ExpectKnownValue(ds, at(2, "options"), knownvalue.Int64Exact(int64(adnames.NTDSOptDisableOutboundRepl))),
				statecheck.ExpectKnownValue(ds, at(2, "invocation_id"), knownvalue.StringExact(want[model.DC2].invocation)),
				statecheck.ExpectKnownValue(ds, at(2, "ntds_settings_dn"),
					knownvalue.StringExact("CN=NTDS Settings,CN=PRIV-DC2,CN=Servers,CN="+model.DefaultSite+",CN=Sites,CN=Configuration,DC=priv,DC=contoso,DC=test")),
			},
		}},
	})
}

// Without ldap settings, the data sources say what is missing.
func TestAccDomainControllersDataSource_noLDAP(t *testing.T) {
	skipUnlessAcc(t)
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{Config: emptyProvider + dcsDataSource, ExpectError: regexp.MustCompile(`(?s)LDAP Not Configured.*ldap\s+block`)},
			{Config: emptyProvider + "data \"bastion_backup_status\" \"b\" {}\n", ExpectError: regexp.MustCompile(`LDAP Not Configured`)},
		},
	})
}

// The refreshes of a DC, of the FSMO roles and of both data sources run no
// PowerShell: the lab's WinRM counter stays at zero while LDAP is used.
func TestAccActiveDirectory_refreshRunsNoPowerShell(t *testing.T) {
	skipUnlessAcc(t)
	cases := map[string]func(pw string) string{
		"domain controller": func(pw string) string {
			return importBlock("dc2", model.DC2) + dcConfig{Name: "dc2", Host: model.DC2, AdminPassword: pw}.hcl()
		},
		"fsmo roles":              func(string) string { return fsmoHCL(false, map[string]string{"pdc_emulator": model.DC2}) },
		"domain controllers data": func(string) string { return dcsDataSource },
		"backup status data":      func(string) string { return "data \"bastion_backup_status\" \"b\" {}\n" },
	}
	for name, cfg := range cases {
		t.Run(name, func(t *testing.T) {
			l := startLab(t)
			config := l.ProviderHCL() + cfg(l.Seed.AdminPassword)
			resource.ParallelTest(t, resource.TestCase{
				ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
				Steps: []resource.TestStep{
					{Config: config},
					{
						PreConfig:    func() { l.Env.ResetCounters() },
						RefreshState: true,
						Check: func(*terraform.State) error {
							calls := l.Env.Calls()
							if n := l.Env.CallCount(model.WinRM, ""); n != 0 {
								return fmt.Errorf("the refresh ran %d PowerShell scripts: %v", n, calls[model.WinRM])
							}
							if n := l.Env.CallCount(model.TDS, ""); n != 0 {
								return fmt.Errorf("the refresh made %d SQL calls", n)
							}
							ldap := l.Env.CallCount(model.LDAP, "")
							if ldap == 0 {
								return fmt.Errorf("the refresh made no LDAP call: it read nothing")
							}
							var hosts []string
							for h := range calls[model.LDAP] {
								hosts = append(hosts, h)
							}
							if len(hosts) != 1 || hosts[0] != model.DC1 {
								return fmt.Errorf("the refresh read from %v, want only the pinned DC %s", hosts, model.DC1)
							}
							t.Logf("refresh of %s: %d LDAP operations on %s (binds, searches), 0 WinRM, 0 TDS", name, ldap, strings.Join(hosts, ", "))
							return nil
						},
					},
				},
			})
		})
	}
}

// The documented example works as written against the lab, feeding the live
// DCs to bastion_topology.
func TestAccDomainControllersDataSource_example(t *testing.T) {
	skipUnlessAcc(t)
	l := startLab(t)
	example, err := os.ReadFile("../../examples/data-sources/bastion_domain_controllers/data-source.tf")
	if err != nil {
		t.Fatal(err)
	}
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{{
			Config: l.ProviderHCL() + string(example),
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownOutputValue("pdc_emulator", knownvalue.StringExact(model.DC1)),
				statecheck.ExpectKnownOutputValue("global_catalogs", exactStrings(model.DC1, model.DC2)),
				statecheck.ExpectKnownValue("data.bastion_topology.live", tfjsonpath.New("domain").AtMapKey("dns_name"), knownvalue.StringExact(model.DomainDNS)),
				// Two writable DCs at level 2016: resource management survives the loss of either.
				statecheck.ExpectKnownValue("data.bastion_topology.live", tfjsonpath.New("ok"), knownvalue.Bool(true)),
			},
		}},
	})
}
