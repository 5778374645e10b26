package emporix_test

import (
	"slices"
	"testing"

	"github.com/emporix-go/emporix"
	"github.com/emporix-go/emporix/emporixtest"
	"github.com/stretchr/testify/assert"
)

// TestEveryOperationIsEverywhere: an operation added to the SDK must also
// be served by the emporixtest fake and called by a step of the end-to-end
// suite, and neither may list one the SDK lacks. (That each step calls
// exactly the operations it names is checked on the fake as it runs, by
// runSteps.) (The operation vars themselves are
// kept equal to the operation table by TestSpecConformanceOperationVarsListed,
// the table equal to the spec by internal/optable's TestTableMatchesSpec,
// the fake's routes equal to the table by emporixtest's
// TestRoutesFollowTheTable, and the operation cases equal to the services'
// methods by TestSweepCoversEveryOperation.)
func TestEveryOperationIsEverywhere(t *testing.T) {
	sdk := emporix.SDKOperationIDs()
	var walked []string
	for _, f := range e2eFlows {
		walked = append(walked, f.ops...)
	}
	slices.Sort(walked)
	assert.ElementsMatch(t, sdk, slices.Compact(walked), "the operations the end-to-end steps call vs the SDK's")

	fake := emporixtest.NewServer()
	defer fake.Close()
	for _, id := range sdk {
		served := func() (ok bool) {
			defer func() {
				if recover() != nil {
					ok = false
				}
			}()
			fake.InjectFault(id, emporixtest.Fault{}) // panics on an operation the fake does not serve
			return true
		}()
		assert.True(t, served, "the emporixtest fake does not serve %s", id)
	}
	fake.ClearFaults()
	assert.Equal(t, 0, fake.PendingFaults())
}
