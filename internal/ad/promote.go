package ad

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"sync"
	"time"

	"github.com/bastion-pam/terraform-provider-bastion/internal/adnames"
	"github.com/bastion-pam/terraform-provider-bastion/internal/scripts"
	"github.com/bastion-pam/terraform-provider-bastion/internal/transport"
	"github.com/bastion-pam/terraform-provider-bastion/internal/winrmexec"
)

// PromoteSpec is a promotion (Install-ADDSDomainController). Passwords are
// secrets: callers mask them in logs.
type PromoteSpec struct {
	DomainName            string
	AdminUsername         string
	AdminPassword         string
	SafeModePassword      string
	SiteName              string // "" lets Windows choose
	InstallDNS            *bool  // nil lets Windows choose
	GlobalCatalog         bool
	DatabasePath          string
	LogPath               string
	SysvolPath            string
	InstallationMediaPath string
	ReplicationSourceDC   string
}

// installInput is ad_install_dc.ps1's $Params: every field the script reads.
type installInput struct {
	DomainName            string `json:"domain_name"`
	AdminUsername         string `json:"admin_username"`
	AdminPassword         string `json:"admin_password"`
	SafeModePassword      string `json:"safe_mode_password"`
	SiteName              string `json:"site_name"`
	InstallDNS            *bool  `json:"install_dns"`
	GlobalCatalog         bool   `json:"global_catalog"`
	DatabasePath          string `json:"database_path"`
	LogPath               string `json:"log_path"`
	SysvolPath            string `json:"sysvol_path"`
	InstallationMediaPath string `json:"installation_media_path"`
	ReplicationSourceDC   string `json:"replication_source_dc"`
}

// DemoteSpec is a demotion (Uninstall-ADDSDomainController): a domain
// admin's credential (a WinRM session cannot make the second hop to a
// partner DC) and the local Administrator password Windows sets.
type DemoteSpec struct {
	AdminUsername      string
	AdminPassword      string
	LocalAdminPassword string
}

type demoteInput struct {
	AdminUsername      string `json:"admin_username"`
	AdminPassword      string `json:"admin_password"`
	LocalAdminPassword string `json:"local_admin_password"`
}

// Result is what both scripts report.
type Result struct {
	Status           string `json:"status"`
	Message          string `json:"message"`
	RebootRequired   bool   `json:"reboot_required"`
	FeatureInstalled bool   `json:"feature_installed"`
	// ConnectionLost is the transport error when the server rebooted before
	// the reply arrived: the directory tells whether the step happened.
	ConnectionLost error `json:"-"`
}

// Promote runs the promotion on host. A script failure or a refused
// connection is an error; a connection lost during the reboot is not (see
// Result.ConnectionLost): wait for the DC with WaitForDC. A host that
// restarts records itself in restarts (nil: none kept), and a host found
// there is waited for; progress hears of every refusal while it waits.
func Promote(ctx context.Context, x Executor, restarts *Restarts, host string, s PromoteSpec, progress Progress) (Result, error) {
	return runRebooting(ctx, x, restarts, host, "ad_install_dc", installInput(s), progress)
}

// Demote runs the demotion on host, like Promote.
func Demote(ctx context.Context, x Executor, restarts *Restarts, host string, s DemoteSpec, progress Progress) (Result, error) {
	return runRebooting(ctx, x, restarts, host, "ad_uninstall_dc", demoteInput(s), progress)
}

func runRebooting(ctx context.Context, x Executor, restarts *Restarts, host, script string, in any, progress Progress) (Result, error) {
	var out Result
	run := func(ctx context.Context) error { return x.Run(ctx, host, scripts.Get(script), in, &out) }
	err := run(ctx)
	if refusedBeforeStart(err) && restarts.pending(host) {
		err = waitForStart(ctx, run, func(polls int, waited time.Duration, refusal error) {
			progress.log("waiting for the server this apply restarted to accept the command", map[string]any{
				"host": host, "script": script, "poll": polls, "waited": waited.Round(time.Second).String(), "error": refusal.Error()})
		})
	}
	if err == nil {
		restarts.began(host)
		return out, nil
	}
	// A command that never started did not run.
	var remote *winrmexec.RemoteError
	if errors.As(err, &remote) || !errors.Is(err, transport.ErrUnreachable) || errors.Is(err, winrmexec.ErrNotStarted) {
		return Result{}, err
	}
	// The server reboots when the step completes, which may cut the
	// connection before the result arrives.
	restarts.began(host)
	return Result{ConnectionLost: err}, nil
}

// RestartAllowance bounds how long Promote and Demote wait for a host that
// this process restarted and that still refuses the command: a replacement
// demotes, restarts and promotes the same server in one apply, and Windows
// Server takes minutes to accept WinRM again.
var RestartAllowance = 10 * time.Minute

// Restarts remembers which hosts a promotion or demotion of this process
// restarted, and when. Only those are waited for: a host that refuses
// connections for any other reason fails at once. The zero value is ready.
type Restarts struct {
	mu sync.Mutex
	at map[string]time.Time
}

func (r *Restarts) began(host string) {
	if r == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.at == nil {
		r.at = map[string]time.Time{}
	}
	r.at[adnames.HostKey(host)] = time.Now()
}

// pending: host restarted less than RestartAllowance ago.
func (r *Restarts) pending(host string) bool {
	if r == nil {
		return false
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	at, ok := r.at[adnames.HostKey(host)]
	return ok && time.Since(at) < RestartAllowance
}

// refusedBeforeStart: the command never started and waiting can fix why
// (not a certificate that does not verify, nor a name DNS does not know).
func refusedBeforeStart(err error) bool {
	return errors.Is(err, winrmexec.ErrNotStarted) && winrmexec.Transient(err)
}

// waitForStart runs again, with Poll's backoff, until the host takes the
// command or RestartAllowance (or ctx) ends. Only the waiting is bounded by
// the allowance: the run that starts has all of ctx.
func waitForStart(ctx context.Context, run func(context.Context) error, refused func(polls int, waited time.Duration, refusal error)) error {
	wctx, cancel := context.WithTimeout(ctx, RestartAllowance)
	defer cancel()
	var last error
	start, polls := time.Now(), 0
	_ = Poll(wctx, func(context.Context) (bool, error) {
		polls++
		if last = run(ctx); refusedBeforeStart(last) {
			refused(polls, time.Since(start), last)
			return false, nil
		}
		return true, nil
	})
	if !refusedBeforeStart(last) {
		return last
	}
	if ctx.Err() != nil {
		return fmt.Errorf("%w (last refusal: %w)", ctx.Err(), last)
	}
	return fmt.Errorf("the host refused the command for %s after this provider restarted it: %w", RestartAllowance, last)
}

// passwordClasses are the four character classes of the AD complexity
// rule; RandomPassword draws from each.
var passwordClasses = [...]string{
	"ABCDEFGHIJKLMNOPQRSTUVWXYZ",
	"abcdefghijklmnopqrstuvwxyz",
	"0123456789",
	"!#$%&()*+,-./:;<=>?@[]^_{}~",
}

// RandomPasswordLength is the length of RandomPassword's passwords.
const RandomPasswordLength = 32

// RandomPassword returns RandomPasswordLength characters from crypto/rand
// with at least one of each class, so it meets the domain's complexity rule
// (three of four classes) whatever the policy's length. A demotion sets the
// local Administrator password to it.
func RandomPassword() (string, error) {
	pick := func(set string) (byte, error) {
		n, err := rand.Int(rand.Reader, big.NewInt(int64(len(set))))
		if err != nil {
			return 0, err
		}
		return set[n.Int64()], nil
	}
	all := strings.Join(passwordClasses[:], "")
	b := make([]byte, RandomPasswordLength)
	for i := range b {
		set := all
		if i < len(passwordClasses) {
			set = passwordClasses[i]
		}
		c, err := pick(set)
		if err != nil {
			return "", fmt.Errorf("reading crypto/rand: %w", err)
		}
		b[i] = c
	}
	// Shuffle so the classes' places are not predictable (Fisher-Yates).
	for i := len(b) - 1; i > 0; i-- {
		j, err := rand.Int(rand.Reader, big.NewInt(int64(i+1)))
		if err != nil {
			return "", fmt.Errorf("reading crypto/rand: %w", err)
		}
		b[i], b[j.Int64()] = b[j.Int64()], b[i]
	}
	return string(b), nil
}
