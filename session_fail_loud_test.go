package emporix_test

import (
	"context"
	"fmt"
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

// Two managers share one emporix.MemoryStore, which does not lock; customer
// refresh tokens rotate, so of two refreshes with the same refresh token
// one is rejected. The loser must adopt the winner's token: no request
// fails and no shopper is logged out.
func TestTwoManagersWithoutALockLoseNoLoginToARotationRace(t *testing.T) {
	t.Parallel()
	const (
		rounds     = 100
		goroutines = 500 // per manager
	)
	f := newFakeShop(t, emporixtest.WithLifetimes(emporixtest.Lifetimes{CustomerAccess: 10 * time.Minute}))
	store := emporix.NewMemoryStore(emporix.WithStoreClock(f.srv.Now))
	managers := []*emporix.SessionManager{f.manager(t, store), f.manager(t, store)}
	ctx := context.Background()
	email, number := f.customer(t, 1)
	key := emporix.NewSessionKey()
	_, err := managers[0].Session(key).Login(ctx, &emporix.LoginRequest{Email: email, Password: "password123"})
	require.NoError(t, err)
	sessionID, err := managers[0].Session(key).SessionID(ctx)
	require.NoError(t, err)

	var failed atomic.Int64
	var firstErr atomic.Value
	for round := range rounds {
		f.srv.Advance(11 * time.Minute) // past the customer token: every request needs the refresh
		start := make(chan struct{})
		var wg sync.WaitGroup
		for _, m := range managers {
			for range goroutines {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-start
					s := m.Session(key)
					tok, err := s.Token(ctx)
					if err == nil && tok.Kind != emporix.KindCustomer {
						err = fmt.Errorf("round %d: served a %v token", round, tok.Kind)
					}
					if err != nil {
						failed.Add(1)
						firstErr.CompareAndSwap(nil, err)
					}
				}()
			}
		}
		close(start)
		wg.Wait()
		// One request per manager and round reaches the service with the
		// token it served.
		for _, m := range managers {
			p, err := m.Session(key).Client().Profile.Get(ctx, nil)
			if err != nil {
				failed.Add(1)
				firstErr.CompareAndSwap(nil, err)
				continue
			}
			assert.Equal(t, number, p.CustomerNumber)
		}
		if failed.Load() > 0 {
			break
		}
	}
	if err, _ := firstErr.Load().(error); err != nil {
		t.Errorf("first failure: %v", err)
	}
	assert.Zero(t, failed.Load(), "failed requests")
	in, err := managers[1].Session(key).LoggedIn(ctx)
	require.NoError(t, err)
	assert.True(t, in, "the shopper is still logged in")
	for _, ch := range f.changes.all() {
		t.Errorf("unexpected session change: %v", ch)
	}
	got, err := managers[1].Session(key).SessionID(ctx)
	require.NoError(t, err)
	assert.Equal(t, sessionID, got, "the session ID (and the cart) is kept")
	assert.GreaterOrEqual(t, len(f.srv.Requests("GET-customer-refresh-authtoken")), rounds, "the token rotated every round")
}

func TestEndedLoginIsReportedAndTheNextCustomerCallFailsLoudly(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		// end ends the login; the next Profile.Get finds out.
		end func(t *testing.T, f *fakeShop, tok *emporix.Token)
	}{
		{"logout elsewhere (token and refresh token revoked)", func(t *testing.T, f *fakeShop, tok *emporix.Token) {
			require.NoError(t, f.client.WithToken(tok).Auth.Logout(ctx))
		}},
		{"refresh token expired", func(t *testing.T, f *fakeShop, tok *emporix.Token) {
			f.srv.Advance(tok.RefreshExpiry.Sub(f.srv.Now()) + time.Minute)
		}},
		{"refresh rejected in a background refresh", func(t *testing.T, f *fakeShop, tok *emporix.Token) {
			// The access token still works but is inside its refresh
			// window; its refresh token was revoked. A lookup serves it
			// and the background refresh finds the login ended.
			require.True(t, f.srv.RevokeToken(string(tok.RefreshToken)))
			f.srv.Advance(tok.Expiry.Sub(f.srv.Now()) - 20*time.Second)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFakeShop(t, emporixtest.WithLifetimes(emporixtest.Lifetimes{
				CustomerAccess: time.Hour, CustomerRefresh: 2 * time.Hour, AnonymousRefresh: 48 * time.Hour}))
			m := f.manager(t, emporix.NewMemoryStore(emporix.WithStoreClock(f.srv.Now)))
			emporix.SetAdoptWait(m, 50*time.Millisecond)
			s, number, tok := loginOnFake(t, f, m, 1)
			sessionID, err := s.SessionID(ctx)
			require.NoError(t, err)
			tc.end(t, f, tok)

			if strings.Contains(tc.name, "background") {
				served, err := s.Token(ctx)
				require.NoError(t, err, "a valid token is served while the refresh runs")
				assert.Equal(t, tok.AccessToken, served.AccessToken)
				require.Eventually(t, func() bool { return len(f.changes.all()) == 1 }, 5*time.Second, time.Millisecond)
			}
			_, err = s.Client().Profile.Get(ctx, nil)
			require.ErrorIs(t, err, emporix.ErrSessionExpired, "a call for the customer fails instead of answering as a guest")
			assert.NotContains(t, err.Error(), "\n", "one line")
			assert.Contains(t, err.Error(), "GET /customer/{tenant}/me", "names the operation")
			assert.NotContains(t, err.Error(), tok.RefreshToken)

			assert.Equal(t, []emporix.SessionChange{{Key: emporix.Secret(s.Key()), OldSessionID: sessionID, NewSessionID: sessionID,
				Reason: emporix.ReasonLoginEnded, CustomerNumber: number}}, f.changes.all(), "reported once, with the customer")

			in, err := s.LoggedIn(ctx)
			require.NoError(t, err)
			assert.False(t, in)
			guest, err := s.Client().Profile.Get(ctx, nil)
			require.NoError(t, err, "afterwards the session goes on as a guest")
			assert.True(t, guest.Anonymous(), "the guest's pseudo-customer")
			got, err := s.SessionID(ctx)
			require.NoError(t, err)
			assert.Equal(t, sessionID, got, "with the same session ID")
			assert.Len(t, f.changes.all(), 1)
		})
	}
}

func TestSessionMethodsValidateBeforeAnyRequest(t *testing.T) {
	t.Parallel()
	f := newFakeShop(t)
	m := f.manager(t, emporix.NewMemoryStore(emporix.WithStoreClock(f.srv.Now)))
	var nilCtx context.Context
	fresh := func() *emporix.Session { return m.Session(emporix.NewSessionKey()) }
	empty := m.Session("")
	ctx := context.Background()
	calls := map[string]func() error{
		"Login(nil)":         func() error { _, err := fresh().Login(ctx, nil); return err },
		"Login(no password)": func() error { _, err := fresh().Login(ctx, &emporix.LoginRequest{Email: "a@example.com"}); return err },
		"Login(nil ctx)": func() error {
			_, err := fresh().Login(nilCtx, &emporix.LoginRequest{Email: "a@example.com", Password: "password123"})
			return err
		},
		"SocialLogin(nil)": func() error { _, err := fresh().SocialLogin(ctx, nil); return err },
		"SocialLogin(no code)": func() error {
			_, err := fresh().SocialLogin(ctx, &emporix.SocialLoginRequest{RedirectURI: "https://x"})
			return err
		},
		"ExchangeToken(nil)":      func() error { _, err := fresh().ExchangeToken(ctx, nil); return err },
		"ConfirmOptIn(empty)":     func() error { _, err := fresh().ConfirmOptIn(ctx, ""); return err },
		"SwitchLegalEntity(none)": func() error { _, err := fresh().SwitchLegalEntity(ctx, ""); return err },
		"SwitchLegalEntity(nil ctx)": func() error {
			_, err := fresh().SwitchLegalEntity(nilCtx, "le-1")
			return err
		},
		"LeaveLegalEntity(nil ctx)": func() error { _, err := fresh().LeaveLegalEntity(nilCtx); return err },
		"emporix.Token(empty key)":  func() error { _, err := empty.Token(ctx); return err },
		"AnonymousToken(nil ctx)":   func() error { _, err := fresh().AnonymousToken(nilCtx); return err },
		"SessionID(empty key)":      func() error { _, err := empty.SessionID(ctx); return err },
		"Logout(nil ctx)":           func() error { return fresh().Logout(nilCtx) },
		"Rekey(empty key)":          func() error { _, err := empty.Rekey(ctx); return err },
		"State(nil ctx)":            func() error { _, err := fresh().State(nilCtx); return err },
		"LoggedIn(empty key)":       func() error { _, err := empty.LoggedIn(ctx); return err },
		"Profile.Get(nil ctx)":      func() error { _, err := fresh().Client().Profile.Get(nilCtx, nil); return err },
		"InvalidateToken(nil ctx)":  func() error { return fresh().InvalidateToken(nilCtx, &emporix.Token{AccessToken: "x"}) },
		"Addresses.Get(no id)":      func() error { _, err := fresh().Client().Addresses.Get(ctx, ""); return err },
		"Credentials.Change(nil)":   func() error { return fresh().Client().Credentials.ChangePassword(ctx, nil) },
		"Profile.Update(nil patch)": func() error { return fresh().Client().Profile.Update(ctx, nil) },
	}
	for name, call := range calls {
		before := f.wire.n.Load()
		err := call()
		var ve *emporix.ValidationError
		assert.ErrorAs(t, err, &ve, "%s: a typed validation error", name)
		assert.Equal(t, before, f.wire.n.Load(), "%s: nothing is sent", name)
	}
	assert.Zero(t, store(m).Len(), "no session was started")

	// LoggedIn and State read the store only, for a fresh key and for a
	// logged-in session alike.
	s := fresh()
	before := f.wire.n.Load()
	in, err := s.LoggedIn(ctx)
	require.NoError(t, err)
	assert.False(t, in)
	_, err = s.State(ctx)
	require.ErrorIs(t, err, emporix.ErrSessionNotFound, "no session yet")
	assert.Equal(t, before, f.wire.n.Load(), "a fresh key sends nothing")

	logged, _, _ := loginOnFake(t, f, m, 2)
	f.srv.Advance(2 * time.Hour) // the anonymous token expired: still nothing to send for these
	before = f.wire.n.Load()
	in, err = logged.LoggedIn(ctx)
	require.NoError(t, err)
	assert.True(t, in, "the store still holds the customer token")
	st, err := logged.State(ctx)
	require.NoError(t, err)
	assert.NotNil(t, st.Customer)
	assert.Equal(t, before, f.wire.n.Load(), "LoggedIn and State send no request")
}

func store(m *emporix.SessionManager) *emporix.MemoryStore { return m.Store().(*emporix.MemoryStore) }

func TestErrorsNameTheOperationAndKeepTheirSentinel(t *testing.T) {
	t.Parallel()
	f := newFakeShop(t)
	ctx := context.Background()
	anon := &emporix.Token{Kind: emporix.KindAnonymous, AccessToken: "anon-at"}
	cust := &emporix.Token{Kind: emporix.KindCustomer, AccessToken: "cust-at"}
	expired, cancel := context.WithDeadline(ctx, time.Now().Add(-time.Second))
	defer cancel()
	m := f.manager(t, emporix.NewMemoryStore())
	loggedIn, _, _ := loginOnFake(t, f, m, 1)
	f.srv.Advance(31 * 24 * time.Hour) // the customer token expired: a lookup must wait for its refresh

	for _, tc := range []struct {
		name   string
		call   func() error
		target error
		op     string
	}{
		{"customer token required", func() error {
			_, err := f.client.WithToken(anon).Addresses.List(ctx)
			return err
		}, emporix.ErrCustomerTokenRequired, "GET /customer/{tenant}/me/addresses"},
		{"anonymous token required", func() error {
			_, err := f.client.WithTokenSource(emporix.StaticTokens(nil, cust)).Auth.Login(ctx,
				&emporix.LoginRequest{Email: "a@example.com", Password: "password123"})
			return err
		}, emporix.ErrAnonymousTokenRequired, "POST /customer/{tenant}/login"},
		{"no token", func() error {
			_, err := f.client.Profile.Get(ctx, nil)
			return err
		}, emporix.ErrNoToken, "GET /customer/{tenant}/me"},
		{"context ended during a fresh session's token lookup", func() error {
			_, err := m.Session(emporix.NewSessionKey()).Client().Profile.Get(expired, nil)
			return err
		}, context.DeadlineExceeded, "GET /customer/{tenant}/me"},
		{"context ended while waiting for a customer refresh", func() error {
			_, err := loggedIn.Client().Addresses.List(expired)
			return err
		}, context.DeadlineExceeded, "GET /customer/{tenant}/me/addresses"},
	} {
		err := tc.call()
		require.Error(t, err, tc.name)
		assert.ErrorIs(t, err, tc.target, tc.name)
		assert.Contains(t, err.Error(), tc.op, "%s: names the operation", tc.name)
		assert.NotContains(t, err.Error(), "\n", "%s: one line", tc.name)
		assert.Equal(t, 1, strings.Count(err.Error(), "emporix: "), "%s: one prefix: %v", tc.name, err)
	}
}

// gatedLocker is a MemoryStore whose refresh lock is taken only once open
// is closed: a renewal started meanwhile stays running, so a test can see
// that it was started.
type gatedLocker struct {
	*emporix.MemoryStore
	free atomic.Bool // the lock is taken at once
	open chan struct{}
}

func (g *gatedLocker) LockRefresh(ctx context.Context, _ string) (func(), error) {
	if g.free.Load() {
		return func() {}, nil
	}
	select {
	case <-g.open:
		return func() {}, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// TestAnEndedContextStartsNoRenewal: a call whose context has already
// ended fails with that context's error and starts no renewal. Had it
// started one, the wait that follows would pick between the ended context
// and the renewal, and a renewal the in-process fake finished at once would
// make the same call fail with another error now and then (seen under load
// in TestErrorsNameTheOperationAndKeepTheirSentinel). The renewals here
// cannot finish while the test looks, so one started shows every time.
func TestAnEndedContextStartsNoRenewal(t *testing.T) {
	t.Parallel()
	f := newFakeShop(t)
	gate := &gatedLocker{MemoryStore: emporix.NewMemoryStore(), open: make(chan struct{})}
	t.Cleanup(func() { close(gate.open) })
	m := f.manager(t, gate)
	gate.free.Store(true) // the login's anonymous session takes the lock freely
	loggedIn, _, _ := loginOnFake(t, f, m, 1)
	gate.free.Store(false)
	f.srv.Advance(31 * 24 * time.Hour) // every token of the login is due
	expired, cancel := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer cancel()

	_, err := m.Session(emporix.NewSessionKey()).Client().Profile.Get(expired, nil)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Equal(t, 0, emporix.FlightsRunning(m), "a fresh session's lookup started an anonymous login")

	_, err = loggedIn.Client().Addresses.List(expired)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Equal(t, 0, emporix.FlightsRunning(m), "a due customer token's lookup started a refresh")

	_, err = loggedIn.Token(expired)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Equal(t, 0, emporix.FlightsRunning(m), "Session.Token started a refresh")
}
