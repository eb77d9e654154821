package scripts_test

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"testing"

	"github.com/bastion-pam/terraform-provider-bastion/internal/scripts"
	"github.com/bastion-pam/terraform-provider-bastion/internal/testsupport/pscheck"
)

// The whole command line, the encoded bootstrap included, fits cmd.exe's
// 8191 characters.
func TestCommandLineFitsCmdExe(t *testing.T) {
	n := len([]rune(scripts.CommandLine()))
	if n > pscheck.MaxCommandLine {
		t.Fatalf("the command line is %d characters, over the %d limit by %d", n, pscheck.MaxCommandLine, n-pscheck.MaxCommandLine)
	}
	t.Logf("command line: %d characters (bootstrap %d bytes), limit %d, margin %d", n, len(scripts.Bootstrap().Text), pscheck.MaxCommandLine, pscheck.MaxCommandLine-n)
}

// A large input (a 1 MiB config file as base64) goes through stdin and leaves
// the command line exactly as it was.
func TestLargeInputTravelsThroughStdin(t *testing.T) {
	before := scripts.CommandLine()
	blob := make([]byte, 1<<20)
	if _, err := rand.Read(blob); err != nil {
		t.Fatal(err)
	}
	input := map[string]any{"expected_sha256": "00", "content_base64": base64.StdEncoding.EncodeToString(blob), "restart": true}
	for _, s := range scripts.All() {
		doc, err := json.Marshal(scripts.Envelope{Script: s.Text, Input: input})
		if err != nil {
			t.Fatal(err)
		}
		if len(doc) < 1<<20 {
			t.Fatalf("envelope is only %d bytes", len(doc))
		}
		if after := scripts.CommandLine(); after != before {
			t.Fatalf("%s: a large input changed the command line", s.Name)
		}
	}
	if n := len(before); n > pscheck.MaxCommandLine {
		t.Fatalf("command line %d characters", n)
	}
}
