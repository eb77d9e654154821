package ad

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/bastion-pam/terraform-provider-bastion/internal/adnames"
	"github.com/bastion-pam/terraform-provider-bastion/internal/directory"
	"github.com/bastion-pam/terraform-provider-bastion/internal/topology"
	"github.com/bastion-pam/terraform-provider-bastion/internal/transport"
)

// DC is one domain controller with the FSMO roles it holds.
type DC struct {
	directory.DomainController
	Roles []string
}

// DCsAndRoles reads every DC and the FSMO holders. Cost: 1 + 3 LDAP searches.
func DCsAndRoles(ctx context.Context, dir Directory) ([]directory.DomainController, directory.FSMORoles, error) {
	dcs, err := dir.DomainControllers(ctx)
	if err != nil {
		return nil, nil, err
	}
	roles, err := dir.FSMORoles(ctx)
	if err != nil {
		return nil, nil, err
	}
	return dcs, roles, nil
}

// FindDC reads host's DC object and roles; found is false when it is not a DC.
func FindDC(ctx context.Context, dir Directory, host string) (dc DC, found bool, err error) {
	dcs, roles, err := DCsAndRoles(ctx, dir)
	if err != nil {
		return DC{}, false, err
	}
	dc, found = PickDC(dcs, roles, host)
	return dc, found, nil
}

// PickDC finds host among dcs, with the roles it holds.
func PickDC(dcs []directory.DomainController, roles directory.FSMORoles, host string) (DC, bool) {
	for _, d := range dcs {
		if adnames.HostKey(d.Host) == adnames.HostKey(host) {
			return DC{DomainController: d, Roles: roles.HeldBy(d.Host)}, true
		}
	}
	return DC{}, false
}

// CanDemote applies topology.CanDemote to the directory's DCs and roles:
// nil, or topology.ErrNotDomainController, ErrLastDomainController,
// ErrHoldsFSMORoles, or the read's error. Cost: 4 LDAP searches.
func CanDemote(ctx context.Context, dir Directory, host string) error {
	dcs, roles, err := DCsAndRoles(ctx, dir)
	if err != nil {
		return fmt.Errorf("reading the domain controllers and FSMO roles over LDAP: %w", err)
	}
	var list []topology.DomainController
	for _, dc := range dcs {
		list = append(list, topology.DomainController{Host: dc.Host, Site: dc.Site, GlobalCatalog: dc.GlobalCatalog, ReadOnly: dc.ReadOnly, FSMORoles: roles.HeldBy(dc.Host)})
	}
	return topology.CanDemote(host, list)
}

// PollInitial and PollMax bound the backoff between directory polls.
var (
	PollInitial = time.Second
	PollMax     = 30 * time.Second
)

// Poll calls check until it reports done, returns an error that waiting
// cannot fix, or ctx ends; the wait doubles from PollInitial to PollMax.
// Unreachable and busy are waited out (a DC rebooting, replication catching up).
func Poll(ctx context.Context, check func(context.Context) (bool, error)) error {
	wait := PollInitial
	var last error
	for {
		done, err := check(ctx)
		if done && err == nil {
			return nil
		}
		if err != nil {
			if !errors.Is(err, transport.ErrUnreachable) && !errors.Is(err, directory.ErrBusy) {
				return err
			}
			last = err
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			if last != nil {
				return fmt.Errorf("%w (last error: %w)", ctx.Err(), last)
			}
			return ctx.Err()
		case <-t.C:
		}
		if wait *= 2; wait > PollMax {
			wait = PollMax
		}
	}
}

// Progress receives progress messages while a wait goes on (the provider
// passes tflog); nil drops them.
type Progress func(msg string, fields map[string]any)

func (p Progress) log(msg string, fields map[string]any) {
	if p != nil {
		p(msg, fields)
	}
}

// WaitForDC polls the directory until host is (present) or is no longer
// (!present) a DC; it returns the DC as last read. progress hears of every
// poll that did not find what it waits for.
func WaitForDC(ctx context.Context, dir Directory, host string, present bool, progress Progress) (DC, error) {
	var dc DC
	start, polls := time.Now(), 0
	err := Poll(ctx, func(ctx context.Context) (bool, error) {
		polls++
		v, found, err := FindDC(ctx, dir, host)
		if err != nil {
			progress.log("waiting for the directory", map[string]any{"host": host, "poll": polls, "waited": time.Since(start).Round(time.Second).String(), "error": err.Error()})
			return false, err
		}
		dc = v
		if found != present {
			progress.log("waiting for replication to the directory the provider reads", map[string]any{"host": host, "want_dc": present, "poll": polls, "waited": time.Since(start).Round(time.Second).String()})
		}
		return found == present, nil
	})
	return dc, err
}

// DCOn asks one DC whether a host is a DC (directory.Client).
type DCOn interface {
	IsDomainControllerOn(ctx context.Context, dc, host string) (bool, error)
}

// WaitForDCOn polls the DC source until host is (present) or is no longer
// (!present) a DC there. A promotion writes the new DC's objects on its
// replication source first ([MS-DRSR] 4.1.1.2.3), so that is where a
// promotion is verified; while the promoted server restarts the other DCs
// may not see it yet.
func WaitForDCOn(ctx context.Context, dir DCOn, source, host string, present bool, progress Progress) error {
	start, polls := time.Now(), 0
	return Poll(ctx, func(ctx context.Context) (bool, error) {
		polls++
		found, err := dir.IsDomainControllerOn(ctx, source, host)
		if err == nil && found == present {
			return true, nil
		}
		f := map[string]any{"host": host, "replication_source": source, "want_dc": present, "poll": polls, "waited": time.Since(start).Round(time.Second).String()}
		if err != nil {
			f["error"] = err.Error()
		}
		progress.log("waiting for the domain controller on its replication source", f)
		return false, err
	})
}
