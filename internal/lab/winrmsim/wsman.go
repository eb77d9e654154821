package winrmsim

import (
	"bytes"
	"crypto/rand"
	"encoding/xml"
	"fmt"
	"net/http"
	"strings"
)

// WS-Management and Windows Remote Shell names ([MS-WSMV] 3.1.4, 3.1.4.1).
const (
	nsSOAP        = "http://www.w3.org/2003/05/soap-envelope"
	nsAddr        = "http://schemas.xmlsoap.org/ws/2004/08/addressing"
	nsWSMan       = "http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd"
	nsShell       = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell"
	nsFault       = "http://schemas.microsoft.com/wbem/wsman/1/wsmanfault"
	roleAnonymous = "http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous"

	shellCmdURI = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/cmd"

	actionCreate   = "http://schemas.xmlsoap.org/ws/2004/09/transfer/Create"
	actionDelete   = "http://schemas.xmlsoap.org/ws/2004/09/transfer/Delete"
	actionCommand  = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/Command"
	actionSend     = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/Send"
	actionReceive  = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/Receive"
	actionSignal   = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/Signal"
	actionFaultURI = "http://schemas.dmtf.org/wbem/wsman/1/wsman/fault"

	stateDone    = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/CommandState/Done"
	stateRunning = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/CommandState/Running"
)

// actionNames maps action URIs to the short names FailAction takes.
var actionNames = map[string]string{
	actionCreate:  "Create",
	actionDelete:  "Delete",
	actionCommand: "Command",
	actionSend:    "Send",
	actionReceive: "Receive",
	actionSignal:  "Signal",
}

// request is the subset of a WS-Man request the shell plugin reads.
type request struct {
	XMLName xml.Name `xml:"http://www.w3.org/2003/05/soap-envelope Envelope"`
	Header  struct {
		Action           string `xml:"http://schemas.xmlsoap.org/ws/2004/08/addressing Action"`
		MessageID        string `xml:"http://schemas.xmlsoap.org/ws/2004/08/addressing MessageID"`
		ResourceURI      string `xml:"http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd ResourceURI"`
		OperationTimeout string `xml:"http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd OperationTimeout"`
		SelectorSet      struct {
			Selectors []struct {
				Name  string `xml:"Name,attr"`
				Value string `xml:",chardata"`
			} `xml:"http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd Selector"`
		} `xml:"http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd SelectorSet"`
	} `xml:"http://www.w3.org/2003/05/soap-envelope Header"`
	Body struct {
		Shell *struct {
			IdleTimeOut   string `xml:"http://schemas.microsoft.com/wbem/wsman/1/windows/shell IdleTimeOut"`
			InputStreams  string `xml:"http://schemas.microsoft.com/wbem/wsman/1/windows/shell InputStreams"`
			OutputStreams string `xml:"http://schemas.microsoft.com/wbem/wsman/1/windows/shell OutputStreams"`
		} `xml:"http://schemas.microsoft.com/wbem/wsman/1/windows/shell Shell"`
		CommandLine *struct {
			Command   string   `xml:"http://schemas.microsoft.com/wbem/wsman/1/windows/shell Command"`
			Arguments []string `xml:"http://schemas.microsoft.com/wbem/wsman/1/windows/shell Arguments"`
		} `xml:"http://schemas.microsoft.com/wbem/wsman/1/windows/shell CommandLine"`
		Send *struct {
			Streams []struct {
				Name      string `xml:"Name,attr"`
				CommandID string `xml:"CommandId,attr"`
				End       string `xml:"End,attr"`
				Data      string `xml:",chardata"`
			} `xml:"http://schemas.microsoft.com/wbem/wsman/1/windows/shell Stream"`
		} `xml:"http://schemas.microsoft.com/wbem/wsman/1/windows/shell Send"`
		Receive *struct {
			DesiredStream struct {
				CommandID string `xml:"CommandId,attr"`
				Streams   string `xml:",chardata"`
			} `xml:"http://schemas.microsoft.com/wbem/wsman/1/windows/shell DesiredStream"`
		} `xml:"http://schemas.microsoft.com/wbem/wsman/1/windows/shell Receive"`
		Signal *struct {
			CommandID string `xml:"CommandId,attr"`
			Code      string `xml:"http://schemas.microsoft.com/wbem/wsman/1/windows/shell Code"`
		} `xml:"http://schemas.microsoft.com/wbem/wsman/1/windows/shell Signal"`
	} `xml:"http://www.w3.org/2003/05/soap-envelope Body"`
}

func (r *request) selector(name string) string {
	for _, s := range r.Header.SelectorSet.Selectors {
		if strings.EqualFold(s.Name, name) {
			return strings.TrimSpace(s.Value)
		}
	}
	return ""
}

// newUUID returns an upper-case random (version 4) UUID, as Windows writes them.
func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return strings.ToUpper(fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16]))
}

func esc(s string) string {
	var b bytes.Buffer
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}

// envelope renders a response the way WinRM on Windows Server does: fixed
// prefixes, the request's MessageID in RelatesTo.
func envelope(action, relatesTo, body string) []byte {
	var b strings.Builder
	b.WriteString(`<s:Envelope xml:lang="en-US" xmlns:s="` + nsSOAP + `" xmlns:a="` + nsAddr +
		`" xmlns:x="http://schemas.xmlsoap.org/ws/2004/09/transfer" xmlns:w="` + nsWSMan +
		`" xmlns:rsp="` + nsShell + `" xmlns:p="http://schemas.microsoft.com/wbem/wsman/1/wsman.xsd">`)
	b.WriteString(`<s:Header><a:Action>` + esc(action) + `</a:Action><a:MessageID>uuid:` + newUUID() +
		`</a:MessageID><a:To>` + roleAnonymous + `</a:To>`)
	if relatesTo != "" {
		b.WriteString(`<a:RelatesTo>` + esc(relatesTo) + `</a:RelatesTo>`)
	}
	b.WriteString(`</s:Header><s:Body>` + body + `</s:Body></s:Envelope>`)
	return []byte(b.String())
}

// wsmanFault is a SOAP fault with a WSManFault detail, as WinRM sends with HTTP 500.
type wsmanFault struct {
	Subcode string // e.g. w:TimedOut
	Code    uint32 // the Windows error code in WSManFault/@Code
	Reason  string
}

// Faults the lab sends, with Windows' codes and texts.
func faultTimedOut() wsmanFault {
	return wsmanFault{"w:TimedOut", 2150858793, "The WS-Management service cannot complete the operation within the time specified in OperationTimeout.  "}
}

func faultMaxShells(n int) wsmanFault {
	return wsmanFault{"w:QuotaLimit", 2150859173, fmt.Sprintf("The WS-Management service cannot process the request. This user is allowed a maximum number of %d concurrent shells, which has been exceeded. Close existing shells or raise the quota for this user. ", n)}
}

func faultNoShell(id string) wsmanFault {
	return wsmanFault{"w:InvalidSelectors", 2150858843, fmt.Sprintf("The request for the Windows Remote Shell with ShellId %s failed because the shell was not found on the server. Possible causes are: the specified ShellId is incorrect or the shell no longer exists on the server. Provide the correct ShellId or create a new shell and retry the operation. ", id)}
}

func faultNoCommand(id string) wsmanFault {
	return wsmanFault{"w:InvalidParameter", 2150858842, fmt.Sprintf("The request for the Windows Remote Shell failed because the command with CommandId %s was not found. ", id)}
}

func faultBadRequest(msg string) wsmanFault {
	return wsmanFault{"w:InvalidParameter", 2150858752, "The WS-Management service cannot process the request. " + msg + " "}
}

func faultAction(action string) wsmanFault {
	return wsmanFault{"a:ActionNotSupported", 2150858753, fmt.Sprintf("The WS-Management service cannot process the request. The WS-Addressing action URI %s is invalid. ", action)}
}

func faultResource(uri string) wsmanFault {
	return wsmanFault{"w:DestinationUnreachable", 2150858770, fmt.Sprintf("The WS-Management service cannot process the request. The resource URI %s was not found in the WS-Management catalog. ", uri)}
}

func (f wsmanFault) render(relatesTo string) []byte {
	body := `<s:Fault><s:Code><s:Value>s:Receiver</s:Value><s:Subcode><s:Value>` + esc(f.Subcode) +
		`</s:Value></s:Subcode></s:Code><s:Reason><s:Text xml:lang="en-US">` + esc(f.Reason) +
		`</s:Text></s:Reason><s:Detail><f:WSManFault xmlns:f="` + nsFault + `" Code="` + fmt.Sprint(f.Code) +
		`" Machine="127.0.0.1"><f:Message>` + esc(f.Reason) + `</f:Message></f:WSManFault></s:Detail></s:Fault>`
	return envelope(actionFaultURI, relatesTo, body)
}

const soapContentType = "application/soap+xml;charset=UTF-8"

func writeSOAP(w http.ResponseWriter, status int, b []byte) {
	w.Header().Set("Content-Type", soapContentType)
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

func writeFault(w http.ResponseWriter, relatesTo string, f wsmanFault) {
	writeSOAP(w, http.StatusInternalServerError, f.render(relatesTo))
}

// writeUnauthorized answers like HTTP.sys in front of WinRM: no body, the
// schemes the service accepts (Basic only where it is enabled).
func writeUnauthorized(w http.ResponseWriter, challenge string, basic bool) {
	if challenge != "" {
		w.Header().Add("WWW-Authenticate", challenge)
	} else {
		w.Header().Add("WWW-Authenticate", "Negotiate")
		if basic {
			w.Header().Add("WWW-Authenticate", `Basic realm="WSMAN"`)
		}
	}
	w.Header().Set("Content-Length", "0")
	w.WriteHeader(http.StatusUnauthorized)
}

const serviceUnavailable = `<!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 4.01//EN""http://www.w3.org/TR/html4/strict.dtd">
<HTML><HEAD><TITLE>Service Unavailable</TITLE>
<META HTTP-EQUIV="Content-Type" Content="text/html; charset=us-ascii"></HEAD>
<BODY><h2>Service Unavailable</h2>
<hr><p>HTTP Error 503. The service is unavailable.</p>
</BODY></HTML>
`

func writeUnavailable(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "text/html; charset=us-ascii")
	w.WriteHeader(http.StatusServiceUnavailable)
	_, _ = w.Write([]byte(serviceUnavailable))
}
