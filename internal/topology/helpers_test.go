package topology

import (
	"errors"
	"strings"
	"testing"
)

func TestNormalizePartitionName(t *testing.T) {
	for in, want := range map[string]string{" pam.priv.contoso.com ": "PAM.PRIV.CONTOSO.COM", "PAM": "PAM", "": ""} {
		if got := NormalizePartitionName(in); got != want {
			t.Errorf("NormalizePartitionName(%q) = %q, want %q", in, got, want)
		}
	}
	n := MIMNode{ExternalHostName: "pam.priv"}
	if got := n.EffectivePartitionName(); got != "PAM.PRIV" {
		t.Errorf("default from externalHostName = %q", got)
	}
}

func TestCheckMIMPartitionNames(t *testing.T) {
	ok := []MIMNode{{Host: "a", ServicePartitionName: "pam"}, {Host: "b", ServicePartitionName: "PAM"}, {Host: "c"}}
	if err := CheckMIMPartitionNames(ok); err != nil {
		t.Fatalf("same names: %v", err)
	}
	if err := CheckMIMPartitionNames(nil); err != nil {
		t.Fatalf("no nodes: %v", err)
	}
	bad := []MIMNode{{Host: "a", ServicePartitionName: "x"}, {Host: "b", ServicePartitionName: "pam"}, {Host: "c", ExternalHostName: "PAM"}}
	err := CheckMIMPartitionNames(bad)
	if !errors.Is(err, ErrRule) {
		t.Fatalf("err = %v, want ErrRule", err)
	}
	var re *RuleError
	if !errors.As(err, &re) || re.RuleID != "HA-5" || strings.Join(re.Hosts, ",") != "a,b,c" {
		t.Fatalf("RuleError = %+v", re)
	}
	for _, s := range []string{`a uses "X"`, `b and c uses "PAM"`, `for example "PAM"`} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("message %q lacks %q", err, s)
		}
	}
	if !strings.HasPrefix(err.Error(), "HA-5: ") {
		t.Errorf("Error() = %q, want the rule id first", err)
	}
}

func TestCheckFCINodes(t *testing.T) {
	dcs := []string{"priv-dc1.priv.contoso.com", "priv-dc2.priv.contoso.com"}
	cases := []struct {
		name  string
		nodes []string
		want  []string // substrings; none means no error
	}{
		{"two member servers", []string{"priv-sql1", "priv-sql2"}, nil},
		{"no node", nil, []string{"has none"}},
		{"one node", []string{"priv-sql1"}, []string{"has only priv-sql1"}},
		{"same node twice", []string{"priv-sql1", "PRIV-SQL1.priv.contoso.com"}, []string{"has only priv-sql1"}},
		{"a node is a DC", []string{"priv-sql1", "PRIV-DC2"}, []string{"PRIV-DC2 is both"}},
		{"both wrong", []string{"priv-dc1"}, []string{"has only priv-dc1", "priv-dc1 is both"}},
		{"two DCs", []string{"priv-dc1", "priv-dc2"}, []string{"priv-dc1 and priv-dc2 are both"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := CheckFCINodes(c.nodes, dcs)
			if c.want == nil {
				if err != nil {
					t.Fatalf("err = %v", err)
				}
				return
			}
			if !errors.Is(err, ErrRule) {
				t.Fatalf("err = %v, want ErrRule", err)
			}
			for _, s := range c.want {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("%q lacks %q", err, s)
				}
			}
		})
	}
}

func TestIsSharedStoragePath(t *testing.T) {
	cases := []struct {
		path string
		want bool
		why  string
	}{
		{`\\pam-store\sql\data`, true, `SMB share \\pam-store\sql`},
		{`//pam-store/sql/data`, true, "SMB share"},
		{`\\?\UNC\pam-store\sql\data`, true, `SMB share \\pam-store\sql`},
		{`\\pam-store`, false, "not a complete UNC path"},
		{`\\pam-store\`, false, "not a complete UNC path"},
		{`\\.\pipe\sql`, false, "device path"},
		{`\\?\D:\Data`, true, "drive D:"},
		{`D:\MSSQL\Data`, true, "drive D:, taken to be a cluster disk"},
		{`d:/mssql/data`, true, "drive D:"},
		{`L:`, true, "drive L:"},
		{`C:\ClusterStorage\Volume1\MSSQL`, true, `Cluster Shared Volume C:\ClusterStorage\Volume1`},
		{`c:\clusterstorage\SQLData`, true, "Cluster Shared Volume"},
		{`C:\ClusterStorage`, false, "system drive C:"},
		{`C:\ClusterStorage\`, false, "system drive C:"},
		{`C:\Program Files\Microsoft SQL Server\MSSQL\DATA`, false, "system drive C:"},
		{`c:\MountPoints\SQLData`, false, "system drive C:"},
		{`C:`, false, "system drive C:"},
		{`data\sql`, false, "not an absolute Windows path"},
		{`D:data`, false, "not an absolute Windows path"},
		{`1:\data`, false, "not an absolute Windows path"},
		{`/var/opt/mssql`, false, "not an absolute Windows path"},
		{``, false, "empty"},
		{`   `, false, "empty"},
	}
	for _, c := range cases {
		got, why := IsSharedStoragePath(c.path)
		if got != c.want || !strings.Contains(why, c.why) {
			t.Errorf("IsSharedStoragePath(%q) = %v, %q; want %v and a reason containing %q", c.path, got, why, c.want, c.why)
		}
	}
}

func TestUNCServer(t *testing.T) {
	for in, want := range map[string]string{`\\srv\share\x`: "srv", `//srv/share`: "srv", `\\?\UNC\srv\s`: "srv", `\\?\D:\x`: "", `\\.\pipe\x`: "", `D:\x`: ""} {
		if got := uncServer(in); got != want {
			t.Errorf("uncServer(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestCanDemote(t *testing.T) {
	dcs := []DomainController{
		{Host: "priv-dc1.priv.contoso.com", FSMORoles: []string{"RIDMaster", "pdcemulator", "SchemaMaster", "PDCEmulator"}},
		{Host: "priv-dc2.priv.contoso.com"},
		{Host: "priv-rodc.priv.contoso.com", ReadOnly: true},
	}
	cases := []struct {
		name string
		dc   string
		dcs  []DomainController
		is   error
		want []string
	}{
		{"DC without roles", "priv-dc2", dcs, nil, nil},
		{"RODC", "priv-rodc.priv.contoso.com", dcs, nil, nil},
		{"lone RODC: no writable DC is lost", "priv-rodc", dcs[2:], nil, nil},
		{"FSMO holder", "PRIV-DC1.priv.contoso.com", dcs, ErrHoldsFSMORoles,
			[]string{"it holds the FSMO roles SchemaMaster, PDCEmulator, RIDMaster", "-Identity priv-dc2.priv.contoso.com -OperationMasterRole SchemaMaster,PDCEmulator,RIDMaster", "transfer them first"}},
		{"last writable DC beside an RODC", "priv-dc2", dcs[1:], ErrLastDomainController, []string{"last writable domain controller", "add a replica domain controller first"}},
		{"last DC", "priv-dc1", dcs[:1], ErrLastDomainController, []string{"cannot demote priv-dc1.priv.contoso.com"}},
		{"unknown host", "priv-app1", dcs, ErrNotDomainController, []string{"priv-app1"}},
		{"FSMO holder with only an RODC left to take them", "priv-dc1", []DomainController{
			{Host: "priv-dc1", FSMORoles: []string{"InfrastructureMaster"}}, {Host: "priv-dc3"}, {Host: "priv-rodc", ReadOnly: true}},
			ErrHoldsFSMORoles, []string{"-Identity priv-dc3"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := CanDemote(c.dc, c.dcs)
			if c.is == nil {
				if err != nil {
					t.Fatalf("err = %v", err)
				}
				return
			}
			if !errors.Is(err, c.is) {
				t.Fatalf("err = %v, want %v", err, c.is)
			}
			for _, s := range c.want {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("%q lacks %q", err, s)
				}
			}
		})
	}
}

func TestSortedRoles(t *testing.T) {
	got := sortedRoles([]string{" infrastructuremaster", "Custom", "SchemaMaster", "", "schemamaster"})
	if strings.Join(got, ",") != "SchemaMaster,InfrastructureMaster,Custom" {
		t.Fatalf("sortedRoles = %v", got)
	}
}

func TestIsLoopback(t *testing.T) {
	for in, want := range map[string]bool{"127.0.0.1": true, "::1": true, "LOCALHOST": true, "10.0.0.1": false, "priv-dc1": false} {
		if got := isLoopback(in); got != want {
			t.Errorf("isLoopback(%q) = %v", in, got)
		}
	}
}
