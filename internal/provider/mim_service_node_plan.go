package provider

import (
	"context"
	"fmt"
	"time"

	"github.com/bastion-pam/terraform-provider-bastion/internal/adnames"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"
)

// Plan-time logic of bastion_mim_service_node: validators and ModifyPlan
// (rule HA-3: the node is not a domain controller).

func (r *mimServiceNodeResource) ConfigValidators(context.Context) []resource.ConfigValidator {
	return []resource.ConfigValidator{notAliasValidator}
}

// notAliasValidator: a node is addressed by its own FQDN, never by the
// load-balancer alias, which lands on a random node.
var notAliasValidator = configRule{"host must differ from external_host_name", checkNotAlias}

func checkNotAlias(ctx context.Context, req resource.ValidateConfigRequest, resp *resource.ValidateConfigResponse) {
	var host, alias types.String
	resp.Diagnostics.Append(req.Config.GetAttribute(ctx, path.Root("host"), &host)...)
	resp.Diagnostics.Append(req.Config.GetAttribute(ctx, path.Root("external_host_name"), &alias)...)
	if !known(host) || !known(alias) {
		return
	}
	if adnames.HostKey(host.ValueString()) == adnames.HostKey(alias.ValueString()) {
		resp.Diagnostics.AddAttributeError(path.Root("host"), "Node Addressed By Its Alias",
			fmt.Sprintf("host and external_host_name are both %q. host must be the server's own FQDN: the alias is shared by every MIM node behind the load balancer, so calls to it land on a random node.", host.ValueString()))
	}
}

// ModifyPlan asks the directory whether a new node's host is a domain
// controller (rule HA-4), and keeps the services running: a service found
// stopped is drift that the plan brings back to Running.
func (r *mimServiceNodeResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	if req.Plan.Raw.IsNull() {
		if !req.State.Raw.IsNull() && r.data != nil {
			// The SQL instance's guard lets it go when its MIM nodes go first in this plan.
			var sqlServer caseInsensitiveString
			resp.Diagnostics.Append(req.State.GetAttribute(ctx, path.Root("sql_server"), &sqlServer)...)
			r.data.planned.add("mim_service_node_sql", adnames.HostKey(sqlServer.ValueString()))
		}
		return
	}
	var plan mimServiceNodeResourceModel
	if !load(ctx, &resp.Diagnostics, from(req.Plan, &plan)) {
		return
	}
	if req.State.Raw.IsNull() {
		requireAttributes(&resp.Diagnostics, "bastion_mim_service_node", neededAttribute{"installer_path", plan.InstallerPath, "to install the MIM Service"})
		// Only a new node costs a directory lookup; an unknown host is checked at apply.
		if known(plan.Host) && r.data != nil {
			r.checkNotDC(r.data.logCtx(ctx), plan.Host.ValueString(), false, &resp.Diagnostics)
		}
		return
	}
	var state mimServiceNodeResourceModel
	if !load(ctx, &resp.Diagnostics, from(req.State, &state)) {
		return
	}
	for _, p := range []struct {
		at    path.Path
		value types.String
	}{
		{path.Root("fim_service_state"), state.FIMServiceState},
		{path.Root("pam_monitoring_service_state"), state.PAMMonitoringServiceState},
		{path.Root("pam_component_service_state"), state.PAMComponentServiceState},
	} {
		want := p.value
		if known(p.value) && p.value.ValueString() != "Absent" {
			want = types.StringValue("Running")
		}
		resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, p.at, want)...)
	}
	r.warnStaleService(ctx, &plan, &state, &resp.Diagnostics)
}

// warnStaleService warns when FIMService has been running since before its
// SQL Server instance last came online (a failover, restart or restore) and
// the plan does not restart it. It asks the instance through the provider's
// sql settings, once per walk for every node; when they name another server,
// or the instance does not answer, nothing is said at plan (the refresh of
// bastion_sql_failover_cluster_instance reports an unreachable instance).
func (r *mimServiceNodeResource) warnStaleService(ctx context.Context, plan, state *mimServiceNodeResourceModel, diags *diag.Diagnostics) {
	if r.data == nil || r.data.sql == nil || !known(state.FIMServiceStartedAt) || restartRequested(plan, state) ||
		!adnames.SameHost(r.data.sql.Server(), state.SQLServer.ValueString()) {
		return
	}
	fimStarted, err := time.Parse(time.RFC3339Nano, state.FIMServiceStartedAt.ValueString())
	if err != nil {
		return
	}
	sqlStarted, err := r.data.sqlStart.get(func() (time.Time, error) { return r.data.sql.StartTime(r.data.logCtx(ctx)) })
	if err != nil {
		tflog.Warn(ctx, "could not read when the SQL Server instance last came online", map[string]any{"server": r.data.sql.Server(), "error": err.Error()})
		return
	}
	if !fimStarted.Before(sqlStarted) {
		return
	}
	host := state.Host.ValueString()
	diags.AddAttributeWarning(path.Root("restart_triggers"), "MIM Service Started Before Its SQL Server Instance",
		fmt.Sprintf("FIMService on %s has been running since %s, but the SQL Server instance %s came online at %s (a failover, a restart or a restore): "+
			"the MIM Service may still hold connections from before. Microsoft's \"High availability and disaster recovery considerations for the bastion environment\" (SQL Server, Recovery): "+
			"\"after SQL Server has been restored, it is recommended to restart each MIM Service. This will ensure that MIM Service re-establishes its connection to SQL Server.\" Change restart_triggers (for example to the started_at of bastion_sql_failover_cluster_instance) "+
			"and apply to restart FIMService and the PAM services on %s in place.",
			host, fimStarted.UTC().Format(startTimeLayout), state.SQLServer.ValueString(), sqlStarted.UTC().Format(startTimeLayout), host))
}

// checkNotDC enforces rule HA-4: the MIM Service must not be installed on a
// domain controller, to keep each server's attack surface small.
func (r *mimServiceNodeResource) checkNotDC(ctx context.Context, host string, atApply bool, diags *diag.Diagnostics) {
	if dcs := r.data.domainControllersAmong(ctx, []string{host}, mimNotOnDC, atApply, diags); len(dcs) > 0 {
		diags.AddAttributeError(path.Root("host"), "HA Rule HA-4 Violated",
			fmt.Sprintf("%s is a domain controller of the PRIV domain. Rule HA-4 (HA and DR guide, \"Minimal high availability topologies\"): the MIM Service should not be installed on a domain controller, to minimize the attack surface of each server. Choose a member server for host.", host))
	}
}

var mimNotOnDC = notOnDC{"HA-4", path.Root("host"), "the MIM Service must not be installed on one",
	"Nothing was installed.", "The check runs again before anything is installed."}
