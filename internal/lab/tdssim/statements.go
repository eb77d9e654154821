package tdssim

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/bastion-pam/terraform-provider-bastion/internal/lab/model"
	"github.com/bastion-pam/terraform-provider-bastion/internal/sqlserver"
)

// statement evaluates one recognised SQL text against the model, with the
// model locked. caller is the session's login (nil once dropped).
type statement func(e *model.Env, s *model.SQLInstance, caller *model.SQLLogin, p params) ([]resultSet, *model.SQLError)

// params are the sp_executesql parameters by lower-case name (@p1).
type params map[string]any

// str returns a parameter as nvarchar, or false for NULL or absent.
func (p params) str(name string) (string, bool) {
	switch v := p[name].(type) {
	case string:
		return v, true
	case nil:
		return "", false
	default:
		return fmt.Sprint(v), true
	}
}

// quoteName is QUOTENAME's contract: NULL (false) for NULL or more than 128 characters.
func (p params) quoteName(name string) (string, bool) {
	v, ok := p.str(name)
	if !ok || utf8.RuneCountInString(v) > 128 {
		return "", false
	}
	return v, true
}

var notIdentifier = &model.SQLError{Number: 50000, State: 1, Class: 16, Message: "The name is not a valid identifier."}

// statements are the adapter's SQL texts, by normalised text: the only SQL the lab answers.
var statements = map[string]statement{
	normalize(sqlserver.QueryServerInfo):      serverInfo,
	normalize(sqlserver.QueryClusterNodes):    clusterNodes,
	normalize(sqlserver.QuerySharedPaths):     sharedPaths,
	normalize(sqlserver.QueryFailoverCluster): failoverCluster,
	normalize(sqlserver.QueryDatabaseExists):  databaseExists,
	normalize(sqlserver.QueryLogin):           readLogin,
	normalize(sqlserver.StmtCreateWindowsLogin): func(e *model.Env, s *model.SQLInstance, caller *model.SQLLogin, p params) ([]resultSet, *model.SQLError) {
		name, ok := p.quoteName("@p1")
		if !ok {
			return nil, notIdentifier
		}
		return nil, e.CreateWindowsLogin(s, caller, name)
	},
	normalize(sqlserver.StmtDropLogin): func(e *model.Env, s *model.SQLInstance, caller *model.SQLLogin, p params) ([]resultSet, *model.SQLError) {
		name, ok := p.quoteName("@p1")
		if !ok {
			return nil, notIdentifier
		}
		return nil, e.DropLogin(s, caller, name)
	},
	normalize(sqlserver.StmtAddRoleMember):  alterRole(true),
	normalize(sqlserver.StmtDropRoleMember): alterRole(false),
}

func alterRole(add bool) statement {
	return func(e *model.Env, s *model.SQLInstance, caller *model.SQLLogin, p params) ([]resultSet, *model.SQLError) {
		member, ok1 := p.quoteName("@p1")
		role, ok2 := p.quoteName("@p2")
		if !ok1 || !ok2 {
			return nil, notIdentifier
		}
		return nil, e.AlterServerRole(s, caller, role, member, add)
	}
}

var serverInfoCols = []column{
	{name: "is_clustered", typ: colInt, nullable: true},
	{name: "physical_node", typ: colNVarChar, chars: 128, nullable: true},
	{name: "instance_name", typ: colNVarChar, chars: 128, nullable: true},
	{name: "product_version", typ: colNVarChar, chars: 128, nullable: true},
	{name: "server_name", typ: colNVarChar, chars: 256, nullable: true},
	{name: "machine_name", typ: colNVarChar, chars: 128, nullable: true},
	{name: "edition", typ: colNVarChar, chars: 128, nullable: true},
}

func serverInfo(e *model.Env, s *model.SQLInstance, _ *model.SQLLogin, _ params) ([]resultSet, *model.SQLError) {
	sp := e.ServerProperties(s)
	clustered := int64(0)
	if sp.IsClustered {
		clustered = 1
	}
	var instance any
	if sp.InstanceName != "" {
		instance = sp.InstanceName
	}
	return []resultSet{{cols: serverInfoCols, rows: [][]any{{clustered, sp.PhysicalNode, instance, sp.ProductVersion, sp.ServerName, sp.MachineName, sp.Edition}}}}, nil
}

var clusterNodeCols = []column{
	{name: "NodeName", typ: colNVarChar, chars: 256},
	{name: "status", typ: colInt},
	{name: "status_description", typ: colNVarChar, chars: 20},
	{name: "is_current_owner", typ: colBit},
}

func clusterNodes(e *model.Env, s *model.SQLInstance, caller *model.SQLLogin, _ params) ([]resultSet, *model.SQLError) {
	if err := model.CheckViewServerState(caller); err != nil {
		return nil, err
	}
	rs := resultSet{cols: clusterNodeCols}
	for _, n := range e.ClusterNodes(s) {
		rs.rows = append(rs.rows, []any{n.NodeName, int64(n.Status), n.StatusDescription(), n.IsCurrentOwner})
	}
	return []resultSet{rs}, nil
}

var sharedPathCols = []column{
	{name: "path_name", typ: colNVarChar, chars: 512},
	{name: "cluster_owner_node", typ: colNVarChar, chars: 64, nullable: true},
	{name: "is_cluster_shared_volume", typ: colBit},
}

func sharedPaths(e *model.Env, s *model.SQLInstance, caller *model.SQLLogin, _ params) ([]resultSet, *model.SQLError) {
	if err := model.CheckViewServerState(caller); err != nil {
		return nil, err
	}
	rs := resultSet{cols: sharedPathCols}
	for _, p := range e.ValidPaths(s) {
		rs.rows = append(rs.rows, []any{p.PathName, p.ClusterOwnerNode, p.IsClusterSharedVolume})
	}
	return []resultSet{rs}, nil
}

// failoverCluster is the three reads in one batch; like SQL Server, the
// batch stops at the first error.
func failoverCluster(e *model.Env, s *model.SQLInstance, caller *model.SQLLogin, p params) ([]resultSet, *model.SQLError) {
	var out []resultSet
	for _, st := range []statement{serverInfo, clusterNodes, sharedPaths} {
		rs, err := st(e, s, caller, p)
		if err != nil {
			return nil, err
		}
		out = append(out, rs...)
	}
	return out, nil
}

var databaseCols = []column{
	{name: "name", typ: colNVarChar, chars: 128},
	{name: "state_desc", typ: colNVarChar, chars: 60, nullable: true},
}

func databaseExists(_ *model.Env, s *model.SQLInstance, _ *model.SQLLogin, p params) ([]resultSet, *model.SQLError) {
	rs := resultSet{cols: databaseCols}
	if name, ok := p.str("@p1"); ok && s.Databases[model.Key(name)] {
		rs.rows = append(rs.rows, []any{name, "ONLINE"})
	}
	return []resultSet{rs}, nil
}

var loginCols = []column{
	{name: "name", typ: colNVarChar, chars: 128},
	{name: "type_desc", typ: colNVarChar, chars: 60, nullable: true},
	{name: "principal_id", typ: colInt},
	{name: "is_disabled", typ: colBit, nullable: true},
	{name: "default_database_name", typ: colNVarChar, chars: 128, nullable: true},
}

var roleCols = []column{{name: "name", typ: colNVarChar, chars: 128}}

func readLogin(e *model.Env, s *model.SQLInstance, caller *model.SQLLogin, p params) ([]resultSet, *model.SQLError) {
	login := resultSet{cols: loginCols}
	roles := resultSet{cols: roleCols}
	if name, ok := p.str("@p1"); ok {
		if l, ok := e.ReadLogin(s, caller, name); ok {
			login.rows = append(login.rows, []any{l.Name, l.Type, int64(l.PrincipalID), l.Disabled, l.DefaultDatabase})
			for _, r := range l.Roles {
				roles.rows = append(roles.rows, []any{r})
			}
		}
	}
	return []resultSet{login, roles}, nil
}

// unknownSQL is what SQL Server says about text it cannot parse; the lab
// says it about any text that is not the adapter's.
func unknownSQL(text string) *model.SQLError {
	near := strings.Fields(text)
	word := ""
	if len(near) > 0 {
		word = near[0]
	}
	return &model.SQLError{Number: 102, State: 1, Class: 15, Message: fmt.Sprintf("Incorrect syntax near '%s'. (The bastion lab answers only the provider's own SQL texts.)", word)}
}
