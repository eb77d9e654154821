package sqlserver

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"syscall"

	"github.com/jcmturner/gokrb5/v8/krberror"
	mssql "github.com/microsoft/go-mssqldb"

	"github.com/bastion-pam/terraform-provider-bastion/internal/transport"
)

// ErrLoginExists: CREATE LOGIN for a login that exists (error 15025).
var ErrLoginExists = errors.New("login already exists")

// ErrCertificate: the server's TLS certificate did not verify (unknown CA,
// wrong name, expired): the transport package's one sentinel for all
// adapters. It comes with transport.ErrUnreachable; retrying cannot help.
var ErrCertificate = transport.ErrCertificate

// ErrAccountNotFound: CREATE LOGIN ... FROM WINDOWS for an account SQL
// Server's lookup does not find in its domain (error 15401). CreateLogin
// returns it as an *AccountNotFoundError naming the account.
var ErrAccountNotFound = errors.New("account not found in its domain")

// AccountNotFoundError is ErrAccountNotFound for one account.
type AccountNotFoundError struct {
	Account string
	Err     error
}

func (e *AccountNotFoundError) Error() string {
	return fmt.Sprintf("account %q not found in its domain: %v", e.Account, e.Err)
}

// Unwrap makes errors.Is(err, ErrAccountNotFound) true, and keeps the SQL error.
func (e *AccountNotFoundError) Unwrap() []error { return []error{ErrAccountNotFound, e.Err} }

// SQL Server error numbers the adapter acts on.
// https://learn.microsoft.com/sql/relational-databases/errors-events/database-engine-events-and-errors
const (
	errLoginFailed       = 18456 // also what a client sees while an FCI fails over
	errLoginUntrusted    = 18452
	errLoginScriptUpgrad = 18401 // server starting: script upgrade or single-user mode
	errCannotOpenDB      = 4060
	errDBUnavailable     = 40613
	errServiceBusy       = 40501
	errServiceError      = 40197
	errDeadlockVictim    = 1205
	errNoPermission      = 15247
	errPermissionDenied  = 229
	errViewStateDenied   = 300
	errNoPermissionShort = 297
	errPrincipalExists   = 15025
	errPrincipalMissing  = 15151
	errAccountNotFound   = 15401 // "Windows NT user or group '%s' not found. Check the name again."
)

var transientNumbers = map[int32]bool{
	errLoginFailed: true, errLoginScriptUpgrad: true, errCannotOpenDB: true, errDBUnavailable: true,
	errServiceBusy: true, errServiceError: true, errDeadlockVictim: true,
	233: true, 10053: true, 10054: true, 10060: true, 64: true, // transport-level errors the server reports
}

var unauthorizedNumbers = map[int32]bool{
	errLoginFailed: true, errLoginUntrusted: true, 18470: true, 18486: true, 18487: true, 18488: true,
	errNoPermission: true, errPermissionDenied: true, errViewStateDenied: true, errNoPermissionShort: true,
}

// sqlNumber returns the SQL Server error number of err (the last error of a batch), if any.
func sqlNumber(err error) (int32, bool) {
	var e mssql.Error
	if errors.As(err, &e) {
		return e.Number, true
	}
	var pe *mssql.Error
	if errors.As(err, &pe) && pe != nil {
		return pe.Number, true
	}
	return 0, false
}

// isTLSVerification reports a certificate the client refused; retrying cannot help.
func isTLSVerification(err error) bool {
	if transport.IsCertificateError(err) {
		return true
	}
	// go-mssqldb formats the PRELOGIN-wrapped handshake error with %v.
	msg := err.Error()
	return strings.Contains(msg, "TLS Handshake failed") && (strings.Contains(msg, "x509:") || strings.Contains(msg, "certificate"))
}

// isNetwork reports a connection that failed or broke.
func isNetwork(err error) bool {
	if errors.Is(err, transport.ErrUnreachable) || errors.Is(err, driver.ErrBadConn) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) {
		return true
	}
	var ne net.Error
	if errors.As(err, &ne) {
		return true
	}
	var se mssql.StreamError
	if errors.As(err, &se) {
		return true
	}
	var re mssql.RetryableError
	if errors.As(err, &re) {
		return true
	}
	// go-mssqldb formats a handshake broken by the network with %v.
	return strings.Contains(err.Error(), "TLS Handshake failed")
}

// isNoEncryption: the server cannot encrypt and the client requires it.
func isNoEncryption(err error) bool {
	return strings.Contains(err.Error(), "server does not support encryption")
}

// isTransient: worth another attempt (failover, dropped connection, busy server).
func isTransient(err error) bool {
	var ke krberror.Krberror
	if errors.As(err, &ke) {
		return false
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) || isTLSVerification(err) {
		return false
	}
	if n, ok := sqlNumber(err); ok {
		return transientNumbers[n]
	}
	return isNetwork(err)
}

// wrap maps err to the transport sentinels, naming the operation and server.
func (c *Client) wrap(what string, err error) error {
	where := fmt.Sprintf("sqlserver: %s on %s", what, c.server)
	switch n, ok := sqlNumber(err); {
	case ok && unauthorizedNumbers[n]:
		return fmt.Errorf("%s: %w: %w", where, transport.ErrUnauthorized, err)
	case ok && n == errPrincipalExists:
		return fmt.Errorf("%s: %w: %w", where, ErrLoginExists, err)
	case ok:
		return fmt.Errorf("%s: %w", where, err)
	}
	var ke krberror.Krberror
	if errors.As(err, &ke) {
		if ke.RootCause == krberror.NetworkingError {
			return fmt.Errorf("%s: %w: no Kerberos KDC answered: %w", where, transport.ErrUnreachable, err)
		}
		return fmt.Errorf("%s: %w: Kerberos authentication failed: %w", where, transport.ErrUnauthorized, err)
	}
	switch {
	case errors.Is(err, context.Canceled):
		return fmt.Errorf("%s: %w", where, err)
	case isTLSVerification(err):
		return fmt.Errorf("%s: %w: %w for %s (give the CA that issued it): %w", where, transport.ErrUnreachable, ErrCertificate, c.server, err)
	case isNoEncryption(err):
		return fmt.Errorf("%s: %w: the server offers no TLS encryption (install a certificate on SQL Server, or set encrypt to false at your own risk): %w", where, transport.ErrUnreachable, err)
	case errors.Is(err, context.DeadlineExceeded) || isNetwork(err):
		if errors.Is(err, transport.ErrUnreachable) {
			return fmt.Errorf("%s: %w", where, err)
		}
		return fmt.Errorf("%s: %w: %w", where, transport.ErrUnreachable, err)
	}
	return fmt.Errorf("%s: %w", where, err)
}
