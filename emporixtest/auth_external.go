package emporixtest

import (
	"net/http"
	"strconv"
)

// SocialCode is an authorization code the identity provider (Auth0) would
// have issued; register it with [Server.AddSocialCode].
type SocialCode struct {
	// Email identifies the customer. An unknown e-mail provisions a new,
	// active account without a password; a known one is logged in.
	Email string
	// ProviderID is the identity provider's user ID, reported in the
	// account's providerId (default "auth0|" and random digits).
	ProviderID string
	// RedirectURI, when set, must equal the redirect_uri parameter.
	RedirectURI string
	// CodeVerifier, when set, must equal the code_verifier parameter (PKCE).
	CodeVerifier string
	// FirstName and LastName fill a provisioned profile.
	FirstName, LastName string
}

// Subject is the identity behind an external access token for token
// exchange; register it with [Server.AddSubjectToken].
type Subject struct {
	// Email identifies the customer. An unknown e-mail provisions a new,
	// active account without a password (SSO autoprovisioning).
	Email string
	// FirstName and LastName fill a provisioned profile.
	FirstName, LastName string
}

// AddSocialCode registers a single-use social-login authorization code.
func (s *Server) AddSocialCode(code string, sc SocialCode) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if sc.ProviderID == "" {
		sc.ProviderID = "auth0|" + strconv.FormatUint(uint64(randomUint32()), 10)
	}
	s.st.socialCodes[code] = sc
}

// AddSubjectToken registers an external access token that
// exchangeauthtoken accepts (any number of times) as subjectAccessToken.
func (s *Server) AddSubjectToken(token string, sub Subject) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.st.subjects[token] = sub
}

// AddExchangeConfig registers token-exchange configurations, such as
// "site_PL", for the config parameter of exchangeauthtoken.
func (s *Server) AddExchangeConfig(names ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, n := range names {
		s.st.configs[n] = true
	}
}

// provision finds the account of an external identity or creates it.
func (s *Server) provision(email, first, last, providerID string) *customer {
	cust := s.st.customerByLogin(email)
	if cust == nil {
		cust = s.st.newCustomer(email, "")
		if first != "" {
			cust.profile["firstName"] = first
		}
		if last != "" {
			cust.profile["lastName"] = last
		}
	}
	if cust.providerID == "" {
		cust.providerID = providerID
	}
	return cust
}

// socialLoginResponse is the inline 200 schema of socialLogin: string
// expiries and no session ID.
type socialLoginResponse struct {
	SocialAccessToken     string `json:"social_access_token"`
	SocialIDToken         string `json:"social_id_token"`
	RefreshToken          string `json:"refresh_token"`
	RefreshTokenExpiresIn string `json:"refresh_token_expires_in"`
	SessionIdleTime       int    `json:"session_idle_time"`
	TokenType             string `json:"token_type"`
	AccessToken           string `json:"access_token"`
	SaasToken             string `json:"saas_token"`
	ExpiresIn             string `json:"expires_in"`
	Scope                 string `json:"scope"`
}

// socialLogin serves POST /customer/{tenant}/socialLogin. Missing code or
// redirect_uri answer 400. An unknown or used code, a redirect_uri other
// than the registered one and a missing or wrong code_verifier (when one
// was registered) answer 401. The session-id header, when sent, becomes
// the customer token's session; without it the session is new.
func (s *Server) socialLogin(c *call) reply {
	var details []errorDetail
	for _, name := range []string{"code", "redirect_uri"} {
		if c.query.Get(name) == "" {
			details = append(details, missing(name))
		}
	}
	if len(details) > 0 {
		return validationFailed(details)
	}
	code := c.query.Get("code")
	sc, ok := s.st.socialCodes[code]
	switch {
	case !ok:
		return unauthorized("Invalid authorization code.")
	case sc.RedirectURI != "" && sc.RedirectURI != c.query.Get("redirect_uri"):
		return unauthorized("The redirect_uri does not match the authorization request.")
	case sc.CodeVerifier != "" && sc.CodeVerifier != c.query.Get("code_verifier"):
		return unauthorized("Invalid code_verifier.")
	}
	delete(s.st.socialCodes, code)
	cust := s.provision(sc.Email, sc.FirstName, sc.LastName, sc.ProviderID)
	if !cust.canLogIn() {
		return unauthorized("Customer account is not active.")
	}
	session := c.req.Header.Get("session-id")
	if session == "" {
		session = newUUID()
	}
	l := s.cfg.lifetimes
	at, rt := s.mintCustomer(cust, session, "", l.CustomerAccess, l.CustomerRefresh)
	cust.lastLogin = s.now()
	return jsonReply(http.StatusOK, socialLoginResponse{
		SocialAccessToken: fakeJWT(sc.ProviderID), SocialIDToken: fakeJWT(sc.Email),
		RefreshToken: rt.value, RefreshTokenExpiresIn: strconv.FormatInt(s.remaining(rt.expires), 10),
		SessionIdleTime: 3600, TokenType: "Bearer", AccessToken: at.value,
		SaasToken: s.saasToken(cust, at.expires), ExpiresIn: strconv.FormatInt(s.remaining(at.expires), 10),
		Scope: "tenant=" + s.cfg.tenant,
	})
}

// exchangeResponse is ExchangeAuthTokenResponse.
type exchangeResponse struct {
	SubjectAccessToken    string `json:"subject_access_token"`
	AccessToken           string `json:"access_token"`
	SaasToken             string `json:"saas_token"`
	RefreshToken          string `json:"refresh_token"`
	RefreshTokenExpiresIn int64  `json:"refresh_token_expires_in"`
	SessionIdleTime       int64  `json:"session_idle_time"`
	TokenType             string `json:"token_type"`
	ExpiresIn             int64  `json:"expires_in"`
	Scope                 string `json:"scope"`
	SessionID             string `json:"session_id"`
}

// exchange serves POST /customer/{tenant}/exchangeauthtoken. An
// unregistered config answers 400, an unregistered subject token 401. The
// anonymous bearer's session carries over. Tokens get the exchange
// lifetimes (Lifetimes.ExchangeAccess and ExchangeRefresh).
func (s *Server) exchange(c *call) reply {
	subject := c.query.Get("subjectAccessToken")
	if subject == "" {
		return validationFailed([]errorDetail{missing("subjectAccessToken")})
	}
	if cfg := c.query.Get("config"); cfg != "" && !s.st.configs[cfg] {
		return badRequest("Configuration '" + cfg + "' does not exist.")
	}
	sub, ok := s.st.subjects[subject]
	if !ok {
		return unauthorized("The subject access token is not valid.")
	}
	cust := s.provision(sub.Email, sub.FirstName, sub.LastName, "")
	if !cust.canLogIn() {
		return unauthorized("Customer account is not active.")
	}
	l := s.cfg.lifetimes
	at, rt := s.mintCustomer(cust, c.token.sessionID, "", l.ExchangeAccess, l.ExchangeRefresh)
	rt.exchange = true
	cust.lastLogin = s.now()
	return jsonReply(http.StatusOK, exchangeResponse{
		SubjectAccessToken: subject, AccessToken: at.value, SaasToken: s.saasToken(cust, at.expires),
		RefreshToken: rt.value, RefreshTokenExpiresIn: s.remaining(rt.expires), SessionIdleTime: 120,
		TokenType: "Bearer", ExpiresIn: s.remaining(at.expires), Scope: at.scope, SessionID: at.sessionID,
	})
}
