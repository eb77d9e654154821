package provider

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"

	"github.com/bastion-pam/terraform-provider-bastion/internal/ad"
	"github.com/bastion-pam/terraform-provider-bastion/internal/adnames"
	"github.com/bastion-pam/terraform-provider-bastion/internal/directory"
	"github.com/bastion-pam/terraform-provider-bastion/internal/scripts"
	"github.com/bastion-pam/terraform-provider-bastion/internal/sqlserver"
	"github.com/bastion-pam/terraform-provider-bastion/internal/transport"
	"github.com/bastion-pam/terraform-provider-bastion/internal/winrmexec"
)

type diagsT = diag.Diagnostics

// providerData is what Configure hands every resource and data source: the
// adapters (none of which has dialled anything yet) and the provider-level
// secrets to mask in every log line.
type providerData struct {
	// connectTimeout bounds one TCP connect on every protocol (0: 15 s).
	connectTimeout time.Duration
	winrm          remoteExec
	dir            *directory.Client
	// dirConfig is the LDAP configuration dir was built from, without its
	// servers and credentials (transport, TLS, CA, port, ConnectTo, and the
	// PRIV domain's DNS name when set): a resource that reads another
	// forest's directory with its own credential (the CORP side of the PAM
	// trust) builds a short-lived client from it. nil when dir is.
	dirConfig *directory.Config
	sql       *sqlserver.Client
	secrets   []string
	lostHosts map[string]bool
	// pinnedDC is ldap.pinned_dc ("" when unset): the DC guard refuses to
	// demote it.
	pinnedDC string
	// planned records the destroys planned so far in this Terraform walk.
	planned *plannedDestroys
	// sqlStart remembers when the SQL instance last came online, read once
	// per Terraform walk for every MIM node's plan.
	sqlStart onceValue[time.Time]
	// winrmCredential is the provider's own WinRM account. Operations that
	// need an explicit domain credential at destroy time (when Terraform hands
	// a resource no configuration, so write-only values are gone) use it:
	// nothing secret is ever staged on a host or kept in state for later.
	winrmCredential credential
	// restarts are the servers this provider process restarted by promoting
	// or demoting them: a replacement's promotion waits for its demotion's
	// restart. nil when unconfigured (nothing is waited for).
	restarts *ad.Restarts
	// pamCorpPassword is the CORP password PAM resources destroy with
	// (provider pam_corp_password or BASTION_PAM_CORP_PASSWORD).
	pamCorpPassword string
}

// credential is a user name and password handed to a script as data.
type credential struct {
	Username string
	Password string
}

// isLost reports whether the operator declared host lost (provider lost_hosts).
func (d *providerData) isLost(host string) bool { return d.lostHosts[adnames.HostKey(host)] }

const lostHostDetail = "%s is listed in the provider's lost_hosts: the operator declared the server lost for good. "

// refuseLost reports an error on the attribute at when host is declared
// lost; advice says what to do instead. It returns whether it refused.
func (d *providerData) refuseLost(at path.Path, host, advice string, diags *diag.Diagnostics) bool {
	if !d.isLost(host) {
		return false
	}
	diags.AddAttributeError(at, "Host Declared Lost", fmt.Sprintf(lostHostDetail, host)+advice)
	return true
}

// skipLost warns, under summary, that host is declared lost and what was
// done without it. It returns whether host is lost.
func (d *providerData) skipLost(host, summary, what string, diags *diag.Diagnostics) bool {
	if !d.isLost(host) {
		return false
	}
	diags.AddWarning(summary, fmt.Sprintf(lostHostDetail, host)+what)
	return true
}

// needDirectory reports the missing ldap settings; why says what the
// directory is needed for.
func (d *providerData) needDirectory(why string, diags *diag.Diagnostics) bool {
	if d.dir != nil {
		return true
	}
	diags.AddError("LDAP Not Configured", why+
		" Set the provider's ldap block (domain, pinned_dc, username, password, ca_file) or the BASTION_LDAP_* variables.")
	return false
}

// notOnDC is a rule that keeps a role off the domain controllers (HA-3 for
// the SQL Server nodes, HA-4 for the MIM Service), as its checks report it.
type notOnDC struct {
	rule string    // "HA-4"
	at   path.Path // the attribute the hosts come from
	says string    // the rule, completing "rule HA-4 says ..."
	// What a failed question means: at apply, what was not done; at plan
	// time, when the check runs again.
	notDone, runsAgain string
}

// domainControllersAmong asks the directory which of hosts are domain
// controllers, for rule q. Without ldap settings the rule is not checked,
// with a warning. A question that fails is a warning at plan time (the check
// runs again at apply) and an error at apply.
func (d *providerData) domainControllersAmong(ctx context.Context, hosts []string, q notOnDC, atApply bool, diags *diag.Diagnostics) []string {
	summary := "HA Rule " + q.rule + " Not Checked"
	if d.dir == nil {
		isAre := "is"
		if len(hosts) > 1 {
			isAre = "are"
		}
		diags.AddAttributeWarning(q.at, summary,
			fmt.Sprintf("The provider has no ldap settings, so it cannot ask the directory whether %s %s a domain controller; rule %s says %s. "+
				"Configure the ldap block (or BASTION_LDAP_*) to have the rule checked.", strings.Join(hosts, ", "), isAre, q.rule, q.says))
		return nil
	}
	var dcs []string
	for _, host := range hosts {
		isDC, err := d.dir.IsDomainController(ctx, host)
		if err != nil {
			f := failure{summary, "", viaLDAP, "asking the directory whether " + host + " is a domain controller (rule " + q.rule + ")"}
			if atApply {
				reportAt(diags, q.at, f, q.notDone, err)
			} else {
				warnAt(diags, q.at, f, q.runsAgain, err)
			}
			continue
		}
		if isDC {
			dcs = append(dcs, host)
		}
	}
	return dcs
}

// logCtx prepares ctx for an operation, masking the provider's secrets and
// any per-resource ones.
func (d *providerData) logCtx(ctx context.Context, more ...string) context.Context {
	return withLogging(ctx, append(append([]string(nil), d.secrets...), more...)...)
}

// configuredResource is embedded in every resource: its Configure keeps
// the provider's adapters.
type configuredResource struct {
	data *providerData
}

func (c *configuredResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	c.data = providerDataFrom(req.ProviderData, &resp.Diagnostics)
}

// configuredDataSource is configuredResource for data sources.
type configuredDataSource struct {
	data *providerData
}

func (c *configuredDataSource) Configure(_ context.Context, req datasource.ConfigureRequest, resp *datasource.ConfigureResponse) {
	c.data = providerDataFrom(req.ProviderData, &resp.Diagnostics)
}

// importByID is ImportState for a resource whose import ID is one attribute's
// value, also its id: check validates it, and usage says what it is, as
// "The import ID is <usage>: <why not>."
func importByID(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse, check func(string) error, usage, attr string) {
	if err := check(req.ID); err != nil {
		resp.Diagnostics.AddError("Invalid Import ID", fmt.Sprintf("The import ID is %s: %s.", usage, err))
		return
	}
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("id"), req.ID)...)
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root(attr), req.ID)...)
}

// providerDataFrom converts the framework's opaque value, reporting a clear
// error on a programming mistake.
func providerDataFrom(v any, diags *diag.Diagnostics) *providerData {
	if v == nil {
		return nil
	}
	d, ok := v.(*providerData)
	if !ok {
		diags.AddError("Unexpected Provider Data", fmt.Sprintf("Expected *providerData, got %T. This is a bug in the provider; please report it.", v))
		return nil
	}
	return d
}

// configureDirectory builds the LDAP adapter (it dials nothing yet).
func configureDirectory(ctx context.Context, m *ldapModel, connectTo transport.ConnectTo, data *providerData) diag.Diagnostics {
	c, d := ldapConfig(ctx, m, connectTo)
	c.DialTimeout = data.connectTimeout
	at := path.Root("ldap")
	if d.HasError() {
		return d
	}
	if len(c.Servers) == 0 && c.PinnedDC == "" {
		// No directory configured: resources that need it say so when used.
		return d
	}
	client, err := directory.New(c)
	if err != nil {
		d.AddAttributeError(at, "Invalid LDAP Configuration", err.Error())
		return d
	}
	data.dir = client
	data.pinnedDC = c.PinnedDC
	data.secrets = append(data.secrets, c.Password)
	base := directory.Config{
		Port: c.Port, TLSMode: c.TLSMode, CACertPEM: c.CACertPEM, InsecureSkipVerify: c.InsecureSkipVerify,
		Domain: c.Domain, ConnectTo: c.ConnectTo, Retry: c.Retry, Logger: c.Logger, DialTimeout: c.DialTimeout,
	}
	data.dirConfig = &base
	return d
}

// ldapConfig resolves the ldap block and its BASTION_LDAP_* fallbacks into
// the adapter's configuration, with the defaults the schema documents.
func ldapConfig(ctx context.Context, m *ldapModel, connectTo transport.ConnectTo) (directory.Config, diag.Diagnostics) {
	var d diag.Diagnostics
	at := path.Root("ldap")
	set := settings{at, "LDAP", &d}
	c := directory.Config{ConnectTo: connectTo, Retry: transport.DefaultRetry, Logger: newAdapterLogger(subsystemLDAP)}
	c.Domain = str(m.Domain, "BASTION_LDAP_DOMAIN")
	c.Servers = strs(m.Servers, "BASTION_LDAP_SERVERS", &d)
	if len(c.Servers) == 0 && c.Domain != "" {
		c.Servers = []string{c.Domain}
	}
	c.PinnedDC = str(m.PinnedDC, "BASTION_LDAP_PINNED_DC")
	c.Port = set.integer(m.Port, "port", "BASTION_LDAP_PORT", 0)
	c.TLSMode = str(m.TLSMode, "BASTION_LDAP_TLS_MODE")
	if c.TLSMode == "" {
		c.TLSMode = "ldaps"
	}
	if c.TLSMode == "none" {
		d.AddAttributeWarning(at.AtName("tls_mode"), "Insecure LDAP Transport",
			"ldap.tls_mode is \"none\": directory traffic, including simple-bind passwords, is not encrypted. Use ldaps or starttls.")
	}
	c.CACertPEM = set.caFile(m.CAFile, "BASTION_LDAP_CA_FILE")
	c.InsecureSkipVerify = set.insecure(m.InsecureSkipVerify, "insecure_skip_verify", "BASTION_LDAP_INSECURE_SKIP_VERIFY", "Insecure LDAP Transport",
		"ldap.insecure_skip_verify is set: the DCs' certificates are not verified, so a machine in the middle could read the bind credentials. Set ldap.ca_file instead.")
	c.BindMode = str(m.BindMode, "BASTION_LDAP_BIND_MODE")
	c.Username = str(m.Username, "BASTION_LDAP_USERNAME")
	c.Password = str(m.Password, "BASTION_LDAP_PASSWORD")
	c.Kerberos = directory.KerberosConfig{
		Realm:       str(m.KerberosRealm, "BASTION_LDAP_KERBEROS_REALM"),
		KrbConfPath: str(m.Krb5Conf, "BASTION_KRB5_CONF"),
		CCachePath:  str(m.KerberosCCache, "BASTION_KERBEROS_CCACHE"),
		KeytabPath:  str(m.KerberosKeytab, "BASTION_KERBEROS_KEYTAB"),
		Protection:  str(m.KerberosProtection, "BASTION_LDAP_KERBEROS_PROTECTION"),
	}
	return c, d
}

// configureSQL builds the TDS adapter (it dials nothing yet).
func configureSQL(_ context.Context, m *sqlModel, connectTo transport.ConnectTo, data *providerData) diag.Diagnostics {
	c, d := sqlConfig(m, connectTo)
	c.ConnectTimeout = data.connectTimeout
	if d.HasError() || c.Server == "" {
		return d
	}
	client, err := sqlserver.New(c)
	if err != nil {
		d.AddAttributeError(path.Root("sql"), "Invalid SQL Server Configuration", err.Error())
		return d
	}
	data.sql = client
	data.secrets = append(data.secrets, c.Password)
	return d
}

// sqlConfig resolves the sql block and its BASTION_SQL_* fallbacks into the
// adapter's configuration, with the defaults the schema documents.
func sqlConfig(m *sqlModel, connectTo transport.ConnectTo) (sqlserver.Config, diag.Diagnostics) {
	var d diag.Diagnostics
	at := path.Root("sql")
	set := settings{at, "SQL", &d}
	c := sqlserver.Config{ConnectTo: connectTo, Retry: transport.DefaultRetry, Logger: newAdapterLogger(subsystemSQL)}
	c.Server = str(m.Server, "BASTION_SQL_SERVER")
	c.Port = set.integer(m.Port, "port", "BASTION_SQL_PORT", 0)
	c.Instance = str(m.Instance, "BASTION_SQL_INSTANCE")
	c.Username = str(m.Username, "BASTION_SQL_USERNAME")
	c.Password = str(m.Password, "BASTION_SQL_PASSWORD")
	c.Auth = sqlserver.Auth(str(m.Auth, "BASTION_SQL_AUTH"))
	if c.Auth == "" {
		c.Auth = sqlserver.AuthWindows
		if c.Password != "" && !strings.Contains(c.Username, `\`) && !strings.Contains(c.Username, "@") {
			c.Auth = sqlserver.AuthSQL
		}
	}
	c.Encrypt = sqlserver.EncryptOn
	if !set.boolean(m.Encrypt, "encrypt", "BASTION_SQL_ENCRYPT", true) {
		c.Encrypt = sqlserver.EncryptOff
		d.AddAttributeWarning(at.AtName("encrypt"), "Unencrypted SQL Server Connection",
			"sql.encrypt is false: queries and, with SQL authentication, the password cross the network unencrypted.")
	}
	c.CACertPEM = set.caFile(m.CAFile, "BASTION_SQL_CA_FILE")
	c.TrustServerCertificate = set.insecure(m.TrustServerCertificate, "trust_server_certificate", "BASTION_SQL_TRUST_SERVER_CERTIFICATE", "Unverified SQL Server Certificate",
		"sql.trust_server_certificate is set: SQL Server's certificate is not verified. Set sql.ca_file instead.")
	c.Kerberos = sqlserver.Kerberos{
		Realm:      str(m.KerberosRealm, "BASTION_SQL_KERBEROS_REALM"),
		ConfigFile: str(m.Krb5Conf, "BASTION_KRB5_CONF"),
		KeytabFile: str(m.KerberosKeytab, "BASTION_KERBEROS_KEYTAB"),
	}
	return c, d
}

// remoteExec runs scripts through the WinRM adapter, or reports why WinRM is
// not configured. A configuration without WinRM credentials is valid (data
// sources such as bastion_topology need none); the error surfaces only when a
// resource has to run something on a host.
type remoteExec struct {
	client *winrmexec.Client
	err    error
}

func (r remoteExec) Run(ctx context.Context, host string, s scripts.Script, input any, out any, opts ...winrmexec.RunOption) error {
	if r.err != nil {
		return r.err
	}
	return r.client.Run(ctx, host, s, input, out, opts...)
}

// operation prepares ctx for one CRUD call: the deadline from the resource's
// timeouts block (or def), the adapters' log subsystems, and masking of the
// provider's secrets and of more. ok is false when diags got an error.
func (d *providerData) operation(ctx context.Context, timeout func(context.Context, time.Duration) (time.Duration, diag.Diagnostics), def time.Duration, diags *diag.Diagnostics, more ...string) (context.Context, context.CancelFunc, bool) {
	t, td := timeout(ctx, def)
	diags.Append(td...)
	if diags.HasError() {
		return ctx, func() {}, false
	}
	ctx, cancel := context.WithTimeout(d.logCtx(ctx, more...), t)
	return ctx, cancel, true
}

// checkedOperation is operation for a method that needs more than the
// provider block promises (sql settings, the instance's own network name):
// check reports what is missing, and ok is false when it does.
func (d *providerData) checkedOperation(ctx context.Context, timeout func(context.Context, time.Duration) (time.Duration, diag.Diagnostics), def time.Duration, check func(*diag.Diagnostics) bool, diags *diag.Diagnostics, more ...string) (context.Context, context.CancelFunc, bool) {
	ctx, cancel, ok := d.operation(ctx, timeout, def, diags, more...)
	if ok && !check(diags) {
		cancel()
		return ctx, cancel, false
	}
	return ctx, cancel, ok
}

// onceValue computes a value at most once (concurrent resources' plans share
// it) and keeps the error too: a walk asks a server once, not once per node.
type onceValue[T any] struct {
	once sync.Once
	v    T
	err  error
}

func (o *onceValue[T]) get(f func() (T, error)) (T, error) {
	o.once.Do(func() { o.v, o.err = f() })
	return o.v, o.err
}
