package emporix

import (
	"context"
	"fmt"

	"golang.org/x/oauth2"
)

// OAuth2TokenSource adapts ts, such as a [Session] or a service-token
// source ([EmployeeService.ServiceTokenSource]), to golang.org/x/oauth2, so that
// oauth2.Transport, oauth2.NewClient and generated clients of other Emporix
// services can authorize with it. Every Token call asks ts, which refreshes
// as it always does; ctx is the context of those calls (oauth2's Token
// takes none), so it should live as long as the returned source is used.
//
// The oauth2.Token carries the access token, the token type (always
// "Bearer": Emporix answers some token types in lowercase, which oauth2
// would send as is) and the expiry, as the absolute time ts reported (by
// the client's clock, see [WithClock]; oauth2 renews a token 10 s before
// it, by the system clock). It never carries
// the refresh token or the SaaS token: oauth2 needs neither, and a value
// that is not there cannot leak. The SDK's own printing guarantees cannot
// reach further: *oauth2.Token is oauth2's plain struct, so fmt's %v and
// %+v, and a logger given one, print its AccessToken. Never print or log
// what Token returns. The source itself prints as "emporix.OAuth2TokenSource"
// under every verb, and its errors are the SDK's, which hold no secrets.
//
// A source that needs no session header suits oauth2.Transport. The cart and
// checkout services also read session-id and saas-token, and a rejected
// token is only renewed at once through the session: for those, use
// [Session.Transport] or [Session.HTTPClient], which send both headers and
// renew a token the service rejects.
//
// Token fails with [ErrNoToken] when ts is nil or returns no token.
func OAuth2TokenSource(ctx context.Context, ts TokenSource) oauth2.TokenSource {
	if ctx == nil {
		ctx = context.Background()
	}
	return &oauth2Source{ctx: ctx, ts: ts}
}

type oauth2Source struct {
	ctx context.Context
	ts  TokenSource
}

// Token implements oauth2.TokenSource.
func (o *oauth2Source) Token() (*oauth2.Token, error) {
	if o.ts == nil {
		return nil, ErrNoToken
	}
	tok, err := o.ts.Token(o.ctx)
	if err != nil {
		return nil, tokenFailed(err)
	}
	if tok == nil || tok.AccessToken == "" {
		return nil, ErrNoToken
	}
	return &oauth2.Token{AccessToken: string(tok.AccessToken), TokenType: "Bearer", Expiry: tok.Expiry}, nil
}

// String hides the source's tokens.
func (o *oauth2Source) String() string { return "emporix.OAuth2TokenSource" }

// GoString hides the source's tokens.
func (o *oauth2Source) GoString() string { return "emporix.OAuth2TokenSource{}" }

// Format hides the source's tokens under every verb.
func (o *oauth2Source) Format(f fmt.State, _ rune) { formatOpaque(f, o.String()) }
