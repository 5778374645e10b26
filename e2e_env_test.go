package emporix_test

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emporix-go/emporix"
	"github.com/emporix-go/emporix/emporixtest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The end-to-end suite (e2e_test.go) runs against a target: the in-process
// emporixtest fake by default, or a real sandbox tenant when these are set.
const (
	envAPIURL        = "EMPORIX_API_URL"
	envTenant        = "EMPORIX_TENANT"
	envClientID      = "EMPORIX_CLIENT_ID"
	envServiceID     = "EMPORIX_SERVICE_CLIENT_ID"
	envServiceSecret = "EMPORIX_SERVICE_CLIENT_SECRET"
)

// The capabilities a target may have beyond the public API. The fake has
// them all (*emporixtest.Server implements every one); a sandbox has none,
// and the steps that need one are skipped there, naming what is missing.
// They are separate so that a sandbox could gain one, such as a mail
// catcher standing in for the mailbox.
type (
	// mailbox reads the tokens the service e-mails (password reset,
	// e-mail change, double opt-in).
	mailbox interface {
		Outbox(email string) []emporixtest.Mail
		LastToken(kind emporixtest.MailKind, email string) string
	}
	// socialIdP issues social-login authorization codes, as Auth0 would
	// after a browser login.
	socialIdP interface {
		AddSocialCode(code string, sc emporixtest.SocialCode)
	}
	// subjectIdP issues external access tokens for token exchange and
	// registers exchange configurations.
	subjectIdP interface {
		AddSubjectToken(token string, sub emporixtest.Subject)
		AddExchangeConfig(names ...string)
	}
	// tenantAdmin changes the tenant's configuration and customers behind
	// the API's back: the sign-up mode, B2B legal entities, server-side
	// token revocation, and a look at a stored customer.
	tenantAdmin interface {
		SetSignupMode(m emporixtest.SignupMode)
		AssignLegalEntity(customerNumber string, e emporixtest.LegalEntity) bool
		RevokeToken(token string) bool
		CustomerByNumber(customerNumber string) (emporixtest.CustomerInfo, bool)
	}
	// requestLog shows what the SDK really sent.
	requestLog interface {
		Requests(targets ...string) []emporixtest.Request
	}
)

// e2eTarget is what the suite runs against: a client and the optional
// capabilities of the target.
type e2eTarget struct {
	// name says where the suite runs, for logs and skip reasons.
	name string
	// client has no token source; steps derive per-shopper clients.
	client *emporix.Client
	// clock is the client's clock (see e2eClock).
	clock *e2eClock
	// service holds the tenant's service credentials for activating
	// sign-ups, or nil.
	service *emporix.ServiceCredentials
	// lifetimes are the exact token lifetimes the target mints, when known.
	lifetimes *emporixtest.Lifetimes
	// sdkLog holds the SDK's log records, at Debug level.
	sdkLog *e2eLog

	// Optional capabilities, nil where the target lacks them.
	mail     mailbox
	social   socialIdP
	subjects subjectIdP
	admin    tenantAdmin
	log      requestLog

	// blocked says why the rest of the flow is skipped, or is "".
	blocked string
}

// e2eClock is the clock of the client and of the session store. On the
// fake it is the server's clock, so advancing it expires tokens on both
// sides; on a sandbox the service's clock cannot be moved, so advancing
// only moves the SDK's view of time (tokens look expired to the SDK, which
// refreshes or replaces them, while the service still accepts them).
type e2eClock struct {
	base   func() time.Time
	offset atomic.Int64
	server func(time.Duration) // moves the service's clock too, or nil
}

// Now is the clock's time.
func (c *e2eClock) Now() time.Time { return c.base().Add(time.Duration(c.offset.Load())) }

// Advance moves the clock forward.
func (c *e2eClock) Advance(d time.Duration) {
	if c.server != nil {
		c.server(d)
		return
	}
	c.offset.Add(int64(d))
}

// movesServer reports whether Advance also moves the service's clock.
func (c *e2eClock) movesServer() bool { return c.server != nil }

// newE2ETarget returns the target of one flow: the sandbox named by the
// environment, or a fresh fake. All three of EMPORIX_API_URL, EMPORIX_TENANT
// and EMPORIX_CLIENT_ID select the sandbox: the examples run on a tenant with
// just the last two, and a plain go test ./... in a shell set up for them
// must not create customers there.
func newE2ETarget(t *testing.T) *e2eTarget {
	t.Helper()
	apiURL, tenant, clientID := os.Getenv(envAPIURL), os.Getenv(envTenant), os.Getenv(envClientID)
	if set := nonEmpty(apiURL, tenant, clientID); set < 3 {
		if set > 0 {
			t.Logf("running on emporixtest: %s, %s and %s must all be set to run against a sandbox",
				envAPIURL, envTenant, envClientID)
		}
		return newFakeTarget(t, nil)
	}
	clock, sdkLog := &e2eClock{base: time.Now}, &e2eLog{}
	c, err := emporix.NewClient(tenant, clientID,
		emporix.WithBaseURL(apiURL),
		emporix.WithClock(clock.Now),
		emporix.WithLogger(sdkLog.logger()),
		emporix.WithUserAgent("emporix-go-e2e"))
	require.NoError(t, err, "client for the sandbox")
	tg := &e2eTarget{
		name:   fmt.Sprintf("sandbox %s (tenant %s)", apiURL, tenant),
		client: c,
		clock:  clock,
		sdkLog: sdkLog,
	}
	id, secret := os.Getenv(envServiceID), os.Getenv(envServiceSecret)
	switch nonEmpty(id, secret) {
	case 1:
		t.Fatalf("%s and %s must be set together", envServiceID, envServiceSecret)
	case 2:
		tg.service = &emporix.ServiceCredentials{ClientID: id, ClientSecret: emporix.Secret(secret)}
	}
	return tg
}

// newFakeTarget starts a fake for one flow; wrap, when not nil, wraps the
// transport to it.
func newFakeTarget(t *testing.T, wrap func(http.RoundTripper) http.RoundTripper) *e2eTarget {
	t.Helper()
	srv := emporixtest.NewServer(emporixtest.WithTenant("e2etenant"))
	t.Cleanup(srv.Close)
	hc := srv.Client()
	if wrap != nil {
		hc = &http.Client{Transport: wrap(hc.Transport)}
	}
	clock, sdkLog := &e2eClock{base: srv.Now, server: srv.Advance}, &e2eLog{}
	c, err := emporix.NewClient(srv.Tenant(), srv.ClientID(),
		emporix.WithBaseURL(srv.URL()),
		emporix.WithHTTPClient(hc),
		emporix.WithClock(clock.Now),
		emporix.WithLogger(sdkLog.logger()),
		emporix.WithUserAgent("emporix-go-e2e"))
	require.NoError(t, err, "client for the fake")
	lifetimes := srv.Lifetimes()
	return &e2eTarget{
		name:      "emporixtest",
		client:    c,
		clock:     clock,
		service:   &emporix.ServiceCredentials{ClientID: srv.ServiceClientID(), ClientSecret: emporix.Secret(srv.ServiceClientSecret())},
		lifetimes: &lifetimes,
		sdkLog:    sdkLog,
		mail:      srv,
		social:    srv,
		subjects:  srv,
		admin:     srv,
		log:       srv,
	}
}

// fake reports whether the target is the in-process fake, which has every
// capability and mints tokens with exactly known lifetimes.
func (tg *e2eTarget) fake() bool { return tg.admin != nil }

// need skips the step when the target lacks a capability (has is false),
// naming what is missing.
func (tg *e2eTarget) need(t *testing.T, has bool, missing string) {
	t.Helper()
	if !has {
		t.Skipf("skipped on %s: %s", tg.name, missing)
	}
}

// Skip reasons for the operations a sandbox cannot drive unattended.
const (
	missingMail = "needs the %s token the service e-mails to the customer; only the emporixtest outbox exposes it " +
		"(a sandbox mails it to the @example.com address of the test customer)"
	missingSocial = "needs a social-login authorization code from a browser login at the tenant's Auth0 " +
		"(the fake issues one with AddSocialCode)"
	missingSubject = "needs an access token of an external identity provider configured for token exchange on the tenant " +
		"(the fake accepts one registered with AddSubjectToken)"
	missingAdmin = "needs %s, which only the emporixtest test controls provide"
	missingOptIn = "needs a tenant in double opt-in mode and the opt-in token the service e-mails; only emporixtest provides both " +
		"(SetSignupMode and its outbox)"
)

// requests returns what the SDK sent, for the given operations or all;
// nil on a target without a request log.
func (tg *e2eTarget) requests(opIDs ...string) []emporixtest.Request {
	if tg.log == nil {
		return nil
	}
	return tg.log.Requests(opIDs...)
}

// sent returns the last call of an operation and true, or false on a
// target without a request log.
func (tg *e2eTarget) sent(t *testing.T, opID string) (emporixtest.Request, bool) {
	t.Helper()
	if tg.log == nil {
		return emporixtest.Request{}, false
	}
	return tg.lastRequest(t, opID), true
}

// sentWith is sent, checking that tok (nil: no token) authorized the call.
func (tg *e2eTarget) sentWith(t *testing.T, opID string, tok *emporix.Token, why string) (emporixtest.Request, bool) {
	t.Helper()
	r, ok := tg.sent(t, opID)
	if ok {
		var want string
		if tok != nil {
			want = string(tok.AccessToken)
		}
		assert.Equal(t, want, r.Bearer(), "the token that authorized %s: %s", opID, why)
	}
	return r, ok
}

// lastRequest returns the last call of an operation, failing when there is
// none. Only call it when tg.log is set.
func (tg *e2eTarget) lastRequest(t *testing.T, opID string) emporixtest.Request {
	t.Helper()
	reqs := tg.requests(opID)
	require.NotEmpty(t, reqs, "no %s request was logged", opID)
	return reqs[len(reqs)-1]
}

// signUp creates an account through the SDK (give it a fresh e-mail from
// e2eEmail) and returns the customer number.
func (tg *e2eTarget) signUp(t *testing.T, shopper *emporix.Client, email, password string) string {
	t.Helper()
	number, err := shopper.Auth.Signup(t.Context(), &emporix.SignupRequest{Email: email, Password: emporix.Secret(password)})
	require.NoError(t, err, "sign-up of %s", email)
	require.NotEmpty(t, number, "customer number")
	return number
}

// optInSignUp signs an account up on a tenant in double opt-in mode (until
// the step ends), checks that the opt-in e-mail went out, and returns the
// customer number.
func (tg *e2eTarget) optInSignUp(t *testing.T, shopper *emporix.Client, email, password string) string {
	t.Helper()
	tg.need(t, tg.admin != nil && tg.mail != nil, missingOptIn)
	tg.admin.SetSignupMode(emporixtest.SignupDoubleOptIn)
	t.Cleanup(func() { tg.admin.SetSignupMode(emporixtest.SignupActive) })
	number := tg.signUp(t, shopper, email, password)
	require.NotEmpty(t, tg.mail.LastToken(emporixtest.MailOptIn, email), "the opt-in e-mail")
	return number
}

// activate activates an account with the service credentials, as an
// employee would, through the caching service-token source. It reports
// false when the target has no service credentials.
func (tg *e2eTarget) activate(t *testing.T, customerNumber string) bool {
	t.Helper()
	if tg.service == nil {
		return false
	}
	src := tg.client.Employee.ServiceTokenSource(tg.service)
	svc, err := src.Token(t.Context())
	require.NoError(t, err, "service token")
	require.Equal(t, emporix.KindService, svc.Kind)
	again, err := src.Token(t.Context())
	require.NoError(t, err)
	require.Same(t, svc, again, "the service token is cached")
	require.NoError(t, tg.client.Employee.ActivateCustomer(t.Context(), svc, customerNumber), "activation")
	return true
}

// e2eEmail returns a fresh e-mail address, so that runs against a sandbox
// never collide with each other or with earlier runs.
func e2eEmail(label string) string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("emporix-go-e2e+%s-%s@example.com", label, hex.EncodeToString(b[:]))
}

// e2eSecret returns a fresh secret with the given prefix, for codes and
// subject tokens registered with the fake.
func e2eSecret(prefix string) string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return prefix + "-" + hex.EncodeToString(b[:])
}

func nonEmpty(values ...string) int {
	n := 0
	for _, v := range values {
		if strings.TrimSpace(v) != "" {
			n++
		}
	}
	return n
}

// e2eStep is one step of a flow: its name, the spec operationIds it calls,
// and what it does with the flow's state.
type e2eStep[S any] struct {
	name string
	ops  []string
	run  func(t *testing.T, st S)
}

// e2eFlow is a table of steps with the state they share, on a target.
type e2eFlow struct {
	name string
	ops  []string // the operations of all its steps
	run  func(t *testing.T, tg *e2eTarget)
}

// flowOf makes a flow of steps sharing the state newState makes.
func flowOf[S any](name string, newState func(*testing.T, *e2eTarget) S, steps []e2eStep[S]) e2eFlow {
	f := e2eFlow{name: name, run: func(t *testing.T, tg *e2eTarget) { runSteps(t, tg, newState(t, tg), steps) }}
	for _, s := range steps {
		f.ops = append(f.ops, s.ops...)
	}
	return f
}

// runSteps runs the steps in order as subtests sharing st. After a failed
// step (or one that halted the flow, or one a -run pattern left out) every
// later step skips, naming it, so that one failure is reported once rather
// than as a cascade. On a target
// with a request log, the operations a step called must be exactly those it
// names.
func runSteps[S any](t *testing.T, tg *e2eTarget, st S, steps []e2eStep[S]) {
	for _, s := range steps {
		ran := false
		passed := t.Run(s.name, func(t *testing.T) {
			ran = true
			if tg.blocked != "" {
				t.Skip(tg.blocked)
			}
			from := len(tg.requests())
			s.run(t, st)
			if tg.log != nil {
				called := map[string]bool{}
				for _, r := range tg.requests()[from:] {
					called[r.OperationID] = true
				}
				assert.ElementsMatch(t, s.ops, slices.Collect(maps.Keys(called)), "the operations the step called vs those it names")
			}
		})
		switch {
		case tg.blocked != "":
		case !ran:
			tg.blocked = fmt.Sprintf("blocked: step %q did not run (-run left it out); the steps share state, so run the flow whole", s.name)
		case !passed:
			tg.blocked = fmt.Sprintf("blocked: step %q failed", s.name)
		}
	}
}

// halt skips the step and every later step of the flow: what they need
// could not be set up on this target.
func (tg *e2eTarget) halt(t *testing.T, why string) {
	t.Helper()
	tg.blocked = fmt.Sprintf("blocked: step %q halted the flow", t.Name()[strings.LastIndex(t.Name(), "/")+1:])
	t.Skip(why)
}

// e2eLog collects the SDK's log records.
type e2eLog struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *e2eLog) logger() *slog.Logger {
	return slog.New(slog.NewTextHandler(l, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// Write implements io.Writer for the log handler.
func (l *e2eLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *e2eLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// secretFields name the query parameters and JSON fields that carry
// credentials, in requests and answers.
var secretFields = []string{
	"refresh_token", "refreshToken", "accessToken", "anonymous_token", "subjectAccessToken", "code", "code_verifier",
	"client_secret", "password", "currentPassword", "newPassword", "token",
	"access_token", "saas_token", "social_access_token", "social_id_token", "subject_access_token",
}

// assertNoSecretsLogged checks that no credential that crossed the wire, as
// the request log shows it, appears in the SDK's log records.
func (tg *e2eTarget) assertNoSecretsLogged(t *testing.T) {
	t.Helper()
	tg.need(t, tg.log != nil, fmt.Sprintf(missingAdmin, "a request log to collect the credentials from"))
	records := tg.sdkLog.String()
	require.Contains(t, records, "emporix: request", "the SDK logged its requests at Debug level")
	secrets := map[string]string{} // secret → where it was seen
	add := func(v, where string) {
		if len(v) >= 8 {
			secrets[v] = where
		}
	}
	for _, r := range tg.log.Requests() {
		where := r.Method + " " + r.Path
		add(r.Bearer(), where+" Authorization")
		for _, name := range secretFields {
			add(r.Query.Get(name), where+" ?"+name)
		}
		if r.OperationID == "GET-customer-signup-customer-optin" {
			add(r.Path[strings.LastIndex(r.Path, "/")+1:], where+" path")
		}
		if form, err := url.ParseQuery(string(r.Body)); err == nil && strings.Contains(r.Header.Get("Content-Type"), "form") {
			add(form.Get("client_secret"), where+" form")
		}
		for body, side := range map[string][]byte{"request": r.Body, "answer": r.ResponseBody} {
			var fields map[string]any
			if json.Unmarshal(side, &fields) != nil {
				continue
			}
			for _, name := range secretFields {
				if v, ok := fields[name].(string); ok {
					add(v, where+" "+body+" "+name)
				}
			}
		}
	}
	require.NotEmpty(t, secrets)
	for secret, where := range secrets {
		assert.NotContains(t, records, secret, "the secret of %s reached the SDK's log", where)
	}
}
