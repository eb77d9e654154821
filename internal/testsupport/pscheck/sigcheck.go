package pscheck

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// deniedElsewhere are denied commands that another check reports.
var deniedElsewhere = map[string]string{
	"invoke-expression": CheckForbidden, "iex": CheckForbidden, "powershell": CheckForbidden, "pwsh": CheckForbidden,
	"write-host": CheckStdout, "out-host": CheckStdout, "out-default": CheckStdout, "echo": CheckStdout, "write": CheckStdout,
}

// annotationRE marks a dynamic invocation (& $setup ...) with the program it
// runs, so its arguments can be checked: `# pscheck: program=setup`.
var annotationRE = regexp.MustCompile(`pscheck:\s*program=([A-Za-z0-9_.-]+)`)

type sigChecker struct {
	s      *Summary
	role   Role
	out    Findings
	locals map[string]*Signature
}

// CheckSignatures checks every command the script calls against the
// signature table (and the script's own functions): the command must have a
// row, each parameter must be in it (full name or documented alias), a
// positional argument must have a documented position, and each value must be
// of an acceptable kind. Splatted hashtables are checked when the script
// builds them from a literal.
func CheckSignatures(s *Summary, role Role) Findings {
	c := &sigChecker{s: s, role: role, locals: map[string]*Signature{}}
	for _, f := range s.Functions {
		c.locals[strings.ToLower(f.Name)] = localSignature(f)
	}
	for i := range s.Commands {
		c.command(&s.Commands[i])
	}
	return c.out
}

func (c *sigChecker) add(pos Pos, format string, args ...any) {
	c.out = append(c.out, Finding{CheckSignature, c.s.Name, pos, fmt.Sprintf(format, args...)})
}

// localSignature describes a function the script defines itself.
func localSignature(f Function) *Signature {
	sig := &Signature{Name: f.Name, Kind: Cmdlet, Output: OutputAlways}
	for _, prm := range f.Params {
		sig.Params = append(sig.Params, Param{Name: prm.Name, Kind: kindOfType(prm.Type)})
		sig.Positional = append(sig.Positional, prm.Name)
	}
	return sig
}

// kindOfType maps a PowerShell type literal to a parameter kind.
func kindOfType(t string) Kind {
	n := normType(t)
	switch {
	case n == "":
		return KObject
	case strings.HasSuffix(n, "[]"):
		if n == "string[]" {
			return KStringArray
		}
		return KObjectArray
	}
	switch n {
	case "string":
		return KString
	case "switch", "management.automation.switchparameter":
		return KSwitch
	case "bool", "boolean":
		return KBool
	case "int", "int32", "int64", "long", "uint32", "uint64", "byte", "int16":
		return KInt
	case "securestring", "security.securestring":
		return KSecureString
	case "pscredential", "management.automation.pscredential":
		return KCredential
	case "scriptblock", "management.automation.scriptblock":
		return KScriptBlock
	case "hashtable", "collections.hashtable", "collections.idictionary":
		return KHashtable
	}
	return KObject
}

func (c *sigChecker) annotation(line int) string {
	for _, cm := range c.s.Comments {
		if cm.Line == line || cm.Line == line-1 {
			if m := annotationRE.FindStringSubmatch(cm.Text); m != nil {
				return m[1]
			}
		}
	}
	return ""
}

func (c *sigChecker) command(cmd *Command) {
	name := cmd.Name
	switch cmd.NameKind {
	case "variable", "expression":
		if c.role == RoleBootstrap {
			return // & $block -Params ...: the bootstrap runs the embedded script
		}
		prog := c.annotation(cmd.Line)
		if prog == "" {
			c.add(cmd.Pos, "dynamic command %s: the signature check cannot see what runs; name the program on the line above with `# pscheck: program=<name>` (a row of the table)", name)
			return
		}
		rows := LookupExternal(prog)
		if len(rows) == 0 {
			c.add(cmd.Pos, "annotated program %q has no row in the signature table", prog)
			return
		}
		c.external(cmd, rows)
		return
	}
	lower := strings.ToLower(name)
	if _, elsewhere := deniedElsewhere[lower]; elsewhere {
		return
	}
	if _, elsewhere := deniedElsewhere[ProgramName(name)]; elsewhere {
		return
	}
	if reason, ok := Denied[lower]; ok {
		c.add(cmd.Pos, "%s must not be used: %s", name, reason)
		return
	}
	if sig, ok := c.locals[lower]; ok && cmd.NameKind == "bareword" {
		c.cmdlet(cmd, sig)
		return
	}
	if sig, ok := Lookup(name); ok {
		c.cmdlet(cmd, sig)
		return
	}
	if rows := LookupExternal(name); len(rows) > 0 {
		c.external(cmd, rows)
		return
	}
	hint := ""
	if full, ok := Aliases[lower]; ok {
		hint = fmt.Sprintf(" (%s is an alias of %s: write the full name)", name, full)
	}
	c.add(cmd.Pos, "command %s is not in the signature table (internal/testsupport/pscheck/signatures.go)%s; add a row with its documented parameters and its Microsoft Learn URL", name, hint)
}

type boundArg struct {
	order int
	arg   *Arg
}

func (c *sigChecker) cmdlet(cmd *Command, sig *Signature) {
	var positionals []boundArg
	for i := range cmd.Positionals {
		positionals = append(positionals, boundArg{cmd.Positionals[i].Order, &cmd.Positionals[i].Arg})
	}
	named := map[string]bool{}
	for _, u := range cmd.Parameters {
		prm, ok := sig.FindParam(u.Name)
		if !ok {
			if m := sig.PrefixMatches(u.Name); len(m) == 1 {
				c.add(u.Pos, "-%s abbreviates -%s of %s: write the full parameter name", u.Name, m[0], sig.Name)
			} else {
				c.add(u.Pos, "%s has no parameter -%s (documented: %s; see %s)", sig.Name, u.Name, paramNames(sig), docOf(sig))
			}
			continue
		}
		named[strings.ToLower(prm.Name)] = true
		if prm.Kind == KSwitch {
			if u.Value != nil && !u.Attached {
				// -Force $true: the value is not bound to the switch, it
				// becomes a positional argument.
				positionals = append(positionals, boundArg{u.Order, u.Value})
				continue
			}
			if u.Value != nil {
				c.kind(u.Pos, sig, prm, u.Value)
			}
			continue
		}
		if u.Value == nil {
			c.add(u.Pos, "-%s of %s needs a value (%s)", prm.Name, sig.Name, prm.Kind)
			continue
		}
		c.kind(u.Pos, sig, prm, u.Value)
	}
	sort.SliceStable(positionals, func(i, j int) bool { return positionals[i].order < positionals[j].order })
	slot := 0
	for _, pa := range positionals {
		for slot < len(sig.Positional) && named[strings.ToLower(sig.Positional[slot])] {
			slot++
		}
		if slot >= len(sig.Positional) {
			c.add(pa.arg.Pos, "positional argument %s has no documented position in %s: name its parameter", pa.arg.Text, sig.Name)
			continue
		}
		prm, _ := sig.FindParam(sig.Positional[slot])
		slot++
		c.kind(pa.arg.Pos, sig, prm, pa.arg)
	}
	for _, sp := range cmd.Splats {
		c.splat(cmd, sig, sp)
	}
	if strings.EqualFold(sig.Name, "Start-Process") {
		c.startProcess(cmd)
	}
}

func paramNames(sig *Signature) string {
	prefix := "-"
	if sig.Kind == External {
		prefix = "/"
	}
	var names []string
	for _, prm := range sig.Params {
		names = append(names, prefix+prm.Name)
	}
	if sig.CommonParameters {
		names = append(names, "common parameters")
	}
	if sig.ShouldProcess {
		names = append(names, "-WhatIf", "-Confirm")
	}
	return strings.Join(names, " ")
}

func docOf(sig *Signature) string {
	if sig.DocURL == "" {
		return "the function's param block"
	}
	return sig.DocURL
}

// splat checks @name against the hashtable the script assigns to $name.
func (c *sigChecker) splat(cmd *Command, sig *Signature, sp Splat) {
	keys, found := c.splatKeys(sp.Name)
	if !found {
		c.add(sp.Pos, "@%s: no hashtable literal is assigned to $%s in this script, so its keys cannot be checked against %s", sp.Name, sp.Name, sig.Name)
		return
	}
	for _, k := range keys {
		prm, ok := sig.FindParam(k.Key)
		if !ok {
			c.add(k.Pos, "@%s passes %s, which %s does not have (documented: %s)", sp.Name, k.Key, sig.Name, paramNames(sig))
			continue
		}
		if k.Value != nil {
			c.kind(k.Pos, sig, prm, k.Value)
		}
	}
}

func (c *sigChecker) splatKeys(variable string) ([]HashKey, bool) {
	var keys []HashKey
	found := false
	for _, a := range c.s.Assignments {
		if !strings.EqualFold(a.Variable, variable) {
			continue
		}
		switch {
		case a.Key != "":
			keys = append(keys, HashKey{Key: a.Key, Pos: a.Pos, Value: a.Value})
		case a.Member != "":
			keys = append(keys, HashKey{Key: a.Member, Pos: a.Pos, Value: a.Value})
		case a.Value != nil:
			h := a.Value
			if h.Kind == ArgCast && h.Operand != nil {
				h = h.Operand
			}
			if h.Kind != ArgHashtable {
				continue
			}
			for _, ht := range c.s.Hashtables {
				if ht.Pos == h.Pos {
					keys = append(keys, ht.Keys...)
					found = true
				}
			}
		}
	}
	for _, m := range c.s.MethodCalls {
		if m.TargetKind == "variable" && strings.EqualFold(m.Variable, variable) && strings.EqualFold(m.Method, "Add") && len(m.Args) == 2 && m.Args[0].Value != nil {
			v := m.Args[1]
			keys = append(keys, HashKey{Key: *m.Args[0].Value, Pos: m.Pos, Value: &v})
		}
	}
	return keys, found
}

// argClass reduces an argument to what the kind check needs.
type argClass int

const (
	classUnknown argClass = iota // variable, member, call: known only at run time
	classLiteralString
	classNumber
	classInterpolated
	classBool
	classNull
	classScriptBlock
	classHashtable
	classArray
	classTypedString
	classTypedInt
	classTypedBool
	classSecureString
	classCredential
)

func (c *sigChecker) classify(a *Arg) argClass {
	if a == nil {
		return classUnknown
	}
	switch a.Kind {
	case ArgString, ArgHereString:
		return classLiteralString
	case ArgBareword, ArgExpandableString, ArgExpandableHereString:
		if a.Interpolated {
			return classInterpolated
		}
		return classLiteralString
	case ArgInt, ArgReal:
		return classNumber
	case ArgBool:
		return classBool
	case ArgNull:
		return classNull
	case ArgScriptBlock:
		return classScriptBlock
	case ArgHashtable:
		return classHashtable
	case ArgArray, ArgArraySubexpression:
		return classArray
	case ArgParenthesized, ArgSubexpression:
		if a.Inner != nil {
			return c.classify(a.Inner)
		}
		return classUnknown
	case ArgCommand:
		if a.Command == nil {
			return classUnknown
		}
		cmd := c.s.Commands[*a.Command]
		switch strings.ToLower(cmd.Name) {
		case "convertto-securestring":
			return classSecureString
		case "new-object":
			if t := newObjectType(&cmd); t == "management.automation.pscredential" || t == "pscredential" {
				return classCredential
			}
		}
		return classUnknown
	case ArgCast:
		switch kindOfType(a.Type) {
		case KString:
			return classTypedString
		case KInt:
			return classTypedInt
		case KBool, KSwitch:
			return classTypedBool
		case KSecureString:
			return classSecureString
		case KCredential:
			return classCredential
		case KScriptBlock:
			return classScriptBlock
		case KHashtable:
			return classHashtable
		case KStringArray, KObjectArray:
			return classArray
		}
		if normType(a.Type) == "ordered" {
			return classHashtable
		}
		return classUnknown
	}
	return classUnknown
}

// newObjectType returns the normalised -TypeName of a New-Object call.
func newObjectType(cmd *Command) string {
	for _, u := range cmd.Parameters {
		if strings.EqualFold(u.Name, "TypeName") && u.Value != nil && u.Value.Value != nil {
			return normType(*u.Value.Value)
		}
	}
	if len(cmd.Positionals) > 0 && cmd.Positionals[0].Value != nil {
		return normType(*cmd.Positionals[0].Value)
	}
	return ""
}

// kind reports a value of the wrong kind for prm.
func (c *sigChecker) kind(pos Pos, sig *Signature, prm *Param, a *Arg) {
	if ok, why := c.accept(prm, a); !ok {
		c.add(pos, "-%s of %s takes %s; %s is %s", prm.Name, sig.Name, prm.Kind, a.Text, why)
	}
}

func (c *sigChecker) accept(prm *Param, a *Arg) (bool, string) {
	cl := c.classify(a)
	literal := cl == classLiteralString || cl == classNumber
	switch prm.Kind {
	case KObject, KObjectArray:
		return true, ""
	case KString:
		switch cl {
		case classScriptBlock, classHashtable, classArray:
			return false, "not a single string"
		case classSecureString, classCredential:
			return false, "a secure object, which would turn into its type name"
		}
	case KStringArray:
		switch cl {
		case classScriptBlock, classHashtable:
			return false, "not a string"
		case classSecureString, classCredential:
			return false, "a secure object, which would turn into its type name"
		}
	case KSecretString:
		switch {
		case literal:
			return false, "a literal in the script text: secrets must come from $Params"
		case cl == classSecureString || cl == classCredential:
			return false, "a secure object, which would turn into its type name"
		case cl == classScriptBlock || cl == classHashtable || cl == classArray:
			return false, "not a string"
		}
	case KSecureString, KCredential:
		want := classSecureString
		if prm.Kind == KCredential {
			want = classCredential
		}
		switch cl {
		case classUnknown, want:
			return true, ""
		case classLiteralString, classNumber, classInterpolated, classTypedString:
			if prm.Kind == KCredential {
				return false, "a string: a string given as a credential makes PowerShell prompt for the password, and powershell.exe runs -NonInteractive"
			}
			return false, "a string: a SecureString must be built from $Params (ConvertTo-SecureString), never written in the script"
		default:
			return false, "not a " + string(prm.Kind)
		}
	case KSwitch, KBool:
		switch cl {
		case classLiteralString, classInterpolated, classTypedString:
			return false, "a string, and any non-empty string (even 'false') is $true"
		case classScriptBlock, classHashtable, classArray, classSecureString, classCredential:
			return false, "not a boolean"
		}
	case KInt:
		switch cl {
		case classLiteralString:
			if a.Value != nil {
				if _, err := strconv.ParseInt(strings.TrimSpace(*a.Value), 0, 64); err == nil {
					return true, ""
				}
			}
			return false, "not a number"
		case classScriptBlock, classHashtable, classArray, classSecureString, classCredential, classInterpolated:
			return false, "not a number"
		}
	case KScriptBlock:
		switch cl {
		case classUnknown, classScriptBlock:
			return true, ""
		default:
			return false, "not a script block (code is never built from strings)"
		}
	case KHashtable:
		switch cl {
		case classUnknown, classHashtable:
			return true, ""
		default:
			return false, "not a hashtable"
		}
	case KEnum:
		switch cl {
		case classLiteralString, classNumber:
			v := a.Text
			if a.Value != nil {
				v = *a.Value
			}
			for _, allowed := range prm.Values {
				if strings.EqualFold(allowed, v) {
					return true, ""
				}
			}
			return false, "not one of " + strings.Join(prm.Values, ", ")
		case classScriptBlock, classHashtable, classArray, classSecureString, classCredential:
			return false, "not one of " + strings.Join(prm.Values, ", ")
		}
	}
	return true, ""
}

// token is one argument of an external program as the script passes it.
type token struct {
	pos Pos
	// text is the literal text; for an interpolated string, its literal prefix.
	text string
	// dynamic: the whole value (or, with prefix, its tail) is known only at run time.
	dynamic bool
}

func argTokens(a *Arg) []token {
	switch {
	case a == nil:
		return nil
	case a.Kind == ArgArray:
		var out []token
		for i := range a.Elements {
			out = append(out, argTokens(&a.Elements[i])...)
		}
		return out
	case (a.Kind == ArgArraySubexpression || a.Kind == ArgParenthesized) && a.Inner != nil:
		return argTokens(a.Inner)
	case a.IsLiteral() && a.Value != nil:
		return []token{{pos: a.Pos, text: *a.Value}}
	case a.Interpolated:
		return []token{{pos: a.Pos, text: a.Prefix, dynamic: true}}
	}
	return []token{{pos: a.Pos, dynamic: true}}
}

// commandTokens lists a native command's arguments in order.
func commandTokens(cmd *Command) []token {
	type ordered struct {
		order int
		toks  []token
	}
	var all []ordered
	for _, u := range cmd.Parameters {
		toks := []token{{pos: u.Pos, text: u.Raw}}
		if u.Value != nil {
			vt := argTokens(u.Value)
			if u.Attached && len(vt) > 0 {
				toks[0].text += ":" + vt[0].text
				toks[0].dynamic = vt[0].dynamic
				vt = vt[1:]
			}
			toks = append(toks, vt...)
		}
		all = append(all, ordered{u.Order, toks})
	}
	for i := range cmd.Positionals {
		all = append(all, ordered{cmd.Positionals[i].Order, argTokens(&cmd.Positionals[i].Arg)})
	}
	for _, sp := range cmd.Splats {
		all = append(all, ordered{sp.Order, []token{{pos: sp.Pos, dynamic: true}}})
	}
	sort.SliceStable(all, func(i, j int) bool { return all[i].order < all[j].order })
	var out []token
	for _, o := range all {
		out = append(out, o.toks...)
	}
	return out
}

func (c *sigChecker) external(cmd *Command, rows []*Signature) {
	c.externalTokens(cmd.Pos, cmd.Name, commandTokens(cmd), rows)
}

func (c *sigChecker) externalTokens(pos Pos, name string, toks []token, rows []*Signature) {
	sig := rows[0]
	if sig.Subcommand != "" {
		sig = nil
		if len(toks) > 0 && !toks[0].dynamic {
			for _, r := range rows {
				if strings.EqualFold(r.Subcommand, toks[0].text) {
					sig = r
				}
			}
		}
		if sig == nil {
			var subs []string
			for _, r := range rows {
				subs = append(subs, r.Subcommand)
			}
			c.add(pos, "%s: the first argument must be a literal sub-command with a row in the table (%s)", name, strings.Join(subs, ", "))
			return
		}
		toks = toks[1:]
	}
	for _, t := range toks {
		if t.text == "" || (t.text[0] != '/' && t.text[0] != '-') {
			continue // an operand (path, domain, PROPERTY=value) or a run-time value
		}
		body := t.text[1:]
		if _, err := strconv.ParseFloat(body, 64); err == nil {
			continue // a negative number, not an option
		}
		optName, value, hasValue := body, "", false
		if sig.Separator != "" {
			if i := strings.Index(body, sig.Separator); i >= 0 {
				optName, value, hasValue = body[:i], body[i+1:], true
			}
		}
		if t.dynamic && !hasValue {
			if sig.Separator != "" {
				c.add(t.pos, "%s option %s...: write the option name and %q literally before the interpolated value", sig.Name, t.text, sig.Separator)
			}
			continue
		}
		prm, ok := sig.FindParam(optName)
		if !ok {
			c.add(t.pos, "%s has no option /%s (documented: %s; see %s)", sig.Name, optName, paramNames(sig), sig.DocURL)
			continue
		}
		literalValue := hasValue && !t.dynamic
		switch prm.Kind {
		case KSwitch:
			if hasValue {
				c.add(t.pos, "%s option /%s takes no value", sig.Name, prm.Name)
			}
		case KSecretString:
			if literalValue {
				msg := "a literal in the script text: secrets must come from $Params"
				if value == "*" {
					msg = "* (a prompt), and there is no console to answer it under WinRM"
				}
				c.add(t.pos, "%s option /%s is a secret; its value is %s", sig.Name, prm.Name, msg)
			}
		case KEnum:
			if literalValue {
				found := false
				for _, v := range prm.Values {
					found = found || strings.EqualFold(v, strings.Trim(value, `"`))
				}
				if !found {
					c.add(t.pos, "%s option /%s takes one of %s, not %q", sig.Name, prm.Name, strings.Join(prm.Values, ", "), value)
				}
			} else if !hasValue && sig.Separator != "" {
				c.add(t.pos, "%s option /%s needs a value (/%s%s...)", sig.Name, prm.Name, prm.Name, sig.Separator)
			}
		default:
			if !hasValue && sig.Separator != "" {
				c.add(t.pos, "%s option /%s needs a value (/%s%s...)", sig.Name, prm.Name, prm.Name, sig.Separator)
			}
		}
	}
}

// startProcess checks the arguments of Start-Process -FilePath <program>
// against the program's row when both are written literally.
func (c *sigChecker) startProcess(cmd *Command) {
	var file *Arg
	var args *Arg
	for _, u := range cmd.Parameters {
		switch {
		case strings.EqualFold(u.Name, "FilePath") || strings.EqualFold(u.Name, "PSPath"):
			file = u.Value
		case strings.EqualFold(u.Name, "ArgumentList") || strings.EqualFold(u.Name, "Args"):
			args = u.Value
		}
	}
	if file == nil && len(cmd.Positionals) > 0 {
		file = &cmd.Positionals[0].Arg
	}
	if file == nil || !file.IsLiteral() || file.Value == nil {
		return
	}
	rows := LookupExternal(*file.Value)
	if len(rows) == 0 {
		c.add(file.Pos, "Start-Process runs %s, which has no row in the signature table", *file.Value)
		return
	}
	if args != nil {
		c.externalTokens(args.Pos, *file.Value, argTokens(args), rows)
	}
}
