package model

import (
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"
)

// SQL Server in the lab: failover cluster instances reached through their
// network name, their nodes, storage, logins and server roles, the setup.exe
// actions that build them (InstallFailoverCluster, AddNode, RemoveNode) and the
// cluster events that move them (failover, eviction). The TDS simulator reads
// and changes this state; the WinRM handlers run setup against it.

// Defaults of an instance the seed creates without details, and of setup media.
const (
	// DefaultSQLVersion is SQL Server 2019 RTM's ProductVersion.
	DefaultSQLVersion   = "15.0.2000.5"
	DefaultSQLEdition   = "Enterprise Edition (64-bit)"
	DefaultSQLCollation = "SQL_Latin1_General_CP1_CI_AS"
	// DefaultSQLMediaPath is the folder holding setup.exe on a lab host.
	DefaultSQLMediaPath = `C:\Sources\SQL2019`
	// DefaultSQLSetupPath is setup.exe in DefaultSQLMediaPath.
	DefaultSQLSetupPath = DefaultSQLMediaPath + `\setup.exe`
	// DefaultSQLInstance is SQL Server's name for the default instance.
	DefaultSQLInstance = "MSSQLSERVER"
)

// SQLMedia is the content of a simulated setup.exe: the lab's setup handler
// reads the version from it.
func SQLMedia(version string) []byte {
	return []byte("simulated SQL Server setup version=" + version)
}

// Login types as sys.server_principals.type_desc names them.
const (
	LoginWindows      = "WINDOWS_LOGIN"
	LoginWindowsGroup = "WINDOWS_GROUP"
	LoginSQL          = "SQL_LOGIN"
)

// Node states of sys.dm_os_cluster_nodes.status.
const (
	NodeUp      = 0
	NodeDown    = 1
	NodePaused  = 2
	NodeJoining = 3
)

// FixedServerRoles are SQL Server's fixed server roles with their principal_id.
var FixedServerRoles = map[string]int{
	"public": 2, "sysadmin": 3, "securityadmin": 4, "serveradmin": 5, "setupadmin": 6,
	"processadmin": 7, "diskadmin": 8, "dbcreator": 9, "bulkadmin": 10,
}

// SQLInstance is a SQL Server instance (a failover cluster instance when
// Clustered), reached through its network name.
type SQLInstance struct {
	NetworkName  string // lower-case FQDN of the network name
	InstanceName string // MSSQLSERVER for the default instance
	Clustered    bool
	Nodes        []*SQLNode
	Databases    map[string]bool

	InstanceID   string
	Version      string // ProductVersion, e.g. 15.0.2000.5
	Edition      string
	Collation    string
	Features     []string // setup FEATURES, upper case; fixed at install for an FCI
	ClusterGroup string   // "SQL Server (<instance>)" unless FAILOVERCLUSTERGROUP said otherwise
	IPAddresses  []string // FAILOVERCLUSTERIPADDRESSES as given
	ClusterDisks []string // FAILOVERCLUSTERDISKS as given
	Dirs         SQLDirs
	// SharedPaths are what sys.dm_io_cluster_valid_path_names lists: the root
	// of each cluster disk or Cluster Shared Volume the instance's group owns.
	SharedPaths []SQLSharedPath
	// Service accounts (DOMAIN\name; a name ending in $ is a (g)MSA).
	SQLServiceAccount   string
	AgentServiceAccount string
	SecurityMode        string // "Windows" or "SQL" (mixed)
	// Logins by lower-case name (SQL Server's default collation is case-insensitive).
	Logins map[string]*SQLLogin
	// SetupRuns are the setup.exe runs against this instance, secrets removed.
	SetupRuns []SQLSetupRun

	// Epoch changes at every failover: connections made before it are dropped.
	Epoch int
	// StartedAt is when the instance last came online (sys.dm_os_sys_info
	// sqlserver_start_time): at install, and on the new owner at every failover.
	StartedAt time.Time

	nextPrincipal    int
	offlineUntil     time.Time // a failover's outage: the network name is offline
	errorLog         []SQLLogEntry
	failedLoginsLeft int
	failLoginsUntil  time.Time
	faults           []*Fault
	latency          time.Duration
	defaulted        bool
}

// SQLNode is one node of a failover cluster instance.
type SQLNode struct {
	Host   string // lower-case FQDN
	Status int    // 0 up, 1 down, 2 paused, 3 joining (sys.dm_os_cluster_nodes)
	Owner  bool
}

// SQLDirs are the instance's directories (setup's INSTALLSQLDATADIR,
// SQLUSERDBDIR, SQLUSERDBLOGDIR, SQLTEMPDBDIR, SQLTEMPDBLOGDIR, SQLBACKUPDIR).
type SQLDirs struct {
	InstallData string
	Data        string
	Log         string
	TempDB      string
	TempDBLog   string
	Backup      string
}

// SQLSharedPath is one row of sys.dm_io_cluster_valid_path_names.
type SQLSharedPath struct {
	Path string
	CSV  bool // a Cluster Shared Volume (is_cluster_shared_volume)
}

// SQLLogin is a server principal (a login; roles are FixedServerRoles).
type SQLLogin struct {
	Name            string
	Type            string // LoginWindows, LoginWindowsGroup or LoginSQL
	PrincipalID     int
	Disabled        bool
	DefaultDatabase string
	// Roles holds the fixed server roles the login is a member of, lower case
	// (public is implicit).
	Roles map[string]bool
	// ViewServerState is the VIEW SERVER STATE grant (sysadmin implies it).
	ViewServerState bool
	Created         time.Time
}

// RoleNames returns the login's fixed server roles, sorted.
func (l *SQLLogin) RoleNames() []string {
	return slices.Sorted(maps.Keys(l.Roles))
}

// SQLError is an error as SQL Server reports it: number, state, class
// (severity) and message. Before holds errors the server sends first (for
// example 300 before 297).
type SQLError struct {
	Number  int32
	State   uint8
	Class   uint8
	Message string
	Before  []SQLError
}

func (e *SQLError) Error() string { return fmt.Sprintf("Msg %d: %s", e.Number, e.Message) }

func sqlErr(number int32, class uint8, format string, args ...any) *SQLError {
	return &SQLError{Number: number, State: 1, Class: class, Message: fmt.Sprintf(format, args...)}
}

// LoginFailed is error 18456 as the client sees it (the reason is only in the server's log).
func LoginFailed(user string) *SQLError {
	return sqlErr(18456, 14, "Login failed for user '%s'.", user)
}

// EnsureDatabase creates a database if it does not exist. Callers hold the lock.
func (s *SQLInstance) EnsureDatabase(name string) {
	if s.Databases == nil {
		s.Databases = map[string]bool{}
	}
	s.Databases[Key(name)] = true
}

// sqlReachable reports whether the instance answers: its owner node is up
// and no failover has the network name offline.
func (e *Env) sqlReachable(s *SQLInstance) bool {
	if e.Now().Before(s.offlineUntil) {
		return false
	}
	for _, n := range s.Nodes {
		if n.Owner {
			h := e.Host(n.Host)
			return h != nil && h.Reachable && n.Status == 0
		}
	}
	return false
}

// SQLInstanceByName returns the instance with the given network name, with its
// defaults filled in, or nil. Callers hold the lock.
func (e *Env) SQLInstanceByName(network string) *SQLInstance {
	s := e.SQL[Key(network)]
	if s != nil {
		e.sqlDefaults(s)
	}
	return s
}

// SQLReachable reports whether the instance exists and its owner node is up. Callers hold the lock.
func (e *Env) SQLReachable(network string) bool {
	s := e.SQL[Key(network)]
	return s != nil && e.sqlReachable(s)
}

// sqlDefaults fills in what an instance created as a bare literal (the seed)
// leaves empty: version, directories on cluster disks E: and F:, the system
// databases and logins (the domain Administrator and the seed's SQL login as
// sysadmin, sa disabled; mixed mode, since the seed's login is a SQL login).
func (e *Env) sqlDefaults(s *SQLInstance) {
	if s.defaulted {
		return
	}
	s.defaulted = true
	if s.InstanceName == "" {
		s.InstanceName = DefaultSQLInstance
	}
	if s.InstanceID == "" {
		s.InstanceID = s.InstanceName
	}
	if s.Version == "" {
		s.Version = DefaultSQLVersion
	}
	if s.Edition == "" {
		s.Edition = DefaultSQLEdition
	}
	if s.Collation == "" {
		s.Collation = DefaultSQLCollation
	}
	if s.Features == nil {
		s.Features = []string{"SQLENGINE", "REPLICATION", "FULLTEXT"}
	}
	if s.ClusterGroup == "" && s.Clustered {
		s.ClusterGroup = "SQL Server (" + s.InstanceName + ")"
	}
	if s.Dirs == (SQLDirs{}) {
		root := fmt.Sprintf(`%s.%s`, sqlDirVersion(s.Version), s.InstanceID)
		s.Dirs = SQLDirs{
			InstallData: `E:\MSSQL`,
			Data:        `E:\MSSQL\` + root + `\MSSQL\Data`,
			Log:         `F:\MSSQL\` + root + `\MSSQL\Log`,
			TempDB:      `E:\MSSQL\` + root + `\MSSQL\TempDB`,
			TempDBLog:   `F:\MSSQL\` + root + `\MSSQL\Log`,
			Backup:      `E:\MSSQL\` + root + `\MSSQL\Backup`,
		}
		if s.Clustered && s.SharedPaths == nil {
			s.SharedPaths = []SQLSharedPath{{Path: `E:\`}, {Path: `F:\`}}
			s.ClusterDisks = []string{"Cluster Disk 1", "Cluster Disk 2"}
		}
	}
	if s.SecurityMode == "" {
		s.SecurityMode = "SQL"
	}
	for _, db := range []string{"master", "model", "msdb", "tempdb"} {
		s.EnsureDatabase(db)
	}
	if s.Logins == nil {
		s.Logins = map[string]*SQLLogin{}
		s.addSystemLogins(e, false)
		s.addLogin(e, AdminUser, LoginWindows, "sysadmin")
		if _, ok := e.Credentials[strings.ToLower(SQLLoginUser)]; ok {
			s.addLogin(e, SQLLoginUser, LoginSQL, "sysadmin")
		}
	}
}

func (s *SQLInstance) addSystemLogins(e *Env, saEnabled bool) {
	sa := &SQLLogin{Name: "sa", Type: LoginSQL, PrincipalID: 1, Disabled: !saEnabled, DefaultDatabase: "master", Roles: map[string]bool{"sysadmin": true}, Created: e.Now()}
	s.Logins["sa"] = sa
	if s.nextPrincipal < 256 {
		s.nextPrincipal = 256
	}
	for _, name := range []string{`NT AUTHORITY\SYSTEM`, `NT SERVICE\SQLWriter`, `NT SERVICE\Winmgmt`} {
		s.addLogin(e, name, LoginWindows, "")
	}
	s.Logins[Key(`NT SERVICE\SQLWriter`)].Roles["sysadmin"] = true
	s.Logins[Key(`NT SERVICE\Winmgmt`)].Roles["sysadmin"] = true
}

func (s *SQLInstance) addLogin(e *Env, name, typ string, roles ...string) *SQLLogin {
	if s.Logins == nil {
		s.Logins = map[string]*SQLLogin{}
	}
	if s.nextPrincipal < 256 {
		s.nextPrincipal = 256
	}
	l := &SQLLogin{Name: name, Type: typ, PrincipalID: s.nextPrincipal, DefaultDatabase: "master", Roles: map[string]bool{}, Created: e.Now()}
	s.nextPrincipal++
	for _, r := range roles {
		if r != "" {
			l.Roles[strings.ToLower(r)] = true
		}
	}
	s.Logins[strings.ToLower(name)] = l
	return l
}

// sqlDirVersion is the MSSQL<nn> prefix of an instance's folder: 15.x -> MSSQL15.
func sqlDirVersion(version string) string {
	major, _, _ := strings.Cut(version, ".")
	return "MSSQL" + major
}

// Owner returns the owner node, or nil.
func (s *SQLInstance) Owner() *SQLNode {
	for _, n := range s.Nodes {
		if n.Owner {
			return n
		}
	}
	return nil
}

// Node returns the node on host, or nil.
func (s *SQLInstance) Node(host string) *SQLNode {
	k := Key(host)
	for _, n := range s.Nodes {
		if n.Host == k {
			return n
		}
	}
	return nil
}

// NetBIOS returns a host's computer name as SQL Server shows it (upper case).
func (e *Env) NetBIOS(fqdn string) string {
	if h := e.Host(fqdn); h != nil {
		return h.ComputerName
	}
	return strings.ToUpper(strings.SplitN(Key(fqdn), ".", 2)[0])
}

// Reads for the TDS simulator -------------------------------------------------

// SQLServerProperties are the SERVERPROPERTY values the adapter reads.
type SQLServerProperties struct {
	IsClustered    bool
	PhysicalNode   string // ComputerNamePhysicalNetBIOS: the current owner
	InstanceName   string // "" (NULL) for the default instance, as SQL Server returns it
	ProductVersion string
	ServerName     string // @@SERVERNAME: NETWORKNAME or NETWORKNAME\INSTANCE
	MachineName    string // the network name's NetBIOS name
	Edition        string
}

// ServerProperties returns the instance's SERVERPROPERTY values. Callers hold the lock.
func (e *Env) ServerProperties(s *SQLInstance) SQLServerProperties {
	e.sqlDefaults(s)
	machine := strings.ToUpper(strings.SplitN(s.NetworkName, ".", 2)[0])
	p := SQLServerProperties{IsClustered: s.Clustered, ProductVersion: s.Version, MachineName: machine, ServerName: machine, Edition: s.Edition}
	if !strings.EqualFold(s.InstanceName, DefaultSQLInstance) {
		p.InstanceName = s.InstanceName
		p.ServerName = machine + `\` + s.InstanceName
	}
	if o := s.Owner(); o != nil {
		p.PhysicalNode = e.NetBIOS(o.Host)
	}
	return p
}

// SQLClusterNode is one row of sys.dm_os_cluster_nodes.
type SQLClusterNode struct {
	NodeName       string
	Status         int
	IsCurrentOwner bool
}

// StatusDescription is sys.dm_os_cluster_nodes.status_description.
func (n SQLClusterNode) StatusDescription() string {
	switch n.Status {
	case NodeUp:
		return "up"
	case NodeDown:
		return "down"
	case NodePaused:
		return "paused"
	case NodeJoining:
		return "joining"
	}
	return "unknown"
}

// ClusterNodes returns sys.dm_os_cluster_nodes (empty when not an FCI), by node name. Callers hold the lock.
func (e *Env) ClusterNodes(s *SQLInstance) []SQLClusterNode {
	if !s.Clustered {
		return nil
	}
	out := make([]SQLClusterNode, 0, len(s.Nodes))
	for _, n := range s.Nodes {
		status := n.Status
		if h := e.Host(n.Host); h == nil || !h.Reachable {
			status = NodeDown
		}
		out = append(out, SQLClusterNode{NodeName: e.NetBIOS(n.Host), Status: status, IsCurrentOwner: n.Owner})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].NodeName < out[j].NodeName })
	return out
}

// SQLValidPath is one row of sys.dm_io_cluster_valid_path_names.
type SQLValidPath struct {
	PathName              string
	ClusterOwnerNode      string
	IsClusterSharedVolume bool
}

// ValidPaths returns sys.dm_io_cluster_valid_path_names, by path. Callers hold the lock.
func (e *Env) ValidPaths(s *SQLInstance) []SQLValidPath {
	e.sqlDefaults(s)
	if !s.Clustered {
		return nil
	}
	owner := ""
	if o := s.Owner(); o != nil {
		owner = e.NetBIOS(o.Host)
	}
	out := make([]SQLValidPath, 0, len(s.SharedPaths))
	for _, p := range s.SharedPaths {
		out = append(out, SQLValidPath{PathName: p.Path, ClusterOwnerNode: owner, IsClusterSharedVolume: p.CSV})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].PathName < out[j].PathName })
	return out
}

// Authentication and permissions ---------------------------------------------

// AuthenticateSQL checks a SQL Server authentication login against the
// instance: the failover window first (18456 while it lasts), then the login
// (an enabled SQL login whose password is in Credentials). It returns the
// login and the instance's epoch. Callers hold the lock.
func (e *Env) AuthenticateSQL(s *SQLInstance, user, password string) (*SQLLogin, int, *SQLError) {
	e.sqlDefaults(s)
	if s.failedLoginsLeft > 0 {
		s.failedLoginsLeft--
		return nil, 0, LoginFailed(user)
	}
	if e.Now().Before(s.failLoginsUntil) {
		return nil, 0, LoginFailed(user)
	}
	l := s.Logins[strings.ToLower(user)]
	want, ok := e.Credentials[strings.ToLower(user)]
	if state, reason := loginFailureState(l, ok && want == password); state != 0 {
		e.logLoginFailure(s, user, state, reason)
		return nil, 0, LoginFailed(user)
	}
	return l, s.Epoch, nil
}

// IsSysadmin reports membership of sysadmin.
func (l *SQLLogin) IsSysadmin() bool { return l != nil && l.Roles["sysadmin"] }

func (l *SQLLogin) canViewServerState() bool {
	return l.IsSysadmin() || (l != nil && l.ViewServerState)
}

func (l *SQLLogin) canAlterAnyLogin() bool {
	return l.IsSysadmin() || (l != nil && l.Roles["securityadmin"])
}

// CheckViewServerState returns SQL Server's errors 300 and 297 when caller
// lacks VIEW SERVER STATE (needed for the cluster DMVs).
func CheckViewServerState(caller *SQLLogin) *SQLError {
	if caller.canViewServerState() {
		return nil
	}
	e := sqlErr(297, 16, "The user does not have permission to perform this action.")
	e.Before = []SQLError{*sqlErr(300, 14, "VIEW SERVER STATE permission was denied on object 'server', database 'master'.")}
	return e
}

// LoginRow is what sys.server_principals shows of a login, with its roles.
type LoginRow struct {
	Name            string
	Type            string
	PrincipalID     int
	Disabled        bool
	DefaultDatabase string
	Roles           []string // sorted, without public
}

// ReadLogin returns a login as caller can see it: logins other than the
// caller's own are visible only with ALTER ANY LOGIN (or sysadmin). Callers hold the lock.
func (e *Env) ReadLogin(s *SQLInstance, caller *SQLLogin, name string) (LoginRow, bool) {
	e.sqlDefaults(s)
	l := s.Logins[strings.ToLower(name)]
	if l == nil || (l != caller && !caller.canAlterAnyLogin()) {
		return LoginRow{}, false
	}
	return LoginRow{Name: l.Name, Type: l.Type, PrincipalID: l.PrincipalID, Disabled: l.Disabled, DefaultDatabase: l.DefaultDatabase, Roles: l.RoleNames()}, true
}

// CreateWindowsLogin is CREATE LOGIN [name] FROM WINDOWS. Callers hold the lock.
func (e *Env) CreateWindowsLogin(s *SQLInstance, caller *SQLLogin, name string) *SQLError {
	e.sqlDefaults(s)
	if !caller.canAlterAnyLogin() {
		return sqlErr(15247, 16, "User does not have permission to perform this action.")
	}
	account, err := e.lookupWindowsAccount(name)
	if err != nil {
		return err
	}
	// One login per account, whichever form of the domain name created it.
	for _, l := range s.Logins {
		if l.Type == LoginWindows && strings.EqualFold(e.accountKey(l.Name), account) {
			return sqlErr(15025, 16, "The server principal '%s' already exists.", name)
		}
	}
	if _, ok := s.Logins[strings.ToLower(name)]; ok {
		return sqlErr(15025, 16, "The server principal '%s' already exists.", name)
	}
	s.addLogin(e, name, LoginWindows)
	e.Record(s.NetworkName, "sql-login-created", name)
	return nil
}

// Characters Windows never allows in an account name: a lookup of such a name fails.
const badAccountChars = "\"/\\[]:;|=,+*?<>@"

// Domains whose accounts live on the SQL Server host itself, not in the
// directory: the lab accepts any name in them.
var localAuthorities = map[string]bool{"nt authority": true, "nt service": true, "builtin": true}

// checkWindowsName emulates the domain part of the SID lookup SQL Server does
// for a Windows name: DOMAIN\name with a domain it knows (PRIV, or a forest
// PRIV trusts, by NetBIOS or DNS name) and a name Windows allows.
func (e *Env) checkWindowsName(name string) *SQLError {
	domain, user, ok := strings.Cut(name, `\`)
	if !ok || domain == "" || user == "" {
		return sqlErr(15407, 16, "'%s' is not a valid Windows NT name. Give the complete name: <domain\\username>.", name)
	}
	if (!localAuthorities[strings.ToLower(domain)] && e.resolvableDomain(domain) == nil) || strings.ContainsAny(user, badAccountChars) || len([]rune(name)) > 128 {
		return errAccountNotFound(name)
	}
	return nil
}

// lookupWindowsAccount is the whole lookup CREATE LOGIN ... FROM WINDOWS does
// (LookupAccountName): the domain must resolve and the account must exist in
// its directory. It returns the account as NETBIOS\sam, lower case.
func (e *Env) lookupWindowsAccount(name string) (string, *SQLError) {
	if err := e.checkWindowsName(name); err != nil {
		return "", err
	}
	domain, user, _ := strings.Cut(name, `\`)
	if localAuthorities[strings.ToLower(domain)] {
		return strings.ToLower(name), nil
	}
	if d := e.resolvableDomain(domain); !e.HasAccount(d, user) {
		return "", errAccountNotFound(name)
	}
	return e.accountKey(name), nil
}

// errAccountNotFound is Msg 15401, State 1, with the text of Microsoft's
// "Database engine events and errors (15000 to 15999)" list and of
// MSSQLSERVER_15401: "Windows NT user or group '%s' not found. Check the name
// again." The list gives sys.messages' severity, 11; CREATE LOGIN raises it at
// level 16, which is what clients print (Msg 15401, Level 16, State 1).
// https://learn.microsoft.com/sql/relational-databases/errors-events/database-engine-events-and-errors-15000-to-15999
// https://learn.microsoft.com/sql/relational-databases/errors-events/mssqlserver-15401-database-engine-error
func errAccountNotFound(name string) *SQLError {
	return sqlErr(15401, 16, "Windows NT user or group '%s' not found. Check the name again.", name)
}

// resolvableDomain returns the domain a login's DOMAIN part names (NetBIOS or
// DNS name): PRIV, or another forest's domain only through a trust from PRIV.
// Callers hold the lock.
func (e *Env) resolvableDomain(name string) *Domain {
	d := e.DirectoryByName(name)
	if d == nil || d == e.Domain {
		return d
	}
	if e.Domain != nil && e.Domain.Trusts[Key(d.DNSName)] != nil {
		return d
	}
	return nil
}

// accountKey is DOMAIN\name with the domain's NetBIOS name, lower case: the
// same account whichever form of the domain name a login was created with.
func (e *Env) accountKey(name string) string {
	domain, user, _ := strings.Cut(name, `\`)
	if d := e.resolvableDomain(domain); d != nil {
		domain = d.NetBIOSName
	}
	return strings.ToLower(domain + `\` + user)
}

// DropLogin is DROP LOGIN [name]. Callers hold the lock.
func (e *Env) DropLogin(s *SQLInstance, caller *SQLLogin, name string) *SQLError {
	e.sqlDefaults(s)
	l := s.Logins[strings.ToLower(name)]
	if !caller.canAlterAnyLogin() || l == nil {
		return sqlErr(15151, 16, "Cannot drop the login '%s', because it does not exist or you do not have permission.", name)
	}
	if strings.EqualFold(name, "sa") {
		return sqlErr(15405, 16, "Cannot use the special principal '%s'.", name)
	}
	if l == caller {
		return sqlErr(15434, 16, "Could not drop login '%s' as the user is currently logged in.", name)
	}
	delete(s.Logins, strings.ToLower(name))
	e.Record(s.NetworkName, "sql-login-dropped", name)
	return nil
}

// AlterServerRole is ALTER SERVER ROLE [role] ADD|DROP MEMBER [login]: a fixed
// role takes members from its own members or sysadmin. Adding an existing
// member or dropping a non-member is not an error, as in SQL Server. Callers hold the lock.
func (e *Env) AlterServerRole(s *SQLInstance, caller *SQLLogin, role, member string, add bool) *SQLError {
	e.sqlDefaults(s)
	r := strings.ToLower(role)
	if _, ok := FixedServerRoles[r]; !ok || (!caller.IsSysadmin() && (caller == nil || !caller.Roles[r])) {
		return sqlErr(15151, 16, "Cannot alter the server role '%s', because it does not exist or you do not have permission.", role)
	}
	if r == "public" {
		return sqlErr(15405, 16, "Cannot use the special principal 'public'.")
	}
	l := s.Logins[strings.ToLower(member)]
	if l == nil {
		verb := "add"
		if !add {
			verb = "drop"
		}
		return sqlErr(15151, 16, "Cannot %s the principal '%s', because it does not exist or you do not have permission.", verb, member)
	}
	if add {
		l.Roles[r] = true
	} else {
		delete(l.Roles, r)
	}
	return nil
}

// AddSQLLogin creates a SQL Server authentication login with a password (kept
// in Credentials, as the lab does for every secret), fixed roles and an
// optional VIEW SERVER STATE grant. It takes the lock.
func (e *Env) AddSQLLogin(network, name, password string, viewServerState bool, roles ...string) error {
	return e.onSQLInstance(network, func(s *SQLInstance) error {
		l := s.addLogin(e, name, LoginSQL, roles...)
		l.ViewServerState = viewServerState
		e.Credentials[strings.ToLower(name)] = password
		return nil
	})
}

// onSQLInstance holds the lock and looks the instance up for f, as onHost
// does for a host.
func (e *Env) onSQLInstance(network string, f func(s *SQLInstance) error) error {
	return onFound(e, "SQL instance", network, e.SQLInstanceByName, f)
}

// onSQLNode is onSQLInstance that also looks up host among its nodes.
func (e *Env) onSQLNode(network, host string, f func(s *SQLInstance, n *SQLNode) error) error {
	return e.onSQLInstance(network, func(s *SQLInstance) error {
		n := s.Node(host)
		if n == nil {
			return fmt.Errorf("model: %s is not a node of %s", host, network)
		}
		return f(s, n)
	})
}

// SQLLoginSnapshot returns a copy of a login, or false. It takes the lock.
func (e *Env) SQLLoginSnapshot(network, name string) (SQLLogin, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	s := e.SQLInstanceByName(network)
	if s == nil || s.Logins[strings.ToLower(name)] == nil {
		return SQLLogin{}, false
	}
	l := *s.Logins[strings.ToLower(name)]
	l.Roles = map[string]bool{}
	for r := range s.Logins[strings.ToLower(name)].Roles {
		l.Roles[r] = true
	}
	return l, true
}

// Faults on an instance ------------------------------------------------------

// InjectSQLFault adds a fault for the next n connections (n < 0: until
// cleared) to the instance's network name. Faults injected with InjectFault
// on the owner node's host for protocol TDS apply too.
func (e *Env) InjectSQLFault(network string, kind FaultKind, n int) error {
	return e.onSQLInstance(network, func(s *SQLInstance) error {
		s.faults = append(s.faults, &Fault{Kind: kind, Remaining: n})
		return nil
	})
}

// SetSQLLatency delays every TDS request to the instance.
func (e *Env) SetSQLLatency(network string, d time.Duration) error {
	return e.onSQLInstance(network, func(s *SQLInstance) error {
		s.latency = d
		return nil
	})
}

// ClearSQLFaults removes the instance's faults and latency, and restores
// its good certificate.
func (e *Env) ClearSQLFaults(network string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.clearCertificateFlaws(network)
	if s := e.SQL[Key(network)]; s != nil {
		s.faults = nil
		s.latency = 0
		s.failedLoginsLeft = 0
		s.failLoginsUntil = time.Time{}
		s.offlineUntil = time.Time{}
	}
}

// TakeSQLFault consumes and returns the next fault for a new connection to
// the network name. A network name with no instance, or whose owner node is
// down or unreachable, refuses connections (the clustered network name is offline).
func (e *Env) TakeSQLFault(network string) (FaultKind, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	s := e.SQL[Key(network)]
	if s == nil || !e.sqlReachable(s) {
		return FaultRefuse, true
	}
	if k, ok := takeFault(&s.faults); ok {
		return k, true
	}
	if o := s.Owner(); o != nil {
		if h := e.Host(o.Host); h != nil {
			list := h.faults[TDS]
			k, ok := takeFault(&list)
			h.faults[TDS] = list
			return k, ok
		}
	}
	return "", false
}

func takeFault(list *[]*Fault) (FaultKind, bool) {
	for len(*list) > 0 {
		f := (*list)[0]
		if f.Remaining == 0 {
			*list = (*list)[1:]
			continue
		}
		if f.Remaining > 0 {
			f.Remaining--
		}
		return f.Kind, true
	}
	return "", false
}

// SQLLatency returns the delay for requests to the instance (its own, else the owner node's TDS latency).
func (e *Env) SQLLatency(network string) time.Duration {
	e.mu.Lock()
	defer e.mu.Unlock()
	s := e.SQL[Key(network)]
	if s == nil {
		return 0
	}
	if s.latency > 0 {
		return s.latency
	}
	if o := s.Owner(); o != nil {
		if h := e.Host(o.Host); h != nil {
			return h.latency[TDS]
		}
	}
	return 0
}

// SQLEpoch returns the instance's epoch and whether it still answers; a
// connection made in an older epoch has been dropped by a failover.
func (e *Env) SQLEpoch(network string) (int, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	s := e.SQL[Key(network)]
	if s == nil {
		return 0, false
	}
	return s.Epoch, e.sqlReachable(s)
}

// Cluster events ---------------------------------------------------------------

// SQLStartTime is sys.dm_os_sys_info.sqlserver_start_time: when the
// instance last came online (an instance built without one has been up an
// hour). Callers hold the lock.
func (e *Env) SQLStartTime(s *SQLInstance) time.Time {
	if s.StartedAt.IsZero() {
		return e.Now().Add(-time.Hour)
	}
	return s.StartedAt
}

// FailoverOptions shape a failover as a client sees it: first an Outage
// while the group is offline (connections refused or reset), then logins
// fail with 18456 while the instance recovers, for FailedLogins attempts
// and/or for Duration after the outage.
// https://learn.microsoft.com/sql/sql-server/failover-clusters/windows/failover-policy-for-failover-cluster-instances
type FailoverOptions struct {
	Outage       time.Duration
	FailedLogins int
	Duration     time.Duration
}

// Failover moves the instance's group to toNode (an up node of the
// instance), as Move-ClusterGroup does: every connection is dropped and, for
// the window in opts, logins fail with 18456. It takes the lock.
func (e *Env) Failover(network, toNode string, opts FailoverOptions) error {
	return e.onSQLNode(network, toNode, func(s *SQLInstance, n *SQLNode) error {
		if h := e.Host(n.Host); h == nil || !h.Reachable || n.Status != NodeUp {
			return fmt.Errorf("model: node %s is not up", toNode)
		}
		e.failover(s, n, opts)
		return nil
	})
}

func (e *Env) failover(s *SQLInstance, to *SQLNode, opts FailoverOptions) {
	from := ""
	for _, n := range s.Nodes {
		if n.Owner {
			from = n.Host
		}
		n.Owner = n == to
	}
	s.Epoch++
	s.StartedAt = e.Now()
	s.failedLoginsLeft = opts.FailedLogins
	s.failLoginsUntil = time.Time{}
	s.offlineUntil = time.Time{}
	if opts.Outage > 0 {
		s.offlineUntil = e.Now().Add(opts.Outage)
	}
	if opts.Duration > 0 {
		s.failLoginsUntil = e.Now().Add(opts.Outage + opts.Duration)
	}
	for _, n := range s.Nodes {
		if h := e.Host(n.Host); h != nil {
			status := "Stopped"
			if n.Owner {
				status = "Running"
			}
			for _, svc := range sqlServiceNames(s.InstanceName) {
				if h.Service(svc) != nil {
					_ = h.SetServiceStatus(svc, status)
				}
			}
		}
	}
	e.Record(s.NetworkName, "sql-failover", fmt.Sprintf("%s -> %s", from, to.Host))
}

// SetSQLNodeStatus sets a node's cluster state (NodeUp, NodeDown, NodePaused, NodeJoining). It takes the lock.
func (e *Env) SetSQLNodeStatus(network, host string, status int) error {
	return e.onSQLNode(network, host, func(_ *SQLInstance, n *SQLNode) error {
		n.Status = status
		return nil
	})
}

// EvictNode evicts host from the Windows failover cluster (Remove-ClusterNode):
// it leaves the cluster's nodes (when the lab models them) and every
// instance's possible owners; an instance it owned fails over to the first
// other up node. SQL Server's binaries stay on the host. It takes the lock.
func (e *Env) EvictNode(host string) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	k := Key(host)
	found := e.IsClusterNode(k)
	if found {
		var keep []string
		for _, n := range e.Cluster.Nodes {
			if n != k {
				keep = append(keep, n)
			}
		}
		e.Cluster.Nodes = keep
	}
	if e.leavePossibleOwners(k) {
		found = true
	}
	if !found {
		return fmt.Errorf("model: %s is not a node of any SQL instance", host)
	}
	e.Record(k, "cluster-node-evicted", k)
	return nil
}

// leavePossibleOwners takes host out of every instance's nodes; an instance
// it owned fails over to the first other up node. Callers hold the lock.
func (e *Env) leavePossibleOwners(k string) bool {
	found := false
	for _, name := range sortedSQLNames(e) {
		s := e.SQL[name]
		n := s.Node(k)
		if n == nil {
			continue
		}
		found = true
		e.sqlDefaults(s)
		wasOwner := n.Owner
		s.Nodes = removeNode(s.Nodes, n)
		if wasOwner {
			if next := e.firstUpNode(s); next != nil {
				e.failover(s, next, FailoverOptions{})
			} else {
				s.Epoch++
			}
		}
	}
	return found
}

func (e *Env) firstUpNode(s *SQLInstance) *SQLNode {
	for _, n := range s.Nodes {
		if h := e.Host(n.Host); h != nil && h.Reachable && n.Status == NodeUp {
			return n
		}
	}
	return nil
}

func removeNode(nodes []*SQLNode, n *SQLNode) []*SQLNode {
	out := make([]*SQLNode, 0, len(nodes))
	for _, m := range nodes {
		if m != n {
			out = append(out, m)
		}
	}
	return out
}

func sortedSQLNames(e *Env) []string {
	return slices.Sorted(maps.Keys(e.SQL))
}

// SQL Server setup --------------------------------------------------------------

// SQLSetupParams are setup.exe's command-line settings by upper-case name;
// multi-valued settings (SQLSYSADMINACCOUNTS, FAILOVERCLUSTERDISKS,
// FAILOVERCLUSTERIPADDRESSES, FEATURES as a comma list) carry several values.
type SQLSetupParams map[string][]string

// Get returns the first value of a setting, or "".
func (p SQLSetupParams) Get(name string) string {
	if v := p[name]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// IsSecretSetting reports whether a setup setting carries a secret
// (SQLSVCPASSWORD, AGTSVCPASSWORD, SAPWD, ...): never recorded nor echoed.
func IsSecretSetting(name string) bool {
	n := strings.ToUpper(name)
	return strings.HasSuffix(n, "PASSWORD") || strings.HasSuffix(n, "PWD")
}

// IsManagedServiceAccount reports whether an account is a (group) managed
// service account: its name ends in $ and it has no password.
func IsManagedServiceAccount(account string) bool { return strings.HasSuffix(account, "$") }

// SQLSetupRun records one setup.exe run, secrets removed.
type SQLSetupRun struct {
	Time     time.Time
	Host     string
	Action   string
	Params   map[string][]string
	ExitCode int
	Message  string
}

// SQLSetupError is setup.exe failing: its exit code and Summary.txt's exit message.
type SQLSetupError struct {
	ExitCode int
	Message  string
}

func (e *SQLSetupError) Error() string {
	return fmt.Sprintf("SQL Server setup exit code %d: %s", e.ExitCode, e.Message)
}

// SetupFailed is setup's exit code for a failed rule or validation
// (0x84B40000, "Exit facility code: 1204"), the one Summary.txt shows for
// most configuration errors.
const SetupFailed = -2068578304

func setupErr(format string, args ...any) *SQLSetupError {
	return &SQLSetupError{ExitCode: SetupFailed, Message: fmt.Sprintf(format, args...)}
}

// SQLSetupResult is what a setup run leaves: exit code and Summary.txt.
type SQLSetupResult struct {
	ExitCode   int
	Message    string
	SummaryLog string
}

// SQLSummaryLogPath is Summary.txt for a SQL Server version: 15.x -> ...\150\Setup Bootstrap\Log\Summary.txt.
func SQLSummaryLogPath(version string) string {
	major, _, _ := strings.Cut(version, ".")
	return `C:\Program Files\Microsoft SQL Server\` + major + `0\Setup Bootstrap\Log\Summary.txt`
}

// RunSQLSetup emulates setup.exe /ACTION=<action> /Q on host from media of
// the given version: it runs the action, writes Summary.txt on the host and
// returns the exit code. Callers hold the lock.
func (e *Env) RunSQLSetup(h *Host, action, version string, p SQLSetupParams) SQLSetupResult {
	if version == "" {
		version = DefaultSQLVersion
	}
	var err error
	switch action {
	case "InstallFailoverCluster":
		var s *SQLInstance
		s, err = e.InstallFailoverCluster(h.FQDN, p)
		if err == nil {
			s.Version = version
			s.Dirs = defaultDirs(s, p)
		}
	case "AddNode":
		err = e.AddNode(h.FQDN, p)
	case "RemoveNode":
		err = e.RemoveNode(h.FQDN, p)
	default:
		err = setupErr("The action '%s' is not supported by this emulation of SQL Server setup.", action)
		e.recordSetup(nil, h.FQDN, action, p, err)
	}
	res := SQLSetupResult{SummaryLog: SQLSummaryLogPath(version), Message: "Passed"}
	if err != nil {
		res.ExitCode = SetupFailed
		res.Message = err.Error()
		var se *SQLSetupError
		if ok := asSetupErr(err, &se); ok {
			res.ExitCode, res.Message = se.ExitCode, se.Message
		}
	}
	final := "Passed"
	if res.ExitCode != 0 {
		final = "Failed: see details below"
	}
	summary := fmt.Sprintf("Overall summary:\r\n  Final result:                  %s\r\n  Exit code (Decimal):           %d\r\n  Exit message:                  %s\r\n  Start time:                    %s\r\n  Requested action:              %s\r\n",
		final, res.ExitCode, res.Message, e.Now().Format("2006-01-02 15:04:05"), action)
	h.WriteFile(res.SummaryLog, []byte(summary))
	return res
}

func asSetupErr(err error, target **SQLSetupError) bool {
	return errors.As(err, target)
}

// recordSetup records a setup run (secrets removed) on the instance, when
// there is one, and in the event log.
func (e *Env) recordSetup(s *SQLInstance, host, action string, p SQLSetupParams, err error) {
	run := SQLSetupRun{Time: e.Now(), Host: Key(host), Action: action, Params: map[string][]string{}, Message: "Passed"}
	names := make([]string, 0, len(p))
	for k, v := range p {
		if IsSecretSetting(k) {
			continue
		}
		run.Params[k] = append([]string(nil), v...)
		names = append(names, k)
	}
	sort.Strings(names)
	if err != nil {
		run.ExitCode, run.Message = SetupFailed, err.Error()
		if se := (*SQLSetupError)(nil); errors.As(err, &se) {
			run.ExitCode, run.Message = se.ExitCode, se.Message
		}
	}
	if s != nil {
		s.SetupRuns = append(s.SetupRuns, run)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "/ACTION=%s exit=%d", action, run.ExitCode)
	for _, k := range names {
		fmt.Fprintf(&b, " /%s=%s", k, strings.Join(run.Params[k], ","))
	}
	e.Record(host, "sql-setup", b.String())
}

// SQLSetupRuns returns the setup runs recorded on an instance. It takes the lock.
func (e *Env) SQLSetupRuns(network string) []SQLSetupRun {
	e.mu.Lock()
	defer e.mu.Unlock()
	s := e.SQL[Key(network)]
	if s == nil {
		return nil
	}
	return append([]SQLSetupRun(nil), s.SetupRuns...)
}

var (
	netbiosName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9-]{0,14}$`)
	instanceRe  = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_$]{0,15}$`)
	ipSetting   = regexp.MustCompile(`^(IPv4;(DHCP;[^;]+|[0-9.]+;[^;]+;[0-9.]+)|IPv6;(DHCP;[^;]+|[0-9A-Fa-f:]+;[^;]+))$`)
)

func requireSettings(action string, p SQLSetupParams, names ...string) error {
	for _, n := range names {
		if strings.TrimSpace(p.Get(n)) == "" {
			return setupErr("The setting '%s' is required for the action '%s'.", n, action)
		}
	}
	return nil
}

// checkServiceAccount validates one service account and its password the way
// setup does: a domain account; a (g)MSA takes no password; otherwise the
// password must be the account's.
func (e *Env) checkServiceAccount(action string, p SQLSetupParams, accountSetting, passwordSetting, what string) error {
	account := p.Get(accountSetting)
	if !strings.Contains(account, `\`) || strings.HasPrefix(strings.ToUpper(account), `NT `) {
		return setupErr("The %s account '%s' is not a domain account. A SQL Server failover cluster instance requires domain accounts or managed service accounts for its services.", what, account)
	}
	if IsManagedServiceAccount(account) {
		domain, sam, _ := strings.Cut(account, `\`)
		if d := e.resolvableDomain(domain); d == nil || !e.HasAccount(d, sam) {
			return errServiceAccountNotFound(what, account)
		}
		return nil
	}
	password, given := p[passwordSetting]
	if !given || len(password) == 0 || password[0] == "" {
		return setupErr("The setting '%s' is required for the action '%s' when %s is not a managed service account.", passwordSetting, action, accountSetting)
	}
	if want, ok := e.Credentials[strings.ToLower(account)]; !ok || want != password[0] {
		return setupErr("The credentials you provided for the %s service are invalid. To continue, provide a valid account and password for the %s service.", what, what)
	}
	return nil
}

// otherServices names the services whose accounts setup takes in
// <PREFIX>SVCACCOUNT settings beyond SQLSVCACCOUNT and AGTSVCACCOUNT.
var otherServices = map[string]string{
	"FT": "Full-text Filter Daemon Launcher", "AS": "Analysis Services", "IS": "Integration Services",
	"RS": "Reporting Services", "BROWSER": "SQL Server Browser",
}

// checkOtherServiceAccounts checks every other <PREFIX>SVCACCOUNT setting the
// way checkServiceAccount does, except that these services may also run as a
// local or virtual account (NT AUTHORITY, NT SERVICE).
func (e *Env) checkOtherServiceAccounts(action string, p SQLSetupParams) error {
	for _, name := range slices.Sorted(maps.Keys(p)) {
		prefix, ok := strings.CutSuffix(name, "SVCACCOUNT")
		if !ok || prefix == "" || prefix == "SQL" || prefix == "AGT" {
			continue
		}
		domain, _, _ := strings.Cut(p.Get(name), `\`)
		if localAuthorities[strings.ToLower(domain)] {
			continue
		}
		what := otherServices[prefix]
		if what == "" {
			what = name
		}
		if err := e.checkServiceAccount(action, p, name, prefix+"SVCPASSWORD", what); err != nil {
			return err
		}
	}
	return nil
}

// errServiceAccountNotFound is setup failing for a managed service account
// the directory does not have. Microsoft Learn documents no setup rule text
// for this case; setup configures the services with the account, so the
// closest documented error is the Service Control Manager's for an account
// that does not exist (system error 1057, ERROR_INVALID_SERVICE_ACCOUNT): "The
// account name is invalid or does not exist."
// https://technet.microsoft.com/en-us/library/cc962365.aspx
func errServiceAccountNotFound(what, account string) *SQLSetupError {
	return setupErr("The %s service account '%s' could not be used: The account name is invalid or does not exist.", what, account)
}

// errSysadminNotFound is setup failing for a SQLSYSADMINACCOUNTS account the
// directory does not have. Microsoft Learn documents no setup rule text for
// this case either: setup provisions each account as a Windows login while it
// configures the Database Engine, and the engine refuses an unknown account
// with Msg 15401 (errAccountNotFound), or 15407 for a name without its
// domain, whose text setup reports.
func errSysadminNotFound(err *SQLError) *SQLSetupError {
	return setupErr("The following error has occurred: %s", err.Message)
}

// InstallFailoverCluster emulates setup.exe /ACTION=InstallFailoverCluster on
// firstNode: it validates the settings as setup does and creates the instance
// with firstNode as its only node and owner. Callers hold the lock.
func (e *Env) InstallFailoverCluster(firstNode string, p SQLSetupParams) (*SQLInstance, error) {
	const action = "InstallFailoverCluster"
	s, err := e.installFailoverCluster(firstNode, p)
	e.recordSetup(s, firstNode, action, p, err)
	if err != nil {
		return nil, err
	}
	return s, nil
}

func (e *Env) installFailoverCluster(firstNode string, p SQLSetupParams) (*SQLInstance, error) {
	const action = "InstallFailoverCluster"
	h := e.Host(firstNode)
	if h == nil {
		return nil, fmt.Errorf("model: no host %q", firstNode)
	}
	if err := requireSettings(action, p, "INSTANCENAME", "FEATURES", "FAILOVERCLUSTERNETWORKNAME", "FAILOVERCLUSTERIPADDRESSES",
		"INSTALLSQLDATADIR", "SQLSVCACCOUNT", "AGTSVCACCOUNT", "SQLSYSADMINACCOUNTS"); err != nil {
		return nil, err
	}
	instance := strings.ToUpper(p.Get("INSTANCENAME"))
	if !instanceRe.MatchString(instance) {
		return nil, setupErr("The instance name '%s' is not valid.", p.Get("INSTANCENAME"))
	}
	if e.Domain.IsDC(h.FQDN) {
		return nil, setupErr("SQL Server failover cluster instances are not supported on a domain controller.")
	}
	if err := e.clusterSetupCheck(h.FQDN); err != nil {
		return nil, err
	}
	features := splitFeatures(p["FEATURES"])
	if !containsFold(features, "SQLENGINE") && !containsFold(features, "SQL") {
		return nil, setupErr("The FEATURES setting must include SQLENGINE for a failover cluster instance.")
	}
	nb := p.Get("FAILOVERCLUSTERNETWORKNAME")
	if !netbiosName.MatchString(nb) {
		return nil, setupErr("The failover cluster network name '%s' is not valid. It must be a NetBIOS name of 1 to 15 characters.", nb)
	}
	domain := DomainDNS
	if e.Domain != nil {
		domain = e.Domain.DNSName
	}
	network := Key(nb + "." + domain)
	if _, exists := e.SQL[network]; exists {
		return nil, setupErr("The SQL Server failover cluster instance name '%s' already exists as a clustered resource. Specify a different failover cluster instance name.", strings.ToUpper(nb))
	}
	for _, s := range e.SQL {
		if s.Node(h.FQDN) != nil && strings.EqualFold(s.InstanceName, instance) {
			return nil, setupErr("The instance name '%s' is already in use on this computer.", instance)
		}
	}
	for _, ip := range p["FAILOVERCLUSTERIPADDRESSES"] {
		if !strings.EqualFold(ip, "DEFAULT") && !ipSetting.MatchString(ip) {
			return nil, setupErr("The IP address setting '%s' is not valid. Use IPv4;<address>;<cluster network>;<subnet mask>, IPv4;DHCP;<cluster network> or DEFAULT.", ip)
		}
	}
	if err := e.checkServiceAccount(action, p, "SQLSVCACCOUNT", "SQLSVCPASSWORD", "SQL Server"); err != nil {
		return nil, err
	}
	if err := e.checkServiceAccount(action, p, "AGTSVCACCOUNT", "AGTSVCPASSWORD", "SQL Server Agent"); err != nil {
		return nil, err
	}
	if err := e.checkOtherServiceAccounts(action, p); err != nil {
		return nil, err
	}
	mode := "Windows"
	if strings.EqualFold(p.Get("SECURITYMODE"), "SQL") {
		if p.Get("SAPWD") == "" {
			return nil, setupErr("The setting 'SAPWD' is required when SECURITYMODE is SQL.")
		}
		mode = "SQL"
	}
	for _, acct := range p["SQLSYSADMINACCOUNTS"] {
		if _, err := e.lookupWindowsAccount(acct); err != nil {
			return nil, errSysadminNotFound(err)
		}
	}
	s := &SQLInstance{
		StartedAt:           e.Now(),
		NetworkName:         network,
		InstanceName:        instance,
		InstanceID:          strings.ToUpper(firstNonEmpty(p.Get("INSTANCEID"), instance)),
		Clustered:           true,
		Nodes:               []*SQLNode{{Host: h.FQDN, Status: NodeUp, Owner: true}},
		Version:             DefaultSQLVersion,
		Edition:             DefaultSQLEdition,
		Collation:           firstNonEmpty(p.Get("SQLCOLLATION"), DefaultSQLCollation),
		Features:            features,
		ClusterGroup:        firstNonEmpty(p.Get("FAILOVERCLUSTERGROUP"), "SQL Server ("+instance+")"),
		IPAddresses:         append([]string(nil), p["FAILOVERCLUSTERIPADDRESSES"]...),
		ClusterDisks:        append([]string(nil), p["FAILOVERCLUSTERDISKS"]...),
		SQLServiceAccount:   p.Get("SQLSVCACCOUNT"),
		AgentServiceAccount: p.Get("AGTSVCACCOUNT"),
		SecurityMode:        mode,
		Logins:              map[string]*SQLLogin{},
	}
	s.Dirs = defaultDirs(s, p)
	shared, err := sharedPaths(s, p)
	if err != nil {
		return nil, err
	}
	s.SharedPaths = shared
	s.defaulted = true
	for _, db := range []string{"master", "model", "msdb", "tempdb"} {
		s.EnsureDatabase(db)
	}
	s.addSystemLogins(e, mode == "SQL")
	if mode == "SQL" {
		e.Credentials["sa"] = p.Get("SAPWD") // the lab keeps every secret in Credentials
	}
	for _, acct := range p["SQLSYSADMINACCOUNTS"] {
		s.addLogin(e, acct, LoginWindows, "sysadmin")
	}
	// The lab's TDS server speaks only SQL authentication, so the seed's SQL
	// login stands in for the provider's Windows identity (the domain
	// Administrator): when setup makes that account sysadmin, the stand-in
	// can log in as sysadmin too, as on the seed's instance (sqlDefaults).
	// An instance whose sysadmin accounts leave it out is closed to the
	// provider, as it would be on Windows.
	if containsFold(p["SQLSYSADMINACCOUNTS"], AdminUser) {
		if _, ok := e.Credentials[strings.ToLower(SQLLoginUser)]; ok {
			s.addLogin(e, SQLLoginUser, LoginSQL, "sysadmin")
		}
	}
	e.SQL[network] = s
	e.installSQLServices(h, s, true)
	return s, nil
}

// defaultDirs derives the instance's directories from setup's settings and defaults.
func defaultDirs(s *SQLInstance, p SQLSetupParams) SQLDirs {
	root := strings.TrimRight(p.Get("INSTALLSQLDATADIR"), `\`)
	if root == "" {
		root = strings.TrimRight(s.Dirs.InstallData, `\`)
	}
	base := root + `\` + sqlDirVersion(s.Version) + "." + s.InstanceID + `\MSSQL`
	d := SQLDirs{
		InstallData: root,
		Data:        firstNonEmpty(p.Get("SQLUSERDBDIR"), base+`\Data`),
		Backup:      firstNonEmpty(p.Get("SQLBACKUPDIR"), base+`\Backup`),
	}
	d.Log = firstNonEmpty(p.Get("SQLUSERDBLOGDIR"), d.Data)
	d.TempDB = firstNonEmpty(p.Get("SQLTEMPDBDIR"), d.Data)
	d.TempDBLog = firstNonEmpty(p.Get("SQLTEMPDBLOGDIR"), d.TempDB)
	return d
}

var csvPath = regexp.MustCompile(`(?i)^C:\\ClusterStorage\\[^\\]+`)

// sharedPaths checks that the data, log and backup directories are on shared
// storage (a cluster disk, a Cluster Shared Volume or an SMB share) and
// returns the cluster paths they use. TempDB may be on a local disk.
func sharedPaths(s *SQLInstance, p SQLSetupParams) ([]SQLSharedPath, error) {
	seen := map[string]bool{}
	var out []SQLSharedPath
	for _, setting := range []struct{ name, dir string }{
		{"INSTALLSQLDATADIR", s.Dirs.InstallData}, {"SQLUSERDBDIR", s.Dirs.Data}, {"SQLUSERDBLOGDIR", s.Dirs.Log}, {"SQLBACKUPDIR", s.Dirs.Backup},
	} {
		dir := setting.dir
		switch {
		case strings.HasPrefix(dir, `\\`):
			// An SMB share: valid for an FCI, not a cluster path.
		case csvPath.MatchString(dir):
			root := csvPath.FindString(dir) + `\`
			if !seen[strings.ToLower(root)] {
				seen[strings.ToLower(root)] = true
				out = append(out, SQLSharedPath{Path: root, CSV: true})
			}
		case len(dir) >= 2 && dir[1] == ':':
			drive := strings.ToUpper(dir[:1])
			if drive == "C" {
				return nil, setupErr("The directory '%s' (%s) is on the node's system drive. Data, log and backup directories of a failover cluster instance must be on a cluster disk, a Cluster Shared Volume or an SMB share.", dir, setting.name)
			}
			if len(p["FAILOVERCLUSTERDISKS"]) == 0 {
				return nil, setupErr("The directory '%s' (%s) is on drive %s: but FAILOVERCLUSTERDISKS names no cluster disk for the instance.", dir, setting.name, drive)
			}
			root := drive + `:\`
			if !seen[strings.ToLower(root)] {
				seen[strings.ToLower(root)] = true
				out = append(out, SQLSharedPath{Path: root})
			}
		default:
			return nil, setupErr("The directory '%s' (%s) is not a valid path.", dir, setting.name)
		}
	}
	return out, nil
}

func sqlServiceNames(instance string) []string {
	if strings.EqualFold(instance, DefaultSQLInstance) || instance == "" {
		return []string{"MSSQLSERVER", "SQLSERVERAGENT"}
	}
	return []string{"MSSQL$" + strings.ToUpper(instance), "SQLAgent$" + strings.ToUpper(instance)}
}

// installSQLServices creates the instance's services on a node: manual start
// (the cluster starts them), running only on the owner.
func (e *Env) installSQLServices(h *Host, s *SQLInstance, running bool) {
	status := "Stopped"
	starts := 0
	if running {
		status, starts = "Running", 1
	}
	names := sqlServiceNames(s.InstanceName)
	h.Services[Key(names[0])] = &Service{Name: names[0], DisplayName: "SQL Server (" + s.InstanceName + ")", Status: status, StartType: "Manual", Starts: starts}
	h.Services[Key(names[1])] = &Service{Name: names[1], DisplayName: "SQL Server Agent (" + s.InstanceName + ")", Status: status, StartType: "Manual", Starts: starts}
}

// findClusteredInstance finds the FCI setup's INSTANCENAME names.
func (e *Env) findClusteredInstance(action string, p SQLSetupParams) (*SQLInstance, error) {
	if err := requireSettings(action, p, "INSTANCENAME"); err != nil {
		return nil, err
	}
	name := p.Get("INSTANCENAME")
	var found *SQLInstance
	for _, k := range sortedSQLNames(e) {
		s := e.SQL[k]
		if s.Clustered && strings.EqualFold(s.InstanceName, name) {
			if found != nil {
				return nil, setupErr("More than one failover cluster instance is named '%s'.", name)
			}
			found = s
		}
	}
	if found == nil {
		return nil, setupErr("The SQL Server failover cluster instance '%s' was not found in the cluster.", name)
	}
	e.sqlDefaults(found)
	return found, nil
}

// AddNode emulates setup.exe /ACTION=AddNode on host: the host joins the
// instance's possible owners as an up, passive node. Callers hold the lock.
func (e *Env) AddNode(host string, p SQLSetupParams) error {
	const action = "AddNode"
	s, err := e.findClusteredInstance(action, p)
	if err == nil {
		err = e.addNode(s, host, p)
	}
	e.recordSetup(s, host, action, p, err)
	return err
}

func (e *Env) addNode(s *SQLInstance, host string, p SQLSetupParams) error {
	const action = "AddNode"
	h := e.Host(host)
	if h == nil {
		return fmt.Errorf("model: no host %q", host)
	}
	if err := requireSettings(action, p, "SQLSVCACCOUNT", "AGTSVCACCOUNT", "FAILOVERCLUSTERIPADDRESSES"); err != nil {
		return err
	}
	if _, ok := p["FEATURES"]; ok {
		// An FCI's features are fixed at InstallFailoverCluster.
		return setupErr("The setting 'FEATURES' is not allowed when the value of setting 'ACTION' is 'AddNode'.")
	}
	if s.Node(h.FQDN) != nil {
		return setupErr("This computer is already a node of the SQL Server failover cluster instance '%s'.", s.InstanceName)
	}
	if e.Domain.IsDC(h.FQDN) {
		return setupErr("SQL Server failover cluster instances are not supported on a domain controller.")
	}
	if err := e.clusterSetupCheck(h.FQDN); err != nil {
		return err
	}
	if !strings.EqualFold(p.Get("SQLSVCACCOUNT"), s.SQLServiceAccount) || !strings.EqualFold(p.Get("AGTSVCACCOUNT"), s.AgentServiceAccount) {
		return setupErr("The service accounts must be the same on every node of the failover cluster instance '%s' (%s, %s).", s.InstanceName, s.SQLServiceAccount, s.AgentServiceAccount)
	}
	if err := e.checkServiceAccount(action, p, "SQLSVCACCOUNT", "SQLSVCPASSWORD", "SQL Server"); err != nil {
		return err
	}
	if err := e.checkServiceAccount(action, p, "AGTSVCACCOUNT", "AGTSVCPASSWORD", "SQL Server Agent"); err != nil {
		return err
	}
	if err := e.checkOtherServiceAccounts(action, p); err != nil {
		return err
	}
	s.Nodes = append(s.Nodes, &SQLNode{Host: h.FQDN, Status: NodeUp})
	e.installSQLServices(h, s, false)
	return nil
}

// RemoveNode emulates setup.exe /ACTION=RemoveNode on host: the host leaves
// the instance's possible owners (an owner first fails over to another up
// node); removing the last node removes the instance. Callers hold the lock.
func (e *Env) RemoveNode(host string, p SQLSetupParams) error {
	const action = "RemoveNode"
	s, err := e.findClusteredInstance(action, p)
	if _, ok := p["FEATURES"]; ok && err == nil {
		err = setupErr("The setting 'FEATURES' is not allowed when the value of setting 'ACTION' is 'RemoveNode'.")
	}
	if err == nil {
		err = e.removeNode(s, host)
	}
	e.recordSetup(s, host, action, p, err)
	return err
}

func (e *Env) removeNode(s *SQLInstance, host string) error {
	h := e.Host(host)
	if h == nil {
		return fmt.Errorf("model: no host %q", host)
	}
	n := s.Node(h.FQDN)
	if n == nil {
		return setupErr("This computer is not a node of the SQL Server failover cluster instance '%s'.", s.InstanceName)
	}
	s.Nodes = removeNode(s.Nodes, n)
	for _, svc := range sqlServiceNames(s.InstanceName) {
		delete(h.Services, Key(svc))
	}
	switch {
	case len(s.Nodes) == 0:
		delete(e.SQL, s.NetworkName)
		s.Epoch++
		e.Record(s.NetworkName, "sql-instance-removed", s.InstanceName)
	case n.Owner:
		next := e.firstUpNode(s)
		if next == nil {
			next = s.Nodes[0]
		}
		e.failover(s, next, FailoverOptions{})
	}
	return nil
}

func splitFeatures(values []string) []string {
	var out []string
	for _, v := range values {
		for _, f := range strings.Split(v, ",") {
			if f = strings.ToUpper(strings.TrimSpace(f)); f != "" {
				out = append(out, f)
			}
		}
	}
	return out
}

func containsFold(list []string, s string) bool {
	for _, v := range list {
		if strings.EqualFold(v, s) {
			return true
		}
	}
	return false
}

func firstNonEmpty(vals ...string) string {
	for _, v := range vals {
		if strings.TrimSpace(v) != "" {
			return v
		}
	}
	return ""
}
