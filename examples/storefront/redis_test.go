package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/emporix-go/emporix"
	"github.com/emporix-go/emporix/emporixtest"
	"github.com/emporix-go/emporix/redisstore"
	"github.com/redis/go-redis/v9"
)

// The tests on Redis use the Redis at REDIS_URL (e.g.
// redis://127.0.0.1:6391/0, as .ci/redis.sh starts it) when it is set, and an
// embedded Redis (miniredis) of each test's own when it is not, so that the
// test command runs them on a machine without Redis. EMPORIX_REQUIRE_REDIS=1
// (set by .ci/redis.sh) insists on the real server, as in redisstore's tests.

// testRedisURL returns REDIS_URL, or the URL of an embedded Redis when it is
// unset (a failure with EMPORIX_REQUIRE_REDIS=1).
func testRedisURL(t *testing.T) string {
	t.Helper()
	if url := os.Getenv("REDIS_URL"); url != "" {
		return url
	}
	if os.Getenv("EMPORIX_REQUIRE_REDIS") == "1" {
		t.Fatal("REDIS_URL is not set, but EMPORIX_REQUIRE_REDIS=1 requires the real Redis (source .ci/redis.sh)")
	}
	m := miniredis.RunT(t)
	// miniredis counts TTLs down only when told to: tell it the real time
	// that passes, so sessions expire as on a real server.
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
	return "redis://" + m.Addr() + "/0"
}

// testPrefix returns a key prefix of the test's own and deletes every key
// under it when the test ends.
func testPrefix(t *testing.T, url string) string {
	t.Helper()
	rdb := testRedisClient(t, url)
	var b [6]byte
	_, _ = rand.Read(b[:])
	name := strings.NewReplacer("/", "-", " ", "_", ":", "-").Replace(t.Name())
	prefix := "emporixtest:storefront:" + name + ":" + hex.EncodeToString(b[:])
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		keys, err := rawKeys(ctx, rdb, prefix)
		if err != nil {
			t.Logf("cleaning up %s: %v", prefix, err)
			return
		}
		if len(keys) > 0 {
			if err := rdb.Del(ctx, keys...).Err(); err != nil {
				t.Logf("cleaning up %s: %v", prefix, err)
			}
		}
	})
	return prefix
}

// testRedisClient is a client of the test's own, for looking at what the
// storefront stored. It is closed when the test ends.
func testRedisClient(t *testing.T, url string) *redis.Client {
	t.Helper()
	opt, err := redis.ParseURL(url)
	if err != nil {
		t.Fatalf("REDIS_URL: %v", err)
	}
	rdb := redis.NewClient(opt)
	t.Cleanup(func() { _ = rdb.Close() })
	return rdb
}

func rawKeys(ctx context.Context, rdb *redis.Client, prefix string) ([]string, error) {
	var keys []string
	iter := rdb.Scan(ctx, 0, prefix+":*", 1000).Iterator()
	for iter.Next(ctx) {
		keys = append(keys, iter.Val())
	}
	return keys, iter.Err()
}

// newSealKey returns a random sealing key, base64-encoded as
// EMPORIX_SEAL_KEY holds it.
func newSealKey() string {
	var k [redisstore.SealKeySize]byte
	_, _ = rand.Read(k[:])
	return base64.StdEncoding.EncodeToString(k[:])
}

// redisConfig is the configuration main reads from an environment with
// REDIS_URL and, if sealKey is not empty, EMPORIX_SEAL_KEY.
func redisConfig(t *testing.T, url, sealKey string) config {
	t.Helper()
	env := map[string]string{"REDIS_URL": url, "EMPORIX_SEAL_KEY": sealKey}
	cfg, err := configFromEnv(func(k string) string { return env[k] })
	if err != nil {
		t.Fatalf("configFromEnv: %v", err)
	}
	return cfg
}

// redisStore returns a newShop store constructor that builds the store as
// main does, with cfg's Redis settings, for fake's tenant, under prefix.
func redisStore(t *testing.T, fake *emporixtest.Server, cfg config, prefix string) func(*slog.Logger) emporix.TokenStore {
	return func(logger *slog.Logger) emporix.TokenStore {
		t.Helper()
		cfg.Tenant = fake.Tenant()
		store, closeStore, err := newTokenStore(t.Context(), cfg, logger, redisstore.WithKeyPrefix(prefix))
		if err != nil {
			t.Fatalf("newTokenStore: %v", err)
		}
		// Registered before the shop's server, so it is closed after it.
		t.Cleanup(func() {
			if err := closeStore(); err != nil {
				t.Errorf("closing the Redis client: %v", err)
			}
		})
		if _, ok := store.(*redisstore.Store); !ok {
			t.Fatalf("with REDIS_URL newTokenStore returned a %T", store)
		}
		return store
	}
}

// newRedisFixture is a storefront on Redis (sealed or not) under a prefix
// of the test's own.
func newRedisFixture(t *testing.T, sealed bool) *fixture {
	t.Helper()
	url := testRedisURL(t)
	var key string
	if sealed {
		key = newSealKey()
	}
	fake := newFake(t)
	f := newShop(t, fake, redisStore(t, fake, redisConfig(t, url, key), testPrefix(t, url)))
	checkStoreLog(t, f, sealed, key)
	return f
}

// checkStoreLog checks that the shop logged its Redis store, without the
// seal key.
func checkStoreLog(t *testing.T, f *fixture, sealed bool, key string) {
	t.Helper()
	logs := f.logs.String()
	if !strings.Contains(logs, "session store: Redis") || !strings.Contains(logs, fmt.Sprintf("sealed=%t", sealed)) {
		t.Errorf("the store in use is not logged as Redis with sealed=%t:\n%s", sealed, logs)
	}
	if key != "" && strings.Contains(logs, key) {
		t.Errorf("the logs contain the seal key:\n%s", logs)
	}
}

// TestTwoReplicasServeOneShopper runs two storefront replicas, each with its
// own client, session manager and server, on one Redis and one Emporix, and
// a shopper whose requests alternate between them, as behind a load
// balancer without sticky sessions.
func TestTwoReplicasServeOneShopper(t *testing.T) {
	url := testRedisURL(t)
	fake := newFake(t)
	prefix := testPrefix(t, url)
	sealKey := newSealKey()
	cfg := redisConfig(t, url, sealKey)
	a := newShop(t, fake, redisStore(t, fake, cfg, prefix))
	b := newShop(t, fake, redisStore(t, fake, cfg, prefix))
	checkStoreLog(t, a, true, sealKey)
	onA := a.newShopper(t)
	onB := onA.at(b)
	ctx := t.Context()

	// Browse on A; B continues the same session.
	anon := onA.mustBrowse(t)
	if anon.SessionID == "" || anon.LoggedIn {
		t.Fatalf("first visit: %+v", anon)
	}
	if viaB := onB.mustBrowse(t); viaB != anon {
		t.Fatalf("replica B answers %+v, want replica A's %+v", viaB, anon)
	}

	// Sign up and log in on A; the profile on B.
	const email, password = "jane@example.com", "password123"
	in, err := onA.signupAndLogin(email, password)
	if err != nil {
		t.Fatal(err)
	}
	if in.SessionID != anon.SessionID || !in.LoggedIn {
		t.Fatalf("login on A: %+v, want session ID %s kept", in, anon.SessionID)
	}
	var p profileView
	if err := onB.call("GET", "/profile", nil, http.StatusOK, &p); err != nil {
		t.Fatalf("profile on B after login on A: %v", err)
	}
	if p.ContactEmail != email || p.CustomerNumber == "" {
		t.Errorf("profile on B: %+v", p)
	}

	// Add an address on A; B lists it.
	var created struct{ ID string }
	addr := emporix.AddressCreate{ContactName: "Jane Doe", Street: "Main Street", StreetNumber: "1", ZipCode: "10115", City: "Berlin", Country: "DE"}
	if err := onA.call("POST", "/addresses", addr, http.StatusCreated, &created); err != nil {
		t.Fatal(err)
	}
	if list := onB.mustAddresses(t); len(list) != 1 || list[0].ID != created.ID {
		t.Fatalf("addresses on B after adding one on A: %+v", list)
	}

	// The session is sealed in Redis: no token in the stored values.
	custToken := a.lastCustomerToken(t)
	rdb := testRedisClient(t, url)
	keys, err := rawKeys(ctx, rdb, prefix)
	if err != nil || len(keys) == 0 {
		t.Fatalf("no session under %s in Redis: %v", prefix, err)
	}
	for _, k := range keys {
		if !strings.Contains(k, ":session:") {
			continue // a refresh lock
		}
		raw, err := rdb.HGet(ctx, k, "state").Result()
		if err != nil {
			t.Fatalf("reading %s: %v", k, err)
		}
		if strings.Contains(raw, custToken) || strings.Contains(raw, anon.SessionID) {
			t.Errorf("the stored session is not sealed: %s holds its token or session ID in clear", k)
		}
	}

	// Log out on B; A no longer knows the session, not even under the old
	// cookie.
	key := onA.key()
	if err := onB.call("POST", "/logout", nil, http.StatusOK, nil); err != nil {
		t.Fatal(err)
	}
	if kind := fake.TokenKind(custToken); kind != "" {
		t.Errorf("customer token still known to Emporix after logout on B: %v", kind)
	}
	if err := onA.call("GET", "/profile", nil, http.StatusUnauthorized, nil); err != nil {
		t.Errorf("profile on A after logout on B: %v", err)
	}
	if _, _, err := a.store.Load(ctx, key); !errors.Is(err, emporix.ErrSessionNotFound) {
		t.Errorf("replica A's store still loads the session after logout on B: %v", err)
	}
	req, _ := http.NewRequest("GET", a.shop.URL+"/profile", nil)
	req.AddCookie(&http.Cookie{Name: sessionCookie, Value: key})
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusUnauthorized {
		t.Errorf("profile on A with the logged-out cookie: status %d, want 401", res.StatusCode)
	}

	// A new anonymous session, shared again.
	guest := onA.mustBrowse(t)
	if guest.LoggedIn || guest.SessionID == anon.SessionID {
		t.Fatalf("after logout: %+v, want a new anonymous session", guest)
	}
	if viaB := onB.mustBrowse(t); viaB != guest {
		t.Fatalf("replica B answers %+v, want %+v", viaB, guest)
	}

	// Its anonymous access token expires (1 hour; the refresh token lives 24).
	// Concurrent requests of the shopper to both replicas cause one refresh
	// at Emporix, held back a little so that they pile up on it, and no new
	// session.
	const refreshOp, loginOp = "GET-oauth-refresh-anonymous-access-token", "GET-oauth-generate-anonymous-access-token"
	refreshes, logins := len(fake.Requests(refreshOp)), len(fake.Requests(loginOp))
	fake.Advance(2 * time.Hour)
	fake.InjectFault(refreshOp, emporixtest.Fault{Delay: 200 * time.Millisecond})
	const perReplica = 25
	views := make([]sessionView, 2*perReplica)
	var wg sync.WaitGroup
	for i := range views {
		on := onA
		if i%2 == 1 {
			on = onB
		}
		wg.Go(func() {
			v, err := on.browse()
			if err != nil {
				t.Errorf("request %d: %v", i, err)
			}
			views[i] = v
		})
	}
	wg.Wait()
	for i, v := range views {
		if v != guest {
			t.Errorf("request %d answered %+v, want %+v", i, v, guest)
			break
		}
	}
	if n := len(fake.Requests(refreshOp)) - refreshes; n != 1 {
		t.Errorf("%d concurrent requests on two replicas sent %d anonymous refreshes to Emporix, want exactly 1", len(views), n)
	}
	if n := len(fake.Requests(loginOp)) - logins; n != 0 {
		t.Errorf("%d new anonymous sessions, want none", n)
	}
	if n := fake.PendingFaults(); n != 0 {
		t.Errorf("the delayed refresh never happened (%d faults pending)", n)
	}
	for _, f := range []*fixture{a, b} {
		if logs := f.logs.String(); strings.Contains(logs, sealKey) || strings.Contains(logs, key) {
			t.Errorf("a replica logged the seal key or a session key:\n%s", logs)
		}
	}
}

// TestSealKeyConfig needs no Redis: EMPORIX_SEAL_KEY and REDIS_URL are
// checked before anything connects, and never printed.
func TestSealKeyConfig(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	const redisURL = "redis://127.0.0.1:1/0"
	key := newSealKey()
	raw, _ := base64.StdEncoding.DecodeString(key)

	cfg, err := configFromEnv(env(map[string]string{"REDIS_URL": redisURL, "EMPORIX_SEAL_KEY": key}))
	if err != nil || len(cfg.SealKeys) != 1 || string(cfg.SealKeys[0]) != string(raw) {
		t.Fatalf("a valid key: %d keys, %v", len(cfg.SealKeys), err)
	}
	var logged syncBuffer
	slog.New(slog.NewTextHandler(&logged, nil)).Info("config", "cfg", cfg, "keys", cfg.SealKeys)
	for _, out := range []string{
		fmt.Sprintf("%v|%+v|%#v|%s|%x|%q", cfg, cfg, cfg, cfg.SealKeys, cfg.SealKeys, cfg.SealKeys), logged.String(),
	} {
		if !strings.Contains(out, "REDACTED") || strings.Contains(out, key) || strings.Contains(out, string(raw)) ||
			strings.Contains(out, hex.EncodeToString(raw)) || strings.Contains(out, strings.Trim(fmt.Sprint(raw), "[]")) {
			t.Errorf("the seal key is printed: %s", out)
		}
	}

	old := newSealKey()
	cfg, err = configFromEnv(env(map[string]string{"REDIS_URL": redisURL, "EMPORIX_SEAL_KEY": key + ", " + old}))
	if err != nil || len(cfg.SealKeys) != 2 || string(cfg.SealKeys[0]) != string(raw) {
		t.Errorf("two keys for rotation: %d keys, %v", len(cfg.SealKeys), err)
	}

	short := base64.StdEncoding.EncodeToString(raw[:16])
	for name, tc := range map[string]struct{ env map[string]string }{
		"not base64":      {map[string]string{"REDIS_URL": redisURL, "EMPORIX_SEAL_KEY": "secret-not-base64!"}},
		"16 bytes":        {map[string]string{"REDIS_URL": redisURL, "EMPORIX_SEAL_KEY": short}},
		"a bad second":    {map[string]string{"REDIS_URL": redisURL, "EMPORIX_SEAL_KEY": key + "," + short}},
		"without Redis":   {map[string]string{"EMPORIX_SEAL_KEY": key}},
		"empty in a list": {map[string]string{"REDIS_URL": redisURL, "EMPORIX_SEAL_KEY": key + ","}},
	} {
		_, err := configFromEnv(env(tc.env))
		if err == nil {
			t.Errorf("%s: accepted", name)
			continue
		}
		if msg := err.Error(); !strings.Contains(msg, "EMPORIX_SEAL_KEY") || strings.Contains(msg, "secret") ||
			strings.Contains(msg, key) || strings.Contains(msg, short) {
			t.Errorf("%s: the error does not name EMPORIX_SEAL_KEY or quotes the value: %s", name, msg)
		}
	}

	// A REDIS_URL that does not parse: the error never quotes the password.
	for _, bad := range []string{"redis://:hunter2@localhost:notaport/0", "http://:hunter2@localhost:6379/0", "redis://:hunter2@localhost:6379/x"} {
		cfg, err := configFromEnv(env(map[string]string{"REDIS_URL": bad}))
		if err != nil {
			t.Fatalf("%v", err)
		}
		cfg.Tenant = "mytenant"
		_, _, err = newTokenStore(t.Context(), cfg, slog.New(slog.DiscardHandler))
		if err == nil || !strings.Contains(err.Error(), "REDIS_URL") || strings.Contains(err.Error(), "hunter2") {
			t.Errorf("REDIS_URL %s: %v", strings.ReplaceAll(bad, "hunter2", "PASSWORD"), err)
		}
	}
}

// TestRedisTestsRunWithoutRedisURL: on a machine without Redis the storefront
// runs on an embedded Redis in the tests instead of skipping them.
func TestRedisTestsRunWithoutRedisURL(t *testing.T) {
	t.Setenv("REDIS_URL", "")
	t.Setenv("EMPORIX_REQUIRE_REDIS", "")
	var sub *testing.T
	t.Run("redis-sealed", func(t *testing.T) {
		sub = t
		f := newRedisFixture(t, true)
		if v := f.newShopper(t).mustBrowse(t); v.SessionID == "" {
			t.Errorf("no session on the embedded Redis: %+v", v)
		}
		if _, ok := f.store.(*redisstore.Store); !ok {
			t.Errorf("the store is a %T, want the Redis store", f.store)
		}
	})
	if sub.Skipped() {
		t.Error("the storefront's Redis test skipped without REDIS_URL")
	}
}
