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

	"golang.org/x/crypto/md4" //nolint:staticcheck // NTLM is defined on MD4 ([MS-NLMP] 3.3.2).

	"github.com/bastion-pam/terraform-provider-bastion/internal/lab/model"
	"github.com/bastion-pam/terraform-provider-bastion/internal/lab/utf16le"
)

// NTLMv2 server side ([MS-NLMP] 2.2.1, 3.2.5, 3.3.2, 3.4): NEGOTIATE ->
// 401 with a CHALLENGE -> AUTHENTICATE checked against the model's accounts
// (model.NTLMCandidates: the host's SAM, the domain, a trusted forest).
// NTLM authenticates the TCP connection: later requests on it need no
// Authorization header. The session key it derives seals WinRM messages
// on HTTP (sealing.go).

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
	ntlmKeyExch          = 0x40000000
	ntlm56               = 0x80000000
	ntlmSign             = 0x00000010
	ntlmSealFlag         = 0x00000020
)

// ntlmServerFlags are the flags the lab's CHALLENGE may grant; it grants
// the client's requested subset of the optional ones ([MS-NLMP] 3.2.5.1.1).
const ntlmServerFlags = ntlmUnicode | ntlmRequestTarget | ntlmSign | ntlmSealFlag | ntlmNTLM | ntlmAlwaysSign |
	ntlmExtendedSecurity | ntlm128 | ntlmKeyExch | ntlm56

var ntlmSignature = []byte("NTLMSSP\x00")

func (s *Server) ntlm(w http.ResponseWriter, host string, cs *connState, scheme, token string) (model.Identity, bool) {
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(token))
	if err != nil || len(raw) < 12 || !bytes.Equal(raw[:8], ntlmSignature) {
		s.unauthorized(w, host)
		return model.Identity{}, false
	}
	cs.mu.Lock()
	defer cs.mu.Unlock()
	switch binary.LittleEndian.Uint32(raw[8:12]) {
	case 1: // NEGOTIATE
		cs.id, cs.seal = model.Identity{}, nil
		cs.challenge = make([]byte, 8)
		_, _ = rand.Read(cs.challenge)
		var requested uint32
		if len(raw) >= 16 {
			requested = binary.LittleEndian.Uint32(raw[12:16])
		}
		cs.flags = requested&ntlmServerFlags | ntlmTargetTypeDomain | ntlmTargetInfo | ntlmVersion | ntlmNTLM | ntlmUnicode | ntlmExtendedSecurity
		writeUnauthorized(w, scheme+" "+base64.StdEncoding.EncodeToString(s.challengeMessage(cs.challenge, cs.flags)), false)
		return model.Identity{}, false
	case 3: // AUTHENTICATE
		if cs.challenge != nil {
			id, seal, ok := s.verifyNTLM(host, raw, cs.challenge)
			cs.challenge = nil
			if ok {
				cs.id, cs.seal = id, seal
				return id, true
			}
		}
	}
	s.unauthorized(w, host)
	return model.Identity{}, false
}

func (s *Server) challengeMessage(challenge []byte, flags uint32) []byte {
	var nb, dns string
	_ = s.env.Do(func(e *model.Env) error {
		if e.Domain != nil {
			nb, dns = e.Domain.NetBIOSName, e.Domain.DNSName
		}
		return nil
	})
	target := utf16le.Encode(nb)
	var info bytes.Buffer
	av := func(id uint16, v []byte) {
		_ = binary.Write(&info, binary.LittleEndian, id)
		_ = binary.Write(&info, binary.LittleEndian, uint16(len(v)))
		info.Write(v)
	}
	av(2, utf16le.Encode(nb))
	av(4, utf16le.Encode(dns))
	ts := make([]byte, 8)
	binary.LittleEndian.PutUint64(ts, uint64(time.Now().UnixNano()/100)+116444736000000000)
	av(7, ts)
	av(0, nil)

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

// verifyNTLM checks an AUTHENTICATE message's NTLMv2 response against the
// accounts it may stand for on host and derives the session's sealing
// state ([MS-NLMP] 3.3.2 NTOWFv2, 3.4.5 KXKEY/SIGNKEY/SEALKEY).
func (s *Server) verifyNTLM(host string, msg, challenge []byte) (model.Identity, *sealState, bool) {
	if len(msg) < 64 {
		return model.Identity{}, nil, false
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
	encKey, ok4 := field(52)
	if !ok1 || !ok2 || !ok3 || !ok4 || len(nt) <= 16 {
		return model.Identity{}, nil, false
	}
	flags := binary.LittleEndian.Uint32(msg[60:64])
	user, domain := utf16le.Decode(usr), utf16le.Decode(dom)
	proof, blob := nt[:16], nt[16:]
	for _, c := range s.env.NTLMCandidates(host, domain, user) {
		h := md4.New()
		h.Write(utf16le.Encode(c.Password))
		v2 := hmac.New(md5.New, h.Sum(nil))
		v2.Write(utf16le.Encode(strings.ToUpper(user) + domain))
		ntowf := v2.Sum(nil)
		mac := hmac.New(md5.New, ntowf)
		mac.Write(challenge)
		mac.Write(blob)
		if !hmac.Equal(mac.Sum(nil), proof) {
			continue
		}
		base := hmac.New(md5.New, ntowf)
		base.Write(proof)
		exported := base.Sum(nil) // KXKEY of NTLMv2 is the SessionBaseKey
		if flags&ntlmKeyExch != 0 && len(encKey) == 16 {
			exported = rc4Once(exported, encKey)
		}
		var seal *sealState
		if flags&(ntlmSealFlag|ntlmSign) != 0 {
			seal = newNTLMSeal(flags, exported)
		}
		return c.Identity, seal, true
	}
	return model.Identity{}, nil, false
}
