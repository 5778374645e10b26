package emporixtest_test

import (
	"testing"
	"time"

	"github.com/emporix-go/emporix/emporixtest"
)

// TestInjectFaultHold: a held call has taken its fault (PendingFaults
// drops) and gets no answer until the gate closes; then the rest of the
// fault applies.
func TestInjectFaultHold(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	anon := f.anonToken()
	gate := make(chan struct{})
	f.srv.InjectFault("GET-customer-retrieve-customer-profile", emporixtest.Fault{Hold: gate, Status: 503})
	answered := make(chan resp, 1)
	go func() { answered <- f.do(req{method: "GET", path: f.path("/me"), bearer: anon}) }()
	deadline := time.Now().Add(10 * time.Second)
	for f.srv.PendingFaults() != 0 {
		if time.Now().After(deadline) {
			t.Fatal("the call never reached the fault")
		}
		time.Sleep(time.Millisecond)
	}
	select {
	case <-answered:
		t.Fatal("a held call was answered before its gate closed")
	case <-time.After(20 * time.Millisecond):
	}
	close(gate)
	select {
	case r := <-answered:
		wantStatus(t, r, 503)
	case <-time.After(10 * time.Second):
		t.Fatal("the call stayed held after its gate closed")
	}
}
