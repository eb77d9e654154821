package tdssim

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"time"
)

// TDS packet types (MS-TDS 2.2.3.1.1).
const (
	pktSQLBatch  = 0x01
	pktRPC       = 0x03
	pktReply     = 0x04
	pktAttention = 0x06
	pktTransMgr  = 0x0E
	pktLogin7    = 0x10
	pktSSPI      = 0x11
	pktPrelogin  = 0x12

	statusEOM = 0x01

	// packetSize is what the server writes and announces: go-mssqldb's default.
	packetSize = 4096
	headerSize = 8
	// maxMessage bounds one request, so a broken client cannot exhaust memory.
	maxMessage = 8 << 20
)

// packetConn reads and writes TDS packets over a transport that can change
// (plain TCP, then TLS).
type packetConn struct {
	rw    io.ReadWriter
	spid  uint16
	wseq  byte
	wbuf  []byte
	limit int
}

func newPacketConn(rw io.ReadWriter, spid uint16) *packetConn {
	return &packetConn{rw: rw, spid: spid, wbuf: make([]byte, packetSize), limit: maxMessage}
}

// readPacket reads one packet.
func (p *packetConn) readPacket() (typ, status byte, payload []byte, err error) {
	var h [headerSize]byte
	if _, err = io.ReadFull(p.rw, h[:]); err != nil {
		return 0, 0, nil, err
	}
	size := int(binary.BigEndian.Uint16(h[2:4]))
	if size < headerSize || size > 32768 {
		return 0, 0, nil, fmt.Errorf("tds: packet length %d out of range", size)
	}
	payload = make([]byte, size-headerSize)
	if _, err = io.ReadFull(p.rw, payload); err != nil {
		return 0, 0, nil, err
	}
	return h[0], h[1], payload, nil
}

// readMessage reads packets up to the end-of-message one.
func (p *packetConn) readMessage() (typ byte, payload []byte, err error) {
	for {
		t, status, part, err := p.readPacket()
		if err != nil {
			return 0, nil, err
		}
		if payload != nil && t != typ {
			return 0, nil, fmt.Errorf("tds: packet type changed from %#x to %#x inside a message", typ, t)
		}
		typ = t
		payload = append(payload, part...)
		if len(payload) > p.limit {
			return 0, nil, errors.New("tds: message too long")
		}
		if status&statusEOM != 0 {
			return typ, payload, nil
		}
	}
}

// writeMessage writes payload as packets of at most packetSize bytes.
func (p *packetConn) writeMessage(typ byte, payload []byte) error {
	p.wseq = 1
	for {
		n := min(len(payload), packetSize-headerSize)
		status := byte(0)
		if n == len(payload) {
			status = statusEOM
		}
		b := p.wbuf[:headerSize+n]
		b[0], b[1] = typ, status
		binary.BigEndian.PutUint16(b[2:4], uint16(headerSize+n))
		binary.BigEndian.PutUint16(b[4:6], p.spid)
		b[6], b[7] = p.wseq, 0
		copy(b[headerSize:], payload[:n])
		if _, err := p.rw.Write(b); err != nil {
			return err
		}
		p.wseq++
		payload = payload[n:]
		if status == statusEOM {
			return nil
		}
	}
}

// handshakeConn carries the TLS handshake inside PRELOGIN packets, as
// MS-TDS 3.2.5.2 has it before TDS 8.0: each flight the server writes goes
// out as one PRELOGIN message when the server next reads; once the
// handshake is done, TLS records flow on the raw connection.
type handshakeConn struct {
	net.Conn // the raw connection
	pc       *packetConn
	rbuf     []byte
	wbuf     []byte
	done     bool
}

func (h *handshakeConn) flush() error {
	if len(h.wbuf) == 0 {
		return nil
	}
	b := h.wbuf
	h.wbuf = nil
	return h.pc.writeMessage(pktPrelogin, b)
}

func (h *handshakeConn) Read(b []byte) (int, error) {
	if h.done {
		return h.Conn.Read(b)
	}
	if err := h.flush(); err != nil {
		return 0, err
	}
	for len(h.rbuf) == 0 {
		typ, _, payload, err := h.pc.readPacket()
		if err != nil {
			return 0, err
		}
		if typ != pktPrelogin {
			return 0, fmt.Errorf("tds: packet type %#x during the TLS handshake, want PRELOGIN", typ)
		}
		h.rbuf = payload
	}
	n := copy(b, h.rbuf)
	h.rbuf = h.rbuf[n:]
	return n, nil
}

func (h *handshakeConn) Write(b []byte) (int, error) {
	if h.done {
		return h.Conn.Write(b)
	}
	h.wbuf = append(h.wbuf, b...)
	return len(b), nil
}

func (h *handshakeConn) SetDeadline(t time.Time) error { return h.Conn.SetDeadline(t) }
