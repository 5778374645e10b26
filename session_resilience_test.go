package emporix_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/emporix-go/emporix"
	"github.com/emporix-go/emporix/emporixtest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// These tests pin how a session behaves when the token service misbehaves:
// callers keep working tokens, and an outage never costs a cart.

func TestTokenInItsRefreshWindowIsServedWithoutWaitingForTheRefresh(t *testing.T) {
	t.Parallel()
	f := newFakeShop(t)
	ctx := context.Background()
	s := f.sessions.Session("cookie-1")
	first, err := s.Token(ctx)
	require.NoError(t, err)
	release := f.holdRefreshes(t) // the token service hangs

	f.srv.Advance(59*time.Minute + 30*time.Second)
	done := make(chan *emporix.Token, 1)
	go func() {
		tok, err := s.Token(ctx)
		assert.NoError(t, err)
		done <- tok
	}()
	select {
	case tok := <-done:
		assert.Equal(t, first.AccessToken, tok.AccessToken)
	case <-time.After(10 * time.Second):
		t.Fatal("a valid token waited for a hanging refresh")
	}
	release()
	require.Eventually(t, func() bool {
		st, _, err := f.store.Load(ctx, "cookie-1")
		return err == nil && st.Anonymous.AccessToken != first.AccessToken
	}, 10*time.Second, time.Millisecond)
}

func TestGatewayNotFoundOnRefreshDoesNotStartANewSession(t *testing.T) {
	t.Parallel()
	for _, status := range []int{403, 404, 502} {
		f := newFakeShop(t)
		ctx := context.Background()
		s := f.sessions.Session("cookie-1")
		first, err := s.Token(ctx)
		require.NoError(t, err)
		f.failRefreshes(status)

		f.srv.Advance(2 * time.Hour) // expired: the refresh is needed now
		_, err = s.Client().Profile.Get(ctx, nil)
		require.Error(t, err, "status %d", status)
		var te *emporix.TokenError
		require.ErrorAs(t, err, &te, "status %d: the failure is the token's, not the operation's", status)
		assert.False(t, errors.Is(err, emporix.ErrNotFound), "status %d: the refresh's 404 is not the profile's", status)
		assert.False(t, errors.Is(err, emporix.ErrForbidden), "status %d", status)
		var apiErr *emporix.APIError
		require.ErrorAs(t, err, &apiErr, "the refresh's answer is reachable")
		assert.Equal(t, status, apiErr.StatusCode)
		assert.Equal(t, 1, f.count(anonLoginOp), "status %d: no new session, the cart is kept", status)
		assert.Empty(t, f.changes.all())

		f.srv.ClearFaults()
		tok, err := s.Token(ctx)
		require.NoError(t, err)
		assert.Equal(t, first.SessionID, tok.SessionID, "status %d: the session recovers with its ID", status)
	}
}

func TestFailingAnonymousRefreshKeepsAUsableCustomerToken(t *testing.T) {
	t.Parallel()
	f := newFakeShop(t)
	ctx := context.Background()
	s, number, cust := loginOnFake(t, f, f.sessions, 1)
	// The customer token lasts 30 days; put it inside its refresh window
	// while the anonymous token has long expired but can still be refreshed.
	f.srv.Advance(30*24*time.Hour - 30*time.Second)
	f.failRefreshes(502)

	tok, err := s.Token(ctx)
	require.NoError(t, err)
	assert.Equal(t, cust.AccessToken, tok.AccessToken)
	tok, err = emporix.RenewCustomer(ctx, s)
	require.NoError(t, err, "the renewal falls back to the usable token")
	assert.Equal(t, cust.AccessToken, tok.AccessToken)
	profile, err := s.Client().Profile.Get(ctx, nil)
	require.NoError(t, err)
	assert.Equal(t, number, profile.CustomerNumber)
}

// conflictStore fails the next n saves with ErrStoreConflict, as a writer
// that saved first would, after applying the interfering change.
type conflictStore struct {
	*emporix.MemoryStore
	mu        sync.Mutex
	pass      int // saves to let through before the conflicts
	conflicts int
	saves     int
	interfere func(st *emporix.SessionState) *emporix.SessionState
}

func (c *conflictStore) Save(ctx context.Context, key string, st *emporix.SessionState, expected uint64) (uint64, error) {
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
		return 0, emporix.ErrStoreConflict
	}
	return c.MemoryStore.Save(ctx, key, st, expected)
}

func TestAnonymousRefreshMergesWithAConcurrentLogin(t *testing.T) {
	t.Parallel()
	f := newFakeShop(t)
	ctx := context.Background()
	first, err := f.sessions.Session("cookie-1").Token(ctx)
	require.NoError(t, err)
	otherCustomer := &emporix.Token{Kind: emporix.KindCustomer, AccessToken: "CONCURRENT-LOGIN", Expiry: f.srv.Now().Add(time.Hour)}
	store := &conflictStore{MemoryStore: f.store, conflicts: 1, interfere: func(st *emporix.SessionState) *emporix.SessionState {
		return &emporix.SessionState{Anonymous: st.Anonymous, Customer: otherCustomer} // a login saved meanwhile
	}}

	f.srv.Advance(2 * time.Hour)
	tok, err := f.manager(t, store).Session("cookie-1").AnonymousToken(ctx)
	require.NoError(t, err)
	assert.NotEqual(t, first.AccessToken, tok.AccessToken)
	st, _, err := f.store.Load(ctx, "cookie-1")
	require.NoError(t, err)
	assert.Equal(t, tok.AccessToken, st.Anonymous.AccessToken, "the refreshed token is saved on the second try")
	require.NotNil(t, st.Customer)
	assert.Equal(t, "CONCURRENT-LOGIN", string(st.Customer.AccessToken), "the concurrent login is not lost")
	assert.Equal(t, 1, f.count(anonRefreshOp), "the refresh is not repeated for the retry")
}

func TestCustomerRefreshYieldsToAWriterThatRenewedFirst(t *testing.T) {
	t.Parallel()
	f := newFakeShop(t, emporixtest.WithLifetimes(emporixtest.Lifetimes{CustomerAccess: time.Hour}))
	ctx := context.Background()
	s, _, _ := loginOnFake(t, f, f.sessions, 1)
	now := f.srv.Now()
	winner := &emporix.Token{Kind: emporix.KindCustomer, AccessToken: "RENEWED-ELSEWHERE", RefreshToken: "RT-ELSEWHERE",
		Expiry: now.Add(3 * time.Hour), RefreshExpiry: now.Add(24 * time.Hour)}
	// The first save is the anonymous renewal the customer refresh needs;
	// the second, the refreshed customer token, meets the other writer.
	store := &conflictStore{MemoryStore: f.store, pass: 1, conflicts: 1, interfere: func(st *emporix.SessionState) *emporix.SessionState {
		return &emporix.SessionState{Anonymous: st.Anonymous, Customer: winner}
	}}

	f.srv.Advance(61 * time.Minute)
	tok, err := f.manager(t, store).Session(s.Key()).Token(ctx)
	require.NoError(t, err)
	assert.Equal(t, 1, f.count(custRefreshOp), "this writer refreshed too, and lost the race")
	assert.Equal(t, "RENEWED-ELSEWHERE", string(tok.AccessToken), "the other writer's newer token wins")
	st, _, err := f.store.Load(ctx, s.Key())
	require.NoError(t, err)
	assert.Equal(t, "RT-ELSEWHERE", string(st.Customer.RefreshToken), "its refresh token is not clobbered")
}
