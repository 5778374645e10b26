package emporixtest

import "time"

// Defaults of a server built without options.
const (
	// DefaultTenant is the tenant served by default.
	DefaultTenant = "emporixtest"
	// DefaultClientID is the default storefront client ID.
	DefaultClientID = "emporixtest-storefront"
	// DefaultServiceClientID is the default client ID of the service
	// credentials.
	DefaultServiceClientID = "emporixtest-service"
	// DefaultServiceClientSecret is the default client secret of the
	// service credentials.
	DefaultServiceClientSecret = "emporixtest-service-secret"
)

// Option configures a [Server] at construction.
type Option func(*config)

type config struct {
	tenant        string
	clientID      string
	serviceID     string
	serviceSecret string
	start         time.Time
	lifetimes     Lifetimes
	signupMode    SignupMode
	configs       []string
}

func defaultConfig() config {
	return config{
		tenant:        DefaultTenant,
		clientID:      DefaultClientID,
		serviceID:     DefaultServiceClientID,
		serviceSecret: DefaultServiceClientSecret,
		start:         time.Now().UTC().Truncate(time.Second),
		lifetimes:     DefaultLifetimes(),
		signupMode:    SignupActive,
	}
}

// WithTenant sets the tenant the server serves (default [DefaultTenant]).
// The server does not check it against the Emporix tenant pattern, so a
// client's own validation can be tested.
func WithTenant(tenant string) Option { return func(c *config) { c.tenant = tenant } }

// WithClientID sets the storefront client ID that anonymous login and
// refresh accept (default [DefaultClientID]).
func WithClientID(clientID string) Option { return func(c *config) { c.clientID = clientID } }

// WithServiceCredentials sets the client ID and secret that POST
// /oauth/token accepts (defaults [DefaultServiceClientID] and
// [DefaultServiceClientSecret]).
func WithServiceCredentials(clientID, secret string) Option {
	return func(c *config) { c.serviceID, c.serviceSecret = clientID, secret }
}

// WithStartTime sets the fake clock's initial time (default: the real time
// at construction, truncated to the second). The clock stands still until
// [Server.Advance] moves it.
func WithStartTime(t time.Time) Option { return func(c *config) { c.start = t } }

// WithLifetimes sets token lifetimes; zero fields keep their defaults (see
// [DefaultLifetimes]).
func WithLifetimes(l Lifetimes) Option {
	return func(c *config) { c.lifetimes = c.lifetimes.merge(l) }
}

// WithSignupMode sets what happens to new sign-ups (default
// [SignupActive]).
func WithSignupMode(m SignupMode) Option { return func(c *config) { c.signupMode = m } }

// WithExchangeConfigs registers token-exchange configurations, such as
// "site_PL", that the config query parameter of exchangeauthtoken accepts.
// Omitting the parameter always selects the default configuration.
func WithExchangeConfigs(names ...string) Option {
	return func(c *config) { c.configs = append(c.configs, names...) }
}

// SignupMode selects what sign-up does with a new account.
type SignupMode int

const (
	// SignupActive makes new accounts active at once, so they can log in
	// right after sign-up. This is the default.
	SignupActive SignupMode = iota
	// SignupInactive keeps new accounts inactive, as the Emporix tutorial
	// describes, until an employee activates them with PATCH
	// /customer/{tenant}/customers/{customerNumber} {"active":true} or the
	// test calls [Server.ActivateCustomer]. Logging in before that fails
	// with 401.
	SignupInactive
	// SignupDoubleOptIn e-mails an opt-in token (see [MailOptIn]) instead
	// of activating the account; GET /customer/{tenant}/signup/optin/{token}
	// activates it and logs the customer in.
	SignupDoubleOptIn
)

// String names the mode.
func (m SignupMode) String() string {
	switch m {
	case SignupActive:
		return "active"
	case SignupInactive:
		return "inactive"
	case SignupDoubleOptIn:
		return "double-opt-in"
	}
	return "SignupMode(?)"
}

// SetSignupMode changes the sign-up mode for later sign-ups.
func (s *Server) SetSignupMode(m SignupMode) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cfg.signupMode = m
}
