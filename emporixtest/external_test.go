package emporixtest_test

import (
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/emporix-go/emporix/emporixtest"
)

func TestDoubleOptIn(t *testing.T) {
	t.Parallel()
	f := newFixture(t, emporixtest.WithSignupMode(emporixtest.SignupDoubleOptIn))
	a := f.anonymous()
	anon := s(a["access_token"])
	number := f.signup(anon, "optin@example.com", "password123")
	info, _ := f.srv.CustomerByNumber(number)
	if !info.AwaitingOptIn || info.Active {
		t.Errorf("before opt-in %+v", info)
	}
	wantError(t, f.tryLogin(anon, "optin@example.com", "password123"), 401, "unauthorized", "Customer account is not active.")
	first := f.srv.LastToken(emporixtest.MailOptIn, "optin@example.com")
	if first == "" {
		t.Fatal("no opt-in mail")
	}

	// Resend: 202 without body, a new token, the old one void.
	resend := func(email string) resp {
		return f.do(req{method: "POST", path: f.path("/signup/optin/refresh_token"), bearer: anon, body: map[string]any{"email": email}})
	}
	r := resend("optin@example.com")
	wantNoContent(t, r, 202)
	second := f.srv.LastToken(emporixtest.MailOptIn, "optin@example.com")
	if second == first {
		t.Fatal("resend must mail a new token")
	}
	wantStatus(t, resend("nobody@example.com"), 202)
	wantStatus(t, f.do(req{method: "POST", path: f.path("/signup/optin/refresh_token"), bearer: anon}), 400)
	if len(f.srv.Outbox("nobody@example.com")) != 0 {
		t.Error("no mail for an unknown e-mail")
	}

	confirm := func(token string) resp {
		return f.do(req{method: "GET", path: f.path("/signup/optin/" + url.PathEscape(token)), bearer: anon})
	}
	wantStatus(t, confirm(first), 400)
	tok := wantJSON(t, confirm(second), 200)
	if s(tok["access_token"]) == "" || s(tok["saas_token"]) == "" || n(t, tok["expires_in"]) != 2591999 {
		t.Errorf("opt-in token %v", tok)
	}
	if _, ok := tok["session_id"]; ok {
		t.Error("like the spec's example, the opt-in answer has no session_id")
	}
	// The session was carried over nonetheless.
	v := f.validate(s(tok["access_token"]))
	if v.json(t)["sessionId"] != a["sessionId"] {
		t.Errorf("opt-in session %s", v.body)
	}
	wantStatus(t, confirm(second), 400)
	f.login(anon, "optin@example.com", "password123")
	if info, _ := f.srv.CustomerByNumber(number); info.AwaitingOptIn || !info.Active {
		t.Errorf("after opt-in %+v", info)
	}

	// Expiry; and the literal refresh_token segment is no token for GET.
	f.srv.SetSignupMode(emporixtest.SignupDoubleOptIn)
	f.signup(anon, "late@example.com", "password123")
	f.srv.Advance(25 * time.Hour)
	anon = f.anonToken()
	wantStatus(t, confirm(f.srv.LastToken(emporixtest.MailOptIn, "late@example.com")), 400)
	wantStatus(t, confirm("refresh_token"), 400)
}

func TestSocialLogin(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	a := f.anonymous()
	anon := s(a["access_token"])
	f.srv.AddSocialCode("code-1", emporixtest.SocialCode{Email: "social@example.com", RedirectURI: "https://shop/cb",
		CodeVerifier: "verifier", FirstName: "Soc", LastName: "Ial"})
	social := func(q url.Values, session string) resp {
		h := http.Header{}
		if session != "" {
			h.Set("session-id", session)
		}
		return f.do(req{method: "POST", path: f.path("/socialLogin"), bearer: anon, query: q, header: h})
	}
	wantStatus(t, social(url.Values{"code": {"code-1"}}, ""), 400)
	q := url.Values{"code": {"code-1"}, "redirect_uri": {"https://elsewhere/cb"}, "code_verifier": {"verifier"}}
	wantError(t, social(q, ""), 401, "unauthorized", "")
	q.Set("redirect_uri", "https://shop/cb")
	q.Del("code_verifier")
	wantError(t, social(q, ""), 401, "unauthorized", "")
	q.Set("code_verifier", "verifier")
	tok := wantJSON(t, social(q, s(a["sessionId"])), 200)
	for _, k := range []string{"expires_in", "refresh_token_expires_in"} {
		if _, isString := tok[k].(string); !isString {
			t.Errorf("%s must be a string: %v", k, tok[k])
		}
	}
	if tok["expires_in"] != "2591999" || tok["refresh_token_expires_in"] != "86399" || n(t, tok["session_idle_time"]) != 3600 {
		t.Errorf("social token %v", tok)
	}
	if s(tok["social_access_token"]) == "" || s(tok["social_id_token"]) == "" || s(tok["saas_token"]) == "" || tok["scope"] != "tenant="+f.srv.Tenant() {
		t.Errorf("social token %v", tok)
	}
	if _, ok := tok["session_id"]; ok {
		t.Error("the social login answer has no session_id")
	}
	v := f.validate(s(tok["access_token"]))
	if v.json(t)["sessionId"] != a["sessionId"] {
		t.Errorf("session-id header not carried: %s", v.body)
	}
	info, ok := f.srv.Customer("social@example.com")
	if !ok || info.HasPassword || info.ProviderID == "" || info.FirstName != "Soc" {
		t.Errorf("provisioned customer %+v", info)
	}
	me := f.me(s(tok["access_token"]), "")
	if s(me["accounts"]) != `[{"id":"social@example.com","providerId":"`+info.ProviderID+`"}]` {
		t.Errorf("accounts %v", me["accounts"])
	}
	// Codes are single-use; an unknown one is refused.
	wantError(t, social(q, ""), 401, "unauthorized", "Invalid authorization code.")
	// A known password account logs in with a code; without session-id the session is new.
	_, _, _ = f.customer("known@example.com")
	f.srv.AddSocialCode("code-2", emporixtest.SocialCode{Email: "known@example.com", ProviderID: "google-oauth2|1"})
	r := social(url.Values{"code": {"code-2"}, "redirect_uri": {"https://any"}}, "")
	wantStatus(t, r, 200)
	v = f.validate(s(r.json(t)["access_token"]))
	if sid := s(v.json(t)["sessionId"]); sid == s(a["sessionId"]) || !uuidPattern.MatchString(sid) {
		t.Errorf("session without header %q", sid)
	}
	if info, _ := f.srv.Customer("known@example.com"); info.ProviderID != "google-oauth2|1" || !info.HasPassword {
		t.Errorf("linked customer %+v", info)
	}
}

func TestTokenExchange(t *testing.T) {
	t.Parallel()
	f := newFixture(t, emporixtest.WithExchangeConfigs("site_PL"))
	a := f.anonymous()
	anon := s(a["access_token"])
	f.srv.AddSubjectToken("jwt-1", emporixtest.Subject{Email: "sso@example.com", FirstName: "S"})
	exchange := func(q url.Values) resp {
		return f.do(req{method: "POST", path: f.path("/exchangeauthtoken"), bearer: anon, query: q})
	}
	wantStatus(t, exchange(nil), 400)
	wantError(t, exchange(url.Values{"subjectAccessToken": {"jwt-1"}, "config": {"site_DE"}}), 400, "bad_request", "")
	wantError(t, exchange(url.Values{"subjectAccessToken": {"unknown"}}), 401, "unauthorized", "")
	tok := wantJSON(t, exchange(url.Values{"subjectAccessToken": {"jwt-1"}, "config": {"site_PL"}}), 200)
	if tok["subject_access_token"] != "jwt-1" || tok["session_id"] != a["sessionId"] || n(t, tok["session_idle_time"]) != 120 ||
		n(t, tok["expires_in"]) != 14399 || n(t, tok["refresh_token_expires_in"]) != 15551999 || s(tok["saas_token"]) == "" {
		t.Errorf("exchange token %v", tok)
	}
	// Subject tokens are reusable; configurations can be added later.
	f.srv.AddExchangeConfig("Site_DE")
	wantStatus(t, exchange(url.Values{"subjectAccessToken": {"jwt-1"}, "config": {"Site_DE"}}), 200)
	if info, ok := f.srv.Customer("sso@example.com"); !ok || info.HasPassword || info.FirstName != "S" {
		t.Errorf("provisioned %+v", info)
	}
	// A refresh keeps the exchange lifetimes.
	r := f.do(req{method: "GET", path: f.path("/refreshauthtoken"), bearer: anon, query: url.Values{"refreshToken": {s(tok["refresh_token"])}}})
	wantStatus(t, r, 200)
	if n(t, r.json(t)["expires_in"]) != 14399 {
		t.Errorf("refreshed exchange token %s", r.body)
	}
	// An inactive account cannot exchange.
	info, _ := f.srv.Customer("sso@example.com")
	f.srv.DeactivateCustomer(info.CustomerNumber)
	wantError(t, exchange(url.Values{"subjectAccessToken": {"jwt-1"}}), 401, "unauthorized", "Customer account is not active.")
}
