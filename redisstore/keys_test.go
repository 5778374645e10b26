package redisstore

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emporix-go/emporix"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// sha256Base64URL spells out the documented key part independently of the
// store: SHA-256, base64url without padding.
func sha256Base64URL(s string) string {
	sum := sha256.Sum256([]byte(s))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// The key part, without Redis.
func TestRedisKeysHoldDigestsOfSessionKeys(t *testing.T) {
	t.Parallel()
	s, err := New(redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"}), testTenant) // never dialled
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.rdb.Close() })
	digestChars := regexp.MustCompile(`^[A-Za-z0-9_-]{43}$`)

	seen := make(map[string]string)
	for range 10000 {
		key := emporix.NewSessionKey()
		rkey := s.sessionKey(key)
		part, ok := strings.CutPrefix(rkey, "emporix:mytenant:session:")
		require.True(t, ok, rkey)
		assert.Regexp(t, digestChars, part, "base64url without padding: no ':' nor glob characters")
		assert.Equal(t, sha256Base64URL(key), part)
		assert.Equal(t, rkey, s.sessionKey(key), "deterministic")
		require.NotContains(t, rkey, key)
		if prev, dup := seen[rkey]; dup {
			t.Fatalf("two session keys share a Redis key (%q and %q)", prev, key)
		}
		seen[rkey] = key
		for _, name := range []string{"anonymous:" + key, "customer:" + key} {
			lkey := s.lockKey(name)
			require.NotContains(t, lkey, key)
			assert.Equal(t, "emporix:mytenant:lock:"+sha256Base64URL(name), lkey)
		}
		assert.NotEqual(t, s.lockKey("anonymous:"+key), s.lockKey("customer:"+key))
	}
	assert.NotEqual(t, s.sessionKey("cookie-1"), s.sessionKey("cookie-2"), "keys one character apart")
	assert.NotEqual(t, s.sessionKey("cookie-1"), s.sessionKey("cookie-1 "))
}

// commandRecorder is a go-redis hook that records the arguments of every
// command a client sends: what MONITOR would show of it.
type commandRecorder struct {
	mu   sync.Mutex
	args []string
}

func (r *commandRecorder) DialHook(next redis.DialHook) redis.DialHook { return next }

func (r *commandRecorder) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		r.record(cmd)
		return next(ctx, cmd)
	}
}

func (r *commandRecorder) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		for _, cmd := range cmds {
			r.record(cmd)
		}
		return next(ctx, cmds)
	}
}

func (r *commandRecorder) record(cmd redis.Cmder) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, a := range cmd.Args() {
		switch a := a.(type) {
		case []byte:
			r.args = append(r.args, string(a)) // copied: the store clears its buffers
		case string:
			r.args = append(r.args, a)
		default:
			r.args = append(r.args, fmt.Sprint(a))
		}
	}
}

func (r *commandRecorder) recorded() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.args...)
}

// forms returns the ways a session key could show: as the cookie's text, its
// decoded bytes, and those bytes hex-encoded.
func forms(t *testing.T, key string) []string {
	t.Helper()
	raw, err := base64.RawURLEncoding.DecodeString(key)
	require.NoError(t, err)
	return []string{key, string(raw), hex.EncodeToString(raw)}
}

func TestRedisNeverSeesSessionKeysInClear(t *testing.T) {
	t.Parallel()
	k := testKey(t, 1)
	for name, opts := range map[string][]Option{
		"unsealed": nil,
		"sealed":   {WithSealKeys(k[:])},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			store, rdb := newTestStore(t, opts...)
			rec := &commandRecorder{}
			rdb.AddHook(rec)
			ctx := context.Background()
			key1, key2 := emporix.NewSessionKey(), emporix.NewSessionKey()
			secrets := append(forms(t, key1), forms(t, key2)...)

			v, err := store.Save(ctx, key1, testState(1, time.Now()), 0)
			require.NoError(t, err)
			_, err = store.Save(ctx, key1, testState(2, time.Now()), v)
			require.NoError(t, err)
			_, err = store.Save(ctx, key2, testState(3, time.Now()), 0)
			require.NoError(t, err)
			_, _, err = store.Load(ctx, key1)
			require.NoError(t, err)
			var unlocks []func()
			for _, lock := range []string{"anonymous:" + key1, "customer:" + key1, "anonymous:" + key2} {
				unlock, err := store.LockRefresh(ctx, lock)
				require.NoError(t, err)
				unlocks = append(unlocks, unlock)
			}

			// Everything under the test's prefix, while the locks are held.
			rkeys := scanKeys(t, rdb, store.prefix+":*")
			assert.ElementsMatch(t, []string{
				store.prefix + ":mytenant:session:" + sha256Base64URL(key1),
				store.prefix + ":mytenant:session:" + sha256Base64URL(key2),
				store.prefix + ":mytenant:lock:" + sha256Base64URL("anonymous:"+key1),
				store.prefix + ":mytenant:lock:" + sha256Base64URL("customer:"+key1),
				store.prefix + ":mytenant:lock:" + sha256Base64URL("anonymous:"+key2),
			}, rkeys, "two sessions, three locks: five distinct Redis keys named by digests")

			for _, rkey := range rkeys {
				var values []string
				switch typ := rdb.Type(ctx, rkey).Val(); typ {
				case "hash":
					fields, err := rdb.HGetAll(ctx, rkey).Result()
					require.NoError(t, err)
					for f, val := range fields {
						values = append(values, f, val)
					}
				case "string":
					val, err := rdb.Get(ctx, rkey).Result()
					require.NoError(t, err)
					values = append(values, val)
				default:
					t.Fatalf("%s is a %s", rkey, typ)
				}
				require.NotEmpty(t, values)
				for _, secret := range secrets {
					assert.NotContains(t, rkey, secret, "a Redis key holds a session key")
					for _, val := range values {
						assert.NotContains(t, val, secret, "the value of %s holds a session key", rkey)
					}
				}
			}

			for _, unlock := range unlocks {
				unlock()
			}
			require.NoError(t, store.Delete(ctx, key2))

			// What MONITOR would have shown of the store's commands.
			sent := rec.recorded()
			assert.Contains(t, sent, store.sessionKey(key1), "the recorder saw the store's commands")
			assert.Contains(t, sent, store.lockKey("customer:"+key1))
			for _, arg := range sent {
				for _, secret := range secrets {
					assert.NotContains(t, arg, secret, "a command sent to Redis holds a session key")
				}
			}
		})
	}
}
