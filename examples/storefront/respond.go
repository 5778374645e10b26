package main

import (
	"encoding/json"
	"errors"
	"net/http"

	"github.com/emporix-go/emporix"
)

const maxRequestBody = 64 << 10

// decode reads a JSON request body into v, or answers 400.
func decode(w http.ResponseWriter, r *http.Request, v any) bool {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxRequestBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		writeError(w, http.StatusBadRequest, "malformed JSON body")
		return false
	}
	return true
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, status int, message string) {
	writeJSON(w, status, map[string]string{"error": message})
}

// fail answers an SDK error with the matching status. The SDK's errors
// never hold tokens or passwords, so their text is safe to log and, for
// refused input, to show.
func (s *shop) fail(w http.ResponseWriter, r *http.Request, err error) {
	var apiErr *emporix.APIError
	switch {
	case errors.Is(err, emporix.ErrInvalidInput):
		writeError(w, http.StatusBadRequest, err.Error())
	case errors.Is(err, emporix.ErrCustomerTokenRequired):
		writeError(w, http.StatusUnauthorized, "log in first")
	case errors.Is(err, emporix.ErrSessionExpired):
		writeError(w, http.StatusUnauthorized, "your session expired: log in again")
	case errors.Is(err, emporix.ErrNotFound):
		writeError(w, http.StatusNotFound, "not found")
	case errors.Is(err, emporix.ErrConflict):
		writeError(w, http.StatusConflict, "changed meanwhile: reload and try again")
	case errors.Is(err, emporix.ErrBadRequest) && errors.As(err, &apiErr):
		writeError(w, http.StatusBadRequest, apiErr.Message)
	case r.Context().Err() != nil:
		// The shopper went away; nobody reads the answer.
	default:
		s.logger.ErrorContext(r.Context(), "emporix call failed", "method", r.Method, "path", r.URL.Path, "error", err)
		writeError(w, http.StatusBadGateway, "the shop cannot reach Emporix right now")
	}
}
