package provider

import (
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/bastion-pam/terraform-provider-bastion/internal/mim"
)

// configuredNames are the names the configuration sets (computed ones left empty).
func configuredNames(m *mimServiceNodeResourceModel) mim.Names {
	n := mim.Names{ExternalHostName: m.ExternalHostName.ValueString()}
	if known(m.ServiceName) {
		n.ServiceName = m.ServiceName.ValueString()
	}
	if known(m.ServicePartitionName.StringValue) {
		n.ServicePartitionName = m.ServicePartitionName.ValueString()
	}
	return n
}

// changedNames are the names whose planned value differs from the state.
func changedNames(plan, state *mimServiceNodeResourceModel) mim.Names {
	var n mim.Names
	if !plan.ExternalHostName.Equal(state.ExternalHostName) {
		n.ExternalHostName = plan.ExternalHostName.ValueString()
	}
	if known(plan.ServiceName) && !plan.ServiceName.Equal(state.ServiceName) {
		n.ServiceName = plan.ServiceName.ValueString()
	}
	if known(plan.ServicePartitionName.StringValue) && !strings.EqualFold(plan.ServicePartitionName.ValueString(), state.ServicePartitionName.ValueString()) {
		n.ServicePartitionName = plan.ServicePartitionName.ValueString()
	}
	return n
}

// fromNode copies a refreshed node into the model.
func (r *mimServiceNodeResource) fromNode(n *mim.Node, m *mimServiceNodeResourceModel) {
	m.ID = types.StringValue(m.Host.ValueString())
	m.ExternalHostName = types.StringValue(n.Effective.ExternalHostName)
	m.ServiceName = types.StringValue(n.Effective.ServiceName)
	m.ServicePartitionName = newCaseInsensitiveString(n.Effective.ServicePartitionName)
	if n.DatabaseServer != "" {
		m.SQLServer = newCaseInsensitiveString(n.DatabaseServer)
	}
	if n.DatabaseName != "" {
		m.SQLDatabase = types.StringValue(n.DatabaseName)
	}
	if n.LogonAccount != "" {
		m.ServiceAccount = newCaseInsensitiveString(n.LogonAccount)
	}
	m.PAMComponents = types.BoolValue(n.PAMComponents())
	m.ConfigFilePath = types.StringValue(n.ConfigPath)
	m.Version = types.StringValue(n.Version)
	state := func(name string) types.String {
		if s, ok := n.Services[name]; ok {
			return types.StringValue(s.Status)
		}
		return types.StringValue("Absent")
	}
	m.FIMServiceState = state(mim.ServiceFIM)
	m.PAMMonitoringServiceState = state(mim.ServicePAMMonitoring)
	m.PAMComponentServiceState = state(mim.ServicePAMComponent)
	m.FIMServiceStartedAt = timeValue(n.Services[mim.ServiceFIM].StartedAt)
}

// restartRequested reports whether restart_triggers changed. A map set where
// the state had none (after an import) is recorded without a restart.
func restartRequested(plan, state *mimServiceNodeResourceModel) bool {
	return !state.RestartTriggers.IsNull() && !plan.RestartTriggers.Equal(state.RestartTriggers)
}
