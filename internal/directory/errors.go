package directory

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"

	"github.com/go-ldap/ldap/v3"

	"github.com/bastion-pam/terraform-provider-bastion/internal/transport"
)

// Sentinels of this package; transport.ErrNotFound, ErrUnreachable and
// ErrUnauthorized are used as well. Test with errors.Is.
var (
	// ErrReadOnlyDC: the write or role change targets a read-only DC.
	ErrReadOnlyDC = errors.New("read-only domain controller")
	// ErrBusy: the DC kept answering busy (51) or unavailable (52).
	ErrBusy = errors.New("directory busy")
	// ErrAccessDenied: the account may not do this (insufficientAccessRights, 50).
	ErrAccessDenied = errors.New("insufficient access rights")
	// ErrConflict: the object kept changing under a read-modify-write.
	ErrConflict = errors.New("concurrent change")
	// ErrRoleOwnerUnavailable: a transfer needs the current role holder
	// online and it did not answer; seizing is the way out when it never
	// comes back.
	ErrRoleOwnerUnavailable = errors.New("current FSMO role owner unavailable")
	// ErrCertificate: the DC's TLS certificate is not trusted (set the CA);
	// the transport package's one sentinel for all adapters.
	ErrCertificate = transport.ErrCertificate
	// ErrInvalidConfig: the Config cannot work.
	ErrInvalidConfig = errors.New("invalid directory configuration")
	// ErrUnknownRole: a role name outside Roles().
	ErrUnknownRole = errors.New("unknown FSMO role")
)

// ldapCode returns the LDAP result code in err, if any.
func ldapCode(err error) (uint16, bool) {
	var le *ldap.Error
	if errors.As(err, &le) {
		return le.ResultCode, true
	}
	return 0, false
}

// errConnectionLost marks an operation that failed because its connection
// died under it (go-ldap reports that as a plain error string).
var errConnectionLost = errors.New("connection lost")

// goLDAPConnErrors are go-ldap's untyped messages for a dead connection.
var goLDAPConnErrors = []string{"unable to read LDAP response packet", "unable to send request", "ldap: connection closed", "response channel closed"}

// networkError reports a failure of the connection itself (refused, reset,
// closed mid-request, timed out).
func networkError(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, transport.ErrUnreachable) || errors.Is(err, errConnectionLost) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, net.ErrClosed) {
		return true
	}
	if code, ok := ldapCode(err); ok {
		return code == ldap.ErrorNetwork || code == ldap.LDAPResultServerDown
	}
	msg := err.Error()
	for _, s := range goLDAPConnErrors {
		if strings.Contains(msg, s) {
			return true
		}
	}
	var ne net.Error
	return errors.As(err, &ne)
}

// transient decides what Retry tries again: busy, unavailable, server down
// and network failures. Credentials, certificates, a missing object and
// the caller's own deadline are final.
func transient(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	if errors.Is(err, transport.ErrUnauthorized) || transport.IsCertificateError(err) || errors.Is(err, ErrInvalidConfig) {
		return false
	}
	if networkError(err) {
		return true
	}
	if code, ok := ldapCode(err); ok {
		switch code {
		case ldap.LDAPResultBusy, ldap.LDAPResultUnavailable, ldap.LDAPResultServerDown, ldap.ErrorNetwork, ldap.LDAPResultTimeout, ldap.LDAPResultConnectError:
			return true
		}
	}
	return false
}

// classify wraps err with the sentinel its cause maps to. op says what was
// attempted ("search CN=...") and dc where.
func classify(op, dc string, err error) error {
	if err == nil {
		return nil
	}
	where := "ldap " + op
	if dc != "" {
		where += " on " + dc
	}
	if errors.Is(err, transport.ErrUnreachable) || errors.Is(err, transport.ErrUnauthorized) ||
		errors.Is(err, transport.ErrNotFound) || errors.Is(err, ErrReadOnlyDC) || errors.Is(err, ErrCertificate) ||
		errors.Is(err, ErrRoleOwnerUnavailable) || errors.Is(err, ErrConflict) || errors.Is(err, ErrInvalidConfig) ||
		errors.Is(err, ErrBusy) || errors.Is(err, ErrAccessDenied) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("%s: %w", where, err)
	}
	if code, ok := ldapCode(err); ok {
		switch code {
		case ldap.LDAPResultInvalidCredentials, ldap.LDAPResultInappropriateAuthentication:
			return fmt.Errorf("%s: %w: %w", where, transport.ErrUnauthorized, err)
		case ldap.LDAPResultInsufficientAccessRights:
			return fmt.Errorf("%s: %w: %w", where, ErrAccessDenied, err)
		case ldap.LDAPResultNoSuchObject:
			return fmt.Errorf("%s: %w: %w", where, transport.ErrNotFound, err)
		case ldap.LDAPResultBusy, ldap.LDAPResultUnavailable:
			return fmt.Errorf("%s: %w: %w", where, ErrBusy, err)
		case ldap.LDAPResultReferral:
			// An RODC refers writes to a writable DC ([MS-ADTS] 3.1.1.1.9).
			return fmt.Errorf("%s: %w: %w", where, ErrReadOnlyDC, err)
		case ldap.ErrorNetwork, ldap.LDAPResultServerDown, ldap.LDAPResultConnectError, ldap.LDAPResultTimeout:
			return fmt.Errorf("%s: %w: %w", where, transport.ErrUnreachable, err)
		}
		return fmt.Errorf("%s: %w", where, err)
	}
	if transport.IsCertificateError(err) {
		return fmt.Errorf("%s: %w: %w: %w", where, transport.ErrUnreachable, ErrCertificate, err)
	}
	if errors.Is(err, errConnectionLost) {
		return fmt.Errorf("%s: %w: %w", where, transport.ErrUnreachable, err)
	}
	if networkError(err) {
		return fmt.Errorf("%s: %w: %w", where, transport.ErrUnreachable, err)
	}
	return fmt.Errorf("%s: %w", where, err)
}
