package winrmexec

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/masterzen/winrm"
	"github.com/masterzen/winrm/soap"

	"github.com/bastion-pam/terraform-provider-bastion/internal/transport"
)

// maxOutput bounds what one run may print; the bootstrap prints one JSON
// document, far smaller.
const maxOutput = 32 << 20

// output is what one command printed.
type output struct {
	stdout, stderr []byte
	exitCode       int
}

// execute is one script execution in a shell of the host's pool (see
// takeShell): Command, Send (stdin, end), Receive until Done: three requests
// when the output fits in one Receive, plus a Create when no shell is idle.
// The shell goes back to the pool only after a clean run; any failure
// deletes it. started reports that the Command was accepted (or may have
// been): from then on the script may run on the host.
func (h *hostConn) execute(ctx context.Context, cmdline string, stdin []byte) (out *output, started bool, err error) {
	p := h.c.params
	shellID, reused, err := h.takeShell(ctx)
	if err != nil {
		return nil, false, err
	}
	body, err := h.post(ctx, winrm.NewExecuteCommandRequest(h.url, shellID, cmdline, nil, p))
	var fault *HTTPError
	if err != nil && reused && (errors.As(err, &fault) || failedWriting(err)) {
		// The host refused the Command in a kept shell (it may have ended the
		// shell: idle time-out, WinRM restart), or the kept connection was
		// dead before the request got through: nothing started, so a new
		// shell gets the Command (and a gone host fails its Create, as a
		// first run would).
		h.c.log.DebugContext(ctx, "winrm kept shell refused a command; opening a new one", "host", h.key, "error", err.Error())
		if fault != nil {
			h.deleteShell(ctx, shellID)
		}
		if shellID, err = h.createShell(ctx); err != nil {
			return nil, false, err
		}
		body, err = h.post(ctx, winrm.NewExecuteCommandRequest(h.url, shellID, cmdline, nil, p))
	}
	clean := false
	defer func() {
		if clean {
			h.putShell(shellID)
		} else {
			h.deleteShell(ctx, shellID)
		}
	}()
	if err != nil {
		return nil, !neverSent(err), fmt.Errorf("starting powershell.exe: %w", err)
	}
	cmdID, err := winrm.ParseExecuteCommandResponse(body)
	if err != nil || cmdID == "" {
		return nil, true, fmt.Errorf("starting powershell.exe: no CommandId in the answer (%w): %s", err, quote([]byte(body)))
	}

	// Base64 grows the data by 4/3; keep each Send within MaxEnvelopeSize.
	chunk := (p.EnvelopeSize - 4096) / 4 * 3
	for off := 0; ; off += chunk {
		end := min(off+chunk, len(stdin))
		last := end == len(stdin)
		if _, err := h.post(ctx, winrm.NewSendInputRequest(h.url, shellID, cmdID, stdin[off:end], last, p)); err != nil {
			return nil, true, fmt.Errorf("sending the script on stdin: %w", err)
		}
		if last {
			break
		}
	}

	out = &output{}
	var stdout, stderr bytes.Buffer
	for {
		body, err := h.post(ctx, winrm.NewGetOutputRequest(h.url, shellID, cmdID, "stdout stderr", p))
		var he *HTTPError
		if errors.As(err, &he) && he.timedOut() {
			continue // nothing printed within OperationTimeout: ask again
		}
		if err != nil {
			return nil, true, fmt.Errorf("receiving the output: %w", err)
		}
		done, code, err := winrm.ParseSlurpOutputErrResponse(body, &stdout, &stderr)
		if err != nil {
			return nil, true, fmt.Errorf("receiving the output: %w", err)
		}
		if stdout.Len()+stderr.Len() > maxOutput {
			return nil, true, fmt.Errorf("receiving the output: more than %d bytes", maxOutput)
		}
		if done {
			out.stdout, out.stderr, out.exitCode = stdout.Bytes(), stderr.Bytes(), code
			clean = true
			return out, true, nil
		}
	}
}

// createShell opens a shell on the host (one request).
func (h *hostConn) createShell(ctx context.Context) (string, error) {
	body, err := h.post(ctx, openShellRequest(h.url, h.c.params, h.c.shellIdle))
	if err != nil {
		return "", fmt.Errorf("creating a shell: %w", err)
	}
	shellID, err := winrm.ParseOpenShellResponse(body)
	if err != nil || shellID == "" {
		return "", fmt.Errorf("creating a shell: no ShellId in the answer (%w): %s", err, quote([]byte(body)))
	}
	h.count(func(st *HostStats) { st.Shells++ })
	return shellID, nil
}

// openShellRequest is winrm.NewOpenShellRequest plus the shell's
// IdleTimeOut ([MS-WSMV] 2.2.4.37 Shell, before InputStreams): the service
// deletes a shell no request touched for that long (the smaller of this and
// its own IdleTimeout setting), so the shells of a provider that was killed
// do not stay open on the host, each counting against MaxShellsPerUser.
// https://learn.microsoft.com/openspecs/windows_protocols/ms-wsmv/b3dd6257-9326-466b-9fc5-9f788973d40e
// https://learn.microsoft.com/windows/win32/api/wsman/ns-wsman-wsman_shell_startup_info_v10
func openShellRequest(uri string, params *winrm.Parameters, idle time.Duration) *soap.SoapMessage {
	m := soap.NewMessage()
	m.Header().
		To(uri).
		ReplyTo("http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous").
		MaxEnvelopeSize(params.EnvelopeSize).
		Id(messageID()).
		Locale(params.Locale).
		Timeout(params.Timeout).
		Action("http://schemas.xmlsoap.org/ws/2004/09/transfer/Create").
		ResourceURI("http://schemas.microsoft.com/wbem/wsman/1/windows/shell/cmd").
		AddOption(soap.NewHeaderOption("WINRS_NOPROFILE", "FALSE")).
		AddOption(soap.NewHeaderOption("WINRS_CODEPAGE", "65001")).
		Build()
	shell := m.CreateBodyElement("Shell", soap.DOM_NS_WIN_SHELL)
	m.CreateElement(shell, "IdleTimeOut", soap.DOM_NS_WIN_SHELL).SetContent(fmt.Sprintf("PT%.3fS", idle.Seconds()))
	m.CreateElement(shell, "InputStreams", soap.DOM_NS_WIN_SHELL).SetContent("stdin")
	m.CreateElement(shell, "OutputStreams", soap.DOM_NS_WIN_SHELL).SetContent("stdout stderr")
	return m
}

// messageID is a WS-Addressing MessageID: a random (version 4) UUID URI.
func messageID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("uuid:%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// shellIdleTimeout is how long a shell may wait in the pool for the next
// script before it is deleted. A plan's reads of one host come in bursts;
// between Terraform commands nothing should be left open (each shell counts
// against the host's MaxShellsPerUser, 30 by default).
var shellIdleTimeout = 5 * time.Second

type idleShell struct {
	id    string
	since time.Time
}

// takeShell returns the most recently used idle shell of the host, or
// creates one. At most MaxConcurrencyPerHost scripts run at once per host
// (the limiter), so the pool never holds more shells than that.
func (h *hostConn) takeShell(ctx context.Context) (id string, reused bool, err error) {
	h.shellMu.Lock()
	for len(h.idle) > 0 {
		s := h.idle[len(h.idle)-1]
		h.idle = h.idle[:len(h.idle)-1]
		if time.Since(s.since) < shellIdleTimeout {
			h.shellMu.Unlock()
			return s.id, true, nil
		}
		h.shellMu.Unlock()
		h.deleteShell(context.WithoutCancel(ctx), s.id)
		h.shellMu.Lock()
	}
	h.shellMu.Unlock()
	id, err = h.createShell(ctx)
	return id, false, err
}

// putShell keeps a shell for the next script, and schedules its deletion
// when it idles too long. After Close, shells are deleted at once.
func (h *hostConn) putShell(id string) {
	h.shellMu.Lock()
	if h.closed {
		h.shellMu.Unlock()
		h.deleteShell(context.Background(), id)
		return
	}
	h.idle = append(h.idle, idleShell{id: id, since: time.Now()})
	if h.reaper == nil {
		h.reaper = time.AfterFunc(shellIdleTimeout, h.reap)
	}
	h.shellMu.Unlock()
}

// reap deletes the shells idle for shellIdleTimeout.
func (h *hostConn) reap() {
	h.shellMu.Lock()
	var stale []string
	keep := h.idle[:0]
	for _, s := range h.idle {
		if time.Since(s.since) >= shellIdleTimeout {
			stale = append(stale, s.id)
		} else {
			keep = append(keep, s)
		}
	}
	h.idle = keep
	h.reaper = nil
	if len(h.idle) > 0 {
		h.reaper = time.AfterFunc(time.Until(h.idle[0].since.Add(shellIdleTimeout)), h.reap)
	}
	h.shellMu.Unlock()
	for _, id := range stale {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		h.deleteShell(ctx, id)
		cancel()
	}
}

// closeShells deletes every idle shell and keeps none from now on.
func (h *hostConn) closeShells(ctx context.Context) {
	h.shellMu.Lock()
	h.closed = true
	idle := h.idle
	h.idle = nil
	if h.reaper != nil {
		h.reaper.Stop()
		h.reaper = nil
	}
	h.shellMu.Unlock()
	for _, s := range idle {
		h.deleteShell(ctx, s.id)
	}
}

// deleteShell removes the shell, which also ends its process if it still
// runs. When ctx is already over, it tries briefly in the background, so a
// timed-out run returns at once and still leaves no shell behind.
func (h *hostConn) deleteShell(ctx context.Context, shellID string) {
	del := func(ctx context.Context) {
		if _, err := h.post(ctx, winrm.NewDeleteShellRequest(h.url, shellID, h.c.params)); err != nil {
			h.c.log.DebugContext(ctx, "winrm shell not deleted", "host", h.key, "error", err.Error())
		}
	}
	if ctx.Err() == nil {
		del(ctx)
		return
	}
	go func() {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		del(ctx)
	}()
}

// post sends one WS-Management request and returns the answer's body.
func (h *hostConn) post(ctx context.Context, msg *soap.SoapMessage) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, h.url, strings.NewReader(msg.String()))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/soap+xml;charset=UTF-8")
	h.c.auth.prepare(req)
	resp, err := h.http.Do(req)
	if err != nil {
		return "", h.netError(ctx, err)
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxOutput))
	if err != nil {
		return "", h.netError(ctx, err)
	}
	ct := resp.Header.Get("Content-Type")
	switch {
	case resp.StatusCode == http.StatusUnauthorized:
		return "", fmt.Errorf("%w: %s refused the credentials of %s (HTTP 401, %s authentication; it offers %s)",
			transport.ErrUnauthorized, h.key, h.c.cfg.Username, h.c.cfg.Auth, strings.Join(schemes(resp.Header), ", "))
	case resp.StatusCode != http.StatusOK:
		return "", newHTTPError(resp.StatusCode, ct, body)
	case !strings.Contains(ct, "soap+xml"):
		return "", fmt.Errorf("answer is %q, not SOAP: %s", ct, quote(body))
	}
	return string(body), nil
}

// schemes lists the authentication schemes of a 401, without their tokens.
func schemes(hd http.Header) []string {
	var out []string
	for _, v := range hd.Values("WWW-Authenticate") {
		out = append(out, strings.Fields(v + " -")[0])
	}
	if len(out) == 0 {
		return []string{"nothing"}
	}
	return out
}

func (h *hostConn) netError(ctx context.Context, err error) error {
	// A sealing failure is final: retrying would only repeat it, and
	// nothing is ever resent in clear text.
	if errors.Is(err, transport.ErrUnauthorized) || errors.Is(err, ErrNotSealed) {
		return err
	}
	if ctxErr := ctx.Err(); ctxErr != nil && !errors.Is(err, ctxErr) {
		err = fmt.Errorf("%w: %w", ctxErr, err)
	}
	return &unreachableError{err: err, permanent: transport.IsCertificateError(err) || isUnknownHost(err)}
}

// failedWriting reports that the request could not be written: the host had
// closed the connection, so it cannot have read, let alone run, the request.
func failedWriting(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "write"
}
