package model

import (
	"crypto/subtle"
	"strings"

	"github.com/bastion-pam/terraform-provider-bastion/internal/adnames"
)

// Who may log on where, as Windows decides it for WinRM.
//
// Accounts live in Credentials under "domain\user" (lower case): the PRIV
// domain's and other forests' accounts under their NetBIOS name, a member
// server's local (SAM) accounts under its computer name ("priv-app1\administrator").
// A domain controller has no local SAM accounts it lets anyone log on with
// (the DSRM administrator logs on only in Directory Services Restore Mode),
// so its computer-name entries are ignored while it is a DC.
//
// Basic authentication works only for a local account written as its bare
// name, and only when the host's WinRM service allows Basic: Microsoft's
// ConnectionOptions.UserName ("for a local account with Basic
// authentication"), Ansible's Windows Remote Management guide ("Basic
// authentication can only be used for local accounts (not domain
// accounts)"). A domain account, or a qualified name, gets 401.

// LogonType is the kind of logon session a WinRM shell runs in (the
// LOGON32_LOGON_* types of LogonUser).
type LogonType string

const (
	// LogonNetwork (type 3) is what NTLM and Kerberos without delegation
	// give a WinRM session: it holds no credential it could present to a
	// third machine (the second hop).
	LogonNetwork LogonType = "Network"
	// LogonNetworkCleartext (type 8) is what Basic gives: a local account's
	// session, which no other machine knows.
	LogonNetworkCleartext LogonType = "NetworkCleartext"
	// LogonBatch (type 4) is a scheduled task registered with the account's
	// password: a full logon that reaches other machines as that account.
	LogonBatch LogonType = "Batch"
)

// AccountKind says where an account lives.
type AccountKind string

const (
	AccountLocal   AccountKind = "local"
	AccountDomain  AccountKind = "domain"
	AccountTrusted AccountKind = "trusted" // another forest's account, through a trust
)

// Identity is who a WinRM session runs as.
type Identity struct {
	// Account is the Credentials key, "domain\user" in lower case.
	Account string
	Kind    AccountKind
	Logon   LogonType
}

// WinRMService is the host's WinRM service configuration
// (winrm/config/service). The zero value is Windows Server's default:
// Basic off, unencrypted traffic refused.
type WinRMService struct {
	AllowBasic       bool
	AllowUnencrypted bool
}

// LocalAccountKey is the Credentials key of a local account of host.
func LocalAccountKey(host, user string) string {
	name, _, _ := strings.Cut(Key(host), ".")
	return strings.ToLower(name + `\` + user)
}

// isDCLocked reports whether host is a domain controller of any known domain.
func (e *Env) isDCLocked(host string) bool {
	d, _ := e.DirectoryOf(host)
	return d != nil
}

// SetWinRMService sets host's WinRM service configuration.
func (e *Env) SetWinRMService(host string, cfg WinRMService) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if h := e.Host(host); h != nil {
		h.WinRM = cfg
	}
}

// WinRMServiceOf returns host's WinRM service configuration.
func (e *Env) WinRMServiceOf(host string) WinRMService {
	e.mu.Lock()
	defer e.mu.Unlock()
	if h := e.Host(host); h != nil {
		return h.WinRM
	}
	return WinRMService{}
}

// BasicLogon checks a Basic logon to host's WinRM service. ok is false for
// anything Windows answers with 401.
func (e *Env) BasicLogon(host, user, password string) (Identity, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	h := e.Host(host)
	if h == nil || !h.WinRM.AllowBasic || e.isDCLocked(host) {
		return Identity{}, false
	}
	if user == "" || strings.ContainsAny(user, `\@`) {
		return Identity{}, false // a qualified or domain name: 401
	}
	key := LocalAccountKey(host, user)
	want, found := e.Credentials[key]
	if !found || subtle.ConstantTimeCompare([]byte(want), []byte(password)) != 1 {
		return Identity{}, false
	}
	return Identity{Account: key, Kind: AccountLocal, Logon: LogonNetworkCleartext}, true
}

// NTLMCandidate is an account an NTLM AUTHENTICATE message may stand for,
// with the password the lab's domain controller (or the host's SAM) knows.
type NTLMCandidate struct {
	Identity
	Password string
}

// NTLMCandidates returns the accounts that an NTLM logon to host as
// domain\user may be, in the order Windows tries them: the host's SAM
// when the domain is empty or the computer name (never on a DC), then the
// PRIV domain, then a trusted forest's domain (only when PRIV trusts it:
// the PRIV side of the trust is outbound or bidirectional). Callers verify
// the NTLM response against each password.
func (e *Env) NTLMCandidates(host, domain, user string) []NTLMCandidate {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.ntlmCandidatesLocked(host, domain, user)
}

func (e *Env) ntlmCandidatesLocked(host, domain, user string) []NTLMCandidate {
	var out []NTLMCandidate
	add := func(key string, kind AccountKind) {
		if pw, ok := e.Credentials[key]; ok {
			out = append(out, NTLMCandidate{Identity{Account: key, Kind: kind, Logon: LogonNetwork}, pw})
		}
	}
	u := strings.ToLower(user)
	if name, dom, ok := strings.Cut(u, "@"); ok && domain == "" {
		u, domain = name, dom
	}
	d := strings.ToLower(domain)
	computer, _, _ := strings.Cut(Key(host), ".")
	if (d == "" || d == "." || d == computer) && !e.isDCLocked(host) {
		add(computer+`\`+u, AccountLocal)
	}
	if e.Domain != nil && (d == "" || d == strings.ToLower(e.Domain.NetBIOSName) || d == strings.ToLower(e.Domain.DNSName)) {
		add(strings.ToLower(e.Domain.NetBIOSName)+`\`+u, AccountDomain)
	}
	for _, f := range e.Forests {
		if d != strings.ToLower(f.NetBIOSName) && d != strings.ToLower(f.DNSName) {
			continue
		}
		if e.Domain == nil || e.Domain.Trusts == nil {
			continue
		}
		t := e.Domain.Trusts[Key(f.DNSName)]
		if t == nil || t.Direction&adnames.TrustDirectionOutbound == 0 {
			continue // PRIV does not trust this forest: its accounts cannot log on here
		}
		add(strings.ToLower(f.NetBIOSName)+`\`+u, AccountTrusted)
	}
	return out
}
