package mim_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bastion-pam/terraform-provider-bastion/internal/lab"
	"github.com/bastion-pam/terraform-provider-bastion/internal/lab/model"
	"github.com/bastion-pam/terraform-provider-bastion/internal/mim"
	"github.com/bastion-pam/terraform-provider-bastion/internal/transport"
	"github.com/bastion-pam/terraform-provider-bastion/internal/winrmexec"
)

func newLab(t testing.TB) (*lab.Lab, *winrmexec.Client) {
	t.Helper()
	l, err := lab.Start(lab.Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(l.Close)
	c, err := winrmexec.New(winrmexec.Config{
		HTTPS: true, Auth: "ntlm", Username: model.AdminUser, Password: l.Seed.AdminPassword,
		CACertPEM: l.CA.CertPEM(), ConnectTo: l.ConnectTo(), MaxConcurrencyPerHost: 4,
		OperationTimeout: 30 * time.Second, Retry: transport.RetryPolicy{Attempts: 3, Initial: 10 * time.Millisecond, Max: 50 * time.Millisecond},
	})
	if err != nil {
		t.Fatal(err)
	}
	return l, c
}

func spec(l *lab.Lab) mim.InstallSpec {
	return mim.InstallSpec{
		InstallerPath: model.DefaultMIMMSIPath, ServiceAccount: model.MIMSvcUser, ServiceAccountPassword: l.Seed.MIMSvcPassword,
		SQLServer: model.SQLNetwork, SQLDatabase: "FIMService", ExternalHostName: model.MIMAlias, PAMComponents: true,
	}
}

func TestNodeLifecycleAgainstLab(t *testing.T) {
	l, c := newLab(t)
	ctx := context.Background()
	n, err := mim.Read(ctx, c, model.App1)
	if err != nil {
		t.Fatal(err)
	}
	if n.Installed {
		t.Fatal("fresh server reads as installed")
	}
	if _, err := mim.Install(ctx, c, model.App1, spec(l), nil); err != nil {
		t.Fatal(err)
	}
	n, err = mim.Read(ctx, c, model.App1)
	if err != nil {
		t.Fatal(err)
	}
	if !n.Installed || n.ConfigPath != model.MIMConfigPath || !n.PAMComponents() || n.DatabaseServer != model.SQLNetwork || n.LogonAccount != model.MIMSvcUser {
		t.Fatalf("after install: %+v", n)
	}
	if n.Effective.ServiceName != "PRIV-APP1" || n.Effective.ServicePartitionName != strings.ToUpper(model.MIMAlias) {
		t.Fatalf("defaults: %+v", n.Effective)
	}
	changed, err := mim.WriteNames(ctx, c, model.App1, n, mim.Names{ServiceName: "NODE-A", ServicePartitionName: "pam"}, true)
	if err != nil || !changed {
		t.Fatalf("WriteNames: changed=%v err=%v", changed, err)
	}
	// A second writer holding the old read must be refused: the file changed under it.
	if _, err := mim.WriteNames(ctx, c, model.App1, n, mim.Names{ServiceName: "OTHER"}, false); err == nil || !strings.Contains(err.Error(), "changed since it was read") {
		t.Fatalf("stale write not refused: %v", err)
	}
	n, _ = mim.Read(ctx, c, model.App1)
	if n.Effective.ServiceName != "NODE-A" || n.Effective.ServicePartitionName != "PAM" {
		t.Fatalf("names after write: %+v", n.Effective)
	}
	if _, err := mim.Install(ctx, c, model.App1, spec(l), nil); err == nil || !strings.Contains(err.Error(), "already installed") {
		t.Fatalf("second install: %v", err)
	}
	removed, err := mim.Uninstall(ctx, c, model.App1)
	if err != nil || !removed {
		t.Fatalf("uninstall: removed=%v err=%v", removed, err)
	}
	removed, err = mim.Uninstall(ctx, c, model.App1)
	if err != nil || removed {
		t.Fatalf("uninstall of an absent product must succeed with removed=false: removed=%v err=%v", removed, err)
	}
	if r := l.Env.Rejected(); len(r) != 0 {
		t.Fatalf("lab rejected scripts: %+v", r)
	}
}

func TestInstallWithWrongPasswordFails(t *testing.T) {
	l, c := newLab(t)
	s := spec(l)
	s.ServiceAccountPassword = "wrong"
	_, err := mim.Install(context.Background(), c, model.App1, s, nil)
	var ie *mim.InstallError
	if !errors.As(err, &ie) || ie.Code != mim.ExitInstallFailure {
		t.Fatalf("want exit code 1603 as an *mim.InstallError, got %v", err)
	}
	// The log's tail explains the failure, with the password redacted.
	if !strings.Contains(ie.LogTail, "could not be verified") || !strings.Contains(ie.LogTail, "MainEngineThread is returning 1603") {
		t.Errorf("log tail does not explain the failure:\n%s", ie.LogTail)
	}
	if strings.Contains(err.Error(), "wrong") || !strings.Contains(ie.LogTail, "SERVICE_ACCOUNT_PASSWORD= ********") {
		t.Errorf("log tail shows the password or hides its redaction:\n%s", ie.LogTail)
	}
	assertNoSecretLeft(t, l, "wrong")
}

// assertNoSecretLeft: no process command line holds a secret, and no file
// left on the server (the private log folder is gone) holds secret.
func assertNoSecretLeft(t *testing.T, l *lab.Lab, secret string) {
	t.Helper()
	secrets := append(l.Env.Secrets(), secret)
	if leaks := model.CommandLineLeaks(l.Env.ProcessStarts(), secrets); len(leaks) != 0 {
		t.Errorf("%d secrets on process command lines: %+v", len(leaks), leaks[0].Process)
	}
	_ = l.Env.Do(func(e *model.Env) error {
		for path, b := range e.Host(model.App1).Files {
			if strings.Contains(path, "bastion-msi-") || strings.Contains(string(b), secret) {
				t.Errorf("file %s left on the server", path)
			}
		}
		return nil
	})
}

// The feature names are the package's: FIMService is a service, not a
// feature, and the lab's installer fails on it as Windows Installer does.
func TestInstallRefusesUnknownFeature(t *testing.T) {
	l, c := newLab(t)
	props, secrets, err := spec(l).MSIProperties()
	if err != nil {
		t.Fatal(err)
	}
	if props["ADDLOCAL"] != "CommonServices,PAMServices" || props["ACCEPT_EULA"] != "1" || secrets["SERVICE_ACCOUNT_PASSWORD"] != l.Seed.MIMSvcPassword {
		t.Fatalf("properties: %v", props)
	}
	if _, ok := props["SERVICE_ACCOUNT_PASSWORD"]; ok {
		t.Fatal("the password is among the plain properties")
	}
	props["ADDLOCAL"] = "CommonServices,FIMService"
	_ = l.Env.Do(func(e *model.Env) error {
		code, _, log := e.RunMIMInstaller(e.Host(model.App1), model.DefaultMIMMSIPath, props)
		if code != 1603 || !strings.Contains(strings.Join(log, "\n"), "Feature name ('FIMService') not found") {
			t.Errorf("ADDLOCAL with FIMService: exit %d, log %q", code, log)
		}
		props["ADDLOCAL"] = "CommonServices"
		props["SERVICE_ACOUNT_NAME"] = "typo"
		if code, _, _ := e.RunMIMInstaller(e.Host(model.App1), model.DefaultMIMMSIPath, props); code != 1603 {
			t.Errorf("a misspelt property: exit %d, want 1603", code)
		}
		delete(props, "SERVICE_ACOUNT_NAME")
		delete(props, "ACCEPT_EULA")
		if code, _, _ := e.RunMIMInstaller(e.Host(model.App1), model.DefaultMIMMSIPath, props); code != 1603 {
			t.Errorf("without ACCEPT_EULA: exit %d, want 1603", code)
		}
		return nil
	})
	_ = c
}

// 1618 is waited out; the install then succeeds.
func TestInstallWaitsOutAnotherInstallation(t *testing.T) {
	l, c := newLab(t)
	defer func(d time.Duration) { mim.InstallerBusyWait = d }(mim.InstallerBusyWait)
	mim.InstallerBusyWait = 20 * time.Millisecond
	if err := l.Env.SetInstallerBusy(model.App1, 2); err != nil {
		t.Fatal(err)
	}
	var messages []string
	res, err := mim.Install(context.Background(), c, model.App1, spec(l), func(msg string, _ map[string]any) { messages = append(messages, msg) })
	if err != nil || res.Attempts != 3 || res.RebootRequired {
		t.Fatalf("Install after two 1618s: %+v, %v", res, err)
	}
	if n := strings.Count(strings.Join(messages, "\n"), "another installation is in progress"); n != 2 {
		t.Errorf("progress told of %d waits, want 2: %q", n, messages)
	}
	assertNoSecretLeft(t, l, l.Seed.MIMSvcPassword)
}

// 1618 until the timeout: the error says so and carries the exit code.
func TestInstallBusyUntilTimeout(t *testing.T) {
	l, c := newLab(t)
	defer func(d time.Duration) { mim.InstallerBusyWait = d }(mim.InstallerBusyWait)
	// The deadline ends while Install waits after a 1618, never during a
	// script run: the wait is long, and the deadline passes when the first
	// 1618 is reported.
	mim.InstallerBusyWait = time.Hour
	_ = l.Env.SetInstallerBusy(model.App1, 1000)
	ctx := &deadlineAt{Context: context.Background(), done: make(chan struct{})}
	_, err := mim.Install(ctx, c, model.App1, spec(l), func(msg string, _ map[string]any) {
		if strings.Contains(msg, "(1618)") {
			ctx.pass()
		}
	})
	var ie *mim.InstallError
	if !errors.Is(err, context.DeadlineExceeded) || !errors.As(err, &ie) || ie.Code != mim.ExitAlreadyRunning {
		t.Fatalf("want the deadline and exit code 1618, got %v", err)
	}
}

// 3010: installed, and the caller is told a restart is pending.
func TestInstallRebootRequired(t *testing.T) {
	l, c := newLab(t)
	_ = l.Env.SetInstallRebootRequired(model.App1, true)
	res, err := mim.Install(context.Background(), c, model.App1, spec(l), nil)
	if err != nil || !res.RebootRequired {
		t.Fatalf("3010: %+v, %v", res, err)
	}
	n, err := mim.Read(context.Background(), c, model.App1)
	if err != nil || !n.Installed {
		t.Fatalf("after 3010 the product is installed: %+v, %v", n, err)
	}
}

// TestRefreshCost pins what one refresh of a MIM node costs: one WinRM script
// run, no LDAP, no TDS.
func TestRefreshCost(t *testing.T) {
	l, c := newLab(t)
	ctx := context.Background()
	if _, err := mim.Install(ctx, c, model.App1, spec(l), nil); err != nil {
		t.Fatal(err)
	}
	l.Env.ResetCounters()
	if _, err := mim.Read(ctx, c, model.App1); err != nil {
		t.Fatal(err)
	}
	got := map[string]int{model.WinRM: l.Env.CallCount(model.WinRM, ""), model.LDAP: l.Env.CallCount(model.LDAP, ""), model.TDS: l.Env.CallCount(model.TDS, "")}
	want := map[string]int{model.WinRM: 1, model.LDAP: 0, model.TDS: 0}
	for p, n := range want {
		if got[p] != n {
			t.Errorf("refresh of one MIM node: %d %s calls, want %d", got[p], p, n)
		}
	}
	t.Logf("refresh of one MIM node: %v remote calls (WinRM script runs / LDAP operations / TDS batches)", got)
}

func BenchmarkRefresh(b *testing.B) {
	l, c := newLab(b)
	ctx := context.Background()
	if _, err := mim.Install(ctx, c, model.App1, spec(l), nil); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := mim.Read(ctx, c, model.App1); err != nil {
			b.Fatal(err)
		}
	}
}

// A node reads when each service last started; a restart moves FIMService's
// time past a SQL Server instance that came online after the install.
func TestServiceStartTimesAgainstLab(t *testing.T) {
	l, c := newLab(t)
	ctx := context.Background()
	if _, err := mim.Install(ctx, c, model.App1, spec(l), nil); err != nil {
		t.Fatal(err)
	}
	n, err := mim.Read(ctx, c, model.App1)
	if err != nil {
		t.Fatal(err)
	}
	installed := n.Services[mim.ServiceFIM].StartedAt
	if installed.IsZero() || installed.Location() != time.UTC || n.Services[mim.ServicePAMMonitoring].StartedAt.IsZero() {
		t.Fatalf("start times after install: %+v", n.Services)
	}
	sqlOnline := time.Now()
	if !n.StartedBefore(sqlOnline) || n.StartedBefore(installed.Add(-time.Second)) || n.StartedBefore(time.Time{}) {
		t.Fatalf("StartedBefore disagrees with FIMService's start at %v", installed)
	}
	if _, err := mim.ControlServices(ctx, c, model.App1, "stop", mim.ServicePAMComponent); err != nil {
		t.Fatal(err)
	}
	if _, err := mim.ControlServices(ctx, c, model.App1, "restart", mim.ServiceFIM); err != nil {
		t.Fatal(err)
	}
	if n, err = mim.Read(ctx, c, model.App1); err != nil {
		t.Fatal(err)
	}
	if n.StartedBefore(sqlOnline) || !n.Services[mim.ServicePAMComponent].StartedAt.IsZero() {
		t.Fatalf("after restarting FIMService and stopping the PAM Component service: %+v", n.Services)
	}
}

// deadlineAt is a context whose deadline passes when the test says so.
type deadlineAt struct {
	context.Context
	done chan struct{}
	once sync.Once
}

func (c *deadlineAt) pass()                 { c.once.Do(func() { close(c.done) }) }
func (c *deadlineAt) Done() <-chan struct{} { return c.done }
func (c *deadlineAt) Err() error {
	select {
	case <-c.done:
		return context.DeadlineExceeded
	default:
		return nil
	}
}
