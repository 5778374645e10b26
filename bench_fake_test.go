package emporix_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/emporix-go/emporix"
	"github.com/emporix-go/emporix/emporixtest"
)

// BenchmarkRefreshCoalescing: 1,000 goroutines ask an expired session for
// its token at once, against the emporixtest fake over real HTTP. One op
// is one burst; ns/op is the time until all 1,000 are served.
// refresh-requests is how many refreshes reached the server per burst and
// must be 1.
func BenchmarkRefreshCoalescing(b *testing.B) {
	const waiters = 1000
	for _, kind := range []string{"anonymous", "customer"} {
		b.Run(kind, func(b *testing.B) {
			srv := emporixtest.NewServer(emporixtest.WithLifetimes(emporixtest.Lifetimes{CustomerAccess: 10 * time.Minute}))
			defer srv.Close()
			c, err := emporix.NewClient(srv.Tenant(), srv.ClientID(), srv.ClientOptions()...)
			if err != nil {
				b.Fatal(err)
			}
			m, err := emporix.NewSessionManager(c, emporix.NewMemoryStore())
			if err != nil {
				b.Fatal(err)
			}
			refreshOp := "GET-oauth-refresh-anonymous-access-token"
			advance := 2 * time.Hour // past the 1 h anonymous token, within its 24 h refresh token
			if kind == "customer" {
				refreshOp = "GET-customer-refresh-authtoken"
				advance = 20 * time.Minute // past the 10 min customer token only
			}
			ctx := context.Background()
			var requests, bursts int
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				b.StopTimer()
				email := fmt.Sprintf("bench%d@example.com", i)
				s := m.Session(fmt.Sprintf("key-%d", i))
				if kind == "customer" {
					if _, err := srv.AddCustomer(email, "password123"); err != nil {
						b.Fatal(err)
					}
					if _, err := s.Login(ctx, &emporix.LoginRequest{Email: email, Password: "password123"}); err != nil {
						b.Fatal(err)
					}
				} else if _, err := s.Token(ctx); err != nil {
					b.Fatal(err)
				}
				srv.Advance(advance)
				srv.ClearRequests()
				var wg sync.WaitGroup
				start := make(chan struct{})
				errs := make(chan error, waiters)
				for range waiters {
					wg.Add(1)
					go func() {
						defer wg.Done()
						<-start
						if _, err := m.Session(s.Key()).Token(ctx); err != nil {
							errs <- err
						}
					}()
				}
				b.StartTimer()
				close(start)
				wg.Wait()
				b.StopTimer()
				close(errs)
				for err := range errs {
					b.Fatal(err)
				}
				requests += len(srv.Requests(refreshOp))
				bursts++
				b.StartTimer()
			}
			perBurst := float64(requests) / float64(bursts)
			b.ReportMetric(perBurst, "refresh-requests")
			if perBurst != 1 {
				b.Fatalf("%v refresh requests per burst of %d waiters, want 1", perBurst, waiters)
			}
		})
	}
}

// BenchmarkSessionTokenValid is the hot path of every shopper request: a
// valid token served from the memory store. Target: 0 allocations.
func BenchmarkSessionTokenValid(b *testing.B) {
	f := newFakeShop(b)
	ctx := context.Background()
	s := f.sessions.Session("cookie-1")
	if _, err := s.Token(ctx); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Token(ctx); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSessionHandle measures creating the per-shopper handle, done once
// per shopper request.
func BenchmarkSessionHandle(b *testing.B) {
	f := newFakeShop(b)
	b.ReportAllocs()
	for b.Loop() {
		if f.sessions.Session("cookie-1").Client() == nil {
			b.Fatal("no client")
		}
	}
}
