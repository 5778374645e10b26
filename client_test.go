package emporix

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"reflect"
	"testing"
	"time"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestNewClientTenant(t *testing.T) {
	t.Parallel()
	valid := []string{"abc", "mytenant", "a1b2c3", "abcdefghijklmnop" /* 16 */, "x99"}
	for _, tenant := range valid {
		c, err := NewClient(tenant, testClientID)
		require.NoError(t, err, tenant)
		assert.Equal(t, tenant, c.Tenant())
		assert.Equal(t, testClientID, c.ClientID())
		assert.Equal(t, DefaultBaseURL, c.BaseURL())
	}
	invalidTenants := []string{
		"", "a", "ab", // too short
		"abcdefghijklmnopq", // 17
		"MyTenant", "MYTENANT", "1abc", "9tenant", "my-tenant", "my_tenant", "my.tenant",
		"abc ", " abc", "ab c", "äbcd", "abc\n", "abc/x", "abc?x=1",
	}
	for _, tenant := range invalidTenants {
		c, err := NewClient(tenant, testClientID)
		assert.Nil(t, c, "%q", tenant)
		requireInvalid(t, err, "tenant")
	}
	// The refused tenant is described, never quoted.
	_, err := NewClient("SECRET-tenant-value", testClientID)
	requireInvalid(t, err, "tenant")
	assert.NotContains(t, err.Error(), "SECRET-tenant-value")
}

func TestNewClientOptionValidation(t *testing.T) {
	t.Parallel()
	cases := map[string]struct {
		field string
		opt   Option
	}{
		"empty base URL":       {"base URL", WithBaseURL("")},
		"relative base URL":    {"base URL", WithBaseURL("/prefix")},
		"host only base URL":   {"base URL", WithBaseURL("api.emporix.io")},
		"schemeless base URL":  {"base URL", WithBaseURL("//api.emporix.io")},
		"ftp base URL":         {"base URL", WithBaseURL("ftp://api.emporix.io")},
		"no host base URL":     {"base URL", WithBaseURL("https://")},
		"query base URL":       {"base URL", WithBaseURL("https://api.emporix.io?x=1")},
		"empty query base URL": {"base URL", WithBaseURL("https://api.emporix.io/prefix?tenant=a")},
		"fragment base URL":    {"base URL", WithBaseURL("https://api.emporix.io#frag")},
		"userinfo base URL":    {"base URL", WithBaseURL("https://user:pw@api.emporix.io")},
		"unparsable base URL":  {"base URL", WithBaseURL("https://api.emporix.io/%zz")},
		"control base URL":     {"base URL", WithBaseURL("https://api.emporix.io/\x7f")},
		"nil http client":      {"http client", WithHTTPClient(nil)},
		"zero timeout":         {"timeout", WithTimeout(0)},
		"negative timeout":     {"timeout", WithTimeout(-time.Second)},
		"CRLF user agent":      {"user agent", WithUserAgent("shop\r\nX-Evil: 1")},
		"LF user agent":        {"user agent", WithUserAgent("shop\nx")},
		"negative retries":     {"RetryPolicy.MaxRetries", WithRetryPolicy(RetryPolicy{MaxRetries: -1})},
		"negative min wait":    {"RetryPolicy.MinWait", WithRetryPolicy(RetryPolicy{MaxRetries: 1, MinWait: -time.Millisecond})},
		"max below min wait":   {"RetryPolicy.MaxWait", WithRetryPolicy(RetryPolicy{MaxRetries: 1, MinWait: 2 * time.Second, MaxWait: time.Second})},
		"nil logger":           {"logger", WithLogger(nil)},
		"nil clock":            {"clock", WithClock(nil)},
	}
	for name, tt := range cases {
		t.Run(name, func(t *testing.T) {
			c, err := NewClient(testTenant, testClientID, tt.opt)
			assert.Nil(t, c)
			requireInvalid(t, err, tt.field)
		})
	}

	// A nil option is skipped, and valid options pass.
	c, err := NewClient(testTenant, testClientID, nil,
		WithBaseURL("http://localhost:8080/base/"),
		WithTimeout(time.Second),
		WithUserAgent("shop/1"),
		WithRetryPolicy(RetryPolicy{MaxRetries: 3, MinWait: time.Millisecond, MaxWait: time.Millisecond}),
		WithNoRetries(),
		WithLogger(slog.New(slog.DiscardHandler)),
		WithTokenSource(nil),
		WithClock(time.Now),
	)
	require.NoError(t, err)
	assert.Equal(t, "http://localhost:8080/base", c.BaseURL())
	assert.Equal(t, 0, c.http.RetryMax, "WithNoRetries after WithRetryPolicy wins")
}

func TestWithHTTPClientCopies(t *testing.T) {
	t.Parallel()
	mt := httpmock.NewMockTransport()
	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	redirects := 0
	checkRedirect := func(*http.Request, []*http.Request) error { redirects++; return nil }
	hc := &http.Client{Transport: mt, Timeout: 7 * time.Second, Jar: jar, CheckRedirect: checkRedirect}
	before := *hc

	c, err := NewClient(testTenant, testClientID, WithHTTPClient(hc), WithTimeout(2*time.Second),
		WithBaseURL(testBase), WithTokenSource(StaticTokens(anonToken(), custToken())))
	require.NoError(t, err)
	serve(t, mt, "GET", "/customer/mytenant/me", jsonReply(200, `{"id":"1"}`))
	_, err = c.Profile.Get(context.Background(), nil)
	require.NoError(t, err)
	assert.Equal(t, 1, calls(mt, "GET", "/customer/mytenant/me"), "requests go through the caller's transport")

	// The caller's client is untouched, field by field.
	assert.Equal(t, before.Timeout, hc.Timeout)
	assert.Same(t, before.Jar, hc.Jar)
	assert.Same(t, before.Transport, hc.Transport)
	assert.Equal(t, reflect.ValueOf(before.CheckRedirect).Pointer(), reflect.ValueOf(hc.CheckRedirect).Pointer())
	assert.Equal(t, 7*time.Second, hc.Timeout)

	// The SDK uses a copy with the caller's settings and its own timeout.
	used := c.http.HTTPClient
	require.NotNil(t, used)
	assert.NotSame(t, hc, used)
	assert.Equal(t, 2*time.Second, used.Transport.(*poolGuard).timeout)
	assert.Same(t, hc.Transport, used.Transport.(*poolGuard).rt, "the caller's transport, behind the pool guard")
	assert.Same(t, hc.Jar, used.Jar)

	// Without WithTimeout the caller's timeout is kept, on the copy.
	c2, err := NewClient(testTenant, testClientID, WithHTTPClient(hc))
	require.NoError(t, err)
	assert.Equal(t, 7*time.Second, c2.http.HTTPClient.Transport.(*poolGuard).timeout)
	assert.NotSame(t, hc, c2.http.HTTPClient)

	// WithTimeout placed before WithHTTPClient still applies to the copy.
	c3, err := NewClient(testTenant, testClientID, WithTimeout(3*time.Second), WithHTTPClient(hc))
	require.NoError(t, err)
	assert.Equal(t, 3*time.Second, c3.http.HTTPClient.Transport.(*poolGuard).timeout)
	assert.Equal(t, 7*time.Second, hc.Timeout)
}

func TestDefaultHTTPClient(t *testing.T) {
	t.Parallel()
	defaultBefore := http.DefaultTransport.(*http.Transport).MaxIdleConnsPerHost
	c, err := NewClient(testTenant, testClientID)
	require.NoError(t, err)
	hc := c.http.HTTPClient
	require.NotNil(t, hc)
	assert.NotSame(t, http.DefaultClient, hc)
	assert.Equal(t, DefaultTimeout, hc.Transport.(*poolGuard).timeout, "the default client must bound each attempt")
	tr, ok := hc.Transport.(*poolGuard).rt.(*http.Transport)
	require.True(t, ok)
	assert.NotSame(t, http.DefaultTransport, tr, "a private pool, not the process-wide transport")
	assert.Equal(t, defaultBefore, http.DefaultTransport.(*http.Transport).MaxIdleConnsPerHost)
	assert.Nil(t, c.http.Logger, "retryablehttp must not log raw URLs")
	assert.Equal(t, DefaultRetryPolicy.MaxRetries, c.http.RetryMax)

	c2, err := NewClient(testTenant, testClientID, WithTimeout(5*time.Second))
	require.NoError(t, err)
	assert.Equal(t, 5*time.Second, c2.http.HTTPClient.Transport.(*poolGuard).timeout)
	assert.NotSame(t, hc, c2.http.HTTPClient, "clients do not share a default client they mutate")
	assert.Equal(t, DefaultTimeout, hc.Transport.(*poolGuard).timeout)
}

func TestWithBaseURLPathPrefix(t *testing.T) {
	t.Parallel()
	for _, base := range []string{testBase, testBase + "/", testBase + "//"} {
		c, mt := newTestClient(t, WithBaseURL(base))
		assert.Equal(t, testBase, c.BaseURL())
		sent := serve(t, mt, "GET", "/customer/mytenant/me/addresses", jsonReply(200, `[]`))
		_, err := c.Addresses.List(context.Background())
		require.NoError(t, err, base)
		assert.Equal(t, "/customer/mytenant/me/addresses", pathOf(only(t, sent)))
	}

	// The anonymous endpoints and the OAuth endpoint sit below the prefix too.
	c, mt := newTestClient(t)
	serve(t, mt, "GET", "/customerlogin/auth/anonymous/login",
		jsonReply(200, `{"access_token":"a","token_type":"Bearer","expires_in":3599,"sessionId":"s"}`))
	_, err := c.Auth.AnonymousLogin(context.Background(), nil)
	require.NoError(t, err)
	assert.Equal(t, 1, calls(mt, "GET", "/customerlogin/auth/anonymous/login"))
}

func TestUserAgentAndAccept(t *testing.T) {
	t.Parallel()
	c, mt := newTestClient(t)
	sent := serve(t, mt, "GET", "/customer/mytenant/me", jsonReply(200, `{"id":"1"}`))
	_, err := c.Profile.Get(context.Background(), nil)
	require.NoError(t, err)
	r := only(t, sent)
	assert.Equal(t, "emporix-go/"+Version, r.Header.Get("User-Agent"))
	assert.Equal(t, "application/json", r.Header.Get("Accept"))
	assert.Empty(t, r.Header.Get("Content-Type"), "a GET has no body")

	c, mt = newTestClient(t, WithUserAgent("my-shop/1.2"))
	sent = serve(t, mt, "POST", "/oauth/token",
		jsonReply(200, `{"access_token":"svc","token_type":"Bearer","expires_in":3599}`))
	_, err = c.Employee.ServiceToken(context.Background(), &ServiceCredentials{ClientID: "id", ClientSecret: "secret"})
	require.NoError(t, err)
	r = only(t, sent)
	assert.Equal(t, "my-shop/1.2 emporix-go/"+Version, r.Header.Get("User-Agent"))
	assert.Equal(t, "application/json", r.Header.Get("Accept"), "Accept is JSON even for a form body")
	assert.Equal(t, "application/x-www-form-urlencoded", r.Header.Get("Content-Type"))

	// Blank products leave the SDK's own User-Agent alone.
	c, mt = newTestClient(t, WithUserAgent("   "))
	sent = serve(t, mt, "GET", "/customer/mytenant/me", jsonReply(200, `{"id":"1"}`))
	_, err = c.Profile.Get(context.Background(), nil)
	require.NoError(t, err)
	assert.Equal(t, "emporix-go/"+Version, only(t, sent).Header.Get("User-Agent"))
}

func TestWithTokenSourceDerivedClient(t *testing.T) {
	t.Parallel()
	parent, mt := newTestClient(t)
	sent := serve(t, mt, "GET", "/customer/mytenant/me",
		reply{status: 503, header: http.Header{"Retry-After": {"0"}}}, jsonReply(200, `{"id":"1"}`))
	other := &Token{Kind: KindCustomer, AccessToken: "OTHER-CUSTOMER-ACCESS", TokenType: "Bearer"}
	parentSource := parent.TokenSource()

	derived := parent.WithTokenSource(StaticTokenSource(other))
	require.NotSame(t, parent, derived)
	assert.Same(t, parent.http, derived.http, "derived clients share the retryablehttp client")
	assert.Same(t, parent.http.HTTPClient, derived.http.HTTPClient, "and the connection pool")
	assert.NotSame(t, parent.Profile, derived.Profile, "services hang off their own client")
	assert.Same(t, derived, derived.Profile.client)
	assert.Same(t, derived, derived.Auth.client)
	assert.Same(t, derived, derived.Addresses.client)
	assert.Same(t, derived, derived.Credentials.client)
	assert.Same(t, derived, derived.Employee.client)
	assert.Equal(t, parent.Tenant(), derived.Tenant())
	assert.Equal(t, parent.BaseURL(), derived.BaseURL())

	// The derived client authorizes with its own token, on the retry too.
	_, err := derived.Profile.Get(context.Background(), nil)
	require.NoError(t, err)
	reqs := sent()
	require.Len(t, reqs, 2)
	for _, r := range reqs {
		assert.Equal(t, bearer("OTHER-CUSTOMER-ACCESS"), r.Header.Get("Authorization"))
	}

	// The parent is unaffected.
	assert.Equal(t, parentSource, parent.TokenSource())
	assert.Same(t, parent, parent.Profile.client)
	_, err = parent.Profile.Get(context.Background(), nil)
	require.NoError(t, err)
	reqs = sent()
	require.Len(t, reqs, 3)
	assert.Equal(t, bearer(custAccess), reqs[2].Header.Get("Authorization"))

	// WithToken is the static shortcut.
	withToken := parent.WithToken(&Token{Kind: KindCustomer, AccessToken: "THIRD-ACCESS"})
	assert.Same(t, parent.http, withToken.http)
	_, err = withToken.Profile.Get(context.Background(), nil)
	require.NoError(t, err)
	reqs = sent()
	assert.Equal(t, bearer("THIRD-ACCESS"), reqs[len(reqs)-1].Header.Get("Authorization"))

	// A derived client without a source fails before the network.
	none := parent.WithTokenSource(nil)
	n := calls(mt, "GET", "/customer/mytenant/me")
	_, err = none.Profile.Get(context.Background(), nil)
	require.ErrorIs(t, err, ErrNoToken)
	assert.Equal(t, n, calls(mt, "GET", "/customer/mytenant/me"))
}

func TestDerivedClientsConcurrent(t *testing.T) {
	t.Parallel()
	parent, mt := newTestClient(t)
	sent := serve(t, mt, "GET", "/customer/mytenant/me", jsonReply(200, `{"id":"1"}`))
	done := make(chan error)
	for i := range 20 {
		go func() {
			tok := &Token{Kind: KindCustomer, AccessToken: Secret(fmt.Sprintf("SHOPPER-%02d", i))}
			_, err := parent.WithToken(tok).Profile.Get(context.Background(), nil)
			done <- err
		}()
	}
	for range 20 {
		require.NoError(t, <-done)
	}
	seen := map[string]bool{}
	for _, r := range sent() {
		seen[r.Header.Get("Authorization")] = true
	}
	assert.Len(t, seen, 20, "each derived client sent its own token")
}

func TestClientPrintingHidesTokens(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	c, _ := newTestClient(t, WithLogger(slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))))
	derived := c.WithToken(&Token{Kind: KindCustomer, AccessToken: "DERIVED-ACCESS-s3cr3t", RefreshToken: "DERIVED-REFRESH-s3cr3t"})
	secrets := []string{anonAccess, anonRefresh, custAccess, custRefresh, custSaas, "DERIVED-ACCESS-s3cr3t", "DERIVED-REFRESH-s3cr3t"}

	var outputs []string
	for _, v := range []any{c, derived, c.TokenSource(), derived.TokenSource()} {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%d", "%x", "%q"} {
			outputs = append(outputs, fmt.Sprintf(verb, v))
		}
	}
	outputs = append(outputs, fmt.Sprint(c), fmt.Sprintf("%v", *c), fmt.Sprintf("%+v", *derived))
	logger := slog.New(slog.NewTextHandler(&buf, nil))
	logger.Info("x", "client", c, "derived", derived, "source", c.TokenSource())
	jsonLogger := slog.New(slog.NewJSONHandler(&buf, nil))
	jsonLogger.Info("x", "client", c, "derived", derived, "source", c.TokenSource())
	outputs = append(outputs, buf.String())

	for _, out := range outputs {
		for _, s := range secrets {
			assert.NotContains(t, out, s)
		}
	}
	s := fmt.Sprintf("%v", c)
	assert.Contains(t, s, testTenant, "the description still says which client it is")
	assert.Equal(t, s, fmt.Sprintf("%+v", c))
	assert.Equal(t, s, fmt.Sprintf("%#v", c))
}

func TestNoTokenSourceFailsBeforeNetwork(t *testing.T) {
	t.Parallel()
	mt := httpmock.NewMockTransport()
	c, err := NewClient(testTenant, testClientID, WithHTTPClient(&http.Client{Transport: mt}), WithBaseURL(testBase))
	require.NoError(t, err)
	_, err = c.Profile.Get(context.Background(), nil)
	require.ErrorIs(t, err, ErrNoToken)
	_, err = c.Auth.Login(context.Background(), &LoginRequest{Email: "a@example.com", Password: secretPassword})
	require.ErrorIs(t, err, ErrAnonymousTokenRequired)
	requireNoRequests(t, mt)

	// A nil context is refused, not dereferenced.
	var nilCtx context.Context
	_, err = c.Profile.Get(nilCtx, nil)
	require.ErrorIs(t, err, ErrInvalidInput)
	requireNoRequests(t, mt)
}
