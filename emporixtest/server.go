package emporixtest

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"sync"
	"time"
)

// maxBody caps how much of a request body the server reads.
const maxBody = 1 << 20

// Server is an in-process fake of the Emporix Customer Service (customer
// managed), plus the two employee operations a storefront needs around
// sign-up. Create one with [NewServer] and point a client at [Server.URL].
// All methods are safe for concurrent use, also while requests are served.
type Server struct {
	cfg   config
	http  *httptest.Server
	clock clock

	closeOnce sync.Once
	closed    chan struct{}

	// mu guards everything below and the mutable parts of cfg (lifetimes,
	// signup mode). Handlers run with it held; network I/O never does.
	mu     sync.Mutex
	st     *state
	faults []*pendingFault
	log    []Request
}

// NewServer starts a fake Emporix service on a loopback port and returns
// it. It works outside tests as well (the SDK's quickstart runs on it).
// Call [Server.Close] when done.
func NewServer(opts ...Option) *Server {
	cfg := defaultConfig()
	for _, opt := range opts {
		if opt != nil {
			opt(&cfg)
		}
	}
	s := &Server{cfg: cfg, closed: make(chan struct{})}
	s.clock.set(cfg.start)
	s.st = newState(cfg)
	s.http = httptest.NewServer(http.HandlerFunc(s.serveHTTP))
	return s
}

// URL returns the base URL of the fake, such as http://127.0.0.1:41235,
// without a trailing slash. Use it where the real service has
// https://api.emporix.io.
func (s *Server) URL() string { return s.http.URL }

// Client returns an HTTP client configured for the server, like
// httptest.Server.Client.
func (s *Server) Client() *http.Client { return s.http.Client() }

// Handler returns the fake's HTTP handler, to serve requests in process
// (a RoundTripper that calls it with a ResponseRecorder) in tests that send
// many requests. Faults that drop the connection need the network.
func (s *Server) Handler() http.Handler { return http.HandlerFunc(s.serveHTTP) }

// Tenant returns the tenant the fake serves. Requests for any other tenant
// are answered with 400 "The tenant information provided with the request
// is not valid.".
func (s *Server) Tenant() string { return s.cfg.tenant }

// ClientID returns the storefront client ID that anonymous login and
// refresh accept.
func (s *Server) ClientID() string { return s.cfg.clientID }

// ServiceClientID returns the client ID of the service credentials that
// POST /oauth/token accepts.
func (s *Server) ServiceClientID() string { return s.cfg.serviceID }

// ServiceClientSecret returns the client secret of the service credentials
// that POST /oauth/token accepts.
func (s *Server) ServiceClientSecret() string { return s.cfg.serviceSecret }

// Close shuts the server down, interrupting injected delays, and blocks
// until all outstanding requests have completed.
func (s *Server) Close() {
	s.closeOnce.Do(func() { close(s.closed) })
	s.http.Close()
}

// serveHTTP is the request pipeline: read, route, log, inject faults,
// authorize and handle.
func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil {
		http.Error(w, "cannot read request body", http.StatusBadRequest)
		return
	}
	c := &call{req: r, body: body, query: r.URL.Query()}
	rt, params, miss := match(r)
	c.route, c.params = rt, params

	// The log shares the parsed query with the handlers, which only read it.
	entry := Request{
		Method: r.Method, Path: r.URL.Path, Query: c.query,
		Header: r.Header.Clone(), Body: bytes.Clone(body),
	}
	if rt != nil {
		entry.OperationID = rt.ID
	}

	if miss != nil {
		s.finish(w, entry, *miss)
		return
	}
	if len(body) > maxBody {
		s.finish(w, entry, errReply(http.StatusRequestEntityTooLarge, "payload_too_large", "The request body is too large."))
		return
	}

	s.mu.Lock()
	f := s.takeFault(rt, r.Method, r.URL.Path)
	s.mu.Unlock()

	if f != nil {
		entry.Fault = true
		if !s.hold(r, f) {
			s.logDropped(entry)
			return
		}
		if !f.Commit {
			if f.Drop {
				s.logDropped(entry)
				hijackAndClose(w)
				return
			}
			if f.Status != 0 {
				s.finish(w, entry, f.reply())
				return
			}
		}
	}

	s.mu.Lock()
	rep := s.handle(c)
	s.mu.Unlock()

	if f != nil && f.Commit {
		if f.Drop {
			s.logDropped(entry)
			hijackAndClose(w)
			return
		}
		if f.Status != 0 {
			rep = f.reply()
		}
	}
	s.finish(w, entry, rep)
}

// handle authorizes and runs the operation. It runs with s.mu held.
func (s *Server) handle(c *call) reply {
	if rep, ok := s.authorize(c); !ok {
		return rep
	}
	if t, ok := c.params["tenant"]; ok && t != s.cfg.tenant {
		if c.route.cart() {
			return cartError(http.StatusBadRequest, "The tenant information provided with the request is not valid.")
		}
		return invalidTenant()
	}
	return c.route.handler(s, c)
}

// finish writes the reply and logs the exchange.
func (s *Server) finish(w http.ResponseWriter, entry Request, rep reply) {
	h := w.Header()
	for k, v := range rep.header {
		h[k] = v
	}
	if len(rep.body) > 0 && h.Get("Content-Type") == "" {
		h.Set("Content-Type", "application/json")
	}
	h.Set("Content-Length", strconv.Itoa(len(rep.body)))
	w.WriteHeader(rep.status)
	_, _ = w.Write(rep.body)

	entry.Status = rep.status
	entry.ResponseHeader = h.Clone()
	entry.ResponseBody = bytes.Clone(rep.body)
	s.record(entry)
}

func (s *Server) logDropped(entry Request) {
	entry.Status = 0
	s.record(entry)
}

// sleep waits d of real time. It reports false when the client went away
// or the server is closing.
func (s *Server) sleep(r *http.Request, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-r.Context().Done():
		return false
	case <-s.closed:
		return false
	}
}

// hijackAndClose drops the connection without an answer.
func hijackAndClose(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		// Not reachable with the HTTP/1.1 test server; abort the handler
		// so that the client at least gets no well-formed answer.
		panic(http.ErrAbortHandler)
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	_ = conn.Close()
}

// call is one request being handled.
type call struct {
	req    *http.Request
	route  *route
	params map[string]string
	query  url.Values
	body   []byte
	token  *accessToken // the authorized bearer, if the operation needs one
}

// param returns a path parameter.
func (c *call) param(name string) string { return c.params[name] }
