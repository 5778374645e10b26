package emporix

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// poolServer is a real HTTP server that counts the connections clients
// open, and holds each burst of requests until all of them have arrived,
// so that a burst of n needs n connections at once.
type poolServer struct {
	*httptest.Server
	opened atomic.Int32

	mu      sync.Mutex
	arrived int
	need    int
	release chan struct{}

	fail func(w http.ResponseWriter, r *http.Request) // requests of the failing shopper
}

const burstSize = 16

func newPoolServer(t *testing.T) *poolServer {
	s := &poolServer{}
	s.Server = httptest.NewUnstartedServer(http.HandlerFunc(s.serve))
	s.Config.ConnState = func(_ net.Conn, state http.ConnState) {
		if state == http.StateNew {
			s.opened.Add(1)
		}
	}
	s.Start()
	t.Cleanup(s.Close)
	return s
}

func (s *poolServer) serve(w http.ResponseWriter, r *http.Request) {
	if strings.Contains(r.Header.Get("Authorization"), "FAILING") {
		s.fail(w, r)
		return
	}
	s.mu.Lock()
	s.arrived++
	if s.arrived == s.need {
		close(s.release)
	}
	release := s.release
	s.mu.Unlock()
	select {
	case <-release:
	case <-time.After(5 * time.Second): // a test that went wrong fails rather than hangs
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write([]byte(`{"id":"C1"}`))
}

// burst runs burstSize concurrent profile reads and returns how many
// connections they opened.
func (s *poolServer) burst(t *testing.T, c *Client) int {
	t.Helper()
	s.mu.Lock()
	s.arrived, s.need, s.release = 0, burstSize, make(chan struct{})
	s.mu.Unlock()
	before := s.opened.Load()
	var wg sync.WaitGroup
	errs := make(chan error, burstSize)
	for range burstSize {
		wg.Go(func() {
			_, err := c.Profile.Get(context.Background(), nil)
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	return int(s.opened.Load() - before)
}

// failingSource gives a token once, then fails: the retry's token renewal
// is a failure exit of its own.
type failingSource struct{ calls atomic.Int32 }

func (f *failingSource) Token(context.Context) (*Token, error) {
	if f.calls.Add(1) > 1 {
		return nil, errors.New("token store down")
	}
	return &Token{Kind: KindCustomer, AccessToken: "FAILING-SHOPPER", TokenType: "Bearer"}, nil
}

// One request's failure never closes the idle connections other requests
// share: after every failure exit, a burst as large as the warm pool opens
// no more connections than the failure itself broke.
func TestPoolStaysWarmAcrossFailures(t *testing.T) {
	t.Parallel()
	cutBody := func(w http.ResponseWriter) {
		w.Header().Set("Content-Length", "100")
		w.WriteHeader(200)
		_, _ = w.Write([]byte(`{"id":"C1",`))
		w.(http.Flusher).Flush()
		conn, _, err := http.NewResponseController(w).Hijack()
		if err == nil {
			_ = conn.Close()
		}
	}
	cases := []struct {
		name   string
		fail   func(s *poolServer) func(w http.ResponseWriter, r *http.Request)
		call   func(t *testing.T, s *poolServer, shopper *Client) error
		source TokenSource
		broken int // connections the failure itself may break
		check  func(t *testing.T, err error)
	}{
		{name: "gives up after retries", broken: 0,
			fail: func(*poolServer) func(http.ResponseWriter, *http.Request) {
				return func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(503) }
			},
			check: func(t *testing.T, err error) {
				apiErr := requireAPIError(t, err, 503)
				assert.Equal(t, 3, apiErr.Attempts)
			}},
		{name: "status that is not retried", broken: 0,
			fail: func(*poolServer) func(http.ResponseWriter, *http.Request) {
				return func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(404) }
			},
			check: func(t *testing.T, err error) { require.ErrorIs(t, err, ErrNotFound) }},
		{name: "context cancelled before sending", broken: 0,
			fail: func(*poolServer) func(http.ResponseWriter, *http.Request) {
				return func(w http.ResponseWriter, _ *http.Request) { t.Error("a cancelled call was sent") }
			},
			call: func(t *testing.T, _ *poolServer, shopper *Client) error {
				ctx, cancel := context.WithCancel(context.Background())
				cancel()
				_, err := shopper.Profile.Get(ctx, nil)
				return err
			},
			check: func(t *testing.T, err error) { require.ErrorIs(t, err, context.Canceled) }},
		{name: "context cancelled during the wait before a retry", broken: 0,
			fail: func(*poolServer) func(http.ResponseWriter, *http.Request) {
				return func(w http.ResponseWriter, _ *http.Request) {
					w.Header().Set("Retry-After", "5")
					w.WriteHeader(503)
				}
			},
			call: func(t *testing.T, _ *poolServer, shopper *Client) error {
				ctx, cancel := context.WithCancel(context.Background())
				time.AfterFunc(100*time.Millisecond, cancel)
				_, err := shopper.Profile.Get(ctx, nil)
				return err
			},
			check: func(t *testing.T, err error) { require.ErrorIs(t, err, context.Canceled) }},
		{name: "context cancelled while reading the body", broken: 1,
			fail: func(*poolServer) func(http.ResponseWriter, *http.Request) {
				return func(w http.ResponseWriter, r *http.Request) {
					w.Header().Set("Content-Length", "100")
					w.WriteHeader(200)
					_, _ = w.Write([]byte(`{"id":`))
					w.(http.Flusher).Flush()
					select {
					case <-r.Context().Done():
					case <-time.After(5 * time.Second):
					}
				}
			},
			call: func(t *testing.T, _ *poolServer, shopper *Client) error {
				ctx, cancel := context.WithCancel(context.Background())
				time.AfterFunc(200*time.Millisecond, cancel)
				_, err := shopper.Profile.Get(ctx, nil)
				return err
			},
			check: func(t *testing.T, err error) { require.ErrorIs(t, err, context.Canceled) }},
		{name: "body cut on every attempt", broken: 3,
			fail: func(*poolServer) func(http.ResponseWriter, *http.Request) {
				return func(w http.ResponseWriter, _ *http.Request) { cutBody(w) }
			},
			check: func(t *testing.T, err error) {
				var reqErr *RequestError
				require.ErrorAs(t, err, &reqErr)
				assert.Equal(t, 3, reqErr.Attempts)
			}},
		{name: "body over the cap", broken: 1,
			fail: func(*poolServer) func(http.ResponseWriter, *http.Request) {
				return func(w http.ResponseWriter, _ *http.Request) {
					_, _ = w.Write([]byte(`{"id":"` + strings.Repeat("x", 4096) + `"}`))
				}
			},
			check: func(t *testing.T, err error) { require.ErrorIs(t, err, ErrInvalidResponse) }},
		{name: "token source fails before a retry", broken: 0, source: &failingSource{},
			fail: func(*poolServer) func(http.ResponseWriter, *http.Request) {
				return func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(503) }
			},
			check: func(t *testing.T, err error) { require.ErrorContains(t, err, "token") }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := newPoolServer(t)
			s.fail = tc.fail(s)
			c, err := NewClient(testTenant, testClientID, WithBaseURL(s.URL), WithMaxResponseBytes(1024),
				WithRetryPolicy(RetryPolicy{MaxRetries: 2, MinWait: time.Millisecond, MaxWait: time.Minute}),
				WithTokenSource(StaticTokens(anonToken(), custToken())))
			require.NoError(t, err)

			assert.Equal(t, burstSize, s.burst(t, c), "the first burst warms the pool")
			source := tc.source
			if source == nil {
				source = SingleToken(&Token{Kind: KindCustomer, AccessToken: "FAILING-SHOPPER", TokenType: "Bearer"})
			}
			shopper := c.WithTokenSource(source)
			call := tc.call
			if call == nil {
				call = func(t *testing.T, _ *poolServer, shopper *Client) error {
					_, err := shopper.Profile.Get(context.Background(), nil)
					return err
				}
			}
			err = call(t, s, shopper)
			require.Error(t, err)
			tc.check(t, err)

			opened := s.burst(t, c)
			assert.LessOrEqual(t, opened, tc.broken+1,
				"the next burst opened %d connections: the failure emptied the shared pool", opened)
		})
	}
}

// The per-attempt timeout, applied by the pool guard, bounds both the wait
// for headers and the body read, and says it was the attempt's own time
// that ran out, not the caller's.
func TestAttemptTimeoutIsNamed(t *testing.T) {
	for _, stall := range []string{"headers", "body"} {
		t.Run(stall, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if stall == "body" {
					w.Header().Set("Content-Length", "100")
					w.WriteHeader(200)
					_, _ = w.Write([]byte(`{"id":`))
					w.(http.Flusher).Flush()
				}
				select {
				case <-r.Context().Done():
				case <-time.After(3 * time.Second):
				}
			}))
			defer srv.Close()
			c, err := NewClient(testTenant, testClientID, WithBaseURL(srv.URL), WithTimeout(100*time.Millisecond),
				WithNoRetries(), WithDefaultTokenSource(StaticTokens(anonToken(), custToken())))
			require.NoError(t, err)
			start := time.Now()
			_, err = c.Profile.Get(context.Background(), nil)
			assert.Less(t, time.Since(start), 2*time.Second)
			require.ErrorIs(t, err, context.DeadlineExceeded)
			var netErr net.Error
			require.ErrorAs(t, err, &netErr)
			assert.True(t, netErr.Timeout())
			assert.Contains(t, err.Error(), "attempt timed out after 100ms")
		})
	}

	// The caller's own deadline is reported as such.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(3 * time.Second):
		}
	}))
	defer srv.Close()
	c, err := NewClient(testTenant, testClientID, WithBaseURL(srv.URL), WithTimeout(time.Minute),
		WithNoRetries(), WithDefaultTokenSource(StaticTokens(anonToken(), custToken())))
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_, err = c.Profile.Get(ctx, nil)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	assert.NotContains(t, err.Error(), "attempt timed out")
}
