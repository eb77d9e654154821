package tdssim

import (
	"encoding/binary"
	"math"
	"time"

	"github.com/bastion-pam/terraform-provider-bastion/internal/lab/model"
	"github.com/bastion-pam/terraform-provider-bastion/internal/lab/tdssim/tsql"
	"github.com/bastion-pam/terraform-provider-bastion/internal/lab/utf16le"
)

// Token stream of a reply (MS-TDS 2.2.7).
const (
	tokReturnStatus = 0x79
	tokColMetadata  = 0x81
	tokError        = 0xAA
	tokInfo         = 0xAB
	tokLoginAck     = 0xAD
	tokRow          = 0xD1
	tokEnvChange    = 0xE3
	tokDone         = 0xFD
	tokDoneProc     = 0xFE
	tokDoneInProc   = 0xFF

	doneFinal = 0x00
	doneMore  = 0x01
	doneError = 0x02
	doneCount = 0x10
	doneAttn  = 0x20

	curCmdSelect = 0xC1

	envDatabase   = 1
	envLanguage   = 2
	envPacketSize = 4

	tdsVersion74 = 0x74000004
)

// collation is SQL_Latin1_General_CP1_CI_AS as TDS sends it (LCID 0x0409, flags, sort id 52).
var collation = [5]byte{0x09, 0x04, 0xD0, 0x00, 0x34}

// tdsVariantMax is the maximum length of a sql_variant (MS-TDS 2.2.5.5.4).
const tdsVariantMax = 8009

type tokens struct{ b []byte }

func (t *tokens) u8(v byte)    { t.b = append(t.b, v) }
func (t *tokens) u16(v uint16) { t.b = binary.LittleEndian.AppendUint16(t.b, v) }
func (t *tokens) u32(v uint32) { t.b = binary.LittleEndian.AppendUint32(t.b, v) }
func (t *tokens) u64(v uint64) { t.b = binary.LittleEndian.AppendUint64(t.b, v) }

// bVarChar is a string with a one-byte length in UTF-16 code units.
func (t *tokens) bVarChar(s string) {
	u := utf16le.Encode(s)
	t.u8(byte(len(u) / 2))
	t.b = append(t.b, u...)
}

// usVarChar is a string with a two-byte length in UTF-16 code units.
func (t *tokens) usVarChar(s string) {
	u := utf16le.Encode(s)
	t.u16(uint16(len(u) / 2))
	t.b = append(t.b, u...)
}

// withLength writes a token whose body is prefixed by its two-byte length.
func (t *tokens) withLength(token byte, body func(b *tokens)) {
	var inner tokens
	body(&inner)
	t.u8(token)
	t.u16(uint16(len(inner.b)))
	t.b = append(t.b, inner.b...)
}

func (t *tokens) envChange(typ byte, newValue, oldValue string) {
	t.withLength(tokEnvChange, func(b *tokens) {
		b.u8(typ)
		b.bVarChar(newValue)
		b.bVarChar(oldValue)
	})
}

func (t *tokens) message(token byte, e model.SQLError, server string) {
	t.withLength(token, func(b *tokens) {
		b.u32(uint32(e.Number))
		b.u8(e.State)
		b.u8(e.Class)
		b.usVarChar(e.Message)
		b.bVarChar(server)
		b.bVarChar("")
		b.u32(1)
	})
}

// sqlError writes the errors SQL Server sends for e, the preceding ones first.
func (t *tokens) sqlError(e *model.SQLError, server string) {
	for _, b := range e.Before {
		t.message(tokError, b, server)
	}
	t.message(tokError, *e, server)
}

func (t *tokens) loginAck(version [4]byte) {
	t.withLength(tokLoginAck, func(b *tokens) {
		b.u8(1) // SQL_TSQL
		b.b = binary.BigEndian.AppendUint32(b.b, tdsVersion74)
		b.bVarChar("Microsoft SQL Server")
		b.b = append(b.b, version[:]...)
	})
}

func (t *tokens) done(token byte, status, curCmd uint16, rows uint64) {
	t.u8(token)
	t.u16(status)
	t.u16(curCmd)
	t.u64(rows)
}

func (t *tokens) returnStatus(v int32) {
	t.u8(tokReturnStatus)
	t.u32(uint32(v))
}

func (t *tokens) colMetadata(cols []tsql.Column) {
	t.u8(tokColMetadata)
	t.u16(uint16(len(cols)))
	for _, c := range cols {
		t.u32(0) // UserType
		flags := uint16(0)
		if c.Nullable {
			flags |= 0x01
		}
		t.u16(flags)
		t.typeInfo(c.Type)
		t.bVarChar(c.Name)
	}
}

// typeInfo writes TYPE_INFO for a column type (MS-TDS 2.2.5.4).
func (t *tokens) typeInfo(typ tsql.Type) {
	switch typ.Kind {
	case tsql.KindBit:
		t.u8(0x68)
		t.u8(1)
	case tsql.KindTinyInt, tsql.KindSmallInt, tsql.KindInt, tsql.KindBigInt, tsql.KindNull:
		t.u8(0x26)
		t.u8(byte(intSize(typ.Kind)))
	case tsql.KindFloat:
		t.u8(0x6D)
		t.u8(8)
	case tsql.KindNVarChar, tsql.KindNChar:
		t.u8(map[tsql.Kind]byte{tsql.KindNVarChar: 0xE7, tsql.KindNChar: 0xEF}[typ.Kind])
		if typ.Len == tsql.Max {
			t.u16(0xFFFF)
		} else {
			t.u16(uint16(2 * typ.Len))
		}
		t.b = append(t.b, collation[:]...)
	case tsql.KindVarChar, tsql.KindChar:
		t.u8(map[tsql.Kind]byte{tsql.KindVarChar: 0xA7, tsql.KindChar: 0xAF}[typ.Kind])
		if typ.Len == tsql.Max {
			t.u16(0xFFFF)
		} else {
			t.u16(uint16(typ.Len))
		}
		t.b = append(t.b, collation[:]...)
	case tsql.KindVarBinary:
		t.u8(0xA5)
		if typ.Len == tsql.Max {
			t.u16(0xFFFF)
		} else {
			t.u16(uint16(typ.Len))
		}
	case tsql.KindDateTime:
		t.u8(0x6F)
		t.u8(8)
	case tsql.KindDateTimeOffset:
		t.u8(0x2B)
		t.u8(byte(typ.Len))
	case tsql.KindVariant:
		t.u8(0x62)
		t.u32(tdsVariantMax)
	}
}

func intSize(k tsql.Kind) int {
	switch k {
	case tsql.KindTinyInt:
		return 1
	case tsql.KindSmallInt:
		return 2
	case tsql.KindBigInt:
		return 8
	}
	return 4
}

func (t *tokens) row(cols []tsql.Column, values []any) {
	t.u8(tokRow)
	for i, c := range cols {
		t.value(c.Type, values[i])
	}
}

// value writes one value of a row in its column's type.
func (t *tokens) value(typ tsql.Type, v any) {
	switch typ.Kind {
	case tsql.KindNVarChar, tsql.KindNChar, tsql.KindVarChar, tsql.KindChar, tsql.KindVarBinary:
		var b []byte
		switch x := v.(type) {
		case string:
			if typ.IsUnicode() {
				b = utf16le.Encode(x)
			} else {
				b = []byte(x)
			}
		case []byte:
			b = x
		default:
			if typ.Len == tsql.Max {
				t.u64(0xFFFFFFFFFFFFFFFF)
			} else {
				t.u16(0xFFFF)
			}
			return
		}
		if typ.Len == tsql.Max {
			t.u64(uint64(len(b)))
			if len(b) > 0 {
				t.u32(uint32(len(b)))
				t.b = append(t.b, b...)
			}
			t.u32(0)
			return
		}
		t.u16(uint16(len(b)))
		t.b = append(t.b, b...)
	case tsql.KindBit:
		nullableFixed(t, v, 1, func(x bool) {
			if x {
				t.u8(1)
			} else {
				t.u8(0)
			}
		})
	case tsql.KindTinyInt, tsql.KindSmallInt, tsql.KindInt, tsql.KindBigInt, tsql.KindNull:
		size := intSize(typ.Kind)
		nullableFixed(t, v, size, func(n int64) {
			switch size {
			case 1:
				t.u8(byte(n))
			case 2:
				t.u16(uint16(n))
			case 4:
				t.u32(uint32(int32(n)))
			default:
				t.u64(uint64(n))
			}
		})
	case tsql.KindFloat:
		nullableFixed(t, v, 8, func(f float64) { t.u64(math.Float64bits(f)) })
	case tsql.KindDateTime:
		nullableFixed(t, v, 8, t.dateTime)
	case tsql.KindDateTimeOffset:
		nullableFixed(t, v, 10, func(tm time.Time) { t.dateTimeOffset(tm, typ.Len) })
	case tsql.KindVariant:
		t.variant(v)
	}
}

// nullableFixed writes a value of a nullable fixed-size type (BITN, INTN,
// FLTN, DATETIMN, DATETIMEOFFSETN: [MS-TDS] TYPE_VARBYTE with a BYTELEN):
// length 0 for NULL (v is not a T), else size and the value.
func nullableFixed[T any](t *tokens, v any, size int, write func(T)) {
	x, ok := v.(T)
	if !ok {
		t.u8(0)
		return
	}
	t.u8(byte(size))
	write(x)
}

// dateTime is DATETIME: days since 1900-01-01, then 1/300 s since midnight.
func (t *tokens) dateTime(tm time.Time) {
	base := time.Date(1900, 1, 1, 0, 0, 0, 0, tm.Location())
	days := int32(tm.Sub(base).Hours() / 24)
	day := base.AddDate(0, 0, int(days))
	ticks := uint32(tm.Sub(day).Nanoseconds() * 300 / int64(time.Second))
	t.u32(uint32(days))
	t.u32(ticks)
}

// dateTimeOffset is DATETIMEOFFSET(scale) for scale 5-7: five bytes of time
// (UTC) in 10^-scale s, three bytes of days since 0001-01-01, the offset in minutes.
func (t *tokens) dateTimeOffset(tm time.Time, scale int) {
	_, off := tm.Zone()
	u := tm.UTC()
	midnight := time.Date(u.Year(), u.Month(), u.Day(), 0, 0, 0, 0, time.UTC)
	units := uint64(u.Sub(midnight).Nanoseconds())
	for i := scale; i < 9; i++ {
		units /= 10
	}
	for i := 0; i < 5; i++ {
		t.u8(byte(units >> (8 * i)))
	}
	days := uint32(midnight.Sub(time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC)).Hours() / 24)
	t.u8(byte(days))
	t.u8(byte(days >> 8))
	t.u8(byte(days >> 16))
	t.u16(uint16(int16(off / 60)))
}

// variant writes a sql_variant value: its length, base type, properties
// and data (MS-TDS 2.2.5.5.4); NULL is a zero length.
func (t *tokens) variant(v any) {
	var inner tokens
	switch x := v.(type) {
	case int64:
		inner.u8(0x38) // INT4
		inner.u8(0)
		inner.u32(uint32(int32(x)))
	case bool:
		inner.u8(0x32) // BIT
		inner.u8(0)
		if x {
			inner.u8(1)
		} else {
			inner.u8(0)
		}
	case string:
		b := utf16le.Encode(x)
		inner.u8(0xE7) // NVARCHAR
		inner.u8(7)
		inner.u16(uint16(max(len(b), 2)))
		inner.b = append(inner.b, collation[:]...)
		inner.b = append(inner.b, b...)
	case time.Time:
		inner.u8(0x3D) // DATETIME
		inner.u8(0)
		inner.dateTime(x)
	default:
		t.u32(0)
		return
	}
	t.u32(uint32(len(inner.b)))
	t.b = append(t.b, inner.b...)
}
