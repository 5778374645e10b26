package redisstore

import (
	"testing"
	"time"

	"github.com/emporix-go/emporix/internal/skipnote"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestMain sets go-redis's logger before any client exists (redislog_test.go)
// and lists the tests that skipped (see skipnote) after the run, where the
// test command's default output shows them.
func TestMain(m *testing.M) {
	installRedisLogger()
	skipnote.Main(m, "redisstore")
}

// TestTheSuiteRunsWithoutRedisURL: on a machine without Redis the tests run
// on an embedded Redis instead of skipping.
func TestTheSuiteRunsWithoutRedisURL(t *testing.T) {
	t.Setenv("REDIS_URL", "")
	t.Setenv("REDIS_CLUSTER_ADDRS", "")
	t.Setenv("EMPORIX_REQUIRE_REDIS", "")
	var sub *testing.T
	t.Run("store", func(t *testing.T) {
		sub = t
		store, rdb := newTestStore(t)
		ctx := t.Context()
		v, err := store.Save(ctx, "k", testState(1, time.Now()), 0)
		require.NoError(t, err)
		st, got, err := store.Load(ctx, "k")
		require.NoError(t, err)
		assert.Equal(t, v, got)
		assert.Equal(t, testState(1, time.Now()).Anonymous.AccessToken, st.Anonymous.AccessToken)
		n, err := rdb.Exists(ctx, store.sessionKey("k")).Result()
		require.NoError(t, err)
		assert.Equal(t, int64(1), n, "the session is in the embedded Redis")
	})
	assert.False(t, sub.Skipped(), "the test skipped without REDIS_URL")
}
