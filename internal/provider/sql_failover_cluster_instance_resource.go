package provider

import (
	"context"
	"fmt"

	"github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework-validators/listvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/setvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/booldefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/listplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringdefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/bastion-pam/terraform-provider-bastion/internal/adnames"
	"github.com/bastion-pam/terraform-provider-bastion/internal/fci"
	"github.com/bastion-pam/terraform-provider-bastion/internal/validators"
)

var (
	_ resource.Resource                     = &sqlFailoverClusterInstanceResource{}
	_ resource.ResourceWithConfigure        = &sqlFailoverClusterInstanceResource{}
	_ resource.ResourceWithImportState      = &sqlFailoverClusterInstanceResource{}
	_ resource.ResourceWithConfigValidators = &sqlFailoverClusterInstanceResource{}
	_ resource.ResourceWithValidateConfig   = &sqlFailoverClusterInstanceResource{}
	_ resource.ResourceWithModifyPlan       = &sqlFailoverClusterInstanceResource{}
)

// NewSQLFailoverClusterInstanceResource is the bastion_sql_failover_cluster_instance resource.
func NewSQLFailoverClusterInstanceResource() resource.Resource {
	return &sqlFailoverClusterInstanceResource{}
}

type sqlFailoverClusterInstanceResource struct {
	configuredResource
}

type sqlFailoverClusterInstanceResourceModel struct {
	ID                            types.String   `tfsdk:"id"`
	InstanceName                  types.String   `tfsdk:"instance_name"`
	NetworkName                   types.String   `tfsdk:"network_name"`
	IPAddresses                   types.List     `tfsdk:"ip_addresses"`
	ClusterGroupName              types.String   `tfsdk:"cluster_group_name"`
	ClusterDisks                  types.Set      `tfsdk:"cluster_disks"`
	Nodes                         types.List     `tfsdk:"nodes"`
	DataDirectory                 types.String   `tfsdk:"data_directory"`
	LogDirectory                  types.String   `tfsdk:"log_directory"`
	TempDBDirectory               types.String   `tfsdk:"tempdb_directory"`
	BackupDirectory               types.String   `tfsdk:"backup_directory"`
	Features                      types.Set      `tfsdk:"features"`
	SysadminAccounts              types.Set      `tfsdk:"sysadmin_accounts"`
	SQLServiceAccount             types.String   `tfsdk:"sql_service_account"`
	SQLServicePasswordWO          types.String   `tfsdk:"sql_service_password_wo"`
	SQLServicePasswordWOVersion   types.Int64    `tfsdk:"sql_service_password_wo_version"`
	AgentServiceAccount           types.String   `tfsdk:"agent_service_account"`
	AgentServicePasswordWO        types.String   `tfsdk:"agent_service_password_wo"`
	AgentServicePasswordWOVersion types.Int64    `tfsdk:"agent_service_password_wo_version"`
	SetupMediaPath                types.String   `tfsdk:"setup_media_path"`
	HA                            types.Bool     `tfsdk:"ha"`
	IsClustered                   types.Bool     `tfsdk:"is_clustered"`
	CurrentOwner                  types.String   `tfsdk:"current_owner"`
	StartedAt                     types.String   `tfsdk:"started_at"`
	NodeStatus                    types.Map      `tfsdk:"node_status"`
	Version                       types.String   `tfsdk:"version"`
	SharedPaths                   types.List     `tfsdk:"shared_paths"`
	Timeouts                      timeouts.Value `tfsdk:"timeouts"`
}

func (r *sqlFailoverClusterInstanceResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_sql_failover_cluster_instance"
}

const fciInstallOnlyDoc = " Setup sets it at install and cannot change it, so changing it rebuilds the instance (replacement). " +
	"It cannot be read over TDS: after an import, the first apply records the configuration's value as it is."

func (r *sqlFailoverClusterInstanceResource) Schema(ctx context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	dir := func(setting, what string) schema.StringAttribute {
		return schema.StringAttribute{
			Optional: true,
			MarkdownDescription: what + " (setup's `" + setting + "`). It must be on storage every node shares: a cluster disk (`E:\\MSSQL`, " +
				"with the disk in `cluster_disks`), a Cluster Shared Volume (`C:\\ClusterStorage\\Volume1\\MSSQL`) or an SMB share dedicated to the bastion " +
				"(`\\\\priv-fs\\sql$\\MSSQL`); a path on a node's system drive is refused at plan time." + fciInstallOnlyDoc,
			Validators:    []validator.String{validators.SharedStoragePath()},
			PlanModifiers: []planmodifier.String{fciReplaceUnlessImported{}},
		}
	}
	password := func(account string) schema.StringAttribute {
		return schema.StringAttribute{
			Optional: true, WriteOnly: true, Sensitive: true, Validators: []validator.String{validators.SetupPassword()},
			MarkdownDescription: "Password of `" + account + "`. Required for a domain account, refused for a (group) managed service account " +
				"(a name ending in `$` has no password). Write-only: sent to the node as data for setup's InstallFailoverCluster and AddNode runs, " +
				"never stored in state or plan, masked in logs. Setup gets it in a configuration file only the running account can read, deleted when setup ends, " +
				"never on its command line; such a file cannot hold a double quote, so a password with one is refused at plan time.",
		}
	}
	version := func(pw string) schema.Int64Attribute {
		return schema.Int64Attribute{
			Optional: true,
			MarkdownDescription: "Any number; change it after rotating the password in the directory so that the provider hands setup the current `" + pw +
				"` for the nodes it adds from then on (in place). The running services get a rotated password from the cluster " +
				"(SQL Server Configuration Manager on the owner), not from setup.",
		}
	}
	resp.Schema = schema.Schema{
		MarkdownDescription: "A SQL Server failover cluster instance (FCI) for the MIM Service database: the HA SQL Server of the bastion " +
			"(rule HA-2), on at least two nodes that are not domain controllers (rule HA-3), with its files on shared storage.\n\n" +
			"**Plan-time guard.** A plan that takes the instance down (destroy, replacement, `-replace`, a tainted instance) asks it over TDS whether it holds the MIM Service " +
			"database (`FIMService`) and is refused if so, unless the `bastion_mim_service_node` resources whose `sql_server` is this network name are destroyed first in the same " +
			"plan (as `terraform destroy` does).\n\n" +
			"Create runs SQL Server setup over WinRM: `/ACTION=InstallFailoverCluster` on the first of `nodes`, then `/ACTION=AddNode` on each " +
			"further one. Adding or removing a node later is done in place (`AddNode` / `RemoveNode` on that node), never by rebuilding the " +
			"instance. A node the provider's `lost_hosts` declares lost is evicted instead (`Remove-ClusterNode -Force`, run on a node that stays) " +
			"before the nodes added in the same change, since setup's cluster verification refuses `AddNode` while a node of the cluster is down: " +
			"replacing a lost node is one edit of `nodes` and one apply. Read is one TDS batch through the network name (`SERVERPROPERTY`, `sys.dm_os_cluster_nodes`, " +
			"`sys.dm_io_cluster_valid_path_names`): a failover is not drift, a node evicted from the cluster is (the plan adds it back), and " +
			"an instance that is no longer clustered is replaced. Delete runs `RemoveNode` on every node, the owner last.\n\n" +
			"The provider reads the instance through its `sql` settings, so `sql.server` must be this `network_name`, and the provider's " +
			"login must be sysadmin (list its account in `sysadmin_accounts`).",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{
				Computed: true, MarkdownDescription: "The network name, lower case.",
				PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"instance_name": schema.StringAttribute{
				Optional: true, Computed: true, Default: stringdefault.StaticString("MSSQLSERVER"),
				MarkdownDescription: "Instance name (setup's `INSTANCENAME`); `MSSQLSERVER`, the default, is the default instance. " +
					"An instance cannot be renamed, so changing it rebuilds the instance (replacement).",
				Validators:    []validator.String{validators.SQLInstanceName()},
				PlanModifiers: []planmodifier.String{stringplanmodifier.RequiresReplace()},
			},
			"network_name": schema.StringAttribute{
				Required: true,
				MarkdownDescription: "FQDN of the instance's network name, e.g. `priv-sql.priv.contoso.com` (its first label, at most 15 characters, is setup's " +
					"`FAILOVERCLUSTERNETWORKNAME`). Clients, the MIM Service and this provider connect through it, whichever node owns the instance; it must not " +
					"be a node's name. A network name cannot be changed by setup, so changing it rebuilds the instance (replacement). The import ID.",
				Validators:    []validator.String{validators.FQDN()},
				PlanModifiers: []planmodifier.String{stringplanmodifier.RequiresReplace()},
			},
			"ip_addresses": schema.ListNestedAttribute{
				Optional: true,
				MarkdownDescription: "Static IPv4 addresses of the network name, one per subnet (setup's `FAILOVERCLUSTERIPADDRESSES` as " +
					"`IPv4;<address>;<cluster network>;<subnet mask>`). Omit it for `DEFAULT` (DHCP on every cluster network)." + fciInstallOnlyDoc,
				NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
					"address": schema.StringAttribute{
						Required: true, MarkdownDescription: "IPv4 address, e.g. `10.0.0.50`.",
						Validators: []validator.String{validators.ClusterIPv4()},
					},
					"cluster_network": schema.StringAttribute{
						Required: true, MarkdownDescription: "Name of the Windows failover cluster network, e.g. `Cluster Network 1`.",
						Validators: []validator.String{validators.ClusterNetworkName()},
					},
					"subnet_mask": schema.StringAttribute{
						Required: true, MarkdownDescription: "Subnet mask, e.g. `255.255.255.0`.",
						Validators: []validator.String{validators.SubnetMask()},
					},
				}},
				Validators:    []validator.List{listvalidator.SizeAtLeast(1)},
				PlanModifiers: []planmodifier.List{fciReplaceUnlessImported{}},
			},
			"cluster_group_name": schema.StringAttribute{
				Optional: true, Computed: true,
				MarkdownDescription: "Name of the instance's cluster role (setup's `FAILOVERCLUSTERGROUP`). Defaults to `SQL Server (<instance_name>)`." + fciInstallOnlyDoc,
				Validators:          []validator.String{validators.SingleLine(), stringvalidator.LengthBetween(1, 128)},
				PlanModifiers:       []planmodifier.String{stringplanmodifier.UseStateForUnknown(), fciReplaceUnlessImported{}},
			},
			"cluster_disks": schema.SetAttribute{
				ElementType: types.StringType, Optional: true,
				MarkdownDescription: "Cluster disks the instance's group takes (setup's `FAILOVERCLUSTERDISKS`), e.g. `[\"Cluster Disk 1\"]`. Needed when a " +
					"directory is on a cluster disk's drive letter; not for Cluster Shared Volumes or SMB shares." + fciInstallOnlyDoc,
				Validators:    []validator.Set{setvalidator.SizeAtLeast(1), setvalidator.ValueStringsAre(validators.ClusterResourceName())},
				PlanModifiers: []planmodifier.Set{fciReplaceUnlessImported{}},
			},
			"nodes": schema.ListAttribute{
				ElementType: types.StringType, Required: true,
				MarkdownDescription: "FQDNs of the servers that may own the instance, in order: setup runs `InstallFailoverCluster` on the first and " +
					"`AddNode` on each further one. Each must be a member of the Windows failover cluster and not a domain controller (rule HA-3, asked of " +
					"the directory when planning), and with `ha = true` there must be at least two. Adding or removing a node later, the first one " +
					"included, is done in place with `AddNode` / `RemoveNode`; the order matters only at create. A node evicted from the cluster out of " +
					"band is drift: the plan adds it back in place.",
				Validators: []validator.List{
					listvalidator.SizeAtLeast(1),
					listvalidator.ValueStringsAre(validators.FQDN()),
					validators.FCINodes(path.Root("ha")),
				},
			},
			"data_directory":   dir("INSTALLSQLDATADIR` and `SQLUSERDBDIR", "Directory of the system and user databases; required to create the instance"),
			"log_directory":    dir("SQLUSERDBLOGDIR", "Directory of the user databases' logs; defaults to `data_directory`"),
			"tempdb_directory": dir("SQLTEMPDBDIR", "Directory of tempdb; defaults to `data_directory`"),
			"backup_directory": dir("SQLBACKUPDIR", "Default backup directory; defaults to a folder under `data_directory`"),
			"features": schema.SetAttribute{
				ElementType: types.StringType, Optional: true, Computed: true,
				MarkdownDescription: "Setup features (setup's `FEATURES`). Defaults to `SQLENGINE` and `FULLTEXT` (the MIM Service database needs Full-Text " +
					"Search). Must include `SQLENGINE` (or `SQL`). Features cannot be added to a failover cluster instance later, so changing them " +
					"rebuilds the instance (replacement). TDS does not show them: an imported instance's stay null until the configuration sets them, and the first apply then records the configuration's value.",
				Validators: []validator.Set{
					setvalidator.SizeAtLeast(1),
					setvalidator.ValueStringsAre(validators.SetupFeature()),
				},
				PlanModifiers: []planmodifier.Set{fciReplaceUnlessImported{}},
			},
			"sysadmin_accounts": schema.SetAttribute{
				ElementType: types.StringType, Optional: true,
				MarkdownDescription: "Windows accounts and groups (`DOMAIN\\name`) made members of sysadmin (setup's `SQLSYSADMINACCOUNTS`); required to create the instance. Include the " +
					"provider's own account so it can read the instance. A later change is made in place over TDS: an added account gets a login in " +
					"sysadmin, a removed one leaves sysadmin (its login stays). Membership is not read back: manage other logins with `bastion_sql_login`.",
				Validators: []validator.Set{setvalidator.SizeAtLeast(1), setvalidator.ValueStringsAre(validators.WindowsAccount())},
			},
			"sql_service_account": schema.StringAttribute{
				Optional: true,
				MarkdownDescription: "Account of the SQL Server service as `DOMAIN\\name` (setup's `SQLSVCACCOUNT`), the same on every node; required to create the instance. A name " +
					"ending in `$` is a group managed service account and takes no password." + fciInstallOnlyDoc,
				Validators:    []validator.String{validators.WindowsAccount()},
				PlanModifiers: []planmodifier.String{fciReplaceUnlessImported{}},
			},
			"sql_service_password_wo":         password("sql_service_account"),
			"sql_service_password_wo_version": version("sql_service_password_wo"),
			"agent_service_account": schema.StringAttribute{
				Optional: true,
				MarkdownDescription: "Account of the SQL Server Agent service as `DOMAIN\\name` (setup's `AGTSVCACCOUNT`), the same on every node; required to create the instance. A name " +
					"ending in `$` is a group managed service account and takes no password." + fciInstallOnlyDoc,
				Validators:    []validator.String{validators.WindowsAccount()},
				PlanModifiers: []planmodifier.String{fciReplaceUnlessImported{}},
			},
			"agent_service_password_wo":         password("agent_service_account"),
			"agent_service_password_wo_version": version("agent_service_password_wo"),
			"setup_media_path": schema.StringAttribute{
				Optional: true,
				MarkdownDescription: "Folder holding SQL Server's `setup.exe` as the nodes see it, e.g. `C:\\Sources\\SQL2019` or a UNC path. " +
					"Used for every setup run (install, add node, remove node), so required to create the instance and to change `nodes`; changing it is in place.",
				Validators: []validator.String{validators.WindowsPath()},
			},
			"ha": schema.BoolAttribute{
				Optional: true, Computed: true, Default: booldefault.StaticBool(true),
				MarkdownDescription: "The instance is meant for high availability (the default): `nodes` must then hold at least two distinct servers " +
					"(rule HA-3). Set `false` only for a lab or a function the operator does not need highly available.",
			},
			"is_clustered": schema.BoolAttribute{
				Computed: true,
				MarkdownDescription: "`SERVERPROPERTY('IsClustered')`. Always `true` for this resource: when a refresh finds a stand-alone instance " +
					"answering on the network name, the plan replaces the resource.",
			},
			"current_owner": schema.StringAttribute{
				Computed: true,
				MarkdownDescription: "FQDN of the node that runs the instance now (`SERVERPROPERTY('ComputerNamePhysicalNetBIOS')`). A failover " +
					"changes it without making a plan: moving between nodes is what an FCI is for.",
			},
			"started_at": schema.StringAttribute{
				Computed: true,
				MarkdownDescription: "When the instance last came online, in UTC (RFC 3339, `sys.dm_os_sys_info.sqlserver_start_time` read in the same batch " +
					"as the rest of the refresh). A failover or a restart of the instance moves it, without making a plan. Microsoft's *High availability " +
					"and disaster recovery considerations for the bastion environment* (SQL Server, Recovery): \"after SQL Server has been restored, it is " +
					"recommended to restart each MIM Service\". Put this value in the `restart_triggers` of each `bastion_mim_service_node`, so the next apply restarts them.",
			},
			"node_status": schema.MapAttribute{
				ElementType: types.StringType, Computed: true,
				MarkdownDescription: "Cluster state of each node by FQDN (`sys.dm_os_cluster_nodes`): `up`, `down`, `paused` or `joining`. A node " +
					"that is down is still a node (a refresh warns about it); one that left the cluster disappears from `nodes`.",
			},
			"version": schema.StringAttribute{
				Computed: true, MarkdownDescription: "`SERVERPROPERTY('ProductVersion')`, e.g. `15.0.2000.5`.",
				PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"shared_paths": schema.ListAttribute{
				ElementType: types.StringType, Computed: true,
				MarkdownDescription: "Roots of the cluster disks and Cluster Shared Volumes the instance may keep files on " +
					"(`sys.dm_io_cluster_valid_path_names`); SMB shares are not listed.",
				PlanModifiers: []planmodifier.List{listplanmodifier.UseStateForUnknown()},
			},
			"timeouts": timeouts.Attributes(ctx, timeouts.Opts{Create: true, Read: true, Update: true, Delete: true}),
		},
	}
}

func (r *sqlFailoverClusterInstanceResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var plan, config sqlFailoverClusterInstanceResourceModel
	if !load(ctx, &resp.Diagnostics, from(req.Plan, &plan), from(req.Config, &config)) {
		return
	}
	secrets := fciSecrets(&config)
	ctx, cancel, ok := r.data.checkedOperation(ctx, plan.Timeouts.Create, fciCreateTimeout, r.reaches(plan.NetworkName), &resp.Diagnostics, secrets.sql, secrets.agent)
	if !ok {
		return
	}
	defer cancel()
	nodes := stringsOf(plan.Nodes, &resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	if !r.checkNodesUsable(ctx, nodes, nodes, &resp.Diagnostics) {
		return
	}

	spec := fciSpec(ctx, &plan, secrets, &resp.Diagnostics)
	if resp.Diagnostics.HasError() || r.refuseExisting(ctx, plan.NetworkName.ValueString(), &resp.Diagnostics) {
		return
	}
	media := plan.SetupMediaPath.ValueString()
	if !r.runSetup(ctx, nodes[0], media, fci.ActionInstall, spec.InstallParams(), "SQL Server Failover Cluster Instance Not Installed", &resp.Diagnostics) {
		return
	}
	for _, host := range nodes[1:] {
		if !r.runSetup(ctx, host, media, fci.ActionAddNode, spec.AddNodeParams(), "Failover Cluster Node Not Added", &resp.Diagnostics) {
			// The instance exists: save what it has (Terraform marks it tainted).
			resp.Diagnostics.AddWarning("Failover Cluster Instance Partly Built",
				fmt.Sprintf("The instance %s was installed but not every node was added. It is saved in the state as tainted, so the next apply would rebuild it; "+
					"to add the missing nodes in place instead, run `terraform untaint` on the resource and apply again.", plan.NetworkName.ValueString()))
			resp.Diagnostics.Append(recordObject(ctx, resp.Private, fciObject{NetworkName: plan.NetworkName.ValueString()})...)
			if fc, err := r.readCluster(ctx); err == nil {
				r.fromCluster(fc, &plan, nil)
				resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
			} else {
				resp.Diagnostics.Append(keepPlanned(req.Plan, &resp.State)...)
			}
			return
		}
	}
	fc, err := r.readCluster(ctx)
	if err != nil {
		report(&resp.Diagnostics, failure{"SQL Server Failover Cluster Instance Not Read", plan.NetworkName.ValueString(), viaSQL, "reading the new instance after setup (it is installed; list the provider's account in sysadmin_accounts so it can log in)"}, err)
		keepPlannedWarning(&resp.Diagnostics, "Failover Cluster Instance Saved Unread", fmt.Sprintf("Setup installed %s, but the provider could not read it back.", plan.NetworkName.ValueString()))
		resp.Diagnostics.Append(recordObject(ctx, resp.Private, fciObject{NetworkName: plan.NetworkName.ValueString()})...)
		resp.Diagnostics.Append(keepPlanned(req.Plan, &resp.State)...)
		return
	}
	r.fromCluster(fc, &plan, &resp.Diagnostics)
	r.checkNodesMatch(ctx, &plan, nodes, &resp.Diagnostics)
	resp.Diagnostics.Append(recordObject(ctx, resp.Private, fciObject{NetworkName: plan.NetworkName.ValueString()})...)
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

func (r *sqlFailoverClusterInstanceResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var state sqlFailoverClusterInstanceResourceModel
	if !load(ctx, &resp.Diagnostics, from(req.State, &state)) {
		return
	}
	ctx, cancel, ok := r.data.checkedOperation(ctx, state.Timeouts.Read, fciReadTimeout, r.reaches(state.NetworkName), &resp.Diagnostics)
	if !ok {
		return
	}
	defer cancel()
	// One batch: identity, nodes and shared paths. A failover in progress
	// (failed logins, dropped connections) is retried inside the adapter.
	fc, err := r.readCluster(ctx)
	if err != nil {
		// Unreachable is an outage (or a lost instance), not a deletion: keep the state.
		if !r.absentOnImport(ctx, &state, err, resp) {
			report(&resp.Diagnostics, failure{"SQL Server Failover Cluster Instance Not Read", state.NetworkName.ValueString(), viaSQL, "refreshing the instance through its network name (the state is kept unchanged)"}, err)
		}
		return
	}
	r.fromCluster(fc, &state, &resp.Diagnostics)
	resp.Diagnostics.Append(recordObject(ctx, resp.Private, fciObject{NetworkName: state.NetworkName.ValueString()})...)
	resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
}

func (r *sqlFailoverClusterInstanceResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan, state, config sqlFailoverClusterInstanceResourceModel
	if !load(ctx, &resp.Diagnostics, from(req.Plan, &plan), from(req.State, &state), from(req.Config, &config)) {
		return
	}
	secrets := fciSecrets(&config)
	ctx, cancel, ok := r.data.checkedOperation(ctx, plan.Timeouts.Update, fciUpdateTimeout, r.reaches(plan.NetworkName), &resp.Diagnostics, secrets.sql, secrets.agent)
	if !ok {
		return
	}
	defer cancel()
	want := stringsOf(plan.Nodes, &resp.Diagnostics)
	have := stringsOf(state.Nodes, &resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	added, removed := fci.NodeChanges(have, want)
	if !r.checkNodesUsable(ctx, want, added, &resp.Diagnostics) {
		return
	}
	// A lost node cannot run RemoveNode, and setup's AddNode refuses a
	// cluster with a node down: evict the lost ones first, from a node that stays.
	var stillRemove []string
	for _, host := range removed {
		if !r.data.isLost(host) {
			stillRemove = append(stillRemove, host)
			continue
		}
		if !r.evictLost(ctx, plan.NetworkName.ValueString(), have, want, host, &resp.Diagnostics) {
			return
		}
	}
	removed = stillRemove
	media := plan.SetupMediaPath.ValueString()
	spec := fciSpec(ctx, &plan, secrets, &resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	// Add before removing, so the instance never has fewer nodes than both lists share.
	for _, host := range added {
		if !r.runSetup(ctx, host, media, fci.ActionAddNode, spec.AddNodeParams(), "Failover Cluster Node Not Added", &resp.Diagnostics) {
			return
		}
	}
	for _, host := range removed {
		if !r.runSetup(ctx, host, media, fci.ActionRemoveNode, spec.RemoveNodeParams(), "Failover Cluster Node Not Removed", &resp.Diagnostics) {
			return
		}
	}
	if !state.SysadminAccounts.IsNull() && !plan.SysadminAccounts.Equal(state.SysadminAccounts) {
		wantAdmins := stringsOf(plan.SysadminAccounts, &resp.Diagnostics)
		haveAdmins := stringsOf(state.SysadminAccounts, &resp.Diagnostics)
		if resp.Diagnostics.HasError() {
			return
		}
		if err := fci.SetSysadmins(ctx, r.data.sql, haveAdmins, wantAdmins); err != nil {
			report(&resp.Diagnostics, failure{"Sysadmin Accounts Not Changed", plan.NetworkName.ValueString(), viaSQL, "changing the members of sysadmin"}, err)
			return
		}
	}
	fc, err := r.readCluster(ctx)
	if err != nil {
		report(&resp.Diagnostics, failure{"SQL Server Failover Cluster Instance Not Read", plan.NetworkName.ValueString(), viaSQL, "reading the instance after the update"}, err)
		return
	}
	r.fromCluster(fc, &plan, &resp.Diagnostics)
	r.checkNodesMatch(ctx, &plan, want, &resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	// The configuration's install-time settings are now recorded: later changes replace.
	resp.Diagnostics.Append(resp.Private.SetKey(ctx, fciImportedKey, nil)...)
	resp.Diagnostics.Append(recordObject(ctx, resp.Private, fciObject{NetworkName: plan.NetworkName.ValueString()})...)
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

func (r *sqlFailoverClusterInstanceResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var state sqlFailoverClusterInstanceResourceModel
	if !load(ctx, &resp.Diagnostics, from(req.State, &state)) {
		return
	}
	ctx, cancel, ok := r.data.operation(ctx, state.Timeouts.Delete, fciDeleteTimeout, &resp.Diagnostics)
	if !ok {
		return
	}
	defer cancel()
	nodes := stringsOf(state.Nodes, &resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	network := state.NetworkName.ValueString()
	// Remove the passive nodes first and the owner last, so the instance
	// never fails over while it is taken down. Without an answer from the
	// instance, go by the state, the first node (where it was installed) last.
	order := make([]string, 0, len(nodes))
	for i := len(nodes) - 1; i >= 0; i-- {
		order = append(order, nodes[i])
	}
	if r.data.sql != nil && adnames.SameHost(r.data.sql.Server(), network) {
		if fc, err := r.readCluster(ctx); err == nil {
			if !fc.Server.IsClustered {
				resp.Diagnostics.AddWarning("Not A Failover Cluster Instance",
					fmt.Sprintf("%s answers as a stand-alone SQL Server instance, which RemoveNode cannot remove. Nothing was uninstalled; uninstall it with setup /ACTION=Uninstall if it must go.", network))
				return
			}
			order = fci.RemovalOrder(fci.NodeViews(network, nodes, fc))
		}
	}
	for _, host := range order {
		if r.data.skipLost(host, "Failover Cluster Node Not Removed", "RemoveNode was not run on it; evict it from the cluster with Remove-ClusterNode.", &resp.Diagnostics) {
			continue
		}
		if !r.runSetup(ctx, host, state.SetupMediaPath.ValueString(), fci.ActionRemoveNode, fci.Spec{InstanceName: state.InstanceName.ValueString()}.RemoveNodeParams(), "Failover Cluster Node Not Removed", &resp.Diagnostics) {
			return
		}
	}
}

func (r *sqlFailoverClusterInstanceResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	if err := validators.CheckFQDN(req.ID); err != nil {
		resp.Diagnostics.AddError("Invalid Import ID", fmt.Sprintf("The import ID is the instance's network name FQDN, e.g. priv-sql.priv.contoso.com: %s.", err))
		return
	}
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("id"), adnames.HostKey(req.ID))...)
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("network_name"), req.ID)...)
	resp.Diagnostics.Append(resp.Private.SetKey(ctx, fciImportedKey, []byte("true"))...)
}
