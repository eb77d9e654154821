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

const pamDomainAddr = "bastion_pam_domain_configuration.corp"

func pamDomainConfigHCL(host, user, password string, extra ...string) string {
	var b strings.Builder
	b.WriteString("resource \"bastion_pam_domain_configuration\" \"corp\" {\n")
	fmt.Fprintf(&b, "  host = %q\n  source_domain = %q\n  corp_username = %q\n  corp_password_wo = %q\n", host, model.CorpDomainNB, user, password)
	for _, x := range extra {
		b.WriteString("  " + x + "\n")
	}
	b.WriteString("}\n")
	return b.String()
}

// corpFacts runs f on the CORP domain's PAM facts.
func corpFacts(l *lab.Lab, f func(*model.CorpFacts)) {
	_ = l.Env.Do(func(e *model.Env) error { f(e.CorpFacts(e.Forests[model.CorpDomainDNS])); return nil })
}

func expectConfigured(l *lab.Lab, want bool) resource.TestCheckFunc {
	return func(*terraform.State) error {
		var got bool
		corpFacts(l, func(f *model.CorpFacts) { got = f.Configured })
		if got != want {
			return fmt.Errorf("CORP holds the PAM domain configuration: %t, want %t", got, want)
		}
		return nil
	}
}

func scriptRuns(l *lab.Lab, name string) int { return l.Env.ScriptRuns()[name] }

func TestAccPAMDomainConfiguration_lifecycle(t *testing.T) {
	skipUnlessAcc(t)
	l := startLab(t)
	pamPrepareHost(t, l, model.App1)
	if err := newCorpTrust(l); err != nil {
		t.Fatal(err)
	}
	cfg := l.ProviderHCL() + pamDomainConfigHCL(model.App1, model.CorpAdminUser, l.CorpAdminPassword())
	var setRuns int

	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		// Without BASTION_PAM_CORP_PASSWORD destroy cannot reach CORP: the configuration stays there.
		CheckDestroy: func(s *terraform.State) error { return expectConfigured(l, true)(s) },
		Steps: []resource.TestStep{
			{
				Config: cfg,
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(pamDomainAddr, tfjsonpath.New("id"), knownvalue.StringExact(model.CorpDomainNB)),
					statecheck.ExpectKnownValue(pamDomainAddr, tfjsonpath.New("configured"), knownvalue.Bool(true)),
					statecheck.ExpectKnownValue(pamDomainAddr, tfjsonpath.New("corp_password_wo"), knownvalue.Null()),
				},
				Check: resource.ComposeTestCheckFunc(expectConfigured(l, true), noRejectedScripts(l)),
			},
			importStep(cfg, pamDomainAddr, model.App1+"/"+model.CorpDomainNB, "corp_username", "corp_password_wo_version", "configured"),
			{ // each plan runs Test-PAMDomainConfiguration once (plugin-testing runs two plans)
				PreConfig: l.Env.ResetCounters,
				Config:    cfg,
				PlanOnly:  true,
			},
			{ // drift: the configuration removed from CORP outside Terraform
				PreConfig: func() {
					if n := scriptRuns(l, "pam_domain_configuration_test"); n != 2 || l.Env.CallCount(model.WinRM, "") != 2 {
						t.Errorf("two plans ran Test-PAMDomainConfiguration %d times in %v WinRM calls, want one each", n, l.Env.Calls())
					}
					setRuns = scriptRuns(l, "pam_domain_configuration_set")
					corpFacts(l, func(f *model.CorpFacts) { f.Configured = false })
				},
				Config: cfg,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(pamDomainAddr, plancheck.ResourceActionUpdate),
					plancheck.ExpectUnknownValue(pamDomainAddr, tfjsonpath.New("configured")),
				}},
				Check: resource.ComposeTestCheckFunc(
					expectConfigured(l, true),
					func(*terraform.State) error {
						if n := scriptRuns(l, "pam_domain_configuration_set") - setRuns; n != 1 {
							return fmt.Errorf("New-PAMDomainConfiguration ran %d times to repair the drift, want 1", n)
						}
						return nil
					},
				),
			},
		},
	})
}

// The source domain must be ready: the trust, the group <NETBIOS>$$$,
// auditing, a credential it accepts. Each missing piece fails like the cmdlet.
func TestAccPAMDomainConfiguration_prerequisites(t *testing.T) {
	skipUnlessAcc(t)
	l := startLab(t)
	pamPrepareHost(t, l, model.App1)
	pw := l.CorpAdminPassword()
	cfg := l.ProviderHCL() + pamDomainConfigHCL(model.App1, model.CorpAdminUser, pw)
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config:      cfg,
				ExpectError: regexp.MustCompile(`(?s)PAM\s+Domain\s+Configuration\s+Not\s+Created.*no\s+trust.*New-PAMTrust\s+first`),
			},
			{
				PreConfig: func() {
					_ = newCorpTrust(l)
					corpFacts(l, func(f *model.CorpFacts) { f.Groups[strings.ToLower("CORP$$$")] = false })
				},
				Config:      cfg,
				ExpectError: regexp.MustCompile(`(?s)group\s+CORP\$\$\$\s+was\s+not\s+found`),
			},
			{
				PreConfig: func() {
					corpFacts(l, func(f *model.CorpFacts) { f.Groups[strings.ToLower("CORP$$$")] = true; f.Auditing = false })
				},
				Config:      cfg,
				ExpectError: regexp.MustCompile(`(?s)Auditing\s+of\s+account\s+management`),
			},
			{
				PreConfig:   func() { corpFacts(l, func(f *model.CorpFacts) { f.Auditing = true }) },
				Config:      l.ProviderHCL() + pamDomainConfigHCL(model.App1, model.CorpAdminUser, pw+"x"),
				ExpectError: regexp.MustCompile(`(?s)CORP\s+Credential\s+Refused`),
			},
			{
				Config:      l.ProviderHCL() + strings.Replace(pamDomainConfigHCL(model.App1, model.CorpAdminUser, pw), `"CORP"`, `"NOWHERE"`, 1),
				ExpectError: regexp.MustCompile(`(?s)specified\s+domain\s+either\s+does\s+not\s+exist`),
			},
			{
				Config:            cfg,
				ConfigStateChecks: []statecheck.StateCheck{statecheck.ExpectKnownValue(pamDomainAddr, tfjsonpath.New("configured"), knownvalue.Bool(true))},
				Check:             resource.ComposeTestCheckFunc(expectConfigured(l, true), noRejectedScripts(l)),
			},
		},
	})
}

// With the provider's pam_corp_password and the CORP account in the import ID,
// an import asks Test-PAMDomainConfiguration: a configuration that does not
// exist fails as Terraform says, one that exists imports whole (only the
// write-only secret and its version trigger are left out).
func TestAccPAMDomainConfiguration_importChecksExistence(t *testing.T) {
	skipUnlessAcc(t)
	l := startLab(t)
	pamPrepareHost(t, l, model.App1)
	if err := newCorpTrust(l); err != nil {
		t.Fatal(err)
	}
	provider := providerWithCorpPassword(l)
	cfg := provider + pamDomainConfigHCL(model.App1, model.CorpAdminUser, l.CorpAdminPassword())
	id := model.App1 + "/" + model.CorpDomainNB + "/" + model.CorpAdminUser
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		// pam_corp_password reaches the destroy: Remove-PAMDomainConfiguration runs.
		CheckDestroy: func(s *terraform.State) error { return expectConfigured(l, false)(s) },
		Steps: []resource.TestStep{
			{ // nothing configured in CORP yet
				Config:        cfg,
				ResourceName:  pamDomainAddr,
				ImportState:   true,
				ImportStateId: id,
				ExpectError:   regexp.MustCompile(`Cannot import non-existent remote object`),
			},
			{
				Config: cfg,
				Check:  expectConfigured(l, true),
			},
			importStep(cfg, pamDomainAddr, id, "corp_password_wo_version"),
		},
	})
}
