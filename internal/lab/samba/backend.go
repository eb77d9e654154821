package samba

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/bastion-pam/terraform-provider-bastion/internal/lab/model"
)

// DefaultSite is the only site of the lab's forests (samba-tool provisions it).
const DefaultSite = "Default-First-Site-Name"

// Backend carries the simulated bastion's domain controller promotions and
// demotions to this lab (model.DCBackend): when the provider runs
// Install-ADDSDomainController on a simulated Windows host whose FQDN is one of
// the lab's prepared namespaces (priv-dc3.priv.contoso.test), the DC is really
// joined with samba-tool; Uninstall-ADDSDomainController really demotes it. The
// provider then finds (or misses) it over LDAP on the real DCs.
//
// What samba-tool cannot do the way Install-ADDSDomainController would is
// refused, not faked: read-only DCs, a site other than the lab's one, and a DC
// that is not a global catalog (a Samba DC always is).
type Backend struct {
	lab *Lab
	// Timeout bounds one join or demotion (default 5 minutes).
	Timeout time.Duration

	mu    sync.Mutex
	calls []string
}

var _ model.DCBackend = (*Backend)(nil)

// NewBackend returns a backend that joins and demotes DCs of l.
func NewBackend(l *Lab) *Backend { return &Backend{lab: l} }

// Calls lists what the backend ran, in order ("join priv-dc3", "demote priv-dc3").
func (b *Backend) Calls() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.calls...)
}

func (b *Backend) record(s string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.calls = append(b.calls, s)
}

func (b *Backend) context() (context.Context, context.CancelFunc) {
	t := b.Timeout
	if t <= 0 {
		t = 5 * time.Minute
	}
	return context.WithTimeout(context.Background(), t)
}

// namespaceOf finds the lab namespace whose FQDN is host.
func (b *Backend) namespaceOf(host string) (DC, error) {
	host = strings.TrimSuffix(strings.TrimSpace(host), ".")
	for _, d := range b.lab.DCNamespaces() {
		if strings.EqualFold(d.FQDN, host) {
			return d, nil
		}
	}
	return DC{}, fmt.Errorf("%s is not a machine of the Samba lab: %w", host, ErrUnknownDC)
}

// PromoteDC joins the prepared namespace host to its forest as a writable DC.
func (b *Backend) PromoteDC(host string, p model.PromoteParams) error {
	d, err := b.namespaceOf(host)
	if err != nil {
		return err
	}
	f, _ := b.lab.Forest(d.Forest)
	switch {
	case !strings.EqualFold(strings.TrimSuffix(p.DomainName, "."), f.DNSDomain):
		return fmt.Errorf("%s can only join %s in the Samba lab, not %s", host, f.DNSDomain, p.DomainName)
	case d.State != "prepared":
		return fmt.Errorf("%s is already a domain controller of %s", host, f.DNSDomain)
	case p.ReadOnly:
		return fmt.Errorf("the Samba lab joins writable domain controllers only")
	case p.SiteName != "" && !strings.EqualFold(p.SiteName, DefaultSite):
		return fmt.Errorf("the Samba lab's forests have one site, %s; there is no site %q", DefaultSite, p.SiteName)
	case !p.GlobalCatalog:
		return fmt.Errorf("a Samba domain controller is always a global catalog; the lab cannot promote one without it")
	}
	if src := p.ReplicationSourceDC; src != "" {
		s, err := b.namespaceOf(src)
		if err != nil || s.Forest != d.Forest || !s.Running() {
			return fmt.Errorf("the replication source %s is not a running domain controller of %s", src, f.DNSDomain)
		}
	}
	ctx, cancel := b.context()
	defer cancel()
	b.record("join " + d.Name)
	return b.lab.JoinDC(ctx, d.Name)
}

// DemoteDC demotes the DC host; its namespace is prepared for another join.
func (b *Backend) DemoteDC(host string) error {
	d, err := b.namespaceOf(host)
	if err != nil {
		return err
	}
	if d.State == "prepared" {
		return fmt.Errorf("%s is not a domain controller", host)
	}
	ctx, cancel := b.context()
	defer cancel()
	b.record("demote " + d.Name)
	return b.lab.DemoteDC(ctx, d.Name)
}
