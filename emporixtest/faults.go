package emporixtest

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Fault replaces the answer to the next matching calls; see
// [Server.InjectFault]. A Fault with only Delay or Hold set slows or holds
// calls without changing them.
type Fault struct {
	// Status is the status to answer with; 0 keeps the real answer (useful
	// with Delay alone).
	Status int
	// Body is the raw body to answer with. When empty, a JSON body
	// matching Status is used: the gateway's "Invalid access token" fault
	// for 401, an ErrorMessage otherwise.
	Body string
	// Header holds extra response headers.
	Header http.Header
	// RetryAfter, when positive, sets the Retry-After header in whole
	// seconds (rounded up).
	RetryAfter time.Duration
	// Drop closes the connection without answering (the handler hijacks
	// and closes it), so the client sees a transport error.
	Drop bool
	// Delay waits this long (real time, not the fake clock) before
	// answering. A client that gives up first sees its own timeout.
	Delay time.Duration
	// Hold, when not nil, holds each matching call (after Delay) until the
	// channel is closed, the client goes away or the server closes; the
	// rest of the Fault applies after. A held call has taken its fault
	// already, so [Server.PendingFaults] tells when it has arrived.
	Hold <-chan struct{}
	// Commit lets the operation take effect before Status or Drop replaces
	// its answer: the service acted, but the client does not learn it.
	// Without Commit, a faulted call changes nothing.
	Commit bool
	// Times is how many matching calls the fault affects; 0 means 1.
	Times int
}

type pendingFault struct {
	Fault
	target string
	left   int
}

// InjectFault makes the next f.Times calls that match target fail as f
// describes. target is an operationId of the spec, such as
// "POST-customer-authenticate-customer", or a method and path, either the
// spec's template ("PATCH /customer/{tenant}/me") or a concrete path
// ("GET /customer/mytenant/me/addresses/b05c20e034"). Faults on the same
// target apply in the order injected. It panics on an operationId the
// server does not serve, so a typo cannot silently disable a test, and on
// a Status net/http cannot send (other than 0, below 100 or above 999),
// which would otherwise crash the faulted call's handler.
//
// A dropped idempotent request (GET, for example) may be retried by
// net/http's transport on its own when it went out on a reused
// connection; that retry counts as another call.
func (s *Server) InjectFault(target string, f Fault) {
	if !strings.Contains(target, " ") && routeByID[target] == nil {
		panic(fmt.Sprintf("emporixtest: InjectFault: unknown operationId %q", target))
	}
	if f.Status != 0 && (f.Status < 100 || f.Status > 999) {
		panic(fmt.Sprintf("emporixtest: InjectFault: status %d is not an HTTP status", f.Status))
	}
	n := f.Times
	if n <= 0 {
		n = 1
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, &pendingFault{Fault: f, target: target, left: n})
}

// ClearFaults removes all pending faults.
func (s *Server) ClearFaults() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = nil
}

// PendingFaults returns how many faulted calls are still to come.
func (s *Server) PendingFaults() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, f := range s.faults {
		n += f.left
	}
	return n
}

// takeFault consumes the first pending fault matching the call. It runs
// with s.mu held.
func (s *Server) takeFault(rt *route, method, path string) *Fault {
	for i, f := range s.faults {
		if !f.matches(rt, method, path) {
			continue
		}
		f.left--
		if f.left == 0 {
			s.faults = append(s.faults[:i:i], s.faults[i+1:]...)
		}
		out := f.Fault
		return &out
	}
	return nil
}

func (f *pendingFault) matches(rt *route, method, path string) bool {
	if rt != nil && (f.target == rt.ID || f.target == rt.Pattern()) {
		return true
	}
	return f.target == method+" "+path
}

// reply is the answer the fault gives instead of the real one.
func (f *Fault) reply() reply {
	rep := reply{status: f.Status, header: http.Header{}}
	for k, v := range f.Header {
		rep.header[k] = append([]string(nil), v...)
	}
	if f.RetryAfter > 0 {
		secs := (f.RetryAfter + time.Second - 1) / time.Second
		rep.header.Set("Retry-After", strconv.Itoa(int(secs)))
	}
	switch {
	case f.Body != "":
		rep.body = []byte(f.Body)
	case f.Status == http.StatusUnauthorized:
		rep.body = invalidToken().body
	default:
		typ := errorType(http.StatusText(f.Status))
		rep.body = errReply(f.Status, typ, "Injected fault: "+strconv.Itoa(f.Status)+" "+http.StatusText(f.Status)+".").body
	}
	return rep
}

// errorType turns a status text into an ErrorMessage type such as
// "service_unavailable".
func errorType(text string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(text) {
		switch {
		case r >= 'a' && r <= 'z':
			b.WriteRune(r)
		case r == ' ' || r == '-':
			b.WriteByte('_')
		}
	}
	if b.Len() == 0 {
		return "error"
	}
	return b.String()
}

// hold waits as f asks before a faulted call goes on: Delay of real time,
// then until Hold is closed. It reports false when the client went away or
// the server is closing.
func (s *Server) hold(r *http.Request, f *Fault) bool {
	if f.Delay > 0 && !s.sleep(r, f.Delay) {
		return false
	}
	if f.Hold == nil {
		return true
	}
	select {
	case <-f.Hold:
		return true
	case <-r.Context().Done():
		return false
	case <-s.closed:
		return false
	}
}
