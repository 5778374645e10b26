package main

import (
	"context"
	"net/http"
	"time"

	"github.com/emporix-go/emporix"
)

// sessionCookie holds the shopper's session key: a random value that names
// the shopper's Session in the token store. The tokens themselves never
// leave the server.
const sessionCookie = "shop_session"

// cookieLifetime matches the customer token's 30 days; the store forgets a
// session earlier when its refresh tokens die, and the shopper then starts
// a new one under the same key.
const cookieLifetime = 30 * 24 * time.Hour

// session returns the shopper's session, giving a new shopper a cookie with
// a fresh key. The Emporix anonymous session starts on first use.
func (s *shop) session(w http.ResponseWriter, r *http.Request) *emporix.Session {
	if sess, ok := s.existingSession(r); ok {
		return sess
	}
	key := emporix.NewSessionKey()
	s.setCookie(w, r, key)
	return s.sessions.Session(key)
}

// existingSession returns the session named by the request's cookie, if it
// carries a well-formed key.
func (s *shop) existingSession(r *http.Request) (*emporix.Session, bool) {
	c, err := r.Cookie(sessionCookie)
	if err != nil || !wellFormedKey(c.Value) {
		return nil, false
	}
	return s.sessions.Session(c.Value), true
}

// renewKey moves the shopper's session to a fresh key and cookie, keeping
// its tokens and so its Emporix session ID. Called at login, it makes a key
// planted in the shopper's browser beforehand (session fixation) worthless.
func (s *shop) renewKey(ctx context.Context, w http.ResponseWriter, r *http.Request, old *emporix.Session) (*emporix.Session, error) {
	renewed, err := old.Rekey(ctx)
	if err != nil {
		return nil, err
	}
	s.setCookie(w, r, renewed.Key())
	return renewed, nil
}

func (s *shop) setCookie(w http.ResponseWriter, r *http.Request, key string) {
	http.SetCookie(w, &http.Cookie{
		Name:     sessionCookie,
		Value:    key,
		Path:     "/",
		MaxAge:   int(cookieLifetime / time.Second),
		HttpOnly: true,                 // out of reach of the page's scripts
		SameSite: http.SameSiteLaxMode, // not sent along with cross-site POSTs
		Secure:   s.secureCookies || r.TLS != nil,
	})
}

func (s *shop) clearCookie(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, &http.Cookie{
		Name: sessionCookie, Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: s.secureCookies || r.TLS != nil,
	})
}

// wellFormedKey accepts only values shaped like emporix.NewSessionKey's: 22
// base64url characters. Anything else gets a new session.
func wellFormedKey(v string) bool {
	if len(v) != 22 {
		return false
	}
	for _, c := range v {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '-', c == '_':
		default:
			return false
		}
	}
	return true
}
