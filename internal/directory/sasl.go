package directory

import (
	"crypto/hmac"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"

	"github.com/jcmturner/gokrb5/v8/crypto"
	"github.com/jcmturner/gokrb5/v8/crypto/etype"
	"github.com/jcmturner/gokrb5/v8/iana/keyusage"
	"github.com/jcmturner/gokrb5/v8/types"
)

// Protection of a Kerberos bind on a connection without TLS: the SASL
// GSSAPI security layer (RFC 4752 section 3.3) that wraps every LDAP message
// after the bind. Over LDAPS and StartTLS no layer is negotiated: TLS
// protects the connection, and Windows refuses SASL signing or sealing inside
// TLS.
const (
	// ProtectionSeal asks for confidentiality and integrity (default): what
	// Windows' own LDAP clients negotiate.
	ProtectionSeal = "seal"
	// ProtectionSign asks for integrity only ("LDAP signing").
	ProtectionSign = "sign"
)

// SASL security layer bits of the GSSAPI negotiation (RFC 4752 section 3.3).
const (
	saslLayerNone      = 0x01
	saslLayerIntegrity = 0x02
	saslLayerConfident = 0x04
)

// saslMaxReceive is the largest wrapped message this client accepts, as
// announced to the DC in the negotiation's last three octets.
const saslMaxReceive = 0x100000

// Wrap token flags (RFC 4121 section 4.2.2).
const (
	wrapSentByAcceptor = 0x01
	wrapSealed         = 0x02
	wrapAcceptorSubkey = 0x04
)

// wrapHeaderLen is the Wrap token header (RFC 4121 section 4.2.6.2).
const wrapHeaderLen = 16

// chooseLayer picks the layer to answer a DC's offer with: none over TLS,
// else confidentiality or integrity as protection asks. A DC that does not
// offer what is asked is refused here rather than downgraded.
func chooseLayer(offer byte, overTLS bool, protection string) (byte, error) {
	switch {
	case overTLS:
		if offer&saslLayerNone == 0 {
			return 0, fmt.Errorf("the DC offers no SASL security layer choice without signing over TLS (offer %#x)", offer)
		}
		return saslLayerNone, nil
	case protection == ProtectionSign:
		if offer&saslLayerIntegrity == 0 {
			return 0, fmt.Errorf("the DC does not offer SASL integrity protection (offer %#x)", offer)
		}
		return saslLayerIntegrity, nil
	default:
		if offer&saslLayerConfident == 0 {
			return 0, fmt.Errorf("the DC does not offer SASL confidentiality (offer %#x); set protection to sign for integrity only", offer)
		}
		return saslLayerConfident, nil
	}
}

// saslLayer wraps and unwraps the LDAP messages of one bound connection with
// RFC 4121 Wrap tokens: sealed (encrypted and integrity protected) or
// integrity only, keyed by the acceptor's subkey when the DC sent one.
type saslLayer struct {
	key     types.EncryptionKey
	et      etype.EType
	seal    bool
	subkey  bool   // key is the acceptor's subkey: set AcceptorSubkey on our tokens
	maxSend int    // the DC's maximum receive buffer
	sendSeq uint64 // next SND_SEQ
	// acceptor marks a layer that plays the DC's side (tests).
	acceptor bool
}

// usages are the key usages of what this side sends and receives (RFC 4121
// section 2: Wrap tokens use the SEAL usages, sealed or not).
func (l *saslLayer) usages() (send, recv uint32) {
	if l.acceptor {
		return keyusage.GSSAPI_ACCEPTOR_SEAL, keyusage.GSSAPI_INITIATOR_SEAL
	}
	return keyusage.GSSAPI_INITIATOR_SEAL, keyusage.GSSAPI_ACCEPTOR_SEAL
}

func newSASLLayer(key types.EncryptionKey, subkey, seal bool, seq uint64, maxSend int) (*saslLayer, error) {
	et, err := crypto.GetEtype(key.KeyType)
	if err != nil {
		return nil, err
	}
	// RC4-HMAC (RFC 4757) uses the older token format, which this layer does not speak.
	switch key.KeyType {
	case 17, 18, 19, 20: // aes128/256-cts-hmac-sha1-96, aes128-cts-hmac-sha256-128, aes256-cts-hmac-sha384-192
	default:
		return nil, fmt.Errorf("SASL security layer: encryption type %d is not an RFC 4121 type (AES); configure AES for the DC and this principal", key.KeyType)
	}
	return &saslLayer{key: key, et: et, seal: seal, subkey: subkey, sendSeq: seq, maxSend: maxSend}, nil
}

func (l *saslLayer) header(flags byte, ec, rrc uint16, seq uint64) []byte {
	h := make([]byte, wrapHeaderLen)
	h[0], h[1], h[2], h[3] = 0x05, 0x04, flags, 0xff
	binary.BigEndian.PutUint16(h[4:6], ec)
	binary.BigEndian.PutUint16(h[6:8], rrc)
	binary.BigEndian.PutUint64(h[8:16], seq)
	return h
}

// wrap is GSS_Wrap of one message by the initiator (RFC 4121 section 4.2.4):
// sealed, header | encrypt(message | header) with EC 0 and RRC 0; otherwise
// header | message | checksum(message | header with EC and RRC 0).
func (l *saslLayer) wrap(msg []byte) ([]byte, error) {
	var flags byte
	if l.subkey {
		flags |= wrapAcceptorSubkey
	}
	if l.acceptor {
		flags |= wrapSentByAcceptor
	}
	usage, _ := l.usages()
	seq := l.sendSeq
	l.sendSeq++
	if l.seal {
		flags |= wrapSealed
		h := l.header(flags, 0, 0, seq)
		_, ct, err := l.et.EncryptMessage(l.key.KeyValue, append(append([]byte{}, msg...), h...), usage)
		if err != nil {
			return nil, fmt.Errorf("SASL wrap: %w", err)
		}
		return append(h, ct...), nil
	}
	sum, err := l.et.GetChecksumHash(l.key.KeyValue, append(append([]byte{}, msg...), l.header(flags, 0, 0, seq)...), usage)
	if err != nil {
		return nil, fmt.Errorf("SASL wrap: %w", err)
	}
	out := l.header(flags, uint16(len(sum)), 0, seq) //nolint:gosec // a checksum is at most 24 bytes
	return append(append(out, msg...), sum...), nil
}

// unwrap is GSS_Unwrap of one token from the acceptor (RFC 4121 section
// 4.2.4-4.2.5): it undoes the right rotation by RRC, then decrypts and
// checks the encrypted header copy, or checks the checksum.
func (l *saslLayer) unwrap(tok []byte) ([]byte, error) {
	if len(tok) < wrapHeaderLen || tok[0] != 0x05 || tok[1] != 0x04 || tok[3] != 0xff {
		return nil, errors.New("SASL unwrap: not an RFC 4121 Wrap token")
	}
	flags := tok[2]
	if (flags&wrapSentByAcceptor != 0) == l.acceptor {
		return nil, errors.New("SASL unwrap: token sent by this side of the context (reflected)")
	}
	_, usage := l.usages()
	if (flags&wrapAcceptorSubkey != 0) != l.subkey {
		return nil, errors.New("SASL unwrap: token keyed with another key than the bind negotiated")
	}
	ec := int(binary.BigEndian.Uint16(tok[4:6]))
	rrc := int(binary.BigEndian.Uint16(tok[6:8]))
	data := append([]byte{}, tok[wrapHeaderLen:]...)
	if len(data) > 0 && rrc > 0 {
		r := rrc % len(data)
		data = append(data[r:], data[:r]...)
	}
	if flags&wrapSealed != 0 {
		if !l.seal {
			return nil, errors.New("SASL unwrap: sealed token on an integrity-only layer")
		}
		plain, err := l.et.DecryptMessage(l.key.KeyValue, data, usage)
		if err != nil {
			return nil, fmt.Errorf("SASL unwrap: %w", err)
		}
		if len(plain) < ec+wrapHeaderLen {
			return nil, errors.New("SASL unwrap: sealed token too short")
		}
		inner := plain[len(plain)-wrapHeaderLen:]
		want := append([]byte{}, tok[:wrapHeaderLen]...)
		want[6], want[7] = 0, 0 // the encrypted copy carries RRC 0
		if !hmac.Equal(inner, want) {
			return nil, errors.New("SASL unwrap: encrypted header does not match the token's header")
		}
		return plain[:len(plain)-wrapHeaderLen-ec], nil
	}
	if l.seal {
		return nil, errors.New("SASL unwrap: unsealed token on a confidentiality layer")
	}
	if len(data) < ec {
		return nil, errors.New("SASL unwrap: token shorter than its checksum")
	}
	msg, sum := data[:len(data)-ec], data[len(data)-ec:]
	h := append([]byte{}, tok[:wrapHeaderLen]...)
	for i := 4; i < 8; i++ {
		h[i] = 0 // EC and RRC are 0 in the checksummed header
	}
	want, err := l.et.GetChecksumHash(l.key.KeyValue, append(append([]byte{}, msg...), h...), usage)
	if err != nil {
		return nil, fmt.Errorf("SASL unwrap: %w", err)
	}
	if !hmac.Equal(want, sum) {
		return nil, errors.New("SASL unwrap: checksum does not verify")
	}
	return msg, nil
}

// saslConn carries LDAP over a connection that may switch to the SASL
// security layer after the bind: each write becomes one or more
// length-prefixed Wrap tokens (RFC 4752 section 3.3, RFC 4422 section 3.7),
// and reads unwrap them. Until activate it passes bytes through. Whether
// received bytes are wrapped is decided when they arrive, not when the read
// began: the LDAP reader is blocked in Read while the bind completes.
type saslConn struct {
	net.Conn
	layer atomic.Pointer[saslLayer]

	wmu sync.Mutex

	// read side: only the LDAP reader goroutine reads.
	in    []byte // bytes received, not yet a whole frame
	plain []byte // unwrapped bytes not yet returned
}

func (c *saslConn) activate(l *saslLayer) { c.layer.Store(l) }

func (c *saslConn) Write(p []byte) (int, error) {
	l := c.layer.Load()
	if l == nil {
		return c.Conn.Write(p)
	}
	c.wmu.Lock()
	defer c.wmu.Unlock()
	// Chunks whose tokens fit the DC's buffer: a Wrap token adds at most a
	// header, a confounder, a header copy and a checksum.
	chunk := len(p)
	if l.maxSend > 0 {
		if room := l.maxSend - 2*wrapHeaderLen - l.et.GetConfounderByteSize() - l.et.GetHMACBitLength()/8; room > 0 && chunk > room {
			chunk = room
		}
	}
	for off := 0; off < len(p); off += chunk {
		end := min(off+chunk, len(p))
		tok, err := l.wrap(p[off:end])
		if err != nil {
			return off, err
		}
		frame := make([]byte, 4, 4+len(tok))
		binary.BigEndian.PutUint32(frame, uint32(len(tok))) //nolint:gosec // G115: a GSSAPI token is far below 4 GiB
		if _, err := c.Conn.Write(append(frame, tok...)); err != nil {
			return off, err
		}
	}
	return len(p), nil
}

func (c *saslConn) Read(p []byte) (int, error) {
	for {
		if len(c.plain) > 0 {
			n := copy(p, c.plain)
			c.plain = c.plain[n:]
			return n, nil
		}
		if l := c.layer.Load(); l != nil && len(c.in) >= 4 {
			size := int(binary.BigEndian.Uint32(c.in[:4]))
			if size > saslMaxReceive+1024 {
				return 0, fmt.Errorf("SASL: the DC sent a %d-byte wrapped message, over the %d announced", size, saslMaxReceive)
			}
			if len(c.in) >= 4+size {
				msg, err := l.unwrap(c.in[4 : 4+size])
				if err != nil {
					return 0, err
				}
				c.in = c.in[4+size:]
				c.plain = msg
				continue
			}
		}
		n, err := c.Conn.Read(p)
		if n > 0 {
			if c.layer.Load() == nil {
				return n, err
			}
			c.in = append(c.in, p[:n]...)
			if err == nil {
				continue
			}
		}
		if err != nil {
			if errors.Is(err, io.EOF) && len(c.in) > 0 {
				return 0, io.ErrUnexpectedEOF
			}
			return 0, err
		}
	}
}

// unwrapOffer reads the acceptor's offer of security layers, an
// integrity-only Wrap token (RFC 4752 section 3.1), with l's key.
func (l *saslLayer) unwrapOffer(tok []byte) ([]byte, error) {
	sealed := *l
	sealed.seal = false
	if len(tok) > 2 && tok[2]&wrapSealed != 0 {
		sealed.seal = true
	}
	return sealed.unwrap(tok)
}
