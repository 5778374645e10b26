package emporix

import (
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Option configures a [Client]. Options validate their input, so NewClient
// reports a bad option as a [*ValidationError].
type Option func(*config) error

type config struct {
	baseURL    string
	httpClient *http.Client
	timeout    time.Duration
	userAgent  string
	retry      RetryPolicy
	logger     *slog.Logger
	tokens     TokenSource
	now        func() time.Time
	maxBody    int64
	observer   Observer
}

// WithBaseURL sets the API base URL, by default [DefaultBaseURL]. A path
// prefix is kept, which lets tests and proxies mount the API below a path.
func WithBaseURL(rawURL string) Option {
	return func(c *config) error {
		u, err := url.Parse(rawURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return invalid("base URL", "must be an absolute http or https URL")
		}
		if u.RawQuery != "" || u.Fragment != "" || u.User != nil {
			return invalid("base URL", "must not carry a query, fragment or user info")
		}
		c.baseURL = strings.TrimRight(u.String(), "/")
		return nil
	}
}

// WithHTTPClient makes the client send requests through a copy of hc, for
// proxies, mTLS or instrumentation. hc itself is never modified. Its Timeout
// bounds each attempt; WithTimeout overrides it on the copy.
func WithHTTPClient(hc *http.Client) Option {
	return func(c *config) error {
		if hc == nil {
			return invalid("http client", "must not be nil")
		}
		cp := *hc
		c.httpClient = &cp
		return nil
	}
}

// WithTimeout bounds each HTTP attempt, by default [DefaultTimeout]. Use the
// request context to bound a whole call, retries included.
func WithTimeout(d time.Duration) Option {
	return func(c *config) error {
		if d <= 0 {
			return invalid("timeout", "must be positive")
		}
		c.timeout = d
		return nil
	}
}

// WithUserAgent puts product (such as "my-shop/1.2") in front of the SDK's
// own User-Agent.
func WithUserAgent(product string) Option {
	return func(c *config) error {
		if strings.ContainsAny(product, "\r\n") {
			return invalid("user agent", "must not contain line breaks")
		}
		c.userAgent = strings.TrimSpace(product)
		return nil
	}
}

// WithRetryPolicy replaces [DefaultRetryPolicy].
func WithRetryPolicy(p RetryPolicy) Option {
	return func(c *config) error {
		if err := p.validate(); err != nil {
			return err
		}
		c.retry = p
		return nil
	}
}

// DefaultMaxResponseBytes caps a success body of a client built without
// WithMaxResponseBytes. The service's largest answers (a profile with its
// addresses) are a few KiB.
const DefaultMaxResponseBytes = 8 << 20

// WithMaxResponseBytes caps the size of a success body, by default
// [DefaultMaxResponseBytes]. A larger body is refused with an error matching
// [ErrInvalidResponse]: before reading when its Content-Length says so,
// otherwise after reading n+1 bytes. n must be positive.
func WithMaxResponseBytes(n int64) Option {
	return func(c *config) error {
		if n <= 0 {
			return invalid("max response bytes", "must be positive")
		}
		c.maxBody = n
		return nil
	}
}

// WithNoRetries sends every request exactly once.
func WithNoRetries() Option {
	return func(c *config) error {
		c.retry = RetryPolicy{}
		return nil
	}
}

// WithLogger sends the SDK's log records to l. Without it the SDK is silent.
// Requests are logged at Debug level, retries given up and token refresh
// failures at Warn; secrets never appear in records.
func WithLogger(l *slog.Logger) Option {
	return func(c *config) error {
		if l == nil {
			return invalid("logger", "must not be nil")
		}
		c.logger = l
		return nil
	}
}

// WithDefaultTokenSource sets the source of the tokens that authorize the
// client's requests, such as [SingleToken] of a service token for a backend
// job. A storefront serving many shoppers leaves it unset and derives a
// client per shopper with [Client.WithTokenSource] (or uses a [Session]).
func WithDefaultTokenSource(ts TokenSource) Option {
	return func(c *config) error {
		c.tokens = ts
		return nil
	}
}

// WithTokenSource is the former name of [WithDefaultTokenSource]; it is
// the same option.
//
// Deprecated: Use [WithDefaultTokenSource]. The option shared its name with
// the method [Client.WithTokenSource], which derives a client instead.
func WithTokenSource(ts TokenSource) Option { return WithDefaultTokenSource(ts) }

// WithClock replaces time.Now for computing token expiries, for tests that
// need to control time. A [MemoryStore] created without [WithStoreClock]
// reads the same clock once a [SessionManager] on this client uses it, so
// one clock governs tokens and stored sessions; emporixtest's
// Server.ClientOptions passes the fake's clock here.
func WithClock(now func() time.Time) Option {
	return func(c *config) error {
		if now == nil {
			return invalid("clock", "must not be nil")
		}
		c.now = now
		return nil
	}
}
