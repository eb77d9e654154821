package winrmsim

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/bastion-pam/terraform-provider-bastion/internal/lab/model"
)

// commandLineToArgv splits a command line as CommandLineToArgvW does (the
// rules setup.exe's arguments are parsed with), for checking setupArgument.
func commandLineToArgv(s string) []string {
	var out []string
	var cur strings.Builder
	inQuotes, have := false, false
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == '\\':
			n := 0
			for i < len(s) && s[i] == '\\' {
				n++
				i++
			}
			if i < len(s) && s[i] == '"' {
				cur.WriteString(strings.Repeat(`\`, n/2))
				if n%2 == 1 {
					cur.WriteByte('"')
					i++
				}
			} else {
				cur.WriteString(strings.Repeat(`\`, n))
			}
			have = true
		case c == '"':
			inQuotes = !inQuotes
			have = true
			i++
		case (c == ' ' || c == '\t') && !inQuotes:
			if have {
				out = append(out, cur.String())
				cur.Reset()
				have = false
			}
			i++
		default:
			cur.WriteByte(c)
			have = true
			i++
		}
	}
	if have {
		out = append(out, cur.String())
	}
	return out
}

func TestSetupArgumentRoundTrip(t *testing.T) {
	for _, v := range []string{
		`E:\`, `E:\MSSQL\`, `\\fs01\sql share\data\`, `PRIV\SQL Admins`, `IPv4;10.0.0.5;Cluster Network 1;255.255.255.0`,
		`pa"ss\"word\\`, ``, `a b`, `trailing\\`, `"`, `\"`, `C:\Program Files\Microsoft SQL Server`,
	} {
		arg := "/SETTING=" + setupArgument(v)
		got := commandLineToArgv(arg + " /NEXT=1")
		if len(got) != 2 || got[0] != "/SETTING="+v || got[1] != "/NEXT=1" {
			t.Errorf("value %q -> %s -> %q", v, arg, got)
		}
	}
}

type sqlSetupCase struct{ labCase }

func newSQLSetupCase(t *testing.T) *sqlSetupCase {
	t.Helper()
	c := &sqlSetupCase{newLabCase()}
	c.env.Credentials[`priv\svc-sql`] = "Svc!Sql12345"
	_ = c.env.Do(func(e *model.Env) error {
		for _, h := range []string{model.App1, model.App2, model.App3} {
			e.Host(h).WriteFile(model.DefaultSQLSetupPath, model.SQLMedia("15.0.4355.3"))
		}
		return nil
	})
	return c
}

func (c *sqlSetupCase) run(t *testing.T, host string, input map[string]any) (map[string]any, error) {
	t.Helper()
	setup := func(e *model.Env, h *model.Host, raw json.RawMessage) (any, error) {
		return sqlSetup(e, h, adminBatch, raw)
	}
	return runHandler(t, c.env, setup, host, input)
}

func installInput() map[string]any {
	return map[string]any{
		"media_path": model.DefaultSQLMediaPath,
		"action":     "InstallFailoverCluster",
		"parameters": map[string]any{
			"INSTANCENAME": "MSSQLSERVER", "FEATURES": "SQLENGINE", "FAILOVERCLUSTERNETWORKNAME": "PRIV-SQL",
			"FAILOVERCLUSTERIPADDRESSES": []string{"IPv4;10.0.0.50;Cluster Network 1;255.255.255.0"},
			"FAILOVERCLUSTERDISKS":       []string{"Cluster Disk 1", "Cluster Disk 2"},
			"INSTALLSQLDATADIR":          `E:\`, "SQLUSERDBLOGDIR": `F:\MSSQL\Log`,
			"SQLSVCACCOUNT": `PRIV\svc-sql`, "SQLSVCPASSWORD": "Svc!Sql12345",
			"AGTSVCACCOUNT": `PRIV\gmsa-sqlagent$`, "AGTSVCPASSWORD": "ignored-for-an-msa",
			"SQLSYSADMINACCOUNTS":   []string{`PRIV\Administrator`, `PRIV\SQL Admins`},
			"SQLSVCINSTANTFILEINIT": true,
		},
	}
}

func TestSQLSetupInstallAddRemove(t *testing.T) {
	c := newSQLSetupCase(t)
	out, err := c.run(t, model.App1, installInput())
	if err != nil {
		t.Fatal(err)
	}
	args := strings.Join(toStrings(out["arguments"]), " ")
	for _, want := range []string{"/ACTION=InstallFailoverCluster /Q /IACCEPTSQLSERVERLICENSETERMS", `/INSTALLSQLDATADIR="E:\\"`,
		`/SQLSYSADMINACCOUNTS="PRIV\Administrator" "PRIV\SQL Admins"`, "/SQLSVCPASSWORD=********", `/SQLSVCINSTANTFILEINIT="True"`} {
		if !strings.Contains(args, want) {
			t.Errorf("arguments lack %s:\n%s", want, args)
		}
	}
	if strings.Contains(args, "Svc!Sql12345") || strings.Contains(args, "AGTSVCPASSWORD") {
		t.Fatalf("a password (or an MSA's password setting) in the result: %s", args)
	}
	if out["exit_code"] != float64(0) || out["summary_log"] != `C:\Program Files\Microsoft SQL Server\150\Setup Bootstrap\Log\Summary.txt` {
		t.Fatalf("result = %v", out)
	}
	if v := c.sqlVersion(); v != "15.0.4355.3" {
		t.Fatalf("version from the media = %q", v)
	}

	node := map[string]any{"media_path": model.DefaultSQLMediaPath + `\`, "action": "AddNode", "parameters": map[string]any{
		"INSTANCENAME": "MSSQLSERVER", "SQLSVCACCOUNT": `PRIV\svc-sql`, "SQLSVCPASSWORD": "Svc!Sql12345",
		"AGTSVCACCOUNT": `PRIV\gmsa-sqlagent$`, "FAILOVERCLUSTERIPADDRESSES": []string{"IPv4;10.0.0.50;Cluster Network 1;255.255.255.0"},
	}}
	if _, err := c.run(t, model.App2, node); err != nil {
		t.Fatal(err)
	}
	_, err = c.run(t, model.App2, node)
	var se *ScriptError
	if !errors.As(err, &se) || se.Type != "System.InvalidOperationException" ||
		!strings.HasPrefix(se.Message, "SQL Server setup failed with exit code -2068578304: This computer is already a node") {
		t.Fatalf("AddNode twice: %#v", err)
	}
	remove := map[string]any{"media_path": model.DefaultSQLMediaPath, "action": "RemoveNode", "parameters": map[string]any{"INSTANCENAME": "MSSQLSERVER"}}
	if _, err := c.run(t, model.App3, remove); err == nil || !strings.Contains(err.Error(), "is not a node") {
		t.Fatalf("RemoveNode on a non-node: %v", err)
	}
	if _, err := c.run(t, model.App2, remove); err != nil {
		t.Fatal(err)
	}
	runs := c.env.SQLSetupRuns(model.SQLNetwork)
	if len(runs) != 5 {
		t.Fatalf("setup runs = %d, want 5", len(runs))
	}
	for _, r := range runs {
		for k, v := range r.Params {
			if strings.Contains(k, "PASSWORD") || strings.Contains(strings.Join(v, ""), "Svc!Sql12345") {
				t.Fatalf("a run recorded a secret: %s", k)
			}
		}
	}
}

func (c *sqlSetupCase) sqlVersion() string {
	v := ""
	_ = c.env.Do(func(e *model.Env) error {
		if s := e.SQLInstanceByName(model.SQLNetwork); s != nil {
			v = s.Version
		}
		return nil
	})
	return v
}

func toStrings(v any) []string {
	var out []string
	for _, x := range v.([]any) {
		out = append(out, x.(string))
	}
	return out
}

func TestSQLSetupInputErrors(t *testing.T) {
	c := newSQLSetupCase(t)
	with := func(mutate func(m map[string]any)) map[string]any {
		in := installInput()
		mutate(in)
		return in
	}
	params := func(m map[string]any) map[string]any { return m["parameters"].(map[string]any) }
	cases := map[string]struct {
		in       map[string]any
		typ, msg string
	}{
		"action":        {with(func(m map[string]any) { m["action"] = "Uninstall" }), "System.ArgumentException", "Unknown SQL Server setup action: Uninstall"},
		"media quote":   {with(func(m map[string]any) { m["media_path"] = `C:\x" /ACTION=Uninstall` }), "System.ArgumentException", "media_path must be"},
		"no setup.exe":  {with(func(m map[string]any) { m["media_path"] = `D:\` }), "System.IO.FileNotFoundException", `SQL Server setup not found: D:\setup.exe`},
		"bad name":      {with(func(m map[string]any) { params(m)["X Y"] = "1" }), "System.ArgumentException", "Invalid SQL Server setup setting name: X Y"},
		"reserved":      {with(func(m map[string]any) { params(m)["configurationfile"] = `C:\x.ini` }), "System.ArgumentException", "CONFIGURATIONFILE is set by the provider"},
		"line break":    {with(func(m map[string]any) { params(m)["INSTANCENAME"] = "A\r\n/ACTION=Uninstall" }), "System.ArgumentException", "must not contain a line break"},
		"slash value":   {with(func(m map[string]any) { params(m)["SQLSYSADMINACCOUNTS"] = []string{`PRIV\a`, "/Q"} }), "System.ArgumentException", "must not start with /"},
		"no parameters": {with(func(m map[string]any) { delete(m, "parameters") }), "System.ArgumentException", "parameters is required."},
		"missing":       {with(func(m map[string]any) { delete(params(m), "FAILOVERCLUSTERNETWORKNAME") }), "System.InvalidOperationException", "The setting 'FAILOVERCLUSTERNETWORKNAME' is required"},
		"wrong password": {with(func(m map[string]any) { params(m)["SQLSVCPASSWORD"] = "nope" }), "System.InvalidOperationException",
			"credentials you provided for the SQL Server service are invalid"},
	}
	for name, tc := range cases {
		_, err := c.run(t, model.App1, tc.in)
		var se *ScriptError
		if !errors.As(err, &se) || se.Type != tc.typ || !strings.Contains(se.Message, tc.msg) {
			t.Errorf("%s: %#v, want %s containing %q", name, err, tc.typ, tc.msg)
		}
		if se != nil && strings.Contains(se.Message, "nope") {
			t.Errorf("%s: a password in the error", name)
		}
	}
	b, ok := c.env.Host(model.App1).ReadFile(`C:\Program Files\Microsoft SQL Server\150\Setup Bootstrap\Log\Summary.txt`)
	if !ok || !strings.Contains(string(b), "Final result:                  Failed") {
		t.Fatalf("Summary.txt after a failed run:\n%s", b)
	}
}

// Setup refuses a service account or a sysadmin account AD does not have:
// exit code and Summary.txt's tail, as for its other failures.
func TestSQLSetupRefusesUnknownAccounts(t *testing.T) {
	for name, tc := range map[string]struct {
		mutate func(p map[string]any)
		msg    string
	}{
		"gmsa": {func(p map[string]any) { p["SQLSVCACCOUNT"] = `PRIV\gmsa-missing$`; delete(p, "SQLSVCPASSWORD") },
			`The SQL Server service account 'PRIV\gmsa-missing$' could not be used: The account name is invalid or does not exist.`},
		"sysadmin group": {func(p map[string]any) {
			p["SQLSYSADMINACCOUNTS"] = []string{`PRIV\Administrator`, `PRIV\SQL Operators`}
		},
			`The following error has occurred: Windows NT user or group 'PRIV\SQL Operators' not found. Check the name again.`},
	} {
		t.Run(name, func(t *testing.T) {
			c := newSQLSetupCase(t)
			in := installInput()
			in["summary_tail_lines"] = 10
			tc.mutate(in["parameters"].(map[string]any))
			_, err := c.run(t, model.App1, in)
			var se *ScriptError
			if !errors.As(err, &se) || se.Type != "System.InvalidOperationException" ||
				!strings.HasPrefix(se.Message, "SQL Server setup failed with exit code -2068578304: "+tc.msg) ||
				!strings.Contains(se.Message, "Its last lines:\nOverall summary:") || !strings.Contains(se.Message, "Exit message:                  "+tc.msg) {
				t.Fatalf("setup with an unknown account: %#v", err)
			}
			if c.sqlVersion() != "" {
				t.Fatal("the failed setup created the instance")
			}
		})
	}
}

// The passwords reach setup through a configuration file, never its command
// line: the recorded setup.exe line names the file, the file is gone after
// setup, and a failure reports Summary.txt's last lines.
func TestSQLSetupPasswordsThroughConfigurationFile(t *testing.T) {
	c := newSQLSetupCase(t)
	in := installInput()
	in["summary_tail_lines"] = 10
	if _, err := c.run(t, model.App1, in); err != nil {
		t.Fatal(err)
	}
	starts := c.env.ProcessStarts()
	if len(starts) != 1 || !strings.Contains(starts[0].CommandLine, `/ACTION=InstallFailoverCluster /Q /IACCEPTSQLSERVERLICENSETERMS`) ||
		!strings.Contains(starts[0].CommandLine, `\ConfigurationFile.ini"`) || !strings.Contains(starts[0].CommandLine, `/CONFIGURATIONFILE="C:\Users\`) {
		t.Fatalf("recorded setup.exe: %+v", starts)
	}
	if leaks := model.CommandLineLeaks(starts, c.env.Secrets()); len(leaks) != 0 || strings.Contains(starts[0].CommandLine, "PASSWORD") {
		t.Fatalf("a password on setup's command line: %s", starts[0].CommandLine)
	}
	noFileHolds(t, c.env, model.App1, "Svc!Sql12345")

	// AddNode with a wrong password fails; the error carries the summary's tail.
	node := map[string]any{"media_path": model.DefaultSQLMediaPath, "action": "AddNode", "summary_tail_lines": 10, "parameters": map[string]any{
		"INSTANCENAME": "MSSQLSERVER", "SQLSVCACCOUNT": `PRIV\svc-sql`, "SQLSVCPASSWORD": "Wrong!Pass1",
		"AGTSVCACCOUNT": `PRIV\gmsa-sqlagent$`, "FAILOVERCLUSTERIPADDRESSES": []string{"IPv4;10.0.0.50;Cluster Network 1;255.255.255.0"},
	}}
	_, err := c.run(t, model.App2, node)
	if err == nil || !strings.Contains(err.Error(), "Its last lines:\nOverall summary:") || !strings.Contains(err.Error(), "Exit code (Decimal):") {
		t.Fatalf("failed AddNode: %v", err)
	}
	if strings.Contains(err.Error(), "Wrong!Pass1") {
		t.Fatal("the error shows the password")
	}
	noFileHolds(t, c.env, model.App2, "Wrong!Pass1")
	if leaks := model.CommandLineLeaks(c.env.ProcessStarts(), append(c.env.Secrets(), "Wrong!Pass1")); len(leaks) != 0 {
		t.Fatalf("%d secrets on command lines", len(leaks))
	}

	// A configuration file value cannot hold a double quote: refused before setup runs.
	node["parameters"].(map[string]any)["SQLSVCPASSWORD"] = `pa"ss`
	if _, err := c.run(t, model.App2, node); err == nil || !strings.Contains(err.Error(), "must not contain a double quote") {
		t.Fatalf("a double quote in a password: %v", err)
	}
}

// noFileHolds fails when a file on host holds secret or a private folder is left.
func noFileHolds(t *testing.T, env *model.Env, host, secret string) {
	t.Helper()
	_ = env.Do(func(e *model.Env) error {
		for path, b := range e.Host(host).Files {
			if strings.Contains(path, `\temp\bastion-`) || strings.Contains(string(b), secret) {
				t.Errorf("%s left on %s", path, host)
			}
		}
		return nil
	})
}
