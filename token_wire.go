package emporix

import (
	"encoding/json"
	"errors"
	"time"
)

// tokenWire is the union of every token response the service sends:
// AnonymousAccessToken, CustomerToken, RefreshCustomerToken,
// ExchangeAuthTokenResponse, the social-login object and the OAuth
// AccessToken. snake_case is canonical; the deprecated camelCase twins are
// read only when the snake_case field is absent, and the session ID comes as
// sessionId (anonymous) or session_id (customer).
type tokenWire struct {
	AccessToken           string        `json:"access_token"`
	AccessTokenCamel      string        `json:"accessToken"`
	TokenType             string        `json:"token_type"`
	ExpiresIn             lifetimeField `json:"expires_in"`
	ExpiresInCamel        lifetimeField `json:"expiresIn"`
	RefreshToken          string        `json:"refresh_token"`
	RefreshTokenCamel     string        `json:"refreshToken"`
	RefreshExpiresIn      lifetimeField `json:"refresh_token_expires_in"`
	RefreshExpiresInCamel lifetimeField `json:"refreshTokenExpiresIn"`
	SaasToken             string        `json:"saas_token"`
	SaasTokenCamel        string        `json:"saasToken"`
	SessionID             string        `json:"session_id"`
	SessionIDCamel        string        `json:"sessionId"`
	Scope                 string        `json:"scope"`
	SessionIdleTime       flexSeconds   `json:"session_idle_time"`
	InitialPassword       flexBool      `json:"initialPassword"`
	SocialAccessToken     string        `json:"social_access_token"`
	SocialIDToken         string        `json:"social_id_token"`
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// lifetimeField is an expiry of a token answer. Unlike flexSeconds it never
// fails the answer: a value that cannot be read is only marked, and the
// documented lifetime stands in for it (see [DefaultAnonymousAccessLifetime]),
// because an unusable expiry must not cost the shopper a valid token.
type lifetimeField struct {
	flexSeconds
	unreadable bool
}

func (l *lifetimeField) UnmarshalJSON(b []byte) error {
	if err := l.flexSeconds.UnmarshalJSON(b); err != nil {
		*l = lifetimeField{unreadable: true}
	}
	return nil
}

// firstSet returns the first of a and b that was given and could be read.
func firstSet(a, b lifetimeField) lifetimeField {
	if a.set {
		return a
	}
	return b
}

// expiry is when a lifetime received at now ends. An expiry that is
// missing, unreadable, zero or negative falls back on def, the documented
// lifetime; without one (service tokens) a missing expiry stays unknown
// (the zero time) and a zero one expires at once.
func (l lifetimeField) expiry(now time.Time, def time.Duration) time.Time {
	switch {
	case l.set && l.d > 0:
		return now.Add(l.d)
	case def > 0:
		return now.Add(def)
	}
	return l.flexSeconds.expiry(now)
}

// token converts the wire form received at now, with def standing in for
// expiries the answer leaves out. A response without an access token is
// unusable: an empty bearer would only earn a 401 later.
func (w *tokenWire) token(kind TokenKind, now time.Time, def lifetimes) (*Token, bool) {
	access := firstNonEmpty(w.AccessToken, w.AccessTokenCamel)
	if access == "" {
		return nil, false
	}
	refresh := firstNonEmpty(w.RefreshToken, w.RefreshTokenCamel)
	if refresh == "" {
		def.refresh = 0 // nothing to renew: the expiry, if any, is as sent
	}
	return &Token{
		Kind:              kind,
		AccessToken:       Secret(access),
		TokenType:         w.TokenType,
		RefreshToken:      Secret(refresh),
		SaasToken:         Secret(firstNonEmpty(w.SaasToken, w.SaasTokenCamel)),
		SessionID:         firstNonEmpty(w.SessionID, w.SessionIDCamel),
		Scope:             w.Scope,
		IssuedAt:          now,
		Expiry:            firstSet(w.ExpiresIn, w.ExpiresInCamel).expiry(now, def.access),
		RefreshExpiry:     firstSet(w.RefreshExpiresIn, w.RefreshExpiresInCamel).expiry(now, def.refresh),
		SessionIdleTime:   w.SessionIdleTime.d,
		InitialPassword:   bool(w.InitialPassword),
		SocialAccessToken: Secret(w.SocialAccessToken),
		SocialIDToken:     Secret(w.SocialIDToken),
	}, true
}

// unreadable reports an expiry given in a form that cannot be read.
func (w *tokenWire) unreadable() bool {
	return w.ExpiresIn.unreadable || w.ExpiresInCamel.unreadable ||
		w.RefreshExpiresIn.unreadable || w.RefreshExpiresInCamel.unreadable
}

// decodeTokenWith decodes a token response body; def are the documented
// lifetimes of the operation's tokens. Without them (service tokens) an
// expiry that cannot be read makes the answer malformed.
func decodeTokenWith(body []byte, kind TokenKind, now time.Time, def lifetimes) (*Token, error) {
	var w tokenWire
	if err := json.Unmarshal(body, &w); err != nil {
		return nil, err
	}
	if def.access == 0 && w.unreadable() {
		return nil, errFlexSeconds
	}
	tok, ok := w.token(kind, now, def)
	if !ok {
		return nil, errNoAccessToken
	}
	return tok, nil
}

// doToken runs a call whose answer is a token response, falling back on the
// operation's documented lifetimes for the expiries it leaves out.
func (c *Client) doToken(k *call, resp *response, kind TokenKind) (*Token, error) {
	return c.doTokenWith(k, resp, kind, defaultLifetimes(k.op, kind))
}

// doTokenWith is doToken with the fallback lifetimes given.
func (c *Client) doTokenWith(k *call, resp *response, kind TokenKind, def lifetimes) (*Token, error) {
	tok, err := decodeTokenWith(resp.body, kind, c.now(), def)
	switch {
	case err == errNoAccessToken:
		return nil, c.unusable(k, resp.status, "token response without access_token", nil)
	case err != nil:
		return nil, c.unusable(k, resp.status, "malformed token response", err)
	}
	return tok, nil
}

var errNoAccessToken = errors.New("token response without access_token")
