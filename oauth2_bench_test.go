package emporix

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/oauth2"
)

// The session's token path measured side by side with its anchor,
// golang.org/x/oauth2's ReuseTokenSource, in one run. Both sides read the
// real clock (time.Now), as they would in production.
//
//	TokenLookup/oauth2    ReuseTokenSource.Token with a valid token
//	TokenLookup/session   Session.Token with a valid customer token in a
//	                      MemoryStore of 10k sessions
//	TokenLookup/pair      one call of each per op, alternating which goes
//	                      first, each timed on its own; x-oauth2 is the
//	                      session time ÷ the oauth2 time (target ≤ 1.2)
//
//	SharedRefresh/oauth2  1,000 goroutines ask an expired
//	                      ReuseTokenSource at once; its source answers at
//	                      once
//	SharedRefresh/session 1,000 goroutines ask one expired Session at
//	                      once; the token service answers at once (a
//	                      canned RoundTripper, no network)
//
// SharedRefresh reports allocs/waiter (allocs/op ÷ 1,000, the goroutine
// the benchmark starts per waiter included on both sides) and
// +allocs/waiter for the session over oauth2 (target ≤ 2 allocs per
// waiter).

const lookupStoreSize = 10_000

// lookupSession returns a session whose customer token stays valid for a
// day, in a store of lookupStoreSize sessions, on the real clock.
func lookupSession(b *testing.B) *Session {
	store := NewMemoryStore()
	now := time.Now()
	for i := range lookupStoreSize {
		st := realisticState(i, true)
		for _, t := range []*Token{st.Anonymous, st.Customer} {
			t.IssuedAt, t.Expiry, t.RefreshExpiry = now, now.Add(24*time.Hour), now.Add(48*time.Hour)
		}
		if _, err := store.Save(context.Background(), fmt.Sprintf("k%021d", i), st, 0); err != nil {
			b.Fatal(err)
		}
	}
	c, err := NewClient(testTenant, testClientID, WithBaseURL(testBase))
	if err != nil {
		b.Fatal(err)
	}
	m, err := NewSessionManager(c, store)
	if err != nil {
		b.Fatal(err)
	}
	return m.Session(fmt.Sprintf("k%021d", 4242))
}

func lookupOAuth2() oauth2.TokenSource {
	tok := &oauth2.Token{AccessToken: "aYR3Lu3rpsQ9ODhBIR8300004242", TokenType: "Bearer",
		RefreshToken: "94tKQ2Tsvlf9dYbmyccA7X1R00004242", Expiry: time.Now().Add(24 * time.Hour)}
	return oauth2.ReuseTokenSource(tok, oauth2.StaticTokenSource(tok))
}

func BenchmarkTokenLookup(b *testing.B) {
	ctx := context.Background()
	b.Run("oauth2", func(b *testing.B) {
		ts := lookupOAuth2()
		b.ReportAllocs()
		for b.Loop() {
			if _, err := ts.Token(); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("session", func(b *testing.B) {
		s := lookupSession(b)
		b.ReportAllocs()
		for b.Loop() {
			if _, err := s.Token(ctx); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("pair", func(b *testing.B) {
		ts, s := lookupOAuth2(), lookupSession(b)
		// Each side is timed over a batch, since one lookup is shorter
		// than the clock's resolution is fine.
		const batch = 64
		var oauthNS, sessNS time.Duration
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			timeOAuth := func() {
				start := time.Now()
				for range batch {
					if _, err := ts.Token(); err != nil {
						b.Fatal(err)
					}
				}
				oauthNS += time.Since(start)
			}
			timeSession := func() {
				start := time.Now()
				for range batch {
					if _, err := s.Token(ctx); err != nil {
						b.Fatal(err)
					}
				}
				sessNS += time.Since(start)
			}
			if i%2 == 0 {
				timeOAuth()
				timeSession()
			} else {
				timeSession()
				timeOAuth()
			}
		}
		n := float64(b.N) * batch
		b.ReportMetric(float64(oauthNS)/n, "oauth2-ns/lookup")
		b.ReportMetric(float64(sessNS)/n, "session-ns/lookup")
		b.ReportMetric(float64(sessNS)/float64(oauthNS), "x-oauth2")
	})
}

// instantRefresh answers every anonymous refresh at once with a new token
// of the same session, without a network.
type instantRefresh struct{ n atomic.Int64 }

func (r *instantRefresh) RoundTrip(req *http.Request) (*http.Response, error) {
	i := r.n.Add(1)
	body := fmt.Sprintf(`{"access_token":"tpYgJPZqddEQ2zwfzNtx%08d","token_type":"Bearer","expires_in":3599,`+
		`"refresh_token":"7FnviYrxvQWYdzUVBVTvXeNA00000001","refresh_token_expires_in":86399,`+
		`"session_id":"6d4d4d5e-04b9-40c5-9074-4df100000001"}`, i)
	return &http.Response{StatusCode: http.StatusOK, Header: http.Header{"Content-Type": {"application/json"}},
		Body: io.NopCloser(strings.NewReader(body)), ContentLength: int64(len(body)), Request: req}, nil
}

type countingSource struct {
	n   atomic.Int64
	now func() time.Time
}

func (c *countingSource) Token() (*oauth2.Token, error) {
	i := c.n.Add(1)
	return &oauth2.Token{AccessToken: fmt.Sprintf("tpYgJPZqddEQ2zwfzNtx%08d", i), TokenType: "Bearer",
		Expiry: c.now().Add(time.Hour)}, nil
}

func BenchmarkSharedRefresh(b *testing.B) {
	const waiters = 1000
	ctx := context.Background()
	// burst runs one burst and returns the mallocs from spawning the
	// waiters until the last is served.
	burst := func(b *testing.B, fn func()) uint64 {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		var wg sync.WaitGroup
		start := make(chan struct{})
		for range waiters {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				fn()
			}()
		}
		b.StartTimer()
		close(start)
		wg.Wait()
		b.StopTimer()
		runtime.ReadMemStats(&after)
		return after.Mallocs - before.Mallocs
	}
	var oauthAllocs float64
	b.Run("oauth2", func(b *testing.B) {
		src := &countingSource{now: time.Now}
		var mallocs, bursts uint64
		b.ReportAllocs()
		for b.Loop() {
			b.StopTimer()
			expired := &oauth2.Token{AccessToken: "old", Expiry: time.Now().Add(-time.Minute)}
			ts := oauth2.ReuseTokenSource(expired, src)
			mallocs += burst(b, func() {
				if _, err := ts.Token(); err != nil {
					b.Error(err)
				}
			})
			bursts++
			b.StartTimer()
		}
		oauthAllocs = float64(mallocs) / float64(bursts*waiters)
		b.ReportMetric(oauthAllocs, "allocs/waiter")
	})
	b.Run("session", func(b *testing.B) {
		rt := &instantRefresh{}
		c, err := NewClient(testTenant, testClientID, WithBaseURL(testBase), WithHTTPClient(&http.Client{Transport: rt}))
		if err != nil {
			b.Fatal(err)
		}
		store := NewMemoryStore()
		m, err := NewSessionManager(c, store)
		if err != nil {
			b.Fatal(err)
		}
		s := m.Session("cookie-1")
		b.ReportAllocs()
		before := rt.n.Load()
		var mallocs, bursts uint64
		for b.Loop() {
			b.StopTimer()
			st := realisticState(1, false)
			st.Anonymous.IssuedAt = time.Now().Add(-2 * time.Hour)
			st.Anonymous.Expiry = time.Now().Add(-time.Hour)
			st.Anonymous.RefreshExpiry = time.Now().Add(time.Hour)
			_ = store.Delete(ctx, s.Key())
			if _, err := store.Save(ctx, s.Key(), st, 0); err != nil {
				b.Fatal(err)
			}
			mallocs += burst(b, func() {
				if _, err := s.Token(ctx); err != nil {
					b.Error(err)
				}
			})
			bursts++
			b.StartTimer()
		}
		if n := rt.n.Load() - before; n != int64(bursts) {
			b.Fatalf("%d refreshes for %d bursts, want one each", n, bursts)
		}
		per := float64(mallocs) / float64(bursts*waiters)
		b.ReportMetric(per, "allocs/waiter")
		if oauthAllocs > 0 {
			b.ReportMetric(per-oauthAllocs, "+allocs/waiter")
		}
	})
}
