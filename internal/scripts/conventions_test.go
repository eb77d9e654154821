package scripts_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"unicode/utf16"

	"github.com/bastion-pam/terraform-provider-bastion/internal/scripts"
	"github.com/bastion-pam/terraform-provider-bastion/internal/testsupport/pscheck"
)

// Every script, checked by each of pscheck's per-script rules.
func TestEveryScriptFollowsTheConventions(t *testing.T) {
	for _, rule := range []struct {
		name  string
		check func(*pscheck.Summary, pscheck.Role) pscheck.Findings
	}{
		// Every script starts with param($Params), Set-StrictMode -Version
		// Latest and $ErrorActionPreference = 'Stop' (the bootstrap with the
		// last two), and nothing relaxes them later.
		{"strict preamble", pscheck.CheckStrictPreamble},
		// Nothing reaches stdout but the result: see pscheck.CheckOutput for
		// the approximation (statement-level output, Write-Host, console
		// writes).
		{"nothing but the result reaches stdout", pscheck.CheckOutput},
		// Every command a script calls has a row in pscheck.Table (or is a
		// function the script defines), every parameter is documented in
		// that row, and every value is of an acceptable kind: no string
		// literal where a SecureString or PSCredential is required, no string
		// where a switch or bool is.
		{"every command matches the signature table", pscheck.CheckSignatures},
		// No script but the bootstrap builds code from text: no
		// Invoke-Expression or iex, no Add-Type with source, no
		// [ScriptBlock]::Create, no nested powershell.exe, and no exit (which
		// would end the bootstrap's process).
		{"no code from strings", pscheck.CheckDynamicCode},
	} {
		t.Run(rule.name, func(t *testing.T) {
			eachScript(t, func(t *testing.T, _ scripts.Script, sum *pscheck.Summary, role pscheck.Role) {
				report(t, rule.check(sum, role))
			})
		})
	}
}

// No script text holds a template placeholder or Go format verb: values are
// never spliced into scripts.
func TestNoTemplatePlaceholders(t *testing.T) {
	for _, s := range embedded() {
		report(t, pscheck.CheckPlaceholders(s.Name+".ps1", s.Text))
	}
}

// The bootstrap answers with one JSON document, {ok,result} or
// {ok:false,error:{type,message,...}}, and exits non-zero on failure.
func TestBootstrapRepliesWithOneJSONDocument(t *testing.T) {
	sum := summaries(t)["bootstrap.ps1"]
	report(t, pscheck.CheckBootstrapReply(sum))
}

// The command line runs powershell.exe -NoProfile -NonInteractive with the
// bootstrap as -EncodedCommand, and decodes back to exactly the bootstrap.
func TestCommandLineIsTheEncodedBootstrap(t *testing.T) {
	cl := scripts.CommandLine()
	report(t, pscheck.CheckCommandLineText("command line", cl))
	if got := pscheck.CommandLineFor(scripts.Bootstrap().Text); got != cl {
		t.Fatalf("pscheck.CommandLineFor disagrees with scripts.CommandLine:\n%s\n%s", got, cl)
	}
	fields := strings.Fields(cl)
	if got := decodeCommand(t, fields[len(fields)-1]); got != scripts.Bootstrap().Text {
		t.Errorf("-EncodedCommand decodes to\n%s\nnot the bootstrap", got)
	}
}

func decodeCommand(t *testing.T, enc string) string {
	t.Helper()
	b, err := base64.StdEncoding.DecodeString(enc)
	if err != nil || len(b)%2 != 0 {
		t.Fatalf("-EncodedCommand is not base64 of UTF-16LE: %v", err)
	}
	u := make([]uint16, len(b)/2)
	for i := range u {
		u[i] = uint16(b[2*i]) | uint16(b[2*i+1])<<8
	}
	return string(utf16.Decode(u))
}

// hostileInput holds what an attacker or an unlucky configuration could put
// in a value: quotes, sub-expressions, backticks, separators, line breaks,
// template syntax and format verbs.
var hostileInput = map[string]any{
	"single_quote": `O'Brien'; Remove-Item -Recurse -Force C:\ ; '`,
	"double_quote": `"; Stop-Computer -Force; "`,
	"subexpr":      `$(Stop-Computer -Force)`,
	"variable":     `$env:COMPUTERNAME ${function:prompt} @splat`,
	"backtick":     "`$(whoami)`n`r`0",
	"semicolons":   `a;b;;c & d | e && f || g`,
	"newlines":     "line1\nline2\r\nline3\u2028line4\u0000end",
	"cmd":          `%COMSPEC% /c calc ^& echo ^| > nul`,
	"template":     "{{ .Password }} %s %v %q",
	"here_string":  "@'\n'@\n@\"\n\"@",
	"unicode":      "Zoë Ångström 日本 \U0001F600",
	"nested":       map[string]any{"array": []any{"'", `"`, "$(x)"}, "bool": true, "null": nil},
}

// The command line is the same bytes whatever the input: values travel only
// in the stdin envelope, as JSON data, and come back out of it unchanged.
func TestHostileInputCannotChangeTheCommandLine(t *testing.T) {
	before := scripts.CommandLine()
	for _, s := range embedded() {
		env := scripts.Envelope{Script: s.Text, Input: hostileInput}
		doc, err := json.Marshal(env)
		if err != nil {
			t.Fatal(err)
		}
		after := scripts.CommandLine()
		if !bytes.Equal([]byte(before), []byte(after)) {
			t.Fatalf("%s: the command line changed after building an envelope", s.Name)
		}
		for _, v := range []string{"O'Brien", "Stop-Computer", "whoami", "calc", "Password"} {
			if strings.Contains(after, v) || strings.Contains(decodeCommand(t, lastField(after)), v) {
				t.Errorf("%s: the command line contains input text %q", s.Name, v)
			}
		}
		// $input hands the bootstrap stdin line by line: the document must be one line.
		if bytes.ContainsAny(doc, "\r\n") {
			t.Errorf("%s: the envelope has a raw line break", s.Name)
		}
		var back struct {
			Script string         `json:"script"`
			Input  map[string]any `json:"input"`
		}
		if err := json.Unmarshal(doc, &back); err != nil {
			t.Fatal(err)
		}
		if back.Script != s.Text {
			t.Errorf("%s: the script text did not survive the envelope", s.Name)
		}
		if !reflect.DeepEqual(back.Input, hostileInput) {
			t.Errorf("%s: the input did not survive the envelope:\n%v\n%v", s.Name, back.Input, hostileInput)
		}
	}
}

func lastField(s string) string {
	f := strings.Fields(s)
	return f[len(f)-1]
}
