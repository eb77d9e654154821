package model

import (
	"errors"
	"strings"
)

// The second hop: what a step on one host may reach on another.
//
// A WinRM session authenticated with NTLM (or Kerberos without delegation)
// is a network logon: it proves who the caller is to this host but holds
// nothing it could present to a third machine. Whatever such a step asks of
// another machine reaches it as ANONYMOUS LOGON and is refused there
// (Microsoft, "Making the second hop in PowerShell Remoting",
// MicrosoftDocs/PowerShell-Docs reference/docs-conceptual/security/remoting/
// PS-remoting-second-hop.md). The step gets through when it authenticates
// afresh with an explicit credential (a cmdlet's -Credential), when it runs
// under the account's own logon (a scheduled task registered with the
// password is a batch logon, LogonUser's LOGON32_LOGON_BATCH), or when the
// target allows delegation from the first host (resource-based constrained
// delegation: msDS-AllowedToActOnBehalfOfOtherIdentity on the target's
// computer object).

// LogonExplicit (type 9, LOGON32_LOGON_NEW_CREDENTIALS) is a step that
// authenticates to the other machine with a credential it was given
// (-Credential, DirectoryContext with a user and password, a thread
// impersonating LogonUserW's NEW_CREDENTIALS token: NewCredentials): the local
// session is unchanged, the remote side sees the named account.
const LogonExplicit LogonType = "NewCredentials"

// HopKind is the protocol a step uses to reach another machine; it decides
// which error Windows shows when the hop fails.
type HopKind string

const (
	// HopSQL is a connection to SQL Server with Windows authentication (SSPI).
	HopSQL HopKind = "sql"
	// HopDirectory is LDAP through System.DirectoryServices (ADSI), as the
	// .NET ActiveDirectory classes and the MIMPAM cmdlets use it.
	HopDirectory HopKind = "directory"
	// HopADWS is an ActiveDirectory module cmdlet (Active Directory Web
	// Services on the DC, TCP 9389).
	HopADWS HopKind = "adws"
	// HopCluster is a failover cluster operation (WMI and cluster RPC on
	// every node), as SQL Server setup's cluster actions make.
	HopCluster HopKind = "cluster"
	// HopShare is a file on a UNC path (SMB).
	HopShare HopKind = "share"
	// HopLSA is an LSA policy call on another machine (MS-LSAD over RPC:
	// LsaOpenPolicy with a server name), as netdom trust makes them.
	HopLSA HopKind = "lsa"
)

// Hop is one reach from a host to another machine.
type Hop struct {
	Kind HopKind
	// Target is the other machine's host name (FQDN or computer name); for
	// HopSQL it may be an instance's network name.
	Target string
	// Path is the UNC path of a HopShare.
	Path string
}

// HopError is what the step sees when Windows refuses the second hop: the
// .NET exception type, the message and, where there is one, the error number.
type HopError struct {
	Hop     Hop
	Type    string
	Message string
	Code    int
}

func (e *HopError) Error() string { return e.Message }

// Windows' answers to a step that reached another machine as ANONYMOUS LOGON.
const (
	// SQL Server error 18456. Microsoft CSS SQL Networking Tools wiki,
	// "0600 Credential Delegation Issue", typical error messages.
	msgSQLAnonymous = "Login failed for user 'NT AUTHORITY\\ANONYMOUS LOGON'."
	// ERROR_DS_OPERATIONS_ERROR (8224, 0x2020), the DirectoryServicesCOMException
	// of an ADSI bind without credentials. Microsoft, System Error Codes
	// (8200-8999).
	msgDirectoryOperations = "An operations error occurred."
	// ADServerDownException of the ActiveDirectory module.
	msgADWSDown = "Unable to contact the server. This may be because this server does not exist, it is currently down, or it does not have the Active Directory Web Services running."
	// SQL Server setup's rule for cluster actions run without a logon that
	// reaches the nodes: ansible/ansible #49645 and #72514, dsccommunity/
	// SqlServerDsc #345 (RulesEngineRuleFailureException, HResult 0x84be0bbc).
	msgClusterWMI = "The WMI service is not running on the cluster node."
	// CodeClusterWMI is setup.exe's exit code for that rule failure
	// (0x84BE0BBC as a signed 32-bit integer), as setup printed it in #72514.
	CodeClusterWMI = -2067919940
	// ERROR_BAD_NETPATH (53). Microsoft, System Error Codes (0-499).
	msgBadNetPath = "The network path was not found."
	// ERROR_ACCESS_DENIED (5), what LsaNtStatusToWinError makes of
	// STATUS_ACCESS_DENIED: LsarOpenPolicy2 checks the access asked for
	// against the policy object's security descriptor (MS-LSAD 3.1.4.4.1),
	// which gives ANONYMOUS LOGON no POLICY_TRUST_ADMIN.
	msgAccessDenied = "Access is denied."
)

// AllowDelegation models resource-based constrained delegation: target's
// computer object lists from in msDS-AllowedToActOnBehalfOfOtherIdentity
// (Set-ADComputer target -PrincipalsAllowedToDelegateToAccount from).
func (e *Env) AllowDelegation(target, from string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	h := e.hostByName(target)
	if h == nil {
		return
	}
	if h.DelegationFrom == nil {
		h.DelegationFrom = map[string]bool{}
	}
	h.DelegationFrom[strings.ToLower(computerOf(from))] = true
}

// computerOf is the computer name of a host name ("priv-app1" of
// "priv-app1.priv.contoso.test").
func computerOf(name string) string {
	c, _, _ := strings.Cut(Key(name), ".")
	return c
}

// hostByName finds a host by FQDN or computer name. Callers hold the lock.
func (e *Env) hostByName(name string) *Host {
	if h := e.Host(name); h != nil {
		return h
	}
	c := computerOf(name)
	for _, h := range e.Hosts {
		if strings.EqualFold(h.ComputerName, c) {
			return h
		}
	}
	return nil
}

// hopTarget is the machine a hop lands on: a SQL instance's owner node for
// an instance's network name, a UNC path's server, else the named host.
func (e *Env) hopTarget(to Hop) *Host {
	name := to.Target
	if to.Kind == HopShare && name == "" {
		name = uncServer(to.Path)
	}
	if to.Kind == HopSQL {
		server, _, _ := strings.Cut(name, `\`) // HOST\INSTANCE
		if s := e.SQL[Key(server)]; s != nil {
			if o := s.Owner(); o != nil {
				return e.Host(o.Host)
			}
		}
		name = server
	}
	return e.hostByName(name)
}

// uncServer is the server of \\server\share\..., "" for any other path.
func uncServer(path string) string {
	rest, ok := strings.CutPrefix(strings.ReplaceAll(path, "/", `\`), `\\`)
	if !ok {
		return ""
	}
	server, _, _ := strings.Cut(rest, `\`)
	return server
}

// IsUNC reports whether path is a UNC path (\\server\share\...).
func IsUNC(path string) bool { return uncServer(path) != "" }

// Reach decides whether a step running on from as who may use another
// machine: nil when it may (the target is from itself, the logon can
// hop, or the target allows delegation from this host), else the
// *HopError Windows shows. Callers hold the lock (handlers run inside Do).
func (e *Env) Reach(from *Host, who Identity, to Hop) error {
	target := e.hopTarget(to)
	if target != nil && from != nil && target == from {
		return nil // local: no second machine
	}
	if target == nil && to.Kind == HopShare {
		return &HopError{Hop: to, Type: "System.IO.IOException", Message: msgBadNetPath, Code: 53}
	}
	switch who.Logon {
	case LogonBatch, LogonExplicit:
		if who.Kind != AccountLocal {
			return nil
		}
		// A local account's own logon is unknown to every other machine.
		return e.hopRefused(to, who.Account)
	case LogonNetwork:
		if target != nil && from != nil && target.DelegationFrom[strings.ToLower(from.ComputerName)] {
			return nil
		}
	}
	return e.hopRefused(to, `NT AUTHORITY\ANONYMOUS LOGON`)
}

// hopRefused is the error of a hop that reached the target as account.
func (e *Env) hopRefused(to Hop, account string) error {
	switch to.Kind {
	case HopSQL:
		msg := msgSQLAnonymous
		if account != `NT AUTHORITY\ANONYMOUS LOGON` {
			msg = "Login failed for user '" + account + "'."
		}
		return &HopError{Hop: to, Type: "System.Data.SqlClient.SqlException", Message: msg, Code: 18456}
	case HopDirectory:
		return &HopError{Hop: to, Type: "System.DirectoryServices.DirectoryServicesCOMException", Message: msgDirectoryOperations, Code: 8224}
	case HopADWS:
		return &HopError{Hop: to, Type: "Microsoft.ActiveDirectory.Management.ADServerDownException", Message: msgADWSDown}
	case HopCluster:
		return &HopError{Hop: to, Type: "Microsoft.SqlServer.Configuration.RulesEngineExtension.RulesEngineRuleFailureException", Message: msgClusterWMI, Code: CodeClusterWMI}
	case HopLSA:
		return &HopError{Hop: to, Type: "System.ComponentModel.Win32Exception", Message: msgAccessDenied, Code: 5}
	default: // HopShare
		return &HopError{Hop: to, Type: "System.UnauthorizedAccessException", Message: "Access to the path '" + to.Path + "' is denied.", Code: 5}
	}
}

// ReadPath reads a file as a step running on from as who: a local path
// from the host's own files, a UNC path from the share's server (kept in
// that host's Files under the full UNC path) after the hop is allowed.
func (e *Env) ReadPath(from *Host, who Identity, path string) ([]byte, error) {
	if !IsUNC(path) {
		b, ok := from.ReadFile(path)
		if !ok {
			return nil, errFileNotFound
		}
		return b, nil
	}
	if err := e.Reach(from, who, Hop{Kind: HopShare, Path: path}); err != nil {
		return nil, err
	}
	b, ok := e.openPath(from, path)
	if !ok {
		return nil, errFileNotFound
	}
	return b, nil
}

// openPath reads a file for a step on from that ReadPath (or Reach) has
// already let through: the host's own files, or a UNC path's server's.
// Callers hold the lock.
func (e *Env) openPath(from *Host, path string) ([]byte, bool) {
	if !IsUNC(path) {
		return from.ReadFile(path)
	}
	server := e.hopTarget(Hop{Kind: HopShare, Path: path})
	if server == nil {
		return nil, false
	}
	return server.ReadFile(path)
}

type fileNotFound struct{}

func (fileNotFound) Error() string { return "The system cannot find the file specified." }

// errFileNotFound is ERROR_FILE_NOT_FOUND (2).
var errFileNotFound error = fileNotFound{}

// IsFileNotFound reports whether err is ReadPath's "no such file".
func IsFileNotFound(err error) bool { return errors.Is(err, errFileNotFound) }

// BatchLogon is LogonUser(LOGON32_LOGON_BATCH) as the Task Scheduler makes
// it for a task registered with a password: the account's own logon on
// host, which reaches other machines as that account. The name is
// DOMAIN\user, user@domain, or a bare name (the host's SAM first, then the
// domain), as NTLM resolves it; a DC has no SAM accounts. A wrong name or
// password is ERROR_LOGON_FAILURE, which RegisterTaskDefinition returns.
func (e *Env) BatchLogon(host, user, password string) (Identity, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.BatchLogonHeld(host, user, password)
}

// BatchLogonHeld is BatchLogon for callers that hold the lock (handlers).
func (e *Env) BatchLogonHeld(host, user, password string) (Identity, error) {
	domain, name, ok := strings.Cut(user, `\`)
	if !ok {
		domain, name = "", user
	}
	for _, c := range e.ntlmCandidatesLocked(host, domain, name) {
		if c.Password == password && password != "" {
			id := c.Identity
			id.Logon = LogonBatch
			return id, nil
		}
	}
	return Identity{}, ErrLogonFailure
}
