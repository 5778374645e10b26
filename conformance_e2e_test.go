package emporix_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"sort"
	"sync"
	"testing"

	"github.com/emporix-go/emporix"
	"github.com/emporix-go/emporix/emporixtest"
	"github.com/emporix-go/emporix/internal/skipnote"
	"github.com/emporix-go/emporix/internal/spectest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// specTransport validates every exchange that passes through it against
// the spec: the SDK's requests and the fake server's answers.
type specTransport struct {
	spec *spectest.Spec
	next http.RoundTripper

	mu   sync.Mutex
	seen map[string]int // operation ID → exchanges
	errs []error
}

func (s *specTransport) fail(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.errs = append(s.errs, err)
}

// violations returns the violations seen so far.
func (s *specTransport) violations() []error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]error(nil), s.errs...)
}

func (s *specTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	var body []byte
	if req.Body != nil && req.Body != http.NoBody {
		var err error
		if body, err = io.ReadAll(req.Body); err != nil {
			return nil, err
		}
		_ = req.Body.Close()
		req.Body = io.NopCloser(bytes.NewReader(body))
	}
	if err := s.spec.ValidateRequest(req, body); err != nil {
		s.fail(fmt.Errorf("spec conformance: the SDK sent a request outside the spec: %w", err))
	}
	op, routeErr := s.spec.Route(req)
	if routeErr == nil {
		s.mu.Lock()
		s.seen[op.ID]++
		s.mu.Unlock()
	}
	resp, err := s.next.RoundTrip(req)
	if err != nil || routeErr != nil {
		return resp, err
	}
	respBody, err := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if err != nil {
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(respBody))
	if err := s.spec.ValidateResponse(req, body, resp.StatusCode, resp.Header, respBody); err != nil {
		s.fail(fmt.Errorf("spec conformance: emporixtest answered outside the spec: %w", err))
	}
	return resp, nil
}

func e2eSpec(t *testing.T) *spectest.Spec {
	t.Helper()
	dir, ok := spectest.DirFromEnv()
	if !ok {
		skipnote.Skip(t, spectest.SkipReason)
	}
	spec, err := spectest.Load(dir)
	require.NoError(t, err)
	return spec
}

// TestSpecConformanceEndToEnd drives every SDK operation against the
// emporixtest fake through a validating transport: each request the SDK
// really builds, with real token flows, must match the spec, and so must
// each answer of the fake.
func TestSpecConformanceEndToEnd(t *testing.T) {
	spec := e2eSpec(t)
	srv := emporixtest.NewServer(emporixtest.WithTenant("mytenant"))
	defer srv.Close()
	tr := &specTransport{spec: spec, next: srv.Client().Transport, seen: map[string]int{}}
	ctx := context.Background()
	defer func() {
		for _, err := range tr.violations() {
			t.Error(err)
		}
	}()

	client := func(anon, cust *emporix.Token) *emporix.Client {
		t.Helper()
		c, err := emporix.NewClient(srv.Tenant(), srv.ClientID(),
			emporix.WithBaseURL(srv.URL()),
			emporix.WithHTTPClient(&http.Client{Transport: tr}),
			emporix.WithNoRetries(),
			emporix.WithDefaultTokenSource(emporix.StaticTokens(anon, cust)))
		require.NoError(t, err)
		return c
	}
	const (
		email    = "jane@example.com"
		newEmail = "jane.doe@example.com"
	)

	// Anonymous session.
	guest := client(nil, nil)
	anon, err := guest.Auth.AnonymousLogin(ctx, &emporix.SessionContext{Currency: "EUR", SiteCode: "main", Language: "EN", TargetLocation: "DE"})
	require.NoError(t, err)
	anon, err = guest.Auth.AnonymousRefresh(ctx, anon)
	require.NoError(t, err)
	shopper := client(anon, nil)
	_, err = shopper.Profile.Get(ctx, nil)
	require.NoError(t, err, "GET /me with the anonymous token")

	// Sign-up, employee activation, login.
	srv.SetSignupMode(emporixtest.SignupInactive)
	number, err := shopper.Auth.Signup(ctx, &emporix.SignupRequest{
		Email: email, Password: "password123",
		CustomerDetails: &emporix.CustomerDetails{FirstName: "Jane", LastName: "Doe", ContactEmail: email, PreferredCurrency: "EUR"},
		CustomerAddress: &emporix.Address{ContactName: "Jane Doe", Street: "Main", City: "Berlin", Country: "DE", Tags: []string{emporix.TagBilling}},
	})
	require.NoError(t, err)
	svc, err := shopper.Employee.ServiceToken(ctx, &emporix.ServiceCredentials{ClientID: srv.ServiceClientID(), ClientSecret: emporix.Secret(srv.ServiceClientSecret())})
	require.NoError(t, err)
	require.NoError(t, shopper.Employee.ActivateCustomer(ctx, svc, number))
	cust, err := shopper.Auth.Login(ctx, &emporix.LoginRequest{Email: email, Password: "password123"})
	require.NoError(t, err)

	// Profile and addresses.
	me := client(anon, cust)
	_, err = me.Auth.Validate(ctx)
	require.NoError(t, err)
	profile, err := me.Profile.Get(ctx, &emporix.ProfileGetOptions{Expand: []string{"addresses", "mixin:*"}})
	require.NoError(t, err)
	require.NoError(t, me.Profile.Update(ctx, &emporix.ProfileUpdate{FirstName: emporix.Ptr("Janet"), Metadata: &emporix.Metadata{Version: profile.Version()}}))
	require.NoError(t, me.Profile.MergePatch(ctx, &emporix.ProfileUpdate{ContactPhone: emporix.Ptr("123456789")}))
	id, err := me.Addresses.Create(ctx, &emporix.AddressCreate{ContactName: "Jane Doe", Street: "Side", City: "Hamburg", Country: "DE", Tags: []string{emporix.TagShipping}})
	require.NoError(t, err)
	_, err = me.Addresses.List(ctx)
	require.NoError(t, err)
	addr, err := me.Addresses.Get(ctx, id)
	require.NoError(t, err)
	require.NoError(t, me.Addresses.Update(ctx, id, &emporix.AddressUpdate{City: emporix.Ptr("Bremen"), IsDefault: emporix.Ptr(true), Metadata: addr.Metadata}))
	require.NoError(t, me.Addresses.AddTags(ctx, id, emporix.TagBilling, emporix.TagShipping))
	require.NoError(t, me.Addresses.RemoveTags(ctx, id, emporix.TagBilling))
	require.NoError(t, me.Addresses.Delete(ctx, id))

	// Credentials.
	require.NoError(t, me.Credentials.ChangePassword(ctx, &emporix.PasswordChange{CurrentPassword: "password123", NewPassword: "password456"}))
	require.NoError(t, me.Credentials.RequestEmailChange(ctx, &emporix.EmailChangeRequest{Email: email, Password: "password456", NewEmail: newEmail, SyncContactEmail: true}))
	mailToken := srv.LastToken(emporixtest.MailEmailChange, newEmail)
	if mailToken == "" {
		mailToken = srv.LastToken(emporixtest.MailEmailChange, email)
	}
	require.NotEmpty(t, mailToken, "e-mail change token")
	require.NoError(t, shopper.Credentials.ConfirmEmailChange(ctx, mailToken))
	require.NoError(t, shopper.Credentials.RequestPasswordReset(ctx, &emporix.PasswordResetRequest{Email: newEmail, Site: "main"}))
	resetToken := srv.LastToken(emporixtest.MailPasswordReset, newEmail)
	require.NotEmpty(t, resetToken, "password reset token")
	require.NoError(t, shopper.Credentials.ResetPassword(ctx, &emporix.PasswordReset{Token: emporix.Secret(resetToken), Password: "password789"}))

	// Customer token refresh (with a legal entity rescope), logout.
	cust, err = me.Auth.Login(ctx, &emporix.LoginRequest{Email: newEmail, Password: "password789"})
	require.NoError(t, err)
	cust, err = client(anon, cust).Auth.RefreshCustomer(ctx, cust, nil)
	require.NoError(t, err)
	require.NoError(t, client(anon, cust).Auth.Logout(ctx))

	// Double opt-in.
	srv.SetSignupMode(emporixtest.SignupDoubleOptIn)
	const optInEmail = "optin@example.com"
	_, err = shopper.Auth.Signup(ctx, &emporix.SignupRequest{Email: optInEmail, Password: "password123"})
	require.NoError(t, err)
	require.NoError(t, shopper.Auth.ResendOptIn(ctx, optInEmail))
	optIn := srv.LastToken(emporixtest.MailOptIn, optInEmail)
	require.NotEmpty(t, optIn, "opt-in token")
	_, err = shopper.Auth.ConfirmOptIn(ctx, optIn)
	require.NoError(t, err)

	// External logins.
	srv.AddSocialCode("social-code-1", emporixtest.SocialCode{Email: "social@example.com", RedirectURI: "https://shop.example.com/callback", CodeVerifier: "verifier-1"})
	_, err = shopper.Auth.SocialLogin(ctx, &emporix.SocialLoginRequest{Code: "social-code-1", RedirectURI: "https://shop.example.com/callback", CodeVerifier: "verifier-1"})
	require.NoError(t, err)
	srv.AddSubjectToken("subject-jwt-1", emporixtest.Subject{Email: "sso@example.com"})
	_, err = shopper.Auth.ExchangeToken(ctx, &emporix.ExchangeRequest{SubjectAccessToken: "subject-jwt-1"})
	require.NoError(t, err)

	// Every operation the SDK implements was exercised.
	var missing []string
	for _, o := range append(spec.Operations(spectest.DocCustomerManaged), spec.Operations(spectest.DocOAuth)...) {
		if tr.seen[o.ID] == 0 {
			missing = append(missing, o.ID)
		}
	}
	if _, ok := tr.seen["PATCH-customer-tenant-update-customer"]; !ok {
		missing = append(missing, "PATCH-customer-tenant-update-customer")
	}
	sort.Strings(missing)
	assert.Empty(t, missing, "operations not exercised")
	assert.Len(t, tr.seen, 27, "operations exercised: %v", tr.seen)
}

// The validating transport reports what it sees: a request outside the
// spec sent through it is caught, so the end-to-end test cannot pass
// vacuously.
func TestSpecConformanceEndToEndCatchesViolations(t *testing.T) {
	spec := e2eSpec(t)
	srv := emporixtest.NewServer(emporixtest.WithTenant("mytenant"))
	defer srv.Close()
	tr := &specTransport{spec: spec, next: srv.Client().Transport, seen: map[string]int{}}
	hc := &http.Client{Transport: tr}

	put, err := http.NewRequest(http.MethodPut, srv.URL()+"/customer/mytenant/me", bytes.NewReader([]byte(`{}`)))
	require.NoError(t, err)
	put.Header.Set("Content-Type", "application/json")
	put.Header.Set("Authorization", "Bearer x")
	res, err := hc.Do(put)
	require.NoError(t, err)
	_ = res.Body.Close()

	login, err := http.NewRequest(http.MethodGet, srv.URL()+"/customerlogin/auth/anonymous/login?tenant=mytenant&client_id="+srv.ClientID()+"&pageSize=1", nil)
	require.NoError(t, err)
	res, err = hc.Do(login)
	require.NoError(t, err)
	_ = res.Body.Close()

	errs := tr.violations()
	require.Len(t, errs, 2, "violations: %v", errs)
	for i, kind := range []string{spectest.KindMethod, spectest.KindUnknownParameter} {
		var se *spectest.Error
		require.True(t, errors.As(errs[i], &se), "%v", errs[i])
		assert.True(t, se.Has(kind), "want %s in %v", kind, errs[i])
	}
}

// TestSpecSkipIsListedAfterTheRun: without EMPORIX_SPEC_DIR the spec checks
// skip, and say so where go test's default output shows it (TestMain), not
// only under -v: a newcomer running the README's test command learns what
// did not run.
func TestSpecSkipIsListedAfterTheRun(t *testing.T) {
	t.Setenv(spectest.EnvDir, "") // restores the variable after the test
	require.NoError(t, os.Unsetenv(spectest.EnvDir))
	var sub *testing.T
	t.Run("needs the spec", func(t *testing.T) {
		sub = t
		e2eSpec(t)
	})
	require.True(t, sub.Skipped())
	assert.Contains(t, skipnote.Summary("emporix"), sub.Name()+": "+spectest.SkipReason)
	skipnote.Forget(sub) // a skip on purpose: not one to report
}
