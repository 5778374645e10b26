package storetest

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/emporix-go/emporix"
)

// state is a logged-in shopper's session numbered n, with every token
// field the SDK fills set and expiries relative to now. Its deadline is the
// customer refresh token's, 30 days after now.
func state(n int, now time.Time) *emporix.SessionState {
	now = now.UTC()
	id := fmt.Sprintf("storetest-session-%d", n)
	return &emporix.SessionState{
		Anonymous: &emporix.Token{
			Kind: emporix.KindAnonymous, AccessToken: emporix.Secret(fmt.Sprintf("storetest-SECRET-anon-at-%d", n)), TokenType: "Bearer",
			RefreshToken: emporix.Secret(fmt.Sprintf("storetest-SECRET-anon-rt-%d", n)), SessionID: id, Scope: "tenant=storetest",
			IssuedAt: now, Expiry: now.Add(time.Hour), RefreshExpiry: now.Add(24 * time.Hour),
		},
		Customer: &emporix.Token{
			Kind: emporix.KindCustomer, AccessToken: emporix.Secret(fmt.Sprintf("storetest-SECRET-cust-at-%d", n)), TokenType: "Bearer",
			RefreshToken: emporix.Secret(fmt.Sprintf("storetest-SECRET-cust-rt-%d", n)), SaasToken: emporix.Secret(fmt.Sprintf("storetest-SECRET-saas-%d", n)),
			SessionID: id, Scope: "tenant=storetest customer.customerprofile_edit",
			IssuedAt: now.Add(time.Second), Expiry: now.Add(time.Hour + 500*time.Millisecond),
			RefreshExpiry: now.Add(30 * 24 * time.Hour),
		},
	}
}

// expiring is a guest's session whose deadline is d after now.
func expiring(n int, now time.Time, d time.Duration) *emporix.SessionState {
	st := state(n, now)
	st.Customer = nil
	st.Anonymous.Expiry = now.Add(d / 2).UTC()
	st.Anonymous.RefreshExpiry = now.Add(d).UTC()
	return st
}

// diff describes how got differs from want, or returns "". Times compare
// as instants, so a store may return them in another location.
func diff(want, got *emporix.SessionState) string {
	var out []string
	tokenDiff := func(name string, w, g *emporix.Token) {
		switch {
		case w == nil && g == nil:
			return
		case w == nil || g == nil:
			out = append(out, fmt.Sprintf("%s: want present=%v, got present=%v", name, w != nil, g != nil))
			return
		}
		// Secrets are compared without being printed.
		same := func(field string, a, b string, secret bool) {
			if a == b {
				return
			}
			if secret {
				out = append(out, fmt.Sprintf("%s.%s differs (a secret, not shown)", name, field))
			} else {
				out = append(out, fmt.Sprintf("%s.%s = %q, want %q", name, field, b, a))
			}
		}
		sameTime := func(field string, a, b time.Time) {
			if !a.Equal(b) {
				out = append(out, fmt.Sprintf("%s.%s = %v, want %v", name, field, b, a))
			}
		}
		same("Kind", w.Kind.String(), g.Kind.String(), false)
		same("AccessToken", string(w.AccessToken), string(g.AccessToken), true)
		same("TokenType", w.TokenType, g.TokenType, false)
		same("RefreshToken", string(w.RefreshToken), string(g.RefreshToken), true)
		same("SaasToken", string(w.SaasToken), string(g.SaasToken), true)
		same("SessionID", w.SessionID, g.SessionID, false)
		same("Scope", w.Scope, g.Scope, false)
		same("LegalEntityID", w.LegalEntityID, g.LegalEntityID, false)
		sameTime("IssuedAt", w.IssuedAt, g.IssuedAt)
		sameTime("Expiry", w.Expiry, g.Expiry)
		sameTime("RefreshExpiry", w.RefreshExpiry, g.RefreshExpiry)
		same("SessionIdleTime", w.SessionIdleTime.String(), g.SessionIdleTime.String(), false)
		same("InitialPassword", fmt.Sprint(w.InitialPassword), fmt.Sprint(g.InitialPassword), false)
		same("SocialAccessToken", string(w.SocialAccessToken), string(g.SocialAccessToken), true)
		same("SocialIDToken", string(w.SocialIDToken), string(g.SocialIDToken), true)
	}
	if (want == nil) != (got == nil) {
		return fmt.Sprintf("want state present=%v, got present=%v", want != nil, got != nil)
	}
	if want == nil {
		return ""
	}
	tokenDiff("Anonymous", want.Anonymous, got.Anonymous)
	tokenDiff("Customer", want.Customer, got.Customer)
	switch w, g := want.EndedLogin, got.EndedLogin; {
	case (w == nil) != (g == nil):
		out = append(out, fmt.Sprintf("EndedLogin: want present=%v, got present=%v", w != nil, g != nil))
	case w != nil && (w.CustomerNumber != g.CustomerNumber || !w.At.Equal(g.At)):
		out = append(out, fmt.Sprintf("EndedLogin = {%q %v}, want {%q %v}", g.CustomerNumber, g.At, w.CustomerNumber, w.At))
	}
	return strings.Join(out, "; ")
}

func mustSave(t *testing.T, st emporix.TokenStore, key string, s *emporix.SessionState, expected uint64) uint64 {
	t.Helper()
	ctx, cancel := bounded()
	defer cancel()
	v, err := st.Save(ctx, key, s, expected)
	if err != nil {
		t.Fatalf("Save(%q, expected %d): %v", key, expected, err)
	}
	return v
}

// expectState fails t unless key holds want at version.
func expectState(t *testing.T, st emporix.TokenStore, key string, want *emporix.SessionState, version uint64) {
	t.Helper()
	ctx, cancel := bounded()
	defer cancel()
	got, v, err := st.Load(ctx, key)
	if err != nil {
		t.Fatalf("Load(%q): %v", key, err)
	}
	if v != version {
		t.Errorf("Load(%q) version = %d, want %d (the version its Save returned)", key, v, version)
	}
	if d := diff(want, got); d != "" {
		t.Errorf("Load(%q) returned another state than was saved: %s", key, d)
	}
}
