package emporix

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/emporix-go/emporix/internal/optable"
	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// retryOp is one operation of the retry matrix: where it goes, what a
// success looks like and how to call it, from its row and its case.
type retryOp struct {
	name   string
	method string
	path   string
	ok     reply
	call   func(ctx context.Context, c *Client) error
}

// retryOps are the SDK operations of one retry class, every one of them.
func retryOps(class retryClass) []retryOp {
	s := newSecretSet("sentinels", "")
	var ops []retryOp
	for _, row := range sdkRows() {
		if row.Retry != class {
			continue
		}
		oc := opCases[row.ID]
		ops = append(ops, retryOp{oc.name, row.Method, casePath(row, s), oc.ok, func(ctx context.Context, c *Client) error {
			_, err := oc.call(ctx, c, s)
			return err
		}})
	}
	return ops
}

// safeOps are the operations that only read: the retrySafe class.
func safeOps() []retryOp { return retryOps(retrySafe) }

// unsafeOps are the operations that may change state, including GETs
// that do.
func unsafeOps() []retryOp { return retryOps(optable.Unsafe) }

func statusReply(status int, header ...string) reply {
	r := reply{status: status, body: fmt.Sprintf(`{"status":%d,"type":"t%d","message":"m%d"}`, status, status, status)}
	if len(header) > 0 {
		r.header = http.Header{}
		for i := 0; i+1 < len(header); i += 2 {
			r.header.Set(header[i], header[i+1])
		}
	}
	return r
}

func dialError() error {
	return &net.OpError{Op: "dial", Net: "tcp", Err: &net.AddrError{Err: "connection refused", Addr: "10.0.0.1:443"}}
}

func TestRetrySafeOperations(t *testing.T) {
	allowOffSpecResponses(t, "retry status matrix: every status on every operation")
	for _, op := range safeOps() {
		t.Run(op.name, func(t *testing.T) {
			// 503 → 503 → 200: three requests and success.
			c, mt := newTestClient(t)
			serve(t, mt, op.method, op.path, statusReply(503), statusReply(503), op.ok)
			require.NoError(t, op.call(context.Background(), c))
			assert.Equal(t, 3, calls(mt, op.method, op.path))

			for _, status := range []int{500, 502, 503, 504, 408, 429} {
				c, mt := newTestClient(t)
				serve(t, mt, op.method, op.path, statusReply(status), op.ok)
				require.NoError(t, op.call(context.Background(), c), "status %d", status)
				assert.Equal(t, 2, calls(mt, op.method, op.path), "status %d is retried", status)
			}
			for _, status := range []int{400, 401, 403, 404, 409, 422, 501} {
				c, mt := newTestClient(t)
				serve(t, mt, op.method, op.path, statusReply(status), op.ok)
				err := op.call(context.Background(), c)
				var apiErr *APIError
				require.ErrorAs(t, err, &apiErr, "status %d", status)
				assert.Equal(t, status, apiErr.StatusCode)
				assert.Equal(t, 1, apiErr.Attempts)
				assert.Equal(t, 1, calls(mt, op.method, op.path), "status %d is not retried", status)
			}

			// Transport errors of any kind are retried for reads.
			for _, terr := range []error{dialError(), io.ErrUnexpectedEOF, &net.OpError{Op: "read", Net: "tcp", Err: syscall.ECONNRESET}} {
				c, mt := newTestClient(t)
				serve(t, mt, op.method, op.path, reply{err: terr}, reply{err: terr}, op.ok)
				require.NoError(t, op.call(context.Background(), c), "%v", terr)
				assert.Equal(t, 3, calls(mt, op.method, op.path), "%v", terr)
			}
		})
	}
}

func TestRetryUnsafeOperations(t *testing.T) {
	allowOffSpecResponses(t, "retry status matrix: every status on every operation")
	for _, op := range unsafeOps() {
		t.Run(op.name, func(t *testing.T) {
			// 503 without Retry-After: the server may have acted.
			c, mt := newTestClient(t)
			serve(t, mt, op.method, op.path, statusReply(503), op.ok)
			err := op.call(context.Background(), c)
			apiErr := requireAPIError(t, err, 503)
			assert.Equal(t, 1, apiErr.Attempts)
			assert.Equal(t, "m503", apiErr.Message)
			require.ErrorIs(t, err, ErrServer)
			assert.Equal(t, 1, calls(mt, op.method, op.path))

			for _, status := range []int{500, 502, 504, 408, 429, 400, 401, 404, 409} {
				c, mt := newTestClient(t)
				serve(t, mt, op.method, op.path, statusReply(status), op.ok)
				err := op.call(context.Background(), c)
				require.ErrorAs(t, err, &apiErr, "status %d", status)
				assert.Equal(t, status, apiErr.StatusCode)
				assert.Equal(t, 1, calls(mt, op.method, op.path), "status %d without Retry-After is not retried", status)
			}

			// 429 and 503 with Retry-After: the server did not act.
			for _, r := range []reply{statusReply(429, "Retry-After", "0"), statusReply(503, "Retry-After", "0"),
				statusReply(503, "Retry-After", testNow.Add(-time.Hour).Format(http.TimeFormat))} {
				c, mt := newTestClient(t)
				serve(t, mt, op.method, op.path, r, op.ok)
				require.NoError(t, op.call(context.Background(), c), "status %d %v", r.status, r.header)
				assert.Equal(t, 2, calls(mt, op.method, op.path), "status %d with Retry-After is retried", r.status)
			}
			// Other statuses with Retry-After are still not retried.
			for _, status := range []int{500, 502, 504} {
				c, mt := newTestClient(t)
				serve(t, mt, op.method, op.path, statusReply(status, "Retry-After", "0"), op.ok)
				require.Error(t, op.call(context.Background(), c))
				assert.Equal(t, 1, calls(mt, op.method, op.path), "status %d", status)
			}

			// A connection that was never made is retried.
			for _, terr := range []error{dialError(), &net.OpError{Op: "dial", Net: "tcp", Err: &net.DNSError{Err: "no such host", Name: "api.emporix.test"}},
				&net.DNSError{Err: "no such host", Name: "api.emporix.test", IsNotFound: true}} {
				c, mt := newTestClient(t)
				serve(t, mt, op.method, op.path, reply{err: terr}, op.ok)
				require.NoError(t, op.call(context.Background(), c), "%v", terr)
				assert.Equal(t, 2, calls(mt, op.method, op.path), "%v", terr)
			}

			// Anything after the connection is not: the request may have arrived.
			for _, terr := range []error{io.ErrUnexpectedEOF, io.EOF, &net.OpError{Op: "read", Net: "tcp", Err: syscall.ECONNRESET},
				&net.OpError{Op: "write", Net: "tcp", Err: syscall.EPIPE}, errors.New("http2: stream reset"),
				&net.OpError{Op: "read", Net: "tcp", Err: timeoutError{}}} {
				c, mt := newTestClient(t)
				serve(t, mt, op.method, op.path, reply{err: terr}, op.ok)
				err := op.call(context.Background(), c)
				var reqErr *RequestError
				require.ErrorAs(t, err, &reqErr, "%v", terr)
				assert.Equal(t, 1, reqErr.Attempts)
				assert.Equal(t, 1, calls(mt, op.method, op.path), "%v is not retried", terr)
			}
		})
	}
}

// timeoutError is a net.Error that timed out.
type timeoutError struct{}

func (timeoutError) Error() string   { return "i/o timeout" }
func (timeoutError) Timeout() bool   { return true }
func (timeoutError) Temporary() bool { return true }

func TestRetryBodyIdenticalOnEveryAttempt(t *testing.T) {
	for _, op := range unsafeOps() {
		t.Run(op.name, func(t *testing.T) {
			c, mt := newTestClient(t)
			rec := serve(t, mt, op.method, op.path,
				statusReply(503, "Retry-After", "0"), reply{err: dialError()}, statusReply(429, "Retry-After", "0"), op.ok)
			c.http.RetryMax = 3
			require.NoError(t, op.call(context.Background(), c))
			reqs := rec()
			require.Len(t, reqs, 4)
			for i, r := range reqs[1:] {
				assert.Equal(t, bodyOf(t, reqs[0]), bodyOf(t, r), "attempt %d", i+2)
				assert.Equal(t, reqs[0].URL.Query(), r.URL.Query(), "attempt %d", i+2)
				assert.Equal(t, reqs[0].Header.Get("Content-Type"), r.Header.Get("Content-Type"))
				assert.Equal(t, reqs[0].Header.Get("Authorization"), r.Header.Get("Authorization"))
				assert.Equal(t, reqs[0].Header.Get("Content-Length"), r.Header.Get("Content-Length"))
			}
			if reqs[0].Header.Get("Content-Type") != "" {
				assert.NotEmpty(t, bodyOf(t, reqs[0]), "a JSON or form body, compared above")
			}
		})
	}
}

func TestRetriesExhausted(t *testing.T) {
	c, mt := newTestClient(t)
	serve(t, mt, "GET", "/customer/mytenant/me/addresses",
		reply{status: 500, body: `{"status":500,"type":"first","message":"first failure"}`},
		reply{status: 502, body: `<html>bad gateway</html>`},
		reply{status: 503, body: `{"status":503,"type":"service_unavailable","message":"last failure","details":["x"]}`,
			header: http.Header{"Retry-After": {"7"}, "X-Request-Id": {"req-3"}}})
	_, err := c.Addresses.List(context.Background())
	var apiErr *APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, 3, calls(mt, "GET", "/customer/mytenant/me/addresses"))
	assert.Equal(t, 503, apiErr.StatusCode, "the last status")
	assert.Equal(t, "service_unavailable", apiErr.Type)
	assert.Equal(t, "last failure", apiErr.Message, "the last body")
	assert.Empty(t, apiErr.Body)
	assert.Len(t, apiErr.Details, 1)
	assert.Equal(t, 3, apiErr.Attempts)
	assert.Equal(t, 7*time.Second, apiErr.RetryAfter)
	assert.Equal(t, "req-3", apiErr.RequestID)
	assert.Equal(t, "GET-customer-list-customer-addresses", apiErr.Operation)
	require.ErrorIs(t, err, ErrServer)
	assert.NotErrorIs(t, err, ErrRateLimited)
	assert.Equal(t, "emporix: GET /customer/mytenant/me/addresses: 503 service_unavailable: last failure (after 3 attempts)", err.Error())

	// The last answer is an HTML page: its snippet is kept.
	c, mt = newTestClient(t)
	serve(t, mt, "GET", "/customer/mytenant/me", statusReply(503), reply{status: 502, body: "<html>Bad Gateway</html>"})
	_, err = c.Profile.Get(context.Background(), nil)
	apiErr = requireAPIError(t, err, 502)
	assert.Equal(t, "<html>Bad Gateway</html>", apiErr.Body)
	assert.Empty(t, apiErr.Message)

	// Unsafe operations exhaust retries on 429 with Retry-After.
	c, mt = newTestClient(t)
	serve(t, mt, "POST", "/customer/mytenant/login", statusReply(429, "Retry-After", "0"))
	_, err = c.Auth.Login(context.Background(), &LoginRequest{Email: "a@example.com", Password: secretPassword})
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, 3, calls(mt, "POST", "/customer/mytenant/login"))
	assert.Equal(t, 3, apiErr.Attempts)
	assert.Equal(t, 429, apiErr.StatusCode)
	assert.Equal(t, time.Duration(0), apiErr.RetryAfter)
	require.ErrorIs(t, err, ErrRateLimited)

	// Transport errors exhaust retries into a *RequestError.
	c, mt = newTestClient(t)
	serve(t, mt, "GET", "/customer/mytenant/me", reply{err: io.ErrUnexpectedEOF})
	_, err = c.Profile.Get(context.Background(), nil)
	var reqErr *RequestError
	require.ErrorAs(t, err, &reqErr)
	assert.Equal(t, 3, calls(mt, "GET", "/customer/mytenant/me"))
	assert.Equal(t, 3, reqErr.Attempts)
	require.ErrorIs(t, err, io.ErrUnexpectedEOF)
	assert.Contains(t, err.Error(), "(after 3 attempts)")
	assert.Equal(t, "GET", reqErr.Method)
	assert.Equal(t, "/customer/mytenant/me", reqErr.Path)

	// A dial error on an unsafe operation, every time.
	c, mt = newTestClient(t)
	serve(t, mt, "POST", "/customer/mytenant/me/addresses", reply{err: dialError()})
	_, err = c.Addresses.Create(context.Background(), &AddressCreate{ContactName: "Jane"})
	require.ErrorAs(t, err, &reqErr)
	assert.Equal(t, 3, calls(mt, "POST", "/customer/mytenant/me/addresses"))
	assert.Equal(t, 3, reqErr.Attempts)
	var opErr *net.OpError
	require.ErrorAs(t, err, &opErr)
	assert.Equal(t, "dial", opErr.Op)
}

func TestWithNoRetries(t *testing.T) {
	for _, r := range []reply{statusReply(503, "Retry-After", "0"), statusReply(500), {err: dialError()}} {
		c, mt := newTestClient(t, WithNoRetries())
		serve(t, mt, "GET", "/customer/mytenant/me", r, jsonReply(200, `{"id":"1"}`))
		_, err := c.Profile.Get(context.Background(), nil)
		require.Error(t, err)
		assert.Equal(t, 1, calls(mt, "GET", "/customer/mytenant/me"))
	}
	// MaxRetries 1 sends at most two requests.
	c, mt := newTestClient(t, WithRetryPolicy(RetryPolicy{MaxRetries: 1}))
	serve(t, mt, "GET", "/customer/mytenant/me", statusReply(503))
	_, err := c.Profile.Get(context.Background(), nil)
	var apiErr *APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, 2, apiErr.Attempts)
	assert.Equal(t, 2, calls(mt, "GET", "/customer/mytenant/me"))
}

func TestRetryAfterParsing(t *testing.T) {
	h := func(v string) http.Header { return http.Header{"Retry-After": {v}} }
	cases := []struct {
		value string
		want  time.Duration
		ok    bool
	}{
		{"0", 0, true},
		{"1", time.Second, true},
		{"120", 2 * time.Minute, true},
		{"999999", 999999 * time.Second, true},
		{"99999999999999999", time.Duration(maxFlexSeconds) * time.Second, true},
		{testNow.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second, true},
		{testNow.Add(90 * time.Second).Format(time.RFC850), 90 * time.Second, true},
		{testNow.Add(90 * time.Second).Format(time.ANSIC), 90 * time.Second, true},
		{testNow.Add(-time.Hour).Format(http.TimeFormat), 0, true},
		{"-5", 0, false},
		{"-0", 0, true},
		{"1.5", 0, false},
		{"abc", 0, false},
		{"5s", 0, false},
		{" ", 0, false},
		{"", 0, false},
		{"Fri, 32 Nov 2026 12:00:00 GMT", 0, false},
		{"99999999999999999999999", 0, false},
	}
	for _, tc := range cases {
		got, ok := retryAfter(h(tc.value), testNow)
		assert.Equal(t, tc.ok, ok, "%q", tc.value)
		assert.Equal(t, tc.want, got, "%q", tc.value)
		assert.GreaterOrEqual(t, got, time.Duration(0), "%q", tc.value)
	}
	_, ok := retryAfter(http.Header{}, testNow)
	assert.False(t, ok)

	// The client reports the wait on the error against the wall clock, as
	// the backoff waits: WithClock's clock (fixed at testNow here) is for
	// token expiries, not for real time to wait.
	c, mt := newTestClient(t, WithNoRetries())
	serve(t, mt, "GET", "/customer/mytenant/me", statusReply(429, "Retry-After", time.Now().Add(30*time.Second).Format(http.TimeFormat)))
	_, err := c.Profile.Get(context.Background(), nil)
	var apiErr *APIError
	require.ErrorAs(t, err, &apiErr)
	assert.InDelta(t, float64(30*time.Second), float64(apiErr.RetryAfter), float64(1500*time.Millisecond),
		"HTTP dates have whole seconds")

	c, mt = newTestClient(t, WithNoRetries())
	serve(t, mt, "GET", "/customer/mytenant/me", statusReply(503, "Retry-After", "garbage"))
	_, err = c.Profile.Get(context.Background(), nil)
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, time.Duration(0), apiErr.RetryAfter)
}

// backoffFor is the wait checkRetry chooses after resp: backoff, given
// resp's Retry-After as checkRetry reads it.
func backoffFor(minWait, maxWait time.Duration, attempt int, resp *http.Response) time.Duration {
	var asked time.Duration
	hasAsked := false
	if resp != nil {
		asked, hasAsked = retryAfter(resp.Header, time.Now())
	}
	return backoff(minWait, maxWait, attempt, asked, hasAsked)
}

func respWith(status int, retryAfterValue string) *http.Response {
	r := &http.Response{StatusCode: status, Header: http.Header{}}
	if retryAfterValue != "" {
		r.Header.Set("Retry-After", retryAfterValue)
	}
	return r
}

func TestBackoffRetryAfterCapped(t *testing.T) {
	maxWait := 2 * time.Second
	for _, status := range []int{429, 503} {
		assert.Equal(t, maxWait, backoffFor(10*time.Millisecond, maxWait, 0, respWith(status, "999999")), "absurd Retry-After")
		assert.Equal(t, maxWait, backoffFor(10*time.Millisecond, maxWait, 5, respWith(status, "99999999999999999")))
		assert.Equal(t, time.Second, backoffFor(10*time.Millisecond, maxWait, 0, respWith(status, "1")))
		assert.Equal(t, time.Duration(0), backoffFor(10*time.Millisecond, maxWait, 3, respWith(status, "0")),
			"Retry-After: 0 beats the exponential wait")
		d := backoffFor(10*time.Millisecond, maxWait, 0, respWith(status, time.Now().Add(time.Hour).Format(http.TimeFormat)))
		assert.Equal(t, maxWait, d, "HTTP date far ahead")
		d = backoffFor(10*time.Millisecond, time.Minute, 0, respWith(status, time.Now().Add(10*time.Second).Format(http.TimeFormat)))
		assert.InDelta(t, float64(10*time.Second), float64(d), float64(1500*time.Millisecond), "HTTP date")
		assert.Equal(t, time.Duration(0), backoffFor(0, 0, 0, respWith(status, "30")), "MaxWait 0 caps Retry-After to nothing")
	}
	// Garbage or negative Retry-After falls back to the jittered backoff.
	for _, v := range []string{"-5", "soon", ""} {
		for range 200 {
			d := backoffFor(10*time.Millisecond, maxWait, 1, respWith(503, v))
			assert.GreaterOrEqual(t, d, time.Duration(0))
			assert.LessOrEqual(t, d, 20*time.Millisecond, "%q", v)
		}
	}
}

func TestBackoffFullJitter(t *testing.T) {
	minWait, maxWait := 100*time.Millisecond, 3*time.Second
	const samples = 3000
	responses := []*http.Response{nil, respWith(500, ""), respWith(502, "")}
	for attempt := range 8 {
		ceiling := min(minWait<<attempt, maxWait)
		var lo, hi time.Duration = maxWait, 0
		var sum time.Duration
		for i := range samples {
			d := backoffFor(minWait, maxWait, attempt, responses[i%len(responses)])
			if d < 0 || d > ceiling {
				t.Fatalf("attempt %d: wait %v outside [0, %v]", attempt, d, ceiling)
			}
			lo, hi = min(lo, d), max(hi, d)
			sum += d
		}
		mean := sum / samples
		// Full jitter spreads over the whole range, mean about ceiling/2.
		assert.Less(t, lo, ceiling/10, "attempt %d: not jittered down to ~0", attempt)
		assert.Greater(t, hi, ceiling*9/10, "attempt %d: never near the ceiling", attempt)
		assert.InDelta(t, float64(ceiling/2), float64(mean), float64(ceiling/10), "attempt %d", attempt)
	}
	// Large attempt numbers and huge bases stay capped, never negative.
	for _, attempt := range []int{20, 31, 32, 33, 62, 63, 64, 100, 1 << 20} {
		for range 100 {
			d := backoffFor(minWait, maxWait, attempt, nil)
			require.GreaterOrEqual(t, d, time.Duration(0), "attempt %d", attempt)
			require.LessOrEqual(t, d, maxWait, "attempt %d", attempt)
		}
	}
	for range 100 {
		d := backoffFor(time.Duration(1<<62), time.Duration(1<<62), 3, nil)
		require.GreaterOrEqual(t, d, time.Duration(0))
		require.LessOrEqual(t, d, time.Duration(1<<62))
	}
	// A zero base means no wait at all (the test clients rely on it).
	assert.Equal(t, time.Duration(0), backoffFor(0, 0, 0, nil))
	assert.Equal(t, time.Duration(0), backoffFor(0, time.Second, 5, respWith(500, "")))
	// MinWait == MaxWait jitters within [0, MaxWait].
	for range 200 {
		d := backoffFor(time.Second, time.Second, 0, nil)
		require.LessOrEqual(t, d, time.Second)
	}
}

// recordWaits makes c record each wait it asks for between attempts
// instead of sleeping it, so that a wait it should not ask for (a broken
// cap) fails the test at once instead of hanging it. The calls run on the
// test's goroutine, so the list needs no lock.
func recordWaits(c *Client) *[]time.Duration {
	var waits []time.Duration
	SetRetrySleep(c, func(ctx context.Context, d time.Duration) error {
		waits = append(waits, d)
		return ctx.Err()
	})
	return &waits
}

// A Retry-After the call cannot afford is not waited for: the answer, with
// the server's wish, comes back without a wait or a second attempt. The
// cases over MaxWait run without a deadline, so only the MaxWait cap keeps
// them from waiting; a broken cap fails at once, as no wait is slept.
func TestRetryAfterSurfacesAtOnce(t *testing.T) {
	cases := []struct {
		name       string
		policy     RetryPolicy
		deadline   bool // the call runs under a 3 s deadline
		status     int
		retryAfter string // "date": an HTTP date, want from the moment of the call
		want       time.Duration
		sentinel   error
	}{
		{"429 over MaxWait", RetryPolicy{MaxRetries: 2, MaxWait: 10 * time.Second}, false, 429, "999999", 999999 * time.Second, ErrRateLimited},
		{"429 over MaxWait, as a date", RetryPolicy{MaxRetries: 2, MaxWait: 10 * time.Second}, false, 429, "date", time.Hour, ErrRateLimited},
		{"429 within MaxWait, beyond the deadline", RetryPolicy{MaxRetries: 2, MaxWait: time.Hour}, true, 429, "5", 5 * time.Second, ErrRateLimited},
		{"503 beyond the deadline", RetryPolicy{MaxRetries: 2, MaxWait: time.Hour}, true, 503, "60", time.Minute, ErrServer},
		{"429 with retries off", RetryPolicy{}, false, 429, "1", time.Second, ErrRateLimited},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for _, op := range []retryOp{safeOps()[0], unsafeOps()[0]} {
				c, mt := newTestClient(t, WithRetryPolicy(tc.policy))
				waits := recordWaits(c)
				header := tc.retryAfter
				if header == "date" {
					header = time.Now().Add(tc.want).UTC().Format(http.TimeFormat)
				}
				serve(t, mt, op.method, op.path, statusReply(tc.status, "Retry-After", header), op.ok)
				ctx, cancel := context.WithCancel(context.Background())
				if tc.deadline {
					ctx, cancel = context.WithTimeout(ctx, 3*time.Second)
				}
				before := time.Now()
				err := op.call(ctx, c)
				after := time.Now()
				cancel()
				require.ErrorIs(t, err, tc.sentinel, op.name)
				var apiErr *APIError
				require.ErrorAs(t, err, &apiErr, "the answer, not the context's deadline: %v", err)
				assert.Equal(t, tc.status, apiErr.StatusCode)
				if at, perr := http.ParseTime(header); perr == nil {
					// A date is read against the wall clock at some
					// moment of the call, however long the call took.
					assert.GreaterOrEqual(t, apiErr.RetryAfter, at.Sub(after), op.name)
					assert.LessOrEqual(t, apiErr.RetryAfter, at.Sub(before), op.name)
				} else {
					assert.InDelta(t, tc.want, apiErr.RetryAfter, float64(2*time.Second), op.name)
				}
				assert.Equal(t, 1, apiErr.Attempts)
				assert.Equal(t, 1, calls(mt, op.method, op.path), "%s: not retried", op.name)
				assert.Empty(t, *waits, "%s: no wait asked for", op.name)
			}
		})
	}

	// A Retry-After the call can afford is honoured, as asked: 1 s, not a
	// jittered backoff.
	c, mt := newTestClient(t, WithRetryPolicy(RetryPolicy{MaxRetries: 1, MaxWait: time.Minute}))
	waits := recordWaits(c)
	serve(t, mt, "GET", "/customer/mytenant/me", statusReply(429, "Retry-After", "1"), jsonReply(200, `{"id":"1"}`))
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	_, err := c.Profile.Get(ctx, nil)
	require.NoError(t, err)
	assert.Equal(t, 2, calls(mt, "GET", "/customer/mytenant/me"))
	assert.Equal(t, []time.Duration{time.Second}, *waits, "the server's wait was honoured")
}

// Every wait between attempts goes through the client's sleep: the
// jittered backoff within its ceiling, Retry-After as given (0 included),
// capped by MaxWait.
func TestRetryWaitsAreTheOnesAskedFor(t *testing.T) {
	c, mt := newTestClient(t, WithRetryPolicy(RetryPolicy{MaxRetries: 4, MinWait: time.Second, MaxWait: 30 * time.Second}))
	waits := recordWaits(c)
	serve(t, mt, "GET", "/customer/mytenant/me", statusReply(503), statusReply(500),
		statusReply(429, "Retry-After", "0"), statusReply(503, "Retry-After", "20"), jsonReply(200, `{"id":"1"}`))
	_, err := c.Profile.Get(context.Background(), nil)
	require.NoError(t, err)
	got := *waits
	require.Len(t, got, 4)
	assert.LessOrEqual(t, got[0], time.Second, "first backoff within MinWait")
	assert.LessOrEqual(t, got[1], 2*time.Second, "second backoff within 2·MinWait")
	assert.Equal(t, []time.Duration{0, 20 * time.Second}, got[2:], "Retry-After as asked")
}

// slowRetryClient waits 5 s before every retry: long enough that only
// cancellation can end the call quickly.
func slowRetryClient(t *testing.T) (*Client, *httpmock.MockTransport) {
	return newTestClient(t, WithRetryPolicy(RetryPolicy{MaxRetries: 2, MinWait: 5 * time.Second, MaxWait: 5 * time.Second}))
}

// cancelSlack bounds how long after its context ends a cancelled call
// returns. It tells a wait the context cut short from one waited out (the
// waits here are 5 s); it is not a latency target: under the race detector
// on a loaded 2-core machine the return has come 155 ms after the deadline.
const cancelSlack = time.Second

func assertCancelled(t *testing.T, err error, target error, returnedAfter time.Duration) {
	t.Helper()
	require.ErrorIs(t, err, target)
	var reqErr *RequestError
	require.ErrorAs(t, err, &reqErr)
	assert.Equal(t, 1, reqErr.Attempts)
	var apiErr *APIError
	assert.False(t, errors.As(err, &apiErr), "a cancelled call is not reported as the 503")
	assert.Less(t, returnedAfter, cancelSlack, "returned %v after the context ended", returnedAfter)
}

// TestCancelDuringBackoff runs the production timer: a 5 s wait that the
// cancellation must cut short (a broken one retries after 5 s and fails).
// The cancellation comes once the wait has begun, not at a fixed time: the
// first attempt can outlast any fixed time (it is the first to load the
// spec when the test runs alone), and would be what the cancellation ends.
func TestCancelDuringBackoff(t *testing.T) {
	for _, op := range []retryOp{safeOps()[0], unsafeOps()[0]} {
		t.Run(op.name, func(t *testing.T) {
			c, mt := slowRetryClient(t)
			serve(t, mt, op.method, op.path, statusReply(503, "Retry-After", "5"), op.ok)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			var cancelledAt, asked atomic.Int64
			SetRetrySleep(c, func(ctx context.Context, d time.Duration) error {
				asked.Store(int64(d))
				time.AfterFunc(20*time.Millisecond, func() {
					cancelledAt.Store(time.Now().UnixNano())
					cancel()
				})
				return sleepCtx(ctx, d)
			})
			err := op.call(ctx, c)
			returnedAfter := time.Since(time.Unix(0, cancelledAt.Load()))
			require.Equal(t, 5*time.Second, time.Duration(asked.Load()), "the call waits to retry as Retry-After asks")
			assertCancelled(t, err, context.Canceled, returnedAfter)
			assert.Equal(t, 1, calls(mt, op.method, op.path), "no second attempt")
		})
	}
}

// TestDeadlineDuringBackoff: the deadline ends a backoff of up to an hour.
// The wait runs on the production timer, cut to 5 s so that a wait the
// deadline does not end fails the test instead of hanging it. The deadline
// leaves the first attempt a second: when the test runs alone that attempt
// is the first to load the spec, and a 50 ms deadline ended it instead of
// the wait.
func TestDeadlineDuringBackoff(t *testing.T) {
	c, mt := newTestClient(t, WithRetryPolicy(RetryPolicy{MaxRetries: 2, MinWait: time.Hour, MaxWait: time.Hour}))
	var asked atomic.Int64
	var waited atomic.Bool
	SetRetrySleep(c, func(ctx context.Context, d time.Duration) error {
		asked.Store(int64(d))
		waited.Store(true)
		return sleepCtx(ctx, min(d, 5*time.Second))
	})
	serve(t, mt, "GET", "/customer/mytenant/me/addresses", statusReply(503), jsonReply(200, `[]`))
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	deadline, _ := ctx.Deadline()
	_, err := c.Addresses.List(ctx)
	returnedAfter := time.Since(deadline)
	require.True(t, waited.Load(), "the deadline came before the wait to retry began")
	assertCancelled(t, err, context.DeadlineExceeded, returnedAfter)
	assert.Equal(t, 1, calls(mt, "GET", "/customer/mytenant/me/addresses"))
	assert.LessOrEqual(t, time.Duration(asked.Load()), time.Hour, "the backoff asked for stays within MaxWait")
}

func TestCancelDuringRequest(t *testing.T) {
	c, mt := slowRetryClient(t)
	var calls atomic.Int32
	mt.RegisterResponder("POST", testBase+"/customer/mytenant/me/addresses", func(req *http.Request) (*http.Response, error) {
		calls.Add(1)
		<-req.Context().Done()
		return nil, req.Context().Err()
	})
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	deadline, _ := ctx.Deadline()
	_, err := c.Addresses.Create(ctx, &AddressCreate{ContactName: "Jane"})
	assertCancelled(t, err, context.DeadlineExceeded, time.Since(deadline))
	assert.Equal(t, int32(1), calls.Load())
}

// failingRetrySource returns a token for the first attempt and an error for
// the retry.
type failingRetrySource struct {
	calls atomic.Int32
	err   error
}

func (s *failingRetrySource) Token(context.Context) (*Token, error) {
	if s.calls.Add(1) == 1 {
		return custToken(), nil
	}
	return nil, s.err
}

func TestTokenSourceFailsBeforeRetry(t *testing.T) {
	sourceErr := errors.New("token store unavailable")
	c, mt := newTestClient(t)
	c = c.WithTokenSource(&failingRetrySource{err: sourceErr})
	serve(t, mt, "GET", "/customer/mytenant/me", statusReply(503), jsonReply(200, `{"id":"1"}`))
	_, err := c.Profile.Get(context.Background(), nil)
	require.ErrorIs(t, err, sourceErr, "the token error is reported, not a drained 503")
	var apiErr *APIError
	assert.False(t, errors.As(err, &apiErr))
	assert.Equal(t, 1, calls(mt, "GET", "/customer/mytenant/me"))
}

func TestRetryAsksTokenSourceAgain(t *testing.T) {
	var n atomic.Int32
	src := TokenSourceFunc(func(context.Context) (*Token, error) {
		i := n.Add(1)
		return &Token{Kind: KindCustomer, AccessToken: Secret("ACCESS-" + strconv.Itoa(int(i))), TokenType: "Bearer"}, nil
	})
	c, mt := newTestClient(t)
	c = c.WithTokenSource(src)
	rec := serve(t, mt, "GET", "/customer/mytenant/me", statusReply(503), statusReply(502), jsonReply(200, `{"id":"1"}`))
	_, err := c.Profile.Get(context.Background(), nil)
	require.NoError(t, err)
	reqs := rec()
	require.Len(t, reqs, 3)
	for i, r := range reqs {
		assert.Equal(t, bearer("ACCESS-"+strconv.Itoa(i+1)), r.Header.Get("Authorization"))
	}
}

func TestTransportErrorHidesQuery(t *testing.T) {
	refresh := anonRefresh
	for _, terr := range []error{
		io.ErrUnexpectedEOF,
		&net.OpError{Op: "read", Net: "tcp", Err: syscall.ECONNRESET},
		dialError(),
	} {
		c, mt := newTestClient(t)
		rec := serve(t, mt, "GET", "/customerlogin/auth/anonymous/refresh", reply{err: terr})
		_, err := c.Auth.AnonymousRefresh(context.Background(), anonToken())
		var reqErr *RequestError
		require.ErrorAs(t, err, &reqErr)
		require.GreaterOrEqual(t, calls(mt, "GET", "/customerlogin/auth/anonymous/refresh"), 1)
		assert.Equal(t, refresh, rec()[0].URL.Query().Get("refresh_token"), "the token did go in the query")
		assert.NotContains(t, err.Error(), refresh)
		assert.NotContains(t, fmt.Sprintf("%+v", err), refresh)
		assert.NotContains(t, err.Error(), "refresh_token=")
		assert.NotContains(t, err.Error(), "?")
		assert.Equal(t, "/customerlogin/auth/anonymous/refresh", reqErr.Path)
		var urlErr interface{ URL() string }
		assert.False(t, errors.As(err, &urlErr))
	}

	// Logout puts the customer access token in the query.
	c, mt := newTestClient(t)
	serve(t, mt, "GET", "/customer/mytenant/logout", reply{err: io.ErrUnexpectedEOF})
	err := c.Auth.Logout(context.Background())
	require.Error(t, err)
	assert.NotContains(t, err.Error(), custAccess)

	// A transport that quotes the URL in its own error text.
	c, mt = newTestClient(t)
	mt.RegisterResponder("GET", testBase+"/customerlogin/auth/anonymous/refresh", func(req *http.Request) (*http.Response, error) {
		return nil, fmt.Errorf("proxy failed for %s: %w", req.URL, io.ErrUnexpectedEOF)
	})
	_, err = c.Auth.AnonymousRefresh(context.Background(), anonToken())
	require.Error(t, err)
	assert.NotContains(t, err.Error(), refresh)
	assert.Contains(t, err.Error(), "proxy failed")
	require.ErrorIs(t, err, io.ErrUnexpectedEOF, "scrubbing keeps the cause")
	assert.False(t, strings.Contains(fmt.Sprintf("%v|%+v|%s|%q", err, err, err, err), refresh))
}
