package main

import (
	"fmt"
	"net/http"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/emporix-go/emporix"
	"github.com/emporix-go/emporix/emporixtest"
)

const (
	opAnonymousLogin   = "GET-oauth-generate-anonymous-access-token"
	opAnonymousRefresh = "GET-oauth-refresh-anonymous-access-token"
)

func tomato(tenant string) string { return "urn:yaas:saasag:caasproduct:product:" + tenant + ";tomato" }
func tea(tenant string) string    { return "urn:yaas:saasag:caasproduct:product:" + tenant + ";tea" }

func (s *shopper) addItem(t *testing.T, itemYrn string, quantity float64) cartView {
	t.Helper()
	var v cartView
	req := addItemRequest{ItemYrn: itemYrn, PriceID: "price-" + itemYrn[len(itemYrn)-3:], Amount: 4.99, Quantity: quantity}
	if err := s.call("POST", "/cart/items", req, http.StatusCreated, &v); err != nil {
		t.Fatal(err)
	}
	return v
}

func (s *shopper) mustCart(t *testing.T) cartView {
	t.Helper()
	var v cartView
	if err := s.call("GET", "/cart", nil, http.StatusOK, &v); err != nil {
		t.Fatal(err)
	}
	return v
}

// lines renders a cart's lines as "yrn×quantity", sorted.
func lines(items []cartLine) string {
	out := make([]string, 0, len(items))
	for _, it := range items {
		out = append(out, fmt.Sprintf("%s×%g", it.ItemYrn, it.Quantity))
	}
	sort.Strings(out)
	return strings.Join(out, " ")
}

func fakeLines(items []emporixtest.CartItem) string {
	out := make([]string, 0, len(items))
	for _, it := range items {
		out = append(out, fmt.Sprintf("%s×%g", it.ItemYrn, it.Quantity))
	}
	sort.Strings(out)
	return strings.Join(out, " ")
}

// TestCartSurvivesRefreshAndLogin: a guest fills a cart, the anonymous
// token expires and is refreshed, the guest logs in, and the customer's
// cart holds both items: one anonymous session all along.
func TestCartSurvivesRefreshAndLogin(t *testing.T) {
	forEachStore(t, func(t *testing.T, f *fixture) {
		T := f.fake.Tenant()
		f.fake.SetLifetimes(emporixtest.Lifetimes{AnonymousAccess: 2 * time.Second})
		sh := f.newShopper(t)
		guest := sh.mustBrowse(t)

		sh.addItem(t, tomato(T), 1)
		v := sh.addItem(t, tea(T), 2)
		want := tea(T) + "×2 " + tomato(T) + "×1"
		if got := lines(v.Items); got != want {
			t.Fatalf("guest cart %q, want %q", got, want)
		}

		f.fake.Advance(3 * time.Second) // the anonymous token has expired
		if got := lines(sh.mustCart(t).Items); got != want {
			t.Fatalf("guest cart after the refresh %q, want %q", got, want)
		}
		if n := len(f.fake.Requests(opAnonymousRefresh)); n != 1 {
			t.Errorf("%d anonymous refreshes, want 1", n)
		}
		if b := sh.mustBrowse(t); b.SessionID != guest.SessionID {
			t.Fatalf("session ID changed from %s to %s", guest.SessionID, b.SessionID)
		}

		in, err := sh.signupAndLogin("cart@example.com", "password123")
		if err != nil {
			t.Fatal(err)
		}
		if in.SessionID != guest.SessionID {
			t.Errorf("logged in on session %s, want %s", in.SessionID, guest.SessionID)
		}
		mine := sh.mustCart(t)
		if got := lines(mine.Items); got != want {
			t.Fatalf("customer cart %q, want %q", got, want)
		}
		carts := f.fake.Carts()
		if len(carts) != 1 || carts[0].CustomerNumber == "" || carts[0].ID != mine.CartID || fakeLines(carts[0].Items) != want {
			t.Errorf("carts at Emporix: %+v; want the customer's alone, the guest cart merged into it", carts)
		}
		if n := len(f.fake.Requests(opAnonymousLogin)); n != 1 {
			t.Errorf("%d anonymous logins, want 1: the guest session survived", n)
		}
	})
}

// TestCartMovesWhenTheSessionIsReplaced: when the anonymous refresh token
// has expired, the session starts anew under another session ID; the
// session-change hook records the move and the next cart call moves the
// guest cart there, read with the shop's service token.
func TestCartMovesWhenTheSessionIsReplaced(t *testing.T) {
	f := newFixture(t)
	T := f.fake.Tenant()
	f.fake.SetLifetimes(emporixtest.Lifetimes{AnonymousAccess: 2 * time.Second, AnonymousRefresh: 10 * time.Second})
	sh := f.newShopper(t)
	before := sh.mustBrowse(t)
	sh.addItem(t, tomato(T), 1)
	sh.addItem(t, tea(T), 2)
	want := tea(T) + "×2 " + tomato(T) + "×1"

	f.fake.Advance(11 * time.Second) // the anonymous refresh token has expired too
	if got := lines(sh.mustCart(t).Items); got != want {
		t.Fatalf("cart after the session was replaced %q, want %q\nlogs:\n%s", got, want, f.logs.String())
	}
	after := sh.mustBrowse(t)
	if after.SessionID == before.SessionID {
		t.Fatal("the session ID did not change; the test did not replace the session")
	}
	if !strings.Contains(f.logs.String(), "moved the guest cart of a replaced session") {
		t.Errorf("no move logged:\n%s", f.logs.String())
	}
	for _, k := range f.fake.Carts() {
		if k.SessionID == after.SessionID && fakeLines(k.Items) != want {
			t.Errorf("the new session's cart holds %q, want %q", fakeLines(k.Items), want)
		}
	}
	// The move happens once: another cart call adds nothing.
	if got := lines(sh.mustCart(t).Items); got != want {
		t.Errorf("cart on the next call %q, want %q", got, want)
	}

	if _, err := sh.signupAndLogin("moved@example.com", "password123"); err != nil {
		t.Fatal(err)
	}
	if got := lines(sh.mustCart(t).Items); got != want {
		t.Errorf("customer cart %q, want %q", got, want)
	}
}

func TestCartMovesRecordsOnlyReplacedSessions(t *testing.T) {
	m := newCartMoves()
	for reason, want := range map[emporix.SessionChangeReason]bool{
		emporix.ReasonRefreshExpired:  true,
		emporix.ReasonRefreshRejected: true,
		emporix.ReasonSessionLost:     true,
		emporix.ReasonServerAssigned:  false,
		emporix.ReasonLoginEnded:      false,
	} {
		m.record(emporix.SessionChange{Key: "k", OldSessionID: "old", NewSessionID: "new", Reason: reason})
		old, ok := m.take("k")
		if ok != want || ok && old != "old" {
			t.Errorf("%s: take = %q, %v; want a move: %v", reason, old, ok, want)
		}
	}
	// Two replacements before the next cart call: the first session holds
	// the cart.
	m.record(emporix.SessionChange{Key: "k", OldSessionID: "first", NewSessionID: "second", Reason: emporix.ReasonRefreshExpired})
	m.record(emporix.SessionChange{Key: "k", OldSessionID: "second", NewSessionID: "third", Reason: emporix.ReasonRefreshExpired})
	if old, _ := m.take("k"); old != "first" {
		t.Errorf("move from %q, want first", old)
	}
}

func TestCartRoutesRefuseBadInput(t *testing.T) {
	f := newFixture(t)
	sh := f.newShopper(t)
	if err := sh.call("POST", "/cart/items", addItemRequest{ItemYrn: "x", PriceID: "p", Quantity: 0}, http.StatusBadRequest, nil); err != nil {
		t.Error(err)
	}
	if got := sh.mustCart(t); len(got.Items) != 0 || got.CartID != "" {
		t.Errorf("a new shopper's cart: %+v", got)
	}
	if n := len(f.fake.Requests("POST-cart-create-cart")); n != 0 {
		t.Errorf("%d carts created for a refused item", n)
	}
}
