package emporixtest

// Honesty checks: when EMPORIX_SPEC_DIR names the folder of the Emporix
// OpenAPI documents, the fake's routes and answers are checked against
// them with internal/spectest. This file is an internal test so that it
// can compare the route table itself.

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/emporix-go/emporix/internal/optable"
	"github.com/emporix-go/emporix/internal/skipnote"
	"github.com/emporix-go/emporix/internal/spectest"
)

func loadSpec(t *testing.T, srv *Server) *spectest.Spec {
	t.Helper()
	dir, ok := spectest.DirFromEnv()
	if !ok {
		skipnote.Skip(t, spectest.SkipReason)
	}
	spec, err := spectest.Load(dir)
	if err != nil {
		t.Fatalf("EMPORIX_SPEC_DIR=%s: %v", dir, err)
	}
	if srv != nil {
		spec.Classify = func(token string) string {
			switch srv.TokenKind(token) {
			case KindAnonymous:
				return spectest.SchemeAnonymous
			case KindCustomer:
				return spectest.SchemeCustomer
			case KindService:
				return "OAuth2"
			}
			return ""
		}
	}
	return spec
}

// concretePath fills a path template's parameters: the tenant, and x1
// for every other.
func concretePath(pattern, tenant string) string {
	return placeholder.ReplaceAllString(strings.ReplaceAll(pattern, "{tenant}", tenant), "x1")
}

var placeholder = regexp.MustCompile(`\{[^}]+\}`)

// deviations are the statuses the fake answers on purpose although the
// spec does not document them for the operation (see the package doc).
var deviations = map[string][]int{
	"GET-oauth-generate-anonymous-access-token": {400, 401}, // the spec declares no errors
	"GET-oauth-refresh-anonymous-access-token":  {400, 401},
	"POST-oauth-request-client-credentials":     {400, 401},
	"PATCH-customer-update-customer":            {409}, // stale metadata.version
	"PATCH-customer-update-customer-address":    {409},
	"PATCH-customer-tenant-update-customer":     {409},
	// The gateway in front of every Emporix service answers an unknown or
	// expired bearer with its 401 fault; the cart document lists 401 for
	// some of its operations only.
	"POST-cart-create-cart":            {401},
	"GET-cart-retrieve-cart-by-cartId": {401},
	"POST-cart-merge-carts":            {401},
}

// honest sends requests to the fake and checks each exchange against the
// spec.
type honest struct {
	t       *testing.T
	srv     *Server
	spec    *spectest.Spec
	covered map[string]bool // operations answered with a 2xx
}

// ex is one exchange.
type ex struct {
	method, path string
	query        url.Values
	bearer       string
	body         string
	contentType  string
	header       http.Header
	want         int
	// offSpec marks a request that breaks the spec on purpose (a token of
	// the wrong kind, a missing parameter): only the answer is checked.
	offSpec bool
}

func (h *honest) do(e ex) map[string]any {
	h.t.Helper()
	u := h.srv.URL() + e.path
	if len(e.query) > 0 {
		u += "?" + e.query.Encode()
	}
	var body io.Reader = http.NoBody
	if e.body != "" {
		body = strings.NewReader(e.body)
	}
	req, err := http.NewRequest(e.method, u, body)
	if err != nil {
		h.t.Fatal(err)
	}
	for k, v := range e.header {
		req.Header[k] = v
	}
	if e.body != "" {
		ct := e.contentType
		if ct == "" {
			ct = "application/json"
		}
		req.Header.Set("Content-Type", ct)
	}
	if e.bearer != "" {
		req.Header.Set("Authorization", "Bearer "+e.bearer)
	}
	res, err := h.srv.Client().Do(req)
	if err != nil {
		h.t.Fatalf("%s %s: %v", e.method, e.path, err)
	}
	resBody, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != e.want {
		h.t.Errorf("%s %s: status %d, want %d; body %s", e.method, e.path, res.StatusCode, e.want, resBody)
	}
	op, err := h.spec.Route(req)
	if err != nil {
		h.t.Fatalf("%s %s: not routable in the spec: %v", e.method, e.path, err)
	}
	if !e.offSpec {
		if err := h.spec.ValidateRequest(req, []byte(e.body)); err != nil {
			h.t.Errorf("the test sent an off-spec request: %v", err)
		}
	}
	if slices.Contains(deviations[op.ID], res.StatusCode) {
		// Undocumented on purpose; the body is still an ErrorMessage or
		// the OAuth error shape.
		var m map[string]any
		if json.Unmarshal(resBody, &m) != nil || (m["message"] == nil && m["ErrorCode"] == nil && m["fault"] == nil) {
			h.t.Errorf("%s %d: unexpected body %s", op.ID, res.StatusCode, resBody)
		}
	} else if err := h.spec.ValidateResponse(req, []byte(e.body), res.StatusCode, res.Header, resBody); err != nil {
		h.t.Errorf("the fake answered off-spec: %v\nbody: %s", err, resBody)
	}
	if res.StatusCode/100 == 2 {
		h.covered[op.ID] = true
	}
	var m map[string]any
	if len(bytes.TrimSpace(resBody)) > 0 && resBody[0] == '{' {
		_ = json.Unmarshal(resBody, &m)
	}
	return m
}

func str2(m map[string]any, k string) string { s, _ := m[k].(string); return s }

// TestSpecHonesty runs every operation, with successes and the main
// errors, and checks each request the test makes and each answer the fake
// gives against the spec.
func TestSpecHonesty(t *testing.T) {
	srv := NewServer()
	defer srv.Close()
	h := &honest{t: t, srv: srv, spec: loadSpec(t, srv), covered: map[string]bool{}}
	T := srv.Tenant()
	P := "/customer/" + T
	store := url.Values{"tenant": {T}, "client_id": {srv.ClientID()}}
	with := func(base url.Values, kv ...string) url.Values {
		q := url.Values{}
		for k, v := range base {
			q[k] = v
		}
		for i := 0; i+1 < len(kv); i += 2 {
			q.Set(kv[i], kv[i+1])
		}
		return q
	}

	// Anonymous sessions.
	a := h.do(ex{method: "GET", path: "/customerlogin/auth/anonymous/login", want: 200,
		query: with(store, "currency", "EUR", "siteCode", "main", "language", "EN", "targetLocation", "DE")})
	anon := str2(a, "access_token")
	h.do(ex{method: "GET", path: "/customerlogin/auth/anonymous/refresh", want: 200, query: with(store, "refresh_token", str2(a, "refresh_token"))})
	// The deprecated flow: anonymous_token without refresh_token, which the
	// spec requires.
	h.do(ex{method: "GET", path: "/customerlogin/auth/anonymous/refresh", want: 200, query: with(store, "anonymous_token", anon), offSpec: true})
	h.do(ex{method: "GET", path: "/customerlogin/auth/anonymous/login", want: 401, query: with(store, "client_id", "wrong")})
	h.do(ex{method: "GET", path: "/customerlogin/auth/anonymous/refresh", want: 401, query: with(store, "refresh_token", "wrong")})

	// Sign-up and login.
	signup := `{"email":"example@customer.com","password":"password123","customerDetails":{"title":"MR","firstName":"John",` +
		`"middleName":"","lastName":"Doe","contactEmail":"example@customer.com","contactPhone":"123456789","company":"Emporix",` +
		`"preferredLanguage":"en_US","preferredCurrency":"EUR","preferredSite":"main","b2b":{"companyRegistrationId":"123-456-789"}},` +
		`"customerAddress":{"contactName":"John Doe","companyName":"Emporix","street":"Platz der Republik","streetNumber":"1",` +
		`"zipCode":"11011","city":"Berlin","country":"DE","state":"Berlin","contactPhone":"123456789","tags":["BILLING","SHIPPING"]}}`
	created := h.do(ex{method: "POST", path: P + "/signup", bearer: anon, body: signup, want: 201})
	number := str2(created, "id")
	h.do(ex{method: "POST", path: P + "/signup", bearer: anon, body: signup, want: 409})
	h.do(ex{method: "POST", path: P + "/signup", bearer: anon, body: `{"email":"a@b.c"}`, want: 400, offSpec: true})
	login := `{"email":"example@customer.com","password":"password123"}`
	tok := h.do(ex{method: "POST", path: P + "/login", bearer: anon, body: login, want: 200})
	cust := str2(tok, "access_token")
	h.do(ex{method: "POST", path: P + "/login", bearer: anon, body: `{"email":"example@customer.com","password":"wrong-pass"}`, want: 401})
	h.do(ex{method: "POST", path: P + "/login", bearer: cust, body: login, want: 401, offSpec: true})
	h.do(ex{method: "POST", path: P + "/signup", bearer: cust, body: signup, want: 403, offSpec: true})

	// Validate and refresh.
	h.do(ex{method: "GET", path: P + "/validateauthtoken", bearer: cust, want: 200})
	h.do(ex{method: "GET", path: P + "/validateauthtoken", bearer: "unknown", want: 401})
	ref := h.do(ex{method: "GET", path: P + "/refreshauthtoken", bearer: anon, query: url.Values{"refreshToken": {str2(tok, "refresh_token")}}, want: 200})
	h.do(ex{method: "GET", path: P + "/refreshauthtoken", bearer: anon, query: url.Values{"refreshToken": {str2(tok, "refresh_token")}}, want: 401})
	h.do(ex{method: "GET", path: P + "/refreshauthtoken", bearer: anon, query: url.Values{"refreshToken": {str2(ref, "refresh_token")}, "legalEntityId": {"none"}}, want: 400})
	cust = str2(ref, "access_token")

	// Profile.
	h.do(ex{method: "GET", path: P + "/me", bearer: cust, query: url.Values{"expand": {"addresses,mixin:*"}}, want: 200})
	h.do(ex{method: "GET", path: P + "/me", bearer: anon, want: 200})
	h.do(ex{method: "GET", path: "/customer/othertenant/me", bearer: anon, want: 400})
	h.do(ex{method: "PATCH", path: P + "/me", bearer: cust, want: 200,
		body: `{"title":"MR","firstName":"John","lastName":"Doe","contactEmail":"example@customer.com","company":"Emporix","preferredCurrency":"EUR","b2b":{"companyRegistrationId":"123-456-789"},"metadata":{"version":1}}`})
	h.do(ex{method: "PATCH", path: P + "/me", bearer: cust, contentType: "application/merge-patch+json", body: `{"mixins":{"a":{"b":1}}}`, want: 200})
	// RFC 7396 removes a field with null, which CustomerPatchDto does not
	// declare nullable.
	h.do(ex{method: "PATCH", path: P + "/me", bearer: cust, contentType: "application/merge-patch+json", body: `{"middleName":null}`, want: 200, offSpec: true})
	h.do(ex{method: "PATCH", path: P + "/me", bearer: cust, body: `{"firstName":"Jim","metadata":{"version":1}}`, want: 409})
	h.do(ex{method: "PATCH", path: P + "/me", bearer: cust, body: `{"preferredCurrency":"EURO"}`, want: 400, offSpec: true})
	h.do(ex{method: "PATCH", path: P + "/me", bearer: anon, body: `{}`, want: 403, offSpec: true})

	// Addresses.
	h.do(ex{method: "GET", path: P + "/me/addresses", bearer: cust, want: 200})
	addr := h.do(ex{method: "POST", path: P + "/me/addresses", bearer: cust, want: 201,
		body: `{"contactName":"John Doe","street":"Platz der Republik","country":"DE","tags":["BILLING"],"metadata":{"mixins":{}},"mixins":{}}`})
	A := P + "/me/addresses/" + str2(addr, "id")
	h.do(ex{method: "GET", path: A, bearer: cust, want: 200})
	h.do(ex{method: "PATCH", path: A, bearer: cust, body: `{"city":"Berlin","isDefault":true,"metadata":{"version":1}}`, want: 200})
	h.do(ex{method: "PATCH", path: A, bearer: cust, body: `{"city":"Bonn","metadata":{"version":1}}`, want: 409})
	h.do(ex{method: "POST", path: A + "/tags", bearer: cust, query: url.Values{"tags": {"SHIPPING,HOME"}}, want: 204})
	h.do(ex{method: "DELETE", path: A + "/tags", bearer: cust, query: url.Values{"tags": {"HOME"}}, want: 204})
	h.do(ex{method: "GET", path: P + "/me", bearer: cust, query: url.Values{"expand": {"addresses"}}, want: 200})
	missing := P + "/me/addresses/nope"
	h.do(ex{method: "GET", path: missing, bearer: cust, want: 404})
	h.do(ex{method: "PATCH", path: missing, bearer: cust, body: `{}`, want: 404})
	h.do(ex{method: "DELETE", path: missing, bearer: cust, want: 404})
	h.do(ex{method: "POST", path: missing + "/tags", bearer: cust, query: url.Values{"tags": {"A"}}, want: 404})
	h.do(ex{method: "DELETE", path: missing + "/tags", bearer: cust, query: url.Values{"tags": {"A"}}, want: 404})
	h.do(ex{method: "DELETE", path: A, bearer: cust, want: 204})

	// Credentials.
	h.do(ex{method: "POST", path: P + "/password/change", bearer: cust, body: `{"currentPassword":"password123","newPassword":"P@ssw0rd123"}`, want: 204})
	h.do(ex{method: "POST", path: P + "/password/change", bearer: cust, body: `{"currentPassword":"wrong-pass","newPassword":"P@ssw0rd123"}`, want: 400})
	h.do(ex{method: "POST", path: P + "/password/reset", bearer: anon, body: `{"email":"example@customer.com"}`, want: 204})
	h.do(ex{method: "POST", path: P + "/password/reset", bearer: anon, body: `{"email":"nobody@customer.com","site":"main"}`, want: 204})
	reset := srv.LastToken(MailPasswordReset, "example@customer.com")
	h.do(ex{method: "POST", path: P + "/password/reset/update", bearer: anon, body: `{"token":"` + reset + `","password":"password123"}`, want: 204})
	h.do(ex{method: "POST", path: P + "/password/reset/update", bearer: anon, body: `{"token":"` + reset + `","password":"password123"}`, want: 400})
	h.do(ex{method: "POST", path: P + "/me/accounts/internal/email/change", bearer: cust, want: 204,
		body: `{"email":"example@customer.com","password":"password123","newEmail":"example@emporix.com","syncContactEmail":true}`})
	h.do(ex{method: "POST", path: P + "/me/accounts/internal/email/change", bearer: cust, want: 400,
		body: `{"email":"example@customer.com","password":"wrong-pass","newEmail":"x@emporix.com"}`})
	change := srv.LastToken(MailEmailChange, "example@emporix.com")
	h.do(ex{method: "POST", path: P + "/me/accounts/internal/email/change/confirm", bearer: cust, body: `{"token":"` + change + `"}`, want: 403, offSpec: true})
	h.do(ex{method: "POST", path: P + "/me/accounts/internal/email/change/confirm", bearer: anon, body: `{"token":"` + change + `"}`, want: 204})
	h.do(ex{method: "POST", path: P + "/me/accounts/internal/email/change/confirm", bearer: anon, body: `{"token":"` + change + `"}`, want: 400})

	// Double opt-in.
	srv.SetSignupMode(SignupDoubleOptIn)
	h.do(ex{method: "POST", path: P + "/signup", bearer: anon, body: `{"email":"optin@customer.com","password":"password123"}`, want: 201})
	h.do(ex{method: "POST", path: P + "/signup/optin/refresh_token", bearer: anon, body: `{"email":"optin@customer.com"}`, want: 202})
	optin := srv.LastToken(MailOptIn, "optin@customer.com")
	h.do(ex{method: "GET", path: P + "/signup/optin/" + url.PathEscape(optin), bearer: anon, want: 200})
	h.do(ex{method: "GET", path: P + "/signup/optin/" + url.PathEscape(optin), bearer: anon, want: 400})
	srv.SetSignupMode(SignupActive)

	// Social login and token exchange.
	srv.AddSocialCode("code1", SocialCode{Email: "social@customer.com", RedirectURI: "https://shop.example.com/cb", CodeVerifier: "v1"})
	social := url.Values{"code": {"code1"}, "redirect_uri": {"https://shop.example.com/cb"}, "code_verifier": {"v1"}}
	h.do(ex{method: "POST", path: P + "/socialLogin", bearer: anon, query: social, header: http.Header{"Session-Id": {str2(a, "sessionId")}}, want: 200})
	h.do(ex{method: "POST", path: P + "/socialLogin", bearer: anon, query: social, want: 401})
	h.do(ex{method: "POST", path: P + "/socialLogin", bearer: anon, query: url.Values{"code": {"code1"}}, want: 400, offSpec: true})
	srv.AddSubjectToken("subject1", Subject{Email: "sso@customer.com"})
	srv.AddExchangeConfig("site_PL")
	h.do(ex{method: "POST", path: P + "/exchangeauthtoken", bearer: anon, query: url.Values{"subjectAccessToken": {"subject1"}, "config": {"site_PL"}}, want: 200})
	h.do(ex{method: "POST", path: P + "/exchangeauthtoken", bearer: anon, query: url.Values{"subjectAccessToken": {"subject1"}, "config": {"site_XX"}}, want: 400})
	h.do(ex{method: "POST", path: P + "/exchangeauthtoken", bearer: anon, query: url.Values{"subjectAccessToken": {"unknown"}}, want: 401})
	h.do(ex{method: "POST", path: P + "/exchangeauthtoken", bearer: cust, query: url.Values{"subjectAccessToken": {"subject1"}}, want: 403})

	// Employee operations.
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {srv.ServiceClientID()}, "client_secret": {srv.ServiceClientSecret()}, "scope": {"tenant=" + T}}
	svc := h.do(ex{method: "POST", path: "/oauth/token", body: form.Encode(), contentType: "application/x-www-form-urlencoded",
		header: http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}, want: 200})
	form.Set("client_secret", "wrong")
	h.do(ex{method: "POST", path: "/oauth/token", body: form.Encode(), contentType: "application/x-www-form-urlencoded", want: 401})
	service := str2(svc, "access_token")
	h.do(ex{method: "PATCH", path: P + "/customers/" + number, bearer: service, body: `{"active":true,"onHold":false}`, want: 200})
	h.do(ex{method: "PATCH", path: P + "/customers/99999999", bearer: service, body: `{"active":true,"onHold":false}`, want: 404})
	h.do(ex{method: "PATCH", path: P + "/customers/" + number, bearer: anon, body: `{"active":true}`, want: 403, offSpec: true})

	// Logout, then the token is unknown; expiry.
	h.do(ex{method: "GET", path: P + "/logout", bearer: cust, query: url.Values{"accessToken": {"other"}}, want: 400})
	h.do(ex{method: "GET", path: P + "/logout", bearer: cust, query: url.Values{"accessToken": {cust}}, want: 204})
	h.do(ex{method: "GET", path: P + "/me", bearer: cust, want: 401})
	srv.Advance(srv.Lifetimes().AnonymousAccess)
	h.do(ex{method: "GET", path: P + "/me", bearer: anon, want: 401})

	for _, r := range routes {
		if !r.cart() && !h.covered[r.ID] {
			t.Errorf("the honesty run never got a success from %s", r.ID)
		}
	}
}

// TestSpecUnknownTokenEverywhere: every operation that needs a bearer
// answers an unknown one with the spec's 401 gateway body.
func TestSpecUnknownTokenEverywhere(t *testing.T) {
	srv := NewServer()
	defer srv.Close()
	h := &honest{t: t, srv: srv, spec: loadSpec(t, srv), covered: map[string]bool{}}
	for _, r := range routes {
		if r.Auth == optable.None {
			continue
		}
		m := h.do(ex{method: r.Method, path: concretePath(r.Path, srv.Tenant()), bearer: "unknown", want: 401, offSpec: true})
		if f, _ := m["fault"].(map[string]any); f == nil || f["faultstring"] != "Invalid access token" {
			t.Errorf("%s: body %v", r.ID, m)
		}
	}
}
