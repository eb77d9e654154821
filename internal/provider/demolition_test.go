package provider

import (
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/bastion-pam/terraform-provider-bastion/internal/adnames"
	"github.com/bastion-pam/terraform-provider-bastion/internal/lab"
	"github.com/bastion-pam/terraform-provider-bastion/internal/lab/model"
)

// Every DC guard refuses at plan, whatever takes the DC down: a destroy, an
// attribute that requires replacement (host), or a tainted object. Each
// refusing step is PlanOnly, so the test fails if a guard moves to apply:
// the plan would then succeed and show the replacement instead.
func TestAccDomainController_guardsAtPlan(t *testing.T) {
	skipUnlessAcc(t)
	fsmo := `(?s)Domain Controller Holds FSMO Roles.*priv-dc1\.priv\.contoso\.test.*bastion_fsmo_roles`
	fsmoTainted := fsmo + `.*terraform\s+untaint`
	last := `(?s)Last Domain Controller Not Demoted.*priv-dc1\.priv\.contoso\.test.*Promote\s+another\s+DC`
	pinned := `(?s)Pinned Domain Controller Not Demoted.*replace\s+\(tainted\)\s+bastion_domain_controller\s+priv-dc2\.priv\.contoso\.test.*ldap\.pinned_dc.*terraform\s+untaint`
	pinnedReplace := `(?s)Pinned Domain Controller Not Demoted.*replace\s+bastion_domain_controller\s+priv-dc2\.priv\.contoso\.test.*ldap\.pinned_dc`
	pinnedDestroy := `(?s)Pinned Domain Controller Not Demoted.*destroy\s+bastion_domain_controller\s+priv-dc2\.priv\.contoso\.test`
	cases := map[string]struct {
		host     string // the DC adopted
		pinDC2   bool
		prepare  func(l *lab.Lab) error
		refused  func(dc dcConfig) resource.TestStep
		wantText string
	}{
		"fsmo holder, host changed": {host: model.DC1, wantText: fsmo,
			refused: func(dc dcConfig) resource.TestStep {
				dc.Host = model.Spare1
				return resource.TestStep{Config: dc.hcl()}
			}},
		"fsmo holder, tainted": {host: model.DC1, wantText: fsmoTainted,
			refused: func(dc dcConfig) resource.TestStep {
				return resource.TestStep{Config: dc.hcl(), Taint: []string{"bastion_domain_controller.dc1"}}
			}},
		"last dc, tainted": {host: model.DC1, wantText: last, prepare: func(l *lab.Lab) error { return l.Env.DemoteDC(model.DC2) },
			refused: func(dc dcConfig) resource.TestStep {
				return resource.TestStep{Config: dc.hcl(), Taint: []string{"bastion_domain_controller.dc1"}}
			}},
		"pinned dc, tainted": {host: model.DC2, pinDC2: true, wantText: pinned,
			refused: func(dc dcConfig) resource.TestStep {
				return resource.TestStep{Config: dc.hcl(), Taint: []string{"bastion_domain_controller.dc1"}}
			}},
		"pinned dc, host changed": {host: model.DC2, pinDC2: true, wantText: pinnedReplace,
			refused: func(dc dcConfig) resource.TestStep {
				dc.Host = model.Spare1
				return resource.TestStep{Config: dc.hcl()}
			}},
		"pinned dc, destroyed": {host: model.DC2, pinDC2: true, wantText: pinnedDestroy,
			refused: func(dcConfig) resource.TestStep { return resource.TestStep{Config: ""} }},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			l := startLab(t, c.prepare)
			provider := l.ProviderHCL()
			if c.pinDC2 {
				provider = strings.Replace(provider, "pinned_dc = \""+model.DC1+"\"", "pinned_dc = \""+model.DC2+"\"", 1)
			}
			dc := dcConfig{Name: "dc1", Host: c.host}
			step := c.refused(dc)
			step.Config = provider + step.Config
			step.PlanOnly = true
			step.ExpectError = regexp.MustCompile(c.wantText)
			step.PreConfig = func() { l.Env.ResetCounters() }
			resource.ParallelTest(t, resource.TestCase{
				ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
				Steps: []resource.TestStep{
					{Config: provider + importBlock("dc1", c.host) + dc.hcl()},
					step,
					{
						PreConfig: func() {
							if n := l.Env.CallCount(model.WinRM, ""); n != 0 {
								t.Fatalf("the refused plan ran %d scripts", n)
							}
							if !isLabDC(l, c.host) {
								t.Fatalf("%s was demoted", c.host)
							}
						},
						Config: provider + forget("dc1"),
					},
				},
			})
		})
	}
}

// The PAM trust is refused at plan while a PAM domain configuration still
// relies on it: tainted, or removed from the configuration alone. A
// terraform destroy of both plans the configuration first and succeeds.
func TestAccPAMTrust_guardsAtPlan(t *testing.T) {
	skipUnlessAcc(t)
	l := startLab(t)
	pamPrepareHost(t, l, model.App1)
	provider := providerWithCorpPassword(l)
	trust := pamTrustConfig{Host: model.App1, Password: l.CorpAdminPassword()}.hcl()
	domain := pamDomainConfigHCL(model.App1, model.CorpAdminUser, l.CorpAdminPassword(), "depends_on = [bastion_pam_trust.corp]")
	used := `(?s)PAM Trust Still Used By A Domain Configuration.*%s\s+the\s+PAM\s+trust\s+with\s+corp\.contoso\.test.*Test-PAMDomainConfiguration.*bastion_pam_domain_configuration\s+for\s+CORP`
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy: func(*terraform.State) error {
			if priv, corp := trustSides(l); priv != nil || corp != nil {
				return fmt.Errorf("terraform destroy left the trust (PRIV side %v, CORP side %v)", priv != nil, corp != nil)
			}
			return expectConfigured(l, false)(nil)
		},
		Steps: []resource.TestStep{
			{Config: provider + trust + domain},
			{ // the trust alone leaves the configuration
				Config:      provider + strings.Replace(domain, "depends_on = [bastion_pam_trust.corp]", "", 1),
				PlanOnly:    true,
				ExpectError: regexp.MustCompile(fmt.Sprintf(used, "destroy")),
			},
			{
				PreConfig: func() {
					if priv, _ := trustSides(l); priv == nil {
						t.Fatal("a refused plan removed the trust")
					}
				},
				Config:      provider + trust + domain,
				Taint:       []string{pamTrustAddr},
				PlanOnly:    true,
				ExpectError: regexp.MustCompile(fmt.Sprintf(used, `replace\s+\(tainted\)`)),
			},
		},
	})
}

// The FCI that holds the MIM Service database is refused at plan, whatever
// takes it down: an install-time setting changed (replacement), a tainted
// instance, or a destroy.
func TestAccSQLFailoverClusterInstance_guardsAtPlan(t *testing.T) {
	skipUnlessAcc(t)
	l := startLab(t)
	pamPrepareHost(t, l, model.App1) // MIM Service setup creates FIMService on the FCI
	agentPw := model.RandomPassword()
	_ = l.Env.Do(func(e *model.Env) error { e.Credentials[strings.ToLower(fciAgent)] = agentPw; return nil })
	fci := baseFCI(agentPw, model.App1, model.App2).hcl()
	cfg := l.ProviderHCL() + fci
	holds := `(?s)SQL Server Instance Holds The MIM Service Database.*%s\s+the\s+failover\s+cluster\s+instance\s+priv-sql\.priv\.contoso\.test.*FIMService.*bastion_mim_service_node`
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{Config: cfg, ResourceName: fciAddr, ImportState: true, ImportStateId: model.SQLNetwork, ImportStatePersist: true},
			{Config: cfg},
			{
				PreConfig:   l.Env.ResetCounters,
				Config:      l.ProviderHCL() + strings.Replace(fci, `F:\\MSSQL\\Log`, `G:\\MSSQL\\Log`, 1),
				PlanOnly:    true,
				ExpectError: regexp.MustCompile(fmt.Sprintf(holds, "replace")),
			},
			{Config: l.ProviderHCL(), PlanOnly: true, ExpectError: regexp.MustCompile(fmt.Sprintf(holds, "destroy"))},
			{Config: cfg, Taint: []string{fciAddr}, PlanOnly: true, ExpectError: regexp.MustCompile(fmt.Sprintf(holds, `replace\s+\(tainted\)`) + `.*terraform\s+untaint`)},
			{
				PreConfig: func() {
					if runs := fciRuns(l); len(runs) != 0 {
						t.Fatalf("a refused plan ran setup: %+v", runs)
					}
					if n := l.Env.CallCount(model.WinRM, ""); n != 0 {
						t.Fatalf("the refused plans ran %d scripts", n)
					}
				},
				Config: l.ProviderHCL() + "removed {\n  from = " + fciAddr + "\n  lifecycle {\n    destroy = false\n  }\n}\n",
			},
		},
	})
}

// Teardown in one terraform destroy: a replica DC that Terraform gave a role
// is demoted after bastion_fsmo_roles, destroyed first, returned every role
// to holder_on_destroy. Without holder_on_destroy the same destroy is
// refused at plan, naming the attribute.
func TestAccFSMORoles_holderOnDestroy(t *testing.T) {
	skipUnlessAcc(t)
	l := startLab(t)
	dc2 := dcConfig{Name: "dc2", Host: model.DC2}
	roles := func(extra string) string {
		return fmt.Sprintf("resource \"bastion_fsmo_roles\" \"priv\" {\n  domain_name = %q\n  pdc_emulator = bastion_domain_controller.dc2.host\n  rid_master = bastion_domain_controller.dc2.host\n%s}\n", model.DomainDNS, extra)
	}
	withReturn := roles(fmt.Sprintf("  holder_on_destroy = %q\n", model.DC1))
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy: func(*terraform.State) error {
			if isLabDC(l, model.DC2) {
				return fmt.Errorf("%s is still a DC after terraform destroy", model.DC2)
			}
			var wrong []string
			_ = l.Env.Do(func(e *model.Env) error {
				for _, role := range adnames.FSMORoles() {
					if holder := e.Domain.FSMOHolder(role); !strings.EqualFold(holder, model.DC1) {
						wrong = append(wrong, role+"="+holder)
					}
				}
				return nil
			})
			if len(wrong) != 0 {
				return fmt.Errorf("after terraform destroy these roles are not on %s: %v", model.DC1, wrong)
			}
			return nil
		},
		Steps: []resource.TestStep{
			{Config: l.ProviderHCL() + importBlock("dc2", model.DC2) + dc2.hcl() + roles("")},
			{ // without holder_on_destroy the teardown is refused at plan
				Config:      l.ProviderHCL() + dc2.hcl() + roles(""),
				Destroy:     true,
				ExpectError: regexp.MustCompile(`(?s)Domain Controller Holds FSMO Roles.*priv-dc2\.priv\.contoso\.test.*holder_on_destroy`),
			},
			{Config: l.ProviderHCL() + dc2.hcl() + withReturn},
		},
	})
}
