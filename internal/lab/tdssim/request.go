package tdssim

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"

	"github.com/bastion-pam/terraform-provider-bastion/internal/lab/utf16le"
)

// reader walks a request payload; every read checks bounds.
type reader struct {
	b   []byte
	err error
}

var errShort = errors.New("tds: request truncated")

func (r *reader) take(n int) []byte {
	if r.err != nil {
		return nil
	}
	if n < 0 || n > len(r.b) {
		r.err = errShort
		return nil
	}
	out := r.b[:n]
	r.b = r.b[n:]
	return out
}

func (r *reader) u8() byte {
	b := r.take(1)
	if b == nil {
		return 0
	}
	return b[0]
}

func (r *reader) u16() uint16 {
	b := r.take(2)
	if b == nil {
		return 0
	}
	return binary.LittleEndian.Uint16(b)
}

func (r *reader) u32() uint32 {
	b := r.take(4)
	if b == nil {
		return 0
	}
	return binary.LittleEndian.Uint32(b)
}

func (r *reader) u64() uint64 {
	b := r.take(8)
	if b == nil {
		return 0
	}
	return binary.LittleEndian.Uint64(b)
}

// skipAllHeaders skips ALL_HEADERS (MS-TDS 2.2.5.3), mandatory since TDS 7.2.
func (r *reader) skipAllHeaders() {
	total := int(r.u32())
	if r.err == nil && total < 4 {
		r.err = errors.New("tds: ALL_HEADERS length")
		return
	}
	r.take(total - 4)
}

// parseBatch returns the SQL text of a SQLBatch message.
func parseBatch(payload []byte) (string, error) {
	r := &reader{b: payload}
	r.skipAllHeaders()
	if r.err != nil {
		return "", r.err
	}
	if len(r.b)%2 != 0 {
		return "", errors.New("tds: odd SQL text length")
	}
	return utf16le.Decode(r.b), nil
}

// rpcParam is one RPC parameter: its name (as sent, with @) and Go value.
type rpcParam struct {
	Name  string
	Value any // string, int64, bool, float64, []byte or nil
}

type rpcCall struct {
	Proc   string // procedure name, or "sp_executesql" for ProcID 10
	Params []rpcParam
}

// parseRPC parses an RPC request with one call (MS-TDS 2.2.6.6).
func parseRPC(payload []byte) (rpcCall, error) {
	r := &reader{b: payload}
	r.skipAllHeaders()
	var call rpcCall
	nameLen := r.u16()
	if nameLen == 0xFFFF {
		switch id := r.u16(); id {
		case 10:
			call.Proc = "sp_executesql"
		default:
			call.Proc = fmt.Sprintf("ProcID %d", id)
		}
	} else {
		call.Proc = utf16le.Decode(r.take(2 * int(nameLen)))
	}
	r.u16() // option flags
	for r.err == nil && len(r.b) > 0 {
		if r.b[0] == 0x80 || r.b[0] == 0xFF {
			return call, errors.New("tds: batched RPC calls are not supported")
		}
		name := utf16le.Decode(r.take(2 * int(r.u8())))
		r.u8() // status flags
		v, err := readTypedValue(r)
		if err != nil {
			return call, err
		}
		call.Params = append(call.Params, rpcParam{Name: name, Value: v})
	}
	return call, r.err
}

// readTypedValue reads TYPE_INFO then the value (MS-TDS 2.2.5.4-2.2.5.6),
// for the types a Go client sends.
func readTypedValue(r *reader) (any, error) {
	typ := r.u8()
	switch typ {
	case 0x1F: // NULLTYPE
		return nil, r.err
	case 0x30: // INT1
		return int64(r.u8()), r.err
	case 0x32: // BIT
		return r.u8() != 0, r.err
	case 0x34: // INT2
		return int64(int16(r.u16())), r.err
	case 0x38: // INT4
		return int64(int32(r.u32())), r.err
	case 0x7F: // INT8
		return int64(r.u64()), r.err
	case 0x3B: // FLT4
		return float64(math.Float32frombits(r.u32())), r.err
	case 0x3E: // FLT8
		return math.Float64frombits(r.u64()), r.err
	case 0x26, 0x68, 0x6D: // INTN, BITN, FLTN
		r.u8() // max length
		b := r.take(int(r.u8()))
		if r.err != nil {
			return nil, r.err
		}
		switch {
		case len(b) == 0:
			return nil, nil
		case typ == 0x68:
			return b[0] != 0, nil
		case typ == 0x6D && len(b) == 4:
			return float64(math.Float32frombits(binary.LittleEndian.Uint32(b))), nil
		case typ == 0x6D && len(b) == 8:
			return math.Float64frombits(binary.LittleEndian.Uint64(b)), nil
		case len(b) == 1:
			return int64(b[0]), nil
		case len(b) == 2:
			return int64(int16(binary.LittleEndian.Uint16(b))), nil
		case len(b) == 4:
			return int64(int32(binary.LittleEndian.Uint32(b))), nil
		case len(b) == 8:
			return int64(binary.LittleEndian.Uint64(b)), nil
		}
		return nil, fmt.Errorf("tds: integer of %d bytes", len(b))
	case 0xE7, 0xEF, 0xA7, 0xAF, 0xA5, 0xAD: // NVARCHAR, NCHAR, BIGVARCHAR, BIGCHAR, BIGVARBIN, BIGBINARY
		maxLen := r.u16()
		if typ != 0xA5 && typ != 0xAD {
			r.take(5) // collation
		}
		var b []byte
		isNull := false
		if maxLen == 0xFFFF {
			b, isNull = readPLP(r)
		} else {
			n := r.u16()
			if n == 0xFFFF {
				isNull = true
			} else {
				b = r.take(int(n))
			}
		}
		if r.err != nil || isNull {
			return nil, r.err
		}
		switch typ {
		case 0xE7, 0xEF:
			return utf16le.Decode(b), nil
		case 0xA7, 0xAF:
			return string(b), nil
		}
		return append([]byte(nil), b...), nil
	}
	return nil, fmt.Errorf("tds: parameter type %#x is not supported by the lab", typ)
}

// readPLP reads a partially length-prefixed value.
func readPLP(r *reader) ([]byte, bool) {
	total := r.u64()
	if total == 0xFFFFFFFFFFFFFFFF {
		return nil, true
	}
	var out []byte
	for r.err == nil {
		n := r.u32()
		if n == 0 {
			break
		}
		out = append(out, r.take(int(n))...)
		if len(out) > maxMessage {
			r.err = errors.New("tds: value too long")
		}
	}
	return out, false
}
