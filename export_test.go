package emporix

import "time"

// SetAdoptWait sets how long m waits for another writer's newer token after
// a rejected refresh (see Session.awaitNewer), for tests outside the
// package.
func SetAdoptWait(m *SessionManager, d time.Duration) { m.adoptWait = d }
