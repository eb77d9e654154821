//go:build linux

package provider

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/diag"

	"github.com/bastion-pam/terraform-provider-bastion/internal/ad"
	"github.com/bastion-pam/terraform-provider-bastion/internal/directory"
	"github.com/bastion-pam/terraform-provider-bastion/internal/lab"
	"github.com/bastion-pam/terraform-provider-bastion/internal/lab/labca"
	"github.com/bastion-pam/terraform-provider-bastion/internal/lab/model"
	"github.com/bastion-pam/terraform-provider-bastion/internal/scripts"
	"github.com/bastion-pam/terraform-provider-bastion/internal/sqlserver"
	"github.com/bastion-pam/terraform-provider-bastion/internal/testsupport/blackhole"
	"github.com/bastion-pam/terraform-provider-bastion/internal/transport"
	"github.com/bastion-pam/terraform-provider-bastion/internal/winrmexec"
)

// errorClass is one kind of failure: how the lab (or the client's settings)
// makes it happen, and what the diagnostic must then say besides the host,
// the protocol and the operation.
type errorClass struct {
	name string
	// arrange breaks the lab or the client settings for this class.
	arrange func(l *lab.Lab, s *labClientSettings)
	// says is what the detail must hold for this class (a certificate
	// reason, or the protocol's advice for the class).
	says func(p protocol) string
	// adapterOp, when set, is how the adapter's error names this class's
	// operation (a different call than the protocol's usual one).
	adapterOp string
}

// labClientSettings are what the adapters of one case are built from.
type labClientSettings struct {
	password       string
	connectTo      transport.ConnectTo
	connectTimeout time.Duration
	ctxTimeout     time.Duration
	tlsMode        string // LDAP: ldaps or starttls
}

// TestReportEveryErrorClassAgainstTheLab makes each class of failure happen
// on each protocol against the lab, and holds the adapter's error and the
// diagnostic report makes of it to the host, the protocol, the operation
// and, for a certificate, which one failed and why.
func TestReportEveryErrorClassAgainstTheLab(t *testing.T) {
	l, err := lab.Start(lab.Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(l.Close)
	hole := blackhole.Listen(t)
	fast := transport.RetryPolicy{Attempts: 2, Initial: 10 * time.Millisecond, Max: 20 * time.Millisecond}

	certificate := func(flaw labca.Flaw, reason string) func(h, p string) errorClass {
		return func(h, p string) errorClass {
			return errorClass{name: "certificate " + string(flaw),
				arrange: func(l *lab.Lab, _ *labClientSettings) { must(t, l.Env.SetCertificateFlaw(h, p, flaw)) },
				says:    func(protocol) string { return reason }}
		}
	}
	classes := func(h, p string, more ...errorClass) []errorClass {
		return append([]errorClass{
			certificate(labca.Expired, "(expired)")(h, p),
			certificate(labca.WrongName, "(name mismatch)")(h, p),
			certificate(labca.UnknownAuthority, `signed by "bastion lab unknown CA", an authority the configured CA file does not hold (unknown authority)`)(h, p),
			{name: "dead host", arrange: func(l *lab.Lab, _ *labClientSettings) {
				if p == model.TDS {
					must(t, l.Env.InjectSQLFault(h, model.FaultRefuse, -1))
					return
				}
				must(t, l.Env.SetReachable(h, false))
			}, says: func(p protocol) string { return advice[p].unreachable }},
			{name: "connect timeout", arrange: func(_ *lab.Lab, s *labClientSettings) {
				for k := range s.connectTo {
					if strings.HasPrefix(k, model.Key(h)+":") {
						s.connectTo[k] = hole
					}
				}
				s.connectTimeout = 300 * time.Millisecond
			}, says: func(p protocol) string { return advice[p].unreachable }},
			{name: "authentication refused", arrange: func(_ *lab.Lab, s *labClientSettings) { s.password = "not-the-password" },
				says: func(p protocol) string { return advice[p].unauthorized }},
		}, more...)
	}
	startTLS := func(flaw labca.Flaw, reason string) errorClass {
		return errorClass{name: "StartTLS certificate " + string(flaw), arrange: func(l *lab.Lab, s *labClientSettings) {
			must(t, l.Env.SetCertificateFlaw(model.DC1, model.LDAP, flaw))
			s.tlsMode = directory.TLSModeStartTLS
		}, says: func(protocol) string { return reason }}
	}
	timeout := func(h, p string) errorClass {
		return errorClass{name: "timeout", arrange: func(l *lab.Lab, s *labClientSettings) {
			if p == model.TDS {
				must(t, l.Env.InjectSQLFault(h, model.FaultTimeout, -1))
			} else {
				must(t, l.Env.InjectFault(h, p, model.FaultTimeout, -1))
			}
			s.ctxTimeout = time.Second
		}, says: func(p protocol) string { return advice[p].deadline }}
	}

	type protocolCase struct {
		protocol protocol
		host     string
		// doing is the operation as the diagnostic names it; adapterOp as the adapter's error does.
		doing, adapterOp, adapterProtocol string
		classes                           []errorClass
		call                              func(ctx context.Context, s labClientSettings, class string) error
	}
	cases := []protocolCase{
		{
			protocol: viaWinRM, host: model.App1, doing: "reading the DNS client server list", adapterOp: "dns_client_read", adapterProtocol: "winrm",
			classes: classes(model.App1, model.WinRM,
				errorClass{name: "not found", arrange: func(l *lab.Lab, _ *labClientSettings) {}, says: func(protocol) string { return "ObjectNotFound" }, adapterOp: "mim_services"},
				errorClass{name: "remote error", arrange: func(l *lab.Lab, _ *labClientSettings) {}, says: func(p protocol) string {
					return advice[p].other + "\n\nwinrm " + model.App1 + ": script mim_services failed"
				}, adapterOp: "mim_services"},
				errorClass{name: "WS-Management fault", arrange: func(l *lab.Lab, _ *labClientSettings) {
					must(t, l.Env.InjectFault(model.App1, model.WinRM, model.FaultHTTP500, -1))
				}, says: func(p protocol) string { return advice[p].other }},
				timeout(model.App1, model.WinRM)),
			call: func(ctx context.Context, s labClientSettings, class string) error {
				c, err := winrmexec.New(winrmexec.Config{ConnectTo: s.connectTo, HTTPS: true, Auth: winrmexec.AuthNTLM, Username: model.AdminUser, Password: s.password,
					CACertPEM: l.CA.CertPEM(), ConnectTimeout: s.connectTimeout, Retry: fast})
				if err != nil {
					return err
				}
				defer c.Close(context.Background())
				switch class {
				case "not found": // Restart-Service of a service the host does not have
					return c.Run(ctx, model.App1, scripts.Get("mim_services"), map[string]any{"action": "restart", "names": []string{"FIMService"}}, nil)
				case "remote error": // the script throws
					return c.Run(ctx, model.App1, scripts.Get("mim_services"), map[string]any{"action": "explode", "names": []string{}}, nil)
				}
				_, err = ad.DNSClientServers(ctx, c, model.App1)
				return err
			},
		},
		{
			protocol: viaLDAP, host: model.DC1, doing: "reading the functional levels", adapterOp: "functional levels", adapterProtocol: "ldap",
			classes: classes(model.DC1, model.LDAP,
				startTLS(labca.Expired, "(expired)"), startTLS(labca.WrongName, "(name mismatch)"), startTLS(labca.UnknownAuthority, "(unknown authority)"),
				errorClass{name: "not found", arrange: func(l *lab.Lab, _ *labClientSettings) {}, says: func(protocol) string { return "not found" }, adapterOp: "trust"},
				errorClass{name: "remote error", arrange: func(l *lab.Lab, _ *labClientSettings) {
					must(t, l.Env.InjectFault(model.DC1, model.LDAP, model.FaultLDAPBusy, -1))
				}, says: func(p protocol) string { return advice[p].other + "\n\nldap " }},
				timeout(model.DC1, model.LDAP)),
			call: func(ctx context.Context, s labClientSettings, class string) error {
				c, err := directory.New(directory.Config{Servers: []string{model.DC1}, Domain: model.DomainDNS, TLSMode: s.tlsMode, CACertPEM: l.CA.CertPEM(),
					Username: model.AdminUser, Password: s.password, ConnectTo: s.connectTo, Retry: fast, DialTimeout: s.connectTimeout})
				if err != nil {
					return err
				}
				defer func() { _ = c.Close() }()
				if class == "not found" {
					_, err = c.Trust(ctx, "nowhere.test")
					return err
				}
				_, err = c.FunctionalLevels(ctx)
				return err
			},
		},
		{
			protocol: viaSQL, host: model.SQLNetwork, doing: "reading the server", adapterOp: "server", adapterProtocol: "sqlserver",
			classes: classes(model.SQLNetwork, model.TDS,
				errorClass{name: "not found", arrange: func(l *lab.Lab, _ *labClientSettings) {}, says: func(protocol) string { return "not found" }, adapterOp: "login"},
				errorClass{name: "remote error", arrange: func(l *lab.Lab, _ *labClientSettings) {
					// The account exists (else error 15401): the role is what SQL Server refuses.
					must(t, l.Env.AddDomainUser(model.DomainNB, "svc-report-test", model.RandomPassword()))
				}, says: func(p protocol) string { return advice[p].other + "\n\nsqlserver: " }, adapterOp: "login"},
				timeout(model.SQLNetwork, model.TDS)),
			call: func(ctx context.Context, s labClientSettings, class string) error {
				c, err := sqlserver.New(sqlserver.Config{Server: model.SQLNetwork, Auth: sqlserver.AuthSQL, Username: model.SQLLoginUser, Password: s.password,
					CACertPEM: l.CA.CertPEM(), ConnectTo: s.connectTo, Retry: fast, ConnectTimeout: s.connectTimeout, FailoverTimeout: -1})
				if err != nil {
					return err
				}
				defer func() { _ = c.Close() }()
				switch class {
				case "not found":
					_, err = c.Login(ctx, `PRIV\nobody-here`)
				case "remote error": // a server role SQL Server does not have
					err = c.CreateLogin(ctx, `PRIV\svc-report-test`, []string{"nosuchrole"})
				default:
					_, err = c.ServerInfo(ctx)
				}
				return err
			},
		},
	}

	for _, pc := range cases {
		for _, class := range pc.classes {
			t.Run(protocolNames[pc.protocol]+"/"+class.name, func(t *testing.T) {
				s := labClientSettings{password: l.Seed.AdminPassword, connectTo: l.ConnectTo(), ctxTimeout: 20 * time.Second, tlsMode: "ldaps"}
				if pc.protocol == viaSQL {
					s.password = l.Seed.SQLPassword
				}
				class.arrange(l, &s)
				t.Cleanup(func() {
					for _, h := range l.Env.HostNames() {
						l.Env.ClearFaults(h)
						_ = l.Env.SetReachable(h, true)
					}
					l.Env.ClearSQLFaults(model.SQLNetwork)
				})
				ctx, cancel := context.WithTimeout(context.Background(), s.ctxTimeout)
				defer cancel()
				start := time.Now()
				err := pc.call(ctx, s, class.name)
				took := time.Since(start)
				if err == nil {
					t.Fatal("the operation succeeded")
				}
				if took > 10*time.Second {
					t.Errorf("the failure took %v", took)
				}
				msg := err.Error()
				op := pc.adapterOp
				if class.adapterOp != "" {
					op = class.adapterOp
				}
				for _, want := range []string{pc.host, pc.adapterProtocol, op} {
					if !strings.Contains(strings.ToLower(msg), strings.ToLower(want)) {
						t.Errorf("the adapter's error does not name %q:\n%s", want, msg)
					}
				}
				var diags diag.Diagnostics
				f := failure{summary: "Thing Not Read", protocol: pc.protocol, doing: pc.doing}
				if pc.protocol != viaLDAP {
					f.host = pc.host
				}
				report(&diags, f, err)
				if len(diags) != 1 {
					t.Fatalf("%d diagnostics: %v", len(diags), diags)
				}
				d := diags[0].Detail()
				for _, want := range []string{"On " + pc.host + " over " + protocolNames[pc.protocol] + ", " + pc.doing, class.says(pc.protocol)} {
					if !strings.Contains(d, want) {
						t.Errorf("the diagnostic does not say %q:\n%s", want, d)
					}
				}
			})
		}
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
