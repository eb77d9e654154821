package model

import (
	"fmt"
	"strings"

	"github.com/bastion-pam/terraform-provider-bastion/internal/adnames"
)

// ADDSServiceKey exists once the AD-Domain-Services feature is installed
// (its NTDS service is registered; it runs only on a DC).
const ADDSServiceKey = `HKLM:\SYSTEM\CurrentControlSet\Services\NTDS`

// PromoteDCLocked is PromoteDC for callers that already hold the lock (the
// WinRM handlers run inside Do). It checks only what the model needs; the
// handler checks the cmdlet's parameters as Windows does.
func (e *Env) PromoteDCLocked(domainDNS, host string, o DCOptions) (*DomainController, error) {
	d := e.DirectoryByName(domainDNS)
	if d == nil {
		return nil, fmt.Errorf("model: no domain %q", domainDNS)
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
