package emporixtest

import (
	"net/http"
	"slices"
)

// customerTokenResponse is CustomerToken (login, double opt-in): snake_case
// only, as real tenants answer; the deprecated camelCase twins are not sent.
type customerTokenResponse struct {
	AccessToken           string `json:"access_token"`
	SaasToken             string `json:"saas_token"`
	ExpiresIn             int64  `json:"expires_in"`
	RefreshToken          string `json:"refresh_token"`
	RefreshTokenExpiresIn int64  `json:"refresh_token_expires_in"`
	TokenType             string `json:"token_type"`
	SessionID             string `json:"session_id,omitempty"`
	InitialPassword       *bool  `json:"initialPassword,omitempty"`
}

// refreshCustomerTokenResponse is RefreshCustomerToken: no SaaS token.
type refreshCustomerTokenResponse struct {
	AccessToken           string `json:"access_token"`
	ExpiresIn             int64  `json:"expires_in"`
	RefreshToken          string `json:"refresh_token"`
	RefreshTokenExpiresIn int64  `json:"refresh_token_expires_in"`
	TokenType             string `json:"token_type"`
	SessionID             string `json:"session_id"`
}

// validateResponse is ValidateTokenResponse: camelCase sessionId.
type validateResponse struct {
	TokenType     string `json:"token_type"`
	ExpiresIn     int64  `json:"expires_in"`
	Scope         string `json:"scope"`
	SessionID     string `json:"sessionId"`
	Email         string `json:"email"`
	LegalEntityID string `json:"legalEntityId,omitempty"`
}

var loginSchema = schema{"email": {}, "password": {}}

// logIn mints the customer token of a password or opt-in login.
func (s *Server) logIn(cust *customer, sessionID string) customerTokenResponse {
	l := s.cfg.lifetimes
	at, rt := s.mintCustomer(cust, sessionID, "", l.CustomerAccess, l.CustomerRefresh)
	cust.lastLogin = s.now()
	return customerTokenResponse{
		AccessToken: at.value, SaasToken: s.saasToken(cust, at.expires), ExpiresIn: s.remaining(at.expires),
		RefreshToken: rt.value, RefreshTokenExpiresIn: s.remaining(rt.expires), TokenType: "Bearer",
		SessionID: sessionID,
	}
}

// login serves POST /customer/{tenant}/login. The anonymous bearer's
// session carries over into the customer token. Unknown e-mail and wrong
// password both answer 401 "Invalid credentials."; a correct password for
// an account that is inactive, on hold or awaiting double opt-in answers
// 401 "Customer account is not active." (the spec documents only 400 and
// 401 here).
func (s *Server) login(c *call) reply {
	obj, _, rep := jsonBody(c, loginSchema, true)
	if rep != nil {
		return *rep
	}
	if d := requireStrings(obj, "", map[string]int{"password": 6}, "email", "password"); len(d) > 0 {
		return validationFailed(d)
	}
	cust := s.st.customerByLogin(str(obj, "email"))
	if cust == nil || cust.password == "" || cust.password != str(obj, "password") {
		return unauthorized("Invalid credentials.")
	}
	if !cust.canLogIn() {
		return unauthorized("Customer account is not active.")
	}
	tok := s.logIn(cust, c.token.sessionID)
	initial := false
	tok.InitialPassword = &initial
	return jsonReply(http.StatusOK, tok)
}

// logout serves GET /customer/{tenant}/logout: the accessToken parameter
// must name the bearer itself. Both the access token and the refresh token
// minted with it are revoked.
func (s *Server) logout(c *call) reply {
	named := c.query.Get("accessToken")
	if named == "" {
		return validationFailed([]errorDetail{missing("accessToken")})
	}
	if named != c.token.value {
		return badRequest("The accessToken parameter does not match the token the request is authorized with.")
	}
	delete(s.st.access, c.token.value)
	delete(s.st.refresh, c.token.refresh)
	return empty(http.StatusNoContent)
}

// refreshCustomer serves GET /customer/{tenant}/refreshauthtoken,
// authorized by the anonymous bearer. The customer refresh token rotates:
// the one sent is spent, and sending it again answers 401. legalEntityId
// must name a legal entity the customer is assigned to (400 otherwise).
// Without it the new token is the customer's own, unscoped one: the
// documents are silent, and the tutorial describes the parameter as the
// way to associate the session with a legal entity.
func (s *Server) refreshCustomer(c *call) reply {
	value := c.query.Get("refreshToken")
	if value == "" {
		return validationFailed([]errorDetail{missing("refreshToken")})
	}
	rt := s.st.refresh[value]
	if rt == nil || rt.kind != KindCustomer {
		return unauthorized("Invalid refresh token.")
	}
	if s.expired(rt.expires) {
		delete(s.st.refresh, value)
		return unauthorized("Refresh token expired.")
	}
	cust := s.st.customers[rt.customer]
	if cust == nil {
		return unauthorized("Invalid refresh token.")
	}
	legal := ""
	if id := c.query.Get("legalEntityId"); id != "" {
		if !slices.ContainsFunc(cust.legalEntities, func(e LegalEntity) bool { return e.ID == id }) {
			return badRequest("Legal entity '" + id + "' is not assigned to customer '" + cust.number + "'.")
		}
		legal = id
	}
	delete(s.st.refresh, value)
	l := s.cfg.lifetimes
	access, refresh := l.CustomerAccess, l.CustomerRefresh
	if rt.exchange {
		access, refresh = l.ExchangeAccess, l.ExchangeRefresh
	}
	at, nrt := s.mintCustomer(cust, rt.sessionID, legal, access, refresh)
	nrt.exchange = rt.exchange
	return jsonReply(http.StatusOK, refreshCustomerTokenResponse{
		AccessToken: at.value, ExpiresIn: s.remaining(at.expires), RefreshToken: nrt.value,
		RefreshTokenExpiresIn: s.remaining(nrt.expires), TokenType: "Bearer", SessionID: at.sessionID,
	})
}

// validate serves GET /customer/{tenant}/validateauthtoken: the remaining
// lifetime, scopes, session ID, login e-mail and legal entity of the
// customer bearer.
func (s *Server) validate(c *call) reply {
	cust := s.st.customers[c.token.customer]
	return jsonReply(http.StatusOK, validateResponse{
		TokenType: "Bearer", ExpiresIn: s.remaining(c.token.expires), Scope: c.token.scope,
		SessionID: c.token.sessionID, Email: cust.login, LegalEntityID: c.token.legalEntity,
	})
}
