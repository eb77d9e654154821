package directory

import (
	"bytes"
	"crypto/md5" //nolint:gosec // the algorithm under test
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"encoding/hex"
	"testing"
)

func TestTLSServerEndPoint(t *testing.T) {
	raw := []byte("not really DER, only hashed")
	s256 := sha256.Sum256(raw)
	s384 := sha512.Sum384(raw)
	s512 := sha512.Sum512(raw)
	for alg, want := range map[x509.SignatureAlgorithm][]byte{
		x509.ECDSAWithSHA256: s256[:],
		x509.SHA256WithRSA:   s256[:],
		x509.SHA1WithRSA:     s256[:], // RFC 5929 4.1: MD5 and SHA-1 become SHA-256
		x509.MD5WithRSA:      s256[:],
		x509.ECDSAWithSHA384: s384[:],
		x509.SHA512WithRSA:   s512[:],
		x509.PureEd25519:     s256[:],
	} {
		got := tlsServerEndPoint(&x509.Certificate{Raw: raw, SignatureAlgorithm: alg})
		if !bytes.Equal(got, append([]byte("tls-server-end-point:"), want...)) {
			t.Errorf("%v: %x", alg, got)
		}
	}
}

func TestChannelBindingChecksum(t *testing.T) {
	if got := channelBindingHash(nil); !bytes.Equal(got, make([]byte, 16)) {
		t.Errorf("no bindings: Bnd = %x, want zeros", got)
	}
	app := []byte("tls-server-end-point:abc")
	// gss_channel_bindings_struct, RFC 2744 3.11, as RFC 4121 4.1.1.2 hashes it:
	// four zero 32-bit fields (no addresses), then the length and the data.
	flat, _ := hex.DecodeString("00000000" + "00000000" + "00000000" + "00000000" + "18000000")
	want := md5.Sum(append(flat, app...)) //nolint:gosec
	if got := channelBindingHash(app); !bytes.Equal(got, want[:]) {
		t.Errorf("Bnd = %x, want %x", got, want)
	}
	ck := authenticatorChecksum(want[:], 0x2|0x10|0x20)
	if hex.EncodeToString(ck[:4]) != "10000000" || !bytes.Equal(ck[4:20], want[:]) || hex.EncodeToString(ck[20:]) != "32000000" {
		t.Errorf("checksum = %x", ck)
	}
}
