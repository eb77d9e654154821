package mim_test

import (
	"context"
	"errors"
	"strings"
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
	if err := mim.Install(ctx, c, model.App1, spec(l)); err != nil {
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
	if err := mim.Install(ctx, c, model.App1, spec(l)); err == nil || !strings.Contains(err.Error(), "already installed") {
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
	err := mim.Install(context.Background(), c, model.App1, s)
	var re *winrmexec.RemoteError
	if !errors.As(err, &re) || !strings.Contains(re.Message, "1603") {
		t.Fatalf("want msiexec 1603 as a remote error, got %v", err)
	}
}

// TestRefreshCost pins what one refresh of a MIM node costs: one WinRM script
// run, no LDAP, no TDS.
func TestRefreshCost(t *testing.T) {
	l, c := newLab(t)
	ctx := context.Background()
	if err := mim.Install(ctx, c, model.App1, spec(l)); err != nil {
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
	if err := mim.Install(ctx, c, model.App1, spec(l)); err != nil {
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
	if err := mim.Install(ctx, c, model.App1, spec(l)); err != nil {
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
