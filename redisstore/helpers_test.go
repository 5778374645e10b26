package redisstore

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/emporix-go/emporix"
	"github.com/emporix-go/emporix/internal/skipnote"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"
)

// The tests run against the Redis at REDIS_URL (e.g.
// redis://127.0.0.1:6391/0, as .ci/redis.sh starts it) when it is set, and
// against an embedded Redis (miniredis) of each test's own when it is not,
// so that the test command runs every test on a machine without Redis.
// EMPORIX_REQUIRE_REDIS=1 (set by .ci/redis.sh) insists on the real server:
// there, a missing REDIS_URL fails instead of falling back.

const testTenant = "mytenant"

// requireRedis reports whether the environment insists on the real Redis.
func requireRedis() bool { return os.Getenv("EMPORIX_REQUIRE_REDIS") == "1" }

// skipOrFail skips because of what is missing, or fails when
// EMPORIX_REQUIRE_REDIS=1; hint says how to provide it. The skip is also
// reported after the run in the test command's default output (see
// TestMain), since go test shows t.Skip messages only with -v.
func skipOrFail(t testing.TB, missing, hint string) {
	t.Helper()
	if requireRedis() {
		t.Fatalf("%s, but EMPORIX_REQUIRE_REDIS=1 requires this test (%s)", missing, hint)
	}
	skipnote.Skip(t, missing+" ("+hint+")")
}

// testRedis connects to the Redis Cluster at REDIS_CLUSTER_ADDRS (a comma-separated
// list of node addresses, as .ci/redis-cluster.sh starts it) when that is
// set, else to REDIS_URL, or to an embedded Redis when neither is.
func testRedis(t testing.TB) redis.UniversalClient {
	t.Helper()
	if addrs := clusterAddrs(); len(addrs) > 0 {
		return testCluster(t, addrs)
	}
	url := os.Getenv("REDIS_URL")
	if url == "" {
		if requireRedis() {
			t.Fatal("REDIS_URL is not set, but EMPORIX_REQUIRE_REDIS=1 requires the real Redis (source .ci/redis.sh)")
		}
		return embeddedClient(t, startEmbeddedRedis(t))
	}
	opt, err := redis.ParseURL(url)
	require.NoError(t, err, "REDIS_URL")
	rdb := redis.NewClient(opt)
	t.Cleanup(func() { _ = rdb.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	require.NoError(t, rdb.Ping(ctx).Err(), "REDIS_URL is set but Redis does not answer")
	return rdb
}

// startEmbeddedRedis starts a miniredis on a loopback port, closed when the
// test ends. miniredis counts TTLs down only when told to; a ticker tells it
// the real time that passed, so keys expire as on a real server (the expiry
// tests wait for Redis to remove a key).
func startEmbeddedRedis(t testing.TB) *miniredis.Miniredis {
	t.Helper()
	m := miniredis.RunT(t)
	stop, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		last := time.Now()
		for {
			select {
			case <-stop:
				return
			case now := <-tick.C:
				m.FastForward(now.Sub(last))
				last = now
			}
		}
	}()
	t.Cleanup(func() { close(stop); <-done })
	return m
}

// embeddedClient is a client of m, closed when the test ends.
func embeddedClient(t testing.TB, m *miniredis.Miniredis) *redis.Client {
	t.Helper()
	rdb := redis.NewClient(&redis.Options{Addr: m.Addr()})
	t.Cleanup(func() { _ = rdb.Close() })
	return rdb
}

// clusterAddrs returns the node addresses in REDIS_CLUSTER_ADDRS.
func clusterAddrs() []string {
	var out []string
	for _, a := range strings.Split(os.Getenv("REDIS_CLUSTER_ADDRS"), ",") {
		if a = strings.TrimSpace(a); a != "" {
			out = append(out, a)
		}
	}
	return out
}

// testCluster connects to the Redis Cluster at addrs, closed when the test
// ends, and checks that every slot is served.
func testCluster(t testing.TB, addrs []string) *redis.ClusterClient {
	t.Helper()
	rdb := redis.NewClusterClient(&redis.ClusterOptions{Addrs: addrs})
	t.Cleanup(func() { _ = rdb.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	info, err := rdb.ClusterInfo(ctx).Result()
	require.NoError(t, err, "REDIS_CLUSTER_ADDRS is set but the cluster does not answer")
	require.Contains(t, info, "cluster_state:ok", "REDIS_CLUSTER_ADDRS: the cluster is not ready")
	return rdb
}

// scanKeys returns the keys matching pattern, on every master of a cluster.
func scanKeys(t testing.TB, rdb redis.UniversalClient, pattern string) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var mu sync.Mutex
	var keys []string
	scan := func(ctx context.Context, node redis.Cmdable) error {
		iter := node.Scan(ctx, 0, pattern, 1000).Iterator()
		for iter.Next(ctx) {
			mu.Lock()
			keys = append(keys, iter.Val())
			mu.Unlock()
		}
		return iter.Err()
	}
	var err error
	if cluster, ok := rdb.(*redis.ClusterClient); ok {
		err = cluster.ForEachMaster(ctx, func(ctx context.Context, node *redis.Client) error { return scan(ctx, node) })
	} else {
		err = scan(ctx, rdb)
	}
	require.NoError(t, err)
	return keys
}

// testPrefix returns a key prefix of the test's own and deletes every key
// under it when the test ends (on a cluster, on every master: SCAN covers
// one node).
func testPrefix(t testing.TB, rdb redis.UniversalClient) string {
	t.Helper()
	var b [6]byte
	_, _ = rand.Read(b[:])
	name := strings.NewReplacer("/", "-", " ", "_", ":", "-").Replace(t.Name())
	prefix := "emporixtest:" + name + ":" + hex.EncodeToString(b[:])
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		clean := func(ctx context.Context, node redis.Cmdable) error {
			iter := node.Scan(ctx, 0, prefix+":*", 1000).Iterator()
			for iter.Next(ctx) {
				// One key at a time: on a cluster, keys of one DEL must
				// share a slot.
				if err := node.Del(ctx, iter.Val()).Err(); err != nil {
					return err
				}
			}
			return iter.Err()
		}
		var err error
		if cluster, ok := rdb.(*redis.ClusterClient); ok {
			err = cluster.ForEachMaster(ctx, func(ctx context.Context, node *redis.Client) error { return clean(ctx, node) })
		} else {
			err = clean(ctx, rdb)
		}
		if err != nil {
			t.Logf("cleaning up %s: %v", prefix, err)
		}
	})
	return prefix
}

// newTestStore returns a store on REDIS_URL (or an embedded Redis) under a
// fresh prefix.
func newTestStore(t testing.TB, opts ...Option) (*Store, redis.UniversalClient) {
	t.Helper()
	rdb := testRedis(t)
	store, err := New(rdb, testTenant, append([]Option{WithKeyPrefix(testPrefix(t, rdb))}, opts...)...)
	require.NoError(t, err)
	return store, rdb
}

// sameRedisStore returns another store on the same Redis and prefix as s,
// with other options: a second replica, or the same one reconfigured.
func sameRedisStore(t testing.TB, s *Store, opts ...Option) *Store {
	t.Helper()
	other, err := New(s.rdb, s.tenant, append([]Option{WithKeyPrefix(s.prefix)}, opts...)...)
	require.NoError(t, err)
	return other
}

// secretMark starts every secret in the states the tests store, so a test
// can look for any of them in raw values and error messages.
const secretMark = "SECRET-"

// testState is a logged-in session whose tokens expire relative to now.
func testState(n int, now time.Time) *emporix.SessionState {
	return &emporix.SessionState{
		Anonymous: &emporix.Token{
			Kind: emporix.KindAnonymous, AccessToken: emporix.Secret(fmt.Sprintf("%sanon-at-%d", secretMark, n)), TokenType: "Bearer",
			RefreshToken: emporix.Secret(fmt.Sprintf("%sanon-rt-%d", secretMark, n)), SessionID: fmt.Sprintf("session-%d", n),
			Scope: "tenant=mytenant", IssuedAt: now, Expiry: now.Add(time.Hour), RefreshExpiry: now.Add(24 * time.Hour),
		},
		Customer: &emporix.Token{
			Kind: emporix.KindCustomer, AccessToken: emporix.Secret(fmt.Sprintf("%scust-at-%d", secretMark, n)), TokenType: "Bearer",
			RefreshToken: emporix.Secret(fmt.Sprintf("%scust-rt-%d", secretMark, n)), SaasToken: emporix.Secret(fmt.Sprintf("%ssaas-%d", secretMark, n)),
			SessionID: fmt.Sprintf("session-%d", n), IssuedAt: now, Expiry: now.Add(30 * 24 * time.Hour),
			RefreshExpiry: now.Add(24 * time.Hour),
		},
	}
}

// expiringState is an anonymous session whose deadline is d from now.
func expiringState(n int, d time.Duration) *emporix.SessionState {
	now := time.Now()
	return &emporix.SessionState{Anonymous: &emporix.Token{
		Kind: emporix.KindAnonymous, AccessToken: emporix.Secret(fmt.Sprintf("%sanon-at-%d", secretMark, n)),
		RefreshToken: emporix.Secret(fmt.Sprintf("%sanon-rt-%d", secretMark, n)), SessionID: fmt.Sprintf("session-%d", n),
		IssuedAt: now, Expiry: now.Add(d / 2), RefreshExpiry: now.Add(d),
	}}
}

func testKey(t testing.TB, n int) [SealKeySize]byte {
	t.Helper()
	var k [SealKeySize]byte
	for i := range k {
		k[i] = byte(n*31 + i)
	}
	return k
}
