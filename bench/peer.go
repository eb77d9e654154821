package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/masterzen/winrm"

	"github.com/bastion-pam/terraform-provider-bastion/internal/lab/model"
	"github.com/bastion-pam/terraform-provider-bastion/internal/scripts"
)

// peerHost is where the peer design runs a type's read: every read is a
// PowerShell command on a Windows host (the archived
// hashicorp/terraform-provider-ad runs Get-AD* cmdlets over WinRM, one
// command per read), for SQL Server on the instance's node.
func peerHost(n node) string {
	switch n.typ {
	case "bastion_topology":
		return ""
	case "bastion_mim_service_node", "bastion_domain_controller":
		if n.host != "" {
			return n.host
		}
		return model.DC1
	case "bastion_sql_login", "bastion_sql_failover_cluster_instance":
		return model.App1
	default:
		return model.DC1
	}
}

// peer runs the refresh of g in the peer style through the lab's cost
// model: the same reads on the same dependency graph, p at a time, each one
// a separate PowerShell command in its own shell (Create, Command, Send,
// Receive, Delete), as the masterzen/winrm client's Run does. The command is
// the provider's read-only mim_read script, which every lab host accepts: a
// peer's Get-AD* or Invoke-Sqlcmd costs at least as much.
func (h *harness) peer(name string, g *graph, p, latencyMs int) (*Run, error) {
	ca, err := os.ReadFile(h.l.CAFile)
	if err != nil {
		return nil, err
	}
	connectTo := h.l.ConnectTo()
	script := scripts.Get("mim_read")
	stdin, err := json.Marshal(scripts.Envelope{Script: script.Text, Input: map[string]any{}})
	if err != nil {
		return nil, err
	}
	var mu sync.Mutex
	clients := map[string]*winrm.Client{}
	client := func(host string) (*winrm.Client, error) {
		mu.Lock()
		defer mu.Unlock()
		if c, ok := clients[host]; ok {
			return c, nil
		}
		params := *winrm.DefaultParameters
		params.Dial = func(network, addr string) (net.Conn, error) {
			return connectTo.DialContext(context.Background(), network, addr)
		}
		c, err := winrm.NewClientWithParameters(winrm.NewEndpoint(host, 5986, true, false, ca, nil, nil, time.Minute), model.AdminUser, h.l.Seed.AdminPassword, &params)
		if err != nil {
			return nil, err
		}
		clients[host] = c
		return c, nil
	}
	read := func(n node) error {
		host := peerHost(n)
		if host == "" {
			return nil
		}
		c, err := client(host)
		if err != nil {
			return err
		}
		cx, cancel := ctx()
		defer cancel()
		var stdout, stderr bytes.Buffer
		code, err := c.RunWithContextWithInput(cx, scripts.CommandLine(), &stdout, &stderr, bytes.NewReader(stdin))
		if err != nil {
			return fmt.Errorf("peer read of %s on %s: %w", n.address, host, err)
		}
		if code != 0 {
			return fmt.Errorf("peer read of %s on %s: exit code %d: %s", n.address, host, code, strings.TrimSpace(stderr.String()))
		}
		return nil
	}

	h.l.Env.ResetNetCounters()
	start := time.Now()
	if err := schedule(g, p, read); err != nil {
		return nil, err
	}
	r := &Run{Config: name, Variant: "peer", Parallelism: p, LatencyMs: latencyMs, WallS: time.Since(start).Seconds()}
	r.fill(h.l.Env)
	return r, nil
}

// schedule runs read for every node of g once its dependencies are done,
// at most p at a time, as Terraform walks its graph.
func schedule(g *graph, p int, read func(node) error) error {
	n := len(g.nodes)
	finished := make([]bool, n)
	started := make([]bool, n)
	type result struct {
		i   int
		err error
	}
	results := make(chan result)
	running, left := 0, n
	var firstErr error
	for left > 0 {
		for i := 0; i < n && running < p && firstErr == nil; i++ {
			if started[i] {
				continue
			}
			ready := true
			for _, d := range g.nodes[i].deps {
				if !finished[d] {
					ready = false
					break
				}
			}
			if !ready {
				continue
			}
			started[i] = true
			running++
			go func(i int) { results <- result{i, read(g.nodes[i])} }(i)
		}
		if running == 0 {
			if firstErr != nil {
				return firstErr
			}
			return fmt.Errorf("the dependency graph has a cycle")
		}
		r := <-results
		running--
		left--
		finished[r.i] = true
		if r.err != nil && firstErr == nil {
			firstErr = r.err
		}
	}
	return firstErr
}
