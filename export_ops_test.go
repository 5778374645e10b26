package emporix

import "github.com/emporix-go/emporix/internal/optable"

// SDKOperationIDs returns the spec operationIds of the SDK's operations:
// the rows of the operation table it calls, for the checks outside the
// package that every other list agrees with it.
func SDKOperationIDs() []string {
	var ids []string
	for i := range optable.Ops {
		if optable.Ops[i].SDK() {
			ids = append(ids, optable.Ops[i].ID)
		}
	}
	return ids
}
