package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/bastion-pam/terraform-provider-bastion/internal/lab"
	"github.com/bastion-pam/terraform-provider-bastion/internal/lab/model"
)

// controlFile is DIR/control.json: where the running lab's control endpoint
// listens and the token it wants (the file is readable by its owner only).
type controlFile struct {
	Address string `json:"address"`
	Token   string `json:"token"`
}

type status struct {
	Hosts    []hostStatus                            `json:"hosts"`
	Calls    map[string]map[string]int               `json:"calls"`
	Costs    costsJSON                               `json:"costs"`
	Net      map[string]map[string]model.NetCounters `json:"net"`
	Scripts  map[string]int                          `json:"scripts"`
	Rejected []model.RejectedScript                  `json:"rejected"`
	Pending  []string                                `json:"pending_requests"`
	Certs    []model.CertificateFlaw                 `json:"bad_certificates"`
}

type hostStatus struct {
	Host string `json:"host"`
	Up   bool   `json:"up"`
}

// costsJSON is the cost model as the status answer shows it.
type costsJSON struct {
	RTTms             map[string]float64 `json:"rtt_ms"`
	PowerShellStartMs float64            `json:"powershell_start_ms"`
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

type faultRequest struct {
	Host     string `json:"host"`
	Protocol string `json:"protocol"`
	Kind     string `json:"kind"`
	N        int    `json:"n"`
}

type latencyRequest struct {
	Host     string `json:"host"`
	Protocol string `json:"protocol"`
	Delay    string `json:"delay"`
}

type hostRequest struct {
	Host string `json:"host"`
}

type reachableRequest struct {
	Host string `json:"host"`
	Up   bool   `json:"up"`
}

type backupRequest struct {
	Host string `json:"host"`
	Age  string `json:"age"`
}

type accountRequest struct {
	Name string `json:"name"`
	GMSA bool   `json:"gmsa"`
}

type failoverRequest struct {
	Network      string `json:"network"`
	To           string `json:"to"`
	Outage       string `json:"outage"`
	FailedLogins int    `json:"failed_logins"`
}

// handle decodes a request of type T and answers 400 with the lab's refusal.
func handle[T any](do func(T) error) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var in T
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		if err := do(in); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		_, _ = io.WriteString(w, "{}")
	}
}

// sqlNetworks lists the SQL instances' network names.
func sqlNetworks(l *lab.Lab) []string {
	var out []string
	_ = l.Env.Do(func(e *model.Env) error {
		for _, s := range e.SQL {
			out = append(out, s.NetworkName)
		}
		return nil
	})
	sort.Strings(out)
	return out
}

func isSQLNetwork(l *lab.Lab, name string) bool {
	for _, n := range sqlNetworks(l) {
		if model.Key(n) == model.Key(name) {
			return true
		}
	}
	return false
}

func isHost(l *lab.Lab, name string) bool {
	for _, h := range l.Env.HostNames() {
		if model.Key(h) == model.Key(name) {
			return true
		}
	}
	return false
}

func unknownHost(l *lab.Lab, name string) error {
	return fmt.Errorf("the lab has no host or SQL network name %q (hosts: %s; SQL: %s)", name, strings.Join(l.Env.HostNames(), ", "), strings.Join(sqlNetworks(l), ", "))
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
		var hosts []hostStatus
		for _, h := range l.Env.HostNames() {
			hosts = append(hosts, hostStatus{Host: h, Up: l.Env.Reachable(h)})
		}
		sort.Slice(hosts, func(i, j int) bool { return hosts[i].Host < hosts[j].Host })
		_ = json.NewEncoder(w).Encode(status{Hosts: hosts, Calls: l.Env.Calls(), Costs: cj, Net: l.Env.NetCounters(), Scripts: l.Env.ScriptRuns(), Rejected: l.Env.Rejected(), Pending: l.Env.PendingRequests(), Certs: l.Env.CertificateFlaws()})
	}))
	mux.HandleFunc("POST /fault", auth(handle(func(in faultRequest) error {
		kind := model.FaultKind(in.Kind)
		switch {
		case isHost(l, in.Host):
			return l.Env.InjectFault(in.Host, in.Protocol, kind, in.N)
		case in.Protocol == model.TDS && isSQLNetwork(l, in.Host):
			return l.Env.InjectSQLFault(in.Host, kind, in.N)
		}
		return unknownHost(l, in.Host)
	})))
	mux.HandleFunc("POST /cert", auth(handle(func(in model.CertificateFlaw) error {
		if !isHost(l, in.Host) && !isSQLNetwork(l, in.Host) {
			return unknownHost(l, in.Host)
		}
		return l.Env.SetCertificateFlaw(in.Host, in.Protocol, in.Flaw)
	})))
	mux.HandleFunc("POST /latency", auth(handle(func(in latencyRequest) error {
		d, err := time.ParseDuration(in.Delay)
		if err != nil {
			return err
		}
		switch {
		case isHost(l, in.Host):
			return l.Env.SetLatency(in.Host, in.Protocol, d)
		case in.Protocol == model.TDS && isSQLNetwork(l, in.Host):
			return l.Env.SetSQLLatency(in.Host, d)
		}
		return unknownHost(l, in.Host)
	})))
	mux.HandleFunc("POST /clear", auth(handle(func(in hostRequest) error {
		hosts, networks := l.Env.HostNames(), sqlNetworks(l)
		if in.Host != "" {
			switch {
			case isHost(l, in.Host):
				hosts, networks = []string{in.Host}, nil
			case isSQLNetwork(l, in.Host):
				hosts, networks = nil, []string{in.Host}
			default:
				return unknownHost(l, in.Host)
			}
		}
		for _, h := range hosts {
			l.Env.ClearFaults(h)
		}
		for _, n := range networks {
			l.Env.ClearSQLFaults(n)
		}
		return nil
	})))
	mux.HandleFunc("POST /reachable", auth(handle(func(in reachableRequest) error {
		if !isHost(l, in.Host) {
			return unknownHost(l, in.Host)
		}
		return l.Env.SetReachable(in.Host, in.Up)
	})))
	mux.HandleFunc("POST /backup", auth(handle(func(in backupRequest) error {
		age, err := time.ParseDuration(in.Age)
		if err != nil {
			return err
		}
		return l.Env.RecordBackup(in.Host, l.Env.Now().Add(-age))
	})))
	mux.HandleFunc("POST /account", auth(handle(func(in accountRequest) error {
		domain, sam, _ := strings.Cut(in.Name, `\`)
		if in.GMSA {
			return l.Env.AddManagedServiceAccount(domain, sam)
		}
		return l.Env.AddDomainUser(domain, sam, model.RandomPassword())
	})))
	mux.HandleFunc("POST /failover", auth(handle(func(in failoverRequest) error {
		outage, err := time.ParseDuration(in.Outage)
		if err != nil {
			return err
		}
		return l.Env.Failover(in.Network, in.To, model.FailoverOptions{Outage: outage, FailedLogins: in.FailedLogins})
	})))
	requestHandlers(mux, l, auth)
	return mux
}

// post asks the running lab for a change and, once it is made, tells the
// user what changed.
func post(ctx context.Context, dir, path string, body any, out io.Writer, format string, args ...any) error {
	if err := control(ctx, dir, http.MethodPost, path, body, nil); err != nil {
		return err
	}
	_, err := fmt.Fprintf(out, format, args...)
	return err
}

// control sends one request to the lab running in dir and decodes the
// answer into out (when not nil).
func control(ctx context.Context, dir, method, path string, body, out any) error {
	b, err := os.ReadFile(filepath.Join(dir, "control.json"))
	if err != nil {
		return fmt.Errorf("no running lab in %s (start one with \"bastion-lab serve -dir %s\"): %w", dir, dir, err)
	}
	var ctl controlFile
	if err := json.Unmarshal(b, &ctl); err != nil {
		return fmt.Errorf("%s: %w", filepath.Join(dir, "control.json"), err)
	}
	var rd io.Reader
	if body != nil {
		j, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequestWithContext(ctx, method, "http://"+ctl.Address+path, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+ctl.Token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("the lab in %s does not answer (has it stopped?): %w", dir, err)
	}
	defer func() { _ = resp.Body.Close() }()
	answer, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return errors.New(strings.TrimSpace(string(answer)))
	}
	if out == nil {
		return nil
	}
	return json.Unmarshal(answer, out)
}

// printStatus writes the status as tables.
func printStatus(out io.Writer, st status, all bool) error {
	w := &strings.Builder{}
	var down []string
	for _, h := range st.Hosts {
		if !h.Up {
			down = append(down, h.Host)
		}
	}
	fmt.Fprintf(w, "hosts: %d", len(st.Hosts))
	if len(down) > 0 {
		fmt.Fprintf(w, ", down: %s", strings.Join(down, ", "))
	} else {
		fmt.Fprint(w, ", all up")
	}
	fmt.Fprintf(w, "\ncost model: round trip winrm %gms, ldap %gms, tds %gms; PowerShell start %gms per WinRM command\n\n",
		st.Costs.RTTms[model.WinRM], st.Costs.RTTms[model.LDAP], st.Costs.RTTms[model.TDS], st.Costs.PowerShellStartMs)

	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	_, _ = fmt.Fprintln(tw, "PROTOCOL\tHOST\tCALLS\tREQUESTS\tROUND TRIPS\tCONNECTIONS\tTLS\tLOGINS\tSCRIPTS\tBYTES IN\tBYTES OUT")
	rows := 0
	for _, p := range []string{model.WinRM, model.LDAP, model.TDS} {
		seen := map[string]bool{}
		for h := range st.Net[p] {
			seen[h] = true
		}
		for h := range st.Calls[p] {
			seen[h] = true
		}
		hosts := slices.Sorted(maps.Keys(seen))
		for _, h := range hosts {
			c, calls := st.Net[p][h], st.Calls[p][h]
			if !all && calls == 0 && c.Requests == 0 && c.Connections == 0 {
				continue
			}
			rows++
			_, _ = fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\n", p, h, calls, c.Requests, c.RoundTrips, c.Connections, c.TLSHandshakes, c.Logins, c.Scripts, c.BytesIn, c.BytesOut)
		}
	}
	_ = tw.Flush() // into a strings.Builder: cannot fail
	if rows == 0 {
		fmt.Fprintln(w, "(nothing called the lab yet; -all lists every host)")
	}
	scripts := make([]string, 0, len(st.Scripts))
	for s, n := range st.Scripts {
		scripts = append(scripts, fmt.Sprintf("%s %d", s, n))
	}
	sort.Strings(scripts)
	if len(scripts) == 0 {
		scripts = []string{"none"}
	}
	fmt.Fprintf(w, "\nscripts run: %s\nscripts rejected: %d\n", strings.Join(scripts, ", "), len(st.Rejected))
	for _, r := range st.Rejected {
		j, _ := json.Marshal(r)
		fmt.Fprintf(w, "  %s\n", j)
	}
	fmt.Fprintf(w, "requests still running: %d\n", len(st.Pending))
	if len(st.Certs) > 0 {
		fmt.Fprintln(w, "bad certificates (\"bastion-lab cert\"):")
		for _, c := range st.Certs {
			fmt.Fprintf(w, "  %s %s: %s\n", c.Protocol, c.Host, c.Flaw)
		}
	}
	_, err := io.WriteString(out, w.String())
	return err
}
