package directory

import (
	"context"
	"sync"
	"time"
)

// Inventory is the forest's domain controllers and the FSMO role holders,
// read together: the Configuration NC search that resolves role holders to
// hosts returns every server and NTDS Settings object anyway.
type Inventory struct {
	DCs   []DomainController
	Roles FSMORoles
}

// InventoryMaxAge bounds how long Inventory serves one read: a refresh
// asks within seconds; anything older is read again.
const InventoryMaxAge = time.Minute

// inventoryCache shares one read among every caller (single flight) until
// a write through this client, Invalidate, or InventoryMaxAge.
type inventoryCache struct {
	mu       sync.Mutex
	gen      uint64 // bumped by every invalidation
	val      *Inventory
	valGen   uint64
	at       time.Time
	inflight *inventoryCall
}

type inventoryCall struct {
	gen  uint64
	done chan struct{}
	val  Inventory
	err  error
}

// Inventory returns the DCs and FSMO holders. Every Read of a DC, of the
// FSMO roles and of the DC inventory in one plan shares one read, so a plan
// costs the same three searches whatever the number of DCs. Polls that wait
// for a change made elsewhere use DomainControllers and FSMORoles, which
// always ask the directory. Cost: 3 searches, once.
func (c *Client) Inventory(ctx context.Context) (Inventory, error) {
	ic := &c.inventory
	ic.mu.Lock()
	if ic.val != nil && ic.valGen == ic.gen && time.Since(ic.at) < InventoryMaxAge {
		v := *ic.val
		ic.mu.Unlock()
		return v, nil
	}
	call := ic.inflight
	if call == nil || call.gen != ic.gen {
		call = &inventoryCall{gen: ic.gen, done: make(chan struct{})}
		ic.inflight = call
		// The read runs detached from any one caller's cancellation, bounded
		// by the first caller's deadline: a caller that gives up does not
		// fail the others waiting on the same read.
		rctx := context.WithoutCancel(ctx)
		var cancel context.CancelFunc = func() {}
		if dl, ok := ctx.Deadline(); ok {
			rctx, cancel = context.WithDeadline(rctx, dl)
		}
		go func() {
			defer cancel()
			call.val, call.err = c.readInventory(rctx)
			ic.mu.Lock()
			if ic.inflight == call {
				ic.inflight = nil
			}
			if call.err == nil && call.gen == ic.gen {
				v := call.val
				ic.val, ic.valGen, ic.at = &v, call.gen, time.Now()
			}
			ic.mu.Unlock()
			close(call.done)
		}()
	}
	ic.mu.Unlock()
	select {
	case <-call.done:
		return call.val, call.err
	case <-ctx.Done():
		return Inventory{}, ctx.Err()
	}
}

// Invalidate drops the shared inventory: the next Inventory reads again.
// The client's own writes call it; callers that change DCs or roles by
// other means (a promotion over WinRM) call it too.
func (c *Client) Invalidate() {
	c.inventory.mu.Lock()
	c.inventory.gen++
	c.inventory.val = nil
	c.inventory.mu.Unlock()
}

func (c *Client) readInventory(ctx context.Context) (Inventory, error) {
	n, err := c.naming(ctx)
	if err != nil {
		return Inventory{}, err
	}
	var out Inventory
	err = c.do(ctx, "", "read domain controllers and FSMO roles", nil, func(ctx context.Context, s *session) error {
		roles, cfg, err := s.fsmoRolesWithConfig(n)
		if err != nil {
			return err
		}
		out = Inventory{DCs: joinDCs(cfg), Roles: roles}
		return nil
	})
	return out, err
}
