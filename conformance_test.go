package emporix

import (
	"net/http"
	"testing"
)

// checkConformance validates a request and its response against the spec.
// (Being implemented; see internal/spectest.)
func checkConformance(t *testing.T, req *http.Request, body []byte, resp *http.Response) {}
