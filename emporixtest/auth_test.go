package emporixtest_test

import (
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/emporix-go/emporix/emporixtest"
)

var uuidPattern = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

func TestServerDefaults(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	if got := f.srv.Tenant(); got != emporixtest.DefaultTenant {
		t.Errorf("Tenant() = %q", got)
	}
	if f.srv.ClientID() != emporixtest.DefaultClientID || f.srv.ServiceClientID() != emporixtest.DefaultServiceClientID ||
		f.srv.ServiceClientSecret() != emporixtest.DefaultServiceClientSecret {
		t.Error("default credentials not reported")
	}
	if !strings.HasPrefix(f.srv.URL(), "http://127.0.0.1:") || strings.HasSuffix(f.srv.URL(), "/") {
		t.Errorf("URL() = %q", f.srv.URL())
	}
	g := newFixture(t, emporixtest.WithTenant("shop"), emporixtest.WithClientID("cid"),
		emporixtest.WithServiceCredentials("svc", "sec"))
	if g.srv.Tenant() != "shop" || g.srv.ClientID() != "cid" || g.srv.ServiceClientID() != "svc" || g.srv.ServiceClientSecret() != "sec" {
		t.Error("options not applied")
	}
}

func TestAnonymousLoginAndRefresh(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	a := f.anonymous()
	if a["token_type"] != "Bearer" || n(t, a["expires_in"]) != 3599 || n(t, a["refresh_token_expires_in"]) != 86399 {
		t.Errorf("anonymous token %v", a)
	}
	if !uuidPattern.MatchString(s(a["sessionId"])) || a["scope"] != "tenant="+f.srv.Tenant() {
		t.Errorf("sessionId/scope %v", a)
	}
	if _, snake := a["session_id"]; snake {
		t.Error("anonymous answer must use camelCase sessionId only")
	}
	if f.srv.TokenKind(s(a["access_token"])) != emporixtest.KindAnonymous {
		t.Error("TokenKind of an anonymous token")
	}

	q := url.Values{"tenant": {f.srv.Tenant()}, "client_id": {f.srv.ClientID()}, "refresh_token": {s(a["refresh_token"])}}
	f.srv.Advance(time.Hour)
	b := wantJSON(t, f.do(req{method: "GET", path: "/customerlogin/auth/anonymous/refresh", query: q}), 200)
	if b["sessionId"] != a["sessionId"] || b["access_token"] == a["access_token"] || b["refresh_token"] != a["refresh_token"] {
		t.Errorf("refresh must keep session and refresh token and mint a new access token: %v", b)
	}
	if n(t, b["refresh_token_expires_in"]) != 86399-3600 || n(t, b["expires_in"]) != 3599 {
		t.Errorf("lifetimes after refresh %v", b)
	}
	// The refresh token is not spent by an anonymous refresh.
	wantStatus(t, f.do(req{method: "GET", path: "/customerlogin/auth/anonymous/refresh", query: q}), 200)

	// Deprecated flow: anonymous_token only, no refresh token in the answer.
	dq := url.Values{"tenant": {f.srv.Tenant()}, "client_id": {f.srv.ClientID()}, "anonymous_token": {s(a["access_token"])}}
	r := f.do(req{method: "GET", path: "/customerlogin/auth/anonymous/refresh", query: dq})
	wantStatus(t, r, 200)
	if d := r.json(t); d["sessionId"] != a["sessionId"] || d["refresh_token"] != nil {
		t.Errorf("deprecated refresh %v", d)
	}

	// Checks of the parameters.
	bad := url.Values{"tenant": {"other"}, "client_id": {f.srv.ClientID()}}
	wantError(t, f.do(req{method: "GET", path: "/customerlogin/auth/anonymous/login", query: bad}), 400, "bad_request",
		"The tenant information provided with the request is not valid.")
	bad = url.Values{"tenant": {f.srv.Tenant()}, "client_id": {"nope"}}
	wantFault(t, f.do(req{method: "GET", path: "/customerlogin/auth/anonymous/login", query: bad}), "Invalid ApiKey", "oauth.v2.InvalidApiKey")
	wantStatus(t, f.do(req{method: "GET", path: "/customerlogin/auth/anonymous/login"}), 400)
	q.Set("refresh_token", "unknown")
	wantError(t, f.do(req{method: "GET", path: "/customerlogin/auth/anonymous/refresh", query: q}), 401, "unauthorized", "")

	// The refresh token expires.
	q.Set("refresh_token", s(a["refresh_token"]))
	f.srv.Advance(24 * time.Hour)
	wantError(t, f.do(req{method: "GET", path: "/customerlogin/auth/anonymous/refresh", query: q}), 401, "unauthorized", "Refresh token expired.")
}

func TestAccessTokensExpireByTheClock(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	anon := f.anonToken()
	f.srv.Advance(3598 * time.Second)
	wantStatus(t, f.do(req{method: "GET", path: f.path("/me"), bearer: anon}), 200)
	f.srv.Advance(time.Second)
	wantExpiredToken(t, f.do(req{method: "GET", path: f.path("/me"), bearer: anon}))

	f.srv.SetLifetimes(emporixtest.Lifetimes{AnonymousAccess: time.Minute})
	if f.srv.Lifetimes().AnonymousRefresh != 86399*time.Second {
		t.Error("SetLifetimes must keep the fields left zero")
	}
	a := f.anonymous()
	if n(t, a["expires_in"]) != 60 {
		t.Errorf("expires_in %v after SetLifetimes", a["expires_in"])
	}
	now := f.srv.Now()
	f.srv.SetNow(now.Add(time.Minute))
	wantExpiredToken(t, f.do(req{method: "GET", path: f.path("/me"), bearer: s(a["access_token"])}))
}

func TestLifetimesAndStartTimeOptions(t *testing.T) {
	t.Parallel()
	start := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	f := newFixture(t, emporixtest.WithStartTime(start),
		emporixtest.WithLifetimes(emporixtest.Lifetimes{CustomerAccess: time.Hour, CustomerRefresh: 2 * time.Hour}))
	if !f.srv.Now().Equal(start) {
		t.Errorf("Now() = %v", f.srv.Now())
	}
	_, tok, _ := f.customer("life@example.com")
	if n(t, tok["expires_in"]) != 3600 || n(t, tok["refresh_token_expires_in"]) != 7200 {
		t.Errorf("customer lifetimes %v", tok)
	}
	if d := emporixtest.DefaultLifetimes(); d.CustomerAccess != 2591999*time.Second || d.CustomerRefresh != 86399*time.Second {
		t.Errorf("DefaultLifetimes %+v", d)
	}
}

func TestMissingAndUnknownBearer(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	wantInvalidToken(t, f.do(req{method: "GET", path: f.path("/me")}))
	wantInvalidToken(t, f.do(req{method: "GET", path: f.path("/me"), bearer: "nope"}))
	r := f.do(req{method: "GET", path: f.path("/me"), header: map[string][]string{"Authorization": {"Basic abc"}}})
	wantInvalidToken(t, r)
	anon := f.anonToken()
	if !f.srv.RevokeToken(anon) || f.srv.RevokeToken(anon) {
		t.Error("RevokeToken must report whether the token was known")
	}
	wantInvalidToken(t, f.do(req{method: "GET", path: f.path("/me"), bearer: anon}))
	// A path tenant other than the server's.
	anon = f.anonToken()
	wantError(t, f.do(req{method: "GET", path: "/customer/other/me", bearer: anon}), 400, "bad_request",
		"The tenant information provided with the request is not valid.")
}

// Tokens of the wrong kind: 403 with the spec's example where the
// operation documents 403, else 401 in the ErrorMessage shape.
func TestWrongTokenKind(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	anon, tok, number := f.customer("kind@example.com")
	cust := s(tok["access_token"])
	svc := f.serviceToken()
	cases := []struct {
		name   string
		r      req
		status int
	}{
		{"signup with customer", req{method: "POST", path: f.path("/signup"), bearer: cust, body: map[string]any{"email": "x@example.com", "password": "secret1"}}, 403},
		{"login with customer", req{method: "POST", path: f.path("/login"), bearer: cust, body: map[string]any{"email": "kind@example.com", "password": "password123"}}, 401},
		{"refresh with customer", req{method: "GET", path: f.path("/refreshauthtoken"), bearer: cust, query: url.Values{"refreshToken": {s(tok["refresh_token"])}}}, 401},
		{"validate with anonymous", req{method: "GET", path: f.path("/validateauthtoken"), bearer: anon}, 401},
		{"logout with anonymous", req{method: "GET", path: f.path("/logout"), bearer: anon, query: url.Values{"accessToken": {anon}}}, 401},
		{"patch me with anonymous", req{method: "PATCH", path: f.path("/me"), bearer: anon, body: map[string]any{}}, 403},
		{"addresses with anonymous", req{method: "GET", path: f.path("/me/addresses"), bearer: anon}, 403},
		{"email confirm with customer", req{method: "POST", path: f.path("/me/accounts/internal/email/change/confirm"), bearer: cust, body: map[string]any{"token": "x"}}, 403},
		{"me with service", req{method: "GET", path: f.path("/me"), bearer: svc}, 403},
		{"employee patch with customer", req{method: "PATCH", path: f.path("/customers/" + number), bearer: cust, body: map[string]any{"active": true}}, 403},
		{"employee patch with anonymous", req{method: "PATCH", path: f.path("/customers/" + number), bearer: anon, body: map[string]any{"active": true}}, 403},
		{"opt-in resend with customer", req{method: "POST", path: f.path("/signup/optin/refresh_token"), bearer: cust, body: map[string]any{"email": "x@example.com"}}, 401},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := f.do(tc.r)
			if tc.status == 403 {
				wantError(t, r, 403, "Forbidden", "User not authorized.")
			} else {
				wantError(t, r, 401, "unauthorized", "")
				if strings.Contains(string(r.body), "fault") {
					t.Error("a wrong-kind 401 must not carry a gateway fault")
				}
			}
		})
	}
}

func TestSignupAndPasswordLogin(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	a := f.anonymous()
	anon := s(a["access_token"])
	r := f.do(req{method: "POST", path: f.path("/signup"), bearer: anon, body: map[string]any{
		"email": "john@example.com", "password": "password123",
		"customerDetails": map[string]any{"firstName": "John", "lastName": "Doe", "contactEmail": "john@example.com",
			"company": "Emporix", "preferredCurrency": "EUR", "b2b": map[string]any{"companyRegistrationId": "123"}},
		"customerAddress": map[string]any{"contactName": "John Doe", "street": "Platz der Republik", "country": "DE",
			"tags": []string{"BILLING", "SHIPPING"}},
	}})
	wantStatus(t, r, 201)
	number := s(r.json(t)["id"])
	if len(number) != 8 {
		t.Errorf("customer number %q", number)
	}
	info, ok := f.srv.Customer("JOHN@example.com")
	if !ok || info.CustomerNumber != number || !info.Active || len(info.AddressIDs) != 1 || info.DefaultAddressID != info.AddressIDs[0] {
		t.Errorf("stored customer %+v", info)
	}

	// Duplicate e-mail.
	r = f.do(req{method: "POST", path: f.path("/signup"), bearer: anon, body: map[string]any{"email": "john@example.com", "password": "x"}})
	wantError(t, r, 409, "conflict_resource", "Duplicate account 'john@example.com' for tenant '"+f.srv.Tenant()+"'.")
	// Invalid sign-ups.
	f.wantRejected(req{method: "POST", path: f.path("/signup"), bearer: anon}, map[string]any{
		"no password":      map[string]any{"email": "a@example.com"},
		"contact mismatch": map[string]any{"email": "a@example.com", "password": "p", "customerDetails": map[string]any{"contactEmail": "b@example.com"}},
		"address no name":  map[string]any{"email": "a@example.com", "password": "p", "customerAddress": map[string]any{"street": "x"}},
		"country length":   map[string]any{"email": "a@example.com", "password": "p", "customerAddress": map[string]any{"contactName": "A", "country": "DEU"}},
		"unknown field":    map[string]any{"email": "a@example.com", "password": "p", "nickname": "a"},
		"b2b incomplete":   map[string]any{"email": "a@example.com", "password": "p", "customerDetails": map[string]any{"b2b": map[string]any{"companyRegistrationId": "1"}}},
		"signup short pwd": map[string]any{"email": "a@example.com", "password": "p", "signup": map[string]any{"email": "l@example.com", "password": "12345"}},
	})
	if _, ok := f.srv.Customer("a@example.com"); ok {
		t.Error("a rejected sign-up must store nothing")
	}

	// Login carries the anonymous session.
	tok := f.login(anon, "john@example.com", "password123")
	if tok["session_id"] != a["sessionId"] || tok["token_type"] != "Bearer" || tok["initialPassword"] != false {
		t.Errorf("customer token %v", tok)
	}
	if n(t, tok["expires_in"]) != 2591999 || n(t, tok["refresh_token_expires_in"]) != 86399 || s(tok["saas_token"]) == "" {
		t.Errorf("customer token lifetimes %v", tok)
	}
	if strings.Count(s(tok["saas_token"]), ".") != 2 {
		t.Error("saas_token must be JWT-shaped")
	}
	if _, camel := tok["accessToken"]; camel {
		t.Error("deprecated camelCase twins must not be sent")
	}
	if f.srv.TokenKind(s(tok["access_token"])) != emporixtest.KindCustomer {
		t.Error("TokenKind of a customer token")
	}
	if info, _ := f.srv.Customer("john@example.com"); !info.LastLogin.Equal(f.srv.Now()) {
		t.Errorf("LastLogin %v", info.LastLogin)
	}

	// Wrong credentials.
	wantError(t, f.tryLogin(anon, "john@example.com", "wrong-pass"), 401, "unauthorized", "Invalid credentials.")
	wantError(t, f.tryLogin(anon, "nobody@example.com", "password123"), 401, "unauthorized", "Invalid credentials.")
	wantStatus(t, f.tryLogin(anon, "john@example.com", "short"), 400)
	wantStatus(t, f.do(req{method: "POST", path: f.path("/login"), bearer: anon}), 400)
	wantStatus(t, f.do(req{method: "POST", path: f.path("/login"), bearer: anon, body: "{not json"}), 400)
	wantStatus(t, f.do(req{method: "POST", path: f.path("/login"), bearer: anon, body: "email=a", contentType: "text/plain"}), 415)
}

func TestSignupWithSeparateCredentials(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	anon := f.anonToken()
	r := f.do(req{method: "POST", path: f.path("/signup"), bearer: anon, body: map[string]any{
		"email": "contact@example.com", "password": "password123",
		"signup": map[string]any{"email": "login@example.com", "password": "password1234"},
	}})
	wantStatus(t, r, 201)
	info, ok := f.srv.Customer("login@example.com")
	if !ok || info.ContactEmail != "contact@example.com" {
		t.Fatalf("customer %+v", info)
	}
	f.login(anon, "login@example.com", "password1234")
}

func TestInactiveSignupAndEmployeeActivation(t *testing.T) {
	t.Parallel()
	f := newFixture(t, emporixtest.WithSignupMode(emporixtest.SignupInactive))
	anon := f.anonToken()
	number := f.signup(anon, "new@example.com", "password123")
	wantError(t, f.tryLogin(anon, "new@example.com", "password123"), 401, "unauthorized", "Customer account is not active.")
	// A wrong password still says "invalid credentials", revealing nothing.
	wantError(t, f.tryLogin(anon, "new@example.com", "wrong-pass"), 401, "unauthorized", "Invalid credentials.")

	// Service token.
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {f.srv.ServiceClientID()}, "client_secret": {"wrong"}}
	r := f.do(req{method: "POST", path: "/oauth/token", body: form.Encode(), contentType: "application/x-www-form-urlencoded"})
	wantStatus(t, r, 401)
	if m := r.json(t); m["ErrorCode"] != "invalid_client" {
		t.Errorf("oauth error %v", m)
	}
	form.Set("client_secret", f.srv.ServiceClientSecret())
	form.Set("grant_type", "password")
	wantStatus(t, f.do(req{method: "POST", path: "/oauth/token", body: form.Encode(), contentType: "application/x-www-form-urlencoded"}), 400)
	wantStatus(t, f.do(req{method: "POST", path: "/oauth/token", body: map[string]any{"grant_type": "client_credentials"}}), 400)
	form.Set("grant_type", "client_credentials")
	form.Set("scope", "tenant="+f.srv.Tenant()+" customer.customer_manage")
	tok := wantJSON(t, f.do(req{method: "POST", path: "/oauth/token", body: form.Encode(), contentType: "application/x-www-form-urlencoded"}), 200)
	if tok["refresh_token"] != "" || n(t, tok["refresh_token_expires_in"]) != 0 || n(t, tok["expires_in"]) != 14399 ||
		tok["scope"] != form.Get("scope") || n(t, tok["session_idle_time"]) != 120 {
		t.Errorf("service token %v", tok)
	}
	svc := s(tok["access_token"])
	if f.srv.TokenKind(svc) != emporixtest.KindService {
		t.Error("TokenKind of a service token")
	}

	// Employee PATCH.
	employee := func(number string, body any, contentType string) resp {
		return f.do(req{method: "PATCH", path: f.path("/customers/" + number), bearer: svc, body: body, contentType: contentType})
	}
	activate := map[string]any{"active": true, "onHold": false}
	wantError(t, employee("99999999", activate, ""), 404, "", "Customer not Found")
	wantNoContent(t, employee(number, activate, ""), 200)
	info, _ := f.srv.CustomerByNumber(number)
	if !info.Active || info.OnHold || info.Version != 2 {
		t.Errorf("after activation %+v", info)
	}
	f.login(anon, "new@example.com", "password123")

	// On hold blocks login again; merge-patch does not know active.
	wantStatus(t, employee(number, map[string]any{"onHold": true}, ""), 200)
	wantError(t, f.tryLogin(anon, "new@example.com", "password123"), 401, "unauthorized", "Customer account is not active.")
	wantStatus(t, employee(number, map[string]any{"active": true}, "application/merge-patch+json"), 400)

	// The direct control.
	number2 := f.signup(anon, "other@example.com", "password123")
	if !f.srv.ActivateCustomer(number2) || f.srv.ActivateCustomer("nope") {
		t.Error("ActivateCustomer result")
	}
	f.login(anon, "other@example.com", "password123")
	if !f.srv.DeactivateCustomer(number2) {
		t.Error("DeactivateCustomer result")
	}
	wantStatus(t, f.tryLogin(anon, "other@example.com", "password123"), 401)

	// The service token expires by the clock too.
	f.srv.Advance(14399 * time.Second)
	wantExpiredToken(t, employee(number, map[string]any{"active": true}, ""))
}

func TestCustomerRefreshRotates(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	_, tok, number := f.customer("rot@example.com")
	rt1 := s(tok["refresh_token"])
	refresh := func(bearer, rt string, extra url.Values) resp {
		q := url.Values{"refreshToken": {rt}}
		for k, v := range extra {
			q[k] = v
		}
		return f.do(req{method: "GET", path: f.path("/refreshauthtoken"), bearer: bearer, query: q})
	}
	f.srv.Advance(time.Hour)
	// A second anonymous token of another session authorizes just as well;
	// the customer session is kept.
	anon := f.anonToken() // the first one expired
	t2 := wantJSON(t, refresh(f.anonToken(), rt1, nil), 200)
	if t2["session_id"] != tok["session_id"] || t2["refresh_token"] == rt1 || t2["access_token"] == tok["access_token"] {
		t.Errorf("refreshed token %v", t2)
	}
	if _, ok := t2["saas_token"]; ok {
		t.Error("the refresh answer has no saas_token")
	}
	if n(t, t2["expires_in"]) != 2591999 || n(t, t2["refresh_token_expires_in"]) != 86399 {
		t.Errorf("refreshed lifetimes %v", t2)
	}
	// The old refresh token is spent.
	wantError(t, refresh(anon, rt1, nil), 401, "unauthorized", "Invalid refresh token.")
	// Missing parameter.
	wantStatus(t, f.do(req{method: "GET", path: f.path("/refreshauthtoken"), bearer: anon}), 400)

	// Legal entities.
	wantStatus(t, refresh(anon, s(t2["refresh_token"]), url.Values{"legalEntityId": {"LE1"}}), 400)
	if !f.srv.AssignLegalEntity(number, emporixtest.LegalEntity{ID: "LE1", Name: "ACME", ContactAssignmentID: "CA1"}) {
		t.Fatal("AssignLegalEntity")
	}
	// The failed attempt did not spend the token.
	t3 := wantJSON(t, refresh(anon, s(t2["refresh_token"]), url.Values{"legalEntityId": {"LE1"}}), 200)
	v := f.validate(s(t3["access_token"]))
	wantStatus(t, v, 200)
	if v.json(t)["legalEntityId"] != "LE1" {
		t.Errorf("validate after rescope %s", v.body)
	}
	me := f.me(s(t3["access_token"]), "")
	if me["businessModel"] != "B2C" || !strings.Contains(s(me["b2b"]), "ACME") {
		t.Errorf("b2b legal entities %v", me["b2b"])
	}

	// Refresh tokens expire.
	f.srv.Advance(86399 * time.Second)
	wantError(t, refresh(f.anonToken(), s(t3["refresh_token"]), nil), 401, "unauthorized", "Refresh token expired.")
}

func TestValidate(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	_, tok, _ := f.customer("v@example.com")
	f.srv.Advance(25 * time.Second)
	v := wantJSON(t, f.validate(s(tok["access_token"])), 200)
	if v["sessionId"] != tok["session_id"] || v["email"] != "v@example.com" || v["token_type"] != "Bearer" {
		t.Errorf("validate %v", v)
	}
	if n(t, v["expires_in"]) != 2591999-25 {
		t.Errorf("remaining expires_in %v", v["expires_in"])
	}
	if _, ok := v["legalEntityId"]; ok {
		t.Error("no legal entity was chosen")
	}
	if !strings.HasSuffix(s(v["scope"]), " tenant="+f.srv.Tenant()) || !strings.Contains(s(v["scope"]), "customer.customerprofile_edit") {
		t.Errorf("scope %v", v["scope"])
	}
	if _, snake := v["session_id"]; snake {
		t.Error("validate uses camelCase sessionId only")
	}
	wantInvalidToken(t, f.validate("unknown"))
}

func TestLogout(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	anon, tok, _ := f.customer("out@example.com")
	cust := s(tok["access_token"])
	logout := func(bearer, named string) resp {
		var q url.Values
		if named != "" {
			q = url.Values{"accessToken": {named}}
		}
		return f.do(req{method: "GET", path: f.path("/logout"), bearer: bearer, query: q})
	}
	wantStatus(t, logout(cust, ""), 400)
	other := s(f.login(anon, "out@example.com", "password123")["access_token"])
	wantStatus(t, logout(cust, other), 400)
	r := logout(cust, cust)
	wantNoContent(t, r, 204)
	wantInvalidToken(t, f.do(req{method: "GET", path: f.path("/me"), bearer: cust}))
	wantInvalidToken(t, logout(cust, cust))
	// The refresh token went with it; the other login is unaffected.
	wantStatus(t, f.do(req{method: "GET", path: f.path("/refreshauthtoken"), bearer: anon, query: url.Values{"refreshToken": {s(tok["refresh_token"])}}}), 401)
	wantStatus(t, f.do(req{method: "GET", path: f.path("/me"), bearer: other}), 200)
}
