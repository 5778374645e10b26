package emporix

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// Tokens the service issued are never dropped because the store failed to
// save them. A refresh spends the old (rotating) refresh token at the
// service, so once it succeeded the new tokens are the only ones that work:
// when their save fails for any reason but a compare-and-swap conflict,
// the manager keeps the new state in process, serves it to every lookup of
// the session, and saves it in the background, retrying with backoff,
// detached from the caller's cancellation. Only a newer token that another
// writer stored makes it give way (per token kind: a concurrent change of
// the other token is merged). The flight that obtained the tokens holds
// the session's refresh lock until the save lands (bounded by the refresh
// timeout), so another replica does not refresh with the spent token.

const (
	pendingRetryMin = 20 * time.Millisecond
	pendingRetryMax = 250 * time.Millisecond
	// pendingWindow bounds how long a save is retried; the state is
	// dropped after it, with an error in the log.
	pendingWindow = 10 * time.Minute
)

// pendingSave is a state the store has not taken yet.
type pendingSave struct {
	state    *SessionState // what to store
	base     *SessionState // the stored state it replaces, nil if none
	expected uint64        // base's version, 0 if none
	since    time.Time     // when the first save failed (real time)
	landed   chan struct{} // closed when the save landed or gave way
}

type pendingSaves struct {
	n  atomic.Int32 // len(m), read without the lock on every lookup
	mu sync.Mutex
	m  map[string]*pendingSave
}

// save stores state under s's key if the stored version is expected. A
// failure other than ErrStoreConflict keeps the state pending (see above)
// and reports success: the caller serves the new tokens.
func (s *Session) save(ctx context.Context, state, base *SessionState, expected uint64) error {
	_, err := s.m.store.Save(ctx, s.key, state, expected)
	switch {
	case err == nil:
		s.m.settled(s.key, state)
		return nil
	case errors.Is(err, ErrStoreConflict):
		return err
	}
	s.m.client.logger.LogAttrs(ctx, slog.LevelWarn, "emporix: saving a session failed; keeping its new tokens and retrying",
		slog.String("error", err.Error()))
	s.m.keep(ctx, s.key, state, base, expected)
	return nil
}

// keep makes state the pending save of key and starts its saver.
func (m *SessionManager) keep(ctx context.Context, key string, state, base *SessionState, expected uint64) {
	p := &m.pending
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.m == nil {
		p.m = make(map[string]*pendingSave)
	}
	if cur, ok := p.m[key]; ok {
		// A newer state for a session whose save is still pending: the
		// running saver takes it. Built on the pending state (same
		// expected version), it replaces the same stored base.
		if expected != cur.expected {
			cur.base, cur.expected = base, expected
		}
		cur.state = state
		return
	}
	ps := &pendingSave{state: state, base: base, expected: expected, since: time.Now(), landed: make(chan struct{})}
	p.m[key] = ps
	p.n.Add(1)
	go m.saveLater(context.WithoutCancel(ctx), key, ps)
}

// settled forgets key's pending save once state, built on it, was stored.
func (m *SessionManager) settled(key string, state *SessionState) {
	if m.pending.n.Load() == 0 {
		return
	}
	m.pending.mu.Lock()
	defer m.pending.mu.Unlock()
	if ps, ok := m.pending.m[key]; ok && ps.state == state {
		m.dropPendingLocked(key, ps)
	}
}

func (m *SessionManager) dropPendingLocked(key string, ps *pendingSave) {
	delete(m.pending.m, key)
	m.pending.n.Add(-1)
	close(ps.landed)
}

// pendingFor returns key's pending save, or nil. It is cheap when there is
// none anywhere, as it is on every lookup.
func (m *SessionManager) pendingFor(key string) *pendingSave {
	if m.pending.n.Load() == 0 {
		return nil
	}
	m.pending.mu.Lock()
	defer m.pending.mu.Unlock()
	return m.pending.m[key]
}

// overlay puts key's pending state over what the store answered: the
// pending state when the store fails, has lost the session, or still holds
// the state it replaces; otherwise the stored state with the pending
// tokens that nobody replaced since merged in. It returns the state, the
// version to save it with, and err (nil whenever a pending state is used).
func (m *SessionManager) overlay(key string, st *SessionState, version uint64, err error) (*SessionState, uint64, error) {
	if m.pending.n.Load() == 0 {
		return st, version, err
	}
	m.pending.mu.Lock()
	defer m.pending.mu.Unlock()
	ps, ok := m.pending.m[key]
	if !ok {
		return st, version, err
	}
	switch {
	case errors.Is(err, ErrSessionNotFound):
		// The store lost the session (restarted empty, evicted): the
		// pending state brings it back.
		ps.base, ps.expected = nil, 0
		return ps.state, 0, nil
	case err != nil:
		return ps.state, ps.expected, nil
	case version == ps.expected:
		return ps.state, version, nil
	}
	merged := mergeNewer(ps.state, ps.base, st)
	if merged == st {
		m.dropPendingLocked(key, ps) // stored meanwhile, or replaced by newer tokens
		return st, version, nil
	}
	ps.state, ps.base, ps.expected = merged, st, version
	return merged, version, nil
}

// mergeNewer combines the pending state ours, built on base, with stored:
// per token, the stored one when another writer replaced base's, else ours.
// It returns stored itself when that already has everything.
func mergeNewer(ours, base, stored *SessionState) *SessionState {
	var baseAnon, baseCust *Token
	if base != nil {
		baseAnon, baseCust = base.Anonymous, base.Customer
	}
	anon, cust, ended := stored.Anonymous, stored.Customer, stored.EndedLogin
	if sameToken(stored.Anonymous, baseAnon) {
		anon = ours.Anonymous
	}
	if sameToken(stored.Customer, baseCust) {
		cust, ended = ours.Customer, ours.EndedLogin
	}
	if sameToken(anon, stored.Anonymous) && sameToken(cust, stored.Customer) && ended.same(stored.EndedLogin) {
		return stored
	}
	return &SessionState{Anonymous: anon, Customer: cust, EndedLogin: ended}
}

// saveLater retries key's pending save until it lands, gives way to newer
// stored tokens, or pendingWindow passes.
func (m *SessionManager) saveLater(ctx context.Context, key string, ps *pendingSave) {
	pause := pendingRetryMin
	for {
		timer := time.NewTimer(pause)
		select {
		case <-ps.landed:
			timer.Stop()
			return // a foreground save stored it
		case <-timer.C:
		}
		pause = min(2*pause, pendingRetryMax)
		if m.trySave(ctx, key, ps) {
			return
		}
	}
}

// trySave makes one attempt at key's pending save and reports whether the
// pending save is over.
func (m *SessionManager) trySave(ctx context.Context, key string, ps *pendingSave) bool {
	actx, cancel := context.WithTimeout(ctx, m.cfg.refreshTimeout)
	defer cancel()
	st, version, err := m.store.Load(actx, key)
	if err != nil && !errors.Is(err, ErrSessionNotFound) {
		return m.expirePending(key, ps, err)
	}
	state, expected, _ := m.overlay(key, st, version, err)
	if m.pendingFor(key) != ps {
		return true // merged away or stored meanwhile
	}
	_, err = m.store.Save(actx, key, state, expected)
	switch {
	case err == nil:
		m.pending.mu.Lock()
		if m.pending.m[key] == ps && ps.state == state {
			m.dropPendingLocked(key, ps)
		}
		m.pending.mu.Unlock()
		return m.pendingFor(key) != ps
	case errors.Is(err, ErrStoreConflict):
		return false // reload and merge at the next attempt
	}
	return m.expirePending(key, ps, err)
}

// expirePending gives up on a save that kept failing for pendingWindow.
func (m *SessionManager) expirePending(key string, ps *pendingSave, err error) bool {
	if time.Since(ps.since) < pendingWindow {
		return false
	}
	m.client.logger.LogAttrs(context.Background(), slog.LevelError, "emporix: giving up saving a session; its new tokens are lost",
		slog.String("error", err.Error()))
	m.pending.mu.Lock()
	if m.pending.m[key] == ps {
		m.dropPendingLocked(key, ps)
	}
	m.pending.mu.Unlock()
	return true
}

// forget drops what the manager keeps of a session the application ended
// or moved: its pending save and its known session ID.
func (m *SessionManager) forget(key string) {
	m.known.forget(key)
	if m.pending.n.Load() == 0 {
		return
	}
	m.pending.mu.Lock()
	if ps, ok := m.pending.m[key]; ok {
		m.dropPendingLocked(key, ps)
	}
	m.pending.mu.Unlock()
}
