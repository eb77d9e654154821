package winrmsim

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/bastion-pam/terraform-provider-bastion/internal/lab/model"
)

// runPAM runs a PAM script's handler on App1 in the administrator's batch
// logon, with in as its JSON input.
func runPAM(env *model.Env, h SessionHandler, in map[string]any) error {
	raw, err := json.Marshal(in)
	if err != nil {
		return err
	}
	return env.Do(func(e *model.Env) error {
		_, err := h(e, e.Host(model.App1), adminBatch, raw)
		return err
	})
}

// The handlers read their input as the scripts do under Set-StrictMode: a
// field the script reads must be sent.
func TestPAMHandlersNeedEveryField(t *testing.T) {
	env, _ := model.NewDefault(model.Seed{})
	in := map[string]any{"source_forest": model.CorpDomainDNS, "corp_username": model.CorpAdminUser, "corp_password": "x",
		"apply": false, "sid_history": true, "quarantine": false, "pim_trust": true, "verify": false}
	err := runPAM(env, pamTrustSettings, in) // no "bidirectional"
	var se *ScriptError
	if !errors.As(err, &se) || se.ID != "PropertyNotFoundStrict" || !strings.Contains(se.Message, "'bidirectional'") {
		t.Fatalf("missing field: %v", err)
	}
}

// A script reaching New-PAMTrust on a host without the PAM components fails
// at Import-Module, as on Windows; a wrong CORP password fails before any change.
func TestPAMTrustCreateFailures(t *testing.T) {
	env, _ := model.NewDefault(model.Seed{})
	var pw string
	_ = env.Do(func(e *model.Env) error { pw = e.Credentials[strings.ToLower(model.CorpAdminUser)]; return nil })
	run := func(password string) error {
		return runPAM(env, pamTrustCreate, map[string]any{"source_forest": model.CorpDomainDNS, "corp_username": model.CorpAdminUser, "corp_password": password, "bidirectional": false})
	}
	var se *ScriptError
	if err := run(pw); !errors.As(err, &se) || se.ID != "Modules_ModuleNotFound,Microsoft.PowerShell.Commands.ImportModuleCommand" {
		t.Fatalf("no MIMPAM module: %v", err)
	}
	_ = env.Do(func(e *model.Env) error {
		e.Host(model.App1).WriteFile(model.MIMPAMModulePath, []byte("module"))
		return nil
	})
	if err := run(pw + "x"); !errors.As(err, &se) || !strings.HasSuffix(se.Type, "AuthenticationException") {
		t.Fatalf("wrong password: %v", err)
	}
	_ = env.Do(func(e *model.Env) error {
		if p, c := e.PAMTrustSides(e.Forests[model.CorpDomainDNS]); p != nil || c != nil {
			t.Error("a failed create left a trust")
		}
		return nil
	})
	if err := run(pw); err != nil {
		t.Fatal(err)
	}
}

// netdom runs under the CORP account as its network logon only: the lab
// records its process with the command line the script builds, which holds
// the domain names and the option but no credential, and notes the CORP
// password as a secret so the command-line scans look for it.
func TestPAMTrustSettingsNetdomCommandLine(t *testing.T) {
	env, _ := model.NewDefault(model.Seed{})
	var pw string
	_ = env.Do(func(e *model.Env) error {
		pw = e.Credentials[strings.ToLower(model.CorpAdminUser)]
		e.Host(model.App1).WriteFile(model.MIMPAMModulePath, []byte("module"))
		model.InstallADDSTools(e.Host(model.App1))
		return e.NewPAMTrust(e.Forests[model.CorpDomainDNS], false)
	})
	if err := runPAM(env, pamTrustSettings, map[string]any{"source_forest": model.CorpDomainDNS, "corp_username": model.CorpAdminUser, "corp_password": pw,
		"apply": true, "sid_history": true, "quarantine": false, "pim_trust": true, "verify": false, "bidirectional": false}); err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, p := range env.ProcessStarts() {
		if strings.Contains(p.CommandLine, "netdom.exe") {
			if p.Account != adminBatch.Account {
				t.Errorf("netdom ran as %q, want the script's own account %q (the CORP account is its network logon only)", p.Account, adminBatch.Account)
			}
			lines = append(lines, p.CommandLine)
		}
	}
	want := []string{
		`"C:\Windows\system32\netdom.exe" trust "` + model.CorpDomainDNS + `" /domain:"` + model.DomainDNS + `" /EnableSIDHistory:yes`,
		`"C:\Windows\system32\netdom.exe" trust "` + model.CorpDomainDNS + `" /domain:"` + model.DomainDNS + `" /EnablePIMTrust:yes`,
	}
	if strings.Join(lines, "\n") != strings.Join(want, "\n") {
		t.Fatalf("netdom command lines:\n%s\nwant:\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}
	secrets := env.Secrets()
	if !slices.Contains(secrets, pw) {
		t.Fatal("the CORP password is not among the secrets the scans look for")
	}
	if leaks := model.CommandLineLeaks(env.ProcessStarts(), secrets); len(leaks) > 0 {
		t.Fatalf("a secret is on %q", leaks[0].Process.CommandLine)
	}
	// The scan would see a password put back on netdom's command line.
	leaky := append(env.ProcessStarts(), model.ProcessStart{CommandLine: want[0] + " /passwordo:" + pw})
	if len(model.CommandLineLeaks(leaky, secrets)) != 1 {
		t.Fatal("CommandLineLeaks missed a password on netdom's command line")
	}
}

// With the Secondary Logon service disabled (a hardening baseline's choice),
// CreateProcessWithLogonW fails with ERROR_SERVICE_DISABLED and netdom never
// starts.
func TestPAMTrustSettingsSecondaryLogonDisabled(t *testing.T) {
	env, _ := model.NewDefault(model.Seed{})
	var pw string
	_ = env.Do(func(e *model.Env) error {
		pw = e.Credentials[strings.ToLower(model.CorpAdminUser)]
		h := e.Host(model.App1)
		h.WriteFile(model.MIMPAMModulePath, []byte("module"))
		model.InstallADDSTools(h)
		h.Services[model.Key(model.SecondaryLogonService)] = &model.Service{Name: model.SecondaryLogonService, DisplayName: "Secondary Logon", Status: "Stopped", StartType: "Disabled"}
		return e.NewPAMTrust(e.Forests[model.CorpDomainDNS], false)
	})
	err := runPAM(env, pamTrustSettings, map[string]any{"source_forest": model.CorpDomainDNS, "corp_username": model.CorpAdminUser, "corp_password": pw,
		"apply": true, "sid_history": true, "quarantine": false, "pim_trust": true, "verify": false, "bidirectional": false})
	var se *ScriptError
	if !errors.As(err, &se) || se.Type != "System.ComponentModel.Win32Exception" || !strings.Contains(se.Message, "disabled") {
		t.Fatalf("seclogon disabled: %v", err)
	}
	for _, p := range env.ProcessStarts() {
		if strings.Contains(p.CommandLine, "netdom.exe") {
			t.Fatalf("netdom started although CreateProcessWithLogonW failed: %q", p.CommandLine)
		}
	}
}
