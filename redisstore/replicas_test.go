package redisstore

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emporix-go/emporix"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fakeTokenService is a small stand-in for the Emporix token endpoints,
// served over loopback HTTP: it mints tokens, keeps the session ID across
// anonymous refreshes, rotates customer refresh tokens (a spent one is
// refused) and counts the requests per endpoint.
type fakeTokenService struct {
	*httptest.Server

	mu     sync.Mutex
	seq    int
	anon   map[string]string // anonymous access token → session ID
	anonRT map[string]string // anonymous refresh token → session ID
	custRT map[string]string // customer refresh token → session ID
	calls  map[string]int
	gate   chan struct{} // when set, refresh answers wait until it is closed
}

func newFakeTokenService(t *testing.T) *fakeTokenService {
	f := &fakeTokenService{anon: map[string]string{}, anonRT: map[string]string{}, custRT: map[string]string{}, calls: map[string]int{}}
	mux := http.NewServeMux()
	handle := func(pattern, name string, h func(*http.Request) (int, any)) {
		mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
			f.mu.Lock()
			f.calls[name]++
			gate := f.gate
			f.mu.Unlock()
			if gate != nil && strings.Contains(name, "Refresh") {
				<-gate
			}
			f.mu.Lock()
			status, body := h(r)
			f.mu.Unlock()
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(status)
			_ = json.NewEncoder(w).Encode(body)
		})
	}
	handle("GET /customerlogin/auth/anonymous/login", "anonLogin", f.anonLogin)
	handle("GET /customerlogin/auth/anonymous/refresh", "anonRefresh", f.anonRefresh)
	handle("POST /customer/mytenant/login", "login", f.login)
	handle("GET /customer/mytenant/refreshauthtoken", "custRefresh", f.custRefresh)
	f.Server = httptest.NewServer(mux)
	t.Cleanup(f.Close)
	return f
}

func (f *fakeTokenService) count(name string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[name]
}

func (f *fakeTokenService) setGate(gate chan struct{}) {
	f.mu.Lock()
	f.gate = gate
	f.mu.Unlock()
}

func (f *fakeTokenService) next(prefix string) string {
	f.seq++
	return fmt.Sprintf("%s%s-%04d", secretMark, prefix, f.seq)
}

var unauthorized = map[string]any{"fault": map[string]any{"faultstring": "Invalid access token",
	"detail": map[string]any{"errorcode": "oauth.v2.InvalidAccessToken"}}}

func (f *fakeTokenService) anonToken(sid, refresh string) map[string]any {
	access := f.next("anon-at")
	f.anon[access] = sid
	return map[string]any{"token_type": "Bearer", "access_token": access, "expires_in": 3599,
		"refresh_token": refresh, "refresh_token_expires_in": 86399, "sessionId": sid, "scope": "tenant=mytenant"}
}

func (f *fakeTokenService) anonLogin(*http.Request) (int, any) {
	f.seq++
	sid := fmt.Sprintf("session-%04d", f.seq)
	refresh := f.next("anon-rt")
	f.anonRT[refresh] = sid
	return http.StatusOK, f.anonToken(sid, refresh)
}

func (f *fakeTokenService) anonRefresh(r *http.Request) (int, any) {
	refresh := r.URL.Query().Get("refresh_token")
	sid, ok := f.anonRT[refresh]
	if !ok {
		return http.StatusUnauthorized, unauthorized
	}
	return http.StatusOK, f.anonToken(sid, refresh)
}

func (f *fakeTokenService) custToken(sid string) map[string]any {
	access, refresh := f.next("cust-at"), f.next("cust-rt")
	f.custRT[refresh] = sid
	return map[string]any{"access_token": access, "saas_token": secretMark + "saas", "expires_in": 2591999,
		"refresh_token": refresh, "refresh_token_expires_in": 86399, "token_type": "Bearer", "session_id": sid}
}

func (f *fakeTokenService) login(r *http.Request) (int, any) {
	sid, ok := f.anon[strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")]
	if !ok {
		return http.StatusUnauthorized, unauthorized
	}
	return http.StatusOK, f.custToken(sid)
}

func (f *fakeTokenService) custRefresh(r *http.Request) (int, any) {
	if _, ok := f.anon[strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")]; !ok {
		return http.StatusUnauthorized, unauthorized
	}
	old := r.URL.Query().Get("refreshToken")
	sid, ok := f.custRT[old]
	if !ok {
		return http.StatusBadRequest, map[string]any{"status": 400, "type": "bad_request", "message": "Invalid refresh token."}
	}
	delete(f.custRT, old) // rotation: the old refresh token is spent
	return http.StatusOK, f.custToken(sid)
}

// replica is one storefront process: its own client, store and manager.
type replica struct {
	manager *emporix.SessionManager
	store   *Store
}

func newReplica(t *testing.T, f *fakeTokenService, store *Store) *replica {
	t.Helper()
	c, err := emporix.NewClient(testTenant, "storefront", emporix.WithBaseURL(f.URL))
	require.NoError(t, err)
	m, err := emporix.NewSessionManager(c, store, emporix.WithSessionChangeHook(func(_ context.Context, ch emporix.SessionChange) {
		t.Errorf("unexpected session change: %s → %s (%s)", ch.OldSessionID, ch.NewSessionID, ch.Reason)
	}))
	require.NoError(t, err)
	return &replica{manager: m, store: store}
}

// expire rewrites the stored session so that its anonymous or customer
// access token has just expired, its refresh token still valid.
func expire(t *testing.T, s *Store, key string, customer bool) *emporix.Token {
	t.Helper()
	ctx := context.Background()
	st, v, err := s.Load(ctx, key)
	require.NoError(t, err)
	next := &emporix.SessionState{Anonymous: st.Anonymous, Customer: st.Customer}
	target := &next.Anonymous
	if customer {
		target = &next.Customer
	}
	tok := **target
	now := time.Now()
	tok.IssuedAt, tok.Expiry = now.Add(-time.Hour), now.Add(-time.Second)
	*target = &tok
	_, err = s.Save(ctx, key, next, v)
	require.NoError(t, err)
	return &tok
}

// hammer runs perReplica goroutines on each replica, all asking for the
// session's token at once while the token service holds refresh answers
// back, and returns every token they got.
func hammer(t *testing.T, f *fakeTokenService, replicas []*replica, key string, perReplica int) []*emporix.Token {
	t.Helper()
	gate := make(chan struct{})
	f.setGate(gate)
	defer f.setGate(nil)
	ctx := context.Background()
	var wg sync.WaitGroup
	results := make([]*emporix.Token, perReplica*len(replicas))
	errs := make([]error, len(results))
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i], errs[i] = replicas[i%len(replicas)].manager.Session(key).Token(ctx)
		}()
	}
	time.Sleep(200 * time.Millisecond) // let the callers pile up on the refresh
	close(gate)
	wg.Wait()
	for i := range results {
		require.NoError(t, errs[i], "caller %d", i)
	}
	return results
}

func TestTwoReplicasRefreshAnExpiredAnonymousSessionOnce(t *testing.T) {
	storeA, _ := newTestStore(t)
	storeB := sameRedisStore(t, storeA)
	f := newFakeTokenService(t)
	a, b := newReplica(t, f, storeA), newReplica(t, f, storeB)
	ctx := context.Background()

	first, err := a.manager.Session("cookie-1").Token(ctx)
	require.NoError(t, err)
	viaB, err := b.manager.Session("cookie-1").Token(ctx)
	require.NoError(t, err)
	assert.Equal(t, first.AccessToken, viaB.AccessToken, "the replicas share the session")
	require.Equal(t, 1, f.count("anonLogin"))

	expired := expire(t, storeA, "cookie-1", false)
	results := hammer(t, f, []*replica{a, b}, "cookie-1", 500)

	assert.Equal(t, 1, f.count("anonRefresh"), "exactly one refresh for 1,000 callers on two replicas")
	assert.Equal(t, 1, f.count("anonLogin"), "and no new session")
	for _, tok := range results {
		assert.Equal(t, results[0].AccessToken, tok.AccessToken)
	}
	assert.NotEqual(t, expired.AccessToken, results[0].AccessToken)
	assert.Equal(t, first.SessionID, results[0].SessionID, "the guest cart's session ID is kept")

	tokA, err := a.manager.Session("cookie-1").Token(ctx)
	require.NoError(t, err)
	tokB, err := b.manager.Session("cookie-1").Token(ctx)
	require.NoError(t, err)
	assert.Equal(t, results[0].AccessToken, tokA.AccessToken, "replica A ends with the refreshed token")
	assert.Equal(t, results[0].AccessToken, tokB.AccessToken, "replica B ends with the same token")
	assert.Equal(t, 1, f.count("anonRefresh"))
}

func TestTwoReplicasRefreshAnExpiredCustomerTokenOnceAndKeepTheRotatedRefreshToken(t *testing.T) {
	k := testKey(t, 1)
	storeA, _ := newTestStore(t, WithSealKeys(k[:]))
	storeB := sameRedisStore(t, storeA, WithSealKeys(k[:]))
	f := newFakeTokenService(t)
	a, b := newReplica(t, f, storeA), newReplica(t, f, storeB)
	ctx := context.Background()

	cust, err := a.manager.Session("cookie-1").Login(ctx, &emporix.LoginRequest{Email: "john@example.com", Password: "password123"})
	require.NoError(t, err)
	expire(t, storeA, "cookie-1", true)
	results := hammer(t, f, []*replica{a, b}, "cookie-1", 500)

	assert.Equal(t, 1, f.count("custRefresh"), "exactly one customer refresh: a second would spend the rotated token")
	for _, tok := range results {
		assert.Equal(t, emporix.KindCustomer, tok.Kind)
		assert.Equal(t, results[0].AccessToken, tok.AccessToken)
	}
	assert.NotEqual(t, cust.AccessToken, results[0].AccessToken)
	st, _, err := storeB.Load(ctx, "cookie-1")
	require.NoError(t, err)
	assert.Equal(t, results[0].RefreshToken, st.Customer.RefreshToken, "the rotated refresh token is stored")
	f.mu.Lock()
	_, live := f.custRT[string(st.Customer.RefreshToken)]
	f.mu.Unlock()
	assert.True(t, live, "and it is the one the service accepts")
}
