package provider

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/bastion-pam/terraform-provider-bastion/internal/adnames"
	"github.com/bastion-pam/terraform-provider-bastion/internal/fci"
	"github.com/bastion-pam/terraform-provider-bastion/internal/sqlserver"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"
)

// Conversions between the bastion_sql_failover_cluster_instance model and
// the fci and sqlserver packages, and the setup run with its diagnostics.

// runSetup runs setup.exe /ACTION=action on host (sql_setup.ps1), every
// value as data; it reports a failure under summary and returns false.
func (r *sqlFailoverClusterInstanceResource) runSetup(ctx context.Context, host, media, action string, params map[string]any, summary string, diags *diag.Diagnostics) bool {
	out, err := fci.Setup(ctx, r.data.winrm, host, media, action, params)
	if err != nil {
		report(diags, failure{summary, host, viaWinRM, "running SQL Server setup /ACTION=" + action}, err)
		return false
	}
	// The script shows passwords as ********: the arguments are safe to log.
	tflog.Info(ctx, "SQL Server setup finished", map[string]any{"host": host, "action": action, "exit_code": out.ExitCode, "arguments": out.Arguments, "summary_log": out.SummaryLog})
	if out.RebootRequired {
		diags.AddWarning("Restart Required After SQL Server Setup",
			fmt.Sprintf("SQL Server setup /ACTION=%s on %s finished with exit code 3010: restart %s before the instance fails over to it (summary: %s).", action, host, host, out.SummaryLog))
	}
	return true
}

func (r *sqlFailoverClusterInstanceResource) readCluster(ctx context.Context) (sqlserver.FailoverCluster, error) {
	return r.data.sql.FailoverCluster(ctx)
}

// fromCluster copies a refresh into m; diags, when given, receive warnings
// about nodes that are not up.
func (r *sqlFailoverClusterInstanceResource) fromCluster(fc sqlserver.FailoverCluster, m *sqlFailoverClusterInstanceResourceModel, diags *diag.Diagnostics) {
	network := m.NetworkName.ValueString()
	m.ID = types.StringValue(adnames.HostKey(network))
	if !strings.EqualFold(m.InstanceName.ValueString(), fc.Server.InstanceName) {
		m.InstanceName = types.StringValue(fc.Server.InstanceName)
	}
	m.IsClustered = types.BoolValue(fc.Server.IsClustered)
	m.StartedAt = timeValue(fc.StartedAt)
	m.Version = types.StringValue(fc.Server.ProductVersion)
	if m.HA.IsNull() || m.HA.IsUnknown() {
		m.HA = types.BoolValue(true)
	}
	var prior []string
	if !m.Nodes.IsNull() && !m.Nodes.IsUnknown() {
		for _, el := range m.Nodes.Elements() {
			if s, ok := el.(types.String); ok && known(s) {
				prior = append(prior, s.ValueString())
			}
		}
	}
	views := fci.NodeViews(network, prior, fc)
	hosts := make([]string, 0, len(views))
	status := map[string]attr.Value{}
	m.CurrentOwner = types.StringNull()
	var notUp []string
	for _, v := range views {
		hosts = append(hosts, v.Host)
		status[v.Host] = types.StringValue(v.Status.String())
		if v.Owner {
			m.CurrentOwner = types.StringValue(v.Host)
		}
		if v.Status == sqlserver.NodeDown || v.Status == sqlserver.NodePaused {
			notUp = append(notUp, fmt.Sprintf("%s is %s", v.Host, v.Status))
		}
	}
	if m.CurrentOwner.IsNull() && fc.Server.CurrentOwner != "" {
		m.CurrentOwner = types.StringValue(fci.HostOf(fc.Server.CurrentOwner, network))
	}
	m.Nodes = stringList(hosts)
	m.NodeStatus = types.MapValueMust(types.StringType, status)
	paths := make([]string, 0, len(fc.Paths))
	for _, p := range fc.Paths {
		paths = append(paths, p.Path)
	}
	m.SharedPaths = stringList(paths)
	if diags != nil && len(notUp) > 0 {
		diags.AddWarning("Failover Cluster Node Not Up",
			fmt.Sprintf("%s: %s. The instance cannot fail over to such a node, so it is less available than nodes says until the node is back (Start-ClusterNode, Resume-ClusterNode).",
				network, strings.Join(notUp, "; ")))
	}
	if diags != nil && !fc.Server.IsClustered {
		diags.AddWarning("Not A Failover Cluster Instance",
			fmt.Sprintf("%s answers as a stand-alone SQL Server instance (SERVERPROPERTY('IsClustered') is 0). The plan replaces the resource to build the failover cluster instance again.", network))
	}
}

// fciSecretValues are the write-only passwords from the configuration.
type fciSecretValues struct{ sql, agent string }

func fciSecrets(config *sqlFailoverClusterInstanceResourceModel) fciSecretValues {
	return fciSecretValues{sql: config.SQLServicePasswordWO.ValueString(), agent: config.AgentServicePasswordWO.ValueString()}
}

// fciSpec is the instance the plan m describes, with the write-only passwords.
func fciSpec(ctx context.Context, m *sqlFailoverClusterInstanceResourceModel, secrets fciSecretValues, diags *diag.Diagnostics) fci.Spec {
	spec := fci.Spec{
		InstanceName: m.InstanceName.ValueString(), NetworkName: m.NetworkName.ValueString(),
		Features: stringsOf(m.Features, diags), SysadminAccounts: stringsOf(m.SysadminAccounts, diags), ClusterDisks: stringsOf(m.ClusterDisks, diags),
		ClusterGroupName: m.ClusterGroupName.ValueString(), DataDirectory: m.DataDirectory.ValueString(),
		LogDirectory: m.LogDirectory.ValueString(), TempDBDirectory: m.TempDBDirectory.ValueString(), BackupDirectory: m.BackupDirectory.ValueString(),
		SQLServiceAccount: m.SQLServiceAccount.ValueString(), SQLServicePassword: secrets.sql,
		AgentServiceAccount: m.AgentServiceAccount.ValueString(), AgentServicePassword: secrets.agent,
	}
	if !m.IPAddresses.IsNull() && !m.IPAddresses.IsUnknown() {
		var ips []fciIPAddressModel
		diags.Append(m.IPAddresses.ElementsAs(ctx, &ips, false)...)
		for _, ip := range ips {
			spec.IPAddresses = append(spec.IPAddresses, fci.IPAddress{Address: ip.Address.ValueString(), ClusterNetwork: ip.ClusterNetwork.ValueString(), SubnetMask: ip.SubnetMask.ValueString()})
		}
	}
	return spec
}

func fciContains(hosts []string, h string) bool { return adnames.HostIn(h, hosts) }

type fciIPAddressModel struct {
	Address        types.String `tfsdk:"address"`
	ClusterNetwork types.String `tfsdk:"cluster_network"`
	SubnetMask     types.String `tfsdk:"subnet_mask"`
}

// evictLost evicts the declared-lost node host from the Windows failover
// cluster (Remove-ClusterNode -Force) on a node of want that is up.
func (r *sqlFailoverClusterInstanceResource) evictLost(ctx context.Context, network string, have, want []string, host string, diags *diag.Diagnostics) bool {
	fc, err := r.readCluster(ctx)
	if err != nil {
		report(diags, failure{"Failover Cluster Node Not Evicted", host, viaSQL, "reading the instance's nodes to choose where Remove-ClusterNode runs"}, err)
		return false
	}
	survivor := fci.Survivor(fci.NodeViews(network, have, fc), want, r.data.isLost)
	if survivor == "" {
		diags.AddAttributeError(path.Root("nodes"), "Failover Cluster Node Not Evicted",
			fmt.Sprintf(lostHostDetail+"Its eviction (Remove-ClusterNode -Force) must run on a node that stays in nodes and is up, and there is none: "+
				"keep at least one working node of the instance in nodes.", host))
		return false
	}
	out, err := fci.EvictNode(ctx, r.data.winrm, survivor, host)
	if err != nil {
		report(diags, failure{"Failover Cluster Node Not Evicted", survivor, viaWinRM, "evicting the lost node " + host + " with Remove-ClusterNode -Force"}, err)
		return false
	}
	tflog.Info(ctx, "lost node evicted from the failover cluster", map[string]any{"node": host, "run_on": survivor, "cluster_nodes": out.Nodes})
	return true
}

// SQL Server setup takes tens of minutes a node.
const (
	fciCreateTimeout = 120 * time.Minute
	fciReadTimeout   = 5 * time.Minute
	fciUpdateTimeout = 60 * time.Minute
	fciDeleteTimeout = 60 * time.Minute
)
