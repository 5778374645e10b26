package emporix

import (
	"context"
	"errors"
	"strings"
)

// TokenError reports that the token for a request could not be obtained:
// the client's [TokenSource] failed, for example a [Session] whose refresh
// failed. It is kept apart from the operation's own errors so that a 404 or
// 400 from a refresh endpoint does not read as the operation's ErrNotFound or
// ErrBadRequest: errors.Is matches the cause's [ErrSessionExpired],
// [ErrUnauthorized], [ErrServer], [ErrRateLimited], input and context errors,
// but not its other client-error classes. errors.As reaches the cause, such
// as the refresh's *APIError.
type TokenError struct {
	// Err is what the token source returned.
	Err error
}

// Error describes the failure; the cause carries no secrets.
func (e *TokenError) Error() string { return "emporix: obtaining a token: " + e.Err.Error() }

// Is matches the cause's classes, except the client-error classes that
// would be mistaken for the operation's own.
func (e *TokenError) Is(target error) bool {
	switch target {
	case ErrBadRequest, ErrForbidden, ErrNotFound, ErrConflict:
		return false
	}
	return errors.Is(e.Err, target)
}

// As lets errors.As reach the cause.
func (e *TokenError) As(target any) bool { return errors.As(e.Err, target) }

// tokenFailed wraps a token source's error, leaving the SDK's own refusals
// (validation, missing token, wrong kind) and cancellations as they are.
func tokenFailed(err error) error {
	var te *TokenError
	var ve *ValidationError
	switch {
	case errors.As(err, &te), errors.As(err, &ve),
		errors.Is(err, ErrNoToken), errors.Is(err, ErrAnonymousTokenRequired), errors.Is(err, ErrCustomerTokenRequired),
		errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return err
	}
	return &TokenError{Err: err}
}

// sessionEndedError is a call whose token the service rejected and whose
// session could not renew it: it matches the session's error (such as
// [ErrSessionExpired]) and the call's own (the 401 *APIError), in one line.
type sessionEndedError struct {
	err      error // the session's
	rejected error // the call's
}

func (e *sessionEndedError) Error() string {
	return e.err.Error() + " (the call was refused: " + e.rejected.Error() + ")"
}

func (e *sessionEndedError) Unwrap() []error { return []error{e.err, e.rejected} }

// operationError names the operation (method and path template) in an
// error that has no request line of its own: a refusal before sending (a
// missing token or one of the wrong kind, a failed token lookup, a context
// that ended while the session waited for a refresh) or an ended session.
// errors.Is and errors.As see the cause.
type operationError struct {
	method, path string
	err          error
}

func (e *operationError) Error() string {
	return "emporix: " + e.method + " " + e.path + ": " + strings.TrimPrefix(e.err.Error(), "emporix: ")
}

func (e *operationError) Unwrap() error { return e.err }

// failed names k's operation in err.
func (k *call) failed(err error) error {
	return &operationError{method: k.op.Method, path: k.op.Path, err: err}
}
