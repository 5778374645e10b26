package emporix

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
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
	// could not use, such as a token response without an access token.
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

// maxErrorBody caps how much of an error response is read.
const maxErrorBody = 1 << 20

// maxSnippet caps how much of a non-JSON error body is kept on an APIError.
const maxSnippet = 512

// APIError is returned when Emporix answers with a non-success status. It
// decodes both error shapes the service uses: the ErrorMessage body of
// 400/403/404/409 and the gateway's {"fault":{...}} body of 401. Bodies that
// are not JSON (an HTML page from a proxy) are kept as a short snippet.
//
// APIError never holds the request's credentials: its Path has secret query
// values and path segments redacted, and any secret the request carried is
// masked in the server-provided text.
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
	// Message is the server's message, or the gateway's faultstring.
	Message string
	// MoreInfo is the ErrorMessage moreInfo link, if any.
	MoreInfo string
	// Details holds the ErrorMessage details entries as raw JSON. The spec
	// says objects ({field, type, message, moreInfo}); some tenants send
	// strings, so they are kept loosely.
	Details []json.RawMessage
	// ErrorCode is the gateway error code of a 401 (see ErrorCodeAccessTokenExpired),
	// or an errorCode field when the body carries one.
	ErrorCode string
	// RequestID is the request identifier header of the response, if any.
	RequestID string
	// Attempts is how many times the request was sent.
	Attempts int
	// RetryAfter is the wait the server asked for with Retry-After, if any.
	RetryAfter time.Duration
	// Body is a capped snippet of a body that was not JSON, such as an HTML
	// error page from a proxy.
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

// errorBody is the union of the two JSON error shapes. Every field is
// decoded on its own, so one field of an unexpected type does not lose the
// others.
type errorBody struct {
	Type      json.RawMessage `json:"type"`
	Message   json.RawMessage `json:"message"`
	MoreInfo  json.RawMessage `json:"moreInfo"`
	Details   json.RawMessage `json:"details"`
	ErrorCode json.RawMessage `json:"errorCode"`
	Fault     json.RawMessage `json:"fault"`
}

// faultBody is the gateway's {"fault":{...}} of a 401.
type faultBody struct {
	FaultString json.RawMessage `json:"faultstring"`
	Detail      json.RawMessage `json:"detail"`
}

type faultDetail struct {
	ErrorCode json.RawMessage `json:"errorcode"`
}

// jsonText returns raw as a string when it is a JSON string, else "".
func jsonText(raw json.RawMessage) string {
	var s string
	if len(raw) == 0 || json.Unmarshal(raw, &s) != nil {
		return ""
	}
	return s
}

// fill decodes body into e. A body that is not JSON (an HTML page from a
// proxy) is kept as a snippet. A body that looks like a JSON object or array
// is never kept as a snippet, whether or not it decodes: only the known
// error fields are taken from it, because another shape may be a token
// response.
func (e *APIError) fill(body []byte) {
	trimmed := strings.TrimSpace(string(body))
	if trimmed == "" {
		return
	}
	if trimmed[0] != '{' && trimmed[0] != '[' {
		e.Body = snippet(trimmed)
		return
	}
	var eb errorBody
	if trimmed[0] != '{' || json.Unmarshal(body, &eb) != nil {
		return
	}
	e.Type = jsonText(eb.Type)
	e.Message = jsonText(eb.Message)
	e.MoreInfo = jsonText(eb.MoreInfo)
	e.ErrorCode = jsonText(eb.ErrorCode)
	if d := bytes.TrimSpace(eb.Details); len(d) > 0 {
		var details []json.RawMessage
		switch {
		case d[0] == '[' && json.Unmarshal(d, &details) == nil:
			e.Details = details
		case d[0] == '{' || d[0] == '"':
			// One entry sent without the array.
			e.Details = []json.RawMessage{d}
		}
	}
	var fault faultBody
	if len(eb.Fault) > 0 && json.Unmarshal(eb.Fault, &fault) == nil {
		if msg := jsonText(fault.FaultString); msg != "" {
			e.Message = msg
		}
		var detail faultDetail
		if len(fault.Detail) > 0 && json.Unmarshal(fault.Detail, &detail) == nil {
			if code := jsonText(detail.ErrorCode); code != "" {
				e.ErrorCode = code
			}
		}
	}
}

func snippet(s string) string {
	if len(s) <= maxSnippet {
		return s
	}
	// Back up to the start of the rune the cap falls in: at most three
	// bytes in UTF-8. Text that is not UTF-8 is cut at that point anyway,
	// rather than losing the whole snippet to a run of stray bytes.
	cut := maxSnippet
	for i := 0; i < utf8.UTFMax-1 && !utf8RuneStart(s[cut]); i++ {
		cut--
	}
	return s[:cut] + "…"
}

func utf8RuneStart(b byte) bool { return b&0xC0 != 0x80 }

// ValidationError reports input the SDK refused before sending a request.
// It matches [ErrInvalidInput].
type ValidationError struct {
	// Field is the Go name of the offending input, such as "LoginRequest.Password".
	Field string
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
