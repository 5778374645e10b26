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
