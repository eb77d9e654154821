package provider

import (
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/config"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/bastion-pam/terraform-provider-bastion/internal/adnames"
	"github.com/bastion-pam/terraform-provider-bastion/internal/lab"
	"github.com/bastion-pam/terraform-provider-bastion/internal/lab/model"
)

// guideExample reads one of examples/guides/decommission/*/main.tf, the
// files docs/guides/decommission.md shows, for the lab's domain.
func guideExample(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile("../../examples/guides/decommission/" + name + "/main.tf")
	if err != nil {
		t.Fatal(err)
	}
	return strings.ReplaceAll(string(b), ".contoso.com", ".contoso.test")
}

// rolesAll reports whether every FSMO role is on host.
func rolesAll(l *lab.Lab, host string) error {
	var wrong []string
	_ = l.Env.Do(func(e *model.Env) error {
		for _, role := range adnames.FSMORoles() {
			if holder := e.Domain.FSMOHolder(role); !strings.EqualFold(holder, host) {
				wrong = append(wrong, role+"="+holder)
			}
		}
		return nil
	})
	if len(wrong) != 0 {
		return fmt.Errorf("roles not on %s: %v", host, wrong)
	}
	return nil
}

// The guide's teardown: apply builds priv-dc2 and moves two roles onto it;
// terraform destroy returns them to the forest's first DC and demotes it.
func TestAccDecommissionGuide_teardown(t *testing.T) {
	skipUnlessAcc(t)
	l := startLab(t, func(l *lab.Lab) error { return l.Env.DemoteDC(model.DC2) })
	vars := config.Variables{"dsrm_password": config.StringVariable(labDSRMPassword)}
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy: func(*terraform.State) error {
			if isLabDC(l, model.DC2) {
				return fmt.Errorf("%s is still a DC after terraform destroy", model.DC2)
			}
			return rolesAll(l, model.DC1)
		},
		Steps: []resource.TestStep{{
			Config: l.ProviderHCL() + guideExample(t, "teardown"), ConfigVariables: vars,
			Check: func(*terraform.State) error {
				if !isLabDC(l, model.DC2) || rolesAll(l, model.DC1) == nil {
					return fmt.Errorf("apply did not build %s with roles on it", model.DC2)
				}
				return nil
			},
		}},
	})
}

// The guide's "removing one node": a DC that holds roles is refused until
// the roles move (one apply), then deleting its block demotes it (another).
// The guide's "stop managing": removed blocks forget a DC and the roles
// resource without running anything.
func TestAccDecommissionGuide_removeAndForget(t *testing.T) {
	skipUnlessAcc(t)
	l := startLab(t, func(l *lab.Lab) error { return l.Env.DemoteDC(model.DC2) })
	vars := config.Variables{"dsrm_password": config.StringVariable(labDSRMPassword)}
	full := guideExample(t, "teardown")
	dcBlock := full[strings.Index(full, "resource \"bastion_domain_controller\""):strings.Index(full, "resource \"bastion_fsmo_roles\"")]
	rolesBack := strings.ReplaceAll(full, "bastion_domain_controller.dc2.id", fmt.Sprintf("%q", model.DC1))
	withoutDC := strings.Replace(rolesBack, dcBlock, "", 1)
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{Config: l.ProviderHCL() + full, ConfigVariables: vars},
			{ // deleting the block while priv-dc2 holds roles: refused at plan
				Config:          l.ProviderHCL() + strings.Replace(strings.ReplaceAll(full, "bastion_domain_controller.dc2.id", fmt.Sprintf("%q", model.DC2)), dcBlock, "", 1),
				ConfigVariables: vars, PlanOnly: true,
				ExpectError: regexp.MustCompile(`(?s)Domain Controller Holds FSMO Roles.*priv-dc2\.priv\.contoso\.test`),
			},
			{Config: l.ProviderHCL() + rolesBack, ConfigVariables: vars, Check: func(*terraform.State) error { return rolesAll(l, model.DC1) }},
			{Config: l.ProviderHCL() + withoutDC, ConfigVariables: vars, Check: func(*terraform.State) error {
				if isLabDC(l, model.DC2) {
					return fmt.Errorf("%s is still a DC", model.DC2)
				}
				return nil
			}},
			{ // build it again, then stop managing it: nothing runs on Windows
				Config: l.ProviderHCL() + full, ConfigVariables: vars,
			},
			{
				PreConfig: l.Env.ResetCounters,
				Config:    l.ProviderHCL() + guideExample(t, "stop-managing"), ConfigVariables: vars,
				Check: func(*terraform.State) error {
					if n := l.Env.CallCount(model.WinRM, ""); n != 0 {
						return fmt.Errorf("the removed blocks ran %d scripts", n)
					}
					if !isLabDC(l, model.DC2) {
						return fmt.Errorf("the removed block demoted %s", model.DC2)
					}
					return nil
				},
			},
		},
	})
}
