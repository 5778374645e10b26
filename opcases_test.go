package emporix

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/emporix-go/emporix/internal/optable"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// opCase says how the tests call one SDK operation: with the secrets of a
// secretSet in every input that takes one, and a success answer the spec
// allows. The retry, authorization, redaction and conformance tables
// iterate the operation table and take each operation's case from here;
// every SDK row has exactly one (TestOperationCases).
type opCase struct {
	name string // Service.Method
	call func(ctx context.Context, c *Client, s *secretSet) (any, error)
	ok   reply
	// req is a nil pointer of the request type whose Secret fields are
	// the row's body secrets, or, for a request sent as a query or form,
	// as many as the row's secrets there.
	req any
	// more are other methods that send the operation.
	more []opMethod
}

type opMethod struct {
	name string
	call func(ctx context.Context, c *Client, s *secretSet) (any, error)
}

// The cases' path parameters besides the opt-in token (secretSet).
const (
	caseAddressID      = "a1"
	caseCustomerNumber = "C123"
)

// noResult adapts a method that returns only an error.
func noResult(err error) (any, error) { return nil, err }

var opCases = map[string]opCase{
	"GET-oauth-generate-anonymous-access-token": {name: "AuthService.AnonymousLogin", ok: jsonReply(200, authAnonResponse),
		call: func(ctx context.Context, c *Client, _ *secretSet) (any, error) {
			return c.Auth.AnonymousLogin(ctx, &SessionContext{Currency: "EUR", SiteCode: "main", Language: "en", TargetLocation: "DE"})
		}},
	"GET-oauth-refresh-anonymous-access-token": {name: "AuthService.AnonymousRefresh", ok: jsonReply(200, authAnonResponse),
		call: func(ctx context.Context, c *Client, s *secretSet) (any, error) {
			return c.Auth.AnonymousRefresh(ctx, s.anon)
		}},
	"POST-customer-create-customer-account": {name: "AuthService.Signup", ok: jsonReply(201, `{"id":"13730481"}`), req: (*SignupRequest)(nil),
		call: func(ctx context.Context, c *Client, s *secretSet) (any, error) {
			return c.Auth.Signup(ctx, &SignupRequest{Email: "jane@example.com", Password: s.password,
				CustomerDetails: &CustomerDetails{FirstName: "Jane"},
				Signup:          &LoginRequest{Email: "login@example.com", Password: s.signupPassword}})
		}},
	"POST-customer-authenticate-customer": {name: "AuthService.Login", ok: jsonReply(200, authLoginResponse), req: (*LoginRequest)(nil),
		call: func(ctx context.Context, c *Client, s *secretSet) (any, error) {
			return c.Auth.Login(ctx, &LoginRequest{Email: "jane@example.com", Password: s.password})
		}},
	"GET-customer-logout-customer": {name: "AuthService.Logout", ok: reply{status: 204},
		call: func(ctx context.Context, c *Client, _ *secretSet) (any, error) { return noResult(c.Auth.Logout(ctx)) }},
	"GET-customer-refresh-authtoken": {name: "AuthService.RefreshCustomer", ok: jsonReply(200, authRefreshResponse),
		call: func(ctx context.Context, c *Client, s *secretSet) (any, error) {
			return c.Auth.RefreshCustomer(ctx, s.cust, &RefreshOptions{LegalEntityID: "le-1"})
		}},
	"GET-customer-validate-token": {name: "AuthService.Validate",
		ok:   jsonReply(200, `{"token_type":"Bearer","expires_in":100,"sessionId":"s","email":"a@example.com"}`),
		call: func(ctx context.Context, c *Client, _ *secretSet) (any, error) { return c.Auth.Validate(ctx) }},
	"POST-customer-exchange-authtoken": {name: "AuthService.ExchangeToken", ok: jsonReply(200, authExchangeResponse), req: (*ExchangeRequest)(nil),
		call: func(ctx context.Context, c *Client, s *secretSet) (any, error) {
			return c.Auth.ExchangeToken(ctx, &ExchangeRequest{SubjectAccessToken: s.subjectToken, Config: "site_PL"})
		}},
	"POST-customer-login-customer-by-auth0": {name: "AuthService.SocialLogin", ok: jsonReply(200, authSocialResponse), req: (*SocialLoginRequest)(nil),
		call: func(ctx context.Context, c *Client, s *secretSet) (any, error) {
			return c.Auth.SocialLogin(ctx, &SocialLoginRequest{Code: s.code, RedirectURI: "https://shop.example.com/cb", CodeVerifier: s.codeVerifier})
		}},
	"GET-customer-signup-customer-optin": {name: "AuthService.ConfirmOptIn", ok: jsonReply(200, authOptInResponse),
		call: func(ctx context.Context, c *Client, s *secretSet) (any, error) {
			return c.Auth.ConfirmOptIn(ctx, s.optInToken)
		}},
	"POST-customer-refresh-token": {name: "AuthService.ResendOptIn", ok: reply{status: 202},
		call: func(ctx context.Context, c *Client, _ *secretSet) (any, error) {
			return noResult(c.Auth.ResendOptIn(ctx, "jane@example.com"))
		}},
	"GET-customer-retrieve-customer-profile": {name: "ProfileService.Get", ok: jsonReply(200, `{"id":"1"}`),
		call: func(ctx context.Context, c *Client, _ *secretSet) (any, error) {
			return c.Profile.Get(ctx, &ProfileGetOptions{Expand: []string{"addresses", "mixin:*"}})
		}},
	"PATCH-customer-update-customer": {name: "ProfileService.Update", ok: reply{status: 200},
		call: func(ctx context.Context, c *Client, _ *secretSet) (any, error) {
			return noResult(c.Profile.Update(ctx, &ProfileUpdate{FirstName: Ptr("Jane"), Metadata: &Metadata{Version: 3}}))
		},
		more: []opMethod{{"ProfileService.MergePatch", func(ctx context.Context, c *Client, _ *secretSet) (any, error) {
			return noResult(c.Profile.MergePatch(ctx, &ProfileUpdate{LastName: Ptr("Doe")}))
		}}}},
	"GET-customer-list-customer-addresses": {name: "AddressesService.List", ok: jsonReply(200, `[]`),
		call: func(ctx context.Context, c *Client, _ *secretSet) (any, error) { return c.Addresses.List(ctx) }},
	"POST-customer-add-address": {name: "AddressesService.Create", ok: jsonReply(201, `{"id":"b1"}`),
		call: func(ctx context.Context, c *Client, _ *secretSet) (any, error) {
			return c.Addresses.Create(ctx, &AddressCreate{ContactName: "Jane", City: "Berlin", Tags: []string{TagBilling}})
		}},
	"GET-customer-retrieve-address-by-id": {name: "AddressesService.Get", ok: jsonReply(200, `{"id":"a1","contactName":"Jane"}`),
		call: func(ctx context.Context, c *Client, _ *secretSet) (any, error) {
			return c.Addresses.Get(ctx, caseAddressID)
		}},
	"PATCH-customer-update-customer-address": {name: "AddressesService.Update", ok: reply{status: 200},
		call: func(ctx context.Context, c *Client, _ *secretSet) (any, error) {
			return noResult(c.Addresses.Update(ctx, caseAddressID, &AddressUpdate{City: Ptr("Munich")}))
		}},
	"DELETE-customer-remove-customer-address-by-id": {name: "AddressesService.Delete", ok: reply{status: 204},
		call: func(ctx context.Context, c *Client, _ *secretSet) (any, error) {
			return noResult(c.Addresses.Delete(ctx, caseAddressID))
		}},
	"POST-customer-add-address-tags": {name: "AddressesService.AddTags", ok: reply{status: 204},
		call: func(ctx context.Context, c *Client, _ *secretSet) (any, error) {
			return noResult(c.Addresses.AddTags(ctx, caseAddressID, TagBilling))
		}},
	"DELETE-customer-remove-address-tags": {name: "AddressesService.RemoveTags", ok: reply{status: 204},
		call: func(ctx context.Context, c *Client, _ *secretSet) (any, error) {
			return noResult(c.Addresses.RemoveTags(ctx, caseAddressID, TagShipping))
		}},
	"POST-customer-change-customer-login-email": {name: "CredentialsService.RequestEmailChange", ok: reply{status: 204}, req: (*EmailChangeRequest)(nil),
		call: func(ctx context.Context, c *Client, s *secretSet) (any, error) {
			return noResult(c.Credentials.RequestEmailChange(ctx, &EmailChangeRequest{Email: "jane@example.com", Password: s.password,
				NewEmail: "new@example.com"}))
		}},
	"POST-customer-confirm-customer-login-email": {name: "CredentialsService.ConfirmEmailChange", ok: reply{status: 204},
		call: func(ctx context.Context, c *Client, s *secretSet) (any, error) {
			return noResult(c.Credentials.ConfirmEmailChange(ctx, s.emailToken))
		}},
	"POST-customer-request-reset-password": {name: "CredentialsService.RequestPasswordReset", ok: reply{status: 204}, req: (*PasswordResetRequest)(nil),
		call: func(ctx context.Context, c *Client, _ *secretSet) (any, error) {
			return noResult(c.Credentials.RequestPasswordReset(ctx, &PasswordResetRequest{Email: "jane@example.com", Site: "main"}))
		}},
	"POST-customer-reset-password": {name: "CredentialsService.ResetPassword", ok: reply{status: 204}, req: (*PasswordReset)(nil),
		call: func(ctx context.Context, c *Client, s *secretSet) (any, error) {
			return noResult(c.Credentials.ResetPassword(ctx, &PasswordReset{Token: s.resetToken, Password: s.newPassword}))
		}},
	"POST-customer-change-account-password": {name: "CredentialsService.ChangePassword", ok: reply{status: 204}, req: (*PasswordChange)(nil),
		call: func(ctx context.Context, c *Client, s *secretSet) (any, error) {
			return noResult(c.Credentials.ChangePassword(ctx, &PasswordChange{CurrentPassword: s.password, NewPassword: s.newPassword}))
		}},
	"POST-oauth-request-client-credentials": {name: "EmployeeService.ServiceToken", ok: jsonReply(200, authServiceTokenResponse),
		req: (*ServiceCredentials)(nil),
		call: func(ctx context.Context, c *Client, s *secretSet) (any, error) {
			return c.Employee.ServiceToken(ctx, &ServiceCredentials{ClientID: "svc-client", ClientSecret: s.clientSecret,
				Scope: "tenant=mytenant customer.customer_manage"})
		},
		more: []opMethod{{"EmployeeService.ServiceTokenSource", func(ctx context.Context, c *Client, s *secretSet) (any, error) {
			return c.Employee.ServiceTokenSource(&ServiceCredentials{ClientID: "svc-client", ClientSecret: s.clientSecret}).Token(ctx)
		}}}},
	"PATCH-customer-tenant-update-customer": {name: "EmployeeService.ActivateCustomer", ok: reply{status: 200},
		call: func(ctx context.Context, c *Client, s *secretSet) (any, error) {
			return noResult(c.Employee.ActivateCustomer(ctx, &Token{Kind: KindService, AccessToken: s.serviceAccess, TokenType: "Bearer"}, caseCustomerNumber))
		}},
}

// sdkRows are the operation table's rows the SDK calls that have a case,
// in table order. A row without a case is TestOperationCases' to report
// (allRows); leaving it out here keeps every other table from stopping the
// test binary on the missing case.
func sdkRows() []*optable.Op {
	var rows []*optable.Op
	for _, row := range allRows() {
		if _, ok := opCases[row.ID]; ok {
			rows = append(rows, row)
		}
	}
	return rows
}

// allRows are the operation table's rows the SDK calls, in table order.
func allRows() []*optable.Op {
	var rows []*optable.Op
	for i := range optable.Ops {
		if optable.Ops[i].SDK() {
			rows = append(rows, &optable.Ops[i])
		}
	}
	return rows
}

// casePath is the escaped path below the test base that row's case calls.
func casePath(row *optable.Op, s *secretSet) string {
	r := strings.NewReplacer("{tenant}", testTenant, "{addressId}", caseAddressID, "{customerNumber}", caseCustomerNumber,
		"{token}", url.PathEscape(s.optInToken))
	return r.Replace(row.Path)
}

// TestOperationCases: every SDK row has a case and every case a row. Each
// case, answered with its success reply, sends exactly its row's
// operation (method, path and operationId, checked against the spec by
// serve) and succeeds, with secrets exactly where its row lists them:
// every path segment, query or form parameter and JSON body field that
// carries one of the secretSet's values is listed, and every listed one
// carries one. A case's request type holds as many Secret fields as the
// row lists, by JSON name in a body.
func TestOperationCases(t *testing.T) {
	rows := allRows()
	for id := range opCases {
		row := optable.ByID(id)
		assert.True(t, row != nil && row.SDK(), "case %s has no SDK row in the operation table", id)
	}
	s := newSecretSet("sentinels", "")
	isSecret := func(v string) bool { return slices.Contains(s.all, v) }
	for _, row := range rows {
		t.Run(row.ID, func(t *testing.T) {
			oc, ok := opCases[row.ID]
			require.True(t, ok, "no case in opcases_test.go for %s", row.ID)
			c, mt := newTestClient(t)
			sent := serve(t, mt, row.Method, casePath(row, s), oc.ok)
			_, err := oc.call(context.Background(), c, s)
			require.NoError(t, err)
			req := only(t, sent)
			assert.Equal(t, 1, mt.GetTotalCallCount(), "requests besides the operation's own")
			k, _ := req.Context().Value(callKey{}).(*call)
			require.NotNil(t, k)
			assert.Equal(t, row.ID, k.op.ID, "the case's method sends another operation")

			var found []string
			tmpl, segs := strings.Split(row.Path, "/"), strings.Split(req.URL.Path, "/")
			for i, seg := range segs[len(segs)-len(tmpl):] {
				if strings.HasPrefix(tmpl[i], "{") && isSecret(seg) {
					found = append(found, "path:"+strings.Trim(tmpl[i], "{}"))
				}
			}
			params := func(in string, q url.Values) {
				for name, vs := range q {
					if slices.ContainsFunc(vs, isSecret) {
						found = append(found, in+":"+name)
					}
				}
			}
			params("query", req.URL.Query())
			if body := bodyOf(t, req); strings.HasPrefix(req.Header.Get("Content-Type"), contentForm) {
				form, err := url.ParseQuery(body)
				require.NoError(t, err)
				params("form", form)
			} else if body != "" {
				var m any
				require.NoError(t, json.Unmarshal([]byte(body), &m))
				found = append(found, secretLeaves(m, "body:", isSecret)...)
			}
			assert.Equal(t, sorted(row.Secrets), sorted(found), "secrets the SDK sent vs the row's")

			if oc.req != nil {
				typed := secretFields(reflect.TypeOf(oc.req).Elem(), "")
				var rowBody []string
				for _, sec := range row.Secrets {
					if name, ok := strings.CutPrefix(sec, "body:"); ok {
						rowBody = append(rowBody, name)
					}
				}
				if len(rowBody) > 0 {
					assert.Equal(t, sorted(rowBody), sorted(typed), "Secret fields of %T vs the row", oc.req)
				} else {
					assert.Len(t, typed, len(row.Secrets), "Secret fields of %T vs the row", oc.req)
				}
			}
		})
	}
}

// TestOperationAuth: each SDK operation goes to its row's method and path
// with the common headers, sends exactly the token its row names (also
// from a source holding only that token), and refuses before sending when
// that kind is missing.
func TestOperationAuth(t *testing.T) {
	s := newSecretSet("sentinels", "")
	for _, row := range sdkRows() {
		for _, m := range opCases[row.ID].methods() {
			t.Run(row.ID+"/"+m.name, func(t *testing.T) {
				send := func(src TokenSource, s *secretSet) (*http.Request, error) {
					c, mt := newTestClient(t, WithTokenSource(src), WithUserAgent("my-shop/1.2"))
					sent := serve(t, mt, row.Method, casePath(row, s), opCases[row.ID].ok)
					_, err := m.call(context.Background(), c, s)
					reqs := sent()
					assert.Equal(t, len(reqs), mt.GetTotalCallCount(), "requests besides the operation's own")
					if len(reqs) > 0 {
						require.Len(t, reqs, 1)
						return reqs[0], err
					}
					return nil, err
				}
				both := StaticTokens(anonToken(), custToken())
				req, err := send(both, s)
				require.NoError(t, err)
				require.NotNil(t, req)
				assert.Equal(t, row.Method, req.Method)
				assert.Equal(t, casePath(row, s), pathOf(req))
				assert.Equal(t, "application/json", req.Header.Get("Accept"))
				assert.Equal(t, "my-shop/1.2 emporix-go/"+Version, req.Header.Get("User-Agent"))
				var want string
				var missing, own TokenSource // own: a plain source of just the token it needs
				var refusal error
				noService := *s
				switch row.Auth {
				case optable.None:
					missing = StaticTokens(nil, nil) // nothing to miss: still sent, without a header
				case optable.Anonymous:
					want, missing, refusal = bearer(anonAccess), StaticTokens(nil, custToken()), ErrAnonymousTokenRequired
					own = StaticTokenSource(anonToken())
					// A source that is no AnonymousTokenSource is asked for
					// its token, which must then not be a customer's.
					plain := TokenSourceFunc(func(context.Context) (*Token, error) { return custToken(), nil })
					sent, err := send(plain, s)
					assert.ErrorIs(t, err, ErrAnonymousTokenRequired, "a plain source's customer token")
					assert.Nil(t, sent, "sent with a plain source's customer token")
				case optable.Customer:
					want, missing, refusal = bearer(custAccess), StaticTokens(anonToken(), nil), ErrCustomerTokenRequired
					own = StaticTokenSource(custToken())
				case optable.Any:
					want, missing, refusal = bearer(custAccess), StaticTokens(nil, nil), ErrNoToken
					guest, err := send(StaticTokens(anonToken(), nil), s)
					require.NoError(t, err)
					assert.Equal(t, bearer(anonAccess), guest.Header.Get("Authorization"), "a guest's call")
				case optable.Service:
					want, missing, refusal = bearer(string(s.serviceAccess)), both, ErrInvalidInput
					noService.serviceAccess = ""
				default:
					t.Fatalf("token kind %d", row.Auth)
				}
				assert.Equal(t, want, req.Header.Get("Authorization"))
				if own != nil {
					req, err := send(own, s)
					require.NoError(t, err)
					assert.Equal(t, want, req.Header.Get("Authorization"), "with only the token it needs")
				}
				req, err = send(missing, &noService)
				if refusal == nil {
					require.NoError(t, err)
					assert.Empty(t, req.Header.Values("Authorization"))
					return
				}
				assert.ErrorIs(t, err, refusal)
				assert.Nil(t, req, "sent without the token it needs")
			})
		}
	}
}

// secretLeaves lists the JSON paths in v whose string value is a secret.
func secretLeaves(v any, prefix string, isSecret func(string) bool) []string {
	switch x := v.(type) {
	case string:
		if isSecret(x) {
			return []string{strings.TrimSuffix(prefix, ".")}
		}
	case map[string]any:
		var out []string
		for k, e := range x {
			out = append(out, secretLeaves(e, prefix+k+".", isSecret)...)
		}
		return out
	}
	return nil
}

// secretFields lists the JSON paths of t's Secret fields.
func secretFields(t reflect.Type, prefix string) []string {
	var out []string
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "" {
			name = f.Name
		}
		ft := f.Type
		if ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		switch {
		case !f.IsExported() || name == "-":
		case ft == secretType:
			out = append(out, prefix+name)
		case ft.Kind() == reflect.Struct:
			out = append(out, secretFields(ft, prefix+name+".")...)
		}
	}
	return out
}

func sorted(s []string) []string {
	out := slices.Clone(s)
	sort.Strings(out)
	return out
}

// TestOperationContexts: every method of every SDK operation refuses a nil
// context before sending, without handing it to the token source, and
// fails on a cancelled one with a *RequestError matching context.Canceled,
// never retried.
func TestOperationContexts(t *testing.T) {
	t.Parallel()
	s := newSecretSet("sentinels", "")
	// A source that, like any real one, uses its context.
	src := TokenSourceFunc(func(ctx context.Context) (*Token, error) {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		return anonToken(), nil
	})
	var nilCtx context.Context
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	for _, row := range sdkRows() {
		path := casePath(row, s)
		for _, m := range opCases[row.ID].methods() {
			t.Run(m.name+"/nil", func(t *testing.T) {
				t.Parallel()
				c, mt := newTestClient(t)
				var err error
				require.NotPanics(t, func() { _, err = m.call(nilCtx, c.WithTokenSource(src), s) })
				requireInvalid(t, err, "context")
				requireNoRequests(t, mt)
			})
			t.Run(m.name+"/cancelled", func(t *testing.T) {
				t.Parallel()
				// httpmock ignores contexts, so the request may reach the
				// mock; a real transport refuses before dialing. What
				// matters is the error.
				c, mt := newTestClient(t)
				serve(t, mt, row.Method, path, opCases[row.ID].ok)
				_, err := m.call(cancelled, c, s)
				require.ErrorIs(t, err, context.Canceled)
				if !strings.HasSuffix(m.name, "TokenSource") { // a TokenSource may return ctx.Err() as is
					var re *RequestError
					require.ErrorAs(t, err, &re)
					assert.Equal(t, row.Method, re.Method)
				}
				assert.LessOrEqual(t, calls(mt, row.Method, path), 1, "a cancelled call is never retried")
				assertNoSecrets(t, err.Error())
			})
		}
	}
}
