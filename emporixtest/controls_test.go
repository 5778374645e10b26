package emporixtest_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/emporix-go/emporix/emporixtest"
)

func TestRouting(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	anon := f.anonToken()
	wantError(t, f.do(req{method: "GET", path: "/nope", bearer: anon}), 404, "not_found", "")
	wantStatus(t, f.do(req{method: "GET", path: f.path("/me/"), bearer: anon}), 404)
	wantStatus(t, f.do(req{method: "GET", path: "/customer/" + f.srv.Tenant() + "/customers/1"}), 405)
	r := f.do(req{method: "PUT", path: f.path("/me"), bearer: anon, body: map[string]any{}})
	wantError(t, r, 405, "method_not_allowed", "")
	if r.header.Get("Allow") != "GET, PATCH" {
		t.Errorf("Allow %q", r.header.Get("Allow"))
	}
	r = f.do(req{method: "PUT", path: f.path("/password"), bearer: anon})
	wantStatus(t, r, 404)
	r = f.do(req{method: "POST", path: f.path("/password/reset/confirm"), bearer: anon})
	wantStatus(t, r, 404)
	if got := f.srv.Requests()[len(f.srv.Requests())-1]; got.OperationID != "" || got.Status != 404 {
		t.Errorf("logged unrouted call %+v", got)
	}
}

func TestInjectFaultStatusAndRetryAfter(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.srv.InjectFault("GET-oauth-generate-anonymous-access-token", emporixtest.Fault{
		Status: 503, RetryAfter: 1500 * time.Millisecond, Times: 2,
	})
	f.srv.InjectFault("GET /customerlogin/auth/anonymous/login", emporixtest.Fault{
		Status: 429, Body: `{"message":"slow down"}`, Header: http.Header{"X-Test": {"yes"}},
	})
	if f.srv.PendingFaults() != 3 {
		t.Errorf("PendingFaults %d", f.srv.PendingFaults())
	}
	q := url.Values{"tenant": {f.srv.Tenant()}, "client_id": {f.srv.ClientID()}}
	get := func() resp { return f.do(req{method: "GET", path: "/customerlogin/auth/anonymous/login", query: q}) }
	for i := 0; i < 2; i++ {
		r := get()
		wantError(t, r, 503, "service_unavailable", "")
		if r.header.Get("Retry-After") != "2" {
			t.Errorf("Retry-After %q", r.header.Get("Retry-After"))
		}
	}
	r := get()
	wantStatus(t, r, 429)
	if string(r.body) != `{"message":"slow down"}` || r.header.Get("X-Test") != "yes" || r.header.Get("Content-Type") != "application/json" {
		t.Errorf("custom fault %s %v", r.body, r.header)
	}
	wantStatus(t, get(), 200)
	if f.srv.PendingFaults() != 0 {
		t.Error("faults must be used up")
	}
	log := f.srv.Requests("GET-oauth-generate-anonymous-access-token")
	if len(log) != 4 || !log[0].Fault || log[3].Fault || log[0].Status != 503 {
		t.Errorf("log of faulted calls %+v", log)
	}

	// A faulted call has no effect; a concrete path matches; 401 defaults to
	// the gateway body.
	anon := f.anonToken()
	f.srv.InjectFault("POST "+f.path("/signup"), emporixtest.Fault{Status: 401})
	r = f.do(req{method: "POST", path: f.path("/signup"), bearer: anon, body: map[string]any{"email": "f@example.com", "password": "p"}})
	wantInvalidToken(t, r)
	if _, ok := f.srv.Customer("f@example.com"); ok {
		t.Error("a faulted sign-up must not be stored")
	}
	// Commit: the sign-up happens, the client sees a 500.
	f.srv.InjectFault("POST /customer/{tenant}/signup", emporixtest.Fault{Status: 500, Commit: true})
	r = f.do(req{method: "POST", path: f.path("/signup"), bearer: anon, body: map[string]any{"email": "f@example.com", "password": "p"}})
	wantStatus(t, r, 500)
	if _, ok := f.srv.Customer("f@example.com"); !ok {
		t.Error("a committed fault must let the sign-up happen")
	}

	f.srv.InjectFault("PATCH-customer-update-customer", emporixtest.Fault{Status: 502, Times: 5})
	f.srv.ClearFaults()
	if f.srv.PendingFaults() != 0 {
		t.Error("ClearFaults")
	}
}

func TestInjectFaultPanicsOnUnknownOperation(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	defer func() {
		if recover() == nil {
			t.Error("no panic for an unknown operationId")
		}
	}()
	f.srv.InjectFault("POST-customer-nope", emporixtest.Fault{Status: 500})
}

// TestInjectFaultPanicsOnAStatusNetHTTPCannotSend: such a fault would
// crash the handler of the call it answers; it is refused when injected.
func TestInjectFaultPanicsOnAStatusNetHTTPCannotSend(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	for _, status := range []int{-1, 42, 99, 1000} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("no panic for status %d", status)
				}
			}()
			f.srv.InjectFault("POST-customer-authenticate-customer", emporixtest.Fault{Status: status})
		}()
	}
	if n := f.srv.PendingFaults(); n != 0 {
		t.Errorf("%d faults pending after refused ones", n)
	}
	f.srv.InjectFault("POST-customer-authenticate-customer", emporixtest.Fault{Status: 999, Commit: true})
	f.srv.InjectFault("POST-customer-authenticate-customer", emporixtest.Fault{Status: 100, Commit: true})
	if n := f.srv.PendingFaults(); n != 2 {
		t.Errorf("%d faults pending, want the 2 with statuses net/http sends", n)
	}
}

func TestInjectFaultDropAndDelay(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	anon := f.anonToken()
	body := `{"email":"d@example.com","password":"password1"}`
	post := func(ctx context.Context) (*http.Response, error) {
		hr, _ := http.NewRequestWithContext(ctx, "POST", f.srv.URL()+f.path("/signup"), strings.NewReader(body))
		hr.Header.Set("Authorization", "Bearer "+anon)
		hr.Header.Set("Content-Type", "application/json")
		return f.hc.Do(hr)
	}
	f.srv.InjectFault("POST-customer-create-customer-account", emporixtest.Fault{Drop: true})
	if res, err := post(context.Background()); err == nil {
		res.Body.Close()
		t.Fatalf("a dropped connection must fail, got %d", res.StatusCode)
	}
	if _, ok := f.srv.Customer("d@example.com"); ok {
		t.Error("a dropped call must change nothing")
	}
	// Drop after commit: the account exists although the client saw no answer.
	f.srv.InjectFault("POST-customer-create-customer-account", emporixtest.Fault{Drop: true, Commit: true})
	if res, err := post(context.Background()); err == nil {
		res.Body.Close()
		t.Fatal("a dropped connection must fail")
	}
	if _, ok := f.srv.Customer("d@example.com"); !ok {
		t.Error("a committed drop must let the sign-up happen")
	}
	if last := f.srv.Requests("POST-customer-create-customer-account"); last[len(last)-1].Status != 0 || !last[len(last)-1].Fault {
		t.Errorf("dropped call log %+v", last[len(last)-1])
	}

	// Delay alone slows the call but keeps the real answer.
	f.srv.InjectFault("GET-customer-retrieve-customer-profile", emporixtest.Fault{Delay: 50 * time.Millisecond})
	start := time.Now()
	wantStatus(t, f.do(req{method: "GET", path: f.path("/me"), bearer: anon}), 200)
	if time.Since(start) < 50*time.Millisecond {
		t.Error("the delay was not applied")
	}
	// A client timeout during a delay.
	f.srv.InjectFault("POST-customer-create-customer-account", emporixtest.Fault{Delay: 5 * time.Second})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	if res, err := post(ctx); !errors.Is(err, context.DeadlineExceeded) {
		if res != nil {
			res.Body.Close()
		}
		t.Errorf("err = %v, want a deadline", err)
	}
}

func TestRequestLog(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	anon := f.anonToken()
	f.do(req{method: "POST", path: f.path("/password/reset"), bearer: anon, body: map[string]any{"email": "x@example.com"},
		header: http.Header{"X-Trace": {"t1"}}})
	log := f.srv.Requests("POST /customer/{tenant}/password/reset")
	if len(log) != 1 {
		t.Fatalf("log %+v", log)
	}
	r := log[0]
	if r.Method != "POST" || r.Path != f.path("/password/reset") || r.OperationID != "POST-customer-request-reset-password" ||
		r.Status != 204 || r.Header.Get("X-Trace") != "t1" || string(r.Body) != `{"email":"x@example.com"}` ||
		r.Bearer() != anon || !r.Time.Equal(f.srv.Now()) {
		t.Errorf("logged request %+v", r)
	}
	anonLog := f.srv.Requests("GET-oauth-generate-anonymous-access-token")
	if len(anonLog) != 1 || anonLog[0].Query.Get("client_id") != f.srv.ClientID() || len(anonLog[0].ResponseBody) == 0 ||
		anonLog[0].ResponseHeader.Get("Content-Type") != "application/json" || anonLog[0].Bearer() != "" {
		t.Errorf("anonymous login log %+v", anonLog)
	}
	if len(f.srv.Requests()) != 2 {
		t.Error("Requests() without targets returns all")
	}
	f.srv.ClearRequests()
	if len(f.srv.Requests()) != 0 {
		t.Error("ClearRequests")
	}
}

func TestResetAndAddCustomer(t *testing.T) {
	t.Parallel()
	f := newFixture(t, emporixtest.WithSignupMode(emporixtest.SignupInactive))
	number, err := f.srv.AddCustomer("seed@example.com", "password123")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.srv.AddCustomer("SEED@example.com", "password123"); err == nil {
		t.Error("duplicate AddCustomer")
	}
	if _, err := f.srv.AddCustomer("short@example.com", "12345"); err == nil {
		t.Error("AddCustomer with a short password")
	}
	anon := f.anonToken()
	tok := f.login(anon, "seed@example.com", "password123")
	if info, _ := f.srv.CustomerByNumber(number); !info.Active || !info.HasPassword {
		t.Errorf("seeded %+v", info)
	}
	f.srv.InjectFault("GET-customer-retrieve-customer-profile", emporixtest.Fault{Status: 500})
	f.srv.AddSocialCode("c", emporixtest.SocialCode{Email: "s@example.com"})
	f.do(req{method: "POST", path: f.path("/password/reset"), bearer: anon, body: map[string]any{"email": "seed@example.com"}})

	f.srv.Reset()
	if _, ok := f.srv.Customer("seed@example.com"); ok || len(f.srv.Requests()) != 0 || len(f.srv.Outbox("")) != 0 || f.srv.PendingFaults() != 0 {
		t.Error("Reset must clear customers, the log, the outbox and faults")
	}
	wantInvalidToken(t, f.do(req{method: "GET", path: f.path("/me"), bearer: s(tok["access_token"])}))
	if f.srv.TokenKind(anon) != "" {
		t.Error("Reset must forget tokens")
	}
	// The configuration survives: new sign-ups are still inactive.
	anon = f.anonToken()
	f.signup(anon, "after@example.com", "password123")
	if info, _ := f.srv.Customer("after@example.com"); info.Active {
		t.Error("the sign-up mode must survive Reset")
	}
	if emporixtest.SignupInactive.String() != "inactive" || emporixtest.SignupMode(9).String() != "SignupMode(?)" {
		t.Error("SignupMode.String")
	}
}
