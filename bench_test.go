package emporix

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"testing"
	"time"
)

// Per-call overhead of the SDK against the same request written by hand
// with net/http and encoding/json. Both sides talk to the same local
// httptest server in the same run, over keep-alive connections of
// identically configured transports, and decode into the same types.
//
// Each operation has three sub-benchmarks:
//
//	raw    the hand-written request: ns/op, B/op, allocs/op
//	sdk    the SDK call; +allocs is its allocs/op minus raw's, measured
//	       in the raw run just before it (target ≤ 15)
//	pair   one raw and one sdk call per op, alternating which goes
//	       first, each timed on its own; x-raw is the sdk time ÷ the
//	       raw time (target ≤ 1.10). Interleaving exposes both sides to
//	       the same machine noise, so the ratio is steadier than one
//	       computed from the raw and sdk lines, which ran at different
//	       moments. Its ns/op is the sum of the two calls.
//
// allocs/op counts the whole process, so the in-process server's
// allocations are in both figures and cancel out of +allocs; the server's
// time is in both ns/op figures too, as it would be in production (where
// the network adds far more). BenchmarkCallOverheadNoNetwork isolates the
// client side with a canned RoundTripper. See BENCHMARKS.md.

// The spec's examples (GET /me "Logged in customer", GET /me/addresses).
const (
	benchProfileBody = `{"title":"MR","firstName":"John","lastName":"Doe","contactPhone":"123456789","company":"Emporix",` +
		`"preferredLanguage":"en_US","preferredCurrency":"USD","preferredSite":"default","metadata":{"mixins":{},"version":2},` +
		`"mixins":{},"customerNumber":"13869000","id":"13869000","accounts":[{"id":"example@customer.com"}],` +
		`"contactEmail":"example@customer.com","businessModel":"B2B","b2b":{"companyRegistrationId":"123-456-789",` +
		`"legalEntities":[{"id":"D165356","name":"Emporix","contactAssignmentId":"D436432"}]}}`
	benchAddressesBody = `[{"contactName":"John Doe","companyName":"Emporix","street":"Platz der Republik","streetNumber":"1",` +
		`"streetAppendix":"","extraLine1":"","extraLine2":"","extraLine3":"","extraLine4":"","zipCode":"11011","city":"Berlin",` +
		`"country":"DE","state":"Berlin","contactPhone":"123456789","tags":["BILLING","SHIPPING"],"id":"b05c20e034","isDefault":true}]`
)

const (
	benchProfilePath   = "/customer/" + testTenant + "/me"
	benchAddressesPath = "/customer/" + testTenant + "/me/addresses"
)

// benchHandler answers the two reads with fixed bodies.
func benchHandler() http.Handler {
	profile, addresses := []byte(benchProfileBody), []byte(benchAddressesBody)
	mux := http.NewServeMux()
	serve := func(body []byte) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			if r.Header.Get("Authorization") != "Bearer "+custAccess {
				w.WriteHeader(http.StatusUnauthorized)
				return
			}
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write(body)
		}
	}
	mux.HandleFunc("GET "+benchProfilePath, serve(profile))
	mux.HandleFunc("GET "+benchAddressesPath, serve(addresses))
	return mux
}

// benchHTTPClient is configured like the SDK's default client: a private
// pooled transport and a 30 s timeout. Each side gets its own.
func benchHTTPClient(rt http.RoundTripper) *http.Client {
	if rt == nil {
		rt = defaultTransport()
	}
	return &http.Client{Timeout: DefaultTimeout, Transport: rt}
}

func benchSDKClient(b *testing.B, baseURL string, hc *http.Client) *Client {
	c, err := NewClient(testTenant, testClientID, WithBaseURL(baseURL), WithHTTPClient(hc),
		WithTokenSource(StaticTokens(anonToken(), custToken())))
	if err != nil {
		b.Fatal(err)
	}
	return c
}

// rawGet is the hand-written equivalent of one SDK read: build the
// request, set Authorization and Accept, check the status, decode. The
// token is a parameter, as in real code, not a constant the compiler could
// fold into the header value.
func rawGet(ctx context.Context, hc *http.Client, url, token string, out any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Accept", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("status %d", resp.StatusCode)
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, resp.Body) // leave the connection reusable
	return nil
}

// pairResult is one sub-benchmark's final figures.
type pairResult struct {
	nsPerOp, allocsPerOp float64
}

// measure runs op in a b.Loop and returns its ns/op and allocs/op as the
// testing package computes them (the whole process's mallocs).
func measure(b *testing.B, op func() error) pairResult {
	b.ReportAllocs()
	for range 50 { // warm the pool and the caches outside the timer
		if err := op(); err != nil {
			b.Fatal(err)
		}
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	b.ResetTimer()
	for b.Loop() {
		if err := op(); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	runtime.ReadMemStats(&after)
	n := float64(b.N)
	return pairResult{
		nsPerOp:     float64(b.Elapsed().Nanoseconds()) / n,
		allocsPerOp: float64(after.Mallocs-before.Mallocs) / n,
	}
}

// runPair runs the raw, sdk and pair sub-benchmarks described above.
func runPair(b *testing.B, raw, sdk func() error) {
	var base pairResult
	b.Run("raw", func(b *testing.B) { base = measure(b, raw) })
	b.Run("sdk", func(b *testing.B) {
		got := measure(b, sdk)
		if base.nsPerOp > 0 {
			b.ReportMetric(got.allocsPerOp-base.allocsPerOp, "+allocs")
		}
	})
	b.Run("pair", func(b *testing.B) {
		timed := func(op func() error) time.Duration {
			start := time.Now()
			if err := op(); err != nil {
				b.Fatal(err)
			}
			return time.Since(start)
		}
		var rawTime, sdkTime time.Duration
		for i := 0; b.Loop(); i++ {
			if i%2 == 0 {
				rawTime += timed(raw)
				sdkTime += timed(sdk)
			} else {
				sdkTime += timed(sdk)
				rawTime += timed(raw)
			}
		}
		b.ReportMetric(float64(sdkTime)/float64(rawTime), "x-raw")
		b.ReportMetric(float64(rawTime.Nanoseconds())/float64(b.N), "raw-ns/op")
		b.ReportMetric(float64(sdkTime.Nanoseconds())/float64(b.N), "sdk-ns/op")
	})
}

func BenchmarkCallOverhead(b *testing.B) {
	srv := httptest.NewServer(benchHandler())
	defer srv.Close()
	ctx := context.Background()

	rawHC, sdkHC := benchHTTPClient(nil), benchHTTPClient(nil)
	defer rawHC.CloseIdleConnections()
	defer sdkHC.CloseIdleConnections()
	c := benchSDKClient(b, srv.URL, sdkHC)
	token := custToken().AccessToken

	b.Run("ProfileGet", func(b *testing.B) {
		url := srv.URL + benchProfilePath
		runPair(b, func() error {
			var cust Customer
			return rawGet(ctx, rawHC, url, string(token), &cust)
		}, func() error {
			_, err := c.Profile.Get(ctx, nil)
			return err
		})
	})
	b.Run("AddressesList", func(b *testing.B) {
		url := srv.URL + benchAddressesPath
		runPair(b, func() error {
			var list []Address
			return rawGet(ctx, rawHC, url, string(token), &list)
		}, func() error {
			_, err := c.Addresses.List(ctx)
			return err
		})
	})
}

// cannedTransport answers every request from memory, so a benchmark
// measures the client side alone.
type cannedTransport struct{ bodies map[string][]byte }

func (t cannedTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body != nil {
		_ = req.Body.Close()
	}
	body, ok := t.bodies[req.URL.Path]
	if !ok {
		return nil, errors.New("no canned answer")
	}
	return &http.Response{
		StatusCode: http.StatusOK, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header:        http.Header{"Content-Type": {"application/json"}},
		Body:          io.NopCloser(bytes.NewReader(body)),
		ContentLength: int64(len(body)), Request: req,
	}, nil
}

// BenchmarkCallOverheadNoNetwork is BenchmarkCallOverhead over a canned
// RoundTripper: no sockets and no server, so the ratio shows the SDK's own
// cost against the hand-written request's, undiluted by I/O. It is the
// harsher comparison and has no target; it shows where time goes.
func BenchmarkCallOverheadNoNetwork(b *testing.B) {
	const base = "http://emporix.bench"
	rt := cannedTransport{bodies: map[string][]byte{
		benchProfilePath:   []byte(benchProfileBody),
		benchAddressesPath: []byte(benchAddressesBody),
	}}
	ctx := context.Background()
	rawHC, sdkHC := benchHTTPClient(rt), benchHTTPClient(rt)
	c := benchSDKClient(b, base, sdkHC)
	token := custToken().AccessToken

	b.Run("ProfileGet", func(b *testing.B) {
		runPair(b, func() error {
			var cust Customer
			return rawGet(ctx, rawHC, base+benchProfilePath, string(token), &cust)
		}, func() error {
			_, err := c.Profile.Get(ctx, nil)
			return err
		})
	})
	b.Run("AddressesList", func(b *testing.B) {
		runPair(b, func() error {
			var list []Address
			return rawGet(ctx, rawHC, base+benchAddressesPath, string(token), &list)
		}, func() error {
			_, err := c.Addresses.List(ctx)
			return err
		})
	})
}
