package tsql

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"
)

// fakeHost serves fixed rows: three logins, sysadmin membership, one cluster node.
type fakeHost struct {
	created []string
}

var t0 = time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)

func principal(name string, id int64, typ, desc string, disabled int64) []any {
	return []any{name, id, nil, typ, desc, disabled, t0, t0, "master", "us_english", nil, nil, false}
}

func (h *fakeHost) Rows(v *View) ([][]any, *Error) {
	switch v.Key() {
	case "sys.server_principals":
		return [][]any{
			principal("sa", 1, "S", "SQL_LOGIN", 1),
			{"sysadmin", int64(3), nil, "R", "SERVER_ROLE", int64(0), t0, t0, nil, nil, nil, int64(1), true},
			principal(`PRIV\Administrator`, 259, "U", "WINDOWS_LOGIN", 0),
			principal("bastion_sql", 260, "S", "SQL_LOGIN", 0),
		}, nil
	case "sys.server_role_members":
		return [][]any{{int64(3), int64(1)}, {int64(3), int64(259)}, {int64(3), int64(260)}}, nil
	case "sys.dm_os_cluster_nodes":
		return nil, ErrServerPermission("VIEW SERVER STATE")
	}
	return nil, nil
}

func (h *fakeHost) ServerProperty(name string) any {
	switch strings.ToLower(name) {
	case "productversion":
		return "15.0.2000.5"
	case "isclustered":
		return int64(1)
	}
	return nil
}

func (h *fakeHost) Global(name string) (any, Type, bool) {
	if name == "@@VERSION" {
		return "Microsoft SQL Server 2019 (RTM) - 15.0.2000.5 (X64)", NVarChar(300), true
	}
	if name == "@@SERVERNAME" {
		return "SQLCLU01", SysName, true
	}
	return nil, Int, false
}

func (h *fakeHost) HasPermsByName(_, _, perm string) any {
	if strings.EqualFold(perm, "VIEW SERVER STATE") {
		return int64(1)
	}
	return int64(0)
}

func (h *fakeHost) IsSrvRoleMember(role, _ string) any {
	if strings.EqualFold(role, "sysadmin") {
		return int64(1)
	}
	return int64(0)
}

func (h *fakeHost) Login() string { return "bastion_sql" }

func (h *fakeHost) CreateLogin(name string, windows bool, _, _ string) *Error {
	h.created = append(h.created, fmt.Sprintf("%s windows=%v", name, windows))
	return nil
}

func (h *fakeHost) AlterLogin(string, *bool, *string, string) *Error { return nil }
func (h *fakeHost) DropLogin(name string) *Error {
	h.created = append(h.created, "drop "+name)
	return nil
}

func (h *fakeHost) AlterServerRole(role, member string, add bool) *Error {
	h.created = append(h.created, fmt.Sprintf("role %s %s %v", role, member, add))
	return nil
}

func (h *fakeHost) UseDatabase(name string) (string, *Error) {
	if strings.EqualFold(name, "master") || strings.EqualFold(name, "msdb") {
		return strings.ToLower(name), nil
	}
	return "", errNoDatabase(name)
}

func (h *fakeHost) ExecProcedure(string, []any) ([]ResultSet, *Error, bool) { return nil, nil, false }

func run(t *testing.T, sql string) ([]ResultSet, *Error) {
	t.Helper()
	s := &Session{Host: &fakeHost{}, Database: "master"}
	out, err := s.Run(sql)
	var sets []ResultSet
	for _, o := range out {
		if o.Result != nil {
			sets = append(sets, *o.Result)
		}
	}
	return sets, err
}

func TestSelects(t *testing.T) {
	tests := []struct {
		sql  string
		cols []string
		rows [][]any
	}{
		{"SELECT 1", []string{""}, [][]any{{int64(1)}}},
		{"select 1 AS one, N'x' + 'y' two", []string{"one", "two"}, [][]any{{int64(1), "xy"}}},
		{"SELECT @@VERSION", []string{""}, [][]any{{"Microsoft SQL Server 2019 (RTM) - 15.0.2000.5 (X64)"}}},
		{"SELECT name FROM sys.server_principals WHERE type = 'S' ORDER BY name DESC", []string{"name"}, [][]any{{"sa"}, {"bastion_sql"}}},
		{"SELECT TOP (1) p.name FROM master.sys.server_principals AS p WHERE p.is_disabled = 0 AND type IN ('S','U') ORDER BY principal_id", []string{"name"}, [][]any{{`PRIV\Administrator`}}},
		{"SELECT COUNT(*) AS n FROM sys.server_principals WHERE name LIKE 'b%'", []string{"n"}, [][]any{{int64(1)}}},
		{"SELECT r.name FROM sys.server_role_members AS m JOIN sys.server_principals AS r ON r.principal_id = m.role_principal_id JOIN sys.server_principals AS p ON p.principal_id = m.member_principal_id WHERE p.name = 'BASTION_SQL'", []string{"name"}, [][]any{{"sysadmin"}}},
		{"SELECT CAST(SERVERPROPERTY('IsClustered') AS int) AS c, CAST(SERVERPROPERTY('ProductVersion') AS nvarchar(128)) v, SERVERPROPERTY('NoSuch') AS n", []string{"c", "v", "n"}, [][]any{{int64(1), "15.0.2000.5", nil}}},
		{"SELECT QUOTENAME(N'a]b'), IS_SRVROLEMEMBER('sysadmin'), HAS_PERMS_BY_NAME(NULL, NULL, 'VIEW SERVER STATE')", []string{"", "", ""}, [][]any{{"[a]]b]", int64(1), int64(1)}}},
		{"SELECT CASE WHEN 1 > 2 THEN 'a' ELSE 'bc' END AS c, ISNULL(NULL, 5) i", []string{"c", "i"}, [][]any{{"bc", int64(5)}}},
		{"DECLARE @n int = 2; SELECT @n * 3 AS six", []string{"six"}, [][]any{{int64(6)}}},
		// Binary operators associate to the left; * binds tighter than +, AND than OR.
		{"SELECT 10 - 2 - 3 AS a, 1 + 2 * 3 AS b, 7 % 4 * 2 AS c", []string{"a", "b", "c"}, [][]any{{int64(5), int64(7), int64(6)}}},
		{"SELECT 1 AS x WHERE 1 = 0 AND 1 = 0 OR 1 = 1", []string{"x"}, [][]any{{int64(1)}}},
		{"SELECT (1 + 2) * 3 AS nine, ISNULL(NULL, 4) AS four WHERE 2 IN (1, 2)", []string{"nine", "four"}, [][]any{{int64(9), int64(4)}}},
		{"DECLARE @s nvarchar(100) = N'SELECT 2 AS two'; EXEC (@s)", []string{"two"}, [][]any{{int64(2)}}},
		{"SELECT name FROM sys.server_principals ORDER BY 1 OFFSETX", nil, nil},
	}
	for _, tc := range tests[:len(tests)-1] {
		sets, err := run(t, tc.sql)
		if err != nil {
			t.Errorf("%s: %v", tc.sql, err)
			continue
		}
		if len(sets) != 1 {
			t.Errorf("%s: %d result sets", tc.sql, len(sets))
			continue
		}
		var names []string
		for _, c := range sets[0].Columns {
			names = append(names, c.Name)
		}
		if !reflect.DeepEqual(names, tc.cols) || !reflect.DeepEqual(sets[0].Rows, tc.rows) {
			t.Errorf("%s:\n got %v %v\nwant %v %v", tc.sql, names, sets[0].Rows, tc.cols, tc.rows)
		}
	}
}

func TestErrors(t *testing.T) {
	tests := []struct {
		sql    string
		number int32
		class  uint8
		msg    string
	}{
		{"SELECT name, no_such_column FROM sys.server_principals", 207, 16, "Invalid column name 'no_such_column'."},
		{"SELECT name FROM sys.no_such_view", 208, 16, "Invalid object name 'sys.no_such_view'."},
		{"SELECT name FROM server_principals", 208, 16, "Invalid object name 'server_principals'."},
		{"SELEC 1", 2812, 16, "Could not find stored procedure 'SELEC'."},
		{"SELECT 1 FROM", 156, 15, "Incorrect syntax near the keyword 'FROM'."},
		{"SELECT 1 +", 102, 15, "Incorrect syntax near '+'."},
		{"SELECT FROM sys.databases", 156, 15, "Incorrect syntax near the keyword 'FROM'."},
		{"SELECT 'abc", 105, 15, "Unclosed quotation mark after the character string 'abc'."},
		{"SELECT x.name FROM sys.server_principals AS p", 4104, 16, `The multi-part identifier "x.name" could not be bound.`},
		{"SELECT name FROM sys.server_principals a JOIN sys.server_principals b ON a.principal_id = b.principal_id", 209, 16, "Ambiguous column name 'name'."},
		{"SELECT @x", 137, 15, `Must declare the scalar variable "@x".`},
		{"SELECT (SELECT 1)", 1046, 15, "Subqueries are not allowed in this context. Only scalar expressions are allowed."},
		{"SELECT NO_SUCH_FN(1)", 195, 15, "'NO_SUCH_FN' is not a recognized built-in function name."},
		{"SELECT 1; SELECT NodeName FROM sys.dm_os_cluster_nodes", 297, 16, "The user does not have permission to perform this action."},
		{"THROW 50000, N'boom', 3", 50000, 16, "boom"},
		{"SELECT CAST('abc' AS int)", 245, 16, "Conversion failed when converting the varchar value 'abc' to data type int."},
		{"SET NO_SUCH_OPTION ON", 195, 15, "'NO_SUCH_OPTION' is not a recognized SET option."},
		{"SELECT name, COUNT(*) FROM sys.server_principals", 8120, 16, "Column 'sys.server_principals.name' is invalid in the select list because it is not contained in either an aggregate function or the GROUP BY clause."},
		{"USE nodb", 911, 16, "Database 'nodb' does not exist. Make sure that the name is entered correctly."},
		{"DECLARE @s varchar(20) = 'SELECT 1'; EXEC sp_executesql @s", 214, 16, "Procedure expects parameter '@statement' of type 'ntext/nchar/nvarchar'."},
	}
	for _, tc := range tests {
		_, err := run(t, tc.sql)
		if err == nil {
			t.Errorf("%s: no error", tc.sql)
			continue
		}
		if err.Number != tc.number || err.Class != tc.class || err.Message != tc.msg {
			t.Errorf("%s:\n got %d/%d %q\nwant %d/%d %q", tc.sql, err.Number, err.Class, err.Message, tc.number, tc.class, tc.msg)
		}
	}
}

func TestCompileErrorRunsNothing(t *testing.T) {
	h := &fakeHost{}
	s := &Session{Host: h}
	out, err := s.Run("CREATE LOGIN [PRIV\\x] FROM WINDOWS; SELECT nope FROM sys.server_principals")
	if err == nil || err.Number != 207 || len(out) != 0 || len(h.created) != 0 {
		t.Fatalf("err %v, out %v, created %v", err, out, h.created)
	}
}

func TestDynamicSQLWithParameters(t *testing.T) {
	h := &fakeHost{}
	s := &Session{Host: h}
	stmt := `DECLARE @sql nvarchar(max) = N'ALTER SERVER ROLE ' + QUOTENAME(@p2) + N' ADD MEMBER ' + QUOTENAME(@p1);
IF @sql IS NULL THROW 50000, N'The name is not a valid identifier.', 1;
EXEC sys.sp_executesql @sql;`
	if _, err := s.ExecuteSQL(stmt, "@p1 nvarchar(4000),@p2 nvarchar(4000)", []Param{{Name: "@p1", Value: "PRIV\\svc]x"}, {Name: "@p2", Value: "sysadmin"}}); err != nil {
		t.Fatal(err)
	}
	if want := []string{`role sysadmin PRIV\svc]x true`}; !reflect.DeepEqual(h.created, want) {
		t.Fatalf("got %v, want %v", h.created, want)
	}
	_, err := s.ExecuteSQL(stmt, "@p1 nvarchar(4000),@p2 nvarchar(4000)", []Param{{Name: "@p1", Value: strings.Repeat("a", 129)}, {Name: "@p2", Value: "sysadmin"}})
	if err == nil || err.Number != 50000 || err.State != 1 {
		t.Fatalf("got %v, want the THROW", err)
	}
	_, err = s.ExecuteSQL("SELECT @p1", "@p1 int", nil)
	if err == nil || err.Number != 8178 {
		t.Fatalf("got %v, want 8178", err)
	}
	sets, err := s.ExecuteSQL("SELECT @p1 + 1 AS n", "@p1 int", []Param{{Name: "@p1", Value: int64(41)}})
	if err != nil || len(sets) != 1 || sets[0].Result.Rows[0][0] != int64(42) {
		t.Fatalf("got %v %v", sets, err)
	}
}

func TestUseChangesDatabase(t *testing.T) {
	s := &Session{Host: &fakeHost{}, Database: "master"}
	out, err := s.Run("USE msdb; SELECT DB_NAME() AS db")
	if err != nil {
		t.Fatal(err)
	}
	if out[0].Database != "msdb" || out[1].Info.Number != 5701 || out[len(out)-1].Result.Rows[0][0] != "msdb" {
		t.Fatalf("out %+v", out)
	}
}
