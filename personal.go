package emporix

import (
	"encoding/json"
	"reflect"
	"regexp"
	"strings"
)

// The service echoes personal data in its messages ("Duplicate account
// 'jane@example.com' for tenant 'mytenant'."), and applications log error
// texts. The SDK masks e-mail addresses in every text it shows: error
// messages, field errors, kept bodies and its own log records. Where the
// server's own words are needed, APIError.ServerMessage keeps them.

// emailPattern matches an e-mail address as it appears in running text:
// the local part of RFC 5322's dot-atom characters, a domain of at least
// two labels.
var emailPattern = regexp.MustCompile(`[A-Za-z0-9.!#$%&'*+/=?^_{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+`)

// maskPersonal masks the e-mail addresses in s: "jane@example.com" becomes
// "j***@example.com", which still tells a support engineer which domain
// and roughly which account without naming the person.
func maskPersonal(s string) string {
	if strings.IndexByte(s, '@') < 0 {
		return s
	}
	return emailPattern.ReplaceAllStringFunc(s, maskEmail)
}

// maskEmail masks one address, keeping the first character of the local
// part (after any quote the surrounding text put there) and the domain.
func maskEmail(addr string) string {
	at := strings.LastIndexByte(addr, '@')
	local, domain := addr[:at], addr[at:]
	keep := 0
	for keep < len(local) && strings.IndexByte(`'"`, local[keep]) >= 0 {
		keep++
	}
	if keep < len(local) {
		keep++
	}
	return local[:keep] + "***" + domain
}

// Other personal data (names, phone numbers, street addresses) has no
// pattern, but the SDK knows what the request carried: fields tagged
// `emporix:"personal"`. Where the service's answer echoes one of those
// values, it is masked as "***" in the texts the error shows.

// minPersonalValue is the shortest value masked: shorter ones ("1" as a
// street number) would mask unrelated text.
const minPersonalValue = 3

// personalValues returns the values of req's fields tagged
// `emporix:"personal"` (strings and *strings), in nested request structs
// too. It runs only when an error is built.
func personalValues(req any) []string {
	if req == nil {
		return nil
	}
	var out []string
	var walk func(v reflect.Value, depth int)
	walk = func(v reflect.Value, depth int) {
		for v.Kind() == reflect.Pointer {
			if v.IsNil() {
				return
			}
			v = v.Elem()
		}
		if v.Kind() != reflect.Struct || depth > 4 {
			return
		}
		t := v.Type()
		for i := 0; i < t.NumField(); i++ {
			f, fv := t.Field(i), v.Field(i)
			if !f.IsExported() {
				continue
			}
			if f.Tag.Get("emporix") == "personal" {
				for fv.Kind() == reflect.Pointer && !fv.IsNil() {
					fv = fv.Elem()
				}
				if fv.Kind() == reflect.String && len(strings.TrimSpace(fv.String())) >= minPersonalValue {
					out = append(out, fv.String())
				}
				continue
			}
			walk(fv, depth+1)
		}
	}
	walk(reflect.ValueOf(req), 0)
	return out
}

// maskValues replaces the values in text, as they are and JSON-escaped,
// with "***"; e-mail addresses keep the form maskEmail gives them.
func maskValues(text string, values []string) string {
	for _, v := range values {
		mask := "***"
		if emailPattern.MatchString(v) {
			mask = maskPersonal(v)
		}
		text = strings.ReplaceAll(text, v, mask)
		if b, err := json.Marshal(v); err == nil {
			if esc := string(b[1 : len(b)-1]); esc != v {
				text = strings.ReplaceAll(text, esc, mask)
			}
		}
	}
	return text
}

// maskValues masks values in every text the error shows; ServerMessage
// keeps the server's words. Body is masked by fill, before its cut.
func (e *APIError) maskValues(values []string) {
	if len(values) == 0 {
		return
	}
	for _, s := range e.texts() {
		*s = maskValues(*s, values)
	}
	// A value a server escaped ("M\u00fcller", from an encoder that
	// escapes what is not ASCII) is masked in the decoded strings.
	mask := func(s string) string { return maskValues(s, values) }
	for i, d := range e.Details {
		e.Details[i] = maskJSON(d, mask, mask)
	}
	for i := range e.Fields {
		f := &e.Fields[i]
		for _, s := range f.texts() {
			*s = maskValues(*s, values)
		}
	}
}
