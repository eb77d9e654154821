// Package tsql is the lab's Transact-SQL engine: a lexer, a parser, a binder
// and an evaluator for the subset SQL Server tools and drivers send
// (SELECT with expressions, joins, WHERE, ORDER BY and TOP; DECLARE, SET,
// IF, THROW, EXEC sp_executesql; CREATE/ALTER/DROP LOGIN, ALTER SERVER ROLE;
// USE), over SQL Server's catalog views as Microsoft documents them. It knows
// nothing of the lab's model: rows and server facts come from a Host.
package tsql

import (
	"strings"
	"unicode"
)

// tokKind is a lexical class of T-SQL.
// https://learn.microsoft.com/sql/t-sql/language-elements/transact-sql-syntax-conventions-transact-sql
type tokKind int

const (
	tEOF     tokKind = iota
	tIdent           // name, [quoted name] or "quoted name"
	tVar             // @name
	tGlobal          // @@name
	tNumber          // 12, 1.5
	tString          // 'text'
	tNString         // N'text'
	tBinary          // 0x0A0B
	tOp              // punctuation and operators
)

type token struct {
	kind   tokKind
	text   string // identifier without quoting, string without quotes, operator text
	quoted bool   // a delimited identifier: never a keyword
	raw    string // the source text, for "Incorrect syntax near"
	pos    int
}

// keyword reports whether t is the (undelimited) keyword kw.
func (t token) keyword(kw string) bool {
	return t.kind == tIdent && !t.quoted && strings.EqualFold(t.text, kw)
}

func (t token) op(o string) bool { return t.kind == tOp && t.text == o }

// lex splits a batch into tokens. An unterminated string or delimited
// identifier is error 105, as SQL Server reports it.
func lex(src string) ([]token, *Error) {
	var out []token
	r := []rune(src)
	i := 0
	for i < len(r) {
		c := r[i]
		start := i
		switch {
		case unicode.IsSpace(c):
			i++
			continue
		case c == '-' && i+1 < len(r) && r[i+1] == '-':
			for i < len(r) && r[i] != '\n' {
				i++
			}
			continue
		case c == '/' && i+1 < len(r) && r[i+1] == '*':
			// Block comments nest in T-SQL.
			depth := 0
			for i < len(r) {
				if r[i] == '/' && i+1 < len(r) && r[i+1] == '*' {
					depth++
					i += 2
					continue
				}
				if r[i] == '*' && i+1 < len(r) && r[i+1] == '/' {
					depth--
					i += 2
					if depth == 0 {
						break
					}
					continue
				}
				i++
			}
			if depth > 0 {
				return nil, errMissingEndComment()
			}
			continue
		case c == '\'' || c == '[' || c == '"' || nString(r, i):
			t, n, err := delimited(r, i)
			if err != nil {
				return nil, err
			}
			i += n
			out = append(out, t)
			continue
		case c == '0' && i+1 < len(r) && (r[i+1] == 'x' || r[i+1] == 'X'):
			i += 2
			for i < len(r) && isHex(r[i]) {
				i++
			}
			out = append(out, token{kind: tBinary, text: string(r[start+2 : i]), raw: string(r[start:i]), pos: start})
			continue
		case unicode.IsDigit(c) || (c == '.' && i+1 < len(r) && unicode.IsDigit(r[i+1])):
			for i < len(r) && (unicode.IsDigit(r[i]) || r[i] == '.') {
				i++
			}
			out = append(out, token{kind: tNumber, text: string(r[start:i]), raw: string(r[start:i]), pos: start})
			continue
		case c == '@':
			kind := tVar
			i++
			if i < len(r) && r[i] == '@' {
				kind = tGlobal
				i++
			}
			for i < len(r) && isIdentRune(r[i]) {
				i++
			}
			out = append(out, token{kind: kind, text: string(r[start:i]), raw: string(r[start:i]), pos: start})
			continue
		case isIdentStart(c):
			for i < len(r) && isIdentRune(r[i]) {
				i++
			}
			out = append(out, token{kind: tIdent, text: string(r[start:i]), raw: string(r[start:i]), pos: start})
			continue
		}
		// Operators, the two-character ones first.
		if i+1 < len(r) {
			two := string(r[i : i+2])
			switch two {
			case "<>", "!=", "<=", ">=", "!<", "!>", "+=", "-=":
				i += 2
				out = append(out, token{kind: tOp, text: two, raw: two, pos: start})
				continue
			}
		}
		if strings.ContainsRune("=<>+-*/%(),.;~&|^", c) {
			i++
			out = append(out, token{kind: tOp, text: string(c), raw: string(c), pos: start})
			continue
		}
		return nil, errSyntaxNear(string(c))
	}
	out = append(out, token{kind: tEOF, pos: len(r)})
	return out, nil
}

// nString reports whether r[i] starts an N'...' literal.
func nString(r []rune, i int) bool {
	return (r[i] == 'N' || r[i] == 'n') && i+1 < len(r) && r[i+1] == '\''
}

// delimited lexes the quoted token at r[i], n runes long: a string '...'
// or N'...', or a delimited identifier [...] or "...".
func delimited(r []rune, i int) (t token, n int, err *Error) {
	skip, open, closing, kind := 0, r[i], r[i], tString
	switch {
	case nString(r, i):
		skip, open, closing, kind = 1, '\'', '\'', tNString
	case r[i] == '[':
		closing, kind = ']', tIdent
	case r[i] == '"':
		kind = tIdent
	}
	s, n, ok := quoted(r[i+skip:], open, closing)
	if !ok {
		return token{}, 0, errUnclosedQuote(string(r[i:]))
	}
	n += skip
	return token{kind: kind, text: s, quoted: kind == tIdent, raw: string(r[i : i+n]), pos: i}, n, nil
}

// quoted reads a delimited run starting at r[0] == open; a doubled close is an
// escaped close. It returns the content, the runes consumed and whether it closed.
func quoted(r []rune, open, closing rune) (string, int, bool) {
	var b strings.Builder
	for i := 1; i < len(r); i++ {
		if r[i] == closing {
			if i+1 < len(r) && r[i+1] == closing {
				b.WriteRune(closing)
				i++
				continue
			}
			return b.String(), i + 1, true
		}
		b.WriteRune(r[i])
	}
	_ = open
	return "", 0, false
}

func isHex(c rune) bool {
	return unicode.IsDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}

func isIdentStart(c rune) bool { return unicode.IsLetter(c) || c == '_' || c == '#' }

func isIdentRune(c rune) bool {
	return unicode.IsLetter(c) || unicode.IsDigit(c) || c == '_' || c == '#' || c == '@' || c == '$'
}
