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
	AccessToken           string      `json:"access_token"`
	AccessTokenCamel      string      `json:"accessToken"`
	TokenType             string      `json:"token_type"`
	ExpiresIn             flexSeconds `json:"expires_in"`
	ExpiresInCamel        flexSeconds `json:"expiresIn"`
	RefreshToken          string      `json:"refresh_token"`
	RefreshTokenCamel     string      `json:"refreshToken"`
	RefreshExpiresIn      flexSeconds `json:"refresh_token_expires_in"`
	RefreshExpiresInCamel flexSeconds `json:"refreshTokenExpiresIn"`
	SaasToken             string      `json:"saas_token"`
	SaasTokenCamel        string      `json:"saasToken"`
	SessionID             string      `json:"session_id"`
	SessionIDCamel        string      `json:"sessionId"`
	Scope                 string      `json:"scope"`
	SessionIdleTime       flexSeconds `json:"session_idle_time"`
	InitialPassword       flexBool    `json:"initialPassword"`
	SocialAccessToken     string      `json:"social_access_token"`
	SocialIDToken         string      `json:"social_id_token"`
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func firstSet(a, b flexSeconds) flexSeconds {
	if a.set {
		return a
	}
	return b
}

// token converts the wire form received at now. A response without an
// access token is unusable: an empty bearer would only earn a 401 later.
func (w *tokenWire) token(kind TokenKind, now time.Time) (*Token, bool) {
	access := firstNonEmpty(w.AccessToken, w.AccessTokenCamel)
	if access == "" {
		return nil, false
	}
	return &Token{
		Kind:              kind,
		AccessToken:       access,
		TokenType:         w.TokenType,
		RefreshToken:      firstNonEmpty(w.RefreshToken, w.RefreshTokenCamel),
		SaasToken:         firstNonEmpty(w.SaasToken, w.SaasTokenCamel),
		SessionID:         firstNonEmpty(w.SessionID, w.SessionIDCamel),
		Scope:             w.Scope,
		IssuedAt:          now,
		Expiry:            firstSet(w.ExpiresIn, w.ExpiresInCamel).expiry(now),
		RefreshExpiry:     firstSet(w.RefreshExpiresIn, w.RefreshExpiresInCamel).expiry(now),
		SessionIdleTime:   w.SessionIdleTime.d,
		InitialPassword:   bool(w.InitialPassword),
		SocialAccessToken: w.SocialAccessToken,
		SocialIDToken:     w.SocialIDToken,
	}, true
}

// decodeToken decodes a token response body.
func decodeToken(body []byte, kind TokenKind, now time.Time) (*Token, error) {
	var w tokenWire
	if err := json.Unmarshal(body, &w); err != nil {
		return nil, err
	}
	tok, ok := w.token(kind, now)
	if !ok {
		return nil, errNoAccessToken
	}
	return tok, nil
}

// doToken runs a call whose answer is a token response.
func (c *Client) doToken(k *call, resp *response, kind TokenKind) (*Token, error) {
	tok, err := decodeToken(resp.body, kind, c.now())
	switch {
	case err == errNoAccessToken:
		return nil, c.unusable(k, resp.status, "token response without access_token", nil)
	case err != nil:
		return nil, c.unusable(k, resp.status, "malformed token response", err)
	}
	return tok, nil
}

var errNoAccessToken = errors.New("token response without access_token")
