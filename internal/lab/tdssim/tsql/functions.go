package tsql

import (
	"strings"
	"time"
	"unicode/utf8"
)

// function is a built-in function: arity, result type and evaluation.
// https://learn.microsoft.com/sql/t-sql/functions/functions
type function struct {
	min, max  int
	aggregate bool
	ret       func(args []Type) Type
	eval      func(x *exec, args []any, types []Type) (any, *Error)
}

func fixed(t Type) func([]Type) Type { return func([]Type) Type { return t } }

func firstArg(args []Type) Type {
	if len(args) == 0 {
		return Int
	}
	return args[0]
}

// str returns a string argument (false for NULL).
func str(v any, t Type) (string, bool) {
	if v == nil {
		return "", false
	}
	c, err := convert(v, t, NVarChar(Max))
	if err != nil {
		return "", false
	}
	s, ok := c.(string)
	return s, ok
}

var aggregates = map[string]bool{"COUNT": true, "MIN": true, "MAX": true, "SUM": true}

var functions = map[string]*function{
	// SERVERPROPERTY returns sql_variant.
	// https://learn.microsoft.com/sql/t-sql/functions/serverproperty-transact-sql
	"SERVERPROPERTY": {min: 1, max: 1, ret: fixed(Variant), eval: func(x *exec, a []any, t []Type) (any, *Error) {
		name, ok := str(a[0], t[0])
		if !ok {
			return nil, nil
		}
		return x.s.Host.ServerProperty(name), nil
	}},
	// https://learn.microsoft.com/sql/t-sql/functions/has-perms-by-name-transact-sql
	"HAS_PERMS_BY_NAME": {min: 3, max: 5, ret: fixed(Int), eval: func(x *exec, a []any, t []Type) (any, *Error) {
		sec, _ := str(a[0], t[0])
		class, ok := str(a[1], t[1])
		if !ok {
			class = "SERVER" // a NULL class is the server
		}
		perm, ok := str(a[2], t[2])
		if !ok {
			return nil, nil
		}
		return x.s.Host.HasPermsByName(sec, class, perm), nil
	}},
	// https://learn.microsoft.com/sql/t-sql/functions/is-srvrolemember-transact-sql
	"IS_SRVROLEMEMBER": {min: 1, max: 2, ret: fixed(Int), eval: func(x *exec, a []any, t []Type) (any, *Error) {
		role, ok := str(a[0], t[0])
		if !ok {
			return nil, nil
		}
		login := ""
		if len(a) > 1 {
			if login, ok = str(a[1], t[1]); !ok {
				return nil, nil
			}
		}
		return x.s.Host.IsSrvRoleMember(role, login), nil
	}},
	// QUOTENAME returns NULL for input over 128 characters.
	// https://learn.microsoft.com/sql/t-sql/functions/quotename-transact-sql
	"QUOTENAME": {min: 1, max: 2, ret: fixed(NVarChar(258)), eval: func(_ *exec, a []any, t []Type) (any, *Error) {
		s, ok := str(a[0], t[0])
		if !ok || utf8.RuneCountInString(s) > 128 {
			return nil, nil
		}
		q := "["
		if len(a) > 1 {
			if q, ok = str(a[1], t[1]); !ok {
				return nil, nil
			}
		}
		switch q {
		case "[", "]":
			return "[" + strings.ReplaceAll(s, "]", "]]") + "]", nil
		case "'":
			return "'" + strings.ReplaceAll(s, "'", "''") + "'", nil
		case `"`:
			return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`, nil
		case "(", ")":
			return "(" + s + ")", nil
		case "<", ">":
			return "<" + s + ">", nil
		case "{", "}":
			return "{" + s + "}", nil
		case "`":
			return "`" + strings.ReplaceAll(s, "`", "``") + "`", nil
		}
		return nil, nil
	}},
	"SUSER_SNAME":    {min: 0, max: 1, ret: fixed(SysName), eval: loginName},
	"SUSER_NAME":     {min: 0, max: 1, ret: fixed(SysName), eval: loginName},
	"ORIGINAL_LOGIN": {min: 0, max: 0, ret: fixed(SysName), eval: loginName},
	"DB_NAME": {min: 0, max: 1, ret: fixed(SysName), eval: func(x *exec, a []any, _ []Type) (any, *Error) {
		if len(a) == 0 {
			return x.s.Database, nil
		}
		return nil, nil
	}},
	"ISNULL": {min: 2, max: 2, ret: firstArg, eval: func(_ *exec, a []any, t []Type) (any, *Error) {
		if a[0] != nil {
			return a[0], nil
		}
		return convert(a[1], t[1], t[0])
	}},
	"COALESCE": {min: 1, max: 64, ret: func(ts []Type) Type {
		r := ts[0]
		for _, t := range ts[1:] {
			r = higher(r, t)
		}
		return r
	}, eval: func(_ *exec, a []any, t []Type) (any, *Error) {
		for i, v := range a {
			if v != nil {
				return convert(v, t[i], t[0])
			}
		}
		return nil, nil
	}},
	"UPPER": {min: 1, max: 1, ret: firstArg, eval: strFunc(strings.ToUpper)},
	"LOWER": {min: 1, max: 1, ret: firstArg, eval: strFunc(strings.ToLower)},
	"LTRIM": {min: 1, max: 1, ret: firstArg, eval: strFunc(func(s string) string { return strings.TrimLeft(s, " ") })},
	"RTRIM": {min: 1, max: 1, ret: firstArg, eval: strFunc(func(s string) string { return strings.TrimRight(s, " ") })},
	"TRIM":  {min: 1, max: 1, ret: firstArg, eval: strFunc(func(s string) string { return strings.Trim(s, " ") })},
	"LEN": {min: 1, max: 1, ret: fixed(Int), eval: func(_ *exec, a []any, t []Type) (any, *Error) {
		s, ok := str(a[0], t[0])
		if !ok {
			return nil, nil
		}
		return int64(utf8.RuneCountInString(strings.TrimRight(s, " "))), nil
	}},
	"LEFT": {min: 2, max: 2, ret: firstArg, eval: func(_ *exec, a []any, t []Type) (any, *Error) {
		s, ok := str(a[0], t[0])
		n, err := convert(a[1], t[1], BigInt)
		if !ok || err != nil || n == nil {
			return nil, err
		}
		r := []rune(s)
		k := int(min(n.(int64), int64(len(r))))
		return string(r[:max(k, 0)]), nil
	}},
	"SUBSTRING": {min: 3, max: 3, ret: firstArg, eval: func(_ *exec, a []any, t []Type) (any, *Error) {
		s, ok := str(a[0], t[0])
		st, err := convert(a[1], t[1], BigInt)
		if err != nil {
			return nil, err
		}
		ln, err := convert(a[2], t[2], BigInt)
		if !ok || err != nil || st == nil || ln == nil {
			return nil, err
		}
		r := []rune(s)
		from := st.(int64) - 1
		to := from + ln.(int64)
		from = max(from, 0)
		to = min(to, int64(len(r)))
		if from >= to {
			return "", nil
		}
		return string(r[from:to]), nil
	}},
	"REPLACE": {min: 3, max: 3, ret: fixed(NVarChar(4000)), eval: func(_ *exec, a []any, t []Type) (any, *Error) {
		s, ok1 := str(a[0], t[0])
		old, ok2 := str(a[1], t[1])
		nw, ok3 := str(a[2], t[2])
		if !ok1 || !ok2 || !ok3 {
			return nil, nil
		}
		return replaceFold(s, old, nw), nil
	}},
	"CHARINDEX": {min: 2, max: 3, ret: fixed(Int), eval: func(_ *exec, a []any, t []Type) (any, *Error) {
		needle, ok1 := str(a[0], t[0])
		hay, ok2 := str(a[1], t[1])
		if !ok1 || !ok2 {
			return nil, nil
		}
		i := strings.Index(strings.ToLower(hay), strings.ToLower(needle))
		if i < 0 {
			return int64(0), nil
		}
		return int64(utf8.RuneCountInString(hay[:i]) + 1), nil
	}},
	"CONCAT": {min: 2, max: 254, ret: fixed(NVarChar(4000)), eval: func(_ *exec, a []any, t []Type) (any, *Error) {
		var b strings.Builder
		for i, v := range a {
			if s, ok := str(v, t[i]); ok {
				b.WriteString(s)
			}
		}
		return b.String(), nil
	}},
	"GETDATE":     {min: 0, max: 0, ret: fixed(DateTime), eval: func(*exec, []any, []Type) (any, *Error) { return time.Now(), nil }},
	"GETUTCDATE":  {min: 0, max: 0, ret: fixed(DateTime), eval: func(*exec, []any, []Type) (any, *Error) { return time.Now().UTC(), nil }},
	"SYSDATETIME": {min: 0, max: 0, ret: fixed(DateTime), eval: func(*exec, []any, []Type) (any, *Error) { return time.Now(), nil }},
	"SYSDATETIMEOFFSET": {min: 0, max: 0, ret: fixed(DateTimeOffset(7)), eval: func(*exec, []any, []Type) (any, *Error) {
		return time.Now(), nil
	}},
	"COUNT": {min: 1, max: 1, aggregate: true, ret: fixed(Int)},
	"MIN":   {min: 1, max: 1, aggregate: true, ret: firstArg},
	"MAX":   {min: 1, max: 1, aggregate: true, ret: firstArg},
	"SUM":   {min: 1, max: 1, aggregate: true, ret: fixed(BigInt)},
}

func loginName(x *exec, a []any, _ []Type) (any, *Error) {
	if len(a) > 0 {
		return nil, nil // by SID: the lab keeps no SIDs
	}
	return x.s.Host.Login(), nil
}

func strFunc(f func(string) string) func(*exec, []any, []Type) (any, *Error) {
	return func(_ *exec, a []any, t []Type) (any, *Error) {
		s, ok := str(a[0], t[0])
		if !ok {
			return nil, nil
		}
		return f(s), nil
	}
}

// replaceFold replaces case-insensitively, as REPLACE does under a CI collation.
func replaceFold(s, old, nw string) string {
	if old == "" {
		return s
	}
	var b strings.Builder
	ls, lo := strings.ToLower(s), strings.ToLower(old)
	for {
		i := strings.Index(ls, lo)
		if i < 0 {
			b.WriteString(s)
			return b.String()
		}
		b.WriteString(s[:i])
		b.WriteString(nw)
		s, ls = s[i+len(old):], ls[i+len(old):]
	}
}

// globalTypes are the @@ functions and their types.
// https://learn.microsoft.com/sql/t-sql/functions/configuration-functions-transact-sql
var globalTypes = map[string]Type{
	"@@VERSION":     NVarChar(300),
	"@@SERVERNAME":  SysName,
	"@@SERVICENAME": SysName,
	"@@SPID":        SmallInt,
	"@@TRANCOUNT":   Int,
	"@@ROWCOUNT":    Int,
	"@@ERROR":       Int,
	"@@LANGUAGE":    SysName,
	"@@TEXTSIZE":    Int,
}
