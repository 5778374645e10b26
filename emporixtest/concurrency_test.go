package emporixtest_test

import (
	"fmt"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emporix-go/emporix/emporixtest"
)

// TestConcurrentUse drives many shoppers at once, alongside the test
// controls; run it with -race.
func TestConcurrentUse(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	const shoppers = 16
	var wg sync.WaitGroup
	errs := make(chan error, shoppers)
	for i := range shoppers {
		wg.Go(func() {
			email := fmt.Sprintf("c%d@example.com", i)
			anon, tok, _ := f.customer(email)
			cust := s(tok["access_token"])
			rt := s(tok["refresh_token"])
			for j := 0; j < 5; j++ {
				r := f.do(req{method: "GET", path: f.path("/refreshauthtoken"), bearer: anon, query: url.Values{"refreshToken": {rt}}})
				if r.status != 200 {
					errs <- fmt.Errorf("%s refresh %d: %d %s", email, j, r.status, r.body)
					return
				}
				m := r.json(f.t)
				rt, cust = s(m["refresh_token"]), s(m["access_token"])
				if r := f.do(req{method: "PATCH", path: f.path("/me"), bearer: cust, body: map[string]any{"firstName": fmt.Sprint(j)}}); r.status != 200 {
					errs <- fmt.Errorf("%s patch: %d", email, r.status)
					return
				}
				if r := f.do(req{method: "POST", path: f.path("/me/addresses"), bearer: cust, body: map[string]any{"contactName": email}}); r.status != 201 {
					errs <- fmt.Errorf("%s address: %d", email, r.status)
					return
				}
			}
			me := f.me(cust, "addresses")
			if n(f.t, me["metadata"].(map[string]any)["version"]) != 6 || len(me["addresses"].([]any)) != 5 {
				errs <- fmt.Errorf("%s: final profile %v", email, me)
			}
		})
	}
	stop := make(chan struct{})
	var controls sync.WaitGroup
	controls.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
			f.srv.Requests()
			f.srv.Outbox("")
			f.srv.Customer("c1@example.com")
			f.srv.Advance(time.Millisecond)
			f.srv.SetLifetimes(emporixtest.Lifetimes{MailToken: time.Hour})
			f.srv.InjectFault("GET /nowhere", emporixtest.Fault{Status: 500})
			f.srv.PendingFaults()
		}
	})
	wg.Wait()
	close(stop)
	controls.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// TestConcurrentOptimisticLocking: of many PATCHes with the same version,
// exactly one wins.
func TestConcurrentOptimisticLocking(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	_, tok, number := f.customer("lock@example.com")
	cust := s(tok["access_token"])
	const writers = 20
	var ok, conflicts atomic.Int32
	var wg sync.WaitGroup
	for i := range writers {
		wg.Go(func() {
			r := f.do(req{method: "PATCH", path: f.path("/me"), bearer: cust,
				body: map[string]any{"firstName": fmt.Sprint(i), "metadata": map[string]any{"version": 1}}})
			switch r.status {
			case 200:
				ok.Add(1)
			case 409:
				conflicts.Add(1)
			}
		})
	}
	wg.Wait()
	if ok.Load() != 1 || conflicts.Load() != writers-1 {
		t.Errorf("%d succeeded, %d conflicted", ok.Load(), conflicts.Load())
	}
	if info, _ := f.srv.CustomerByNumber(number); info.Version != 2 {
		t.Errorf("version %d", info.Version)
	}
}
