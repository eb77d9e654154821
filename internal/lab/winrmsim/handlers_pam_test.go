package winrmsim

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/bastion-pam/terraform-provider-bastion/internal/adnames"
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

// settingsInput is pam_trust_settings' input applying the given settings
// with the CORP credential.
func settingsInput(password string, sidHistory, quarantine, pimTrust bool) map[string]any {
	return map[string]any{"source_forest": model.CorpDomainDNS, "corp_username": model.CorpAdminUser, "corp_password": password,
		"apply": true, "sid_history": sidHistory, "quarantine": quarantine, "pim_trust": pimTrust, "verify": false, "bidirectional": false}
}

// runSettings runs pam_trust_settings on App1 in the administrator's batch
// logon and returns its reply.
func runSettings(env *model.Env, in map[string]any) (map[string]any, error) {
	raw, err := json.Marshal(in)
	if err != nil {
		return nil, err
	}
	var out map[string]any
	err = env.Do(func(e *model.Env) error {
		reply, err := pamTrustSettings(e, e.Host(model.App1), adminBatch, raw)
		if err != nil {
			return err
		}
		b, err := json.Marshal(reply)
		if err != nil {
			return err
		}
		return json.Unmarshal(b, &out)
	})
	return out, err
}

// pamSettingsLab is a lab with a new PAM trust (CORP side 0x8, outbound)
// and the CORP administrator's password.
func pamSettingsLab(t *testing.T) (*model.Env, string) {
	t.Helper()
	env, _ := model.NewDefault(model.Seed{})
	var pw string
	if err := env.Do(func(e *model.Env) error {
		pw = e.Credentials[strings.ToLower(model.CorpAdminUser)]
		e.Host(model.App1).WriteFile(model.MIMPAMModulePath, []byte("module"))
		return e.NewPAMTrust(e.Forests[model.CorpDomainDNS], false)
	}); err != nil {
		t.Fatal(err)
	}
	return env, pw
}

// lsaSets are the LsaSetTrustedDomainInfoByName calls the lab recorded.
func lsaSets(env *model.Env) []model.Event {
	var sets []model.Event
	for _, ev := range env.Events() {
		if ev.Kind == "lsa-trust-set" {
			sets = append(sets, ev)
		}
	}
	return sets
}

// The settings that differ change with one LsaSetTrustedDomainInfoByName on
// CORP's PDC under the CORP account; no process starts, so no command line
// could hold the CORP password, which the lab notes as a secret for the
// command-line scans. A second run finds nothing to change and makes no call.
func TestPAMTrustSettingsOneLSASet(t *testing.T) {
	env, pw := pamSettingsLab(t)
	out, err := runSettings(env, settingsInput(pw, true, false, true))
	if err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(out["settings_changed"]); got != "[/EnableSIDHistory:yes /EnablePIMTrust:yes]" {
		t.Fatalf("settings_changed = %s", got)
	}
	if got := out["corp_trust_attributes"]; got != float64(0x448) {
		t.Fatalf("corp_trust_attributes = %v, want 0x448", got)
	}
	sets := lsaSets(env)
	if len(sets) != 1 || sets[0].Host != model.CorpDC1 || !strings.Contains(sets[0].Detail, `on \\`+model.CorpDC1+` as corp\administrator`) ||
		!strings.Contains(sets[0].Detail, "0x8 -> 0x448") {
		t.Fatalf("LSA sets %+v, want one on %s as the CORP account, 0x8 -> 0x448", sets, model.CorpDC1)
	}
	if starts := env.ProcessStarts(); len(starts) != 0 {
		t.Fatalf("processes started: %+v", starts)
	}
	if !slices.Contains(env.Secrets(), pw) {
		t.Fatal("the CORP password is not among the secrets the scans look for")
	}
	out, err = runSettings(env, settingsInput(pw, true, false, true))
	if err != nil || fmt.Sprint(out["settings_changed"]) != "[]" || len(lsaSets(env)) != 1 {
		t.Fatalf("second run: %v %v, %d sets", out, err, len(lsaSets(env)))
	}
	// Clearing and setting in one call.
	if out, err = runSettings(env, settingsInput(pw, false, true, true)); err != nil || fmt.Sprint(out["settings_changed"]) != "[/EnableSIDHistory:no /Quarantine:yes]" {
		t.Fatalf("third run: %v %v", out, err)
	}
	if sets := lsaSets(env); len(sets) != 2 || !strings.Contains(sets[1].Detail, "0x448 -> 0x40C") {
		t.Fatalf("LSA sets %+v", sets)
	}
}

// What the CORP PDC refuses comes back as the script throws it: the LSA
// call, the DC, the account, and LsaNtStatusToWinError's error and message.
// A wrong password never gets there: the LDAP bind with the same credential
// (DirectoryContext) refuses it first. Nothing is written either way.
func TestPAMTrustSettingsLSAFailures(t *testing.T) {
	env, pw := pamSettingsLab(t)
	_ = env.Do(func(e *model.Env) error { e.Credentials[`corp\jdoe`] = "Pa55word!"; return nil })
	_, err := runSettings(env, settingsInput(pw+"x", true, false, true))
	var se *ScriptError
	if !errors.As(err, &se) || se.Type != "System.Security.Authentication.AuthenticationException" || se.Message != "The user name or password is incorrect." {
		t.Errorf("wrong password: %v", err)
	}
	in := settingsInput("Pa55word!", true, false, true)
	in["corp_username"] = `CORP\jdoe`
	want := `LsaOpenPolicy on \\` + model.CorpDC1 + ` as CORP\jdoe failed with error 5: Access is denied.`
	if _, err := runSettings(env, in); !errors.As(err, &se) || se.Type != "System.ComponentModel.Win32Exception" || se.Message != want {
		t.Errorf("no rights on CORP: %v, want Win32Exception %q", err, want)
	}
	if sets := lsaSets(env); len(sets) != 0 {
		t.Fatalf("a refused run changed the TDO: %+v", sets)
	}
}

// netdom's checks, kept as the script's own: the TDO must exist,
// TREAT_AS_EXTERNAL only on the outbound side of a forest trust, PIM_TRUST
// only on a forest trust (MS-ADTS 6.1.6.7.9). Nothing is written.
func TestPAMTrustSettingsPreChecks(t *testing.T) {
	env, pw := pamSettingsLab(t)
	corpSide := func(f func(*model.Trust)) {
		_ = env.Do(func(e *model.Env) error { _, c := e.PAMTrustSides(e.Forests[model.CorpDomainDNS]); f(c); return nil })
	}
	corpSide(func(c *model.Trust) { c.Direction = adnames.TrustDirectionInbound })
	_, err := runSettings(env, settingsInput(pw, true, false, false))
	var se *ScriptError
	if !errors.As(err, &se) || se.Type != "System.InvalidOperationException" || !strings.Contains(se.Message, "valid only on the outbound side of a forest-transitive trust (MS-ADTS 6.1.6.7.9)") {
		t.Fatalf("SID history on an inbound side: %v", err)
	}
	corpSide(func(c *model.Trust) { c.Direction, c.Attributes = adnames.TrustDirectionOutbound, 0 })
	if _, err := runSettings(env, settingsInput(pw, false, false, true)); !errors.As(err, &se) || !strings.Contains(se.Message, "needs TRUST_ATTRIBUTE_FOREST_TRANSITIVE") {
		t.Fatalf("PIM trust on a non-forest trust: %v", err)
	}
	if sets := lsaSets(env); len(sets) != 0 {
		t.Fatalf("a refused change was written: %+v", sets)
	}
	_ = env.Do(func(e *model.Env) error { e.RemovePAMTrust(e.Forests[model.CorpDomainDNS]); return nil })
	want := `LsaQueryTrustedDomainInfoByName(` + model.DomainDNS + `) on \\` + model.CorpDC1 + ` as ` + model.CorpAdminUser +
		` failed with error 2: The system cannot find the file specified.`
	if _, err := runSettings(env, settingsInput(pw, true, false, true)); !errors.As(err, &se) || se.Type != "System.ComponentModel.Win32Exception" || !strings.HasPrefix(se.Message, want) {
		t.Fatalf("no TDO: %v, want %q", err, want)
	}
}
