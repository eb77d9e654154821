package model

import (
	"fmt"
	"sort"
	"strings"
	"time"
)

// What SQL Server's catalog views and server functions show of an instance,
// for the lab's T-SQL engine (internal/lab/tdssim/tsql), and the DDL it runs.

// SQL Server versions the lab can install: RTM builds (ProductVersion).
const (
	SQL2019Version = "15.0.2000.5"
	SQL2022Version = "16.0.1000.6"
)

// SQLVersionForRelease maps a release year ("2019", "2022") or a
// ProductVersion to a ProductVersion the lab knows.
func SQLVersionForRelease(release string) (string, error) {
	switch release {
	case "", "2019", SQL2019Version:
		return SQL2019Version, nil
	case "2022", SQL2022Version:
		return SQL2022Version, nil
	}
	return "", fmt.Errorf("model: SQL Server %q: want 2019 or 2022", release)
}

// sqlBuilds are each RTM build's compile date as @@VERSION prints it.
// https://learn.microsoft.com/sql/t-sql/functions/version-transact-sql-configuration-functions
var sqlBuilds = map[string]struct{ year, built string }{
	SQL2019Version: {"2019", "Sep 24 2019 13:48:23"},
	SQL2022Version: {"2022", "Oct  8 2022 05:58:25"},
}

// VersionBanner is @@VERSION: product, level, version, build date,
// copyright, edition and the operating system of the owner node.
func (e *Env) VersionBanner(s *SQLInstance) string {
	e.sqlDefaults(s)
	b, ok := sqlBuilds[s.Version]
	if !ok {
		major, _, _ := strings.Cut(s.Version, ".")
		b.year = map[string]string{"15": "2019", "16": "2022"}[major]
		b.built = "Jan  1 2024 00:00:00"
	}
	return fmt.Sprintf("Microsoft SQL Server %s (RTM) - %s (X64) \n\t%s \n\tCopyright (C) %s Microsoft Corporation\n\t%s on Windows Server 2022 Datacenter 10.0 <X64> (Build 20348: ) (Hypervisor)\n",
		b.year, s.Version, b.built, b.year, s.Edition)
}

// ServerPrincipal is a row of sys.server_principals.
type ServerPrincipal struct {
	Name            string
	PrincipalID     int
	Type            string // S, U, G or R
	TypeDesc        string
	Disabled        bool
	Created         time.Time
	DefaultDatabase string // "" for a role
	FixedRole       bool
	// SQL logins only (sys.sql_logins).
	PolicyChecked, ExpirationChecked bool
}

var principalTypes = map[string]string{LoginSQL: "S", LoginWindows: "U", LoginWindowsGroup: "G"}

// ServerPrincipals returns sys.server_principals as caller sees it: its own
// login, the system logins (sa, NT ...) and the fixed server roles; every
// login with ALTER ANY LOGIN. Callers hold the lock.
// https://learn.microsoft.com/sql/relational-databases/system-catalog-views/sys-server-principals-transact-sql
func (e *Env) ServerPrincipals(s *SQLInstance, caller *SQLLogin) []ServerPrincipal {
	e.sqlDefaults(s)
	var out []ServerPrincipal
	for _, l := range s.Logins {
		system := l.PrincipalID < 256 || strings.HasPrefix(strings.ToUpper(l.Name), `NT `)
		if l != caller && !system && !caller.canAlterAnyLogin() {
			continue
		}
		out = append(out, ServerPrincipal{
			Name: l.Name, PrincipalID: l.PrincipalID, Type: principalTypes[l.Type], TypeDesc: l.Type,
			Disabled: l.Disabled, Created: l.Created, DefaultDatabase: l.DefaultDatabase,
			PolicyChecked: l.Type == LoginSQL, ExpirationChecked: false,
		})
	}
	for name, id := range FixedServerRoles {
		out = append(out, ServerPrincipal{Name: name, PrincipalID: id, Type: "R", TypeDesc: "SERVER_ROLE", FixedRole: name != "public", Created: time.Date(2003, 4, 8, 9, 10, 35, 0, time.UTC)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].PrincipalID < out[j].PrincipalID })
	return out
}

// ServerRoleMembers returns sys.server_role_members (role, member
// principal_id) as caller sees it: its own memberships, every membership
// for a member of securityadmin or sysadmin. Callers hold the lock.
func (e *Env) ServerRoleMembers(s *SQLInstance, caller *SQLLogin) [][2]int {
	e.sqlDefaults(s)
	var out [][2]int
	for _, l := range s.Logins {
		if l != caller && !caller.canAlterAnyLogin() {
			continue
		}
		for r := range l.Roles {
			if id, ok := FixedServerRoles[r]; ok {
				out = append(out, [2]int{id, l.PrincipalID})
			}
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i][0] != out[j][0] {
			return out[i][0] < out[j][0]
		}
		return out[i][1] < out[j][1]
	})
	return out
}

// HasServerPermission reports a server permission of caller (sysadmin holds all).
func (l *SQLLogin) HasServerPermission(permission string) bool {
	switch strings.ToUpper(permission) {
	case "VIEW SERVER STATE":
		return l.canViewServerState()
	case "ALTER ANY LOGIN":
		return l.canAlterAnyLogin()
	case "CONNECT SQL":
		return l != nil
	case "VIEW ANY DATABASE":
		return l != nil // granted to public by default
	}
	return l.IsSysadmin()
}

// SortedDatabases returns the instance's database names, master first as
// sys.databases orders them (database_id), then by name. Callers hold the lock.
func (s *SQLInstance) SortedDatabases() []string {
	system := []string{"master", "tempdb", "model", "msdb"}
	var out []string
	for _, d := range system {
		if s.Databases[d] {
			out = append(out, d)
		}
	}
	var user []string
	for d := range s.Databases {
		if !containsFold(system, d) {
			user = append(user, d)
		}
	}
	sort.Strings(user)
	return append(out, user...)
}

// SQLServiceRow is a row of sys.dm_server_services.
type SQLServiceRow struct {
	ServiceName, StartupTypeDesc, StatusDesc, Account, Filename, ClusterNode string
	StartupType, Status, ProcessID                                           int
	Clustered                                                                bool
}

// ServerServices returns sys.dm_server_services: the instance's engine and
// agent services on the owner node. Callers hold the lock.
func (e *Env) ServerServices(s *SQLInstance) []SQLServiceRow {
	e.sqlDefaults(s)
	o := s.Owner()
	if o == nil {
		return nil
	}
	h := e.Host(o.Host)
	names := sqlServiceNames(s.InstanceName)
	binn := fmt.Sprintf(`C:\Program Files\Microsoft SQL Server\%s.%s\MSSQL\Binn\`, sqlDirVersion(s.Version), s.InstanceID)
	var out []SQLServiceRow
	for i, n := range names {
		row := SQLServiceRow{ServiceName: fmt.Sprintf("SQL Server (%s)", s.InstanceName), Account: s.SQLServiceAccount,
			Filename: `"` + binn + `sqlservr.exe" -s` + s.InstanceName, Clustered: s.Clustered, StartupType: 3, StartupTypeDesc: "Manual",
			Status: 4, StatusDesc: "Running", ProcessID: 4000 + i*100}
		if i == 1 {
			row.ServiceName = fmt.Sprintf("SQL Server Agent (%s)", s.InstanceName)
			row.Account = s.AgentServiceAccount
			row.Filename = `"` + binn + `SQLAGENT.EXE" -i ` + s.InstanceName
		}
		if row.Account == "" {
			row.Account = `NT Service\` + n
		}
		if h != nil {
			if svc := h.Service(n); svc != nil && svc.Status != "Running" {
				row.Status, row.StatusDesc, row.ProcessID = 1, "Stopped", 0
			}
		}
		if s.Clustered {
			row.ClusterNode = e.NetBIOS(o.Host)
		}
		out = append(out, row)
	}
	return out
}

// CreateSQLLogin is CREATE LOGIN name WITH PASSWORD: a SQL Server
// authentication login (its password kept in Credentials). Callers hold the lock.
func (e *Env) CreateSQLLogin(s *SQLInstance, caller *SQLLogin, name, password, defaultDB string) *SQLError {
	e.sqlDefaults(s)
	if !caller.canAlterAnyLogin() {
		return sqlErr(15247, 16, "User does not have permission to perform this action.")
	}
	if _, ok := s.Logins[strings.ToLower(name)]; ok {
		return sqlErr(15025, 16, "The server principal '%s' already exists.", name)
	}
	if strings.ContainsAny(name, `\`) {
		return sqlErr(15006, 16, "'%s' is not a valid name because it contains invalid characters.", name)
	}
	// CHECK_POLICY is on by default: Windows' complexity rules apply.
	if len(password) < 8 {
		return sqlErr(15118, 16, "Password validation failed. The password does not meet the operating system policy requirements because it is not complex enough.")
	}
	l := s.addLogin(e, name, LoginSQL)
	if defaultDB != "" {
		l.DefaultDatabase = defaultDB
	}
	e.Credentials[strings.ToLower(name)] = password
	e.Record(s.NetworkName, "sql-login-created", name)
	return nil
}

// AlterLogin is ALTER LOGIN: ENABLE/DISABLE, PASSWORD, DEFAULT_DATABASE. Callers hold the lock.
func (e *Env) AlterLogin(s *SQLInstance, caller *SQLLogin, name string, enable *bool, password *string, defaultDB string) *SQLError {
	e.sqlDefaults(s)
	l := s.Logins[strings.ToLower(name)]
	self := l != nil && l == caller && enable == nil && defaultDB == ""
	if l == nil || (!caller.canAlterAnyLogin() && !self) {
		return sqlErr(15151, 16, "Cannot alter the login '%s', because it does not exist or you do not have permission.", name)
	}
	if enable != nil {
		l.Disabled = !*enable
	}
	if password != nil {
		if l.Type != LoginSQL {
			return sqlErr(15080, 16, "Cannot use parameter PASSWORD for a Windows login.")
		}
		e.Credentials[strings.ToLower(l.Name)] = *password
	}
	if defaultDB != "" {
		l.DefaultDatabase = defaultDB
	}
	return nil
}

// UseDatabase resolves USE name: the database's own spelling, or 911. Callers hold the lock.
func (s *SQLInstance) UseDatabase(name string) (string, *SQLError) {
	if !s.Databases[Key(name)] {
		return "", sqlErr(911, 16, "Database '%s' does not exist. Make sure that the name is entered correctly.", name)
	}
	return Key(name), nil
}

// SQLLogEntry is a line of SQL Server's error log (ERRORLOG).
type SQLLogEntry struct {
	Time        time.Time
	ProcessInfo string // "Logon", "Server", "spid51", ...
	Text        string
}

// loginFailureState is the state SQL Server writes to its error log for a
// failed SQL Server authentication login, with its reason (the client only
// ever sees state 1); 0 when the login succeeds. Windows-only mode (state
// 58) is not enforced: the lab's SQL login stands in for the provider's
// Windows identity, which the lab cannot authenticate over TDS.
// https://learn.microsoft.com/sql/relational-databases/errors-events/mssqlserver-18456-database-engine-error
func loginFailureState(l *SQLLogin, passwordOK bool) (uint8, string) {
	switch {
	case l == nil:
		return 5, "Could not find a login matching the name provided."
	case l.Type != LoginSQL:
		return 6, "Attempting to use an NT account name with SQL Server Authentication."
	case l.Disabled:
		return 7, "The account is disabled."
	case !passwordOK:
		return 8, "Password did not match that for the login provided."
	}
	return 0, ""
}

func (e *Env) logLoginFailure(s *SQLInstance, user string, state uint8, reason string) {
	now := e.Now()
	s.errorLog = append(s.errorLog,
		SQLLogEntry{Time: now, ProcessInfo: "Logon", Text: fmt.Sprintf("Error: 18456, Severity: 14, State: %d.", state)},
		SQLLogEntry{Time: now, ProcessInfo: "Logon", Text: fmt.Sprintf("Login failed for user '%s'. Reason: %s [CLIENT: 127.0.0.1]", user, reason)},
	)
	if len(s.errorLog) > 1000 {
		s.errorLog = s.errorLog[len(s.errorLog)-1000:]
	}
}

// ErrorLog returns the instance's error log, oldest first. Callers hold the lock.
func (s *SQLInstance) ErrorLog() []SQLLogEntry { return append([]SQLLogEntry(nil), s.errorLog...) }
