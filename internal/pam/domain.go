package pam

import (
	"context"

	"github.com/bastion-pam/terraform-provider-bastion/internal/winrmexec"
)

// DomainConfiguration names a CORP domain's PAM configuration (its NetBIOS
// name) and the credential to reach it.
type DomainConfiguration struct {
	SourceDomain string
	Corp         Credential
}

type domainInput struct {
	SourceDomain string `json:"source_domain"`
	CorpUsername string `json:"corp_username"`
	CorpPassword string `json:"corp_password"`
}

func (d DomainConfiguration) input() domainInput {
	return domainInput{SourceDomain: d.SourceDomain, CorpUsername: d.Corp.Username, CorpPassword: d.Corp.Password}
}

// SetDomainConfiguration runs New-PAMDomainConfiguration on host, then
// Test-PAMDomainConfiguration; configured is the test's answer.
func SetDomainConfiguration(ctx context.Context, x Executor, host string, d DomainConfiguration) (configured bool, err error) {
	var out TestDomainConfigurationAnswer
	if err = run(ctx, x, host, "pam_domain_configuration_set", d.input(), &out); err != nil {
		return false, err
	}
	return out.Configured()
}

// TestDomainConfiguration runs Test-PAMDomainConfiguration on host; it
// changes nothing and may be retried.
func TestDomainConfiguration(ctx context.Context, x Executor, host string, d DomainConfiguration) (bool, error) {
	var out TestDomainConfigurationAnswer
	if err := run(ctx, x, host, "pam_domain_configuration_test", d.input(), &out, winrmexec.Idempotent()); err != nil {
		return false, err
	}
	return out.Configured()
}

// RemoveDomainConfiguration runs Remove-PAMDomainConfiguration on host.
func RemoveDomainConfiguration(ctx context.Context, x Executor, host string, d DomainConfiguration) (removed bool, err error) {
	var out struct {
		Removed bool `json:"removed"`
	}
	err = run(ctx, x, host, "pam_domain_configuration_remove", d.input(), &out)
	return out.Removed, err
}
