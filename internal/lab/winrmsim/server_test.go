package winrmsim

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	ntlmssp "github.com/Azure/go-ntlmssp"
	"github.com/masterzen/winrm"
	"github.com/masterzen/winrm/soap"

	"github.com/bastion-pam/terraform-provider-bastion/internal/lab/labca"
	"github.com/bastion-pam/terraform-provider-bastion/internal/lab/model"
	"github.com/bastion-pam/terraform-provider-bastion/internal/scripts"
)

// testScript is accepted only by the test servers: its handler echoes the
// input, or fails as asked.
const wsTestScript = "# lab test script\nparam($Params)\n$Params\n"

func wsTestHandler(env *model.Env, host *model.Host, input json.RawMessage) (any, error) {
	var in struct {
		Fail   string `json:"fail"`
		Size   int    `json:"size"`
		Record bool   `json:"record"`
	}
	_ = json.Unmarshal(input, &in)
	switch in.Fail {
	case "notfound":
		return nil, &ScriptError{Type: "Microsoft.PowerShell.Commands.ServiceCommandException",
			Message: "Cannot find any service with service name 'FIMService'.", Category: "ObjectNotFound",
			ID: "NoServiceFoundForGivenName,Microsoft.PowerShell.Commands.GetServiceCommand"}
	case "plain":
		return nil, errors.New("boom")
	case "panic":
		panic("handler bug")
	}
	if in.Size > 0 {
		return map[string]string{"data": strings.Repeat("x", in.Size)}, nil
	}
	if in.Record {
		env.Record(host.FQDN, "test", "ran")
	}
	return map[string]any{"host": host.ComputerName, "input": input, "quote": "it's <b>&"}, nil
}

type wsLab struct {
	env  *model.Env
	ca   *labca.CA
	srv  *Server
	seed model.Seed
}

func startWSLab(t testing.TB, opts Options) *wsLab {
	t.Helper()
	env, seed := model.NewDefault(model.Seed{})
	ca, err := labca.New()
	if err != nil {
		t.Fatal(err)
	}
	// Raw-request tests use Basic with a member server's local account,
	// the one form of Basic Windows accepts once the service allows it.
	for _, h := range []string{model.App1, model.App2, model.App3, model.Spare1} {
		env.SetWinRMService(h, model.WinRMService{AllowBasic: true})
	}
	opts.ExtraScripts = append(opts.ExtraScripts, ExtraScript{Name: "lab_test", Text: wsTestScript, Handler: wsTestHandler})
	srv, err := Start(env, ca, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	return &wsLab{env: env, ca: ca, srv: srv, seed: seed}
}

// stock returns masterzen's own client for host, as any Go WinRM user has it.
func (l *wsLab) stock(t testing.TB, host, user, pass string, timeout string) *winrm.Client {
	t.Helper()
	ct := l.srv.ConnectTo()
	params := winrm.NewParameters(timeout, "en-US", 153600)
	dial := func(network, addr string) (net.Conn, error) {
		return ct.DialContext(context.Background(), network, addr)
	}
	params.Dial = dial
	// NTLM: the domain accounts' way in (Basic is for local accounts only).
	params.TransportDecorator = func() winrm.Transporter { return &ntlmPerRequest{dial: dial} }
	c, err := winrm.NewClientWithParameters(&winrm.Endpoint{Host: host, Port: PortHTTPS, HTTPS: true, CACert: l.ca.CertPEM(), Timeout: 10 * time.Second}, user, pass, params)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// ntlmPerRequest is masterzen's ClientNTLM, one per request in flight.
// NTLM authenticates a TCP connection ([MS-NLMP] 1.3.1.1): the negotiate
// and authenticate legs must travel on one, or the server (HTTP.sys, and the
// lab) answers 401. A single ClientNTLM shares one connection pool between a
// command's concurrent Send and Receive, so under load one handshake's legs
// can leave on different connections and the run fails or never starts.
// Idle transports are reused last-in first-out, so serial requests keep to
// one authenticated connection.
type ntlmPerRequest struct {
	dial func(network, addr string) (net.Conn, error)
	ep   *winrm.Endpoint
	mu   sync.Mutex
	idle []*winrm.ClientNTLM
}

func (p *ntlmPerRequest) Transport(ep *winrm.Endpoint) error {
	p.ep = ep
	return nil
}

func (p *ntlmPerRequest) Post(c *winrm.Client, m *soap.SoapMessage) (string, error) {
	p.mu.Lock()
	var t *winrm.ClientNTLM
	if n := len(p.idle); n > 0 {
		t, p.idle = p.idle[n-1], p.idle[:n-1]
	}
	p.mu.Unlock()
	if t == nil {
		t = winrm.NewClientNTLMWithDial(p.dial)
		if err := t.Transport(p.ep); err != nil {
			return "", err
		}
	}
	defer func() {
		p.mu.Lock()
		p.idle = append(p.idle, t)
		p.mu.Unlock()
	}()
	return t.Post(c, m)
}

func (l *wsLab) wsHTTPClient() *http.Client {
	ct := l.srv.ConnectTo()
	return &http.Client{Transport: &http.Transport{
		DialContext:     ct.DialContext,
		TLSClientConfig: &tls.Config{RootCAs: l.ca.Pool()},
	}}
}

func wsEnvelope(t testing.TB, script string, input any) string {
	b, err := json.Marshal(map[string]any{"script": script, "input": input})
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func wsCtx(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

func TestStockClientRoundTrip(t *testing.T) {
	l := startWSLab(t, Options{})
	c := l.stock(t, model.App1, model.AdminUser, l.seed.AdminPassword, "PT60S")
	stdout, stderr, code, err := c.RunWithContextWithString(wsCtx(t, 10*time.Second), scripts.CommandLine(), wsEnvelope(t, wsTestScript, map[string]any{"a": 1, "record": true}))
	if err != nil || code != 0 || stderr != "" {
		t.Fatalf("run: code %d err %v stderr %q", code, err, stderr)
	}
	want := `{"ok":true,"result":{"host":"PRIV-APP1","input":{"a":1,"record":true},"quote":"it\u0027s \u003cb\u003e\u0026"}}`
	if stdout != want {
		t.Fatalf("stdout\n got %s\nwant %s", stdout, want)
	}
	if n := l.env.CallCount(model.WinRM, model.App1); n != 1 {
		t.Errorf("CountCall = %d, want 1", n)
	}
	if n := l.env.ScriptRuns()["lab_test"]; n != 1 {
		t.Errorf("CountScript = %d, want 1", n)
	}
	if ev := l.env.Events(); len(ev) != 1 || ev[0].Host != model.Key(model.App1) {
		t.Errorf("handler did not see its host: %+v", ev)
	}
	st := l.srv.Stats(model.App1)
	if st.Shells != 0 || st.MaxShells != 1 || st.Commands != 1 {
		t.Errorf("stats %+v: want the shell deleted, one command", st)
	}
}

func TestUserNameForms(t *testing.T) {
	l := startWSLab(t, Options{})
	for _, user := range []string{`PRIV\Administrator`, `priv\administrator`, "Administrator@priv.contoso.test", "administrator@PRIV", "Administrator"} {
		c := l.stock(t, model.App1, user, l.seed.AdminPassword, "PT60S")
		if _, _, code, err := c.RunWithContextWithString(wsCtx(t, 10*time.Second), scripts.CommandLine(), wsEnvelope(t, wsTestScript, nil)); err != nil || code != 0 {
			t.Errorf("%s: code %d err %v", user, code, err)
		}
	}
}

func TestUnauthenticated401(t *testing.T) {
	l := startWSLab(t, Options{})
	hc := l.wsHTTPClient()
	url := "https://" + model.App1 + ":5986/wsman"
	body := winrm.NewOpenShellRequest(url, nil).String()
	for name, set := range map[string]func(*http.Request){
		"none":           func(*http.Request) {},
		"wrong password": func(r *http.Request) { r.SetBasicAuth("Administrator", "nope") },
		"unknown user":   func(r *http.Request) { r.SetBasicAuth("mallory", l.seed.LocalAdminPassword) },
		// Basic is for local accounts by bare name only (Microsoft's
		// ConnectionOptions.UserName; Ansible's WinRM guide).
		"domain account":         func(r *http.Request) { r.SetBasicAuth(model.AdminUser, l.seed.AdminPassword) },
		"domain account as UPN":  func(r *http.Request) { r.SetBasicAuth("Administrator@"+model.DomainDNS, l.seed.AdminPassword) },
		"qualified local name":   func(r *http.Request) { r.SetBasicAuth(`PRIV-APP1\Administrator`, l.seed.LocalAdminPassword) },
		"bare name, domain pass": func(r *http.Request) { r.SetBasicAuth("Administrator", l.seed.AdminPassword) },
	} {
		req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
		req.Header.Set("Content-Type", soapContentType)
		set(req)
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
		got := resp.Header.Values("WWW-Authenticate")
		if resp.StatusCode != http.StatusUnauthorized || len(got) != 2 || got[0] != "Negotiate" || got[1] != `Basic realm="WSMAN"` {
			t.Errorf("%s: status %d, WWW-Authenticate %q", name, resp.StatusCode, got)
		}
	}
	if st := l.srv.Stats(model.App1); st.Shells != 0 || st.Requests != 7 {
		t.Errorf("stats %+v", st)
	}
}

func TestRejectedCommandLine(t *testing.T) {
	l := startWSLab(t, Options{})
	c := l.stock(t, model.App1, model.AdminUser, l.seed.AdminPassword, "PT60S")
	cases := map[string]string{
		"other program":         "cmd.exe /c whoami",
		"no -NoProfile":         strings.Replace(scripts.CommandLine(), " -NoProfile", "", 1),
		"other encoded command": winrm.Powershell("Get-Process"),
		"extra argument":        scripts.CommandLine() + " -Command x",
	}
	for name, cmdline := range cases {
		stdout, stderr, code, err := c.RunWithContextWithString(wsCtx(t, 10*time.Second), cmdline, wsEnvelope(t, wsTestScript, nil))
		if err != nil || code != 1 || stdout != "" || !strings.Contains(stderr, "Lab.RejectedCommandLine") {
			t.Errorf("%s: code %d err %v stdout %q stderr %q", name, code, err, stdout, stderr)
		}
	}
	rej := l.env.Rejected()
	if len(rej) != len(cases) {
		t.Fatalf("rejections %+v, want %d", rej, len(cases))
	}
	for _, r := range rej {
		if !strings.HasPrefix(r.Reason, "command line: ") || r.Host != model.Key(model.App1) {
			t.Errorf("rejection %+v", r)
		}
	}
	if n := l.env.CallCount(model.WinRM, ""); n != len(cases) {
		t.Errorf("CountCall = %d, want %d", n, len(cases))
	}
	if len(l.env.ScriptRuns()) != 0 {
		t.Errorf("scripts ran: %v", l.env.ScriptRuns())
	}
}

func TestScriptReplies(t *testing.T) {
	l := startWSLab(t, Options{})
	c := l.stock(t, model.App1, model.AdminUser, l.seed.AdminPassword, "PT60S")
	cases := []struct {
		name, stdin, want string
		code              int
	}{
		{"unknown script", wsEnvelope(t, "Remove-Item C:\\ -Recurse", nil),
			`{"ok":false,"error":{"type":"Lab.RejectedScript","message":"The bastion lab refused the script: unknown script digest `, 1},
		{"bootstrap as script", wsEnvelope(t, scripts.Bootstrap().Text, nil),
			`{"ok":false,"error":{"type":"Lab.RejectedScript","message":"The bastion lab refused the script: no lab handler for script bootstrap.","category":"SecurityError","id":"Lab.RejectedScript"}}`, 1},
		{"script error", wsEnvelope(t, wsTestScript, map[string]string{"fail": "notfound"}),
			`{"ok":false,"error":{"type":"Microsoft.PowerShell.Commands.ServiceCommandException","message":"Cannot find any service with service name \u0027FIMService\u0027.","category":"ObjectNotFound","id":"NoServiceFoundForGivenName,Microsoft.PowerShell.Commands.GetServiceCommand"}}`, 1},
		{"plain error", wsEnvelope(t, wsTestScript, map[string]string{"fail": "plain"}),
			`{"ok":false,"error":{"type":"System.Management.Automation.RuntimeException","message":"boom","category":"OperationStopped","id":"boom"}}`, 1},
		{"handler panic", wsEnvelope(t, wsTestScript, map[string]string{"fail": "panic"}),
			`{"ok":false,"error":{"type":"System.Management.Automation.RuntimeException","message":"lab handler for lab_test panicked: handler bug"`, 1},
		{"bad envelope", "not json",
			`{"ok":false,"error":{"type":"System.ArgumentException","message":"Invalid JSON primitive: `, 1},
		{"no input", `{"script":` + wsJSON(wsTestScript) + `}`,
			`{"ok":false,"error":{"type":"System.Management.Automation.PropertyNotFoundException","message":"The property \u0027input\u0027 cannot be found on this object. Verify that the property exists.","category":"NotSpecified","id":"PropertyNotFoundStrict"}}`, 1},
		{"null input", wsEnvelope(t, wsTestScript, nil),
			`{"ok":true,"result":{"host":"PRIV-APP1","input":null,`, 0},
	}
	for _, tc := range cases {
		stdout, stderr, code, err := c.RunWithContextWithString(wsCtx(t, 10*time.Second), scripts.CommandLine(), tc.stdin)
		if err != nil || code != tc.code || stderr != "" || !strings.HasPrefix(stdout, tc.want) {
			t.Errorf("%s: code %d err %v stderr %q\n got %s\nwant %s", tc.name, code, err, stderr, stdout, tc.want)
		}
	}
	rej := l.env.Rejected()
	if len(rej) != 2 || rej[0].SHA256 != sha256Hex([]byte(`Remove-Item C:\ -Recurse`)) {
		t.Errorf("rejections %+v", rej)
	}
	// The lock was released after the panic: the model still answers.
	if n := l.env.ScriptRuns()["lab_test"]; n != 4 {
		t.Errorf("lab_test runs = %d, want 4", n)
	}
}

func wsJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func TestLargeOutputOverSeveralReceives(t *testing.T) {
	l := startWSLab(t, Options{})
	c := l.stock(t, model.App1, model.AdminUser, l.seed.AdminPassword, "PT60S")
	stdout, _, code, err := c.RunWithContextWithString(wsCtx(t, 10*time.Second), scripts.CommandLine(), wsEnvelope(t, wsTestScript, map[string]int{"size": 3 * receiveChunk}))
	if err != nil || code != 0 {
		t.Fatalf("code %d err %v", code, err)
	}
	var r struct {
		Result struct{ Data string }
	}
	if err := json.Unmarshal([]byte(stdout), &r); err != nil || len(r.Result.Data) != 3*receiveChunk {
		t.Fatalf("output of %d bytes did not survive: %v", len(stdout), err)
	}
}

func TestReceiveLongPollTimesOut(t *testing.T) {
	l := startWSLab(t, Options{})
	if err := l.env.SetLatency(model.App1, model.WinRM, 700*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	// masterzen treats the TimedOut fault as "no output yet" and receives again.
	c := l.stock(t, model.App1, model.AdminUser, l.seed.AdminPassword, "PT0.2S")
	stdout, _, code, err := c.RunWithContextWithString(wsCtx(t, 10*time.Second), scripts.CommandLine(), wsEnvelope(t, wsTestScript, nil))
	if err != nil || code != 0 || !strings.HasPrefix(stdout, `{"ok":true`) {
		t.Fatalf("code %d err %v stdout %q", code, err, stdout)
	}
	// Create, Command, 2 x Send, Signal, Delete, and at least 3 Receives.
	if st := l.srv.Stats(model.App1); st.Requests < 9 {
		t.Errorf("requests = %d: Receive did not long-poll", st.Requests)
	}
}

func TestInjectedFaults(t *testing.T) {
	l := startWSLab(t, Options{})
	hc := l.wsHTTPClient()
	url := "https://" + model.App1 + ":5986/wsman"
	post := func(ctx context.Context) (*http.Response, error) {
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, url, strings.NewReader(winrm.NewOpenShellRequest(url, nil).String()))
		req.Header.Set("Content-Type", soapContentType)
		req.SetBasicAuth("Administrator", l.seed.LocalAdminPassword)
		return hc.Do(req)
	}
	for _, tc := range []struct {
		kind   model.FaultKind
		status int
		body   string
	}{
		{model.FaultHTTP503, 503, "HTTP Error 503. The service is unavailable."},
		{model.FaultHTTP500, 500, `<s:Value>w:QuotaLimit</s:Value>`},
		{model.FaultUnauthorized, 401, ""},
	} {
		if err := l.env.InjectFault(model.App1, model.WinRM, tc.kind, 1); err != nil {
			t.Fatal(err)
		}
		resp, err := post(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		if resp.StatusCode != tc.status || !strings.Contains(string(b), tc.body) {
			t.Errorf("%s: status %d body %.200s", tc.kind, resp.StatusCode, b)
		}
	}
	// The faults were consumed: the next request succeeds.
	resp, err := post(context.Background())
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("after faults: %v %v", resp, err)
	}
	_ = resp.Body.Close()

	// Refuse: the connection is reset, no HTTP answer.
	_ = l.env.InjectFault(model.App1, model.WinRM, model.FaultRefuse, 1)
	if _, err := post(context.Background()); err == nil {
		t.Error("refuse fault answered")
	}

	// Timeout: held until the client gives up.
	_ = l.env.InjectFault(model.App1, model.WinRM, model.FaultTimeout, 1)
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 150*time.Millisecond)
	defer cancel()
	if _, err := post(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("timeout fault: %v", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("timeout fault held %v past the client's deadline", d)
	}
}

func TestTimeoutFaultReleasedByClose(t *testing.T) {
	l := startWSLab(t, Options{})
	_ = l.env.InjectFault(model.App1, model.WinRM, model.FaultTimeout, -1)
	errc := make(chan error, 1)
	go func() {
		c := l.stock(t, model.App1, model.AdminUser, l.seed.AdminPassword, "PT60S")
		_, err := c.CreateShell()
		errc <- err
	}()
	// Wait until the request is being held, then close the server.
	deadline := time.Now().Add(5 * time.Second)
	for l.srv.Stats(model.App1).Requests == 0 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	l.srv.Close()
	select {
	case err := <-errc:
		if err == nil {
			t.Fatal("held request succeeded")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not release a held request")
	}
}

// raw drives the shell protocol one request at a time, with masterzen's
// request builders and parsers (its Post hides HTTP 500 faults).
type rawShell struct {
	t   testing.TB
	hc  *http.Client
	url string
	l   *wsLab
}

func (l *wsLab) raw(t testing.TB, host string) *rawShell {
	return &rawShell{t: t, hc: l.wsHTTPClient(), url: "https://" + host + ":5986/wsman", l: l}
}

func (r *rawShell) post(msg *soap.SoapMessage) (int, string) {
	r.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, r.url, strings.NewReader(msg.String()))
	req.Header.Set("Content-Type", soapContentType)
	req.SetBasicAuth("Administrator", r.l.seed.LocalAdminPassword)
	resp, err := r.hc.Do(req)
	if err != nil {
		r.t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func (r *rawShell) create() (string, int, string) {
	code, body := r.post(winrm.NewOpenShellRequest(r.url, nil))
	id, _ := winrm.ParseOpenShellResponse(body)
	return id, code, body
}

// command opens a shell and starts the bootstrap in it (Create, Command);
// stdin is the caller's to Send.
func (r *rawShell) command() (shellID, cmdID string) {
	r.t.Helper()
	shellID, code, _ := r.create()
	if code != 200 || shellID == "" {
		r.t.Fatalf("create: %d", code)
	}
	return shellID, r.run(shellID)
}

// run starts the bootstrap in an open shell (Command) and returns the
// command's ID.
func (r *rawShell) run(shellID string) string {
	r.t.Helper()
	_, body := r.post(winrm.NewExecuteCommandRequest(r.url, shellID, scripts.CommandLine(), nil, nil))
	cmdID, err := winrm.ParseExecuteCommandResponse(body)
	if err != nil {
		r.t.Fatal(err)
	}
	return cmdID
}

func TestActionFault(t *testing.T) {
	l := startWSLab(t, Options{})
	if err := l.srv.FailAction(model.App1, "Receive", model.FaultHTTP500, 1); err != nil {
		t.Fatal(err)
	}
	if err := l.srv.FailAction(model.App1, "Bogus", model.FaultHTTP500, 1); err == nil {
		t.Error("unknown action accepted")
	}
	r := l.raw(t, model.App1)
	shellID, cmdID := r.command()
	if code, _ := r.post(winrm.NewSendInputRequest(r.url, shellID, cmdID, []byte(wsEnvelope(t, wsTestScript, nil)), true, nil)); code != 200 {
		t.Fatalf("send: %d", code)
	}
	code, body := r.post(winrm.NewGetOutputRequest(r.url, shellID, cmdID, "stdout stderr", nil))
	if code != 500 || !strings.Contains(body, "w:QuotaLimit") {
		t.Fatalf("first Receive: %d %.300s", code, body)
	}
	// The fault was one Receive; the script ran and its output waits.
	code, body = r.post(winrm.NewGetOutputRequest(r.url, shellID, cmdID, "stdout stderr", nil))
	var out, errOut bytes.Buffer
	done, exit, err := winrm.ParseSlurpOutputErrResponse(body, &out, &errOut)
	if code != 200 || err != nil || !done || exit != 0 || !strings.HasPrefix(out.String(), `{"ok":true`) {
		t.Fatalf("second Receive: %d done %v exit %d err %v out %q", code, done, exit, err, out.String())
	}
	if n := l.env.ScriptRuns()["lab_test"]; n != 1 {
		t.Errorf("runs = %d", n)
	}
	if code, _ := r.post(winrm.NewDeleteShellRequest(r.url, shellID, nil)); code != 200 {
		t.Errorf("delete: %d", code)
	}
	if code, body := r.post(winrm.NewDeleteShellRequest(r.url, shellID, nil)); code != 500 || !strings.Contains(body, "w:InvalidSelectors") {
		t.Errorf("second delete: %d %.300s", code, body)
	}
}

func TestHostGoneRefusesConnections(t *testing.T) {
	l := startWSLab(t, Options{HTTP: true})
	addr := l.srv.ConnectTo()[model.App2+":5986"]
	plain := l.srv.ConnectTo()[model.App2+":5985"]
	if addr == "" || plain == "" {
		t.Fatalf("no listeners for %s: %v", model.App2, l.srv.ConnectTo())
	}
	// A keep-alive connection made while the host is up.
	c := l.stock(t, model.App2, model.AdminUser, l.seed.AdminPassword, "PT60S")
	if _, err := c.CreateShell(); err != nil {
		t.Fatal(err)
	}

	_ = l.env.SetReachable(model.App2, false)
	// Before Sync: the listener still accepts, but resets the connection.
	if conn, err := net.Dial("tcp", addr); err == nil {
		_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, err := conn.Read(make([]byte, 1)); err == nil {
			t.Error("gone host's connection stayed open")
		}
		_ = conn.Close()
	}
	if err := l.srv.Sync(); err != nil {
		t.Fatal(err)
	}
	for _, a := range []string{addr, plain} {
		if _, err := net.Dial("tcp", a); !errors.Is(err, syscall.ECONNREFUSED) {
			t.Errorf("dial %s of a gone host: %v, want connection refused", a, err)
		}
	}
	if _, err := c.CreateShell(); err == nil {
		t.Error("kept-alive connection to a gone host still works")
	}
	// Other hosts are untouched.
	if _, err := l.stock(t, model.App1, model.AdminUser, l.seed.AdminPassword, "PT60S").CreateShell(); err != nil {
		t.Errorf("other host: %v", err)
	}

	_ = l.env.SetReachable(model.App2, true)
	if err := l.srv.Sync(); err != nil {
		t.Fatal(err)
	}
	if got := l.srv.ConnectTo()[model.App2+":5986"]; got != addr {
		t.Errorf("host came back on %s, want %s", got, addr)
	}
	if _, err := c.CreateShell(); err != nil {
		t.Errorf("host back: %v", err)
	}
}

func TestSyncAddsNewHosts(t *testing.T) {
	l := startWSLab(t, Options{})
	const fqdn = "priv-new.priv.contoso.test"
	l.env.AddHost(fqdn)
	if _, ok := l.srv.ConnectTo()[fqdn+":5986"]; ok {
		t.Fatal("listener before Sync")
	}
	if err := l.srv.Sync(); err != nil {
		t.Fatal(err)
	}
	c := l.stock(t, fqdn, model.AdminUser, l.seed.AdminPassword, "PT60S")
	if _, _, code, err := c.RunWithContextWithString(wsCtx(t, 10*time.Second), scripts.CommandLine(), wsEnvelope(t, wsTestScript, nil)); err != nil || code != 0 {
		t.Fatalf("new host: code %d err %v", code, err)
	}
}

func TestTLSNamesTheHost(t *testing.T) {
	l := startWSLab(t, Options{})
	addr := l.srv.ConnectTo()[model.App1+":5986"]
	conn, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: l.ca.Pool(), ServerName: model.App1})
	if err != nil {
		t.Fatal(err)
	}
	_ = conn.Close()
	if _, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: l.ca.Pool(), ServerName: model.App2}); err == nil {
		t.Error("App1's listener presented a certificate valid for App2")
	}
}

func TestShellQuota(t *testing.T) {
	l := startWSLab(t, Options{MaxShellsPerUser: 2})
	r := l.raw(t, model.App1)
	for i := 0; i < 2; i++ {
		if id, code, _ := r.create(); code != 200 || id == "" {
			t.Fatalf("shell %d: %d", i, code)
		}
	}
	_, code, body := r.create()
	if code != 500 || !strings.Contains(body, `Code="2150859173"`) || !strings.Contains(body, "w:QuotaLimit") {
		t.Fatalf("third shell: %d %.300s, want the QuotaLimit fault", code, body)
	}
	if st := l.srv.Stats(model.App1); st.Shells != 2 || st.MaxShells != 2 {
		t.Errorf("stats %+v", st)
	}
}

func TestNTLM(t *testing.T) {
	l := startWSLab(t, Options{})
	ct := l.srv.ConnectTo()
	hc := &http.Client{Transport: ntlmssp.Negotiator{RoundTripper: &http.Transport{
		DialContext:     ct.DialContext,
		TLSClientConfig: &tls.Config{RootCAs: l.ca.Pool()},
	}}}
	url := "https://" + model.App1 + ":5986/wsman"
	post := func(user, pass string) int {
		req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(winrm.NewOpenShellRequest(url, nil).String()))
		req.Header.Set("Content-Type", soapContentType)
		req.SetBasicAuth(user, pass)
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
		return resp.StatusCode
	}
	if code := post(model.AdminUser, "wrong"); code != 401 {
		t.Fatalf("wrong password: %d", code)
	}
	l.srv.ResetStats()
	if code := post("administrator@priv.contoso.test", l.seed.AdminPassword); code != 200 {
		t.Fatalf("NTLM: %d", code)
	}
	if n := l.srv.Stats(model.App1).Requests; n != 3 {
		t.Errorf("handshake took %d requests, want 3 (anonymous, negotiate, authenticate)", n)
	}
	l.srv.ResetStats()
	if code := post("administrator@priv.contoso.test", l.seed.AdminPassword); code != 200 {
		t.Fatalf("NTLM again: %d", code)
	}
	if n := l.srv.Stats(model.App1).Requests; n != 1 {
		t.Errorf("authenticated connection needed %d requests, want 1", n)
	}
}

func TestAcceptedScriptsMatchCatalogue(t *testing.T) {
	want := map[string]string{scripts.BootstrapName: scripts.Bootstrap().SHA256}
	for _, s := range scripts.All() {
		want[s.Name] = s.SHA256
	}
	got := AcceptedScripts()
	var diff []string
	for name, sum := range want {
		if got[name] != sum {
			diff = append(diff, fmt.Sprintf("%s.ps1: lab has %q, catalogue %q", name, got[name], sum))
		}
	}
	for name := range got {
		if _, ok := want[name]; !ok {
			diff = append(diff, name+".ps1: accepted by the lab but not in the catalogue")
		}
	}
	if len(diff) > 0 {
		t.Errorf("accepted_scripts.sha256 is stale (review the script changes, then `go generate ./internal/lab/winrmsim`):\n%s", strings.Join(diff, "\n"))
	}
}

func TestRegisteredHandlersAreAccepted(t *testing.T) {
	acc := AcceptedScripts()
	for _, name := range Registered() {
		if _, ok := acc[name]; !ok {
			t.Errorf("handler %q has no line in accepted_scripts.sha256", name)
		}
	}
	for name := range acc {
		if name != bootstrapName && handlerFor(name) == nil {
			t.Logf("script %s has no lab handler yet", name)
		}
	}
}

func TestRegisterRejectsDuplicates(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("second Register of one name did not panic")
		}
		registry.remove("lab_dup")
	}()
	h := func(*model.Env, *model.Host, json.RawMessage) (any, error) { return nil, nil }
	Register("lab_dup", h)
	Register("lab_dup", h)
}

func TestParseAccepted(t *testing.T) {
	for _, bad := range []string{"abc  x.ps1\n", strings.Repeat("a", 64) + "  x.txt\n", strings.Repeat("a", 64) + "  x.ps1\n"} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("parseAccepted(%q) did not panic", bad)
				}
			}()
			parseAccepted(bad)
		}()
	}
	m := parseAccepted(strings.Repeat("A", 64) + " *bootstrap.ps1\n")
	if !bytes.Equal([]byte(m["bootstrap"]), []byte(strings.Repeat("a", 64))) {
		t.Errorf("binary-mode line: %v", m)
	}
}

// The lab's console reads stdin as code page 437: raw UTF-8 arrives
// mangled, \u escapes arrive intact (what the provider sends).
func TestConsoleCodePage437(t *testing.T) {
	l := startWSLab(t, Options{})
	c := l.stock(t, model.App1, model.AdminUser, l.seed.AdminPassword, "PT60S")
	raw := wsEnvelope(t, wsTestScript, map[string]any{"v": "Привет"})
	stdout, _, code, err := c.RunWithContextWithString(wsCtx(t, 10*time.Second), scripts.CommandLine(), raw)
	if err != nil || code != 0 {
		t.Fatalf("code %d err %v", code, err)
	}
	if strings.Contains(stdout, "Привет") || strings.Contains(stdout, `\u041f`) {
		t.Errorf("raw UTF-8 survived a code page 437 console: %s", stdout)
	}
	escaped := strings.ReplaceAll(raw, "Привет", `\u041f\u0440\u0438\u0432\u0435\u0442`)
	stdout, _, code, err = c.RunWithContextWithString(wsCtx(t, 10*time.Second), scripts.CommandLine(), escaped)
	if err != nil || code != 0 || !strings.Contains(stdout, `"v":"\u041f\u0440\u0438\u0432\u0435\u0442"`) {
		t.Errorf("escaped input: code %d err %v stdout %s", code, err, stdout)
	}
}
