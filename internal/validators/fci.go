package validators

import (
	"context"
	"fmt"
	"net"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/bastion-pam/terraform-provider-bastion/internal/adnames"
	"github.com/bastion-pam/terraform-provider-bastion/internal/topology"
)

// Validators for a SQL Server failover cluster instance. The HA rules
// themselves live in internal/topology; these only bring them to plan time
// on the attribute that breaks them.

// SharedStoragePath validates that a directory of a SQL Server failover
// cluster instance is on storage every node reaches (topology.IsSharedStoragePath):
// a cluster disk, a Cluster Shared Volume or an SMB share, never a node's
// local system drive.
func SharedStoragePath() validator.String { return sharedStoragePath{} }

type sharedStoragePath struct{}

func (sharedStoragePath) Description(context.Context) string {
	return "value must be a directory on shared storage: a cluster disk (`E:\\MSSQL`), a Cluster Shared Volume (`C:\\ClusterStorage\\Volume1\\MSSQL`) or an SMB share (`\\\\server\\share\\MSSQL`)"
}

func (v sharedStoragePath) MarkdownDescription(ctx context.Context) string {
	return v.Description(ctx)
}

func (v sharedStoragePath) ValidateString(ctx context.Context, req validator.StringRequest, resp *validator.StringResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	s := req.ConfigValue.ValueString()
	if err := CheckWindowsPath(s); err != nil {
		resp.Diagnostics.AddAttributeError(req.Path, "Invalid Attribute Value", fmt.Sprintf("%s %s; %s.", req.Path, err, v.Description(ctx)))
		return
	}
	if ok, why := topology.IsSharedStoragePath(s); !ok {
		resp.Diagnostics.AddAttributeError(req.Path, "Directory Not On Shared Storage", fmt.Sprintf(
			"%s is %s: %s. Rule: every directory of a SQL Server failover cluster instance must be on storage all its nodes share "+
				"(HA and DR guide: shared storage dedicated to the bastion), because the instance moves between nodes and each node "+
				"has its own system drive; %s.", req.Path, Quote(s), why, v.Description(ctx)))
	}
}

// FCINodes validates the node list of a SQL Server failover cluster
// instance: no server twice and, when the boolean attribute at ha is true
// (or unset, its default), at least two distinct nodes (rule HA-3,
// topology.CheckFCINodes). The domain controller half of HA-3 needs the
// directory and is checked when planning.
func FCINodes(ha path.Path) validator.List { return fciNodes{ha: ha} }

type fciNodes struct{ ha path.Path }

func (v fciNodes) Description(context.Context) string {
	return fmt.Sprintf("each node must be a different server, and with %s = true there must be at least two (rule HA-3)", v.ha)
}

func (v fciNodes) MarkdownDescription(ctx context.Context) string { return v.Description(ctx) }

func (v fciNodes) ValidateList(ctx context.Context, req validator.ListRequest, resp *validator.ListResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	var nodes []string
	complete := true
	for i, el := range req.ConfigValue.Elements() {
		s, ok := el.(types.String)
		if !ok || s.IsUnknown() || s.IsNull() {
			complete = false
			continue
		}
		h := s.ValueString()
		for j, prev := range nodes {
			if adnames.SameHost(h, prev) {
				resp.Diagnostics.AddAttributeError(req.Path.AtListIndex(i), "Duplicate Failover Cluster Node", fmt.Sprintf(
					"%s is %s, the same server as %s (%s). Rule: each node of a SQL Server failover cluster instance is a different server "+
						"(setup.exe /ACTION=AddNode refuses a server that is a node already); list every server once.",
					req.Path.AtListIndex(i), Quote(h), req.Path.AtListIndex(j), Quote(prev)))
				break
			}
		}
		nodes = append(nodes, h)
	}
	if !complete {
		return // the count is checked once every node is known
	}
	var ha types.Bool
	if d := req.Config.GetAttribute(ctx, v.ha, &ha); d.HasError() || ha.IsUnknown() {
		return
	}
	if !ha.IsNull() && !ha.ValueBool() {
		return
	}
	if err := topology.CheckFCINodes(nodes, nil); err != nil {
		resp.Diagnostics.AddAttributeError(req.Path, "HA Rule HA-3 Violated", fmt.Sprintf(
			"%s is [%s] and %s is true (the instance is meant for high availability). %v. Give at least two distinct servers that are not domain controllers, "+
				"or set %s = false for an instance that is not meant to survive the loss of a node.",
			req.Path, quoteList(nodes), v.ha, err, v.ha))
	}
}

func quoteList(items []string) string {
	q := make([]string, len(items))
	for i, s := range items {
		q[i] = Quote(s)
	}
	return strings.Join(q, ", ")
}

var sqlInstanceName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_$]{0,15}$`)

// sqlReservedInstanceNames cannot name an instance (setup's rule; MSSQLSERVER is the default instance itself).
var sqlReservedInstanceNames = map[string]bool{"DEFAULT": true, "SQLSERVER": true, "MSSQLSERVERADHELPER": true}

// CheckSQLInstanceName reports why s cannot be a SQL Server instance name.
func CheckSQLInstanceName(s string) error {
	if !sqlInstanceName.MatchString(s) {
		return fmt.Errorf("%s is not a SQL Server instance name (1 to 16 characters: a letter or _ first, then letters, digits, _ or $)", Quote(s))
	}
	if sqlReservedInstanceNames[strings.ToUpper(s)] {
		return fmt.Errorf("%s is reserved and cannot name an instance", Quote(s))
	}
	return nil
}

// SQLInstanceName validates a SQL Server instance name (MSSQLSERVER for the default instance).
func SQLInstanceName() validator.String {
	return stringCheck{desc: "value must be `MSSQLSERVER` (the default instance) or a named instance of up to 16 letters, digits, `_` and `$`, starting with a letter or `_`", check: CheckSQLInstanceName}
}

// parseIPv4 parses dotted-decimal IPv4; nil for anything else, IPv6
// forms of an IPv4 address (::ffff:10.0.0.1) included.
func parseIPv4(s string) net.IP {
	ip := net.ParseIP(s)
	if ip == nil || strings.Contains(s, ":") {
		return nil
	}
	return ip.To4()
}

// CheckClusterIPv4 reports why s is not an IPv4 address for a cluster resource.
func CheckClusterIPv4(s string) error {
	ip := parseIPv4(s)
	if ip == nil {
		return fmt.Errorf("%s is not an IPv4 address", Quote(s))
	}
	if ip.IsUnspecified() || ip.IsLoopback() || ip.IsMulticast() || ip.Equal(net.IPv4bcast) {
		return fmt.Errorf("%s cannot be a cluster resource's address", Quote(s))
	}
	return nil
}

// ClusterIPv4 validates a static IPv4 address for a failover cluster resource.
func ClusterIPv4() validator.String {
	return stringCheck{desc: "value must be a unicast IPv4 address such as `10.0.0.50`", check: CheckClusterIPv4}
}

// CheckSubnetMask reports why s is not a contiguous IPv4 subnet mask.
func CheckSubnetMask(s string) error {
	ip := parseIPv4(s)
	if ip == nil {
		return fmt.Errorf("%s is not an IPv4 subnet mask", Quote(s))
	}
	if ones, bits := net.IPMask(ip.To4()).Size(); bits == 0 || ones == 0 {
		return fmt.Errorf("%s is not a contiguous subnet mask", Quote(s))
	}
	return nil
}

// SubnetMask validates a dotted IPv4 subnet mask.
func SubnetMask() validator.String {
	return stringCheck{desc: "value must be a dotted IPv4 subnet mask such as `255.255.255.0`", check: CheckSubnetMask}
}

// CheckClusterNetworkName reports why s cannot be a cluster network's name
// inside setup's FAILOVERCLUSTERIPADDRESSES value, whose fields ; separates.
func CheckClusterNetworkName(s string) error {
	if err := CheckText(s, MaxClusterName); err != nil {
		return err
	}
	if s == "" || strings.Contains(s, ";") {
		return fmt.Errorf("%s cannot name a cluster network here (empty, or holds the ; that separates the fields of FAILOVERCLUSTERIPADDRESSES)", Quote(s))
	}
	return nil
}

// ClusterNetworkName validates a Windows failover cluster network's name, e.g. `Cluster Network 1`.
func ClusterNetworkName() validator.String {
	return stringCheck{desc: "value must be a cluster network's name such as `Cluster Network 1`, on one line and without `;`", check: CheckClusterNetworkName}
}

// CheckSQLServerRole reports why s cannot name a server role a login is added to.
func CheckSQLServerRole(s string) error {
	if s == "" || utf8.RuneCountInString(s) > 128 {
		return fmt.Errorf("%s must have 1 to 128 characters (sysname)", Quote(s))
	}
	if err := CheckSingleLine(s); err != nil {
		return err
	}
	if strings.EqualFold(s, "public") {
		return fmt.Errorf("%s is the role every login belongs to implicitly; it cannot be granted or revoked", Quote(s))
	}
	return nil
}

// SQLServerRole validates a server role name (fixed, e.g. `sysadmin`, `dbcreator`, or user-defined).
func SQLServerRole() validator.String {
	return stringCheck{desc: "value must be a server role such as `sysadmin`, `securityadmin` or `dbcreator` (not `public`)", check: CheckSQLServerRole}
}

// ClientSQLInstanceName validates the instance a client connects to: empty
// for the default instance, or an instance name.
func ClientSQLInstanceName() validator.String {
	return stringCheck{desc: "value must be empty (the default instance) or an instance name of up to 16 letters, digits, `_` and `$`, starting with a letter or `_`", check: func(s string) error {
		if s == "" {
			return nil
		}
		return CheckSQLInstanceName(s)
	}}
}

// MaxClusterName bounds the names of failover cluster objects (networks,
// disk resources) the provider passes to setup: Windows documents no
// shorter limit, and the bound keeps a runaway value off setup's command
// line, whose whole length Windows caps at 32767 characters.
const MaxClusterName = 256

// ClusterResourceName validates a cluster disk resource's name, e.g. `Cluster Disk 1`.
func ClusterResourceName() validator.String {
	return Text(MaxClusterName, "a cluster resource's name such as `Cluster Disk 1`")
}

var setupFeature = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]*$`)

// CheckSetupFeature reports why s cannot be a SQL Server setup feature name.
func CheckSetupFeature(s string) error {
	if err := CheckLength(s, MaxSysname); err != nil {
		return err
	}
	if !setupFeature.MatchString(s) {
		return fmt.Errorf("%s is not a setup feature name (a letter, then letters, digits and _)", Quote(s))
	}
	return nil
}

// SetupFeature validates a SQL Server setup feature name such as SQLENGINE.
func SetupFeature() validator.String {
	return stringCheck{desc: "value must be a setup feature name such as SQLENGINE, REPLICATION or FULLTEXT", check: CheckSetupFeature}
}
