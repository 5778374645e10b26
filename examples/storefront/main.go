// Command storefront is a small storefront backend built on the SDK's
// session manager: every shopper gets an HttpOnly cookie holding a random
// key, the key names a Session in a token store, and the Session keeps the
// shopper's anonymous and customer tokens fresh. It serves a JSON API:
//
//	GET    /                 the shopper's session ID and whether logged in
//	POST   /signup           {"email","password","firstName","lastName"}
//	POST   /login            {"email","password"}
//	GET    /profile          the logged-in customer's profile
//	GET    /addresses        the customer's addresses
//	POST   /addresses        {"contactName","street","streetNumber","zipCode","city","country",...}
//	DELETE /addresses/{id}   remove one
//	GET    /cart             the guest's cart, or the customer's once logged in
//	POST   /cart/items       {"itemYrn","priceId","amount","quantity"}
//	POST   /logout           end the session
//
// The cart routes call the Emporix Cart Service through the session's
// HTTP client (emporix.Session.HTTPClient), which authorizes them with the
// shopper's tokens; the login merges the guest cart into the customer's.
//
// Run it with
//
//	go run -C examples/storefront . [-addr 127.0.0.1:8080]
//
// (it is a module of its own, so that the SDK does not depend on a Redis
// client). Without EMPORIX_TENANT it serves an in-process fake of the
// Emporix API (emporixtest) and says so; with EMPORIX_TENANT and
// EMPORIX_CLIENT_ID (and optionally EMPORIX_API_URL,
// EMPORIX_SERVICE_CLIENT_ID and EMPORIX_SERVICE_CLIENT_SECRET) it talks to
// that tenant.
//
// Sessions live in this process unless REDIS_URL
// (redis://[:password@]host:port/db) is set: then they live in Redis, and
// several replicas can serve the same shoppers. EMPORIX_SEAL_KEY, a base64-encoded 32-byte key
// (`openssl rand -base64 32`; for rotation "new,old"), stores their tokens
// encrypted. Each run on the fake mints its own tokens, so replicas sharing
// one Redis need a real tenant. Try it with curl:
//
//	curl -c jar -b jar localhost:8080/
//	curl -c jar -b jar -d '{"email":"jane@example.com","password":"password123"}' localhost:8080/signup
//	curl -c jar -b jar -d '{"email":"jane@example.com","password":"password123"}' localhost:8080/login
//	curl -c jar -b jar localhost:8080/profile
//	curl -c jar -b jar -d '{"itemYrn":"urn:yaas:saasag:caasproduct:product:mytenant;tomato","priceId":"p1","amount":4.99,"quantity":2}' localhost:8080/cart/items
//	curl -c jar -b jar localhost:8080/cart
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "address to listen on")
	flag.Parse()
	logger := slog.New(slog.NewTextHandler(os.Stderr, nil))
	if err := serve(*addr, logger); err != nil {
		fmt.Fprintln(os.Stderr, "storefront:", err)
		os.Exit(1)
	}
}

func serve(addr string, logger *slog.Logger) error {
	cfg, err := configFromEnv(os.Getenv)
	if err != nil {
		return err
	}
	if cfg.Tenant == "" {
		stop := cfg.startFake()
		defer stop()
		logger.Info("EMPORIX_TENANT is not set: serving on emporixtest, an in-process fake of the Emporix API", "api", cfg.APIURL)
	}

	client, err := newClient(cfg, logger)
	if err != nil {
		return err
	}
	store, closeStore, err := newTokenStore(context.Background(), cfg, logger)
	if err != nil {
		return err
	}
	defer func() {
		if err := closeStore(); err != nil {
			logger.Warn("closing the session store", "error", err)
		}
	}()
	moves := newCartMoves()
	sessions, err := newSessionManager(client, store, logger, moves)
	if err != nil {
		return err
	}
	opts := []Option{WithCartMoves(moves)}
	if creds := cfg.serviceCredentials(); creds != nil {
		opts = append(opts, WithActivation(*creds))
	}
	handler := NewServer(sessions, append(opts, WithLogger(logger))...)

	srv := &http.Server{
		Addr:              addr,
		Handler:           handler,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       60 * time.Second,
	}
	ctx, stopSignals := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stopSignals()
	errc := make(chan error, 1)
	go func() { errc <- srv.ListenAndServe() }()
	logger.Info("storefront listening", "url", "http://"+addr, "tenant", cfg.Tenant)

	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	logger.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
