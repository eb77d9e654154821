package provider

import (
	"context"
	"fmt"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework-validators/listvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/mapvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/setvalidator"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/bastion-pam/terraform-provider-bastion/internal/adnames"
	"github.com/bastion-pam/terraform-provider-bastion/internal/topology"
	"github.com/bastion-pam/terraform-provider-bastion/internal/validators"
)

var (
	_ datasource.DataSource                   = &topologyDataSource{}
	_ datasource.DataSourceWithValidateConfig = &topologyDataSource{}
)

// NewTopologyDataSource is the bastion_topology data source. It contacts no
// server: it judges the environment described in its configuration against
// the HA topology rules of internal/topology.
func NewTopologyDataSource() datasource.DataSource { return &topologyDataSource{} }

// topologyDataSource needs no adapter, so it has no Configure: it works
// even when the provider block is empty.
type topologyDataSource struct{}

type topologyDataSourceModel struct {
	Domain                types.Object `tfsdk:"domain"`
	DomainControllers     types.List   `tfsdk:"domain_controllers"`
	SQL                   types.Object `tfsdk:"sql"`
	MIMNodes              types.List   `tfsdk:"mim_nodes"`
	DNSServers            types.Map    `tfsdk:"dns_servers"`
	Backups               types.List   `tfsdk:"backups"`
	TombstoneLifetimeDays types.Int64  `tfsdk:"tombstone_lifetime_days"`
	LongLivedRequests     types.Bool   `tfsdk:"long_lived_requests"`
	HAFunctions           types.Set    `tfsdk:"ha_functions"`
	Enforce               types.Bool   `tfsdk:"enforce"`

	Violations      types.List   `tfsdk:"violations"`
	Readiness       types.List   `tfsdk:"readiness"`
	RecoveryRunbook types.List   `tfsdk:"recovery_runbook"`
	Mermaid         types.String `tfsdk:"mermaid"`
	OK              types.Bool   `tfsdk:"ok"`
}

type topologyDomainModel struct {
	DNSName               types.String `tfsdk:"dns_name"`
	ForestFunctionalLevel types.Int64  `tfsdk:"forest_functional_level"`
}

type topologyDCModel struct {
	Host          types.String `tfsdk:"host"`
	Site          types.String `tfsdk:"site"`
	GlobalCatalog types.Bool   `tfsdk:"global_catalog"`
	ReadOnly      types.Bool   `tfsdk:"read_only"`
	FSMORoles     types.Set    `tfsdk:"fsmo_roles"`
	Addresses     types.List   `tfsdk:"addresses"`
}

type topologySQLModel struct {
	NetworkName     types.String `tfsdk:"network_name"`
	Clustered       types.Bool   `tfsdk:"clustered"`
	Nodes           types.List   `tfsdk:"nodes"`
	DataDirectories types.List   `tfsdk:"data_directories"`
	LogDirectories  types.List   `tfsdk:"log_directories"`
	StartedAt       types.String `tfsdk:"started_at"`
}

type topologyMIMNodeModel struct {
	Host                 types.String `tfsdk:"host"`
	ServiceName          types.String `tfsdk:"service_name"`
	ServicePartitionName types.String `tfsdk:"service_partition_name"`
	ExternalHostName     types.String `tfsdk:"external_host_name"`
	PAMComponents        types.Bool   `tfsdk:"pam_components"`
	Site                 types.String `tfsdk:"site"`
	ServiceStartedAt     types.String `tfsdk:"service_started_at"`
}

type topologyBackupModel struct {
	DC            types.String `tfsdk:"dc"`
	NamingContext types.String `tfsdk:"naming_context"`
	LastBackup    types.String `tfsdk:"last_backup"`
}

// Output element types, for building the computed lists.
var (
	violationAttrTypes = map[string]attr.Type{
		"rule_id":   types.StringType,
		"severity":  types.StringType,
		"functions": types.ListType{ElemType: types.StringType},
		"hosts":     types.ListType{ElemType: types.StringType},
		"attribute": types.StringType,
		"message":   types.StringType,
	}
	lossAttrTypes = map[string]attr.Type{
		"host":   types.StringType,
		"reason": types.StringType,
	}
	readinessAttrTypes = map[string]attr.Type{
		"function":             types.StringType,
		"display_name":         types.StringType,
		"priority":             types.StringType,
		"needs_ha":             types.BoolType,
		"available":            types.BoolType,
		"survives_single_loss": types.BoolType,
		"summary":              types.StringType,
		"losses":               types.ListType{ElemType: types.ObjectType{AttrTypes: lossAttrTypes}},
	}
	runbookAttrTypes = map[string]attr.Type{
		"order":   types.Int64Type,
		"action":  types.StringType,
		"hosts":   types.ListType{ElemType: types.StringType},
		"command": types.StringType,
		"reason":  types.StringType,
	}
)

func (d *topologyDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_topology"
}

// functionIDs lists the six function ids in the order of Microsoft's table.
func topologyFunctionIDs() []string {
	var ids []string
	for _, f := range topology.AllFunctions() {
		ids = append(ids, string(f))
	}
	return ids
}

func backticked(xs []string) string {
	out := make([]string, len(xs))
	for i, x := range xs {
		out[i] = "`" + x + "`"
	}
	return strings.Join(out, ", ")
}

func (d *topologyDataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	hostDoc := " Fully qualified, e.g. `priv-dc1.priv.contoso.com`."
	resp.Schema = schema.Schema{
		MarkdownDescription: "Checks a bastion environment against the high availability topology rules HA-1 to HA-10 of the HA and disaster recovery " +
			"considerations for the MIM PAM bastion, at plan time, and writes its disaster-recovery assessment: which functions survive the " +
			"loss of any one server, the recovery runbook in the order Microsoft's document gives, and a Mermaid diagram.\n\n" +
			"It contacts no server. Describe the environment with plain values: references to resources " +
			"(`[for n in bastion_mim_service_node.node : { host = n.host, ... }]`) or literal lists. " +
			"When an input is not known until apply, or refers to a resource with changes pending (a node about to be created), Terraform " +
			"reads the data source during apply instead, and every rule is checked then: none is skipped.\n\n" +
			"With `enforce = true` (the default) each Error-severity violation fails the plan with an **HA Rule HA-n Violated** diagnostic that " +
			"names the rule, the hosts, the attribute and the fix; Warning-severity violations, and every violation with `enforce = false`, are warnings. " +
			"Inside a `check` block Terraform turns the errors into warnings, which makes the data source a continuous validation of the running bastion. " +
			"See the guide \"HA topology rules and disaster recovery\".",
		Attributes: map[string]schema.Attribute{
			"domain": schema.SingleNestedAttribute{
				Required:            true,
				MarkdownDescription: "The PRIV (bastion) domain.",
				Attributes: map[string]schema.Attribute{
					"dns_name": schema.StringAttribute{
						Required:            true,
						MarkdownDescription: "DNS name of the PRIV domain, e.g. `priv.contoso.com`.",
						Validators:          []validator.String{validators.HostName()},
					},
					"forest_functional_level": schema.Int64Attribute{
						Optional: true,
						MarkdownDescription: "Forest functional level as `msDS-Behavior-Version` on `CN=Partitions,CN=Configuration`: 0 Windows 2000, 2 Windows Server 2003, " +
							"3 2008, 4 2008 R2, 5 2012, 6 2012 R2, 7 2016 (also the level of 2019 and 2022), 10 2025. From 7 on, AD itself expires PAM's time-limited memberships, " +
							"so resource management no longer needs the MIM Service and the recovery runbook needs no PAM Component service. " +
							"Unset is read as below 7, which errs on the safe side.",
						Validators: []validator.Int64{int64validator.Between(0, 10)},
					},
				},
			},
			"domain_controllers": schema.ListNestedAttribute{
				Required:            true,
				MarkdownDescription: "Every domain controller of the PRIV domain.",
				NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
					"host":           schema.StringAttribute{Required: true, MarkdownDescription: "FQDN of the domain controller." + hostDoc, Validators: []validator.String{validators.FQDN()}},
					"site":           schema.StringAttribute{Optional: true, MarkdownDescription: "AD site of the domain controller; groups the servers in the diagram.", Validators: []validator.String{validators.SiteName()}},
					"global_catalog": schema.BoolAttribute{Optional: true, MarkdownDescription: "Whether the DC is a global catalog server. Defaults to `false`."},
					"read_only": schema.BoolAttribute{Optional: true, MarkdownDescription: "Whether the DC is a read-only domain controller. Defaults to `false`. " +
						"An RODC does not count towards HA-1: PAM writes group memberships."},
					"fsmo_roles": schema.SetAttribute{
						ElementType: types.StringType, Optional: true,
						MarkdownDescription: "Operations master roles the DC holds, by Microsoft's names: " + backticked(adnames.FSMORoles()) + ". " +
							"HA-9 requires a fresh backup of every holder.",
						Validators: []validator.Set{setvalidator.ValueStringsAre(validators.OneOf(adnames.FSMORoles()...))},
					},
					"addresses": schema.ListAttribute{
						ElementType: types.StringType, Optional: true,
						MarkdownDescription: "IP addresses of the DC. Optional, but without them HA-7 cannot tell which DC a DNS server address in `dns_servers` is.",
						Validators:          []validator.List{listvalidator.ValueStringsAre(validators.IPAddress())},
					},
				}},
			},
			"sql": schema.SingleNestedAttribute{
				Optional: true,
				MarkdownDescription: "The SQL Server instance holding the FIMService database. Leaving it out says there is none, " +
					"which HA-2 reports when a function that uses the MIM Service needs HA.",
				Attributes: map[string]schema.Attribute{
					"network_name": schema.StringAttribute{
						Required:            true,
						MarkdownDescription: "Network name of the failover cluster instance (`FAILOVERCLUSTERNETWORKNAME`), or the server's FQDN for a standalone instance." + hostDoc,
						Validators:          []validator.String{validators.FQDN()},
					},
					"clustered": schema.BoolAttribute{Optional: true, MarkdownDescription: "Whether the instance is a SQL Server failover cluster instance (FCI). Defaults to `false` (standalone)."},
					"nodes": schema.ListAttribute{
						ElementType: types.StringType, Optional: true,
						MarkdownDescription: "FQDNs of the servers that can own the instance: the FCI nodes, or the one server of a standalone instance " +
							"(leave empty when `network_name` is that server). HA-3 wants at least two FCI nodes, none of them a domain controller.",
						Validators: []validator.List{listvalidator.ValueStringsAre(validators.FQDN())},
					},
					"data_directories": schema.ListAttribute{
						ElementType: types.StringType, Optional: true,
						MarkdownDescription: "Data directories of the instance (`SERVERPROPERTY('InstanceDefaultDataPath')` and the FIMService files). For an FCI, HA-6 wants shared storage: " +
							"a cluster disk (`D:\\...`), a Cluster Shared Volume (`C:\\ClusterStorage\\Volume1\\...`) or an SMB share on a server outside the bastion. Empty means unknown.",
						Validators: []validator.List{listvalidator.ValueStringsAre(validators.WindowsPath())},
					},
					"log_directories": schema.ListAttribute{
						ElementType: types.StringType, Optional: true,
						MarkdownDescription: "Log directories of the instance; the same storage rules as `data_directories`. Empty means unknown.",
						Validators:          []validator.List{listvalidator.ValueStringsAre(validators.WindowsPath())},
					},
					"started_at": schema.StringAttribute{Optional: true,
						MarkdownDescription: "When the instance last came online, as an RFC 3339 timestamp: `started_at` of `bastion_sql_failover_cluster_instance`. " +
							"With `mim_nodes[*].service_started_at`, HA-8 warns about each MIM Service started before it. Unset means unknown.",
						Validators: []validator.String{validators.RFC3339()}},
				},
			},
			"mim_nodes": schema.ListNestedAttribute{
				Optional:            true,
				MarkdownDescription: "Every computer running the MIM Service, e.g. `[for n in bastion_mim_service_node.node : { host = n.host, service_name = n.service_name, service_partition_name = n.service_partition_name, external_host_name = n.external_host_name, pam_components = n.pam_components }]`.",
				NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
					"host": schema.StringAttribute{Required: true, MarkdownDescription: "FQDN of the server itself, never the load-balancer alias." + hostDoc, Validators: []validator.String{validators.FQDN()}},
					"service_name": schema.StringAttribute{Optional: true, MarkdownDescription: "`serviceName` of the node's config file.",
						Validators: []validator.String{validators.MIMServiceName()}},
					"service_partition_name": schema.StringAttribute{Optional: true,
						MarkdownDescription: "`servicePartitionName` of the node's config file, compared without regard to case; unset falls back to `external_host_name` as MIM does. " +
							"HA-5 wants one value on every node when `long_lived_requests` is true.",
						Validators: []validator.String{validators.MIMServiceName()}},
					"external_host_name": schema.StringAttribute{Optional: true, MarkdownDescription: "`externalHostName` of the node's config file (the load-balancer alias).",
						Validators: []validator.String{validators.HostName()}},
					"pam_components": schema.BoolAttribute{Optional: true,
						MarkdownDescription: "Whether the PAM components were installed with the MIM Service. Defaults to `true`, as in `bastion_mim_service_node`. " +
							"They \"cannot be added subsequently\" and the recovery runbook starts their services (HA-8)."},
					"site": schema.StringAttribute{Optional: true, MarkdownDescription: "AD site of the server; groups the servers in the diagram.", Validators: []validator.String{validators.SiteName()}},
					"service_started_at": schema.StringAttribute{Optional: true,
						MarkdownDescription: "When `FIMService` last started, as an RFC 3339 timestamp: `fim_service_started_at` of `bastion_mim_service_node`. " +
							"Earlier than `sql.started_at` means the service may hold connections from before a failover, restart or restore of SQL Server, " +
							"and HA-8 warns (\"after SQL Server has been restored, it is recommended to restart each MIM Service\"). Unset means unknown.",
						Validators: []validator.String{validators.RFC3339()}},
				}},
			},
			"dns_servers": schema.MapAttribute{
				ElementType: types.ListType{ElemType: types.StringType},
				Optional:    true,
				MarkdownDescription: "DNS server list of each computer, in order, keyed by FQDN: the bastion's servers, and the CORP domain controllers " +
					"that trust the bastion. Entries are IP addresses (matched to `domain_controllers[*].addresses`), `127.0.0.1` for a DC itself, or host names. " +
					"HA-7 wants no computer to depend on one domain controller. A computer left out is not checked.",
				Validators: []validator.Map{
					mapvalidator.KeysAre(validators.FQDN()),
					mapvalidator.ValueListsAre(listvalidator.ValueStringsAre(validators.DNSServerEntry())),
				},
			},
			"backups": schema.ListNestedAttribute{
				Optional: true,
				MarkdownDescription: "Last backup of each naming context on each DC, as `repadmin /showbackup` reports it. Leaving it out means " +
					"\"not known\" and HA-9 is not checked; once any backup is listed, every FSMO role holder needs one younger than the tombstone lifetime.",
				NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
					"dc":             schema.StringAttribute{Required: true, MarkdownDescription: "FQDN of the domain controller." + hostDoc, Validators: []validator.String{validators.FQDN()}},
					"naming_context": schema.StringAttribute{Optional: true, MarkdownDescription: "Distinguished name of the naming context, e.g. `DC=priv,DC=contoso,DC=com`.", Validators: []validator.String{validators.DistinguishedName()}},
					"last_backup": schema.StringAttribute{Optional: true,
						MarkdownDescription: "Time of the last backup as an RFC 3339 timestamp, e.g. `2025-05-31T10:00:00Z`. Unset means never backed up.",
						Validators:          []validator.String{validators.RFC3339()}},
				}},
			},
			"tombstone_lifetime_days": schema.Int64Attribute{
				Optional: true,
				MarkdownDescription: fmt.Sprintf("`tombstoneLifetime` of `CN=Directory Service,CN=Windows NT,CN=Services` in the configuration partition, in days. "+
					"Defaults to %d, the value when the attribute is unset. A backup at least this old cannot be restored.", topology.DefaultTombstoneLifetimeDays),
				Validators: []validator.Int64{int64validator.AtLeast(2)},
			},
			"long_lived_requests": schema.BoolAttribute{
				Optional: true,
				MarkdownDescription: "Whether the PAM scenario includes manual approvals or other long-lived request processing; then HA-5 wants one " +
					"`servicePartitionName` on every MIM Service. Defaults to `true`, the safe side.",
			},
			"ha_functions": schema.SetAttribute{
				ElementType: types.StringType,
				Required:    true,
				MarkdownDescription: "The bastion functions that must survive the loss of any one server (rule HA-10): any of " + backticked(topologyFunctionIDs()) + ". " +
					"The redundancy rules apply only to what these functions need; an empty set checks only the rules that hold whatever the HA wishes.",
				Validators: []validator.Set{setvalidator.ValueStringsAre(validators.OneOf(topologyFunctionIDs()...))},
			},
			"enforce": schema.BoolAttribute{
				Optional: true,
				MarkdownDescription: "Fail on Error-severity violations. Defaults to `true`. With `false` they are reported as warnings and " +
					"the outputs (`ok`, `violations`) carry the verdict.",
			},

			"violations": schema.ListNestedAttribute{
				Computed:            true,
				MarkdownDescription: "Every broken rule. One rule may yield several violations, one per host or naming context.",
				NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
					"rule_id":   schema.StringAttribute{Computed: true, MarkdownDescription: "`HA-1` to `HA-10`."},
					"severity":  schema.StringAttribute{Computed: true, MarkdownDescription: "`error` when a function in `ha_functions` depends on it (or the rule holds always), else `warning`."},
					"functions": schema.ListAttribute{ElementType: types.StringType, Computed: true, MarkdownDescription: "Function ids whose availability the violation affects."},
					"hosts":     schema.ListAttribute{ElementType: types.StringType, Computed: true, MarkdownDescription: "Hosts involved, as the configuration spells them."},
					"attribute": schema.StringAttribute{Computed: true, MarkdownDescription: "Path of the offending input, e.g. `mim_nodes[1].host`; null when no single input is at fault."},
					"message":   schema.StringAttribute{Computed: true, MarkdownDescription: "What is wrong, with which hosts, and what to do."},
				}},
			},
			"readiness": schema.ListNestedAttribute{
				Computed:            true,
				MarkdownDescription: "For each of the six functions, in Microsoft's order, whether it survives the loss of any one server, found by taking each server offline in turn.",
				NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
					"function":             schema.StringAttribute{Computed: true, MarkdownDescription: "Function id."},
					"display_name":         schema.StringAttribute{Computed: true, MarkdownDescription: "Microsoft's name of the function."},
					"priority":             schema.StringAttribute{Computed: true, MarkdownDescription: "Microsoft's recovery priority: `Low`, `Medium` or `High`."},
					"needs_ha":             schema.BoolAttribute{Computed: true, MarkdownDescription: "Whether the function is in `ha_functions`."},
					"available":            schema.BoolAttribute{Computed: true, MarkdownDescription: "Whether the function works at all with every server online."},
					"survives_single_loss": schema.BoolAttribute{Computed: true, MarkdownDescription: "Whether the function keeps working whichever one server is lost."},
					"summary":              schema.StringAttribute{Computed: true, MarkdownDescription: "One sentence, e.g. \"privileged role activation: survives the loss of any one server\"."},
					"losses": schema.ListNestedAttribute{
						Computed:            true,
						MarkdownDescription: "Each server whose loss alone stops the function.",
						NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
							"host":   schema.StringAttribute{Computed: true, MarkdownDescription: "The server."},
							"reason": schema.StringAttribute{Computed: true, MarkdownDescription: "Why its loss stops the function."},
						}},
					},
				}},
			},
			"recovery_runbook": schema.ListNestedAttribute{
				Computed: true,
				MarkdownDescription: "The recovery order after an outage (rule HA-8): a domain controller first, its FSMO roles and the DNS settings checked, " +
					"then SQL Server, then a restart of every MIM Service, then the PAM Monitoring service (and the PAM Component service below forest level 7).",
				NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
					"order":   schema.Int64Attribute{Computed: true, MarkdownDescription: "Position of the step, from 1."},
					"action":  schema.StringAttribute{Computed: true, MarkdownDescription: "What to do."},
					"hosts":   schema.ListAttribute{ElementType: types.StringType, Computed: true, MarkdownDescription: "Hosts the step acts on (for \"at least one of\" steps, any of them)."},
					"command": schema.StringAttribute{Computed: true, MarkdownDescription: "Command to run, when Microsoft's document names one; otherwise null."},
					"reason":  schema.StringAttribute{Computed: true, MarkdownDescription: "Microsoft's words for the step."},
				}},
			},
			"mermaid": schema.StringAttribute{
				Computed: true,
				MarkdownDescription: "The topology as a Mermaid flowchart: a subgraph per site, the domain, the SQL Server instance and its storage, " +
					"dependency and DNS edges, and each violation as a note tied to its hosts (red for errors, amber for warnings).",
			},
			"ok": schema.BoolAttribute{
				Computed:            true,
				MarkdownDescription: "`true` when no violation has Error severity. Warnings do not make it `false`.",
			},
		},
	}
}

func (d *topologyDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	var cfg topologyDataSourceModel
	if !load(ctx, &resp.Diagnostics, from(req.Config, &cfg)) {
		return
	}
	// Terraform reads a data source with unknown configuration during apply,
	// so this is defensive: answer "not known yet" rather than judge a
	// partial topology.
	if !req.Config.Raw.IsFullyKnown() {
		tflog.Debug(ctx, "bastion_topology configuration not wholly known: outputs unknown")
		cfg.setUnknownOutputs()
		resp.Diagnostics.Append(resp.State.Set(ctx, &cfg)...)
		return
	}
	top, diags := cfg.toTopology(ctx)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	res := topology.Evaluate(top)
	tflog.Debug(ctx, "bastion_topology evaluated", map[string]any{
		"violations": len(res.Violations), "has_errors": res.HasErrors(), "ha_functions": fmt.Sprint(top.HAFunctions),
	})
	enforce := cfg.Enforce.IsNull() || cfg.Enforce.ValueBool()
	for _, v := range res.Violations {
		addViolation(&resp.Diagnostics, v, enforce)
	}
	resp.Diagnostics.Append(cfg.setOutputs(top, res)...)
	if resp.Diagnostics.HasError() {
		return
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &cfg)...)
}

// ValidateConfig holds the cross-attribute checks; single attributes are
// checked by their validators.
func (d *topologyDataSource) ValidateConfig(ctx context.Context, req datasource.ValidateConfigRequest, resp *datasource.ValidateConfigResponse) {
	var sql types.Object
	resp.Diagnostics.Append(req.Config.GetAttribute(ctx, path.Root("sql"), &sql)...)
	if resp.Diagnostics.HasError() || sql.IsNull() || sql.IsUnknown() {
		return
	}
	var s topologySQLModel
	resp.Diagnostics.Append(sql.As(ctx, &s, objectAsOptions)...)
	if resp.Diagnostics.HasError() || s.Clustered.IsUnknown() || s.Nodes.IsUnknown() || s.Nodes.IsNull() {
		return
	}
	if s.Clustered.ValueBool() || len(s.Nodes.Elements()) <= 1 {
		return
	}
	resp.Diagnostics.AddAttributeError(path.Root("sql").AtName("nodes"), "Standalone SQL Server With Several Nodes",
		fmt.Sprintf("sql.nodes lists %d servers but sql.clustered is not true: a standalone SQL Server instance runs on one server. "+
			"Set clustered = true for a failover cluster instance, or list only the server that runs the instance.", len(s.Nodes.Elements())))
}

// addViolation reports one violation as a diagnostic on its attribute.
func addViolation(diags *diag.Diagnostics, v topology.Violation, enforce bool) {
	summary := fmt.Sprintf("HA Rule %s Violated", v.RuleID)
	var b strings.Builder
	title := ""
	for _, r := range topology.Rules() {
		if r.ID == v.RuleID {
			title = r.Title
		}
	}
	fmt.Fprintf(&b, "Rule %s (%s) is violated", v.RuleID, title)
	if len(v.Functions) > 0 {
		var names []string
		for _, f := range v.Functions {
			names = append(names, string(f))
		}
		fmt.Fprintf(&b, "; it affects %s", strings.Join(names, ", "))
	}
	b.WriteString(".\n\n")
	if len(v.Hosts) > 0 {
		fmt.Fprintf(&b, "Hosts: %s\n", strings.Join(v.Hosts, ", "))
	}
	if v.Attribute != "" {
		fmt.Fprintf(&b, "Attribute: %s\n", v.Attribute)
	}
	b.WriteString("\n" + v.Message)
	isError := v.Severity == topology.Error && enforce
	switch {
	case v.Severity == topology.Warning:
		b.WriteString("\n\nThis is a warning, not an error: it does not keep a function in ha_functions from surviving the loss of one server, but it is wrong or risky all the same.")
	case !enforce:
		b.WriteString("\n\nThis is an error-severity violation, reported as a warning because enforce is false; the ok output is false.")
	default:
		b.WriteString("\n\nFix the topology as the message says. To plan anyway while you do, set enforce = false: violations are then warnings and the ok output is false.")
	}
	p, ok := attributePath(v.Path)
	switch {
	case isError && ok:
		diags.AddAttributeError(p, summary, b.String())
	case isError:
		diags.AddError(summary, b.String())
	case ok:
		diags.AddAttributeWarning(p, summary, b.String())
	default:
		diags.AddWarning(summary, b.String())
	}
}
