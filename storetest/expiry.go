package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/emporix-go/emporix"
)

// On real time, sessions in the expiry checks live this long.
const realLifetime = 400 * time.Millisecond

// keptUntilDeadline checks that a session is loadable until its deadline,
// and that one without a deadline is kept.
func (s *suite) keptUntilDeadline(t *testing.T) {
	st := s.store(t)
	clock := s.cfg.clock
	life := 2 * time.Hour
	if !s.cfg.fake {
		life = realLifetime
	}
	start := clock.Now()
	v := mustSave(t, st, "storetest-expiring", expiring(1, start, life), 0)
	var forever *emporix.SessionState
	if s.cfg.fake {
		forever = state(2, start)
		forever.Customer = nil
		// Without expiries but with an issue time, a token lives its kind's
		// documented lifetime; only a token whose issue time is unknown
		// too has no deadline.
		forever.Anonymous.IssuedAt, forever.Anonymous.Expiry, forever.Anonymous.RefreshExpiry = time.Time{}, time.Time{}, time.Time{}
		if !forever.Deadline().IsZero() {
			t.Fatal("storetest: a state without expiries has a deadline")
		}
		mustSave(t, st, "storetest-forever", forever, 0)
	}
	// Just before the deadline: on real time, leave a margin for the
	// scheduler.
	margin := time.Second
	if !s.cfg.fake {
		margin = realLifetime / 2
	}
	clock.Advance(life - margin)
	if !s.cfg.fake && time.Since(start) >= life {
		t.Skip("storetest: the machine is too slow to load before the deadline on real time")
	}
	expectState(t, st, "storetest-expiring", expiring(1, start, life), v)
	if forever != nil {
		clock.Advance(400 * 24 * time.Hour)
		ctx, cancel := bounded()
		defer cancel()
		if _, _, err := st.Load(ctx, "storetest-forever"); err != nil {
			t.Errorf("a session without a deadline is gone after 400 days: %v; the zero deadline means never", err)
		}
	}
}

// forgottenAfterGrace checks the expiry WithExpiry declares.
func (s *suite) forgottenAfterGrace(t *testing.T) {
	st := s.store(t)
	clock, grace := s.cfg.clock, s.cfg.grace
	const key = "storetest-forgotten"
	if !s.cfg.fake {
		if realLifetime+grace > 5*time.Second {
			t.Fatalf("storetest: on real time WithExpiry(%v) would wait %v; use a grace under a second or WithClock", grace, realLifetime+grace)
		}
		s.forgottenOnRealTime(t, st, key)
		return
	}
	start := clock.Now()
	life := time.Hour
	v := mustSave(t, st, key, expiring(1, start, life), 0)
	if grace > 0 {
		clock.Advance(life + grace/2)
		expectState(t, st, key, expiring(1, start, life), v)
	}
	clock.Advance(start.Add(life + grace + time.Millisecond).Sub(clock.Now()))
	ctx, cancel := bounded()
	defer cancel()
	if _, _, err := st.Load(ctx, key); !errors.Is(err, emporix.ErrSessionNotFound) {
		t.Fatalf("Load %v after the deadline, past the grace of %v: err = %v, want emporix.ErrSessionNotFound",
			life+grace+time.Millisecond, grace, err)
	}
	s.createdAnew(t, st, key)
}

func (s *suite) forgottenOnRealTime(t *testing.T, st emporix.TokenStore, key string) {
	start := time.Now()
	mustSave(t, st, key, expiring(1, start, realLifetime), 0)
	end := start.Add(realLifetime + s.cfg.grace)
	// Poll until the session is gone, at most 3 s past its end.
	for {
		ctx, cancel := bounded()
		_, _, err := st.Load(ctx, key)
		cancel()
		now := time.Now()
		if errors.Is(err, emporix.ErrSessionNotFound) {
			// Clocks of a database server and this process may differ a little.
			if early := end.Sub(now); early > 100*time.Millisecond {
				t.Fatalf("the session was forgotten %v before its deadline plus the grace", early)
			}
			break
		}
		if err != nil {
			t.Fatalf("Load: %v", err)
		}
		if now.After(end.Add(3 * time.Second)) {
			t.Fatalf("the session is still stored 3 s after its deadline plus the grace of %v", s.cfg.grace)
		}
		time.Sleep(20 * time.Millisecond)
	}
	s.createdAnew(t, st, key)
}

// createdAnew checks that a forgotten session's key can be used again.
func (s *suite) createdAnew(t *testing.T, st emporix.TokenStore, key string) {
	t.Helper()
	fresh := state(3, s.cfg.clock.Now())
	v := mustSave(t, st, key, fresh, 0)
	expectState(t, st, key, fresh, v)
}
