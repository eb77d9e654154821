package ldapsim

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"sync"
	"time"

	ber "github.com/go-asn1-ber/asn1-ber"
	"github.com/jimlambrt/gldap"

	"github.com/bastion-pam/terraform-provider-bastion/internal/lab/model"
)

const oidStartTLS = "1.3.6.1.4.1.1466.20037"

// responseTag maps a request's application tag to its response's.
var responseTag = map[ber.Tag]int{
	gldap.ApplicationBindRequest:     gldap.ApplicationBindResponse,
	gldap.ApplicationSearchRequest:   gldap.ApplicationSearchResultDone,
	gldap.ApplicationModifyRequest:   gldap.ApplicationModifyResponse,
	gldap.ApplicationAddRequest:      gldap.ApplicationAddResponse,
	gldap.ApplicationDelRequest:      gldap.ApplicationDelResponse,
	gldap.ApplicationModifyDNRequest: gldap.ApplicationModifyDNResponse,
	gldap.ApplicationCompareRequest:  gldap.ApplicationCompareResponse,
	gldap.ApplicationExtendedRequest: gldap.ApplicationExtendedResponse,
}

// conn is one client connection to a DC: it reads each LDAP message,
// counts it, applies the model's latency and faults, handles StartTLS and
// forwards the rest to the DC's gldap backend, whose answers it copies back.
type conn struct {
	s    *Server
	host string
	raw  net.Conn // the TCP connection, for an abrupt reset

	wmu    sync.Mutex // serialises writes to the client
	client net.Conn   // raw, or TLS over raw
	rd     *bufio.Reader
	isTLS  bool

	backend net.Conn
	once    sync.Once
}

func (c *conn) close(reset bool) {
	c.once.Do(func() {
		// Closing the TCP connection also ends a TLS session over it;
		// c.client is not touched here because StartTLS may be replacing it.
		if reset {
			model.ResetConn(c.raw)
		} else {
			_ = c.raw.Close()
		}
		if c.backend != nil {
			_ = c.backend.Close()
		}
	})
}

// readMessage reads one BER-encoded LDAP message and returns it with its raw bytes.
func readMessage(r io.Reader) (*ber.Packet, []byte, error) {
	var buf bytes.Buffer
	p, err := ber.ReadPacket(io.TeeReader(r, &buf))
	if err != nil {
		return nil, nil, err
	}
	return p, buf.Bytes(), nil
}

// readFrame reads one BER element without decoding it: the backend's
// answers are copied whole, so they never interleave with the relay's own.
func readFrame(r *bufio.Reader) ([]byte, error) {
	hdr := make([]byte, 2, 16)
	if _, err := io.ReadFull(r, hdr); err != nil {
		return nil, err
	}
	n := int(hdr[1])
	if hdr[1]&0x80 != 0 {
		k := int(hdr[1] & 0x7f)
		if k == 0 || k > 4 {
			return nil, errors.New("ldapsim: unsupported BER length")
		}
		lb := make([]byte, k)
		if _, err := io.ReadFull(r, lb); err != nil {
			return nil, err
		}
		hdr = append(hdr, lb...)
		n = 0
		for _, b := range lb {
			n = n<<8 | int(b)
		}
	}
	buf := make([]byte, len(hdr)+n)
	copy(buf, hdr)
	if _, err := io.ReadFull(r, buf[len(hdr):]); err != nil {
		return nil, err
	}
	return buf, nil
}

// serve runs the client side until the connection ends.
func (c *conn) serve() {
	defer c.close(false)
	brd := bufio.NewReader(c.backend)
	go func() {
		defer c.close(false)
		for {
			raw, err := readFrame(brd)
			if err != nil {
				return
			}
			c.wmu.Lock()
			_, err = c.client.Write(raw)
			c.wmu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	for {
		p, raw, err := readMessage(c.rd)
		if err != nil {
			return
		}
		if len(p.Children) < 2 {
			return
		}
		id, _ := p.Children[0].Value.(int64)
		op := p.Children[1]
		switch op.Tag {
		case gldap.ApplicationUnbindRequest:
			_, _ = c.backend.Write(raw)
			return
		case gldap.ApplicationAbandonRequest:
			continue // the lab answers everything at once; nothing to abandon
		}
		c.s.env.CountCall(model.LDAP, c.host)
		if d := c.s.env.Latency(c.host, model.LDAP); d > 0 {
			t := time.NewTimer(d)
			select {
			case <-t.C:
			case <-c.s.closing:
				t.Stop()
				return
			}
		}
		if !c.s.isDC(c.host) {
			c.close(true) // demoted while connected: the LDAP service is gone
			return
		}
		if kind, ok := c.s.env.TakeFault(c.host, model.LDAP); ok {
			switch kind {
			case model.FaultDropLDAP, model.FaultRefuse:
				c.close(true)
				return
			case model.FaultLDAPBusy:
				c.reply(id, op.Tag, gldap.ResultBusy, diagBusy)
				continue
			case model.FaultUnauthorized:
				c.reply(id, op.Tag, gldap.ResultInvalidCredentials, diagInvalidCreds)
				continue
			case model.FaultTimeout:
				continue // accepted and never answered
			}
		}
		if op.Tag == gldap.ApplicationExtendedRequest && len(op.Children) > 0 && op.Children[0].Data.String() == oidStartTLS {
			if err := c.startTLS(id); err != nil {
				c.s.log.Debug("ldapsim: StartTLS failed", "host", c.host, "error", err.Error())
				return
			}
			continue
		}
		if op.Tag == gldap.ApplicationBindRequest && len(op.Children) > 2 && op.Children[2].ClassType == ber.ClassContext && op.Children[2].Tag == 3 {
			c.reply(id, op.Tag, gldap.ResultAuthMethodNotSupported, "the lab supports simple bind only; SASL (GSSAPI) is tested against Samba")
			continue
		}
		if op.Tag == gldap.ApplicationModifyRequest && !c.isTLS && writesPassword(op) {
			// The lab binds simply, never sealed: without TLS nothing protects the value.
			c.reply(id, op.Tag, gldap.ResultUnwillingToPerform, diagPasswordNeedsEncryption)
			continue
		}
		switch op.Tag {
		case gldap.ApplicationBindRequest:
			c.s.env.CountLogin(model.LDAP, c.host)
		case gldap.ApplicationSearchRequest:
			c.s.env.CountSearch(c.host)
		}
		if _, err := c.backend.Write(raw); err != nil {
			return
		}
	}
}

// writesPassword reports whether a ModifyRequest (RFC 4511 4.6: object,
// changes, each an operation and a PartialAttribute) touches a password.
func writesPassword(op *ber.Packet) bool {
	if len(op.Children) < 2 {
		return false
	}
	for _, ch := range op.Children[1].Children {
		if len(ch.Children) < 2 || len(ch.Children[1].Children) < 1 {
			continue
		}
		if isPasswordAttribute(ch.Children[1].Children[0].Data.String()) {
			return true
		}
	}
	return false
}

// reply writes an LDAPResult for request id of type reqTag.
func (c *conn) reply(id int64, reqTag ber.Tag, code int, diag string) {
	app, ok := responseTag[reqTag]
	if !ok {
		app = gldap.ApplicationExtendedResponse
	}
	env := ber.Encode(ber.ClassUniversal, ber.TypeConstructed, ber.TagSequence, nil, "LDAP Response")
	env.AppendChild(ber.NewInteger(ber.ClassUniversal, ber.TypePrimitive, ber.TagInteger, id, "MessageID"))
	res := ber.Encode(ber.ClassApplication, ber.TypeConstructed, ber.Tag(app), nil, "Response")
	res.AppendChild(ber.NewInteger(ber.ClassUniversal, ber.TypePrimitive, ber.TagEnumerated, int64(code), "resultCode"))
	res.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, "", "matchedDN"))
	res.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, diag, "diagnosticMessage"))
	if app == gldap.ApplicationExtendedResponse && reqTag == gldap.ApplicationExtendedRequest && code == gldap.ResultSuccess {
		res.AppendChild(ber.NewString(ber.ClassContext, ber.TypePrimitive, 10, oidStartTLS, "responseName"))
	}
	env.AppendChild(res)
	c.wmu.Lock()
	_, _ = c.client.Write(env.Bytes())
	c.wmu.Unlock()
}

// startTLS answers the StartTLS extended operation and upgrades the
// connection (RFC 4511 4.14). The client sends nothing else meanwhile.
func (c *conn) startTLS(id int64) error {
	if c.isTLS {
		c.reply(id, gldap.ApplicationExtendedRequest, gldap.ResultOperationsError, "TLS is already active on this connection")
		return nil
	}
	cfg, err := c.s.tlsConfig(c.host)
	if err != nil {
		c.reply(id, gldap.ApplicationExtendedRequest, gldap.ResultUnavailable, err.Error())
		return nil
	}
	c.reply(id, gldap.ApplicationExtendedRequest, gldap.ResultSuccess, "")
	if c.rd.Buffered() > 0 {
		return errors.New("client sent data before the TLS handshake")
	}
	c.wmu.Lock()
	defer c.wmu.Unlock()
	tc := tls.Server(c.raw, cfg)
	_ = tc.SetDeadline(time.Now().Add(10 * time.Second))
	if err := tc.Handshake(); err != nil {
		return err
	}
	_ = tc.SetDeadline(time.Time{})
	c.client, c.rd, c.isTLS = tc, bufio.NewReader(tc), true
	return nil
}

func newReader(c net.Conn) *bufio.Reader { return bufio.NewReader(c) }
