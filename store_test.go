package emporix

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fakeClock is a settable clock for a store and a client.
type fakeClock struct{ ns atomic.Int64 }

func newFakeClock() *fakeClock {
	c := &fakeClock{}
	c.ns.Store(testNow.UnixNano())
	return c
}

func (c *fakeClock) Now() time.Time          { return time.Unix(0, c.ns.Load()).UTC() }
func (c *fakeClock) Advance(d time.Duration) { c.ns.Add(int64(d)) }

func TestMemoryStoreCompareAndSwap(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clock := newFakeClock()
	store := NewMemoryStore(WithStoreClock(clock.Now))
	st := realisticState(1, false)

	_, _, err := store.Load(ctx, "k")
	require.ErrorIs(t, err, ErrSessionNotFound)
	v1, err := store.Save(ctx, "k", st, 0)
	require.NoError(t, err)
	assert.Equal(t, uint64(1), v1)

	_, err = store.Save(ctx, "k", st, 0)
	assert.ErrorIs(t, err, ErrStoreConflict, "creating an existing session conflicts")
	v2, err := store.Save(ctx, "k", realisticState(2, true), v1)
	require.NoError(t, err)
	_, err = store.Save(ctx, "k", st, v1)
	assert.ErrorIs(t, err, ErrStoreConflict, "a stale writer cannot clobber the newer state")

	got, v, err := store.Load(ctx, "k")
	require.NoError(t, err)
	assert.Equal(t, v2, v)
	require.NotNil(t, got.Customer)
	assert.Equal(t, realisticState(2, true).Customer.RefreshToken, got.Customer.RefreshToken)

	require.NoError(t, store.Delete(ctx, "k"))
	require.NoError(t, store.Delete(ctx, "k"), "deleting a missing session is fine")
	_, _, err = store.Load(ctx, "k")
	assert.ErrorIs(t, err, ErrSessionNotFound)
	_, err = store.Save(ctx, "k", nil, 0)
	assert.ErrorIs(t, err, ErrInvalidInput)
}

func TestMemoryStoreForgetsDeadSessionsAfterTheGrace(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clock := newFakeClock()
	store := NewMemoryStore(WithStoreClock(clock.Now), WithStoreGrace(10*time.Minute))
	for i := range 100 {
		_, err := store.Save(ctx, fmt.Sprintf("k%d", i), realisticState(i, false), 0)
		require.NoError(t, err)
	}
	assert.Equal(t, 100, store.Len())

	clock.Advance(24*time.Hour + 5*time.Minute) // refresh tokens dead, within the grace
	_, _, err := store.Load(ctx, "k1")
	require.NoError(t, err, "kept during the grace period")

	clock.Advance(10 * time.Minute)
	_, _, err = store.Load(ctx, "k1")
	assert.ErrorIs(t, err, ErrSessionNotFound)
	fresh := realisticState(1000, false)
	fresh.Anonymous.Expiry, fresh.Anonymous.RefreshExpiry = clock.Now().Add(time.Hour), clock.Now().Add(24*time.Hour)
	_, err = store.Save(ctx, "fresh", fresh, 0)
	require.NoError(t, err)
	assert.Equal(t, 37, store.Len(), "each save sweeps up to 64 dead entries")
	store.Sweep()
	assert.Equal(t, 1, store.Len(), "no unbounded growth: only the live session is left")
}

func TestMemoryStoreKeepsLoggedInSessionsWhileTheAccessTokenLives(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clock := newFakeClock()
	store := NewMemoryStore(WithStoreClock(clock.Now), WithStoreGrace(0))
	_, err := store.Save(ctx, "k", realisticState(1, true), 0)
	require.NoError(t, err)
	clock.Advance(29 * 24 * time.Hour)
	_, _, err = store.Load(ctx, "k")
	require.NoError(t, err, "the 30-day customer token is still usable")
	clock.Advance(2 * 24 * time.Hour)
	store.Sweep()
	assert.Equal(t, 0, store.Len())
}

func TestMemoryStoreSnapshotRoundTripsSecretsAndSkipsDeadSessions(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clock := newFakeClock()
	store := NewMemoryStore(WithStoreClock(clock.Now), WithStoreGrace(0))
	live := realisticState(1, true)
	live.Customer.LegalEntityID = "D165356"
	live.Customer.InitialPassword = true
	live.Customer.SessionIdleTime = 120 * time.Second
	_, err := store.Save(ctx, "live", live, 0)
	require.NoError(t, err)
	_, err = store.Save(ctx, "dying", &SessionState{Anonymous: &Token{Kind: KindAnonymous, AccessToken: "x",
		Expiry: testNow.Add(time.Minute), RefreshExpiry: testNow.Add(time.Minute), RefreshToken: "y"}}, 0)
	require.NoError(t, err)

	var buf bytes.Buffer
	n, err := store.WriteTo(&buf)
	require.NoError(t, err)
	assert.Equal(t, int64(buf.Len()), n)
	assert.Contains(t, buf.String(), live.Customer.RefreshToken, "the snapshot is for restoring, so it keeps the secrets")

	clock.Advance(2 * time.Minute)
	restored := NewMemoryStore(WithStoreClock(clock.Now), WithStoreGrace(0))
	_, err = restored.ReadFrom(strings.NewReader(buf.String()))
	require.NoError(t, err)
	assert.Equal(t, 1, restored.Len(), "the dead session is not restored")
	got, v, err := restored.Load(ctx, "live")
	require.NoError(t, err)
	assert.Equal(t, uint64(1), v)
	assert.Equal(t, *live.Anonymous, *got.Anonymous)
	assert.Equal(t, *live.Customer, *got.Customer)

	_, err = restored.ReadFrom(strings.NewReader("{not json"))
	assert.Error(t, err)
}

func TestSessionStateCodecAndRedaction(t *testing.T) {
	t.Parallel()
	st := realisticState(7, true)
	data, err := MarshalSessionState(st)
	require.NoError(t, err)
	back, err := UnmarshalSessionState(data)
	require.NoError(t, err)
	assert.Equal(t, *st.Customer, *back.Customer)
	assert.Equal(t, *st.Anonymous, *back.Anonymous)
	_, err = UnmarshalSessionState([]byte(`{"v":99}`))
	assert.ErrorIs(t, err, ErrInvalidInput)
	_, err = MarshalSessionState(nil)
	assert.ErrorIs(t, err, ErrInvalidInput)

	for _, out := range []string{fmt.Sprint(st), fmt.Sprintf("%+v", *st), fmt.Sprintf("%#v", st), fmt.Sprintf("%d", any(st))} {
		assert.NotContains(t, out, st.Customer.AccessToken)
		assert.NotContains(t, out, st.Customer.RefreshToken)
		assert.NotContains(t, out, st.Anonymous.RefreshToken)
		assert.Contains(t, out, st.Anonymous.SessionID)
	}
}

func TestNewSessionKeyIsRandomAndCookieSafe(t *testing.T) {
	t.Parallel()
	a, b := NewSessionKey(), NewSessionKey()
	assert.Len(t, a, 22)
	assert.NotEqual(t, a, b)
	assert.NotContains(t, a, "=")
	assert.NotContains(t, a, "/")
}

// A session costs one entry and at most one heap slot however often it is
// saved, and nothing is left behind for deleted or replaced sessions.
func TestMemoryStoreMemoryDependsOnLiveSessionsOnly(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clock := newFakeClock()
	store := NewMemoryStore(WithStoreClock(clock.Now))
	const n, saves = 1000, 24
	for r := range saves {
		for i := range n {
			_, err := store.Save(ctx, fmt.Sprintf("k%d", i), resavedState(i, r, i%2 == 0), uint64(r))
			require.NoError(t, err)
		}
	}
	assert.Equal(t, n, store.Len())
	assert.Equal(t, n, store.expiry.Len(), "one heap slot per live session after %d saves each", saves)

	// A session saved without a deadline leaves the heap; with one again, it
	// comes back once.
	forever := &SessionState{Anonymous: &Token{Kind: KindAnonymous, AccessToken: "a"}}
	v, err := store.Save(ctx, "k0", forever, saves)
	require.NoError(t, err)
	assert.Equal(t, n-1, store.expiry.Len())
	_, err = store.Save(ctx, "k0", resavedState(0, 0, false), v)
	require.NoError(t, err)
	assert.Equal(t, n, store.expiry.Len())

	// Deleted and replaced (Rekey: save under a new key, delete the old one)
	// sessions leave nothing behind, before or after a Sweep.
	for i := range n / 2 {
		st, _, err := store.Load(ctx, fmt.Sprintf("k%d", i))
		require.NoError(t, err)
		_, err = store.Save(ctx, fmt.Sprintf("new%d", i), st, 0)
		require.NoError(t, err)
		require.NoError(t, store.Delete(ctx, fmt.Sprintf("k%d", i)))
	}
	assert.Equal(t, n, store.Len())
	assert.Equal(t, n, store.expiry.Len())
	store.Sweep()
	assert.Equal(t, n, store.expiry.Len())
	for i, e := range store.expiry {
		assert.Equal(t, i, int(e.index), "every heap item knows its slot")
		assert.Same(t, store.entries[e.key], e, "every heap item is a live entry")
	}

	// Once every deadline has passed, Sweep leaves nothing at all.
	clock.Advance(saves*time.Hour + 30*24*time.Hour + DefaultStoreGrace)
	store.Sweep()
	assert.Zero(t, store.Len())
	assert.Zero(t, store.expiry.Len())
}

// The heap a store holds is the same for sessions saved once and sessions
// saved 24 times each with a moving deadline (a day of hourly refreshes).
func TestMemoryStoreHeapDoesNotGrowWithSaves(t *testing.T) {
	// Not parallel: it measures the process's heap.
	if testing.Short() {
		t.Skip("measures the heap of 2 × 5,000 sessions")
	}
	n := 5_000
	if raceEnabled {
		n = 2_000
	}
	once := storeHeapPerSession(t, n, 1)
	many := storeHeapPerSession(t, n, 24)
	t.Logf("heap per live session: %.0f B saved once, %.0f B saved 24 times", once, many)
	assert.LessOrEqual(t, many, once*1.10, "24 saves may cost at most 10%% more than 1")
}

// A token stored without expiries but with its issue time (as an older
// release stored an answer that omitted them) lives its documented
// lifetimes everywhere: in the store, in ExpiredAt and RefreshExpiredAt,
// and in the session's refresh schedule.
func TestTokenWithoutExpiriesLivesItsDocumentedLifetime(t *testing.T) {
	t.Parallel()
	anon := &Token{Kind: KindAnonymous, AccessToken: "a", RefreshToken: "r", IssuedAt: testNow}
	st := &SessionState{Anonymous: anon}
	assert.Equal(t, testNow.Add(DefaultAnonymousRefreshLifetime), st.Deadline())
	assert.Equal(t, testNow.Add(DefaultAnonymousRefreshLifetime+time.Hour), st.KeepUntil(time.Hour))
	assert.False(t, anon.ExpiredAt(testNow.Add(DefaultAnonymousAccessLifetime-time.Second)))
	assert.True(t, anon.ExpiredAt(testNow.Add(DefaultAnonymousAccessLifetime)))
	assert.False(t, anon.RefreshExpiredAt(testNow.Add(DefaultAnonymousRefreshLifetime-time.Second)))
	assert.True(t, anon.RefreshExpiredAt(testNow.Add(DefaultAnonymousRefreshLifetime)))

	c, _ := newTestClient(t)
	m, err := NewSessionManager(c, NewMemoryStore())
	require.NoError(t, err)
	assert.False(t, m.due(anon, testNow.Add(30*time.Minute)))
	assert.True(t, m.due(anon, testNow.Add(DefaultAnonymousAccessLifetime-time.Second)), "refreshed before its documented expiry")

	// Without an issue time nothing can be known: kept until deleted.
	unknown := &SessionState{Anonymous: &Token{Kind: KindAnonymous, AccessToken: "a", RefreshToken: "r"}}
	assert.True(t, unknown.Deadline().IsZero())
	// A customer token without expiries: 30 days of access, and a refresh
	// token assumed to live the longest documented customer lifetime.
	cust := &SessionState{Customer: &Token{Kind: KindCustomer, AccessToken: "c", RefreshToken: "r", IssuedAt: testNow}}
	assert.Equal(t, testNow.Add(DefaultExchangeRefreshLifetime), cust.Deadline())
}
