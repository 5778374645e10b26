package emporix

import (
	"bytes"
	"encoding/json"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// maxErrorBody caps how much of an error response is read.
const maxErrorBody = 1 << 20

// utf8BOM is the byte order mark U+FEFF in UTF-8.
var utf8BOM = []byte("\ufeff")

// maxDetails caps how many details entries an APIError keeps: each is
// masked on its own, at a cost a body of a megabyte of entries would
// multiply into seconds and gigabytes per error.
const maxDetails = 100

// maxSnippet caps how much of an unrecognised error body is kept on an
// APIError.
const maxSnippet = 512

// maxExplainDepth and maxExplainParts bound how far a message given as an
// object or array is searched, so that a pathological body costs little.
const (
	maxExplainDepth = 8
	maxExplainParts = 10
)

// fill decodes an error body into e and masks the request's secrets and
// its personal values (see maskValues) in every text it keeps.
//
// Emporix answers with two shapes (ErrorMessage and the gateway's fault),
// but proxies, the OAuth endpoints and other gateways in front of it use
// others; any message found in a known place becomes Message. When no
// message is found the body itself is kept in Body, capped: a non-JSON body
// (an HTML page from a proxy) as text, a JSON body re-encoded with the
// values of credential-like members (access_token, password, ...) masked,
// because an error status may carry a token response.
func (e *APIError) fill(body []byte, secrets scrubber, personal []string) {
	trimmed, jsonLike := e.decode(body)
	if len(trimmed) == 0 {
		return
	}
	scrub := secrets.echoes() // once for all the texts below
	for _, t := range e.texts() {
		*t = maskCredentialPairs(scrub.apply(*t))
	}
	for i, d := range e.Details {
		if masked, ok := maskedJSON(d); ok {
			d = json.RawMessage(masked)
			e.Details[i] = d
		}
		if s := scrub.apply(string(d)); s != string(d) {
			// Masked in its text, a secret that is a JSON number leaves
			// text that is not JSON: the entry is masked token by token
			// then, a masked number becoming a string, so that it keeps
			// its shape (and its FieldError its field). Only a secret
			// across tokens leaves the scrubbed entry as a JSON string.
			m := maskJSON(d, scrub.apply, scrub.apply)
			if string(m) == string(d) || scrub.apply(string(m)) != string(m) {
				b, _ := json.Marshal(s)
				m = b
			}
			e.Details[i] = m
		}
	}
	e.maskPersonal(scrub)
	e.maskValues(personal)
	if e.Message != "" {
		return
	}
	text := string(trimmed)
	if jsonLike {
		text, _ = maskedJSON(trimmed)
	}
	// Mask the whole text before cutting the snippet: a secret or a
	// personal value that straddles the cut would otherwise survive in
	// part. The request's secrets go first, as in the other texts, so
	// that what the pairs mask does not depend on a secret's value.
	e.Body = snippet(maskValues(maskPersonal(maskCredentialPairs(scrub.apply(text))), personal))
}

// decode reads an error body into e as the server wrote it, nothing
// masked, and returns the body trimmed and whether it looks like JSON.
// Only fill's masking makes the texts fit to keep; a caller that reads a
// code and drops the error (rejectsToken) needs no more than this.
func (e *APIError) decode(body []byte) (trimmed []byte, jsonLike bool) {
	// A byte order mark before the body is dropped, as RFC 8259 lets a
	// parser do: kept, it would hide a JSON body's shape, and with it the
	// masking of its credential-like members.
	trimmed = bytes.TrimSpace(bytes.TrimPrefix(body, utf8BOM))
	if len(trimmed) == 0 {
		return trimmed, false
	}
	switch trimmed[0] {
	case '{':
		if f, ok := objectFields(trimmed); ok {
			e.fillObject(f, 0)
		}
		return trimmed, true
	case '[':
		e.Message = explain(trimmed, 0)
		return trimmed, true
	}
	return trimmed, false
}

// maskPersonal keeps the server's message in ServerMessage and masks the
// e-mail addresses in every text the error shows, then decodes Fields.
// Fields need no mask of their own: their texts are decoded strings of
// Details entries, which maskPersonalJSON masks as decoded strings too
// (a secret JSON-escaped as \u0026 for & is plain text once decoded).
func (e *APIError) maskPersonal(scrub echoes) {
	e.ServerMessage = e.Message
	for _, t := range e.texts() {
		*t = maskPersonal(*t)
	}
	for i, d := range e.Details {
		e.Details[i] = maskPersonalJSON(d, scrub)
	}
	e.Fields = fieldErrorsOf(e.Details)
}

// maskPersonalJSON masks the e-mail addresses and credential-like
// name=value pairs in a JSON value, and the request's secrets as its
// decoded strings spell them. Masked in its text, the value keeps its
// form ("*" needs no escaping), but an escape can hide an address or a
// secret from that mask, or break under it: in
// "jane\u0040example.com" no '@' shows, a password "pässwort" echoed by
// an encoder that escapes non-ASCII text reads "p\u00e4sswort", and in
// "\u00e9jane@example.com" the address seems to start at the escape's u,
// so the mask cuts the escape and the value is no longer JSON. Then the
// decoded strings are masked and the value is encoded anew.
func maskPersonalJSON(d json.RawMessage, scrub echoes) json.RawMessage {
	// Any escape may spell what the masks look for ('@', '=', the '%' and
	// '&' of an escaped '=', the ':' of a quoted member), so only a value
	// without one is skipped.
	if len(scrub) == 0 && !bytes.ContainsAny(d, "@=%&:") && !bytes.Contains(d, []byte(`\u`)) {
		return d
	}
	rawMask := func(s string) string { return maskPersonal(maskCredentialPairs(s)) }
	return maskJSON(d, rawMask, func(s string) string { return rawMask(scrub.apply(s)) })
}

// maskJSON masks a JSON value in its text with rawMask, which keeps the
// value's form, unless that leaves text that is not JSON or decoded
// strings that mask still changes (an escape hid a value from rawMask);
// then mask runs on the decoded strings, member names included, and the
// value is encoded anew token by token: decoded into a map, its members
// would be sorted, and two whose names mask alike ("jane@example.com"
// and "john@example.com") merged into one, losing the other's value.
func maskJSON(d json.RawMessage, rawMask, mask func(string) string) json.RawMessage {
	if m := json.RawMessage(rawMask(string(d))); json.Valid(m) && !jsonStringsChange(m, mask) {
		return m
	}
	if !json.Valid(d) {
		return d
	}
	text, _ := rewriteJSON(d, mask)
	return json.RawMessage(text)
}

// jsonStringsChange reports whether f changes a string of the JSON value
// raw, member names included.
func jsonStringsChange(raw []byte, f func(string) string) bool {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	for {
		tok, err := dec.Token()
		if err != nil {
			return false
		}
		if s, ok := tok.(string); ok && f(s) != s {
			return true
		}
	}
}

// texts are the error's texts taken from the server's answer, apart from
// Body: every mask (secrets, e-mail addresses, personal values) runs over
// this one list, so a text added here is masked everywhere.
func (e *APIError) texts() [4]*string {
	return [...]*string{&e.Message, &e.Type, &e.ErrorCode, &e.MoreInfo}
}

// texts are the field error's texts taken from the server's answer.
func (f *FieldError) texts() [4]*string {
	return [...]*string{&f.Field, &f.Type, &f.Message, &f.MoreInfo}
}

// errorFields are the members of a JSON error object by lower-case name:
// services spell the same member message, Message or MESSAGE (the Apigee
// token endpoint sends ErrorCode and Error).
type errorFields map[string]json.RawMessage

// objectFields decodes a JSON object. Of members whose names differ only
// in case, the lower-case one wins, else the first in byte order, so that
// the result never depends on map order.
func objectFields(raw []byte) (errorFields, bool) {
	var m map[string]json.RawMessage
	if json.Unmarshal(raw, &m) != nil || m == nil {
		return nil, false
	}
	names := make([]string, 0, len(m))
	for name := range m {
		names = append(names, name)
	}
	slices.Sort(names)
	f := make(errorFields, len(m))
	for _, name := range names {
		lower := strings.ToLower(name)
		if _, taken := f[lower]; !taken || name == lower {
			f[lower] = m[name]
		}
	}
	return f, true
}

// text returns the member as a string when it is a JSON string, else "".
func (f errorFields) text(name string) string { return jsonText(f[name]) }

// fillObject reads one error object into the fields of e that are still
// empty; the gateway's fault, which is the most specific, overrides.
func (e *APIError) fillObject(f errorFields, depth int) {
	setOnce(&e.Type, f.text("type"))
	setOnce(&e.MoreInfo, f.text("moreinfo"))
	setOnce(&e.ErrorCode, f.text("errorcode"), f.text("error_code"), f.text("code"))
	if e.Details == nil {
		e.Details = detailsOf(f["details"])
	}
	if fault, ok := objectFields(f["fault"]); ok {
		if msg := fault.text("faultstring"); msg != "" {
			e.Message = msg
		}
		if detail, ok := objectFields(fault["detail"]); ok {
			if code := detail.text("errorcode"); code != "" {
				e.ErrorCode = code
			}
		}
	}

	// error is a code next to error_description (OAuth 2.0, RFC 6749
	// section 5.2), a message next to ErrorCode (Apigee), or an object of
	// its own ({"error":{"code":...,"message":...}}).
	errMember := bytes.TrimSpace(f["error"])
	_, described := f["error_description"]
	if described && len(errMember) > 0 && errMember[0] == '"' {
		setOnce(&e.ErrorCode, jsonText(errMember))
	}
	setOnce(&e.Message, explain(f["message"], depth), f.text("error_description"), explain(f["errors"], depth))
	if len(errMember) > 0 && errMember[0] == '{' && depth < maxExplainDepth {
		if inner, ok := objectFields(errMember); ok {
			e.fillObject(inner, depth+1)
		}
	} else if !described {
		setOnce(&e.Message, explain(errMember, depth))
	}
	// RFC 9457 problem details, and other common names.
	setOnce(&e.Message, f.text("detail"), f.text("title"), f.text("description"),
		f.text("errormessage"), f.text("error_message"), f.text("msg"))
}

// setOnce sets *dst to the first non-empty candidate unless it is set.
func setOnce(dst *string, candidates ...string) {
	if *dst != "" {
		return
	}
	for _, c := range candidates {
		if c != "" {
			*dst = c
			return
		}
	}
}

// detailsOf reads ErrorMessage details: an array, or one entry sent
// without it.
func detailsOf(raw json.RawMessage) []json.RawMessage {
	d := bytes.TrimSpace(raw)
	if len(d) == 0 {
		return nil
	}
	var details []json.RawMessage
	switch {
	case d[0] == '[' && json.Unmarshal(d, &details) == nil:
		if len(details) > maxDetails {
			// A copy, so the dropped entries are not held on to.
			kept := make([]json.RawMessage, maxDetails)
			copy(kept, details)
			details = kept
		}
		return details
	case d[0] == '{' || d[0] == '"':
		return []json.RawMessage{d}
	}
	return nil
}

// jsonText returns raw as a string when it is a JSON string, else "".
func jsonText(raw json.RawMessage) string {
	var s string
	if len(raw) == 0 || json.Unmarshal(raw, &s) != nil {
		return ""
	}
	return s
}

// messageNames are the members that hold a message inside an object given
// where a message was expected, most specific first.
var messageNames = []string{"message", "error_description", "detail", "description", "title", "text", "msg", "reason", "error"}

// explain finds the human-readable text in a message given as a string,
// an array (a list of messages, joined with "; ") or an object (its
// message member, else every string in it). Credential-like members are
// never read.
func explain(raw json.RawMessage, depth int) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || depth > maxExplainDepth {
		return ""
	}
	switch raw[0] {
	case '"':
		return jsonText(raw)
	case '[':
		var items []json.RawMessage
		if json.Unmarshal(raw, &items) != nil {
			return ""
		}
		parts := make([]string, 0, min(len(items), maxExplainParts))
		for _, item := range items {
			if s := explain(item, depth+1); s != "" {
				parts = append(parts, s)
				if len(parts) == maxExplainParts {
					break
				}
			}
		}
		return strings.Join(parts, "; ")
	case '{':
		f, ok := objectFields(raw)
		if !ok {
			return ""
		}
		for _, name := range messageNames {
			if s := explain(f[name], depth+1); s != "" {
				return s
			}
		}
		names := make([]string, 0, len(f))
		for name := range f {
			if !credentialName(name) {
				names = append(names, name)
			}
		}
		slices.Sort(names)
		parts := make([]string, 0, min(len(names), maxExplainParts))
		for _, name := range names {
			if s := explain(f[name], depth+1); s != "" {
				parts = append(parts, s)
				if len(parts) == maxExplainParts {
					break
				}
			}
		}
		return strings.Join(parts, "; ")
	}
	return ""
}

// credentialWords mark a JSON member name whose value may be a credential.
// Names are compared in lower case without '_', '-' and '.'.
var credentialWords = []string{"token", "password", "passwd", "secret", "credential", "authorization",
	"cookie", "apikey", "session", "verifier", "signature", "jwt"}

// credentialName reports whether a JSON member name looks like it holds a
// credential, such as access_token, refreshToken, saas_token or password.
func credentialName(name string) bool {
	norm := strings.Map(func(r rune) rune {
		switch r {
		case '_', '-', '.':
			return -1
		}
		return r
	}, strings.ToLower(name))
	for _, w := range credentialWords {
		if strings.Contains(norm, w) {
			return true
		}
	}
	return false
}

// pairName is the name of a name=value pair and its '=', as a
// form-encoded body or a query string writes it, or escaped: URL-encoded
// in a URL quoted in another URL's query
// (redirect_uri=https%3A%2F%2Fshop%2Fcb%3Faccess_token%3D...), again
// for each URL it is quoted in (%253D, up to three times), as JSON or
// JavaScript text writes it, or as HTML does. A JSON member quoted in
// text ("upstream answered {\"access_token\": \"...\"}", a page showing a
// token response) is such a pair too, its '=' written ": " or, in
// HTML, &quot;:&quot;.
var pairName = regexp.MustCompile(`([A-Za-z0-9_.\-]+)(` + pairSeps + `)`)

// pairSeps are the ways pairName's '=' is written.
const pairSeps = `=|%(?:25){0,3}3[Dd]|\\u003[Dd]|&#0*61;|&#[xX]0*3[Dd];|&equals;|"[ \t]*:[ \t]*"?|&quot;[ \t]*:[ \t]*&quot;`

// pairSep is an '=' at the start of a text.
var pairSep = regexp.MustCompile(`^(?:` + pairSeps + `)`)

// pairEnds are the bytes that end a pair's value.
const pairEnds = "&; \t\n\f\r\"'<>"

// maskCredentialPairs masks the value of every credential-like name=value
// pair in a text body: an error status may carry a form-encoded token
// response (access_token=...&token_type=bearer), and a proxy's page may
// quote a URL, as a JSON body may carry credential-like members. A value
// runs to the next separator, escaped as its '=' was. Only names are
// matched, never whole pairs: a pair whose value is a URL
// (next=https://shop/cb?access_token=...) must not hide the pairs in it.
// A name the request's secrets were masked in counts as credential-like:
// it may have been one (a password "session" in JSESSIONID), and judging
// the name as the server wrote it would make the mask depend on the
// secret's value.
func maskCredentialPairs(text string) string {
	if !strings.ContainsAny(text, "=%&:") && !strings.Contains(text, `\u003`) {
		return text
	}
	var out strings.Builder
	end := 0        // the end of the text copied or masked so far
	quoted := false // the last mask was written as a JSON string
	// mask masks the value at from, after an '=' written as sep, and
	// reports whether there was one to mask.
	mask := func(sep string, from int) bool {
		to := from + pairValueLen(text[from:], sep)
		if value := text[from:to]; value == "" || value == redacted {
			return false
		}
		out.WriteString(text[end:from])
		quoted = strings.HasPrefix(sep, `"`) && !strings.HasSuffix(sep[1:], `"`)
		if quoted {
			// An unquoted member value: the mask as a JSON string keeps
			// JSON valid, and reads as a masked string member does.
			out.WriteString(`"` + redacted + `"`)
		} else {
			out.WriteString(redacted)
		}
		end = to
		return true
	}
	for _, m := range pairName.FindAllStringSubmatchIndex(text, -1) {
		name, sep := text[m[2]:m[3]], text[m[4]:m[5]]
		if m[4] < end {
			continue // inside a value masked already
		}
		if m[0] < end {
			name = text[end:m[3]] // what shows of it after the mask
		}
		if !credentialName(name) && !strings.Contains(name, redacted) || !mask(sep, m[5]) {
			continue
		}
		// A masked value that an '=' follows ("token=!\":0") is in the
		// result the name of a pair, which masking again would mask. A
		// mask written as a JSON string brings its own closing quote, so
		// a ':' after it is such an '=' too ("token":5:6).
		for {
			rest, virtual := text[end:], 0
			if quoted {
				rest, virtual = `"`+rest, 1
			}
			sep := pairSep.FindString(rest)
			if sep == "" || !mask(sep, end+len(sep)-virtual) {
				break
			}
		}
	}
	if end == 0 {
		return text
	}
	out.WriteString(text[end:])
	return out.String()
}

// pairValueLen returns the length of the value at the start of s, whose
// '=' was written as sep: it ends at a separator, or at '&' escaped as the
// '=' was. A quoted JSON member's value is a JSON string, which ends only
// at its closing quote, and an unquoted one is masked only as a number or
// a literal: prose quotes names too (the "password": must not be empty),
// and an object or array holds members of its own. It reads no
// further than the value, so that masking a text with many pairs takes
// time in proportion to its length.
func pairValueLen(s, sep string) int {
	switch {
	case strings.HasPrefix(sep, `"`) && strings.HasSuffix(sep[1:], `"`):
		for i := 0; i < len(s); i++ {
			switch s[i] {
			case '\\':
				i++
			case '"':
				return i
			}
		}
		return len(s)
	case strings.HasPrefix(sep, `"`):
		for _, literal := range [...]string{"true", "false", "null"} {
			if strings.HasPrefix(s, literal) {
				return len(literal)
			}
		}
		n := 0
		for n < len(s) && (s[n] >= '0' && s[n] <= '9' || n > 0 && strings.IndexByte("+-.eE", s[n]) >= 0 || n == 0 && s[n] == '-') {
			n++
		}
		return n
	}
	end := ""
	switch lower := strings.ToLower(sep); {
	case strings.HasPrefix(lower, "%"): // %3d, %253d, ...
		end = strings.TrimSuffix(lower, "3d") + "26"
	case lower == `\u003d`:
		end = `\u0026`
	}
	ends := pairEnds
	if strings.HasPrefix(sep, "&quot;") {
		end, ends = "&quot;", `"<>`
	}
	for i := 0; i < len(s); i++ {
		if strings.IndexByte(ends, s[i]) >= 0 || end != "" && strings.HasPrefix(s[i:], end) {
			return i
		}
	}
	return len(s)
}

// maskedJSON re-encodes a JSON body compactly with the value of every
// credential-like member replaced by REDACTED, and reports whether it
// masked any. It reads token by token, so a body cut short or broken
// part-way keeps what came before the fault.
func maskedJSON(body []byte) (text string, masked bool) { return rewriteJSON(body, nil) }

// rewriteJSON is maskedJSON that also maps every other string, member
// names included, through f unless f is nil. Members keep their order,
// and each is written, even where two names read alike.
func rewriteJSON(body []byte, f func(string) string) (text string, masked bool) {
	type frame struct {
		object  bool
		wantKey bool // in an object, the next token is a member name
		n       int  // members or elements written
	}
	var (
		b      strings.Builder
		buf    bytes.Buffer
		stack  []frame
		maskIt bool // the next value belongs to a credential-like member
	)
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	writeString := func(s string) {
		buf.Reset()
		_ = enc.Encode(s)
		b.Write(bytes.TrimSuffix(buf.Bytes(), []byte("\n")))
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	for {
		tok, err := dec.Token()
		if err != nil {
			return b.String(), masked
		}
		if d, ok := tok.(json.Delim); ok && (d == '}' || d == ']') {
			b.WriteRune(rune(d))
			stack = stack[:len(stack)-1]
			if len(stack) > 0 {
				top := &stack[len(stack)-1]
				top.n++
				top.wantKey = top.object
			}
			continue
		}
		// The separator before this token.
		var top *frame
		if len(stack) > 0 {
			top = &stack[len(stack)-1]
			switch {
			case top.object && !top.wantKey:
				b.WriteByte(':')
			case top.n > 0:
				b.WriteByte(',')
			}
		}
		if top != nil && top.object && top.wantKey {
			name, _ := tok.(string)
			writeString(mapString(name, f))
			maskIt = credentialName(name)
			top.wantKey = false
			continue
		}
		if maskIt {
			maskIt, masked = false, true
			writeString(redacted)
			if _, ok := tok.(json.Delim); ok {
				// Skip the masked object or array whole.
				for depth := 1; depth > 0; {
					t, err := dec.Token()
					if err != nil {
						return b.String(), true
					}
					switch t {
					case json.Delim('{'), json.Delim('['):
						depth++
					case json.Delim('}'), json.Delim(']'):
						depth--
					}
				}
			}
			if top != nil {
				top.n++
				top.wantKey = top.object
			}
			continue
		}
		switch v := tok.(type) {
		case json.Delim:
			b.WriteRune(rune(v))
			stack = append(stack, frame{object: v == '{', wantKey: v == '{'})
			continue
		case string:
			writeString(mapString(v, f))
		case json.Number:
			if m := mapString(v.String(), f); m != v.String() {
				writeString(m) // masked, it is a number no more
			} else {
				b.WriteString(v.String())
			}
		case bool:
			b.WriteString(strconv.FormatBool(v))
		case nil:
			b.WriteString("null")
		}
		if top != nil {
			top.n++
			top.wantKey = top.object
		}
	}
}

// mapString returns f(s), or s when f is nil.
func mapString(s string, f func(string) string) string {
	if f == nil {
		return s
	}
	return f(s)
}

// snippet caps s at maxSnippet bytes, cut at the start of a rune.
func snippet(s string) string {
	if len(s) <= maxSnippet {
		return s
	}
	// Back up to the start of the rune the cap falls in: at most three
	// bytes in UTF-8. Text that is not UTF-8 is cut at that point anyway,
	// rather than losing the whole snippet to a run of stray bytes.
	cut := maxSnippet
	for i := 0; i < utf8.UTFMax-1 && !utf8.RuneStart(s[cut]); i++ {
		cut--
	}
	return s[:cut] + "…"
}
