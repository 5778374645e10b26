package emporix

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A session the store forgot is replaced and reported with the session ID
// the application remembered, whichever way the store lost it.
func TestSessionLostByTheStoreIsReportedWithTheRememberedID(t *testing.T) {
	forget := map[string]func(h *sessionHarness, key string){
		"deleted": func(h *sessionHarness, key string) { require.NoError(t, h.store.Delete(context.Background(), key)) },
		"evicted": func(h *sessionHarness, _ string) {
			// Past the deadline and the grace: the store forgets it, although
			// the shopper's cookie still names it.
			h.clock.Advance(DefaultAnonymousRefreshLifetime + DefaultStoreGrace + time.Minute)
			h.store.Sweep()
		},
	}
	for name, lose := range forget {
		t.Run(name, func(t *testing.T) {
			h := newSessionHarness(t)
			var hookCtxID string
			h.manager.cfg.onChange = func(ctx context.Context, ch SessionChange) {
				hookCtxID = RememberedSessionID(ctx)
				h.changes.add(ch)
			}
			s := h.manager.Session("cookie-1")
			oldID, err := s.SessionID(context.Background())
			require.NoError(t, err)
			lose(h, s.Key())
			_, _, err = h.store.Load(context.Background(), s.Key())
			require.ErrorIs(t, err, ErrSessionNotFound)

			ctx := RememberSessionID(context.Background(), oldID)
			tok, err := s.Token(ctx)
			require.NoError(t, err)
			require.NotEqual(t, oldID, tok.SessionID, "a new session was started")
			assert.Equal(t, []SessionChange{{Key: "cookie-1", OldSessionID: oldID, NewSessionID: tok.SessionID, Reason: ReasonSessionLost}},
				h.changes.all())
			assert.Equal(t, oldID, hookCtxID, "the hook can read the remembered ID from its context")

			// Reported once: the new session is stored, and the storefront
			// now remembers its ID.
			_, err = s.Token(RememberSessionID(context.Background(), tok.SessionID))
			require.NoError(t, err)
			assert.Len(t, h.changes.all(), 1)
		})
	}
}

// Without a remembered ID a new session is a first visit: nothing to report.
// A remembered ID equal to the new one is no change either.
func TestFirstVisitIsNotALostSession(t *testing.T) {
	h := newSessionHarness(t)
	_, err := h.manager.Session("cookie-1").Token(context.Background())
	require.NoError(t, err)
	_, err = h.manager.Session("cookie-2").Token(RememberSessionID(context.Background(), ""))
	require.NoError(t, err)
	assert.Empty(t, h.changes.all())
	assert.Equal(t, "", RememberedSessionID(context.Background()))

	s := h.manager.Session("cookie-1")
	id, err := s.SessionID(context.Background())
	require.NoError(t, err)
	assert.Nil(t, s.lostChange(RememberSessionID(context.Background(), id), &Token{SessionID: id}))
}

// echoStore is a store whose write can land while its caller hears of a
// conflict: a compare-and-swap whose reply was lost (a timeout) and that
// the store's client retried, so the retry found the first attempt's
// version. It can also forget every session, like a store restarted empty.
type echoStore struct {
	*MemoryStore
	mu        sync.Mutex
	lostReply int                      // saves still to answer with a conflict after landing
	of        func(*SessionState) bool // which saves; nil: any
}

func (e *echoStore) Save(ctx context.Context, key string, state *SessionState, expected uint64) (uint64, error) {
	v, err := e.MemoryStore.Save(ctx, key, state, expected)
	e.mu.Lock()
	defer e.mu.Unlock()
	if err == nil && e.lostReply > 0 && (e.of == nil || e.of(state)) {
		e.lostReply--
		return 0, ErrStoreConflict
	}
	return v, err
}

func (e *echoStore) loseNextReply() { e.loseNextReplyOf(nil) }

func (e *echoStore) loseNextReplyOf(of func(*SessionState) bool) {
	e.mu.Lock()
	e.lostReply, e.of = 1, of
	e.mu.Unlock()
}

// A session whose save landed although the store answered a conflict is
// the renewal's own: its session ID is remembered and its change reported.
// Without a remembered ID, the process's own record is what tells a
// session the store forgot from a first visit.
func TestALandedSaveAnsweredWithAConflictKeepsTheLostSessionReport(t *testing.T) {
	for _, first := range []bool{false, true} {
		name := map[bool]string{false: "the new session's save", true: "the first session's save"}[first]
		t.Run(name, func(t *testing.T) {
			h := newSessionHarness(t)
			store := &echoStore{MemoryStore: h.store}
			m, err := NewSessionManager(h.client, store,
				WithSessionChangeHook(func(_ context.Context, ch SessionChange) { h.changes.add(ch) }))
			require.NoError(t, err)
			ctx := context.Background()
			s := m.Session("cookie-1")
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
			assert.Equal(t, []SessionChange{{Key: "cookie-1", OldSessionID: oldID, NewSessionID: tok.SessionID, Reason: ReasonSessionLost}},
				h.changes.all())
			st, _, err := store.Load(ctx, s.Key())
			require.NoError(t, err)
			assert.Equal(t, tok.SessionID, st.Anonymous.SessionID, "the new session is stored")
			_, err = s.Token(ctx)
			require.NoError(t, err)
			assert.Len(t, h.changes.all(), 1, "reported once")
		})
	}
}

// An ended login whose save landed behind a conflict answer is reported
// once, and the caller told of it clears the marker: the next call serves
// the guest.
func TestALandedSaveAnsweredWithAConflictKeepsTheEndedLoginReport(t *testing.T) {
	h := newSessionHarness(t)
	h.fake.custExpiresIn = 3600
	store := &echoStore{MemoryStore: h.store}
	m, err := NewSessionManager(h.client, store,
		WithSessionChangeHook(func(_ context.Context, ch SessionChange) { h.changes.add(ch) }))
	require.NoError(t, err)
	m.adoptWait = time.Millisecond // no other writer to wait for
	ctx := context.Background()
	s := m.Session("cookie-1")
	_, err = s.Login(ctx, &LoginRequest{Email: "john@example.com", Password: "password123"})
	require.NoError(t, err)
	anon, err := s.AnonymousToken(ctx)
	require.NoError(t, err)
	h.fake.mu.Lock()
	h.fake.custRT = map[string]string{} // refresh tokens revoked
	h.fake.mu.Unlock()
	store.loseNextReplyOf(func(st *SessionState) bool { return st.EndedLogin != nil })

	h.clock.Advance(61 * time.Minute)
	_, err = s.Token(ctx)
	require.ErrorIs(t, err, ErrSessionExpired)
	changes := h.changes.all()
	require.Len(t, changes, 1, "the ended login is reported")
	assert.Equal(t, ReasonLoginEnded, changes[0].Reason)
	tok, err := s.Token(ctx)
	require.NoError(t, err, "told once: the session goes on as a guest")
	assert.Equal(t, KindAnonymous, tok.Kind)
	assert.Equal(t, anon.SessionID, tok.SessionID)
	assert.Len(t, h.changes.all(), 1)
}
