package emporix

import (
	"context"
	"errors"
	"net/http"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// rotatingSource hands out a new customer token on every call, like a
// session renewing during a backoff, and counts invalidations.
type rotatingSource struct {
	n           atomic.Int32
	invalidated atomic.Int32
}

func (r *rotatingSource) Token(context.Context) (*Token, error) {
	return &Token{Kind: KindCustomer, AccessToken: Secret("CUST-" + string(rune('0'+r.n.Add(1))))}, nil
}

func (r *rotatingSource) AnonymousToken(context.Context) (*Token, error) { return anonToken(), nil }

func (r *rotatingSource) InvalidateToken(context.Context, *Token) error {
	r.invalidated.Add(1)
	return nil
}

func TestLogoutRetryNamesTheSameTokenItSendsAsBearer(t *testing.T) {
	t.Parallel()
	c, mt := newTestClient(t)
	src := &rotatingSource{}
	c = c.WithTokenSource(src)
	sent := serve(t, mt, "GET", "/customer/mytenant/logout",
		reply{status: 503, header: http.Header{"Retry-After": {"0"}}}, reply{status: 204})

	require.NoError(t, c.Auth.Logout(context.Background()))
	reqs := sent()
	require.Len(t, reqs, 2, "503 with Retry-After: retried")
	for _, r := range reqs {
		assert.Equal(t, "Bearer "+r.URL.Query().Get("accessToken"), r.Header.Get("Authorization"),
			"the token logged out is the token authorizing the logout")
	}
	assert.Equal(t, reqs[0].Header.Get("Authorization"), reqs[1].Header.Get("Authorization"),
		"the retry does not fetch another token")
}

// fault401 is the gateway's answer to a rejected access token.
const fault401 = `{"fault":{"faultstring":"Invalid access token","detail":{"errorcode":"oauth.v2.InvalidAccessToken"}}}`

func TestLogoutIsNotRenewedAndResentOnARejectedToken(t *testing.T) {
	t.Parallel()
	c, mt := newTestClient(t)
	src := &rotatingSource{}
	c = c.WithTokenSource(src)
	serve(t, mt, "GET", "/customer/mytenant/logout", jsonReply(401, fault401))

	err := c.Auth.Logout(context.Background())
	require.ErrorIs(t, err, ErrUnauthorized)
	assert.Equal(t, 1, calls(mt, "GET", "/customer/mytenant/logout"))
	assert.Zero(t, src.invalidated.Load(), "renewing would log out a token nobody asked to")
}

func TestOtherOperationsAreRenewedOnceOnARejectedToken(t *testing.T) {
	t.Parallel()
	c, mt := newTestClient(t)
	src := &rotatingSource{}
	c = c.WithTokenSource(src)
	sent := serve(t, mt, "GET", "/customer/mytenant/me", jsonReply(401, fault401), jsonReply(200, `{"id":"1","customerNumber":"1"}`))

	_, err := c.Profile.Get(context.Background(), nil)
	require.NoError(t, err)
	assert.Equal(t, int32(1), src.invalidated.Load())
	reqs := sent()
	require.Len(t, reqs, 2)
	assert.NotEqual(t, reqs[0].Header.Get("Authorization"), reqs[1].Header.Get("Authorization"))
}

func TestRedirectsAreNotFollowed(t *testing.T) {
	t.Parallel()
	c, mt := newTestClient(t)
	allowOffSpecResponses(t, "a redirect is not something the service documents")
	serve(t, mt, "POST", "/customer/mytenant/login",
		reply{status: 307, header: http.Header{"Location": {"https://elsewhere.example/steal"}}})
	elsewhere := 0
	mt.RegisterResponder("POST", "https://elsewhere.example/steal", func(*http.Request) (*http.Response, error) {
		elsewhere++
		return &http.Response{StatusCode: 200, Body: http.NoBody}, nil
	})

	_, err := c.Auth.Login(context.Background(), &LoginRequest{Email: "a@example.com", Password: secretPassword})
	requireAPIError(t, err, 307)
	assert.Equal(t, 1, calls(mt, "POST", "/customer/mytenant/login"))
	assert.Zero(t, elsewhere, "the password never travels to the redirect target")
}

func TestCallersRedirectPolicyIsKept(t *testing.T) {
	t.Parallel()
	called := false
	hc := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { called = true; return http.ErrUseLastResponse }}
	c, err := NewClient(testTenant, testClientID, WithHTTPClient(hc))
	require.NoError(t, err)
	require.NotNil(t, c.http.HTTPClient.CheckRedirect)
	_ = c.http.HTTPClient.CheckRedirect(nil, nil)
	assert.True(t, called)
}

func TestDotSegmentsAreRefusedInEveryPathParameter(t *testing.T) {
	t.Parallel()
	c, mt := newTestClient(t)
	ctx := context.Background()
	for _, v := range []string{".", ".."} {
		_, err := c.Auth.ConfirmOptIn(ctx, v)
		assert.ErrorIs(t, err, ErrInvalidInput)
		err = c.Employee.ActivateCustomer(ctx, &Token{Kind: KindService, AccessToken: "svc"}, v)
		assert.ErrorIs(t, err, ErrInvalidInput)
		_, err = c.Addresses.Get(ctx, v)
		assert.ErrorIs(t, err, ErrInvalidInput)
	}
	requireNoRequests(t, mt)
}

func TestTokenErrorKeepsTheOperationsClassesApart(t *testing.T) {
	t.Parallel()
	notFound := &APIError{StatusCode: 404}
	err := tokenFailed(notFound)
	var te *TokenError
	require.ErrorAs(t, err, &te)
	assert.False(t, errors.Is(err, ErrNotFound))
	var apiErr *APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Same(t, notFound, apiErr)

	expired := tokenFailed(errors.Join(ErrSessionExpired, &APIError{StatusCode: 401}))
	assert.ErrorIs(t, expired, ErrSessionExpired)
	assert.ErrorIs(t, expired, ErrUnauthorized)
	assert.ErrorIs(t, tokenFailed(&APIError{StatusCode: 503}), ErrServer)

	// The SDK's own refusals and cancellations stay as they are.
	assert.Equal(t, ErrNoToken, tokenFailed(ErrNoToken))
	assert.Equal(t, context.Canceled, tokenFailed(context.Canceled))
	ve := invalid("x", "y")
	assert.Equal(t, ve, tokenFailed(ve))
	assert.Contains(t, err.Error(), "obtaining a token")
}
