package provider

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"

	"github.com/bastion-pam/terraform-provider-bastion/internal/pam"
	"github.com/bastion-pam/terraform-provider-bastion/internal/sqlserver"
	"github.com/bastion-pam/terraform-provider-bastion/internal/topology"
	"github.com/bastion-pam/terraform-provider-bastion/internal/transport"
)

// The one place where typed errors become diagnostics. Every resource and
// data source reports a failed remote operation with report: the summary,
// the host, the protocol and the operation, then why and what to do next
// (chosen by the error's type), then the underlying error.

// protocol is the adapter an operation went through; it picks the advice.
type protocol int

const (
	viaWinRM protocol = iota
	viaLDAP
	viaSQL
	viaCorpLDAP // a CORP forest's DCs, read with the CORP credential
)

// failure describes a failed operation.
type failure struct {
	summary  string
	host     string // "" when the adapter picked the server (the LDAP pool)
	protocol protocol
	doing    string // the operation, as a phrase: "promoting the server with ..."
}

// protocolNames are the protocols as a diagnostic names them.
var protocolNames = map[protocol]string{
	viaWinRM:    "WinRM",
	viaLDAP:     "LDAP",
	viaSQL:      "TDS (SQL Server)",
	viaCorpLDAP: "LDAP (source domain)",
}

// where is the start of every failure's detail: the host, the protocol and
// the operation, as "On priv-dc1.priv.contoso.com over LDAP, reading X". The
// host is the failure's, or the one the adapter recorded when it chose the
// server itself (the LDAP pool).
func (f failure) where(err error) string {
	host := f.host
	if host == "" {
		host = transport.HostOf(err)
	}
	if host == "" {
		return "Over " + protocolNames[f.protocol] + ", " + f.doing
	}
	return "On " + host + " over " + protocolNames[f.protocol] + ", " + f.doing
}

// advice is, per protocol, what to do next for each kind of error.
var advice = map[protocol]struct{ unreachable, unauthorized, certificate, deadline, other string }{
	viaWinRM: {
		unreachable:  "The host could not be reached. Check that it is up, that WinRM listens (winrm quickconfig -transport:https) and that the name resolves; if the server is lost for good, move the resource to a new host (see the guide \"Recovering a lost MIM Service node\").",
		unauthorized: "The host refused the provider's credentials. Check winrm.username / winrm.password (or BASTION_WINRM_*) and that the account is a local administrator of the host.",
		certificate:  "The host's WinRM HTTPS certificate was not accepted. Check that winrm.ca_file holds the CA that issued it and that the certificate names the host.",
		deadline:     "The operation did not finish within its timeout. Raise it in the resource's timeouts block if the host is just slow.",
		other:        "The remote error follows.",
	},
	viaLDAP: {
		unreachable:  "No PRIV domain controller answered over LDAP. Check ldap.servers / ldap.pinned_dc and that LDAPS (636) is reachable.",
		unauthorized: "The domain controller refused the provider's LDAP credentials. Check ldap.username / ldap.password (or BASTION_LDAP_*).",
		certificate:  "The domain controller's LDAPS certificate was not accepted. Check that ldap.ca_file holds the CA that issued it and that the certificate names the DC.",
		deadline:     "The read did not finish within its timeout. Raise it in the resource's timeouts block if the DC is just slow.",
		other:        "The directory error follows.",
	},
	viaCorpLDAP: {
		unreachable: "No domain controller of the source domain answered over LDAP. Terraform reads the CORP side from where it runs: " +
			"the source domain's DNS name must resolve to its domain controllers there (or be mapped in connect_to), LDAPS (636, or the provider's ldap.port " +
			"and ldap.tls_mode) must be reachable, and ldap.ca_file must hold the CA that issued their certificates.",
		// Each caller names its own account and password attributes in doing.
		unauthorized: "The source domain's domain controller refused the CORP account and password named above: check both, and that the account is enabled and not locked out.",
		certificate:  "The source domain's domain controller presented an LDAPS certificate the provider does not trust: ldap.ca_file must hold the CA that issued it.",
		deadline:     "The read did not finish within its timeout. Raise it in the resource's timeouts block if the DC is just slow.",
		other:        "The directory error follows.",
	},
	viaSQL: {
		unreachable:  "SQL Server did not answer on its network name. Check that the instance's cluster role is online on a node (Get-ClusterGroup), that the name resolves, that TCP 1433 is open, and that sql.ca_file trusts its certificate.",
		unauthorized: "SQL Server refused the provider's login or a permission. The provider's login (sql.username, or its Windows account) must be sysadmin on the instance: list the account in sysadmin_accounts. Login failures (error 18456) are also what clients see while the instance fails over; the provider retried them, so if a failover is still under way, run the command again once the instance is online.",
		certificate:  "SQL Server's TLS certificate was not accepted. Check that sql.ca_file holds the CA that issued it and that the certificate names the instance's network name.",
		deadline:     "The operation did not finish within its timeout. Raise it in the resource's timeouts block if the instance is just slow.",
		other:        "The SQL Server error follows.",
	},
}

// report adds the diagnostic for err.
func report(diags *diag.Diagnostics, f failure, err error) { reportAt(diags, path.Empty(), f, "", err) }

// reportWith is report with a hint, what to check for this operation in
// particular, after the advice for the kind of error.
func reportWith(diags *diag.Diagnostics, f failure, hint string, err error) {
	reportAt(diags, path.Empty(), f, hint, err)
}

// reportAt is reportWith for an error about the attribute at (an empty
// path: about the resource as a whole).
func reportAt(diags *diag.Diagnostics, at path.Path, f failure, hint string, err error) {
	addDescribed(at, f, hint, err, diags.AddError, diags.AddAttributeError)
}

// warnAt is reportAt as a warning, for a check that runs again at apply.
func warnAt(diags *diag.Diagnostics, at path.Path, f failure, hint string, err error) {
	addDescribed(at, f, hint, err, diags.AddWarning, diags.AddAttributeWarning)
}

// addDescribed describes err and adds it with whole, or with attr when the
// diagnostic is about an attribute.
func addDescribed(at path.Path, f failure, hint string, err error, whole func(summary, detail string), attr func(at path.Path, summary, detail string)) {
	at, summary, detail := describe(at, f, hint, err)
	if len(at.Steps()) == 0 {
		whole(summary, detail)
		return
	}
	attr(at, summary, detail)
}

// describe builds the diagnostic for err: the attribute it is about, its
// summary, and its detail (where, why and what to do, then the error).
func describe(at path.Path, f failure, hint string, err error) (path.Path, string, string) {
	where := f.where(err)
	// Domain errors that name an attribute or a rule come first.
	var missing *sqlserver.AccountNotFoundError
	switch {
	case errors.As(err, &missing):
		return at, f.summary, fmt.Sprintf("%s failed: SQL Server found no Windows account '%s' in its domain (error 15401), so it cannot create a login for it. "+
			"Create the account in Active Directory first (New-ADUser, New-ADGroup or New-ADServiceAccount; a computer account is NAME$), or correct the name; "+
			"an account of another forest resolves only through a trust from the PRIV forest. Then apply again. See MSSQLSERVER_15401 in Microsoft's SQL Server documentation.\n\n%v", where, missing.Account, err)
	case errors.Is(err, pam.ErrCorpCredentialRefused):
		return path.Root("corp_username"), "CORP Credential Refused",
			fmt.Sprintf("%s failed: the source domain refused the CORP credential, corp_username with corp_password_wo at plan and apply, with the "+
				"provider's pam_corp_password at refresh and destroy. Check both; the account must be a domain administrator there. After rotating the "+
				"password, update corp_password_wo, bump corp_password_wo_version and update pam_corp_password.\n\n%v", where, err)
	case errors.Is(err, pam.ErrModuleMissing):
		return path.Root("host"), "MIMPAM Module Not Found",
			fmt.Sprintf("%s failed: the host has no MIMPAM PowerShell module. Point host at a MIM Service node installed with the PAM components "+
				"(bastion_mim_service_node with pam_components = true).\n\n%v", where, err)
	case errors.Is(err, pam.ErrForestNotFound):
		return at, f.summary, fmt.Sprintf("%s failed: the source forest or domain was not found from the host. Check the name, that the host resolves it "+
			"in DNS (a conditional forwarder to the CORP DNS servers) and reaches its domain controllers.\n\n%v", where, err)
	case errors.Is(err, topology.ErrLastDomainController):
		return at, "Last Domain Controller Not Demoted",
			fmt.Sprintf("Demoting %s would leave the domain without a writable domain controller. *Back up and restore Active Directory*: while any DC works, recovery adds a replica; "+
				"a domain with no DC can only come back from a backup. Promote another DC first (a second bastion_domain_controller), then demote this one.\n\n%s failed: %v", f.host, where, err)
	case errors.Is(err, topology.ErrHoldsFSMORoles):
		return at, "Domain Controller Holds FSMO Roles",
			fmt.Sprintf("%s still holds FSMO roles, and Uninstall-ADDSDomainController refuses to demote an operations master. Move the roles to the DC of your choice first: set their holders in bastion_fsmo_roles "+
				"(an LDAP transfer on the new holder) or run Move-ADDirectoryServerOperationMasterRole, apply, then demote. To tear the bastion down in one terraform destroy, "+
				"set holder_on_destroy on bastion_fsmo_roles to a DC that stays: the roles go back there before any DC is demoted.\n\n%s failed: %v", f.host, where, err)
	}
	a := advice[f.protocol]
	next := a.other
	switch {
	case transport.IsCertificateError(err):
		next = a.certificate
		// Which certificate, and why: unknown authority, name mismatch, expired.
		if what, ok := transport.DescribeCertificateError(err); ok {
			next = strings.ToUpper(what[:1]) + what[1:] + ". " + a.certificate
		}
	case errors.Is(err, transport.ErrConnectTimeout):
		next = a.unreachable + " The connect got no answer within connect_timeout (15 s unless set): the host is off, or a firewall drops the packets."
	case errors.Is(err, context.DeadlineExceeded):
		// Before unreachable: an operation cut off by its own timeout is
		// often wrapped as a connection that broke.
		next = a.deadline
	case errors.Is(err, transport.ErrUnreachable):
		next = a.unreachable
	case errors.Is(err, transport.ErrUnauthorized):
		next = a.unauthorized
	}
	switch {
	case hint != "" && next == a.other:
		next = hint + " " + next // the hint, then the error that follows
	case hint != "":
		next += " " + hint
	}
	return at, f.summary, fmt.Sprintf("%s failed. %s\n\n%v", where, next, err)
}
