package emporix

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// ---------------------------------------------------------------------------
// flexSeconds: integer, JSON number with fraction, numeric string.
// ---------------------------------------------------------------------------

func TestFlexSeconds_Decoding(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		json string
		want time.Duration
		set  bool
	}{
		{"integer (anonymous, exchange)", `3599`, authSecs(3599), true},
		{"float with .0 (login serialiser)", `2591999.0`, authSecs(2591999), true},
		{"string (social login)", `"2591999"`, authSecs(2591999), true},
		{"string with spaces", `" 86399 "`, authSecs(86399), true},
		{"string float", `"14399.0"`, authSecs(14399), true},
		{"exponent", `1e3`, authSecs(1000), true},
		{"fraction", `1.5`, 1500 * time.Millisecond, true},
		{"zero is a known lifetime", `0`, 0, true},
		{"string zero", `"0"`, 0, true},
		{"negative clamps to zero", `-5`, 0, true},
		{"absurd value is capped", `1e300`, time.Duration(maxFlexSeconds) * time.Second, true},
		{"null means not given", `null`, 0, false},
		{"empty string means not given", `""`, 0, false},
		{"blank string means not given", `"   "`, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var v struct {
				E flexSeconds `json:"e"`
			}
			require.NoError(t, json.Unmarshal([]byte(`{"e":`+tt.json+`}`), &v))
			assert.Equal(t, tt.want, v.E.d)
			assert.Equal(t, tt.set, v.E.set)
		})
	}
}

func TestFlexSeconds_AbsentFieldIsNotSet(t *testing.T) {
	t.Parallel()
	var v struct {
		E flexSeconds `json:"e"`
	}
	require.NoError(t, json.Unmarshal([]byte(`{}`), &v))
	assert.False(t, v.E.set)
	assert.True(t, v.E.expiry(testNow).IsZero())
}

func TestFlexSeconds_Rejects(t *testing.T) {
	t.Parallel()
	for _, in := range []string{`"an hour"`, `"3599s"`, `true`, `false`, `{}`, `[3599]`, `"NaN"`, `"Inf"`, `"-Infinity"`, `"0x10"`} {
		t.Run(in, func(t *testing.T) {
			var v struct {
				E flexSeconds `json:"e"`
			}
			err := json.Unmarshal([]byte(`{"e":`+in+`}`), &v)
			require.Error(t, err)
			assert.ErrorIs(t, err, errFlexSeconds)
			assert.NotContains(t, err.Error(), "hour", "the value is never quoted")
		})
	}
}

func TestFlexSeconds_Expiry(t *testing.T) {
	t.Parallel()
	assert.True(t, flexSeconds{}.expiry(testNow).IsZero(), "not given: zero time, not now")
	assert.Equal(t, testNow, flexSeconds{set: true}.expiry(testNow), "a zero lifetime expires at once")
	assert.Equal(t, testNow.Add(authSecs(3599)), flexSeconds{d: authSecs(3599), set: true}.expiry(testNow))
}

// ---------------------------------------------------------------------------
// flexBool: initialPassword is typed string in the spec, sent as a boolean.
// ---------------------------------------------------------------------------

func TestFlexBool_Decoding(t *testing.T) {
	t.Parallel()
	tests := []struct {
		json string
		want bool
	}{
		{`true`, true},
		{`false`, false},
		{`"true"`, true},
		{`"TRUE"`, true},
		{`" True "`, true},
		{`"false"`, false},
		{`"False"`, false},
		{`1`, true},
		{`0`, false},
		{`"1"`, true},
		{`"0"`, false},
		{`null`, false},
		{`""`, false},
	}
	for _, tt := range tests {
		t.Run(tt.json, func(t *testing.T) {
			v := struct {
				B flexBool `json:"b"`
			}{B: !flexBool(tt.want)} // start from the opposite value
			require.NoError(t, json.Unmarshal([]byte(`{"b":`+tt.json+`}`), &v))
			assert.Equal(t, tt.want, bool(v.B))
		})
	}
}

func TestFlexBool_Rejects(t *testing.T) {
	t.Parallel()
	for _, in := range []string{`"yes"`, `"no"`, `2`, `-1`, `{}`, `[]`, `"truee"`} {
		t.Run(in, func(t *testing.T) {
			var v struct {
				B flexBool `json:"b"`
			}
			err := json.Unmarshal([]byte(`{"b":`+in+`}`), &v)
			require.Error(t, err)
			assert.ErrorIs(t, err, errFlexBool)
		})
	}
}

// ---------------------------------------------------------------------------
// decodeToken decodes a token response body of a kind of token with the
// kind's documented lifetimes, as the client's operations do.
func decodeToken(body []byte, kind TokenKind, now time.Time) (*Token, error) {
	return decodeTokenWith(body, kind, now, defaultLifetimes(nil, kind))
}

// decodeToken: the union of every token response.
// ---------------------------------------------------------------------------

func TestDecodeToken_SnakeCaseWinsOverDeprecatedCamelCase(t *testing.T) {
	t.Parallel()
	tok, err := decodeToken([]byte(`{
	  "access_token": "SNAKE-ACCESS", "accessToken": "CAMEL-ACCESS",
	  "expires_in": 2591999, "expiresIn": 10,
	  "refresh_token": "SNAKE-REFRESH", "refreshToken": "CAMEL-REFRESH",
	  "refresh_token_expires_in": 86399, "refreshTokenExpiresIn": 20,
	  "saas_token": "SNAKE-SAAS", "saasToken": "CAMEL-SAAS",
	  "session_id": "snake-session", "sessionId": "camel-session",
	  "token_type": "Bearer"
	}`), KindCustomer, testNow)
	require.NoError(t, err)
	authAssertToken(t, &Token{
		Kind: KindCustomer, AccessToken: "SNAKE-ACCESS", TokenType: "Bearer",
		RefreshToken: "SNAKE-REFRESH", SaasToken: "SNAKE-SAAS", SessionID: "snake-session",
		Expiry: testNow.Add(authSecs(2591999)), RefreshExpiry: testNow.Add(authSecs(86399)),
	}, tok)
}

func TestDecodeToken_CamelCaseOnlyIsAFallback(t *testing.T) {
	t.Parallel()
	tok, err := decodeToken([]byte(`{
	  "accessToken": "CAMEL-ACCESS", "expiresIn": 2591999,
	  "refreshToken": "CAMEL-REFRESH", "refreshTokenExpiresIn": 86399,
	  "saasToken": "CAMEL-SAAS", "token_type": "Bearer", "initialPassword": "false"
	}`), KindCustomer, testNow)
	require.NoError(t, err)
	authAssertToken(t, &Token{
		Kind: KindCustomer, AccessToken: "CAMEL-ACCESS", TokenType: "Bearer",
		RefreshToken: "CAMEL-REFRESH", SaasToken: "CAMEL-SAAS",
		Expiry: testNow.Add(authSecs(2591999)), RefreshExpiry: testNow.Add(authSecs(86399)),
	}, tok)
}

func TestDecodeToken_EmptySnakeFieldsFallBackToCamelCase(t *testing.T) {
	t.Parallel()
	// An empty string or null in the snake_case field does not hide the
	// camelCase value.
	tok, err := decodeToken([]byte(`{
	  "access_token": "", "accessToken": "CAMEL-ACCESS",
	  "expires_in": null, "expiresIn": 100,
	  "refresh_token_expires_in": "", "refreshTokenExpiresIn": "200",
	  "session_id": "", "sessionId": "camel-session"
	}`), KindAnonymous, testNow)
	require.NoError(t, err)
	assert.Equal(t, "CAMEL-ACCESS", string(tok.AccessToken))
	assert.Equal(t, testNow.Add(authSecs(100)), tok.Expiry)
	assert.Equal(t, testNow.Add(authSecs(200)), tok.RefreshExpiry)
	assert.Equal(t, "camel-session", tok.SessionID)
}

func TestDecodeToken_MissingOrUnreadableLifetimesAreTheDocumentedOnes(t *testing.T) {
	t.Parallel()
	for _, lifetime := range []string{``, `,"expires_in":null`, `,"expires_in":0`, `,"expires_in":-5`, `,"expires_in":"an hour"`, `,"expires_in":{}`} {
		tok, err := decodeToken([]byte(`{"access_token":"A","refresh_token":"R"`+lifetime+`}`), KindAnonymous, testNow)
		require.NoError(t, err, lifetime)
		assert.Equal(t, testNow.Add(DefaultAnonymousAccessLifetime), tok.Expiry, lifetime)
		assert.Equal(t, testNow.Add(DefaultAnonymousRefreshLifetime), tok.RefreshExpiry, lifetime)
		tok, err = decodeToken([]byte(`{"access_token":"A","refresh_token":"R"`+strings.ReplaceAll(lifetime, "expires_in", "refresh_token_expires_in")+`}`), KindCustomer, testNow)
		require.NoError(t, err, lifetime)
		assert.Equal(t, testNow.Add(DefaultCustomerAccessLifetime), tok.Expiry, lifetime)
		assert.Equal(t, testNow.Add(DefaultCustomerRefreshLifetime), tok.RefreshExpiry, lifetime)
	}
	// An unreadable snake_case expiry does not hide a readable camelCase one.
	tok, err := decodeToken([]byte(`{"access_token":"A","expires_in":"soon","expiresIn":100}`), KindAnonymous, testNow)
	require.NoError(t, err)
	assert.Equal(t, testNow.Add(authSecs(100)), tok.Expiry)
	// Without a refresh token there is nothing to default.
	tok, err = decodeToken([]byte(`{"access_token":"A"}`), KindAnonymous, testNow)
	require.NoError(t, err)
	assert.True(t, tok.RefreshExpiry.IsZero())
}

func TestDecodeToken_ServiceTokensKeepTheirLifetimeAsSent(t *testing.T) {
	t.Parallel()
	tok, err := decodeToken([]byte(`{"access_token":"A","expires_in":0}`), KindService, testNow)
	require.NoError(t, err)
	assert.Equal(t, testNow, tok.Expiry)
	assert.True(t, tok.ExpiredAt(testNow), "expires_in 0 is already expired")

	tok, err = decodeToken([]byte(`{"access_token":"A"}`), KindService, testNow)
	require.NoError(t, err)
	assert.True(t, tok.Expiry.IsZero())
	assert.False(t, tok.ExpiredAt(testNow.Add(365*24*time.Hour)), "an unknown expiry never expires")

	_, err = decodeToken([]byte(`{"access_token":"A","expires_in":"1h"}`), KindService, testNow)
	assert.Error(t, err, "an unreadable service token lifetime is a malformed answer")
}

func TestDecodeToken_SocialAndExchangeExtras(t *testing.T) {
	t.Parallel()
	tok, err := decodeToken([]byte(`{
	  "subject_access_token": "ignored-JWT",
	  "social_access_token": "SOC-A", "social_id_token": "SOC-ID",
	  "access_token": "A", "expires_in": "2591999", "refresh_token_expires_in": "86399",
	  "session_idle_time": 3600, "scope": "tenant=mytenant", "unknown_field": {"x": 1}
	}`), KindCustomer, testNow)
	require.NoError(t, err)
	assert.Equal(t, "SOC-A", string(tok.SocialAccessToken))
	assert.Equal(t, "SOC-ID", string(tok.SocialIDToken))
	assert.Equal(t, time.Hour, tok.SessionIdleTime)
	assert.Equal(t, "tenant=mytenant", tok.Scope)
	assert.Equal(t, testNow.Add(authSecs(2591999)), tok.Expiry)
	assert.Equal(t, testNow.Add(authSecs(86399)), tok.RefreshExpiry)
}

func TestDecodeToken_KindIsTheCallersNotTheServers(t *testing.T) {
	t.Parallel()
	for _, kind := range []TokenKind{KindAnonymous, KindCustomer, KindService} {
		tok, err := decodeToken([]byte(`{"access_token":"A","token_type":"Bearer"}`), kind, testNow)
		require.NoError(t, err)
		assert.Equal(t, kind, tok.Kind)
	}
}

func TestDecodeToken_Failures(t *testing.T) {
	t.Parallel()
	t.Run("no access token", func(t *testing.T) {
		for _, body := range []string{`{}`, `{"access_token":""}`, `{"access_token":null,"accessToken":""}`, `{"refresh_token":"R","expires_in":1}`} {
			tok, err := decodeToken([]byte(body), KindCustomer, testNow)
			assert.Nil(t, tok, body)
			assert.Equal(t, errNoAccessToken, err, body)
		}
	})
	t.Run("malformed", func(t *testing.T) {
		for _, body := range []string{``, `{`, `"A"`, `[]`, `{"access_token":1}`, `{"access_token":"A","initialPassword":"yes"}`} {
			tok, err := decodeToken([]byte(body), KindCustomer, testNow)
			assert.Nil(t, tok, body)
			require.Error(t, err, body)
			assert.NotEqual(t, errNoAccessToken, err, body)
		}
	})
}

// ---------------------------------------------------------------------------
// The same quirks end to end, through Login and Logout-free token calls.
// ---------------------------------------------------------------------------

func TestLogin_LenientTokenShapes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		body string
		want *Token
	}{
		{
			name: "float expires_in",
			body: `{"access_token":"A","expires_in":2591999.0,"refresh_token":"R","refresh_token_expires_in":86399.0,"token_type":"Bearer","session_id":"S"}`,
			want: &Token{Kind: KindCustomer, AccessToken: "A", TokenType: "Bearer", RefreshToken: "R", SessionID: "S",
				Expiry: testNow.Add(authSecs(2591999)), RefreshExpiry: testNow.Add(authSecs(86399))},
		},
		{
			name: "string expires_in",
			body: `{"access_token":"A","expires_in":"2591999","refresh_token_expires_in":"86399","session_id":"S"}`,
			want: &Token{Kind: KindCustomer, AccessToken: "A", SessionID: "S",
				Expiry: testNow.Add(authSecs(2591999)), RefreshExpiry: testNow.Add(authSecs(86399))},
		},
		{
			name: "deprecated camelCase only",
			body: `{"accessToken":"CAMEL-A","expiresIn":2591999,"refreshToken":"CAMEL-R","refreshTokenExpiresIn":86399,"saasToken":"CAMEL-SAAS","token_type":"Bearer"}`,
			want: &Token{Kind: KindCustomer, AccessToken: "CAMEL-A", TokenType: "Bearer", RefreshToken: "CAMEL-R",
				SaasToken: "CAMEL-SAAS", SessionID: testSessionID, // from the anonymous token
				Expiry: testNow.Add(authSecs(2591999)), RefreshExpiry: testNow.Add(authSecs(86399))},
		},
		{
			name: "both spellings: snake_case wins",
			body: `{"access_token":"SNAKE-A","accessToken":"CAMEL-A","expires_in":2591999,"expiresIn":1,
				"refresh_token":"SNAKE-R","refreshToken":"CAMEL-R","saas_token":"SNAKE-SAAS","saasToken":"CAMEL-SAAS","session_id":"S"}`,
			want: &Token{Kind: KindCustomer, AccessToken: "SNAKE-A", RefreshToken: "SNAKE-R", SaasToken: "SNAKE-SAAS",
				SessionID: "S", Expiry: testNow.Add(authSecs(2591999))},
		},
		{
			name: "initialPassword boolean true",
			body: `{"access_token":"A","initialPassword":true}`,
			want: &Token{Kind: KindCustomer, AccessToken: "A", SessionID: testSessionID, InitialPassword: true},
		},
		{
			name: "initialPassword string true (the spec's type)",
			body: `{"access_token":"A","initialPassword":"true"}`,
			want: &Token{Kind: KindCustomer, AccessToken: "A", SessionID: testSessionID, InitialPassword: true},
		},
		{
			name: "initialPassword string false",
			body: `{"access_token":"A","initialPassword":"false"}`,
			want: &Token{Kind: KindCustomer, AccessToken: "A", SessionID: testSessionID},
		},
		{
			name: "initialPassword null",
			body: `{"access_token":"A","initialPassword":null}`,
			want: &Token{Kind: KindCustomer, AccessToken: "A", SessionID: testSessionID},
		},
		{
			name: "sessionId in camelCase",
			body: `{"access_token":"A","sessionId":"camel-session"}`,
			want: &Token{Kind: KindCustomer, AccessToken: "A", SessionID: "camel-session"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, mt := newTestClient(t)
			authServeRaw(t, mt, "POST", "/customer/mytenant/login", 200, tt.body)
			tok, err := c.Auth.Login(authBG, &LoginRequest{Email: "customer@customer.com", Password: "password123"})
			require.NoError(t, err)
			// Lifetimes the answer leaves out are the documented ones.
			if tt.want.Expiry.IsZero() {
				tt.want.Expiry = testNow.Add(DefaultCustomerAccessLifetime)
			}
			if tt.want.RefreshToken != "" && tt.want.RefreshExpiry.IsZero() {
				tt.want.RefreshExpiry = testNow.Add(DefaultCustomerRefreshLifetime)
			}
			authAssertToken(t, tt.want, tok)
		})
	}
}

func TestLogin_UndecodableQuirkIsAnInvalidResponse(t *testing.T) {
	t.Parallel()
	for _, body := range []string{
		`{"access_token":"A","initialPassword":"sometimes"}`,
	} {
		t.Run(body, func(t *testing.T) {
			c, mt := newTestClient(t)
			authServeRaw(t, mt, "POST", "/customer/mytenant/login", 200, body)
			tok, err := c.Auth.Login(authBG, &LoginRequest{Email: "customer@customer.com", Password: "password123"})
			assert.Nil(t, tok)
			re := requireResponseError(t, err, 200)
			assert.Equal(t, "malformed token response", re.Reason)
			assert.Error(t, re.Err)
			assert.NotContains(t, err.Error(), "sometimes")
			assert.NotContains(t, err.Error(), "thirty")
		})
	}
}

func TestLogin_UnreadableLifetimeIsTheDocumentedOne(t *testing.T) {
	t.Parallel()
	for _, body := range []string{
		`{"access_token":"A","expires_in":"thirty days","refresh_token":"R","refresh_token_expires_in":true}`,
		`{"access_token":"A","expires_in":true,"refresh_token":"R","refresh_token_expires_in":[1]}`,
	} {
		t.Run(body, func(t *testing.T) {
			c, mt := newTestClient(t)
			authServeRaw(t, mt, "POST", "/customer/mytenant/login", 200, body)
			tok, err := c.Auth.Login(authBG, &LoginRequest{Email: "customer@customer.com", Password: "password123"})
			require.NoError(t, err, "an unreadable lifetime must not cost the shopper the login")
			assert.Equal(t, testNow.Add(DefaultCustomerAccessLifetime), tok.Expiry)
			assert.Equal(t, testNow.Add(DefaultCustomerRefreshLifetime), tok.RefreshExpiry)
		})
	}
}

func TestAnonymousLogin_StringAndFloatLifetimes(t *testing.T) {
	t.Parallel()
	c, mt := newTestClient(t)
	authServeRaw(t, mt, "GET", "/customerlogin/auth/anonymous/login", 200,
		`{"access_token":"A","expires_in":"3599","refresh_token":"R","refresh_token_expires_in":86399.0,"sessionId":"S"}`)
	tok, err := c.Auth.AnonymousLogin(authBG, nil)
	require.NoError(t, err)
	assert.Equal(t, testNow.Add(authSecs(3599)), tok.Expiry)
	assert.Equal(t, testNow.Add(authSecs(86399)), tok.RefreshExpiry)
	assert.Equal(t, "S", tok.SessionID)
}
