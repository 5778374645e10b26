package redisstore

import (
	"testing"
	"time"

	"github.com/emporix-go/emporix"
	"github.com/emporix-go/emporix/internal/lifetimetest"
)

// Every token-returning operation, answered with each expiry field absent,
// null, zero and unreadable, leaves a session whose Redis key outlives an
// idle period just short of the documented refresh lifetime. Redis expires
// keys by its own clock, so the walk's fake clock starts that idle period
// in the past: each session is saved "a day ago" and its PEXPIREAT must
// still lie ahead when the shopper returns, now. The store has no grace
// period, so only the session's own deadline keeps it.
func TestRedisKeepsSessionsWhateverTheAnswersLeaveOut(t *testing.T) {
	t.Parallel()
	rdb := testRedis(t)
	lifetimetest.Run(t, func(t *testing.T, now func() time.Time) emporix.TokenStore {
		s, err := New(rdb, testTenant, WithKeyPrefix(testPrefix(t, rdb)), WithGrace(0))
		if err != nil {
			t.Fatal(err)
		}
		s.now = now
		return s
	}, func() time.Time { return time.Now().Add(-lifetimetest.Idle) })
}
