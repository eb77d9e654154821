// Package pam holds the remote operations of MIM PAM's side of the bastion:
// the PAM trust with a CORP forest (New-PAMTrust, the CORP side's settings
// through LSA, Test-PAMTrust, Remove-PAMTrust) and a CORP domain's PAM configuration
// (New/Test/Remove-PAMDomainConfiguration). Each operation takes typed
// inputs, builds its script's JSON input, runs it through an Executor and
// parses the reply; a script's failure comes back classified with the
// sentinels below. It is plain Go: no Terraform.
package pam

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/bastion-pam/terraform-provider-bastion/internal/scripts"
	"github.com/bastion-pam/terraform-provider-bastion/internal/winrmexec"
)

// Executor runs an embedded script on a host (winrmexec.Client).
type Executor = winrmexec.Runner

// What a MIMPAM cmdlet's failure means, read from the PowerShell exception
// the bootstrap reports (errors.Is on the error an operation returns).
var (
	// ErrCorpCredentialRefused: the source domain refused the CORP credential.
	ErrCorpCredentialRefused = errors.New("the source domain refused the CORP credential")
	// ErrModuleMissing: the host has no MIMPAM PowerShell module.
	ErrModuleMissing = errors.New("the host has no MIMPAM PowerShell module")
	// ErrForestNotFound: the host could not find the source forest or domain.
	ErrForestNotFound = errors.New("the source forest or domain was not found from the host")
)

// Credential is a CORP domain administrator's account, for the cmdlets'
// -Credentials. The password is a secret: callers mask it in logs.
type Credential struct {
	Username string
	Password string
}

// lsaRefused is the include lsa_trust's message for an LSA call the CORP DC
// refused: ERROR_LOGON_FAILURE (1326) or ERROR_ACCESS_DENIED (5).
var lsaRefused = regexp.MustCompile(` failed with error (1326|5): `)

// classify wraps a script's failure with the sentinel that names its cause;
// other errors (transport, timeouts) come back as they are.
func classify(err error) error {
	var re *winrmexec.RemoteError
	if err == nil || !errors.As(err, &re) {
		return err
	}
	switch {
	case strings.HasSuffix(re.Type, ".AuthenticationException") || strings.HasSuffix(re.Type, ".UnauthorizedAccessException") ||
		strings.HasSuffix(re.Type, ".Win32Exception") && lsaRefused.MatchString(re.Message):
		return fmt.Errorf("%w: %w", ErrCorpCredentialRefused, err)
	case strings.Contains(re.Message, "MIMPAM") && strings.HasSuffix(re.Type, "FileNotFoundException"):
		return fmt.Errorf("%w: %w", ErrModuleMissing, err)
	case strings.HasSuffix(re.Type, ".ActiveDirectoryObjectNotFoundException"):
		return fmt.Errorf("%w: %w", ErrForestNotFound, err)
	}
	return err
}

// run runs a script and classifies its failure.
func run(ctx context.Context, x Executor, host, script string, in, out any, opts ...winrmexec.RunOption) error {
	return classify(x.Run(ctx, host, scripts.Get(script), in, out, opts...))
}
