package emporix

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestAPIErrorText(t *testing.T) {
	t.Parallel()
	cases := []struct {
		err  *APIError
		want string
	}{
		{&APIError{StatusCode: 404, Method: "GET", Path: "/customer/mytenant/me", Type: "resource_not_found", Message: "Customer 42 not found."},
			"emporix: GET /customer/mytenant/me: 404 resource_not_found: Customer 42 not found."},
		{&APIError{StatusCode: 401, Method: "GET", Path: "/customer/mytenant/me", ErrorCode: ErrorCodeAccessTokenExpired, Message: "Access Token expired"},
			"emporix: GET /customer/mytenant/me: 401 keymanagement.service.access_token_expired: Access Token expired"},
		{&APIError{StatusCode: 409, Method: "POST", Path: "/customer/mytenant/signup", Type: "conflict_resource", ErrorCode: "X", Message: "Duplicate"},
			"emporix: POST /customer/mytenant/signup: 409 conflict_resource: Duplicate"},
		{&APIError{StatusCode: 502, Method: "PATCH", Path: "/customer/mytenant/me", Body: "<html>secret page</html>"},
			"emporix: PATCH /customer/mytenant/me: 502 Bad Gateway"},
		{&APIError{StatusCode: 503, Method: "GET", Path: "/customer/mytenant/me/addresses", Message: "down", Attempts: 3},
			"emporix: GET /customer/mytenant/me/addresses: 503 Service Unavailable: down (after 3 attempts)"},
		{&APIError{StatusCode: 503, Method: "GET", Path: "/x", Attempts: 1}, "emporix: GET /x: 503 Service Unavailable"},
		{&APIError{StatusCode: 599, Method: "GET", Path: "/x"}, "emporix: GET /x: 599"},
		{&APIError{StatusCode: 599, Method: "GET", Path: "/x", Message: "odd"}, "emporix: GET /x: 599: odd"},
	}
	for _, tc := range cases {
		assert.Equal(t, tc.want, tc.err.Error())
	}
	// Details, MoreInfo and the body snippet never reach the text.
	e := &APIError{StatusCode: 400, Method: "POST", Path: "/p", Type: "bad_request", Message: "m",
		MoreInfo: "https://more", Details: []json.RawMessage{json.RawMessage(`{"field":"f","message":"DETAIL"}`)}, Body: "BODY"}
	assert.Equal(t, "emporix: POST /p: 400 bad_request: m", e.Error())
}

func TestAPIErrorFromResponse(t *testing.T) {
	t.Parallel()
	allowOffSpecResponses(t, "decodes error shapes on a status GET /me does not document (404)")
	c, mt := newTestClient(t, WithNoRetries())
	serve(t, mt, "GET", "/customer/mytenant/me", reply{status: 404,
		body:   `{"status":404,"type":"resource_not_found","message":"Customer not found.","moreInfo":"https://docs"}`,
		header: http.Header{"X-Request-Id": {"rid-1"}}})
	_, err := c.Profile.Get(context.Background(), nil)
	require.Error(t, err)
	assert.Equal(t, "emporix: GET /customer/mytenant/me: 404 resource_not_found: Customer not found.", err.Error())
	apiErr := requireAPIError(t, err, 404)
	assert.Equal(t, "GET-customer-retrieve-customer-profile", apiErr.Operation)
	assert.Equal(t, "https://docs", apiErr.MoreInfo)
	assert.Equal(t, "rid-1", apiErr.RequestID)
	assert.Equal(t, 1, apiErr.Attempts)
	require.ErrorIs(t, err, ErrNotFound)

	// The opt-in token in the path is redacted on the error.
	// So is the request's secret in a request identifier that echoes it.
	serve(t, mt, "GET", "/customer/mytenant/signup/optin/OPTIN-s3cr3t", reply{status: 400,
		body:   `{"status":400,"type":"bad_request","message":"bad"}`,
		header: http.Header{"X-Request-Id": {"rid-OPTIN-s3cr3t"}}})
	_, err = c.Auth.ConfirmOptIn(context.Background(), "OPTIN-s3cr3t")
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, "/customer/mytenant/signup/optin/REDACTED", apiErr.Path)
	assert.Equal(t, "rid-REDACTED", apiErr.RequestID)
	assert.NotContains(t, err.Error(), "OPTIN-s3cr3t")
}

func TestAPIErrorIs(t *testing.T) {
	t.Parallel()
	sentinels := []error{ErrBadRequest, ErrUnauthorized, ErrTokenExpired, ErrForbidden, ErrNotFound,
		ErrConflict, ErrRateLimited, ErrServer}
	cases := []struct {
		status int
		code   string
		want   []error
	}{
		{400, "", []error{ErrBadRequest}},
		{401, "", []error{ErrUnauthorized}},
		{401, ErrorCodeInvalidAccessToken, []error{ErrUnauthorized}},
		{401, ErrorCodeAccessTokenExpired, []error{ErrUnauthorized, ErrTokenExpired}},
		{403, ErrorCodeAccessTokenExpired, []error{ErrForbidden}},
		{404, "", []error{ErrNotFound}},
		{409, "", []error{ErrConflict}},
		{429, "", []error{ErrRateLimited}},
		{500, "", []error{ErrServer}},
		{501, "", []error{ErrServer}},
		{502, "", []error{ErrServer}},
		{503, "", []error{ErrServer}},
		{504, "", []error{ErrServer}},
		{599, "", []error{ErrServer}},
		{405, "", nil},
		{408, "", nil},
		{410, "", nil},
		{422, "", nil},
		{499, "", nil},
		{600, "", nil},
		{302, "", nil},
	}
	for _, tc := range cases {
		e := &APIError{StatusCode: tc.status, ErrorCode: tc.code}
		for _, s := range sentinels {
			want := false
			for _, w := range tc.want {
				want = want || w == s
			}
			assert.Equal(t, want, errors.Is(e, s), "status %d code %q sentinel %v", tc.status, tc.code, s)
			wrapped := fmt.Errorf("loading profile: %w", e)
			assert.Equal(t, want, errors.Is(wrapped, s), "wrapped, status %d sentinel %v", tc.status, s)
		}
		for _, other := range []error{ErrInvalidInput, ErrInvalidResponse, ErrNoToken, ErrCustomerTokenRequired,
			ErrAnonymousTokenRequired, errors.New("emporix: not found"), io.EOF, context.Canceled, nil} {
			assert.False(t, errors.Is(e, other), "status %d must not match %v", tc.status, other)
		}
		var got *APIError
		require.ErrorAs(t, fmt.Errorf("x: %w", e), &got)
		assert.Same(t, e, got)
	}
}

func TestAPIErrorTokenRejected(t *testing.T) {
	t.Parallel()
	assert.True(t, (&APIError{StatusCode: 401, ErrorCode: ErrorCodeAccessTokenExpired}).TokenRejected())
	assert.True(t, (&APIError{StatusCode: 401, ErrorCode: ErrorCodeInvalidAccessToken}).TokenRejected())
	assert.False(t, (&APIError{StatusCode: 401}).TokenRejected())
	assert.False(t, (&APIError{StatusCode: 401, ErrorCode: "steps.oauth.v2.FailedToResolveAccessToken"}).TokenRejected())
	assert.False(t, (&APIError{StatusCode: 403, ErrorCode: ErrorCodeAccessTokenExpired}).TokenRejected())
	assert.False(t, (&APIError{StatusCode: 400, ErrorCode: ErrorCodeInvalidAccessToken}).TokenRejected())
}

func filled(body string) *APIError {
	e := &APIError{}
	e.fill([]byte(body), nil, nil)
	return e
}

func TestAPIErrorFillErrorMessage(t *testing.T) {
	t.Parallel()
	e := filled(`{"status":400,"type":"bad_request","message":"The tenant information provided with the request is not valid.",
		"moreInfo":"https://developer.emporix.io","details":[{"field":"email","type":"invalid","message":"must not be empty","moreInfo":""},
		"missing scope: customer.customer_manage"],"errorCode":"CUSTOMER-400001"}`)
	assert.Equal(t, "bad_request", e.Type)
	assert.Equal(t, "The tenant information provided with the request is not valid.", e.Message)
	assert.Equal(t, "https://developer.emporix.io", e.MoreInfo)
	assert.Equal(t, "CUSTOMER-400001", e.ErrorCode)
	assert.Empty(t, e.Body)
	require.Len(t, e.Details, 2)
	var obj struct{ Field, Type, Message string }
	require.NoError(t, json.Unmarshal(e.Details[0], &obj))
	assert.Equal(t, "email", obj.Field)
	assert.Equal(t, "must not be empty", obj.Message)
	var s string
	require.NoError(t, json.Unmarshal(e.Details[1], &s))
	assert.Equal(t, "missing scope: customer.customer_manage", s)

	// Details as strings only, as some tenants send them.
	e = filled(`{"status":403,"type":"Forbidden","message":"no","details":["missing scope: a","missing scope: b"]}`)
	assert.Equal(t, "Forbidden", e.Type, "type is kept even when it breaks the spec's pattern")
	require.Len(t, e.Details, 2)
	assert.JSONEq(t, `"missing scope: b"`, string(e.Details[1]))

	// A single detail sent without the array.
	e = filled(`{"message":"m","details":"missing scope: c"}`)
	require.Len(t, e.Details, 1)
	assert.JSONEq(t, `"missing scope: c"`, string(e.Details[0]))
	e = filled(`{"message":"m","details":{"field":"x"}}`)
	require.Len(t, e.Details, 1)
	e = filled(`{"message":"m","details":null}`)
	assert.Empty(t, e.Details)
	e = filled(`{"message":"m","details":42}`)
	assert.Empty(t, e.Details)
	assert.Equal(t, "m", e.Message)

	// A field of an unexpected type loses only itself.
	e = filled(`{"status":"four hundred","type":{"a":1},"message":"still here","moreInfo":7}`)
	assert.Equal(t, "still here", e.Message)
	assert.Empty(t, e.Type)
	assert.Empty(t, e.MoreInfo)
	assert.Empty(t, e.Body)
}

func TestAPIErrorFillFault(t *testing.T) {
	t.Parallel()
	e := filled(`{"fault":{"faultstring":"Invalid access token","detail":{"errorcode":"oauth.v2.InvalidAccessToken"}}}`)
	assert.Equal(t, "Invalid access token", e.Message)
	assert.Equal(t, ErrorCodeInvalidAccessToken, e.ErrorCode)
	assert.Empty(t, e.Type)
	assert.Empty(t, e.Body)

	e = filled(`{"fault":{"faultstring":"Access Token expired","detail":{"errorcode":"keymanagement.service.access_token_expired"}}}`)
	e.StatusCode = 401
	assert.True(t, errors.Is(e, ErrTokenExpired))
	assert.True(t, e.TokenRejected())

	// Partial or odd faults.
	e = filled(`{"fault":{"faultstring":"Rate limit"}}`)
	assert.Equal(t, "Rate limit", e.Message)
	assert.Empty(t, e.ErrorCode)
	e = filled(`{"fault":{"faultstring":"Gateway says no","detail":"not an object"}}`)
	assert.Equal(t, "Gateway says no", e.Message)
	assert.Empty(t, e.ErrorCode)
	e = filled(`{"fault":"broken"}`)
	assert.Empty(t, e.Message)
	assert.Equal(t, `{"fault":"broken"}`, e.Body, "an odd fault is kept as the explanation")

	// End to end: a 401 fault from the gateway.
	c, mt := newTestClient(t)
	serve(t, mt, "GET", "/customer/mytenant/me/addresses",
		jsonReply(401, `{"fault":{"faultstring":"Access Token expired","detail":{"errorcode":"keymanagement.service.access_token_expired"}}}`))
	_, err := c.Addresses.List(context.Background())
	require.ErrorIs(t, err, ErrUnauthorized)
	require.ErrorIs(t, err, ErrTokenExpired)
	assert.Equal(t, "emporix: GET /customer/mytenant/me/addresses: 401 keymanagement.service.access_token_expired: Access Token expired", err.Error())
}

func TestAPIErrorFillUnknownJSONMasked(t *testing.T) {
	t.Parallel()
	// An error status may carry a token response: an unrecognised JSON body
	// is kept, capped, with every credential-like member masked.
	cases := []struct{ body, want string }{
		{`{"access_token":"LEAKED-ACCESS","refresh_token":"LEAKED-REFRESH","token_type":"Bearer","expires_in":3599}`,
			`{"access_token":"REDACTED","refresh_token":"REDACTED","token_type":"REDACTED","expires_in":3599}`},
		{`{"message":12,"access_token":"LEAKED-ACCESS"}`, `{"message":12,"access_token":"REDACTED"}`},
		{`{"access_token":"LEAKED-ACCESS"`, `{"access_token":"REDACTED"`}, // truncated: what came before the cut
		{`{"fault":{"faultstring":{"x":1,"idToken":"LEAKED-ACCESS"}}}`, `{"fault":{"faultstring":{"x":1,"idToken":"REDACTED"}}}`},
		{`[{"access_token":"LEAKED-ACCESS"}]`, `[{"access_token":"REDACTED"}]`},
		{`  {"data":{"saas_token":"LEAKED-ACCESS","n":[1,true,null]}}  `, `{"data":{"saas_token":"REDACTED","n":[1,true,null]}}`},
		{`{"Password":{"nested":["LEAKED-ACCESS"]},"sessionId":"LEAKED-ACCESS","ok":"<kept>"}`,
			`{"Password":"REDACTED","sessionId":"REDACTED","ok":"<kept>"}`},
		{`{"client-secret":"LEAKED-ACCESS"} trailing garbage`, `{"client-secret":"REDACTED"}`},
	}
	for _, tc := range cases {
		e := filled(tc.body)
		assert.Equal(t, tc.want, e.Body, tc.body)
		assert.Empty(t, e.Message, tc.body)
		assert.Empty(t, e.Details, tc.body)
		assert.NotContains(t, fmt.Sprintf("%#v %+v", e, e), "LEAKED", tc.body)
	}
	long := filled(`{"list":[` + strings.Repeat(`1,`, maxSnippet) + `1]}`)
	assert.Len(t, long.Body, maxSnippet+len("…"), "capped")

	// End to end, on every printing of the error.
	c, mt := newTestClient(t, WithNoRetries())
	serve(t, mt, "POST", "/customer/mytenant/login",
		jsonReply(500, `{"access_token":"LEAKED-ACCESS","refresh_token":"LEAKED-REFRESH","saas_token":"LEAKED-SAAS","status":"odd"}`))
	_, err := c.Auth.Login(context.Background(), &LoginRequest{Email: "a@example.com", Password: secretPassword})
	apiErr := requireAPIError(t, err, 500)
	assert.Equal(t, `{"access_token":"REDACTED","refresh_token":"REDACTED","saas_token":"REDACTED","status":"odd"}`, apiErr.Body)
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%d"} {
		assert.NotContains(t, fmt.Sprintf(verb, err), "LEAKED", verb)
	}

	// The request's own secrets are masked in the snippet too, in any
	// member, before the cut.
	serve(t, mt, "POST", "/customer/mytenant/login",
		jsonReply(400, `{"echo":"`+strings.Repeat("x", maxSnippet-20)+secretPassword+`"}`))
	_, err = c.Auth.Login(context.Background(), &LoginRequest{Email: "a@example.com", Password: secretPassword})
	require.ErrorAs(t, err, &apiErr)
	assert.NotContains(t, apiErr.Body, secretPassword[:8])
	assert.Contains(t, apiErr.Body, "REDACTED")
}

func TestAPIErrorFillTextMasksCredentialPairs(t *testing.T) {
	t.Parallel()
	// A text body may carry credentials as name=value pairs: a
	// form-encoded token response on an error status, or a proxy's page
	// quoting a URL. The value of every credential-like name is masked,
	// the rest kept.
	cases := []struct{ body, want string }{
		{"access_token=LEAKED-ACCESS&token_type=bearer&expires_in=3599&scope=openid",
			"access_token=REDACTED&token_type=REDACTED&expires_in=3599&scope=openid"},
		{"error=invalid_grant;refreshToken=LEAKED-REFRESH;x=1", "error=invalid_grant;refreshToken=REDACTED;x=1"},
		{`<html><a href="/cb?state=s1&amp;id_token=LEAKED-ID">back</a> password=LEAKED-PW</html>`,
			`<html><a href="/cb?state=s1&amp;id_token=REDACTED">back</a> password=REDACTED</html>`},
		{"client-secret=LEAKED-SECRET\nSESSION.ID=LEAKED-SID", "client-secret=REDACTED\nSESSION.ID=REDACTED"},
		{"no pairs here, a = b, token= and password=", "no pairs here, a = b, token= and password="},
		// A URL as another pair's value does not hide the pairs in it,
		// also where it is URL-encoded; '=' escaped as JavaScript or
		// HTML writes it.
		{"next=https://shop.example/cb?access_token=LEAKED-ACCESS&state=1",
			"next=https://shop.example/cb?access_token=REDACTED&state=1"},
		{"error=x&redirect_uri=https%3A%2F%2Fshop%2Fcb%3Faccess_token%3DLEAKED-ACCESS%26state%3Dok",
			"error=x&redirect_uri=https%3A%2F%2Fshop%2Fcb%3Faccess_token%3DREDACTED%26state%3Dok"},
		{"state=https%253A%252F%252Fshop%252Fcb%253Fid_token%253DLEAKED-ID%2526x%253D1",
			"state=https%253A%252F%252Fshop%252Fcb%253Fid_token%253DREDACTED%2526x%253D1"},
		{`<script>var u="/cb?access_token\u003DLEAKED-ACCESS\u0026state\u003d1";</script>`,
			`<script>var u="/cb?access_token\u003DREDACTED\u0026state\u003d1";</script>`},
		{"<p>id_token&#61;LEAKED-ID&amp;x&#x3D;1 Password&#X3d;LEAKED-PW refresh_token&equals;LEAKED-R</p>",
			"<p>id_token&#61;REDACTED&amp;x&#x3D;1 Password&#X3d;REDACTED refresh_token&equals;REDACTED</p>"},
	}
	for _, tc := range cases {
		e := filled(tc.body)
		assert.Equal(t, tc.want, e.Body, tc.body)
		assert.NotContains(t, strings.Join(printings(e), "\n"), "LEAKED", tc.body)
	}
	// The same pairs in a JSON error's texts, its Details and their
	// fields, also where the server escaped the '='.
	e := filled(`{"message":"bad request: refresh_token=LEAKED-REFRESH","moreInfo":"https://x/?session_id=LEAKED-SID&a=1",` +
		`"details":[{"field":"q","message":"id_token\u003DLEAKED-ID or token\u003dLEAKED-T"},"apikey=LEAKED-KEY; ok=1",` +
		`"next=https://x/cb?id_token=LEAKED-ID","back=https%3A%2F%2Fx%3Fsession_id%3DLEAKED-SID"]}`)
	assert.Equal(t, "bad request: refresh_token=REDACTED", e.Message)
	assert.Equal(t, e.Message, e.ServerMessage, "the server's own words are not spared a credential")
	assert.Equal(t, "https://x/?session_id=REDACTED&a=1", e.MoreInfo)
	if assert.Len(t, e.Details, 4) && assert.Len(t, e.Fields, 4) {
		assert.JSONEq(t, `{"field":"q","message":"id_token=REDACTED or token=REDACTED"}`, string(e.Details[0]))
		assert.JSONEq(t, `"apikey=REDACTED; ok=1"`, string(e.Details[1]))
		assert.Equal(t, "id_token=REDACTED or token=REDACTED", e.Fields[0].Message)
		assert.Equal(t, "apikey=REDACTED; ok=1", e.Fields[1].Message)
		assert.Equal(t, `"next=https://x/cb?id_token=REDACTED"`, string(e.Details[2]))
		assert.Equal(t, `"back=https%3A%2F%2Fx%3Fsession_id%3DREDACTED"`, string(e.Details[3]))
	}
	assert.NotContains(t, strings.Join(printings(e), "\n"), "LEAKED")

	// A JSON member quoted in text is a pair too: a message or a page
	// that quotes a token answer. An unquoted value is masked only as a
	// number, so that prose naming a field keeps its words.
	e = filled(`{"message":"upstream answered {\"access_token\": \"LEAKED A\\\"T\", \"pin_token\":12345}",` +
		`"details":["{\"refresh_token\":\"LEAKED-R\"}","\"password\": must not be empty"]}`)
	assert.Equal(t, `upstream answered {"access_token": "REDACTED", "pin_token":"REDACTED"}`, e.Message)
	if assert.Len(t, e.Details, 2) {
		assert.Equal(t, `"{\"refresh_token\":\"REDACTED\"}"`, string(e.Details[0]))
		assert.Equal(t, `"\"password\": must not be empty"`, string(e.Details[1]))
	}
	assert.NotContains(t, strings.Join(printings(e), "\n"), "LEAKED")
	e = filled(`<pre>{&quot;id_token&quot;:&quot;LEAKED ID&quot;,&quot;x&quot;:1}</pre>`)
	assert.Equal(t, `<pre>{&quot;id_token&quot;:&quot;REDACTED&quot;,&quot;x&quot;:1}</pre>`, e.Body)

	// A Details entry whose only escapes spell the '%' or '&' of an
	// escaped '=' is read decoded too.
	e = filled(`{"message":"m","details":["token\u00253DLEAKED-T","id_token\u0026#61;LEAKED-ID"]}`)
	if assert.Len(t, e.Details, 2) {
		assert.Equal(t, `"token%3DREDACTED"`, string(e.Details[0]))
		assert.Equal(t, `"id_token&#61;REDACTED"`, string(e.Details[1]))
	}
	assert.NotContains(t, strings.Join(printings(e), "\n"), "LEAKED")

	// Masked before the cut, so a pair across it cannot show in part.
	e = filled(strings.Repeat("x", maxSnippet-10) + " access_token=LEAKED-ACCESS-TOKEN-LONG")
	assert.NotContains(t, e.Body, "LEAKED")
	assert.True(t, strings.HasSuffix(e.Body, "…"))
}

// Not parallel: it measures what masking allocates.
func TestMaskCredentialPairsCostIsLinear(t *testing.T) {
	// A body of many URL-encoded pairs with no separator a value ends
	// at: each value must be read to its own end, not the body's, or a
	// 1 MiB error body takes minutes. What masking allocates stands for
	// the work: four times the text may cost about four times as much,
	// not sixteen.
	allocated := func(pairs int) uint64 {
		text := strings.Repeat("token%3Dx%26", pairs)
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		masked := maskCredentialPairs(text)
		runtime.ReadMemStats(&after)
		assert.Equal(t, strings.Repeat("token%3DREDACTED%26", pairs), masked)
		return after.TotalAlloc - before.TotalAlloc
	}
	small, large := allocated(4000), allocated(16000)
	assert.Less(t, large, 8*small, "bytes allocated to mask 4000 pairs: %d, 16000 pairs: %d", small, large)
}

func TestAPIErrorCredentialPairNamedWithSecret(t *testing.T) {
	t.Parallel()
	// The request's secrets are masked first, also in a pair's name:
	// the pair's value is masked as well, whatever the secret, so that
	// neither the value of a name the secret made unreadable shows, nor
	// the mask tells whether the secret was a credential word.
	c := fuzzClient(t, nil)
	for secret, body := range map[string]string{"session": "jsessionid=LEAKED-SID&x=1", "frffvba": "jfrffvbaid=LEAKED-SID&x=1"} {
		e := fuzzAPIError(c, 502, []byte(body), secret)
		assert.Equal(t, "jREDACTEDid=REDACTED&x=1", e.Body, secret)
	}
	// The same for a JSON member named with the secret, whatever its value.
	for _, secret := range []string{"password", "cnffjbeq"} {
		e := fuzzAPIError(c, 400, []byte(`{"message":"m","details":[{"`+secret+`":12345678,"n":1},{"`+secret+`":"v1234567"}]}`), secret)
		if assert.Len(t, e.Details, 2, secret) {
			assert.Equal(t, `{"REDACTED":"REDACTED","n":1}`, string(e.Details[0]), secret)
			assert.Equal(t, `{"REDACTED":"REDACTED"}`, string(e.Details[1]), secret)
		}
		e = fuzzAPIError(c, 400, []byte(`{"`+secret+`":12345678,"n":true,"m":{"`+secret+`":false}}`), secret)
		assert.Equal(t, `{"REDACTED":"REDACTED","n":true,"m":{"REDACTED":"REDACTED"}}`, e.Body, secret)
	}
}

func TestAPIErrorNumericSecretInDetailsKeepsTheEntry(t *testing.T) {
	t.Parallel()
	// A secret echoed as a JSON number (a PIN or a numeric code) is
	// masked as a string in its place: the entry stays an object, and
	// its FieldError keeps the field it names.
	c := fuzzClient(t, nil)
	e := fuzzAPIError(c, 400, []byte(`{"message":"m","details":[{"field":"pin","rejected":12345678},[9123456789],12345678]}`), "12345678")
	require.Len(t, e.Details, 3)
	assert.Equal(t, `{"field":"pin","rejected":"REDACTED"}`, string(e.Details[0]))
	assert.Equal(t, `["9REDACTED9"]`, string(e.Details[1]))
	assert.Equal(t, `"REDACTED"`, string(e.Details[2]))
	require.NotEmpty(t, e.Fields)
	assert.Equal(t, "pin", e.Fields[0].Field)

	// So is a personal value of the request echoed as a number.
	p := &APIError{}
	p.fill([]byte(`{"message":"m","details":[{"field":"contactPhone","rejected":1701234567}]}`), nil, []string{"1701234567"})
	require.Len(t, p.Details, 1)
	assert.Equal(t, `{"field":"contactPhone","rejected":"***"}`, string(p.Details[0]))
}

func TestAPIErrorDetailsEncodedAnewKeepEveryMember(t *testing.T) {
	t.Parallel()
	// An escape makes a Details entry be masked in its decoded strings and
	// encoded anew: every member stays, in the server's order, also where
	// two names mask alike.
	e := filled(`{"message":"m","details":[{"jane\u0040example.com":"1","john@example.com":"2"},` +
		`{"z":"jane\u0040example.com","field":"email","z":"again"}]}`)
	require.Len(t, e.Details, 2)
	assert.Equal(t, `{"j***@example.com":"1","j***@example.com":"2"}`, string(e.Details[0]))
	assert.Equal(t, `{"z":"j***@example.com","field":"email","z":"again"}`, string(e.Details[1]))
	require.Len(t, e.Fields, 1)
	assert.Equal(t, "email", e.Fields[0].Field)
}

func TestAPIErrorKeepsAtMostMaxDetails(t *testing.T) {
	t.Parallel()
	// Each entry is masked on its own: the first maxDetails are kept, in
	// order, and the rest of an oversized list is dropped, not the error.
	entries := make([]string, maxDetails+50)
	for i := range entries {
		entries[i] = fmt.Sprintf(`{"field":"f%d","message":"m"}`, i)
	}
	e := filled(`{"message":"too many","details":[` + strings.Join(entries, ",") + `]}`)
	assert.Equal(t, "too many", e.Message)
	require.Len(t, e.Details, maxDetails)
	require.Len(t, e.Fields, maxDetails)
	assert.Equal(t, "f0", e.Fields[0].Field)
	assert.Equal(t, fmt.Sprintf("f%d", maxDetails-1), e.Fields[maxDetails-1].Field)
	assert.Equal(t, maxDetails, cap(e.Details), "the dropped entries are not held")

	exact := filled(`{"message":"m","details":[` + strings.Join(entries[:maxDetails], ",") + `]}`)
	assert.Len(t, exact.Details, maxDetails, "exactly the cap: all kept")
}

func TestAPIErrorFillShapes(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, body         string
		message, code, typ string
		bodyKept           bool
	}{
		{name: "OAuth 2.0 error", body: `{"error":"invalid_client","error_description":"Client authentication failed"}`,
			message: "Client authentication failed", code: "invalid_client"},
		{name: "OAuth 2.0 error without description", body: `{"error":"invalid_grant"}`, message: "invalid_grant"},
		{name: "Apigee token endpoint", body: `{"ErrorCode":"invalid_client","Error":"ClientId is Invalid"}`,
			message: "ClientId is Invalid", code: "invalid_client"},
		{name: "any capitalisation", body: `{"ERRORCODE":"E1","ERROR":"Shouting"}`, message: "Shouting", code: "E1"},
		{name: "capitalised message", body: `{"Message":"Upper","Type":"t"}`, message: "Upper", typ: "t"},
		{name: "lower case wins a clash", body: `{"MESSAGE":"b","message":"a","Message":"c"}`, message: "a"},
		{name: "errors list", body: `{"errors":[{"message":"first"},{"message":"second","code":"X"}]}`, message: "first; second"},
		{name: "errors as strings", body: `{"errors":["one","two"]}`, message: "one; two"},
		{name: "JSON:API errors", body: `{"errors":[{"status":"422","title":"Invalid Attribute","detail":"First name must contain at least two characters."}]}`,
			message: "First name must contain at least two characters."},
		{name: "message as array", body: `{"statusCode":400,"message":["email must be an email","password is too short"],"error":"Bad Request"}`,
			message: "email must be an email; password is too short"},
		{name: "message as object", body: `{"message":{"en":"Invalid e-mail"}}`, message: "Invalid e-mail"},
		{name: "message as nested object", body: `{"message":{"message":"inner","code":"c"}}`, message: "inner"},
		{name: "message object skips credentials", body: `{"message":{"access_token":"LEAKED","text":"visible"}}`, message: "visible"},
		{name: "error object", body: `{"error":{"code":"NOT_FOUND","message":"No such customer"}}`, message: "No such customer", code: "NOT_FOUND"},
		{name: "error object, capitalised", body: `{"Error":{"Code":"Throttled","Message":"Slow down"}}`, message: "Slow down", code: "Throttled"},
		{name: "problem details", body: `{"type":"about:blank","title":"Not Found","status":404,"detail":"Customer 42 not found"}`,
			message: "Customer 42 not found", typ: "about:blank"},
		{name: "problem details without detail", body: `{"title":"Not Found","status":404}`, message: "Not Found"},
		{name: "Spring Boot", body: `{"timestamp":"2024-01-01T00:00:00Z","status":500,"error":"Internal Server Error","message":"boom","path":"/x"}`,
			message: "boom"},
		{name: "top-level array", body: `[{"message":"a"},"b"]`, message: "a; b"},
		{name: "code and msg", body: `{"code":"E42","msg":"short"}`, message: "short", code: "E42"},
		{name: "no message anywhere", body: `{"status":503,"retry":true}`, bodyKept: true},
		{name: "empty message", body: `{"message":"","hint":"try later"}`, bodyKept: true},
		{name: "message of no text", body: `{"message":{"nested":1}}`, bodyKept: true},
		{name: "array of numbers", body: `[1,2]`, bodyKept: true},
		{name: "broken JSON", body: `{"message":"cut`, bodyKept: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := filled(tc.body)
			assert.Equal(t, tc.message, e.Message)
			assert.Equal(t, tc.code, e.ErrorCode)
			assert.Equal(t, tc.typ, e.Type)
			if tc.bodyKept {
				assert.NotEmpty(t, e.Body, "an unrecognised body is the only explanation")
			} else {
				assert.Empty(t, e.Body, "a found message is the explanation")
			}
			assert.NotContains(t, fmt.Sprintf("%+v", e), "LEAKED")
		})
	}

	// A many-entry list is capped.
	many := `{"errors":[` + strings.Repeat(`"m",`, 50) + `"m"]}`
	assert.Equal(t, strings.Repeat("m; ", maxExplainParts-1)+"m", filled(many).Message)

	// End to end: the 401 of an OAuth endpoint keeps its explanation.
	c, mt := newTestClient(t, WithNoRetries())
	serve(t, mt, "GET", "/customer/mytenant/me",
		jsonReply(401, `{"error":"invalid_client","error_description":"Client authentication failed"}`))
	_, err := c.Profile.Get(context.Background(), nil)
	apiErr := requireAPIError(t, err, 401)
	require.ErrorIs(t, err, ErrUnauthorized)
	assert.Equal(t, "Client authentication failed", apiErr.Message)
	assert.Equal(t, "invalid_client", apiErr.ErrorCode)
	assert.Equal(t, "emporix: GET /customer/mytenant/me: 401 invalid_client: Client authentication failed", err.Error())
	assert.False(t, apiErr.TokenRejected(), "a rejected client is not a rejected token")
}

func TestAPIErrorFillSnippet(t *testing.T) {
	t.Parallel()
	allowOffSpecResponses(t, "error bodies that are not ErrorMessage: empty, HTML, truncated")
	e := filled("  <html><body>Bad Gateway</body></html>\n")
	assert.Equal(t, "<html><body>Bad Gateway</body></html>", e.Body)
	assert.Empty(t, e.Message)

	e = filled(`"a JSON string"`)
	assert.Equal(t, `"a JSON string"`, e.Body, "not an object: kept as text")

	exact := strings.Repeat("a", maxSnippet)
	assert.Equal(t, exact, filled(exact).Body, "exactly the cap: kept whole")

	long := strings.Repeat("b", maxSnippet+1)
	assert.Equal(t, strings.Repeat("b", maxSnippet)+"…", filled(long).Body)

	for _, body := range []string{
		strings.Repeat("é", 400),                   // 2-byte runes; 512 falls on a boundary
		"x" + strings.Repeat("é", 400),             // boundary in the middle of a rune
		"a" + strings.Repeat("😀", 200),             // 4-byte runes
		"ab" + strings.Repeat("日本語", 100),          // 3-byte runes
		strings.Repeat("z", 511) + "😀" + "tail...", // a rune across the cap
	} {
		got := filled(body).Body
		require.True(t, utf8.ValidString(got), "snippet must be valid UTF-8")
		require.True(t, strings.HasSuffix(got, "…"))
		cut := strings.TrimSuffix(got, "…")
		assert.LessOrEqual(t, len(cut), maxSnippet)
		assert.Greater(t, len(cut), maxSnippet-utf8.UTFMax)
		assert.True(t, strings.HasPrefix(body, cut))
	}

	// Empty and blank bodies leave everything empty.
	for _, body := range []string{"", "   ", "\n\t"} {
		e := filled(body)
		assert.Equal(t, APIError{}, *e)
	}
	var nilBody APIError
	nilBody.fill(nil, nil, nil)
	assert.Equal(t, APIError{}, nilBody)

	// End to end, an error with an empty body still says what happened.
	c, mt := newTestClient(t, WithNoRetries())
	serve(t, mt, "GET", "/customer/mytenant/me", reply{status: 403})
	_, err := c.Profile.Get(context.Background(), nil)
	require.ErrorIs(t, err, ErrForbidden)
	assert.Equal(t, "emporix: GET /customer/mytenant/me: 403 Forbidden", err.Error())

	// A huge HTML page is capped on the error.
	serve(t, mt, "GET", "/customer/mytenant/me/addresses", reply{status: 502, body: "<html>" + strings.Repeat("x", 100000) + "</html>"})
	_, err = c.Addresses.List(context.Background())
	apiErr := requireAPIError(t, err, 502)
	assert.LessOrEqual(t, len(apiErr.Body), maxSnippet+len("…"))
}

func TestValidationError(t *testing.T) {
	t.Parallel()
	e := &ValidationError{Field: "LoginRequest.Password", Reason: "must be at least 6 characters long"}
	assert.Equal(t, "emporix: invalid LoginRequest.Password: must be at least 6 characters long", e.Error())
	assert.ErrorIs(t, e, ErrInvalidInput)
	assert.ErrorIs(t, fmt.Errorf("x: %w", e), ErrInvalidInput)
	for _, other := range []error{ErrBadRequest, ErrInvalidResponse, ErrNoToken} {
		assert.NotErrorIs(t, e, other)
	}

	// A refused value is described, never quoted.
	c, mt := newTestClient(t)
	_, err := c.Auth.Login(context.Background(), &LoginRequest{Email: "a@example.com", Password: "x1y2z"})
	requireInvalid(t, err, "LoginRequest.Password")
	assert.NotContains(t, err.Error(), "x1y2z")
	requireNoRequests(t, mt)
}

func TestRequestError(t *testing.T) {
	t.Parallel()
	e := &RequestError{Method: "GET", Path: "/customer/mytenant/me", Operation: "op", Attempts: 1, Err: io.ErrUnexpectedEOF}
	assert.Equal(t, "emporix: GET /customer/mytenant/me: unexpected EOF", e.Error())
	e.Attempts = 3
	assert.Equal(t, "emporix: GET /customer/mytenant/me: unexpected EOF (after 3 attempts)", e.Error())
	assert.ErrorIs(t, e, io.ErrUnexpectedEOF)

	for _, cause := range []error{context.Canceled, context.DeadlineExceeded} {
		e := &RequestError{Method: "POST", Path: "/p", Err: cause}
		assert.ErrorIs(t, e, cause)
		assert.ErrorIs(t, fmt.Errorf("wrapped: %w", e), cause)
		assert.Equal(t, cause, errors.Unwrap(e))
	}
	opErr := &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("refused")}
	var got *net.OpError
	require.ErrorAs(t, &RequestError{Method: "GET", Path: "/p", Err: opErr}, &got)
	assert.Same(t, opErr, got)
	assert.NotErrorIs(t, &RequestError{Err: io.EOF}, ErrServer)

	// A per-attempt timeout keeps its net.Error nature.
	c, mt := newTestClient(t, WithNoRetries())
	serve(t, mt, "GET", "/customer/mytenant/me", reply{err: &net.OpError{Op: "read", Net: "tcp", Err: timeoutError{}}})
	_, err := c.Profile.Get(context.Background(), nil)
	var netErr net.Error
	require.ErrorAs(t, err, &netErr)
	assert.True(t, netErr.Timeout())
	var reqErr *RequestError
	require.ErrorAs(t, err, &reqErr)
	assert.Equal(t, "GET-customer-retrieve-customer-profile", reqErr.Operation)
}

func TestResponseError(t *testing.T) {
	t.Parallel()
	allowOffSpecResponses(t, "malformed and empty success bodies are the point of this test")
	e := &ResponseError{Method: "GET", Path: "/p", StatusCode: 200, Reason: "empty body"}
	assert.Equal(t, "emporix: GET /p: 200 response unusable: empty body", e.Error())
	assert.ErrorIs(t, e, ErrInvalidResponse)
	assert.NotErrorIs(t, e, ErrServer)
	assert.Nil(t, errors.Unwrap(e))

	// End to end: malformed JSON is reported without the body.
	c, mt := newTestClient(t)
	serve(t, mt, "GET", "/customer/mytenant/me", jsonReply(200, `{"id":"BODY-s3cr3t","firstName":`))
	_, err := c.Profile.Get(context.Background(), nil)
	require.ErrorIs(t, err, ErrInvalidResponse)
	re := requireResponseError(t, err, 200)
	assert.Equal(t, "malformed JSON", re.Reason)
	assert.NotContains(t, err.Error(), "BODY-s3cr3t")
	var syntaxErr *json.SyntaxError
	assert.True(t, errors.As(err, &syntaxErr) || strings.Contains(err.Error(), "JSON"), err)

	// A success with no body where one is required.
	serve(t, mt, "GET", "/customer/mytenant/me/addresses/a1", reply{status: 200})
	_, err = c.Addresses.Get(context.Background(), "a1")
	require.ErrorIs(t, err, ErrInvalidResponse)
	assert.Contains(t, err.Error(), "empty body")

	// A token response without an access token.
	serve(t, mt, "POST", "/customer/mytenant/login", jsonReply(200, `{"refresh_token":"BODY-REFRESH-s3cr3t","saas_token":"BODY-SAAS-s3cr3t"}`))
	_, err = c.Auth.Login(context.Background(), &LoginRequest{Email: "a@example.com", Password: secretPassword})
	require.ErrorIs(t, err, ErrInvalidResponse)
	assert.Equal(t, "emporix: POST /customer/mytenant/login: 200 response unusable: token response without access_token", err.Error())
}
