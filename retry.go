package emporix

import (
	"context"
	"errors"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"time"

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
// seconds or as an HTTP date) up to MaxWait, and end as soon as the
// request's context is done. The request body is identical on every
// attempt.
type RetryPolicy struct {
	// MaxRetries is how many times a request may be repeated after the
	// first attempt. Zero disables retries.
	MaxRetries int
	// MinWait is the backoff base: retry n waits a random time in
	// [0, MinWait·2ⁿ], capped at MaxWait.
	MinWait time.Duration
	// MaxWait caps every wait, including one asked for by Retry-After.
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

// retryClass says how safe an operation is to repeat.
type retryClass uint8

const (
	// retryUnsafe operations may change state: repeat only when the server
	// surely did not act.
	retryUnsafe retryClass = iota
	// retrySafe operations only read.
	retrySafe
)

// checkRetry is the retryablehttp CheckRetry. The operation travels in the
// request context because CheckRetry does not see the request.
func checkRetry(ctx context.Context, resp *http.Response, err error) (bool, error) {
	if ctxErr := ctx.Err(); ctxErr != nil {
		return false, ctxErr
	}
	c, _ := ctx.Value(callKey{}).(*call)
	if c == nil {
		return false, nil
	}
	if err != nil {
		if errors.Is(err, errBodyTooLarge) {
			return false, nil
		}
		if c.op.retry == retrySafe {
			retry, _ := retryablehttp.ErrorPropagatedRetryPolicy(ctx, nil, err)
			return retry, nil
		}
		return connectionNeverMade(err), nil
	}
	if c.op.retry == retrySafe {
		switch resp.StatusCode {
		case http.StatusRequestTimeout, http.StatusTooManyRequests, http.StatusInternalServerError,
			http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
			return true, nil
		}
		return false, nil
	}
	switch resp.StatusCode {
	case http.StatusTooManyRequests, http.StatusServiceUnavailable:
		_, ok := retryAfter(resp.Header, time.Now())
		return ok, nil
	}
	return false, nil
}

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

// backoff is the retryablehttp Backoff: full jitter, Retry-After honoured,
// every wait capped at max. A Retry-After date is read against the wall
// clock, never the clock WithClock injects for token expiries: the wait is
// real time.
func backoff(minWait, maxWait time.Duration, attempt int, resp *http.Response) time.Duration {
	if resp != nil {
		if d, ok := retryAfter(resp.Header, time.Now()); ok {
			return min(d, maxWait)
		}
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

// keepLastResponse is the retryablehttp ErrorHandler: once retries are spent
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
