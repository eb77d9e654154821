package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
)

// requiredProviders is added to an example that does not name its providers
// (resource and data source snippets): Terraform would otherwise look for
// hashicorp/bastion.
const requiredProviders = `terraform {
  required_providers {
    bastion = { source = "bastion-pam/bastion" }
  }
}
`

// TestExamples runs `terraform fmt -check` over examples/ and `terraform
// validate` in every directory under it, against the provider built from this
// tree through a dev_overrides CLI configuration, so nothing is downloaded.
// The generated docs show these files: an example that stops validating fails
// here, not in a user's hands.
func TestExamples(t *testing.T) {
	tf := terraformPath(t)
	bin := t.TempDir()
	build := exec.Command("go", "build", "-o", filepath.Join(bin, "terraform-provider-bastion"), ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	rc := filepath.Join(t.TempDir(), "terraformrc")
	cfg := "provider_installation {\n  dev_overrides {\n    \"bastion-pam/bastion\" = \"" + bin + "\"\n  }\n  direct {}\n}\n"
	if err := os.WriteFile(rc, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	env := append(os.Environ(), "TF_CLI_CONFIG_FILE="+rc, "CHECKPOINT_DISABLE=1", "TF_IN_AUTOMATION=1")
	run := func(dir string, args ...string) (string, error) {
		cmd := exec.Command(tf, args...)
		cmd.Dir, cmd.Env = dir, env
		out, err := cmd.CombinedOutput()
		return string(out), err
	}

	if out, err := run(".", "fmt", "-check", "-recursive", "-diff", "examples"); err != nil {
		t.Errorf("terraform fmt -check examples: %v (run make fmt)\n%s", err, out)
	}

	dirs := map[string][]string{}
	err := filepath.WalkDir("examples", func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || filepath.Ext(p) != ".tf" {
			return err
		}
		dirs[filepath.Dir(p)] = append(dirs[filepath.Dir(p)], p)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(dirs) < 10 {
		t.Fatalf("found %d example directories under examples/, expected every resource, data source and topology", len(dirs))
	}
	for dir, files := range dirs {
		t.Run(dir, func(t *testing.T) {
			t.Parallel()
			work := t.TempDir()
			writeExample(t, work, files, "")
			if out, err := run(work, "validate", "-no-color"); err != nil {
				t.Errorf("terraform validate %s: %v\n%s", dir, err, out)
			}
		})
	}
}

// terraformPath is the Terraform CLI the examples run with.
func terraformPath(t *testing.T) string {
	t.Helper()
	if tf := os.Getenv("TF_ACC_TERRAFORM_PATH"); tf != "" {
		return tf
	}
	tf, err := exec.LookPath("terraform")
	if err != nil {
		t.Fatal("terraform not found on PATH (set TF_ACC_TERRAFORM_PATH): the examples are run with the real CLI")
	}
	return tf
}

// writeExample copies an example's files into work as a configuration of its
// own: a snippet that uses another resource (a login that depends on its
// instance) gets that resource's own example beside it, and a snippet that
// names no providers gets the required_providers block, plus provider when
// it is not empty (a provider block).
func writeExample(t *testing.T, work string, files []string, provider string) {
	t.Helper()
	var all bytes.Buffer
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		all.Write(b)
		if err := os.WriteFile(filepath.Join(work, filepath.Base(f)), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	for _, dep := range missingResources(t, all.String()) {
		b, err := os.ReadFile(filepath.Join("examples", "resources", dep, "resource.tf"))
		if err != nil {
			t.Fatalf("%v uses %s, which has no example: %v", files, dep, err)
		}
		// Both may declare the same input variable: keep the first.
		b = variableBlock.ReplaceAllFunc(b, func(v []byte) []byte {
			if strings.Contains(all.String(), string(variableBlock.FindSubmatch(v)[1])) {
				return nil
			}
			return v
		})
		all.Write(b)
		if err := os.WriteFile(filepath.Join(work, "zz_"+dep+".tf"), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if !strings.Contains(all.String(), "required_providers") {
		if err := os.WriteFile(filepath.Join(work, "zz_required_providers.tf"), []byte(requiredProviders+provider), 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

var (
	resourceRef  = regexp.MustCompile(`(?:^|[^.\w"])(bastion_[a-z_]+)\.[a-z0-9_]+`)
	resourceDecl = regexp.MustCompile(`resource\s+"(bastion_[a-z_]+)"`)
	// variableBlock is a top-level variable block, as terraform fmt writes it.
	variableBlock = regexp.MustCompile(`(?ms)^(variable "[^"]+") \{.*?^\}\n`)
)

// missingResources lists, closed over their own references, the resource
// types src refers to (in depends_on or an expression) without declaring one.
func missingResources(t *testing.T, src string) []string {
	t.Helper()
	declared := map[string]bool{}
	var missing []string
	for {
		for _, m := range resourceDecl.FindAllStringSubmatch(src, -1) {
			declared[m[1]] = true
		}
		var add []string
		for _, m := range resourceRef.FindAllStringSubmatch(src+"\n", -1) {
			if !declared[m[1]] && !slices.Contains(add, m[1]) {
				add = append(add, m[1])
			}
		}
		if len(add) == 0 {
			sort.Strings(missing)
			return missing
		}
		for _, dep := range add {
			b, err := os.ReadFile(filepath.Join("examples", "resources", dep, "resource.tf"))
			if err != nil {
				t.Fatalf("an example uses %s, which has no example: %v", dep, err)
			}
			src += "\n" + string(b)
			declared[dep] = true
			missing = append(missing, dep)
		}
	}
}

// TestNoInternalShorthand keeps the project's internal name for its source
// documents out of everything a user reads: they are Microsoft's documents
// and are named as such.
func TestNoInternalShorthand(t *testing.T) {
	word := regexp.MustCompile(`(?i)\bseeds?\b`)
	for _, root := range []string{"README.md", "CHANGELOG.md", "docs", "templates", "examples"} {
		err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			for i, line := range strings.Split(string(b), "\n") {
				if word.MatchString(line) {
					t.Errorf("%s:%d says %q: name Microsoft's document instead", p, i+1, word.FindString(line))
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}
