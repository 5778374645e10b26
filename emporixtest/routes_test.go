package emporixtest

import (
	"encoding/json"
	"net/http/httptest"
	"testing"

	"github.com/emporix-go/emporix/internal/optable"
)

// TestRoutesFollowTheTable: every row of the operation table has a
// handler and every handler a row, so an operation cannot be added to one
// and not the other.
func TestRoutesFollowTheTable(t *testing.T) {
	for i := range optable.Ops {
		if o := &optable.Ops[i]; routeByID[o.ID] == nil {
			t.Errorf("the fake has no handler for %s (%s)", o.ID, o.Pattern())
		}
	}
	for id := range handlers {
		if optable.ByID(id) == nil {
			t.Errorf("handler %s has no row in the operation table", id)
		}
	}
	if len(routes) != len(optable.Ops) || len(handlers) != len(optable.Ops) {
		t.Errorf("%d routes and %d handlers for %d operations", len(routes), len(handlers), len(optable.Ops))
	}
}

// TestRouteMatching pins how requests find their operation: a literal
// segment beats a placeholder of another method's route, parameters are
// unescaped per segment, paths that are not clean or leave a placeholder
// empty are unknown, and misses are answered in the service's error shape.
func TestRouteMatching(t *testing.T) {
	cases := []struct {
		method, path string
		op           string            // operationId, or "" for a miss
		params       map[string]string // of a hit
		status       int               // of a miss
		allow        string
	}{
		{"POST", "/customer/t/signup/optin/refresh_token", "POST-customer-refresh-token", map[string]string{"tenant": "t"}, 0, ""},
		{"GET", "/customer/t/signup/optin/refresh_token", "GET-customer-signup-customer-optin", map[string]string{"tenant": "t", "token": "refresh_token"}, 0, ""},
		{"GET", "/customer/t/signup/optin/a%2Fb%3Dc%20d", "GET-customer-signup-customer-optin", map[string]string{"tenant": "t", "token": "a/b=c d"}, 0, ""},
		{"GET", "/customer/a%2Fb/me", "GET-customer-retrieve-customer-profile", map[string]string{"tenant": "a/b"}, 0, ""},
		{"HEAD", "/customer/t/me", "", nil, 405, "GET, PATCH"},
		{"HEAD", "/customer/t/logout", "", nil, 405, "GET"},
		{"HEAD", "/nope", "", nil, 404, ""},
		{"DELETE", "/customer/t/me/addresses/x%2F1/tags", "DELETE-customer-remove-address-tags", map[string]string{"tenant": "t", "addressId": "x/1"}, 0, ""},
		{"POST", "/customer/t/signup/optin/abc", "", nil, 405, "GET"},
		{"PUT", "/customer/t/me/addresses/a1", "", nil, 405, "DELETE, GET, PATCH"},
		{"GET", "/customer/t/me/addresses/", "", nil, 404, ""},
		{"GET", "/customer/t//me", "", nil, 404, ""},
		{"GET", "/customer/t/./me", "", nil, 404, ""},
		{"GET", "/customer/t/me/", "", nil, 404, ""},
		{"GET", "/nope", "", nil, 404, ""},
	}
	for _, c := range cases {
		r := httptest.NewRequest(c.method, "http://fake"+c.path, nil)
		rt, params, miss := match(r)
		if c.op != "" {
			if rt == nil || rt.ID != c.op || miss != nil {
				t.Errorf("%s %s: route %v, miss %v; want %s", c.method, c.path, rt, miss, c.op)
				continue
			}
			if len(params) != len(c.params) {
				t.Errorf("%s %s: params %v, want %v", c.method, c.path, params, c.params)
			}
			for k, v := range c.params {
				if params[k] != v {
					t.Errorf("%s %s: param %s = %q, want %q", c.method, c.path, k, params[k], v)
				}
			}
			continue
		}
		if rt != nil || miss == nil {
			t.Errorf("%s %s: routed to %v", c.method, c.path, rt)
			continue
		}
		var body struct {
			Status int    `json:"status"`
			Type   string `json:"type"`
		}
		if miss.status != c.status || json.Unmarshal(miss.body, &body) != nil || body.Status != c.status || body.Type == "" {
			t.Errorf("%s %s: %d %s, want %d in the ErrorMessage shape", c.method, c.path, miss.status, miss.body, c.status)
		}
		if got := miss.header.Get("Allow"); got != c.allow {
			t.Errorf("%s %s: Allow %q, want %q", c.method, c.path, got, c.allow)
		}
	}
}
