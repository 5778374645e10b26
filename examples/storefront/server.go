package main

import (
	"log/slog"
	"net/http"

	"github.com/emporix-go/emporix"
)

// shop holds what the handlers share. The handlers are grouped by concern:
// cookies.go (which session a request belongs to), browse.go, account.go
// (sign-up, login, logout), customer.go (profile and addresses), cart.go
// and cartapi.go (the Cart Service, through the session's HTTP client) and
// respond.go (JSON in and out, SDK errors to HTTP statuses).
type shop struct {
	sessions      *emporix.SessionManager
	activation    *emporix.ServiceCredentials
	moves         *cartMoves
	logger        *slog.Logger
	secureCookies bool
}

// Option configures the handler NewServer returns.
type Option func(*shop)

// WithActivation activates every new sign-up with the tenant's service
// credentials, for tenants that keep new accounts inactive. They stay on the
// server; shoppers never see them.
func WithActivation(creds emporix.ServiceCredentials) Option {
	return func(s *shop) { s.activation = &creds }
}

// WithCartMoves makes the shop move a guest cart to the new session when a
// shopper's session had to be replaced; moves is the one the session
// manager's change hook records into (see newSessionManager).
func WithCartMoves(moves *cartMoves) Option { return func(s *shop) { s.moves = moves } }

// WithLogger logs failed calls to Emporix. The SDK's errors carry no
// secrets, so they can be logged as they are.
func WithLogger(l *slog.Logger) Option { return func(s *shop) { s.logger = l } }

// WithSecureCookies marks the session cookie Secure even on plain HTTP
// requests, for a shop behind a TLS-terminating proxy. Requests that arrive
// over TLS always get a Secure cookie.
func WithSecureCookies() Option { return func(s *shop) { s.secureCookies = true } }

// NewServer returns the storefront's HTTP handler. Shoppers' sessions live
// in sessions' token store, keyed by the random value of their cookie.
func NewServer(sessions *emporix.SessionManager, opts ...Option) http.Handler {
	s := &shop{sessions: sessions, logger: slog.New(slog.DiscardHandler)}
	for _, opt := range opts {
		opt(s)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", s.browse)
	mux.HandleFunc("POST /signup", s.signup)
	mux.HandleFunc("POST /login", s.login)
	mux.HandleFunc("POST /logout", s.logout)
	mux.HandleFunc("GET /profile", s.profile)
	mux.HandleFunc("GET /addresses", s.listAddresses)
	mux.HandleFunc("POST /addresses", s.addAddress)
	mux.HandleFunc("DELETE /addresses/{id}", s.deleteAddress)
	mux.HandleFunc("GET /cart", s.getCart)
	mux.HandleFunc("POST /cart/items", s.addToCart)
	// Browsers send the session cookie along with cross-site requests that
	// SameSite=Lax still allows; refuse every cross-origin POST and DELETE.
	return http.NewCrossOriginProtection().Handler(mux)
}
