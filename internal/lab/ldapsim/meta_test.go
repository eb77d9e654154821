package ldapsim

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-ldap/ldap/v3"

	"github.com/bastion-pam/terraform-provider-bastion/internal/lab/model"
)

const privBase = "DC=priv,DC=contoso,DC=test"

func rootDSE(t *testing.T, c *ldap.Conn, attrs ...string) *ldap.Entry {
	t.Helper()
	res, err := c.Search(ldap.NewSearchRequest("", ldap.ScopeBaseObject, 0, 0, 0, false, "(objectClass=*)", attrs, nil))
	if err != nil || len(res.Entries) != 1 {
		t.Fatalf("rootDSE: %v", err)
	}
	return res.Entries[0]
}

func usn(t *testing.T, e *ldap.Entry, attr string) int64 {
	t.Helper()
	n, err := strconv.ParseInt(e.GetAttributeValue(attr), 10, 64)
	if err != nil {
		t.Fatalf("%s of %s: %q", attr, e.DN, e.GetAttributeValue(attr))
	}
	return n
}

// TestEveryObjectCarriesWhatADWrites: [MS-ADTS] 3.1.1.1.3 and 3.1.1.1.9 —
// every object has objectGUID, instanceType, objectCategory, whenCreated,
// whenChanged, uSNCreated and uSNChanged; security principals an objectSid.
func TestEveryObjectCarriesWhatADWrites(t *testing.T) {
	f := start(t)
	c := f.admin(t, model.DC1)
	ncs := rootDSE(t, c, "namingContexts").GetAttributeValues("namingContexts")
	if len(ncs) < 3 {
		t.Fatalf("namingContexts %v", ncs)
	}
	highest := usn(t, rootDSE(t, c, "highestCommittedUSN"), "highestCommittedUSN")
	objects := 0
	for _, nc := range ncs {
		res, err := c.SearchWithPaging(ldap.NewSearchRequest(nc, ldap.ScopeWholeSubtree, 0, 0, 0, false, "(objectClass=*)", nil, nil), 500)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range res.Entries {
			objects++
			for _, a := range []string{"whenCreated", "whenChanged", "uSNCreated", "uSNChanged", "objectGUID", "instanceType", "objectCategory"} {
				if e.GetAttributeValue(a) == "" {
					t.Errorf("%s has no %s", e.DN, a)
				}
			}
			if g := e.GetRawAttributeValue("objectGUID"); len(g) != 16 {
				t.Errorf("%s: objectGUID of %d bytes", e.DN, len(g))
			}
			for _, a := range []string{"whenCreated", "whenChanged"} {
				if _, err := time.Parse("20060102150405.0Z", e.GetAttributeValue(a)); err != nil {
					t.Errorf("%s: %s %q is not GeneralizedTime as AD writes it", e.DN, a, e.GetAttributeValue(a))
				}
			}
			if created, changed := usn(t, e, "uSNCreated"), usn(t, e, "uSNChanged"); created > changed || changed > highest {
				t.Errorf("%s: uSNCreated %d, uSNChanged %d, highestCommittedUSN %d", e.DN, created, changed, highest)
			}
			principal := false
			for _, oc := range e.GetAttributeValues("objectClass") {
				principal = principal || oc == "user" || oc == "computer" || oc == "group"
			}
			if principal && len(e.GetRawAttributeValue("objectSid")) < 12 {
				t.Errorf("security principal %s has no objectSid", e.DN)
			}
			it, _ := strconv.Atoi(e.GetAttributeValue("instanceType"))
			head := strings.EqualFold(e.DN, nc)
			if head != (it&itNCHead != 0) || it&itWrite == 0 {
				t.Errorf("%s: instanceType %d on a writable DC (NC head: %t)", e.DN, it, head)
			}
		}
	}
	if objects < 30 {
		t.Errorf("only %d objects", objects)
	}
	// The domain head of a root domain is 5; Configuration and Schema 13 (Instance-Type).
	for dn, want := range map[string]string{privBase: "5", "CN=Configuration," + privBase: "13", "CN=Schema,CN=Configuration," + privBase: "13"} {
		res, err := c.Search(ldap.NewSearchRequest(dn, ldap.ScopeBaseObject, 0, 0, 0, false, "(objectClass=*)", []string{"instanceType"}, nil))
		if err != nil || res.Entries[0].GetAttributeValue("instanceType") != want {
			t.Errorf("%s instanceType: %v %v, want %s", dn, res, err, want)
		}
	}
}

// TestUSNsAdvanceWithEveryWrite: a write gets the DC's next USN
// (uSNChanged, highestCommittedUSN) and whenChanged; whenCreated and
// uSNCreated stay. AD's USNs are per DC.
func TestUSNsAdvanceWithEveryWrite(t *testing.T) {
	f := start(t)
	now := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	_ = f.env.Do(func(e *model.Env) error { e.Now = func() time.Time { return now }; return nil })
	c := f.admin(t, model.DC1)
	ntds := "CN=NTDS Settings,CN=PRIV-DC2,CN=Servers,CN=Default-First-Site-Name,CN=Sites,CN=Configuration," + privBase
	read := func() *ldap.Entry {
		res, err := c.Search(ldap.NewSearchRequest(ntds, ldap.ScopeBaseObject, 0, 0, 0, false, "(objectClass=*)", []string{"whenCreated", "whenChanged", "uSNCreated", "uSNChanged"}, nil))
		if err != nil {
			t.Fatal(err)
		}
		return res.Entries[0]
	}
	before, h0 := read(), usn(t, rootDSE(t, c, "highestCommittedUSN"), "highestCommittedUSN")
	now = now.Add(time.Hour)
	if err := c.Modify(&ldap.ModifyRequest{DN: ntds, Changes: []ldap.Change{{Operation: ldap.ReplaceAttribute, Modification: ldap.PartialAttribute{Type: "options", Vals: []string{"0"}}}}}); err != nil {
		t.Fatal(err)
	}
	// Two writes that end where they began (GC off, then on again) are
	// still two originating writes: the object takes a new USN.
	if err := c.Modify(&ldap.ModifyRequest{DN: ntds, Changes: []ldap.Change{{Operation: ldap.ReplaceAttribute, Modification: ldap.PartialAttribute{Type: "options", Vals: []string{"1"}}}}}); err != nil {
		t.Fatal(err)
	}
	after, h1 := read(), usn(t, rootDSE(t, c, "highestCommittedUSN"), "highestCommittedUSN")
	if h1 <= h0 || usn(t, after, "uSNChanged") != h1 || usn(t, after, "uSNChanged") <= usn(t, before, "uSNChanged") {
		t.Errorf("after the write: uSNChanged %s (was %s), highestCommittedUSN %d (was %d)", after.GetAttributeValue("uSNChanged"), before.GetAttributeValue("uSNChanged"), h1, h0)
	}
	if after.GetAttributeValue("whenChanged") != "20260302110000.0Z" {
		t.Errorf("whenChanged %s, want the write's time 20260302110000.0Z", after.GetAttributeValue("whenChanged"))
	}
	if after.GetAttributeValue("whenCreated") != before.GetAttributeValue("whenCreated") || after.GetAttributeValue("uSNCreated") != before.GetAttributeValue("uSNCreated") {
		t.Errorf("creation stamps moved: %s/%s -> %s/%s", before.GetAttributeValue("whenCreated"), before.GetAttributeValue("uSNCreated"), after.GetAttributeValue("whenCreated"), after.GetAttributeValue("uSNCreated"))
	}
	// Reads alone never advance it.
	if h2 := usn(t, rootDSE(t, c, "highestCommittedUSN"), "highestCommittedUSN"); h2 != h1 {
		t.Errorf("highestCommittedUSN %d after reads only, was %d", h2, h1)
	}
	// A promotion (a write through WinRM, not LDAP) advances it too, and the
	// new DC's objects are created at that time.
	if _, err := f.env.PromoteDC(model.DomainDNS, model.Spare1, model.DCOptions{}); err != nil {
		t.Fatal(err)
	}
	if h3 := usn(t, rootDSE(t, c, "highestCommittedUSN"), "highestCommittedUSN"); h3 <= h1 {
		t.Errorf("highestCommittedUSN %d after a promotion, was %d", h3, h1)
	}
	res, err := c.Search(ldap.NewSearchRequest(privBase, ldap.ScopeWholeSubtree, 0, 0, 0, false, fmt.Sprintf("(uSNChanged>=%d)", h1+1), []string{"whenCreated"}, nil))
	if err != nil || len(res.Entries) == 0 {
		t.Fatalf("objects changed by the promotion: %v", err)
	}
	for _, e := range res.Entries {
		if strings.HasPrefix(strings.ToUpper(e.DN), "CN=PRIV-SPARE1,") && e.GetAttributeValue("whenCreated") != "20260302110000.0Z" {
			t.Errorf("%s whenCreated %s, want the promotion's time", e.DN, e.GetAttributeValue("whenCreated"))
		}
	}
}

// TestRootDSEListsWhatADSupports: [MS-ADTS] 3.1.1.3.2 and 3.1.1.3.4.
func TestRootDSEListsWhatADSupports(t *testing.T) {
	f := start(t)
	c := f.dial(t, model.DC1)
	r := rootDSE(t, c, "supportedControl", "supportedExtension", "supportedCapabilities", "supportedLDAPPolicies")
	has := func(attr string, want ...string) {
		t.Helper()
		got := map[string]bool{}
		for _, v := range r.GetAttributeValues(attr) {
			got[v] = true
		}
		for _, w := range want {
			if !got[w] {
				t.Errorf("%s lacks %s", attr, w)
			}
		}
	}
	has("supportedControl", "1.2.840.113556.1.4.319", "1.2.840.113556.1.4.802", "1.2.840.113556.1.4.1948", "1.2.840.113556.1.4.841", "1.2.840.113556.1.4.529", "2.16.840.1.113730.3.4.9")
	has("supportedExtension", "1.3.6.1.4.1.1466.20037", "1.3.6.1.4.1.4203.1.11.3")
	has("supportedCapabilities", "1.2.840.113556.1.4.800", "1.2.840.113556.1.4.2237")
	has("supportedLDAPPolicies", "MaxPageSize", "MaxValRange", "MaxConnIdleTime")
	if n := len(r.GetAttributeValues("supportedControl")); n < 30 {
		t.Errorf("%d supported controls; a Windows Server 2016 DC lists about 40", n)
	}
	a := f.admin(t, model.DC1)
	res, err := a.Search(ldap.NewSearchRequest("CN=Default Query Policy,CN=Query-Policies,CN=Directory Service,CN=Windows NT,CN=Services,CN=Configuration,"+privBase,
		ldap.ScopeBaseObject, 0, 0, 0, false, "(objectClass=queryPolicy)", []string{"lDAPAdminLimits"}, nil))
	if err != nil || len(res.Entries) != 1 {
		t.Fatalf("Default Query Policy: %v", err)
	}
	limits := strings.Join(res.Entries[0].GetAttributeValues("lDAPAdminLimits"), ",")
	for _, want := range []string{"MaxPageSize=1000", "MaxValRange=1500"} {
		if !strings.Contains(limits, want) {
			t.Errorf("lDAPAdminLimits %s lacks %s", limits, want)
		}
	}
}

// bigGroup gives PRIV a group of n members (users created for them).
func bigGroup(f *fixture, name string, n int) []string {
	members := make([]string, n)
	for i := range members {
		members[i] = fmt.Sprintf("pam-user-%04d", i)
	}
	_ = f.env.Do(func(e *model.Env) error {
		e.Domain.Groups = map[string][]string{name: members}
		return nil
	})
	return members
}

// rangeStep is one ask of range retrieval ([MS-ADTS] 3.1.1.3.1.3.3) on a
// group of 3200 members: the attribute asked for, the one the DC answers
// with, and how many values it holds.
type rangeStep struct {
	ask, name string
	n         int
}

// walkRanges reads the whole group a window of MaxValRange (1500) at a time.
var walkRanges = []rangeStep{
	{"member", "member;range=0-1499", 1500},
	{"member;range=1500-*", "member;range=1500-2999", 1500},
	{"member;range=3000-*", "member;range=3000-*", 200},
}

// TestRangedRetrievalAndMaxPageSize: MaxValRange and MaxPageSize are
// enforced as AD does ([MS-ADTS] 3.1.1.3.1.3.3, 3.1.1.3.4.6).
func TestRangedRetrievalAndMaxPageSize(t *testing.T) {
	f := start(t)
	bigGroup(f, "PAM Operators", 3200)
	c := f.admin(t, model.DC1)
	group := "CN=PAM Operators,CN=Users," + privBase
	get := func(attr string) *ldap.EntryAttribute {
		t.Helper()
		res, err := c.Search(ldap.NewSearchRequest(group, ldap.ScopeBaseObject, 0, 0, 0, false, "(objectClass=group)", []string{attr}, nil))
		if err != nil || len(res.Entries) != 1 || len(res.Entries[0].Attributes) != 1 {
			t.Fatalf("%s of %s: %v %v", attr, group, res, err)
		}
		return res.Entries[0].Attributes[0]
	}
	for _, tc := range append([]rangeStep{
		{"member;range=10-19", "member;range=10-19", 10},
		{"member;range=3190-3300", "member;range=3190-*", 10},
	}, walkRanges...) {
		a := get(tc.ask)
		if a.Name != tc.name || len(a.Values) != tc.n {
			t.Errorf("ask %s: got %s with %d values, want %s with %d", tc.ask, a.Name, len(a.Values), tc.name, tc.n)
		}
	}
	// A group under the limit returns member whole.
	res, err := c.Search(ldap.NewSearchRequest("CN=Domain Admins,CN=Users,"+privBase, ldap.ScopeBaseObject, 0, 0, 0, false, "(objectClass=*)", []string{"member"}, nil))
	if err != nil || len(res.Entries[0].GetAttributeValues("member")) != 1 {
		t.Errorf("Domain Admins member: %v %v", res, err)
	}

	users := ldap.NewSearchRequest("CN=Users,"+privBase, ldap.ScopeSingleLevel, 0, 0, 0, false, "(objectClass=user)", []string{"cn"}, nil)
	res, err = c.Search(users)
	if code(err) != ldap.LDAPResultSizeLimitExceeded || len(res.Entries) != MaxPageSize {
		t.Errorf("unpaged search of 3200+ users: %d entries, %v; want 1000 and sizeLimitExceeded", len(res.Entries), err)
	}
	paging := ldap.NewControlPaging(5000)
	users.Controls = []ldap.Control{paging}
	res, err = c.Search(users)
	if err != nil || len(res.Entries) != MaxPageSize {
		t.Errorf("a page of 5000 asked: %d entries, %v; want MaxPageSize 1000", len(res.Entries), err)
	}
	users.Controls = nil
	all, err := c.SearchWithPaging(users, 1000)
	if err != nil || len(all.Entries) < 3200 {
		t.Errorf("paged search: %d entries, %v", len(all.Entries), err)
	}
}

// TestLabAttributesAreInTheSchema: every attribute the lab puts on an object
// is one AD's schema defines (by lDAPDisplayName), so a misspelt name in the
// lab fails here rather than passing the adapter's tests.
func TestLabAttributesAreInTheSchema(t *testing.T) {
	rodc := seededView(t) // an RODC and a trust besides the default lab
	env, _ := model.NewDefault(model.Seed{})
	env.SeedDirectory()
	var v *view
	_ = env.Do(func(e *model.Env) error {
		e.Domain.Groups = map[string][]string{"PAM Operators": {"pam-user-1"}}
		e.Domain.ManagedServiceAccounts = map[string]string{"gmsa-mim$": "gmsa-MIM$"}
		v = buildStampedView(e, model.DC1, newStamps())
		return nil
	})
	gmsa := false
	for _, en := range v.order {
		if strings.HasPrefix(en.dn, "CN=gmsa-MIM,CN=Managed Service Accounts,") {
			gmsa = slices.Equal(en.values("sAMAccountName"), []string{"gmsa-MIM$"}) && slices.Contains(en.values("objectClass"), "msDS-GroupManagedServiceAccount")
		}
	}
	if !gmsa {
		t.Error("the model's group managed service account is not rendered under CN=Managed Service Accounts")
	}
	seen := map[string]bool{}
	for _, en := range append(rodc.order, v.order...) {
		for _, a := range en.attrs {
			if !seen[a.name] && !SchemaHasAttribute(a.name) {
				t.Errorf("%s: attribute %s is not in AD's schema", en.dn, a.name)
			}
			seen[a.name] = true
		}
	}
	if len(seen) < 40 || SchemaHasAttribute("uSNChangd") {
		t.Errorf("%d attribute names seen; the schema accepts a misspelling: %t", len(seen), SchemaHasAttribute("uSNChangd"))
	}
}
