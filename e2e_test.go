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

// The end-to-end suite: the Emporix customer-management tutorial and a
// shopper's visit through the Session layer, driven through the public API
// only, against the emporixtest fake by default or a sandbox tenant when
// EMPORIX_API_URL, EMPORIX_TENANT and EMPORIX_CLIENT_ID are set (see
// e2e_env_test.go). Each flow is a table of named steps run in order as
// subtests sharing the flow's state (see runSteps). Each step names the
// spec operationIds it calls: on the fake the request log must show exactly
// those, and TestEveryOperationIsEverywhere checks that the tables together
// call every operation of the SDK.

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

// e2eFlows are the flows of the suite, each on a target of its own.
var e2eFlows = []e2eFlow{
	flowOf("Tutorial", newTutorialState, tutorialSteps),
	flowOf("Session", newSessionState, sessionSteps),
}

// TestEndToEnd runs every flow, each against a target of its own (see
// newE2ETarget in e2e_env_test.go).
func TestEndToEnd(t *testing.T) {
	for _, f := range e2eFlows {
		t.Run(f.name, func(t *testing.T) {
			tg := newE2ETarget(t)
			if tg.fake() {
				t.Parallel() // each on a fake of its own; a sandbox gets one flow at a time
			}
			t.Logf("%s flow against %s", f.name, tg.name)
			f.run(t, tg)
		})
	}
}

// legalEntity is the B2B legal entity of the tutorial's sign-up example.
var legalEntity = emporixtest.LegalEntity{ID: "67e162a3ad4e2f12bc4f9306", Name: "ABC", ContactAssignmentID: "91033918"}

// tutorialState is what the tutorial's steps share: the shopper's
// anonymous token, the customer's token and credentials.
type tutorialState struct {
	*e2eTarget
	anon, cust              *emporix.Token
	email, password, number string
	canLogIn                bool   // the account is active (or was activated)
	pendingEmail            string // the e-mail change requested, awaiting confirmation
	address                 *emporix.Address
}

func newTutorialState(_ *testing.T, tg *e2eTarget) *tutorialState {
	return &tutorialState{e2eTarget: tg, email: e2eEmail("tutorial"), password: "password123"}
}

// shopper is the guest's client: the anonymous token only.
func (st *tutorialState) shopper() *emporix.Client { return st.as(nil) }

// me is the logged-in customer's client.
func (st *tutorialState) me() *emporix.Client { return st.as(st.cust) }

// as is a client for another customer token on the shopper's session.
func (st *tutorialState) as(cust *emporix.Token) *emporix.Client {
	return st.client.WithTokenSource(emporix.StaticTokens(st.anon, cust))
}

// login logs email in on the shopper's session and checks the token.
func (st *tutorialState) login(t *testing.T, email, password string) *emporix.Token {
	t.Helper()
	cust, err := st.shopper().Auth.Login(t.Context(), &emporix.LoginRequest{Email: email, Password: emporix.Secret(password)})
	require.NoError(t, err, "login as %s", email)
	st.assertCustomerToken(t, cust, st.anon.SessionID)
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

// tutorialAddress is the address the tutorial adds beside the sign-up one.
var tutorialAddress = emporix.AddressCreate{
	ContactName: "John Doe", CompanyName: "Emporix", Street: "Platz der Republik", StreetNumber: "1",
	ZipCode: "11011", City: "Berlin", Country: "DE", State: "Berlin", ContactPhone: "123456789",
	Tags: []string{emporix.TagBilling},
}

// tutorialSteps walk the tutorial: a guest, sign-up and activation, the
// profile and addresses, the credentials, the other logins and logout.
var tutorialSteps = []e2eStep[*tutorialState]{
	{"anonymous login", []string{opAnonLogin, opProfileGet}, func(t *testing.T, st *tutorialState) {
		anon, err := st.client.Auth.AnonymousLogin(t.Context(),
			&emporix.SessionContext{Currency: "EUR", SiteCode: "main", Language: "EN", TargetLocation: "DE"})
		require.NoError(t, err)
		st.assertToken(t, anon, emporix.KindAnonymous)
		assert.NotEmpty(t, anon.SessionID, "the session ID the guest cart is keyed by")
		assert.NotEmpty(t, anon.RefreshToken)
		assert.True(t, anon.RefreshExpiry.After(anon.Expiry), "the refresh token outlives the access token")
		assert.Contains(t, anon.Scope, "tenant="+st.client.Tenant())
		if l := st.lifetimes; l != nil {
			assertLifetimes(t, anon, l.AnonymousAccess, l.AnonymousRefresh)
		}
		st.anon = anon

		guest := profile(t, st.shopper())
		assert.True(t, guest.Anonymous(), "the anonymous pseudo-customer")
		assert.Equal(t, emporix.AnonymousCustomerNumber, guest.CustomerNumber)
		assert.Empty(t, guest.Accounts)
		if r, ok := st.sentWith(t, opAnonLogin, nil, "anonymous login needs no token"); ok {
			for name, want := range map[string]string{"tenant": st.client.Tenant(), "client_id": st.client.ClientID(),
				"currency": "EUR", "siteCode": "main", "language": "EN", "targetLocation": "DE"} {
				assert.Equal(t, want, r.Query.Get(name), name)
			}
			assert.Equal(t, string(anon.AccessToken), st.lastRequest(t, opProfileGet).Bearer())
		}
	}},
	{"anonymous refresh keeps the session ID", []string{opAnonRefresh, opProfileGet}, func(t *testing.T, st *tutorialState) {
		old := st.anon
		if st.clock.movesServer() {
			// Let the token expire on the service: refreshing, not a new
			// anonymous login, is what keeps the session.
			st.clock.Advance(old.Expiry.Sub(st.clock.Now()) + time.Second)
			assert.True(t, old.ExpiredAt(st.clock.Now()))
			_, err := st.shopper().Profile.Get(t.Context(), nil)
			requireAPIError(t, err, emporix.ErrTokenExpired, http.StatusUnauthorized, "an expired anonymous token")
		}
		anon, err := st.client.Auth.AnonymousRefresh(t.Context(), old)
		require.NoError(t, err)
		st.assertToken(t, anon, emporix.KindAnonymous)
		assert.Equal(t, old.SessionID, anon.SessionID, "the session ID survives the refresh")
		assert.NotEmpty(t, anon.RefreshToken)
		assert.False(t, anon.ExpiredAt(st.clock.Now()))
		if r, ok := st.sent(t, opAnonRefresh); ok {
			assert.NotEqual(t, string(old.AccessToken), string(anon.AccessToken), "a new access token")
			assert.Equal(t, old.RefreshToken, anon.RefreshToken, "anonymous refresh tokens do not rotate")
			assert.Equal(t, old.RefreshExpiry, anon.RefreshExpiry)
			assert.Equal(t, string(old.RefreshToken), r.Query.Get("refresh_token"))
			assert.Equal(t, st.client.ClientID(), r.Query.Get("client_id"))
			assert.False(t, r.Query.Has("anonymous_token"), "the deprecated parameter is not sent")
			assert.Equal(t, st.lifetimes.AnonymousAccess, anon.Expiry.Sub(anon.IssuedAt), "a full new lifetime")
		}
		st.anon = anon
		assert.True(t, profile(t, st.shopper()).Anonymous(), "the refreshed token works")
	}},
	{"sign-up", []string{opSignup}, func(t *testing.T, st *tutorialState) {
		if st.admin != nil {
			// As in the tutorial, the tenant keeps new accounts inactive
			// until an employee activates them.
			st.admin.SetSignupMode(emporixtest.SignupInactive)
			defer st.admin.SetSignupMode(emporixtest.SignupActive)
		}
		number, err := st.shopper().Auth.Signup(t.Context(), tutorialSignup(st.email, st.password))
		require.NoError(t, err)
		require.NotEmpty(t, number, "the customer number")
		st.number = number
		if st.admin != nil {
			info, ok := st.admin.CustomerByNumber(number)
			require.True(t, ok, "the fake stored customer %s", number)
			assert.True(t, strings.EqualFold(st.email, info.Email), "login e-mail %q", info.Email)
			assert.Equal(t, "John", info.FirstName)
			assert.Len(t, info.AddressIDs, 1, "the sign-up address")
			assert.False(t, info.Active, "inactive until activated")
		}
		if r, ok := st.sentWith(t, opSignup, st.anon, "sign-up is authorized with the anonymous token"); ok {
			assert.Equal(t, http.StatusCreated, r.Status)
			body := requestJSON(t, r)
			assert.Equal(t, st.email, body["email"])
			assert.Equal(t, "John", body["customerDetails"].(map[string]any)["firstName"])
			assert.Equal(t, "Berlin", body["customerAddress"].(map[string]any)["city"])
		}
	}},
	{"duplicate sign-up is a conflict", []string{opSignup}, func(t *testing.T, st *tutorialState) {
		_, err := st.shopper().Auth.Signup(t.Context(), &emporix.SignupRequest{Email: st.email, Password: "password456"})
		requireAPIError(t, err, emporix.ErrConflict, http.StatusConflict, "a second sign-up with the same e-mail", "password456")
	}},
	{"activation by an employee", []string{opLogin, opServiceToken, opActivate}, func(t *testing.T, st *tutorialState) {
		_, err := st.shopper().Auth.Login(t.Context(), &emporix.LoginRequest{Email: st.email, Password: emporix.Secret(st.password)})
		switch {
		case st.admin != nil:
			requireAPIError(t, err, emporix.ErrUnauthorized, http.StatusUnauthorized, "login before activation")
		case err == nil:
			st.canLogIn = true
			t.Logf("%s activated the account at sign-up", st.name)
		default:
			t.Logf("login before activation: %v", err)
		}
		if st.service == nil {
			if st.canLogIn {
				t.Skipf("skipped on %s: %s and %s are not set (the tenant activates sign-ups itself, so login can go on)",
					st.name, envServiceID, envServiceSecret)
			}
			t.Skipf("skipped on %s: the new account is inactive and %s and %s are not set to activate it",
				st.name, envServiceID, envServiceSecret)
		}
		svc, err := st.client.Employee.ServiceToken(t.Context(), st.service)
		require.NoError(t, err, "service token")
		st.assertToken(t, svc, emporix.KindService)
		assert.Empty(t, svc.RefreshToken, "client credentials have no refresh")
		assert.True(t, svc.RefreshExpiry.IsZero())
		assert.NotEmpty(t, svc.Scope)
		if l := st.lifetimes; l != nil {
			assert.Equal(t, l.ServiceAccess, svc.Expiry.Sub(svc.IssuedAt))
		}

		require.NoError(t, st.client.Employee.ActivateCustomer(t.Context(), svc, st.number))
		st.canLogIn = true
		if st.admin != nil {
			info, _ := st.admin.CustomerByNumber(st.number)
			assert.True(t, info.Active, "activated")
			assert.False(t, info.OnHold)
		}
		if r, ok := st.sent(t, opServiceToken); ok {
			assert.Equal(t, "application/x-www-form-urlencoded", r.Header.Get("Content-Type"))
			r = st.lastRequest(t, opActivate)
			assert.Equal(t, "/customer/"+st.client.Tenant()+"/customers/"+st.number, r.Path)
			assert.Equal(t, string(svc.AccessToken), r.Bearer(), "activation is authorized with the service token")
			assert.JSONEq(t, `{"active":true,"onHold":false}`, string(r.Body))
		}
	}},
	{"login keeps the session ID", []string{opLogin}, func(t *testing.T, st *tutorialState) {
		if !st.canLogIn {
			require.Nil(t, st.service, "the activation step did not complete")
			st.halt(t, fmt.Sprintf("skipped on %s: the new account is inactive; set %s and %s so that the suite can activate it",
				st.name, envServiceID, envServiceSecret))
		}
		cust := st.login(t, st.email, st.password)
		assert.False(t, cust.InitialPassword)
		if l := st.lifetimes; l != nil {
			assertLifetimes(t, cust, l.CustomerAccess, l.CustomerRefresh)
		}
		if r, ok := st.sentWith(t, opLogin, st.anon, "login is authorized with the anonymous token"); ok {
			assert.Equal(t, "application/json", r.Header.Get("Content-Type"))
			assert.JSONEq(t, fmt.Sprintf(`{"email":%q,"password":%q}`, st.email, st.password), string(r.Body))
		}
		st.cust = cust
	}},
	{"validate", []string{opValidate}, func(t *testing.T, st *tutorialState) {
		info := validate(t, st.me(), st.anon.SessionID)
		assert.True(t, strings.EqualFold(st.email, info.Email), "e-mail %q", info.Email)
		assert.True(t, strings.EqualFold("Bearer", info.TokenType), "token type %q", info.TokenType)
		assert.NotEmpty(t, info.Scope)
		assert.Empty(t, info.LegalEntityID)
		assert.WithinDuration(t, st.cust.Expiry, info.Expiry, time.Minute, "the remaining lifetime")
		if _, ok := st.sentWith(t, opValidate, st.cust, ""); ok {
			assert.Contains(t, info.Scope, "customer.customerprofile_edit")
		}
	}},
	{"profile with addresses and mixins expanded", []string{opProfileGet}, func(t *testing.T, st *tutorialState) {
		p := profile(t, st.me(), "addresses", "mixin:*")
		assert.False(t, p.Anonymous())
		assert.Equal(t, st.number, p.CustomerNumber)
		assert.Equal(t, st.number, p.ID)
		assert.True(t, strings.EqualFold(st.email, p.ContactEmail), "contact e-mail %q", p.ContactEmail)
		assert.Equal(t, []string{"MR", "John", "Doe", "123456789", "Emporix", "en_US", "EUR", "main"},
			[]string{p.Title, p.FirstName, p.LastName, p.ContactPhone, p.Company, p.PreferredLanguage, p.PreferredCurrency, p.PreferredSite})
		if assert.Len(t, p.Accounts, 1) {
			assert.True(t, strings.EqualFold(st.email, p.Accounts[0].ID), "account %q", p.Accounts[0].ID)
			assert.Empty(t, p.Accounts[0].ProviderID)
		}
		if assert.Len(t, p.Addresses, 1, "the sign-up address") {
			a := p.Addresses[0]
			assert.NotEmpty(t, a.ID)
			assert.Equal(t, []string{"John Doe", "Platz der Republik", "Berlin", "DE"}, []string{a.ContactName, a.Street, a.City, a.Country})
			assert.ElementsMatch(t, []string{emporix.TagBilling, emporix.TagShipping}, a.Tags)
		}
		require.NotNil(t, p.Metadata, "metadata")
		assert.Positive(t, p.Version(), "metadata.version")
		if assert.NotNil(t, p.LastLogin, "lastLogin after a login") {
			assert.WithinDuration(t, st.clock.Now(), *p.LastLogin, time.Hour)
		}
		if r, ok := st.sent(t, opProfileGet); ok {
			assert.Equal(t, emporix.BusinessModelB2C, p.BusinessModel)
			if assert.NotNil(t, p.DefaultAddress) && len(p.Addresses) == 1 {
				assert.Equal(t, p.Addresses[0].ID, p.DefaultAddress.ID, "the first address is the default")
			}
			assert.Equal(t, "addresses,mixin:*", r.Query.Get("expand"))
		}
	}},
	{"profile update with metadata.version", []string{opProfileGet, opProfilePatch}, func(t *testing.T, st *tutorialState) {
		me := st.me()
		v := profile(t, me).Version()
		require.Positive(t, v, "GET /me reports metadata.version")

		require.NoError(t, me.Profile.Update(t.Context(), &emporix.ProfileUpdate{
			FirstName: emporix.Ptr("Johnny"), PreferredCurrency: emporix.Ptr("USD"),
			Metadata: &emporix.Metadata{Version: v},
		}))
		after := profile(t, me)
		assert.Equal(t, "Johnny", after.FirstName)
		assert.Equal(t, "USD", after.PreferredCurrency)
		assert.Equal(t, "Doe", after.LastName, "fields not sent are kept")
		assert.Greater(t, after.Version(), v, "the update moves the version")
		if r, ok := st.sent(t, opProfilePatch); ok {
			assert.Equal(t, v+1, after.Version())
			assert.Equal(t, "application/json", r.Header.Get("Content-Type"))
			assert.Equal(t, http.StatusOK, r.Status)
			assert.JSONEq(t, fmt.Sprintf(`{"firstName":"Johnny","preferredCurrency":"USD","metadata":{"version":%d}}`, v), string(r.Body))
		}

		// The version read before the update is stale now.
		err := me.Profile.Update(t.Context(), &emporix.ProfileUpdate{FirstName: emporix.Ptr("Stale"), Metadata: &emporix.Metadata{Version: v}})
		requireAPIError(t, err, emporix.ErrConflict, http.StatusConflict, "an update with a stale metadata.version")
		again := profile(t, me)
		assert.Equal(t, "Johnny", again.FirstName, "the stale update changed nothing")
		assert.Equal(t, after.Version(), again.Version())
	}},
	{"profile merge patch", []string{opProfilePatch, opProfileGet}, func(t *testing.T, st *tutorialState) {
		require.NoError(t, st.me().Profile.MergePatch(t.Context(), &emporix.ProfileUpdate{
			ContactPhone: emporix.Ptr("987654321"), MiddleName: emporix.Ptr("Q"),
		}))
		p := profile(t, st.me())
		assert.Equal(t, "987654321", p.ContactPhone)
		assert.Equal(t, "Q", p.MiddleName)
		assert.Equal(t, "Doe", p.LastName, "a merge patch keeps what it does not name")
		assert.Equal(t, "Emporix", p.Company)
		if r, ok := st.sent(t, opProfilePatch); ok {
			assert.Equal(t, "application/merge-patch+json", r.Header.Get("Content-Type"))
			assert.JSONEq(t, `{"contactPhone":"987654321","middleName":"Q"}`, string(r.Body))
		}
	}},
	{"address create", []string{opAddressCreate}, func(t *testing.T, st *tutorialState) {
		id, err := st.me().Addresses.Create(t.Context(), &tutorialAddress)
		require.NoError(t, err)
		require.NotEmpty(t, id, "the address ID")
		st.address = &emporix.Address{ID: id}
		if r, ok := st.sentWith(t, opAddressCreate, st.cust, ""); ok {
			assert.Equal(t, http.StatusCreated, r.Status)
		}
	}},
	{"address list", []string{opAddressList}, func(t *testing.T, st *tutorialState) {
		list := st.addresses(t, 2, "the sign-up address and the new one")
		i := slices.IndexFunc(list, func(a emporix.Address) bool { return a.ID == st.address.ID })
		require.GreaterOrEqual(t, i, 0, "the new address is listed")
		assert.Equal(t, "Berlin", list[i].City)
		assert.Equal(t, []string{emporix.TagBilling}, list[i].Tags)
	}},
	{"address get", []string{opAddressGet}, func(t *testing.T, st *tutorialState) {
		a := st.getAddress(t)
		c := tutorialAddress
		assert.Equal(t, st.address.ID, a.ID)
		assert.Equal(t, []string{c.ContactName, c.CompanyName, c.Street, c.StreetNumber, c.ZipCode, c.City, c.Country, c.State, c.ContactPhone},
			[]string{a.ContactName, a.CompanyName, a.Street, a.StreetNumber, a.ZipCode, a.City, a.Country, a.State, a.ContactPhone})
		assert.Equal(t, []string{emporix.TagBilling}, a.Tags)
		assert.False(t, a.IsDefault, "the sign-up address stays the default")
		if st.fake() {
			require.NotNil(t, a.Metadata)
			assert.Equal(t, 1, a.Metadata.Version)
		}
		st.address = a
	}},
	{"address update", []string{opAddressPatch, opAddressGet, opProfileGet}, func(t *testing.T, st *tutorialState) {
		var v int
		if st.address.Metadata != nil {
			v = st.address.Metadata.Version
		}
		u := &emporix.AddressUpdate{StreetNumber: emporix.Ptr("2"), StreetAppendix: emporix.Ptr("Platz"), IsDefault: emporix.Ptr(true)}
		if v > 0 {
			u.Metadata = &emporix.Metadata{Version: v}
		}
		me, id := st.me(), st.address.ID
		require.NoError(t, me.Addresses.Update(t.Context(), id, u))
		a := st.getAddress(t)
		assert.Equal(t, "2", a.StreetNumber)
		assert.Equal(t, "Platz", a.StreetAppendix)
		assert.True(t, a.IsDefault)
		assert.Equal(t, tutorialAddress.Street, a.Street, "fields not sent are kept")
		assert.Equal(t, []string{emporix.TagBilling}, a.Tags, "tags not sent are kept")
		if p := profile(t, me, "addresses"); assert.NotNil(t, p.DefaultAddress, "the default address") {
			assert.Equal(t, id, p.DefaultAddress.ID)
		}
		if r, ok := st.sent(t, opAddressPatch); ok {
			assert.Equal(t, http.MethodPatch, r.Method)
			assert.JSONEq(t, fmt.Sprintf(`{"streetNumber":"2","streetAppendix":"Platz","isDefault":true,"metadata":{"version":%d}}`, v), string(r.Body))
		}
		if v == 0 {
			t.Logf("%s reports no address metadata.version: the stale-version check is left out", st.name)
			return
		}
		err := me.Addresses.Update(t.Context(), id, &emporix.AddressUpdate{City: emporix.Ptr("Hamburg"), Metadata: &emporix.Metadata{Version: v}})
		requireAPIError(t, err, emporix.ErrConflict, http.StatusConflict, "an address update with a stale metadata.version")
		assert.Equal(t, "Berlin", st.getAddress(t).City, "the stale update changed nothing")
	}},
	{"address tags added", []string{opTagsAdd, opAddressGet}, func(t *testing.T, st *tutorialState) {
		require.NoError(t, st.me().Addresses.AddTags(t.Context(), st.address.ID, emporix.TagShipping, "CUSTOM"))
		assert.ElementsMatch(t, []string{emporix.TagBilling, emporix.TagShipping, "CUSTOM"}, st.getAddress(t).Tags)
		if r, ok := st.sent(t, opTagsAdd); ok {
			assert.Equal(t, "SHIPPING,CUSTOM", r.Query.Get("tags"))
			assert.Empty(t, r.Body)
		}
	}},
	{"address tags removed", []string{opTagsRemove, opAddressGet}, func(t *testing.T, st *tutorialState) {
		require.NoError(t, st.me().Addresses.RemoveTags(t.Context(), st.address.ID, emporix.TagBilling, "CUSTOM"))
		a := st.getAddress(t)
		assert.Equal(t, []string{emporix.TagShipping}, a.Tags)
		assert.True(t, a.HasTag(emporix.TagShipping))
		assert.False(t, a.HasTag(emporix.TagBilling))
		if r, ok := st.sent(t, opTagsRemove); ok {
			assert.Equal(t, "BILLING,CUSTOM", r.Query.Get("tags"))
		}
	}},
	{"address delete", []string{opAddressDelete, opAddressList, opAddressGet}, func(t *testing.T, st *tutorialState) {
		me, id := st.me(), st.address.ID
		require.NoError(t, me.Addresses.Delete(t.Context(), id))
		list := st.addresses(t, 1, "the sign-up address remains")
		assert.False(t, slices.ContainsFunc(list, func(a emporix.Address) bool { return a.ID == id }), "the address is gone")
		_, err := me.Addresses.Get(t.Context(), id)
		requireAPIError(t, err, emporix.ErrNotFound, http.StatusNotFound, "the deleted address")
		err = me.Addresses.Delete(t.Context(), id)
		requireAPIError(t, err, emporix.ErrNotFound, http.StatusNotFound, "deleting it again")
	}},
	{"customer refresh rotates the refresh token", []string{opRefresh, opValidate}, func(t *testing.T, st *tutorialState) {
		old := st.cust
		cust, err := st.me().Auth.RefreshCustomer(t.Context(), old, nil)
		require.NoError(t, err)
		st.assertCustomerToken(t, cust, st.anon.SessionID)
		assert.Equal(t, string(old.SaasToken), string(cust.SaasToken), "the refresh answer has no SaaS token: it is carried forward")
		if r, ok := st.sentWith(t, opRefresh, st.anon, "refresh is authorized with the anonymous token"); ok {
			assert.NotEqual(t, old.AccessToken, cust.AccessToken)
			assert.NotEqual(t, string(old.RefreshToken), string(cust.RefreshToken), "the refresh token rotates")
			assertLifetimes(t, cust, st.lifetimes.CustomerAccess, st.lifetimes.CustomerRefresh)
			assert.Equal(t, string(old.RefreshToken), r.Query.Get("refreshToken"))
			assert.False(t, r.Query.Has("legalEntityId"))

			_, err = st.me().Auth.RefreshCustomer(t.Context(), old, nil)
			requireAPIError(t, err, emporix.ErrUnauthorized, http.StatusUnauthorized, "the spent refresh token")
		} else if old.RefreshToken == cust.RefreshToken {
			t.Logf("%s did not rotate the customer refresh token", st.name)
		}
		st.cust = cust
		validate(t, st.me(), st.anon.SessionID) // the refreshed token is valid
	}},
	{"legal entity switch", []string{opProfileGet, opRefresh, opValidate}, func(t *testing.T, st *tutorialState) {
		st.need(t, st.admin != nil, fmt.Sprintf(missingAdmin, "a B2B legal entity assigned to the test customer"))
		require.True(t, st.admin.AssignLegalEntity(st.number, legalEntity))
		p := profile(t, st.me())
		require.NotNil(t, p.B2B)
		assert.Equal(t, []emporix.LegalEntity{{ID: legalEntity.ID, Name: legalEntity.Name, ContactAssignmentID: legalEntity.ContactAssignmentID}},
			p.B2B.LegalEntities)

		cust, err := st.me().Auth.RefreshCustomer(t.Context(), st.cust, &emporix.RefreshOptions{LegalEntityID: legalEntity.ID})
		require.NoError(t, err)
		st.assertCustomerToken(t, cust, st.anon.SessionID)
		assert.Equal(t, legalEntity.ID, cust.LegalEntityID)
		if r, ok := st.sent(t, opRefresh); ok {
			assert.Equal(t, legalEntity.ID, r.Query.Get("legalEntityId"))
		}
		st.cust = cust
		assert.Equal(t, legalEntity.ID, validate(t, st.me(), st.anon.SessionID).LegalEntityID, "the token is scoped to the legal entity")

		_, err = st.me().Auth.RefreshCustomer(t.Context(), st.cust, &emporix.RefreshOptions{LegalEntityID: "not-assigned"})
		requireAPIError(t, err, emporix.ErrBadRequest, http.StatusBadRequest, "a legal entity the customer is not assigned to")
	}},
	{"password change", []string{opPasswordChange, opLogin}, func(t *testing.T, st *tutorialState) {
		const newPassword = "P@ssw0rd123"
		me := st.me()
		if st.fake() { // a sandbox might count the wrong password towards a lockout
			err := me.Credentials.ChangePassword(t.Context(), &emporix.PasswordChange{CurrentPassword: "wrong-password", NewPassword: "whatever123"})
			requireAPIError(t, err, emporix.ErrBadRequest, http.StatusBadRequest, "a wrong current password")
		}
		require.NoError(t, me.Credentials.ChangePassword(t.Context(), &emporix.PasswordChange{CurrentPassword: emporix.Secret(st.password), NewPassword: newPassword}))
		if r, ok := st.sentWith(t, opPasswordChange, st.cust, ""); ok {
			assert.Equal(t, http.StatusNoContent, r.Status)
		}
		st.relogin(t, newPassword, "the old password")
	}},
	{"password reset request", []string{opResetRequest}, func(t *testing.T, st *tutorialState) {
		shopper := st.shopper()
		require.NoError(t, shopper.Credentials.RequestPasswordReset(t.Context(), &emporix.PasswordResetRequest{Email: st.email, Site: "main"}))
		// An unknown e-mail gets the same answer: nothing is revealed.
		nobody := e2eEmail("nobody")
		require.NoError(t, shopper.Credentials.RequestPasswordReset(t.Context(), &emporix.PasswordResetRequest{Email: nobody}))
		if st.mail != nil {
			if mails := mailsOf(st.mail.Outbox(st.email), emporixtest.MailPasswordReset); assert.Len(t, mails, 1) {
				assert.Equal(t, st.number, mails[0].CustomerNumber)
				assert.Equal(t, "main", mails[0].Site)
				assert.NotEmpty(t, mails[0].Token)
			}
			assert.Empty(t, st.mail.Outbox(nobody), "no e-mail to an unknown address")
		}
		st.sentWith(t, opResetRequest, st.anon, "authorized with the anonymous token")
	}},
	{"password reset with the e-mailed token", []string{opReset, opLogin}, func(t *testing.T, st *tutorialState) {
		st.need(t, st.mail != nil, fmt.Sprintf(missingMail, "password-reset"))
		token := st.mail.LastToken(emporixtest.MailPasswordReset, st.email)
		require.NotEmpty(t, token, "the reset token in the outbox")
		const resetPassword = "Reset-pw-456"
		shopper := st.shopper()
		require.NoError(t, shopper.Credentials.ResetPassword(t.Context(), &emporix.PasswordReset{Token: emporix.Secret(token), Password: resetPassword}))
		if r, ok := st.sentWith(t, opReset, st.anon, "authorized with the anonymous token"); ok {
			assert.JSONEq(t, fmt.Sprintf(`{"token":%q,"password":%q}`, token, resetPassword), string(r.Body))
		}
		err := shopper.Credentials.ResetPassword(t.Context(), &emporix.PasswordReset{Token: emporix.Secret(token), Password: "Another-pw-789"})
		requireAPIError(t, err, emporix.ErrBadRequest, http.StatusBadRequest, "a reset token is single-use", token, "Another-pw-789")
		st.relogin(t, resetPassword, "the password before the reset")
	}},
	{"e-mail change request", []string{opEmailChange, opProfileGet}, func(t *testing.T, st *tutorialState) {
		newEmail := e2eEmail("changed")
		require.NoError(t, st.me().Credentials.RequestEmailChange(t.Context(), &emporix.EmailChangeRequest{
			Email: st.email, Password: emporix.Secret(st.password), NewEmail: newEmail, SyncContactEmail: true,
		}))
		st.pendingEmail = newEmail
		if st.mail != nil {
			if mails := mailsOf(st.mail.Outbox(newEmail), emporixtest.MailEmailChange); assert.Len(t, mails, 1, "the confirmation goes to the new address") {
				assert.Equal(t, st.number, mails[0].CustomerNumber)
			}
			assert.Empty(t, mailsOf(st.mail.Outbox(st.email), emporixtest.MailEmailChange))
		}
		if r, ok := st.sentWith(t, opEmailChange, st.cust, "authorized with the customer token"); ok {
			assert.JSONEq(t, fmt.Sprintf(`{"email":%q,"password":%q,"newEmail":%q,"syncContactEmail":true}`,
				st.email, st.password, newEmail), string(r.Body))
		}
		// Nothing changes before the confirmation.
		p := profile(t, st.me())
		assert.True(t, strings.EqualFold(st.email, p.ContactEmail), "contact e-mail %q", p.ContactEmail)
	}},
	{"e-mail change confirmation with the e-mailed token", []string{opEmailConfirm, opLogin, opProfileGet}, func(t *testing.T, st *tutorialState) {
		st.need(t, st.mail != nil, fmt.Sprintf(missingMail, "e-mail change"))
		token := st.mail.LastToken(emporixtest.MailEmailChange, st.pendingEmail)
		require.NotEmpty(t, token, "the confirmation token in the outbox")
		shopper := st.shopper()
		require.NoError(t, shopper.Credentials.ConfirmEmailChange(t.Context(), token))
		if r, ok := st.sentWith(t, opEmailConfirm, st.anon, "confirmed with the anonymous token, despite the /me path"); ok {
			assert.JSONEq(t, fmt.Sprintf(`{"token":%q}`, token), string(r.Body))
		}
		err := shopper.Credentials.ConfirmEmailChange(t.Context(), token)
		requireAPIError(t, err, emporix.ErrBadRequest, http.StatusBadRequest, "a confirmation token is single-use", token)

		st.loginFails(t, st.email, st.password, "the old e-mail")
		st.email, st.pendingEmail = st.pendingEmail, ""
		st.cust = st.login(t, st.email, st.password)
		p := profile(t, st.me())
		assert.Equal(t, st.number, p.CustomerNumber)
		assert.True(t, strings.EqualFold(st.email, p.ContactEmail), "syncContactEmail moved the contact e-mail: %q", p.ContactEmail)
		if assert.Len(t, p.Accounts, 1) {
			assert.True(t, strings.EqualFold(st.email, p.Accounts[0].ID), "login account %q", p.Accounts[0].ID)
		}
	}},
	{"double opt-in", []string{opSignup, opLogin, opOptInResend, opOptInConfirm, opValidate, opProfileGet}, func(t *testing.T, st *tutorialState) {
		shopper, email, password := st.shopper(), e2eEmail("optin"), "password123"
		number := st.optInSignUp(t, shopper, email, password)
		st.loginFails(t, email, password, "login before the opt-in")

		first := st.mail.LastToken(emporixtest.MailOptIn, email)
		require.NoError(t, shopper.Auth.ResendOptIn(t.Context(), email))
		assert.Len(t, mailsOf(st.mail.Outbox(email), emporixtest.MailOptIn), 2, "the link was sent again")
		second := st.mail.LastToken(emporixtest.MailOptIn, email)
		require.NotEqual(t, first, second, "a new token")
		require.NoError(t, shopper.Auth.ResendOptIn(t.Context(), e2eEmail("nobody")), "an unknown e-mail gets the same answer")

		_, err := shopper.Auth.ConfirmOptIn(t.Context(), first)
		requireAPIError(t, err, emporix.ErrBadRequest, http.StatusBadRequest, "the superseded opt-in token", first)

		tok, err := shopper.Auth.ConfirmOptIn(t.Context(), second)
		require.NoError(t, err)
		st.assertCustomerToken(t, tok, st.anon.SessionID)
		if l := st.lifetimes; l != nil {
			assertLifetimes(t, tok, l.CustomerAccess, l.CustomerRefresh)
		}
		if r, ok := st.sentWith(t, opOptInConfirm, st.anon, ""); ok {
			assert.Equal(t, "/customer/"+st.client.Tenant()+"/signup/optin/"+second, r.Path)
			assert.Equal(t, http.StatusAccepted, st.lastRequest(t, opOptInResend).Status)
		}

		info := validate(t, st.as(tok), st.anon.SessionID)
		assert.True(t, strings.EqualFold(email, info.Email), "e-mail %q", info.Email)
		assert.Equal(t, number, profile(t, st.as(tok)).CustomerNumber)
		st.login(t, email, password) // the account is active now
	}},
	{"social login", []string{opSocialLogin, opProfileGet, opValidate}, func(t *testing.T, st *tutorialState) {
		st.need(t, st.social != nil, missingSocial)
		const redirect = "https://shop.example.com/callback"
		email, code, verifier := e2eEmail("social"), e2eSecret("auth0-code"), e2eSecret("pkce-verifier")
		st.social.AddSocialCode(code, emporixtest.SocialCode{
			Email: email, ProviderID: "auth0|1234567890", RedirectURI: redirect, CodeVerifier: verifier,
			FirstName: "Sam", LastName: "Social",
		})
		login := &emporix.SocialLoginRequest{Code: emporix.Secret(code), RedirectURI: redirect, CodeVerifier: emporix.Secret(verifier)}
		tok, err := st.shopper().Auth.SocialLogin(t.Context(), login)
		require.NoError(t, err)
		st.assertCustomerToken(t, tok, st.anon.SessionID)
		assert.NotEmpty(t, tok.SocialAccessToken)
		assert.NotEmpty(t, tok.SocialIDToken)
		assert.Positive(t, tok.SessionIdleTime)
		// The answer's expiries are strings; they are decoded all the same.
		if l := st.lifetimes; l != nil {
			assertLifetimes(t, tok, l.CustomerAccess, l.CustomerRefresh)
			assert.Equal(t, time.Hour, tok.SessionIdleTime)
		}
		if r, ok := st.sentWith(t, opSocialLogin, st.anon, ""); ok {
			var answer map[string]any
			require.NoError(t, json.Unmarshal(r.ResponseBody, &answer))
			assert.IsType(t, "", answer["expires_in"], "the service sends expires_in as a string here")
			assert.IsType(t, "", answer["refresh_token_expires_in"])
			assert.NotContains(t, answer, "session_id")
			assert.Equal(t, st.anon.SessionID, r.Header.Get("session-id"), "the anonymous session is kept through the login")
			assert.Equal(t, code, r.Query.Get("code"))
			assert.Equal(t, redirect, r.Query.Get("redirect_uri"))
			assert.Equal(t, verifier, r.Query.Get("code_verifier"))
			assert.Empty(t, r.Body)
		}

		p := profile(t, st.as(tok))
		assert.Equal(t, "Sam", p.FirstName)
		if assert.Len(t, p.Accounts, 1) {
			assert.Equal(t, "auth0|1234567890", p.Accounts[0].ProviderID)
		}
		validate(t, st.as(tok), st.anon.SessionID)

		_, err = st.shopper().Auth.SocialLogin(t.Context(), login)
		requireAPIError(t, err, emporix.ErrUnauthorized, http.StatusUnauthorized, "a used authorization code", code, verifier)
	}},
	{"token exchange", []string{opExchange, opValidate}, func(t *testing.T, st *tutorialState) {
		st.need(t, st.subjects != nil, missingSubject)
		subject := e2eSecret("idp-access-token")
		st.subjects.AddSubjectToken(subject, emporixtest.Subject{Email: st.email})
		st.subjects.AddExchangeConfig("site_PL")
		exchange := func(subject, config string) (*emporix.Token, error) {
			return st.shopper().Auth.ExchangeToken(t.Context(), &emporix.ExchangeRequest{SubjectAccessToken: emporix.Secret(subject), Config: config})
		}

		tok, err := exchange(subject, "")
		require.NoError(t, err)
		st.assertCustomerToken(t, tok, st.anon.SessionID)
		assert.Positive(t, tok.SessionIdleTime)
		if l := st.lifetimes; l != nil {
			assertLifetimes(t, tok, l.ExchangeAccess, l.ExchangeRefresh)
			assert.Equal(t, 120*time.Second, tok.SessionIdleTime)
		}
		if r, ok := st.sentWith(t, opExchange, st.anon, ""); ok {
			assert.Equal(t, subject, r.Query.Get("subjectAccessToken"))
			assert.False(t, r.Query.Has("config"))
			assert.Empty(t, r.Body, "query parameters, not an RFC 8693 form")
		}
		info := validate(t, st.as(tok), st.anon.SessionID)
		assert.True(t, strings.EqualFold(st.email, info.Email), "the existing account logged in: %q", info.Email)

		_, err = exchange(subject, "site_PL")
		require.NoError(t, err, "a configured exchange configuration")
		if r, ok := st.sent(t, opExchange); ok {
			assert.Equal(t, "site_PL", r.Query.Get("config"))
		}

		_, err = exchange(subject, "no_such_config")
		requireAPIError(t, err, emporix.ErrBadRequest, http.StatusBadRequest, "an unknown exchange configuration", subject)
		unknown := e2eSecret("unknown-subject")
		_, err = exchange(unknown, "")
		requireAPIError(t, err, emporix.ErrUnauthorized, http.StatusUnauthorized, "an unknown subject token", unknown)
	}},
	{"logout", []string{opLogout, opValidate, opProfileGet, opRefresh}, func(t *testing.T, st *tutorialState) {
		me, cust := st.me(), st.cust
		require.NoError(t, me.Auth.Logout(t.Context()))
		if r, ok := st.sentWith(t, opLogout, cust, ""); ok {
			assert.Equal(t, string(cust.AccessToken), r.Query.Get("accessToken"), "the token to invalidate is named in the query too")
			assert.Equal(t, http.StatusNoContent, r.Status)
		}
		_, err := me.Auth.Validate(t.Context())
		apiErr := requireAPIError(t, err, emporix.ErrUnauthorized, http.StatusUnauthorized, "the logged-out token", string(cust.AccessToken))
		_, err = me.Profile.Get(t.Context(), nil)
		requireAPIError(t, err, emporix.ErrUnauthorized, http.StatusUnauthorized, "the logged-out token")
		if st.fake() {
			assert.True(t, apiErr.TokenRejected())
			assert.Equal(t, emporix.ErrorCodeInvalidAccessToken, apiErr.ErrorCode)
			_, err = me.Auth.RefreshCustomer(t.Context(), cust, nil)
			requireAPIError(t, err, emporix.ErrUnauthorized, http.StatusUnauthorized, "the logged-out token's refresh token")
		}
		assert.True(t, profile(t, st.shopper()).Anonymous(), "the anonymous session outlives the logout")
	}},
	{"no secret in the SDK's log", nil, func(t *testing.T, st *tutorialState) { st.assertNoSecretsLogged(t) }},
}

// relogin checks that the customer's old password fails (why) and logs
// in with the new one.
func (st *tutorialState) relogin(t *testing.T, password, why string) {
	t.Helper()
	st.loginFails(t, st.email, st.password, why)
	st.password = password
	st.cust = st.login(t, st.email, password)
}

// addresses lists the customer's addresses, of which there must be n.
func (st *tutorialState) addresses(t *testing.T, n int, why string) []emporix.Address {
	t.Helper()
	list, err := st.me().Addresses.List(t.Context())
	require.NoError(t, err)
	assert.Len(t, list, n, why)
	return list
}

// getAddress gets the address the address steps work on.
func (st *tutorialState) getAddress(t *testing.T) *emporix.Address {
	t.Helper()
	a, err := st.me().Addresses.Get(t.Context(), st.address.ID)
	require.NoError(t, err)
	return a
}

// sessionState is what the session flow's steps share: one shopper's
// session, kept by a SessionManager in a MemoryStore, and the session
// changes it reported.
type sessionState struct {
	*e2eTarget
	m               *emporix.SessionManager
	store           *emporix.MemoryStore
	key             string
	sess            *emporix.Session
	email, password string
	sessionID       string
	number          string
	activated       bool

	mu      sync.Mutex
	changes []emporix.SessionChange
}

func newSessionState(t *testing.T, tg *e2eTarget) *sessionState {
	st := &sessionState{
		e2eTarget: tg, store: emporix.NewMemoryStore(emporix.WithStoreClock(tg.clock.Now)),
		key: emporix.NewSessionKey(), email: e2eEmail("session"), password: "password123",
	}
	m, err := emporix.NewSessionManager(tg.client, st.store,
		emporix.WithSessionContext(emporix.SessionContext{Currency: "EUR", SiteCode: "main"}),
		emporix.WithSessionChangeHook(func(_ context.Context, ch emporix.SessionChange) {
			st.mu.Lock()
			defer st.mu.Unlock()
			st.changes = append(st.changes, ch)
		}))
	require.NoError(t, err)
	st.m, st.sess = m, m.Session(st.key)
	return st
}

// reported returns the session changes reported so far.
func (st *sessionState) reported() []emporix.SessionChange {
	st.mu.Lock()
	defer st.mu.Unlock()
	return slices.Clone(st.changes)
}

// state returns the stored session.
func (st *sessionState) state(t *testing.T) *emporix.SessionState {
	t.Helper()
	s, _, err := st.store.Load(t.Context(), st.key)
	require.NoError(t, err, "the stored session")
	return s
}

// sessionIDOf returns a session's ID, which must be there.
func sessionIDOf(t *testing.T, sess *emporix.Session) string {
	t.Helper()
	id, err := sess.SessionID(t.Context())
	require.NoError(t, err)
	return id
}

// loggedIn reports whether sess holds a customer login.
func loggedIn(t *testing.T, sess *emporix.Session) bool {
	t.Helper()
	in, err := sess.LoggedIn(t.Context())
	require.NoError(t, err)
	return in
}

// otherLogin attaches the customer token of login to a new session of
// its own, as every login does.
func (st *sessionState) otherLogin(t *testing.T, login func(*emporix.Session) (*emporix.Token, error)) {
	t.Helper()
	other := st.m.Session(emporix.NewSessionKey())
	id := sessionIDOf(t, other)
	tok, err := login(other)
	require.NoError(t, err)
	st.assertCustomerToken(t, tok, id)
	assert.True(t, loggedIn(t, other))
	s, err := other.State(t.Context())
	require.NoError(t, err)
	require.NotNil(t, s.Customer)
	assert.Equal(t, string(tok.AccessToken), string(s.Customer.AccessToken), "the customer token is stored")
	validate(t, other.Client(), id)
	assert.Len(t, st.reported(), 3, "a login is no session change")
}

// sessionSteps walk a shopper's visit through the Session layer: the SDK
// keeps and refreshes the tokens, and the clock is moved to make them due.
var sessionSteps = []e2eStep[*sessionState]{
	{"session start", []string{opAnonLogin, opProfileGet}, func(t *testing.T, st *sessionState) {
		assert.False(t, loggedIn(t, st.sess))
		id := sessionIDOf(t, st.sess)
		require.NotEmpty(t, id)
		st.sessionID = id

		s := st.state(t)
		require.NotNil(t, s.Anonymous)
		assert.Nil(t, s.Customer)
		st.assertToken(t, s.Anonymous, emporix.KindAnonymous)
		assert.Equal(t, id, s.Anonymous.SessionID)
		assert.True(t, profile(t, st.sess.Client()).Anonymous())
		assert.Equal(t, id, sessionIDOf(t, st.m.Session(st.key)), "a new handle for the key finds the stored session")
		if st.log != nil {
			logins := st.requests(opAnonLogin)
			require.Len(t, logins, 1, "one anonymous login")
			assert.Equal(t, "EUR", logins[0].Query.Get("currency"))
			assert.Equal(t, "main", logins[0].Query.Get("siteCode"))
			assert.Equal(t, string(s.Anonymous.AccessToken), st.lastRequest(t, opProfileGet).Bearer())
		}
		assert.Empty(t, st.reported())
	}},
	{"sign-up", []string{opSignup, opServiceToken, opActivate}, func(t *testing.T, st *sessionState) {
		st.number = st.signUp(t, st.sess.Client(), st.email, st.password)
		st.activated = st.activate(t, st.number)
		st.sentWith(t, opSignup, st.state(t).Anonymous, "")
	}},
	{"login on the session", []string{opLogin}, func(t *testing.T, st *sessionState) {
		tok, err := st.sess.Login(t.Context(), &emporix.LoginRequest{Email: st.email, Password: emporix.Secret(st.password)})
		if err != nil && !st.activated {
			st.halt(t, fmt.Sprintf("skipped on %s: the new account cannot log in (%v); set %s and %s so that the suite can activate it",
				st.name, err, envServiceID, envServiceSecret))
		}
		require.NoError(t, err)
		st.assertCustomerToken(t, tok, st.sessionID)
		assert.True(t, loggedIn(t, st.sess))
		s := st.state(t)
		require.NotNil(t, s.Customer)
		assert.Equal(t, string(tok.AccessToken), string(s.Customer.AccessToken), "the customer token is stored")
		assert.Equal(t, st.sessionID, s.Anonymous.SessionID)
		st.sentWith(t, opLogin, s.Anonymous, "")
		assert.Empty(t, st.reported())
	}},
	{"rekey after login keeps the tokens under a fresh key", nil, func(t *testing.T, st *sessionState) {
		before := st.state(t)
		next, err := st.sess.Rekey(t.Context())
		require.NoError(t, err)
		require.NotEqual(t, st.key, next.Key())
		_, _, err = st.store.Load(t.Context(), st.key)
		require.ErrorIs(t, err, emporix.ErrSessionNotFound, "the old key names nothing")
		st.key, st.sess = next.Key(), next
		after := st.state(t)
		assert.Equal(t, before.Anonymous.AccessToken, after.Anonymous.AccessToken)
		require.NotNil(t, after.Customer)
		assert.Equal(t, before.Customer.AccessToken, after.Customer.AccessToken)
		assert.Equal(t, st.sessionID, sessionIDOf(t, st.sess), "the Emporix session (and the cart) stays")
		assert.Empty(t, st.reported())
	}},
	{"profile through Session.Client", []string{opProfileGet, opValidate}, func(t *testing.T, st *sessionState) {
		p := profile(t, st.sess.Client())
		assert.Equal(t, st.number, p.CustomerNumber)
		assert.True(t, strings.EqualFold(st.email, p.ContactEmail), "contact e-mail %q", p.ContactEmail)
		validate(t, st.sess.Client(), st.sessionID)
		st.sentWith(t, opProfileGet, st.state(t).Customer, "")
	}},
	{"anonymous token past its lifetime is refreshed with the same session ID", []string{opAnonRefresh, opProfileGet}, func(t *testing.T, st *sessionState) {
		before := st.state(t)
		st.clock.Advance(before.Anonymous.Expiry.Sub(st.clock.Now()) + time.Second)
		assert.Equal(t, st.sessionID, sessionIDOf(t, st.sess), "the session survives the refresh")

		after := st.state(t)
		assert.True(t, after.Anonymous.IssuedAt.After(before.Anonymous.IssuedAt), "a refreshed anonymous token")
		assert.False(t, after.Anonymous.ExpiredAt(st.clock.Now()))
		require.NotNil(t, after.Customer, "still logged in")
		assert.Equal(t, string(before.Customer.AccessToken), string(after.Customer.AccessToken), "the customer token was not due")
		if r, ok := st.sent(t, opAnonRefresh); ok {
			assert.NotEqual(t, before.Anonymous.AccessToken, after.Anonymous.AccessToken)
			assert.Len(t, st.requests(opAnonLogin), 1, "no new anonymous session")
			require.Len(t, st.requests(opAnonRefresh), 1)
			assert.Equal(t, string(before.Anonymous.RefreshToken), r.Query.Get("refresh_token"))
		}
		assert.Equal(t, st.number, profile(t, st.sess.Client()).CustomerNumber)
		assert.Empty(t, st.reported(), "no session change")
	}},
	{"revoked customer token is refreshed and the call retried", []string{opProfileGet, opRefresh}, func(t *testing.T, st *sessionState) {
		st.need(t, st.admin != nil && st.log != nil, fmt.Sprintf(missingAdmin, "server-side revocation of the customer's access token"))
		before := st.state(t)
		require.True(t, st.admin.RevokeToken(string(before.Customer.AccessToken)))
		profiles := len(st.requests(opProfileGet))

		assert.Equal(t, st.number, profile(t, st.sess.Client()).CustomerNumber, "the session renews the rejected token and retries once")

		after := st.state(t)
		require.NotNil(t, after.Customer)
		assert.NotEqual(t, before.Customer.AccessToken, after.Customer.AccessToken)
		assert.NotEqual(t, string(before.Customer.RefreshToken), string(after.Customer.RefreshToken), "the rotated refresh token is saved")
		assert.Equal(t, st.sessionID, after.Customer.SessionID)
		if calls := st.requests(opProfileGet)[profiles:]; assert.Len(t, calls, 2, "the rejected call and its retry") {
			assert.Equal(t, http.StatusUnauthorized, calls[0].Status)
			assert.Equal(t, string(before.Customer.AccessToken), calls[0].Bearer())
			assert.Equal(t, http.StatusOK, calls[1].Status)
			assert.Equal(t, string(after.Customer.AccessToken), calls[1].Bearer())
		}
		r := st.lastRequest(t, opRefresh)
		assert.Equal(t, string(after.Anonymous.AccessToken), r.Bearer(), "the refresh is authorized with the anonymous token")
		assert.Equal(t, string(before.Customer.RefreshToken), r.Query.Get("refreshToken"))
		assert.Empty(t, st.reported())
	}},
	{"concurrent calls on a revoked token share one refresh", []string{opProfileGet, opRefresh}, func(t *testing.T, st *sessionState) {
		st.need(t, st.admin != nil && st.log != nil, fmt.Sprintf(missingAdmin, "server-side revocation of the customer's access token"))
		before := st.state(t)
		require.True(t, st.admin.RevokeToken(string(before.Customer.AccessToken)))
		refreshes := len(st.requests(opRefresh))
		const n = 25
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() { _, errs[i] = st.sess.Client().Profile.Get(t.Context(), nil) })
		}
		wg.Wait()
		for i, err := range errs {
			assert.NoError(t, err, "call %d", i)
		}
		// A second refresh would send the rotated-away refresh token and
		// lose the customer session.
		assert.Len(t, st.requests(opRefresh)[refreshes:], 1, "one refresh for all callers")
		assert.NotEqual(t, before.Customer.AccessToken, st.state(t).Customer.AccessToken)
		assert.True(t, loggedIn(t, st.sess))
	}},
	{"legal entity switch on the session", []string{opRefresh, opValidate}, func(t *testing.T, st *sessionState) {
		st.need(t, st.admin != nil, fmt.Sprintf(missingAdmin, "a B2B legal entity assigned to the test customer"))
		require.True(t, st.admin.AssignLegalEntity(st.number, legalEntity))
		tok, err := st.sess.SwitchLegalEntity(t.Context(), legalEntity.ID)
		require.NoError(t, err)
		assert.Equal(t, legalEntity.ID, tok.LegalEntityID)
		assert.Equal(t, st.sessionID, tok.SessionID)
		assert.Equal(t, string(tok.AccessToken), string(st.state(t).Customer.AccessToken), "the rescoped token is stored")
		if r, ok := st.sent(t, opRefresh); ok {
			assert.Equal(t, legalEntity.ID, r.Query.Get("legalEntityId"))
		}
		assert.Equal(t, legalEntity.ID, validate(t, st.sess.Client(), st.sessionID).LegalEntityID)
	}},
	{"leaving the legal entity: back to the customer's own token", []string{opRefresh, opValidate}, func(t *testing.T, st *sessionState) {
		st.need(t, st.admin != nil, fmt.Sprintf(missingAdmin, "a B2B legal entity assigned to the test customer"))
		tok, err := st.sess.LeaveLegalEntity(t.Context())
		require.NoError(t, err)
		assert.Empty(t, tok.LegalEntityID)
		assert.Equal(t, st.sessionID, tok.SessionID)
		assert.Equal(t, tok.AccessToken, st.state(t).Customer.AccessToken, "the unscoped token is stored")
		if r, ok := st.sent(t, opRefresh); ok {
			assert.False(t, r.Query.Has("legalEntityId"))
		}
		assert.Empty(t, validate(t, st.sess.Client(), st.sessionID).LegalEntityID)
	}},
	{"anonymous refresh token past its lifetime: a new session, reported", []string{opAnonLogin}, func(t *testing.T, st *sessionState) {
		before := st.state(t)
		st.clock.Advance(before.Anonymous.RefreshExpiry.Sub(st.clock.Now()) + time.Second)
		id := sessionIDOf(t, st.sess)
		assert.NotEqual(t, st.sessionID, id, "a new anonymous session")
		assert.Equal(t, []emporix.SessionChange{{
			Key: emporix.Secret(st.key), OldSessionID: st.sessionID, NewSessionID: id, Reason: emporix.ReasonRefreshExpired,
		}}, st.reported(), "the change is reported so the cart can move")
		after := st.state(t)
		assert.Equal(t, id, after.Anonymous.SessionID)
		require.NotNil(t, after.Customer, "the customer token is still valid")
		if st.log != nil {
			assert.Len(t, st.requests(opAnonLogin), 2, "one new anonymous login")
		}
		st.sessionID = id
	}},
	{"customer session past its lifetime: ErrSessionExpired, the guest stays", []string{opAnonLogin, opProfileGet}, func(t *testing.T, st *sessionState) {
		before := st.state(t)
		st.clock.Advance(before.Customer.Expiry.Sub(st.clock.Now()) + time.Second)
		_, err := st.sess.Client().Profile.Get(t.Context(), nil)
		require.ErrorIs(t, err, emporix.ErrSessionExpired, "neither the customer token nor its refresh token is usable")

		assert.False(t, loggedIn(t, st.sess), "the dead customer token was dropped")
		after := st.state(t)
		assert.Nil(t, after.Customer)
		require.NotNil(t, after.Anonymous)
		// The anonymous refresh token died in the meantime too: another
		// new session, reported. Then the ended login is reported, for
		// the guest session that goes on.
		if ch := st.reported(); assert.Len(t, ch, 3) {
			assert.Equal(t, emporix.SessionChange{
				Key: emporix.Secret(st.key), OldSessionID: st.sessionID, NewSessionID: after.Anonymous.SessionID, Reason: emporix.ReasonRefreshExpired,
			}, ch[1])
			ended := ch[2]
			assert.Equal(t, emporix.ReasonLoginEnded, ended.Reason)
			assert.Equal(t, after.Anonymous.SessionID, ended.OldSessionID)
			assert.Equal(t, after.Anonymous.SessionID, ended.NewSessionID)
			if st.log != nil {
				assert.NotEmpty(t, ended.CustomerNumber, "the fake's SaaS token names the customer")
			}
		}
		st.sessionID = after.Anonymous.SessionID
		assert.True(t, profile(t, st.sess.Client()).Anonymous(), "the guest session goes on")
	}},
	// The other logins attach their customer token to a session the same
	// way; each runs on a session of its own.
	{"social login on a session", []string{opAnonLogin, opSocialLogin, opValidate}, func(t *testing.T, st *sessionState) {
		st.need(t, st.social != nil, missingSocial)
		code := e2eSecret("auth0-code")
		st.social.AddSocialCode(code, emporixtest.SocialCode{Email: e2eEmail("session-social")})
		st.otherLogin(t, func(other *emporix.Session) (*emporix.Token, error) {
			tok, err := other.SocialLogin(t.Context(), &emporix.SocialLoginRequest{Code: emporix.Secret(code), RedirectURI: "https://shop.example.com/callback"})
			if r, ok := st.sent(t, opSocialLogin); ok {
				assert.Equal(t, sessionIDOf(t, other), r.Header.Get("session-id"))
			}
			return tok, err
		})
	}},
	{"token exchange on a session", []string{opAnonLogin, opExchange, opValidate}, func(t *testing.T, st *sessionState) {
		st.need(t, st.subjects != nil, missingSubject)
		subject := e2eSecret("idp-access-token")
		st.subjects.AddSubjectToken(subject, emporixtest.Subject{Email: st.email})
		st.otherLogin(t, func(other *emporix.Session) (*emporix.Token, error) {
			return other.ExchangeToken(t.Context(), &emporix.ExchangeRequest{SubjectAccessToken: emporix.Secret(subject)})
		})
	}},
	{"double opt-in on a session", []string{opAnonLogin, opSignup, opOptInConfirm, opValidate}, func(t *testing.T, st *sessionState) {
		st.need(t, st.admin != nil && st.mail != nil, missingOptIn)
		optInEmail := e2eEmail("session-optin")
		st.otherLogin(t, func(other *emporix.Session) (*emporix.Token, error) {
			st.optInSignUp(t, other.Client(), optInEmail, "password123")
			return other.ConfirmOptIn(t.Context(), st.mail.LastToken(emporixtest.MailOptIn, optInEmail))
		})
	}},
	{"Session.Logout removes the session", []string{opLogin, opLogout, opValidate, opAnonLogin}, func(t *testing.T, st *sessionState) {
		tok, err := st.sess.Login(t.Context(), &emporix.LoginRequest{Email: st.email, Password: emporix.Secret(st.password)})
		require.NoError(t, err, "logging in again")
		assert.Equal(t, st.sessionID, tok.SessionID)

		gone := func(why string) {
			t.Helper()
			require.NoError(t, st.sess.Logout(t.Context()), why)
			_, _, err = st.store.Load(t.Context(), st.key)
			require.ErrorIs(t, err, emporix.ErrSessionNotFound, "the session is gone from the store")
		}
		gone("logging out the customer")
		assert.False(t, loggedIn(t, st.sess))
		_, err = st.client.WithToken(tok).Auth.Validate(t.Context())
		requireAPIError(t, err, emporix.ErrUnauthorized, http.StatusUnauthorized, "the token was invalidated on the server")
		if r, ok := st.sent(t, opLogout); ok {
			assert.Equal(t, string(tok.AccessToken), r.Query.Get("accessToken"))
			assert.Equal(t, http.StatusNoContent, r.Status)
		}

		// The key's next use starts afresh: nothing to move, nothing reported.
		assert.NotEqual(t, st.sessionID, sessionIDOf(t, st.sess))
		assert.Len(t, st.reported(), 3, "a fresh session is not a change")
		gone("logging out a guest just forgets the session")
	}},
	{"no secret in the SDK's log", nil, func(t *testing.T, st *sessionState) {
		st.assertNoSecretsLogged(t)
		assert.Contains(t, st.sdkLog.String(), "shopper session ID changed", "session changes are logged")
	}},
}

// profile returns the profile c's token sees: GET /me, which must succeed,
// with the given expansions.
func profile(t *testing.T, c *emporix.Client, expand ...string) *emporix.Customer {
	t.Helper()
	var opts *emporix.ProfileGetOptions
	if expand != nil {
		opts = &emporix.ProfileGetOptions{Expand: expand}
	}
	p, err := c.Profile.Get(t.Context(), opts)
	require.NoError(t, err, "GET /me")
	return p
}

// validate validates c's customer token, which must be valid and carry
// the session ID.
func validate(t *testing.T, c *emporix.Client, sessionID string) *emporix.TokenInfo {
	t.Helper()
	info, err := c.Auth.Validate(t.Context())
	require.NoError(t, err, "validate")
	assert.Equal(t, sessionID, info.SessionID, "the token's session ID")
	return info
}

// assertToken checks what every token has.
func (tg *e2eTarget) assertToken(t *testing.T, tok *emporix.Token, kind emporix.TokenKind) {
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
func (tg *e2eTarget) assertCustomerToken(t *testing.T, tok *emporix.Token, sessionID string) {
	t.Helper()
	tg.assertToken(t, tok, emporix.KindCustomer)
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
// matches sentinel, and that it shows none of the secrets the call carried,
// in its message or its details.
func requireAPIError(t *testing.T, err, sentinel error, status int, what string, secrets ...string) *emporix.APIError {
	t.Helper()
	require.ErrorIs(t, err, sentinel, what)
	var apiErr *emporix.APIError
	require.True(t, errors.As(err, &apiErr), "%s: %v is not an *APIError", what, err)
	assert.Equal(t, status, apiErr.StatusCode, what)
	shown := fmt.Sprintf("%v %+v %#v %s %s %s", err, err, err, apiErr.Path, apiErr.Message, apiErr.Body)
	for _, s := range secrets {
		assert.NotContains(t, shown, s, "%s: the error shows a secret", what)
	}
	return apiErr
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
	return slices.DeleteFunc(slices.Clone(mails), func(m emporixtest.Mail) bool { return m.Kind != kind })
}
