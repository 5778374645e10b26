package main

import (
	"net/http"

	"github.com/emporix-go/emporix"
)

// loggedIn returns the session of a logged-in shopper, or answers 401.
func (s *shop) loggedIn(w http.ResponseWriter, r *http.Request) (*emporix.Session, bool) {
	sess, ok := s.existingSession(r)
	if !ok {
		writeError(w, http.StatusUnauthorized, "log in first")
		return nil, false
	}
	in, err := sess.LoggedIn(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return nil, false
	}
	if !in {
		writeError(w, http.StatusUnauthorized, "log in first")
		return nil, false
	}
	return sess, true
}

type profileView struct {
	CustomerNumber string            `json:"customerNumber"`
	FirstName      string            `json:"firstName"`
	LastName       string            `json:"lastName"`
	ContactEmail   string            `json:"contactEmail"`
	Addresses      []emporix.Address `json:"addresses"`
}

// profile serves GET /profile.
func (s *shop) profile(w http.ResponseWriter, r *http.Request) {
	sess, ok := s.loggedIn(w, r)
	if !ok {
		return
	}
	p, err := sess.Client().Profile.Get(r.Context(), &emporix.ProfileGetOptions{Expand: []string{"addresses"}})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, profileView{
		CustomerNumber: p.CustomerNumber, FirstName: p.FirstName, LastName: p.LastName,
		ContactEmail: p.ContactEmail, Addresses: p.Addresses,
	})
}

// listAddresses serves GET /addresses.
func (s *shop) listAddresses(w http.ResponseWriter, r *http.Request) {
	sess, ok := s.loggedIn(w, r)
	if !ok {
		return
	}
	list, err := sess.Client().Addresses.List(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, list)
}

// addAddress serves POST /addresses.
func (s *shop) addAddress(w http.ResponseWriter, r *http.Request) {
	sess, ok := s.loggedIn(w, r)
	if !ok {
		return
	}
	var a emporix.AddressCreate
	if !decode(w, r, &a) {
		return
	}
	id, err := sess.Client().Addresses.Create(r.Context(), &a)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, map[string]string{"id": id})
}

// deleteAddress serves DELETE /addresses/{id}.
func (s *shop) deleteAddress(w http.ResponseWriter, r *http.Request) {
	sess, ok := s.loggedIn(w, r)
	if !ok {
		return
	}
	if err := sess.Client().Addresses.Delete(r.Context(), r.PathValue("id")); err != nil {
		s.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
