package provider

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework-validators/mapvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/booldefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/boolplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringdefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/bastion-pam/terraform-provider-bastion/internal/mim"
	"github.com/bastion-pam/terraform-provider-bastion/internal/transport"
	"github.com/bastion-pam/terraform-provider-bastion/internal/validators"
)

var (
	_ resource.Resource                     = &mimServiceNodeResource{}
	_ resource.ResourceWithConfigure        = &mimServiceNodeResource{}
	_ resource.ResourceWithImportState      = &mimServiceNodeResource{}
	_ resource.ResourceWithConfigValidators = &mimServiceNodeResource{}
	_ resource.ResourceWithModifyPlan       = &mimServiceNodeResource{}
)

// NewMIMServiceNodeResource is the bastion_mim_service_node resource.
func NewMIMServiceNodeResource() resource.Resource { return &mimServiceNodeResource{} }

type mimServiceNodeResource struct {
	configuredResource
}

type mimServiceNodeResourceModel struct {
	ID                              types.String          `tfsdk:"id"`
	Host                            types.String          `tfsdk:"host"`
	ExternalHostName                types.String          `tfsdk:"external_host_name"`
	ServiceName                     types.String          `tfsdk:"service_name"`
	ServicePartitionName            caseInsensitiveString `tfsdk:"service_partition_name"`
	SQLServer                       caseInsensitiveString `tfsdk:"sql_server"`
	SQLDatabase                     types.String          `tfsdk:"sql_database"`
	ServiceAccount                  caseInsensitiveString `tfsdk:"service_account"`
	ServiceAccountPasswordWO        types.String          `tfsdk:"service_account_password_wo"`
	ServiceAccountPasswordWOVersion types.Int64           `tfsdk:"service_account_password_wo_version"`
	ServiceAccountEmail             types.String          `tfsdk:"service_account_email"`
	MailServer                      types.String          `tfsdk:"mail_server"`
	PAMComponents                   types.Bool            `tfsdk:"pam_components"`
	InstallerPath                   types.String          `tfsdk:"installer_path"`
	ConfigFilePath                  types.String          `tfsdk:"config_file_path"`
	Version                         types.String          `tfsdk:"version"`
	FIMServiceState                 types.String          `tfsdk:"fim_service_state"`
	PAMMonitoringServiceState       types.String          `tfsdk:"pam_monitoring_service_state"`
	PAMComponentServiceState        types.String          `tfsdk:"pam_component_service_state"`
	FIMServiceStartedAt             types.String          `tfsdk:"fim_service_started_at"`
	RestartTriggers                 types.Map             `tfsdk:"restart_triggers"`
	Timeouts                        timeouts.Value        `tfsdk:"timeouts"`
}

func (r *mimServiceNodeResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_mim_service_node"
}

const serviceRunningDoc = " The provider keeps it running: when a refresh finds it stopped, the plan shows `\"Stopped\" -> \"Running\"` and apply starts it."

func (r *mimServiceNodeResource) Schema(ctx context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "A MIM Service node of the bastion: the MIM Service (and, normally, the PAM components) installed on one server, " +
			"with the three names that bind requests and workflows to it: `external_host_name`, `service_name` and `service_partition_name`.\n\n" +
			"Create installs the MIM Service and Portal MSI, writes the names into the `resourceManagementService` element of " +
			"`Microsoft.ResourceManagement.Service.exe.config` and starts the services. Read reads the real config file (found from the FIMService " +
			"service's `ImagePath`) and the services with one remote script. Update edits only the attributes that changed, keeping every other byte " +
			"of the file, and restarts FIMService so it reads them. Delete uninstalls.\n\n" +
			"**The install** selects the features `CommonServices` (the MIM Service) and, with `pam_components`, `PAMServices`, with `ACCEPT_EULA=1` and " +
			"`REBOOT=ReallySuppress`. It runs through the Windows Installer automation object, so the service account password is on no process command line; " +
			"the verbose log goes to a folder only the running account (and LocalSystem) can read and is deleted afterwards. Exit code 1618 (another installation " +
			"in progress) is waited out within the create timeout; 3010 (restart required) counts as installed and gives a warning: the provider never restarts " +
			"a node itself. Any other exit code fails with the log's last lines, passwords redacted.\n\n" +
			"**Recovering a lost node** (HA and DR guide, \"MIM Service\"): move the resource to a new `host` and keep the lost node's `service_name` " +
			"and `service_partition_name`; the new node can then complete the workflows the lost one started.",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{
				Computed: true, MarkdownDescription: "The node's host FQDN.",
				PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"host": schema.StringAttribute{
				Required: true,
				MarkdownDescription: "FQDN of the server itself, e.g. `priv-app1.priv.contoso.com`. Never the load-balancer alias: an alias lands on a random node. " +
					"Changing it builds the node on the new server (replacement), which is how a lost node is recovered.",
				Validators:    []validator.String{validators.FQDN()},
				PlanModifiers: []planmodifier.String{stringplanmodifier.RequiresReplace()},
			},
			"external_host_name": schema.StringAttribute{
				Required:            true,
				MarkdownDescription: "The common name clients use for the MIM Service (the load-balancer alias), `externalHostName` in the config file. Changed in place.",
				Validators:          []validator.String{validators.HostName()},
			},
			"service_name": schema.StringAttribute{
				Optional: true, Computed: true,
				MarkdownDescription: "`serviceName` in the config file. Defaults to the server's computer name. A workflow can only be completed by a service with the same " +
					"service name and partition name as the one that started it, so a replacement for a lost node takes the lost node's value. Changed in place.",
				Validators:    []validator.String{validators.MIMServiceName()},
				PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"service_partition_name": schema.StringAttribute{
				CustomType: caseInsensitiveStringType{},
				Optional:   true, Computed: true,
				MarkdownDescription: "`servicePartitionName` in the config file, stored upper case as MIM does (compared without regard to case). Defaults to `external_host_name`. " +
					"Only services with the same partition name may act on a request, so with manual approvals or long-lived requests every node must have the same value. Changed in place.",
				Validators:    []validator.String{validators.MIMServiceName()},
				PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"sql_server": schema.StringAttribute{
				CustomType:          caseInsensitiveStringType{},
				Required:            true,
				MarkdownDescription: "SQL Server for the MIM Service database: the failover cluster instance's network name, never a node. Set at install (read back from the FIMService `DatabaseServer` registry value); changing it reinstalls the node.",
				Validators:          []validator.String{validators.SQLServerName()},
				PlanModifiers:       []planmodifier.String{stringplanmodifier.RequiresReplace()},
			},
			"sql_database": schema.StringAttribute{
				Optional: true, Computed: true, Default: stringdefault.StaticString("FIMService"),
				MarkdownDescription: "MIM Service database name. Defaults to `FIMService`. Set at install; changing it reinstalls the node.",
				Validators:          []validator.String{validators.SQLDatabaseName()},
				PlanModifiers:       []planmodifier.String{stringplanmodifier.RequiresReplace()},
			},
			"service_account": schema.StringAttribute{
				CustomType:          caseInsensitiveStringType{},
				Required:            true,
				MarkdownDescription: "The MIM Service account as `DOMAIN\\name` (read back from the service's logon account). The PAM services run as this account too. Changing it reinstalls the node.",
				Validators:          []validator.String{validators.WindowsAccount()},
				PlanModifiers:       []planmodifier.String{stringplanmodifier.RequiresReplace()},
			},
			"service_account_password_wo": schema.StringAttribute{
				Required: true, WriteOnly: true, Sensitive: true, Validators: []validator.String{validators.Password()},
				MarkdownDescription: "Password of `service_account`. Write-only: sent to the host as data on stdin, never stored in state or plan, masked in logs. " +
					"Bump `service_account_password_wo_version` to apply a new one.",
			},
			"service_account_password_wo_version": schema.Int64Attribute{
				Optional:            true,
				MarkdownDescription: "Any number; change it to make the provider give the MIM Service the current `service_account_password_wo` (after a rotation in the directory), in place, with a restart of FIMService." + versionAfterImportDoc,
			},
			"service_account_email": schema.StringAttribute{
				Optional:            true,
				MarkdownDescription: "Mailbox of the service account, for notifications. Set at install; changing it reinstalls the node.",
				Validators:          []validator.String{validators.EmailAddress()},
				PlanModifiers:       []planmodifier.String{stringplanmodifier.RequiresReplace()},
			},
			"mail_server": schema.StringAttribute{
				Optional:            true,
				MarkdownDescription: "Mail server the MIM Service sends notifications through. Set at install; changing it reinstalls the node.",
				Validators:          []validator.String{validators.SMTPHost()},
				PlanModifiers:       []planmodifier.String{stringplanmodifier.RequiresReplace()},
			},
			"pam_components": schema.BoolAttribute{
				Optional: true, Computed: true, Default: booldefault.StaticBool(true),
				MarkdownDescription: "Install the PAM components (PAM Monitoring service, PAM Component service, PowerShell modules) with the MIM Service. Defaults to `true`. " +
					"They cannot be added to an installed MIM Service later, so changing this reinstalls the node.",
				PlanModifiers: []planmodifier.Bool{boolplanmodifier.RequiresReplace()},
			},
			"installer_path": schema.StringAttribute{
				Optional:            true,
				MarkdownDescription: "Path of the MIM Service and Portal MSI as the host sees it, e.g. `C:\\Sources\\MIM\\Service and Portal\\Service and Portal.msi` or a UNC path. Used only when installing, so required to create the node (an imported node may leave it out).",
				Validators:          []validator.String{validators.WindowsPath()},
			},
			"config_file_path": schema.StringAttribute{
				Computed: true, MarkdownDescription: "Path of the config file, found from the FIMService `ImagePath`.",
				PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"version": schema.StringAttribute{
				Computed: true, MarkdownDescription: "Product version of the installed MIM Service.",
				PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"fim_service_state":            schema.StringAttribute{Computed: true, MarkdownDescription: "State of the `FIMService` Windows service (MIM Service)." + serviceRunningDoc},
			"pam_monitoring_service_state": schema.StringAttribute{Computed: true, MarkdownDescription: "State of `PamMonitoringService` (PAM Monitoring service), `Absent` without PAM components." + serviceRunningDoc},
			"pam_component_service_state":  schema.StringAttribute{Computed: true, MarkdownDescription: "State of `PrivilegeManagementComponentService` (PAM Component service), `Absent` without PAM components." + serviceRunningDoc},
			"fim_service_started_at": schema.StringAttribute{
				Computed: true,
				MarkdownDescription: "When `FIMService` last started, in UTC (RFC 3339 with milliseconds: the creation time of the service's process, " +
					"read with the rest of the node). Null while the service is not running. When it is earlier than the moment the SQL Server instance " +
					"last came online (`started_at` of `bastion_sql_failover_cluster_instance`), the MIM Service may hold connections from before a " +
					"failover, restart or restore: the plan warns, and `bastion_topology` reports it under rule HA-8.",
			},
			"restart_triggers": schema.MapAttribute{
				ElementType: types.StringType, Optional: true,
				MarkdownDescription: "Arbitrary values; when any of them changes, apply restarts `FIMService` and then the PAM Monitoring and PAM Component " +
					"services in place (nothing is reinstalled). Microsoft's *High availability and disaster recovery considerations for the bastion environment* " +
					"(SQL Server, Recovery) recommends restarting each MIM Service after SQL Server has been restored, so that it re-establishes its connection: set e.g. `{ sql_started_at = bastion_sql_failover_cluster_instance.mim.started_at }` so a " +
					"failover or restore of the instance restarts every node at the next apply. Setting the map where there was none (after an import) " +
					"records it without a restart.",
				Validators: []validator.Map{mapvalidator.KeysAre(stringvalidator.LengthAtLeast(1))},
			},
			"timeouts": timeouts.Attributes(ctx, timeouts.Opts{Create: true, Read: true, Update: true, Delete: true}),
		},
	}
}

const (
	defaultCreateTimeout = 60 * time.Minute
	defaultReadTimeout   = 5 * time.Minute
	defaultUpdateTimeout = 20 * time.Minute
	defaultDeleteTimeout = 30 * time.Minute
)

func (r *mimServiceNodeResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var plan, config mimServiceNodeResourceModel
	if !load(ctx, &resp.Diagnostics, from(req.Plan, &plan), from(req.Config, &config)) {
		return
	}
	password := config.ServiceAccountPasswordWO.ValueString()
	ctx, cancel, ok := r.data.operation(ctx, plan.Timeouts.Create, defaultCreateTimeout, &resp.Diagnostics, password)
	if !ok {
		return
	}
	defer cancel()
	host := plan.Host.ValueString()
	if r.data.refuseLost(path.Root("host"), host, "A new node cannot be built on it: choose another host, or remove it from lost_hosts if it is back.", &resp.Diagnostics) {
		return
	}
	// The plan may not have known the host; the rule is checked again before installing.
	if r.checkNotDC(ctx, host, true, &resp.Diagnostics); resp.Diagnostics.HasError() {
		return
	}

	node, err := mim.Read(ctx, r.data.winrm, host)
	if err != nil {
		report(&resp.Diagnostics, failure{"MIM Service Node Not Created", host, viaWinRM, "reading the server before installing"}, err)
		return
	}
	if node.Installed {
		alreadyExists(&resp.Diagnostics, path.Root("host"), "MIM Service Already Installed",
			fmt.Sprintf("%s already runs the MIM Service (config file %s)", host, node.ConfigPath), "bastion_mim_service_node", host)
		return
	}
	spec := mim.InstallSpec{
		InstallerPath:          plan.InstallerPath.ValueString(),
		ServiceAccount:         plan.ServiceAccount.ValueString(),
		ServiceAccountPassword: password,
		ServiceAccountEmail:    plan.ServiceAccountEmail.ValueString(),
		SQLServer:              plan.SQLServer.ValueString(),
		SQLDatabase:            plan.SQLDatabase.ValueString(),
		MailServer:             plan.MailServer.ValueString(),
		ExternalHostName:       plan.ExternalHostName.ValueString(),
		PAMComponents:          plan.PAMComponents.ValueBool(),
	}
	progress := func(msg string, fields map[string]any) { tflog.Info(ctx, msg, fields) }
	installed, err := mim.Install(ctx, r.data.winrm, host, spec, progress)
	if err != nil {
		report(&resp.Diagnostics, failure{"MIM Service Not Installed", host, viaWinRM, "running the MIM Service and Portal installer"}, err)
		// The MSI may have got part of the way: record whatever is there so the state says so.
		r.saveAfterFailure(ctx, host, req.Plan, &plan, resp)
		return
	}
	node, failed, err := r.converge(ctx, host, configuredNames(&plan), nil, false)
	if err != nil {
		report(&resp.Diagnostics, failure{failed.summary, host, viaWinRM, failed.doing + " after the install (the MIM Service is installed; the resource is saved as tainted, so the next apply replaces it)"}, err)
		r.saveAfterFailure(ctx, host, req.Plan, &plan, resp)
		return
	}
	if installed.RebootRequired {
		resp.Diagnostics.AddWarning("Restart Required",
			fmt.Sprintf("The MIM Service and Portal installer on %s ended with exit code 3010: the MIM Service is installed, configured and running, and Windows "+
				"replaces the files that were in use at the next restart. The provider never restarts a MIM Service node itself; restart %s in a maintenance window "+
				"while another node serves requests.", host, host))
	}
	r.fromNode(node, &plan)
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

// saveAfterFailure stores what the server holds after a failed create, so a
// half-built node is in state (Terraform marks it tainted) instead of lost.
func (r *mimServiceNodeResource) saveAfterFailure(ctx context.Context, host string, req tfsdk.Plan, plan *mimServiceNodeResourceModel, resp *resource.CreateResponse) {
	node, err := mim.Read(ctx, r.data.winrm, host)
	if err != nil {
		// Whether the installer left anything is unknown: keep the plan.
		keepPlannedWarning(&resp.Diagnostics, "MIM Service Node Saved Unread", fmt.Sprintf("The provider could not read %s after the failure.", host))
		resp.Diagnostics.Append(keepPlanned(req, &resp.State)...)
		return
	}
	if !node.Installed {
		return
	}
	r.fromNode(node, plan)
	resp.Diagnostics.Append(resp.State.Set(ctx, plan)...)
}

// convergeStep says which step of converge failed, for the diagnostic.
type convergeStep struct{ summary, doing string }

// converge brings an installed node to the plan: it writes the names in want
// that differ from the file (empty ones are left alone; FIMService restarts to
// read them), gives FIMService a new logon password when rotate is set,
// restarts the MIM and PAM services when restart is set, and starts any
// stopped service. It reads the node once, and again only after a step
// changed it, so a no-op costs one script run.
func (r *mimServiceNodeResource) converge(ctx context.Context, host string, want mim.Names, rotate *credential, restart bool) (*mim.Node, convergeStep, error) {
	read := func() (*mim.Node, convergeStep, error) {
		node, err := mim.Read(ctx, r.data.winrm, host)
		if err == nil && !node.Installed {
			err = fmt.Errorf("%w: the MIM Service is no longer installed on %s", transport.ErrNotFound, host)
		}
		return node, convergeStep{"MIM Service Node Not Read", "reading the config file and services"}, err
	}
	node, step, err := read()
	if err != nil {
		return nil, step, err
	}
	changed := false
	if want != (mim.Names{}) {
		wrote, err := mim.WriteNames(ctx, r.data.winrm, host, node, want, true)
		if err != nil {
			return nil, convergeStep{"MIM Service Names Not Set", "writing external_host_name, service_name and service_partition_name into the config file"}, err
		}
		changed = wrote
	}
	if rotate != nil {
		if err := mim.SetServiceAccountPassword(ctx, r.data.winrm, host, rotate.Username, rotate.Password); err != nil {
			return nil, convergeStep{"MIM Service Password Not Changed", "giving FIMService the new service account password"}, err
		}
		changed = true
	}
	if restart {
		var names []string
		for _, name := range []string{mim.ServiceFIM, mim.ServicePAMMonitoring, mim.ServicePAMComponent} {
			if _, ok := node.Services[name]; ok {
				names = append(names, name)
			}
		}
		if _, err := mim.ControlServices(ctx, r.data.winrm, host, "restart", names...); err != nil {
			return nil, convergeStep{"MIM Services Not Restarted", "restarting " + strings.Join(names, ", ") + " because restart_triggers changed"}, err
		}
		changed = true
	}
	if changed {
		if node, step, err = read(); err != nil {
			return nil, step, err
		}
	}
	var stopped []string
	for _, name := range []string{mim.ServiceFIM, mim.ServicePAMMonitoring, mim.ServicePAMComponent} {
		if s, ok := node.Services[name]; ok && s.Status != "Running" {
			stopped = append(stopped, name)
		}
	}
	if len(stopped) == 0 {
		return node, convergeStep{}, nil
	}
	if _, err := mim.ControlServices(ctx, r.data.winrm, host, "start", stopped...); err != nil {
		return nil, convergeStep{"MIM Services Not Started", "starting the stopped services " + strings.Join(stopped, ", ")}, err
	}
	return read()
}

func (r *mimServiceNodeResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var state mimServiceNodeResourceModel
	if !load(ctx, &resp.Diagnostics, from(req.State, &state)) {
		return
	}
	ctx, cancel, ok := r.data.operation(ctx, state.Timeouts.Read, defaultReadTimeout, &resp.Diagnostics)
	if !ok {
		return
	}
	defer cancel()
	host := state.Host.ValueString()
	if host == "" {
		host = state.ID.ValueString()
	}
	if r.data.skipLost(host, "MIM Service Node Dropped From State", fmt.Sprintf("Its MIM Service node (service name %q, partition name %q) is removed from the state without contacting it; "+
		"to recover, give the resource a new host with the same service_name and service_partition_name.", state.ServiceName.ValueString(), state.ServicePartitionName.ValueString()), &resp.Diagnostics) {
		resp.State.RemoveResource(ctx)
		return
	}
	node, err := mim.Read(ctx, r.data.winrm, host)
	if err != nil {
		// An unreachable host is an outage, not a deletion: keep the state and say so.
		report(&resp.Diagnostics, failure{"MIM Service Node Not Read", host, viaWinRM, "refreshing the node (the state is kept unchanged)"}, err)
		return
	}
	if !node.Installed {
		resp.Diagnostics.AddWarning("MIM Service Not Installed",
			fmt.Sprintf("%s no longer has the MIM Service installed (no FIMService service). It is removed from the state; the next plan recreates it.", host))
		resp.State.RemoveResource(ctx)
		return
	}
	state.Host = types.StringValue(host)
	r.fromNode(node, &state)
	resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
}

func (r *mimServiceNodeResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan, state, config mimServiceNodeResourceModel
	if !load(ctx, &resp.Diagnostics, from(req.Plan, &plan), from(req.State, &state), from(req.Config, &config)) {
		return
	}
	password := config.ServiceAccountPasswordWO.ValueString()
	ctx, cancel, ok := r.data.operation(ctx, plan.Timeouts.Update, defaultUpdateTimeout, &resp.Diagnostics, password)
	if !ok {
		return
	}
	defer cancel()
	host := plan.Host.ValueString()

	var rotate *credential
	if !plan.ServiceAccountPasswordWOVersion.Equal(state.ServiceAccountPasswordWOVersion) && !plan.ServiceAccountPasswordWOVersion.IsNull() {
		rotate = &credential{Username: plan.ServiceAccount.ValueString(), Password: password}
	}
	node, failed, err := r.converge(ctx, host, changedNames(&plan, &state), rotate, restartRequested(&plan, &state))
	if err != nil {
		report(&resp.Diagnostics, failure{failed.summary, host, viaWinRM, failed.doing}, err)
		return
	}
	r.fromNode(node, &plan)
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

func (r *mimServiceNodeResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var state mimServiceNodeResourceModel
	if !load(ctx, &resp.Diagnostics, from(req.State, &state)) {
		return
	}
	ctx, cancel, ok := r.data.operation(ctx, state.Timeouts.Delete, defaultDeleteTimeout, &resp.Diagnostics)
	if !ok {
		return
	}
	defer cancel()
	host := state.Host.ValueString()
	if r.data.skipLost(host, "MIM Service Node Not Uninstalled", "Nothing was uninstalled; the node is removed from the state.", &resp.Diagnostics) {
		return
	}
	if _, err := mim.Uninstall(ctx, r.data.winrm, host); err != nil {
		report(&resp.Diagnostics, failure{"MIM Service Not Uninstalled", host, viaWinRM, "uninstalling the MIM Service and Portal"}, err)
	}
}

func (r *mimServiceNodeResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	importByID(ctx, req, resp, validators.CheckFQDN, "the node's host FQDN, e.g. priv-app1.priv.contoso.com", "host")
}
