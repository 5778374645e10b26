package redisstore

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// go test shows a passing package's output only with -v, so a skipped test
// would go unnoticed. Tests that skip call noteSkip; TestMain reports them
// after the run where the test command's default output shows it.

var skips struct {
	sync.Mutex
	notes map[string]string // test name → why
}

// noteSkip records that test skips, and why.
func noteSkip(test, why string) {
	skips.Lock()
	defer skips.Unlock()
	if skips.notes == nil {
		skips.notes = map[string]string{}
	}
	skips.notes[test] = why
}

func TestMain(m *testing.M) {
	installRedisLogger()
	code := m.Run()
	skips.Lock()
	notes := skips.notes
	skips.Unlock()
	if len(notes) > 0 {
		names := make([]string, 0, len(notes))
		for name := range notes {
			names = append(names, name)
		}
		sort.Strings(names)
		var b strings.Builder
		fmt.Fprintf(&b, "redisstore: %d test(s) SKIPPED:\n", len(names))
		for _, name := range names {
			fmt.Fprintf(&b, "  %s: %s\n", name, notes[name])
		}
		announce(b.String())
	}
	os.Exit(code)
}

// announce writes msg to stderr, and without -v also to the go command's own
// stderr, which go test does not capture: on Linux the test binary's parent
// is the go command, whose stderr is /proc/<ppid>/fd/2. Elsewhere, run
// outside go test, or with go test's stderr redirected to a file, the message
// is in the test binary's stderr only (shown with -v or on failure).
func announce(msg string) {
	fmt.Fprint(os.Stderr, msg)
	if testing.Verbose() || runtime.GOOS != "linux" {
		return
	}
	ppid := strconv.Itoa(os.Getppid())
	exe, err := os.Readlink(filepath.Join("/proc", ppid, "exe"))
	if err != nil || strings.TrimSuffix(filepath.Base(exe), ".exe") != "go" {
		return
	}
	// A terminal or a pipe only: a file redirect's offset belongs to the go
	// command, and writing at another offset would garble its output.
	fd2 := filepath.Join("/proc", ppid, "fd", "2")
	if fi, err := os.Stat(fd2); err != nil || fi.Mode().IsRegular() {
		return
	}
	f, err := os.OpenFile(fd2, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return
	}
	_, _ = f.WriteString(msg)
	_ = f.Close()
}

// TestTheSuiteRunsWithoutRedisURL: on a machine without Redis the tests run
// on an embedded Redis instead of skipping.
func TestTheSuiteRunsWithoutRedisURL(t *testing.T) {
	t.Setenv("REDIS_URL", "")
	t.Setenv("REDIS_CLUSTER_ADDRS", "")
	t.Setenv("EMPORIX_REQUIRE_REDIS", "")
	var sub *testing.T
	t.Run("store", func(t *testing.T) {
		sub = t
		store, rdb := newTestStore(t)
		ctx := t.Context()
		v, err := store.Save(ctx, "k", testState(1, time.Now()), 0)
		require.NoError(t, err)
		st, got, err := store.Load(ctx, "k")
		require.NoError(t, err)
		assert.Equal(t, v, got)
		assert.Equal(t, testState(1, time.Now()).Anonymous.AccessToken, st.Anonymous.AccessToken)
		n, err := rdb.Exists(ctx, store.sessionKey("k")).Result()
		require.NoError(t, err)
		assert.Equal(t, int64(1), n, "the session is in the embedded Redis")
	})
	assert.False(t, sub.Skipped(), "the test skipped without REDIS_URL")
}
