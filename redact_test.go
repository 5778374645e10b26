package emporix

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emporix-go/emporix/internal/optable"
	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRedactQuery(t *testing.T) {
	cases := map[string]string{
		"": "",
		// Allow-listed names keep their values.
		"tenant=mytenant":              "tenant=mytenant",
		"expand=addresses%2Cmixin%3A*": "expand=addresses%2Cmixin%3A*",
		"tags=BILLING%2CSHIPPING":      "tags=BILLING%2CSHIPPING",
		"currency=EUR&siteCode=main&language=en&targetLocation=DE&legalEntityId=le1&config=site_PL": "currency=EUR&siteCode=main&language=en&targetLocation=DE&legalEntityId=le1&config=site_PL",
		// Everything else is masked, the credentials first of all.
		"refresh_token=R1&tenant=t":                "refresh_token=REDACTED&tenant=t",
		"refreshToken=R2&legalEntityId=le":         "refreshToken=REDACTED&legalEntityId=le",
		"accessToken=A1":                           "accessToken=REDACTED",
		"anonymous_token=A2&refresh_token=R3":      "anonymous_token=REDACTED&refresh_token=REDACTED",
		"subjectAccessToken=S1&config=c":           "subjectAccessToken=REDACTED&config=c",
		"code=C1&redirect_uri=https%3A%2F%2Fx":     "code=REDACTED&redirect_uri=REDACTED",
		"code_verifier=V1":                         "code_verifier=REDACTED",
		"client_secret=CLIENT-SECRET&client_id=id": "client_secret=REDACTED&client_id=REDACTED",
		"token=T":                          "token=REDACTED",
		"access_token=T&Tenant=x&TENANT=y": "access_token=REDACTED&Tenant=REDACTED&TENANT=REDACTED",
		"unknown=1":                        "unknown=REDACTED",
		"refresh_token=a=b=c":              "refresh_token=REDACTED",
		"refresh_token=":                   "refresh_token=REDACTED",
		"tenant=a&tenant=b&refresh_token=x&tags=": "tenant=a&tenant=b&refresh_token=REDACTED&tags=",
		// Odd and encoded input.
		"a&&b":                          "REDACTED&&REDACTED",
		"x":                             "REDACTED",
		"BARE-SECRET-TOKEN":             "REDACTED",
		"tenant":                        "tenant",
		"&":                             "&",
		"&&refresh_token=x&":            "&&refresh_token=REDACTED&",
		"=SECRET":                       "=REDACTED",
		"%74enant=mytenant":             "%74enant=mytenant",
		"refresh%5Ftoken=SECRET":        "refresh%5Ftoken=REDACTED",
		"%zz=SECRET":                    "%zz=REDACTED",
		"tenant%zz=SECRET":              "tenant%zz=REDACTED",
		"+tenant=SECRET":                "+tenant=REDACTED",
		"tenant=a;refresh_token=SECRET": "tenant=a;refresh_token=REDACTED",
		"refresh_token=SECRET;tenant=a": "refresh_token=REDACTED;tenant=a",
		"tenant=a%26refresh_token%3Dx":  "tenant=a%26refresh_token%3Dx",
		// The queries of the operations that carry a secret in theirs.
		"client_id=c&refresh_token=R&tenant=t":  "client_id=REDACTED&refresh_token=REDACTED&tenant=t",
		"accessToken=A":                         "accessToken=REDACTED",
		"subjectAccessToken=S&config=site_PL":   "subjectAccessToken=REDACTED&config=site_PL",
		"code=C&redirect_uri=u&code_verifier=V": "code=REDACTED&redirect_uri=REDACTED&code_verifier=REDACTED",
		"expand=addresses":                      "expand=addresses",
		"refreshToken=R&legalEntityId=le":       "refreshToken=REDACTED&legalEntityId=le",
	}
	for in, want := range cases {
		assert.Equal(t, want, redactQuery(in), "%q", in)
	}
	for _, secret := range []string{"SECRET", "BARE-SECRET-TOKEN", "CLIENT-SECRET"} {
		for in := range cases {
			if strings.Contains(in, secret) && !strings.HasPrefix(in, "tenant=a%26") {
				assert.NotContains(t, redactQuery(in), secret, "%q", in)
			}
		}
	}
}

// TestShownPath: the path errors and logs show masks exactly the path
// parameters the operation's row marks secret (the opt-in token), whatever
// they hold, and shows every other parameter as sent.
func TestShownPath(t *testing.T) {
	t.Parallel()
	c, _ := newTestClient(t)
	values := []string{"OPTIN-TOKEN", "refresh_token", "a/b?c#d", "a1 b2", "x%2Fy"}
	for _, row := range allRows() {
		for _, v := range values {
			var params []string
			want := strings.NewReplacer("{tenant}", testTenant).Replace(row.Path)
			sent := want
			for _, seg := range strings.Split(row.Path, "/") {
				if !strings.HasPrefix(seg, "{") || seg == "{tenant}" {
					continue
				}
				params = append(params, v)
				sent = strings.Replace(sent, seg, url.PathEscape(v), 1)
				if row.Secret("path", strings.Trim(seg, "{}")) {
					want = strings.Replace(want, seg, redacted, 1)
				} else {
					want = strings.Replace(want, seg, url.PathEscape(v), 1)
				}
			}
			k := c.newCall(op(row.ID), params...)
			assert.Equal(t, sent, k.path, "%s %q", row.ID, v)
			assert.Equal(t, want, k.shownPath, "%s %q", row.ID, v)
		}
	}
	// The opt-in confirmation is the one operation with a secret in its
	// path; the resend's literal refresh_token segment is no secret.
	k := c.newCall(opOptInConfirm, "OPTIN-TOKEN")
	assert.Equal(t, "/customer/mytenant/signup/optin/REDACTED", k.shownPath)
	assert.Equal(t, "/customer/mytenant/signup/optin/refresh_token", c.newCall(opOptInResend).shownPath)
}

func TestScrubber(t *testing.T) {
	s := scrubber{"SECRET-1", "abc", "x+y/z=="}
	assert.Equal(t, "REDACTED and REDACTED", s.apply("SECRET-1 and SECRET-1"))
	assert.Equal(t, "abc stays: too short to replace safely", s.apply("abc stays: too short to replace safely"))
	assert.Equal(t, "token REDACTED", s.apply("token x+y/z=="))
	assert.Equal(t, "", s.apply(""))
	assert.Equal(t, "plain", scrubber(nil).apply("plain"))

	// A secret inside another, and two echoes that overlap, are masked
	// whole: no remainder of the longer or later one is left.
	nested := scrubber{"PASSWORD-s3cr3t", "NEW-PASSWORD-s3cr3t"}
	assert.Equal(t, "old REDACTED new REDACTED", nested.apply("old PASSWORD-s3cr3t new NEW-PASSWORD-s3cr3t"))
	overlap := scrubber{"abcdXY", "XYefgh"}
	assert.Equal(t, "[REDACTED]", overlap.apply("[abcdXYefgh]"))

	// hide registers the encodings a server may echo.
	k := &call{}
	k.hide("p@ss w0rd/+=\"<&>é", "", "SIMPLE-SECRET", "SIMPLE-SECRET")
	for _, echoed := range []string{
		"p@ss w0rd/+=\"<&>é",
		url.QueryEscape("p@ss w0rd/+=\"<&>é"),
		url.PathEscape("p@ss w0rd/+=\"<&>é"),
		html.EscapeString("p@ss w0rd/+=\"<&>é"),
		jsonInner("p@ss w0rd/+=\"<&>é", true),
		jsonInner("p@ss w0rd/+=\"<&>é", false),
		"SIMPLE-SECRET",
	} {
		assert.Equal(t, "[REDACTED]", k.secrets.apply("["+echoed+"]"), "%q", echoed)
	}
	count := 0
	for _, v := range k.secrets {
		if v == "SIMPLE-SECRET" {
			count++
		}
	}
	assert.Equal(t, 1, count, "no duplicates")
	for _, v := range k.secrets {
		assert.NotEmpty(t, v)
	}
}

// jsonInner is s as it appears inside a JSON string.
func jsonInner(s string, escapeHTML bool) string {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(escapeHTML)
	_ = enc.Encode(s)
	b := bytes.TrimSpace(buf.Bytes())
	return string(b[1 : len(b)-1])
}

// secretForms lists the spellings in which a leaked secret would show:
// raw, URL-escaped, HTML-escaped, inside JSON or Go quotes, and in hex (%x).
func secretForms(s string) []string {
	forms := []string{
		s, url.QueryEscape(s), url.PathEscape(s), html.EscapeString(s),
		jsonInner(s, true), jsonInner(s, false), strings.Trim(strconv.Quote(s), `"`),
		hex.EncodeToString([]byte(s)), strings.ToUpper(hex.EncodeToString([]byte(s))),
	}
	out := forms[:0]
	seen := map[string]bool{}
	for _, f := range forms {
		if !seen[f] {
			seen[f] = true
			out = append(out, f)
		}
	}
	return out
}

// printings renders v with every fmt verb, plus its slog text and JSON output.
func printings(v any) []string {
	var out []string
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%d", "%x", "%X", "%q", "%T"} {
		out = append(out, fmt.Sprintf(verb, v))
	}
	out = append(out, fmt.Sprint(v), fmt.Sprintln(v), fmt.Sprintf("%v", []any{v}), fmt.Sprintf("%+v", map[string]any{"k": v}))
	var buf bytes.Buffer
	slog.New(slog.NewTextHandler(&buf, nil)).Info("x", "v", v)
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("x", "v", v)
	out = append(out, buf.String())
	return out
}

// secretSet is one set of secrets for the redaction sweep.
type secretSet struct {
	name                                           string
	anon, cust                                     *Token
	password, newPassword, signupPassword          Secret
	resetToken                                     Secret
	optInToken, emailToken                         string
	clientSecret, subjectToken, code, codeVerifier Secret
	serviceAccess                                  Secret
	respAccess, respRefresh, respSaas              string
	socialAccess, socialID                         string
	all                                            []string
}

func newSecretSet(name, suffix string) *secretSet {
	s := &secretSet{name: name}
	v := func(base string) string {
		x := base + suffix
		s.all = append(s.all, x)
		return x
	}
	if suffix == "" {
		// The sentinels of helpers_test.go.
		s.anon, s.cust = anonToken(), custToken()
		s.all = append(s.all, anonAccess, anonRefresh, custAccess, custRefresh, custSaas, secretPassword)
		s.password = secretPassword
	} else {
		s.anon = &Token{Kind: KindAnonymous, AccessToken: Secret(v("ANON-ACCESS")), TokenType: "Bearer", RefreshToken: Secret(v("ANON-REFRESH")),
			SessionID: testSessionID, Expiry: testNow.Add(time.Hour)}
		s.cust = &Token{Kind: KindCustomer, AccessToken: Secret(v("CUST-ACCESS")), TokenType: "Bearer", RefreshToken: Secret(v("CUST-REFRESH")),
			SaasToken: Secret(v("CUST-SAAS")), SessionID: testSessionID, Expiry: testNow.Add(time.Hour)}
		s.password = Secret(v("PASSWORD"))
	}
	// No secret may contain another: scrubber.apply would mask only part of it.
	s.newPassword = Secret(v("NEWPW-s3cr3t"))
	s.signupPassword = Secret(v("SIGNUPPW-s3cr3t"))
	s.resetToken = Secret(v("RESET-TOKEN-s3cr3t"))
	s.optInToken = v("OPTIN-TOKEN-s3cr3t")
	s.emailToken = v("EMAIL-TOKEN-s3cr3t")
	s.clientSecret = Secret(v("CLIENT-SECRET-s3cr3t"))
	s.subjectToken = Secret(v("SUBJECT-TOKEN-s3cr3t"))
	s.code = Secret(v("SOCIAL-CODE-s3cr3t"))
	s.codeVerifier = Secret(v("CODE-VERIFIER-s3cr3t"))
	s.serviceAccess = Secret(v("SERVICE-ACCESS-s3cr3t"))
	s.respAccess = v("RESP-ACCESS-s3cr3t")
	s.respRefresh = v("RESP-REFRESH-s3cr3t")
	s.respSaas = v("RESP-SAAS-s3cr3t")
	s.socialAccess = v("SOCIAL-ACCESS-s3cr3t")
	s.socialID = v("SOCIAL-ID-s3cr3t")
	return s
}

// sweepOp runs one SDK method with secret inputs.
type sweepOp struct {
	name string // Service.Method
	row  *optable.Op
	run  func(ctx context.Context, c *Client, s *secretSet) (any, error)
}

// sweepOps are every method of every SDK operation's case (opcases_test.go).
func sweepOps() []sweepOp {
	var ops []sweepOp
	for _, row := range sdkRows() {
		oc := opCases[row.ID]
		ops = append(ops, sweepOp{oc.name, row, oc.call})
		for _, m := range oc.more {
			ops = append(ops, sweepOp{m.name, row, m.call})
		}
	}
	return ops
}

// TestSweepCoversEveryOperation fails when a service gains a method the
// redaction sweep does not run.
func TestSweepCoversEveryOperation(t *testing.T) {
	covered := map[string]bool{}
	for _, op := range sweepOps() {
		covered[op.name] = true
	}
	var all []string
	ct := reflect.TypeOf(Client{})
	for i := range ct.NumField() {
		f := ct.Field(i)
		if !f.IsExported() || f.Type.Kind() != reflect.Pointer || !strings.HasSuffix(f.Type.Elem().Name(), "Service") {
			continue
		}
		for j := range f.Type.NumMethod() {
			all = append(all, f.Type.Elem().Name()+"."+f.Type.Method(j).Name)
		}
	}
	sort.Strings(all)
	require.NotEmpty(t, all)
	for _, name := range all {
		assert.True(t, covered[name], "the redaction sweep does not run %s", name)
	}
	assert.Len(t, covered, len(all), "the sweep runs a method that no longer exists")
}

// echoOf is everything a request carried, raw and decoded, as a careless
// server or proxy would echo it back.
func echoOf(req *http.Request) string {
	parts := []string{req.Method + " " + req.URL.String(), req.URL.RawQuery, req.URL.Path, req.URL.EscapedPath(),
		req.Header.Get("Authorization"), req.Header.Get("session-id")}
	for name, values := range req.URL.Query() {
		for _, v := range values {
			parts = append(parts, name+": "+v)
		}
	}
	if req.Body != nil {
		body, _ := io.ReadAll(req.Body)
		parts = append(parts, string(body))
		if strings.HasPrefix(req.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
			form, _ := url.ParseQuery(string(body))
			for name, values := range form {
				parts = append(parts, name+": "+strings.Join(values, ","))
			}
		}
		var m map[string]any
		if json.Unmarshal(body, &m) == nil {
			var walk func(v any)
			walk = func(v any) {
				switch x := v.(type) {
				case string:
					parts = append(parts, x)
				case map[string]any:
					for _, e := range x {
						walk(e)
					}
				}
			}
			walk(m)
		}
	}
	return strings.Join(parts, " | ")
}

func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// failureMode is a way for the server side to fail, echoing the request.
type failureMode struct {
	name    string
	respond func(req *http.Request, echo string, s *secretSet) (*http.Response, error)
	success bool // a 2xx answer: operations without a body to decode succeed
}

func bodyResponse(req *http.Request, status int, contentType, body string, header ...string) *http.Response {
	resp := httpmock.NewStringResponse(status, body)
	resp.Request = req
	resp.Header.Set("Content-Type", contentType)
	for i := 0; i+1 < len(header); i += 2 {
		resp.Header.Set(header[i], header[i+1])
	}
	return resp
}

func failureModes() []failureMode {
	tokenJSON := func(s *secretSet, withAccess bool) string {
		m := map[string]any{"refresh_token": s.respRefresh, "saas_token": s.respSaas, "social_access_token": s.socialAccess,
			"social_id_token": s.socialID, "token_type": "Bearer", "expires_in": 3599, "refresh_token_expires_in": 86399,
			"session_id": "resp-session-1", "sessionId": "resp-session-1", "scope": "tenant=mytenant", "initialPassword": false,
			"email": "jane@example.com", "id": "C123"}
		if withAccess {
			m["access_token"] = s.respAccess
		}
		b, _ := json.Marshal(m)
		return string(b)
	}
	return []failureMode{
		{"400 echoing the request", func(req *http.Request, echo string, _ *secretSet) (*http.Response, error) {
			e := jsonString(echo)
			return bodyResponse(req, 400, "application/json", `{"status":400,"type":`+jsonString("bad_request "+echo)+
				`,"message":`+jsonString("invalid request: "+echo)+`,"moreInfo":`+e+`,"errorCode":`+e+
				`,"details":[{"field":"password","type":"invalid","message":`+e+`},`+e+`]}`), nil
		}, false},
		{"401 fault echoing the request", func(req *http.Request, echo string, _ *secretSet) (*http.Response, error) {
			return bodyResponse(req, 401, "application/json", `{"fault":{"faultstring":`+jsonString("Invalid access token "+echo)+
				`,"detail":{"errorcode":`+jsonString("oauth.v2.InvalidAccessToken "+echo)+`}}}`), nil
		}, false},
		{"HTML 502 echoing the request", func(req *http.Request, echo string, _ *secretSet) (*http.Response, error) {
			return bodyResponse(req, 502, "text/html", "<html><body><h1>Bad gateway</h1><p>"+echo+"</p><p>"+
				html.EscapeString(echo)+"</p></body></html>"), nil
		}, false},
		{"429 with Retry-After until retries run out", func(req *http.Request, echo string, _ *secretSet) (*http.Response, error) {
			return bodyResponse(req, 429, "application/json", `{"status":429,"message":`+jsonString("slow down "+echo)+`}`,
				"Retry-After", "0"), nil
		}, false},
		{"token-shaped JSON error body", func(req *http.Request, _ string, s *secretSet) (*http.Response, error) {
			return bodyResponse(req, 500, "application/json", tokenJSON(s, true)), nil
		}, false},
		{"transport error quoting the request", func(req *http.Request, echo string, _ *secretSet) (*http.Response, error) {
			return nil, errors.New("connection reset by peer: " + echo)
		}, false},
		{"wrapped transport error quoting the request", func(req *http.Request, echo string, _ *secretSet) (*http.Response, error) {
			return nil, fmt.Errorf("proxy %s: %w", echo, io.ErrUnexpectedEOF)
		}, false},
		{"transport url.Error with the full URL", func(req *http.Request, _ string, _ *secretSet) (*http.Response, error) {
			return nil, &url.Error{Op: req.Method, URL: req.URL.String(), Err: io.ErrUnexpectedEOF}
		}, false},
		{"dial error until retries run out", func(req *http.Request, echo string, _ *secretSet) (*http.Response, error) {
			return nil, &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("refused " + echo)}
		}, false},
		{"token response without access_token", func(req *http.Request, _ string, s *secretSet) (*http.Response, error) {
			return bodyResponse(req, 200, "application/json", tokenJSON(s, false)), nil
		}, true},
		{"malformed JSON after a secret", func(req *http.Request, _ string, s *secretSet) (*http.Response, error) {
			return bodyResponse(req, 200, "application/json", `{"access_token":`+jsonString(s.respAccess)+`,"refresh_token":`+
				jsonString(s.respRefresh)+` oops`), nil
		}, true},
		{"secrets in fields of the wrong type", func(req *http.Request, _ string, s *secretSet) (*http.Response, error) {
			return bodyResponse(req, 200, "application/json", `{"access_token":`+jsonString(s.respAccess)+`,"expires_in":`+
				jsonString(s.respRefresh)+`,"initialPassword":`+jsonString(s.respSaas)+`,"id":{"x":`+jsonString(s.socialID)+`}}`), nil
		}, true},
		{"success", func(req *http.Request, _ string, s *secretSet) (*http.Response, error) {
			return bodyResponse(req, 200, "application/json", tokenJSON(s, true)), nil
		}, true},
	}
}

// leakChecker fails the test when an output contains a secret in any form.
type leakChecker struct {
	t     *testing.T
	forms map[string]string // form → secret
}

func newLeakChecker(t *testing.T, secrets []string) *leakChecker {
	lc := &leakChecker{t: t, forms: map[string]string{}}
	for _, s := range secrets {
		for _, f := range secretForms(s) {
			lc.forms[f] = s
		}
	}
	return lc
}

func (lc *leakChecker) found(out string) (string, bool) {
	for f, s := range lc.forms {
		if strings.Contains(out, f) {
			return fmt.Sprintf("%q (form %q)", s, f), true
		}
	}
	return "", false
}

func (lc *leakChecker) check(label string, outputs ...string) {
	lc.t.Helper()
	if _, ok := lc.found(strings.Join(outputs, "\x00")); !ok {
		return
	}
	for _, out := range outputs {
		if which, ok := lc.found(out); ok {
			lc.t.Errorf("%s leaks secret %s in:\n%s", label, which, out)
			return
		}
	}
}

func TestRedactionSweep(t *testing.T) {
	sets := []*secretSet{newSecretSet("sentinels", ""), newSecretSet("special characters", `+/=%?#&;é "<>'\`)}
	ops := sweepOps()
	for _, set := range sets {
		lc := newLeakChecker(t, set.all)
		for _, mode := range failureModes() {
			t.Run(set.name+"/"+mode.name, func(t *testing.T) {
				lc.t = t
				var logBuf bytes.Buffer
				logger := slog.New(slog.NewTextHandler(&logBuf, &slog.HandlerOptions{Level: slog.LevelDebug}))
				c, mt := newTestClient(t, WithLogger(logger), WithTokenSource(StaticTokens(set.anon, set.cust)))
				var mu sync.Mutex
				var lastEcho string
				mt.RegisterNoResponder(func(req *http.Request) (*http.Response, error) {
					echo := echoOf(req)
					mu.Lock()
					lastEcho = echo
					mu.Unlock()
					return mode.respond(req, echo, set)
				})

				for _, op := range ops {
					mu.Lock()
					lastEcho = ""
					mu.Unlock()
					result, err := op.run(context.Background(), c, set)
					label := op.name + " (" + mode.name + ", " + set.name + ")"

					mu.Lock()
					echo := lastEcho
					mu.Unlock()
					require.NotEmpty(t, echo, "%s sent no request", label)
					_, sentSecret := lc.found(echo)
					if op.row.Auth != optable.None || len(op.row.Secrets) > 0 {
						require.True(t, sentSecret, "%s: the sweep must send a secret to be meaningful", label)
					}

					if !mode.success {
						require.Error(t, err, label)
					}
					if err != nil {
						lc.check(label+": error", printings(err)...)
						lc.checkFields(label, err)
						// The error still says what failed.
						assert.Contains(t, err.Error(), "emporix: ", label)
						assert.Contains(t, err.Error(), "/", label)
					}
					if rv := reflect.ValueOf(result); result != nil && (rv.Kind() != reflect.Pointer || !rv.IsNil()) {
						lc.check(label+": result", printings(result)...)
						if tok, ok := result.(*Token); ok {
							lc.check(label+": token value", printings(*tok)...)
							assert.Contains(t, fmt.Sprintf("%v", tok), tok.SessionID, "%s: the token print keeps the session ID", label)
							assert.Contains(t, fmt.Sprintf("%v", tok), "REDACTED", label)
						}
					}
					lc.assertUseful(t, label, mode.name, err, sentSecret)
				}
				lc.check("debug log", logBuf.String())
				assert.Contains(t, logBuf.String(), "operation=", "the debug log recorded the requests")
				assert.Contains(t, logBuf.String(), "GET-customer-retrieve-customer-profile")
			})
		}
	}
}

// checkFields looks into the fields of the SDK's error types, which the
// printed forms do not all show.
func (lc *leakChecker) checkFields(label string, err error) {
	lc.t.Helper()
	var apiErr *APIError
	if errors.As(err, &apiErr) {
		fields := []string{apiErr.Method, apiErr.Path, apiErr.Operation, apiErr.Type, apiErr.Message, apiErr.MoreInfo,
			apiErr.ErrorCode, apiErr.RequestID, apiErr.Body}
		for _, d := range apiErr.Details {
			fields = append(fields, string(d))
		}
		lc.check(label+": APIError fields", fields...)
	}
	var reqErr *RequestError
	if errors.As(err, &reqErr) {
		lc.check(label+": RequestError fields", reqErr.Method, reqErr.Path, reqErr.Err.Error())
		for e := reqErr.Err; e != nil; e = errors.Unwrap(e) {
			lc.check(label+": RequestError chain", e.Error())
		}
	}
	var respErr *ResponseError
	if errors.As(err, &respErr) {
		lc.check(label+": ResponseError fields", respErr.Path, respErr.Reason)
	}
}

// assertUseful guards against an over-eager redaction that removes
// everything: the non-secret parts of errors must survive.
func (lc *leakChecker) assertUseful(t *testing.T, label, mode string, err error, sentSecret bool) {
	t.Helper()
	var apiErr *APIError
	switch mode {
	case "400 echoing the request":
		require.ErrorAs(t, err, &apiErr, label)
		assert.Equal(t, 400, apiErr.StatusCode, label)
		assert.True(t, strings.HasPrefix(apiErr.Message, "invalid request: "), "%s: %q", label, apiErr.Message)
		assert.Contains(t, apiErr.Message, "/prefix/", label)
		assert.Len(t, apiErr.Details, 2, label)
		if sentSecret {
			assert.Contains(t, apiErr.Message, "REDACTED", label)
			assert.Contains(t, err.Error(), "REDACTED", label)
		}
		assert.ErrorIs(t, err, ErrBadRequest, label)
	case "401 fault echoing the request":
		require.ErrorAs(t, err, &apiErr, label)
		assert.True(t, strings.HasPrefix(apiErr.Message, "Invalid access token "), label)
		assert.ErrorIs(t, err, ErrUnauthorized, label)
	case "HTML 502 echoing the request":
		require.ErrorAs(t, err, &apiErr, label)
		assert.Contains(t, apiErr.Body, "Bad gateway", label)
		assert.ErrorIs(t, err, ErrServer, label)
	case "429 with Retry-After until retries run out":
		require.ErrorAs(t, err, &apiErr, label)
		assert.Equal(t, 3, apiErr.Attempts, label)
		assert.True(t, strings.HasPrefix(apiErr.Message, "slow down "), label)
	case "token-shaped JSON error body":
		require.ErrorAs(t, err, &apiErr, label)
		assert.Equal(t, 500, apiErr.StatusCode, label)
	case "transport error quoting the request", "wrapped transport error quoting the request":
		var reqErr *RequestError
		require.ErrorAs(t, err, &reqErr, label)
		assert.Contains(t, err.Error(), map[bool]string{true: "connection reset by peer", false: "proxy"}[mode == "transport error quoting the request"], label)
		if sentSecret {
			assert.Contains(t, err.Error(), "REDACTED", label)
		}
		if mode == "wrapped transport error quoting the request" {
			assert.ErrorIs(t, err, io.ErrUnexpectedEOF, label)
		}
	case "transport url.Error with the full URL", "dial error until retries run out":
		var reqErr *RequestError
		require.ErrorAs(t, err, &reqErr, label)
		assert.NotEmpty(t, reqErr.Path, label)
	}
}

func TestSecretTypesRedacted(t *testing.T) {
	const (
		pw1, pw2, tok1, tok2 = "TYPE-PW-ONE-s3cr3t", "TYPE-PW-TWO-s3cr3t", "TYPE-TOKEN-ONE-s3cr3t", "TYPE-TOKEN-TWO-s3cr3t"
	)
	fullToken := Token{Kind: KindCustomer, AccessToken: custAccess, TokenType: "Bearer", RefreshToken: custRefresh,
		SaasToken: custSaas, SessionID: testSessionID, Scope: "tenant=mytenant", LegalEntityID: "le-7",
		Expiry: testNow.Add(time.Hour), RefreshExpiry: testNow.Add(24 * time.Hour), SessionIdleTime: 2 * time.Minute,
		SocialAccessToken: tok1, SocialIDToken: tok2}
	cases := []struct {
		value any
		shown []string // non-secret content that must stay visible
	}{
		{LoginRequest{Email: "jane@example.com", Password: pw1}, []string{"jane@example.com", "REDACTED"}},
		{SignupRequest{Email: "jane@example.com", Password: pw1, CustomerDetails: &CustomerDetails{FirstName: "Jane"},
			Signup: &LoginRequest{Email: "login@example.com", Password: pw2}}, []string{"jane@example.com", "login@example.com", "REDACTED"}},
		{PasswordReset{Token: tok1, Password: pw1}, []string{"REDACTED"}},
		{PasswordChange{CurrentPassword: pw1, NewPassword: pw2}, []string{"REDACTED"}},
		{EmailChangeRequest{Email: "jane@example.com", Password: pw1, NewEmail: "new@example.com", SyncContactEmail: true},
			[]string{"jane@example.com", "new@example.com", "REDACTED"}},
		{ExchangeRequest{SubjectAccessToken: tok1, Config: "site_PL"}, []string{"site_PL", "REDACTED"}},
		{SocialLoginRequest{Code: tok1, RedirectURI: "https://shop.example.com/cb", CodeVerifier: tok2, SessionID: testSessionID},
			[]string{"https://shop.example.com/cb", testSessionID, "REDACTED"}},
		{ServiceCredentials{ClientID: "svc-client-id", ClientSecret: pw1, Scope: "customer.customer_manage"},
			[]string{"svc-client-id", "customer.customer_manage", "REDACTED"}},
		{fullToken, []string{testSessionID, "le-7", "tenant=mytenant", "REDACTED"}},
		{*anonToken(), []string{testSessionID, "REDACTED"}},
	}
	lc := newLeakChecker(t, []string{pw1, pw2, tok1, tok2, custAccess, custRefresh, custSaas, anonAccess, anonRefresh})
	for _, tc := range cases {
		name := reflect.TypeOf(tc.value).Name()
		ptr := reflect.New(reflect.TypeOf(tc.value))
		ptr.Elem().Set(reflect.ValueOf(tc.value))
		for _, v := range []any{tc.value, ptr.Interface()} {
			outs := printings(v)
			lc.check(name, outs...)
			for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%d", "%q"} {
				out := fmt.Sprintf(verb, v)
				for _, want := range tc.shown {
					assert.Contains(t, out, want, "%s %s: %s", name, verb, out)
				}
			}
			var buf bytes.Buffer
			slog.New(slog.NewTextHandler(&buf, nil)).Info("x", "v", v)
			for _, want := range tc.shown {
				if want != "REDACTED" || name != "PasswordReset" {
					assert.Contains(t, buf.String(), want, "%s slog: %s", name, buf.String())
				}
			}
			assert.Contains(t, buf.String(), "REDACTED", name)
		}
		// Nested in other values.
		lc.check(name+" nested", fmt.Sprintf("%v %+v %#v", []any{tc.value}, struct{ V any }{tc.value}, map[string]any{"v": tc.value}))
	}
	assert.Contains(t, fmt.Sprintf("%v", fullToken), "customer", "the kind is shown by name")

	// An empty secret prints empty, not REDACTED, so a missing value shows.
	out := fmt.Sprintf("%v", LoginRequest{Email: "jane@example.com"})
	assert.NotContains(t, out, "REDACTED")
	assert.Contains(t, out, "jane@example.com")
	var nilReq *LoginRequest
	assert.Equal(t, "<nil>", fmt.Sprintf("%v", nilReq))
	var nilTok *Token
	assert.NotPanics(t, func() { _ = fmt.Sprintf("%v %+v %#v %d", []any{nilTok, nilTok, nilTok, nilTok}...) })

	// The secret fields are still there for the wire, and only there.
	b, err := wireJSON(LoginRequest{Email: "jane@example.com", Password: pw1})
	require.NoError(t, err)
	assert.Contains(t, string(b), pw1)
	b, err = json.Marshal(LoginRequest{Email: "jane@example.com", Password: pw1})
	require.NoError(t, err)
	assert.NotContains(t, string(b), pw1)
}
