package fci

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/bastion-pam/terraform-provider-bastion/internal/sqlserver"
	"github.com/bastion-pam/terraform-provider-bastion/internal/testsupport/fakerunner"
	"github.com/bastion-pam/terraform-provider-bastion/internal/transport"
)

func TestNodeViews(t *testing.T) {
	fc := sqlserver.FailoverCluster{Nodes: []sqlserver.ClusterNode{
		{Name: "PRIV-APP1", Status: sqlserver.NodeUp},
		{Name: "PRIV-APP2", Status: sqlserver.NodeDown, IsCurrentOwner: true},
		{Name: "PRIV-APP9", Status: sqlserver.NodeUp},
	}}
	views := NodeViews("priv-sql.priv.contoso.test", []string{"PRIV-APP2.priv.contoso.test", "priv-app1.priv.contoso.test", "priv-app3.priv.contoso.test"}, fc)
	var got []string
	for _, v := range views {
		got = append(got, fmt.Sprintf("%s/%s/%v", v.Host, v.Status, v.Owner))
	}
	want := "PRIV-APP2.priv.contoso.test/down/true priv-app1.priv.contoso.test/up/false priv-app9.priv.contoso.test/up/false"
	if strings.Join(got, " ") != want {
		t.Fatalf("views %v\nwant %s", got, want)
	}
	if order := RemovalOrder(views); strings.Join(order, " ") != "priv-app9.priv.contoso.test priv-app1.priv.contoso.test PRIV-APP2.priv.contoso.test" {
		t.Fatalf("removal order %v: passive nodes from the last listed, the owner last", order)
	}
	added, removed := NodeChanges([]string{"priv-app1.priv.contoso.test", "priv-app2.priv.contoso.test"}, []string{"PRIV-APP2.priv.contoso.test.", "priv-app3.priv.contoso.test"})
	if strings.Join(added, ",") != "priv-app3.priv.contoso.test" || strings.Join(removed, ",") != "priv-app1.priv.contoso.test" {
		t.Fatalf("changes: added %v removed %v", added, removed)
	}
	if got := HostOf("PRIV-APP4", "PRIV-SQL.Priv.Test."); got != "priv-app4.priv.test" {
		t.Errorf("HostOf = %q", got)
	}
}

var spec = Spec{
	InstanceName: "MSSQLSERVER", NetworkName: "priv-sql.priv.contoso.test",
	Features: []string{"sqlengine", "AS"}, SysadminAccounts: []string{`PRIV\b`, `PRIV\a`},
	DataDirectory: `S:\Data`, TempDBDirectory: `T:\TempDB`,
	SQLServiceAccount: `PRIV\svc-sql`, SQLServicePassword: "s3cret", AgentServiceAccount: `PRIV\gmsa-agent$`, AgentServicePassword: "unused",
}

func TestParams(t *testing.T) {
	asJSON := func(v any) string { b, _ := json.Marshal(v); return string(b) }
	for _, c := range []struct {
		name string
		got  map[string]any
		want string
	}{
		{"install", spec.InstallParams(), `{"AGTSVCACCOUNT":"PRIV\\gmsa-agent$","FAILOVERCLUSTERGROUP":"SQL Server (MSSQLSERVER)","FAILOVERCLUSTERIPADDRESSES":["DEFAULT"],` +
			`"FAILOVERCLUSTERNETWORKNAME":"PRIV-SQL","FEATURES":"AS,SQLENGINE","INSTALLSQLDATADIR":"S:\\Data","INSTANCENAME":"MSSQLSERVER",` +
			`"SQLSVCACCOUNT":"PRIV\\svc-sql","SQLSVCPASSWORD":"s3cret","SQLSYSADMINACCOUNTS":["PRIV\\a","PRIV\\b"],"SQLTEMPDBDIR":"T:\\TempDB","SQLUSERDBDIR":"S:\\Data"}`},
		{"add node", Spec{InstanceName: "I", SQLServiceAccount: "gmsa$", AgentServiceAccount: "a", AgentServicePassword: "p",
			IPAddresses: []IPAddress{{"10.0.0.5", "Cluster Network 1", "255.255.255.0"}}}.AddNodeParams(),
			`{"AGTSVCACCOUNT":"a","AGTSVCPASSWORD":"p","FAILOVERCLUSTERIPADDRESSES":["IPv4;10.0.0.5;Cluster Network 1;255.255.255.0"],"INSTANCENAME":"I","SQLSVCACCOUNT":"gmsa$"}`},
		{"remove node", spec.RemoveNodeParams(), `{"INSTANCENAME":"MSSQLSERVER"}`},
	} {
		if got := asJSON(c.got); got != c.want {
			t.Errorf("%s:\n got %s\nwant %s", c.name, got, c.want)
		}
	}
	if spec.Features[0] != "sqlengine" || spec.SysadminAccounts[0] != `PRIV\b` {
		t.Error("InstallParams changed the spec's slices")
	}
	if p := (Spec{ClusterDisks: []string{"b", "a"}}).InstallParams(); !reflect.DeepEqual(p["FAILOVERCLUSTERDISKS"], []string{"a", "b"}) || p["SQLSYSADMINACCOUNTS"] != nil && len(p["SQLSYSADMINACCOUNTS"].([]string)) != 0 {
		t.Errorf("disks %v, admins %v", p["FAILOVERCLUSTERDISKS"], p["SQLSYSADMINACCOUNTS"])
	}
}

func TestSetup(t *testing.T) {
	f := &fakerunner.Runner{Reply: `{"action":"RemoveNode","exit_code":3010,"reboot_required":true,"summary_log":"C:\\Summary.txt","arguments":["/ACTION=RemoveNode"]}`}
	out, err := Setup(context.Background(), f, "h", `D:\`, ActionRemoveNode, spec.RemoveNodeParams())
	if err != nil || !out.RebootRequired || out.ExitCode != 3010 || out.SummaryLog != `C:\Summary.txt` || len(out.Arguments) != 1 {
		t.Fatalf("Setup = %+v, %v", out, err)
	}
	if want := `sql_setup {"media_path":"D:\\","action":"RemoveNode","parameters":{"INSTANCENAME":"MSSQLSERVER"},"summary_tail_lines":30}`; f.Script+" "+f.Raw != want {
		t.Errorf("input %s %s\nwant %s", f.Script, f.Raw, want)
	}
}

// fakeLogins holds logins and their roles.
type fakeLogins map[string][]string

func (l fakeLogins) Login(_ context.Context, name string) (sqlserver.Login, error) {
	r, ok := l[strings.ToLower(name)]
	if !ok {
		return sqlserver.Login{}, transport.ErrNotFound
	}
	return sqlserver.Login{Name: name, Roles: r}, nil
}
func (l fakeLogins) CreateLogin(_ context.Context, name string, roles []string) error {
	l[strings.ToLower(name)] = roles
	return nil
}
func (l fakeLogins) SetLoginRoles(_ context.Context, name string, roles []string) error {
	if name == "broken" {
		return errors.New("denied")
	}
	l[strings.ToLower(name)] = roles
	return nil
}

func TestSetSysadmins(t *testing.T) {
	l := fakeLogins{`priv\old`: {"sysadmin", "dbcreator"}, `priv\dba`: {"dbcreator"}}
	if err := SetSysadmins(context.Background(), l, []string{`PRIV\old`, `PRIV\gone`}, []string{`priv\OLD`, `PRIV\dba`, `PRIV\new`}); err != nil {
		t.Fatal(err)
	}
	want := fakeLogins{`priv\old`: {"sysadmin", "dbcreator"}, `priv\dba`: {"dbcreator", "sysadmin"}, `priv\new`: {"sysadmin"}}
	if !reflect.DeepEqual(l, want) {
		t.Fatalf("logins %v, want %v", l, want)
	}
	if err := SetSysadmins(context.Background(), l, []string{`PRIV\dba`}, nil); err != nil || !reflect.DeepEqual(l[`priv\dba`], []string{"dbcreator"}) {
		t.Fatalf("removal: %v, %v", err, l)
	}
	l["broken"] = []string{"sysadmin"}
	if err := SetSysadmins(context.Background(), l, []string{"broken"}, nil); err == nil {
		t.Fatal("a failed role change was not reported")
	}
}
