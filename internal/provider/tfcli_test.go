package provider

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
	tfjson "github.com/hashicorp/terraform-json"
	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6/tf6server"
)

// terraformCLI runs the real Terraform CLI in one working directory, for
// what terraform-plugin-testing cannot drive: editing the configuration that
// `terraform plan -generate-config-out` wrote before the next plan. As the
// test framework does, each command reaches this test process's own provider
// through TF_REATTACH_PROVIDERS, so nothing is built, installed or fetched.
type terraformCLI struct {
	t   *testing.T
	bin string
	dir string
	env []string // TF_VAR_* secrets: never on a command line
}

// providerAddress is the provider's source address in the configurations.
const providerAddress = "registry.terraform.io/bastion-pam/bastion"

// providerSourceBlock makes the configuration name the provider by its source.
const providerSourceBlock = `terraform {
  required_providers {
    bastion = { source = "bastion-pam/bastion" }
  }
}
`

func newTerraformCLI(t *testing.T) *terraformCLI {
	t.Helper()
	bin := os.Getenv("TF_ACC_TERRAFORM_PATH")
	if bin == "" {
		t.Fatal("TF_ACC_TERRAFORM_PATH is empty: TestMain sets it to the terraform on PATH")
	}
	dir := t.TempDir()
	// An empty CLI configuration: no plugin cache, credentials or mirrors of the user's.
	if err := os.WriteFile(filepath.Join(dir, ".terraformrc"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	return &terraformCLI{t: t, bin: bin, dir: filepath.Join(dir, "work"), env: []string{"TF_CLI_CONFIG_FILE=" + filepath.Join(dir, ".terraformrc")}}
}

// setVar hands a variable to every later command through the environment.
func (c *terraformCLI) setVar(name, value string) {
	c.env = append(c.env, "TF_VAR_"+name+"="+value)
}

// write replaces the working directory's file name (0600: it holds the lab's passwords).
func (c *terraformCLI) write(name, content string) {
	c.t.Helper()
	if err := os.MkdirAll(c.dir, 0o700); err != nil {
		c.t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(c.dir, name), []byte(content), 0o600); err != nil {
		c.t.Fatal(err)
	}
}

func (c *terraformCLI) read(name string) string {
	c.t.Helper()
	b, err := os.ReadFile(filepath.Join(c.dir, name)) //nolint:gosec // G304: the test's own working directory
	if err != nil {
		c.t.Fatal(err)
	}
	return string(b)
}

func (c *terraformCLI) remove(name string) {
	c.t.Helper()
	if err := os.Remove(filepath.Join(c.dir, name)); err != nil {
		c.t.Fatal(err)
	}
}

// run runs terraform with args and returns its combined output and exit code.
func (c *terraformCLI) run(args ...string) (string, int) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	reattach, stop := c.serveProvider(ctx)
	defer stop()
	cmd := exec.CommandContext(ctx, c.bin, append(args, "-no-color")...) //nolint:gosec // G204: the terraform CLI the suite was given
	cmd.Dir = c.dir
	cmd.Env = append(os.Environ(), c.env...)
	cmd.Env = append(cmd.Env, "TF_REATTACH_PROVIDERS="+reattach, "CHECKPOINT_DISABLE=1", "TF_IN_AUTOMATION=1", "TF_INPUT=0")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	code := 0
	if err != nil {
		ee, ok := err.(*exec.ExitError) //nolint:errorlint // exec returns *ExitError itself
		if !ok {
			c.t.Fatalf("terraform %s: %v", args[0], err)
		}
		code = ee.ExitCode()
	}
	return out.String(), code
}

// must runs terraform and fails the test on a non-zero exit code.
func (c *terraformCLI) must(args ...string) string {
	c.t.Helper()
	out, code := c.run(args...)
	if code != 0 {
		c.t.Fatalf("terraform %s exited %d:\n%s", strings.Join(args, " "), code, out)
	}
	return out
}

// showJSON runs terraform show -json [file] into v.
func (c *terraformCLI) showJSON(v any, file ...string) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	reattach, stop := c.serveProvider(ctx)
	defer stop()
	cmd := exec.CommandContext(ctx, c.bin, append([]string{"show", "-json"}, file...)...) //nolint:gosec // G204: the terraform CLI the suite was given
	cmd.Dir = c.dir
	cmd.Env = append(os.Environ(), c.env...)
	cmd.Env = append(cmd.Env, "TF_REATTACH_PROVIDERS="+reattach, "CHECKPOINT_DISABLE=1")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	b, err := cmd.Output()
	if err != nil {
		c.t.Fatalf("terraform show -json %v: %v\n%s", file, err, stderr.String())
	}
	if err := json.Unmarshal(b, v); err != nil {
		c.t.Fatalf("terraform show -json: %v", err)
	}
}

// serveProvider serves a fresh provider in this process and returns the
// TF_REATTACH_PROVIDERS value that points Terraform at it.
func (c *terraformCLI) serveProvider(ctx context.Context) (string, func()) {
	c.t.Helper()
	ctx, cancel := context.WithCancel(ctx)
	configCh := make(chan *plugin.ReattachConfig)
	closeCh := make(chan struct{})
	go func() {
		err := tf6server.Serve(providerAddress, func() tfprotov6.ProviderServer { return providerserver.NewProtocol6(New("test")())() },
			tf6server.WithDebug(ctx, configCh, closeCh),
			tf6server.WithGoPluginLogger(hclog.NewNullLogger()),
			tf6server.WithLoggingSink(c.t))
		if err != nil {
			c.t.Errorf("serving the provider: %v", err)
		}
	}()
	var rc *plugin.ReattachConfig
	select {
	case rc = <-configCh:
	case <-time.After(time.Minute):
		cancel()
		c.t.Fatal("the provider server did not start within a minute")
	}
	b, err := json.Marshal(map[string]any{providerAddress: map[string]any{
		"Protocol": string(rc.Protocol), "ProtocolVersion": rc.ProtocolVersion, "Pid": rc.Pid, "Test": rc.Test,
		"Addr": map[string]string{"Network": rc.Addr.Network(), "String": rc.Addr.String()},
	}})
	if err != nil {
		c.t.Fatal(err)
	}
	return string(b), func() {
		cancel()
		select {
		case <-closeCh:
		case <-time.After(time.Minute):
			c.t.Error("the provider server did not stop within a minute")
		}
	}
}

// managedResources returns each managed resource's attributes by address.
func managedResources(s *tfjson.State) map[string]map[string]any {
	out := map[string]map[string]any{}
	if s.Values == nil || s.Values.RootModule == nil {
		return out
	}
	for _, r := range s.Values.RootModule.Resources {
		if r.Mode == tfjson.ManagedResourceMode {
			out[r.Address] = r.AttributeValues
		}
	}
	return out
}

// planSummary is one line per resource change: address, actions, import ID.
func planSummary(p *tfjson.Plan) string {
	var lines []string
	for _, rc := range p.ResourceChanges {
		imp := ""
		if rc.Change.Importing != nil {
			imp = " importing " + rc.Change.Importing.ID
		}
		lines = append(lines, fmt.Sprintf("%s: %v%s", rc.Address, rc.Change.Actions, imp))
	}
	return strings.Join(lines, "\n")
}
