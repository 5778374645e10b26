package main

import (
	"errors"

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
	return nil
}

// canActivate reports whether service credentials were given.
func (c config) canActivate() bool { return c.ServiceClientID != "" }
