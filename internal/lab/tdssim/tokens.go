package tdssim

import (
	"encoding/binary"
	"unicode/utf16"

	"github.com/bastion-pam/terraform-provider-bastion/internal/lab/model"
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

type colType int

const (
	colNVarChar colType = iota
	colInt
	colBigInt
	colBit
)

type column struct {
	name     string
	typ      colType
	chars    int // nvarchar length
	nullable bool
}

type resultSet struct {
	cols []column
	rows [][]any // string, int64, bool or nil
}

type tokens struct{ b []byte }

func (t *tokens) u8(v byte)    { t.b = append(t.b, v) }
func (t *tokens) u16(v uint16) { t.b = binary.LittleEndian.AppendUint16(t.b, v) }
func (t *tokens) u32(v uint32) { t.b = binary.LittleEndian.AppendUint32(t.b, v) }
func (t *tokens) u64(v uint64) { t.b = binary.LittleEndian.AppendUint64(t.b, v) }

// bVarChar is a string with a one-byte length in UTF-16 code units.
func (t *tokens) bVarChar(s string) {
	u := ucs2(s)
	t.u8(byte(len(u) / 2))
	t.b = append(t.b, u...)
}

// usVarChar is a string with a two-byte length in UTF-16 code units.
func (t *tokens) usVarChar(s string) {
	u := ucs2(s)
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

func (t *tokens) colMetadata(cols []column) {
	t.u8(tokColMetadata)
	t.u16(uint16(len(cols)))
	for _, c := range cols {
		t.u32(0) // UserType
		flags := uint16(0)
		if c.nullable {
			flags |= 0x01
		}
		t.u16(flags)
		switch c.typ {
		case colNVarChar:
			t.u8(0xE7)
			t.u16(uint16(2 * c.chars))
			t.b = append(t.b, collation[:]...)
		case colInt:
			t.u8(0x26)
			t.u8(4)
		case colBigInt:
			t.u8(0x26)
			t.u8(8)
		case colBit:
			t.u8(0x68)
			t.u8(1)
		}
		t.bVarChar(c.name)
	}
}

func (t *tokens) row(cols []column, values []any) {
	t.u8(tokRow)
	for i, c := range cols {
		v := values[i]
		switch c.typ {
		case colNVarChar:
			s, ok := v.(string)
			if !ok {
				t.u16(0xFFFF)
				continue
			}
			u := utf16.Encode([]rune(s))
			if len(u) > c.chars {
				u = u[:c.chars]
			}
			t.u16(uint16(2 * len(u)))
			for _, r := range u {
				t.u16(r)
			}
		case colInt, colBigInt:
			n, ok := toInt64(v)
			if !ok {
				t.u8(0)
				continue
			}
			if c.typ == colInt {
				t.u8(4)
				t.u32(uint32(int32(n)))
			} else {
				t.u8(8)
				t.u64(uint64(n))
			}
		case colBit:
			b, ok := v.(bool)
			if !ok {
				t.u8(0)
				continue
			}
			t.u8(1)
			if b {
				t.u8(1)
			} else {
				t.u8(0)
			}
		}
	}
}

func toInt64(v any) (int64, bool) {
	switch n := v.(type) {
	case int:
		return int64(n), true
	case int32:
		return int64(n), true
	case int64:
		return n, true
	}
	return 0, false
}

// results writes result sets: after each, DONE (batch) or DONEINPROC (RPC)
// with a row count; more follows unless it is the last of a batch.
func (t *tokens) results(sets []resultSet, rpc bool) {
	for i, rs := range sets {
		t.colMetadata(rs.cols)
		for _, r := range rs.rows {
			t.row(rs.cols, r)
		}
		status := uint16(doneCount)
		token := byte(tokDone)
		if rpc {
			token, status = tokDoneInProc, status|doneMore
		} else if i < len(sets)-1 {
			status |= doneMore
		}
		t.done(token, status, curCmdSelect, uint64(len(rs.rows)))
	}
}
