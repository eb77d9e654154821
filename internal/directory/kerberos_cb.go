package directory

import (
	"crypto/md5" //nolint:gosec // RFC 4121 4.1.1.2 hashes the channel bindings with MD5
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"encoding/asn1"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/jcmturner/gokrb5/v8/asn1tools"
	"github.com/jcmturner/gokrb5/v8/client"
	krbcrypto "github.com/jcmturner/gokrb5/v8/crypto"
	"github.com/jcmturner/gokrb5/v8/gssapi"
	"github.com/jcmturner/gokrb5/v8/iana/chksumtype"
	"github.com/jcmturner/gokrb5/v8/iana/keyusage"
	"github.com/jcmturner/gokrb5/v8/messages"
	"github.com/jcmturner/gokrb5/v8/spnego"
	"github.com/jcmturner/gokrb5/v8/types"
)

// gssapiClient is one GSSAPI (RFC 4752) security context for one LDAP bind.
// It differs from go-ldap's gssapi.Client in one way that matters: the
// Kerberos authenticator carries TLS channel bindings (RFC 5929
// tls-server-end-point of the DC's certificate, hashed into the GSS checksum's
// Bnd field, RFC 4121 4.1.1.2). Without them a DC that enforces LDAP channel
// binding refuses the bind with 80090346 (SEC_E_BAD_BINDINGS): Windows with
// LdapEnforceChannelBinding=2, and Samba by default since 4.21 ("ldap server
// require strong auth = yes").
type gssapiClient struct {
	cl *client.Client
	// bindings is the channel bindings' application data
	// ("tls-server-end-point:" + hash), nil on a connection without TLS.
	bindings []byte
	// overTLS: the connection is LDAPS or StartTLS, so no security layer.
	overTLS bool
	// protection is ProtectionSeal or ProtectionSign, for a connection without TLS.
	protection string

	sessionKey types.EncryptionKey
	subkey     types.EncryptionKey
	seq        uint64 // the authenticator's sequence number: our first SND_SEQ
	// layer is the negotiated security layer, nil for none. It keeps its own
	// copy of the key: go-ldap calls DeleteSecContext when the bind ends.
	layer *saslLayer
}

// tlsServerEndPoint is the RFC 5929 section 4 channel binding of a TLS
// server certificate: its hash with the certificate's own signature hash
// algorithm, SHA-256 when that is MD5 or SHA-1 (or has no hash).
func tlsServerEndPoint(cert *x509.Certificate) []byte {
	var sum []byte
	switch cert.SignatureAlgorithm {
	case x509.SHA384WithRSA, x509.ECDSAWithSHA384, x509.SHA384WithRSAPSS:
		s := sha512.Sum384(cert.Raw)
		sum = s[:]
	case x509.SHA512WithRSA, x509.ECDSAWithSHA512, x509.SHA512WithRSAPSS:
		s := sha512.Sum512(cert.Raw)
		sum = s[:]
	default:
		s := sha256.Sum256(cert.Raw)
		sum = s[:]
	}
	return append([]byte("tls-server-end-point:"), sum...)
}

// channelBindingHash is the Bnd field: MD5 of the gss_channel_bindings_struct
// (RFC 2744 3.11) with no initiator or acceptor address, each field a 32-bit
// little-endian length or type followed by its bytes (RFC 4121 4.1.1.2).
// No bindings give 16 zero bytes.
func channelBindingHash(appData []byte) []byte {
	if appData == nil {
		return make([]byte, 16)
	}
	b := make([]byte, 20, 20+len(appData))
	// initiator addrtype, address length, acceptor addrtype, address length: all 0
	binary.LittleEndian.PutUint32(b[16:20], uint32(len(appData))) //nolint:gosec // G115: application data is a TLS channel binding, a few dozen bytes
	b = append(b, appData...)
	sum := md5.Sum(b) //nolint:gosec // mandated by RFC 4121
	return sum[:]
}

// authenticatorChecksum is the GSS checksum (RFC 4121 4.1.1): Lgth 16, Bnd,
// Flags.
func authenticatorChecksum(bnd []byte, flags uint32) []byte {
	a := make([]byte, 24)
	binary.LittleEndian.PutUint32(a[0:4], 16)
	copy(a[4:20], bnd)
	binary.LittleEndian.PutUint32(a[20:24], flags)
	return a
}

// tamperChannelBindings lets tests send wrong bindings (nil in production).
var tamperChannelBindings func([]byte) []byte

// InitSecContext starts the context (RFC 4752 3.1).
func (g *gssapiClient) InitSecContext(target string, token []byte) ([]byte, bool, error) {
	return g.InitSecContextWithOptions(target, token, nil)
}

// InitSecContextWithOptions sends the AP-REQ first, then checks the
// acceptor's AP-REP (mutual authentication) and keeps its subkey.
func (g *gssapiClient) InitSecContextWithOptions(target string, input []byte, apOptions []int) ([]byte, bool, error) {
	if input == nil {
		tkt, key, err := g.cl.GetServiceTicket(target)
		if err != nil {
			return nil, false, err
		}
		g.sessionKey = key
		auth, err := types.NewAuthenticator(g.cl.Credentials.Domain(), g.cl.Credentials.CName())
		if err != nil {
			return nil, false, fmt.Errorf("kerberos authenticator: %w", err)
		}
		g.seq = uint64(auth.SeqNumber) //nolint:gosec // NewAuthenticator masks it to 30 bits
		bindings := g.bindings
		if tamperChannelBindings != nil {
			bindings = tamperChannelBindings(bindings)
		}
		flags := uint32(gssapi.ContextFlagInteg | gssapi.ContextFlagConf | gssapi.ContextFlagMutual)
		auth.Cksum = types.Checksum{CksumType: chksumtype.GSSAPI, Checksum: authenticatorChecksum(channelBindingHash(bindings), flags)}
		apReq, err := messages.NewAPReq(tkt, key, auth)
		if err != nil {
			return nil, false, fmt.Errorf("kerberos AP-REQ: %w", err)
		}
		for _, o := range apOptions {
			types.SetFlag(&apReq.APOptions, o)
		}
		b, err := apReq.Marshal()
		if err != nil {
			return nil, false, fmt.Errorf("kerberos AP-REQ: %w", err)
		}
		// InitialContextToken (RFC 2743 3.1): [APPLICATION 0] { mech OID, TOK_ID 01 00, AP-REQ }.
		oid, err := asn1.Marshal(asn1.ObjectIdentifier(gssapi.OIDKRB5.OID()))
		if err != nil {
			return nil, false, err
		}
		tok := append(append(oid, 0x01, 0x00), b...)
		return asn1tools.AddASNAppTag(tok, 0), true, nil
	}
	var token spnego.KRB5Token
	if err := token.Unmarshal(input); err != nil {
		return nil, false, fmt.Errorf("GSSAPI reply: %w", err)
	}
	if token.IsKRBError() {
		return nil, false, token.KRBError
	}
	if !token.IsAPRep() {
		return nil, false, errors.New("GSSAPI reply is neither an AP-REP nor a KRB-ERROR")
	}
	plain, err := krbcrypto.DecryptEncPart(token.APRep.EncPart, g.sessionKey, keyusage.AP_REP_ENCPART)
	if err != nil {
		return nil, false, fmt.Errorf("GSSAPI AP-REP: %w", err)
	}
	var part messages.EncAPRepPart
	if err := part.Unmarshal(plain); err != nil {
		return nil, false, fmt.Errorf("GSSAPI AP-REP: %w", err)
	}
	g.subkey = part.Subkey
	return []byte{}, false, nil
}

// NegotiateSaslAuth answers the acceptor's offer of security layers (RFC 4752
// section 3.1): over TLS "none" (Windows refuses SASL signing or sealing
// inside TLS); without TLS confidentiality or integrity as protection asks,
// which then wraps every later LDAP message (saslConn).
func (g *gssapiClient) NegotiateSaslAuth(input []byte, authzid string) ([]byte, error) {
	key, subkey := g.sessionKey, false
	if len(g.subkey.KeyValue) > 0 {
		key, subkey = g.subkey, true
	}
	probe := &saslLayer{key: key, subkey: subkey}
	et, err := krbcrypto.GetEtype(key.KeyType)
	if err != nil {
		return nil, err
	}
	probe.et = et
	offer, err := probe.unwrapOffer(input)
	if err != nil {
		return nil, fmt.Errorf("GSSAPI security layer offer: %w", err)
	}
	if len(offer) != 4 {
		return nil, fmt.Errorf("GSSAPI security layer offer of %d bytes, want 4", len(offer))
	}
	choice, err := chooseLayer(offer[0], g.overTLS, g.protection)
	if err != nil {
		return nil, err
	}
	reply := []byte{choice, 0, 0, 0}
	if choice != saslLayerNone {
		maxSend := int(offer[1])<<16 | int(offer[2])<<8 | int(offer[3])
		if g.layer, err = newSASLLayer(key, subkey, choice == saslLayerConfident, g.seq, maxSend); err != nil {
			return nil, err
		}
		var size [4]byte
		binary.BigEndian.PutUint32(size[:], saslMaxReceive)
		copy(reply[1:], size[1:])
	}
	// The reply is itself a Wrap token with integrity only (RFC 4752 section 3.1).
	out := &saslLayer{key: key, et: et, subkey: subkey, sendSeq: g.seq}
	tok, err := out.wrap(append(reply, authzid...))
	if err != nil {
		return nil, err
	}
	if g.layer != nil {
		g.layer.sendSeq = out.sendSeq
	}
	return tok, nil
}

// DeleteSecContext forgets the context's keys.
func (g *gssapiClient) DeleteSecContext() error {
	g.sessionKey, g.subkey = types.EncryptionKey{}, types.EncryptionKey{}
	return nil
}
