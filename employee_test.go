package emporix

import (
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const (
	authServiceClientID = "SERVICE-CLIENT-ID"
	authServiceSecret   = "SERVICE-CLIENT-s3cr3t"
	authServiceAccess   = "vkFuQ6oTwj8_Ye4eiRSsqMeqLYNeQRJi"
)

// authServiceTokenResponse is the OAuth service's AccessToken example.
const authServiceTokenResponse = `{
  "refresh_token_expires_in": 0,
  "refresh_token": "",
  "session_idle_time": 120,
  "token_type": "Bearer",
  "access_token": "` + authServiceAccess + `",
  "expires_in": 14399,
  "scope": "tenant=mytenant customer.customer_manage"
}`

func authServiceToken() *Token {
	return &Token{Kind: KindService, AccessToken: authServiceAccess, TokenType: "Bearer", Expiry: testNow.Add(authSecs(14399))}
}

// ---------------------------------------------------------------------------
// ServiceToken
// ---------------------------------------------------------------------------

func TestServiceToken_FormRequestAndToken(t *testing.T) {
	t.Parallel()
	c, mt := newTestClient(t)
	sent := serve(t, mt, "POST", "/oauth/token", jsonReply(200, authServiceTokenResponse))

	tok, err := c.Employee.ServiceToken(authBG, &ServiceCredentials{
		ClientID: authServiceClientID, ClientSecret: authServiceSecret, Scope: "tenant=mytenant customer.customer_manage",
	})
	require.NoError(t, err)
	authAssertToken(t, &Token{
		Kind:            KindService,
		AccessToken:     authServiceAccess,
		TokenType:       "Bearer",
		Scope:           "tenant=mytenant customer.customer_manage",
		Expiry:          testNow.Add(authSecs(14399)),
		SessionIdleTime: 120 * time.Second,
		// refresh_token "" with a zero lifetime: no refresh token and no
		// refresh expiry (not testNow).
	}, tok)
	assert.True(t, tok.RefreshExpiredAt(testNow), "a service token cannot be refreshed")

	r := only(t, sent)
	assert.Equal(t, "POST", r.Method)
	assert.Equal(t, "/oauth/token", pathOf(r), "the OAuth service is not below the tenant")
	assert.Empty(t, r.URL.Query(), "credentials travel in the body, never in the URL")
	assert.Empty(t, r.Header.Values("Authorization"), "the client's shopper tokens are not sent")
	assert.Equal(t, "application/x-www-form-urlencoded", r.Header.Get("Content-Type"))
	form, err := url.ParseQuery(bodyOf(t, r))
	require.NoError(t, err)
	assert.Equal(t, url.Values{
		"grant_type":    {"client_credentials"},
		"client_id":     {authServiceClientID},
		"client_secret": {authServiceSecret},
		"scope":         {"tenant=mytenant customer.customer_manage"},
	}, form)
}

func TestServiceToken_WithoutScope(t *testing.T) {
	t.Parallel()
	c, mt := newTestClient(t, WithTokenSource(nil))
	sent := serve(t, mt, "POST", "/oauth/token", jsonReply(200, authServiceTokenResponse))
	_, err := c.Employee.ServiceToken(authBG, &ServiceCredentials{ClientID: authServiceClientID, ClientSecret: "s3cr3t&x=1 +"})
	require.NoError(t, err)
	r := only(t, sent)
	form, err := url.ParseQuery(bodyOf(t, r))
	require.NoError(t, err)
	assert.Equal(t, url.Values{
		"grant_type":    {"client_credentials"},
		"client_id":     {authServiceClientID},
		"client_secret": {"s3cr3t&x=1 +"},
	}, form, "special characters are form-encoded")
}

func TestServiceToken_RefreshTokenIsKeptWhenGiven(t *testing.T) {
	t.Parallel()
	c, mt := newTestClient(t)
	serve(t, mt, "POST", "/oauth/token",
		jsonReply(200, `{"access_token":"A","token_type":"Bearer","expires_in":14399,"refresh_token":"R","refresh_token_expires_in":600}`))
	tok, err := c.Employee.ServiceToken(authBG, &ServiceCredentials{ClientID: authServiceClientID, ClientSecret: authServiceSecret})
	require.NoError(t, err)
	assert.Equal(t, "R", string(tok.RefreshToken))
	assert.Equal(t, testNow.Add(10*time.Minute), tok.RefreshExpiry)
}

func TestServiceToken_Validation(t *testing.T) {
	t.Parallel()
	runInvalid(t, func(c *Client, in *ServiceCredentials) (any, error) { return c.Employee.ServiceToken(authBG, in) }, []invalidCase[*ServiceCredentials]{
		{"nil credentials", nil, "ServiceCredentials"},
		{"no client ID", &ServiceCredentials{ClientSecret: authServiceSecret}, "ServiceCredentials.ClientID"},
		{"no secret", &ServiceCredentials{ClientID: authServiceClientID}, "ServiceCredentials.ClientSecret"},
	}, authServiceSecret)
}

func TestServiceToken_ErrorResponses(t *testing.T) {
	t.Parallel()
	// The OAuth spec documents no errors; the gateway answers bad
	// credentials with its fault shape.
	t.Run("200 without access_token", func(t *testing.T) {
		c, mt := newTestClient(t)
		authServeRaw(t, mt, "POST", "/oauth/token", 200, `{"token_type":"Bearer","expires_in":14399,"refresh_token":""}`)
		tok, err := c.Employee.ServiceToken(authBG, &ServiceCredentials{ClientID: authServiceClientID, ClientSecret: authServiceSecret})
		assert.Nil(t, tok)
		re := requireResponseError(t, err, 200)
		assert.Equal(t, "token response without access_token", re.Reason)
		assert.Equal(t, "/oauth/token", re.Path)
	})
	t.Run("malformed JSON", func(t *testing.T) {
		c, mt := newTestClient(t)
		authServeRaw(t, mt, "POST", "/oauth/token", 200, `{"access_token":"`+authServiceAccess)
		_, err := c.Employee.ServiceToken(authBG, &ServiceCredentials{ClientID: authServiceClientID, ClientSecret: authServiceSecret})
		re := requireResponseError(t, err, 200)
		assert.Equal(t, "malformed token response", re.Reason)
		assert.NotContains(t, err.Error(), authServiceAccess)
	})
}

// ---------------------------------------------------------------------------
// ActivateCustomer
// ---------------------------------------------------------------------------

func TestActivateCustomer_Request(t *testing.T) {
	t.Parallel()
	c, mt := newTestClient(t)
	sent := serve(t, mt, "PATCH", "/customer/mytenant/customers/13730481", reply{status: 200})

	require.NoError(t, c.Employee.ActivateCustomer(authBG, authServiceToken(), "13730481"))

	// The service token, never the client's shopper tokens.
	assertRequest(t, only(t, sent), wantRequest{method: "PATCH", path: "/customer/mytenant/customers/13730481", auth: bearer(authServiceAccess),
		contentType: "application/json", body: `{"active":true,"onHold":false}`})
}

func TestActivateCustomer_TokenVariants(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		tok  *Token
		want string
	}{
		{"unspecified kind (raw token)", &Token{AccessToken: "RAW-SERVICE"}, "Bearer RAW-SERVICE"},
		{"lowercase token type", &Token{Kind: KindService, AccessToken: "LOWER", TokenType: "bearer"}, "Bearer LOWER"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// A client without any token source: the token is explicit.
			c, mt := newTestClient(t, WithTokenSource(nil))
			sent := serve(t, mt, "PATCH", "/customer/mytenant/customers/C001", reply{status: 200})
			require.NoError(t, c.Employee.ActivateCustomer(authBG, tt.tok, "C001"))
			assert.Equal(t, tt.want, only(t, sent).Header.Get("Authorization"))
		})
	}
}

func TestActivateCustomer_CustomerNumberIsPathEscaped(t *testing.T) {
	t.Parallel()
	c, mt := newTestClient(t)
	sent := serve(t, mt, "PATCH", "/customer/mytenant/customers/C%20001%2F2", reply{status: 200})
	require.NoError(t, c.Employee.ActivateCustomer(authBG, authServiceToken(), "C 001/2"))
	assert.Equal(t, "/customer/mytenant/customers/C%20001%2F2", pathOf(only(t, sent)))
}

func TestActivateCustomer_Validation(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		tok    *Token
		number string
		field  string
	}{
		{"nil token", nil, "13730481", "serviceToken"},
		{"token without access token", &Token{Kind: KindService}, "13730481", "serviceToken"},
		{"anonymous token", anonToken(), "13730481", "serviceToken"},
		{"customer token", custToken(), "13730481", "serviceToken"},
		{"empty customer number", authServiceToken(), "", "customerNumber"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, mt := newTestClient(t)
			err := c.Employee.ActivateCustomer(authBG, tt.tok, tt.number)
			requireInvalid(t, err, tt.field)
			assertNoSecrets(t, err.Error(), authServiceAccess)
			requireNoRequests(t, mt)
		})
	}
}

func TestActivateCustomer_ExpiredTokenIsNotSwappedOnRetry(t *testing.T) {
	t.Parallel()
	// A 503 with Retry-After is retried; the explicit service token is
	// sent again, not replaced by the client's token source.
	c, mt := newTestClient(t)
	sent := serve(t, mt, "PATCH", "/customer/mytenant/customers/C001",
		reply{status: 503, body: `{"status":503,"message":"maintenance"}`, header: map[string][]string{"Retry-After": {"0"}}},
		reply{status: 200})
	require.NoError(t, c.Employee.ActivateCustomer(authBG, authServiceToken(), "C001"))
	all := sent()
	require.Len(t, all, 2)
	for _, r := range all {
		assert.Equal(t, bearer(authServiceAccess), r.Header.Get("Authorization"))
		assert.JSONEq(t, `{"active":true,"onHold":false}`, bodyOf(t, r), "the body is resent intact")
	}
}
