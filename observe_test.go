package emporix_test

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/emporix-go/emporix"
	"github.com/emporix-go/emporix/emporixtest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// recorder is an Observer that keeps what it was told, in order.
type recorder struct {
	mu     sync.Mutex
	events []string
	ops    []emporix.OperationInfo
	ends   []emporix.OperationResult
	ctxOK  []bool // the operation's token fetch and attempts saw the context Operation returned
}

type obsKey struct{}

func (r *recorder) add(e string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, e)
}

func (r *recorder) observer() emporix.Observer {
	return emporix.Observer{
		Operation: func(ctx context.Context, op emporix.OperationInfo) (context.Context, func(emporix.OperationResult)) {
			r.add("start " + op.ID)
			r.mu.Lock()
			r.ops = append(r.ops, op)
			r.mu.Unlock()
			return context.WithValue(ctx, obsKey{}, op.ID), func(res emporix.OperationResult) {
				r.add("end " + op.ID)
				r.mu.Lock()
				r.ends = append(r.ends, res)
				r.mu.Unlock()
			}
		},
		Retry: func(ctx context.Context, op emporix.OperationInfo, attempt int) {
			r.add("retry " + op.ID)
			r.mu.Lock()
			r.ctxOK = append(r.ctxOK, ctx.Value(obsKey{}) == op.ID)
			r.mu.Unlock()
		},
		Refresh: func(ctx context.Context, kind emporix.TokenKind) (context.Context, func(error)) {
			r.add("refresh " + kind.String())
			return ctx, func(err error) {
				if err != nil {
					r.add("refresh failed " + kind.String())
				} else {
					r.add("refreshed " + kind.String())
				}
			}
		},
		SessionChange: func(ctx context.Context, ch emporix.SessionChange) {
			r.add("change " + string(ch.Reason))
		},
	}
}

func (r *recorder) all() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.events...)
}

// TestObserverSeesOperationsRetriesAndResults: each operation is reported
// once, by operationId and path template (not the path with the address
// ID), with its attempts, final status and request ID; a retry is reported
// in the operation's context; a failure carries the error the call
// returned.
func TestObserverSeesOperationsRetriesAndResults(t *testing.T) {
	t.Parallel()
	srv := emporixtest.NewServer()
	defer srv.Close()
	rec := &recorder{}
	client, err := emporix.NewClient(srv.Tenant(), srv.ClientID(), append(srv.ClientOptions(),
		emporix.WithObserver(rec.observer()),
		emporix.WithRetryPolicy(emporix.RetryPolicy{MaxRetries: 2, MinWait: time.Millisecond, MaxWait: 5 * time.Millisecond}))...)
	require.NoError(t, err)
	ctx := context.Background()
	_, err = srv.AddCustomer("john@example.com", "password123")
	require.NoError(t, err)
	anon, err := client.Auth.AnonymousLogin(ctx, nil)
	require.NoError(t, err)
	cust, err := client.WithTokenSource(emporix.StaticTokens(anon, nil)).Auth.Login(ctx, &emporix.LoginRequest{Email: "john@example.com", Password: "password123"})
	require.NoError(t, err)
	me := client.WithTokenSource(emporix.StaticTokens(anon, cust))
	id, err := me.Addresses.Create(ctx, &emporix.AddressCreate{ContactName: "John Doe", Country: "DE"})
	require.NoError(t, err)

	srv.InjectFault("GET-customer-retrieve-address-by-id", emporixtest.Fault{Status: http.StatusServiceUnavailable,
		Header: http.Header{"X-Request-Id": {"req-first"}}})
	srv.InjectFault("GET-customer-retrieve-address-by-id", emporixtest.Fault{Status: http.StatusOK, Commit: true,
		Header: http.Header{"X-Request-Id": {"req-second"}}})
	_, err = me.Addresses.Get(ctx, id)
	require.NoError(t, err)

	srv.InjectFault("PATCH-customer-update-customer", emporixtest.Fault{Status: http.StatusConflict})
	jane := "Jane"
	patchErr := me.Profile.Update(ctx, &emporix.ProfileUpdate{FirstName: &jane})
	require.Error(t, patchErr)

	assert.Equal(t, []string{
		"start GET-oauth-generate-anonymous-access-token", "end GET-oauth-generate-anonymous-access-token",
		"start POST-customer-authenticate-customer", "end POST-customer-authenticate-customer",
		"start POST-customer-add-address", "end POST-customer-add-address",
		"start GET-customer-retrieve-address-by-id", "retry GET-customer-retrieve-address-by-id", "end GET-customer-retrieve-address-by-id",
		"start PATCH-customer-update-customer", "end PATCH-customer-update-customer",
	}, rec.all())
	assert.Equal(t, []bool{true}, rec.ctxOK, "the retry runs in the context Operation returned")

	get := rec.ops[3]
	assert.Equal(t, emporix.OperationInfo{ID: "GET-customer-retrieve-address-by-id", Method: "GET",
		Route: "/customer/{tenant}/me/addresses/{addressId}"}, get)
	assert.Equal(t, emporix.OperationResult{StatusCode: http.StatusOK, Attempts: 2, RequestID: "req-second"}, rec.ends[3])
	assert.Equal(t, 1, rec.ends[0].Attempts)
	assert.Equal(t, http.StatusOK, rec.ends[0].StatusCode)
	patch := rec.ends[4]
	assert.Equal(t, http.StatusConflict, patch.StatusCode)
	assert.Equal(t, 1, patch.Attempts, "a 409 on a write is not retried")
	assert.Equal(t, patchErr, patch.Err, "the observer gets the error the call returned")
}

// TestObserverSeesRefreshesAndSessionChanges: a session's token renewals
// are reported once per renewal, with the operations they call inside, and
// a session ID change is reported before the application's hook.
func TestObserverSeesRefreshesAndSessionChanges(t *testing.T) {
	t.Parallel()
	srv := emporixtest.NewServer()
	defer srv.Close()
	rec := &recorder{}
	client, err := emporix.NewClient(srv.Tenant(), srv.ClientID(), append(srv.ClientOptions(), emporix.WithObserver(rec.observer()))...)
	require.NoError(t, err)
	sessions, err := emporix.NewSessionManager(client, emporix.NewMemoryStore(),
		emporix.WithSessionChangeHook(func(ctx context.Context, ch emporix.SessionChange) { rec.add("hook " + string(ch.Reason)) }))
	require.NoError(t, err)
	ctx := context.Background()
	s := sessions.Session(emporix.NewSessionKey())

	_, err = s.Token(ctx)
	require.NoError(t, err)
	srv.Advance(2 * time.Hour) // the anonymous access token expired, its refresh token lives
	var wg sync.WaitGroup
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := s.Token(ctx)
			assert.NoError(t, err)
		}()
	}
	wg.Wait()
	srv.Advance(22*time.Hour + 30*time.Minute) // 24.5 h in: the refresh token (24 h) expired, the store still keeps the session (1 h grace): a new session
	_, err = s.Token(ctx)
	require.NoError(t, err)

	assert.Equal(t, []string{
		"refresh anonymous", "start GET-oauth-generate-anonymous-access-token", "end GET-oauth-generate-anonymous-access-token", "refreshed anonymous",
		"refresh anonymous", "start GET-oauth-refresh-anonymous-access-token", "end GET-oauth-refresh-anonymous-access-token", "refreshed anonymous",
		"refresh anonymous", "start GET-oauth-generate-anonymous-access-token", "end GET-oauth-generate-anonymous-access-token",
		"change refresh-token-expired", "hook refresh-token-expired", "refreshed anonymous",
	}, rec.all(), "one renewal for 20 callers; the change reaches the observer before the hook")
}
