package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/bastion-pam/terraform-provider-bastion/internal/adnames"
	"github.com/bastion-pam/terraform-provider-bastion/internal/lab"
	"github.com/bastion-pam/terraform-provider-bastion/internal/lab/labca"
	"github.com/bastion-pam/terraform-provider-bastion/internal/lab/model"
)

// runCLI runs one command line and returns its exit code, stdout and stderr.
func runCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(context.Background(), args, &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestHelpDocumentsEveryCommandAndFlag(t *testing.T) {
	code, out, _ := runCLI(t, "help")
	if code != 0 {
		t.Fatalf("help exited %d", code)
	}
	for _, c := range commands() {
		if !regexp.MustCompile(`(?m)^  ` + c.name + ` +\S`).MatchString(out) {
			t.Errorf("bastion-lab help does not list %q:\n%s", c.name, out)
		}
		for _, args := range [][]string{{"help", c.name}, {c.name, "-h"}} {
			code, page, _ := runCLI(t, args...)
			if code != 0 {
				t.Errorf("bastion-lab %s exited %d", strings.Join(args, " "), code)
			}
			if !strings.HasPrefix(page, "Usage: bastion-lab "+c.name) || !strings.Contains(page, c.summary) || strings.TrimSpace(c.detail) == "" {
				t.Errorf("bastion-lab %s: no synopsis, summary or detail:\n%s", strings.Join(args, " "), page)
			}
			fs := flag.NewFlagSet(c.name, flag.ContinueOnError)
			c.setup(fs)
			fs.VisitAll(func(f *flag.Flag) {
				if !strings.Contains(page, "  -"+f.Name) || f.Usage == "" {
					t.Errorf("bastion-lab %s does not document -%s:\n%s", strings.Join(args, " "), f.Name, page)
				}
				if !strings.Contains(c.args, "-"+f.Name) {
					t.Errorf("the synopsis of %s (%q) leaves out -%s", c.name, c.args, f.Name)
				}
			})
		}
	}
}

func TestUsageErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{nil, 2, "Usage: bastion-lab COMMAND"},
		{[]string{"nope"}, 2, `unknown command "nope"`},
		{[]string{"fault", "-x"}, 2, "flag provided but not defined: -x"},
		{[]string{"fault", "-host", model.DC1}, 2, "-protocol is required"},
		{[]string{"fault", "-host", model.DC1, "-protocol", "smb", "-kind", "refuse"}, 2, `unknown -protocol "smb"`},
		{[]string{"fault", "-host", model.DC1, "-protocol", "ldap", "-kind", "melt"}, 2, `unknown -kind "melt"`},
		{[]string{"fault", "-host", model.DC1, "-protocol", "ldap", "-kind", "busy", "-n", "0"}, 2, "-n is a positive number"},
		{[]string{"cert", "-host", model.DC1, "-protocol", "ldap"}, 2, "-flaw is required"},
		{[]string{"cert", "-host", model.DC1, "-protocol", "ldap", "-flaw", "stale"}, 2, `certificate flaw "stale"`},
		{[]string{"down"}, 2, "-host is required"},
		{[]string{"failover"}, 2, "-to is required"},
		{[]string{"serve", "-sql-version", "2008"}, 2, "2008"},
		{[]string{"status", "extra"}, 2, `unexpected argument "extra"`},
		{[]string{"status", "-dir", filepath.Join(t.TempDir(), "none")}, 1, "no running lab in"},
	} {
		code, _, errOut := runCLI(t, tc.args...)
		if code != tc.code || !strings.Contains(errOut, tc.want) {
			t.Errorf("bastion-lab %v: exit %d, stderr %q; want exit %d and %q", tc.args, code, errOut, tc.code, tc.want)
		}
	}
}

// TestServe starts the lab as `bastion-lab serve` does and reads what it wrote.
func TestServe(t *testing.T) {
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int)
	var out, errOut bytes.Buffer
	go func() { done <- run(ctx, []string{"serve", "-dir", dir, "-rtt", "1ms"}, &out, &errOut) }()
	deadline := time.Now().Add(time.Minute)
	for {
		if _, err := os.Stat(filepath.Join(dir, "ready")); err == nil {
			break
		}
		select {
		case code := <-done:
			t.Fatalf("serve exited %d before it was ready: %s", code, errOut.String())
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatal("serve never became ready")
		}
	}

	fi, err := os.Stat(filepath.Join(dir, "lab.env"))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("lab.env has mode %v; it holds passwords, so only its owner may read it", fi.Mode().Perm())
	}
	env, _ := os.ReadFile(filepath.Join(dir, "lab.env"))
	// Every variable an example declares, and every provider setting.
	for _, v := range []string{"BASTION_CONNECT_TO", "BASTION_WINRM_USERNAME", "BASTION_WINRM_PASSWORD", "BASTION_LDAP_DOMAIN", "BASTION_SQL_SERVER",
		"TF_VAR_priv_admin_password", "TF_VAR_mim_service_account_password", "TF_VAR_corp_admin_password",
		"TF_VAR_dsrm_password", "TF_VAR_sql_agent_password", "TF_VAR_dc_builder_password"} {
		if !regexp.MustCompile(`(?m)^export ` + v + `='[^']+'$`).Match(env) {
			t.Errorf("lab.env has no value for %s:\n%s", v, env)
		}
	}
	code, table, _ := runCLI(t, "status", "-dir", dir)
	if code != 0 || !strings.Contains(table, "all up") || !strings.Contains(table, "round trip winrm 1ms") {
		t.Errorf("status exited %d:\n%s", code, table)
	}
	code, js, _ := runCLI(t, "status", "-dir", dir, "-json")
	var st status
	if err := json.Unmarshal([]byte(js), &st); code != 0 || err != nil || len(st.Hosts) == 0 || st.Costs.RTTms[model.LDAP] != 1 {
		t.Errorf("status -json exited %d (%v): %s", code, err, js)
	}

	cancel()
	if code := <-done; code != 0 {
		t.Errorf("serve exited %d on SIGINT: %s", code, errOut.String())
	}
	if _, err := os.Stat(filepath.Join(dir, "ready")); !os.IsNotExist(err) {
		t.Errorf("ready is still there after the lab stopped (%v)", err)
	}
	if !strings.Contains(out.String(), "settings in "+filepath.Join(dir, "lab.env")) {
		t.Errorf("serve did not say where its settings are: %q", out.String())
	}
}

// TestControlCommands drives a lab through every control command and reads
// the effect in its model.
func TestControlCommands(t *testing.T) {
	dir := t.TempDir()
	l, err := lab.Start(lab.Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(l.Close)
	srv := httptest.NewServer(controlHandler(l, "token"))
	t.Cleanup(srv.Close)
	ctl, _ := json.Marshal(controlFile{Address: strings.TrimPrefix(srv.URL, "http://"), Token: "token"})
	if err := os.WriteFile(filepath.Join(dir, "control.json"), ctl, 0o600); err != nil {
		t.Fatal(err)
	}
	cli := func(args ...string) string {
		t.Helper()
		code, out, errOut := runCLI(t, append(args, "-dir", dir)...)
		if code != 0 {
			t.Fatalf("bastion-lab %v exited %d: %s", args, code, errOut)
		}
		return out
	}

	cli("fault", "-host", model.DC1, "-protocol", "ldap", "-kind", "busy", "-n", "-1")
	for i := 0; i < 3; i++ {
		if k, ok := l.Env.TakeFault(model.DC1, model.LDAP); !ok || k != model.FaultLDAPBusy {
			t.Fatalf("call %d after fault -n -1: %q, %v; want busy until cleared", i, k, ok)
		}
	}
	cli("latency", "-host", model.DC1, "-protocol", "ldap", "-delay", "250ms")
	if d := l.Env.Latency(model.DC1, model.LDAP); d != 250*time.Millisecond {
		t.Errorf("latency: %v, want 250ms", d)
	}
	if out := cli("clear", "-host", model.DC1); !strings.Contains(out, model.DC1) {
		t.Errorf("clear said %q", out)
	}
	if k, ok := l.Env.TakeFault(model.DC1, model.LDAP); ok || l.Env.Latency(model.DC1, model.LDAP) != 0 {
		t.Errorf("after clear: fault %q, latency %v", k, l.Env.Latency(model.DC1, model.LDAP))
	}

	cli("fault", "-host", model.SQLNetwork, "-protocol", "tds", "-kind", "login_failed", "-n", "1")
	if k, ok := l.Env.TakeSQLFault(model.SQLNetwork); !ok || k != model.FaultLoginFailed {
		t.Errorf("SQL fault: %q, %v", k, ok)
	}
	cli("fault", "-host", model.App1, "-protocol", "winrm", "-kind", "http503", "-n", "-1")
	cli("clear")
	if k, ok := l.Env.TakeFault(model.App1, model.WinRM); ok {
		t.Errorf("clear without -host left %q on %s", k, model.App1)
	}

	cli("cert", "-host", model.DC1, "-protocol", "ldap", "-flaw", "expired")
	cli("cert", "-host", model.App1, "-protocol", "winrm", "-flaw", "wrong_name")
	cli("cert", "-host", model.SQLNetwork, "-protocol", "tds", "-flaw", "unknown_ca")
	for _, c := range []model.CertificateFlaw{{Host: model.DC1, Protocol: model.LDAP, Flaw: labca.Expired},
		{Host: model.App1, Protocol: model.WinRM, Flaw: labca.WrongName}, {Host: model.SQLNetwork, Protocol: model.TDS, Flaw: labca.UnknownAuthority}} {
		if f := l.Env.CertificateFlawOf(c.Host, c.Protocol); f != c.Flaw {
			t.Errorf("cert on %s %s: the model has %q, want %q", c.Protocol, c.Host, f, c.Flaw)
		}
	}
	if out := cli("status"); !strings.Contains(out, "ldap "+model.Key(model.DC1)+": expired") || !strings.Contains(out, "tds "+model.Key(model.SQLNetwork)+": unknown_ca") {
		t.Errorf("status does not list the bad certificates:\n%s", out)
	}
	cli("cert", "-host", model.DC1, "-protocol", "ldap", "-flaw", "none")
	cli("clear", "-host", model.SQLNetwork)
	if f := l.Env.CertificateFlawOf(model.DC1, model.LDAP) + l.Env.CertificateFlawOf(model.SQLNetwork, model.TDS); f != "" {
		t.Errorf("cert -flaw none and clear left %q", f)
	}
	cli("clear")
	if f := l.Env.CertificateFlawOf(model.App1, model.WinRM); f != "" {
		t.Errorf("clear without -host left the %q certificate on %s", f, model.App1)
	}
	code, _, errOut := runCLI(t, "cert", "-host", model.DC1, "-protocol", "tds", "-flaw", "expired", "-dir", dir)
	if code != 1 || !strings.Contains(errOut, "TDS certificates belong to a network name") {
		t.Errorf("cert for tds on a DC: exit %d, %q", code, errOut)
	}

	cli("down", "-host", model.App2)
	if l.Env.Reachable(model.App2) {
		t.Errorf("%s is still reachable after down", model.App2)
	}
	if out := cli("status"); !strings.Contains(out, "down: "+model.App2) {
		t.Errorf("status does not show %s down:\n%s", model.App2, out)
	}
	cli("up", "-host", model.App2)
	if !l.Env.Reachable(model.App2) {
		t.Errorf("%s is not back after up", model.App2)
	}

	cli("backup", "-host", model.DC1, "-age", "30m")
	var host string
	var at time.Time
	_ = l.Env.Do(func(e *model.Env) error { host, at, _, _ = e.Domain.LastBackup(adnames.NCDomain); return nil })
	if host != model.DC1 || time.Since(at) < 29*time.Minute || time.Since(at) > 31*time.Minute {
		t.Errorf("latest backup of the domain NC: %s at %v, want %s 30 minutes ago", host, at, model.DC1)
	}

	// An account created here is one the lab's SQL Server finds (no Msg 15401).
	cli("account", "-name", `PRIV\svc-report`)
	cli("account", "-name", `priv.contoso.test\gmsa-report$`, "-gmsa")
	_ = l.Env.Do(func(e *model.Env) error {
		for _, sam := range []string{"svc-report", "gmsa-report$"} {
			if !e.HasAccount(e.Domain, sam) {
				t.Errorf("account: PRIV\\%s is not in the lab's directory", sam)
			}
		}
		return nil
	})
	code, _, errOut = runCLI(t, "account", "-name", "no-domain", "-dir", dir)
	if code != 2 || !strings.Contains(errOut, `-name must be DOMAIN\NAME`) {
		t.Errorf("account without a domain: exit %d, %q", code, errOut)
	}
	code, _, errOut = runCLI(t, "account", "-name", `NOPE\x`, "-dir", dir)
	if code != 1 || !strings.Contains(errOut, "no domain NOPE") {
		t.Errorf("account in an unknown domain: exit %d, %q", code, errOut)
	}

	code, _, errOut = runCLI(t, "down", "-host", "nope.priv.contoso.test", "-dir", dir)
	if code != 1 || !strings.Contains(errOut, `no host or SQL network name "nope.priv.contoso.test"`) {
		t.Errorf("down of an unknown host: exit %d, %q", code, errOut)
	}
}
