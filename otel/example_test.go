package emporixotel_test

import (
	"context"
	"fmt"

	"github.com/emporix-go/emporix"
	"github.com/emporix-go/emporix/emporixtest"
	emporixotel "github.com/emporix-go/emporix/otel"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
)

// A client reporting to OpenTelemetry: each operation is a span named by
// its operationId, with the path template as http.route. An application
// passes its own providers, or none for the global ones.
func ExampleNew() {
	srv := emporixtest.NewServer() // stands in for https://api.emporix.io
	defer srv.Close()
	spans := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(spans))

	obs, err := emporixotel.New(emporixotel.WithTracerProvider(tp))
	if err != nil {
		panic(err)
	}
	client, err := emporix.NewClient(srv.Tenant(), srv.ClientID(), append(srv.ClientOptions(), emporix.WithObserver(obs))...)
	if err != nil {
		panic(err)
	}
	if _, err := client.Auth.AnonymousLogin(context.Background(), nil); err != nil {
		panic(err)
	}
	for _, s := range spans.GetSpans() {
		for _, kv := range s.Attributes {
			if kv.Key == "http.route" {
				fmt.Println(s.Name, kv.Value.AsString())
			}
		}
	}
	// Output: GET-oauth-generate-anonymous-access-token /customerlogin/auth/anonymous/login
}
