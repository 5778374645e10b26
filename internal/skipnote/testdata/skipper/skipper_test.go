// Package skipper is run by skipnote's tests: one test passes, two skip for
// one reason, one for another.
package skipper

import (
	"testing"

	"github.com/emporix-go/emporix/internal/skipnote"
)

func TestMain(m *testing.M) { skipnote.Main(m, "skipper") }

func TestRuns(t *testing.T) {}

func TestNeedsTheSpec(t *testing.T) { skipnote.Skip(t, "SPEC_DIR is not set") }

func TestNeedsTheSpecToo(t *testing.T) { skipnote.Skip(t, "SPEC_DIR is not set") }

func TestNeedsAServer(t *testing.T) { skipnote.Skip(t, "no server") }
