package emporix

import (
	"errors"
	"go/ast"
	"go/parser"
	"go/token"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/emporix-go/emporix/internal/spectest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestSpecConformanceEnv reports whether the conformance layer is active.
func TestSpecConformanceEnv(t *testing.T) {
	spec := requireSpec(t)
	require.NotNil(t, spec)
	t.Logf("spec conformance active; spec patches applied: %q", spectest.Patches())
}

// A folder that is set but holds no spec must fail, never skip.
func TestSpecConformanceBrokenDir(t *testing.T) {
	_, err := spectest.Load(t.TempDir())
	require.Error(t, err)
	_, err = spectest.Load("")
	require.Error(t, err)
}

// TestSpecConformanceAuthQuirks pins the security quirks the SDK's auth
// kinds rely on, so an upstream change is noticed.
func TestSpecConformanceAuthQuirks(t *testing.T) {
	spec := requireSpec(t)
	op := func(id string) *spectest.Operation {
		o, ok := spec.Operation(id)
		require.True(t, ok, id)
		return o
	}
	// refreshauthtoken: anonymous per security, although its Authorization
	// parameter describes a customer token (inventory §3.1).
	refresh := op(opRefreshCustomer.ID)
	assert.Equal(t, [][]string{{spectest.SchemeAnonymous}}, refresh.Security)
	assert.True(t, refresh.AuthorizationRequired)
	// exchangeauthtoken: security: [] plus a required Authorization header
	// for the anonymous token (inventory §1 #8).
	exchange := op(opExchange.ID)
	assert.Empty(t, exchange.Security)
	assert.True(t, exchange.AuthorizationRequired)
	// GET /me: customer or anonymous.
	assert.ElementsMatch(t, [][]string{{spectest.SchemeCustomer}, {spectest.SchemeAnonymous}}, op(opProfileGet.ID).Security)
	// email change confirm: anonymous despite the /me/ path.
	assert.Equal(t, [][]string{{spectest.SchemeAnonymous}}, op(opEmailChangeConfirm.ID).Security)
}

// TestSpecConformanceOperationVarsListed: the package declares one
// operation var, op("id"), for each SDK row of the operation table, so a
// row cannot lack its method's operation nor a method its row.
func TestSpecConformanceOperationVarsListed(t *testing.T) {
	files, err := filepath.Glob("*.go")
	require.NoError(t, err)
	var declared []string
	fset := token.NewFileSet()
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		file, err := parser.ParseFile(fset, f, nil, 0)
		require.NoError(t, err)
		ast.Inspect(file, func(n ast.Node) bool {
			if vs, ok := n.(*ast.ValueSpec); ok {
				for _, v := range vs.Values {
					if ce, ok := v.(*ast.CallExpr); ok && len(ce.Args) == 1 {
						if fn, ok := ce.Fun.(*ast.Ident); ok && fn.Name == "op" {
							id, err := strconv.Unquote(ce.Args[0].(*ast.BasicLit).Value)
							require.NoError(t, err)
							declared = append(declared, id)
						}
					}
				}
			}
			return true
		})
	}
	var rows []string
	for _, row := range sdkRows() {
		rows = append(rows, row.ID)
	}
	assert.ElementsMatch(t, rows, declared, "the table's SDK rows vs the package's op(id) vars")
}

// specRequest builds a request as the SDK would send it to the test base.
func specRequest(method, path, query string, header http.Header, body string) (*http.Request, []byte) {
	target := testBase + path
	if query != "" {
		target += "?" + query
	}
	req, err := http.NewRequest(method, target, strings.NewReader(body))
	if err != nil {
		panic(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	if body != "" && req.Header.Get("Content-Type") == "" {
		req.Header.Set("Content-Type", "application/json")
	}
	return req, []byte(body)
}

func hdr(kv ...string) http.Header {
	h := http.Header{}
	for i := 0; i+1 < len(kv); i += 2 {
		h.Set(kv[i], kv[i+1])
	}
	return h
}

var (
	withAnon = hdr("Authorization", bearer(anonAccess))
	withCust = hdr("Authorization", bearer(custAccess))
)

// TestSpecConformanceRequests proves the request validator accepts what
// the spec allows and catches what it does not, so the layer cannot pass
// everything silently.
func TestSpecConformanceRequests(t *testing.T) {
	spec := requireSpec(t)
	cases := []struct {
		name                string
		method, path, query string
		header              http.Header
		body                string
		want                string // a problem kind, or "" for valid
	}{
		// Positive controls.
		{"valid anonymous login", "GET", "/customerlogin/auth/anonymous/login", "tenant=mytenant&client_id=x&currency=EUR", nil, "", ""},
		{"valid anonymous refresh without deprecated anonymous_token (patched)", "GET", "/customerlogin/auth/anonymous/refresh", "tenant=mytenant&client_id=x&refresh_token=r", nil, "", ""},
		{"valid profile patch", "PATCH", "/customer/mytenant/me", "", withCust, `{"firstName":"Jo","metadata":{"version":3},"mixins":{"x":{"y":1}}}`, ""},
		{"valid profile merge patch", "PATCH", "/customer/mytenant/me", "", hdr("Authorization", bearer(custAccess), "Content-Type", contentMergePatch), `{"firstName":"Jo"}`, ""},
		{"valid GET /me with anonymous token", "GET", "/customer/mytenant/me", "expand=addresses,mixin:*", withAnon, "", ""},
		{"valid GET /me with customer token", "GET", "/customer/mytenant/me", "", withCust, "", ""},
		{"valid tags", "POST", "/customer/mytenant/me/addresses/a1/tags", "tags=BILLING,SHIPPING", withCust, "", ""},
		{"valid login", "POST", "/customer/mytenant/login", "", withAnon, `{"email":"a@b.c","password":"secret1"}`, ""},
		{"valid exchange", "POST", "/customer/mytenant/exchangeauthtoken", "subjectAccessToken=jwt", withAnon, "", ""},
		{"valid escaped opt-in token", "GET", "/customer/mytenant/signup/optin/a%2Fb%3Dc", "", withAnon, "", ""},
		{"valid social login with session-id", "POST", "/customer/mytenant/socialLogin", "code=c&redirect_uri=https%3A%2F%2Fshop", hdr("Authorization", bearer(anonAccess), "session-id", "s", "User-Agent", "x", "Accept", "application/json"), "", ""},
		{"valid service token", "POST", "/oauth/token", "", hdr("Content-Type", contentForm), "grant_type=client_credentials&client_id=a&client_secret=b", ""},
		{"valid activation", "PATCH", "/customer/mytenant/customers/C1", "", hdr("Authorization", "Bearer SERVICE"), `{"active":true,"onHold":false}`, ""},

		// Method and route.
		{"PUT instead of PATCH on /me", "PUT", "/customer/mytenant/me", "", withCust, `{"firstName":"Jo"}`, spectest.KindMethod},
		{"PUT instead of PATCH on an address", "PUT", "/customer/mytenant/me/addresses/a1", "", withCust, `{"city":"Berlin"}`, spectest.KindMethod},
		{"removed DELETE /me", "DELETE", "/customer/mytenant/me", "", withCust, "", spectest.KindMethod},
		{"unknown path", "POST", "/customer/mytenant/password/reset/confirm", "", withAnon, `{"token":"t","password":"p"}`, spectest.KindRoute},
		{"trailing slash", "GET", "/customer/mytenant/me/", "", withCust, "", spectest.KindPath},

		// Parameters.
		{"unknown query parameter", "GET", "/customer/mytenant/me", "expand=addresses&pageSize=10", withCust, "", spectest.KindUnknownParameter},
		{"legacy hybris-tenant parameter", "GET", "/customerlogin/auth/anonymous/login", "tenant=mytenant&client_id=x&hybris-tenant=mytenant", nil, "", spectest.KindUnknownParameter},
		{"invented header", "GET", "/customer/mytenant/me", "", hdr("Authorization", bearer(custAccess), "saas-token", "x"), "", spectest.KindUnknownParameter},
		{"session-id header where none is declared", "POST", "/customer/mytenant/login", "", hdr("Authorization", bearer(anonAccess), "session-id", "s"), `{"email":"a@b.c","password":"secret1"}`, spectest.KindUnknownParameter},
		{"missing required tags", "POST", "/customer/mytenant/me/addresses/a1/tags", "", withCust, "", spectest.KindParameter},
		{"empty required tags", "DELETE", "/customer/mytenant/me/addresses/a1/tags", "tags=", withCust, "", spectest.KindParameter},
		{"missing client_id", "GET", "/customerlogin/auth/anonymous/login", "tenant=mytenant", nil, "", spectest.KindParameter},
		{"missing accessToken on logout", "GET", "/customer/mytenant/logout", "", withCust, "", spectest.KindParameter},
		{"uppercase tenant", "GET", "/customer/MyTenant/me", "", withCust, "", spectest.KindParameter},
		{"short tenant", "GET", "/customer/ab/me/addresses", "", withCust, "", spectest.KindParameter},
		{"tenant with a dash", "POST", "/customer/my-tenant/login", "", withAnon, `{"email":"a@b.c","password":"secret1"}`, spectest.KindParameter},

		// Security.
		{"customer operation without a token", "GET", "/customer/mytenant/me/addresses", "", nil, "", spectest.KindSecurity},
		{"customer operation with the anonymous token", "POST", "/customer/mytenant/password/change", "", withAnon, `{"currentPassword":"a","newPassword":"b"}`, spectest.KindSecurity},
		{"anonymous operation with the customer token", "POST", "/customer/mytenant/login", "", withCust, `{"email":"a@b.c","password":"secret1"}`, spectest.KindSecurity},
		{"refresh with the customer token", "GET", "/customer/mytenant/refreshauthtoken", "refreshToken=r", withCust, "", spectest.KindSecurity},
		{"not a bearer", "GET", "/customer/mytenant/me", "", hdr("Authorization", "Basic Zm9vOmJhcg=="), "", spectest.KindSecurity},
		{"empty bearer", "GET", "/customer/mytenant/me", "", hdr("Authorization", "Bearer "), "", spectest.KindSecurity},
		{"token on an operation without security", "GET", "/customerlogin/auth/anonymous/login", "tenant=mytenant&client_id=x", withAnon, "", spectest.KindSecurity},
		{"exchange without the Authorization header", "POST", "/customer/mytenant/exchangeauthtoken", "subjectAccessToken=jwt", nil, "", spectest.KindParameter},
		{"activation without a service token", "PATCH", "/customer/mytenant/customers/C1", "", nil, `{"active":true}`, spectest.KindSecurity},
		{"activation with a customer token", "PATCH", "/customer/mytenant/customers/C1", "", withCust, `{"active":true}`, spectest.KindSecurity},

		// Bodies.
		{"login password too short", "POST", "/customer/mytenant/login", "", withAnon, `{"email":"a@b.c","password":"12345"}`, spectest.KindBody},
		{"login without body", "POST", "/customer/mytenant/login", "", withAnon, "", spectest.KindBody},
		{"signup without password", "POST", "/customer/mytenant/signup", "", withAnon, `{"email":"a@b.c"}`, spectest.KindBody},
		{"signup address without contactName", "POST", "/customer/mytenant/signup", "", withAnon, `{"email":"a@b.c","password":"p","customerAddress":{"city":"Berlin"}}`, spectest.KindBody},
		{"currency of four letters", "PATCH", "/customer/mytenant/me", "", withCust, `{"preferredCurrency":"EURO"}`, spectest.KindBody},
		{"singular address path", "PATCH", "/customer/mytenant/address", "", withCust, `{}`, spectest.KindRoute},
		{"metadata version as a string", "PATCH", "/customer/mytenant/me", "", withCust, `{"metadata":{"version":"3"}}`, spectest.KindBody},
		{"isDefault as a string", "PATCH", "/customer/mytenant/me/addresses/a1", "", withCust, `{"isDefault":"true"}`, spectest.KindBody},
		{"merge patch on an address", "PATCH", "/customer/mytenant/me/addresses/a1", "", hdr("Authorization", bearer(custAccess), "Content-Type", contentMergePatch), `{"city":"Berlin"}`, spectest.KindBody},
		{"body on an operation without one", "DELETE", "/customer/mytenant/me/addresses/a1", "", withCust, `{"id":"a1"}`, spectest.KindBody},
		{"malformed JSON", "POST", "/customer/mytenant/password/reset", "", withAnon, `{"email":`, spectest.KindBody},
		{"invented body field", "POST", "/customer/mytenant/login", "", withAnon, `{"email":"a@b.c","password":"secret1","rememberMe":true}`, spectest.KindUnknownProperty},
		{"invented nested field", "POST", "/customer/mytenant/signup", "", withAnon, `{"email":"a@b.c","password":"p","customerDetails":{"b2b":{"legalEntities":[]}}}`, spectest.KindUnknownProperty},
		{"active is not a customer field", "PATCH", "/customer/mytenant/me", "", withCust, `{"active":true}`, spectest.KindUnknownProperty},
		{"invented form field", "POST", "/oauth/token", "", hdr("Content-Type", contentForm), "grant_type=client_credentials&client_id=a&client_secret=b&audience=x", spectest.KindUnknownProperty},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			req, body := specRequest(c.method, c.path, c.query, c.header, c.body)
			requireViolation(t, spec.ValidateRequest(req, body), c.want)
		})
	}
}

// requireViolation asserts err is a violation of kind want, or, for an
// empty want, that there is none.
func requireViolation(t *testing.T, err error, want string) {
	t.Helper()
	if want == "" {
		require.NoError(t, err)
		return
	}
	var se *spectest.Error
	require.True(t, errors.As(err, &se), "want a %s violation, got %v", want, err)
	assert.True(t, se.Has(want), "want a %s violation, got %v", want, err)
	t.Log(err)
}

// TestSpecConformanceResponses proves the response validator catches
// undocumented statuses and bodies that violate their schema, and that the
// patched defects validate.
func TestSpecConformanceResponses(t *testing.T) {
	spec := requireSpec(t)
	json := hdr("Content-Type", "application/json")
	cases := []struct {
		name         string
		method, path string
		query        string
		header       http.Header
		status       int
		respHeader   http.Header
		body         string
		want         string
	}{
		{"anonymous token with refresh_token (not in the schema, allowed)", "GET", "/customerlogin/auth/anonymous/login", "tenant=mytenant&client_id=x", nil, 200, json,
			`{"access_token":"a","token_type":"Bearer","expires_in":3599,"refresh_token":"r","refresh_token_expires_in":86399,"sessionId":"s","scope":"tenant=mytenant"}`, ""},
		{"login with boolean initialPassword (patched)", "POST", "/customer/mytenant/login", "", withAnon, 200, json,
			`{"access_token":"a","saas_token":"s","expires_in":2591999,"refresh_token":"r","refresh_token_expires_in":86399,"token_type":"Bearer","session_id":"x","initialPassword":false}`, ""},
		{"login with string initialPassword (the schema's type)", "POST", "/customer/mytenant/login", "", withAnon, 200, json,
			`{"access_token":"a","saas_token":"s","expires_in":2591999.0,"initialPassword":"false"}`, ""},
		{"profile with lastLogin null (patched)", "GET", "/customer/mytenant/me", "", withCust, 200, json, `{"id":"1","lastLogin":null}`, ""},
		{"403 with the spec example's type Forbidden", "GET", "/customer/mytenant/me", "", withCust, 403, json,
			`{"type":"Forbidden","status":403,"message":"User not authorized."}`, ""},
		{"401 gateway fault", "GET", "/customer/mytenant/me", "", withCust, 401, json,
			`{"fault":{"faultstring":"Invalid access token","detail":{"errorcode":"oauth.v2.InvalidAccessToken"}}}`, ""},
		{"social login with string expiries", "POST", "/customer/mytenant/socialLogin", "code=c&redirect_uri=u", withAnon, 200, json,
			`{"access_token":"a","expires_in":"2591999","refresh_token_expires_in":"86399","session_idle_time":3600}`, ""},
		{"204 without body", "DELETE", "/customer/mytenant/me/addresses/a1", "", withCust, 204, nil, "", ""},
		{"202 opt-in resend", "POST", "/customer/mytenant/signup/optin/refresh_token", "", withAnon, 202, nil, "", ""},

		{"undocumented 200 on logout", "GET", "/customer/mytenant/logout", "accessToken=x", withCust, 200, nil, "", spectest.KindStatus},
		{"undocumented 404 on login", "POST", "/customer/mytenant/login", "", withAnon, 404, json, `{"status":404}`, spectest.KindStatus},
		{"expires_in as a string on the anonymous token", "GET", "/customerlogin/auth/anonymous/login", "tenant=mytenant&client_id=x", nil, 200, json,
			`{"access_token":"a","expires_in":"3599"}`, spectest.KindResponseBody},
		{"social login with numeric expiries", "POST", "/customer/mytenant/socialLogin", "code=c&redirect_uri=u", withAnon, 200, json,
			`{"access_token":"a","expires_in":2591999}`, spectest.KindResponseBody},
		{"address list as an object", "GET", "/customer/mytenant/me/addresses", "", withCust, 200, json, `{"items":[]}`, spectest.KindResponseBody},
		{"address without contactName in a profile", "GET", "/customer/mytenant/me", "", withCust, 200, json, `{"id":"1","addresses":[{"city":"Berlin"}]}`, spectest.KindResponseBody},
		{"malformed lastLogin", "GET", "/customer/mytenant/me", "", withCust, 200, json, `{"id":"1","lastLogin":"yesterday"}`, spectest.KindResponseBody},
		{"error status out of range", "POST", "/customer/mytenant/signup", "", withAnon, 409, json, `{"status":42,"type":"conflict_resource"}`, spectest.KindResponseBody},
		{"empty login body", "POST", "/customer/mytenant/login", "", withAnon, 200, nil, "", spectest.KindEmptyBody},
		{"text body", "GET", "/customer/mytenant/me", "", withCust, 200, hdr("Content-Type", "text/plain"), "hello", spectest.KindContentType},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			req, reqBody := specRequest(c.method, c.path, c.query, c.header, "")
			requireViolation(t, spec.ValidateResponse(req, reqBody, c.status, c.respHeader, []byte(c.body)), c.want)
		})
	}
}

// TestSpecConformanceRouting checks the host and prefix independence and
// the operation lookup.
func TestSpecConformanceRouting(t *testing.T) {
	spec := requireSpec(t)
	for _, base := range []string{"https://api.emporix.io", "https://api.emporix.test/prefix", "http://127.0.0.1:8080/a/b"} {
		req, err := http.NewRequest("GET", base+"/customer/mytenant/me/addresses/x1", nil)
		require.NoError(t, err)
		op, err := spec.Route(req)
		require.NoError(t, err, base)
		assert.Equal(t, opAddressGet.ID, op.ID, base)
	}
	req, _ := http.NewRequest("POST", testBase+"/customer/mytenant/signup/optin/refresh_token", nil)
	op, err := spec.Route(req)
	require.NoError(t, err)
	assert.Equal(t, opOptInResend.ID, op.ID, "literal segment next to {token}")
	req, _ = http.NewRequest("GET", testBase+"/customer/mytenant/signup/optin/refresh_token", nil)
	op, err = spec.Route(req)
	require.NoError(t, err)
	assert.Equal(t, opOptInConfirm.ID, op.ID)

	id, ok := spec.OperationID("patch", "/customer/{tenant}/me")
	assert.True(t, ok)
	assert.Equal(t, opProfileUpdate.ID, id)
	_, ok = spec.OperationID("PUT", "/customer/{tenant}/me")
	assert.False(t, ok)
}
