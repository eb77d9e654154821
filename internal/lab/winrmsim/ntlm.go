package winrmsim

import (
	"bytes"
	"crypto/hmac"
	"crypto/md5"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"net/http"
	"strings"
	"time"
	"unicode/utf16"

	"golang.org/x/crypto/md4" //nolint:staticcheck // NTLM is defined on MD4 ([MS-NLMP] 3.3.2).

	"github.com/bastion-pam/terraform-provider-bastion/internal/lab/model"
)

// NTLMv2 server side, enough for HTTP authentication without message
// sealing ([MS-NLMP] 2.2.1, 3.3.2): NEGOTIATE -> 401 with a CHALLENGE ->
// AUTHENTICATE checked against the model's password. NTLM authenticates the
// TCP connection: later requests on it need no Authorization header.

const (
	ntlmUnicode          = 0x00000001
	ntlmRequestTarget    = 0x00000004
	ntlmNTLM             = 0x00000200
	ntlmAlwaysSign       = 0x00008000
	ntlmTargetTypeDomain = 0x00010000
	ntlmExtendedSecurity = 0x00080000
	ntlmTargetInfo       = 0x00800000
	ntlmVersion          = 0x02000000
	ntlm128              = 0x20000000
	ntlm56               = 0x80000000
)

var ntlmSignature = []byte("NTLMSSP\x00")

func (s *Server) ntlm(w http.ResponseWriter, cs *connState, scheme, token string) (string, bool) {
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(token))
	if err != nil || len(raw) < 12 || !bytes.Equal(raw[:8], ntlmSignature) {
		writeUnauthorized(w, "")
		return "", false
	}
	cs.mu.Lock()
	defer cs.mu.Unlock()
	switch binary.LittleEndian.Uint32(raw[8:12]) {
	case 1: // NEGOTIATE
		cs.user = ""
		cs.challenge = make([]byte, 8)
		_, _ = rand.Read(cs.challenge)
		writeUnauthorized(w, scheme+" "+base64.StdEncoding.EncodeToString(s.challengeMessage(cs.challenge)))
		return "", false
	case 3: // AUTHENTICATE
		if cs.challenge != nil {
			key, ok := s.verifyNTLM(raw, cs.challenge)
			cs.challenge = nil
			if ok {
				cs.user = key
				return key, true
			}
		}
	}
	writeUnauthorized(w, "")
	return "", false
}

func utf16le(s string) []byte {
	u := utf16.Encode([]rune(s))
	b := make([]byte, 2*len(u))
	for i, r := range u {
		binary.LittleEndian.PutUint16(b[2*i:], r)
	}
	return b
}

func fromUTF16le(b []byte) string {
	u := make([]uint16, len(b)/2)
	for i := range u {
		u[i] = binary.LittleEndian.Uint16(b[2*i:])
	}
	return string(utf16.Decode(u))
}

func (s *Server) challengeMessage(challenge []byte) []byte {
	var nb, dns string
	_ = s.env.Do(func(e *model.Env) error {
		if e.Domain != nil {
			nb, dns = e.Domain.NetBIOSName, e.Domain.DNSName
		}
		return nil
	})
	target := utf16le(nb)
	var info bytes.Buffer
	av := func(id uint16, v []byte) {
		_ = binary.Write(&info, binary.LittleEndian, id)
		_ = binary.Write(&info, binary.LittleEndian, uint16(len(v)))
		info.Write(v)
	}
	av(2, utf16le(nb))
	av(4, utf16le(dns))
	ts := make([]byte, 8)
	binary.LittleEndian.PutUint64(ts, uint64(time.Now().UnixNano()/100)+116444736000000000)
	av(7, ts)
	av(0, nil)

	flags := uint32(ntlmUnicode | ntlmRequestTarget | ntlmNTLM | ntlmAlwaysSign | ntlmTargetTypeDomain |
		ntlmExtendedSecurity | ntlmTargetInfo | ntlmVersion | ntlm128 | ntlm56)
	const header = 56
	var m bytes.Buffer
	m.Write(ntlmSignature)
	_ = binary.Write(&m, binary.LittleEndian, uint32(2))
	field := func(n, off int) {
		_ = binary.Write(&m, binary.LittleEndian, uint16(n))
		_ = binary.Write(&m, binary.LittleEndian, uint16(n))
		_ = binary.Write(&m, binary.LittleEndian, uint32(off))
	}
	field(len(target), header)
	_ = binary.Write(&m, binary.LittleEndian, flags)
	m.Write(challenge)
	m.Write(make([]byte, 8))
	field(info.Len(), header+len(target))
	m.Write([]byte{10, 0, 0x7c, 0x4f, 0, 0, 0, 15}) // Windows 10.0.20348, NTLM revision 15
	m.Write(target)
	m.Write(info.Bytes())
	return m.Bytes()
}

// verifyNTLM checks an AUTHENTICATE message's NTLMv2 response and returns
// the canonical credentials key of the user.
func (s *Server) verifyNTLM(msg, challenge []byte) (string, bool) {
	if len(msg) < 64 {
		return "", false
	}
	field := func(at int) ([]byte, bool) {
		n := int(binary.LittleEndian.Uint16(msg[at:]))
		off := int(binary.LittleEndian.Uint32(msg[at+4:]))
		if off < 0 || off+n > len(msg) {
			return nil, false
		}
		return msg[off : off+n], true
	}
	nt, ok1 := field(20)
	dom, ok2 := field(28)
	usr, ok3 := field(36)
	if !ok1 || !ok2 || !ok3 || len(nt) <= 16 {
		return "", false
	}
	user, domain := fromUTF16le(usr), fromUTF16le(dom)
	name := user
	if domain != "" {
		name = domain + `\` + user
	}
	proof, blob := nt[:16], nt[16:]
	var key string
	var ok bool
	_ = s.env.Do(func(e *model.Env) error {
		for _, k := range credentialKeys(e, name) {
			pw, found := e.Credentials[k]
			if !found {
				continue
			}
			h := md4.New()
			h.Write(utf16le(pw))
			v2 := hmac.New(md5.New, h.Sum(nil))
			v2.Write(utf16le(strings.ToUpper(user) + domain))
			mac := hmac.New(md5.New, v2.Sum(nil))
			mac.Write(challenge)
			mac.Write(blob)
			if hmac.Equal(mac.Sum(nil), proof) {
				key, ok = k, true
				return nil
			}
		}
		return nil
	})
	return key, ok
}
