package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
)

// The cart steps call the Emporix Cart Service, which the SDK does not
// wrap, with the session's HTTP client (Session.HTTPClient): it sends the
// anonymous token and the session-id header for a guest, the customer token
// and the saas-token header once logged in, and renews a rejected token.

// skipCart reports, and says, that the cart steps do not run: a cart on a
// tenant needs a site and a product with a price, which the quickstart
// cannot make up.
func (t *tour) skipCart() bool {
	if t.cfg.cartSteps() {
		return false
	}
	t.say("skipped", "a cart needs a product and its price on your tenant: set EMPORIX_CART_ITEM_YRN,")
	t.say("", "EMPORIX_CART_PRICE_ID and EMPORIX_CART_PRICE_AMOUNT (and EMPORIX_CART_SITE, default main)")
	return true
}

// 5. A guest fills a cart: the guest cart is keyed by the session ID.
func (t *tour) guestCart(ctx context.Context) error {
	if t.skipCart() {
		return nil
	}
	carts := t.carts()
	id, err := carts.create(ctx, nil)
	if err != nil {
		return fmt.Errorf("creating the guest cart: %w", err)
	}
	t.guestCartID = id
	if err := carts.addItem(ctx, id, 2); err != nil {
		return fmt.Errorf("adding an item: %w", err)
	}
	sessionID, err := t.sess.SessionID(ctx)
	if err != nil {
		return err
	}
	t.say("guest cart", "%s, for session ID %s", id, sessionID)
	t.say("item", "%s ×2", t.cfg.CartItemYrn)
	return nil
}

// 7. After the login, the guest cart merges into the customer's cart.
func (t *tour) cartMerge(ctx context.Context) error {
	if t.skipCart() {
		return nil
	}
	carts := t.carts()
	mine, err := carts.create(ctx, map[string]any{"customerId": t.customerNumber})
	if err != nil {
		return fmt.Errorf("creating the customer cart: %w", err)
	}
	if err := carts.merge(ctx, mine, t.guestCartID); err != nil {
		return fmt.Errorf("merging the guest cart: %w", err)
	}
	var got struct {
		Items []struct {
			ItemYrn  string  `json:"itemYrn"`
			Quantity float64 `json:"quantity"`
		} `json:"items"`
	}
	if err := carts.do(ctx, http.MethodGet, "/"+url.PathEscape(mine), nil, &got); err != nil {
		return fmt.Errorf("reading the customer cart: %w", err)
	}
	t.say("customer cart", "%s", mine)
	for _, it := range got.Items {
		t.say("item", "%s ×%g (from the guest cart)", it.ItemYrn, it.Quantity)
	}
	if len(got.Items) == 0 {
		return fmt.Errorf("the customer cart is empty after the merge")
	}
	return nil
}

// cartAPI calls /cart/{tenant}/carts with the session's HTTP client.
type cartAPI struct {
	hc    *http.Client
	carts string
	cfg   config
}

func (t *tour) carts() cartAPI {
	return cartAPI{hc: t.sess.HTTPClient(), carts: t.client.BaseURL() + "/cart/" + url.PathEscape(t.client.Tenant()) + "/carts", cfg: t.cfg}
}

// create makes a shopping cart with the fields in extra and returns its ID.
func (c cartAPI) create(ctx context.Context, extra map[string]any) (string, error) {
	body := map[string]any{"siteCode": c.cfg.site(), "currency": "EUR", "type": "shopping"}
	for k, v := range extra {
		body[k] = v
	}
	var created struct {
		CartID string `json:"cartId"`
	}
	err := c.do(ctx, http.MethodPost, "", body, &created)
	return created.CartID, err
}

func (c cartAPI) addItem(ctx context.Context, cartID string, quantity float64) error {
	price := map[string]any{"priceId": c.cfg.CartPriceID, "originalAmount": c.cfg.CartAmount,
		"effectiveAmount": c.cfg.CartAmount, "currency": "EUR"}
	body := map[string]any{"itemYrn": c.cfg.CartItemYrn, "quantity": quantity, "price": price}
	return c.do(ctx, http.MethodPost, "/"+url.PathEscape(cartID)+"/items?siteCode="+url.QueryEscape(c.cfg.site()), body, nil)
}

func (c cartAPI) merge(ctx context.Context, into string, guests ...string) error {
	return c.do(ctx, http.MethodPost, "/"+url.PathEscape(into)+"/merge", map[string]any{"carts": guests}, nil)
}

// do sends one request and decodes a success into out. Its JSON body has a
// GetBody, so the session's transport can resend it with a renewed token.
func (c cartAPI) do(ctx context.Context, method, path string, body, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.carts+path, rd)
	if err != nil {
		return err
	}
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
		return fmt.Errorf("%s %s: %s", method, "/cart/…/carts"+path, resp.Status)
	}
	if out != nil {
		return json.Unmarshal(data, out)
	}
	return nil
}
