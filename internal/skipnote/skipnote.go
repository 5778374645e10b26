// Package skipnote makes skipped tests visible in go test's default output.
//
// go test shows a passing package's output, t.Skip messages included, only
// with -v, so a check that skipped for want of something (the Emporix
// OpenAPI documents, say) would pass unnoticed. A test that skips calls
// [Skip]; the package's TestMain calls [Main], which lists the skipped
// tests after the run where the test command's own output shows them. A
// result go test replays from its cache runs nothing, and lists nothing.
package skipnote

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
)

var skips struct {
	sync.Mutex
	notes map[string]string // test name → why
}

// Skip records that t skips, and why, and skips it.
func Skip(t testing.TB, why string) {
	t.Helper()
	skips.Lock()
	if skips.notes == nil {
		skips.notes = map[string]string{}
	}
	skips.notes[t.Name()] = why
	skips.Unlock()
	t.Skip(why)
}

// Forget removes the note of t, for a test that skips on purpose to check
// its skip is noted.
func Forget(t testing.TB) {
	skips.Lock()
	delete(skips.notes, t.Name())
	skips.Unlock()
}

// Main runs the tests, lists those that called [Skip] under the name pkg,
// and exits with the run's status. Call it from TestMain.
func Main(m *testing.M, pkg string) {
	code := m.Run()
	if msg := Summary(pkg); msg != "" {
		announce(msg)
	}
	os.Exit(code)
}

// Summary lists the tests that called [Skip] so far, one a line with the
// reason, or returns "" when none did. Tests skipping for the same reason
// share a line, so a missing dependency is named once.
func Summary(pkg string) string {
	skips.Lock()
	defer skips.Unlock()
	if len(skips.notes) == 0 {
		return ""
	}
	byWhy := map[string][]string{}
	for name, why := range skips.notes {
		byWhy[why] = append(byWhy[why], name)
	}
	whys := make([]string, 0, len(byWhy))
	for why := range byWhy {
		whys = append(whys, why)
	}
	sort.Strings(whys)
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %d test(s) SKIPPED:\n", pkg, len(skips.notes))
	for _, why := range whys {
		names := byWhy[why]
		sort.Strings(names)
		fmt.Fprintf(&b, "  %s: %s\n", strings.Join(names, ", "), why)
	}
	return b.String()
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
