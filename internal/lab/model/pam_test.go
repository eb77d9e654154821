package model

import (
	"errors"
	"strings"
	"testing"

	"github.com/bastion-pam/terraform-provider-bastion/internal/adnames"
)

func TestNetdomTrustRules(t *testing.T) {
	e, _ := NewDefault(Seed{})
	corp := e.Forests[CorpDomainDNS]
	if err := e.NetdomTrust(corp, e.Domain, NetdomEnablePIMTrust, true); err == nil || !strings.Contains(err.Error(), "could not be found") {
		t.Fatalf("netdom on a missing trust: %v", err)
	}
	if err := e.NewPAMTrust(corp, false); err != nil {
		t.Fatal(err)
	}
	if err := e.NewPAMTrust(corp, false); !errors.Is(err, ErrTrustExists) {
		t.Fatalf("second New-PAMTrust: %v, want ErrTrustExists", err)
	}
	// SID history is valid only on the outbound side: CORP's object, not PRIV's (inbound).
	if err := e.NetdomTrust(e.Domain, corp, NetdomEnableSIDHistory, true); err == nil || !strings.Contains(err.Error(), "outbound side") {
		t.Fatalf("/EnableSIDHistory on PRIV's inbound side: %v", err)
	}
	for _, o := range []string{NetdomEnableSIDHistory, NetdomQuarantine, NetdomEnablePIMTrust} {
		if err := e.NetdomTrust(corp, e.Domain, o, true); err != nil {
			t.Fatalf("%s: %v", o, err)
		}
	}
	p, c := e.PAMTrustSides(corp)
	if c.Attributes != adnames.TrustAttrForestTransitive|adnames.TrustAttrTreatAsExternal|adnames.TrustAttrQuarantinedDomain|adnames.TrustAttrPIMTrust || p.Attributes != adnames.TrustAttrForestTransitive {
		t.Fatalf("after netdom: CORP 0x%x, PRIV 0x%x", c.Attributes, p.Attributes)
	}
	if err := e.NetdomTrust(corp, e.Domain, NetdomQuarantine, false); err != nil || c.Attributes&adnames.TrustAttrQuarantinedDomain != 0 {
		t.Fatalf("/Quarantine:no: %v, attributes 0x%x", err, c.Attributes)
	}
	// The PIM trust needs a forest trust.
	c.Attributes &^= adnames.TrustAttrForestTransitive
	if err := e.NetdomTrust(corp, e.Domain, NetdomEnablePIMTrust, true); err == nil || !strings.Contains(err.Error(), "forest transitive") {
		t.Fatalf("/EnablePIMTrust on a non-forest trust: %v", err)
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
