package winrmsim

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"

	"github.com/bastion-pam/terraform-provider-bastion/internal/adnames"
	"github.com/bastion-pam/terraform-provider-bastion/internal/lab/model"
)

// Handlers for the PAM trust and domain configuration scripts. Each one
// follows its script step by step (module import, the .NET directory calls,
// the MIMPAM cmdlets, the LSA calls on the CORP side) and fails where the script would fail on a
// PRIV host, with the exception the script rethrows. Where Microsoft does not
// publish a cmdlet's error text, the message is the lab's own wording and the
// exception type the one the underlying .NET call raises.

func init() {
	RegisterRunAs("pam_trust_create", pamTrustCreate)
	RegisterRunAs("pam_trust_settings", pamTrustSettings)
	RegisterRunAs("pam_trust_remove", pamTrustRemove)
	Register("pam_domain_configuration_set", pamDomainConfigurationSet)
	Register("pam_domain_configuration_test", pamDomainConfigurationTest)
	Register("pam_domain_configuration_remove", pamDomainConfigurationRemove)
}

// decodeStrict reads the input as the script does under Set-StrictMode
// -Version Latest: a field the script reads must be there.
func decodeStrict(raw json.RawMessage, v any, fields ...string) error {
	var present map[string]json.RawMessage
	if err := json.Unmarshal(raw, &present); err != nil || present == nil {
		return argumentError("the script input is not a JSON object")
	}
	for _, f := range fields {
		if _, ok := present[f]; !ok {
			return &ScriptError{Type: "System.Management.Automation.PropertyNotFoundException",
				Message:  "The property '" + f + "' cannot be found on this object. Verify that the property exists.",
				Category: "NotSpecified", ID: "PropertyNotFoundStrict"}
		}
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return argumentError(err.Error())
	}
	return nil
}

// thrown is an exception a script rethrows with `throw $exception`:
// PowerShell files it under OperationStopped with the message as its id.
func thrown(typ, msg string) error {
	return &ScriptError{Type: typ, Message: msg, Category: "OperationStopped", ID: msg}
}

func moduleNotFound() error {
	return &ScriptError{Type: "System.IO.FileNotFoundException",
		Message:  "The specified module '" + model.MIMPAMModulePath + "' was not loaded because no valid module file was found in any module directory.",
		Category: "ResourceUnavailable", ID: "Modules_ModuleNotFound,Microsoft.PowerShell.Commands.ImportModuleCommand"}
}

func importMIMPAM(h *model.Host) error {
	if !model.HasMIMPAM(h) {
		return moduleNotFound()
	}
	return nil
}

var dnsDomainName = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)+$`)

func checkSourceForest(name string) error {
	if !dnsDomainName.MatchString(name) {
		return argumentError("source_forest must be a DNS domain name, not " + name)
	}
	return nil
}

// privForest is Domain.GetComputerDomain().Forest.Name: the host must be a
// member of the PRIV domain.
func privForest(env *model.Env, h *model.Host) (string, error) {
	if env.Domain == nil || !strings.HasSuffix(h.FQDN, "."+model.Key(env.Domain.DNSName)) {
		return "", thrown("System.DirectoryServices.ActiveDirectory.ActiveDirectoryObjectNotFoundException",
			"Current security context is not associated with an Active Directory domain or forest.")
	}
	return env.Domain.DNSName, nil
}

// getForest is Forest.GetForest(DirectoryContext('Forest', name, user, password)).
func getForest(env *model.Env, name, user, password string) (*model.Domain, error) {
	d := env.Forests[model.Key(name)]
	if d == nil && env.Domain != nil && strings.EqualFold(env.Domain.DNSName, model.Key(name)) {
		d = env.Domain
	}
	if d == nil {
		return nil, thrown("System.DirectoryServices.ActiveDirectory.ActiveDirectoryObjectNotFoundException",
			"The specified forest does not exist or cannot be contacted.")
	}
	if d == env.Domain {
		// The forest exists (it is the host's own), but the credential is for a CORP domain.
		if _, ok := env.Credentials[strings.ToLower(user)]; !ok || env.Credentials[strings.ToLower(user)] != password {
			return nil, logonFailure()
		}
		return d, nil
	}
	if err := env.CheckDomainCredential(d, user, password); err != nil {
		return nil, logonFailure()
	}
	return d, nil
}

func logonFailure() error {
	return thrown("System.Security.Authentication.AuthenticationException", "The user name or password is incorrect.")
}

// sourceForest resolves the forest a PAM cmdlet is pointed at: another
// forest than the PAM domain's own.
func sourceForest(env *model.Env, name, user, password string) (*model.Domain, error) {
	d, err := getForest(env, name, user, password)
	if err != nil {
		return nil, err
	}
	if d == env.Domain {
		return nil, &ScriptError{Type: "System.ArgumentException",
			Message:  "The source forest " + d.DNSName + " is the PAM forest itself.",
			Category: "InvalidArgument", ID: "InvalidSourceForest,Microsoft.IdentityManagement.PamCmdlets.NewPAMTrust"}
	}
	return d, nil
}

// reachPrivDC is the PRIV forest's side of a PAM trust script: the .NET
// ActiveDirectory calls and the MIMPAM cmdlets bind to a PRIV DC as the
// running account. On a member server (a MIM node) that is a second hop.
func reachPrivDC(env *model.Env, h *model.Host, logon model.Identity) error {
	if env.Domain.IsDC(h.FQDN) || len(env.Domain.DCs) == 0 {
		return nil
	}
	dcs := slices.Sorted(maps.Keys(env.Domain.DCs))
	return hopError(env.Reach(h, logon, model.Hop{Kind: model.HopDirectory, Target: dcs[0]}))
}

// hopError turns the model's refused hop into the exception the script
// rethrows (the .NET call's own, unwrapped by Get-CallException).
func hopError(err error) error {
	var he *model.HopError
	if errors.As(err, &he) {
		return thrown(he.Type, he.Message)
	}
	return err
}

type pamTrustInput struct {
	SourceForest  string `json:"source_forest"`
	CorpUsername  string `json:"corp_username"`
	CorpPassword  string `json:"corp_password"`
	Bidirectional bool   `json:"bidirectional"`
}

func pamTrustCreate(env *model.Env, h *model.Host, logon model.Identity, raw json.RawMessage) (any, error) {
	var in pamTrustInput
	if err := decodeStrict(raw, &in, "source_forest", "corp_username", "corp_password", "bidirectional"); err != nil {
		return nil, err
	}
	if err := checkSourceForest(in.SourceForest); err != nil {
		return nil, err
	}
	if err := importMIMPAM(h); err != nil {
		return nil, err
	}
	priv, err := privForest(env, h)
	if err != nil {
		return nil, err
	}
	corp, err := sourceForest(env, in.SourceForest, in.CorpUsername, in.CorpPassword)
	if err != nil {
		return nil, err
	}
	if err := reachPrivDC(env, h, logon); err != nil {
		return nil, err
	}
	privSide, corpSide := env.PAMTrustSides(corp)
	repaired := false
	if (privSide == nil) != (corpSide == nil) {
		// Remove-PAMTrust clears the half that is left.
		env.RemovePAMTrust(corp)
		repaired = true
	}
	if err := env.NewPAMTrust(corp, in.Bidirectional); err != nil {
		if errors.Is(err, model.ErrTrustExists) {
			return nil, &ScriptError{Type: "System.DirectoryServices.ActiveDirectory.ActiveDirectoryObjectExistsException",
				Message:  fmt.Sprintf("The trust relationship between %s and %s already exists.", corp.DNSName, priv),
				Category: "ResourceExists", ID: "TrustAlreadyExists,Microsoft.IdentityManagement.PamCmdlets.NewPAMTrust"}
		}
		return nil, err
	}
	return map[string]any{"priv_forest": priv, "created": true, "repaired_half_trust": repaired}, nil
}

type pamTrustSettingsInput struct {
	pamTrustInput
	Apply      bool `json:"apply"`
	SIDHistory bool `json:"sid_history"`
	Quarantine bool `json:"quarantine"`
	PIMTrust   bool `json:"pim_trust"`
	Verify     bool `json:"verify"`
}

func pamTrustSettings(env *model.Env, h *model.Host, logon model.Identity, raw json.RawMessage) (any, error) {
	var in pamTrustSettingsInput
	if err := decodeStrict(raw, &in, "source_forest", "corp_username", "corp_password", "apply", "sid_history", "quarantine", "pim_trust", "verify", "bidirectional"); err != nil {
		return nil, err
	}
	if err := checkSourceForest(in.SourceForest); err != nil {
		return nil, err
	}
	if in.CorpPassword == "" {
		return nil, argumentError("corp_password is empty.")
	}
	priv, err := privForest(env, h)
	if err != nil {
		return nil, err
	}
	if err := reachPrivDC(env, h, logon); err != nil {
		return nil, err
	}
	corp, err := getForest(env, in.SourceForest, in.CorpUsername, in.CorpPassword)
	if err != nil {
		return nil, err
	}
	// The trusting (CORP) side: the forest root's trustedDomain object for PRIV.
	corpSide := func() *model.Trust { _, c := env.PAMTrustSides(corp); return c }
	if corp == env.Domain {
		corpSide = func() *model.Trust { return nil }
	}
	wanted := map[string]bool{model.OptionEnableSIDHistory: in.SIDHistory, model.OptionQuarantine: in.Quarantine, model.OptionEnablePIMTrust: in.PIMTrust}
	changed := []string{}
	var lsaSide *model.TrustedDomainInfoEx
	if in.Apply && differs(corpSide(), wanted) {
		info, names, err := setTrustAttributes(env, h, corp, priv, in.CorpUsername, in.CorpPassword, wanted)
		if err != nil {
			return nil, err
		}
		lsaSide, changed = info, names
	}
	out := map[string]any{"priv_forest": priv, "corp_side_present": false, "corp_trust_direction": 0, "corp_trust_attributes": 0, "settings_changed": changed, "verified": nil}
	if t := corpSide(); t != nil {
		out["corp_side_present"], out["corp_trust_direction"], out["corp_trust_attributes"] = true, t.Direction, t.Attributes
	}
	if lsaSide != nil {
		// What the PDC holds after the set, as the script reports it.
		out["corp_side_present"], out["corp_trust_direction"], out["corp_trust_attributes"] = true, lsaSide.Direction, lsaSide.Attributes
	}
	if in.Verify {
		if err := importMIMPAM(h); err != nil {
			return nil, err
		}
		out["verified"] = testPAMTrust(env, corp, in.Bidirectional)
	}
	return out, nil
}

// differs reports whether the LDAP read of the CORP side (nil: absent)
// leaves any wanted setting to change, as the script decides whether to
// make the LSA calls at all.
func differs(t *model.Trust, wanted map[string]bool) bool {
	if t == nil {
		return true
	}
	for _, s := range model.PAMTrustSettings {
		if (t.Attributes&s.Bit != 0) != wanted[s.Option] {
			return true
		}
	}
	return false
}

// setTrustAttributes is the script's Set-TrustAttribute (include
// lsa_trust): under LogonUserW's NEW_CREDENTIALS token for the CORP
// account, LsaOpenPolicy on the CORP forest root's PDC,
// LsaQueryTrustedDomainInfoByName for the PRIV forest, netdom's rules for
// the bits that differ, and one LsaSetTrustedDomainInfoByName for all of
// them. It returns the TDO as written and the settings changed.
func setTrustAttributes(env *model.Env, h *model.Host, corp *model.Domain, priv, user, password string, wanted map[string]bool) (*model.TrustedDomainInfoEx, []string, error) {
	// The password is LogonUserW's argument, data in the script's memory.
	env.NoteSecret(password)
	pdc := corp.FSMOHolder(adnames.PDCEmulator)
	if pdc == "" {
		pdc = slices.Sorted(maps.Keys(corp.DCs))[0]
	}
	fail := func(call string, err error) error {
		var le *model.LSAError
		var he *model.HopError
		switch {
		case errors.As(err, &le):
			return thrown("System.ComponentModel.Win32Exception", lsaFailure(call, pdc, user, le.Code, le.Message, priv))
		case errors.As(err, &he):
			return thrown("System.ComponentModel.Win32Exception", lsaFailure(call, pdc, user, he.Code, he.Message, priv))
		}
		return err
	}
	policy, err := env.LsaOpenPolicy(h, model.NewCredentials(user), password, corp, pdc)
	if err != nil {
		return nil, nil, fail("LsaOpenPolicy", err)
	}
	info, err := env.LsaQueryTrustedDomainInfoByName(policy, priv)
	if err != nil {
		return nil, nil, fail("LsaQueryTrustedDomainInfoByName("+priv+")", err)
	}
	changed := []string{}
	var bits uint32
	next := info.Attributes
	for _, s := range model.PAMTrustSettings {
		on := wanted[s.Option]
		if (info.Attributes&s.Bit != 0) == on {
			continue
		}
		bits |= s.Bit
		if on {
			next |= s.Bit
			changed = append(changed, s.Option+":yes")
		} else {
			next &^= s.Bit
			changed = append(changed, s.Option+":no")
		}
	}
	if bits == 0 {
		return &info, changed, nil
	}
	if err := model.CheckTrustAttributeChange(corp.DNSName, priv, info, bits); err != nil {
		return nil, nil, thrown("System.InvalidOperationException", err.Error())
	}
	info.Attributes = next
	if err := env.LsaSetTrustedDomainInfoByName(policy, priv, info); err != nil {
		return nil, nil, fail("LsaSetTrustedDomainInfoByName("+priv+")", err)
	}
	return &info, changed, nil
}

// lsaFailure is the script's message for a failed LSA call (New-LsaFailure
// in include lsa_trust), with its hint for a missing trusted domain object.
func lsaFailure(call, server, user string, code int, msg, trusted string) string {
	text := fmt.Sprintf(`%s on \\%s as %s failed with error %d: %s`, call, server, user, code, msg)
	if code == 2 {
		text += " The source forest has no trusted domain object for " + trusted + ": create the trust first (New-PAMTrust)."
	}
	return text
}

// testPAMTrust is Test-PAMTrust's answer: both sides there, forest-transitive,
// in the direction asked (PRIV inbound and CORP outbound, or both ways).
func testPAMTrust(env *model.Env, corp *model.Domain, bidirectional bool) bool {
	if corp == env.Domain {
		return false
	}
	p, c := env.PAMTrustSides(corp)
	if p == nil || c == nil || p.Attributes&adnames.TrustAttrForestTransitive == 0 || c.Attributes&adnames.TrustAttrForestTransitive == 0 {
		return false
	}
	if bidirectional {
		return p.Direction == adnames.TrustDirectionBidirectional && c.Direction == adnames.TrustDirectionBidirectional
	}
	return p.Direction == adnames.TrustDirectionInbound && c.Direction == adnames.TrustDirectionOutbound
}

func pamTrustRemove(env *model.Env, h *model.Host, logon model.Identity, raw json.RawMessage) (any, error) {
	var in pamTrustInput
	if err := decodeStrict(raw, &in, "source_forest", "corp_username", "corp_password"); err != nil {
		return nil, err
	}
	if err := checkSourceForest(in.SourceForest); err != nil {
		return nil, err
	}
	if _, err := privForest(env, h); err != nil {
		return nil, err
	}
	if err := reachPrivDC(env, h, logon); err != nil {
		return nil, err
	}
	privSide := env.Domain.Trusts[model.Key(in.SourceForest)]
	if in.CorpPassword == "" {
		// Forest.DeleteLocalSideOfTrustRelationship, as the WinRM account.
		if privSide != nil {
			delete(env.Domain.Trusts, model.Key(in.SourceForest))
			env.Record(env.Domain.DNSName, "trust-local-side-removed", in.SourceForest)
		}
		return map[string]any{"removed": privSide != nil, "corp_side_removed": false}, nil
	}
	corp, err := getForest(env, in.SourceForest, in.CorpUsername, in.CorpPassword)
	if err != nil {
		return nil, err
	}
	if corp == env.Domain {
		return map[string]any{"removed": false, "corp_side_removed": false}, nil
	}
	p, c := env.PAMTrustSides(corp)
	if p == nil && c == nil {
		return map[string]any{"removed": false, "corp_side_removed": false}, nil
	}
	if err := importMIMPAM(h); err != nil {
		return nil, err
	}
	env.RemovePAMTrust(corp)
	return map[string]any{"removed": true, "corp_side_removed": true}, nil
}

type pamDomainInput struct {
	SourceDomain string `json:"source_domain"`
	CorpUsername string `json:"corp_username"`
	CorpPassword string `json:"corp_password"`
}

// sourceDomain resolves -SourceDomain (a NetBIOS name) and checks the
// credential against it, as the PAM domain configuration cmdlets do first.
func sourceDomain(env *model.Env, cmdlet string, in pamDomainInput) (*model.Domain, error) {
	var d *model.Domain
	for _, x := range env.Directories() {
		if x != env.Domain && strings.EqualFold(x.NetBIOSName, in.SourceDomain) {
			d = x
		}
	}
	if d == nil {
		return nil, &ScriptError{Type: "System.DirectoryServices.ActiveDirectory.ActiveDirectoryObjectNotFoundException",
			Message:  "The specified domain either does not exist or could not be contacted.",
			Category: "ObjectNotFound", ID: "DomainNotFound,Microsoft.IdentityManagement.PamCmdlets." + cmdlet}
	}
	if err := env.CheckDomainCredential(d, in.CorpUsername, in.CorpPassword); err != nil {
		return nil, &ScriptError{Type: "System.Security.Authentication.AuthenticationException",
			Message:  "The user name or password is incorrect.",
			Category: "AuthenticationError", ID: "LogonFailure,Microsoft.IdentityManagement.PamCmdlets." + cmdlet}
	}
	return d, nil
}

// pamDomainRequest reads the input of a PAM domain configuration script,
// loads the MIMPAM module and finds the source domain as cmdlet would.
func pamDomainRequest(env *model.Env, h *model.Host, raw json.RawMessage, cmdlet string) (*model.Domain, error) {
	var in pamDomainInput
	if err := decodeStrict(raw, &in, "source_domain", "corp_username", "corp_password"); err != nil {
		return nil, err
	}
	if err := importMIMPAM(h); err != nil {
		return nil, err
	}
	return sourceDomain(env, cmdlet, in)
}

// configuredReply is Test-PAMDomainConfiguration's answer as the scripts
// hand it back: the cmdlet returns a String (Microsoft's reference:
// "Outputs: String"), so the script replies with the text and its type.
func configuredReply(env *model.Env, d *model.Domain) map[string]any {
	return map[string]any{"output": cmdletBool(domainConfigured(env, d)), "output_type": "System.String"}
}

// domainConfigured is Test-PAMDomainConfiguration's answer.
func domainConfigured(env *model.Env, d *model.Domain) bool {
	f := env.CorpFacts(d)
	p, c := env.PAMTrustSides(d)
	return f.Configured && f.Auditing && f.Groups[strings.ToLower(model.SIDHistoryGroup(d))] && p != nil && c != nil
}

func pamDomainConfigurationSet(env *model.Env, h *model.Host, raw json.RawMessage) (any, error) {
	d, err := pamDomainRequest(env, h, raw, "NewPAMDomainConfiguration")
	if err != nil {
		return nil, err
	}
	fail := func(id, msg string) error {
		return &ScriptError{Type: "System.InvalidOperationException", Message: msg, Category: "InvalidOperation",
			ID: id + ",Microsoft.IdentityManagement.PamCmdlets.NewPAMDomainConfiguration"}
	}
	if p, c := env.PAMTrustSides(d); p == nil || c == nil {
		return nil, fail("TrustNotFound", fmt.Sprintf("There is no trust between the PAM domain %s and %s: run New-PAMTrust first.", env.Domain.NetBIOSName, d.NetBIOSName))
	}
	f := env.CorpFacts(d)
	group := model.SIDHistoryGroup(d)
	if !f.Groups[strings.ToLower(group)] {
		return nil, fail("GroupNotFound", fmt.Sprintf("The group %s was not found in domain %s. Create it as a domain local group before configuring the domain for PAM.", group, d.NetBIOSName))
	}
	if !f.Auditing {
		return nil, fail("AuditingDisabled", fmt.Sprintf("Auditing of account management and directory service access is not enabled in domain %s.", d.NetBIOSName))
	}
	f.Configured = true
	env.Record(h.FQDN, "pam-domain-configured", d.NetBIOSName)
	return configuredReply(env, d), nil
}

func pamDomainConfigurationTest(env *model.Env, h *model.Host, raw json.RawMessage) (any, error) {
	d, err := pamDomainRequest(env, h, raw, "TestPAMDomainConfiguration")
	if err != nil {
		return nil, err
	}
	return configuredReply(env, d), nil
}

func pamDomainConfigurationRemove(env *model.Env, h *model.Host, raw json.RawMessage) (any, error) {
	d, err := pamDomainRequest(env, h, raw, "TestPAMDomainConfiguration")
	if err != nil {
		return nil, err
	}
	removed := domainConfigured(env, d)
	if removed {
		env.CorpFacts(d).Configured = false
		env.Record(h.FQDN, "pam-domain-unconfigured", d.NetBIOSName)
	}
	return map[string]any{"removed": removed}, nil
}

// cmdletBool is a Boolean as [string] renders it: "True" or "False".
func cmdletBool(b bool) string {
	if b {
		return "True"
	}
	return "False"
}
