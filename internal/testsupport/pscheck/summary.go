package pscheck

// The types below mirror the JSON that parse.mjs prints. Field names follow
// the JSON; see parse.mjs for how each is derived from the tree-sitter tree.

// Pos is a 1-based line and column in the script text.
type Pos struct {
	Line   int `json:"line"`
	Column int `json:"column"`
}

// Summary is what parse.mjs reports about one script.
type Summary struct {
	Name        string        `json:"name"`
	Errors      []SyntaxError `json:"errors"`
	ParamBlock  *ParamBlock   `json:"paramBlock"`
	Body        []Statement   `json:"body"`
	Commands    []Command     `json:"commands"`
	Functions   []Function    `json:"functions"`
	MethodCalls []MethodCall  `json:"methodCalls"`
	Hashtables  []Hashtable   `json:"hashtables"`
	Assignments []Assignment  `json:"assignments"`
	Comments    []Comment     `json:"comments"`
}

// SyntaxError is an ERROR node (text the grammar could not parse) or a
// MISSING node (a token the parser had to invent).
type SyntaxError struct {
	Kind string `json:"kind"`
	Pos
	Text string `json:"text"`
}

// ParamBlock is a script's or function's param(...) block.
type ParamBlock struct {
	Pos
	Text   string        `json:"text"`
	Params []ScriptParam `json:"params"`
}

// ScriptParam is one parameter of a param block; Type is the type literal
// written before it ("" when untyped).
type ScriptParam struct {
	Name string `json:"name"`
	Type string `json:"type"`
	Pos
	Text string `json:"text"`
}

// Arg describes an argument or expression. Kind is one of the Arg* constants.
type Arg struct {
	Kind string `json:"kind"`
	Pos
	Text string `json:"text"`
	// Value is the literal value of a string, bareword or number without
	// interpolation; nil when the value is only known at run time.
	Value *string `json:"value,omitempty"`
	// Interpolated is set for an expandable string with $var or $(...) in it;
	// Prefix is its literal text before the first interpolation.
	Interpolated bool   `json:"interpolated,omitempty"`
	Prefix       string `json:"prefix,omitempty"`
	Variable     string `json:"variable,omitempty"`
	Elements     []Arg  `json:"elements,omitempty"`
	Inner        *Arg   `json:"inner,omitempty"`
	Type         string `json:"type,omitempty"`
	Operand      *Arg   `json:"operand,omitempty"`
	// Command and Name are set for Kind "command" (the value of (...) or of an
	// assignment is a command's output).
	Command *int   `json:"command,omitempty"`
	Name    string `json:"name,omitempty"`
	Node    string `json:"node,omitempty"`
}

// Kinds of Arg, as parse.mjs names them.
const (
	ArgNone                 = "none"
	ArgBareword             = "bareword"
	ArgString               = "string"
	ArgExpandableString     = "expandable_string"
	ArgHereString           = "here_string"
	ArgExpandableHereString = "expandable_here_string"
	ArgInt                  = "int"
	ArgReal                 = "real"
	ArgBool                 = "bool"
	ArgNull                 = "null"
	ArgVariable             = "variable"
	ArgSplat                = "splat"
	ArgArray                = "array"
	ArgArraySubexpression   = "array_subexpression"
	ArgSubexpression        = "subexpression"
	ArgParenthesized        = "parenthesized"
	ArgScriptBlock          = "scriptblock"
	ArgHashtable            = "hashtable"
	ArgCast                 = "cast"
	ArgType                 = "type"
	ArgMember               = "member"
	ArgInvocation           = "invocation"
	ArgElement              = "element"
	ArgExpression           = "expression"
	ArgCommand              = "command"
	ArgStatement            = "statement"
)

// IsLiteral reports whether the argument's value is written in the script
// text: a string, bareword or number without interpolation.
func (a *Arg) IsLiteral() bool {
	if a == nil {
		return false
	}
	switch a.Kind {
	case ArgString, ArgHereString, ArgInt, ArgReal:
		return true
	case ArgBareword, ArgExpandableString, ArgExpandableHereString:
		return !a.Interpolated
	case ArgParenthesized, ArgSubexpression:
		return a.Inner.IsLiteral()
	}
	return false
}

// ParamUse is "-Name" in a command, with the argument that follows it.
type ParamUse struct {
	Order int    `json:"order"`
	Name  string `json:"name"`
	Raw   string `json:"raw"`
	Pos
	// Attached is set for -Name:value.
	Attached bool `json:"attached"`
	Value    *Arg `json:"value"`
}

// Positional is an argument not preceded by a parameter name.
type Positional struct {
	Order int `json:"order"`
	Arg
}

// Splat is @name in a command.
type Splat struct {
	Order int    `json:"order"`
	Name  string `json:"name"`
	Pos
}

// Redirection is "> $null", "2>&1" and the like.
type Redirection struct {
	Operator string `json:"operator"`
	Target   string `json:"target"`
}

// Command is one command invocation.
type Command struct {
	ID int `json:"id"`
	// Name is the command name as written; NameKind is "bareword", "string"
	// (& 'C:\x\setup.exe'), "variable" (& $block) or "expression".
	Name       string `json:"name"`
	NameKind   string `json:"nameKind"`
	Invocation string `json:"invocation"`
	Pos
	Text         string        `json:"text"`
	Parameters   []ParamUse    `json:"parameters"`
	Positionals  []Positional  `json:"positionals"`
	Splats       []Splat       `json:"splats"`
	Redirections []Redirection `json:"redirections"`
	StopParsing  bool          `json:"stopParsing"`
}

// Function is a function defined in the script.
type Function struct {
	Name   string        `json:"name"`
	Params []ScriptParam `json:"params"`
	Pos
	Text string `json:"text"`
}

// MethodCall is $x.Method(...) or [Type]::Method(...).
type MethodCall struct {
	Pos
	Text   string `json:"text"`
	Method string `json:"method"`
	Static bool   `json:"static"`
	Target string `json:"target"`
	// TargetKind is "type" ([T]::M), "type_member" ([T]::P.M),
	// "variable" ($x.M) or "expression".
	TargetKind string `json:"targetKind"`
	Type       string `json:"type"`
	Variable   string `json:"variable"`
	Args       []Arg  `json:"args"`
}

// Hashtable is a @{...} literal.
type Hashtable struct {
	Pos
	Text string    `json:"text"`
	Keys []HashKey `json:"keys"`
}

// HashKey is one "key = value" entry.
type HashKey struct {
	Key string `json:"key"`
	Pos
	Value *Arg `json:"value"`
}

// Assignment is "target = value" anywhere in the script. Variable, Key and
// Member describe $v = ..., $v['k'] = ... and $v.m = ...
type Assignment struct {
	Pos
	Target   string `json:"target"`
	Operator string `json:"operator"`
	Value    *Arg   `json:"value"`
	CastType string `json:"castType"`
	Variable string `json:"variable"`
	Key      string `json:"key"`
	Member   string `json:"member"`
}

// Comment is one comment.
type Comment struct {
	Pos
	Text string `json:"text"`
}

// Element is one stage of a pipeline: a command or an expression.
type Element struct {
	Kind    string `json:"kind"`
	Command *int   `json:"command"`
	Name    string `json:"name"`
	Expr    *Arg   `json:"expr"`
}

// Block is one statement block of a compound statement, labelled by its
// clause ("if", "elseif", "else", "body", "clause", "try", "catch",
// "finally", "trap", "named").
type Block struct {
	Label string      `json:"label"`
	Body  []Statement `json:"body"`
}

// Statement is one statement. Kind is "pipeline", "assignment", "flow",
// "if", "loop", "switch", "try", "trap", "function" or "other".
type Statement struct {
	Kind string `json:"kind"`
	Pos
	Text string `json:"text"`
	// assignment
	Target string     `json:"target"`
	Value  *Statement `json:"value"`
	// pipeline
	Elements     []Element     `json:"elements"`
	Redirections []Redirection `json:"redirections"`
	Chained      bool          `json:"chained"`
	// flow: return, throw, exit, break, continue
	Keyword string `json:"keyword"`
	// compound statements
	Blocks []Block `json:"blocks"`
	Loop   string  `json:"loop"`
	// function
	Name   string        `json:"name"`
	Params []ScriptParam `json:"params"`
	Body   []Statement   `json:"body"`
	Node   string        `json:"node"`
}
