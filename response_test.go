package emporix

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// hugeBody is a generated body of n bytes that counts what was read from
// it and allocates nothing itself.
type hugeBody struct {
	left int64
	read *atomic.Int64
}

func (h *hugeBody) Read(p []byte) (int, error) {
	if h.left <= 0 {
		return 0, io.EOF
	}
	n := int(min(int64(len(p)), h.left))
	for i := range p[:n] {
		p[i] = 'x'
	}
	h.left -= int64(n)
	h.read.Add(int64(n))
	return n, nil
}

func (h *hugeBody) Close() error { return nil }

// hugeTransport answers every request with status and a generated body of
// size bytes, declared in Content-Length or not.
type hugeTransport struct {
	status   int
	size     int64
	declared bool
	read     atomic.Int64
}

func (h *hugeTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	resp := &http.Response{StatusCode: h.status, Header: http.Header{"Content-Type": {contentJSON}},
		Body: &hugeBody{left: h.size, read: &h.read}, ContentLength: -1, Request: r}
	if h.declared {
		resp.ContentLength = h.size
	}
	return resp, nil
}

func hugeClient(t testing.TB, tr *hugeTransport, opts ...Option) *Client {
	base := []Option{WithHTTPClient(&http.Client{Transport: tr}), WithBaseURL(testBase),
		WithTokenSource(StaticTokens(anonToken(), custToken()))}
	c, err := NewClient(testTenant, testClientID, append(base, opts...)...)
	require.NoError(t, err)
	return c
}

const hugeSize = 50 << 20 // 50 MB

// A body over the cap is an invalid response (one did arrive), refused
// before reading when its length is declared, and otherwise read no
// further than the cap, in memory close to what was read.
func TestOverCapBodyIsInvalidResponse(t *testing.T) {
	for _, declared := range []bool{true, false} {
		t.Run("Content-Length "+strconv.FormatBool(declared), func(t *testing.T) {
			tr := &hugeTransport{status: 200, size: hugeSize, declared: declared}
			c := hugeClient(t, tr)

			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			_, err := c.Profile.Get(context.Background(), nil)
			runtime.ReadMemStats(&after)

			require.ErrorIs(t, err, ErrInvalidResponse)
			re := requireResponseError(t, err, 200)
			assert.Equal(t, "body larger than 8388608 bytes", re.Reason)
			var reqErr *RequestError
			assert.False(t, errors.As(err, &reqErr), "a response arrived: not a *RequestError")

			read := tr.read.Load()
			if declared {
				assert.Zero(t, read, "a declared length over the cap is refused before reading")
			} else {
				assert.Equal(t, int64(DefaultMaxResponseBytes+1), read, "read up to one byte past the cap")
			}
			allocated := int64(after.TotalAlloc - before.TotalAlloc)
			assert.LessOrEqual(t, allocated, read+1<<20, "allocated %d bytes to read %d", allocated, read)
		})
	}
}

func TestWithMaxResponseBytes(t *testing.T) {
	t.Parallel()
	for _, n := range []int64{0, -1} {
		_, err := NewClient(testTenant, testClientID, WithMaxResponseBytes(n))
		requireInvalid(t, err, "max response bytes")
	}

	body := `{"id":"C1","firstName":"` + strings.Repeat("a", 100) + `"}`
	for _, declared := range []bool{true, false} {
		c, mt := newTestClient(t, WithMaxResponseBytes(int64(len(body))))
		serve(t, mt, "GET", "/customer/mytenant/me", jsonReply(200, body))
		cust, err := c.Profile.Get(context.Background(), nil)
		require.NoError(t, err, "a body of exactly the cap is read")
		assert.Equal(t, "C1", cust.ID)

		tr := &hugeTransport{status: 200, size: int64(len(body)) + 1, declared: declared}
		_, err = hugeClient(t, tr, WithMaxResponseBytes(int64(len(body)))).Profile.Get(context.Background(), nil)
		require.ErrorIs(t, err, ErrInvalidResponse, "one byte over the cap is refused")
		assert.Contains(t, err.Error(), "body larger than "+strconv.Itoa(len(body))+" bytes")
	}

	// A refused body is not retried, even on a read: it would not shrink.
	tr := &hugeTransport{status: 200, size: 2048}
	var calls atomic.Int32
	counting := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		calls.Add(1)
		return tr.RoundTrip(r)
	})
	c, err := NewClient(testTenant, testClientID, WithHTTPClient(&http.Client{Transport: counting}), WithBaseURL(testBase),
		WithMaxResponseBytes(1024), WithTokenSource(StaticTokens(anonToken(), custToken())))
	require.NoError(t, err)
	_, err = c.Addresses.List(context.Background())
	require.ErrorIs(t, err, ErrInvalidResponse)
	assert.Equal(t, int32(1), calls.Load())
}

// An error body over its cap is cut, not dropped: its start still explains
// the error, and no more than the cap is read.
func TestOverCapErrorBodyKeepsItsStart(t *testing.T) {
	t.Parallel()
	for _, declared := range []bool{true, false} {
		tr := &hugeTransport{status: 502, size: hugeSize, declared: declared}
		_, err := hugeClient(t, tr, WithNoRetries()).Profile.Get(context.Background(), nil)
		apiErr := requireAPIError(t, err, 502)
		assert.Equal(t, strings.Repeat("x", maxSnippet)+"…", apiErr.Body)
		assert.Equal(t, int64(maxErrorBody), tr.read.Load())
	}
	// JSON cut at the cap keeps what came before the cut.
	c, mt := newTestClient(t, WithNoRetries(), WithMaxResponseBytes(64))
	serve(t, mt, "GET", "/customer/mytenant/me", jsonReply(500, `{"status":500,"trace":"`+strings.Repeat("t", 100)+`"}`))
	_, err := c.Profile.Get(context.Background(), nil)
	apiErr := requireAPIError(t, err, 500)
	assert.Equal(t, `{"status":500,"trace"`, apiErr.Body, "up to the last whole token")
}

// readCapped keeps one buffer for a body of known length and joins pieces
// only for a long body of unknown length.
func TestReadCapped(t *testing.T) {
	for _, size := range []int{0, 1, firstPiece - 1, firstPiece, firstPiece + 1, 3 * maxPiece, 3*maxPiece + 7} {
		body := bytes.Repeat([]byte("abcdefg"), size/7+1)[:size]
		for _, declared := range []bool{true, false} {
			n := int64(-1)
			if declared {
				n = int64(size)
			}
			got, err := readCapped(bytes.NewReader(body), n, int64(size), false)
			require.NoError(t, err)
			assert.Equal(t, body, got, "size %d declared %v", size, declared)
			_, err = readCapped(bytes.NewReader(append(body, 'z')), -1, int64(size), false)
			require.ErrorIs(t, err, errBodyTooLarge)
		}
	}
	broken := errors.New("connection reset")
	_, err := readCapped(io.MultiReader(strings.NewReader("abc"), errReader{broken}), -1, 100, false)
	require.ErrorIs(t, err, broken, "a read error is the error, not a short body")
	_, err = readCapped(io.MultiReader(strings.NewReader("abc"), errReader{broken}), 10, 100, false)
	require.ErrorIs(t, err, broken)
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

// BenchmarkRefusedBody measures a profile read answered with a 50 MB body,
// with and without Content-Length, against the default 8 MiB cap.
// read-B/op is what was read of the body; over-B/op is B/op minus that,
// the target being at most 1 MiB. The anchors read the same body through
// io.LimitReader with io.ReadAll and with a json.Decoder, both of which
// grow one buffer.
func BenchmarkRefusedBody(b *testing.B) {
	for _, declared := range []bool{true, false} {
		name := "sdk/without-Content-Length"
		if declared {
			name = "sdk/with-Content-Length"
		}
		b.Run(name, func(b *testing.B) {
			tr := &hugeTransport{status: 200, size: hugeSize, declared: declared}
			c := hugeClient(b, tr)
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := c.Profile.Get(context.Background(), nil); !errors.Is(err, ErrInvalidResponse) {
					b.Fatal(err)
				}
			}
			runtime.ReadMemStats(&after)
			reportOverRead(b, tr.read.Load(), after.TotalAlloc-before.TotalAlloc)
		})
	}
	b.Run("anchor/io.ReadAll", func(b *testing.B) {
		var read atomic.Int64
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		b.ReportAllocs()
		for b.Loop() {
			data, _ := io.ReadAll(io.LimitReader(&hugeBody{left: hugeSize, read: &read}, DefaultMaxResponseBytes+1))
			if len(data) <= DefaultMaxResponseBytes {
				b.Fatal("not over the cap")
			}
		}
		runtime.ReadMemStats(&after)
		reportOverRead(b, read.Load(), after.TotalAlloc-before.TotalAlloc)
	})
	b.Run("anchor/json.Decoder", func(b *testing.B) {
		var read atomic.Int64
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		b.ReportAllocs()
		for b.Loop() {
			var cust Customer
			body := io.MultiReader(strings.NewReader(`{"id":"`), &hugeBody{left: hugeSize, read: &read})
			if json.NewDecoder(io.LimitReader(body, DefaultMaxResponseBytes+1)).Decode(&cust) == nil {
				b.Fatal("decoded")
			}
		}
		runtime.ReadMemStats(&after)
		reportOverRead(b, read.Load(), after.TotalAlloc-before.TotalAlloc)
	})
}

func reportOverRead(b *testing.B, read int64, allocated uint64) {
	perOp := float64(read) / float64(b.N)
	b.ReportMetric(perOp, "read-B/op")
	b.ReportMetric(float64(allocated)/float64(b.N)-perOp, "over-B/op")
}
