package main

import (
	"errors"
	"log/slog"

	"github.com/emporix-go/emporix"
	"github.com/emporix-go/emporix/emporixtest"
)

// config is read from the same environment variables as the quickstart.
type config struct {
	APIURL              string // EMPORIX_API_URL, default https://api.emporix.io
	Tenant              string // EMPORIX_TENANT; empty serves the in-process fake
	ClientID            string // EMPORIX_CLIENT_ID: the storefront API key
	ServiceClientID     string // EMPORIX_SERVICE_CLIENT_ID, optional
	ServiceClientSecret string // EMPORIX_SERVICE_CLIENT_SECRET, optional
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
		return cfg, nil
	}
	if cfg.ClientID == "" {
		return cfg, errors.New("EMPORIX_CLIENT_ID is required with EMPORIX_TENANT")
	}
	if (cfg.ServiceClientID == "") != (cfg.ServiceClientSecret == "") {
		return cfg, errors.New("set both EMPORIX_SERVICE_CLIENT_ID and EMPORIX_SERVICE_CLIENT_SECRET, or neither")
	}
	return cfg, nil
}

// startFake points cfg at a new in-process fake, which keeps sign-ups
// inactive as the tutorial's tenant does, so that the storefront activates
// them with the fake's service credentials. It returns the fake's Close.
func (c *config) startFake() (stop func()) {
	srv := emporixtest.NewServer(emporixtest.WithSignupMode(emporixtest.SignupInactive))
	*c = config{
		APIURL: srv.URL(), Tenant: srv.Tenant(), ClientID: srv.ClientID(),
		ServiceClientID: srv.ServiceClientID(), ServiceClientSecret: srv.ServiceClientSecret(),
	}
	return srv.Close
}

// serviceCredentials returns the credentials that activate sign-ups, or nil.
func (c config) serviceCredentials() *emporix.ServiceCredentials {
	if c.ServiceClientID == "" {
		return nil
	}
	return &emporix.ServiceCredentials{ClientID: c.ServiceClientID, ClientSecret: c.ServiceClientSecret}
}

// newClient returns the one Client the whole process shares.
func newClient(cfg config, logger *slog.Logger) (*emporix.Client, error) {
	return emporix.NewClient(cfg.Tenant, cfg.ClientID,
		emporix.WithBaseURL(cfg.APIURL),
		emporix.WithUserAgent("emporix-go-storefront-example"),
		emporix.WithLogger(logger))
}
