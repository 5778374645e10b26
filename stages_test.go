package emporix

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Each stage of the request path works on its own, without the others and
// without a network.

func TestStageBuild(t *testing.T) {
	t.Parallel()
	c, _ := newTestClient(t, WithUserAgent("shop/1"))
	k := c.newCall(opAddressCreate)
	require.NoError(t, k.jsonBody(map[string]string{"contactName": "A"}, contentJSON))
	k.query = map[string][]string{"b": {"2"}, "a": {"1"}}
	k.header = append(k.header, [2]string{"session-id", "S1"})

	req, err := c.newRequest(context.Background(), k)
	require.NoError(t, err)
	assert.Equal(t, "POST", req.Method)
	assert.Equal(t, testBase+"/customer/mytenant/me/addresses?a=1&b=2", req.URL.String())
	assert.Equal(t, contentJSON, req.Header.Get("Accept"))
	assert.Equal(t, contentJSON, req.Header.Get("Content-Type"))
	assert.Equal(t, "shop/1 emporix-go/"+Version, req.Header.Get("User-Agent"))
	assert.Equal(t, "S1", req.Header.Get("session-id"))
	assert.Empty(t, req.Header.Get("Authorization"), "building does not authorize")
	body, err := req.BodyBytes()
	require.NoError(t, err)
	assert.JSONEq(t, `{"contactName":"A"}`, string(body))
	assert.Same(t, k, req.Context().Value(callKey{}), "the call travels to the retry stage's hooks")
}

func TestStageAuthorize(t *testing.T) {
	t.Parallel()
	c, _ := newTestClient(t)
	k := c.newCall(opProfileGet)
	tok, err := c.authorize(context.Background(), k)
	require.NoError(t, err)
	assert.Equal(t, custToken().AccessToken, tok.AccessToken)
	assert.True(t, k.fromSource)
	assert.Contains(t, k.secrets, string(tok.AccessToken), "the token is a secret of the call")

	r, _ := http.NewRequest("GET", testBase, nil)
	setBearer(r, tok)
	assert.Equal(t, "Bearer "+string(tok.AccessToken), r.Header.Get("Authorization"))

	// Before each retry the source is asked again.
	renewed := &Token{Kind: KindCustomer, AccessToken: "RENEWED-ACCESS"}
	k.source = SingleToken(renewed)
	require.NoError(t, c.reauthorize(r, k))
	assert.Equal(t, "Bearer RENEWED-ACCESS", r.Header.Get("Authorization"))

	// The one replay after a rejected token: only for a source that can
	// renew, and the second rejection is ErrSessionExpired.
	rejected := &APIError{StatusCode: 401, ErrorCode: ErrorCodeAccessTokenExpired}
	assert.Same(t, rejected, c.renewRejected(context.Background(), k, rejected), "a static source cannot renew")
	assert.ErrorIs(t, rejectedAgain(rejected), ErrSessionExpired)
	assert.NoError(t, rejectedAgain(nil))
	other := &APIError{StatusCode: 404}
	assert.Same(t, other, rejectedAgain(other))

	// The wrong kind fails before any request.
	k = c.WithToken(anonToken()).newCall(opAddressCreate)
	_, err = c.authorize(context.Background(), k)
	require.ErrorIs(t, err, ErrCustomerTokenRequired)
}

func TestStageRetry(t *testing.T) {
	t.Parallel()
	c, _ := newTestClient(t, WithRetryPolicy(RetryPolicy{MaxRetries: 2, MinWait: 10 * time.Millisecond, MaxWait: time.Minute}))
	answer := func(status int, retryAfter string) *http.Response {
		h := http.Header{}
		if retryAfter != "" {
			h.Set("Retry-After", retryAfter)
		}
		return &http.Response{StatusCode: status, Header: h, Body: io.NopCloser(strings.NewReader(""))}
	}
	check := func(ctx context.Context, op *operation, resp *http.Response) (bool, *call) {
		k := c.newCall(op)
		k.attempts = 1
		retry, err := c.checkRetry(context.WithValue(ctx, callKey{}, k), resp, nil)
		require.NoError(t, err)
		return retry, k
	}
	ctx := context.Background()

	retry, k := check(ctx, opProfileGet, answer(503, ""))
	assert.True(t, retry, "a read is retried after a 503")
	assert.LessOrEqual(t, k.wait, 10*time.Millisecond, "first wait within MinWait")
	retry, _ = check(ctx, opAddressCreate, answer(503, ""))
	assert.False(t, retry, "a create is not: the server may have acted")
	retry, k = check(ctx, opAddressCreate, answer(503, "2"))
	assert.True(t, retry, "unless the server says it did not")
	assert.Equal(t, 2*time.Second, k.wait, "after the wait it asked for")
	retry, _ = check(ctx, opProfileGet, answer(429, "120"))
	assert.False(t, retry, "a Retry-After over MaxWait ends the retries")
	short, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	retry, _ = check(short, opProfileGet, answer(429, "5"))
	assert.False(t, retry, "so does one the context cannot wait for")
	retry, _ = check(ctx, opProfileGet, answer(404, ""))
	assert.False(t, retry)

	done, cancelDone := context.WithCancel(ctx)
	cancelDone()
	retry, err := c.checkRetry(context.WithValue(done, callKey{}, c.newCall(opProfileGet)), nil, context.Canceled)
	assert.False(t, retry)
	assert.ErrorIs(t, err, context.Canceled)
}

func TestStageDecode(t *testing.T) {
	t.Parallel()
	c, _ := newTestClient(t)
	k := c.newCall(opProfileGet)
	k.attempts = 2
	resp := &http.Response{StatusCode: 429, Header: http.Header{"Retry-After": {"30"}, "X-Request-Id": {"r1"}},
		Body: io.NopCloser(strings.NewReader(`{"error":"slow_down","error_description":"Too many requests"}`)), ContentLength: -1}
	e := c.checkResponse(k, resp)
	assert.ErrorIs(t, e, ErrRateLimited)
	assert.Equal(t, "Too many requests", e.Message)
	assert.Equal(t, "slow_down", e.ErrorCode)
	assert.Equal(t, 30*time.Second, e.RetryAfter)
	assert.Equal(t, "r1", e.RequestID)
	assert.Equal(t, 2, e.Attempts)
	assert.Equal(t, "GET-customer-retrieve-customer-profile", e.Operation)

	ok := &http.Response{StatusCode: 200, Body: io.NopCloser(strings.NewReader(`{"id":"C1"}`)), ContentLength: 11}
	require.NoError(t, k.readSuccess(ok))
	assert.Equal(t, `{"id":"C1"}`, string(k.respBody))
}
