package tsql

import (
	"strings"
)

// binder resolves names (views, columns, variables, functions) and types
// before anything runs, raising SQL Server's compile errors.
type binder struct {
	vars scope
}

func (b *binder) stmt(st Stmt) *Error {
	switch s := st.(type) {
	case *SelectStmt:
		return b.selectStmt(s)
	case *DeclareStmt:
		for _, d := range s.Vars {
			k := strings.ToLower(d.Name)
			if _, ok := b.vars[k]; ok {
				return errVariableDeclared(d.Name)
			}
			if d.Init != nil {
				if _, err := b.value(d.Init, nil); err != nil {
					return err
				}
			}
			b.vars[k] = &variable{typ: d.Type}
		}
	case *SetVarStmt:
		if _, ok := b.vars[strings.ToLower(s.Name)]; !ok {
			return errMustDeclare(s.Name)
		}
		_, err := b.value(s.Expr, nil)
		return err
	case *SetOptionStmt:
		for _, o := range s.Options {
			if !setOptions[o] {
				return errUnknownSetOption(o)
			}
		}
	case *IfStmt:
		if err := b.condition(s.Cond, nil); err != nil {
			return err
		}
		if err := b.stmt(s.Then); err != nil {
			return err
		}
		if s.Else != nil {
			return b.stmt(s.Else)
		}
	case *BlockStmt:
		for _, in := range s.Stmts {
			if err := b.stmt(in); err != nil {
				return err
			}
		}
	case *ThrowStmt:
		for _, e := range []Expr{s.Number, s.Message, s.State} {
			if _, err := b.value(e, nil); err != nil {
				return err
			}
		}
	case *ExecStmt:
		for _, a := range s.Args {
			if _, err := b.value(a.Value, nil); err != nil {
				return err
			}
		}
	case *CreateLoginStmt:
		if s.Password != nil {
			if _, err := b.value(s.Password, nil); err != nil {
				return err
			}
		}
		for name, e := range s.Options {
			if !loginOptions[name] {
				return errSyntaxNear(name)
			}
			if _, err := b.value(e, nil); err != nil {
				return err
			}
		}
	case *AlterLoginStmt:
		for name, e := range s.Options {
			if !loginOptions[name] && name != "PASSWORD" {
				return errSyntaxNear(name)
			}
			if _, err := b.value(e, nil); err != nil {
				return err
			}
		}
	case *PrintStmt:
		_, err := b.value(s.Expr, nil)
		return err
	}
	return nil
}

// setOptions are the SET options SQL Server accepts that drivers and tools send.
// https://learn.microsoft.com/sql/t-sql/statements/set-statements-transact-sql
var setOptions = map[string]bool{}

// loginOptions are CREATE/ALTER LOGIN's WITH options the lab accepts.
var loginOptions = map[string]bool{"DEFAULT_DATABASE": true, "DEFAULT_LANGUAGE": true, "CHECK_POLICY": true, "CHECK_EXPIRATION": true, "SID": true, "NAME": true}

func init() {
	for _, o := range strings.Fields(`ANSI_DEFAULTS ANSI_NULL_DFLT_OFF ANSI_NULL_DFLT_ON ANSI_NULLS ANSI_PADDING
		ANSI_WARNINGS ARITHABORT ARITHIGNORE CONCAT_NULL_YIELDS_NULL CONTEXT_INFO CURSOR_CLOSE_ON_COMMIT
		DATEFIRST DATEFORMAT DEADLOCK_PRIORITY FMTONLY FORCEPLAN IMPLICIT_TRANSACTIONS LANGUAGE LOCK_TIMEOUT
		NOCOUNT NOEXEC NUMERIC_ROUNDABORT PARSEONLY QUERY_GOVERNOR_COST_LIMIT QUOTED_IDENTIFIER REMOTE_PROC_TRANSACTIONS
		ROWCOUNT SHOWPLAN_ALL SHOWPLAN_TEXT SHOWPLAN_XML STATISTICS TEXTSIZE XACT_ABORT`) {
		setOptions[o] = true
	}
	setOptions["TRANSACTION ISOLATION LEVEL"] = true
}

// tables is the FROM sources visible to an expression.
type tables []*TableRef

func (b *binder) selectStmt(s *SelectStmt) *Error {
	var from tables
	for _, t := range s.From {
		if t.Schema == "" {
			return errInvalidObject(t.display())
		}
		v, ok := LookupView(t.Schema, t.Name)
		if !ok {
			return errInvalidObject(t.display())
		}
		t.view = v
		from = append(from, t)
		if t.On != nil {
			if err := b.condition(t.On, from); err != nil {
				return err
			}
		}
	}
	s.cols, s.exprs = nil, nil
	for _, it := range s.Items {
		if it.Star {
			if len(from) == 0 {
				return errNoTablesStar()
			}
			found := false
			for ti, t := range from {
				if it.Qualifier != "" && !t.matches(it.Qualifier) {
					continue
				}
				found = true
				for ci, c := range t.view.Columns {
					s.cols = append(s.cols, c)
					s.exprs = append(s.exprs, &ColumnRef{Parts: []string{c.Name}, table: ti, col: ci, typ: c.Type})
				}
			}
			if !found {
				return errNotBound(it.Qualifier)
			}
			continue
		}
		t, err := b.value(it.Expr, from)
		if err != nil {
			return err
		}
		if it.Assign != "" {
			if _, ok := b.vars[strings.ToLower(it.Assign)]; !ok {
				return errMustDeclare(it.Assign)
			}
		}
		if t.Kind == KindNull {
			t = Int
		}
		c := Column{Name: it.Alias, Type: t, Nullable: true}
		if c.Name == "" {
			if ref, ok := it.Expr.(*ColumnRef); ok {
				c.Name = ref.Parts[len(ref.Parts)-1]
				c.Nullable = from[ref.table].view.Columns[ref.col].Nullable || from[ref.table].Join == "LEFT"
			}
		}
		s.cols = append(s.cols, c)
		s.exprs = append(s.exprs, it.Expr)
	}
	if s.Where != nil {
		if hasAggregate(s.Where) {
			return errAggregateInWhere()
		}
		if err := b.condition(s.Where, from); err != nil {
			return err
		}
	}
	if s.Top != nil {
		if _, err := b.value(s.Top, nil); err != nil {
			return err
		}
	}
	for i, o := range s.OrderBy {
		if lit, ok := o.Expr.(*Literal); ok {
			if n, ok := lit.Value.(int64); ok {
				if n < 1 || int(n) > len(s.cols) {
					return errOrderByNumber(int(n))
				}
				s.OrderBy[i].Expr = &ColumnRef{Parts: []string{s.cols[n-1].Name}, alias: int(n), typ: s.cols[n-1].Type}
				continue
			}
		}
		if ref, ok := o.Expr.(*ColumnRef); ok && len(ref.Parts) == 1 {
			if k := aliasIndex(s, ref.Parts[0]); k > 0 {
				ref.alias, ref.typ = k, s.cols[k-1].Type
				continue
			}
		}
		if _, err := b.value(o.Expr, from); err != nil {
			return err
		}
	}
	for _, e := range s.exprs {
		if hasAggregate(e) {
			s.hasAggr = true
		}
	}
	if s.hasAggr {
		for _, e := range s.exprs {
			if ref := bareColumn(e); ref != nil {
				t := from[ref.table]
				return errNotInAggregate(t.display() + "." + from[ref.table].view.Columns[ref.col].Name)
			}
		}
	}
	return nil
}

// aliasIndex is 1 + the index of the select-list item named name, or 0.
func aliasIndex(s *SelectStmt, name string) int {
	for i, it := range s.Items {
		if it.Alias != "" && strings.EqualFold(it.Alias, name) {
			return i + 1
		}
	}
	return 0
}

func hasAggregate(e Expr) bool {
	if c, ok := e.(*Call); ok && aggregates[c.Name] {
		return true
	}
	found := false
	forEachChild(e, func(c Expr) {
		if hasAggregate(c) {
			found = true
		}
	})
	return found
}

// bareColumn returns a column reference of e outside any aggregate.
func bareColumn(e Expr) *ColumnRef {
	switch n := e.(type) {
	case *ColumnRef:
		if n.alias == 0 {
			return n
		}
		return nil
	case *Call:
		if aggregates[n.Name] {
			return nil
		}
	}
	var out *ColumnRef
	forEachChild(e, func(c Expr) {
		if out == nil {
			out = bareColumn(c)
		}
	})
	return out
}

func (t *TableRef) matches(q string) bool {
	if t.Alias != "" {
		return strings.EqualFold(t.Alias, q)
	}
	return strings.EqualFold(t.Name, q)
}

// condition binds a predicate (WHERE, ON, IF, WHEN): it must be boolean.
func (b *binder) condition(e Expr, from tables) *Error {
	t, err := b.bind(e, from)
	if err != nil {
		return err
	}
	if t.Kind != kindBool {
		return newErr(4145, 15, 1, "An expression of non-boolean type specified in a context where a condition is expected, near '%s'.", exprText(e))
	}
	return nil
}

// value binds an expression that yields a value (not a predicate).
func (b *binder) value(e Expr, from tables) (Type, *Error) {
	t, err := b.bind(e, from)
	if err != nil {
		return t, err
	}
	if t.Kind == kindBool {
		if bin, ok := e.(*Binary); ok {
			return t, errSyntaxNear(bin.Op)
		}
		return t, errSyntaxNear(exprText(e))
	}
	return t, nil
}

func exprText(e Expr) string {
	switch n := e.(type) {
	case *ColumnRef:
		return strings.Join(n.Parts, ".")
	case *VarRef:
		return n.Name
	case *Literal:
		if s, ok := n.Value.(string); ok {
			return s
		}
	case *IsNull:
		return "NULL"
	}
	return ")"
}

func (b *binder) bind(e Expr, from tables) (Type, *Error) {
	switch n := e.(type) {
	case *Literal:
		return n.Type, nil
	case *ColumnRef:
		if n.alias > 0 {
			return n.typ, nil
		}
		return b.column(n, from)
	case *VarRef:
		v, ok := b.vars[strings.ToLower(n.Name)]
		if !ok {
			return Type{}, errMustDeclare(n.Name)
		}
		return v.typ, nil
	case *GlobalRef:
		t, ok := globalTypes[n.Name]
		if !ok {
			return Type{}, errMustDeclare(n.Name)
		}
		return t, nil
	case *Unary:
		t, err := b.value(n.X, from)
		if err != nil {
			return t, err
		}
		if t.IsString() || t.Kind == KindVarBinary || t.Kind == KindDateTime {
			return t, errOperand(t, map[string]string{"-": "minus", "+": "plus", "~": "~"}[n.Op])
		}
		return t, nil
	case *Binary:
		switch n.Op {
		case "AND", "OR":
			if err := b.condition(n.L, from); err != nil {
				return Type{}, err
			}
			if err := b.condition(n.R, from); err != nil {
				return Type{}, err
			}
			return Type{Kind: kindBool}, nil
		}
		lt, err := b.value(n.L, from)
		if err != nil {
			return lt, err
		}
		rt, err := b.value(n.R, from)
		if err != nil {
			return rt, err
		}
		switch n.Op {
		case "=", "<>", "<", ">", "<=", ">=":
			return Type{Kind: kindBool}, nil
		}
		n.typ, err = arithmeticType(n.Op, lt, rt)
		return n.typ, err
	case *Not:
		return Type{Kind: kindBool}, b.condition(n.X, from)
	case *IsNull:
		_, err := b.value(n.X, from)
		return Type{Kind: kindBool}, err
	case *In:
		if _, err := b.value(n.X, from); err != nil {
			return Type{}, err
		}
		for _, l := range n.List {
			if _, err := b.value(l, from); err != nil {
				return Type{}, err
			}
		}
		return Type{Kind: kindBool}, nil
	case *Like:
		if _, err := b.value(n.X, from); err != nil {
			return Type{}, err
		}
		_, err := b.value(n.Pattern, from)
		return Type{Kind: kindBool}, err
	case *Between:
		for _, x := range []Expr{n.X, n.Lo, n.Hi} {
			if _, err := b.value(x, from); err != nil {
				return Type{}, err
			}
		}
		return Type{Kind: kindBool}, nil
	case *Call:
		fn, ok := functions[n.Name]
		if !ok {
			return Type{}, errUnknownFunction(n.Name)
		}
		n.fn = fn
		if n.Star && n.Name != "COUNT" {
			return Type{}, errSyntaxNear("*")
		}
		if !n.Star && (len(n.Args) < fn.min || len(n.Args) > fn.max) {
			if fn.min == fn.max {
				return Type{}, errArgCount(n.Name, fn.min)
			}
			return Type{}, newErr(189, 15, 1, "The %s function requires %d to %d arguments.", strings.ToLower(n.Name), fn.min, fn.max)
		}
		types := make([]Type, len(n.Args))
		for i, a := range n.Args {
			if fn.aggregate && hasAggregate(a) {
				return Type{}, newErr(130, 16, 1, "Cannot perform an aggregate function on an expression containing an aggregate or a subquery.")
			}
			t, err := b.value(a, from)
			if err != nil {
				return t, err
			}
			types[i] = t
		}
		n.typ = fn.ret(types)
		return n.typ, nil
	case *Cast:
		if _, err := b.value(n.X, from); err != nil {
			return Type{}, err
		}
		return n.Type, nil
	case *Case:
		if n.Operand != nil {
			if _, err := b.value(n.Operand, from); err != nil {
				return Type{}, err
			}
		}
		var result Type
		first := true
		for _, w := range n.Whens {
			if n.Operand != nil {
				if _, err := b.value(w.When, from); err != nil {
					return Type{}, err
				}
			} else if err := b.condition(w.When, from); err != nil {
				return Type{}, err
			}
			t, err := b.value(w.Then, from)
			if err != nil {
				return t, err
			}
			if first || t.precedence() > result.precedence() || (t.Kind == result.Kind && t.Len > result.Len) {
				result, first = t, false
			}
		}
		if n.Else != nil {
			t, err := b.value(n.Else, from)
			if err != nil {
				return t, err
			}
			if t.precedence() > result.precedence() || (t.Kind == result.Kind && t.Len > result.Len) {
				result = t
			}
		}
		n.typ = result
		return result, nil
	}
	return Type{}, errSyntaxNear("")
}

// column resolves a column reference against the FROM sources.
func (b *binder) column(n *ColumnRef, from tables) (Type, *Error) {
	name := n.Parts[len(n.Parts)-1]
	full := strings.Join(n.Parts, ".")
	if len(n.Parts) == 1 {
		found := -1
		for ti, t := range from {
			if ci := t.view.ColumnIndex(name); ci >= 0 {
				if found >= 0 {
					return Type{}, errAmbiguousColumn(name)
				}
				found, n.table, n.col = ti, ti, ci
			}
		}
		if found < 0 {
			return Type{}, errInvalidColumn(name)
		}
		n.typ = from[n.table].view.Columns[n.col].Type
		return n.typ, nil
	}
	qual := n.Parts[len(n.Parts)-2]
	schema := ""
	if len(n.Parts) >= 3 {
		schema = n.Parts[len(n.Parts)-3]
	}
	for ti, t := range from {
		if !t.matches(qual) || (schema != "" && (t.Alias != "" || !strings.EqualFold(schema, t.Schema))) {
			continue
		}
		ci := t.view.ColumnIndex(name)
		if ci < 0 {
			return Type{}, errInvalidColumn(name)
		}
		n.table, n.col, n.typ = ti, ci, t.view.Columns[ci].Type
		return n.typ, nil
	}
	return Type{}, errNotBound(full)
}

// arithmeticType is the type of l op r under data type precedence; + on
// strings concatenates.
func arithmeticType(op string, l, r Type) (Type, *Error) {
	if l.Kind == KindNull {
		l = r
	}
	if r.Kind == KindNull {
		r = l
	}
	t := higher(l, r)
	if t.IsString() {
		if op != "+" {
			return t, errOperand(t, opName(op))
		}
		n := Max
		if l.Len != Max && r.Len != Max {
			n = l.Len + r.Len
			if (t.IsUnicode() && n > 4000) || n > 8000 {
				n = Max
			}
		}
		if l.IsUnicode() || r.IsUnicode() {
			return NVarChar(n), nil
		}
		return VarChar(n), nil
	}
	switch t.Kind {
	case KindVarBinary, KindDateTimeOffset, KindVariant:
		return t, errOperand(t, opName(op))
	case KindBit, KindTinyInt, KindSmallInt:
		if op == "+" || op == "-" || op == "*" || op == "/" || op == "%" {
			return Int, nil
		}
	}
	return t, nil
}

func opName(op string) string {
	return map[string]string{"+": "add", "-": "subtract", "*": "multiply", "/": "divide", "%": "modulo", "&": "bitwise and", "|": "bitwise or", "^": "bitwise xor"}[op]
}
