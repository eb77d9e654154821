package directory

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// AttidDSASignature is the ATTRTYP of dSASignature (1.2.840.113556.1.2.74:
// prefix index 2, so 0x0002004A) in replPropertyMetaData.
const AttidDSASignature uint32 = 0x0002004A

// ErrMalformed reports a binary attribute that does not parse.
var ErrMalformed = errors.New("malformed binary attribute")

// PropertyMetaData is one entry of replPropertyMetaData ([MS-DRSR] 5.16.4
// PROPERTY_META_DATA_EXT plus the attribute and local USN): the stamp of the
// last originating change of one attribute of an object.
type PropertyMetaData struct {
	AttributeID             uint32
	Version                 uint32
	OriginatingChangeTime   time.Time
	OriginatingInvocationID string
	OriginatingUSN          int64
	LocalUSN                int64
}

// dsTimeUnixOffset converts DSTIME (seconds since 1601-01-01 UTC) to Unix
// time; adding the seconds to a 1601 time.Time would overflow Duration.
const dsTimeUnixOffset = 11644473600

// ParseReplPropertyMetaData decodes the binary replPropertyMetaData value
// (a PROPERTY_META_DATA_VECTOR, version 1) that Windows and Samba store on
// every object: little-endian dwVersion (1), dwReserved, cNumProps,
// dwReserved, then 48 bytes per attribute: attrType, dwVersion, DSTIME
// (int64 seconds since 1601), originating invocation ID (GUID), originating
// USN, local USN. Samba names it replPropertyMetaDataBlob (drsblobs.idl).
func ParseReplPropertyMetaData(b []byte) ([]PropertyMetaData, error) {
	const header, size = 16, 48
	if len(b) < header {
		return nil, fmt.Errorf("%w: replPropertyMetaData is %d bytes, shorter than its header", ErrMalformed, len(b))
	}
	if v := binary.LittleEndian.Uint32(b[0:4]); v != 1 {
		return nil, fmt.Errorf("%w: replPropertyMetaData version %d, want 1", ErrMalformed, v)
	}
	n := binary.LittleEndian.Uint32(b[8:12])
	if uint64(len(b)-header) < uint64(n)*size { //nolint:gosec // G115: len(b) >= header was checked above
		return nil, fmt.Errorf("%w: replPropertyMetaData announces %d entries in %d bytes", ErrMalformed, n, len(b))
	}
	out := make([]PropertyMetaData, 0, n)
	for i := uint32(0); i < n; i++ {
		e := b[header+int(i)*size : header+int(i+1)*size]
		secs := int64(binary.LittleEndian.Uint64(e[8:16])) //nolint:gosec // G115: DSTIME is a signed LONGLONG on the wire (MS-DRSR 5.49)
		m := PropertyMetaData{
			AttributeID:             binary.LittleEndian.Uint32(e[0:4]),
			Version:                 binary.LittleEndian.Uint32(e[4:8]),
			OriginatingInvocationID: guidString(e[16:32]),
			OriginatingUSN:          int64(binary.LittleEndian.Uint64(e[32:40])), //nolint:gosec // G115: USN is a signed LONGLONG (MS-DRSR 5.212)
			LocalUSN:                int64(binary.LittleEndian.Uint64(e[40:48])), //nolint:gosec // G115: USN is a signed LONGLONG (MS-DRSR 5.212)
		}
		if secs > 0 {
			m.OriginatingChangeTime = time.Unix(secs-dsTimeUnixOffset, 0).UTC()
		}
		out = append(out, m)
	}
	return out, nil
}

// guidString renders a binary GUID as AD stores objectGUID and invocationId:
// the first three fields little-endian ([MS-DTYP] 2.3.4.2).
func guidString(b []byte) string {
	if len(b) != 16 {
		return ""
	}
	return fmt.Sprintf("%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		b[3], b[2], b[1], b[0], b[5], b[4], b[7], b[6], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15])
}

// sidString renders a binary SID as S-1-... ([MS-DTYP] 2.4.2.2).
func sidString(b []byte) (string, error) {
	if len(b) < 8 || b[0] != 1 {
		return "", fmt.Errorf("%w: not a SID", ErrMalformed)
	}
	n := int(b[1])
	if len(b) != 8+4*n {
		return "", fmt.Errorf("%w: SID with %d sub-authorities is %d bytes", ErrMalformed, n, len(b))
	}
	var auth uint64
	for _, x := range b[2:8] {
		auth = auth<<8 | uint64(x)
	}
	var s strings.Builder
	s.WriteString("S-1-")
	s.WriteString(strconv.FormatUint(auth, 10))
	for i := 0; i < n; i++ {
		s.WriteByte('-')
		s.WriteString(strconv.FormatUint(uint64(binary.LittleEndian.Uint32(b[8+4*i:])), 10))
	}
	return s.String(), nil
}
