package emporixtest

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// The cart stand-in: five operations of the Cart Service, enough for a
// storefront's guest cart, its customer cart and the merge after login.
// It authorizes like the service: the gateway checks the bearer first (an
// unknown or expired token is its 401 fault), then the cart checks that the
// shopper may reach the cart. A guest cart belongs to a session ID and is
// reachable only with a token of that session; a customer cart belongs to a
// customer number and is reachable only with that customer's token.

// cart is a stored cart.
type cart struct {
	id          string
	siteCode    string
	currency    string
	typ         string
	sessionID   string // guest carts
	customer    string // customer carts: the customer number
	legalEntity string
	channel     *cartChannel
	items       []*cartItem
	nextItem    int
	version     int
	created     time.Time
	modified    time.Time
}

// cartItem is one line of a cart.
type cartItem struct {
	id       string
	yrn      string // the product's itemYrn
	quantity float64
	price    cartPrice
	separate bool // keepAsSeparateLineItem
}

type cartChannel struct {
	Name   string `json:"name,omitempty"`
	Source string `json:"source,omitempty"`
}

// cartPrice is the spec's priceRowItem.
type cartPrice struct {
	PriceID         string  `json:"priceId"`
	OriginalAmount  float64 `json:"originalAmount"`
	EffectiveAmount float64 `json:"effectiveAmount"`
	Currency        string  `json:"currency"`
}

// cartErrorBody is the Cart Service's ErrorMessage: {code, status, message},
// unlike the Customer Service's {status, type, message}.
type cartErrorBody struct {
	Code    int    `json:"code"`
	Status  string `json:"status"`
	Message string `json:"message"`
}

func cartError(status int, msg string) reply {
	return jsonReply(status, cartErrorBody{Code: status, Status: http.StatusText(status), Message: msg})
}

// cartForbidden is the cart spec's 403 example.
func cartForbidden() reply { return cartError(http.StatusForbidden, "User not authorized.") }

func cartNotFound(id string) reply {
	return cartError(http.StatusNotFound, "Cart with code "+id+" not found.")
}

// shopper is who a cart request is made for: the session of the bearer
// and, with a customer token, the customer; or, with a service token, the
// tenant itself.
type shopper struct {
	sessionID string
	customer  string
	service   bool
}

// cartShopper checks the session-id header against the bearer: a header
// naming another session than the shopper's token's reaches nothing. With a
// service token the header names the guest session a cart is made for.
func (s *Server) cartShopper(c *call) (shopper, *reply) {
	h := c.req.Header.Values("session-id")
	if c.token.kind == KindService {
		sh := shopper{service: true}
		if len(h) == 1 {
			sh.sessionID = h[0]
		}
		return sh, nil
	}
	sh := shopper{sessionID: c.token.sessionID}
	if c.token.kind == KindCustomer {
		sh.customer = c.token.customer
	}
	if len(h) > 0 && (len(h) > 1 || h[0] != sh.sessionID) {
		rep := cartForbidden()
		return sh, &rep
	}
	return sh, nil
}

// reaches reports whether the shopper may use cart k: a service token
// reaches every cart of the tenant.
func (sh shopper) reaches(k *cart) bool {
	switch {
	case sh.service:
		return true
	case k.customer != "":
		return sh.customer == k.customer
	}
	return sh.sessionID != "" && sh.sessionID == k.sessionID
}

// cartOf finds the cart of the path and checks that the shopper reaches it.
func (s *Server) cartOf(c *call) (*cart, shopper, *reply) {
	sh, rep := s.cartShopper(c)
	if rep != nil {
		return nil, sh, rep
	}
	k := s.st.carts[c.param("cartId")]
	if k == nil {
		rep := cartNotFound(c.param("cartId"))
		return nil, sh, &rep
	}
	if !sh.reaches(k) {
		rep := cartForbidden()
		return nil, sh, &rep
	}
	return k, sh, nil
}

// decodeCartBody decodes a JSON request body into v, answering 400 in the
// cart's shape when it is not JSON of the right types.
func decodeCartBody(c *call, v any) *reply {
	if len(bytes.TrimSpace(c.body)) == 0 {
		return nil
	}
	if mt, _, err := mime.ParseMediaType(c.req.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		rep := cartError(http.StatusUnsupportedMediaType, "Content-Type '"+c.req.Header.Get("Content-Type")+"' is not supported.")
		return &rep
	}
	if err := json.Unmarshal(c.body, v); err != nil {
		rep := cartError(http.StatusBadRequest, "The request body is not valid JSON of the expected types.")
		return &rep
	}
	return nil
}

// createCart serves POST /cart/{tenant}/carts. A guest cart needs the
// anonymous token and the session-id header of its session; a customer
// cart needs the customer token and the customer's saas-token header. One
// open cart per site, type, legal entity and owner: another answers 409.
func (s *Server) createCart(c *call) reply {
	sh, rep := s.cartShopper(c)
	if rep != nil {
		return *rep
	}
	var body struct {
		CustomerID    string       `json:"customerId"`
		Currency      string       `json:"currency"`
		LegalEntityID string       `json:"legalEntityId"`
		SiteCode      *string      `json:"siteCode"`
		Type          string       `json:"type"`
		Channel       *cartChannel `json:"channel"`
	}
	if rep := decodeCartBody(c, &body); rep != nil {
		return *rep
	}
	if !currencyCode(body.Currency) {
		return cartError(http.StatusBadRequest, "currency must be a three-letter ISO 4217 code.")
	}
	k := &cart{currency: body.Currency, siteCode: "default", typ: body.Type, legalEntity: body.LegalEntityID, channel: body.Channel}
	if body.SiteCode != nil {
		k.siteCode = *body.SiteCode
	}
	switch c.token.kind {
	case KindService:
		// The tenant makes a cart for a guest session (session-id) or a
		// customer (customerId).
		switch {
		case sh.sessionID != "" && body.CustomerID == "":
			k.sessionID = sh.sessionID
		case sh.sessionID == "" && body.CustomerID != "":
			k.customer = body.CustomerID
		default:
			return cartError(http.StatusBadRequest, "Give either the session-id header or customerId.")
		}
	case KindAnonymous:
		if c.req.Header.Get("session-id") == "" {
			return cartError(http.StatusBadRequest, "The session-id header is required for an anonymous customer's cart.")
		}
		if body.CustomerID != "" {
			return cartForbidden()
		}
		k.sessionID = sh.sessionID
	case KindCustomer:
		saas := c.req.Header.Get("saas-token")
		if saas == "" {
			return cartError(http.StatusBadRequest, "The saas-token header is required for a customer's cart.")
		}
		if saasSubject(saas) != sh.customer || (body.CustomerID != "" && body.CustomerID != sh.customer) {
			return cartForbidden()
		}
		k.customer = sh.customer
	}
	if s.findCart(k.siteCode, k.typ, k.legalEntity, k.sessionID, k.customer) != nil {
		return cartError(http.StatusConflict, "A cart of this type already exists for the customer.")
	}
	s.storeCart(k)
	created := jsonReply(http.StatusCreated, map[string]string{"cartId": k.id, "yrn": s.cartYrn(k)})
	created.header = http.Header{"Location": {"/cart/" + s.cfg.tenant + "/carts/" + k.id}, "Version": {strconv.Itoa(k.version)}}
	return created
}

// findCartByCriteria serves GET /cart/{tenant}/carts: the one cart of the
// site, type and legal entity (absent means none) of sessionId or
// customerId, which must be the shopper's own (any, for a service token). create=true creates it when
// missing.
func (s *Server) findCartByCriteria(c *call) reply {
	sh, rep := s.cartShopper(c)
	if rep != nil {
		return *rep
	}
	q := c.query
	site, session, customer := q.Get("siteCode"), q.Get("sessionId"), q.Get("customerId")
	switch {
	case site == "":
		return cartError(http.StatusBadRequest, "siteCode is required.")
	case session == "" && customer == "":
		return cartError(http.StatusBadRequest, "sessionId or customerId is required.")
	case session != "" && customer != "":
		return cartError(http.StatusBadRequest, "Give either sessionId or customerId, not both.")
	case !sh.service && (session != "" && session != sh.sessionID || customer != "" && customer != sh.customer):
		return cartForbidden()
	}
	k := s.findCart(site, q.Get("type"), q.Get("legalEntityId"), session, customer)
	if k == nil {
		if q.Get("create") != "true" {
			return cartError(http.StatusNotFound, "Cart not found.")
		}
		k = &cart{siteCode: site, typ: q.Get("type"), legalEntity: q.Get("legalEntityId"), sessionID: session, customer: customer}
		s.storeCart(k)
	}
	return jsonReply(http.StatusOK, s.cartJSON(k))
}

// getCart serves GET /cart/{tenant}/carts/{cartId}.
func (s *Server) getCart(c *call) reply {
	k, _, rep := s.cartOf(c)
	if rep != nil {
		return *rep
	}
	return jsonReply(http.StatusOK, s.cartJSON(k))
}

// cartItemBody is the part of cartItemRequest the fake keeps.
type cartItemBody struct {
	ItemYrn                string     `json:"itemYrn"`
	Quantity               *float64   `json:"quantity"`
	Price                  *cartPrice `json:"price"`
	KeepAsSeparateLineItem bool       `json:"keepAsSeparateLineItem"`
	ItemType               string     `json:"itemType"`
}

// addCartItem serves POST /cart/{tenant}/carts/{cartId}/items. The same
// product at the same price adds to its line unless either asks to stay
// separate.
func (s *Server) addCartItem(c *call) reply {
	k, _, rep := s.cartOf(c)
	if rep != nil {
		return *rep
	}
	if c.query.Get("siteCode") == "" {
		return cartError(http.StatusBadRequest, "siteCode is required.")
	}
	var body cartItemBody
	if rep := decodeCartBody(c, &body); rep != nil {
		return *rep
	}
	switch {
	case body.ItemType == "EXTERNAL":
		return cartError(http.StatusBadRequest, "External items are not supported by this stand-in.")
	case body.ItemYrn == "":
		return cartError(http.StatusBadRequest, "itemYrn is required.")
	case body.Quantity == nil || *body.Quantity <= 0:
		return cartError(http.StatusBadRequest, "quantity must be positive.")
	case body.Price == nil || body.Price.PriceID == "" || len(body.Price.Currency) != 3 ||
		body.Price.OriginalAmount < 0 || body.Price.EffectiveAmount < 0:
		return cartError(http.StatusBadRequest, "price needs priceId, originalAmount, effectiveAmount and currency.")
	}
	it := k.add(&cartItem{yrn: body.ItemYrn, quantity: *body.Quantity, price: *body.Price, separate: body.KeepAsSeparateLineItem}, s.now())
	created := jsonReply(http.StatusCreated, map[string]string{"itemId": it.id, "yrn": s.cartYrn(k) + ";" + it.id})
	created.header = http.Header{"Location": {"/cart/" + s.cfg.tenant + "/carts/" + k.id + "/items/" + it.id}}
	return created
}

// mergeCarts serves POST /cart/{tenant}/carts/{cartId}/merge: the guest
// carts named in the body move into the customer's cart and are gone. The
// path names the customer's own cart; each guest cart must be of the
// customer token's session (the one the customer logged in on).
func (s *Server) mergeCarts(c *call) reply {
	k, sh, rep := s.cartOf(c)
	if rep != nil {
		return *rep
	}
	if k.customer == "" {
		return cartForbidden()
	}
	var body struct {
		Carts []string `json:"carts"`
	}
	if rep := decodeCartBody(c, &body); rep != nil {
		return *rep
	}
	if len(body.Carts) == 0 {
		return cartError(http.StatusBadRequest, "carts must name at least one cart.")
	}
	guests := make([]*cart, 0, len(body.Carts))
	for _, id := range body.Carts {
		g := s.st.carts[id]
		switch {
		case g == nil:
			return cartNotFound(id)
		case g.customer != "" || !sh.reaches(g):
			// A guest cart of another session: with a service token, any.
			return cartForbidden()
		}
		guests = append(guests, g)
	}
	for _, g := range guests {
		for _, it := range g.items {
			k.add(&cartItem{yrn: it.yrn, quantity: it.quantity, price: it.price, separate: it.separate}, s.now())
		}
		delete(s.st.carts, g.id)
	}
	return empty(http.StatusOK)
}

// add puts it into k, onto an existing line of the same product and price
// when neither is kept separate, and returns the line.
func (k *cart) add(it *cartItem, now time.Time) *cartItem {
	k.version++
	k.modified = now
	if !it.separate {
		for _, line := range k.items {
			if !line.separate && line.yrn == it.yrn && line.price == it.price {
				line.quantity += it.quantity
				return line
			}
		}
	}
	it.id = strconv.Itoa(k.nextItem)
	k.nextItem++
	k.items = append(k.items, it)
	return it
}

func (s *Server) findCart(site, typ, legalEntity, sessionID, customer string) *cart {
	for _, k := range s.st.carts {
		if k.siteCode == site && k.typ == typ && k.legalEntity == legalEntity &&
			k.sessionID == sessionID && k.customer == customer {
			return k
		}
	}
	return nil
}

func (s *Server) storeCart(k *cart) {
	k.id = randomHex(24)
	k.version = 1
	k.created = s.now()
	k.modified = k.created
	s.st.carts[k.id] = k
}

func (s *Server) cartYrn(k *cart) string {
	return "urn:yaas:saasag:caascart:cart:" + s.cfg.tenant + ";" + k.id
}

// cartJSON is a cart as the spec's cart schema shows it, without prices
// calculated.
type cartJSON struct {
	ID              string           `json:"id"`
	Yrn             string           `json:"yrn"`
	CustomerID      string           `json:"customerId,omitempty"`
	SessionID       string           `json:"sessionId,omitempty"`
	LegalEntityID   string           `json:"legalEntityId,omitempty"`
	Currency        string           `json:"currency,omitempty"`
	SiteCode        string           `json:"siteCode"`
	Type            string           `json:"type,omitempty"`
	Channel         *cartChannel     `json:"channel,omitempty"`
	Items           []cartItemJSON   `json:"items"`
	TotalUnitsCount float64          `json:"totalUnitsCount"`
	Metadata        cartMetadataJSON `json:"metadata"`
}

type cartItemJSON struct {
	ID                     string    `json:"id"`
	ItemYrn                string    `json:"itemYrn"`
	KeepAsSeparateLineItem bool      `json:"keepAsSeparateLineItem"`
	Quantity               float64   `json:"quantity"`
	EffectiveQuantity      float64   `json:"effectiveQuantity"`
	Price                  cartPrice `json:"price"`
}

type cartMetadataJSON struct {
	CreatedAt  string `json:"createdAt"`
	ModifiedAt string `json:"modifiedAt"`
	Version    int    `json:"version"`
}

func (s *Server) cartJSON(k *cart) cartJSON {
	out := cartJSON{
		ID: k.id, Yrn: s.cartYrn(k), CustomerID: k.customer, SessionID: k.sessionID, LegalEntityID: k.legalEntity,
		Currency: k.currency, SiteCode: k.siteCode, Type: k.typ, Channel: k.channel,
		Items: make([]cartItemJSON, 0, len(k.items)), Metadata: cartMetadataJSON{
			CreatedAt: k.created.Format(time.RFC3339Nano), ModifiedAt: k.modified.Format(time.RFC3339Nano), Version: k.version},
	}
	for _, it := range k.items {
		out.Items = append(out.Items, cartItemJSON{ID: it.id, ItemYrn: it.yrn, KeepAsSeparateLineItem: it.separate,
			Quantity: it.quantity, EffectiveQuantity: it.quantity, Price: it.price})
		out.TotalUnitsCount += it.quantity
	}
	return out
}

func currencyCode(s string) bool {
	if len(s) != 3 {
		return false
	}
	for i := 0; i < 3; i++ {
		if s[i] < 'A' || s[i] > 'Z' {
			return false
		}
	}
	return true
}

// saasSubject returns the customer number a SaaS token the fake minted
// names, or "".
func saasSubject(token string) string {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return ""
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return ""
	}
	var claims struct {
		Sub string `json:"sub"`
	}
	if json.Unmarshal(payload, &claims) != nil {
		return ""
	}
	return claims.Sub
}

// CartItem is one line of a cart, as [Server.Carts] reports it.
type CartItem struct {
	// ItemYrn is the product's YRN.
	ItemYrn string
	// Quantity is the line's quantity.
	Quantity float64
}

// CartInfo describes a stored cart.
type CartInfo struct {
	// ID is the cart ID.
	ID string
	// SiteCode and Type are the cart's site and type.
	SiteCode, Type string
	// SessionID is the session of a guest cart, CustomerNumber the owner
	// of a customer cart.
	SessionID, CustomerNumber string
	// Items are the cart's lines in the order they were added.
	Items []CartItem
}

// Carts returns the stored carts, guest and customer, in no set order.
// Merged guest carts are gone.
func (s *Server) Carts() []CartInfo {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]CartInfo, 0, len(s.st.carts))
	for _, k := range s.st.carts {
		info := CartInfo{ID: k.id, SiteCode: k.siteCode, Type: k.typ, SessionID: k.sessionID, CustomerNumber: k.customer}
		for _, it := range k.items {
			info.Items = append(info.Items, CartItem{ItemYrn: it.yrn, Quantity: it.quantity})
		}
		out = append(out, info)
	}
	return out
}
