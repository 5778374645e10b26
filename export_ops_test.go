package emporix

import (
	"context"
	"errors"
)

// SDKOperationIDs returns the spec operationIds of the SDK's operations:
// the rows of the operation table it calls, for the checks outside the
// package that every other list agrees with it.
func SDKOperationIDs() []string {
	var ids []string
	for _, row := range allRows() {
		ids = append(ids, row.ID)
	}
	return ids
}

// CallOperation calls the SDK operation id as its case in opcases_test.go
// does, with the sentinel secrets, for the tables outside the package.
func CallOperation(ctx context.Context, c *Client, id string) error {
	oc, ok := opCases[id]
	if !ok {
		return errors.New("no case in opcases_test.go for " + id)
	}
	_, err := oc.call(ctx, c, newSecretSet("sentinels", ""))
	return err
}
