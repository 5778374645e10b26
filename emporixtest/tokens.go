package emporixtest

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/emporix-go/emporix/internal/optable"
)

// TokenKind is the kind of an access token the server minted.
type TokenKind string

// Token kinds. The empty kind means the server does not know the token.
const (
	// KindAnonymous is a shopper's anonymous access token.
	KindAnonymous TokenKind = "anonymous"
	// KindCustomer is a logged-in customer's access token.
	KindCustomer TokenKind = "customer"
	// KindService is a service access token from POST /oauth/token.
	KindService TokenKind = "service"
)

// accessToken is a minted access token.
type accessToken struct {
	value       string
	kind        TokenKind
	expires     time.Time
	sessionID   string // anonymous and customer tokens
	customer    string // customer number, customer tokens only
	legalEntity string
	scope       string
	refresh     string // the refresh token minted with it
}

// refreshToken is a minted refresh token.
type refreshToken struct {
	value       string
	kind        TokenKind // KindAnonymous or KindCustomer
	expires     time.Time
	sessionID   string
	customer    string
	legalEntity string
	exchange    bool // minted by token exchange: refreshes keep its lifetimes
}

// customerScopes are the scopes of a customer token, as in the spec's
// validateauthtoken example; " tenant=<tenant>" is appended.
const customerScopes = "approval.approval_read_own customermanagement.legalentity_read_own customer.customer_read_own " +
	"quote.quote_read_own returns.returns_read_own iam.scope_read_own iam.user_read_own customersegment.segment_read_own " +
	"iam.group_read_own order.order_readascustomer coupon.coupon_redeem customer.customerprofile_edit " +
	"quote.quote_manage_own returns.returns_manage_own customer.customer_manage_own approval.approval_manage_own " +
	"order.order_updateascustomer iam.assignment_delete_own customer.consent_view customer.customerprofile_view " +
	"order.history_view iam.assignment_create_own customer.consent_manage"

// mintAnonymous starts an anonymous session, or continues sessionID.
func (s *Server) mintAnonymous(sessionID string) (*accessToken, *refreshToken) {
	now, l := s.now(), s.cfg.lifetimes
	if sessionID == "" {
		sessionID = newUUID()
	}
	rt := &refreshToken{value: randomText(32), kind: KindAnonymous, expires: now.Add(l.AnonymousRefresh), sessionID: sessionID}
	at := &accessToken{
		value: randomText(28), kind: KindAnonymous, expires: now.Add(l.AnonymousAccess),
		sessionID: sessionID, scope: "tenant=" + s.cfg.tenant, refresh: rt.value,
	}
	s.st.access[at.value] = at
	s.st.refresh[rt.value] = rt
	return at, rt
}

// mintCustomer issues a customer access and refresh token.
func (s *Server) mintCustomer(c *customer, sessionID, legalEntity string, access, refresh time.Duration) (*accessToken, *refreshToken) {
	now := s.now()
	rt := &refreshToken{
		value: randomText(32), kind: KindCustomer, expires: now.Add(refresh),
		sessionID: sessionID, customer: c.number, legalEntity: legalEntity,
	}
	at := &accessToken{
		value: randomText(28), kind: KindCustomer, expires: now.Add(access), sessionID: sessionID,
		customer: c.number, legalEntity: legalEntity, scope: customerScopes + " tenant=" + s.cfg.tenant, refresh: rt.value,
	}
	s.st.access[at.value] = at
	s.st.refresh[rt.value] = rt
	return at, rt
}

// remaining is the whole seconds left until t.
func (s *Server) remaining(t time.Time) int64 {
	d := t.Sub(s.now())
	if d < 0 {
		return 0
	}
	return seconds(d)
}

func (s *Server) expired(t time.Time) bool { return !s.now().Before(t) }

// saasToken is a JWT-shaped SaaS token naming the customer.
func (s *Server) saasToken(c *customer, expires time.Time) string {
	return jwt(map[string]any{"sub": c.number, "exp": expires.Unix(), "tenant": s.cfg.tenant})
}

// fakeJWT is a JWT-shaped token for sub, standing in for the identity
// provider's tokens.
func fakeJWT(sub string) string { return jwt(map[string]any{"sub": sub}) }

// jwt encodes claims as a JWT with a random signature: nothing verifies it.
func jwt(claims map[string]any) string {
	header, _ := json.Marshal(map[string]string{"alg": "HS256", "typ": "JWT"})
	payload, _ := json.Marshal(claims)
	sig := make([]byte, 32)
	_, _ = rand.Read(sig)
	enc := base64.RawURLEncoding
	return enc.EncodeToString(header) + "." + enc.EncodeToString(payload) + "." + enc.EncodeToString(sig)
}

// TokenKind tells which kind of access token the server minted token as,
// or "" when it does not know it (never minted, revoked or reset). Expired
// tokens keep their kind.
func (s *Server) TokenKind(token string) TokenKind {
	s.mu.Lock()
	defer s.mu.Unlock()
	if at := s.st.access[token]; at != nil {
		return at.kind
	}
	return ""
}

// RevokeToken invalidates an access token or a refresh token (as if
// revoked server-side) and reports whether it was known. Later requests
// with a revoked access token get 401 "Invalid access token"; refreshes with
// a revoked refresh token get 401 "Invalid refresh token.".
func (s *Server) RevokeToken(token string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.st.access[token]; ok {
		delete(s.st.access, token)
		return true
	}
	_, ok := s.st.refresh[token]
	delete(s.st.refresh, token)
	return ok
}

// authorize checks the bearer of an operation that needs one, and stores
// it in c.token. On failure it returns the answer.
func (s *Server) authorize(c *call) (reply, bool) {
	need := c.route.Auth
	if need == optable.None {
		return reply{}, true
	}
	tok, ok := bearer(c.req.Header.Values("Authorization"))
	if !ok {
		return invalidToken(), false
	}
	at := s.st.access[tok]
	if at == nil {
		return invalidToken(), false
	}
	if s.expired(at.expires) {
		return expiredToken(), false
	}
	var fits bool
	switch need {
	case optable.Anonymous:
		fits = at.kind == KindAnonymous
	case optable.Customer:
		fits = at.kind == KindCustomer
	case optable.Any:
		fits = at.kind == KindAnonymous || at.kind == KindCustomer
	case optable.Service:
		fits = at.kind == KindService
	case optable.Cart:
		fits = at.kind != ""
	}
	if !fits {
		return s.wrongKind(c.route, at.kind), false
	}
	if at.kind == KindCustomer && s.st.customers[at.customer] == nil {
		return invalidToken(), false
	}
	c.token = at
	return reply{}, true
}

// wrongKind answers a valid token of the wrong kind: 403 where the spec
// documents it (the token lacks the operation's scopes), else a 401 in the
// service's ErrorMessage shape, without a gateway error code because the
// token itself is fine.
func (s *Server) wrongKind(r *route, got TokenKind) reply {
	if r.Has403 {
		return forbidden()
	}
	want := map[optable.Auth]string{
		optable.Anonymous: "an anonymous access token",
		optable.Customer:  "a customer access token",
		optable.Service:   "a service access token",
	}[r.Auth]
	return unauthorized(fmt.Sprintf("The operation requires %s, not a %s token.", want, got))
}

// bearer extracts the token of a single "Bearer <token>" header.
func bearer(values []string) (string, bool) {
	if len(values) != 1 {
		return "", false
	}
	scheme, tok, ok := strings.Cut(values[0], " ")
	tok = strings.TrimSpace(tok)
	if !ok || !strings.EqualFold(scheme, "Bearer") || tok == "" {
		return "", false
	}
	return tok, true
}

const alphanumeric = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

// randomText returns n random letters and digits, like Emporix's opaque
// tokens.
func randomText(n int) string {
	out := make([]byte, 0, n)
	buf := make([]byte, n+n/4+8)
	for len(out) < n {
		_, _ = rand.Read(buf)
		for _, b := range buf {
			if b >= 248 { // 248 = 4*62: rejected to stay unbiased
				continue
			}
			out = append(out, alphanumeric[int(b)%len(alphanumeric)])
			if len(out) == n {
				break
			}
		}
	}
	return string(out)
}

func randomUint32() uint32 {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
}

// newUUID returns a random (version 4) UUID.
func newUUID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b)
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// randomHex returns n random hex digits, like address IDs.
func randomHex(n int) string {
	b := make([]byte, (n+1)/2)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)[:n]
}
