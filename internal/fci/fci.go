// Package fci holds the remote operations on the SQL Server failover
// cluster instance behind the MIM Service: SQL Server setup's
// InstallFailoverCluster, AddNode and RemoveNode (sql_setup.ps1 over WinRM,
// every setting as data), the node bookkeeping a refresh and a removal need,
// and the sysadmin membership over TDS. It is plain Go: no Terraform.
package fci

import (
	"context"
	"sort"
	"strings"

	"github.com/bastion-pam/terraform-provider-bastion/internal/adnames"
	"github.com/bastion-pam/terraform-provider-bastion/internal/scripts"
	"github.com/bastion-pam/terraform-provider-bastion/internal/winrmexec"
)

// Executor runs an embedded script on a host (winrmexec.Client).
type Executor = winrmexec.Runner

// Setup actions (setup.exe /ACTION=).
const (
	ActionInstall    = "InstallFailoverCluster"
	ActionAddNode    = "AddNode"
	ActionRemoveNode = "RemoveNode"
)

// IPAddress is one FAILOVERCLUSTERIPADDRESSES entry (IPv4 only).
type IPAddress struct {
	Address, ClusterNetwork, SubnetMask string
}

// Spec is an instance as setup builds it. The passwords are secrets:
// callers mask them in logs (sql_setup.ps1 shows them as ********).
type Spec struct {
	InstanceName string
	NetworkName  string // FQDN; setup takes its first label
	Features     []string
	// SysadminAccounts, ClusterDisks: setup's SQLSYSADMINACCOUNTS and
	// FAILOVERCLUSTERDISKS (none: setup picks the available disks).
	SysadminAccounts []string
	ClusterDisks     []string
	ClusterGroupName string // "" gives DefaultGroup(InstanceName)
	IPAddresses      []IPAddress
	DataDirectory    string
	LogDirectory     string // "" leaves setup's default, like the two below
	TempDBDirectory  string
	BackupDirectory  string

	SQLServiceAccount, SQLServicePassword     string
	AgentServiceAccount, AgentServicePassword string
}

// DefaultGroup is the cluster role setup names for an instance.
func DefaultGroup(instance string) string { return "SQL Server (" + strings.ToUpper(instance) + ")" }

// IsManagedServiceAccount reports a (group) managed service account, which
// has no password to give setup.
func IsManagedServiceAccount(account string) bool { return strings.HasSuffix(account, "$") }

func (s Spec) ipSettings() []string {
	out := make([]string, 0, len(s.IPAddresses))
	for _, ip := range s.IPAddresses {
		out = append(out, "IPv4;"+ip.Address+";"+ip.ClusterNetwork+";"+ip.SubnetMask)
	}
	if len(out) == 0 {
		return []string{"DEFAULT"}
	}
	return out
}

// serviceParams are the service accounts and their passwords (none for a gMSA).
func (s Spec) serviceParams(p map[string]any) map[string]any {
	p["INSTANCENAME"] = s.InstanceName
	p["SQLSVCACCOUNT"] = s.SQLServiceAccount
	if !IsManagedServiceAccount(s.SQLServiceAccount) {
		p["SQLSVCPASSWORD"] = s.SQLServicePassword
	}
	p["AGTSVCACCOUNT"] = s.AgentServiceAccount
	if !IsManagedServiceAccount(s.AgentServiceAccount) {
		p["AGTSVCPASSWORD"] = s.AgentServicePassword
	}
	return p
}

func sorted(xs []string, f func(string) string) []string {
	if xs == nil {
		return nil
	}
	out := make([]string, len(xs))
	for i, x := range xs {
		out[i] = f(x)
	}
	sort.Strings(out)
	return out
}

func same(s string) string { return s }

// InstallParams are setup's settings for InstallFailoverCluster.
func (s Spec) InstallParams() map[string]any {
	group := s.ClusterGroupName
	if group == "" {
		group = DefaultGroup(s.InstanceName)
	}
	p := map[string]any{
		"FEATURES":                   strings.Join(sorted(s.Features, strings.ToUpper), ","),
		"FAILOVERCLUSTERNETWORKNAME": strings.ToUpper(adnames.ShortName(s.NetworkName)),
		"FAILOVERCLUSTERIPADDRESSES": s.ipSettings(),
		"FAILOVERCLUSTERGROUP":       group,
		"INSTALLSQLDATADIR":          s.DataDirectory,
		"SQLUSERDBDIR":               s.DataDirectory,
		"SQLSYSADMINACCOUNTS":        sorted(s.SysadminAccounts, same),
	}
	if len(s.ClusterDisks) > 0 {
		p["FAILOVERCLUSTERDISKS"] = sorted(s.ClusterDisks, same)
	}
	for setting, v := range map[string]string{"SQLUSERDBLOGDIR": s.LogDirectory, "SQLTEMPDBDIR": s.TempDBDirectory, "SQLBACKUPDIR": s.BackupDirectory} {
		if v != "" {
			p[setting] = v
		}
	}
	return s.serviceParams(p)
}

// AddNodeParams are setup's settings for AddNode (no FEATURES: they are the instance's).
func (s Spec) AddNodeParams() map[string]any {
	return s.serviceParams(map[string]any{"FAILOVERCLUSTERIPADDRESSES": s.ipSettings()})
}

// RemoveNodeParams are setup's settings for RemoveNode.
func (s Spec) RemoveNodeParams() map[string]any {
	return map[string]any{"INSTANCENAME": s.InstanceName}
}

// SetupResult is sql_setup.ps1's reply.
type SetupResult struct {
	Action         string   `json:"action"`
	ExitCode       int      `json:"exit_code"`
	RebootRequired bool     `json:"reboot_required"` // exit code 3010
	SummaryLog     string   `json:"summary_log"`
	Arguments      []string `json:"arguments"` // passwords shown as ********
}

type setupInput struct {
	MediaPath        string         `json:"media_path"`
	Action           string         `json:"action"`
	Parameters       map[string]any `json:"parameters"`
	SummaryTailLines int            `json:"summary_tail_lines"`
}

// SummaryTailLines is how many of Summary.txt's last lines a failed setup reports.
const SummaryTailLines = 30

// Setup runs setup.exe /ACTION=action from media on host with params, under
// the WinRM account's own logon (winrmexec.AsAccount): setup's cluster
// actions reach every node, a second hop the session cannot make. The
// passwords reach setup through a configuration file only the running
// account can read, deleted afterwards (sql_setup.ps1), never its command
// line. A failure is a winrmexec.RemoteError carrying setup's exit code,
// Summary.txt's exit message and its last lines.
func Setup(ctx context.Context, x Executor, host, media, action string, params map[string]any) (SetupResult, error) {
	var out SetupResult
	err := x.Run(ctx, host, scripts.Get("sql_setup"), setupInput{MediaPath: media, Action: action, Parameters: params, SummaryTailLines: SummaryTailLines}, &out, winrmexec.AsAccount())
	return out, err
}
