package main

import (
	"errors"
	"net/http"

	"github.com/emporix-go/emporix"
)

type signupRequest struct {
	Email     string `json:"email"`
	Password  string `json:"password"`
	FirstName string `json:"firstName"`
	LastName  string `json:"lastName"`
}

type signupResponse struct {
	CustomerNumber string `json:"customerNumber"`
	Activated      bool   `json:"activated"`
}

// signup serves POST /signup. Sign-up does not log in; on tenants that keep
// new accounts inactive the shop activates the account with its service
// credentials (WithActivation).
func (s *shop) signup(w http.ResponseWriter, r *http.Request) {
	var req signupRequest
	if !decode(w, r, &req) {
		return
	}
	ctx := r.Context()
	client := s.session(w, r).Client()
	number, err := client.Auth.Signup(ctx, &emporix.SignupRequest{
		Email:    req.Email,
		Password: emporix.Secret(req.Password),
		CustomerDetails: &emporix.CustomerDetails{
			FirstName: req.FirstName, LastName: req.LastName, ContactEmail: req.Email,
		},
	})
	if errors.Is(err, emporix.ErrConflict) {
		writeError(w, http.StatusConflict, "an account with this e-mail exists already")
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if s.activation != nil {
		// A real shop would cache the service token until it expires.
		svc, err := client.Employee.ServiceToken(ctx, s.activation)
		if err == nil {
			err = client.Employee.ActivateCustomer(ctx, svc, number)
		}
		if err != nil {
			s.fail(w, r, err)
			return
		}
	}
	writeJSON(w, http.StatusCreated, signupResponse{CustomerNumber: number, Activated: s.activation != nil})
}

type loginRequest struct {
	Email    string `json:"email"`
	Password string `json:"password"`
}

// login serves POST /login. The login is authorized with the session's
// anonymous token, so the Emporix session ID, and the guest cart keyed by
// it, carry over; the cookie gets a fresh key, and the guest cart is merged
// into the customer's.
func (s *shop) login(w http.ResponseWriter, r *http.Request) {
	var req loginRequest
	if !decode(w, r, &req) {
		return
	}
	ctx := r.Context()
	sess, ok := s.existingSession(r)
	if ok {
		// A replaced session's guest cart moves before the key changes.
		sessionID, err := sess.SessionID(ctx)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		s.moveReplacedCart(ctx, sess, sessionID)
		if sess, err = s.renewKey(ctx, w, r, sess); err != nil {
			s.fail(w, r, err)
			return
		}
	} else {
		sess = s.session(w, r) // a fresh key already
	}
	tok, err := sess.Login(ctx, &emporix.LoginRequest{Email: req.Email, Password: emporix.Secret(req.Password)})
	if errors.Is(err, emporix.ErrUnauthorized) {
		writeError(w, http.StatusUnauthorized, "wrong e-mail or password, or the account is not active")
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.moveReplacedCart(ctx, sess, tok.SessionID)
	if err := s.mergeGuestCart(ctx, sess, tok.SessionID); err != nil {
		// The login stands; the guest cart stays where it is, and the next
		// login merges it.
		s.logger.WarnContext(ctx, "merging the guest cart into the customer's failed", "error", err)
	}
	writeJSON(w, http.StatusOK, sessionView{SessionID: tok.SessionID, LoggedIn: true})
}

// logout serves POST /logout: the customer token is invalidated at Emporix
// and the session leaves the store. The next visit starts a new one.
func (s *shop) logout(w http.ResponseWriter, r *http.Request) {
	if sess, ok := s.existingSession(r); ok {
		if err := sess.Logout(r.Context()); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	s.clearCookie(w, r)
	writeJSON(w, http.StatusOK, sessionView{})
}
