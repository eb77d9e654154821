// Package model is the simulated bastion's single source of truth: the PRIV
// domain, the Windows hosts with their files, registry and services, the SQL
// Server instances and the MIM Service's requests. The WinRM, LDAP and TDS
// simulators all read and change this one model, so a write through one
// protocol is what the others see.
//
// Every exported method takes the model's lock; handlers that need several
// steps to be atomic use Do.
package model

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/bastion-pam/terraform-provider-bastion/internal/lab/labca"
)

// Protocol names used for counters and fault injection.
const (
	WinRM = "winrm"
	LDAP  = "ldap"
	TDS   = "tds"
)

// Env is the whole simulated environment.
type Env struct {
	mu sync.Mutex

	// Domain is the PRIV domain (nil until seeded).
	Domain *Domain
	// Forests holds other forests (CORP) by DNS name, for trusts.
	Forests map[string]*Domain
	// Hosts by lower-case FQDN.
	Hosts map[string]*Host
	// SQL instances by lower-case network name.
	SQL map[string]*SQLInstance
	// Cluster is the Windows Server failover cluster the FCIs run on (nil:
	// the lab does not model cluster membership; see cluster.go).
	Cluster *WindowsCluster
	// Requests are MIM requests bound to a partition and service name.
	Requests []*Request

	// Credentials the simulated hosts accept (WinRM Basic, LDAP simple bind, SQL login).
	Credentials map[string]string
	// DemotionPasswords lists, per host key, every local Administrator
	// password a demotion set, oldest first: a later promotion removes the
	// account itself (a DC has no local accounts), not what was set.
	DemotionPasswords map[string][]string

	// DCBackend, when set, performs DC promotions and demotions on a real
	// directory (see backend.go); nil means the model's own directory.
	DCBackend DCBackend

	calls    map[string]map[string]int // protocol -> host -> count
	scripts  map[string]int            // script name -> runs
	rejected []RejectedScript
	events   []Event
	// processes and secrets: every command line started (process.go) and
	// the secrets the lab received, to scan them for leaks.
	processes []ProcessStart
	secrets   map[string]bool
	net       netCost // the cost model and its counters (netcost.go)
	// certFlaws: endpoints serving a bad certificate, by protocol/host (certificates.go).
	certFlaws map[string]labca.Flaw

	// Now is the model's clock; tests may replace it.
	Now func() time.Time

	// RestartWindow is how long a host refuses connections while it
	// restarts after a DC promotion or demotion; ReplicationDelay how long
	// the other DCs take to see a DC promoted or demoted (dc_promotion.go).
	RestartWindow    time.Duration
	ReplicationDelay time.Duration
}

// Event is one thing that happened in the lab (service restarted, setup run, ...).
type Event struct {
	Time   time.Time
	Host   string
	Kind   string
	Detail string
}

// RejectedScript records a script text the lab refused to run.
type RejectedScript struct {
	Host   string
	SHA256 string
	Reason string
}

// New returns an empty environment.
func New() *Env {
	return &Env{
		Forests:           map[string]*Domain{},
		Hosts:             map[string]*Host{},
		SQL:               map[string]*SQLInstance{},
		Credentials:       map[string]string{},
		DemotionPasswords: map[string][]string{},
		calls:             map[string]map[string]int{},
		scripts:           map[string]int{},
		Now:               time.Now,
		RestartWindow:     DefaultRestartWindow,
		ReplicationDelay:  DefaultReplicationDelay,
	}
}

// Do runs f with the model locked.
func (e *Env) Do(f func(e *Env) error) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	return f(e)
}

// Key normalises a host or network name for map lookups.
func Key(name string) string {
	return strings.ToLower(strings.TrimSuffix(strings.TrimSpace(name), "."))
}

// Host returns the host with the given FQDN, or nil. Callers must hold the lock (inside Do).
func (e *Env) Host(fqdn string) *Host { return e.Hosts[Key(fqdn)] }

// AddHost adds a Windows server to the environment (not yet running MIM, SQL or AD DS).
func (e *Env) AddHost(fqdn string) *Host {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.addHost(fqdn)
}

func (e *Env) addHost(fqdn string) *Host {
	k := Key(fqdn)
	if h, ok := e.Hosts[k]; ok {
		return h
	}
	short := strings.ToUpper(strings.SplitN(k, ".", 2)[0])
	h := &Host{
		FQDN:         k,
		ComputerName: short,
		Reachable:    true,
		Files:        map[string][]byte{},
		Registry:     map[string]map[string]string{},
		Services:     map[string]*Service{},
		Products:     map[string]*Product{},
		faults:       map[string][]*Fault{},
		latency:      map[string]time.Duration{},
	}
	e.Hosts[k] = h
	return h
}

// HostNames returns every host's FQDN, sorted.
func (e *Env) HostNames() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Sorted(maps.Keys(e.Hosts))
}

// Host is one simulated Windows server.
type Host struct {
	FQDN         string
	ComputerName string
	// Reachable false means the server is gone: every protocol's connection is refused.
	Reachable bool

	// Files by case-insensitive Windows path (see FileKey).
	Files map[string][]byte
	// Registry: key path (case-insensitive, see RegKey) -> value name -> value.
	Registry map[string]map[string]string
	// Services by service name (case-insensitive, see Key).
	Services map[string]*Service
	// Products installed (Uninstall registry entries) by product code.
	Products map[string]*Product
	// WinRM is the WinRM service's configuration (identity.go).
	WinRM WinRMService
	// DelegationFrom lists, by lower-case computer name, the hosts this
	// host's computer object accepts delegated logons from (resource-based
	// constrained delegation, hop.go).
	DelegationFrom map[string]bool
	// ScheduledTasks are the tasks registered on the host, by path.
	ScheduledTasks []string
	// DNSServers is the DNS client server list of the host, in order
	// (Get-DnsClientServerAddress); empty unless a test sets it.
	DNSServers []string
	// DNSForwarders are the DNS Server service's server-level forwarders
	// (Get-DnsServerForwarder), and DNSFileZones its conditional forwarders
	// and stub zones kept in its own files and registry, not in Active
	// Directory, by lower-case name. A host that is no DC and has neither
	// runs no DNS Server service.
	DNSForwarders []string
	DNSFileZones  map[string]*DNSZone

	faults  map[string][]*Fault
	latency map[string]time.Duration
	// installerBusy: the next installs that find another installation in
	// progress (1618); installReboot: installs end with 3010 (mim.go).
	installerBusy int
	installReboot bool
	// restarts counts RestartHost calls (the one that ends a window must be the latest).
	restarts int
}

// Service is a Windows service.
type Service struct {
	Name        string
	DisplayName string
	Status      string // Running | Stopped
	StartType   string // Automatic | Manual | Disabled
	// Starts counts every transition to Running (start or restart).
	Starts int
	// StartedAt is when the service's process last started (the creation
	// time of the process Win32_Service.ProcessId names); zero when never.
	StartedAt time.Time
}

// Product is an installed MSI product.
type Product struct {
	Code        string
	DisplayName string
	Version     string
	Properties  map[string]string
}

// FileKey normalises a Windows path for the Files map.
func FileKey(path string) string { return strings.ToLower(strings.ReplaceAll(path, "/", `\`)) }

// RegKey normalises a registry key path.
func RegKey(path string) string {
	p := strings.ToLower(path)
	p = strings.TrimPrefix(p, `registry::`)
	p = strings.Replace(p, `hkey_local_machine\`, `hklm:\`, 1)
	return p
}

// ReadFile returns a file's bytes.
func (h *Host) ReadFile(path string) ([]byte, bool) {
	b, ok := h.Files[FileKey(path)]
	return b, ok
}

// WriteFile writes a file's bytes.
func (h *Host) WriteFile(path string, b []byte) { h.Files[FileKey(path)] = append([]byte(nil), b...) }

// RegValue returns one registry value.
func (h *Host) RegValue(key, name string) (string, bool) {
	vals, ok := h.Registry[RegKey(key)]
	if !ok {
		return "", false
	}
	v, ok := vals[strings.ToLower(name)]
	return v, ok
}

// SetRegValue sets one registry value.
func (h *Host) SetRegValue(key, name, value string) {
	k := RegKey(key)
	if h.Registry[k] == nil {
		h.Registry[k] = map[string]string{}
	}
	h.Registry[k][strings.ToLower(name)] = value
}

// DeleteRegKey removes a registry key.
func (h *Host) DeleteRegKey(key string) { delete(h.Registry, RegKey(key)) }

// Service returns a service by name, or nil.
func (h *Host) Service(name string) *Service { return h.Services[Key(name)] }

// ErrNoSuchService is the Windows message for a missing service.
type ErrNoSuchService struct{ Name string }

func (e ErrNoSuchService) Error() string {
	return fmt.Sprintf("Cannot find any service with service name '%s'.", e.Name)
}

// SetServiceStatus starts or stops a service, counting starts.
func (h *Host) SetServiceStatus(name, status string) error {
	s := h.Service(name)
	if s == nil {
		return ErrNoSuchService{Name: name}
	}
	if status == "Running" {
		s.Starts++
	}
	s.Status = status
	return nil
}

// Faults and latency --------------------------------------------------------

// FaultKind is a failure the lab can inject on one host and protocol.
type FaultKind string

const (
	// FaultRefuse refuses the TCP connection (the listener rejects at once).
	FaultRefuse FaultKind = "refuse"
	// FaultHTTP500 answers a WinRM request with HTTP 500 and a WS-Management fault.
	FaultHTTP500 FaultKind = "http500"
	// FaultHTTP503 answers a WinRM request with HTTP 503 Service Unavailable.
	FaultHTTP503 FaultKind = "http503"
	// FaultTimeout accepts the request and never answers until the client gives up.
	FaultTimeout FaultKind = "timeout"
	// FaultDropLDAP closes an LDAP connection in the middle of a request.
	FaultDropLDAP FaultKind = "drop"
	// FaultLDAPBusy answers an LDAP operation with resultCode busy (51).
	FaultLDAPBusy FaultKind = "busy"
	// FaultLoginFailed fails a SQL login (error 18456), as during a failover.
	FaultLoginFailed FaultKind = "login_failed"
	// FaultUnauthorized answers 401 to WinRM or invalidCredentials to LDAP.
	FaultUnauthorized FaultKind = "unauthorized"
)

// Fault is an injected failure. Remaining < 0 means until cleared.
type Fault struct {
	Kind      FaultKind
	Remaining int
}

// InjectFault adds a fault for the next n calls (n < 0: until cleared) of protocol on host.
func (e *Env) InjectFault(host, protocol string, kind FaultKind, n int) error {
	return e.onHost(host, func(h *Host) error {
		h.faults[protocol] = append(h.faults[protocol], &Fault{Kind: kind, Remaining: n})
		return nil
	})
}

// ClearFaults removes every fault and latency on a host, and restores its
// good certificates.
func (e *Env) ClearFaults(host string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.clearCertificateFlaws(host)
	if h := e.Host(host); h != nil {
		h.faults = map[string][]*Fault{}
		h.latency = map[string]time.Duration{}
	}
}

// SetLatency delays every call of protocol on host.
func (e *Env) SetLatency(host, protocol string, d time.Duration) error {
	return e.onHost(host, func(h *Host) error {
		h.latency[protocol] = d
		return nil
	})
}

// TakeFault consumes and returns the next fault for protocol on host, if any;
// FaultRefuse is returned for an unreachable host.
func (e *Env) TakeFault(host, protocol string) (FaultKind, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	h := e.Host(host)
	if h == nil {
		return "", false
	}
	if !h.Reachable {
		return FaultRefuse, true
	}
	list := h.faults[protocol]
	for len(list) > 0 {
		f := list[0]
		if f.Remaining == 0 {
			list = list[1:]
			continue
		}
		if f.Remaining > 0 {
			f.Remaining--
		}
		h.faults[protocol] = list
		return f.Kind, true
	}
	h.faults[protocol] = list
	return "", false
}

// Latency returns the injected latency for protocol on host.
func (e *Env) Latency(host, protocol string) time.Duration {
	e.mu.Lock()
	defer e.mu.Unlock()
	if h := e.Host(host); h != nil {
		return h.latency[protocol]
	}
	return 0
}

// onHost runs f on the host named host under the model's lock.
func (e *Env) onHost(host string, f func(h *Host) error) error {
	return onFound(e, "host", host, e.Host, f)
}

// onFound holds the model's lock, looks name up with find and runs f on
// what it finds; an unknown name is an error naming what was looked for.
func onFound[T any](e *Env, what, name string, find func(string) *T, f func(*T) error) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	x := find(name)
	if x == nil {
		return fmt.Errorf("model: no %s %q", what, name)
	}
	return f(x)
}

// SetReachable marks a host as present or gone.
func (e *Env) SetReachable(host string, up bool) error {
	return e.onHost(host, func(h *Host) error {
		h.Reachable = up
		if !up && e.IsClusterNode(h.FQDN) {
			e.clusterNodeLost(h.FQDN)
		}
		h.restarts = 0
		return nil
	})
}

// Reachable reports whether a host is present and up.
func (e *Env) Reachable(host string) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	h := e.Host(host)
	return h != nil && h.Reachable
}

// Counters -------------------------------------------------------------------

// CountCall records one call of protocol on host. For WinRM a call is one
// script execution; for LDAP one operation (bind, search, modify, ...); for
// TDS one batch or RPC.
func (e *Env) CountCall(protocol, host string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.calls[protocol] == nil {
		e.calls[protocol] = map[string]int{}
	}
	e.calls[protocol][Key(host)]++
	if protocol != WinRM { // WinRM requests are HTTP requests, counted by the listener's handler
		e.net.get(protocol, host).requests.Add(1)
	}
}

// CountScript records one run of an accepted script.
func (e *Env) CountScript(name string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.scripts[name]++
}

// Reject records a script the lab refused.
func (e *Env) Reject(host, sha, reason string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.rejected = append(e.rejected, RejectedScript{Host: Key(host), SHA256: sha, Reason: reason})
}

// Calls returns a copy of the call counters: protocol -> host -> count.
func (e *Env) Calls() map[string]map[string]int {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := map[string]map[string]int{}
	for p, m := range e.calls {
		out[p] = map[string]int{}
		for h, n := range m {
			out[p][h] = n
		}
	}
	return out
}

// CallCount returns the calls of protocol on host ("" = all hosts).
func (e *Env) CallCount(protocol, host string) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	if host != "" {
		return e.calls[protocol][Key(host)]
	}
	n := 0
	for _, c := range e.calls[protocol] {
		n += c
	}
	return n
}

// ScriptRuns returns a copy of the per-script run counters.
func (e *Env) ScriptRuns() map[string]int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return maps.Clone(e.scripts)
}

// Rejected returns the scripts the lab refused.
func (e *Env) Rejected() []RejectedScript {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]RejectedScript(nil), e.rejected...)
}

// ResetCounters zeroes call, script and rejection counters.
func (e *Env) ResetCounters() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.calls = map[string]map[string]int{}
	e.scripts = map[string]int{}
	e.rejected = nil
}

// Record appends an event. Callers must hold the lock (inside Do or a handler).
func (e *Env) Record(host, kind, detail string) {
	e.events = append(e.events, Event{Time: e.Now(), Host: Key(host), Kind: kind, Detail: detail})
}

// Events returns a copy of the event log.
func (e *Env) Events() []Event {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]Event(nil), e.events...)
}
