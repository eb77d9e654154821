package winrmsim

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/masterzen/winrm"

	"github.com/bastion-pam/terraform-provider-bastion/internal/lab/aptpkg"
	"github.com/bastion-pam/terraform-provider-bastion/internal/lab/model"
)

// Independent clients hold the lab's WinRM to Windows' rules: curl (its
// own NTLM) and pywinrm from Debian (requests-ntlm with its own
// MS-WSMV message encryption). Neither shares code with the lab.

func (l *wsLab) port(t *testing.T, host string, port int) string {
	t.Helper()
	addr, ok := l.srv.ConnectTo()[fmt.Sprintf("%s:%d", model.Key(host), port)]
	if !ok {
		t.Fatalf("no listener for %s:%d", host, port)
	}
	_, p, _ := strings.Cut(addr, ":")
	return p
}

// curlStatus posts body to host's listener and returns the HTTP status.
// The credentials go through curl's config on stdin, not its command line.
func (l *wsLab) curlStatus(t *testing.T, curl, scheme, host string, port int, auth, user, pass, body string) string {
	t.Helper()
	dir := t.TempDir()
	ca := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(ca, l.ca.CertPEM(), 0o600); err != nil {
		t.Fatal(err)
	}
	p := l.port(t, host, port)
	url := fmt.Sprintf("%s://%s:%s/wsman", scheme, model.Key(host), p)
	cfg := fmt.Sprintf("user = %q\n", user+":"+pass)
	cmd := exec.Command(curl, "-s", "-o", "/dev/null", "-w", "%{http_code}", "--"+auth, "-K", "-",
		"--cacert", ca, "--resolve", model.Key(host)+":"+p+":127.0.0.1",
		"-H", "Content-Type: application/soap+xml;charset=UTF-8", "--data-binary", body, url)
	cmd.Stdin = strings.NewReader(cfg)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("curl: %v", err)
	}
	return string(out)
}

func TestProbeCurl(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	curl := aptpkg.NeedCommand(ctx, t, "curl", "curl")
	l := startWSLab(t, Options{HTTP: true})
	open := winrm.NewOpenShellRequest("https://"+model.DC1+":5986/wsman", nil).String()
	cases := []struct {
		name, scheme, host string
		port               int
		auth, user, pass   string
		want               string
	}{
		// Basic is for local accounts only: a domain account gets 401 on a DC,
		// and on a member server even where the service allows Basic.
		{"basic domain account on a DC", "https", model.DC1, PortHTTPS, "basic", model.AdminUser, l.seed.AdminPassword, "401"},
		{"basic domain account on a member", "https", model.App1, PortHTTPS, "basic", model.AdminUser, l.seed.AdminPassword, "401"},
		{"basic bare name on a DC", "https", model.DC1, PortHTTPS, "basic", "Administrator", l.seed.AdminPassword, "401"},
		{"basic local account on a member", "https", model.App1, PortHTTPS, "basic", "Administrator", l.seed.LocalAdminPassword, "200"},
		{"ntlm domain account on a DC", "https", model.DC1, PortHTTPS, "ntlm", model.AdminUser, l.seed.AdminPassword, "200"},
		{"ntlm wrong password on a DC", "https", model.DC1, PortHTTPS, "ntlm", model.AdminUser, "wrong", "401"},
		// curl authenticates with NTLM but cannot seal: Windows refuses the
		// clear message on HTTP with 500 (AllowUnencrypted=false).
		{"ntlm unsealed on HTTP", "http", model.DC1, PortHTTP, "ntlm", model.AdminUser, l.seed.AdminPassword, "500"},
	}
	for _, tc := range cases {
		if got := l.curlStatus(t, curl, tc.scheme, tc.host, tc.port, tc.auth, tc.user, tc.pass, open); got != tc.want {
			t.Errorf("%s: HTTP %s, want %s", tc.name, got, tc.want)
		}
	}
	if st := l.srv.Stats(model.DC1); st.Unsealed != 1 || st.Sealed != 0 {
		t.Errorf("DC1 %+v: want the one clear message counted", st)
	}
	writeSummary(t, fmt.Sprintf("winrm probe (curl): %d cases against the lab's DC and member server", len(cases)))
}

const pywinrmProbe = `
import json, os, socket, sys
import winrm
# The lab's hosts live on loopback: resolve their names there, so TLS
# still checks the host's own name against the lab's CA.
_gai = socket.getaddrinfo
def _lab_gai(host, *a, **kw):
    if host == os.environ["DC"]:
        host = "127.0.0.1"
    return _gai(host, *a, **kw)
socket.getaddrinfo = _lab_gai
from winrm.exceptions import InvalidCredentialsError, WinRMTransportError
out = {}
def proto(endpoint, transport, user, password, **kw):
    return winrm.Protocol(endpoint=endpoint, transport=transport, username=user, password=password, **kw)
# Basic with a domain account: refused.
try:
    p = proto(os.environ["HTTPS_URL"], "basic", os.environ["USER"], os.environ["PW"], ca_trust_path=os.environ["CA"])
    p.close_shell(p.open_shell())
    out["basic"] = "accepted"
except InvalidCredentialsError:
    out["basic"] = "401"
except WinRMTransportError as e:
    out["basic"] = "transport: %s" % e
# NTLM on HTTP with message encryption: through.
p = proto(os.environ["HTTP_URL"], "ntlm", os.environ["USER"], os.environ["PW"], message_encryption="always")
shell = p.open_shell()
cmd = p.run_command(shell, "ipconfig", ["/all"])
stdout, stderr, code = p.get_command_output(shell, cmd)
p.cleanup_command(shell, cmd)
p.close_shell(shell)
out["ntlm"] = {"code": code, "stderr": stderr.decode("utf-8", "replace")}
json.dump(out, sys.stdout)
`

const legacyOpenSSL = `openssl_conf = openssl_init
[openssl_init]
providers = provider_sect
[provider_sect]
default = default_sect
legacy = legacy_sect
[default_sect]
activate = 1
[legacy_sect]
activate = 1
`

func TestProbePywinrm(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if err := aptpkg.Ensure(ctx, "python3-winrm"); errors.Is(err, aptpkg.ErrUnavailable) {
		t.Skip(err.Error())
	} else if err != nil {
		t.Fatal(err)
	}
	l := startWSLab(t, Options{HTTP: true})
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, l.ca.CertPEM(), 0o600); err != nil {
		t.Fatal(err)
	}
	// NTLM hashes with MD4, which OpenSSL 3 keeps in its legacy provider
	// (Debian's python3-ntlm-auth calls hashlib.new("md4")).
	conf := filepath.Join(filepath.Dir(ca), "openssl.cnf")
	if err := os.WriteFile(conf, []byte(legacyOpenSSL), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.CommandContext(ctx, "/usr/bin/python3", "-c", pywinrmProbe) // Debian's python, where apt put winrm
	cmd.Env = append(os.Environ(), "OPENSSL_CONF="+conf, "CA="+ca, "DC="+model.Key(model.DC1),
		"HTTPS_URL=https://"+model.Key(model.DC1)+":"+l.port(t, model.DC1, PortHTTPS)+"/wsman",
		"HTTP_URL=http://127.0.0.1:"+l.port(t, model.DC1, PortHTTP)+"/wsman",
		"USER="+model.AdminUser, "PW="+l.seed.AdminPassword)
	b, err := cmd.Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			t.Fatalf("pywinrm: %v\n%s", err, ee.Stderr)
		}
		t.Fatal(err)
	}
	var got struct {
		Basic string `json:"basic"`
		NTLM  struct {
			Code   int    `json:"code"`
			Stderr string `json:"stderr"`
		} `json:"ntlm"`
	}
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatalf("%v: %s", err, b)
	}
	if got.Basic != "401" {
		t.Errorf("pywinrm basic with a domain account on a DC: %s, want 401", got.Basic)
	}
	// The lab runs only the bastion bootstrap: ipconfig is refused by
	// powershell.exe's stand-in, which proves the sealed session got
	// through authentication, shell creation and command start.
	if got.NTLM.Code != 1 || !strings.Contains(got.NTLM.Stderr, "Lab.RejectedCommandLine") {
		t.Errorf("pywinrm NTLM over sealed HTTP: %+v", got.NTLM)
	}
	st := l.srv.Stats(model.DC1)
	if st.Unsealed != 0 || st.Sealed < 4 {
		t.Errorf("DC1 %+v: want every pywinrm message sealed", st)
	}
	writeSummary(t, fmt.Sprintf("winrm probe (pywinrm %s): Basic with a domain account 401, NTLM sealed on HTTP through (%d sealed messages)", "python3-winrm", st.Sealed))
}

// writeSummary appends a line to make test's summary, when it runs under it.
func writeSummary(t *testing.T, line string) {
	t.Log(line)
	p := os.Getenv("BASTION_TEST_SUMMARY")
	if p == "" {
		return
	}
	f, err := os.OpenFile(p, os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return
	}
	_, _ = fmt.Fprintln(f, line)
	_ = f.Close()
}
