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

	// RedisURL (REDIS_URL, optional) keeps the sessions in Redis, shared by
	// every replica, instead of in this process: see newTokenStore.
	RedisURL string
	// SealKeys (EMPORIX_SEAL_KEY, optional, only with REDIS_URL) seal the
	// sessions stored in Redis: see parseSealKeys.
	SealKeys sealKeys
}

func configFromEnv(getenv func(string) string) (config, error) {
	cfg := config{
		APIURL:              getenv("EMPORIX_API_URL"),
		Tenant:              getenv("EMPORIX_TENANT"),
		ClientID:            getenv("EMPORIX_CLIENT_ID"),
		ServiceClientID:     getenv("EMPORIX_SERVICE_CLIENT_ID"),
		ServiceClientSecret: getenv("EMPORIX_SERVICE_CLIENT_SECRET"),
		RedisURL:            getenv("REDIS_URL"),
	}
	if cfg.APIURL == "" {
		cfg.APIURL = emporix.DefaultBaseURL
	}
	if v := getenv("EMPORIX_SEAL_KEY"); v != "" {
		if cfg.RedisURL == "" {
			return cfg, errors.New("EMPORIX_SEAL_KEY is set but REDIS_URL is not: sealing applies to sessions stored in Redis")
		}
		keys, err := parseSealKeys(v)
		if err != nil {
			return cfg, err
		}
		cfg.SealKeys = keys
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
	c.APIURL, c.Tenant, c.ClientID = srv.URL(), srv.Tenant(), srv.ClientID()
	c.ServiceClientID, c.ServiceClientSecret = srv.ServiceClientID(), srv.ServiceClientSecret()
	return srv.Close
}

// serviceCredentials returns the credentials that activate sign-ups, or nil.
func (c config) serviceCredentials() *emporix.ServiceCredentials {
	if c.ServiceClientID == "" {
		return nil
	}
	return &emporix.ServiceCredentials{ClientID: c.ServiceClientID, ClientSecret: emporix.Secret(c.ServiceClientSecret)}
}

// newClient returns the one Client the whole process shares.
func newClient(cfg config, logger *slog.Logger) (*emporix.Client, error) {
	return emporix.NewClient(cfg.Tenant, cfg.ClientID,
		emporix.WithBaseURL(cfg.APIURL),
		emporix.WithUserAgent("emporix-go-storefront-example"),
		emporix.WithLogger(logger))
}
