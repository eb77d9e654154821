package topology

import (
	"strings"
	"testing"

	"github.com/bastion-pam/terraform-provider-bastion/internal/adnames"
)

func TestFunctionTable(t *testing.T) {
	// The seed's priority table, row by row.
	want := []struct {
		id       Function
		name     string
		priority Priority
	}{
		{TrustEstablishment, "Trust establishment", Low},
		{UserGroupMigration, "User and group migration", Low},
		{MIMAdministration, "MIM administration", Low},
		{PrivilegedRoleActivation, "Privileged role activation", Medium},
		{ResourceManagement, "Resource management", High},
		{Monitoring, "Monitoring of users and groups in existing forest", Low},
	}
	fs := Functions()
	if len(fs) != len(want) || len(AllFunctions()) != len(want) {
		t.Fatalf("%d functions, want %d", len(fs), len(want))
	}
	for i, w := range want {
		f := fs[i]
		if f.ID != w.id || f.DisplayName != w.name || f.Priority != w.priority || AllFunctions()[i] != w.id {
			t.Errorf("row %d = %+v, want %+v", i, f, w)
		}
		if w.id.DisplayName() != w.name || w.id.Priority() != w.priority {
			t.Errorf("%s methods disagree with the table", w.id)
		}
		if f.Mitigation == "" || !strings.Contains(f.Requires, "online") {
			t.Errorf("%s lacks mitigation or requirement text", w.id)
		}
	}
	if !strings.HasPrefix(fs[3].Mitigation, "Dedicated smartcard-backed accounts") || fs[0].Mitigation != "Wait until bastion environment is restored" {
		t.Errorf("mitigations: %q, %q", fs[3].Mitigation, fs[0].Mitigation)
	}
	// Functions returns a copy.
	fs[0].DisplayName = "changed"
	if Functions()[0].DisplayName != "Trust establishment" {
		t.Fatal("Functions exposes the table")
	}
}

func TestParseFunction(t *testing.T) {
	for _, f := range AllFunctions() {
		got, err := ParseFunction(" " + string(f) + " ")
		if err != nil || got != f {
			t.Errorf("ParseFunction(%q) = %q, %v", f, got, err)
		}
	}
	_, err := ParseFunction("Privileged role activation")
	if err == nil || !strings.Contains(err.Error(), "privileged_role_activation") {
		t.Fatalf("err = %v, want the list of ids", err)
	}
	unknown := Function("x")
	if unknown.DisplayName() != "x" || unknown.Priority() != 0 || unknown.lowerName() != "x" {
		t.Errorf("unknown function: %q %v", unknown.DisplayName(), unknown.Priority())
	}
	if Function("").lowerName() != "" {
		t.Error("empty lowerName")
	}
}

func TestPriorityString(t *testing.T) {
	for p, want := range map[Priority]string{Low: "Low", Medium: "Medium", High: "High", 0: "Priority(0)"} {
		if p.String() != want {
			t.Errorf("%d.String() = %q", int(p), p.String())
		}
	}
}

func TestRequirements(t *testing.T) {
	for _, f := range AllFunctions() {
		for _, level := range []int{6, 7, 10} {
			modernRM := f == ResourceManagement && level >= 7
			if needs(f, level, compMIM) == modernRM || needs(f, level, compSQL) == modernRM || !needs(f, level, compDC) {
				t.Errorf("%s at level %d: requirements %v", f, level, requirements(f, level))
			}
		}
	}
}

func TestForestLevelName(t *testing.T) {
	want := map[int]string{-1: "unknown", 0: "Windows 2000", 1: "Windows Server 2003 interim", 2: "Windows Server 2003", 3: "Windows Server 2008",
		4: "Windows Server 2008 R2", 5: "Windows Server 2012", 6: "Windows Server 2012 R2", 7: "Windows Server 2016", 10: "newer than Windows Server 2016"}
	for l, w := range want {
		if got := adnames.LevelName(l); got != w {
			t.Errorf("ForestLevelName(%d) = %q, want %q", l, got, w)
		}
	}
}

func TestFSMORoles(t *testing.T) {
	if got := strings.Join(adnames.FSMORoles(), ","); got != "SchemaMaster,DomainNamingMaster,PDCEmulator,RIDMaster,InfrastructureMaster" {
		t.Fatalf("FSMORoles = %s", got)
	}
}

func TestJoinAnd(t *testing.T) {
	for want, in := range map[string][]string{"": nil, "a": {"a"}, "a and b": {"a", "b"}, "a, b and c": {"a", "b", "c"}} {
		if got := joinAnd(in); got != want {
			t.Errorf("joinAnd(%v) = %q", in, got)
		}
	}
}
