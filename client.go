package emporix

import (
	"log/slog"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/hashicorp/go-retryablehttp"
)

// Version is the SDK version reported in the User-Agent header.
const Version = "0.1.0"

// DefaultBaseURL is the Emporix API host.
const DefaultBaseURL = "https://api.emporix.io"

// DefaultTimeout bounds each HTTP attempt of a client built without
// WithHTTPClient or WithTimeout.
const DefaultTimeout = 30 * time.Second

var tenantPattern = regexp.MustCompile(`^[a-z][a-z0-9]+$`)

// Client talks to the Emporix Customer Service (customer managed) of one
// tenant on behalf of one storefront. A Client is safe for concurrent use;
// create one per process and derive a per-shopper client with
// [Client.WithTokenSource], which shares the connection pool.
type Client struct {
	tenant    string
	clientID  string
	baseURL   string
	userAgent string
	tokens    TokenSource
	logger    *slog.Logger
	retry     RetryPolicy
	maxBody   int64                 // cap on a success body, in bytes
	http      *retryablehttp.Client // the retry engine (retry.go)
	now       func() time.Time
	observer  Observer
	sleep     sleepFunc // waits between attempts; nil: sleepCtx

	common service

	// Auth covers anonymous and customer tokens: anonymous login and
	// refresh, sign-up, login, social login, token exchange, double opt-in,
	// refresh, validation and logout.
	Auth *AuthService
	// Profile reads and updates the logged-in customer's profile.
	Profile *ProfileService
	// Addresses manages the logged-in customer's addresses and their tags.
	Addresses *AddressesService
	// Credentials changes and resets passwords and login e-mails.
	Credentials *CredentialsService
	// Employee holds the two employee operations a storefront may need
	// around sign-up: a service token and customer activation.
	Employee *EmployeeService
}

// service is the state every service shares: the client it hangs off.
type service struct{ client *Client }

// NewClient returns a client for tenant and the storefront's client ID (the
// public storefront API key, not a secret). The tenant must match the
// Emporix tenant pattern: lowercase letters and digits, starting with a
// letter, 3 to 16 characters; a host name or URL ("mytenant.emporix.io") is
// refused with a hint naming the tenant it holds. A blank client ID, or one
// with white space around it, is refused too. Bad input yields a
// *ValidationError matching ErrInvalidInput, before any request.
func NewClient(tenant, clientID string, opts ...Option) (*Client, error) {
	if err := validateTenant(tenant); err != nil {
		return nil, err
	}
	if err := validateClientID(clientID); err != nil {
		return nil, err
	}
	cfg := config{
		baseURL: DefaultBaseURL,
		retry:   DefaultRetryPolicy,
		maxBody: DefaultMaxResponseBytes,
		logger:  slog.New(slog.DiscardHandler),
		now:     time.Now,
	}
	for _, opt := range opts {
		if opt == nil {
			continue
		}
		if err := opt(&cfg); err != nil {
			return nil, err
		}
	}
	hc := cfg.httpClient
	if hc == nil {
		hc = &http.Client{Timeout: DefaultTimeout, Transport: defaultTransport()}
	}
	if cfg.timeout > 0 {
		hc.Timeout = cfg.timeout
	}
	if hc.CheckRedirect == nil {
		// The API does not redirect, and a followed redirect would carry
		// the request's body (passwords, client secrets) and, on the same
		// host, its Authorization to wherever it points.
		hc.CheckRedirect = refuseRedirect
	}
	userAgent := "emporix-go/" + Version
	if cfg.userAgent != "" {
		userAgent = cfg.userAgent + " " + userAgent
	}
	c := &Client{
		tenant:    tenant,
		clientID:  clientID,
		baseURL:   cfg.baseURL,
		userAgent: userAgent,
		tokens:    cfg.tokens,
		logger:    cfg.logger,
		retry:     cfg.retry,
		maxBody:   cfg.maxBody,
		now:       cfg.now,
		observer:  cfg.observer,
	}
	c.http = c.newRetryEngine(hc)
	c.initServices()
	return c, nil
}

func (c *Client) initServices() {
	c.common.client = c
	c.Auth = (*AuthService)(&c.common)
	c.Profile = (*ProfileService)(&c.common)
	c.Addresses = (*AddressesService)(&c.common)
	c.Credentials = (*CredentialsService)(&c.common)
	c.Employee = (*EmployeeService)(&c.common)
}

// WithTokenSource returns a client that authorizes requests with ts and
// shares everything else, including the connection pool, with c. It is
// cheap enough to call per shopper request.
func (c *Client) WithTokenSource(ts TokenSource) *Client {
	derived := *c
	derived.tokens = ts
	derived.initServices()
	return &derived
}

// WithToken returns a client that authorizes every request with the one
// token t, as with [SingleToken]. For a shopper use
// c.WithTokenSource(StaticTokens(anonymous, customer)): several operations
// (login among them) are authorized with the anonymous token even after
// login, and a client holding only the customer token refuses them with
// ErrAnonymousTokenRequired.
func (c *Client) WithToken(t *Token) *Client { return c.WithTokenSource(SingleToken(t)) }

// Tenant returns the tenant the client was built for.
func (c *Client) Tenant() string { return c.tenant }

// ClientID returns the storefront client ID.
func (c *Client) ClientID() string { return c.clientID }

// BaseURL returns the API base URL.
func (c *Client) BaseURL() string { return c.baseURL }

// TokenSource returns the client's token source, or nil.
func (c *Client) TokenSource() TokenSource { return c.tokens }

// String describes the client without its token source.
func (c *Client) String() string {
	return "emporix.Client{tenant=" + c.tenant + " baseURL=" + c.baseURL + "}"
}

// GoString describes the client without its token source.
func (c *Client) GoString() string { return c.String() }

// refuseRedirect makes the client return a redirect as the response,
// which then fails as an *APIError with the 3xx status.
func refuseRedirect(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

func validateTenant(tenant string) error {
	// A host name or URL is a common first guess; say what is wanted
	// rather than only that the length or pattern is wrong.
	if strings.Contains(tenant, ".") || strings.Contains(tenant, "/") || strings.Contains(tenant, ":") {
		reason := "must be the tenant name, not a host name or URL (the API's address is set with WithBaseURL)"
		if name := tenantFromHost(tenant); name != "" {
			reason += `; did you mean "` + name + `"?`
		}
		return invalid("tenant", reason)
	}
	if len(tenant) < 3 || len(tenant) > 16 {
		return invalid("tenant", "must be 3 to 16 characters long")
	}
	if !tenantPattern.MatchString(tenant) {
		return invalid("tenant", "must be lowercase letters and digits, starting with a letter")
	}
	return nil
}

// tenantFromHost guesses the tenant name in a host name or URL such as
// "https://mytenant.emporix.io/": its first label, if that is a valid
// tenant name; otherwise "".
func tenantFromHost(s string) string {
	if i := strings.Index(s, "://"); i >= 0 {
		s = s[i+3:]
	}
	name, _, _ := strings.Cut(s, ".")
	name = strings.ToLower(name)
	if len(name) < 3 || len(name) > 16 || !tenantPattern.MatchString(name) || name == "api" || name == "www" {
		return ""
	}
	return name
}

// validateClientID refuses a blank client ID, and one with white space
// around it (a copy-and-paste slip), which the service would answer only
// at the first call, with 401 Invalid ApiKey.
func validateClientID(clientID string) error {
	if blank(clientID) {
		return invalid("clientID", "must not be empty")
	}
	if strings.TrimSpace(clientID) != clientID {
		return invalid("clientID", "must not begin or end with white space")
	}
	return nil
}

// defaultTransport is a private pool sized for a backend that talks to one
// host for many shoppers at once: the standard two idle connections per
// host would make most requests dial anew.
func defaultTransport() *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns = 256
	t.MaxIdleConnsPerHost = 64
	return t
}
