package tsql

// Statements of a batch. Bind fills the fields marked "bound".

// Stmt is one statement.
type Stmt interface{ stmt() }

// SelectStmt is SELECT [DISTINCT] [TOP (n)] items [FROM ...] [WHERE ...] [ORDER BY ...].
type SelectStmt struct {
	Distinct bool
	Top      Expr
	Items    []SelectItem
	From     []*TableRef // the first, then each joined table
	Where    Expr
	OrderBy  []OrderItem

	cols    []Column // bound: the result's columns
	exprs   []Expr   // bound: one expression per result column (stars expanded)
	hasAggr bool     // bound: the select list aggregates every row into one
}

// SelectItem is one entry of a select list.
type SelectItem struct {
	Star      bool   // * or q.*
	Qualifier string // q of q.*
	Expr      Expr
	Alias     string
	Assign    string // SELECT @v = expr
}

// TableRef is a FROM source: [db.][schema.]name [AS alias], joined by Join ON On.
type TableRef struct {
	DB, Schema, Name string
	Alias            string
	Join             string // "" for the first source, else INNER, LEFT or CROSS
	On               Expr

	view *View // bound
}

func (t *TableRef) display() string {
	s := t.Name
	if t.Schema != "" {
		s = t.Schema + "." + s
	}
	if t.DB != "" {
		s = t.DB + "." + s
	}
	return s
}

// OrderItem is one ORDER BY key.
type OrderItem struct {
	Expr Expr
	Desc bool
}

// DeclareStmt is DECLARE @a type [= expr], ....
type DeclareStmt struct{ Vars []VarDecl }

// VarDecl is one variable declaration.
type VarDecl struct {
	Name string
	Type Type
	Init Expr
}

// SetVarStmt is SET @v = expr.
type SetVarStmt struct {
	Name string
	Expr Expr
}

// SetOptionStmt is SET option value (ANSI_NULLS ON, TEXTSIZE 4096, ...).
type SetOptionStmt struct {
	Options []string // upper case; several for SET A, B ON
	Value   string   // upper case
}

// IfStmt is IF cond stmt [ELSE stmt].
type IfStmt struct {
	Cond       Expr
	Then, Else Stmt
}

// BlockStmt is BEGIN ... END.
type BlockStmt struct{ Stmts []Stmt }

// ThrowStmt is THROW number, message, state.
type ThrowStmt struct{ Number, Message, State Expr }

// ExecStmt is EXEC[UTE] procedure args.
type ExecStmt struct {
	Proc []string // name parts, e.g. sys, sp_executesql
	Args []ExecArg
}

// ExecArg is a positional or named (@name = value) argument.
type ExecArg struct {
	Name  string
	Value Expr
}

// CreateLoginStmt is CREATE LOGIN name FROM WINDOWS | WITH PASSWORD = ...
type CreateLoginStmt struct {
	Name        string
	FromWindows bool
	Password    Expr
	Options     map[string]Expr // DEFAULT_DATABASE, CHECK_POLICY, ...
}

// AlterLoginStmt is ALTER LOGIN name ENABLE | DISABLE | WITH ....
type AlterLoginStmt struct {
	Name    string
	Enable  *bool
	Options map[string]Expr
}

// DropLoginStmt is DROP LOGIN name.
type DropLoginStmt struct{ Name string }

// AlterServerRoleStmt is ALTER SERVER ROLE role ADD|DROP MEMBER member.
type AlterServerRoleStmt struct {
	Role, Member string
	Add          bool
}

// UseStmt is USE database.
type UseStmt struct{ Database string }

// PrintStmt is PRINT expr.
type PrintStmt struct{ Expr Expr }

func (*SelectStmt) stmt()          {}
func (*DeclareStmt) stmt()         {}
func (*SetVarStmt) stmt()          {}
func (*SetOptionStmt) stmt()       {}
func (*IfStmt) stmt()              {}
func (*BlockStmt) stmt()           {}
func (*ThrowStmt) stmt()           {}
func (*ExecStmt) stmt()            {}
func (*CreateLoginStmt) stmt()     {}
func (*AlterLoginStmt) stmt()      {}
func (*DropLoginStmt) stmt()       {}
func (*AlterServerRoleStmt) stmt() {}
func (*UseStmt) stmt()             {}
func (*PrintStmt) stmt()           {}

// Expr is an expression.
type Expr interface{ expr() }

// Literal is a constant.
type Literal struct {
	Value any
	Type  Type
}

// ColumnRef is [[schema.]table.]column.
type ColumnRef struct {
	Parts []string

	table, col int // bound
	typ        Type
	alias      int // bound to a select-list alias (ORDER BY): index+1
}

// VarRef is @name.
type VarRef struct{ Name string }

// GlobalRef is @@name.
type GlobalRef struct{ Name string }

// Unary is -x, +x or ~x.
type Unary struct {
	Op string
	X  Expr
}

// Binary is an arithmetic, comparison or logical operator.
type Binary struct {
	Op   string // + - * / % = <> < > <= >= AND OR
	L, R Expr

	typ Type // bound
}

// Not is NOT x.
type Not struct{ X Expr }

// IsNull is x IS [NOT] NULL.
type IsNull struct {
	X   Expr
	Not bool
}

// In is x [NOT] IN (list).
type In struct {
	X    Expr
	List []Expr
	Not  bool
}

// Like is x [NOT] LIKE pattern.
type Like struct {
	X, Pattern Expr
	Not        bool
}

// Between is x [NOT] BETWEEN lo AND hi.
type Between struct {
	X, Lo, Hi Expr
	Not       bool
}

// Call is a built-in function call; Star for COUNT(*).
type Call struct {
	Name string // upper case
	Args []Expr
	Star bool

	fn  *function // bound
	typ Type      // bound
	agg int       // bound: index of the aggregate slot, for aggregates
}

// Cast is CAST(x AS type) or CONVERT(type, x).
type Cast struct {
	X    Expr
	Type Type
}

// Case is CASE [operand] WHEN ... THEN ... [ELSE ...] END.
type Case struct {
	Operand Expr
	Whens   []When
	Else    Expr

	typ Type // bound
}

// When is one WHEN ... THEN ... arm.
type When struct{ When, Then Expr }

func (*Literal) expr()   {}
func (*ColumnRef) expr() {}
func (*VarRef) expr()    {}
func (*GlobalRef) expr() {}
func (*Unary) expr()     {}
func (*Binary) expr()    {}
func (*Not) expr()       {}
func (*IsNull) expr()    {}
func (*In) expr()        {}
func (*Like) expr()      {}
func (*Between) expr()   {}
func (*Call) expr()      {}
func (*Cast) expr()      {}
func (*Case) expr()      {}
