package emporix_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emporix-go/emporix"
	"github.com/emporix-go/emporix/emporixtest"
	"github.com/stretchr/testify/require"
)

// The operations the session tests count, as the fake logs them.
const (
	anonLoginOp   = "GET-oauth-generate-anonymous-access-token"
	anonRefreshOp = "GET-oauth-refresh-anonymous-access-token"
	custRefreshOp = "GET-customer-refresh-authtoken"
	profileOp     = "GET-customer-retrieve-customer-profile"
	logoutOp      = "GET-customer-logout-customer"
)

// inProcess serves a client's requests with the fake's handler, without a
// network, and counts them.
type inProcess struct {
	h http.Handler
	n atomic.Int64
}

func (p *inProcess) RoundTrip(req *http.Request) (*http.Response, error) {
	p.n.Add(1)
	if req.Body == nil {
		req.Body = http.NoBody
	}
	rec := httptest.NewRecorder()
	p.h.ServeHTTP(rec, req)
	resp := rec.Result()
	resp.Request = req
	return resp, nil
}

// fakeShop is a client on the emporixtest fake, in process and on the
// fake's clock, retrying without waits; a MemoryStore with a manager on it
// (sessions); and the session-change reports of the managers made with it.
type fakeShop struct {
	srv      *emporixtest.Server
	wire     *inProcess
	client   *emporix.Client
	store    *emporix.MemoryStore
	sessions *emporix.SessionManager
	changes  changes
}

// changes collects session-change reports.
type changes struct {
	mu   sync.Mutex
	list []emporix.SessionChange
}

func (c *changes) add(ch emporix.SessionChange) {
	c.mu.Lock()
	c.list = append(c.list, ch)
	c.mu.Unlock()
}

func (c *changes) all() []emporix.SessionChange {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]emporix.SessionChange(nil), c.list...)
}

func newFakeShop(t testing.TB, opts ...emporixtest.Option) *fakeShop {
	t.Helper()
	srv := emporixtest.NewServer(opts...)
	t.Cleanup(srv.Close)
	wire := &inProcess{h: srv.Handler()}
	c, err := emporix.NewClient(srv.Tenant(), srv.ClientID(), append(srv.ClientOptions(),
		emporix.WithHTTPClient(&http.Client{Transport: wire}), emporix.WithRetryPolicy(emporix.RetryPolicy{MaxRetries: 2}))...)
	require.NoError(t, err)
	f := &fakeShop{srv: srv, wire: wire, client: c, store: emporix.NewMemoryStore()}
	f.sessions = f.manager(t, f.store)
	emporix.SetAdoptWait(f.sessions, 10*time.Millisecond) // no other writer to wait for
	return f
}

func (f *fakeShop) manager(t testing.TB, store emporix.TokenStore, opts ...emporix.SessionOption) *emporix.SessionManager {
	t.Helper()
	m, err := emporix.NewSessionManager(f.client, store, append([]emporix.SessionOption{
		emporix.WithSessionChangeHook(func(_ context.Context, ch emporix.SessionChange) { f.changes.add(ch) })}, opts...)...)
	require.NoError(t, err)
	emporix.SetAdoptWait(m, 5*time.Second) // generous under -race; a race that is won ends at once
	return m
}

func (f *fakeShop) customer(t testing.TB, i int) (email, number string) {
	t.Helper()
	email = fmt.Sprintf("shopper%d@example.com", i)
	number, err := f.srv.AddCustomer(email, "password123")
	require.NoError(t, err)
	return email, number
}

// count is how many calls of the operation the fake answered.
func (f *fakeShop) count(op string) int { return len(f.srv.Requests(op)) }

// sent is the query of the i-th call of the operation.
func (f *fakeShop) sent(t *testing.T, op string, i int) map[string][]string {
	t.Helper()
	reqs := f.srv.Requests(op)
	require.Greater(t, len(reqs), i, "%s call %d", op, i)
	return reqs[i].Query
}

// failRefreshes answers every anonymous and customer refresh with status
// until the faults are cleared.
func (f *fakeShop) failRefreshes(status int) {
	for _, op := range []string{anonRefreshOp, custRefreshOp} {
		f.srv.InjectFault(op, emporixtest.Fault{Status: status, Times: 1000})
	}
}

// holdRefreshes holds the next anonymous refresh at the fake until the
// returned release is called (at cleanup at the latest).
func (f *fakeShop) holdRefreshes(t *testing.T) (release func()) {
	gate := make(chan struct{})
	release = sync.OnceFunc(func() { close(gate) })
	t.Cleanup(release)
	f.srv.InjectFault(anonRefreshOp, emporixtest.Fault{Hold: gate})
	return release
}

// loginOnFake logs a new customer in on a fresh session.
func loginOnFake(t *testing.T, f *fakeShop, m *emporix.SessionManager, i int) (s *emporix.Session, number string, tok *emporix.Token) {
	t.Helper()
	email, number := f.customer(t, i)
	s = m.Session(emporix.NewSessionKey())
	tok, err := s.Login(context.Background(), &emporix.LoginRequest{Email: email, Password: "password123"})
	require.NoError(t, err)
	return s, number, tok
}
