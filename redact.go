package emporix

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html"
	"net/url"
	"reflect"
	"slices"
	"strings"
)

// redacted replaces every secret in printed output.
const redacted = "REDACTED"

// Emporix puts credentials in query strings (refresh_token, refreshToken,
// accessToken, anonymous_token, subjectAccessToken, code, code_verifier) and
// in one path segment (the double opt-in token). Redaction therefore keeps
// only the query names known to be harmless and masks everything else: an
// allow-list cannot miss a secret parameter added later.
var safeQueryNames = map[string]bool{
	"tenant":         true,
	"expand":         true,
	"tags":           true,
	"currency":       true,
	"siteCode":       true,
	"language":       true,
	"targetLocation": true,
	"legalEntityId":  true,
	"config":         true,
}

// redactQuery masks every query value whose name is not allow-listed. It
// works on the raw query so malformed input cannot smuggle a value through:
// both '&' and ';' separate parameters (some servers split on ';'), and a
// bare part without '=' is masked whole, as it may be a value on its own.
func redactQuery(raw string) string {
	var b strings.Builder
	b.Grow(len(raw))
	for raw != "" {
		part, rest := raw, ""
		if i := strings.IndexAny(raw, "&;"); i >= 0 {
			part, rest = raw[:i], raw[i:]
		}
		name, _, hasValue := strings.Cut(part, "=")
		un, err := url.QueryUnescape(name)
		switch {
		case part == "" || (err == nil && safeQueryNames[un]):
			b.WriteString(part)
		case hasValue:
			b.WriteString(name)
			b.WriteString("=" + redacted)
		default:
			b.WriteString(redacted)
		}
		if rest == "" {
			break
		}
		b.WriteByte(rest[0])
		raw = rest[1:]
	}
	return b.String()
}

// Secrets print masked wherever they sit because their type is [Secret].
// One gap remains, in fmt itself: a verb that does not suit a pointer (%s,
// %d, %q, ...) prints the pointed-to struct in an error form that calls no
// Format method, so the Secrets behind it would print raw. The types that
// hold pointers to secret-bearing structs (SessionState, SignupRequest)
// therefore print through formatFields under every verb, which also shows
// the pointed-to values instead of their addresses.

// fields returns the exported fields of struct v.
func fields(v any) (typeName string, names []string, values []any) {
	rv := reflect.ValueOf(v)
	for rv.Kind() == reflect.Pointer {
		if rv.IsNil() {
			return "", nil, nil
		}
		rv = rv.Elem()
	}
	rt := rv.Type()
	for i := range rt.NumField() {
		if f := rt.Field(i); f.IsExported() {
			names = append(names, f.Name)
			values = append(values, rv.Field(i).Interface())
		}
	}
	return rt.String(), names, values
}

// formatFields implements fmt.Formatter for struct v: %#v in Go syntax,
// every other verb as %+v would print it, with pointers followed.
func formatFields(f fmt.State, verb rune, v any) {
	goSyntax := verb == 'v' && f.Flag('#')
	typeName, names, values := fields(v)
	if typeName == "" {
		if goSyntax {
			_, _ = fmt.Fprint(f, "nil")
		} else {
			_, _ = fmt.Fprint(f, "<nil>")
		}
		return
	}
	sep, format := " ", "%s:%v"
	if goSyntax {
		sep, format = ", ", "%s:%#v"
	}
	_, _ = fmt.Fprint(f, typeName, "{")
	for i, n := range names {
		if i > 0 {
			_, _ = fmt.Fprint(f, sep)
		}
		_, _ = fmt.Fprintf(f, format, n, values[i])
	}
	_, _ = fmt.Fprint(f, "}")
}

// scrubber masks the secrets one request carried wherever server-provided
// text is kept (error messages, details, snippets): a server that echoes a
// token back must not leak it through an error string. It also masks the
// encodings a server or proxy may echo a secret in: the query and path
// escapes of a URL, the escaped form inside a JSON string and the HTML
// escape of an error page. They are derived only here, on the error path.
//
// A secret shorter than minScrubbed bytes is not masked: so short a value
// matches ordinary text, and masking every match would both garble the
// message and show where the secret occurs in it. No credential the SDK
// sends is that short (passwords have at least 6 characters).
type scrubber []string

// minScrubbed is the length in bytes under which a secret is not masked.
const minScrubbed = 4

// apply masks every echo of s's secrets in text. An error with several
// texts to mask derives the echoes once, with s.echoes.
func (s scrubber) apply(text string) string { return s.echoes().apply(text) }

// echoes returns every form of s's secrets that is masked, each once.
func (s scrubber) echoes() echoes {
	var forms echoes
	for _, secret := range s {
		if len(secret) < minScrubbed {
			continue
		}
		for _, form := range echoForms(secret) {
			if !slices.Contains(forms, form) {
				forms = append(forms, form)
			}
		}
	}
	return forms
}

// echoes are the forms of a request's secrets as a server may echo them:
// what scrubber.apply masks.
type echoes []string

func (forms echoes) apply(text string) string {
	if len(forms) == 0 || text == "" {
		return text
	}
	// Every echo of every secret is found in the original text first and
	// overlapping finds are merged, so that a secret inside another (a new
	// password that extends the old one) or two echoes that overlap are
	// masked whole: replacing one secret after another would leave the
	// longer one's remainder in the text. One form's own finds do not
	// overlap (as strings.ReplaceAll), so that what is masked does not
	// depend on the secret's value, only on where it was echoed.
	var spans [][2]int
	for _, form := range forms {
		for from := 0; ; {
			i := strings.Index(text[from:], form)
			if i < 0 {
				break
			}
			spans = append(spans, [2]int{from + i, from + i + len(form)})
			from += i + len(form)
		}
	}
	if len(spans) == 0 {
		return text
	}
	slices.SortFunc(spans, func(a, b [2]int) int { return a[0] - b[0] })
	var out strings.Builder
	end := 0 // the end of the text copied or masked so far
	for i := 0; i < len(spans); {
		start, stop := spans[i][0], spans[i][1]
		for i++; i < len(spans) && spans[i][0] <= stop; i++ {
			stop = max(stop, spans[i][1])
		}
		out.WriteString(text[end:start])
		out.WriteString(redacted)
		end = stop
	}
	out.WriteString(text[end:])
	return out.String()
}

// echoForms returns secret and the encodings it may be echoed in; the
// caller drops the forms that repeat (most secrets need no escaping).
func echoForms(secret string) []string {
	forms := []string{secret, url.QueryEscape(secret), url.PathEscape(secret), html.EscapeString(secret)}
	if b, err := json.Marshal(secret); err == nil {
		forms = append(forms, string(b[1:len(b)-1]))
	}
	// Without HTML escaping, JSON differs from the form above only in
	// <, > and &.
	if !strings.ContainsAny(secret, "<>&") {
		return forms
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if enc.Encode(secret) == nil {
		if b := bytes.TrimSpace(buf.Bytes()); len(b) >= 2 {
			forms = append(forms, string(b[1:len(b)-1]))
		}
	}
	return forms
}

// formatOpaque implements fmt.Formatter for types that hold secrets in
// unexported fields (token sources, sessions, stores): every verb prints
// the fixed description, never the fields.
func formatOpaque(f fmt.State, description string) { _, _ = fmt.Fprint(f, description) }
