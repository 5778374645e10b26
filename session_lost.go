package emporix

import (
	"context"
	"sync"
)

// ReasonSessionLost: the store had no session under the key, although the
// shopper had one (the store evicted or lost it, or it was restarted
// without keeping its sessions), so a new anonymous session was started.
// The SDK knows the shopper had a session only when the application tells
// it with [RememberSessionID]; OldSessionID is that remembered ID.
const ReasonSessionLost SessionChangeReason = "session-lost"

type rememberedSessionIDKey struct{}

// RememberSessionID returns a context that carries the Emporix session ID
// the shopper last had, as the application remembers it outside the
// [TokenStore]. Keep the session ID (from [Session.SessionID], or the
// NewSessionID of the last [SessionChange]) in the shopper's cookie beside
// the session key, and pass it with every request of that shopper:
//
//	ctx := emporix.RememberSessionID(r.Context(), cookie.SessionID)
//	tok, err := sessions.Session(cookie.Key).Token(ctx)
//
// When the store has forgotten the session and a new one must be started,
// the session-change hook ([WithSessionChangeHook]) is then called with
// [ReasonSessionLost], the remembered ID as OldSessionID and the new one as
// NewSessionID, like any other forced change, so the guest cart can be
// moved; the hook can read the ID from its context with
// [RememberedSessionID] too. Without it a forgotten session cannot be told
// from a shopper's first visit, and nothing is reported. An empty
// sessionID leaves ctx as it is.
func RememberSessionID(ctx context.Context, sessionID string) context.Context {
	if sessionID == "" {
		return ctx
	}
	return context.WithValue(ctx, rememberedSessionIDKey{}, sessionID)
}

// RememberedSessionID returns the session ID [RememberSessionID] put in
// ctx, or "".
func RememberedSessionID(ctx context.Context) string {
	id, _ := ctx.Value(rememberedSessionIDKey{}).(string)
	return id
}

// lostChange reports a session started because the store had none under
// the key: a change when the application remembered another session ID for
// the shopper, or this process served the key before, and nil for a first
// visit.
func (s *Session) lostChange(ctx context.Context, next *Token) *SessionChange {
	old := RememberedSessionID(ctx)
	if old == "" {
		old = s.m.known.get(s.key)
	}
	if old == "" || old == next.SessionID {
		return nil
	}
	return &SessionChange{Key: Secret(s.key), OldSessionID: old, NewSessionID: next.SessionID, Reason: ReasonSessionLost}
}

// maxKnownSessions bounds the session IDs a manager remembers: about 100
// bytes each.
const maxKnownSessions = 100_000

// knownSessions remembers the session ID this process last saved under a
// key, so that a store that comes back without the session (restarted
// empty, flushed) does not end it silently: the new session is reported
// with ReasonSessionLost and the old ID. It is written when tokens are
// renewed or a customer logs in, never on a plain lookup, and forgets a key
// the process logged out or moved. When full it forgets an arbitrary key.
type knownSessions struct {
	mu sync.Mutex
	m  map[string]string
}

func (k *knownSessions) get(key string) string {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.m[key]
}

func (k *knownSessions) set(key, sessionID string) {
	if sessionID == "" {
		return
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.m == nil {
		k.m = make(map[string]string)
	}
	if _, ok := k.m[key]; !ok && len(k.m) >= maxKnownSessions {
		for other := range k.m {
			delete(k.m, other)
			break
		}
	}
	k.m[key] = sessionID
}

func (k *knownSessions) forget(key string) {
	k.mu.Lock()
	delete(k.m, key)
	k.mu.Unlock()
}
