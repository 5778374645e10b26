package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/emporix-go/emporix"
	"github.com/emporix-go/emporix/emporixtest"
)

var stepNames = []string{
	"anonymous token", "anonymous refresh", "sign-up", "activation", "guest cart", "login", "cart merge", "validate",
	"profile read", "profile update", "address create", "address list", "address get",
	"address update", "address add tags", "address remove tags", "address delete",
	"customer-token refresh", "password change", "password-reset request",
	"e-mail change request", "logout",
}

// fakeConfig points the quickstart at srv as at a tenant, opted in to the
// cart steps.
func fakeConfig(srv *emporixtest.Server) config {
	return config{
		APIURL: srv.URL(), Tenant: srv.Tenant(), ClientID: srv.ClientID(),
		ServiceClientID: srv.ServiceClientID(), ServiceClientSecret: srv.ServiceClientSecret(),
		CartItemYrn: "urn:yaas:saasag:caasproduct:product:" + srv.Tenant() + ";tea", CartPriceID: "p1", CartAmount: 2.5,
	}
}

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestQuickstartWalksEveryStep(t *testing.T) {
	srv := emporixtest.NewServer(emporixtest.WithSignupMode(emporixtest.SignupInactive))
	defer srv.Close()

	var out bytes.Buffer
	if err := run(testContext(t), fakeConfig(srv), &out); err != nil {
		t.Fatalf("run: %v\noutput:\n%s", err, out.String())
	}
	text := out.String()

	for i, name := range stepNames {
		if want := stepLine(i, name); !strings.Contains(text, want) {
			t.Errorf("output lacks step line %q", want)
		}
	}
	if !strings.Contains(text, "All 22 steps passed.") {
		t.Errorf("output lacks the final summary")
	}
	if strings.Contains(text, "in-process fake") {
		t.Errorf("output claims the embedded fake although a tenant was configured")
	}

	// The session IDs the fake handed out are shown, and the login kept the
	// anonymous one.
	sessions := sessionIDs(t, srv)
	if len(sessions) != 1 {
		t.Fatalf("want one session ID across anonymous login, refresh and login, got %v", sessions)
	}
	for id := range sessions {
		if n := strings.Count(text, id); n < 4 {
			t.Errorf("session ID %s shown %d times, want it for anonymous token, refresh, login and validate", id, n)
		}
	}
	for _, want := range []string{"same as before: true", "carried over from the anonymous session: true"} {
		if !strings.Contains(text, want) {
			t.Errorf("output lacks %q", want)
		}
	}

	// The activation ran for real, through the service credentials.
	if got := srv.Requests("PATCH-customer-tenant-update-customer"); len(got) != 1 || got[0].Status != http.StatusOK {
		t.Errorf("want one successful activation PATCH, got %d calls", len(got))
	}

	secrets := secretsSeen(t, srv)
	if len(secrets) < 10 {
		t.Fatalf("collected only %d secrets from the fake's log; the collector is broken", len(secrets))
	}
	for s, where := range secrets {
		if strings.Contains(text, s) {
			t.Errorf("output contains a secret (%s)", where)
		}
	}
}

func stepLine(i int, name string) string { return fmt.Sprintf("%2d. %s\n", i+1, name) }

// sessionIDs returns the session IDs in the fake's token answers.
func sessionIDs(t *testing.T, srv *emporixtest.Server) map[string]bool {
	t.Helper()
	ids := map[string]bool{}
	for _, r := range srv.Requests() {
		var body struct {
			Camel string `json:"sessionId"`
			Snake string `json:"session_id"`
		}
		if json.Unmarshal(r.ResponseBody, &body) != nil {
			continue
		}
		for _, id := range []string{body.Camel, body.Snake} {
			if id != "" {
				ids[id] = true
			}
		}
	}
	return ids
}

// secretsSeen collects every secret that crossed the wire, from the fake's
// request log and outbox, with where it was seen.
func secretsSeen(t *testing.T, srv *emporixtest.Server) map[string]string {
	t.Helper()
	secrets := map[string]string{}
	add := func(value, where string) {
		if value != "" {
			secrets[value] = where
		}
	}
	secretFields := []string{
		"access_token", "refresh_token", "saas_token", "accessToken", "refreshToken", "saasToken",
		"password", "currentPassword", "newPassword", "token", "client_secret",
	}
	for _, r := range srv.Requests() {
		add(r.Bearer(), r.OperationID+" bearer")
		for _, name := range []string{"refresh_token", "refreshToken", "accessToken", "anonymous_token"} {
			add(r.Query.Get(name), r.OperationID+" query "+name)
		}
		if form, err := url.ParseQuery(string(r.Body)); err == nil && strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
			add(form.Get("client_secret"), r.OperationID+" form client_secret")
		}
		for _, body := range [][]byte{r.Body, r.ResponseBody} {
			var fields map[string]any
			if json.Unmarshal(body, &fields) != nil {
				continue
			}
			for _, name := range secretFields {
				if s, ok := fields[name].(string); ok {
					add(s, r.OperationID+" body "+name)
				}
			}
		}
	}
	for _, m := range srv.Outbox("") {
		add(m.Token, "mailed "+string(m.Kind)+" token")
	}
	add(srv.ServiceClientSecret(), "service client secret")
	return secrets
}

func TestQuickstartStartsTheFakeWithoutATenant(t *testing.T) {
	var out bytes.Buffer
	if err := run(testContext(t), config{}, &out); err != nil {
		t.Fatalf("run: %v\noutput:\n%s", err, out.String())
	}
	text := out.String()
	for _, want := range []string{"EMPORIX_TENANT is not set", "in-process fake", "All 22 steps passed."} {
		if !strings.Contains(text, want) {
			t.Errorf("output lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, "skipped") {
		t.Errorf("activation was skipped on the embedded fake:\n%s", text)
	}
}

func TestQuickstartNamesTheFailedStep(t *testing.T) {
	tests := []struct {
		step      string
		operation string
		status    int
		is        error
	}{
		{"anonymous token", "GET-oauth-generate-anonymous-access-token", http.StatusBadGateway, emporix.ErrServer},
		{"sign-up", "POST-customer-create-customer-account", http.StatusConflict, emporix.ErrConflict},
		{"activation", "POST-oauth-request-client-credentials", http.StatusUnauthorized, emporix.ErrUnauthorized},
		{"login", "POST-customer-authenticate-customer", http.StatusInternalServerError, emporix.ErrServer},
		{"address create", "POST-customer-add-address", http.StatusInternalServerError, emporix.ErrServer},
		{"password change", "POST-customer-change-account-password", http.StatusBadRequest, emporix.ErrBadRequest},
		{"logout", "GET-customer-logout-customer", http.StatusInternalServerError, emporix.ErrServer},
	}
	for _, tt := range tests {
		t.Run(tt.step, func(t *testing.T) {
			srv := emporixtest.NewServer(emporixtest.WithSignupMode(emporixtest.SignupInactive))
			defer srv.Close()
			srv.InjectFault(tt.operation, emporixtest.Fault{Status: tt.status, Times: 5})

			var out bytes.Buffer
			err := run(testContext(t), fakeConfig(srv), &out)
			if err == nil {
				t.Fatalf("run succeeded despite the fault:\n%s", out.String())
			}
			var stepErr *StepError
			if !errors.As(err, &stepErr) || stepErr.Step != tt.step {
				t.Fatalf("error %q does not name step %q", err, tt.step)
			}
			if !strings.Contains(err.Error(), `"`+tt.step+`"`) {
				t.Errorf("error text %q does not name the step", err)
			}
			if !errors.Is(err, tt.is) {
				t.Errorf("error %q does not match %v", err, tt.is)
			}
			text := out.String()
			if !strings.Contains(text, "FAILED") {
				t.Errorf("output does not show the failure:\n%s", text)
			}
			if strings.Contains(text, "steps passed") {
				t.Errorf("output claims success:\n%s", text)
			}
		})
	}
}

func TestConfigFromEnv(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

	cfg, err := configFromEnv(env(nil))
	if err != nil || cfg.Tenant != "" || cfg.APIURL != emporix.DefaultBaseURL {
		t.Errorf("empty environment: got %+v, %v; want the fake and the default URL", cfg, err)
	}

	cfg, err = configFromEnv(env(map[string]string{
		"EMPORIX_TENANT": "mytenant", "EMPORIX_CLIENT_ID": "sf", "EMPORIX_API_URL": "https://proxy.example.com",
	}))
	if err != nil || cfg.Tenant != "mytenant" || cfg.ClientID != "sf" || cfg.APIURL != "https://proxy.example.com" || cfg.canActivate() {
		t.Errorf("tenant without service credentials: got %+v, %v", cfg, err)
	}

	if _, err := configFromEnv(env(map[string]string{"EMPORIX_TENANT": "mytenant"})); err == nil {
		t.Errorf("a tenant without EMPORIX_CLIENT_ID was accepted")
	}
	if _, err := configFromEnv(env(map[string]string{
		"EMPORIX_TENANT": "mytenant", "EMPORIX_CLIENT_ID": "sf", "EMPORIX_SERVICE_CLIENT_ID": "svc",
	})); err == nil {
		t.Errorf("a service client ID without its secret was accepted")
	}

	cfg, err = configFromEnv(env(map[string]string{
		"EMPORIX_TENANT": "mytenant", "EMPORIX_CLIENT_ID": "sf", "EMPORIX_CART_ITEM_YRN": "urn:x", "EMPORIX_CART_PRICE_ID": "p1",
		"EMPORIX_CART_PRICE_AMOUNT": "4.99", "EMPORIX_CART_SITE": "de",
	}))
	if err != nil || !cfg.cartSteps() || cfg.CartAmount != 4.99 || cfg.site() != "de" {
		t.Errorf("cart opt-in: got %+v, %v", cfg, err)
	}
	for _, bad := range []map[string]string{
		{"EMPORIX_CART_ITEM_YRN": "urn:x"},
		{"EMPORIX_CART_ITEM_YRN": "urn:x", "EMPORIX_CART_PRICE_ID": "p1", "EMPORIX_CART_PRICE_AMOUNT": "cheap"},
	} {
		bad["EMPORIX_TENANT"], bad["EMPORIX_CLIENT_ID"] = "mytenant", "sf"
		if _, err := configFromEnv(env(bad)); err == nil {
			t.Errorf("accepted %v", bad)
		}
	}
}

func TestQuickstartWithoutServiceCredentialsSkipsActivation(t *testing.T) {
	srv := emporixtest.NewServer() // sign-ups are active at once
	defer srv.Close()
	cfg := fakeConfig(srv)
	cfg.ServiceClientID, cfg.ServiceClientSecret = "", ""

	var out bytes.Buffer
	if err := run(testContext(t), cfg, &out); err != nil {
		t.Fatalf("run: %v\noutput:\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "skipped") {
		t.Errorf("activation not reported as skipped:\n%s", out.String())
	}
}

func TestQuickstartExplainsAnInactiveAccount(t *testing.T) {
	srv := emporixtest.NewServer(emporixtest.WithSignupMode(emporixtest.SignupInactive))
	defer srv.Close()
	cfg := fakeConfig(srv)
	cfg.ServiceClientID, cfg.ServiceClientSecret = "", ""

	var out bytes.Buffer
	err := run(testContext(t), cfg, &out)
	var stepErr *StepError
	if !errors.As(err, &stepErr) || stepErr.Step != "login" {
		t.Fatalf("want the login step to fail, got %v", err)
	}
	if !strings.Contains(err.Error(), "EMPORIX_SERVICE_CLIENT_ID") {
		t.Errorf("error %q does not hint at the service credentials", err)
	}
}

const (
	opAnonymousLogin   = "GET-oauth-generate-anonymous-access-token"
	opAnonymousRefresh = "GET-oauth-refresh-anonymous-access-token"
)

// TestQuickstartOnTwoSecondAnonymousTokens: with anonymous tokens that
// live 2 seconds and expire between every two steps, the quickstart
// completes on one anonymous session: the session refreshes its tokens,
// ahead of time on the fake's clock, and on a 401 when the client's clock
// does not know they expired.
func TestQuickstartOnTwoSecondAnonymousTokens(t *testing.T) {
	for _, tc := range []struct {
		name      string
		fakeClock bool
		want401s  bool
	}{
		{name: "client on the fake's clock", fakeClock: true},
		{name: "client on the system clock", want401s: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := emporixtest.NewServer(emporixtest.WithSignupMode(emporixtest.SignupInactive),
				emporixtest.WithLifetimes(emporixtest.Lifetimes{AnonymousAccess: 2 * time.Second}))
			defer srv.Close()
			cfg := fakeConfig(srv)
			cfg.between = func() { srv.Advance(3 * time.Second) }
			if tc.fakeClock {
				cfg.clock = srv.Now
			}

			var out bytes.Buffer
			if err := run(testContext(t), cfg, &out); err != nil {
				t.Fatalf("run: %v\noutput:\n%s", err, out.String())
			}
			if !strings.Contains(out.String(), "All 22 steps passed.") {
				t.Fatalf("output lacks the final summary:\n%s", out.String())
			}
			if n := len(srv.Requests(opAnonymousLogin)); n != 1 {
				t.Errorf("%d anonymous logins, want exactly 1", n)
			}
			if n := len(srv.Requests(opAnonymousRefresh)); n < 5 {
				t.Errorf("%d anonymous refreshes; the tokens did not expire as the test meant", n)
			}
			expired := 0
			for _, r := range srv.Requests() {
				if r.Status == http.StatusUnauthorized && strings.Contains(string(r.ResponseBody), "access_token_expired") {
					expired++
				}
			}
			if tc.want401s != (expired > 0) {
				t.Errorf("%d answers said the token expired; want some: %v", expired, tc.want401s)
			}
			carts := srv.Carts()
			if len(carts) != 1 || carts[0].CustomerNumber == "" || len(carts[0].Items) != 1 || carts[0].Items[0].Quantity != 2 {
				t.Errorf("carts at the end: %+v; want the customer's, holding the guest's 2 items", carts)
			}
		})
	}
}

func TestQuickstartSkipsTheCartOnATenantUnlessAskedTo(t *testing.T) {
	srv := emporixtest.NewServer(emporixtest.WithSignupMode(emporixtest.SignupInactive))
	defer srv.Close()
	cfg := fakeConfig(srv)
	cfg.CartItemYrn, cfg.CartPriceID = "", ""

	var out bytes.Buffer
	if err := run(testContext(t), cfg, &out); err != nil {
		t.Fatalf("run: %v\noutput:\n%s", err, out.String())
	}
	text := out.String()
	if n := strings.Count(text, "skipped:"); n != 2 {
		t.Errorf("%d steps say skipped, want the two cart steps:\n%s", n, text)
	}
	if !strings.Contains(text, "EMPORIX_CART_ITEM_YRN") || !strings.Contains(text, "All 22 steps passed.") {
		t.Errorf("output does not explain the skipped cart steps:\n%s", text)
	}
	for _, r := range srv.Requests() {
		if strings.HasPrefix(r.Path, "/cart/") {
			t.Errorf("a skipped cart step called %s %s", r.Method, r.Path)
		}
	}
}
