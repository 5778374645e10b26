package emporix_test

import (
	"sync"
	"testing"
	"time"

	"github.com/emporix-go/emporix"
	"github.com/emporix-go/emporix/storetest"
)

// TestMemoryStoreContract runs the store contract suite on MemoryStore, on
// a fake clock, with the default grace and with none.
func TestMemoryStoreContract(t *testing.T) {
	t.Parallel()
	for _, grace := range []time.Duration{emporix.DefaultStoreGrace, 0} {
		t.Run("grace="+grace.String(), func(t *testing.T) {
			t.Parallel()
			clock := &manualClock{now: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)}
			storetest.Run(t, func(t *testing.T) emporix.TokenStore {
				return emporix.NewMemoryStore(emporix.WithStoreClock(clock.Now), emporix.WithStoreGrace(grace))
			}, storetest.WithClock(clock), storetest.WithExpiry(grace))
		})
	}
}

// manualClock is a storetest.Clock that moves only when advanced.
type manualClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *manualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *manualClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}
