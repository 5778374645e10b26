package emporix

import (
	"bytes"
	"io"
	"maps"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/require"
)

// The base URL has a path prefix so that a request built from an absolute
// path instead of the base URL fails loudly.
const (
	testBase     = "https://api.emporix.test/prefix"
	testTenant   = "mytenant"
	testClientID = "storefront-client-id"
)

// Sentinel secrets: a redaction sweep searches every output for them.
const (
	anonAccess     = "ANON-ACCESS-s3cr3t"
	anonRefresh    = "ANON-REFRESH-s3cr3t"
	custAccess     = "CUST-ACCESS-s3cr3t"
	custRefresh    = "CUST-REFRESH-s3cr3t"
	custSaas       = "CUST-SAAS-s3cr3t"
	testSessionID  = "6d4d4d5e-04b9-40c5-9074-4df1405c6081"
	secretPassword = "PASSWORD-s3cr3t"
)

// testNow is the fixed clock of test clients.
var testNow = time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)

func anonToken() *Token {
	return &Token{Kind: KindAnonymous, AccessToken: anonAccess, TokenType: "Bearer", RefreshToken: anonRefresh,
		SessionID: testSessionID, Expiry: testNow.Add(time.Hour), RefreshExpiry: testNow.Add(24 * time.Hour)}
}

func custToken() *Token {
	return &Token{Kind: KindCustomer, AccessToken: custAccess, TokenType: "Bearer", RefreshToken: custRefresh,
		SaasToken: custSaas, SessionID: testSessionID, Expiry: testNow.Add(30 * 24 * time.Hour), RefreshExpiry: testNow.Add(24 * time.Hour)}
}

// newTestClient returns a client on its own mock transport (never the
// global one, so tests may run in parallel), with zero retry waits, a fixed
// clock and the anonymous and customer test tokens. A request no route
// answers fails as a connection failure and still counts in
// mt.GetTotalCallCount, so requireNoRequests sees every request.
func newTestClient(t *testing.T, opts ...Option) (*Client, *httpmock.MockTransport) {
	t.Helper()
	mt := httpmock.NewMockTransport()
	mt.RegisterNoResponder(httpmock.ConnectionFailure)
	base := []Option{
		WithHTTPClient(&http.Client{Transport: mt}),
		WithBaseURL(testBase),
		WithRetryPolicy(RetryPolicy{MaxRetries: 2}),
		WithClock(func() time.Time { return testNow }),
		WithTokenSource(StaticTokens(anonToken(), custToken())),
	}
	c, err := NewClient(testTenant, testClientID, append(base, opts...)...)
	require.NoError(t, err)
	return c, mt
}

// reply is one scripted answer.
type reply struct {
	status int
	body   string
	header http.Header
	err    error // a transport error instead of a response
}

// responder is r as an httpmock responder; a body that looks like JSON is
// labelled so unless r's own header says otherwise.
func (r reply) responder() httpmock.Responder {
	if r.err != nil {
		return httpmock.NewErrorResponder(r.err)
	}
	h := http.Header{}
	if b := strings.TrimSpace(r.body); strings.HasPrefix(b, "{") || strings.HasPrefix(b, "[") {
		h.Set("Content-Type", "application/json")
	}
	maps.Copy(h, r.header)
	return httpmock.NewStringResponder(r.status, r.body).HeaderSet(h)
}

// serve registers method+path (path below the tenant-independent base, such
// as "/customer/mytenant/me") answering with the replies in order, the last
// one repeating (httpmock's Responder.Then). Every request and response also
// goes through the spec conformance check. httpmock counts the calls
// (mt.GetTotalCallCount, calls); sent returns the requests that arrived so
// far, in order, each a clone whose body reads again (bodyOf).
func serve(t *testing.T, mt *httpmock.MockTransport, method, path string, replies ...reply) (sent func() []*http.Request) {
	t.Helper()
	require.NotEmpty(t, replies)
	next := replies[0].responder()
	for _, r := range replies[1:] {
		next = next.Then(r.responder())
	}
	var mu sync.Mutex
	var reqs []*http.Request
	mt.RegisterResponder(method, testBase+path, func(req *http.Request) (*http.Response, error) {
		var body []byte
		if req.Body != nil {
			body, _ = io.ReadAll(req.Body)
		}
		kept := req.Clone(req.Context())
		kept.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
		mu.Lock()
		reqs = append(reqs, kept)
		mu.Unlock()
		resp, err := next(req)
		if err == nil {
			checkConformance(t, req, body, resp)
		}
		return resp, err
	})
	return func() []*http.Request {
		mu.Lock()
		defer mu.Unlock()
		return slices.Clone(reqs)
	}
}

// calls is how many requests reached method+path, as httpmock counted them.
func calls(mt *httpmock.MockTransport, method, path string) int {
	return mt.GetCallCountInfo()[method+" "+testBase+path]
}

// only returns the single request sent, failing the test otherwise.
func only(t *testing.T, sent func() []*http.Request) *http.Request {
	t.Helper()
	reqs := sent()
	require.Len(t, reqs, 1, "expected exactly one request")
	return reqs[0]
}

// bodyOf returns the body a request from sent carried ("" for none).
func bodyOf(t *testing.T, r *http.Request) string {
	t.Helper()
	rc, err := r.GetBody()
	require.NoError(t, err)
	b, err := io.ReadAll(rc)
	require.NoError(t, err)
	return string(b)
}

// pathOf is the escaped path r went to, below the test base.
func pathOf(r *http.Request) string {
	return strings.TrimPrefix(r.URL.EscapedPath(), "/prefix")
}

// jsonReply is a reply with a JSON body.
func jsonReply(status int, body string) reply { return reply{status: status, body: body} }

// bearer returns the Authorization header value for an access token.
func bearer(access string) string { return "Bearer " + access }
