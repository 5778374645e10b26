package redisstore

import (
	"context"
	"encoding/hex"
	"strings"
	"testing"
	"time"

	"github.com/emporix-go/emporix"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The sealing itself, without Redis.
func TestSealOpensOnlyUnderItsKeyAndRedisKey(t *testing.T) {
	t.Parallel()
	k1, k2 := testKey(t, 1), testKey(t, 2)
	s1 := &Store{}
	require.NoError(t, WithSealKeys(k1[:])(s1))
	plain := []byte(`{"v":1,"anonymous":{"access_token":"` + secretMark + `a"}}`)

	sealed, err := s1.seal("p:t:session:a", plain)
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(string(sealed), sealedPrefix))
	assert.NotContains(t, string(sealed), secretMark)
	again, err := s1.seal("p:t:session:a", plain)
	require.NoError(t, err)
	assert.NotEqual(t, sealed, again, "a fresh nonce per write")

	opened, err := s1.open("p:t:session:a", sealed)
	require.NoError(t, err)
	assert.Equal(t, plain, opened)

	_, err = s1.open("p:t:session:b", sealed)
	var ue *UnsealError
	require.ErrorAs(t, err, &ue, "another Redis key")
	assert.Contains(t, ue.Reason, "does not authenticate")
	assert.Equal(t, SealKeyID(k1[:]), ue.KeyID)

	for i := range len(sealed) {
		tampered := []byte(string(sealed))
		tampered[i] ^= 0x01
		_, err := s1.open("p:t:session:a", tampered)
		require.ErrorIs(t, err, ErrUnsealable, "a flipped bit at %d", i)
	}
	_, err = s1.open("p:t:session:a", sealed[:len(sealedPrefix)+10])
	require.ErrorIs(t, err, ErrUnsealable, "truncated")

	s2 := &Store{}
	require.NoError(t, WithSealKeys(k2[:])(s2))
	_, err = s2.open("p:t:session:a", sealed)
	require.ErrorAs(t, err, &ue)
	assert.Contains(t, ue.Reason, "no configured seal key")
	assert.NotEqual(t, SealKeyID(k1[:]), SealKeyID(k2[:]))
	assert.Len(t, SealKeyID(k1[:]), 8)

	_, err = (&Store{}).open("p:t:session:a", sealed)
	require.ErrorIs(t, err, ErrUnsealable, "sealed, but sealing is off")
	_, err = s1.open("p:t:session:a", plain)
	require.ErrorIs(t, err, ErrUnsealable, "not sealed, but sealing is on")
	assert.NotContains(t, err.Error(), secretMark)
}

func TestSealedRoundTripKeepsTokensOutOfRedis(t *testing.T) {
	t.Parallel()
	k := testKey(t, 1)
	store, rdb := newTestStore(t, WithSealKeys(k[:]))
	ctx := context.Background()
	st := testState(1, time.Now())

	v, err := store.Save(ctx, "cookie-1", st, 0)
	require.NoError(t, err)
	got, gotV, err := store.Load(ctx, "cookie-1")
	require.NoError(t, err)
	assert.Equal(t, v, gotV)
	assert.Equal(t, st.Anonymous.AccessToken, got.Anonymous.AccessToken)
	assert.Equal(t, st.Customer.RefreshToken, got.Customer.RefreshToken)
	assert.Equal(t, st.Customer.SaasToken, got.Customer.SaasToken)

	raw, err := rdb.HGetAll(ctx, store.sessionKey("cookie-1")).Result()
	require.NoError(t, err)
	assert.Equal(t, "1", raw["v"], "the version stays readable for compare-and-swap")
	assert.True(t, strings.HasPrefix(raw["state"], sealedPrefix))
	for _, tok := range []string{string(st.Anonymous.AccessToken), string(st.Anonymous.RefreshToken), string(st.Customer.AccessToken),
		string(st.Customer.RefreshToken), string(st.Customer.SaasToken), secretMark, "access_token", st.Anonymous.SessionID} {
		assert.NotContains(t, raw["state"], tok)
	}

	// Compare-and-swap works the same sealed.
	_, err = store.Save(ctx, "cookie-1", st, 0)
	assert.ErrorIs(t, err, emporix.ErrStoreConflict)
	_, err = store.Save(ctx, "cookie-1", testState(2, time.Now()), v)
	require.NoError(t, err)
}

func TestSealedValueCannotBeMovedToAnotherSession(t *testing.T) {
	t.Parallel()
	k := testKey(t, 1)
	store, rdb := newTestStore(t, WithSealKeys(k[:]))
	ctx := context.Background()
	_, err := store.Save(ctx, "victim", testState(1, time.Now()), 0)
	require.NoError(t, err)
	raw, err := rdb.HGetAll(ctx, store.sessionKey("victim")).Result()
	require.NoError(t, err)
	require.NoError(t, rdb.HSet(ctx, store.sessionKey("attacker"), "v", raw["v"], "state", raw["state"]).Err())

	_, _, err = store.Load(ctx, "attacker")
	require.ErrorIs(t, err, ErrUnsealable)
	assert.NotContains(t, err.Error(), "attacker")
}

func TestWrongKeyIsATypedErrorWithoutPlaintext(t *testing.T) {
	t.Parallel()
	k1, k2 := testKey(t, 1), testKey(t, 2)
	store, _ := newTestStore(t, WithSealKeys(k1[:]))
	ctx := context.Background()
	_, err := store.Save(ctx, "cookie-1", testState(1, time.Now()), 0)
	require.NoError(t, err)

	wrong := sameRedisStore(t, store, WithSealKeys(k2[:]))
	st, v, err := wrong.Load(ctx, "cookie-1")
	require.ErrorIs(t, err, ErrUnsealable)
	assert.Nil(t, st)
	assert.Zero(t, v)
	var ue *UnsealError
	require.ErrorAs(t, err, &ue)
	assert.Equal(t, SealKeyID(k1[:]), ue.KeyID, "names the key it needs")
	assert.NotContains(t, err.Error(), secretMark)
	assert.NotContains(t, err.Error(), "cookie-1")

	unsealedReader := sameRedisStore(t, store)
	_, _, err = unsealedReader.Load(ctx, "cookie-1")
	require.ErrorIs(t, err, ErrUnsealable, "a store without keys cannot read sealed sessions")

	require.NoError(t, wrong.Delete(ctx, "cookie-1"), "the way out: delete the session")
	_, err = wrong.Save(ctx, "cookie-1", testState(2, time.Now()), 0)
	require.NoError(t, err)
}

func TestKeyRotation(t *testing.T) {
	t.Parallel()
	oldKey, newKey := testKey(t, 1), testKey(t, 2)
	before, rdb := newTestStore(t, WithSealKeys(oldKey[:]))
	ctx := context.Background()
	v, err := before.Save(ctx, "cookie-1", testState(1, time.Now()), 0)
	require.NoError(t, err)

	after := sameRedisStore(t, before, WithSealKeys(newKey[:], oldKey[:]))
	st, gotV, err := after.Load(ctx, "cookie-1")
	require.NoError(t, err, "the old key still opens old sessions")
	assert.Equal(t, v, gotV)
	assert.Equal(t, testState(1, time.Now()).Customer.RefreshToken, st.Customer.RefreshToken)

	_, err = after.Save(ctx, "cookie-1", testState(2, time.Now()), v)
	require.NoError(t, err)
	raw, err := rdb.HGet(ctx, after.sessionKey("cookie-1"), "state").Result()
	require.NoError(t, err)
	assert.Equal(t, SealKeyID(newKey[:]), keyIDOf(raw), "new writes use the first key")

	_, _, err = before.Load(ctx, "cookie-1")
	require.ErrorIs(t, err, ErrUnsealable, "the old key alone no longer opens it")
	onlyNew := sameRedisStore(t, before, WithSealKeys(newKey[:]))
	st, _, err = onlyNew.Load(ctx, "cookie-1")
	require.NoError(t, err, "once every session is rewritten the old key can go")
	assert.Equal(t, testState(2, time.Now()).Customer.RefreshToken, st.Customer.RefreshToken)
}

func TestUnsealedValuesAreRefusedUnlessMigrating(t *testing.T) {
	t.Parallel()
	k := testKey(t, 1)
	plain, rdb := newTestStore(t)
	ctx := context.Background()
	v, err := plain.Save(ctx, "legacy", testState(1, time.Now()), 0)
	require.NoError(t, err)

	sealing := sameRedisStore(t, plain, WithSealKeys(k[:]))
	_, _, err = sealing.Load(ctx, "legacy")
	require.ErrorIs(t, err, ErrUnsealable, "a planted plaintext session is refused")
	assert.NotContains(t, err.Error(), secretMark)

	migrating := sameRedisStore(t, plain, WithSealKeys(k[:]), WithAllowUnsealed())
	st, gotV, err := migrating.Load(ctx, "legacy")
	require.NoError(t, err)
	assert.Equal(t, v, gotV)
	_, err = migrating.Save(ctx, "legacy", st, gotV)
	require.NoError(t, err)
	raw, err := rdb.HGet(ctx, plain.sessionKey("legacy"), "state").Result()
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(raw, sealedPrefix), "sealed when next written")
	_, _, err = sealing.Load(ctx, "legacy")
	require.NoError(t, err, "and readable without the migration option")
}

// keyIDOf returns the key ID recorded in a sealed value.
func keyIDOf(raw string) string {
	if !strings.HasPrefix(raw, sealedPrefix) || len(raw) < len(sealedPrefix)+keyIDSize {
		return ""
	}
	return hex.EncodeToString([]byte(raw[len(sealedPrefix) : len(sealedPrefix)+keyIDSize]))
}
