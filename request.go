package emporix

import (
	"context"
	"errors"
	"log/slog"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/emporix-go/emporix/internal/optable"
	"github.com/hashicorp/go-retryablehttp"
)

// operation is one row of the operation table (internal/optable), which
// holds every operation's method, path template, token kind, retry class
// (NoAuthRetry: never renew the token and resend, because the token is also
// part of the request, as logout's) and secret parameters; the service
// files name their operations by the spec's operationId.
type operation struct{ *optable.Op }

// op returns the operation with the spec's operationId id; a misspelt id
// panics when the package loads.
func op(id string) *operation { return &operation{optable.Must(id)} }

const (
	contentJSON       = "application/json"
	contentMergePatch = "application/merge-patch+json"
	contentForm       = "application/x-www-form-urlencoded"
)

// call is one invocation of an operation.
type call struct {
	op          *operation
	url         string // base URL + path, without the query
	path        string // escaped, expanded path: a suffix of url
	shownPath   string // path with the parameters the row marks secret masked, for errors and logs
	query       url.Values
	body        []byte
	request     any // the request body's value, for masking its personal data in errors
	contentType string
	header      [][2]string
	token       *Token      // the token authorizing this call
	fromSource  bool        // token came from source, which may renew it
	source      TokenSource // the client's source when the call started
	secrets     scrubber
	maxBody     int64         // the cap on a success body, in bytes
	attempts    int           // attempts started, counted by the retry stage
	wait        time.Duration // the wait before the next attempt, set by the retry stage
	status      int           // the status of the last response received
	respBody    []byte        // the success body, read inside the retry loop
	requestID   string        // of the last answer, kept for an Observer only
	// secretBuf backs secrets for the usual one or two values, saving an
	// allocation per call.
	secretBuf [2]string
}

type callKey struct{}

// newCall starts a call of op on the client's tenant path. pathParams fill
// the template's placeholders after {tenant}, in order; each is escaped,
// and hidden when the operation's row marks it secret (an opt-in token).
func (c *Client) newCall(op *operation, pathParams ...string) *call {
	k := &call{op: op, source: c.tokens, maxBody: c.maxBody}
	k.secrets = k.secretBuf[:0]
	k.url = c.expandPath(k, pathParams)
	k.path = k.url[len(c.baseURL):]
	if k.shownPath == "" {
		k.shownPath = k.path
	}
	return k
}

// expandPath returns the base URL followed by k's path template with
// {tenant} and then the other placeholders filled in order; one string
// serves both as the request URL and, past the base URL, as the call's
// path. A parameter the operation's row marks secret (the opt-in token) is
// hidden, and masked in the path that errors and logs show.
func (c *Client) expandPath(k *call, params []string) string {
	var b strings.Builder
	var shown []string // the path's pieces as shown, once a secret is met
	rest := k.op.Path
	b.Grow(len(c.baseURL) + len(rest) + 32)
	b.WriteString(c.baseURL)
	from := b.Len() // where the pieces not yet in shown start
	for {
		open := strings.IndexByte(rest, '{')
		if open < 0 {
			b.WriteString(rest)
			u := b.String()
			if shown != nil {
				k.shownPath = strings.Join(append(shown, u[from:]), "")
			}
			return u
		}
		end := strings.IndexByte(rest[open:], '}') + open
		b.WriteString(rest[:open])
		if name := rest[open+1 : end]; name == "tenant" {
			b.WriteString(c.tenant)
		} else if len(params) > 0 {
			if k.op.Secret("path", name) {
				k.addSecret(params[0])
				shown = append(shown, b.String()[from:], redacted)
				b.WriteString(url.PathEscape(params[0]))
				from = b.Len()
			} else {
				b.WriteString(url.PathEscape(params[0]))
			}
			params = params[1:]
		}
		rest = rest[end+1:]
	}
}

// jsonBody sets a JSON request body, with the real values of its Secrets,
// and hides those Secrets.
func (k *call) jsonBody(v any, contentType string) error {
	b, err := wireJSON(v)
	if err != nil {
		return err
	}
	k.body, k.request = b, v
	k.contentType = contentType
	k.hideIn(v)
	return nil
}

// secretQuery sets the query parameter name to the secret's real value and
// hides it.
func (k *call) secretQuery(name string, s Secret) {
	if k.query == nil {
		k.query = url.Values{}
	}
	k.query.Set(name, string(s))
	k.hide(s)
}

// hide registers secrets that must never be echoed in errors. Only the raw
// values are kept here, on the hot path; the encodings a server may echo
// them in are derived when an error is built (see scrubber.apply).
func (k *call) hide(secrets ...Secret) {
	for _, s := range secrets {
		k.addSecret(string(s))
	}
}

// hideIn hides every Secret v holds, such as the tokens of a session the
// call renews.
func (k *call) hideIn(v any) { collectSecrets(v, k.addSecret) }

func (k *call) addSecret(v string) {
	if v != "" && !slices.Contains(k.secrets, v) {
		k.secrets = append(k.secrets, v)
	}
}

// response is a received success response.
type response struct {
	status int
	body   []byte
}

// The request path has four stages, each testable on its own:
//
//  1. build: newRequest turns a call into an HTTP request (this file);
//  2. authorize: authorize picks and sets the token, reauthorize renews it
//     for each retry, renewRejected allows the one replay after a rejected
//     token (auth.go);
//  3. send with retries: the retry engine, its retry classes, attempt
//     counting, waits and Retry-After (retry.go);
//  4. decode: readSuccess and the do* helpers read the answer
//     (response.go); checkResponse and requestFailed build the error
//     (errors.go).
//
// do is where an operation starts and ends; every attempt starts in
// attemptStarts and ends in checkRetry (retry.go).

// do runs one operation: authorize, send with retries, and turn a
// non-success status into an *APIError. It returns the body of a 2xx
// response.
//
// When the service rejects a token that came from the client's source, the
// source may renew it and the call is sent once more (see renewRejected); a
// second rejection is ErrSessionExpired. Never a loop.
func (c *Client) do(ctx context.Context, k *call) (resp *response, err error) {
	ctx, end := c.observeOperation(ctx, k)
	if end != nil {
		defer func() { end(resp, err) }()
	}
	resp, err = c.bareDo(ctx, k)
	if err == nil {
		return resp, nil
	}
	if err = c.renewRejected(ctx, k, err); err != nil {
		return nil, err
	}
	resp, err = c.bareDo(ctx, k)
	return resp, rejectedAgain(err)
}

// bareDo sends a call once through the retry stage, with the token the
// authorize stage picks, and decodes a non-success status into an
// *APIError.
func (c *Client) bareDo(ctx context.Context, k *call) (*response, error) {
	tok, err := c.authorize(ctx, k)
	if err != nil {
		return nil, err
	}
	req, err := c.newRequest(ctx, k)
	if err != nil {
		return nil, err
	}
	setBearer(req.Request, tok)

	start := time.Now()
	resp, err := c.http.Do(req)
	if err != nil {
		if errors.Is(err, errBodyTooLarge) {
			// The response did arrive; repeating it would not shrink it.
			c.logDone(ctx, k, k.status, start)
			return nil, c.unusable(k, k.status, "body larger than "+strconv.FormatInt(k.maxBody, 10)+" bytes", nil)
		}
		return nil, c.requestFailed(ctx, k, err)
	}
	defer func() { _ = resp.Body.Close() }()

	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		apiErr := c.checkResponse(k, resp)
		c.logDone(ctx, k, resp.StatusCode, start)
		if apiErr.Attempts > 1 {
			c.logger.LogAttrs(ctx, slog.LevelWarn, "emporix: giving up after retries",
				slog.String("operation", k.op.ID), slog.Int("status", apiErr.StatusCode), slog.Int("attempts", apiErr.Attempts))
		}
		return nil, apiErr
	}
	c.logDone(ctx, k, resp.StatusCode, start)
	if c.observer.Operation != nil {
		k.requestID = requestID(resp.Header, k.secrets)
	}
	return &response{status: resp.StatusCode, body: k.respBody}, nil
}

// newRequest is the build stage: the URL with its query, the headers and
// the body of a call, without authorization. The call travels in the
// request's context, because the retry engine's hooks see the context but
// not the call.
func (c *Client) newRequest(ctx context.Context, k *call) (*retryablehttp.Request, error) {
	target := k.url
	if len(k.query) > 0 {
		target += "?" + k.query.Encode()
	}
	var body any
	if k.body != nil {
		body = k.body
	}
	req, err := retryablehttp.NewRequestWithContext(context.WithValue(ctx, callKey{}, k), k.op.Method, target, body)
	if err != nil {
		return nil, &RequestError{Method: k.op.Method, Path: k.shownPath, Operation: k.op.ID, Err: errors.New("cannot build request")}
	}
	req.Header.Set("Accept", contentJSON)
	req.Header.Set("User-Agent", c.userAgent)
	if k.contentType != "" {
		req.Header.Set("Content-Type", k.contentType)
	}
	for _, h := range k.header {
		req.Header.Set(h[0], h[1])
	}
	// A success body is read inside the retry loop: a read that breaks
	// off is then a transport error the operation's retry class judges,
	// so a safe read is retried while a write that was answered is not.
	req.SetResponseHandler(k.readSuccess)
	return req, nil
}

func (c *Client) logDone(ctx context.Context, k *call, status int, start time.Time) {
	if !c.logger.Enabled(ctx, slog.LevelDebug) {
		return
	}
	attrs := make([]slog.Attr, 0, 7)
	attrs = append(attrs, slog.String("operation", k.op.ID), slog.String("method", k.op.Method),
		slog.String("path", k.shownPath))
	if len(k.query) > 0 {
		// Only allow-listed query values survive; tokens in the query
		// (refresh_token, accessToken, code, ...) print as REDACTED.
		attrs = append(attrs, slog.String("query", redactQuery(k.query.Encode())))
	}
	attrs = append(attrs, slog.Int("status", status), slog.Int("attempts", max(k.attempts, 1)),
		slog.Duration("duration", time.Since(start)))
	c.logger.LogAttrs(ctx, slog.LevelDebug, "emporix: request", attrs...)
}
