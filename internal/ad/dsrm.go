package ad

import (
	"context"
	"fmt"
	"sync"

	"github.com/bastion-pam/terraform-provider-bastion/internal/adnames"
	"github.com/bastion-pam/terraform-provider-bastion/internal/scripts"
	"github.com/bastion-pam/terraform-provider-bastion/internal/winrmexec"
)

// PasswordSetter resets a domain user's password on one DC over an
// encrypted LDAP connection (directory.Client).
type PasswordSetter interface {
	SetAccountPassword(ctx context.Context, dc, samAccountName, password string) error
}

// dsrmLocks serialises rotations through one account: two DCs rotating at
// once through the same account must not sync each other's password.
var dsrmLocks sync.Map // lower-case account -> *sync.Mutex

// RotateDSRM sets the DSRM administrator password of the domain controller
// host to password without the password reaching any command line or log:
//  1. the account's password is reset to it over LDAP on host itself (so
//     host's copy of the directory has it before ntdsutil reads it);
//  2. ad_sync_dsrm runs ntdsutil "set dsrm password" "sync from domain
//     account <account>" on host over WinRM (only the name on its command
//     line);
//  3. the account's password is reset to a random one, so the DSRM password
//     is not also a domain logon.
//
// Rotations through the same account run one at a time. A failure in step 3
// is returned with the DSRM password already set (the caller says so).
// https://learn.microsoft.com/previous-versions/windows/it-pro/windows-server-2008-R2-and-2008/cc754363(v=ws.10)
func RotateDSRM(ctx context.Context, dir PasswordSetter, x winrmexec.Runner, host, account, password string) error {
	if err := adnames.CheckSyncAccount(account); err != nil {
		return err
	}
	mu, _ := dsrmLocks.LoadOrStore(lowerASCII(account), &sync.Mutex{})
	mu.(*sync.Mutex).Lock()
	defer mu.(*sync.Mutex).Unlock()
	if err := dir.SetAccountPassword(ctx, host, account, password); err != nil {
		return fmt.Errorf("setting the password of %s on %s: %w", account, host, err)
	}
	var out struct {
		Synchronized bool   `json:"synchronized"`
		Output       string `json:"output"`
	}
	if err := x.Run(ctx, host, scripts.Get("ad_sync_dsrm"), map[string]string{"account": account}, &out); err != nil {
		return fmt.Errorf("running ntdsutil on %s: %w", host, err)
	}
	if !out.Synchronized {
		return fmt.Errorf("ntdsutil on %s did not report a synchronized password: %s", host, out.Output)
	}
	scramble, err := RandomPassword()
	if err != nil {
		return err
	}
	if err := dir.SetAccountPassword(ctx, host, account, scramble); err != nil {
		return &ScrambleError{Account: account, Err: err}
	}
	return nil
}

// ScrambleError: the DSRM password is set, but the account still holds it.
type ScrambleError struct {
	Account string
	Err     error
}

func (e *ScrambleError) Error() string {
	return fmt.Sprintf("the DSRM password is set, but %s still has it as its password (resetting it to a random one failed): %v", e.Account, e.Err)
}

func (e *ScrambleError) Unwrap() error { return e.Err }

func lowerASCII(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}
