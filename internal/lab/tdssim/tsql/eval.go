package tsql

import (
	"sort"
	"strings"
)

// Host is the server the engine runs on: rows of the catalog views, server
// facts and the effect of DDL. The lab implements it over its model; every
// method is called with the model locked.
type Host interface {
	// Rows returns a view's rows as the caller may see them, values in the
	// view's column order, or the error the caller gets (300/297).
	Rows(v *View) ([][]any, *Error)
	// ServerProperty is SERVERPROPERTY(name): nil for an unknown property.
	ServerProperty(name string) any
	// Global returns @@name (upper case, with @@) and whether the server knows it.
	Global(name string) (any, Type, bool)
	// HasPermsByName is HAS_PERMS_BY_NAME for the caller (1, 0 or nil).
	HasPermsByName(securable, class, permission string) any
	// IsSrvRoleMember is IS_SRVROLEMEMBER(role, login); login "" is the caller.
	IsSrvRoleMember(role, login string) any
	// Login is the caller's login name.
	Login() string
	CreateLogin(name string, windows bool, password, defaultDatabase string) *Error
	AlterLogin(name string, enable *bool, password *string, defaultDatabase string) *Error
	DropLogin(name string) *Error
	AlterServerRole(role, member string, add bool) *Error
	// UseDatabase returns the database's name as the server spells it.
	UseDatabase(name string) (string, *Error)
	// ExecProcedure runs a system procedure other than sp_executesql;
	// found is false when the server has none by that name.
	ExecProcedure(name string, args []any) (out []ResultSet, err *Error, found bool)
}

// ResultSet is the columns and rows a SELECT returns.
type ResultSet struct {
	Columns []Column
	Rows    [][]any
}

// Output is one item of a batch's reply, in order.
type Output struct {
	Result   *ResultSet // a result set
	Info     *Error     // an informational message (PRINT, 5701 after USE)
	Database string     // the database changed to (ENVCHANGE)
	Done     bool       // a statement that returned no rows completed
	Count    int64      // rows affected or returned, for DONE
}

// Param is a typed sp_executesql parameter value as a client sent it.
type Param struct {
	Name  string // with @
	Value any
}

// Session is one connection's state.
type Session struct {
	Host     Host
	Database string
	// NoCount is SET NOCOUNT: DONE tokens carry no row count.
	NoCount bool
	Options map[string]string
	SPID    int
}

type variable struct {
	typ   Type
	value any
}

type scope map[string]*variable

// exec runs one batch.
type exec struct {
	s     *Session
	vars  scope
	out   []Output
	depth int
}

// Run parses, binds and runs a batch. Compile errors (syntax, invalid
// names) stop the batch before any statement runs, as in SQL Server; a
// runtime error stops it where it happens, after the output so far.
func (s *Session) Run(batch string) ([]Output, *Error) {
	x := &exec{s: s, vars: scope{}}
	err := x.runBatch(batch)
	return x.out, err
}

// ExecuteSQL is sp_executesql called over RPC: stmt with its parameter
// declarations (decl, e.g. "@p1 nvarchar(4000),@p2 int") and values.
func (s *Session) ExecuteSQL(stmt, decl string, params []Param) ([]Output, *Error) {
	x := &exec{s: s, vars: scope{}}
	err := x.executeSQL(stmt, decl, params)
	return x.out, err
}

// Compile parses and binds a batch without running it, declaring vars
// (name -> type) first: the check the adapter's texts go through.
func Compile(batch string, vars map[string]Type) *Error {
	x := &exec{vars: scope{}}
	for n, t := range vars {
		x.vars[strings.ToLower(n)] = &variable{typ: t}
	}
	stmts, err := Parse(batch)
	if err != nil {
		return err
	}
	b := &binder{vars: x.vars}
	for _, st := range stmts {
		if err := b.stmt(st); err != nil {
			return err
		}
	}
	return nil
}

func (x *exec) runBatch(src string) *Error {
	stmts, err := Parse(src)
	if err != nil {
		return err
	}
	b := &binder{vars: scope{}}
	for k, v := range x.vars {
		b.vars[k] = v
	}
	for _, st := range stmts {
		if err := b.stmt(st); err != nil {
			return err
		}
	}
	for _, st := range stmts {
		if err := x.stmt(st); err != nil {
			return err
		}
	}
	return nil
}

func (x *exec) executeSQL(stmt, decl string, params []Param) *Error {
	if x.depth > 8 {
		return newErr(217, 16, 1, "Maximum stored procedure, function, trigger, or view nesting level exceeded (limit 32).")
	}
	inner := &exec{s: x.s, vars: scope{}, depth: x.depth + 1}
	if strings.TrimSpace(decl) != "" {
		decls, err := parseParamDecls(decl)
		if err != nil {
			return err
		}
		for i, d := range decls {
			v := &variable{typ: d.Type}
			inner.vars[strings.ToLower(d.Name)] = v
			var val any
			found := false
			for j, p := range params {
				if strings.EqualFold(p.Name, d.Name) || (p.Name == "" && j == i) {
					val, found = p.Value, true
					break
				}
			}
			if !found {
				return newErr(8178, 16, 1, "The parameterized query '(%s)%s' expects the parameter '%s', which was not supplied.", decl, clip(stmt, 30), d.Name)
			}
			cv, err := convert(val, variantType(val), d.Type)
			if err != nil {
				return err
			}
			v.value = cv
		}
	}
	err := inner.runBatch(stmt)
	x.out = append(x.out, inner.out...)
	return err
}

func clip(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n])
	}
	return s
}

// parseParamDecls parses sp_executesql's @params: "@a int, @b nvarchar(10) OUTPUT".
func parseParamDecls(decl string) ([]VarDecl, *Error) {
	p, err := newParser(decl)
	if err != nil {
		return nil, err
	}
	var out []VarDecl
	for {
		t := p.next()
		if t.kind != tVar {
			p.i--
			return nil, p.fail()
		}
		typ, err := p.typeName()
		if err != nil {
			return nil, err
		}
		p.accept("OUTPUT")
		p.accept("OUT")
		out = append(out, VarDecl{Name: t.text, Type: typ})
		if !p.acceptOp(",") {
			break
		}
	}
	if p.peek().kind != tEOF {
		return nil, p.fail()
	}
	return out, nil
}

func (x *exec) emit(o Output) { x.out = append(x.out, o) }

// assign evaluates e into v, converted to v's declared type (DECLARE @v
// type = e, SET @v = e).
func (x *exec) assign(v *variable, e Expr) *Error {
	val, err := x.evalAs(e, v.typ)
	if err != nil {
		return err
	}
	v.value = val
	return nil
}

// evalAs evaluates e outside a row, converted to type to, as CAST does.
func (x *exec) evalAs(e Expr, to Type) (any, *Error) {
	v, t, err := x.eval(e, nil)
	if err != nil {
		return nil, err
	}
	return convert(v, t, to)
}

func (x *exec) stmt(st Stmt) *Error {
	switch s := st.(type) {
	case *SelectStmt:
		return x.selectStmt(s)
	case *DeclareStmt:
		for _, d := range s.Vars {
			v := &variable{typ: d.Type}
			x.vars[strings.ToLower(d.Name)] = v
			if d.Init != nil {
				if err := x.assign(v, d.Init); err != nil {
					return err
				}
			}
		}
	case *SetVarStmt:
		if err := x.assign(x.vars[strings.ToLower(s.Name)], s.Expr); err != nil {
			return err
		}
	case *SetOptionStmt:
		for _, o := range s.Options {
			if x.s.Options == nil {
				x.s.Options = map[string]string{}
			}
			x.s.Options[o] = s.Value
			if o == "NOCOUNT" {
				x.s.NoCount = s.Value == "ON"
			}
		}
	case *IfStmt:
		c, _, err := x.eval(s.Cond, nil)
		if err != nil {
			return err
		}
		if c == true {
			return x.stmt(s.Then)
		}
		if s.Else != nil {
			return x.stmt(s.Else)
		}
	case *BlockStmt:
		for _, in := range s.Stmts {
			if err := x.stmt(in); err != nil {
				return err
			}
		}
	case *ThrowStmt:
		return x.throw(s)
	case *ExecStmt:
		return x.execProc(s)
	case *CreateLoginStmt:
		pw, err := x.evalString(s.Password, NVarChar(Max))
		if err != nil {
			return err
		}
		db, err := x.evalString(s.Options["DEFAULT_DATABASE"], SysName)
		if err != nil {
			return err
		}
		return x.done(x.s.Host.CreateLogin(s.Name, s.FromWindows, pw, db))
	case *AlterLoginStmt:
		var pw *string
		if e, ok := s.Options["PASSWORD"]; ok {
			str, err := x.evalString(e, NVarChar(Max))
			if err != nil {
				return err
			}
			pw = &str
		}
		db, err := x.evalString(s.Options["DEFAULT_DATABASE"], SysName)
		if err != nil {
			return err
		}
		return x.done(x.s.Host.AlterLogin(s.Name, s.Enable, pw, db))
	case *DropLoginStmt:
		return x.done(x.s.Host.DropLogin(s.Name))
	case *AlterServerRoleStmt:
		return x.done(x.s.Host.AlterServerRole(s.Role, s.Member, s.Add))
	case *UseStmt:
		name, err := x.s.Host.UseDatabase(s.Database)
		if err != nil {
			return err
		}
		old := x.s.Database
		x.s.Database = name
		if !strings.EqualFold(old, name) {
			x.emit(Output{Database: name})
			x.emit(Output{Info: newErr(5701, 0, 1, "Changed database context to '%s'.", name)})
		}
		x.emit(Output{Done: true})
	case *PrintStmt:
		msg, err := x.evalString(s.Expr, NVarChar(Max))
		if err != nil {
			return err
		}
		x.emit(Output{Info: newErr(0, 0, 1, "%s", msg)})
	}
	return nil
}

// holds evaluates a search condition (ON, WHERE) on a row: true only when
// it is TRUE, not FALSE or UNKNOWN; an absent condition holds.
func (x *exec) holds(cond Expr, row [][]any) (bool, *Error) {
	if cond == nil {
		return true, nil
	}
	v, _, err := x.eval(cond, &rowCtx{rows: row})
	return v == true, err
}

// done ends a statement that changes the server: its error, or on success
// the DONE token that closes it.
func (x *exec) done(err *Error) *Error {
	if err != nil {
		return err
	}
	x.emit(Output{Done: true})
	return nil
}

// evalString evaluates e as a string of type to; "" when e is absent (nil)
// or does not convert, as the statement's option left out.
func (x *exec) evalString(e Expr, to Type) (string, *Error) {
	if e == nil {
		return "", nil
	}
	v, t, err := x.eval(e, nil)
	if err != nil {
		return "", err
	}
	c, _ := convert(v, t, to)
	str, _ := c.(string)
	return str, nil
}

func (x *exec) throw(s *ThrowStmt) *Error {
	n, nt, err := x.eval(s.Number, nil)
	if err != nil {
		return err
	}
	m, mt, err := x.eval(s.Message, nil)
	if err != nil {
		return err
	}
	st, stt, err := x.eval(s.State, nil)
	if err != nil {
		return err
	}
	num, err := convert(n, nt, Int)
	if err != nil {
		return err
	}
	msg, err := convert(m, mt, NVarChar(2048))
	if err != nil {
		return err
	}
	state, err := convert(st, stt, TinyInt)
	if err != nil {
		return err
	}
	number, _ := num.(int64)
	if number < 50000 {
		return newErr(35100, 16, 10, "Error number %d in the THROW statement is outside the valid range. Specify an error number in the valid range of 50000 to 2147483647.", number)
	}
	text, _ := msg.(string)
	stateN, _ := state.(int64)
	return &Error{Number: int32(number), Class: 16, State: uint8(stateN), Message: text}
}

func (x *exec) execProc(s *ExecStmt) *Error {
	name := strings.ToLower(s.Proc[len(s.Proc)-1])
	if len(s.Proc) > 1 && !strings.EqualFold(s.Proc[len(s.Proc)-2], "sys") && !strings.EqualFold(s.Proc[len(s.Proc)-2], "dbo") {
		return errNoProcedure(strings.Join(s.Proc, "."))
	}
	args := make([]any, len(s.Args))
	types := make([]Type, len(s.Args))
	for i, a := range s.Args {
		v, t, err := x.eval(a.Value, nil)
		if err != nil {
			return err
		}
		args[i], types[i] = v, t
	}
	if name == "sp_executesql" {
		if len(args) == 0 {
			return newErr(201, 16, 4, "Procedure or function 'sp_executesql' expects parameter '@statement', which was not supplied.")
		}
		if !types[0].IsUnicode() && types[0].Kind != KindNull {
			return newErr(214, 16, 2, "Procedure expects parameter '@statement' of type 'ntext/nchar/nvarchar'.")
		}
		stmt, _ := args[0].(string)
		if args[0] == nil {
			x.emit(Output{Done: true})
			return nil // sp_executesql NULL runs nothing
		}
		decl := ""
		var params []Param
		if len(args) > 1 {
			decl, _ = args[1].(string)
			for i := 2; i < len(args); i++ {
				params = append(params, Param{Name: s.Args[i].Name, Value: args[i]})
			}
		}
		return x.executeSQL(stmt, decl, params)
	}
	sets, err, found := x.s.Host.ExecProcedure(name, args)
	if !found {
		return errNoProcedure(strings.Join(s.Proc, "."))
	}
	if err != nil {
		return err
	}
	for i := range sets {
		x.emit(Output{Result: &sets[i], Count: int64(len(sets[i].Rows))})
	}
	return nil
}

// rowCtx is the current row of each FROM source, and the aggregates'
// values once a grouped select list is evaluated.
type rowCtx struct {
	rows  [][]any
	aggs  []any
	items []any // the select list's values, for ORDER BY an alias
}

func (x *exec) selectStmt(s *SelectStmt) *Error {
	tables := make([][][]any, len(s.From))
	for i, t := range s.From {
		rows, err := x.s.Host.Rows(t.view)
		if err != nil {
			return err
		}
		tables[i] = rows
	}
	// Join: nested loops, left to right.
	var tuples [][][]any
	if len(s.From) == 0 {
		tuples = [][][]any{{}}
	} else {
		for _, r := range tables[0] {
			tuples = append(tuples, [][]any{r})
		}
		for i := 1; i < len(s.From); i++ {
			t := s.From[i]
			var next [][][]any
			for _, tup := range tuples {
				matched := false
				for _, r := range tables[i] {
					cand := append(append([][]any(nil), tup...), r)
					ok, err := x.holds(t.On, cand)
					if err != nil {
						return err
					}
					if !ok {
						continue
					}
					matched = true
					next = append(next, cand)
				}
				if !matched && t.Join == "LEFT" {
					next = append(next, append(append([][]any(nil), tup...), nil))
				}
			}
			tuples = next
		}
	}
	var kept [][][]any
	for _, tup := range tuples {
		ok, err := x.holds(s.Where, tup)
		if err != nil {
			return err
		}
		if !ok {
			continue
		}
		kept = append(kept, tup)
	}
	type outRow struct {
		vals []any
		keys []any
		ktyp []Type
	}
	var rows []outRow
	project := func(rc *rowCtx) *Error {
		vals := make([]any, len(s.exprs))
		for i, e := range s.exprs {
			v, t, err := x.eval(e, rc)
			if err != nil {
				return err
			}
			if vals[i], err = convert(v, t, s.cols[i].Type); err != nil {
				return err
			}
		}
		rc.items = vals
		r := outRow{vals: vals}
		for _, o := range s.OrderBy {
			v, t, err := x.eval(o.Expr, rc)
			if err != nil {
				return err
			}
			r.keys = append(r.keys, v)
			r.ktyp = append(r.ktyp, t)
		}
		rows = append(rows, r)
		return nil
	}
	if s.hasAggr {
		aggs, err := x.aggregate(s, kept)
		if err != nil {
			return err
		}
		if err := project(&rowCtx{aggs: aggs}); err != nil {
			return err
		}
	} else {
		for _, tup := range kept {
			if err := project(&rowCtx{rows: tup}); err != nil {
				return err
			}
		}
	}
	var sortErr *Error
	if len(s.OrderBy) > 0 {
		sort.SliceStable(rows, func(i, j int) bool {
			for k, o := range s.OrderBy {
				a, b := rows[i].keys[k], rows[j].keys[k]
				c := 0
				switch {
				case a == nil && b == nil:
				case a == nil:
					c = -1 // NULLs sort first
				case b == nil:
					c = 1
				default:
					var err *Error
					c, err = compare(a, rows[i].ktyp[k], b, rows[j].ktyp[k])
					if err != nil && sortErr == nil {
						sortErr = err
					}
				}
				if o.Desc {
					c = -c
				}
				if c != 0 {
					return c < 0
				}
			}
			return false
		})
	}
	if sortErr != nil {
		return sortErr
	}
	if s.Distinct {
		var uniq []outRow
		for _, r := range rows {
			dup := false
			for _, u := range uniq {
				if sameRow(u.vals, r.vals, s.cols) {
					dup = true
					break
				}
			}
			if !dup {
				uniq = append(uniq, r)
			}
		}
		rows = uniq
	}
	if s.Top != nil {
		n, err := x.evalAs(s.Top, BigInt)
		if err != nil {
			return err
		}
		if k, _ := n.(int64); k >= 0 && int(k) < len(rows) {
			rows = rows[:k]
		}
	}
	// SELECT @v = expr assigns from the last row and returns no result set.
	assign := false
	for i, it := range s.Items {
		if it.Assign != "" {
			assign = true
			if len(rows) > 0 {
				v := x.vars[strings.ToLower(it.Assign)]
				cv, err := convert(rows[len(rows)-1].vals[i], s.cols[i].Type, v.typ)
				if err != nil {
					return err
				}
				v.value = cv
			}
		}
	}
	if assign {
		x.emit(Output{Done: true, Count: int64(len(rows))})
		return nil
	}
	rs := &ResultSet{Columns: s.cols}
	for _, r := range rows {
		rs.Rows = append(rs.Rows, r.vals)
	}
	x.emit(Output{Result: rs, Count: int64(len(rs.Rows))})
	return nil
}

func sameRow(a, b []any, cols []Column) bool {
	for i := range a {
		if (a[i] == nil) != (b[i] == nil) {
			return false
		}
		if a[i] == nil {
			continue
		}
		c, err := compare(a[i], cols[i].Type, b[i], cols[i].Type)
		if err != nil || c != 0 {
			return false
		}
	}
	return true
}

// aggregate computes every aggregate call of a select list over rows.
func (x *exec) aggregate(s *SelectStmt, rows [][][]any) ([]any, *Error) {
	var calls []*Call
	var walk func(e Expr)
	walk = func(e Expr) {
		forEachChild(e, func(c Expr) {
			if call, ok := c.(*Call); ok && call.fn != nil && call.fn.aggregate {
				calls = append(calls, call)
				return
			}
			walk(c)
		})
	}
	for _, e := range s.exprs {
		if call, ok := e.(*Call); ok && call.fn != nil && call.fn.aggregate {
			calls = append(calls, call)
			continue
		}
		walk(e)
	}
	for _, o := range s.OrderBy {
		walk(o.Expr)
	}
	out := make([]any, len(calls))
	for i, c := range calls {
		c.agg = i
		var acc any
		var accT Type
		count := int64(0)
		for _, tup := range rows {
			if c.Star {
				count++
				continue
			}
			v, t, err := x.eval(c.Args[0], &rowCtx{rows: tup})
			if err != nil {
				return nil, err
			}
			if v == nil {
				continue
			}
			count++
			switch c.Name {
			case "MIN", "MAX":
				if acc == nil {
					acc, accT = v, t
					continue
				}
				cmp, err := compare(v, t, acc, accT)
				if err != nil {
					return nil, err
				}
				if (c.Name == "MIN" && cmp < 0) || (c.Name == "MAX" && cmp > 0) {
					acc, accT = v, t
				}
			case "SUM":
				n, err := convert(v, t, BigInt)
				if err != nil {
					return nil, err
				}
				if acc == nil {
					acc = int64(0)
				}
				acc = acc.(int64) + n.(int64)
			}
		}
		if c.Name == "COUNT" {
			acc = count
		}
		out[i] = acc
	}
	return out, nil
}

// forEachChild calls f with each direct sub-expression of e.
func forEachChild(e Expr, f func(Expr)) {
	switch n := e.(type) {
	case *Unary:
		f(n.X)
	case *Binary:
		f(n.L)
		f(n.R)
	case *Not:
		f(n.X)
	case *IsNull:
		f(n.X)
	case *In:
		f(n.X)
		for _, l := range n.List {
			f(l)
		}
	case *Like:
		f(n.X)
		f(n.Pattern)
	case *Between:
		f(n.X)
		f(n.Lo)
		f(n.Hi)
	case *Call:
		for _, a := range n.Args {
			f(a)
		}
	case *Cast:
		f(n.X)
	case *Case:
		if n.Operand != nil {
			f(n.Operand)
		}
		for _, w := range n.Whens {
			f(w.When)
			f(w.Then)
		}
		if n.Else != nil {
			f(n.Else)
		}
	}
}
