package sqlserver

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bastion-pam/terraform-provider-bastion/internal/lab/tdssim/tsql"
)

// sqlSenders are the Client methods that send SQL text, by the index of
// their text argument.
var sqlSenders = map[string]int{"query": 2, "exec": 2, "execIdempotent": 2}

// TestEverySentTextIsInStatements finds every SQL text the adapter's code
// passes to a sender and requires it to be one of Statements, so that the
// catalog check below sees every text the adapter can send.
func TestEverySentTextIsInStatements(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	consts := map[string]bool{}
	for name, text := range statementNames() {
		if listed(text) {
			consts[name] = true
		}
	}
	fset := token.NewFileSet()
	calls := 0
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		file, err := parser.ParseFile(fset, f, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(file, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok {
				return true
			}
			sel, ok := call.Fun.(*ast.SelectorExpr)
			if !ok {
				return true
			}
			i, sends := sqlSenders[sel.Sel.Name]
			if !sends || len(call.Args) <= i {
				return true
			}
			if recv, ok := sel.X.(*ast.Ident); !ok || recv.Name != "c" {
				return true
			}
			calls++
			id, ok := call.Args[i].(*ast.Ident)
			if !ok || !consts[id.Name] {
				t.Errorf("%s: %s sends %s, which is not a constant listed in Statements", fset.Position(call.Pos()), sel.Sel.Name, render(call.Args[i]))
			}
			return true
		})
	}
	if calls < len(Statements)-1 {
		t.Fatalf("found %d calls that send SQL; the scan is broken", calls)
	}
}

func listed(text string) bool {
	for _, s := range Statements {
		if s == text {
			return true
		}
	}
	return false
}

// statementNames maps each exported SQL constant's name to its text.
func statementNames() map[string]string {
	return map[string]string{
		"QueryServerInfo": QueryServerInfo, "QueryClusterNodes": QueryClusterNodes, "QuerySharedPaths": QuerySharedPaths,
		"QueryStartTime":       QueryStartTime,
		"QueryFailoverCluster": QueryFailoverCluster, "QueryDatabaseExists": QueryDatabaseExists, "QueryLogin": QueryLogin,
		"QueryAllLogins":         QueryAllLogins,
		"StmtCreateWindowsLogin": StmtCreateWindowsLogin, "StmtDropLogin": StmtDropLogin,
		"StmtAddRoleMember": StmtAddRoleMember, "StmtDropRoleMember": StmtDropRoleMember,
	}
}

func render(e ast.Expr) string {
	switch x := e.(type) {
	case *ast.Ident:
		return x.Name
	case *ast.BasicLit:
		return x.Value
	}
	return "an expression"
}

// TestStatementsCompileAgainstTheCatalog compiles every text through the
// lab's T-SQL parser and binder over SQL Server's documented catalog: an
// unknown view, column, function or variable fails here, not on a real server.
// Parameters are declared as go-mssqldb declares a Go string.
func TestStatementsCompileAgainstTheCatalog(t *testing.T) {
	params := map[string]tsql.Type{"@p1": tsql.NVarChar(4000), "@p2": tsql.NVarChar(4000)}
	if len(Statements) != len(statementNames()) {
		t.Fatalf("Statements has %d texts, the name table %d: keep them together", len(Statements), len(statementNames()))
	}
	for name, text := range statementNames() {
		if err := tsql.Compile(text, params); err != nil {
			t.Errorf("%s does not compile: %v\n%s", name, err, text)
		}
	}
}

// The check must be able to fail: texts with a misspelt column, a wrong
// view, an unknown function and an undeclared parameter are refused.
func TestCatalogCheckCatchesMistakes(t *testing.T) {
	params := map[string]tsql.Type{"@p1": tsql.NVarChar(4000)}
	for text, number := range map[string]int32{
		strings.Replace(QueryLogin, "p.is_disabled", "p.disabled", 1):                         207,
		strings.Replace(QueryClusterNodes, "sys.dm_os_cluster_nodes", "sys.cluster_nodes", 1): 208,
		strings.Replace(QueryServerInfo, "SERVERPROPERTY", "SERVER_PROPERTY", 1):              195,
		strings.Replace(QueryDatabaseExists, "@p1", "@p3", 1):                                 137,
		strings.Replace(StmtDropLogin, "QUOTENAME(@p1)", "QUOTENAME(@p1", 1):                  102,
	} {
		err := tsql.Compile(text, params)
		if err == nil || err.Number != number {
			t.Errorf("got %v, want Msg %d for\n%s", err, number, text)
		}
	}
}
