package provider

import (
	"fmt"
	"os"
	"os/exec"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"

	"github.com/bastion-pam/terraform-provider-bastion/internal/lab"
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

// startLab starts a simulated bastion for one test and stops it afterwards.
func startLab(t *testing.T) *lab.Lab {
	t.Helper()
	l, err := lab.Start(lab.Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatalf("starting the lab: %v", err)
	}
	t.Cleanup(l.Close)
	watchLab(t, l)
	return l
}

// skipUnlessAcc skips tests that drive the Terraform CLI unless TF_ACC is set.
func skipUnlessAcc(t *testing.T) {
	t.Helper()
	if os.Getenv("TF_ACC") == "" {
		t.Skip("acceptance test: set TF_ACC=1 (make test does)")
	}
}
