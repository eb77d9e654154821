package provider

import (
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/bastion-pam/terraform-provider-bastion/internal/lab"
	"github.com/bastion-pam/terraform-provider-bastion/internal/lab/model"
)

const dsrmAccount = "svc-dsrm"

// dsrmHCL is priv-dc2 with a DSRM password, its version and the sync account.
func dsrmHCL(l *lab.Lab, password string, version int, account string) string {
	dc := strings.Replace(dcConfig{Host: model.DC2}.hcl(), fmt.Sprintf("%q", labDSRMPassword), fmt.Sprintf("%q", password), 1)
	extra := ""
	if version > 0 {
		extra += fmt.Sprintf("  safe_mode_password_wo_version = %d\n", version)
	}
	if account != "" {
		extra += fmt.Sprintf("  dsrm_sync_account = %q\n", account)
	}
	return l.ProviderHCL() + strings.Replace(dc, "}\n", extra+"}\n", 1)
}

// dsrmIs checks priv-dc2's DSRM password in the lab, that the sync account
// no longer holds it, that ntdsutil ran with the account's name only, and
// that no secret reached any recorded command line.
func dsrmIs(l *lab.Lab, want string, syncs int) resource.TestCheckFunc {
	return func(*terraform.State) error {
		err := l.Env.Do(func(e *model.Env) error {
			if got := e.Domain.DC(model.DC2).DSRMPassword; got != want {
				return fmt.Errorf("the DSRM password of %s is not the configured one", model.DC2)
			}
			if e.Credentials[`priv\`+dsrmAccount] == want {
				return fmt.Errorf("%s still has the DSRM password as its password", dsrmAccount)
			}
			return nil
		})
		if err != nil {
			return err
		}
		n := 0
		for _, p := range l.Env.ProcessStarts() {
			if strings.Contains(p.CommandLine, "ntdsutil") {
				n++
				if p.Host != model.DC2 || !strings.Contains(p.CommandLine, `"sync from domain account `+dsrmAccount+`"`) {
					return fmt.Errorf("ntdsutil ran as %q on %s", p.CommandLine, p.Host)
				}
			}
		}
		if n != syncs {
			return fmt.Errorf("ntdsutil ran %d times, want %d", n, syncs)
		}
		if leaks := model.CommandLineLeaks(l.Env.ProcessStarts(), l.Env.Secrets()); len(leaks) > 0 {
			return fmt.Errorf("secrets on recorded command lines: %+v", leaks)
		}
		return nil
	}
}

// The DSRM password of a running DC rotates through the sync account when
// safe_mode_password_wo_version changes: an LDAP password reset on the DC,
// ntdsutil "sync from domain account", a random password for the account.
// No secret reaches the state or a command line.
func TestAccDomainController_dsrmRotation(t *testing.T) {
	skipUnlessAcc(t)
	l := startLab(t)
	_ = l.Env.Do(func(e *model.Env) error { e.Credentials[`priv\`+dsrmAccount] = model.RandomPassword(); return nil })
	addr := "bastion_domain_controller.dc"
	first, second := model.RandomPassword(), model.RandomPassword()
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{ // a version without the account is refused at plan
				Config:      dsrmHCL(l, first, 1, ""),
				PlanOnly:    true,
				ExpectError: regexp.MustCompile(`(?s)safe_mode_password_wo_version.*dsrm_sync_account`),
			},
			{ // a name ntdsutil cannot take is refused at plan
				Config:      dsrmHCL(l, first, 1, `PRIV\svc-dsrm`),
				PlanOnly:    true,
				ExpectError: regexp.MustCompile(`sAMAccountName without the domain`),
			},
			{ // adopt the DC: setting the version after the import rotates
				Config: importBlock("dc", model.DC2) + dsrmHCL(l, first, 1, dsrmAccount),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("safe_mode_password_wo"), knownvalue.Null()),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("safe_mode_password_wo_version"), knownvalue.Int64Exact(1)),
				},
				Check: dsrmIs(l, first, 1),
			},
			{Config: dsrmHCL(l, first, 1, dsrmAccount), PlanOnly: true},
			{ // a new version rotates again, in place
				Config:           dsrmHCL(l, second, 2, dsrmAccount),
				ConfigPlanChecks: plannedAction(addr, plancheck.ResourceActionUpdate),
				Check:            dsrmIs(l, second, 2),
			},
			importStep(dsrmHCL(l, second, 2, dsrmAccount), addr, model.DC2, "safe_mode_password_wo_version", "dsrm_sync_account", "domain_name"),
			{ // an account the directory lacks: nothing changes on the DC
				Config:      dsrmHCL(l, first, 3, "svc-nobody"),
				ExpectError: regexp.MustCompile(`(?s)DSRM Password Not Rotated.*svc-nobody`),
				Check:       dsrmIs(l, second, 2),
			},
			{ // leave the DC in place
				Config: l.ProviderHCL() + forget("dc"),
				Check:  dsrmIs(l, second, 2),
			},
		},
	})
}
