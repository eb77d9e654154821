// Package scripts holds every PowerShell script the provider can run on a
// Windows host. The scripts are static files embedded at build time; no
// configuration value is ever spliced into their text. A script receives its
// input as a parsed JSON object in the parameter $Params, and returns one
// object that the bootstrap serialises as the single JSON document on stdout.
package scripts

import (
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io/fs"
	"sort"
	"strings"
	"unicode/utf16"
)

//go:embed *.ps1
var files embed.FS

// Shared PowerShell: a script line "# include: <name>" stands for
// include/<name>.ps1, expanded when the catalogue loads, so what runs (and
// what the lab accepts by digest) is one self-contained script.
//
//go:embed include/*.ps1
var includes embed.FS

const includeMarker = "# include: "

// Script is one embedded PowerShell script.
type Script struct {
	// Name is the file name without the .ps1 extension, e.g. "mim_read".
	Name string
	// Text is the exact file content.
	Text string
	// SHA256 is the lower-case hex digest of Text.
	SHA256 string
}

// BootstrapName is the name of the bootstrap, which is not a runnable script:
// it is the fixed command that reads the envelope from stdin.
const BootstrapName = "bootstrap"

var catalogue = load()

func load() map[string]Script {
	out := map[string]Script{}
	entries, err := fs.ReadDir(files, ".")
	if err != nil {
		panic(err)
	}
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".ps1") {
			continue
		}
		b, err := files.ReadFile(e.Name())
		if err != nil {
			panic(err)
		}
		text, err := Expand(string(b))
		if err != nil {
			panic(fmt.Sprintf("scripts: %s: %v", e.Name(), err))
		}
		sum := sha256.Sum256([]byte(text))
		name := strings.TrimSuffix(e.Name(), ".ps1")
		out[name] = Script{Name: name, Text: text, SHA256: hex.EncodeToString(sum[:])}
	}
	return out
}

// Expand replaces each "# include: <name>" line of a script's source with
// the text of include/<name>.ps1.
func Expand(source string) (string, error) {
	lines := strings.SplitAfter(source, "\n")
	var b strings.Builder
	for _, l := range lines {
		name, ok := strings.CutPrefix(strings.TrimRight(l, "\r\n"), includeMarker)
		if !ok {
			b.WriteString(l)
			continue
		}
		inc, err := includes.ReadFile("include/" + name + ".ps1")
		if err != nil {
			return "", fmt.Errorf("no shared PowerShell %q: %w", name, err)
		}
		b.Write(inc)
		if !strings.HasSuffix(string(inc), "\n") {
			b.WriteString("\n")
		}
	}
	return b.String(), nil
}

// All returns every runnable script (the bootstrap excluded), sorted by name.
func All() []Script {
	out := make([]Script, 0, len(catalogue))
	for name, s := range catalogue {
		if name == BootstrapName {
			continue
		}
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Get returns the script with the given name; it panics on an unknown name
// because names are compile-time constants in the callers.
func Get(name string) Script {
	s, ok := catalogue[name]
	if !ok || name == BootstrapName {
		panic(fmt.Sprintf("scripts: no embedded script %q", name))
	}
	return s
}

// Bootstrap returns the bootstrap script.
func Bootstrap() Script { return catalogue[BootstrapName] }

// PowerShellArgs are the fixed arguments before -EncodedCommand.
var PowerShellArgs = []string{"-NoLogo", "-NoProfile", "-NonInteractive", "-ExecutionPolicy", "Bypass"}

// CommandLine is the one command line the provider ever sends to a host:
// powershell.exe with the bootstrap as an encoded command. It is a constant;
// everything else goes through stdin.
func CommandLine() string {
	return "powershell.exe " + strings.Join(PowerShellArgs, " ") + " -EncodedCommand " + EncodeCommand(Bootstrap().Text)
}

// EncodeCommand encodes PowerShell text for -EncodedCommand: base64 of UTF-16LE.
func EncodeCommand(text string) string {
	u := utf16.Encode([]rune(text))
	b := make([]byte, 2*len(u))
	for i, r := range u {
		b[2*i] = byte(r) //nolint:gosec // G115: UTF-16LE: the low byte, then the high byte
		b[2*i+1] = byte(r >> 8)
	}
	return base64.StdEncoding.EncodeToString(b)
}

// Envelope is what the bootstrap reads from stdin.
type Envelope struct {
	Script string `json:"script"`
	Input  any    `json:"input"`
}

// Reply is the single JSON document the bootstrap writes to stdout.
type Reply struct {
	OK     bool        `json:"ok"`
	Result any         `json:"result,omitempty"`
	Error  *ReplyError `json:"error,omitempty"`
}

// ReplyError carries a PowerShell exception back to the caller.
type ReplyError struct {
	Type     string `json:"type"`
	Message  string `json:"message"`
	Category string `json:"category"`
	ID       string `json:"id"`
}
