// Package storetest checks implementations of [emporix.TokenStore] against
// the contract a [emporix.SessionManager] relies on, in the spirit of
// testing/fstest. A store for another database runs it from its own tests:
//
//	func TestContract(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) emporix.TokenStore {
//			return mystore.New(newTestDatabase(t))
//		})
//	}
//
// Run checks compare-and-swap saves and their conflicts, deletion, the
// round trip of every field of a [emporix.SessionState] and of its encoding
// ([emporix.MarshalSessionState]), concurrent writers, expiry (see
// [WithExpiry] and [WithClock]) and, when the store implements
// [emporix.RefreshLocker], mutual exclusion of refresh locks.
package storetest

import (
	"context"
	"time"
)

// Clock is the time a store under test lives in: the clock it reads to
// decide expiries. A fake clock jumps on Advance; the default, real time,
// sleeps. The emporixtest fake server is a Clock.
type Clock interface {
	Now() time.Time
	Advance(d time.Duration)
}

type realClock struct{}

func (realClock) Now() time.Time          { return time.Now() }
func (realClock) Advance(d time.Duration) { time.Sleep(d) }

type config struct {
	clock   Clock
	fake    bool
	expires bool
	grace   time.Duration
	writers int
}

// Option configures [Run].
type Option func(*config)

// WithClock tells Run the clock the stores newStore returns read, such as
// a fake clock given to [emporix.WithStoreClock], so expiry is checked by
// advancing it instead of waiting. Without it, Run uses real time.
func WithClock(c Clock) Option {
	return func(cfg *config) {
		if c != nil {
			cfg.clock, cfg.fake = c, true
		}
	}
}

// WithExpiry declares that the store forgets a session grace after its
// [emporix.SessionState.Deadline], as [emporix.MemoryStore] and the Redis
// store do, and makes Run check that it keeps the session until then and
// forgets it after. Without it, Run checks only that nothing is forgotten
// before its deadline, which is all a [emporix.SessionManager] needs. On
// real time the check waits for the grace: keep it under a second.
func WithExpiry(grace time.Duration) Option {
	return func(cfg *config) { cfg.expires, cfg.grace = true, max(grace, 0) }
}

// WithWriters sets how many goroutines write one session at once in the
// concurrency checks, by default 16.
func WithWriters(n int) Option {
	return func(cfg *config) {
		if n > 1 {
			cfg.writers = n
		}
	}
}

// bounded gives every store operation of the suite a deadline, so a store
// that hangs fails the test instead of hanging it.
func bounded() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), 10*time.Second)
}
