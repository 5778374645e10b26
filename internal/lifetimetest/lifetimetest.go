// Package lifetimetest proves, for any [emporix.TokenStore], that a stored
// session outlives every shape of token answer: each token-returning
// operation is answered with each expiry field absent, null, zero and
// unreadable, the shopper stays away for just less than the documented
// refresh-token lifetime, and on return the session is still stored and is
// refreshed under the same session ID. The root package runs it on
// MemoryStore and the redisstore module on Redis.
package lifetimetest

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emporix-go/emporix"
	"github.com/emporix-go/emporix/emporixtest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Idle is how long the shopper stays away: just less than the documented
// anonymous refresh lifetime (24 h, refresh_token_expires_in 86399), which
// bounds every session the operations start.
const Idle = emporix.DefaultAnonymousRefreshLifetime - 2*time.Minute

// NewStore returns the store under test. now is the fake clock of the
// client and the fake service; a store with a clock of its own should use it.
type NewStore func(t *testing.T, now func() time.Time) emporix.TokenStore

// Run walks every operation × expiry field × shape. start is when each
// walk's fake clock starts; a store whose expiry runs on another clock
// (Redis) passes the real time less Idle, so that the return happens at
// the store's own "now".
func Run(t *testing.T, newStore NewStore, start func() time.Time) {
	for _, op := range operations {
		for _, field := range []string{"expires_in", "refresh_token_expires_in"} {
			for _, shape := range shapes {
				t.Run(op.name+"/"+field+"="+shape.name, func(t *testing.T) {
					walk(t, newStore, start(), op, field, shape.raw)
				})
			}
		}
	}
}

// shapes are the ways an answer can fail to give an expiry; raw nil means
// the field is left out.
var shapes = []struct {
	name string
	raw  json.RawMessage
}{
	{"absent", nil},
	{"null", json.RawMessage(`null`)},
	{"zero", json.RawMessage(`0`)},
	{"garbage", json.RawMessage(`"soon"`)},
}

type operation struct {
	name string
	// customer: the operation leaves a logged-in customer.
	customer bool
	// run performs the operation on s; f is the fake service.
	run func(ctx context.Context, t *testing.T, s *emporix.Session, f *emporixtest.Server)
}

const password = "P@ssw0rd123"

var operations = []operation{
	{name: "AnonymousLogin", run: func(ctx context.Context, t *testing.T, s *emporix.Session, _ *emporixtest.Server) {
		_, err := s.SessionID(ctx)
		require.NoError(t, err)
	}},
	{name: "AnonymousRefresh", run: func(ctx context.Context, t *testing.T, s *emporix.Session, f *emporixtest.Server) {
		_, err := s.SessionID(ctx)
		require.NoError(t, err)
		f.Advance(emporix.DefaultAnonymousAccessLifetime + time.Minute)
		_, err = s.AnonymousToken(ctx) // refreshed: its answer is the one reshaped
		require.NoError(t, err)
	}},
	{name: "Login", customer: true, run: func(ctx context.Context, t *testing.T, s *emporix.Session, f *emporixtest.Server) {
		_, err := f.AddCustomer("shopper@example.com", password)
		require.NoError(t, err)
		_, err = s.Login(ctx, &emporix.LoginRequest{Email: "shopper@example.com", Password: password})
		require.NoError(t, err)
	}},
	{name: "RefreshCustomer", customer: true, run: func(ctx context.Context, t *testing.T, s *emporix.Session, f *emporixtest.Server) {
		_, err := f.AddCustomer("shopper@example.com", password)
		require.NoError(t, err)
		tok, err := s.Login(ctx, &emporix.LoginRequest{Email: "shopper@example.com", Password: password})
		require.NoError(t, err)
		require.NoError(t, s.InvalidateToken(ctx, tok)) // a customer refresh: its answer is the one reshaped
		renewed, err := s.Token(ctx)
		require.NoError(t, err)
		require.NotEqual(t, tok.AccessToken, renewed.AccessToken)
	}},
	{name: "SocialLogin", customer: true, run: func(ctx context.Context, t *testing.T, s *emporix.Session, f *emporixtest.Server) {
		f.AddSocialCode("code-1", emporixtest.SocialCode{Email: "social@example.com"})
		_, err := s.SocialLogin(ctx, &emporix.SocialLoginRequest{Code: "code-1", RedirectURI: "https://shop.example.com/callback"})
		require.NoError(t, err)
	}},
	{name: "ExchangeToken", customer: true, run: func(ctx context.Context, t *testing.T, s *emporix.Session, f *emporixtest.Server) {
		f.AddSubjectToken("subject-jwt", emporixtest.Subject{Email: "sso@example.com"})
		_, err := s.ExchangeToken(ctx, &emporix.ExchangeRequest{SubjectAccessToken: "subject-jwt"})
		require.NoError(t, err)
	}},
	{name: "ConfirmOptIn", customer: true, run: func(ctx context.Context, t *testing.T, s *emporix.Session, f *emporixtest.Server) {
		f.SetSignupMode(emporixtest.SignupDoubleOptIn)
		_, err := s.Client().Auth.Signup(ctx, &emporix.SignupRequest{Email: "optin@example.com", Password: password})
		require.NoError(t, err)
		_, err = s.ConfirmOptIn(ctx, f.LastToken(emporixtest.MailOptIn, "optin@example.com"))
		require.NoError(t, err)
	}},
}

func walk(t *testing.T, newStore NewStore, start time.Time, op operation, field string, raw json.RawMessage) {
	ctx := context.Background()
	f := emporixtest.NewServer(emporixtest.WithStartTime(start))
	t.Cleanup(f.Close)
	rt := &reshaper{next: f.Client().Transport, field: field, raw: raw}
	c, err := emporix.NewClient(f.Tenant(), f.ClientID(), emporix.WithBaseURL(f.URL()),
		emporix.WithHTTPClient(&http.Client{Transport: rt}), emporix.WithClock(f.Now))
	require.NoError(t, err)
	var mu sync.Mutex
	var changes []emporix.SessionChange
	m, err := emporix.NewSessionManager(c, newStore(t, f.Now), emporix.WithSessionChangeHook(func(_ context.Context, ch emporix.SessionChange) {
		mu.Lock()
		changes = append(changes, ch)
		mu.Unlock()
	}))
	require.NoError(t, err)
	s := m.Session("cookie-1")

	op.run(ctx, t, s, f)
	require.NotZero(t, rt.reshaped(), "the operation's token answer was reshaped")
	before, _, err := m.Store().Load(ctx, s.Key())
	require.NoError(t, err)
	sessionID := before.Anonymous.SessionID
	require.NotEmpty(t, sessionID)

	f.SetNow(start.Add(Idle))

	after, _, err := m.Store().Load(ctx, s.Key())
	require.NoError(t, err, "the store kept the session for an idle period within its refresh token's lifetime")
	assert.Equal(t, sessionID, after.Anonymous.SessionID)
	anon, err := s.AnonymousToken(ctx)
	require.NoError(t, err)
	assert.Equal(t, sessionID, anon.SessionID, "the session ID survives")
	assert.NotEqual(t, before.Anonymous.AccessToken, anon.AccessToken, "the expired anonymous token was refreshed")
	loggedIn, err := s.LoggedIn(ctx)
	require.NoError(t, err)
	assert.Equal(t, op.customer, loggedIn)
	if op.customer {
		cust, err := s.Token(ctx)
		require.NoError(t, err)
		require.NoError(t, s.InvalidateToken(ctx, cust)) // the customer refresh token still works
		renewed, err := s.Token(ctx)
		require.NoError(t, err)
		assert.NotEqual(t, cust.AccessToken, renewed.AccessToken, "the customer token was refreshed")
		assert.Equal(t, emporix.KindCustomer, renewed.Kind)
		assert.Equal(t, sessionID, renewed.SessionID)

		// The profile answers as the customer who logged in before.
		me, err := s.Client().Profile.Get(ctx, nil)
		require.NoError(t, err)
		assert.NotEqual(t, "00000000", me.CustomerNumber)
		assert.NotEmpty(t, me.CustomerNumber)
	}
	mu.Lock()
	assert.Empty(t, changes, "the session ID never changed")
	mu.Unlock()
}

// reshaper rewrites one expiry field (and its camelCase twin) of every
// token answer.
type reshaper struct {
	next  http.RoundTripper
	field string
	raw   json.RawMessage

	mu    sync.Mutex
	count int
}

func (r *reshaper) reshaped() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.count
}

var camel = map[string]string{"expires_in": "expiresIn", "refresh_token_expires_in": "refreshTokenExpiresIn"}

func (r *reshaper) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := r.next.RoundTrip(req)
	if err != nil || resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		return resp, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	var obj map[string]json.RawMessage
	if json.Unmarshal(body, &obj) == nil && (obj["access_token"] != nil || obj["accessToken"] != nil) {
		delete(obj, camel[r.field])
		if r.raw == nil {
			delete(obj, r.field)
		} else {
			obj[r.field] = r.raw
		}
		body, _ = json.Marshal(obj)
		r.mu.Lock()
		r.count++
		r.mu.Unlock()
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	resp.ContentLength = int64(len(body))
	resp.Header.Set("Content-Length", strconv.Itoa(len(body)))
	return resp, nil
}
