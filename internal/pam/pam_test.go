package pam

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/bastion-pam/terraform-provider-bastion/internal/adnames"
	"github.com/bastion-pam/terraform-provider-bastion/internal/testsupport/fakerunner"
	"github.com/bastion-pam/terraform-provider-bastion/internal/transport"
	"github.com/bastion-pam/terraform-provider-bastion/internal/winrmexec"
)

var trust = Trust{SourceForest: "corp.contoso.com.", Corp: Credential{Username: `CORP\admin`, Password: "p@ss"}, Bidirectional: true}

func TestScriptInputs(t *testing.T) {
	ctx := context.Background()
	for _, c := range []struct {
		name, script string
		call         func(*fakerunner.Runner) error
		want         map[string]any
		idempotent   bool
		asAccount    bool
	}{
		{"create", "pam_trust_create", func(f *fakerunner.Runner) error { _, err := CreateTrust(ctx, f, "h", trust); return err },
			map[string]any{"source_forest": "corp.contoso.com", "corp_username": `CORP\admin`, "corp_password": "p@ss", "bidirectional": true}, false, true},
		{"settings apply", "pam_trust_settings", func(f *fakerunner.Runner) error {
			_, err := ApplySettings(ctx, f, "h", trust, Settings{SIDHistory: true, PIMTrust: true}, true, false)
			return err
		}, map[string]any{"source_forest": "corp.contoso.com", "corp_username": `CORP\admin`, "corp_password": "p@ss", "bidirectional": true,
			"apply": true, "sid_history": true, "quarantine": false, "pim_trust": true, "verify": false}, false, true},
		{"settings read only", "pam_trust_settings", func(f *fakerunner.Runner) error {
			_, err := ApplySettings(ctx, f, "h", trust, Settings{}, false, true)
			return err
		}, map[string]any{"source_forest": "corp.contoso.com", "corp_username": `CORP\admin`, "corp_password": "p@ss", "bidirectional": true,
			"apply": false, "sid_history": false, "quarantine": false, "pim_trust": false, "verify": true}, true, true},
		{"remove", "pam_trust_remove", func(f *fakerunner.Runner) error { _, err := RemoveTrust(ctx, f, "h", trust); return err },
			map[string]any{"source_forest": "corp.contoso.com", "corp_username": `CORP\admin`, "corp_password": "p@ss"}, false, true},
		{"domain set", "pam_domain_configuration_set", func(f *fakerunner.Runner) error {
			_, err := SetDomainConfiguration(ctx, f, "h", DomainConfiguration{SourceDomain: "CORP", Corp: trust.Corp})
			return err
		}, map[string]any{"source_domain": "CORP", "corp_username": `CORP\admin`, "corp_password": "p@ss"}, false, false},
		{"domain test", "pam_domain_configuration_test", func(f *fakerunner.Runner) error {
			_, err := TestDomainConfiguration(ctx, f, "h", DomainConfiguration{SourceDomain: "CORP", Corp: trust.Corp})
			return err
		}, map[string]any{"source_domain": "CORP", "corp_username": `CORP\admin`, "corp_password": "p@ss"}, true, false},
		{"domain remove", "pam_domain_configuration_remove", func(f *fakerunner.Runner) error {
			_, err := RemoveDomainConfiguration(ctx, f, "h", DomainConfiguration{SourceDomain: "CORP", Corp: trust.Corp})
			return err
		}, map[string]any{"source_domain": "CORP", "corp_username": `CORP\admin`, "corp_password": "p@ss"}, false, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			// Test-PAMDomainConfiguration's String answer; the other scripts' readers ignore it.
			f := &fakerunner.Runner{Reply: `{"output":"True","output_type":"System.String"}`}
			if err := c.call(f); err != nil {
				t.Fatal(err)
			}
			if f.Script != c.script || !reflect.DeepEqual(f.Input, c.want) {
				t.Errorf("ran %s with %v, want %s with %v", f.Script, f.Input, c.script, c.want)
			}
			if f.Flags.Idempotent != c.idempotent || f.Flags.AsAccount != c.asAccount {
				t.Errorf("run options %+v, want idempotent %v, as account %v", f.Flags, c.idempotent, c.asAccount)
			}
		})
	}
}

func TestReplies(t *testing.T) {
	ctx := context.Background()
	f := &fakerunner.Runner{Reply: `{"priv_forest":"priv.contoso.com","corp_side_present":true,"corp_trust_direction":2,"corp_trust_attributes":1096,"settings_changed":["/EnableSIDHistory:yes","/EnablePIMTrust:yes"],"verified":true}`}
	r, err := ApplySettings(ctx, f, "h", trust, Settings{}, false, true)
	if err != nil {
		t.Fatal(err)
	}
	if r.PrivForest != "priv.contoso.com" || !r.CorpSidePresent || r.CorpTrustDirection != 2 || r.CorpTrustAttributes != 0x448 ||
		r.Verified == nil || !*r.Verified || !r.Has(adnames.TrustAttrPIMTrust) || r.Has(adnames.TrustAttrQuarantinedDomain) ||
		strings.Join(r.SettingsChanged, " ") != "/EnableSIDHistory:yes /EnablePIMTrust:yes" {
		t.Errorf("reply = %+v", r)
	}
	f.Reply = `{"corp_trust_attributes":-1}`
	if r, _ := ApplySettings(ctx, f, "h", trust, Settings{}, false, false); r.CorpTrustAttributes != 0 || r.Verified != nil || len(r.SettingsChanged) != 0 {
		t.Errorf("out-of-range attributes = %+v", r)
	}
	f.Reply = `{"repaired_half_trust":true}`
	if repaired, err := CreateTrust(ctx, f, "h", trust); err != nil || !repaired {
		t.Errorf("CreateTrust = %v, %v", repaired, err)
	}
	f.Reply = `{"removed":true,"corp_side_removed":false}`
	if got, err := RemoveTrust(ctx, f, "h", trust); err != nil || got != (RemoveResult{Removed: true}) {
		t.Errorf("RemoveTrust = %+v, %v", got, err)
	}
}

func TestErrorsClassified(t *testing.T) {
	remote := func(typ, msg string) error {
		return &winrmexec.RemoteError{Host: "h", Script: "s", Type: typ, Message: msg}
	}
	for _, c := range []struct {
		err  error
		want error
	}{
		{remote("System.Security.Authentication.AuthenticationException", "The user name or password is incorrect."), ErrCorpCredentialRefused},
		{remote("System.UnauthorizedAccessException", "Access is denied."), ErrCorpCredentialRefused},
		{remote("System.IO.FileNotFoundException", "The specified module 'MIMPAM' was not loaded"), ErrModuleMissing},
		{remote("System.DirectoryServices.ActiveDirectory.ActiveDirectoryObjectNotFoundException", "The specified forest does not exist"), ErrForestNotFound},
		{remote("System.ComponentModel.Win32Exception", `LsaOpenPolicy on \\corp-dc1 as CORP\Administrator failed with error 1326: The user name or password is incorrect.`), ErrCorpCredentialRefused},
		{remote("System.ComponentModel.Win32Exception", `LsaOpenPolicy on \\corp-dc1 as CORP\jdoe failed with error 5: Access is denied.`), ErrCorpCredentialRefused},
		{remote("System.ComponentModel.Win32Exception", `LsaQueryTrustedDomainInfoByName(priv.contoso.com) on \\corp-dc1 as CORP\Administrator failed with error 2: The system cannot find the file specified.`), nil},
		{remote("System.InvalidOperationException", "TRUST_ATTRIBUTE_PIM_TRUST (/EnablePIMTrust) needs TRUST_ATTRIBUTE_FOREST_TRANSITIVE (MS-ADTS 6.1.6.7.9)"), nil},
		{fmt.Errorf("dial: %w", transport.ErrUnreachable), nil},
	} {
		f := &fakerunner.Runner{Err: c.err}
		_, err := CreateTrust(context.Background(), f, "h", trust)
		if !errors.Is(err, c.err) {
			t.Errorf("%v: the underlying error is lost: %v", c.err, err)
		}
		for _, s := range []error{ErrCorpCredentialRefused, ErrModuleMissing, ErrForestNotFound} {
			if errors.Is(err, s) != (s == c.want) { //nolint:errorlint // s and c.want are sentinels compared by identity, not the error under test
				t.Errorf("%v: errors.Is(%v) = %v", c.err, s, errors.Is(err, s))
			}
		}
	}
}

func TestBits(t *testing.T) {
	for _, c := range []struct {
		s    Settings
		want uint32
	}{
		{Settings{}, 0},
		{Settings{SIDHistory: true}, 0x40},
		{Settings{Quarantine: true}, 0x4},
		{Settings{PIMTrust: true}, 0x400},
		{Settings{true, true, true}, SettingBits},
	} {
		if got := c.s.Bits(); got != c.want {
			t.Errorf("%+v.Bits() = %#x, want %#x", c.s, got, c.want)
		}
	}
	if got := DescribeBits(0x440); !strings.Contains(got, "(TREAT_AS_EXTERNAL) on, quarantine off, PIM trust on") {
		t.Errorf("DescribeBits = %q", got)
	}
}
