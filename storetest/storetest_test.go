package storetest_test

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emporix-go/emporix"
	"github.com/emporix-go/emporix/storetest"
)

// The suite must fail a store that breaks the contract. Each broken store
// runs the suite in a child test process, selected by an environment
// variable, and the parent checks which subtest failed.

const brokenEnv = "STORETEST_BROKEN"

var broken = map[string]struct {
	wrap     func(*emporix.MemoryStore) emporix.TokenStore
	failing  string // the subtest that must fail
	extraOpt storetest.Option
}{
	"ignores expected version": {
		wrap:    func(m *emporix.MemoryStore) emporix.TokenStore { return blindSaver{m} },
		failing: "CompareAndSwap",
	},
	"drops the SaaS token": {
		wrap:    func(m *emporix.MemoryStore) emporix.TokenStore { return lossy{m} },
		failing: "RoundTrip",
	},
	"never forgets": {
		wrap:    func(m *emporix.MemoryStore) emporix.TokenStore { return m },
		failing: "ForgottenAfterGrace",
		// The memory store below keeps sessions an hour; the claim is 1 ms.
		extraOpt: storetest.WithExpiry(time.Millisecond),
	},
	"lock excludes no one": {
		wrap:    func(m *emporix.MemoryStore) emporix.TokenStore { return openLock{m} },
		failing: "RefreshLocker",
	},
}

func TestSuiteFailsBrokenStores(t *testing.T) {
	if name := os.Getenv(brokenEnv); name != "" {
		runBroken(t, name)
		return
	}
	if testing.Short() {
		t.Skip("runs child test processes")
	}
	for name, b := range broken {
		t.Run(name, func(t *testing.T) {
			cmd := exec.Command(os.Args[0], "-test.run=^TestSuiteFailsBrokenStores$", "-test.v")
			cmd.Env = append(os.Environ(), brokenEnv+"="+name)
			out, err := cmd.CombinedOutput()
			if err == nil {
				t.Fatalf("the suite passed a store that %s:\n%s", name, out)
			}
			if want := "--- FAIL: TestSuiteFailsBrokenStores/" + b.failing; !strings.Contains(string(out), want) {
				t.Fatalf("want %q in the child's output:\n%s", want, out)
			}
		})
	}
}

func runBroken(t *testing.T, name string) {
	b, ok := broken[name]
	if !ok {
		t.Fatalf("no broken store %q", name)
	}
	clock := &clock{now: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)}
	storetest.Run(t, func(t *testing.T) emporix.TokenStore {
		return b.wrap(emporix.NewMemoryStore(emporix.WithStoreClock(clock.Now)))
	}, storetest.WithClock(clock), b.extraOpt)
}

// blindSaver saves whatever the expected version.
type blindSaver struct{ *emporix.MemoryStore }

func (s blindSaver) Save(ctx context.Context, key string, st *emporix.SessionState, _ uint64) (uint64, error) {
	_, v, err := s.MemoryStore.Load(ctx, key)
	if err != nil {
		v = 0
	}
	return s.MemoryStore.Save(ctx, key, st, v)
}

// lossy forgets the customer's SaaS token, as a store with an incomplete
// schema would.
type lossy struct{ *emporix.MemoryStore }

func (s lossy) Load(ctx context.Context, key string) (*emporix.SessionState, uint64, error) {
	st, v, err := s.MemoryStore.Load(ctx, key)
	if err != nil || st.Customer == nil {
		return st, v, err
	}
	c := *st.Customer
	c.SaasToken = ""
	return &emporix.SessionState{Anonymous: st.Anonymous, Customer: &c}, v, nil
}

// openLock claims to lock but never excludes.
type openLock struct{ *emporix.MemoryStore }

func (openLock) LockRefresh(context.Context, string) (func(), error) { return func() {}, nil }

type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}
