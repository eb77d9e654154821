package directory_test

import (
	"reflect"
	"sync"
	"testing"

	"github.com/bastion-pam/terraform-provider-bastion/internal/adnames"
	"github.com/bastion-pam/terraform-provider-bastion/internal/directory"
	"github.com/bastion-pam/terraform-provider-bastion/internal/lab/model"
)

// Every Read of a plan shares one inventory read: ten concurrent callers cost
// the three searches of one FSMORoles, a write through the client makes the
// next call read again, and the answer is what the uncached reads say.
func TestInventorySharedUntilAWrite(t *testing.T) {
	l := startLab(t)
	ctx := ctxT(t)
	c := l.client(t)
	var wg sync.WaitGroup
	invs := make([]directory.Inventory, 10)
	errs := make([]error, 10)
	for i := range invs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			invs[i], errs[i] = c.Inventory(ctx)
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("caller %d: %v", i, err)
		}
	}
	if st := c.TotalStats(); st.Searches != 3 {
		t.Errorf("10 concurrent Inventory calls cost %d searches, want 3", st.Searches)
	}
	dcs, err := c.DomainControllers(ctx)
	if err != nil {
		t.Fatal(err)
	}
	roles, err := c.FSMORoles(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(invs[0].DCs, dcs) || !reflect.DeepEqual(invs[0].Roles, roles) {
		t.Errorf("inventory %+v differs from DomainControllers %+v / FSMORoles %+v", invs[0], dcs, roles)
	}
	// The functional levels come with the same searches.
	if levels, err := c.FunctionalLevels(ctx); err != nil || invs[0].Levels != levels || levels.Forest == 0 || levels.Domain == 0 {
		t.Errorf("inventory levels %+v, FunctionalLevels %+v, %v", invs[0].Levels, levels, err)
	}
	before := c.TotalStats().Searches
	if _, err := c.Inventory(ctx); err != nil {
		t.Fatal(err)
	}
	if n := c.TotalStats().Searches - before; n != 0 {
		t.Errorf("a cached Inventory cost %d searches", n)
	}
	if _, err := c.TransferFSMO(ctx, adnames.PDCEmulator, model.DC2); err != nil {
		t.Fatal(err)
	}
	inv, err := c.Inventory(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if h := inv.Roles[adnames.PDCEmulator].Host; h != model.DC2 {
		t.Errorf("after the transfer the inventory says the PDC emulator is %q, want %s", h, model.DC2)
	}
	// A change made elsewhere (a promotion over WinRM) shows after Invalidate.
	must(t, l.env.RecordBackup(model.DC1, l.env.Now())) // touch nothing DC-related: still cached
	l.env.AddHost("priv-dc3.priv.contoso.test")
	if _, err := l.env.PromoteDC(model.DomainDNS, "priv-dc3.priv.contoso.test", model.DCOptions{Site: model.DefaultSite}); err != nil {
		t.Fatal(err)
	}
	if inv, _ := c.Inventory(ctx); len(inv.DCs) != 2 {
		t.Errorf("before Invalidate the inventory lists %d DCs, want the cached 2", len(inv.DCs))
	}
	c.Invalidate()
	if inv, _ := c.Inventory(ctx); len(inv.DCs) != 3 {
		t.Errorf("after Invalidate the inventory lists %d DCs, want 3", len(inv.DCs))
	}
}
