package tsql

import (
	"strings"
	"unicode/utf8"
)

// eval evaluates a bound expression for the current row (nil outside a
// query): its value, and its type. Predicates yield true, false or nil (UNKNOWN).
func (x *exec) eval(e Expr, rc *rowCtx) (any, Type, *Error) {
	switch n := e.(type) {
	case *Literal:
		if n.Type.Kind == KindNull {
			return nil, Int, nil
		}
		return n.Value, n.Type, nil
	case *ColumnRef:
		if n.alias > 0 {
			return rc.items[n.alias-1], n.typ, nil
		}
		if rc == nil || n.table >= len(rc.rows) || rc.rows[n.table] == nil {
			return nil, n.typ, nil
		}
		return rc.rows[n.table][n.col], n.typ, nil
	case *VarRef:
		v := x.vars[strings.ToLower(n.Name)]
		return v.value, v.typ, nil
	case *GlobalRef:
		switch n.Name {
		case "@@SPID":
			return int64(x.s.SPID), SmallInt, nil
		case "@@TRANCOUNT", "@@ROWCOUNT", "@@ERROR":
			return int64(0), Int, nil
		case "@@LANGUAGE":
			return "us_english", SysName, nil
		case "@@TEXTSIZE":
			return int64(2147483647), Int, nil
		}
		v, t, _ := x.s.Host.Global(n.Name)
		return v, t, nil
	case *Unary:
		v, t, err := x.eval(n.X, rc)
		if err != nil || v == nil {
			return nil, t, err
		}
		switch n.Op {
		case "+":
			return v, t, nil
		case "-":
			switch z := v.(type) {
			case int64:
				return -z, t, nil
			case float64:
				return -z, t, nil
			case bool:
				return -b2i(z), Int, nil
			}
		case "~":
			i, err := convert(v, t, BigInt)
			if err != nil {
				return nil, t, err
			}
			return ^i.(int64), t, nil
		}
		return nil, t, errOperand(t, n.Op)
	case *Binary:
		return x.binary(n, rc)
	case *Not:
		v, _, err := x.eval(n.X, rc)
		if err != nil || v == nil {
			return nil, Type{Kind: kindBool}, err
		}
		return !v.(bool), Type{Kind: kindBool}, nil
	case *IsNull:
		v, _, err := x.eval(n.X, rc)
		return (v == nil) != n.Not, Type{Kind: kindBool}, err
	case *In:
		v, t, err := x.eval(n.X, rc)
		if err != nil || v == nil {
			return nil, Type{Kind: kindBool}, err
		}
		var result any = false
		for _, l := range n.List {
			lv, lt, err := x.eval(l, rc)
			if err != nil {
				return nil, Type{}, err
			}
			if lv == nil {
				result = nil
				continue
			}
			c, err := compare(v, t, lv, lt)
			if err != nil {
				return nil, Type{}, err
			}
			if c == 0 {
				result = true
				break
			}
		}
		if n.Not && result != nil {
			result = !result.(bool)
		}
		return result, Type{Kind: kindBool}, nil
	case *Like:
		v, t, err := x.eval(n.X, rc)
		if err != nil {
			return nil, Type{}, err
		}
		p, pt, err := x.eval(n.Pattern, rc)
		if err != nil || v == nil || p == nil {
			return nil, Type{Kind: kindBool}, err
		}
		sv, err := convert(v, t, NVarChar(Max))
		if err != nil {
			return nil, Type{}, err
		}
		sp, err := convert(p, pt, NVarChar(Max))
		if err != nil {
			return nil, Type{}, err
		}
		m := like(foldString(sv.(string)), strings.ToLower(sp.(string)))
		return m != n.Not, Type{Kind: kindBool}, nil
	case *Between:
		v, t, err := x.eval(n.X, rc)
		if err != nil {
			return nil, Type{}, err
		}
		lo, lt, err := x.eval(n.Lo, rc)
		if err != nil {
			return nil, Type{}, err
		}
		hi, ht, err := x.eval(n.Hi, rc)
		if err != nil || v == nil || lo == nil || hi == nil {
			return nil, Type{Kind: kindBool}, err
		}
		a, err := compare(v, t, lo, lt)
		if err != nil {
			return nil, Type{}, err
		}
		b, err := compare(v, t, hi, ht)
		if err != nil {
			return nil, Type{}, err
		}
		return (a >= 0 && b <= 0) != n.Not, Type{Kind: kindBool}, nil
	case *Call:
		if n.fn.aggregate {
			if rc == nil || rc.aggs == nil {
				return nil, n.typ, nil
			}
			return rc.aggs[n.agg], n.typ, nil
		}
		args := make([]any, len(n.Args))
		types := make([]Type, len(n.Args))
		for i, a := range n.Args {
			v, t, err := x.eval(a, rc)
			if err != nil {
				return nil, Type{}, err
			}
			args[i], types[i] = v, t
		}
		v, err := n.fn.eval(x, args, types)
		return v, n.typ, err
	case *Cast:
		v, t, err := x.eval(n.X, rc)
		if err != nil {
			return nil, n.Type, err
		}
		if t.Kind == KindVariant {
			t = variantType(v)
		}
		cv, err := convert(v, t, n.Type)
		return cv, n.Type, err
	case *Case:
		var op any
		var opT Type
		if n.Operand != nil {
			var err *Error
			if op, opT, err = x.eval(n.Operand, rc); err != nil {
				return nil, n.typ, err
			}
		}
		for _, w := range n.Whens {
			wv, wt, err := x.eval(w.When, rc)
			if err != nil {
				return nil, n.typ, err
			}
			hit := false
			if n.Operand != nil {
				if op != nil && wv != nil {
					c, err := compare(op, opT, wv, wt)
					if err != nil {
						return nil, n.typ, err
					}
					hit = c == 0
				}
			} else {
				hit = wv == true
			}
			if hit {
				v, t, err := x.eval(w.Then, rc)
				if err != nil {
					return nil, n.typ, err
				}
				cv, err := convert(v, t, n.typ)
				return cv, n.typ, err
			}
		}
		if n.Else != nil {
			v, t, err := x.eval(n.Else, rc)
			if err != nil {
				return nil, n.typ, err
			}
			cv, err := convert(v, t, n.typ)
			return cv, n.typ, err
		}
		return nil, n.typ, nil
	}
	return nil, Type{}, errSyntaxNear("")
}

func (x *exec) binary(n *Binary, rc *rowCtx) (any, Type, *Error) {
	boolT := Type{Kind: kindBool}
	switch n.Op {
	case "AND", "OR":
		l, _, err := x.eval(n.L, rc)
		if err != nil {
			return nil, boolT, err
		}
		if n.Op == "AND" && l == false {
			return false, boolT, nil
		}
		if n.Op == "OR" && l == true {
			return true, boolT, nil
		}
		r, _, err := x.eval(n.R, rc)
		if err != nil {
			return nil, boolT, err
		}
		if n.Op == "AND" {
			if r == false {
				return false, boolT, nil
			}
			if l == nil || r == nil {
				return nil, boolT, nil
			}
			return true, boolT, nil
		}
		if r == true {
			return true, boolT, nil
		}
		if l == nil || r == nil {
			return nil, boolT, nil
		}
		return false, boolT, nil
	}
	l, lt, err := x.eval(n.L, rc)
	if err != nil {
		return nil, Type{}, err
	}
	r, rt, err := x.eval(n.R, rc)
	if err != nil {
		return nil, Type{}, err
	}
	switch n.Op {
	case "=", "<>", "<", ">", "<=", ">=":
		if l == nil || r == nil {
			return nil, boolT, nil // ANSI_NULLS ON: a comparison with NULL is UNKNOWN
		}
		c, err := compare(l, lt, r, rt)
		if err != nil {
			return nil, boolT, err
		}
		ok := map[string]bool{"=": c == 0, "<>": c != 0, "<": c < 0, ">": c > 0, "<=": c <= 0, ">=": c >= 0}[n.Op]
		return ok, boolT, nil
	}
	t := n.typ
	if l == nil || r == nil {
		return nil, t, nil // CONCAT_NULL_YIELDS_NULL ON
	}
	if t.IsString() {
		a, b, err := convertBoth(l, lt, r, rt, NVarChar(Max))
		if err != nil {
			return nil, t, err
		}
		return a.(string) + b.(string), t, nil
	}
	if t.Kind == KindFloat {
		a, b, err := convertBoth(l, lt, r, rt, t)
		if err != nil {
			return nil, t, err
		}
		fa, fb := a.(float64), b.(float64)
		switch n.Op {
		case "+":
			return fa + fb, t, nil
		case "-":
			return fa - fb, t, nil
		case "*":
			return fa * fb, t, nil
		case "/":
			if fb == 0 {
				return nil, t, errDivideByZero()
			}
			return fa / fb, t, nil
		}
		return nil, t, errOperand(t, opName(n.Op))
	}
	a, b, err := convertBoth(l, lt, r, rt, BigInt)
	if err != nil {
		return nil, t, err
	}
	ia, ib := a.(int64), b.(int64)
	var v int64
	switch n.Op {
	case "+":
		v = ia + ib
	case "-":
		v = ia - ib
	case "*":
		v = ia * ib
	case "/", "%":
		if ib == 0 {
			return nil, t, errDivideByZero()
		}
		if n.Op == "/" {
			v = ia / ib
		} else {
			v = ia % ib
		}
	case "&":
		v = ia & ib
	case "|":
		v = ia | ib
	case "^":
		v = ia ^ ib
	}
	lo, hi := intRange(t.Kind)
	if v < lo || v > hi {
		return nil, t, newErr(8115, 16, 2, "Arithmetic overflow error converting expression to data type %s.", t.Name())
	}
	return v, t, nil
}

// like matches LIKE patterns: % any run, _ one character, [abc] [a-c] [^a] a set.
// https://learn.microsoft.com/sql/t-sql/language-elements/like-transact-sql
func like(s, p string) bool {
	if p == "" {
		return s == ""
	}
	c, size := utf8.DecodeRuneInString(p)
	switch c {
	case '%':
		for i := 0; i <= len(s); {
			if like(s[i:], p[size:]) {
				return true
			}
			if i == len(s) {
				break
			}
			_, n := utf8.DecodeRuneInString(s[i:])
			i += n
		}
		return false
	case '_':
		if s == "" {
			return false
		}
		_, n := utf8.DecodeRuneInString(s)
		return like(s[n:], p[size:])
	case '[':
		end := strings.IndexRune(p[1:], ']')
		if end < 0 {
			break
		}
		set := p[1 : 1+end]
		rest := p[2+end:]
		if s == "" {
			return false
		}
		r, n := utf8.DecodeRuneInString(s)
		neg := strings.HasPrefix(set, "^")
		if neg {
			set = set[1:]
		}
		in := false
		rs := []rune(set)
		for i := 0; i < len(rs); i++ {
			if i+2 < len(rs) && rs[i+1] == '-' {
				if r >= rs[i] && r <= rs[i+2] {
					in = true
				}
				i += 2
				continue
			}
			if rs[i] == r {
				in = true
			}
		}
		if in == neg {
			return false
		}
		return like(s[n:], rest)
	}
	if s == "" {
		return false
	}
	r, n := utf8.DecodeRuneInString(s)
	if r != c {
		return false
	}
	return like(s[n:], p[size:])
}
