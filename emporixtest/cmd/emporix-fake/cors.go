package main

import (
	"net/http"
	"slices"
)

// withCORS lets browsers on the given origins call h: a frontend served
// from http://localhost:3000 calls the fake on another port, which is
// another origin. "*" allows any origin. With no origins, h is returned
// as is and browsers refuse cross-origin calls, as they would by default.
//
// The fake authorizes with bearer tokens, never cookies, so credentials
// are not allowed.
func withCORS(origins []string, h http.Handler) http.Handler {
	if len(origins) == 0 {
		return h
	}
	anyOrigin := slices.Contains(origins, "*")
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		origin := r.Header.Get("Origin")
		if origin == "" {
			h.ServeHTTP(w, r)
			return
		}
		allowed := anyOrigin || slices.Contains(origins, origin)
		preflight := r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != ""
		w.Header().Add("Vary", "Origin")
		if !allowed {
			if preflight {
				http.Error(w, "emporix-fake: origin not allowed (see -cors-origin)", http.StatusForbidden)
				return
			}
			h.ServeHTTP(w, r)
			return
		}
		if anyOrigin {
			w.Header().Set("Access-Control-Allow-Origin", "*")
		} else {
			w.Header().Set("Access-Control-Allow-Origin", origin)
		}
		if preflight {
			w.Header().Add("Vary", "Access-Control-Request-Method")
			w.Header().Add("Vary", "Access-Control-Request-Headers")
			w.Header().Set("Access-Control-Allow-Methods", "GET, POST, PUT, PATCH, DELETE")
			if hdrs := r.Header.Get("Access-Control-Request-Headers"); hdrs != "" {
				w.Header().Set("Access-Control-Allow-Headers", hdrs)
			}
			w.Header().Set("Access-Control-Max-Age", "600")
			w.WriteHeader(http.StatusNoContent)
			return
		}
		// Retry-After matters to a client deciding when to retry.
		w.Header().Set("Access-Control-Expose-Headers", "Retry-After")
		h.ServeHTTP(w, r)
	})
}
