package pscheck

import (
	"strings"
)

// CheckOutput approximates "nothing reaches stdout but the result".
//
// The bootstrap assigns whatever the script block emits to $result and
// serialises it as the one JSON reply, so every object a script writes to
// the pipeline becomes part of its result, and anything the bootstrap itself
// writes to the pipeline lands on stdout beside the reply. The check walks
// the statement tree:
//
//   - A statement emits unless it is an assignment (to $null too), a
//     throw/break/continue/exit, a function definition, a cast to [void], a
//     pipeline ending in Out-Null or redirected with > $null (or *> $null), an
//     increment, a command documented to write nothing (Set-StrictMode,
//     Start-Service without -PassThru, ...: the Output column of the table),
//     or a call of a method known to return void ([IO.File]::WriteAllBytes,
//     List[T].Add, Dispose, ...; a variable's type is taken from
//     New-Object -TypeName '...', [T]::new() or a cast on assignment).
//     Everything else is assumed to emit: unknown commands, external
//     programs (their stdout), other method calls, bare expressions.
//   - In a runnable script, the last top-level statement (and, when it is an
//     if, switch or try, the last statement of each of its branches but not
//     of a finally block) and `return <value>` anywhere are the result and may
//     emit. Loop bodies never may. The bootstrap may emit nothing: it writes
//     its reply with [Console]::Out.Write.
//   - A function defined in the script follows the same rule inside its body;
//     a call of it at statement level emits when its body can.
//   - Write-Host, Out-Host, Out-Default, echo/write and direct [Console]
//     writes outside the bootstrap are reported wherever they are.
//
// It does not follow script blocks passed as arguments (ForEach-Object
// { ... } is judged as a whole by its position) nor data flow: a variable
// holding an ArrayList makes $x.Add() emit at run time, which the check only
// catches when the type is visible at the assignment.
func CheckOutput(s *Summary, role Role) Findings {
	c := &outputChecker{s: s, role: role, types: variableTypes(s), funcs: map[string]bool{}}
	// Functions first: a call's effect depends on its body.
	walkStatements(s.Body, func(st Statement) {
		if st.Kind == "function" {
			c.funcs[strings.ToLower(st.Name)] = c.bodyEmits(st.Body)
		}
	})
	for _, cmd := range s.Commands {
		switch strings.ToLower(cmd.Name) {
		case "write-host", "out-host", "out-default":
			c.add(cmd.Pos, cmd.Name+" writes to stdout beside the JSON reply: return data in the result object instead")
		case "echo", "write":
			c.add(cmd.Pos, cmd.Name+" (Write-Output) adds to the script's result: return one object as the last statement instead")
		}
	}
	if role == RoleScript {
		for _, m := range s.MethodCalls {
			if isConsoleWrite(m) {
				c.add(m.Pos, "direct console write "+m.Text+": only the bootstrap writes to stdout")
			}
		}
	}
	c.list(s.Body, role == RoleScript, "the script")
	return c.out
}

type outputChecker struct {
	s     *Summary
	role  Role
	types map[string]string
	funcs map[string]bool
	out   Findings
	quiet bool // when set, only compute, do not report
}

func (c *outputChecker) add(pos Pos, msg string) {
	if !c.quiet {
		c.out = append(c.out, Finding{CheckStdout, c.s.Name, pos, msg})
	}
}

// bodyEmits reports whether a function body can emit a value (its last
// statement or a return with a value), checking its other statements.
func (c *outputChecker) bodyEmits(body []Statement) bool {
	emits := false
	walkStatements(body, func(st Statement) {
		if st.Kind == "flow" && st.Keyword == "return" && st.Value != nil {
			emits = true
		}
	})
	if i := lastIndex(body); i >= 0 {
		saved := c.quiet
		c.quiet = true
		emits = emits || c.emitsAt(body[i], true)
		c.quiet = saved
	}
	c.list(body, true, "the function")
	return emits
}

// emitsAt reports whether a statement at a result position emits something.
func (c *outputChecker) emitsAt(st Statement, allowed bool) bool {
	switch st.Kind {
	case "pipeline":
		return c.pipelineEmits(st)
	case "if", "switch", "try":
		for _, b := range st.Blocks {
			if i := lastIndex(b.Body); i >= 0 && b.Label != "finally" && c.emitsAt(b.Body[i], allowed) {
				return true
			}
		}
	}
	return false
}

func lastIndex(list []Statement) int {
	for i := len(list) - 1; i >= 0; i-- {
		if list[i].Kind != "function" {
			return i
		}
	}
	return -1
}

// list checks a statement list; allowLast lets its last statement emit.
func (c *outputChecker) list(list []Statement, allowLast bool, where string) {
	last := lastIndex(list)
	for i, st := range list {
		c.stmt(st, allowLast && i == last, where)
	}
}

func (c *outputChecker) stmt(st Statement, allowed bool, where string) {
	switch st.Kind {
	case "pipeline":
		if !allowed && c.pipelineEmits(st) {
			msg := "this statement writes to the pipeline, so its output joins " + where + "'s result; assign it ($null = ...), cast it to [void] or pipe it to Out-Null"
			if c.role == RoleBootstrap {
				msg = "this statement writes to the pipeline, which the bootstrap sends to stdout beside its reply; assign it or cast it to [void]"
			}
			c.add(st.Pos, msg)
		}
	case "if", "switch", "try":
		for _, b := range st.Blocks {
			c.list(b.Body, allowed && b.Label != "finally", where)
		}
	case "loop", "trap":
		for _, b := range st.Blocks {
			c.list(b.Body, false, where)
		}
	case "function":
		// checked when its calls are resolved (bodyEmits)
	}
}

// pipelineEmits reports whether a pipeline statement writes objects.
func (c *outputChecker) pipelineEmits(st Statement) bool {
	for _, r := range st.Redirections {
		op := strings.TrimSpace(r.Operator)
		if (op == ">" || op == "1>" || op == "*>" || op == ">>" || op == "1>>" || op == "*>>") && strings.EqualFold(r.Target, "$null") {
			return false
		}
	}
	if len(st.Elements) == 0 {
		return false
	}
	last := st.Elements[len(st.Elements)-1]
	if last.Command != nil {
		return c.commandEmits(&c.s.Commands[*last.Command])
	}
	return c.exprEmits(last.Expr)
}

func (c *outputChecker) commandEmits(cmd *Command) bool {
	name := strings.ToLower(cmd.Name)
	if cmd.NameKind == "bareword" {
		if emits, ok := c.funcs[name]; ok {
			return emits
		}
	}
	switch name {
	case "out-null":
		return false
	case "write-host", "out-host", "out-default", "echo", "write":
		return false // reported on their own
	}
	if sig, ok := Lookup(cmd.Name); ok && cmd.NameKind == "bareword" {
		switch sig.Output {
		case OutputNever:
			return false
		case OutputPassThru:
			for _, u := range cmd.Parameters {
				if strings.EqualFold(u.Name, "PassThru") {
					return u.Value == nil || u.Value.Kind != ArgBool || !strings.EqualFold(u.Value.Variable, "false")
				}
			}
			return false
		}
	}
	return true
}

func (c *outputChecker) exprEmits(e *Arg) bool {
	if e == nil {
		return false
	}
	switch e.Kind {
	case ArgCast:
		return normType(e.Type) != "void"
	case ArgInvocation:
		for _, m := range c.s.MethodCalls {
			if m.Pos == e.Pos {
				return !c.voidMethod(m)
			}
		}
		return true
	case ArgExpression:
		switch e.Node {
		case "post_increment_expression", "pre_increment_expression", "post_decrement_expression", "pre_decrement_expression":
			return false
		}
	}
	return true
}

func isConsoleWrite(m MethodCall) bool {
	if normType(m.Type) != "console" {
		return false
	}
	method := strings.ToLower(m.Method)
	if m.TargetKind == "type" {
		return method == "write" || method == "writeline"
	}
	return m.TargetKind == "type_member" && strings.HasPrefix(strings.ToLower(m.Target), "[console]::out") ||
		m.TargetKind == "type_member" && strings.HasPrefix(strings.ToLower(m.Target), "[system.console]::out")
}

// staticVoid lists static methods that return void, by normalised type.
var staticVoid = map[string][]string{
	"io.file":          {"writeallbytes", "writealltext", "writealllines", "appendalltext", "appendalllines", "copy", "delete", "move", "replace", "setattributes", "setlastwritetime", "setlastwritetimeutc", "setcreationtime", "setcreationtimeutc", "encrypt", "decrypt"},
	"io.directory":     {"delete", "move", "setcurrentdirectory"},
	"threading.thread": {"sleep"},
	"gc":               {"collect"},
	"environment":      {"setenvironmentvariable"},
	"array":            {"sort", "reverse", "clear", "copy", "resize"},
	"console":          {"write", "writeline"},
}

// instanceVoid lists void instance methods by (a prefix of) the normalised type.
var instanceVoid = []struct {
	typePrefix string
	methods    []string
}{
	{"collections.generic.list[", []string{"add", "addrange", "clear", "insert", "insertrange", "removeat", "removerange", "reverse", "sort", "foreach", "copyto"}},
	{"collections.generic.dictionary[", []string{"add", "clear"}},
	{"collections.generic.sorteddictionary[", []string{"add", "clear"}},
	{"collections.generic.queue[", []string{"enqueue", "clear"}},
	{"collections.generic.stack[", []string{"push", "clear"}},
	{"collections.hashtable", []string{"add", "clear", "remove"}},
	{"hashtable", []string{"add", "clear", "remove"}},
	{"ordered", []string{"add", "clear", "remove", "insert", "removeat"}},
	{"collections.specialized.ordereddictionary", []string{"add", "clear", "remove", "insert", "removeat"}},
	{"io.streamwriter", []string{"write", "writeline", "flush", "close", "dispose"}},
}

func (c *outputChecker) voidMethod(m MethodCall) bool {
	method := strings.ToLower(m.Method)
	switch method {
	case "dispose", "close", "flush":
		return true
	}
	t := normType(m.Type)
	switch m.TargetKind {
	case "type":
		for _, v := range staticVoid[t] {
			if v == method {
				return true
			}
		}
		return false
	case "type_member":
		// [Console]::Out.Write(...) and the like: TextWriter methods.
		return t == "console" && (method == "write" || method == "writeline")
	case "variable":
		vt := c.types[strings.ToLower(m.Variable)]
		if vt == "" {
			return false
		}
		for _, iv := range instanceVoid {
			if strings.HasPrefix(vt, iv.typePrefix) {
				for _, v := range iv.methods {
					if v == method {
						return true
					}
				}
			}
		}
	}
	return false
}

// variableTypes infers the .NET type of variables from their assignments:
// New-Object -TypeName '<literal>', [T]::new(...), [T]$x = ..., @{} and
// [ordered]@{}. A variable assigned two different types gets none.
func variableTypes(s *Summary) map[string]string {
	out := map[string]string{}
	conflict := map[string]bool{}
	set := func(v, t string) {
		v = strings.ToLower(v)
		if old, ok := out[v]; ok && old != t {
			conflict[v] = true
		}
		out[v] = t
	}
	for _, a := range s.Assignments {
		if a.Variable == "" || a.Key != "" || a.Member != "" {
			continue
		}
		if a.CastType != "" {
			set(a.Variable, normType(a.CastType))
			continue
		}
		v := a.Value
		if v == nil {
			set(a.Variable, "")
			continue
		}
		switch {
		case v.Kind == ArgCommand && v.Command != nil && strings.EqualFold(s.Commands[*v.Command].Name, "New-Object"):
			cmd := s.Commands[*v.Command]
			set(a.Variable, newObjectType(&cmd))
		case v.Kind == ArgHashtable:
			set(a.Variable, "hashtable")
		case v.Kind == ArgCast && normType(v.Type) == "ordered":
			set(a.Variable, "ordered")
		case v.Kind == ArgInvocation:
			t := ""
			for _, m := range s.MethodCalls {
				if m.Pos == v.Pos && m.TargetKind == "type" && strings.EqualFold(m.Method, "new") {
					t = normType(m.Type)
				}
			}
			set(a.Variable, t)
		default:
			set(a.Variable, "")
		}
	}
	for v := range conflict {
		out[v] = ""
	}
	return out
}
