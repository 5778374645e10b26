package emporix_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emporix-go/emporix"
	"github.com/emporix-go/emporix/emporixtest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The end-to-end suite: the Emporix customer-management tutorial and every
// operation of the SDK, driven through the public API only, against the
// emporixtest fake by default or a sandbox tenant when EMPORIX_API_URL,
// EMPORIX_TENANT and EMPORIX_CLIENT_ID are set (see e2e_env_test.go). Each
// flow is a chain of ordered steps sharing state; a failed prerequisite
// skips the rest of its flow.

// Operation IDs, for reading the fake's request log.
const (
	opAnonLogin      = "GET-oauth-generate-anonymous-access-token"
	opAnonRefresh    = "GET-oauth-refresh-anonymous-access-token"
	opSignup         = "POST-customer-create-customer-account"
	opLogin          = "POST-customer-authenticate-customer"
	opLogout         = "GET-customer-logout-customer"
	opRefresh        = "GET-customer-refresh-authtoken"
	opValidate       = "GET-customer-validate-token"
	opExchange       = "POST-customer-exchange-authtoken"
	opSocialLogin    = "POST-customer-login-customer-by-auth0"
	opProfileGet     = "GET-customer-retrieve-customer-profile"
	opProfilePatch   = "PATCH-customer-update-customer"
	opAddressList    = "GET-customer-list-customer-addresses"
	opAddressCreate  = "POST-customer-add-address"
	opAddressGet     = "GET-customer-retrieve-address-by-id"
	opAddressPatch   = "PATCH-customer-update-customer-address"
	opAddressDelete  = "DELETE-customer-remove-customer-address-by-id"
	opTagsAdd        = "POST-customer-add-address-tags"
	opTagsRemove     = "DELETE-customer-remove-address-tags"
	opEmailChange    = "POST-customer-change-customer-login-email"
	opEmailConfirm   = "POST-customer-confirm-customer-login-email"
	opResetRequest   = "POST-customer-request-reset-password"
	opReset          = "POST-customer-reset-password"
	opPasswordChange = "POST-customer-change-account-password"
	opOptInConfirm   = "GET-customer-signup-customer-optin"
	opOptInResend    = "POST-customer-refresh-token"
	opServiceToken   = "POST-oauth-request-client-credentials"
	opActivate       = "PATCH-customer-tenant-update-customer"
)

// allOperations are the 25 customer-managed operations plus the service
// token and the employee activation.
var allOperations = []string{
	opAnonLogin, opAnonRefresh, opSignup, opLogin, opLogout, opRefresh, opValidate, opExchange, opSocialLogin,
	opProfileGet, opProfilePatch, opAddressList, opAddressCreate, opAddressGet, opAddressPatch, opAddressDelete,
	opTagsAdd, opTagsRemove, opEmailChange, opEmailConfirm, opResetRequest, opReset, opPasswordChange,
	opOptInConfirm, opOptInResend, opServiceToken, opActivate,
}

// legalEntity is the B2B legal entity of the tutorial's sign-up example.
var legalEntity = emporixtest.LegalEntity{ID: "67e162a3ad4e2f12bc4f9306", Name: "ABC", ContactAssignmentID: "91033918"}

// TestEndToEnd runs the tutorial flow and the session flow, each against a
// target of its own (see newE2ETarget in e2e_env_test.go).
func TestEndToEnd(t *testing.T) {
	t.Run("Tutorial", testE2ETutorial)
	t.Run("Session", testE2ESession)
}

// tutorialState is what the tutorial's steps share: the shopper's
// anonymous token, the customer's token and credentials.
type tutorialState struct {
	tg       *e2eTarget
	anon     *emporix.Token
	cust     *emporix.Token
	email    string
	password string
	number   string

	canLogIn       bool   // the account is active (or was activated)
	resetRequested bool   // a password-reset e-mail was requested
	pendingEmail   string // the e-mail change requested, awaiting confirmation
}

// shopper is the guest's client: the anonymous token only.
func (st *tutorialState) shopper() *emporix.Client {
	return st.tg.client.WithTokenSource(emporix.StaticTokens(st.anon, nil))
}

// me is the logged-in customer's client.
func (st *tutorialState) me() *emporix.Client {
	return st.tg.client.WithTokenSource(emporix.StaticTokens(st.anon, st.cust))
}

// as is a client for another customer token on the shopper's session.
func (st *tutorialState) as(cust *emporix.Token) *emporix.Client {
	return st.tg.client.WithTokenSource(emporix.StaticTokens(st.anon, cust))
}

// login logs email in on the shopper's session and checks the token.
func (st *tutorialState) login(t *testing.T, email, password string) *emporix.Token {
	t.Helper()
	cust, err := st.shopper().Auth.Login(t.Context(), &emporix.LoginRequest{Email: email, Password: emporix.Secret(password)})
	require.NoError(t, err, "login as %s", email)
	assertCustomerToken(t, st.tg, cust, st.anon.SessionID)
	return cust
}

// loginFails checks that email cannot log in with password.
func (st *tutorialState) loginFails(t *testing.T, email, password, why string) {
	t.Helper()
	_, err := st.shopper().Auth.Login(t.Context(), &emporix.LoginRequest{Email: email, Password: emporix.Secret(password)})
	requireAPIError(t, err, emporix.ErrUnauthorized, http.StatusUnauthorized, why)
}

// tutorialSignup is the sign-up of the tutorial. The tutorial's
// b2b.legalEntities is not part of the sign-up schema, and its B2B company
// registration is left out so that a sandbox run creates a plain B2C
// customer.
func tutorialSignup(email, password string) *emporix.SignupRequest {
	return &emporix.SignupRequest{
		Email: email, Password: emporix.Secret(password),
		CustomerDetails: &emporix.CustomerDetails{
			Title: "MR", FirstName: "John", LastName: "Doe", ContactEmail: email, ContactPhone: "123456789",
			Company: "Emporix", PreferredLanguage: "en_US", PreferredCurrency: "EUR", PreferredSite: "main",
		},
		CustomerAddress: &emporix.Address{
			ContactName: "John Doe", CompanyName: "Emporix", Street: "Platz der Republik", StreetNumber: "1",
			ZipCode: "11011", City: "Berlin", Country: "DE", State: "Berlin", ContactPhone: "123456789",
			Tags: []string{emporix.TagBilling, emporix.TagShipping},
		},
	}
}

func testE2ETutorial(t *testing.T) {
	tg := newE2ETarget(t)
	t.Logf("tutorial flow against %s", tg.name)
	ctx := t.Context()
	st := &tutorialState{tg: tg, email: e2eEmail("tutorial"), password: "password123"}
	flow := t
	s := newE2ESteps(t)

	s.must("anonymous login", func(t *testing.T) {
		anon, err := tg.client.Auth.AnonymousLogin(ctx,
			&emporix.SessionContext{Currency: "EUR", SiteCode: "main", Language: "EN", TargetLocation: "DE"})
		require.NoError(t, err)
		assertToken(t, tg, anon, emporix.KindAnonymous)
		assert.NotEmpty(t, anon.SessionID, "the session ID the guest cart is keyed by")
		assert.NotEmpty(t, anon.RefreshToken)
		assert.True(t, anon.RefreshExpiry.After(anon.Expiry), "the refresh token outlives the access token")
		assert.Contains(t, anon.Scope, "tenant="+tg.client.Tenant())
		if l := tg.lifetimes; l != nil {
			assertLifetimes(t, anon, l.AnonymousAccess, l.AnonymousRefresh)
		}
		st.anon = anon

		guest, err := st.shopper().Profile.Get(ctx, nil)
		require.NoError(t, err, "GET /me with the anonymous token")
		assert.True(t, guest.Anonymous(), "the anonymous pseudo-customer")
		assert.Equal(t, emporix.AnonymousCustomerNumber, guest.CustomerNumber)
		assert.Empty(t, guest.Accounts)

		if tg.log != nil {
			r := tg.lastRequest(t, opAnonLogin)
			assert.Empty(t, r.Bearer(), "anonymous login needs no token")
			assert.Equal(t, tg.client.Tenant(), r.Query.Get("tenant"))
			assert.Equal(t, tg.client.ClientID(), r.Query.Get("client_id"))
			assert.Equal(t, "EUR", r.Query.Get("currency"))
			assert.Equal(t, "main", r.Query.Get("siteCode"))
			assert.Equal(t, "EN", r.Query.Get("language"))
			assert.Equal(t, "DE", r.Query.Get("targetLocation"))
			assert.Equal(t, string(anon.AccessToken), tg.lastRequest(t, opProfileGet).Bearer())
		}
	})

	s.must("anonymous refresh keeps the session ID", func(t *testing.T) {
		old := st.anon
		if tg.clock.movesServer() {
			// Let the token expire on the service: refreshing, not a new
			// anonymous login, is what keeps the session.
			tg.clock.Advance(old.Expiry.Sub(tg.clock.Now()) + time.Second)
			assert.True(t, old.ExpiredAt(tg.clock.Now()))
			_, err := st.shopper().Profile.Get(ctx, nil)
			requireAPIError(t, err, emporix.ErrTokenExpired, http.StatusUnauthorized, "an expired anonymous token")
		}
		anon, err := tg.client.Auth.AnonymousRefresh(ctx, old)
		require.NoError(t, err)
		assertToken(t, tg, anon, emporix.KindAnonymous)
		assert.Equal(t, old.SessionID, anon.SessionID, "the session ID survives the refresh")
		assert.NotEmpty(t, anon.RefreshToken)
		assert.False(t, anon.ExpiredAt(tg.clock.Now()))
		if tg.fake() {
			assert.NotEqual(t, string(old.AccessToken), string(anon.AccessToken), "a new access token")
			assert.Equal(t, old.RefreshToken, anon.RefreshToken, "anonymous refresh tokens do not rotate")
			assert.Equal(t, old.RefreshExpiry, anon.RefreshExpiry)
			r := tg.lastRequest(t, opAnonRefresh)
			assert.Equal(t, string(old.RefreshToken), r.Query.Get("refresh_token"))
			assert.Equal(t, tg.client.ClientID(), r.Query.Get("client_id"))
			assert.False(t, r.Query.Has("anonymous_token"), "the deprecated parameter is not sent")
			assert.Equal(t, tg.lifetimes.AnonymousAccess, anon.Expiry.Sub(anon.IssuedAt), "a full new lifetime")
		}
		st.anon = anon

		guest, err := st.shopper().Profile.Get(ctx, nil)
		require.NoError(t, err, "the refreshed token works")
		assert.True(t, guest.Anonymous())
	})

	s.must("sign-up", func(t *testing.T) {
		if tg.admin != nil {
			// As in the tutorial, the tenant keeps new accounts inactive
			// until an employee activates them.
			tg.admin.SetSignupMode(emporixtest.SignupInactive)
			defer tg.admin.SetSignupMode(emporixtest.SignupActive)
		}
		number, err := st.shopper().Auth.Signup(ctx, tutorialSignup(st.email, st.password))
		require.NoError(t, err)
		require.NotEmpty(t, number, "the customer number")
		st.number = number
		if tg.admin != nil {
			info, ok := tg.admin.CustomerByNumber(number)
			require.True(t, ok, "the fake stored customer %s", number)
			assert.True(t, strings.EqualFold(st.email, info.Email), "login e-mail %q", info.Email)
			assert.Equal(t, "John", info.FirstName)
			assert.Len(t, info.AddressIDs, 1, "the sign-up address")
			assert.False(t, info.Active, "inactive until activated")
		}
		if tg.log != nil {
			r := tg.lastRequest(t, opSignup)
			assert.Equal(t, http.StatusCreated, r.Status)
			assert.Equal(t, string(st.anon.AccessToken), r.Bearer(), "sign-up is authorized with the anonymous token")
			body := requestJSON(t, r)
			assert.Equal(t, st.email, body["email"])
			assert.Equal(t, "John", body["customerDetails"].(map[string]any)["firstName"])
			assert.Equal(t, "Berlin", body["customerAddress"].(map[string]any)["city"])
		}
	})

	s.step("duplicate sign-up is a conflict", func(t *testing.T) {
		_, err := st.shopper().Auth.Signup(ctx, &emporix.SignupRequest{Email: st.email, Password: "password456"})
		requireAPIError(t, err, emporix.ErrConflict, http.StatusConflict, "a second sign-up with the same e-mail")
		assertNoSecret(t, err, "password456")
	})

	s.step("activation by an employee", func(t *testing.T) {
		_, err := st.shopper().Auth.Login(ctx, &emporix.LoginRequest{Email: st.email, Password: emporix.Secret(st.password)})
		switch {
		case tg.admin != nil:
			requireAPIError(t, err, emporix.ErrUnauthorized, http.StatusUnauthorized, "login before activation")
		case err == nil:
			st.canLogIn = true
			t.Logf("%s activated the account at sign-up", tg.name)
		default:
			t.Logf("login before activation: %v", err)
		}
		if tg.service == nil {
			if st.canLogIn {
				t.Skipf("skipped on %s: %s and %s are not set (the tenant activates sign-ups itself, so login can go on)",
					tg.name, envServiceID, envServiceSecret)
			}
			t.Skipf("skipped on %s: the new account is inactive and %s and %s are not set to activate it",
				tg.name, envServiceID, envServiceSecret)
		}
		svc, err := tg.client.Employee.ServiceToken(ctx, tg.service)
		require.NoError(t, err, "service token")
		assertToken(t, tg, svc, emporix.KindService)
		assert.Empty(t, svc.RefreshToken, "client credentials have no refresh")
		assert.True(t, svc.RefreshExpiry.IsZero())
		assert.NotEmpty(t, svc.Scope)
		if l := tg.lifetimes; l != nil {
			assert.Equal(t, l.ServiceAccess, svc.Expiry.Sub(svc.IssuedAt))
		}

		require.NoError(t, tg.client.Employee.ActivateCustomer(ctx, svc, st.number))
		st.canLogIn = true
		if tg.admin != nil {
			info, _ := tg.admin.CustomerByNumber(st.number)
			assert.True(t, info.Active, "activated")
			assert.False(t, info.OnHold)
		}
		if tg.log != nil {
			r := tg.lastRequest(t, opServiceToken)
			assert.Equal(t, "application/x-www-form-urlencoded", r.Header.Get("Content-Type"))
			r = tg.lastRequest(t, opActivate)
			assert.Equal(t, "/customer/"+tg.client.Tenant()+"/customers/"+st.number, r.Path)
			assert.Equal(t, string(svc.AccessToken), r.Bearer(), "activation is authorized with the service token")
			assert.JSONEq(t, `{"active":true,"onHold":false}`, string(r.Body))
		}
	})

	s.must("login keeps the session ID", func(t *testing.T) {
		if !st.canLogIn {
			require.Nil(t, tg.service, "the activation step did not complete")
			t.Skipf("skipped on %s: the new account is inactive; set %s and %s so that the suite can activate it",
				tg.name, envServiceID, envServiceSecret)
		}
		cust := st.login(t, st.email, st.password)
		assert.False(t, cust.InitialPassword)
		if l := tg.lifetimes; l != nil {
			assertLifetimes(t, cust, l.CustomerAccess, l.CustomerRefresh)
		}
		if tg.log != nil {
			r := tg.lastRequest(t, opLogin)
			assert.Equal(t, string(st.anon.AccessToken), r.Bearer(), "login is authorized with the anonymous token")
			assert.Equal(t, "application/json", r.Header.Get("Content-Type"))
			assert.JSONEq(t, fmt.Sprintf(`{"email":%q,"password":%q}`, st.email, st.password), string(r.Body))
		}
		st.cust = cust
	})

	s.step("validate", func(t *testing.T) {
		info, err := st.me().Auth.Validate(ctx)
		require.NoError(t, err)
		assert.True(t, strings.EqualFold(st.email, info.Email), "e-mail %q", info.Email)
		assert.Equal(t, st.anon.SessionID, info.SessionID)
		assert.True(t, strings.EqualFold("Bearer", info.TokenType), "token type %q", info.TokenType)
		assert.NotEmpty(t, info.Scope)
		assert.Empty(t, info.LegalEntityID)
		assert.WithinDuration(t, st.cust.Expiry, info.Expiry, time.Minute, "the remaining lifetime")
		if tg.log != nil {
			assert.Equal(t, string(st.cust.AccessToken), tg.lastRequest(t, opValidate).Bearer())
			assert.Contains(t, info.Scope, "customer.customerprofile_edit")
		}
	})

	s.step("profile with addresses and mixins expanded", func(t *testing.T) {
		p, err := st.me().Profile.Get(ctx, &emporix.ProfileGetOptions{Expand: []string{"addresses", "mixin:*"}})
		require.NoError(t, err)
		assert.False(t, p.Anonymous())
		assert.Equal(t, st.number, p.CustomerNumber)
		assert.Equal(t, st.number, p.ID)
		assert.Equal(t, "MR", p.Title)
		assert.Equal(t, "John", p.FirstName)
		assert.Equal(t, "Doe", p.LastName)
		assert.True(t, strings.EqualFold(st.email, p.ContactEmail), "contact e-mail %q", p.ContactEmail)
		assert.Equal(t, "123456789", p.ContactPhone)
		assert.Equal(t, "Emporix", p.Company)
		assert.Equal(t, "en_US", p.PreferredLanguage)
		assert.Equal(t, "EUR", p.PreferredCurrency)
		assert.Equal(t, "main", p.PreferredSite)
		if assert.Len(t, p.Accounts, 1) {
			assert.True(t, strings.EqualFold(st.email, p.Accounts[0].ID), "account %q", p.Accounts[0].ID)
			assert.Empty(t, p.Accounts[0].ProviderID)
		}
		if assert.Len(t, p.Addresses, 1, "the sign-up address") {
			a := p.Addresses[0]
			assert.NotEmpty(t, a.ID)
			assert.Equal(t, "John Doe", a.ContactName)
			assert.Equal(t, "Platz der Republik", a.Street)
			assert.Equal(t, "Berlin", a.City)
			assert.Equal(t, "DE", a.Country)
			assert.ElementsMatch(t, []string{emporix.TagBilling, emporix.TagShipping}, a.Tags)
		}
		require.NotNil(t, p.Metadata, "metadata")
		assert.Positive(t, p.Version(), "metadata.version")
		if assert.NotNil(t, p.LastLogin, "lastLogin after a login") {
			assert.WithinDuration(t, tg.clock.Now(), *p.LastLogin, time.Hour)
		}
		if tg.fake() {
			assert.Equal(t, emporix.BusinessModelB2C, p.BusinessModel)
			if assert.NotNil(t, p.DefaultAddress) && len(p.Addresses) == 1 {
				assert.Equal(t, p.Addresses[0].ID, p.DefaultAddress.ID, "the first address is the default")
			}
			assert.Equal(t, "addresses,mixin:*", tg.lastRequest(t, opProfileGet).Query.Get("expand"))
		}
	})

	s.step("profile update with metadata.version", func(t *testing.T) {
		me := st.me()
		before, err := me.Profile.Get(ctx, nil)
		require.NoError(t, err)
		v := before.Version()
		require.Positive(t, v, "GET /me reports metadata.version")

		require.NoError(t, me.Profile.Update(ctx, &emporix.ProfileUpdate{
			FirstName: emporix.Ptr("Johnny"), PreferredCurrency: emporix.Ptr("USD"),
			Metadata: &emporix.Metadata{Version: v},
		}))
		after, err := me.Profile.Get(ctx, nil)
		require.NoError(t, err)
		assert.Equal(t, "Johnny", after.FirstName)
		assert.Equal(t, "USD", after.PreferredCurrency)
		assert.Equal(t, "Doe", after.LastName, "fields not sent are kept")
		assert.Greater(t, after.Version(), v, "the update moves the version")
		if tg.fake() {
			assert.Equal(t, v+1, after.Version())
			r := tg.lastRequest(t, opProfilePatch)
			assert.Equal(t, "application/json", r.Header.Get("Content-Type"))
			assert.Equal(t, http.StatusOK, r.Status)
			assert.JSONEq(t, fmt.Sprintf(`{"firstName":"Johnny","preferredCurrency":"USD","metadata":{"version":%d}}`, v), string(r.Body))
		}

		// The version read before the update is stale now.
		err = me.Profile.Update(ctx, &emporix.ProfileUpdate{FirstName: emporix.Ptr("Stale"), Metadata: &emporix.Metadata{Version: v}})
		requireAPIError(t, err, emporix.ErrConflict, http.StatusConflict, "an update with a stale metadata.version")
		again, err := me.Profile.Get(ctx, nil)
		require.NoError(t, err)
		assert.Equal(t, "Johnny", again.FirstName, "the stale update changed nothing")
		assert.Equal(t, after.Version(), again.Version())
	})

	s.step("profile merge patch", func(t *testing.T) {
		me := st.me()
		require.NoError(t, me.Profile.MergePatch(ctx, &emporix.ProfileUpdate{
			ContactPhone: emporix.Ptr("987654321"), MiddleName: emporix.Ptr("Q"),
		}))
		p, err := me.Profile.Get(ctx, nil)
		require.NoError(t, err)
		assert.Equal(t, "987654321", p.ContactPhone)
		assert.Equal(t, "Q", p.MiddleName)
		assert.Equal(t, "Doe", p.LastName, "a merge patch keeps what it does not name")
		assert.Equal(t, "Emporix", p.Company)
		if tg.log != nil {
			r := tg.lastRequest(t, opProfilePatch)
			assert.Equal(t, "application/merge-patch+json", r.Header.Get("Content-Type"))
			assert.JSONEq(t, `{"contactPhone":"987654321","middleName":"Q"}`, string(r.Body))
		}
	})

	s.step("addresses", func(t *testing.T) { testE2EAddresses(t, st) })

	s.step("customer refresh rotates the refresh token", func(t *testing.T) {
		old := st.cust
		cust, err := st.me().Auth.RefreshCustomer(ctx, old, nil)
		require.NoError(t, err)
		assertCustomerToken(t, tg, cust, st.anon.SessionID)
		assert.Equal(t, string(old.SaasToken), string(cust.SaasToken), "the refresh answer has no SaaS token: it is carried forward")
		if tg.fake() {
			assert.NotEqual(t, old.AccessToken, cust.AccessToken)
			assert.NotEqual(t, string(old.RefreshToken), string(cust.RefreshToken), "the refresh token rotates")
			assertLifetimes(t, cust, tg.lifetimes.CustomerAccess, tg.lifetimes.CustomerRefresh)
			r := tg.lastRequest(t, opRefresh)
			assert.Equal(t, string(st.anon.AccessToken), r.Bearer(), "refresh is authorized with the anonymous token")
			assert.Equal(t, string(old.RefreshToken), r.Query.Get("refreshToken"))
			assert.False(t, r.Query.Has("legalEntityId"))

			_, err = st.me().Auth.RefreshCustomer(ctx, old, nil)
			requireAPIError(t, err, emporix.ErrUnauthorized, http.StatusUnauthorized, "the spent refresh token")
		} else if old.RefreshToken == cust.RefreshToken {
			t.Logf("%s did not rotate the customer refresh token", tg.name)
		}
		st.cust = cust
		info, err := st.me().Auth.Validate(ctx)
		require.NoError(t, err, "the refreshed token is valid")
		assert.Equal(t, st.anon.SessionID, info.SessionID)
	})

	s.step("legal entity switch", func(t *testing.T) {
		tg.need(t, tg.admin != nil, fmt.Sprintf(missingAdmin, "a B2B legal entity assigned to the test customer"))
		require.True(t, tg.admin.AssignLegalEntity(st.number, legalEntity))
		p, err := st.me().Profile.Get(ctx, nil)
		require.NoError(t, err)
		require.NotNil(t, p.B2B)
		assert.Equal(t, []emporix.LegalEntity{{ID: legalEntity.ID, Name: legalEntity.Name, ContactAssignmentID: legalEntity.ContactAssignmentID}},
			p.B2B.LegalEntities)

		cust, err := st.me().Auth.RefreshCustomer(ctx, st.cust, &emporix.RefreshOptions{LegalEntityID: legalEntity.ID})
		require.NoError(t, err)
		assertCustomerToken(t, tg, cust, st.anon.SessionID)
		assert.Equal(t, legalEntity.ID, cust.LegalEntityID)
		if tg.log != nil {
			assert.Equal(t, legalEntity.ID, tg.lastRequest(t, opRefresh).Query.Get("legalEntityId"))
		}
		st.cust = cust
		info, err := st.me().Auth.Validate(ctx)
		require.NoError(t, err)
		assert.Equal(t, legalEntity.ID, info.LegalEntityID, "the token is scoped to the legal entity")

		_, err = st.me().Auth.RefreshCustomer(ctx, st.cust, &emporix.RefreshOptions{LegalEntityID: "not-assigned"})
		requireAPIError(t, err, emporix.ErrBadRequest, http.StatusBadRequest, "a legal entity the customer is not assigned to")
	})

	s.step("password change", func(t *testing.T) {
		const newPassword = "P@ssw0rd123"
		me := st.me()
		if tg.fake() { // a sandbox might count the wrong password towards a lockout
			err := me.Credentials.ChangePassword(ctx, &emporix.PasswordChange{CurrentPassword: "wrong-password", NewPassword: "whatever123"})
			requireAPIError(t, err, emporix.ErrBadRequest, http.StatusBadRequest, "a wrong current password")
		}
		require.NoError(t, me.Credentials.ChangePassword(ctx, &emporix.PasswordChange{CurrentPassword: emporix.Secret(st.password), NewPassword: newPassword}))
		if tg.log != nil {
			r := tg.lastRequest(t, opPasswordChange)
			assert.Equal(t, string(st.cust.AccessToken), r.Bearer())
			assert.Equal(t, http.StatusNoContent, r.Status)
		}
		st.loginFails(t, st.email, st.password, "the old password")
		st.password = newPassword
		st.cust = st.login(t, st.email, newPassword)
	})

	s.step("password reset request", func(t *testing.T) {
		shopper := st.shopper()
		require.NoError(t, shopper.Credentials.RequestPasswordReset(ctx, &emporix.PasswordResetRequest{Email: st.email, Site: "main"}))
		st.resetRequested = true
		// An unknown e-mail gets the same answer: nothing is revealed.
		nobody := e2eEmail("nobody")
		require.NoError(t, shopper.Credentials.RequestPasswordReset(ctx, &emporix.PasswordResetRequest{Email: nobody}))
		if tg.mail != nil {
			mails := mailsOf(tg.mail.Outbox(st.email), emporixtest.MailPasswordReset)
			if assert.Len(t, mails, 1) {
				assert.Equal(t, st.number, mails[0].CustomerNumber)
				assert.Equal(t, "main", mails[0].Site)
				assert.NotEmpty(t, mails[0].Token)
			}
			assert.Empty(t, tg.mail.Outbox(nobody), "no e-mail to an unknown address")
		}
		if tg.log != nil {
			assert.Equal(t, string(st.anon.AccessToken), tg.lastRequest(t, opResetRequest).Bearer(), "authorized with the anonymous token")
		}
	})

	s.step("password reset with the e-mailed token", func(t *testing.T) {
		tg.need(t, tg.mail != nil, fmt.Sprintf(missingMail, "password-reset"))
		require.True(t, st.resetRequested, "the reset request step did not complete")
		token := tg.mail.LastToken(emporixtest.MailPasswordReset, st.email)
		require.NotEmpty(t, token, "the reset token in the outbox")
		const resetPassword = "Reset-pw-456"
		shopper := st.shopper()
		require.NoError(t, shopper.Credentials.ResetPassword(ctx, &emporix.PasswordReset{Token: emporix.Secret(token), Password: resetPassword}))
		if tg.log != nil {
			r := tg.lastRequest(t, opReset)
			assert.Equal(t, string(st.anon.AccessToken), r.Bearer(), "authorized with the anonymous token")
			assert.JSONEq(t, fmt.Sprintf(`{"token":%q,"password":%q}`, token, resetPassword), string(r.Body))
		}
		err := shopper.Credentials.ResetPassword(ctx, &emporix.PasswordReset{Token: emporix.Secret(token), Password: "Another-pw-789"})
		requireAPIError(t, err, emporix.ErrBadRequest, http.StatusBadRequest, "a reset token is single-use")
		assertNoSecret(t, err, token, "Another-pw-789")

		st.loginFails(t, st.email, st.password, "the password before the reset")
		st.password = resetPassword
		st.cust = st.login(t, st.email, resetPassword)
	})

	s.step("e-mail change request", func(t *testing.T) {
		newEmail := e2eEmail("changed")
		require.NoError(t, st.me().Credentials.RequestEmailChange(ctx, &emporix.EmailChangeRequest{
			Email: st.email, Password: emporix.Secret(st.password), NewEmail: newEmail, SyncContactEmail: true,
		}))
		st.pendingEmail = newEmail
		if tg.mail != nil {
			mails := mailsOf(tg.mail.Outbox(newEmail), emporixtest.MailEmailChange)
			if assert.Len(t, mails, 1, "the confirmation goes to the new address") {
				assert.Equal(t, st.number, mails[0].CustomerNumber)
			}
			assert.Empty(t, mailsOf(tg.mail.Outbox(st.email), emporixtest.MailEmailChange))
		}
		if tg.log != nil {
			r := tg.lastRequest(t, opEmailChange)
			assert.Equal(t, string(st.cust.AccessToken), r.Bearer(), "authorized with the customer token")
			assert.JSONEq(t, fmt.Sprintf(`{"email":%q,"password":%q,"newEmail":%q,"syncContactEmail":true}`,
				st.email, st.password, newEmail), string(r.Body))
		}
		// Nothing changes before the confirmation.
		p, err := st.me().Profile.Get(ctx, nil)
		require.NoError(t, err)
		assert.True(t, strings.EqualFold(st.email, p.ContactEmail), "contact e-mail %q", p.ContactEmail)
	})

	s.step("e-mail change confirmation with the e-mailed token", func(t *testing.T) {
		tg.need(t, tg.mail != nil, fmt.Sprintf(missingMail, "e-mail change"))
		require.NotEmpty(t, st.pendingEmail, "the e-mail change request step did not complete")
		token := tg.mail.LastToken(emporixtest.MailEmailChange, st.pendingEmail)
		require.NotEmpty(t, token, "the confirmation token in the outbox")
		shopper := st.shopper()
		require.NoError(t, shopper.Credentials.ConfirmEmailChange(ctx, token))
		if tg.log != nil {
			r := tg.lastRequest(t, opEmailConfirm)
			assert.Equal(t, string(st.anon.AccessToken), r.Bearer(), "confirmed with the anonymous token, despite the /me path")
			assert.JSONEq(t, fmt.Sprintf(`{"token":%q}`, token), string(r.Body))
		}
		err := shopper.Credentials.ConfirmEmailChange(ctx, token)
		requireAPIError(t, err, emporix.ErrBadRequest, http.StatusBadRequest, "a confirmation token is single-use")
		assertNoSecret(t, err, token)

		st.loginFails(t, st.email, st.password, "the old e-mail")
		st.email, st.pendingEmail = st.pendingEmail, ""
		st.cust = st.login(t, st.email, st.password)
		p, err := st.me().Profile.Get(ctx, nil)
		require.NoError(t, err)
		assert.Equal(t, st.number, p.CustomerNumber)
		assert.True(t, strings.EqualFold(st.email, p.ContactEmail), "syncContactEmail moved the contact e-mail: %q", p.ContactEmail)
		if assert.Len(t, p.Accounts, 1) {
			assert.True(t, strings.EqualFold(st.email, p.Accounts[0].ID), "login account %q", p.Accounts[0].ID)
		}
	})

	s.step("double opt-in", func(t *testing.T) {
		tg.need(t, tg.admin != nil && tg.mail != nil,
			"needs a tenant in double opt-in mode and the opt-in token the service e-mails; only emporixtest provides both "+
				"(SetSignupMode and its outbox)")
		tg.admin.SetSignupMode(emporixtest.SignupDoubleOptIn)
		defer tg.admin.SetSignupMode(emporixtest.SignupActive)
		shopper := st.shopper()
		email, password := e2eEmail("optin"), "password123"
		number := tg.signUp(t, shopper, email, password)
		st.loginFails(t, email, password, "login before the opt-in")

		first := tg.mail.LastToken(emporixtest.MailOptIn, email)
		require.NotEmpty(t, first, "the opt-in e-mail")
		require.NoError(t, shopper.Auth.ResendOptIn(ctx, email))
		assert.Len(t, mailsOf(tg.mail.Outbox(email), emporixtest.MailOptIn), 2, "the link was sent again")
		second := tg.mail.LastToken(emporixtest.MailOptIn, email)
		require.NotEqual(t, first, second, "a new token")
		require.NoError(t, shopper.Auth.ResendOptIn(ctx, e2eEmail("nobody")), "an unknown e-mail gets the same answer")

		_, err := shopper.Auth.ConfirmOptIn(ctx, first)
		requireAPIError(t, err, emporix.ErrBadRequest, http.StatusBadRequest, "the superseded opt-in token")
		assertNoSecret(t, err, first)

		tok, err := shopper.Auth.ConfirmOptIn(ctx, second)
		require.NoError(t, err)
		assertCustomerToken(t, tg, tok, st.anon.SessionID)
		if l := tg.lifetimes; l != nil {
			assertLifetimes(t, tok, l.CustomerAccess, l.CustomerRefresh)
		}
		if tg.log != nil {
			r := tg.lastRequest(t, opOptInConfirm)
			assert.Equal(t, "/customer/"+tg.client.Tenant()+"/signup/optin/"+second, r.Path)
			assert.Equal(t, string(st.anon.AccessToken), r.Bearer())
			assert.Equal(t, http.StatusAccepted, tg.lastRequest(t, opOptInResend).Status)
		}

		info, err := st.as(tok).Auth.Validate(ctx)
		require.NoError(t, err)
		assert.True(t, strings.EqualFold(email, info.Email), "e-mail %q", info.Email)
		assert.Equal(t, st.anon.SessionID, info.SessionID)
		p, err := st.as(tok).Profile.Get(ctx, nil)
		require.NoError(t, err)
		assert.Equal(t, number, p.CustomerNumber)
		st.login(t, email, password) // the account is active now
	})

	s.step("social login", func(t *testing.T) {
		tg.need(t, tg.social != nil, missingSocial)
		const redirect = "https://shop.example.com/callback"
		email, code, verifier := e2eEmail("social"), e2eSecret("auth0-code"), e2eSecret("pkce-verifier")
		tg.social.AddSocialCode(code, emporixtest.SocialCode{
			Email: email, ProviderID: "auth0|1234567890", RedirectURI: redirect, CodeVerifier: verifier,
			FirstName: "Sam", LastName: "Social",
		})
		shopper := st.shopper()
		tok, err := shopper.Auth.SocialLogin(ctx, &emporix.SocialLoginRequest{Code: emporix.Secret(code), RedirectURI: redirect, CodeVerifier: emporix.Secret(verifier)})
		require.NoError(t, err)
		assertCustomerToken(t, tg, tok, st.anon.SessionID)
		assert.NotEmpty(t, tok.SocialAccessToken)
		assert.NotEmpty(t, tok.SocialIDToken)
		assert.Positive(t, tok.SessionIdleTime)
		if tg.fake() {
			assert.Equal(t, time.Hour, tok.SessionIdleTime)
		}
		// The answer's expiries are strings; they are decoded all the same.
		if l := tg.lifetimes; l != nil {
			assertLifetimes(t, tok, l.CustomerAccess, l.CustomerRefresh)
		}
		if tg.log != nil {
			r := tg.lastRequest(t, opSocialLogin)
			var answer map[string]any
			require.NoError(t, json.Unmarshal(r.ResponseBody, &answer))
			assert.IsType(t, "", answer["expires_in"], "the service sends expires_in as a string here")
			assert.IsType(t, "", answer["refresh_token_expires_in"])
			assert.NotContains(t, answer, "session_id")
			assert.Equal(t, st.anon.SessionID, r.Header.Get("session-id"), "the anonymous session is kept through the login")
			assert.Equal(t, string(st.anon.AccessToken), r.Bearer())
			assert.Equal(t, code, r.Query.Get("code"))
			assert.Equal(t, redirect, r.Query.Get("redirect_uri"))
			assert.Equal(t, verifier, r.Query.Get("code_verifier"))
			assert.Empty(t, r.Body)
		}

		p, err := st.as(tok).Profile.Get(ctx, nil)
		require.NoError(t, err)
		assert.Equal(t, "Sam", p.FirstName)
		if assert.Len(t, p.Accounts, 1) {
			assert.Equal(t, "auth0|1234567890", p.Accounts[0].ProviderID)
		}
		info, err := st.as(tok).Auth.Validate(ctx)
		require.NoError(t, err)
		assert.Equal(t, st.anon.SessionID, info.SessionID)

		_, err = shopper.Auth.SocialLogin(ctx, &emporix.SocialLoginRequest{Code: emporix.Secret(code), RedirectURI: redirect, CodeVerifier: emporix.Secret(verifier)})
		requireAPIError(t, err, emporix.ErrUnauthorized, http.StatusUnauthorized, "a used authorization code")
		assertNoSecret(t, err, code, verifier)
	})

	s.step("token exchange", func(t *testing.T) {
		tg.need(t, tg.subjects != nil, missingSubject)
		subject := e2eSecret("idp-access-token")
		tg.subjects.AddSubjectToken(subject, emporixtest.Subject{Email: st.email})
		tg.subjects.AddExchangeConfig("site_PL")
		shopper := st.shopper()

		tok, err := shopper.Auth.ExchangeToken(ctx, &emporix.ExchangeRequest{SubjectAccessToken: emporix.Secret(subject)})
		require.NoError(t, err)
		assertCustomerToken(t, tg, tok, st.anon.SessionID)
		assert.Positive(t, tok.SessionIdleTime)
		if l := tg.lifetimes; l != nil {
			assertLifetimes(t, tok, l.ExchangeAccess, l.ExchangeRefresh)
			assert.Equal(t, 120*time.Second, tok.SessionIdleTime)
		}
		if tg.log != nil {
			r := tg.lastRequest(t, opExchange)
			assert.Equal(t, subject, r.Query.Get("subjectAccessToken"))
			assert.False(t, r.Query.Has("config"))
			assert.Equal(t, string(st.anon.AccessToken), r.Bearer())
			assert.Empty(t, r.Body, "query parameters, not an RFC 8693 form")
		}
		info, err := st.as(tok).Auth.Validate(ctx)
		require.NoError(t, err)
		assert.True(t, strings.EqualFold(st.email, info.Email), "the existing account logged in: %q", info.Email)

		_, err = shopper.Auth.ExchangeToken(ctx, &emporix.ExchangeRequest{SubjectAccessToken: emporix.Secret(subject), Config: "site_PL"})
		require.NoError(t, err, "a configured exchange configuration")
		if tg.log != nil {
			assert.Equal(t, "site_PL", tg.lastRequest(t, opExchange).Query.Get("config"))
		}

		_, err = shopper.Auth.ExchangeToken(ctx, &emporix.ExchangeRequest{SubjectAccessToken: emporix.Secret(subject), Config: "no_such_config"})
		requireAPIError(t, err, emporix.ErrBadRequest, http.StatusBadRequest, "an unknown exchange configuration")
		assertNoSecret(t, err, subject)
		unknown := e2eSecret("unknown-subject")
		_, err = shopper.Auth.ExchangeToken(ctx, &emporix.ExchangeRequest{SubjectAccessToken: emporix.Secret(unknown)})
		requireAPIError(t, err, emporix.ErrUnauthorized, http.StatusUnauthorized, "an unknown subject token")
		assertNoSecret(t, err, unknown)
	})

	s.step("logout", func(t *testing.T) {
		me, cust := st.me(), st.cust
		require.NoError(t, me.Auth.Logout(ctx))
		if tg.log != nil {
			r := tg.lastRequest(t, opLogout)
			assert.Equal(t, string(cust.AccessToken), r.Bearer())
			assert.Equal(t, string(cust.AccessToken), r.Query.Get("accessToken"), "the token to invalidate is named in the query too")
			assert.Equal(t, http.StatusNoContent, r.Status)
		}
		_, err := me.Auth.Validate(ctx)
		apiErr := requireAPIError(t, err, emporix.ErrUnauthorized, http.StatusUnauthorized, "the logged-out token")
		assertNoSecret(t, err, string(cust.AccessToken))
		_, err = me.Profile.Get(ctx, nil)
		requireAPIError(t, err, emporix.ErrUnauthorized, http.StatusUnauthorized, "the logged-out token")
		if tg.fake() {
			assert.True(t, apiErr.TokenRejected())
			assert.Equal(t, emporix.ErrorCodeInvalidAccessToken, apiErr.ErrorCode)
			_, err = me.Auth.RefreshCustomer(ctx, cust, nil)
			requireAPIError(t, err, emporix.ErrUnauthorized, http.StatusUnauthorized, "the logged-out token's refresh token")
		}
		guest, err := st.shopper().Profile.Get(ctx, nil)
		require.NoError(t, err, "the anonymous session outlives the logout")
		assert.True(t, guest.Anonymous())
	})

	s.step("no secret in the SDK's log", func(t *testing.T) { tg.assertNoSecretsLogged(t) })

	s.step("every operation was exercised", func(t *testing.T) {
		tg.need(t, tg.log != nil, fmt.Sprintf(missingAdmin, "a request log"))
		if flow.Failed() {
			t.Skip("earlier steps failed; the operations they left out would only repeat that")
		}
		var missing []string
		for _, op := range allOperations {
			if len(tg.requests(op)) == 0 {
				missing = append(missing, op)
			}
		}
		assert.Empty(t, missing, "operations the flow never called")
	})
}

// testE2EAddresses is the address part of the tutorial: create, list, get,
// update, tag, untag and delete, each a step of its own.
func testE2EAddresses(t *testing.T, st *tutorialState) {
	tg, ctx, me := st.tg, t.Context(), st.me()
	s := newE2ESteps(t)
	create := emporix.AddressCreate{
		ContactName: "John Doe", CompanyName: "Emporix", Street: "Platz der Republik", StreetNumber: "1",
		ZipCode: "11011", City: "Berlin", Country: "DE", State: "Berlin", ContactPhone: "123456789",
		Tags: []string{emporix.TagBilling},
	}
	var (
		id      string
		created *emporix.Address
	)

	s.must("create", func(t *testing.T) {
		var err error
		id, err = me.Addresses.Create(ctx, &create)
		require.NoError(t, err)
		require.NotEmpty(t, id, "the address ID")
		if tg.log != nil {
			r := tg.lastRequest(t, opAddressCreate)
			assert.Equal(t, http.StatusCreated, r.Status)
			assert.Equal(t, string(st.cust.AccessToken), r.Bearer())
		}
	})

	s.must("list", func(t *testing.T) {
		list, err := me.Addresses.List(ctx)
		require.NoError(t, err)
		i := slices.IndexFunc(list, func(a emporix.Address) bool { return a.ID == id })
		require.GreaterOrEqual(t, i, 0, "the new address is listed")
		assert.Equal(t, "Berlin", list[i].City)
		assert.Equal(t, []string{emporix.TagBilling}, list[i].Tags)
		assert.Len(t, list, 2, "the sign-up address and the new one")
	})

	s.must("get", func(t *testing.T) {
		a, err := me.Addresses.Get(ctx, id)
		require.NoError(t, err)
		assert.Equal(t, id, a.ID)
		assert.Equal(t, create.ContactName, a.ContactName)
		assert.Equal(t, create.CompanyName, a.CompanyName)
		assert.Equal(t, create.Street, a.Street)
		assert.Equal(t, create.StreetNumber, a.StreetNumber)
		assert.Equal(t, create.ZipCode, a.ZipCode)
		assert.Equal(t, create.City, a.City)
		assert.Equal(t, create.Country, a.Country)
		assert.Equal(t, create.State, a.State)
		assert.Equal(t, create.ContactPhone, a.ContactPhone)
		assert.Equal(t, []string{emporix.TagBilling}, a.Tags)
		assert.False(t, a.IsDefault, "the sign-up address stays the default")
		if tg.fake() {
			require.NotNil(t, a.Metadata)
			assert.Equal(t, 1, a.Metadata.Version)
		}
		created = a
	})

	s.step("update", func(t *testing.T) {
		var v int
		if created.Metadata != nil {
			v = created.Metadata.Version
		}
		u := &emporix.AddressUpdate{StreetNumber: emporix.Ptr("2"), StreetAppendix: emporix.Ptr("Platz"), IsDefault: emporix.Ptr(true)}
		if v > 0 {
			u.Metadata = &emporix.Metadata{Version: v}
		}
		require.NoError(t, me.Addresses.Update(ctx, id, u))
		a, err := me.Addresses.Get(ctx, id)
		require.NoError(t, err)
		assert.Equal(t, "2", a.StreetNumber)
		assert.Equal(t, "Platz", a.StreetAppendix)
		assert.True(t, a.IsDefault)
		assert.Equal(t, create.Street, a.Street, "fields not sent are kept")
		assert.Equal(t, []string{emporix.TagBilling}, a.Tags, "tags not sent are kept")
		p, err := me.Profile.Get(ctx, &emporix.ProfileGetOptions{Expand: []string{"addresses"}})
		require.NoError(t, err)
		if assert.NotNil(t, p.DefaultAddress, "the default address") {
			assert.Equal(t, id, p.DefaultAddress.ID)
		}
		if tg.log != nil {
			r := tg.lastRequest(t, opAddressPatch)
			assert.Equal(t, http.MethodPatch, r.Method)
			assert.JSONEq(t, fmt.Sprintf(`{"streetNumber":"2","streetAppendix":"Platz","isDefault":true,"metadata":{"version":%d}}`, v), string(r.Body))
		}
		if v == 0 {
			t.Logf("%s reports no address metadata.version: the stale-version check is left out", tg.name)
			return
		}
		err = me.Addresses.Update(ctx, id, &emporix.AddressUpdate{City: emporix.Ptr("Hamburg"), Metadata: &emporix.Metadata{Version: v}})
		requireAPIError(t, err, emporix.ErrConflict, http.StatusConflict, "an address update with a stale metadata.version")
		a, err = me.Addresses.Get(ctx, id)
		require.NoError(t, err)
		assert.Equal(t, "Berlin", a.City, "the stale update changed nothing")
	})

	s.step("add tags", func(t *testing.T) {
		require.NoError(t, me.Addresses.AddTags(ctx, id, emporix.TagShipping, "CUSTOM"))
		a, err := me.Addresses.Get(ctx, id)
		require.NoError(t, err)
		assert.ElementsMatch(t, []string{emporix.TagBilling, emporix.TagShipping, "CUSTOM"}, a.Tags)
		if tg.log != nil {
			r := tg.lastRequest(t, opTagsAdd)
			assert.Equal(t, "SHIPPING,CUSTOM", r.Query.Get("tags"))
			assert.Empty(t, r.Body)
		}
	})

	s.step("remove tags", func(t *testing.T) {
		require.NoError(t, me.Addresses.RemoveTags(ctx, id, emporix.TagBilling, "CUSTOM"))
		a, err := me.Addresses.Get(ctx, id)
		require.NoError(t, err)
		assert.Equal(t, []string{emporix.TagShipping}, a.Tags)
		assert.True(t, a.HasTag(emporix.TagShipping))
		assert.False(t, a.HasTag(emporix.TagBilling))
		if tg.log != nil {
			assert.Equal(t, "BILLING,CUSTOM", tg.lastRequest(t, opTagsRemove).Query.Get("tags"))
		}
	})

	s.must("delete", func(t *testing.T) {
		require.NoError(t, me.Addresses.Delete(ctx, id))
		list, err := me.Addresses.List(ctx)
		require.NoError(t, err)
		assert.False(t, slices.ContainsFunc(list, func(a emporix.Address) bool { return a.ID == id }), "the address is gone")
		assert.Len(t, list, 1, "the sign-up address remains")
		_, err = me.Addresses.Get(ctx, id)
		requireAPIError(t, err, emporix.ErrNotFound, http.StatusNotFound, "the deleted address")
		err = me.Addresses.Delete(ctx, id)
		requireAPIError(t, err, emporix.ErrNotFound, http.StatusNotFound, "deleting it again")
	})
}

// testE2ESession runs a shopper's visit through the Session layer: the SDK
// keeps and refreshes the tokens, and the clock is moved to make them due.
func testE2ESession(t *testing.T) {
	tg := newE2ETarget(t)
	t.Logf("session flow against %s", tg.name)
	ctx := t.Context()

	var (
		mu      sync.Mutex
		changes []emporix.SessionChange
	)
	reported := func() []emporix.SessionChange {
		mu.Lock()
		defer mu.Unlock()
		return slices.Clone(changes)
	}
	store := emporix.NewMemoryStore(emporix.WithStoreClock(tg.clock.Now))
	m, err := emporix.NewSessionManager(tg.client, store,
		emporix.WithSessionContext(emporix.SessionContext{Currency: "EUR", SiteCode: "main"}),
		emporix.WithSessionChangeHook(func(_ context.Context, ch emporix.SessionChange) {
			mu.Lock()
			defer mu.Unlock()
			changes = append(changes, ch)
		}))
	require.NoError(t, err)
	key := emporix.NewSessionKey()
	sess := m.Session(key)
	state := func(t *testing.T) *emporix.SessionState {
		t.Helper()
		st, _, err := store.Load(ctx, key)
		require.NoError(t, err, "the stored session")
		return st
	}

	var (
		email, password = e2eEmail("session"), "password123"
		sessionID       string
		number          string
		activated       bool
	)
	s := newE2ESteps(t)

	s.must("session start", func(t *testing.T) {
		loggedIn, err := sess.LoggedIn(ctx)
		require.NoError(t, err)
		assert.False(t, loggedIn)
		id, err := sess.SessionID(ctx)
		require.NoError(t, err)
		require.NotEmpty(t, id)
		sessionID = id

		st := state(t)
		require.NotNil(t, st.Anonymous)
		assert.Nil(t, st.Customer)
		assertToken(t, tg, st.Anonymous, emporix.KindAnonymous)
		assert.Equal(t, id, st.Anonymous.SessionID)

		guest, err := sess.Client().Profile.Get(ctx, nil)
		require.NoError(t, err)
		assert.True(t, guest.Anonymous())

		again, err := m.Session(key).SessionID(ctx)
		require.NoError(t, err)
		assert.Equal(t, id, again, "a new handle for the key finds the stored session")
		if tg.log != nil {
			logins := tg.requests(opAnonLogin)
			require.Len(t, logins, 1, "one anonymous login")
			assert.Equal(t, "EUR", logins[0].Query.Get("currency"))
			assert.Equal(t, "main", logins[0].Query.Get("siteCode"))
			assert.Equal(t, string(st.Anonymous.AccessToken), tg.lastRequest(t, opProfileGet).Bearer())
		}
		assert.Empty(t, reported())
	})

	s.must("sign-up", func(t *testing.T) {
		number = tg.signUp(t, sess.Client(), email, password)
		activated = tg.activate(t, number)
		if tg.log != nil {
			assert.Equal(t, string(state(t).Anonymous.AccessToken), tg.lastRequest(t, opSignup).Bearer())
		}
	})

	s.must("login on the session", func(t *testing.T) {
		tok, err := sess.Login(ctx, &emporix.LoginRequest{Email: email, Password: emporix.Secret(password)})
		if err != nil && !activated {
			t.Skipf("skipped on %s: the new account cannot log in (%v); set %s and %s so that the suite can activate it",
				tg.name, err, envServiceID, envServiceSecret)
		}
		require.NoError(t, err)
		assertCustomerToken(t, tg, tok, sessionID)

		loggedIn, err := sess.LoggedIn(ctx)
		require.NoError(t, err)
		assert.True(t, loggedIn)
		st := state(t)
		require.NotNil(t, st.Customer)
		assert.Equal(t, string(tok.AccessToken), string(st.Customer.AccessToken), "the customer token is stored")
		assert.Equal(t, sessionID, st.Anonymous.SessionID)
		if tg.log != nil {
			assert.Equal(t, string(st.Anonymous.AccessToken), tg.lastRequest(t, opLogin).Bearer())
		}
		assert.Empty(t, reported())
	})

	s.must("rekey after login keeps the tokens under a fresh key", func(t *testing.T) {
		before := state(t)
		next, err := sess.Rekey(ctx)
		require.NoError(t, err)
		require.NotEqual(t, key, next.Key())
		_, _, err = store.Load(ctx, key)
		require.ErrorIs(t, err, emporix.ErrSessionNotFound, "the old key names nothing")
		key, sess = next.Key(), next
		after := state(t)
		assert.Equal(t, before.Anonymous.AccessToken, after.Anonymous.AccessToken)
		require.NotNil(t, after.Customer)
		assert.Equal(t, before.Customer.AccessToken, after.Customer.AccessToken)
		id, err := sess.SessionID(ctx)
		require.NoError(t, err)
		assert.Equal(t, sessionID, id, "the Emporix session (and the cart) stays")
		assert.Empty(t, reported())
	})

	s.must("profile through Session.Client", func(t *testing.T) {
		p, err := sess.Client().Profile.Get(ctx, nil)
		require.NoError(t, err)
		assert.Equal(t, number, p.CustomerNumber)
		assert.True(t, strings.EqualFold(email, p.ContactEmail), "contact e-mail %q", p.ContactEmail)
		info, err := sess.Client().Auth.Validate(ctx)
		require.NoError(t, err)
		assert.Equal(t, sessionID, info.SessionID)
		if tg.log != nil {
			assert.Equal(t, string(state(t).Customer.AccessToken), tg.lastRequest(t, opProfileGet).Bearer())
		}
	})

	s.must("anonymous token past its lifetime is refreshed with the same session ID", func(t *testing.T) {
		before := state(t)
		tg.clock.Advance(before.Anonymous.Expiry.Sub(tg.clock.Now()) + time.Second)
		id, err := sess.SessionID(ctx)
		require.NoError(t, err)
		assert.Equal(t, sessionID, id, "the session survives the refresh")

		after := state(t)
		assert.True(t, after.Anonymous.IssuedAt.After(before.Anonymous.IssuedAt), "a refreshed anonymous token")
		assert.False(t, after.Anonymous.ExpiredAt(tg.clock.Now()))
		require.NotNil(t, after.Customer, "still logged in")
		assert.Equal(t, string(before.Customer.AccessToken), string(after.Customer.AccessToken), "the customer token was not due")
		if tg.log != nil {
			assert.NotEqual(t, before.Anonymous.AccessToken, after.Anonymous.AccessToken)
			assert.Len(t, tg.requests(opAnonLogin), 1, "no new anonymous session")
			require.Len(t, tg.requests(opAnonRefresh), 1)
			assert.Equal(t, string(before.Anonymous.RefreshToken), tg.lastRequest(t, opAnonRefresh).Query.Get("refresh_token"))
		}
		p, err := sess.Client().Profile.Get(ctx, nil)
		require.NoError(t, err)
		assert.Equal(t, number, p.CustomerNumber)
		assert.Empty(t, reported(), "no session change")
	})

	s.step("revoked customer token is refreshed and the call retried", func(t *testing.T) {
		tg.need(t, tg.admin != nil && tg.log != nil,
			fmt.Sprintf(missingAdmin, "server-side revocation of the customer's access token"))
		before := state(t)
		require.True(t, tg.admin.RevokeToken(string(before.Customer.AccessToken)))
		profiles := len(tg.requests(opProfileGet))

		p, err := sess.Client().Profile.Get(ctx, nil)
		require.NoError(t, err, "the session renews the rejected token and retries once")
		assert.Equal(t, number, p.CustomerNumber)

		after := state(t)
		require.NotNil(t, after.Customer)
		assert.NotEqual(t, before.Customer.AccessToken, after.Customer.AccessToken)
		assert.NotEqual(t, string(before.Customer.RefreshToken), string(after.Customer.RefreshToken), "the rotated refresh token is saved")
		assert.Equal(t, sessionID, after.Customer.SessionID)
		calls := tg.requests(opProfileGet)[profiles:]
		if assert.Len(t, calls, 2, "the rejected call and its retry") {
			assert.Equal(t, http.StatusUnauthorized, calls[0].Status)
			assert.Equal(t, string(before.Customer.AccessToken), calls[0].Bearer())
			assert.Equal(t, http.StatusOK, calls[1].Status)
			assert.Equal(t, string(after.Customer.AccessToken), calls[1].Bearer())
		}
		r := tg.lastRequest(t, opRefresh)
		assert.Equal(t, string(after.Anonymous.AccessToken), r.Bearer(), "the refresh is authorized with the anonymous token")
		assert.Equal(t, string(before.Customer.RefreshToken), r.Query.Get("refreshToken"))
		assert.Empty(t, reported())
	})

	s.step("concurrent calls on a revoked token share one refresh", func(t *testing.T) {
		tg.need(t, tg.admin != nil && tg.log != nil,
			fmt.Sprintf(missingAdmin, "server-side revocation of the customer's access token"))
		before := state(t)
		require.True(t, tg.admin.RevokeToken(string(before.Customer.AccessToken)))
		refreshes := len(tg.requests(opRefresh))
		const n = 25
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() { _, errs[i] = sess.Client().Profile.Get(ctx, nil) })
		}
		wg.Wait()
		for i, err := range errs {
			assert.NoError(t, err, "call %d", i)
		}
		// A second refresh would send the rotated-away refresh token and
		// lose the customer session.
		assert.Len(t, tg.requests(opRefresh)[refreshes:], 1, "one refresh for all callers")
		assert.NotEqual(t, before.Customer.AccessToken, state(t).Customer.AccessToken)
		loggedIn, err := sess.LoggedIn(ctx)
		require.NoError(t, err)
		assert.True(t, loggedIn)
	})

	s.step("legal entity switch on the session", func(t *testing.T) {
		tg.need(t, tg.admin != nil, fmt.Sprintf(missingAdmin, "a B2B legal entity assigned to the test customer"))
		require.True(t, tg.admin.AssignLegalEntity(number, legalEntity))
		tok, err := sess.SwitchLegalEntity(ctx, legalEntity.ID)
		require.NoError(t, err)
		assert.Equal(t, legalEntity.ID, tok.LegalEntityID)
		assert.Equal(t, sessionID, tok.SessionID)
		assert.Equal(t, string(tok.AccessToken), string(state(t).Customer.AccessToken), "the rescoped token is stored")
		info, err := sess.Client().Auth.Validate(ctx)
		require.NoError(t, err)
		assert.Equal(t, legalEntity.ID, info.LegalEntityID)
		if tg.log != nil {
			assert.Equal(t, legalEntity.ID, tg.lastRequest(t, opRefresh).Query.Get("legalEntityId"))
		}
	})

	s.step("leaving the legal entity: back to the customer's own token", func(t *testing.T) {
		tg.need(t, tg.admin != nil, fmt.Sprintf(missingAdmin, "a B2B legal entity assigned to the test customer"))
		tok, err := sess.LeaveLegalEntity(ctx)
		require.NoError(t, err)
		assert.Empty(t, tok.LegalEntityID)
		assert.Equal(t, sessionID, tok.SessionID)
		assert.Equal(t, tok.AccessToken, state(t).Customer.AccessToken, "the unscoped token is stored")
		info, err := sess.Client().Auth.Validate(ctx)
		require.NoError(t, err)
		assert.Empty(t, info.LegalEntityID)
		if tg.log != nil {
			assert.False(t, tg.lastRequest(t, opRefresh).Query.Has("legalEntityId"))
		}
	})

	s.must("anonymous refresh token past its lifetime: a new session, reported", func(t *testing.T) {
		before := state(t)
		tg.clock.Advance(before.Anonymous.RefreshExpiry.Sub(tg.clock.Now()) + time.Second)
		id, err := sess.SessionID(ctx)
		require.NoError(t, err)
		assert.NotEqual(t, sessionID, id, "a new anonymous session")
		assert.Equal(t, []emporix.SessionChange{{
			Key: emporix.Secret(key), OldSessionID: sessionID, NewSessionID: id, Reason: emporix.ReasonRefreshExpired,
		}}, reported(), "the change is reported so the cart can move")
		after := state(t)
		assert.Equal(t, id, after.Anonymous.SessionID)
		require.NotNil(t, after.Customer, "the customer token is still valid")
		if tg.log != nil {
			assert.Len(t, tg.requests(opAnonLogin), 2, "one new anonymous login")
		}
		sessionID = id
	})

	s.must("customer session past its lifetime: ErrSessionExpired, the guest stays", func(t *testing.T) {
		before := state(t)
		tg.clock.Advance(before.Customer.Expiry.Sub(tg.clock.Now()) + time.Second)
		_, err := sess.Client().Profile.Get(ctx, nil)
		require.ErrorIs(t, err, emporix.ErrSessionExpired, "neither the customer token nor its refresh token is usable")

		loggedIn, err := sess.LoggedIn(ctx)
		require.NoError(t, err)
		assert.False(t, loggedIn, "the dead customer token was dropped")
		after := state(t)
		assert.Nil(t, after.Customer)
		require.NotNil(t, after.Anonymous)
		// The anonymous refresh token died in the meantime too: another
		// new session, reported.
		// Then the ended login is reported, for the guest session that
		// goes on.
		if ch := reported(); assert.Len(t, ch, 3) {
			assert.Equal(t, emporix.SessionChange{
				Key: emporix.Secret(key), OldSessionID: sessionID, NewSessionID: after.Anonymous.SessionID, Reason: emporix.ReasonRefreshExpired,
			}, ch[1])
			ended := ch[2]
			assert.Equal(t, emporix.ReasonLoginEnded, ended.Reason)
			assert.Equal(t, after.Anonymous.SessionID, ended.OldSessionID)
			assert.Equal(t, after.Anonymous.SessionID, ended.NewSessionID)
			if tg.log != nil {
				assert.NotEmpty(t, ended.CustomerNumber, "the fake's SaaS token names the customer")
			}
		}
		sessionID = after.Anonymous.SessionID
		guest, err := sess.Client().Profile.Get(ctx, nil)
		require.NoError(t, err, "the guest session goes on")
		assert.True(t, guest.Anonymous())
	})

	// The other logins attach their customer token to a session the same
	// way; each runs on a session of its own.
	otherLogin := func(t *testing.T, login func(*emporix.Session) *emporix.Token) {
		t.Helper()
		other := m.Session(emporix.NewSessionKey())
		id, err := other.SessionID(ctx)
		require.NoError(t, err)
		tok := login(other)
		assertCustomerToken(t, tg, tok, id)
		loggedIn, err := other.LoggedIn(ctx)
		require.NoError(t, err)
		assert.True(t, loggedIn)
		st, err := other.State(ctx)
		require.NoError(t, err)
		require.NotNil(t, st.Customer)
		assert.Equal(t, string(tok.AccessToken), string(st.Customer.AccessToken), "the customer token is stored")
		info, err := other.Client().Auth.Validate(ctx)
		require.NoError(t, err)
		assert.Equal(t, id, info.SessionID)
		assert.Len(t, reported(), 3, "a login is no session change")
	}

	s.step("social login on a session", func(t *testing.T) {
		tg.need(t, tg.social != nil, missingSocial)
		code := e2eSecret("auth0-code")
		tg.social.AddSocialCode(code, emporixtest.SocialCode{Email: e2eEmail("session-social")})
		otherLogin(t, func(other *emporix.Session) *emporix.Token {
			tok, err := other.SocialLogin(ctx, &emporix.SocialLoginRequest{Code: emporix.Secret(code), RedirectURI: "https://shop.example.com/callback"})
			require.NoError(t, err)
			if tg.log != nil {
				st, err := other.State(ctx)
				require.NoError(t, err)
				assert.Equal(t, st.Anonymous.SessionID, tg.lastRequest(t, opSocialLogin).Header.Get("session-id"))
			}
			return tok
		})
	})

	s.step("token exchange on a session", func(t *testing.T) {
		tg.need(t, tg.subjects != nil, missingSubject)
		subject := e2eSecret("idp-access-token")
		tg.subjects.AddSubjectToken(subject, emporixtest.Subject{Email: email})
		otherLogin(t, func(other *emporix.Session) *emporix.Token {
			tok, err := other.ExchangeToken(ctx, &emporix.ExchangeRequest{SubjectAccessToken: emporix.Secret(subject)})
			require.NoError(t, err)
			return tok
		})
	})

	s.step("double opt-in on a session", func(t *testing.T) {
		tg.need(t, tg.admin != nil && tg.mail != nil,
			"needs a tenant in double opt-in mode and the opt-in token the service e-mails; only emporixtest provides both")
		tg.admin.SetSignupMode(emporixtest.SignupDoubleOptIn)
		defer tg.admin.SetSignupMode(emporixtest.SignupActive)
		optInEmail := e2eEmail("session-optin")
		otherLogin(t, func(other *emporix.Session) *emporix.Token {
			tg.signUp(t, other.Client(), optInEmail, "password123")
			token := tg.mail.LastToken(emporixtest.MailOptIn, optInEmail)
			require.NotEmpty(t, token, "the opt-in e-mail")
			tok, err := other.ConfirmOptIn(ctx, token)
			require.NoError(t, err)
			return tok
		})
	})

	s.must("Session.Logout removes the session", func(t *testing.T) {
		tok, err := sess.Login(ctx, &emporix.LoginRequest{Email: email, Password: emporix.Secret(password)})
		require.NoError(t, err, "logging in again")
		assert.Equal(t, sessionID, tok.SessionID)

		require.NoError(t, sess.Logout(ctx))
		_, _, err = store.Load(ctx, key)
		require.ErrorIs(t, err, emporix.ErrSessionNotFound, "the session is gone from the store")
		loggedIn, err := sess.LoggedIn(ctx)
		require.NoError(t, err)
		assert.False(t, loggedIn)
		_, err = tg.client.WithToken(tok).Auth.Validate(ctx)
		requireAPIError(t, err, emporix.ErrUnauthorized, http.StatusUnauthorized, "the token was invalidated on the server")
		if tg.log != nil {
			r := tg.lastRequest(t, opLogout)
			assert.Equal(t, string(tok.AccessToken), r.Query.Get("accessToken"))
			assert.Equal(t, http.StatusNoContent, r.Status)
		}

		// The key's next use starts afresh: nothing to move, nothing reported.
		id, err := sess.SessionID(ctx)
		require.NoError(t, err)
		assert.NotEqual(t, sessionID, id)
		assert.Len(t, reported(), 3, "a fresh session is not a change")
		require.NoError(t, sess.Logout(ctx), "logging out a guest just forgets the session")
		_, _, err = store.Load(ctx, key)
		require.ErrorIs(t, err, emporix.ErrSessionNotFound)
	})

	s.step("no secret in the SDK's log", func(t *testing.T) {
		tg.assertNoSecretsLogged(t)
		assert.Contains(t, tg.sdkLog.String(), "shopper session ID changed", "session changes are logged")
	})
}

// assertToken checks what every token has.
func assertToken(t *testing.T, tg *e2eTarget, tok *emporix.Token, kind emporix.TokenKind) {
	t.Helper()
	require.NotNil(t, tok)
	assert.Equal(t, kind, tok.Kind)
	assert.NotEmpty(t, tok.AccessToken)
	assert.True(t, strings.EqualFold("Bearer", tok.TokenType), "token type %q", tok.TokenType)
	assert.WithinDuration(t, tg.clock.Now(), tok.IssuedAt, time.Minute, "issued now")
	assert.True(t, tok.Expiry.After(tok.IssuedAt), "expiry %v after issue %v", tok.Expiry, tok.IssuedAt)
	assert.False(t, tok.ExpiredAt(tg.clock.Now()))
}

// assertCustomerToken checks a customer token from a login on the
// shopper's session.
func assertCustomerToken(t *testing.T, tg *e2eTarget, tok *emporix.Token, sessionID string) {
	t.Helper()
	assertToken(t, tg, tok, emporix.KindCustomer)
	assert.Equal(t, sessionID, tok.SessionID, "the anonymous session carries over")
	assert.NotEmpty(t, tok.RefreshToken)
	assert.NotEmpty(t, tok.SaasToken)
	assert.True(t, tok.RefreshExpiry.After(tok.IssuedAt), "refresh expiry %v", tok.RefreshExpiry)
}

// assertLifetimes checks the exact lifetimes of a token from the fake,
// whose clock stands still between answer and decoding.
func assertLifetimes(t *testing.T, tok *emporix.Token, access, refresh time.Duration) {
	t.Helper()
	assert.Equal(t, access, tok.Expiry.Sub(tok.IssuedAt), "access token lifetime")
	assert.Equal(t, refresh, tok.RefreshExpiry.Sub(tok.IssuedAt), "refresh token lifetime")
}

// requireAPIError checks that err is the service's answer with status and
// matches sentinel.
func requireAPIError(t *testing.T, err, sentinel error, status int, what string) *emporix.APIError {
	t.Helper()
	require.ErrorIs(t, err, sentinel, what)
	var apiErr *emporix.APIError
	require.True(t, errors.As(err, &apiErr), "%s: %v is not an *APIError", what, err)
	assert.Equal(t, status, apiErr.StatusCode, what)
	return apiErr
}

// assertNoSecret checks that an error shows none of the secrets the call
// carried, in its message or its details.
func assertNoSecret(t *testing.T, err error, secrets ...string) {
	t.Helper()
	shown := fmt.Sprintf("%v %+v %#v", err, err, err)
	var apiErr *emporix.APIError
	if errors.As(err, &apiErr) {
		shown += " " + apiErr.Path + " " + apiErr.Message + " " + apiErr.Body
	}
	for _, s := range secrets {
		assert.NotContains(t, shown, s, "the error shows a secret")
	}
}

// requestJSON decodes a logged request's JSON body.
func requestJSON(t *testing.T, r emporixtest.Request) map[string]any {
	t.Helper()
	var body map[string]any
	require.NoError(t, json.Unmarshal(r.Body, &body), "request body %q", r.Body)
	return body
}

// mailsOf returns the mails of one kind.
func mailsOf(mails []emporixtest.Mail, kind emporixtest.MailKind) []emporixtest.Mail {
	var out []emporixtest.Mail
	for _, m := range mails {
		if m.Kind == kind {
			out = append(out, m)
		}
	}
	return out
}
