// Package optable is the one table of the operations the SDK calls and the
// emporixtest fake serves: for each, the spec's operationId, method, path
// template, token kind, retry class and the request parameters that carry
// secrets. The SDK builds its requests from it, the fake its routes, and
// the tests their per-operation tables; adding an operation starts with a
// row here.
package optable

// Auth is the token an operation needs.
type Auth uint8

const (
	// None sends and reads no Authorization header.
	None Auth = iota
	// Anonymous needs the shopper's anonymous token.
	Anonymous
	// Customer needs a logged-in customer's token.
	Customer
	// Any takes a customer's or an anonymous token (GET /me).
	Any
	// Service needs a service token from POST /oauth/token, which the
	// caller passes to the call.
	Service
	// Cart takes a shopper's token or a service token with
	// cart.cart_manage.
	Cart
)

// Retry says how safe an operation is to repeat.
type Retry uint8

const (
	// Unsafe operations may change state: repeat only when the server
	// surely did not act.
	Unsafe Retry = iota
	// Safe operations only read.
	Safe
)

// The spec documents the operations come from, named as in
// internal/spectest.
const (
	DocCustomerManaged = "customer-managed"
	DocTenantManaged   = "tenant-managed"
	DocOAuth           = "oauth"
	// DocCart operations are served by the fake only, for storefronts that
	// call the Cart Service through a Session's transport.
	DocCart = "cart"
)

// Op is one operation.
type Op struct {
	ID     string // the spec's operationId
	Method string
	Path   string // the spec's path template
	Auth   Auth
	Retry  Retry
	// NoAuthRetry: never renew a rejected token and resend, because the
	// token is also part of the request (logout names the token it
	// invalidates).
	NoAuthRetry bool
	// Secrets names the request parameters that carry a password, token
	// or code, besides the bearer, as "in:name" with in one of path,
	// query, form and body (a JSON path such as body:signup.password).
	Secrets []string
	Doc     string // the spec document that declares the operation
	// Has403 tells whether the spec documents 403 for the operation; the
	// fake answers a token of the wrong kind with 403 where it does, else
	// with 401.
	Has403 bool
}

// Pattern is the operation as a net/http.ServeMux pattern, such as
// "POST /customer/{tenant}/login".
func (o *Op) Pattern() string { return o.Method + " " + o.Path }

// SDK reports whether the SDK calls the operation; the Cart Service's are
// the fake's alone.
func (o *Op) SDK() bool { return o.Doc != DocCart }

// Secret reports whether the parameter in:name carries a secret.
func (o *Op) Secret(in, name string) bool {
	for _, s := range o.Secrets {
		if s == in+":"+name {
			return true
		}
	}
	return false
}

// Ops is the table: the 25 operations of the customer-managed document,
// POST /oauth/token, the tenant-managed PATCH that activates a signed-up
// account, and five of the Cart Service.
var Ops = []Op{
	// Anonymous sessions.
	{ID: "GET-oauth-generate-anonymous-access-token", Method: "GET", Path: "/customerlogin/auth/anonymous/login",
		Auth: None, Retry: Unsafe, Doc: DocCustomerManaged},
	{ID: "GET-oauth-refresh-anonymous-access-token", Method: "GET", Path: "/customerlogin/auth/anonymous/refresh",
		Auth: None, Retry: Unsafe, Secrets: []string{"query:refresh_token"}, Doc: DocCustomerManaged},

	// Sign-up, login and customer tokens.
	{ID: "POST-customer-create-customer-account", Method: "POST", Path: "/customer/{tenant}/signup",
		Auth: Anonymous, Retry: Unsafe, Secrets: []string{"body:password", "body:signup.password"}, Doc: DocCustomerManaged, Has403: true},
	{ID: "POST-customer-authenticate-customer", Method: "POST", Path: "/customer/{tenant}/login",
		Auth: Anonymous, Retry: Unsafe, Secrets: []string{"body:password"}, Doc: DocCustomerManaged},
	{ID: "GET-customer-logout-customer", Method: "GET", Path: "/customer/{tenant}/logout",
		Auth: Customer, Retry: Unsafe, NoAuthRetry: true, Secrets: []string{"query:accessToken"}, Doc: DocCustomerManaged},
	{ID: "GET-customer-refresh-authtoken", Method: "GET", Path: "/customer/{tenant}/refreshauthtoken",
		Auth: Anonymous, Retry: Unsafe, Secrets: []string{"query:refreshToken"}, Doc: DocCustomerManaged},
	{ID: "GET-customer-validate-token", Method: "GET", Path: "/customer/{tenant}/validateauthtoken",
		Auth: Customer, Retry: Safe, Doc: DocCustomerManaged},
	{ID: "POST-customer-exchange-authtoken", Method: "POST", Path: "/customer/{tenant}/exchangeauthtoken",
		Auth: Anonymous, Retry: Unsafe, Secrets: []string{"query:subjectAccessToken"}, Doc: DocCustomerManaged, Has403: true},
	{ID: "POST-customer-login-customer-by-auth0", Method: "POST", Path: "/customer/{tenant}/socialLogin",
		Auth: Anonymous, Retry: Unsafe, Secrets: []string{"query:code", "query:code_verifier"}, Doc: DocCustomerManaged},
	{ID: "GET-customer-signup-customer-optin", Method: "GET", Path: "/customer/{tenant}/signup/optin/{token}",
		Auth: Anonymous, Retry: Unsafe, Secrets: []string{"path:token"}, Doc: DocCustomerManaged},
	{ID: "POST-customer-refresh-token", Method: "POST", Path: "/customer/{tenant}/signup/optin/refresh_token",
		Auth: Anonymous, Retry: Unsafe, Doc: DocCustomerManaged},

	// Profile.
	{ID: "GET-customer-retrieve-customer-profile", Method: "GET", Path: "/customer/{tenant}/me",
		Auth: Any, Retry: Safe, Doc: DocCustomerManaged, Has403: true},
	{ID: "PATCH-customer-update-customer", Method: "PATCH", Path: "/customer/{tenant}/me",
		Auth: Customer, Retry: Unsafe, Doc: DocCustomerManaged, Has403: true},

	// Addresses.
	{ID: "GET-customer-list-customer-addresses", Method: "GET", Path: "/customer/{tenant}/me/addresses",
		Auth: Customer, Retry: Safe, Doc: DocCustomerManaged, Has403: true},
	{ID: "POST-customer-add-address", Method: "POST", Path: "/customer/{tenant}/me/addresses",
		Auth: Customer, Retry: Unsafe, Doc: DocCustomerManaged, Has403: true},
	{ID: "GET-customer-retrieve-address-by-id", Method: "GET", Path: "/customer/{tenant}/me/addresses/{addressId}",
		Auth: Customer, Retry: Safe, Doc: DocCustomerManaged, Has403: true},
	{ID: "PATCH-customer-update-customer-address", Method: "PATCH", Path: "/customer/{tenant}/me/addresses/{addressId}",
		Auth: Customer, Retry: Unsafe, Doc: DocCustomerManaged, Has403: true},
	{ID: "DELETE-customer-remove-customer-address-by-id", Method: "DELETE", Path: "/customer/{tenant}/me/addresses/{addressId}",
		Auth: Customer, Retry: Unsafe, Doc: DocCustomerManaged, Has403: true},
	{ID: "POST-customer-add-address-tags", Method: "POST", Path: "/customer/{tenant}/me/addresses/{addressId}/tags",
		Auth: Customer, Retry: Unsafe, Doc: DocCustomerManaged, Has403: true},
	{ID: "DELETE-customer-remove-address-tags", Method: "DELETE", Path: "/customer/{tenant}/me/addresses/{addressId}/tags",
		Auth: Customer, Retry: Unsafe, Doc: DocCustomerManaged, Has403: true},

	// Credentials. Confirming an e-mail change takes the anonymous token
	// despite the /me/ path: the link is opened by a shopper who may not
	// be logged in.
	{ID: "POST-customer-change-customer-login-email", Method: "POST", Path: "/customer/{tenant}/me/accounts/internal/email/change",
		Auth: Customer, Retry: Unsafe, Secrets: []string{"body:password"}, Doc: DocCustomerManaged, Has403: true},
	{ID: "POST-customer-confirm-customer-login-email", Method: "POST", Path: "/customer/{tenant}/me/accounts/internal/email/change/confirm",
		Auth: Anonymous, Retry: Unsafe, Secrets: []string{"body:token"}, Doc: DocCustomerManaged, Has403: true},
	{ID: "POST-customer-request-reset-password", Method: "POST", Path: "/customer/{tenant}/password/reset",
		Auth: Anonymous, Retry: Unsafe, Doc: DocCustomerManaged, Has403: true},
	{ID: "POST-customer-reset-password", Method: "POST", Path: "/customer/{tenant}/password/reset/update",
		Auth: Anonymous, Retry: Unsafe, Secrets: []string{"body:token", "body:password"}, Doc: DocCustomerManaged, Has403: true},
	{ID: "POST-customer-change-account-password", Method: "POST", Path: "/customer/{tenant}/password/change",
		Auth: Customer, Retry: Unsafe, Secrets: []string{"body:currentPassword", "body:newPassword"}, Doc: DocCustomerManaged, Has403: true},

	// Employee operations around sign-up.
	{ID: "POST-oauth-request-client-credentials", Method: "POST", Path: "/oauth/token",
		Auth: None, Retry: Unsafe, Secrets: []string{"form:client_secret"}, Doc: DocOAuth},
	{ID: "PATCH-customer-tenant-update-customer", Method: "PATCH", Path: "/customer/{tenant}/customers/{customerNumber}",
		Auth: Service, Retry: Unsafe, Doc: DocTenantManaged, Has403: true},

	// Cart Service.
	{ID: "POST-cart-create-cart", Method: "POST", Path: "/cart/{tenant}/carts",
		Auth: Cart, Retry: Unsafe, Doc: DocCart, Has403: true},
	{ID: "GET-cart-retrieve-cart-by-criteria", Method: "GET", Path: "/cart/{tenant}/carts",
		Auth: Cart, Retry: Safe, Doc: DocCart, Has403: true},
	{ID: "GET-cart-retrieve-cart-by-cartId", Method: "GET", Path: "/cart/{tenant}/carts/{cartId}",
		Auth: Cart, Retry: Safe, Doc: DocCart, Has403: true},
	{ID: "POST-cart-add-item-to-cart", Method: "POST", Path: "/cart/{tenant}/carts/{cartId}/items",
		Auth: Cart, Retry: Unsafe, Doc: DocCart, Has403: true},
	{ID: "POST-cart-merge-carts", Method: "POST", Path: "/cart/{tenant}/carts/{cartId}/merge",
		Auth: Cart, Retry: Unsafe, Doc: DocCart, Has403: true},
}

var byID = func() map[string]*Op {
	m := make(map[string]*Op, len(Ops))
	for i := range Ops {
		m[Ops[i].ID] = &Ops[i]
	}
	return m
}()

// ByID returns the operation with the spec's operationId id, or nil.
func ByID(id string) *Op { return byID[id] }

// Must returns the operation with the operationId id and panics when the
// table has none, so that a misspelt id fails at start-up.
func Must(id string) *Op {
	o := byID[id]
	if o == nil {
		panic("optable: no operation " + id)
	}
	return o
}
