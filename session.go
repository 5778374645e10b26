package emporix

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"golang.org/x/sync/singleflight"
)

// SessionChangeReason says why a shopper's Emporix session ID changed.
type SessionChangeReason string

// Reasons for a session change.
const (
	// ReasonRefreshExpired: the anonymous refresh token had expired, so a new
	// anonymous session was started.
	ReasonRefreshExpired SessionChangeReason = "refresh-token-expired"
	// ReasonRefreshRejected: the service rejected the anonymous refresh
	// token, so a new anonymous session was started.
	ReasonRefreshRejected SessionChangeReason = "refresh-token-rejected"
	// ReasonServerAssigned: the service answered a refresh or login with a
	// different session ID than the shopper had.
	ReasonServerAssigned SessionChangeReason = "server-assigned"
)

// SessionChange reports that a shopper's Emporix session ID changed. The
// guest cart is keyed by the session ID, so the application should move or
// merge the cart from OldSessionID to NewSessionID, or tell the shopper.
type SessionChange struct {
	// Key is the application's key of the session. It is a credential of
	// the shopper's browser session, so printed forms mask it.
	Key string `emporix:"secret"`
	// OldSessionID and NewSessionID are the Emporix session IDs.
	OldSessionID string
	NewSessionID string
	// Reason says why the session changed.
	Reason SessionChangeReason
}

// String describes the change with the key masked.
func (c SessionChange) String() string { return redactedString(c) }

// GoString describes the change with the key masked.
func (c SessionChange) GoString() string { return redactedGoString(c) }

// Format masks the key under every fmt verb.
func (c SessionChange) Format(f fmt.State, verb rune) { formatRedacted(f, verb, c) }

// LogValue masks the key in log/slog output.
func (c SessionChange) LogValue() slog.Value { return redactedLogValue(c) }

// MarshalJSON encodes the change with the key masked; read Key directly
// to act on it.
func (c SessionChange) MarshalJSON() ([]byte, error) {
	type plain SessionChange // without methods, so this does not recurse
	masked := plain(c)
	maskSecretFields(&masked)
	return json.Marshal(masked)
}

// SessionOption configures a [SessionManager].
type SessionOption func(*sessionConfig) error

type sessionConfig struct {
	context        *SessionContext
	onChange       func(context.Context, SessionChange)
	refreshTimeout time.Duration
	refreshWindow  time.Duration
}

// WithSessionContext seeds every new anonymous session with sc (currency,
// site, language, target location).
func WithSessionContext(sc SessionContext) SessionOption {
	return func(c *sessionConfig) error {
		if err := sc.validate(); err != nil {
			return err
		}
		c.context = &sc
		return nil
	}
}

// WithSessionChangeHook calls fn whenever a shopper's session ID changes. It
// runs in the goroutine of the refresh, which waiting requests share: keep it
// short, and do not call back into the same session from it.
func WithSessionChangeHook(fn func(ctx context.Context, change SessionChange)) SessionOption {
	return func(c *sessionConfig) error {
		c.onChange = fn
		return nil
	}
}

// WithRefreshTimeout bounds one shared refresh, which does not end when a
// waiting caller's context does. The default is 30 s.
func WithRefreshTimeout(d time.Duration) SessionOption {
	return func(c *sessionConfig) error {
		if d <= 0 {
			return invalid("refresh timeout", "must be positive")
		}
		c.refreshTimeout = d
		return nil
	}
}

// WithRefreshWindow sets the longest time before expiry at which a token is
// refreshed; a token is refreshed earlier by at most a tenth of its lifetime,
// minus up to 20% jitter so that sessions created together do not refresh
// together. The default is 60 s.
func WithRefreshWindow(d time.Duration) SessionOption {
	return func(c *sessionConfig) error {
		if d < 0 {
			return invalid("refresh window", "must not be negative")
		}
		c.refreshWindow = d
		return nil
	}
}

// SessionManager keeps shopper sessions in a [TokenStore] and refreshes
// their tokens before they expire, at most one refresh per session at a
// time. Create one per process and get a cheap [Session] handle per shopper
// request with [SessionManager.Session].
type SessionManager struct {
	client  *Client
	store   TokenStore
	cfg     sessionConfig
	flights singleflight.Group
}

// NewSessionManager returns a manager for the shoppers of c, keeping their
// sessions in store. A [MemoryStore] without [WithStoreClock] takes c's
// clock (see [WithClock]).
func NewSessionManager(c *Client, store TokenStore, opts ...SessionOption) (*SessionManager, error) {
	if c == nil {
		return nil, invalid("client", "must not be nil")
	}
	if store == nil {
		return nil, invalid("store", "must not be nil")
	}
	cfg := sessionConfig{refreshTimeout: 30 * time.Second, refreshWindow: 60 * time.Second}
	for _, opt := range opts {
		if opt == nil {
			continue
		}
		if err := opt(&cfg); err != nil {
			return nil, err
		}
	}
	if ms, ok := store.(*MemoryStore); ok {
		ms.followClock(c.now)
	}
	return &SessionManager{client: c, store: store, cfg: cfg}, nil
}

// Store returns the manager's token store.
func (m *SessionManager) Store() TokenStore { return m.store }

// Session returns the handle of the session stored under key, typically a
// random ID kept in the shopper's cookie (see [NewSessionKey]). Nothing is
// sent or loaded until the handle is used; the anonymous session starts on
// first use.
func (m *SessionManager) Session(key string) *Session {
	s := &Session{m: m, key: key, client: *m.client}
	s.client.tokens = s
	s.client.initServices()
	return s
}

// Session is one shopper's session: a [TokenSource] that supplies the
// customer token once the shopper has logged in and the anonymous token
// before, refreshing either as needed. Its Client authorizes every call with
// it. A Session is safe for concurrent use and cheap to create per request.
type Session struct {
	m      *SessionManager
	key    string
	client Client
}

// Key returns the application's key of the session.
func (s *Session) Key() string { return s.key }

// Client returns a client that authorizes with this session and shares the
// manager client's connection pool.
func (s *Session) Client() *Client { return &s.client }

// String describes the session without its key, which is a credential of
// the shopper's browser session.
func (s *Session) String() string { return "emporix.Session" }

// GoString describes the session without its key.
func (s *Session) GoString() string { return "emporix.Session{}" }

// Format hides the key and tokens under every verb.
func (s *Session) Format(f fmt.State, _ rune) { formatOpaque(f, s.String()) }

// State returns the stored state, starting the anonymous session if there
// is none yet.
func (s *Session) State(ctx context.Context) (*SessionState, error) {
	st, _, err := s.load(ctx)
	if errors.Is(err, ErrSessionNotFound) {
		if _, err = s.AnonymousToken(ctx); err != nil {
			return nil, err
		}
		st, _, err = s.load(ctx)
	}
	return st, err
}

// SessionID returns the Emporix session ID, starting the anonymous session
// if there is none yet.
func (s *Session) SessionID(ctx context.Context) (string, error) {
	tok, err := s.AnonymousToken(ctx)
	if err != nil {
		return "", err
	}
	return tok.SessionID, nil
}

// LoggedIn reports whether a customer is logged in to the session.
func (s *Session) LoggedIn(ctx context.Context) (bool, error) {
	st, _, err := s.load(ctx)
	if errors.Is(err, ErrSessionNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return st.Customer != nil, nil
}

// Token implements [TokenSource]: the customer token when logged in, else
// the anonymous token, refreshed first when due.
func (s *Session) Token(ctx context.Context) (*Token, error) {
	st, _, err := s.load(ctx)
	if err != nil && !errors.Is(err, ErrSessionNotFound) {
		return nil, err
	}
	now := s.m.client.now()
	if st != nil && st.Customer != nil {
		if s.serveWhileRenewing(ctx, st.Customer, now, "customer:", s.renewCustomerFlight) {
			return st.Customer, nil
		}
		return s.refreshCustomer(ctx, "", nil)
	}
	if st != nil && st.Anonymous != nil && s.serveWhileRenewing(ctx, st.Anonymous, now, "anonymous:", s.renewAnonymousFlight) {
		return st.Anonymous, nil
	}
	return s.refreshAnonymous(ctx, "")
}

// serveWhileRenewing reports whether tok can be served as it is: any token
// that has not expired. Inside the refresh window a background refresh
// renews it, if its refresh token lives; callers do not wait for the token
// service as long as they hold a working token.
func (s *Session) serveWhileRenewing(ctx context.Context, tok *Token, now time.Time, kind string, renew func(context.Context) (*Token, error)) bool {
	if !s.m.due(tok, now) {
		return true
	}
	if tok.ExpiredAt(now) {
		return false // the caller must wait: a new token, or a new session, is needed now
	}
	if !tok.RefreshExpiredAt(now) {
		s.m.start(ctx, kind+s.key, renew)
	}
	return true
}

func (s *Session) renewAnonymousFlight(ctx context.Context) (*Token, error) {
	return s.renewAnonymousLocked(ctx, "")
}

func (s *Session) renewCustomerFlight(ctx context.Context) (*Token, error) {
	return s.renewCustomer(ctx, "", nil, false)
}

// AnonymousToken implements [AnonymousTokenSource]: the session's anonymous
// token, refreshed first when due, also while a customer is logged in.
func (s *Session) AnonymousToken(ctx context.Context) (*Token, error) {
	st, _, err := s.load(ctx)
	if err != nil && !errors.Is(err, ErrSessionNotFound) {
		return nil, err
	}
	if st != nil && st.Anonymous != nil && s.serveWhileRenewing(ctx, st.Anonymous, s.m.client.now(), "anonymous:", s.renewAnonymousFlight) {
		return st.Anonymous, nil
	}
	return s.refreshAnonymous(ctx, "")
}

// InvalidateToken implements [TokenInvalidator]: the service rejected
// rejected, so the session renews whichever of its tokens that was, unless it
// has been replaced already.
func (s *Session) InvalidateToken(ctx context.Context, rejected *Token) error {
	if rejected == nil {
		return nil
	}
	st, _, err := s.load(ctx)
	if err != nil {
		return err
	}
	switch {
	case st.Customer != nil && st.Customer.AccessToken == rejected.AccessToken:
		_, err = s.refreshCustomer(ctx, rejected.AccessToken, nil)
	case st.Anonymous != nil && st.Anonymous.AccessToken == rejected.AccessToken:
		_, err = s.refreshAnonymous(ctx, rejected.AccessToken)
	}
	return err
}

func (s *Session) load(ctx context.Context) (*SessionState, uint64, error) {
	if s.key == "" {
		return nil, 0, invalid("session key", "must not be empty")
	}
	return s.m.store.Load(ctx, s.key)
}

// due reports whether t should be refreshed at now: it is expired or inside
// its refresh window, min(refreshWindow, lifetime/10) less a per-token jitter.
func (m *SessionManager) due(t *Token, now time.Time) bool {
	if t.AccessToken == "" {
		return true
	}
	if t.Expiry.IsZero() {
		return false
	}
	window := m.cfg.refreshWindow
	if !t.IssuedAt.IsZero() {
		window = min(window, t.Expiry.Sub(t.IssuedAt)/10)
	}
	window -= window * time.Duration(tokenJitter(t.AccessToken)) / 100
	return !now.Before(t.Expiry.Add(-window))
}

// tokenJitter derives a stable 0–19 from the token, so every check of one
// token agrees while different sessions spread out.
func tokenJitter(access string) uint32 {
	// FNV-1a, inline: hash/fnv would allocate on this hot path.
	h := uint32(2166136261)
	for i := 0; i < len(access); i++ {
		h ^= uint32(access[i])
		h *= 16777619
	}
	return h % 20
}

// NewSessionKey returns a random session key for a shopper's cookie: 128
// bits from crypto/rand, base64url-encoded.
func NewSessionKey() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// flight runs fn once per key at a time. The shared run is detached from the
// caller's cancellation and bounded by its own timeout; every caller still
// returns as soon as its own context ends.
//
// When the store is shared between processes ([RefreshLocker]), the run also
// holds the store's lock for key, so one replica refreshes at a time; fn
// reloads the state after taking it and finds a token another replica
// refreshed meanwhile.
func (m *SessionManager) flight(ctx context.Context, key string, fn func(context.Context) (*Token, error)) (*Token, error) {
	ch := m.start(ctx, key, fn)
	select {
	case <-ctx.Done():
		return nil, ctx.Err()
	case r := <-ch:
		if r.Err != nil {
			return nil, r.Err
		}
		return r.Val.(*Token), nil
	}
}

// start runs fn as key's flight unless one is running, and returns the
// channel of its result. The channel is buffered, so a caller that does not
// wait (a background refresh) leaks nothing.
func (m *SessionManager) start(ctx context.Context, key string, fn func(context.Context) (*Token, error)) <-chan singleflight.Result {
	return m.flights.DoChan(key, func() (any, error) {
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), m.cfg.refreshTimeout)
		defer cancel()
		if locker, ok := m.store.(RefreshLocker); ok {
			unlock, err := locker.LockRefresh(fctx, key)
			if err != nil {
				return nil, fmt.Errorf("emporix: waiting for another replica's refresh: %w", err)
			}
			defer unlock()
		}
		return fn(fctx)
	})
}

// maxSaveAttempts bounds compare-and-swap retries against concurrent writers.
const maxSaveAttempts = 5

var errTooManyConflicts = fmt.Errorf("%w: gave up after %d attempts", ErrStoreConflict, maxSaveAttempts)

// refreshAnonymous renews the anonymous token, or starts the anonymous
// session. Only when the refresh token is expired or rejected does it log in
// anew, and then it reports the new session ID. rejected names an access
// token the service refused, which is renewed even if it looks valid.
func (s *Session) refreshAnonymous(ctx context.Context, rejected string) (*Token, error) {
	if s.key == "" {
		return nil, invalid("session key", "must not be empty")
	}
	return s.m.flight(ctx, "anonymous:"+s.key, func(ctx context.Context) (*Token, error) {
		return s.renewAnonymousLocked(ctx, rejected)
	})
}

// renewAnonymousLocked runs inside the anonymous flight of the session.
func (s *Session) renewAnonymousLocked(ctx context.Context, rejected string) (*Token, error) {
	m, c := s.m, s.m.client
	var next *Token
	var change *SessionChange
	var renewed *Token // the token next replaces
	for range maxSaveAttempts {
		st, version, err := m.store.Load(ctx, s.key)
		if err != nil && !errors.Is(err, ErrSessionNotFound) {
			return nil, err
		}
		if st == nil {
			st = &SessionState{}
		}
		cur := st.Anonymous
		if next != nil && !sameToken(cur, renewed) {
			next, change = nil, nil // another writer renewed it meanwhile
		}
		if next == nil {
			now := c.now()
			if cur != nil && cur.AccessToken != rejected && !m.due(cur, now) {
				return cur, nil
			}
			next, change, err = s.renewAnonymous(ctx, cur, rejected, now)
			if err != nil || next == cur {
				return next, err
			}
			renewed = cur
		}
		saved := &SessionState{Anonymous: next, Customer: st.Customer}
		if _, err := m.store.Save(ctx, s.key, saved, version); errors.Is(err, ErrStoreConflict) {
			continue
		} else if err != nil {
			return nil, err
		}
		if change != nil {
			m.report(ctx, *change)
		}
		return next, nil
	}
	return nil, errTooManyConflicts
}

// renewAnonymous refreshes cur, or logs in anew when there is no session or
// its refresh token is expired or rejected. A transient failure while cur is
// still usable returns cur.
func (s *Session) renewAnonymous(ctx context.Context, cur *Token, rejected string, now time.Time) (*Token, *SessionChange, error) {
	auth := s.m.client.Auth
	reason := ReasonRefreshExpired
	if cur != nil && !cur.RefreshExpiredAt(now) {
		next, err := auth.AnonymousRefresh(ctx, cur)
		switch {
		case err == nil:
			if cur.SessionID != "" && next.SessionID != cur.SessionID {
				return next, s.change(cur, next, ReasonServerAssigned), nil
			}
			return next, nil, nil
		case !refreshRejected(err):
			if cur.AccessToken != rejected && !cur.ExpiredAt(now) {
				s.m.client.logger.LogAttrs(ctx, slog.LevelWarn, "emporix: anonymous refresh failed; keeping the current token",
					slog.String("error", err.Error()))
				return cur, nil, nil
			}
			return nil, nil, err
		}
		reason = ReasonRefreshRejected
	}
	next, err := auth.AnonymousLogin(ctx, s.m.cfg.context)
	if err != nil {
		return nil, nil, err
	}
	if cur == nil {
		return next, nil, nil
	}
	return next, s.change(cur, next, reason), nil
}

func (s *Session) change(from, to *Token, reason SessionChangeReason) *SessionChange {
	return &SessionChange{Key: s.key, OldSessionID: from.SessionID, NewSessionID: to.SessionID, Reason: reason}
}

// report tells the application that a session ID changed: never silently.
func (m *SessionManager) report(ctx context.Context, change SessionChange) {
	m.client.logger.LogAttrs(ctx, slog.LevelWarn, "emporix: shopper session ID changed",
		slog.String("old_session_id", change.OldSessionID), slog.String("new_session_id", change.NewSessionID),
		slog.String("reason", string(change.Reason)))
	if m.cfg.onChange != nil {
		m.cfg.onChange(ctx, change)
	}
}

// refreshRejected reports an answer that condemns the refresh token itself,
// as opposed to an outage worth waiting out.
func refreshRejected(err error) bool {
	var apiErr *APIError
	if !errors.As(err, &apiErr) {
		return false
	}
	// Only 400 and 401 speak about the token. A 403 or 404 can come from
	// the gateway (a misrouted request answers 404 "No endpoint"), and
	// treating it as a dead refresh token would end every due session's
	// cart during such a blip.
	switch apiErr.StatusCode {
	case http.StatusBadRequest, http.StatusUnauthorized:
		return true
	}
	return false
}

func sameToken(a, b *Token) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.AccessToken == b.AccessToken
}
