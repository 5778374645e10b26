package emporixtest

import (
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Request is one logged call, for assertions on what a client sent. The
// log keeps headers and bodies verbatim, Authorization and passwords
// included: every token in it was minted by this fake and is worthless
// anywhere else, and tests need to see which token authorized a call (see
// [Request.Bearer]). Do not log it where real credentials could have been
// sent.
type Request struct {
	// Time is the fake clock's time when the call finished.
	Time time.Time
	// Method is the request's method.
	Method string
	// Path is the request's unescaped path.
	Path string
	// Query holds the query parameters.
	Query url.Values
	// Header holds the request headers.
	Header http.Header
	// Body is the request body.
	Body []byte
	// OperationID is the spec's operationId of the route, or "" when the
	// path matched none (404/405).
	OperationID string
	// Status is the answer's status, or 0 when the connection was dropped
	// (by a fault, or because the client went away during a delay).
	Status int
	// ResponseHeader holds the answer's headers.
	ResponseHeader http.Header
	// ResponseBody is the answer's body.
	ResponseBody []byte
	// Fault tells whether an injected fault affected the call.
	Fault bool
}

// Bearer returns the token of the request's "Authorization: Bearer"
// header, or "".
func (r Request) Bearer() string {
	scheme, tok, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return ""
	}
	return strings.TrimSpace(tok)
}

func (s *Server) record(entry Request) {
	entry.Time = s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.log = append(s.log, entry)
}

// Requests returns the logged calls, oldest first. With targets, only the
// calls matching one of them are returned; a target is an operationId or
// "METHOD /path" as for [Server.InjectFault].
func (s *Server) Requests(targets ...string) []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Request
	for _, r := range s.log {
		if len(targets) == 0 || r.matches(targets) {
			out = append(out, r)
		}
	}
	return out
}

func (r Request) matches(targets []string) bool {
	rt := routeByID[r.OperationID]
	for _, t := range targets {
		f := pendingFault{target: t}
		if f.matches(rt, r.Method, r.Path) {
			return true
		}
	}
	return false
}

// ClearRequests empties the request log.
func (s *Server) ClearRequests() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.log = nil
}
