package emporix

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// endlessBody is a response body that never ends and fills every buffer it
// is given, as a misbehaving server or proxy streaming garbage would. It
// counts what the SDK consumed.
type endlessBody struct {
	mu   sync.Mutex
	read int64
}

var endlessChunk = []byte(strings.Repeat("x", 64<<10))

func (b *endlessBody) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		n += copy(p[n:], endlessChunk)
	}
	b.mu.Lock()
	b.read += int64(n)
	b.mu.Unlock()
	return n, nil
}

func (b *endlessBody) Close() error { return nil }

func (b *endlessBody) consumed() int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.read
}

// TestReadBodyConsumesAtMostOneBytePastTheLimit: however large the reader's
// reads and whatever the Content-Length claims, readCapped consumes at most
// limit+1 bytes, so an endless body costs no more memory than the cap.
func TestReadBodyConsumesAtMostOneBytePastTheLimit(t *testing.T) {
	t.Parallel()
	for _, limit := range []int64{0, 1, 100, 511, 512, 513, 4096, 100_000} {
		for _, length := range []int64{-1, 0, limit / 2, limit} { // unknown or understated
			body := &endlessBody{}
			_, err := readCapped(body, length, limit, false)
			require.ErrorIs(t, err, errBodyTooLarge, "limit %d, Content-Length %d", limit, length)
			assert.LessOrEqual(t, body.consumed(), limit+1, "limit %d, Content-Length %d", limit, length)
		}
	}
}

// TestEndlessBodiesAreCutAtTheirCaps: through a client, an endless success
// body fails the call and an endless error body is still an APIError, each
// read no further than one byte past its cap, on every attempt.
func TestEndlessBodiesAreCutAtTheirCaps(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		status int
		limit  int64
	}{{200, DefaultMaxResponseBytes}, {503, maxErrorBody}} {
		c, mt := newTestClient(t)
		var (
			mu     sync.Mutex
			bodies []*endlessBody
		)
		mt.RegisterNoResponder(func(*http.Request) (*http.Response, error) {
			b := &endlessBody{}
			mu.Lock()
			bodies = append(bodies, b)
			mu.Unlock()
			return &http.Response{StatusCode: tc.status, Body: b, ContentLength: -1,
				Header: http.Header{"Content-Type": {"application/json"}}}, nil
		})
		allowOffSpecResponses(t, "an endless body is the point of the test")
		_, err := c.Profile.Get(context.Background(), nil)
		require.Error(t, err)
		if tc.status != 200 {
			var apiErr *APIError
			assert.True(t, errors.As(err, &apiErr), "an APIError: %v", err)
		}
		mu.Lock()
		require.NotEmpty(t, bodies)
		for i, b := range bodies {
			assert.LessOrEqual(t, b.consumed(), tc.limit+1, "status %d, attempt %d", tc.status, i+1)
		}
		mu.Unlock()
	}
}
