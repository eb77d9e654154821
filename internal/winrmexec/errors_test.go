package winrmexec

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"syscall"
	"testing"

	"github.com/bastion-pam/terraform-provider-bastion/internal/transport"
)

func TestHTTPErrorFromFault(t *testing.T) {
	const denied = `<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body><s:Fault><s:Code><s:Value>s:Sender</s:Value><s:Subcode><s:Value>w:AccessDenied</s:Value></s:Subcode></s:Code><s:Reason><s:Text xml:lang="en-US">Access is denied. </s:Text></s:Reason><s:Detail><f:WSManFault xmlns:f="http://schemas.microsoft.com/wbem/wsman/1/wsmanfault" Code="5" Machine="h"><f:Message>Access is denied. </f:Message></f:WSManFault></s:Detail></s:Fault></s:Body></s:Envelope>`
	e := newHTTPError(500, "application/soap+xml;charset=UTF-8", []byte(denied))
	if e.Code != 5 || e.Subcode != "w:AccessDenied" || e.Message != "Access is denied." {
		t.Errorf("parsed %+v", e)
	}
	if !errors.Is(e, transport.ErrUnauthorized) || transient(e) {
		t.Error("access denied: want ErrUnauthorized, not transient")
	}
	if got := e.Error(); got != "HTTP 500 Internal Server Error: WS-Management fault w:AccessDenied (code 5): Access is denied." {
		t.Errorf("Error() = %s", got)
	}
	const provider = `<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body><s:Fault><s:Code><s:Value>s:Receiver</s:Value><s:Subcode><s:Value>w:InternalError</s:Value></s:Subcode></s:Code><s:Reason><s:Text xml:lang=""></s:Text></s:Reason><s:Detail><f:WSManFault xmlns:f="http://schemas.microsoft.com/wbem/wsman/1/wsmanfault" Code="2147942606" Machine="h"><f:Message><f:ProviderFault provider="Shell cmd plugin" path="%systemroot%\system32\winrscmd.dll">The filename or extension is too long. </f:ProviderFault></f:Message></f:WSManFault></s:Detail></s:Fault></s:Body></s:Envelope>`
	e = newHTTPError(500, "application/soap+xml", []byte(provider))
	if e.Message != "The filename or extension is too long." || transient(e) {
		t.Errorf("provider fault: %+v", e)
	}
	if e := newHTTPError(http.StatusServiceUnavailable, "text/html", []byte("<html>")); !transient(e) || e.Message != "" {
		t.Errorf("503: %+v", e)
	}
	if e := newHTTPError(502, "text/plain", []byte("bad gateway")); transient(e) || e.Message != `"bad gateway"` {
		t.Errorf("502: %+v", e)
	}
}

// Waiting helps a host that refuses connections (restarting); it does not
// help a certificate that does not verify or a name DNS does not know.
func TestTransientUnreachable(t *testing.T) {
	h := &hostConn{}
	ctx := context.Background()
	for _, c := range []struct {
		err  error
		want bool
	}{
		{&net.OpError{Op: "dial", Err: syscall.ECONNREFUSED}, true},
		{&net.OpError{Op: "read", Err: syscall.ECONNRESET}, true},
		{&net.DNSError{Err: "no such host", Name: "priv-dc9.priv.contoso.test", IsNotFound: true}, false},
		{&tls.CertificateVerificationError{Err: x509.UnknownAuthorityError{}}, false},
	} {
		err := h.netError(ctx, c.err)
		if !errors.Is(err, transport.ErrUnreachable) || transient(err) != c.want || Transient(fmt.Errorf("wrapped: %w", err)) != c.want {
			t.Errorf("%v: unreachable %t, transient %t, want %t", c.err, errors.Is(err, transport.ErrUnreachable), transient(err), c.want)
		}
	}
	if Transient(errors.New("other")) || !Transient(fmt.Errorf("x: %w", transport.ErrUnreachable)) {
		t.Error("Transient outside the adapter's own error types")
	}
}
