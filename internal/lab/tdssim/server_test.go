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

	"github.com/bastion-pam/terraform-provider-bastion/internal/lab/labca"
	"github.com/bastion-pam/terraform-provider-bastion/internal/lab/model"
	"github.com/bastion-pam/terraform-provider-bastion/internal/lab/tdssim"
	"github.com/bastion-pam/terraform-provider-bastion/internal/sqlserver"
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
	ca, err := labca.New()
	if err != nil {
		t.Fatal(err)
	}
	srv, err := tdssim.Start(env, ca, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
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

func TestEveryAdapterStatementIsAnswered(t *testing.T) {
	f := start(t, tdssim.Options{})
	db := f.open(t, model.SQLNetwork, model.SQLLoginUser, f.seed.SQLPassword, "")
	for _, text := range sqlserver.Statements {
		args := []any{`PRIV\probe`, "dbcreator"}
		n := strings.Count(text, "@p2")
		if n == 0 {
			args = args[:1]
		}
		if !strings.Contains(text, "@p1") {
			args = nil
		}
		rows, err := db.QueryContext(ctx(t), text, args...)
		if err == nil {
			for more := true; more; more = rows.NextResultSet() {
				for rows.Next() {
				}
			}
			err = rows.Err()
			rows.Close()
		}
		// The role statements run before the login exists in this order; a
		// SQL Server error is an answer, a rejection is not.
		if err != nil && sqlNumber(err) == 102 {
			t.Errorf("the lab rejected the adapter's SQL:\n%s\n%v", text, err)
		}
	}
	if r := f.srv.Rejected(); len(r) != 0 {
		t.Fatalf("rejected: %+v", r)
	}
	if got := len(f.srv.Requests()); got != len(sqlserver.Statements) {
		t.Fatalf("the lab saw %d requests, want %d", got, len(sqlserver.Statements))
	}
}

func TestUnknownSQLIsRejected(t *testing.T) {
	f := start(t, tdssim.Options{})
	db := f.open(t, model.SQLNetwork, model.SQLLoginUser, f.seed.SQLPassword, "")
	f.env.ResetCounters()
	_, err := db.ExecContext(ctx(t), "DROP LOGIN [sa]")
	if sqlNumber(err) != 102 {
		t.Fatalf("unknown batch: %v, want error 102", err)
	}
	_, err = db.ExecContext(ctx(t), "SELECT name FROM sys.sql_logins WHERE name = @p1", "sa")
	if sqlNumber(err) != 102 {
		t.Fatalf("unknown parameterised text: %v, want error 102", err)
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
	if got := f.env.CallCount(model.TDS, model.SQLNetwork); got != 3 {
		t.Fatalf("TDS calls = %d, want 3", got)
	}
	if _, ok := f.env.SQLLoginSnapshot(model.SQLNetwork, "sa"); !ok {
		t.Fatal("sa is gone")
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
	_, err := db.ExecContext(ctx(t), sqlserver.QueryServerInfo)
	if sqlNumber(err) != 18456 || !strings.Contains(err.Error(), "Login failed for user 'bastion_reader'.") {
		t.Fatalf("first login: %v", err)
	}
	if _, err := db.ExecContext(ctx(t), sqlserver.QueryServerInfo); err != nil {
		t.Fatalf("second login: %v", err)
	}
}

func TestAttentionCancelsADelayedRequest(t *testing.T) {
	f := start(t, tdssim.Options{})
	db := f.open(t, model.SQLNetwork, model.SQLLoginUser, f.seed.SQLPassword, "")
	if _, err := db.ExecContext(ctx(t), sqlserver.QueryServerInfo); err != nil {
		t.Fatal(err)
	}
	_ = f.env.SetSQLLatency(model.SQLNetwork, 5*time.Second)
	short, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	began := time.Now()
	if _, err := db.ExecContext(short, sqlserver.QueryServerInfo); err == nil {
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
	if err := db.QueryRowContext(ctx(t), sqlserver.QueryServerInfo).Scan(new(int64), &owner, new(sql.NullString), new(string), new(string), new(string), new(string)); err != nil {
		t.Fatal(err)
	}
	if owner != "PRIV-APP4" {
		t.Fatalf("owner = %q", owner)
	}
}
