package spectest

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/emporix-go/emporix/internal/skipnote"
	"github.com/getkin/kin-openapi/openapi3"
)

func specDir(t *testing.T) string {
	t.Helper()
	dir, ok := DirFromEnv()
	if !ok {
		skipnote.Skip(t, SkipReason)
	}
	return dir
}

func rawDocs(t *testing.T, dir string) map[string]*openapi3.T {
	t.Helper()
	docs := map[string]*openapi3.T{}
	for _, f := range docFiles {
		doc, err := openapi3.NewLoader().LoadFromFile(filepath.Join(dir, filepath.FromSlash(f.path)))
		if err != nil {
			t.Fatal(err)
		}
		docs[f.name] = doc
	}
	return docs
}

// Every patch must find its target as described in the inventory, and must
// refuse to apply to an already fixed document: that is how an upstream fix
// makes Load fail loudly instead of keeping a stale patch.
func TestPatchesFailWhenStale(t *testing.T) {
	docs := rawDocs(t, specDir(t))
	if err := applyPatches(docs); err != nil {
		t.Fatalf("patches do not apply to the pristine documents: %v", err)
	}
	for _, p := range patches {
		err := p.apply(docs[p.doc])
		if err == nil {
			t.Errorf("patch %q applied twice: it cannot detect a fixed document", p.name)
		}
	}
	err := applyPatches(docs)
	if err == nil || !strings.Contains(err.Error(), "stale spec patch") {
		t.Errorf("applyPatches on patched documents = %v, want a stale patch error", err)
	}
}

// Without its patch, the customer-managed document contradicts its own
// login example (initialPassword: false), so the document check fails.
func TestUnpatchedDocumentFailsItsOwnExamples(t *testing.T) {
	docs := rawDocs(t, specDir(t))
	if err := validateDoc(docs[DocCustomerManaged], true); err == nil || !strings.Contains(err.Error(), "initialPassword") {
		t.Errorf("validateDoc(unpatched) = %v, want an initialPassword example error", err)
	}
}

func TestLoadIndexesAllOperations(t *testing.T) {
	s, err := Load(specDir(t))
	if err != nil {
		t.Fatal(err)
	}
	for doc, want := range map[string]int{DocCustomerManaged: 25, DocOAuth: 1} {
		if got := len(s.Operations(doc)); got != want {
			t.Errorf("%s: %d operations, want %d", doc, got, want)
		}
	}
	if _, ok := s.Operation("PATCH-customer-tenant-update-customer"); !ok {
		t.Error("tenant-managed PATCH not indexed")
	}
	for _, id := range []string{"POST-cart-create-cart", "GET-cart-retrieve-cart-by-criteria", "GET-cart-retrieve-cart-by-cartId",
		"POST-cart-add-item-to-cart", "POST-cart-merge-carts", "POST-cart-add-multiple-items-to-cart"} {
		if o, ok := s.Operation(id); !ok || o.Doc != DocCart {
			t.Errorf("cart operation %s not indexed", id)
		}
	}
}
