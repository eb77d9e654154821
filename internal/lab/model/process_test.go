package model

import (
	"encoding/base64"
	"testing"
	"unicode/utf16"
)

func encoded(s string) string {
	u := utf16.Encode([]rune(s))
	b := make([]byte, 2*len(u))
	for i, c := range u {
		b[2*i], b[2*i+1] = byte(c), byte(c>>8)
	}
	return base64.StdEncoding.EncodeToString(b)
}

func TestCommandLineLeaks(t *testing.T) {
	e := New()
	e.Credentials[`priv\svc`] = "Pa55-word!"
	e.DemotionPasswords["dc2"] = []string{"Demoted#1"}
	_ = e.Do(func(e *Env) error {
		e.NoteSecret("Noted$2", "")
		e.StartProcess("App1.priv.contoso.com", `priv\administrator`, `powershell.exe -NoProfile -EncodedCommand `+encoded("$x = 'Noted$2'"))
		e.StartProcess("app1", "", `msiexec.exe /i "a.msi" SERVICE_ACCOUNT_PASSWORD="Pa55-word!"`)
		e.StartProcess("app1", "", `setup.exe /ACTION=AddNode /ConfigurationFile="C:\x\ConfigurationFile.ini"`)
		e.StartProcess("app1", "", `powershell.exe -enc `+encoded("clean"))
		return nil
	})
	if got := e.Secrets(); len(got) != 3 {
		t.Fatalf("Secrets() = %d values, want 3", len(got))
	}
	starts := e.ProcessStarts()
	if len(starts) != 4 || starts[0].Host != "app1.priv.contoso.com" || starts[0].Account != `priv\administrator` {
		t.Fatalf("ProcessStarts() = %+v", starts)
	}
	leaks := CommandLineLeaks(starts, e.Secrets())
	if len(leaks) != 2 {
		t.Fatalf("CommandLineLeaks found %d, want 2 (encoded command and msiexec): %+v", len(leaks), leaks)
	}
	if leaks[0].Secret != "Noted$2" || leaks[1].Secret != "Pa55-word!" {
		t.Errorf("leaks = %q, %q", leaks[0].Secret, leaks[1].Secret)
	}
}
