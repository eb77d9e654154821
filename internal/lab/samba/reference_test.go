package samba

import (
	"errors"
	"os/exec"
	"reflect"
	"strings"
	"testing"

	"github.com/bastion-pam/terraform-provider-bastion/internal/adnames"
)

// Outputs below were captured from Samba 4.22.6 in this lab.

const fsmoShowOutput = `SchemaMasterRole owner: CN=NTDS Settings,CN=PRIV-DC1,CN=Servers,CN=Default-First-Site-Name,CN=Sites,CN=Configuration,DC=priv,DC=contoso,DC=test
InfrastructureMasterRole owner: CN=NTDS Settings,CN=PRIV-DC1,CN=Servers,CN=Default-First-Site-Name,CN=Sites,CN=Configuration,DC=priv,DC=contoso,DC=test
RidAllocationMasterRole owner: CN=NTDS Settings,CN=PRIV-DC2,CN=Servers,CN=Default-First-Site-Name,CN=Sites,CN=Configuration,DC=priv,DC=contoso,DC=test
PdcEmulationMasterRole owner: CN=NTDS Settings,CN=PRIV-DC1,CN=Servers,CN=Default-First-Site-Name,CN=Sites,CN=Configuration,DC=priv,DC=contoso,DC=test
DomainNamingMasterRole owner: CN=NTDS Settings,CN=PRIV-DC1,CN=Servers,CN=Default-First-Site-Name,CN=Sites,CN=Configuration,DC=priv,DC=contoso,DC=test
DomainDnsZonesMasterRole owner: CN=NTDS Settings,CN=PRIV-DC1,CN=Servers,CN=Default-First-Site-Name,CN=Sites,CN=Configuration,DC=priv,DC=contoso,DC=test
ForestDnsZonesMasterRole owner: CN=NTDS Settings,CN=PRIV-DC1,CN=Servers,CN=Default-First-Site-Name,CN=Sites,CN=Configuration,DC=priv,DC=contoso,DC=test
`

func TestParseFSMOShow(t *testing.T) {
	got, err := parseFSMOShow(fsmoShowOutput)
	if err != nil {
		t.Fatal(err)
	}
	dc1 := "CN=NTDS Settings,CN=PRIV-DC1,CN=Servers,CN=Default-First-Site-Name,CN=Sites,CN=Configuration,DC=priv,DC=contoso,DC=test"
	want := map[FSMORole]string{
		adnames.SchemaMaster: dc1, adnames.DomainNamingMaster: dc1, adnames.PDCEmulator: dc1, adnames.InfrastructureMaster: dc1,
		adnames.RIDMaster: strings.Replace(dc1, "PRIV-DC1", "PRIV-DC2", 1),
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("parseFSMOShow = %v, want %v", got, want)
	}
	if s := ServerOf(got[adnames.RIDMaster]); s != "PRIV-DC2" {
		t.Errorf("ServerOf(RID master) = %q, want PRIV-DC2", s)
	}

	// A role missing from the output is an error, not an empty holder.
	partial := strings.Join(strings.Split(fsmoShowOutput, "\n")[1:], "\n")
	if _, err := parseFSMOShow(partial); !errors.Is(err, ErrNotFound) {
		t.Errorf("parseFSMOShow without SchemaMasterRole: err = %v, want ErrNotFound", err)
	}
}

func TestServerOf(t *testing.T) {
	for dn, want := range map[string]string{
		"CN=NTDS Settings,CN=PRIV-DC1,CN=Servers,CN=S,CN=Sites,CN=Configuration,DC=x": "PRIV-DC1",
		"cn=ntds settings,CN=A\\,B,CN=Servers,CN=S,CN=Sites,CN=Configuration,DC=x":    "A\\,B",
		"CN=PRIV-DC1,CN=Servers,CN=S,CN=Sites,CN=Configuration,DC=x":                  "",
		"": "",
	} {
		if got := ServerOf(dn); got != want {
			t.Errorf("ServerOf(%q) = %q, want %q", dn, got, want)
		}
	}
}

const dcsLDIF = `# record 1
dn: CN=PRIV-DC2,CN=Servers,CN=Default-First-Site-Name,CN=Sites,CN=Configuration,DC=priv,DC=contoso,DC=test
objectClass: top
objectClass: server
serverReference: CN=PRIV-DC2,OU=Domain Controllers,DC=priv,DC=contoso,DC=test
dNSHostName: priv-dc2.priv.contoso.test

# record 2
dn: CN=NTDS Settings,CN=PRIV-DC2,CN=Servers,CN=Default-First-Site-Name,CN=Site
 s,CN=Configuration,DC=priv,DC=contoso,DC=test
objectClass: top
objectClass: applicationSettings
objectClass: nTDSDSA
options: 1
msDS-Behavior-Version: 7

# record 3
dn: CN=PRIV-DC1,CN=Servers,CN=Default-First-Site-Name,CN=Sites,CN=Configuration,DC=priv,DC=contoso,DC=test
objectClass: top
objectClass: server
dNSHostName: priv-dc1.priv.contoso.test
serverReference: CN=PRIV-DC1,OU=Domain Controllers,DC=priv,DC=contoso,DC=test

# record 4
dn:: Q049TlREUyBTZXR0aW5ncyxDTj1QUklWLURDMSxDTj1TZXJ2ZXJzLENOPURlZmF1bHQtRmlyc3QtU2l0ZS1OYW1lLENOPVNpdGVzLENOPUNvbmZpZ3VyYXRpb24sREM9cHJpdixEQz1jb250b3NvLERDPXRlc3Q=
objectClass: top
objectClass: applicationSettings
objectClass: nTDSDSA
options: 0
msDS-Behavior-Version: 7

# record 5
dn: CN=PRIV-DC3,CN=Servers,CN=Default-First-Site-Name,CN=Sites,CN=Configuration,DC=priv,DC=contoso,DC=test
objectClass: top
objectClass: server

# returned 5 records
# 5 entries
# 0 referrals
`

func TestParseDirectoryDCs(t *testing.T) {
	got, err := parseDirectoryDCs(dcsLDIF)
	if err != nil {
		t.Fatal(err)
	}
	site := "CN=Servers,CN=Default-First-Site-Name,CN=Sites,CN=Configuration,DC=priv,DC=contoso,DC=test"
	want := []DirectoryDC{
		{
			Name: "PRIV-DC1", DNSHostName: "priv-dc1.priv.contoso.test", ServerDN: "CN=PRIV-DC1," + site,
			NTDSSettingsDN:  "CN=NTDS Settings,CN=PRIV-DC1," + site,
			ServerReference: "CN=PRIV-DC1,OU=Domain Controllers,DC=priv,DC=contoso,DC=test",
			Site:            "Default-First-Site-Name", Options: 0, BehaviorVersion: 7,
		},
		{
			Name: "PRIV-DC2", DNSHostName: "priv-dc2.priv.contoso.test", ServerDN: "CN=PRIV-DC2," + site,
			NTDSSettingsDN:  "CN=NTDS Settings,CN=PRIV-DC2," + site,
			ServerReference: "CN=PRIV-DC2,OU=Domain Controllers,DC=priv,DC=contoso,DC=test",
			Site:            "Default-First-Site-Name", Options: 1, BehaviorVersion: 7,
		},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("parseDirectoryDCs =\n%+v\nwant\n%+v", got, want)
	}
}

func TestParseLDIFErrors(t *testing.T) {
	for name, in := range map[string]string{
		"attribute before dn": "objectClass: top\n",
		"no colon":            "dn: CN=x\nbroken line\n",
		"bad base64":          "dn:: !!!\n",
	} {
		if _, err := parseLDIF(in); err == nil {
			t.Errorf("%s: parseLDIF(%q) succeeded", name, in)
		}
	}
}

const trustListOutput = `Type[Forest]   Transitive[Yes] Direction[BOTH]     Name[corp.contoso.test]
`

const trustShowOutput = `LocalDomain Netbios[PRIV] DNS[priv.contoso.test] SID[S-1-5-21-943223360-686770802-2627789794]
TrustedDomain:

NetbiosName:    CORP
DnsName:        corp.contoso.test
SID:            S-1-5-21-3234738226-1756125669-3966930184
Type:           0x2 (UPLEVEL)
Direction:      0x3 (BOTH)
Attributes:     0x8 (FOREST_TRANSITIVE)
PosixOffset:    0x00000000 (0)
kerb_EncTypes:  0x18 (AES128_CTS_HMAC_SHA1_96,AES256_CTS_HMAC_SHA1_96)
Namespaces[2] TDO[corp.contoso.test]:
TLN: Status[Enabled]                  DNS[*.corp.contoso.test]
DOM: Status[Enabled]                  DNS[corp.contoso.test] Netbios[CORP] SID[S-1-5-21-3234738226-1756125669-3966930184]
`

func TestParseTrusts(t *testing.T) {
	trusts, err := parseTrustList(trustListOutput)
	if err != nil {
		t.Fatal(err)
	}
	if len(trusts) != 1 {
		t.Fatalf("parseTrustList: %d trusts, want 1", len(trusts))
	}
	if err := parseTrustShow(trustShowOutput, &trusts[0]); err != nil {
		t.Fatal(err)
	}
	want := Trust{
		Name: "corp.contoso.test", NetBIOSName: "CORP", SID: "S-1-5-21-3234738226-1756125669-3966930184",
		Type: 2, TypeName: "UPLEVEL", Direction: 3, DirectionName: "BOTH",
		Attributes: 8, AttributeNames: []string{"FOREST_TRANSITIVE"}, Transitive: true, ListType: "Forest",
	}
	if !reflect.DeepEqual(trusts[0], want) {
		t.Errorf("trust =\n%+v\nwant\n%+v", trusts[0], want)
	}

	external := strings.Replace(trustShowOutput, "0x8 (FOREST_TRANSITIVE)", "0x48 (FOREST_TRANSITIVE,TREAT_AS_EXTERNAL)", 1)
	var tr Trust
	if err := parseTrustShow(external, &tr); err != nil {
		t.Fatal(err)
	}
	if tr.Attributes != 0x48 || !reflect.DeepEqual(tr.AttributeNames, []string{"FOREST_TRANSITIVE", "TREAT_AS_EXTERNAL"}) {
		t.Errorf("attributes = %#x %v, want 0x48 [FOREST_TRANSITIVE TREAT_AS_EXTERNAL]", tr.Attributes, tr.AttributeNames)
	}

	if err := parseTrustShow("TrustedDomain:\n\nNetbiosName:    CORP\n", &tr); !errors.Is(err, ErrNotFound) {
		t.Errorf("parseTrustShow of a truncated output: err = %v, want ErrNotFound", err)
	}
}

func TestParseLevelShow(t *testing.T) {
	for name, tc := range map[string]struct {
		in   string
		want FunctionalLevels
	}{
		"2016": {
			in: "Domain and forest function level for domain 'DC=priv,DC=contoso,DC=test'\n\n" +
				"Forest function level: (Windows) 2016\nDomain function level: (Windows) 2016\nLowest function level of a DC: (Windows) 2016",
			want: FunctionalLevels{Forest: "2016", Domain: "2016", LowestDC: "2016", ForestVersion: 7, DomainVersion: 7, LowestDCVersion: 7},
		},
		"2008 R2": {
			in:   "Forest function level: (Windows) 2008 R2\nDomain function level: (Windows) 2008 R2\nLowest function level of a DC: (Windows) 2012 R2\n",
			want: FunctionalLevels{Forest: "2008 R2", Domain: "2008 R2", LowestDC: "2012 R2", ForestVersion: 4, DomainVersion: 4, LowestDCVersion: 6},
		},
	} {
		got, err := parseLevelShow(tc.in)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if got != tc.want {
			t.Errorf("%s: parseLevelShow = %+v, want %+v", name, got, tc.want)
		}
	}
	if _, err := parseLevelShow("Forest function level: (Windows) 2016\n"); !errors.Is(err, ErrNotFound) {
		t.Errorf("parseLevelShow of a partial output: err = %v, want ErrNotFound", err)
	}
}

func TestParseTombstoneLifetime(t *testing.T) {
	set := "# record 1\ndn: CN=Directory Service,CN=Windows NT,CN=Services,CN=Configuration,DC=priv,DC=contoso,DC=test\ntombstoneLifetime: 180\n\n# returned 1 records\n"
	if got, err := parseTombstoneLifetime(set); err != nil || got != 180 {
		t.Errorf("parseTombstoneLifetime(set) = %d, %v; want 180", got, err)
	}
	unset := "# record 1\ndn: CN=Directory Service,CN=Windows NT,CN=Services,CN=Configuration,DC=x\n\n"
	if got, err := parseTombstoneLifetime(unset); err != nil || got != DefaultTombstoneLifetime {
		t.Errorf("parseTombstoneLifetime(unset) = %d, %v; want %d", got, err, DefaultTombstoneLifetime)
	}
	if _, err := parseTombstoneLifetime("# returned 0 records\n"); !errors.Is(err, ErrNotFound) {
		t.Errorf("parseTombstoneLifetime(no entry): err = %v, want ErrNotFound", err)
	}
}

func TestAvailableSaysHowToRun(t *testing.T) {
	found := func(string) (string, error) { return "/usr/bin/x", nil }
	err := available(1000, found)
	if !errors.Is(err, ErrUnavailable) {
		t.Fatalf("available(non-root) = %v, want ErrUnavailable", err)
	}
	for _, want := range []string{"root", "sudo make test", "sudo go test ./internal/lab/samba/..."} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("available(non-root) error %q does not mention %q", err, want)
		}
	}
	missing := func(name string) (string, error) {
		if name == "nsenter" {
			return "", exec.ErrNotFound
		}
		return "/usr/bin/" + name, nil
	}
	if err := available(0, missing); !errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), "nsenter") {
		t.Errorf("available(root, no nsenter) = %v, want ErrUnavailable naming nsenter", err)
	}
	if err := available(0, found); err != nil {
		t.Errorf("available(root, all tools) = %v, want nil", err)
	}
}

func TestRedact(t *testing.T) {
	got := redact([]string{"exec", "/s", "priv-dc1", "--", "samba-tool", "--password=secret", "-U", "x"})
	if strings.Contains(strings.Join(got, " "), "secret") {
		t.Errorf("redact left the password: %v", got)
	}
}

// A subtree ldbsearch from a domain head also prints referrals to the DNS
// partitions below it; they are not entries.
func TestParseLDIFSkipsReferrals(t *testing.T) {
	in := "# record 1\ndn: CN=Domain Admins,CN=Users,DC=priv,DC=contoso,DC=test\nmember: CN=Administrator,CN=Users,DC=priv,DC=contoso,DC=test\n\n" +
		"# Referral\nref: ldap:///DC=DomainDnsZones,DC=priv,DC=contoso,DC=test\n\n# returned 2 records\n# 1 entries\n# 1 referrals\n"
	entries, err := parseLDIF(in)
	if err != nil || len(entries) != 1 || entries[0].first("member") != "CN=Administrator,CN=Users,DC=priv,DC=contoso,DC=test" {
		t.Fatalf("parseLDIF = %+v, %v", entries, err)
	}
}
