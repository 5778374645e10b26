package emporix

import (
	"context"
	"errors"
)

// Observer receives what a [Client] and the sessions built on it do, for
// tracing and metrics; the emporixotel module
// (github.com/emporix-go/emporix/otel) turns it into OpenTelemetry spans and
// counters, and any other telemetry system can be wired the same way. Set it
// with [WithObserver]; every field is optional.
//
// The functions run synchronously on the caller's goroutine, so they must be
// quick and safe for concurrent use. Nothing passed to them holds a token,
// password, code or the raw request path: an operation is named by its
// operationId and path template, never by the path with the customer's IDs.
// [SessionChange.Key] is the shopper's session key, a credential: keep it out
// of telemetry.
type Observer struct {
	// Operation is called as an operation of the API starts, before its
	// token is fetched. The context it returns is used for the whole
	// operation (token renewal, retries and the HTTP attempts), so a span
	// started here parents them. The function it returns is called once,
	// when the operation ends; a nil function is allowed.
	Operation func(ctx context.Context, op OperationInfo) (context.Context, func(OperationResult))
	// Retry is called before each repeated attempt of an operation; attempt
	// counts from 2.
	Retry func(ctx context.Context, op OperationInfo, attempt int)
	// Refresh is called as a [Session] starts to renew the anonymous or
	// customer token of a session (one renewal for all callers waiting on
	// it), and the function it returns when the renewal ends, with its error.
	// A renewal may find that another replica already renewed the token and
	// call no operation; the operations it does call run in the context
	// Refresh returns.
	Refresh func(ctx context.Context, kind TokenKind) (context.Context, func(error))
	// SessionChange is called for each session ID change a
	// [SessionManager] reports, before the hook of [WithSessionChangeHook].
	SessionChange func(ctx context.Context, change SessionChange)
}

// OperationInfo names an operation of the Emporix API.
type OperationInfo struct {
	// ID is the operationId of the Emporix OpenAPI document, such as
	// "POST-customer-authenticate-customer".
	ID string
	// Method is the HTTP method.
	Method string
	// Route is the path template, such as
	// "/customer/{tenant}/me/addresses/{addressId}": the same for every call
	// of the operation, so it keeps telemetry's cardinality low and the
	// customer's IDs out of it.
	Route string
}

// OperationResult is how an operation ended.
type OperationResult struct {
	// StatusCode is the status of the last answer, 0 when none came (a
	// transport failure, or input refused before sending).
	StatusCode int
	// Attempts is how many requests were sent, retries and a resend after
	// a token renewal included; 0 when none was.
	Attempts int
	// RequestID is the request identifier header of the last answer, when
	// the service sent one.
	RequestID string
	// Err is the error the operation returns, nil on success.
	Err error
}

// WithObserver reports the client's operations, retries, token renewals and
// session changes to o; see [Observer]. Clients derived with
// [Client.WithTokenSource] and the sessions of a [SessionManager] on the
// client report to it too.
func WithObserver(o Observer) Option {
	return func(c *config) error {
		c.observer = o
		return nil
	}
}

func (op *operation) info() OperationInfo {
	return OperationInfo{ID: op.ID, Method: op.Method, Route: op.Path}
}

// observeOperation starts observing k, returning the context to run it in
// and the function that reports its end.
func (c *Client) observeOperation(ctx context.Context, k *call) (context.Context, func(*response, error)) {
	if c.observer.Operation == nil || ctx == nil {
		return ctx, nil
	}
	ctx, end := c.observer.Operation(ctx, k.op.info())
	if end == nil {
		return ctx, nil
	}
	return ctx, func(resp *response, err error) {
		res := OperationResult{StatusCode: k.status, Attempts: k.attempts, RequestID: k.requestID, Err: err}
		if resp != nil {
			res.StatusCode = resp.status
		}
		if apiErr, ok := asAPIError(err); ok {
			res.StatusCode = apiErr.StatusCode
			if res.RequestID == "" {
				res.RequestID = apiErr.RequestID
			}
		}
		end(res)
	}
}

func asAPIError(err error) (*APIError, bool) {
	var apiErr *APIError
	if err == nil || !errors.As(err, &apiErr) {
		return nil, false
	}
	return apiErr, true
}

// observeRetry reports a repeated attempt of k.
func (c *Client) observeRetry(ctx context.Context, k *call) {
	if c.observer.Retry != nil {
		c.observer.Retry(ctx, k.op.info(), k.attempts)
	}
}

// observeRefresh reports the start of a token renewal of kind.
func (m *SessionManager) observeRefresh(ctx context.Context, kind TokenKind) (context.Context, func(error)) {
	if m.client.observer.Refresh == nil {
		return ctx, func(error) {}
	}
	ctx, end := m.client.observer.Refresh(ctx, kind)
	if end == nil {
		end = func(error) {}
	}
	return ctx, end
}
