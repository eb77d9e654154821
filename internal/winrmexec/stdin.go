package winrmexec

import (
	"errors"
	"fmt"
	"unicode/utf16"
	"unicode/utf8"
)

// ErrInvalidInput marks a script input that cannot travel to Windows as
// data (errors.Is); the run never starts.
var ErrInvalidInput = errors.New("invalid script input")

// asciiJSON rewrites marshalled JSON so that it is pure ASCII: every
// non-ASCII rune becomes a \uXXXX escape (a surrogate pair above U+FFFF).
// PowerShell reads stdin through the console's input code page (often an
// OEM page such as 437 on a server), which would mangle UTF-8 bytes; JSON
// escapes survive every code page and ConvertFrom-Json restores them.
// It refuses NUL: Windows command-line and registry APIs end strings at it.
func asciiJSON(b []byte) ([]byte, error) {
	out := make([]byte, 0, len(b)+len(b)/8)
	for i := 0; i < len(b); {
		c := b[i]
		if c == '\\' && i+1 < len(b) {
			if b[i+1] == 'u' && i+6 <= len(b) && string(b[i+2:i+6]) == "0000" {
				return nil, fmt.Errorf("%w: a string contains a NUL character (U+0000), which Windows would cut the value at", ErrInvalidInput)
			}
			out = append(out, b[i], b[i+1])
			i += 2
			continue
		}
		if c < utf8.RuneSelf {
			out = append(out, c)
			i++
			continue
		}
		r, n := utf8.DecodeRune(b[i:])
		if r >= 0x10000 {
			r1, r2 := utf16.EncodeRune(r)
			out = fmt.Appendf(out, `\u%04x\u%04x`, r1, r2)
		} else {
			out = fmt.Appendf(out, `\u%04x`, r)
		}
		i += n
	}
	return out, nil
}
