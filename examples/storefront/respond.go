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
	writeJSON(w, status, errorBody{Error: message})
}

// errorBody is every error answer: a message and, for refused input, what
// is wrong with which field, for the page to show next to its form fields.
type errorBody struct {
	Error  string               `json:"error"`
	Fields []emporix.FieldError `json:"fields,omitempty"`
}

// fail answers an SDK error with the matching status. The SDK's errors
// never hold tokens or passwords and mask e-mail addresses, so their text
// is safe to log and, for refused input, to show. Refused input, whether
// the SDK refused it before sending or the service answered 400, comes
// with its field errors.
func (s *shop) fail(w http.ResponseWriter, r *http.Request, err error) {
	var apiErr *emporix.APIError
	switch {
	case errors.Is(err, emporix.ErrInvalidInput):
		writeJSON(w, http.StatusBadRequest, errorBody{Error: err.Error(), Fields: emporix.FieldErrors(err)})
	case errors.Is(err, emporix.ErrCustomerTokenRequired):
		writeError(w, http.StatusUnauthorized, "log in first")
	case errors.Is(err, emporix.ErrSessionExpired):
		writeError(w, http.StatusUnauthorized, "your session expired: log in again")
	case errors.Is(err, emporix.ErrNotFound):
		writeError(w, http.StatusNotFound, "not found")
	case errors.Is(err, emporix.ErrConflict):
		writeError(w, http.StatusConflict, "changed meanwhile: reload and try again")
	case errors.Is(err, emporix.ErrBadRequest) && errors.As(err, &apiErr):
		writeJSON(w, http.StatusBadRequest, errorBody{Error: apiErr.Message, Fields: emporix.FieldErrors(err)})
	case r.Context().Err() != nil:
		// The shopper went away; nobody reads the answer.
	default:
		s.logger.ErrorContext(r.Context(), "emporix call failed", "method", r.Method, "path", r.URL.Path, "error", err)
		writeError(w, http.StatusBadGateway, "the shop cannot reach Emporix right now")
	}
}
