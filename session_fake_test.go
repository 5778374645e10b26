package emporix

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/require"
)

// fakeClock is a settable clock shared by the client and the store.
type fakeClock struct{ ns atomic.Int64 }

func newFakeClock() *fakeClock {
	c := &fakeClock{}
	c.ns.Store(testNow.UnixNano())
	return c
}

func (c *fakeClock) Now() time.Time          { return time.Unix(0, c.ns.Load()).UTC() }
func (c *fakeClock) Advance(d time.Duration) { c.ns.Add(int64(d)) }

// fakeAuth is a small stateful stand-in for the token endpoints, enough to
// drive sessions: it mints tokens, keeps the session ID across anonymous
// refreshes, rotates customer refresh tokens and revokes on logout.
type fakeAuth struct {
	t     *testing.T
	clock *fakeClock

	mu        sync.Mutex
	seq       int
	anon      map[string]string // anonymous access token → session ID
	anonRT    map[string]string // anonymous refresh token → session ID
	cust      map[string]string // customer access token → session ID
	custRT    map[string]string // customer refresh token → session ID
	legal     map[string]string // customer access token → legal entity
	calls     map[string]int
	queries   map[string][]url.Values
	rejectAll bool // answer every authorized call with a 401

	// custExpiresIn is the customer access token lifetime in seconds.
	custExpiresIn int
	// failRefresh, when set, answers every refresh (anonymous and
	// customer) with this status and an ErrorMessage body.
	failRefresh int

	// refreshGate, when set, blocks refresh answers until closed.
	refreshGate chan struct{}
	// atGate, when set, gets the name of each refresh call as it reaches
	// refreshGate (when the channel has room), so a test waits for that
	// moment instead of polling for it.
	atGate chan string
}

func newFakeAuth(t *testing.T, mt *httpmock.MockTransport, clock *fakeClock) *fakeAuth {
	f := &fakeAuth{t: t, clock: clock, anon: map[string]string{}, anonRT: map[string]string{},
		cust: map[string]string{}, custRT: map[string]string{}, legal: map[string]string{}, calls: map[string]int{},
		queries: map[string][]url.Values{}, custExpiresIn: 2591999}
	route := func(method, path, name string, h func(*http.Request) (int, string)) {
		mt.RegisterResponder(method, testBase+path, func(req *http.Request) (*http.Response, error) {
			var reqBody []byte
			if req.Body != nil {
				reqBody, _ = io.ReadAll(req.Body)
				req.Body = io.NopCloser(bytes.NewReader(reqBody))
			}
			f.mu.Lock()
			f.calls[name]++
			f.queries[name] = append(f.queries[name], req.URL.Query())
			gate, atGate := f.refreshGate, f.atGate
			f.mu.Unlock()
			if gate != nil && strings.Contains(strings.ToLower(name), "refresh") {
				select {
				case atGate <- name:
				default:
				}
				<-gate
			}
			f.mu.Lock()
			status, body := h(req)
			if f.failRefresh != 0 && strings.Contains(strings.ToLower(name), "refresh") {
				status, body = f.failRefresh, fmt.Sprintf(`{"status":%d,"type":"failure","message":"refresh failed"}`, f.failRefresh)
			}
			f.mu.Unlock()
			resp := httpmock.NewStringResponse(status, body)
			resp.Header.Set("Content-Type", "application/json")
			resp.Request = req
			checkConformance(t, req, reqBody, resp)
			return resp, nil
		})
	}
	route("GET", "/customerlogin/auth/anonymous/login", "anonLogin", f.anonLogin)
	route("GET", "/customerlogin/auth/anonymous/refresh", "anonRefresh", f.anonRefresh)
	route("POST", "/customer/mytenant/login", "login", f.login)
	route("GET", "/customer/mytenant/refreshauthtoken", "custRefresh", f.custRefresh)
	route("GET", "/customer/mytenant/me", "me", f.me)
	route("GET", "/customer/mytenant/logout", "logout", f.logout)
	return f
}

func (f *fakeAuth) count(name string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[name]
}

func (f *fakeAuth) query(name string, i int) url.Values {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.queries[name][i]
}

func (f *fakeAuth) next(prefix string) string {
	f.seq++
	return fmt.Sprintf("%s-%04d", prefix, f.seq)
}

const fault401 = `{"fault":{"faultstring":"Invalid access token","detail":{"errorcode":"oauth.v2.InvalidAccessToken"}}}`

func (f *fakeAuth) anonBody(access, refresh, sessionID string) string {
	return fmt.Sprintf(`{"token_type":"Bearer","access_token":%q,"expires_in":3599,"refresh_token":%q,"refresh_token_expires_in":86399,"sessionId":%q,"scope":"tenant=mytenant"}`,
		access, refresh, sessionID)
}

func (f *fakeAuth) anonLogin(*http.Request) (int, string) {
	sid := f.next("session")
	access, refresh := f.next("anon-at"), f.next("anon-rt")
	f.anon[access], f.anonRT[refresh] = sid, sid
	return 200, f.anonBody(access, refresh, sid)
}

func (f *fakeAuth) anonRefresh(req *http.Request) (int, string) {
	sid, ok := f.anonRT[req.URL.Query().Get("refresh_token")]
	if !ok {
		return 401, fault401
	}
	access := f.next("anon-at")
	f.anon[access] = sid
	return 200, f.anonBody(access, req.URL.Query().Get("refresh_token"), sid)
}

func (f *fakeAuth) bearer(req *http.Request) string {
	return strings.TrimPrefix(req.Header.Get("Authorization"), "Bearer ")
}

func (f *fakeAuth) custBody(access, refresh, sessionID string) string {
	return fmt.Sprintf(`{"access_token":%q,"saas_token":"saas-1","expires_in":%d,"refresh_token":%q,"refresh_token_expires_in":86399,"token_type":"Bearer","session_id":%q,"initialPassword":false}`,
		access, f.custExpiresIn, refresh, sessionID)
}

func (f *fakeAuth) login(req *http.Request) (int, string) {
	sid, ok := f.anon[f.bearer(req)]
	if !ok || f.rejectAll {
		return 401, fault401
	}
	access, refresh := f.next("cust-at"), f.next("cust-rt")
	f.cust[access], f.custRT[refresh] = sid, sid
	return 200, f.custBody(access, refresh, sid)
}

func (f *fakeAuth) custRefresh(req *http.Request) (int, string) {
	if _, ok := f.anon[f.bearer(req)]; !ok {
		return 401, fault401
	}
	old := req.URL.Query().Get("refreshToken")
	sid, ok := f.custRT[old]
	if !ok {
		return 400, `{"status":400,"type":"bad_request","message":"Invalid refresh token."}`
	}
	delete(f.custRT, old) // rotation: the old refresh token is spent
	access, refresh := f.next("cust-at"), f.next("cust-rt")
	f.cust[access], f.custRT[refresh] = sid, sid
	if le := req.URL.Query().Get("legalEntityId"); le != "" {
		f.legal[access] = le
	}
	return 200, fmt.Sprintf(`{"access_token":%q,"expires_in":%d,"refresh_token":%q,"refresh_token_expires_in":86390,"token_type":"Bearer","session_id":%q}`,
		access, f.custExpiresIn, refresh, sid)
}

func (f *fakeAuth) me(req *http.Request) (int, string) {
	tok := f.bearer(req)
	if _, ok := f.cust[tok]; ok && !f.rejectAll {
		return 200, `{"id":"13869000","customerNumber":"13869000","firstName":"John","lastName":"Doe","contactEmail":"john@example.com","metadata":{"version":2}}`
	}
	if _, ok := f.anon[tok]; ok && !f.rejectAll {
		return 200, `{"firstName":"Anonymous","lastName":"Anonymous","customerNumber":"00000000","id":"00000000","accounts":[]}`
	}
	return 401, fault401
}

func (f *fakeAuth) logout(req *http.Request) (int, string) {
	tok := f.bearer(req)
	if _, ok := f.cust[tok]; !ok || req.URL.Query().Get("accessToken") != tok {
		return 401, fault401
	}
	delete(f.cust, tok)
	return 204, ""
}

// revokeCustomerTokens makes the service forget every customer access token,
// as if they had been revoked server-side.
func (f *fakeAuth) revokeCustomerTokens() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.cust = map[string]string{}
}

// sessionHarness is a client, store and manager on the fake.
type sessionHarness struct {
	client  *Client
	clock   *fakeClock
	fake    *fakeAuth
	store   *MemoryStore
	manager *SessionManager
	changes *changeLog
}

type changeLog struct {
	mu   sync.Mutex
	list []SessionChange
}

func (c *changeLog) add(ch SessionChange) {
	c.mu.Lock()
	c.list = append(c.list, ch)
	c.mu.Unlock()
}

func (c *changeLog) all() []SessionChange {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]SessionChange(nil), c.list...)
}

func newSessionHarness(t *testing.T, opts ...SessionOption) *sessionHarness {
	t.Helper()
	clock := newFakeClock()
	mt := httpmock.NewMockTransport()
	c, err := NewClient(testTenant, testClientID, WithHTTPClient(&http.Client{Transport: mt}), WithBaseURL(testBase),
		WithRetryPolicy(RetryPolicy{MaxRetries: 2}), WithClock(clock.Now))
	require.NoError(t, err)
	h := &sessionHarness{client: c, clock: clock, fake: newFakeAuth(t, mt, clock), store: NewMemoryStore(WithStoreClock(clock.Now)), changes: &changeLog{}}
	hook := WithSessionChangeHook(func(_ context.Context, ch SessionChange) { h.changes.add(ch) })
	h.manager, err = NewSessionManager(c, h.store, append([]SessionOption{hook}, opts...)...)
	require.NoError(t, err)
	return h
}
