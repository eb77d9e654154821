package winrmsim

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/masterzen/winrm"

	"github.com/bastion-pam/terraform-provider-bastion/internal/lab/model"
)

// powerShellStarts returns the PowerShell starts the trace holds for host.
func powerShellStarts(env *model.Env, host string) int {
	n := 0
	for _, rt := range env.NetTrace() {
		if rt.Kind == "powershell" && rt.Host == host {
			n++
		}
	}
	return n
}

// The Command creates powershell.exe ([MS-WSMV] 3.1.4.11); stdin comes
// later by Send. So the process starts before any stdin arrives, and a
// client whose Send comes late pays no start after it.
func TestPowerShellStartsAtTheCommand(t *testing.T) {
	l := startWSLab(t, Options{})
	const start = 200 * time.Millisecond
	l.env.SetCosts(model.Costs{PowerShellStart: start})
	l.env.ResetNetCounters()
	l.env.TraceNet(true)
	r := l.raw(t, model.App1)
	shellID, cmdID := r.command()
	// No stdin yet: the start runs to its end all the same.
	deadline := time.Now().Add(10 * time.Second)
	for powerShellStarts(l.env, model.App1) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("no PowerShell start completed before stdin was sent: the lab starts the process at Send, not at the Command")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if code, _ := r.post(winrm.NewSendInputRequest(r.url, shellID, cmdID, []byte(wsEnvelope(t, wsTestScript, nil)), true, nil)); code != 200 {
		t.Fatalf("send: %d", code)
	}
	code, body := r.post(winrm.NewGetOutputRequest(r.url, shellID, cmdID, "stdout stderr", nil))
	var out, errOut bytes.Buffer
	done, exit, err := winrm.ParseSlurpOutputErrResponse(body, &out, &errOut)
	if code != 200 || err != nil || !done || exit != 0 || !strings.HasPrefix(out.String(), `{"ok":true`) {
		t.Fatalf("Receive: %d done %v exit %d err %v out %q", code, done, exit, err, out.String())
	}
	if n := powerShellStarts(l.env, model.App1); n != 1 {
		t.Errorf("PowerShell starts = %d, want 1 for one Command", n)
	}
	if n := l.env.NetTotals()[model.WinRM].Scripts; n != 1 {
		t.Errorf("scripts counted = %d, want 1", n)
	}

	// A process that never gets its stdin ends with the shell, without running.
	r.run(shellID)
	if code, _ := r.post(winrm.NewDeleteShellRequest(r.url, shellID, nil)); code != 200 {
		t.Errorf("delete: %d", code)
	}
	if n := l.env.ScriptRuns()["lab_test"]; n != 1 {
		t.Errorf("script runs = %d, want 1: a command without stdin ran", n)
	}
}
