package emporix

import (
	"context"
	"fmt"
	"runtime"
	"testing"
	"time"
)

// realisticState builds a session shaped like the service's answers: opaque
// 28- and 32-character tokens, a UUID session ID, and for customers a JWT
// SaaS token.
func realisticState(i int, loggedIn bool) *SessionState {
	now := testNow
	anon := &Token{
		Kind: KindAnonymous, TokenType: "Bearer",
		AccessToken:  Secret(fmt.Sprintf("tpYgJPZqddEQ2zwfzNtx%08d", i)),
		RefreshToken: Secret(fmt.Sprintf("7FnviYrxvQWYdzUVBVTvXeNA%08d", i)),
		SessionID:    fmt.Sprintf("6d4d4d5e-04b9-40c5-9074-4df1%08d", i),
		Scope:        "tenant=mytenant",
		IssuedAt:     now, Expiry: now.Add(time.Hour), RefreshExpiry: now.Add(24 * time.Hour),
	}
	st := &SessionState{Anonymous: anon}
	if loggedIn {
		st.Customer = &Token{
			Kind: KindCustomer, TokenType: "Bearer", SessionID: anon.SessionID,
			AccessToken:  Secret(fmt.Sprintf("aYR3Lu3rpsQ9ODhBIR83%08d", i)),
			RefreshToken: Secret(fmt.Sprintf("94tKQ2Tsvlf9dYbmyccA7X1R%08d", i)),
			SaasToken:    Secret(fmt.Sprintf("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMzg2OTAwMCIsImV4cCI6MTY0MDQ0NDAzMn0.lvxFOeCOk-DWi3kqwJwR8eKal3ON2rr53e9I6P%08d", i)),
			IssuedAt:     now, Expiry: now.Add(30 * 24 * time.Hour), RefreshExpiry: now.Add(24 * time.Hour),
		}
	}
	return st
}

// BenchmarkMemoryStorePerSession stores 100k sessions and reports the heap
// bytes each costs, everything included (key, entry, tokens, strings, map
// and expiry heap). Target: ≤ 640 B per logged-in session. In
// customer-loaded every session is also loaded once after the saves, so the
// figure includes the states the store keeps built for recent loads (at
// most hotSessions of them).
func BenchmarkMemoryStorePerSession(b *testing.B) {
	for _, bc := range []struct {
		name             string
		loggedIn, loaded bool
	}{{"anonymous", false, false}, {"customer", true, false}, {"customer-loaded", true, true}} {
		b.Run(bc.name, func(b *testing.B) {
			const n = 100_000
			ctx := context.Background()
			for b.Loop() {
				var before, after runtime.MemStats
				runtime.GC()
				runtime.ReadMemStats(&before)
				store := NewMemoryStore(WithStoreClock(func() time.Time { return testNow }))
				for i := range n {
					if _, err := store.Save(ctx, fmt.Sprintf("k%021d", i), realisticState(i, bc.loggedIn), 0); err != nil {
						b.Fatal(err)
					}
				}
				if bc.loaded {
					for i := range n {
						if _, _, err := store.Load(ctx, fmt.Sprintf("k%021d", i)); err != nil {
							b.Fatal(err)
						}
					}
				}
				runtime.GC()
				runtime.ReadMemStats(&after)
				b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/n, "B/session")
				runtime.KeepAlive(store)
			}
		})
	}
}

// BenchmarkMemoryStoreLoadSave measures one load and one compare-and-swap
// save on a store of 100k sessions.
func BenchmarkMemoryStoreLoadSave(b *testing.B) {
	ctx := context.Background()
	store := NewMemoryStore(WithStoreClock(func() time.Time { return testNow }))
	for i := range 100_000 {
		if _, err := store.Save(ctx, fmt.Sprintf("k%021d", i), realisticState(i, false), 0); err != nil {
			b.Fatal(err)
		}
	}
	key := fmt.Sprintf("k%021d", 4242)
	b.ReportAllocs()
	for b.Loop() {
		st, v, err := store.Load(ctx, key)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := store.Save(ctx, key, st, v); err != nil {
			b.Fatal(err)
		}
	}
}
