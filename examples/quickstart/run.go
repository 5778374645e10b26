package main

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"strings"

	"github.com/emporix-go/emporix"
	"github.com/emporix-go/emporix/emporixtest"
)

// StepError reports the tutorial step that failed.
type StepError struct {
	Step string
	Err  error
}

func (e *StepError) Error() string { return fmt.Sprintf("step %q failed: %v", e.Step, e.Err) }

func (e *StepError) Unwrap() error { return e.Err }

// run walks the tutorial on cfg's tenant, or on an in-process fake when
// cfg.Tenant is empty, and prints every step to out. It stops at the first
// failed step and returns a *StepError naming it.
func run(ctx context.Context, cfg config, out io.Writer) error {
	if cfg.Tenant == "" {
		// The fake keeps new sign-ups inactive, as the tutorial's tenant
		// does, so the activation step does real work.
		srv := emporixtest.NewServer(emporixtest.WithSignupMode(emporixtest.SignupInactive))
		defer srv.Close()
		cfg = config{
			APIURL:              srv.URL(),
			Tenant:              srv.Tenant(),
			ClientID:            srv.ClientID(),
			ServiceClientID:     srv.ServiceClientID(),
			ServiceClientSecret: srv.ServiceClientSecret(),
			// The fake's carts take any product.
			CartItemYrn: "urn:yaas:saasag:caasproduct:product:" + srv.Tenant() + ";quickstart-tea",
			CartPriceID: "quickstart-price", CartAmount: 4.99,
			clock: srv.Now,
		}
		fmt.Fprintln(out, "EMPORIX_TENANT is not set: running against emporixtest, an in-process fake of the")
		fmt.Fprintln(out, "Emporix API that keeps new sign-ups inactive and has service credentials for activation.")
		fmt.Fprintln(out, "Set EMPORIX_TENANT and EMPORIX_CLIENT_ID to run on your tenant.")
		fmt.Fprintln(out)
	}
	if err := cfg.check(); err != nil {
		return err
	}
	opts := []emporix.Option{emporix.WithBaseURL(cfg.APIURL), emporix.WithUserAgent("emporix-go-quickstart")}
	if cfg.clock != nil {
		opts = append(opts, emporix.WithClock(cfg.clock))
	}
	client, err := emporix.NewClient(cfg.Tenant, cfg.ClientID, opts...)
	if err != nil {
		return err
	}
	// The shopper's tokens live in a session, which refreshes them when
	// they are due or rejected, keeping the session ID (and the guest
	// cart). A storefront keeps one SessionManager per process and one
	// Session per shopper, named by a cookie.
	sessions, err := emporix.NewSessionManager(client, emporix.NewMemoryStore(),
		emporix.WithSessionContext(emporix.SessionContext{Currency: "EUR", SiteCode: cfg.site()}))
	if err != nil {
		return err
	}

	suffix := strings.ToLower(rand.Text()[:10]) // a fresh account each run
	t := &tour{
		cfg:      cfg,
		out:      out,
		client:   client,
		sess:     sessions.Session(emporix.NewSessionKey()),
		email:    "quickstart-" + suffix + "@example.com",
		newEmail: "quickstart-" + suffix + "-new@example.com",
		password: rand.Text(),
	}
	fmt.Fprintln(out, "Emporix quickstart")
	t.say("API", "%s", cfg.APIURL)
	t.say("tenant", "%s", cfg.Tenant)
	t.say("new customer", "%s", t.email)
	fmt.Fprintln(out)

	steps := t.steps()
	for i, s := range steps {
		fmt.Fprintf(out, "%2d. %s\n", i+1, s.name)
		if err := s.run(ctx); err != nil {
			fmt.Fprintf(out, "    FAILED: %v\n", err)
			return &StepError{Step: s.name, Err: err}
		}
		if cfg.between != nil {
			cfg.between()
		}
	}
	fmt.Fprintf(out, "\nAll %d steps passed.\n", len(steps))
	return nil
}
