package redisstore

import (
	"bytes"
	"context"
	"errors"
	"net"
	"os/exec"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/emporix-go/emporix"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// redisProcess is a redis-server this test started, on a loopback port.
type redisProcess struct {
	cmd  *exec.Cmd
	out  *syncBuffer
	done chan struct{}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startRedisServer starts redis-server on 127.0.0.1:port without persistence
// and waits until it answers. The process is killed when the test ends.
func startRedisServer(t *testing.T, bin string, port int) *redisProcess {
	t.Helper()
	return startRedisProcess(t, exec.Command(bin, "--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "",
		"--appendonly", "no", "--daemonize", "no", "--dir", t.TempDir()), port)
}

// startRedisProcess runs cmd, a redis-server on 127.0.0.1:port, and waits
// until it answers. The process is killed when the test ends.
func startRedisProcess(t *testing.T, cmd *exec.Cmd, port int) *redisProcess {
	t.Helper()
	p := &redisProcess{cmd: cmd, out: &syncBuffer{}, done: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = p.out, p.out
	require.NoError(t, cmd.Start())
	go func() {
		_ = cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			_ = cmd.Process.Kill()
			<-p.done
		}
	})
	probe := redis.NewClient(&redis.Options{Addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), MaxRetries: -1})
	defer probe.Close()
	deadline := time.Now().Add(10 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		err := probe.Ping(ctx).Err()
		cancel()
		if err == nil {
			return p
		}
		select {
		case <-p.done:
			t.Fatalf("redis-server exited: %s", p.out.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("redis-server did not answer on port %d: %v\n%s", port, err, p.out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func freeLoopbackPort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	port := l.Addr().(*net.TCPAddr).Port
	require.NoError(t, l.Close())
	return port
}

// restartableRedis is a Redis the test can stop and start again on the same
// address, empty: a redis-server process of its own, or the embedded one
// (closing its listener and connections, dropping its data and scripts, and
// listening again on the same port).
type restartableRedis struct {
	addr  string
	stop  func(rdb *redis.Client)
	start func()
}

func redisServerProcess(t *testing.T) *restartableRedis {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		skipOrFail(t, "the redis-server binary is not installed",
			"this variant restarts a real server process; .ci/redis.sh installs it, and the embedded variant ran")
	}
	port := freeLoopbackPort(t)
	var proc *redisProcess
	return &restartableRedis{
		addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)),
		stop: func(rdb *redis.Client) {
			_ = rdb.ShutdownNoSave(context.Background()).Err() // the connection closes under the command
			select {
			case <-proc.done:
			case <-time.After(10 * time.Second):
				t.Fatal("redis-server did not shut down")
			}
		},
		start: func() { proc = startRedisServer(t, bin, port) },
	}
}

func embeddedRestartable(t *testing.T) *restartableRedis {
	t.Helper()
	m := startEmbeddedRedis(t)
	started := true
	return &restartableRedis{
		addr: m.Addr(),
		stop: func(rdb *redis.Client) {
			// As after a restart without persistence: no keys, no scripts.
			require.NoError(t, rdb.ScriptFlush(context.Background()).Err())
			m.FlushAll()
			m.Close()
		},
		start: func() {
			if started {
				started = false // RunT started it already
				return
			}
			require.NoError(t, m.Restart())
		},
	}
}

func TestStoreFailsWhileRedisIsDownAndRecoversAfterItRestarts(t *testing.T) {
	t.Run("redis-server", func(t *testing.T) { testRestart(t, redisServerProcess(t)) })
	t.Run("embedded", func(t *testing.T) { testRestart(t, embeddedRestartable(t)) })
}

func testRestart(t *testing.T, server *restartableRedis) {
	// go-redis logs every failed dial; the failures are the point here.
	quietRedisLog(t)
	server.start()
	rdb := redis.NewClient(&redis.Options{Addr: server.addr, DialTimeout: 500 * time.Millisecond, MaxRetries: 1})
	t.Cleanup(func() { _ = rdb.Close() })
	store, err := New(rdb, testTenant, WithKeyPrefix("emporixtest-restart"))
	require.NoError(t, err)
	ctx := context.Background()
	key := secretMark + "cookie" // session keys are credentials: never in errors

	v, err := store.Save(ctx, key, testState(1, time.Now()), 0)
	require.NoError(t, err)
	_, _, err = store.Load(ctx, key)
	require.NoError(t, err)
	unlock, err := store.LockRefresh(ctx, "anonymous:"+key)
	require.NoError(t, err)
	unlock()

	server.stop(rdb)

	downAt := time.Now()
	dctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	_, _, err = store.Load(dctx, key)
	require.Error(t, err, "Load while Redis is down")
	assert.NotErrorIs(t, err, emporix.ErrSessionNotFound, "an outage is not a missing session")
	errs := []error{err}
	_, err = store.Save(dctx, key, testState(2, time.Now()), v)
	require.Error(t, err, "Save while Redis is down")
	assert.NotErrorIs(t, err, emporix.ErrStoreConflict, "an outage is not a conflict")
	errs = append(errs, err)
	_, err = store.LockRefresh(dctx, "anonymous:"+key)
	require.Error(t, err, "LockRefresh while Redis is down fails instead of waiting")
	errs = append(errs, err)
	err = store.Delete(dctx, key)
	require.Error(t, err, "Delete while Redis is down")
	errs = append(errs, err)
	for _, err := range errs {
		assert.NotContains(t, err.Error(), secretMark, "neither a token nor the session key in: %v", err)
	}
	t.Logf("while down, every operation failed within %v; e.g. %v", time.Since(downAt).Round(time.Millisecond), errs[0])

	server.start() // same port, empty: nothing was persisted
	upAt := time.Now()
	require.Eventually(t, func() bool {
		_, _, err := store.Load(ctx, key)
		return errors.Is(err, emporix.ErrSessionNotFound)
	}, 10*time.Second, 50*time.Millisecond, "Load recovers once Redis is back")
	t.Logf("recovered %v after the restart", time.Since(upAt).Round(time.Millisecond))
	v, err = store.Save(ctx, key, testState(3, time.Now()), 0)
	require.NoError(t, err, "Save recovers: the script is loaded again after NOSCRIPT")
	assert.Equal(t, uint64(1), v)
	st, _, err := store.Load(ctx, key)
	require.NoError(t, err)
	assert.Equal(t, testState(3, time.Now()).Anonymous.AccessToken, st.Anonymous.AccessToken)
	unlock, err = store.LockRefresh(ctx, "anonymous:"+key)
	require.NoError(t, err, "the lock works again")
	unlock()
	require.NoError(t, store.Delete(ctx, key))
}
