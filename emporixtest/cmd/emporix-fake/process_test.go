package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// These tests run emporix-fake as a separate process, as a frontend team
// would: build it, start it, read what it prints, talk to it with plain
// HTTP calls, signal it, check how it exits.

var (
	buildOnce sync.Once
	binary    string
	buildErr  error
	buildOut  []byte
)

func TestMain(m *testing.M) {
	code := m.Run()
	if binary != "" {
		_ = os.RemoveAll(filepath.Dir(binary))
	}
	os.Exit(code)
}

// build compiles the command once per test run.
func build(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		goCmd, err := exec.LookPath("go")
		if err != nil {
			buildErr = err
			return
		}
		dir, err := os.MkdirTemp("", "emporix-fake-test")
		if err != nil {
			buildErr = err
			return
		}
		binary = filepath.Join(dir, "emporix-fake")
		args := []string{"build", "-o", binary}
		if raceEnabled {
			args = append(args, "-race")
		}
		cmd := exec.Command(goCmd, append(args, ".")...)
		buildOut, buildErr = cmd.CombinedOutput()
	})
	require.NoError(t, buildErr, "go build: %s", buildOut)
	return binary
}

// execFake returns a command running the fake with args, for tests that
// only look at how it exits.
func execFake(t *testing.T, args ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(build(t), args...)
	cmd.WaitDelay = 10 * time.Second
	return cmd
}

func jsonDecoder(r io.Reader) *json.Decoder { return json.NewDecoder(r) }

// proc is a running fake.
type proc struct {
	cmd    *exec.Cmd
	stdout *lockedWriter
	stderr *lockedWriter
	done   chan struct{} // closed once the process has exited
}

// startFake starts the fake with args and waits until it has printed its
// connection details (it prints them only once it listens): the JSON line
// with -json, else the text up to "Stop with Ctrl-C.".
func startFake(t *testing.T, args ...string) (*proc, string) {
	t.Helper()
	cmd := exec.Command(build(t), args...)
	p := &proc{cmd: cmd, stdout: &lockedWriter{}, stderr: &lockedWriter{}, done: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = p.stdout, p.stderr
	require.NoError(t, cmd.Start())
	go func() { _ = cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			_ = cmd.Process.Kill()
			<-p.done
		}
	})
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		out := p.stdout.String()
		if (slices.Contains(args, "-json") && strings.HasSuffix(out, "\n")) || strings.Contains(out, "Stop with Ctrl-C.\n") {
			return p, out
		}
		select {
		case <-p.done:
			t.Fatalf("the fake exited before it was ready; stdout: %s; stderr: %s", out, p.stderr)
		case <-time.After(10 * time.Millisecond):
		}
	}
	t.Fatalf("the fake was not ready within 30 s; stdout: %s; stderr: %s", p.stdout, p.stderr)
	return nil, ""
}

// stop sends sig and returns the exit code, failing after 10 s.
func (p *proc) stop(t *testing.T, sig os.Signal) int {
	t.Helper()
	require.NoError(t, p.cmd.Process.Signal(sig))
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		t.Fatalf("the fake did not exit within 10 s of %v", sig)
	}
	return p.cmd.ProcessState.ExitCode()
}

// lockedWriter collects a process's output while the test reads it.
type lockedWriter struct {
	mu sync.Mutex
	w  bytes.Buffer
}

func (l *lockedWriter) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(b)
}

func (l *lockedWriter) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.String()
}

// call sends one request and decodes a JSON answer into out (when not nil).
func call(t *testing.T, method, u, bearer string, body any, out any, header ...string) *http.Response {
	t.Helper()
	var rd io.Reader
	ctype := "application/json"
	switch b := body.(type) {
	case nil:
	case url.Values:
		rd, ctype = strings.NewReader(b.Encode()), "application/x-www-form-urlencoded"
	default:
		raw, err := json.Marshal(b)
		require.NoError(t, err)
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, u, rd)
	require.NoError(t, err)
	if rd != nil {
		req.Header.Set("Content-Type", ctype)
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	client := &http.Client{Timeout: 10 * time.Second}
	resp, err := client.Do(req)
	require.NoError(t, err, "%s %s", method, u)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	if out != nil && len(raw) > 0 {
		require.NoError(t, json.Unmarshal(raw, out), "%s %s answered %d %s", method, u, resp.StatusCode, raw)
	}
	return resp
}

type tokenAnswer struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
	SessionIDA   string `json:"sessionId"`
	SessionIDB   string `json:"session_id"`
}

// TestProcessTutorial walks the Emporix tutorial against the process with
// plain HTTP calls, using only what the fake printed: the base URL, tenant,
// storefront client ID and service credentials. Sign-ups stay inactive, so
// an employee's activation with the service token is part of the walk.
// SIGTERM then stops it with exit status 0.
func TestProcessTutorial(t *testing.T) {
	p, line := startFake(t, "-addr", "127.0.0.1:0", "-json", "-signup", "inactive")
	var in info
	require.NoError(t, json.Unmarshal([]byte(line), &in), "the -json line: %s", line)
	assert.Regexp(t, `^http://127\.0\.0\.1:[0-9]+$`, in.BaseURL)
	assert.Equal(t, "emporixtest", in.Tenant)
	assert.Equal(t, "emporixtest-storefront", in.ClientID)
	assert.Equal(t, "emporixtest-service", in.ServiceClientID)
	assert.Equal(t, "emporixtest-service-secret", in.ServiceClientSecret)
	assert.Equal(t, "inactive", in.SignupMode)
	base, tenant := in.BaseURL, in.Tenant

	// 1. A guest arrives: an anonymous token with a session ID.
	var anon tokenAnswer
	resp := call(t, "GET", base+"/customerlogin/auth/anonymous/login?"+url.Values{"tenant": {tenant}, "client_id": {in.ClientID}}.Encode(), "", nil, &anon)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.NotEmpty(t, anon.AccessToken)
	require.NotEmpty(t, anon.SessionIDA)

	// 2. Sign-up: the account is created inactive, so logging in fails.
	email, password := "ada@example.com", "first-password-1"
	var created struct{ ID string }
	resp = call(t, "POST", base+"/customer/"+tenant+"/signup", anon.AccessToken, map[string]any{"email": email, "password": password}, &created)
	require.Equal(t, http.StatusCreated, resp.StatusCode)
	require.NotEmpty(t, created.ID)
	resp = call(t, "POST", base+"/customer/"+tenant+"/login", anon.AccessToken, map[string]any{"email": email, "password": password}, nil)
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode, "an inactive account cannot log in")

	// 3. An employee activates it with the printed service credentials.
	var service struct {
		AccessToken string `json:"access_token"`
	}
	resp = call(t, "POST", base+"/oauth/token", "", url.Values{"grant_type": {"client_credentials"}, "client_id": {in.ServiceClientID}, "client_secret": {in.ServiceClientSecret}}, &service)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	resp = call(t, "PATCH", base+"/customer/"+tenant+"/customers/"+created.ID, service.AccessToken, map[string]any{"active": true}, nil)
	require.Equal(t, http.StatusOK, resp.StatusCode)

	// 4. Login keeps the guest's session ID.
	var cust tokenAnswer
	resp = call(t, "POST", base+"/customer/"+tenant+"/login", anon.AccessToken, map[string]any{"email": email, "password": password}, &cust)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, anon.SessionIDA, cust.SessionIDB, "the session carries over into the login")

	// 5. Profile and an address.
	var profile map[string]any
	resp = call(t, "GET", base+"/customer/"+tenant+"/me", cust.AccessToken, nil, &profile)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, email, profile["contactEmail"])
	var addr struct{ ID string }
	resp = call(t, "POST", base+"/customer/"+tenant+"/me/addresses", cust.AccessToken, map[string]any{"contactName": "Ada Lovelace", "street": "Main St 1", "zipCode": "10115", "city": "Berlin", "country": "DE"}, &addr)
	require.Equal(t, http.StatusCreated, resp.StatusCode)
	var addrs []map[string]any
	call(t, "GET", base+"/customer/"+tenant+"/me/addresses", cust.AccessToken, nil, &addrs)
	require.Len(t, addrs, 1)
	assert.Equal(t, addr.ID, addrs[0]["id"])

	// 6. Password reset: the e-mailed code comes from the outbox control.
	resp = call(t, "POST", base+"/customer/"+tenant+"/password/reset", anon.AccessToken, map[string]any{"email": email}, nil)
	require.Equal(t, http.StatusNoContent, resp.StatusCode)
	var outbox []struct{ Kind, To, Token string }
	call(t, "GET", base+"/_fake/outbox?email="+url.QueryEscape(email), "", nil, &outbox)
	require.Len(t, outbox, 1)
	assert.Equal(t, "password-reset", outbox[0].Kind)
	newPassword := "second-password-2"
	resp = call(t, "POST", base+"/customer/"+tenant+"/password/reset/update", anon.AccessToken, map[string]any{"token": outbox[0].Token, "password": newPassword}, nil)
	require.Equal(t, http.StatusNoContent, resp.StatusCode)
	resp = call(t, "POST", base+"/customer/"+tenant+"/login", anon.AccessToken, map[string]any{"email": email, "password": password}, nil)
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode, "the old password is gone")
	resp = call(t, "POST", base+"/customer/"+tenant+"/login", anon.AccessToken, map[string]any{"email": email, "password": newPassword}, &cust)
	require.Equal(t, http.StatusOK, resp.StatusCode)

	// 7. Refresh the customer token (authorized by the anonymous token),
	// then log out: the token stops working.
	var refreshed tokenAnswer
	resp = call(t, "GET", base+"/customer/"+tenant+"/refreshauthtoken?refreshToken="+url.QueryEscape(cust.RefreshToken), anon.AccessToken, nil, &refreshed)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.NotEqual(t, cust.AccessToken, refreshed.AccessToken)
	resp = call(t, "GET", base+"/customer/"+tenant+"/logout?accessToken="+url.QueryEscape(refreshed.AccessToken), refreshed.AccessToken, nil, nil)
	require.Less(t, resp.StatusCode, 300)
	resp = call(t, "GET", base+"/customer/"+tenant+"/me", refreshed.AccessToken, nil, nil)
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)

	code := p.stop(t, syscall.SIGTERM)
	assert.Equal(t, 0, code, "stderr: %s", p.stderr)
	assert.Contains(t, p.stderr.String(), "emporix-fake: stopped")
	assert.NotContains(t, p.stderr.String(), newPassword)
}
