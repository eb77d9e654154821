package directory_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bastion-pam/terraform-provider-bastion/internal/adnames"
	"github.com/bastion-pam/terraform-provider-bastion/internal/directory"
	"github.com/bastion-pam/terraform-provider-bastion/internal/lab/ldapsim"
	"github.com/bastion-pam/terraform-provider-bastion/internal/lab/model"
	"github.com/bastion-pam/terraform-provider-bastion/internal/transport"
)

// TestOperationCosts pins what each typed read costs on a fresh pool, from
// the client's Stats and from the lab's own count of the operations it
// received (which must agree).
func TestOperationCosts(t *testing.T) {
	l := startLab(t)
	must(t, l.env.CreateTrust(model.DomainDNS, model.CorpDomainDNS, adnames.TrustDirectionOutbound, adnames.TrustAttrForestTransitive|adnames.TrustAttrPIMTrust))
	reads := []struct {
		name     string
		run      func(ctx context.Context, c *directory.Client) error
		searches int
		binds    int
		modifies int
	}{
		{"RootDSE", func(ctx context.Context, c *directory.Client) error { _, err := c.RootDSE(ctx); return err }, 1, 1, 0},
		{"DomainControllers", func(ctx context.Context, c *directory.Client) error { _, err := c.DomainControllers(ctx); return err }, 1, 1, 0},
		{"FSMORoles", func(ctx context.Context, c *directory.Client) error { _, err := c.FSMORoles(ctx); return err }, 3, 1, 0},
		{"FunctionalLevels", func(ctx context.Context, c *directory.Client) error { _, err := c.FunctionalLevels(ctx); return err }, 2, 1, 0},
		{"TombstoneLifetime", func(ctx context.Context, c *directory.Client) error { _, err := c.TombstoneLifetime(ctx); return err }, 1, 1, 0},
		{"Trusts", func(ctx context.Context, c *directory.Client) error { _, err := c.Trusts(ctx); return err }, 1, 1, 0},
		{"Trust", func(ctx context.Context, c *directory.Client) error { _, err := c.Trust(ctx, "CORP"); return err }, 1, 1, 0},
		{"OptionalFeatures", func(ctx context.Context, c *directory.Client) error { _, err := c.OptionalFeatures(ctx); return err }, 2, 1, 0},
		{"ObjectMetadata", func(ctx context.Context, c *directory.Client) error {
			_, err := c.ObjectMetadata(ctx, "DC=priv,DC=contoso,DC=test")
			return err
		}, 1, 1, 0},
		{"GroupMembers", func(ctx context.Context, c *directory.Client) error {
			_, err := c.GroupMembers(ctx, "Domain Admins")
			return err
		}, 1, 1, 0},
		{"IsDomainController", func(ctx context.Context, c *directory.Client) error {
			_, err := c.IsDomainController(ctx, model.DC2)
			return err
		}, 1, 1, 0},
		// The inventory (3, sent at once), then per DC (2): rootDSE + 5
		// naming contexts, sent at once, the first DC's with the
		// tombstone lifetime; one bind per DC.
		{"BackupStatus", func(ctx context.Context, c *directory.Client) error { _, err := c.BackupStatus(ctx); return err }, 16, 2, 0},
		// A plan's DC read and backup read share the inventory: no DC list twice.
		{"Inventory+BackupStatus", func(ctx context.Context, c *directory.Client) error {
			if _, err := c.Inventory(ctx); err != nil {
				return err
			}
			_, err := c.BackupStatus(ctx)
			return err
		}, 16, 2, 0},
		// Writes: DC list, modify, read-back on the same DC.
		{"SetGlobalCatalog", func(ctx context.Context, c *directory.Client) error {
			_, err := c.SetGlobalCatalog(ctx, model.DC2, false)
			return err
		}, 2, 1, 1},
		// DC list, role object, modify, read-back, all on the target.
		{"TransferFSMO(PDCEmulator)", func(ctx context.Context, c *directory.Client) error {
			_, err := c.TransferFSMO(ctx, adnames.PDCEmulator, model.DC2)
			return err
		}, 3, 1, 1},
		// + the domain head's rIDManagerReference.
		{"TransferFSMO(RIDMaster)", func(ctx context.Context, c *directory.Client) error {
			_, err := c.TransferFSMO(ctx, adnames.RIDMaster, model.DC2)
			return err
		}, 4, 1, 1},
		{"SeizeFSMO(SchemaMaster)", func(ctx context.Context, c *directory.Client) error {
			_, err := c.SeizeFSMO(ctx, adnames.SchemaMaster, model.DC2)
			return err
		}, 3, 1, 1},
	}
	for _, r := range reads {
		t.Run(r.name, func(t *testing.T) {
			l.env.ResetCounters()
			c := l.client(t)
			if err := r.run(ctxT(t), c); err != nil {
				t.Fatal(err)
			}
			st := c.TotalStats()
			if st.Searches != r.searches || st.Binds != r.binds || st.Dials != r.binds || st.Modifies != r.modifies {
				t.Errorf("%s cost %+v, want %d searches, %d binds, %d dials, %d modifies", r.name, st, r.searches, r.binds, r.binds, r.modifies)
			}
			if server := l.env.CallCount(model.LDAP, ""); server != st.Total() {
				t.Errorf("%s: the lab received %d operations, the client counted %d", r.name, server, st.Total())
			}
			t.Logf("%s = %d search(es) + %d modify + %d bind(s) on a fresh pool", r.name, st.Searches, st.Modifies, st.Binds)
		})
	}
}

func TestPoolReusesConnections(t *testing.T) {
	l := startLab(t)
	c := l.client(t)
	ctx := ctxT(t)
	for i := 0; i < 25; i++ {
		if _, err := c.DomainControllers(ctx); err != nil {
			t.Fatal(err)
		}
	}
	st := c.Stats()[model.DC1]
	if st.Dials != 1 || st.Binds != 1 || st.Searches != 25 {
		t.Errorf("25 reads: %+v, want 1 dial, 1 bind, 25 searches", st)
	}

	// Concurrent reads never open more than PoolSize connections.
	c2 := l.client(t, func(c *directory.Config) { c.PoolSize = 2 })
	var wg sync.WaitGroup
	errs := make(chan error, 40)
	for i := 0; i < 40; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := c2.FSMORoles(ctx)
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if st := c2.Stats()[model.DC1]; st.Dials > 2 || st.Searches != 120 {
		t.Errorf("40 concurrent reads with PoolSize 2: %+v, want at most 2 dials and 120 searches", st)
	}
}

func TestPinnedDCReadsAndWritesOnlyThere(t *testing.T) {
	l := startLab(t)
	c := l.client(t, func(c *directory.Config) { c.PinnedDC = model.DC2 })
	ctx := ctxT(t)
	l.env.ResetCounters()
	got, err := c.SetGlobalCatalog(ctx, model.DC1, false)
	if err != nil {
		t.Fatal(err)
	}
	if got.GlobalCatalog || got.Host != model.DC1 {
		t.Errorf("SetGlobalCatalog returned %+v", got)
	}
	dcs, err := c.DomainControllers(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range dcs {
		if d.Host == model.DC1 && d.GlobalCatalog {
			t.Errorf("read-back on the pinned DC still shows %s as a GC", model.DC1)
		}
	}
	if n := l.calls(model.DC1); n != 0 {
		t.Errorf("%d operations reached %s; every request should go to the pinned %s", n, model.DC1, model.DC2)
	}
	if _, ok := c.Stats()[model.DC1]; ok {
		t.Errorf("client stats mention %s: %v", model.DC1, c.Stats())
	}
	st := c.Stats()[model.DC2]
	if st.Modifies != 1 || st.Dials != 1 {
		t.Errorf("pinned DC stats %+v, want 1 modify on 1 connection", st)
	}
}

func modelOptions(t *testing.T, l *lab, host string) uint32 {
	t.Helper()
	var v uint32
	must(t, l.env.Do(func(e *model.Env) error {
		_, dc := e.DirectoryOf(host)
		v = dc.NTDSOptions()
		return nil
	}))
	return v
}

func TestSetGlobalCatalogFlipsOnlyBitOne(t *testing.T) {
	l := startLab(t)
	must(t, l.env.Do(func(e *model.Env) error {
		e.Domain.DC(model.DC1).SetNTDSOptions(adnames.NTDSOptIsGC | adnames.NTDSOptDisableOutboundRepl)
		return nil
	}))
	c := l.client(t)
	ctx := ctxT(t)
	got, err := c.SetGlobalCatalog(ctx, model.DC1, false)
	if err != nil {
		t.Fatal(err)
	}
	if got.Options != 0x4 || got.GlobalCatalog {
		t.Errorf("after disabling GC: options 0x%x, GC %t; want 0x4, false", got.Options, got.GlobalCatalog)
	}
	if v := modelOptions(t, l, model.DC1); v != 0x4 {
		t.Errorf("model options 0x%x, want 0x4 (outbound replication stays disabled)", v)
	}
	got, err = c.SetGlobalCatalog(ctx, model.DC1, true)
	if err != nil {
		t.Fatal(err)
	}
	if got.Options != 0x5 || !got.GlobalCatalog {
		t.Errorf("after enabling GC: options 0x%x; want 0x5", got.Options)
	}
	before := c.TotalStats().Modifies
	if _, err := c.SetGlobalCatalog(ctx, model.DC1, true); err != nil {
		t.Fatal(err)
	}
	if after := c.TotalStats().Modifies; after != before {
		t.Errorf("setting the bit it already has sent %d modify", after-before)
	}
	// A DC whose options attribute is absent gets a plain add.
	must(t, l.env.Do(func(e *model.Env) error { e.Domain.DC(model.DC2).SetNTDSOptions(0); return nil }))
	if got, err := c.SetGlobalCatalog(ctx, model.DC2, true); err != nil || got.Options != 1 {
		t.Errorf("enable GC on a DC without options: %+v, %v", got, err)
	}
	if _, err := c.SetGlobalCatalog(ctx, model.App1, true); !errors.Is(err, transport.ErrNotFound) {
		t.Errorf("SetGlobalCatalog on a member server: %v, want ErrNotFound", err)
	}
}

// TestSetGlobalCatalogConcurrentChange changes options between the client's
// read and its write: the compare-and-swap fails, the client re-reads and
// keeps the other administrator's bit.
func TestSetGlobalCatalogConcurrentChange(t *testing.T) {
	var once sync.Once
	var l *lab
	l = startLab(t, func(o *ldapsim.Options) {
		o.BeforeModify = func(host, dn string) {
			once.Do(func() {
				_ = l.env.Do(func(e *model.Env) error {
					dc := e.Domain.DC(model.DC2)
					dc.SetNTDSOptions(dc.NTDSOptions() | adnames.NTDSOptDisableInboundRepl)
					return nil
				})
			})
		}
	})
	c := l.client(t)
	got, err := c.SetGlobalCatalog(ctxT(t), model.DC2, false)
	if err != nil {
		t.Fatal(err)
	}
	if got.Options != adnames.NTDSOptDisableInboundRepl {
		t.Errorf("options 0x%x, want 0x2: the concurrent change was clobbered or the GC bit not cleared", got.Options)
	}
	if v := modelOptions(t, l, model.DC2); v != 0x2 {
		t.Errorf("model options 0x%x, want 0x2", v)
	}
	if m := c.TotalStats().Modifies; m != 2 {
		t.Errorf("%d modifies, want 2 (one lost to the concurrent change, one after re-reading)", m)
	}

	// An object that changes before every write ends in ErrConflict.
	var l2 *lab
	l2 = startLab(t, func(o *ldapsim.Options) {
		o.BeforeModify = func(host, dn string) {
			_ = l2.env.Do(func(e *model.Env) error {
				dc := e.Domain.DC(model.DC1)
				dc.SetNTDSOptions(dc.NTDSOptions() ^ adnames.NTDSOptDisableNTDSConnXlate)
				return nil
			})
		}
	})
	if _, err := l2.client(t).SetGlobalCatalog(ctxT(t), model.DC1, false); !errors.Is(err, directory.ErrConflict) {
		t.Errorf("ever-changing options: %v, want ErrConflict", err)
	}
}

func TestWritesOnReadOnlyDC(t *testing.T) {
	l := startLab(t)
	if _, err := l.env.PromoteDC(model.DomainDNS, model.Spare1, model.DCOptions{ReadOnly: true}); err != nil {
		t.Fatal(err)
	}
	ctx := ctxT(t)
	c := l.client(t)
	if _, err := c.TransferFSMO(ctx, adnames.PDCEmulator, model.Spare1); !errors.Is(err, directory.ErrReadOnlyDC) {
		t.Errorf("transfer to an RODC: %v, want ErrReadOnlyDC", err)
	}
	if _, err := c.SeizeFSMO(ctx, adnames.RIDMaster, model.Spare1); !errors.Is(err, directory.ErrReadOnlyDC) {
		t.Errorf("seize to an RODC: %v, want ErrReadOnlyDC", err)
	}
	if m := c.TotalStats().Modifies; m != 0 {
		t.Errorf("%d modifies sent to an RODC", m)
	}
	// Writing through an RODC: it refers the write to a writable DC.
	rodc := l.client(t, func(c *directory.Config) { c.PinnedDC = model.Spare1 })
	if _, err := rodc.SetGlobalCatalog(ctx, model.DC1, false); !errors.Is(err, directory.ErrReadOnlyDC) {
		t.Errorf("GC change through an RODC: %v, want ErrReadOnlyDC", err)
	}
	if r, err := rodc.RootDSE(ctx); err != nil || !r.ReadOnly() {
		t.Errorf("RODC rootDSE: read-only %t, %v", r.ReadOnly(), err)
	}
}

func TestTransferFSMO(t *testing.T) {
	l := startLab(t)
	ctx := ctxT(t)
	c := l.client(t)
	for _, role := range adnames.FSMORoles() {
		l.env.ResetCounters()
		h, err := c.TransferFSMO(ctx, role, model.DC2)
		if err != nil {
			t.Fatalf("transfer %s: %v", role, err)
		}
		if h.Host != model.DC2 || !strings.Contains(h.NTDSSettingsDN, "CN=PRIV-DC2,") {
			t.Errorf("transfer %s: holder %+v", role, h)
		}
		if n := l.calls(model.DC1); n != 0 {
			t.Errorf("transfer %s sent %d operations to %s; it must go to the target", role, n, model.DC1)
		}
	}
	roles, err := c.FSMORoles(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if held := roles.HeldBy(model.DC2); len(held) != 5 {
		t.Errorf("after transfers %s holds %v", model.DC2, held)
	}
	must(t, l.env.Do(func(e *model.Env) error {
		for _, r := range adnames.FSMORoles() {
			if e.Domain.FSMO[r] != model.DC2 {
				t.Errorf("model: %s held by %s", r, e.Domain.FSMO[r])
			}
		}
		return nil
	}))
	// Already held: nothing written.
	before := c.TotalStats().Modifies
	if _, err := c.TransferFSMO(ctx, adnames.PDCEmulator, model.DC2); err != nil {
		t.Fatal(err)
	}
	if c.TotalStats().Modifies != before {
		t.Error("transfer of a role the target holds sent a modify")
	}
	if _, err := c.TransferFSMO(ctx, "Bogus", model.DC2); !errors.Is(err, directory.ErrUnknownRole) {
		t.Errorf("unknown role: %v", err)
	}
	if _, err := c.TransferFSMO(ctx, adnames.PDCEmulator, model.App1); !errors.Is(err, transport.ErrUnreachable) {
		t.Errorf("transfer to a member server (no LDAP service): %v, want ErrUnreachable", err)
	}
}

func TestTransferNeedsTheHolderAndSeizeDoesNot(t *testing.T) {
	l := startLab(t)
	ctx := ctxT(t)
	must(t, l.env.SetReachable(model.DC1, false))
	must(t, l.srv.Sync())
	c := l.client(t)
	_, err := c.TransferFSMO(ctx, adnames.RIDMaster, model.DC2)
	if !errors.Is(err, directory.ErrRoleOwnerUnavailable) || !strings.Contains(err.Error(), model.DC1) {
		t.Fatalf("transfer from a dead holder: %v, want ErrRoleOwnerUnavailable naming %s", err, model.DC1)
	}
	if m := c.TotalStats().Modifies; m != 1 {
		t.Errorf("%d modifies: an unavailable holder must not be retried within one call", m)
	}
	for _, role := range adnames.FSMORoles() {
		h, err := c.SeizeFSMO(ctx, role, model.DC2)
		if err != nil {
			t.Fatalf("seize %s: %v", role, err)
		}
		if h.Host != model.DC2 {
			t.Errorf("seize %s: %+v", role, h)
		}
	}
	roles, err := l.client(t, func(c *directory.Config) { c.PinnedDC = model.DC2 }).FSMORoles(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if held := roles.HeldBy(model.DC2); len(held) != 5 {
		t.Errorf("after seizing, %s holds %v", model.DC2, held)
	}
	if n := l.calls(model.DC1); n != 0 {
		t.Errorf("%d operations reached the dead %s", n, model.DC1)
	}
}

func TestWritesNeedAdministrator(t *testing.T) {
	l := startLab(t)
	c := l.client(t, func(c *directory.Config) { c.Username, c.Password = model.MIMSvcUser, l.seed.MIMSvcPassword })
	ctx := ctxT(t)
	if _, err := c.DomainControllers(ctx); err != nil {
		t.Fatalf("a domain user can read: %v", err)
	}
	if _, err := c.TransferFSMO(ctx, adnames.PDCEmulator, model.DC2); !errors.Is(err, directory.ErrAccessDenied) {
		t.Errorf("transfer as svc-mim: %v, want ErrAccessDenied", err)
	}
	if _, err := c.SetGlobalCatalog(ctx, model.DC2, false); !errors.Is(err, directory.ErrAccessDenied) {
		t.Errorf("GC change as svc-mim: %v, want ErrAccessDenied", err)
	}
}

func TestRetriesOnBusy(t *testing.T) {
	l := startLab(t)
	c := l.client(t)
	ctx := ctxT(t)
	if _, err := c.RootDSE(ctx); err != nil { // warm the pool
		t.Fatal(err)
	}
	must(t, l.env.InjectFault(model.DC1, model.LDAP, model.FaultLDAPBusy, 2))
	if _, err := c.DomainControllers(ctx); err != nil {
		t.Fatalf("two busy answers then success: %v", err)
	}
	if st := c.Stats()[model.DC1]; st.Searches != 4 || st.Dials != 1 {
		t.Errorf("stats %+v, want 4 searches (rootDSE + 2 busy + 1) on one connection", st)
	}
	must(t, l.env.InjectFault(model.DC1, model.LDAP, model.FaultLDAPBusy, -1))
	_, err := c.DomainControllers(ctx)
	if !errors.Is(err, directory.ErrBusy) {
		t.Errorf("always busy: %v, want ErrBusy", err)
	}
	l.env.ClearFaults(model.DC1)
}

func TestDroppedConnectionIsReplaced(t *testing.T) {
	l := startLab(t)
	c := l.client(t)
	ctx := ctxT(t)
	if _, err := c.DomainControllers(ctx); err != nil {
		t.Fatal(err)
	}
	must(t, l.env.InjectFault(model.DC1, model.LDAP, model.FaultDropLDAP, 1))
	dcs, err := c.DomainControllers(ctx)
	if err != nil || len(dcs) != 2 {
		t.Fatalf("after a dropped connection: %v, %v", dcs, err)
	}
	if st := c.Stats()[model.DC1]; st.Dials != 2 || st.Binds != 2 {
		t.Errorf("stats %+v, want a second dial and bind after the drop", st)
	}
	// The pool keeps working on the new connection.
	if _, err := c.FSMORoles(ctx); err != nil {
		t.Fatal(err)
	}
	if st := c.Stats()[model.DC1]; st.Dials != 2 {
		t.Errorf("stats %+v, want the replacement connection reused", st)
	}
}

func TestUnreachableDC(t *testing.T) {
	l := startLab(t)
	ctx := ctxT(t)
	only1 := func(c *directory.Config) { c.Servers = []string{model.DC1} }

	// Host down, listeners closed: connection refused.
	must(t, l.env.SetReachable(model.DC1, false))
	must(t, l.srv.Sync())
	start := time.Now()
	_, err := l.client(t, only1).DomainControllers(ctx)
	if !errors.Is(err, transport.ErrUnreachable) {
		t.Fatalf("down DC: %v, want ErrUnreachable", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("took %s to give up", d)
	}
	// With two servers the second one answers, and keeps answering.
	c := l.client(t)
	for i := 0; i < 3; i++ {
		if _, err := c.DomainControllers(ctx); err != nil {
			t.Fatalf("failover to %s: %v", model.DC2, err)
		}
	}
	if st := c.Stats()[model.DC2]; st.Searches != 3 || st.Dials != 1 {
		t.Errorf("failover stats %v", c.Stats())
	}
	if st := c.Stats()[model.DC1]; st.Dials != 1 {
		t.Errorf("the down DC was dialled %d times; it should be tried last for a while", st.Dials)
	}
	must(t, l.env.SetReachable(model.DC1, true))
	must(t, l.srv.Sync())
	if _, err := l.client(t, only1).DomainControllers(ctx); err != nil {
		t.Fatalf("back up: %v", err)
	}

	// Unreachable without Sync: the listener resets the connection.
	must(t, l.env.SetReachable(model.DC1, false))
	if _, err := l.client(t, only1).RootDSE(ctx); !errors.Is(err, transport.ErrUnreachable) {
		t.Errorf("down DC before Sync: %v, want ErrUnreachable", err)
	}
	must(t, l.env.SetReachable(model.DC1, true))

	// An injected refusal is retried on a new connection.
	c2 := l.client(t, only1)
	must(t, l.env.InjectFault(model.DC1, model.LDAP, model.FaultRefuse, 1))
	if _, err := c2.DomainControllers(ctx); err != nil {
		t.Errorf("one refused operation then success: %v", err)
	}
}

func TestBadCredentials(t *testing.T) {
	l := startLab(t)
	ctx := ctxT(t)
	c := l.client(t, func(c *directory.Config) { c.Password = "wrong" })
	_, err := c.DomainControllers(ctx)
	if !errors.Is(err, transport.ErrUnauthorized) {
		t.Fatalf("bad password: %v, want ErrUnauthorized", err)
	}
	if st := c.TotalStats(); st.Binds != 1 {
		t.Errorf("bad password was tried %d times; it is final", st.Binds)
	}
	for _, name := range []string{model.AdminUser, "Administrator@" + model.DomainDNS, "CN=Administrator,CN=Users,DC=priv,DC=contoso,DC=test"} {
		if _, err := l.client(t, func(c *directory.Config) { c.Username = name }).RootDSE(ctx); err != nil {
			t.Errorf("bind as %q: %v", name, err)
		}
	}
	if _, err := l.client(t, func(c *directory.Config) { c.Username = `CORP\Administrator` }).RootDSE(ctx); !errors.Is(err, transport.ErrUnauthorized) {
		t.Errorf("CORP account on a PRIV DC: %v, want ErrUnauthorized", err)
	}
	// The lab's injected invalidCredentials surfaces the same way.
	c2 := l.client(t)
	must(t, l.env.InjectFault(model.DC1, model.LDAP, model.FaultUnauthorized, 1))
	if _, err := c2.RootDSE(ctx); !errors.Is(err, transport.ErrUnauthorized) {
		t.Errorf("FaultUnauthorized: %v, want ErrUnauthorized", err)
	}
}

func TestTLSModes(t *testing.T) {
	l := startLab(t)
	ctx := ctxT(t)
	ok := []struct {
		name string
		mut  func(*directory.Config)
	}{
		{"ldaps with the lab CA", func(c *directory.Config) {}},
		{"starttls with the lab CA", func(c *directory.Config) { c.TLSMode = directory.TLSModeStartTLS }},
		{"ldaps, verification off", func(c *directory.Config) { c.CACertPEM = nil; c.InsecureSkipVerify = true }},
		{"no TLS (insecure opt-in)", func(c *directory.Config) { c.TLSMode = directory.TLSModeNone }},
	}
	for _, tc := range ok {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := l.client(t, tc.mut).DomainControllers(ctx); err != nil {
				t.Fatal(err)
			}
		})
	}
	bad := []struct {
		name string
		mut  func(*directory.Config)
	}{
		{"ldaps without the CA", func(c *directory.Config) { c.CACertPEM = nil }},
		{"starttls without the CA", func(c *directory.Config) { c.CACertPEM = nil; c.TLSMode = directory.TLSModeStartTLS }},
		{"certificate for another name", func(c *directory.Config) {
			c.Servers = []string{model.MIMAlias}
			c.ConnectTo = transport.ConnectTo{model.MIMAlias + ":636": c.ConnectTo.Resolve(model.DC1 + ":636")}
		}},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			c := l.client(t, tc.mut)
			_, err := c.DomainControllers(ctx)
			if !errors.Is(err, directory.ErrCertificate) || !errors.Is(err, transport.ErrUnreachable) {
				t.Fatalf("%v, want ErrCertificate and ErrUnreachable", err)
			}
			if st := c.TotalStats(); st.Dials != 1 || st.Binds != 0 {
				t.Errorf("stats %+v: an untrusted certificate is final and no password is sent", st)
			}
		})
	}
	if _, err := directory.New(l.config(func(c *directory.Config) { c.CACertPEM = []byte("not pem") })); !errors.Is(err, directory.ErrInvalidConfig) {
		t.Errorf("bad CA PEM: %v", err)
	}
}

func TestFilterValuesAreEscaped(t *testing.T) {
	l := startLab(t)
	must(t, l.env.CreateTrust(model.DomainDNS, model.CorpDomainDNS, adnames.TrustDirectionBidirectional, adnames.TrustAttrForestTransitive))
	c := l.client(t)
	ctx := ctxT(t)
	if _, err := c.Trust(ctx, "corp.contoso.test"); err != nil {
		t.Fatal(err)
	}
	// Unescaped, each of these would match the CORP trust (or everything).
	for _, v := range []string{"*", "*)(objectClass=*", "corp*", "*)(|(trustPartner=*", "CORP)(flatName=*", `\2a`, "(", ")"} {
		if tr, err := c.Trust(ctx, v); !errors.Is(err, transport.ErrNotFound) {
			t.Errorf("Trust(%q) = %+v, %v; want ErrNotFound", v, tr, err)
		}
		if ok, err := c.IsDomainController(ctx, v); ok || err != nil {
			t.Errorf("IsDomainController(%q) = %t, %v", v, ok, err)
		}
	}
}

func TestDomainFromRootDSE(t *testing.T) {
	l := startLab(t)
	c := l.client(t, func(c *directory.Config) { c.Domain = "" })
	ctx := ctxT(t)
	for i := 0; i < 3; i++ {
		if _, err := c.TombstoneLifetime(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if st := c.TotalStats(); st.Searches != 4 {
		t.Errorf("without Domain: %+v, want the rootDSE read once (4 searches)", st)
	}
}

func TestMissingObjectIsNotFound(t *testing.T) {
	l := startLab(t)
	// A domain the DCs do not hold: every base object is missing.
	c := l.client(t, func(c *directory.Config) { c.Domain = "elsewhere.test" })
	ctx := ctxT(t)
	if _, err := c.FunctionalLevels(ctx); !errors.Is(err, transport.ErrNotFound) {
		t.Errorf("FunctionalLevels of a foreign domain: %v, want ErrNotFound", err)
	}
	if _, err := c.TombstoneLifetime(ctx); !errors.Is(err, transport.ErrNotFound) {
		t.Errorf("TombstoneLifetime of a foreign domain: %v, want ErrNotFound", err)
	}
	if st := c.TotalStats(); st.Searches != 2 {
		t.Errorf("stats %+v: a missing object is final, not retried", st)
	}
}

func TestContextBoundsEveryCall(t *testing.T) {
	l := startLab(t)
	must(t, l.env.SetLatency(model.DC1, model.LDAP, 2*time.Second))
	c := l.client(t, func(c *directory.Config) { c.Servers = []string{model.DC1} })
	ctx, cancel := context.WithTimeout(context.Background(), 150*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := c.DomainControllers(ctx)
	if err == nil || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("slow DC: %v, want the context's deadline", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("returned after %s", d)
	}
	l.env.ClearFaults(model.DC1)
}

func TestUnansweredRequestIsRetried(t *testing.T) {
	l := startLab(t)
	// Only the unanswered request may reach the timeout: at 100 ms, answered
	// ones did too on a loaded machine (another dial, or the other DC).
	c := l.client(t, func(c *directory.Config) { c.RequestTimeout = 3 * time.Second })
	ctx := ctxT(t)
	if _, err := c.RootDSE(ctx); err != nil {
		t.Fatal(err)
	}
	must(t, l.env.InjectFault(model.DC1, model.LDAP, model.FaultTimeout, 1))
	if _, err := c.DomainControllers(ctx); err != nil {
		t.Fatalf("one unanswered request, then an answer: %v", err)
	}
	if st := c.Stats()[model.DC1]; st.Dials != 2 {
		t.Errorf("stats %+v: the connection with the lost request should be replaced", st)
	}
}

func TestPromotionAndDemotion(t *testing.T) {
	l := startLab(t)
	ctx := ctxT(t)
	spare := l.client(t, func(c *directory.Config) { c.Servers = []string{model.Spare1} })
	if _, err := spare.RootDSE(ctx); !errors.Is(err, transport.ErrUnreachable) {
		t.Fatalf("a member server answers LDAP: %v", err)
	}
	if _, err := l.env.PromoteDC(model.DomainDNS, model.Spare1, model.DCOptions{Site: "Second-Site", GlobalCatalog: true}); err != nil {
		t.Fatal(err)
	}
	r, err := spare.RootDSE(ctx)
	if err != nil || r.DNSHostName != model.Spare1 {
		t.Fatalf("promoted DC rootDSE: %+v, %v", r, err)
	}
	c := l.client(t)
	if ok, err := c.IsDomainController(ctx, model.Spare1); !ok || err != nil {
		t.Errorf("IsDomainController(promoted) = %t, %v", ok, err)
	}
	dcs, err := c.DomainControllers(ctx)
	if err != nil || len(dcs) != 3 {
		t.Fatalf("after promotion: %d DCs, %v", len(dcs), err)
	}
	must(t, l.env.DemoteDC(model.Spare1))
	must(t, l.srv.Sync())
	if _, err := spare.RootDSE(ctx); !errors.Is(err, transport.ErrUnreachable) {
		t.Errorf("demoted DC still answers: %v", err)
	}
	if ok, err := c.IsDomainController(ctx, model.Spare1); ok || err != nil {
		t.Errorf("IsDomainController(demoted) = %t, %v", ok, err)
	}
}

func TestBackupStatus(t *testing.T) {
	l := startLab(t)
	ctx := ctxT(t)
	c := l.client(t)
	rep, err := c.BackupStatus(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Backups) != 10 {
		t.Errorf("%d entries, want 2 DCs x 5 naming contexts", len(rep.Backups))
	}
	// The tombstone lifetime came with the heads, as a read of its own gives it.
	if tomb, err := c.TombstoneLifetime(ctx); err != nil || !rep.TombstoneRead || rep.Tombstone != tomb {
		t.Errorf("tombstone lifetime with the backups: %+v (read %t), alone: %+v, %v", rep.Tombstone, rep.TombstoneRead, tomb, err)
	}
	latest := rep.Latest()
	for _, nc := range []string{adnames.NCDomain, adnames.NCConfiguration, adnames.NCSchema, adnames.NCDomainDNSZones, adnames.NCForestDNSZones} {
		b := latest[nc]
		if !b.Backed || b.OriginatingDC != model.DC2 || time.Since(b.LastBackup) > 3*time.Hour || time.Since(b.LastBackup) < time.Hour {
			t.Errorf("%s: %+v, want priv-dc2's backup of about two hours ago", nc, b)
		}
	}
	// A new backup of dc1 replaces the stamp everywhere; a DC down is reported, not fatal.
	at := time.Now().Add(-5 * time.Minute).UTC().Truncate(time.Second)
	must(t, l.env.RecordBackup(model.DC1, at))
	must(t, l.env.SetReachable(model.DC2, false))
	must(t, l.srv.Sync())
	rep, err = c.BackupStatus(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := rep.Unreadable[model.DC2]; !ok || len(rep.Backups) != 5 {
		t.Errorf("with %s down: %d entries, unreadable %v", model.DC2, len(rep.Backups), rep.Unreadable)
	}
	if b := rep.Latest()[adnames.NCSchema]; !b.LastBackup.Equal(at) || b.OriginatingDC != model.DC1 || b.Version != 3 {
		t.Errorf("after backing up %s: %+v", model.DC1, b)
	}
	// Never backed up: no stamp.
	must(t, l.env.ClearBackups(model.DC1))
	must(t, l.env.ClearBackups(model.DC2))
	must(t, l.env.SetReachable(model.DC2, true))
	must(t, l.srv.Sync())
	rep, err = c.BackupStatus(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range rep.Backups {
		if b.Backed {
			t.Errorf("never backed up, yet %+v", b)
		}
	}
	// Pinned: only the pinned DC is read.
	rep, err = l.client(t, func(c *directory.Config) { c.PinnedDC = model.DC2 }).BackupStatus(ctx)
	if err != nil || len(rep.Backups) != 5 || rep.Backups[0].DC != model.DC2 {
		t.Errorf("pinned BackupStatus: %+v, %v", rep, err)
	}
}

func TestConfigValidation(t *testing.T) {
	for name, cfg := range map[string]directory.Config{
		"no servers":             {Username: "u", Password: "p"},
		"bad tls mode":           {Servers: []string{"dc"}, TLSMode: "ssl", Username: "u", Password: "p"},
		"bad bind mode":          {Servers: []string{"dc"}, BindMode: "ntlm", Username: "u", Password: "p"},
		"no password":            {Servers: []string{"dc"}, Username: "u"},
		"kerberos, no krb5.conf": {Servers: []string{"dc"}, BindMode: directory.BindKerberos, Username: "u", Password: "p"},
	} {
		if _, err := directory.New(cfg); !errors.Is(err, directory.ErrInvalidConfig) {
			t.Errorf("%s: %v, want ErrInvalidConfig", name, err)
		}
	}
}

func BenchmarkDomainControllers(b *testing.B) {
	l := startLab(b)
	c := l.client(b)
	ctx := context.Background()
	if _, err := c.DomainControllers(ctx); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := c.DomainControllers(ctx); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	if st := c.Stats()[model.DC1]; st.Dials != 1 {
		b.Errorf("benchmark dialled %d times", st.Dials)
	}
	b.ReportMetric(float64(c.Stats()[model.DC1].Searches)/float64(b.N+1), "searches/op")
}

func ExampleNew() {
	// Reads go to the first DC that answers (or the pinned one) over LDAPS.
	c, err := directory.New(directory.Config{
		Servers:   []string{"priv-dc1.priv.contoso.test", "priv-dc2.priv.contoso.test"},
		Domain:    "priv.contoso.test",
		Username:  `PRIV\Administrator`,
		Password:  "…",
		CACertPEM: nil, // the lab or enterprise CA in PEM
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer func() { _ = c.Close() }()
	fmt.Println(len(adnames.FSMORoles()))
	// Output: 5
}

// TestGroupMembersFollowsRanges: a group of more members than MaxValRange
// comes back as member;range=0-1499 and the adapter asks for the rest
// (member;range=1500-*, ...) on the same connection: 3 searches for 3200.
func TestGroupMembersFollowsRanges(t *testing.T) {
	l := startLab(t)
	members := make([]string, 3200)
	for i := range members {
		members[i] = fmt.Sprintf("pam-user-%04d", i)
	}
	_ = l.env.Do(func(e *model.Env) error { e.Domain.Groups = map[string][]string{"PAM Operators": members}; return nil })
	c := l.client(t)
	got, err := c.GroupMembers(ctxT(t), "PAM Operators")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(members) {
		t.Fatalf("%d members, want %d", len(got), len(members))
	}
	seen := map[string]bool{}
	for _, dn := range got {
		seen[strings.ToLower(dn)] = true
	}
	for _, m := range members {
		if !seen[strings.ToLower("CN="+m+",CN=Users,DC=priv,DC=contoso,DC=test")] {
			t.Fatalf("member %s missing", m)
		}
	}
	if st := c.TotalStats(); st.Searches != 3 || st.Dials != 1 {
		t.Errorf("%d searches, %d dials; want 3 searches (one range each) on one connection", st.Searches, st.Dials)
	}
}
