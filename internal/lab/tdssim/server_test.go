package tdssim_test

import (
	"context"
	"database/sql"
	"errors"
	"net"
	"net/url"
	"strings"
	"testing"
	"time"

	mssql "github.com/microsoft/go-mssqldb"

	"github.com/bastion-pam/terraform-provider-bastion/internal/lab/model"
	"github.com/bastion-pam/terraform-provider-bastion/internal/lab/tdssim"
	"github.com/bastion-pam/terraform-provider-bastion/internal/lab/tdssim/tdssimtest"
)

// hostDialer sends every dial to the lab listener, keeping the network name.
type hostDialer struct{ host, addr string }

func (d hostDialer) DialContext(ctx context.Context, network, _ string) (net.Conn, error) {
	var nd net.Dialer
	return nd.DialContext(ctx, network, d.addr)
}
func (d hostDialer) HostName() string { return d.host }

type fixture struct {
	env  *model.Env
	seed model.Seed
	srv  *tdssim.Server
}

func start(t *testing.T, opts tdssim.Options) *fixture {
	t.Helper()
	env, seed := model.NewDefault(model.Seed{WithSQL: true})
	_, srv := tdssimtest.Start(t, env, opts)
	return &fixture{env: env, seed: seed, srv: srv}
}

// open connects with go-mssqldb directly (not the adapter), to send SQL the adapter never would.
func (f *fixture) open(t *testing.T, network, user, password, query string) *sql.DB {
	t.Helper()
	u := url.URL{Scheme: "sqlserver", User: url.UserPassword(user, password), Host: network + ":1433", RawQuery: "encrypt=true&trustservercertificate=true&" + query}
	c, err := mssql.NewConnector(u.String())
	if err != nil {
		t.Fatal(err)
	}
	c.Dialer = hostDialer{host: network, addr: f.srv.Addr(network)}
	db := sql.OpenDB(c)
	t.Cleanup(func() { _ = db.Close() })
	return db
}

func sqlNumber(err error) int32 {
	var e mssql.Error
	if errors.As(err, &e) {
		return e.Number
	}
	return 0
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return c
}

// Ad-hoc queries a DBA would type, answered from the model; expected values
// follow SQL Server's documentation (type 'S' is a SQL login; @@VERSION
// starts "Microsoft SQL Server <year>").
func TestAdHocQueries(t *testing.T) {
	f := start(t, tdssim.Options{})
	db := f.open(t, model.SQLNetwork, model.SQLLoginUser, f.seed.SQLPassword, "")
	var one int64
	if err := db.QueryRowContext(ctx(t), "SELECT 1").Scan(&one); err != nil || one != 1 {
		t.Fatalf("SELECT 1: %v %v", one, err)
	}
	var version string
	if err := db.QueryRowContext(ctx(t), "SELECT @@VERSION").Scan(&version); err != nil || !strings.HasPrefix(version, "Microsoft SQL Server 2019 (RTM) - 15.0.2000.5 (X64)") {
		t.Fatalf("@@VERSION: %q %v", version, err)
	}
	rows, err := db.QueryContext(ctx(t), "SELECT name FROM sys.server_principals WHERE type = 'S' ORDER BY name")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		names = append(names, n)
	}
	_ = rows.Close()
	if strings.Join(names, ",") != "bastion_reader,sa" {
		t.Fatalf("SQL logins = %v", names)
	}
	var disabled int64
	var created time.Time
	var sid []byte
	if err := db.QueryRowContext(ctx(t), "SELECT is_disabled, create_date, sid FROM sys.server_principals WHERE name = @p1", "sa").Scan(&disabled, &created, &sid); err != nil || disabled != 1 || created.IsZero() || len(sid) == 0 {
		t.Fatalf("sa: disabled %d created %v sid %x: %v", disabled, created, sid, err)
	}
	var prop any
	if err := db.QueryRowContext(ctx(t), "SELECT SERVERPROPERTY('ComputerNamePhysicalNetBIOS')").Scan(&prop); err != nil || prop != "PRIV-APP1" {
		t.Fatalf("sql_variant owner: %#v %v", prop, err)
	}
	var started time.Time
	var service string
	if err := db.QueryRowContext(ctx(t), "SELECT TOP 1 servicename, last_startup_time FROM sys.dm_server_services ORDER BY servicename").Scan(&service, &started); err != nil || service != "SQL Server (MSSQLSERVER)" {
		t.Fatalf("dm_server_services: %q %v %v", service, started, err)
	}
	_, err = db.ExecContext(ctx(t), "SELECT name, no_such_column FROM sys.server_principals")
	var e mssql.Error
	if !errors.As(err, &e) || e.Number != 207 || e.Class != 16 || e.State != 1 || e.Message != "Invalid column name 'no_such_column'." {
		t.Fatalf("misspelt column: %#v", err)
	}
}

func TestCompileErrorsAreRejected(t *testing.T) {
	f := start(t, tdssim.Options{})
	db := f.open(t, model.SQLNetwork, model.SQLLoginUser, f.seed.SQLPassword, "")
	f.env.ResetCounters()
	_, err := db.ExecContext(ctx(t), "DROP LOGIN [sa]")
	if sqlNumber(err) != 15405 {
		t.Fatalf("DROP LOGIN sa: %v, want error 15405", err)
	}
	_, err = db.ExecContext(ctx(t), "SELECT name FROM sys.sql_login WHERE name = @p1", "sa")
	if sqlNumber(err) != 208 {
		t.Fatalf("unknown view: %v, want error 208", err)
	}
	_, err = db.ExecContext(ctx(t), "SELECT nme FROM sys.sql_logins")
	if sqlNumber(err) != 207 {
		t.Fatalf("unknown column: %v, want error 207", err)
	}
	_, err = db.ExecContext(ctx(t), "sp_configure", sql.Named("configname", "xp_cmdshell"))
	if sqlNumber(err) != 2812 {
		t.Fatalf("stored procedure RPC: %v, want error 2812", err)
	}
	if got := len(f.srv.Rejected()); got != 3 {
		t.Fatalf("server rejected %d requests, want 3", got)
	}
	if got := len(f.env.Rejected()); got != 3 {
		t.Fatalf("model recorded %d rejections, want 3", got)
	}
	if got := f.env.CallCount(model.TDS, model.SQLNetwork); got != 4 {
		t.Fatalf("TDS calls = %d, want 4", got)
	}
	if _, ok := f.env.SQLLoginSnapshot(model.SQLNetwork, "sa"); !ok {
		t.Fatal("sa is gone")
	}
}

func TestPermissionsOfALowLogin(t *testing.T) {
	f := start(t, tdssim.Options{})
	if err := f.env.AddSQLLogin(model.SQLNetwork, "low", "Low!Pass12345", false); err != nil {
		t.Fatal(err)
	}
	db := f.open(t, model.SQLNetwork, "low", "Low!Pass12345", "")
	_, err := db.ExecContext(ctx(t), "SELECT NodeName FROM sys.dm_os_cluster_nodes")
	if sqlNumber(err) != 297 || !strings.Contains(err.Error(), "VIEW SERVER STATE permission was denied") {
		t.Fatalf("DMV: %v, want 300 then 297", err)
	}
	_, err = db.ExecContext(ctx(t), "CREATE LOGIN [PRIV\\someone] FROM WINDOWS")
	if sqlNumber(err) != 15247 {
		t.Fatalf("CREATE LOGIN: %v, want 15247", err)
	}
	_, err = db.ExecContext(ctx(t), "EXEC xp_cmdshell 'dir'")
	if sqlNumber(err) != 229 {
		t.Fatalf("xp_cmdshell: %v, want 229", err)
	}
	var n int64
	if err := db.QueryRowContext(ctx(t), "SELECT COUNT(*) FROM sys.server_principals WHERE type IN ('S', 'U') AND name NOT LIKE 'NT %'").Scan(&n); err != nil || n != 2 {
		t.Fatalf("low sees %d logins (want itself and sa): %v", n, err)
	}
	var member, perm int64
	if err := db.QueryRowContext(ctx(t), "SELECT IS_SRVROLEMEMBER('sysadmin'), HAS_PERMS_BY_NAME(NULL, NULL, 'VIEW SERVER STATE')").Scan(&member, &perm); err != nil || member != 0 || perm != 0 {
		t.Fatalf("sysadmin %d, view server state %d: %v", member, perm, err)
	}
}

func TestIntegratedAuthenticationIsRefused(t *testing.T) {
	f := start(t, tdssim.Options{})
	db := f.open(t, model.SQLNetwork, `PRIV\Administrator`, f.seed.AdminPassword, "authenticator=ntlm")
	if err := db.PingContext(ctx(t)); sqlNumber(err) != 18452 {
		t.Fatalf("NTLM login: %v, want 18452", err)
	}
}

func TestLoginFailedFault(t *testing.T) {
	f := start(t, tdssim.Options{})
	if err := f.env.InjectSQLFault(model.SQLNetwork, model.FaultLoginFailed, 1); err != nil {
		t.Fatal(err)
	}
	db := f.open(t, model.SQLNetwork, model.SQLLoginUser, f.seed.SQLPassword, "")
	_, err := db.ExecContext(ctx(t), "SELECT @@SERVERNAME")
	if sqlNumber(err) != 18456 || !strings.Contains(err.Error(), "Login failed for user 'bastion_reader'.") {
		t.Fatalf("first login: %v", err)
	}
	if _, err := db.ExecContext(ctx(t), "SELECT @@SERVERNAME"); err != nil {
		t.Fatalf("second login: %v", err)
	}
}

func TestAttentionCancelsADelayedRequest(t *testing.T) {
	f := start(t, tdssim.Options{})
	db := f.open(t, model.SQLNetwork, model.SQLLoginUser, f.seed.SQLPassword, "")
	if _, err := db.ExecContext(ctx(t), "SELECT @@SERVERNAME"); err != nil {
		t.Fatal(err)
	}
	_ = f.env.SetSQLLatency(model.SQLNetwork, 5*time.Second)
	short, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	began := time.Now()
	if _, err := db.ExecContext(short, "SELECT @@SERVERNAME"); err == nil {
		t.Fatal("no error from a cancelled request")
	}
	if d := time.Since(began); d > 2*time.Second {
		t.Fatalf("cancel took %v: the lab did not acknowledge the attention", d)
	}
}

// A network name declared before its FCI exists refuses connections, then
// answers once setup has created the instance.
func TestDeclaredNetworkNameAnswersOnceInstalled(t *testing.T) {
	const network = "priv-sql2.priv.contoso.test"
	f := start(t, tdssim.Options{NetworkNames: []string{network}})
	if _, ok := f.srv.ConnectTo()[network+":1433"]; !ok {
		t.Fatalf("ConnectTo lacks %s: %v", network, f.srv.ConnectTo())
	}
	db := f.open(t, network, "sa", "Sa!Pass12345", "")
	if err := db.PingContext(ctx(t)); err == nil || sqlNumber(err) != 0 {
		t.Fatalf("before install: %v, want a network error", err)
	}
	_ = f.env.AddHost("priv-app4.priv.contoso.test")
	err := f.env.Do(func(e *model.Env) error {
		_, err := e.InstallFailoverCluster("priv-app4.priv.contoso.test", model.SQLSetupParams{
			"INSTANCENAME": {"MSSQLSERVER"}, "FEATURES": {"SQLENGINE"}, "FAILOVERCLUSTERNETWORKNAME": {"PRIV-SQL2"},
			"FAILOVERCLUSTERIPADDRESSES": {"IPv4;10.0.0.60;Cluster Network 1;255.255.255.0"}, "FAILOVERCLUSTERDISKS": {"Cluster Disk 3"},
			"INSTALLSQLDATADIR": {`G:\MSSQL`}, "SQLSVCACCOUNT": {`PRIV\gmsa-sql$`}, "AGTSVCACCOUNT": {`PRIV\gmsa-sql$`},
			"SQLSYSADMINACCOUNTS": {`PRIV\Administrator`}, "SECURITYMODE": {"SQL"}, "SAPWD": {"Sa!Pass12345"},
		})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	var owner string
	if err := db.QueryRowContext(ctx(t), "SELECT CAST(SERVERPROPERTY('ComputerNamePhysicalNetBIOS') AS nvarchar(128))").Scan(&owner); err != nil {
		t.Fatal(err)
	}
	if owner != "PRIV-APP4" {
		t.Fatalf("owner = %q", owner)
	}
}

// @@VERSION follows the release the lab installs, in the format of SQL
// Server's documentation: product and year, level, version, (X64), build date.
func TestVersionBannerPerRelease(t *testing.T) {
	for release, want := range map[string]string{
		model.SQL2019Version: "Microsoft SQL Server 2019 (RTM) - 15.0.2000.5 (X64) \n\tSep 24 2019 13:48:23 \n\tCopyright (C) 2019 Microsoft Corporation\n\tEnterprise Edition (64-bit) on Windows Server",
		model.SQL2022Version: "Microsoft SQL Server 2022 (RTM) - 16.0.1000.6 (X64) \n\tOct  8 2022 05:58:25 \n\tCopyright (C) 2022 Microsoft Corporation\n\tEnterprise Edition (64-bit) on Windows Server",
	} {
		env, seed := model.NewDefault(model.Seed{WithSQL: true, SQLVersion: release})
		_, srv := tdssimtest.Start(t, env, tdssim.Options{})
		f := &fixture{env: env, seed: seed, srv: srv}
		db := f.open(t, model.SQLNetwork, model.SQLLoginUser, seed.SQLPassword, "")
		var banner, version string
		if err := db.QueryRowContext(ctx(t), "SELECT @@VERSION, CAST(SERVERPROPERTY('ProductVersion') AS nvarchar(128))").Scan(&banner, &version); err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(banner, want) || version != release {
			t.Errorf("release %s: @@VERSION %q, ProductVersion %q", release, banner, version)
		}
	}
}

// A failed login is Msg 18456 state 1 for the client; the error log, which
// a sysadmin reads with xp_readerrorlog, holds the state that says why.
func TestFailedLoginStatesInTheErrorLog(t *testing.T) {
	f := start(t, tdssim.Options{})
	if err := f.env.AddSQLLogin(model.SQLNetwork, "off", "Off!Pass12345", false); err != nil {
		t.Fatal(err)
	}
	_ = f.env.Do(func(e *model.Env) error {
		e.SQLInstanceByName(model.SQLNetwork).Logins["off"].Disabled = true
		return nil
	})
	for _, c := range []struct{ user, password string }{
		{model.SQLLoginUser, "wrong"}, {"nobody", "x"}, {"off", "Off!Pass12345"},
	} {
		err := f.open(t, model.SQLNetwork, c.user, c.password, "").PingContext(ctx(t))
		var e mssql.Error
		if !errors.As(err, &e) || e.Number != 18456 || e.State != 1 || e.Class != 14 {
			t.Fatalf("%s: %#v, want Msg 18456, Level 14, State 1", c.user, err)
		}
	}
	db := f.open(t, model.SQLNetwork, model.SQLLoginUser, f.seed.SQLPassword, "")
	rows, err := db.QueryContext(ctx(t), "EXEC sys.xp_readerrorlog")
	if err != nil {
		t.Fatal(err)
	}
	var log []string
	for rows.Next() {
		var at time.Time
		var process, text string
		if err := rows.Scan(&at, &process, &text); err != nil {
			t.Fatal(err)
		}
		log = append(log, text)
	}
	_ = rows.Close()
	got := strings.Join(log, "\n")
	for _, want := range []string{
		"Error: 18456, Severity: 14, State: 8.\nLogin failed for user 'bastion_reader'. Reason: Password did not match that for the login provided.",
		"Error: 18456, Severity: 14, State: 5.\nLogin failed for user 'nobody'. Reason: Could not find a login matching the name provided.",
		"Error: 18456, Severity: 14, State: 7.\nLogin failed for user 'off'. Reason: The account is disabled.",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("error log lacks %q:\n%s", want, got)
		}
	}
}
