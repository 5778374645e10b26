package redisstore

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emporix-go/emporix"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestLockExcludesUntilReleased(t *testing.T) {
	a, rdb := newTestStore(t)
	b := sameRedisStore(t, a) // another replica
	ctx := context.Background()

	unlock, err := a.LockRefresh(ctx, "anonymous:cookie-1")
	require.NoError(t, err)
	pttl, err := rdb.PTTL(ctx, a.lockKey("anonymous:cookie-1")).Result()
	require.NoError(t, err)
	assert.Greater(t, pttl, DefaultLockTTL-time.Second, "SET PX with the default lock TTL")
	assert.LessOrEqual(t, pttl, DefaultLockTTL)

	short, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	_, err = b.LockRefresh(short, "anonymous:cookie-1")
	cancel()
	require.ErrorIs(t, err, context.DeadlineExceeded, "held by the other replica")

	other, err := b.LockRefresh(ctx, "customer:cookie-1")
	require.NoError(t, err, "another name is another lock")
	other()

	got := make(chan time.Time)
	go func() {
		unlockB, err := b.LockRefresh(ctx, "anonymous:cookie-1")
		assert.NoError(t, err)
		got <- time.Now()
		unlockB()
	}()
	time.Sleep(30 * time.Millisecond)
	released := time.Now()
	unlock()
	unlock() // a second call is harmless
	select {
	case at := <-got:
		assert.Less(t, at.Sub(released), 500*time.Millisecond, "the waiter notices the release promptly")
	case <-time.After(5 * time.Second):
		t.Fatal("the waiter never got the lock")
	}
	_, err = a.LockRefresh(ctx, "")
	assert.ErrorIs(t, err, emporix.ErrInvalidInput)
}

func TestLockIsRenewedWhileHeld(t *testing.T) {
	// A TTL of two seconds (the default is five): a holder on a loaded
	// machine (two cores, race detector) can stall for most of a second
	// without being dead, and this test is about a live holder.
	const ttl = 2 * time.Second
	a, rdb := newTestStore(t, WithLockTTL(ttl))
	b := sameRedisStore(t, a, WithLockTTL(ttl))
	ctx := context.Background()
	unlock, err := a.LockRefresh(ctx, "slow-refresh")
	require.NoError(t, err)

	short, cancel := context.WithTimeout(ctx, 2*ttl)
	_, err = b.LockRefresh(short, "slow-refresh")
	cancel()
	require.ErrorIs(t, err, context.DeadlineExceeded, "a live holder keeps its lock past the TTL")
	pttl, err := rdb.PTTL(ctx, a.lockKey("slow-refresh")).Result()
	require.NoError(t, err)
	assert.Greater(t, pttl, time.Duration(0))

	unlock()
	n, err := rdb.Exists(ctx, a.lockKey("slow-refresh")).Result()
	require.NoError(t, err)
	assert.Equal(t, int64(0), n, "released")
}

// slowRenewals delays every renewal of a lock by d, as a loaded machine or
// a slow network would; a renewal whose context ends first fails.
type slowRenewals struct{ d time.Duration }

func (h slowRenewals) DialHook(next redis.DialHook) redis.DialHook { return next }

func (h slowRenewals) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return next
}

func (h slowRenewals) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		if args := cmd.Args(); len(args) > 1 && (args[1] == renewScript.Hash() || args[1] == renewScriptSource) {
			select {
			case <-time.After(h.d):
			case <-ctx.Done():
				cmd.SetErr(ctx.Err())
				return ctx.Err()
			}
		}
		return next(ctx, cmd)
	}
}

func TestLockSurvivesRenewalsSlowerThanTheirInterval(t *testing.T) {
	// Every renewal takes 0.36 TTL, more than the third of the TTL between
	// renewals but well within the TTL: the holder is alive, only slow,
	// and keeps its lock. Back to back, each renewal leaves 0.28 TTL
	// (560 ms) to spare for a loaded machine.
	const ttl = 2 * time.Second
	a, rdb := newTestStore(t, WithLockTTL(ttl))
	b := sameRedisStore(t, a, WithLockTTL(ttl))
	ctx := context.Background()
	// Loaded first, so that a renewal is one delayed EVALSHA rather than
	// an EVALSHA and, after NOSCRIPT, an EVAL, each delayed.
	require.NoError(t, renewScript.Load(ctx, rdb).Err())
	rdb.AddHook(slowRenewals{d: ttl * 36 / 100})
	unlock, err := a.LockRefresh(ctx, "slow-renewals")
	require.NoError(t, err)

	short, cancel := context.WithTimeout(ctx, 2*ttl)
	_, err = b.LockRefresh(short, "slow-renewals")
	cancel()
	require.ErrorIs(t, err, context.DeadlineExceeded, "a slow but live holder keeps its lock")

	unlock()
	n, err := rdb.Exists(ctx, a.lockKey("slow-renewals")).Result()
	require.NoError(t, err)
	assert.Equal(t, int64(0), n, "released")
}

func TestLockOfADeadHolderExpires(t *testing.T) {
	a, rdb := newTestStore(t)
	ctx := context.Background()
	// A replica that died holding the lock: nobody renews it.
	require.NoError(t, rdb.Set(ctx, a.lockKey("orphan"), "dead-replica", 200*time.Millisecond).Err())
	start := time.Now()
	unlock, err := a.LockRefresh(ctx, "orphan")
	require.NoError(t, err)
	defer unlock()
	assert.GreaterOrEqual(t, time.Since(start), 150*time.Millisecond)
	assert.Less(t, time.Since(start), 2*time.Second)
}

func TestUnlockLeavesALockTakenByAnotherAlone(t *testing.T) {
	t.Parallel()
	a, rdb := newTestStore(t)
	ctx := context.Background()
	unlock, err := a.LockRefresh(ctx, "k")
	require.NoError(t, err)
	// The lock expired (a stalled holder) and another replica took it.
	require.NoError(t, rdb.Set(ctx, a.lockKey("k"), "other-replica", time.Minute).Err())
	unlock()
	v, err := rdb.Get(ctx, a.lockKey("k")).Result()
	require.NoError(t, err)
	assert.Equal(t, "other-replica", v, "compare-and-delete: not ours, not deleted")
}

func TestLockIsMutuallyExclusiveUnderContention(t *testing.T) {
	t.Parallel()
	a, _ := newTestStore(t)
	stores := []*Store{a, sameRedisStore(t, a), sameRedisStore(t, a)}
	ctx := context.Background()
	var inside, overlaps, entries atomic.Int32
	var wg sync.WaitGroup
	for i := range 30 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			unlock, err := stores[i%len(stores)].LockRefresh(ctx, "contended")
			if !assert.NoError(t, err) {
				return
			}
			if inside.Add(1) != 1 {
				overlaps.Add(1)
			}
			entries.Add(1)
			time.Sleep(2 * time.Millisecond)
			inside.Add(-1)
			unlock()
		}()
	}
	wg.Wait()
	assert.Equal(t, int32(30), entries.Load())
	assert.Zero(t, overlaps.Load(), "never two holders at once")
}

// TestAResentLockCommandFindsItsOwnLock: go-redis sends a command again
// when its reply was lost; the second run finds the lock the first took
// and must report it as the caller's, or the caller would wait out its own
// lock's whole lifetime.
func TestAResentLockCommandFindsItsOwnLock(t *testing.T) {
	t.Parallel()
	s, rdb := newTestStore(t)
	ctx := context.Background()
	lkey := s.lockKey("resent")
	for run := range 2 {
		ours, err := lockScript.Run(ctx, rdb, []string{lkey}, "token-a", 60_000).Int()
		require.NoError(t, err)
		assert.Equal(t, 1, ours, "run %d: the lock is token-a's", run)
	}
	ours, err := lockScript.Run(ctx, rdb, []string{lkey}, "token-b", 60_000).Int()
	require.NoError(t, err)
	assert.Equal(t, 0, ours, "another token finds the lock held")
	v, err := rdb.Get(ctx, lkey).Result()
	require.NoError(t, err)
	assert.Equal(t, "token-a", v, "the holder's token stays")
}

// lostReply makes the caller of the first lock command that took a lock
// see an error, as when a connection closes before the reply arrives:
// Redis ran the command, the caller does not know it.
type lostReply struct{ fired atomic.Bool }

func (h *lostReply) DialHook(next redis.DialHook) redis.DialHook { return next }

func (h *lostReply) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return next
}

func (h *lostReply) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		err := next(ctx, cmd)
		args := cmd.Args()
		if c, ok := cmd.(*redis.Cmd); ok && err == nil && len(args) > 1 && args[1] == lockScript.Hash() {
			if took, _ := c.Int(); took == 1 && h.fired.CompareAndSwap(false, true) {
				err = errors.New("read: connection reset by peer")
				cmd.SetErr(err)
			}
		}
		return err
	}
}

// TestALockWhoseReplyWasLostIsReleased: a lock taken by a command whose
// reply never arrived is released as soon as Redis answers, rather than
// holding every replica off for its whole lifetime.
func TestALockWhoseReplyWasLostIsReleased(t *testing.T) {
	t.Parallel()
	const ttl = 8 * time.Second // long, to tell a release from an expiry
	a, rdb := newTestStore(t, WithLockTTL(ttl))
	ctx := context.Background()
	// Loaded first, so that taking the lock is one EVALSHA.
	require.NoError(t, lockScript.Load(ctx, rdb).Err())
	lost := &lostReply{}
	rdb.AddHook(lost)
	_, err := a.LockRefresh(ctx, "lost-reply")
	require.Error(t, err, "the caller saw no reply")
	require.True(t, lost.fired.Load(), "the lost command took the lock")

	start := time.Now()
	wctx, cancel := context.WithTimeout(ctx, ttl/2)
	defer cancel()
	unlock, err := sameRedisStore(t, a, WithLockTTL(ttl)).LockRefresh(wctx, "lost-reply")
	require.NoError(t, err, "the lock the lost reply took is released, not left for its lifetime")
	unlock()
	assert.Less(t, time.Since(start), 2*time.Second, "not the lock's lifetime")
}
