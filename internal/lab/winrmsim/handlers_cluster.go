package winrmsim

import (
	"encoding/json"
	"errors"
	"regexp"
	"strings"

	"github.com/bastion-pam/terraform-provider-bastion/internal/lab/model"
)

// Handler for cluster_evict_node.ps1: Remove-ClusterNode -Force against the
// model's Windows failover cluster (model.RemoveClusterNode), on the node the
// script runs on.

func init() {
	Register("cluster_evict_node", clusterEvictNode)
}

var computerName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9-]{0,14}$`)

func clusterEvictNode(env *model.Env, h *model.Host, raw json.RawMessage) (any, error) {
	in, err := strictFields(raw, "node")
	if err != nil {
		return nil, err
	}
	node := str(in, "node")
	if !env.IsClusterNode(h.FQDN) {
		// The FailoverClusters module comes with the Failover Clustering feature.
		return nil, &ScriptError{Type: "System.IO.FileNotFoundException",
			Message:  "The specified module 'FailoverClusters' was not loaded because no valid module file was found in any module directory.",
			Category: "ResourceUnavailable", ID: "Modules_ModuleNotFound,Microsoft.PowerShell.Commands.ImportModuleCommand"}
	}
	if !computerName.MatchString(node) {
		return nil, argumentError("Not a computer name: " + node)
	}
	var member string
	for _, n := range env.Cluster.Nodes {
		if strings.EqualFold(strings.SplitN(n, ".", 2)[0], node) {
			member = n
		}
	}
	if member != "" {
		if err := env.RemoveClusterNode(h.FQDN, member); err != nil {
			category := "NotSpecified"
			var ce *model.ClusterCmdletError
			if errors.As(err, &ce) {
				category = ce.Category
			}
			return nil, &ScriptError{Type: "Microsoft.FailoverClusters.PowerShell.ClusterCmdletException", Message: err.Error(), Category: category,
				ID: "Remove-ClusterNode,Microsoft.FailoverClusters.PowerShell.RemoveClusterNodeCommand"}
		}
	}
	nodes := map[string]any{}
	for _, n := range env.Cluster.Nodes {
		nodes[strings.ToUpper(strings.SplitN(n, ".", 2)[0])] = env.ClusterNodeState(n)
	}
	return map[string]any{"nodes": nodes}, nil
}
