package directory

import (
	"fmt"
	"strings"

	"github.com/go-ldap/ldap/v3"
	"github.com/jcmturner/gokrb5/v8/client"
	"github.com/jcmturner/gokrb5/v8/config"
	"github.com/jcmturner/gokrb5/v8/credentials"
	"github.com/jcmturner/gokrb5/v8/keytab"

	"github.com/bastion-pam/terraform-provider-bastion/internal/transport"
)

// DefaultSPN is the LDAP service principal of a DC; %s is its FQDN.
const DefaultSPN = "ldap/%s"

// kerberos binds with GSSAPI (RFC 4752) through go-ldap's SASL exchange and
// gokrb5, with TLS channel bindings (gssapiClient). One gokrb5 client holds
// the TGT for every connection; each bind gets its own security context. Over
// LDAPS or StartTLS no SASL security layer is negotiated; without TLS the
// bind negotiates sealing or signing (protection) and the connection wraps
// every later message (saslConn), as DCs that require LDAP signing demand.
type kerberos struct {
	cl         *client.Client
	spn        string
	principal  string
	realm      string
	protection string
}

// newKerberos loads krb5.conf and the credentials. It contacts no KDC: the
// first bind does.
func newKerberos(cfg Config) (*kerberos, error) {
	kc := cfg.Kerberos
	if kc.KrbConfPath == "" {
		return nil, fmt.Errorf("%w: kerberos bind needs a krb5.conf (kerberos.krb_conf_path)", ErrInvalidConfig)
	}
	conf, err := config.Load(kc.KrbConfPath)
	if err != nil {
		return nil, fmt.Errorf("%w: krb5.conf %s: %w", ErrInvalidConfig, kc.KrbConfPath, err)
	}
	user, realm := splitPrincipal(cfg.Username)
	if kc.Realm != "" {
		realm = kc.Realm
	}
	if realm == "" {
		realm = strings.ToUpper(cfg.Domain)
	}
	if realm == "" {
		realm = conf.LibDefaults.DefaultRealm
	}
	settings := []func(*client.Settings){
		// AD does not offer FAST; asking for it breaks the AS exchange.
		client.DisablePAFXFAST(true),
	}
	switch kc.Protection {
	case "":
		kc.Protection = ProtectionSeal
	case ProtectionSeal, ProtectionSign:
	default:
		return nil, fmt.Errorf("%w: kerberos protection %q (want seal or sign)", ErrInvalidConfig, kc.Protection)
	}
	k := &kerberos{spn: kc.SPN, principal: user, realm: strings.ToUpper(realm), protection: kc.Protection}
	if k.spn == "" {
		k.spn = DefaultSPN
	}
	switch {
	case kc.CCachePath != "":
		cc, err := credentials.LoadCCache(kc.CCachePath)
		if err != nil {
			return nil, fmt.Errorf("%w: credential cache %s: %w", ErrInvalidConfig, kc.CCachePath, err)
		}
		cl, err := client.NewFromCCache(cc, conf, settings...)
		if err != nil {
			return nil, fmt.Errorf("%w: credential cache %s: %w", ErrInvalidConfig, kc.CCachePath, err)
		}
		k.cl = cl
		k.principal = cc.GetClientPrincipalName().PrincipalNameString()
		k.realm = cc.GetClientRealm()
	case kc.KeytabPath != "":
		if user == "" {
			return nil, fmt.Errorf("%w: kerberos bind with a keytab needs the principal as username", ErrInvalidConfig)
		}
		kt, err := keytab.Load(kc.KeytabPath)
		if err != nil {
			return nil, fmt.Errorf("%w: keytab %s: %w", ErrInvalidConfig, kc.KeytabPath, err)
		}
		k.cl = client.NewWithKeytab(user, k.realm, kt, conf, settings...)
	case cfg.Password != "":
		if user == "" {
			return nil, fmt.Errorf("%w: kerberos bind with a password needs a username", ErrInvalidConfig)
		}
		k.cl = client.NewWithPassword(user, k.realm, cfg.Password, conf, settings...)
	default:
		return nil, fmt.Errorf("%w: kerberos bind needs a credential cache, a keytab or a password", ErrInvalidConfig)
	}
	if k.realm == "" {
		return nil, fmt.Errorf("%w: no Kerberos realm (set kerberos.realm or domain)", ErrInvalidConfig)
	}
	return k, nil
}

// splitPrincipal accepts user, user@REALM and DOMAIN\user.
func splitPrincipal(name string) (user, realm string) {
	name = strings.TrimSpace(name)
	if _, u, ok := strings.Cut(name, `\`); ok {
		return u, ""
	}
	if u, r, ok := strings.Cut(name, "@"); ok {
		return u, r
	}
	return name, ""
}

// spnFor is the service principal of dc.
func (k *kerberos) spnFor(dc string) string {
	host := strings.ToLower(strings.TrimSuffix(dc, "."))
	if strings.Contains(k.spn, "%s") {
		return strings.ReplaceAll(k.spn, "%s", host)
	}
	return k.spn
}

// bind binds conn with GSSAPI; channelBindings are the TLS channel bindings
// of the connection (nil without TLS), see gssapiClient. It returns the
// security layer the bind negotiated, nil over TLS.
func (k *kerberos) bind(conn *ldap.Conn, dc string, channelBindings []byte, overTLS bool) (*saslLayer, error) {
	gc := &gssapiClient{cl: k.cl, bindings: channelBindings, overTLS: overTLS, protection: k.protection}
	err := conn.GSSAPIBindRequest(gc, &ldap.GSSAPIBindRequest{ServicePrincipalName: k.spnFor(dc)})
	if err == nil {
		return gc.layer, nil
	}
	if overTLS && strings.Contains(err.Error(), "Sign or Seal are required") {
		// Samba before 4.21 with "ldap server require strong auth = yes" refuses
		// GSSAPI inside TLS without a SASL layer, which Windows refuses to have.
		err = fmt.Errorf("%w (Samba before 4.21 accepts Kerberos over TLS only with \"ldap server require strong auth = allow_sasl_over_tls\"; or use tls_mode none, where the bind signs or seals)", err)
	}
	return nil, classifyKerberos(dc, k.principal+"@"+k.realm, err)
}

// classifyKerberos maps gokrb5's errors (plain strings carrying the KDC's
// error name) onto the sentinels.
func classifyKerberos(dc, principal string, err error) error {
	msg := err.Error()
	for _, s := range []string{"KDC_ERR_PREAUTH_FAILED", "KDC_ERR_C_PRINCIPAL_UNKNOWN", "KDC_ERR_CLIENT_REVOKED", "KDC_ERR_KEY_EXPIRED", "KDC_ERR_POLICY", "KRB_AP_ERR_BAD_INTEGRITY", "Decrypting_Error"} {
		if strings.Contains(msg, s) {
			return fmt.Errorf("%w: kerberos bind to %s as %s: %w", transport.ErrUnauthorized, dc, principal, err)
		}
	}
	if code, ok := ldapCode(err); ok && (code == ldap.LDAPResultInvalidCredentials || code == ldap.LDAPResultInappropriateAuthentication) {
		return fmt.Errorf("%w: kerberos bind to %s as %s: %w", transport.ErrUnauthorized, dc, principal, err)
	}
	for _, s := range []string{"Networking_Error", "communication error with KDC", "failed to communicate with KDC", "error sending to KDC", "no KDC"} {
		if strings.Contains(msg, s) {
			return fmt.Errorf("%w: kerberos bind to %s: KDC not reachable: %w", transport.ErrUnreachable, dc, err)
		}
	}
	return fmt.Errorf("kerberos bind to %s as %s: %w", dc, principal, err)
}

func (k *kerberos) close() { k.cl.Destroy() }
