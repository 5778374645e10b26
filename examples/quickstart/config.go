package main

import (
	"errors"
	"strconv"
	"time"

	"github.com/emporix-go/emporix"
)

// config says which Emporix tenant to walk the tutorial on. With an empty
// Tenant, run starts an in-process fake instead.
type config struct {
	APIURL   string // EMPORIX_API_URL, default https://api.emporix.io
	Tenant   string // EMPORIX_TENANT
	ClientID string // EMPORIX_CLIENT_ID: the storefront API key
	// ServiceClientID and ServiceClientSecret (EMPORIX_SERVICE_CLIENT_ID,
	// EMPORIX_SERVICE_CLIENT_SECRET) are optional; with them the new account
	// is activated as an employee would.
	ServiceClientID     string
	ServiceClientSecret string

	// The cart steps need a product and its price on the tenant; they run
	// when CartItemYrn (EMPORIX_CART_ITEM_YRN) is set, and on the fake.
	CartItemYrn string  // EMPORIX_CART_ITEM_YRN: the product's YRN
	CartPriceID string  // EMPORIX_CART_PRICE_ID: its price's ID
	CartAmount  float64 // EMPORIX_CART_PRICE_AMOUNT: the price's amount
	CartSite    string  // EMPORIX_CART_SITE, default main

	// clock, when set, is the client's clock: the fake's, so that both
	// sides agree on expiries (tests only).
	clock func() time.Time
	// between, when set, runs after every step (tests move the fake's
	// clock with it).
	between func()
}

func configFromEnv(getenv func(string) string) (config, error) {
	cfg := config{
		APIURL:              getenv("EMPORIX_API_URL"),
		Tenant:              getenv("EMPORIX_TENANT"),
		ClientID:            getenv("EMPORIX_CLIENT_ID"),
		ServiceClientID:     getenv("EMPORIX_SERVICE_CLIENT_ID"),
		ServiceClientSecret: getenv("EMPORIX_SERVICE_CLIENT_SECRET"),
	}
	if cfg.APIURL == "" {
		cfg.APIURL = emporix.DefaultBaseURL
	}
	cfg.CartItemYrn, cfg.CartPriceID, cfg.CartSite = getenv("EMPORIX_CART_ITEM_YRN"), getenv("EMPORIX_CART_PRICE_ID"), getenv("EMPORIX_CART_SITE")
	if v := getenv("EMPORIX_CART_PRICE_AMOUNT"); v != "" {
		amount, err := strconv.ParseFloat(v, 64)
		if err != nil || amount < 0 {
			return cfg, errors.New("EMPORIX_CART_PRICE_AMOUNT must be a non-negative number, such as 4.99")
		}
		cfg.CartAmount = amount
	}
	if cfg.Tenant == "" {
		return cfg, nil // the in-process fake; the other variables do not matter
	}
	return cfg, cfg.check()
}

func (c config) check() error {
	if c.ClientID == "" {
		return errors.New("EMPORIX_CLIENT_ID is required with EMPORIX_TENANT")
	}
	if (c.ServiceClientID == "") != (c.ServiceClientSecret == "") {
		return errors.New("set both EMPORIX_SERVICE_CLIENT_ID and EMPORIX_SERVICE_CLIENT_SECRET, or neither")
	}
	if c.CartItemYrn != "" && c.CartPriceID == "" {
		return errors.New("EMPORIX_CART_ITEM_YRN needs EMPORIX_CART_PRICE_ID (and EMPORIX_CART_PRICE_AMOUNT)")
	}
	return nil
}

// cartSteps reports whether the cart steps run.
func (c config) cartSteps() bool { return c.CartItemYrn != "" }

func (c config) site() string {
	if c.CartSite == "" {
		return "main"
	}
	return c.CartSite
}

// canActivate reports whether service credentials were given.
func (c config) canActivate() bool { return c.ServiceClientID != "" }
