package emporix

import (
	"context"
	"fmt"
	"time"
)

// TokenKind tells which kind of principal a [Token] stands for. Emporix
// authorizes some operations only with the shopper's anonymous token (login,
// sign-up, customer-token refresh, password reset) and others only with a
// customer token (profile updates, addresses), so the SDK checks the kind
// before sending a request.
type TokenKind uint8

const (
	// KindUnspecified is a token whose kind the SDK was not told, such as a
	// raw token taken from a cookie. It is sent wherever a token is needed.
	KindUnspecified TokenKind = iota
	// KindAnonymous is a guest's anonymous access token.
	KindAnonymous
	// KindCustomer is a logged-in customer's access token.
	KindCustomer
	// KindService is an employee or service access token (client credentials).
	KindService
)

// String returns the kind's name.
func (k TokenKind) String() string {
	switch k {
	case KindAnonymous:
		return "anonymous"
	case KindCustomer:
		return "customer"
	case KindService:
		return "service"
	}
	return "unspecified"
}

// Token is an Emporix access token with what came with it. Expiries are
// absolute times computed when the token was received. Every printed form
// of a Token (fmt verbs, %#v, log/slog) masks the secrets; read the fields
// directly to use them.
type Token struct {
	// Kind is the principal the token stands for.
	Kind TokenKind
	// AccessToken is the bearer token.
	AccessToken Secret
	// TokenType is the token type, normally "Bearer".
	TokenType string
	// RefreshToken renews the access token. Customer refresh tokens may
	// rotate on every refresh: always keep the newest.
	RefreshToken Secret
	// SaasToken is the customer's SaaS token, needed at checkout. The
	// customer-token refresh response has none, so it is carried forward.
	SaasToken Secret
	// SessionID identifies the shopper's session; the guest cart is keyed
	// by it, and it survives anonymous refreshes and the customer login.
	SessionID string
	// Scope is the space-separated scope string, including "tenant=...".
	Scope string
	// LegalEntityID is the B2B legal entity the token is scoped to, if any.
	LegalEntityID string
	// IssuedAt is when the SDK received the token.
	IssuedAt time.Time
	// Expiry is when the access token expires. When the answer omits
	// expires_in or sends one that cannot be read (null, zero, negative,
	// not a number), it is the documented lifetime: one hour for anonymous
	// tokens, 30 days for customer tokens, four hours after a token exchange
	// ([DefaultAnonymousAccessLifetime] and the constants beside it say
	// where Emporix documents them). Zero means unknown: a service token
	// whose answer gave none, or a token built by the application.
	Expiry time.Time
	// RefreshExpiry is when the refresh token expires. When the answer
	// omits refresh_token_expires_in or sends one that cannot be read, it is
	// the documented lifetime: 24 hours for anonymous and customer refresh
	// tokens, 180 days after a token exchange (see
	// [DefaultAnonymousRefreshLifetime]); a customer refresh keeps the
	// lifetime of the refresh token it replaced when that is longer. Zero
	// means unknown; for a token with a refresh token and an IssuedAt,
	// [SessionState.Deadline] then assumes the longest documented lifetime
	// of its kind.
	RefreshExpiry time.Time
	// SessionIdleTime is the idle timeout some token responses report.
	SessionIdleTime time.Duration
	// InitialPassword reports a login with a password an employee created;
	// the storefront should ask the customer to change it.
	InitialPassword bool
	// SocialAccessToken and SocialIDToken are the identity provider's tokens
	// returned by social login.
	SocialAccessToken Secret
	SocialIDToken     Secret
}

// ExpiredAt reports whether the access token is missing or expired at t.
// A token without a known expiry never expires by this test.
func (t *Token) ExpiredAt(at time.Time) bool {
	if t == nil || t.AccessToken == "" {
		return true
	}
	end := t.accessDeadline()
	return !end.IsZero() && !at.Before(end)
}

// RefreshExpiredAt reports whether the refresh token is missing or expired at t.
func (t *Token) RefreshExpiredAt(at time.Time) bool {
	if t == nil || t.RefreshToken == "" {
		return true
	}
	end := t.refreshDeadline()
	return !end.IsZero() && !at.Before(end)
}

// accessDeadline is when the access token dies: Expiry, or for a token
// without one that says when it was issued, the longest documented
// lifetime of its kind. The zero time means unknown.
func (t *Token) accessDeadline() time.Time {
	if !t.Expiry.IsZero() || t.IssuedAt.IsZero() {
		return t.Expiry
	}
	if d := kindLifetimes(t.Kind).access; d > 0 {
		return t.IssuedAt.Add(d)
	}
	return time.Time{}
}

// refreshDeadline is when the refresh token dies, by the same rule; the
// zero time means unknown (or no refresh token).
func (t *Token) refreshDeadline() time.Time {
	if t.RefreshToken == "" || !t.RefreshExpiry.IsZero() || t.IssuedAt.IsZero() {
		return t.RefreshExpiry
	}
	if d := kindLifetimes(t.Kind).refresh; d > 0 {
		return t.IssuedAt.Add(d)
	}
	return time.Time{}
}

// TokenSource supplies the access token for a request. Implementations must
// be safe for concurrent use and should return quickly when they hold a
// valid token. The context is the request's: a source that refreshes should
// not let one caller's cancellation abort a refresh others wait for.
type TokenSource interface {
	Token(ctx context.Context) (*Token, error)
}

// AnonymousTokenSource is implemented by token sources that stand for one
// shopper's session and can supply its anonymous token even after the
// shopper has logged in. Operations that Emporix authorizes with the
// anonymous token (login, customer-token refresh, password reset, e-mail
// change confirmation, ...) use it.
type AnonymousTokenSource interface {
	AnonymousToken(ctx context.Context) (*Token, error)
}

// TokenInvalidator is implemented by token sources that can replace a token
// the service rejected. When a request fails with a 401 whose gateway code
// says the access token is expired or invalid, the client calls
// InvalidateToken once and retries once with the source's next token; a
// second rejection fails with [ErrSessionExpired]. A [Session] implements it.
type TokenInvalidator interface {
	InvalidateToken(ctx context.Context, rejected *Token) error
}

// TokenSourceFunc adapts a function to a [TokenSource].
type TokenSourceFunc func(ctx context.Context) (*Token, error)

// Token calls f.
func (f TokenSourceFunc) Token(ctx context.Context) (*Token, error) { return f(ctx) }

// SingleToken returns a [TokenSource] that always returns t, for calls that
// need one token: a service token, or an external token of known kind. It
// never refreshes. For a shopper, whose calls need the anonymous token for
// some operations (login, customer-token refresh, password reset) and the
// customer token for others, use [StaticTokens] or a [Session].
func SingleToken(t *Token) TokenSource { return staticSource{token: t} }

// StaticTokenSource returns a [TokenSource] that always returns t.
//
// Deprecated: Use [SingleToken], or [StaticTokens] for a shopper's pair of
// tokens; the two names were too alike for sources that differ.
func StaticTokenSource(t *Token) TokenSource { return SingleToken(t) }

// StaticTokens returns the token source for one shopper, from the tokens
// the application holds: it returns the customer token when it is not nil
// and the anonymous token otherwise, and supplies the anonymous token to
// the operations authorized with it (login, customer-token refresh,
// password reset, e-mail change confirmation). Pass customer nil for a
// guest. It never refreshes; a [Session] does.
func StaticTokens(anonymous, customer *Token) TokenSource {
	return staticSource{anonymous: anonymous, token: customer}
}

// staticSource holds the token it returns and, for a shopper, the
// anonymous token that anchors the session.
type staticSource struct{ anonymous, token *Token }

func (s staticSource) Token(context.Context) (*Token, error) {
	if s.token != nil {
		return s.token, nil
	}
	if s.anonymous != nil {
		return s.anonymous, nil
	}
	return nil, errNoStaticToken
}

func (s staticSource) AnonymousToken(ctx context.Context) (*Token, error) {
	if s.anonymous != nil {
		return s.anonymous, nil
	}
	if s.token == nil {
		return nil, errAnonymousMissing
	}
	if s.token.Kind == KindCustomer {
		return nil, errAnonymousNotCustomer
	}
	return s.token, nil
}

// String hides the tokens the source holds.
func (s staticSource) String() string { return "emporix.StaticTokenSource" }

// GoString hides the tokens the source holds.
func (s staticSource) GoString() string { return "emporix.StaticTokenSource{}" }

// Format hides the tokens the source holds under every verb.
func (s staticSource) Format(f fmt.State, _ rune) { formatOpaque(f, s.String()) }
