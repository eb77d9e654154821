package provider

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// localErrors are the functions that may put an error into a diagnostic
// without report: the error is not a failed remote operation but the
// practitioner's own input or the provider itself.
var localErrors = map[string]string{
	"bastionProvider.Configure":     "parses connect_to and builds the adapters from the provider block",
	"winrmConfig":                   "parses the winrm block",
	"configureDirectory":            "builds the LDAP adapter from the ldap block",
	"configureSQL":                  "builds the SQL adapter from the sql block",
	"settings.boolean":              "parses a boolean setting of the ldap, sql or winrm block",
	"settings.integer":              "parses a whole-number setting of the ldap, sql or winrm block",
	"settings.caFile":               "reads the CA file a provider block names",
	"fsmoRolesResource.ImportState": "parses the import ID",
	"sqlFailoverClusterInstanceResource.ImportState": "parses the import ID",
	"importByID":                           "parses the import ID",
	"recordObject":                         "encodes the private state (a provider bug if it fails)",
	"demolition":                           "decodes the private state (a provider bug if it fails)",
	"domainControllerResource.Delete":      "generating the random local Administrator password fails before anything remote runs",
	"adOptionalFeatureResource.ModifyPlan": "ad.FeatureBlocked judges the levels already read; its error is the rule, not a failed read",
	"topologyDataSourceModel.toTopology":   "parses last_backup timestamps in the configuration",
	"topologyTime":                         "parses a timestamp in the configuration",
	"keepPlanned":                          "converts the plan into a state (a provider bug if it fails)",
}

// TestEveryRemoteErrorGoesThroughReport: no diagnostic in internal/provider
// carries an error (a variable named err, ...Err, a field .Err, or a value
// built from one) except through report.go, which names the host, the
// protocol and the operation, or in a function of localErrors.
func TestEveryRemoteErrorGoesThroughReport(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	var bypasses []string
	used := map[string]bool{}
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") || f == "report.go" {
			continue
		}
		src, err := os.ReadFile(f) //nolint:gosec // G304: the package's own files
		if err != nil {
			t.Fatal(err)
		}
		for _, b := range diagnosticBypasses(t, f, src) {
			if _, ok := localErrors[b.fn]; ok {
				used[b.fn] = true
				continue
			}
			bypasses = append(bypasses, b.String())
		}
	}
	sort.Strings(bypasses)
	for _, b := range bypasses {
		t.Errorf("%s: an error reaches a diagnostic without report (use report, reportWith, reportAt or warnAt with the host, protocol and operation)", b)
	}
	for fn := range localErrors {
		if !used[fn] {
			t.Errorf("localErrors lists %s, which no longer puts an error into a diagnostic: remove it", fn)
		}
	}
}

// TestDiagnosticBypassesCatches holds the walk itself to each way an error
// can reach a diagnostic.
func TestDiagnosticBypassesCatches(t *testing.T) {
	src := `package p
func (r *x) Read() {
	v, err := r.dir.Read(ctx)
	if err != nil {
		resp.Diagnostics.AddError("Not Read", fmt.Sprintf("failed: %v", err))
	}
	msg := "Could not: " + err.Error()
	line := msg + "."
	diags.AddAttributeWarning(path.Root("host"), "Not Checked", line)
	for _, m := range moves {
		diags.AddAttributeError(at, "Not Moved", fmt.Sprint(m.Err))
	}
	lookupErr := other()
	diags.AddWarning("Odd", lookupErr.Error())
	report(&resp.Diagnostics, failure{"Fine", h, viaLDAP, "reading"}, err)
	diags.AddError("Fine", "no error here")
}
`
	got := diagnosticBypasses(t, "p.go", []byte(src))
	var lines []int
	for _, b := range got {
		if b.fn != "x.Read" {
			t.Errorf("bypass in %q, want x.Read", b.fn)
		}
		lines = append(lines, b.line)
	}
	if want := []int{5, 9, 11, 14}; len(lines) != len(want) || lines[0] != 5 || lines[1] != 9 || lines[2] != 11 || lines[3] != 14 {
		t.Errorf("bypasses at lines %v, want %v", lines, want)
	}
}

type bypass struct {
	file, fn string
	line     int
}

func (b bypass) String() string { return b.file + ":" + itoa(b.line) + " (" + b.fn + ")" }

func itoa(n int) string {
	if n < 10 {
		return string(rune('0' + n))
	}
	return itoa(n/10) + string(rune('0'+n%10))
}

// diagnosticBypasses lists the AddError, AddAttributeError, AddWarning and
// AddAttributeWarning calls of src whose arguments hold an error.
func diagnosticBypasses(t *testing.T, name string, src []byte) []bypass {
	t.Helper()
	fset := token.NewFileSet()
	file, err := parser.ParseFile(fset, name, src, 0)
	if err != nil {
		t.Fatal(err)
	}
	var out []bypass
	for _, d := range file.Decls {
		fd, ok := d.(*ast.FuncDecl)
		if !ok || fd.Body == nil {
			continue
		}
		fn := fd.Name.Name
		if fd.Recv != nil && len(fd.Recv.List) == 1 {
			typ := fd.Recv.List[0].Type
			if st, ok := typ.(*ast.StarExpr); ok {
				typ = st.X
			}
			if id, ok := typ.(*ast.Ident); ok {
				fn = id.Name + "." + fn
			}
		}
		tainted := taintedNames(fd.Body)
		ast.Inspect(fd.Body, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok {
				return true
			}
			sel, ok := call.Fun.(*ast.SelectorExpr)
			if !ok {
				return true
			}
			switch sel.Sel.Name {
			case "AddError", "AddAttributeError", "AddWarning", "AddAttributeWarning",
				"NewErrorDiagnostic", "NewAttributeErrorDiagnostic", "NewWarningDiagnostic", "NewAttributeWarningDiagnostic":
			default:
				return true
			}
			for _, a := range call.Args {
				if holdsError(a, tainted) {
					out = append(out, bypass{file: name, fn: fn, line: fset.Position(call.Pos()).Line})
					break
				}
			}
			return true
		})
	}
	return out
}

// errorName: a variable or field that holds an error by this package's naming.
func errorName(name string) bool { return name == "err" || strings.HasSuffix(name, "Err") }

// holdsError reports whether e mentions an error or a tainted variable.
func holdsError(e ast.Node, tainted map[string]bool) bool {
	found := false
	ast.Inspect(e, func(n ast.Node) bool {
		switch x := n.(type) {
		case *ast.Ident:
			if errorName(x.Name) || tainted[x.Name] {
				found = true
			}
		case *ast.FuncLit:
			return false
		}
		return !found
	})
	return found
}

// taintedNames are the variables of body assigned from an expression that
// holds an error (to a fixpoint: msg := ...err...; line := msg + ".").
func taintedNames(body *ast.BlockStmt) map[string]bool {
	tainted := map[string]bool{}
	for changed := true; changed; {
		changed = false
		ast.Inspect(body, func(n ast.Node) bool {
			as, ok := n.(*ast.AssignStmt)
			if !ok {
				return true
			}
			for _, r := range as.Rhs {
				if !holdsError(r, tainted) {
					continue
				}
				for _, l := range as.Lhs {
					if id, ok := l.(*ast.Ident); ok && id.Name != "_" && !errorName(id.Name) && !tainted[id.Name] {
						tainted[id.Name], changed = true, true
					}
				}
			}
			return true
		})
	}
	return tainted
}
