package directory_test

import (
	"context"
	"sort"
	"testing"
	"time"

	"github.com/bastion-pam/terraform-provider-bastion/internal/adnames"
	"github.com/bastion-pam/terraform-provider-bastion/internal/directory"
	"github.com/bastion-pam/terraform-provider-bastion/internal/directory/directorytest"
	"github.com/bastion-pam/terraform-provider-bastion/internal/lab/labca"
	"github.com/bastion-pam/terraform-provider-bastion/internal/lab/ldapsim"
	"github.com/bastion-pam/terraform-provider-bastion/internal/lab/model"
	"github.com/bastion-pam/terraform-provider-bastion/internal/transport"
)

// lab is a running LDAP lab over the default model.
type lab struct {
	env  *model.Env
	seed model.Seed
	ca   *labca.CA
	srv  *ldapsim.Server
}

func startLab(t testing.TB, opts ...func(*ldapsim.Options)) *lab {
	t.Helper()
	env, seed := model.NewDefault(model.Seed{})
	ca, err := labca.New()
	if err != nil {
		t.Fatal(err)
	}
	var o ldapsim.Options
	for _, f := range opts {
		f(&o)
	}
	srv, err := ldapsim.Start(env, ca, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	return &lab{env: env, seed: seed, ca: ca, srv: srv}
}

// fastRetry keeps retry tests quick; the backoff is still real.
var fastRetry = transport.RetryPolicy{Attempts: 4, Initial: time.Millisecond, Max: 4 * time.Millisecond}

func (l *lab) config(mut ...func(*directory.Config)) directory.Config {
	cfg := directory.Config{
		Servers:   []string{model.DC1, model.DC2},
		Domain:    model.DomainDNS,
		CACertPEM: l.ca.CertPEM(),
		Username:  model.AdminUser,
		Password:  l.seed.AdminPassword,
		ConnectTo: l.srv.ConnectTo(),
		Retry:     fastRetry,
	}
	for _, f := range mut {
		f(&cfg)
	}
	return cfg
}

func (l *lab) client(t testing.TB, mut ...func(*directory.Config)) *directory.Client {
	t.Helper()
	c, err := directory.New(l.config(mut...))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// calls is the lab's own count of LDAP operations on host (server side).
func (l *lab) calls(host string) int { return l.env.CallCount(model.LDAP, host) }

func ctxT(t testing.TB) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// labReference answers directorytest's questions from the lab's model.
type labReference struct {
	env    *model.Env
	domain string
}

var _ directorytest.Reference = labReference{}

func (r labReference) Domain() string { return r.domain }

func (r labReference) with(f func(e *model.Env, d *model.Domain)) {
	_ = r.env.Do(func(e *model.Env) error {
		f(e, e.DirectoryByName(r.domain))
		return nil
	})
}

func (r labReference) DomainControllers(context.Context) ([]directorytest.DC, error) {
	var out []directorytest.DC
	r.with(func(_ *model.Env, d *model.Domain) {
		for _, dc := range d.SortedDCs() {
			out = append(out, directorytest.DC{Host: dc.Host, Site: dc.Site, GlobalCatalog: dc.GlobalCatalog, ReadOnly: dc.ReadOnly, FunctionalLevel: dc.FunctionalLevel})
		}
	})
	return out, nil
}

func (r labReference) NonDomainControllers(context.Context) ([]string, error) {
	var out []string
	r.with(func(e *model.Env, d *model.Domain) {
		for name := range e.Hosts {
			if d2, _ := e.DirectoryOf(name); d2 == nil {
				out = append(out, name)
			}
		}
	})
	sort.Strings(out)
	return out, nil
}

func (r labReference) FSMOHolders(context.Context) (map[string]string, error) {
	out := map[string]string{}
	r.with(func(_ *model.Env, d *model.Domain) {
		for _, role := range adnames.FSMORoles() {
			out[role] = d.FSMOHolder(role)
		}
	})
	return out, nil
}

func (r labReference) FunctionalLevels(context.Context) (forest, domain int, err error) {
	r.with(func(_ *model.Env, d *model.Domain) { forest, domain = d.ForestFunctionalLevel, d.DomainFunctionalLevel })
	return forest, domain, nil
}

func (r labReference) TombstoneLifetimeDays(context.Context) (int, error) {
	days := 0
	r.with(func(_ *model.Env, d *model.Domain) { days = d.TombstoneLifetimeDays })
	if days == 0 {
		days = directory.DefaultTombstoneLifetimeDays
	}
	return days, nil
}

func (r labReference) Backups(context.Context) ([]directorytest.Backup, error) {
	out := []directorytest.Backup{}
	r.with(func(_ *model.Env, d *model.Domain) {
		for _, nc := range d.NamingContexts() {
			host, at, _, ok := d.LastBackup(nc)
			out = append(out, directorytest.Backup{NamingContext: nc, Backed: ok, OriginatingDC: host, LastBackup: at})
		}
	})
	return out, nil
}

func (r labReference) Trusts(context.Context) ([]directorytest.Trust, error) {
	var out []directorytest.Trust
	r.with(func(_ *model.Env, d *model.Domain) {
		for _, t := range d.Trusts {
			out = append(out, directorytest.Trust{Partner: t.Partner, FlatName: t.FlatName, SID: t.SID, Direction: t.Direction, Type: t.Type, Attributes: t.Attributes})
		}
	})
	return out, nil
}

func (r labReference) EnabledOptionalFeatures(context.Context) ([]string, error) {
	out := []string{}
	r.with(func(_ *model.Env, d *model.Domain) {
		for name, on := range d.OptionalFeatures {
			if on {
				out = append(out, name)
			}
		}
	})
	return out, nil
}

// ComputerObject: the model knows a DC computer's GUID and the domain's SID;
// the creation time is the lab's own bookkeeping, so it is not asked.
func (r labReference) ComputerObject(_ context.Context, host string) (directorytest.Object, error) {
	var out directorytest.Object
	r.with(func(_ *model.Env, d *model.Domain) {
		if dc := d.DC(host); dc != nil {
			out.GUID = dc.ComputerGUID
		}
		out.DomainSID = d.SID
		out.ObjectCategory = "CN=Computer,CN=Schema,CN=Configuration," + adnames.DomainDN(d.DNSName)
	})
	return out, nil
}

// GroupMembers: the built-in Administrator is in Domain Admins ([MS-ADTS]
// 6.1.1.6, well-known accounts); other groups are the model's.
func (r labReference) GroupMembers(_ context.Context, name string) ([]string, error) {
	var out []string
	r.with(func(_ *model.Env, d *model.Domain) {
		users := "CN=Users," + adnames.DomainDN(d.DNSName)
		if name == "Domain Admins" {
			out = append(out, "CN=Administrator,"+users)
		}
		for _, m := range d.Groups[name] {
			out = append(out, "CN="+m+","+users)
		}
	})
	return out, nil
}

// RootDSELists: what [MS-ADTS] 3.1.1.3.4.2 and 3.1.1.3.4.6 say every AD DC
// lists: StartTLS, and the MaxPageSize and MaxValRange policies.
func (r labReference) RootDSELists(context.Context) ([]string, []string, error) {
	return []string{"1.3.6.1.4.1.1466.20037"}, []string{"MaxPageSize", "MaxValRange"}, nil
}
