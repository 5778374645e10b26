package emporix

import (
	"context"
	"fmt"
	"runtime"
	"testing"
	"time"
)

// resavedState is realisticState(i, loggedIn) as the r-th refresh leaves it:
// every token renewed r hours after testNow, so every save moves the
// session's deadline, as a refresh does.
func resavedState(i, r int, loggedIn bool) *SessionState {
	st := realisticState(i, loggedIn)
	shift := time.Duration(r) * time.Hour
	for _, t := range []*Token{st.Anonymous, st.Customer} {
		if t != nil {
			t.IssuedAt, t.Expiry, t.RefreshExpiry = t.IssuedAt.Add(shift), t.Expiry.Add(shift), t.RefreshExpiry.Add(shift)
		}
	}
	return st
}

// storeHeapPerSession fills a MemoryStore with n logged-in sessions, each
// saved saves times with a moving deadline, and returns the live heap bytes
// per session after a Sweep, everything included. The figure is what
// freeing the store gives back, between two back-to-back collections, so
// that memory other goroutines (an earlier test's leftovers) let go of
// while the store fills does not count.
func storeHeapPerSession(tb testing.TB, n, saves int) float64 {
	ctx := context.Background()
	keys := make([]string, n)
	for i := range keys {
		keys[i] = fmt.Sprintf("k%021d", i)
	}
	var with, without runtime.MemStats
	func() {
		store := NewMemoryStore(WithStoreClock(func() time.Time { return testNow }))
		for r := range saves {
			for i, k := range keys {
				if _, err := store.Save(ctx, k, resavedState(i, r, true), uint64(r)); err != nil {
					tb.Fatal(err)
				}
			}
		}
		store.Sweep()
		runtime.GC()
		runtime.ReadMemStats(&with)
		runtime.KeepAlive(store)
	}()
	runtime.GC()
	runtime.ReadMemStats(&without)
	runtime.KeepAlive(keys)
	return float64(int64(with.HeapAlloc)-int64(without.HeapAlloc)) / float64(n)
}

// BenchmarkMemoryStoreResaved stores 100k logged-in sessions once, and
// 100k sessions each saved 24 times with a moving deadline (a day of hourly
// refreshes), in one run, and reports the heap bytes per live session of
// each and their ratio. Target: the ratio is at most 1.10, memory depends on
// the live sessions, not on how often they were saved.
func BenchmarkMemoryStoreResaved(b *testing.B) {
	const n = 100_000
	for b.Loop() {
		once := storeHeapPerSession(b, n, 1)
		many := storeHeapPerSession(b, n, 24)
		b.ReportMetric(once, "B/session-1save")
		b.ReportMetric(many, "B/session-24saves")
		b.ReportMetric(many/once, "x-1save")
	}
}
