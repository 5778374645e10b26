package main

import "net/http"

type sessionView struct {
	SessionID string `json:"sessionId"`
	LoggedIn  bool   `json:"loggedIn"`
}

// browse serves GET /. A guest's first visit starts an anonymous Emporix
// session; its session ID keys the guest cart and stays the same through
// token refreshes and the login.
func (s *shop) browse(w http.ResponseWriter, r *http.Request) {
	sess := s.session(w, r)
	id, err := sess.SessionID(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	loggedIn, err := sess.LoggedIn(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, sessionView{SessionID: id, LoggedIn: loggedIn})
}
