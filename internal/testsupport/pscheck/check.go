package pscheck

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
)

// Names of the checks, as they appear in findings.
const (
	CheckGrammar     = "grammar"
	CheckSignature   = "signature"
	CheckForbidden   = "forbidden"
	CheckPreamble    = "preamble"
	CheckStdout      = "stdout"
	CheckPlaceholder = "placeholder"
	CheckBootstrap   = "bootstrap"
	CheckCommandLine = "command-line"
)

// Role says which rules apply: the bootstrap is the command-line program
// (no param block, it may build the script block and exit); every other
// script is run by it with -Params.
type Role int

const (
	RoleScript Role = iota
	RoleBootstrap
)

// RoleOf returns the role of an embedded script by name.
func RoleOf(name string) Role {
	if strings.TrimSuffix(name, ".ps1") == "bootstrap" {
		return RoleBootstrap
	}
	return RoleScript
}

// Finding is one rule broken at one place.
type Finding struct {
	Check   string
	Script  string
	Pos     Pos
	Message string
}

func (f Finding) String() string {
	return fmt.Sprintf("%s:%d:%d: [%s] %s", f.Script, f.Pos.Line, f.Pos.Column, f.Check, f.Message)
}

// Findings is a list of findings.
type Findings []Finding

// Of returns the findings of one check.
func (fs Findings) Of(check string) Findings {
	var out Findings
	for _, f := range fs {
		if f.Check == check {
			out = append(out, f)
		}
	}
	return out
}

func (fs Findings) String() string {
	var b strings.Builder
	for _, f := range fs {
		b.WriteString(f.String())
		b.WriteByte('\n')
	}
	return b.String()
}

// CheckScript parses text and runs every text check on it. The command-line
// check is separate (CheckCommandLineText): it applies to the bootstrap as
// encoded on the command line.
func CheckScript(name, text string, role Role) (Findings, error) {
	s, err := ParseText(name, text)
	if err != nil {
		return nil, err
	}
	return CheckSummary(s, text, role), nil
}

// CheckSummary runs every check on an already parsed script.
func CheckSummary(s *Summary, text string, role Role) Findings {
	var out Findings
	out = append(out, CheckGrammarErrors(s)...)
	out = append(out, CheckSignatures(s, role)...)
	out = append(out, CheckDynamicCode(s, role)...)
	out = append(out, CheckStrictPreamble(s, role)...)
	out = append(out, CheckOutput(s, role)...)
	out = append(out, CheckPlaceholders(s.Name, text)...)
	if role == RoleBootstrap {
		out = append(out, CheckBootstrapReply(s)...)
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Pos.Line != out[j].Pos.Line {
			return out[i].Pos.Line < out[j].Pos.Line
		}
		return out[i].Pos.Column < out[j].Pos.Column
	})
	return out
}

// CheckGrammarErrors reports every ERROR and MISSING node of the parse.
func CheckGrammarErrors(s *Summary) Findings {
	var out Findings
	for _, e := range s.Errors {
		msg := "the PowerShell grammar cannot parse: " + e.Text
		if e.Kind == "MISSING" {
			msg = "the PowerShell grammar expected " + e.Text + " here"
		}
		out = append(out, Finding{CheckGrammar, s.Name, e.Pos, msg})
	}
	return out
}

// placeholderRE matches template syntax and Go format verbs, including the
// marks Go leaves when a template or a format call misfires.
var placeholderRE = regexp.MustCompile(`\{\{|%(\[\d+\])?[-+# 0]*\d*(\.\d+)?[svq]|%!|<no value>`)

// CheckPlaceholders reports template placeholders and Go format verbs: a
// script is static text, and configuration reaches it only as $Params.
func CheckPlaceholders(name, text string) Findings {
	var out Findings
	for i, line := range strings.Split(text, "\n") {
		for _, loc := range placeholderRE.FindAllStringIndex(line, -1) {
			out = append(out, Finding{CheckPlaceholder, name, Pos{i + 1, loc[0] + 1},
				fmt.Sprintf("%q looks like a template placeholder or Go format verb: scripts are static, values travel in $Params", line[loc[0]:loc[1]])})
		}
	}
	return out
}

// CheckStrictPreamble checks the start of a script: param($Params), then
// Set-StrictMode -Version Latest, then $ErrorActionPreference = 'Stop' (the
// bootstrap has no param block), and that nothing relaxes them later.
func CheckStrictPreamble(s *Summary, role Role) Findings {
	var out Findings
	add := func(pos Pos, msg string) { out = append(out, Finding{CheckPreamble, s.Name, pos, msg}) }
	if role == RoleScript {
		switch {
		case s.ParamBlock == nil:
			add(Pos{1, 1}, "a script must start with param([Parameter(Mandatory = $true)] $Params): the bootstrap passes its input as -Params")
		case len(s.ParamBlock.Params) != 1 || s.ParamBlock.Params[0].Name != "Params":
			add(s.ParamBlock.Pos, "the param block must declare exactly one parameter, $Params (got "+s.ParamBlock.Text+")")
		}
	}
	strict, stop := -1, -1
	for i, st := range s.Body {
		if strict < 0 && isStrictMode(s, st) {
			strict = i
		}
		if stop < 0 && isErrorActionStop(st) {
			stop = i
		}
	}
	at := func(i int) Pos {
		if i < len(s.Body) {
			return s.Body[i].Pos
		}
		return Pos{1, 1}
	}
	switch {
	case strict < 0:
		add(at(0), "Set-StrictMode -Version Latest is missing: it must be the first statement")
	case strict != 0:
		add(at(strict), "Set-StrictMode -Version Latest must be the first statement")
	}
	switch {
	case stop < 0:
		add(at(1), "$ErrorActionPreference = 'Stop' is missing: it must follow Set-StrictMode")
	case stop != 1 && (strict >= 0 || stop != 0):
		add(at(stop), "$ErrorActionPreference = 'Stop' must be the second statement, right after Set-StrictMode")
	}
	for _, c := range s.Commands {
		if !strings.EqualFold(c.Name, "Set-StrictMode") {
			continue
		}
		for _, u := range c.Parameters {
			if strings.EqualFold(u.Name, "Off") || (strings.EqualFold(u.Name, "Version") && (u.Value == nil || u.Value.Value == nil || !strings.EqualFold(*u.Value.Value, "Latest"))) {
				add(u.Pos, "Set-StrictMode must stay at -Version Latest")
			}
		}
	}
	for _, a := range s.Assignments {
		if !strings.EqualFold(a.Variable, "ErrorActionPreference") || a.Key != "" || a.Member != "" {
			continue
		}
		if a.Value == nil || a.Value.Value == nil || !strings.EqualFold(*a.Value.Value, "Stop") {
			add(a.Pos, "$ErrorActionPreference must stay 'Stop' (use -ErrorAction on one command instead)")
		}
	}
	return out
}

func isStrictMode(s *Summary, st Statement) bool {
	if st.Kind != "pipeline" || len(st.Elements) != 1 || st.Elements[0].Command == nil {
		return false
	}
	c := s.Commands[*st.Elements[0].Command]
	if !strings.EqualFold(c.Name, "Set-StrictMode") || len(c.Parameters) != 1 || len(c.Positionals) != 0 {
		return false
	}
	u := c.Parameters[0]
	return strings.EqualFold(u.Name, "Version") && u.Value != nil && u.Value.Value != nil && strings.EqualFold(*u.Value.Value, "Latest")
}

func isErrorActionStop(st Statement) bool {
	if st.Kind != "assignment" || !strings.EqualFold(st.Target, "$ErrorActionPreference") || st.Value == nil {
		return false
	}
	v := st.Value
	if v.Kind != "pipeline" || len(v.Elements) != 1 || v.Elements[0].Expr == nil {
		return false
	}
	e := v.Elements[0].Expr
	return e.IsLiteral() && e.Value != nil && strings.EqualFold(*e.Value, "Stop")
}

// walkStatements calls fn for every statement, blocks and function bodies
// included.
func walkStatements(list []Statement, fn func(Statement)) {
	for _, st := range list {
		fn(st)
		if st.Value != nil {
			walkStatements([]Statement{*st.Value}, fn)
		}
		for _, b := range st.Blocks {
			walkStatements(b.Body, fn)
		}
		walkStatements(st.Body, fn)
	}
}

// codeMethods are .NET methods that turn a string into code.
var codeMethods = map[string]string{
	"newscriptblock": "$ExecutionContext.InvokeCommand.NewScriptBlock builds code from a string",
	"invokescript":   "InvokeScript runs a string as code",
	"addscript":      "[PowerShell]::Create().AddScript runs a string as code",
	"expandstring":   "ExpandString evaluates $(...) inside a string as code",
}

// CheckDynamicCode reports code built from strings outside the bootstrap:
// Invoke-Expression (iex), Add-Type with source code, [ScriptBlock]::Create
// and its relatives, a nested powershell.exe, and `exit`, which would end the
// bootstrap's process before it writes the reply.
func CheckDynamicCode(s *Summary, role Role) Findings {
	var out Findings
	add := func(pos Pos, msg string) { out = append(out, Finding{CheckForbidden, s.Name, pos, msg}) }
	for _, c := range s.Commands {
		name := strings.ToLower(c.Name)
		prog := ProgramName(c.Name)
		switch {
		case name == "invoke-expression" || name == "iex":
			add(c.Pos, c.Name+" runs a string as code: configuration must reach scripts as data ($Params), never as code")
		case prog == "powershell" || prog == "pwsh":
			add(c.Pos, "a nested "+c.Name+" runs text as code; the bootstrap is the only PowerShell command line")
		case name == "add-type":
			for _, u := range c.Parameters {
				if strings.EqualFold(u.Name, "TypeDefinition") || strings.EqualFold(u.Name, "MemberDefinition") {
					add(u.Pos, "Add-Type -"+u.Name+" compiles source text at run time")
				}
			}
			if len(c.Positionals) > 0 {
				add(c.Pos, "Add-Type with a positional argument compiles source text at run time (name -AssemblyName if that was meant)")
			}
		}
	}
	if role == RoleBootstrap {
		return out
	}
	for _, m := range s.MethodCalls {
		method := strings.ToLower(m.Method)
		t := normType(m.Type)
		switch {
		case method == "create" && (t == "scriptblock" || t == "management.automation.scriptblock"):
			add(m.Pos, "[ScriptBlock]::Create builds code from a string: only the bootstrap may do that, with the embedded script text")
		case codeMethods[method] != "":
			add(m.Pos, codeMethods[method])
		case method == "exit" && t == "environment":
			add(m.Pos, "[Environment]::Exit ends the bootstrap's process before it writes the reply: throw instead")
		}
	}
	walkStatements(s.Body, func(st Statement) {
		if st.Kind == "flow" && st.Keyword == "exit" {
			add(st.Pos, "exit ends the bootstrap's process before it writes the reply: throw an exception or return a result instead")
		}
	})
	return out
}

// normType lower-cases a .NET type name and drops a leading "system.".
func normType(t string) string {
	t = strings.ToLower(strings.TrimSpace(t))
	return strings.TrimPrefix(t, "system.")
}
