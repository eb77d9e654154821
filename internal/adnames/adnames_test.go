package adnames

import (
	"strings"
	"testing"
)

func TestSameHost(t *testing.T) {
	for _, c := range []struct {
		a, b string
		want bool
	}{
		{"priv-dc1.priv.contoso.test", "PRIV-DC1.priv.contoso.test.", true},
		{"PRIV-DC1", "priv-dc1.priv.contoso.test", true},
		{"priv-dc1.priv.contoso.test", "priv-dc1", true},
		{" priv-dc1 ", "PRIV-DC1", true},
		{"priv-dc1.priv.contoso.test", "priv-dc1.corp.contoso.test", false},
		{"priv-dc1", "priv-dc2.priv.contoso.test", false},
		{"priv-dc1", "priv-dc10", false},
		{"10.0.0.1", "10.0.0.1", true},
		{"10.0.0.1", "::ffff:10.0.0.1", true},
		{"10.0.0.1", "10", false},
		{"10.0.0.1", "10.0.0.2", false},
		{"", "", false},
		{"", "priv-dc1", false},
		{".", "priv-dc1", false},
		// The topology rules' cases (their hosts are in priv.contoso.com).
		{"priv-dc1.priv.contoso.com", "PRIV-DC1.priv.contoso.com.", true},
		{"priv-dc1", "priv-dc1.priv.contoso.com", true},
		{"PRIV-DC1", "priv-dc1", true},
		{"priv-dc1.priv.contoso.com", "priv-dc1.corp.contoso.com", false},
		{"priv-dc1", "priv-dc2", false},
		{"::1", "0:0:0:0:0:0:0:1", true},
		{" ", "x", false},
	} {
		if got := SameHost(c.a, c.b); got != c.want {
			t.Errorf("SameHost(%q, %q) = %v, want %v", c.a, c.b, got, c.want)
		}
		if got := SameHost(c.b, c.a); got != c.want {
			t.Errorf("SameHost(%q, %q) = %v, want %v (not symmetric)", c.b, c.a, got, c.want)
		}
	}
	if !HostIn("PRIV-SQL1", []string{"priv-dc1.x.test", "priv-sql1.x.test"}) || HostIn("priv-sql2", []string{"priv-sql1.x.test"}) {
		t.Error("HostIn does not follow SameHost")
	}
}

func TestHostKeyAndShortName(t *testing.T) {
	if got := HostKey(" PRIV-DC1.Priv.Test. "); got != "priv-dc1.priv.test" {
		t.Errorf("HostKey = %q", got)
	}
	if got := ShortName("PRIV-DC1.priv.test"); got != "PRIV-DC1" {
		t.Errorf("ShortName = %q", got)
	}
	if got := ShortName("PRIV-DC1"); got != "PRIV-DC1" {
		t.Errorf("ShortName of a short name = %q", got)
	}
}

func TestRoles(t *testing.T) {
	if got := strings.Join(FSMORoles(), ","); got != "SchemaMaster,DomainNamingMaster,PDCEmulator,RIDMaster,InfrastructureMaster" {
		t.Errorf("FSMORoles = %s", got)
	}
	if r, ok := CanonicalRole(" pdcemulator"); !ok || r != PDCEmulator {
		t.Errorf("CanonicalRole(pdcemulator) = %q, %v", r, ok)
	}
	if _, ok := CanonicalRole("PDC"); ok {
		t.Error("CanonicalRole accepted PDC")
	}
	if !ForestWideRole(SchemaMaster) || !ForestWideRole(DomainNamingMaster) || ForestWideRole(RIDMaster) {
		t.Error("ForestWideRole wrong")
	}
	nc := NamingContextsOf("priv.contoso.test")
	for role, want := range map[string]string{
		SchemaMaster:         "CN=Schema,CN=Configuration,DC=priv,DC=contoso,DC=test",
		DomainNamingMaster:   "CN=Partitions,CN=Configuration,DC=priv,DC=contoso,DC=test",
		PDCEmulator:          "DC=priv,DC=contoso,DC=test",
		RIDMaster:            "CN=RID Manager$,CN=System,DC=priv,DC=contoso,DC=test",
		InfrastructureMaster: "CN=Infrastructure,DC=priv,DC=contoso,DC=test",
		"PDC":                "",
	} {
		if got := RoleObjectDN(role, nc); got != want {
			t.Errorf("RoleObjectDN(%s) = %q, want %q", role, got, want)
		}
	}
}

func TestNamingContexts(t *testing.T) {
	nc := NamingContextsOf("priv.contoso.test.")
	for kind, want := range map[string]string{
		NCDomain:         "DC=priv,DC=contoso,DC=test",
		NCConfiguration:  "CN=Configuration,DC=priv,DC=contoso,DC=test",
		NCSchema:         "CN=Schema,CN=Configuration,DC=priv,DC=contoso,DC=test",
		NCDomainDNSZones: "DC=DomainDnsZones,DC=priv,DC=contoso,DC=test",
		NCForestDNSZones: "DC=ForestDnsZones,DC=priv,DC=contoso,DC=test",
		"Other":          "",
	} {
		if got := nc.ByKind(kind); got != want {
			t.Errorf("ByKind(%s) = %q, want %q", kind, got, want)
		}
	}
}

func TestDN(t *testing.T) {
	for _, c := range []struct{ name, got, want string }{
		{"DomainDN", DomainDN("priv.contoso.test"), "DC=priv,DC=contoso,DC=test"},
		{"DomainDN escapes", DomainDN("a,b.test"), `DC=a\,b,DC=test`},
		{"DNSNameOfDN", DNSNameOfDN("CN=X,OU=Domain Controllers,DC=Priv, DC=contoso,DC=test"), "priv.contoso.test"},
		{"DNSNameOfDN none", DNSNameOfDN("CN=X,CN=Users"), ""},
		{"DNSNameOfDN bad", DNSNameOfDN("not a dn"), ""},
		{"NormDN", NormDN(" CN=NTDS Settings, CN=PRIV-DC1,DC=Priv "), "cn=ntds settings,cn=priv-dc1,dc=priv"},
		{"NormDN bad", NormDN(" Not A DN "), "not a dn"},
		{"NormDN empty", NormDN("  "), ""},
		{"ParentDN", ParentDN(`CN=a\,b,CN=Users,DC=x`), "CN=Users,DC=x"},
		{"ParentDN single", ParentDN("DC=x"), ""},
		{"RDNValue", RDNValue(`CN=a\,b,CN=Users`), "a,b"},
		{"RDNValue bad", RDNValue("nope"), ""},
		{"ServerOfNTDSSettings", ServerOfNTDSSettings("CN=NTDS Settings,CN=PRIV-DC1,CN=Servers,CN=Site,CN=Sites,CN=Configuration,DC=x"), "PRIV-DC1"},
		{"ServerOfNTDSSettings other", ServerOfNTDSSettings("CN=PRIV-DC1,CN=Servers,DC=x"), ""},
	} {
		if c.got != c.want {
			t.Errorf("%s = %q, want %q", c.name, c.got, c.want)
		}
	}
	if !SameDN("CN=A, DC=x", "cn=a,dc=X") || SameDN("CN=A,DC=x", "CN=B,DC=x") || SameDN("bad", "worse") {
		t.Error("SameDN wrong")
	}
}

func TestLevelsAndBits(t *testing.T) {
	for level, want := range map[int]string{0: "Windows 2000", 1: "Windows Server 2003 interim", 4: "Windows Server 2008 R2", 7: "Windows Server 2016", 10: "newer than Windows Server 2016", -1: "unknown"} {
		if got := LevelName(level); got != want {
			t.Errorf("LevelName(%d) = %q, want %q", level, got, want)
		}
	}
	if got := strings.Join(TrustAttributeNames(TrustAttrForestTransitive|TrustAttrPIMTrust|0x2000), ","); got != "FOREST_TRANSITIVE,PIM_TRUST,0x2000" {
		t.Errorf("TrustAttributeNames = %s", got)
	}
	for d, want := range map[int]string{0: "Disabled", 1: "Inbound", 2: "Outbound", 3: "Bidirectional", 9: "Disabled"} {
		if got := TrustDirectionName(d); got != want {
			t.Errorf("TrustDirectionName(%d) = %q", d, got)
		}
	}
}

func TestClassesOf(t *testing.T) {
	for _, c := range []struct {
		p    string
		want PasswordClasses
		n    int
	}{
		{"", PasswordClasses{}, 0},
		{"abc", PasswordClasses{Lower: true}, 1},
		{"Abc1", PasswordClasses{Upper: true, Lower: true, Digit: true}, 3},
		{"Ab1!", PasswordClasses{true, true, true, true}, 4},
		{"ÉÀ é 9", PasswordClasses{Upper: true, Lower: true, Digit: true, Other: true}, 4},
	} {
		if got := ClassesOf(c.p); got != c.want || got.Count() != c.n {
			t.Errorf("ClassesOf(%q) = %+v (%d), want %+v (%d)", c.p, got, got.Count(), c.want, c.n)
		}
	}
}
