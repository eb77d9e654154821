package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/bastion-pam/terraform-provider-bastion/internal/lab"
	"github.com/bastion-pam/terraform-provider-bastion/internal/lab/labca"
	"github.com/bastion-pam/terraform-provider-bastion/internal/lab/model"
)

func serveCmd() command {
	return command{
		name:    "serve",
		args:    "[-dir DIR] [-topology bastion|bastion-multi-site] [-sql-version 2019|2022] [-rtt D] [-rtt-winrm D] [-rtt-ldap D] [-rtt-tds D] [-powershell-start D] [-restart-window D] [-replication-delay D]",
		summary: "start the lab and run until Ctrl-C (SIGINT) or SIGTERM",
		detail: `Starts every endpoint on 127.0.0.1 and writes, in DIR:
  lab.env       the provider's settings (BASTION_*) and a TF_VAR_* value for
                every password the examples ask for, CORP's included;
                "source DIR/lab.env" before running terraform
  ca.pem        the lab's certificate authority (lab.env points at it)
  control.json  where the other commands reach this lab
  ready         written last, once every endpoint listens
Stopping the lab forgets everything it holds.

Every topology has the file server priv-fs with the installation media on
\\priv-fs.priv.contoso.test\install (MIM\, SQL2019\, SQL2022\), which the
examples install from.

-topology chooses what exists before Terraform runs. Without it: two domain
controllers, the SQL Server failover cluster instance on priv-app1 and
priv-app2 (examples/demo builds the MIM Service on them), the member
server priv-dc3, ready to be promoted, and a conditional forwarder in CORP's
DNS sending priv.contoso.test to both PRIV DCs. With "bastion": only
the forest's first DC (priv-dc1, every FSMO role), member servers priv-dc2,
priv-app1..3 and priv-spare1, and the Windows failover cluster priv-clu with
priv-app1..3 as nodes: what examples/bastion builds on. "bastion-multi-site"
adds the site Branch with the member servers priv-dc3 and priv-app4
(examples/bastion-multi-site).

The cost model makes the lab as slow as a network: -rtt is charged for every
request/response exchange (and TCP/TLS handshake flight) on every protocol,
-rtt-<protocol> overrides it for one protocol, and -powershell-start is charged
for every WinRM command. "bastion-lab status" counts what was charged.`,
		setup: func(fs *flag.FlagSet) func(context.Context, io.Writer) error {
			dir := dirFlag(fs)
			sqlRelease := fs.String("sql-version", "2019", "SQL Server release of the lab's instance and setup media: 2019 or 2022")
			topology := fs.String("topology", "", "what exists before Terraform runs: empty (two DCs and the SQL FCI), "+model.TopologyBastion+" or "+model.TopologyBastionMultiSite)
			rtt := fs.Duration("rtt", 0, "round-trip time of every request/response exchange, on every protocol (e.g. 20ms)")
			rttWinRM := fs.Duration("rtt-winrm", -1, "round-trip time for WinRM (default: -rtt)")
			rttLDAP := fs.Duration("rtt-ldap", -1, "round-trip time for LDAP (default: -rtt)")
			rttTDS := fs.Duration("rtt-tds", -1, "round-trip time for TDS (default: -rtt)")
			psStart := fs.Duration("powershell-start", model.DefaultPowerShellStart, "start cost of PowerShell, charged per WinRM command")
			restart := fs.Duration("restart-window", model.DefaultRestartWindow, "how long a server refuses connections while it restarts after a DC promotion or demotion")
			replication := fs.Duration("replication-delay", model.DefaultReplicationDelay, "how long the other DCs take to see a DC promoted or demoted through its replication source (Windows: 15 s or more within a site)")
			return func(ctx context.Context, out io.Writer) error {
				version, err := model.SQLVersionForRelease(*sqlRelease)
				if err != nil {
					return usageError{err.Error()}
				}
				costs := serveSettings{Costs: model.Costs{RTT: map[string]time.Duration{}, PowerShellStart: *psStart}}
				for p, d := range map[string]time.Duration{model.WinRM: *rttWinRM, model.LDAP: *rttLDAP, model.TDS: *rttTDS} {
					if d < 0 {
						d = *rtt
					}
					costs.RTT[p] = d
				}
				switch *topology {
				case "", model.TopologyBastion, model.TopologyBastionMultiSite:
				default:
					return usageError{fmt.Sprintf("unknown -topology %q: use %s or %s", *topology, model.TopologyBastion, model.TopologyBastionMultiSite)}
				}
				costs.RestartWindow, costs.ReplicationDelay = *restart, *replication
				return serve(ctx, out, *dir, costs, model.Seed{SQLVersion: version, Topology: *topology})
			}
		},
	}
}

func statusCmd() command {
	return command{
		name:    "status",
		args:    "[-dir DIR] [-json] [-all]",
		summary: "print the hosts and what each answered, as a table (-json for scripts)",
		detail: `The table counts, per protocol and host, what the lab answered since it
started: calls (a WinRM script, an LDAP operation, a TDS batch or RPC),
requests, round trips the cost model charged, TCP connections, TLS handshakes,
logins, PowerShell commands and bytes. Hosts nobody called are left out
unless -all is given. -json prints the same counters as one JSON object for
scripts (keys: hosts, calls, costs, net, scripts, rejected, pending_requests).`,
		setup: func(fs *flag.FlagSet) func(context.Context, io.Writer) error {
			dir := dirFlag(fs)
			asJSON := fs.Bool("json", false, "print the status as JSON")
			all := fs.Bool("all", false, "list hosts nobody called too")
			return func(ctx context.Context, out io.Writer) error {
				var st status
				if err := control(ctx, *dir, http.MethodGet, "/status", nil, &st); err != nil {
					return err
				}
				if *asJSON {
					enc := json.NewEncoder(out)
					enc.SetIndent("", "  ")
					return enc.Encode(st)
				}
				return printStatus(out, st, *all)
			}
		},
	}
}

// faultKinds are the kinds `fault -kind` accepts, with what each does.
var faultKinds = []struct {
	kind      model.FaultKind
	protocols string
	what      string
}{
	{model.FaultRefuse, "any", "refuse the TCP connection"},
	{model.FaultTimeout, "any", "accept the request and never answer, until the client gives up"},
	{model.FaultUnauthorized, "winrm, ldap", "answer HTTP 401 (WinRM) or invalidCredentials (LDAP)"},
	{model.FaultHTTP500, "winrm", "answer HTTP 500 with a WS-Management fault"},
	{model.FaultHTTP503, "winrm", "answer HTTP 503 Service Unavailable"},
	{model.FaultDropLDAP, "ldap", "close the connection in the middle of a request"},
	{model.FaultLDAPBusy, "ldap", "answer resultCode busy (51)"},
	{model.FaultLoginFailed, "tds", "fail the login with error 18456, as during a failover"},
}

func faultCmd() command {
	var kinds strings.Builder
	for _, k := range faultKinds {
		fmt.Fprintf(&kinds, "  %-13s %-12s %s\n", k.kind, k.protocols, k.what)
	}
	return command{
		name:    "fault",
		args:    "[-dir DIR] -host H -protocol winrm|ldap|tds -kind K [-n N]",
		summary: "make the next N calls of one protocol on one host fail",
		detail: `-host is a server's FQDN, or the SQL instance's network name for -protocol
tds. The next -n calls fail (-n -1: every call until "bastion-lab clear").
Kinds (and the protocols they apply to):
` + kinds.String(),
		setup: func(fs *flag.FlagSet) func(context.Context, io.Writer) error {
			dir := dirFlag(fs)
			host, protocol := endpointFlags(fs)
			kind := fs.String("kind", "", "what fails (see above)")
			n := fs.Int("n", 1, "how many calls fail; -1: every call until cleared")
			return func(ctx context.Context, out io.Writer) error {
				if err := checkEndpoint(*host, *protocol); err != nil {
					return err
				}
				if err := required("kind", *kind); err != nil {
					return err
				}
				known := false
				for _, k := range faultKinds {
					known = known || string(k.kind) == *kind
				}
				if !known {
					return usageError{fmt.Sprintf("unknown -kind %q", *kind)}
				}
				if *n == 0 || *n < -1 {
					return usageError{"-n is a positive number of calls, or -1 for every call until cleared"}
				}
				calls := fmt.Sprintf("the next %d %s call(s)", *n, *protocol)
				if *n < 0 {
					calls = fmt.Sprintf("every %s call until \"bastion-lab clear\"", *protocol)
				}
				return post(ctx, *dir, "/fault", faultRequest{Host: *host, Protocol: *protocol, Kind: *kind, N: *n},
					out, "%s on %s: %s\n", calls, *host, *kind)
			}
		},
	}
}

func certCmd() command {
	return command{
		name:    "cert",
		args:    "[-dir DIR] -host H -protocol winrm|ldap|tds -flaw expired|wrong_name|unknown_ca|none",
		summary: "serve a bad TLS certificate on one endpoint, to see how the provider reports it",
		detail: `From its next TLS handshake, the endpoint presents a certificate with -flaw:
  expired      signed by the lab CA for the right names, but expired yesterday
  wrong_name   signed by the lab CA, but issued for the host's short name only,
               so it names neither the FQDN the provider connects to nor 127.0.0.1
  unknown_ca   names the host, but is signed by a second CA that ca.pem does not hold
  none         the good certificate again ("bastion-lab clear" also restores it)
-protocol winrm is the host's WinRM HTTPS listener (5986), ldap its LDAPS (636)
and StartTLS (389) listeners, tds the SQL instance's TLS (PRELOGIN-wrapped and
TDS 8.0 strict). -host is a server's FQDN, or the SQL network name for tds.
Connections already open keep the certificate they verified.`,
		setup: func(fs *flag.FlagSet) func(context.Context, io.Writer) error {
			dir := dirFlag(fs)
			host, protocol := endpointFlags(fs)
			flaw := fs.String("flaw", "", "expired, wrong_name, unknown_ca, or none for the good certificate")
			return func(ctx context.Context, out io.Writer) error {
				if err := checkEndpoint(*host, *protocol); err != nil {
					return err
				}
				if err := required("flaw", *flaw); err != nil {
					return err
				}
				f, err := labca.ParseFlaw(*flaw)
				if err != nil {
					return usageError{err.Error()}
				}
				what := "the good certificate"
				if f != labca.NoFlaw {
					what = "a certificate with the flaw " + string(f)
				}
				return post(ctx, *dir, "/cert", model.CertificateFlaw{Host: *host, Protocol: *protocol, Flaw: f},
					out, "%s on %s: %s from the next TLS handshake\n", *protocol, *host, what)
			}
		},
	}
}

func latencyCmd() command {
	return command{
		name:    "latency",
		args:    "[-dir DIR] -host H -protocol winrm|ldap|tds -delay D",
		summary: "delay every call of one protocol on one host",
		detail: `Every call of -protocol on -host waits -delay before it is answered, on top
of the cost model of "serve -rtt" (which is charged on every host). -host is
a server's FQDN, or the SQL instance's network name for -protocol tds.
-delay 0 removes the delay; "bastion-lab clear" removes it with the faults.`,
		setup: func(fs *flag.FlagSet) func(context.Context, io.Writer) error {
			dir := dirFlag(fs)
			host, protocol := endpointFlags(fs)
			delay := fs.Duration("delay", 0, "the delay, e.g. 2s")
			return func(ctx context.Context, out io.Writer) error {
				if err := checkEndpoint(*host, *protocol); err != nil {
					return err
				}
				if *delay < 0 {
					return usageError{"-delay cannot be negative"}
				}
				return post(ctx, *dir, "/latency", latencyRequest{Host: *host, Protocol: *protocol, Delay: delay.String()},
					out, "every %s call on %s waits %s\n", *protocol, *host, *delay)
			}
		},
	}
}

func clearCmd() command {
	return command{
		name:    "clear",
		args:    "[-dir DIR] [-host H]",
		summary: "remove the faults and delays of one host, or of every host",
		detail: `Removes what "fault" and "latency" injected on -host (a server's FQDN or the
SQL network name), or on every host and SQL instance when -host is not given,
and restores the good certificates "cert" replaced.
It does not bring back a server that "down" took away: use "up".`,
		setup: func(fs *flag.FlagSet) func(context.Context, io.Writer) error {
			dir := dirFlag(fs)
			host := fs.String("host", "", "FQDN of the server or SQL network name (default: every host)")
			return func(ctx context.Context, out io.Writer) error {
				what := "every host"
				if *host != "" {
					what = *host
				}
				return post(ctx, *dir, "/clear", hostRequest{Host: *host}, out, "no faults or delays left on %s\n", what)
			}
		},
	}
}

func downCmd() command {
	return command{
		name:    "down",
		args:    "[-dir DIR] -host H",
		summary: "lose a server: every protocol on it refuses connections",
		detail: `The server is gone, as after a hardware failure: WinRM, LDAP and TDS refuse
its connections, and a SQL instance it owned goes offline unless another node
takes it ("bastion-lab failover"). The model keeps what the server held, so
"bastion-lab up" brings it back as it was. To rebuild a lost MIM Service node,
follow docs/guides/recovering-a-lost-mim-node.md with the spare server
priv-spare1.priv.contoso.test.`,
		setup: func(fs *flag.FlagSet) func(context.Context, io.Writer) error {
			dir := dirFlag(fs)
			host := fs.String("host", "", "FQDN of the server to lose")
			return func(ctx context.Context, out io.Writer) error {
				return setReachable(ctx, out, *dir, *host, false)
			}
		},
	}
}

func upCmd() command {
	return command{
		name:    "up",
		args:    "[-dir DIR] -host H",
		summary: "bring back a server that \"down\" took away",
		detail:  `The server answers again on every protocol, with what it held before.`,
		setup: func(fs *flag.FlagSet) func(context.Context, io.Writer) error {
			dir := dirFlag(fs)
			host := fs.String("host", "", "FQDN of the server to bring back")
			return func(ctx context.Context, out io.Writer) error {
				return setReachable(ctx, out, *dir, *host, true)
			}
		},
	}
}

func setReachable(ctx context.Context, out io.Writer, dir, host string, up bool) error {
	if err := required("host", host); err != nil {
		return err
	}
	if err := control(ctx, dir, http.MethodPost, "/reachable", reachableRequest{Host: host, Up: up}, nil); err != nil {
		return err
	}
	state := "is down: every protocol refuses"
	if up {
		state = "is up"
	}
	_, err := fmt.Fprintf(out, "%s %s\n", host, state)
	return err
}

func backupCmd() command {
	return command{
		name:    "backup",
		args:    "[-dir DIR] -host H [-age D]",
		summary: "record a system state backup of a domain controller",
		detail: `Records a system state backup of the domain controller -host taken -age ago,
as "wbadmin start systemstatebackup" would: the DC stamps every naming
context it holds (dSASignature's backup time), and the directory keeps only
the latest stamp of each naming context, whichever DC took it. The lab starts
with priv-dc1 backed up three hours ago and priv-dc2 two hours ago, so the
FSMO role holder priv-dc1 has no recorded backup until it is backed up again:
bastion_backup_status and rule HA-9 of bastion_topology report that.`,
		setup: func(fs *flag.FlagSet) func(context.Context, io.Writer) error {
			dir := dirFlag(fs)
			host := fs.String("host", "", "FQDN of the domain controller")
			age := fs.Duration("age", 0, "how long ago the backup was taken, e.g. 30m or 4000h")
			return func(ctx context.Context, out io.Writer) error {
				if err := required("host", *host); err != nil {
					return err
				}
				if *age < 0 {
					return usageError{"-age cannot be negative"}
				}
				return post(ctx, *dir, "/backup", backupRequest{Host: *host, Age: age.String()},
					out, "system state backup of %s recorded (%s ago)\n", *host, *age)
			}
		},
	}
}

func accountCmd() command {
	return command{
		name:    "account",
		args:    "[-dir DIR] -name DOMAIN\\NAME [-gmsa]",
		summary: "create a domain account in the lab's directory",
		detail: `Creates the account -name (DOMAIN\sAMAccountName, the domain by NetBIOS or DNS
name) in the lab's directory, as New-ADUser would; with -gmsa a group
managed service account (its name ends in $), as New-ADServiceAccount would.
The lab's SQL Server looks every Windows login up as SQL Server does, and
refuses an account the directory does not hold with Msg 15401, "Windows NT
user or group '...' not found": create the account of a bastion_sql_login
(or of a sysadmin_accounts entry added later) here first. A user gets a
random password that the lab keeps and never prints.`,
		setup: func(fs *flag.FlagSet) func(context.Context, io.Writer) error {
			dir := dirFlag(fs)
			name := fs.String("name", "", `the account, e.g. PRIV\svc-report`)
			gmsa := fs.Bool("gmsa", false, "a group managed service account (the name ends in $)")
			return func(ctx context.Context, out io.Writer) error {
				if err := required("name", *name); err != nil {
					return err
				}
				if domain, sam, ok := strings.Cut(*name, `\`); !ok || domain == "" || sam == "" {
					return usageError{"-name must be DOMAIN\\NAME"}
				}
				return post(ctx, *dir, "/account", accountRequest{Name: *name, GMSA: *gmsa}, out, "account %s created\n", *name)
			}
		},
	}
}

func failoverCmd() command {
	return command{
		name:    "failover",
		args:    "[-dir DIR] -to NODE [-network N] [-outage D] [-failed-logins N]",
		summary: "move the SQL Server failover cluster instance to another node (Move-ClusterGroup)",
		detail: `Moves the instance whose network name is -network to the node -to. For
-outage the network name is offline (connections refused); then the first
-failed-logins logins fail with error 18456, as while the instance recovers
its databases.`,
		setup: func(fs *flag.FlagSet) func(context.Context, io.Writer) error {
			dir := dirFlag(fs)
			network := fs.String("network", model.SQLNetwork, "the instance's network name")
			to := fs.String("to", "", "FQDN of the node to move the instance to")
			outage := fs.Duration("outage", 0, "how long the network name is offline (e.g. 30s)")
			failedLogins := fs.Int("failed-logins", 0, "logins that fail with error 18456 after the outage")
			return func(ctx context.Context, out io.Writer) error {
				if err := required("to", *to); err != nil {
					return err
				}
				return post(ctx, *dir, "/failover", failoverRequest{Network: *network, To: *to, Outage: outage.String(), FailedLogins: *failedLogins},
					out, "%s moved to %s\n", *network, *to)
			}
		},
	}
}

// endpointFlags are the -host and -protocol of the commands aimed at one
// protocol of one host (fault, cert, latency).
func endpointFlags(fs *flag.FlagSet) (host, protocol *string) {
	return fs.String("host", "", "FQDN of the server (or the SQL network name)"), fs.String("protocol", "", "winrm, ldap or tds")
}

// checkEndpoint reports a missing -host, or a missing or unknown -protocol.
func checkEndpoint(host, protocol string) error {
	if err := required("host", host); err != nil {
		return err
	}
	switch protocol {
	case model.WinRM, model.LDAP, model.TDS:
		return nil
	case "":
		return usageError{"-protocol is required: winrm, ldap or tds"}
	}
	return usageError{fmt.Sprintf("unknown -protocol %q: winrm, ldap or tds", protocol)}
}

// serve starts the lab, writes DIR's files and runs until ctx ends.
// serveSettings are the lab's timing settings: the cost model, and how
// restarts and replication behave.
type serveSettings struct {
	model.Costs
	RestartWindow, ReplicationDelay time.Duration
}

func serve(ctx context.Context, out io.Writer, dir string, costs serveSettings, seed model.Seed) error {
	// lab.env names files in dir: absolute, so terraform -chdir finds them.
	dir, err := filepath.Abs(dir)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	l, err := lab.Start(lab.Options{Dir: dir, Seed: seed})
	if err != nil {
		return err
	}
	defer l.Close()
	l.Env.SetCosts(costs.Costs)
	_ = l.Env.Do(func(e *model.Env) error {
		e.RestartWindow, e.ReplicationDelay = costs.RestartWindow, costs.ReplicationDelay
		return nil
	})
	if err := l.Env.Do(func(e *model.Env) error {
		// With two PRIV DCs, CORP's DNS forwards the bastion's domain to
		// both, as Microsoft's PAM deployment sets it up before the trust
		// ("Prepare the CORP domain"): the forwarder bastion_dns_client_servers
		// reads in CORP's directory.
		if corp := e.Forests[model.CorpDomainDNS]; corp != nil && seed.Topology == "" && corp.Zone(model.DomainDNS) == nil {
			return corp.AddConditionalForwarder(model.DomainDNS, []string{model.DC1Address, model.DC2Address}, model.ForestDNSZones)
		}
		return nil
	}); err != nil {
		return err
	}

	tokenBytes := make([]byte, 16)
	if _, err := rand.Read(tokenBytes); err != nil {
		return err
	}
	token := hex.EncodeToString(tokenBytes)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: controlHandler(l, token), ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	defer func() { _ = srv.Close() }()

	if err := os.WriteFile(filepath.Join(dir, "lab.env"), []byte(labEnv(l)), 0o600); err != nil {
		return err
	}
	ctl, err := json.Marshal(controlFile{Address: ln.Addr().String(), Token: token})
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "control.json"), ctl, 0o600); err != nil {
		return err
	}
	// The ready file is written last: its presence means every endpoint listens.
	if err := os.WriteFile(filepath.Join(dir, "ready"), []byte(fmt.Sprint(os.Getpid())), 0o600); err != nil {
		return err
	}
	_, _ = fmt.Fprintf(out, "bastion lab: domain %s, %d hosts, endpoints on 127.0.0.1; settings in %s\n", model.DomainDNS, len(l.Env.HostNames()), filepath.Join(dir, "lab.env"))

	<-ctx.Done()
	_ = os.Remove(filepath.Join(dir, "ready"))
	_ = os.Remove(filepath.Join(dir, "control.json"))
	return nil
}

// labEnv is lab.env: the provider's settings and every example's secrets.
func labEnv(l *lab.Lab) string {
	vars := l.EnvVars()
	for k, v := range exampleVars(l) {
		vars[k] = v
	}
	keys := slices.Sorted(maps.Keys(vars))
	var b strings.Builder
	b.WriteString("# Written by bastion-lab serve: the provider's settings for this lab and the\n" +
		"# variables the examples ask for. Readable by its owner only (it holds passwords).\n")
	for _, k := range keys {
		fmt.Fprintf(&b, "export %s='%s'\n", k, strings.ReplaceAll(vars[k], "'", `'\''`))
	}
	return b.String()
}

// exampleVars are the TF_VAR_* values of the secrets the examples declare as
// variables. The domain accounts the examples name beyond the default lab's
// (PRIV\svc-sqlagent, PRIV\dc-builder, a domain admin) are created here; the DSRM password
// is a new secret, which the lab takes as given.
func exampleVars(l *lab.Lab) map[string]string {
	vars := map[string]string{
		"TF_VAR_priv_admin_password":          l.Seed.AdminPassword,
		"TF_VAR_mim_service_account_password": l.Seed.MIMSvcPassword,
		"TF_VAR_dsrm_password":                model.RandomPassword(),
	}
	_ = l.Env.Do(func(e *model.Env) error {
		vars["TF_VAR_corp_admin_password"] = e.Credentials[strings.ToLower(model.CorpAdminUser)]
		// The provider's pam_corp_password: a destroy removes the PAM trust
		// and PAM's configuration in CORP (examples/bastion).
		vars["BASTION_PAM_CORP_PASSWORD"] = vars["TF_VAR_corp_admin_password"]
		for v, account := range map[string]string{"TF_VAR_sql_agent_password": `PRIV\svc-sqlagent`, "TF_VAR_dc_builder_password": `PRIV\dc-builder`} {
			key := strings.ToLower(account)
			if _, ok := e.Credentials[key]; !ok {
				e.Credentials[key] = model.RandomPassword()
			}
			vars[v] = e.Credentials[key]
		}
		// The domain controller example promotes as PRIV\dc-builder, a
		// second member of Domain Admins.
		if d := e.Domain; d != nil && !d.IsDomainAdmin("dc-builder") {
			if d.Groups == nil {
				d.Groups = map[string][]string{}
			}
			d.Groups[model.DomainAdminsGroup] = append(d.Groups[model.DomainAdminsGroup], "dc-builder")
		}
		return nil
	})
	return vars
}
