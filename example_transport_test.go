package emporix_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log"
	"net/http"
	"net/url"
	"strings"

	"github.com/emporix-go/emporix"
	"github.com/emporix-go/emporix/emporixtest"
)

// A shopper's session authorizes calls to other Emporix services, such as
// the Cart Service, which the SDK does not wrap: its HTTP client sends the
// guest's anonymous token and session-id header (after the login, the
// customer token and its saas-token header) and renews a token the service
// rejects.
func ExampleSession_HTTPClient() {
	srv := emporixtest.NewServer() // stands in for https://api.emporix.io, carts included
	defer srv.Close()
	client, err := emporix.NewClient(srv.Tenant(), srv.ClientID(), srv.ClientOptions()...)
	if err != nil {
		log.Fatal(err)
	}
	sessions, err := emporix.NewSessionManager(client, emporix.NewMemoryStore())
	if err != nil {
		log.Fatal(err)
	}
	sess := sessions.Session(emporix.NewSessionKey()) // the key comes from the shopper's cookie
	ctx := context.Background()
	hc := sess.HTTPClient()
	carts := client.BaseURL() + "/cart/" + client.Tenant() + "/carts"

	// Create the guest cart: Emporix keys it by the session ID.
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, carts,
		strings.NewReader(`{"siteCode":"main","currency":"EUR","type":"shopping"}`))
	req.Header.Set("Content-Type", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		log.Fatal(err)
	}
	resp.Body.Close()
	fmt.Println("create:", resp.Status)

	// Find it again by the session ID.
	sessionID, err := sess.SessionID(ctx)
	if err != nil {
		log.Fatal(err)
	}
	q := url.Values{"siteCode": {"main"}, "type": {"shopping"}, "sessionId": {sessionID}}
	req, _ = http.NewRequestWithContext(ctx, http.MethodGet, carts+"?"+q.Encode(), nil)
	resp, err = hc.Do(req)
	if err != nil {
		log.Fatal(err)
	}
	defer resp.Body.Close()
	var cart struct {
		SessionID string `json:"sessionId"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&cart); err != nil {
		log.Fatal(err)
	}
	fmt.Println("find:", resp.Status)
	fmt.Println("the guest's cart:", cart.SessionID == sessionID)
	// Output:
	// create: 201 Created
	// find: 200 OK
	// the guest's cart: true
}
