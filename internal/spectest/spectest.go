// Package spectest checks HTTP exchanges against the Emporix OpenAPI
// documents the SDK implements. It is imported only by tests.
//
// The documents are not part of the repository: [Load] reads them at test
// time from a folder laid out like shared/spec (see SOURCE.md there):
//
//	companies-and-customers/customer-management/api-reference/api.yml  (storefront API)
//	companies-and-customers/customer-service/api-reference/api.yml     (tenant-managed API)
//	authentication/oauth-service/api-reference/api.yml                 (POST /oauth/token)
//	checkout/cart/api-reference/api.yml                                (Cart Service)
//
// Routing ignores the host, the scheme and any path prefix of the base URL,
// so exchanges with a mock server at https://api.emporix.test/prefix are
// checked like exchanges with https://api.emporix.io.
//
// The documents have a few defects that the published API inventory
// (shared/design/API-INVENTORY.md) names; [Load] patches exactly those, in
// memory (see patches.go), and fails when a patch no longer finds its target.
package spectest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy/pathpattern"
)

// Names of the documents, as used in [Operation.Doc].
const (
	DocCustomerManaged = "customer-managed"
	DocTenantManaged   = "tenant-managed"
	DocOAuth           = "oauth"
	DocCart            = "cart"
)

// Paths of the documents below the folder given to [Load], as in SOURCE.md.
// The cart document's own examples contradict its schemas (a taxAggregate
// lines array where the schema has an object, among others), so its
// examples are not validated; exchanges are still checked against its
// schemas like any other.
var docFiles = []struct {
	name, path string
	examples   bool // validate the document's examples
}{
	{DocCustomerManaged, "companies-and-customers/customer-management/api-reference/api.yml", true},
	{DocOAuth, "authentication/oauth-service/api-reference/api.yml", true},
	{DocTenantManaged, "companies-and-customers/customer-service/api-reference/api.yml", true},
	{DocCart, "checkout/cart/api-reference/api.yml", false},
}

// Security scheme names of the customer-managed document.
const (
	SchemeAnonymous = "AnonymousAccessToken"
	SchemeCustomer  = "CustomerAccessToken"
)

// Operation describes one documented operation.
type Operation struct {
	ID     string
	Doc    string // DocCustomerManaged, DocTenantManaged or DocOAuth
	Method string
	Path   string // the path template, such as /customer/{tenant}/me
	// Security lists the alternative security requirements, each a sorted
	// list of scheme names. It is empty when the operation needs none
	// (security: [] or no security anywhere).
	Security [][]string
	// AuthorizationHeader tells whether the operation declares an
	// Authorization header parameter, and AuthorizationRequired whether that
	// parameter is required.
	AuthorizationHeader   bool
	AuthorizationRequired bool

	op       *openapi3.Operation
	pathItem *openapi3.PathItem
	doc      *openapi3.T
}

// Schemes returns the names of all schemes any alternative accepts.
func (o *Operation) Schemes() []string {
	var out []string
	for _, alt := range o.Security {
		for _, s := range alt {
			if !slices.Contains(out, s) {
				out = append(out, s)
			}
		}
	}
	sort.Strings(out)
	return out
}

// Spec is a loaded, patched set of documents. It is safe for concurrent use
// once Load has returned and Classify is set.
type Spec struct {
	docs  map[string]*openapi3.T
	roots map[string]*pathpattern.Node // per document
	ops   map[string]*Operation        // by operation ID
	order []string                     // document order for routing

	// Classify, when set, names the security scheme a bearer token belongs
	// to, or returns "" when it does not know the token. The security check
	// then also rejects a known token of the wrong kind, such as a customer
	// token sent to an operation that accepts only AnonymousAccessToken. Set
	// it right after Load, before any validation.
	Classify func(token string) string
}

// Load reads the three documents below dir, applies the patches and checks
// that the patched documents are valid.
func Load(dir string) (*Spec, error) {
	if dir == "" {
		return nil, errors.New("spectest: no spec folder given")
	}
	s := &Spec{
		docs:  map[string]*openapi3.T{},
		roots: map[string]*pathpattern.Node{},
		ops:   map[string]*Operation{},
	}
	for _, f := range docFiles {
		loader := openapi3.NewLoader()
		doc, err := loader.LoadFromFile(filepath.Join(dir, filepath.FromSlash(f.path)))
		if err != nil {
			return nil, fmt.Errorf("spectest: loading %s document %s: %w", f.name, f.path, err)
		}
		s.docs[f.name] = doc
		s.order = append(s.order, f.name)
	}
	if err := applyPatches(s.docs); err != nil {
		return nil, err
	}
	for i, name := range s.order {
		if err := validateDoc(s.docs[name], docFiles[i].examples); err != nil {
			return nil, fmt.Errorf("spectest: %s document is not valid OpenAPI after patching: %w", name, err)
		}
		if err := s.index(name); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// validateDoc validates a document, examples included when asked, except
// for its info section: all the documents have an empty info.version, which OpenAPI forbids
// but which has no bearing on any exchange, so it is neither patched nor
// reported.
func validateDoc(doc *openapi3.T, examples bool) error {
	examplesOpt := openapi3.EnableExamplesValidation()
	if !examples {
		examplesOpt = openapi3.DisableExamplesValidation()
	}
	err := doc.Validate(context.Background(), openapi3.EnableMultiError(), examplesOpt)
	if err == nil {
		return nil
	}
	var me openapi3.MultiError
	if !errors.As(err, &me) {
		return err
	}
	var kept openapi3.MultiError
	for _, e := range me {
		var sec *openapi3.SectionValidationError
		if errors.As(e, &sec) && sec.Section == "info" {
			continue
		}
		kept = append(kept, e)
	}
	if len(kept) == 0 {
		return nil
	}
	return kept
}

func (s *Spec) index(docName string) error {
	doc := s.docs[docName]
	root := &pathpattern.Node{}
	for _, path := range doc.Paths.InMatchingOrder() {
		item := doc.Paths.Value(path)
		for method, op := range item.Operations() {
			route := &routers.Route{Spec: doc, Path: path, PathItem: item, Method: method, Operation: op}
			if err := root.Add(method+" "+path, route, nil); err != nil {
				return fmt.Errorf("spectest: %s document: routing %s %s: %w", docName, method, path, err)
			}
			if op.OperationID == "" {
				return fmt.Errorf("spectest: %s document: %s %s has no operationId", docName, method, path)
			}
			if prev, dup := s.ops[op.OperationID]; dup {
				return fmt.Errorf("spectest: operationId %s is declared twice (%s %s in %s, %s %s in %s)",
					op.OperationID, prev.Method, prev.Path, prev.Doc, method, path, docName)
			}
			o := &Operation{ID: op.OperationID, Doc: docName, Method: method, Path: path, op: op, pathItem: item, doc: doc}
			for _, alt := range effectiveSecurity(doc, op) {
				names := make([]string, 0, len(alt))
				for n := range alt {
					names = append(names, n)
				}
				sort.Strings(names)
				if len(names) > 0 {
					o.Security = append(o.Security, names)
				}
			}
			if p := findParam(item, op, openapi3.ParameterInHeader, "Authorization"); p != nil {
				o.AuthorizationHeader, o.AuthorizationRequired = true, p.Required
			}
			s.ops[op.OperationID] = o
		}
	}
	s.roots[docName] = root
	return nil
}

// effectiveSecurity is the operation's security, or the document's when the
// operation declares none.
func effectiveSecurity(doc *openapi3.T, op *openapi3.Operation) openapi3.SecurityRequirements {
	if op.Security != nil {
		return *op.Security
	}
	return doc.Security
}

// findParam finds a parameter of an operation, the operation's own
// declaration overriding the path item's. Header names match ignoring case.
func findParam(item *openapi3.PathItem, op *openapi3.Operation, in, name string) *openapi3.Parameter {
	match := func(p *openapi3.Parameter) bool {
		if p == nil || p.In != in {
			return false
		}
		if in == openapi3.ParameterInHeader {
			return strings.EqualFold(p.Name, name)
		}
		return p.Name == name
	}
	for _, ref := range op.Parameters {
		if match(ref.Value) {
			return ref.Value
		}
	}
	for _, ref := range item.Parameters {
		if match(ref.Value) {
			return ref.Value
		}
	}
	return nil
}

// Operation returns the operation with the given ID.
func (s *Spec) Operation(id string) (*Operation, bool) {
	o, ok := s.ops[id]
	return o, ok
}

// OperationID returns the ID of the operation declared for method and the
// path template (such as "/customer/{tenant}/me").
func (s *Spec) OperationID(method, pathTemplate string) (string, bool) {
	for _, o := range s.ops {
		if o.Method == strings.ToUpper(method) && o.Path == pathTemplate {
			return o.ID, true
		}
	}
	return "", false
}

// Operations returns the operations of one document, sorted by ID.
func (s *Spec) Operations(doc string) []*Operation {
	var out []*Operation
	for _, o := range s.ops {
		if o.Doc == doc {
			out = append(out, o)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// Problem kinds.
const (
	KindRoute            = "route"             // no operation has this path
	KindMethod           = "method"            // the path exists, the method does not
	KindPath             = "path"              // malformed path (empty segment, trailing slash)
	KindParameter        = "parameter"         // a declared parameter is missing or invalid
	KindUnknownParameter = "unknown-parameter" // a query parameter the operation does not declare
	KindSecurity         = "security"          // missing, malformed or wrong-kind bearer token
	KindBody             = "body"              // request body missing, of the wrong type or invalid
	KindUnknownProperty  = "unknown-property"  // request body property no schema declares
	KindStatus           = "status"            // response status not documented for the operation
	KindEmptyBody        = "empty-body"        // documented response body missing
	KindContentType      = "content-type"      // response Content-Type not documented
	KindResponseBody     = "response-body"     // response body does not match its schema
)

// Problem is one violation.
type Problem struct {
	Kind    string
	Message string
}

// Error lists the violations of one request or response.
type Error struct {
	OperationID string // empty when the request matched no operation
	Method      string
	Path        string // the request's path as routed (prefix removed)
	Status      int    // the response status, for response errors
	Problems    []Problem
}

func (e *Error) Error() string {
	var b strings.Builder
	what := e.Method + " " + e.Path
	if e.OperationID != "" {
		what += " (" + e.OperationID + ")"
	}
	if e.Status != 0 {
		fmt.Fprintf(&b, "response %d to %s violates the spec:", e.Status, what)
	} else {
		fmt.Fprintf(&b, "request %s violates the spec:", what)
	}
	for _, p := range e.Problems {
		fmt.Fprintf(&b, "\n  - [%s] %s", p.Kind, p.Message)
	}
	return b.String()
}

// Has tells whether the error has a problem of the given kind.
func (e *Error) Has(kind string) bool {
	for _, p := range e.Problems {
		if p.Kind == kind {
			return true
		}
	}
	return false
}

// Without returns the error without the problems for which drop returns
// true, or nil when none is left.
func (e *Error) Without(drop func(Problem) bool) error {
	if e == nil {
		return nil
	}
	out := *e
	out.Problems = nil
	for _, p := range e.Problems {
		if !drop(p) {
			out.Problems = append(out.Problems, p)
		}
	}
	if len(out.Problems) == 0 {
		return nil
	}
	return &out
}

// match is a routed request.
type match struct {
	op     *Operation
	route  *routers.Route
	params map[string]string
	path   string // the routed path, prefix removed (escaped form)
}

var allMethods = []string{
	http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch,
	http.MethodDelete, http.MethodHead, http.MethodOptions, http.MethodTrace,
}

// Route finds the operation a request is for.
func (s *Spec) Route(req *http.Request) (*Operation, error) {
	m, err := s.find(req.Method, req.URL)
	if err != nil {
		return nil, err
	}
	return m.op, nil
}

// find routes method and u: it tries the escaped path and then each suffix
// that starts at a slash, so that any base-URL path prefix is skipped.
func (s *Spec) find(method string, u *url.URL) (*match, error) {
	escaped := u.EscapedPath()
	fail := &Error{Method: method, Path: escaped}
	if escaped == "" || escaped[0] != '/' {
		fail.Problems = append(fail.Problems, Problem{KindPath, fmt.Sprintf("path %q is not absolute", escaped)})
		return nil, fail
	}
	for start := 0; start < len(escaped); {
		candidate := escaped[start:]
		if m := s.lookup(method, candidate); m != nil {
			var probs []Problem
			if strings.HasSuffix(candidate, "/") || strings.Contains(candidate, "//") {
				probs = append(probs, Problem{KindPath, fmt.Sprintf("path %q has an empty segment or a trailing slash; the template is %s", candidate, m.op.Path)})
			}
			for k, v := range m.params {
				raw, err := url.PathUnescape(v)
				if err != nil {
					probs = append(probs, Problem{KindPath, fmt.Sprintf("path parameter %s is not correctly escaped", k)})
					continue
				}
				m.params[k] = raw
			}
			if len(probs) > 0 {
				return nil, &Error{OperationID: m.op.ID, Method: method, Path: candidate, Problems: probs}
			}
			return m, nil
		}
		var allowed []string
		for _, other := range allMethods {
			if other != method {
				if m := s.lookup(other, candidate); m != nil {
					allowed = append(allowed, other+" ("+m.op.ID+")")
				}
			}
		}
		if len(allowed) > 0 {
			fail.Path = candidate
			fail.Problems = append(fail.Problems, Problem{KindMethod,
				fmt.Sprintf("method %s is not declared for %s; the spec declares %s", method, candidate, strings.Join(allowed, ", "))})
			return nil, fail
		}
		next := strings.IndexByte(candidate[1:], '/')
		if next < 0 {
			break
		}
		start += next + 1
	}
	fail.Problems = append(fail.Problems, Problem{KindRoute, fmt.Sprintf("no operation in the spec matches %s %s", method, escaped)})
	return nil, fail
}

func (s *Spec) lookup(method, path string) *match {
	for _, name := range s.order {
		node, values := s.roots[name].Match(method + " " + path)
		if node == nil {
			continue
		}
		route, ok := node.Value.(*routers.Route)
		if !ok {
			continue
		}
		params := make(map[string]string, len(values))
		for i, v := range values {
			params[strings.TrimSuffix(node.VariableNames[i], "*")] = v
		}
		return &match{op: s.ops[route.Operation.OperationID], route: route, params: params, path: path}
	}
	return nil
}

// schemaOptions keeps schema errors short and free of the offending values
// (which may be secrets), and checks formats such as date-time.
var schemaOptions = []openapi3.SchemaValidationOption{
	openapi3.DisableSchemaErrorDetails(),
	openapi3.EnableFormatValidation(),
}

func (s *Spec) options() *openapi3filter.Options {
	return &openapi3filter.Options{
		MultiError:                        true,
		IncludeResponseStatus:             true,
		RejectWhenRequestBodyNotSpecified: true,
		SkipSettingDefaults:               true,
		AuthenticationFunc:                s.authenticate,
		SchemaValidationOptions:           schemaOptions,
	}
}

// input builds a kin validation input from a private copy of the request,
// so that validation never touches the caller's request.
func (s *Spec) input(req *http.Request, body []byte) (*match, *openapi3filter.RequestValidationInput, error) {
	if req == nil || req.URL == nil {
		return nil, nil, errors.New("spectest: nil request")
	}
	m, err := s.find(req.Method, req.URL)
	if err != nil {
		return nil, nil, err
	}
	u := *req.URL
	u.Scheme, u.Host, u.Path, u.RawPath = "", "", m.path, ""
	if unescaped, err := url.PathUnescape(m.path); err == nil {
		u.Path = unescaped
		if unescaped != m.path {
			u.RawPath = m.path
		}
	}
	r := &http.Request{
		Method:        req.Method,
		URL:           &u,
		Header:        req.Header.Clone(),
		Host:          req.Host,
		ContentLength: int64(len(body)),
		Body:          http.NoBody,
	}
	if r.Header == nil {
		r.Header = http.Header{}
	}
	if len(body) > 0 {
		r.Body = io.NopCloser(bytes.NewReader(body))
		r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	}
	return m, &openapi3filter.RequestValidationInput{
		Request:    r,
		PathParams: m.params,
		Route:      m.route,
		Options:    s.options(),
	}, nil
}

// ValidateRequest checks a request (whose body is given separately, as the
// request's own body may have been consumed) against its operation: path
// parameters, declared and undeclared query parameters, headers, security
// and body. It returns nil or an *Error listing every violation.
func (s *Spec) ValidateRequest(req *http.Request, body []byte) error {
	m, in, err := s.input(req, body)
	if err != nil {
		return err
	}
	e := &Error{OperationID: m.op.ID, Method: req.Method, Path: m.path}
	if err := openapi3filter.ValidateRequest(context.Background(), in); err != nil {
		e.Problems = append(e.Problems, problemsOf(err)...)
	}
	e.Problems = append(e.Problems, s.unknownQuery(m, req.URL.Query())...)
	e.Problems = append(e.Problems, s.unknownHeaders(m, req.Header)...)
	e.Problems = append(e.Problems, s.noAuthorization(m, req.Header)...)
	e.Problems = append(e.Problems, unknownBodyProperties(m.op.op, req.Header.Get("Content-Type"), body)...)
	if len(e.Problems) == 0 {
		return nil
	}
	return e
}

// ValidateResponse checks a response to req against the operation's
// documented statuses and their body schemas. It returns nil or an *Error.
func (s *Spec) ValidateResponse(req *http.Request, reqBody []byte, status int, header http.Header, body []byte) error {
	m, in, err := s.input(req, reqBody)
	if err != nil {
		return err
	}
	e := &Error{OperationID: m.op.ID, Method: req.Method, Path: m.path, Status: status}
	responses := m.op.op.Responses
	ref := responses.Status(status)
	if ref == nil {
		ref = responses.Default()
	}
	if ref == nil || ref.Value == nil {
		e.Problems = append(e.Problems, Problem{KindStatus,
			fmt.Sprintf("status %d is not documented; the spec documents %s", status, strings.Join(documentedStatuses(responses), ", "))})
		return e
	}
	if header == nil {
		header = http.Header{}
	}
	if len(ref.Value.Content) > 0 && len(bytes.TrimSpace(body)) == 0 {
		var types []string
		for t := range ref.Value.Content {
			types = append(types, t)
		}
		sort.Strings(types)
		e.Problems = append(e.Problems, Problem{KindEmptyBody,
			fmt.Sprintf("the body is empty, but the spec documents a body (%s) for status %d", strings.Join(types, " or "), status)})
		return e
	}
	err = openapi3filter.ValidateResponse(context.Background(), &openapi3filter.ResponseValidationInput{
		RequestValidationInput: in,
		Status:                 status,
		Header:                 header,
		Body:                   io.NopCloser(bytes.NewReader(body)),
		Options:                in.Options,
	})
	if err != nil {
		for _, p := range problemsOf(err) {
			if strings.Contains(p.Message, "Content-Type has unexpected value") {
				p.Kind = KindContentType
			} else {
				p.Kind = KindResponseBody
			}
			e.Problems = append(e.Problems, p)
		}
	}
	if len(e.Problems) == 0 {
		return nil
	}
	return e
}

func documentedStatuses(r *openapi3.Responses) []string {
	var out []string
	for code := range r.Map() {
		out = append(out, code)
	}
	sort.Strings(out)
	return out
}

// problemsOf flattens kin's errors into problems. It looks at the error's
// own type first: a RequestError wraps a MultiError of schema errors.
func problemsOf(err error) []Problem {
	switch e := err.(type) {
	case openapi3.MultiError:
		var out []Problem
		for _, sub := range e {
			out = append(out, problemsOf(sub)...)
		}
		return out
	case *openapi3filter.SecurityRequirementsError:
		msgs := make([]string, 0, len(e.Errors))
		for _, sub := range e.Errors {
			msgs = append(msgs, sub.Error())
		}
		return []Problem{{KindSecurity, "no security alternative is satisfied: " + strings.Join(msgs, " | ")}}
	case *openapi3filter.RequestError:
		kind := KindBody
		if e.Parameter != nil {
			kind = KindParameter
		} else if e.RequestBody == nil && e.Reason == "authorization failed" {
			kind = KindSecurity
		}
		return []Problem{{kind, flatten(e.Error())}}
	}
	return []Problem{{KindResponseBody, flatten(err.Error())}}
}

func flatten(s string) string {
	s = strings.Join(strings.Fields(strings.ReplaceAll(s, "\n", " | ")), " ")
	// allOf nesting repeats kin's prefix once per level.
	const nested = "doesn't match schema due to: "
	for strings.Contains(s, nested+nested) {
		s = strings.ReplaceAll(s, nested+nested, nested)
	}
	return strings.ReplaceAll(s, ": "+nested, ": ")
}

// unknownQuery reports query parameters the operation does not declare:
// the SDK must not invent parameters.
func (s *Spec) unknownQuery(m *match, q url.Values) []Problem {
	var out []Problem
	names := make([]string, 0, len(q))
	for name := range q {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if findParam(m.op.pathItem, m.op.op, openapi3.ParameterInQuery, name) == nil {
			out = append(out, Problem{KindUnknownParameter, fmt.Sprintf("query parameter %q is not declared by the operation", name)})
		}
		if len(q[name]) > 1 {
			out = append(out, Problem{KindParameter, fmt.Sprintf("query parameter %q is sent %d times", name, len(q[name]))})
		}
	}
	return out
}

// genericHeaders are HTTP headers any request may carry without the
// operation declaring them.
var genericHeaders = map[string]bool{
	"Accept": true, "Accept-Encoding": true, "Accept-Language": true, "Authorization": true,
	"Content-Type": true, "Content-Length": true, "Content-Encoding": true, "User-Agent": true,
	"Host": true, "Connection": true, "Cache-Control": true, "Traceparent": true, "Tracestate": true,
}

// unknownHeaders reports non-generic headers the operation does not
// declare, such as an invented saas-token or a session-id sent where the
// spec has none.
func (s *Spec) unknownHeaders(m *match, h http.Header) []Problem {
	var out []Problem
	names := make([]string, 0, len(h))
	for name := range h {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if genericHeaders[http.CanonicalHeaderKey(name)] {
			continue
		}
		if findParam(m.op.pathItem, m.op.op, openapi3.ParameterInHeader, name) == nil {
			out = append(out, Problem{KindUnknownParameter, fmt.Sprintf("header %q is not declared by the operation", name)})
		}
	}
	return out
}

// noAuthorization reports an Authorization header sent to an operation that
// neither requires a security scheme nor declares the header.
func (s *Spec) noAuthorization(m *match, h http.Header) []Problem {
	if len(m.op.Security) > 0 || m.op.AuthorizationHeader || h.Get("Authorization") == "" {
		return nil
	}
	return []Problem{{KindSecurity, "an Authorization header is sent, but the operation declares no security and no Authorization parameter"}}
}

// authenticate is the kin AuthenticationFunc: the scheme is satisfied by an
// "Authorization: Bearer <token>" header, and, when Classify knows the
// token, only by a token of that scheme.
func (s *Spec) authenticate(_ context.Context, in *openapi3filter.AuthenticationInput) error {
	scheme := in.SecurityScheme
	switch {
	case scheme.Type == "http" && strings.EqualFold(scheme.Scheme, "bearer"), scheme.Type == "oauth2":
	default:
		return in.NewError(fmt.Errorf("scheme %s of type %s is not supported by spectest", in.SecuritySchemeName, scheme.Type))
	}
	tok, err := bearerToken(in.RequestValidationInput.Request.Header)
	if err != nil {
		return in.NewError(fmt.Errorf("%s: %w", in.SecuritySchemeName, err))
	}
	if s.Classify != nil {
		if kind := s.Classify(tok); kind != "" && kind != in.SecuritySchemeName {
			return in.NewError(fmt.Errorf("%s: the bearer is a token of scheme %s", in.SecuritySchemeName, kind))
		}
	}
	return nil
}

func bearerToken(h http.Header) (string, error) {
	values := h.Values("Authorization")
	if len(values) == 0 {
		return "", errors.New("no Authorization header")
	}
	if len(values) > 1 {
		return "", errors.New("more than one Authorization header")
	}
	scheme, tok, ok := strings.Cut(values[0], " ")
	if !ok || !strings.EqualFold(scheme, "bearer") || strings.TrimSpace(tok) == "" || tok != strings.TrimSpace(tok) {
		return "", errors.New(`the Authorization header is not "Bearer <token>"`)
	}
	return tok, nil
}

// unknownBodyProperties reports request body properties that no schema of
// the body declares, where the schema does not allow additional properties
// explicitly. JSON Schema allows unknown properties by default, but a
// client that sends them is inventing fields.
func unknownBodyProperties(op *openapi3.Operation, contentType string, body []byte) []Problem {
	if op.RequestBody == nil || op.RequestBody.Value == nil || len(bytes.TrimSpace(body)) == 0 {
		return nil
	}
	media := op.RequestBody.Value.Content.Get(contentType)
	if media == nil || media.Schema == nil || media.Schema.Value == nil {
		return nil // reported by the body validation
	}
	mt, _, _ := mime.ParseMediaType(contentType)
	var value any
	switch {
	case mt == "application/x-www-form-urlencoded":
		form, err := url.ParseQuery(string(body))
		if err != nil {
			return nil
		}
		obj := map[string]any{}
		for k := range form {
			obj[k] = form.Get(k)
		}
		value = obj
	case mt == "application/json" || strings.HasSuffix(mt, "+json"):
		if err := json.Unmarshal(body, &value); err != nil {
			return nil
		}
	default:
		return nil
	}
	var out []Problem
	walkUnknown([]*openapi3.Schema{media.Schema.Value}, value, "", &out)
	return out
}

// walkUnknown checks value against the union of the given schemas (all of
// which apply to it).
func walkUnknown(schemas []*openapi3.Schema, value any, at string, out *[]Problem) {
	schemas = expand(schemas)
	switch v := value.(type) {
	case map[string]any:
		props := map[string][]*openapi3.Schema{}
		open, declared := false, false
		for _, s := range schemas {
			if ap := s.AdditionalProperties; (ap.Has != nil && *ap.Has) || ap.Schema != nil {
				open = true
			}
			for name, p := range s.Properties {
				declared = true
				if p != nil && p.Value != nil {
					props[name] = append(props[name], p.Value)
				}
			}
		}
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			sub, ok := props[k]
			if !ok {
				if declared && !open {
					*out = append(*out, Problem{KindUnknownProperty, fmt.Sprintf("request body property %s/%s is not declared by the schema", at, k)})
				}
				continue
			}
			walkUnknown(sub, v[k], at+"/"+k, out)
		}
	case []any:
		var items []*openapi3.Schema
		for _, s := range schemas {
			if s.Items != nil && s.Items.Value != nil {
				items = append(items, s.Items.Value)
			}
		}
		if len(items) == 0 {
			return
		}
		for i, e := range v {
			walkUnknown(items, e, fmt.Sprintf("%s/%d", at, i), out)
		}
	}
}

// expand adds the allOf, anyOf and oneOf branches of the schemas,
// recursively.
func expand(schemas []*openapi3.Schema) []*openapi3.Schema {
	var out []*openapi3.Schema
	var add func(s *openapi3.Schema)
	add = func(s *openapi3.Schema) {
		if s == nil || slices.Contains(out, s) {
			return
		}
		out = append(out, s)
		for _, group := range []openapi3.SchemaRefs{s.AllOf, s.AnyOf, s.OneOf} {
			for _, ref := range group {
				if ref != nil {
					add(ref.Value)
				}
			}
		}
	}
	for _, s := range schemas {
		add(s)
	}
	return out
}

// EnvDir is the environment variable naming the spec folder.
const EnvDir = "EMPORIX_SPEC_DIR"

// SkipReason is what a test that needs the spec says when EnvDir is unset.
const SkipReason = EnvDir + " is not set: requests and answers are not checked against the Emporix OpenAPI " +
	"documents (set it to a folder laid out as github.com/emporix/api-references; CI uses ../shared/spec)"

// DirFromEnv returns the spec folder named by EMPORIX_SPEC_DIR and whether
// the variable is set. A relative path is taken relative to the module root
// (the folder holding go.mod), since go test runs each package in its own
// folder; CI sets it to ../shared/spec.
func DirFromEnv() (string, bool) {
	dir, ok := os.LookupEnv(EnvDir)
	if !ok {
		return "", false
	}
	if dir == "" || filepath.IsAbs(dir) {
		return dir, true
	}
	wd, err := os.Getwd()
	if err != nil {
		return dir, true
	}
	for root := wd; ; {
		if _, err := os.Stat(filepath.Join(root, "go.mod")); err == nil {
			return filepath.Join(root, dir), true
		}
		parent := filepath.Dir(root)
		if parent == root {
			return dir, true
		}
		root = parent
	}
}
