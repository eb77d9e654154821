package winrmsim

import (
	"bufio"
	"bytes"
	"crypto/hmac"
	"crypto/md5"
	"crypto/rc4"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
)

// WinRM message encryption on HTTP ([MS-WSMV] 2.2.9.1.1 "Encrypted
// Message Types", 3.1.4.1.2): with Negotiate (NTLM) on a listener that
// refuses unencrypted traffic (AllowUnencrypted=false, Windows' default),
// every SOAP message travels as a two-part multipart/encrypted body whose
// second part is the NTLM sealed message, prefixed with the length of its
// signature. The sealing itself is [MS-NLMP] 3.4.4.2 (SEAL with extended
// session security and key exchange).

const (
	encryptedProtocol = "application/HTTP-SPNEGO-session-encrypted"
	encryptedBoundary = "Encrypted Boundary"
	encryptedType     = `multipart/encrypted;protocol="` + encryptedProtocol + `";boundary="` + encryptedBoundary + `"`
)

var (
	magicClientSign = []byte("session key to client-to-server signing key magic constant\x00")
	magicServerSign = []byte("session key to server-to-client signing key magic constant\x00")
	magicClientSeal = []byte("session key to client-to-server sealing key magic constant\x00")
	magicServerSeal = []byte("session key to server-to-client sealing key magic constant\x00")
)

// sealState is the server side of one NTLM session's confidentiality:
// its RC4 handles run across messages, so messages are processed in order.
type sealState struct {
	mu                sync.Mutex
	flags             uint32
	inSign, outSign   []byte
	inRC4, outRC4     *rc4.Cipher
	inSeqNum, outSeqN uint32
}

func md5Of(parts ...[]byte) []byte {
	h := md5.New()
	for _, p := range parts {
		h.Write(p)
	}
	return h.Sum(nil)
}

// sealKey is SEALKEY ([MS-NLMP] 3.4.5.3) with extended session security.
func sealKey(flags uint32, exported, magic []byte) []byte {
	switch {
	case flags&ntlm128 != 0:
		return md5Of(exported, magic)
	case flags&ntlm56 != 0:
		return md5Of(exported[:7], magic)
	default:
		return md5Of(exported[:5], magic)
	}
}

func rc4Once(key, data []byte) []byte {
	c, _ := rc4.NewCipher(key)
	out := make([]byte, len(data))
	c.XORKeyStream(out, data)
	return out
}

func newNTLMSeal(flags uint32, exported []byte) *sealState {
	in, _ := rc4.NewCipher(sealKey(flags, exported, magicClientSeal))
	out, _ := rc4.NewCipher(sealKey(flags, exported, magicServerSeal))
	return &sealState{
		flags:  flags,
		inSign: md5Of(exported, magicClientSign), outSign: md5Of(exported, magicServerSign),
		inRC4: in, outRC4: out,
	}
}

// signature is MAC ([MS-NLMP] 3.4.4.2): version 1, the first 8 bytes of
// HMAC_MD5(SignKey, SeqNum || message), RC4'd with the sealing handle
// when keys were exchanged, then SeqNum.
func (n *sealState) signature(key []byte, handle *rc4.Cipher, seq uint32, msg []byte) []byte {
	var s [4]byte
	binary.LittleEndian.PutUint32(s[:], seq)
	mac := hmac.New(md5.New, key)
	mac.Write(s[:])
	mac.Write(msg)
	sum := mac.Sum(nil)[:8]
	if n.flags&ntlmKeyExch != 0 {
		handle.XORKeyStream(sum, sum)
	}
	out := make([]byte, 0, 16)
	out = append(out, 1, 0, 0, 0)
	out = append(out, sum...)
	return append(out, s[:]...)
}

// unseal decrypts one client message and checks its signature.
func (n *sealState) unseal(sealed, sig []byte) ([]byte, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if len(sig) != 16 {
		return nil, errors.New("the NTLM signature is not 16 bytes")
	}
	plain := make([]byte, len(sealed))
	n.inRC4.XORKeyStream(plain, sealed)
	want := n.signature(n.inSign, n.inRC4, n.inSeqNum, plain)
	if !hmac.Equal(want, sig) {
		return nil, errors.New("the NTLM signature does not match the message")
	}
	n.inSeqNum++
	return plain, nil
}

// seal encrypts one server message; it returns the signature and the sealed bytes.
func (n *sealState) seal(plain []byte) (sig, sealed []byte) {
	n.mu.Lock()
	defer n.mu.Unlock()
	sealed = make([]byte, len(plain))
	n.outRC4.XORKeyStream(sealed, plain)
	sig = n.signature(n.outSign, n.outRC4, n.outSeqN, plain)
	n.outSeqN++
	return sig, sealed
}

// isEncrypted reports whether a request's Content-Type is WinRM's
// encrypted multipart for SPNEGO.
func isEncrypted(contentType string) bool {
	ct := strings.ToLower(contentType)
	return strings.HasPrefix(ct, "multipart/encrypted") && strings.Contains(ct, strings.ToLower(encryptedProtocol))
}

// parseEncrypted splits an encrypted body into the original content type,
// the NTLM signature and the sealed message. The parts' header lines start
// with a tab in Windows' framing; a client may omit it.
func parseEncrypted(body []byte) (originalType string, length int, sig, sealed []byte, err error) {
	sep := []byte("--" + encryptedBoundary + "\r\n")
	if !bytes.HasPrefix(body, sep) {
		return "", 0, nil, nil, errors.New("the body does not start with the Encrypted Boundary")
	}
	rest := body[len(sep):]
	i := bytes.Index(rest, sep)
	if i < 0 {
		return "", 0, nil, nil, errors.New("the body has no second part")
	}
	for _, line := range strings.Split(string(rest[:i]), "\r\n") {
		name, value, ok := strings.Cut(strings.TrimSpace(line), ":")
		if !ok {
			continue
		}
		switch strings.ToLower(strings.TrimSpace(name)) {
		case "content-type":
			if !strings.EqualFold(strings.TrimSpace(value), encryptedProtocol) {
				return "", 0, nil, nil, fmt.Errorf("the first part's Content-Type is %q", strings.TrimSpace(value))
			}
		case "originalcontent":
			for _, kv := range strings.Split(value, ";") {
				k, v, _ := strings.Cut(strings.TrimSpace(kv), "=")
				switch strings.ToLower(k) {
				case "type":
					originalType = v
				case "length":
					length, _ = strconv.Atoi(v)
				}
			}
		}
	}
	if originalType == "" {
		return "", 0, nil, nil, errors.New("the first part has no OriginalContent")
	}
	part := rest[i+len(sep):]
	nl := bytes.Index(part, []byte("application/octet-stream\r\n"))
	if nl < 0 {
		return "", 0, nil, nil, errors.New("the second part is not application/octet-stream")
	}
	data := part[nl+len("application/octet-stream\r\n"):]
	end := bytes.LastIndex(data, []byte("--"+encryptedBoundary+"--"))
	if end < 0 {
		return "", 0, nil, nil, errors.New("the body has no closing boundary")
	}
	data = data[:end]
	if len(data) < 4 {
		return "", 0, nil, nil, errors.New("the sealed part is empty")
	}
	n := int(binary.LittleEndian.Uint32(data[:4]))
	if n != 16 || len(data) < 4+n {
		return "", 0, nil, nil, errors.New("the sealed part has no 16-byte signature")
	}
	return originalType, length, data[4 : 4+n], data[4+n:], nil
}

// buildEncrypted frames a sealed message as Windows does.
func buildEncrypted(originalType string, plainLen int, sig, sealed []byte) []byte {
	var b bytes.Buffer
	b.WriteString("--" + encryptedBoundary + "\r\n")
	b.WriteString("\tContent-Type: " + encryptedProtocol + "\r\n")
	b.WriteString("\tOriginalContent: type=" + originalType + ";Length=" + strconv.Itoa(plainLen) + "\r\n")
	b.WriteString("--" + encryptedBoundary + "\r\n")
	b.WriteString("\tContent-Type: application/octet-stream\r\n")
	_ = binary.Write(&b, binary.LittleEndian, uint32(len(sig)))
	b.Write(sig)
	b.Write(sealed)
	b.WriteString("--" + encryptedBoundary + "--\r\n")
	return b.Bytes()
}

// unsealRequest applies the HTTP listener's encryption rule to one request
// body. A sealed body is unsealed and the response will be sealed (w is
// replaced by a sealingWriter); a clear SOAP body is refused with HTTP 500
// unless the host allows unencrypted traffic, as Windows answers a client
// that does not encrypt (pywinrm issues #129, #208: "Bad HTTP response
// returned from server. Code 500" until AllowUnencrypted=true). ok false
// means the answer has been written.
func (s *Server) unsealRequest(host string, w http.ResponseWriter, r *http.Request, body []byte) ([]byte, http.ResponseWriter, bool, bool) {
	ct := r.Header.Get("Content-Type")
	if !isEncrypted(ct) {
		if len(body) == 0 {
			return body, w, false, true
		}
		s.count(host, func(st *HostStats) { st.Unsealed++ })
		if s.env.WinRMServiceOf(host).AllowUnencrypted {
			return body, w, false, true
		}
		s.log.Debug("winrmsim refused an unencrypted message on HTTP", "host", host)
		w.Header().Set("Content-Length", "0")
		w.WriteHeader(http.StatusInternalServerError)
		return nil, w, false, false
	}
	cs := connFrom(r.Context())
	var seal *sealState
	if cs != nil {
		cs.mu.Lock()
		seal = cs.seal
		cs.mu.Unlock()
	}
	if seal == nil {
		w.WriteHeader(http.StatusBadRequest)
		return nil, w, false, false
	}
	origType, length, sig, sealed, err := parseEncrypted(body)
	if err == nil && s.takeBadSeal(host) {
		err = errors.New("injected: the message cannot be unsealed")
	}
	if err == nil {
		body, err = seal.unseal(sealed, sig)
	}
	if err == nil && length != len(body) {
		err = fmt.Errorf("OriginalContent says Length=%d, the message has %d bytes", length, len(body))
	}
	if err != nil {
		s.log.Debug("winrmsim could not unseal a message", "host", host, "error", err.Error())
		w.WriteHeader(http.StatusBadRequest)
		return nil, w, false, false
	}
	s.count(host, func(st *HostStats) { st.Sealed++ })
	r.Header.Set("Content-Type", origType)
	return body, &sealingWriter{w: w, seal: seal, header: http.Header{}}, true, true
}

// sealingWriter collects a response and sends it sealed.
type sealingWriter struct {
	w      http.ResponseWriter
	seal   *sealState
	header http.Header
	status int
	body   bytes.Buffer
	done   bool
}

func (s *sealingWriter) Header() http.Header         { return s.header }
func (s *sealingWriter) Write(b []byte) (int, error) { return s.body.Write(b) }
func (s *sealingWriter) WriteHeader(status int) {
	if s.status == 0 {
		s.status = status
	}
}

// Hijack lets a fault reset the connection under a sealed exchange.
func (s *sealingWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	s.done = true
	if hj, ok := s.w.(http.Hijacker); ok {
		return hj.Hijack()
	}
	return nil, nil, errors.New("winrmsim: connection cannot be hijacked")
}

func (s *sealingWriter) flush() {
	if s.done {
		return
	}
	s.done = true
	status := s.status
	if status == 0 {
		status = http.StatusOK
	}
	h := s.w.Header()
	for k, v := range s.header {
		h[k] = v
	}
	if s.body.Len() == 0 {
		s.w.WriteHeader(status)
		return
	}
	orig := s.header.Get("Content-Type")
	if orig == "" {
		orig = soapContentType
	}
	sig, sealed := s.seal.seal(s.body.Bytes())
	out := buildEncrypted(orig, s.body.Len(), sig, sealed)
	h.Set("Content-Type", encryptedType)
	h.Set("Content-Length", strconv.Itoa(len(out)))
	s.w.WriteHeader(status)
	_, _ = s.w.Write(out)
}
