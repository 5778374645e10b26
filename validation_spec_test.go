package emporix

import (
	"context"
	"errors"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/emporix-go/emporix/internal/spectest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// serverOnly is the one list of what the SDK leaves to the service, and why.
// Entries with a spec key name a constraint of the spec's request schemas
// (operation, where, path) that the SDK does not check before sending;
// TestRequestSchemasAreValidatedLocally fails on any other constraint the
// SDK does not enforce, and on a spec key that no longer names one. The
// entries without a spec key are the service's rules the spec does not
// state; they cannot be checked without the tenant's data or configuration.
var serverOnly = []struct{ spec, rule, reason string }{
	{
		spec:   "PATCH-customer-tenant-update-customer body preferredCurrency",
		rule:   "preferredCurrency of the tenant-managed customer update has three characters",
		reason: "ActivateCustomer sends only {active, onHold}; the SDK never sends this field",
	},
	{
		rule:   "an e-mail address is well-formed and, at sign-up, not taken",
		reason: "the service's address syntax is not documented (a stricter local check would refuse addresses it accepts); uniqueness needs the tenant's accounts (409 ErrConflict)",
	},
	{
		rule:   "a password meets the tenant's password policy; the current password is right",
		reason: "the policy is tenant configuration beyond the spec's minimum length; the current password is known only to the service",
	},
	{
		rule:   "a country code or currency code exists (not only has two or three letters)",
		reason: "the tenant's country and currency lists are tenant data (Country and Currency services)",
	},
	{
		rule:   "preferredLanguage, preferredSite, SessionContext site and language exist",
		reason: "sites and languages are tenant configuration",
	},
	{
		rule:   "an address ID, customer number or legal entity exists and belongs to the customer",
		reason: "needs the tenant's data (404 ErrNotFound, 403)",
	},
	{
		rule:   "metadata.version matches the stored version",
		reason: "needs the stored record (409 ErrConflict)",
	},
	{
		rule:   "mixins match their schemas",
		reason: "mixin schemas are tenant-defined and fetched by URL",
	},
	{
		rule:   "tokens (e-mailed codes, opt-in, reset, refresh and subject tokens, social-login codes) are valid and unexpired",
		reason: "they are opaque to the SDK; only the issuer can check them",
	},
}

// probe knows how to send one operation from a test: body operations with
// a valid request the test mutates field by field, parameters with one
// parameter made invalid.
type probe struct {
	valid func() any // a pointer to a valid request (body operations)
	send  func(ctx context.Context, c *Client, req any) error
	param func(ctx context.Context, c *Client, name, value string) error
}

// optInResendBody and emailConfirmBody are the bodies of operations whose
// methods take the body's one field as an argument.
type optInResendBody struct {
	Email string `json:"email"`
}

type emailConfirmBody struct {
	Token string `json:"token"`
}

// serviceTokenBody maps the OAuth form fields onto ServiceCredentials.
type serviceTokenBody struct {
	ClientID     string `json:"client_id"`
	ClientSecret string `json:"client_secret"`
	Scope        string `json:"scope"`
}

func validSignup() any {
	return &SignupRequest{
		Email: "jane@example.com", Password: "password123",
		CustomerDetails: &CustomerDetails{FirstName: "Jane", PreferredCurrency: "EUR"},
		CustomerAddress: &Address{ContactName: "Jane Doe", Country: "DE"},
		Signup:          &LoginRequest{Email: "jane@example.com", Password: "password123"},
	}
}

var probes = map[string]probe{
	"POST-customer-create-customer-account": {valid: validSignup, send: func(ctx context.Context, c *Client, r any) error {
		_, err := c.Auth.Signup(ctx, r.(*SignupRequest))
		return err
	}},
	"POST-customer-authenticate-customer": {
		valid: func() any { return &LoginRequest{Email: "jane@example.com", Password: "password123"} },
		send: func(ctx context.Context, c *Client, r any) error {
			_, err := c.Auth.Login(ctx, r.(*LoginRequest))
			return err
		},
	},
	"PATCH-customer-update-customer": {
		valid: func() any { return &ProfileUpdate{PreferredCurrency: Ptr("EUR")} },
		send: func(ctx context.Context, c *Client, r any) error {
			return c.Profile.Update(ctx, r.(*ProfileUpdate))
		},
	},
	"POST-customer-change-account-password": {
		valid: func() any { return &PasswordChange{CurrentPassword: "password123", NewPassword: "password456"} },
		send: func(ctx context.Context, c *Client, r any) error {
			return c.Credentials.ChangePassword(ctx, r.(*PasswordChange))
		},
	},
	"POST-customer-request-reset-password": {
		valid: func() any { return &PasswordResetRequest{Email: "jane@example.com"} },
		send: func(ctx context.Context, c *Client, r any) error {
			return c.Credentials.RequestPasswordReset(ctx, r.(*PasswordResetRequest))
		},
	},
	"POST-customer-reset-password": {
		valid: func() any { return &PasswordReset{Token: "reset-code", Password: "password456"} },
		send: func(ctx context.Context, c *Client, r any) error {
			return c.Credentials.ResetPassword(ctx, r.(*PasswordReset))
		},
	},
	"POST-customer-refresh-token": {
		valid: func() any { return &optInResendBody{Email: "jane@example.com"} },
		send: func(ctx context.Context, c *Client, r any) error {
			return c.Auth.ResendOptIn(ctx, r.(*optInResendBody).Email)
		},
	},
	"POST-customer-confirm-customer-login-email": {
		valid: func() any { return &emailConfirmBody{Token: "email-code"} },
		send: func(ctx context.Context, c *Client, r any) error {
			return c.Credentials.ConfirmEmailChange(ctx, r.(*emailConfirmBody).Token)
		},
	},
	"POST-oauth-request-client-credentials": {
		valid: func() any { return &serviceTokenBody{ClientID: "id", ClientSecret: "secret"} },
		send: func(ctx context.Context, c *Client, r any) error {
			b := r.(*serviceTokenBody)
			_, err := c.Employee.ServiceToken(ctx, &ServiceCredentials{ClientID: b.ClientID, ClientSecret: Secret(b.ClientSecret), Scope: b.Scope})
			return err
		},
	},
	// Parameters.
	"GET-customer-retrieve-address-by-id": {param: func(ctx context.Context, c *Client, _, v string) error {
		_, err := c.Addresses.Get(ctx, v)
		return err
	}},
	"PATCH-customer-update-customer-address": {param: func(ctx context.Context, c *Client, _, v string) error {
		return c.Addresses.Update(ctx, v, &AddressUpdate{City: Ptr("Berlin")})
	}},
	"DELETE-customer-remove-customer-address-by-id": {param: func(ctx context.Context, c *Client, _, v string) error {
		return c.Addresses.Delete(ctx, v)
	}},
	"POST-customer-add-address-tags":      {param: tagsParam((*AddressesService).AddTags)},
	"DELETE-customer-remove-address-tags": {param: tagsParam((*AddressesService).RemoveTags)},
	"GET-customer-signup-customer-optin": {param: func(ctx context.Context, c *Client, _, v string) error {
		_, err := c.Auth.ConfirmOptIn(ctx, v)
		return err
	}},
	"POST-customer-exchange-authtoken": {param: func(ctx context.Context, c *Client, _, v string) error {
		_, err := c.Auth.ExchangeToken(ctx, &ExchangeRequest{SubjectAccessToken: Secret(v)})
		return err
	}},
	"POST-customer-login-customer-by-auth0": {param: func(ctx context.Context, c *Client, name, v string) error {
		r := &SocialLoginRequest{Code: "code", RedirectURI: "https://shop.example.com/cb"}
		switch name {
		case "code":
			r.Code = Secret(v)
		case "redirect_uri":
			r.RedirectURI = v
		}
		_, err := c.Auth.SocialLogin(ctx, r)
		return err
	}},
	// The tokens' parameters come from the Token passed or held: a token
	// without the value is refused.
	"GET-oauth-refresh-anonymous-access-token": {param: func(ctx context.Context, c *Client, name, v string) error {
		if name == "client_id" {
			_, err := NewClient(testTenant, v)
			return err
		}
		tok := anonToken()
		tok.RefreshToken = Secret(v)
		_, err := c.Auth.AnonymousRefresh(ctx, tok)
		return err
	}},
	"GET-customer-refresh-authtoken": {param: func(ctx context.Context, c *Client, _, v string) error {
		tok := custToken()
		tok.RefreshToken = Secret(v)
		_, err := c.Auth.RefreshCustomer(ctx, tok, nil)
		return err
	}},
	"GET-customer-logout-customer": {param: func(ctx context.Context, c *Client, _, v string) error {
		// accessToken is the customer token itself; a client without one
		// (or with an empty one) is refused before sending.
		cust := custToken()
		cust.AccessToken = Secret(v)
		return c.WithTokenSource(StaticTokens(anonToken(), cust)).Auth.Logout(ctx)
	}},
	"GET-oauth-generate-anonymous-access-token": {param: func(ctx context.Context, c *Client, _, v string) error {
		_, err := NewClient(testTenant, v) // client_id is the client's
		return err
	}},
	"PATCH-customer-tenant-update-customer": {param: func(ctx context.Context, c *Client, _, v string) error {
		return c.Employee.ActivateCustomer(ctx, &Token{Kind: KindService, AccessToken: "svc"}, v)
	}},
}

func tagsParam(call func(*AddressesService, context.Context, string, ...string) error) func(context.Context, *Client, string, string) error {
	return func(ctx context.Context, c *Client, name, v string) error {
		if name == "addressId" {
			return call(c.Addresses, ctx, v, TagBilling)
		}
		if v == "" {
			return call(c.Addresses, ctx, "a1") // no tags at all
		}
		return call(c.Addresses, ctx, "a1", v)
	}
}

// violation returns a value that breaks c, for a string field or parameter.
func violation(t *testing.T, c spectest.Constraint) string {
	t.Helper()
	switch c.Kind {
	case "required":
		return ""
	case "minLength":
		return strings.Repeat("A", c.Value.(int)-1)
	case "maxLength":
		return strings.Repeat("A", c.Value.(int)+1)
	case "pattern":
		return "!?"
	case "enum":
		return "NOT-IN-THE-ENUM"
	}
	t.Fatalf("no violation for %v", c)
	return ""
}

// setJSONPath sets the string field at the JSON path (such as
// "customerAddress.country") of the struct req points to, allocating
// nested structs, and returns the Go name of the field.
func setJSONPath(t *testing.T, req any, path, value string) string {
	t.Helper()
	v := reflect.ValueOf(req).Elem()
	parts := strings.Split(path, ".")
	for i, part := range parts {
		f, ok := fieldByJSONName(v, part)
		require.True(t, ok, "no field with JSON name %q in %s", part, v.Type())
		if i == len(parts)-1 {
			switch f.Kind() {
			case reflect.String:
				f.SetString(value)
			case reflect.Pointer:
				if f.Type().Elem().Kind() == reflect.String {
					if value == "" {
						f.SetZero() // required: absent
					} else {
						f.Set(reflect.ValueOf(&value))
					}
					break
				}
				require.Empty(t, value, "only a required nested object can be violated, by leaving it out")
				f.SetZero()
			default:
				t.Fatalf("%s is a %s, not a string", path, f.Type())
			}
			return f.Type().String() + " " + v.Type().Field(fieldIndexByJSONName(v, part)).Name
		}
		if f.IsNil() {
			f.Set(reflect.New(f.Type().Elem()))
		}
		v = f.Elem()
	}
	return ""
}

func fieldIndexByJSONName(v reflect.Value, name string) int {
	for i := 0; i < v.NumField(); i++ {
		tag, _, _ := strings.Cut(v.Type().Field(i).Tag.Get("json"), ",")
		if tag == name {
			return i
		}
	}
	return -1
}

func fieldByJSONName(v reflect.Value, name string) (reflect.Value, bool) {
	i := fieldIndexByJSONName(v, name)
	if i < 0 {
		return reflect.Value{}, false
	}
	return v.Field(i), true
}

// refusedLocally reports whether err is the SDK's own refusal: bad input or
// a missing or wrong token, both before any request.
func refusedLocally(err error) bool {
	return errors.Is(err, ErrInvalidInput) || errors.Is(err, ErrNoToken) ||
		errors.Is(err, ErrCustomerTokenRequired) || errors.Is(err, ErrAnonymousTokenRequired)
}

// TestRequestSchemasAreValidatedLocally walks every constraint the spec's
// request schemas and parameters declare for the operations the SDK
// implements, and proves each is either enforced before sending (a request
// breaking only that constraint is refused with ErrInvalidInput, naming the
// field, and nothing is sent, while the unbroken request is sent) or
// listed in serverOnly with a reason.
func TestRequestSchemasAreValidatedLocally(t *testing.T) {
	t.Parallel()
	spec := requireSpec(t)
	ops := spec.Operations(spectest.DocCustomerManaged)
	for _, id := range []string{"POST-oauth-request-client-credentials", "PATCH-customer-tenant-update-customer"} {
		op, ok := spec.Operation(id)
		require.True(t, ok, id)
		ops = append(ops, op)
	}
	ctx := context.Background()
	usedServerOnly := map[string]bool{}
	enforced := 0
	for _, op := range ops {
		for _, con := range op.RequestConstraints() {
			key := con.Op + " " + con.In + " " + con.Path
			t.Run(con.String(), func(t *testing.T) {
				for _, s := range serverOnly {
					if s.spec == key {
						usedServerOnly[key] = true
						t.Logf("left to the service: %s", s.reason)
						return
					}
				}
				if con.Path == "tenant" {
					checkTenantConstraint(t, con)
					enforced++
					return
				}
				p, ok := probes[con.Op]
				require.True(t, ok, "%v is neither enforced (no probe for %s) nor listed in serverOnly", con, con.Op)
				bad := violation(t, con)
				c, mt := newTestClient(t)
				sent := 0
				mt.RegisterNoResponder(func(*http.Request) (*http.Response, error) {
					sent++
					return nil, errors.New("test: sent")
				})
				var err error
				var field string
				if con.In == "body" {
					require.NotNil(t, p.valid, "no valid request for %s", con.Op)
					ok := p.send(ctx, c, p.valid())
					require.Equal(t, 1, sent, "the valid request is sent: %v", ok)
					sent = 0
					req := p.valid()
					field = setJSONPath(t, req, con.Path, bad)
					err = p.send(ctx, c, req)
				} else {
					require.NotNil(t, p.param, "no parameter probe for %s", con.Op)
					err = p.param(ctx, c, con.Path, bad)
				}
				assert.Zero(t, sent, "%v: a request was sent", con)
				require.True(t, refusedLocally(err), "%v: got %v, want a refusal before sending", con, err)
				var ve *ValidationError
				if field != "" && errors.As(err, &ve) {
					name := strings.ToLower(field[strings.LastIndex(field, " ")+1:])
					assert.True(t, strings.HasSuffix(strings.ToLower(ve.Field), name),
						"%v: the error names %q, want the field %s", con, ve.Field, name)
				}
				enforced++
			})
		}
	}
	for _, s := range serverOnly {
		if s.spec != "" && !usedServerOnly[s.spec] {
			t.Errorf("serverOnly names %q, which is no constraint of the spec's requests any more", s.spec)
		}
	}
	t.Logf("%d constraints enforced locally, %d left to the service", enforced, len(usedServerOnly))
}

// checkTenantConstraint: the tenant is the client's; NewClient enforces
// the spec's pattern and length.
func checkTenantConstraint(t *testing.T, con spectest.Constraint) {
	t.Helper()
	bad := violation(t, con)
	if con.Kind == "maxLength" {
		bad = strings.Repeat("a", con.Value.(int)+1)
	}
	_, err := NewClient(bad, testClientID)
	requireInvalid(t, err, "tenant")
}

// An empty address was sent and refused by the service; "Germany" as the
// country likewise. The spec's AddressCreateDto requires nothing, but the
// service checks new addresses against its Address schema.
func TestAddressRulesOfTheServiceAreCheckedBeforeSending(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c, mt := newTestClient(t)
	sent := 0
	mt.RegisterNoResponder(func(*http.Request) (*http.Response, error) {
		sent++
		return nil, errors.New("test: sent")
	})
	_, err := c.Addresses.Create(ctx, &AddressCreate{})
	requireInvalid(t, err, "AddressCreate.ContactName")
	_, err = c.Addresses.Create(ctx, &AddressCreate{ContactName: "  "})
	requireInvalid(t, err, "AddressCreate.ContactName")
	_, err = c.Addresses.Create(ctx, &AddressCreate{ContactName: "Jane Doe", Country: "Germany"})
	requireInvalid(t, err, "AddressCreate.Country")
	assert.Contains(t, err.Error(), "two-letter country code")
	assert.NotContains(t, err.Error(), "Germany", "the value is described, not quoted")
	err = c.Addresses.Update(ctx, "a1", &AddressUpdate{Country: Ptr("Germany")})
	requireInvalid(t, err, "AddressUpdate.Country")
	err = c.Addresses.Update(ctx, "a1", &AddressUpdate{ContactName: Ptr(" ")})
	requireInvalid(t, err, "AddressUpdate.ContactName")
	_, err = c.Auth.Signup(ctx, &SignupRequest{Email: "jane@example.com", Password: "password123",
		CustomerAddress: &Address{ContactName: "Jane", Country: "D1"}})
	requireInvalid(t, err, "SignupRequest.CustomerAddress.Country")
	assert.Zero(t, sent, "nothing was sent")

	_, err = c.Addresses.Create(ctx, &AddressCreate{ContactName: "Jane Doe", Country: "DE"})
	assert.Equal(t, 1, sent, "a valid address is sent: %v", err)
	err = c.Addresses.Update(ctx, "a1", &AddressUpdate{City: Ptr("Berlin")})
	assert.Equal(t, 2, sent, "an update that leaves the name and country alone is sent: %v", err)
}

// A blank client ID was accepted and failed only at the first call with
// 401 Invalid ApiKey.
func TestNewClientRefusesBlankClientIDs(t *testing.T) {
	t.Parallel()
	for _, id := range []string{"", " ", "\t\n", "  storefront-id", "storefront-id "} {
		c, err := NewClient(testTenant, id)
		assert.Nil(t, c, "%q", id)
		requireInvalid(t, err, "clientID")
	}
	c, err := NewClient(testTenant, "storefront-id")
	require.NoError(t, err)
	assert.Equal(t, testTenant, c.Tenant())
}

// "mytenant.emporix.io" was refused with only "must be 3 to 16 characters
// long".
func TestNewClientHintsThatATenantNameIsWanted(t *testing.T) {
	t.Parallel()
	for in, guess := range map[string]string{
		"mytenant.emporix.io":          "mytenant",
		"https://mytenant.emporix.io/": "mytenant",
		"MyTenant.example.com":         "mytenant",
		"api.emporix.io":               "",
		"https://api.emporix.io":       "",
		"localhost:8080":               "",
	} {
		_, err := NewClient(in, testClientID)
		requireInvalid(t, err, "tenant")
		assert.Contains(t, err.Error(), "tenant name, not a host name or URL", in)
		if guess != "" {
			assert.Contains(t, err.Error(), `did you mean "`+guess+`"?`, in)
		} else {
			assert.NotContains(t, err.Error(), "did you mean", in)
		}
	}
}
