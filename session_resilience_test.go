package emporix

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// These tests pin how a session behaves when the token service misbehaves:
// callers keep working tokens, and an outage never costs a cart.

func setFailRefresh(h *sessionHarness, status int) {
	h.fake.mu.Lock()
	h.fake.failRefresh = status
	h.fake.mu.Unlock()
}

func TestTokenInItsRefreshWindowIsServedWithoutWaitingForTheRefresh(t *testing.T) {
	h := newSessionHarness(t)
	ctx := context.Background()
	s := h.manager.Session("cookie-1")
	first, err := s.Token(ctx)
	require.NoError(t, err)
	gate := make(chan struct{})
	h.fake.mu.Lock()
	h.fake.refreshGate = gate // the token service hangs
	h.fake.mu.Unlock()

	h.clock.Advance(59*time.Minute + 30*time.Second)
	done := make(chan *Token, 1)
	go func() {
		tok, err := s.Token(ctx)
		assert.NoError(t, err)
		done <- tok
	}()
	select {
	case tok := <-done:
		assert.Equal(t, first.AccessToken, tok.AccessToken)
	case <-time.After(time.Second):
		t.Fatal("a valid token waited for a hanging refresh")
	}
	close(gate)
	require.Eventually(t, func() bool {
		st, _, err := h.store.Load(ctx, "cookie-1")
		return err == nil && st.Anonymous.AccessToken != first.AccessToken
	}, time.Second, time.Millisecond)
}

func TestGatewayNotFoundOnRefreshDoesNotStartANewSession(t *testing.T) {
	for _, status := range []int{403, 404, 502} {
		h := newSessionHarness(t)
		ctx := context.Background()
		s := h.manager.Session("cookie-1")
		first, err := s.Token(ctx)
		require.NoError(t, err)
		setFailRefresh(h, status)

		h.clock.Advance(2 * time.Hour) // expired: the refresh is needed now
		_, err = s.Client().Profile.Get(ctx, nil)
		require.Error(t, err, "status %d", status)
		var te *TokenError
		require.ErrorAs(t, err, &te, "status %d: the failure is the token's, not the operation's", status)
		assert.False(t, errors.Is(err, ErrNotFound), "status %d: the refresh's 404 is not the profile's", status)
		assert.False(t, errors.Is(err, ErrForbidden), "status %d", status)
		var apiErr *APIError
		require.ErrorAs(t, err, &apiErr, "the refresh's answer is reachable")
		assert.Equal(t, status, apiErr.StatusCode)
		assert.Equal(t, 1, h.fake.count("anonLogin"), "status %d: no new session, the cart is kept", status)
		assert.Empty(t, h.changes.all())

		setFailRefresh(h, 0)
		tok, err := s.Token(ctx)
		require.NoError(t, err)
		assert.Equal(t, first.SessionID, tok.SessionID, "status %d: the session recovers with its ID", status)
	}
}

func TestFailingAnonymousRefreshKeepsAUsableCustomerToken(t *testing.T) {
	h := newSessionHarness(t)
	ctx := context.Background()
	s, cust := loggedIn(t, h, "cookie-1")
	// The customer token lasts 30 days; put it inside its refresh window
	// while the anonymous token has long expired but can still be refreshed.
	h.clock.Advance(30*24*time.Hour - 30*time.Second)
	setFailRefresh(h, 502)

	tok, err := s.Token(ctx)
	require.NoError(t, err)
	assert.Equal(t, cust.AccessToken, tok.AccessToken)
	_, err = s.renewCustomer(ctx, "", nil, false)
	require.NoError(t, err, "the renewal falls back to the usable token")
	profile, err := s.Client().Profile.Get(ctx, nil)
	require.NoError(t, err)
	assert.Equal(t, "13869000", profile.CustomerNumber)
}

// conflictStore fails the next n saves with ErrStoreConflict, as a writer
// that saved first would, after applying the interfering change.
type conflictStore struct {
	*MemoryStore
	mu        sync.Mutex
	pass      int // saves to let through before the conflicts
	conflicts int
	saves     int
	interfere func(st *SessionState) *SessionState
}

func (c *conflictStore) Save(ctx context.Context, key string, st *SessionState, expected uint64) (uint64, error) {
	c.mu.Lock()
	c.saves++
	n := 0
	if c.saves > c.pass && c.conflicts > 0 {
		n = c.conflicts
		c.conflicts--
	}
	c.mu.Unlock()
	if n > 0 {
		cur, v, err := c.MemoryStore.Load(ctx, key)
		if err == nil && c.interfere != nil {
			if _, err := c.MemoryStore.Save(ctx, key, c.interfere(cur), v); err != nil {
				return 0, err
			}
		}
		return 0, ErrStoreConflict
	}
	return c.MemoryStore.Save(ctx, key, st, expected)
}

func TestAnonymousRefreshMergesWithAConcurrentLogin(t *testing.T) {
	h := newSessionHarness(t)
	ctx := context.Background()
	s := h.manager.Session("cookie-1")
	first, err := s.Token(ctx)
	require.NoError(t, err)
	otherCustomer := &Token{Kind: KindCustomer, AccessToken: "CONCURRENT-LOGIN", Expiry: h.clock.Now().Add(time.Hour)}
	store := &conflictStore{MemoryStore: h.store, conflicts: 1, interfere: func(st *SessionState) *SessionState {
		return &SessionState{Anonymous: st.Anonymous, Customer: otherCustomer} // a login saved meanwhile
	}}
	m, err := NewSessionManager(h.client, store)
	require.NoError(t, err)

	h.clock.Advance(2 * time.Hour)
	tok, err := m.Session("cookie-1").AnonymousToken(ctx)
	require.NoError(t, err)
	assert.NotEqual(t, first.AccessToken, tok.AccessToken)
	st, _, err := h.store.Load(ctx, "cookie-1")
	require.NoError(t, err)
	assert.Equal(t, string(tok.AccessToken), string(st.Anonymous.AccessToken), "the refreshed token is saved on the second try")
	require.NotNil(t, st.Customer)
	assert.Equal(t, "CONCURRENT-LOGIN", string(st.Customer.AccessToken), "the concurrent login is not lost")
	assert.Equal(t, 1, h.fake.count("anonRefresh"), "the refresh is not repeated for the retry")
}

func TestCustomerRefreshYieldsToAWriterThatRenewedFirst(t *testing.T) {
	h := newSessionHarness(t)
	h.fake.custExpiresIn = 3600
	ctx := context.Background()
	_, _ = loggedIn(t, h, "cookie-1")
	winner := &Token{Kind: KindCustomer, AccessToken: "RENEWED-ELSEWHERE", RefreshToken: "RT-ELSEWHERE",
		Expiry: h.clock.Now().Add(3 * time.Hour), RefreshExpiry: h.clock.Now().Add(24 * time.Hour)}
	// The first save is the anonymous renewal the customer refresh needs;
	// the second, the refreshed customer token, meets the other writer.
	store := &conflictStore{MemoryStore: h.store, pass: 1, conflicts: 1, interfere: func(st *SessionState) *SessionState {
		return &SessionState{Anonymous: st.Anonymous, Customer: winner}
	}}
	m, err := NewSessionManager(h.client, store)
	require.NoError(t, err)

	h.clock.Advance(61 * time.Minute)
	tok, err := m.Session("cookie-1").Token(ctx)
	require.NoError(t, err)
	assert.Equal(t, 1, h.fake.count("custRefresh"), "this writer refreshed too, and lost the race")
	assert.Equal(t, "RENEWED-ELSEWHERE", string(tok.AccessToken), "the other writer's newer token wins")
	st, _, err := h.store.Load(ctx, "cookie-1")
	require.NoError(t, err)
	assert.Equal(t, "RT-ELSEWHERE", string(st.Customer.RefreshToken), "its refresh token is not clobbered")
}
