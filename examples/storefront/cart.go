package main

import (
	"context"
	"errors"
	"net/http"
	"sync"

	"github.com/emporix-go/emporix"
	"golang.org/x/oauth2"
)

// cartView is what GET /cart and POST /cart/items answer.
type cartView struct {
	CartID string     `json:"cartId,omitempty"`
	Items  []cartLine `json:"items"`
}

type addItemRequest struct {
	ItemYrn  string  `json:"itemYrn"`
	PriceID  string  `json:"priceId"`
	Amount   float64 `json:"amount"`
	Quantity float64 `json:"quantity"`
}

// getCart serves GET /cart: the guest's cart, or the customer's once
// logged in. A shopper without one has an empty cart.
func (s *shop) getCart(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	sess := s.session(w, r)
	o, err := s.cartOwner(ctx, sess)
	if err != nil {
		s.failCart(w, r, err)
		return
	}
	k, err := cartsOf(sess.Client(), sess.HTTPClient()).find(ctx, o)
	if errors.Is(err, errNoCart) {
		writeJSON(w, http.StatusOK, cartView{Items: []cartLine{}})
		return
	}
	if err != nil {
		s.failCart(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, cartView{CartID: k.ID, Items: k.Items})
}

// addToCart serves POST /cart/items {"itemYrn","priceId","amount","quantity"}.
func (s *shop) addToCart(w http.ResponseWriter, r *http.Request) {
	var req addItemRequest
	if !decode(w, r, &req) {
		return
	}
	if req.ItemYrn == "" || req.PriceID == "" || req.Quantity <= 0 || req.Amount < 0 {
		writeError(w, http.StatusBadRequest, "itemYrn, priceId, a positive quantity and an amount are required")
		return
	}
	ctx := r.Context()
	sess := s.session(w, r)
	o, err := s.cartOwner(ctx, sess)
	if err != nil {
		s.failCart(w, r, err)
		return
	}
	carts := cartsOf(sess.Client(), sess.HTTPClient())
	id, err := carts.ensure(ctx, o)
	if err == nil {
		price := cartPrice{PriceID: req.PriceID, OriginalAmount: req.Amount, EffectiveAmount: req.Amount, Currency: currency}
		err = carts.add(ctx, id, req.ItemYrn, req.Quantity, price)
	}
	var k *cart
	if err == nil {
		k, err = carts.find(ctx, o)
	}
	if err != nil {
		s.failCart(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, cartView{CartID: k.ID, Items: k.Items})
}

// cartOwner returns whose cart the shopper sees: the customer's once logged
// in, else the guest session's. Asking for the session ID first lets a
// replaced session's guest cart follow the shopper (see cartMoves).
func (s *shop) cartOwner(ctx context.Context, sess *emporix.Session) (owner, error) {
	sessionID, err := sess.SessionID(ctx)
	if err != nil {
		return owner{}, err
	}
	s.moveReplacedCart(ctx, sess, sessionID)
	in, err := sess.LoggedIn(ctx)
	if err != nil || !in {
		return owner{sessionID: sessionID}, err
	}
	p, err := sess.Client().Profile.Get(ctx, nil)
	if err != nil {
		return owner{}, err
	}
	return owner{customerNumber: p.CustomerNumber}, nil
}

// mergeGuestCart moves the guest cart of sessionID into the logged-in
// customer's cart. The guest cart is looked up with the session's anonymous
// token (emporix.WithTokenKind), the customer cart with the customer token
// and its saas-token, which the merge needs too.
func (s *shop) mergeGuestCart(ctx context.Context, sess *emporix.Session, sessionID string) error {
	carts := cartsOf(sess.Client(), sess.HTTPClient())
	guest, err := carts.find(emporix.WithTokenKind(ctx, emporix.KindAnonymous), owner{sessionID: sessionID})
	if errors.Is(err, errNoCart) || err == nil && len(guest.Items) == 0 {
		return nil
	}
	if err != nil {
		return err
	}
	p, err := sess.Client().Profile.Get(ctx, nil)
	if err != nil {
		return err
	}
	mine, err := carts.ensure(ctx, owner{customerNumber: p.CustomerNumber})
	if err != nil {
		return err
	}
	return carts.merge(ctx, mine, guest.ID)
}

// failCart answers a failed cart call.
func (s *shop) failCart(w http.ResponseWriter, r *http.Request, err error) {
	var se *cartStatusError
	if !errors.As(err, &se) {
		s.fail(w, r, err)
		return
	}
	switch se.Status {
	case http.StatusUnauthorized:
		writeError(w, http.StatusUnauthorized, "your session expired: reload the page")
	case http.StatusBadRequest:
		writeError(w, http.StatusBadRequest, se.Message)
	default:
		s.logger.ErrorContext(r.Context(), "cart call failed", "method", r.Method, "path", r.URL.Path, "error", err)
		writeError(w, http.StatusBadGateway, "the shop cannot reach the cart right now")
	}
}

// cartMoves remembers, per session key, the Emporix session ID a shopper had
// before the session had to be replaced (its anonymous refresh token
// expired or was rejected, or the store lost it). The guest cart is keyed by
// the session ID, so its items have to move to the new session's cart.
//
// The session-change hook only records the move: it runs inside the
// session's refresh, which other requests of the shopper may be waiting
// for, and must not call back into the session. The shop's next cart call
// for the shopper makes the move.
type cartMoves struct {
	mu   sync.Mutex
	from map[string]string // session key → the replaced session ID
}

func newCartMoves() *cartMoves { return &cartMoves{from: map[string]string{}} }

// record is the session-change hook's part: a guest whose session was
// replaced has a cart to move. A changed ID at login, or a login that ended,
// keeps the carts where they are.
func (m *cartMoves) record(ch emporix.SessionChange) {
	switch ch.Reason {
	case emporix.ReasonRefreshExpired, emporix.ReasonRefreshRejected, emporix.ReasonSessionLost:
	default:
		return
	}
	if ch.OldSessionID == "" || ch.OldSessionID == ch.NewSessionID {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	key := string(ch.Key)                    // the cookie's session key, a Secret so that it never prints
	if _, pending := m.from[key]; !pending { // the oldest session holds the cart
		m.from[key] = ch.OldSessionID
	}
}

func (m *cartMoves) take(key string) (string, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	old, ok := m.from[key]
	delete(m.from, key)
	return old, ok
}

// moveReplacedCart moves the items of the cart of the session sess
// replaced into the guest cart of its new session, sessionID. Only the
// tenant can read a cart of a session the shopper no longer holds a token
// for: the shop reads it with its service token, through
// emporix.OAuth2TokenSource and an oauth2 client. A move that fails before
// any line moved is tried again on the next cart call.
func (s *shop) moveReplacedCart(ctx context.Context, sess *emporix.Session, sessionID string) {
	if s.moves == nil {
		return
	}
	old, ok := s.moves.take(sess.Key())
	if !ok {
		return
	}
	if s.activation == nil {
		s.logger.WarnContext(ctx, "a shopper's session was replaced; without service credentials its guest cart stays behind",
			"old_session_id", old, "new_session_id", sessionID)
		return
	}
	tenant := oauth2.NewClient(ctx, emporix.OAuth2TokenSource(ctx, sess.Client().Employee.ServiceTokenSource(s.activation)))
	prev, err := cartsOf(sess.Client(), tenant).find(ctx, owner{sessionID: old})
	if errors.Is(err, errNoCart) || err == nil && len(prev.Items) == 0 {
		return
	}
	moved := 0
	if err == nil {
		guest := emporix.WithTokenKind(ctx, emporix.KindAnonymous)
		carts := cartsOf(sess.Client(), sess.HTTPClient())
		var id string
		if id, err = carts.ensure(guest, owner{sessionID: sessionID}); err == nil {
			for _, line := range prev.Items {
				if err = carts.add(guest, id, line.ItemYrn, line.Quantity, line.Price); err != nil {
					break
				}
				moved++
			}
		}
	}
	if err != nil && moved == 0 {
		s.moves.record(emporix.SessionChange{Key: emporix.Secret(sess.Key()), OldSessionID: old, NewSessionID: sessionID, Reason: emporix.ReasonRefreshExpired})
		s.logger.WarnContext(ctx, "moving a replaced session's guest cart failed; trying again on the next cart call", "error", err)
		return
	}
	if err != nil {
		// Trying again would add the moved lines twice.
		s.logger.ErrorContext(ctx, "moving a replaced session's guest cart stopped halfway; the rest stays in the old cart",
			"old_session_id", old, "new_session_id", sessionID, "moved_lines", moved, "error", err)
		return
	}
	s.logger.InfoContext(ctx, "moved the guest cart of a replaced session",
		"old_session_id", old, "new_session_id", sessionID, "lines", len(prev.Items))
}
