package redisstore

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/emporix-go/emporix"
	"github.com/emporix-go/emporix/emporixtest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The replicas below share the emporixtest fake over loopback HTTP, on its
// clock. Its customer tokens last 10 minutes, so that advancing the clock
// by 11 expires a customer token and neither the anonymous token nor a
// refresh token.
const (
	anonLoginOp   = "GET-oauth-generate-anonymous-access-token"
	anonRefreshOp = "GET-oauth-refresh-anonymous-access-token"
	custRefreshOp = "GET-customer-refresh-authtoken"
)

// newTokenService starts the fake with the customer john@example.com.
func newTokenService(t *testing.T) *emporixtest.Server {
	t.Helper()
	srv := emporixtest.NewServer(emporixtest.WithLifetimes(emporixtest.Lifetimes{CustomerAccess: 10 * time.Minute}))
	t.Cleanup(srv.Close)
	_, err := srv.AddCustomer("john@example.com", "password123")
	require.NoError(t, err)
	return srv
}

// replica is one storefront process: its own client, store and manager.
type replica struct {
	manager *emporix.SessionManager
	store   *Store
}

func newReplica(t *testing.T, srv *emporixtest.Server, store *Store) *replica {
	t.Helper()
	c, err := emporix.NewClient(srv.Tenant(), srv.ClientID(), srv.ClientOptions()...)
	require.NoError(t, err)
	m, err := emporix.NewSessionManager(c, store, emporix.WithSessionChangeHook(func(_ context.Context, ch emporix.SessionChange) {
		t.Errorf("unexpected session change: %s → %s (%s)", ch.OldSessionID, ch.NewSessionID, ch.Reason)
	}))
	require.NoError(t, err)
	return &replica{manager: m, store: store}
}

// hammer runs perReplica goroutines on each replica, all asking for the
// session's token at once while the token service holds the refresh (op)
// back, and returns every token they got.
func hammer(t *testing.T, srv *emporixtest.Server, op string, replicas []*replica, key string, perReplica int) []*emporix.Token {
	t.Helper()
	gate := make(chan struct{})
	srv.InjectFault(op, emporixtest.Fault{Hold: gate})
	ctx := context.Background()
	var wg sync.WaitGroup
	results := make([]*emporix.Token, perReplica*len(replicas))
	errs := make([]error, len(results))
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i], errs[i] = replicas[i%len(replicas)].manager.Session(key).Token(ctx)
		}()
	}
	time.Sleep(200 * time.Millisecond) // let the callers pile up on the refresh
	close(gate)
	wg.Wait()
	for i := range results {
		require.NoError(t, errs[i], "caller %d", i)
	}
	return results
}

func TestTwoReplicasRefreshAnExpiredAnonymousSessionOnce(t *testing.T) {
	t.Parallel()
	storeA, _ := newTestStore(t)
	storeB := sameRedisStore(t, storeA)
	srv := newTokenService(t)
	a, b := newReplica(t, srv, storeA), newReplica(t, srv, storeB)
	ctx := context.Background()

	first, err := a.manager.Session("cookie-1").Token(ctx)
	require.NoError(t, err)
	viaB, err := b.manager.Session("cookie-1").Token(ctx)
	require.NoError(t, err)
	assert.Equal(t, first.AccessToken, viaB.AccessToken, "the replicas share the session")
	require.Len(t, srv.Requests(anonLoginOp), 1)

	srv.Advance(2 * time.Hour) // the anonymous token expired, its refresh token lives
	results := hammer(t, srv, anonRefreshOp, []*replica{a, b}, "cookie-1", 500)

	assert.Len(t, srv.Requests(anonRefreshOp), 1, "exactly one refresh for 1,000 callers on two replicas")
	assert.Len(t, srv.Requests(anonLoginOp), 1, "and no new session")
	for _, tok := range results {
		assert.Equal(t, results[0].AccessToken, tok.AccessToken)
	}
	assert.NotEqual(t, first.AccessToken, results[0].AccessToken)
	assert.Equal(t, first.SessionID, results[0].SessionID, "the guest cart's session ID is kept")

	tokA, err := a.manager.Session("cookie-1").Token(ctx)
	require.NoError(t, err)
	tokB, err := b.manager.Session("cookie-1").Token(ctx)
	require.NoError(t, err)
	assert.Equal(t, results[0].AccessToken, tokA.AccessToken, "replica A ends with the refreshed token")
	assert.Equal(t, results[0].AccessToken, tokB.AccessToken, "replica B ends with the same token")
	assert.Len(t, srv.Requests(anonRefreshOp), 1)
}

func TestTwoReplicasRefreshAnExpiredCustomerTokenOnceAndKeepTheRotatedRefreshToken(t *testing.T) {
	t.Parallel()
	k := testKey(t, 1)
	storeA, _ := newTestStore(t, WithSealKeys(k[:]))
	storeB := sameRedisStore(t, storeA, WithSealKeys(k[:]))
	srv := newTokenService(t)
	a, b := newReplica(t, srv, storeA), newReplica(t, srv, storeB)
	ctx := context.Background()

	cust, err := a.manager.Session("cookie-1").Login(ctx, &emporix.LoginRequest{Email: "john@example.com", Password: "password123"})
	require.NoError(t, err)
	srv.Advance(11 * time.Minute) // the customer token expired, its refresh token lives
	results := hammer(t, srv, custRefreshOp, []*replica{a, b}, "cookie-1", 500)

	assert.Len(t, srv.Requests(custRefreshOp), 1, "exactly one customer refresh: a second would spend the rotated token")
	for _, tok := range results {
		assert.Equal(t, emporix.KindCustomer, tok.Kind)
		assert.Equal(t, results[0].AccessToken, tok.AccessToken)
	}
	assert.NotEqual(t, cust.AccessToken, results[0].AccessToken)
	st, _, err := storeB.Load(ctx, "cookie-1")
	require.NoError(t, err)
	assert.Equal(t, results[0].RefreshToken, st.Customer.RefreshToken, "the rotated refresh token is stored")
	assert.True(t, srv.RevokeToken(string(st.Customer.RefreshToken)), "and it is the one the service knows (spent ones are gone)")
}
