package spectest

import (
	"testing"

	"github.com/emporix-go/emporix/internal/skipnote"
)

// TestMain lists the tests that skipped (see skipnote) after the run, where
// go test's default output shows them.
func TestMain(m *testing.M) { skipnote.Main(m, "spectest") }
