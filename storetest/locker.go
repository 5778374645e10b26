package storetest

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emporix-go/emporix"
)

// refreshLocker checks a store that implements emporix.RefreshLocker: a
// held lock excludes others until released, names are separate, a waiter
// gives up when its context ends, and unlock may be called twice.
func (s *suite) refreshLocker(t *testing.T) {
	st := s.store(t)
	locker, ok := st.(emporix.RefreshLocker)
	if !ok {
		t.Skipf("%T does not implement emporix.RefreshLocker", st)
	}
	ctx, cancel := bounded()
	defer cancel()
	unlock, err := locker.LockRefresh(ctx, "storetest-lock")
	if err != nil {
		t.Fatalf("LockRefresh: %v", err)
	}

	wctx, wcancel := context.WithTimeout(ctx, 150*time.Millisecond)
	began := time.Now()
	unlock2, err := locker.LockRefresh(wctx, "storetest-lock")
	wcancel()
	if err == nil {
		unlock2()
		t.Fatal("a second LockRefresh of a held lock succeeded")
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("LockRefresh whose context ended while waiting: err = %v, want one wrapping context.DeadlineExceeded", err)
	}
	if waited := time.Since(began); waited > 2*time.Second {
		t.Errorf("LockRefresh returned %v after its context ended", waited)
	}

	other, err := locker.LockRefresh(ctx, "storetest-lock-other")
	if err != nil {
		t.Fatalf("LockRefresh of another name while the first is held: %v", err)
	}
	other()

	unlock()
	unlock() // a second call must be harmless
	again, err := locker.LockRefresh(ctx, "storetest-lock")
	if err != nil {
		t.Fatalf("LockRefresh after unlock: %v", err)
	}
	again()

	s.lockContention(t, locker)
}

// lockContention has writers take one lock in turns: never two at once.
func (s *suite) lockContention(t *testing.T, locker emporix.RefreshLocker) {
	const each = 3
	var (
		inside, overlaps, held atomic.Int32
		wg                     sync.WaitGroup
		mu                     sync.Mutex
		failed                 error
	)
	for range s.cfg.writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := bounded()
			defer cancel()
			for range each {
				unlock, err := locker.LockRefresh(ctx, "storetest-contended-lock")
				if err != nil {
					mu.Lock()
					failed = err
					mu.Unlock()
					return
				}
				if inside.Add(1) != 1 {
					overlaps.Add(1)
				}
				held.Add(1)
				time.Sleep(time.Millisecond)
				inside.Add(-1)
				unlock()
			}
		}()
	}
	wg.Wait()
	if failed != nil {
		t.Fatalf("LockRefresh under contention: %v", failed)
	}
	if n := overlaps.Load(); n > 0 {
		t.Errorf("the lock was held by two callers at once %d times", n)
	}
	if got, want := held.Load(), int32(s.cfg.writers*each); got != want {
		t.Errorf("the lock was taken %d times, want %d", got, want)
	}
}
