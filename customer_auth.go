package emporix

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
)

var (
	opSignup          = op("POST-customer-create-customer-account")
	opLogin           = op("POST-customer-authenticate-customer")
	opLogout          = op("GET-customer-logout-customer")
	opRefreshCustomer = op("GET-customer-refresh-authtoken")
	opValidate        = op("GET-customer-validate-token")
	opExchange        = op("POST-customer-exchange-authtoken")
	opSocialLogin     = op("POST-customer-login-customer-by-auth0")
	opOptInConfirm    = op("GET-customer-signup-customer-optin")
	opOptInResend     = op("POST-customer-refresh-token")
)

// LoginRequest holds a customer's login credentials (PasswordAuthentication).
type LoginRequest struct {
	Email    string `json:"email" validate:"required" emporix:"personal"`
	Password Secret `json:"password" validate:"required,min=6"`
}

func (r *LoginRequest) validate(field string) error { return checkFields(field, r) }

// SignupRequest creates a customer account (CustomerSignup).
type SignupRequest struct {
	// Email and Password are the new account's credentials. Both are required.
	Email    string `json:"email" validate:"required" emporix:"personal"`
	Password Secret `json:"password" validate:"required"`
	// CustomerDetails is the optional profile; its ContactEmail, when set,
	// must equal Email.
	CustomerDetails *CustomerDetails `json:"customerDetails,omitempty"`
	// CustomerAddress is an optional first address; ContactName is required
	// and Country must be a two-letter code.
	CustomerAddress *Address `json:"customerAddress,omitempty"`
	// Signup holds separate login credentials, for logging in with another
	// e-mail than the contact e-mail.
	Signup *LoginRequest `json:"signup,omitempty"`
}

// Format prints the request under every fmt verb, its passwords masked.
func (r SignupRequest) Format(f fmt.State, verb rune) { formatFields(f, verb, r) }

func (r *SignupRequest) validate() error {
	if err := checkFields("SignupRequest", r); err != nil {
		return err
	}
	if d := r.CustomerDetails; d != nil {
		if d.ContactEmail != "" && d.ContactEmail != r.Email {
			return invalid("SignupRequest.CustomerDetails.ContactEmail", "must equal SignupRequest.Email when set")
		}
		return d.validate("SignupRequest.CustomerDetails")
	}
	return nil
}

// Signup creates a customer account and returns its customer number. It does
// not log the customer in, and on tenants that keep new accounts inactive the
// account cannot log in until an employee activates it (see
// [EmployeeService.ActivateCustomer]) or, with double opt-in, until the
// customer confirms ([AuthService.ConfirmOptIn]). A duplicate e-mail yields
// an error matching [ErrConflict].
//
// Emporix API: POST /customer/{tenant}/signup. Needs the anonymous token.
func (s *AuthService) Signup(ctx context.Context, r *SignupRequest) (string, error) {
	if err := r.validate(); err != nil {
		return "", err
	}
	c := s.client
	k := c.newCall(opSignup)
	if err := k.jsonBody(r, contentJSON); err != nil {
		return "", err
	}
	return c.doCreated(ctx, k)
}

// Login logs a customer in and returns the customer token. The request is
// authorized with the shopper's anonymous token, so the anonymous session
// (and its cart) carries over to the customer: the returned token has the
// same SessionID.
//
// Emporix API: POST /customer/{tenant}/login. Needs the anonymous token.
func (s *AuthService) Login(ctx context.Context, r *LoginRequest) (*Token, error) {
	if err := r.validate("LoginRequest"); err != nil {
		return nil, err
	}
	c := s.client
	k := c.newCall(opLogin)
	if err := k.jsonBody(r, contentJSON); err != nil {
		return nil, err
	}
	return c.doLogin(ctx, k)
}

// doLogin runs a call answered by a customer token, authorized with the
// shopper's anonymous token. The login keeps the anonymous session, so a
// response without a session ID gets the one of the anonymous token the
// call was finally sent with.
func (c *Client) doLogin(ctx context.Context, k *call) (*Token, error) {
	resp, err := c.do(ctx, k)
	if err != nil {
		return nil, err
	}
	tok, err := c.doToken(k, resp, KindCustomer)
	if err != nil {
		return nil, err
	}
	if tok.SessionID == "" && k.token != nil {
		tok.SessionID = k.token.SessionID
	}
	return tok, nil
}

// Logout invalidates the customer token on the server. The token is sent
// twice, as the spec requires: as the bearer and as the accessToken
// parameter naming the token to invalidate.
//
// Emporix API: GET /customer/{tenant}/logout. Needs the customer token.
func (s *AuthService) Logout(ctx context.Context) error {
	c := s.client
	k := c.newCall(opLogout)
	tok, err := c.authorize(ctx, k)
	if err != nil {
		return err
	}
	k.secretQuery("accessToken", tok.AccessToken)
	return c.doNoContent(ctx, k)
}

// RefreshOptions tunes a customer-token refresh.
type RefreshOptions struct {
	// LegalEntityID rescopes the token to another legal entity the B2B
	// customer is assigned to.
	LegalEntityID string
	// LeaveLegalEntity refreshes without legalEntityId, whatever the token
	// is scoped to, for the customer's own, unscoped token: Emporix takes
	// the parameter only when the session should be associated with a legal
	// entity. The returned token's LegalEntityID is empty, so refreshes of
	// it send no scope either. It cannot be combined with LegalEntityID.
	LeaveLegalEntity bool
}

// legalEntity returns the legal entity a refresh of a token scoped to
// current asks for.
func (o *RefreshOptions) legalEntity(current string) (string, error) {
	switch {
	case o == nil:
		return current, nil
	case o.LeaveLegalEntity && o.LegalEntityID != "":
		return "", invalid("RefreshOptions", "LeaveLegalEntity and LegalEntityID exclude each other")
	case o.LeaveLegalEntity:
		return "", nil
	case o.LegalEntityID != "":
		return o.LegalEntityID, nil
	}
	return current, nil
}

// RefreshCustomer renews a customer token with its refresh token and returns
// the new token; cust is not modified. The refresh token may rotate: keep the
// returned one. The response carries no SaaS token, so cust's is carried
// forward, as are the session ID and legal entity when the response omits
// them. With nil opts a token scoped to a legal entity asks for the same
// scope again; opts.LegalEntityID asks for another one, and
// opts.LeaveLegalEntity for none, the customer's own token. Setting both
// is an [*ValidationError] (matching [ErrInvalidInput]), before any request.
//
// Emporix API: GET /customer/{tenant}/refreshauthtoken. Needs the anonymous
// token: the spec's header description mentions the customer token, but its
// security requirement and the tutorial name the anonymous one, which is what
// clients in production send.
func (s *AuthService) RefreshCustomer(ctx context.Context, cust *Token, opts *RefreshOptions) (*Token, error) {
	if cust == nil || cust.RefreshToken == "" {
		return nil, invalid("Token.RefreshToken", "a customer refresh token is required")
	}
	if cust.Kind == KindAnonymous || cust.Kind == KindService {
		return nil, invalid("Token.Kind", "must be a customer token, not a "+cust.Kind.String()+" token")
	}
	legalEntity, err := opts.legalEntity(cust.LegalEntityID)
	if err != nil {
		return nil, err
	}
	c := s.client
	k := c.newCall(opRefreshCustomer)
	k.secretQuery("refreshToken", cust.RefreshToken)
	// The spec does not say whether a refresh without legalEntityId keeps
	// the token's legal entity, so a scoped token asks for it explicitly;
	// only LeaveLegalEntity leaves it out.
	setIf(k.query, "legalEntityId", legalEntity)
	k.hideIn(cust)
	resp, err := c.do(ctx, k)
	if err != nil {
		return nil, err
	}
	// A rotated refresh token whose answer gives no lifetime lives at least
	// as long as the one it replaces (after a token exchange, 180 days
	// rather than a login's 24 hours).
	def := defaultLifetimes(opRefreshCustomer, KindCustomer)
	if !cust.IssuedAt.IsZero() && cust.RefreshExpiry.After(cust.IssuedAt) {
		def.refresh = max(def.refresh, cust.RefreshExpiry.Sub(cust.IssuedAt))
	}
	tok, err := c.doTokenWith(k, resp, KindCustomer, def)
	if err != nil {
		return nil, err
	}
	if tok.SaasToken == "" {
		tok.SaasToken = cust.SaasToken
	}
	if tok.SessionID == "" {
		tok.SessionID = cust.SessionID
	}
	if tok.RefreshToken == "" {
		tok.RefreshToken, tok.RefreshExpiry = cust.RefreshToken, cust.RefreshExpiry
	}
	if tok.LegalEntityID == "" {
		tok.LegalEntityID = legalEntity
	}
	return tok, nil
}

// TokenInfo describes a valid token (ValidateTokenResponse).
type TokenInfo struct {
	TokenType     string
	Scope         string
	SessionID     string
	Email         string
	LegalEntityID string
	// Expiry is when the token expires, computed from the remaining
	// lifetime the service reported.
	Expiry time.Time
}

type tokenInfoWire struct {
	TokenType      string      `json:"token_type"`
	ExpiresIn      flexSeconds `json:"expires_in"`
	Scope          string      `json:"scope"`
	SessionID      string      `json:"sessionId"`
	SessionIDSnake string      `json:"session_id"`
	Email          string      `json:"email"`
	LegalEntityID  string      `json:"legalEntityId"`
}

// Validate checks the customer token with the service. An invalid token
// yields an error matching [ErrUnauthorized], not a false result.
//
// Emporix API: GET /customer/{tenant}/validateauthtoken. Needs the customer token.
func (s *AuthService) Validate(ctx context.Context) (*TokenInfo, error) {
	c := s.client
	k := c.newCall(opValidate)
	var w tokenInfoWire
	if err := c.doJSON(ctx, k, &w); err != nil {
		return nil, err
	}
	return &TokenInfo{
		TokenType:     w.TokenType,
		Scope:         w.Scope,
		SessionID:     firstNonEmpty(w.SessionID, w.SessionIDSnake),
		Email:         w.Email,
		LegalEntityID: w.LegalEntityID,
		Expiry:        w.ExpiresIn.expiry(c.now()),
	}, nil
}

// ExchangeRequest exchanges an external identity provider's access token
// for an Emporix customer token.
type ExchangeRequest struct {
	// SubjectAccessToken is the external access token (a JWT). Required.
	SubjectAccessToken Secret `validate:"required"`
	// Config selects a configuration such as "site_PL"; empty means the
	// default one. An unknown configuration yields ErrBadRequest.
	Config string
}

// ExchangeToken exchanges an external access token (for example from
// Keycloak) for a customer token. The token goes in the query, as the spec
// defines, not in an RFC 8693 form body.
//
// Emporix API: POST /customer/{tenant}/exchangeauthtoken. Needs the anonymous token.
func (s *AuthService) ExchangeToken(ctx context.Context, r *ExchangeRequest) (*Token, error) {
	if err := checkFields("ExchangeRequest", r); err != nil {
		return nil, err
	}
	c := s.client
	k := c.newCall(opExchange)
	k.secretQuery("subjectAccessToken", r.SubjectAccessToken)
	setIf(k.query, "config", r.Config)
	return c.doLogin(ctx, k)
}

// SocialLoginRequest logs a customer in with an authorization code from the
// identity provider (Auth0).
type SocialLoginRequest struct {
	// Code is the authorization code. Required.
	Code Secret `validate:"required"`
	// RedirectURI is the redirect URI of the authorization request. Required.
	RedirectURI string `validate:"required"`
	// CodeVerifier is the PKCE verifier, when PKCE was used.
	CodeVerifier Secret
	// SessionID is the anonymous session to keep through the login. When
	// empty, the session ID of the anonymous token is used.
	SessionID string
}

// SocialLogin logs a customer in with a social-login authorization code and
// returns the customer token, with the identity provider's tokens in
// SocialAccessToken and SocialIDToken. The anonymous session is kept through
// the session-id header; the response has no session ID, so the returned
// token carries the one that was sent.
//
// Emporix API: POST /customer/{tenant}/socialLogin. Needs the anonymous token.
func (s *AuthService) SocialLogin(ctx context.Context, r *SocialLoginRequest) (*Token, error) {
	if err := checkFields("SocialLoginRequest", r); err != nil {
		return nil, err
	}
	c := s.client
	k := c.newCall(opSocialLogin)
	anon, err := c.authorize(ctx, k)
	if err != nil {
		return nil, err
	}
	k.secretQuery("code", r.Code)
	k.query.Set("redirect_uri", r.RedirectURI)
	if r.CodeVerifier != "" {
		k.secretQuery("code_verifier", r.CodeVerifier)
	}
	sessionID := firstNonEmpty(r.SessionID, anon.SessionID)
	if sessionID != "" {
		k.header = append(k.header, [2]string{"session-id", sessionID})
	}
	resp, err := c.do(ctx, k)
	if err != nil {
		return nil, err
	}
	tok, err := c.doToken(k, resp, KindCustomer)
	if err != nil {
		return nil, err
	}
	if tok.SessionID == "" {
		tok.SessionID = sessionID
	}
	return tok, nil
}

// ConfirmOptIn completes a double opt-in sign-up with the token e-mailed to
// the customer, and returns the customer token of the automatic login.
//
// Emporix API: GET /customer/{tenant}/signup/optin/{token}. Needs the
// anonymous token.
func (s *AuthService) ConfirmOptIn(ctx context.Context, optInToken string) (*Token, error) {
	if err := requirePathParam("optInToken", optInToken); err != nil {
		return nil, err
	}
	c := s.client
	k := c.newCall(opOptInConfirm, optInToken)
	return c.doLogin(ctx, k)
}

// ResendOptIn sends the double opt-in activation link to email again.
//
// Emporix API: POST /customer/{tenant}/signup/optin/refresh_token. Needs the
// anonymous token.
func (s *AuthService) ResendOptIn(ctx context.Context, email string) error {
	if err := requireEmail("email", email); err != nil {
		return err
	}
	c := s.client
	k := c.newCall(opOptInResend)
	body, _ := json.Marshal(struct {
		Email string `json:"email"`
	}{email})
	k.body, k.contentType = body, contentJSON
	return c.doNoContent(ctx, k)
}
