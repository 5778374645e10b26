package emporix

import (
	"context"
	"errors"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// client.WithToken(customerToken).Auth.Login(...) failed with a bare
// "anonymous token required". Every refusal for want of the right token
// now says what to do, and still matches its sentinel.
func TestWrongTokenKindSaysWhatToDo(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	base, mt := newTestClient(t)
	sent := 0
	mt.RegisterNoResponder(func(*http.Request) (*http.Response, error) {
		sent++
		return nil, errors.New("test: sent")
	})
	login := func(c *Client) error {
		_, err := c.Auth.Login(ctx, &LoginRequest{Email: "jane@example.com", Password: "password123"})
		return err
	}
	addresses := func(c *Client) error {
		_, err := c.Addresses.List(ctx)
		return err
	}
	for name, tc := range map[string]struct {
		call     func(*Client) error
		client   *Client
		sentinel error
		hint     string
	}{
		"login with the customer token only": {login, base.WithToken(custToken()), ErrAnonymousTokenRequired,
			"authorized with the shopper's anonymous token, not the customer token; use StaticTokens(anonymous, customer) or a Session"},
		"login on StaticTokens(nil, customer)": {login, base.WithTokenSource(StaticTokens(nil, custToken())), ErrAnonymousTokenRequired,
			"use StaticTokens(anonymous, customer) or a Session"},
		"login without a token source": {login, base.WithTokenSource(nil), ErrAnonymousTokenRequired,
			"authorized with the shopper's anonymous token; use StaticTokens(anonymous, nil) or a Session"},
		"addresses as a guest": {addresses, base.WithTokenSource(StaticTokens(anonToken(), nil)), ErrCustomerTokenRequired,
			"needs the logged-in customer's token, and the client has only the anonymous one; log in, then use StaticTokens(anonymous, customer)"},
		"addresses without a token source": {addresses, base.WithTokenSource(nil), ErrNoToken,
			"the client has no token source; derive one per shopper with client.WithTokenSource(StaticTokens(anonymous, customer))"},
		"addresses on an empty StaticTokens": {addresses, base.WithTokenSource(StaticTokens(nil, nil)), ErrNoToken,
			"pass the shopper's tokens to StaticTokens(anonymous, customer)"},
	} {
		t.Run(name, func(t *testing.T) {
			err := tc.call(tc.client)
			require.ErrorIs(t, err, tc.sentinel)
			assert.Contains(t, err.Error(), tc.hint)
			assert.NotContains(t, err.Error(), custAccess)
			assert.NotContains(t, err.Error(), anonAccess)
		})
	}
	assert.Zero(t, sent, "every refusal came before sending")
}

// The old names keep working, as the new ones.
func TestDeprecatedTokenNamesStillWork(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	tok := custToken()
	for name, src := range map[string]TokenSource{"SingleToken": SingleToken(tok), "StaticTokenSource": StaticTokenSource(tok)} {
		got, err := src.Token(ctx)
		require.NoError(t, err, name)
		assert.Same(t, tok, got, name)
	}
	for name, opt := range map[string]Option{
		"WithDefaultTokenSource": WithDefaultTokenSource(SingleToken(tok)),
		"WithTokenSource":        WithTokenSource(SingleToken(tok)),
	} {
		c, err := NewClient(testTenant, testClientID, opt)
		require.NoError(t, err, name)
		got, err := c.TokenSource().Token(ctx)
		require.NoError(t, err, name)
		assert.Same(t, tok, got, name)
	}
}
