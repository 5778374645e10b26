package emporix

import "time"

// Token lifetimes Emporix documents, used when a token answer omits an
// expiry (expires_in, refresh_token_expires_in or their camelCase twins),
// sends null, zero or a negative number, or sends a value that cannot be
// read as seconds. The spec's AnonymousAccessToken schema does not list
// refresh_token_expires_in at all, and answers recorded from real tenants
// omit it, so these defaults decide how long such a session is kept.
//
// Sources: Emporix's "Customer Service (Customer Managed) Tutorial" ("The
// anonymous token is valid for one hour", "The refresh token is valid for 24
// hours (86399 seconds)", "The customer access token is valid for 30 days
// (2591999 seconds)"; its login and refresh answers carry
// refresh_token_expires_in 86399 and 86390) and, for token exchange, the
// example of ExchangeAuthTokenResponse in the customer-managed OpenAPI
// document (expires_in 14399, refresh_token_expires_in 15551999).
const (
	// DefaultAnonymousAccessLifetime is an anonymous access token's
	// lifetime (tutorial: one hour, expires_in 3599).
	DefaultAnonymousAccessLifetime = time.Hour
	// DefaultAnonymousRefreshLifetime is an anonymous refresh token's
	// lifetime (tutorial: 24 hours, refresh_token_expires_in 86399).
	DefaultAnonymousRefreshLifetime = 24 * time.Hour
	// DefaultCustomerAccessLifetime is a customer access token's lifetime
	// after a password, social or double opt-in login and a refresh
	// (tutorial: 30 days, expires_in 2591999).
	DefaultCustomerAccessLifetime = 30 * 24 * time.Hour
	// DefaultCustomerRefreshLifetime is a customer refresh token's
	// lifetime (tutorial: refresh_token_expires_in 86399, 24 hours).
	DefaultCustomerRefreshLifetime = 24 * time.Hour
	// DefaultExchangeAccessLifetime is the access token lifetime of a token
	// exchange (the spec's example: expires_in 14399, 4 hours).
	DefaultExchangeAccessLifetime = 4 * time.Hour
	// DefaultExchangeRefreshLifetime is the refresh token lifetime of a
	// token exchange (the spec's example: refresh_token_expires_in
	// 15551999, 180 days).
	DefaultExchangeRefreshLifetime = 180 * 24 * time.Hour
)

// lifetimes are the defaults one operation's answer falls back on.
type lifetimes struct{ access, refresh time.Duration }

// defaultLifetimes returns the documented lifetimes of the tokens op
// answers with. Service tokens have none: their lifetime is left unknown.
func defaultLifetimes(op *operation, kind TokenKind) lifetimes {
	switch {
	case op == opExchange:
		return lifetimes{DefaultExchangeAccessLifetime, DefaultExchangeRefreshLifetime}
	case kind == KindAnonymous:
		return lifetimes{DefaultAnonymousAccessLifetime, DefaultAnonymousRefreshLifetime}
	case kind == KindCustomer:
		return lifetimes{DefaultCustomerAccessLifetime, DefaultCustomerRefreshLifetime}
	}
	return lifetimes{}
}

// kindLifetimes are the defaults for a token whose answer is no longer at
// hand (a token built by the application or stored by an older release):
// the longest documented for its kind, so that no deadline computed from
// them cuts a live session short.
func kindLifetimes(kind TokenKind) lifetimes {
	switch kind {
	case KindAnonymous:
		return lifetimes{DefaultAnonymousAccessLifetime, DefaultAnonymousRefreshLifetime}
	case KindCustomer:
		return lifetimes{DefaultCustomerAccessLifetime, DefaultExchangeRefreshLifetime}
	}
	return lifetimes{}
}
