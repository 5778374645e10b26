package emporix_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/emporix-go/emporix"
	"github.com/emporix-go/emporix/emporixtest"
)

// okTransport answers every request at once, so the benchmarks measure
// what the session's transport adds and nothing of the network.
type okTransport struct{}

func (okTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body != nil {
		_ = r.Body.Close()
	}
	return &http.Response{StatusCode: 200, Header: http.Header{}, Body: http.NoBody, Request: r}, nil
}

// BenchmarkSessionTransport: a cart request through Session.Transport, which
// looks the token up in the session and adds Authorization and session-id,
// against the anchor, the same request with the headers set by hand
// (what a storefront copying tokens out of the session does).
func BenchmarkSessionTransport(b *testing.B) {
	srv := emporixtest.NewServer()
	defer srv.Close()
	client, err := emporix.NewClient(srv.Tenant(), srv.ClientID(), srv.ClientOptions()...)
	if err != nil {
		b.Fatal(err)
	}
	sessions, err := emporix.NewSessionManager(client, emporix.NewMemoryStore())
	if err != nil {
		b.Fatal(err)
	}
	sess := sessions.Session(emporix.NewSessionKey())
	ctx := context.Background()
	anon, err := sess.AnonymousToken(ctx)
	if err != nil {
		b.Fatal(err)
	}
	target := srv.URL() + "/cart/" + srv.Tenant() + "/carts/x/items?siteCode=main"
	body := `{"itemYrn":"urn:x","quantity":1,"price":{"priceId":"p","originalAmount":1,"effectiveAmount":1,"currency":"EUR"}}`
	send := func(b *testing.B, hc *http.Client, by func(*http.Request)) {
		b.ReportAllocs()
		for b.Loop() {
			req, _ := http.NewRequestWithContext(ctx, http.MethodPost, target, strings.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			by(req)
			resp, err := hc.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			_ = resp.Body.Close()
		}
	}
	b.Run("anchor=headers-by-hand", func(b *testing.B) {
		send(b, &http.Client{Transport: okTransport{}}, func(r *http.Request) {
			r.Header.Set("Authorization", "Bearer "+string(anon.AccessToken))
			r.Header.Set("session-id", anon.SessionID)
		})
	})
	b.Run("session-transport", func(b *testing.B) {
		send(b, &http.Client{Transport: sess.Transport(okTransport{})}, func(*http.Request) {})
	})
}
