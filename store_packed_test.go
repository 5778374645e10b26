package emporix

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fullState sets every field of both tokens, with distinct values.
func fullState() *SessionState {
	now := testNow
	tok := func(kind TokenKind, p string) *Token {
		return &Token{
			Kind: kind, AccessToken: Secret(p + "-access"), TokenType: "Bearer", RefreshToken: Secret(p + "-refresh"),
			SaasToken: Secret(p + "-saas"), SessionID: "session-1", Scope: "tenant=mytenant " + p, LegalEntityID: p + "-le",
			IssuedAt: now, Expiry: now.Add(time.Hour).In(time.Local), RefreshExpiry: now.Add(24*time.Hour + time.Nanosecond),
			SessionIdleTime: 90 * time.Second, InitialPassword: kind == KindCustomer,
			SocialAccessToken: Secret(p + "-social-access"), SocialIDToken: Secret(p + "-social-id"),
		}
	}
	return &SessionState{Anonymous: tok(KindAnonymous, "anon"), Customer: tok(KindCustomer, "cust")}
}

// forgetBuilt drops the store's built states, so the next Load rebuilds
// from the packed form.
func forgetBuilt(m *MemoryStore) {
	for _, e := range m.entries {
		if e.flags&pinned == 0 {
			e.hot.Store(nil)
		}
	}
}

// A packed session loads back field for field, times in their location.
func TestMemoryStorePackingKeepsEveryField(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clock := newFakeClock()
	for name, st := range map[string]*SessionState{
		"full":        fullState(),
		"anonymous":   {Anonymous: fullState().Anonymous},
		"customer":    {Customer: fullState().Customer},
		"empty":       {},
		"zero times":  {Anonymous: &Token{Kind: KindAnonymous, AccessToken: "a"}},
		"ended login": {Anonymous: fullState().Anonymous, EndedLogin: &EndedLogin{CustomerNumber: "1", At: testNow}},
		"other location": {Anonymous: &Token{Kind: KindAnonymous, AccessToken: "a",
			Expiry: testNow.Add(time.Hour).In(time.FixedZone("CET", 3600))}},
		"far future": {Anonymous: &Token{Kind: KindAnonymous, AccessToken: "a", Expiry: time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC)}},
		"huge token": {Anonymous: &Token{Kind: KindAnonymous, AccessToken: Secret(strings.Repeat("x", 70000)), Expiry: testNow.Add(time.Hour)}},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			store := NewMemoryStore(WithStoreClock(clock.Now))
			_, err := store.Save(ctx, "k", st, 0)
			require.NoError(t, err)
			forgetBuilt(store)
			got, _, err := store.Load(ctx, "k")
			require.NoError(t, err)
			assert.Equal(t, st, got)
			for _, pair := range [][2]*Token{{st.Anonymous, got.Anonymous}, {st.Customer, got.Customer}} {
				if pair[0] != nil {
					assert.Equal(t, pair[0].Expiry.Location(), pair[1].Expiry.Location())
					assert.Equal(t, pair[0].RefreshExpiry.Location(), pair[1].RefreshExpiry.Location())
				}
			}
		})
	}
}

// Strings the two tokens share are kept once.
func TestMemoryStorePackingKeepsSharedStringsOnce(t *testing.T) {
	t.Parallel()
	store := NewMemoryStore(WithStoreClock(newFakeClock().Now))
	st := realisticState(1, true)
	_, err := store.Save(context.Background(), "k", st, 0)
	require.NoError(t, err)
	e := store.entries["k"]
	want := 0
	for _, s := range []string{string(st.Anonymous.AccessToken), string(st.Anonymous.RefreshToken), st.Anonymous.SessionID, "Bearer",
		st.Anonymous.Scope, string(st.Customer.AccessToken), string(st.Customer.RefreshToken), string(st.Customer.SaasToken)} {
		want += len(s)
	}
	assert.Len(t, e.data, want, "session ID and token type stored once")
	assert.LessOrEqual(t, unsafe.Sizeof(memEntry{}), uintptr(208), "an entry stays in the 208-byte size class")
}

// A Load of a busy session allocates nothing; built states are bounded.
func TestMemoryStoreKeepsFewSessionsBuilt(t *testing.T) {
	// Not parallel: AllocsPerRun counts the whole process's allocations.
	ctx := context.Background()
	store := NewMemoryStore(WithStoreClock(newFakeClock().Now))
	for i := range hotSessions + 100 {
		_, err := store.Save(ctx, fmt.Sprintf("k%d", i), realisticState(i, true), 0)
		require.NoError(t, err)
		_, _, err = store.Load(ctx, fmt.Sprintf("k%d", i))
		require.NoError(t, err)
	}
	built := 0
	for _, e := range store.entries {
		if e.hot.Load() != nil {
			built++
		}
	}
	assert.Equal(t, hotSessions, built, "only the most recently loaded sessions stay built")

	first, _, err := store.Load(ctx, "k4000")
	require.NoError(t, err)
	allocs := testing.AllocsPerRun(100, func() {
		again, _, _ := store.Load(ctx, "k4000")
		if again != first {
			t.Fatal("rebuilt a session in use")
		}
	})
	assert.Zero(t, allocs)

	// A save drops the built state: the next Load sees the new one.
	v, err := store.Save(ctx, "k4000", realisticState(9, true), 1)
	require.NoError(t, err)
	got, gotV, err := store.Load(ctx, "k4000")
	require.NoError(t, err)
	assert.Equal(t, v, gotV)
	assert.Equal(t, realisticState(9, true).Customer.AccessToken, got.Customer.AccessToken)
}

// A stored logged-in session costs at most 640 bytes, everything included.
func TestMemoryStoreLoggedInSessionFitsIn640Bytes(t *testing.T) {
	// Not parallel: it measures the process's heap.
	if testing.Short() {
		t.Skip("measures the heap of 20,000 sessions")
	}
	n := 20_000
	if raceEnabled {
		n = 5_000
	}
	perSession := storeHeapPerSession(t, n, 1)
	t.Logf("heap per logged-in session: %.0f B", perSession)
	assert.LessOrEqual(t, perSession, 640.0)
}

// FuzzMemoryStorePacking: whatever a session holds, it loads back as saved,
// packed or kept as given.
func FuzzMemoryStorePacking(f *testing.F) {
	f.Add("at", "Bearer", "rt", "saas", "sid", "tenant=t", "", "sid", int64(0), int64(3600e9), int64(86400e9), uint8(0))
	f.Add("", "", "", "", "", "", "le", "x", int64(-1), int64(1<<62), int64(-(1 << 62)), uint8(7))
	f.Fuzz(func(t *testing.T, access, typ, refresh, saas, sid, scope, le, custSID string, issued, expiry, refreshExp int64, flags uint8) {
		locs := []*time.Location{time.UTC, time.Local, time.FixedZone("X", 7200)}
		at := func(ns int64, i int) time.Time {
			if flags&(1<<i) != 0 {
				return time.Time{}
			}
			return time.Unix(0, ns).In(locs[int(flags>>3)%len(locs)])
		}
		anon := &Token{Kind: KindAnonymous, AccessToken: Secret(access), TokenType: typ, RefreshToken: Secret(refresh), SessionID: sid,
			Scope: scope, IssuedAt: at(issued, 0), Expiry: at(expiry, 1), RefreshExpiry: at(refreshExp, 2),
			SessionIdleTime: time.Duration(expiry), InitialPassword: flags&64 != 0}
		cust := &Token{Kind: KindCustomer, AccessToken: Secret(refresh), TokenType: typ, RefreshToken: Secret(access), SaasToken: Secret(saas),
			SessionID: custSID, Scope: scope + le, LegalEntityID: le, IssuedAt: at(expiry, 1), Expiry: at(refreshExp, 0),
			SocialAccessToken: Secret(saas), SocialIDToken: Secret(le)}
		st := &SessionState{Anonymous: anon}
		if flags&128 != 0 {
			st.Customer = cust
		}
		store := NewMemoryStore(WithStoreClock(func() time.Time { return time.Unix(0, 0) }), WithStoreGrace(0))
		if _, err := store.Save(context.Background(), "k", st, 0); err != nil {
			t.Fatal(err)
		}
		forgetBuilt(store)
		got, _, err := store.Load(context.Background(), "k")
		if errors.Is(err, ErrSessionNotFound) {
			return // its deadline had passed: nothing to compare
		}
		if err != nil {
			t.Fatal(err)
		}
		for _, pair := range [][2]*Token{{st.Anonymous, got.Anonymous}, {st.Customer, got.Customer}} {
			w, g := pair[0], pair[1]
			if (w == nil) != (g == nil) {
				t.Fatalf("token present %v, loaded %v", w != nil, g != nil)
			}
			if w == nil {
				continue
			}
			for i, tm := range [][2]time.Time{{w.IssuedAt, g.IssuedAt}, {w.Expiry, g.Expiry}, {w.RefreshExpiry, g.RefreshExpiry}} {
				if !tm[0].Equal(tm[1]) || tm[0].Location() != tm[1].Location() || tm[0].IsZero() != tm[1].IsZero() {
					t.Fatalf("time %d: saved %v, loaded %v", i, tm[0], tm[1])
				}
			}
			wc, gc := *w, *g
			wc.IssuedAt, wc.Expiry, wc.RefreshExpiry = time.Time{}, time.Time{}, time.Time{}
			gc.IssuedAt, gc.Expiry, gc.RefreshExpiry = time.Time{}, time.Time{}, time.Time{}
			if wc != gc {
				t.Fatalf("token fields differ after loading")
			}
		}
	})
}
