package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emporix-go/emporix"
	"github.com/emporix-go/emporix/emporixtest"
)

// fixture is the storefront handler, wired as main wires it, in front of
// an in-process fake of Emporix that keeps sign-ups inactive.
type fixture struct {
	fake  *emporixtest.Server
	store emporix.TokenStore
	shop  *httptest.Server
	logs  *syncBuffer
}

// newFixture is a storefront on a MemoryStore in front of a fake of its own.
func newFixture(t *testing.T) *fixture {
	t.Helper()
	fake := newFake(t)
	return newShop(t, fake, func(*slog.Logger) emporix.TokenStore {
		return emporix.NewMemoryStore() // on the fake's clock, through the client's
	})
}

func newFake(t *testing.T) *emporixtest.Server {
	t.Helper()
	fake := emporixtest.NewServer(emporixtest.WithSignupMode(emporixtest.SignupInactive))
	t.Cleanup(fake.Close)
	return fake
}

// newShop starts one storefront process in front of fake: its own client,
// store (from newStore), session manager, logs and HTTP server. Several
// shops on one shared store are replicas.
func newShop(t *testing.T, fake *emporixtest.Server, newStore func(*slog.Logger) emporix.TokenStore) *fixture {
	t.Helper()
	logs := &syncBuffer{}
	logger := slog.New(slog.NewTextHandler(logs, nil))

	cfg := config{
		APIURL: fake.URL(), Tenant: fake.Tenant(), ClientID: fake.ClientID(),
		ServiceClientID: fake.ServiceClientID(), ServiceClientSecret: fake.ServiceClientSecret(),
	}
	// The SDK and the fake share the fake's clock, so a test can move time.
	client, err := emporix.NewClient(cfg.Tenant, cfg.ClientID, append(fake.ClientOptions(), emporix.WithLogger(logger))...)
	if err != nil {
		t.Fatal(err)
	}
	store := newStore(logger)
	moves := newCartMoves()
	sessions, err := newSessionManager(client, store, logger, moves)
	if err != nil {
		t.Fatal(err)
	}
	shop := httptest.NewServer(NewServer(sessions, WithActivation(*cfg.serviceCredentials()), WithCartMoves(moves), WithLogger(logger)))
	t.Cleanup(shop.Close)
	return &fixture{fake: fake, store: store, shop: shop, logs: logs}
}

// storeKinds are the token stores the shopper flows run on. The Redis ones
// run on an embedded Redis without REDIS_URL (see testRedisURL).
var storeKinds = []struct {
	name       string
	newFixture func(*testing.T) *fixture
}{
	{"memory", newFixture},
	{"redis", func(t *testing.T) *fixture { return newRedisFixture(t, false) }},
	{"redis-sealed", func(t *testing.T) *fixture { return newRedisFixture(t, true) }},
}

// forEachStore runs test once per store kind, each in a subtest.
func forEachStore(t *testing.T, test func(t *testing.T, f *fixture)) {
	for _, kind := range storeKinds {
		t.Run(kind.name, func(t *testing.T) { test(t, kind.newFixture(t)) })
	}
}

// shopper is one browser: its own cookie jar. Its methods return errors
// instead of failing the test, so that shoppers can run in goroutines.
type shopper struct {
	base string
	http *http.Client
}

func (f *fixture) newShopper(t *testing.T) *shopper {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &shopper{base: f.shop.URL, http: &http.Client{Jar: jar, Timeout: 10 * time.Second}}
}

// at is the same shopper, with the same cookie jar, sending its requests to
// another replica. (Cookies are not told apart by port, so the replicas,
// all on 127.0.0.1, see the same cookie, as behind a load balancer.)
func (s *shopper) at(f *fixture) *shopper {
	return &shopper{base: f.shop.URL, http: s.http}
}

// call sends a request, checks the status and decodes the answer into out.
func (s *shopper) call(method, path string, body any, want int, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, s.base+path, rd)
	if err != nil {
		return err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := s.http.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	if err != nil {
		return err
	}
	if res.StatusCode != want {
		return fmt.Errorf("%s %s: status %d, want %d: %s", method, path, res.StatusCode, want, data)
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			return fmt.Errorf("%s %s: decoding %s: %w", method, path, data, err)
		}
	}
	return nil
}

func (s *shopper) browse() (sessionView, error) {
	var v sessionView
	err := s.call("GET", "/", nil, http.StatusOK, &v)
	return v, err
}

func (s *shopper) signupAndLogin(email, password string) (sessionView, error) {
	var su signupResponse
	if err := s.call("POST", "/signup", signupRequest{Email: email, Password: password, FirstName: "Jane", LastName: "Doe"}, http.StatusCreated, &su); err != nil {
		return sessionView{}, err
	}
	if su.CustomerNumber == "" || !su.Activated {
		return sessionView{}, fmt.Errorf("sign-up answered %+v", su)
	}
	var v sessionView
	err := s.call("POST", "/login", loginRequest{Email: email, Password: password}, http.StatusOK, &v)
	return v, err
}

func (s *shopper) addresses() ([]emporix.Address, error) {
	var list []emporix.Address
	err := s.call("GET", "/addresses", nil, http.StatusOK, &list)
	return list, err
}

func (s *shopper) key() string {
	u, _ := url.Parse(s.base)
	for _, c := range s.http.Jar.Cookies(u) {
		if c.Name == sessionCookie {
			return c.Value
		}
	}
	return ""
}

func (s *shopper) mustBrowse(t *testing.T) sessionView {
	t.Helper()
	v, err := s.browse()
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func (s *shopper) mustAddresses(t *testing.T) []emporix.Address {
	t.Helper()
	list, err := s.addresses()
	if err != nil {
		t.Fatal(err)
	}
	return list
}

func TestShopperJourney(t *testing.T) { forEachStore(t, shopperJourney) }

func shopperJourney(t *testing.T, f *fixture) {
	s := f.newShopper(t)
	ctx := t.Context()

	// Browse anonymously: a session starts and keeps its ID.
	anon := s.mustBrowse(t)
	if anon.SessionID == "" || anon.LoggedIn {
		t.Fatalf("first visit: %+v", anon)
	}
	if again := s.mustBrowse(t); again != anon {
		t.Fatalf("second visit: %+v, want %+v", again, anon)
	}
	anonKey := s.key()

	if err := s.call("GET", "/profile", nil, http.StatusUnauthorized, nil); err != nil {
		t.Fatal(err)
	}

	// Sign up (activated by the shop) and log in: same Emporix session ID,
	// fresh cookie key.
	const email, password = "jane@example.com", "password123"
	if err := s.call("POST", "/login", loginRequest{Email: email, Password: password}, http.StatusUnauthorized, nil); err != nil {
		t.Fatal(err)
	}
	in, err := s.signupAndLogin(email, password)
	if err != nil {
		t.Fatal(err)
	}
	if in.SessionID != anon.SessionID || !in.LoggedIn {
		t.Fatalf("login: %+v, want session ID %s kept", in, anon.SessionID)
	}
	if err := s.call("POST", "/signup", signupRequest{Email: email, Password: password}, http.StatusConflict, nil); err != nil {
		t.Fatal(err)
	}
	key := s.key()
	if key == anonKey {
		t.Errorf("login kept the pre-login cookie key")
	}
	if _, _, err := f.store.Load(ctx, anonKey); !errors.Is(err, emporix.ErrSessionNotFound) {
		t.Errorf("the pre-login key still names a session: %v", err)
	}
	if now := s.mustBrowse(t); now != in {
		t.Errorf("after login GET / answers %+v, want %+v", now, in)
	}

	var p profileView
	if err := s.call("GET", "/profile", nil, http.StatusOK, &p); err != nil {
		t.Fatal(err)
	}
	if p.ContactEmail != email || p.FirstName != "Jane" || p.CustomerNumber == "" {
		t.Errorf("profile: %+v", p)
	}

	// Add, list and delete an address.
	var created struct{ ID string }
	addr := emporix.AddressCreate{ContactName: "Jane Doe", Street: "Main Street", StreetNumber: "1", ZipCode: "10115", City: "Berlin", Country: "DE"}
	if err := s.call("POST", "/addresses", addr, http.StatusCreated, &created); err != nil {
		t.Fatal(err)
	}
	list := s.mustAddresses(t)
	if len(list) != 1 || list[0].ID != created.ID || list[0].Street != "Main Street" {
		t.Fatalf("addresses after create: %+v", list)
	}
	if err := s.call("DELETE", "/addresses/"+created.ID, nil, http.StatusNoContent, nil); err != nil {
		t.Fatal(err)
	}
	if list := s.mustAddresses(t); len(list) != 0 {
		t.Fatalf("addresses after delete: %+v", list)
	}
	if err := s.call("DELETE", "/addresses/"+created.ID, nil, http.StatusNotFound, nil); err != nil {
		t.Fatal(err)
	}

	// Log out: the token is invalidated at Emporix and the session is gone.
	custToken := f.lastCustomerToken(t)
	if err := s.call("POST", "/logout", nil, http.StatusOK, nil); err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.store.Load(ctx, key); !errors.Is(err, emporix.ErrSessionNotFound) {
		t.Errorf("session still stored after logout: %v", err)
	}
	if kind := f.fake.TokenKind(custToken); kind != "" {
		t.Errorf("customer token still known to Emporix after logout: %v", kind)
	}
	if s.key() != "" {
		t.Errorf("logout left the cookie")
	}
	if err := s.call("GET", "/profile", nil, http.StatusUnauthorized, nil); err != nil {
		t.Fatal(err)
	}
	next := s.mustBrowse(t)
	if next.LoggedIn || next.SessionID == anon.SessionID {
		t.Errorf("after logout: %+v, want a new anonymous session", next)
	}
}

// lastCustomerToken returns the access token of the last login answer.
func (f *fixture) lastCustomerToken(t *testing.T) string {
	t.Helper()
	logins := f.fake.Requests("POST-customer-authenticate-customer")
	for i := len(logins) - 1; i >= 0; i-- {
		var tok struct {
			AccessToken string `json:"access_token"`
		}
		if json.Unmarshal(logins[i].ResponseBody, &tok) == nil && tok.AccessToken != "" {
			return tok.AccessToken
		}
	}
	t.Fatal("no successful login")
	return ""
}

func TestTwoShoppersNeverSeeEachOthersData(t *testing.T) {
	forEachStore(t, twoShoppersNeverSeeEachOthersData)
}

func twoShoppersNeverSeeEachOthersData(t *testing.T, f *fixture) {
	names := []string{"alice", "bob"}
	sessionIDs := make([]string, len(names))
	var wg sync.WaitGroup
	for i, name := range names {
		s := f.newShopper(t)
		wg.Go(func() {
			id, err := journey(s, name)
			if err != nil {
				t.Errorf("%s: %v", name, err)
			}
			sessionIDs[i] = id
		})
	}
	wg.Wait()
	if sessionIDs[0] == sessionIDs[1] {
		t.Errorf("both shoppers got session ID %s", sessionIDs[0])
	}
}

// journey signs a shopper up and adds addresses one by one, checking after
// each that the profile and the list hold only the shopper's own data.
func journey(s *shopper, name string) (string, error) {
	anon, err := s.browse()
	if err != nil {
		return "", err
	}
	email := name + "@example.com"
	in, err := s.signupAndLogin(email, "password-"+name)
	if err != nil {
		return "", err
	}
	if in.SessionID != anon.SessionID {
		return "", fmt.Errorf("login changed the session ID from %s to %s", anon.SessionID, in.SessionID)
	}
	const rounds = 5
	for i := range rounds {
		street := fmt.Sprintf("%s street", name)
		a := emporix.AddressCreate{ContactName: name, Street: street, StreetNumber: fmt.Sprint(i), City: "Berlin", Country: "DE"}
		if err := s.call("POST", "/addresses", a, http.StatusCreated, nil); err != nil {
			return "", err
		}
		list, err := s.addresses()
		if err != nil {
			return "", err
		}
		if len(list) != i+1 {
			return "", fmt.Errorf("round %d: %d addresses, want %d", i, len(list), i+1)
		}
		for _, a := range list {
			if a.ContactName != name || a.Street != street {
				return "", fmt.Errorf("sees another shopper's address %+v", a)
			}
		}
		var p profileView
		if err := s.call("GET", "/profile", nil, http.StatusOK, &p); err != nil {
			return "", err
		}
		if p.ContactEmail != email || len(p.Addresses) != i+1 {
			return "", fmt.Errorf("round %d: profile %s with %d addresses", i, p.ContactEmail, len(p.Addresses))
		}
		v, err := s.browse()
		if err != nil {
			return "", err
		}
		if v.SessionID != anon.SessionID || !v.LoggedIn {
			return "", fmt.Errorf("round %d: GET / answers %+v", i, v)
		}
	}
	return anon.SessionID, nil
}

func TestSessionCookie(t *testing.T) {
	f := newFixture(t)
	res, err := http.Get(f.shop.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	cookies := res.Cookies()
	if len(cookies) != 1 {
		t.Fatalf("want one cookie, got %v", cookies)
	}
	c := cookies[0]
	if c.Name != sessionCookie || !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Path != "/" || !wellFormedKey(c.Value) {
		t.Errorf("cookie %+v: want HttpOnly, SameSite=Lax, Path=/ and a random key", c)
	}
	if c.Secure {
		t.Errorf("cookie on plain HTTP marked Secure without WithSecureCookies")
	}

	// A cookie the shop did not issue does not name a session.
	req, _ := http.NewRequest("GET", f.shop.URL+"/", nil)
	req.AddCookie(&http.Cookie{Name: sessionCookie, Value: "chosen-by-an-attacker"})
	res, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if got := res.Cookies(); len(got) != 1 || got[0].Value == "chosen-by-an-attacker" {
		t.Errorf("a malformed key was accepted: %v", got)
	}
}

func TestCrossOriginPostsAreRefused(t *testing.T) {
	f := newFixture(t)
	req, _ := http.NewRequest("POST", f.shop.URL+"/login", strings.NewReader(`{"email":"a@example.com","password":"password123"}`))
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusForbidden {
		t.Errorf("cross-site POST answered %d, want 403", res.StatusCode)
	}
	if n := len(f.fake.Requests("POST-customer-authenticate-customer")); n != 0 {
		t.Errorf("cross-site POST reached Emporix %d times", n)
	}
}

func TestSessionChangeIsLogged(t *testing.T) { forEachStore(t, sessionChangeIsLogged) }

func sessionChangeIsLogged(t *testing.T, f *fixture) {
	s := f.newShopper(t)
	before := s.mustBrowse(t)

	// The anonymous refresh token lives 24 hours; past it, the session
	// manager must start a new Emporix session and report the change.
	f.fake.Advance(24*time.Hour + time.Minute)
	after := s.mustBrowse(t)
	if after.SessionID == before.SessionID {
		t.Fatalf("session ID %s survived its refresh token", before.SessionID)
	}
	logs := f.logs.String()
	for _, want := range []string{
		"shopper session changed", "old_session_id=" + before.SessionID,
		"new_session_id=" + after.SessionID, "reason=" + string(emporix.ReasonRefreshExpired),
	} {
		if !strings.Contains(logs, want) {
			t.Errorf("logs lack %q:\n%s", want, logs)
		}
	}
	if strings.Contains(logs, s.key()) {
		t.Errorf("logs contain the shopper's session key")
	}
}

func TestConfigFromEnv(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	if cfg, err := configFromEnv(env(nil)); err != nil || cfg.Tenant != "" || cfg.APIURL != emporix.DefaultBaseURL {
		t.Errorf("empty environment: %+v, %v", cfg, err)
	}
	if _, err := configFromEnv(env(map[string]string{"EMPORIX_TENANT": "mytenant"})); err == nil {
		t.Errorf("a tenant without EMPORIX_CLIENT_ID was accepted")
	}
	cfg, err := configFromEnv(env(map[string]string{"EMPORIX_TENANT": "mytenant", "EMPORIX_CLIENT_ID": "sf"}))
	if err != nil || cfg.serviceCredentials() != nil {
		t.Errorf("tenant without service credentials: %+v, %v", cfg, err)
	}
	stop := cfg.startFake()
	defer stop()
	if cfg.Tenant != emporixtest.DefaultTenant || cfg.serviceCredentials() == nil {
		t.Errorf("startFake: %+v", cfg)
	}
	client, err := newClient(cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatalf("newClient: %v", err)
	}
	logs := &syncBuffer{}
	store, closeStore, err := newTokenStore(t.Context(), cfg, slog.New(slog.NewTextHandler(logs, nil)))
	if err != nil {
		t.Fatalf("newTokenStore: %v", err)
	}
	defer closeStore()
	if _, ok := store.(*emporix.MemoryStore); !ok || !strings.Contains(logs.String(), "session store: in memory") {
		t.Errorf("without REDIS_URL: a %T, logged %q; want a MemoryStore, logged", store, logs)
	}
	if _, err := newSessionManager(client, store, slog.New(slog.DiscardHandler), nil); err != nil {
		t.Errorf("newSessionManager: %v", err)
	}
}

// syncBuffer is a bytes.Buffer safe for the concurrent writes of a logger.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
