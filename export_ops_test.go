package emporix

// SDKOperationIDs returns the spec operationIds of the SDK's operations
// (sdkOperations, which an AST scan keeps equal to the operation vars), for
// the checks outside the package that every other list agrees with it.
func SDKOperationIDs() []string {
	ids := make([]string, 0, len(sdkOperations))
	for _, o := range sdkOperations {
		ids = append(ids, o.op.id)
	}
	return ids
}
