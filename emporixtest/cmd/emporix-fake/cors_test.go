package main

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestCORS pins what withCORS answers a browser: the allowed origin (or *
// for any), Retry-After exposed to scripts, preflights answered without
// reaching the fake, other origins' preflights refused and their plain
// calls passed on without CORS headers (the browser then withholds the
// answer).
func TestCORS(t *testing.T) {
	var reached int
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reached++
		w.WriteHeader(http.StatusTeapot)
	})
	serve := func(origins []string, method string, header ...string) *httptest.ResponseRecorder {
		r := httptest.NewRequest(method, "http://fake/customer/acme/me", nil)
		for i := 0; i+1 < len(header); i += 2 {
			r.Header.Set(header[i], header[i+1])
		}
		w := httptest.NewRecorder()
		withCORS(origins, h).ServeHTTP(w, r)
		return w
	}
	shop := []string{"http://shop.test"}

	reached = 0
	w := serve(shop, "GET", "Origin", "http://shop.test")
	assert.Equal(t, http.StatusTeapot, w.Code)
	assert.Equal(t, "http://shop.test", w.Header().Get("Access-Control-Allow-Origin"))
	assert.Equal(t, "Retry-After", w.Header().Get("Access-Control-Expose-Headers"))
	assert.Equal(t, []string{"Origin"}, w.Header().Values("Vary"))

	w = serve([]string{"http://other.test", "*"}, "GET", "Origin", "http://shop.test")
	assert.Equal(t, "*", w.Header().Get("Access-Control-Allow-Origin"))

	w = serve(shop, "OPTIONS", "Origin", "http://shop.test", "Access-Control-Request-Method", "PATCH",
		"Access-Control-Request-Headers", "authorization")
	assert.Equal(t, http.StatusNoContent, w.Code)
	assert.Equal(t, "http://shop.test", w.Header().Get("Access-Control-Allow-Origin"))
	assert.Contains(t, w.Header().Get("Access-Control-Allow-Methods"), "PATCH")
	assert.Equal(t, "authorization", w.Header().Get("Access-Control-Allow-Headers"))
	assert.Equal(t, "600", w.Header().Get("Access-Control-Max-Age"))
	assert.Equal(t, []string{"Origin", "Access-Control-Request-Method", "Access-Control-Request-Headers"}, w.Header().Values("Vary"))
	assert.Equal(t, 2, reached, "a preflight does not reach the fake")

	w = serve(shop, "OPTIONS", "Origin", "http://evil.test", "Access-Control-Request-Method", "POST")
	assert.Equal(t, http.StatusForbidden, w.Code)
	assert.Empty(t, w.Header().Get("Access-Control-Allow-Origin"))
	w = serve(shop, "GET", "Origin", "http://evil.test")
	assert.Equal(t, http.StatusTeapot, w.Code)
	assert.Empty(t, w.Header().Get("Access-Control-Allow-Origin"))
	assert.Equal(t, 3, reached, "another origin's plain call reaches the fake, its preflight does not")

	for _, origins := range [][]string{nil, shop} {
		w = serve(origins, "GET")
		assert.Equal(t, http.StatusTeapot, w.Code)
		assert.Empty(t, w.Header(), "no CORS headers without CORS origins or without an Origin header")
	}
}
