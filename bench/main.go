// Command bench is `make bench`: refresh-only plans (and an apply of the
// demo) against the lab with its cost model, at parallelism 1 and 10 and at
// 0 and 20 ms per round trip, for examples/demo, every configuration under
// examples/topologies and a generated 200-resource bastion; and the same
// refreshes in the peer style (one PowerShell command per read). It prints a
// table and writes bench/results.json. bench/README.md defines the lower
// bound and the ratio.
//
// The provider runs as Terraform starts it, through dev_overrides; this
// program stands in for it (the overrides directory holds a link to this
// binary named terraform-provider-bastion) to record the real provider's
// peak RSS when it exits.
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/bastion-pam/terraform-provider-bastion/internal/lab"
	"github.com/bastion-pam/terraform-provider-bastion/internal/lab/model"
)

// peerSerialLimit: the peer variant runs at parallelism 1 only for configurations
// with at most this many reads (the generated one would spend 200 PowerShell
// starts, over two minutes, per latency, and the comparison is at parallelism 10).
const peerSerialLimit = 50

const (
	providerName = "terraform-provider-bastion"
	// Environment the stand-in reads: the real provider and where to record its peak RSS.
	envRealProvider = "BASTION_BENCH_PROVIDER"
	envRSSFile      = "BASTION_BENCH_RSS_FILE"
)

// Run is one line of bench/results.json (the fields issue 14 lists).
type Run struct {
	Config               string  `json:"config"`
	Variant              string  `json:"variant"` // provider or peer
	Parallelism          int     `json:"parallelism"`
	LatencyMs            int     `json:"latency_ms"`
	Resources            int     `json:"resources"`
	WallS                float64 `json:"wall_s"`
	BoundS               float64 `json:"bound_s"`
	Ratio                float64 `json:"ratio"`
	SQLLoginsPerEndpoint float64 `json:"sql_logins_per_endpoint"`
	LDAPSearches         int64   `json:"ldap_searches"`
	WinRMHTTPRequests    int64   `json:"winrm_http_requests"`
	PowerShellRuns       int64   `json:"powershell_runs"`
	PeakRSSMiB           float64 `json:"peak_rss_mib"`
	// NetS is the network part as the lab measured it: the wall-clock time
	// during which at least one round trip was in flight (the ratio's
	// numerator). WallNetS is the same estimated from wall times: this
	// run's minus the 0 ms run's (medians; the machine is shared).
	NetS     float64 `json:"net_s"`
	WallNetS float64 `json:"wall_net_s"`
	// RemoteS is from the first round trip's start to the last one's end
	// (with PowerShell starts inside it): the provider's remote phase.
	RemoteS float64 `json:"remote_s"`
	// PeerPlanS (peer runs): the peer's reads plus the Terraform time of
	// the provider's run at the same settings (its wall minus RemoteS), a
	// peer provider's plan; PeerRatio: PeerPlanS over the provider's wall.
	PeerPlanS float64 `json:"peer_plan_s,omitempty"`
	PeerRatio float64 `json:"peer_ratio,omitempty"`
	// Repeats: plans measured; the run reports the median of each figure.
	Repeats int `json:"repeats"`
	// Counters: the cost model's counters per protocol (winrm, ldap, tds).
	Counters map[string]model.NetCounters `json:"counters"`
	counters map[string]model.NetCounters
	zeroWall float64
}

type options struct {
	provider    string
	out         string
	only        string
	repeat      int
	latencies   []int
	parallelism []int
	psStart     time.Duration
	keep        bool
	trace       bool
}

func main() {
	if filepath.Base(os.Args[0]) == providerName {
		os.Exit(standIn())
	}
	var o options
	var lat, par string
	flag.StringVar(&o.provider, "provider", "bin/"+providerName, "the provider binary to measure")
	flag.StringVar(&o.out, "out", "bench/results.json", "where to write the results")
	flag.StringVar(&o.only, "only", "", "run only configurations whose name contains this")
	flag.IntVar(&o.repeat, "repeat", 3, "plans per measurement (one fewer for the generated bastions); medians count (the machine is shared)")
	flag.StringVar(&lat, "latency", "0,20", "round-trip times in ms (0 is needed: the ratio subtracts it)")
	flag.StringVar(&par, "parallelism", "1,10", "terraform -parallelism values")
	flag.DurationVar(&o.psStart, "powershell-start", model.DefaultPowerShellStart, "PowerShell start cost per WinRM command")
	flag.BoolVar(&o.keep, "keep", false, "keep the work directory")
	flag.BoolVar(&o.trace, "trace", false, "print every round trip (and PowerShell start) of each measured provider run with latency")
	flag.Parse()
	var err error
	if o.latencies, err = ints(lat); err == nil {
		o.parallelism, err = ints(par)
	}
	if err == nil {
		err = run(o)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func ints(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil {
			return nil, fmt.Errorf("%q is not a number", f)
		}
		out = append(out, n)
	}
	return out, nil
}

// standIn runs the real provider with this process's arguments and standard
// streams (Terraform reads the plugin handshake from its stdout), forwards
// signals, and appends the provider's peak RSS in KiB to $BASTION_BENCH_RSS_FILE.
func standIn() int {
	cmd := exec.Command(os.Getenv(envRealProvider), os.Args[1:]...) //nolint:gosec // the provider binary the benchmark was given, with Terraform's arguments
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	if err := cmd.Start(); err != nil {
		fmt.Fprintln(os.Stderr, "bench stand-in:", err)
		return 1
	}
	sig := make(chan os.Signal, 4)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	go func() {
		for s := range sig {
			_ = cmd.Process.Signal(s)
		}
	}()
	err := cmd.Wait()
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		if f, ferr := os.OpenFile(os.Getenv(envRSSFile), os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600); ferr == nil { //nolint:gosec // the benchmark's own work directory
			_, _ = fmt.Fprintf(f, "%d\n", ru.Maxrss) // KiB on Linux
			_ = f.Close()
		}
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode()
	}
	if err != nil {
		return 1
	}
	return 0
}

// config is one measured Terraform configuration.
type config struct {
	name  string // as reported: examples/demo, examples/topologies/x, generated/200-resources
	files map[string][]byte
	// apply: the configuration builds things (the demo): apply it first (measured).
	apply bool
	// importApply: the state comes from import blocks applied first (not measured).
	importApply bool
	// env builds the lab's model (nil: the default bastion).
	env func() (*model.Env, model.Seed)
	// scaleOnly: measured at parallelism 10 only, for the growth check.
	scaleOnly bool
}

func run(o options) error {
	root, err := os.Getwd()
	if err != nil {
		return err
	}
	provider, err := filepath.Abs(o.provider)
	if err != nil {
		return err
	}
	if _, err := os.Stat(provider); err != nil {
		return fmt.Errorf("no provider binary at %s: run make build first", provider)
	}
	tf, err := exec.LookPath("terraform")
	if err != nil {
		return errors.New("terraform not found on PATH: install Terraform >= 1.11 (the benchmark runs the real CLI and never downloads one)")
	}
	work, err := os.MkdirTemp("", "bastion-bench-")
	if err != nil {
		return err
	}
	if !o.keep {
		defer func() { _ = os.RemoveAll(work) }()
	} else {
		fmt.Println("work directory:", work)
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	overrides := filepath.Join(work, "overrides")
	if err := os.MkdirAll(overrides, 0o700); err != nil {
		return err
	}
	if err := os.Symlink(self, filepath.Join(overrides, providerName)); err != nil {
		return err
	}
	mirror := filepath.Join(work, "mirror", "registry.terraform.io", "bastion-pam", "bastion", "0.1.0", runtime.GOOS+"_"+runtime.GOARCH)
	if err := os.MkdirAll(mirror, 0o700); err != nil {
		return err
	}
	if err := os.Symlink(provider, filepath.Join(mirror, providerName+"_v0.1.0")); err != nil {
		return err
	}
	rc := filepath.Join(work, "terraformrc")
	rcText := fmt.Sprintf("provider_installation {\n  dev_overrides {\n    \"bastion-pam/bastion\" = %q\n  }\n  filesystem_mirror {\n    path    = %q\n    include = [\"bastion-pam/bastion\"]\n  }\n}\n",
		overrides, filepath.Join(work, "mirror"))
	if err := os.WriteFile(rc, []byte(rcText), 0o600); err != nil {
		return err
	}
	configs, err := loadConfigs(root)
	if err != nil {
		return err
	}
	h := &harness{o: o, tf: tf, work: work, rc: rc, provider: provider}
	start := time.Now()
	var runs []*Run
	for _, c := range configs {
		if o.only != "" && !strings.Contains(c.name, o.only) {
			continue
		}
		rs, err := h.config(c)
		if err != nil {
			return fmt.Errorf("%s: %w", c.name, err)
		}
		runs = append(runs, rs...)
	}
	ratios(runs)
	printTable(os.Stdout, runs)
	printGrowth(os.Stdout, runs)
	fmt.Printf("bench: %d runs in %s (provider %s)\n", len(runs), time.Since(start).Round(time.Second), provider)
	b, err := json.MarshalIndent(runs, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(o.out, append(b, '\n'), 0o600)
}

func loadConfigs(root string) ([]config, error) {
	read := func(dir string) (map[string][]byte, error) {
		files := map[string][]byte{}
		m, err := filepath.Glob(filepath.Join(root, dir, "*.tf"))
		if err != nil {
			return nil, err
		}
		for _, f := range m {
			b, err := os.ReadFile(filepath.Clean(f))
			if err != nil {
				return nil, err
			}
			files[filepath.Base(f)] = b
		}
		if len(files) == 0 {
			return nil, fmt.Errorf("no .tf files in %s", dir)
		}
		return files, nil
	}
	demo, err := read("examples/demo")
	if err != nil {
		return nil, err
	}
	out := []config{{name: "examples/demo", files: demo, apply: true}}
	dirs, err := filepath.Glob(filepath.Join(root, "examples/topologies/*"))
	if err != nil {
		return nil, err
	}
	sort.Strings(dirs)
	for _, d := range dirs {
		rel, _ := filepath.Rel(root, d)
		files, err := read(rel)
		if err != nil {
			return nil, err
		}
		out = append(out, config{name: rel, files: files})
	}
	for _, n := range genSizes {
		out = append(out, generated(n))
	}
	return out, nil
}

type harness struct {
	o               options
	tf, work, rc    string
	provider        string
	labDir, rssFile string
	cfgDir          string
	env             []string
	l               *lab.Lab
}

// config measures one configuration at every latency and parallelism.
func (h *harness) config(c config) ([]*Run, error) {
	h.cfgDir = filepath.Join(h.work, strings.ReplaceAll(c.name, "/", "_"))
	if err := os.MkdirAll(h.cfgDir, 0o700); err != nil {
		return nil, err
	}
	for name, b := range c.files {
		if err := os.WriteFile(filepath.Join(h.cfgDir, name), b, 0o600); err != nil {
			return nil, err
		}
	}
	var runs []*Run
	var g *graph
	initDone := false
	// One lab per configuration, its cost model set per latency: only a
	// measured apply (the demo) needs a fresh lab at each latency, since it
	// creates what it measures; the generated bastions import once.
	defer h.stopLab()
	for _, lat := range h.o.latencies {
		fresh := h.l == nil || c.apply
		if fresh {
			h.stopLab()
			if err := h.startLab(c, lat); err != nil {
				return nil, err
			}
		} else {
			h.setLatency(lat)
		}
		rs, err := func() ([]*Run, error) {
			if !initDone {
				if _, err := h.terraform("init", "-input=false", "-no-color"); err != nil {
					return nil, err
				}
				initDone = true
			}
			if fresh {
				_ = os.Remove(filepath.Join(h.cfgDir, "terraform.tfstate"))
			}
			var runs []*Run
			var applyRun *Run
			if c.apply || c.importApply && fresh {
				r, err := h.measure(c.name+":apply", 10, lat, "apply", "-input=false", "-auto-approve", "-no-color", "-parallelism=10")
				if err != nil {
					return nil, err
				}
				if c.apply {
					applyRun = r
					runs = append(runs, r)
				}
			}
			if g == nil {
				var err error
				if g, err = h.graph(); err != nil {
					return nil, err
				}
			}
			if applyRun != nil {
				applyRun.Resources = len(g.nodes)
			}
			for _, p := range h.o.parallelism {
				if c.scaleOnly && p != 10 {
					continue
				}
				repeat := h.o.repeat
				switch {
				case !g.remote():
					repeat = 1 // no server to read: the network part is nil at any latency, the counters exact
				case c.env != nil:
					repeat = max(1, repeat-1) // the generated bastions' plans take seconds each
				}
				var rs []*Run
				for i := 0; i < max(1, repeat); i++ {
					r, err := h.measure(c.name, p, lat, "plan", "-refresh-only", "-input=false", "-no-color", "-lock=false", fmt.Sprintf("-parallelism=%d", p))
					if err != nil {
						return nil, err
					}
					rs = append(rs, r)
				}
				best := median(rs)
				best.Resources = len(g.nodes)
				best.BoundS = g.bound(p, lat)
				runs = append(runs, best)
				if p == 1 && len(g.nodes) > peerSerialLimit || c.scaleOnly || !g.remote() {
					continue // serial PowerShell starts for minutes (peerSerialLimit), a growth-check size, or nothing to read
				}
				var prs []*Run
				peerRepeat := repeat
				if c.env != nil {
					peerRepeat = 1 // the generated bastion's peer refresh takes a quarter of a minute
				}
				for i := 0; i < max(1, peerRepeat); i++ {
					peer, err := h.peer(c.name, g, p, lat)
					if err != nil {
						return nil, err
					}
					prs = append(prs, peer)
				}
				peer := median(prs)
				peer.Resources = len(g.nodes)
				peer.BoundS = best.BoundS
				peer.PeerPlanS = peer.WallS + max(0, best.WallS-best.RemoteS)
				if best.WallS > 0 {
					peer.PeerRatio = round(peer.PeerPlanS/best.WallS, 2)
				}
				runs = append(runs, peer)
			}
			return runs, nil
		}()
		if err != nil {
			return nil, err
		}
		runs = append(runs, rs...)
	}
	return runs, nil
}

func (h *harness) startLab(c config, latencyMs int) error {
	h.labDir = filepath.Join(h.work, "lab")
	_ = os.RemoveAll(h.labDir)
	if err := os.MkdirAll(h.labDir, 0o700); err != nil {
		return err
	}
	var err error
	if c.env != nil {
		env, seed := c.env()
		h.l, err = lab.StartEnv(env, seed, h.labDir)
	} else {
		h.l, err = lab.Start(lab.Options{Dir: h.labDir})
	}
	if err != nil {
		return err
	}
	h.setLatency(latencyMs)
	h.l.Env.TraceNet(h.o.trace)
	h.rssFile = filepath.Join(h.work, "rss")
	env := os.Environ()
	for k, v := range h.l.EnvVars() {
		env = append(env, k+"="+v)
	}
	env = append(env,
		"TF_VAR_mim_service_account_password="+h.l.Seed.MIMSvcPassword,
		"TF_VAR_dsrm_password="+model.RandomPassword(),
		"TF_CLI_CONFIG_FILE="+h.rc, "TF_IN_AUTOMATION=1", "CHECKPOINT_DISABLE=1",
		envRealProvider+"="+h.provider, envRSSFile+"="+h.rssFile)
	h.env = env
	return nil
}

// setLatency sets the lab's cost model: latencyMs per round trip on every protocol.
func (h *harness) setLatency(latencyMs int) {
	rtt := time.Duration(latencyMs) * time.Millisecond
	h.l.Env.SetCosts(model.Costs{RTT: map[string]time.Duration{model.WinRM: rtt, model.LDAP: rtt, model.TDS: rtt}, PowerShellStart: h.o.psStart})
}

func (h *harness) stopLab() {
	if h.l != nil {
		h.l.Close()
		h.l = nil
	}
}

func (h *harness) terraform(args ...string) ([]byte, error) {
	cmd := exec.Command(h.tf, append([]string{"-chdir=" + h.cfgDir}, args...)...)
	cmd.Env = h.env
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return out.Bytes(), fmt.Errorf("terraform %s: %w\n%s", args[0], err, out.String())
	}
	return out.Bytes(), nil
}

// measure runs one terraform command with fresh counters.
func (h *harness) measure(name string, p, latencyMs int, args ...string) (*Run, error) {
	h.l.Env.ResetNetCounters()
	_ = os.Remove(h.rssFile)
	start := time.Now()
	if _, err := h.terraform(args...); err != nil {
		return nil, err
	}
	wall := time.Since(start).Seconds()
	busy, span := h.l.Env.NetBusy()
	if h.o.trace && latencyMs > 0 {
		fmt.Printf("trace: %s parallelism %d, %d ms: network %.3f s\n", name, p, latencyMs, busy.Seconds())
		for _, rt := range h.l.Env.NetTrace() {
			fmt.Printf("trace:   %7.3f %7.3f  %-5s %-10s %s\n", rt.Start.Seconds(), rt.End.Seconds(), rt.Protocol, rt.Kind, rt.Host)
		}
	}
	open := 0
	for _, host := range h.l.Env.HostNames() {
		open += h.l.WinRM.Stats(host).Shells
	}
	if open > 0 {
		fmt.Fprintf(os.Stderr, "bench: %s left %d WinRM shells open after terraform %s exited\n", name, open, args[0])
	}
	r := &Run{Config: name, Variant: "provider", Parallelism: p, LatencyMs: latencyMs, WallS: wall, NetS: busy.Seconds(), RemoteS: span.Seconds(), Repeats: 1}
	r.fill(h.l.Env)
	if b, err := os.ReadFile(h.rssFile); err == nil {
		for _, f := range strings.Fields(string(b)) {
			if kib, err := strconv.ParseFloat(f, 64); err == nil && kib/1024 > r.PeakRSSMiB {
				r.PeakRSSMiB = kib / 1024
			}
		}
	}
	return r, nil
}

// fill copies the cost model's counters into the run.
func (r *Run) fill(e *model.Env) {
	r.counters = e.NetTotals()
	r.Counters = r.counters
	r.LDAPSearches = r.counters[model.LDAP].Searches
	r.WinRMHTTPRequests = r.counters[model.WinRM].Requests
	r.PowerShellRuns = r.counters[model.WinRM].Scripts
	var logins, endpoints int64
	for _, c := range e.NetCounters()[model.TDS] {
		if c.Connections > 0 {
			endpoints++
			logins += c.Logins
		}
	}
	if endpoints > 0 {
		r.SQLLoginsPerEndpoint = float64(logins) / float64(endpoints)
	}
}

// median returns the run with the median wall time, with the median of
// each measured figure (wall, network, remote phase, RSS) of rs: on a
// shared machine one slow plan says nothing about the provider.
func median(rs []*Run) *Run {
	med := func(get func(*Run) float64) float64 {
		v := make([]float64, len(rs))
		for i, r := range rs {
			v[i] = get(r)
		}
		sort.Float64s(v)
		if len(v)%2 == 1 {
			return v[len(v)/2]
		}
		return (v[len(v)/2-1] + v[len(v)/2]) / 2
	}
	sorted := append([]*Run{}, rs...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].WallS < sorted[j].WallS })
	out := *sorted[(len(sorted)-1)/2]
	out.WallS = med(func(r *Run) float64 { return r.WallS })
	out.NetS = med(func(r *Run) float64 { return r.NetS })
	out.RemoteS = med(func(r *Run) float64 { return r.RemoteS })
	out.PeakRSSMiB = med(func(r *Run) float64 { return r.PeakRSSMiB })
	out.Repeats = len(rs)
	return &out
}

// ratios sets each run's ratio: the network part of its wall time, as the
// lab measured it (NetS), over the lower bound; and WallNetS, the network
// part estimated from wall times (the run's minus the 0 ms run's).
func ratios(runs []*Run) {
	zero := map[string]float64{}
	key := func(r *Run) string { return fmt.Sprintf("%s|%s|%d", r.Config, r.Variant, r.Parallelism) }
	for _, r := range runs {
		if r.LatencyMs == 0 {
			zero[key(r)] = r.WallS
		}
	}
	for _, r := range runs {
		if r.LatencyMs == 0 {
			continue
		}
		if z, ok := zero[key(r)]; ok {
			r.zeroWall, r.WallNetS = z, round(r.WallS-z, 3)
		}
		total := r.counters[model.WinRM].Requests + r.counters[model.LDAP].Requests + r.counters[model.TDS].Requests
		switch {
		case r.BoundS > 0:
			r.Ratio = round(r.NetS/r.BoundS, 2)
		case total == 0:
			r.Ratio = 1 // nothing to read, nothing read: at the floor
		}
	}
	for _, r := range runs {
		r.WallS, r.BoundS, r.PeakRSSMiB = round(r.WallS, 3), round(r.BoundS, 3), round(r.PeakRSSMiB, 1)
		r.NetS, r.RemoteS, r.PeerPlanS = round(r.NetS, 3), round(r.RemoteS, 3), round(r.PeerPlanS, 3)
	}
}

func round(v float64, digits int) float64 {
	p := 1.0
	for i := 0; i < digits; i++ {
		p *= 10
	}
	if v < 0 {
		return -float64(int64(-v*p+0.5)) / p
	}
	return float64(int64(v*p+0.5)) / p
}

func printTable(w *os.File, runs []*Run) {
	_, _ = fmt.Fprintf(w, "%-44s %-8s %3s %4s %5s %8s %7s %7s %7s %6s %7s %5s %5s %6s %6s %5s %5s %6s %6s\n",
		"config", "variant", "par", "ms", "res", "wall_s", "net_s", "bound_s", "ratio", "wnet_s", "peer_x", "sqlLg", "ldapS", "ldapOp", "wsman", "ps", "conns", "tls", "rssMiB")
	for _, r := range runs {
		conns := r.counters[model.WinRM].Connections + r.counters[model.LDAP].Connections + r.counters[model.TDS].Connections
		tls := r.counters[model.WinRM].TLSHandshakes + r.counters[model.LDAP].TLSHandshakes + r.counters[model.TDS].TLSHandshakes
		wnet, peer := "-", "-"
		if r.LatencyMs > 0 && r.zeroWall > 0 {
			wnet = fmt.Sprintf("%.3f", r.WallNetS)
		}
		if r.PeerRatio > 0 {
			peer = fmt.Sprintf("%.2f", r.PeerRatio)
		}
		_, _ = fmt.Fprintf(w, "%-44s %-8s %3d %4d %5d %8.3f %7.3f %7.3f %7.2f %6s %7s %5.1f %5d %6d %6d %5d %5d %6d %6.1f\n",
			r.Config, r.Variant, r.Parallelism, r.LatencyMs, r.Resources, r.WallS, r.NetS, r.BoundS, r.Ratio, wnet, peer,
			r.SQLLoginsPerEndpoint, r.LDAPSearches, r.counters[model.LDAP].Requests, r.WinRMHTTPRequests, r.PowerShellRuns, conns, tls, r.PeakRSSMiB)
	}
}

// printGrowth prints the generated bastions' wall time per resource at
// parallelism 10: flat when the wall time grows linearly.
func printGrowth(w *os.File, runs []*Run) {
	for _, r := range runs {
		if strings.HasPrefix(r.Config, "generated/") && r.Variant == "provider" && r.Parallelism == 10 && r.Resources > 0 {
			_, _ = fmt.Fprintf(w, "growth: %-26s %3d ms: %6.3f s for %3d resources = %5.1f ms per resource, network part %6.3f s\n",
				r.Config, r.LatencyMs, r.WallS, r.Resources, 1000*r.WallS/float64(r.Resources), r.NetS)
		}
	}
}
