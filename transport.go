package emporix

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
)

// A Session authorizes not only the SDK's own calls: its transport lets any
// HTTP client a storefront uses for other Emporix services (cart, checkout,
// prices, orders) send the shopper's token, session ID and SaaS token, with
// the same one-refresh-per-session guarantee.

// Header names the cart and checkout services read next to the bearer.
const (
	headerSessionID = "session-id"
	headerSaasToken = "saas-token"
)

type tokenKindKey struct{}

// WithTokenKind returns a copy of ctx that tells a [Session]'s transport
// (see [Session.Transport]) which of the session's tokens authorizes a
// request made with it:
//
//   - [KindAnonymous]: the session's anonymous token and its session ID,
//     also while a customer is logged in (such as reading the guest cart
//     before merging it);
//   - [KindCustomer]: the customer token; the request fails with
//     [ErrCustomerTokenRequired], before anything is sent, when no customer
//     is logged in;
//   - [KindUnspecified] (the default): the customer token when a customer
//     is logged in, else the anonymous token.
//
// A session has no service token: a request with [KindService] fails with a
// [*ValidationError] before anything is sent.
func WithTokenKind(ctx context.Context, k TokenKind) context.Context {
	return context.WithValue(ctx, tokenKindKey{}, k)
}

func tokenKindOf(ctx context.Context) TokenKind {
	k, _ := ctx.Value(tokenKindKey{}).(TokenKind)
	return k
}

// Transport returns an [http.RoundTripper] that authorizes requests to the
// client's Emporix host with this session, and sends them through base (nil:
// the transport of the client the session's manager was built with, or
// [http.DefaultTransport] when that has none).
//
// A request whose scheme, host and port are those of the client's base URL
// gets, unless the caller set them already:
//
//   - Authorization: Bearer with the customer token when a customer is
//     logged in, else the anonymous token (see [WithTokenKind] to choose);
//   - session-id with the session ID, when the anonymous token is sent;
//   - saas-token with the customer's SaaS token, when the customer token is
//     sent and carries one.
//
// Tokens are refreshed before they are due, at most once per session at a
// time, however many requests wait. When Emporix answers 401 with a gateway
// code that rejects the token (see [APIError.TokenRejected]), the token is
// invalidated through the session and the request is sent once more with
// the renewed token, if its body can be sent again (a GetBody function, as
// http.NewRequest sets for in-memory bodies, or no body); otherwise the 401
// is returned as it came. A second 401 is returned as it is: never a loop.
// A 401 to a request whose Authorization the caller set is not the
// session's concern and is returned as it came.
//
// Requests to any other host, scheme or port, including redirects that leave
// the Emporix host, are sent through base untouched, with no token. The
// request passed in is never modified. The transport does not retry
// transient failures; the SDK's own calls do.
//
// When the session cannot supply a token (an outage of the token service),
// RoundTrip returns the error, a [*TokenError] or an SDK sentinel such as
// [ErrCustomerTokenRequired], and sends nothing.
func (s *Session) Transport(base http.RoundTripper) http.RoundTripper {
	if base == nil {
		base = s.client.http.HTTPClient.Transport
	}
	if base == nil {
		base = http.DefaultTransport
	}
	return &sessionTransport{s: s, base: base, origin: originOf(s.client.baseURL)}
}

// HTTPClient returns an *http.Client for calls to other Emporix services on
// behalf of this session: a copy of the client's own HTTP client (timeout
// per request, redirect policy, cookie jar) whose transport is
// [Session.Transport](nil). Like the SDK's own client it does not follow
// redirects unless the client was built with an *http.Client that does
// ([WithHTTPClient]); see [Session.Transport] for what it sends where.
func (s *Session) HTTPClient() *http.Client {
	hc := *s.client.http.HTTPClient
	hc.Transport = s.Transport(nil)
	return &hc
}

// sessionTransport is the RoundTripper of Session.Transport.
type sessionTransport struct {
	s      *Session
	base   http.RoundTripper
	origin origin
}

// origin is the scheme, host and port the session's tokens may be sent to.
type origin struct{ scheme, host, port string }

func originOf(rawURL string) origin {
	u, err := url.Parse(rawURL)
	if err != nil {
		return origin{} // matches nothing: WithBaseURL validated the URL
	}
	return origin{scheme: strings.ToLower(u.Scheme), host: strings.ToLower(u.Hostname()), port: portOf(u)}
}

// portOf returns the URL's port, or the scheme's default.
func portOf(u *url.URL) string {
	if p := u.Port(); p != "" {
		return p
	}
	switch strings.ToLower(u.Scheme) {
	case "https":
		return "443"
	case "http":
		return "80"
	}
	return ""
}

func (o origin) matches(u *url.URL) bool {
	return u != nil && o.host != "" &&
		strings.EqualFold(u.Scheme, o.scheme) && strings.EqualFold(u.Hostname(), o.host) && portOf(u) == o.port
}

// RoundTrip implements http.RoundTripper.
func (t *sessionTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if !t.origin.matches(req.URL) {
		return t.base.RoundTrip(req)
	}
	ctx := req.Context()
	tok, err := t.token(ctx)
	if err != nil {
		closeRequestBody(req)
		return nil, err
	}
	out, ours := authorizeRequest(req, req.Body, tok)
	resp, err := t.base.RoundTrip(out)
	if err != nil || resp.StatusCode != http.StatusUnauthorized || !ours {
		return resp, err
	}
	if !rejectsToken(resp) {
		return resp, nil
	}
	if ierr := t.s.InvalidateToken(ctx, tok); ierr != nil {
		t.s.m.client.logger.LogAttrs(ctx, slog.LevelWarn, "emporix: renewing a rejected session token failed",
			slog.String("error", ierr.Error()))
		return resp, nil
	}
	body, ok := replayBody(req)
	if !ok {
		return resp, nil
	}
	next, err := t.token(ctx)
	if err != nil {
		closeBody(body)
		return resp, nil
	}
	discard(resp)
	out, _ = authorizeRequest(req, body, next)
	return t.base.RoundTrip(out)
}

// token picks the session token the request's context asks for.
func (t *sessionTransport) token(ctx context.Context) (*Token, error) {
	var (
		tok *Token
		err error
	)
	switch tokenKindOf(ctx) {
	case KindAnonymous:
		tok, err = t.s.AnonymousToken(ctx)
	case KindCustomer:
		tok, err = t.s.Token(ctx)
		if err == nil && tok.Kind != KindCustomer {
			return nil, errSessionNotLoggedIn
		}
	case KindService:
		return nil, invalid("token kind", "a shopper session has no service token")
	default:
		tok, err = t.s.Token(ctx)
	}
	if err != nil {
		return nil, tokenFailed(err)
	}
	if tok == nil || tok.AccessToken == "" {
		return nil, ErrNoToken
	}
	return tok, nil
}

// authorizeRequest returns a copy of req with body and the session's
// headers for tok, leaving every header the caller set as it is. ours tells
// whether the Authorization header is the session's.
func authorizeRequest(req *http.Request, body io.ReadCloser, tok *Token) (out *http.Request, ours bool) {
	out = req.Clone(req.Context())
	out.Body = body
	if !hasHeader(req.Header, "Authorization") {
		setBearer(out, tok)
		ours = true
	}
	switch {
	case tok.Kind == KindCustomer:
		if tok.SaasToken != "" && !hasHeader(req.Header, headerSaasToken) {
			out.Header.Set(headerSaasToken, string(tok.SaasToken))
		}
	case tok.SessionID != "" && !hasHeader(req.Header, headerSessionID):
		out.Header.Set(headerSessionID, tok.SessionID)
	}
	return out, ours
}

// hasHeader reports whether h holds name, also under a key the caller did
// not canonicalize.
func hasHeader(h http.Header, name string) bool {
	if _, ok := h[http.CanonicalHeaderKey(name)]; ok {
		return true
	}
	for k := range h {
		if strings.EqualFold(k, name) {
			return true
		}
	}
	return false
}

// rejectsToken reports whether a 401 rejects the access token, reading at
// most maxErrorBody of its body and putting back what it read, so the
// caller gets the response as it came.
func rejectsToken(resp *http.Response) bool {
	if resp.Body == nil || resp.Body == http.NoBody {
		return false
	}
	head, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	resp.Body = struct {
		io.Reader
		io.Closer
	}{io.MultiReader(bytes.NewReader(head), resp.Body), resp.Body}
	e := APIError{StatusCode: resp.StatusCode}
	// Only the error code is read and nothing is kept, so the body is
	// decoded without fill's masking, which checkResponse does once for
	// the error the caller gets.
	e.decode(head)
	return e.TokenRejected()
}

// replayBody returns a fresh copy of the request's body, and whether there
// is one: a request without a body replays as it is.
func replayBody(req *http.Request) (io.ReadCloser, bool) {
	if req.Body == nil || req.Body == http.NoBody {
		return req.Body, true
	}
	if req.GetBody == nil {
		return nil, false
	}
	body, err := req.GetBody()
	if err != nil {
		return nil, false
	}
	return body, true
}

// discard drains a little of a response that is replaced and closes it,
// so that its connection can be reused.
func discard(resp *http.Response) {
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4<<10))
	_ = resp.Body.Close()
}

// closeRequestBody closes the body of a request that is not sent, as the
// RoundTripper contract asks.
func closeRequestBody(req *http.Request) { closeBody(req.Body) }

func closeBody(body io.ReadCloser) {
	if body != nil {
		_ = body.Close()
	}
}
