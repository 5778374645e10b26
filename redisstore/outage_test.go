package redisstore

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emporix-go/emporix"
	"github.com/emporix-go/emporix/emporixtest"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A Redis outage in the middle of storefront traffic: two replicas (two
// stores and session managers on one Redis), shoppers logged in with
// 10-minute customer tokens whose refresh tokens rotate, and Redis
// restarted, with its data kept on disk or empty.

// persistentRedis is a redis-server process of the test's own that keeps
// its data in an append-only file (fsync on every write), so a restart
// brings back everything written before it.
type persistentRedis struct {
	t    *testing.T
	bin  string
	port int
	dir  string
	proc *redisProcess
}

func newPersistentRedis(t *testing.T) *persistentRedis {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		skipOrFail(t, "the redis-server binary is not installed",
			"this test restarts a real server process with its data on disk; .ci/redis.sh installs it")
	}
	return &persistentRedis{t: t, bin: bin, port: freeLoopbackPort(t), dir: t.TempDir()}
}

func (p *persistentRedis) addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(p.port)) }

// start starts the server; with keep it reads the data of the last run.
func (p *persistentRedis) start(keep bool) {
	p.t.Helper()
	if !keep {
		require.NoError(p.t, os.RemoveAll(p.dir))
		require.NoError(p.t, os.MkdirAll(p.dir, 0o700))
	}
	p.proc = startRedisProcess(p.t, exec.Command(p.bin, "--port", strconv.Itoa(p.port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "yes", "--appendfsync", "always", "--daemonize", "no", "--dir", p.dir), p.port)
}

// stop shuts the server down (its data stays in the append-only file).
func (p *persistentRedis) stop() {
	p.t.Helper()
	probe := redis.NewClient(&redis.Options{Addr: p.addr(), MaxRetries: -1})
	defer probe.Close()
	_ = probe.Shutdown(context.Background()).Err()
	select {
	case <-p.proc.done:
	case <-time.After(10 * time.Second):
		p.t.Fatal("redis-server did not shut down")
	}
}

// inProcess serves the SDK's requests with the fake's handler.
type inProcess struct{ h http.Handler }

func (p inProcess) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body == nil {
		req.Body = http.NoBody
	}
	rec := httptest.NewRecorder()
	p.h.ServeHTTP(rec, req)
	resp := rec.Result()
	resp.Request = req
	return resp, nil
}

type changes struct {
	mu   sync.Mutex
	list []emporix.SessionChange
}

func (c *changes) add(_ context.Context, ch emporix.SessionChange) {
	c.mu.Lock()
	c.list = append(c.list, ch)
	c.mu.Unlock()
}

func (c *changes) all() []emporix.SessionChange {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]emporix.SessionChange(nil), c.list...)
}

// shop is the fake service and two replicas on one Redis.
type shop struct {
	srv      *emporixtest.Server
	replicas []*emporix.SessionManager
	changes  changes
}

func newShop(t *testing.T, addr string) *shop {
	t.Helper()
	// go-redis logs every failed dial; the failures are the point here.
	quietRedisLog(t)
	srv := emporixtest.NewServer(emporixtest.WithLifetimes(emporixtest.Lifetimes{CustomerAccess: 10 * time.Minute}))
	t.Cleanup(srv.Close)
	c, err := emporix.NewClient(srv.Tenant(), srv.ClientID(), emporix.WithBaseURL(srv.URL()),
		emporix.WithHTTPClient(&http.Client{Transport: inProcess{srv.Handler()}}), emporix.WithClock(srv.Now))
	require.NoError(t, err)
	sh := &shop{srv: srv}
	for range 2 {
		rdb := redis.NewClient(&redis.Options{Addr: addr, DialTimeout: 200 * time.Millisecond,
			ReadTimeout: 500 * time.Millisecond, WriteTimeout: 500 * time.Millisecond, MaxRetries: 1})
		t.Cleanup(func() { _ = rdb.Close() })
		store, err := New(rdb, testTenant, WithKeyPrefix("emporixtest-outage"))
		require.NoError(t, err)
		m, err := emporix.NewSessionManager(c, store, emporix.WithSessionChangeHook(sh.changes.add),
			emporix.WithRefreshTimeout(10*time.Second))
		require.NoError(t, err)
		sh.replicas = append(sh.replicas, m)
	}
	return sh
}

// login logs shopper i in on replica i%2 and returns the session key and
// session ID.
func (sh *shop) login(t *testing.T, i int) (key, sessionID string) {
	t.Helper()
	ctx := context.Background()
	email := fmt.Sprintf("shopper%d@example.com", i)
	_, err := sh.srv.AddCustomer(email, "password123")
	require.NoError(t, err)
	s := sh.replicas[i%2].Session(emporix.NewSessionKey())
	_, err = s.Login(ctx, &emporix.LoginRequest{Email: email, Password: "password123"})
	require.NoError(t, err)
	id, err := s.SessionID(ctx)
	require.NoError(t, err)
	return s.Key(), id
}

// refused counts customer refreshes the service refused (a spent or
// revoked refresh token).
func (sh *shop) refused() int {
	n := 0
	for _, r := range sh.srv.Requests("GET-customer-refresh-authtoken") {
		if r.Status == http.StatusUnauthorized {
			n++
		}
	}
	return n
}

func TestRedisRestartWithDataKeptLosesNoLogin(t *testing.T) {
	const shoppers = 200
	r := newPersistentRedis(t)
	r.start(false)
	sh := newShop(t, r.addr())
	ctx := context.Background()
	keys := make([]string, shoppers)
	for i := range keys {
		keys[i], _ = sh.login(t, i)
	}

	var upAt, lastFailure, lastStart atomic.Int64 // Unix ns
	var lastErr atomic.Value
	var calls, failures atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for i := range shoppers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := 0; ; n++ {
				select {
				case <-stop:
					return
				default:
				}
				// Each shopper's requests reach both replicas.
				start := time.Now()
				cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
				_, err := sh.replicas[(i+n)%2].Session(keys[i]).Token(cctx)
				cancel()
				calls.Add(1)
				if err != nil {
					failures.Add(1)
					// Which call failed last, and whether it failed at
					// once or waited out its timeout, tells a slow
					// recovery from a stuck one.
					lastStart.Store(start.UnixNano())
					lastFailure.Store(time.Now().UnixNano())
					lastErr.Store(err.Error())
				}
				time.Sleep(20 * time.Millisecond)
			}
		}()
	}
	// Time moves on at the service: every customer token expires every
	// ten steps and is refreshed, with a rotating refresh token.
	for step := range 40 {
		sh.srv.Advance(time.Minute)
		if step == 15 {
			downAt := time.Now()
			r.stop()
			time.Sleep(time.Second) // Redis is away for about a second
			r.start(true)
			upAt.Store(time.Now().UnixNano())
			t.Logf("Redis was unreachable for %v", time.Since(downAt).Round(time.Millisecond))
		}
		time.Sleep(50 * time.Millisecond)
	}
	close(stop)
	wg.Wait()

	loggedIn := 0
	for _, k := range keys {
		in, err := sh.replicas[0].Session(k).LoggedIn(ctx)
		require.NoError(t, err)
		if in {
			loggedIn++
		}
	}
	late := time.Duration(lastFailure.Load() - upAt.Load())
	t.Logf("shoppers logged in at the end: %d/%d; refused refresh tokens: %d; calls: %d, failed: %d; "+
		"last failure %v after Redis answered again (the call started %v after and took %v): %v",
		loggedIn, shoppers, sh.refused(), calls.Load(), failures.Load(), late.Round(time.Millisecond),
		time.Duration(lastStart.Load()-upAt.Load()).Round(time.Millisecond),
		time.Duration(lastFailure.Load()-lastStart.Load()).Round(time.Millisecond), lastErr.Load())
	assert.Equal(t, shoppers, loggedIn, "every shopper is still logged in")
	assert.Zero(t, sh.refused(), "no refresh token is refused")
	assert.LessOrEqual(t, late, 2*time.Second, "no call fails more than 2 s after Redis answers again")
	for _, ch := range sh.changes.all() {
		t.Errorf("unexpected session change: %v", ch)
	}
}

func TestRedisRestartEmptyReportsEveryLostSession(t *testing.T) {
	const shoppers = 200
	r := newPersistentRedis(t)
	r.start(false)
	sh := newShop(t, r.addr())
	ctx := context.Background()
	keys, ids := make([]string, shoppers), make([]string, shoppers)
	for i := range keys {
		keys[i], ids[i] = sh.login(t, i)
	}
	r.stop()
	r.start(false) // back, without its data

	for i, k := range keys {
		// Every fourth request reaches the replica that never saw the
		// shopper: there only the cookie remembers the session ID.
		replica := (i + 1) % 2
		cctx := ctx
		if i%4 == 1 {
			cctx = emporix.RememberSessionID(ctx, ids[i])
		} else {
			replica = i % 2
		}
		require.Eventually(t, func() bool {
			_, err := sh.replicas[replica].Session(k).Token(cctx)
			return err == nil
		}, 15*time.Second, 10*time.Millisecond, "shopper %d goes on as a guest", i)
	}
	reported := map[string]emporix.SessionChange{}
	for _, ch := range sh.changes.all() {
		assert.Equal(t, emporix.ReasonSessionLost, ch.Reason)
		reported[string(ch.Key)] = ch
	}
	restored := 0
	for i, k := range keys {
		ch, ok := reported[k]
		if !ok {
			// A session whose last save was still pending in the
			// process (a write that timed out under load) is not lost:
			// the process brings it back, with its session ID.
			id, err := sh.replicas[i%2].Session(k).SessionID(ctx)
			require.NoError(t, err)
			if assert.Equal(t, ids[i], id, "shopper %d: neither reported nor kept", i) {
				restored++
			}
			continue
		}
		assert.Equal(t, ids[i], ch.OldSessionID)
	}
	t.Logf("lost sessions reported: %d/%d; kept by the process that had them: %d", len(reported), shoppers, restored)
}

func TestAReleaseRedisMissedIsRetriedWhenItIsBack(t *testing.T) {
	r := newPersistentRedis(t)
	r.start(false)
	quietRedisLog(t)
	rdb := redis.NewClient(&redis.Options{Addr: r.addr(), DialTimeout: 200 * time.Millisecond, MaxRetries: 1})
	t.Cleanup(func() { _ = rdb.Close() })
	const ttl = 8 * time.Second // long, to tell a retried release from an expiry
	store, err := New(rdb, testTenant, WithKeyPrefix("emporixtest-unlock"), WithLockTTL(ttl))
	require.NoError(t, err)
	ctx := context.Background()

	unlock, err := store.LockRefresh(ctx, "customer:cookie")
	require.NoError(t, err)
	r.stop()
	unlock() // Redis does not receive it
	r.start(true)
	upAt := time.Now()

	other := sameRedisStore(t, store)
	wctx, cancel := context.WithTimeout(ctx, ttl)
	defer cancel()
	unlock2, err := other.LockRefresh(wctx, "customer:cookie")
	require.NoError(t, err, "the lock is released once Redis is back")
	waited := time.Since(upAt)
	unlock2()
	t.Logf("the lost release landed %v after Redis was back (lock lifetime %v)", waited.Round(time.Millisecond), ttl)
	assert.Less(t, waited, 2*time.Second, "not the lock's lifetime")
}

func TestAWaiterProceedsAfterAVanishedHoldersLifetime(t *testing.T) {
	store, _ := newTestStore(t, WithLockTTL(300*time.Millisecond))
	ctx := context.Background()
	// A holder that vanished: it took the lock and never renewed or
	// released it (a replica that died).
	lkey := store.lockKey("customer:cookie")
	require.NoError(t, store.rdb.Do(ctx, "SET", lkey, "dead-holder", "PX", 300, "NX").Err())
	start := time.Now()
	unlock, err := store.LockRefresh(ctx, "customer:cookie")
	require.NoError(t, err)
	unlock()
	waited := time.Since(start)
	assert.GreaterOrEqual(t, waited, 200*time.Millisecond, "it waited for the holder")
	assert.Less(t, waited, 2*time.Second, "no longer than about the lifetime")
}
