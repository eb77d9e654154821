// Package utf16le is the lab's UTF-16LE, the text encoding of the Windows
// protocols it serves: TDS (LOGIN7 and SQL batches, [MS-TDS] 2.2.5.1.1),
// NTLM ([MS-NLMP] 2.2, NTLMSSP_NEGOTIATE_UNICODE), unicodePwd ([MS-ADTS]
// 3.1.1.3.1.5.1) and powershell.exe's -EncodedCommand.
package utf16le

import (
	"encoding/binary"
	"unicode/utf16"
)

// Encode returns s as UTF-16LE, surrogate pairs for runes beyond the BMP.
func Encode(s string) []byte {
	u := utf16.Encode([]rune(s))
	b := make([]byte, 2*len(u))
	for i, r := range u {
		binary.LittleEndian.PutUint16(b[2*i:], r)
	}
	return b
}

// Decode reads UTF-16LE text; a trailing odd byte is ignored and an
// unpaired surrogate becomes U+FFFD.
func Decode(b []byte) string {
	u := make([]uint16, len(b)/2)
	for i := range u {
		u[i] = binary.LittleEndian.Uint16(b[2*i:])
	}
	return string(utf16.Decode(u))
}
