package storetest

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emporix-go/emporix"
)

// Run checks the stores newStore returns against the [emporix.TokenStore]
// contract, each in a subtest of t. newStore is called once per subtest and
// returns an empty store, or one where no key the suite uses (all start
// with "storetest-") is stored; it may register cleanups with t.Cleanup.
// Subtests run one after another, so stores may share a database and a
// [Clock].
func Run(t *testing.T, newStore func(t *testing.T) emporix.TokenStore, opts ...Option) {
	t.Helper()
	cfg := config{clock: realClock{}, writers: 16}
	for _, opt := range opts {
		if opt != nil {
			opt(&cfg)
		}
	}
	s := &suite{cfg: cfg, newStore: newStore}
	t.Run("LoadMissing", s.loadMissing)
	t.Run("CompareAndSwap", s.compareAndSwap)
	t.Run("Delete", s.delete)
	t.Run("KeysAreSeparate", s.keysAreSeparate)
	t.Run("RoundTrip", s.roundTrip)
	t.Run("Codec", s.codec)
	t.Run("SaveNil", s.saveNil)
	t.Run("OneWinnerPerVersion", s.oneWinnerPerVersion)
	t.Run("ConcurrentWritersLoseNoUpdate", s.noLostUpdate)
	t.Run("KeptUntilDeadline", s.keptUntilDeadline)
	if cfg.expires {
		t.Run("ForgottenAfterGrace", s.forgottenAfterGrace)
	}
	t.Run("RefreshLocker", s.refreshLocker)
}

type suite struct {
	cfg      config
	newStore func(t *testing.T) emporix.TokenStore
}

func (s *suite) store(t *testing.T) emporix.TokenStore {
	t.Helper()
	st := s.newStore(t)
	if st == nil {
		t.Fatal("storetest: newStore returned nil")
	}
	return st
}

func (s *suite) loadMissing(t *testing.T) {
	st := s.store(t)
	ctx, cancel := bounded()
	defer cancel()
	got, v, err := st.Load(ctx, "storetest-missing")
	if !errors.Is(err, emporix.ErrSessionNotFound) {
		t.Fatalf("Load of a missing session: got (%v, %d, %v), want emporix.ErrSessionNotFound", got != nil, v, err)
	}
}

func (s *suite) compareAndSwap(t *testing.T) {
	st := s.store(t)
	ctx, cancel := bounded()
	defer cancel()
	const key = "storetest-cas"
	now := s.cfg.clock.Now()
	first, second := state(1, now), state(2, now)

	v1 := mustSave(t, st, key, first, 0)
	if v1 == 0 {
		t.Fatal("Save returned version 0, which means \"not stored\"")
	}
	expectState(t, st, key, first, v1)

	if _, err := st.Save(ctx, key, second, 0); !errors.Is(err, emporix.ErrStoreConflict) {
		t.Errorf("Save with expected 0 over a stored session: err = %v, want emporix.ErrStoreConflict", err)
	}
	if _, err := st.Save(ctx, key, second, v1+1); !errors.Is(err, emporix.ErrStoreConflict) {
		t.Errorf("Save with a version never returned (%d): err = %v, want emporix.ErrStoreConflict", v1+1, err)
	}
	expectState(t, st, key, first, v1)

	v2 := mustSave(t, st, key, second, v1)
	if v2 == 0 || v2 == v1 {
		t.Fatalf("Save over version %d returned version %d, want a new non-zero version", v1, v2)
	}
	expectState(t, st, key, second, v2)

	// A writer that loaded before the second save is stale: its refresh
	// token may be the one the second writer rotated away.
	if _, err := st.Save(ctx, key, first, v1); !errors.Is(err, emporix.ErrStoreConflict) {
		t.Errorf("stale Save with version %d after version %d: err = %v, want emporix.ErrStoreConflict", v1, v2, err)
	}
	expectState(t, st, key, second, v2)
}

func (s *suite) delete(t *testing.T) {
	st := s.store(t)
	ctx, cancel := bounded()
	defer cancel()
	const key = "storetest-delete"
	now := s.cfg.clock.Now()
	v := mustSave(t, st, key, state(1, now), 0)
	if err := st.Delete(ctx, key); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if _, _, err := st.Load(ctx, key); !errors.Is(err, emporix.ErrSessionNotFound) {
		t.Errorf("Load after Delete: err = %v, want emporix.ErrSessionNotFound", err)
	}
	if err := st.Delete(ctx, key); err != nil {
		t.Errorf("Delete of a missing session: %v, want nil", err)
	}
	if _, err := st.Save(ctx, key, state(2, now), v); !errors.Is(err, emporix.ErrStoreConflict) {
		t.Errorf("Save with the deleted session's version %d: err = %v, want emporix.ErrStoreConflict", v, err)
	}
	again := state(3, now)
	v2 := mustSave(t, st, key, again, 0)
	expectState(t, st, key, again, v2)
}

// keysAreSeparate stores sessions under keys that differ little, or hold
// characters a key-value store may treat specially.
func (s *suite) keysAreSeparate(t *testing.T) {
	st := s.store(t)
	ctx, cancel := bounded()
	defer cancel()
	now := s.cfg.clock.Now()
	keys := []string{
		"storetest-a", "storetest-A", "storetest-a ", "storetest-a:b", "storetest-a:*", "storetest-a/b",
		"storetest-{a}", "storetest-ä", "storetest-" + strings.Repeat("k", 1000), "storetest-\x00",
	}
	versions := make([]uint64, len(keys))
	for i, k := range keys {
		versions[i] = mustSave(t, st, k, state(i, now), 0)
	}
	if err := st.Delete(ctx, keys[0]); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	for i, k := range keys[1:] {
		expectState(t, st, k, state(i+1, now), versions[i+1])
	}
}

// roundTrip stores a state with every field set, and a guest's state.
func (s *suite) roundTrip(t *testing.T) {
	st := s.store(t)
	now := s.cfg.clock.Now()
	full := state(7, now)
	full.Customer.InitialPassword = true
	full.Customer.SessionIdleTime = 90 * time.Minute
	full.Customer.LegalEntityID = "storetest-legal-entity"
	full.Customer.SocialAccessToken = "storetest-SECRET-social-at"
	full.Customer.SocialIDToken = "storetest-SECRET-social-id"
	v := mustSave(t, st, "storetest-full", full, 0)
	expectState(t, st, "storetest-full", full, v)

	guest := state(8, now)
	guest.Customer = nil
	v = mustSave(t, st, "storetest-guest", guest, 0)
	expectState(t, st, "storetest-guest", guest, v)

	// A login that ended leaves a guest's state with its report, which a
	// store must keep until the SDK has delivered it.
	ended := state(10, now)
	ended.Customer = nil
	ended.EndedLogin = &emporix.EndedLogin{CustomerNumber: "storetest-customer-10", At: now.Add(-time.Minute).UTC()}
	v = mustSave(t, st, "storetest-ended", ended, 0)
	expectState(t, st, "storetest-ended", ended, v)
}

// codec checks that what the store returns survives the encoding stores
// use to keep sessions outside the process.
func (s *suite) codec(t *testing.T) {
	st := s.store(t)
	ctx, cancel := bounded()
	defer cancel()
	want := state(9, s.cfg.clock.Now())
	mustSave(t, st, "storetest-codec", want, 0)
	loaded, _, err := st.Load(ctx, "storetest-codec")
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	data, err := emporix.MarshalSessionState(loaded)
	if err != nil {
		t.Fatalf("MarshalSessionState: %v", err)
	}
	decoded, err := emporix.UnmarshalSessionState(data)
	if err != nil {
		t.Fatalf("UnmarshalSessionState: %v", err)
	}
	if d := diff(want, decoded); d != "" {
		t.Errorf("the loaded state after the codec round trip differs: %s", d)
	}
}

func (s *suite) saveNil(t *testing.T) {
	st := s.store(t)
	ctx, cancel := bounded()
	defer cancel()
	if _, err := st.Save(ctx, "storetest-nil", nil, 0); err == nil {
		t.Error("Save(nil state) succeeded, want an error")
	}
	if _, _, err := st.Load(ctx, "storetest-nil"); !errors.Is(err, emporix.ErrSessionNotFound) {
		t.Errorf("Load after Save(nil): err = %v, want emporix.ErrSessionNotFound", err)
	}
}

// oneWinnerPerVersion makes every writer save over the same version at
// once, round after round: exactly one may win each round.
func (s *suite) oneWinnerPerVersion(t *testing.T) {
	st := s.store(t)
	const key, rounds = "storetest-contended", 4
	now := s.cfg.clock.Now()
	var version uint64
	for round := range rounds {
		var (
			wg     sync.WaitGroup
			mu     sync.Mutex
			wins   []uint64
			winner int
			other  []error
		)
		start := make(chan struct{})
		for w := range s.cfg.writers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				ctx, cancel := bounded()
				defer cancel()
				<-start
				v, err := st.Save(ctx, key, state(round*1000+w, now), version)
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil:
					wins, winner = append(wins, v), round*1000+w
				case !errors.Is(err, emporix.ErrStoreConflict):
					other = append(other, err)
				}
			}()
		}
		close(start)
		wg.Wait()
		if len(other) > 0 {
			t.Fatalf("round %d: a losing Save must return emporix.ErrStoreConflict, got %v", round, other[0])
		}
		if len(wins) != 1 {
			t.Fatalf("round %d: %d writers saved over version %d, want exactly 1", round, len(wins), version)
		}
		if wins[0] == version || wins[0] == 0 {
			t.Fatalf("round %d: the winner got version %d over version %d", round, wins[0], version)
		}
		version = wins[0]
		expectState(t, st, key, state(winner, now), version)
	}
}

// noLostUpdate runs writers that each load, add one and save, retrying on
// conflict: the count must equal the number of increments.
func (s *suite) noLostUpdate(t *testing.T) {
	st := s.store(t)
	const key, each = "storetest-counter", 5
	now := s.cfg.clock.Now()
	mustSave(t, st, key, counterState(0, now), 0)
	var wg sync.WaitGroup
	errs := make(chan error, s.cfg.writers)
	for range s.cfg.writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := bounded()
			defer cancel()
			for done := 0; done < each; {
				cur, v, err := st.Load(ctx, key)
				if err != nil {
					errs <- fmt.Errorf("loading: %w", err)
					return
				}
				n, err := strconv.Atoi(strings.TrimPrefix(cur.Anonymous.SessionID, "storetest-count-"))
				if err != nil {
					errs <- fmt.Errorf("the stored counter is garbled: %q", cur.Anonymous.SessionID)
					return
				}
				_, err = st.Save(ctx, key, counterState(n+1, now), v)
				switch {
				case err == nil:
					done++
				case !errors.Is(err, emporix.ErrStoreConflict):
					errs <- fmt.Errorf("saving: %w", err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	ctx, cancel := bounded()
	defer cancel()
	got, _, err := st.Load(ctx, key)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if want := fmt.Sprintf("storetest-count-%d", s.cfg.writers*each); got.Anonymous.SessionID != want {
		t.Errorf("after %d increments by %d writers the counter is %q, want %q: an update was lost",
			s.cfg.writers*each, s.cfg.writers, got.Anonymous.SessionID, want)
	}
}

func counterState(n int, now time.Time) *emporix.SessionState {
	st := state(n, now)
	st.Customer = nil
	st.Anonymous.SessionID = fmt.Sprintf("storetest-count-%d", n)
	return st
}
