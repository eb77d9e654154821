// Package pscheck checks the provider's embedded PowerShell on a machine
// without PowerShell: it parses each script with the tree-sitter PowerShell
// grammar (run under Node by parse.mjs) and checks the parse against the
// project's rules: no grammar errors, every command and parameter in the
// signature table with values of the right kind, no code built from strings,
// the strict preamble, nothing written to stdout but the result, no template
// placeholders, and a command line that fits cmd.exe.
//
// Every check is a function of a script's text, so tests run them on the real
// scripts and on the deliberately broken fixtures alike. The package is for
// tests and tools only; the provider never imports it.
package pscheck

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"
)

// ErrToolsMissing means node, npm or the pinned node_modules are not there.
var ErrToolsMissing = errors.New("pscheck: PowerShell parser not available")

// Source is one script to parse.
type Source struct {
	Name string
	Text string
}

// pinned are the npm packages parse.mjs needs, checked against package.json.
var pinned = []string{"tree-sitter-powershell", "web-tree-sitter"}

// Dir returns the directory of this package, which holds package.json,
// package-lock.json, parse.mjs and (after npm ci) node_modules.
func Dir() (string, error) {
	// Tests run with the package directory as working directory; walk up to
	// go.mod so any package of the module finds us.
	if wd, err := os.Getwd(); err == nil {
		for d := wd; ; d = filepath.Dir(d) {
			if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
				p := filepath.Join(d, "internal", "testsupport", "pscheck")
				if _, err := os.Stat(filepath.Join(p, "parse.mjs")); err == nil {
					return p, nil
				}
				break
			}
			if filepath.Dir(d) == d {
				break
			}
		}
	}
	if _, file, _, ok := runtime.Caller(0); ok {
		p := filepath.Dir(file)
		if _, err := os.Stat(filepath.Join(p, "parse.mjs")); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("%w: cannot find internal/testsupport/pscheck/parse.mjs from the working directory", ErrToolsMissing)
}

var installMu sync.Mutex

// EnsureInstalled makes sure node is on PATH and node_modules holds the
// pinned packages. When node_modules is missing or stale it runs
// `npm ci --ignore-scripts` (from package-lock.json only) itself, except
// under CI (CI set), where the missing install is an error telling to run
// `make test`. Errors wrap ErrToolsMissing.
func EnsureInstalled() error {
	installMu.Lock()
	defer installMu.Unlock()
	dir, err := Dir()
	if err != nil {
		return err
	}
	if _, err := exec.LookPath("node"); err != nil {
		return fmt.Errorf("%w: node not found on PATH (install Node.js >= 20; `make test` checks for it)", ErrToolsMissing)
	}
	stale := installedMismatch(dir)
	if stale == "" {
		return nil
	}
	if os.Getenv("CI") != "" {
		return fmt.Errorf("%w: %s; run `make test`, which runs npm ci in %s before the tests", ErrToolsMissing, stale, dir)
	}
	if _, err := exec.LookPath("npm"); err != nil {
		return fmt.Errorf("%w: %s and npm is not on PATH", ErrToolsMissing, stale)
	}
	if err := npmCI(dir); err != nil {
		return fmt.Errorf("%w: %s; npm ci failed: %w", ErrToolsMissing, stale, err)
	}
	if s := installedMismatch(dir); s != "" {
		return fmt.Errorf("%w: after npm ci: %s", ErrToolsMissing, s)
	}
	return nil
}

// installedMismatch returns "" when node_modules holds exactly the versions
// package.json pins, else what is wrong.
func installedMismatch(dir string) string {
	var pkg struct {
		Dependencies map[string]string `json:"dependencies"`
	}
	b, err := os.ReadFile(filepath.Join(dir, "package.json")) // #nosec G304 -- this package's own file
	if err != nil {
		return "package.json unreadable: " + err.Error()
	}
	if err := json.Unmarshal(b, &pkg); err != nil {
		return "package.json invalid: " + err.Error()
	}
	for _, name := range pinned {
		want := pkg.Dependencies[name]
		var got struct {
			Version string `json:"version"`
		}
		b, err := os.ReadFile(filepath.Join(dir, "node_modules", name, "package.json")) // #nosec G304 -- a pinned package's manifest
		if err != nil {
			return "node_modules/" + name + " is missing"
		}
		if err := json.Unmarshal(b, &got); err != nil || got.Version != want {
			return fmt.Sprintf("node_modules/%s is %q, package.json pins %q", name, got.Version, want)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "tree-sitter-powershell", "tree-sitter-powershell.wasm")); err != nil {
		return "tree-sitter-powershell.wasm is missing from node_modules"
	}
	return ""
}

// npmCI installs into a private directory and renames its node_modules into
// place, so two test binaries running at once never see a half-made tree.
func npmCI(dir string) error {
	tmp, err := os.MkdirTemp(dir, ".npm-ci-")
	if err != nil {
		return err
	}
	defer func() { _ = os.RemoveAll(tmp) }()
	for _, f := range []string{"package.json", "package-lock.json"} {
		b, err := os.ReadFile(filepath.Join(dir, f)) // #nosec G304 -- package.json and package-lock.json
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(tmp, f), b, 0o600); err != nil { //nolint:gosec // G703: f names a file embedded in this package, not outside input
			return err
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "npm", "ci", "--ignore-scripts", "--no-audit", "--no-fund", "--loglevel=error")
	cmd.Dir = tmp
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%w: %s", err, strings.TrimSpace(out.String()))
	}
	target := filepath.Join(dir, "node_modules")
	if installedMismatch(dir) != "" {
		_ = os.RemoveAll(target)
	}
	if err := os.Rename(filepath.Join(tmp, "node_modules"), target); err != nil {
		if installedMismatch(dir) == "" {
			return nil // another process installed it meanwhile
		}
		return err
	}
	return nil
}

var (
	cacheMu sync.Mutex
	cache   = map[[32]byte]*Summary{}
)

func cacheKey(s Source) [32]byte {
	return sha256.Sum256([]byte(s.Name + "\x00" + s.Text))
}

// Parse parses every source with one run of parse.mjs (results are cached by
// name and text) and returns the summaries in the same order. Call
// EnsureInstalled first.
func Parse(sources ...Source) ([]*Summary, error) {
	out := make([]*Summary, len(sources))
	var todo []Source
	var todoIdx []int
	cacheMu.Lock()
	for i, s := range sources {
		if sum, ok := cache[cacheKey(s)]; ok {
			out[i] = sum
			continue
		}
		todo = append(todo, s)
		todoIdx = append(todoIdx, i)
	}
	cacheMu.Unlock()
	if len(todo) == 0 {
		return out, nil
	}
	parsed, err := runParser(todo)
	if err != nil {
		return nil, err
	}
	cacheMu.Lock()
	defer cacheMu.Unlock()
	for j, sum := range parsed {
		cache[cacheKey(todo[j])] = sum
		out[todoIdx[j]] = sum
	}
	return out, nil
}

// ParseText parses one script.
func ParseText(name, text string) (*Summary, error) {
	s, err := Parse(Source{Name: name, Text: text})
	if err != nil {
		return nil, err
	}
	return s[0], nil
}

func runParser(sources []Source) ([]*Summary, error) {
	dir, err := Dir()
	if err != nil {
		return nil, err
	}
	type item struct {
		Name string `json:"name"`
		Text string `json:"text"`
	}
	items := make([]item, len(sources))
	for i, s := range sources {
		items[i] = item(s)
	}
	in, err := json.Marshal(items)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", filepath.Join(dir, "parse.mjs"), "--batch")
	cmd.Dir = dir
	cmd.Stdin = bytes.NewReader(in)
	var stdout, stderr bytes.Buffer
	cmd.Stdout = &stdout
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("pscheck: node parse.mjs: %w: %s", err, strings.TrimSpace(stderr.String()))
	}
	var out []*Summary
	if err := json.Unmarshal(stdout.Bytes(), &out); err != nil {
		return nil, fmt.Errorf("pscheck: parse.mjs output: %w", err)
	}
	if len(out) != len(sources) {
		return nil, fmt.Errorf("pscheck: parse.mjs returned %d summaries for %d scripts", len(out), len(sources))
	}
	return out, nil
}
