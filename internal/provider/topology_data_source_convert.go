package provider

import (
	"context"
	"time"

	"github.com/bastion-pam/terraform-provider-bastion/internal/topology"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-framework/types/basetypes"
)

// Conversions between the bastion_topology data source model and the
// topology package.

// objectAsOptions: nested objects are wholly known when converted.
var objectAsOptions = basetypes.ObjectAsOptions{}

// toTopology converts the (wholly known) configuration.
func (m *topologyDataSourceModel) toTopology(ctx context.Context) (topology.Topology, diag.Diagnostics) {
	var diags diag.Diagnostics
	t := topology.Topology{LongLivedRequests: m.LongLivedRequests.IsNull() || m.LongLivedRequests.ValueBool()}

	var dom topologyDomainModel
	diags.Append(m.Domain.As(ctx, &dom, objectAsOptions)...)
	t.Domain = topology.Domain{DNSName: dom.DNSName.ValueString(), ForestFunctionalLevel: int(dom.ForestFunctionalLevel.ValueInt64())}

	var dcs []topologyDCModel
	diags.Append(m.DomainControllers.ElementsAs(ctx, &dcs, false)...)
	for _, dc := range dcs {
		t.DomainControllers = append(t.DomainControllers, topology.DomainController{
			Host: dc.Host.ValueString(), Site: dc.Site.ValueString(),
			GlobalCatalog: dc.GlobalCatalog.ValueBool(), ReadOnly: dc.ReadOnly.ValueBool(),
			FSMORoles: stringsOf(dc.FSMORoles, &diags), Addresses: stringsOf(dc.Addresses, &diags),
		})
	}

	if !m.SQL.IsNull() {
		var s topologySQLModel
		diags.Append(m.SQL.As(ctx, &s, objectAsOptions)...)
		t.SQL = &topology.SQLInstance{
			NetworkName: s.NetworkName.ValueString(), Clustered: s.Clustered.ValueBool(),
			Nodes:           stringsOf(s.Nodes, &diags),
			DataDirectories: stringsOf(s.DataDirectories, &diags),
			LogDirectories:  stringsOf(s.LogDirectories, &diags),
			StartedAt:       topologyTime(s.StartedAt, path.Root("sql").AtName("started_at"), &diags),
		}
	}

	var nodes []topologyMIMNodeModel
	if !m.MIMNodes.IsNull() {
		diags.Append(m.MIMNodes.ElementsAs(ctx, &nodes, false)...)
	}
	for i, n := range nodes {
		t.MIMNodes = append(t.MIMNodes, topology.MIMNode{
			Host: n.Host.ValueString(), ServiceName: n.ServiceName.ValueString(),
			ServicePartitionName: n.ServicePartitionName.ValueString(), ExternalHostName: n.ExternalHostName.ValueString(),
			PAMComponents: n.PAMComponents.IsNull() || n.PAMComponents.ValueBool(), Site: n.Site.ValueString(),
			ServiceStartedAt: topologyTime(n.ServiceStartedAt, path.Root("mim_nodes").AtListIndex(i).AtName("service_started_at"), &diags),
		})
	}

	if !m.DNSServers.IsNull() {
		var dns map[string][]string
		diags.Append(m.DNSServers.ElementsAs(ctx, &dns, false)...)
		t.DNSServers = dns
	}

	var backups []topologyBackupModel
	if !m.Backups.IsNull() {
		diags.Append(m.Backups.ElementsAs(ctx, &backups, false)...)
	}
	for i, b := range backups {
		tb := topology.Backup{DC: b.DC.ValueString(), NamingContext: b.NamingContext.ValueString()}
		if s := b.LastBackup.ValueString(); s != "" {
			at, err := time.Parse(time.RFC3339, s)
			if err != nil { // the validator has said so already
				diags.AddAttributeError(path.Root("backups").AtListIndex(i).AtName("last_backup"), "Invalid Backup Time", err.Error())
				continue
			}
			tb.LastBackup = at
		}
		t.Backups = append(t.Backups, tb)
	}

	if !m.TombstoneLifetimeDays.IsNull() {
		days := int(m.TombstoneLifetimeDays.ValueInt64())
		t.TombstoneLifetimeDays = &days
	}
	for _, f := range stringsOf(m.HAFunctions, &diags) {
		t.HAFunctions = append(t.HAFunctions, topology.Function(f))
	}
	// A set has no order; Microsoft's table order keeps messages stable.
	t.HAFunctions = inSeedOrder(t.HAFunctions)
	return t, diags
}

// topologyTime parses an RFC 3339 timestamp; zero when unset.
func topologyTime(v types.String, at path.Path, diags *diag.Diagnostics) time.Time {
	if v.IsNull() || v.IsUnknown() || v.ValueString() == "" {
		return time.Time{}
	}
	t, err := time.Parse(time.RFC3339, v.ValueString())
	if err != nil { // the validator has said so already
		diags.AddAttributeError(at, "Invalid Timestamp", err.Error())
	}
	return t
}

func inSeedOrder(fs []topology.Function) []topology.Function {
	var out []topology.Function
	for _, f := range topology.AllFunctions() {
		for _, g := range fs {
			if f == g {
				out = append(out, f)
				break
			}
		}
	}
	// Unknown ids (the validator rejects them) keep their place at the end,
	// so HA-10 still names them.
	for _, g := range fs {
		if _, ok := g.Info(); !ok {
			out = append(out, g)
		}
	}
	return out
}

func (m *topologyDataSourceModel) setUnknownOutputs() {
	m.Violations = types.ListUnknown(types.ObjectType{AttrTypes: violationAttrTypes})
	m.Readiness = types.ListUnknown(types.ObjectType{AttrTypes: readinessAttrTypes})
	m.RecoveryRunbook = types.ListUnknown(types.ObjectType{AttrTypes: runbookAttrTypes})
	m.Mermaid = types.StringUnknown()
	m.OK = types.BoolUnknown()
}

func (m *topologyDataSourceModel) setOutputs(t topology.Topology, r topology.Result) diag.Diagnostics {
	var diags diag.Diagnostics
	obj := func(attrTypes map[string]attr.Type, vals map[string]attr.Value) attr.Value {
		o, d := types.ObjectValue(attrTypes, vals)
		diags.Append(d...)
		return o
	}

	violations := []attr.Value{}
	for _, v := range r.Violations {
		var fs []string
		for _, f := range v.Functions {
			fs = append(fs, string(f))
		}
		violations = append(violations, obj(violationAttrTypes, map[string]attr.Value{
			"rule_id":   types.StringValue(v.RuleID),
			"severity":  types.StringValue(v.Severity.String()),
			"functions": stringList(fs),
			"hosts":     stringList(v.Hosts),
			"attribute": stringOrNull(v.Attribute),
			"message":   types.StringValue(v.Message),
		}))
	}

	readiness := []attr.Value{}
	for _, fr := range r.Readiness {
		losses := []attr.Value{}
		for _, l := range fr.Losses {
			losses = append(losses, obj(lossAttrTypes, map[string]attr.Value{
				"host": types.StringValue(l.Host), "reason": types.StringValue(l.Reason),
			}))
		}
		readiness = append(readiness, obj(readinessAttrTypes, map[string]attr.Value{
			"function":             types.StringValue(string(fr.Function)),
			"display_name":         types.StringValue(fr.DisplayName),
			"priority":             types.StringValue(fr.Priority.String()),
			"needs_ha":             types.BoolValue(fr.NeedsHA),
			"available":            types.BoolValue(fr.Available),
			"survives_single_loss": types.BoolValue(fr.SurvivesSingleLoss),
			"summary":              types.StringValue(fr.Summary),
			"losses":               types.ListValueMust(types.ObjectType{AttrTypes: lossAttrTypes}, losses),
		}))
	}

	runbook := []attr.Value{}
	for _, s := range r.RecoveryOrder {
		runbook = append(runbook, obj(runbookAttrTypes, map[string]attr.Value{
			"order":   types.Int64Value(int64(s.Order)),
			"action":  types.StringValue(s.Action),
			"hosts":   stringList(s.Hosts),
			"command": stringOrNull(s.Command),
			"reason":  types.StringValue(s.Reason),
		}))
	}
	if diags.HasError() {
		return diags
	}
	var d diag.Diagnostics
	m.Violations, d = types.ListValue(types.ObjectType{AttrTypes: violationAttrTypes}, violations)
	diags.Append(d...)
	m.Readiness, d = types.ListValue(types.ObjectType{AttrTypes: readinessAttrTypes}, readiness)
	diags.Append(d...)
	m.RecoveryRunbook, d = types.ListValue(types.ObjectType{AttrTypes: runbookAttrTypes}, runbook)
	diags.Append(d...)
	m.Mermaid = types.StringValue(topology.RenderMermaid(t, r))
	m.OK = types.BoolValue(!r.HasErrors())
	return diags
}

// listAttributes are the list attributes whose elements a path can only
// name with an index.
var listAttributes = map[string]bool{"domain_controllers": true, "mim_nodes": true, "backups": true}

// attributePath turns a violation's topology.Path into the schema path. A
// name after a list without an index (mim_nodes, then service_partition_name:
// every node's) stops at the list. ok is false for an empty path or one that
// does not start with an attribute name.
func attributePath(tp topology.Path) (path.Path, bool) {
	if len(tp) == 0 || tp[0].IsIndex || tp[0].IsKey {
		return path.Empty(), false
	}
	p, lastList := path.Root(tp[0].Name), listAttributes[tp[0].Name]
	for _, s := range tp[1:] {
		switch {
		case s.IsIndex:
			p, lastList = p.AtListIndex(s.Index), false
		case s.IsKey:
			p, lastList = p.AtMapKey(s.Key), false
		case lastList:
			return p, true
		default:
			p = p.AtName(s.Name)
		}
	}
	return p, true
}
