package winrmexec

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bastion-pam/terraform-provider-bastion/internal/lab/labca"
	"github.com/bastion-pam/terraform-provider-bastion/internal/lab/model"
	"github.com/bastion-pam/terraform-provider-bastion/internal/lab/winrmsim"
	"github.com/bastion-pam/terraform-provider-bastion/internal/scripts"
	"github.com/bastion-pam/terraform-provider-bastion/internal/transport"
)

// labTest is a script only the test labs accept; its handler echoes the
// input or fails as asked.
var labTest = func() scripts.Script {
	text := "# winrmexec test script\nparam($Params)\n$Params\n"
	sum := sha256.Sum256([]byte(text))
	return scripts.Script{Name: "lab_test", Text: text, SHA256: hex.EncodeToString(sum[:])}
}()

type echoInput struct {
	Fail  string `json:"fail,omitempty"`
	Value string `json:"value,omitempty"`
}

type echoResult struct {
	Host  string    `json:"host"`
	Input echoInput `json:"input"`
}

func labHandler(env *model.Env, host *model.Host, input json.RawMessage) (any, error) {
	var in echoInput
	if err := json.Unmarshal(input, &in); err != nil {
		return nil, err
	}
	switch in.Fail {
	case "notfound":
		return nil, &winrmsim.ScriptError{Type: "Microsoft.PowerShell.Commands.ServiceCommandException",
			Message: "Cannot find any service with service name 'FIMService'.", Category: "ObjectNotFound",
			ID: "NoServiceFoundForGivenName,Microsoft.PowerShell.Commands.GetServiceCommand"}
	case "denied":
		return nil, &winrmsim.ScriptError{Type: "System.UnauthorizedAccessException",
			Message: "Access to the path 'C:\\x' is denied.", Category: "PermissionDenied", ID: "System.UnauthorizedAccessException"}
	}
	return echoResult{Host: host.ComputerName, Input: in}, nil
}

type fixture struct {
	env  *model.Env
	seed model.Seed
	ca   *labca.CA
	srv  *winrmsim.Server
}

func setup(tb testing.TB) *fixture {
	tb.Helper()
	env, seed := model.NewDefault(model.Seed{})
	ca, err := labca.New()
	if err != nil {
		tb.Fatal(err)
	}
	srv, err := winrmsim.Start(env, ca, winrmsim.Options{HTTP: true,
		ExtraScripts: []winrmsim.ExtraScript{{Name: labTest.Name, Text: labTest.Text, Handler: labHandler}}})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(srv.Close)
	// Basic works only for a member server's local account, and only where
	// the WinRM service allows it (Windows' default: it does not).
	env.SetWinRMService(model.App1, model.WinRMService{AllowBasic: true})
	return &fixture{env: env, seed: seed, ca: ca, srv: srv}
}

// auth sets the scheme with the account Windows accepts for it: the
// domain administrator for NTLM, the host's local Administrator for Basic.
func (f *fixture) auth(auth string) func(*Config) {
	return func(c *Config) {
		c.Auth = auth
		if auth == AuthBasic {
			c.Username, c.Password = "Administrator", f.seed.LocalAdminPassword
		}
	}
}

var fastRetry = transport.RetryPolicy{Attempts: 3, Initial: time.Millisecond, Max: 4 * time.Millisecond}

func (f *fixture) client(tb testing.TB, mod func(*Config)) *Client {
	tb.Helper()
	cfg := Config{
		HTTPS: true, Auth: AuthNTLM, Username: model.AdminUser, Password: f.seed.AdminPassword,
		CACertPEM: f.ca.CertPEM(), ConnectTo: f.srv.ConnectTo(), Retry: fastRetry,
	}
	if mod != nil {
		mod(&cfg)
	}
	c, err := New(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(c.CloseIdleConnections)
	return c
}

func timeout(tb testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	tb.Cleanup(cancel)
	return ctx
}

func TestRunDecodesResult(t *testing.T) {
	f := setup(t)
	for _, auth := range []string{AuthBasic, AuthNTLM} {
		c := f.client(t, f.auth(auth))
		var got echoResult
		in := echoInput{Value: `it's "quoted" <&> ünïcode`}
		if err := c.Run(timeout(t, 10*time.Second), model.App1, labTest, in, &got); err != nil {
			t.Fatalf("%s: %v", auth, err)
		}
		if got.Host != "PRIV-APP1" || got.Input != in {
			t.Errorf("%s: got %+v", auth, got)
		}
	}
	// out == nil discards the result.
	if err := f.client(t, nil).Run(timeout(t, 10*time.Second), model.App1, labTest, nil, nil); err != nil {
		t.Fatal(err)
	}
	if n := f.env.ScriptRuns()[labTest.Name]; n != 3 {
		t.Errorf("runs = %d, want 3", n)
	}
}

// Runs on one host share a shell: Create once, then Command, Send and
// Receive per run; Close deletes the shell.
func TestRunsShareOneShell(t *testing.T) {
	f := setup(t)
	c := f.client(t, nil)
	for i := 0; i < 3; i++ {
		if err := c.Run(timeout(t, 10*time.Second), model.App1, labTest, nil, nil); err != nil {
			t.Fatal(err)
		}
	}
	// NTLM authenticates the kept-alive connection once: the NEGOTIATE
	// leg is the one request more (the Create carries AUTHENTICATE).
	st := c.Stats()[model.App1]
	if st.Runs != 3 || st.Attempts != 3 || st.Failures != 0 || st.Requests != 11 || st.Shells != 1 {
		t.Errorf("client stats %+v, want 3 runs in 1 shell: 1 + 3x3 requests and the NEGOTIATE leg", st)
	}
	if lab := f.srv.Stats(model.App1); lab.Requests != 11 || lab.Commands != 3 || lab.Shells != 1 {
		t.Errorf("lab stats %+v, want 11 requests, 3 commands, 1 shell open", lab)
	}
	if n := f.env.CallCount(model.WinRM, model.App1); n != 3 {
		t.Errorf("model counted %d calls", n)
	}
	c.Close(timeout(t, 10*time.Second))
	if lab := f.srv.Stats(model.App1); lab.Requests != 12 || lab.Shells != 0 {
		t.Errorf("after Close: lab stats %+v, want the Delete sent and no shell open", lab)
	}
	// A run after Close still works and leaves nothing open.
	if err := c.Run(timeout(t, 10*time.Second), model.App1, labTest, nil, nil); err != nil {
		t.Fatal(err)
	}
	if n := f.srv.Stats(model.App1).Shells; n != 0 {
		t.Errorf("after Close a run left %d shells open", n)
	}
}

// A shell idle for shellIdleTimeout is deleted; a kept shell the host
// refuses a Command in is replaced without running the script twice.
func TestKeptShellIdleAndRefused(t *testing.T) {
	defer func(d time.Duration) { shellIdleTimeout = d }(shellIdleTimeout)
	shellIdleTimeout = 50 * time.Millisecond
	f := setup(t)
	c := f.client(t, nil)
	if err := c.Run(timeout(t, 10*time.Second), model.App1, labTest, nil, nil); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for f.srv.Stats(model.App1).Shells != 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if n := f.srv.Stats(model.App1).Shells; n != 0 {
		t.Errorf("%d shells open after the idle timeout", n)
	}

	shellIdleTimeout = time.Minute
	if err := c.Run(timeout(t, 10*time.Second), model.App1, labTest, nil, nil); err != nil {
		t.Fatal(err)
	}
	_ = f.srv.FailAction(model.App1, "Command", model.FaultHTTP500, 1)
	if err := c.Run(timeout(t, 10*time.Second), model.App1, labTest, nil, nil); err != nil {
		t.Fatalf("a refused Command in a kept shell: %v", err)
	}
	if n := f.env.ScriptRuns()[labTest.Name]; n != 3 {
		t.Errorf("script ran %d times, want 3", n)
	}
	if st := c.Stats()[model.App1]; st.Shells != 3 {
		t.Errorf("shells created %d, want 3 (idle one deleted, refused one replaced)", st.Shells)
	}
	c.Close(timeout(t, 10*time.Second))
	if n := f.srv.Stats(model.App1).Shells; n != 0 {
		t.Errorf("%d shells open after Close", n)
	}
}

func TestRemoteErrors(t *testing.T) {
	f := setup(t)
	c := f.client(t, nil)
	err := c.Run(timeout(t, 10*time.Second), model.App1, labTest, echoInput{Fail: "notfound"}, nil)
	var re *RemoteError
	if !errors.As(err, &re) {
		t.Fatalf("want *RemoteError, got %T %v", err, err)
	}
	want := RemoteError{Host: model.App1, Script: "lab_test", Type: "Microsoft.PowerShell.Commands.ServiceCommandException",
		Message: "Cannot find any service with service name 'FIMService'.", Category: "ObjectNotFound",
		ID: "NoServiceFoundForGivenName,Microsoft.PowerShell.Commands.GetServiceCommand", ExitCode: 1}
	if *re != want {
		t.Errorf("got %+v\nwant %+v", *re, want)
	}
	if !errors.Is(err, transport.ErrNotFound) {
		t.Error("ObjectNotFound does not match ErrNotFound")
	}
	if msg := re.Error(); msg != "winrm priv-app1.priv.contoso.test: script lab_test failed: Cannot find any service with service name 'FIMService'. (Microsoft.PowerShell.Commands.ServiceCommandException, category ObjectNotFound, error id NoServiceFoundForGivenName,Microsoft.PowerShell.Commands.GetServiceCommand)" {
		t.Errorf("Error() = %s", msg)
	}

	err = c.Run(timeout(t, 10*time.Second), model.App1, labTest, echoInput{Fail: "denied"}, nil)
	if !errors.As(err, &re) || re.Category != "PermissionDenied" || errors.Is(err, transport.ErrNotFound) {
		t.Errorf("denied: %v", err)
	}

	// A script the lab does not know is refused, not run.
	unknown := scripts.Script{Name: "rogue", Text: "Remove-Item C:\\ -Recurse"}
	err = c.Run(timeout(t, 10*time.Second), model.App1, unknown, nil, nil)
	if !errors.As(err, &re) || re.Type != "Lab.RejectedScript" {
		t.Errorf("rogue script: %v", err)
	}
	if st := c.Stats()[model.App1]; st.Attempts != 3 || st.Failures != 3 {
		t.Errorf("script errors were retried: %+v", st)
	}
}

func TestUnauthorized(t *testing.T) {
	f := setup(t)
	for name, mod := range map[string]func(*Config){
		"basic wrong password": func(c *Config) { f.auth(AuthBasic)(c); c.Password = "wrong" },
		"ntlm wrong password":  func(c *Config) { c.Password = "wrong" },
		"unknown user":         func(c *Config) { c.Username = `PRIV\mallory` },
		// Windows refuses Basic for a domain account on any host.
		"basic domain account": func(c *Config) { c.Auth = AuthBasic },
	} {
		f.srv.ResetStats()
		err := f.client(t, mod).Run(timeout(t, 10*time.Second), model.App1, labTest, nil, nil)
		if !errors.Is(err, transport.ErrUnauthorized) || errors.Is(err, transport.ErrUnreachable) {
			t.Errorf("%s: %v", name, err)
		}
		if err != nil && strings.Contains(err.Error(), "wrong") {
			t.Errorf("%s: the password is in the error: %v", name, err)
		}
		if n := f.srv.Stats(model.App1).Shells; n != 0 {
			t.Errorf("%s: shells open", name)
		}
	}
	// An injected 401 is not retried either (Basic: NTLM would answer the
	// 401 with a new handshake, as it should).
	_ = f.env.InjectFault(model.App1, model.WinRM, model.FaultUnauthorized, 1)
	c := f.client(t, f.auth(AuthBasic))
	if err := c.Run(timeout(t, 10*time.Second), model.App1, labTest, nil, nil); !errors.Is(err, transport.ErrUnauthorized) {
		t.Errorf("injected 401: %v", err)
	}
	if st := c.Stats()[model.App1]; st.Attempts != 1 {
		t.Errorf("401 retried: %+v", st)
	}
}

func TestHostGoneIsUnreachable(t *testing.T) {
	f := setup(t)
	c := f.client(t, nil)
	if err := c.Run(timeout(t, 10*time.Second), model.App2, labTest, nil, nil); err != nil {
		t.Fatal(err)
	}
	_ = f.env.SetReachable(model.App2, false)
	if err := f.srv.Sync(); err != nil {
		t.Fatal(err)
	}
	err := c.Run(timeout(t, 10*time.Second), model.App2, labTest, nil, nil)
	if !errors.Is(err, transport.ErrUnreachable) || !strings.Contains(err.Error(), "connection refused") {
		t.Fatalf("gone host: %v", err)
	}
	if st := c.Stats()[model.App2]; st.Attempts != 1+fastRetry.Attempts {
		t.Errorf("attempts %d, want %d", st.Attempts, 1+fastRetry.Attempts)
	}
	// A host that resets connections (gone, listener not yet closed).
	_ = f.env.SetReachable(model.App3, false)
	if err := c.Run(timeout(t, 10*time.Second), model.App3, labTest, nil, nil); !errors.Is(err, transport.ErrUnreachable) || !errors.Is(err, ErrNotStarted) {
		t.Errorf("reset: %v, want unreachable and not started", err)
	}
	// Refuse fault on an up host: retried, then fine.
	_ = f.env.InjectFault(model.App1, model.WinRM, model.FaultRefuse, 1)
	if err := c.Run(timeout(t, 10*time.Second), model.App1, labTest, nil, nil); err != nil {
		t.Errorf("refuse once: %v", err)
	}
}

func TestBusyRetriedThenSuccess(t *testing.T) {
	f := setup(t)
	for _, kind := range []model.FaultKind{model.FaultHTTP503, model.FaultHTTP500} {
		c := f.client(t, f.auth(AuthBasic)) // Basic: no handshake in the request count
		_ = f.env.InjectFault(model.App1, model.WinRM, kind, 2)
		var got echoResult
		if err := c.Run(timeout(t, 10*time.Second), model.App1, labTest, echoInput{Value: "x"}, &got); err != nil || got.Input.Value != "x" {
			t.Fatalf("%s: %v %+v", kind, err, got)
		}
		if st := c.Stats()[model.App1]; st.Attempts != 3 || st.Requests != 6 {
			t.Errorf("%s: %+v, want 3 attempts, 6 requests (2 refused Creates, then Create, Command, Send, Receive)", kind, st)
		}
	}
	if n := f.env.ScriptRuns()[labTest.Name]; n != 2 {
		t.Errorf("runs = %d", n)
	}
}

func TestBusyForeverGivesUp(t *testing.T) {
	f := setup(t)
	_ = f.env.InjectFault(model.App1, model.WinRM, model.FaultHTTP503, -1)
	c := f.client(t, nil)
	err := c.Run(timeout(t, 10*time.Second), model.App1, labTest, nil, nil)
	var he *HTTPError
	if !errors.As(err, &he) || he.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("got %v", err)
	}
	if n := f.srv.Stats(model.App1).Requests; n != fastRetry.Attempts {
		t.Errorf("lab saw %d requests, want %d attempts", n, fastRetry.Attempts)
	}
	if !strings.Contains(err.Error(), "HTTP 503 Service Unavailable") || !strings.Contains(err.Error(), "creating a shell") {
		t.Errorf("message: %v", err)
	}
}

func TestChangingScriptNotRunTwice(t *testing.T) {
	f := setup(t)
	c := f.client(t, nil)
	// The script ran; the Receive that would carry its reply fails.
	_ = f.srv.FailAction(model.App1, "Receive", model.FaultHTTP500, 1)
	err := c.Run(timeout(t, 10*time.Second), model.App1, labTest, nil, nil)
	if err == nil || !strings.Contains(err.Error(), "not retried") || !strings.Contains(err.Error(), "receiving the output") {
		t.Fatalf("got %v", err)
	}
	if n := f.env.ScriptRuns()[labTest.Name]; n != 1 {
		t.Errorf("script ran %d times", n)
	}
	if n := f.srv.Stats(model.App1).Shells; n != 0 {
		t.Errorf("%d shells left open", n)
	}

	// The same failure on a read-only script: run again whole.
	_ = f.srv.FailAction(model.App1, "Receive", model.FaultHTTP500, 1)
	if err := c.Run(timeout(t, 10*time.Second), model.App1, labTest, nil, nil, Idempotent()); err != nil {
		t.Fatalf("idempotent: %v", err)
	}
	if n := f.env.ScriptRuns()[labTest.Name]; n != 3 {
		t.Errorf("runs = %d, want 1 + 2", n)
	}

	// Refused before the command was accepted: safe to retry any script.
	_ = f.srv.FailAction(model.App1, "Command", model.FaultHTTP503, 1)
	if err := c.Run(timeout(t, 10*time.Second), model.App1, labTest, nil, nil); err != nil {
		t.Fatalf("503 on Command: %v", err)
	}
	// A connection lost on Send (the script may have been started): not retried.
	_ = f.srv.FailAction(model.App1, "Send", model.FaultRefuse, 1)
	if err := c.Run(timeout(t, 10*time.Second), model.App1, labTest, nil, nil); err == nil || !errors.Is(err, transport.ErrUnreachable) || errors.Is(err, ErrNotStarted) {
		t.Fatalf("reset on Send: %v, want unreachable and possibly started", err)
	}
	if n := f.env.ScriptRuns()[labTest.Name]; n != 4 {
		t.Errorf("runs = %d, want 4", n)
	}
}

func TestTimeoutBoundedByDeadline(t *testing.T) {
	f := setup(t)
	_ = f.env.InjectFault(model.App1, model.WinRM, model.FaultTimeout, -1)
	c := f.client(t, func(c *Config) {
		c.Retry = transport.RetryPolicy{Attempts: 10, Initial: time.Millisecond, Max: time.Millisecond}
	})
	start := time.Now()
	err := c.Run(timeout(t, 300*time.Millisecond), model.App1, labTest, nil, nil)
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("took %v past a 300ms deadline", d)
	}
	if !errors.Is(err, transport.ErrUnreachable) || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("got %v", err)
	}

	// A script that runs too long: the shell is deleted, ending it.
	f.env.ClearFaults(model.App1)
	_ = f.env.SetLatency(model.App1, model.WinRM, 5*time.Second)
	err = c.Run(timeout(t, 200*time.Millisecond), model.App1, labTest, nil, nil)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("slow script: %v", err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for f.srv.Stats(model.App1).Shells != 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if n := f.srv.Stats(model.App1).Shells; n != 0 {
		t.Errorf("%d shells left after a timed-out run", n)
	}
	if n := f.env.ScriptRuns()[labTest.Name]; n != 0 {
		t.Errorf("the terminated script ran")
	}
}

func TestConcurrencyLimitPerHost(t *testing.T) {
	f := setup(t)
	_ = f.env.SetLatency(model.App1, model.WinRM, 30*time.Millisecond)
	c := f.client(t, func(c *Config) { c.MaxConcurrencyPerHost = 2 })
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for i := 0; i < 8; i++ {
		wg.Add(2)
		go func() { defer wg.Done(); errs <- c.Run(timeout(t, 10*time.Second), model.App1, labTest, nil, nil) }()
		go func() { defer wg.Done(); errs <- c.Run(timeout(t, 10*time.Second), model.App2, labTest, nil, nil) }()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if st := f.srv.Stats(model.App1); st.MaxShells != 2 {
		t.Errorf("App1 had at most %d shells at once, want exactly the limit 2", st.MaxShells)
	}
	// The limit is per host: App2 had its own two.
	if st := f.srv.Stats(model.App2); st.MaxShells != 2 {
		t.Errorf("App2 had at most %d shells at once", st.MaxShells)
	}
}

func TestConnectionReuse(t *testing.T) {
	f := setup(t)
	for _, auth := range []string{AuthBasic, AuthNTLM} {
		f.srv.ResetStats()
		c := f.client(t, f.auth(auth))
		for i := 0; i < 20; i++ {
			if err := c.Run(timeout(t, 10*time.Second), model.App1, labTest, nil, nil); err != nil {
				t.Fatal(err)
			}
		}
		st := f.srv.Stats(model.App1)
		if st.Connections > 2 {
			t.Errorf("%s: 20 runs opened %d connections", auth, st.Connections)
		}
		// One shell: Create, then Command, Send, Receive per run. NTLM
		// authenticates each connection once: NEGOTIATE first, then the
		// request with AUTHENTICATE: 1 extra per connection (a loaded
		// machine may see the idle keep-alive closed and a second
		// connection opened, which the bound above allows; that one also
		// pays the 401 of a request sent on it without a handshake).
		want := 1 + 20*3
		if auth == AuthNTLM {
			want += 2*st.Connections - 1
		}
		if st.Requests != want {
			t.Errorf("%s: %d requests for 20 runs, want %d", auth, st.Requests, want)
		}
	}
}

// NTLM starts a new connection with NEGOTIATE, never an anonymous
// request; a request on a connection the host closed gets a 401 and a new
// handshake, and goes through.
func TestNTLMNegotiatesFirst(t *testing.T) {
	f := setup(t)
	c := f.client(t, nil)
	if err := c.Run(timeout(t, 10*time.Second), model.App1, labTest, nil, nil); err != nil {
		t.Fatal(err)
	}
	// NEGOTIATE, Create with AUTHENTICATE, Command, Send, Receive.
	if lab := f.srv.Stats(model.App1); lab.Requests != 5 || lab.Connections != 1 {
		t.Errorf("first run: lab stats %+v, want 5 requests on 1 connection", lab)
	}
	c.CloseIdleConnections()
	if err := c.Run(timeout(t, 10*time.Second), model.App1, labTest, nil, nil); err != nil {
		t.Fatal(err)
	}
	// The kept shell: Command refused (401) on the new connection, then
	// NEGOTIATE, Command with AUTHENTICATE, Send, Receive.
	if lab := f.srv.Stats(model.App1); lab.Requests != 10 || lab.Connections != 2 {
		t.Errorf("after the connection closed: lab stats %+v, want 10 requests on 2 connections", lab)
	}
}

func TestGarbageStdout(t *testing.T) {
	f := setup(t)
	c := f.client(t, nil)
	f.srv.SetBanner(model.App1, "Welcome to PRIV-APP1! Unauthorised use prohibited.\r\n")
	err := c.Run(timeout(t, 10*time.Second), model.App1, labTest, nil, &echoResult{})
	if err == nil || !strings.Contains(err.Error(), "not one JSON reply") || !strings.Contains(err.Error(), `stdout: "Welcome to PRIV-APP1!`) {
		t.Fatalf("got %v", err)
	}
	f.srv.SetBanner(model.App1, strings.Repeat("#", 1000))
	err = c.Run(timeout(t, 10*time.Second), model.App1, labTest, nil, nil)
	if err == nil || !strings.Contains(err.Error(), `stdout: "`+strings.Repeat("#", 300)+`" (752 more bytes)`) {
		t.Errorf("long banner not cut at 300 bytes: %v", err)
	}
	if n := f.env.ScriptRuns()[labTest.Name]; n != 2 {
		t.Errorf("garbage output was retried: %d runs", n)
	}
}

func TestDecode(t *testing.T) {
	ok := []byte(`{"ok":true,"result":{"host":"H"}}`)
	cases := []struct {
		name   string
		out    output
		errHas string
	}{
		{"plain", output{stdout: ok}, ""},
		{"bom and newline", output{stdout: append(append([]byte("\xef\xbb\xbf"), ok...), '\r', '\n')}, ""},
		{"two documents", output{stdout: append(append([]byte{}, ok...), ok...)}, "more output after the reply"},
		{"trailing text", output{stdout: append(append([]byte{}, ok...), "done"...)}, "not one JSON reply"},
		{"not a reply", output{stdout: []byte(`{"x":1}`)}, `no "ok" reply`},
		{"empty", output{exitCode: 1, stderr: []byte("#< CLIXML\r\n<Objs Version=\"1.1.0.1\" xmlns=\"http://schemas.microsoft.com/powershell/2004/04\"><S S=\"Error\">Program 'powershell.exe' failed_x000D__x000A_</S></Objs>")},
			`printed no reply (exit code 1); stderr: "Program 'powershell.exe' failed"`},
		{"ok with exit code", output{stdout: ok, exitCode: 3}, "exited with code 3"},
	}
	for _, tc := range cases {
		var got echoResult
		err := decode("h", "s", &tc.out, &got)
		if tc.errHas == "" {
			if err != nil || got.Host != "H" {
				t.Errorf("%s: %v %+v", tc.name, err, got)
			}
		} else if err == nil || !strings.Contains(err.Error(), tc.errHas) {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.errHas)
		}
	}
}

func TestLargeInputIsChunked(t *testing.T) {
	f := setup(t)
	c := f.client(t, nil)
	in := echoInput{Value: strings.Repeat("é", 150_000)} // 300 KB of UTF-8
	var got echoResult
	if err := c.Run(timeout(t, 10*time.Second), model.App1, labTest, in, &got); err != nil {
		t.Fatal(err)
	}
	if got.Input.Value != in.Value {
		t.Error("input changed on the way")
	}
	if n := c.Stats()[model.App1].Requests; n <= 5 {
		t.Errorf("%d requests: stdin was not split", n)
	}
}

func TestTLSVerification(t *testing.T) {
	f := setup(t)
	other, _ := labca.New()
	for name, mod := range map[string]func(*Config){
		"unknown CA":           func(c *Config) { c.CACertPEM = other.CertPEM() },
		"wrong TLS ServerName": func(c *Config) { c.TLSServerName = model.App2 },
	} {
		c := f.client(t, mod)
		err := c.Run(timeout(t, 10*time.Second), model.App1, labTest, nil, nil)
		if !errors.Is(err, transport.ErrUnreachable) || !strings.Contains(err.Error(), "certificate") {
			t.Errorf("%s: %v", name, err)
		}
		if st := c.Stats()[model.App1]; st.Attempts != 1 {
			t.Errorf("%s: certificate failure retried (%d attempts)", name, st.Attempts)
		}
	}
	// Insecure skips verification.
	c := f.client(t, func(c *Config) { c.CACertPEM = other.CertPEM(); c.Insecure = true })
	if err := c.Run(timeout(t, 10*time.Second), model.App1, labTest, nil, nil); err != nil {
		t.Errorf("insecure: %v", err)
	}
}

// Basic on HTTP sends messages in clear text: Windows refuses them
// (HTTP 500) unless the service allows unencrypted traffic.
func TestPlainHTTPBasic(t *testing.T) {
	f := setup(t)
	c := f.client(t, func(c *Config) { f.auth(AuthBasic)(c); c.HTTPS = false; c.Insecure = true; c.CACertPEM = nil })
	if err := c.Run(timeout(t, 10*time.Second), model.App1, labTest, nil, nil); err == nil {
		t.Fatal("basic over HTTP ran on a host that refuses unencrypted traffic")
	}
	f.env.SetWinRMService(model.App1, model.WinRMService{AllowBasic: true, AllowUnencrypted: true})
	if err := c.Run(timeout(t, 10*time.Second), model.App1, labTest, nil, nil); err != nil {
		t.Fatalf("basic over HTTP with insecure on a host that allows it: %v", err)
	}
	if st := f.srv.Stats(model.App1); st.Sealed != 0 || st.Unsealed == 0 {
		t.Errorf("stats %+v: want clear messages only", st)
	}
}

func TestNewValidates(t *testing.T) {
	ok := Config{HTTPS: true, Auth: AuthNTLM, Username: "u", Password: "pw-93b1c"}
	cases := []struct {
		name   string
		mod    func(*Config)
		errHas string
	}{
		{"ntlm https", func(*Config) {}, ""},
		{"default auth", func(c *Config) { c.Auth = "" }, ""},
		{"kerberos over http", func(c *Config) { c.Auth = AuthKerberos; c.HTTPS = false }, "kerberos over plain HTTP is not supported"},
		{"kerberos over http insecure", func(c *Config) { c.Auth = AuthKerberos; c.HTTPS = false; c.Insecure = true }, "kerberos over plain HTTP is not supported"},
		{"basic over http", func(c *Config) { c.Auth = AuthBasic; c.HTTPS = false }, "clear text"},
		{"basic over http insecure", func(c *Config) { c.Auth = AuthBasic; c.HTTPS = false; c.Insecure = true }, ""},
		{"ntlm over http (sealed)", func(c *Config) { c.HTTPS = false }, ""},
		{"unknown auth", func(c *Config) { c.Auth = "credssp" }, `auth "credssp"`},
		{"no password", func(c *Config) { c.Password = "" }, "needs a username and a password"},
		{"bad port", func(c *Config) { c.Port = 70000 }, "not a TCP port"},
		{"bad CA", func(c *Config) { c.CACertPEM = []byte("junk") }, "no PEM certificate"},
		{"tiny timeout", func(c *Config) { c.OperationTimeout = time.Millisecond }, "below one second"},
		{"kerberos missing krb5.conf", func(c *Config) {
			c.Auth = AuthKerberos
			c.Kerberos.KrbConfPath = "/nonexistent/krb5.conf"
		}, "/nonexistent/krb5.conf"},
	}
	for _, tc := range cases {
		cfg := ok
		tc.mod(&cfg)
		c, err := New(cfg)
		if tc.errHas == "" {
			if err != nil {
				t.Errorf("%s: %v", tc.name, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tc.errHas) {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.errHas)
		}
		if err != nil && strings.Contains(err.Error(), ok.Password) {
			t.Errorf("%s: password in error", tc.name)
		}
		if c != nil {
			t.Errorf("%s: client despite the error", tc.name)
		}
	}
	c, err := New(ok)
	if err != nil || c.cfg.Port != 5986 || c.cfg.Retry != transport.DefaultRetry || c.params.Timeout != "PT60.000S" {
		t.Errorf("defaults: %+v %v", c.cfg, err)
	}
	if c, _ := New(Config{Auth: AuthNTLM, Username: "u", Password: "p"}); c.cfg.Port != 5985 {
		t.Errorf("HTTP default port %d", c.cfg.Port)
	}
}

func TestLogsNeverCarrySecrets(t *testing.T) {
	f := setup(t)
	var buf bytes.Buffer
	lg := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	c := f.client(t, func(c *Config) { c.Logger = lg })
	_ = f.env.InjectFault(model.App1, model.WinRM, model.FaultHTTP503, 1)
	const secret = "input-secret-7f3a"
	if err := c.Run(timeout(t, 10*time.Second), model.App1, labTest, echoInput{Value: secret}, nil); err != nil {
		t.Fatal(err)
	}
	logs := buf.String()
	for _, bad := range []string{secret, f.seed.AdminPassword, "param($Params)"} {
		if strings.Contains(logs, bad) {
			t.Errorf("log carries %q:\n%s", bad, logs)
		}
	}
	for _, want := range []string{"winrm script run", "host=" + model.App1, "script=lab_test", "attempt=2", "exit_code=0", "duration=", "retrying after transient error"} {
		if !strings.Contains(logs, want) {
			t.Errorf("log lacks %q:\n%s", want, logs)
		}
	}
}

func BenchmarkRun(b *testing.B) {
	f := setup(b)
	for _, auth := range []string{AuthBasic, AuthNTLM} {
		b.Run(auth, func(b *testing.B) {
			c := f.client(b, f.auth(auth))
			ctx := context.Background()
			var out echoResult
			for b.Loop() {
				if err := c.Run(ctx, model.App1, labTest, echoInput{Value: "bench"}, &out); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(c.Stats()[model.App1].Requests)/float64(b.N), "requests/op")
		})
	}
}

func TestKerberosWiring(t *testing.T) {
	f := setup(t)
	// A KDC that refuses connections: the run fails at authentication,
	// before any WinRM request.
	conf := t.TempDir() + "/krb5.conf"
	krb5 := "[libdefaults]\n default_realm = PRIV.CONTOSO.TEST\n dns_lookup_kdc = false\n udp_preference_limit = 1\n" +
		"[realms]\n PRIV.CONTOSO.TEST = {\n  kdc = 127.0.0.1:1\n }\n"
	if err := os.WriteFile(conf, []byte(krb5), 0o600); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	c := f.client(t, func(c *Config) {
		c.Auth = AuthKerberos
		c.Username = "administrator"
		c.Kerberos.KrbConfPath = conf
		c.Logger = slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	})
	err := c.Run(timeout(t, 10*time.Second), model.App1, labTest, nil, nil)
	if !errors.Is(err, transport.ErrUnauthorized) || !strings.Contains(err.Error(), "kerberos") {
		t.Fatalf("got %v", err)
	}
	if n := f.srv.Stats(model.App1).Requests; n != 0 {
		t.Errorf("%d WinRM requests without a Kerberos token", n)
	}
	if strings.Contains(buf.String(), f.seed.AdminPassword) {
		t.Error("password logged")
	}

	// No realm anywhere.
	_ = os.WriteFile(conf, []byte("[libdefaults]\n dns_lookup_kdc = false\n"), 0o600)
	_, err = New(Config{HTTPS: true, Auth: AuthKerberos, Username: "administrator", Password: "x", Kerberos: KerberosConfig{KrbConfPath: conf}})
	if err == nil || !strings.Contains(err.Error(), "no realm") {
		t.Errorf("no realm: %v", err)
	}
	// The realm from user@REALM.
	if _, err := New(Config{HTTPS: true, Auth: AuthKerberos, Username: "administrator@priv.contoso.test", Password: "x", Kerberos: KerberosConfig{KrbConfPath: conf}}); err != nil {
		t.Errorf("user@REALM: %v", err)
	}
}

func TestRunChecksScriptDigest(t *testing.T) {
	f := setup(t)
	c := f.client(t, nil)
	bad := labTest
	bad.Text += "\nRemove-Item C:\\ -Recurse\n"
	if err := c.Run(timeout(t, 10*time.Second), model.App1, bad, nil, nil); err == nil || !strings.Contains(err.Error(), "does not match its digest") {
		t.Errorf("tampered script: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := c.Run(ctx, model.App1, labTest, nil, nil); !errors.Is(err, context.Canceled) {
		t.Errorf("canceled: %v", err)
	}
	if n := f.srv.Stats(model.App1).Requests; n != 0 {
		t.Errorf("%d requests sent", n)
	}
}

// Every shell asks the host to delete it after ServerShellIdleTimeout
// without a request: a provider killed with shells in its pool leaves none
// open for long.
func TestShellsAskForAnIdleTimeOut(t *testing.T) {
	f := setup(t)
	var offset atomic.Int64
	f.env.Now = func() time.Time { return time.Now().Add(time.Duration(offset.Load())) }
	c := f.client(t, nil)
	if err := c.Run(timeout(t, 10*time.Second), model.App1, labTest, nil, nil); err != nil {
		t.Fatal(err)
	}
	if n := f.srv.Stats(model.App1).Shells; n != 1 {
		t.Fatalf("%d shells open, want the kept one", n)
	}
	// The provider is gone without deleting it (no Close).
	offset.Store(int64(ServerShellIdleTimeout - time.Second))
	if n := f.srv.Stats(model.App1).Shells; n != 1 {
		t.Fatalf("the shell went before its IdleTimeOut")
	}
	offset.Store(int64(ServerShellIdleTimeout + time.Second))
	if st := f.srv.Stats(model.App1); st.Shells != 0 || st.IdleExpired != 1 {
		t.Fatalf("stats %+v: the host should have deleted the idle shell", st)
	}
	s := openShellRequest("https://h:5986/wsman", c.params, 90*time.Second).String()
	if i, j := strings.Index(s, "<rsp:IdleTimeOut>PT90.000S</rsp:IdleTimeOut>"), strings.Index(s, "<rsp:InputStreams>stdin</rsp:InputStreams>"); i < 0 || j < i {
		t.Fatalf("Create body:\n%s", s)
	}
}
