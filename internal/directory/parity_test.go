package directory_test

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bastion-pam/terraform-provider-bastion/internal/adnames"
	"github.com/bastion-pam/terraform-provider-bastion/internal/directory"
	"github.com/bastion-pam/terraform-provider-bastion/internal/directory/directorytest"
	"github.com/bastion-pam/terraform-provider-bastion/internal/lab/model"
)

// runCases runs every directorytest case against c and ref, each as a
// subtest, and returns how many assertions held.
func runCases(t *testing.T, ctx context.Context, c *directory.Client, ref directorytest.Reference) int64 {
	t.Helper()
	var n int64
	ctx = directorytest.WithAssertionCounter(ctx, &n)
	for _, tc := range directorytest.Cases {
		t.Run(tc.Name, func(t *testing.T) {
			if err := tc.Run(ctx, c, ref); err != nil {
				t.Error(err)
			}
		})
	}
	t.Logf("%d assertions", n)
	return n
}

// TestParityCasesAgainstLab runs the shared read table (directorytest.Cases)
// against the lab in several shapes of the model; the Samba suite runs the
// same table with a Reference built from samba-tool.
func TestParityCasesAgainstLab(t *testing.T) {
	scenarios := []struct {
		name   string
		domain string
		setup  func(t *testing.T, l *lab)
		config func(*directory.Config)
	}{
		{name: "default PRIV", domain: model.DomainDNS},
		{
			name:   "PRIV with PAM trust, RODC, moved roles, one DC never backed up",
			domain: model.DomainDNS,
			setup: func(t *testing.T, l *lab) {
				must(t, l.env.CreateTrust(model.DomainDNS, model.CorpDomainDNS, adnames.TrustDirectionOutbound,
					adnames.TrustAttrForestTransitive|adnames.TrustAttrPIMTrust|adnames.TrustAttrUsesAESKeys))
				if _, err := l.env.PromoteDC(model.DomainDNS, model.Spare1, model.DCOptions{Site: "Branch-Site", ReadOnly: true, GlobalCatalog: true}); err != nil {
					t.Fatal(err)
				}
				must(t, l.env.TransferFSMO(adnames.RIDMaster, model.DC2))
				must(t, l.env.TransferFSMO(adnames.SchemaMaster, model.DC2))
				must(t, l.env.ClearBackups(model.DC2))
				must(t, l.env.RecordBackup(model.DC1, time.Now().Add(-26*time.Hour), adnames.NCDomain, adnames.NCConfiguration))
				must(t, l.env.Do(func(e *model.Env) error {
					e.Domain.TombstoneLifetimeDays = 0 // unset: 60 days
					e.Domain.DC(model.DC2).SetNTDSOptions(adnames.NTDSOptDisableOutboundRepl)
					e.Domain.OptionalFeatures[adnames.FeatureRecycleBin] = true
					return nil
				}))
				must(t, l.srv.Sync())
			},
		},
		{
			name:   "CORP forest with the mirror trust",
			domain: model.CorpDomainDNS,
			setup: func(t *testing.T, l *lab) {
				must(t, l.env.CreateTrust(model.DomainDNS, model.CorpDomainDNS, adnames.TrustDirectionBidirectional, adnames.TrustAttrForestTransitive))
			},
			config: func(c *directory.Config) {
				c.Servers = []string{model.CorpDC1}
				c.Username = model.CorpAdminUser
			},
		},
	}
	var total int64
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			l := startLab(t)
			if sc.setup != nil {
				sc.setup(t, l)
			}
			c := l.client(t, func(c *directory.Config) {
				c.Domain = sc.domain
				if sc.config != nil {
					sc.config(c)
					if c.Username == model.CorpAdminUser {
						_ = l.env.Do(func(e *model.Env) error {
							c.Password = e.Credentials[strings.ToLower(model.CorpAdminUser)]
							return nil
						})
					}
				}
			})
			ref := labReference{env: l.env, domain: sc.domain}
			n := runCases(t, ctxT(t), c, ref)
			atomic.AddInt64(&total, n)
			labParityAssertions.Add(n) // printed by TestMain (samba_test.go)
			labParityRuns.Add(1)
		})
	}
	t.Logf("directorytest.Cases: %d cases x %d scenarios, %d assertions run", len(directorytest.Cases), len(scenarios), total)
}

// TestParityCasesFailOnWrongReference shows the table can fail: a reference
// that disagrees with the directory makes the cases report it.
func TestParityCasesFailOnWrongReference(t *testing.T) {
	l := startLab(t)
	c := l.client(t)
	ref := wrongReference{labReference{env: l.env, domain: model.DomainDNS}}
	failed := map[string]bool{}
	for _, tc := range directorytest.Cases {
		if err := tc.Run(context.Background(), c, ref); err != nil {
			failed[tc.Name] = true
		}
	}
	for _, name := range []string{"rootDSE", "domain controllers", "global catalog bits", "FSMO holders", "functional levels", "tombstone lifetime", "backup metadata", "trusts", "trust lookup and escaping", "optional features"} {
		if !failed[name] {
			t.Errorf("case %q passed against a wrong reference", name)
		}
	}
}

// wrongReference lies about everything.
type wrongReference struct{ labReference }

func (w wrongReference) DomainControllers(ctx context.Context) ([]directorytest.DC, error) {
	dcs, _ := w.labReference.DomainControllers(ctx)
	for i := range dcs {
		dcs[i].GlobalCatalog = !dcs[i].GlobalCatalog
		dcs[i].Site = "Elsewhere"
	}
	return dcs, nil
}

func (w wrongReference) FSMOHolders(ctx context.Context) (map[string]string, error) {
	m, _ := w.labReference.FSMOHolders(ctx)
	m[adnames.PDCEmulator] = model.DC2
	return m, nil
}

func (w wrongReference) FunctionalLevels(context.Context) (int, int, error) { return 4, 4, nil }

func (w wrongReference) TombstoneLifetimeDays(context.Context) (int, error) { return 60, nil }

func (w wrongReference) Backups(ctx context.Context) ([]directorytest.Backup, error) {
	b, _ := w.labReference.Backups(ctx)
	for i := range b {
		b[i].OriginatingDC = model.App1
	}
	return b, nil
}

func (w wrongReference) Trusts(context.Context) ([]directorytest.Trust, error) {
	return []directorytest.Trust{{Partner: "corp.contoso.test", FlatName: "CORP", Direction: 3, Type: 2, Attributes: 8}}, nil
}

func (w wrongReference) EnabledOptionalFeatures(context.Context) ([]string, error) {
	return []string{adnames.FeatureRecycleBin}, nil
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
