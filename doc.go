// Package emporix is a client for the Emporix Commerce Engine's Customer
// Service (customer managed): the storefront API for anonymous shopper
// sessions, sign-up, customer login (password, social login, token exchange,
// double opt-in), customer-token refresh, validation and logout, and the
// logged-in customer's profile, addresses and credentials.
//
// # Clients and services
//
// Create one [Client] per process with [NewClient], giving the tenant and
// the storefront's client ID. Operations hang off its services:
// [Client.Auth], [Client.Profile], [Client.Addresses], [Client.Credentials],
// and [Client.Employee] for the two employee operations a storefront may need
// around sign-up. A Client is safe for concurrent use.
//
// # Authentication
//
// Emporix authorizes each operation with one kind of token. Anonymous login
// and refresh need none. Sign-up, login, social login, token exchange, double
// opt-in, customer-token refresh, password reset and e-mail change
// confirmation need the shopper's anonymous token. Profile updates, addresses,
// password and e-mail changes, validation and logout need the customer token.
// The SDK takes tokens from the client's [TokenSource] and checks the kind
// before sending anything, so a missing login fails fast with
// [ErrCustomerTokenRequired] instead of a 401. Serve each shopper through a
// client derived with [Client.WithTokenSource]: it shares the connection pool.
//
// # Sessions and other Emporix services
//
// A [SessionManager] keeps each shopper's tokens in a [TokenStore] and a
// [Session] renews them, keeping the session ID that keys the guest cart.
// The cart, checkout and other Emporix services the SDK does not wrap take
// the same tokens: [Session.HTTPClient] and [Session.Transport] authorize any
// request to the API host with them (plus the session-id or saas-token
// header those services read), renewing a rejected token and resending
// once; [WithTokenKind] picks the anonymous token after the login.
// [OAuth2TokenSource] hands a session or a service-token source to clients
// built on golang.org/x/oauth2.
//
// # Errors
//
// Every error the SDK returns is one of these types, reached with
// [errors.As]; match classes with [errors.Is] against the sentinels:
//
//	Type               When it appears                                  Matches
//	*ValidationError   bad input, refused before sending                ErrInvalidInput
//	*APIError          a non-success status, after any retries          ErrNotFound, ErrConflict, ErrUnauthorized,
//	                                                                    ErrTokenExpired, ErrRateLimited, ErrServer, ...
//	*ResponseError     a success whose body cannot be used (empty,      ErrInvalidResponse
//	                   malformed, over the size cap)
//	*RequestError      no answer: a broken connection, a timeout, a     its cause, such as context.DeadlineExceeded
//	                   cancelled context
//	*TokenError        the request's token could not be had (a          the cause's ErrSessionExpired, ErrServer, ...
//	                   session's refresh failed)
//
// A missing token of the right kind is [ErrNoToken],
// [ErrCustomerTokenRequired] or [ErrAnonymousTokenRequired], before any
// request. An [*APIError] keeps the server's message from any common error
// shape, or a masked snippet of the body when it has none.
//
// # Retries
//
// Retries are decided per operation, not per HTTP method; see [RetryPolicy].
// Reads are retried after transport errors and transient statuses; anything
// that may change state is retried only when the server surely did not act.
// A Retry-After longer than the policy allows or the context has left is
// returned at once as the [*APIError], with RetryAfter set.
//
// # Logging and secrets
//
// The SDK is silent unless given a logger with [WithLogger]. Access, refresh
// and SaaS tokens, passwords, reset and opt-in codes and client secrets never
// appear in log records, error strings, or the fmt and log/slog renderings of
// the SDK's types; query values outside a short allow-list are masked in
// every URL the SDK prints. They are of type [Secret], which prints masked
// wherever it sits: convert it, string(tok.AccessToken), to read it.
package emporix
