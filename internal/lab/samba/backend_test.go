package samba

import (
	"errors"
	"strings"
	"testing"

	"github.com/bastion-pam/terraform-provider-bastion/internal/lab/model"
)

// What the backend refuses never reaches samba-lab.sh: this lab has no namespace
// at all, and each call fails on its parameters.
func TestBackendRefusesWhatSambaCannotDo(t *testing.T) {
	l := &Lab{
		Forests: []Forest{{Name: "priv", DNSDomain: "priv.contoso.test"}, {Name: "corp", DNSDomain: "corp.contoso.test"}},
		DCList: []DC{
			{Name: "priv-dc1", FQDN: "priv-dc1.priv.contoso.test", Forest: "priv", State: "running"},
			{Name: "priv-dc3", FQDN: "priv-dc3.priv.contoso.test", Forest: "priv", State: "prepared"},
			{Name: "corp-dc1", FQDN: "corp-dc1.corp.contoso.test", Forest: "corp", State: "running"},
		},
	}
	b := NewBackend(l)
	ok := model.PromoteParams{DomainName: "priv.contoso.test", GlobalCatalog: true}
	for name, c := range map[string]struct {
		host string
		p    func(model.PromoteParams) model.PromoteParams
		want string
	}{
		"not a lab machine": {"priv-app1.priv.contoso.test", nil, "not a machine of the Samba lab"},
		"other forest":      {"priv-dc3.priv.contoso.test", func(p model.PromoteParams) model.PromoteParams { p.DomainName = "corp.contoso.test"; return p }, "can only join priv.contoso.test"},
		"already a DC":      {"PRIV-DC1.priv.contoso.test.", nil, "already a domain controller"},
		"read-only":         {"priv-dc3.priv.contoso.test", func(p model.PromoteParams) model.PromoteParams { p.ReadOnly = true; return p }, "writable domain controllers only"},
		"unknown site":      {"priv-dc3.priv.contoso.test", func(p model.PromoteParams) model.PromoteParams { p.SiteName = "Branch"; return p }, "no site \"Branch\""},
		"no global catalog": {"priv-dc3.priv.contoso.test", func(p model.PromoteParams) model.PromoteParams { p.GlobalCatalog = false; return p }, "always a global catalog"},
		"source not running": {"priv-dc3.priv.contoso.test", func(p model.PromoteParams) model.PromoteParams {
			p.ReplicationSourceDC = "corp-dc1.corp.contoso.test"
			return p
		}, "replication source"},
	} {
		p := ok
		if c.p != nil {
			p = c.p(p)
		}
		if err := b.PromoteDC(c.host, p); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: PromoteDC = %v, want an error containing %q", name, err, c.want)
		}
	}
	if err := b.PromoteDC("nowhere.test", ok); !errors.Is(err, ErrUnknownDC) {
		t.Errorf("PromoteDC(unknown host) = %v, want ErrUnknownDC", err)
	}
	if err := b.DemoteDC("priv-dc3.priv.contoso.test"); err == nil || !strings.Contains(err.Error(), "not a domain controller") {
		t.Errorf("DemoteDC(prepared) = %v", err)
	}
	if calls := b.Calls(); len(calls) != 0 {
		t.Errorf("the backend ran %v for refused calls", calls)
	}
}
