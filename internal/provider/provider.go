// Package provider is the Terraform glue of terraform-provider-bastion: the
// provider, its resources and data sources, their schemas and the
// conversions between Terraform values and the adapters' plain Go types.
package provider

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-validators/listvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/setvalidator"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/provider"
	"github.com/hashicorp/terraform-plugin-framework/provider/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/bastion-pam/terraform-provider-bastion/internal/ad"
	"github.com/bastion-pam/terraform-provider-bastion/internal/adnames"
	"github.com/bastion-pam/terraform-provider-bastion/internal/transport"
	"github.com/bastion-pam/terraform-provider-bastion/internal/validators"
	"github.com/bastion-pam/terraform-provider-bastion/internal/winrmexec"
)

var _ provider.Provider = &bastionProvider{}

// New returns the provider factory for the given version.
func New(version string) func() provider.Provider {
	return func() provider.Provider { return &bastionProvider{version: version} }
}

type bastionProvider struct {
	version string
}

type providerModel struct {
	ConnectTo       types.Map    `tfsdk:"connect_to"`
	ConnectTimeout  types.String `tfsdk:"connect_timeout"`
	LostHosts       types.Set    `tfsdk:"lost_hosts"`
	PAMCorpPassword types.String `tfsdk:"pam_corp_password"`
	WinRM           *winrmModel  `tfsdk:"winrm"`
	LDAP            *ldapModel   `tfsdk:"ldap"`
	SQL             *sqlModel    `tfsdk:"sql"`
}

type winrmModel struct {
	Port                  types.Int64  `tfsdk:"port"`
	HTTPS                 types.Bool   `tfsdk:"https"`
	Auth                  types.String `tfsdk:"auth"`
	Username              types.String `tfsdk:"username"`
	Password              types.String `tfsdk:"password"`
	CAFile                types.String `tfsdk:"ca_file"`
	Insecure              types.Bool   `tfsdk:"insecure"`
	OperationTimeout      types.String `tfsdk:"operation_timeout"`
	MaxConcurrencyPerHost types.Int64  `tfsdk:"max_concurrency_per_host"`
	KerberosRealm         types.String `tfsdk:"kerberos_realm"`
	Krb5Conf              types.String `tfsdk:"krb5_conf"`
	KerberosCCache        types.String `tfsdk:"kerberos_ccache"`
	SecondHop             types.String `tfsdk:"second_hop"`
}

type ldapModel struct {
	Domain             types.String `tfsdk:"domain"`
	Servers            types.List   `tfsdk:"servers"`
	PinnedDC           types.String `tfsdk:"pinned_dc"`
	Port               types.Int64  `tfsdk:"port"`
	TLSMode            types.String `tfsdk:"tls_mode"`
	CAFile             types.String `tfsdk:"ca_file"`
	InsecureSkipVerify types.Bool   `tfsdk:"insecure_skip_verify"`
	BindMode           types.String `tfsdk:"bind_mode"`
	Username           types.String `tfsdk:"username"`
	Password           types.String `tfsdk:"password"`
	KerberosRealm      types.String `tfsdk:"kerberos_realm"`
	Krb5Conf           types.String `tfsdk:"krb5_conf"`
	KerberosCCache     types.String `tfsdk:"kerberos_ccache"`
	KerberosKeytab     types.String `tfsdk:"kerberos_keytab"`
	KerberosProtection types.String `tfsdk:"kerberos_protection"`
}

type sqlModel struct {
	Server                 types.String `tfsdk:"server"`
	Port                   types.Int64  `tfsdk:"port"`
	Instance               types.String `tfsdk:"instance"`
	Auth                   types.String `tfsdk:"auth"`
	Username               types.String `tfsdk:"username"`
	Password               types.String `tfsdk:"password"`
	Encrypt                types.Bool   `tfsdk:"encrypt"`
	CAFile                 types.String `tfsdk:"ca_file"`
	TrustServerCertificate types.Bool   `tfsdk:"trust_server_certificate"`
	KerberosRealm          types.String `tfsdk:"kerberos_realm"`
	Krb5Conf               types.String `tfsdk:"krb5_conf"`
	KerberosKeytab         types.String `tfsdk:"kerberos_keytab"`
}

func (p *bastionProvider) Metadata(_ context.Context, _ provider.MetadataRequest, resp *provider.MetadataResponse) {
	resp.TypeName = "bastion"
	resp.Version = p.version
}

func envDoc(name string) string {
	return fmt.Sprintf(" Falls back to the `%s` environment variable.", name)
}

func (p *bastionProvider) Schema(_ context.Context, _ provider.SchemaRequest, resp *provider.SchemaResponse) {
	authValues := []string{"ntlm", "kerberos", "basic"}
	resp.Schema = schema.Schema{
		MarkdownDescription: "Builds and keeps healthy the bastion environment of Microsoft Identity Manager Privileged Access Management (MIM PAM): " +
			"the PRIV forest's domain controllers, the SQL Server failover cluster instance behind the MIM Service, the MIM Service nodes and the PAM trusts to the CORP forests.\n\n" +
			"Reads use the cheapest truthful protocol: LDAP for what the directory knows, TDS for SQL Server, and WinRM only for what must run on the box. " +
			"Nothing is dialled when the provider is configured: each adapter connects on first use and reuses its connections. " +
			"Every setting falls back to a `BASTION_*` environment variable.",
		Attributes: map[string]schema.Attribute{
			"connect_to": schema.MapAttribute{
				ElementType: types.StringType,
				Optional:    true,
				MarkdownDescription: "Dial overrides, like curl's `--connect-to`: keys are `host` or `host:port`, values the `address:port` to dial instead. " +
					"TLS still verifies the original host name, and WinRM, LDAP and SQL still address the original host. Use it for port forwards through a jump host, or for the simulated bastion." +
					envDoc("BASTION_CONNECT_TO") + " (form `host:port=address:port,...`)",
			},
			"connect_timeout": schema.StringAttribute{
				Optional: true,
				MarkdownDescription: "How long one TCP connect to a host may take, on every protocol, as a Go duration, e.g. `5s`. Defaults to `15s`. " +
					"It is bounded apart from each operation's timeout, so a host that is off or firewalled fails fast instead of after the operating system's SYN retries." +
					envDoc("BASTION_CONNECT_TIMEOUT"),
			},
			"pam_corp_password": schema.StringAttribute{
				Optional: true, Sensitive: true, Validators: []validator.String{validators.Password()},
				MarkdownDescription: "A CORP password for the reads and deletes that get no configuration, and so cannot use a resource's write-only `corp_password_wo`. " +
					"It is the password of each PAM trust's and PAM domain configuration's `corp_username` on destroy: without it, destroying a `bastion_pam_trust` removes only the PRIV side " +
					"(with a warning) and a `bastion_pam_domain_configuration` stays in CORP; of each `bastion_pam_trust`'s `corp_username` on refresh, which reads the CORP side of the trust with it (without it the state keeps the CORP side as last " +
					"read, and the plan reads it with `corp_password_wo`); and of `bastion_dns_client_servers`' `corp_domains[*].username`, which reads the CORP domains' DNS zones at every plan and needs it. " +
					"Give it from an ephemeral variable or the environment. Sensitive: never logged." + envDoc("BASTION_PAM_CORP_PASSWORD"),
			},
			"lost_hosts": schema.SetAttribute{
				ElementType: types.StringType,
				Optional:    true,
				Validators:  []validator.Set{setvalidator.ValueStringsAre(validators.FQDN())},
				MarkdownDescription: "Servers the operator declares lost for good, by FQDN. An unreachable host is normally an error that keeps the state; " +
					"for a host in this set, a refresh drops its resources from the state (with a warning) and a destroy succeeds without contacting it, " +
					"so one `terraform apply` can rebuild them elsewhere (see the guide \"Recovering a lost MIM Service node\"). Remove the entry once the recovery is applied." +
					envDoc("BASTION_LOST_HOSTS") + " (comma-separated)",
			},
		},
		Blocks: map[string]schema.Block{
			"winrm": schema.SingleNestedBlock{
				MarkdownDescription: "How to reach Windows hosts over WinRM (WS-Management) for what must run on the box: installs, promotions, config file edits, service control.\n\n" +
					"What works where, as Windows decides it:\n\n" +
					"| auth | HTTPS 5986 | HTTP 5985 (Windows' default listener) | domain controller | member server |\n" +
					"|---|---|---|---|---|\n" +
					"| `ntlm` (default) | yes | yes, every message sealed ([MS-WSMV] 2.2.9.1.1), never sent in clear | domain account | domain or local account |\n" +
					"| `kerberos` | yes | no (this client cannot seal Kerberos messages) | domain account | domain account |\n" +
					"| `basic` | yes | only with `insecure = true` and `AllowUnencrypted` on the host | never (no local accounts on a DC) | local account by bare name, where the service allows Basic |\n",
				Attributes: map[string]schema.Attribute{
					"port":                     schema.Int64Attribute{Optional: true, MarkdownDescription: "WinRM port. Defaults to 5986 with HTTPS and 5985 without." + envDoc("BASTION_WINRM_PORT")},
					"https":                    schema.BoolAttribute{Optional: true, MarkdownDescription: "Use HTTPS (port 5986). Defaults to `true`. With `false` (Windows' default listener, port 5985) NTLM seals every message as WinRM requires ([MS-WSMV] 2.2.9.1.1) and never sends one in clear text; Kerberos is refused on HTTP (this client cannot seal it); Basic needs `insecure = true` and a host that allows unencrypted traffic." + envDoc("BASTION_WINRM_HTTPS")},
					"auth":                     schema.StringAttribute{Optional: true, Validators: []validator.String{validators.OneOf(authValues...)}, MarkdownDescription: "Authentication: `ntlm` (default: domain accounts on every host, HTTPS or sealed HTTP), `kerberos` (HTTPS only) or `basic` (a member server's local account by its bare name, e.g. `Administrator`, on a host whose WinRM service allows Basic; Windows refuses Basic for domain accounts, and a domain controller has no local accounts, so never on a DC)." + envDoc("BASTION_WINRM_AUTH")},
					"username":                 schema.StringAttribute{Optional: true, Validators: []validator.String{validators.LogonName()}, MarkdownDescription: "User name, `DOMAIN\\user` or `user@domain`." + envDoc("BASTION_WINRM_USERNAME")},
					"password":                 schema.StringAttribute{Optional: true, Sensitive: true, Validators: []validator.String{validators.Password()}, MarkdownDescription: "Password. Sensitive: never logged." + envDoc("BASTION_WINRM_PASSWORD")},
					"ca_file":                  schema.StringAttribute{Optional: true, MarkdownDescription: "PEM file with the CA certificates that sign the hosts' WinRM HTTPS certificates. Defaults to the system roots." + envDoc("BASTION_WINRM_CA_FILE")},
					"insecure":                 schema.BoolAttribute{Optional: true, MarkdownDescription: "Skip TLS certificate verification (and allow Basic over HTTP). An explicit opt-in: the provider warns on every run while it is set." + envDoc("BASTION_WINRM_INSECURE")},
					"operation_timeout":        schema.StringAttribute{Optional: true, MarkdownDescription: "WS-Management operation timeout as a Go duration, e.g. `60s`. Defaults to `60s`. Long operations are bounded by each resource's `timeouts` block instead." + envDoc("BASTION_WINRM_OPERATION_TIMEOUT")},
					"max_concurrency_per_host": schema.Int64Attribute{Optional: true, MarkdownDescription: "Most scripts run at once on one host. Defaults to 4 (Windows' default MaxShellsPerUser is 30, MaxConcurrentOperationsPerUser 1500)." + envDoc("BASTION_WINRM_MAX_CONCURRENCY_PER_HOST")},
					"kerberos_realm":           schema.StringAttribute{Optional: true, Validators: []validator.String{validators.DNSDomainName()}, MarkdownDescription: "Kerberos realm (upper case DNS name of the domain) for `auth = \"kerberos\"`." + envDoc("BASTION_WINRM_KERBEROS_REALM")},
					"second_hop": schema.StringAttribute{Optional: true, Validators: []validator.String{validators.OneOf(winrmexec.SecondHopRunAs, winrmexec.SecondHopDelegation)},
						MarkdownDescription: "How a step that reaches another machine from the WinRM session gets there (the MIM installer creating its database on SQL Server, SQL Server setup's cluster actions, the PAM trust scripts writing the PRIV side from a MIM node): " +
							"`run_as` (default) runs it in a one-shot scheduled task under this account's own logon, the password passed as data; `delegation` runs it in the session and needs resource-based constrained delegation configured on each target for the host. " +
							"See the Windows prerequisites guide." + envDoc("BASTION_WINRM_SECOND_HOP")},
					"krb5_conf":       schema.StringAttribute{Optional: true, MarkdownDescription: "Path of the krb5.conf to use. Defaults to `$KRB5_CONFIG`, then `/etc/krb5.conf`." + envDoc("BASTION_KRB5_CONF")},
					"kerberos_ccache": schema.StringAttribute{Optional: true, MarkdownDescription: "Path of a Kerberos credential cache to use instead of a password." + envDoc("BASTION_KERBEROS_CCACHE")},
				},
			},
			"ldap": schema.SingleNestedBlock{
				MarkdownDescription: "How to read (and, for FSMO roles and the global catalog flag, write) the PRIV directory over LDAP.",
				Attributes: map[string]schema.Attribute{
					"domain":               schema.StringAttribute{Optional: true, Validators: []validator.String{validators.DNSDomainName()}, MarkdownDescription: "DNS name of the PRIV domain, e.g. `priv.contoso.com`; the base DN is derived from it." + envDoc("BASTION_LDAP_DOMAIN")},
					"servers":              schema.ListAttribute{ElementType: types.StringType, Optional: true, Validators: []validator.List{listvalidator.ValueStringsAre(validators.HostName())}, MarkdownDescription: "Domain controllers to use, by FQDN, in order of preference. Defaults to the domain name itself." + envDoc("BASTION_LDAP_SERVERS") + " (comma-separated)"},
					"pinned_dc":            schema.StringAttribute{Optional: true, Validators: []validator.String{validators.HostName()}, MarkdownDescription: "One DC that every read and write goes to, so a write and its read-back always meet (no \"inconsistent result after apply\" from replication lag)." + envDoc("BASTION_LDAP_PINNED_DC")},
					"port":                 schema.Int64Attribute{Optional: true, MarkdownDescription: "LDAP port. Defaults to 636 for `ldaps` and 389 otherwise." + envDoc("BASTION_LDAP_PORT")},
					"tls_mode":             schema.StringAttribute{Optional: true, Validators: []validator.String{validators.OneOf("ldaps", "starttls", "none")}, MarkdownDescription: "`ldaps` (default), `starttls`, or `none` (no TLS: an explicit opt-in that warns; simple binds would send the password in clear)." + envDoc("BASTION_LDAP_TLS_MODE")},
					"ca_file":              schema.StringAttribute{Optional: true, MarkdownDescription: "PEM file with the CA certificates of the DCs' LDAPS certificates." + envDoc("BASTION_LDAP_CA_FILE")},
					"insecure_skip_verify": schema.BoolAttribute{Optional: true, MarkdownDescription: "Skip certificate verification. An explicit opt-in that warns." + envDoc("BASTION_LDAP_INSECURE_SKIP_VERIFY")},
					"bind_mode":            schema.StringAttribute{Optional: true, Validators: []validator.String{validators.OneOf("simple", "kerberos")}, MarkdownDescription: "`simple` (default; over TLS) or `kerberos` (GSSAPI)." + envDoc("BASTION_LDAP_BIND_MODE")},
					"username":             schema.StringAttribute{Optional: true, Validators: []validator.String{validators.LogonName()}, MarkdownDescription: "Bind user: `DOMAIN\\user`, `user@domain` or a DN." + envDoc("BASTION_LDAP_USERNAME")},
					"password":             schema.StringAttribute{Optional: true, Sensitive: true, Validators: []validator.String{validators.Password()}, MarkdownDescription: "Bind password. Sensitive: never logged." + envDoc("BASTION_LDAP_PASSWORD")},
					"kerberos_realm":       schema.StringAttribute{Optional: true, Validators: []validator.String{validators.DNSDomainName()}, MarkdownDescription: "Kerberos realm for `bind_mode = \"kerberos\"`." + envDoc("BASTION_LDAP_KERBEROS_REALM")},
					"krb5_conf":            schema.StringAttribute{Optional: true, MarkdownDescription: "Path of the krb5.conf to use." + envDoc("BASTION_KRB5_CONF")},
					"kerberos_ccache":      schema.StringAttribute{Optional: true, MarkdownDescription: "Kerberos credential cache path." + envDoc("BASTION_KERBEROS_CCACHE")},
					"kerberos_keytab":      schema.StringAttribute{Optional: true, MarkdownDescription: "Kerberos keytab path." + envDoc("BASTION_KERBEROS_KEYTAB")},
					"kerberos_protection": schema.StringAttribute{Optional: true, Validators: []validator.String{validators.OneOf("seal", "sign")},
						MarkdownDescription: "SASL security layer of a Kerberos bind with `tls_mode = \"none\"` (RFC 4752 section 3.3): `seal` (default; every LDAP message encrypted and integrity-protected, as Windows' own LDAP clients do) or `sign` (integrity only, what a DC that requires LDAP signing accepts at least). Over `ldaps` and `starttls` TLS protects the connection and no layer is negotiated: Windows refuses one inside TLS." + envDoc("BASTION_LDAP_KERBEROS_PROTECTION")},
				},
			},
			"sql": schema.SingleNestedBlock{
				MarkdownDescription: "How to read SQL Server over TDS: connect through the failover cluster instance's network name, never a node.",
				Attributes: map[string]schema.Attribute{
					"server":                   schema.StringAttribute{Optional: true, Validators: []validator.String{validators.SQLServerName()}, MarkdownDescription: "Network name of the SQL Server instance (for an FCI, its virtual network name)." + envDoc("BASTION_SQL_SERVER")},
					"port":                     schema.Int64Attribute{Optional: true, MarkdownDescription: "TCP port. Defaults to 1433." + envDoc("BASTION_SQL_PORT")},
					"instance":                 schema.StringAttribute{Optional: true, Validators: []validator.String{validators.ClientSQLInstanceName()}, MarkdownDescription: "Instance name; empty for the default instance." + envDoc("BASTION_SQL_INSTANCE")},
					"auth":                     schema.StringAttribute{Optional: true, Validators: []validator.String{validators.OneOf("sql", "windows")}, MarkdownDescription: "`windows` (Kerberos) or `sql` (a SQL login). Defaults to `sql` when a password is set for a login name without a domain, else `windows`." + envDoc("BASTION_SQL_AUTH")},
					"username":                 schema.StringAttribute{Optional: true, Validators: []validator.String{validators.LogonName()}, MarkdownDescription: "Login name." + envDoc("BASTION_SQL_USERNAME")},
					"password":                 schema.StringAttribute{Optional: true, Sensitive: true, Validators: []validator.String{validators.Password()}, MarkdownDescription: "Password. Sensitive: never logged." + envDoc("BASTION_SQL_PASSWORD")},
					"encrypt":                  schema.BoolAttribute{Optional: true, MarkdownDescription: "Encrypt the connection and verify the certificate. Defaults to `true`." + envDoc("BASTION_SQL_ENCRYPT")},
					"ca_file":                  schema.StringAttribute{Optional: true, MarkdownDescription: "PEM file with the CA that signs SQL Server's certificate." + envDoc("BASTION_SQL_CA_FILE")},
					"trust_server_certificate": schema.BoolAttribute{Optional: true, MarkdownDescription: "Encrypt without verifying the certificate. An explicit opt-in that warns." + envDoc("BASTION_SQL_TRUST_SERVER_CERTIFICATE")},
					"kerberos_realm":           schema.StringAttribute{Optional: true, Validators: []validator.String{validators.DNSDomainName()}, MarkdownDescription: "Kerberos realm for Windows authentication." + envDoc("BASTION_SQL_KERBEROS_REALM")},
					"krb5_conf":                schema.StringAttribute{Optional: true, MarkdownDescription: "Path of the krb5.conf to use." + envDoc("BASTION_KRB5_CONF")},
					"kerberos_keytab":          schema.StringAttribute{Optional: true, MarkdownDescription: "Kerberos keytab path." + envDoc("BASTION_KERBEROS_KEYTAB")},
				},
			},
		},
	}
}

func readPEM(path string) ([]byte, error) {
	if path == "" {
		return nil, nil
	}
	b, err := os.ReadFile(path) //nolint:gosec // G304: the path is the practitioner's own provider setting
	if err != nil {
		return nil, fmt.Errorf("reading CA file: %w", err)
	}
	return b, nil
}

func (p *bastionProvider) Configure(ctx context.Context, req provider.ConfigureRequest, resp *provider.ConfigureResponse) {
	var cfg providerModel
	if !load(ctx, &resp.Diagnostics, from(req.Config, &cfg)) {
		return
	}
	if cfg.WinRM == nil {
		cfg.WinRM = &winrmModel{}
	}
	if cfg.LDAP == nil {
		cfg.LDAP = &ldapModel{}
	}
	if cfg.SQL == nil {
		cfg.SQL = &sqlModel{}
	}

	connectTo := transport.ConnectTo{}
	if s := os.Getenv("BASTION_CONNECT_TO"); s != "" && cfg.ConnectTo.IsNull() {
		c, err := transport.ParseConnectTo(s)
		if err != nil {
			resp.Diagnostics.AddAttributeError(path.Root("connect_to"), "Invalid BASTION_CONNECT_TO", err.Error())
			return
		}
		connectTo = c
	}
	if !cfg.ConnectTo.IsNull() && !cfg.ConnectTo.IsUnknown() {
		m := map[string]string{}
		resp.Diagnostics.Append(cfg.ConnectTo.ElementsAs(ctx, &m, false)...)
		var parts []string
		for k, v := range m {
			parts = append(parts, k+"="+v)
		}
		c, err := transport.ParseConnectTo(strings.Join(parts, ","))
		if err != nil {
			resp.Diagnostics.AddAttributeError(path.Root("connect_to"), "Invalid Dial Override", err.Error())
			return
		}
		connectTo = c
	}

	data := &providerData{lostHosts: map[string]bool{}, planned: &plannedDestroys{}, restarts: &ad.Restarts{}}
	data.pamCorpPassword = str(cfg.PAMCorpPassword, "BASTION_PAM_CORP_PASSWORD")
	data.secrets = append(data.secrets, data.pamCorpPassword)
	lost := strs(cfg.LostHosts, "BASTION_LOST_HOSTS", &resp.Diagnostics)
	for _, h := range lost {
		if h = strings.TrimSpace(h); h != "" {
			data.lostHosts[adnames.HostKey(h)] = true
		}
	}
	if s := str(cfg.ConnectTimeout, "BASTION_CONNECT_TIMEOUT"); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil || d <= 0 {
			resp.Diagnostics.AddAttributeError(path.Root("connect_timeout"), "Invalid Connect Timeout", fmt.Sprintf("%q is not a positive Go duration such as 15s.", s))
			return
		}
		data.connectTimeout = d
	}
	winrmCfg, diags := winrmConfig(cfg.WinRM, connectTo)
	winrmCfg.ConnectTimeout = data.connectTimeout
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	if winrmCfg.Username == "" && winrmCfg.Password == "" && winrmCfg.Kerberos.CCachePath == "" {
		data.winrm = remoteExec{err: errors.New("WinRM is not configured: set winrm.username and winrm.password in the provider block " +
			"(or BASTION_WINRM_USERNAME and BASTION_WINRM_PASSWORD), or winrm.kerberos_ccache")}
	} else {
		wc, err := winrmexec.New(winrmCfg)
		if err != nil {
			resp.Diagnostics.AddAttributeError(path.Root("winrm"), "Invalid WinRM Configuration", err.Error())
			return
		}
		data.winrm = remoteExec{client: wc}
		openWinRM.add(wc)
		data.winrmCredential = credential{Username: winrmCfg.Username, Password: winrmCfg.Password}
		data.secrets = append(data.secrets, winrmCfg.Password)
	}

	resp.Diagnostics.Append(configureDirectory(ctx, cfg.LDAP, connectTo, data)...)
	resp.Diagnostics.Append(configureSQL(ctx, cfg.SQL, connectTo, data)...)
	if resp.Diagnostics.HasError() {
		return
	}
	resp.ResourceData = data
	resp.DataSourceData = data
}

func winrmConfig(m *winrmModel, connectTo transport.ConnectTo) (winrmexec.Config, diagsT) {
	var d diagsT
	c := winrmexec.Config{ConnectTo: connectTo, Retry: transport.DefaultRetry, Logger: newAdapterLogger(subsystemWinRM)}
	set := settings{path.Root("winrm"), "WinRM", &d}
	c.HTTPS = set.boolean(m.HTTPS, "https", "BASTION_WINRM_HTTPS", true)
	c.Port = set.integer(m.Port, "port", "BASTION_WINRM_PORT", 0)
	c.Auth = str(m.Auth, "BASTION_WINRM_AUTH")
	if c.Auth == "" {
		c.Auth = "ntlm"
	}
	c.Username = str(m.Username, "BASTION_WINRM_USERNAME")
	c.Password = str(m.Password, "BASTION_WINRM_PASSWORD")
	c.CACertPEM = set.caFile(m.CAFile, "BASTION_WINRM_CA_FILE")
	c.Insecure = set.insecure(m.Insecure, "insecure", "BASTION_WINRM_INSECURE", "Insecure WinRM Transport",
		"winrm.insecure is set: TLS certificates of the Windows hosts are not verified, so a machine in the middle could read the credentials and the scripts' data. Set winrm.ca_file instead.")
	if s := str(m.OperationTimeout, "BASTION_WINRM_OPERATION_TIMEOUT"); s != "" {
		var err error
		if c.OperationTimeout, err = time.ParseDuration(s); err != nil {
			d.AddAttributeError(path.Root("winrm").AtName("operation_timeout"), "Invalid WinRM Operation Timeout", fmt.Sprintf("%q is not a Go duration such as 60s: %v", s, err))
		}
	} else {
		c.OperationTimeout = 60 * time.Second
	}
	c.MaxConcurrencyPerHost = set.integer(m.MaxConcurrencyPerHost, "max_concurrency_per_host", "BASTION_WINRM_MAX_CONCURRENCY_PER_HOST", 4)
	c.Kerberos.Realm = str(m.KerberosRealm, "BASTION_WINRM_KERBEROS_REALM")
	c.Kerberos.KrbConfPath = str(m.Krb5Conf, "BASTION_KRB5_CONF")
	c.Kerberos.CCachePath = str(m.KerberosCCache, "BASTION_KERBEROS_CCACHE")
	c.SecondHop = str(m.SecondHop, "BASTION_WINRM_SECOND_HOP")
	if c.SecondHop == "" {
		c.SecondHop = winrmexec.SecondHopRunAs
	}
	if c.SecondHop != winrmexec.SecondHopRunAs && c.SecondHop != winrmexec.SecondHopDelegation {
		d.AddAttributeError(path.Root("winrm").AtName("second_hop"), "Invalid WinRM Setting",
			fmt.Sprintf("second_hop (or BASTION_WINRM_SECOND_HOP) is %q: want %q or %q.", c.SecondHop, winrmexec.SecondHopRunAs, winrmexec.SecondHopDelegation))
	}
	return c, d
}

func (p *bastionProvider) Resources(context.Context) []func() resource.Resource {
	return []func() resource.Resource{
		NewMIMServiceNodeResource,
		NewSQLFailoverClusterInstanceResource,
		NewSQLLoginResource,
		NewDomainControllerResource,
		NewFSMORolesResource,
		NewPAMTrustResource,
		NewPAMDomainConfigurationResource,
		NewADOptionalFeatureResource,
		NewDNSRecordResource,
	}
}

func (p *bastionProvider) DataSources(context.Context) []func() datasource.DataSource {
	return []func() datasource.DataSource{
		NewTopologyDataSource,
		NewDomainControllersDataSource,
		NewDNSClientServersDataSource,
		NewBackupStatusDataSource,
	}
}

// openWinRM holds the WinRM clients Configure made in this process: each
// keeps a shell per host for reuse, which Shutdown deletes.
var openWinRM winrmClients

type winrmClients struct {
	mu      sync.Mutex
	clients []*winrmexec.Client
}

func (w *winrmClients) add(c *winrmexec.Client) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.clients = append(w.clients, c)
}

// Shutdown deletes the WinRM shells the provider kept for reuse (in
// parallel, bounded by ctx). main calls it when Terraform stops the
// provider; shells left by a killed process end on the host's idle timeout.
func Shutdown(ctx context.Context) {
	openWinRM.mu.Lock()
	clients := openWinRM.clients
	openWinRM.clients = nil
	openWinRM.mu.Unlock()
	var wg sync.WaitGroup
	for _, c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c.Close(ctx)
		}()
	}
	wg.Wait()
}
