package pscheck

import (
	"fmt"
	"strings"

	"github.com/bastion-pam/terraform-provider-bastion/internal/scripts"
)

// MaxCommandLine is cmd.exe's limit on a command line, in characters
// (https://learn.microsoft.com/en-us/troubleshoot/windows-client/shell-experience/command-line-string-limitation).
// CreateProcess allows 32767, but a WinRM shell command may go through cmd.
const MaxCommandLine = 8191

// CommandLineFor builds the command line the provider would send for a given
// bootstrap text, the same way scripts.CommandLine does for the embedded one.
func CommandLineFor(bootstrap string) string {
	return "powershell.exe " + strings.Join(scripts.PowerShellArgs, " ") + " -EncodedCommand " + scripts.EncodeCommand(bootstrap)
}

// CheckCommandLineText checks a command line: it fits MaxCommandLine, runs
// powershell.exe -NoProfile -NonInteractive, and carries its code only as
// -EncodedCommand (never -Command or -File, whose text the shell would parse).
func CheckCommandLineText(name, cmdline string) Findings {
	var out Findings
	add := func(msg string) { out = append(out, Finding{CheckCommandLine, name, Pos{1, 1}, msg}) }
	if n := len([]rune(cmdline)); n > MaxCommandLine {
		add(fmt.Sprintf("the command line is %d characters, over cmd.exe's %d by %d: shorten the bootstrap (scripts go through stdin)", n, MaxCommandLine, n-MaxCommandLine))
	}
	fields := strings.Fields(cmdline)
	if len(fields) == 0 || !strings.EqualFold(fields[0], "powershell.exe") {
		add("the command line must start with powershell.exe")
	}
	enc := -1
	seen := map[string]bool{}
	for i, f := range fields {
		lf := strings.ToLower(f)
		switch lf {
		case "-encodedcommand":
			enc = i
		case "-command", "-c", "-file", "-f":
			add(f + " puts script text on the command line: use -EncodedCommand with the bootstrap")
		}
		if enc < 0 {
			seen[lf] = true
		}
	}
	for _, want := range []string{"-noprofile", "-noninteractive"} {
		if !seen[want] {
			add("the command line lacks " + want + " before -EncodedCommand")
		}
	}
	if enc < 0 || enc != len(fields)-2 {
		add("the command line must end with -EncodedCommand <base64>")
	}
	return out
}

// CheckBootstrapReply checks that the bootstrap answers every run with one
// JSON document: in its try block a reply with ok = $true and result,
// written with [Console]::Out.Write and followed by exit 0; in its catch
// block an error reply with ok = $false and error.type and error.message,
// written the same way and followed by a non-zero exit.
func CheckBootstrapReply(s *Summary) Findings {
	var out Findings
	add := func(pos Pos, msg string) { out = append(out, Finding{CheckBootstrap, s.Name, pos, msg}) }
	var try *Statement
	for i := range s.Body {
		if s.Body[i].Kind == "try" {
			try = &s.Body[i]
		}
	}
	if try == nil {
		add(Pos{1, 1}, "the bootstrap must run the script inside try { } catch { } so that every failure becomes an error reply")
		return out
	}
	var tryBody, catchBody []Statement
	for _, b := range try.Blocks {
		switch b.Label {
		case "try":
			tryBody = b.Body
		case "catch":
			catchBody = append(catchBody, b.Body...)
		}
	}
	if catchBody == nil {
		add(try.Pos, "the bootstrap's try has no catch block: a failure would print PowerShell's own error text instead of a JSON reply")
		return out
	}
	check := func(body []Statement, where string, ok bool, keys []string, nested string, nestedKeys []string, exitZero bool) {
		reply := c2hash(s, body)
		if reply == nil {
			add(try.Pos, "the "+where+" block builds no reply hashtable")
		} else {
			for _, k := range keys {
				if findKey(reply, k) == nil {
					add(reply.Pos, fmt.Sprintf("the %s reply lacks %q", where, k))
				}
			}
			if v := findKey(reply, "ok"); v != nil && (v.Value == nil || v.Value.Kind != ArgBool || !strings.EqualFold(v.Value.Variable, fmt.Sprint(ok))) {
				add(v.Pos, fmt.Sprintf("the %s reply must set ok = $%v", where, ok))
			}
			if nested != "" {
				if v := findKey(reply, nested); v != nil {
					inner := hashAt(s, v.Value)
					if inner == nil {
						add(v.Pos, fmt.Sprintf("the %s reply's %q must be a hashtable", where, nested))
					} else {
						for _, k := range nestedKeys {
							if findKey(inner, k) == nil {
								add(inner.Pos, fmt.Sprintf("the %s reply's %q lacks %q", where, nested, k))
							}
						}
					}
				}
			}
		}
		wrote, exit := false, ""
		walkStatements(body, func(st Statement) {
			if st.Kind == "pipeline" && len(st.Elements) == 1 && st.Elements[0].Expr != nil && st.Elements[0].Expr.Kind == ArgInvocation {
				for _, m := range s.MethodCalls {
					if m.Pos == st.Elements[0].Expr.Pos && isConsoleWrite(m) {
						wrote = true
					}
				}
			}
			if st.Kind == "flow" && st.Keyword == "exit" {
				exit = "?"
				if st.Value != nil && len(st.Value.Elements) == 1 && st.Value.Elements[0].Expr != nil && st.Value.Elements[0].Expr.Value != nil {
					exit = *st.Value.Elements[0].Expr.Value
				}
			}
		})
		if !wrote {
			add(try.Pos, "the "+where+" block does not write its reply with [Console]::Out.Write")
		}
		switch {
		case exit == "":
			add(try.Pos, "the "+where+" block does not end with exit")
		case exitZero && exit != "0":
			add(try.Pos, "the "+where+" block must exit 0, not "+exit)
		case !exitZero && (exit == "0" || exit == "?"):
			add(try.Pos, "the "+where+" block must exit with a literal non-zero code so the caller sees the failure without parsing stdout")
		}
	}
	check(tryBody, "try", true, []string{"ok", "result"}, "", nil, true)
	check(catchBody, "catch", false, []string{"ok", "error"}, "error", []string{"type", "message"}, false)
	return out
}

// c2hash finds the hashtable literal a statement list assigns (the reply).
func c2hash(s *Summary, body []Statement) *Hashtable {
	var found *Hashtable
	walkStatements(body, func(st Statement) {
		if found != nil || st.Kind != "assignment" || st.Value == nil || len(st.Value.Elements) != 1 {
			return
		}
		if h := hashAt(s, st.Value.Elements[0].Expr); h != nil && findKey(h, "ok") != nil {
			found = h
		}
	})
	return found
}

// hashAt returns the hashtable literal an argument is ([ordered] or not).
func hashAt(s *Summary, a *Arg) *Hashtable {
	if a == nil {
		return nil
	}
	if a.Kind == ArgCast && a.Operand != nil {
		a = a.Operand
	}
	if a.Kind != ArgHashtable {
		return nil
	}
	for i := range s.Hashtables {
		if s.Hashtables[i].Pos == a.Pos {
			return &s.Hashtables[i]
		}
	}
	return nil
}

func findKey(h *Hashtable, key string) *HashKey {
	for i := range h.Keys {
		if strings.EqualFold(h.Keys[i].Key, key) {
			return &h.Keys[i]
		}
	}
	return nil
}
