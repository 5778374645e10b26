package emporixtest_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/emporix-go/emporix/emporixtest"
)

// fixture drives a fake with plain net/http.
type fixture struct {
	t   testing.TB
	srv *emporixtest.Server
	hc  *http.Client
}

func newFixture(t testing.TB, opts ...emporixtest.Option) *fixture {
	t.Helper()
	srv := emporixtest.NewServer(opts...)
	t.Cleanup(srv.Close)
	return &fixture{t: t, srv: srv, hc: srv.Client()}
}

// resp is a received answer.
type resp struct {
	status int
	header http.Header
	body   []byte
}

// json decodes the body into a map.
func (r resp) json(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	dec := json.NewDecoder(bytes.NewReader(r.body))
	dec.UseNumber()
	if err := dec.Decode(&m); err != nil {
		t.Fatalf("body %q is not a JSON object: %v", r.body, err)
	}
	return m
}

// req is a request to send.
type req struct {
	method, path string
	query        url.Values
	bearer       string
	body         any    // JSON-encoded unless a string
	contentType  string // default application/json when there is a body
	header       http.Header
}

func (f *fixture) do(r req) resp {
	f.t.Helper()
	u := f.srv.URL() + r.path
	if len(r.query) > 0 {
		u += "?" + r.query.Encode()
	}
	var body io.Reader
	ct := r.contentType
	switch b := r.body.(type) {
	case nil:
	case string:
		body = strings.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			f.t.Fatal(err)
		}
		body = bytes.NewReader(raw)
	}
	if body != nil && ct == "" {
		ct = "application/json"
	}
	hr, err := http.NewRequest(r.method, u, body)
	if err != nil {
		f.t.Fatal(err)
	}
	for k, v := range r.header {
		hr.Header[k] = v
	}
	if ct != "" {
		hr.Header.Set("Content-Type", ct)
	}
	if r.bearer != "" {
		hr.Header.Set("Authorization", "Bearer "+r.bearer)
	}
	res, err := f.hc.Do(hr)
	if err != nil {
		f.t.Fatalf("%s %s: %v", r.method, r.path, err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		f.t.Fatal(err)
	}
	return resp{status: res.StatusCode, header: res.Header, body: raw}
}

// path builds a customer-managed path for the fake's tenant.
func (f *fixture) path(rest string) string { return "/customer/" + f.srv.Tenant() + rest }

// anonymous logs in anonymously and returns the answer's fields.
func (f *fixture) anonymous() map[string]any {
	f.t.Helper()
	r := f.do(req{method: "GET", path: "/customerlogin/auth/anonymous/login",
		query: url.Values{"tenant": {f.srv.Tenant()}, "client_id": {f.srv.ClientID()}}})
	wantStatus(f.t, r, 200)
	return r.json(f.t)
}

// anonToken returns a fresh anonymous access token.
func (f *fixture) anonToken() string { return s(f.anonymous()["access_token"]) }

// signup signs a customer up and returns the customer number.
func (f *fixture) signup(anon, email, password string) string {
	f.t.Helper()
	r := f.do(req{method: "POST", path: f.path("/signup"), bearer: anon,
		body: map[string]any{"email": email, "password": password}})
	wantStatus(f.t, r, 201)
	return s(r.json(f.t)["id"])
}

// tryLogin posts a password login.
func (f *fixture) tryLogin(anon, email, password string) resp {
	f.t.Helper()
	return f.do(req{method: "POST", path: f.path("/login"), bearer: anon, body: map[string]any{"email": email, "password": password}})
}

// login logs a customer in and returns the answer's fields.
func (f *fixture) login(anon, email, password string) map[string]any {
	f.t.Helper()
	r := f.tryLogin(anon, email, password)
	wantStatus(f.t, r, 200)
	return r.json(f.t)
}

// validate validates a token.
func (f *fixture) validate(bearer string) resp {
	f.t.Helper()
	return f.do(req{method: "GET", path: f.path("/validateauthtoken"), bearer: bearer})
}

// customer signs up and logs in a new customer and returns the anonymous
// token, the customer token fields and the customer number.
func (f *fixture) customer(email string) (anon string, tok map[string]any, number string) {
	f.t.Helper()
	anon = f.anonToken()
	number = f.signup(anon, email, "password123")
	return anon, f.login(anon, email, "password123"), number
}

func (f *fixture) serviceToken() string {
	f.t.Helper()
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {f.srv.ServiceClientID()},
		"client_secret": {f.srv.ServiceClientSecret()}}
	r := f.do(req{method: "POST", path: "/oauth/token", body: form.Encode(), contentType: "application/x-www-form-urlencoded"})
	wantStatus(f.t, r, 200)
	return s(r.json(f.t)["access_token"])
}

func (f *fixture) me(bearer string, expand string) map[string]any {
	f.t.Helper()
	var q url.Values
	if expand != "" {
		q = url.Values{"expand": {expand}}
	}
	r := f.do(req{method: "GET", path: f.path("/me"), bearer: bearer, query: q})
	wantStatus(f.t, r, 200)
	return r.json(f.t)
}

func wantStatus(t testing.TB, r resp, want int) {
	t.Helper()
	if r.status != want {
		t.Fatalf("status %d, want %d; body %s", r.status, want, r.body)
	}
}

// wantError checks an ErrorMessage answer.
func wantError(t testing.TB, r resp, status int, typ, message string) {
	t.Helper()
	wantStatus(t, r, status)
	m := r.json(t)
	if num, ok := m["status"].(json.Number); !ok || num.String() != strconv.Itoa(status) {
		t.Errorf("body status %v, want %d; body %s", m["status"], status, r.body)
	}
	if typ != "" && m["type"] != typ {
		t.Errorf("type %v, want %q", m["type"], typ)
	}
	if message != "" && m["message"] != message {
		t.Errorf("message %q, want %q", m["message"], message)
	}
}

// wantFault checks the gateway's 401 body.
func wantFault(t testing.TB, r resp, faultString, code string) {
	t.Helper()
	wantStatus(t, r, 401)
	var f struct {
		Fault struct {
			FaultString string `json:"faultstring"`
			Detail      struct {
				ErrorCode string `json:"errorcode"`
			} `json:"detail"`
		} `json:"fault"`
	}
	if err := json.Unmarshal(r.body, &f); err != nil {
		t.Fatal(err)
	}
	if f.Fault.FaultString != faultString || f.Fault.Detail.ErrorCode != code {
		t.Errorf("fault %+v, want %q / %q", f.Fault, faultString, code)
	}
}

func wantInvalidToken(t testing.TB, r resp) {
	t.Helper()
	wantFault(t, r, "Invalid access token", "oauth.v2.InvalidAccessToken")
}

func wantExpiredToken(t testing.TB, r resp) {
	t.Helper()
	wantFault(t, r, "Access Token expired", "keymanagement.service.access_token_expired")
}

// wantNoContent checks an answer of status without a body.
func wantNoContent(t testing.TB, r resp, status int) {
	t.Helper()
	wantStatus(t, r, status)
	if len(r.body) != 0 {
		t.Errorf("body %q, want none", r.body)
	}
}

// s converts a decoded JSON value to a string.
func s(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case json.Number:
		return x.String()
	case nil:
		return ""
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// n converts a decoded JSON number to an int64.
func n(t testing.TB, v any) int64 {
	t.Helper()
	num, ok := v.(json.Number)
	if !ok {
		t.Fatalf("%v (%T) is not a JSON number", v, v)
	}
	i, err := num.Int64()
	if err != nil {
		t.Fatal(err)
	}
	return i
}

// wantJSON checks an answer's status and decodes its JSON object.
func wantJSON(t testing.TB, r resp, status int) map[string]any {
	t.Helper()
	wantStatus(t, r, status)
	return r.json(t)
}

// wantRejected checks that r, sent with each of the named bodies, is
// answered 400.
func (f *fixture) wantRejected(r req, bodies map[string]any) {
	f.t.Helper()
	for name, body := range bodies {
		r.body = body
		if got := f.do(r); got.status != 400 {
			f.t.Errorf("%s: status %d, want 400; body %s", name, got.status, got.body)
		}
	}
}
