package redisstore

import (
	"context"
	"log"
	"os"
	"sync/atomic"
	"testing"

	"github.com/redis/go-redis/v9"
)

// go-redis logs every failed dial, and the outage tests fail dials on
// purpose. Its logger is a package variable without synchronization:
// setting it while a goroutine of an earlier test (a refresh detached from
// its caller, a lock release retried later) still uses a client is a data
// race. So TestMain sets it once, before any client exists, and the tests
// only switch this logger off and on.

// quiet counts the tests running that silence go-redis.
var quiet atomic.Int32

// switchLogger is go-redis's default logger unless a test silences it.
type switchLogger struct{ l *log.Logger }

func (s switchLogger) Printf(_ context.Context, format string, v ...any) {
	if quiet.Load() > 0 {
		return
	}
	s.l.Printf(format, v...)
}

// installRedisLogger sets go-redis's logger; TestMain calls it before
// m.Run.
func installRedisLogger() {
	redis.SetLogger(switchLogger{log.New(os.Stderr, "redis: ", log.LstdFlags)})
}

// quietRedisLog silences go-redis until t ends.
func quietRedisLog(t testing.TB) {
	quiet.Add(1)
	t.Cleanup(func() { quiet.Add(-1) })
}
