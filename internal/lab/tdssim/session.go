package tdssim

import (
	"bufio"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"time"

	"github.com/bastion-pam/terraform-provider-bastion/internal/lab/model"
	"github.com/bastion-pam/terraform-provider-bastion/internal/lab/tdssim/tsql"
	"github.com/bastion-pam/terraform-provider-bastion/internal/lab/utf16le"
)

// PRELOGIN options and ENCRYPTION values (MS-TDS 2.2.6.5).
const (
	preVersion    = 0x00
	preEncryption = 0x01
	preInstOpt    = 0x02
	preThreadID   = 0x03
	preMARS       = 0x04
	preTerminator = 0xFF

	encryptOff    = 0x00
	encryptOn     = 0x01
	encryptNotSup = 0x02
	encryptReq    = 0x03
	encryptStrict = 0x04
)

// peekConn lets the server look at the first byte (a TLS record means TDS 8.0).
type peekConn struct {
	net.Conn
	r *bufio.Reader
}

func (p *peekConn) Read(b []byte) (int, error) { return p.r.Read(b) }

type session struct {
	srv   *Server
	l     *listener
	raw   net.Conn
	spid  uint16
	pc    *packetConn
	login string
	epoch int
	tsql  *tsql.Session // the connection's T-SQL state (database, SET options)
	name  string        // @@SERVERNAME, for ERROR tokens
}

// errDropped ends a session without a reply, as a restarting server does.
var errDropped = errors.New("tds: connection dropped")

func (ss *session) serve() error {
	network := ss.l.network
	fault, faulted := ss.srv.env.TakeSQLFault(network)
	if faulted {
		switch fault {
		case model.FaultRefuse:
			// Reset at once: the client sees its connection refused or reset.
			model.ResetConn(ss.raw)
			return errDropped
		case model.FaultTimeout:
			_, _ = io.Copy(io.Discard, ss.raw)
			return errDropped
		}
	}
	pconn := &peekConn{Conn: ss.raw, r: bufio.NewReader(ss.raw)}
	first, err := pconn.r.Peek(1)
	if err != nil {
		return err
	}
	var rw net.Conn = pconn
	strict := first[0] == 0x16 // a TLS handshake record before any TDS packet: TDS 8.0
	if strict {
		if ss.l.strict == nil {
			return errors.New("tds: strict encryption without a certificate")
		}
		tc := tls.Server(pconn, ss.l.strict)
		if err := tc.Handshake(); err != nil {
			return err
		}
		rw = tc
	}
	ss.pc = newPacketConn(rw, ss.spid)

	typ, payload, err := ss.pc.readMessage()
	if err != nil {
		return err
	}
	if typ != pktPrelogin {
		return fmt.Errorf("tds: first message type %#x, want PRELOGIN", typ)
	}
	opts, err := parsePrelogin(payload)
	if err != nil {
		return err
	}
	var version string
	var instanceOK bool
	_ = ss.srv.env.Do(func(e *model.Env) error {
		if s := e.SQLInstanceByName(network); s != nil {
			version = s.Version
			ss.name = e.ServerProperties(s).ServerName
			asked := strings.TrimRight(string(opts[preInstOpt]), "\x00")
			if asked == "" {
				asked = model.DefaultSQLInstance
			}
			instanceOK = strings.EqualFold(asked, s.InstanceName)
		}
		return nil
	})
	clientEnc := byte(encryptNotSup)
	if v := opts[preEncryption]; len(v) == 1 {
		clientEnc = v[0]
	}
	serverEnc, tlsMode := ss.negotiate(clientEnc, strict)
	instOpt := byte(0)
	if !instanceOK {
		instOpt = 1
	}
	if err := ss.pc.writeMessage(pktReply, preloginReply(version, serverEnc, instOpt)); err != nil {
		return err
	}
	if !instanceOK {
		return errors.New("tds: instance name does not match")
	}
	if tlsMode == tlsRefuse {
		return errors.New("tds: client does not support the encryption the server requires")
	}
	if tlsMode != tlsNone {
		hs := &handshakeConn{Conn: pconn, pc: ss.pc}
		tc := tls.Server(hs, ss.l.tls)
		if err := tc.Handshake(); err != nil {
			return err
		}
		if err := hs.flush(); err != nil {
			return err
		}
		hs.done = true
		ss.pc.rw = tc
	}

	typ, payload, err = ss.pc.readMessage()
	if err != nil {
		return err
	}
	if tlsMode == tlsLoginOnly {
		ss.pc.rw = pconn // only the LOGIN7 packet is encrypted
	}
	if typ != pktLogin7 {
		return fmt.Errorf("tds: message type %#x, want LOGIN7", typ)
	}
	if err := ss.doLogin(payload, faulted && fault == model.FaultLoginFailed); err != nil {
		return err
	}
	return ss.loop(faulted && fault == model.FaultDropLDAP)
}

type tlsMode int

const (
	tlsNone tlsMode = iota
	tlsLoginOnly
	tlsFull
	tlsRefuse
)

// negotiate applies MS-TDS 2.2.6.5's table for a server with a certificate
// (or none).
func (ss *session) negotiate(client byte, strict bool) (byte, tlsMode) {
	if strict {
		return encryptStrict, tlsNone
	}
	enc := ss.srv.opts.Encryption
	if enc == EncryptionNone {
		return encryptNotSup, tlsNone
	}
	switch client {
	case encryptNotSup:
		if enc == EncryptionForced {
			return encryptReq, tlsRefuse
		}
		return encryptNotSup, tlsNone
	case encryptOff:
		if enc == EncryptionForced {
			return encryptReq, tlsFull
		}
		return encryptOff, tlsLoginOnly
	}
	return encryptOn, tlsFull
}

func parsePrelogin(b []byte) (map[byte][]byte, error) {
	out := map[byte][]byte{}
	for i := 0; ; i += 5 {
		if i >= len(b) {
			return nil, errors.New("tds: PRELOGIN without terminator")
		}
		if b[i] == preTerminator {
			return out, nil
		}
		if i+5 > len(b) {
			return nil, errors.New("tds: PRELOGIN option truncated")
		}
		off, n := int(binary.BigEndian.Uint16(b[i+1:])), int(binary.BigEndian.Uint16(b[i+3:]))
		if off+n > len(b) {
			return nil, errors.New("tds: PRELOGIN option out of range")
		}
		out[b[i]] = b[off : off+n]
	}
}

func versionBytes(version string) [4]byte {
	var major, minor, build int
	_, _ = fmt.Sscanf(version, "%d.%d.%d", &major, &minor, &build)
	return [4]byte{byte(major), byte(minor), byte(build >> 8), byte(build)}
}

func preloginReply(version string, enc, instOpt byte) []byte {
	v := versionBytes(version)
	fields := []struct {
		token byte
		data  []byte
	}{
		{preVersion, []byte{v[0], v[1], v[2], v[3], 0, 0}},
		{preEncryption, []byte{enc}},
		{preInstOpt, []byte{instOpt}},
		{preThreadID, nil},
		{preMARS, []byte{0}},
	}
	offset := 5*len(fields) + 1
	var head, data []byte
	for _, f := range fields {
		head = append(head, f.token)
		head = binary.BigEndian.AppendUint16(head, uint16(offset+len(data)))
		head = binary.BigEndian.AppendUint16(head, uint16(len(f.data)))
		data = append(data, f.data...)
	}
	head = append(head, preTerminator)
	return append(head, data...)
}

// login7 is the part of a LOGIN7 record the lab uses (MS-TDS 2.2.6.4).
type login7 struct {
	user, password, app, database string
	integrated                    bool
}

func parseLogin7(b []byte) (login7, error) {
	const fixed = 94
	if len(b) < fixed {
		return login7{}, errors.New("tds: LOGIN7 too short")
	}
	str := func(at int, password bool) (string, error) {
		off, n := int(binary.LittleEndian.Uint16(b[at:])), 2*int(binary.LittleEndian.Uint16(b[at+2:]))
		if off+n > len(b) {
			return "", errors.New("tds: LOGIN7 field out of range")
		}
		raw := append([]byte(nil), b[off:off+n]...)
		if password {
			// Undo the obfuscation: XOR 0xA5, then swap the nibbles.
			for i, c := range raw {
				c ^= 0xA5
				raw[i] = c<<4 | c>>4
			}
		}
		return utf16le.Decode(raw), nil
	}
	var l login7
	var err error
	l.integrated = b[25]&0x80 != 0
	if l.user, err = str(40, false); err != nil {
		return l, err
	}
	if l.password, err = str(44, true); err != nil {
		return l, err
	}
	if l.app, err = str(48, false); err != nil {
		return l, err
	}
	if l.database, err = str(68, false); err != nil {
		return l, err
	}
	return l, nil
}

func (ss *session) reply(t *tokens) error { return ss.pc.writeMessage(pktReply, t.b) }

func (ss *session) doLogin(payload []byte, faultLoginFailed bool) error {
	lg, err := parseLogin7(payload)
	if err != nil {
		return err
	}
	network := ss.l.network
	var sqlErr *model.SQLError
	var version string
	switch {
	case lg.integrated:
		sqlErr = &model.SQLError{Number: 18452, State: 1, Class: 14, Message: "Login failed. The login is from an untrusted domain and cannot be used with Integrated authentication."}
	case faultLoginFailed:
		sqlErr = model.LoginFailed(lg.user)
	default:
		reachable := true
		_ = ss.srv.env.Do(func(e *model.Env) error {
			s := e.SQLInstanceByName(network)
			if s == nil || !e.SQLReachable(network) {
				reachable = false
				return nil
			}
			version = s.Version
			_, ss.epoch, sqlErr = e.AuthenticateSQL(s, lg.user, lg.password)
			return nil
		})
		if !reachable {
			return errDropped
		}
	}
	var t tokens
	if sqlErr != nil {
		t.sqlError(sqlErr, ss.name)
		t.done(tokDone, doneError, 0, 0)
		_ = ss.reply(&t)
		return fmt.Errorf("login failed for %q", lg.user)
	}
	ss.login = lg.user
	ss.tsql = &tsql.Session{Database: "master", SPID: int(ss.spid)}
	t.envChange(envDatabase, "master", "master")
	t.message(tokInfo, model.SQLError{Number: 5701, State: 2, Message: "Changed database context to 'master'."}, ss.name)
	t.envChange(envLanguage, "us_english", "")
	t.message(tokInfo, model.SQLError{Number: 5703, State: 1, Message: "Changed language setting to us_english."}, ss.name)
	t.loginAck(versionBytes(version))
	t.envChange(envPacketSize, fmt.Sprint(packetSize), fmt.Sprint(packetSize))
	t.done(tokDone, doneFinal, 0, 0)
	ss.srv.env.CountLogin(model.TDS, ss.l.network)
	ss.srv.mu.Lock()
	ss.srv.logins++
	ss.srv.mu.Unlock()
	return ss.reply(&t)
}

type message struct {
	typ     byte
	payload []byte
	err     error
}

// loop answers requests. A reader goroutine feeds it so that an attention
// (cancel) arriving while a slow request is delayed aborts that request.
func (ss *session) loop(dropAtFirstRequest bool) error {
	network := ss.l.network
	msgs := make(chan message)
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		for {
			typ, payload, err := ss.pc.readMessage()
			select {
			case msgs <- message{typ, payload, err}:
			case <-stop:
				return
			}
			if err != nil {
				return
			}
		}
	}()
	attentionAck := func() error {
		var t tokens
		t.done(tokDone, doneAttn, 0, 0)
		return ss.reply(&t)
	}
	for {
		m := <-msgs
		if m.err != nil {
			if errors.Is(m.err, io.EOF) {
				return nil
			}
			return m.err
		}
		if m.typ == pktAttention {
			if err := attentionAck(); err != nil {
				return err
			}
			continue
		}
		if epoch, up := ss.srv.env.SQLEpoch(network); !up || epoch != ss.epoch || dropAtFirstRequest {
			return errDropped // failed over or gone: the session died with the old owner
		}
		if d := ss.srv.env.SQLLatency(network); d > 0 {
			select {
			case <-time.After(d):
			case next := <-msgs:
				if next.err != nil || next.typ != pktAttention {
					return errors.New("tds: request while another is running")
				}
				if err := attentionAck(); err != nil {
					return err
				}
				continue
			case <-ss.srv.done:
				return errDropped
			}
		}
		ss.srv.env.CountCall(model.TDS, network)
		if err := ss.request(m.typ, m.payload); err != nil {
			return err
		}
	}
}

func (ss *session) request(typ byte, payload []byte) error {
	switch typ {
	case pktSQLBatch:
		text, err := parseBatch(payload)
		if err != nil {
			return err
		}
		return ss.run("batch", text, "", nil, false)
	case pktRPC:
		call, err := parseRPC(payload)
		if err != nil {
			return err
		}
		return ss.rpc(call)
	}
	var t tokens
	t.sqlError(&model.SQLError{Number: 8009, State: 1, Class: 16, Message: fmt.Sprintf("The incoming tabular data stream (TDS) message type %#x is not supported by the bastion lab.", typ)}, ss.name)
	t.done(tokDone, doneError, 0, 0)
	return ss.reply(&t)
}

func (ss *session) rpc(call rpcCall) error {
	if call.Proc != "sp_executesql" || len(call.Params) < 1 {
		req := Request{Network: ss.l.network, Login: ss.login, Kind: "rpc", Text: call.Proc, Error: 2812}
		ss.srv.record(req, true)
		var t tokens
		t.sqlError(&model.SQLError{Number: 2812, State: 62, Class: 16, Message: fmt.Sprintf("Could not find stored procedure '%s'.", call.Proc)}, ss.name)
		t.done(tokDoneProc, doneError, 0, 0)
		return ss.reply(&t)
	}
	text, _ := call.Params[0].Value.(string)
	decl := ""
	if len(call.Params) > 1 {
		decl, _ = call.Params[1].Value.(string)
	}
	var params []tsql.Param
	for _, prm := range call.Params[min(2, len(call.Params)):] {
		params = append(params, tsql.Param{Name: prm.Name, Value: prm.Value})
	}
	return ss.run("rpc", text, decl, params, true)
}

// compileErrors are the errors SQL Server raises before running a batch:
// text it cannot parse or names it cannot resolve. The lab records such a
// request as rejected.
var compileErrors = map[int32]bool{102: true, 105: true, 113: true, 137: true, 156: true, 174: true, 189: true, 195: true, 207: true, 208: true, 209: true, 243: true, 2812: true, 4104: true, 4145: true, 8120: true}

// run evaluates one SQL text (a batch, or sp_executesql's statement with its
// parameters) with the T-SQL engine over the model, and writes the reply.
func (ss *session) run(kind, text, decl string, params []tsql.Param, rpc bool) error {
	network := ss.l.network
	var outs []tsql.Output
	var sqlErr *tsql.Error
	_ = ss.srv.env.Do(func(e *model.Env) error {
		s := e.SQLInstanceByName(network)
		if s == nil {
			sqlErr = &tsql.Error{Number: 4060, State: 1, Class: 11, Message: "Cannot open database \"master\" requested by the login."}
			return nil
		}
		ss.tsql.Host = &modelHost{e: e, s: s, caller: s.Logins[strings.ToLower(ss.login)], login: ss.login, spid: int(ss.spid)}
		if rpc {
			outs, sqlErr = ss.tsql.ExecuteSQL(text, decl, params)
		} else {
			outs, sqlErr = ss.tsql.Run(text)
		}
		ss.tsql.Host = nil
		return nil
	})
	req := Request{Network: network, Login: ss.login, Kind: kind, Text: text, Params: map[string]any{}}
	for _, p := range params {
		req.Params[strings.ToLower(p.Name)] = p.Value
	}
	rejected := false
	if sqlErr != nil {
		req.Error = sqlErr.Number
		req.Message = sqlErr.Message
		rejected = compileErrors[sqlErr.Number]
	}
	ss.srv.record(req, rejected)
	var t tokens
	t.reply(outs, sqlErr, rpc, ss.tsql.NoCount, ss.name)
	return ss.reply(&t)
}
