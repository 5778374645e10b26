package emporix

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestSecretIsMaskedWhereverItSits: a Secret prints masked in containers
// the SDK does not know, under every verb that suits them, in both slog
// handlers and in JSON, and an empty one prints empty.
func TestSecretIsMaskedWhereverItSits(t *testing.T) {
	t.Parallel()
	const raw = "RAW-SECRET-s3cr3t"
	type form struct {
		User  string
		Login LoginRequest
		Creds *ServiceCredentials
		Extra map[string]Secret
		List  []Secret
	}
	values := map[string]any{
		"Secret":      Secret(raw),
		"user struct": form{User: "jane", Login: LoginRequest{Email: "jane@example.com", Password: raw}, Creds: &ServiceCredentials{ClientID: "id", ClientSecret: raw}, Extra: map[string]Secret{"k": raw}, List: []Secret{raw}},
		"pointer":     &form{Login: LoginRequest{Password: raw}},
		"map":         map[string]Token{"t": {AccessToken: raw, SessionID: "sid"}},
		"slice":       []*Token{{RefreshToken: raw}},
	}
	for name, v := range values {
		for _, verb := range []string{"%v", "%+v", "%#v"} {
			out := fmt.Sprintf(verb, v)
			assert.NotContains(t, out, raw, "%s %s: %s", name, verb, out)
			if name != "slice" { // fmt shows the elements' addresses
				assert.Contains(t, out, "REDACTED", "%s %s: %s", name, verb, out)
			}
		}
		var text, js bytes.Buffer
		slog.New(slog.NewTextHandler(&text, nil)).Info("x", "v", v)
		slog.New(slog.NewJSONHandler(&js, nil)).Info("x", "v", v)
		b, err := json.Marshal(v)
		require.NoError(t, err)
		for _, out := range []string{text.String(), js.String(), string(b)} {
			assert.NotContains(t, out, raw, "%s: %s", name, out)
		}
	}
	for _, verb := range []string{"%s", "%q", "%x", "%X", "%d", "%10s"} {
		assert.NotContains(t, fmt.Sprintf(verb, Secret(raw)), raw, verb)
	}
	assert.Equal(t, `"REDACTED"`, fmt.Sprintf("%#v", Secret(raw)))
	assert.Equal(t, "", fmt.Sprint(Secret("")), "an empty secret shows as empty")
	assert.Equal(t, raw, string(Secret(raw)), "a conversion reads the value")
}

// TestWireJSONSendsRealValuesWithTheDeclaredShape: the wire encoding of a
// value holding Secrets is the encoding of the same value with strings in
// their place, nested values, tags and omitempty included.
func TestWireJSONSendsRealValuesWithTheDeclaredShape(t *testing.T) {
	t.Parallel()
	req := SignupRequest{Email: "jane@example.com", Password: "pw-1-s3cr3t",
		CustomerDetails: &CustomerDetails{FirstName: "Jane"}, Signup: &LoginRequest{Email: "l@example.com", Password: "pw-2-s3cr3t"}}
	got, err := wireJSON(&req)
	require.NoError(t, err)
	type plainLogin struct {
		Email    string `json:"email"`
		Password string `json:"password"`
	}
	want, err := json.Marshal(struct {
		Email           string           `json:"email"`
		Password        string           `json:"password"`
		CustomerDetails *CustomerDetails `json:"customerDetails,omitempty"`
		CustomerAddress *Address         `json:"customerAddress,omitempty"`
		Signup          *plainLogin      `json:"signup,omitempty"`
	}{"jane@example.com", "pw-1-s3cr3t", &CustomerDetails{FirstName: "Jane"}, nil, &plainLogin{"l@example.com", "pw-2-s3cr3t"}})
	require.NoError(t, err)
	assert.JSONEq(t, string(want), string(got))

	var seen []string
	collectSecrets(&req, func(s string) { seen = append(seen, s) })
	assert.ElementsMatch(t, []string{"pw-1-s3cr3t", "pw-2-s3cr3t"}, seen, "every Secret is collected for scrubbing")

	plain, err := wireJSON(struct{ N int }{7})
	require.NoError(t, err)
	assert.JSONEq(t, `{"N":7}`, string(plain), "values without secrets encode as they are")
}
