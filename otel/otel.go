// Package emporixotel reports what an emporix Client and its sessions do to
// OpenTelemetry: a span per API operation, spans for token renewals and
// session ID changes, and counters. It is a module of its own, so the SDK
// itself does not depend on OpenTelemetry.
//
//	obs, err := emporixotel.New() // the global TracerProvider and MeterProvider
//	client, err := emporix.NewClient("mytenant", "storefront-client-id", emporix.WithObserver(obs))
//
// # Spans
//
// An operation's span is named by the operationId of the Emporix OpenAPI
// document, such as "POST-customer-authenticate-customer", of kind client,
// and covers the whole operation: the token it needed, its retries, and a
// resend after a token renewal. Attributes: emporix.operation.id,
// http.request.method, http.route (the path template, such as
// "/customer/{tenant}/me/addresses/{addressId}"), emporix.attempts,
// http.response.status_code (of the last answer), emporix.request_id (when
// the service sent one) and, on failure, error.type, with the span's status
// set to Error. HTTP spans of otelhttp on the client's transport nest below
// it, one per attempt.
//
// A session's token renewal is a span "emporix.session.refresh"
// (emporix.token.kind: anonymous or customer); the operations it calls nest
// below it. A session ID change is a span "emporix.session.change"
// (emporix.session.change.reason).
//
// No attribute holds a token, password, code, e-mail address, session key,
// session ID or a path with the customer's IDs, and errors are reported by
// type, never by message.
//
// # Metrics
//
//   - emporix.client.requests (counter): operations, by emporix.operation.id
//     and emporix.outcome ("success" or the error.type);
//   - emporix.client.duration (histogram, seconds): operation durations, by
//     emporix.operation.id and emporix.outcome;
//   - emporix.client.retries (counter): repeated attempts, by
//     emporix.operation.id;
//   - emporix.session.refreshes (counter): token renewals, by
//     emporix.token.kind and emporix.outcome;
//   - emporix.session.changes (counter): session ID changes, by
//     emporix.session.change.reason.
package emporixotel

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/emporix-go/emporix"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"
)

// ScopeName is the instrumentation scope of the tracer and meter.
const ScopeName = "github.com/emporix-go/emporix/otel"

// Attribute keys.
const (
	AttrOperationID  = attribute.Key("emporix.operation.id")
	AttrAttempts     = attribute.Key("emporix.attempts")
	AttrRequestID    = attribute.Key("emporix.request_id")
	AttrOutcome      = attribute.Key("emporix.outcome")
	AttrTokenKind    = attribute.Key("emporix.token.kind")
	AttrChangeReason = attribute.Key("emporix.session.change.reason")
	attrMethod       = attribute.Key("http.request.method")
	attrRoute        = attribute.Key("http.route")
	attrStatus       = attribute.Key("http.response.status_code")
	attrErrorType    = attribute.Key("error.type")
)

// Option configures [New].
type Option func(*config)

type config struct {
	tp trace.TracerProvider
	mp metric.MeterProvider
}

// WithTracerProvider sets the tracer provider (default: otel's global one).
func WithTracerProvider(tp trace.TracerProvider) Option { return func(c *config) { c.tp = tp } }

// WithMeterProvider sets the meter provider (default: otel's global one).
func WithMeterProvider(mp metric.MeterProvider) Option { return func(c *config) { c.mp = mp } }

type observer struct {
	tracer    trace.Tracer
	requests  metric.Int64Counter
	duration  metric.Float64Histogram
	retries   metric.Int64Counter
	refreshes metric.Int64Counter
	changes   metric.Int64Counter
}

// New returns an [emporix.Observer] that reports to OpenTelemetry; pass it
// to [emporix.WithObserver]. It fails only when an instrument cannot be
// created.
func New(opts ...Option) (emporix.Observer, error) {
	cfg := config{}
	for _, o := range opts {
		if o != nil {
			o(&cfg)
		}
	}
	if cfg.tp == nil {
		cfg.tp = otel.GetTracerProvider()
	}
	if cfg.mp == nil {
		cfg.mp = otel.GetMeterProvider()
	}
	meter := cfg.mp.Meter(ScopeName)
	var errs []error
	counter := func(name, unit, desc string) metric.Int64Counter {
		c, err := meter.Int64Counter(name, metric.WithUnit(unit), metric.WithDescription(desc))
		errs = append(errs, err)
		return c
	}
	duration, err := meter.Float64Histogram("emporix.client.duration", metric.WithUnit("s"),
		metric.WithDescription("Duration of operations of the Emporix API, retries included."))
	o := &observer{
		tracer:    cfg.tp.Tracer(ScopeName),
		requests:  counter("emporix.client.requests", "{operation}", "Operations of the Emporix API, by operation and outcome."),
		duration:  duration,
		retries:   counter("emporix.client.retries", "{attempt}", "Repeated attempts of operations of the Emporix API."),
		refreshes: counter("emporix.session.refreshes", "{renewal}", "Token renewals of shopper sessions, by token kind and outcome."),
		changes:   counter("emporix.session.changes", "{change}", "Session ID changes of shopper sessions, by reason."),
	}
	if err := errors.Join(append(errs, err)...); err != nil {
		return emporix.Observer{}, err
	}
	return emporix.Observer{
		Operation:     o.operation,
		Retry:         o.retry,
		Refresh:       o.refresh,
		SessionChange: o.sessionChange,
	}, nil
}

func (o *observer) operation(ctx context.Context, op emporix.OperationInfo) (context.Context, func(emporix.OperationResult)) {
	ctx, span := o.tracer.Start(ctx, op.ID, trace.WithSpanKind(trace.SpanKindClient), trace.WithAttributes(
		AttrOperationID.String(op.ID), attrMethod.String(op.Method), attrRoute.String(op.Route)))
	start := time.Now()
	return ctx, func(res emporix.OperationResult) {
		attrs := make([]attribute.KeyValue, 0, 4)
		attrs = append(attrs, AttrAttempts.Int(res.Attempts))
		if res.StatusCode != 0 {
			attrs = append(attrs, attrStatus.Int(res.StatusCode))
		}
		if res.RequestID != "" {
			attrs = append(attrs, AttrRequestID.String(res.RequestID))
		}
		outcome := "success"
		if res.Err != nil {
			outcome = ErrorType(res.Err)
			attrs = append(attrs, attrErrorType.String(outcome))
			span.SetStatus(codes.Error, outcome)
		}
		span.SetAttributes(attrs...)
		span.End()
		set := metric.WithAttributes(AttrOperationID.String(op.ID), AttrOutcome.String(outcome))
		o.requests.Add(ctx, 1, set)
		o.duration.Record(ctx, time.Since(start).Seconds(), set)
	}
}

func (o *observer) retry(ctx context.Context, op emporix.OperationInfo, attempt int) {
	o.retries.Add(ctx, 1, metric.WithAttributes(AttrOperationID.String(op.ID)))
	trace.SpanFromContext(ctx).AddEvent("retry", trace.WithAttributes(AttrAttempts.Int(attempt)))
}

func (o *observer) refresh(ctx context.Context, kind emporix.TokenKind) (context.Context, func(error)) {
	ctx, span := o.tracer.Start(ctx, "emporix.session.refresh", trace.WithAttributes(AttrTokenKind.String(kind.String())))
	return ctx, func(err error) {
		outcome := "success"
		if err != nil {
			outcome = ErrorType(err)
			span.SetAttributes(attrErrorType.String(outcome))
			span.SetStatus(codes.Error, outcome)
		}
		span.End()
		o.refreshes.Add(ctx, 1, metric.WithAttributes(AttrTokenKind.String(kind.String()), AttrOutcome.String(outcome)))
	}
}

func (o *observer) sessionChange(ctx context.Context, ch emporix.SessionChange) {
	reason := AttrChangeReason.String(string(ch.Reason))
	_, span := o.tracer.Start(ctx, "emporix.session.change", trace.WithAttributes(reason))
	span.End()
	o.changes.Add(ctx, 1, metric.WithAttributes(reason))
}

// ErrorType names the kind of an error returned by the SDK for the
// error.type attribute and the emporix.outcome of the metrics: the HTTP
// status of an [*emporix.APIError] ("401", "503"), "session_expired",
// "validation", "token", "invalid_response", "transport", "canceled",
// "timeout", or "_OTHER". It never includes the error's message.
func ErrorType(err error) string {
	var (
		apiErr   *emporix.APIError
		valErr   *emporix.ValidationError
		tokErr   *emporix.TokenError
		respErr  *emporix.ResponseError
		reqErr   *emporix.RequestError
		deadline interface{ Timeout() bool }
	)
	switch {
	case err == nil:
		return ""
	case errors.Is(err, emporix.ErrSessionExpired):
		return "session_expired"
	case errors.As(err, &apiErr):
		return strconv.Itoa(apiErr.StatusCode)
	case errors.As(err, &valErr):
		return "validation"
	case errors.Is(err, context.Canceled):
		return "canceled"
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &deadline) && deadline.Timeout():
		return "timeout"
	case errors.As(err, &tokErr):
		return "token"
	case errors.As(err, &respErr):
		return "invalid_response"
	case errors.As(err, &reqErr):
		return "transport"
	}
	return "_OTHER"
}
