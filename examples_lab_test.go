package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

// labExamples is every resource and data source example, in the order
// docs/guides/lab.md has a user apply them, and the lab each one runs in.
// Within one lab the examples run one at a time, each destroyed before the
// next, as the guide says: several build on the same servers. The guide's
// user applies the "directory" and "mim" examples in one default lab
// (`bastion-lab serve`); the test gives each group a default lab of its own
// so the two run side by side. "cluster" is the second lab the guide starts
// for the SQL Server failover cluster instance (`-topology bastion`), which
// the default lab already runs. bastion_fsmo_roles comes last, since its
// destroy leaves the roles where it moved them.
var labExamples = []struct{ lab, dir string }{
	{"directory", "examples/data-sources/bastion_domain_controllers"},
	{"directory", "examples/data-sources/bastion_dns_client_servers"},
	{"directory", "examples/data-sources/bastion_backup_status"},
	{"mim", "examples/data-sources/bastion_topology"},
	{"directory", "examples/resources/bastion_ad_optional_feature"},
	{"directory", "examples/resources/bastion_dns_record"},
	{"mim", "examples/resources/bastion_mim_service_node"},
	{"mim", "examples/resources/bastion_pam_trust"},
	{"mim", "examples/resources/bastion_pam_domain_configuration"},
	{"directory", "examples/resources/bastion_domain_controller"},
	{"directory", "examples/resources/bastion_fsmo_roles"},
	{"cluster", "examples/resources/bastion_sql_failover_cluster_instance"},
	{"cluster", "examples/resources/bastion_sql_login"},
}

// labDirs are where each lab's `serve -dir` writes lab.env: the guide's
// .bastion-lab and .bastion-lab-cluster, and a second default lab.
var labDirs = map[string]string{"directory": ".bastion-lab", "mim": ".bastion-lab-mim", "cluster": ".bastion-lab-cluster"}

// TestExamplesApplyInLab holds the promise of docs/guides/lab.md: a new user
// can apply every example in the lab following only the guide. It builds the
// provider and bastion-lab into a scratch clone (`make build`), starts the
// labs as the guide does, runs the guide's own "Point Terraform at it" shell
// block (the filesystem mirror, the CLI configuration, `source lab.env`),
// records the backup the guide asks for, and then, for each example, runs
// the real Terraform CLI: apply must succeed without a warning, the next
// plan must be empty, and destroy must succeed.
func TestExamplesApplyInLab(t *testing.T) {
	if os.Getenv("TF_ACC") == "" {
		t.Skip("set TF_ACC=1 (make test does) to apply every example against bastion-lab with the real Terraform CLI")
	}
	tf := terraformPath(t)
	checkLabExamplesListed(t)
	guide, err := os.ReadFile(filepath.Join("docs", "guides", "lab.md"))
	if err != nil {
		t.Fatal(err)
	}
	setup := shellBlock(t, string(guide), "## Point Terraform at it")

	clone := t.TempDir()
	for out, pkg := range map[string]string{"terraform-provider-bastion": ".", "bastion-lab": "./internal/lab/cmd/bastion-lab"} {
		build := exec.Command("go", "build", "-o", filepath.Join(clone, "bin", out), pkg)
		if b, err := build.CombinedOutput(); err != nil {
			t.Fatalf("go build %s: %v\n%s", pkg, err, b)
		}
	}
	startLab(t, clone, "serve")
	startLab(t, clone, "serve", "-dir", labDirs["mim"])
	startLab(t, clone, "serve", "-topology", "bastion", "-dir", labDirs["cluster"])
	labEnvs := map[string][]string{
		"directory": guideShellEnv(t, clone, setup),
		"mim":       guideShellEnv(t, clone, setup+"\nsource "+labDirs["mim"]+"/lab.env"),
		"cluster":   guideShellEnv(t, clone, setup+"\nsource "+labDirs["cluster"]+"/lab.env"),
	}
	// The guide's prerequisite of the backup checks: a backup of the FSMO
	// role holder, priv-dc1.
	for _, name := range []string{"directory", "mim"} {
		if out, err := exec.Command(filepath.Join(clone, "bin", "bastion-lab"), "backup", "-dir", filepath.Join(clone, labDirs[name]),
			"-host", "priv-dc1.priv.contoso.test", "-age", "10m").CombinedOutput(); err != nil {
			t.Fatalf("bastion-lab backup: %v\n%s", err, out)
		}
	}

	for _, name := range []string{"directory", "mim", "cluster"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			for _, ex := range labExamples {
				if ex.lab != name {
					continue
				}
				t.Run(filepath.Base(ex.dir), func(t *testing.T) {
					work := filepath.Join(clone, "try", filepath.Base(ex.dir))
					if err := os.MkdirAll(work, 0o700); err != nil {
						t.Fatal(err)
					}
					files, err := filepath.Glob(filepath.Join(ex.dir, "*.tf"))
					if err != nil {
						t.Fatal(err)
					}
					// The import examples import what the example builds:
					// they are validated by TestExamples, not applied here.
					files = slices.DeleteFunc(files, func(f string) bool { return strings.HasPrefix(filepath.Base(f), "import") })
					writeExample(t, work, files, "\nprovider \"bastion\" {}\n")
					applyExample(t, tf, work, labEnvs[name])
				})
			}
		})
	}
}

// checkLabExamplesListed fails when an example directory is missing from
// labExamples (or listed twice), so a new example is applied too.
func checkLabExamplesListed(t *testing.T) {
	t.Helper()
	listed := map[string]int{}
	for _, ex := range labExamples {
		listed[ex.dir]++
	}
	for _, root := range []string{"examples/resources", "examples/data-sources"} {
		entries, err := os.ReadDir(root)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			dir := root + "/" + e.Name()
			if e.IsDir() && listed[dir] != 1 {
				t.Errorf("%s is listed %d times in labExamples: list every example once, in the order docs/guides/lab.md applies them", dir, listed[dir])
			}
			delete(listed, dir)
		}
	}
	for dir := range listed {
		t.Errorf("labExamples lists %s, which does not exist", dir)
	}
}

// applyExample runs init, apply, plan and destroy in work.
func applyExample(t *testing.T, tf, work string, env []string) {
	t.Helper()
	run := func(args ...string) (string, int) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, tf, append(args, "-input=false", "-no-color")...)
		cmd.Dir, cmd.Env = work, env
		out, err := cmd.CombinedOutput()
		var exit *exec.ExitError
		switch {
		case err == nil:
			return string(out), 0
		case errors.As(err, &exit):
			return string(out), exit.ExitCode()
		}
		t.Fatalf("terraform %s: %v\n%s", args[0], err, out)
		return "", -1
	}
	if out, rc := run("init"); rc != 0 {
		t.Fatalf("terraform init: exit %d\n%s", rc, out)
	}
	// Whatever happens, leave the lab as the next example expects it.
	defer func() {
		if out, rc := run("destroy", "-auto-approve"); rc != 0 {
			t.Errorf("terraform destroy: exit %d\n%s", rc, out)
		}
	}()
	out, rc := run("apply", "-auto-approve")
	if rc != 0 {
		t.Errorf("terraform apply: exit %d\n%s", rc, out)
		return
	}
	if strings.Contains(out, "Warning:") {
		t.Errorf("terraform apply succeeded with a warning; following the guide, an example applies cleanly:\n%s", out)
	}
	if out, rc := run("plan", "-detailed-exitcode"); rc != 0 {
		t.Errorf("the plan after apply is not empty (exit %d, want 0):\n%s", rc, out)
	}
}

// shellBlock is the first ```shell block of the guide's section heading.
func shellBlock(t *testing.T, guide, heading string) string {
	t.Helper()
	_, section, ok := strings.Cut(guide, "\n"+heading+"\n")
	if !ok {
		t.Fatalf("docs/guides/lab.md has no section %q", heading)
	}
	_, block, ok := strings.Cut(section, "```shell\n")
	if !ok {
		t.Fatalf("docs/guides/lab.md's section %q has no shell block", heading)
	}
	block, _, _ = strings.Cut(block, "```")
	return block
}

// guideShellEnv runs script with bash in dir, as a user pastes the guide's
// commands into a shell there, and returns the environment it leaves.
func guideShellEnv(t *testing.T, dir, script string) []string {
	t.Helper()
	cmd := exec.Command("bash", "-e", "-c", script+"\nenv -0")
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("the guide's shell commands failed: %v\n%s\n%s", err, stderr.String(), script)
	}
	var env []string
	for _, kv := range strings.Split(string(out), "\x00") {
		if kv != "" {
			env = append(env, kv)
		}
	}
	return append(env, "CHECKPOINT_DISABLE=1", "TF_IN_AUTOMATION=1")
}

// startLab starts bin/bastion-lab with args in dir, waits for its ready file
// and stops it (SIGINT, as Ctrl-C) when the test ends.
func startLab(t *testing.T, dir string, args ...string) {
	t.Helper()
	labDir := filepath.Join(dir, ".bastion-lab") // serve's default -dir
	if i := slices.Index(args, "-dir"); i >= 0 {
		labDir = filepath.Join(dir, args[i+1])
	}
	var log bytes.Buffer
	cmd := exec.Command(filepath.Join(dir, "bin", "bastion-lab"), args...)
	cmd.Dir, cmd.Stdout, cmd.Stderr = dir, &log, &log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// exited is closed once Wait has returned, so the readiness loop and
	// the cleanup can both see the exit (a value sent once could be read
	// only once, and a cleanup after a failed start would wait forever).
	var waitErr error
	exited := make(chan struct{})
	go func() { waitErr = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGINT)
		select {
		case <-exited:
			if waitErr != nil {
				t.Logf("bastion-lab %v: %v\n%s", args, waitErr, log.String())
			}
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
			t.Logf("bastion-lab %v did not stop on SIGINT: %v", args, waitErr)
		}
	})
	deadline := time.Now().Add(time.Minute)
	for {
		if _, err := os.Stat(filepath.Join(labDir, "ready")); err == nil {
			return
		}
		select {
		case <-exited:
			t.Fatalf("bastion-lab %v exited: %v\n%s", args, waitErr, log.String())
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("bastion-lab %v: not ready after a minute", args)
		}
	}
}
