// Package lab is the simulated bastion: WinRM, LDAP and TDS endpoints on
// loopback over one environment model (package model). Acceptance tests start
// it in-process; `make demo` runs it as its own process (cmd/bastion-lab).
// The provider's production code never imports it.
package lab

import (
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/bastion-pam/terraform-provider-bastion/internal/lab/labca"
	"github.com/bastion-pam/terraform-provider-bastion/internal/lab/ldapsim"
	"github.com/bastion-pam/terraform-provider-bastion/internal/lab/model"
	"github.com/bastion-pam/terraform-provider-bastion/internal/lab/tdssim"
	"github.com/bastion-pam/terraform-provider-bastion/internal/lab/winrmsim"
	"github.com/bastion-pam/terraform-provider-bastion/internal/transport"
)

// Options choose what the lab seeds.
type Options struct {
	// Seed's secrets; empty ones are random.
	Seed model.Seed
	// Dir receives ca.pem; a temporary directory when empty.
	Dir string
	// NoSQL starts without the SQL Server failover cluster instance that the
	// default bastion has (tests of the FCI resource build it themselves).
	NoSQL bool
	// CertificateFlaws are endpoints that serve a bad certificate from the
	// start (expired, wrong name, unknown authority); Env.SetCertificateFlaw
	// changes them while the lab runs.
	CertificateFlaws []model.CertificateFlaw
}

// Lab is a running simulated bastion.
type Lab struct {
	Env    *model.Env
	Seed   model.Seed
	CA     *labca.CA
	CAFile string
	Dir    string

	WinRM *winrmsim.Server
	LDAP  *ldapsim.Server
	TDS   *tdssim.Server

	ownDir bool
}

// Start seeds the default bastion and starts every endpoint.
func Start(opts Options) (*Lab, error) {
	seed := opts.Seed
	seed.WithSQL = !opts.NoSQL
	env, seed := model.NewDefault(seed)
	for _, c := range opts.CertificateFlaws {
		if err := env.SetCertificateFlaw(c.Host, c.Protocol, c.Flaw); err != nil {
			return nil, fmt.Errorf("lab: %w", err)
		}
	}
	return StartEnv(env, seed, opts.Dir)
}

// StartEnv starts the endpoints over an environment the caller built.
func StartEnv(env *model.Env, seed model.Seed, dir string) (l *Lab, err error) {
	l = &Lab{Env: env, Seed: seed, Dir: dir}
	defer func() {
		if err != nil {
			l.Close()
		}
	}()
	if l.Dir == "" {
		if l.Dir, err = os.MkdirTemp("", "bastion-lab-"); err != nil {
			return nil, err
		}
		l.ownDir = true
	}
	if l.CA, err = labca.New(); err != nil {
		return nil, err
	}
	l.CAFile = filepath.Join(l.Dir, "ca.pem")
	if err = os.WriteFile(l.CAFile, l.CA.CertPEM(), 0o600); err != nil {
		return nil, err
	}
	// Both of Windows' listeners: HTTPS 5986 and HTTP 5985 (sealed NTLM only).
	if l.WinRM, err = winrmsim.Start(env, l.CA, winrmsim.Options{HTTP: true}); err != nil {
		return nil, fmt.Errorf("lab: winrm: %w", err)
	}
	if l.LDAP, err = ldapsim.Start(env, l.CA, ldapsim.Options{}); err != nil {
		return nil, fmt.Errorf("lab: ldap: %w", err)
	}
	if l.TDS, err = tdssim.Start(env, l.CA, tdssim.Options{}); err != nil {
		return nil, fmt.Errorf("lab: tds: %w", err)
	}
	return l, nil
}

// Sync opens listeners for hosts, DCs and SQL instances added to the model
// since the lab started, and closes those of hosts that are gone.
func (l *Lab) Sync() error {
	return errors.Join(l.WinRM.Sync(), l.LDAP.Sync(), l.TDS.Sync())
}

// ConnectTo merges every endpoint's dial overrides.
func (l *Lab) ConnectTo() transport.ConnectTo {
	out := transport.ConnectTo{}
	for _, m := range []transport.ConnectTo{l.WinRM.ConnectTo(), l.LDAP.ConnectTo(), l.TDS.ConnectTo()} {
		maps.Copy(out, m)
	}
	return out
}

// EnvVars are the provider settings (BASTION_*) that point at this lab.
func (l *Lab) EnvVars() map[string]string {
	return map[string]string{
		"BASTION_CONNECT_TO":     l.ConnectTo().String(),
		"BASTION_WINRM_AUTH":     "ntlm",
		"BASTION_WINRM_USERNAME": model.AdminUser,
		"BASTION_WINRM_PASSWORD": l.Seed.AdminPassword,
		"BASTION_WINRM_CA_FILE":  l.CAFile,
		"BASTION_LDAP_DOMAIN":    model.DomainDNS,
		"BASTION_LDAP_SERVERS":   model.DC1 + "," + model.DC2,
		"BASTION_LDAP_PINNED_DC": model.DC1,
		"BASTION_LDAP_USERNAME":  model.AdminUser,
		"BASTION_LDAP_PASSWORD":  l.Seed.AdminPassword,
		"BASTION_LDAP_CA_FILE":   l.CAFile,
		"BASTION_SQL_SERVER":     model.SQLNetwork,
		"BASTION_SQL_AUTH":       "sql",
		"BASTION_SQL_USERNAME":   model.SQLLoginUser,
		"BASTION_SQL_PASSWORD":   l.Seed.SQLPassword,
		"BASTION_SQL_CA_FILE":    l.CAFile,
	}
}

// CorpAdminPassword is CORP\Administrator's password in this lab.
func (l *Lab) CorpAdminPassword() string {
	var pw string
	_ = l.Env.Do(func(e *model.Env) error { pw = e.Credentials[strings.ToLower(model.CorpAdminUser)]; return nil })
	return pw
}

// ProviderSettings are what a provider block holds: where the hosts are
// reached and the WinRM, LDAP and (when SQL is set) SQL settings.
type ProviderSettings struct {
	ConnectTo map[string]string
	WinRM     Login
	LDAP      LDAPSettings
	SQL       *SQLSettings
}

// Login is an account and the CA file that verifies the servers it logs on to.
type Login struct {
	Username, Password, CAFile string
}

// LDAPSettings are the provider's ldap block: two DCs, one of them pinned.
type LDAPSettings struct {
	Login
	Domain   string
	Servers  [2]string
	PinnedDC string
}

// SQLSettings are the provider's sql block (SQL authentication).
type SQLSettings struct {
	Login
	Server string
}

// ProviderSettings point every protocol at this lab.
func (l *Lab) ProviderSettings() ProviderSettings {
	admin := Login{Username: model.AdminUser, Password: l.Seed.AdminPassword, CAFile: l.CAFile}
	return ProviderSettings{
		ConnectTo: l.ConnectTo(),
		WinRM:     admin,
		LDAP:      LDAPSettings{Login: admin, Domain: model.DomainDNS, Servers: [2]string{model.DC1, model.DC2}, PinnedDC: model.DC1},
		SQL:       &SQLSettings{Login: Login{Username: model.SQLLoginUser, Password: l.Seed.SQLPassword, CAFile: l.CAFile}, Server: model.SQLNetwork},
	}
}

// ProviderHCL renders a provider block pointing at this lab (tests run
// several labs at once, so they cannot share environment variables).
func (l *Lab) ProviderHCL() string { return l.ProviderSettings().HCL() }

// HCL renders the settings as a provider block.
func (s ProviderSettings) HCL() string {
	var ct []string
	for k, v := range s.ConnectTo {
		ct = append(ct, fmt.Sprintf("    %q = %q", k, v))
	}
	sort.Strings(ct)
	sql := ""
	if s.SQL != nil {
		sql = fmt.Sprintf(`  sql {
    server   = %q
    auth     = "sql"
    username = %q
    password = %q
    ca_file  = %q
  }
`, s.SQL.Server, s.SQL.Username, s.SQL.Password, s.SQL.CAFile)
	}
	return fmt.Sprintf(`provider "bastion" {
  connect_to = {
%s
  }
  winrm {
    auth     = "ntlm"
    username = %q
    password = %q
    ca_file  = %q
  }
  ldap {
    domain    = %q
    servers   = [%q, %q]
    pinned_dc = %q
    username  = %q
    password  = %q
    ca_file   = %q
  }
%s}
`, strings.Join(ct, "\n"),
		s.WinRM.Username, s.WinRM.Password, s.WinRM.CAFile,
		s.LDAP.Domain, s.LDAP.Servers[0], s.LDAP.Servers[1], s.LDAP.PinnedDC, s.LDAP.Username, s.LDAP.Password, s.LDAP.CAFile, sql)
}

// Close stops every endpoint and removes the lab's own files.
func (l *Lab) Close() {
	if l.WinRM != nil {
		l.WinRM.Close()
	}
	if l.LDAP != nil {
		l.LDAP.Close()
	}
	if l.TDS != nil {
		_ = l.TDS.Close()
	}
	if l.ownDir && l.Dir != "" {
		_ = os.RemoveAll(l.Dir)
	}
}
