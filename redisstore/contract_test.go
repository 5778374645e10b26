package redisstore

import (
	"testing"
	"time"

	"github.com/emporix-go/emporix"
	"github.com/emporix-go/emporix/storetest"
)

// TestStoreContract runs the store contract suite on Redis (REDIS_URL),
// plain and sealed, on real time: Redis expires entries by its own clock.
// Every subtest gets a key prefix of its own.
func TestStoreContract(t *testing.T) {
	t.Parallel()
	const grace = 200 * time.Millisecond
	for name, extra := range map[string][]Option{
		"plain":  nil,
		"sealed": {WithSealKeys(testKeySlice(t, 1))},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			storetest.Run(t, func(t *testing.T) emporix.TokenStore {
				store, _ := newTestStore(t, append([]Option{WithGrace(grace)}, extra...)...)
				return store
			}, storetest.WithExpiry(grace))
		})
	}
}

func testKeySlice(t *testing.T, n int) []byte {
	k := testKey(t, n)
	return k[:]
}
