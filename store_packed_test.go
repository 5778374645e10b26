package emporix

import (
	"context"
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
			Kind: kind, AccessToken: p + "-access", TokenType: "Bearer", RefreshToken: p + "-refresh",
			SaasToken: p + "-saas", SessionID: "session-1", Scope: "tenant=mytenant " + p, LegalEntityID: p + "-le",
			IssuedAt: now, Expiry: now.Add(time.Hour).In(time.Local), RefreshExpiry: now.Add(24*time.Hour + time.Nanosecond),
			SessionIdleTime: 90 * time.Second, InitialPassword: kind == KindCustomer,
			SocialAccessToken: p + "-social-access", SocialIDToken: p + "-social-id",
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
		"huge token": {Anonymous: &Token{Kind: KindAnonymous, AccessToken: strings.Repeat("x", 70000), Expiry: testNow.Add(time.Hour)}},
	} {
		t.Run(name, func(t *testing.T) {
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
	store := NewMemoryStore(WithStoreClock(newFakeClock().Now))
	st := realisticState(1, true)
	_, err := store.Save(context.Background(), "k", st, 0)
	require.NoError(t, err)
	e := store.entries["k"]
	want := 0
	for _, s := range []string{st.Anonymous.AccessToken, st.Anonymous.RefreshToken, st.Anonymous.SessionID, "Bearer",
		st.Anonymous.Scope, st.Customer.AccessToken, st.Customer.RefreshToken, st.Customer.SaasToken} {
		want += len(s)
	}
	assert.Len(t, e.data, want, "session ID and token type stored once")
	assert.LessOrEqual(t, unsafe.Sizeof(memEntry{}), uintptr(208), "an entry stays in the 208-byte size class")
}

// A Load of a busy session allocates nothing; built states are bounded.
func TestMemoryStoreKeepsFewSessionsBuilt(t *testing.T) {
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
