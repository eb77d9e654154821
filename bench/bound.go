package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/bastion-pam/terraform-provider-bastion/internal/lab/model"
)

// node is one resource or data source instance a refresh reads.
type node struct {
	address string // instance address
	config  string // configuration address (mode.type.name)
	typ     string
	host    string // the host attribute, when it has one
	deps    []int  // nodes that must be read first
}

// graph is a refresh's reads on Terraform's dependency graph.
type graph struct {
	nodes []node
}

// setupRoundTrips is one connection set-up per protocol, in round trips:
// WinRM TCP + TLS 1.3 (Basic authentication rides on each request); LDAP
// TCP + TLS 1.3 + simple bind; TDS TCP + PRELOGIN + TLS 1.2 (two flights,
// inside PRELOGIN packets) + LOGIN7.
var setupRoundTrips = map[string]int{model.WinRM: 2, model.LDAP: 3, model.TDS: 5}

// readRoundTrips is what a type's Read needs at minimum: one round trip per
// object on an open connection, and none for what needs no server.
func readRoundTrips(typ string) int {
	if typ == "bastion_topology" {
		return 0
	}
	return 1
}

// endpoint is the protocol endpoint a type's Read needs at minimum.
func endpoint(n node) string {
	switch n.typ {
	case "bastion_topology":
		return ""
	case "bastion_mim_service_node":
		return model.WinRM + ":" + strings.ToLower(n.host)
	case "bastion_sql_login", "bastion_sql_failover_cluster_instance":
		return model.TDS + ":" + model.SQLNetwork
	default: // directory reads: DCs, FSMO, backups, trusts, PAM settings
		return model.LDAP + ":pinned"
	}
}

// ready reports whether every node that node i depends on has finished.
func (g *graph) ready(i int, finished []bool) bool {
	for _, d := range g.nodes[i].deps {
		if !finished[d] {
			return false
		}
	}
	return true
}

// bound is the lower bound in seconds: the reads, one round trip per object,
// list-scheduled on the dependency graph with p at a time, where the first
// read of each endpoint also pays its connection set-up (and a read of the
// same endpoint that starts meanwhile waits for it): one set-up per
// endpoint, on the critical path only where the graph puts it there.
func (g *graph) bound(p, latencyMs int) float64 {
	rtt := time.Duration(latencyMs) * time.Millisecond
	if rtt == 0 {
		return 0
	}
	n := len(g.nodes)
	finished := make([]bool, n)
	running := map[int]time.Duration{} // node -> finish time
	open := map[string]time.Duration{} // endpoint -> when its set-up is done
	var now time.Duration
	left := n
	for left > 0 {
		// Start every ready node while a slot is free (in address order).
		for i := 0; i < n && len(running) < p; i++ {
			if finished[i] {
				continue
			}
			if _, ok := running[i]; ok {
				continue
			}
			if !g.ready(i, finished) {
				continue
			}
			start := now
			if ep := endpoint(g.nodes[i]); ep != "" {
				at, ok := open[ep]
				if !ok {
					at = now + time.Duration(setupRoundTrips[strings.SplitN(ep, ":", 2)[0]])*rtt
					open[ep] = at
				}
				start = max(now, at)
			}
			running[i] = start + time.Duration(readRoundTrips(g.nodes[i].typ))*rtt
		}
		if len(running) == 0 {
			return -1 // a cycle: cannot happen on Terraform's graph
		}
		// Advance to the earliest finish.
		next := time.Duration(-1)
		for _, t := range running {
			if next < 0 || t < next {
				next = t
			}
		}
		now = next
		for i, t := range running {
			if t == now {
				finished[i] = true
				delete(running, i)
				left--
			}
		}
	}
	return now.Seconds()
}

// graph reads the refresh's instances and their dependencies from a saved
// refresh-only plan: instances from prior_state, dependencies from the
// configuration's references and depends_on.
func (h *harness) graph() (*graph, error) {
	planFile := filepath.Join(h.cfgDir, "graph.tfplan")
	if _, err := h.terraform("plan", "-refresh-only", "-input=false", "-no-color", "-lock=false", "-out="+planFile); err != nil {
		return nil, err
	}
	defer func() { _ = os.Remove(planFile) }()
	b, err := h.terraform("show", "-json", planFile)
	if err != nil {
		return nil, err
	}
	return parseGraph(b)
}

type planJSON struct {
	PriorState struct {
		Values struct {
			RootModule struct {
				Resources []struct {
					Address string         `json:"address"`
					Mode    string         `json:"mode"`
					Type    string         `json:"type"`
					Name    string         `json:"name"`
					Values  map[string]any `json:"values"`
				} `json:"resources"`
			} `json:"root_module"`
		} `json:"values"`
	} `json:"prior_state"`
	Configuration struct {
		RootModule struct {
			Resources []struct {
				Address     string          `json:"address"`
				Mode        string          `json:"mode"`
				Type        string          `json:"type"`
				Expressions json.RawMessage `json:"expressions"`
				ForEach     json.RawMessage `json:"for_each_expression"`
				Count       json.RawMessage `json:"count_expression"`
				DependsOn   []string        `json:"depends_on"`
			} `json:"resources"`
		} `json:"root_module"`
	} `json:"configuration"`
}

func parseGraph(b []byte) (*graph, error) {
	var p planJSON
	if err := json.Unmarshal(b, &p); err != nil {
		return nil, fmt.Errorf("reading the plan's JSON: %w", err)
	}
	g := &graph{}
	byConfig := map[string][]int{}
	for _, r := range p.PriorState.Values.RootModule.Resources {
		if !strings.HasPrefix(r.Type, "bastion_") {
			continue
		}
		cfg := r.Type + "." + r.Name
		if r.Mode == "data" {
			cfg = "data." + cfg
		}
		host, _ := r.Values["host"].(string)
		byConfig[cfg] = append(byConfig[cfg], len(g.nodes))
		g.nodes = append(g.nodes, node{address: r.Address, config: cfg, typ: r.Type, host: host})
	}
	for _, c := range p.Configuration.RootModule.Resources {
		if !strings.HasPrefix(c.Type, "bastion_") {
			continue
		}
		if _, ok := byConfig[c.Address]; !ok && c.Mode == "data" {
			byConfig[c.Address] = append(byConfig[c.Address], len(g.nodes))
			g.nodes = append(g.nodes, node{address: c.Address, config: c.Address, typ: c.Type})
		}
	}
	for _, c := range p.Configuration.RootModule.Resources {
		refs := map[string]bool{}
		for _, raw := range []json.RawMessage{c.Expressions, c.ForEach, c.Count} {
			collectRefs(raw, refs)
		}
		for _, d := range c.DependsOn {
			refs[d] = true
		}
		var deps []int
		for ref := range refs {
			for cfg, idx := range byConfig {
				if cfg != c.Address && (ref == cfg || strings.HasPrefix(ref, cfg+".") || strings.HasPrefix(ref, cfg+"[")) {
					deps = append(deps, idx...)
				}
			}
		}
		sort.Ints(deps)
		for _, i := range byConfig[c.Address] {
			g.nodes[i].deps = deps
		}
	}
	return g, nil
}

// collectRefs gathers every "references" list in a configuration expression tree.
func collectRefs(raw json.RawMessage, out map[string]bool) {
	if len(raw) == 0 {
		return
	}
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return
	}
	var walk func(any)
	walk = func(v any) {
		switch t := v.(type) {
		case map[string]any:
			for k, x := range t {
				if k == "references" {
					if list, ok := x.([]any); ok {
						for _, s := range list {
							if str, ok := s.(string); ok {
								out[str] = true
							}
						}
					}
					continue
				}
				walk(x)
			}
		case []any:
			for _, x := range t {
				walk(x)
			}
		}
	}
	walk(v)
}

// remote reports whether any read needs a server.
func (g *graph) remote() bool {
	for _, n := range g.nodes {
		if endpoint(n) != "" {
			return true
		}
	}
	return false
}
