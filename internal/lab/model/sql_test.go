package model

import (
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"
)

const (
	svcSQL      = `PRIV\svc-sql`
	svcSQLPass  = "Svc!Sql12345"
	svcAgent    = `PRIV\svc-sqlagent`
	svcAgentPwd = "Svc!Agent12345"
	fciNetwork  = "priv-sqlfci.priv.contoso.test"
)

func fciEnv(t *testing.T) *Env {
	t.Helper()
	e, _ := NewDefault(Seed{})
	e.Credentials[strings.ToLower(svcSQL)] = svcSQLPass
	e.Credentials[strings.ToLower(svcAgent)] = svcAgentPwd
	return e
}

func installParams() SQLSetupParams {
	return SQLSetupParams{
		"INSTANCENAME":               {"MSSQLSERVER"},
		"FEATURES":                   {"SQLENGINE,REPLICATION"},
		"FAILOVERCLUSTERNETWORKNAME": {"PRIV-SQLFCI"},
		"FAILOVERCLUSTERIPADDRESSES": {"IPv4;10.0.0.50;Cluster Network 1;255.255.255.0"},
		"FAILOVERCLUSTERDISKS":       {"Cluster Disk 1", "Cluster Disk 2"},
		"INSTALLSQLDATADIR":          {`E:\MSSQL`},
		"SQLUSERDBLOGDIR":            {`F:\MSSQL\Log`},
		"SQLBACKUPDIR":               {`\\priv-fs.priv.contoso.test\sqlbackup`},
		"SQLSVCACCOUNT":              {svcSQL},
		"SQLSVCPASSWORD":             {svcSQLPass},
		"AGTSVCACCOUNT":              {svcAgent},
		"AGTSVCPASSWORD":             {svcAgentPwd},
		"SQLSYSADMINACCOUNTS":        {`PRIV\Administrator`, `PRIV\SQL Admins`},
	}
}

func nodeParams() SQLSetupParams {
	p := SQLSetupParams{}
	for _, k := range []string{"INSTANCENAME", "SQLSVCACCOUNT", "SQLSVCPASSWORD", "AGTSVCACCOUNT", "AGTSVCPASSWORD", "FAILOVERCLUSTERIPADDRESSES"} {
		p[k] = installParams()[k]
	}
	return p
}

func do(t *testing.T, e *Env, f func(e *Env) error) error {
	t.Helper()
	return e.Do(f)
}

func nodesOf(s *SQLInstance) string {
	var out []string
	for _, n := range s.Nodes {
		name := strings.SplitN(n.Host, ".", 2)[0]
		if n.Owner {
			name += "*"
		}
		out = append(out, name)
	}
	return strings.Join(out, ",")
}

func TestSeedInstanceDefaults(t *testing.T) {
	e, _ := NewDefault(Seed{WithSQL: true})
	_ = e.Do(func(e *Env) error {
		s := e.SQLInstanceByName(SQLNetwork)
		p := e.ServerProperties(s)
		if p.PhysicalNode != "PRIV-APP1" || p.InstanceName != "" || p.ServerName != "PRIV-SQL" || !p.IsClustered || p.ProductVersion != DefaultSQLVersion {
			t.Errorf("ServerProperties = %+v", p)
		}
		if l := s.Logins[SQLLoginUser]; l == nil || l.Type != LoginSQL || !l.IsSysadmin() {
			t.Errorf("seed SQL login = %+v", l)
		}
		if sa := s.Logins["sa"]; sa == nil || !sa.Disabled {
			t.Errorf("sa = %+v", sa)
		}
		if paths := e.ValidPaths(s); len(paths) != 2 || paths[0].PathName != `E:\` || paths[0].ClusterOwnerNode != "PRIV-APP1" {
			t.Errorf("ValidPaths = %+v", paths)
		}
		if !s.Databases["master"] || !s.Databases["tempdb"] {
			t.Errorf("system databases missing: %v", s.Databases)
		}
		return nil
	})
}

func TestFCILifecycle(t *testing.T) {
	e := fciEnv(t)
	var s *SQLInstance
	if err := do(t, e, func(e *Env) (err error) { s, err = e.InstallFailoverCluster(App1, installParams()); return err }); err != nil {
		t.Fatal(err)
	}
	if s.NetworkName != fciNetwork || nodesOf(s) != "priv-app1*" || s.ClusterGroup != "SQL Server (MSSQLSERVER)" {
		t.Fatalf("after install: %s %s %q", s.NetworkName, nodesOf(s), s.ClusterGroup)
	}
	if got := e.ValidPaths(s); len(got) != 2 || got[0].PathName != `E:\` || got[1].PathName != `F:\` {
		t.Fatalf("an SMB backup share is not a cluster path; cluster disks are: %+v", got)
	}
	if l := s.Logins[strings.ToLower(`PRIV\SQL Admins`)]; l == nil || !l.IsSysadmin() {
		t.Fatalf("SQLSYSADMINACCOUNTS not sysadmin: %+v", l)
	}
	h1 := e.Host(App1)
	if svc := h1.Service("MSSQLSERVER"); svc == nil || svc.Status != "Running" || svc.StartType != "Manual" {
		t.Fatalf("owner's service: %+v", svc)
	}

	if err := do(t, e, func(e *Env) error { return e.AddNode(App2, nodeParams()) }); err != nil {
		t.Fatal(err)
	}
	if nodesOf(s) != "priv-app1*,priv-app2" || e.Host(App2).Service("MSSQLSERVER").Status != "Stopped" {
		t.Fatalf("after AddNode: %s", nodesOf(s))
	}
	err := do(t, e, func(e *Env) error { return e.AddNode(App2, nodeParams()) })
	if se := (*SQLSetupError)(nil); !errors.As(err, &se) || se.ExitCode != SetupFailed || !strings.Contains(se.Message, "already a node") {
		t.Fatalf("AddNode twice: %v", err)
	}
	err = do(t, e, func(e *Env) error { return e.RemoveNode(App3, SQLSetupParams{"INSTANCENAME": {"MSSQLSERVER"}}) })
	if err == nil || !strings.Contains(err.Error(), "not a node") {
		t.Fatalf("RemoveNode of a non-node: %v", err)
	}

	epoch := s.Epoch
	if err := e.Failover(fciNetwork, App2, FailoverOptions{}); err != nil {
		t.Fatal(err)
	}
	if nodesOf(s) != "priv-app1,priv-app2*" || s.Epoch != epoch+1 || h1.Service("MSSQLSERVER").Status != "Stopped" {
		t.Fatalf("after failover: %s epoch %d", nodesOf(s), s.Epoch)
	}
	// Removing the owner fails the instance over first.
	if err := do(t, e, func(e *Env) error { return e.RemoveNode(App2, SQLSetupParams{"INSTANCENAME": {"MSSQLSERVER"}}) }); err != nil {
		t.Fatal(err)
	}
	if nodesOf(s) != "priv-app1*" || e.Host(App2).Service("MSSQLSERVER") != nil {
		t.Fatalf("after RemoveNode of the owner: %s", nodesOf(s))
	}
	runs := e.SQLSetupRuns(fciNetwork)
	var actions []string
	for _, r := range runs {
		actions = append(actions, r.Action+"="+strconv.Itoa(r.ExitCode))
		for k, v := range r.Params {
			if IsSecretSetting(k) || strings.Contains(strings.Join(v, " "), svcSQLPass) {
				t.Fatalf("setup run recorded a secret: %s=%v", k, v)
			}
		}
	}
	if got := strings.Join(actions, " "); got != "InstallFailoverCluster=0 AddNode=0 AddNode=-2068578304 RemoveNode=-2068578304 RemoveNode=0" {
		t.Fatalf("setup runs = %s", got)
	}
	// The last node's RemoveNode removes the instance.
	if err := do(t, e, func(e *Env) error { return e.RemoveNode(App1, SQLSetupParams{"INSTANCENAME": {"MSSQLSERVER"}}) }); err != nil {
		t.Fatal(err)
	}
	if _, ok := e.SQL[fciNetwork]; ok {
		t.Fatal("the instance survived the removal of its last node")
	}
	for _, ev := range e.Events() {
		if strings.Contains(ev.Detail, svcSQLPass) || strings.Contains(ev.Detail, svcAgentPwd) {
			t.Fatalf("event log holds a password: %+v", ev)
		}
	}
}

func TestInstallValidation(t *testing.T) {
	cases := map[string]struct {
		host   string
		mutate func(SQLSetupParams)
		want   string
	}{
		"missing network name": {App1, func(p SQLSetupParams) { delete(p, "FAILOVERCLUSTERNETWORKNAME") }, "'FAILOVERCLUSTERNETWORKNAME' is required"},
		"missing data dir":     {App1, func(p SQLSetupParams) { delete(p, "INSTALLSQLDATADIR") }, "'INSTALLSQLDATADIR' is required"},
		"missing sysadmins":    {App1, func(p SQLSetupParams) { delete(p, "SQLSYSADMINACCOUNTS") }, "'SQLSYSADMINACCOUNTS' is required"},
		"missing features":     {App1, func(p SQLSetupParams) { delete(p, "FEATURES") }, "'FEATURES' is required"},
		"missing password":     {App1, func(p SQLSetupParams) { delete(p, "SQLSVCPASSWORD") }, "'SQLSVCPASSWORD' is required"},
		"wrong password":       {App1, func(p SQLSetupParams) { p["AGTSVCPASSWORD"] = []string{"nope"} }, "credentials you provided for the SQL Server Agent service are invalid"},
		"local account":        {App1, func(p SQLSetupParams) { p["SQLSVCACCOUNT"] = []string{`NT Service\MSSQLSERVER`} }, "not a domain account"},
		"domain controller":    {DC1, nil, "not supported on a domain controller"},
		"system drive":         {App1, func(p SQLSetupParams) { p["SQLUSERDBDIR"] = []string{`C:\Data`} }, "system drive"},
		"no cluster disk":      {App1, func(p SQLSetupParams) { delete(p, "FAILOVERCLUSTERDISKS") }, "FAILOVERCLUSTERDISKS names no cluster disk"},
		"bad ip":               {App1, func(p SQLSetupParams) { p["FAILOVERCLUSTERIPADDRESSES"] = []string{"10.0.0.5"} }, "IP address setting"},
		"fqdn network name":    {App1, func(p SQLSetupParams) { p["FAILOVERCLUSTERNETWORKNAME"] = []string{"priv-sqlfci.priv.contoso.test"} }, "NetBIOS name"},
		"sql mode without sa":  {App1, func(p SQLSetupParams) { p["SECURITYMODE"] = []string{"SQL"} }, "'SAPWD' is required"},
		"unknown domain":       {App1, func(p SQLSetupParams) { p["SQLSYSADMINACCOUNTS"] = []string{`NOWHERE\x`} }, `Windows NT user or group 'NOWHERE\x' not found. Check the name again.`},
		"unknown sysadmin group": {App1, func(p SQLSetupParams) { p["SQLSYSADMINACCOUNTS"] = []string{AdminUser, `PRIV\SQL Operators`} },
			`The following error has occurred: Windows NT user or group 'PRIV\SQL Operators' not found. Check the name again.`},
		"sysadmin without domain": {App1, func(p SQLSetupParams) { p["SQLSYSADMINACCOUNTS"] = []string{"SQL Admins"} }, "is not a valid Windows NT name"},
		"unknown sql gmsa": {App1, func(p SQLSetupParams) {
			p["SQLSVCACCOUNT"] = []string{`PRIV\gmsa-missing$`}
			delete(p, "SQLSVCPASSWORD")
		},
			`The SQL Server service account 'PRIV\gmsa-missing$' could not be used: The account name is invalid or does not exist.`},
		"unknown agent gmsa": {App1, func(p SQLSetupParams) { p["AGTSVCACCOUNT"] = []string{`PRIV\gmsa-agent$`}; delete(p, "AGTSVCPASSWORD") },
			`The SQL Server Agent service account 'PRIV\gmsa-agent$' could not be used: The account name is invalid or does not exist.`},
		"gmsa of an untrusted forest": {App1, func(p SQLSetupParams) {
			p["SQLSVCACCOUNT"] = []string{CorpDomainNB + `\gmsa-sql$`}
			delete(p, "SQLSVCPASSWORD")
		},
			"The account name is invalid or does not exist."},
		"unknown full-text gmsa": {App1, func(p SQLSetupParams) { p["FTSVCACCOUNT"] = []string{`PRIV\gmsa-ft$`} },
			`The Full-text Filter Daemon Launcher service account 'PRIV\gmsa-ft$' could not be used: The account name is invalid or does not exist.`},
		"unknown browser user": {App1, func(p SQLSetupParams) {
			p["BROWSERSVCACCOUNT"] = []string{`PRIV\svc-browser`}
			p["BROWSERSVCPASSWORD"] = []string{"x"}
		},
			"credentials you provided for the SQL Server Browser service are invalid"},
		"unknown user":  {App1, func(p SQLSetupParams) { p["SQLSVCACCOUNT"] = []string{`PRIV\svc-missing`} }, "credentials you provided for the SQL Server service are invalid"},
		"existing name": {App1, func(p SQLSetupParams) { p["FAILOVERCLUSTERNETWORKNAME"] = []string{"PRIV-SQL"} }, "already exists as a clustered resource"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			e := fciEnv(t)
			e.SQL[Key(SQLNetwork)] = &SQLInstance{NetworkName: Key(SQLNetwork), Clustered: true, Nodes: []*SQLNode{{Host: Key(App3), Owner: true}}}
			p := installParams()
			if c.mutate != nil {
				c.mutate(p)
			}
			err := do(t, e, func(e *Env) error { _, err := e.InstallFailoverCluster(c.host, p); return err })
			se := (*SQLSetupError)(nil)
			if !errors.As(err, &se) || se.ExitCode != SetupFailed || !strings.Contains(se.Message, c.want) {
				t.Fatalf("err = %v, want setup failure containing %q", err, c.want)
			}
			if _, ok := e.SQL[fciNetwork]; ok {
				t.Fatal("a failed install created the instance")
			}
		})
	}
}

// The accounts the seed creates for the FCI examples pass setup's lookups,
// and an account created afterwards (as New-ADServiceAccount and New-ADGroup
// would) passes too.
func TestSeededSQLAccountsAreAccepted(t *testing.T) {
	e := fciEnv(t)
	p := installParams()
	p["SQLSVCACCOUNT"], p["AGTSVCACCOUNT"] = []string{SQLServiceGMSA}, []string{SQLAgentGMSA}
	delete(p, "SQLSVCPASSWORD")
	delete(p, "AGTSVCPASSWORD")
	p["SQLSYSADMINACCOUNTS"] = []string{AdminUser, SQLAdminsGroup, `priv.contoso.test\sql admins`}
	p["FTSVCACCOUNT"] = []string{`NT Service\MSSQLFDLauncher`}
	p["ISSVCACCOUNT"] = []string{SQLServiceGMSA}
	if err := do(t, e, func(e *Env) error { _, err := e.InstallFailoverCluster(App1, p); return err }); err != nil {
		t.Fatal(err)
	}
	n := SQLSetupParams{"INSTANCENAME": {"MSSQLSERVER"}, "SQLSVCACCOUNT": {SQLServiceGMSA}, "AGTSVCACCOUNT": {SQLAgentGMSA}, "FAILOVERCLUSTERIPADDRESSES": {"DEFAULT"}}
	if err := do(t, e, func(e *Env) error { return e.AddNode(App2, n) }); err != nil {
		t.Fatal(err)
	}

	e = fciEnv(t)
	p["SQLSVCACCOUNT"] = []string{`PRIV\gmsa-new$`}
	p["SQLSYSADMINACCOUNTS"] = []string{`PRIV\SQL Operators`}
	if err := do(t, e, func(e *Env) error { _, err := e.InstallFailoverCluster(App1, p); return err }); err == nil {
		t.Fatal("setup accepted a gMSA and a group AD does not have")
	}
	if err := e.AddManagedServiceAccount(DomainNB, "gmsa-new$"); err != nil {
		t.Fatal(err)
	}
	_ = e.Do(func(e *Env) error { e.Domain.Groups["SQL Operators"] = nil; return nil })
	if err := do(t, e, func(e *Env) error { _, err := e.InstallFailoverCluster(App1, p); return err }); err != nil {
		t.Fatal(err)
	}
}

func TestManagedServiceAccountNeedsNoPassword(t *testing.T) {
	e := fciEnv(t)
	p := installParams()
	p["SQLSVCACCOUNT"], p["AGTSVCACCOUNT"] = []string{`PRIV\gmsa-sql$`}, []string{`PRIV\gmsa-sql$`}
	delete(p, "SQLSVCPASSWORD")
	delete(p, "AGTSVCPASSWORD")
	if err := do(t, e, func(e *Env) error { _, err := e.InstallFailoverCluster(App1, p); return err }); err != nil {
		t.Fatal(err)
	}
	n := SQLSetupParams{"INSTANCENAME": {"MSSQLSERVER"}, "SQLSVCACCOUNT": {`PRIV\gmsa-sql$`}, "AGTSVCACCOUNT": {`PRIV\gmsa-sql$`}, "FAILOVERCLUSTERIPADDRESSES": {"DEFAULT"}}
	if err := do(t, e, func(e *Env) error { return e.AddNode(App2, n) }); err != nil {
		t.Fatal(err)
	}
	n["FEATURES"] = []string{"SQLENGINE,FULLTEXT"}
	if err := do(t, e, func(e *Env) error { return e.AddNode(App3, n) }); err == nil || !strings.Contains(err.Error(), "'FEATURES' is not allowed") {
		t.Fatalf("AddNode with FEATURES: %v", err)
	}
	delete(n, "FEATURES")
	n["SQLSVCACCOUNT"] = []string{`PRIV\svc-other$`}
	if err := do(t, e, func(e *Env) error { return e.AddNode(App3, n) }); err == nil || !strings.Contains(err.Error(), "same on every node") {
		t.Fatalf("AddNode with other service accounts: %v", err)
	}
}

func TestRunSQLSetupWritesSummary(t *testing.T) {
	e := fciEnv(t)
	var ok, bad SQLSetupResult
	_ = e.Do(func(e *Env) error {
		ok = e.RunSQLSetup(e.Host(App1), "InstallFailoverCluster", "16.0.1000.6", installParams())
		bad = e.RunSQLSetup(e.Host(App2), "RemoveNode", "16.0.1000.6", SQLSetupParams{"INSTANCENAME": {"MSSQLSERVER"}})
		return nil
	})
	if ok.ExitCode != 0 || ok.SummaryLog != `C:\Program Files\Microsoft SQL Server\160\Setup Bootstrap\Log\Summary.txt` {
		t.Fatalf("install = %+v", ok)
	}
	if s := e.SQL[fciNetwork]; s.Version != "16.0.1000.6" || !strings.Contains(s.Dirs.Data, `MSSQL16.MSSQLSERVER`) {
		t.Fatalf("version/dirs from media: %s %+v", s.Version, s.Dirs)
	}
	if bad.ExitCode != SetupFailed {
		t.Fatalf("RemoveNode on a non-node = %+v", bad)
	}
	b, _ := e.Host(App2).ReadFile(bad.SummaryLog)
	if !strings.Contains(string(b), "Exit code (Decimal):           -2068578304") || !strings.Contains(string(b), "Exit message:                  "+bad.Message) {
		t.Fatalf("Summary.txt:\n%s", b)
	}
}

func TestFailoverLoginWindow(t *testing.T) {
	e, seed := NewDefault(Seed{WithSQL: true})
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	e.Now = func() time.Time { return now }
	login := func() int32 {
		var err *SQLError
		_ = e.Do(func(e *Env) error {
			_, _, err = e.AuthenticateSQL(e.SQLInstanceByName(SQLNetwork), SQLLoginUser, seed.SQLPassword)
			return nil
		})
		if err != nil {
			return err.Number
		}
		return 0
	}
	if err := e.Failover(SQLNetwork, App2, FailoverOptions{FailedLogins: 2}); err != nil {
		t.Fatal(err)
	}
	if got := []int32{login(), login(), login()}; got[0] != 18456 || got[1] != 18456 || got[2] != 0 {
		t.Fatalf("logins after failover = %v", got)
	}
	if err := e.Failover(SQLNetwork, App1, FailoverOptions{Duration: time.Minute}); err != nil {
		t.Fatal(err)
	}
	if login() != 18456 {
		t.Fatal("login succeeded inside the failover window")
	}
	now = now.Add(61 * time.Second)
	if login() != 0 {
		t.Fatal("login failed after the failover window")
	}
	if err := e.Failover(SQLNetwork, App3, FailoverOptions{}); err == nil {
		t.Fatal("failover to a non-node accepted")
	}
	_ = e.SetReachable(App2, false)
	if err := e.Failover(SQLNetwork, App2, FailoverOptions{}); err == nil {
		t.Fatal("failover to a down node accepted")
	}
	if login := func() int32 {
		var err *SQLError
		_ = e.Do(func(e *Env) error {
			_, _, err = e.AuthenticateSQL(e.SQLInstanceByName(SQLNetwork), SQLLoginUser, "wrong")
			return nil
		})
		return err.Number
	}(); login != 18456 {
		t.Fatalf("wrong password = %d", login)
	}
}

func TestEvictNode(t *testing.T) {
	e, _ := NewDefault(Seed{WithSQL: true})
	if err := e.EvictNode(App1); err != nil {
		t.Fatal(err)
	}
	s := e.SQL[Key(SQLNetwork)]
	if nodesOf(s) != "priv-app2*" || s.Epoch != 1 {
		t.Fatalf("after evicting the owner: %s epoch %d", nodesOf(s), s.Epoch)
	}
	if err := e.EvictNode(App3); err == nil {
		t.Fatal("evicting a non-node succeeded")
	}
}

func TestSQLFaults(t *testing.T) {
	e, _ := NewDefault(Seed{WithSQL: true})
	if k, ok := e.TakeSQLFault(SQLNetwork); ok {
		t.Fatalf("fault without injection: %s", k)
	}
	_ = e.InjectSQLFault(SQLNetwork, FaultLoginFailed, 1)
	_ = e.InjectFault(App1, TDS, FaultRefuse, 1) // on the owner node: applies to the instance
	for _, want := range []FaultKind{FaultLoginFailed, FaultRefuse, ""} {
		if k, _ := e.TakeSQLFault(SQLNetwork); k != want {
			t.Fatalf("fault = %q, want %q", k, want)
		}
	}
	_ = e.SetSQLNodeStatus(SQLNetwork, App1, NodeDown)
	if k, _ := e.TakeSQLFault(SQLNetwork); k != FaultRefuse {
		t.Fatalf("owner down: %q", k)
	}
	if k, _ := e.TakeSQLFault("no-such.priv.contoso.test"); k != FaultRefuse {
		t.Fatalf("unknown network name: %q", k)
	}
	_ = e.SetLatency(App1, TDS, time.Second)
	if d := e.SQLLatency(SQLNetwork); d != time.Second {
		t.Fatalf("owner latency = %v", d)
	}
}

func TestLoginRules(t *testing.T) {
	e, _ := NewDefault(Seed{WithSQL: true})
	_ = e.AddSQLLogin(SQLNetwork, "dbcreator_only", "Pw!123456789", false, "dbcreator")
	_ = e.Do(func(e *Env) error {
		s := e.SQLInstanceByName(SQLNetwork)
		admin := s.Logins[SQLLoginUser]
		limited := s.Logins["dbcreator_only"]
		check := func(what string, err *SQLError, want int32) {
			t.Helper()
			got := int32(0)
			if err != nil {
				got = err.Number
			}
			if got != want {
				t.Errorf("%s: error %d (%v), want %d", what, got, err, want)
			}
		}
		check("no domain", e.CreateWindowsLogin(s, admin, "justname"), 15407)
		check("unknown domain", e.CreateWindowsLogin(s, admin, `CORP\user`), 15401)
		check("bad characters", e.CreateWindowsLogin(s, admin, `PRIV\a]b`), 15401)
		check("create", e.CreateWindowsLogin(s, admin, `PRIV\svc-mim`), 0)
		check("create twice", e.CreateWindowsLogin(s, admin, `priv\SVC-MIM`), 15025)
		check("no permission", e.CreateWindowsLogin(s, limited, `PRIV\svc-other`), 15247)
		check("add role", e.AlterServerRole(s, admin, "DBCreator", `PRIV\svc-mim`, true), 0)
		check("add again", e.AlterServerRole(s, admin, "dbcreator", `PRIV\svc-mim`, true), 0)
		check("unknown role", e.AlterServerRole(s, admin, "nope", `PRIV\svc-mim`, true), 15151)
		check("unknown member", e.AlterServerRole(s, admin, "dbcreator", `PRIV\nobody`, true), 15151)
		check("public", e.AlterServerRole(s, admin, "public", `PRIV\svc-mim`, true), 15405)
		check("own role only", e.AlterServerRole(s, limited, "sysadmin", `PRIV\svc-mim`, true), 15151)
		check("member of the role", e.AlterServerRole(s, limited, "dbcreator", `PRIV\svc-mim`, false), 0)
		check("drop non-member", e.AlterServerRole(s, admin, "dbcreator", `PRIV\svc-mim`, false), 0)
		check("drop self", e.DropLogin(s, admin, SQLLoginUser), 15434)
		check("drop", e.DropLogin(s, admin, `PRIV\svc-mim`), 0)
		check("drop missing", e.DropLogin(s, admin, `PRIV\svc-mim`), 15151)
		if _, ok := e.ReadLogin(s, limited, AdminUser); ok {
			t.Error("a login without ALTER ANY LOGIN sees other logins")
		}
		if _, ok := e.ReadLogin(s, limited, "dbcreator_only"); !ok {
			t.Error("a login cannot see itself")
		}
		if CheckViewServerState(limited) == nil || CheckViewServerState(admin) != nil {
			t.Error("VIEW SERVER STATE rule")
		}
		return nil
	})
}

// The seed's SQL login stands in for the provider's Windows identity: it is
// sysadmin on an instance setup creates only when setup makes the domain
// Administrator sysadmin.
func TestInstallGivesProviderStandInSysadmin(t *testing.T) {
	for _, c := range []struct {
		admins []string
		want   bool
	}{
		{[]string{AdminUser, `PRIV\SQL Admins`}, true},
		{[]string{strings.ToLower(AdminUser)}, true},
		{[]string{`PRIV\SQL Admins`}, false},
	} {
		e, seed := NewDefault(Seed{})
		e.Credentials[strings.ToLower(svcSQL)] = svcSQLPass
		e.Credentials[strings.ToLower(svcAgent)] = svcAgentPwd
		p := installParams()
		p["SQLSYSADMINACCOUNTS"] = c.admins
		err := do(t, e, func(e *Env) error {
			s, err := e.InstallFailoverCluster(App1, p)
			if err != nil {
				return err
			}
			_, _, lerr := e.AuthenticateSQL(s, SQLLoginUser, seed.SQLPassword)
			if got := lerr == nil && s.Logins[SQLLoginUser].IsSysadmin(); got != c.want {
				t.Errorf("sysadmin accounts %q: stand-in login sysadmin = %v, want %v (%v)", c.admins, got, c.want, lerr)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}

// CREATE LOGIN ... FROM WINDOWS looks the account up in the directory, as
// SQL Server does: a name no user, group, gMSA or computer account has is
// Msg 15401, whichever form of the domain name the login uses.
func TestCreateWindowsLoginLooksUpTheAccount(t *testing.T) {
	e, _ := NewDefault(Seed{WithSQL: true})
	e.SeedDirectory()
	for _, f := range []func() error{
		func() error { return e.AddDomainUser(DomainNB, "svc-report", RandomPassword()) },
		func() error { return e.AddDomainUser(DomainDNS, "svc-dns", RandomPassword()) },
		func() error { return e.AddManagedServiceAccount(DomainDNS, "gmsa-mim$") },
		func() error {
			return e.Do(func(e *Env) error { e.Domain.Groups = map[string][]string{"MIM Admins": {"mim-admin"}}; return nil })
		},
	} {
		if err := f(); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.AddManagedServiceAccount(DomainNB, "no-dollar"); err == nil {
		t.Error("a managed service account without $ was created")
	}
	if err := e.AddDomainUser("NOSUCH", "x", "y"); err == nil {
		t.Error("a user was created in an unknown domain")
	}
	cases := []struct {
		name string
		want int32
	}{
		{MIMSvcUser, 0},
		{`PRIV\svc-report`, 0},
		{`priv.contoso.test\svc-dns`, 0},
		{`PRIV\Domain Admins`, 0},
		{`PRIV\MIM Admins`, 0},
		{`PRIV\mim-admin`, 0},
		{`PRIV\GMSA-MIM$`, 0},
		{`PRIV\priv-app1$`, 0},
		{`PRIV\priv-dc1$`, 0},
		{`NT SERVICE\MSSQLSERVER`, 0},
		{`PRIV\svc-missing`, 15401},
		{`PRIV\gmsa-missing$`, 15401},
		{`PRIV\priv-nosuch$`, 15401},
		{`PRIV\priv-app1`, 15401},
		{`CORP\Administrator`, 15401},
		{`corp.contoso.test\Administrator`, 15401},
		{`NOSUCH\svc-mim`, 15401},
	}
	_ = e.Do(func(e *Env) error {
		s := e.SQLInstanceByName(SQLNetwork)
		admin := s.Logins[strings.ToLower(SQLLoginUser)]
		for _, c := range cases {
			got := int32(0)
			if err := e.CreateWindowsLogin(s, admin, c.name); err != nil {
				got = err.Number
				if c.want == 15401 && err.Message != "Windows NT user or group '"+c.name+"' not found. Check the name again." {
					t.Errorf("%s: message %q", c.name, err.Message)
				}
			}
			if got != c.want {
				t.Errorf("CREATE LOGIN [%s] FROM WINDOWS: error %d, want %d", c.name, got, c.want)
			}
		}
		// The same account under the other form of its domain name is the same login.
		if err := e.CreateWindowsLogin(s, admin, `priv.contoso.test\svc-mim`); err == nil || err.Number != 15025 {
			t.Errorf("second login for PRIV\\svc-mim by DNS name: %v, want 15025", err)
		}
		return nil
	})
	// Through a trust, the CORP forest's accounts resolve; unknown ones still do not.
	if err := e.CreateTrust(DomainDNS, CorpDomainDNS, 3, 0); err != nil {
		t.Fatal(err)
	}
	_ = e.Do(func(e *Env) error {
		s := e.SQLInstanceByName(SQLNetwork)
		admin := s.Logins[strings.ToLower(SQLLoginUser)]
		if err := e.CreateWindowsLogin(s, admin, CorpAdminUser); err != nil {
			t.Errorf("CORP\\Administrator through a trust: %v", err)
		}
		if err := e.CreateWindowsLogin(s, admin, `CORP\nobody`); err == nil || err.Number != 15401 {
			t.Errorf("CORP\\nobody through a trust: %v, want 15401", err)
		}
		return nil
	})
}
