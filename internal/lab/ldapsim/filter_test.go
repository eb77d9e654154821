package ldapsim

import (
	"encoding/hex"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/jimlambrt/gldap"

	"github.com/bastion-pam/terraform-provider-bastion/internal/adnames"
	"github.com/bastion-pam/terraform-provider-bastion/internal/lab/model"
)

// seededView renders the default lab (plus an RODC and a trust) as priv-dc1 sees it.
func seededView(t *testing.T) *view {
	t.Helper()
	env, _ := model.NewDefault(model.Seed{})
	env.SeedDirectory()
	if _, err := env.PromoteDC(model.DomainDNS, model.Spare1, model.DCOptions{ReadOnly: true, Site: "Branch"}); err != nil {
		t.Fatal(err)
	}
	if err := env.CreateTrust(model.DomainDNS, model.CorpDomainDNS, adnames.TrustDirectionOutbound, adnames.TrustAttrForestTransitive|adnames.TrustAttrPIMTrust); err != nil {
		t.Fatal(err)
	}
	var v *view
	_ = env.Do(func(e *model.Env) error { v = buildView(e, model.DC1); return nil })
	if v == nil {
		t.Fatal("no view")
	}
	return v
}

func names(res result) []string {
	var out []string
	for _, e := range res.entries {
		out = append(out, strings.SplitN(e.dn, ",", 2)[0]+"|"+strings.SplitN(strings.SplitN(e.dn, ",", 3)[1], "=", 2)[1])
	}
	sort.Strings(out)
	return out
}

func TestFilterEvaluation(t *testing.T) {
	v := seededView(t)
	base := "DC=priv,DC=contoso,DC=test"
	sites := "CN=Sites,CN=Configuration," + base
	cases := []struct {
		base, filter string
		scope        gldap.Scope
		want         int
	}{
		// objectCategory shorthand: writable DSAs only; objectClass matches RODCs too.
		{sites, "(objectCategory=nTDSDSA)", gldap.WholeSubtree, 2},
		{sites, "(objectCategory=nTDSDSARO)", gldap.WholeSubtree, 1},
		{sites, "(objectCategory=NTDS-DSA)", gldap.WholeSubtree, 2},
		{sites, "(objectCategory=CN=NTDS-DSA,CN=Schema,CN=Configuration," + base + ")", gldap.WholeSubtree, 2},
		{sites, "(objectCategory=cn=ntds-dsa, cn=schema, cn=configuration, dc=PRIV, dc=contoso, dc=test)", gldap.WholeSubtree, 2},
		{sites, "(objectClass=nTDSDSA)", gldap.WholeSubtree, 3},
		{sites, "(objectCategory=noSuchClass)", gldap.WholeSubtree, 0},
		{sites, "(|(objectCategory=server)(objectCategory=nTDSDSA)(objectCategory=nTDSDSARO))", gldap.WholeSubtree, 6},
		{sites, "(&(objectCategory=server)(dNSHostName=PRIV-DC2.priv.contoso.test))", gldap.WholeSubtree, 1},
		{sites, "(&(objectCategory=server)(!(dNSHostName=priv-dc2*)))", gldap.WholeSubtree, 2},
		{sites, "(&(objectCategory=server)(dNSHostName=*dc*))", gldap.WholeSubtree, 2},
		{sites, "(&(objectCategory=server)(dNSHostName=priv-*.priv.*.test))", gldap.WholeSubtree, 3},
		{sites, "(dNSHostName=\\2a)", gldap.WholeSubtree, 0},
		// Integers, bitwise rules, presence.
		{sites, "(options:1.2.840.113556.1.4.803:=1)", gldap.WholeSubtree, 2},
		{sites, "(options:1.2.840.113556.1.4.804:=5)", gldap.WholeSubtree, 2},
		{sites, "(options>=1)", gldap.WholeSubtree, 2},
		{sites, "(msDS-Behavior-Version<=6)", gldap.WholeSubtree, 0},
		{sites, "(options=*)", gldap.WholeSubtree, 2},
		{sites, "(options=01)", gldap.WholeSubtree, 2},
		// SID in string form, DN syntax, scopes.
		{base, "(objectSid=" + model.DomainSID + ")", gldap.BaseObject, 1},
		{base, "(fSMORoleOwner=cn=ntds settings,cn=priv-dc1,cn=servers,cn=default-first-site-name,cn=sites,cn=configuration,dc=priv,dc=contoso,dc=test)", gldap.WholeSubtree, 3},
		{"CN=System," + base, "(objectCategory=trustedDomain)", gldap.SingleLevel, 1},
		{"CN=System," + base, "(&(objectCategory=trustedDomain)(trustAttributes:1.2.840.113556.1.4.803:=1024))", gldap.SingleLevel, 1},
		{base, "(objectCategory=trustedDomain)", gldap.SingleLevel, 0},
		// Subtree searches do not cross into other naming contexts.
		{base, "(objectCategory=infrastructureUpdate)", gldap.WholeSubtree, 1},
		{base, "(objectCategory=domainDNS)", gldap.WholeSubtree, 1},
		{"CN=Configuration," + base, "(objectCategory=dMD)", gldap.WholeSubtree, 0},
		{"CN=Configuration," + base, "(objectClass=*)", gldap.SingleLevel, 3},
		{"", "(objectClass=*)", gldap.BaseObject, 1},
		{"", "(isGlobalCatalogReady=TRUE)", gldap.BaseObject, 1},
		{"", "(isGlobalCatalogReady=FALSE)", gldap.BaseObject, 0},
	}
	for _, c := range cases {
		res := v.search(c.base, c.scope, c.filter)
		if res.code != 0 || len(res.entries) != c.want {
			t.Errorf("search %q scope %d %s: %d entries (code %d %s) %v, want %d", c.base, c.scope, c.filter, len(res.entries), res.code, res.diag, names(res), c.want)
		}
	}
	res := v.search("CN=Missing,CN=System,"+base, gldap.BaseObject, "(objectClass=*)")
	if res.code != gldap.ResultNoSuchObject || res.matched != "CN=System,"+base || !strings.HasPrefix(res.diag, "0000208D") {
		t.Errorf("missing object: code %d matched %q diag %q", res.code, res.matched, res.diag)
	}
	if res := v.search(base, gldap.BaseObject, "(objectClass=nt"); res.code != gldap.ResultFilterError {
		t.Errorf("bad filter: code %d", res.code)
	}
}

func TestSelectAttributes(t *testing.T) {
	v := seededView(t)
	var ntds *entry
	for _, e := range v.order {
		if strings.HasPrefix(e.dn, "CN=NTDS Settings,CN=PRIV-DC1,") {
			ntds = e
		}
	}
	all := selectAttributes(ntds, nil, false)
	if _, ok := all["msDS-isRODC"]; ok {
		t.Error("a constructed attribute came back without being asked for")
	}
	if all["options"][0] != "1" || len(all["invocationId"][0]) != 16 {
		t.Errorf("attributes %v", all)
	}
	some := selectAttributes(ntds, []string{"OPTIONS", "msds-isrodc"}, false)
	if len(some) != 2 || some["msDS-isRODC"][0] != "FALSE" {
		t.Errorf("named attributes %v", some)
	}
	if none := selectAttributes(ntds, []string{"1.1"}, false); len(none) != 0 {
		t.Errorf("1.1 returned %v", none)
	}
	if star := selectAttributes(ntds, []string{"*", "msDS-isRODC"}, false); len(star) != len(all)+1 {
		t.Errorf("* plus a constructed attribute: %d attributes, want %d", len(star), len(all)+1)
	}
}

func TestPaging(t *testing.T) {
	v := seededView(t)
	res := v.search("CN=Configuration,DC=priv,DC=contoso,DC=test", gldap.WholeSubtree, "(objectClass=*)")
	var got []*entry
	var cookie []byte
	for pages := 1; ; pages++ {
		var p []*entry
		p, cookie = page(res.entries, 4, cookie)
		got = append(got, p...)
		if cookie == nil {
			if pages < 3 {
				t.Errorf("%d pages for %d entries", pages, len(res.entries))
			}
			break
		}
	}
	if len(got) != len(res.entries) {
		t.Errorf("paged %d entries, want %d", len(got), len(res.entries))
	}
}

func TestModValuesSplitsTheSet(t *testing.T) {
	// gldap hands over the SET OF values as one string of concatenated octet strings.
	raw := string([]byte{0x04, 0x01, '1', 0x04, 0x02, '4', '2'})
	got, err := modValues([]string{raw})
	if err != nil || strings.Join(got, ",") != "1,42" {
		t.Errorf("modValues = %v, %v", got, err)
	}
	if got, err := modValues([]string{""}); err != nil || len(got) != 0 {
		t.Errorf("empty set = %v, %v", got, err)
	}
	if _, err := modValues([]string{"\x04\x05ab"}); err == nil {
		t.Error("truncated value accepted")
	}
}

func TestEncoders(t *testing.T) {
	sid, err := sidBytes(model.DomainSID)
	if err != nil || hex.EncodeToString(sid) != "010400000000000515000000c7f7fed77c7755c8945ace01" {
		t.Errorf("sidBytes = %x, %v", sid, err)
	}
	if _, err := sidBytes("S-1-x"); err == nil {
		t.Error("bad SID accepted")
	}
	if g := hex.EncodeToString(guidBytes("12345678-1234-5678-0102-030405060708")); g != "78563412341278560102030405060708" {
		t.Errorf("guidBytes = %s", g)
	}
	at := time.Date(2026, 3, 1, 12, 34, 56, 0, time.UTC)
	b := replPropertyMetaData([]metaEntry{{attid: attidDSASignature, version: 3, changed: at, invocation: "dddddddd-cccc-bbbb-aaaa-aaaaaaaaaaaa", origUSN: 20010, localUSN: 20011}})
	want := "01000000000000000100000000000000" + "4a000200" + "03000000" + "70c3b41f03000000" + "ddddddddccccbbbbaaaaaaaaaaaaaaaa" + "2a4e000000000000" + "2b4e000000000000"
	if hex.EncodeToString(b) != want {
		t.Errorf("replPropertyMetaData =\n%x\nwant\n%s", b, want)
	}
}

func TestNormDN(t *testing.T) {
	for a, b := range map[string]string{
		"CN=NTDS Settings,CN=PRIV-DC1,DC=priv": "cn=ntds settings, cn=priv-dc1, dc=PRIV",
		`CN=A\,B,DC=x`:                         `cn=a\2cb,dc=x`,
		"":                                     " ",
	} {
		if adnames.NormDN(a) != adnames.NormDN(b) {
			t.Errorf("NormDN(%q) = %q, NormDN(%q) = %q", a, adnames.NormDN(a), b, adnames.NormDN(b))
		}
	}
}
