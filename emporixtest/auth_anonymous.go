package emporixtest

// anonymousTokenResponse is AnonymousAccessToken plus the refresh fields
// every example carries: note the camelCase sessionId.
type anonymousTokenResponse struct {
	TokenType             string `json:"token_type"`
	AccessToken           string `json:"access_token"`
	ExpiresIn             int64  `json:"expires_in"`
	RefreshToken          string `json:"refresh_token,omitempty"`
	RefreshTokenExpiresIn int64  `json:"refresh_token_expires_in,omitempty"`
	SessionID             string `json:"sessionId"`
	Scope                 string `json:"scope"`
}

// checkStorefront checks the tenant and client_id query parameters of the
// anonymous token operations, which take no bearer.
func (s *Server) checkStorefront(c *call) (reply, bool) {
	var details []errorDetail
	for _, name := range []string{"tenant", "client_id"} {
		if c.query.Get(name) == "" {
			details = append(details, missing(name))
		}
	}
	if len(details) > 0 {
		return validationFailed(details), false
	}
	if c.query.Get("tenant") != s.cfg.tenant {
		return invalidTenant(), false
	}
	if c.query.Get("client_id") != s.cfg.clientID {
		return fault(faultInvalidKey, codeInvalidKey), false
	}
	return reply{}, true
}

// anonymousLogin serves GET /customerlogin/auth/anonymous/login: a new
// session with a new session ID. The optional session context parameters
// (currency, siteCode, language, targetLocation) are accepted and not
// interpreted.
func (s *Server) anonymousLogin(c *call) reply {
	if rep, ok := s.checkStorefront(c); !ok {
		return rep
	}
	at, rt := s.mintAnonymous("")
	return jsonReply(200, anonymousTokenResponse{
		TokenType: "Bearer", AccessToken: at.value, ExpiresIn: s.remaining(at.expires),
		RefreshToken: rt.value, RefreshTokenExpiresIn: s.remaining(rt.expires),
		SessionID: at.sessionID, Scope: at.scope,
	})
}

// anonymousRefresh serves GET /customerlogin/auth/anonymous/refresh. With
// refresh_token it mints a new access token for the same session and
// answers with the same refresh token (anonymous refresh tokens do not
// rotate, and concurrent refreshes with one refresh token all succeed).
// With only the deprecated anonymous_token it refreshes that access token
// (expired or not) and answers without a refresh token, as the spec's
// deprecated example does.
func (s *Server) anonymousRefresh(c *call) reply {
	if rep, ok := s.checkStorefront(c); !ok {
		return rep
	}
	if rtValue := c.query.Get("refresh_token"); rtValue != "" {
		rt := s.st.refresh[rtValue]
		if rt == nil || rt.kind != KindAnonymous {
			return unauthorized("Invalid refresh token.")
		}
		if s.expired(rt.expires) {
			return unauthorized("Refresh token expired.")
		}
		at := s.mintAnonymousAccess(rt)
		return jsonReply(200, anonymousTokenResponse{
			TokenType: "Bearer", AccessToken: at.value, ExpiresIn: s.remaining(at.expires),
			RefreshToken: rt.value, RefreshTokenExpiresIn: s.remaining(rt.expires),
			SessionID: at.sessionID, Scope: at.scope,
		})
	}
	old := c.query.Get("anonymous_token")
	if old == "" {
		return validationFailed([]errorDetail{missing("refresh_token")})
	}
	prev := s.st.access[old]
	if prev == nil || prev.kind != KindAnonymous {
		return invalidToken()
	}
	rt := &refreshToken{kind: KindAnonymous, sessionID: prev.sessionID}
	at := s.mintAnonymousAccess(rt)
	at.refresh = prev.refresh
	return jsonReply(200, anonymousTokenResponse{
		TokenType: "Bearer", AccessToken: at.value, ExpiresIn: s.remaining(at.expires),
		SessionID: at.sessionID, Scope: at.scope,
	})
}

// mintAnonymousAccess issues a new anonymous access token for the session
// of rt.
func (s *Server) mintAnonymousAccess(rt *refreshToken) *accessToken {
	at := &accessToken{
		value: randomText(28), kind: KindAnonymous, expires: s.now().Add(s.cfg.lifetimes.AnonymousAccess),
		sessionID: rt.sessionID, scope: "tenant=" + s.cfg.tenant, refresh: rt.value,
	}
	s.st.access[at.value] = at
	return at
}
