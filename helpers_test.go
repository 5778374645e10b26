package emporix

import (
	"bytes"
	"io"
	"net/http"
	"net/url"
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
// clock and the anonymous and customer test tokens.
func newTestClient(t *testing.T, opts ...Option) (*Client, *httpmock.MockTransport) {
	t.Helper()
	mt := httpmock.NewMockTransport()
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

// recorded is one request as the server saw it.
type recorded struct {
	Method string
	Path   string // without the test base prefix
	Query  url.Values
	Header http.Header
	Body   []byte
}

// recorder collects the requests a responder received.
type recorder struct {
	mu   sync.Mutex
	reqs []recorded
}

// add records req and returns the body it carried.
func (r *recorder) add(req *http.Request) []byte {
	var body []byte
	if req.Body != nil {
		body, _ = io.ReadAll(req.Body)
		req.Body = io.NopCloser(bytes.NewReader(body))
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.reqs = append(r.reqs, recorded{
		Method: req.Method,
		Path:   strings.TrimPrefix(req.URL.EscapedPath(), "/prefix"),
		Query:  req.URL.Query(),
		Header: req.Header.Clone(),
		Body:   body,
	})
	return body
}

// all returns a copy of the recorded requests.
func (r *recorder) all() []recorded {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]recorded(nil), r.reqs...)
}

// count returns how many requests arrived.
func (r *recorder) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.reqs)
}

// only returns the single recorded request, failing the test otherwise.
func (r *recorder) only(t *testing.T) recorded {
	t.Helper()
	all := r.all()
	require.Len(t, all, 1, "expected exactly one request")
	return all[0]
}

// reply is one scripted answer.
type reply struct {
	status int
	body   string
	header http.Header
	err    error // a transport error instead of a response
}

// serve registers method+path (path below the tenant-independent base, such
// as "/customer/mytenant/me") answering with the replies in order, the last
// one repeating, and returns the recorder of what arrived. Every request
// and response also goes through the spec conformance check.
func serve(t *testing.T, mt *httpmock.MockTransport, method, path string, replies ...reply) *recorder {
	t.Helper()
	require.NotEmpty(t, replies)
	rec := &recorder{}
	var mu sync.Mutex
	n := 0
	mt.RegisterResponder(method, testBase+path, func(req *http.Request) (*http.Response, error) {
		reqBody := rec.add(req)
		mu.Lock()
		r := replies[min(n, len(replies)-1)]
		n++
		mu.Unlock()
		if r.err != nil {
			return nil, r.err
		}
		resp := httpmock.NewStringResponse(r.status, r.body)
		resp.Request = req
		if strings.HasPrefix(strings.TrimSpace(r.body), "{") || strings.HasPrefix(strings.TrimSpace(r.body), "[") {
			resp.Header.Set("Content-Type", "application/json")
		}
		for k, v := range r.header {
			resp.Header[k] = v
		}
		checkConformance(t, req, reqBody, resp)
		return resp, nil
	})
	return rec
}

// jsonReply is a reply with a JSON body.
func jsonReply(status int, body string) reply { return reply{status: status, body: body} }

// bearer returns the Authorization header value for an access token.
func bearer(access string) string { return "Bearer " + access }
