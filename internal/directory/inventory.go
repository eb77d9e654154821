package directory

import (
	"context"
	"time"
)

// Inventory is the forest's domain controllers and the FSMO role holders,
// read together: the Configuration NC search that resolves role holders to
// hosts returns every server and NTDS Settings object anyway.
type Inventory struct {
	DCs   []DomainController
	Roles FSMORoles
	// Levels are the functional levels: msDS-Behavior-Version of the
	// Partitions container and of the domain head, which the same searches
	// return (what FunctionalLevels reads on its own).
	Levels FunctionalLevels
}

// InventoryMaxAge bounds how long Inventory serves one read: a refresh
// asks within seconds; anything older is read again.
const InventoryMaxAge = time.Minute

// Inventory returns the DCs and FSMO holders. Every Read of a DC, of the
// FSMO roles and of the DC inventory in one plan shares one read (single
// flight) until a write through this client, Invalidate, or
// InventoryMaxAge, so a plan costs the same three searches whatever the
// number of DCs. Polls that wait for a change made elsewhere use
// DomainControllers and FSMORoles, which always ask the directory. Cost: 3
// searches, once.
func (c *Client) Inventory(ctx context.Context) (Inventory, error) {
	return c.inventory.Read(ctx, InventoryMaxAge, c.readInventory)
}

// Invalidate drops the shared inventory: the next Inventory reads again.
// The client's own writes call it; callers that change DCs or roles by
// other means (a promotion over WinRM) call it too.
func (c *Client) Invalidate() { c.inventory.Invalidate() }

func (c *Client) readInventory(ctx context.Context) (Inventory, error) {
	return readAny(ctx, c, "read domain controllers and FSMO roles", func(s *session, n *namingContexts) (Inventory, error) {
		roles, cfg, levels, err := s.fsmoRolesWithConfig(n)
		if err != nil {
			return Inventory{}, err
		}
		return Inventory{DCs: joinDCs(cfg), Roles: roles, Levels: levels}, nil
	})
}
