package winrmexec

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
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

// execute is one script execution: Create, Command, Send (stdin, end),
// Receive until Done, Delete: five requests when the output fits in one
// Receive. started reports that the Command was accepted (or may have been):
// from then on the script may run on the host.
func (h *hostConn) execute(ctx context.Context, cmdline string, stdin []byte) (out *output, started bool, err error) {
	p := h.c.params
	body, err := h.post(ctx, winrm.NewOpenShellRequest(h.url, p))
	if err != nil {
		return nil, false, fmt.Errorf("creating a shell: %w", err)
	}
	shellID, err := winrm.ParseOpenShellResponse(body)
	if err != nil || shellID == "" {
		return nil, false, fmt.Errorf("creating a shell: no ShellId in the answer (%w): %s", err, quote([]byte(body)))
	}
	defer h.deleteShell(ctx, shellID)

	body, err = h.post(ctx, winrm.NewExecuteCommandRequest(h.url, shellID, cmdline, nil, p))
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
			return out, true, nil
		}
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
	if errors.Is(err, transport.ErrUnauthorized) {
		return err
	}
	if ctxErr := ctx.Err(); ctxErr != nil && !errors.Is(err, ctxErr) {
		err = fmt.Errorf("%w: %w", ctxErr, err)
	}
	return &unreachableError{err: err, permanent: isCertificateError(err)}
}
