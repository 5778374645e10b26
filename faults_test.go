package emporix_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emporix-go/emporix"
	"github.com/emporix-go/emporix/emporixtest"
	"github.com/emporix-go/emporix/internal/optable"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The fault matrix: each row makes the emporixtest fake misbehave for one
// operation and checks what the SDK does about it over real HTTP: the
// outcome and its error type, how many attempts the SDK reports, how many
// calls reached the service, and for operations that change state, how
// many times the service acted. Reads are retried; operations that may
// change state are repeated only when the service surely did not act.
//
// Every row runs on a client with a fresh transport, so the faulted call
// is the first on its connection and net/http never replays it on its own
// (it may replay an idempotent request that failed on a reused
// connection); the attempts are the SDK's alone.

// faultOp is an operation under test.
type faultOp struct {
	name   string
	target string // operationId, for InjectFault and Requests
	call   func(ctx context.Context, c *emporix.Client, env *faultEnv) error
	// effects counts how many times the service acted on the operation
	// since the row started; nil for reads.
	effects func(env *faultEnv) int
}

var (
	fmProfileGet = faultOp{name: "Profile.Get", target: "GET-customer-retrieve-customer-profile",
		call: func(ctx context.Context, c *emporix.Client, _ *faultEnv) error {
			_, err := c.Profile.Get(ctx, nil)
			return err
		}}
	fmAddressList = faultOp{name: "Addresses.List", target: "GET-customer-list-customer-addresses",
		call: func(ctx context.Context, c *emporix.Client, _ *faultEnv) error {
			_, err := c.Addresses.List(ctx)
			return err
		}}
	fmAddressGet = faultOp{name: "Addresses.Get", target: "GET-customer-retrieve-address-by-id",
		call: func(ctx context.Context, c *emporix.Client, env *faultEnv) error {
			_, err := c.Addresses.Get(ctx, env.addressID)
			return err
		}}
	fmAddressCreate = faultOp{name: "Addresses.Create", target: "POST-customer-add-address",
		call: func(ctx context.Context, c *emporix.Client, _ *faultEnv) error {
			_, err := c.Addresses.Create(ctx, &emporix.AddressCreate{ContactName: "John Doe", Street: "Platz der Republik",
				StreetNumber: "1", ZipCode: "11011", City: "Berlin", Country: "DE", Tags: []string{emporix.TagShipping}})
			return err
		},
		effects: func(env *faultEnv) int { return len(env.customer().AddressIDs) - 1 }}
	fmProfileUpdate = faultOp{name: "Profile.Update", target: "PATCH-customer-update-customer",
		call: func(ctx context.Context, c *emporix.Client, _ *faultEnv) error {
			return c.Profile.Update(ctx, &emporix.ProfileUpdate{FirstName: emporix.Ptr("Jane")})
		},
		effects: func(env *faultEnv) int { return env.customer().Version - env.version }}
)

// fastRetries keeps the matrix quick: two retries, waits of at most 20 ms.
var fastRetries = emporix.RetryPolicy{MaxRetries: 2, MinWait: time.Millisecond, MaxWait: 20 * time.Millisecond}

// transports tracks every transport the matrix creates, to close their
// idle connections at the end.
type transports struct {
	mu   sync.Mutex
	list []*http.Transport
}

func (ts *transports) client() *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	ts.mu.Lock()
	ts.list = append(ts.list, tr)
	ts.mu.Unlock()
	return &http.Client{Transport: tr}
}

func (ts *transports) closeIdle() {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	for _, tr := range ts.list {
		tr.CloseIdleConnections()
	}
}

// faultEnv is a logged-in customer with one address on the fake.
type faultEnv struct {
	srv        *emporixtest.Server
	anon, cust *emporix.Token
	email      string
	addressID  string
	version    int // the profile's metadata.version when the row started
}

const faultEmail = "jane@example.com"

func (env *faultEnv) customer() emporixtest.CustomerInfo {
	info, _ := env.srv.Customer(env.email)
	return info
}

// newFaultEnv resets srv and sets up the customer with a client of its own.
func newFaultEnv(t *testing.T, srv *emporixtest.Server, ts *transports) *faultEnv {
	t.Helper()
	ctx := context.Background()
	srv.Reset()
	_, err := srv.AddCustomer(faultEmail, "password123")
	require.NoError(t, err)
	setup := newFaultClient(t, srv, ts.client(), fastRetries, 0, nil)
	anon, err := setup.Auth.AnonymousLogin(ctx, nil)
	require.NoError(t, err)
	cust, err := setup.WithTokenSource(emporix.StaticTokens(anon, nil)).Auth.Login(ctx,
		&emporix.LoginRequest{Email: faultEmail, Password: "password123"})
	require.NoError(t, err)
	env := &faultEnv{srv: srv, anon: anon, cust: cust, email: faultEmail}
	env.addressID, err = setup.WithTokenSource(emporix.StaticTokens(anon, cust)).Addresses.Create(ctx,
		&emporix.AddressCreate{ContactName: "John Doe", City: "Berlin", Country: "DE"})
	require.NoError(t, err)
	env.version = env.customer().Version
	srv.ClearRequests()
	return env
}

func newFaultClient(t *testing.T, srv *emporixtest.Server, hc *http.Client, p emporix.RetryPolicy, timeout time.Duration, ts emporix.TokenSource) *emporix.Client {
	t.Helper()
	opts := []emporix.Option{emporix.WithBaseURL(srv.URL()), emporix.WithHTTPClient(hc), emporix.WithRetryPolicy(p),
		emporix.WithClock(srv.Now), emporix.WithDefaultTokenSource(ts)}
	if timeout > 0 {
		opts = append(opts, emporix.WithTimeout(timeout))
	}
	c, err := emporix.NewClient(srv.Tenant(), srv.ClientID(), opts...)
	require.NoError(t, err)
	return c
}

// Outcome kinds.
const (
	wantOK       = "ok"
	wantAPI      = "*APIError"
	wantRequest  = "*RequestError"
	wantResponse = "*ResponseError"
)

type faultCase struct {
	name   string
	op     faultOp
	faults func() []emporixtest.Fault // injected on op.target, in order
	policy emporix.RetryPolicy        // zero: fastRetries
	// timeout bounds each attempt (WithTimeout); ctxTimeout the whole call.
	timeout, ctxTimeout time.Duration
	// cancelInBackoff cancels the call's context once the first attempt
	// has been answered and the SDK is waiting to retry.
	cancelInBackoff bool
	// serverGone closes the fake before the call.
	serverGone bool
	// cutBody breaks the connection 16 bytes into each response body, after
	// the service has answered (the fake cannot: its Drop answers nothing).
	cutBody bool

	kind     string  // outcome: wantOK or the error's type
	status   int     // APIError.StatusCode
	is       []error // errors.Is targets
	attempts int     // APIError.Attempts or RequestError.Attempts
	requests int     // calls of the operation the service received
	effects  int     // times the service acted (operations that change state)
	// The call's duration must lie in [minDur, maxDur) when set.
	minDur, maxDur time.Duration
	// endedByCtx: the call's context ends while the SDK waits to retry
	// (ctxTimeout or cancelInBackoff), and the call returns within
	// ctxEndSlack of that.
	endedByCtx bool
	check      func(t *testing.T, err error)
}

func faults(f ...emporixtest.Fault) func() []emporixtest.Fault {
	return func() []emporixtest.Fault { return f }
}

const proxyPage = "<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center><hr><center>nginx</center></body></html>"

func faultMatrix() []faultCase {
	unavailable := emporixtest.Fault{Status: http.StatusServiceUnavailable}
	tooMany := emporixtest.Fault{Status: http.StatusTooManyRequests}
	times := func(f emporixtest.Fault, n int) emporixtest.Fault { f.Times = n; return f }
	retryAfter := func(f emporixtest.Fault, v string) emporixtest.Fault {
		f.Header = http.Header{"Retry-After": {v}}
		return f
	}
	slow := emporixtest.Fault{Delay: 5 * time.Second}
	const attemptTimeout = 300 * time.Millisecond
	isTimeout := func(t *testing.T, err error) {
		var ne net.Error
		assert.True(t, errors.As(err, &ne) && ne.Timeout(), "a timeout: %v", err)
	}

	return []faultCase{
		// 503: reads are retried; the rest only with Retry-After.
		{name: "503 twice, read retried to success", op: fmProfileGet, faults: faults(times(unavailable, 2)),
			kind: wantOK, requests: 3},
		{name: "503 on every attempt, read gives up with the last answer", op: fmAddressList, faults: faults(times(unavailable, 5)),
			kind: wantAPI, status: 503, is: []error{emporix.ErrServer}, attempts: 3, requests: 3},
		{name: "503, create not repeated", op: fmAddressCreate, faults: faults(times(unavailable, 3)),
			kind: wantAPI, status: 503, is: []error{emporix.ErrServer}, attempts: 1, requests: 1, effects: 0},
		{name: "503 with Retry-After, create repeated: the service says it did not act", op: fmAddressCreate,
			faults: faults(emporixtest.Fault{Status: 503, RetryAfter: time.Second}), policy: emporix.RetryPolicy{MaxRetries: 2, MaxWait: 2 * time.Second},
			kind: wantOK, requests: 2, effects: 1},

		// 429 and Retry-After.
		{name: "429 with Retry-After in seconds, honoured", op: fmProfileGet,
			faults: faults(retryAfter(tooMany, "1")), policy: emporix.RetryPolicy{MaxRetries: 2, MaxWait: 5 * time.Second},
			kind: wantOK, requests: 2, minDur: 950 * time.Millisecond, maxDur: 3 * time.Second},
		{name: "429 with Retry-After as an HTTP date, honoured", op: fmAddressGet,
			faults: func() []emporixtest.Fault {
				// 2 s ahead, truncated to the second by the format: 1–2 s.
				return []emporixtest.Fault{retryAfter(tooMany, time.Now().Add(2*time.Second).UTC().Format(http.TimeFormat))}
			}, policy: emporix.RetryPolicy{MaxRetries: 2, MaxWait: 5 * time.Second},
			kind: wantOK, requests: 2, minDur: 900 * time.Millisecond, maxDur: 3 * time.Second},
		{name: "429 with a Retry-After in seconds over MaxWait, surfaced at once", op: fmAddressList,
			faults: faults(times(retryAfter(tooMany, "999999999"), 3)), policy: emporix.RetryPolicy{MaxRetries: 2, MaxWait: 10 * time.Second},
			kind: wantAPI, status: 429, is: []error{emporix.ErrRateLimited}, attempts: 1, requests: 1,
			maxDur: 500 * time.Millisecond, // no wait, neither 31 years nor MaxWait
			check: func(t *testing.T, err error) {
				var apiErr *emporix.APIError
				require.ErrorAs(t, err, &apiErr)
				assert.Greater(t, apiErr.RetryAfter, 24*time.Hour, "the server's wish is surfaced")
			}},
		{name: "429 with a Retry-After date over MaxWait, surfaced at once", op: fmProfileGet,
			faults: faults(retryAfter(tooMany, "Fri, 31 Dec 9999 23:59:59 GMT")), policy: emporix.RetryPolicy{MaxRetries: 2, MaxWait: 10 * time.Second},
			kind: wantAPI, status: 429, is: []error{emporix.ErrRateLimited}, attempts: 1, requests: 1, maxDur: 500 * time.Millisecond,
			check: func(t *testing.T, err error) {
				var apiErr *emporix.APIError
				require.ErrorAs(t, err, &apiErr)
				assert.Greater(t, apiErr.RetryAfter, 24*time.Hour)
			}},
		{name: "429 without Retry-After, create not repeated", op: fmAddressCreate, faults: faults(times(tooMany, 3)),
			kind: wantAPI, status: 429, is: []error{emporix.ErrRateLimited}, attempts: 1, requests: 1, effects: 0},
		{name: "429 with Retry-After, update repeated", op: fmProfileUpdate, faults: faults(retryAfter(tooMany, "1")),
			policy: emporix.RetryPolicy{MaxRetries: 2, MaxWait: 2 * time.Second},
			kind:   wantOK, requests: 2, effects: 1},

		// The connection dropped without an answer.
		{name: "dropped, read retried", op: fmAddressList, faults: faults(emporixtest.Fault{Drop: true}),
			kind: wantOK, requests: 2},
		{name: "dropped on every attempt, read gives up", op: fmAddressGet, faults: faults(emporixtest.Fault{Drop: true, Times: 3}),
			kind: wantRequest, attempts: 3, requests: 3},
		{name: "dropped, create not repeated", op: fmAddressCreate, faults: faults(emporixtest.Fault{Drop: true}),
			kind: wantRequest, attempts: 1, requests: 1, effects: 0},
		{name: "create committed, then dropped: never repeated", op: fmAddressCreate,
			faults: faults(emporixtest.Fault{Drop: true, Commit: true, Times: 3}),
			kind:   wantRequest, attempts: 1, requests: 1, effects: 1},
		{name: "create committed, then 503: never repeated", op: fmAddressCreate,
			faults: faults(emporixtest.Fault{Status: 503, Commit: true, Times: 3}),
			kind:   wantAPI, status: 503, attempts: 1, requests: 1, effects: 1},
		{name: "update committed, then dropped: never repeated", op: fmProfileUpdate,
			faults: faults(emporixtest.Fault{Drop: true, Commit: true, Times: 3}),
			kind:   wantRequest, attempts: 1, requests: 1, effects: 1},
		{name: "create committed, answer unusable: never repeated", op: fmAddressCreate,
			faults: faults(emporixtest.Fault{Status: 201, Body: `{"id":`, Commit: true, Times: 3}),
			kind:   wantResponse, is: []error{emporix.ErrInvalidResponse}, requests: 1, effects: 1},

		// Headers slower than the per-attempt timeout.
		{name: "headers late once, read retried", op: fmProfileGet, faults: faults(slow), timeout: attemptTimeout,
			kind: wantOK, requests: 2, minDur: attemptTimeout},
		{name: "headers late on every attempt, read gives up", op: fmAddressList, faults: faults(times(slow, 3)),
			timeout: attemptTimeout, kind: wantRequest, is: []error{context.DeadlineExceeded}, attempts: 3, requests: 3,
			minDur: 3 * attemptTimeout, check: isTimeout},
		{name: "headers late, create not repeated", op: fmAddressCreate, faults: faults(times(slow, 3)), timeout: attemptTimeout,
			kind: wantRequest, is: []error{context.DeadlineExceeded}, attempts: 1, requests: 1, effects: 0, check: isTimeout},

		// Answers the SDK cannot use.
		{name: "truncated JSON", op: fmAddressGet,
			faults: faults(emporixtest.Fault{Status: 200, Body: `{"id":"b05c20e034","contactName":"John Do`}),
			kind:   wantResponse, is: []error{emporix.ErrInvalidResponse}, requests: 1},
		{name: "truncated JSON list", op: fmAddressList, faults: faults(emporixtest.Fault{Status: 200, Body: `[{"id":"b05c20e034"},{"id"`}),
			kind: wantResponse, is: []error{emporix.ErrInvalidResponse}, requests: 1},
		{name: "proxy HTML page, read retried then kept as a snippet", op: fmProfileGet,
			faults: faults(emporixtest.Fault{Status: 502, Body: proxyPage, Header: http.Header{"Content-Type": {"text/html"}}, Times: 3}),
			kind:   wantAPI, status: 502, is: []error{emporix.ErrServer}, attempts: 3, requests: 3,
			check: func(t *testing.T, err error) {
				var apiErr *emporix.APIError
				require.ErrorAs(t, err, &apiErr)
				assert.Equal(t, proxyPage, apiErr.Body)
				assert.Empty(t, apiErr.Message)
			}},
		{name: "proxy HTML page, create not repeated", op: fmAddressCreate,
			faults: faults(emporixtest.Fault{Status: 502, Body: proxyPage, Header: http.Header{"Content-Type": {"text/html"}}}),
			kind:   wantAPI, status: 502, attempts: 1, requests: 1, effects: 0,
			check: func(t *testing.T, err error) {
				var apiErr *emporix.APIError
				require.ErrorAs(t, err, &apiErr)
				assert.Contains(t, apiErr.Body, "502 Bad Gateway")
			}},
		{name: "blank body where one is required", op: fmProfileGet, faults: faults(emporixtest.Fault{Status: 200, Body: " \n"}),
			kind: wantResponse, is: []error{emporix.ErrInvalidResponse}, requests: 1,
			check: func(t *testing.T, err error) { assert.Contains(t, err.Error(), "empty body") }},
		{name: "204 without a body where one is required", op: fmAddressGet, faults: faults(emporixtest.Fault{Status: 204}),
			kind: wantResponse, is: []error{emporix.ErrInvalidResponse}, requests: 1,
			check: func(t *testing.T, err error) { assert.Contains(t, err.Error(), "empty body") }},

		// The caller gives up during the wait before a retry.
		{name: "cancelled during backoff, read", op: fmProfileGet, cancelInBackoff: true, endedByCtx: true,
			faults: faults(times(retryAfter(unavailable, "10"), 3)), policy: emporix.RetryPolicy{MaxRetries: 2, MaxWait: 10 * time.Second},
			kind: wantRequest, is: []error{context.Canceled}, attempts: 1, requests: 1},
		{name: "cancelled during backoff, create", op: fmAddressCreate, cancelInBackoff: true, endedByCtx: true,
			faults: faults(times(retryAfter(unavailable, "10"), 3)), policy: emporix.RetryPolicy{MaxRetries: 2, MaxWait: 10 * time.Second},
			kind: wantRequest, is: []error{context.Canceled}, attempts: 1, requests: 1, effects: 0},
		{name: "deadline during backoff", op: fmAddressList, ctxTimeout: 200 * time.Millisecond, endedByCtx: true,
			// A jittered wait in [0, 1 h]: below 200 ms once in 18000.
			faults: faults(times(unavailable, 3)), policy: emporix.RetryPolicy{MaxRetries: 2, MinWait: time.Hour, MaxWait: time.Hour},
			kind: wantRequest, is: []error{context.DeadlineExceeded}, attempts: 1, requests: 1,
			minDur: 200 * time.Millisecond},
		{name: "Retry-After beyond the deadline: the answer at once", op: fmAddressList, ctxTimeout: 2 * time.Second,
			faults: faults(times(retryAfter(unavailable, "10"), 3)), policy: emporix.RetryPolicy{MaxRetries: 2, MaxWait: 10 * time.Second},
			kind: wantAPI, status: 503, is: []error{emporix.ErrServer}, attempts: 1, requests: 1, maxDur: 500 * time.Millisecond,
			check: func(t *testing.T, err error) {
				var apiErr *emporix.APIError
				require.ErrorAs(t, err, &apiErr)
				assert.Equal(t, 10*time.Second, apiErr.RetryAfter)
			}},

		// The connection broke in the middle of the body. The service
		// answered, so a write must not be repeated; a read is, because
		// the body is read inside the retry loop.
		{name: "body cut mid-way, read retried", op: fmAddressList, cutBody: true,
			kind: wantRequest, is: []error{io.ErrUnexpectedEOF}, attempts: 3, requests: 3},
		{name: "create answered, body cut mid-way: never repeated", op: fmAddressCreate, cutBody: true,
			kind: wantRequest, is: []error{io.ErrUnexpectedEOF}, attempts: 1, requests: 1, effects: 1},

		// The service is gone: nothing can have reached it, so every
		// operation is retried.
		{name: "server gone, read retried", op: fmProfileGet, serverGone: true,
			kind: wantRequest, attempts: 3, requests: 0},
		{name: "server gone, create retried: the connection was never made", op: fmAddressCreate, serverGone: true,
			kind: wantRequest, attempts: 3, requests: 0, effects: 0},
	}
}

func TestFaultMatrix(t *testing.T) {
	srv := emporixtest.NewServer()
	defer srv.Close()
	ts := &transports{}
	baseline := runtime.NumGoroutine()

	for _, tc := range faultMatrix() {
		t.Run(tc.name, func(t *testing.T) {
			rowSrv := srv
			if tc.serverGone {
				rowSrv = emporixtest.NewServer()
				defer rowSrv.Close()
			}
			runFaultCase(t, tc, newFaultEnv(t, rowSrv, ts), ts)
		})
	}

	// No goroutine outlives the clients: once their idle connections are
	// closed, only what ran before the matrix is left.
	ts.closeIdle()
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > baseline && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > baseline {
		buf := make([]byte, 1<<20)
		t.Fatalf("%d goroutines outlive the matrix (baseline %d):\n%s", n, baseline, buf[:runtime.Stack(buf, true)])
	}
}

// TestFaultsEveryOperation: every SDK operation, over real HTTP, answered
// with 503 or dropped on every attempt. A read (its row's retry class) is
// tried three times; every other operation once, since the service may
// have acted.
func TestFaultsEveryOperation(t *testing.T) {
	srv := emporixtest.NewServer()
	defer srv.Close()
	ts := &transports{}
	defer ts.closeIdle()
	env := newFaultEnv(t, srv, ts)
	for _, id := range emporix.SDKOperationIDs() {
		want := 1
		if optable.ByID(id).Retry == optable.Safe {
			want = 3
		}
		for _, f := range []emporixtest.Fault{{Status: http.StatusServiceUnavailable, Times: 3}, {Drop: true, Times: 3}} {
			t.Run(fmt.Sprintf("%s/status=%d,drop=%v", id, f.Status, f.Drop), func(t *testing.T) {
				srv.ClearFaults()
				srv.ClearRequests()
				srv.InjectFault(id, f)
				c := newFaultClient(t, srv, ts.client(), fastRetries, 0, emporix.StaticTokens(env.anon, env.cust))
				err := emporix.CallOperation(context.Background(), c, id)
				var apiErr *emporix.APIError
				var reqErr *emporix.RequestError
				if f.Drop {
					require.ErrorAs(t, err, &reqErr)
					assert.Equal(t, want, reqErr.Attempts)
				} else {
					require.ErrorAs(t, err, &apiErr)
					assert.Equal(t, f.Status, apiErr.StatusCode)
					assert.Equal(t, want, apiErr.Attempts)
				}
				requireCalls(t, srv, id, want)
			})
		}
	}
}

// ctxEndSlack bounds how long after its context ends a call that was
// waiting to retry returns. It tells a wait the context cut short from one
// waited out: the waits in those rows are 10 s (Retry-After) and a jittered
// [0, 1 h]. It is not a latency target: on a loaded 2-core machine under the
// race detector, waking the waiting goroutine alone has taken 57 ms.
const ctxEndSlack = time.Second

func runFaultCase(t *testing.T, tc faultCase, env *faultEnv, ts *transports) {
	srv := env.srv
	policy := tc.policy
	if policy == (emporix.RetryPolicy{}) {
		policy = fastRetries
	}
	hc := ts.client()
	if tc.cutBody {
		hc.Transport = cutTransport{next: hc.Transport}
	}
	c := newFaultClient(t, srv, hc, policy, tc.timeout, emporix.StaticTokens(env.anon, env.cust))
	if tc.faults != nil {
		for _, f := range tc.faults() {
			srv.InjectFault(tc.op.target, f)
		}
	}
	if tc.serverGone {
		srv.Close()
		hc.CloseIdleConnections()
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if tc.ctxTimeout > 0 {
		ctx, cancel = context.WithTimeout(ctx, tc.ctxTimeout)
		defer cancel()
	}
	var ctxEnded time.Time // when the call's context ended (endedByCtx)
	if tc.ctxTimeout > 0 {
		ctxEnded, _ = ctx.Deadline()
	}
	cancelled := make(chan struct{})
	if tc.cancelInBackoff {
		go func() {
			defer close(cancelled)
			// Once the first answer is in, the SDK waits 10 s to retry.
			for len(srv.Requests(tc.op.target)) == 0 {
				time.Sleep(time.Millisecond)
			}
			time.Sleep(100 * time.Millisecond)
			ctxEnded = time.Now()
			cancel()
		}()
	}

	start := time.Now()
	err := tc.op.call(ctx, c, env)
	elapsed := time.Since(start)
	returned := time.Now()

	switch tc.kind {
	case wantOK:
		require.NoError(t, err)
	case wantAPI:
		var apiErr *emporix.APIError
		require.ErrorAs(t, err, &apiErr)
		assert.Equal(t, tc.status, apiErr.StatusCode)
		assert.Equal(t, tc.attempts, apiErr.Attempts, "APIError.Attempts")
	case wantRequest:
		var reqErr *emporix.RequestError
		require.ErrorAs(t, err, &reqErr)
		assert.Equal(t, tc.attempts, reqErr.Attempts, "RequestError.Attempts")
	case wantResponse:
		var respErr *emporix.ResponseError
		require.ErrorAs(t, err, &respErr)
	default:
		t.Fatalf("bad kind %q", tc.kind)
	}
	for _, target := range tc.is {
		assert.ErrorIs(t, err, target)
	}
	if tc.check != nil {
		tc.check(t, err)
	}
	if tc.minDur > 0 {
		assert.GreaterOrEqual(t, elapsed, tc.minDur, "the call returned too early")
	}
	if tc.maxDur > 0 {
		assert.Less(t, elapsed, tc.maxDur, "the call took too long")
	}
	if tc.cancelInBackoff {
		<-cancelled
	}
	if tc.endedByCtx {
		assert.Less(t, returned.Sub(ctxEnded), ctxEndSlack, "returned long after the context ended")
	}

	// The service's view. A call abandoned by a timeout is logged when the
	// fake notices the client went away, so wait for the count to settle.
	requireCalls(t, srv, tc.op.target, tc.requests)
	if tc.op.effects != nil {
		assert.Equal(t, tc.effects, tc.op.effects(env), "times the service acted on %s", tc.op.name)
	}
}

// cutTransport breaks every response body after 16 bytes.
type cutTransport struct{ next http.RoundTripper }

func (t cutTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.next.RoundTrip(req)
	if err == nil {
		resp.Body = &cutBody{ReadCloser: resp.Body, left: 16}
	}
	return resp, err
}

type cutBody struct {
	io.ReadCloser
	left int
}

func (b *cutBody) Read(p []byte) (int, error) {
	if b.left == 0 {
		return 0, io.ErrUnexpectedEOF
	}
	n, err := b.ReadCloser.Read(p[:min(len(p), b.left)])
	b.left -= n
	return n, err
}

// requireCalls waits until the fake has logged want calls of target, and
// fails when it logs another one or none arrive in time.
func requireCalls(t *testing.T, srv *emporixtest.Server, target string, want int) {
	t.Helper()
	deadline := time.Now().Add(3 * time.Second)
	for len(srv.Requests(target)) < want && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	time.Sleep(20 * time.Millisecond) // a straggler would show up now
	got := srv.Requests(target)
	if len(got) != want {
		var lines []string
		for _, r := range got {
			lines = append(lines, r.Method+" "+r.Path+" → "+http.StatusText(r.Status))
		}
		t.Fatalf("the service received %d calls of %s, want %d:\n%s", len(got), target, want, strings.Join(lines, "\n"))
	}
}
