package emporix

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/emporix-go/emporix/internal/optable"
	"github.com/hashicorp/go-retryablehttp"
)

// RetryPolicy controls automatic retries. The SDK decides per operation, not
// per HTTP method, whether a retry is safe, because some Emporix GETs change
// state (anonymous login and refresh, customer refresh, logout, opt-in):
//
//   - Reads (profile and address reads, token validation) are retried after
//     transport errors and 408, 429, 500, 502, 503 and 504 responses.
//   - Every other operation is retried only when the server surely did not
//     act on it: a 429 or 503 that carries Retry-After, or a connection that
//     was never made (dial or DNS failure).
//
// Waits use exponential backoff with full jitter, honour Retry-After (in
// seconds or as an HTTP date) and end as soon as the request's context is
// done. A server's wait the call cannot afford is not started: when
// Retry-After asks for more than MaxWait, or for as long as the context has
// left or longer, the call returns the answer at once, an [*APIError] with
// RetryAfter set (matching [ErrRateLimited] for a 429). The request body is
// identical on every attempt.
type RetryPolicy struct {
	// MaxRetries is how many times a request may be repeated after the
	// first attempt. Zero disables retries.
	MaxRetries int
	// MinWait is the backoff base: retry n waits a random time in
	// [0, MinWait·2ⁿ], capped at MaxWait.
	MinWait time.Duration
	// MaxWait caps every backoff wait. A Retry-After longer than MaxWait
	// ends the retries instead.
	MaxWait time.Duration
}

// DefaultRetryPolicy is the policy of a client built without WithRetryPolicy:
// two retries, 250 ms base, waits capped at 10 s.
var DefaultRetryPolicy = RetryPolicy{MaxRetries: 2, MinWait: 250 * time.Millisecond, MaxWait: 10 * time.Second}

func (p RetryPolicy) validate() error {
	switch {
	case p.MaxRetries < 0:
		return invalid("RetryPolicy.MaxRetries", "must not be negative")
	case p.MinWait < 0:
		return invalid("RetryPolicy.MinWait", "must not be negative")
	case p.MaxWait < p.MinWait:
		return invalid("RetryPolicy.MaxWait", "must not be less than MinWait")
	}
	return nil
}

// retryClass says how safe an operation is to repeat: the retry class of
// its row in the operation table.
type retryClass = optable.Retry

// retrySafe operations only read; the others (optable.Unsafe) may change
// state, and are repeated only when the server surely did not act.
const retrySafe = optable.Safe

// newRetryEngine returns the go-retryablehttp client that sends every
// attempt of c's calls, driven by the hooks below. hc is copied, and its
// transport wrapped so that the engine cannot empty the connection pool.
func (c *Client) newRetryEngine(hc *http.Client) *retryablehttp.Client {
	shared := *hc
	rt := shared.Transport
	if rt == nil {
		rt = http.DefaultTransport
	}
	// The guard bounds each attempt instead of the client: http.Client
	// enforces its Timeout on a transport it does not know with a
	// goroutine and a timer per request.
	shared.Transport = &poolGuard{rt: rt, timeout: shared.Timeout}
	shared.Timeout = 0
	return &retryablehttp.Client{
		HTTPClient: &shared,
		Logger:     nil, // the SDK logs through slog, redacted
		RetryMax:   c.retry.MaxRetries,
		// The waits are the SDK's own (see checkRetry and prepareRetry):
		// the engine's Backoff cannot decide against a wait.
		Backoff:        noBackoff,
		CheckRetry:     c.checkRetry,
		ErrorHandler:   keepLastResponse,
		RequestLogHook: c.attemptStarts,
		PrepareRetry:   c.prepareRetry,
	}
}

// poolGuard passes requests on to the transport and hides its
// CloseIdleConnections: go-retryablehttp calls that whenever one request
// gives up or its context ends, which would close the idle connections
// every derived client and Session shares, and make the next burst of
// requests dial (and handshake) anew. It also bounds each attempt, the
// response body included, by timeout when that is positive.
type poolGuard struct {
	rt      http.RoundTripper
	timeout time.Duration
}

// RoundTrip sends r through the guarded transport.
func (g *poolGuard) RoundTrip(r *http.Request) (*http.Response, error) {
	if g.timeout <= 0 {
		return g.rt.RoundTrip(r)
	}
	ctx, cancel := context.WithTimeout(r.Context(), g.timeout)
	resp, err := g.rt.RoundTrip(r.WithContext(ctx))
	if err != nil {
		err = g.timedOut(ctx, r.Context(), err)
		cancel()
		return nil, err
	}
	resp.Body = &cancelOnClose{ReadCloser: resp.Body, cancel: cancel, guard: g, ctx: ctx, parent: r.Context()}
	return resp, nil
}

// timedOut names the failure of an attempt that ran out of its own time,
// rather than the caller's: a bare "context deadline exceeded" would read
// as the caller's deadline.
func (g *poolGuard) timedOut(ctx, parent context.Context, err error) error {
	if ctx.Err() == context.DeadlineExceeded && parent.Err() == nil {
		return &attemptTimeoutError{timeout: g.timeout}
	}
	return err
}

// attemptTimeoutError reports an attempt that took longer than the
// client's per-attempt timeout. Like http.Client's own timeout error it is
// a net.Error whose Timeout is true and matches context.DeadlineExceeded.
type attemptTimeoutError struct{ timeout time.Duration }

func (e *attemptTimeoutError) Error() string {
	return "attempt timed out after " + e.timeout.String() + " (WithTimeout)"
}

// Timeout reports true.
func (e *attemptTimeoutError) Timeout() bool { return true }

// Temporary reports true, as net.Error asks.
func (e *attemptTimeoutError) Temporary() bool { return true }

// Is matches context.DeadlineExceeded.
func (e *attemptTimeoutError) Is(target error) bool { return target == context.DeadlineExceeded }

// cancelOnClose ends an attempt's deadline when its body is closed.
type cancelOnClose struct {
	io.ReadCloser
	cancel      context.CancelFunc
	guard       *poolGuard
	ctx, parent context.Context
}

// Read reads the body, naming a read cut short by the attempt's timeout.
func (b *cancelOnClose) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err != nil && err != io.EOF {
		err = b.guard.timedOut(b.ctx, b.parent, err)
	}
	return n, err
}

// Close closes the body and releases the attempt's deadline.
func (b *cancelOnClose) Close() error {
	err := b.ReadCloser.Close()
	b.cancel()
	return err
}

// attemptStarts is the engine's RequestLogHook, called as each attempt
// starts: it counts attempts.
func (c *Client) attemptStarts(_ retryablehttp.Logger, r *http.Request, retry int) {
	k, _ := r.Context().Value(callKey{}).(*call)
	if k == nil {
		return
	}
	k.attempts++
	if retry > 0 {
		c.observeRetry(r.Context(), k)
		c.logger.LogAttrs(r.Context(), slog.LevelDebug, "emporix: retrying",
			slog.String("operation", k.op.ID), slog.Int("attempt", k.attempts))
	}
}

// checkRetry is the engine's CheckRetry, called as each attempt ends: it
// decides whether to try again and how long to wait first. The call travels
// in the request context because CheckRetry does not see the request.
//
// A server's wait the call cannot afford ends the retries at once, so that
// the caller gets the answer (429 and RetryAfter) instead of its context's
// deadline: a Retry-After over the policy's MaxWait, or one at least as long
// as the time left before the context's deadline. A backoff wait of the
// SDK's own choosing is random and short; the context ends it.
func (c *Client) checkRetry(ctx context.Context, resp *http.Response, err error) (bool, error) {
	if ctxErr := ctx.Err(); ctxErr != nil {
		return false, ctxErr
	}
	k, _ := ctx.Value(callKey{}).(*call)
	if k == nil {
		return false, nil
	}
	retry, asked, hasAsked := retryable(k.op.Retry, ctx, resp, err)
	if !retry {
		return false, nil
	}
	if hasAsked {
		if asked > c.retry.MaxWait {
			return false, nil
		}
		if deadline, ok := ctx.Deadline(); ok && asked >= time.Until(deadline) {
			return false, nil
		}
	}
	k.wait = backoff(c.retry.MinWait, c.retry.MaxWait, max(k.attempts-1, 0), asked, hasAsked)
	return true, nil
}

// retryable reports whether an attempt of an operation of class may be
// repeated after resp or err and, when resp may be repeated and carries a
// valid Retry-After (hasAsked), the wait it asks for. Retry-After is read
// once, and only from a response that may be repeated: it decides whether
// an unsafe operation may be, and how long to wait.
func retryable(class retryClass, ctx context.Context, resp *http.Response, err error) (retry bool, asked time.Duration, hasAsked bool) {
	if err != nil {
		if errors.Is(err, errBodyTooLarge) {
			return false, 0, false
		}
		if class == retrySafe {
			retry, _ := retryablehttp.ErrorPropagatedRetryPolicy(ctx, nil, err)
			return retry, 0, false
		}
		return connectionNeverMade(err), 0, false
	}
	if class == retrySafe {
		switch resp.StatusCode {
		case http.StatusRequestTimeout, http.StatusTooManyRequests, http.StatusInternalServerError,
			http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
			asked, hasAsked = retryAfter(resp.Header, time.Now())
			return true, asked, hasAsked
		}
		return false, 0, false
	}
	switch resp.StatusCode {
	case http.StatusTooManyRequests, http.StatusServiceUnavailable:
		asked, hasAsked = retryAfter(resp.Header, time.Now())
		return hasAsked, asked, hasAsked
	}
	return false, 0, false
}

// prepareRetry is the engine's PrepareRetry, called before each retry: it
// waits the time checkRetry chose (through c.sleep, which tests replace to
// see the waits asked for), ending early with the context, then has the
// authorize stage renew the token.
func (c *Client) prepareRetry(r *http.Request) error {
	k, _ := r.Context().Value(callKey{}).(*call)
	if k == nil {
		return nil
	}
	sleep := c.sleep
	if sleep == nil {
		sleep = sleepCtx
	}
	if err := sleep(r.Context(), k.wait); err != nil {
		return err
	}
	return c.reauthorize(r, k)
}

// sleepFunc waits d between two attempts of a call. It returns nil after
// the whole wait, or ctx's error as soon as ctx ends.
type sleepFunc func(ctx context.Context, d time.Duration) error

// sleepCtx waits d of real time, ending early with ctx's error when ctx is
// done first.
func sleepCtx(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// noBackoff is the engine's Backoff: prepareRetry does the waiting.
func noBackoff(time.Duration, time.Duration, int, *http.Response) time.Duration { return 0 }

// connectionNeverMade reports a transport error raised before a connection
// to the server existed, so nothing can have reached it.
func connectionNeverMade(err error) bool {
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		return true
	}
	var opErr *net.OpError
	if errors.As(err, &opErr) {
		return opErr.Op == "dial" || opErr.Op == "proxyconnect"
	}
	return false
}

// backoff is the wait before retry number attempt (from 0): full jitter,
// or asked when the response carried a Retry-After (hasAsked), every wait
// capped at max. The caller reads Retry-After with retryAfter against the
// wall clock, never the clock WithClock injects for token expiries: the
// wait is real time.
func backoff(minWait, maxWait time.Duration, attempt int, asked time.Duration, hasAsked bool) time.Duration {
	if hasAsked {
		return min(asked, maxWait)
	}
	if minWait <= 0 {
		return 0
	}
	ceiling := maxWait
	if attempt < 32 {
		if d := minWait << attempt; d > 0 && d < maxWait {
			ceiling = d
		}
	}
	return rand.N(ceiling + 1)
}

// retryAfter parses a Retry-After header given in seconds or as an HTTP date.
func retryAfter(h http.Header, now time.Time) (time.Duration, bool) {
	v := h.Get("Retry-After")
	if v == "" {
		return 0, false
	}
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		if secs < 0 {
			return 0, false
		}
		if secs > int64(maxFlexSeconds) {
			secs = int64(maxFlexSeconds)
		}
		return time.Duration(secs) * time.Second, true
	}
	if at, err := http.ParseTime(v); err == nil {
		return max(at.Sub(now), 0), true
	}
	return 0, false
}

// keepLastResponse is the engine's ErrorHandler: once retries are spent
// it hands back the last response, so the caller decodes the real status and
// body, instead of the library's generic "giving up" error. With an error
// (a cancelled context, or a token source that failed before a retry) the
// response is not usable: retryablehttp has already drained it before the
// wait, so the error is returned instead.
func keepLastResponse(resp *http.Response, err error, _ int) (*http.Response, error) {
	if resp != nil && err == nil {
		return resp, nil
	}
	if resp != nil {
		_ = resp.Body.Close()
	}
	return nil, err
}
