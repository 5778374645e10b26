package optable

import (
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/emporix-go/emporix/internal/skipnote"
	"github.com/emporix-go/emporix/internal/spectest"
)

// TestMain lists the tests that skipped (see skipnote) after the run.
func TestMain(m *testing.M) { skipnote.Main(m, "internal/optable") }

// TestTableMatchesSpec checks every row against the spec's documents: its
// document, method and path template (for which the spec names the row's
// operationId), its token kind and whether the spec documents 403. The
// table holds every operation of the customer-managed and OAuth
// documents; with the tenant-managed activation the SDK calls 27, and the
// fake serves five of the Cart Service besides.
func TestTableMatchesSpec(t *testing.T) {
	dir, ok := spectest.DirFromEnv()
	if !ok {
		skipnote.Skip(t, spectest.SkipReason)
	}
	spec, err := spectest.Load(dir)
	if err != nil {
		t.Fatalf("%s=%s: %v", spectest.EnvDir, dir, err)
	}
	for i := range Ops {
		r := &Ops[i]
		o, ok := spec.Operation(r.ID)
		if !ok || o.Doc != r.Doc {
			t.Errorf("%s is not in the spec's %s document", r.ID, r.Doc)
			continue
		}
		if o.Method != r.Method || o.Path != r.Path {
			t.Errorf("%s: the table says %s %s, the spec %s %s", r.ID, r.Method, r.Path, o.Method, o.Path)
		}
		if id, ok := spec.OperationID(r.Method, r.Path); !ok || id != r.ID {
			t.Errorf("%s: the spec's operation for %s %s is %q", r.ID, r.Method, r.Path, id)
		}
		if want, why := specAuth(o); want != r.Auth {
			t.Errorf("%s: token kind %d, the spec says %s", r.ID, r.Auth, why)
		}
		// Whether the spec documents 403: ask it to validate a 403 answer.
		hr, _ := http.NewRequest(r.Method, "http://api"+placeholder.ReplaceAllString(strings.ReplaceAll(r.Path, "{tenant}", "tenant"), "x1"), nil)
		body := `{"status":403,"type":"Forbidden","message":"User not authorized."}`
		if r.Doc == DocCart {
			body = `{"code":403,"status":"Forbidden","message":"User not authorized."}`
		}
		err := spec.ValidateResponse(hr, nil, 403, http.Header{"Content-Type": {"application/json"}}, []byte(body))
		if documented := err == nil; documented != r.Has403 {
			t.Errorf("%s: Has403 = %v, but the spec documents 403: %v (%v)", r.ID, r.Has403, documented, err)
		}
	}
	for _, doc := range []string{spectest.DocCustomerManaged, spectest.DocOAuth} {
		for _, o := range spec.Operations(doc) {
			if ByID(o.ID) == nil {
				t.Errorf("the table lacks %s of the %s document", o.ID, doc)
			}
		}
	}
}

var placeholder = regexp.MustCompile(`\{[^}]+\}`)

// specAuth derives the token kind an operation needs from the spec.
func specAuth(o *spectest.Operation) (Auth, string) {
	schemes := o.Schemes()
	switch {
	case len(schemes) == 0 && !o.AuthorizationHeader:
		return None, "no security"
	case len(schemes) == 0 && o.AuthorizationRequired:
		// Quirk: exchangeauthtoken declares security: [] but a required
		// Authorization header described as the anonymous token.
		return Anonymous, "required Authorization header (anonymous per its description)"
	case o.Doc == spectest.DocCart:
		// The cart's CustomerAccessToken stands for any storefront token
		// (a guest's cart is made with the anonymous one), and OAuth2 for
		// a service token with cart.cart_manage.
		return Cart, "the Cart Service's " + strings.Join(schemes, " or ")
	case slices.Equal(schemes, []string{"OAuth2"}):
		return Service, "OAuth2 (service token)"
	case slices.Equal(schemes, []string{spectest.SchemeAnonymous}):
		return Anonymous, "security AnonymousAccessToken"
	case slices.Equal(schemes, []string{spectest.SchemeCustomer}):
		return Customer, "security CustomerAccessToken"
	case slices.Equal(schemes, []string{spectest.SchemeAnonymous, spectest.SchemeCustomer}) && len(o.Security) == 2:
		return Any, "security CustomerAccessToken or AnonymousAccessToken"
	}
	return 255, "unrecognised security " + strings.Join(schemes, ",")
}
