package emporix_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/emporix-go/emporix"
	"github.com/emporix-go/emporix/emporixtest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSessionStartsAnonymouslyOnFirstUseAndCachesTheToken(t *testing.T) {
	t.Parallel()
	f := newFakeShop(t)
	s := f.sessions.Session("cookie-1")
	ctx := context.Background()

	logged, err := s.LoggedIn(ctx)
	require.NoError(t, err)
	assert.False(t, logged)
	assert.Zero(t, f.count(anonLoginOp), "nothing is sent before the session is used")

	tok, err := s.Token(ctx)
	require.NoError(t, err)
	assert.Equal(t, emporix.KindAnonymous, tok.Kind)
	assert.NotEmpty(t, tok.SessionID)

	again, err := s.Token(ctx)
	require.NoError(t, err)
	assert.Equal(t, tok.AccessToken, again.AccessToken, "a valid token is served from the store")
	assert.Equal(t, 1, f.count(anonLoginOp))

	st, _, err := f.store.Load(ctx, "cookie-1")
	require.NoError(t, err)
	assert.Equal(t, tok.AccessToken, st.Anonymous.AccessToken)
}

func TestSessionRefreshKeepsTheSessionID(t *testing.T) {
	t.Parallel()
	f := newFakeShop(t)
	s := f.sessions.Session("cookie-1")
	ctx := context.Background()
	first, err := s.Token(ctx)
	require.NoError(t, err)

	f.srv.Advance(59*time.Minute + 30*time.Second) // inside the refresh window, still valid
	served, err := s.Token(ctx)
	require.NoError(t, err)
	assert.Equal(t, first.AccessToken, served.AccessToken, "a valid token is served while it is renewed")
	var second *emporix.Token
	require.Eventually(t, func() bool {
		second, err = s.Token(ctx)
		return err == nil && second.AccessToken != first.AccessToken
	}, 10*time.Second, time.Millisecond, "the background refresh is stored")
	assert.Equal(t, first.SessionID, second.SessionID)
	assert.Equal(t, 1, f.count(anonRefreshOp))
	assert.Equal(t, 1, f.count(anonLoginOp), "refresh, not a new login")
	assert.Empty(t, f.changes.all(), "no session change to report")
}

func TestThousandWaitersOnAnExpiredSessionCauseOneRefresh(t *testing.T) {
	t.Parallel()
	f := newFakeShop(t)
	ctx := context.Background()
	first, err := f.sessions.Session("cookie-1").Token(ctx)
	require.NoError(t, err)
	f.srv.Advance(2 * time.Hour)
	release := f.holdRefreshes(t)

	const n = 1000
	var wg sync.WaitGroup
	results := make([]*emporix.Token, n)
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i], errs[i] = f.sessions.Session("cookie-1").Token(ctx)
		}()
	}
	time.Sleep(50 * time.Millisecond) // let the waiters pile up on the refresh
	release()
	wg.Wait()

	assert.Equal(t, 1, f.count(anonRefreshOp), "exactly one refresh for all waiters")
	for i := range n {
		require.NoError(t, errs[i])
		assert.Equal(t, results[0].AccessToken, results[i].AccessToken)
	}
	assert.NotEqual(t, first.AccessToken, results[0].AccessToken)
	assert.Equal(t, first.SessionID, results[0].SessionID)
}

// A dead anonymous refresh token, expired or rejected, starts a new
// session and reports it; an expired one is not even tried.
func TestDeadAnonymousRefreshTokenStartsANewSessionAndReportsIt(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		reason    emporix.SessionChangeReason
		kill      func(f *fakeShop, first *emporix.Token)
		refreshes int
	}{
		{emporix.ReasonRefreshExpired, func(f *fakeShop, _ *emporix.Token) {
			f.srv.Advance(24*time.Hour + 30*time.Minute) // past the 24 h refresh token, within the store grace
		}, 0},
		{emporix.ReasonRefreshRejected, func(f *fakeShop, first *emporix.Token) {
			f.srv.RevokeToken(string(first.RefreshToken)) // the service forgot the refresh token
			f.srv.Advance(2 * time.Hour)
		}, 1},
	} {
		t.Run(string(tc.reason), func(t *testing.T) {
			t.Parallel()
			f := newFakeShop(t)
			s := f.sessions.Session("cookie-1")
			ctx := context.Background()
			first, err := s.Token(ctx)
			require.NoError(t, err)

			tc.kill(f, first)
			second, err := s.Token(ctx)
			require.NoError(t, err)
			assert.NotEqual(t, first.SessionID, second.SessionID)
			assert.Equal(t, tc.refreshes, f.count(anonRefreshOp), "an expired refresh token is not tried")
			assert.Equal(t, 2, f.count(anonLoginOp))
			assert.Equal(t, []emporix.SessionChange{{Key: "cookie-1", OldSessionID: first.SessionID, NewSessionID: second.SessionID, Reason: tc.reason}},
				f.changes.all())
		})
	}
}

func TestSessionContextIsAppliedAtAnonymousLogin(t *testing.T) {
	t.Parallel()
	f := newFakeShop(t)
	m := f.manager(t, f.store, emporix.WithSessionContext(emporix.SessionContext{Currency: "EUR", SiteCode: "main", Language: "DE", TargetLocation: "DE"}))
	_, err := m.Session("k").Token(context.Background())
	require.NoError(t, err)
	q := f.sent(t, anonLoginOp, 0)
	assert.Equal(t, []string{"EUR"}, q["currency"])
	assert.Equal(t, []string{"main"}, q["siteCode"])
	assert.Equal(t, []string{"DE"}, q["language"])
	assert.Equal(t, []string{"DE"}, q["targetLocation"])
}

func TestSessionLoginKeepsTheSessionIDAndServesTheCustomerToken(t *testing.T) {
	t.Parallel()
	f := newFakeShop(t)
	ctx := context.Background()
	s := f.sessions.Session("cookie-1")
	anon, err := s.AnonymousToken(ctx)
	require.NoError(t, err)

	email, number := f.customer(t, 1)
	cust, err := s.Login(ctx, &emporix.LoginRequest{Email: email, Password: "password123"})
	require.NoError(t, err)
	assert.Equal(t, emporix.KindCustomer, cust.Kind)
	assert.Equal(t, anon.SessionID, cust.SessionID, "the login carries the anonymous session over")

	tok, err := s.Token(ctx)
	require.NoError(t, err)
	assert.Equal(t, cust.AccessToken, tok.AccessToken)
	stillAnon, err := s.AnonymousToken(ctx)
	require.NoError(t, err)
	assert.Equal(t, anon.AccessToken, stillAnon.AccessToken)

	profile, err := s.Client().Profile.Get(ctx, nil)
	require.NoError(t, err)
	assert.Equal(t, number, profile.CustomerNumber)
	logged, err := s.LoggedIn(ctx)
	require.NoError(t, err)
	assert.True(t, logged)
}

func TestCustomerRefreshPersistsTheRotatedRefreshTokenAndCarriesTheSaasToken(t *testing.T) {
	t.Parallel()
	f := newFakeShop(t, emporixtest.WithLifetimes(emporixtest.Lifetimes{CustomerAccess: time.Hour}))
	ctx := context.Background()
	s, _, cust := loginOnFake(t, f, f.sessions, 1)

	f.srv.Advance(61 * time.Minute) // customer access token expired, refresh token alive
	next, err := s.Token(ctx)
	require.NoError(t, err)
	assert.Equal(t, 1, f.count(custRefreshOp))
	assert.Equal(t, []string{string(cust.RefreshToken)}, f.sent(t, custRefreshOp, 0)["refreshToken"])
	assert.NotEqual(t, cust.RefreshToken, next.RefreshToken, "the refresh token rotated")
	assert.Equal(t, cust.SaasToken, next.SaasToken, "the SaaS token is carried forward")
	assert.Equal(t, cust.SessionID, next.SessionID)

	st, _, err := f.store.Load(ctx, s.Key())
	require.NoError(t, err)
	assert.Equal(t, next.RefreshToken, st.Customer.RefreshToken, "the rotated refresh token is stored")

	// The next refresh must use the rotated token: the fake spent the old one.
	f.srv.Advance(61 * time.Minute)
	third, err := s.Token(ctx)
	require.NoError(t, err)
	assert.Equal(t, []string{string(next.RefreshToken)}, f.sent(t, custRefreshOp, 1)["refreshToken"])
	assert.NotEqual(t, next.AccessToken, third.AccessToken)
}

// A customer refresh token the service refuses, with a 400 as the service
// answers or a 401 as the fake does, ends the login but keeps the guest
// session, and the refusal stays visible as the cause.
func TestDeadCustomerRefreshTokenExpiresTheCustomerSessionButKeepsTheGuestSession(t *testing.T) {
	t.Parallel()
	for _, status := range []int{400, 401} {
		t.Run(http.StatusText(status), func(t *testing.T) {
			t.Parallel()
			f := newFakeShop(t, emporixtest.WithLifetimes(emporixtest.Lifetimes{CustomerAccess: time.Hour}))
			ctx := context.Background()
			s, _, cust := loginOnFake(t, f, f.sessions, 1)
			anon, err := s.AnonymousToken(ctx)
			require.NoError(t, err)
			if status == 400 {
				f.srv.InjectFault(custRefreshOp, emporixtest.Fault{Status: 400,
					Body: `{"status":400,"type":"bad_request","message":"Invalid refresh token."}`})
			} else {
				require.True(t, f.srv.RevokeToken(string(cust.RefreshToken)))
			}

			f.srv.Advance(61 * time.Minute)
			_, err = s.Token(ctx)
			require.ErrorIs(t, err, emporix.ErrSessionExpired)
			var apiErr *emporix.APIError
			require.ErrorAs(t, err, &apiErr, "the cause is kept")
			assert.Equal(t, status, apiErr.StatusCode)

			logged, err := s.LoggedIn(ctx)
			require.NoError(t, err)
			assert.False(t, logged, "the dead customer token was dropped")
			tok, err := s.Token(ctx)
			require.NoError(t, err)
			assert.Equal(t, emporix.KindAnonymous, tok.Kind)
			assert.Equal(t, anon.SessionID, tok.SessionID, "the guest session survives")
		})
	}
}

func TestRejectedCustomerTokenIsRefreshedOnceAndTheCallRetried(t *testing.T) {
	t.Parallel()
	f := newFakeShop(t)
	ctx := context.Background()
	s, number, cust := loginOnFake(t, f, f.sessions, 1)
	require.True(t, f.srv.RevokeToken(string(cust.AccessToken)))

	profile, err := s.Client().Profile.Get(ctx, nil)
	require.NoError(t, err)
	assert.Equal(t, number, profile.CustomerNumber)
	assert.Equal(t, 1, f.count(custRefreshOp))
	assert.Equal(t, 2, f.count(profileOp), "one rejected call, one retry")
	tok, err := s.Token(ctx)
	require.NoError(t, err)
	assert.NotEqual(t, cust.AccessToken, tok.AccessToken)
}

func TestSecondRejectionFailsWithSessionExpiredWithoutLooping(t *testing.T) {
	t.Parallel()
	f := newFakeShop(t)
	s, _, _ := loginOnFake(t, f, f.sessions, 1)
	f.srv.InjectFault(profileOp, emporixtest.Fault{Status: 401, Times: 1000})

	_, err := s.Client().Profile.Get(context.Background(), nil)
	require.ErrorIs(t, err, emporix.ErrSessionExpired)
	require.ErrorIs(t, err, emporix.ErrUnauthorized, "the 401 stays visible")
	assert.Equal(t, 1, f.count(custRefreshOp), "one refresh, never a loop")
	assert.Equal(t, 2, f.count(profileOp))
}

func TestCancellingOneWaiterDoesNotCancelTheSharedRefresh(t *testing.T) {
	t.Parallel()
	f := newFakeShop(t)
	ctx := context.Background()
	first, err := f.sessions.Session("cookie-1").Token(ctx)
	require.NoError(t, err)
	f.srv.Advance(2 * time.Hour)
	release := f.holdRefreshes(t)
	// Bounds a wait for something that happens at once, so that a broken
	// build fails instead of hanging; generous, as a loaded CI machine
	// can stall a goroutine for a good part of a second.
	const bound = 10 * time.Second

	cancelCtx, cancel := context.WithCancel(ctx)
	cancelled := make(chan error, 1)
	go func() {
		_, err := f.sessions.Session("cookie-1").Token(cancelCtx)
		cancelled <- err
	}()
	patient := make(chan *emporix.Token, 1)
	go func() {
		tok, err := f.sessions.Session("cookie-1").Token(ctx)
		assert.NoError(t, err)
		patient <- tok
	}()
	require.Eventually(t, func() bool { return f.srv.PendingFaults() == 0 }, bound, time.Millisecond,
		"the shared refresh reached the service, held there")

	cancel()
	select {
	case err := <-cancelled:
		assert.ErrorIs(t, err, context.Canceled)
	case <-time.After(bound):
		t.Fatal("the cancelled waiter did not return")
	}
	release()
	select {
	case tok := <-patient:
		assert.NotEqual(t, first.AccessToken, tok.AccessToken)
		assert.Equal(t, first.SessionID, tok.SessionID)
	case <-time.After(bound):
		t.Fatal("the shared refresh did not finish")
	}
	assert.Equal(t, 1, f.count(anonRefreshOp))
	st, _, err := f.store.Load(ctx, "cookie-1")
	require.NoError(t, err)
	assert.NotEqual(t, first.AccessToken, st.Anonymous.AccessToken, "the refresh completed and was stored")
}

func TestLogoutInvalidatesServerSideAndRemovesTheSession(t *testing.T) {
	t.Parallel()
	f := newFakeShop(t)
	ctx := context.Background()
	s, _, cust := loginOnFake(t, f, f.sessions, 1)

	require.NoError(t, s.Logout(ctx))
	assert.Equal(t, 1, f.count(logoutOp))
	assert.Equal(t, []string{string(cust.AccessToken)}, f.sent(t, logoutOp, 0)["accessToken"])
	_, _, err := f.store.Load(ctx, s.Key())
	assert.ErrorIs(t, err, emporix.ErrSessionNotFound)
	assert.Empty(t, f.srv.TokenKind(string(cust.AccessToken)), "the server no longer accepts the token")
}

// legalEntityOf is the legal entity the service scoped tok to.
func legalEntityOf(t *testing.T, f *fakeShop, tok *emporix.Token) string {
	t.Helper()
	info, err := f.client.WithToken(tok).Auth.Validate(context.Background())
	require.NoError(t, err)
	return info.LegalEntityID
}

func TestSwitchLegalEntityRefreshesWithTheLegalEntity(t *testing.T) {
	t.Parallel()
	f := newFakeShop(t)
	ctx := context.Background()
	s, number, cust := loginOnFake(t, f, f.sessions, 1)
	f.srv.AssignLegalEntity(number, emporixtest.LegalEntity{ID: "D165356"})

	tok, err := s.SwitchLegalEntity(ctx, "D165356")
	require.NoError(t, err)
	assert.Equal(t, []string{"D165356"}, f.sent(t, custRefreshOp, 0)["legalEntityId"])
	assert.Equal(t, "D165356", tok.LegalEntityID)
	assert.Equal(t, "D165356", legalEntityOf(t, f, tok), "the service issued a scoped token")
	assert.NotEqual(t, cust.AccessToken, tok.AccessToken)
	current, err := s.Token(ctx)
	require.NoError(t, err)
	assert.Equal(t, tok.AccessToken, current.AccessToken)

	_, err = s.SwitchLegalEntity(ctx, "")
	assert.ErrorIs(t, err, emporix.ErrInvalidInput)
}

func TestLeaveLegalEntityReturnsToTheUnscopedToken(t *testing.T) {
	t.Parallel()
	f := newFakeShop(t)
	ctx := context.Background()
	s, number, _ := loginOnFake(t, f, f.sessions, 1)
	f.srv.AssignLegalEntity(number, emporixtest.LegalEntity{ID: "D165356"})
	f.srv.AssignLegalEntity(number, emporixtest.LegalEntity{ID: "D165357"})
	_, err := s.SwitchLegalEntity(ctx, "D165356")
	require.NoError(t, err)

	tok, err := s.LeaveLegalEntity(ctx)
	require.NoError(t, err)
	assert.NotContains(t, f.sent(t, custRefreshOp, 1), "legalEntityId", "the refresh leaves the scope out")
	assert.Empty(t, tok.LegalEntityID)
	assert.Empty(t, legalEntityOf(t, f, tok), "the service issued an unscoped token")
	st, _, err := f.store.Load(ctx, s.Key())
	require.NoError(t, err)
	assert.Equal(t, tok.AccessToken, st.Customer.AccessToken, "the unscoped token is stored")

	// Automatic refreshes no longer send the scope.
	require.NoError(t, s.InvalidateToken(ctx, tok))
	assert.Equal(t, 3, f.count(custRefreshOp))
	assert.NotContains(t, f.sent(t, custRefreshOp, 2), "legalEntityId")

	// Switching again scopes again; automatic refreshes then keep it.
	_, err = s.SwitchLegalEntity(ctx, "D165357")
	require.NoError(t, err)
	scoped, err := s.Token(ctx)
	require.NoError(t, err)
	require.NoError(t, s.InvalidateToken(ctx, scoped))
	assert.Equal(t, []string{"D165357"}, f.sent(t, custRefreshOp, 4)["legalEntityId"])
}

func TestLeaveLegalEntityNeedsALogin(t *testing.T) {
	t.Parallel()
	f := newFakeShop(t)
	_, err := f.sessions.Session("cookie-1").LeaveLegalEntity(context.Background())
	assert.ErrorIs(t, err, emporix.ErrSessionExpired)
	assert.Zero(t, f.count(custRefreshOp))
	assert.Zero(t, f.count(anonLoginOp), "nothing is sent for a shopper who is not logged in")
}

func TestEmptySessionKeyIsRefused(t *testing.T) {
	t.Parallel()
	f := newFakeShop(t)
	_, err := f.sessions.Session("").Token(context.Background())
	assert.ErrorIs(t, err, emporix.ErrInvalidInput)
	assert.Zero(t, f.count(anonLoginOp))
}

func TestSessionsSurviveARestartThroughTheStoreSnapshot(t *testing.T) {
	t.Parallel()
	f := newFakeShop(t)
	ctx := context.Background()
	s, _, cust := loginOnFake(t, f, f.sessions, 1)
	anon, err := s.AnonymousToken(ctx)
	require.NoError(t, err)

	var snapshot bytes.Buffer
	_, err = f.store.WriteTo(&snapshot)
	require.NoError(t, err)

	restored := emporix.NewMemoryStore()
	_, err = restored.ReadFrom(&snapshot)
	require.NoError(t, err)
	s2 := f.manager(t, restored).Session(s.Key())
	tok, err := s2.Token(ctx)
	require.NoError(t, err)
	assert.Equal(t, cust.AccessToken, tok.AccessToken)
	sid, err := s2.SessionID(ctx)
	require.NoError(t, err)
	assert.Equal(t, anon.SessionID, sid)
	assert.Equal(t, 1, f.count(anonLoginOp), "no new session after the restart")
}

func TestSessionErrorsAreTyped(t *testing.T) {
	t.Parallel()
	_, err := emporix.NewSessionManager(nil, emporix.NewMemoryStore())
	assert.ErrorIs(t, err, emporix.ErrInvalidInput)
	c, err := emporix.NewClient("mytenant", "client-id")
	require.NoError(t, err)
	_, err = emporix.NewSessionManager(c, nil)
	assert.ErrorIs(t, err, emporix.ErrInvalidInput)
	_, err = emporix.NewSessionManager(c, emporix.NewMemoryStore(), emporix.WithRefreshTimeout(0))
	assert.ErrorIs(t, err, emporix.ErrInvalidInput)
	_, err = emporix.NewSessionManager(c, emporix.NewMemoryStore(), emporix.WithSessionContext(emporix.SessionContext{Currency: "EURO"}))
	assert.ErrorIs(t, err, emporix.ErrInvalidInput)
	assert.False(t, errors.Is(emporix.ErrSessionExpired, emporix.ErrUnauthorized))
}

func TestRekeyMovesTheSessionAndForgetsTheOldKey(t *testing.T) {
	t.Parallel()
	f := newFakeShop(t)
	ctx := context.Background()
	old := f.sessions.Session("planted-key")
	anon, err := old.AnonymousToken(ctx)
	require.NoError(t, err)

	renewed, err := old.Rekey(ctx)
	require.NoError(t, err)
	assert.NotEqual(t, "planted-key", renewed.Key())
	assert.Len(t, renewed.Key(), 22)
	sid, err := renewed.SessionID(ctx)
	require.NoError(t, err)
	assert.Equal(t, anon.SessionID, sid, "the Emporix session (and cart) moves along")
	_, _, err = f.store.Load(ctx, "planted-key")
	assert.ErrorIs(t, err, emporix.ErrSessionNotFound, "the planted key names nothing any more")
	assert.Equal(t, 1, f.count(anonLoginOp))

	fresh, err := f.sessions.Session("never-used").Rekey(ctx)
	require.NoError(t, err)
	assert.Equal(t, 1, f.store.Len(), "rekeying an unused session stores nothing: only the moved one is there")
	assert.NotEmpty(t, fresh.Key())
}
