package emporix

import (
	"context"
	"net/url"
)

// AuthService covers the token operations of the customer-managed API:
// anonymous sessions, sign-up, the customer logins, customer-token refresh,
// validation and logout.
type AuthService service

var (
	opAnonymousLogin   = op("GET-oauth-generate-anonymous-access-token")
	opAnonymousRefresh = op("GET-oauth-refresh-anonymous-access-token")
)

// SessionContext seeds a new anonymous session's context. Every field is
// optional.
type SessionContext struct {
	// Currency is a three-letter ISO 4217 code such as "EUR".
	Currency string `validate:"currency"`
	// SiteCode is a site code from the Site Settings Service, such as "main".
	SiteCode string
	// Language is the session language, such as "EN".
	Language string
	// TargetLocation is a country code from the Country Service, such as "DE".
	TargetLocation string
}

func (s *SessionContext) validate() error {
	if s == nil {
		return nil // optional
	}
	return checkFields("SessionContext", s)
}

// AnonymousLogin starts an anonymous shopper session and returns its token,
// which carries the session ID the guest cart is keyed by. sc may be nil.
//
// Emporix API: GET /customerlogin/auth/anonymous/login. Needs no token.
func (s *AuthService) AnonymousLogin(ctx context.Context, sc *SessionContext) (*Token, error) {
	if err := sc.validate(); err != nil {
		return nil, err
	}
	c := s.client
	k := c.newCall(opAnonymousLogin)
	k.query = url.Values{"tenant": {c.tenant}, "client_id": {c.clientID}}
	if sc != nil {
		setIf(k.query, "currency", sc.Currency)
		setIf(k.query, "siteCode", sc.SiteCode)
		setIf(k.query, "language", sc.Language)
		setIf(k.query, "targetLocation", sc.TargetLocation)
	}
	resp, err := c.do(ctx, k)
	if err != nil {
		return nil, err
	}
	return c.doToken(k, resp, KindAnonymous)
}

// AnonymousRefresh renews an anonymous token with its refresh token and
// keeps the session ID, so the guest cart survives. It returns a new token;
// anon is not modified. When the response omits the refresh token or the
// session ID, those of anon are carried forward.
//
// Emporix API: GET /customerlogin/auth/anonymous/refresh. Needs no token.
func (s *AuthService) AnonymousRefresh(ctx context.Context, anon *Token) (*Token, error) {
	if anon == nil || anon.RefreshToken == "" {
		return nil, invalid("Token.RefreshToken", "an anonymous refresh token is required")
	}
	if anon.Kind == KindCustomer || anon.Kind == KindService {
		return nil, invalid("Token.Kind", "must be an anonymous token, not a "+anon.Kind.String()+" token")
	}
	c := s.client
	k := c.newCall(opAnonymousRefresh)
	// The spec still marks the deprecated anonymous_token parameter as
	// required; the tutorial and every client in production send only
	// refresh_token, and anonymous_token is due for removal.
	k.query = url.Values{"tenant": {c.tenant}, "client_id": {c.clientID}}
	k.secretQuery("refresh_token", anon.RefreshToken)
	k.hideIn(anon)
	resp, err := c.do(ctx, k)
	if err != nil {
		return nil, err
	}
	tok, err := c.doToken(k, resp, KindAnonymous)
	if err != nil {
		return nil, err
	}
	if tok.RefreshToken == "" {
		tok.RefreshToken, tok.RefreshExpiry = anon.RefreshToken, anon.RefreshExpiry
	}
	if tok.SessionID == "" {
		tok.SessionID = anon.SessionID
	}
	return tok, nil
}

func setIf(q url.Values, name, value string) {
	if value != "" {
		q.Set(name, value)
	}
}
