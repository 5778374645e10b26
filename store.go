package emporix

import (
	"container/heap"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"sync"
	"sync/atomic"
	"time"
)

// ErrSessionNotFound is returned by a [TokenStore] that has no session
// under a key.
var ErrSessionNotFound = errors.New("emporix: session not found")

// ErrStoreConflict is returned by [TokenStore.Save] when the stored version
// is not the expected one: another writer saved first. The caller reloads
// and decides again, so a rotated refresh token is never overwritten by a
// stale one.
var ErrStoreConflict = errors.New("emporix: session was changed by another writer")

// SessionState is what a [TokenStore] keeps for one shopper: the anonymous
// session and, once logged in, the customer token. A SessionState is never
// modified once saved; writers save a new one.
type SessionState struct {
	// Anonymous is the shopper's anonymous token; its SessionID keys the
	// guest cart.
	Anonymous *Token
	// Customer is the logged-in customer's token, or nil.
	Customer *Token
	// EndedLogin, when not nil, is a customer login that could no longer
	// be renewed and was removed, kept until a call that needed the
	// customer has been told with an error matching [ErrSessionExpired].
	EndedLogin *EndedLogin
}

// Format prints the state under every fmt verb, its tokens' secrets
// masked.
func (s SessionState) Format(f fmt.State, verb rune) { formatFields(f, verb, s) }

// EndedLogin records a customer login that ended (see [ReasonLoginEnded]).
type EndedLogin struct {
	// CustomerNumber is the customer who was logged in, when known.
	CustomerNumber string
	// At is when the session found the login ended.
	At time.Time
}

func (e *EndedLogin) same(o *EndedLogin) bool {
	if e == nil || o == nil {
		return e == o
	}
	return e.CustomerNumber == o.CustomerNumber && e.At.Equal(o.At)
}

// Deadline is when nothing in the state can be used or renewed any more: the
// latest expiry of its tokens and of their refresh tokens. Expiries the
// service left out are the documented lifetimes (see [Token.Expiry] and
// [Token.RefreshExpiry]), so a session is never given up while its refresh
// token could still renew it. The zero time means never: some token's
// lifetime is unknown.
func (s *SessionState) Deadline() time.Time {
	var latest time.Time
	for _, t := range [...]*Token{s.Anonymous, s.Customer} {
		if t == nil {
			continue
		}
		access := t.accessDeadline()
		if access.IsZero() {
			return time.Time{}
		}
		latest = later(latest, access)
		if t.RefreshToken != "" {
			refresh := t.refreshDeadline()
			if refresh.IsZero() {
				return time.Time{}
			}
			latest = later(latest, refresh)
		}
	}
	return latest
}

// KeepUntil is when a store may forget the state: grace after its
// [SessionState.Deadline], or the zero time for never. Every store of the
// SDK (the eviction of [MemoryStore], the key expiry of the Redis store)
// computes its deadline with it; a [TokenStore] of the application should
// too. The grace lets a shopper who returns just after the refresh token
// died get a new session whose change is reported with the old session ID.
func (s *SessionState) KeepUntil(grace time.Duration) time.Time {
	d := s.Deadline()
	if d.IsZero() {
		return d
	}
	return d.Add(max(grace, 0))
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// TokenStore keeps shopper sessions by an application-chosen key (typically
// a random ID in the shopper's cookie). Implementations must be safe for
// concurrent use. Versions make writes compare-and-swap: Save succeeds only
// when the stored version equals expected (0 meaning "not stored yet") and
// returns the new version, so two writers cannot clobber each other.
type TokenStore interface {
	// Load returns the state and its version, or ErrSessionNotFound.
	Load(ctx context.Context, key string) (*SessionState, uint64, error)
	// Save stores state if the current version is expected, or returns
	// ErrStoreConflict.
	Save(ctx context.Context, key string, state *SessionState, expected uint64) (uint64, error)
	// Delete removes the session; deleting a missing session is not an error.
	Delete(ctx context.Context, key string) error
}

// RefreshLocker is implemented by stores shared between processes, such as
// the replicas of a storefront. A [SessionManager] takes the lock around
// every refresh, so that one replica refreshes while the others wait and then
// load the fresh token: within a process a refresh is already single-flight.
// name identifies one session's refresh of one token kind.
type RefreshLocker interface {
	// LockRefresh blocks until the lock is held or ctx ends. unlock must be
	// safe to call once the lock has expired.
	LockRefresh(ctx context.Context, name string) (unlock func(), err error)
}

// MemoryStore is an in-process [TokenStore]. Entries leave a grace period
// after nothing in them can be used or renewed (see [SessionState.KeepUntil]),
// so the store does not grow without bound; expired entries are swept as new
// ones are saved. The grace period lets a shopper who returns just after the
// refresh token died get a new session whose change is reported with the
// old session ID, instead of one that looks brand new. Its contents can be
// written out and read back with WriteTo and ReadFrom to survive a restart.
//
// Sessions are kept packed, about 600 bytes for a logged-in shopper and 400
// for a guest (BENCHMARKS.md), however often they are refreshed. Load
// returns a state shared by every caller until the session is saved again,
// which callers must not modify (see [SessionState]); the states of the
// 4,096 sessions loaded last stay built, so loading a busy session
// allocates nothing.
type MemoryStore struct {
	now      func() time.Time
	ownClock bool                             // now was given by WithStoreClock
	follow   atomic.Pointer[func() time.Time] // see followClock
	grace    time.Duration

	mu      sync.RWMutex
	entries map[string]*memEntry
	expiry  expiryHeap
	hot     hotRing
}

// memEntry is one stored session, packed (see store_packed.go). It is
// updated in place when the session is saved again, so a session costs one
// entry, and at most one heap slot, however often it is refreshed.
type memEntry struct {
	key      string
	data     string // the session's strings
	version  uint64
	deadline int64 // when the entry may be forgotten, Unix ns: state deadline + grace; noDeadline for never
	hot      atomic.Pointer[SessionState]
	index    int32 // position in the expiry heap, -1 when not in it
	flags    uint8
	anon     packedToken
	cust     packedToken
}

// noDeadline is the deadline of an entry kept until deleted.
const noDeadline = math.MaxInt64

// unixDeadline converts a KeepUntil time, clamping what Unix nanoseconds
// cannot hold.
func unixDeadline(t time.Time) int64 {
	switch {
	case t.IsZero() || t.Year() > 2261:
		return noDeadline
	case t.Year() < 1678:
		return math.MinInt64
	}
	return t.UnixNano()
}

// DefaultStoreGrace is how long a MemoryStore keeps a session past its
// deadline.
const DefaultStoreGrace = time.Hour

// MemoryStoreOption configures a [MemoryStore].
type MemoryStoreOption func(*MemoryStore)

// WithStoreClock sets the store's clock, for tests that control time.
// Without it, a MemoryStore reads the clock of the [Client] of the first
// [SessionManager] it is given to: time.Now unless the client has
// [WithClock].
func WithStoreClock(now func() time.Time) MemoryStoreOption {
	return func(m *MemoryStore) {
		if now != nil {
			m.now, m.ownClock = now, true
		}
	}
}

// WithStoreGrace sets how long a session is kept past its deadline; the
// default is [DefaultStoreGrace].
func WithStoreGrace(d time.Duration) MemoryStoreOption {
	return func(m *MemoryStore) { m.grace = max(d, 0) }
}

// NewMemoryStore returns an empty store.
func NewMemoryStore(opts ...MemoryStoreOption) *MemoryStore {
	m := &MemoryStore{grace: DefaultStoreGrace, entries: make(map[string]*memEntry)}
	m.now = m.followedNow
	for _, opt := range opts {
		if opt != nil {
			opt(m)
		}
	}
	return m
}

// Load implements [TokenStore].
func (m *MemoryStore) Load(_ context.Context, key string) (*SessionState, uint64, error) {
	st, version, _, err := m.loadAt(key, m.now(), nil)
	return st, version, err
}

// loadAt is Load at the time now, so that a session that reads the same
// clock reads it once per token lookup. hint is the entry an earlier call
// returned for key: while it is still stored, it saves the map lookup.
func (m *MemoryStore) loadAt(key string, now time.Time, hint *memEntry) (*SessionState, uint64, *memEntry, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	e := hint
	if e == nil || e.flags&removed != 0 {
		var ok bool
		if e, ok = m.entries[key]; !ok {
			return nil, 0, nil, ErrSessionNotFound
		}
	}
	if e.expired(now) {
		return nil, 0, nil, ErrSessionNotFound
	}
	return m.state(e), e.version, e, nil
}

// Save implements [TokenStore].
func (m *MemoryStore) Save(_ context.Context, key string, state *SessionState, expected uint64) (uint64, error) {
	if state == nil {
		return 0, invalid("SessionState", "must not be nil")
	}
	now := m.now()
	m.mu.Lock()
	defer m.mu.Unlock()
	m.sweepLocked(now, 64)
	current := uint64(0)
	old, ok := m.entries[key]
	if ok && !old.expired(now) {
		current = old.version
	}
	if current != expected {
		return 0, ErrStoreConflict
	}
	return m.putLocked(key, state, current+1), nil
}

// putLocked stores state under key with version, updating the entry and
// its heap slot in place.
func (m *MemoryStore) putLocked(key string, state *SessionState, version uint64) uint64 {
	e, ok := m.entries[key]
	if !ok {
		e = &memEntry{key: key, index: -1}
		m.entries[key] = e
	}
	e.pack(state)
	e.version = version
	e.deadline = unixDeadline(state.KeepUntil(m.grace))
	switch {
	case e.deadline == noDeadline && e.index >= 0:
		heap.Remove(&m.expiry, int(e.index))
	case e.deadline == noDeadline:
	case e.index >= 0:
		heap.Fix(&m.expiry, int(e.index))
	default:
		heap.Push(&m.expiry, e)
	}
	return version
}

// removeLocked forgets the entry e. It is marked removed, so a session
// handle that remembers the entry (loadAt's hint) looks the key up again.
func (m *MemoryStore) removeLocked(e *memEntry) {
	e.flags |= removed
	delete(m.entries, e.key)
	if e.index >= 0 {
		heap.Remove(&m.expiry, int(e.index))
	}
	if e.flags&pinned == 0 {
		e.hot.Store(nil) // an entry left in the hot ring holds no state
	}
}

// Delete implements [TokenStore].
func (m *MemoryStore) Delete(_ context.Context, key string) error {
	m.mu.Lock()
	if e, ok := m.entries[key]; ok {
		m.removeLocked(e)
	}
	m.mu.Unlock()
	return nil
}

// String describes the store without its keys, which are credentials of
// shoppers' browser sessions.
func (m *MemoryStore) String() string { return "emporix.MemoryStore" }

// GoString describes the store without its keys.
func (m *MemoryStore) GoString() string { return "emporix.MemoryStore{}" }

// Format hides keys and tokens under every verb.
func (m *MemoryStore) Format(f fmt.State, _ rune) { formatOpaque(f, m.String()) }

// LogValue hides keys and tokens in log/slog output.
func (m *MemoryStore) LogValue() slog.Value { return slog.StringValue(m.String()) }

// Len returns the number of live sessions.
func (m *MemoryStore) Len() int {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return len(m.entries)
}

// Sweep removes every expired session now, instead of a few at each Save.
func (m *MemoryStore) Sweep() {
	m.mu.Lock()
	m.sweepLocked(m.now(), -1)
	m.mu.Unlock()
}

// sweepLocked forgets at most limit expired entries (all when limit < 0).
// Every heap item is a live entry: saving again moves its item, deleting
// removes it, so nothing stale is left to pop.
func (m *MemoryStore) sweepLocked(now time.Time, limit int) {
	for n := 0; m.expiry.Len() > 0 && (limit < 0 || n < limit); n++ {
		top := m.expiry[0]
		if !top.expired(now) {
			return
		}
		m.removeLocked(top)
	}
}

func (e *memEntry) expired(now time.Time) bool {
	return e.deadline != noDeadline && now.UnixNano() >= e.deadline
}

// expiryHeap orders the entries that have a deadline, soonest first; each
// entry knows its index, so a save or delete fixes it in place.
type expiryHeap []*memEntry

func (h expiryHeap) Len() int           { return len(h) }
func (h expiryHeap) Less(i, j int) bool { return h[i].deadline < h[j].deadline }
func (h expiryHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].index, h[j].index = int32(i), int32(j)
}
func (h *expiryHeap) Push(x any) {
	e := x.(*memEntry)
	e.index = int32(len(*h))
	*h = append(*h, e)
}
func (h *expiryHeap) Pop() any {
	old := *h
	e := old[len(old)-1]
	old[len(old)-1] = nil // let the entry go
	e.index = -1
	*h = old[:len(old)-1]
	return e
}

// WriteTo writes every live session as JSON lines, secrets included: protect
// the destination like the tokens themselves.
func (m *MemoryStore) WriteTo(w io.Writer) (int64, error) {
	now := m.now()
	m.mu.RLock()
	snapshot := make(map[string]*SessionState, len(m.entries))
	for k, e := range m.entries {
		if !e.expired(now) {
			snapshot[k] = e.build()
		}
	}
	m.mu.RUnlock()
	cw := &countingWriter{w: w}
	enc := json.NewEncoder(cw)
	for k, s := range snapshot {
		rec := persistedSession{Key: k, State: encodeState(s)}
		if err := enc.Encode(rec); err != nil {
			return cw.n, err
		}
	}
	return cw.n, nil
}

// ReadFrom loads sessions written by WriteTo, skipping expired ones. Loaded
// sessions get version 1, or one more than a session already under the key.
func (m *MemoryStore) ReadFrom(r io.Reader) (int64, error) {
	cr := &countingReader{r: r}
	dec := json.NewDecoder(cr)
	for {
		var rec persistedSession
		if err := dec.Decode(&rec); err == io.EOF {
			return cr.n, nil
		} else if err != nil {
			return cr.n, fmt.Errorf("emporix: reading sessions: %w", err)
		}
		state := rec.State.decode()
		now := m.now()
		m.mu.Lock()
		var version uint64
		if e, ok := m.entries[rec.Key]; ok {
			version = e.version
		}
		if d := state.KeepUntil(m.grace); d.IsZero() || now.Before(d) {
			m.putLocked(rec.Key, state, version+1)
		}
		m.mu.Unlock()
	}
}

type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}
