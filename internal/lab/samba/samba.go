// Package samba runs a real Active Directory for tests: Samba AD domain controllers
// in Linux network namespaces, built by the embedded samba-lab.sh (see README.md).
//
// Two forests: PRIV.CONTOSO.TEST with priv-dc1 and priv-dc2 (plus priv-dc3, a
// prepared namespace that JoinDC turns into a third DC) and CORP.CONTOSO.TEST with
// corp-dc1, joined by a two-way forest trust. A process in the root network
// namespace (go test) reaches every DC at its IP on 10.77.0.0/24 through the
// veth bl-host (10.77.0.254); LDAPS certificates chain to the lab CA in CACert.
//
// The package needs root (namespaces, mounts, apt). It is never imported by the
// provider's production code.
package samba

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

//go:embed samba-lab.sh
var script []byte

// Sentinel errors, checked with errors.Is.
var (
	// ErrUnavailable: the lab cannot run here (not root, or a tool is missing).
	ErrUnavailable = errors.New("samba lab unavailable")
	// ErrUnknownDC: no DC of that name in the lab.
	ErrUnknownDC = errors.New("unknown domain controller")
	// ErrNotFound: a reference answer has no such object or value.
	ErrNotFound = errors.New("not found")
)

// HowToRun is the advice given when the lab cannot run.
const HowToRun = "run the Samba AD suite as root: `sudo make test`, or `sudo go test ./internal/lab/samba/...` " +
	"(as root, the first run installs Debian's Samba packages with apt)"

// Available reports whether this process can build the lab: nil when it runs as
// root on Linux with bash, ip, nsenter and unshare; otherwise an error wrapping
// ErrUnavailable whose text says how to run the suite.
func Available() error {
	return available(os.Geteuid(), exec.LookPath)
}

func available(euid int, lookPath func(string) (string, error)) error {
	if euid != 0 {
		return fmt.Errorf("%w: it needs root (network namespaces, mounts, apt); %s", ErrUnavailable, HowToRun)
	}
	for _, tool := range []string{"bash", "ip", "nsenter", "unshare", "mount", "apt-get"} {
		if _, err := lookPath(tool); err != nil {
			return fmt.Errorf("%w: %s not found in PATH (%w); %s", ErrUnavailable, tool, err, HowToRun)
		}
	}
	return nil
}

// Lab is a running lab, as described by STATE_DIR/lab.json.
type Lab struct {
	SchemaVersion   int    `json:"schema_version"`
	StateDir        string `json:"state_dir"`
	CreatedAt       string `json:"created_at"`
	SambaVersion    string `json:"samba_version"`
	FunctionalLevel string `json:"functional_level"`
	// SambaRoot is the Debian root Samba runs from ($BASTION_SAMBA_ROOT at up), or
	// empty for the system's packages.
	SambaRoot           string      `json:"samba_root"`
	CACert              string      `json:"ca_cert"`
	Krb5Conf            string      `json:"krb5_conf"`
	LDAPPlainSimpleBind bool        `json:"ldap_plain_simple_bind"`
	Network             Network     `json:"network"`
	HostAccess          HostAccess  `json:"host_access"`
	Forests             []Forest    `json:"forests"`
	TrustSpecs          []TrustSpec `json:"trusts"`
	DCList              []DC        `json:"dcs"`

	mu         sync.Mutex
	scriptPath string
}

// Network is the hub: the bridge every DC hangs on, and the cross-forest DNS.
type Network struct {
	CIDR       string `json:"cidr"`
	HubNetNS   string `json:"hub_netns"`
	Bridge     string `json:"bridge"`
	BridgeIP   string `json:"bridge_ip"`
	DNSServer  string `json:"dns_server"`
	DnsmasqPID int    `json:"dnsmasq_pid"`
}

// HostAccess says how a process in the root network namespace reaches the DCs.
type HostAccess struct {
	Method        string   `json:"method"`
	HostInterface string   `json:"host_interface"`
	HostIP        string   `json:"host_ip"`
	Routes        []string `json:"routes"`
	Description   string   `json:"description"`
}

// Forest is one AD forest (single domain) of the lab, with its administrator.
type Forest struct {
	Name          string   `json:"name"`
	Realm         string   `json:"realm"`
	DNSDomain     string   `json:"dns_domain"`
	NetBIOS       string   `json:"netbios"`
	BaseDN        string   `json:"base_dn"`
	ConfigDN      string   `json:"config_dn"`
	SchemaDN      string   `json:"schema_dn"`
	AdminUser     string   `json:"admin_user"`
	AdminUPN      string   `json:"admin_upn"`
	AdminBindDN   string   `json:"admin_bind_dn"`
	AdminNetBIOS  string   `json:"admin_netbios"`
	AdminPassword string   `json:"admin_password"`
	DCs           []string `json:"dcs"`
}

// TrustSpec is a trust the lab created (the reference answer is Trusts).
type TrustSpec struct {
	LocalRealm  string `json:"local_realm"`
	RemoteRealm string `json:"remote_realm"`
	Type        string `json:"type"`
	Direction   string `json:"direction"`
	CreatedOn   string `json:"created_on"`
}

// DC is one domain controller namespace. State is "running" or "stopped" for a
// DC, "prepared" for a namespace that is not (or no longer) a DC.
type DC struct {
	Name          string `json:"name"`
	NetBIOSName   string `json:"netbios_name"`
	FQDN          string `json:"fqdn"`
	IP            string `json:"ip"`
	Forest        string `json:"forest"`
	Realm         string `json:"realm"`
	NetBIOSDomain string `json:"netbios_domain"`
	BaseDN        string `json:"base_dn"`
	LDAPPort      int    `json:"ldap_port"`
	LDAPSPort     int    `json:"ldaps_port"`
	KerberosPort  int    `json:"kerberos_port"`
	DNSPort       int    `json:"dns_port"`
	LDAPSURL      string `json:"ldaps_url"`
	State         string `json:"state"`
	SambaPID      int    `json:"samba_pid"`
	PIDs          []int  `json:"pids"`
	NetNS         string `json:"netns"`
	MountNS       string `json:"mount_ns"`
	UTSNS         string `json:"uts_ns"`
	Dir           string `json:"dir"`
	LogDir        string `json:"log_dir"`
}

// SambaBefore reports whether the lab's Samba is older than major.minor (from
// SambaVersion, "4.17.12-Debian"); an unparsable version counts as new.
func (l *Lab) SambaBefore(major, minor int) bool {
	var ma, mi int
	if _, err := fmt.Sscanf(l.SambaVersion, "%d.%d", &ma, &mi); err != nil {
		return false
	}
	return ma < major || (ma == major && mi < minor)
}

// Running reports whether the DC's samba runs.
func (d DC) Running() bool { return d.State == "running" }

// Up installs the Samba packages when missing, then builds the lab in stateDir
// (created if needed; any debris of an earlier lab is removed first) and returns
// it. On failure nothing is left running.
func Up(ctx context.Context, stateDir string) (*Lab, error) {
	if err := Available(); err != nil {
		return nil, err
	}
	abs, err := filepath.Abs(stateDir)
	if err != nil {
		return nil, err
	}
	path, err := writeScript()
	if err != nil {
		return nil, err
	}
	if _, err := runScript(ctx, path, "install"); err != nil {
		_ = os.Remove(path)
		return nil, err
	}
	if err := upWhenFree(ctx, path, abs); err != nil {
		// The script tears down after its own failures; this also covers being killed.
		_, _ = runScript(context.WithoutCancel(ctx), path, "down", abs)
		_ = os.Remove(path)
		return nil, err
	}
	l, err := load(abs)
	if err != nil {
		_, _ = runScript(context.WithoutCancel(ctx), path, "down", abs)
		_ = os.Remove(path)
		return nil, err
	}
	l.scriptPath = path
	return l, nil
}

// exitBusy is samba-lab.sh's exit status when another live lab owns the fixed
// namespaces, for example another package's tests under `go test ./...`.
const exitBusy = 75

// upWhenFree runs `up`, waiting while another process's lab is up.
func upWhenFree(ctx context.Context, path, stateDir string) error {
	waiting := false
	for {
		_, err := runScript(ctx, path, "up", stateDir)
		var exitErr *exec.ExitError
		if !errors.As(err, &exitErr) || exitErr.ExitCode() != exitBusy {
			return err
		}
		if !waiting {
			waiting = true
			fmt.Fprintln(os.Stderr, "samba lab: another process's lab is up; waiting for it to go down")
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("samba lab: another lab is still up: %w", ctx.Err())
		case <-time.After(2 * time.Second):
		}
	}
}

// Load attaches to a lab that is already up in stateDir (for example one that CI
// started with `samba-lab.sh up`).
func Load(stateDir string) (*Lab, error) {
	abs, err := filepath.Abs(stateDir)
	if err != nil {
		return nil, err
	}
	return load(abs)
}

func load(stateDir string) (*Lab, error) {
	l := &Lab{}
	if err := l.readState(stateDir); err != nil {
		return nil, err
	}
	return l, nil
}

func (l *Lab) readState(stateDir string) error {
	b, err := os.ReadFile(filepath.Join(stateDir, "lab.json"))
	if err != nil {
		return fmt.Errorf("read lab state: %w", err)
	}
	var fresh Lab
	if err := json.Unmarshal(b, &fresh); err != nil {
		return fmt.Errorf("parse %s: %w", filepath.Join(stateDir, "lab.json"), err)
	}
	if fresh.SchemaVersion != 1 {
		return fmt.Errorf("lab.json schema_version %d, want 1", fresh.SchemaVersion)
	}
	l.SchemaVersion, l.StateDir, l.CreatedAt = fresh.SchemaVersion, fresh.StateDir, fresh.CreatedAt
	l.SambaVersion, l.FunctionalLevel, l.CACert, l.Krb5Conf = fresh.SambaVersion, fresh.FunctionalLevel, fresh.CACert, fresh.Krb5Conf
	l.SambaRoot = fresh.SambaRoot
	l.LDAPPlainSimpleBind, l.Network, l.HostAccess = fresh.LDAPPlainSimpleBind, fresh.Network, fresh.HostAccess
	l.Forests, l.TrustSpecs, l.DCList = fresh.Forests, fresh.TrustSpecs, fresh.DCList
	return nil
}

// Reload re-reads lab.json (PIDs and DC states change after JoinDC and DemoteDC).
func (l *Lab) Reload() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.readState(l.StateDir)
}

// Down stops every daemon of the lab, deletes its namespaces and veths, and
// removes the state directory. It is safe to call more than once.
func (l *Lab) Down(ctx context.Context) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	path, err := l.script()
	if err != nil {
		return err
	}
	_, err = runScript(ctx, path, "down", l.StateDir)
	if rmErr := os.Remove(path); rmErr == nil || errors.Is(rmErr, os.ErrNotExist) {
		l.scriptPath = ""
	}
	return err
}

// JoinDC makes the prepared namespace name (priv-dc3) a DC of its forest with
// `samba-tool domain join` and forces replication both ways with every other DC.
func (l *Lab) JoinDC(ctx context.Context, name string) error {
	return l.change(ctx, "join-dc", name)
}

// DemoteDC demotes the DC name with `samba-tool domain demote` (or removes it as a
// dead server when its samba is not running) and stops its samba; its namespace
// stays, prepared for another JoinDC.
func (l *Lab) DemoteDC(ctx context.Context, name string) error {
	return l.change(ctx, "demote-dc", name)
}

func (l *Lab) change(ctx context.Context, cmd, name string) error {
	if _, ok := l.DC(name); !ok {
		return fmt.Errorf("%s %q: %w", cmd, name, ErrUnknownDC)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	path, err := l.script()
	if err != nil {
		return err
	}
	if _, err := runScript(ctx, path, cmd, l.StateDir, name); err != nil {
		return err
	}
	return l.readState(l.StateDir)
}

// Exec runs a command inside DC dc's network, mount and UTS namespaces (where
// /etc/samba, /var/lib/samba and /run/samba are that DC's own) and returns its
// standard output. dc may also be "hub".
func (l *Lab) Exec(ctx context.Context, dc string, args ...string) (string, error) {
	if _, ok := l.DC(dc); !ok && dc != "hub" {
		return "", fmt.Errorf("exec on %q: %w", dc, ErrUnknownDC)
	}
	l.mu.Lock()
	path, err := l.script()
	l.mu.Unlock()
	if err != nil {
		return "", err
	}
	return runScript(ctx, path, append([]string{"exec", l.StateDir, dc, "--"}, args...)...)
}

// DC returns the DC (or prepared namespace) called name.
func (l *Lab) DC(name string) (DC, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, d := range l.DCList {
		if d.Name == name {
			return d, true
		}
	}
	return DC{}, false
}

// DCNamespaces returns the lab's DC namespaces as lab.json describes them.
func (l *Lab) DCNamespaces() []DC {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]DC(nil), l.DCList...)
}

// Forest returns the forest called name ("priv" or "corp").
func (l *Lab) Forest(name string) (Forest, bool) {
	for _, f := range l.Forests {
		if f.Name == name {
			return f, true
		}
	}
	return Forest{}, false
}

// ConnectTo maps each DC's "FQDN:port" to "IP:port" for the given ports (389,
// 636, 88, ...), for clients that take dial overrides (transport.ConnectTo)
// rather than DNS: they dial the IP and still verify and address the FQDN.
func (l *Lab) ConnectTo(ports ...int) map[string]string {
	out := map[string]string{}
	for _, d := range l.DCNamespaces() {
		for _, p := range ports {
			out[net.JoinHostPort(d.FQDN, strconv.Itoa(p))] = net.JoinHostPort(d.IP, strconv.Itoa(p))
		}
	}
	return out
}

// TLSConfig returns a client TLS configuration that verifies DC dc's LDAPS
// certificate against the lab CA, by its FQDN.
func (l *Lab) TLSConfig(dc string) (*tls.Config, error) {
	d, ok := l.DC(dc)
	if !ok {
		return nil, fmt.Errorf("tls config for %q: %w", dc, ErrUnknownDC)
	}
	pem, err := os.ReadFile(l.CACert)
	if err != nil {
		return nil, fmt.Errorf("read lab CA: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("no certificate in %s", l.CACert)
	}
	return &tls.Config{RootCAs: pool, ServerName: d.FQDN, MinVersion: tls.VersionTLS12}, nil
}

// script returns the path of the embedded script on disk, writing it again if a
// Down removed it or this Lab came from Load. Callers hold l.mu.
func (l *Lab) script() (string, error) {
	if l.scriptPath != "" {
		if _, err := os.Stat(l.scriptPath); err == nil {
			return l.scriptPath, nil
		}
	}
	p, err := writeScript()
	if err != nil {
		return "", err
	}
	l.scriptPath = p
	return p, nil
}

func writeScript() (string, error) {
	f, err := os.CreateTemp("", "samba-lab-*.sh")
	if err != nil {
		return "", fmt.Errorf("write samba-lab.sh: %w", err)
	}
	if _, err := f.Write(script); err != nil {
		_ = f.Close()
		_ = os.Remove(f.Name())
		return "", fmt.Errorf("write samba-lab.sh: %w", err)
	}
	if err := f.Close(); err != nil {
		_ = os.Remove(f.Name())
		return "", err
	}
	return f.Name(), os.Chmod(f.Name(), 0o700)
}

// ScriptOutput receives the script's progress log (its standard error) as it runs;
// nil discards it. Set BASTION_LAB_VERBOSE=1 to send it to os.Stderr.
var ScriptOutput io.Writer

// runScript runs samba-lab.sh and returns its standard output. Cancelling ctx sends
// SIGTERM, on which `up` tears down what it built.
func runScript(ctx context.Context, path string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, "bash", append([]string{path}, args...)...)
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = time.Minute
	cmd.Env = append(os.Environ(), "CHECKPOINT_DISABLE=1", fmt.Sprintf("BASTION_LAB_OWNER_PID=%d", os.Getpid()))
	var stdout, stderr bytes.Buffer
	cmd.Stdout = &stdout
	var errOut io.Writer = &stderr
	if w := scriptOutput(); w != nil {
		errOut = io.MultiWriter(&stderr, w)
	}
	cmd.Stderr = errOut
	if err := cmd.Run(); err != nil {
		return stdout.String(), fmt.Errorf("samba-lab.sh %s: %w\n%s", strings.Join(redact(args), " "), err, tail(stderr.String(), 40))
	}
	return stdout.String(), nil
}

func scriptOutput() io.Writer {
	if ScriptOutput != nil {
		return ScriptOutput
	}
	if os.Getenv("BASTION_LAB_VERBOSE") == "1" {
		return os.Stderr
	}
	return nil
}

// redact hides --password=... values in error messages.
func redact(args []string) []string {
	out := make([]string, len(args))
	for i, a := range args {
		if k, _, ok := strings.Cut(a, "="); ok && strings.Contains(strings.ToLower(k), "password") {
			a = k + "=***"
		}
		out[i] = a
	}
	return out
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
