package tdssim_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/bastion-pam/terraform-provider-bastion/internal/lab/aptpkg"
	"github.com/bastion-pam/terraform-provider-bastion/internal/lab/labca"
	"github.com/bastion-pam/terraform-provider-bastion/internal/lab/model"
	"github.com/bastion-pam/terraform-provider-bastion/internal/lab/tdssim"
	"github.com/bastion-pam/terraform-provider-bastion/internal/lab/tdssim/tdssimtest"
)

// Conformance with FreeTDS's tsql, an independent TDS client: what a DBA
// types reaches the lab as it would reach SQL Server. The expectations come
// from Microsoft's documentation, not from the lab:
//   - SELECT 1 returns one row holding 1;
//   - @@VERSION reads "Microsoft SQL Server <year> (<level>) - <version> (X64)"
//     then the build date, the copyright line and the edition on the OS
//     (https://learn.microsoft.com/sql/t-sql/functions/version-transact-sql-configuration-functions);
//   - sys.server_principals type 'S' lists SQL logins, sa always among them
//     (https://learn.microsoft.com/sql/relational-databases/system-catalog-views/sys-server-principals-transact-sql);
//   - a misspelt column is Msg 207, severity 16, state 1, "Invalid column name '<name>'."
//     (https://learn.microsoft.com/sql/relational-databases/errors-events/database-engine-events-and-errors-0-to-999);
//   - a Windows login for an account the directory does not hold is Msg 15401,
//     severity 16, state 1, "Windows NT user or group '<name>' not found. Check the name again."
//     (https://learn.microsoft.com/sql/relational-databases/errors-events/mssqlserver-15401-database-engine-error);
//   - while a failover cluster instance moves, connections fail, then it
//     answers from the new owner, which ComputerNamePhysicalNetBIOS and
//     sys.dm_os_cluster_nodes.is_current_owner name.

type tsqlClient struct {
	path, conf, password string
}

func newTSQL(t *testing.T, f *fixture, ca *labca.CA) *tsqlClient {
	t.Helper()
	c, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	path := aptpkg.NeedCommand(c, t, "tsql", "freetds-bin")
	dir := t.TempDir()
	caFile := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(caFile, ca.CertPEM(), 0o600); err != nil {
		t.Fatal(err)
	}
	host, port, _ := strings.Cut(f.srv.Addr(model.SQLNetwork), ":")
	// TDS 7.4 with TLS required and the lab's CA verified; the password
	// travels on stdin, never on tsql's command line.
	conf := fmt.Sprintf("[lab]\n\thost = %s\n\tport = %s\n\ttds version = 7.4\n\tencryption = require\n\tca file = %s\n\tcheck certificate hostname = no\n", host, port, caFile)
	confFile := filepath.Join(dir, "freetds.conf")
	if err := os.WriteFile(confFile, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	return &tsqlClient{path: path, conf: confFile, password: f.seed.SQLPassword}
}

// run sends batches (each ended by "go") and returns tsql's output, stdout and stderr merged.
func (c *tsqlClient) run(t *testing.T, batches ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, c.path, "-S", "lab", "-U", model.SQLLoginUser)
	cmd.Env = append(os.Environ(), "FREETDSCONF="+c.conf, "LANG=C.UTF-8")
	cmd.Stdin = strings.NewReader(c.password + "\n" + strings.Join(batches, "\ngo\n") + "\ngo\nexit\n")
	out, _ := cmd.CombinedOutput()
	return string(out)
}

func startWithCA(t *testing.T) (*fixture, *labca.CA) {
	t.Helper()
	env, seed := model.NewDefault(model.Seed{WithSQL: true})
	ca, srv := tdssimtest.Start(t, env, tdssim.Options{Encryption: tdssim.EncryptionForced})
	return &fixture{env: env, seed: seed, srv: srv}, ca
}

func TestFreeTDSTsqlAdHocQueries(t *testing.T) {
	f, ca := startWithCA(t)
	c := newTSQL(t, f, ca)
	out := c.run(t,
		"SELECT 1",
		"SELECT @@VERSION",
		"SELECT name FROM sys.server_principals WHERE type = 'S'",
		"SELECT name, no_such_column FROM sys.server_principals",
		`CREATE LOGIN [PRIV\no-such-account] FROM WINDOWS`,
	)
	for _, want := range []*regexp.Regexp{
		regexp.MustCompile(`(?m)^1\s*$\s*^\(1 row affected\)`),
		regexp.MustCompile(`(?m)^Microsoft SQL Server 2019 \(RTM\) - 15\.0\.2000\.5 \(X64\) \n\t\w{3} [ \d]\d \d{4} \d\d:\d\d:\d\d \n\tCopyright \(C\) 2019 Microsoft Corporation\n\tEnterprise Edition \(64-bit\) on Windows`),
		regexp.MustCompile(`(?m)^sa\s*$`),
		regexp.MustCompile(`(?m)^` + model.SQLLoginUser + `\s*$`),
		regexp.MustCompile(`\(2 rows affected\)`),
		regexp.MustCompile(`Msg 207 \(severity 16, state 1\)[^\n]*\n\s*"Invalid column name 'no_such_column'\."`),
		regexp.MustCompile(`Msg 15401 \(severity 16, state 1\)[^\n]*\n\s*"Windows NT user or group 'PRIV\\no-such-account' not found\. Check the name again\."`),
	} {
		if !want.MatchString(out) {
			t.Errorf("tsql output lacks %s:\n%s", want, out)
		}
	}
}

func TestFreeTDSTsqlDuringFailover(t *testing.T) {
	f, ca := startWithCA(t)
	c := newTSQL(t, f, ca)
	owner := "SELECT CAST(SERVERPROPERTY('ComputerNamePhysicalNetBIOS') AS nvarchar(128)) AS owner"
	nodes := "SELECT NodeName FROM sys.dm_os_cluster_nodes WHERE is_current_owner = 1"
	if out := c.run(t, owner); !regexp.MustCompile(`(?m)^PRIV-APP1\s*$`).MatchString(out) {
		t.Fatalf("before the failover:\n%s", out)
	}
	if err := f.env.Failover(model.SQLNetwork, model.App2, model.FailoverOptions{Outage: time.Hour, FailedLogins: 1}); err != nil {
		t.Fatal(err)
	}
	// The group is offline: the connection is refused, no row comes back.
	if out := c.run(t, owner); strings.Contains(out, "PRIV-APP") || !strings.Contains(out, "There was a problem connecting to the server") {
		t.Fatalf("during the outage:\n%s", out)
	}
	// Online on the new owner, recovering: the first login fails with 18456.
	_ = f.env.Do(func(e *model.Env) error {
		e.Now = func() time.Time { return time.Now().Add(2 * time.Hour) }
		return nil
	})
	if out := c.run(t, owner); !strings.Contains(out, "Msg 18456 (severity 14, state 1)") || !strings.Contains(out, "Login failed for user '"+model.SQLLoginUser+"'") {
		t.Fatalf("while recovering:\n%s", out)
	}
	out := c.run(t, owner, nodes)
	if !regexp.MustCompile(`(?m)^PRIV-APP2\s*$[\s\S]*^PRIV-APP2\s*$`).MatchString(out) {
		t.Fatalf("after the failover, owner and current node:\n%s", out)
	}
}

// The same failover seen by go-mssqldb, the driver of Microsoft's own Go
// tooling: the pooled connection dies, logins fail with 18456 while the
// instance recovers, then the new owner answers.
func TestGoMSSQLDBDuringFailover(t *testing.T) {
	f := start(t, tdssim.Options{})
	db := f.open(t, model.SQLNetwork, model.SQLLoginUser, f.seed.SQLPassword, "")
	db.SetMaxOpenConns(1)
	owner := func() (string, error) {
		var o string
		err := db.QueryRowContext(ctx(t), "SELECT CAST(SERVERPROPERTY('ComputerNamePhysicalNetBIOS') AS nvarchar(128))").Scan(&o)
		return o, err
	}
	if o, err := owner(); err != nil || o != "PRIV-APP1" {
		t.Fatalf("before: %q %v", o, err)
	}
	if err := f.env.Failover(model.SQLNetwork, model.App2, model.FailoverOptions{FailedLogins: 3}); err != nil {
		t.Fatal(err)
	}
	// The pooled connection died with the old owner: a transport error, no SQL error.
	if _, err := owner(); err == nil || sqlNumber(err) != 0 {
		t.Fatalf("on the old connection: %v, want the connection dropped", err)
	}
	// New logins fail while the instance recovers.
	if _, err := owner(); sqlNumber(err) != 18456 {
		t.Fatalf("while recovering: %v, want Msg 18456", err)
	}
	var err error
	var o string
	for range 3 {
		if o, err = owner(); err == nil {
			break
		}
	}
	if err != nil || o != "PRIV-APP2" {
		t.Fatalf("after: %q %v", o, err)
	}
	var node string
	var current bool
	if err := db.QueryRowContext(ctx(t), "SELECT NodeName, is_current_owner FROM sys.dm_os_cluster_nodes WHERE is_current_owner = 1").Scan(&node, &current); err != nil || node != "PRIV-APP2" || !current {
		t.Fatalf("sys.dm_os_cluster_nodes: %q %v %v", node, current, err)
	}
}
