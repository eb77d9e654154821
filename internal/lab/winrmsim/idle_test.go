package winrmsim

import (
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/masterzen/winrm"

	"github.com/bastion-pam/terraform-provider-bastion/internal/lab/model"
)

// A shell asks for its IdleTimeOut ([MS-WSMV] 2.2.4.37); the service
// deletes it once no request touched it for that long, and a shell that
// asks for none gets the service's IdleTimeout.
func TestShellIdleTimeOut(t *testing.T) {
	l := startWSLab(t, Options{})
	var offset atomic.Int64
	l.env.Now = func() time.Time { return time.Now().Add(time.Duration(offset.Load())) }
	hc := l.wsHTTPClient()
	url := "https://" + model.App1 + ":5986/wsman"
	post := func(body string) string {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
		req.Header.Set("Content-Type", soapContentType)
		req.SetBasicAuth("Administrator", l.seed.LocalAdminPassword)
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		return string(b)
	}
	create := func(idle string) (string, string) {
		t.Helper()
		body := winrm.NewOpenShellRequest(url, nil).String()
		if idle != "" {
			body = strings.Replace(body, "<rsp:InputStreams>", "<rsp:IdleTimeOut>"+idle+"</rsp:IdleTimeOut><rsp:InputStreams>", 1)
		}
		answer := post(body)
		id, err := winrm.ParseOpenShellResponse(answer)
		if err != nil || id == "" {
			t.Fatalf("create with IdleTimeOut %q: %v\n%s", idle, err, answer)
		}
		return id, answer
	}
	short, answer := create("PT60.000S")
	if !strings.Contains(answer, "<rsp:IdleTimeOut>PT60.000S</rsp:IdleTimeOut>") {
		t.Fatalf("the answer does not echo the IdleTimeOut:\n%s", answer)
	}
	long, answer := create("")
	if !strings.Contains(answer, "<rsp:IdleTimeOut>PT7200.000S</rsp:IdleTimeOut>") {
		t.Fatalf("a shell without IdleTimeOut gets the service's:\n%s", answer)
	}
	if _, answer = create("P1D"); !strings.Contains(answer, "<rsp:IdleTimeOut>PT7200.000S</rsp:IdleTimeOut>") {
		t.Fatalf("the service's IdleTimeout caps the client's:\n%s", answer)
	}
	if answer := post(strings.Replace(winrm.NewOpenShellRequest(url, nil).String(), "<rsp:InputStreams>", "<rsp:IdleTimeOut>soon</rsp:IdleTimeOut><rsp:InputStreams>", 1)); !strings.Contains(answer, "not a valid xs:duration") {
		t.Fatalf("a malformed IdleTimeOut is refused:\n%s", answer)
	}
	if st := l.srv.Stats(model.App1); st.Shells != 3 {
		t.Fatalf("stats %+v: want 3 shells", st)
	}

	offset.Store(int64(61 * time.Second))
	answer = post(winrm.NewExecuteCommandRequest(url, short, "whoami", nil, nil).String())
	if !strings.Contains(answer, "the shell was not found on the server") {
		t.Fatalf("a command in the expired shell:\n%s", answer)
	}
	answer = post(winrm.NewDeleteShellRequest(url, long, nil).String())
	if strings.Contains(answer, "Fault") {
		t.Fatalf("the shell with the service's IdleTimeout is still there:\n%s", answer)
	}
	if st := l.srv.Stats(model.App1); st.Shells != 1 || st.IdleExpired != 1 {
		t.Fatalf("stats %+v: want 1 shell left (the P1D one), 1 expired", st)
	}
}
