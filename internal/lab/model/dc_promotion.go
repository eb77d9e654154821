package model

import (
	"fmt"
	"strings"
	"time"

	"github.com/bastion-pam/terraform-provider-bastion/internal/adnames"
)

// ADDSServiceKey exists once the AD-Domain-Services feature is installed
// (its NTDS service is registered; it runs only on a DC).
const ADDSServiceKey = `HKLM:\SYSTEM\CurrentControlSet\Services\NTDS`

// PromoteDCLocked is PromoteDC for callers that already hold the lock (the
// WinRM handlers run inside Do). It checks only what the model needs; the
// handler checks the cmdlet's parameters as Windows does.
func (e *Env) PromoteDCLocked(domainDNS, host string, o DCOptions) (*DomainController, error) {
	d, err := e.domainNamed(domainDNS)
	if err != nil {
		return nil, err
	}
	if other, _ := e.DirectoryOf(host); other != nil {
		return nil, fmt.Errorf("model: %s is already a domain controller of %s", Key(host), other.DNSName)
	}
	d.normalize()
	dc := &DomainController{Host: Key(host), Site: o.Site, GlobalCatalog: o.GlobalCatalog, ReadOnly: o.ReadOnly}
	if dc.GlobalCatalog {
		dc.Options = adnames.NTDSOptIsGC
	}
	d.DCs[dc.Host] = dc
	// The host's SAM accounts go with promotion: a DC has no local
	// accounts to log on with (its old Administrator becomes DSRM's).
	computer, _, _ := strings.Cut(dc.Host, ".")
	for k := range e.Credentials {
		if strings.HasPrefix(k, computer+`\`) {
			delete(e.Credentials, k)
		}
	}
	d.normalize()
	d.NextUSN()
	e.Record(dc.Host, "dc-promoted", "domain controller of "+d.DNSName)
	return dc, nil
}

// DemoteDCLocked is DemoteDC for callers that already hold the lock. Like
// DemoteDC it refuses a DC that still holds FSMO roles.
func (e *Env) DemoteDCLocked(host string) error {
	d, dc := e.DirectoryOf(host)
	if dc == nil {
		return fmt.Errorf("model: %s is not a domain controller", Key(host))
	}
	var held []string
	for _, r := range adnames.FSMORoles() {
		if d.FSMO[r] == dc.Host {
			held = append(held, r)
		}
	}
	if len(held) > 0 {
		return fmt.Errorf("model: %s holds the %s roles; transfer them first", dc.Host, strings.Join(held, ", "))
	}
	delete(d.DCs, dc.Host)
	d.NextUSN()
	e.Record(dc.Host, "dc-demoted", "no longer a domain controller of "+d.DNSName)
	return nil
}

// SiteExists reports whether the forest of d has a site by that name
// (compared without regard to case). Callers hold the lock.
func (d *Domain) SiteExists(name string) bool {
	for _, s := range d.AllSites() {
		if strings.EqualFold(s, name) {
			return true
		}
	}
	return false
}

// Lab defaults for a DC's restart and for replication between DCs: short,
// so tests stay quick; the lab's command and tests set real-world values
// (Windows: a restart takes minutes, intra-site replication 15 s or more).
const (
	DefaultRestartWindow    = time.Second
	DefaultReplicationDelay = 2 * time.Second
)

// ReplicationSource is the DC a promotion on host replicates from: the
// one named, else the first writable DC by name (Windows picks one in the
// site). Callers hold the lock.
func (d *Domain) ReplicationSource(host, named string) string {
	if named != "" {
		return Key(named)
	}
	for _, dc := range d.SortedDCs() {
		if dc.Host != Key(host) && !dc.ReadOnly {
			return dc.Host
		}
	}
	return ""
}

// Replicate makes dc's objects, just written on source, reach the other DCs
// after the environment's replication delay. Callers hold the lock.
func (e *Env) Replicate(dc *DomainController, source string) {
	dc.WrittenOn, dc.VisibleAt = Key(source), e.Now().Add(e.ReplicationDelay)
	e.Record(dc.Host, "replication", fmt.Sprintf("written on %s; the other DCs see it after %s", dc.WrittenOn, e.ReplicationDelay))
}

// ReplicateRemoval keeps a DC just demoted through source listed on the
// other DCs for the replication delay. Callers hold the lock.
func (e *Env) ReplicateRemoval(d *Domain, dc *DomainController, source string) {
	if d.Departed == nil {
		d.Departed = map[string]*DomainController{}
	}
	ghost := *dc
	ghost.WrittenOn, ghost.VisibleAt = Key(source), e.Now().Add(e.ReplicationDelay)
	d.Departed[dc.Host] = &ghost
}

// RestartHost takes host down as a restart does: every connection to it is
// refused (a command in flight loses its connection) until the restart
// window has passed; then it is back. Callers hold the lock.
func (e *Env) RestartHost(host string) {
	h := e.Host(host)
	if h == nil {
		return
	}
	h.Reachable = false
	h.restarts++
	gen := h.restarts
	e.Record(h.FQDN, "restart", "down for "+e.RestartWindow.String())
	time.AfterFunc(e.RestartWindow, func() {
		e.mu.Lock()
		defer e.mu.Unlock()
		// Only the restart that took the host down brings it back.
		if h.restarts == gen && !h.Reachable {
			h.Reachable = true
			e.Record(h.FQDN, "restart", "back")
		}
	})
}

// Restarting reports whether host is down for a restart.
func (e *Env) Restarting(host string) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	h := e.Host(host)
	return h != nil && !h.Reachable && h.restarts > 0
}
