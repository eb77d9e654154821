package winrmsim

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	_ "embed"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"

	"golang.org/x/text/encoding/charmap"

	"github.com/bastion-pam/terraform-provider-bastion/internal/lab/model"
	"github.com/bastion-pam/terraform-provider-bastion/internal/lab/utf16le"
)

// consoleInput decodes stdin as code page 437, as [Console]::In does on
// an en-US Windows Server (Microsoft: "Code Page Identifiers"; Console
// input code page defaults to the OEM code page).
func consoleInput(b []byte) []byte {
	out, err := charmap.CodePage437.NewDecoder().Bytes(b)
	if err != nil {
		return b
	}
	return out
}

// The lab knows scripts only by digest, from its own list: the provider's
// catalogue is not trusted to say what may run. Regenerate after changing a
// script (and review the diff):
//
//go:generate sh -c "cd ../../.. && go run ./internal/testsupport/pscheck/cmd/acceptlist > internal/lab/winrmsim/accepted_scripts.sha256"
//go:embed accepted_scripts.sha256
var acceptedFile string

// bootstrapName is the command-line bootstrap's entry in the accepted list.
const bootstrapName = "bootstrap"

// powerShellArgs are the only arguments the lab accepts before -EncodedCommand.
var powerShellArgs = []string{"-NoLogo", "-NoProfile", "-NonInteractive", "-ExecutionPolicy", "Bypass"}

var accepted = parseAccepted(acceptedFile)

func parseAccepted(s string) map[string]string {
	out := map[string]string{}
	sc := bufio.NewScanner(strings.NewReader(s))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Fields(line) // "<sha256>  <name>.ps1", or " *<name>" in binary mode
		if len(f) != 2 {
			panic(fmt.Sprintf("winrmsim: bad line in accepted_scripts.sha256: %q", line))
		}
		sum, file := f[0], strings.TrimPrefix(f[1], "*")
		if len(sum) != 64 || !strings.HasSuffix(file, ".ps1") {
			panic(fmt.Sprintf("winrmsim: bad line in accepted_scripts.sha256: %q", line))
		}
		if _, err := hex.DecodeString(sum); err != nil {
			panic(fmt.Sprintf("winrmsim: bad digest in accepted_scripts.sha256: %q", line))
		}
		out[strings.TrimSuffix(file, ".ps1")] = strings.ToLower(sum)
	}
	if _, ok := out[bootstrapName]; !ok {
		panic("winrmsim: accepted_scripts.sha256 lacks bootstrap.ps1")
	}
	return out
}

// AcceptedScripts returns the scripts the lab runs: name (without .ps1) to
// lower-case hex SHA-256 of the exact file bytes, bootstrap included.
func AcceptedScripts() map[string]string {
	return maps.Clone(accepted)
}

// Handler simulates one script on one host. It runs with the model locked
// (inside env.Do), so it reads and changes env and host directly and must
// not call env's locking methods. input is the envelope's "input" as sent
// ("null" when absent). The result is serialised as the script's output;
// an error becomes the bootstrap's error reply (see ScriptError).
type Handler func(env *model.Env, host *model.Host, input json.RawMessage) (any, error)

var registry = handlerTable[Handler]{what: "handler"}

// handlerTable maps script names to handlers. It is filled from init()
// and read while requests are served, hence the lock.
type handlerTable[H any] struct {
	mu   sync.RWMutex
	m    map[string]H
	what string // names the table in the duplicate panic
}

// add installs h for name; it panics on a duplicate, so two files cannot
// silently fight over one script.
func (t *handlerTable[H]) add(name string, h H) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if _, dup := t.m[name]; dup {
		panic(fmt.Sprintf("winrmsim: %s for %q registered twice", t.what, name))
	}
	if t.m == nil {
		t.m = map[string]H{}
	}
	t.m[name] = h
}

// get returns the handler of name, the zero H when there is none.
func (t *handlerTable[H]) get(name string) H {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return t.m[name]
}

func (t *handlerTable[H]) names() []string {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return slices.Sorted(maps.Keys(t.m))
}

// remove forgets name (tests that register a throwaway handler).
func (t *handlerTable[H]) remove(name string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.m, name)
}

// Register installs the handler for the script name (file name without
// .ps1). Call it from init() in a handlers_*.go file; it panics on a
// duplicate.
func Register(name string, h Handler) {
	if name == "" || name == bootstrapName || h == nil {
		panic(fmt.Sprintf("winrmsim: Register(%q): bad name or nil handler", name))
	}
	registry.add(name, h)
}

// Registered returns the names of the scripts that have a handler, sorted.
func Registered() []string { return registry.names() }

func handlerFor(name string) Handler { return registry.get(name) }

// ScriptError is a PowerShell exception as the bootstrap reports it: the
// exception's .NET type, message, CategoryInfo.Category and
// FullyQualifiedErrorId. A handler returns one to fail the way the real
// script fails on Windows, e.g.
//
//	&ScriptError{Type: "Microsoft.PowerShell.Commands.ServiceCommandException",
//		Message: "Cannot find any service with service name 'FIMService'.",
//		Category: "ObjectNotFound", ID: "NoServiceFoundForGivenName,Microsoft.PowerShell.Commands.GetServiceCommand"}
type ScriptError struct {
	Type     string
	Message  string
	Category string
	ID       string
}

func (e *ScriptError) Error() string { return e.Message }

// ExtraScript teaches one Server a script beyond accepted_scripts.sha256,
// for tests of clients that need a script with known behaviour. The bastion
// lab never uses it.
type ExtraScript struct {
	Name    string
	Text    string
	Handler Handler
}

// scriptSet is what one server accepts: digest -> name, name -> handler.
type scriptSet struct {
	byHash map[string]string
	extra  map[string]Handler
}

func newScriptSet(extra []ExtraScript) (*scriptSet, error) {
	s := &scriptSet{byHash: map[string]string{}, extra: map[string]Handler{}}
	for name, sum := range accepted {
		s.byHash[sum] = name
	}
	for _, x := range extra {
		if x.Name == "" || x.Handler == nil {
			return nil, fmt.Errorf("winrmsim: extra script %q needs a name and a handler", x.Name)
		}
		if _, ok := accepted[x.Name]; ok {
			return nil, fmt.Errorf("winrmsim: extra script %q shadows an accepted script", x.Name)
		}
		s.byHash[sha256Hex([]byte(x.Text))] = x.Name
		s.extra[x.Name] = x.Handler
	}
	return s, nil
}

func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// checkCommandLine accepts exactly the bootstrap command line and returns
// why not otherwise, with the digest of the encoded command when there is one.
func checkCommandLine(command string, args []string) (reason, sum string) {
	f := strings.Fields(command)
	for _, a := range args {
		f = append(f, strings.Fields(a)...)
	}
	want := len(powerShellArgs) + 3
	if len(f) == 0 || !strings.EqualFold(f[0], "powershell.exe") {
		return "the lab runs only powershell.exe", ""
	}
	if len(f) != want || f[want-2] != "-EncodedCommand" {
		return fmt.Sprintf("want powershell.exe %s -EncodedCommand <bootstrap>, got %d arguments", strings.Join(powerShellArgs, " "), len(f)-1), ""
	}
	for i, a := range powerShellArgs {
		if f[1+i] != a {
			return fmt.Sprintf("argument %d is %q, want %q", i+1, f[1+i], a), ""
		}
	}
	raw, err := base64.StdEncoding.DecodeString(f[want-1])
	if err != nil || len(raw)%2 != 0 {
		return "-EncodedCommand is not base64 of UTF-16LE text", ""
	}
	text := utf16le.Decode(raw)
	sum = sha256Hex([]byte(text))
	if sum != accepted[bootstrapName] {
		return "the encoded command is not the accepted bootstrap", sum
	}
	return "", sum
}

// rejectedCommandLine is what the lab prints on stderr for a refused command
// line, shaped like a PowerShell error record.
func rejectedCommandLine(reason string) string {
	return "The bastion lab refused this command line: " + reason + "\r\n" +
		"    + CategoryInfo          : SecurityError: (:) [], ParentContainsErrorRecordException\r\n" +
		"    + FullyQualifiedErrorId : Lab.RejectedCommandLine\r\n"
}

type replyError struct {
	Type     string `json:"type"`
	Message  string `json:"message"`
	Category string `json:"category"`
	ID       string `json:"id"`
}

// psJSON marshals like Windows PowerShell 5.1's ConvertTo-Json -Compress
// (JavaScriptSerializer): compact, with < > & ' written as \uXXXX.
func psJSON(v any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	// A quote can only occur inside a JSON string, so this is safe.
	return bytes.ReplaceAll(b, []byte("'"), []byte(`\u0027`)), nil
}

func errorReply(e replyError) []byte {
	b, _ := psJSON(struct {
		OK    bool       `json:"ok"`
		Error replyError `json:"error"`
	}{false, e})
	return b
}

// runResult is what one bootstrap run prints.
type runResult struct {
	stdout, stderr []byte
	exitCode       int
	script         string // accepted script name, "" when rejected
}

// runBootstrap does what bootstrap.ps1 does with stdin on host, in the
// shell's logon: parse the envelope, run the script (here: its handler),
// print one JSON reply.
func (s *Server) runBootstrap(host string, logon model.Identity, stdin []byte) runResult {
	// powershell.exe reads stdin through the console's input code page; a
	// server without a console session has an OEM page, 437 in en-US.
	// UTF-8 bytes arrive as the 437 characters they happen to be.
	stdin = consoleInput(stdin)
	var env map[string]json.RawMessage
	if err := json.Unmarshal(bytes.TrimSpace(stdin), &env); err != nil || env == nil {
		msg := "not an object"
		if err != nil {
			msg = err.Error()
		}
		return runResult{exitCode: 1, stdout: errorReply(replyError{
			Type: "System.ArgumentException", Message: "Invalid JSON primitive: " + msg + ".",
			Category: "NotSpecified", ID: "System.ArgumentException,Microsoft.PowerShell.Commands.ConvertFromJsonCommand"})}
	}
	rawScript, hasScript := env["script"]
	input, hasInput := env["input"]
	if !hasScript || !hasInput {
		missing := "script"
		if hasScript {
			missing = "input"
		}
		return runResult{exitCode: 1, stdout: errorReply(replyError{
			Type:    "System.Management.Automation.PropertyNotFoundException",
			Message: "The property '" + missing + "' cannot be found on this object. Verify that the property exists.",
			// Set-StrictMode -Version Latest turns a missing property into this error.
			Category: "NotSpecified", ID: "PropertyNotFoundStrict"})}
	}
	var script string
	_ = json.Unmarshal(rawScript, &script) // [string]$null is "", and "" is no accepted script
	sum := sha256Hex([]byte(script))
	name, known := s.scripts.byHash[sum]
	h := s.scripts.extra[name]
	var sh SessionHandler
	if h == nil && known {
		if sh = runAsHandlerFor(name); sh == nil {
			h = handlerFor(name)
		}
	}
	if h == nil && sh == nil {
		reason := "unknown script digest " + sum
		if known {
			reason = "no lab handler for script " + name
		}
		s.env.Reject(host, sum, reason)
		return runResult{exitCode: 1, stdout: errorReply(replyError{
			Type: "Lab.RejectedScript", Message: "The bastion lab refused the script: " + reason + ".",
			Category: "SecurityError", ID: "Lab.RejectedScript"})}
	}

	var result any
	var herr error
	_ = s.env.Do(func(e *model.Env) error {
		defer func() {
			if p := recover(); p != nil {
				herr = fmt.Errorf("lab handler for %s panicked: %v", name, p)
			}
		}()
		if sh != nil {
			result, herr = runWithLogon(e, e.Host(host), logon, sh, input)
		} else {
			result, herr = h(e, e.Host(host), input)
		}
		return nil
	})
	s.env.CountScript(name)
	if herr != nil {
		var se *ScriptError
		if !errors.As(herr, &se) {
			// What `throw "message"` gives in PowerShell.
			se = &ScriptError{Type: "System.Management.Automation.RuntimeException", Message: herr.Error(),
				Category: "OperationStopped", ID: herr.Error()}
		}
		return runResult{exitCode: 1, script: name, stdout: errorReply(replyError(*se))}
	}
	raw, err := psJSON(result)
	if err != nil {
		return runResult{exitCode: 1, script: name, stdout: errorReply(replyError{
			Type: "System.InvalidOperationException", Message: "lab handler result is not JSON: " + err.Error(),
			Category: "InvalidOperation", ID: "System.InvalidOperationException"})}
	}
	out, _ := psJSON(struct {
		OK     bool            `json:"ok"`
		Result json.RawMessage `json:"result"`
	}{true, raw})
	return runResult{stdout: out, script: name}
}
