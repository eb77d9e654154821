package winrmsim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"unicode"

	"github.com/bastion-pam/terraform-provider-bastion/internal/adnames"
	"github.com/bastion-pam/terraform-provider-bastion/internal/lab/model"
)

// Handlers for the domain controller scripts: ad_install_dc.ps1
// (Install-ADDSDomainController) and ad_uninstall_dc.ps1
// (Uninstall-ADDSDomainController). They check the
// cmdlets' parameters as the ADDSDeployment prerequisite checks do and fail
// with errors shaped like theirs. When env.DCBackend is set, the promotion
// and demotion themselves go to it (a real Samba DC) instead of the model's
// directory.

func init() {
	Register("ad_install_dc", adInstallDC)
	Register("ad_uninstall_dc", adUninstallDC)
}

// ADDSDeployment reports a failed prerequisite check as a TestException with
// a Test.VerifyDcPromoCore.DCPromo.General.<n> error id.
func addsError(cmdlet string, n int, msg string) error {
	verb := "promotion"
	if strings.HasPrefix(cmdlet, "Uninstall") {
		verb = "demotion"
	}
	return &ScriptError{
		Type:     "Microsoft.DirectoryServices.Deployment.DCPromoExecutionException",
		Message:  fmt.Sprintf("Verification of prerequisites for Domain Controller %s failed. %s", verb, msg),
		Category: "NotSpecified",
		ID:       fmt.Sprintf("Test.VerifyDcPromoCore.DCPromo.General.%d,Microsoft.DirectoryServices.Deployment.PowerShell.Commands.%sCommand", n, strings.ReplaceAll(cmdlet, "-", "")),
	}
}

// strictFields fails like Set-StrictMode -Version Latest when the script
// reads a property the input lacks.
func strictFields(raw json.RawMessage, names ...string) (map[string]json.RawMessage, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil || m == nil {
		return nil, &ScriptError{Type: "System.Management.Automation.PropertyNotFoundException",
			Message: "The property '" + names[0] + "' cannot be found on this object. Verify that the property exists.", Category: "NotSpecified", ID: "PropertyNotFoundStrict"}
	}
	for _, n := range names {
		if _, ok := m[n]; !ok {
			return nil, &ScriptError{Type: "System.Management.Automation.PropertyNotFoundException",
				Message: "The property '" + n + "' cannot be found on this object. Verify that the property exists.", Category: "NotSpecified", ID: "PropertyNotFoundStrict"}
		}
	}
	return m, nil
}

// str is [string]$Params.x: null becomes "".
func str(m map[string]json.RawMessage, name string) string {
	var s *string
	if json.Unmarshal(m[name], &s) != nil || s == nil {
		return string(bytes.Trim(m[name], `"`))
	}
	return *s
}

// meetsComplexity is the default domain password policy (model.MeetsComplexity).
func meetsComplexity(p string) bool { return model.MeetsComplexity(p) }

// checkDomainAdmin checks a -Credential as the promotion does: the account
// must exist with that password and be a member of the domain's Domain
// Admins (model.Domain.IsDomainAdmin).
func checkDomainAdmin(env *model.Env, d *model.Domain, cmdlet, user, password string) error {
	nb, name, ok := strings.Cut(user, `\`)
	if !ok {
		if n, dns, upn := strings.Cut(user, "@"); upn {
			name = n
			if dd := env.DirectoryByName(dns); dd != nil {
				nb = dd.NetBIOSName
			}
		}
	}
	want, known := env.Credentials[strings.ToLower(nb+`\`+name)]
	if !known || want != password || password == "" {
		return addsError(cmdlet, 23, "The user name or password is incorrect.")
	}
	if !strings.EqualFold(nb, d.NetBIOSName) || !d.IsDomainAdmin(name) {
		return addsError(cmdlet, 25, fmt.Sprintf("You must supply the credentials of an account that is a member of the Domain Admins group of the domain %s.", d.DNSName))
	}
	return nil
}

func localPath(p string) bool {
	return len(p) >= 3 && p[1] == ':' && p[2] == '\\' && unicode.IsLetter(rune(p[0]))
}

func adInstallDC(env *model.Env, h *model.Host, raw json.RawMessage) (any, error) {
	const cmdlet = "Install-ADDSDomainController"
	in, err := strictFields(raw, "admin_password", "admin_username", "safe_mode_password", "domain_name", "site_name",
		"install_dns", "global_catalog", "database_path", "log_path", "sysvol_path", "installation_media_path", "replication_source_dc")
	if err != nil {
		return nil, err
	}
	// Install-WindowsFeature AD-Domain-Services: the NTDS service is registered.
	_, installed := h.RegValue(model.ADDSServiceKey, "Start")
	if _, dc := env.DirectoryOf(h.FQDN); dc != nil {
		installed = true
	}
	if !installed {
		h.SetRegValue(model.ADDSServiceKey, "Start", "3")
		env.Record(h.FQDN, "windows-feature", "AD-Domain-Services installed")
	}
	featureInstalled := !installed

	if other, _ := env.DirectoryOf(h.FQDN); other != nil {
		return nil, addsError(cmdlet, 62, fmt.Sprintf("This computer is already a domain controller of the domain %s; remove Active Directory Domain Services first.", other.DNSName))
	}
	domain := str(in, "domain_name")
	d := env.DirectoryByName(domain)
	if d == nil || !strings.Contains(domain, ".") {
		return nil, addsError(cmdlet, 4, fmt.Sprintf("An Active Directory domain controller for the domain %q could not be contacted. Ensure that you supplied the correct DNS domain name.", domain))
	}
	if env.Domain != nil && d != env.Domain {
		// The lab's servers are members of the PRIV domain.
		return nil, addsError(cmdlet, 8, fmt.Sprintf("This computer is a member of the domain %s and cannot become a domain controller of %s. Remove it from its domain first.", env.Domain.DNSName, d.DNSName))
	}
	if err := checkDomainAdmin(env, d, cmdlet, str(in, "admin_username"), str(in, "admin_password")); err != nil {
		return nil, err
	}
	if !meetsComplexity(str(in, "safe_mode_password")) {
		return nil, addsError(cmdlet, 77, "The specified argument 'SafeModeAdministratorPassword' was not valid: the password does not meet the length or complexity requirements of the password policy.")
	}
	site := str(in, "site_name")
	if site == "" {
		site = model.DefaultSite // the site of the computer's subnet; the lab has one subnet
	} else if !d.SiteExists(site) {
		return nil, addsError(cmdlet, 52, fmt.Sprintf("The site %q could not be found in the forest. Create the site first, or choose one of: %s.", site, strings.Join(d.AllSites(), ", ")))
	}
	for _, p := range []struct{ name, param string }{{"database_path", "DatabasePath"}, {"log_path", "LogPath"}, {"sysvol_path", "SysvolPath"}} {
		if v := str(in, p.name); v != "" && !localPath(v) {
			return nil, addsError(cmdlet, 41, fmt.Sprintf("The path %q given for %s is not valid: it must be a folder on a local fixed disk of this computer.", v, p.param))
		}
	}
	if media := str(in, "installation_media_path"); media != "" {
		prefix := model.FileKey(strings.TrimSuffix(media, `\`) + `\`)
		found := false
		for k := range h.Files {
			found = found || strings.HasPrefix(k, prefix)
		}
		if !found {
			return nil, addsError(cmdlet, 33, fmt.Sprintf("The installation media path %q does not hold installation media (IFM) for this domain.", media))
		}
	}
	if src := str(in, "replication_source_dc"); src != "" {
		if dc := d.DC(src); dc == nil || dc.ReadOnly {
			return nil, addsError(cmdlet, 36, fmt.Sprintf("The replication source domain controller %q is not a writable domain controller of %s.", src, d.DNSName))
		}
	}
	gc := true
	_ = json.Unmarshal(in["global_catalog"], &gc)
	var dns *bool
	_ = json.Unmarshal(in["install_dns"], &dns)

	if env.DCBackend != nil {
		p := model.PromoteParams{DomainName: d.DNSName, SiteName: site, GlobalCatalog: gc, ReplicationSourceDC: str(in, "replication_source_dc")}
		p.InstallDNS = dns == nil || *dns
		if err := env.DCBackend.PromoteDC(h.FQDN, p); err != nil {
			return nil, &ScriptError{Type: "Microsoft.DirectoryServices.Deployment.DCPromoExecutionException", Message: "The operation failed because: " + err.Error(),
				Category: "NotSpecified", ID: "DCPromo.General.3,Microsoft.DirectoryServices.Deployment.PowerShell.Commands.InstallADDSDomainControllerCommand"}
		}
	} else {
		source := d.ReplicationSource(h.FQDN, str(in, "replication_source_dc"))
		dc, err := env.PromoteDCLocked(d.DNSName, h.FQDN, model.DCOptions{Site: canonicalSite(d, site), GlobalCatalog: gc})
		if err != nil {
			return nil, err
		}
		env.Replicate(dc, source)
	}
	if _, dc := env.DirectoryOf(h.FQDN); dc != nil {
		dc.DSRMPassword = str(in, "safe_mode_password") // -SafeModeAdministratorPassword
	}
	// Without -NoRebootOnCompletion the server restarts as the cmdlet
	// finishes: the WinRM command loses its connection before any reply.
	env.Record(h.FQDN, "reboot", "restart after the promotion")
	env.RestartHost(h.FQDN)
	return map[string]any{
		"status":            "Success",
		"message":           "Operation completed successfully",
		"reboot_required":   true,
		"feature_installed": featureInstalled,
	}, nil
}

// canonicalSite returns the forest's spelling of a site name.
func canonicalSite(d *model.Domain, site string) string {
	for _, s := range d.AllSites() {
		if strings.EqualFold(s, site) {
			return s
		}
	}
	return site
}

// adUninstallDC is Uninstall-ADDSDomainController with an explicit
// -Credential and -LocalAdministratorPassword, checked as its prerequisite
// checks do. Windows then resets the local SAM's Administrator password to
// the given value; the lab keeps it, like every secret, in env.Credentials
// (key LocalAdministrator(host)), so tests can see what was set.
func adUninstallDC(env *model.Env, h *model.Host, raw json.RawMessage) (any, error) {
	const cmdlet = "Uninstall-ADDSDomainController"
	in, err := strictFields(raw, "admin_password", "admin_username", "local_admin_password")
	if err != nil {
		return nil, err
	}
	d, dc := env.DirectoryOf(h.FQDN)
	if dc == nil && env.DCBackend == nil {
		return nil, addsError(cmdlet, 2, "This computer is not a domain controller.")
	}
	if d == nil {
		d = env.Domain // with a DCBackend the DC lives outside the model: the lab's servers are PRIV members
	}
	if err := checkDomainAdmin(env, d, cmdlet, str(in, "admin_username"), str(in, "admin_password")); err != nil {
		return nil, err
	}
	localPassword := str(in, "local_admin_password")
	if !meetsComplexity(localPassword) {
		return nil, addsError(cmdlet, 77, "The specified argument 'LocalAdministratorPassword' was not valid: the password does not meet the length or complexity requirements of the password policy.")
	}
	if dc != nil {
		writable := 0
		for _, o := range d.SortedDCs() {
			if o.Host != dc.Host && !o.ReadOnly {
				writable++
			}
		}
		if writable == 0 {
			return nil, addsError(cmdlet, 21, fmt.Sprintf("%s is the last domain controller of the domain %s. To remove the domain, specify -LastDomainControllerInDomain.", dc.Host, d.DNSName))
		}
		var roles []string
		for _, r := range adnames.FSMORoles() {
			if d.FSMO[r] == dc.Host {
				roles = append(roles, r)
			}
		}
		if len(roles) > 0 {
			return nil, addsError(cmdlet, 77, fmt.Sprintf("The domain controller holds the operations master roles %s. Transfer them to another domain controller, or specify -DemoteOperationMasterRole.", strings.Join(roles, ", ")))
		}
	}
	if env.DCBackend != nil {
		if err := env.DCBackend.DemoteDC(h.FQDN); err != nil {
			return nil, &ScriptError{Type: "Microsoft.DirectoryServices.Deployment.DCPromoExecutionException", Message: "The operation failed because: " + err.Error(),
				Category: "NotSpecified", ID: "DCPromo.General.3,Microsoft.DirectoryServices.Deployment.PowerShell.Commands.UninstallADDSDomainControllerCommand"}
		}
	} else {
		// The demotion removes the DC's objects through a partner DC; the
		// others see it gone after replication.
		gone := *dc
		if err := env.DemoteDCLocked(h.FQDN); err != nil {
			return nil, err
		}
		env.ReplicateRemoval(d, &gone, d.ReplicationSource(h.FQDN, ""))
	}
	env.Credentials[LocalAdministrator(h.FQDN)] = localPassword
	env.DemotionPasswords[model.Key(h.FQDN)] = append(env.DemotionPasswords[model.Key(h.FQDN)], localPassword)
	env.Record(h.FQDN, "local-administrator-password-set", "Administrator")
	env.Record(h.FQDN, "reboot", "restart after the demotion")
	env.RestartHost(h.FQDN)
	return map[string]any{"status": "Success", "message": "Operation completed successfully", "reboot_required": true}, nil
}

// LocalAdministrator is the env.Credentials key of host's local
// Administrator account (COMPUTER\Administrator, lower case).
func LocalAdministrator(host string) string {
	return model.LocalAccountKey(host, "Administrator")
}
