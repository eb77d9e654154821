package directory

import (
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"io"
	"net"
	"strings"
	"testing"

	"github.com/jcmturner/gokrb5/v8/crypto"
	"github.com/jcmturner/gokrb5/v8/types"
)

// layers returns the two ends of one security context: ours and the DC's.
func layers(t *testing.T, keyType int32, seal bool) (*saslLayer, *saslLayer) {
	t.Helper()
	et, err := crypto.GetEtype(keyType)
	if err != nil {
		t.Fatal(err)
	}
	kv := make([]byte, et.GetKeyByteSize())
	if _, err := rand.Read(kv); err != nil {
		t.Fatal(err)
	}
	key := types.EncryptionKey{KeyType: keyType, KeyValue: kv}
	ini, err := newSASLLayer(key, true, seal, 1000, 4096)
	if err != nil {
		t.Fatal(err)
	}
	acc, err := newSASLLayer(key, true, seal, 5000, saslMaxReceive)
	if err != nil {
		t.Fatal(err)
	}
	acc.acceptor = true
	return ini, acc
}

// rotate applies a right rotation by rrc to the data after the header, as a
// Windows acceptor may (RFC 4121 section 4.2.5).
func rotate(tok []byte, rrc int) []byte {
	out := append([]byte{}, tok[:wrapHeaderLen]...)
	binary.BigEndian.PutUint16(out[6:8], uint16(rrc))
	data := tok[wrapHeaderLen:]
	r := rrc % len(data)
	return append(append(out, data[len(data)-r:]...), data[:len(data)-r]...)
}

func TestSASLLayerWrapUnwrap(t *testing.T) {
	msg := []byte("0\x84\x00\x00\x00\x05\x02\x01\x02B\x00 an LDAP message")
	for _, tc := range []struct {
		name    string
		keyType int32
		seal    bool
	}{
		{"seal aes256-cts-hmac-sha1-96", 18, true},
		{"sign aes256-cts-hmac-sha1-96", 18, false},
		{"seal aes128-cts-hmac-sha1-96", 17, true},
		{"sign aes128-cts-hmac-sha256-128", 19, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ini, acc := layers(t, tc.keyType, tc.seal)
			tok, err := ini.wrap(msg)
			if err != nil {
				t.Fatal(err)
			}
			if sealed := tok[2]&wrapSealed != 0; sealed != tc.seal {
				t.Fatalf("Sealed flag %t, want %t", sealed, tc.seal)
			}
			if tc.seal && bytes.Contains(tok, []byte("an LDAP message")) {
				t.Fatal("a sealed token carries the message in clear")
			}
			if !tc.seal && !bytes.Contains(tok, []byte("an LDAP message")) {
				t.Fatal("an integrity-only token does not carry the message in clear")
			}
			got, err := acc.unwrap(tok)
			if err != nil || !bytes.Equal(got, msg) {
				t.Fatalf("DC unwraps %q, %v; want the message", got, err)
			}
			if ini.sendSeq != 1001 || binary.BigEndian.Uint64(tok[8:16]) != 1000 {
				t.Errorf("SND_SEQ %d, next %d; want 1000 then 1001", binary.BigEndian.Uint64(tok[8:16]), ini.sendSeq)
			}
			// The DC's reply, rotated by 28 as Windows does, unwraps on our side.
			reply, err := acc.wrap([]byte("reply"))
			if err != nil {
				t.Fatal(err)
			}
			for _, rrc := range []int{0, 28} {
				if got, err := ini.unwrap(rotate(reply, rrc)); err != nil || string(got) != "reply" {
					t.Errorf("RRC %d: unwrap %q, %v", rrc, got, err)
				}
			}
			// Tampering with any byte after the token ID is detected.
			for _, i := range []int{2, 9, wrapHeaderLen, len(reply) - 1} {
				bad := append([]byte{}, reply...)
				bad[i] ^= 0x40
				if _, err := ini.unwrap(bad); err == nil {
					t.Errorf("a token with byte %d changed unwraps", i)
				}
			}
			// Our own token reflected back is refused.
			if _, err := ini.unwrap(tok); err == nil || !strings.Contains(err.Error(), "reflected") {
				t.Errorf("reflected token: %v", err)
			}
		})
	}
	key := types.EncryptionKey{KeyType: 23, KeyValue: make([]byte, 16)}
	if _, err := newSASLLayer(key, false, true, 0, 0); err == nil || !strings.Contains(err.Error(), "AES") {
		t.Errorf("rc4-hmac layer: %v, want an error naming AES", err)
	}
}

func TestChooseLayer(t *testing.T) {
	for _, tc := range []struct {
		offer      byte
		tls        bool
		protection string
		want       byte
		err        string
	}{
		{offer: 0x07, tls: true, protection: ProtectionSeal, want: saslLayerNone},
		{offer: 0x07, protection: ProtectionSeal, want: saslLayerConfident},
		{offer: 0x07, protection: "", want: saslLayerConfident},
		{offer: 0x07, protection: ProtectionSign, want: saslLayerIntegrity},
		{offer: 0x03, protection: ProtectionSeal, err: "confidentiality"},
		{offer: 0x05, protection: ProtectionSign, err: "integrity"},
		{offer: 0x06, tls: true, err: "without signing"},
	} {
		got, err := chooseLayer(tc.offer, tc.tls, tc.protection)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("offer %#x tls %t %q: %v, want an error about %s", tc.offer, tc.tls, tc.protection, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("offer %#x tls %t %q: %#x, %v; want %#x", tc.offer, tc.tls, tc.protection, got, err, tc.want)
		}
	}
}

// TestSASLConn: plain until activated, then every write is length-prefixed
// Wrap tokens no larger than the DC's buffer, and reads unwrap frames split
// across reads.
func TestSASLConn(t *testing.T) {
	ini, acc := layers(t, 18, true)
	ini.maxSend = 200
	a, b := net.Pipe()
	defer func() { _ = a.Close() }()
	defer func() { _ = b.Close() }()
	sc := &saslConn{Conn: a}
	go func() { _, _ = sc.Write([]byte("bind request")) }()
	buf := make([]byte, 64)
	n, err := b.Read(buf)
	if err != nil || string(buf[:n]) != "bind request" {
		t.Fatalf("before activate the peer reads %q, %v", buf[:n], err)
	}
	sc.activate(ini)
	big := bytes.Repeat([]byte("x"), 1000)
	errc := make(chan error, 1)
	go func() { _, err := sc.Write(big); errc <- err }()
	var got []byte
	frames := 0
	for len(got) < len(big) {
		var hdr [4]byte
		if _, err := io.ReadFull(b, hdr[:]); err != nil {
			t.Fatal(err)
		}
		size := binary.BigEndian.Uint32(hdr[:])
		if size > 200 {
			t.Fatalf("a %d-byte token for a DC whose buffer is 200", size)
		}
		tok := make([]byte, size)
		if _, err := io.ReadFull(b, tok); err != nil {
			t.Fatal(err)
		}
		m, err := acc.unwrap(tok)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, m...)
		frames++
	}
	if err := <-errc; err != nil || !bytes.Equal(got, big) || frames < 5 {
		t.Fatalf("write: %v; %d bytes in %d frames", err, len(got), frames)
	}
	reply, _ := acc.wrap([]byte("search result"))
	frame := binary.BigEndian.AppendUint32(nil, uint32(len(reply)))
	frame = append(frame, reply...)
	go func() {
		for _, part := range [][]byte{frame[:3], frame[3:20], frame[20:]} {
			_, _ = b.Write(part)
		}
	}()
	out := make([]byte, 5)
	var read []byte
	for len(read) < len("search result") {
		n, err := sc.Read(out)
		if err != nil {
			t.Fatal(err)
		}
		read = append(read, out[:n]...)
	}
	if string(read) != "search result" {
		t.Fatalf("read %q", read)
	}
}
