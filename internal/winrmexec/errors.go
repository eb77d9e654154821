package winrmexec

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"html"
	"net"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/bastion-pam/terraform-provider-bastion/internal/transport"
)

// RemoteError is a script's failure as the bootstrap reports it: the
// PowerShell exception's type and message, its error category and
// FullyQualifiedErrorId. errors.Is(err, transport.ErrNotFound) holds when
// the category is ObjectNotFound.
type RemoteError struct {
	Host     string
	Script   string
	Type     string
	Message  string
	Category string
	ID       string
	ExitCode int
}

func (e *RemoteError) Error() string {
	return fmt.Sprintf("winrm %s: script %s failed: %s (%s, category %s, error id %s)",
		e.Host, e.Script, strings.TrimSpace(e.Message), e.Type, e.Category, e.ID)
}

// Is makes ObjectNotFound errors match transport.ErrNotFound.
func (e *RemoteError) Is(target error) bool {
	return target == transport.ErrNotFound && e.Category == "ObjectNotFound"
}

// HTTPError is a WinRM answer other than 200 and 401: HTTP 503 from HTTP.sys,
// or HTTP 500 with a WS-Management fault ([MS-WSMV] 2.2.4.19).
type HTTPError struct {
	StatusCode int
	// Subcode and Code come from a WS-Management fault: the SOAP subcode
	// (e.g. "w:QuotaLimit") and the Windows error code in WSManFault/@Code.
	Subcode string
	Code    uint32
	// Message is the fault's reason, or the start of a body that is not one.
	Message string
}

func (e *HTTPError) Error() string {
	s := fmt.Sprintf("HTTP %d %s", e.StatusCode, http.StatusText(e.StatusCode))
	if e.Code != 0 || e.Subcode != "" {
		s += fmt.Sprintf(": WS-Management fault %s (code %d)", e.Subcode, e.Code)
	}
	if e.Message != "" {
		s += ": " + e.Message
	}
	return s
}

// Is makes an access-denied fault (the account may log on but not use
// WinRM, e.g. not in Remote Management Users) match transport.ErrUnauthorized.
func (e *HTTPError) Is(target error) bool {
	return target == transport.ErrUnauthorized && (e.Code == 5 || strings.HasSuffix(e.Subcode, ":AccessDenied"))
}

// Windows error codes of WinRM quota faults: the service is busy, not
// broken, and PowerShell itself retries them (ERROR_WSMAN_QUOTA_*).
var quotaCodes = map[uint32]bool{
	2150859173: true, // MAX_SHELLS
	2150859174: true, // MAX_OPERATIONS
	2150859175: true, // USER
	2150859176: true, // SYSTEM
	2150859179: true, // MAX_SHELLUSERS
	2150859236: true, // MAX_SHELLS_PPQ
	2150859237: true, // MAX_USERS_PPQ
	2150859238: true, // MAX_PLUGINSHELLS_PPQ
	2150859239: true, // MAX_PLUGINOPERATIONS_PPQ
	2150859240: true, // MAX_OPERATIONS_USER_PPQ
	2150859241: true, // MAX_COMMANDS_PER_SHELL_PPQ
	2150859242: true, // MIN_REQUIREMENT_NOT_AVAILABLE_PPQ
}

// busy reports a fault that means "try again later".
func (e *HTTPError) busy() bool {
	return e.StatusCode == http.StatusServiceUnavailable || quotaCodes[e.Code] || strings.HasSuffix(e.Subcode, ":QuotaLimit")
}

// timedOut is the fault a Receive gets when the command printed nothing
// within OperationTimeout: not an error, the client asks again.
func (e *HTTPError) timedOut() bool {
	return e.Code == 2150858793 || strings.HasSuffix(e.Subcode, ":TimedOut")
}

func newHTTPError(status int, contentType string, body []byte) *HTTPError {
	e := &HTTPError{StatusCode: status}
	if strings.Contains(contentType, "soap+xml") {
		var f struct {
			Subcode string `xml:"Body>Fault>Code>Subcode>Value"`
			Reason  string `xml:"Body>Fault>Reason>Text"`
			Detail  struct {
				Code    string `xml:"Code,attr"`
				Message struct {
					Inner string `xml:",innerxml"`
				} `xml:"Message"`
			} `xml:"Body>Fault>Detail>WSManFault"`
		}
		if xml.Unmarshal(body, &f) == nil {
			e.Subcode = strings.TrimSpace(f.Subcode)
			if c, err := strconv.ParseUint(strings.TrimSpace(f.Detail.Code), 10, 32); err == nil {
				e.Code = uint32(c)
			}
			e.Message = strings.TrimSpace(f.Reason)
			if e.Message == "" {
				e.Message = strings.TrimSpace(stripTags(f.Detail.Message.Inner))
			}
			return e
		}
	}
	if status != http.StatusServiceUnavailable {
		e.Message = quote(body)
	}
	return e
}

var tags = regexp.MustCompile(`<[^>]*>`)

func stripTags(s string) string { return html.UnescapeString(tags.ReplaceAllString(s, "")) }

// unreachableError is a failure below HTTP: dial, TLS, a reset or timeout
// before the answer. It matches transport.ErrUnreachable.
type unreachableError struct {
	err error
	// permanent: retrying cannot help (the certificate does not verify,
	// or DNS does not know the name).
	permanent bool
}

func (e *unreachableError) Error() string { return e.err.Error() }
func (e *unreachableError) Unwrap() []error {
	return []error{transport.ErrUnreachable, e.err}
}

// dialError marks a connection that was never made: nothing was sent.
type dialError struct{ err error }

func (e *dialError) Error() string { return e.err.Error() }
func (e *dialError) Unwrap() error { return e.err }

// isUnknownHost reports a name DNS says does not exist: retrying at once
// cannot help (a typing error, or a host removed from DNS).
func isUnknownHost(err error) bool {
	var d *net.DNSError
	return errors.As(err, &d) && d.IsNotFound
}

// neverSent reports an error that proves the request did not reach the
// service: no connection, or an HTTP refusal before any processing.
func neverSent(err error) bool {
	var d *dialError
	var h *HTTPError
	return errors.As(err, &d) || errors.As(err, &h) || errors.Is(err, transport.ErrUnauthorized)
}

// Transient reports an error that waiting can fix: the host busy, or not
// reachable for a reason other than a certificate that does not verify or
// a name that does not resolve (a host restarting refuses connections).
// Errors of other origins count when they say unreachable.
func Transient(err error) bool {
	var u *unreachableError
	var h *HTTPError
	if errors.As(err, &u) || errors.As(err, &h) {
		return transient(err)
	}
	return errors.Is(err, transport.ErrUnreachable) && !transport.IsCertificateError(err) && !isUnknownHost(err)
}

// transient reports a failure of this adapter worth another attempt.
func transient(err error) bool {
	var h *HTTPError
	if errors.As(err, &h) {
		return h.busy()
	}
	var u *unreachableError
	return errors.As(err, &u) && !u.permanent
}

// quote shows at most 300 bytes of remote output in an error message.
func quote(b []byte) string {
	const limit = 300
	more := ""
	if len(b) > limit {
		b, more = b[:limit], fmt.Sprintf(" (%d more bytes)", len(b)-limit)
	}
	for len(b) > 0 && !utf8.Valid(b) {
		b = b[:len(b)-1]
	}
	return strconv.Quote(string(b)) + more
}

var (
	clixmlError  = regexp.MustCompile(`(?s)<S S="Error">(.*?)</S>`)
	clixmlEscape = regexp.MustCompile(`_x([0-9A-Fa-f]{4})_`)
)

// readableStderr turns PowerShell's CLIXML error stream ("#< CLIXML" then
// serialised error records) into the text a console would show.
func readableStderr(b []byte) []byte {
	if !bytes.HasPrefix(bytes.TrimSpace(b), []byte("#< CLIXML")) {
		return b
	}
	var out bytes.Buffer
	for _, m := range clixmlError.FindAllSubmatch(b, -1) {
		s := clixmlEscape.ReplaceAllStringFunc(string(m[1]), func(x string) string {
			n, _ := strconv.ParseUint(x[2:6], 16, 16)
			return string(rune(n))
		})
		out.WriteString(html.UnescapeString(s))
	}
	return out.Bytes()
}

// ErrNotStarted marks a failed run whose command never reached the host
// (no shell, or the command request failed): the script did not run. A
// caller that takes a lost connection for "the step may have happened"
// (a promotion restarts the server) must not take this one so.
var ErrNotStarted = errors.New("the command was not started")

// notStarted wraps a run's error with ErrNotStarted; its text is err's.
type notStarted struct{ err error }

func (e notStarted) Error() string        { return e.err.Error() }
func (e notStarted) Unwrap() error        { return e.err }
func (e notStarted) Is(target error) bool { return target == ErrNotStarted }
