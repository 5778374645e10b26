package emporix

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Sentinel errors for use with [errors.Is]. An [*APIError] matches the
// sentinel of its HTTP status class; callers use errors.As to reach the
// details.
var (
	// ErrBadRequest matches a 400 response.
	ErrBadRequest = errors.New("emporix: bad request")
	// ErrUnauthorized matches any 401 response, including expired tokens.
	ErrUnauthorized = errors.New("emporix: unauthorized")
	// ErrTokenExpired matches a 401 whose gateway error code says the
	// access token has expired (keymanagement.service.access_token_expired).
	ErrTokenExpired = errors.New("emporix: access token expired")
	// ErrForbidden matches a 403 response (missing scopes).
	ErrForbidden = errors.New("emporix: forbidden")
	// ErrNotFound matches a 404 response.
	ErrNotFound = errors.New("emporix: not found")
	// ErrConflict matches a 409 response: a duplicate sign-up or a
	// metadata.version mismatch.
	ErrConflict = errors.New("emporix: conflict")
	// ErrRateLimited matches a 429 response.
	ErrRateLimited = errors.New("emporix: rate limited")
	// ErrServer matches any 5xx response.
	ErrServer = errors.New("emporix: server error")

	// ErrInvalidInput matches every [*ValidationError]: the SDK refused the
	// call before sending anything.
	ErrInvalidInput = errors.New("emporix: invalid input")
	// ErrInvalidResponse matches a success response whose body the SDK
	// could not use, such as a token response without an access token or
	// a body over the size cap (see [WithMaxResponseBytes]).
	ErrInvalidResponse = errors.New("emporix: invalid response")
	// ErrNoToken is returned before any request when an operation needs a
	// token and the client has no [TokenSource] or the source has none.
	ErrNoToken = errors.New("emporix: no token")
	// ErrCustomerTokenRequired is returned before any request when an
	// operation needs a logged-in customer but only an anonymous token is
	// available.
	ErrCustomerTokenRequired = errors.New("emporix: customer token required")
	// ErrAnonymousTokenRequired is returned before any request when an
	// operation must be authorized with the shopper's anonymous token and
	// none is available.
	ErrAnonymousTokenRequired = errors.New("emporix: anonymous token required")
	// ErrSessionExpired means a token cannot be renewed: the customer's
	// refresh token expired or was rejected, or a freshly renewed token was
	// rejected too. The shopper must log in again; with a [Session], the
	// anonymous session, and with it the guest cart, is kept.
	ErrSessionExpired = errors.New("emporix: session expired")
)

// Gateway error codes carried in the 401 body's fault.detail.errorcode.
const (
	// ErrorCodeInvalidAccessToken is the gateway code for an unknown or
	// revoked access token.
	ErrorCodeInvalidAccessToken = "oauth.v2.InvalidAccessToken"
	// ErrorCodeAccessTokenExpired is the gateway code for an expired access
	// token.
	ErrorCodeAccessTokenExpired = "keymanagement.service.access_token_expired"
)

// APIError is returned when Emporix answers with a non-success status. It
// decodes both error shapes the service uses, the ErrorMessage body of
// 400/403/404/409 and the gateway's {"fault":{...}} body of 401, and the
// common shapes of proxies and OAuth endpoints in front of it (error and
// error_description, errors[].message, problem details, message given as
// an object or array). A body in which no message was found is kept in Body
// as a short snippet, so that no error loses its explanation.
//
// APIError never holds the request's credentials: its Path has secret query
// values and path segments redacted, any secret the request carried is
// masked in the server-provided text, and so are the values of
// credential-like members (access_token, password, ...) of a kept JSON body
// and of credential-like name=value pairs in any of its texts (a
// form-encoded token answer, a URL quoted by a proxy's page, a JSON member
// quoted in a message).
type APIError struct {
	// StatusCode is the HTTP status of the last attempt.
	StatusCode int
	// Method and Path identify the request; Path is redacted.
	Method string
	Path   string
	// Operation is the spec's operationId.
	Operation string
	// Type is the ErrorMessage type, such as "conflict_resource". The
	// service does not use it consistently; treat it as a hint.
	Type string
	// Message is the server's message, or the gateway's faultstring, with
	// e-mail addresses masked ("j***@example.com"), so that the error text
	// can be logged; ServerMessage has the server's own words.
	Message string
	// ServerMessage is the server's message unmasked. It may hold personal
	// data the service echoes, such as the shopper's e-mail address: show
	// it to that shopper, don't log it. Error never prints it.
	ServerMessage string
	// MoreInfo is the ErrorMessage moreInfo link, if any.
	MoreInfo string
	// Details holds the ErrorMessage details entries as raw JSON, e-mail
	// addresses masked. The spec says objects ({field, type, message,
	// moreInfo}); some tenants send strings, so they are kept loosely.
	// Fields has them decoded. At most the first 100 entries are kept:
	// each is masked on its own, and a body of hundreds of thousands
	// would cost seconds and gigabytes per error.
	Details []json.RawMessage
	// Fields are the field-level problems of Details, decoded: what a
	// storefront shows next to its form fields. See [FieldErrors].
	Fields []FieldError
	// ErrorCode is the gateway error code of a 401 (see ErrorCodeAccessTokenExpired),
	// or an errorCode field when the body carries one.
	ErrorCode string
	// RequestID is the request identifier header of the response, if any,
	// the request's secrets masked.
	RequestID string
	// Attempts is how many times the request was sent.
	Attempts int
	// RetryAfter is the wait the server asked for with Retry-After, if any.
	RetryAfter time.Duration
	// Body is a capped snippet (at most 512 bytes) of a body in which no
	// message was found, such as an HTML error page from a proxy or JSON in
	// a shape the SDK does not know; it is empty when Message is set.
	Body string
}

// Error returns a short, fixed-format description without credentials.
func (e *APIError) Error() string {
	var b strings.Builder
	b.WriteString("emporix: ")
	b.WriteString(e.Method)
	b.WriteByte(' ')
	b.WriteString(e.Path)
	b.WriteString(": ")
	b.WriteString(strconv.Itoa(e.StatusCode))
	switch {
	case e.Type != "":
		b.WriteByte(' ')
		b.WriteString(e.Type)
	case e.ErrorCode != "":
		b.WriteByte(' ')
		b.WriteString(e.ErrorCode)
	case http.StatusText(e.StatusCode) != "":
		b.WriteByte(' ')
		b.WriteString(http.StatusText(e.StatusCode))
	}
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	if e.Attempts > 1 {
		fmt.Fprintf(&b, " (after %d attempts)", e.Attempts)
	}
	return b.String()
}

// Is reports whether target is the sentinel of this error's status class.
func (e *APIError) Is(target error) bool {
	switch target {
	case ErrBadRequest:
		return e.StatusCode == http.StatusBadRequest
	case ErrUnauthorized:
		return e.StatusCode == http.StatusUnauthorized
	case ErrTokenExpired:
		return e.StatusCode == http.StatusUnauthorized && e.ErrorCode == ErrorCodeAccessTokenExpired
	case ErrForbidden:
		return e.StatusCode == http.StatusForbidden
	case ErrNotFound:
		return e.StatusCode == http.StatusNotFound
	case ErrConflict:
		return e.StatusCode == http.StatusConflict
	case ErrRateLimited:
		return e.StatusCode == http.StatusTooManyRequests
	case ErrServer:
		return e.StatusCode >= 500 && e.StatusCode <= 599
	}
	return false
}

// TokenRejected reports whether the error is a 401 that says the access
// token is expired or invalid, the case in which a fresh token may help.
func (e *APIError) TokenRejected() bool {
	if e.StatusCode != http.StatusUnauthorized {
		return false
	}
	switch e.ErrorCode {
	case ErrorCodeAccessTokenExpired, ErrorCodeInvalidAccessToken:
		return true
	}
	return false
}

// ValidationError reports input the SDK refused before sending a request.
// It matches [ErrInvalidInput].
type ValidationError struct {
	// Field is the Go name of the offending input, such as "LoginRequest.Password".
	Field string
	// JSONField is the offending field's JSON path in the request body,
	// such as "customerAddress.country", when it is a body field; a
	// storefront that decodes its forms into the SDK's request types can
	// show the error next to the form field. See [FieldErrors].
	JSONField string
	// Reason says what is wrong with it, never the value itself.
	Reason string
}

// Error describes the refused field.
func (e *ValidationError) Error() string {
	return "emporix: invalid " + e.Field + ": " + e.Reason
}

// Is matches [ErrInvalidInput].
func (e *ValidationError) Is(target error) bool { return target == ErrInvalidInput }

func invalid(field, reason string) error { return &ValidationError{Field: field, Reason: reason} }

// RequestError reports a request that got no HTTP response: a refused
// connection, a timeout, a cancelled context. It wraps the cause, so
// errors.Is(err, context.DeadlineExceeded) works; the URL inside is redacted.
type RequestError struct {
	// Method and Path identify the request; Path is redacted.
	Method string
	Path   string
	// Operation is the spec's operationId.
	Operation string
	// Attempts is how many times the request was sent or tried.
	Attempts int
	// Err is the cause.
	Err error
}

// Error describes the failed request without credentials.
func (e *RequestError) Error() string {
	s := "emporix: " + e.Method + " " + e.Path + ": " + e.Err.Error()
	if e.Attempts > 1 {
		s += fmt.Sprintf(" (after %d attempts)", e.Attempts)
	}
	return s
}

// Unwrap returns the cause.
func (e *RequestError) Unwrap() error { return e.Err }

// ResponseError reports a success status whose body could not be used. It
// matches [ErrInvalidResponse]. The body is never included: it may hold
// tokens.
type ResponseError struct {
	// Method and Path identify the request; Path is redacted.
	Method string
	Path   string
	// StatusCode is the HTTP status received.
	StatusCode int
	// Reason says what was wrong.
	Reason string
	// Err is the decoding error, if any.
	Err error
}

// Error describes the unusable response.
func (e *ResponseError) Error() string {
	s := "emporix: " + e.Method + " " + e.Path + ": " + strconv.Itoa(e.StatusCode) + " response unusable: " + e.Reason
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap returns the decoding error.
func (e *ResponseError) Unwrap() error { return e.Err }

// Is matches [ErrInvalidResponse].
func (e *ResponseError) Is(target error) bool { return target == ErrInvalidResponse }

// requestFailed turns a transport failure into a *RequestError whose text
// carries no URL: *url.Error would print the query string with its tokens.
func (c *Client) requestFailed(ctx context.Context, k *call, err error) error {
	var urlErr *url.Error
	if errors.As(err, &urlErr) {
		err = urlErr.Err
	}
	if ctxErr := ctx.Err(); ctxErr != nil && !errors.Is(err, ctxErr) {
		err = ctxErr
	}
	// A proxy's error may quote the request: its secrets, and personal
	// data such as the e-mail address in the body.
	text := err.Error()
	if masked := maskValues(maskPersonal(k.secrets.apply(text)), personalValues(k.request)); masked != text {
		err = &scrubbedError{text: masked, err: err}
	}
	attempts := max(k.attempts, 1)
	c.logger.LogAttrs(ctx, slog.LevelDebug, "emporix: request failed",
		slog.String("operation", k.op.ID), slog.String("method", k.op.Method),
		slog.String("path", k.shownPath), slog.Int("attempts", attempts), slog.String("error", err.Error()))
	return &RequestError{Method: k.op.Method, Path: k.shownPath, Operation: k.op.ID, Attempts: attempts, Err: err}
}

// scrubbedError replaces the text of a transport error that quoted a
// secret of the request. It answers errors.Is and net.Error's Timeout for
// the cause but does not unwrap to it: every error in the cause's chain may
// print the secret.
type scrubbedError struct {
	text string
	err  error
}

func (e *scrubbedError) Error() string { return e.text }

// Is reports whether the cause matches target.
func (e *scrubbedError) Is(target error) bool { return errors.Is(e.err, target) }

// Timeout reports whether the cause is a timeout.
func (e *scrubbedError) Timeout() bool {
	var t interface{ Timeout() bool }
	return errors.As(e.err, &t) && t.Timeout()
}

// Temporary reports whether the cause is temporary, as net.Error requires.
func (e *scrubbedError) Temporary() bool {
	var t interface{ Temporary() bool }
	return errors.As(e.err, &t) && t.Temporary()
}

// checkResponse is the decode stage of a non-success response: it reads
// the status, the headers and the body into an *APIError.
func (c *Client) checkResponse(k *call, resp *http.Response) *APIError {
	e := &APIError{
		StatusCode: resp.StatusCode,
		Method:     k.op.Method,
		Path:       k.shownPath,
		Operation:  k.op.ID,
		RequestID:  requestID(resp.Header, k.secrets),
		Attempts:   max(k.attempts, 1),
	}
	if d, ok := retryAfter(resp.Header, time.Now()); ok { // wall clock, as backoff
		e.RetryAfter = d
	}
	// An error body over the cap is cut rather than dropped: its start
	// still explains the error.
	body, _ := readCapped(resp.Body, resp.ContentLength, min(maxErrorBody, k.maxBody), true)
	e.fill(body, k.secrets, personalValues(k.request))
	return e
}

// requestID returns the request identifier header of a response, the
// request's secrets masked: it is text from the server like any other,
// and a gateway may derive it from what the request carried.
func requestID(h http.Header, secrets scrubber) string {
	for _, name := range [...]string{"X-Request-Id", "X-Correlation-Id", "Request-Id"} {
		if v := h.Get(name); v != "" {
			return secrets.apply(v)
		}
	}
	return ""
}
