package emporix_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/emporix-go/emporix"
	"github.com/emporix-go/emporix/emporixtest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A session the store forgot is replaced and reported with the session ID
// the application remembered, whichever way the store lost it.
func TestSessionLostByTheStoreIsReportedWithTheRememberedID(t *testing.T) {
	t.Parallel()
	forget := map[string]func(t *testing.T, f *fakeShop, key string){
		"deleted": func(t *testing.T, f *fakeShop, key string) {
			require.NoError(t, f.store.Delete(context.Background(), key))
		},
		"evicted": func(_ *testing.T, f *fakeShop, _ string) {
			// Past the deadline and the grace: the store forgets it, although
			// the shopper's cookie still names it.
			f.srv.Advance(emporix.DefaultAnonymousRefreshLifetime + emporix.DefaultStoreGrace + time.Minute)
			f.store.Sweep()
		},
	}
	for name, lose := range forget {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f := newFakeShop(t)
			var hookCtxID string
			m, err := emporix.NewSessionManager(f.client, f.store, emporix.WithSessionChangeHook(func(ctx context.Context, ch emporix.SessionChange) {
				hookCtxID = emporix.RememberedSessionID(ctx)
				f.changes.add(ch)
			}))
			require.NoError(t, err)
			s := m.Session("cookie-1")
			oldID, err := s.SessionID(context.Background())
			require.NoError(t, err)
			lose(t, f, s.Key())
			_, _, err = f.store.Load(context.Background(), s.Key())
			require.ErrorIs(t, err, emporix.ErrSessionNotFound)

			ctx := emporix.RememberSessionID(context.Background(), oldID)
			tok, err := s.Token(ctx)
			require.NoError(t, err)
			require.NotEqual(t, oldID, tok.SessionID, "a new session was started")
			assert.Equal(t, []emporix.SessionChange{{Key: "cookie-1", OldSessionID: oldID, NewSessionID: tok.SessionID, Reason: emporix.ReasonSessionLost}},
				f.changes.all())
			assert.Equal(t, oldID, hookCtxID, "the hook can read the remembered ID from its context")

			// Reported once: the new session is stored, and the storefront
			// now remembers its ID.
			_, err = s.Token(emporix.RememberSessionID(context.Background(), tok.SessionID))
			require.NoError(t, err)
			assert.Len(t, f.changes.all(), 1)
		})
	}
}

// Without a remembered ID a new session is a first visit: nothing to report.
// A remembered ID equal to the new one is no change either.
func TestFirstVisitIsNotALostSession(t *testing.T) {
	t.Parallel()
	f := newFakeShop(t)
	ctx := context.Background()
	_, err := f.sessions.Session("cookie-1").Token(ctx)
	require.NoError(t, err)
	_, err = f.sessions.Session("cookie-2").Token(emporix.RememberSessionID(ctx, ""))
	require.NoError(t, err)
	assert.Empty(t, f.changes.all())
	assert.Equal(t, "", emporix.RememberedSessionID(ctx))

	// The store forgets cookie-1, and the service answers the new login
	// with the session ID the storefront remembers.
	s := f.sessions.Session("cookie-1")
	id, err := s.SessionID(ctx)
	require.NoError(t, err)
	require.NoError(t, f.store.Delete(ctx, s.Key()))
	f.srv.InjectFault(anonLoginOp, emporixtest.Fault{Status: 200, Body: fmt.Sprintf(`{"token_type":"Bearer",`+
		`"access_token":"at","expires_in":3599,"refresh_token":"rt","refresh_token_expires_in":86399,"sessionId":%q}`, id)})
	tok, err := s.Token(emporix.RememberSessionID(ctx, id))
	require.NoError(t, err)
	assert.Equal(t, id, tok.SessionID)
	assert.Empty(t, f.changes.all())
}

// echoStore is a store whose write can land while its caller hears of a
// conflict: a compare-and-swap whose reply was lost (a timeout) and that
// the store's client retried, so the retry found the first attempt's
// version. It can also forget every session, like a store restarted empty.
type echoStore struct {
	*emporix.MemoryStore
	mu        sync.Mutex
	lostReply int                              // saves still to answer with a conflict after landing
	of        func(*emporix.SessionState) bool // which saves; nil: any
}

func (e *echoStore) Save(ctx context.Context, key string, state *emporix.SessionState, expected uint64) (uint64, error) {
	v, err := e.MemoryStore.Save(ctx, key, state, expected)
	e.mu.Lock()
	defer e.mu.Unlock()
	if err == nil && e.lostReply > 0 && (e.of == nil || e.of(state)) {
		e.lostReply--
		return 0, emporix.ErrStoreConflict
	}
	return v, err
}

func (e *echoStore) loseNextReply() { e.loseNextReplyOf(nil) }

func (e *echoStore) loseNextReplyOf(of func(*emporix.SessionState) bool) {
	e.mu.Lock()
	e.lostReply, e.of = 1, of
	e.mu.Unlock()
}

// A session whose save landed although the store answered a conflict is
// the renewal's own: its session ID is remembered and its change reported.
// Without a remembered ID, the process's own record is what tells a
// session the store forgot from a first visit.
func TestALandedSaveAnsweredWithAConflictKeepsTheLostSessionReport(t *testing.T) {
	t.Parallel()
	for _, first := range []bool{false, true} {
		name := map[bool]string{false: "the new session's save", true: "the first session's save"}[first]
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f := newFakeShop(t)
			store := &echoStore{MemoryStore: f.store}
			ctx := context.Background()
			s := f.manager(t, store).Session("cookie-1")
			if first {
				store.loseNextReply()
			}
			oldID, err := s.SessionID(ctx)
			require.NoError(t, err)
			require.NoError(t, store.Delete(ctx, s.Key())) // the store forgets it
			if !first {
				store.loseNextReply()
			}

			tok, err := s.Token(ctx) // no remembered ID: the process's record tells
			require.NoError(t, err)
			require.NotEqual(t, oldID, tok.SessionID, "a new session was started")
			assert.Equal(t, []emporix.SessionChange{{Key: "cookie-1", OldSessionID: oldID, NewSessionID: tok.SessionID, Reason: emporix.ReasonSessionLost}},
				f.changes.all())
			st, _, err := store.Load(ctx, s.Key())
			require.NoError(t, err)
			assert.Equal(t, tok.SessionID, st.Anonymous.SessionID, "the new session is stored")
			_, err = s.Token(ctx)
			require.NoError(t, err)
			assert.Len(t, f.changes.all(), 1, "reported once")
		})
	}
}

// An ended login whose save landed behind a conflict answer is reported
// once, and the caller told of it clears the marker: the next call serves
// the guest.
func TestALandedSaveAnsweredWithAConflictKeepsTheEndedLoginReport(t *testing.T) {
	t.Parallel()
	f := newFakeShop(t, emporixtest.WithLifetimes(emporixtest.Lifetimes{CustomerAccess: time.Hour}))
	store := &echoStore{MemoryStore: f.store}
	m := f.manager(t, store)
	emporix.SetAdoptWait(m, time.Millisecond) // no other writer to wait for
	ctx := context.Background()
	s, _, cust := loginOnFake(t, f, m, 1)
	anon, err := s.AnonymousToken(ctx)
	require.NoError(t, err)
	require.True(t, f.srv.RevokeToken(string(cust.RefreshToken)))
	store.loseNextReplyOf(func(st *emporix.SessionState) bool { return st.EndedLogin != nil })

	f.srv.Advance(61 * time.Minute)
	_, err = s.Token(ctx)
	require.ErrorIs(t, err, emporix.ErrSessionExpired)
	changes := f.changes.all()
	require.Len(t, changes, 1, "the ended login is reported")
	assert.Equal(t, emporix.ReasonLoginEnded, changes[0].Reason)
	tok, err := s.Token(ctx)
	require.NoError(t, err, "told once: the session goes on as a guest")
	assert.Equal(t, emporix.KindAnonymous, tok.Kind)
	assert.Equal(t, anon.SessionID, tok.SessionID)
	assert.Len(t, f.changes.all(), 1)
}
