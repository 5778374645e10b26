package emporixotel_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emporix-go/emporix"
	"github.com/emporix-go/emporix/emporixtest"
	emporixotel "github.com/emporix-go/emporix/otel"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
)

// harness is a client on the emporixtest fake whose observer reports to an
// in-memory span exporter and a manual metric reader.
type harness struct {
	srv    *emporixtest.Server
	client *emporix.Client
	spans  *tracetest.InMemoryExporter
	reader *sdkmetric.ManualReader
	tp     *sdktrace.TracerProvider
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	h := &harness{srv: emporixtest.NewServer(), spans: tracetest.NewInMemoryExporter(), reader: sdkmetric.NewManualReader()}
	t.Cleanup(h.srv.Close)
	h.tp = sdktrace.NewTracerProvider(sdktrace.WithSyncer(h.spans))
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(h.reader))
	obs, err := emporixotel.New(emporixotel.WithTracerProvider(h.tp), emporixotel.WithMeterProvider(mp))
	require.NoError(t, err)
	h.client, err = emporix.NewClient(h.srv.Tenant(), h.srv.ClientID(), append(h.srv.ClientOptions(),
		emporix.WithObserver(obs),
		emporix.WithRetryPolicy(emporix.RetryPolicy{MaxRetries: 2, MinWait: time.Millisecond, MaxWait: 5 * time.Millisecond}))...)
	require.NoError(t, err)
	return h
}

func (h *harness) metrics(t *testing.T) metricdata.ResourceMetrics {
	t.Helper()
	var rm metricdata.ResourceMetrics
	require.NoError(t, h.reader.Collect(context.Background(), &rm))
	return rm
}

// count returns the sum of the counter name's points whose attributes
// include want.
func count(t *testing.T, rm metricdata.ResourceMetrics, name string, want ...attribute.KeyValue) int64 {
	t.Helper()
	var n int64
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if m.Name != name {
				continue
			}
			sum, ok := m.Data.(metricdata.Sum[int64])
			require.True(t, ok, "%s is an int64 counter", name)
			for _, dp := range sum.DataPoints {
				if hasAll(dp.Attributes, want) {
					n += dp.Value
				}
			}
		}
	}
	return n
}

func hasAll(set attribute.Set, want []attribute.KeyValue) bool {
	for _, kv := range want {
		v, ok := set.Value(kv.Key)
		if !ok || v != kv.Value {
			return false
		}
	}
	return true
}

func attr(kvs []attribute.KeyValue, key attribute.Key) (attribute.Value, bool) {
	for _, kv := range kvs {
		if kv.Key == key {
			return kv.Value, true
		}
	}
	return attribute.Value{}, false
}

// TestOperationSpansAndCounters: one span per operation, named by the
// operationId, with the path template as http.route, the attempts, the
// final status, the request ID and, on failure, the error type; the
// counters count operations by outcome and retries.
func TestOperationSpansAndCounters(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	_, err := h.srv.AddCustomer("john@example.com", "password123")
	require.NoError(t, err)
	anon, err := h.client.Auth.AnonymousLogin(ctx, nil)
	require.NoError(t, err)
	cust, err := h.client.WithTokenSource(emporix.StaticTokens(anon, nil)).Auth.Login(ctx,
		&emporix.LoginRequest{Email: "john@example.com", Password: "password123"})
	require.NoError(t, err)
	me := h.client.WithTokenSource(emporix.StaticTokens(anon, cust))
	id, err := me.Addresses.Create(ctx, &emporix.AddressCreate{ContactName: "John Doe", Country: "DE"})
	require.NoError(t, err)

	h.srv.InjectFault("GET-customer-retrieve-address-by-id", emporixtest.Fault{Status: http.StatusServiceUnavailable})
	h.srv.InjectFault("GET-customer-retrieve-address-by-id", emporixtest.Fault{Status: http.StatusOK, Commit: true,
		Header: http.Header{"X-Request-Id": {"req-42"}}})
	_, err = me.Addresses.Get(ctx, id)
	require.NoError(t, err)
	_, err = me.Addresses.Get(ctx, "no-such-address")
	var apiErr *emporix.APIError
	require.ErrorAs(t, err, &apiErr)
	require.Equal(t, http.StatusNotFound, apiErr.StatusCode)

	spans := h.spans.GetSpans()
	var names []string
	for _, s := range spans {
		names = append(names, s.Name)
	}
	assert.Equal(t, []string{"GET-oauth-generate-anonymous-access-token", "POST-customer-authenticate-customer",
		"POST-customer-add-address", "GET-customer-retrieve-address-by-id", "GET-customer-retrieve-address-by-id"}, names)

	got := spans[3]
	assert.Equal(t, trace.SpanKindClient, got.SpanKind)
	assert.ElementsMatch(t, []attribute.KeyValue{
		emporixotel.AttrOperationID.String("GET-customer-retrieve-address-by-id"),
		attribute.String("http.request.method", "GET"),
		attribute.String("http.route", "/customer/{tenant}/me/addresses/{addressId}"),
		emporixotel.AttrAttempts.Int(2),
		attribute.Int("http.response.status_code", 200),
		emporixotel.AttrRequestID.String("req-42"),
	}, got.Attributes)
	assert.Equal(t, codes.Unset, got.Status.Code)
	require.Len(t, got.Events, 1)
	assert.Equal(t, "retry", got.Events[0].Name)

	missing := spans[4]
	v, _ := attr(missing.Attributes, "error.type")
	assert.Equal(t, "404", v.AsString())
	v, _ = attr(missing.Attributes, "http.response.status_code")
	assert.Equal(t, int64(404), v.AsInt64())
	assert.Equal(t, codes.Error, missing.Status.Code)
	assert.Equal(t, "404", missing.Status.Description, "the status names the error type, not its message")

	rm := h.metrics(t)
	op := emporixotel.AttrOperationID.String("GET-customer-retrieve-address-by-id")
	assert.Equal(t, int64(1), count(t, rm, "emporix.client.requests", op, emporixotel.AttrOutcome.String("success")))
	assert.Equal(t, int64(1), count(t, rm, "emporix.client.requests", op, emporixotel.AttrOutcome.String("404")))
	assert.Equal(t, int64(5), count(t, rm, "emporix.client.requests"))
	assert.Equal(t, int64(1), count(t, rm, "emporix.client.retries", op))
	assert.Equal(t, int64(1), count(t, rm, "emporix.client.retries"))

	assertNothingSecret(t, h, []string{string(anon.AccessToken), string(anon.RefreshToken), anon.SessionID, string(cust.AccessToken),
		string(cust.RefreshToken), string(cust.SaasToken), "password123", "john@example.com", id, h.srv.Tenant()})
}

// TestRefreshAndSessionChangeSpans: a session's renewal is one span for
// all the callers waiting on it, parenting the refresh operation's span;
// a session ID change is a span with its reason; the counters count both.
func TestRefreshAndSessionChangeSpans(t *testing.T) {
	h := newHarness(t)
	sessions, err := emporix.NewSessionManager(h.client, emporix.NewMemoryStore())
	require.NoError(t, err)
	ctx := context.Background()
	key := emporix.NewSessionKey()
	s := sessions.Session(key)
	first, err := s.Token(ctx)
	require.NoError(t, err)

	h.srv.Advance(2 * time.Hour) // the access token expired, its refresh token lives
	tracer := h.tp.Tracer("storefront")
	reqCtx, request := tracer.Start(ctx, "GET /cart") // the storefront's own request span
	var wg sync.WaitGroup
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := s.Token(reqCtx)
			assert.NoError(t, err)
		}()
	}
	wg.Wait()
	request.End()
	h.srv.Advance(22*time.Hour + 30*time.Minute) // the refresh token expired: a new session ID
	second, err := s.Token(ctx)
	require.NoError(t, err)
	require.NotEqual(t, first.SessionID, second.SessionID)

	byName := map[string][]tracetest.SpanStub{}
	for _, sp := range h.spans.GetSpans() {
		byName[sp.Name] = append(byName[sp.Name], sp)
	}
	require.Len(t, byName["emporix.session.refresh"], 3, "start, one renewal for 20 callers, the new session")
	renewal := byName["emporix.session.refresh"][1]
	kind, _ := attr(renewal.Attributes, emporixotel.AttrTokenKind)
	assert.Equal(t, "anonymous", kind.AsString())
	assert.Equal(t, byName["GET /cart"][0].SpanContext.SpanID(), renewal.Parent.SpanID(), "the renewal is part of the request that needed it")
	require.Len(t, byName["GET-oauth-refresh-anonymous-access-token"], 1)
	assert.Equal(t, renewal.SpanContext.SpanID(), byName["GET-oauth-refresh-anonymous-access-token"][0].Parent.SpanID(),
		"the refresh operation runs inside the renewal")
	require.Len(t, byName["emporix.session.change"], 1)
	reason, _ := attr(byName["emporix.session.change"][0].Attributes, emporixotel.AttrChangeReason)
	assert.Equal(t, string(emporix.ReasonRefreshExpired), reason.AsString())

	rm := h.metrics(t)
	assert.Equal(t, int64(3), count(t, rm, "emporix.session.refreshes", emporixotel.AttrTokenKind.String("anonymous"), emporixotel.AttrOutcome.String("success")))
	assert.Equal(t, int64(1), count(t, rm, "emporix.session.changes", emporixotel.AttrChangeReason.String(string(emporix.ReasonRefreshExpired))))

	assertNothingSecret(t, h, []string{key, string(first.AccessToken), string(first.RefreshToken), first.SessionID, string(second.AccessToken),
		string(second.RefreshToken), second.SessionID})
}

// TestFailedRefreshIsAnErrorSpan: a renewal that fails ends its span with
// the error type, and counts as such.
func TestFailedRefreshIsAnErrorSpan(t *testing.T) {
	h := newHarness(t)
	sessions, err := emporix.NewSessionManager(h.client, emporix.NewMemoryStore())
	require.NoError(t, err)
	h.srv.InjectFault("GET-oauth-generate-anonymous-access-token", emporixtest.Fault{Status: http.StatusBadGateway, Times: 3})
	_, err = sessions.Session(emporix.NewSessionKey()).Token(context.Background())
	require.Error(t, err)

	var renewal tracetest.SpanStub
	for _, sp := range h.spans.GetSpans() {
		if sp.Name == "emporix.session.refresh" {
			renewal = sp
		}
	}
	require.Equal(t, "emporix.session.refresh", renewal.Name)
	assert.Equal(t, codes.Error, renewal.Status.Code)
	typ, _ := attr(renewal.Attributes, "error.type")
	assert.NotEmpty(t, typ.AsString())
	assert.NotContains(t, typ.AsString(), " ", "a type, not a message")
	assert.Equal(t, int64(1), count(t, h.metrics(t), "emporix.session.refreshes", emporixotel.AttrOutcome.String(typ.AsString())))
}

func TestErrorType(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want string
	}{
		{nil, ""},
		{&emporix.APIError{StatusCode: 503}, "503"},
		{fmt.Errorf("login: %w", &emporix.APIError{StatusCode: 401}), "401"},
		{fmt.Errorf("%w: %w", emporix.ErrSessionExpired, &emporix.APIError{StatusCode: 401}), "session_expired"},
		{&emporix.ValidationError{Field: "email", Reason: "must not be empty"}, "validation"},
		{context.Canceled, "canceled"},
		{fmt.Errorf("x: %w", context.DeadlineExceeded), "timeout"},
		{&emporix.RequestError{Err: errors.New("connection refused")}, "transport"},
		{&emporix.ResponseError{Reason: "malformed JSON"}, "invalid_response"},
		{errors.New("something else"), "_OTHER"},
	} {
		assert.Equal(t, tc.want, emporixotel.ErrorType(tc.err), "%v", tc.err)
	}
}

// assertNothingSecret checks every attribute of every span, span event and
// metric point: none holds any of secrets (tokens, passwords, e-mail, session
// keys and IDs, customer IDs), and every route is a path template.
func assertNothingSecret(t *testing.T, h *harness, secrets []string) {
	t.Helper()
	var values []string
	check := func(where string, kvs []attribute.KeyValue) {
		for _, kv := range kvs {
			s := kv.Value.String()
			values = append(values, s)
			if kv.Key == "http.route" {
				for _, seg := range strings.Split(strings.Trim(s, "/"), "/") {
					ok := strings.HasPrefix(seg, "{") || !strings.ContainsAny(seg, "0123456789") && seg != h.srv.Tenant()
					assert.True(t, ok, "%s: http.route %q has a raw segment %q", where, s, seg)
				}
			}
		}
	}
	for _, sp := range h.spans.GetSpans() {
		check("span "+sp.Name, sp.Attributes)
		assert.NotContains(t, sp.Status.Description, " ", "span %s: status description is a type", sp.Name)
		values = append(values, sp.Status.Description)
		for _, ev := range sp.Events {
			check("event "+ev.Name, ev.Attributes)
		}
	}
	for _, sm := range h.metrics(t).ScopeMetrics {
		for _, m := range sm.Metrics {
			switch d := m.Data.(type) {
			case metricdata.Sum[int64]:
				for _, dp := range d.DataPoints {
					check("metric "+m.Name, dp.Attributes.ToSlice())
				}
			case metricdata.Histogram[float64]:
				for _, dp := range d.DataPoints {
					check("metric "+m.Name, dp.Attributes.ToSlice())
				}
			}
		}
	}
	require.NotEmpty(t, values)
	for _, secret := range secrets {
		require.NotEmpty(t, secret)
		for _, v := range values {
			assert.NotContains(t, v, secret, "an attribute holds a secret or an ID")
		}
	}
}
