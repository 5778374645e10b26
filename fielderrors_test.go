package emporix

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A 400 validation_failure carried the useful part ("country": "must be a
// two-letter country code") only as raw JSON in Details.
func TestAPIErrorFieldsAreTyped(t *testing.T) {
	t.Parallel()
	c, mt := newTestClient(t)
	allowOffSpecResponses(t, "some tenants send details as strings; the spec says objects")
	serve(t, mt, "PATCH", "/customer/mytenant/me/addresses/a1", jsonReply(400, `{"status":400,"type":"validation_failure",
		"message":"The request is not valid.","details":[
		{"field":"zipCode","type":"invalid_value","message":"zipCode is not a postal code of DE.","moreInfo":"https://developer.emporix.io"},
		{"field":"contactPhone","type":"invalid_value","message":"contactPhone of jane@example.com is not a phone number."},
		"The address could not be saved.",
		{"unknown":"shape"}]}`))
	err := c.Addresses.Update(context.Background(), "a1", &AddressUpdate{ZipCode: Ptr("x")})
	require.ErrorIs(t, err, ErrBadRequest)
	want := []FieldError{
		{Field: "zipCode", Type: "invalid_value", Message: "zipCode is not a postal code of DE.", MoreInfo: "https://developer.emporix.io"},
		{Field: "contactPhone", Type: "invalid_value", Message: "contactPhone of j***@example.com is not a phone number."},
		{Message: "The address could not be saved."},
	}
	assert.Equal(t, want, FieldErrors(err))
	apiErr := requireAPIError(t, err, 400)
	assert.Equal(t, want, apiErr.Fields)
	assert.Len(t, apiErr.Details, 4, "Details keeps every entry")

	// Wrapped, as a session's or a handler's error would be.
	assert.Equal(t, want, FieldErrors(fmt.Errorf("saving the address: %w", err)))
	assert.Nil(t, FieldErrors(errors.New("other")))
	assert.Nil(t, FieldErrors(nil))
}

// Refusals before sending report their field too, by its JSON path when
// it is a body field, so one handler serves both.
func TestFieldErrorsOfLocalRefusals(t *testing.T) {
	t.Parallel()
	c, _ := newTestClient(t)
	ctx := context.Background()
	_, err := c.Addresses.Create(ctx, &AddressCreate{ContactName: "Jane", Country: "Germany"})
	assert.Equal(t, []FieldError{{Field: "country", Type: "invalid_input", Message: "must be a two-letter country code"}}, FieldErrors(err))
	_, err = c.Auth.Signup(ctx, &SignupRequest{Email: "jane@example.com", Password: "pw", CustomerAddress: &Address{}})
	assert.Equal(t, []FieldError{{Field: "customerAddress.contactName", Type: "invalid_input", Message: "must not be empty"}}, FieldErrors(err))
	requireInvalid(t, err, "SignupRequest.CustomerAddress.ContactName")
	// A field without a JSON name (a query parameter) keeps its Go name.
	_, err = c.Auth.ExchangeToken(ctx, &ExchangeRequest{})
	assert.Equal(t, "ExchangeRequest.SubjectAccessToken", FieldErrors(err)[0].Field)
	// FieldError marshals with the spec's names.
	b, _ := json.Marshal(FieldErrors(err)[0])
	assert.JSONEq(t, `{"field":"ExchangeRequest.SubjectAccessToken","type":"invalid_input","message":"must not be empty"}`, string(b))
}
