package optable

import (
	"net/http"
	"strings"
	"testing"
)

// TestTable: operationIds are unique (ByID would hide a duplicate), every
// path is absolute and every pattern registers with a ServeMux, which
// panics on a malformed or conflicting pattern.
func TestTable(t *testing.T) {
	mux := http.NewServeMux()
	seen := map[string]bool{}
	for i := range Ops {
		o := &Ops[i]
		if seen[o.ID] || ByID(o.ID) != o || Must(o.ID) != o {
			t.Errorf("%s: duplicate or not found by its id", o.ID)
		}
		seen[o.ID] = true
		if !strings.HasPrefix(o.Path, "/") || o.Doc == "" {
			t.Errorf("%s: path %q, document %q", o.ID, o.Path, o.Doc)
		}
		for _, s := range o.Secrets {
			in, name, ok := strings.Cut(s, ":")
			if !ok || name == "" || !strings.Contains("path query form body", in) ||
				in == "path" && !strings.Contains(o.Path, "{"+name+"}") {
				t.Errorf("%s: secret %q", o.ID, s)
			}
		}
		mux.Handle(o.Pattern(), http.NotFoundHandler())
	}
	if ByID("no-such-operation") != nil {
		t.Error("ByID found an unknown id")
	}
	defer func() {
		if recover() == nil {
			t.Error("Must did not panic on an unknown id")
		}
	}()
	Must("no-such-operation")
}

// stateChangingGETs are the GETs that are not reads, and why: repeating
// one may spend or issue a token. Every other GET only reads.
var stateChangingGETs = map[string]string{
	"GET-oauth-generate-anonymous-access-token": "starts a session and issues its tokens",
	"GET-oauth-refresh-anonymous-access-token":  "issues new tokens for the refresh token",
	"GET-customer-logout-customer":              "invalidates the token it names",
	"GET-customer-refresh-authtoken":            "rotates the customer's refresh token",
	"GET-customer-signup-customer-optin":        "spends the opt-in token and activates the account",
}

// TestRetryColumns checks Retry and NoAuthRetry against rules kept apart
// from the rows: the SDK and every retry test read both from the row, so
// they would agree with a wrong one. Only a GET that is no state change is
// Safe; NoAuthRetry is set exactly where the bearer token also travels as a
// parameter (logout's accessToken), since renewing it would name another
// token than the one the caller meant.
func TestRetryColumns(t *testing.T) {
	for i := range Ops {
		o := &Ops[i]
		_, changes := stateChangingGETs[o.ID]
		if safe := o.Method == http.MethodGet && !changes; (o.Retry == Safe) != safe {
			t.Errorf("%s: Retry %d; only a GET that changes no state is Safe (stateChangingGETs)", o.ID, o.Retry)
		}
		if changes && o.Method != http.MethodGet {
			t.Errorf("%s is listed in stateChangingGETs but is a %s", o.ID, o.Method)
		}
		if bearerParam := o.Secret("query", "accessToken"); o.NoAuthRetry != bearerParam {
			t.Errorf("%s: NoAuthRetry %v, but the bearer token travels as a parameter: %v", o.ID, o.NoAuthRetry, bearerParam)
		}
	}
	for id := range stateChangingGETs {
		if ByID(id) == nil {
			t.Errorf("stateChangingGETs names %s, which the table lacks", id)
		}
	}
}
