// Command quickstart walks the Emporix Customer Management tutorial through
// the SDK, one step at a time: anonymous session, sign-up, activation,
// guest cart, login, cart merge, profile, addresses, credentials and logout.
// The shopper's tokens live in an emporix.Session (SessionManager over a
// MemoryStore), which refreshes them when due or rejected, as a storefront
// would keep them.
//
//	go run ./examples/quickstart
//
// Without EMPORIX_TENANT it runs against emporixtest, an in-process fake of
// the Emporix API, and says so. To run it against a tenant:
//
//	EMPORIX_TENANT=mytenant EMPORIX_CLIENT_ID=storefront-client-id \
//	EMPORIX_SERVICE_CLIENT_ID=... EMPORIX_SERVICE_CLIENT_SECRET=... \
//	go run ./examples/quickstart
//
// EMPORIX_API_URL overrides https://api.emporix.io. The service credentials
// are optional: they activate the new account on tenants that keep sign-ups
// inactive. The cart steps run on a tenant only when asked to, since a cart
// needs a product and its price there: EMPORIX_CART_ITEM_YRN,
// EMPORIX_CART_PRICE_ID, EMPORIX_CART_PRICE_AMOUNT and optionally
// EMPORIX_CART_SITE (default main). Each run signs up a new customer with a fresh e-mail address
// (the API has no self-deletion). Identifiers and session IDs are printed;
// tokens, passwords and e-mailed codes never are.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"time"
)

func main() {
	cfg, err := configFromEnv(os.Getenv)
	if err != nil {
		fmt.Fprintln(os.Stderr, "quickstart:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()

	if err := run(ctx, cfg, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "quickstart:", err)
		os.Exit(1)
	}
}
