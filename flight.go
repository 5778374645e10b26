package emporix

import (
	"context"
	"fmt"
	"sync"
)

// One renewal per session and token kind at a time, shared by every caller
// that needs it. This is golang.org/x/sync/singleflight cut to what a
// session needs, because a thousand shoppers' requests can wait on one
// refresh: a waiter here allocates nothing (it waits on the flight's done
// channel instead of getting a result channel of its own, and the flight's
// key is a struct instead of a concatenated string), and the work to run is
// described by a value, so a waiter builds no closure.

// flightKind tells which token of a session a flight renews.
type flightKind uint8

const (
	flightAnonymous flightKind = iota
	flightCustomer
)

type flightKey struct {
	key  string
	kind flightKind
}

// flight is one running renewal. tok and err are written before done is
// closed and read only after.
type flight struct {
	done chan struct{}
	tok  *Token
	err  error
}

// renewal says what a flight runs.
type renewal struct {
	s        *Session
	kind     flightKind
	rejected Secret          // an access token the service refused
	opts     *RefreshOptions // customer refresh options (legal entity)
	force    bool            // refresh even a valid token (legal-entity switch)
}

type flightGroup struct {
	mu sync.Mutex
	m  map[flightKey]*flight
}

// start runs r as its session's flight of that kind unless one is running,
// and returns the flight and whether this call started it. The run is
// detached from the caller's cancellation and bounded by the refresh
// timeout: other callers may be waiting for it.
//
// When the store is shared between processes ([RefreshLocker]), the run also
// holds the store's lock for the session and kind, so one replica refreshes
// at a time; the renewal reloads the state after taking it and finds a token
// another replica refreshed meanwhile.
func (m *SessionManager) start(ctx context.Context, r renewal) (*flight, bool) {
	k := flightKey{key: r.s.key, kind: r.kind}
	g := &m.flights
	g.mu.Lock()
	if f, ok := g.m[k]; ok {
		g.mu.Unlock()
		return f, false
	}
	f := &flight{done: make(chan struct{})}
	if g.m == nil {
		g.m = make(map[flightKey]*flight)
	}
	g.m[k] = f
	g.mu.Unlock()
	go m.run(context.WithoutCancel(ctx), k, f, r)
	return f, true
}

func (m *SessionManager) run(ctx context.Context, k flightKey, f *flight, r renewal) {
	ctx, cancel := context.WithTimeout(ctx, m.cfg.refreshTimeout)
	defer cancel()
	unlock := m.renew(ctx, k, f, r)
	g := &m.flights
	g.mu.Lock()
	delete(g.m, k)
	g.mu.Unlock()
	close(f.done)
	if unlock == nil {
		return
	}
	defer unlock()
	// The callers have their tokens; if the store did not take them yet,
	// keep the lock until it does (bounded by the refresh timeout), so
	// that another replica does not refresh with a spent refresh token.
	if ps := m.pendingFor(k.key); ps != nil {
		select {
		case <-ps.landed:
		case <-ctx.Done():
		}
	}
}

// renew sets f's result and returns the store's refresh lock, still held,
// or nil when the store does not lock or the renewal never took it. The
// renewal is reported as ended before run publishes its result, so a
// caller that has its token also finds it reported.
func (m *SessionManager) renew(ctx context.Context, k flightKey, f *flight, r renewal) (unlock func()) {
	if tok := r.renewedMeanwhile(ctx); tok != nil {
		f.tok = tok
		return nil
	}
	kind := KindAnonymous
	if r.kind == flightCustomer {
		kind = KindCustomer
	}
	ctx, end := m.observeRefresh(ctx, kind)
	defer func() { end(f.err) }()
	if locker, ok := m.store.(RefreshLocker); ok {
		var err error
		if unlock, err = locker.LockRefresh(ctx, lockName(k)); err != nil {
			f.err = fmt.Errorf("emporix: waiting for another replica's refresh: %w", err)
			return nil
		}
	}
	if r.kind == flightCustomer {
		f.tok, f.err = r.s.renewCustomer(ctx, r.rejected, r.opts, r.force)
	} else {
		f.tok, f.err = r.s.renewAnonymousLocked(ctx, r.rejected)
	}
	return unlock
}

// renewedMeanwhile returns the session's token of r's kind when it needs
// no renewal any more, else nil. A caller that read the token just before
// the previous flight stored its renewal starts a flight once that one has
// published; this one finds the token renewed and ends here, so one expiry
// is one renewal (and one observed refresh) per process. The renewal
// itself checks again, after taking the store's lock.
func (r renewal) renewedMeanwhile(ctx context.Context) *Token {
	if r.force {
		return nil
	}
	st, _, err := r.s.load(ctx)
	if err != nil || st == nil {
		return nil
	}
	cur := st.Anonymous
	if r.kind == flightCustomer {
		cur = st.Customer
	}
	if cur == nil || cur.AccessToken == r.rejected || r.s.m.due(cur, r.s.m.client.now()) {
		return nil
	}
	return cur
}

// lockName names the store lock of a flight, as "anonymous:KEY" or
// "customer:KEY".
func lockName(k flightKey) string {
	if k.kind == flightCustomer {
		return "customer:" + k.key
	}
	return "anonymous:" + k.key
}

// wait joins or starts r's flight and returns its result, or the caller's
// context error as soon as that context ends.
func (m *SessionManager) wait(ctx context.Context, r renewal) (*Token, error) {
	if err := ctx.Err(); err != nil {
		return nil, err // a caller that is gone starts nothing
	}
	f, _ := m.start(ctx, r)
	return f.wait(ctx)
}

func (f *flight) wait(ctx context.Context) (*Token, error) {
	select {
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-f.done:
		return f.tok, f.err
	}
}
