package emporix

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
)

// The customer side of a Session: logins that attach a customer token to
// the shopper's anonymous session, its refresh, and logout.

// Login logs the customer in on this session: the request is authorized
// with the session's anonymous token, so the session ID (and the guest cart)
// carries over, and the customer token is stored with the session.
func (s *Session) Login(ctx context.Context, r *LoginRequest) (*Token, error) {
	return s.attach(ctx, func(ctx context.Context) (*Token, error) { return s.client.Auth.Login(ctx, r) })
}

// SocialLogin logs the customer in with a social-login code on this session,
// sending the session's ID in the session-id header. See [AuthService.SocialLogin].
func (s *Session) SocialLogin(ctx context.Context, r *SocialLoginRequest) (*Token, error) {
	return s.attach(ctx, func(ctx context.Context) (*Token, error) { return s.client.Auth.SocialLogin(ctx, r) })
}

// ExchangeToken logs the customer in on this session with an external
// identity provider's token. See [AuthService.ExchangeToken].
func (s *Session) ExchangeToken(ctx context.Context, r *ExchangeRequest) (*Token, error) {
	return s.attach(ctx, func(ctx context.Context) (*Token, error) { return s.client.Auth.ExchangeToken(ctx, r) })
}

// ConfirmOptIn completes a double opt-in sign-up and logs the new customer
// in on this session. See [AuthService.ConfirmOptIn].
func (s *Session) ConfirmOptIn(ctx context.Context, optInToken string) (*Token, error) {
	return s.attach(ctx, func(ctx context.Context) (*Token, error) { return s.client.Auth.ConfirmOptIn(ctx, optInToken) })
}

// attach runs a login and stores its customer token with the session. The
// login validates its input before anything is sent, and is authorized with
// the session's anonymous token, which starts the anonymous session if
// there is none yet: nothing is sent for a request that would be refused.
func (s *Session) attach(ctx context.Context, login func(context.Context) (*Token, error)) (*Token, error) {
	if err := s.check(ctx); err != nil {
		return nil, err
	}
	tok, err := login(ctx)
	if err != nil {
		return nil, err
	}
	var anon *Token
	if err := s.update(ctx, func(st *SessionState) *SessionState {
		anon = st.Anonymous
		return &SessionState{Anonymous: st.Anonymous, Customer: tok}
	}); err != nil {
		return nil, err
	}
	if anon != nil {
		s.m.known.set(s.key, anon.SessionID)
	}
	if anon != nil && anon.SessionID != "" && tok.SessionID != "" && tok.SessionID != anon.SessionID {
		s.m.report(ctx, *s.change(anon, tok, ReasonServerAssigned))
	}
	return tok, nil
}

// update applies change to the stored state with compare-and-swap retries.
// change returns nil to leave the state as it is.
func (s *Session) update(ctx context.Context, change func(*SessionState) *SessionState) error {
	for range maxSaveAttempts {
		st, version, err := s.load(ctx)
		if errors.Is(err, ErrSessionNotFound) {
			st, version = &SessionState{}, 0
		} else if err != nil {
			return err
		}
		next := change(st)
		if next == nil {
			return nil
		}
		base := st
		if version == 0 {
			base = nil
		}
		if err := s.save(ctx, next, base, version); !errors.Is(err, ErrStoreConflict) {
			return err
		}
	}
	return errTooManyConflicts
}

// SwitchLegalEntity rescopes the customer token to another legal entity the
// B2B customer is assigned to, through a customer-token refresh; later
// refreshes keep that scope. To leave the scope and return to the
// customer's own, unscoped token, call [Session.LeaveLegalEntity]: an empty
// legalEntityID is refused with a [*ValidationError].
func (s *Session) SwitchLegalEntity(ctx context.Context, legalEntityID string) (*Token, error) {
	if err := requireValue("legalEntityID", legalEntityID); err != nil {
		return nil, err
	}
	return s.rescope(ctx, &RefreshOptions{LegalEntityID: legalEntityID})
}

// LeaveLegalEntity returns a B2B customer from a legal entity's scope (see
// [Session.SwitchLegalEntity]) to the customer's own, unscoped token,
// through a customer-token refresh without legalEntityId
// ([RefreshOptions].LeaveLegalEntity); later refreshes send no scope. On an
// unscoped token it only refreshes. It returns an error matching
// [ErrSessionExpired] when no customer is logged in.
func (s *Session) LeaveLegalEntity(ctx context.Context) (*Token, error) {
	return s.rescope(ctx, &RefreshOptions{LeaveLegalEntity: true})
}

// rescope runs a customer-token refresh with opts of its own, never joining
// one already running, which would not rescope.
func (s *Session) rescope(ctx context.Context, opts *RefreshOptions) (*Token, error) {
	if err := s.check(ctx); err != nil {
		return nil, err
	}
	r := renewal{s: s, kind: flightCustomer, opts: opts, force: true}
	for {
		f, ours := s.m.start(ctx, r)
		tok, err := f.wait(ctx)
		// Joining a refresh another caller started would not switch: wait
		// for it, then run our own.
		if ours || ctx.Err() != nil {
			return tok, s.consumeEnded(ctx, err)
		}
	}
}

// Logout invalidates the customer token on the server and removes the
// session from the store, whatever the server says: a token the server
// already considers invalid is logged out too.
func (s *Session) Logout(ctx context.Context) error {
	st, _, err := s.load(ctx)
	if errors.Is(err, ErrSessionNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	var logoutErr error
	if st.Customer != nil {
		logoutErr = s.m.client.WithToken(st.Customer).Auth.Logout(ctx)
		var apiErr *APIError
		if errors.As(logoutErr, &apiErr) && apiErr.StatusCode == http.StatusUnauthorized {
			logoutErr = nil
		}
	}
	s.m.forget(s.key)
	if err := s.m.store.Delete(ctx, s.key); err != nil {
		return errors.Join(logoutErr, err)
	}
	return logoutErr
}

// refreshCustomer renews the customer token once per session at a time.
// rejected names an access token the service refused.
func (s *Session) refreshCustomer(ctx context.Context, rejected Secret, opts *RefreshOptions) (*Token, error) {
	tok, err := s.m.wait(ctx, renewal{s: s, kind: flightCustomer, rejected: rejected, opts: opts})
	return tok, s.consumeEnded(ctx, err)
}

// renewCustomer runs inside the customer flight. The refreshed token, whose
// refresh token may have rotated, is saved before anyone can use it.
func (s *Session) renewCustomer(ctx context.Context, rejected Secret, opts *RefreshOptions, force bool) (*Token, error) {
	m, c := s.m, s.m.client
	var next, renewed *Token
	for range maxSaveAttempts {
		st, version, err := s.load(ctx)
		if errors.Is(err, ErrSessionNotFound) || err == nil && st.Customer == nil {
			return nil, errNotLoggedIn
		}
		if err != nil {
			return nil, err
		}
		cur := st.Customer
		if next != nil && sameToken(cur, next) {
			return next, nil // our save landed although the store answered a conflict (a retried write)
		}
		if next != nil && !sameToken(cur, renewed) {
			next = nil // another writer changed the customer token meanwhile
			if !force {
				return cur, nil
			}
		}
		if next == nil {
			now := c.now()
			if !force && cur.AccessToken != rejected && !m.due(cur, now) {
				return cur, nil
			}
			// A token that is still valid and not refused is kept when it
			// cannot be renewed now; a refresh is worth it, not required.
			usable := !force && cur.AccessToken != rejected && !cur.ExpiredAt(now)
			if usable && cur.RefreshExpiredAt(now) {
				return cur, nil
			}
			// The refresh is authorized with the anonymous token, and a
			// customer who has to go keeps the guest session: renew the
			// anonymous token first. Its renewal saves the state, so the
			// save below then retries on the new version.
			if _, err := s.AnonymousToken(ctx); err != nil {
				return s.keepOr(ctx, usable, cur, err)
			}
			if cur.RefreshExpiredAt(now) {
				return nil, s.dropCustomer(ctx, cur, errRefreshExpired)
			}
			next, err = s.client.Auth.RefreshCustomer(ctx, cur, opts)
			switch {
			case err != nil && refreshRejected(err):
				// Another writer may have spent this rotating refresh
				// token first: take its token. The login is over only
				// when the stored token is the one rejected.
				if newer := s.awaitNewer(ctx, flightCustomer, cur); newer != nil {
					if !force {
						return newer, nil
					}
					continue // switch the legal entity on the newer token
				}
				return nil, s.dropCustomer(ctx, cur, err)
			case err != nil:
				return s.keepOr(ctx, usable, cur, err)
			}
			renewed = cur
		}
		saved := &SessionState{Anonymous: st.Anonymous, Customer: next}
		if err := s.save(ctx, saved, st, version); errors.Is(err, ErrStoreConflict) {
			continue
		} else if err != nil {
			return nil, err
		}
		return next, nil
	}
	return nil, errTooManyConflicts
}

var (
	errNotLoggedIn    = fmt.Errorf("%w: the shopper is not logged in", ErrSessionExpired)
	errRefreshExpired = errors.New("the customer refresh token expired")
)

// keepOr returns cur when it is still usable, logging the failed renewal,
// and err otherwise.
func (s *Session) keepOr(ctx context.Context, usable bool, cur *Token, err error) (*Token, error) {
	if !usable {
		return nil, err
	}
	s.m.client.logger.LogAttrs(ctx, slog.LevelWarn, "emporix: customer refresh failed; keeping the current token",
		slog.String("error", err.Error()))
	return cur, nil
}

// dropCustomer removes a customer token that can no longer be renewed,
// keeping the anonymous session, and returns the session-expired error.
// The state remembers the ended login until a call that needed the
// customer has been told (see consumeEnded), and the session-change hook
// hears of it once, from the writer that removed the token.
func (s *Session) dropCustomer(ctx context.Context, dead *Token, cause error) error {
	var ended, wrote *EndedLogin
	var anon *Token
	err := s.update(ctx, func(st *SessionState) *SessionState {
		ended, anon = nil, st.Anonymous
		if wrote != nil && st.Customer == nil && st.EndedLogin.same(wrote) {
			// Our save landed although the store answered a conflict
			// (a write retried after a lost reply): the report is ours.
			ended = wrote
			return nil
		}
		if !sameToken(st.Customer, dead) {
			return nil // replaced or removed meanwhile
		}
		ended = &EndedLogin{CustomerNumber: customerNumber(dead), At: s.m.client.now()}
		wrote = ended
		return &SessionState{Anonymous: st.Anonymous, EndedLogin: ended}
	})
	if ended != nil {
		sid := dead.SessionID
		if anon != nil && anon.SessionID != "" {
			sid = anon.SessionID
		}
		s.m.report(ctx, SessionChange{Key: Secret(s.key), OldSessionID: sid, NewSessionID: sid,
			Reason: ReasonLoginEnded, CustomerNumber: ended.CustomerNumber})
	}
	if err != nil {
		return fmt.Errorf("%w: the customer login ended (%w); forgetting it failed: %w", ErrSessionExpired, cause, err)
	}
	return &loginEndedError{ended: ended, cause: cause}
}

// loginEndedError is the session-expired error of an ended login: one line
// that wraps its cause. ended is the marker this writer stored, which the
// caller told of it consumes.
type loginEndedError struct {
	ended *EndedLogin
	cause error
}

func (e *loginEndedError) Error() string {
	if e.cause == nil {
		return ErrSessionExpired.Error() + ": the customer login ended"
	}
	return ErrSessionExpired.Error() + ": the customer login ended: " + e.cause.Error()
}

func (e *loginEndedError) Is(target error) bool { return target == ErrSessionExpired }
func (e *loginEndedError) Unwrap() error        { return e.cause }

// consumeEnded passes err on; when it reports an ended login, the marker it
// left in the state is cleared, since the caller is now told.
func (s *Session) consumeEnded(ctx context.Context, err error) error {
	if err == nil {
		return nil // before errors.As, whose target would escape on every call
	}
	var le *loginEndedError
	if errors.As(err, &le) && le.ended != nil {
		s.clearEnded(ctx, le.ended)
	}
	return err
}

// endedLogin tells the first call that needed the customer after a login
// ended elsewhere (a background refresh, another replica) that it ended,
// and clears the marker so the session continues as a guest.
func (s *Session) endedLogin(ctx context.Context, ended *EndedLogin) error {
	s.clearEnded(ctx, ended)
	return &loginEndedError{}
}

func (s *Session) clearEnded(ctx context.Context, ended *EndedLogin) {
	err := s.update(ctx, func(st *SessionState) *SessionState {
		if !st.EndedLogin.same(ended) {
			return nil
		}
		return &SessionState{Anonymous: st.Anonymous, Customer: st.Customer}
	})
	if err != nil {
		s.m.client.logger.LogAttrs(ctx, slog.LevelWarn, "emporix: clearing an ended login failed",
			slog.String("error", err.Error()))
	}
}

// Rekey moves the session to a fresh random key and returns its handle,
// keeping the tokens and so the Emporix session ID and the guest cart. Call
// it at login and store the new key in the shopper's cookie: a key planted
// in the browser beforehand (session fixation) then names nothing. The old
// key is forgotten. Run it where no other request of the same shopper is
// using the session, such as the login handler.
func (s *Session) Rekey(ctx context.Context) (*Session, error) {
	next := s.m.Session(NewSessionKey())
	st, _, err := s.load(ctx)
	if errors.Is(err, ErrSessionNotFound) {
		return next, nil // nothing to move: the session starts under the new key
	}
	if err != nil {
		return nil, err
	}
	if _, err := s.m.store.Save(ctx, next.key, st, 0); err != nil {
		return nil, err
	}
	s.m.forget(s.key)
	if st.Anonymous != nil {
		s.m.known.set(next.key, st.Anonymous.SessionID)
	}
	if err := s.m.store.Delete(ctx, s.key); err != nil {
		return nil, err
	}
	return next, nil
}
