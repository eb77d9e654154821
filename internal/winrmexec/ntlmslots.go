package winrmexec

import (
	"net/http"
	"sync"
)

// ntlmSlots keeps NTLM over HTTPS on connections a request owns. NTLM
// authenticates a connection, not a request: the negotiate and authenticate
// legs must travel on one TCP connection ([MS-NLMP] 1.3.1.1; HTTP.sys answers
// 401 otherwise). One shared http.Transport may hand the legs of concurrent
// handshakes different pooled connections, so each slot is a transport with a
// single connection, and a request holds its slot for its whole round trip,
// handshake included. The slots bound concurrency per host as the shell limit
// does, and an authenticated connection stays with its slot for reuse. Free
// slots are taken last-in first-out, so serial requests keep to one
// connection and pay one handshake.
type ntlmSlots struct {
	free       chan struct{} // one token per free slot
	mu         sync.Mutex
	idle       []http.RoundTripper // free slots, most recently used last
	transports []*http.Transport
}

func newNTLMSlots(base *http.Transport, n int, wrap func(http.RoundTripper) http.RoundTripper) *ntlmSlots {
	if n < 1 {
		n = 1
	}
	s := &ntlmSlots{free: make(chan struct{}, n)}
	for range n {
		t := base.Clone()
		t.MaxConnsPerHost = 1 // a later request on this slot waits for the connection, never opens a second one mid-handshake
		t.MaxIdleConnsPerHost = 1
		s.transports = append(s.transports, t)
		s.idle = append(s.idle, wrap(t))
		s.free <- struct{}{}
	}
	return s
}

func (s *ntlmSlots) RoundTrip(r *http.Request) (*http.Response, error) {
	select {
	case <-s.free:
	case <-r.Context().Done():
		return nil, r.Context().Err()
	}
	s.mu.Lock()
	rt := s.idle[len(s.idle)-1]
	s.idle = s.idle[:len(s.idle)-1]
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.idle = append(s.idle, rt)
		s.mu.Unlock()
		s.free <- struct{}{}
	}()
	return rt.RoundTrip(r)
}

// CloseIdleConnections closes the idle connection of every slot.
func (s *ntlmSlots) CloseIdleConnections() {
	for _, t := range s.transports {
		t.CloseIdleConnections()
	}
}
