package emporix

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"testing"

	"github.com/emporix-go/emporix/internal/optable"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The assertion helpers every service and unit test shares.

// requireInvalid asserts err is a *ValidationError matching ErrInvalidInput
// for field, with a reason, whose text names the field; it returns it.
func requireInvalid(t *testing.T, err error, field string) *ValidationError {
	t.Helper()
	var ve *ValidationError
	require.ErrorAs(t, err, &ve)
	require.ErrorIs(t, err, ErrInvalidInput)
	require.Equal(t, field, ve.Field, "ValidationError.Field")
	require.NotEmpty(t, ve.Reason, "ValidationError.Reason")
	require.Contains(t, err.Error(), field)
	return ve
}

// requireAPIError asserts err is an *APIError with status and returns it.
func requireAPIError(t *testing.T, err error, status int) *APIError {
	t.Helper()
	var ae *APIError
	require.ErrorAs(t, err, &ae)
	require.Equal(t, status, ae.StatusCode, "APIError.StatusCode")
	return ae
}

// requireResponseError asserts err is a *ResponseError matching
// ErrInvalidResponse with status and returns it.
func requireResponseError(t *testing.T, err error, status int) *ResponseError {
	t.Helper()
	var re *ResponseError
	require.ErrorAs(t, err, &re)
	require.ErrorIs(t, err, ErrInvalidResponse)
	require.Equal(t, status, re.StatusCode, "ResponseError.StatusCode")
	return re
}

// requireNoRequests asserts that nothing reached mt: newTestClient's
// catch-all responder counts requests to unregistered routes too.
func requireNoRequests(t *testing.T, mt *httpmock.MockTransport) {
	t.Helper()
	require.Zero(t, mt.GetTotalCallCount(), "no request may be sent")
}

// errorCase is a documented error answer and what it must decode to.
type errorCase struct {
	name      string
	status    int
	body      string
	sentinels []error // every sentinel the error must match; it matches no other
	typ       string
	message   string
	moreInfo  string
	errorCode string
	details   []string // each detail's JSON
	// offSpec, when set, says why the spec does not describe this answer.
	offSpec string
}

// allSentinels are the status sentinels an *APIError may match.
var allSentinels = []error{
	ErrBadRequest, ErrUnauthorized, ErrTokenExpired, ErrForbidden,
	ErrNotFound, ErrConflict, ErrRateLimited, ErrServer,
}

// check asserts err is the *APIError ec describes, from operation opID at
// method path (the path as errors show it), sent once.
func (ec errorCase) check(t *testing.T, err error, method, path, opID string) {
	t.Helper()
	ae := requireAPIError(t, err, ec.status)
	assert.Equal(t, method, ae.Method, "Method")
	assert.Equal(t, path, ae.Path, "Path")
	assert.Equal(t, opID, ae.Operation, "Operation")
	assert.Equal(t, ec.typ, ae.Type, "Type")
	assert.Equal(t, ec.message, ae.Message, "Message")
	assert.Equal(t, ec.moreInfo, ae.MoreInfo, "MoreInfo")
	assert.Equal(t, ec.errorCode, ae.ErrorCode, "ErrorCode")
	assert.Equal(t, 1, ae.Attempts, "a 4xx is never retried")
	assert.Empty(t, ae.Body, "a JSON error body is decoded, not kept raw")
	if assert.Len(t, ae.Details, len(ec.details), "Details") {
		for i, d := range ec.details {
			assert.JSONEq(t, d, string(ae.Details[i]), "Details[%d]", i)
		}
	}
	for _, s := range allSentinels {
		assert.Equal(t, slices.Contains(ec.sentinels, s), errors.Is(err, s), "errors.Is(err, %v)", s)
	}
	// Only the gateway's two access-token codes say the token was rejected.
	assert.Equal(t, ec.errorCode == ErrorCodeAccessTokenExpired || ec.errorCode == ErrorCodeInvalidAccessToken,
		ae.TokenRejected(), "TokenRejected")
	assert.NotErrorIs(t, err, ErrInvalidInput)
	assert.Contains(t, err.Error(), method+" "+path)
}

// assertNoSecrets asserts text shows none of the test credentials nor any
// of extra.
func assertNoSecrets(t *testing.T, text string, extra ...string) {
	t.Helper()
	for _, s := range append([]string{anonAccess, anonRefresh, custAccess, custRefresh, custSaas, secretPassword}, extra...) {
		assert.NotContains(t, text, s)
	}
}

// invalidCase is an input a call must refuse before sending anything.
type invalidCase[In any] struct {
	name  string
	in    In
	field string // the field the ValidationError names
}

// runInvalid calls call with each case's input on a fresh test client and
// asserts the call returns no result, refuses the input for the case's field,
// sends nothing, and quotes no test credential nor any of secrets.
func runInvalid[In any](t *testing.T, call func(c *Client, in In) (any, error), cases []invalidCase[In], secrets ...string) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, mt := newTestClient(t)
			got, err := call(c, tc.in)
			assert.Empty(t, got, "a refused call returns no result")
			requireInvalid(t, err, tc.field)
			requireNoRequests(t, mt)
			assertNoSecrets(t, err.Error(), secrets...)
		})
	}
}

// runErrorCases answers operation id with each error case, through every
// method that sends it (its opCase), and asserts the call went once,
// returned no result, failed as the case says (errorCase.check, the secret
// path segment shown masked) and quotes none of the case's secrets.
func runErrorCases(t *testing.T, id string, cases ...errorCase) {
	t.Helper()
	row, oc := optable.ByID(id), opCases[id]
	require.NotNil(t, row, id)
	s := newSecretSet("sentinels", "")
	masked := *s
	masked.optInToken = "REDACTED"
	path, shown := casePath(row, s), casePath(row, &masked)
	for _, m := range oc.methods() {
		for _, ec := range cases {
			t.Run(m.name+"/"+ec.name, func(t *testing.T) {
				if ec.offSpec != "" {
					allowOffSpecResponses(t, ec.offSpec)
				}
				c, mt := newTestClient(t)
				serve(t, mt, row.Method, path, jsonReply(ec.status, ec.body))
				got, err := m.call(context.Background(), c, s)
				assert.Empty(t, got, "a failed call returns no result")
				ec.check(t, err, row.Method, shown, id)
				assert.Equal(t, 1, calls(mt, row.Method, path), "requests sent")
				assertNoSecrets(t, err.Error(), s.all...)
			})
		}
	}
}

// methods are every method that sends oc's operation, its own first.
func (oc opCase) methods() []opMethod {
	return append([]opMethod{{oc.name, oc.call}}, oc.more...)
}

// wantRequest is the request an operation must send.
type wantRequest struct {
	method string
	path   string     // escaped, without the test base prefix
	query  url.Values // nil: no query at all
	auth   string     // the exact Authorization header; "": none
	// contentType is the exact Content-Type; "" means the request has
	// neither a Content-Type nor a body.
	contentType string
	body        string // JSON, compared with JSONEq
}

// assertRequest checks one request sent against want.
func assertRequest(t *testing.T, got *http.Request, want wantRequest) {
	t.Helper()
	assert.Equal(t, want.method, got.Method, "method")
	assert.Equal(t, want.path, pathOf(got), "path")
	if want.query == nil {
		assert.Empty(t, got.URL.Query(), "query")
	} else {
		assert.Equal(t, want.query, got.URL.Query(), "query")
	}
	if want.auth == "" {
		assert.Empty(t, got.Header.Values("Authorization"), "Authorization")
	} else {
		assert.Equal(t, []string{want.auth}, got.Header.Values("Authorization"), "Authorization")
	}
	assert.Equal(t, "application/json", got.Header.Get("Accept"), "Accept")
	if want.contentType == "" {
		assert.Empty(t, got.Header.Values("Content-Type"), "bodiless request has a Content-Type")
		assert.Empty(t, bodyOf(t, got), "bodiless request has a body")
		return
	}
	assert.Equal(t, []string{want.contentType}, got.Header.Values("Content-Type"), "Content-Type")
	if body := bodyOf(t, got); assert.NotEmpty(t, body, "body") {
		assert.JSONEq(t, want.body, body, "body")
	}
}
