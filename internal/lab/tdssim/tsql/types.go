package tsql

import (
	"cmp"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Kind is a SQL Server data type.
// https://learn.microsoft.com/sql/t-sql/data-types/data-types-transact-sql
type Kind int

// The data types the catalog and the evaluator use.
const (
	KindNull Kind = iota // the type of a bare NULL literal (converted to int when selected)
	KindBit
	KindTinyInt
	KindSmallInt
	KindInt
	KindBigInt
	KindFloat
	KindChar
	KindVarChar
	KindNChar
	KindNVarChar
	KindVarBinary
	KindDateTime
	KindDateTimeOffset
	KindVariant // sql_variant
	kindBool    // a predicate's result: never a column
)

// Max is the length of a (n)varchar(max) or varbinary(max).
const Max = -1

// Type is a data type with its length (characters for (n)char/(n)varchar,
// bytes for varbinary) or scale (datetimeoffset).
type Type struct {
	Kind Kind
	Len  int
}

// Common types.
var (
	Int      = Type{Kind: KindInt}
	BigInt   = Type{Kind: KindBigInt}
	SmallInt = Type{Kind: KindSmallInt}
	TinyInt  = Type{Kind: KindTinyInt}
	Bit      = Type{Kind: KindBit}
	DateTime = Type{Kind: KindDateTime}
	Variant  = Type{Kind: KindVariant}
	// SysName is sysname: nvarchar(128).
	SysName = NVarChar(128)
)

// NVarChar is nvarchar(n) (Max for max).
func NVarChar(n int) Type { return Type{Kind: KindNVarChar, Len: n} }

// NChar is nchar(n).
func NChar(n int) Type { return Type{Kind: KindNChar, Len: n} }

// VarChar is varchar(n).
func VarChar(n int) Type { return Type{Kind: KindVarChar, Len: n} }

// Char is char(n).
func Char(n int) Type { return Type{Kind: KindChar, Len: n} }

// VarBinary is varbinary(n).
func VarBinary(n int) Type { return Type{Kind: KindVarBinary, Len: n} }

// DateTimeOffset is datetimeoffset(scale).
func DateTimeOffset(scale int) Type { return Type{Kind: KindDateTimeOffset, Len: scale} }

var kindNames = map[Kind]string{
	KindNull: "int", KindBit: "bit", KindTinyInt: "tinyint", KindSmallInt: "smallint", KindInt: "int",
	KindBigInt: "bigint", KindFloat: "float", KindChar: "char", KindVarChar: "varchar", KindNChar: "nchar",
	KindNVarChar: "nvarchar", KindVarBinary: "varbinary", KindDateTime: "datetime",
	KindDateTimeOffset: "datetimeoffset", KindVariant: "sql_variant", kindBool: "boolean",
}

// Name is the type's name as SQL Server's messages spell it.
func (t Type) Name() string { return kindNames[t.Kind] }

func (t Type) String() string {
	switch t.Kind {
	case KindChar, KindVarChar, KindNChar, KindNVarChar, KindVarBinary:
		if t.Len == Max {
			return t.Name() + "(max)"
		}
		return fmt.Sprintf("%s(%d)", t.Name(), t.Len)
	case KindDateTimeOffset:
		return fmt.Sprintf("datetimeoffset(%d)", t.Len)
	}
	return t.Name()
}

// IsString reports a character type.
func (t Type) IsString() bool {
	return t.Kind == KindChar || t.Kind == KindVarChar || t.Kind == KindNChar || t.Kind == KindNVarChar
}

// IsInteger reports an exact integer type (bit included).
func (t Type) IsInteger() bool {
	return t.Kind == KindBit || t.Kind == KindTinyInt || t.Kind == KindSmallInt || t.Kind == KindInt || t.Kind == KindBigInt || t.Kind == KindNull
}

// IsUnicode reports nchar or nvarchar.
func (t Type) IsUnicode() bool { return t.Kind == KindNChar || t.Kind == KindNVarChar }

// precedence is SQL Server's data type precedence (higher wins an implicit conversion).
// https://learn.microsoft.com/sql/t-sql/data-types/data-type-precedence-transact-sql
func (t Type) precedence() int {
	switch t.Kind {
	case KindVariant:
		return 9
	case KindDateTimeOffset:
		return 8
	case KindDateTime:
		return 7
	case KindFloat:
		return 6
	case KindBigInt:
		return 5
	case KindInt, KindNull:
		return 4
	case KindSmallInt:
		return 3
	case KindTinyInt:
		return 2
	case KindBit:
		return 1
	case KindNVarChar:
		return 0
	case KindNChar:
		return -1
	case KindVarChar:
		return -2
	case KindChar:
		return -3
	case KindVarBinary:
		return -4
	}
	return -5
}

// typeNames maps the system type names a DECLARE or CAST may name.
var typeNames = map[string]Kind{
	"bit": KindBit, "tinyint": KindTinyInt, "smallint": KindSmallInt, "int": KindInt, "bigint": KindBigInt,
	"float": KindFloat, "real": KindFloat, "char": KindChar, "varchar": KindVarChar, "nchar": KindNChar,
	"nvarchar": KindNVarChar, "varbinary": KindVarBinary, "binary": KindVarBinary, "datetime": KindDateTime,
	"datetime2": KindDateTime, "smalldatetime": KindDateTime, "date": KindDateTime,
	"datetimeoffset": KindDateTimeOffset, "sql_variant": KindVariant, "sysname": KindNVarChar,
	"decimal": KindFloat, "numeric": KindFloat, "money": KindFloat,
}

// lookupType returns the type called name with an optional length argument
// (n, or -1 for max, or 0 when none was given).
func lookupType(name string, length int, given bool) (Type, *Error) {
	k, ok := typeNames[strings.ToLower(name)]
	if !ok {
		return Type{}, errUnknownType(name)
	}
	t := Type{Kind: k}
	switch {
	case strings.EqualFold(name, "sysname"):
		t.Len = 128
	case k == KindChar || k == KindVarChar || k == KindNChar || k == KindNVarChar || k == KindVarBinary:
		t.Len = 1 // the default length of a declaration without one
		if given {
			t.Len = length
		}
	case k == KindDateTimeOffset:
		t.Len = 7
		if given {
			t.Len = length
		}
	}
	return t, nil
}

// Values are nil (NULL), bool (bit), int64, float64, string, []byte or
// time.Time; a sql_variant holds one of those.

// convertBoth converts the two operands of a binary operator to one type.
func convertBoth(l any, lt Type, r any, rt Type, to Type) (any, any, *Error) {
	a, err := convert(l, lt, to)
	if err != nil {
		return nil, nil, err
	}
	b, err := convert(r, rt, to)
	return a, b, err
}

// convert converts v of type from to type to, as CAST does.
func convert(v any, from, to Type) (any, *Error) {
	if v == nil {
		return nil, nil
	}
	switch to.Kind {
	case KindVariant:
		return v, nil
	case KindBit:
		switch x := v.(type) {
		case bool:
			return x, nil
		case int64:
			return x != 0, nil
		case float64:
			return x != 0, nil
		case string:
			s := strings.TrimSpace(x)
			switch strings.ToUpper(s) {
			case "TRUE":
				return true, nil
			case "FALSE":
				return false, nil
			}
			n, err := strconv.ParseInt(s, 10, 64)
			if err != nil {
				return nil, errConversion(from, x, to)
			}
			return n != 0, nil
		}
	case KindTinyInt, KindSmallInt, KindInt, KindBigInt:
		var n int64
		switch x := v.(type) {
		case bool:
			if x {
				n = 1
			}
		case int64:
			n = x
		case float64:
			n = int64(x)
		case string:
			p, err := strconv.ParseInt(strings.TrimSpace(x), 10, 64)
			if err != nil {
				return nil, errConversion(from, x, to)
			}
			n = p
		default:
			return nil, errConversion(from, fmt.Sprint(v), to)
		}
		lo, hi := intRange(to.Kind)
		if n < lo || n > hi {
			return nil, newErr(8115, 16, 2, "Arithmetic overflow error converting expression to data type %s.", to.Name())
		}
		return n, nil
	case KindFloat:
		switch x := v.(type) {
		case bool:
			if x {
				return 1.0, nil
			}
			return 0.0, nil
		case int64:
			return float64(x), nil
		case float64:
			return x, nil
		case string:
			f, err := strconv.ParseFloat(strings.TrimSpace(x), 64)
			if err != nil {
				return nil, newErr(8114, 16, 5, "Error converting data type %s to float.", from.Name())
			}
			return f, nil
		}
	case KindChar, KindVarChar, KindNChar, KindNVarChar:
		s := ""
		switch x := v.(type) {
		case bool:
			s = "0"
			if x {
				s = "1"
			}
		case int64:
			s = strconv.FormatInt(x, 10)
		case float64:
			s = strconv.FormatFloat(x, 'g', -1, 64)
		case string:
			s = x
		case []byte:
			s = string(x)
		case time.Time:
			s = x.Format("Jan _2 2006  3:04PM")
		}
		if to.Len > 0 && len([]rune(s)) > to.Len {
			if from.IsInteger() {
				return "*", nil
			}
			s = string([]rune(s)[:to.Len])
		}
		if to.Kind == KindChar || to.Kind == KindNChar {
			if n := to.Len - len([]rune(s)); n > 0 {
				s += strings.Repeat(" ", n)
			}
		}
		return s, nil
	case KindVarBinary:
		switch x := v.(type) {
		case []byte:
			return x, nil
		case string:
			return []byte(x), nil
		}
	case KindDateTime, KindDateTimeOffset:
		switch x := v.(type) {
		case time.Time:
			return x, nil
		case string:
			for _, layout := range []string{"2006-01-02 15:04:05.999", "2006-01-02T15:04:05.999", "2006-01-02", "20060102"} {
				if t, err := time.Parse(layout, strings.TrimSpace(x)); err == nil {
					return t, nil
				}
			}
			return nil, newErr(241, 16, 1, "Conversion failed when converting date and/or time from character string.")
		}
	}
	return nil, newErr(529, 16, 2, "Explicit conversion from data type %s to %s is not allowed.", from.Name(), to.Name())
}

func intRange(k Kind) (int64, int64) {
	switch k {
	case KindTinyInt:
		return 0, 255
	case KindSmallInt:
		return math.MinInt16, math.MaxInt16
	case KindInt:
		return math.MinInt32, math.MaxInt32
	}
	return math.MinInt64, math.MaxInt64
}

// variantType is the base type a sql_variant value carries.
func variantType(v any) Type {
	switch x := v.(type) {
	case bool:
		return Bit
	case int64:
		return Int
	case float64:
		return Type{Kind: KindFloat}
	case string:
		return NVarChar(len([]rune(x)))
	case []byte:
		return VarBinary(len(x))
	case time.Time:
		return DateTime
	}
	return Type{Kind: KindNull}
}

// higher returns the type an implicit conversion between a and b yields.
func higher(a, b Type) Type {
	if a.Kind == KindVariant {
		return b
	}
	if b.Kind == KindVariant {
		return a
	}
	if a.precedence() >= b.precedence() {
		return a
	}
	return b
}

// compare compares two non-NULL values of types ta and tb after SQL Server's
// implicit conversion to the higher type; strings compare case-insensitively
// with trailing spaces ignored (SQL_Latin1_General_CP1_CI_AS).
func compare(a any, ta Type, b any, tb Type) (int, *Error) {
	if ta.Kind == KindVariant {
		ta = variantType(a)
	}
	if tb.Kind == KindVariant {
		tb = variantType(b)
	}
	t := higher(ta, tb)
	x, err := convert(a, ta, t)
	if err != nil {
		return 0, err
	}
	y, err := convert(b, tb, t)
	if err != nil {
		return 0, err
	}
	switch xv := x.(type) {
	case bool:
		yv := y.(bool)
		return cmp.Compare(b2i(xv), b2i(yv)), nil
	case int64:
		return cmp.Compare(xv, y.(int64)), nil
	case float64:
		return cmp.Compare(xv, y.(float64)), nil // SQL Server's float holds no NaN
	case string:
		return strings.Compare(foldString(xv), foldString(y.(string))), nil
	case []byte:
		return strings.Compare(string(xv), string(y.([]byte))), nil
	case time.Time:
		return xv.Compare(y.(time.Time)), nil
	}
	return 0, nil
}

func foldString(s string) string { return strings.ToLower(strings.TrimRight(s, " ")) }

func b2i(b bool) int64 {
	if b {
		return 1
	}
	return 0
}
