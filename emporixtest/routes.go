package emporixtest

import (
	"net/http"
	"strings"

	"github.com/emporix-go/emporix/internal/optable"
)

// handlers are the fake's operations by the spec's operationId. Their
// methods, paths and token kinds come from the operation table
// (internal/optable), which the SDK is built from too.
var handlers = map[string]func(*Server, *call) reply{
	"GET-oauth-generate-anonymous-access-token":     (*Server).anonymousLogin,
	"GET-oauth-refresh-anonymous-access-token":      (*Server).anonymousRefresh,
	"POST-customer-create-customer-account":         (*Server).signup,
	"POST-customer-authenticate-customer":           (*Server).login,
	"GET-customer-logout-customer":                  (*Server).logout,
	"GET-customer-refresh-authtoken":                (*Server).refreshCustomer,
	"GET-customer-validate-token":                   (*Server).validate,
	"POST-customer-exchange-authtoken":              (*Server).exchange,
	"POST-customer-login-customer-by-auth0":         (*Server).socialLogin,
	"GET-customer-signup-customer-optin":            (*Server).confirmOptIn,
	"POST-customer-refresh-token":                   (*Server).resendOptIn,
	"GET-customer-retrieve-customer-profile":        (*Server).getProfile,
	"PATCH-customer-update-customer":                (*Server).patchProfile,
	"GET-customer-list-customer-addresses":          (*Server).listAddresses,
	"POST-customer-add-address":                     (*Server).createAddress,
	"GET-customer-retrieve-address-by-id":           (*Server).getAddress,
	"PATCH-customer-update-customer-address":        (*Server).updateAddress,
	"DELETE-customer-remove-customer-address-by-id": (*Server).deleteAddress,
	"POST-customer-add-address-tags":                (*Server).addTags,
	"DELETE-customer-remove-address-tags":           (*Server).removeTags,
	"POST-customer-change-customer-login-email":     (*Server).requestEmailChange,
	"POST-customer-confirm-customer-login-email":    (*Server).confirmEmailChange,
	"POST-customer-request-reset-password":          (*Server).requestPasswordReset,
	"POST-customer-reset-password":                  (*Server).resetPassword,
	"POST-customer-change-account-password":         (*Server).changePassword,
	"POST-oauth-request-client-credentials":         (*Server).serviceToken,
	"PATCH-customer-tenant-update-customer":         (*Server).patchCustomerBySeller,
	"POST-cart-create-cart":                         (*Server).createCart,
	"GET-cart-retrieve-cart-by-criteria":            (*Server).findCartByCriteria,
	"GET-cart-retrieve-cart-by-cartId":              (*Server).getCart,
	"POST-cart-add-item-to-cart":                    (*Server).addCartItem,
	"POST-cart-merge-carts":                         (*Server).mergeCarts,
}

// route is one operation of the fake: its row of the table and its
// handler.
type route struct {
	*optable.Op
	params  []string // the path template's placeholders
	handler func(*Server, *call) reply
}

// cart marks the Cart Service's operations, whose errors have the cart's
// ErrorMessage shape {code, status, message}.
func (r *route) cart() bool { return r.Doc == optable.DocCart }

// routes are the table's operations that have a handler (TestRoutesFollowTheTable
// checks that every one does), and mux routes requests to them with the
// table's method and path template as a ServeMux pattern: a literal
// segment beats a placeholder, so POST .../optin/refresh_token is not
// taken for an opt-in token.
var (
	routes    []*route
	routeByID = map[string]*route{}
	mux       = http.NewServeMux()
)

func init() {
	for i := range optable.Ops {
		o := &optable.Ops[i]
		h := handlers[o.ID]
		if h == nil {
			continue
		}
		rt := &route{Op: o, handler: h}
		for _, seg := range strings.Split(o.Path, "/") {
			if strings.HasPrefix(seg, "{") {
				rt.params = append(rt.params, strings.Trim(seg, "{}"))
			}
		}
		routes = append(routes, rt)
		routeByID[o.ID] = rt
		mux.Handle(o.Pattern(), rt)
	}
}

// match finds the route for a request and its unescaped path parameters.
// When none fits it returns the answer instead, in the service's error
// shape: 405 with an Allow header for a known path and another method,
// else 404 (an unknown path, or one the mux would redirect to its clean
// form). HEAD is one of the other methods: the spec documents none, and a
// ServeMux GET pattern would take it and run the GET operation (anonymous
// login, logout) without a body to show for it, so the mux is asked with
// TRACE, a method no route has, which leaves it the 404 or 405 to find.
func match(r *http.Request) (*route, map[string]string, *reply) {
	asked := r
	if r.Method == http.MethodHead {
		asked = r.WithContext(r.Context()) // a shallow copy
		asked.Method = "TRACE"
	}
	var m matcher
	mux.ServeHTTP(&m, asked)
	if m.route != nil {
		return m.route, m.params, nil
	}
	if m.status == http.StatusMethodNotAllowed {
		rep := errReply(http.StatusMethodNotAllowed, "method_not_allowed", "Method "+r.Method+" is not allowed for "+r.URL.EscapedPath())
		var allow []string
		for _, method := range strings.Split(m.header.Get("Allow"), ", ") {
			if method != http.MethodHead {
				allow = append(allow, method)
			}
		}
		rep.header = http.Header{"Allow": {strings.Join(allow, ", ")}}
		return nil, nil, &rep
	}
	rep := errReply(http.StatusNotFound, "not_found", "No endpoint "+r.Method+" "+r.URL.EscapedPath())
	return nil, nil, &rep
}

// matcher is the ResponseWriter match routes a request into: a route
// records itself there, while the mux's own answers (404, 405, redirects)
// leave only their status and headers.
type matcher struct {
	route  *route
	params map[string]string
	status int
	header http.Header
}

func (m *matcher) Header() http.Header {
	if m.header == nil {
		m.header = http.Header{}
	}
	return m.header
}

func (m *matcher) Write(b []byte) (int, error) { return len(b), nil }

func (m *matcher) WriteHeader(status int) { m.status = status }

// ServeHTTP records the route and its path parameters in the matcher.
func (rt *route) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	m := w.(*matcher)
	m.route = rt
	m.params = make(map[string]string, len(rt.params))
	for _, name := range rt.params {
		m.params[name] = r.PathValue(name)
	}
}
