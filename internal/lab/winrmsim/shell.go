package winrmsim

import (
	"encoding/base64"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/bastion-pam/terraform-provider-bastion/internal/lab/model"
)

// maxEnvelope is Windows' default MaxEnvelopeSizekb (500 KiB): larger
// requests are refused.
const maxEnvelope = 500 * 1024

// receiveChunk bounds the output bytes of one ReceiveResponse, so large
// output arrives over several Receives, as from Windows.
const receiveChunk = 64 * 1024

type shell struct {
	id, host, user string
	// logon is the session the shell's processes run in.
	logon    model.Identity
	commands map[string]*command
	// idle is the shell's IdleTimeOut; last the time of its last request.
	idle time.Duration
	last time.Time
}

// MaxShellIdle is the WinRM service's IdleTimeout (winrm/config/Winrs,
// 7200000 ms by default): a shell's IdleTimeOut is the smaller of the
// client's and this; without one the shell gets this.
// https://learn.microsoft.com/windows/win32/api/wsman/ns-wsman-wsman_shell_startup_info_v10
const MaxShellIdle = 2 * time.Hour

// xsDurationRE matches the xs:duration forms WS-Management clients send for a
// time span (PT120S, PT120.000S, P0DT0H2M0S); ok is false otherwise.
var xsDurationRE = regexp.MustCompile(`^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$`)

func xsDuration(v string) (time.Duration, bool) {
	m := xsDurationRE.FindStringSubmatch(strings.TrimSpace(v))
	if m == nil || v == "P" || strings.HasSuffix(v, "T") {
		return 0, false
	}
	var d time.Duration
	for i, unit := range []time.Duration{24 * time.Hour, time.Hour, time.Minute} {
		if m[i+1] != "" {
			n, err := strconv.Atoi(m[i+1])
			if err != nil {
				return 0, false
			}
			d += time.Duration(n) * unit
		}
	}
	if m[4] != "" {
		f, err := strconv.ParseFloat(m[4], 64)
		if err != nil {
			return 0, false
		}
		d += time.Duration(f * float64(time.Second))
	}
	return d, true
}

// expireLocked deletes the shells no request touched for their IdleTimeOut,
// as the WinRM service does, ending their processes. s.mu is held.
func (s *Server) expireLocked(now time.Time) {
	for id, sh := range s.shells {
		if now.Sub(sh.last) < sh.idle {
			continue
		}
		delete(s.shells, id)
		for _, c := range sh.commands {
			c.stop()
		}
		if h := s.hosts[sh.host]; h != nil {
			h.stats.Shells--
			h.stats.IdleExpired++
		}
	}
}

type command struct {
	id    string
	stdin []byte
	// started: powershell.exe was created (at the Command); stdinEnded: the
	// client sent stdin's End, closing stdinEnd, and the process reads no more.
	started    bool
	stdinEnded bool
	stdinEnd   chan struct{}
	finished   bool
	done       chan struct{} // closed when output is final
	cancel     chan struct{} // closed by Signal or Delete
	canceled   bool
	// lost: the host restarted while the command ran; its connection drops
	// and no reply ever comes.
	lost bool

	stdout, stderr   []byte
	sentOut, sentErr int
	exitCode         int
}

func (c *command) stop() {
	if !c.canceled {
		c.canceled = true
		close(c.cancel)
	}
}

// serve answers one HTTP request on host's listener.
func (s *Server) serve(host string, secure bool, w http.ResponseWriter, r *http.Request) {
	s.count(host, func(st *HostStats) { st.Requests++ })
	s.env.CountRequest(model.WinRM, host)
	w.Header().Set("Server", "Microsoft-HTTPAPI/2.0")
	if !strings.EqualFold(r.URL.Path, "/wsman") {
		http.NotFound(w, r)
		return
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		w.WriteHeader(http.StatusMethodNotAllowed)
		return
	}
	if kind, ok := s.env.TakeFault(host, model.WinRM); ok && s.fault(w, r, kind, "") {
		s.log.Debug("winrmsim fault", "host", host, "fault", string(kind))
		return
	}
	id, ok := s.authenticate(host, secure, w, r)
	if !ok {
		return
	}
	user := id.Account
	body, err := io.ReadAll(io.LimitReader(r.Body, maxEnvelope+1))
	if err != nil {
		return
	}
	if !secure {
		var sealed bool
		if body, w, sealed, ok = s.unsealRequest(host, w, r, body); !ok {
			return
		}
		if !sealed && len(body) == 0 {
			// An authenticated empty POST sets up the NTLM context before
			// the first sealed message (pywinrm, masterzen/winrm do this).
			w.WriteHeader(http.StatusOK)
			return
		}
		if sw, isSealed := w.(*sealingWriter); isSealed {
			defer sw.flush()
		}
	}
	if len(body) > maxEnvelope {
		writeFault(w, "", wsmanFault{"w:EncodingLimit", 2150858817, "The WS-Management service cannot process the request because the request packet is larger than the maximum envelope size. "})
		return
	}
	if ct := r.Header.Get("Content-Type"); !strings.Contains(strings.ToLower(ct), "application/soap+xml") && !isEncrypted(ct) {
		w.WriteHeader(http.StatusUnsupportedMediaType)
		return
	}
	var req request
	if err := xml.Unmarshal(body, &req); err != nil {
		writeFault(w, "", faultBadRequest("The request is not a valid SOAP envelope: "+err.Error()+"."))
		return
	}
	mid := req.Header.MessageID
	action := strings.TrimSpace(req.Header.Action)
	name := actionNames[action]
	if kind, ok := s.takeActionFault(host, name); ok && s.fault(w, r, kind, mid) {
		s.log.Debug("winrmsim action fault", "host", host, "action", name, "fault", string(kind))
		return
	}
	s.log.Debug("winrmsim request", "host", host, "action", name, "user", user)
	if name == "" {
		writeFault(w, mid, faultAction(action))
		return
	}
	if uri := strings.TrimSpace(req.Header.ResourceURI); !strings.EqualFold(uri, shellCmdURI) {
		writeFault(w, mid, faultResource(uri))
		return
	}
	if action == actionCreate {
		s.create(host, secure, id, &req, w)
		return
	}
	sh, f := s.shellFor(host, user, req.selector("ShellId"))
	if sh == nil {
		writeFault(w, mid, f)
		return
	}
	switch action {
	case actionCommand:
		s.command(host, sh, &req, w)
	case actionSend:
		s.send(host, sh, &req, w)
	case actionReceive:
		s.receive(sh, &req, w, r)
	case actionSignal:
		s.signal(sh, &req, w)
	case actionDelete:
		s.deleteShell(host, sh, &req, w, r)
	}
}

// fault answers with an injected fault; false means the kind is not one
// WinRM knows and the request goes on.
func (s *Server) fault(w http.ResponseWriter, r *http.Request, kind model.FaultKind, relatesTo string) bool {
	switch kind {
	case model.FaultRefuse:
		if hj, ok := w.(http.Hijacker); ok {
			if c, _, err := hj.Hijack(); err == nil {
				model.ResetConn(c)
				return true
			}
		}
		panic(http.ErrAbortHandler)
	case model.FaultHTTP500:
		writeFault(w, relatesTo, faultMaxShells(s.opts.MaxShellsPerUser))
	case model.FaultHTTP503:
		writeUnavailable(w)
	case model.FaultUnauthorized:
		writeUnauthorized(w, "", false)
	case model.FaultTimeout:
		select {
		case <-r.Context().Done():
		case <-s.closing:
		}
		panic(http.ErrAbortHandler)
	default:
		return false
	}
	return true
}

// authenticate accepts a logon as Windows would (model/identity.go) and
// returns who the session runs as.
func (s *Server) authenticate(host string, secure bool, w http.ResponseWriter, r *http.Request) (model.Identity, bool) {
	cs := connFrom(r.Context())
	authz := r.Header.Get("Authorization")
	if authz == "" && cs != nil {
		cs.mu.Lock()
		id := cs.id
		cs.mu.Unlock()
		if id.Account != "" {
			return id, true
		}
	}
	scheme, token, _ := strings.Cut(authz, " ")
	switch strings.ToLower(scheme) {
	case "basic":
		// Basic on HTTP also needs AllowUnencrypted: the password would
		// cross the network in clear.
		if user, pass, ok := r.BasicAuth(); ok && (secure || s.env.WinRMServiceOf(host).AllowUnencrypted) {
			if id, ok := s.env.BasicLogon(host, user, pass); ok {
				return id, true
			}
		}
	case "negotiate", "ntlm":
		if cs != nil {
			return s.ntlm(w, host, cs, scheme, token)
		}
	}
	s.unauthorized(w, host)
	return model.Identity{}, false
}

func (s *Server) unauthorized(w http.ResponseWriter, host string) {
	writeUnauthorized(w, "", s.env.WinRMServiceOf(host).AllowBasic)
}

func (s *Server) shellFor(host, user, id string) (*shell, wsmanFault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.env.Now()
	s.expireLocked(now)
	sh := s.shells[id]
	// Another user's shell does not exist for this user.
	if sh == nil || sh.host != host || sh.user != user {
		return nil, faultNoShell(id)
	}
	sh.last = now
	return sh, wsmanFault{}
}

func (s *Server) create(host string, secure bool, id model.Identity, req *request, w http.ResponseWriter) {
	user := id.Account
	if req.Body.Shell == nil {
		writeFault(w, req.Header.MessageID, faultBadRequest("The Create request has no Shell element."))
		return
	}
	idle := MaxShellIdle
	if v := req.Body.Shell.IdleTimeOut; v != "" {
		d, ok := xsDuration(v)
		if !ok {
			writeFault(w, req.Header.MessageID, faultBadRequest("The IdleTimeOut value "+esc(v)+" is not a valid xs:duration."))
			return
		}
		idle = min(idle, d)
	}
	s.env.CountLogin(model.WinRM, host)
	s.mu.Lock()
	now := s.env.Now()
	s.expireLocked(now)
	n := 0
	for _, sh := range s.shells {
		if sh.host == host && sh.user == user {
			n++
		}
	}
	if n >= s.opts.MaxShellsPerUser {
		s.mu.Unlock()
		writeFault(w, req.Header.MessageID, faultMaxShells(s.opts.MaxShellsPerUser))
		return
	}
	sh := &shell{id: newUUID(), host: host, user: user, logon: id, commands: map[string]*command{}, idle: idle, last: now}
	s.shells[sh.id] = sh
	if h := s.hosts[host]; h != nil {
		h.stats.Shells++
		h.stats.MaxShells = max(h.stats.MaxShells, h.stats.Shells)
	}
	s.mu.Unlock()

	scheme, port := "http", PortHTTP
	if secure {
		scheme, port = "https", PortHTTPS
	}
	in := strings.TrimSpace(req.Body.Shell.InputStreams)
	out := strings.TrimSpace(req.Body.Shell.OutputStreams)
	body := `<x:ResourceCreated><a:Address>` + fmt.Sprintf("%s://%s:%d/wsman", scheme, host, port) +
		`</a:Address><a:ReferenceParameters><w:ResourceURI>` + shellCmdURI +
		`</w:ResourceURI><w:SelectorSet><w:Selector Name="ShellId">` + sh.id +
		`</w:Selector></w:SelectorSet></a:ReferenceParameters></x:ResourceCreated>` +
		`<rsp:Shell xmlns:rsp="` + nsShell + `"><rsp:ShellId>` + sh.id + `</rsp:ShellId><rsp:ResourceUri>` + shellCmdURI +
		`</rsp:ResourceUri><rsp:Owner>` + esc(user) + `</rsp:Owner><rsp:ClientIP>127.0.0.1</rsp:ClientIP>` +
		`<rsp:IdleTimeOut>` + fmt.Sprintf("PT%.3fS", idle.Seconds()) + `</rsp:IdleTimeOut><rsp:InputStreams>` + esc(in) + `</rsp:InputStreams><rsp:OutputStreams>` +
		esc(out) + `</rsp:OutputStreams><rsp:ShellRunTime>P0DT0H0M0S</rsp:ShellRunTime><rsp:ShellInactivity>P0DT0H0M0S</rsp:ShellInactivity></rsp:Shell>`
	writeSOAP(w, http.StatusOK, envelope("http://schemas.xmlsoap.org/ws/2004/09/transfer/CreateResponse", req.Header.MessageID, body))
}

func (s *Server) command(host string, sh *shell, req *request, w http.ResponseWriter) {
	cl := req.Body.CommandLine
	if cl == nil {
		writeFault(w, req.Header.MessageID, faultBadRequest("The Command request has no CommandLine element."))
		return
	}
	cmd := &command{id: newUUID(), done: make(chan struct{}), cancel: make(chan struct{}), stdinEnd: make(chan struct{})}
	s.env.CountCall(model.WinRM, host)
	reason, sum := checkCommandLine(cl.Command, cl.Arguments)
	// WinRM starts the command as a process in the shell's logon session.
	_ = s.env.Do(func(e *model.Env) error {
		e.StartProcess(host, sh.logon.Account, strings.Join(append([]string{cl.Command}, cl.Arguments...), " "))
		return nil
	})
	s.mu.Lock()
	sh.commands[cmd.id] = cmd
	if h := s.hosts[host]; h != nil {
		h.stats.Commands++
	}
	cmd.started = true
	if reason != "" {
		// powershell.exe starts and fails: the error record on stderr, exit code 1.
		s.finish(cmd, nil, []byte(rejectedCommandLine(reason)), 1)
	} else {
		// The Command creates the process ([MS-WSMV] 3.1.4.11: the server
		// starts the command and answers with its CommandId; stdin comes
		// later, by Send, 3.1.4.13), so powershell.exe starts while the
		// client's Send is on its way, not after it.
		s.runs.Add(1)
		go s.execute(host, sh.logon, cmd)
	}
	s.mu.Unlock()
	if reason != "" {
		s.env.Reject(host, sum, "command line: "+reason)
		s.log.Debug("winrmsim rejected command line", "host", host, "reason", reason)
	}
	writeSOAP(w, http.StatusOK, envelope("http://schemas.microsoft.com/wbem/wsman/1/windows/shell/CommandResponse", req.Header.MessageID,
		`<rsp:CommandResponse><rsp:CommandId>`+cmd.id+`</rsp:CommandId></rsp:CommandResponse>`))
}

// finish publishes a command's output. Callers hold s.mu.
func (s *Server) finish(cmd *command, stdout, stderr []byte, exitCode int) {
	if cmd.finished {
		return
	}
	cmd.finished = true
	cmd.stdout, cmd.stderr, cmd.exitCode = stdout, stderr, exitCode
	close(cmd.done)
}

func (s *Server) send(host string, sh *shell, req *request, w http.ResponseWriter) {
	mid := req.Header.MessageID
	if req.Body.Send == nil {
		writeFault(w, mid, faultBadRequest("The Send request has no Send element."))
		return
	}
	s.mu.Lock()
	for _, st := range req.Body.Send.Streams {
		cmd := sh.commands[st.CommandID]
		if cmd == nil {
			s.mu.Unlock()
			writeFault(w, mid, faultNoCommand(st.CommandID))
			return
		}
		if st.Name != "stdin" {
			s.mu.Unlock()
			writeFault(w, mid, faultBadRequest("The stream "+st.Name+" is not an input stream of this shell."))
			return
		}
		data, err := base64.StdEncoding.DecodeString(strings.TrimSpace(st.Data))
		if err != nil {
			s.mu.Unlock()
			writeFault(w, mid, faultBadRequest("The stream data is not base64."))
			return
		}
		if cmd.stdinEnded || cmd.finished || cmd.canceled {
			continue // the process no longer reads stdin, or was terminated
		}
		cmd.stdin = append(cmd.stdin, data...)
		if st.End == "true" {
			// The bootstrap reads stdin to its end, then runs.
			cmd.stdinEnded = true
			close(cmd.stdinEnd)
		}
	}
	s.mu.Unlock()
	writeSOAP(w, http.StatusOK, envelope("http://schemas.microsoft.com/wbem/wsman/1/windows/shell/SendResponse", mid, `<rsp:SendResponse></rsp:SendResponse>`))
}

// execute is the command's process, from the Command on: powershell.exe
// starts, the bootstrap reads stdin to its End, then runs while the client
// waits in Receive. The model's latency for the host is the script's run time.
func (s *Server) execute(host string, logon model.Identity, cmd *command) {
	defer s.runs.Done()
	if !s.env.StartPowerShell(host, cmd.cancel, s.closing) {
		s.mu.Lock()
		s.finish(cmd, nil, nil, 1) // terminated before it got anywhere
		s.mu.Unlock()
		return
	}
	select {
	case <-cmd.stdinEnd:
	case <-cmd.cancel:
	case <-s.closing:
		s.mu.Lock()
		s.finish(cmd, nil, nil, 1)
		s.mu.Unlock()
		return
	}
	s.mu.Lock()
	if !cmd.stdinEnded {
		s.finish(cmd, nil, nil, 1) // terminated while it waited for stdin
		s.mu.Unlock()
		return
	}
	// Stdin ended before any Signal or Delete (send takes no stdin after
	// them), so the script runs however late this goroutine was scheduled;
	// only its latency below can still be cut short.
	stdin := cmd.stdin
	s.mu.Unlock()
	if d := s.env.Latency(host, model.WinRM); d > 0 {
		t := time.NewTimer(d)
		select {
		case <-t.C:
		case <-cmd.cancel:
			t.Stop()
			s.mu.Lock()
			s.finish(cmd, nil, nil, 1) // terminated before it got anywhere
			s.mu.Unlock()
			return
		case <-s.closing:
			t.Stop()
			s.mu.Lock()
			s.finish(cmd, nil, nil, 1)
			s.mu.Unlock()
			return
		}
	}
	res := s.runBootstrap(host, logon, stdin)
	restarted := s.env.Restarting(host)
	if restarted {
		// Whether the client's Receive is waiting (its connection is reset)
		// or comes later (refused), no reply ever leaves the host.
		_ = s.env.Do(func(e *model.Env) error {
			e.Record(host, "winrm-connection-lost", "the host restarted while command "+cmd.id+" ran; no reply")
			return nil
		})
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if restarted {
		cmd.lost = true
		s.finish(cmd, nil, nil, 1)
		return
	}
	out := res.stdout
	if h := s.hosts[host]; h != nil && h.banner != "" {
		out = append([]byte(h.banner), out...)
	}
	s.finish(cmd, out, res.stderr, res.exitCode)
}

func (s *Server) receive(sh *shell, req *request, w http.ResponseWriter, r *http.Request) {
	mid := req.Header.MessageID
	if req.Body.Receive == nil {
		writeFault(w, mid, faultBadRequest("The Receive request has no Receive element."))
		return
	}
	id := req.Body.Receive.DesiredStream.CommandID
	s.mu.Lock()
	cmd := sh.commands[id]
	s.mu.Unlock()
	if cmd == nil {
		writeFault(w, mid, faultNoCommand(id))
		return
	}
	// Receive is a long poll: it returns when there is output or the
	// request's OperationTimeout passes (then the TimedOut fault).
	t := time.NewTimer(operationTimeout(req.Header.OperationTimeout))
	defer t.Stop()
	select {
	case <-cmd.done:
	case <-t.C:
		writeFault(w, mid, faultTimedOut())
		return
	case <-r.Context().Done():
		return
	case <-s.closing:
		return
	}
	s.mu.Lock()
	lost := cmd.lost
	s.mu.Unlock()
	if lost {
		s.fault(w, r, model.FaultRefuse, mid)
		return
	}

	var b strings.Builder
	s.mu.Lock()
	budget := receiveChunk
	stream := func(name string, data []byte, sent *int) bool {
		n := min(len(data)-*sent, budget)
		if n > 0 {
			b.WriteString(`<rsp:Stream Name="` + name + `" CommandId="` + cmd.id + `">` +
				base64.StdEncoding.EncodeToString(data[*sent:*sent+n]) + `</rsp:Stream>`)
			*sent += n
			budget -= n
		}
		return *sent == len(data)
	}
	outDone := stream("stdout", cmd.stdout, &cmd.sentOut)
	errDone := outDone && stream("stderr", cmd.stderr, &cmd.sentErr)
	if outDone && errDone {
		b.WriteString(`<rsp:Stream Name="stdout" CommandId="` + cmd.id + `" End="true"></rsp:Stream>` +
			`<rsp:Stream Name="stderr" CommandId="` + cmd.id + `" End="true"></rsp:Stream>` +
			`<rsp:CommandState CommandId="` + cmd.id + `" State="` + stateDone + `"><rsp:ExitCode>` +
			strconv.Itoa(cmd.exitCode) + `</rsp:ExitCode></rsp:CommandState>`)
	} else {
		b.WriteString(`<rsp:CommandState CommandId="` + cmd.id + `" State="` + stateRunning + `"></rsp:CommandState>`)
	}
	s.mu.Unlock()
	writeSOAP(w, http.StatusOK, envelope("http://schemas.microsoft.com/wbem/wsman/1/windows/shell/ReceiveResponse", mid,
		`<rsp:ReceiveResponse>`+b.String()+`</rsp:ReceiveResponse>`))
}

// operationTimeout parses an xs:duration such as PT60S or PT60.000S; the
// lab caps it at a minute and defaults to one.
func operationTimeout(s string) time.Duration {
	s = strings.TrimSpace(s)
	if strings.HasPrefix(s, "PT") && strings.HasSuffix(s, "S") {
		if f, err := strconv.ParseFloat(s[2:len(s)-1], 64); err == nil && f > 0 {
			return min(time.Duration(f*float64(time.Second)), time.Minute)
		}
	}
	return time.Minute
}

func (s *Server) signal(sh *shell, req *request, w http.ResponseWriter) {
	mid := req.Header.MessageID
	if req.Body.Signal == nil {
		writeFault(w, mid, faultBadRequest("The Signal request has no Signal element."))
		return
	}
	s.mu.Lock()
	cmd := sh.commands[req.Body.Signal.CommandID]
	if cmd != nil {
		cmd.stop()
	}
	s.mu.Unlock()
	if cmd == nil {
		writeFault(w, mid, faultNoCommand(req.Body.Signal.CommandID))
		return
	}
	writeSOAP(w, http.StatusOK, envelope("http://schemas.microsoft.com/wbem/wsman/1/windows/shell/SignalResponse", mid, `<rsp:SignalResponse></rsp:SignalResponse>`))
}

func (s *Server) deleteShell(host string, sh *shell, req *request, w http.ResponseWriter, r *http.Request) {
	var running []*command
	s.mu.Lock()
	if _, ok := s.shells[sh.id]; ok {
		delete(s.shells, sh.id)
		for _, c := range sh.commands {
			c.stop()
			if c.started {
				running = append(running, c)
			}
		}
		if h := s.hosts[host]; h != nil {
			h.stats.Shells--
		}
	}
	s.mu.Unlock()
	// Deleting a shell ends its processes; answer once they are gone, so a
	// script has either run to its end or not at all.
	for _, c := range running {
		select {
		case <-c.done:
		case <-r.Context().Done():
			return
		case <-s.closing:
			return
		}
	}
	writeSOAP(w, http.StatusOK, envelope("http://schemas.xmlsoap.org/ws/2004/09/transfer/DeleteResponse", req.Header.MessageID, ""))
}
