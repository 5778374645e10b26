package emporix_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emporix-go/emporix"
	"github.com/emporix-go/emporix/emporixtest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// errStoreDown is what a store answers while its server is unreachable.
var errStoreDown = errors.New("dial tcp 127.0.0.1:6379: connect: connection refused")

// outageStore wraps a MemoryStore with the failures of a store server:
// saves only failing (the refresh ran, the write did not), the whole store
// down, and restarts with the data kept or empty.
type outageStore struct {
	mu        sync.RWMutex
	mem       *emporix.MemoryStore
	down      atomic.Bool
	failSaves atomic.Bool
	saveFails atomic.Int64
}

func newOutageStore() *outageStore { return &outageStore{mem: emporix.NewMemoryStore()} }

func (o *outageStore) inner() *emporix.MemoryStore {
	o.mu.RLock()
	defer o.mu.RUnlock()
	return o.mem
}

func (o *outageStore) Load(ctx context.Context, key string) (*emporix.SessionState, uint64, error) {
	if o.down.Load() {
		return nil, 0, errStoreDown
	}
	return o.inner().Load(ctx, key)
}

func (o *outageStore) Save(ctx context.Context, key string, st *emporix.SessionState, expected uint64) (uint64, error) {
	if o.down.Load() || o.failSaves.Load() {
		o.saveFails.Add(1)
		return 0, errStoreDown
	}
	return o.inner().Save(ctx, key, st, expected)
}

func (o *outageStore) Delete(ctx context.Context, key string) error {
	if o.down.Load() {
		return errStoreDown
	}
	return o.inner().Delete(ctx, key)
}

// lockingStore adds a refresh lock with a short lifetime to an
// outageStore, as redisstore has: taking it fails while the store is down;
// its holder renews it while the store answers (redisstore renews every
// third of the lifetime; here renewal is continuous, so the lock's
// lifetime is all outage time and no scheduling delay can shorten it);
// renewal stops while the store is down, so a lock whose outage outlasts
// its lifetime expires; and a release that fails is retried until the
// store answers (or the lock expired), as redisstore's is.
type lockingStore struct {
	*outageStore
	ttl    time.Duration
	mu     sync.Mutex
	downAt time.Time            // when the store last went down
	locks  map[string]*heldLock // name → lock
}

// heldLock is one taken lock. until is zero while its holder holds and
// renews it, and otherwise when it expires; released says its holder let
// go while the store was down.
type heldLock struct {
	until    time.Time
	released bool
}

func (l *lockingStore) setDown(down bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := time.Now()
	if down {
		l.downAt = now
		l.down.Store(true)
		return
	}
	expired := l.downAt.Add(l.ttl)
	for name, h := range l.locks {
		switch {
		case h.released:
			delete(l.locks, name) // the retried release lands
		case h.until.IsZero() && now.After(expired):
			h.until = expired // its holder could not renew it in time
		}
	}
	l.down.Store(false)
}

func (l *lockingStore) LockRefresh(ctx context.Context, name string) (func(), error) {
	for {
		if l.down.Load() {
			return nil, errStoreDown
		}
		l.mu.Lock()
		if h, held := l.locks[name]; !held || (!h.until.IsZero() && time.Now().After(h.until)) {
			mine := &heldLock{}
			l.locks[name] = mine
			l.mu.Unlock()
			var once sync.Once
			return func() {
				once.Do(func() {
					l.mu.Lock()
					defer l.mu.Unlock()
					if l.locks[name] != mine {
						return // expired and taken by another holder
					}
					if l.down.Load() {
						// The release is retried when the store is
						// back, unless the lock expired by then.
						if mine.until.IsZero() {
							mine.until = l.downAt.Add(l.ttl)
						}
						mine.released = true
						return
					}
					delete(l.locks, name)
				})
			}, nil
		}
		l.mu.Unlock()
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(2 * time.Millisecond):
		}
	}
}

// restartEmpty replaces the contents with nothing, as a store that comes
// back without its data.
func (o *outageStore) restartEmpty() {
	o.mu.Lock()
	o.mem = emporix.NewMemoryStore(emporix.WithStoreClock(time.Now))
	o.mu.Unlock()
}

// refused counts customer refreshes the fake refused.
func refused(srv *emporixtest.Server) int {
	n := 0
	for _, r := range srv.Requests("GET-customer-refresh-authtoken") {
		if r.Status == http.StatusUnauthorized {
			n++
		}
	}
	return n
}

func TestRefreshedTokensSurviveAFailedSaveAndLandLater(t *testing.T) {
	t.Parallel()
	f := newFakeShop(t, emporixtest.WithLifetimes(emporixtest.Lifetimes{CustomerAccess: 10 * time.Minute}))
	store := newOutageStore()
	a, b := f.manager(t, store), f.manager(t, store)
	ctx := context.Background()
	s, number, first := loginOnFake(t, f, a, 1)
	f.srv.Advance(11 * time.Minute)

	store.failSaves.Store(true)
	tok, err := s.Token(ctx)
	require.NoError(t, err, "the refresh succeeded at the service: its tokens are served")
	assert.NotEqual(t, first.AccessToken, tok.AccessToken)
	assert.Positive(t, store.saveFails.Load())
	again, err := a.Session(s.Key()).Token(ctx)
	require.NoError(t, err)
	assert.Equal(t, tok.AccessToken, again.AccessToken, "kept in process: no second refresh with the spent token")
	p, err := a.Session(s.Key()).Client().Profile.Get(ctx, nil)
	require.NoError(t, err)
	assert.Equal(t, number, p.CustomerNumber)

	store.failSaves.Store(false)
	require.Eventually(t, func() bool {
		st, _, err := store.Load(ctx, s.Key())
		return err == nil && st.Customer != nil && st.Customer.AccessToken == tok.AccessToken
	}, 5*time.Second, 5*time.Millisecond, "the save lands once the store takes writes again")
	other, err := b.Session(s.Key()).Token(ctx)
	require.NoError(t, err)
	assert.Equal(t, tok.AccessToken, other.AccessToken, "the other manager finds the rotated token")
	assert.Zero(t, refused(f.srv), "no spent refresh token was sent")
	assert.Empty(t, f.changes.all())
}

func TestEveryTokenPathKeepsItsTokensWhenTheSaveFails(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		// obtain runs a path that gets tokens while saves fail, and returns
		// the token it obtained.
		obtain func(t *testing.T, f *fakeShop, s *emporix.Session) *emporix.Token
		kind   emporix.TokenKind
	}{
		{"anonymous login", func(t *testing.T, f *fakeShop, s *emporix.Session) *emporix.Token {
			tok, err := s.AnonymousToken(ctx)
			require.NoError(t, err)
			return tok
		}, emporix.KindAnonymous},
		{"anonymous refresh", func(t *testing.T, f *fakeShop, s *emporix.Session) *emporix.Token {
			f.srv.Advance(2 * time.Hour)
			tok, err := s.AnonymousToken(ctx)
			require.NoError(t, err)
			return tok
		}, emporix.KindAnonymous},
		{"customer login", func(t *testing.T, f *fakeShop, s *emporix.Session) *emporix.Token {
			email, _ := f.customer(t, 7)
			tok, err := s.Login(ctx, &emporix.LoginRequest{Email: email, Password: "password123"})
			require.NoError(t, err)
			return tok
		}, emporix.KindCustomer},
		{"social login", func(t *testing.T, f *fakeShop, s *emporix.Session) *emporix.Token {
			f.srv.AddSocialCode("code-1", emporixtest.SocialCode{Email: "social@example.com"})
			tok, err := s.SocialLogin(ctx, &emporix.SocialLoginRequest{Code: "code-1", RedirectURI: "https://shop.example/cb"})
			require.NoError(t, err)
			return tok
		}, emporix.KindCustomer},
		{"customer refresh", func(t *testing.T, f *fakeShop, s *emporix.Session) *emporix.Token {
			email, _ := f.customer(t, 8)
			f.srv.SetLifetimes(emporixtest.Lifetimes{CustomerAccess: 10 * time.Minute})
			_, err := s.Login(ctx, &emporix.LoginRequest{Email: email, Password: "password123"})
			require.NoError(t, err)
			f.srv.Advance(11 * time.Minute)
			return nil // refreshed below, with saves failing
		}, emporix.KindCustomer},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFakeShop(t)
			store := newOutageStore()
			m := f.manager(t, store)
			s := m.Session(emporix.NewSessionKey())
			if tc.name == "anonymous refresh" {
				_, err := s.AnonymousToken(ctx)
				require.NoError(t, err)
			}
			if tc.name != "customer refresh" && tc.name != "anonymous refresh" {
				store.failSaves.Store(true)
			}
			tok := tc.obtain(t, f, s)
			if tok == nil || tc.name == "anonymous refresh" {
				store.failSaves.Store(true)
				var err error
				if tok == nil {
					tok, err = s.Token(ctx)
				} else {
					f.srv.Advance(2 * time.Hour)
					tok, err = s.AnonymousToken(ctx)
				}
				require.NoError(t, err)
			}
			require.Positive(t, store.saveFails.Load(), "the save failed")
			served, err := m.Session(s.Key()).Token(ctx)
			require.NoError(t, err)
			if tc.kind == emporix.KindCustomer {
				assert.Equal(t, tok.AccessToken, served.AccessToken, "served from process while unsaved")
			}
			store.failSaves.Store(false)
			require.Eventually(t, func() bool {
				st, _, err := store.Load(ctx, s.Key())
				if err != nil {
					return false
				}
				got := st.Anonymous
				if tc.kind == emporix.KindCustomer {
					got = st.Customer
				}
				return got != nil && got.AccessToken == tok.AccessToken
			}, 5*time.Second, 5*time.Millisecond, "saved once the store recovers")
		})
	}
}

func TestSwitchLegalEntityKeepsItsTokenWhenTheSaveFails(t *testing.T) {
	t.Parallel()
	f := newFakeShop(t)
	store := newOutageStore()
	m := f.manager(t, store)
	ctx := context.Background()
	s, number, _ := loginOnFake(t, f, m, 1)
	require.True(t, f.srv.AssignLegalEntity(number, emporixtest.LegalEntity{ID: "le-1", Name: "Acme"}))
	store.failSaves.Store(true)
	tok, err := s.SwitchLegalEntity(ctx, "le-1")
	require.NoError(t, err)
	assert.Equal(t, "le-1", tok.LegalEntityID)
	store.failSaves.Store(false)
	require.Eventually(t, func() bool {
		st, _, err := store.Load(ctx, s.Key())
		return err == nil && st.Customer != nil && st.Customer.AccessToken == tok.AccessToken
	}, 5*time.Second, 5*time.Millisecond)
}

// Steady traffic of 2 managers on 40 logged-in shoppers with 10-minute
// customer tokens that rotate, on a store with a refresh lock (as two
// replicas on Redis), and the store down for a while in the middle, then
// back with its data: every shopper is still logged in, no spent refresh
// token is sent, and no call fails more than the lock's lifetime after the
// store answers again.
func TestAStoreOutageWithDataKeptLosesNoLogin(t *testing.T) {
	// Not parallel: it bounds real time (the lock's lifetime), which other
	// tests' load would stretch.
	const shoppers = 40
	f := newFakeShop(t, emporixtest.WithLifetimes(emporixtest.Lifetimes{CustomerAccess: 10 * time.Minute}))
	store := &lockingStore{outageStore: newOutageStore(), ttl: 300 * time.Millisecond, locks: map[string]*heldLock{}}
	managers := []*emporix.SessionManager{f.manager(t, store), f.manager(t, store)}
	ctx := context.Background()
	keys := make([]string, shoppers)
	for i := range keys {
		s, _, _ := loginOnFake(t, f, managers[i%2], 100+i)
		keys[i] = s.Key()
	}
	var upAt atomic.Int64 // when the store came back, Unix ns
	var lastFailure atomic.Int64
	var lastErr atomic.Value
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for i := range shoppers {
		for _, m := range managers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					select {
					case <-stop:
						return
					default:
					}
					if _, err := m.Session(keys[i]).Token(ctx); err != nil {
						lastFailure.Store(time.Now().UnixNano())
						lastErr.Store(fmt.Sprint(err))
					}
					time.Sleep(time.Millisecond)
				}
			}()
		}
	}
	// The clock moves on: every 10-minute token is refreshed again and
	// again, some of them while the store is down.
	// The outage is shorter than the lock's lifetime (the case this test
	// is about: a longer one lets the lock expire under its holder), also
	// on a loaded machine where sleeps overrun: the store comes back after
	// 10 clock steps or a third of the lock's lifetime, whichever is first.
	var upOnce sync.Once
	up := func() {
		upOnce.Do(func() {
			store.setDown(false)
			upAt.Store(time.Now().UnixNano())
		})
	}
	for step := range 30 {
		f.srv.Advance(time.Minute)
		if step == 10 {
			store.setDown(true)
			defer time.AfterFunc(store.ttl/3, up).Stop()
		}
		if step == 20 {
			up()
		}
		if store.down.Load() {
			time.Sleep(5 * time.Millisecond)
		} else {
			time.Sleep(20 * time.Millisecond)
		}
	}
	close(stop)
	wg.Wait()

	loggedIn := 0
	for _, k := range keys {
		in, err := managers[0].Session(k).LoggedIn(ctx)
		require.NoError(t, err)
		if in {
			loggedIn++
		}
	}
	assert.Equal(t, shoppers, loggedIn, "shoppers logged in at the end")
	assert.Zero(t, refused(f.srv), "refused refresh tokens")
	if late := time.Duration(lastFailure.Load() - upAt.Load()); late > store.ttl {
		t.Errorf("a call failed %v after the store was back: %v", late, lastErr.Load())
	}
	t.Logf("shoppers logged in at the end: %d/%d; refused refresh tokens: %d; last error: %v",
		loggedIn, shoppers, refused(f.srv), lastErr.Load())
	for _, ch := range f.changes.all() {
		t.Errorf("unexpected session change: %v", ch)
	}
}

func TestAStoreThatComesBackEmptyReportsEveryLostSession(t *testing.T) {
	t.Parallel()
	const shoppers = 20
	f := newFakeShop(t)
	store := newOutageStore()
	m := f.manager(t, store)
	stranger := f.manager(t, store) // a replica that never saw these sessions
	ctx := context.Background()
	keys, ids := make([]string, shoppers), make([]string, shoppers)
	for i := range keys {
		var s *emporix.Session
		if i%2 == 0 {
			s, _, _ = loginOnFake(t, f, m, 200+i)
		} else {
			s = m.Session(emporix.NewSessionKey())
		}
		id, err := s.SessionID(ctx)
		require.NoError(t, err)
		keys[i], ids[i] = s.Key(), id
	}
	store.restartEmpty()

	for i, k := range keys {
		mgr, cctx := m, ctx
		if i%4 == 3 {
			// Another replica: only the cookie remembers the session ID.
			mgr, cctx = stranger, emporix.RememberSessionID(ctx, ids[i])
		}
		_, err := mgr.Session(k).Token(cctx)
		require.NoError(t, err, "the shopper goes on as a guest")
	}
	reported := map[string]emporix.SessionChange{}
	for _, ch := range f.changes.all() {
		assert.Equal(t, emporix.ReasonSessionLost, ch.Reason)
		reported[string(ch.Key)] = ch
	}
	for i, k := range keys {
		ch, ok := reported[k]
		if assert.True(t, ok, "shopper %d: the lost session is reported", i) {
			assert.Equal(t, ids[i], ch.OldSessionID)
			assert.NotEqual(t, ids[i], ch.NewSessionID)
		}
	}
	assert.Len(t, f.changes.all(), shoppers, "once each")
}
