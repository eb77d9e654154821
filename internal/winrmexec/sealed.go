package winrmexec

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/bodgit/ntlmssp"

	"github.com/bastion-pam/terraform-provider-bastion/internal/transport"
)

// NTLM over plain HTTP (port 5985) with message sealing, as Windows'
// default listener requires (AllowUnencrypted=false): [MS-WSMV] 2.2.9.1.1
// frames each SOAP message as multipart/encrypted with the protocol
// application/HTTP-SPNEGO-session-encrypted; the second part holds the
// 4-byte length of the NTLM signature, the signature and the sealed
// message ([MS-NLMP] 3.4.4.2). The NTLM handshake and the sealing keys
// come from github.com/bodgit/ntlmssp (what masterzen/winrm's
// NewEncryption("ntlm") uses); the framing and the connection handling
// are ours, because masterzen's Encryption.Post falls back to an
// unencrypted post when the encrypted set-up fails. This one fails closed:
// a message is sent sealed on a connection whose NTLM context granted
// sealing, or not at all.

const (
	sealProtocol      = "application/HTTP-SPNEGO-session-encrypted"
	sealBoundary      = "--Encrypted Boundary"
	sealContentType   = `multipart/encrypted;protocol="` + sealProtocol + `";boundary="Encrypted Boundary"`
	soapContentTypeV  = "application/soap+xml;charset=UTF-8"
	ntlmFlagSeal      = 0x00000020
	ntlmFlagKeyExch   = 0x40000000
	maxSealedResponse = 64 << 20
)

// ErrNotSealed means a host on plain HTTP could not or would not seal the
// WinRM messages; nothing was sent in clear text.
var ErrNotSealed = errors.New("winrm message sealing failed")

// sealedTransport is an http.RoundTripper for NTLM with sealing: each
// pooled connection carries its own NTLM security context.
type sealedTransport struct {
	dial           func(ctx context.Context, network, addr string) (net.Conn, error)
	user, password string
	domain         string
	maxIdle        int
	// onRequest counts every HTTP request written, handshakes included.
	onRequest func()

	mu   sync.Mutex
	idle map[string][]*sealedConn // by host:port
}

type sealedConn struct {
	onRequest func()
	c         net.Conn
	br        *bufio.Reader
	sess      *ntlmssp.SecuritySession
}

func newSealedTransport(dial func(ctx context.Context, network, addr string) (net.Conn, error), user, password string, maxIdle int) *sealedTransport {
	domain := ""
	if d, u, ok := strings.Cut(user, `\`); ok {
		domain, user = d, u
	} else if u, d, ok := strings.Cut(user, "@"); ok {
		domain, user = d, u
	}
	return &sealedTransport{dial: dial, user: user, password: password, domain: domain, maxIdle: maxIdle, idle: map[string][]*sealedConn{}}
}

// RoundTrip sends req's SOAP body sealed and returns the unsealed answer.
func (t *sealedTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	body, err := readBody(req)
	if err != nil {
		return nil, err
	}
	addr := req.URL.Host
	sc, err := t.get(req.Context(), req, addr)
	if err != nil {
		return nil, err
	}
	resp, keep, err := t.exchange(req, sc, body)
	if err != nil || !keep {
		_ = sc.c.Close()
	} else {
		t.put(addr, sc)
	}
	return resp, err
}

// CloseIdleConnections closes every pooled connection.
func (t *sealedTransport) CloseIdleConnections() {
	t.mu.Lock()
	defer t.mu.Unlock()
	for k, list := range t.idle {
		for _, sc := range list {
			_ = sc.c.Close()
		}
		delete(t.idle, k)
	}
}

func (t *sealedTransport) put(addr string, sc *sealedConn) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.idle[addr]) >= t.maxIdle {
		_ = sc.c.Close()
		return
	}
	t.idle[addr] = append(t.idle[addr], sc)
}

func (t *sealedTransport) get(ctx context.Context, req *http.Request, addr string) (*sealedConn, error) {
	t.mu.Lock()
	if list := t.idle[addr]; len(list) > 0 {
		sc := list[len(list)-1]
		t.idle[addr] = list[:len(list)-1]
		t.mu.Unlock()
		return sc, nil
	}
	t.mu.Unlock()
	c, err := t.dial(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	sc := &sealedConn{c: c, br: bufio.NewReader(c), onRequest: t.onRequest}
	if err := t.handshake(req, sc); err != nil {
		_ = c.Close()
		return nil, err
	}
	return sc, nil
}

// send writes one request on the connection and reads the answer's head and body.
func (sc *sealedConn) send(req *http.Request, header http.Header, body []byte) (*http.Response, []byte, error) {
	out := &http.Request{
		Method: http.MethodPost, URL: req.URL, Host: req.URL.Host, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: header, ContentLength: int64(len(body)), Body: io.NopCloser(bytes.NewReader(body)),
	}
	if ctx := req.Context(); ctx != nil {
		if d, ok := ctx.Deadline(); ok {
			_ = sc.c.SetDeadline(d)
		} else {
			_ = sc.c.SetDeadline(time.Time{})
		}
		stop := context.AfterFunc(ctx, func() { _ = sc.c.Close() })
		defer stop()
	}
	if sc.onRequest != nil {
		sc.onRequest()
	}
	if err := out.Write(sc.c); err != nil {
		return nil, nil, err
	}
	resp, err := http.ReadResponse(sc.br, out)
	if err != nil {
		return nil, nil, err
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxSealedResponse))
	_ = resp.Body.Close()
	if err != nil {
		return nil, nil, err
	}
	return resp, b, nil
}

func baseHeader(req *http.Request) http.Header {
	h := http.Header{}
	h.Set("User-Agent", "terraform-provider-bastion")
	h.Set("Connection", "Keep-Alive")
	h.Set("Content-Type", soapContentTypeV)
	if ua := req.Header.Get("User-Agent"); ua != "" {
		h.Set("User-Agent", ua)
	}
	return h
}

// handshake authenticates a new connection with empty-body posts, as
// pywinrm and WinRM's own client set up the context before the first
// sealed message, and checks that the context seals.
func (t *sealedTransport) handshake(req *http.Request, sc *sealedConn) error {
	cl, err := ntlmssp.NewClient(ntlmssp.SetUserInfo(t.user, t.password), ntlmssp.SetDomain(t.domain), ntlmssp.SetVersion(ntlmssp.DefaultVersion()))
	if err != nil {
		return err
	}
	negotiate, err := cl.Authenticate(nil, nil)
	if err != nil {
		return err
	}
	h := baseHeader(req)
	h.Set("Authorization", "Negotiate "+base64.StdEncoding.EncodeToString(negotiate))
	resp, _, err := sc.send(req, h, nil)
	if err != nil {
		return err
	}
	challenge := negotiateToken(resp.Header)
	if resp.StatusCode != http.StatusUnauthorized || challenge == nil {
		return fmt.Errorf("%w: the host answered the NTLM negotiation with HTTP %d and no challenge", transport.ErrUnauthorized, resp.StatusCode)
	}
	if len(challenge) < 24 || binary.LittleEndian.Uint32(challenge[20:24])&ntlmFlagSeal == 0 {
		return fmt.Errorf("%w: the host's NTLM challenge does not grant message sealing; refusing to send WinRM messages in clear text over HTTP (use HTTPS, port 5986)", ErrNotSealed)
	}
	authenticate, err := cl.Authenticate(challenge, nil)
	if err != nil {
		return fmt.Errorf("%w: NTLM: %w", transport.ErrUnauthorized, err)
	}
	h = baseHeader(req)
	h.Set("Authorization", "Negotiate "+base64.StdEncoding.EncodeToString(authenticate))
	resp, _, err = sc.send(req, h, nil)
	if err != nil {
		return err
	}
	switch {
	case resp.StatusCode == http.StatusUnauthorized:
		return fmt.Errorf("%w: HTTP 401 from the host", transport.ErrUnauthorized)
	case resp.StatusCode != http.StatusOK:
		return fmt.Errorf("%w: the host answered the NTLM authentication with HTTP %d; nothing was sent in clear text", ErrNotSealed, resp.StatusCode)
	}
	sc.sess = cl.SecuritySession()
	if sc.sess == nil {
		return fmt.Errorf("%w: NTLM gave no security context", ErrNotSealed)
	}
	return nil
}

func negotiateToken(h http.Header) []byte {
	for _, v := range h.Values("WWW-Authenticate") {
		if tok, ok := strings.CutPrefix(v, "Negotiate "); ok {
			if b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(tok)); err == nil {
				return b
			}
		}
	}
	return nil
}

// exchange sends one sealed message and unseals the answer. keep reports
// whether the connection may carry another message.
func (t *sealedTransport) exchange(req *http.Request, sc *sealedConn, plain []byte) (*http.Response, bool, error) {
	sealed, sig, err := sc.sess.Wrap(plain)
	if err != nil {
		return nil, false, fmt.Errorf("%w: %w", ErrNotSealed, err)
	}
	if len(sig) != 16 {
		return nil, false, fmt.Errorf("%w: NTLM gave a %d-byte signature, not 16", ErrNotSealed, len(sig))
	}
	var b bytes.Buffer
	b.WriteString(sealBoundary + "\r\n")
	b.WriteString("\tContent-Type: " + sealProtocol + "\r\n")
	b.WriteString("\tOriginalContent: type=" + soapContentTypeV + ";Length=" + strconv.Itoa(len(plain)) + "\r\n")
	b.WriteString(sealBoundary + "\r\n")
	b.WriteString("\tContent-Type: application/octet-stream\r\n")
	_ = binary.Write(&b, binary.LittleEndian, uint32(16)) // the signature length
	b.Write(sig)
	b.Write(sealed)
	b.WriteString(sealBoundary + "--\r\n")

	h := baseHeader(req)
	h.Set("Content-Type", sealContentType)
	resp, body, err := sc.send(req, h, b.Bytes())
	if err != nil {
		return nil, false, err
	}
	keep := !resp.Close
	out := &http.Response{
		Status: resp.Status, StatusCode: resp.StatusCode, Proto: resp.Proto, ProtoMajor: 1, ProtoMinor: 1,
		Header: resp.Header.Clone(), Request: req,
	}
	ct := resp.Header.Get("Content-Type")
	switch {
	case strings.HasPrefix(strings.ToLower(ct), "multipart/encrypted"):
		plainResp, err := unsealBody(sc.sess, body)
		if err != nil {
			return nil, false, fmt.Errorf("%w: the host's answer: %w", ErrNotSealed, err)
		}
		body = plainResp
		out.Header.Set("Content-Type", soapContentTypeV)
	case resp.StatusCode == http.StatusUnauthorized:
		return nil, false, fmt.Errorf("%w: HTTP 401 from the host", transport.ErrUnauthorized)
	case len(body) > 0 && resp.StatusCode < 300:
		// A clear answer to a sealed request: do not trust it.
		return nil, false, fmt.Errorf("%w: the host answered a sealed message in clear text (HTTP %d)", ErrNotSealed, resp.StatusCode)
	case resp.StatusCode == http.StatusBadRequest:
		return nil, false, fmt.Errorf("%w: the host could not unseal the message (HTTP 400); nothing was resent in clear text", ErrNotSealed)
	}
	out.Body = io.NopCloser(bytes.NewReader(body))
	out.ContentLength = int64(len(body))
	out.Header.Set("Content-Length", strconv.Itoa(len(body)))
	return out, keep, nil
}

// unsealBody parses [MS-WSMV] 2.2.9.1.1's two parts and unseals the message.
func unsealBody(sess *ntlmssp.SecuritySession, body []byte) ([]byte, error) {
	sep := []byte(sealBoundary + "\r\n")
	parts := bytes.SplitN(body, sep, 3)
	if len(parts) != 3 || len(parts[0]) != 0 {
		return nil, errors.New("not two Encrypted Boundary parts")
	}
	length := -1
	for _, line := range strings.Split(string(parts[1]), "\r\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "OriginalContent:"); ok {
			for _, kv := range strings.Split(v, ";") {
				if n, ok := strings.CutPrefix(strings.TrimSpace(kv), "Length="); ok {
					length, _ = strconv.Atoi(n)
				}
			}
		}
	}
	const octet = "application/octet-stream\r\n"
	i := bytes.Index(parts[2], []byte(octet))
	if i < 0 {
		return nil, errors.New("no application/octet-stream part")
	}
	data := parts[2][i+len(octet):]
	end := bytes.LastIndex(data, []byte(sealBoundary+"--"))
	if end < 0 {
		return nil, errors.New("no closing boundary")
	}
	data = data[:end]
	if len(data) < 4 {
		return nil, errors.New("empty sealed part")
	}
	n := int(binary.LittleEndian.Uint32(data[:4]))
	if n != 16 || len(data) < 4+n {
		return nil, errors.New("no 16-byte signature")
	}
	plain, err := sess.Unwrap(data[4+n:], data[4:4+n])
	if err != nil {
		return nil, err
	}
	if length >= 0 && length != len(plain) {
		return nil, fmt.Errorf("OriginalContent Length=%d, message %d bytes", length, len(plain))
	}
	return plain, nil
}
