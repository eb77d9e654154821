package provider

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/bastion-pam/terraform-provider-bastion/internal/lab"
	"github.com/bastion-pam/terraform-provider-bastion/internal/lab/model"
)

var testAccProtoV6ProviderFactories = map[string]func() (tfprotov6.ProviderServer, error){
	"bastion": providerserver.NewProtocol6WithError(New("test")()),
}

func TestMain(m *testing.M) {
	// Terraform must not look up HashiCorp's checkpoint service from tests.
	_ = os.Setenv("CHECKPOINT_DISABLE", "1")
	if os.Getenv("TF_ACC") != "" && os.Getenv("TF_ACC_TERRAFORM_PATH") == "" {
		p, err := exec.LookPath("terraform")
		if err != nil {
			fmt.Fprintln(os.Stderr, "acceptance tests need the terraform CLI on PATH (Terraform >= 1.11); none was found, and the tests never download one")
			os.Exit(1)
		}
		_ = os.Setenv("TF_ACC_TERRAFORM_PATH", p)
	}
	code := m.Run()
	// One check over the whole suite: no secret any test used appears on
	// any process command line any lab recorded.
	if !scanCommandLines(os.Stdout) && code == 0 {
		code = 1
	}
	os.Exit(code)
}

// startLab starts a simulated bastion for one test and stops it afterwards;
// each prepare that is not nil then changes it before the test uses it.
func startLab(t *testing.T, prepare ...func(*lab.Lab) error) *lab.Lab {
	t.Helper()
	l, err := lab.Start(lab.Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatalf("starting the lab: %v", err)
	}
	t.Cleanup(l.Close)
	watchLab(t, l)
	for _, p := range prepare {
		if p == nil {
			continue
		}
		if err := p(l); err != nil {
			t.Fatalf("preparing the lab: %v", err)
		}
	}
	return l
}

// skipUnlessAcc skips tests that drive the Terraform CLI unless TF_ACC is set.
func skipUnlessAcc(t *testing.T) {
	t.Helper()
	if os.Getenv("TF_ACC") == "" {
		t.Skip("acceptance test: set TF_ACC=1 (make test does)")
	}
}

type planCheckFunc func(context.Context, plancheck.CheckPlanRequest, *plancheck.CheckPlanResponse)

func (f planCheckFunc) CheckPlan(ctx context.Context, req plancheck.CheckPlanRequest, resp *plancheck.CheckPlanResponse) {
	f(ctx, req, resp)
}

// secretSet lists the secrets a test hands Terraform; its checks prove none of
// them appears where Terraform writes: the plan, the state, the trace log.
type secretSet func() []string

func secretsOf(s ...string) secretSet { return func() []string { return s } }

// in fails when a secret appears in b, which holds what.
func (ss secretSet) in(what string, b []byte) error {
	for i, s := range ss() {
		if strings.Contains(string(b), s) {
			return fmt.Errorf("secret #%d appears in the %s", i, what)
		}
	}
	return nil
}

// plan is a plan check: no secret in the plan.
func (ss secretSet) plan() plancheck.PlanCheck {
	return planCheckFunc(func(_ context.Context, req plancheck.CheckPlanRequest, resp *plancheck.CheckPlanResponse) {
		b, _ := json.Marshal(req.Plan)
		resp.Error = ss.in("plan", b)
	})
}

// state is a state check: no secret in the state.
func (ss secretSet) state(s *terraform.State) error {
	b, _ := json.Marshal(s)
	return ss.in("state", b)
}

// traceLog reads the TF_LOG=trace file at path: it must hold no secret and
// show each of shows, or logging was not captured.
func (ss secretSet) traceLog(t *testing.T, path string, shows ...string) []byte {
	t.Helper()
	b, err := os.ReadFile(path) //nolint:gosec // G304: the test's own temporary file
	if err != nil {
		t.Fatal(err)
	}
	if len(b) < 10000 {
		t.Fatalf("trace log has only %d bytes: logging was not captured", len(b))
	}
	for _, want := range shows {
		if !strings.Contains(string(b), want) {
			t.Fatalf("the trace log does not show %q: logging was not captured", want)
		}
	}
	if err := ss.in("TF_LOG=trace log", b); err != nil {
		t.Fatal(err)
	}
	return b
}

// expectPlanErrors plans each case's configuration against l and expects
// its error; none of them may reach a host over WinRM.
func expectPlanErrors[C interface{ hcl() string }](t *testing.T, l *lab.Lab, cases map[string]struct {
	cfg  C
	want string
}) {
	t.Helper()
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			expectError(t, l.ProviderHCL()+c.cfg.hcl(), true, c.want)
		})
	}
	// The subtests run in parallel, after this function returns.
	t.Cleanup(func() {
		if n := l.Env.CallCount(model.WinRM, ""); n != 0 {
			t.Errorf("plan-time errors must stop before any remote call; the lab saw %d WinRM calls", n)
		}
	})
}
