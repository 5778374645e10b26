package redisstore

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/emporix-go/emporix"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestNewValidatesItsInput(t *testing.T) {
	t.Parallel()
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"}) // never dialled
	t.Cleanup(func() { _ = rdb.Close() })
	short := make([]byte, 16)
	for name, tc := range map[string]struct {
		rdb    redis.UniversalClient
		tenant string
		opts   []Option
	}{
		"nil client":        {nil, testTenant, nil},
		"empty tenant":      {rdb, "", nil},
		"tenant with colon": {rdb, "my:tenant", nil},
		"upper-case tenant": {rdb, "MyTenant", nil},
		"empty prefix":      {rdb, testTenant, []Option{WithKeyPrefix(":")}},
		"negative grace":    {rdb, testTenant, []Option{WithGrace(-time.Second)}},
		"negative max TTL":  {rdb, testTenant, []Option{WithMaxTTL(-time.Second)}},
		"tiny lock TTL":     {rdb, testTenant, []Option{WithLockTTL(time.Millisecond)}},
		"no seal keys":      {rdb, testTenant, []Option{WithSealKeys()}},
		"short seal key":    {rdb, testTenant, []Option{WithSealKeys(short)}},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			_, err := New(tc.rdb, tc.tenant, tc.opts...)
			require.ErrorIs(t, err, emporix.ErrInvalidInput)
			var ve *emporix.ValidationError
			require.ErrorAs(t, err, &ve)
		})
	}
	s, err := New(rdb, testTenant, nil, WithKeyPrefix("shop:"))
	require.NoError(t, err, "nil options are ignored")
	// SHA-256("cookie-1"), base64url without padding.
	const cookie1Digest = "df6TuG5r8zMWnqaND2SAcfz-gkSNVyhUv1juBVBWSYA"
	assert.Equal(t, "shop:mytenant:session:"+cookie1Digest, s.sessionKey("cookie-1"), "a trailing colon is not doubled")
	s, err = New(rdb, testTenant)
	require.NoError(t, err)
	assert.Equal(t, "emporix:mytenant:session:"+cookie1Digest, s.sessionKey("cookie-1"))
	assert.Equal(t, "emporix:mytenant:lock:", s.lockPrefix)
	// SHA-256("anonymous:cookie-1").
	assert.Equal(t, "emporix:mytenant:lock:0Uk8UAWEK3Q6JDGl5Rz0zbxAZSndXQzpVOXCQ0-XiaE", s.lockKey("anonymous:cookie-1"))
}

func TestExpiryIsTheDeadlinePlusTheGraceCappedByMaxTTL(t *testing.T) {
	t.Parallel()
	now := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	s := &Store{grace: time.Hour, now: func() time.Time { return now }}
	// dying returns a state whose access token and refresh token both end at
	// deadline (zero: unknown).
	dying := func(deadline time.Time) *emporix.SessionState {
		return &emporix.SessionState{Anonymous: &emporix.Token{Kind: emporix.KindAnonymous, AccessToken: "a", Expiry: deadline}}
	}
	deadline := now.Add(24 * time.Hour)
	assert.Equal(t, deadline.Add(time.Hour).UnixMilli(), s.expireAt(dying(deadline)))
	assert.Equal(t, int64(0), s.expireAt(dying(time.Time{})), "no deadline, no expiry")
	assert.Equal(t, int64(1), s.expireAt(dying(time.Unix(-7200, 0))), "a time before 1970 still expires")
	// The refresh token's deadline counts, documented lifetime included:
	// 24 hours from issue when the answer gave none.
	refreshable := &emporix.SessionState{Anonymous: &emporix.Token{Kind: emporix.KindAnonymous, AccessToken: "a",
		RefreshToken: "r", IssuedAt: now, Expiry: now.Add(time.Hour)}}
	assert.Equal(t, now.Add(emporix.DefaultAnonymousRefreshLifetime+time.Hour).UnixMilli(), s.expireAt(refreshable))
	assert.Equal(t, refreshable.KeepUntil(time.Hour).UnixMilli(), s.expireAt(refreshable), "the same deadline as MemoryStore's")

	s.maxTTL = 2 * time.Hour
	assert.Equal(t, now.Add(2*time.Hour).UnixMilli(), s.expireAt(dying(deadline)), "capped")
	assert.Equal(t, now.Add(2*time.Hour).UnixMilli(), s.expireAt(dying(time.Time{})), "no deadline: the cap")
	assert.Equal(t, now.Add(90*time.Minute).UnixMilli(), s.expireAt(dying(now.Add(30*time.Minute))), "under the cap")
}

func TestRoundTripAndCompareAndSwap(t *testing.T) {
	t.Parallel()
	store, _ := newTestStore(t)
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Millisecond)
	st := testState(1, now)

	_, _, err := store.Load(ctx, "cookie-1")
	require.ErrorIs(t, err, emporix.ErrSessionNotFound)

	v1, err := store.Save(ctx, "cookie-1", st, 0)
	require.NoError(t, err)
	assert.Equal(t, uint64(1), v1)
	got, v, err := store.Load(ctx, "cookie-1")
	require.NoError(t, err)
	assert.Equal(t, v1, v)
	assert.Equal(t, st.Anonymous.AccessToken, got.Anonymous.AccessToken)
	assert.Equal(t, st.Customer.RefreshToken, got.Customer.RefreshToken)
	assert.Equal(t, st.Customer.SaasToken, got.Customer.SaasToken)
	assert.True(t, st.Anonymous.Expiry.Equal(got.Anonymous.Expiry))
	assert.Equal(t, st.Deadline().UTC(), got.Deadline().UTC())

	_, err = store.Save(ctx, "cookie-1", st, 0)
	assert.ErrorIs(t, err, emporix.ErrStoreConflict, "creating an existing session conflicts")
	v2, err := store.Save(ctx, "cookie-1", testState(2, now), v1)
	require.NoError(t, err)
	assert.Equal(t, uint64(2), v2)
	_, err = store.Save(ctx, "cookie-1", st, v1)
	assert.ErrorIs(t, err, emporix.ErrStoreConflict, "a stale writer cannot clobber the newer state")
	_, err = store.Save(ctx, "cookie-2", st, 7)
	assert.ErrorIs(t, err, emporix.ErrStoreConflict, "a version for a session that does not exist")

	got, v, err = store.Load(ctx, "cookie-1")
	require.NoError(t, err)
	assert.Equal(t, v2, v)
	assert.Equal(t, testState(2, now).Customer.RefreshToken, got.Customer.RefreshToken)

	require.NoError(t, store.Delete(ctx, "cookie-1"))
	require.NoError(t, store.Delete(ctx, "cookie-1"), "deleting a missing session is fine")
	_, _, err = store.Load(ctx, "cookie-1")
	assert.ErrorIs(t, err, emporix.ErrSessionNotFound)
	v, err = store.Save(ctx, "cookie-1", st, 0)
	require.NoError(t, err, "a deleted session can be created again")
	assert.Equal(t, uint64(1), v)

	_, err = store.Save(ctx, "cookie-1", nil, 1)
	assert.ErrorIs(t, err, emporix.ErrInvalidInput)
	_, _, err = store.Load(ctx, "")
	assert.ErrorIs(t, err, emporix.ErrInvalidInput)
	_, err = store.Save(ctx, "", st, 0)
	assert.ErrorIs(t, err, emporix.ErrInvalidInput)
	assert.ErrorIs(t, store.Delete(ctx, ""), emporix.ErrInvalidInput)
}

func TestTenantsAndPrefixesAreSeparate(t *testing.T) {
	t.Parallel()
	store, rdb := newTestStore(t)
	ctx := context.Background()
	_, err := store.Save(ctx, "cookie-1", testState(1, time.Now()), 0)
	require.NoError(t, err)

	other, err := New(rdb, "othertenant", WithKeyPrefix(store.prefix))
	require.NoError(t, err)
	t.Cleanup(func() { _ = other.Delete(ctx, "cookie-1") })
	_, _, err = other.Load(ctx, "cookie-1")
	assert.ErrorIs(t, err, emporix.ErrSessionNotFound, "another tenant does not see the session")
	_, err = other.Save(ctx, "cookie-1", testState(2, time.Now()), 0)
	require.NoError(t, err)

	got, _, err := store.Load(ctx, "cookie-1")
	require.NoError(t, err)
	assert.Equal(t, testState(1, time.Now()).Anonymous.AccessToken, got.Anonymous.AccessToken)
	rkey := store.prefix + ":mytenant:session:" + sha256Base64URL("cookie-1")
	n, err := rdb.Exists(ctx, rkey).Result()
	require.NoError(t, err)
	assert.Equal(t, int64(1), n, "the documented key layout")
	fields, err := rdb.HGetAll(ctx, rkey).Result()
	require.NoError(t, err)
	assert.Equal(t, "1", fields["v"])
	assert.Contains(t, fields["state"], `"anonymous"`, "unsealed: the emporix encoding")
}

func TestConcurrentCompareAndSwapHasOneWinnerPerVersion(t *testing.T) {
	t.Parallel()
	store, _ := newTestStore(t)
	ctx := context.Background()
	const writers, rounds = 64, 5
	var version uint64
	for round := range rounds {
		var wg sync.WaitGroup
		wins := make(chan uint64, writers)
		errs := make(chan error, writers)
		start := make(chan struct{})
		for w := range writers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				v, err := store.Save(ctx, "contended", testState(round*writers+w, time.Now()), version)
				if err != nil {
					errs <- err
					return
				}
				wins <- v
			}()
		}
		close(start)
		wg.Wait()
		close(wins)
		close(errs)
		require.Len(t, wins, 1, "round %d: exactly one writer wins", round)
		for err := range errs {
			require.ErrorIs(t, err, emporix.ErrStoreConflict)
		}
		next := <-wins
		require.Equal(t, version+1, next)
		version = next
	}
	_, v, err := store.Load(ctx, "contended")
	require.NoError(t, err)
	assert.Equal(t, uint64(rounds), v)
}

func TestEntryExpiresAtTheDeadlinePlusTheGrace(t *testing.T) {
	const grace = 300 * time.Millisecond
	store, rdb := newTestStore(t, WithGrace(grace))
	ctx := context.Background()
	st := expiringState(1, 1200*time.Millisecond) // deadline 1.2 s away, entry gone after 1.5 s
	_, err := store.Save(ctx, "short", st, 0)
	require.NoError(t, err)

	rkey := store.sessionKey("short")
	pttl, err := rdb.PTTL(ctx, rkey).Result()
	require.NoError(t, err)
	assert.Greater(t, pttl, time.Second, "deadline plus grace")
	assert.LessOrEqual(t, pttl, 1500*time.Millisecond)
	_, _, err = store.Load(ctx, "short")
	require.NoError(t, err)

	require.Eventually(t, func() bool {
		n, err := rdb.Exists(ctx, rkey).Result()
		return err == nil && n == 0
	}, 4*time.Second, 50*time.Millisecond, "Redis removes the entry")
	_, _, err = store.Load(ctx, "short")
	assert.ErrorIs(t, err, emporix.ErrSessionNotFound)
	_, err = store.Save(ctx, "short", expiringState(2, time.Hour), 0)
	assert.NoError(t, err, "an expired session can be created anew")
}

func TestEntryExpiryFollowsEachSave(t *testing.T) {
	t.Parallel()
	store, rdb := newTestStore(t, WithGrace(0))
	ctx := context.Background()
	rkey := store.sessionKey("k")

	v, err := store.Save(ctx, "k", expiringState(1, time.Hour), 0)
	require.NoError(t, err)
	pttl, err := rdb.PTTL(ctx, rkey).Result()
	require.NoError(t, err)
	assert.InDelta(t, time.Hour.Seconds(), pttl.Seconds(), 5)

	noDeadline := &emporix.SessionState{Anonymous: &emporix.Token{AccessToken: secretMark + "x", SessionID: "s"}}
	require.True(t, noDeadline.Deadline().IsZero())
	v, err = store.Save(ctx, "k", noDeadline, v)
	require.NoError(t, err)
	pttl, err = rdb.PTTL(ctx, rkey).Result()
	require.NoError(t, err)
	assert.Equal(t, time.Duration(-1), pttl, "no deadline: the TTL is removed")

	_, err = store.Save(ctx, "k", expiringState(2, -time.Minute), v)
	require.NoError(t, err, "saving a dead session succeeds")
	n, err := rdb.Exists(ctx, rkey).Result()
	require.NoError(t, err)
	assert.Equal(t, int64(0), n, "and it is gone at once, like in the memory store")

	capped := sameRedisStore(t, store, WithMaxTTL(10*time.Minute))
	_, err = capped.Save(ctx, "k", noDeadline, 0)
	require.NoError(t, err)
	pttl, err = rdb.PTTL(ctx, rkey).Result()
	require.NoError(t, err)
	assert.InDelta(t, (10 * time.Minute).Seconds(), pttl.Seconds(), 5, "no deadline: the max TTL")
	_, err = capped.Save(ctx, "k2", expiringState(3, 24*time.Hour), 0)
	require.NoError(t, err)
	pttl, err = rdb.PTTL(ctx, capped.sessionKey("k2")).Result()
	require.NoError(t, err)
	assert.InDelta(t, (10 * time.Minute).Seconds(), pttl.Seconds(), 5, "a later deadline is capped")
}

func TestMalformedValuesAreTypedErrorsThatQuoteNothing(t *testing.T) {
	t.Parallel()
	store, rdb := newTestStore(t)
	ctx := context.Background()
	for name, fields := range map[string][]any{
		"bad version":    {"v", "x" + secretMark, "state", "{}"},
		"zero version":   {"v", "0", "state", "{}"},
		"no state":       {"v", "3"},
		"not JSON":       {"v", "1", "state", secretMark + "garbage"},
		"wrong encoding": {"v", "1", "state", `{"v":99,"anonymous":{"access_token":"` + secretMark + `a"}}`},
	} {
		t.Run(name, func(t *testing.T) { // not parallel: the cases share one key
			key := secretMark + "cookie" // session keys are credentials too
			rkey := store.sessionKey(key)
			require.NoError(t, rdb.Del(ctx, rkey).Err())
			require.NoError(t, rdb.HSet(ctx, rkey, fields...).Err())
			_, _, err := store.Load(ctx, key)
			require.ErrorIs(t, err, ErrMalformed)
			assert.NotContains(t, err.Error(), secretMark, "neither the value nor the session key is quoted")
		})
	}
	require.NoError(t, rdb.Set(ctx, store.sessionKey("str"), "x", 0).Err())
	_, _, err := store.Load(ctx, "str")
	assert.Error(t, err, "a key of another type")
	_, err = store.Save(ctx, "str", testState(1, time.Now()), 0)
	assert.Error(t, err)
	assert.False(t, errors.Is(err, emporix.ErrStoreConflict))
}

func TestContextCancellationReachesRedis(t *testing.T) {
	t.Parallel()
	store, _ := newTestStore(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, _, err := store.Load(ctx, "k")
	assert.ErrorIs(t, err, context.Canceled)
	_, err = store.Save(ctx, "k", testState(1, time.Now()), 0)
	assert.ErrorIs(t, err, context.Canceled)
}
