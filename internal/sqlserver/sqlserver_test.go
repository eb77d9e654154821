package sqlserver_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bastion-pam/terraform-provider-bastion/internal/lab/labca"
	"github.com/bastion-pam/terraform-provider-bastion/internal/lab/model"
	"github.com/bastion-pam/terraform-provider-bastion/internal/lab/tdssim"
	"github.com/bastion-pam/terraform-provider-bastion/internal/lab/tdssim/tdssimtest"
	"github.com/bastion-pam/terraform-provider-bastion/internal/sqlserver"
	"github.com/bastion-pam/terraform-provider-bastion/internal/transport"
)

// fastRetry keeps failure tests quick: a few attempts, millisecond backoff.
var fastRetry = transport.RetryPolicy{Attempts: 4, Initial: time.Millisecond, Max: 5 * time.Millisecond}

type lab struct {
	env  *model.Env
	seed model.Seed
	ca   *labca.CA
	srv  *tdssim.Server
}

func newLab(t testing.TB, opts tdssim.Options) *lab {
	t.Helper()
	env, seed := model.NewDefault(model.Seed{WithSQL: true})
	ca, srv := tdssimtest.Start(t, env, opts)
	return &lab{env: env, seed: seed, ca: ca, srv: srv}
}

// addAccounts creates domain users in the lab's directory, as a Windows
// login needs its account to exist (SQL Server's error 15401 otherwise).
func (l *lab) addAccounts(t testing.TB, names ...string) {
	t.Helper()
	for _, n := range names {
		domain, user, _ := strings.Cut(n, `\`)
		if err := l.env.AddDomainUser(domain, user, model.RandomPassword()); err != nil {
			t.Fatal(err)
		}
	}
}

// wantLogins fails the test unless the lab's server saw n logins.
func (l *lab) wantLogins(t testing.TB, n int) {
	t.Helper()
	if got := l.srv.Logins(); got != n {
		t.Fatalf("the lab saw %d logins, want %d", got, n)
	}
}

func (l *lab) config() sqlserver.Config {
	return sqlserver.Config{
		Server:    model.SQLNetwork,
		Username:  model.SQLLoginUser,
		Password:  l.seed.SQLPassword,
		CACertPEM: l.ca.CertPEM(),
		ConnectTo: l.srv.ConnectTo(),
		Retry:     fastRetry,
	}
}

func (l *lab) client(t testing.TB, mutate ...func(*sqlserver.Config)) *sqlserver.Client {
	t.Helper()
	cfg := l.config()
	for _, m := range mutate {
		m(&cfg)
	}
	c, err := sqlserver.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func ctx(t testing.TB) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return c
}

func TestServerInfo(t *testing.T) {
	l := newLab(t, tdssim.Options{})
	got, err := l.client(t).ServerInfo(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	want := sqlserver.ServerInfo{
		ServerName: "PRIV-SQL", MachineName: "PRIV-SQL", IsClustered: true, CurrentOwner: "PRIV-APP1",
		InstanceName: "MSSQLSERVER", ProductVersion: model.DefaultSQLVersion, Edition: model.DefaultSQLEdition,
	}
	if got != want {
		t.Fatalf("ServerInfo = %+v\nwant        %+v", got, want)
	}
}

func TestClusterNodesAndSharedPaths(t *testing.T) {
	l := newLab(t, tdssim.Options{})
	c := l.client(t)
	if err := l.env.SetSQLNodeStatus(model.SQLNetwork, model.App2, model.NodePaused); err != nil {
		t.Fatal(err)
	}
	nodes, err := c.ClusterNodes(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	want := []sqlserver.ClusterNode{
		{Name: "PRIV-APP1", Status: sqlserver.NodeUp, StatusDescription: "up", IsCurrentOwner: true},
		{Name: "PRIV-APP2", Status: sqlserver.NodePaused, StatusDescription: "paused"},
	}
	if len(nodes) != 2 || nodes[0] != want[0] || nodes[1] != want[1] {
		t.Fatalf("ClusterNodes = %+v, want %+v", nodes, want)
	}
	paths, err := c.SharedPaths(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) != 2 || paths[0] != (sqlserver.SharedPath{Path: `E:\`, OwnerNode: "PRIV-APP1"}) || paths[1].Path != `F:\` {
		t.Fatalf("SharedPaths = %+v", paths)
	}
}

// The start time is when the instance last came online, in UTC: a failover
// moves it to the failover's moment, and the FCI refresh reads the same value.
func TestStartTimeFollowsFailover(t *testing.T) {
	l := newLab(t, tdssim.Options{})
	c := l.client(t)
	before, err := c.StartTime(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	var seeded time.Time
	_ = l.env.Do(func(e *model.Env) error { seeded = e.SQLInstanceByName(model.SQLNetwork).StartedAt; return nil })
	if d := before.Sub(seeded); d < -5*time.Millisecond || d > 5*time.Millisecond || before.Location() != time.UTC {
		t.Fatalf("StartTime = %v, want the lab's %v in UTC", before, seeded.UTC())
	}
	at := time.Now()
	if err := l.env.Failover(model.SQLNetwork, model.App2, model.FailoverOptions{}); err != nil {
		t.Fatal(err)
	}
	fc, err := c.FailoverCluster(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	if fc.StartedAt.Before(at.Add(-5*time.Millisecond)) || fc.StartedAt.After(time.Now().Add(5*time.Millisecond)) {
		t.Fatalf("after a failover at %v the instance reports it came online at %v", at.UTC(), fc.StartedAt)
	}
}

// A full FCI refresh is one round trip: one batch, four result sets.
func TestFailoverClusterIsOneRoundTrip(t *testing.T) {
	l := newLab(t, tdssim.Options{})
	c := l.client(t)
	l.env.ResetCounters()
	fc, err := c.FailoverCluster(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	if fc.Server.CurrentOwner != "PRIV-APP1" || len(fc.Nodes) != 2 || len(fc.Paths) != 2 {
		t.Fatalf("FailoverCluster = %+v", fc)
	}
	if n := l.env.CallCount(model.TDS, model.SQLNetwork); n != 1 {
		t.Fatalf("TDS requests = %d, want 1", n)
	}
	if s := c.Stats(); s.Queries != 1 || s.Logins != 1 {
		t.Fatalf("stats = %+v", s)
	}
}

func TestDatabaseExists(t *testing.T) {
	l := newLab(t, tdssim.Options{})
	c := l.client(t)
	for name, want := range map[string]bool{"master": true, "FIMService": false} {
		got, err := c.DatabaseExists(ctx(t), name)
		if err != nil || got != want {
			t.Fatalf("DatabaseExists(%q) = %v, %v; want %v", name, got, err, want)
		}
	}
	_ = l.env.Do(func(e *model.Env) error { e.SQL[model.Key(model.SQLNetwork)].EnsureDatabase("FIMService"); return nil })
	if got, err := c.DatabaseExists(ctx(t), "FIMService"); err != nil || !got {
		t.Fatalf("after creation: %v, %v", got, err)
	}
}

func TestEncryption(t *testing.T) {
	l := newLab(t, tdssim.Options{})
	for _, mode := range []sqlserver.Encryption{"", sqlserver.EncryptOn, sqlserver.EncryptStrict, sqlserver.EncryptOff} {
		c := l.client(t, func(c *sqlserver.Config) { c.Encrypt = mode })
		if _, err := c.ServerInfo(ctx(t)); err != nil {
			t.Fatalf("encrypt %q with the lab CA: %v", mode, err)
		}
	}
	// Without the CA the certificate is refused, and refusing is not retried.
	for _, mode := range []sqlserver.Encryption{sqlserver.EncryptOn, sqlserver.EncryptStrict} {
		c := l.client(t, func(c *sqlserver.Config) { c.CACertPEM = nil; c.Encrypt = mode })
		_, err := c.ServerInfo(ctx(t))
		if !errors.Is(err, transport.ErrUnreachable) || !strings.Contains(err.Error(), "certificate") {
			t.Fatalf("encrypt %q without the CA: %v, want ErrUnreachable about the certificate", mode, err)
		}
		if s := c.Stats(); s.Dials != 1 || s.Retries != 0 {
			t.Fatalf("a refused certificate was retried: %+v", s)
		}
	}
	// The certificate must name the server dialled: another name routed to the
	// same listener fails verification.
	other := "priv-other.priv.contoso.test"
	c := l.client(t, func(c *sqlserver.Config) {
		c.Server = other
		c.ConnectTo = transport.ConnectTo{other + ":1433": l.srv.Addr(model.SQLNetwork)}
	})
	if _, err := c.ServerInfo(ctx(t)); !errors.Is(err, transport.ErrUnreachable) {
		t.Fatalf("certificate for another name accepted: %v", err)
	}
	// The insecure opt-in works without the CA.
	c = l.client(t, func(c *sqlserver.Config) { c.CACertPEM = nil; c.TrustServerCertificate = true })
	if _, err := c.ServerInfo(ctx(t)); err != nil {
		t.Fatalf("TrustServerCertificate: %v", err)
	}
}

// A certificate the client does not trust is ErrCertificate (with
// ErrUnreachable), never retried; a server that does not answer is
// unreachable without it.
func TestCertificateNotTrustedIsErrCertificate(t *testing.T) {
	for name, c := range map[string]struct {
		flaw   labca.Flaw
		noCA   bool
		down   bool
		isCert bool
	}{
		"unknown authority": {flaw: labca.UnknownAuthority, isCert: true},
		"expired":           {flaw: labca.Expired, isCert: true},
		"wrong name":        {flaw: labca.WrongName, isCert: true},
		"no CA configured":  {noCA: true, isCert: true},
		"trusted":           {},
		"server down":       {down: true},
	} {
		t.Run(name, func(t *testing.T) {
			l := newLab(t, tdssim.Options{})
			if c.flaw != labca.NoFlaw {
				if err := l.env.SetCertificateFlaw(model.SQLNetwork, model.TDS, c.flaw); err != nil {
					t.Fatal(err)
				}
			}
			if c.down {
				for _, h := range []string{model.App1, model.App2} {
					if err := l.env.SetReachable(h, false); err != nil {
						t.Fatal(err)
					}
				}
			}
			client := l.client(t, func(cfg *sqlserver.Config) {
				if c.noCA {
					cfg.CACertPEM = nil
				}
			})
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
			defer cancel()
			_, err := client.ServerInfo(ctx)
			if got := errors.Is(err, sqlserver.ErrCertificate); got != c.isCert {
				t.Fatalf("errors.Is(%v, ErrCertificate) = %t, want %t", err, got, c.isCert)
			}
			if c.isCert {
				if !errors.Is(err, transport.ErrUnreachable) {
					t.Errorf("%v is not also ErrUnreachable", err)
				}
				if s := client.Stats(); s.Dials != 1 || s.Retries != 0 {
					t.Errorf("a refused certificate was retried: %+v", s)
				}
			}
			if c.down && !errors.Is(err, transport.ErrUnreachable) {
				t.Errorf("server down: %v, want ErrUnreachable", err)
			}
			if !c.isCert && !c.down && err != nil {
				t.Errorf("trusted certificate: %v", err)
			}
		})
	}
}

func TestEncryptionRequiredButUnavailable(t *testing.T) {
	l := newLab(t, tdssim.Options{Encryption: tdssim.EncryptionNone})
	_, err := l.client(t).ServerInfo(ctx(t))
	if !errors.Is(err, transport.ErrUnreachable) || !strings.Contains(err.Error(), "encryption") {
		t.Fatalf("server without TLS: %v", err)
	}
}

func TestForcedEncryptionWithOptionalClient(t *testing.T) {
	l := newLab(t, tdssim.Options{Encryption: tdssim.EncryptionForced})
	c := l.client(t, func(c *sqlserver.Config) { c.Encrypt = sqlserver.EncryptOff })
	if _, err := c.FailoverCluster(ctx(t)); err != nil {
		t.Fatal(err)
	}
}

func TestWrongPasswordIsUnauthorized(t *testing.T) {
	l := newLab(t, tdssim.Options{})
	c := l.client(t, func(c *sqlserver.Config) { c.Password = "wrong" })
	_, err := c.ServerInfo(ctx(t))
	if !errors.Is(err, transport.ErrUnauthorized) || !strings.Contains(err.Error(), "18456") {
		t.Fatalf("wrong password: %v", err)
	}
	if strings.Contains(err.Error(), "wrong") {
		t.Fatalf("the password leaked into the error: %v", err)
	}
	// 18456 is also what a failover looks like, so it is retried, boundedly.
	if s := c.Stats(); s.LoginFailures != int64(fastRetry.Attempts) || s.Logins != 0 {
		t.Fatalf("stats = %+v, want %d failed logins", s, fastRetry.Attempts)
	}
}

func TestFailoverIsRetried(t *testing.T) {
	l := newLab(t, tdssim.Options{})
	c := l.client(t)
	if _, err := c.ServerInfo(ctx(t)); err != nil {
		t.Fatal(err)
	}
	// The group moves: the pooled connection dies and the next two logins fail.
	if err := l.env.Failover(model.SQLNetwork, model.App2, model.FailoverOptions{FailedLogins: 2}); err != nil {
		t.Fatal(err)
	}
	info, err := c.ServerInfo(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	if info.CurrentOwner != "PRIV-APP2" {
		t.Fatalf("owner after failover = %q", info.CurrentOwner)
	}
	if s := c.Stats(); s.Retries < 1 || s.LoginFailures != 2 || s.Logins != 2 {
		t.Fatalf("stats = %+v, want 2 failed logins, retries, and a second login", s)
	}
}

func TestFailoverWindowByDuration(t *testing.T) {
	l := newLab(t, tdssim.Options{})
	// The window ends when the client retries after a refused login: the
	// test's clock then passes it. A wall-clock window could end before a
	// loaded machine's first login.
	const window = time.Hour
	var shift atomic.Int64
	l.env.Now = func() time.Time { return time.Now().Add(time.Duration(shift.Load())) }
	c := l.client(t, func(c *sqlserver.Config) {
		c.Retry = transport.RetryPolicy{Attempts: 4, Initial: 20 * time.Millisecond, Max: 40 * time.Millisecond}
		c.Logger = slog.New(onRetry(func() { shift.Store(int64(2 * window)) }))
	})
	if err := l.env.Failover(model.SQLNetwork, model.App2, model.FailoverOptions{Duration: window}); err != nil {
		t.Fatal(err)
	}
	info, err := c.ServerInfo(ctx(t))
	if err != nil || info.CurrentOwner != "PRIV-APP2" {
		t.Fatalf("after the failover window: %+v, %v", info, err)
	}
	if c.Stats().LoginFailures == 0 {
		t.Fatal("no login failed during the failover window")
	}
}

// onRetry is a log handler that calls f when the client logs a retry.
type onRetry func()

func (f onRetry) Enabled(context.Context, slog.Level) bool { return true }
func (f onRetry) WithAttrs([]slog.Attr) slog.Handler       { return f }
func (f onRetry) WithGroup(string) slog.Handler            { return f }
func (f onRetry) Handle(_ context.Context, r slog.Record) error {
	if r.Message == "retrying after transient error" {
		f()
	}
	return nil
}

func TestRefusedIsUnreachable(t *testing.T) {
	l := newLab(t, tdssim.Options{})
	if err := l.env.InjectSQLFault(model.SQLNetwork, model.FaultRefuse, -1); err != nil {
		t.Fatal(err)
	}
	c := l.client(t)
	_, err := c.ServerInfo(ctx(t))
	if !errors.Is(err, transport.ErrUnreachable) {
		t.Fatalf("refused: %v", err)
	}
	if s := c.Stats(); s.Dials != int64(fastRetry.Attempts) {
		t.Fatalf("dials = %d, want one per attempt (%d)", s.Dials, fastRetry.Attempts)
	}
	// A transient refusal is ridden out.
	l.env.ClearSQLFaults(model.SQLNetwork)
	_ = l.env.InjectSQLFault(model.SQLNetwork, model.FaultRefuse, 2)
	if _, err := l.client(t).ServerInfo(ctx(t)); err != nil {
		t.Fatalf("after two refusals: %v", err)
	}
}

func TestOwnerDownIsUnreachable(t *testing.T) {
	l := newLab(t, tdssim.Options{})
	_ = l.env.SetReachable(model.App1, false)
	_, err := l.client(t).ClusterNodes(ctx(t))
	if !errors.Is(err, transport.ErrUnreachable) {
		t.Fatalf("owner down: %v", err)
	}
}

func TestNoListenerIsUnreachable(t *testing.T) {
	c, err := sqlserver.New(sqlserver.Config{Server: "127.0.0.1", Port: 1, Username: "u", Password: "p", Retry: fastRetry})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = c.Close() }()
	if _, err := c.ServerInfo(ctx(t)); !errors.Is(err, transport.ErrUnreachable) {
		t.Fatalf("closed port: %v", err)
	}
}

func TestDeadlineIsUnreachable(t *testing.T) {
	l := newLab(t, tdssim.Options{})
	c := l.client(t)
	if _, err := c.ServerInfo(ctx(t)); err != nil {
		t.Fatal(err)
	}
	_ = l.env.SetSQLLatency(model.SQLNetwork, 2*time.Second)
	short, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_, err := c.ServerInfo(short)
	if !errors.Is(err, transport.ErrUnreachable) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("slow server: %v", err)
	}
}

// A burst of concurrent reads, as a plan at -parallelism=10 makes, logs in once.
func TestConcurrentReadsLogInOnce(t *testing.T) {
	l := newLab(t, tdssim.Options{})
	c := l.client(t)
	errs := make(chan error, 30)
	for range 30 {
		go func() {
			_, err := c.ServerInfo(ctx(t))
			errs <- err
		}()
	}
	for range 30 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if s := c.Stats(); s.Logins != 1 || s.Queries != 30 {
		t.Fatalf("stats = %+v, want 1 login for 30 concurrent queries", s)
	}
	l.wantLogins(t, 1)
}

func TestConnectionReuse(t *testing.T) {
	l := newLab(t, tdssim.Options{})
	c := l.client(t)
	for range 10 {
		if _, err := c.ServerInfo(ctx(t)); err != nil {
			t.Fatal(err)
		}
		if _, err := c.DatabaseExists(ctx(t), "master"); err != nil {
			t.Fatal(err)
		}
	}
	if s := c.Stats(); s.Dials != 1 || s.Logins != 1 || s.Queries != 20 {
		t.Fatalf("stats = %+v, want 1 dial, 1 login, 20 queries", s)
	}
	l.wantLogins(t, 1)
}

func TestLoginLifecycle(t *testing.T) {
	l := newLab(t, tdssim.Options{})
	c := l.client(t)
	const name = `PRIV\svc-mim`
	if err := c.CreateLogin(ctx(t), name, []string{"dbcreator", "securityadmin"}); err != nil {
		t.Fatal(err)
	}
	got, err := c.Login(ctx(t), name)
	if err != nil {
		t.Fatal(err)
	}
	if got.Name != name || got.Type != "WINDOWS_LOGIN" || got.Disabled || strings.Join(got.Roles, ",") != "dbcreator,securityadmin" || got.PrincipalID < 256 {
		t.Fatalf("Login = %+v", got)
	}
	if err := c.CreateLogin(ctx(t), name, nil); !errors.Is(err, sqlserver.ErrLoginExists) {
		t.Fatalf("second create: %v", err)
	}
	if err := c.SetLoginRoles(ctx(t), name, []string{"sysadmin", "dbcreator"}); err != nil {
		t.Fatal(err)
	}
	if got, _ := c.Login(ctx(t), name); strings.Join(got.Roles, ",") != "dbcreator,sysadmin" {
		t.Fatalf("roles after SetLoginRoles = %v", got.Roles)
	}
	if err := c.DropLogin(ctx(t), name); err != nil {
		t.Fatal(err)
	}
	if err := c.DropLogin(ctx(t), name); !errors.Is(err, transport.ErrNotFound) {
		t.Fatalf("second drop: %v", err)
	}
	if _, err := c.Login(ctx(t), name); !errors.Is(err, transport.ErrNotFound) {
		t.Fatalf("read after drop: %v", err)
	}
}

func TestCreateLoginWithUnknownRoleLeavesNoLogin(t *testing.T) {
	l := newLab(t, tdssim.Options{})
	c := l.client(t)
	const name = `PRIV\half-made`
	l.addAccounts(t, name)
	err := c.CreateLogin(ctx(t), name, []string{"no_such_role"})
	if err == nil || !strings.Contains(err.Error(), "15151") {
		t.Fatalf("unknown role: %v", err)
	}
	if _, ok := l.env.SQLLoginSnapshot(model.SQLNetwork, name); ok {
		t.Fatal("the login stayed after its role failed")
	}
}

// Names travel as parameter values: the lab sees the exact value and no SQL
// text contains it.
func TestHostileNamesAreParameters(t *testing.T) {
	l := newLab(t, tdssim.Options{})
	c := l.client(t)
	hostile := `PRIV\x]; DROP LOGIN [sa]; --' OR 1=1`
	err := c.CreateLogin(ctx(t), hostile, nil)
	if err == nil || !strings.Contains(err.Error(), "15401") || !strings.Contains(err.Error(), hostile) {
		t.Fatalf("hostile name: %v, want Windows's 'not found' naming the exact value", err)
	}
	var missing *sqlserver.AccountNotFoundError
	if !errors.Is(err, sqlserver.ErrAccountNotFound) || !errors.As(err, &missing) || missing.Account != hostile {
		t.Fatalf("hostile name: %v, want ErrAccountNotFound naming %q", err, hostile)
	}
	odd := `PRIV\O'Brien & Sons Admins`
	l.addAccounts(t, odd)
	if err := c.CreateLogin(ctx(t), odd, []string{"dbcreator"}); err != nil {
		t.Fatal(err)
	}
	if got, err := c.Login(ctx(t), odd); err != nil || got.Name != odd {
		t.Fatalf("Login(%q) = %+v, %v", odd, got, err)
	}
	if _, ok := l.env.SQLLoginSnapshot(model.SQLNetwork, "sa"); !ok {
		t.Fatal("sa was dropped")
	}
	seen := map[string]bool{}
	for _, r := range l.srv.Requests() {
		for _, bad := range []string{"DROP LOGIN [sa]", "O'Brien", "PRIV\\x"} {
			if strings.Contains(r.Text, bad) {
				t.Fatalf("SQL text contains a value: %q", r.Text)
			}
		}
		if v, _ := r.Params["@p1"].(string); v == hostile || v == odd {
			seen[v] = true
		}
	}
	if !seen[hostile] || !seen[odd] {
		t.Fatalf("the lab did not see the exact values as @p1: %v", seen)
	}
	if len(l.srv.Rejected()) != 0 {
		t.Fatalf("the lab rejected adapter SQL: %+v", l.srv.Rejected())
	}
}

func TestPermissionDeniedIsUnauthorized(t *testing.T) {
	l := newLab(t, tdssim.Options{})
	if err := l.env.AddSQLLogin(model.SQLNetwork, "limited", "Limited!Pass1", false); err != nil {
		t.Fatal(err)
	}
	c := l.client(t, func(c *sqlserver.Config) { c.Username, c.Password = "limited", "Limited!Pass1" })
	if _, err := c.ServerInfo(ctx(t)); err != nil {
		t.Fatal(err)
	}
	if _, err := c.ClusterNodes(ctx(t)); !errors.Is(err, transport.ErrUnauthorized) || !strings.Contains(err.Error(), "VIEW SERVER STATE") {
		t.Fatalf("ClusterNodes without VIEW SERVER STATE: %v", err)
	}
	if err := c.CreateLogin(ctx(t), `PRIV\someone`, nil); !errors.Is(err, transport.ErrUnauthorized) {
		t.Fatalf("CreateLogin without ALTER ANY LOGIN: %v", err)
	}
	// Another login is invisible without ALTER ANY LOGIN: not found, as in SQL Server.
	if _, err := c.Login(ctx(t), model.AdminUser); !errors.Is(err, transport.ErrNotFound) {
		t.Fatalf("Login of another principal: %v", err)
	}
	if c.Stats().Retries != 0 {
		t.Fatal("a permission error was retried")
	}
}

func TestConfigValidation(t *testing.T) {
	ok := sqlserver.Config{Server: model.SQLNetwork, Username: "u", Password: "S3cret!Value"}
	cases := map[string]func(*sqlserver.Config){
		"no server":         func(c *sqlserver.Config) { c.Server = "" },
		"server with port":  func(c *sqlserver.Config) { c.Server = "host:1433" },
		"instance in name":  func(c *sqlserver.Config) { c.Server = `host\INST` },
		"bad port":          func(c *sqlserver.Config) { c.Port = 70000 },
		"no password":       func(c *sqlserver.Config) { c.Password = "" },
		"windows user":      func(c *sqlserver.Config) { c.Username = `PRIV\u` },
		"unknown auth":      func(c *sqlserver.Config) { c.Auth = "ntlm" },
		"unknown encrypt":   func(c *sqlserver.Config) { c.Encrypt = "yes please" },
		"bad CA":            func(c *sqlserver.Config) { c.CACertPEM = []byte("not a certificate") },
		"windows, no creds": func(c *sqlserver.Config) { c.Auth, c.Password = sqlserver.AuthWindows, "" },
	}
	if _, err := sqlserver.New(ok); err != nil {
		t.Fatalf("valid config refused: %v", err)
	}
	for name, mutate := range cases {
		cfg := ok
		mutate(&cfg)
		if _, err := sqlserver.New(cfg); err == nil {
			t.Errorf("%s: accepted", name)
		} else if strings.Contains(err.Error(), cfg.Password) && cfg.Password != "" {
			t.Errorf("%s: password in error %v", name, err)
		}
	}
	c, _ := sqlserver.New(ok)
	if err := c.CreateLogin(context.Background(), strings.Repeat("a", 129), nil); err == nil {
		t.Error("a 129-character name was sent")
	}
	if err := c.CreateLogin(context.Background(), "no-domain", nil); err == nil {
		t.Error("a Windows login without a domain was sent")
	}
	if s := c.Stats(); s.Dials != 0 {
		t.Errorf("validation dialled: %+v", s)
	}
}

func TestNamedInstanceMismatchIsUnreachable(t *testing.T) {
	l := newLab(t, tdssim.Options{})
	c := l.client(t, func(c *sqlserver.Config) { c.Instance = "OTHER" })
	if _, err := c.ServerInfo(ctx(t)); !errors.Is(err, transport.ErrUnreachable) {
		t.Fatalf("wrong instance name: %v", err)
	}
}

func TestNamedInstance(t *testing.T) {
	env, seed := model.NewDefault(model.Seed{WithSQL: true})
	env.SQL[model.Key(model.SQLNetwork)].InstanceName = "PAM"
	ca, srv := tdssimtest.Start(t, env, tdssim.Options{})
	c, err := sqlserver.New(sqlserver.Config{Server: model.SQLNetwork, Instance: "PAM", Username: model.SQLLoginUser, Password: seed.SQLPassword,
		CACertPEM: ca.CertPEM(), ConnectTo: srv.ConnectTo(), Retry: fastRetry})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = c.Close() }()
	info, err := c.ServerInfo(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	if info.InstanceName != "PAM" || info.ServerName != `PRIV-SQL\PAM` {
		t.Fatalf("named instance: %+v", info)
	}
}

func BenchmarkServerInfo(b *testing.B) {
	l := newLab(b, tdssim.Options{})
	c := l.client(b)
	bg := context.Background()
	if _, err := c.ServerInfo(bg); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		if _, err := c.ServerInfo(bg); err != nil {
			b.Fatal(err)
		}
	}
}

// A failover with an outage longer than Retry's attempts: the pooled
// connection dies, new connections are refused while the group is offline,
// then logins fail while the instance recovers; the client rides it out
// within FailoverTimeout and reads the new owner.
// ridesFailover configures a client that retries twice, quickly, and rides
// a failover for at most d.
func ridesFailover(d time.Duration) func(*sqlserver.Config) {
	return func(c *sqlserver.Config) {
		c.Retry = transport.RetryPolicy{Attempts: 2, Initial: 20 * time.Millisecond, Max: 50 * time.Millisecond}
		c.FailoverTimeout = d
	}
}

func TestFailoverOutageIsRiddenOut(t *testing.T) {
	l := newLab(t, tdssim.Options{})
	c := l.client(t, ridesFailover(5*time.Second))
	if _, err := c.ServerInfo(ctx(t)); err != nil {
		t.Fatal(err)
	}
	// Timed from before the failover: the outage ends 400 ms after it
	// began, however late the first retry comes.
	began := time.Now()
	if err := l.env.Failover(model.SQLNetwork, model.App2, model.FailoverOptions{Outage: 400 * time.Millisecond, FailedLogins: 2}); err != nil {
		t.Fatal(err)
	}
	info, err := c.ServerInfo(ctx(t))
	if err != nil {
		t.Fatalf("during the failover: %v", err)
	}
	if d := time.Since(began); d < 400*time.Millisecond {
		t.Fatalf("answered after %v, inside the outage", d)
	}
	if info.CurrentOwner != "PRIV-APP2" {
		t.Fatalf("owner after failover = %q", info.CurrentOwner)
	}
	if s := c.Stats(); s.Retries < 3 || s.LoginFailures < 2 {
		t.Fatalf("stats = %+v, want the refusals and failed logins retried", s)
	}
}

// The same outage with no FailoverTimeout left: Retry's attempts decide and
// the error is ErrUnreachable, well before the outage ends.
func TestFailoverTimeoutBoundsTheRide(t *testing.T) {
	l := newLab(t, tdssim.Options{})
	c := l.client(t, ridesFailover(200*time.Millisecond))
	if _, err := c.ServerInfo(ctx(t)); err != nil {
		t.Fatal(err)
	}
	if err := l.env.Failover(model.SQLNetwork, model.App2, model.FailoverOptions{Outage: 10 * time.Second}); err != nil {
		t.Fatal(err)
	}
	began := time.Now()
	_, err := c.ServerInfo(ctx(t))
	if !errors.Is(err, transport.ErrUnreachable) {
		t.Fatalf("long outage: %v", err)
	}
	if d := time.Since(began); d > 3*time.Second {
		t.Fatalf("gave up after %v, want about FailoverTimeout", d)
	}
}

// sys.server_principals.is_disabled is an int: sa, disabled by setup, reads as disabled.
func TestLoginDisabledIsRead(t *testing.T) {
	l := newLab(t, tdssim.Options{})
	c := l.client(t)
	sa, err := c.Login(ctx(t), "sa")
	if err != nil {
		t.Fatal(err)
	}
	me, err := c.Login(ctx(t), model.SQLLoginUser)
	if err != nil {
		t.Fatal(err)
	}
	if !sa.Disabled || me.Disabled || sa.Type != model.LoginSQL {
		t.Fatalf("sa %+v, %s %+v", sa, model.SQLLoginUser, me)
	}
}

// A plan's login reads share one query of every login until a write.
func TestCachedLoginSharedUntilAWrite(t *testing.T) {
	l := newLab(t, tdssim.Options{})
	c := l.client(t)
	names := []string{`PRIV\svc-a`, `PRIV\svc-b`, `PRIV\svc-c`}
	l.addAccounts(t, names...)
	for i, n := range names {
		roles := []string{"dbcreator"}
		if i == 1 {
			roles = append(roles, "securityadmin")
		}
		if err := c.CreateLogin(ctx(t), n, roles); err != nil {
			t.Fatal(err)
		}
	}
	before := c.Stats().Queries
	errs := make(chan error, 30)
	for i := range 30 {
		go func() {
			// Names compare as the server's case-insensitive collation does.
			got, err := c.CachedLogin(ctx(t), strings.ToUpper(names[i%3]))
			if err == nil && (got.Name != names[i%3] || got.Type != "WINDOWS_LOGIN" || got.Roles[0] != "dbcreator") {
				err = fmt.Errorf("CachedLogin(%s) = %+v", names[i%3], got)
			}
			errs <- err
		}()
	}
	for range 30 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if got, _ := c.CachedLogin(ctx(t), names[1]); strings.Join(got.Roles, ",") != "dbcreator,securityadmin" {
		t.Fatalf("roles = %v", got.Roles)
	}
	if _, err := c.CachedLogin(ctx(t), `PRIV\nobody`); !errors.Is(err, transport.ErrNotFound) {
		t.Fatalf("missing login: %v", err)
	}
	if n := c.Stats().Queries - before; n != 1 {
		t.Fatalf("32 cached reads sent %d queries, want 1", n)
	}
	// A write through the client drops the shared read.
	if err := c.SetLoginRoles(ctx(t), names[0], []string{"sysadmin"}); err != nil {
		t.Fatal(err)
	}
	if got, err := c.CachedLogin(ctx(t), names[0]); err != nil || strings.Join(got.Roles, ",") != "sysadmin" {
		t.Fatalf("after the write: %+v, %v", got, err)
	}
	if err := c.DropLogin(ctx(t), names[2]); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CachedLogin(ctx(t), names[2]); !errors.Is(err, transport.ErrNotFound) {
		t.Fatalf("after the drop: %v", err)
	}
}
