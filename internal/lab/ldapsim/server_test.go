package ldapsim

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/go-ldap/ldap/v3"

	"github.com/bastion-pam/terraform-provider-bastion/internal/adnames"
	"github.com/bastion-pam/terraform-provider-bastion/internal/lab/labca"
	"github.com/bastion-pam/terraform-provider-bastion/internal/lab/model"
)

type fixture struct {
	env  *model.Env
	seed model.Seed
	ca   *labca.CA
	srv  *Server
}

func start(t *testing.T) *fixture {
	t.Helper()
	env, seed := model.NewDefault(model.Seed{})
	ca, err := labca.New()
	if err != nil {
		t.Fatal(err)
	}
	srv, err := Start(env, ca, Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	return &fixture{env: env, seed: seed, ca: ca, srv: srv}
}

func (f *fixture) addr(host string, port int) string {
	return f.srv.ConnectTo().Resolve(net.JoinHostPort(host, itoa(port)))
}

// dial opens LDAPS to host, verifying the lab certificate for its name.
func (f *fixture) dial(t *testing.T, host string) *ldap.Conn {
	t.Helper()
	c, err := ldap.DialURL("ldaps://"+f.addr(host, PortLDAPS), ldap.DialWithTLSConfig(&tls.Config{RootCAs: f.ca.Pool(), ServerName: host}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func (f *fixture) admin(t *testing.T, host string) *ldap.Conn {
	t.Helper()
	c := f.dial(t, host)
	if err := c.Bind(model.AdminUser, f.seed.AdminPassword); err != nil {
		t.Fatal(err)
	}
	return c
}

func code(err error) uint16 {
	var le *ldap.Error
	if errors.As(err, &le) {
		return le.ResultCode
	}
	return 0
}

func TestAnonymousMayReadOnlyTheRootDSE(t *testing.T) {
	f := start(t)
	c := f.dial(t, model.DC1)
	res, err := c.Search(ldap.NewSearchRequest("", ldap.ScopeBaseObject, 0, 0, 0, false, "(objectClass=*)", []string{"dsServiceName", "defaultNamingContext"}, nil))
	if err != nil || len(res.Entries) != 1 || !strings.HasPrefix(res.Entries[0].GetAttributeValue("dsServiceName"), "CN=NTDS Settings,CN=PRIV-DC1,") {
		t.Fatalf("anonymous rootDSE: %v %v", res, err)
	}
	_, err = c.Search(ldap.NewSearchRequest("DC=priv,DC=contoso,DC=test", ldap.ScopeBaseObject, 0, 0, 0, false, "(objectClass=*)", nil, nil))
	if code(err) != ldap.LDAPResultOperationsError || !strings.Contains(err.Error(), "000004DC") {
		t.Errorf("anonymous search: %v, want operationsError 000004DC", err)
	}
	if err := c.Bind(model.AdminUser, "wrong"); code(err) != ldap.LDAPResultInvalidCredentials || !strings.Contains(err.Error(), "data 52e") {
		t.Errorf("bad password: %v", err)
	}
}

func TestPagedSearchOverTheWire(t *testing.T) {
	f := start(t)
	c := f.admin(t, model.DC1)
	req := ldap.NewSearchRequest("CN=Configuration,DC=priv,DC=contoso,DC=test", ldap.ScopeWholeSubtree, 0, 0, 0, false, "(objectClass=*)", []string{"cn"}, nil)
	all, err := c.Search(req)
	if err != nil {
		t.Fatal(err)
	}
	f.env.ResetCounters()
	paged, err := c.SearchWithPaging(req, 3)
	if err != nil {
		t.Fatal(err)
	}
	if len(paged.Entries) != len(all.Entries) || len(all.Entries) < 10 {
		t.Errorf("paged %d entries, unpaged %d", len(paged.Entries), len(all.Entries))
	}
	if n := f.env.CallCount(model.LDAP, model.DC1); n != (len(all.Entries)+2)/3 {
		t.Errorf("%d requests for %d entries in pages of 3", n, len(all.Entries))
	}
	req.Controls, req.SizeLimit = nil, 2 // SearchWithPaging left its last cookie in the request
	if _, err := c.Search(req); code(err) != ldap.LDAPResultSizeLimitExceeded {
		t.Errorf("size limit: %v", err)
	}
}

func TestModifySemantics(t *testing.T) {
	f := start(t)
	c := f.admin(t, model.DC1)
	ntds2 := "CN=NTDS Settings,CN=PRIV-DC2,CN=Servers,CN=Default-First-Site-Name,CN=Sites,CN=Configuration,DC=priv,DC=contoso,DC=test"
	ntds1 := strings.Replace(ntds2, "PRIV-DC2", "PRIV-DC1", 1)

	// A delete of a stale value fails the whole modify, atomically.
	m := ldap.NewModifyRequest(ntds2, nil)
	m.Delete("options", []string{"5"})
	m.Add("options", []string{"4"})
	if err := c.Modify(m); code(err) != ldap.LDAPResultNoSuchAttribute {
		t.Errorf("stale delete: %v, want noSuchAttribute", err)
	}
	m = ldap.NewModifyRequest(ntds2, nil)
	m.Add("options", []string{"3"})
	if err := c.Modify(m); code(err) != ldap.LDAPResultAttributeOrValueExists {
		t.Errorf("add to a present single-valued attribute: %v", err)
	}
	m = ldap.NewModifyRequest(ntds2, nil)
	m.Delete("options", []string{"1"})
	m.Add("options", []string{"3"})
	if err := c.Modify(m); err != nil {
		t.Fatal(err)
	}
	_ = f.env.Do(func(e *model.Env) error {
		if dc := e.Domain.DC(model.DC2); dc.NTDSOptions() != 3 || !dc.GlobalCatalog {
			t.Errorf("model options 0x%x", dc.NTDSOptions())
		}
		return nil
	})

	// fSMORoleOwner may only name the DC doing the write.
	m = ldap.NewModifyRequest("CN=Infrastructure,DC=priv,DC=contoso,DC=test", nil)
	m.Replace("fSMORoleOwner", []string{ntds2})
	if err := c.Modify(m); code(err) != ldap.LDAPResultUnwillingToPerform {
		t.Errorf("seize for another DC: %v", err)
	}
	m.Replace("fSMORoleOwner", []string{ntds1})
	if err := c.Modify(m); err != nil {
		t.Errorf("seize for itself: %v", err)
	}
	// becomePdc wants the domain SID; unknown rootDSE attributes are refused.
	replaceRefused(t, c, "becomePdc without the SID", "", "becomePdc", "1", ldap.LDAPResultUnwillingToPerform, "")
	replaceRefused(t, c, "unknown rootDSE operation", "", "doGarbageCollection", "1", ldap.LDAPResultUnwillingToPerform, "")
	// Trusts are LSA objects; other objects are read-only in the lab.
	if err := f.env.CreateTrust(model.DomainDNS, model.CorpDomainDNS, adnames.TrustDirectionOutbound, 8); err != nil {
		t.Fatal(err)
	}
	replaceRefused(t, c, "trust change", "CN=corp.contoso.test,CN=System,DC=priv,DC=contoso,DC=test", "trustAttributes", "1032", ldap.LDAPResultUnwillingToPerform, "LSA")
	replaceRefused(t, c, "missing object", "CN=Nope,DC=priv,DC=contoso,DC=test", "description", "x", ldap.LDAPResultNoSuchObject, "")
}

// replaceRefused replaces attr of dn with value and wants the result code
// want, and text in the error when text is not empty.
func replaceRefused(t *testing.T, c *ldap.Conn, what, dn, attr, value string, want uint16, text string) {
	t.Helper()
	m := ldap.NewModifyRequest(dn, nil)
	m.Replace(attr, []string{value})
	if err := c.Modify(m); code(err) != want || !strings.Contains(fmt.Sprint(err), text) {
		t.Errorf("%s: %v, want result code %d with %q", what, err, want, text)
	}
}

func TestRODCRefersWrites(t *testing.T) {
	f := start(t)
	if _, err := f.env.PromoteDC(model.DomainDNS, model.Spare1, model.DCOptions{ReadOnly: true}); err != nil {
		t.Fatal(err)
	}
	c := f.admin(t, model.Spare1)
	replaceRefused(t, c, "write on an RODC", "CN=NTDS Settings,CN=PRIV-DC2,CN=Servers,CN=Default-First-Site-Name,CN=Sites,CN=Configuration,DC=priv,DC=contoso,DC=test", "options", "0", ldap.LDAPResultReferral, model.DC1)
	replaceRefused(t, c, "role transfer to an RODC", "", "becomeRidMaster", "1", ldap.LDAPResultUnwillingToPerform, "")
}

func TestProtocolEdges(t *testing.T) {
	f := start(t)
	// StartTLS on the plain port, then again on the TLS session.
	c, err := ldap.DialURL("ldap://" + f.addr(model.DC1, PortLDAP))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = c.Close() }()
	if err := c.StartTLS(&tls.Config{RootCAs: f.ca.Pool(), ServerName: model.DC1}); err != nil {
		t.Fatalf("StartTLS: %v", err)
	}
	if err := c.Bind(model.AdminUser, f.seed.AdminPassword); err != nil {
		t.Fatal(err)
	}
	// SASL binds are answered (authMethodNotSupported), not dropped.
	c2 := f.dial(t, model.DC1)
	err = c2.ExternalBind()
	if code(err) != ldap.LDAPResultAuthMethodNotSupported {
		t.Errorf("SASL bind: %v", err)
	}
	// Every operation is counted on its host.
	f.env.ResetCounters()
	c3 := f.admin(t, model.DC2)
	_, _ = c3.Search(ldap.NewSearchRequest("", ldap.ScopeBaseObject, 0, 0, 0, false, "(objectClass=*)", nil, nil))
	if n := f.env.CallCount(model.LDAP, model.DC2); n != 2 {
		t.Errorf("bind + search counted %d times", n)
	}
	// CORP has its own DC and credentials.
	var corpPass string
	_ = f.env.Do(func(e *model.Env) error { corpPass = e.Credentials[strings.ToLower(model.CorpAdminUser)]; return nil })
	c4 := f.dial(t, model.CorpDC1)
	if err := c4.Bind("Administrator@CORP.CONTOSO.TEST", corpPass); err != nil {
		t.Errorf("CORP bind by UPN: %v", err)
	}
	if err := c4.Bind(model.AdminUser, f.seed.AdminPassword); code(err) != ldap.LDAPResultInvalidCredentials {
		t.Errorf("PRIV account on the CORP DC: %v", err)
	}
}

func TestFaults(t *testing.T) {
	f := start(t)
	c := f.admin(t, model.DC1)
	req := ldap.NewSearchRequest("", ldap.ScopeBaseObject, 0, 0, 0, false, "(objectClass=*)", nil, nil)
	_ = f.env.InjectFault(model.DC1, model.LDAP, model.FaultLDAPBusy, 1)
	if _, err := c.Search(req); code(err) != ldap.LDAPResultBusy {
		t.Errorf("busy fault: %v", err)
	}
	_ = f.env.InjectFault(model.DC1, model.LDAP, model.FaultUnauthorized, 1)
	if _, err := c.Search(req); code(err) != ldap.LDAPResultInvalidCredentials {
		t.Errorf("unauthorized fault: %v", err)
	}
	if _, err := c.Search(req); err != nil {
		t.Errorf("after the faults: %v", err)
	}
	_ = f.env.InjectFault(model.DC1, model.LDAP, model.FaultDropLDAP, 1)
	if _, err := c.Search(req); err == nil {
		t.Error("drop fault: the request was answered")
	}
	if !c.IsClosing() {
		t.Error("drop fault: the connection is still open")
	}
	// Latency delays each operation.
	_ = f.env.SetLatency(model.DC2, model.LDAP, 60*time.Millisecond)
	c2 := f.dial(t, model.DC2)
	start := time.Now()
	_, _ = c2.Search(req)
	if d := time.Since(start); d < 60*time.Millisecond {
		t.Errorf("latency not applied: %s", d)
	}
}

func TestListenersFollowTheModel(t *testing.T) {
	f := start(t)
	dc1 := f.addr(model.DC1, PortLDAPS)
	if err := f.env.SetReachable(model.DC1, false); err != nil {
		t.Fatal(err)
	}
	if err := f.srv.Sync(); err != nil {
		t.Fatal(err)
	}
	if c, err := net.DialTimeout("tcp", dc1, time.Second); err == nil {
		_ = c.Close()
		t.Error("an unreachable DC still accepts connections")
	}
	_ = f.env.SetReachable(model.DC1, true)
	if err := f.srv.Sync(); err != nil {
		t.Fatal(err)
	}
	if f.addr(model.DC1, PortLDAPS) != dc1 {
		t.Error("the DC came back on another port")
	}
	f.admin(t, model.DC1)

	// A host added later gets listeners at Sync; it answers LDAP once promoted.
	f.env.AddHost("priv-dc3.priv.contoso.test")
	if err := f.srv.Sync(); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(f.addr("priv-dc3.priv.contoso.test", PortLDAPS), "127.0.0.1:") {
		t.Fatalf("no listener for the new host: %v", f.srv.ConnectTo())
	}
	if _, err := ldap.DialURL("ldaps://"+f.addr("priv-dc3.priv.contoso.test", PortLDAPS), ldap.DialWithTLSConfig(&tls.Config{RootCAs: f.ca.Pool(), ServerName: "priv-dc3.priv.contoso.test"})); err == nil {
		t.Error("a member server completed an LDAPS handshake")
	}
	if _, err := f.env.PromoteDC(model.DomainDNS, "priv-dc3.priv.contoso.test", model.DCOptions{GlobalCatalog: true}); err != nil {
		t.Fatal(err)
	}
	c := f.admin(t, "priv-dc3.priv.contoso.test")
	res, err := c.Search(ldap.NewSearchRequest("", ldap.ScopeBaseObject, 0, 0, 0, false, "(objectClass=*)", []string{"dnsHostName", "isGlobalCatalogReady"}, nil))
	if err != nil || res.Entries[0].GetAttributeValue("dnsHostName") != "priv-dc3.priv.contoso.test" {
		t.Errorf("promoted DC rootDSE: %v %v", res, err)
	}
	// Demotion stops its LDAP service and drops its connections.
	if err := f.env.DemoteDC("priv-dc3.priv.contoso.test"); err != nil {
		t.Fatal(err)
	}
	if err := f.srv.Sync(); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Search(ldap.NewSearchRequest("", ldap.ScopeBaseObject, 0, 0, 0, false, "(objectClass=*)", nil, nil)); err == nil {
		t.Error("a demoted DC still answered")
	}
}

// A domain's DNS name reaches one of its DCs, whose certificate names the
// domain, and the DC renders the trust bits set through LSA on its side.
func TestDomainNameReachesADC(t *testing.T) {
	f := start(t)
	if got, want := f.addr(model.CorpDomainDNS, PortLDAPS), f.addr(model.CorpDC1, PortLDAPS); got != want {
		t.Fatalf("%s:636 maps to %s, want %s's listener %s", model.CorpDomainDNS, got, model.CorpDC1, want)
	}
	if got, want := f.addr(model.DomainDNS, PortLDAPS), f.addr(model.DC1, PortLDAPS); got != want {
		t.Fatalf("%s:636 maps to %s, want %s's listener %s", model.DomainDNS, got, model.DC1, want)
	}
	err := f.env.Do(func(e *model.Env) error {
		corp := e.Forests[model.CorpDomainDNS]
		if err := e.NewPAMTrust(corp, false); err != nil {
			return err
		}
		// The PIM trust bit, set through LSA on CORP's DC as MIMDocs' netdom step does.
		p, err := e.LsaOpenPolicy(e.Host(model.App1), model.NewCredentials(model.CorpAdminUser), e.Credentials[strings.ToLower(model.CorpAdminUser)], corp, model.CorpDC1)
		if err != nil {
			return err
		}
		info, err := e.LsaQueryTrustedDomainInfoByName(p, e.Domain.DNSName)
		if err != nil {
			return err
		}
		info.Attributes |= adnames.TrustAttrPIMTrust
		return e.LsaSetTrustedDomainInfoByName(p, e.Domain.DNSName, info)
	})
	if err != nil {
		t.Fatal(err)
	}
	c := f.dial(t, model.CorpDomainDNS) // verifies the certificate for the domain name
	var pw string
	_ = f.env.Do(func(e *model.Env) error { pw = e.Credentials[strings.ToLower(model.CorpAdminUser)]; return nil })
	if err := c.Bind(model.CorpAdminUser, pw); err != nil {
		t.Fatal(err)
	}
	res, err := c.Search(ldap.NewSearchRequest("CN=System,DC=corp,DC=contoso,DC=test", ldap.ScopeSingleLevel, 0, 0, 0, false,
		"(&(objectClass=trustedDomain)(trustPartner="+model.DomainDNS+"))", []string{"trustAttributes", "trustDirection"}, nil))
	if err != nil || len(res.Entries) != 1 {
		t.Fatalf("CORP's trust for PRIV: %v %v", res, err)
	}
	if a := res.Entries[0].GetAttributeValue("trustAttributes"); a != "1032" {
		t.Errorf("trustAttributes %s, want 1032 (FOREST_TRANSITIVE | PIM_TRUST)", a)
	}
}

// TestEnableOptionalFeature holds the rootDSE operation to [MS-ADTS]
// 3.1.1.3.3.28: only the domain naming master enables a forest-wide feature,
// an unknown GUID or scope is a parameter error, an enabled feature answers
// attributeOrValueExists, and the forest level must be high enough.
func TestEnableOptionalFeature(t *testing.T) {
	f := start(t)
	config := "CN=Configuration," + adnames.DomainDN(model.DomainDNS)
	value := func(scope, guid string) *ldap.ModifyRequest {
		req := ldap.NewModifyRequest("", nil)
		req.Add("enableOptionalFeature", []string{scope + ":" + guid})
		return req
	}
	rb := featureGUIDs[adnames.FeatureRecycleBin]
	parts := "CN=Partitions," + config
	if err := f.env.TransferFSMO(adnames.DomainNamingMaster, model.DC2); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		host string
		req  *ldap.ModifyRequest
		want uint16
	}{
		{"not the naming master", model.DC1, value(parts, rb), ldap.LDAPResultUnwillingToPerform},
		{"unknown feature", model.DC2, value(parts, "00000000-0000-0000-0000-000000000001"), ldap.LDAPResultOperationsError},
		{"scope that does not exist", model.DC2, value("CN=Nothing,"+config, rb), ldap.LDAPResultOperationsError},
		{"object that is not a scope", model.DC2, value("CN=Sites,"+config, rb), ldap.LDAPResultUnwillingToPerform},
		{"enabled", model.DC2, value(parts, rb), ldap.LDAPResultSuccess},
		{"enabled twice", model.DC2, value(parts, strings.ToUpper(rb)), ldap.LDAPResultAttributeOrValueExists},
	} {
		err := f.admin(t, tc.host).Modify(tc.req)
		if got := code(err); got != tc.want {
			t.Errorf("%s: result %d (%v), want %d", tc.name, got, err, tc.want)
		}
	}
	_ = f.env.Do(func(e *model.Env) error {
		e.Domain.ForestFunctionalLevel = 6
		e.Domain.OptionalFeatures[adnames.FeaturePAM] = false
		return nil
	})
	if got := code(f.admin(t, model.DC2).Modify(value(parts, featureGUIDs[adnames.FeaturePAM]))); got != ldap.LDAPResultUnwillingToPerform {
		t.Errorf("PAM at forest level 6: result %d, want unwillingToPerform", got)
	}
}
