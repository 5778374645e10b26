package emporix

import (
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// authAnonResponse is the spec's AnonymousAccessToken example, with the
// tenant placeholder filled in.
const authAnonResponse = `{
  "token_type": "Bearer",
  "access_token": "tpYgJPZqddEQ2zwfzNtx79noBP65",
  "expires_in": 3599,
  "refresh_token": "7FnviYrxvQWYdzUVBVTvXeNAA4Jy1HPe",
  "refresh_token_expires_in": 86399,
  "sessionId": "6d4d4d5e-04b9-40c5-9074-4df1405c6081",
  "scope": "tenant=mytenant"
}`

func authAnonToken() *Token {
	return &Token{
		Kind:          KindAnonymous,
		AccessToken:   "tpYgJPZqddEQ2zwfzNtx79noBP65",
		TokenType:     "Bearer",
		RefreshToken:  "7FnviYrxvQWYdzUVBVTvXeNAA4Jy1HPe",
		SessionID:     "6d4d4d5e-04b9-40c5-9074-4df1405c6081",
		Scope:         "tenant=mytenant",
		Expiry:        testNow.Add(authSecs(3599)),
		RefreshExpiry: testNow.Add(authSecs(86399)),
	}
}

// ---------------------------------------------------------------------------
// AnonymousLogin
// ---------------------------------------------------------------------------

func TestAnonymousLogin_RequestAndToken(t *testing.T) {
	t.Parallel()
	c, mt := newTestClient(t)
	sent := serve(t, mt, "GET", "/customerlogin/auth/anonymous/login", jsonReply(200, authAnonResponse))

	tok, err := c.Auth.AnonymousLogin(authBG, nil)
	require.NoError(t, err)
	authAssertToken(t, authAnonToken(), tok)
	assert.False(t, tok.ExpiredAt(testNow.Add(authSecs(3598))))
	assert.True(t, tok.ExpiredAt(testNow.Add(authSecs(3599))))
	assert.False(t, tok.RefreshExpiredAt(testNow.Add(23*time.Hour)))

	// The anonymous login needs no token.
	assertRequest(t, only(t, sent), wantRequest{method: "GET", path: "/customerlogin/auth/anonymous/login",
		query: url.Values{"tenant": {testTenant}, "client_id": {testClientID}}})
}

func TestAnonymousLogin_SessionContext(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		sc   *SessionContext
		want url.Values
	}{
		{
			name: "empty context",
			sc:   &SessionContext{},
			want: url.Values{"tenant": {testTenant}, "client_id": {testClientID}},
		},
		{
			name: "every field",
			sc:   &SessionContext{Currency: "EUR", SiteCode: "main", Language: "EN", TargetLocation: "DE"},
			want: url.Values{"tenant": {testTenant}, "client_id": {testClientID},
				"currency": {"EUR"}, "siteCode": {"main"}, "language": {"EN"}, "targetLocation": {"DE"}},
		},
		{
			name: "only some fields",
			sc:   &SessionContext{SiteCode: "site_PL", TargetLocation: "PL"},
			want: url.Values{"tenant": {testTenant}, "client_id": {testClientID},
				"siteCode": {"site_PL"}, "targetLocation": {"PL"}},
		},
		{
			name: "lowercase currency is passed as given",
			sc:   &SessionContext{Currency: "chf"},
			want: url.Values{"tenant": {testTenant}, "client_id": {testClientID}, "currency": {"chf"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, mt := newTestClient(t)
			sent := serve(t, mt, "GET", "/customerlogin/auth/anonymous/login", jsonReply(200, authAnonResponse))
			_, err := c.Auth.AnonymousLogin(authBG, tt.sc)
			require.NoError(t, err)
			assert.Equal(t, tt.want, only(t, sent).URL.Query())
		})
	}
}

func TestAnonymousLogin_BadCurrencySendsNothing(t *testing.T) {
	t.Parallel()
	var cases []invalidCase[string]
	for _, cur := range []string{"EU", "EURO", "E1R", "€UR", " EU"} {
		cases = append(cases, invalidCase[string]{cur, cur, "SessionContext.Currency"})
	}
	runInvalid(t, func(c *Client, cur string) (any, error) {
		return c.Auth.AnonymousLogin(authBG, &SessionContext{Currency: cur, SiteCode: "main"})
	}, cases)
}

func TestAnonymousLogin_NeedsNoTokenSource(t *testing.T) {
	t.Parallel()
	c, mt := newTestClient(t, WithTokenSource(nil))
	sent := serve(t, mt, "GET", "/customerlogin/auth/anonymous/login", jsonReply(200, authAnonResponse))
	tok, err := c.Auth.AnonymousLogin(authBG, nil)
	require.NoError(t, err)
	assert.Equal(t, "tpYgJPZqddEQ2zwfzNtx79noBP65", string(tok.AccessToken))
	assert.Empty(t, only(t, sent).Header.Values("Authorization"))
}

func TestAnonymousLogin_UsesTheClientsTenantAndClientID(t *testing.T) {
	t.Parallel()
	c, mt := newTestClient(t)
	other, err := NewClient("othertenant", "other-client", WithHTTPClient(c.http.HTTPClient), WithBaseURL(testBase), WithNoRetries())
	require.NoError(t, err)
	sent := serve(t, mt, "GET", "/customerlogin/auth/anonymous/login", jsonReply(200, authAnonResponse))
	_, err = other.Auth.AnonymousLogin(authBG, nil)
	require.NoError(t, err)
	assert.Equal(t, url.Values{"tenant": {"othertenant"}, "client_id": {"other-client"}}, only(t, sent).URL.Query())
}

func TestAnonymousLogin_UnusableResponses(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		body   string
		reason string
	}{
		{"no access_token", `{"token_type":"Bearer","expires_in":3599,"sessionId":"6d4d4d5e-04b9-40c5-9074-4df1405c6081"}`, "token response without access_token"},
		{"empty access_token", `{"access_token":"","sessionId":"s"}`, "token response without access_token"},
		{"malformed JSON", `{"access_token":"tpYgJPZqddEQ2zwfzNtx79noBP65"`, "malformed token response"},
		{"not an object", `["tpYgJPZqddEQ2zwfzNtx79noBP65"]`, "malformed token response"},
		{"empty body", ``, "malformed token response"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, mt := newTestClient(t)
			authServeRaw(t, mt, "GET", "/customerlogin/auth/anonymous/login", 200, tt.body)
			tok, err := c.Auth.AnonymousLogin(authBG, nil)
			assert.Nil(t, tok)
			re := requireResponseError(t, err, 200)
			assert.Equal(t, tt.reason, re.Reason)
			assert.Equal(t, "GET", re.Method)
			assert.Equal(t, "/customerlogin/auth/anonymous/login", re.Path)
			assert.NotContains(t, err.Error(), "tpYgJPZqddEQ2zwfzNtx79noBP65", "the body is never quoted")
			assert.NotContains(t, err.Error(), "an hour")
		})
	}
}

// ---------------------------------------------------------------------------
// AnonymousRefresh
// ---------------------------------------------------------------------------

func TestAnonymousRefresh_RequestAndToken(t *testing.T) {
	t.Parallel()
	c, mt := newTestClient(t)
	sent := serve(t, mt, "GET", "/customerlogin/auth/anonymous/refresh", jsonReply(200, `{
	  "token_type": "Bearer",
	  "access_token": "GOToGKaEKFyR8DokPBwHH0Y3AKCo",
	  "expires_in": 3599,
	  "refresh_token": "9sJkq1nXm3QpV7bR2wT5yZ8cF4hL6dGa",
	  "refresh_token_expires_in": 86399,
	  "sessionId": "6d4d4d5e-04b9-40c5-9074-4df1405c6081",
	  "scope": "tenant=mytenant"
	}`))

	anon := anonToken()
	before := *anon
	tok, err := c.Auth.AnonymousRefresh(authBG, anon)
	require.NoError(t, err)
	authAssertToken(t, &Token{
		Kind:          KindAnonymous,
		AccessToken:   "GOToGKaEKFyR8DokPBwHH0Y3AKCo",
		TokenType:     "Bearer",
		RefreshToken:  "9sJkq1nXm3QpV7bR2wT5yZ8cF4hL6dGa",
		SessionID:     testSessionID,
		Scope:         "tenant=mytenant",
		Expiry:        testNow.Add(authSecs(3599)),
		RefreshExpiry: testNow.Add(authSecs(86399)),
	}, tok)
	assert.Equal(t, before, *anon, "the input token is not modified")

	// Only tenant, refresh_token and client_id: the deprecated anonymous_token is never sent.
	assertRequest(t, only(t, sent), wantRequest{method: "GET", path: "/customerlogin/auth/anonymous/refresh",
		query: url.Values{"tenant": {testTenant}, "refresh_token": {anonRefresh}, "client_id": {testClientID}}})
}

func TestAnonymousRefresh_CarryForward(t *testing.T) {
	t.Parallel()
	t.Run("deprecated-style response without refresh token", func(t *testing.T) {
		c, mt := newTestClient(t)
		serve(t, mt, "GET", "/customerlogin/auth/anonymous/refresh", jsonReply(200, `{
		  "token_type": "Bearer",
		  "access_token": "Zq91ySuLxLIzQ0vd0QxiC7imAIHi",
		  "expires_in": 3599,
		  "sessionId": "5b7ae416-5d88-4dd9-bbe9-6b262f45b4e8",
		  "scope": "tenant=mytenant"
		}`))
		tok, err := c.Auth.AnonymousRefresh(authBG, anonToken())
		require.NoError(t, err)
		assert.Equal(t, "Zq91ySuLxLIzQ0vd0QxiC7imAIHi", string(tok.AccessToken))
		assert.Equal(t, anonRefresh, string(tok.RefreshToken), "the old refresh token stays usable")
		assert.Equal(t, testNow.Add(24*time.Hour), tok.RefreshExpiry, "with its old expiry")
		assert.Equal(t, "5b7ae416-5d88-4dd9-bbe9-6b262f45b4e8", tok.SessionID, "the response's session wins")
		assert.Equal(t, testNow.Add(authSecs(3599)), tok.Expiry)
	})
	t.Run("response without session ID", func(t *testing.T) {
		c, mt := newTestClient(t)
		serve(t, mt, "GET", "/customerlogin/auth/anonymous/refresh",
			jsonReply(200, `{"token_type":"Bearer","access_token":"Zq91ySuLxLIzQ0vd0QxiC7imAIHi","expires_in":3599,"refresh_token":"NEW-REFRESH"}`))
		tok, err := c.Auth.AnonymousRefresh(authBG, anonToken())
		require.NoError(t, err)
		assert.Equal(t, testSessionID, tok.SessionID)
		assert.Equal(t, "NEW-REFRESH", string(tok.RefreshToken))
		assert.Equal(t, testNow.Add(DefaultAnonymousRefreshLifetime), tok.RefreshExpiry, "a new refresh token without lifetime lives as documented")
	})
	t.Run("unspecified-kind token is accepted", func(t *testing.T) {
		c, mt := newTestClient(t)
		sent := serve(t, mt, "GET", "/customerlogin/auth/anonymous/refresh", jsonReply(200, authAnonResponse))
		tok, err := c.Auth.AnonymousRefresh(authBG, &Token{RefreshToken: "COOKIE-REFRESH"})
		require.NoError(t, err)
		assert.Equal(t, KindAnonymous, tok.Kind)
		assert.Equal(t, []string{"COOKIE-REFRESH"}, only(t, sent).URL.Query()["refresh_token"])
	})
}

func TestAnonymousRefresh_Validation(t *testing.T) {
	t.Parallel()
	runInvalid(t, func(c *Client, in *Token) (any, error) { return c.Auth.AnonymousRefresh(authBG, in) }, []invalidCase[*Token]{
		{"nil token", nil, "Token.RefreshToken"},
		{"no refresh token", &Token{Kind: KindAnonymous, AccessToken: anonAccess, SessionID: testSessionID}, "Token.RefreshToken"},
		{"customer token", custToken(), "Token.Kind"},
		{"service token", &Token{Kind: KindService, AccessToken: "svc", RefreshToken: "SERVICE-REFRESH"}, "Token.Kind"},
	}, "SERVICE-REFRESH")
}

func TestAnonymousRefresh_ErrorResponses(t *testing.T) {
	t.Parallel()
	t.Run("200 without access_token", func(t *testing.T) {
		c, mt := newTestClient(t)
		authServeRaw(t, mt, "GET", "/customerlogin/auth/anonymous/refresh", 200, `{"refresh_token":"R2","sessionId":"s"}`)
		tok, err := c.Auth.AnonymousRefresh(authBG, anonToken())
		assert.Nil(t, tok)
		re := requireResponseError(t, err, 200)
		assert.Equal(t, "token response without access_token", re.Reason)
	})
}
