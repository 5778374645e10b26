package emporix

import "context"

// SDKOperationIDs returns the spec operationIds of the SDK's operations:
// the rows of the operation table it calls, for the checks outside the
// package that every other list agrees with it.
func SDKOperationIDs() []string {
	var ids []string
	for _, row := range sdkRows() {
		ids = append(ids, row.ID)
	}
	return ids
}

// CallOperation calls the SDK operation id as its case in opcases_test.go
// does, with the sentinel secrets, for the tables outside the package.
func CallOperation(ctx context.Context, c *Client, id string) error {
	_, err := opCases[id].call(ctx, c, newSecretSet("sentinels", ""))
	return err
}
