package emporix

import "time"

// A MemoryStore without WithStoreClock follows the clock of the client
// that first uses it through a SessionManager, so a test that gives the
// client a fake clock (as emporixtest's ClientOptions does) sees stored
// sessions expire on that clock too, instead of on time.Now.

// followedNow is the clock of a MemoryStore without WithStoreClock.
func (m *MemoryStore) followedNow() time.Time {
	if now := m.follow.Load(); now != nil {
		return (*now)()
	}
	return time.Now()
}

// followClock makes the store read now, unless it already follows a clock,
// and reports whether the store reads now: then a session may read the
// clock once for itself and the store (MemoryStore.loadAt).
func (m *MemoryStore) followClock(now func() time.Time) bool {
	if now == nil || m.ownClock {
		return false // a store given WithStoreClock reads its own clock
	}
	if !m.follow.CompareAndSwap(nil, &now) {
		// Only time.Now is known to be the same clock as another func.
		cur := m.follow.Load()
		if !isTimeNow(*cur) || !isTimeNow(now) {
			return false
		}
	}
	return true
}
