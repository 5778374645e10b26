package emporix

import "context"

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
// the shopper, and nil for a first visit.
func (s *Session) lostChange(ctx context.Context, next *Token) *SessionChange {
	old := RememberedSessionID(ctx)
	if old == "" || old == next.SessionID {
		return nil
	}
	return &SessionChange{Key: s.key, OldSessionID: old, NewSessionID: next.SessionID, Reason: ReasonSessionLost}
}
