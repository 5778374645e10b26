package emporix

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The e-mail addresses the sweep's requests carry, and one every fake
// answer adds, as a service echoing another record would.
var sweepEmails = []string{"jane@example.com", "new@example.com", "login@example.com", "jane.doe+shop@example.co.uk"}

// TestPersonalDataSweep runs every operation against every failure mode of
// the secrets sweep, each answer echoing the request and naming a
// shopper's e-mail address, plus the duplicate sign-up answer, and checks
// that no address appears in any printing of the error (every fmt verb,
// slog text and JSON), in the error's typed fields meant for display, or
// in the SDK's log records at Debug level; ServerMessage keeps the server's
// words.
func TestPersonalDataSweep(t *testing.T) {
	t.Parallel()
	set := newSecretSet("sentinels", "")
	ops := sweepOps()
	lc := newLeakChecker(t, sweepEmails)
	modes := append(failureModes(), failureMode{name: "409 duplicate account",
		respond: func(req *http.Request, _ string, _ *secretSet) (*http.Response, error) {
			return bodyResponse(req, 409, "application/json", `{"status":409,"type":"conflict_resource",`+
				`"message":"Duplicate account 'jane.doe+shop@example.co.uk' for tenant 'mytenant'."}`), nil
		}})
	for _, mode := range modes {
		t.Run(mode.name, func(t *testing.T) {
			lc.t = t
			var logBuf bytes.Buffer
			logger := slog.New(slog.NewTextHandler(&logBuf, &slog.HandlerOptions{Level: slog.LevelDebug}))
			c, mt := newTestClient(t, WithLogger(logger), WithDefaultTokenSource(StaticTokens(set.anon, set.cust)))
			mt.RegisterNoResponder(func(req *http.Request) (*http.Response, error) {
				return mode.respond(req, echoOf(req)+" | account jane.doe+shop@example.co.uk", set)
			})
			for _, op := range ops {
				_, err := op.run(context.Background(), c, set)
				label := op.name + " (" + mode.name + ")"
				if !mode.success {
					require.Error(t, err, label)
				}
				if err == nil {
					continue
				}
				lc.check(label+": error", printings(err)...)
				var apiErr *APIError
				if errors.As(err, &apiErr) {
					shown := []string{apiErr.Message, apiErr.Type, apiErr.ErrorCode, apiErr.MoreInfo, apiErr.Body,
						fmt.Sprint(apiErr.Fields), fmt.Sprint(FieldErrors(err))}
					for _, d := range apiErr.Details {
						shown = append(shown, string(d))
					}
					lc.check(label+": APIError fields", shown...)
					if mode.name == "409 duplicate account" {
						assert.Equal(t, "Duplicate account 'j***@example.co.uk' for tenant 'mytenant'.", apiErr.Message, label)
						assert.Equal(t, "Duplicate account 'jane.doe+shop@example.co.uk' for tenant 'mytenant'.", apiErr.ServerMessage,
							"%s: the server's words stay available", label)
					}
				}
				var reqErr *RequestError
				if errors.As(err, &reqErr) {
					lc.check(label+": RequestError", reqErr.Err.Error())
				}
			}
			lc.check("debug log", logBuf.String())
			assert.Contains(t, logBuf.String(), "operation=", "the debug log recorded the requests")
		})
	}
}

// %#v prints the fields of a struct; an APIError's prints only masked text.
func TestAPIErrorGoSyntaxIsMasked(t *testing.T) {
	t.Parallel()
	e := &APIError{StatusCode: 409, Message: "Duplicate account 'j***@example.com'",
		ServerMessage: "Duplicate account 'jane@example.com'", Details: nil}
	out := fmt.Sprintf("%#v", e)
	assert.NotContains(t, out, "jane@example.com")
	assert.Contains(t, out, "j***@example.com")
	assert.Contains(t, out, "ServerMessage:\"(not printed: it may hold personal data)\"")
	assert.Contains(t, out, "StatusCode:409")
	assert.Equal(t, reflect.TypeOf(e).String(), "*emporix.APIError")
}

// Names, phone numbers and street addresses have no pattern; the values the
// request carried in fields tagged personal are masked where the answer
// echoes them, e-mail addresses as j***@example.com, the rest as ***.
func TestEchoedPersonalValuesAreMasked(t *testing.T) {
	t.Parallel()
	var logBuf bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logBuf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	c, mt := newTestClient(t, WithLogger(logger))
	allowOffSpecResponses(t, "the details echo the request as a careless service would")
	const echoed = `contactPhone '+49 170 1234567' of Jane Doe (Main Street, c/o Erika Mustermann) is not valid`
	serve(t, mt, "POST", "/customer/mytenant/me/addresses", jsonReply(400, `{"status":400,"type":"validation_failure",
		"message":"`+echoed+`","details":[{"field":"contactPhone","type":"invalid_value","message":"`+echoed+`"}]}`))
	_, err := c.Addresses.Create(context.Background(), &AddressCreate{ContactName: "Jane Doe", Street: "Main Street",
		ExtraLine1: "c/o Erika Mustermann", ContactPhone: "+49 170 1234567", City: "Berlin", Country: "DE"})
	require.ErrorIs(t, err, ErrBadRequest)
	lc := newLeakChecker(t, []string{"Jane Doe", "+49 170 1234567", "Main Street", "Erika Mustermann"})
	lc.check("error", printings(err)...)
	lc.check("fields", fmt.Sprint(FieldErrors(err)))
	lc.check("log", logBuf.String())
	apiErr := requireAPIError(t, err, 400)
	assert.Equal(t, "contactPhone '***' of *** (***, ***) is not valid", apiErr.Message)
	assert.Equal(t, echoed, apiErr.ServerMessage)
	assert.Equal(t, "contactPhone", FieldErrors(err)[0].Field, "the field names stay")

	// A transport error quoting the request is masked the same way.
	mt.RegisterResponder("PATCH", testBase+"/customer/mytenant/me/addresses/a1", func(*http.Request) (*http.Response, error) {
		return nil, errors.New("proxy refused body for Jane Doe")
	})
	err = c.Addresses.Update(context.Background(), "a1", &AddressUpdate{ContactName: Ptr("Jane Doe")})
	require.Error(t, err)
	lc.check("transport error", printings(err)...)
	assert.Contains(t, err.Error(), "proxy refused body for ***")
}

// A value the request carried is masked in Details also where the server
// escaped it, as an encoder that escapes what is not ASCII does: a caller
// reads the entry decoded.
func TestEchoedPersonalValuesAreMaskedWhenEscaped(t *testing.T) {
	t.Parallel()
	c, mt := newTestClient(t)
	allowOffSpecResponses(t, "the details echo the request as a careless service would")
	serve(t, mt, "POST", "/customer/mytenant/me/addresses", jsonReply(400, `{"status":400,"message":"invalid",`+
		`"details":["J\u00fcrgen M\u00fcller","\u00e9",{"field":"contactName","message":"J\u00fcrgen M\u00fcller is not valid"}]}`))
	_, err := c.Addresses.Create(context.Background(), &AddressCreate{ContactName: "Jürgen Müller", Street: "Hauptstraße",
		City: "Berlin", Country: "DE"})
	apiErr := requireAPIError(t, err, 400)
	require.Len(t, apiErr.Details, 3)
	var first string
	require.NoError(t, json.Unmarshal(apiErr.Details[0], &first))
	assert.Equal(t, "***", first)
	assert.Equal(t, `"\u00e9"`, string(apiErr.Details[1]), "an entry that shows no value keeps its form")
	assert.JSONEq(t, `{"field":"contactName","message":"*** is not valid"}`, string(apiErr.Details[2]))
	require.Len(t, FieldErrors(err), 3)
	assert.Equal(t, "*** is not valid", FieldErrors(err)[2].Message)
}

// A value the request carried is masked in a kept body before the body is
// cut to a snippet: masked after, a value across the cut shows in part.
func TestEchoedPersonalValueAcrossTheSnippetCut(t *testing.T) {
	t.Parallel()
	c, mt := newTestClient(t)
	allowOffSpecResponses(t, "a proxy's page echoes the request")
	page := "<html>" + strings.Repeat("x", 490) + " Erika Mustermann</html>"
	serve(t, mt, "POST", "/customer/mytenant/me/addresses", jsonReply(502, page))
	_, err := c.Addresses.Create(context.Background(), &AddressCreate{ContactName: "Erika Mustermann", Street: "Hauptstraße",
		City: "Berlin", Country: "DE"})
	apiErr := requireAPIError(t, err, 502)
	assert.Equal(t, "<html>"+strings.Repeat("x", 490)+" ***</html>", apiErr.Body, "short enough once masked: nothing cut")
	assert.NotContains(t, strings.Join(printings(err), "\n"), "Erika")
}
