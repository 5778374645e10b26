package emporixtest

import (
	"net/http"
	"net/url"
	"sort"
	"strings"
)

// authKind is the token an operation needs.
type authKind int

const (
	authNone      authKind = iota // no Authorization header is read
	authAnonymous                 // the shopper's anonymous token
	authCustomer                  // a customer token
	authAny                       // a customer or an anonymous token
	authService                   // a service token from /oauth/token
	authCart                      // any of the three: a shopper's token or a service token (cart.cart_manage)
)

// route is one operation of the fake, named by the spec's operationId.
type route struct {
	id      string
	method  string
	pattern string // the spec's path template
	segs    []string
	auth    authKind
	// has403 tells whether the spec documents 403 for the operation; a
	// token of the wrong kind is answered with 403 where it does, else 401.
	has403 bool
	// cart marks the Cart Service's operations, whose errors have the
	// cart's ErrorMessage shape {code, status, message}.
	cart    bool
	handler func(*Server, *call) reply
}

// routes lists every operation the fake serves: the 25 of the
// customer-managed spec, POST /oauth/token, the tenant-managed PATCH used
// to activate accounts, and five of the Cart Service.
var routes = []*route{
	{id: "GET-oauth-generate-anonymous-access-token", method: "GET", pattern: "/customerlogin/auth/anonymous/login", auth: authNone, handler: (*Server).anonymousLogin},
	{id: "GET-oauth-refresh-anonymous-access-token", method: "GET", pattern: "/customerlogin/auth/anonymous/refresh", auth: authNone, handler: (*Server).anonymousRefresh},
	{id: "POST-customer-create-customer-account", method: "POST", pattern: "/customer/{tenant}/signup", auth: authAnonymous, has403: true, handler: (*Server).signup},
	{id: "POST-customer-authenticate-customer", method: "POST", pattern: "/customer/{tenant}/login", auth: authAnonymous, handler: (*Server).login},
	{id: "GET-customer-logout-customer", method: "GET", pattern: "/customer/{tenant}/logout", auth: authCustomer, handler: (*Server).logout},
	{id: "GET-customer-refresh-authtoken", method: "GET", pattern: "/customer/{tenant}/refreshauthtoken", auth: authAnonymous, handler: (*Server).refreshCustomer},
	{id: "GET-customer-validate-token", method: "GET", pattern: "/customer/{tenant}/validateauthtoken", auth: authCustomer, handler: (*Server).validate},
	{id: "POST-customer-exchange-authtoken", method: "POST", pattern: "/customer/{tenant}/exchangeauthtoken", auth: authAnonymous, has403: true, handler: (*Server).exchange},
	{id: "POST-customer-login-customer-by-auth0", method: "POST", pattern: "/customer/{tenant}/socialLogin", auth: authAnonymous, handler: (*Server).socialLogin},
	{id: "GET-customer-retrieve-customer-profile", method: "GET", pattern: "/customer/{tenant}/me", auth: authAny, has403: true, handler: (*Server).getProfile},
	{id: "PATCH-customer-update-customer", method: "PATCH", pattern: "/customer/{tenant}/me", auth: authCustomer, has403: true, handler: (*Server).patchProfile},
	{id: "GET-customer-list-customer-addresses", method: "GET", pattern: "/customer/{tenant}/me/addresses", auth: authCustomer, has403: true, handler: (*Server).listAddresses},
	{id: "POST-customer-add-address", method: "POST", pattern: "/customer/{tenant}/me/addresses", auth: authCustomer, has403: true, handler: (*Server).createAddress},
	{id: "GET-customer-retrieve-address-by-id", method: "GET", pattern: "/customer/{tenant}/me/addresses/{addressId}", auth: authCustomer, has403: true, handler: (*Server).getAddress},
	{id: "PATCH-customer-update-customer-address", method: "PATCH", pattern: "/customer/{tenant}/me/addresses/{addressId}", auth: authCustomer, has403: true, handler: (*Server).updateAddress},
	{id: "DELETE-customer-remove-customer-address-by-id", method: "DELETE", pattern: "/customer/{tenant}/me/addresses/{addressId}", auth: authCustomer, has403: true, handler: (*Server).deleteAddress},
	{id: "POST-customer-add-address-tags", method: "POST", pattern: "/customer/{tenant}/me/addresses/{addressId}/tags", auth: authCustomer, has403: true, handler: (*Server).addTags},
	{id: "DELETE-customer-remove-address-tags", method: "DELETE", pattern: "/customer/{tenant}/me/addresses/{addressId}/tags", auth: authCustomer, has403: true, handler: (*Server).removeTags},
	{id: "POST-customer-change-customer-login-email", method: "POST", pattern: "/customer/{tenant}/me/accounts/internal/email/change", auth: authCustomer, has403: true, handler: (*Server).requestEmailChange},
	{id: "POST-customer-confirm-customer-login-email", method: "POST", pattern: "/customer/{tenant}/me/accounts/internal/email/change/confirm", auth: authAnonymous, has403: true, handler: (*Server).confirmEmailChange},
	{id: "POST-customer-request-reset-password", method: "POST", pattern: "/customer/{tenant}/password/reset", auth: authAnonymous, has403: true, handler: (*Server).requestPasswordReset},
	{id: "POST-customer-reset-password", method: "POST", pattern: "/customer/{tenant}/password/reset/update", auth: authAnonymous, has403: true, handler: (*Server).resetPassword},
	{id: "POST-customer-change-account-password", method: "POST", pattern: "/customer/{tenant}/password/change", auth: authCustomer, has403: true, handler: (*Server).changePassword},
	{id: "GET-customer-signup-customer-optin", method: "GET", pattern: "/customer/{tenant}/signup/optin/{token}", auth: authAnonymous, handler: (*Server).confirmOptIn},
	{id: "POST-customer-refresh-token", method: "POST", pattern: "/customer/{tenant}/signup/optin/refresh_token", auth: authAnonymous, handler: (*Server).resendOptIn},
	{id: "POST-oauth-request-client-credentials", method: "POST", pattern: "/oauth/token", auth: authNone, handler: (*Server).serviceToken},
	{id: "PATCH-customer-tenant-update-customer", method: "PATCH", pattern: "/customer/{tenant}/customers/{customerNumber}", auth: authService, has403: true, handler: (*Server).patchCustomerBySeller},
	{id: "POST-cart-create-cart", method: "POST", pattern: "/cart/{tenant}/carts", auth: authCart, has403: true, cart: true, handler: (*Server).createCart},
	{id: "GET-cart-retrieve-cart-by-criteria", method: "GET", pattern: "/cart/{tenant}/carts", auth: authCart, has403: true, cart: true, handler: (*Server).findCartByCriteria},
	{id: "GET-cart-retrieve-cart-by-cartId", method: "GET", pattern: "/cart/{tenant}/carts/{cartId}", auth: authCart, has403: true, cart: true, handler: (*Server).getCart},
	{id: "POST-cart-add-item-to-cart", method: "POST", pattern: "/cart/{tenant}/carts/{cartId}/items", auth: authCart, has403: true, cart: true, handler: (*Server).addCartItem},
	{id: "POST-cart-merge-carts", method: "POST", pattern: "/cart/{tenant}/carts/{cartId}/merge", auth: authCart, has403: true, cart: true, handler: (*Server).mergeCarts},
}

var routeByID = map[string]*route{}

func init() {
	for _, r := range routes {
		r.segs = strings.Split(strings.TrimPrefix(r.pattern, "/"), "/")
		routeByID[r.id] = r
	}
}

// match finds the route for a request. When none fits it returns the
// answer instead: 404 for an unknown path, 405 (with Allow) for a known
// path and another method. A literal segment beats a parameter, so POST
// .../optin/refresh_token is not taken for an opt-in token.
func match(method, escapedPath string) (*route, map[string]string, *reply) {
	raw := strings.Split(strings.TrimPrefix(escapedPath, "/"), "/")
	segs := make([]string, len(raw))
	for i, seg := range raw {
		u, err := url.PathUnescape(seg)
		if err != nil {
			rep := errReply(http.StatusNotFound, "not_found", "No endpoint "+method+" "+escapedPath)
			return nil, nil, &rep
		}
		segs[i] = u
	}
	var best *route
	var bestParams map[string]string
	bestLiterals := -1
	allowed := map[string]bool{}
	for _, r := range routes {
		params, literals, ok := r.matchSegs(segs)
		if !ok {
			continue
		}
		allowed[r.method] = true
		if r.method == method && literals > bestLiterals {
			best, bestParams, bestLiterals = r, params, literals
		}
	}
	if best != nil {
		return best, bestParams, nil
	}
	if len(allowed) == 0 {
		rep := errReply(http.StatusNotFound, "not_found", "No endpoint "+method+" "+escapedPath)
		return nil, nil, &rep
	}
	methods := make([]string, 0, len(allowed))
	for m := range allowed {
		methods = append(methods, m)
	}
	sort.Strings(methods)
	rep := errReply(http.StatusMethodNotAllowed, "method_not_allowed", "Method "+method+" is not allowed for "+escapedPath)
	rep.header = http.Header{"Allow": {strings.Join(methods, ", ")}}
	return nil, nil, &rep
}

func (r *route) matchSegs(segs []string) (map[string]string, int, bool) {
	if len(segs) != len(r.segs) {
		return nil, 0, false
	}
	params := map[string]string{}
	literals := 0
	for i, p := range r.segs {
		if strings.HasPrefix(p, "{") {
			if segs[i] == "" {
				return nil, 0, false
			}
			params[strings.Trim(p, "{}")] = segs[i]
			continue
		}
		if p != segs[i] {
			return nil, 0, false
		}
		literals++
	}
	return params, literals, true
}
