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

// followClock makes the store read now, unless it already follows a clock.
func (m *MemoryStore) followClock(now func() time.Time) {
	if now != nil {
		m.follow.CompareAndSwap(nil, &now)
	}
}
