package model

import (
	"errors"
	"strings"
	"testing"

	"github.com/bastion-pam/terraform-provider-bastion/internal/adnames"
)

// The LSA calls the pam_trust_settings script makes on CORP's PDC under
// the CORP credential: the DC checks the credential and the account's
// rights at LsaOpenPolicy, the TDO must exist, and netdom's rules hold for
// the bits that change.
func TestLSATrustAttributes(t *testing.T) {
	e, _ := NewDefault(Seed{})
	e.mu.Lock() // the LSA calls expect the caller to hold the lock, as handlers do
	defer e.mu.Unlock()
	corp := e.Forests[CorpDomainDNS]
	app := e.Host(App1)
	pw := e.Credentials[strings.ToLower(CorpAdminUser)]
	open := func(who Identity, password string) (*LSAPolicy, error) {
		return e.LsaOpenPolicy(app, who, password, corp, CorpDC1)
	}
	wantLSA := func(err error, code int, msg string) {
		t.Helper()
		var le *LSAError
		if !errors.As(err, &le) || le.Code != code || le.Message != msg {
			t.Fatalf("got %v, want Win32 error %d %q", err, code, msg)
		}
	}
	// NEW_CREDENTIALS checks nothing at logon: a wrong password fails at the
	// first network call, and an account without rights on CORP after it.
	_, err := open(NewCredentials(CorpAdminUser), pw+"x")
	wantLSA(err, 1326, "The user name or password is incorrect.")
	e.Credentials[`corp\jdoe`] = "Pa55word!"
	_, err = open(NewCredentials(`CORP\jdoe`), "Pa55word!")
	wantLSA(err, 5, "Access is denied.")
	// The same call from the WinRM session's own network logon reaches the
	// PDC as ANONYMOUS LOGON.
	_, err = open(Identity{Account: strings.ToLower(AdminUser), Kind: AccountDomain, Logon: LogonNetwork}, "")
	var he *HopError
	if !errors.As(err, &he) || he.Hop.Kind != HopLSA || he.Type != "System.ComponentModel.Win32Exception" || he.Message != "Access is denied." || he.Code != 5 {
		t.Fatalf("LsaOpenPolicy from a network logon: %v", err)
	}

	_, err = e.LsaOpenPolicy(app, NewCredentials(CorpAdminUser), pw, corp, "corp-dc9."+CorpDomainDNS)
	wantLSA(err, 1722, "The RPC server is unavailable.")

	p, err := open(NewCredentials(CorpAdminUser), pw)
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.LsaQueryTrustedDomainInfoByName(p, e.Domain.DNSName)
	wantLSA(err, 2, "The system cannot find the file specified.")
	if err := e.NewPAMTrust(corp, false); err != nil {
		t.Fatal(err)
	}
	if err := e.NewPAMTrust(corp, false); !errors.Is(err, ErrTrustExists) {
		t.Fatalf("second New-PAMTrust: %v, want ErrTrustExists", err)
	}
	info, err := e.LsaQueryTrustedDomainInfoByName(p, e.Domain.NetBIOSName) // by flat name too
	if err != nil || info.Name != e.Domain.DNSName || info.Direction != adnames.TrustDirectionOutbound || info.Attributes != adnames.TrustAttrForestTransitive {
		t.Fatalf("query: %+v %v", info, err)
	}
	all := adnames.TrustAttrTreatAsExternal | adnames.TrustAttrQuarantinedDomain | adnames.TrustAttrPIMTrust
	if err := CheckTrustAttributeChange(CorpDomainDNS, DomainDNS, info, all); err != nil {
		t.Fatal(err)
	}
	info.Attributes |= all
	if err := e.LsaSetTrustedDomainInfoByName(p, e.Domain.DNSName, info); err != nil {
		t.Fatal(err)
	}
	privSide, corpSide := e.PAMTrustSides(corp)
	if corpSide.Attributes != adnames.TrustAttrForestTransitive|all || privSide.Attributes != adnames.TrustAttrForestTransitive {
		t.Fatalf("after the set: CORP 0x%x, PRIV 0x%x", corpSide.Attributes, privSide.Attributes)
	}
	last := e.events[len(e.events)-1]
	if last.Kind != "lsa-trust-set" || last.Host != CorpDC1 || !strings.Contains(last.Detail, `as corp\administrator`) || !strings.Contains(last.Detail, "0x8 -> 0x44C") {
		t.Fatalf("event %+v, want the PDC as the LSA target, the account and the change", last)
	}

	// netdom's rules: SID history only on the outbound side of a forest
	// trust (PRIV's side is inbound), the PIM trust only on a forest trust.
	inbound := TrustedDomainInfoEx{Direction: adnames.TrustDirectionInbound, Attributes: adnames.TrustAttrForestTransitive}
	if err := CheckTrustAttributeChange(DomainDNS, CorpDomainDNS, inbound, adnames.TrustAttrTreatAsExternal); err == nil || !strings.Contains(err.Error(), "outbound side of a forest-transitive trust") {
		t.Fatalf("SID history on an inbound side: %v", err)
	}
	external := TrustedDomainInfoEx{Direction: adnames.TrustDirectionOutbound}
	for bit, want := range map[uint32]string{adnames.TrustAttrTreatAsExternal: "outbound side", adnames.TrustAttrPIMTrust: "needs TRUST_ATTRIBUTE_FOREST_TRANSITIVE"} {
		if err := CheckTrustAttributeChange(CorpDomainDNS, DomainDNS, external, bit); err == nil || !strings.Contains(err.Error(), want) {
			t.Fatalf("0x%x on a non-forest trust: %v", bit, err)
		}
	}
	if err := CheckTrustAttributeChange(CorpDomainDNS, DomainDNS, external, adnames.TrustAttrQuarantinedDomain); err != nil {
		t.Fatalf("quarantine has no precondition: %v", err)
	}
	if !e.RemovePAMTrust(corp) || e.RemovePAMTrust(corp) {
		t.Fatal("RemovePAMTrust: want true then false")
	}
}

func TestCorpFactsDefaults(t *testing.T) {
	e, _ := NewDefault(Seed{})
	corp := e.Forests[CorpDomainDNS]
	f := e.CorpFacts(corp)
	if !f.Groups["corp$$$"] || !f.Auditing || f.Configured {
		t.Fatalf("defaults: %+v", f)
	}
	f.Configured = true
	if !e.CorpFacts(corp).Configured {
		t.Fatal("facts are not kept per environment")
	}
	other, _ := NewDefault(Seed{})
	if other.CorpFacts(other.Forests[CorpDomainDNS]).Configured {
		t.Fatal("two environments share facts")
	}
}

func TestCheckDomainCredential(t *testing.T) {
	e, _ := NewDefault(Seed{})
	corp := e.Forests[CorpDomainDNS]
	pw := e.Credentials[strings.ToLower(CorpAdminUser)]
	if err := e.CheckDomainCredential(corp, CorpAdminUser, pw); err != nil {
		t.Fatal(err)
	}
	for _, c := range [][2]string{{CorpAdminUser, pw + "x"}, {AdminUser, e.Credentials[strings.ToLower(AdminUser)]}, {"Administrator", pw}} {
		if err := e.CheckDomainCredential(corp, c[0], c[1]); !errors.Is(err, ErrLogonFailure) {
			t.Errorf("%s: %v, want ErrLogonFailure", c[0], err)
		}
	}
}
