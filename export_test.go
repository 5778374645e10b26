package emporix

import "time"

// SetAdoptWait sets how long m waits for another writer's newer token after
// a rejected refresh (see Session.awaitNewer), for tests outside the
// package.
func SetAdoptWait(m *SessionManager, d time.Duration) { m.adoptWait = d }

// FlightsRunning returns how many renewals m has started and not yet
// published.
func FlightsRunning(m *SessionManager) int {
	m.flights.mu.Lock()
	defer m.flights.mu.Unlock()
	return len(m.flights.m)
}
