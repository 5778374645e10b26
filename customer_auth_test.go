package emporix

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// ---------------------------------------------------------------------------
// Helpers shared by anonymous_test.go, customer_auth_test.go, employee_test.go
// and token_wire_test.go. They carry an "auth" prefix so they cannot clash
// with helpers other test files define.
// ---------------------------------------------------------------------------

// authServeRaw answers method+path with one fixed response that deliberately
// departs from the spec (a quirk, a broken body, a proxy page). The request
// is still checked against the spec; the response is exempt.
func authServeRaw(t *testing.T, mt *httpmock.MockTransport, method, path string, status int, body string) (sent func() []*http.Request) {
	t.Helper()
	allowOffSpecResponses(t, "scripted off-spec response: a quirk or failure the SDK must survive")
	r := reply{status: status, body: body}
	if strings.HasPrefix(strings.TrimSpace(body), "<") {
		r.header = http.Header{"Content-Type": {"text/html; charset=utf-8"}}
	}
	return serve(t, mt, method, path, r)
}

// authAssertToken compares every field of a token one by one, so a failure
// shows the raw values rather than the redacted String form.
func authAssertToken(t *testing.T, want, got *Token) {
	t.Helper()
	require.NotNil(t, got)
	assert.Equal(t, want.Kind, got.Kind, "Kind")
	assert.Equal(t, want.AccessToken, got.AccessToken, "AccessToken")
	assert.Equal(t, want.TokenType, got.TokenType, "TokenType")
	assert.Equal(t, want.RefreshToken, got.RefreshToken, "RefreshToken")
	assert.Equal(t, want.SaasToken, got.SaasToken, "SaasToken")
	assert.Equal(t, want.SessionID, got.SessionID, "SessionID")
	assert.Equal(t, want.Scope, got.Scope, "Scope")
	assert.Equal(t, want.LegalEntityID, got.LegalEntityID, "LegalEntityID")
	assert.True(t, want.Expiry.Equal(got.Expiry), "Expiry: want %v, got %v", want.Expiry, got.Expiry)
	assert.True(t, want.RefreshExpiry.Equal(got.RefreshExpiry), "RefreshExpiry: want %v, got %v", want.RefreshExpiry, got.RefreshExpiry)
	assert.Equal(t, want.SessionIdleTime, got.SessionIdleTime, "SessionIdleTime")
	assert.Equal(t, want.InitialPassword, got.InitialPassword, "InitialPassword")
	assert.Equal(t, want.SocialAccessToken, got.SocialAccessToken, "SocialAccessToken")
	assert.Equal(t, want.SocialIDToken, got.SocialIDToken, "SocialIDToken")
}

// authSecs is a lifetime in seconds, for expected expiries.
func authSecs(n int) time.Duration { return time.Duration(n) * time.Second }

var authBG = context.Background()

// ---------------------------------------------------------------------------
// Signup
// ---------------------------------------------------------------------------

// authSignupExample is the spec's "Create account" request example (the empty
// strings are omitted: the SDK's omitempty drops them).
func authSignupExample() *SignupRequest {
	return &SignupRequest{
		Email:    "example@customer.com",
		Password: "password123",
		CustomerDetails: &CustomerDetails{
			Title: "MR", FirstName: "John", LastName: "Doe",
			ContactEmail: "example@customer.com", ContactPhone: "123456789", Company: "Emporix",
			PreferredLanguage: "en_US", PreferredCurrency: "EUR", PreferredSite: "main",
			B2B: &B2BCreate{CompanyRegistrationID: "123-456-789"},
		},
		CustomerAddress: &Address{
			ContactName: "John Doe", CompanyName: "Emporix", Street: "Platz der Republik", StreetNumber: "1",
			ZipCode: "11011", City: "Berlin", Country: "DE", State: "Berlin", ContactPhone: "123456789",
			Tags: []string{"BILLING", "SHIPPING"},
		},
	}
}

const authSignupExampleJSON = `{
  "email": "example@customer.com",
  "password": "password123",
  "customerDetails": {
    "title": "MR", "firstName": "John", "lastName": "Doe",
    "contactEmail": "example@customer.com", "contactPhone": "123456789", "company": "Emporix",
    "preferredLanguage": "en_US", "preferredCurrency": "EUR", "preferredSite": "main",
    "b2b": {"companyRegistrationId": "123-456-789"}
  },
  "customerAddress": {
    "contactName": "John Doe", "companyName": "Emporix", "street": "Platz der Republik", "streetNumber": "1",
    "zipCode": "11011", "city": "Berlin", "country": "DE", "state": "Berlin", "contactPhone": "123456789",
    "tags": ["BILLING", "SHIPPING"]
  }
}`

func TestSignup_SendsFullRequestAndReturnsCustomerNumber(t *testing.T) {
	t.Parallel()
	c, mt := newTestClient(t)
	sent := serve(t, mt, "POST", "/customer/mytenant/signup", jsonReply(201, `{"id":"13730481"}`))

	id, err := c.Auth.Signup(authBG, authSignupExample())
	require.NoError(t, err)
	assert.Equal(t, "13730481", id)

	// Sign-up is authorized with the anonymous token.
	assertRequest(t, only(t, sent), wantRequest{method: "POST", path: "/customer/mytenant/signup", auth: bearer(anonAccess),
		contentType: "application/json", body: authSignupExampleJSON})
}

func TestSignup_MinimalAndSeparateCredentials(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		req  *SignupRequest
		want string
	}{
		{
			name: "email and password only",
			req:  &SignupRequest{Email: "example@customer.com", Password: "password123"},
			want: `{"email":"example@customer.com","password":"password123"}`,
		},
		{
			name: "separate sign-up credentials",
			req: &SignupRequest{
				Email: "example@customer.com", Password: "password123",
				CustomerDetails: &CustomerDetails{FirstName: "Jane", LastName: "Doe", ContactEmail: "example@customer.com"},
				Signup:          &LoginRequest{Email: "signup-example@customer.com", Password: "password1234"},
			},
			want: `{"email":"example@customer.com","password":"password123",
				"customerDetails":{"firstName":"Jane","lastName":"Doe","contactEmail":"example@customer.com"},
				"signup":{"email":"signup-example@customer.com","password":"password1234"}}`,
		},
		{
			name: "details without contact e-mail and a lowercase currency",
			req: &SignupRequest{Email: "example@customer.com", Password: "p",
				CustomerDetails: &CustomerDetails{PreferredCurrency: "eur"}},
			want: `{"email":"example@customer.com","password":"p","customerDetails":{"preferredCurrency":"eur"}}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, mt := newTestClient(t)
			sent := serve(t, mt, "POST", "/customer/mytenant/signup", jsonReply(201, `{"id":"C0042"}`))
			id, err := c.Auth.Signup(authBG, tt.req)
			require.NoError(t, err)
			assert.Equal(t, "C0042", id)
			assertRequest(t, only(t, sent), wantRequest{method: "POST", path: "/customer/mytenant/signup", auth: bearer(anonAccess),
				contentType: "application/json", body: tt.want})
		})
	}
}

func TestSignup_Validation(t *testing.T) {
	t.Parallel()
	runInvalid(t, func(c *Client, in *SignupRequest) (any, error) { return c.Auth.Signup(authBG, in) }, []invalidCase[*SignupRequest]{
		{"nil request", nil, "SignupRequest"},
		{"empty email", &SignupRequest{Password: "password123"}, "SignupRequest.Email"},
		{"blank email", &SignupRequest{Email: "  ", Password: "password123"}, "SignupRequest.Email"},
		{"empty password", &SignupRequest{Email: "a@b.c"}, "SignupRequest.Password"},
		{"contact e-mail differs", &SignupRequest{Email: "a@b.c", Password: "password123",
			CustomerDetails: &CustomerDetails{ContactEmail: "other@b.c"}}, "SignupRequest.CustomerDetails.ContactEmail"},
		{"bad preferred currency", &SignupRequest{Email: "a@b.c", Password: "password123",
			CustomerDetails: &CustomerDetails{PreferredCurrency: "EURO"}}, "SignupRequest.CustomerDetails.PreferredCurrency"},
		{"B2B without first name", &SignupRequest{Email: "a@b.c", Password: "password123",
			CustomerDetails: &CustomerDetails{LastName: "Doe", Company: "Emporix", B2B: &B2BCreate{CompanyRegistrationID: "123"}}},
			"SignupRequest.CustomerDetails.FirstName"},
		{"B2B without last name", &SignupRequest{Email: "a@b.c", Password: "password123",
			CustomerDetails: &CustomerDetails{FirstName: "John", Company: "Emporix", B2B: &B2BCreate{CompanyRegistrationID: "123"}}},
			"SignupRequest.CustomerDetails.LastName"},
		{"B2B without company", &SignupRequest{Email: "a@b.c", Password: "password123",
			CustomerDetails: &CustomerDetails{FirstName: "John", LastName: "Doe", B2B: &B2BCreate{CompanyRegistrationID: "123"}}},
			"SignupRequest.CustomerDetails.Company"},
		{"address without contact name", &SignupRequest{Email: "a@b.c", Password: "password123",
			CustomerAddress: &Address{Street: "Platz der Republik", Country: "DE"}}, "SignupRequest.CustomerAddress.ContactName"},
		{"address with blank contact name", &SignupRequest{Email: "a@b.c", Password: "password123",
			CustomerAddress: &Address{ContactName: " ", Country: "DE"}}, "SignupRequest.CustomerAddress.ContactName"},
		{"address with 3-letter country", &SignupRequest{Email: "a@b.c", Password: "password123",
			CustomerAddress: &Address{ContactName: "John Doe", Country: "DEU"}}, "SignupRequest.CustomerAddress.Country"},
		{"separate credentials without e-mail", &SignupRequest{Email: "a@b.c", Password: "password123",
			Signup: &LoginRequest{Password: "password1234"}}, "SignupRequest.Signup.Email"},
		{"separate credentials with short password", &SignupRequest{Email: "a@b.c", Password: "password123",
			Signup: &LoginRequest{Email: "s@b.c", Password: "12345"}}, "SignupRequest.Signup.Password"},
	})
}

func TestSignup_B2BWithAllNamesIsAccepted(t *testing.T) {
	t.Parallel()
	c, mt := newTestClient(t)
	serve(t, mt, "POST", "/customer/mytenant/signup", jsonReply(201, `{"id":"13730481"}`))
	_, err := c.Auth.Signup(authBG, &SignupRequest{Email: "a@b.c", Password: "x",
		CustomerDetails: &CustomerDetails{FirstName: "John", LastName: "Doe", Company: "Emporix",
			B2B: &B2BCreate{CompanyRegistrationID: "123-456-789"}},
		CustomerAddress: &Address{ContactName: "John Doe"}})
	require.NoError(t, err)
	assert.Equal(t, 1, calls(mt, "POST", "/customer/mytenant/signup"))
}

func TestSignup_UnusableSuccess(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, body string
		status     int
	}{
		{"no id", `{}`, 201},
		{"empty id", `{"id":""}`, 201},
		{"no id on a 200", `{"customerNumber":"1"}`, 200},
		{"empty body", ``, 201},
		{"malformed JSON", `{"id":`, 201},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, mt := newTestClient(t)
			authServeRaw(t, mt, "POST", "/customer/mytenant/signup", tt.status, tt.body)
			id, err := c.Auth.Signup(authBG, &SignupRequest{Email: "a@b.c", Password: secretPassword})
			assert.Empty(t, id)
			re := requireResponseError(t, err, tt.status)
			assert.Equal(t, "POST", re.Method)
			assert.Equal(t, "/customer/mytenant/signup", re.Path)
			assertNoSecrets(t, err.Error())
		})
	}
}

// ---------------------------------------------------------------------------
// Login
// ---------------------------------------------------------------------------

const authLoginResponse = `{
  "access_token": "aYR3Lu3rpsQ9ODhBIR83b3txTr5K",
  "saas_token": "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMzg2OTAwMCIsImV4cCI6MTY0MDQ0NDAzMn0.lvxFOeCOk-DWi3kqwJwR8eKal3ON2rr53e9I6Pha5rI",
  "expires_in": 2591999,
  "refresh_token": "94tKQ2Tsvlf9dYbmyccA7X1Rqe54B6dH",
  "refresh_token_expires_in": 86399,
  "token_type": "Bearer",
  "session_id": "45c9726e-77c8-4bd0-b29d-61ab56f59726",
  "initialPassword": false
}`

func authLoginToken() *Token {
	return &Token{
		Kind:          KindCustomer,
		AccessToken:   "aYR3Lu3rpsQ9ODhBIR83b3txTr5K",
		TokenType:     "Bearer",
		RefreshToken:  "94tKQ2Tsvlf9dYbmyccA7X1Rqe54B6dH",
		SaasToken:     "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMzg2OTAwMCIsImV4cCI6MTY0MDQ0NDAzMn0.lvxFOeCOk-DWi3kqwJwR8eKal3ON2rr53e9I6Pha5rI",
		SessionID:     "45c9726e-77c8-4bd0-b29d-61ab56f59726",
		Expiry:        testNow.Add(authSecs(2591999)),
		RefreshExpiry: testNow.Add(authSecs(86399)),
	}
}

func TestLogin_RequestAndToken(t *testing.T) {
	t.Parallel()
	c, mt := newTestClient(t)
	sent := serve(t, mt, "POST", "/customer/mytenant/login", jsonReply(200, authLoginResponse))

	tok, err := c.Auth.Login(authBG, &LoginRequest{Email: "customer@customer.com", Password: "password123"})
	require.NoError(t, err)
	authAssertToken(t, authLoginToken(), tok)
	assert.False(t, tok.ExpiredAt(testNow))
	assert.True(t, tok.ExpiredAt(testNow.Add(authSecs(2591999))))

	// Login is authorized with the anonymous token even when a customer token is present.
	assertRequest(t, only(t, sent), wantRequest{method: "POST", path: "/customer/mytenant/login", auth: bearer(anonAccess),
		contentType: "application/json", body: `{"email":"customer@customer.com","password":"password123"}`})
}

func TestLogin_SessionIDFromAnonymousTokenWhenResponseHasNone(t *testing.T) {
	t.Parallel()
	c, mt := newTestClient(t)
	serve(t, mt, "POST", "/customer/mytenant/login",
		jsonReply(200, `{"access_token":"aYR3Lu3rpsQ9ODhBIR83b3txTr5K","expires_in":2591999,"token_type":"Bearer"}`))
	tok, err := c.Auth.Login(authBG, &LoginRequest{Email: "customer@customer.com", Password: "password123"})
	require.NoError(t, err)
	assert.Equal(t, testSessionID, tok.SessionID)
	assert.Empty(t, tok.RefreshToken)
	assert.True(t, tok.RefreshExpiry.IsZero(), "no refresh lifetime, no refresh expiry")
}

func TestLogin_WorksWithAnonymousOnlySourceAndPlainSource(t *testing.T) {
	t.Parallel()
	// A source that is not an AnonymousTokenSource but returns an
	// anonymous (or unspecified) token is used as is.
	for _, kind := range []TokenKind{KindAnonymous, KindUnspecified} {
		t.Run(kind.String(), func(t *testing.T) {
			c, mt := newTestClient(t)
			src := TokenSourceFunc(func(context.Context) (*Token, error) {
				return &Token{Kind: kind, AccessToken: "PLAIN-ANON", SessionID: "sess-plain"}, nil
			})
			sent := serve(t, mt, "POST", "/customer/mytenant/login", jsonReply(200, `{"access_token":"new"}`))
			tok, err := c.WithTokenSource(src).Auth.Login(authBG, &LoginRequest{Email: "a@b.c", Password: "password123"})
			require.NoError(t, err)
			assert.Equal(t, "sess-plain", tok.SessionID)
			assert.Equal(t, bearer("PLAIN-ANON"), only(t, sent).Header.Get("Authorization"))
		})
	}
}

func TestLogin_Validation(t *testing.T) {
	t.Parallel()
	runInvalid(t, func(c *Client, in *LoginRequest) (any, error) { return c.Auth.Login(authBG, in) }, []invalidCase[*LoginRequest]{
		{"nil request", nil, "LoginRequest"},
		{"empty email", &LoginRequest{Password: "password123"}, "LoginRequest.Email"},
		{"blank email", &LoginRequest{Email: "\t", Password: "password123"}, "LoginRequest.Email"},
		{"empty password", &LoginRequest{Email: "a@b.c"}, "LoginRequest.Password"},
		{"5-character password", &LoginRequest{Email: "a@b.c", Password: "12345"}, "LoginRequest.Password"},
		{"3 runes in 6 bytes", &LoginRequest{Email: "a@b.c", Password: "äöü"}, "LoginRequest.Password"},
	}, "password123", "12345", "äöü")
}

func TestLogin_MinimumPasswordLengthIsSix(t *testing.T) {
	t.Parallel()
	for _, pw := range []string{"123456", "ääääää"} {
		c, mt := newTestClient(t)
		sent := serve(t, mt, "POST", "/customer/mytenant/login", jsonReply(200, `{"access_token":"x"}`))
		_, err := c.Auth.Login(authBG, &LoginRequest{Email: "a@b.c", Password: Secret(pw)})
		require.NoError(t, err, pw)
		assertRequest(t, only(t, sent), wantRequest{method: "POST", path: "/customer/mytenant/login", auth: bearer(anonAccess),
			contentType: "application/json", body: `{"email":"a@b.c","password":"` + pw + `"}`})
	}
}

func TestLogin_UnusableAndProxyResponses(t *testing.T) {
	t.Parallel()
	t.Run("200 without access_token", func(t *testing.T) {
		c, mt := newTestClient(t)
		authServeRaw(t, mt, "POST", "/customer/mytenant/login", 200,
			`{"refresh_token":"94tKQ2Tsvlf9dYbmyccA7X1Rqe54B6dH","expires_in":2591999,"session_id":"s"}`)
		tok, err := c.Auth.Login(authBG, &LoginRequest{Email: "a@b.c", Password: "password123"})
		assert.Nil(t, tok)
		re := requireResponseError(t, err, 200)
		assert.Equal(t, "token response without access_token", re.Reason)
		assert.Equal(t, "/customer/mytenant/login", re.Path)
		assert.NotContains(t, err.Error(), "94tKQ2Tsvlf9dYbmyccA7X1Rqe54B6dH")
	})
	t.Run("malformed JSON", func(t *testing.T) {
		c, mt := newTestClient(t)
		authServeRaw(t, mt, "POST", "/customer/mytenant/login", 200, `{"access_token":"aYR3Lu3rpsQ9ODhBIR83b3txTr5K",`)
		tok, err := c.Auth.Login(authBG, &LoginRequest{Email: "a@b.c", Password: "password123"})
		assert.Nil(t, tok)
		re := requireResponseError(t, err, 200)
		assert.Equal(t, "malformed token response", re.Reason)
		assert.Error(t, re.Err)
		assert.NotContains(t, err.Error(), "aYR3Lu3rpsQ9ODhBIR83b3txTr5K")
	})
}

// ---------------------------------------------------------------------------
// Logout
// ---------------------------------------------------------------------------

func TestLogout_SendsCustomerTokenTwice(t *testing.T) {
	t.Parallel()
	c, mt := newTestClient(t)
	sent := serve(t, mt, "GET", "/customer/mytenant/logout", reply{status: 204})
	require.NoError(t, c.Auth.Logout(authBG))

	assertRequest(t, only(t, sent), wantRequest{method: "GET", path: "/customer/mytenant/logout",
		query: url.Values{"accessToken": {custAccess}}, auth: bearer(custAccess)})
}

func TestLogout_UsesTheSourceTokenOfAPlainSource(t *testing.T) {
	t.Parallel()
	c, mt := newTestClient(t)
	sent := serve(t, mt, "GET", "/customer/mytenant/logout", reply{status: 204})
	require.NoError(t, c.WithToken(&Token{AccessToken: "RAW-COOKIE-TOKEN"}).Auth.Logout(authBG))
	r := only(t, sent)
	assert.Equal(t, url.Values{"accessToken": {"RAW-COOKIE-TOKEN"}}, r.URL.Query())
	assert.Equal(t, bearer("RAW-COOKIE-TOKEN"), r.Header.Get("Authorization"))
}

// ---------------------------------------------------------------------------
// RefreshCustomer
// ---------------------------------------------------------------------------

const authRefreshResponse = `{
  "access_token": "2yXy8H7sByl4JSWrr7GRqxiCRMUm",
  "expires_in": 2591999,
  "refresh_token": "iwXAFjGwboaehJar1qNOkV05phDw1god",
  "refresh_token_expires_in": 86390,
  "token_type": "Bearer",
  "session_id": "45c9726e-77c8-4bd0-b29d-61ab56f59726"
}`

func TestRefreshCustomer_RequestAndToken(t *testing.T) {
	t.Parallel()
	c, mt := newTestClient(t)
	sent := serve(t, mt, "GET", "/customer/mytenant/refreshauthtoken", jsonReply(200, authRefreshResponse))

	cust := custToken()
	before := *cust
	tok, err := c.Auth.RefreshCustomer(authBG, cust, nil)
	require.NoError(t, err)
	authAssertToken(t, &Token{
		Kind:          KindCustomer,
		AccessToken:   "2yXy8H7sByl4JSWrr7GRqxiCRMUm",
		TokenType:     "Bearer",
		RefreshToken:  "iwXAFjGwboaehJar1qNOkV05phDw1god",
		SaasToken:     custSaas, // carried forward: the refresh response has none
		SessionID:     "45c9726e-77c8-4bd0-b29d-61ab56f59726",
		Expiry:        testNow.Add(authSecs(2591999)),
		RefreshExpiry: testNow.Add(authSecs(86390)),
	}, tok)
	assert.Equal(t, before, *cust, "the input token is not modified")

	// camelCase refreshToken and nothing else; authorized with the anonymous token.
	assertRequest(t, only(t, sent), wantRequest{method: "GET", path: "/customer/mytenant/refreshauthtoken",
		query: url.Values{"refreshToken": {custRefresh}}, auth: bearer(anonAccess)})
}

func TestRefreshCustomer_LegalEntity(t *testing.T) {
	t.Parallel()
	t.Run("given: sent", func(t *testing.T) {
		c, mt := newTestClient(t)
		sent := serve(t, mt, "GET", "/customer/mytenant/refreshauthtoken", jsonReply(200, authRefreshResponse))
		tok, err := c.Auth.RefreshCustomer(authBG, custToken(), &RefreshOptions{LegalEntityID: "53ac81fd0cce8b26b36f3492"})
		require.NoError(t, err)
		assert.Equal(t, "53ac81fd0cce8b26b36f3492", tok.LegalEntityID)
		assert.Equal(t, url.Values{"refreshToken": {custRefresh}, "legalEntityId": {"53ac81fd0cce8b26b36f3492"}}, only(t, sent).URL.Query())
	})
	t.Run("empty option: not sent", func(t *testing.T) {
		c, mt := newTestClient(t)
		sent := serve(t, mt, "GET", "/customer/mytenant/refreshauthtoken", jsonReply(200, authRefreshResponse))
		tok, err := c.Auth.RefreshCustomer(authBG, custToken(), &RefreshOptions{})
		require.NoError(t, err)
		assert.Empty(t, tok.LegalEntityID)
		assert.Equal(t, url.Values{"refreshToken": {custRefresh}}, only(t, sent).URL.Query())
	})
	t.Run("not given: the token's entity is kept by asking for it", func(t *testing.T) {
		c, mt := newTestClient(t)
		sent := serve(t, mt, "GET", "/customer/mytenant/refreshauthtoken", jsonReply(200, authRefreshResponse))
		cust := custToken()
		cust.LegalEntityID = "LE-1"
		tok, err := c.Auth.RefreshCustomer(authBG, cust, nil)
		require.NoError(t, err)
		assert.Equal(t, "LE-1", tok.LegalEntityID)
		assert.Equal(t, url.Values{"refreshToken": {custRefresh}, "legalEntityId": {"LE-1"}}, only(t, sent).URL.Query(),
			"the spec does not promise a plain refresh keeps the scope, so it is requested explicitly")
	})
	t.Run("leave: not sent, and the new token is unscoped", func(t *testing.T) {
		c, mt := newTestClient(t)
		sent := serve(t, mt, "GET", "/customer/mytenant/refreshauthtoken", jsonReply(200, authRefreshResponse), jsonReply(200, authRefreshResponse))
		cust := custToken()
		cust.LegalEntityID = "LE-1"
		tok, err := c.Auth.RefreshCustomer(authBG, cust, &RefreshOptions{LeaveLegalEntity: true})
		require.NoError(t, err)
		assert.Empty(t, tok.LegalEntityID)
		assert.Equal(t, url.Values{"refreshToken": {custRefresh}}, sent()[0].URL.Query())
		// A plain refresh of the unscoped token sends no scope either.
		again, err := c.Auth.RefreshCustomer(authBG, tok, nil)
		require.NoError(t, err)
		assert.Empty(t, again.LegalEntityID)
		assert.False(t, sent()[1].URL.Query().Has("legalEntityId"))
	})
	t.Run("leave and switch at once: refused before sending", func(t *testing.T) {
		c, mt := newTestClient(t)
		sent := serve(t, mt, "GET", "/customer/mytenant/refreshauthtoken", jsonReply(200, authRefreshResponse))
		_, err := c.Auth.RefreshCustomer(authBG, custToken(), &RefreshOptions{LegalEntityID: "LE-2", LeaveLegalEntity: true})
		requireInvalid(t, err, "RefreshOptions")
		assert.Empty(t, sent())
	})
}

func TestRefreshCustomer_CarryForward(t *testing.T) {
	t.Parallel()
	t.Run("response without refresh token, session or saas token", func(t *testing.T) {
		c, mt := newTestClient(t)
		serve(t, mt, "GET", "/customer/mytenant/refreshauthtoken",
			jsonReply(200, `{"access_token":"2yXy8H7sByl4JSWrr7GRqxiCRMUm","expires_in":2591999,"token_type":"Bearer"}`))
		tok, err := c.Auth.RefreshCustomer(authBG, custToken(), nil)
		require.NoError(t, err)
		assert.Equal(t, "2yXy8H7sByl4JSWrr7GRqxiCRMUm", string(tok.AccessToken))
		assert.Equal(t, custRefresh, string(tok.RefreshToken))
		assert.Equal(t, testNow.Add(24*time.Hour), tok.RefreshExpiry)
		assert.Equal(t, testSessionID, tok.SessionID)
		assert.Equal(t, custSaas, string(tok.SaasToken))
	})
	t.Run("a saas token in the response wins", func(t *testing.T) {
		c, mt := newTestClient(t)
		serve(t, mt, "GET", "/customer/mytenant/refreshauthtoken",
			jsonReply(200, `{"access_token":"a","saas_token":"NEW-SAAS","refresh_token":"r2"}`))
		tok, err := c.Auth.RefreshCustomer(authBG, custToken(), nil)
		require.NoError(t, err)
		assert.Equal(t, "NEW-SAAS", string(tok.SaasToken))
		assert.Equal(t, "r2", string(tok.RefreshToken), "a rotated refresh token replaces the old one")
		assert.Equal(t, testNow.Add(DefaultCustomerRefreshLifetime), tok.RefreshExpiry, "a new refresh token without lifetime lives as documented")
		assert.Equal(t, testNow.Add(DefaultCustomerAccessLifetime), tok.Expiry, "so does an access token")
	})
	t.Run("deprecated camelCase-only response", func(t *testing.T) {
		c, mt := newTestClient(t)
		serve(t, mt, "GET", "/customer/mytenant/refreshauthtoken",
			jsonReply(200, `{"accessToken":"CAMEL-ACCESS","expiresIn":2591999,"refreshToken":"CAMEL-REFRESH","refreshTokenExpiresIn":86390,"token_type":"Bearer"}`))
		tok, err := c.Auth.RefreshCustomer(authBG, custToken(), nil)
		require.NoError(t, err)
		assert.Equal(t, "CAMEL-ACCESS", string(tok.AccessToken))
		assert.Equal(t, "CAMEL-REFRESH", string(tok.RefreshToken))
		assert.Equal(t, testNow.Add(authSecs(2591999)), tok.Expiry)
		assert.Equal(t, testNow.Add(authSecs(86390)), tok.RefreshExpiry)
	})
}

func TestRefreshCustomer_Validation(t *testing.T) {
	t.Parallel()
	runInvalid(t, func(c *Client, in *Token) (any, error) {
		return c.Auth.RefreshCustomer(authBG, in, &RefreshOptions{LegalEntityID: "LE"})
	}, []invalidCase[*Token]{
		{"nil token", nil, "Token.RefreshToken"},
		{"no refresh token", &Token{Kind: KindCustomer, AccessToken: custAccess}, "Token.RefreshToken"},
		{"anonymous token", anonToken(), "Token.Kind"},
		{"service token", &Token{Kind: KindService, AccessToken: "svc", RefreshToken: "SERVICE-REFRESH"}, "Token.Kind"},
	}, "SERVICE-REFRESH")
}

// ---------------------------------------------------------------------------
// Validate
// ---------------------------------------------------------------------------

const authValidateScope = "approval.approval_read_own customermanagement.legalentity_read_own customer.customer_read_own customer.customerprofile_edit tenant=test"

func TestValidate_RequestAndInfo(t *testing.T) {
	t.Parallel()
	c, mt := newTestClient(t)
	sent := serve(t, mt, "GET", "/customer/mytenant/validateauthtoken", jsonReply(200, `{
	  "token_type": "Bearer",
	  "expires_in": 2591974,
	  "scope": "`+authValidateScope+`",
	  "sessionId": "415c340b-5996-4112-bb3b-38139a409f93",
	  "email": "customer@example.com",
	  "legalEntityId": "53ac81fd0cce8b26b36f3492"
	}`))

	info, err := c.Auth.Validate(authBG)
	require.NoError(t, err)
	assert.Equal(t, &TokenInfo{
		TokenType:     "Bearer",
		Scope:         authValidateScope,
		SessionID:     "415c340b-5996-4112-bb3b-38139a409f93",
		Email:         "customer@example.com",
		LegalEntityID: "53ac81fd0cce8b26b36f3492",
		Expiry:        testNow.Add(authSecs(2591974)),
	}, info)

	assertRequest(t, only(t, sent), wantRequest{method: "GET", path: "/customer/mytenant/validateauthtoken", auth: bearer(custAccess)})
}

func TestValidate_SnakeCaseSessionIDAndMissingExpiry(t *testing.T) {
	t.Parallel()
	c, mt := newTestClient(t)
	serve(t, mt, "GET", "/customer/mytenant/validateauthtoken",
		jsonReply(200, `{"token_type":"Bearer","session_id":"snake-session","email":"customer@example.com"}`))
	info, err := c.Auth.Validate(authBG)
	require.NoError(t, err)
	assert.Equal(t, "snake-session", info.SessionID)
	assert.True(t, info.Expiry.IsZero())
}

func TestValidate_Errors(t *testing.T) {
	t.Parallel()
	t.Run("malformed JSON", func(t *testing.T) {
		c, mt := newTestClient(t)
		authServeRaw(t, mt, "GET", "/customer/mytenant/validateauthtoken", 200, `{"token_type":`)
		_, err := c.Auth.Validate(authBG)
		re := requireResponseError(t, err, 200)
		assert.Equal(t, "malformed JSON", re.Reason)
	})
	t.Run("empty body", func(t *testing.T) {
		c, mt := newTestClient(t)
		authServeRaw(t, mt, "GET", "/customer/mytenant/validateauthtoken", 200, "")
		_, err := c.Auth.Validate(authBG)
		re := requireResponseError(t, err, 200)
		assert.Equal(t, "empty body", re.Reason)
	})
}

// ---------------------------------------------------------------------------
// ExchangeToken
// ---------------------------------------------------------------------------

const (
	authExchangeSubject = "eyJhbGciOiJSUzI1NiIsInR5cCIgOiAiSldUIiwia2lkIiA6ICJqTEF2MmJINlhaVHNpZHBEZUNsNjFrNEJWTlREckRHRDV3Um1ETlQxNmpvIn0.SUBJECT"
	authExchangeScope   = "customer.customerprofile_edit approval.approval_manage_own order.history_view coupon.coupon_redeem customer.customerprofile_view tenant=cockpitsdev"
)

const authExchangeResponse = `{
  "subject_access_token": "` + authExchangeSubject + `",
  "access_token": "dEKATUWeewkraTlIzjVZBbGg7BQQ",
  "saas_token": "eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJDMDAzMyJ9.5536UTfZ3KmNPbMDp5ZLRIeYwMV-P1jN5DUT2ZLu2qc",
  "refresh_token": "QtvQi9UAYS9GIbEGu73ERUmfdC569MBE",
  "refresh_token_expires_in": 15551999,
  "session_idle_time": 120,
  "token_type": "Bearer",
  "expires_in": 14399,
  "scope": "` + authExchangeScope + `",
  "session_id": "14ccc133-5731-4d6c-8f38-ca82443e4e4e"
}`

func TestExchangeToken_RequestAndToken(t *testing.T) {
	t.Parallel()
	c, mt := newTestClient(t)
	sent := serve(t, mt, "POST", "/customer/mytenant/exchangeauthtoken", jsonReply(200, authExchangeResponse))

	tok, err := c.Auth.ExchangeToken(authBG, &ExchangeRequest{SubjectAccessToken: authExchangeSubject, Config: "site_PL"})
	require.NoError(t, err)
	authAssertToken(t, &Token{
		Kind:            KindCustomer,
		AccessToken:     "dEKATUWeewkraTlIzjVZBbGg7BQQ",
		TokenType:       "Bearer",
		RefreshToken:    "QtvQi9UAYS9GIbEGu73ERUmfdC569MBE",
		SaasToken:       "eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJDMDAzMyJ9.5536UTfZ3KmNPbMDp5ZLRIeYwMV-P1jN5DUT2ZLu2qc",
		SessionID:       "14ccc133-5731-4d6c-8f38-ca82443e4e4e",
		Scope:           authExchangeScope,
		Expiry:          testNow.Add(authSecs(14399)),
		RefreshExpiry:   testNow.Add(authSecs(15551999)),
		SessionIdleTime: 120 * time.Second,
	}, tok)

	assertRequest(t, only(t, sent), wantRequest{method: "POST", path: "/customer/mytenant/exchangeauthtoken",
		query: url.Values{"subjectAccessToken": {authExchangeSubject}, "config": {"site_PL"}}, auth: bearer(anonAccess)})
}

func TestExchangeToken_WithoutConfig(t *testing.T) {
	t.Parallel()
	c, mt := newTestClient(t)
	sent := serve(t, mt, "POST", "/customer/mytenant/exchangeauthtoken", jsonReply(200, authExchangeResponse))
	_, err := c.Auth.ExchangeToken(authBG, &ExchangeRequest{SubjectAccessToken: authExchangeSubject})
	require.NoError(t, err)
	assert.Equal(t, url.Values{"subjectAccessToken": {authExchangeSubject}}, only(t, sent).URL.Query())
}

func TestExchangeToken_Validation(t *testing.T) {
	t.Parallel()
	runInvalid(t, func(c *Client, in *ExchangeRequest) (any, error) { return c.Auth.ExchangeToken(authBG, in) }, []invalidCase[*ExchangeRequest]{
		{"nil request", nil, "ExchangeRequest"},
		{"no subject token", &ExchangeRequest{Config: "site_PL"}, "ExchangeRequest.SubjectAccessToken"},
	})
}

// ---------------------------------------------------------------------------
// SocialLogin
// ---------------------------------------------------------------------------

// authSocialResponse is the social-login answer: string expiries, no session ID.
const authSocialResponse = `{
  "social_access_token": "SOCIAL-ACCESS-eyJhbGciOiJkaXIi",
  "social_id_token": "SOCIAL-ID-eyJhbGciOiJSUzI1NiJ9",
  "refresh_token": "Pf3N1b1lYfIKg2dfSPXzSvqzpTIPBTrN",
  "refresh_token_expires_in": "86399",
  "session_idle_time": 3600,
  "token_type": "Bearer",
  "access_token": "pRbQ6vNFrSiJG6r2MPPgexb5nTGF",
  "saas_token": "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiI5NzE3MzQ4MCJ9.social",
  "expires_in": "2591999",
  "scope": "customer.customerprofile_edit tenant=mytenant"
}`

func authSocialToken(session string) *Token {
	return &Token{
		Kind:              KindCustomer,
		AccessToken:       "pRbQ6vNFrSiJG6r2MPPgexb5nTGF",
		TokenType:         "Bearer",
		RefreshToken:      "Pf3N1b1lYfIKg2dfSPXzSvqzpTIPBTrN",
		SaasToken:         "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiI5NzE3MzQ4MCJ9.social",
		SessionID:         session,
		Scope:             "customer.customerprofile_edit tenant=mytenant",
		Expiry:            testNow.Add(authSecs(2591999)),
		RefreshExpiry:     testNow.Add(authSecs(86399)),
		SessionIdleTime:   time.Hour,
		SocialAccessToken: "SOCIAL-ACCESS-eyJhbGciOiJkaXIi",
		SocialIDToken:     "SOCIAL-ID-eyJhbGciOiJSUzI1NiJ9",
	}
}

func TestSocialLogin_SessionFromAnonymousToken(t *testing.T) {
	t.Parallel()
	c, mt := newTestClient(t)
	sent := serve(t, mt, "POST", "/customer/mytenant/socialLogin", jsonReply(200, authSocialResponse))

	tok, err := c.Auth.SocialLogin(authBG, &SocialLoginRequest{Code: "AUTH-CODE-123", RedirectURI: "https://shop.example.com/callback"})
	require.NoError(t, err)
	authAssertToken(t, authSocialToken(testSessionID), tok)

	r := only(t, sent)
	assertRequest(t, r, wantRequest{method: "POST", path: "/customer/mytenant/socialLogin",
		query: url.Values{"code": {"AUTH-CODE-123"}, "redirect_uri": {"https://shop.example.com/callback"}}, auth: bearer(anonAccess)})
	assert.Equal(t, []string{testSessionID}, r.Header.Values("session-id"))
}

func TestSocialLogin_ExplicitSessionAndPKCE(t *testing.T) {
	t.Parallel()
	c, mt := newTestClient(t)
	sent := serve(t, mt, "POST", "/customer/mytenant/socialLogin", jsonReply(200, authSocialResponse))

	tok, err := c.Auth.SocialLogin(authBG, &SocialLoginRequest{
		Code: "AUTH-CODE-123", RedirectURI: "https://shop.example.com/callback",
		CodeVerifier: "VERIFIER-dBjftJeZ4CVP", SessionID: "explicit-session",
	})
	require.NoError(t, err)
	assert.Equal(t, "explicit-session", tok.SessionID, "the session that was sent")

	r := only(t, sent)
	assert.Equal(t, url.Values{
		"code": {"AUTH-CODE-123"}, "redirect_uri": {"https://shop.example.com/callback"},
		"code_verifier": {"VERIFIER-dBjftJeZ4CVP"},
	}, r.URL.Query())
	assert.Equal(t, []string{"explicit-session"}, r.Header.Values("session-id"))
}

func TestSocialLogin_NoSessionAnywhere(t *testing.T) {
	t.Parallel()
	c, mt := newTestClient(t)
	anon := anonToken()
	anon.SessionID = ""
	sent := serve(t, mt, "POST", "/customer/mytenant/socialLogin", jsonReply(200, authSocialResponse))
	tok, err := c.WithTokenSource(StaticTokens(anon, nil)).Auth.SocialLogin(authBG,
		&SocialLoginRequest{Code: "c", RedirectURI: "https://shop.example.com/callback"})
	require.NoError(t, err)
	assert.Empty(t, tok.SessionID)
	assert.Empty(t, only(t, sent).Header.Values("session-id"), "no empty session-id header")
}

func TestSocialLogin_SessionIDInResponseWins(t *testing.T) {
	t.Parallel()
	c, mt := newTestClient(t)
	serve(t, mt, "POST", "/customer/mytenant/socialLogin",
		jsonReply(200, `{"access_token":"a","expires_in":"2591999","session_id":"server-session"}`))
	tok, err := c.Auth.SocialLogin(authBG, &SocialLoginRequest{Code: "c", RedirectURI: "https://shop.example.com/callback"})
	require.NoError(t, err)
	assert.Equal(t, "server-session", tok.SessionID)
	assert.Equal(t, testNow.Add(authSecs(2591999)), tok.Expiry)
}

func TestSocialLogin_Validation(t *testing.T) {
	t.Parallel()
	runInvalid(t, func(c *Client, in *SocialLoginRequest) (any, error) { return c.Auth.SocialLogin(authBG, in) }, []invalidCase[*SocialLoginRequest]{
		{"nil request", nil, "SocialLoginRequest"},
		{"no code", &SocialLoginRequest{RedirectURI: "https://shop.example.com/callback"}, "SocialLoginRequest.Code"},
		{"no redirect URI", &SocialLoginRequest{Code: "c"}, "SocialLoginRequest.RedirectURI"},
	})
}

// ---------------------------------------------------------------------------
// ConfirmOptIn
// ---------------------------------------------------------------------------

const authOptInResponse = `{
  "access_token": "HzcnecB5l6STzXhRqU0Zp6hxS0Ay",
  "saas_token": "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiI4NzQxMzI1MCIsImV4cCI6MTYzMjA1NDEzN30.p6g_G5ZbhjlvnObVC2OWGslLWWktxBw8onionfFvm4c",
  "expires_in": 2591999,
  "refresh_token": "tMhLYc8pfAqb1g10Z1o7BxABArxXe3db",
  "refresh_token_expires_in": 86399,
  "token_type": "Bearer"
}`

func TestConfirmOptIn_RequestAndToken(t *testing.T) {
	t.Parallel()
	c, mt := newTestClient(t)
	sent := serve(t, mt, "GET", "/customer/mytenant/signup/optin/OPTIN-TOKEN-abc123", jsonReply(200, authOptInResponse))

	tok, err := c.Auth.ConfirmOptIn(authBG, "OPTIN-TOKEN-abc123")
	require.NoError(t, err)
	authAssertToken(t, &Token{
		Kind:          KindCustomer,
		AccessToken:   "HzcnecB5l6STzXhRqU0Zp6hxS0Ay",
		TokenType:     "Bearer",
		RefreshToken:  "tMhLYc8pfAqb1g10Z1o7BxABArxXe3db",
		SaasToken:     "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiI4NzQxMzI1MCIsImV4cCI6MTYzMjA1NDEzN30.p6g_G5ZbhjlvnObVC2OWGslLWWktxBw8onionfFvm4c",
		SessionID:     testSessionID, // the example has none: the anonymous session carries over
		Expiry:        testNow.Add(authSecs(2591999)),
		RefreshExpiry: testNow.Add(authSecs(86399)),
	}, tok)

	// Authorized with the anonymous token even when a customer token is present.
	assertRequest(t, only(t, sent), wantRequest{method: "GET", path: "/customer/mytenant/signup/optin/OPTIN-TOKEN-abc123", auth: bearer(anonAccess)})
}

func TestConfirmOptIn_TokenIsPathEscaped(t *testing.T) {
	t.Parallel()
	c, mt := newTestClient(t)
	sent := serve(t, mt, "GET", "/customer/mytenant/signup/optin/a%2Fb%20c%3Fd", jsonReply(200, `{"access_token":"x","session_id":"s2"}`))
	tok, err := c.Auth.ConfirmOptIn(authBG, "a/b c?d")
	require.NoError(t, err)
	assert.Equal(t, "s2", tok.SessionID)
	r := only(t, sent)
	assert.Equal(t, "/customer/mytenant/signup/optin/a%2Fb%20c%3Fd", pathOf(r))
	assert.Empty(t, r.URL.Query(), "a ? in the token must not start a query")
}

func TestConfirmOptIn_Validation(t *testing.T) {
	t.Parallel()
	runInvalid(t, func(c *Client, tok string) (any, error) { return c.Auth.ConfirmOptIn(authBG, tok) },
		[]invalidCase[string]{{"empty token", "", "optInToken"}})
}

func TestConfirmOptIn_UnusableResponse(t *testing.T) {
	t.Parallel()
	c, mt := newTestClient(t)
	authServeRaw(t, mt, "GET", "/customer/mytenant/signup/optin/OPTIN-SECRET-42", 200, `{"token_type":"Bearer"}`)
	_, err := c.Auth.ConfirmOptIn(authBG, "OPTIN-SECRET-42")
	re := requireResponseError(t, err, 200)
	assert.Equal(t, "/customer/mytenant/signup/optin/REDACTED", re.Path)
	assert.NotContains(t, err.Error(), "OPTIN-SECRET-42")
}

// ---------------------------------------------------------------------------
// ResendOptIn
// ---------------------------------------------------------------------------

func TestResendOptIn_Request(t *testing.T) {
	t.Parallel()
	c, mt := newTestClient(t)
	sent := serve(t, mt, "POST", "/customer/mytenant/signup/optin/refresh_token", reply{status: 202})
	require.NoError(t, c.Auth.ResendOptIn(authBG, "example@customer.com"))

	assertRequest(t, only(t, sent), wantRequest{method: "POST", path: "/customer/mytenant/signup/optin/refresh_token", auth: bearer(anonAccess),
		contentType: "application/json", body: `{"email":"example@customer.com"}`})
}

func TestResendOptIn_Validation(t *testing.T) {
	t.Parallel()
	runInvalid(t, func(c *Client, email string) (any, error) { return nil, c.Auth.ResendOptIn(authBG, email) },
		[]invalidCase[string]{{"empty email", "", "email"}, {"blank email", "   ", "email"}})
}

// ---------------------------------------------------------------------------
// Authorization preconditions shared by every anonymous- or customer-token
// operation: the wrong kind of token, or none, fails before any request.
// ---------------------------------------------------------------------------

type authOp struct {
	name string
	auth authKind
	call func(ctx context.Context, c *Client) error
}

// authOps are the methods of the operations authorized with the shopper's
// anonymous or the customer token, each called through its case
// (opcases_test.go).
func authOps() []authOp {
	s := newSecretSet("sentinels", "")
	var ops []authOp
	for _, row := range sdkRows() {
		if row.Auth != authAnonymous && row.Auth != authCustomer {
			continue
		}
		for _, m := range opCases[row.ID].methods() {
			ops = append(ops, authOp{m.name, row.Auth, func(ctx context.Context, c *Client) error {
				_, err := m.call(ctx, c, s)
				return err
			}})
		}
	}
	return ops
}

func TestAuthOps_MissingOrWrongTokenSendsNothing(t *testing.T) {
	t.Parallel()
	sourceErr := errors.New("token store unavailable")
	sources := []struct {
		name       string
		src        TokenSource
		wantAnon   error // for operations needing the anonymous token
		wantCustom error // for operations needing the customer token
	}{
		{"no token source", nil, ErrAnonymousTokenRequired, ErrNoToken},
		{"customer token only", StaticTokenSource(custToken()), ErrAnonymousTokenRequired, nil},
		{"customer token only, shopper source", StaticTokens(nil, custToken()), ErrAnonymousTokenRequired, nil},
		{"anonymous token only", StaticTokens(anonToken(), nil), nil, ErrCustomerTokenRequired},
		{"anonymous token only, single source", StaticTokenSource(anonToken()), nil, ErrCustomerTokenRequired},
		{"empty customer token", StaticTokenSource(&Token{Kind: KindCustomer}), ErrAnonymousTokenRequired, ErrNoToken},
		{"empty shopper source", StaticTokens(nil, nil), ErrAnonymousTokenRequired, ErrNoToken},
		{"token without access token", StaticTokenSource(&Token{Kind: KindAnonymous}), ErrAnonymousTokenRequired, ErrNoToken},
		{"source returns nil", TokenSourceFunc(func(context.Context) (*Token, error) { return nil, nil }), ErrAnonymousTokenRequired, ErrNoToken},
		{"source fails", TokenSourceFunc(func(context.Context) (*Token, error) { return nil, sourceErr }), sourceErr, sourceErr},
	}
	for _, s := range sources {
		for _, op := range authOps() {
			want := s.wantAnon
			if op.auth == authCustomer {
				want = s.wantCustom
			}
			if want == nil {
				continue
			}
			t.Run(s.name+"/"+op.name, func(t *testing.T) {
				c, mt := newTestClient(t)
				err := op.call(authBG, c.WithTokenSource(s.src))
				require.ErrorIs(t, err, want)
				for _, other := range []error{ErrInvalidInput, ErrNoToken, ErrAnonymousTokenRequired, ErrCustomerTokenRequired} {
					if other != want {
						assert.NotErrorIs(t, err, other)
					}
				}
				var apiErr *APIError
				assert.False(t, errors.As(err, &apiErr), "no request, so no APIError")
				requireNoRequests(t, mt)
			})
		}
	}
}
