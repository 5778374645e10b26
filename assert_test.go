package emporix

import (
	"testing"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/require"
)

// The assertion helpers every service and unit test shares.

// requireInvalid asserts err is a *ValidationError matching ErrInvalidInput
// for field, with a reason, whose text names the field; it returns it.
func requireInvalid(t *testing.T, err error, field string) *ValidationError {
	t.Helper()
	var ve *ValidationError
	require.ErrorAs(t, err, &ve)
	require.ErrorIs(t, err, ErrInvalidInput)
	require.Equal(t, field, ve.Field, "ValidationError.Field")
	require.NotEmpty(t, ve.Reason, "ValidationError.Reason")
	require.Contains(t, err.Error(), field)
	return ve
}

// requireAPIError asserts err is an *APIError with status and returns it.
func requireAPIError(t *testing.T, err error, status int) *APIError {
	t.Helper()
	var ae *APIError
	require.ErrorAs(t, err, &ae)
	require.Equal(t, status, ae.StatusCode, "APIError.StatusCode")
	return ae
}

// requireResponseError asserts err is a *ResponseError matching
// ErrInvalidResponse with status and returns it.
func requireResponseError(t *testing.T, err error, status int) *ResponseError {
	t.Helper()
	var re *ResponseError
	require.ErrorAs(t, err, &re)
	require.ErrorIs(t, err, ErrInvalidResponse)
	require.Equal(t, status, re.StatusCode, "ResponseError.StatusCode")
	return re
}

// requireNoRequests asserts that nothing reached mt: newTestClient's
// catch-all responder counts requests to unregistered routes too.
func requireNoRequests(t *testing.T, mt *httpmock.MockTransport) {
	t.Helper()
	require.Zero(t, mt.GetTotalCallCount(), "no request may be sent")
}
