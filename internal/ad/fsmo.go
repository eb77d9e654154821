package ad

import (
	"context"
	"errors"

	"github.com/bastion-pam/terraform-provider-bastion/internal/adnames"
	"github.com/bastion-pam/terraform-provider-bastion/internal/directory"
)

// Move is the outcome of one role move.
type Move struct {
	Role   string
	Target string
	// Holder is the holder before the move: its host, or its NTDS Settings
	// DN when that DSA is no longer in the directory.
	Holder string
	// Seized is true when the role was seized because its holder did not answer.
	Seized bool
	// Err is why the move failed: directory.ErrRoleOwnerUnavailable when the
	// holder did not answer and seizing was not allowed, else the LDAP error.
	Err error
}

// MoveRoles moves each role of want (role -> target host) whose current
// holder differs, in Microsoft's order, and stops at the first failure (the
// last Move then carries Err). A transfer needs the current holder online;
// when it does not answer, allowSeize decides between seizing and failing.
func MoveRoles(ctx context.Context, dir Directory, current directory.FSMORoles, want map[string]string, allowSeize bool) []Move {
	var out []Move
	for _, role := range adnames.FSMORoles() {
		target, ok := want[role]
		if !ok || adnames.HostKey(target) == adnames.HostKey(current[role].Host) {
			continue
		}
		m := Move{Role: role, Target: target, Holder: current[role].Host}
		if m.Holder == "" {
			m.Holder = current[role].NTDSSettingsDN + " (a DSA no longer in the directory)"
		}
		_, err := dir.TransferFSMO(ctx, role, target)
		if errors.Is(err, directory.ErrRoleOwnerUnavailable) && allowSeize {
			if _, err = dir.SeizeFSMO(ctx, role, target); err == nil {
				m.Seized = true
			}
		}
		m.Err = err
		out = append(out, m)
		if err != nil {
			return out
		}
	}
	return out
}
