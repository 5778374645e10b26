package emporix

import (
	"bytes"
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSessionStartsAnonymouslyOnFirstUseAndCachesTheToken(t *testing.T) {
	h := newSessionHarness(t)
	s := h.manager.Session("cookie-1")
	ctx := context.Background()

	logged, err := s.LoggedIn(ctx)
	require.NoError(t, err)
	assert.False(t, logged)
	assert.Equal(t, 0, h.fake.count("anonLogin"), "nothing is sent before the session is used")

	tok, err := s.Token(ctx)
	require.NoError(t, err)
	assert.Equal(t, KindAnonymous, tok.Kind)
	assert.NotEmpty(t, tok.SessionID)

	again, err := s.Token(ctx)
	require.NoError(t, err)
	assert.Equal(t, tok.AccessToken, again.AccessToken, "a valid token is served from the store")
	assert.Equal(t, 1, h.fake.count("anonLogin"))

	st, _, err := h.store.Load(ctx, "cookie-1")
	require.NoError(t, err)
	assert.Equal(t, tok.AccessToken, st.Anonymous.AccessToken)
}

func TestSessionRefreshKeepsTheSessionID(t *testing.T) {
	h := newSessionHarness(t)
	s := h.manager.Session("cookie-1")
	ctx := context.Background()
	first, err := s.Token(ctx)
	require.NoError(t, err)

	h.clock.Advance(59*time.Minute + 30*time.Second) // inside the refresh window, still valid
	served, err := s.Token(ctx)
	require.NoError(t, err)
	assert.Equal(t, string(first.AccessToken), string(served.AccessToken), "a valid token is served while it is renewed")
	require.Eventually(t, func() bool { return h.fake.count("anonRefresh") == 1 }, time.Second, time.Millisecond)
	var second *Token
	require.Eventually(t, func() bool {
		second, err = s.Token(ctx)
		return err == nil && second.AccessToken != first.AccessToken
	}, time.Second, time.Millisecond, "the background refresh is stored")
	assert.Equal(t, first.SessionID, second.SessionID)
	assert.Equal(t, 1, h.fake.count("anonRefresh"))
	assert.Equal(t, 1, h.fake.count("anonLogin"), "refresh, not a new login")
	assert.Empty(t, h.changes.all(), "no session change to report")
}

func TestSessionRefreshWindowScalesWithLifetime(t *testing.T) {
	m := &SessionManager{cfg: sessionConfig{refreshWindow: time.Minute}}
	issued := testNow
	long := &Token{AccessToken: "a", IssuedAt: issued, Expiry: issued.Add(time.Hour)}
	assert.False(t, m.due(long, issued.Add(58*time.Minute)), "60 s window on a 1 h token")
	assert.True(t, m.due(long, issued.Add(59*time.Minute+1*time.Second)))
	short := &Token{AccessToken: "b", IssuedAt: issued, Expiry: issued.Add(100 * time.Second)}
	assert.False(t, m.due(short, issued.Add(89*time.Second)), "10% window on a 100 s token")
	assert.True(t, m.due(short, issued.Add(100*time.Second)))
	assert.False(t, m.due(&Token{AccessToken: "c"}, issued), "no expiry, no refresh")
}

func TestThousandWaitersOnAnExpiredSessionCauseOneRefresh(t *testing.T) {
	h := newSessionHarness(t)
	ctx := context.Background()
	first, err := h.manager.Session("cookie-1").Token(ctx)
	require.NoError(t, err)
	h.clock.Advance(2 * time.Hour)

	gate := make(chan struct{})
	h.fake.mu.Lock()
	h.fake.refreshGate = gate
	h.fake.mu.Unlock()

	const n = 1000
	var wg sync.WaitGroup
	results := make([]*Token, n)
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i], errs[i] = h.manager.Session("cookie-1").Token(ctx)
		}()
	}
	time.Sleep(50 * time.Millisecond) // let the waiters pile up on the refresh
	close(gate)
	wg.Wait()

	assert.Equal(t, 1, h.fake.count("anonRefresh"), "exactly one refresh for all waiters")
	for i := range n {
		require.NoError(t, errs[i])
		assert.Equal(t, results[0].AccessToken, results[i].AccessToken)
	}
	assert.NotEqual(t, first.AccessToken, results[0].AccessToken)
	assert.Equal(t, first.SessionID, results[0].SessionID)
}

func TestDeadAnonymousRefreshTokenStartsANewSessionAndReportsIt(t *testing.T) {
	h := newSessionHarness(t)
	s := h.manager.Session("cookie-1")
	ctx := context.Background()
	first, err := s.Token(ctx)
	require.NoError(t, err)

	h.clock.Advance(24*time.Hour + 30*time.Minute) // past the 24 h refresh token, within the store grace
	second, err := s.Token(ctx)
	require.NoError(t, err)
	assert.NotEqual(t, first.SessionID, second.SessionID)
	assert.Equal(t, 0, h.fake.count("anonRefresh"), "an expired refresh token is not tried")
	assert.Equal(t, 2, h.fake.count("anonLogin"))
	assert.Equal(t, []SessionChange{{Key: "cookie-1", OldSessionID: first.SessionID, NewSessionID: second.SessionID, Reason: ReasonRefreshExpired}}, h.changes.all())
}

func TestRejectedAnonymousRefreshTokenStartsANewSessionAndReportsIt(t *testing.T) {
	h := newSessionHarness(t)
	s := h.manager.Session("cookie-1")
	ctx := context.Background()
	first, err := s.Token(ctx)
	require.NoError(t, err)
	h.fake.mu.Lock()
	h.fake.anonRT = map[string]string{} // the service forgot the refresh token
	h.fake.mu.Unlock()

	h.clock.Advance(2 * time.Hour)
	second, err := s.Token(ctx)
	require.NoError(t, err)
	assert.Equal(t, 1, h.fake.count("anonRefresh"))
	require.Len(t, h.changes.all(), 1)
	assert.Equal(t, SessionChange{Key: "cookie-1", OldSessionID: first.SessionID, NewSessionID: second.SessionID, Reason: ReasonRefreshRejected}, h.changes.all()[0])
}

func TestSessionContextIsAppliedAtAnonymousLogin(t *testing.T) {
	h := newSessionHarness(t, WithSessionContext(SessionContext{Currency: "EUR", SiteCode: "main", Language: "DE", TargetLocation: "DE"}))
	_, err := h.manager.Session("k").Token(context.Background())
	require.NoError(t, err)
	q := h.fake.query("anonLogin", 0)
	assert.Equal(t, "EUR", q.Get("currency"))
	assert.Equal(t, "main", q.Get("siteCode"))
	assert.Equal(t, "DE", q.Get("language"))
	assert.Equal(t, "DE", q.Get("targetLocation"))
}

func loggedIn(t *testing.T, h *sessionHarness, key string) (*Session, *Token) {
	t.Helper()
	s := h.manager.Session(key)
	tok, err := s.Login(context.Background(), &LoginRequest{Email: "john@example.com", Password: "password123"})
	require.NoError(t, err)
	return s, tok
}

func TestSessionLoginKeepsTheSessionIDAndServesTheCustomerToken(t *testing.T) {
	h := newSessionHarness(t)
	ctx := context.Background()
	s := h.manager.Session("cookie-1")
	anon, err := s.AnonymousToken(ctx)
	require.NoError(t, err)

	_, cust := loggedIn(t, h, "cookie-1")
	assert.Equal(t, KindCustomer, cust.Kind)
	assert.Equal(t, anon.SessionID, cust.SessionID, "the login carries the anonymous session over")

	tok, err := s.Token(ctx)
	require.NoError(t, err)
	assert.Equal(t, cust.AccessToken, tok.AccessToken)
	stillAnon, err := s.AnonymousToken(ctx)
	require.NoError(t, err)
	assert.Equal(t, anon.AccessToken, stillAnon.AccessToken)

	profile, err := s.Client().Profile.Get(ctx, nil)
	require.NoError(t, err)
	assert.Equal(t, "13869000", profile.CustomerNumber)
	logged, err := s.LoggedIn(ctx)
	require.NoError(t, err)
	assert.True(t, logged)
}

func TestCustomerRefreshPersistsTheRotatedRefreshTokenAndCarriesTheSaasToken(t *testing.T) {
	h := newSessionHarness(t)
	h.fake.custExpiresIn = 3600
	ctx := context.Background()
	s, cust := loggedIn(t, h, "cookie-1")

	h.clock.Advance(61 * time.Minute) // customer access token expired, refresh token alive
	next, err := s.Token(ctx)
	require.NoError(t, err)
	assert.Equal(t, 1, h.fake.count("custRefresh"))
	q := h.fake.query("custRefresh", 0)
	assert.Equal(t, string(cust.RefreshToken), q.Get("refreshToken"))
	assert.NotEqual(t, string(cust.RefreshToken), string(next.RefreshToken), "the refresh token rotated")
	assert.Equal(t, string(cust.SaasToken), string(next.SaasToken), "the SaaS token is carried forward")
	assert.Equal(t, cust.SessionID, next.SessionID)

	st, _, err := h.store.Load(ctx, "cookie-1")
	require.NoError(t, err)
	assert.Equal(t, string(next.RefreshToken), string(st.Customer.RefreshToken), "the rotated refresh token is stored")

	// The next refresh must use the rotated token: the fake spent the old one.
	h.clock.Advance(61 * time.Minute)
	third, err := s.Token(ctx)
	require.NoError(t, err)
	assert.Equal(t, string(next.RefreshToken), h.fake.query("custRefresh", 1).Get("refreshToken"))
	assert.NotEqual(t, next.AccessToken, third.AccessToken)
}

func TestDeadCustomerRefreshTokenExpiresTheCustomerSessionButKeepsTheGuestSession(t *testing.T) {
	h := newSessionHarness(t)
	h.fake.custExpiresIn = 3600
	ctx := context.Background()
	s, _ := loggedIn(t, h, "cookie-1")
	anon, err := s.AnonymousToken(ctx)
	require.NoError(t, err)
	h.fake.mu.Lock()
	h.fake.custRT = map[string]string{} // refresh tokens revoked
	h.fake.mu.Unlock()

	h.clock.Advance(61 * time.Minute)
	_, err = s.Token(ctx)
	require.ErrorIs(t, err, ErrSessionExpired)
	var apiErr *APIError
	require.ErrorAs(t, err, &apiErr, "the cause is kept")
	assert.Equal(t, 400, apiErr.StatusCode)

	logged, err := s.LoggedIn(ctx)
	require.NoError(t, err)
	assert.False(t, logged, "the dead customer token was dropped")
	tok, err := s.Token(ctx)
	require.NoError(t, err)
	assert.Equal(t, KindAnonymous, tok.Kind)
	assert.Equal(t, anon.SessionID, tok.SessionID, "the guest session survives")
}

func TestRejectedCustomerTokenIsRefreshedOnceAndTheCallRetried(t *testing.T) {
	h := newSessionHarness(t)
	ctx := context.Background()
	s, cust := loggedIn(t, h, "cookie-1")
	h.fake.revokeCustomerTokens()

	profile, err := s.Client().Profile.Get(ctx, nil)
	require.NoError(t, err)
	assert.Equal(t, "13869000", profile.CustomerNumber)
	assert.Equal(t, 1, h.fake.count("custRefresh"))
	assert.Equal(t, 2, h.fake.count("me"), "one rejected call, one retry")
	tok, err := s.Token(ctx)
	require.NoError(t, err)
	assert.NotEqual(t, cust.AccessToken, tok.AccessToken)
}

func TestSecondRejectionFailsWithSessionExpiredWithoutLooping(t *testing.T) {
	h := newSessionHarness(t)
	ctx := context.Background()
	s, _ := loggedIn(t, h, "cookie-1")
	h.fake.mu.Lock()
	h.fake.rejectAll = true
	h.fake.mu.Unlock()

	_, err := s.Client().Profile.Get(ctx, nil)
	require.ErrorIs(t, err, ErrSessionExpired)
	require.ErrorIs(t, err, ErrUnauthorized, "the 401 stays visible")
	assert.Equal(t, 1, h.fake.count("custRefresh"), "one refresh, never a loop")
	assert.Equal(t, 2, h.fake.count("me"))
}

func TestCancellingOneWaiterDoesNotCancelTheSharedRefresh(t *testing.T) {
	h := newSessionHarness(t)
	ctx := context.Background()
	first, err := h.manager.Session("cookie-1").Token(ctx)
	require.NoError(t, err)
	h.clock.Advance(2 * time.Hour)
	gate, atGate := make(chan struct{}), make(chan string, 1)
	h.fake.mu.Lock()
	h.fake.refreshGate, h.fake.atGate = gate, atGate
	h.fake.mu.Unlock()
	// Bounds a wait for something that happens at once, so that a broken
	// build fails instead of hanging; generous, as a loaded CI machine
	// can stall a goroutine for a good part of a second.
	const bound = 10 * time.Second

	cancelCtx, cancel := context.WithCancel(ctx)
	cancelled := make(chan error, 1)
	go func() {
		_, err := h.manager.Session("cookie-1").Token(cancelCtx)
		cancelled <- err
	}()
	patient := make(chan *Token, 1)
	go func() {
		tok, err := h.manager.Session("cookie-1").Token(ctx)
		assert.NoError(t, err)
		patient <- tok
	}()
	select {
	case name := <-atGate: // the shared refresh is at the service, held there
		require.Equal(t, "anonRefresh", name)
	case <-time.After(bound):
		t.Fatal("no refresh reached the service")
	}

	cancel()
	select {
	case err := <-cancelled:
		assert.ErrorIs(t, err, context.Canceled)
	case <-time.After(bound):
		t.Fatal("the cancelled waiter did not return")
	}
	close(gate)
	select {
	case tok := <-patient:
		assert.NotEqual(t, first.AccessToken, tok.AccessToken)
		assert.Equal(t, first.SessionID, tok.SessionID)
	case <-time.After(bound):
		t.Fatal("the shared refresh did not finish")
	}
	assert.Equal(t, 1, h.fake.count("anonRefresh"))
	st, _, err := h.store.Load(ctx, "cookie-1")
	require.NoError(t, err)
	assert.NotEqual(t, first.AccessToken, st.Anonymous.AccessToken, "the refresh completed and was stored")
}

func TestLogoutInvalidatesServerSideAndRemovesTheSession(t *testing.T) {
	h := newSessionHarness(t)
	ctx := context.Background()
	s, cust := loggedIn(t, h, "cookie-1")

	require.NoError(t, s.Logout(ctx))
	assert.Equal(t, 1, h.fake.count("logout"))
	assert.Equal(t, string(cust.AccessToken), h.fake.query("logout", 0).Get("accessToken"))
	_, _, err := h.store.Load(ctx, "cookie-1")
	assert.ErrorIs(t, err, ErrSessionNotFound)
	h.fake.mu.Lock()
	_, stillValid := h.fake.cust[string(cust.AccessToken)]
	h.fake.mu.Unlock()
	assert.False(t, stillValid, "the server no longer accepts the token")
}

func TestSwitchLegalEntityRefreshesWithTheLegalEntity(t *testing.T) {
	h := newSessionHarness(t)
	ctx := context.Background()
	s, cust := loggedIn(t, h, "cookie-1")

	tok, err := s.SwitchLegalEntity(ctx, "D165356")
	require.NoError(t, err)
	assert.Equal(t, "D165356", h.fake.query("custRefresh", 0).Get("legalEntityId"))
	assert.Equal(t, "D165356", tok.LegalEntityID)
	assert.NotEqual(t, cust.AccessToken, tok.AccessToken)
	current, err := s.Token(ctx)
	require.NoError(t, err)
	assert.Equal(t, tok.AccessToken, current.AccessToken)

	_, err = s.SwitchLegalEntity(ctx, "")
	assert.ErrorIs(t, err, ErrInvalidInput)
}

func TestLeaveLegalEntityReturnsToTheUnscopedToken(t *testing.T) {
	h := newSessionHarness(t)
	ctx := context.Background()
	s, _ := loggedIn(t, h, "cookie-1")
	_, err := s.SwitchLegalEntity(ctx, "D165356")
	require.NoError(t, err)

	tok, err := s.LeaveLegalEntity(ctx)
	require.NoError(t, err)
	assert.False(t, h.fake.query("custRefresh", 1).Has("legalEntityId"), "the refresh leaves the scope out")
	assert.Empty(t, tok.LegalEntityID)
	assert.Empty(t, h.fake.legal[string(tok.AccessToken)], "the service issued an unscoped token")
	st, _, err := h.store.Load(ctx, "cookie-1")
	require.NoError(t, err)
	assert.Equal(t, tok.AccessToken, st.Customer.AccessToken, "the unscoped token is stored")

	// Automatic refreshes no longer send the scope.
	require.NoError(t, s.InvalidateToken(ctx, tok))
	assert.Equal(t, 3, h.fake.count("custRefresh"))
	assert.False(t, h.fake.query("custRefresh", 2).Has("legalEntityId"))

	// Switching again scopes again; automatic refreshes then keep it.
	_, err = s.SwitchLegalEntity(ctx, "D165357")
	require.NoError(t, err)
	scoped, err := s.Token(ctx)
	require.NoError(t, err)
	require.NoError(t, s.InvalidateToken(ctx, scoped))
	assert.Equal(t, "D165357", h.fake.query("custRefresh", 4).Get("legalEntityId"))
}

func TestLeaveLegalEntityNeedsALogin(t *testing.T) {
	h := newSessionHarness(t)
	_, err := h.manager.Session("cookie-1").LeaveLegalEntity(context.Background())
	assert.ErrorIs(t, err, ErrSessionExpired)
	assert.Equal(t, 0, h.fake.count("custRefresh"))
	assert.Equal(t, 0, h.fake.count("anonLogin"), "nothing is sent for a shopper who is not logged in")
}

func TestEmptySessionKeyIsRefused(t *testing.T) {
	h := newSessionHarness(t)
	_, err := h.manager.Session("").Token(context.Background())
	assert.ErrorIs(t, err, ErrInvalidInput)
	assert.Equal(t, 0, h.fake.count("anonLogin"))
}

func TestSessionsSurviveARestartThroughTheStoreSnapshot(t *testing.T) {
	h := newSessionHarness(t)
	ctx := context.Background()
	s, cust := loggedIn(t, h, "cookie-1")
	anon, err := s.AnonymousToken(ctx)
	require.NoError(t, err)

	var snapshot bytes.Buffer
	_, err = h.store.WriteTo(&snapshot)
	require.NoError(t, err)

	restored := NewMemoryStore(WithStoreClock(h.clock.Now))
	_, err = restored.ReadFrom(&snapshot)
	require.NoError(t, err)
	m2, err := NewSessionManager(h.client, restored)
	require.NoError(t, err)
	s2 := m2.Session("cookie-1")
	tok, err := s2.Token(ctx)
	require.NoError(t, err)
	assert.Equal(t, cust.AccessToken, tok.AccessToken)
	sid, err := s2.SessionID(ctx)
	require.NoError(t, err)
	assert.Equal(t, anon.SessionID, sid)
	assert.Equal(t, 1, h.fake.count("anonLogin"), "no new session after the restart")
}

func TestSessionErrorsAreTyped(t *testing.T) {
	_, err := NewSessionManager(nil, NewMemoryStore())
	assert.ErrorIs(t, err, ErrInvalidInput)
	c, _ := newTestClient(t)
	_, err = NewSessionManager(c, nil)
	assert.ErrorIs(t, err, ErrInvalidInput)
	_, err = NewSessionManager(c, NewMemoryStore(), WithRefreshTimeout(0))
	assert.ErrorIs(t, err, ErrInvalidInput)
	_, err = NewSessionManager(c, NewMemoryStore(), WithSessionContext(SessionContext{Currency: "EURO"}))
	assert.ErrorIs(t, err, ErrInvalidInput)
	assert.False(t, errors.Is(ErrSessionExpired, ErrUnauthorized))
}

func TestRekeyMovesTheSessionAndForgetsTheOldKey(t *testing.T) {
	h := newSessionHarness(t)
	ctx := context.Background()
	old := h.manager.Session("planted-key")
	anon, err := old.AnonymousToken(ctx)
	require.NoError(t, err)

	renewed, err := old.Rekey(ctx)
	require.NoError(t, err)
	assert.NotEqual(t, "planted-key", renewed.Key())
	assert.Len(t, renewed.Key(), 22)
	sid, err := renewed.SessionID(ctx)
	require.NoError(t, err)
	assert.Equal(t, anon.SessionID, sid, "the Emporix session (and cart) moves along")
	_, _, err = h.store.Load(ctx, "planted-key")
	assert.ErrorIs(t, err, ErrSessionNotFound, "the planted key names nothing any more")
	assert.Equal(t, 1, h.fake.count("anonLogin"))

	fresh, err := h.manager.Session("never-used").Rekey(ctx)
	require.NoError(t, err)
	assert.Equal(t, 1, h.store.Len(), "rekeying an unused session stores nothing: only the moved one is there")
	assert.NotEmpty(t, fresh.Key())
}
