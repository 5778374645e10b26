package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/emporix-go/emporix/emporixtest"
)

// shutdownGrace bounds how long a stopping fake waits for requests in
// flight (an injected delay is interrupted at once).
const shutdownGrace = 5 * time.Second

// fake is a running emporixtest server on its own listener.
type fake struct {
	cfg      config
	srv      *emporixtest.Server
	http     *http.Server
	baseURL  string
	seeded   []seededCustomer
	serveErr chan error

	stopClock chan struct{}
	clockDone sync.WaitGroup

	mu     sync.Mutex
	offset time.Duration // real clock: how far POST /_fake/clock/advance moved it
}

type seededCustomer struct {
	Email          string `json:"email"`
	CustomerNumber string `json:"customerNumber"`
}

// info is the connection details, printed at start and served at
// GET /_fake/info. The service credentials are the fake's own, printed on
// purpose: a client needs them to call POST /oauth/token.
type info struct {
	BaseURL             string           `json:"baseURL"`
	Tenant              string           `json:"tenant"`
	ClientID            string           `json:"clientID"`
	ServiceClientID     string           `json:"serviceClientID"`
	ServiceClientSecret string           `json:"serviceClientSecret"`
	SignupMode          string           `json:"signupMode"`
	Clock               string           `json:"clock"`
	Customers           []seededCustomer `json:"customers"`
	CORSOrigins         []string         `json:"corsOrigins"`
	ControlsURL         string           `json:"controlsURL"`
}

func start(cfg config) (*fake, error) {
	ln, err := net.Listen("tcp", cfg.addr)
	if err != nil {
		return nil, err
	}
	srv := emporixtest.NewServer(
		emporixtest.WithTenant(cfg.tenant),
		emporixtest.WithClientID(cfg.clientID),
		emporixtest.WithServiceCredentials(cfg.serviceID, cfg.serviceSecret),
		emporixtest.WithSignupMode(cfg.signup),
		emporixtest.WithLifetimes(cfg.lifetimes),
	)
	f := &fake{
		cfg: cfg, srv: srv, serveErr: make(chan error, 1), stopClock: make(chan struct{}),
		baseURL: "http://" + ln.Addr().String(),
	}
	for _, c := range cfg.customers {
		number, err := srv.AddCustomer(c.email, c.password)
		if err != nil {
			ln.Close()
			srv.Close()
			return nil, fmt.Errorf("-customer %s: %v", c.email, err)
		}
		f.seeded = append(f.seeded, seededCustomer{Email: c.email, CustomerNumber: number})
	}
	for _, nf := range cfg.faults {
		if err := inject(srv, nf); err != nil {
			ln.Close()
			srv.Close()
			return nil, fmt.Errorf("-fault %s: %v", nf.target, err)
		}
	}

	mux := http.NewServeMux()
	f.controls(mux)
	mux.Handle("/", srv.Handler())
	f.http = &http.Server{
		Handler:           withCORS(cfg.corsOrigins, mux),
		ReadHeaderTimeout: 10 * time.Second,
	}
	f.clockDone.Add(1)
	go f.tick()
	go func() {
		if err := f.http.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			f.serveErr <- err
		}
	}()
	return f, nil
}

// inject adds a fault, turning the fake's panic on an unknown operationId
// into an error.
func inject(srv *emporixtest.Server, nf namedFault) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%v", r)
		}
	}()
	srv.InjectFault(nf.target, nf.fault)
	return nil
}

// tick keeps the fake's clock on real time (plus any advance) unless it is
// frozen, and drops the fake's request log, which a long-running process
// would otherwise grow without bound (nothing here reads it).
func (f *fake) tick() {
	defer f.clockDone.Done()
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for {
		f.syncClock()
		f.srv.ClearRequests()
		select {
		case <-f.stopClock:
			return
		case <-t.C:
		}
	}
}

func (f *fake) syncClock() {
	if f.cfg.frozenClock {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.srv.SetNow(time.Now().UTC().Add(f.offset))
}

// advance moves the clock forward by d.
func (f *fake) advance(d time.Duration) {
	if f.cfg.frozenClock {
		f.srv.Advance(d)
		return
	}
	f.mu.Lock()
	f.offset += d
	f.mu.Unlock()
	f.syncClock()
}

func (f *fake) info() info {
	clock := "real"
	if f.cfg.frozenClock {
		clock = "frozen"
	}
	return info{
		BaseURL: f.baseURL, Tenant: f.srv.Tenant(), ClientID: f.srv.ClientID(),
		ServiceClientID: f.srv.ServiceClientID(), ServiceClientSecret: f.srv.ServiceClientSecret(),
		SignupMode: f.cfg.signup.String(), Clock: clock,
		Customers: append([]seededCustomer{}, f.seeded...), CORSOrigins: append([]string{}, f.cfg.corsOrigins...),
		ControlsURL: f.baseURL + "/_fake/",
	}
}

// announce prints the connection details: one JSON object with -json,
// else text.
func (f *fake) announce(w io.Writer) error {
	in := f.info()
	if f.cfg.json {
		return json.NewEncoder(w).Encode(in)
	}
	_, err := fmt.Fprintf(w, `emporix-fake: a fake Emporix Customer Service (customer managed) is serving
  base URL               %s
  tenant                 %s
  storefront client ID   %s
  service client ID      %s
  service client secret  %s
  sign-up mode           %s
  clock                  %s
  test controls          %s
`, in.BaseURL, in.Tenant, in.ClientID, in.ServiceClientID, in.ServiceClientSecret, in.SignupMode, in.Clock, in.ControlsURL)
	for _, c := range in.Customers {
		if err == nil {
			_, err = fmt.Fprintf(w, "  customer               %s (customer number %s)\n", c.Email, c.CustomerNumber)
		}
	}
	if len(in.CORSOrigins) > 0 && err == nil {
		_, err = fmt.Fprintf(w, "  CORS origins           %v\n", in.CORSOrigins)
	}
	if err == nil {
		_, err = fmt.Fprintln(w, "Stop with Ctrl-C.")
	}
	return err
}

// shutdown stops serving: the fake first (which cuts injected delays
// short), then the listener, waiting for requests in flight.
func (f *fake) shutdown() error {
	close(f.stopClock)
	f.clockDone.Wait()
	ctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	f.srv.Close()
	return f.http.Shutdown(ctx)
}
