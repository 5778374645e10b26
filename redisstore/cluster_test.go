package redisstore

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emporix-go/emporix"
	"github.com/emporix-go/emporix/emporixtest"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// With REDIS_CLUSTER_ADDRS set (.ci/run starts a cluster of three masters,
// each with a replica, and runs the whole suite on it), every test of this
// package runs on the cluster. The tests below need one.

// needCluster returns the cluster client, or skips when the suite runs on a
// single server (.ci/run runs it on the cluster as well).
func needCluster(t *testing.T) *redis.ClusterClient {
	t.Helper()
	addrs := clusterAddrs()
	if len(addrs) == 0 {
		t.Skip("needs a Redis Cluster: set REDIS_CLUSTER_ADDRS (eval \"$(bash .ci/redis-cluster.sh)\"); .ci/run does")
	}
	return testCluster(t, addrs)
}

// TestClusterSpreadsSessionsOverEveryMaster: the store's keys are not
// pinned to one slot (no hash tag ties them together: every script touches
// one key), so sessions spread over the masters, and every operation works
// wherever its key lands.
func TestClusterSpreadsSessionsOverEveryMaster(t *testing.T) {
	t.Parallel()
	rdb := needCluster(t)
	store, err := New(rdb, testTenant, WithKeyPrefix(testPrefix(t, rdb)))
	require.NoError(t, err)
	ctx := t.Context()
	for i := range 30 {
		key := fmt.Sprintf("cookie-%d", i)
		v, err := store.Save(ctx, key, testState(i, time.Now()), 0)
		require.NoError(t, err)
		_, err = store.Save(ctx, key, testState(i, time.Now()), 0)
		require.ErrorIs(t, err, emporix.ErrStoreConflict, "the compare-and-swap holds on every node")
		_, got, err := store.Load(ctx, key)
		require.NoError(t, err)
		require.Equal(t, v, got)
		unlock, err := store.LockRefresh(ctx, "customer:"+key)
		require.NoError(t, err)
		unlock()
	}
	var mu sync.Mutex
	perMaster := map[string]int{}
	require.NoError(t, rdb.ForEachMaster(ctx, func(ctx context.Context, node *redis.Client) error {
		n := 0
		iter := node.Scan(ctx, 0, store.sessionPrefix+"*", 1000).Iterator()
		for iter.Next(ctx) {
			n++
		}
		mu.Lock()
		perMaster[node.Options().Addr] = n
		mu.Unlock()
		return iter.Err()
	}))
	require.Len(t, perMaster, 3, "three masters")
	total := 0
	for addr, n := range perMaster {
		assert.Positive(t, n, "master %s holds sessions", addr)
		total += n
	}
	assert.Equal(t, 30, total)
}

// TestClusterFailoverMidHerdLosesNoRotatedToken: 1,000 callers on two
// replicas (each with its own cluster client) pile up on the refresh of an
// expired customer token; while they wait, the master holding the session
// is failed over to its replica (CLUSTER FAILOVER, the coordinated manual
// failover: the replica takes over once it has caught up). The refresh then
// completes: exactly one refresh, every caller gets its token, and the
// rotated refresh token is what the new master stores.
func TestClusterFailoverMidHerdLosesNoRotatedToken(t *testing.T) {
	admin := needCluster(t)
	ctx := t.Context()
	clientA, clientB := testCluster(t, clusterAddrs()), testCluster(t, clusterAddrs())
	prefix := testPrefix(t, admin)
	k := testKey(t, 1)
	storeA, err := New(clientA, testTenant, WithKeyPrefix(prefix), WithSealKeys(k[:]))
	require.NoError(t, err)
	storeB, err := New(clientB, testTenant, WithKeyPrefix(prefix), WithSealKeys(k[:]))
	require.NoError(t, err)
	srv := newTokenService(t)
	a, b := newReplica(t, srv, storeA), newReplica(t, srv, storeB)

	cust, err := a.manager.Session("cookie-1").Login(ctx, &emporix.LoginRequest{Email: "john@example.com", Password: "password123"})
	require.NoError(t, err)
	srv.Advance(11 * time.Minute) // the customer token expired, its refresh token lives

	rkey := storeA.sessionKey("cookie-1")
	master, err := admin.MasterForKey(ctx, rkey)
	require.NoError(t, err)
	oldMaster := master.Options().Addr
	replicaAddr := replicaOf(t, master)

	gate := make(chan struct{})
	srv.InjectFault(custRefreshOp, emporixtest.Fault{Hold: gate})
	replicas := []*replica{a, b}
	results := make([]*emporix.Token, 1000)
	errs := make([]error, len(results))
	var wg sync.WaitGroup
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
			defer cancel()
			results[i], errs[i] = replicas[i%2].manager.Session("cookie-1").Token(cctx)
		}()
	}
	time.Sleep(200 * time.Millisecond) // the callers pile up on the refresh

	// The cluster is not failed back afterwards: its masters refuse to vote
	// for the same slots again within twice the node timeout, and the tests
	// find masters and replicas as they are.
	failover(t, replicaAddr, oldMaster)
	close(gate)
	wg.Wait()

	for i := range results {
		require.NoError(t, errs[i], "caller %d", i)
	}
	assert.Len(t, srv.Requests(custRefreshOp), 1, "exactly one customer refresh across the failover")
	for _, tok := range results {
		assert.Equal(t, results[0].AccessToken, tok.AccessToken)
	}
	assert.NotEqual(t, cust.AccessToken, results[0].AccessToken)

	fresh := testCluster(t, clusterAddrs()) // the admin client's slot map predates the failover
	newMaster, err := fresh.MasterForKey(ctx, rkey)
	require.NoError(t, err)
	assert.Equal(t, replicaAddr, newMaster.Options().Addr, "the session's slot moved to the former replica")
	for _, s := range []*Store{storeA, storeB} {
		st, _, err := s.Load(ctx, "cookie-1")
		require.NoError(t, err)
		assert.Equal(t, results[0].RefreshToken, st.Customer.RefreshToken, "the rotated refresh token survived the failover")
	}
	assert.True(t, srv.RevokeToken(string(results[0].RefreshToken)), "and it is the one the service knows (spent ones are gone)")
}

// replicaOf returns the address of master's replica.
func replicaOf(t *testing.T, master *redis.Client) string {
	t.Helper()
	ctx := context.Background()
	id, err := master.Do(ctx, "CLUSTER", "MYID").Text()
	require.NoError(t, err)
	lines, err := master.Do(ctx, "CLUSTER", "REPLICAS", id).StringSlice()
	require.NoError(t, err)
	require.NotEmpty(t, lines, "master %s has no replica", master.Options().Addr)
	addr := strings.Fields(lines[0])[1] // "<id> <ip:port@cport> ..."
	addr, _, _ = strings.Cut(addr, "@")
	return addr
}

// failover makes the replica at addr take over from its master at from,
// and waits (at most 15 s each) until the replica has caught up before,
// and both nodes agree and the old master replicates from the new one
// after, so the next failover can start from a settled pair.
func failover(t *testing.T, addr, from string) {
	t.Helper()
	ctx := context.Background()
	node := redis.NewClient(&redis.Options{Addr: addr})
	defer node.Close()
	old := redis.NewClient(&redis.Options{Addr: from})
	defer old.Close()
	waitFor(t, func() bool { return linkUp(ctx, node) }, "replica %s in sync before the failover", addr)
	// A manual failover times out when the other masters do not vote (they
	// wait twice the node timeout between votes for the same slots), so it
	// is asked for again, within 20 s in all.
	switched := func() bool { return role(ctx, node) == "master" && role(ctx, old) == "slave" }
	deadline := time.Now().Add(20 * time.Second)
	for !switched() {
		require.True(t, time.Now().Before(deadline), "failover of %s to %s did not happen within 20 s", from, addr)
		require.NoError(t, node.Do(ctx, "CLUSTER", "FAILOVER").Err(), "CLUSTER FAILOVER on %s", addr)
		for end := time.Now().Add(6 * time.Second); !switched() && time.Now().Before(end); {
			time.Sleep(50 * time.Millisecond)
		}
	}
	waitFor(t, func() bool { return linkUp(ctx, old) }, "old master %s replicating from %s", from, addr)
}

func role(ctx context.Context, c *redis.Client) string {
	r, err := c.Do(ctx, "ROLE").Slice()
	if err != nil || len(r) == 0 {
		return ""
	}
	s, _ := r[0].(string)
	return s
}

// linkUp reports whether the replica c is connected to its master.
func linkUp(ctx context.Context, c *redis.Client) bool {
	info, err := c.Info(ctx, "replication").Result()
	return err == nil && strings.Contains(info, "master_link_status:up")
}

func waitFor(t *testing.T, cond func() bool, what string, args ...any) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("not within 15 s: "+what, args...)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
