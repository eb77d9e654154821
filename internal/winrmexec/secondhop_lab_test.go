package winrmexec_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/bastion-pam/terraform-provider-bastion/internal/fci"
	"github.com/bastion-pam/terraform-provider-bastion/internal/lab"
	"github.com/bastion-pam/terraform-provider-bastion/internal/lab/model"
	"github.com/bastion-pam/terraform-provider-bastion/internal/mim"
	"github.com/bastion-pam/terraform-provider-bastion/internal/pam"
	"github.com/bastion-pam/terraform-provider-bastion/internal/scripts"
	"github.com/bastion-pam/terraform-provider-bastion/internal/transport"
	"github.com/bastion-pam/terraform-provider-bastion/internal/winrmexec"
)

// Every script whose step reaches a second machine fails from the WinRM
// session's network logon with the error Windows gives there, and succeeds
// the way the provider runs it: under the account's own logon (AsAccount,
// a one-shot scheduled task in the lab's model).

func secondHopLab(t *testing.T, opts lab.Options) (*lab.Lab, *winrmexec.Client) {
	t.Helper()
	opts.Dir = t.TempDir()
	l, err := lab.Start(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(l.Close)
	c, err := winrmexec.New(winrmexec.Config{
		HTTPS: true, Auth: "ntlm", Username: model.AdminUser, Password: l.Seed.AdminPassword,
		CACertPEM: l.CA.CertPEM(), ConnectTo: l.ConnectTo(), OperationTimeout: 30 * time.Second,
		Retry: transport.RetryPolicy{Attempts: 1},
	})
	if err != nil {
		t.Fatal(err)
	}
	return l, c
}

// wantHopRefused checks a network-logon run failed with Windows' message.
func wantHopRefused(t *testing.T, err error, typ, msg string) {
	t.Helper()
	var re *winrmexec.RemoteError
	if !errors.As(err, &re) {
		t.Fatalf("network logon: got %v, want %s", err, msg)
	}
	if !strings.Contains(re.Message, msg) || (typ != "" && re.Type != typ) {
		t.Fatalf("network logon: got %s: %s\nwant %s: ...%s...", re.Type, re.Message, typ, msg)
	}
}

// tasksLeft fails when a run-as task is still registered on host.
func tasksLeft(t *testing.T, l *lab.Lab, host string) {
	t.Helper()
	_ = l.Env.Do(func(e *model.Env) error {
		if n := len(e.Host(host).ScheduledTasks); n != 0 {
			t.Errorf("%s: %d run-as task(s) left registered", host, n)
		}
		return nil
	})
}

func TestSecondHopMIMInstall(t *testing.T) {
	l, c := secondHopLab(t, lab.Options{})
	ctx := context.Background()
	spec := mim.InstallSpec{
		InstallerPath: model.DefaultMIMMSIPath, ServiceAccount: model.MIMSvcUser, ServiceAccountPassword: l.Seed.MIMSvcPassword,
		SQLServer: model.SQLNetwork, SQLDatabase: "FIMService", ExternalHostName: model.MIMAlias, PAMComponents: true,
	}
	props, secrets, err := spec.MSIProperties()
	if err != nil {
		t.Fatal(err)
	}
	// App2 is not the SQL instance's owner node: the database is on another
	// machine. The installer ends with 1603; its log says why.
	in := map[string]any{"installer_path": spec.InstallerPath, "properties": props, "secret_properties": secrets, "log_tail_lines": mim.LogTailLines}
	var reply struct {
		ExitCode int    `json:"exit_code"`
		LogTail  string `json:"log_tail"`
	}
	if err := c.Run(ctx, model.App2, scripts.Get("mim_install"), in, &reply); err != nil {
		t.Fatal(err)
	}
	if reply.ExitCode != 1603 || !strings.Contains(reply.LogTail, `Login failed for user 'NT AUTHORITY\ANONYMOUS LOGON'.`) {
		t.Fatalf("network logon: exit code %d, log tail:\n%s", reply.ExitCode, reply.LogTail)
	}
	if _, err := mim.Install(ctx, c, model.App2, spec, nil); err != nil {
		t.Fatalf("as the provider runs it: %v", err)
	}
	tasksLeft(t, l, model.App2)
	runAsStarted(t, l, model.App2)

	// An installer on a UNC path is a second hop too.
	const unc = `\\priv-app1\sources\MIM\Service and Portal.msi`
	_ = l.Env.Do(func(e *model.Env) error { e.Host(model.App1).WriteFile(unc, []byte("simulated MSI")); return nil })
	in["installer_path"] = unc
	err = c.Run(ctx, model.App3, scripts.Get("mim_install"), in, &reply)
	wantHopRefused(t, err, "System.UnauthorizedAccessException", `Access to the path '`+unc+`' is denied.`)
}

func TestSecondHopSQLSetup(t *testing.T) {
	l, c := secondHopLab(t, lab.Options{NoSQL: true})
	_ = l.Env.Do(func(e *model.Env) error { e.Credentials[`priv\svc-sql`] = "Svc!Sql12345"; return nil })
	ctx := context.Background()
	params := map[string]any{
		"INSTANCENAME": "MSSQLSERVER", "FEATURES": "SQLENGINE", "FAILOVERCLUSTERNETWORKNAME": "PRIV-SQL",
		"FAILOVERCLUSTERIPADDRESSES": []string{"IPv4;10.0.0.50;Cluster Network 1;255.255.255.0"},
		"FAILOVERCLUSTERDISKS":       []string{"Cluster Disk 1"}, "INSTALLSQLDATADIR": `E:\`,
		"SQLSVCACCOUNT": `PRIV\svc-sql`, "SQLSVCPASSWORD": "Svc!Sql12345", "AGTSVCACCOUNT": `PRIV\gmsa-sqlagent$`,
		"SQLSYSADMINACCOUNTS": []string{`PRIV\Administrator`},
	}
	in := map[string]any{"media_path": model.DefaultSQLMediaPath, "action": "InstallFailoverCluster", "parameters": params}
	err := c.Run(ctx, model.App1, scripts.Get("sql_setup"), in, nil)
	wantHopRefused(t, err, "System.InvalidOperationException", "exit code -2067919940: The WMI service is not running on the cluster node.")
	if _, err := fci.Setup(ctx, c, model.App1, model.DefaultSQLMediaPath, "InstallFailoverCluster", params); err != nil {
		t.Fatalf("as the provider runs it: %v", err)
	}
	tasksLeft(t, l, model.App1)
	runAsStarted(t, l, model.App1)
}

// runAsStarted checks the lab recorded the run-as task's process on host,
// in the account's logon, with no secret on its command line.
func runAsStarted(t *testing.T, l *lab.Lab, host string) {
	t.Helper()
	found := false
	for _, p := range l.Env.ProcessStarts() {
		if p.Host == model.Key(host) && strings.Contains(p.CommandLine, `\\.\pipe\bastion-runas-`) {
			found = p.Account == `priv\administrator`
		}
	}
	if !found {
		t.Errorf("%s: no run-as task process recorded for PRIV\\Administrator", host)
	}
	if leaks := model.CommandLineLeaks(l.Env.ProcessStarts(), l.Env.Secrets()); len(leaks) != 0 {
		t.Errorf("secrets on recorded command lines: %+v", leaks)
	}
}

func TestSecondHopPAMTrust(t *testing.T) {
	l, c := secondHopLab(t, lab.Options{})
	ctx := context.Background()
	var corpPassword string
	_ = l.Env.Do(func(e *model.Env) error {
		// A MIM node with the PAM components: a member server, not a DC.
		e.Host(model.App1).WriteFile(model.MIMPAMModulePath, []byte("module"))
		corpPassword = e.Credentials[strings.ToLower(model.CorpAdminUser)]
		return nil
	})
	trust := pam.Trust{SourceForest: model.CorpDomainDNS, Corp: pam.Credential{Username: model.CorpAdminUser, Password: corpPassword}}
	base := map[string]any{"source_forest": model.CorpDomainDNS, "corp_username": model.CorpAdminUser, "corp_password": corpPassword}
	with := func(extra map[string]any) map[string]any {
		out := map[string]any{}
		for k, v := range base {
			out[k] = v
		}
		for k, v := range extra {
			out[k] = v
		}
		return out
	}
	const dsType, dsMsg = "System.DirectoryServices.DirectoryServicesCOMException", "An operations error occurred."

	err := c.Run(ctx, model.App1, scripts.Get("pam_trust_create"), with(map[string]any{"bidirectional": false}), nil)
	wantHopRefused(t, err, dsType, dsMsg)
	if _, err := pam.CreateTrust(ctx, c, model.App1, trust); err != nil {
		t.Fatalf("create as the provider runs it: %v", err)
	}

	settings := with(map[string]any{"bidirectional": false, "apply": false, "sid_history": false, "quarantine": false, "pim_trust": false, "verify": true})
	err = c.Run(ctx, model.App1, scripts.Get("pam_trust_settings"), settings, nil)
	wantHopRefused(t, err, dsType, dsMsg)
	r, err := pam.ApplySettings(ctx, c, model.App1, trust, pam.Settings{}, false, true)
	if err != nil || r.Verified == nil || !*r.Verified {
		t.Fatalf("settings as the provider runs them: %+v %v", r, err)
	}
	// Applying them reaches CORP's PDC too: LSA RPC under the explicit CORP
	// credential (a NEW_CREDENTIALS logon), which the CORP DC accepts; the
	// same call from the network logon is refused there (model.HopLSA).
	r, err = pam.ApplySettings(ctx, c, model.App1, trust, pam.Settings{SIDHistory: true, PIMTrust: true}, true, false)
	if err != nil || r.CorpTrustAttributes != 0x448 || strings.Join(r.SettingsChanged, " ") != "/EnableSIDHistory:yes /EnablePIMTrust:yes" {
		t.Fatalf("settings applied as the provider runs them: %+v %v", r, err)
	}

	err = c.Run(ctx, model.App1, scripts.Get("pam_trust_remove"), base, nil)
	wantHopRefused(t, err, dsType, dsMsg)
	if res, err := pam.RemoveTrust(ctx, c, model.App1, trust); err != nil || !res.Removed {
		t.Fatalf("remove as the provider runs it: %+v %v", res, err)
	}
	tasksLeft(t, l, model.App1)

	// On a PRIV DC the PRIV side is local: no second hop, no task needed.
	_ = l.Env.Do(func(e *model.Env) error {
		e.Host(model.DC1).WriteFile(model.MIMPAMModulePath, []byte("module"))
		return nil
	})
	if err := c.Run(ctx, model.DC1, scripts.Get("pam_trust_create"), with(map[string]any{"bidirectional": false}), nil); err != nil {
		t.Fatalf("on a DC from the network logon: %v", err)
	}
}

// Resource-based constrained delegation from the MIM node to the DC lets
// the network logon through, as Windows does for a target that lists the
// first host in msDS-AllowedToActOnBehalfOfOtherIdentity.
func TestSecondHopDelegation(t *testing.T) {
	l, _ := secondHopLab(t, lab.Options{})
	var corpPassword string
	_ = l.Env.Do(func(e *model.Env) error {
		e.Host(model.App1).WriteFile(model.MIMPAMModulePath, []byte("module"))
		corpPassword = e.Credentials[strings.ToLower(model.CorpAdminUser)]
		return nil
	})
	// The provider configured with winrm.second_hop = "delegation".
	d, err := winrmexec.New(winrmexec.Config{
		HTTPS: true, Auth: "ntlm", Username: model.AdminUser, Password: l.Seed.AdminPassword,
		CACertPEM: l.CA.CertPEM(), ConnectTo: l.ConnectTo(), Retry: transport.RetryPolicy{Attempts: 1},
		SecondHop: winrmexec.SecondHopDelegation,
	})
	if err != nil {
		t.Fatal(err)
	}
	trust := pam.Trust{SourceForest: model.CorpDomainDNS, Corp: pam.Credential{Username: model.CorpAdminUser, Password: corpPassword}}
	_, err = pam.CreateTrust(context.Background(), d, model.App1, trust)
	var re *winrmexec.RemoteError
	if !errors.As(err, &re) || re.Message != "An operations error occurred." {
		t.Fatalf("delegation chosen but not configured: %v", err)
	}
	for _, dc := range []string{model.DC1, model.DC2} {
		l.Env.AllowDelegation(dc, model.App1)
	}
	if _, err := pam.CreateTrust(context.Background(), d, model.App1, trust); err != nil {
		t.Fatalf("with RBCD on the DCs: %v", err)
	}
	tasksLeft(t, l, model.App1)
	for _, p := range l.Env.ProcessStarts() {
		if strings.Contains(p.CommandLine, "bastion-runas-") {
			t.Errorf("delegation chosen, yet a run-as task ran: %s", p.CommandLine)
		}
	}
}

// A wrong run-as password fails at the task's registration, as
// RegisterTaskDefinition checks it, and nothing runs.
func TestRunAsWrongPassword(t *testing.T) {
	l, _ := secondHopLab(t, lab.Options{})
	c, err := winrmexec.New(winrmexec.Config{
		HTTPS: true, Auth: "ntlm", Username: model.AdminUser, Password: l.Seed.AdminPassword,
		CACertPEM: l.CA.CertPEM(), ConnectTo: l.ConnectTo(), Retry: transport.RetryPolicy{Attempts: 1},
	})
	if err != nil {
		t.Fatal(err)
	}
	in := map[string]any{"installer_path": model.DefaultMIMMSIPath, "properties": map[string]string{},
		"run_as": map[string]string{"username": model.AdminUser, "password": "wrong"}}
	err = c.Run(context.Background(), model.App2, scripts.Get("mim_install"), in, nil)
	wantHopRefused(t, err, "System.Runtime.InteropServices.COMException", "The user name or password is incorrect.")
	tasksLeft(t, l, model.App2)
}
