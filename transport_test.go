package emporix_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emporix-go/emporix"
	"github.com/emporix-go/emporix/emporixtest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// shop is a fake Emporix tenant with a session manager on it.
type shop struct {
	srv *emporixtest.Server
	m   *emporix.SessionManager
}

func newShop(t *testing.T, opts ...emporixtest.Option) *shop {
	t.Helper()
	srv := emporixtest.NewServer(opts...)
	t.Cleanup(srv.Close)
	c, err := emporix.NewClient(srv.Tenant(), srv.ClientID(), emporix.WithBaseURL(srv.URL()),
		emporix.WithClock(srv.Now), emporix.WithNoRetries())
	require.NoError(t, err)
	m, err := emporix.NewSessionManager(c, emporix.NewMemoryStore(emporix.WithStoreClock(srv.Now)))
	require.NoError(t, err)
	return &shop{srv: srv, m: m}
}

// customerSession returns a session with a signed-up customer logged in.
func (s *shop) customerSession(t *testing.T, ctx context.Context) *emporix.Session {
	t.Helper()
	_, err := s.srv.AddCustomer("jane@example.com", "password123")
	require.NoError(t, err)
	sess := s.m.Session(emporix.NewSessionKey())
	_, err = sess.Login(ctx, &emporix.LoginRequest{Email: "jane@example.com", Password: "password123"})
	require.NoError(t, err)
	return sess
}

// loggedIn is customerSession with the customer's token.
func (s *shop) loggedIn(t *testing.T, ctx context.Context) (*emporix.Session, *emporix.Token) {
	t.Helper()
	sess := s.customerSession(t, ctx)
	tok, err := sess.Token(ctx)
	require.NoError(t, err)
	return sess, tok
}

// getMe sends GET /me through hc and returns the status and body.
func (s *shop) getMe(t *testing.T, ctx context.Context, hc *http.Client) (int, string) {
	t.Helper()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.url("/me"), nil)
	return send(t, hc, req)
}

func (s *shop) url(path string) string { return s.srv.URL() + "/customer/" + s.srv.Tenant() + path }

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// send makes a request with the session's HTTP client and returns the
// status and body.
func send(t *testing.T, hc *http.Client, req *http.Request) (int, string) {
	t.Helper()
	resp, err := hc.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(body)
}

func TestTransportHeadersPerState(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	s := newShop(t)
	sess := s.m.Session(emporix.NewSessionKey())
	hc := sess.HTTPClient()

	// A guest: the anonymous token and the session ID.
	status, _ := s.getMe(t, ctx, hc)
	require.Equal(t, 200, status)
	anon, err := sess.AnonymousToken(ctx)
	require.NoError(t, err)
	got := s.srv.Requests(opProfileGet)
	require.Len(t, got, 1)
	assert.Equal(t, "Bearer "+string(anon.AccessToken), got[0].Header.Get("Authorization"))
	assert.Equal(t, anon.SessionID, got[0].Header.Get("session-id"))
	assert.NotEmpty(t, anon.SessionID)
	assert.Empty(t, got[0].Header.Values("saas-token"))

	// Logged in: the customer token and its SaaS token, no session-id.
	_, err = s.srv.AddCustomer("jane@example.com", "password123")
	require.NoError(t, err)
	cust, err := sess.Login(ctx, &emporix.LoginRequest{Email: "jane@example.com", Password: "password123"})
	require.NoError(t, err)
	require.NotEmpty(t, cust.SaasToken)
	s.srv.ClearRequests()
	status, _ = s.getMe(t, ctx, hc)
	require.Equal(t, 200, status)
	got = s.srv.Requests(opProfileGet)
	require.Len(t, got, 1)
	assert.Equal(t, "Bearer "+string(cust.AccessToken), got[0].Header.Get("Authorization"))
	assert.Equal(t, string(cust.SaasToken), got[0].Header.Get("saas-token"))
	assert.Empty(t, got[0].Header.Values("session-id"))

	// Forced anonymous while logged in.
	s.srv.ClearRequests()
	req, _ := http.NewRequestWithContext(emporix.WithTokenKind(ctx, emporix.KindAnonymous), http.MethodGet, s.url("/me"), nil)
	status, _ = send(t, hc, req)
	require.Equal(t, 200, status)
	got = s.srv.Requests(opProfileGet)
	require.Len(t, got, 1)
	assert.Equal(t, "Bearer "+string(anon.AccessToken), got[0].Header.Get("Authorization"))
	assert.Equal(t, anon.SessionID, got[0].Header.Get("session-id"))
	assert.Empty(t, got[0].Header.Values("saas-token"))

	// Headers the caller set are left alone, the request is not modified.
	s.srv.ClearRequests()
	req, _ = http.NewRequestWithContext(ctx, http.MethodGet, s.url("/me"), nil)
	req.Header.Set("saas-token", "callers-own")
	req.Header["session-id"] = []string{"callers-session"} // not canonical on purpose
	before := req.Header.Clone()
	send(t, hc, req)
	got = s.srv.Requests(opProfileGet)
	require.Len(t, got, 1)
	assert.Equal(t, "Bearer "+string(cust.AccessToken), got[0].Header.Get("Authorization"))
	assert.Equal(t, []string{"callers-own"}, got[0].Header.Values("saas-token"))
	assert.Equal(t, []string{"callers-session"}, got[0].Header.Values("session-id"))
	assert.Equal(t, before, req.Header, "the caller's request was modified")
	assert.Empty(t, req.Header.Get("Authorization"))
}

func TestTransportKindErrorsSendNothing(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	s := newShop(t)
	sess := s.m.Session(emporix.NewSessionKey())
	for kind, want := range map[emporix.TokenKind]error{
		emporix.KindCustomer: emporix.ErrCustomerTokenRequired,
		emporix.KindService:  emporix.ErrInvalidInput,
	} {
		req, _ := http.NewRequestWithContext(emporix.WithTokenKind(ctx, kind), http.MethodGet, s.url("/me"), nil)
		_, err := sess.HTTPClient().Do(req)
		require.ErrorIs(t, err, want, kind.String())
	}
	assert.Empty(t, s.srv.Requests(opProfileGet))
}

func TestTransportCallerAuthorizationIsNotTheSessions(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	s := newShop(t)
	sess := s.m.Session(emporix.NewSessionKey())
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.url("/me"), nil)
	req.Header.Set("Authorization", "Bearer not-a-token")
	status, _ := send(t, sess.HTTPClient(), req)
	assert.Equal(t, 401, status)
	got := s.srv.Requests(opProfileGet)
	require.Len(t, got, 1, "a 401 to the caller's own token is not replayed")
	assert.Equal(t, "Bearer not-a-token", got[0].Header.Get("Authorization"))
	assert.Empty(t, s.srv.Requests(opAnonRefresh))
}

func TestTransportReplaysOnceWithTheSameBody(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	s := newShop(t)
	sess, old := s.loggedIn(t, ctx)
	require.True(t, s.srv.RevokeToken(string(old.AccessToken)))

	body := []byte(`{"firstName":"Jim","lastName":"Doe"}`)
	req, _ := http.NewRequestWithContext(ctx, http.MethodPatch, s.url("/me"), bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	require.NotNil(t, req.GetBody)
	status, resp := send(t, sess.HTTPClient(), req)
	require.Equal(t, 200, status, resp)

	got := s.srv.Requests(opProfilePatch)
	require.Len(t, got, 2)
	assert.Equal(t, 401, got[0].Status)
	assert.Equal(t, body, got[0].Body)
	assert.Equal(t, body, got[1].Body, "the replay's body differs")
	assert.Equal(t, "Bearer "+string(old.AccessToken), got[0].Header.Get("Authorization"))
	renewed, err := sess.Token(ctx)
	require.NoError(t, err)
	assert.NotEqual(t, old.AccessToken, renewed.AccessToken)
	assert.Equal(t, "Bearer "+string(renewed.AccessToken), got[1].Header.Get("Authorization"))
	assert.Equal(t, string(renewed.SaasToken), got[1].Header.Get("saas-token"))
	assert.Len(t, s.srv.Requests(opRefresh), 1)
}

func TestTransportDoesNotReplayABodyItCannotReread(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	s := newShop(t)
	sess, old := s.loggedIn(t, ctx)
	require.True(t, s.srv.RevokeToken(string(old.AccessToken)))

	req, _ := http.NewRequestWithContext(ctx, http.MethodPatch, s.url("/me"),
		io.NopCloser(strings.NewReader(`{"firstName":"Jim"}`))) // no GetBody
	req.Header.Set("Content-Type", "application/json")
	require.Nil(t, req.GetBody)
	status, resp := send(t, sess.HTTPClient(), req)
	assert.Equal(t, 401, status)
	assert.Contains(t, resp, "oauth.v2.InvalidAccessToken", "the 401 is returned as it came, body intact")
	assert.Len(t, s.srv.Requests(opProfilePatch), 1)
	// The rejected token was still renewed, so the next request works.
	assert.Len(t, s.srv.Requests(opRefresh), 1)
	status, _ = s.getMe(t, ctx, sess.HTTPClient())
	assert.Equal(t, 200, status)
}

func TestTransportReturnsASecond401(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	s := newShop(t)
	sess := s.m.Session(emporix.NewSessionKey())
	_, err := sess.AnonymousToken(ctx)
	require.NoError(t, err)
	s.srv.InjectFault(opProfileGet, emporixtest.Fault{Status: 401, Times: 3})
	status, resp := s.getMe(t, ctx, sess.HTTPClient())
	assert.Equal(t, 401, status)
	assert.Contains(t, resp, "Invalid access token")
	assert.Len(t, s.srv.Requests(opProfileGet), 2, "one replay, never a loop")
	assert.Len(t, s.srv.Requests(opAnonRefresh), 1)
	assert.Equal(t, 1, s.srv.PendingFaults())
}

func TestTransportIgnoresA401ThatDoesNotRejectTheToken(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	s := newShop(t)
	sess := s.m.Session(emporix.NewSessionKey())
	_, err := sess.AnonymousToken(ctx)
	require.NoError(t, err)
	s.srv.InjectFault(opProfileGet, emporixtest.Fault{Status: 401,
		Body: `{"status":401,"type":"unauthorized","message":"Wrong credentials."}`})
	status, resp := s.getMe(t, ctx, sess.HTTPClient())
	assert.Equal(t, 401, status)
	assert.JSONEq(t, `{"status":401,"type":"unauthorized","message":"Wrong credentials."}`, resp)
	assert.Len(t, s.srv.Requests(opProfileGet), 1)
	assert.Empty(t, s.srv.Requests(opAnonRefresh))
}

// recordingTransport answers every request itself and keeps a copy of it.
type recordingTransport struct {
	mu     sync.Mutex
	seen   []*http.Request
	answer func(*http.Request) *http.Response
}

func (rt *recordingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body != nil {
		_ = req.Body.Close()
	}
	rt.mu.Lock()
	rt.seen = append(rt.seen, req.Clone(context.Background()))
	rt.mu.Unlock()
	if rt.answer != nil {
		return rt.answer(req), nil
	}
	return answer(req, 200, "", nil), nil
}

func answer(req *http.Request, status int, body string, h http.Header) *http.Response {
	if h == nil {
		h = http.Header{}
	}
	return &http.Response{StatusCode: status, Header: h, Body: io.NopCloser(strings.NewReader(body)),
		ContentLength: int64(len(body)), Request: req, ProtoMajor: 1, ProtoMinor: 1}
}

func sessionHeaders(h http.Header) []string {
	var out []string
	for _, name := range []string{"Authorization", "session-id", "saas-token"} {
		if len(h.Values(name)) > 0 {
			out = append(out, name)
		}
	}
	return out
}

func TestTransportSendsTokensOnlyToTheEmporixHost(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	s := newShop(t)
	sess := s.customerSession(t, ctx)
	base, err := url.Parse(s.srv.URL())
	require.NoError(t, err)
	rt := &recordingTransport{}
	hc := &http.Client{Transport: sess.Transport(rt)}

	port := base.Port()
	for target, wantTokens := range map[string]bool{
		"http://" + base.Host + "/cart/x":                               true,
		"HTTP://" + strings.ToUpper(base.Hostname()) + ":" + port + "/": true,
		"https://" + base.Host + "/cart/x":                              false, // another scheme
		"http://" + base.Hostname() + ":1/cart/x":                       false, // another port
		"http://" + base.Hostname() + "/cart/x":                         false, // the default port
		"http://api.example.com:" + port + "/cart/x":                    false, // another host
		"http://" + base.Hostname() + ".evil.example:" + port + "/cart": false,
	} {
		rt.seen = nil
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
		require.NoError(t, err)
		resp, err := hc.Do(req)
		require.NoError(t, err, target)
		resp.Body.Close()
		require.Len(t, rt.seen, 1)
		if wantTokens {
			assert.Equal(t, []string{"Authorization", "saas-token"}, sessionHeaders(rt.seen[0].Header), target)
		} else {
			assert.Empty(t, sessionHeaders(rt.seen[0].Header), target)
		}
	}
}

func TestTransportNoTokenToAForeignServerOrAcrossARedirect(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	s := newShop(t)
	sess := s.m.Session(emporix.NewSessionKey())

	var foreignSaw atomic.Pointer[http.Header]
	foreign := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := r.Header.Clone()
		foreignSaw.Store(&h)
		_, _ = io.WriteString(w, "ok")
	}))
	defer foreign.Close()

	// A real foreign server, through the session's HTTP client.
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, foreign.URL+"/cart", nil)
	status, _ := send(t, sess.HTTPClient(), req)
	require.Equal(t, 200, status)
	require.NotNil(t, foreignSaw.Load())
	assert.Empty(t, sessionHeaders(*foreignSaw.Load()))

	// The Emporix host redirects off-host: a client that follows redirects
	// sends the next hop without the session's headers.
	rt := &recordingTransport{answer: func(r *http.Request) *http.Response {
		if r.URL.Host == foreign.Listener.Addr().String() {
			return answer(r, 200, "landed", nil)
		}
		return answer(r, http.StatusFound, "", http.Header{"Location": {foreign.URL + "/landing"}})
	}}
	follows := &http.Client{Transport: sess.Transport(rt)}
	req, _ = http.NewRequestWithContext(ctx, http.MethodGet, s.srv.URL()+"/cart/x", nil)
	status, body := send(t, follows, req)
	require.Equal(t, 200, status)
	require.Equal(t, "landed", body)
	require.Len(t, rt.seen, 2)
	assert.Equal(t, []string{"Authorization", "session-id"}, sessionHeaders(rt.seen[0].Header))
	assert.Empty(t, sessionHeaders(rt.seen[1].Header), "the redirect carried the session's headers off-host")

	// The session's own HTTP client, like the SDK's, does not follow.
	rt.seen = nil
	hc := sess.HTTPClient()
	hc.Transport = sess.Transport(rt)
	req, _ = http.NewRequestWithContext(ctx, http.MethodGet, s.srv.URL()+"/cart/x", nil)
	status, _ = send(t, hc, req)
	assert.Equal(t, http.StatusFound, status)
	assert.Len(t, rt.seen, 1)
}

func TestTransportTokenFailureSendsNothing(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	s := newShop(t)
	sess := s.m.Session(emporix.NewSessionKey())
	s.srv.InjectFault(opAnonLogin, emporixtest.Fault{Status: 503, Times: 1})
	rt := &recordingTransport{}
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, s.srv.URL()+"/cart/x", strings.NewReader("{}"))
	_, err := (&http.Client{Transport: sess.Transport(rt)}).Do(req)
	var te *emporix.TokenError
	require.ErrorAs(t, err, &te)
	assert.ErrorIs(t, err, emporix.ErrServer)
	assert.Empty(t, rt.seen)
}

// TestTransportHerdOneRefresh: 1,000 concurrent requests through the
// transport on a session whose token has expired cause exactly one
// refresh, and so do 1,000 requests whose token the service rejects.
func TestTransportHerdOneRefresh(t *testing.T) {
	t.Parallel()
	const herd = 1000
	run := func(t *testing.T, hc *http.Client, target string) {
		t.Helper()
		ctx := testCtx(t)
		var wg sync.WaitGroup
		errs := make(chan error, herd)
		for range herd {
			wg.Add(1)
			go func() {
				defer wg.Done()
				req, _ := http.NewRequestWithContext(ctx, http.MethodPost, target, strings.NewReader(`{"quantity":1}`))
				resp, err := hc.Do(req)
				if err != nil {
					errs <- err
					return
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 {
					errs <- errors.New(resp.Status)
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
	}

	t.Run("expired", func(t *testing.T) {
		ctx := testCtx(t)
		s := newShop(t)
		sess := s.m.Session(emporix.NewSessionKey())
		old, err := sess.AnonymousToken(ctx)
		require.NoError(t, err)
		s.srv.Advance(s.srv.Lifetimes().AnonymousAccess + time.Second)
		var sent atomic.Int64
		rt := &recordingTransport{answer: func(r *http.Request) *http.Response {
			sent.Add(1)
			if r.Header.Get("Authorization") == "Bearer "+string(old.AccessToken) {
				return answer(r, 401, `{"fault":{"faultstring":"Access Token expired","detail":{"errorcode":"keymanagement.service.access_token_expired"}}}`, nil)
			}
			return answer(r, 200, "{}", nil)
		}}
		run(t, &http.Client{Transport: sess.Transport(rt)}, s.srv.URL()+"/cart/x/items")
		assert.Len(t, s.srv.Requests(opAnonRefresh), 1)
		assert.Empty(t, s.srv.Requests(opAnonLogin)[1:], "a new anonymous session was started")
		assert.EqualValues(t, herd, sent.Load(), "no request went out with the expired token")
	})

	t.Run("customer expired", func(t *testing.T) {
		ctx := testCtx(t)
		s := newShop(t, emporixtest.WithLifetimes(emporixtest.Lifetimes{CustomerAccess: time.Minute}))
		sess, old := s.loggedIn(t, ctx)
		s.srv.Advance(2 * time.Minute) // the customer token has expired; the anonymous one lives on
		rt := &recordingTransport{answer: func(r *http.Request) *http.Response {
			if r.Header.Get("Authorization") == "Bearer "+string(old.AccessToken) || r.Header.Get("saas-token") == "" {
				return answer(r, 401, `{"fault":{"faultstring":"Access Token expired","detail":{"errorcode":"keymanagement.service.access_token_expired"}}}`, nil)
			}
			return answer(r, 200, "{}", nil)
		}}
		run(t, &http.Client{Transport: sess.Transport(rt)}, s.srv.URL()+"/cart/x/items")
		assert.Len(t, s.srv.Requests(opRefresh), 1)
		assert.Empty(t, s.srv.Requests(opAnonRefresh))
	})

	t.Run("rejected", func(t *testing.T) {
		ctx := testCtx(t)
		s := newShop(t)
		sess, old := s.loggedIn(t, ctx)
		var rejected atomic.Int64
		rt := &recordingTransport{answer: func(r *http.Request) *http.Response {
			if r.Header.Get("Authorization") == "Bearer "+string(old.AccessToken) {
				rejected.Add(1)
				return answer(r, 401, `{"fault":{"faultstring":"Invalid access token","detail":{"errorcode":"oauth.v2.InvalidAccessToken"}}}`, nil)
			}
			return answer(r, 200, "{}", nil)
		}}
		run(t, &http.Client{Transport: sess.Transport(rt)}, s.srv.URL()+"/cart/x/items")
		assert.Len(t, s.srv.Requests(opRefresh), 1)
		assert.Positive(t, rejected.Load())
	})
}
