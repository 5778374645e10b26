package redisstore

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	mrand "math/rand/v2"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// Polling for a held lock: jittered sleeps from lockPollMin doubling up to
// lockPollMax. A refresh takes tens to hundreds of milliseconds, so a waiter
// notices the release within a few tens of milliseconds.
const (
	lockPollMin = 5 * time.Millisecond
	lockPollMax = 50 * time.Millisecond
	// maxUnlockWait bounds one attempt at the release, which runs
	// detached from the caller's context.
	maxUnlockWait = 5 * time.Second
	// unlockRetryMax caps the pause between retries of a failed release,
	// so a lock is released within a fraction of a second of Redis
	// answering again.
	unlockRetryMax = 250 * time.Millisecond
)

// lockScript takes KEYS[1] for ARGV[1], the token of the caller, for ARGV[2]
// milliseconds unless another token holds it, and reports whether ARGV[1]
// holds it. go-redis resends a command whose reply was lost; the resent
// script finds the lock the first run took and reports it as the caller's,
// in the same round trip.
var lockScript = redis.NewScript(`
if redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2], 'NX') or redis.call('GET', KEYS[1]) == ARGV[1] then
  return 1
end
return 0
`)

// unlockScript deletes KEYS[1] only if it still holds ARGV[1], the token of
// the holder: a lock that expired and was taken by another replica is left
// alone.
var unlockScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
`)

// renewScript extends KEYS[1] to ARGV[2] milliseconds only if it still holds
// ARGV[1].
var renewScript = redis.NewScript(renewScriptSource)

const renewScriptSource = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
`

// LockRefresh implements [emporix.RefreshLocker]: it blocks until it holds
// the lock called name, or ctx ends, or Redis fails. While held, the lock is
// renewed every third of the lock TTL. unlock releases it if it is still
// held by this call, may be called more than once, and never blocks longer
// than a few seconds.
func (s *Store) LockRefresh(ctx context.Context, name string) (unlock func(), err error) {
	if name == "" {
		return nil, invalid("lock name", "must not be empty")
	}
	lkey := s.lockKey(name)
	token := newLockToken()
	ttl := s.lockTTL.Milliseconds()
	delay := lockPollMin
	for {
		ours, err := lockScript.Run(ctx, s.rdb, []string{lkey}, token, ttl).Int()
		if err != nil {
			// The script may have taken the lock though its reply did not
			// arrive (a connection closed by a restart): a lock nobody
			// renews or releases would hold every replica off for its
			// whole TTL. Release this token's lock once Redis answers, if
			// it holds.
			go s.unlockLater(context.WithoutCancel(ctx), lkey, token, time.Now().Add(s.lockTTL))
			return nil, fmt.Errorf("redisstore: taking the refresh lock: %w", err)
		}
		if ours == 1 {
			break
		}
		// Held by someone else: wait a jittered delay in [delay/2, delay].
		t := time.NewTimer(delay/2 + mrand.N(delay/2+1))
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, fmt.Errorf("redisstore: waiting for the refresh lock: %w", context.Cause(ctx))
		case <-t.C:
		}
		delay = min(2*delay, lockPollMax)
	}

	// Renew while held, detached from ctx (the holder decides when to
	// unlock) but stopped by unlock.
	rctx, stop := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan struct{})
	var held atomic.Int64 // when the lock was last known to be held, Unix ns
	held.Store(time.Now().UnixNano())
	go s.renew(rctx, lkey, token, done, &held)

	var once sync.Once
	return func() {
		once.Do(func() {
			stop()
			<-done
			uctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), min(s.lockTTL, maxUnlockWait))
			err := unlockScript.Run(uctx, s.rdb, []string{lkey}, token).Err()
			cancel()
			if err != nil {
				// Redis did not answer (a restart, a failover): a lock
				// left behind would make every replica wait out its TTL
				// after Redis is back. Release it as soon as Redis
				// answers, until it would have expired anyway.
				go s.unlockLater(context.WithoutCancel(ctx), lkey, token, time.Unix(0, held.Load()).Add(s.lockTTL))
			}
		})
	}, nil
}

// unlockLater retries a failed release until it succeeds or the lock has
// expired (until).
func (s *Store) unlockLater(ctx context.Context, lkey, token string, until time.Time) {
	delay := lockPollMin
	for {
		wait := time.Until(until)
		if wait <= 0 {
			return
		}
		t := time.NewTimer(min(delay/2+mrand.N(delay/2+1), wait))
		<-t.C
		delay = min(2*delay, unlockRetryMax)
		uctx, cancel := context.WithTimeout(ctx, min(s.lockTTL, maxUnlockWait))
		err := unlockScript.Run(uctx, s.rdb, []string{lkey}, token).Err()
		cancel()
		if err == nil {
			return
		}
	}
}

// renew extends the lock every third of its TTL until ctx ends or the lock
// turns out to be lost. A failed renewal is tried again at the next tick.
//
// One renewal may take until the lock would expire (the last renewal Redis
// confirmed plus the TTL), not just until the next tick: on a loaded
// machine a round trip can outlast a third of the TTL, and giving up on it
// would throw away a renewal that still lands in time, and the connection
// with it, so that the next attempt has to dial first.
func (s *Store) renew(ctx context.Context, lkey, token string, done chan<- struct{}, held *atomic.Int64) {
	defer close(done)
	every := s.lockTTL / 3
	ttl := strconv.FormatInt(s.lockTTL.Milliseconds(), 10)
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		expires := time.Unix(0, held.Load()).Add(s.lockTTL)
		cctx, cancel := context.WithDeadline(ctx, later(expires, time.Now().Add(every)))
		start := time.Now()
		ok, err := renewScript.Run(cctx, s.rdb, []string{lkey}, token, ttl).Int()
		cancel()
		if err == nil && ok == 0 {
			return // expired and possibly taken by another replica
		}
		if err == nil {
			held.Store(start.UnixNano())
		}
	}
}

// later returns the later of a and b.
func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// newLockToken returns 128 random bits, hex-encoded.
func newLockToken() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	return hex.EncodeToString(b[:])
}
