package tsql

import (
	"encoding/hex"
	"slices"
	"strconv"
	"strings"
)

// reserved are T-SQL's reserved keywords the parser meets; a misplaced one
// is error 156, any other token error 102.
// https://learn.microsoft.com/sql/t-sql/language-elements/reserved-keywords-transact-sql
var reserved = map[string]bool{}

func init() {
	for _, k := range strings.Fields(`ADD ALL ALTER AND ANY AS ASC BEGIN BETWEEN BY CASE CAST CONVERT CREATE CROSS
		DECLARE DEFAULT DELETE DESC DISTINCT DROP ELSE END EXEC EXECUTE EXISTS FROM FULL GROUP HAVING IF IN
		INNER INSERT INTO IS JOIN LEFT LIKE LOGIN NOT NULL ON OR ORDER OUTER PRINT RIGHT SELECT SET TABLE
		THEN TOP UNION UPDATE USE VALUES WHEN WHERE WITH`) {
		if k != "LOGIN" {
			reserved[k] = true
		}
	}
}

type parser struct {
	toks []token
	i    int
}

// newParser lexes src for a parser that starts at its first token.
func newParser(src string) (*parser, *Error) {
	toks, err := lex(src)
	if err != nil {
		return nil, err
	}
	return &parser{toks: toks}, nil
}

// Parse parses a batch.
func Parse(src string) ([]Stmt, *Error) {
	p, err := newParser(src)
	if err != nil {
		return nil, err
	}
	var out []Stmt
	for {
		for p.peek().op(";") {
			p.i++
		}
		if p.peek().kind == tEOF {
			return out, nil
		}
		s, err := p.statement()
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
}

func (p *parser) peek() token { return p.toks[p.i] }

func (p *parser) peekAt(n int) token {
	if p.i+n < len(p.toks) {
		return p.toks[p.i+n]
	}
	return p.toks[len(p.toks)-1]
}

func (p *parser) next() token {
	t := p.toks[p.i]
	if t.kind != tEOF {
		p.i++
	}
	return t
}

// fail is the syntax error at the current token; at the end of the batch
// SQL Server names the last token.
func (p *parser) fail() *Error {
	t := p.peek()
	if t.kind == tEOF {
		if p.i == 0 {
			return errSyntaxNear("")
		}
		t = p.toks[p.i-1]
	}
	if t.kind == tIdent && !t.quoted && reserved[strings.ToUpper(t.text)] {
		return errSyntaxKeyword(strings.ToUpper(t.text))
	}
	near := t.raw
	if t.kind == tString || t.kind == tNString {
		near = t.text
	}
	return errSyntaxNear(near)
}

func (p *parser) accept(kw string) bool {
	if p.peek().keyword(kw) {
		p.i++
		return true
	}
	return false
}

func (p *parser) expect(kw string) *Error {
	if !p.accept(kw) {
		return p.fail()
	}
	return nil
}

func (p *parser) acceptOp(o string) bool {
	if p.peek().op(o) {
		p.i++
		return true
	}
	return false
}

func (p *parser) expectOp(o string) *Error {
	if !p.acceptOp(o) {
		return p.fail()
	}
	return nil
}

// name reads an identifier that is not a reserved keyword (unless delimited).
func (p *parser) name() (string, *Error) {
	t := p.peek()
	if t.kind != tIdent || (!t.quoted && reserved[strings.ToUpper(t.text)]) {
		return "", p.fail()
	}
	p.i++
	return t.text, nil
}

// multipart reads a.b.c.
func (p *parser) multipart() ([]string, *Error) {
	n, err := p.name()
	if err != nil {
		return nil, err
	}
	parts := []string{n}
	for p.peek().op(".") && p.peekAt(1).kind == tIdent {
		p.i++
		n, err := p.name()
		if err != nil {
			return nil, err
		}
		parts = append(parts, n)
	}
	return parts, nil
}

func (p *parser) statement() (Stmt, *Error) {
	t := p.peek()
	switch {
	case t.keyword("SELECT"):
		return p.selectStmt()
	case t.keyword("DECLARE"):
		return p.declare()
	case t.keyword("SET"):
		return p.set()
	case t.keyword("IF"):
		p.i++
		cond, err := p.expr()
		if err != nil {
			return nil, err
		}
		s := &IfStmt{Cond: cond}
		if s.Then, err = p.statement(); err != nil {
			return nil, err
		}
		p.acceptOp(";")
		if p.accept("ELSE") {
			if s.Else, err = p.statement(); err != nil {
				return nil, err
			}
		}
		return s, nil
	case t.keyword("BEGIN"):
		p.i++
		b := &BlockStmt{}
		for {
			for p.acceptOp(";") {
			}
			if p.accept("END") {
				return b, nil
			}
			if p.peek().kind == tEOF {
				return nil, p.fail()
			}
			s, err := p.statement()
			if err != nil {
				return nil, err
			}
			b.Stmts = append(b.Stmts, s)
		}
	case t.keyword("THROW"):
		p.i++
		s := &ThrowStmt{}
		var err *Error
		if s.Number, err = p.expr(); err != nil {
			return nil, err
		}
		if err := p.expectOp(","); err != nil {
			return nil, err
		}
		if s.Message, err = p.expr(); err != nil {
			return nil, err
		}
		if err := p.expectOp(","); err != nil {
			return nil, err
		}
		if s.State, err = p.expr(); err != nil {
			return nil, err
		}
		return s, nil
	case t.keyword("EXEC") || t.keyword("EXECUTE"):
		return p.exec()
	case t.keyword("CREATE"):
		return p.createLogin()
	case t.keyword("ALTER"):
		return p.alter()
	case t.keyword("DROP"):
		p.i++
		if !p.accept("LOGIN") {
			return nil, p.fail()
		}
		n, err := p.name()
		if err != nil {
			return nil, err
		}
		return &DropLoginStmt{Name: n}, nil
	case t.keyword("USE"):
		p.i++
		n, err := p.name()
		if err != nil {
			return nil, err
		}
		return &UseStmt{Database: n}, nil
	case t.keyword("PRINT"):
		p.i++
		e, err := p.expr()
		if err != nil {
			return nil, err
		}
		return &PrintStmt{Expr: e}, nil
	case t.kind == tIdent && !t.quoted && !reserved[strings.ToUpper(t.text)] && p.i == 0:
		// A procedure name alone at the start of a batch is an EXEC.
		return p.execBody()
	}
	return nil, p.fail()
}

func (p *parser) selectStmt() (*SelectStmt, *Error) {
	p.i++ // SELECT
	s := &SelectStmt{}
	if p.accept("DISTINCT") {
		s.Distinct = true
	} else {
		p.accept("ALL")
	}
	if p.accept("TOP") {
		var err *Error
		if p.acceptOp("(") {
			if s.Top, err = p.exprClosed(); err != nil {
				return nil, err
			}
		} else if t := p.peek(); t.kind == tNumber {
			s.Top, _ = p.primary()
		} else {
			return nil, p.fail()
		}
	}
	for {
		item, err := p.selectItem()
		if err != nil {
			return nil, err
		}
		s.Items = append(s.Items, item)
		if !p.acceptOp(",") {
			break
		}
	}
	if p.accept("FROM") {
		first, err := p.tableRef()
		if err != nil {
			return nil, err
		}
		s.From = append(s.From, first)
		for {
			join := ""
			switch {
			case p.peek().keyword("JOIN"):
				p.i++
				join = "INNER"
			case p.peek().keyword("INNER") && p.peekAt(1).keyword("JOIN"):
				p.i += 2
				join = "INNER"
			case p.peek().keyword("LEFT"):
				p.i++
				p.accept("OUTER")
				if err := p.expect("JOIN"); err != nil {
					return nil, err
				}
				join = "LEFT"
			case p.peek().keyword("CROSS") && p.peekAt(1).keyword("JOIN"):
				p.i += 2
				join = "CROSS"
			case p.acceptOp(","):
				join = "CROSS"
			}
			if join == "" {
				break
			}
			t, err := p.tableRef()
			if err != nil {
				return nil, err
			}
			t.Join = join
			if join != "CROSS" {
				if err := p.expect("ON"); err != nil {
					return nil, err
				}
				if t.On, err = p.expr(); err != nil {
					return nil, err
				}
			}
			s.From = append(s.From, t)
		}
	}
	if p.accept("WHERE") {
		var err *Error
		if s.Where, err = p.expr(); err != nil {
			return nil, err
		}
	}
	if p.peek().keyword("ORDER") {
		p.i++
		if err := p.expect("BY"); err != nil {
			return nil, err
		}
		for {
			e, err := p.expr()
			if err != nil {
				return nil, err
			}
			o := OrderItem{Expr: e}
			if p.accept("DESC") {
				o.Desc = true
			} else {
				p.accept("ASC")
			}
			s.OrderBy = append(s.OrderBy, o)
			if !p.acceptOp(",") {
				break
			}
		}
	}
	return s, nil
}

func (p *parser) selectItem() (SelectItem, *Error) {
	if p.acceptOp("*") {
		return SelectItem{Star: true}, nil
	}
	// q.* (or s.q.*)
	if p.peek().kind == tIdent {
		j := p.i
		var parts []string
		for p.toks[j].kind == tIdent && p.toks[j+1].op(".") {
			parts = append(parts, p.toks[j].text)
			j += 2
		}
		if len(parts) > 0 && p.toks[j].op("*") {
			p.i = j + 1
			return SelectItem{Star: true, Qualifier: parts[len(parts)-1]}, nil
		}
	}
	// @v = expr
	if t := p.peek(); t.kind == tVar && p.peekAt(1).op("=") {
		p.i += 2
		e, err := p.expr()
		if err != nil {
			return SelectItem{}, err
		}
		return SelectItem{Expr: e, Assign: t.text}, nil
	}
	// alias = expr
	if t := p.peek(); (t.kind == tIdent || t.kind == tString) && p.peekAt(1).op("=") && (t.kind != tIdent || t.quoted || !reserved[strings.ToUpper(t.text)]) {
		p.i += 2
		e, err := p.expr()
		if err != nil {
			return SelectItem{}, err
		}
		return SelectItem{Expr: e, Alias: t.text}, nil
	}
	e, err := p.expr()
	if err != nil {
		return SelectItem{}, err
	}
	item := SelectItem{Expr: e}
	if p.accept("AS") {
		t := p.next()
		if t.kind != tIdent && t.kind != tString && t.kind != tNString {
			p.i--
			return item, p.fail()
		}
		item.Alias = t.text
	} else if t := p.peek(); (t.kind == tIdent && (t.quoted || !reserved[strings.ToUpper(t.text)])) || t.kind == tString {
		p.i++
		item.Alias = t.text
	}
	return item, nil
}

func (p *parser) tableRef() (*TableRef, *Error) {
	parts, err := p.multipart()
	if err != nil {
		return nil, err
	}
	if len(parts) > 3 {
		return nil, newErr(117, 15, 1, "The object name '%s' contains more than the maximum number of prefixes. The maximum is 2.", strings.Join(parts, "."))
	}
	t := &TableRef{Name: parts[len(parts)-1]}
	if len(parts) >= 2 {
		t.Schema = parts[len(parts)-2]
	}
	if len(parts) == 3 {
		t.DB = parts[0]
	}
	if p.accept("AS") {
		if t.Alias, err = p.name(); err != nil {
			return nil, err
		}
	} else if tk := p.peek(); tk.kind == tIdent && (tk.quoted || !reserved[strings.ToUpper(tk.text)]) {
		p.i++
		t.Alias = tk.text
	}
	if p.peek().keyword("WITH") && p.peekAt(1).op("(") {
		// Table hints: WITH (NOLOCK) and the like change nothing in the lab.
		p.i += 2
		for !p.acceptOp(")") {
			if p.next().kind == tEOF {
				return nil, p.fail()
			}
		}
	}
	return t, nil
}

func (p *parser) declare() (Stmt, *Error) {
	p.i++
	d := &DeclareStmt{}
	for {
		t := p.next()
		if t.kind != tVar {
			p.i--
			return nil, p.fail()
		}
		p.accept("AS")
		typ, err := p.typeName()
		if err != nil {
			return nil, err
		}
		v := VarDecl{Name: t.text, Type: typ}
		if p.acceptOp("=") {
			if v.Init, err = p.expr(); err != nil {
				return nil, err
			}
		}
		d.Vars = append(d.Vars, v)
		if !p.acceptOp(",") {
			return d, nil
		}
	}
}

// typeName reads a data type: name [(n | max)].
func (p *parser) typeName() (Type, *Error) {
	parts, err := p.multipart()
	if err != nil {
		return Type{}, err
	}
	name := parts[len(parts)-1]
	length, given := 0, false
	if p.acceptOp("(") {
		t := p.next()
		switch {
		case t.keyword("MAX"):
			length = Max
		case t.kind == tNumber:
			n, convErr := strconv.Atoi(t.text)
			if convErr != nil {
				return Type{}, errSyntaxNear(t.raw)
			}
			length = n
		default:
			p.i--
			return Type{}, p.fail()
		}
		given = true
		if p.acceptOp(",") { // decimal(p, s)
			p.next()
		}
		if err := p.expectOp(")"); err != nil {
			return Type{}, err
		}
	}
	return lookupType(name, length, given)
}

func (p *parser) set() (Stmt, *Error) {
	p.i++
	if t := p.peek(); t.kind == tVar {
		p.i++
		if err := p.expectOp("="); err != nil {
			return nil, err
		}
		e, err := p.expr()
		if err != nil {
			return nil, err
		}
		return &SetVarStmt{Name: t.text, Expr: e}, nil
	}
	s := &SetOptionStmt{}
	if p.peek().keyword("TRANSACTION") {
		// SET TRANSACTION ISOLATION LEVEL READ COMMITTED (and the like).
		p.i++
		for _, kw := range []string{"ISOLATION", "LEVEL"} {
			if err := p.expect(kw); err != nil {
				return nil, err
			}
		}
		var words []string
		for p.peek().kind == tIdent && !p.peek().op(";") {
			words = append(words, strings.ToUpper(p.next().text))
			if len(words) == 2 {
				break
			}
		}
		s.Options = []string{"TRANSACTION ISOLATION LEVEL"}
		s.Value = strings.Join(words, " ")
		return s, nil
	}
	for {
		t := p.next()
		if t.kind != tIdent {
			p.i--
			return nil, p.fail()
		}
		s.Options = append(s.Options, strings.ToUpper(t.text))
		if !p.acceptOp(",") {
			break
		}
	}
	t := p.next()
	switch t.kind {
	case tIdent, tNumber, tString, tNString:
		s.Value = strings.ToUpper(t.text)
	case tOp:
		if t.text == "-" && p.peek().kind == tNumber {
			s.Value = "-" + p.next().text
			break
		}
		p.i--
		return nil, p.fail()
	default:
		p.i--
		return nil, p.fail()
	}
	return s, nil
}

func (p *parser) exec() (Stmt, *Error) {
	p.i++
	return p.execBody()
}

func (p *parser) execBody() (Stmt, *Error) {
	// EXEC @ret = proc is not used by drivers; EXEC (@sql) runs dynamic SQL.
	if p.acceptOp("(") {
		e, err := p.exprClosed()
		if err != nil {
			return nil, err
		}
		return &ExecStmt{Proc: []string{"sys", "sp_executesql"}, Args: []ExecArg{{Value: e}}}, nil
	}
	parts, err := p.multipart()
	if err != nil {
		return nil, err
	}
	s := &ExecStmt{Proc: parts}
	if t := p.peek(); t.kind == tEOF || t.op(";") || (t.kind == tIdent && !t.quoted && reserved[strings.ToUpper(t.text)]) {
		return s, nil
	}
	for {
		var a ExecArg
		if t := p.peek(); t.kind == tVar && p.peekAt(1).op("=") {
			p.i += 2
			a.Name = t.text
		}
		if a.Value, err = p.expr(); err != nil {
			return nil, err
		}
		p.accept("OUTPUT")
		s.Args = append(s.Args, a)
		if !p.acceptOp(",") {
			return s, nil
		}
	}
}

func (p *parser) createLogin() (Stmt, *Error) {
	p.i++
	if !p.accept("LOGIN") {
		return nil, p.fail()
	}
	n, err := p.name()
	if err != nil {
		return nil, err
	}
	s := &CreateLoginStmt{Name: n, Options: map[string]Expr{}}
	if p.accept("FROM") {
		if err := p.expect("WINDOWS"); err != nil {
			return nil, err
		}
		s.FromWindows = true
		if p.accept("WITH") {
			if err := p.loginOptions(s.Options); err != nil {
				return nil, err
			}
		}
		return s, nil
	}
	if err := p.expect("WITH"); err != nil {
		return nil, err
	}
	if err := p.loginOptions(s.Options); err != nil {
		return nil, err
	}
	pw, ok := s.Options["PASSWORD"]
	if !ok {
		return nil, p.fail()
	}
	s.Password = pw
	delete(s.Options, "PASSWORD")
	return s, nil
}

// loginOptions reads name = value [, ...] (PASSWORD = '...' [MUST_CHANGE], DEFAULT_DATABASE = db, CHECK_POLICY = OFF).
func (p *parser) loginOptions(into map[string]Expr) *Error {
	for {
		t := p.next()
		if t.kind != tIdent {
			p.i--
			return p.fail()
		}
		if err := p.expectOp("="); err != nil {
			return err
		}
		var v Expr
		switch tk := p.peek(); tk.kind {
		case tIdent:
			p.i++
			v = &Literal{Value: tk.text, Type: SysName}
		default:
			e, err := p.expr()
			if err != nil {
				return err
			}
			v = e
		}
		into[strings.ToUpper(t.text)] = v
		for p.accept("MUST_CHANGE") || p.accept("HASHED") {
		}
		if !p.acceptOp(",") {
			return nil
		}
	}
}

func (p *parser) alter() (Stmt, *Error) {
	p.i++
	switch {
	case p.accept("LOGIN"):
		n, err := p.name()
		if err != nil {
			return nil, err
		}
		s := &AlterLoginStmt{Name: n, Options: map[string]Expr{}}
		switch {
		case p.accept("ENABLE"):
			t := true
			s.Enable = &t
		case p.accept("DISABLE"):
			f := false
			s.Enable = &f
		case p.accept("WITH"):
			if err := p.loginOptions(s.Options); err != nil {
				return nil, err
			}
		default:
			return nil, p.fail()
		}
		return s, nil
	case p.accept("SERVER"):
		if err := p.expect("ROLE"); err != nil {
			return nil, err
		}
		role, err := p.name()
		if err != nil {
			return nil, err
		}
		s := &AlterServerRoleStmt{Role: role}
		switch {
		case p.accept("ADD"):
			s.Add = true
		case p.accept("DROP"):
		default:
			return nil, p.fail()
		}
		if err := p.expect("MEMBER"); err != nil {
			return nil, err
		}
		if s.Member, err = p.name(); err != nil {
			return nil, err
		}
		return s, nil
	}
	return nil, p.fail()
}

// Expressions, by precedence: OR, AND, NOT, comparison/IS/IN/LIKE/BETWEEN,
// + -, * / %, unary.
// https://learn.microsoft.com/sql/t-sql/language-elements/operator-precedence-transact-sql

func (p *parser) expr() (Expr, *Error) { return p.orExpr() }

// exprClosed parses an expression and the ")" that closes it.
func (p *parser) exprClosed() (Expr, *Error) {
	e, err := p.expr()
	if err != nil {
		return nil, err
	}
	return e, p.expectOp(")")
}

// exprList parses expressions separated by commas (an IN list, a call's
// arguments).
func (p *parser) exprList() ([]Expr, *Error) {
	var out []Expr
	for {
		e, err := p.expr()
		if err != nil {
			return nil, err
		}
		out = append(out, e)
		if !p.acceptOp(",") {
			return out, nil
		}
	}
}

// leftAssoc parses one precedence level: operands of the next level joined
// by the level's operators, left-associative. opAt names the operator a
// token is, if it is one of the level's.
func (p *parser) leftAssoc(operand func() (Expr, *Error), opAt func(token) (string, bool)) (Expr, *Error) {
	l, err := operand()
	if err != nil {
		return nil, err
	}
	for {
		op, ok := opAt(p.peek())
		if !ok {
			return l, nil
		}
		p.i++
		r, err := operand()
		if err != nil {
			return nil, err
		}
		l = &Binary{Op: op, L: l, R: r}
	}
}

// keywordOp is a level whose operator is the keyword kw (AND, OR).
func keywordOp(kw string) func(token) (string, bool) {
	return func(t token) (string, bool) { return kw, t.keyword(kw) }
}

// symbolOp is a level whose operators are the symbols ops.
func symbolOp(ops ...string) func(token) (string, bool) {
	return func(t token) (string, bool) { return t.text, t.kind == tOp && slices.Contains(ops, t.text) }
}

func (p *parser) orExpr() (Expr, *Error) { return p.leftAssoc(p.andExpr, keywordOp("OR")) }

func (p *parser) andExpr() (Expr, *Error) { return p.leftAssoc(p.notExpr, keywordOp("AND")) }

func (p *parser) notExpr() (Expr, *Error) {
	if p.accept("NOT") {
		x, err := p.notExpr()
		if err != nil {
			return nil, err
		}
		return &Not{X: x}, nil
	}
	return p.comparison()
}

func (p *parser) comparison() (Expr, *Error) {
	l, err := p.additive()
	if err != nil {
		return nil, err
	}
	t := p.peek()
	if t.kind == tOp {
		switch t.text {
		case "=", "<>", "!=", "<", ">", "<=", ">=", "!<", "!>":
			p.i++
			r, err := p.additive()
			if err != nil {
				return nil, err
			}
			op := map[string]string{"!=": "<>", "!<": ">=", "!>": "<="}[t.text]
			if op == "" {
				op = t.text
			}
			return &Binary{Op: op, L: l, R: r}, nil
		}
	}
	if p.accept("IS") {
		not := p.accept("NOT")
		if err := p.expect("NULL"); err != nil {
			return nil, err
		}
		return &IsNull{X: l, Not: not}, nil
	}
	not := false
	if p.peek().keyword("NOT") && (p.peekAt(1).keyword("IN") || p.peekAt(1).keyword("LIKE") || p.peekAt(1).keyword("BETWEEN")) {
		p.i++
		not = true
	}
	switch {
	case p.accept("IN"):
		if err := p.expectOp("("); err != nil {
			return nil, err
		}
		list, err := p.exprList()
		if err != nil {
			return nil, err
		}
		if err := p.expectOp(")"); err != nil {
			return nil, err
		}
		return &In{X: l, List: list, Not: not}, nil
	case p.accept("LIKE"):
		r, err := p.additive()
		if err != nil {
			return nil, err
		}
		return &Like{X: l, Pattern: r, Not: not}, nil
	case p.accept("BETWEEN"):
		lo, err := p.additive()
		if err != nil {
			return nil, err
		}
		if err := p.expect("AND"); err != nil {
			return nil, err
		}
		hi, err := p.additive()
		if err != nil {
			return nil, err
		}
		return &Between{X: l, Lo: lo, Hi: hi, Not: not}, nil
	}
	if not {
		return nil, p.fail()
	}
	return l, nil
}

func (p *parser) additive() (Expr, *Error) {
	return p.leftAssoc(p.multiplicative, symbolOp("+", "-", "&", "|", "^"))
}

func (p *parser) multiplicative() (Expr, *Error) {
	return p.leftAssoc(p.unary, symbolOp("*", "/", "%"))
}

func (p *parser) unary() (Expr, *Error) {
	if t := p.peek(); t.op("-") || t.op("+") || t.op("~") {
		p.i++
		x, err := p.unary()
		if err != nil {
			return nil, err
		}
		return &Unary{Op: t.text, X: x}, nil
	}
	return p.primary()
}

func (p *parser) primary() (Expr, *Error) {
	t := p.peek()
	switch t.kind {
	case tNumber:
		p.i++
		if strings.Contains(t.text, ".") {
			f, err := strconv.ParseFloat(t.text, 64)
			if err != nil {
				return nil, errSyntaxNear(t.raw)
			}
			return &Literal{Value: f, Type: Type{Kind: KindFloat}}, nil
		}
		n, err := strconv.ParseInt(t.text, 10, 64)
		if err != nil {
			return nil, errSyntaxNear(t.raw)
		}
		typ := Int
		if n > 2147483647 {
			typ = BigInt
		}
		return &Literal{Value: n, Type: typ}, nil
	case tString:
		p.i++
		return &Literal{Value: t.text, Type: VarChar(max(1, len([]rune(t.text))))}, nil
	case tNString:
		p.i++
		return &Literal{Value: t.text, Type: NVarChar(max(1, len([]rune(t.text))))}, nil
	case tBinary:
		p.i++
		s := t.text
		if len(s)%2 == 1 {
			s = "0" + s
		}
		b, err := hex.DecodeString(s)
		if err != nil {
			return nil, errSyntaxNear(t.raw)
		}
		return &Literal{Value: b, Type: VarBinary(max(1, len(b)))}, nil
	case tVar:
		p.i++
		return &VarRef{Name: t.text}, nil
	case tGlobal:
		p.i++
		return &GlobalRef{Name: strings.ToUpper(t.text)}, nil
	case tOp:
		if t.text == "(" {
			p.i++
			if p.peek().keyword("SELECT") {
				return nil, newErr(1046, 15, 1, "Subqueries are not allowed in this context. Only scalar expressions are allowed.")
			}
			return p.exprClosed()
		}
		return nil, p.fail()
	case tIdent:
		switch {
		case t.keyword("NULL"):
			p.i++
			return &Literal{Type: Type{Kind: KindNull}}, nil
		case t.keyword("CAST"):
			p.i++
			if err := p.expectOp("("); err != nil {
				return nil, err
			}
			x, err := p.expr()
			if err != nil {
				return nil, err
			}
			if err := p.expect("AS"); err != nil {
				return nil, err
			}
			typ, err := p.typeName()
			if err != nil {
				return nil, err
			}
			if err := p.expectOp(")"); err != nil {
				return nil, err
			}
			return &Cast{X: x, Type: typ}, nil
		case t.keyword("CONVERT") || t.keyword("TRY_CONVERT"):
			p.i++
			if err := p.expectOp("("); err != nil {
				return nil, err
			}
			typ, err := p.typeName()
			if err != nil {
				return nil, err
			}
			if err := p.expectOp(","); err != nil {
				return nil, err
			}
			x, err := p.expr()
			if err != nil {
				return nil, err
			}
			if p.acceptOp(",") { // style
				if _, err := p.expr(); err != nil {
					return nil, err
				}
			}
			if err := p.expectOp(")"); err != nil {
				return nil, err
			}
			return &Cast{X: x, Type: typ}, nil
		case t.keyword("CASE"):
			return p.caseExpr()
		}
		if !t.quoted && reserved[strings.ToUpper(t.text)] {
			return nil, p.fail()
		}
		parts, err := p.multipart()
		if err != nil {
			return nil, err
		}
		if p.peek().op("(") {
			p.i++
			c := &Call{Name: strings.ToUpper(parts[len(parts)-1])}
			if p.acceptOp("*") {
				c.Star = true
			} else if !p.peek().op(")") {
				p.accept("DISTINCT")
				if c.Args, err = p.exprList(); err != nil {
					return nil, err
				}
			}
			if err := p.expectOp(")"); err != nil {
				return nil, err
			}
			return c, nil
		}
		return &ColumnRef{Parts: parts}, nil
	}
	return nil, p.fail()
}

func (p *parser) caseExpr() (Expr, *Error) {
	p.i++
	c := &Case{}
	var err *Error
	if !p.peek().keyword("WHEN") {
		if c.Operand, err = p.expr(); err != nil {
			return nil, err
		}
	}
	for p.accept("WHEN") {
		var w When
		if w.When, err = p.expr(); err != nil {
			return nil, err
		}
		if err := p.expect("THEN"); err != nil {
			return nil, err
		}
		if w.Then, err = p.expr(); err != nil {
			return nil, err
		}
		c.Whens = append(c.Whens, w)
	}
	if len(c.Whens) == 0 {
		return nil, p.fail()
	}
	if p.accept("ELSE") {
		if c.Else, err = p.expr(); err != nil {
			return nil, err
		}
	}
	if err := p.expect("END"); err != nil {
		return nil, err
	}
	return c, nil
}
