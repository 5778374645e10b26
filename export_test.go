package emporix

import (
	"context"
	"time"
)

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

// SetRetrySleep makes c wait between attempts with sleep instead of a real
// timer, so that a test sees each wait c asks for (backoff and
// Retry-After, 0 included) without sleeping it. c is a client NewClient
// returned, and sleep serves the clients derived from it too; set it
// before c's first call.
func SetRetrySleep(c *Client, sleep func(ctx context.Context, d time.Duration) error) {
	c.sleep = sleep
}

// RenewCustomer renews s's customer token if it is due, as a lookup's
// renewal does, keeping a usable token when the renewal fails.
func RenewCustomer(ctx context.Context, s *Session) (*Token, error) {
	return s.renewCustomer(ctx, "", nil, false)
}
