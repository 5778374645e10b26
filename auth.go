package emporix

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/emporix-go/emporix/internal/optable"
)

// authKind is how an operation is authorized: the token kind of its row
// in the operation table. An operation that takes either shopper token
// (optable.Any, GET /me) takes whichever the source has.
type authKind = optable.Auth

const (
	// authNone sends no Authorization header.
	authNone = optable.None
	// authAnonymous needs the shopper's anonymous token.
	authAnonymous = optable.Anonymous
	// authCustomer needs a logged-in customer's token.
	authCustomer = optable.Customer
	// authExplicit uses the token passed to the call (service token).
	authExplicit = optable.Service
)

// renewRejected decides the one replay after a rejected token. When err is
// a 401 saying the token is expired or invalid, the token came from the
// client's source, the operation allows it (logout names its token in the
// request) and the source can replace tokens, it asks the source once to
// replace the token and returns nil: the caller sends the call once more.
// Otherwise it returns err, or, when renewing failed with the source's
// ErrSessionExpired, an error matching both.
func (c *Client) renewRejected(ctx context.Context, k *call, err error) error {
	if !k.fromSource || k.op.NoAuthRetry || !tokenRejected(err) {
		return err
	}
	invalidator, ok := k.source.(TokenInvalidator)
	if !ok {
		return err
	}
	if ierr := invalidator.InvalidateToken(ctx, k.token); ierr != nil {
		if errors.Is(ierr, ErrSessionExpired) {
			// One line that matches both: the session is over, and the
			// call was refused for it.
			return k.failed(&sessionEndedError{err: tokenFailed(ierr), rejected: err})
		}
		return err
	}
	k.token, k.fromSource = nil, false
	return nil
}

// rejectedAgain turns the rejection of a freshly renewed token into
// ErrSessionExpired.
func rejectedAgain(err error) error {
	if err != nil && tokenRejected(err) {
		return fmt.Errorf("%w: %w", ErrSessionExpired, err)
	}
	return err
}

// tokenRejected reports whether err is an *APIError saying the token was
// rejected. A function of its own so that the *APIError errors.As needs is
// allocated on the failure path only, not on every call.
func tokenRejected(err error) bool {
	var apiErr *APIError
	return errors.As(err, &apiErr) && apiErr.TokenRejected()
}

// authorize is the authorization stage: it picks the token the operation
// needs, fixes it on the call and registers it as a secret of the call,
// failing before any network traffic when the right kind is not available.
// A token already fixed on the call is kept.
func (c *Client) authorize(ctx context.Context, k *call) (*Token, error) {
	tok, err := c.authorizeToken(ctx, k)
	if err != nil {
		return nil, k.failed(err)
	}
	return tok, nil
}

// authorizeToken is authorize without naming the operation in its errors,
// for a retry, whose failure the *RequestError names.
func (c *Client) authorizeToken(ctx context.Context, k *call) (*Token, error) {
	// Every call passes here before any use of ctx, including the
	// operations that resolve their token before sending.
	if ctx == nil {
		return nil, invalid("context", "must not be nil")
	}
	if k.op.Auth == authNone {
		return nil, nil
	}
	if k.token != nil || k.op.Auth == authExplicit {
		tok, err := checkKind(k.op.Auth, k.token)
		if err != nil {
			return nil, err
		}
		k.hide(tok.AccessToken)
		return tok, nil
	}
	var (
		tok *Token
		err error
	)
	switch {
	case k.op.Auth == authAnonymous:
		tok, err = anonymousToken(ctx, k.source)
	case k.source == nil:
		return nil, errNoTokenSource
	default:
		tok, err = k.source.Token(ctx)
	}
	if err != nil {
		return nil, tokenFailed(err)
	}
	if tok, err = checkKind(k.op.Auth, tok); err != nil {
		return nil, err
	}
	k.token, k.fromSource = tok, true
	k.hide(tok.AccessToken)
	return tok, nil
}

// checkKind refuses a missing token or one of the wrong kind.
func checkKind(auth authKind, tok *Token) (*Token, error) {
	if tok == nil || tok.AccessToken == "" {
		if auth == authAnonymous {
			return nil, errAnonymousMissing
		}
		return nil, errEmptyToken
	}
	if auth == authCustomer && tok.Kind == KindAnonymous {
		return nil, errCustomerMissing
	}
	return tok, nil
}

// anonymousToken gets the shopper's anonymous token from src: from
// AnonymousToken when src implements it, otherwise from Token as long as
// that is not a customer token.
func anonymousToken(ctx context.Context, src TokenSource) (*Token, error) {
	if src == nil {
		return nil, errAnonymousMissing
	}
	if as, ok := src.(AnonymousTokenSource); ok {
		return as.AnonymousToken(ctx)
	}
	tok, err := src.Token(ctx)
	if err != nil {
		return nil, err
	}
	if tok != nil && tok.Kind == KindCustomer {
		return nil, errAnonymousNotCustomer
	}
	return tok, nil
}

func setBearer(r *http.Request, tok *Token) {
	if tok == nil {
		return
	}
	tokenType := tok.TokenType
	if tokenType == "" || strings.EqualFold(tokenType, "bearer") {
		tokenType = "Bearer"
	}
	r.Header.Set("Authorization", tokenType+" "+string(tok.AccessToken))
}

// reauthorize runs before each retry: the token source is asked again, so
// a token that expired during the wait is replaced. A token the caller
// passed, or one that is part of the request, is kept.
func (c *Client) reauthorize(r *http.Request, k *call) error {
	if !k.fromSource || k.op.NoAuthRetry {
		return nil
	}
	k.token, k.fromSource = nil, false
	tok, err := c.authorizeToken(r.Context(), k)
	if err != nil {
		return err
	}
	setBearer(r, tok)
	return nil
}
