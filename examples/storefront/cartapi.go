package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"

	"github.com/emporix-go/emporix"
)

// The Emporix Cart Service is not part of the SDK: the shop calls it with
// plain net/http. What authorizes the calls is the *http.Client: a
// Session's HTTPClient for the shopper's own cart (it adds the shopper's
// token, the session-id of a guest or the saas-token of a customer, and
// renews a token the service rejects), or an oauth2 client on the shop's
// service token for the one thing only the tenant may do, reading the cart
// of a session that was replaced.

// The shop sells on one site, in one currency, from shopping carts.
const (
	siteCode = "main"
	cartType = "shopping"
	currency = "EUR"
)

// cartAPI is the Cart Service of the client's tenant, called with hc.
type cartAPI struct {
	hc    *http.Client
	carts string // <base URL>/cart/<tenant>/carts
}

func cartsOf(client *emporix.Client, hc *http.Client) cartAPI {
	return cartAPI{hc: hc, carts: client.BaseURL() + "/cart/" + url.PathEscape(client.Tenant()) + "/carts"}
}

// cart is the part of the service's cart the shop shows.
type cart struct {
	ID         string     `json:"id"`
	SessionID  string     `json:"sessionId,omitempty"`
	CustomerID string     `json:"customerId,omitempty"`
	Items      []cartLine `json:"items"`
}

type cartLine struct {
	ItemYrn  string    `json:"itemYrn"`
	Quantity float64   `json:"quantity"`
	Price    cartPrice `json:"price"`
}

type cartPrice struct {
	PriceID         string  `json:"priceId"`
	OriginalAmount  float64 `json:"originalAmount"`
	EffectiveAmount float64 `json:"effectiveAmount"`
	Currency        string  `json:"currency"`
}

// cartStatusError is a non-success answer of the Cart Service.
type cartStatusError struct {
	Status  int
	Message string
}

func (e *cartStatusError) Error() string {
	return fmt.Sprintf("cart service: %d %s", e.Status, e.Message)
}

// errNoCart is the 404 of a cart lookup: the shopper has no cart yet.
var errNoCart = errors.New("no cart")

// owner is whose cart to find: a guest's session ID or a customer number.
type owner struct{ sessionID, customerNumber string }

// find returns the owner's shopping cart, or errNoCart.
func (c cartAPI) find(ctx context.Context, o owner) (*cart, error) {
	q := url.Values{"siteCode": {siteCode}, "type": {cartType}}
	if o.customerNumber != "" {
		q.Set("customerId", o.customerNumber)
	} else {
		q.Set("sessionId", o.sessionID)
	}
	var out cart
	err := c.do(ctx, http.MethodGet, c.carts+"?"+q.Encode(), nil, &out)
	var se *cartStatusError
	if errors.As(err, &se) && se.Status == http.StatusNotFound {
		return nil, errNoCart
	}
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// ensure returns the ID of the owner's shopping cart, creating it first if
// there is none. A guest's cart is made with the anonymous token and the
// session-id header, a customer's with the customer token and the
// saas-token header: the session's transport sends whichever the context's
// token kind calls for.
func (c cartAPI) ensure(ctx context.Context, o owner) (string, error) {
	k, err := c.find(ctx, o)
	if err == nil {
		return k.ID, nil
	}
	if !errors.Is(err, errNoCart) {
		return "", err
	}
	body := map[string]any{"siteCode": siteCode, "currency": currency, "type": cartType,
		"channel": map[string]string{"name": "storefront", "source": "emporix-go storefront example"}}
	if o.customerNumber != "" {
		body["customerId"] = o.customerNumber
	}
	var created struct {
		CartID string `json:"cartId"`
	}
	if err := c.do(ctx, http.MethodPost, c.carts, body, &created); err != nil {
		return "", err
	}
	return created.CartID, nil
}

// add puts quantity of an item at price into the cart.
func (c cartAPI) add(ctx context.Context, cartID, itemYrn string, quantity float64, price cartPrice) error {
	body := map[string]any{"itemYrn": itemYrn, "quantity": quantity, "price": price}
	target := c.carts + "/" + url.PathEscape(cartID) + "/items?" + url.Values{"siteCode": {siteCode}}.Encode()
	return c.do(ctx, http.MethodPost, target, body, nil)
}

// merge moves the guest carts into the customer's cart.
func (c cartAPI) merge(ctx context.Context, customerCart string, guestCarts ...string) error {
	return c.do(ctx, http.MethodPost, c.carts+"/"+url.PathEscape(customerCart)+"/merge", map[string]any{"carts": guestCarts}, nil)
}

// do sends one request. http.NewRequest gives a JSON body a GetBody, so the
// session's transport can send it again after renewing a rejected token.
func (c cartAPI) do(ctx context.Context, method, target string, body, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, target, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return err
	}
	defer func() { _ = resp.Body.Close() }()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		var e struct {
			Message string `json:"message"`
			Fault   struct {
				FaultString string `json:"faultstring"`
			} `json:"fault"`
		}
		_ = json.Unmarshal(data, &e)
		if e.Message == "" {
			e.Message = e.Fault.FaultString
		}
		return &cartStatusError{Status: resp.StatusCode, Message: e.Message}
	}
	if out != nil {
		return json.Unmarshal(data, out)
	}
	return nil
}
