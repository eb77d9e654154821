package utf16le

import (
	"bytes"
	"testing"
)

func TestEncodeDecode(t *testing.T) {
	for _, c := range []struct {
		text string
		enc  []byte
	}{
		{"", []byte{}},
		{"A", []byte{0x41, 0x00}},
		{`"pw"`, []byte{0x22, 0x00, 0x70, 0x00, 0x77, 0x00, 0x22, 0x00}},
		{"é", []byte{0xe9, 0x00}},
		{"𝄞", []byte{0x34, 0xd8, 0x1e, 0xdd}}, // U+1D11E: a surrogate pair
	} {
		if got := Encode(c.text); !bytes.Equal(got, c.enc) {
			t.Errorf("Encode(%q) = % x, want % x", c.text, got, c.enc)
		}
		if got := Decode(c.enc); got != c.text {
			t.Errorf("Decode(% x) = %q, want %q", c.enc, got, c.text)
		}
	}
	if got := Decode([]byte{0x41, 0x00, 0x42}); got != "A" {
		t.Errorf("odd length: %q, want the trailing byte ignored", got)
	}
	if got := Decode([]byte{0x34, 0xd8}); got != "\uFFFD" {
		t.Errorf("unpaired surrogate: %q", got)
	}
}
