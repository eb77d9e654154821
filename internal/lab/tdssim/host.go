package tdssim

import (
	"strings"
	"time"

	"github.com/bastion-pam/terraform-provider-bastion/internal/lab/model"
	"github.com/bastion-pam/terraform-provider-bastion/internal/lab/tdssim/tsql"
)

// modelHost is the T-SQL engine's view of one instance of the model for one
// caller; it lives for one request, with the model locked.
type modelHost struct {
	e      *model.Env
	s      *model.SQLInstance
	caller *model.SQLLogin
	login  string
	spid   int
}

var _ tsql.Host = (*modelHost)(nil)

func fromModel(err *model.SQLError) *tsql.Error {
	if err == nil {
		return nil
	}
	out := &tsql.Error{Number: err.Number, State: err.State, Class: err.Class, Message: err.Message}
	for _, b := range err.Before {
		out.Before = append(out.Before, tsql.Error{Number: b.Number, State: b.State, Class: b.Class, Message: b.Message})
	}
	return out
}

func toModel(err *tsql.Error) *model.SQLError {
	out := &model.SQLError{Number: err.Number, State: err.State, Class: err.Class, Message: err.Message}
	for _, b := range err.Before {
		out.Before = append(out.Before, model.SQLError{Number: b.Number, State: b.State, Class: b.Class, Message: b.Message})
	}
	return out
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func (h *modelHost) Rows(v *tsql.View) ([][]any, *tsql.Error) {
	if v.Permission != "" && !h.caller.HasServerPermission(v.Permission) {
		return nil, fromModel(model.CheckViewServerState(h.caller))
	}
	var rows [][]any
	switch v.Key() {
	case "sys.server_principals", "sys.sql_logins":
		sqlLogins := v.Key() == "sys.sql_logins"
		for _, p := range h.e.ServerPrincipals(h.s, h.caller) {
			if sqlLogins && p.Type != "S" {
				continue
			}
			var disabled, owner any = int64(0), nil
			if p.Disabled {
				disabled = int64(1)
			}
			var lang any = "us_english"
			if p.Type == "R" {
				owner, lang = int64(1), nil
			}
			row := []any{p.Name, int64(p.PrincipalID), sid(p.PrincipalID), p.Type, p.TypeDesc, disabled,
				p.Created, p.Created, nullable(p.DefaultDatabase), lang, nil, owner, p.FixedRole}
			if sqlLogins {
				row = append(row, p.PolicyChecked, p.ExpirationChecked, sid(-p.PrincipalID))
			}
			rows = append(rows, row)
		}
	case "sys.server_role_members":
		for _, m := range h.e.ServerRoleMembers(h.s, h.caller) {
			rows = append(rows, []any{int64(m[0]), int64(m[1])})
		}
	case "sys.databases":
		for i, name := range h.s.SortedDatabases() {
			id := int64(i + 1)
			created := time.Date(2003, 4, 8, 9, 13, 36, 0, time.UTC)
			level := int64(150)
			if strings.HasPrefix(h.s.Version, "16.") {
				level = 160
			}
			recovery, recoveryDesc := int64(1), "FULL"
			if name == "master" || name == "tempdb" || name == "msdb" {
				recovery, recoveryDesc = 3, "SIMPLE"
			}
			rows = append(rows, []any{name, id, nil, []byte{0x01}, created, level, h.s.Collation, int64(0), "MULTI_USER",
				false, false, false, int64(0), "ONLINE", false, false, false, int64(0), "OFF", false,
				recovery, recoveryDesc, int64(2), "CHECKSUM", int64(0), "NOTHING", false, nil, nil})
		}
	case "sys.dm_os_cluster_nodes":
		for _, n := range h.e.ClusterNodes(h.s) {
			rows = append(rows, []any{n.NodeName, int64(n.Status), n.StatusDescription(), n.IsCurrentOwner})
		}
	case "sys.dm_io_cluster_valid_path_names":
		for _, p := range h.e.ValidPaths(h.s) {
			rows = append(rows, []any{p.PathName, nullable(p.ClusterOwnerNode), p.IsClusterSharedVolume})
		}
	case "sys.dm_server_services":
		started := h.e.SQLStartTime(h.s)
		for _, r := range h.e.ServerServices(h.s) {
			clustered := "N"
			if r.Clustered {
				clustered = "Y"
			}
			var last any = started
			if r.Status != 4 {
				last = nil
			}
			rows = append(rows, []any{r.ServiceName, int64(r.StartupType), r.StartupTypeDesc, int64(r.Status), r.StatusDesc,
				int64(r.ProcessID), last, r.Account, r.Filename, clustered, nullable(r.ClusterNode), "Y"})
		}
	case "sys.dm_os_sys_info":
		started := h.e.SQLStartTime(h.s)
		rows = append(rows, []any{int64(3_600_000_000_000), int64(3_700_000), int64(4), int64(4), int64(16 << 20), int64(128 << 30),
			int64(1 << 20), int64(12 << 20), int64(12 << 20), int64(2 << 20), int64(4), int64(5), int64(32), int64(512),
			int64(4), int64(9), int64(0), int64(100_000), started, int64(2), "AUTO", int64(1000), int64(5000),
			int64(0), "QUERY_PERFORMANCE_COUNTER", int64(1), "HYPERVISOR", int64(0), "OFF", "", int64(1), "CONVENTIONAL",
			int64(1), int64(4), int64(1), int64(0), "NONE"})
	}
	return rows, nil
}

// sid is a stable stand-in for a principal's SID (the lab keeps none).
func sid(id int) []byte {
	return []byte{0x01, 0x05, 0, 0, 0, 0, 0, 5, byte(id >> 8), byte(id)}
}

// ServerProperty answers SERVERPROPERTY for the properties tools read.
// https://learn.microsoft.com/sql/t-sql/functions/serverproperty-transact-sql
func (h *modelHost) ServerProperty(name string) any {
	sp := h.e.ServerProperties(h.s)
	b2i := func(b bool) int64 {
		if b {
			return 1
		}
		return 0
	}
	major, rest, _ := strings.Cut(sp.ProductVersion, ".")
	minor, build, _ := strings.Cut(rest, ".")
	build, _, _ = strings.Cut(build, ".")
	switch strings.ToLower(name) {
	case "isclustered":
		return b2i(sp.IsClustered)
	case "computernamephysicalnetbios":
		return nullable(sp.PhysicalNode)
	case "instancename":
		return nullable(sp.InstanceName)
	case "productversion":
		return sp.ProductVersion
	case "productmajorversion":
		return major
	case "productminorversion":
		return minor
	case "productbuild":
		return build
	case "productlevel":
		return "RTM"
	case "servername":
		return sp.ServerName
	case "machinename":
		return sp.MachineName
	case "edition":
		return sp.Edition
	case "engineedition":
		return int64(3) // Enterprise
	case "collation":
		return h.s.Collation
	case "isintegratedsecurityonly":
		return b2i(h.s.SecurityMode == "Windows")
	case "ishadrenabled":
		return int64(0)
	case "issingleuser":
		return int64(0)
	case "processid":
		return int64(4000)
	}
	return nil
}

func (h *modelHost) Global(name string) (any, tsql.Type, bool) {
	switch name {
	case "@@VERSION":
		return h.e.VersionBanner(h.s), tsql.NVarChar(300), true
	case "@@SERVERNAME":
		return h.e.ServerProperties(h.s).ServerName, tsql.SysName, true
	case "@@SERVICENAME":
		return h.s.InstanceName, tsql.SysName, true
	}
	return nil, tsql.Int, false
}

func (h *modelHost) HasPermsByName(_, class, permission string) any {
	if !strings.EqualFold(class, "SERVER") {
		return nil
	}
	if h.caller.HasServerPermission(permission) {
		return int64(1)
	}
	return int64(0)
}

func (h *modelHost) IsSrvRoleMember(role, login string) any {
	r := strings.ToLower(role)
	if _, ok := model.FixedServerRoles[r]; !ok {
		return nil
	}
	l := h.caller
	if login != "" {
		if l = h.s.Logins[strings.ToLower(login)]; l == nil {
			return nil
		}
	}
	if r == "public" || (l != nil && l.Roles[r]) {
		return int64(1)
	}
	return int64(0)
}

func (h *modelHost) Login() string { return h.login }

func (h *modelHost) CreateLogin(name string, windows bool, password, defaultDB string) *tsql.Error {
	if windows {
		return fromModel(h.e.CreateWindowsLogin(h.s, h.caller, name))
	}
	return fromModel(h.e.CreateSQLLogin(h.s, h.caller, name, password, defaultDB))
}

func (h *modelHost) AlterLogin(name string, enable *bool, password *string, defaultDB string) *tsql.Error {
	return fromModel(h.e.AlterLogin(h.s, h.caller, name, enable, password, defaultDB))
}

func (h *modelHost) DropLogin(name string) *tsql.Error {
	return fromModel(h.e.DropLogin(h.s, h.caller, name))
}

func (h *modelHost) AlterServerRole(role, member string, add bool) *tsql.Error {
	return fromModel(h.e.AlterServerRole(h.s, h.caller, role, member, add))
}

func (h *modelHost) UseDatabase(name string) (string, *tsql.Error) {
	db, err := h.s.UseDatabase(name)
	return db, fromModel(err)
}

// ExecProcedure answers the extended procedures a DBA reaches for; each
// needs sysadmin (error 229 otherwise) and xp_cmdshell is off by default.
func (h *modelHost) ExecProcedure(name string, _ []any) ([]tsql.ResultSet, *tsql.Error, bool) {
	switch name {
	case "xp_cmdshell":
		if !h.caller.IsSysadmin() {
			return nil, tsql.ErrPermission("EXECUTE", name), true
		}
		return nil, &tsql.Error{Number: 15281, Class: 16, State: 1, Message: "SQL Server blocked access to procedure 'sys.xp_cmdshell' of component 'xp_cmdshell' because this component is turned off as part of the security configuration for this server. A system administrator can enable the use of 'xp_cmdshell' by using sp_configure. For more information about enabling 'xp_cmdshell', search for 'xp_cmdshell' in SQL Server Books Online."}, true
	case "xp_readerrorlog":
		if !h.caller.IsSysadmin() {
			return nil, tsql.ErrPermission("EXECUTE", name), true
		}
		rs := tsql.ResultSet{Columns: []tsql.Column{{Name: "LogDate", Type: tsql.DateTime}, {Name: "ProcessInfo", Type: tsql.NVarChar(100)}, {Name: "Text", Type: tsql.NVarChar(4000)}}}
		for _, l := range h.s.ErrorLog() {
			rs.Rows = append(rs.Rows, []any{l.Time, l.ProcessInfo, l.Text})
		}
		return []tsql.ResultSet{rs}, nil, true
	}
	return nil, nil, false
}
