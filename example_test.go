package emporix_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/emporix-go/emporix"
	"github.com/emporix-go/emporix/emporixtest"
)

// The examples run against emporixtest, an in-process fake of the Emporix
// API. Against a real tenant, drop WithBaseURL and pass your tenant and
// storefront client ID.

func ExampleNewClient() {
	srv := emporixtest.NewServer() // stands in for https://api.emporix.io
	defer srv.Close()

	client, err := emporix.NewClient(srv.Tenant(), srv.ClientID(), emporix.WithBaseURL(srv.URL()))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("tenant:", client.Tenant())

	// The tenant is checked before anything is sent.
	_, err = emporix.NewClient("My Shop", "storefront-client-id")
	fmt.Println("invalid tenant refused:", errors.Is(err, emporix.ErrInvalidInput))
	// Output:
	// tenant: emporixtest
	// invalid tenant refused: true
}

func ExampleAuthService_AnonymousLogin() {
	srv := emporixtest.NewServer()
	defer srv.Close()
	client, err := emporix.NewClient(srv.Tenant(), srv.ClientID(), emporix.WithBaseURL(srv.URL()))
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()

	// A guest arrives: its session ID keys the guest cart.
	anon, err := client.Auth.AnonymousLogin(ctx, &emporix.SessionContext{Currency: "EUR", SiteCode: "main"})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("kind:", anon.Kind)
	fmt.Println("has session ID:", anon.SessionID != "")
	fmt.Println("valid for about:", time.Until(anon.Expiry).Round(time.Minute))

	// Refreshing, rather than logging in anew, keeps the session ID.
	renewed, err := client.Auth.AnonymousRefresh(ctx, anon)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("same session ID after refresh:", renewed.SessionID == anon.SessionID)
	// Output:
	// kind: anonymous
	// has session ID: true
	// valid for about: 1h0m0s
	// same session ID after refresh: true
}

func ExampleAuthService_Login() {
	srv := emporixtest.NewServer()
	defer srv.Close()
	if _, err := srv.AddCustomer("john@example.com", "password123"); err != nil {
		log.Fatal(err)
	}
	client, err := emporix.NewClient(srv.Tenant(), srv.ClientID(), emporix.WithBaseURL(srv.URL()))
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()

	anon, err := client.Auth.AnonymousLogin(ctx, nil)
	if err != nil {
		log.Fatal(err)
	}
	// Login is authorized with the shopper's anonymous token, so the
	// session, and the guest cart, carry over to the customer.
	shopper := client.WithTokenSource(emporix.StaticTokens(anon, nil))
	cust, err := shopper.Auth.Login(ctx, &emporix.LoginRequest{Email: "john@example.com", Password: "password123"})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("kind:", cust.Kind)
	fmt.Println("same session ID:", cust.SessionID == anon.SessionID)
	fmt.Println("has SaaS token:", cust.SaasToken != "")
	// Tokens print with their secrets masked, under every verb.
	fmt.Println("printed token shows its secret:", strings.Contains(fmt.Sprintf("%+v", cust), string(cust.AccessToken)))
	// Output:
	// kind: customer
	// same session ID: true
	// has SaaS token: true
	// printed token shows its secret: false
}

func ExampleProfileService_Get() {
	srv := emporixtest.NewServer()
	defer srv.Close()
	if _, err := srv.AddCustomer("john@example.com", "password123"); err != nil {
		log.Fatal(err)
	}
	client, err := emporix.NewClient(srv.Tenant(), srv.ClientID(), emporix.WithBaseURL(srv.URL()))
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	anon, err := client.Auth.AnonymousLogin(ctx, nil)
	if err != nil {
		log.Fatal(err)
	}
	cust, err := client.WithTokenSource(emporix.StaticTokens(anon, nil)).Auth.Login(ctx,
		&emporix.LoginRequest{Email: "john@example.com", Password: "password123"})
	if err != nil {
		log.Fatal(err)
	}

	me := client.WithTokenSource(emporix.StaticTokens(anon, cust))
	profile, err := me.Profile.Get(ctx, &emporix.ProfileGetOptions{Expand: []string{"addresses", "mixin:*"}})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("contact e-mail:", profile.ContactEmail)
	fmt.Println("anonymous:", profile.Anonymous())
	fmt.Println("addresses:", len(profile.Addresses))

	// Update with the version just read: a stale one fails with ErrConflict.
	err = me.Profile.Update(ctx, &emporix.ProfileUpdate{
		FirstName: emporix.Ptr("John"),
		Metadata:  &emporix.Metadata{Version: profile.Version()},
	})
	fmt.Println("update:", err)
	err = me.Profile.Update(ctx, &emporix.ProfileUpdate{
		FirstName: emporix.Ptr("Johnny"),
		Metadata:  &emporix.Metadata{Version: profile.Version()},
	})
	fmt.Println("update with the stale version conflicts:", errors.Is(err, emporix.ErrConflict))

	// With only the anonymous token, the service answers with a pseudo-customer.
	guest, err := client.WithTokenSource(emporix.StaticTokens(anon, nil)).Profile.Get(ctx, nil)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("guest is anonymous:", guest.Anonymous())
	// Output:
	// contact e-mail: john@example.com
	// anonymous: false
	// addresses: 0
	// update: <nil>
	// update with the stale version conflicts: true
	// guest is anonymous: true
}

func ExampleAddressesService_Create() {
	srv := emporixtest.NewServer()
	defer srv.Close()
	if _, err := srv.AddCustomer("john@example.com", "password123"); err != nil {
		log.Fatal(err)
	}
	client, err := emporix.NewClient(srv.Tenant(), srv.ClientID(), emporix.WithBaseURL(srv.URL()))
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	anon, err := client.Auth.AnonymousLogin(ctx, nil)
	if err != nil {
		log.Fatal(err)
	}
	cust, err := client.WithTokenSource(emporix.StaticTokens(anon, nil)).Auth.Login(ctx,
		&emporix.LoginRequest{Email: "john@example.com", Password: "password123"})
	if err != nil {
		log.Fatal(err)
	}
	me := client.WithTokenSource(emporix.StaticTokens(anon, cust))

	id, err := me.Addresses.Create(ctx, &emporix.AddressCreate{
		ContactName: "John Doe", Street: "Platz der Republik", StreetNumber: "1",
		ZipCode: "11011", City: "Berlin", Country: "DE",
		Tags: []string{emporix.TagShipping},
	})
	if err != nil {
		log.Fatal(err)
	}
	if err := me.Addresses.AddTags(ctx, id, emporix.TagBilling); err != nil {
		log.Fatal(err)
	}
	addr, err := me.Addresses.Get(ctx, id)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(addr.Street, addr.StreetNumber, addr.City)
	fmt.Println("tags:", addr.Tags)
	fmt.Println("billing:", addr.HasTag(emporix.TagBilling))

	list, err := me.Addresses.List(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("addresses:", len(list))
	// Output:
	// Platz der Republik 1 Berlin
	// tags: [SHIPPING BILLING]
	// billing: true
	// addresses: 1
}

func ExampleSessionManager() {
	srv := emporixtest.NewServer()
	defer srv.Close()
	if _, err := srv.AddCustomer("john@example.com", "password123"); err != nil {
		log.Fatal(err)
	}
	// One client, store and manager per process.
	client, err := emporix.NewClient(srv.Tenant(), srv.ClientID(), emporix.WithBaseURL(srv.URL()))
	if err != nil {
		log.Fatal(err)
	}
	sessions, err := emporix.NewSessionManager(client, emporix.NewMemoryStore(),
		emporix.WithSessionContext(emporix.SessionContext{Currency: "EUR"}),
		emporix.WithSessionChangeHook(func(ctx context.Context, ch emporix.SessionChange) {
			// Move the guest cart from ch.OldSessionID to ch.NewSessionID.
		}))
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()

	// Per request: the key comes from the shopper's cookie, which holds
	// emporix.NewSessionKey() from the first visit.
	key := emporix.NewSessionKey()
	s := sessions.Session(key)
	guestID, err := s.SessionID(ctx) // starts the anonymous session
	if err != nil {
		log.Fatal(err)
	}

	if _, err := s.Login(ctx, &emporix.LoginRequest{Email: "john@example.com", Password: "password123"}); err != nil {
		log.Fatal(err)
	}
	// A later request of the same shopper gets a handle by the same key.
	s = sessions.Session(key)
	customerID, err := s.SessionID(ctx)
	if err != nil {
		log.Fatal(err)
	}
	loggedIn, _ := s.LoggedIn(ctx)
	fmt.Println("logged in:", loggedIn)
	fmt.Println("same session ID:", customerID == guestID)

	profile, err := s.Client().Profile.Get(ctx, nil) // authorized with the session's customer token
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("profile:", profile.ContactEmail)

	if err := s.Logout(ctx); err != nil {
		log.Fatal(err)
	}
	loggedIn, _ = s.LoggedIn(ctx)
	fmt.Println("logged in after logout:", loggedIn)
	// Output:
	// logged in: true
	// same session ID: true
	// profile: john@example.com
	// logged in after logout: false
}

func ExampleAPIError() {
	srv := emporixtest.NewServer()
	defer srv.Close()
	if _, err := srv.AddCustomer("john@example.com", "password123"); err != nil {
		log.Fatal(err)
	}
	client, err := emporix.NewClient(srv.Tenant(), srv.ClientID(), emporix.WithBaseURL(srv.URL()))
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	anon, err := client.Auth.AnonymousLogin(ctx, nil)
	if err != nil {
		log.Fatal(err)
	}
	shopper := client.WithTokenSource(emporix.StaticTokens(anon, nil))

	// Signing up an e-mail that has an account already.
	_, err = shopper.Auth.Signup(ctx, &emporix.SignupRequest{Email: "john@example.com", Password: "password123"})
	fmt.Println("conflict:", errors.Is(err, emporix.ErrConflict))
	var apiErr *emporix.APIError
	if errors.As(err, &apiErr) {
		fmt.Println("status:", apiErr.StatusCode, apiErr.Type)
	}

	// Reading an address that does not exist.
	cust, err := shopper.Auth.Login(ctx, &emporix.LoginRequest{Email: "john@example.com", Password: "password123"})
	if err != nil {
		log.Fatal(err)
	}
	me := client.WithTokenSource(emporix.StaticTokens(anon, cust))
	_, err = me.Addresses.Get(ctx, "no-such-address")
	fmt.Println("not found:", errors.Is(err, emporix.ErrNotFound))

	// An operation that needs a logged-in customer fails before sending.
	_, err = shopper.Addresses.List(ctx)
	fmt.Println("customer token required:", errors.Is(err, emporix.ErrCustomerTokenRequired))
	// Output:
	// conflict: true
	// status: 409 conflict_resource
	// not found: true
	// customer token required: true
}

func ExampleWithRetryPolicy() {
	srv := emporixtest.NewServer()
	defer srv.Close()
	client, err := emporix.NewClient(srv.Tenant(), srv.ClientID(), emporix.WithBaseURL(srv.URL()),
		emporix.WithRetryPolicy(emporix.RetryPolicy{MaxRetries: 3, MinWait: 10 * time.Millisecond, MaxWait: 100 * time.Millisecond}))
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	anon, err := client.Auth.AnonymousLogin(ctx, nil)
	if err != nil {
		log.Fatal(err)
	}
	guest := client.WithTokenSource(emporix.StaticTokens(anon, nil))

	// A read is retried after a 503 ...
	srv.InjectFault("GET-customer-retrieve-customer-profile", emporixtest.Fault{Status: http.StatusServiceUnavailable, Times: 2})
	_, err = guest.Profile.Get(ctx, nil)
	fmt.Println("profile read after two 503s:", err)

	// ... but a sign-up is not, unless the server says it did not act
	// (a 429 or 503 with Retry-After): repeating it could create the
	// account twice.
	srv.InjectFault("POST-customer-create-customer-account", emporixtest.Fault{Status: http.StatusServiceUnavailable})
	_, err = guest.Auth.Signup(ctx, &emporix.SignupRequest{Email: "jane@example.com", Password: "password123"})
	var apiErr *emporix.APIError
	if errors.As(err, &apiErr) {
		fmt.Println("sign-up:", apiErr.StatusCode, "after", apiErr.Attempts, "attempt")
	}
	// Output:
	// profile read after two 503s: <nil>
	// sign-up: 503 after 1 attempt
}

func ExampleWithLogger() {
	srv := emporixtest.NewServer()
	defer srv.Close()
	// Debug level shows every request; drop the time and duration to keep
	// the output stable.
	logger := slog.New(slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{
		Level: slog.LevelDebug,
		ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey || a.Key == "duration" {
				return slog.Attr{}
			}
			return a
		},
	}))
	client, err := emporix.NewClient(srv.Tenant(), srv.ClientID(), emporix.WithBaseURL(srv.URL()), emporix.WithLogger(logger))
	if err != nil {
		log.Fatal(err)
	}
	anon, err := client.Auth.AnonymousLogin(context.Background(), nil)
	if err != nil {
		log.Fatal(err)
	}
	// The refresh token travels in the query; it never appears in a record.
	_, err = client.Auth.AnonymousRefresh(context.Background(), anon)
	if err != nil {
		log.Fatal(err)
	}
	// Output:
	// level=DEBUG msg="emporix: request" operation=GET-oauth-generate-anonymous-access-token method=GET path=/customerlogin/auth/anonymous/login query="client_id=REDACTED&tenant=emporixtest" status=200 attempts=1
	// level=DEBUG msg="emporix: request" operation=GET-oauth-refresh-anonymous-access-token method=GET path=/customerlogin/auth/anonymous/refresh query="client_id=REDACTED&refresh_token=REDACTED&tenant=emporixtest" status=200 attempts=1
}

func ExampleFieldErrors() {
	srv := emporixtest.NewServer()
	defer srv.Close()
	if _, err := srv.AddCustomer("jane@example.com", "password123"); err != nil {
		log.Fatal(err)
	}
	client, err := emporix.NewClient(srv.Tenant(), srv.ClientID(), emporix.WithBaseURL(srv.URL()))
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	anon, err := client.Auth.AnonymousLogin(ctx, nil)
	if err != nil {
		log.Fatal(err)
	}
	cust, err := client.WithTokenSource(emporix.StaticTokens(anon, nil)).Auth.Login(ctx,
		&emporix.LoginRequest{Email: "jane@example.com", Password: "password123"})
	if err != nil {
		log.Fatal(err)
	}
	me := client.WithTokenSource(emporix.StaticTokens(anon, cust))

	// A rule the SDK checks before sending: the field comes by its JSON name.
	_, err = me.Addresses.Create(ctx, &emporix.AddressCreate{ContactName: "Jane Doe", Country: "Germany"})
	for _, fe := range emporix.FieldErrors(err) {
		fmt.Printf("%s: %s\n", fe.Field, fe.Message)
	}

	// A rule only the service knows, answered with a 400 validation_failure.
	srv.InjectFault("POST-customer-add-address", emporixtest.Fault{Status: 400, Body: `{"status":400,
		"type":"validation_failure","message":"The request is not valid.","details":[
		{"field":"zipCode","type":"invalid_value","message":"zipCode is not a postal code of DE."}]}`})
	_, err = me.Addresses.Create(ctx, &emporix.AddressCreate{ContactName: "Jane Doe", Country: "DE", ZipCode: "1"})
	for _, fe := range emporix.FieldErrors(err) {
		fmt.Printf("%s (%s): %s\n", fe.Field, fe.Type, fe.Message)
	}
	// Output:
	// country: must be a two-letter country code
	// zipCode (invalid_value): zipCode is not a postal code of DE.
}
