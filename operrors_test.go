package emporix

import (
	"context"
	"fmt"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The error answers every SDK operation is tested with, in one table:
// TestOperationErrors runs each row's cases through runErrorCases, so each
// goes through every method that sends the operation.

var (
	// err401Invalid and err401Expired are the gateway's fault shape, which
	// every operation may answer.
	err401Invalid = errorCase{name: "401 invalid access token", status: 401,
		body:      `{"fault":{"faultstring":"Invalid access token","detail":{"errorcode":"oauth.v2.InvalidAccessToken"}}}`,
		sentinels: []error{ErrUnauthorized}, message: "Invalid access token", errorCode: ErrorCodeInvalidAccessToken}
	err401Expired = errorCase{name: "401 access token expired", status: 401,
		body:      `{"fault":{"faultstring":"Access Token expired","detail":{"errorcode":"keymanagement.service.access_token_expired"}}}`,
		sentinels: []error{ErrUnauthorized, ErrTokenExpired}, message: "Access Token expired", errorCode: ErrorCodeAccessTokenExpired}

	// The authentication operations' shared responses.
	authErr400 = errorCase{name: "400 bad request", status: 400, sentinels: []error{ErrBadRequest},
		body: `{"type":"bad_request","status":400,"message":"The tenant information provided with the request is not valid."}`,
		typ:  "bad_request", message: "The tenant information provided with the request is not valid."}
	authErr403 = errorCase{name: "403 forbidden", status: 403, sentinels: []error{ErrForbidden},
		body: `{"type":"Forbidden","status":403,"message":"User not authorized."}`, typ: "Forbidden", message: "User not authorized."}
	authErr404 = errorCase{name: "404 not found", status: 404, sentinels: []error{ErrNotFound},
		body: `{"status":404,"type":"application/json","message":"Customer not Found","details":[{"message":"Couldn't find a customer with customerNumber 'C001'"}]}`,
		typ:  "application/json", message: "Customer not Found", details: []string{`{"message":"Couldn't find a customer with customerNumber 'C001'"}`}}
	authErr409 = errorCase{name: "409 duplicate", status: 409, sentinels: []error{ErrConflict},
		body: `{"type":"conflict_resource","status":409,"message":"Duplicate account 'example@customer.com' for tenant 'mytenant'."}`,
		typ:  "conflict_resource", message: "Duplicate account 'e***@customer.com' for tenant 'mytenant'."}

	// The profile, address and credential operations' responses.
	// svcErr400 carries details as objects, the spec's errorDetail shape.
	svcErr400 = errorCase{name: "400 bad request", status: http.StatusBadRequest, sentinels: []error{ErrBadRequest},
		body: `{"type":"bad_request","status":400,"message":"The tenant information provided with the request is not valid.",
			"moreInfo":"https://developer.emporix.io/errors/bad_request",
			"details":[{"field":"preferredCurrency","type":"invalid_value","message":"size must be 3"},
			           {"field":"contactName","type":"missing_value","message":"must not be blank","moreInfo":"see docs"}]}`,
		typ: "bad_request", message: "The tenant information provided with the request is not valid.",
		moreInfo: "https://developer.emporix.io/errors/bad_request",
		details: []string{
			`{"field":"preferredCurrency","type":"invalid_value","message":"size must be 3"}`,
			`{"field":"contactName","type":"missing_value","message":"must not be blank","moreInfo":"see docs"}`,
		}}
	// svcErr403 is the spec's example (whose type breaks its own pattern).
	svcErr403 = errorCase{name: "403 forbidden", status: http.StatusForbidden, sentinels: []error{ErrForbidden},
		body: `{"type":"Forbidden","status":403,"message":"User not authorized.","details":[{"type":"missing_scope","message":"customer.customerprofile_edit"}]}`,
		typ:  "Forbidden", message: "User not authorized.", details: []string{`{"type":"missing_scope","message":"customer.customerprofile_edit"}`}}
	// svcErr403StringDetails carries details as strings, as existing SDKs
	// report some tenants send them.
	svcErr403StringDetails = errorCase{name: "403 forbidden with string details", status: http.StatusForbidden, sentinels: []error{ErrForbidden},
		body: `{"type":"forbidden","status":403,"message":"User not authorized.","details":["missing scope: customer.customerprofile_edit","second"]}`,
		typ:  "forbidden", message: "User not authorized.", details: []string{`"missing scope: customer.customerprofile_edit"`, `"second"`},
		offSpec: "details as strings: the spec says objects, existing SDKs see strings"}
	svcErr404 = errorCase{name: "404 address not found", status: http.StatusNotFound, sentinels: []error{ErrNotFound},
		body: `{"type":"resource_not_found","status":404,"message":"Address b05c20e034 of customer 13869000 not found."}`,
		typ:  "resource_not_found", message: "Address b05c20e034 of customer 13869000 not found."}
	svcErr409 = errorCase{name: "409 stale metadata.version", status: http.StatusConflict, sentinels: []error{ErrConflict},
		body: `{"type":"conflict_resource","status":409,"message":"Optimistic locking failed: version 1 does not match 2.","details":[{"field":"metadata.version","type":"version_mismatch","message":"expected 2"}]}`,
		typ:  "conflict_resource", message: "Optimistic locking failed: version 1 does not match 2.",
		details: []string{`{"field":"metadata.version","type":"version_mismatch","message":"expected 2"}`},
		offSpec: "the spec documents no 409 for PATCH; other Emporix services answer a stale metadata.version with 409"}

	// svcErrs are what every profile, address and credential operation is
	// tested with.
	svcErrs = []errorCase{svcErr400, err401Invalid, err401Expired, svcErr403, svcErr403StringDetails}
)

// offSpec is ec for an operation whose spec declares no such answer.
func offSpec(ec errorCase, why string) errorCase {
	ec.offSpec = why
	return ec
}

// echoing is a 400 whose message quotes a secret of the cases' secretSet,
// which must come back as REDACTED.
func echoing(name, body, message string, details ...string) errorCase {
	return errorCase{name: name, status: 400, body: body, sentinels: []error{ErrBadRequest}, typ: "bad_request",
		message: message, details: details}
}

// echoAll is a 400 quoting secret in its message, its moreInfo and both
// shapes of details, each of which must come back as REDACTED.
func echoAll(name, secret string) errorCase {
	return errorCase{name: name, status: 400, sentinels: []error{ErrBadRequest}, typ: "bad_request",
		body: fmt.Sprintf(`{"type":"bad_request","status":400,"message":"rejected %[1]s","moreInfo":"x/%[1]s",`+
			`"details":["value %[1]s",{"field":"f","message":"%[1]s"}]}`, secret),
		message: "rejected REDACTED", moreInfo: "x/REDACTED", details: []string{`"value REDACTED"`, `{"field":"f","message":"REDACTED"}`},
		offSpec: "details as strings: the spec says objects, existing SDKs see strings"}
}

// opErrors are the error answers each SDK operation is tested with.
var opErrors = map[string][]errorCase{
	"GET-oauth-generate-anonymous-access-token": {
		offSpec(authErr400, "the spec declares no errors; the service answers an unknown client_id so"),
		offSpec(err401Invalid, "the spec declares no errors; the gateway answers with its fault shape")},
	"GET-oauth-refresh-anonymous-access-token": {
		offSpec(authErr400, "the spec declares no errors; the service answers an unknown client_id so"),
		{name: "401 invalid refresh token, echoed", status: 401, sentinels: []error{ErrUnauthorized},
			body:    `{"fault":{"faultstring":"Invalid refresh token ANON-REFRESH-s3cr3t","detail":{"errorcode":"oauth.v2.InvalidRefreshToken"}}}`,
			message: "Invalid refresh token REDACTED", errorCode: "oauth.v2.InvalidRefreshToken",
			offSpec: "the spec declares no errors; the gateway answers with its fault shape"}},
	"POST-customer-create-customer-account": {authErr400, err401Invalid, err401Expired, authErr403, authErr409,
		echoing("400 echoing the password", `{"type":"bad_request","status":400,"message":"password PASSWORD-s3cr3t is too weak",`+
			`"details":[{"field":"password","type":"weak_password","message":"PASSWORD-s3cr3t is too weak"}]}`,
			"password REDACTED is too weak", `{"field":"password","type":"weak_password","message":"REDACTED is too weak"}`)},
	"POST-customer-authenticate-customer": {authErr400, err401Invalid, err401Expired,
		{name: "401 with errorCode and string details", status: 401, sentinels: []error{ErrUnauthorized},
			body:    `{"code":"unauthorized","status":401,"message":"Invalid credentials","details":["bad password"],"errorCode":"customer.login.invalid"}`,
			message: "Invalid credentials", errorCode: "customer.login.invalid", details: []string{`"bad password"`},
			offSpec: "the shape existing SDKs observed: errorCode plus string details"}},
	"GET-customer-logout-customer": {authErr400, err401Invalid, err401Expired},
	"GET-customer-refresh-authtoken": {authErr400, err401Invalid, err401Expired,
		echoing("400 echoing the refresh token", `{"type":"bad_request","status":400,"message":"Unknown refresh token CUST-REFRESH-s3cr3t"}`,
			"Unknown refresh token REDACTED")},
	"GET-customer-validate-token": {err401Invalid, err401Expired,
		{name: "401 without a body", status: 401, sentinels: []error{ErrUnauthorized}}},
	"POST-customer-exchange-authtoken": {authErr400, err401Invalid, err401Expired, authErr403,
		{name: "404 not provisioned", status: 404, sentinels: []error{ErrNotFound},
			body: `{"status":404,"type":"resource_not_found","message":"Customer not found"}`, typ: "resource_not_found", message: "Customer not found",
			offSpec: "the token-exchange guide documents a 404 for an unknown customer without autoprovisioning"}},
	"POST-customer-login-customer-by-auth0": {authErr400, err401Invalid, err401Expired},
	"GET-customer-signup-customer-optin": {authErr400, err401Invalid, err401Expired,
		echoing("400 echoing the opt-in token", `{"type":"bad_request","status":400,"message":"Opt-in token OPTIN-TOKEN-s3cr3t has expired"}`,
			"Opt-in token REDACTED has expired")},
	"POST-customer-refresh-token":                   {authErr400, err401Invalid, err401Expired},
	"GET-customer-retrieve-customer-profile":        svcErrs,
	"PATCH-customer-update-customer":                append(svcErrs, svcErr409),
	"GET-customer-list-customer-addresses":          svcErrs,
	"POST-customer-add-address":                     svcErrs,
	"GET-customer-retrieve-address-by-id":           append(svcErrs, svcErr404),
	"PATCH-customer-update-customer-address":        append(svcErrs, svcErr404, svcErr409),
	"DELETE-customer-remove-customer-address-by-id": append(svcErrs, svcErr404),
	"POST-customer-add-address-tags":                append(svcErrs, svcErr404),
	"DELETE-customer-remove-address-tags":           append(svcErrs, svcErr404),
	"POST-customer-change-customer-login-email":     append(svcErrs, echoAll("400 echoing the password", secretPassword)),
	"POST-customer-confirm-customer-login-email":    append(svcErrs, echoAll("400 echoing the token", "EMAIL-TOKEN-s3cr3t")),
	"POST-customer-request-reset-password":          svcErrs,
	"POST-customer-reset-password": append(svcErrs, echoAll("400 echoing the token", "RESET-TOKEN-s3cr3t"),
		echoAll("400 echoing the password", "NEWPW-s3cr3t")),
	"POST-customer-change-account-password": append(svcErrs, echoAll("400 echoing the current password", secretPassword),
		echoAll("400 echoing the new password", "NEWPW-s3cr3t")),
	"POST-oauth-request-client-credentials": {
		{name: "401 invalid client", status: 401, sentinels: []error{ErrUnauthorized},
			body:    `{"fault":{"faultstring":"Invalid client identifier {0}","detail":{"errorcode":"oauth.v2.InvalidClientIdentifier"}}}`,
			message: "Invalid client identifier {0}", errorCode: "oauth.v2.InvalidClientIdentifier",
			offSpec: "the OAuth spec documents no errors; the gateway answers bad credentials with its fault shape"},
		offSpec(echoing("400 echoing the client secret", `{"status":400,"type":"bad_request","message":"client_secret CLIENT-SECRET-s3cr3t rejected"}`,
			"client_secret REDACTED rejected"), "the OAuth spec documents no errors")},
	"PATCH-customer-tenant-update-customer": {authErr400, err401Invalid, err401Expired, authErr403, authErr404},
}

// TestOperationErrors: every SDK operation has error cases, and each
// decodes as its case says through every method that sends it.
func TestOperationErrors(t *testing.T) {
	t.Parallel()
	for _, row := range sdkRows() {
		cases, ok := opErrors[row.ID]
		require.True(t, ok, "no error cases for %s", row.ID)
		t.Run(row.ID, func(t *testing.T) {
			t.Parallel()
			runErrorCases(t, row.ID, cases...)
		})
	}
	require.Len(t, opErrors, len(sdkRows()), "error cases for an operation the SDK does not send")
}

// proxyPage is a proxy's error page.
const proxyPage = "<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center><hr><center>nginx</center></body></html>"

// TestOperationProxyPage: a proxy's HTML 502 page, on every SDK operation,
// is an *APIError matching ErrServer that keeps the page as Body and
// decodes nothing from it; a read (its row's retry class) is tried three
// times, every other operation once, since the service may have acted.
func TestOperationProxyPage(t *testing.T) {
	t.Parallel()
	s := newSecretSet("sentinels", "")
	for _, row := range sdkRows() {
		for _, m := range opCases[row.ID].methods() {
			t.Run(m.name, func(t *testing.T) {
				t.Parallel()
				want := 1
				if row.Retry == retrySafe {
					want = 3
				}
				c, mt := newTestClient(t)
				authServeRaw(t, mt, row.Method, casePath(row, s), http.StatusBadGateway, proxyPage)
				got, err := m.call(context.Background(), c, s)
				assert.Empty(t, got, "a failed call returns no result")
				ae := requireAPIError(t, err, http.StatusBadGateway)
				assert.ErrorIs(t, err, ErrServer)
				assert.Equal(t, proxyPage, ae.Body)
				assert.Empty(t, ae.Message)
				assert.Empty(t, ae.Type)
				assert.Equal(t, want, ae.Attempts)
				assert.Equal(t, want, calls(mt, row.Method, casePath(row, s)))
			})
		}
	}
}
