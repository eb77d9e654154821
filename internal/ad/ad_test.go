package ad

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/bastion-pam/terraform-provider-bastion/internal/adnames"
	"github.com/bastion-pam/terraform-provider-bastion/internal/directory"
	"github.com/bastion-pam/terraform-provider-bastion/internal/scripts"
	"github.com/bastion-pam/terraform-provider-bastion/internal/testsupport/fakerunner"
	"github.com/bastion-pam/terraform-provider-bastion/internal/topology"
	"github.com/bastion-pam/terraform-provider-bastion/internal/transport"
	"github.com/bastion-pam/terraform-provider-bastion/internal/winrmexec"
)

// Poll waits out unreachable and busy, gives up on other errors at once,
// and stops at the deadline.
func TestPoll(t *testing.T) {
	saved := PollInitial
	PollInitial = time.Millisecond
	t.Cleanup(func() { PollInitial = saved })
	ctx := context.Background()

	calls := 0
	err := Poll(ctx, func(context.Context) (bool, error) {
		calls++
		switch calls {
		case 1:
			return false, fmt.Errorf("dial: %w", transport.ErrUnreachable)
		case 2:
			return false, nil
		}
		return true, nil
	})
	if err != nil || calls != 3 {
		t.Fatalf("poll = %v after %d calls, want success after 3", err, calls)
	}

	denied := errors.New("access denied")
	calls = 0
	if err := Poll(ctx, func(context.Context) (bool, error) { calls++; return false, denied }); !errors.Is(err, denied) || calls != 1 {
		t.Fatalf("poll = %v after %d calls, want the error at once", err, calls)
	}

	short, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	err = Poll(short, func(context.Context) (bool, error) { return false, fmt.Errorf("refused: %w", transport.ErrUnreachable) })
	if !errors.Is(err, context.DeadlineExceeded) || !errors.Is(err, transport.ErrUnreachable) {
		t.Fatalf("poll past the deadline = %v, want the deadline and the last error", err)
	}
}

// RandomPassword: 32 characters from all four classes, never twice the same.
func TestRandomPassword(t *testing.T) {
	seen := map[string]bool{}
	for range 200 {
		pw, err := RandomPassword()
		if err != nil {
			t.Fatal(err)
		}
		classes := 0
		for _, set := range passwordClasses {
			if strings.ContainsAny(pw, set) {
				classes++
			}
		}
		if len(pw) != RandomPasswordLength || classes != len(passwordClasses) || seen[pw] {
			t.Fatalf("password of %d characters from %d classes (seen before: %v)", len(pw), classes, seen[pw])
		}
		seen[pw] = true
	}
}

func TestPromoteAndDemote(t *testing.T) {
	ctx := context.Background()
	yes := true
	f := &fakerunner.Runner{Reply: `{"status":"promoted","reboot_required":true,"feature_installed":true}`}
	out, err := Promote(ctx, f, nil, "h", PromoteSpec{DomainName: "priv.test", AdminUsername: "PRIV\\a", AdminPassword: "x", SafeModePassword: "y", InstallDNS: &yes, GlobalCatalog: true}, nil)
	if err != nil || out.Status != "promoted" || !out.RebootRequired || !out.FeatureInstalled || out.ConnectionLost != nil {
		t.Fatalf("Promote = %+v, %v", out, err)
	}
	want := map[string]any{"domain_name": "priv.test", "admin_username": "PRIV\\a", "admin_password": "x", "safe_mode_password": "y", "site_name": "",
		"install_dns": true, "global_catalog": true, "database_path": "", "log_path": "", "sysvol_path": "", "installation_media_path": "", "replication_source_dc": ""}
	if f.Script != "ad_install_dc" || !reflect.DeepEqual(f.Input, want) {
		t.Errorf("ran %s with %v", f.Script, f.Input)
	}
	for _, c := range []struct {
		err      error
		lost, ok bool
	}{
		{fmt.Errorf("read: %w", transport.ErrUnreachable), true, true},
		// Refused before the command started for a reason waiting cannot
		// fix: the step never ran.
		{fmt.Errorf("%w: %w", winrmexec.ErrNotStarted, fmt.Errorf("dial: %w: %w", transport.ErrUnreachable, x509.UnknownAuthorityError{})), false, false},
		{fmt.Errorf("%w: %w", winrmexec.ErrNotStarted, fmt.Errorf("dial: %w: %w", transport.ErrUnreachable, &net.DNSError{Err: "no such host", Name: "h", IsNotFound: true})), false, false},
		{&winrmexec.RemoteError{Type: "System.Exception", Message: "no"}, false, false},
		{fmt.Errorf("401: %w", transport.ErrUnauthorized), false, false},
	} {
		f := &fakerunner.Runner{Err: c.err}
		out, err := Demote(ctx, f, nil, "h", DemoteSpec{AdminUsername: "a", AdminPassword: "b", LocalAdminPassword: "c"}, nil)
		if (err == nil) != c.ok || (out.ConnectionLost != nil) != c.lost || f.Script != "ad_uninstall_dc" || f.Input["local_admin_password"] != "c" {
			t.Errorf("Demote with %v = %+v, %v", c.err, out, err)
		}
	}
}

// A host this process restarted refuses the command before it starts while
// it comes back: Promote waits for it (the replacement of a DC demotes,
// restarts and promotes the same server) and gives up after
// RestartAllowance. Any other refused host fails at once.
func TestPromoteWaitsForARestartingHost(t *testing.T) {
	savedPoll, savedAllowance := PollInitial, RestartAllowance
	PollInitial = time.Millisecond
	t.Cleanup(func() { PollInitial, RestartAllowance = savedPoll, savedAllowance })
	ctx := context.Background()
	refused := fmt.Errorf("%w: %w", winrmexec.ErrNotStarted, fmt.Errorf("creating a shell: connection reset by peer: %w", transport.ErrUnreachable))
	spec := PromoteSpec{DomainName: "priv.test", AdminUsername: "a", AdminPassword: "b", SafeModePassword: "c"}

	// Not restarted by this process: refused at once.
	f := &fakerunner.Runner{First: []error{refused}, Reply: `{"status":"Success"}`}
	out, err := Promote(ctx, f, &Restarts{}, "h", spec, nil)
	if !errors.Is(err, winrmexec.ErrNotStarted) || f.Runs != 1 {
		t.Fatalf("Promote of a host never restarted = %+v, %v after %d runs, want the refusal at once", out, err, f.Runs)
	}

	// The demotion restarts the host; the promotion waits for it.
	restarts := &Restarts{}
	if _, err := Demote(ctx, &fakerunner.Runner{Err: fmt.Errorf("read: %w", transport.ErrUnreachable)}, restarts, "H", DemoteSpec{}, nil); err != nil {
		t.Fatal(err)
	}
	f = &fakerunner.Runner{First: []error{refused, refused, refused}, Reply: `{"status":"Success"}`}
	var heard []string
	progress := func(msg string, fields map[string]any) {
		heard = append(heard, fmt.Sprint(fields["host"], " ", fields["poll"]))
	}
	out, err = Promote(ctx, f, restarts, "h", spec, progress)
	if err != nil || out.Status != "Success" || f.Runs != 4 {
		t.Fatalf("Promote = %+v, %v after %d runs, want success on the 4th", out, err, f.Runs)
	}
	// Each refusal while waiting is logged: a wait of minutes is not silent.
	if strings.Join(heard, ",") != "h 1,h 2" {
		t.Errorf("progress heard %q, want the two refusals met while waiting", heard)
	}

	// Lost after it started: no second run, the directory decides.
	lost := fmt.Errorf("read: %w", transport.ErrUnreachable)
	f = &fakerunner.Runner{First: []error{refused, lost}, Reply: `{"status":"Success"}`}
	if out, err = Promote(ctx, f, restarts, "h", spec, nil); err != nil || out.ConnectionLost == nil || f.Runs != 2 {
		t.Fatalf("Promote = %+v, %v after %d runs, want the connection lost on the 2nd run", out, err, f.Runs)
	}

	// Never back: an error that still says unreachable, after the allowance.
	// The allowance also says whether the restart above is still pending:
	// at 30 ms a loaded machine could pass it before Promote asked.
	RestartAllowance = time.Second
	f = &fakerunner.Runner{Err: refused}
	out, err = Promote(ctx, f, restarts, "h", spec, nil)
	// The allowance is not the create timeout: raising that would not help.
	if !errors.Is(err, transport.ErrUnreachable) || errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "refused the command for 1s") || out.ConnectionLost != nil || f.Runs < 2 {
		t.Fatalf("Promote = %+v, %v after %d runs, want unreachable after the allowance", out, err, f.Runs)
	}

	// A WinRM service still starting answers 503 before the shell: waited
	// for too. The run that starts gets the whole create timeout, not what
	// is left of the allowance.
	RestartAllowance = time.Minute
	outer, cancel := context.WithTimeout(ctx, time.Hour)
	defer cancel()
	busy := fmt.Errorf("%w: %w", winrmexec.ErrNotStarted, &winrmexec.HTTPError{StatusCode: 503})
	runs := 0
	var startedWith time.Time
	x := runFunc(func(ctx context.Context) error {
		if runs++; runs < 3 {
			return busy
		}
		startedWith, _ = ctx.Deadline()
		return nil
	})
	want, _ := outer.Deadline()
	if _, err := Promote(outer, x, restarts, "h.", spec, nil); err != nil || runs != 3 || !startedWith.Equal(want) {
		t.Fatalf("Promote through 503s = %v after %d runs; the run that started had deadline %v, want the create timeout's %v", err, runs, startedWith, want)
	}
}

// runFunc is an Executor that answers every run with f.
type runFunc func(ctx context.Context) error

func (f runFunc) Run(ctx context.Context, _ string, _ scripts.Script, _ any, _ any, _ ...winrmexec.RunOption) error {
	return f(ctx)
}

// fakeDir is a domain of DCs and role holders; moves change the holders.
type fakeDir struct {
	dcs     []directory.DomainController
	roles   directory.FSMORoles
	offline map[string]bool
	readErr error
}

func (d *fakeDir) DomainControllers(context.Context) ([]directory.DomainController, error) {
	return d.dcs, d.readErr
}
func (d *fakeDir) FSMORoles(context.Context) (directory.FSMORoles, error) { return d.roles, d.readErr }
func (d *fakeDir) TransferFSMO(_ context.Context, role, target string) (directory.FSMOHolder, error) {
	if d.offline[d.roles[role].Host] {
		return directory.FSMOHolder{}, fmt.Errorf("transfer: %w", directory.ErrRoleOwnerUnavailable)
	}
	return d.SeizeFSMO(context.Background(), role, target)
}
func (d *fakeDir) SeizeFSMO(_ context.Context, role, target string) (directory.FSMOHolder, error) {
	h := directory.FSMOHolder{Role: role, Host: target}
	d.roles[role] = h
	return h, nil
}

func domain() *fakeDir {
	d := &fakeDir{roles: directory.FSMORoles{}, offline: map[string]bool{}}
	for _, h := range []string{"dc1.priv.test", "dc2.priv.test"} {
		d.dcs = append(d.dcs, directory.DomainController{Host: h, Site: "S"})
	}
	for _, r := range adnames.FSMORoles() {
		d.roles[r] = directory.FSMOHolder{Role: r, Host: "dc1.priv.test"}
	}
	return d
}

func TestFindAndCanDemote(t *testing.T) {
	ctx := context.Background()
	d := domain()
	dc, found, err := FindDC(ctx, d, "DC1.priv.test.")
	if err != nil || !found || len(dc.Roles) != 5 {
		t.Fatalf("FindDC = %+v, %v, %v", dc, found, err)
	}
	if _, found, _ := FindDC(ctx, d, "dc3.priv.test"); found {
		t.Error("found a DC that is not one")
	}
	for host, want := range map[string]error{"dc1.priv.test": topology.ErrHoldsFSMORoles, "dc2.priv.test": nil, "dc3.priv.test": topology.ErrNotDomainController} {
		if err := CanDemote(ctx, d, host); !errors.Is(err, want) || (want == nil && err != nil) {
			t.Errorf("CanDemote(%s) = %v, want %v", host, err, want)
		}
	}
	d.dcs = d.dcs[1:]
	if err := CanDemote(ctx, d, "dc2.priv.test"); !errors.Is(err, topology.ErrLastDomainController) {
		t.Errorf("CanDemote(last) = %v", err)
	}
	d.readErr = transport.ErrUnreachable
	if err := CanDemote(ctx, d, "dc2.priv.test"); !errors.Is(err, transport.ErrUnreachable) {
		t.Errorf("CanDemote(unreachable) = %v", err)
	}
}

func TestWaitForDC(t *testing.T) {
	saved := PollInitial
	PollInitial = time.Millisecond
	t.Cleanup(func() { PollInitial = saved })
	d := domain()
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if dc, err := WaitForDC(ctx, d, "dc2.priv.test", true, nil); err != nil || dc.Host != "dc2.priv.test" {
		t.Fatalf("WaitForDC(present) = %+v, %v", dc, err)
	}
	short, cancel2 := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel2()
	if _, err := WaitForDC(short, d, "dc2.priv.test", false, nil); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("WaitForDC(gone) on a DC that stays = %v", err)
	}
}

func TestMoveRoles(t *testing.T) {
	ctx := context.Background()
	for _, c := range []struct {
		name       string
		offline    bool
		allowSeize bool
		want       []Move
	}{
		{"transfer", false, false, []Move{{Role: adnames.PDCEmulator, Target: "dc2.priv.test", Holder: "dc1.priv.test"}, {Role: adnames.RIDMaster, Target: "dc2.priv.test", Holder: "dc1.priv.test"}}},
		{"holder offline", true, false, []Move{{Role: adnames.PDCEmulator, Target: "dc2.priv.test", Holder: "dc1.priv.test", Err: directory.ErrRoleOwnerUnavailable}}},
		{"seize", true, true, []Move{{Role: adnames.PDCEmulator, Target: "dc2.priv.test", Holder: "dc1.priv.test", Seized: true}, {Role: adnames.RIDMaster, Target: "dc2.priv.test", Holder: "dc1.priv.test", Seized: true}}},
	} {
		t.Run(c.name, func(t *testing.T) {
			d := domain()
			d.offline["dc1.priv.test"] = c.offline
			current := directory.FSMORoles{}
			for k, v := range d.roles {
				current[k] = v
			}
			// Microsoft's order, whatever the map's; a role already held is left alone.
			got := MoveRoles(ctx, d, current, map[string]string{adnames.RIDMaster: "dc2.priv.test", adnames.PDCEmulator: "dc2.priv.test", adnames.SchemaMaster: "DC1.priv.test"}, c.allowSeize)
			if len(got) != len(c.want) {
				t.Fatalf("moves %+v, want %+v", got, c.want)
			}
			for i := range got {
				w := c.want[i]
				if got[i].Role != w.Role || got[i].Target != w.Target || got[i].Holder != w.Holder || got[i].Seized != w.Seized || !errors.Is(got[i].Err, w.Err) || (w.Err == nil) != (got[i].Err == nil) {
					t.Errorf("move %d = %+v, want %+v", i, got[i], w)
				}
			}
		})
	}
}
