package emporix_test

import (
	"testing"
	"time"

	"github.com/emporix-go/emporix"
	"github.com/emporix-go/emporix/internal/lifetimetest"
)

// Every token-returning operation, answered with each expiry field absent,
// null, zero and unreadable, leaves a session that MemoryStore keeps for an
// idle period just short of the documented refresh lifetime, and that is
// refreshed under the same session ID on return. The store has no grace
// period, so only the session's own deadline keeps it.
func TestMemoryStoreKeepsSessionsWhateverTheAnswersLeaveOut(t *testing.T) {
	t.Parallel()
	lifetimetest.Run(t, func(_ *testing.T, now func() time.Time) emporix.TokenStore {
		return emporix.NewMemoryStore(emporix.WithStoreClock(now), emporix.WithStoreGrace(0))
	}, func() time.Time { return time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC) })
}
