package skipnote

import (
	"bytes"
	"context"
	"os/exec"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestSkippedTestsShowWithoutVerbose: go test without -v, as the README's
// test command runs it, shows which tests skipped and why, although the
// package passed.
func TestSkippedTestsShowWithoutVerbose(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the notice reaches go test's output only on Linux")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, "go", "test", "-count=1", "./testdata/skipper")
	cmd.Stdout, cmd.Stderr = &stdout, &stderr // pipes, as in a terminal or CI log
	require.NoError(t, cmd.Run(), "stdout:\n%s\nstderr:\n%s", &stdout, &stderr)
	out := stdout.String() + stderr.String()
	assert.Contains(t, out, "ok ", "the package passed")
	assert.Contains(t, out, "skipper: 3 test(s) SKIPPED:\n")
	assert.Contains(t, out, "  TestNeedsTheSpec, TestNeedsTheSpecToo: SPEC_DIR is not set\n")
	assert.Contains(t, out, "  TestNeedsAServer: no server\n")
	assert.NotContains(t, out, "TestRuns", "a test that ran is not listed")
}

func TestSummary(t *testing.T) {
	skips.Lock()
	saved := skips.notes
	skips.notes = nil
	skips.Unlock()
	t.Cleanup(func() { skips.Lock(); skips.notes = saved; skips.Unlock() })

	assert.Empty(t, Summary("pkg"), "nothing skipped, nothing said")
	t.Run("b", func(t *testing.T) { Skip(t, "why 2") })
	t.Run("a", func(t *testing.T) { Skip(t, "why 1") })
	t.Run("c", func(t *testing.T) { Skip(t, "why 1") })
	assert.Equal(t, "pkg: 3 test(s) SKIPPED:\n"+
		"  TestSummary/a, TestSummary/c: why 1\n"+
		"  TestSummary/b: why 2\n", Summary("pkg"))
}
