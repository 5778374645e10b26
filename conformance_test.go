package emporix

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/emporix-go/emporix/internal/optable"
	"github.com/emporix-go/emporix/internal/skipnote"
	"github.com/emporix-go/emporix/internal/spectest"
)

// Spec conformance: every request the SDK sends in a unit test (through
// serve in helpers_test.go) and every scripted response is checked against
// the Emporix OpenAPI documents named by EMPORIX_SPEC_DIR (CI:
// ../shared/spec). The documents are not in the repository. Without the
// variable the checks are skipped; with it set to a folder that does not
// load, every check fails.

var (
	specOnce  sync.Once
	specValue *spectest.Spec
	specErr   error
	specSet   bool
)

// conformanceSpec returns the loaded spec, or nil when EMPORIX_SPEC_DIR is
// unset. A load failure is returned as an error (it never goes away: the
// spec is loaded once).
func conformanceSpec() (*spectest.Spec, error) {
	specOnce.Do(func() {
		dir, ok := spectest.DirFromEnv()
		if !ok {
			return
		}
		specSet = true
		specValue, specErr = spectest.Load(dir)
		if specErr != nil {
			specErr = fmt.Errorf("%s=%q: %w", spectest.EnvDir, dir, specErr)
			return
		}
		specValue.Classify = classifyTestToken
	})
	return specValue, specErr
}

// requireSpec skips the test when EMPORIX_SPEC_DIR is unset and fails it
// when the spec does not load.
func requireSpec(t *testing.T) *spectest.Spec {
	t.Helper()
	spec, err := conformanceSpec()
	if err != nil {
		t.Fatalf("spec conformance: %v", err)
	}
	if spec == nil {
		skipnote.Skip(t, spectest.SkipReason)
	}
	return spec
}

// classifyTestToken names the security scheme of the test tokens of
// helpers_test.go, so that sending the customer token where only the
// anonymous one is allowed (or the reverse) is a violation. Other tokens are
// only checked for presence.
func classifyTestToken(tok string) string {
	switch tok {
	case anonAccess:
		return spectest.SchemeAnonymous
	case custAccess:
		return spectest.SchemeCustomer
	}
	return ""
}

// offSpecTests holds the names of tests that script responses outside the
// spec on purpose (robustness tests: malformed or empty success bodies and
// the like). Their requests are still checked; their responses are not.
var offSpecTests sync.Map

// allowOffSpecResponses declares that t deliberately scripts responses the
// spec does not describe. Subtests of t inherit it.
func allowOffSpecResponses(t *testing.T, reason string) {
	t.Helper()
	if strings.TrimSpace(reason) == "" {
		t.Fatal("allowOffSpecResponses needs a reason")
	}
	offSpecTests.Store(t.Name(), reason)
	t.Cleanup(func() { offSpecTests.Delete(t.Name()) })
}

func responsesOffSpec(t *testing.T) bool {
	for name := t.Name(); ; {
		if _, ok := offSpecTests.Load(name); ok {
			return true
		}
		i := strings.LastIndexByte(name, '/')
		if i < 0 {
			return false
		}
		name = name[:i]
	}
}

// tolerated says whether a response problem is a known, deliberate
// deviation from the documents rather than a fixture error. Only
// undocumented statuses are ever tolerated, never a documented status with
// a body that contradicts its schema.
func tolerated(opID string, status int, p spectest.Problem) bool {
	if p.Kind != spectest.KindStatus {
		return false
	}
	switch {
	case status == http.StatusRequestTimeout || status == http.StatusTooManyRequests || status >= 500:
		// No Emporix document declares timeouts, rate limiting or
		// gateway/server errors per operation, yet the service (behind its
		// API gateway) sends them and the SDK's retry layer must handle
		// them: 408, 429 and 5xx are accepted for every operation, without a
		// body schema to check.
		return true
	case status >= 400 && status < 500 && (opID == opAnonymousLogin.ID || opID == opAnonymousRefresh.ID):
		// The anonymous token endpoints declare no error responses at all
		// (API-INVENTORY §1 #1 and #2), so an error answer (such as 401 for
		// a dead refresh token) cannot contradict them; there is no schema.
		return true
	}
	return false
}

// checkConformance validates a request and its response against the spec.
// It is a no-op when EMPORIX_SPEC_DIR is unset.
func checkConformance(t *testing.T, req *http.Request, body []byte, resp *http.Response) {
	t.Helper()
	spec, err := conformanceSpec()
	if err != nil {
		t.Errorf("spec conformance: %v", err)
		return
	}
	if spec == nil {
		return
	}
	var respBody []byte
	if resp != nil && resp.Body != nil {
		respBody, _ = io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		resp.Body = io.NopCloser(bytes.NewReader(respBody))
	}

	if err := spec.ValidateRequest(req, body); err != nil {
		t.Errorf("spec conformance: the SDK sent a request outside the spec: %v", err)
	}
	op, err := spec.Route(req)
	if err != nil {
		return // reported above
	}
	if row := optable.ByID(op.ID); row == nil || !row.SDK() {
		t.Errorf("spec conformance: %s %s is operation %s, which is not one of the SDK's operations", req.Method, req.URL.EscapedPath(), op.ID)
	}
	if k, ok := req.Context().Value(callKey{}).(*call); ok && k.op.ID != op.ID {
		t.Errorf("spec conformance: SDK operation %s sent %s %s, which the spec routes to %s (%s %s)",
			k.op.ID, req.Method, req.URL.EscapedPath(), op.ID, op.Method, op.Path)
	}

	if resp == nil || responsesOffSpec(t) {
		return
	}
	err = spec.ValidateResponse(req, body, resp.StatusCode, resp.Header, respBody)
	var se *spectest.Error
	if errors.As(err, &se) {
		err = se.Without(func(p spectest.Problem) bool { return tolerated(op.ID, resp.StatusCode, p) })
	}
	if err != nil {
		t.Errorf("spec conformance: the test fixture scripts a response outside the spec "+
			"(fix the fixture, or call allowOffSpecResponses(t, reason) if that is the point of the test): %v", err)
	}
}
