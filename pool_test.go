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
	// cancelled is a context cancelled after d, or at once for 0.
	cancelled := func(d time.Duration) func() context.Context {
		return func() context.Context {
			ctx, cancel := context.WithCancel(context.Background())
			time.AfterFunc(d, cancel)
			if d == 0 {
				cancel()
			}
			return ctx
		}
	}
	status := func(code int, header ...string) http.HandlerFunc {
		return func(w http.ResponseWriter, _ *http.Request) {
			for i := 0; i+1 < len(header); i += 2 {
				w.Header().Set(header[i], header[i+1])
			}
			w.WriteHeader(code)
		}
	}
	cases := []struct {
		name   string
		fail   http.HandlerFunc
		ctx    func() context.Context // nil: context.Background
		source TokenSource
		broken int // connections the failure itself may break
		check  func(t *testing.T, err error)
	}{
		{name: "gives up after retries", fail: status(503),
			check: func(t *testing.T, err error) {
				apiErr := requireAPIError(t, err, 503)
				assert.Equal(t, 3, apiErr.Attempts)
			}},
		{name: "status that is not retried", fail: status(404),
			check: func(t *testing.T, err error) { require.ErrorIs(t, err, ErrNotFound) }},
		{name: "context cancelled before sending", ctx: cancelled(0),
			fail:  func(http.ResponseWriter, *http.Request) { t.Error("a cancelled call was sent") },
			check: func(t *testing.T, err error) { require.ErrorIs(t, err, context.Canceled) }},
		{name: "context cancelled during the wait before a retry", ctx: cancelled(100 * time.Millisecond),
			fail:  status(503, "Retry-After", "5"),
			check: func(t *testing.T, err error) { require.ErrorIs(t, err, context.Canceled) }},
		{name: "context cancelled while reading the body", broken: 1, ctx: cancelled(200 * time.Millisecond),
			fail:  stallBody(5 * time.Second),
			check: func(t *testing.T, err error) { require.ErrorIs(t, err, context.Canceled) }},
		{name: "body cut on every attempt", broken: 3,
			fail: func(w http.ResponseWriter, _ *http.Request) { cutBody(w) },
			check: func(t *testing.T, err error) {
				var reqErr *RequestError
				require.ErrorAs(t, err, &reqErr)
				assert.Equal(t, 3, reqErr.Attempts)
			}},
		{name: "body over the cap", broken: 1,
			fail: func(w http.ResponseWriter, _ *http.Request) {
				_, _ = w.Write([]byte(`{"id":"` + strings.Repeat("x", 4096) + `"}`))
			},
			check: func(t *testing.T, err error) { require.ErrorIs(t, err, ErrInvalidResponse) }},
		{name: "token source fails before a retry", source: &failingSource{}, fail: status(503),
			check: func(t *testing.T, err error) { require.ErrorContains(t, err, "token") }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := newPoolServer(t)
			s.fail = tc.fail
			c, err := NewClient(testTenant, testClientID, WithBaseURL(s.URL), WithMaxResponseBytes(1024),
				WithRetryPolicy(RetryPolicy{MaxRetries: 2, MinWait: time.Millisecond, MaxWait: time.Minute}),
				WithTokenSource(StaticTokens(anonToken(), custToken())))
			require.NoError(t, err)

			assert.Equal(t, burstSize, s.burst(t, c), "the first burst warms the pool")
			source := tc.source
			if source == nil {
				source = SingleToken(&Token{Kind: KindCustomer, AccessToken: "FAILING-SHOPPER", TokenType: "Bearer"})
			}
			ctx := context.Background()
			if tc.ctx != nil {
				ctx = tc.ctx()
			}
			_, err = c.WithTokenSource(source).Profile.Get(ctx, nil)
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
			h := stallBody(3 * time.Second)
			if stall == "headers" {
				h = stall3s
			}
			srv := httptest.NewServer(h)
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
	srv := httptest.NewServer(stall3s)
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

// stallBody starts a 100-byte body, sends six bytes and stalls until the
// request is cancelled or d has passed.
func stallBody(d time.Duration) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "100")
		w.WriteHeader(200)
		_, _ = w.Write([]byte(`{"id":`))
		w.(http.Flusher).Flush()
		stall(r, d)
	}
}

// stall3s answers nothing until the request is cancelled or 3 s have passed.
var stall3s http.HandlerFunc = func(_ http.ResponseWriter, r *http.Request) { stall(r, 3*time.Second) }

func stall(r *http.Request, d time.Duration) {
	select {
	case <-r.Context().Done():
	case <-time.After(d):
	}
}
