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
	"github.com/masterzen/winrm/soap"

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

	// A pool of clients as the archived provider keeps one
	// (config.AcquireWinRMClient / ReleaseWinRMClient): a read takes an
	// idle client or makes one, so p reads at once use p clients, each with
	// its own keep-alive connection; NTLM, since a domain account cannot use
	// Basic (its winrm_use_ntlm, masterzen/winrm's ClientNTLM).
	var mu sync.Mutex
	pool := map[string][]*peerClient{}
	acquire := func(host string) (*peerClient, error) {
		mu.Lock()
		defer mu.Unlock()
		if free := pool[host]; len(free) > 0 {
			pc := free[len(free)-1]
			pool[host] = free[:len(free)-1]
			return pc, nil
		}
		dial := func(network, addr string) (net.Conn, error) {
			return connectTo.DialContext(context.Background(), network, addr)
		}
		pc := &peerClient{url: fmt.Sprintf("https://%s:5986/wsman", host)}
		params := *winrm.DefaultParameters
		params.Dial = dial
		params.TransportDecorator = func() winrm.Transporter {
			pc.t = winrm.NewClientNTLMWithDial(dial)
			return pc.t
		}
		c, err := winrm.NewClientWithParameters(winrm.NewEndpoint(host, 5986, true, false, ca, nil, nil, time.Minute), model.AdminUser, h.l.Seed.AdminPassword, &params)
		if err != nil {
			return nil, err
		}
		pc.c = c
		return pc, nil
	}
	release := func(host string, pc *peerClient) {
		mu.Lock()
		pool[host] = append(pool[host], pc)
		mu.Unlock()
	}
	read := func(n node) error {
		host := peerHost(n)
		if host == "" {
			return nil
		}
		pc, err := acquire(host)
		if err != nil {
			return err
		}
		defer release(host, pc)
		if err := pc.run(stdin); err != nil {
			return fmt.Errorf("peer read of %s on %s: %w", n.address, host, err)
		}
		return nil
	}

	h.l.Env.ResetNetCounters()
	start := time.Now()
	if err := schedule(g, p, read); err != nil {
		return nil, err
	}
	wall := time.Since(start).Seconds()
	busy, span := h.l.Env.NetBusy()
	r := &Run{Config: name, Variant: "peer", Parallelism: p, LatencyMs: latencyMs, WallS: wall, NetS: busy.Seconds(), RemoteS: span.Seconds(), Repeats: 1}
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
			if !g.ready(i, finished) {
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

// peerClient is one pooled client of the peer: masterzen/winrm's Client
// with its NTLM transport and its own connection.
type peerClient struct {
	c   *winrm.Client
	t   *winrm.ClientNTLM
	url string
}

// run is one peer read: what masterzen/winrm's RunWithString does for the
// archived provider (Create, Command, Send, Receive, Signal, Delete; a new
// shell and a new powershell.exe per read), one request after the other
// on the client's connection. masterzen sends stdin and polls Receive at
// once, on a second connection; serial requests cost the peer less.
func (pc *peerClient) run(stdin []byte) error {
	post := func(m *soap.SoapMessage) (string, error) { return pc.t.Post(pc.c, m) }
	params := winrm.DefaultParameters
	body, err := post(winrm.NewOpenShellRequest(pc.url, params))
	if err != nil {
		return fmt.Errorf("creating a shell: %w", err)
	}
	shell, err := winrm.ParseOpenShellResponse(body)
	if err != nil {
		return err
	}
	defer func() { _, _ = post(winrm.NewDeleteShellRequest(pc.url, shell, params)) }()
	if body, err = post(winrm.NewExecuteCommandRequest(pc.url, shell, scripts.CommandLine(), nil, params)); err != nil {
		return fmt.Errorf("running the command: %w", err)
	}
	cmd, err := winrm.ParseExecuteCommandResponse(body)
	if err != nil {
		return err
	}
	if _, err := post(winrm.NewSendInputRequest(pc.url, shell, cmd, stdin, true, params)); err != nil {
		return fmt.Errorf("sending stdin: %w", err)
	}
	var stdout, stderr bytes.Buffer
	for {
		body, err := post(winrm.NewGetOutputRequest(pc.url, shell, cmd, "stdout stderr", params))
		if err != nil {
			return fmt.Errorf("receiving the output: %w", err)
		}
		done, code, err := winrm.ParseSlurpOutputErrResponse(body, &stdout, &stderr)
		if err != nil {
			return err
		}
		if done {
			if code != 0 {
				return fmt.Errorf("exit code %d: %s", code, strings.TrimSpace(stderr.String()))
			}
			break
		}
	}
	_, err = post(winrm.NewSignalRequest(pc.url, shell, cmd, params))
	return err
}
