package pam

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// ErrUnexpectedAnswer means a cmdlet answered something the provider does
// not know how to read.
var ErrUnexpectedAnswer = errors.New("unexpected cmdlet answer")

// TestDomainConfigurationAnswer is what pam_domain_configuration_test.ps1
// returns: Test-PAMDomainConfiguration's output as text and its .NET type.
type TestDomainConfigurationAnswer struct {
	Output     string `json:"output"`
	OutputType string `json:"output_type"`
}

// Configured reads Test-PAMDomainConfiguration's answer. Microsoft's
// reference (MicrosoftDocs/mim-docs-powershell Test-PAMDomainConfiguration,
// "Outputs: String") gives no example text, so only the two answers a
// String can carry for a yes/no test are accepted, "True" and "False"
// (as [string] renders a Boolean); anything else is an error quoting the
// answer, never read as "configured" (the [bool] cast of a non-empty
// string is always $true).
func (a TestDomainConfigurationAnswer) Configured() (bool, error) {
	text := strings.TrimSpace(a.Output)
	switch {
	case strings.EqualFold(text, "True"):
		return true, nil
	case strings.EqualFold(text, "False"):
		return false, nil
	}
	shown := text
	if len(shown) > 200 {
		shown = shown[:200] + "..."
	}
	return false, fmt.Errorf("%w: Test-PAMDomainConfiguration returned %s (type %s), not True or False", ErrUnexpectedAnswer, strconv.Quote(shown), a.OutputType)
}
