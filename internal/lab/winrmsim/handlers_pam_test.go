package winrmsim

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/bastion-pam/terraform-provider-bastion/internal/lab/model"
)

// The handlers read their input as the scripts do under Set-StrictMode: a
// field the script reads must be sent.
func TestPAMHandlersNeedEveryField(t *testing.T) {
	env, _ := model.NewDefault(model.Seed{})
	in := map[string]any{"source_forest": model.CorpDomainDNS, "corp_username": model.CorpAdminUser, "corp_password": "x",
		"apply": false, "sid_history": true, "quarantine": false, "pim_trust": true, "verify": false}
	raw, _ := json.Marshal(in) // no "bidirectional"
	err := env.Do(func(e *model.Env) error {
		_, err := pamTrustSettings(e, e.Host(model.App1), adminBatch, raw)
		return err
	})
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
		raw, _ := json.Marshal(map[string]any{"source_forest": model.CorpDomainDNS, "corp_username": model.CorpAdminUser, "corp_password": password, "bidirectional": false})
		return env.Do(func(e *model.Env) error { _, err := pamTrustCreate(e, e.Host(model.App1), adminBatch, raw); return err })
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
