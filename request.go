package emporix

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/hashicorp/go-retryablehttp"
)

// authKind is how an operation is authorized.
type authKind uint8

const (
	// authNone sends no Authorization header.
	authNone authKind = iota
	// authAnonymous needs the shopper's anonymous token.
	authAnonymous
	// authCustomer needs a logged-in customer's token.
	authCustomer
	// authAny takes whichever token the source has (GET /me).
	authAny
	// authExplicit uses the token passed to the call (service token).
	authExplicit
)

// operation describes one documented endpoint.
type operation struct {
	id     string // the spec's operationId
	method string
	path   string // the spec's path template, for documentation and tests
	auth   authKind
	retry  retryClass
	// noAuthRetry: never renew the token and resend, because the token is
	// also part of the request (logout names the token it invalidates).
	noAuthRetry bool
}

const (
	contentJSON       = "application/json"
	contentMergePatch = "application/merge-patch+json"
	contentForm       = "application/x-www-form-urlencoded"
)

// maxResponseBody caps a success body; the service's largest answers (a
// profile with addresses) are a few KiB.
const maxResponseBody = 8 << 20

// call is one invocation of an operation.
type call struct {
	op          *operation
	url         string // base URL + path, without the query
	path        string // escaped, expanded path: a suffix of url
	query       url.Values
	body        []byte
	request     any // the request body's value, for masking its personal data in errors
	contentType string
	header      [][2]string
	token       *Token      // the token authorizing this call
	fromSource  bool        // token came from source, which may renew it
	source      TokenSource // the client's source when the call started
	secrets     scrubber
	attempts    int
	respBody    []byte // the success body, read inside the retry loop
	// secretBuf backs secrets for the usual one or two values, saving an
	// allocation per call.
	secretBuf [2]string
}

type callKey struct{}

// newCall starts a call of op on the client's tenant path. pathParams fill
// the template's placeholders after {tenant}, in order; each is escaped.
func (c *Client) newCall(op *operation, pathParams ...string) *call {
	k := &call{op: op, url: c.expandPath(op.path, pathParams), source: c.tokens}
	k.path = k.url[len(c.baseURL):]
	k.secrets = k.secretBuf[:0]
	return k
}

// expandPath returns the base URL followed by template with {tenant} and
// then the other placeholders filled in order; one string serves both as
// the request URL and, past the base URL, as the call's path.
func (c *Client) expandPath(template string, params []string) string {
	var b strings.Builder
	b.Grow(len(c.baseURL) + len(template) + 32)
	b.WriteString(c.baseURL)
	rest := template
	for {
		open := strings.IndexByte(rest, '{')
		if open < 0 {
			b.WriteString(rest)
			return b.String()
		}
		end := strings.IndexByte(rest[open:], '}') + open
		b.WriteString(rest[:open])
		if rest[open+1:end] == "tenant" {
			b.WriteString(c.tenant)
		} else if len(params) > 0 {
			b.WriteString(url.PathEscape(params[0]))
			params = params[1:]
		}
		rest = rest[end+1:]
	}
}

// jsonBody sets a JSON request body.
func (k *call) jsonBody(v any, contentType string) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	k.body, k.request = b, v
	k.contentType = contentType
	return nil
}

// hide registers values that must never be echoed in errors. Only the raw
// values are kept here, on the hot path; the encodings a server may echo
// them in are derived when an error is built (see scrubber.apply).
func (k *call) hide(values ...string) {
	for _, v := range values {
		if v != "" && !slices.Contains(k.secrets, v) {
			k.secrets = append(k.secrets, v)
		}
	}
}

// response is a received success response.
type response struct {
	status int
	body   []byte
}

// do runs a call: authorize, send with retries, and turn a non-success
// status into an *APIError. It returns the body of a 2xx response.
//
// When the service rejects a token that came from the client's source
// (a 401 whose gateway code says expired or invalid) and the source can
// replace tokens, the source is asked once to renew it and the call is sent
// once more; a second rejection is ErrSessionExpired. Never a loop.
func (c *Client) do(ctx context.Context, k *call) (*response, error) {
	resp, err := c.send(ctx, k)
	if err == nil || !k.fromSource || k.op.noAuthRetry || !tokenRejected(err) {
		return resp, err
	}
	invalidator, ok := k.source.(TokenInvalidator)
	if !ok {
		return nil, err
	}
	if ierr := invalidator.InvalidateToken(ctx, k.token); ierr != nil {
		if errors.Is(ierr, ErrSessionExpired) {
			// One line that matches both: the session is over, and the
			// call was refused for it.
			return nil, k.failed(&sessionEndedError{err: tokenFailed(ierr), rejected: err})
		}
		return nil, err
	}
	k.token, k.fromSource = nil, false
	resp, err = c.send(ctx, k)
	if err != nil && tokenRejected(err) {
		return nil, fmt.Errorf("%w: %w", ErrSessionExpired, err)
	}
	return resp, err
}

// tokenRejected reports whether err is an *APIError saying the token was
// rejected. A function of its own so that the *APIError errors.As needs is
// allocated on the failure path only, not on every call.
func tokenRejected(err error) bool {
	var apiErr *APIError
	return errors.As(err, &apiErr) && apiErr.TokenRejected()
}

// send makes one call through the retry loop.
func (c *Client) send(ctx context.Context, k *call) (*response, error) {
	tok, err := c.authorize(ctx, k)
	if err != nil {
		return nil, err
	}
	if tok != nil {
		k.hide(tok.AccessToken)
	}

	target := k.url
	if len(k.query) > 0 {
		target += "?" + k.query.Encode()
	}
	var body any
	if k.body != nil {
		body = k.body
	}
	req, err := retryablehttp.NewRequestWithContext(context.WithValue(ctx, callKey{}, k), k.op.method, target, body)
	if err != nil {
		return nil, &RequestError{Method: k.op.method, Path: redactPath(k.path), Operation: k.op.id, Err: errors.New("cannot build request")}
	}
	req.Header.Set("Accept", contentJSON)
	req.Header.Set("User-Agent", c.userAgent)
	if k.contentType != "" {
		req.Header.Set("Content-Type", k.contentType)
	}
	for _, h := range k.header {
		req.Header.Set(h[0], h[1])
	}
	setBearer(req.Request, tok)
	// A success body is read inside the retry loop: a read that breaks
	// off is then a transport error the operation's retry class judges,
	// so a safe read is retried while a write that was answered is not.
	req.SetResponseHandler(k.readSuccess)

	start := time.Now()
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, c.requestFailed(ctx, k, err)
	}
	defer func() { _ = resp.Body.Close() }()

	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		apiErr := c.checkResponse(k, resp)
		c.logDone(ctx, k, resp.StatusCode, start)
		if apiErr.Attempts > 1 {
			c.logger.LogAttrs(ctx, slog.LevelWarn, "emporix: giving up after retries",
				slog.String("operation", k.op.id), slog.Int("status", apiErr.StatusCode), slog.Int("attempts", apiErr.Attempts))
		}
		return nil, apiErr
	}
	c.logDone(ctx, k, resp.StatusCode, start)
	return &response{status: resp.StatusCode, body: k.respBody}, nil
}

// errBodyTooLarge reports a success body over maxResponseBody; repeating
// the request would not shrink it.
var errBodyTooLarge = errors.New("response body too large")

// readSuccess is the retryablehttp response handler: it reads a 2xx body
// in full, leaving error bodies to apiError.
func (k *call) readSuccess(resp *http.Response) error {
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil
	}
	data, err := readBody(resp, maxResponseBody)
	if err != nil {
		return err
	}
	k.respBody = data
	return nil
}

// doJSON runs a call and decodes a required JSON body into out.
func (c *Client) doJSON(ctx context.Context, k *call, out any) error {
	resp, err := c.do(ctx, k)
	if err != nil {
		return err
	}
	if len(bytes.TrimSpace(resp.body)) == 0 {
		return c.unusable(k, resp.status, "empty body", nil)
	}
	if err := json.Unmarshal(resp.body, out); err != nil {
		return c.unusable(k, resp.status, "malformed JSON", err)
	}
	return nil
}

// doCreated runs a create whose answer is a ResourceLocation and returns
// the new resource's ID.
func (c *Client) doCreated(ctx context.Context, k *call) (string, error) {
	var loc struct {
		ID string `json:"id"`
	}
	resp, err := c.do(ctx, k)
	if err != nil {
		return "", err
	}
	if err := json.Unmarshal(resp.body, &loc); err != nil {
		if len(bytes.TrimSpace(resp.body)) == 0 {
			return "", c.unusable(k, resp.status, "empty body", nil)
		}
		return "", c.unusable(k, resp.status, "malformed JSON", err)
	}
	if loc.ID == "" {
		return "", c.unusable(k, resp.status, "no id in response", nil)
	}
	return loc.ID, nil
}

// doNoContent runs a call whose success body, if any, carries nothing.
func (c *Client) doNoContent(ctx context.Context, k *call) error {
	_, err := c.do(ctx, k)
	return err
}

func (c *Client) unusable(k *call, status int, reason string, err error) error {
	return &ResponseError{Method: k.op.method, Path: redactPath(k.path), StatusCode: status, Reason: reason, Err: err}
}

// authorize picks the token the operation needs and fixes it on the call,
// failing before any network traffic when the right kind is not available.
// A token already fixed on the call is kept.
func (c *Client) authorize(ctx context.Context, k *call) (*Token, error) {
	tok, err := c.authorizeToken(ctx, k)
	if err != nil {
		return nil, k.failed(err)
	}
	return tok, nil
}

// authorizeToken is authorize without naming the operation in its errors,
// for a retry, whose failure the *RequestError names.
func (c *Client) authorizeToken(ctx context.Context, k *call) (*Token, error) {
	// Every call passes here before any use of ctx, including the
	// operations that resolve their token before sending.
	if ctx == nil {
		return nil, invalid("context", "must not be nil")
	}
	if k.op.auth == authNone {
		return nil, nil
	}
	if k.token != nil || k.op.auth == authExplicit {
		return checkKind(k.op.auth, k.token)
	}
	var (
		tok *Token
		err error
	)
	switch {
	case k.op.auth == authAnonymous:
		tok, err = anonymousToken(ctx, k.source)
	case k.source == nil:
		return nil, errNoTokenSource
	default:
		tok, err = k.source.Token(ctx)
	}
	if err != nil {
		return nil, tokenFailed(err)
	}
	if tok, err = checkKind(k.op.auth, tok); err != nil {
		return nil, err
	}
	k.token, k.fromSource = tok, true
	return tok, nil
}

// checkKind refuses a missing token or one of the wrong kind.
func checkKind(auth authKind, tok *Token) (*Token, error) {
	if tok == nil || tok.AccessToken == "" {
		if auth == authAnonymous {
			return nil, errAnonymousMissing
		}
		return nil, errEmptyToken
	}
	if auth == authCustomer && tok.Kind == KindAnonymous {
		return nil, errCustomerMissing
	}
	return tok, nil
}

// anonymousToken gets the shopper's anonymous token from src: from
// AnonymousToken when src implements it, otherwise from Token as long as
// that is not a customer token.
func anonymousToken(ctx context.Context, src TokenSource) (*Token, error) {
	if src == nil {
		return nil, errAnonymousMissing
	}
	if as, ok := src.(AnonymousTokenSource); ok {
		return as.AnonymousToken(ctx)
	}
	tok, err := src.Token(ctx)
	if err != nil {
		return nil, err
	}
	if tok != nil && tok.Kind == KindCustomer {
		return nil, errAnonymousNotCustomer
	}
	return tok, nil
}

func setBearer(r *http.Request, tok *Token) {
	if tok == nil {
		return
	}
	tokenType := tok.TokenType
	if tokenType == "" || strings.EqualFold(tokenType, "bearer") {
		tokenType = "Bearer"
	}
	r.Header.Set("Authorization", tokenType+" "+tok.AccessToken)
}

// beforeAttempt is the retryablehttp RequestLogHook: it counts attempts.
func (c *Client) beforeAttempt(_ retryablehttp.Logger, r *http.Request, retry int) {
	k, _ := r.Context().Value(callKey{}).(*call)
	if k == nil {
		return
	}
	k.attempts++
	if retry > 0 {
		c.logger.LogAttrs(r.Context(), slog.LevelDebug, "emporix: retrying",
			slog.String("operation", k.op.id), slog.Int("attempt", k.attempts))
	}
}

// prepareRetry is the retryablehttp PrepareRetry: each retry asks the token
// source again, so a token that expired during the backoff is replaced.
func (c *Client) prepareRetry(r *http.Request) error {
	k, _ := r.Context().Value(callKey{}).(*call)
	if k == nil || !k.fromSource || k.op.noAuthRetry {
		return nil
	}
	k.token, k.fromSource = nil, false
	tok, err := c.authorizeToken(r.Context(), k)
	if err != nil {
		return err
	}
	k.hide(tok.AccessToken)
	setBearer(r, tok)
	return nil
}

// readBody reads at most limit bytes of the response body. With a known
// Content-Length the buffer is sized once, with a spare byte so that the
// end of the body is seen without growing it.
func readBody(resp *http.Response, limit int64) ([]byte, error) {
	if resp.ContentLength > limit {
		return nil, errBodyTooLarge
	}
	size := 512
	if resp.ContentLength >= 0 {
		size = int(resp.ContentLength) + 1
	}
	buf := make([]byte, 0, size)
	for {
		if len(buf) == cap(buf) {
			buf = slices.Grow(buf, 1)
		}
		// Never ask for more than one byte past the limit.
		room := buf[len(buf):min(int64(cap(buf)), limit+1)]
		n, err := resp.Body.Read(room)
		buf = buf[:len(buf)+n]
		if int64(len(buf)) > limit {
			return nil, errBodyTooLarge
		}
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return nil, err
		}
	}
}

func (c *Client) logDone(ctx context.Context, k *call, status int, start time.Time) {
	if !c.logger.Enabled(ctx, slog.LevelDebug) {
		return
	}
	attrs := make([]slog.Attr, 0, 7)
	attrs = append(attrs, slog.String("operation", k.op.id), slog.String("method", k.op.method),
		slog.String("path", redactPath(k.path)))
	if len(k.query) > 0 {
		// Only allow-listed query values survive; tokens in the query
		// (refresh_token, accessToken, code, ...) print as REDACTED.
		attrs = append(attrs, slog.String("query", redactQuery(k.query.Encode())))
	}
	attrs = append(attrs, slog.Int("status", status), slog.Int("attempts", max(k.attempts, 1)),
		slog.Duration("duration", time.Since(start)))
	c.logger.LogAttrs(ctx, slog.LevelDebug, "emporix: request", attrs...)
}
