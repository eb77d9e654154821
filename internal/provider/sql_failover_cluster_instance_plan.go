package provider

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/bastion-pam/terraform-provider-bastion/internal/adnames"
	"github.com/bastion-pam/terraform-provider-bastion/internal/fci"
	"github.com/bastion-pam/terraform-provider-bastion/internal/topology"
	"github.com/bastion-pam/terraform-provider-bastion/internal/transport"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

// Plan-time logic of bastion_sql_failover_cluster_instance: cross-attribute
// validators, ModifyPlan (rule HA-3, shared storage, node checks, the
// demolition guard) and the plan modifier for install-time settings.

// fciImportedKey marks, in private state, an instance brought in by import
// whose install-time settings are not yet recorded.
const fciImportedKey = "imported"

func (r *sqlFailoverClusterInstanceResource) ConfigValidators(context.Context) []resource.ConfigValidator {
	return []resource.ConfigValidator{
		fciNetworkNameNotNode,
		fciServicePassword("sql_service_account", "sql_service_password_wo", "SQLSVCPASSWORD"),
		fciServicePassword("agent_service_account", "agent_service_password_wo", "AGTSVCPASSWORD"),
	}
}

// ValidateConfig checks what setup requires of the features: the database engine.
func (r *sqlFailoverClusterInstanceResource) ValidateConfig(ctx context.Context, req resource.ValidateConfigRequest, resp *resource.ValidateConfigResponse) {
	var features types.Set
	resp.Diagnostics.Append(req.Config.GetAttribute(ctx, path.Root("features"), &features)...)
	if features.IsNull() || features.IsUnknown() {
		return
	}
	var names []string
	for _, el := range features.Elements() {
		s, ok := el.(types.String)
		if !ok || s.IsUnknown() {
			return
		}
		names = append(names, s.ValueString())
		if strings.EqualFold(s.ValueString(), "SQLENGINE") || strings.EqualFold(s.ValueString(), "SQL") {
			return
		}
	}
	resp.Diagnostics.AddAttributeError(path.Root("features"), "Database Engine Not In Features",
		fmt.Sprintf("features is [%s], without SQLENGINE. Rule: a SQL Server failover cluster instance is a clustered database engine, so setup's FEATURES must include SQLENGINE (or SQL); features cannot be added to an FCI later.",
			strings.Join(names, ", ")))
}

// fciNetworkNameNotNode: the network name is the instance's own computer
// name in the domain, so it cannot be one of its nodes' names.
var fciNetworkNameNotNode = configRule{"network_name must differ from every node's name", checkFCINetworkNameNotNode}

func checkFCINetworkNameNotNode(ctx context.Context, req resource.ValidateConfigRequest, resp *resource.ValidateConfigResponse) {
	var network types.String
	var nodes types.List
	resp.Diagnostics.Append(req.Config.GetAttribute(ctx, path.Root("network_name"), &network)...)
	resp.Diagnostics.Append(req.Config.GetAttribute(ctx, path.Root("nodes"), &nodes)...)
	if !known(network) || nodes.IsNull() || nodes.IsUnknown() {
		return
	}
	for i, el := range nodes.Elements() {
		n, ok := el.(types.String)
		if !ok || !known(n) {
			continue
		}
		if adnames.SameHost(network.ValueString(), n.ValueString()) || strings.EqualFold(adnames.ShortName(network.ValueString()), adnames.ShortName(n.ValueString())) {
			resp.Diagnostics.AddAttributeError(path.Root("network_name"), "Network Name Is A Node",
				fmt.Sprintf("network_name is %q and nodes[%d] is %q. Rule: the network name is the instance's own computer name in the domain (a virtual "+
					"server that moves between nodes), so it must differ from every node's computer name; clients that used a node's name would "+
					"lose the instance at the first failover. Choose a name of its own, e.g. priv-sql.", network.ValueString(), i, n.ValueString()))
			return
		}
	}
}

// fciServicePassword: a domain account needs its password for setup; a
// (group) managed service account (name ending in $) has none. setting is
// setup's name for the password.
func fciServicePassword(account, password, setting string) configRule {
	return configRule{password + " is required unless " + account + " is a managed service account (ending in $), and refused when it is",
		func(ctx context.Context, req resource.ValidateConfigRequest, resp *resource.ValidateConfigResponse) {
			var acct, pw types.String
			resp.Diagnostics.Append(req.Config.GetAttribute(ctx, path.Root(account), &acct)...)
			resp.Diagnostics.Append(req.Config.GetAttribute(ctx, path.Root(password), &pw)...)
			if !known(acct) || pw.IsUnknown() {
				return
			}
			gmsa := fci.IsManagedServiceAccount(acct.ValueString())
			switch {
			case !gmsa && pw.IsNull():
				resp.Diagnostics.AddAttributeError(path.Root(password), "Service Account Password Missing",
					fmt.Sprintf("%s is %q, a domain account (its name does not end in $), so setup needs its password as %s: set %s. "+
						"Rule: SQL Server setup takes a password for a domain service account and none for a (group) managed service account. "+
						"To run without a password, use a gMSA such as PRIV\\gmsa-sql$.", account, acct.ValueString(), setting, password))
			case gmsa && !pw.IsNull():
				resp.Diagnostics.AddAttributeError(path.Root(password), "Password Given For A Managed Service Account",
					fmt.Sprintf("%s is %q, a (group) managed service account (its name ends in $): Windows manages its password and setup takes none. "+
						"Remove %s.", account, acct.ValueString(), password))
			}
		}}
}

// ModifyPlan fills in the cluster group's default name, keeps is_clustered
// true (a stand-alone instance found by a refresh is replaced), checks that
// the provider reads SQL Server through this network name, and asks the
// directory whether a node about to run setup is a domain controller (rule
// HA-3). Only nodes that are new cost a directory lookup.
func (r *sqlFailoverClusterInstanceResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	if r.data != nil {
		r.guardDemolition(ctx, req, resp)
	}
	if req.Plan.Raw.IsNull() && !req.State.Raw.IsNull() {
		// Taking an imported instance down runs setup's RemoveNode on its
		// nodes; said beside the guard's refusal, so one plan shows both.
		var media types.String
		resp.Diagnostics.Append(req.State.GetAttribute(ctx, path.Root("setup_media_path"), &media)...)
		requireAttributes(&resp.Diagnostics, fciType, neededAttribute{"setup_media_path", media, "in the state (set it and apply first) to run SQL Server setup's RemoveNode"})
	}
	if req.Plan.Raw.IsNull() || r.data == nil || resp.Diagnostics.HasError() {
		return
	}
	var plan sqlFailoverClusterInstanceResourceModel
	if !load(ctx, &resp.Diagnostics, from(req.Plan, &plan)) {
		return
	}
	var state *sqlFailoverClusterInstanceResourceModel
	if !req.State.Raw.IsNull() {
		state = &sqlFailoverClusterInstanceResourceModel{}
		resp.Diagnostics.Append(req.State.Get(ctx, state)...)
		if resp.Diagnostics.HasError() {
			return
		}
	}
	r.requireForSetup(&plan, state, &resp.Diagnostics)
	// features: the default when creating; what import could not read stays null.
	var features types.Set
	if resp.Diagnostics.Append(req.Config.GetAttribute(ctx, path.Root("features"), &features)...); features.IsNull() {
		v := fciDefaultFeatures
		if state != nil {
			v = state.Features
		}
		resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root("features"), v)...)
	}
	if plan.ClusterGroupName.IsUnknown() && known(plan.InstanceName) {
		resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root("cluster_group_name"), fci.DefaultGroup(plan.InstanceName.ValueString()))...)
	}
	resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root("is_clustered"), true)...)
	if state != nil && !state.IsClustered.IsNull() && !state.IsClustered.IsUnknown() && !state.IsClustered.ValueBool() {
		resp.RequiresReplace = append(resp.RequiresReplace, path.Root("is_clustered"))
	}
	r.checkSQLClient(plan.NetworkName, &resp.Diagnostics)

	if plan.Nodes.IsUnknown() || plan.Nodes.IsNull() {
		return // checked at apply, before any setup run
	}
	var all, fresh []string
	var have []string
	if state != nil {
		have = stringsOf(state.Nodes, &resp.Diagnostics)
	}
	for _, el := range plan.Nodes.Elements() {
		s, ok := el.(types.String)
		if !ok || !known(s) {
			continue // unknown until apply: checked then
		}
		all = append(all, s.ValueString())
		if !fciContains(have, s.ValueString()) {
			fresh = append(fresh, s.ValueString())
		}
	}
	r.checkNodesNotDCs(r.data.logCtx(ctx), all, fresh, false, &resp.Diagnostics)
}

const fciType = "bastion_sql_failover_cluster_instance"

// refuseExisting is the check before setup's first run: an instance that
// already answers on the network name is imported, not installed again.
func (r *sqlFailoverClusterInstanceResource) refuseExisting(ctx context.Context, network string, diags *diag.Diagnostics) bool {
	fc, err := r.readCluster(ctx)
	if errors.Is(err, transport.ErrUnreachable) && !errors.Is(err, transport.ErrCertificate) {
		return false // nothing answers there: setup may install it
	}
	if err != nil {
		// Something answers but could not be read (a refused login, a
		// certificate): it may be an instance, so setup does not run.
		report(diags, failure{"SQL Server Failover Cluster Instance Not Checked", network, viaSQL,
			"checking that no instance answers on the network name before setup (something answers there, so setup was not run)"}, err)
		return true
	}
	var nodes []string
	for _, v := range fci.NodeViews(network, nil, fc) {
		nodes = append(nodes, v.Host)
	}
	alreadyExists(diags, path.Root("network_name"), "SQL Server Failover Cluster Instance Already Exists",
		fmt.Sprintf("SQL Server instance %s (version %s) already answers on %s, with the nodes %s", fc.Server.InstanceName, fc.Server.ProductVersion, network, strings.Join(nodes, ", ")),
		fciType, adnames.HostKey(network))
	return true
}

// absentOnImport: the first refresh after an import (no nodes read yet)
// that finds nothing answering on the network name imports nothing.
func (r *sqlFailoverClusterInstanceResource) absentOnImport(ctx context.Context, state *sqlFailoverClusterInstanceResourceModel, err error, resp *resource.ReadResponse) bool {
	if !state.Nodes.IsNull() || !errors.Is(err, transport.ErrUnreachable) {
		return false
	}
	warnAt(&resp.Diagnostics, path.Empty(), failure{"SQL Server Failover Cluster Instance Not Found", state.NetworkName.ValueString(), viaSQL, "reading the instance to import it"},
		"Nothing answers on the network name, so there is nothing to import. If the instance exists but its cluster role is offline, bring it online (Get-ClusterGroup) and import again.", err)
	resp.State.RemoveResource(ctx)
	return true
}

// fciDefaultFeatures are setup's features when the configuration sets none:
// the MIM Service database needs Full-Text Search.
var fciDefaultFeatures = types.SetValueMust(types.StringType, []attr.Value{types.StringValue("SQLENGINE"), types.StringValue("FULLTEXT")})

// requireForSetup: what setup needs and an import cannot read back is
// required when setup will run, to install (create) or to add and remove
// nodes.
func (r *sqlFailoverClusterInstanceResource) requireForSetup(plan, state *sqlFailoverClusterInstanceResourceModel, diags *diag.Diagnostics) {
	const typ = fciType
	media := neededAttribute{"setup_media_path", plan.SetupMediaPath, "to run SQL Server setup"}
	if state == nil {
		install := "for SQL Server setup's InstallFailoverCluster"
		requireAttributes(diags, typ, media,
			neededAttribute{"data_directory", plan.DataDirectory, install},
			neededAttribute{"sysadmin_accounts", plan.SysadminAccounts, install},
			neededAttribute{"sql_service_account", plan.SQLServiceAccount, install},
			neededAttribute{"agent_service_account", plan.AgentServiceAccount, install})
		return
	}
	if known(plan.Nodes) && !plan.Nodes.Equal(state.Nodes) {
		requireAttributes(diags, typ, media)
	}
}

// reaches is checkSQLClient of network, the check before a CRUD method's
// first call.
func (r *sqlFailoverClusterInstanceResource) reaches(network types.String) func(*diag.Diagnostics) bool {
	return func(diags *diag.Diagnostics) bool { return r.checkSQLClient(network, diags) }
}

// checkSQLClient reports whether the provider's SQL Server adapter reaches
// the instance through network (unknown: not checked yet).
func (r *sqlFailoverClusterInstanceResource) checkSQLClient(network types.String, diags *diag.Diagnostics) bool {
	if r.data.sql == nil {
		diags.AddAttributeError(path.Root("network_name"), "SQL Server Not Configured",
			fmt.Sprintf("bastion_sql_failover_cluster_instance reads the instance over TDS through its network name, but the provider has no sql settings. "+
				"Set sql.server (or BASTION_SQL_SERVER) to %q and give a login that is sysadmin on the instance (list its account in sysadmin_accounts).", network.ValueString()))
		return false
	}
	if known(network) && !adnames.SameHost(r.data.sql.Server(), network.ValueString()) {
		diags.AddAttributeError(path.Root("network_name"), "SQL Server Connection Not Through The Network Name",
			fmt.Sprintf("The provider's sql.server is %q but network_name is %q. The provider reads an FCI only through its own network name (a node's "+
				"name, or another instance's, would answer for something else): set sql.server to %q.", r.data.sql.Server(), network.ValueString(), network.ValueString()))
		return false
	}
	return true
}

// checkNodesUsable is the apply-time guard before setup runs on fresh
// nodes: none declared lost, none a domain controller.
func (r *sqlFailoverClusterInstanceResource) checkNodesUsable(ctx context.Context, all, fresh []string, diags *diag.Diagnostics) bool {
	for _, host := range fresh {
		r.data.refuseLost(path.Root("nodes"), host, "SQL Server setup cannot run on it: choose another server, or remove it from lost_hosts if it is back.", diags)
	}
	if diags.HasError() {
		return false
	}
	r.checkNodesNotDCs(ctx, all, fresh, true, diags)
	return !diags.HasError()
}

// checkNodesNotDCs enforces the domain controller half of rule HA-3 on the
// nodes in fresh (all gives the rule its context); at apply an error stops
// the apply before any setup run.
func (r *sqlFailoverClusterInstanceResource) checkNodesNotDCs(ctx context.Context, all, fresh []string, atApply bool, diags *diag.Diagnostics) {
	if len(fresh) == 0 {
		return
	}
	dcs := r.data.domainControllersAmong(ctx, fresh, fciNotOnDC, atApply, diags)
	if len(dcs) == 0 {
		return
	}
	// The rule's own words; CheckFCINodes lists the node count first when it fails too.
	rule := fciLastError(topology.CheckFCINodes(all, dcs))
	at := path.Root("nodes")
	for i, h := range all {
		if adnames.SameHost(h, dcs[0]) {
			at = at.AtListIndex(i)
			break
		}
	}
	diags.AddAttributeError(at, "HA Rule HA-3 Violated",
		fmt.Sprintf("nodes includes %s, a domain controller of the PRIV domain (asked of the directory). %v.", strings.Join(dcs, " and "), rule))
}

var fciNotOnDC = notOnDC{"HA-3", path.Root("nodes"), "a SQL Server failover cluster node cannot be one",
	"Setup was not run.", "The check runs again before setup runs."}

// fciLastError returns the last of a joined error's errors.
func fciLastError(err error) error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		if errs := j.Unwrap(); len(errs) > 0 {
			return errs[len(errs)-1]
		}
	}
	return err
}

// checkNodesMatch reports nodes setup did not leave as the plan wants.
func (r *sqlFailoverClusterInstanceResource) checkNodesMatch(ctx context.Context, m *sqlFailoverClusterInstanceResourceModel, want []string, diags *diag.Diagnostics) {
	got := stringsOf(m.Nodes, diags)
	added, removed := fci.NodeChanges(got, want)
	if len(added) > 0 || len(removed) > 0 {
		diags.AddAttributeError(path.Root("nodes"), "Failover Cluster Nodes Differ After Setup",
			fmt.Sprintf("Setup reported success, but %s now lists the nodes [%s] (missing: [%s]; not expected: [%s]). Check the cluster (Get-ClusterOwnerNode) and setup's Summary.txt on the nodes.",
				m.NetworkName.ValueString(), strings.Join(got, ", "), strings.Join(added, ", "), strings.Join(removed, ", ")))
	}
}

// fciReplaceUnlessImported requires replacement when an install-time
// setting changes, except on the first apply after an import, which only
// records the configuration's value (the setting cannot be read over TDS).
type fciReplaceUnlessImported struct{}

func (fciReplaceUnlessImported) Description(context.Context) string {
	return "Changing this rebuilds the instance, except on the first apply after an import."
}

func (m fciReplaceUnlessImported) MarkdownDescription(ctx context.Context) string {
	return m.Description(ctx)
}

func (fciReplaceUnlessImported) replace(ctx context.Context, state, plan attr.Value, private interface {
	GetKey(context.Context, string) ([]byte, diag.Diagnostics)
}) bool {
	if state == nil || plan == nil || plan.IsUnknown() || state.Equal(plan) {
		return false
	}
	if private != nil {
		if v, _ := private.GetKey(ctx, fciImportedKey); len(v) > 0 {
			return false
		}
	}
	return true
}

func (m fciReplaceUnlessImported) PlanModifyString(ctx context.Context, req planmodifier.StringRequest, resp *planmodifier.StringResponse) {
	if req.State.Raw.IsNull() || req.Plan.Raw.IsNull() {
		return
	}
	resp.RequiresReplace = m.replace(ctx, req.StateValue, req.PlanValue, req.Private)
}

func (m fciReplaceUnlessImported) PlanModifySet(ctx context.Context, req planmodifier.SetRequest, resp *planmodifier.SetResponse) {
	if req.State.Raw.IsNull() || req.Plan.Raw.IsNull() {
		return
	}
	resp.RequiresReplace = m.replace(ctx, req.StateValue, req.PlanValue, req.Private)
}

func (m fciReplaceUnlessImported) PlanModifyList(ctx context.Context, req planmodifier.ListRequest, resp *planmodifier.ListResponse) {
	if req.State.Raw.IsNull() || req.Plan.Raw.IsNull() {
		return
	}
	resp.RequiresReplace = m.replace(ctx, req.StateValue, req.PlanValue, req.Private)
}

// fciObject identifies an instance in private state (see demolition).
type fciObject struct {
	NetworkName string `json:"network_name"`
}

// fciMIMDatabase is the MIM Service database's name as the MIM Service and
// Portal setup creates it by default (SQLSERVER_DATABASE).
const fciMIMDatabase = "FIMService"

// guardDemolition refuses, at plan, to take down the instance the MIM Service
// runs on, whatever takes it down (destroy, replacement, -replace, a tainted
// instance): the instance holds the MIM Service database (one TDS query, only
// on such plans), and no bastion_mim_service_node that points its sql_server
// at this network name is destroyed first in the same plan. The HA and DR
// guide lists SQL Server right after the DCs in the recovery order: without
// it no MIM Service node works.
func (r *sqlFailoverClusterInstanceResource) guardDemolition(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	old, kind, d := demolition(ctx, req, func(o *fciObject) diag.Diagnostics {
		var network types.String
		d := req.State.GetAttribute(ctx, path.Root("network_name"), &network)
		o.NetworkName = network.ValueString()
		return d
	})
	resp.Diagnostics.Append(d...)
	if kind == notDemolished || resp.Diagnostics.HasError() {
		return
	}
	if kind == createOrTainted {
		var network types.String
		resp.Diagnostics.Append(req.Plan.GetAttribute(ctx, path.Root("network_name"), &network)...)
		if !known(network) {
			return
		}
		old.NetworkName = network.ValueString()
	}
	network := old.NetworkName
	if r.data.planned.has("mim_service_node_sql", adnames.HostKey(network)) {
		return // the MIM Service nodes on it are destroyed first in this plan
	}
	if r.data.sql == nil || !adnames.SameHost(r.data.sql.Server(), network) {
		if kind != createOrTainted {
			resp.Diagnostics.AddWarning("SQL Server Instance Removal Not Checked",
				fmt.Sprintf("This plan would %s the failover cluster instance %s. The provider's sql.server does not point at it, so the provider could not check whether the MIM Service database lives there.", kind, network))
		}
		return
	}
	ctx = r.data.logCtx(ctx)
	if kind == createOrTainted {
		// A tainted instance is planned like a new one: only one that answers is taken down first.
		if fc, err := r.readCluster(ctx); err != nil || !fc.Server.IsClustered {
			return
		}
	}
	has, err := r.data.sql.DatabaseExists(ctx, fciMIMDatabase)
	if err != nil {
		warnAt(&resp.Diagnostics, path.Empty(), failure{"SQL Server Instance Removal Not Checked", network, viaSQL,
			fmt.Sprintf("asking the instance whether it holds the MIM Service database (%s), which this plan would %s", fciMIMDatabase, kind)},
			"So that was not checked.", err)
		return
	}
	tainted := ""
	if kind == createOrTainted {
		tainted = fmt.Sprintf(" If this bastion_sql_failover_cluster_instance is new, the instance already exists: bring it under Terraform with this import block "+
			"instead of creating it:\n\n%s\n\nIf the resource is tainted and the instance is healthy, run `terraform untaint` on it.", importBlockFor(fciType, adnames.HostKey(network)))
		if !has {
			resp.Diagnostics.AddWarning("SQL Server Failover Cluster Instance Already Answers", "An instance already answers on "+network+". Apply replaces it only if this resource is tainted; "+
				"for a new resource, apply refuses to install it again."+tainted)
		}
	}
	if !has {
		return
	}
	resp.Diagnostics.AddError("SQL Server Instance Holds The MIM Service Database",
		fmt.Sprintf("This plan would %s the failover cluster instance %s, which holds the MIM Service database (%s): every MIM Service node points its sql_server at it, "+
			"and the HA and DR guide recovers SQL Server right after the domain controllers because no MIM Service works without it. "+
			"Destroy the bastion_mim_service_node resources that use %s first (or in the same plan, when their sql_server refers to this resource so that Terraform destroys them first), or move the database to another instance "+
			"and point the nodes' sql_server there. Nothing was run.%s", kind, network, fciMIMDatabase, network, tainted))
}
