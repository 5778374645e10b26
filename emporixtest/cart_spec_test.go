package emporixtest

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/emporix-go/emporix/internal/spectest"
)

// TestSpecCartHonesty runs the cart stand-in through a storefront's cart
// life (guest cart, items, login, customer cart, merge) with its
// authorization failures, and checks each request and answer against the
// Cart Service document.
func TestSpecCartHonesty(t *testing.T) {
	t.Parallel()
	srv := NewServer()
	defer srv.Close()
	spec := loadSpec(t, srv)
	// The cart document's CustomerAccessToken is any storefront bearer:
	// guests' carts are made with the anonymous token.
	spec.Classify = func(token string) string {
		switch srv.TokenKind(token) {
		case KindAnonymous, KindCustomer:
			return spectest.SchemeCustomer
		case KindService:
			return "OAuth2"
		}
		return ""
	}
	h := &honest{t: t, srv: srv, spec: spec, covered: map[string]bool{}}
	T := srv.Tenant()
	C := "/cart/" + T + "/carts"
	store := url.Values{"tenant": {T}, "client_id": {srv.ClientID()}}
	sessionHeader := func(id string) http.Header { return http.Header{"Session-Id": {id}} }

	a := h.do(ex{method: "GET", path: "/customerlogin/auth/anonymous/login", query: store, want: 200})
	anon, sid := str2(a, "access_token"), str2(a, "sessionId")
	b := h.do(ex{method: "GET", path: "/customerlogin/auth/anonymous/login", query: store, want: 200})
	stranger, strangerSID := str2(b, "access_token"), str2(b, "sessionId")

	// The guest cart.
	guestCart := `{"siteCode":"main","currency":"EUR","type":"shopping","channel":{"name":"storefront","source":"https://your-storefront.com/"}}`
	created := h.do(ex{method: "POST", path: C, bearer: anon, header: sessionHeader(sid), body: guestCart, want: 201})
	guest := str2(created, "cartId")
	if guest == "" {
		t.Fatal("no cartId")
	}
	h.do(ex{method: "POST", path: C, bearer: anon, header: sessionHeader(sid), body: guestCart, want: 409})
	h.do(ex{method: "POST", path: C, bearer: anon, body: guestCart, want: 400})
	h.do(ex{method: "POST", path: C, bearer: anon, header: sessionHeader(strangerSID), body: guestCart, want: 403})
	h.do(ex{method: "POST", path: C, bearer: anon, header: sessionHeader(sid), body: `{"siteCode":"main","currency":"EUR","type":"wishlist","customerId":"13869001"}`, want: 403})
	h.do(ex{method: "POST", path: C, bearer: anon, header: sessionHeader(sid), body: `{"siteCode":"main","currency":"euro"}`, want: 400, offSpec: true})
	h.do(ex{method: "POST", path: "/cart/othertenant/carts", bearer: anon, header: sessionHeader(sid), body: guestCart, want: 400})

	find := url.Values{"siteCode": {"main"}, "type": {"shopping"}, "sessionId": {sid}}
	found := h.do(ex{method: "GET", path: C, bearer: anon, query: find, want: 200})
	if found["id"] != guest || found["sessionId"] != sid {
		t.Errorf("find by session: %v", found)
	}
	h.do(ex{method: "GET", path: C, bearer: stranger, query: find, want: 403})
	h.do(ex{method: "GET", path: C, bearer: anon, query: url.Values{"siteCode": {"main"}, "sessionId": {sid}}, want: 404}) // no type: the cart without one
	h.do(ex{method: "GET", path: C, bearer: anon, query: url.Values{"sessionId": {sid}}, want: 400, offSpec: true})
	h.do(ex{method: "GET", path: C + "/" + guest, bearer: anon, want: 200})
	h.do(ex{method: "GET", path: C + "/" + guest, bearer: stranger, want: 403})
	// session-id is declared on create only; the service reads it there.
	h.do(ex{method: "GET", path: C + "/" + guest, bearer: anon, header: sessionHeader(strangerSID), want: 403, offSpec: true})
	h.do(ex{method: "GET", path: C + "/0123456789abcdef01234567", bearer: anon, want: 404})

	// Items.
	item := `{"itemYrn":"urn:yaas:saasag:caasproduct:product:` + T + `;tomato","price":{"priceId":"p1","originalAmount":4.99,"effectiveAmount":4.99,"currency":"EUR"},"quantity":1}`
	site := url.Values{"siteCode": {"main"}}
	added := h.do(ex{method: "POST", path: C + "/" + guest + "/items", bearer: anon, query: site, body: item, want: 201})
	again := h.do(ex{method: "POST", path: C + "/" + guest + "/items", bearer: anon, query: site, body: item, want: 201})
	if added["itemId"] != again["itemId"] {
		t.Errorf("the same product and price made a new line: %v, %v", added, again)
	}
	h.do(ex{method: "POST", path: C + "/" + guest + "/items", bearer: stranger, query: site, body: item, want: 403})
	h.do(ex{method: "POST", path: C + "/" + guest + "/items", bearer: anon, query: site, body: `{"itemYrn":"x","quantity":1}`, want: 400, offSpec: true})
	h.do(ex{method: "POST", path: C + "/" + guest + "/items", bearer: anon, body: item, want: 400, offSpec: true})

	// The guest logs in on the same session and gets a customer cart.
	_, err := srv.AddCustomer("cart@customer.com", "password123")
	if err != nil {
		t.Fatal(err)
	}
	// Off-spec only for this run's Classify, which serves the cart
	// document; TestSpecHonesty checks login.
	tok := h.do(ex{method: "POST", path: "/customer/" + T + "/login", bearer: anon, body: `{"email":"cart@customer.com","password":"password123"}`, want: 200, offSpec: true})
	cust, saas := str2(tok, "access_token"), str2(tok, "saas_token")
	info, _ := srv.Customer("cart@customer.com")
	customerCart := `{"customerId":"` + info.CustomerNumber + `","siteCode":"main","currency":"EUR","type":"shopping"}`
	h.do(ex{method: "POST", path: C, bearer: cust, body: customerCart, want: 400})
	h.do(ex{method: "POST", path: C, bearer: cust, header: http.Header{"Saas-Token": {fakeJWT("someone-else")}}, body: customerCart, want: 403})
	mine := h.do(ex{method: "POST", path: C, bearer: cust, header: http.Header{"Saas-Token": {saas}}, body: customerCart, want: 201})
	mineID := str2(mine, "cartId")
	byCustomer := url.Values{"siteCode": {"main"}, "type": {"shopping"}, "customerId": {info.CustomerNumber}}
	h.do(ex{method: "GET", path: C, bearer: cust, query: byCustomer, want: 200})
	h.do(ex{method: "GET", path: C, bearer: anon, query: byCustomer, want: 403})
	h.do(ex{method: "GET", path: C + "/" + mineID, bearer: anon, want: 403})

	// Merge: only into the customer's own cart, only the session's guest
	// carts.
	h.do(ex{method: "POST", path: C + "/" + guest + "/merge", bearer: cust, body: `{"carts":["` + guest + `"]}`, want: 403})
	h.do(ex{method: "POST", path: C + "/" + mineID + "/merge", bearer: anon, body: `{"carts":["` + guest + `"]}`, want: 403})
	other := h.do(ex{method: "POST", path: C, bearer: stranger, header: sessionHeader(strangerSID), body: guestCart, want: 201})
	h.do(ex{method: "POST", path: C + "/" + mineID + "/merge", bearer: cust, body: `{"carts":["` + str2(other, "cartId") + `"]}`, want: 403})
	h.do(ex{method: "POST", path: C + "/" + mineID + "/merge", bearer: cust, body: `{"carts":[]}`, want: 400, offSpec: true})
	h.do(ex{method: "POST", path: C + "/" + mineID + "/merge", bearer: cust, body: `{"carts":["` + guest + `"]}`, want: 200})
	h.do(ex{method: "POST", path: C + "/" + mineID + "/merge", bearer: cust, body: `{"carts":["` + guest + `"]}`, want: 404})
	merged := h.do(ex{method: "GET", path: C + "/" + mineID, bearer: cust, want: 200})
	items, _ := merged["items"].([]any)
	if len(items) != 1 || items[0].(map[string]any)["quantity"].(float64) != 2 {
		t.Errorf("merged cart items: %v", merged["items"])
	}

	// A service token reaches every cart; expired and unknown tokens are
	// the gateway's 401.
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {srv.ServiceClientID()}, "client_secret": {srv.ServiceClientSecret()}}
	svc := h.do(ex{method: "POST", path: "/oauth/token", body: form.Encode(), contentType: "application/x-www-form-urlencoded", want: 200})
	service := str2(svc, "access_token")
	h.do(ex{method: "GET", path: C + "/" + mineID, bearer: service, want: 200})
	h.do(ex{method: "GET", path: C, bearer: service, query: url.Values{"siteCode": {"main"}, "type": {"shopping"}, "sessionId": {strangerSID}}, want: 200})
	h.do(ex{method: "POST", path: C, bearer: service, body: guestCart, want: 400})
	h.do(ex{method: "POST", path: C, bearer: service, header: sessionHeader(strangerSID), body: `{"siteCode":"main","currency":"EUR","type":"wishlist"}`, want: 201})
	h.do(ex{method: "GET", path: C, bearer: "unknown", query: byCustomer, want: 401})
	srv.Advance(srv.Lifetimes().AnonymousAccess)
	expired := h.do(ex{method: "GET", path: C, bearer: anon, query: find, want: 401})
	if f, _ := expired["fault"].(map[string]any); f == nil || f["faultstring"] != "Access Token expired" {
		t.Errorf("expired token answer: %v", expired)
	}

	for _, r := range routes {
		if r.cart() && !h.covered[r.ID] {
			t.Errorf("the cart run never got a success from %s", r.ID)
		}
	}
}
