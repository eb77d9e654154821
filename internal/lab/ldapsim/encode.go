package ldapsim

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Attribute IDs (ATTRTYP) of the attributes the lab puts in
// replPropertyMetaData ([MS-DRSR] 5.16.4, prefix table of [MS-ADTS]).
const (
	attidObjectClass  = 0x00000000
	attidInstanceType = 0x00020001
	attidDSASignature = 0x0002004A
	attidName         = 0x00090001
)

// guidBytes renders a GUID string in the byte order AD stores objectGUID and
// invocationId in: the first three fields little-endian ([MS-DTYP] 2.3.4.2).
func guidBytes(s string) []byte {
	h, err := hex.DecodeString(strings.ReplaceAll(s, "-", ""))
	if err != nil || len(h) != 16 {
		return make([]byte, 16)
	}
	out := make([]byte, 16)
	out[0], out[1], out[2], out[3] = h[3], h[2], h[1], h[0]
	out[4], out[5] = h[5], h[4]
	out[6], out[7] = h[7], h[6]
	copy(out[8:], h[8:])
	return out
}

// sidBytes renders "S-1-5-21-..." as the binary SID ([MS-DTYP] 2.4.2.2).
func sidBytes(s string) ([]byte, error) {
	parts := strings.Split(s, "-")
	if len(parts) < 3 || !strings.EqualFold(parts[0], "S") || parts[1] != "1" {
		return nil, fmt.Errorf("not a SID: %q", s)
	}
	auth, err := strconv.ParseUint(parts[2], 10, 48)
	if err != nil {
		return nil, fmt.Errorf("SID %q: %w", s, err)
	}
	subs := parts[3:]
	if len(subs) > 15 {
		return nil, fmt.Errorf("SID %q: too many sub-authorities", s)
	}
	b := make([]byte, 8, 8+4*len(subs))
	b[0] = 1
	b[1] = byte(len(subs))
	for i := 0; i < 6; i++ {
		b[2+i] = byte(auth >> (8 * (5 - i)))
	}
	for _, sub := range subs {
		v, err := strconv.ParseUint(sub, 10, 32)
		if err != nil {
			return nil, fmt.Errorf("SID %q: %w", s, err)
		}
		b = binary.LittleEndian.AppendUint32(b, uint32(v))
	}
	return b, nil
}

// metaEntry is one PROPERTY_META_DATA of replPropertyMetaData.
type metaEntry struct {
	attid      uint32
	version    uint32
	changed    time.Time
	invocation string
	origUSN    int64
	localUSN   int64
}

// secondsFrom1601To1970 converts Unix time to DSTIME (seconds since
// 1601-01-01 UTC). time.Time.Sub cannot: 425 years overflow a Duration.
const secondsFrom1601To1970 = 11644473600

// replPropertyMetaData renders the binary PROPERTY_META_DATA_VECTOR
// (version 1) AD and Samba store in replPropertyMetaData: a 16-byte header
// (dwVersion, reserved, cNumProps, reserved) and 48 bytes per attribute
// (attid, version, DSTIME, originating invocation ID, originating USN, local
// USN), all little-endian ([MS-DRSR] 5.16.4 PROPERTY_META_DATA_EXT_VECTOR).
func replPropertyMetaData(entries []metaEntry) []byte {
	b := make([]byte, 0, 16+48*len(entries))
	b = binary.LittleEndian.AppendUint32(b, 1)
	b = binary.LittleEndian.AppendUint32(b, 0)
	b = binary.LittleEndian.AppendUint32(b, uint32(len(entries)))
	b = binary.LittleEndian.AppendUint32(b, 0)
	for _, m := range entries {
		b = binary.LittleEndian.AppendUint32(b, m.attid)
		b = binary.LittleEndian.AppendUint32(b, m.version)
		var secs int64
		if !m.changed.IsZero() {
			secs = m.changed.Unix() + secondsFrom1601To1970
		}
		b = binary.LittleEndian.AppendUint64(b, uint64(secs))
		b = append(b, guidBytes(m.invocation)...)
		b = binary.LittleEndian.AppendUint64(b, uint64(m.origUSN))
		b = binary.LittleEndian.AppendUint64(b, uint64(m.localUSN))
	}
	return b
}

// generalizedTime renders t the way AD renders currentTime and whenChanged.
func generalizedTime(t time.Time) string { return t.UTC().Format("20060102150405.0Z") }
