package redisstore

import (
	"context"
	"strconv"
	"testing"
	"time"
)

// The benchmarks run against REDIS_URL, so they measure a round trip to a
// live server (on loopback in CI) plus the encoding and, when sealed,
// AES-GCM. Run them with:
//
//	REDIS_URL=redis://127.0.0.1:6391/0 go test -run '^$' -bench . ./redisstore

func benchStore(b *testing.B, sealed bool) *Store {
	b.Helper()
	var opts []Option
	if sealed {
		k := testKey(b, 1)
		opts = append(opts, WithSealKeys(k[:]))
	}
	s, _ := newTestStore(b, opts...)
	return s
}

func benchmarkLoad(b *testing.B, sealed bool) {
	s := benchStore(b, sealed)
	ctx := context.Background()
	if _, err := s.Save(ctx, "bench", testState(1, time.Now()), 0); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := s.Load(ctx, "bench"); err != nil {
			b.Fatal(err)
		}
	}
}

func benchmarkSave(b *testing.B, sealed bool) {
	s := benchStore(b, sealed)
	ctx := context.Background()
	st := testState(1, time.Now())
	var v uint64
	b.ReportAllocs()
	for b.Loop() {
		next, err := s.Save(ctx, "bench", st, v)
		if err != nil {
			b.Fatal(err)
		}
		v = next
	}
}

func BenchmarkLoad(b *testing.B)       { benchmarkLoad(b, false) }
func BenchmarkLoadSealed(b *testing.B) { benchmarkLoad(b, true) }
func BenchmarkSave(b *testing.B)       { benchmarkSave(b, false) }
func BenchmarkSaveSealed(b *testing.B) { benchmarkSave(b, true) }

// BenchmarkLoadParallel is many request goroutines reading sessions at once,
// as a storefront does.
func BenchmarkLoadParallel(b *testing.B) {
	s := benchStore(b, true)
	ctx := context.Background()
	const sessions = 64
	for i := range sessions {
		if _, err := s.Save(ctx, "bench-"+strconv.Itoa(i), testState(i, time.Now()), 0); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			if _, _, err := s.Load(ctx, "bench-"+strconv.Itoa(i%sessions)); err != nil {
				b.Error(err)
				return
			}
			i++
		}
	})
}

// BenchmarkLockRefresh takes and releases an uncontended refresh lock.
func BenchmarkLockRefresh(b *testing.B) {
	s := benchStore(b, false)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		unlock, err := s.LockRefresh(ctx, "bench")
		if err != nil {
			b.Fatal(err)
		}
		unlock()
	}
}
