package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/emporix-go/emporix/emporixtest"
)

// errHelp reports that -h was asked for (and the usage printed).
var errHelp = errors.New("help requested")

// config is what the flags ask for.
type config struct {
	addr          string
	tenant        string
	clientID      string
	serviceID     string
	serviceSecret string
	signup        emporixtest.SignupMode
	lifetimes     emporixtest.Lifetimes
	frozenClock   bool
	customers     []seedCustomer
	faults        []namedFault
	corsOrigins   []string
	json          bool
}

type seedCustomer struct{ email, password string }

type namedFault struct {
	target string
	fault  emporixtest.Fault
}

// listFlag collects a repeatable flag.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, " ") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

func parseFlags(args []string, stderr io.Writer) (config, error) {
	cfg := config{}
	fs := flag.NewFlagSet("emporix-fake", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, `Usage: emporix-fake [flags]

Runs a fake of the Emporix Customer Service (customer managed) on an HTTP
address. Point a client at the printed base URL where the real service has
https://api.emporix.io. Stop it with Ctrl-C (SIGINT) or SIGTERM.

Flags:
`)
		fs.PrintDefaults()
		fmt.Fprint(stderr, `
Test controls (HTTP, under the base URL):
  GET    /_fake/info                          what this fake serves (the -json output)
  GET    /_fake/outbox[?email=E]              e-mailed codes: password reset, e-mail change, opt-in
  POST   /_fake/customers                     {"email","password"}: add an active customer
  POST   /_fake/customers/{number}/activate   activate an account (sign-up mode "inactive")
  POST   /_fake/clock/advance                 {"duration":"1h"}: move the clock forward
  POST   /_fake/faults                        {"target","status","drop","delay","retryAfter","times","commit","body"}
  DELETE /_fake/faults                        remove pending faults
`)
	}
	fs.StringVar(&cfg.addr, "addr", "127.0.0.1:8787", "`host:port` to listen on (port 0 picks a free one)")
	fs.StringVar(&cfg.tenant, "tenant", emporixtest.DefaultTenant, "tenant to serve")
	fs.StringVar(&cfg.clientID, "client-id", emporixtest.DefaultClientID, "storefront client ID to accept")
	fs.StringVar(&cfg.serviceID, "service-client-id", emporixtest.DefaultServiceClientID, "client ID of the service credentials (POST /oauth/token)")
	fs.StringVar(&cfg.serviceSecret, "service-client-secret", emporixtest.DefaultServiceClientSecret, "client secret of the service credentials")
	signup := fs.String("signup", "active", "what sign-up does with a new account: `active`, inactive (an employee activates it) or double-opt-in (an e-mailed code does)")
	durations := []struct {
		name, usage string
		field       *time.Duration
	}{
		{"anonymous-access", "anonymous access token lifetime", &cfg.lifetimes.AnonymousAccess},
		{"anonymous-refresh", "anonymous refresh token lifetime", &cfg.lifetimes.AnonymousRefresh},
		{"customer-access", "customer access token lifetime", &cfg.lifetimes.CustomerAccess},
		{"customer-refresh", "customer refresh token lifetime", &cfg.lifetimes.CustomerRefresh},
		{"exchange-access", "access token lifetime of token exchange", &cfg.lifetimes.ExchangeAccess},
		{"exchange-refresh", "refresh token lifetime of token exchange", &cfg.lifetimes.ExchangeRefresh},
		{"service-access", "service token lifetime", &cfg.lifetimes.ServiceAccess},
		{"mail-token", "lifetime of e-mailed codes", &cfg.lifetimes.MailToken},
	}
	cfg.lifetimes = emporixtest.DefaultLifetimes() // each flag's default is its field's
	for _, d := range durations {
		fs.DurationVar(d.field, d.name, *d.field, d.usage)
	}
	clock := fs.String("clock", "real", "`real`: tokens expire as time passes; frozen: time stands still until POST /_fake/clock/advance")
	var customers, faults, origins listFlag
	fs.Var(&customers, "customer", "seed an active customer, `email:password` (repeatable)")
	fs.Var(&faults, "fault", "inject a fault, `target=spec` (repeatable): target is an operationId or \"METHOD /path\"; spec is a status or drop, then ,delay=D ,retry-after=D ,times=N ,commit")
	fs.Var(&origins, "cors-origin", "allow browser calls from this `origin` (repeatable; * for any)")
	fs.BoolVar(&cfg.json, "json", false, "print the connection details as one JSON object instead of text")

	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return cfg, errHelp
		}
		return cfg, err
	}
	if fs.NArg() > 0 {
		return cfg, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	var err error
	if cfg.signup, err = parseSignup(*signup); err != nil {
		return cfg, err
	}
	switch *clock {
	case "real":
	case "frozen":
		cfg.frozenClock = true
	default:
		return cfg, fmt.Errorf("-clock: want real or frozen, got %q", *clock)
	}
	for _, d := range durations {
		if *d.field <= 0 {
			return cfg, fmt.Errorf("-%s: want a positive duration, got %v", d.name, *d.field)
		}
	}
	for _, c := range customers {
		email, password, ok := strings.Cut(c, ":")
		if !ok || email == "" || password == "" {
			return cfg, errors.New("-customer: want email:password")
		}
		cfg.customers = append(cfg.customers, seedCustomer{email, password})
	}
	for _, f := range faults {
		nf, err := parseFault(f)
		if err != nil {
			return cfg, fmt.Errorf("-fault %q: %w", f, err)
		}
		cfg.faults = append(cfg.faults, nf)
	}
	for _, o := range origins {
		for _, one := range strings.Split(o, ",") {
			if one = strings.TrimSpace(one); one != "" {
				cfg.corsOrigins = append(cfg.corsOrigins, strings.TrimSuffix(one, "/"))
			}
		}
	}
	return cfg, nil
}

func parseSignup(s string) (emporixtest.SignupMode, error) {
	for _, m := range []emporixtest.SignupMode{emporixtest.SignupActive, emporixtest.SignupInactive, emporixtest.SignupDoubleOptIn} {
		if s == m.String() {
			return m, nil
		}
	}
	return 0, fmt.Errorf("-signup: want active, inactive or double-opt-in, got %q", s)
}

// parseFault reads "target=spec", such as
// "POST-customer-authenticate-customer=503,retry-after=2s,times=2" or
// "GET /customer/{tenant}/me=drop".
func parseFault(s string) (namedFault, error) {
	target, spec, ok := strings.Cut(s, "=")
	target = strings.TrimSpace(target)
	if !ok || target == "" || spec == "" {
		return namedFault{}, errors.New("want target=spec")
	}
	var f emporixtest.Fault
	for i, item := range strings.Split(spec, ",") {
		key, value, _ := strings.Cut(strings.TrimSpace(item), "=")
		var err error
		switch {
		case i == 0 && key == "drop":
			f.Drop = true
		case i == 0:
			f.Status, err = strconv.Atoi(key)
			if err == nil && (f.Status < 100 || f.Status > 599) {
				err = errors.New("out of range")
			}
			if err != nil {
				return namedFault{}, fmt.Errorf("want a status or drop first, got %q", key)
			}
		case key == "delay":
			f.Delay, err = time.ParseDuration(value)
		case key == "retry-after":
			f.RetryAfter, err = time.ParseDuration(value)
		case key == "times":
			f.Times, err = strconv.Atoi(value)
			if err == nil && f.Times < 1 {
				err = errors.New("want at least 1")
			}
		case key == "commit" && value == "":
			f.Commit = true
		default:
			return namedFault{}, fmt.Errorf("unknown item %q", item)
		}
		if err != nil {
			return namedFault{}, fmt.Errorf("%s: %v", key, err)
		}
	}
	if err := checkFault(f); err != nil {
		return namedFault{}, err
	}
	return namedFault{target: target, fault: f}, nil
}

// checkFault refuses a fault that -fault and POST /_fake/faults both
// refuse, beyond what InjectFault does: a success status without Commit
// would claim an answer the fake never produced.
func checkFault(f emporixtest.Fault) error {
	if f.Status != 0 && f.Status < http.StatusBadRequest && !f.Commit {
		return fmt.Errorf("status %d is not a failure; add commit to change the status of a real answer", f.Status)
	}
	return nil
}
