package emporix

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"net/http"
	"reflect"
	"strings"
	"sync/atomic"
	"time"
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
	// ReasonLoginEnded: the customer's login could no longer be renewed
	// (its refresh token expired, or the service rejected it, for example
	// after a logout elsewhere). The session continues as a guest with the
	// same session ID; CustomerNumber says who was logged in.
	ReasonLoginEnded SessionChangeReason = "login-ended"
)

// SessionChange reports that a shopper's Emporix session ID changed. The
// guest cart is keyed by the session ID, so the application should move or
// merge the cart from OldSessionID to NewSessionID, or tell the shopper.
type SessionChange struct {
	// Key is the application's key of the session. It is a credential of
	// the shopper's browser session, so printed forms mask it.
	Key Secret
	// OldSessionID and NewSessionID are the Emporix session IDs.
	OldSessionID string
	NewSessionID string
	// Reason says why the session changed.
	Reason SessionChangeReason
	// CustomerNumber is the customer whose login ended, with
	// [ReasonLoginEnded]: read from the customer's SaaS token, empty when
	// that carries none.
	CustomerNumber string
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
	flights flightGroup
	pending pendingSaves
	known   knownSessions
	// mem is the store when it is a MemoryStore that reads the client's
	// clock: a token lookup then reads that clock once, for both.
	mem *MemoryStore
	// adoptWait is how long a refresh whose refresh token was rejected
	// waits for another writer's newer token to appear in a store that
	// does not lock (see renewCustomer).
	adoptWait time.Duration
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
	m := &SessionManager{client: c, store: store, cfg: cfg, adoptWait: defaultAdoptWait}
	if ms, ok := store.(*MemoryStore); ok && ms.followClock(c.now) {
		m.mem = ms
	}
	return m, nil
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
	// entry is where the session was last found in a MemoryStore.
	entry atomic.Pointer[memEntry]
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

// State returns the stored state without sending any request. A key with
// no session yet returns [ErrSessionNotFound].
func (s *Session) State(ctx context.Context) (*SessionState, error) {
	st, _, err := s.load(ctx)
	if err != nil {
		return nil, err
	}
	return st, nil
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

// LoggedIn reports whether a customer is logged in to the session, from the
// store alone: it sends no request, and a key with no session yet is not
// logged in.
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
// the anonymous token, refreshed first when due. Right after a customer
// login ended (see [ReasonLoginEnded]) the first call returns an error
// matching [ErrSessionExpired] instead of the anonymous token, so that a
// call meant for the customer does not silently answer for a guest; the
// calls after it get the anonymous token.
func (s *Session) Token(ctx context.Context) (*Token, error) {
	st, now, err := s.lookup(ctx)
	if err != nil && !errors.Is(err, ErrSessionNotFound) {
		return nil, err
	}
	if st != nil {
		if st.Customer != nil {
			if s.serve(ctx, st.Customer, now, flightCustomer) {
				return st.Customer, nil
			}
			return s.refreshCustomer(ctx, "", nil)
		}
		if st.EndedLogin != nil {
			return nil, s.endedLogin(ctx, st.EndedLogin)
		}
		if st.Anonymous != nil && s.serve(ctx, st.Anonymous, now, flightAnonymous) {
			return st.Anonymous, nil
		}
	}
	return s.refreshAnonymous(ctx, "")
}

// serve reports whether tok can be served as it is: any token that has not
// expired. Inside the refresh window a background refresh renews it, if its
// refresh token lives; callers do not wait for the token service as long as
// they hold a working token.
func (s *Session) serve(ctx context.Context, tok *Token, now time.Time, kind flightKind) bool {
	if !s.m.due(tok, now) {
		return true
	}
	if tok.ExpiredAt(now) {
		return false // the caller must wait: a new token, or a new session, is needed now
	}
	if !tok.RefreshExpiredAt(now) {
		s.m.start(ctx, renewal{s: s, kind: kind})
	}
	return true
}

// AnonymousToken implements [AnonymousTokenSource]: the session's anonymous
// token, refreshed first when due, also while a customer is logged in.
func (s *Session) AnonymousToken(ctx context.Context) (*Token, error) {
	st, now, err := s.lookup(ctx)
	if err != nil && !errors.Is(err, ErrSessionNotFound) {
		return nil, err
	}
	if st != nil && st.Anonymous != nil && s.serve(ctx, st.Anonymous, now, flightAnonymous) {
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
	if err := s.check(ctx); err != nil {
		return nil, 0, err
	}
	st, version, err := s.m.store.Load(ctx, s.key)
	return s.m.overlay(s.key, st, version, err)
}

// lookup loads the state for a token lookup and reads the clock, once for
// both when the store is a MemoryStore on the same clock.
func (s *Session) lookup(ctx context.Context) (*SessionState, time.Time, error) {
	if err := s.check(ctx); err != nil {
		return nil, time.Time{}, err
	}
	if ms := s.m.mem; ms != nil {
		now := s.m.client.now()
		hint := s.entry.Load()
		st, version, e, err := ms.loadAt(s.key, now, hint)
		if e != hint {
			s.entry.Store(e)
		}
		if s.m.pending.n.Load() != 0 {
			st, _, err = s.m.overlay(s.key, st, version, err)
		}
		return st, now, err
	}
	st, version, err := s.m.store.Load(ctx, s.key)
	st, _, err = s.m.overlay(s.key, st, version, err)
	return st, s.m.client.now(), err
}

// timeNow is the code of time.Now, to recognize a clock that is it.
var timeNow = reflect.ValueOf(time.Now).Pointer()

func isTimeNow(f func() time.Time) bool { return f != nil && reflect.ValueOf(f).Pointer() == timeNow }

// check refuses what no session method can work with, before any I/O.
func (s *Session) check(ctx context.Context) error {
	if ctx == nil {
		return invalid("context", "must not be nil")
	}
	if s.key == "" {
		return invalid("session key", "must not be empty")
	}
	return nil
}

// customerNumber reads the customer number from a customer token's SaaS
// token, a JWT whose payload names the customer ("customerNumber", else
// "sub"). The SDK only reads it to report whose login ended; nothing
// verifies it.
func customerNumber(t *Token) string {
	parts := strings.Split(string(t.SaasToken), ".")
	if len(parts) != 3 {
		return ""
	}
	payload, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return ""
	}
	var claims struct {
		CustomerNumber string `json:"customerNumber"`
		Sub            string `json:"sub"`
	}
	if json.Unmarshal(payload, &claims) != nil {
		return ""
	}
	return firstNonEmpty(claims.CustomerNumber, claims.Sub)
}

// due reports whether t should be refreshed at now: it is expired or inside
// its refresh window, min(refreshWindow, lifetime/10) less a per-token jitter.
// This runs on every request: a token outside the widest window is settled
// by one comparison, without the jitter's hash.
func (m *SessionManager) due(t *Token, now time.Time) bool {
	if t.AccessToken == "" {
		return true
	}
	// The same expiry as Token.ExpiredAt and the stores' deadlines: a
	// token without one (stored by an older release) lives its documented
	// lifetime from IssuedAt.
	expiry := t.Expiry
	if expiry.IsZero() {
		if expiry = t.accessDeadline(); expiry.IsZero() {
			return false
		}
	}
	if now.Before(expiry.Add(-m.cfg.refreshWindow)) {
		return false
	}
	window := m.cfg.refreshWindow
	if !t.IssuedAt.IsZero() {
		window = min(window, expiry.Sub(t.IssuedAt)/10)
	}
	window -= window * time.Duration(tokenJitter(string(t.AccessToken))) / 100
	return !now.Before(expiry.Add(-window))
}

// tokenJitter derives a stable 0–19 from the token, so every check of one
// token agrees while different sessions spread out.
func tokenJitter(access string) uint32 {
	h := fnv.New32a()
	_, _ = h.Write([]byte(access)) // does not escape: no allocation
	return h.Sum32() % 20
}

// NewSessionKey returns a random session key for a shopper's cookie: 128
// bits from crypto/rand, base64url-encoded.
func NewSessionKey() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// maxSaveAttempts bounds compare-and-swap retries against concurrent writers.
const maxSaveAttempts = 5

var errTooManyConflicts = fmt.Errorf("%w: gave up after %d attempts", ErrStoreConflict, maxSaveAttempts)

// refreshAnonymous renews the anonymous token, or starts the anonymous
// session. Only when the refresh token is expired or rejected does it log in
// anew, and then it reports the new session ID. rejected names an access
// token the service refused, which is renewed even if it looks valid.
// Its callers have loaded the state, so check has refused an empty key.
func (s *Session) refreshAnonymous(ctx context.Context, rejected Secret) (*Token, error) {
	return s.m.wait(ctx, renewal{s: s, kind: flightAnonymous, rejected: rejected})
}

// renewAnonymousLocked runs inside the anonymous flight of the session.
func (s *Session) renewAnonymousLocked(ctx context.Context, rejected Secret) (*Token, error) {
	m, c := s.m, s.m.client
	var next *Token
	var change *SessionChange
	var renewed *Token // the token next replaces
	for range maxSaveAttempts {
		st, version, err := s.load(ctx)
		if err != nil && !errors.Is(err, ErrSessionNotFound) {
			return nil, err
		}
		base := st
		if st == nil {
			st = &SessionState{}
		}
		cur := st.Anonymous
		if next != nil && sameToken(cur, next) {
			// Our save landed although the store answered a conflict: a
			// write retried after a lost reply (a timeout) finds its own
			// first attempt. The session is ours, and so is its report.
			return s.renewedAnonymous(ctx, next, change), nil
		}
		if next != nil && !sameToken(cur, renewed) {
			next, change = nil, nil // another writer renewed it meanwhile
		}
		if next == nil {
			now := c.now()
			if cur != nil && cur.AccessToken != rejected && !m.due(cur, now) {
				return cur, nil
			}
			next, change, err = s.renewAnonymous(ctx, cur, rejected, now)
			if err == errAdopted {
				return next, nil // another writer's newer token
			}
			if err != nil || next == cur {
				return next, err
			}
			renewed = cur
		}
		saved := &SessionState{Anonymous: next, Customer: st.Customer, EndedLogin: st.EndedLogin}
		if err := s.save(ctx, saved, base, version); errors.Is(err, ErrStoreConflict) {
			continue
		} else if err != nil {
			return nil, err
		}
		return s.renewedAnonymous(ctx, next, change), nil
	}
	return nil, errTooManyConflicts
}

// renewedAnonymous records the anonymous token next, which is now stored,
// as the session's known session ID and reports change, if any.
func (s *Session) renewedAnonymous(ctx context.Context, next *Token, change *SessionChange) *Token {
	s.m.known.set(s.key, next.SessionID)
	if change != nil {
		s.m.report(ctx, *change)
	}
	return next
}

// renewAnonymous refreshes cur, or logs in anew when there is no session or
// its refresh token is expired or rejected. A transient failure while cur is
// still usable returns cur.
func (s *Session) renewAnonymous(ctx context.Context, cur *Token, rejected Secret, now time.Time) (*Token, *SessionChange, error) {
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
		// A refresh token another writer spent first is rejected too:
		// take the token it saved rather than start a new session.
		if newer := s.awaitNewer(ctx, flightAnonymous, cur); newer != nil {
			return newer, nil, errAdopted
		}
		reason = ReasonRefreshRejected
	}
	next, err := auth.AnonymousLogin(ctx, s.m.cfg.context)
	if err != nil {
		return nil, nil, err
	}
	if cur == nil {
		return next, s.lostChange(ctx, next), nil
	}
	return next, s.change(cur, next, reason), nil
}

// errAdopted tells a renewal that it took another writer's newer token
// from the store instead of one of its own, so there is nothing to save.
var errAdopted = errors.New("emporix: adopted a newer stored token")

// defaultAdoptWait bounds how long a rejected refresh waits for another
// writer's newer token; see awaitNewer.
const defaultAdoptWait = 2 * time.Second

// awaitNewer returns a token of kind newer than cur from the store, or nil.
// A refresh token is rejected both when it is dead and when another writer
// (another manager, a replica) has just spent it in a concurrent refresh of
// a rotating token; in the second case that writer saves its new token
// moments later. Without a RefreshLocker such races are possible, and even
// with one when the lock expired while its holder could not renew it (a
// store outage), so the store is watched for up to adoptWait (real time:
// the winner's save does not follow the client's clock).
func (s *Session) awaitNewer(ctx context.Context, kind flightKind, cur *Token) *Token {
	deadline := time.Now().Add(s.m.adoptWait)
	pause := time.Millisecond
	for {
		st, _, err := s.load(ctx)
		if err == nil {
			t := st.Anonymous
			if kind == flightCustomer {
				t = st.Customer
			}
			if t != nil && !sameToken(t, cur) {
				return t
			}
			if t == nil && kind == flightCustomer {
				return nil // logged out or dropped meanwhile
			}
		}
		left := time.Until(deadline)
		if left <= 0 {
			return nil
		}
		timer := time.NewTimer(min(pause, left))
		select {
		case <-ctx.Done():
			timer.Stop()
			return nil
		case <-timer.C:
		}
		pause = min(2*pause, 50*time.Millisecond)
	}
}

func (s *Session) change(from, to *Token, reason SessionChangeReason) *SessionChange {
	return &SessionChange{Key: Secret(s.key), OldSessionID: from.SessionID, NewSessionID: to.SessionID, Reason: reason}
}

// report tells the application that a session ID changed: never silently.
func (m *SessionManager) report(ctx context.Context, change SessionChange) {
	m.client.logger.LogAttrs(ctx, slog.LevelWarn, "emporix: shopper session ID changed",
		slog.String("old_session_id", change.OldSessionID), slog.String("new_session_id", change.NewSessionID),
		slog.String("reason", string(change.Reason)))
	if m.client.observer.SessionChange != nil {
		m.client.observer.SessionChange(ctx, change)
	}
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
