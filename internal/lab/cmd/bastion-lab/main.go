// Command bastion-lab runs the simulated bastion as its own process, for
// `make demo` and for poking at the provider by hand.
//
//	bastion-lab serve  -dir DIR [-rtt D] [-rtt-winrm D] [-rtt-ldap D] [-rtt-tds D] [-powershell-start D]
//	                              start the lab; write DIR/lab.env, DIR/ca.pem; run until SIGINT/SIGTERM.
//	                              The cost model: -rtt is the round-trip time of every request/response
//	                              exchange (and TCP/TLS handshake flight) on every protocol, -rtt-<protocol>
//	                              overrides it for one; -powershell-start is charged per WinRM command.
//	bastion-lab status -dir DIR   print the lab's call counters (per protocol and host), the cost model's
//	                              counters, and rejected scripts
//	bastion-lab fault  -dir DIR -host H -protocol winrm|ldap|tds -kind K [-n N]
//	bastion-lab down   -dir DIR -host H       the server is lost: every protocol refuses
//	bastion-lab failover -dir DIR -to NODE [-network N] [-outage 30s] [-failed-logins N]
//	                                          move the SQL instance (Move-ClusterGroup)
//
// Every endpoint listens on 127.0.0.1 only.
package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/bastion-pam/terraform-provider-bastion/internal/lab"
	"github.com/bastion-pam/terraform-provider-bastion/internal/lab/model"
)

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	fs := flag.NewFlagSet(os.Args[1], flag.ExitOnError)
	dir := fs.String("dir", ".demo", "state directory")
	host := fs.String("host", "", "host FQDN")
	protocol := fs.String("protocol", "winrm", "protocol: winrm, ldap or tds")
	kind := fs.String("kind", "", "fault kind (refuse, http500, http503, timeout, drop, busy, login_failed, unauthorized)")
	n := fs.Int("n", 1, "how many calls the fault affects (-1: until cleared)")
	rtt := fs.Duration("rtt", 0, "serve: round-trip time per request/response exchange on every protocol")
	rttWinRM := fs.Duration("rtt-winrm", -1, "serve: round-trip time for WinRM (default -rtt)")
	rttLDAP := fs.Duration("rtt-ldap", -1, "serve: round-trip time for LDAP (default -rtt)")
	rttTDS := fs.Duration("rtt-tds", -1, "serve: round-trip time for TDS (default -rtt)")
	psStart := fs.Duration("powershell-start", model.DefaultPowerShellStart, "serve: PowerShell start cost per WinRM command")
	sqlRelease := fs.String("sql-version", "2019", "serve: SQL Server release of the lab's instance and setup media (2019 or 2022)")
	network := fs.String("network", model.SQLNetwork, "failover: the instance's network name")
	to := fs.String("to", "", "failover: the node (FQDN) to move the instance to")
	outage := fs.Duration("outage", 0, "failover: how long the network name is offline (connections refused)")
	failedLogins := fs.Int("failed-logins", 0, "failover: logins that fail with 18456 after the outage")
	_ = fs.Parse(os.Args[2:])
	costs := model.Costs{RTT: map[string]time.Duration{}, PowerShellStart: *psStart}
	for p, d := range map[string]time.Duration{model.WinRM: *rttWinRM, model.LDAP: *rttLDAP, model.TDS: *rttTDS} {
		if d < 0 {
			d = *rtt
		}
		costs.RTT[p] = d
	}
	var err error
	switch os.Args[1] {
	case "serve":
		var version string
		if version, err = model.SQLVersionForRelease(*sqlRelease); err == nil {
			err = serve(*dir, costs, version)
		}
	case "status":
		err = control(*dir, "GET", "/status", nil)
	case "fault":
		err = control(*dir, "POST", "/fault", map[string]any{"host": *host, "protocol": *protocol, "kind": *kind, "n": *n})
	case "down":
		err = control(*dir, "POST", "/reachable", map[string]any{"host": *host, "up": false})
	case "failover":
		err = control(*dir, "POST", "/failover", map[string]any{"network": *network, "to": *to, "outage": outage.String(), "failed_logins": *failedLogins})
	default:
		usage()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bastion-lab:", err)
		os.Exit(1)
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: bastion-lab serve|status|fault|down|failover -dir DIR [flags]")
	os.Exit(2)
}

func serve(dir string, costs model.Costs, sqlVersion string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	l, err := lab.Start(lab.Options{Dir: dir, Seed: model.Seed{SQLVersion: sqlVersion}})
	if err != nil {
		return err
	}
	defer l.Close()
	l.Env.SetCosts(costs)

	tokenBytes := make([]byte, 16)
	_, _ = rand.Read(tokenBytes)
	token := hex.EncodeToString(tokenBytes)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: controlHandler(l, token), ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	defer func() { _ = srv.Close() }()

	vars := l.EnvVars()
	vars["TF_VAR_mim_service_account_password"] = l.Seed.MIMSvcPassword
	var b strings.Builder
	keys := make([]string, 0, len(vars))
	for k := range vars {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(&b, "export %s='%s'\n", k, strings.ReplaceAll(vars[k], "'", `'\''`))
	}
	if err := os.WriteFile(filepath.Join(dir, "lab.env"), []byte(b.String()), 0o600); err != nil {
		return err
	}
	ctl, _ := json.Marshal(map[string]string{"address": ln.Addr().String(), "token": token})
	if err := os.WriteFile(filepath.Join(dir, "control.json"), ctl, 0o600); err != nil {
		return err
	}
	// The ready file is written last: its presence means every endpoint listens.
	if err := os.WriteFile(filepath.Join(dir, "ready"), []byte(fmt.Sprint(os.Getpid())), 0o600); err != nil {
		return err
	}
	fmt.Printf("bastion lab: domain %s, %d hosts, endpoints on 127.0.0.1; settings in %s\n", model.DomainDNS, len(l.Env.HostNames()), filepath.Join(dir, "lab.env"))

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	<-ctx.Done()
	_ = os.Remove(filepath.Join(dir, "ready"))
	_ = os.Remove(filepath.Join(dir, "control.json"))
	return nil
}

type status struct {
	Calls    map[string]map[string]int               `json:"calls"`
	Costs    costsJSON                               `json:"costs"`
	Net      map[string]map[string]model.NetCounters `json:"net"`
	Scripts  map[string]int                          `json:"scripts"`
	Rejected []model.RejectedScript                  `json:"rejected"`
	Pending  []string                                `json:"pending_requests"`
}

func controlHandler(l *lab.Lab, token string) http.Handler {
	mux := http.NewServeMux()
	auth := func(h http.HandlerFunc) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			if r.Header.Get("Authorization") != "Bearer "+token {
				http.Error(w, "unauthorized", http.StatusUnauthorized)
				return
			}
			h(w, r)
		}
	}
	mux.HandleFunc("GET /status", auth(func(w http.ResponseWriter, _ *http.Request) {
		c := l.Env.Costs()
		cj := costsJSON{RTTms: map[string]float64{}, PowerShellStartMs: ms(c.PowerShellStart)}
		for p, d := range c.RTT {
			cj.RTTms[p] = ms(d)
		}
		_ = json.NewEncoder(w).Encode(status{Calls: l.Env.Calls(), Costs: cj, Net: l.Env.NetCounters(), Scripts: l.Env.ScriptRuns(), Rejected: l.Env.Rejected(), Pending: l.Env.PendingRequests()})
	}))
	mux.HandleFunc("POST /fault", auth(func(w http.ResponseWriter, r *http.Request) {
		var in struct {
			Host, Protocol, Kind string
			N                    int
		}
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		if err := l.Env.InjectFault(in.Host, in.Protocol, model.FaultKind(in.Kind), in.N); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		_, _ = io.WriteString(w, "{}")
	}))
	mux.HandleFunc("POST /failover", auth(func(w http.ResponseWriter, r *http.Request) {
		var in struct {
			Network, To, Outage string
			FailedLogins        int `json:"failed_logins"`
		}
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		outage, err := time.ParseDuration(in.Outage)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		if err := l.Env.Failover(in.Network, in.To, model.FailoverOptions{Outage: outage, FailedLogins: in.FailedLogins}); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		_, _ = io.WriteString(w, "{}")
	}))
	mux.HandleFunc("POST /reachable", auth(func(w http.ResponseWriter, r *http.Request) {
		var in struct {
			Host string
			Up   bool
		}
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		if err := l.Env.SetReachable(in.Host, in.Up); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		_, _ = io.WriteString(w, "{}")
	}))
	return mux
}

func control(dir, method, path string, body any) error {
	b, err := os.ReadFile(filepath.Join(dir, "control.json"))
	if err != nil {
		return fmt.Errorf("no running lab in %s: %w", dir, err)
	}
	var ctl struct{ Address, Token string }
	if err := json.Unmarshal(b, &ctl); err != nil {
		return err
	}
	var rd io.Reader
	if body != nil {
		j, _ := json.Marshal(body)
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, "http://"+ctl.Address+path, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+ctl.Token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer func() { _ = resp.Body.Close() }()
	out, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return errors.New(strings.TrimSpace(string(out)))
	}
	if path != "/status" {
		return nil
	}
	var st status
	if err := json.Unmarshal(out, &st); err != nil {
		return err
	}
	fmt.Println("remote calls the lab answered, by protocol and host:")
	for _, p := range []string{model.WinRM, model.LDAP, model.TDS} {
		hosts := st.Calls[p]
		names := make([]string, 0, len(hosts))
		total := 0
		for h, n := range hosts {
			names = append(names, h)
			total += n
		}
		sort.Strings(names)
		fmt.Printf("  %-5s %4d", p, total)
		for _, h := range names {
			fmt.Printf("  %s=%d", h, hosts[h])
		}
		fmt.Println()
	}
	fmt.Printf("cost model: round trip winrm=%gms ldap=%gms tds=%gms, PowerShell start %gms per WinRM command\n",
		st.Costs.RTTms[model.WinRM], st.Costs.RTTms[model.LDAP], st.Costs.RTTms[model.TDS], st.Costs.PowerShellStartMs)
	fmt.Printf("  %-5s %-40s %8s %8s %6s %6s %7s %7s %10s %10s\n", "proto", "host", "requests", "rtrips", "conns", "tls", "logins", "scripts", "bytes_in", "bytes_out")
	for _, p := range []string{model.WinRM, model.LDAP, model.TDS} {
		hosts := make([]string, 0, len(st.Net[p]))
		for h := range st.Net[p] {
			hosts = append(hosts, h)
		}
		sort.Strings(hosts)
		for _, h := range hosts {
			c := st.Net[p][h]
			fmt.Printf("  %-5s %-40s %8d %8d %6d %6d %7d %7d %10d %10d\n", p, h, c.Requests, c.RoundTrips, c.Connections, c.TLSHandshakes, c.Logins, c.Scripts, c.BytesIn, c.BytesOut)
		}
	}
	fmt.Printf("scripts run: %v\nscripts rejected: %d\n", st.Scripts, len(st.Rejected))
	return nil
}

// costsJSON is the cost model as the status answer shows it.
type costsJSON struct {
	RTTms             map[string]float64 `json:"rtt_ms"`
	PowerShellStartMs float64            `json:"powershell_start_ms"`
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
