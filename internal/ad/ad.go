// Package ad holds the remote operations on the PRIV forest's domain
// controllers: promotion and demotion (ad_install_dc.ps1,
// ad_uninstall_dc.ps1 over WinRM), the waits for the directory to show the
// result, the demotion guard, and FSMO role moves over LDAP. It takes typed
// inputs and returns typed results and errors; it is plain Go: no Terraform.
package ad

import (
	"context"

	"github.com/bastion-pam/terraform-provider-bastion/internal/directory"
	"github.com/bastion-pam/terraform-provider-bastion/internal/winrmexec"
)

// Executor runs an embedded script on a host (winrmexec.Client).
type Executor = winrmexec.Runner

// Directory is what this package reads and writes over LDAP (directory.Client).
type Directory interface {
	DomainControllers(ctx context.Context) ([]directory.DomainController, error)
	FSMORoles(ctx context.Context) (directory.FSMORoles, error)
	TransferFSMO(ctx context.Context, role, target string) (directory.FSMOHolder, error)
	SeizeFSMO(ctx context.Context, role, target string) (directory.FSMOHolder, error)
}

var _ Directory = (*directory.Client)(nil)
