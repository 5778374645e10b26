package emporix_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"sync"
	"testing"

	"github.com/emporix-go/emporix"
	"github.com/emporix-go/emporix/emporixtest"
	"github.com/emporix-go/emporix/internal/skipnote"
	"github.com/emporix-go/emporix/internal/spectest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// specTransport validates every exchange that passes through it against
// the spec: the SDK's requests and the fake server's answers.
type specTransport struct {
	spec *spectest.Spec
	next http.RoundTripper

	mu   sync.Mutex
	seen map[string]int // operation ID → exchanges
	errs []error
}

func (s *specTransport) fail(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.errs = append(s.errs, err)
}

// violations returns the violations seen so far.
func (s *specTransport) violations() []error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]error(nil), s.errs...)
}

func (s *specTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	var body []byte
	if req.Body != nil && req.Body != http.NoBody {
		var err error
		if body, err = io.ReadAll(req.Body); err != nil {
			return nil, err
		}
		_ = req.Body.Close()
		req.Body = io.NopCloser(bytes.NewReader(body))
	}
	if err := s.spec.ValidateRequest(req, body); err != nil {
		s.fail(fmt.Errorf("spec conformance: the SDK sent a request outside the spec: %w", err))
	}
	op, routeErr := s.spec.Route(req)
	if routeErr == nil {
		s.mu.Lock()
		s.seen[op.ID]++
		s.mu.Unlock()
	}
	resp, err := s.next.RoundTrip(req)
	if err != nil || routeErr != nil || slices.Contains(undocumentedAnswers[op.ID], resp.StatusCode) {
		return resp, err
	}
	respBody, err := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if err != nil {
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(respBody))
	if err := s.spec.ValidateResponse(req, body, resp.StatusCode, resp.Header, respBody); err != nil {
		s.fail(fmt.Errorf("spec conformance: emporixtest answered outside the spec: %w", err))
	}
	return resp, nil
}

// undocumentedAnswers are the statuses the service answers (and so the
// fake) that the spec does not document for the operation: a stale
// metadata.version is a 409 (see API-INVENTORY.md, optimistic locking).
var undocumentedAnswers = map[string][]int{
	"PATCH-customer-update-customer":         {http.StatusConflict},
	"PATCH-customer-update-customer-address": {http.StatusConflict},
}

func e2eSpec(t *testing.T) *spectest.Spec {
	t.Helper()
	dir, ok := spectest.DirFromEnv()
	if !ok {
		skipnote.Skip(t, spectest.SkipReason)
	}
	spec, err := spectest.Load(dir)
	require.NoError(t, err)
	return spec
}

// TestSpecConformanceEndToEnd runs the end-to-end flows against the
// emporixtest fake through a validating transport: each request the SDK
// really builds, with real token flows, must match the spec, and so must
// each answer of the fake, and together the flows exercise every
// operation of the SDK.
func TestSpecConformanceEndToEnd(t *testing.T) {
	spec := e2eSpec(t)
	seen := map[string]int{}
	for _, f := range e2eFlows {
		t.Run(f.name, func(t *testing.T) {
			var tr *specTransport
			tg := newFakeTarget(t, func(next http.RoundTripper) http.RoundTripper {
				tr = &specTransport{spec: spec, next: next, seen: map[string]int{}}
				return tr
			})
			f.run(t, tg)
			for _, err := range tr.violations() {
				t.Error(err)
			}
			for id, n := range tr.seen {
				seen[id] += n
			}
		})
	}
	var missing []string
	ids := emporix.SDKOperationIDs()
	for _, o := range append(spec.Operations(spectest.DocCustomerManaged), spec.Operations(spectest.DocOAuth)...) {
		ids = append(ids, o.ID)
	}
	for _, id := range ids {
		if seen[id] == 0 && !slices.Contains(missing, id) {
			missing = append(missing, id)
		}
	}
	assert.Empty(t, missing, "operations not exercised")
	assert.Len(t, seen, len(emporix.SDKOperationIDs()), "operations exercised: %v", seen)
}

// The validating transport reports what it sees: a request outside the
// spec sent through it is caught, so the end-to-end test cannot pass
// vacuously.
func TestSpecConformanceEndToEndCatchesViolations(t *testing.T) {
	spec := e2eSpec(t)
	srv := emporixtest.NewServer(emporixtest.WithTenant("mytenant"))
	defer srv.Close()
	tr := &specTransport{spec: spec, next: srv.Client().Transport, seen: map[string]int{}}
	hc := &http.Client{Transport: tr}

	put, err := http.NewRequest(http.MethodPut, srv.URL()+"/customer/mytenant/me", bytes.NewReader([]byte(`{}`)))
	require.NoError(t, err)
	put.Header.Set("Content-Type", "application/json")
	put.Header.Set("Authorization", "Bearer x")
	res, err := hc.Do(put)
	require.NoError(t, err)
	_ = res.Body.Close()

	login, err := http.NewRequest(http.MethodGet, srv.URL()+"/customerlogin/auth/anonymous/login?tenant=mytenant&client_id="+srv.ClientID()+"&pageSize=1", nil)
	require.NoError(t, err)
	res, err = hc.Do(login)
	require.NoError(t, err)
	_ = res.Body.Close()

	errs := tr.violations()
	require.Len(t, errs, 2, "violations: %v", errs)
	for i, kind := range []string{spectest.KindMethod, spectest.KindUnknownParameter} {
		var se *spectest.Error
		require.True(t, errors.As(errs[i], &se), "%v", errs[i])
		assert.True(t, se.Has(kind), "want %s in %v", kind, errs[i])
	}
}

// TestSpecSkipIsListedAfterTheRun: without EMPORIX_SPEC_DIR the spec checks
// skip, and say so where go test's default output shows it (TestMain), not
// only under -v: a newcomer running the README's test command learns what
// did not run.
func TestSpecSkipIsListedAfterTheRun(t *testing.T) {
	t.Setenv(spectest.EnvDir, "") // restores the variable after the test
	require.NoError(t, os.Unsetenv(spectest.EnvDir))
	var sub *testing.T
	t.Run("needs the spec", func(t *testing.T) {
		sub = t
		e2eSpec(t)
	})
	require.True(t, sub.Skipped())
	assert.Contains(t, skipnote.Summary("emporix"), sub.Name()+": "+spectest.SkipReason)
	skipnote.Forget(sub) // a skip on purpose: not one to report
}
