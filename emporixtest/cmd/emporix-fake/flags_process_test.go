package main

import (
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestProcessFlags starts the fake with every kind of flag and checks each
// one's effect over HTTP: the text output, a seeded customer, a fault from
// the command line and one from the control endpoint, CORS for a browser
// origin, the frozen clock with a short token lifetime. SIGINT stops it with
// exit status 0.
func TestProcessFlags(t *testing.T) {
	const origin = "http://localhost:3000"
	p, out := startFake(t, "-addr", "127.0.0.1:0",
		"-tenant", "acme", "-client-id", "web-1", "-service-client-id", "svc", "-service-client-secret", "svc-secret",
		"-customer", "john@example.com:password123",
		"-fault", "POST-customer-authenticate-customer=503,retry-after=2s",
		"-cors-origin", origin,
		"-clock", "frozen", "-anonymous-access", "60s")

	base := regexp.MustCompile(`base URL +(http://127\.0\.0\.1:[0-9]+)\n`).FindStringSubmatch(out)
	require.Len(t, base, 2, "no base URL in:\n%s", out)
	for _, want := range []string{"tenant                 acme\n", "storefront client ID   web-1\n", "service client ID      svc\n",
		"service client secret  svc-secret\n", "sign-up mode           active\n", "clock                  frozen\n",
		"CORS origins           [" + origin + "]\n"} {
		assert.Contains(t, out, want)
	}
	number := regexp.MustCompile(`customer +john@example\.com \(customer number (\S+)\)`).FindStringSubmatch(out)
	require.Len(t, number, 2, "no seeded customer in:\n%s", out)
	assert.NotContains(t, out, "password123", "a seeded customer's password is not printed")

	u := base[1]
	var anon tokenAnswer
	resp := call(t, "GET", u+"/customerlogin/auth/anonymous/login?tenant=acme&client_id=web-1", "", nil, &anon)
	require.Equal(t, http.StatusOK, resp.StatusCode)

	// The -fault answers the first login, with its Retry-After; the next
	// one reaches the seeded customer.
	login := map[string]any{"email": "john@example.com", "password": "password123"}
	resp = call(t, "POST", u+"/customer/acme/login", anon.AccessToken, login, nil)
	assert.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)
	assert.Equal(t, "2", resp.Header.Get("Retry-After"))
	var cust tokenAnswer
	resp = call(t, "POST", u+"/customer/acme/login", anon.AccessToken, login, &cust)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var profile map[string]any
	call(t, "GET", u+"/customer/acme/me", cust.AccessToken, nil, &profile)
	assert.Equal(t, number[1], profile["customerNumber"])

	// A fault from the control endpoint: the next anonymous login's
	// connection is dropped.
	resp = call(t, "POST", u+"/_fake/faults", "", map[string]any{"target": "GET /customerlogin/auth/anonymous/login", "drop": true}, nil)
	require.Equal(t, http.StatusCreated, resp.StatusCode)
	// A fresh connection: net/http retries an idempotent request dropped
	// on a reused one.
	fresh := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	_, err := fresh.Get(u + "/customerlogin/auth/anonymous/login?tenant=acme&client_id=web-1")
	assert.Error(t, err, "the dropped call fails at the transport")
	resp = call(t, "GET", u+"/customerlogin/auth/anonymous/login?tenant=acme&client_id=web-1", "", nil, nil)
	assert.Equal(t, http.StatusOK, resp.StatusCode, "the fault was used up")
	resp = call(t, "POST", u+"/_fake/faults", "", map[string]any{"target": "no-such-operation", "status": 503}, nil)
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode, "an unknown operationId is refused")
	resp = call(t, "POST", u+"/_fake/faults", "", map[string]any{"target": "POST-customer-authenticate-customer", "status": 42}, nil)
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode, "a status net/http cannot send is refused, not left to crash a call")
	resp = call(t, "POST", u+"/_fake/faults", "", map[string]any{"target": "POST-customer-authenticate-customer", "status": 200}, nil)
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode, "a success status without commit is refused, as -fault refuses it")
	resp = call(t, "POST", u+"/_fake/faults", "", map[string]any{"target": "POST-customer-authenticate-customer", "status": 200, "commit": true}, nil)
	assert.Equal(t, http.StatusCreated, resp.StatusCode, "with commit it changes a real answer's status")
	resp = call(t, "DELETE", u+"/_fake/faults", "", nil, nil)
	assert.Equal(t, http.StatusNoContent, resp.StatusCode)

	// CORS: the browser's preflight from the allowed origin, the call
	// itself, and a preflight from another origin.
	resp = call(t, "OPTIONS", u+"/customer/acme/login", "", nil, nil,
		"Origin", origin, "Access-Control-Request-Method", "POST", "Access-Control-Request-Headers", "authorization, content-type")
	assert.Equal(t, http.StatusNoContent, resp.StatusCode)
	assert.Equal(t, origin, resp.Header.Get("Access-Control-Allow-Origin"))
	assert.Contains(t, resp.Header.Get("Access-Control-Allow-Methods"), "POST")
	assert.Equal(t, "authorization, content-type", resp.Header.Get("Access-Control-Allow-Headers"))
	resp = call(t, "GET", u+"/customer/acme/me", cust.AccessToken, nil, nil, "Origin", origin)
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, origin, resp.Header.Get("Access-Control-Allow-Origin"))
	resp = call(t, "OPTIONS", u+"/customer/acme/login", "", nil, nil, "Origin", "http://evil.example", "Access-Control-Request-Method", "POST")
	assert.Equal(t, http.StatusForbidden, resp.StatusCode)
	assert.Empty(t, resp.Header.Get("Access-Control-Allow-Origin"))

	// The frozen clock keeps the 60 s anonymous token valid until the
	// control moves it past its lifetime.
	reset := map[string]any{"email": "john@example.com"}
	resp = call(t, "POST", u+"/customer/acme/password/reset", anon.AccessToken, reset, nil)
	assert.Equal(t, http.StatusNoContent, resp.StatusCode)
	resp = call(t, "POST", u+"/_fake/clock/advance", "", map[string]any{"duration": "59s"}, nil)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	resp = call(t, "POST", u+"/customer/acme/password/reset", anon.AccessToken, reset, nil)
	assert.Equal(t, http.StatusNoContent, resp.StatusCode, "59 s into a 60 s token")
	call(t, "POST", u+"/_fake/clock/advance", "", map[string]any{"duration": "2s"}, nil)
	resp = call(t, "POST", u+"/customer/acme/password/reset", anon.AccessToken, reset, nil)
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode, "61 s into a 60 s token")

	// Customers and activation through the controls.
	var added seededCustomer
	resp = call(t, "POST", u+"/_fake/customers", "", map[string]any{"email": "grace@example.com", "password": "password456"}, &added)
	require.Equal(t, http.StatusCreated, resp.StatusCode)
	assert.NotEmpty(t, added.CustomerNumber)
	resp = call(t, "POST", u+"/_fake/customers/"+url.PathEscape(added.CustomerNumber)+"/activate", "", nil, nil)
	assert.Equal(t, http.StatusNoContent, resp.StatusCode)
	resp = call(t, "POST", u+"/_fake/customers/nobody/activate", "", nil, nil)
	assert.Equal(t, http.StatusNotFound, resp.StatusCode)

	code := p.stop(t, syscall.SIGINT)
	assert.Equal(t, 0, code, "stderr: %s", p.stderr)
	assert.Contains(t, p.stderr.String(), "emporix-fake: stopped")
}

// TestProcessRealClock: with the real clock (the default) a short token
// lifetime runs out in real time, as a frontend testing its refresh needs.
func TestProcessRealClock(t *testing.T) {
	p, out := startFake(t, "-addr", "127.0.0.1:0", "-json", "-anonymous-access", "1s")
	var in info
	require.NoError(t, jsonUnmarshal(out, &in))
	assert.Equal(t, "real", in.Clock)
	var anon tokenAnswer
	call(t, "GET", in.BaseURL+"/customerlogin/auth/anonymous/login?tenant="+in.Tenant+"&client_id="+in.ClientID, "", nil, &anon)
	reset := map[string]any{"email": "nobody@example.com"}
	resp := call(t, "POST", in.BaseURL+"/customer/"+in.Tenant+"/password/reset", anon.AccessToken, reset, nil)
	require.Equal(t, http.StatusNoContent, resp.StatusCode)
	deadline := time.Now().Add(10 * time.Second)
	for resp.StatusCode == http.StatusNoContent && time.Now().Before(deadline) {
		time.Sleep(200 * time.Millisecond)
		resp = call(t, "POST", in.BaseURL+"/customer/"+in.Tenant+"/password/reset", anon.AccessToken, reset, nil)
	}
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode, "a 1 s token expires in real time")
	assert.Equal(t, 0, p.stop(t, syscall.SIGTERM))
}

// TestProcessRefusesBadStarts: bad flags exit 2 and a listen failure or an
// unknown fault target exit 1, each with a message and before serving.
func TestProcessRefusesBadStarts(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer busy.Close()
	for _, tc := range []struct {
		args    []string
		code    int
		message string
	}{
		{[]string{"-signup", "sometimes"}, 2, `-signup: want active, inactive or double-opt-in, got "sometimes"`},
		{[]string{"-fault", "POST-customer-authenticate-customer=ok"}, 2, `want a status or drop first`},
		{[]string{"-customer", "john@example.com"}, 2, `-customer: want email:password`},
		{[]string{"-anonymous-access", "0s"}, 2, `-anonymous-access: want a positive duration`},
		{[]string{"-addr", "127.0.0.1:0", "-fault", "no-such-operation=503"}, 1, `unknown operationId "no-such-operation"`},
		{[]string{"-addr", busy.Addr().String()}, 1, `address already in use`},
	} {
		cmd := execFake(t, tc.args...)
		out, err := cmd.CombinedOutput()
		require.Error(t, err, "%v: %s", tc.args, out)
		assert.Equal(t, tc.code, cmd.ProcessState.ExitCode(), "%v: %s", tc.args, out)
		assert.Contains(t, string(out), tc.message, "%v", tc.args)
		assert.NotContains(t, string(out), "base URL", "%v: nothing is announced", tc.args)
	}
}

func jsonUnmarshal(s string, v any) error {
	return jsonDecoder(strings.NewReader(s)).Decode(v)
}
