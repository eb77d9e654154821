package provider

import (
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/bastion-pam/terraform-provider-bastion/internal/lab"
	"github.com/bastion-pam/terraform-provider-bastion/internal/lab/model"
)

// importStep imports addr by id under cfg and verifies the imported state
// against the state of the step before. The timeouts are configuration
// only, never read back, so every import ignores them; ignore lists the
// other attributes an import cannot read.
func importStep(cfg, addr, id string, ignore ...string) resource.TestStep {
	return resource.TestStep{
		Config:                  cfg,
		ResourceName:            addr,
		ImportState:             true,
		ImportStateId:           id,
		ImportStateVerify:       true,
		ImportStateVerifyIgnore: append([]string{"timeouts"}, ignore...),
	}
}

// providerWithCorpPassword is the lab's provider block with the CORP
// password PAM's resources read CORP with.
func providerWithCorpPassword(l *lab.Lab) string {
	return strings.Replace(l.ProviderHCL(), "provider \"bastion\" {\n",
		fmt.Sprintf("provider \"bastion\" {\n  pam_corp_password = %q\n", l.CorpAdminPassword()), 1)
}

// expectError runs one step that must end with the error want matches: at
// plan when planOnly, else at apply. cfg holds the provider block.
func expectError(t *testing.T, cfg string, planOnly bool, want string) {
	t.Helper()
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps:                    []resource.TestStep{{Config: cfg, PlanOnly: planOnly, ExpectError: regexp.MustCompile(want)}},
	})
}

// errorCase is a configuration without the provider block and the error
// it must end with.
type errorCase struct{ cfg, want string }

// expectErrors runs expectError on provider plus each case's
// configuration, in a parallel subtest of the case's name. The subtests
// run after the calling test function returns: a check over all of them
// belongs in t.Cleanup.
func expectErrors(t *testing.T, provider string, planOnly bool, cases map[string]errorCase) {
	t.Helper()
	for name, c := range cases {
		t.Run(name, func(t *testing.T) { expectError(t, provider+c.cfg, planOnly, c.want) })
	}
}

// logTo captures Terraform's and the provider's TF_LOG output at level in a
// file of the test's temporary directory, and returns its path.
func logTo(t *testing.T, level string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), level+".log")
	t.Setenv("TF_LOG", level)
	t.Setenv("TF_ACC_LOG_PATH", p)
	return p
}

// providerFromEnv hands the provider the lab's settings as a pipeline does,
// in BASTION_* environment variables, and returns the empty provider block
// that reads them.
func providerFromEnv(t *testing.T, l *lab.Lab) string {
	t.Helper()
	for k, v := range l.EnvVars() {
		t.Setenv(k, v)
	}
	return "provider \"bastion\" {}\n"
}

// secretVariables declares each name as a sensitive, ephemeral string
// variable: how a pipeline hands Terraform a secret.
func secretVariables(names ...string) string {
	var b strings.Builder
	for _, n := range names {
		fmt.Fprintf(&b, "variable %q {\n  type      = string\n  sensitive = true\n  ephemeral = true\n}\n", n)
	}
	return b.String()
}

// plannedAction checks, before the apply, that the plan takes action on
// addr.
func plannedAction(addr string, action plancheck.ResourceActionType) resource.ConfigPlanChecks {
	return resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(addr, action)}}
}

// exactStrings checks a list of exactly these strings, in this order.
func exactStrings(values ...string) knownvalue.Check {
	checks := make([]knownvalue.Check, len(values))
	for i, v := range values {
		checks[i] = knownvalue.StringExact(v)
	}
	return knownvalue.ListExact(checks)
}

// labEvents are the lab's events of kind, on host (any host when host is
// ""), in the order they happened.
func labEvents(l *lab.Lab, kind, host string) []model.Event {
	var out []model.Event
	for _, ev := range l.Env.Events() {
		if ev.Kind == kind && (host == "" || ev.Host == host) {
			out = append(out, ev)
		}
	}
	return out
}

// attributesOf is the flat attribute map of addr in s, or an error when
// addr is not in the state.
func attributesOf(s *terraform.State, addr string) (map[string]string, error) {
	rs, ok := s.RootModule().Resources[addr]
	if !ok || rs.Primary == nil {
		return nil, fmt.Errorf("%s is not in the state", addr)
	}
	return rs.Primary.Attributes, nil
}
