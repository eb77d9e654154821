package model

import "testing"

func TestBasicLogon(t *testing.T) {
	e, s := NewDefault(Seed{})
	e.SetWinRMService(App1, WinRMService{AllowBasic: true})
	e.SetWinRMService(DC1, WinRMService{AllowBasic: true})
	cases := []struct {
		name, host, user, pass string
		ok                     bool
	}{
		{"local account by bare name", App1, "Administrator", s.LocalAdminPassword, true},
		{"local account, service without Basic", App2, "Administrator", s.LocalAdminPassword, false},
		{"qualified local name", App1, `PRIV-APP1\Administrator`, s.LocalAdminPassword, false},
		{"domain account", App1, AdminUser, s.AdminPassword, false},
		{"domain UPN", App1, "Administrator@" + DomainDNS, s.AdminPassword, false},
		{"bare name on a DC", DC1, "Administrator", s.AdminPassword, false},
		{"wrong password", App1, "Administrator", "x", false},
	}
	for _, tc := range cases {
		id, ok := e.BasicLogon(tc.host, tc.user, tc.pass)
		if ok != tc.ok {
			t.Errorf("%s: ok = %v", tc.name, ok)
		}
		if ok && (id.Kind != AccountLocal || id.Logon != LogonNetworkCleartext) {
			t.Errorf("%s: %+v", tc.name, id)
		}
	}
}

func TestNTLMCandidates(t *testing.T) {
	e, _ := NewDefault(Seed{})
	kinds := func(host, domain, user string) []AccountKind {
		var out []AccountKind
		for _, c := range e.NTLMCandidates(host, domain, user) {
			if c.Logon != LogonNetwork {
				t.Errorf("%s %s\\%s: logon %s", host, domain, user, c.Logon)
			}
			out = append(out, c.Kind)
		}
		return out
	}
	check := func(name string, got []AccountKind, want ...AccountKind) {
		t.Helper()
		if len(got) != len(want) {
			t.Errorf("%s: %v, want %v", name, got, want)
			return
		}
		for i := range got {
			if got[i] != want[i] {
				t.Errorf("%s: %v, want %v", name, got, want)
			}
		}
	}
	check("bare name on a member: SAM first, then the domain", kinds(App1, "", "Administrator"), AccountLocal, AccountDomain)
	check("bare name on a DC: no SAM", kinds(DC1, "", "Administrator"), AccountDomain)
	check("domain name", kinds(DC1, "PRIV", "Administrator"), AccountDomain)
	check("UPN", kinds(DC1, "", "administrator@priv.contoso.test"), AccountDomain)
	check("computer name", kinds(App1, "PRIV-APP1", "Administrator"), AccountLocal)
	check("CORP without a trust PRIV holds outbound", kinds(DC1, "CORP", "Administrator"))
	_ = e.Do(func(e *Env) error {
		return e.NewPAMTrust(e.Forests[CorpDomainDNS], true)
	})
	check("CORP through a bidirectional trust", kinds(DC1, "CORP", "Administrator"), AccountTrusted)
	// Promotion takes the host's SAM away.
	_ = e.Do(func(e *Env) error {
		_, err := e.PromoteDCLocked(DomainDNS, Spare1, DCOptions{Site: DefaultSite})
		return err
	})
	check("promoted host", kinds(Spare1, "", "Administrator"), AccountDomain)
}
