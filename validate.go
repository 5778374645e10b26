package emporix

import (
	"reflect"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"
)

// isLetters reports whether s is exactly n ASCII letters.
func isLetters(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i] | 0x20; c < 'a' || c > 'z' {
			return false
		}
	}
	return true
}

// blank reports whether s is empty or only white space.
func blank(s string) bool { return strings.TrimSpace(s) == "" }

// requireEmail refuses an empty e-mail address.
func requireEmail(field, email string) error {
	if blank(email) {
		return invalid(field, "must not be empty")
	}
	return nil
}

// requireValue refuses an empty string or Secret.
func requireValue[S ~string](field string, value S) error {
	if value == "" {
		return invalid(field, "must not be empty")
	}
	return nil
}

// requirePathParam refuses an empty path parameter and the dot segments "."
// and "..": url.PathEscape leaves dots as they are, and a proxy or server
// that resolves dot segments would turn DELETE .../me/addresses/.. into
// DELETE .../me.
func requirePathParam(field, value string) error {
	if err := requireValue(field, value); err != nil {
		return err
	}
	if value == "." || value == ".." {
		return invalid(field, "must not be a dot segment")
	}
	return nil
}

// Request types declare their field rules in `validate` tags, and every
// operation checks its request with checkFields before anything is sent, so
// a rule is written once, next to the field, and enforced the same way
// everywhere. The rules are the spec's request constraints (required,
// minLength, maxLength) plus the few rules the service enforces that the
// spec leaves out, each commented where it is declared. Rules that only the
// service can check are listed, with the reason, in validation_spec_test.go
// (serverOnly), which also proves that every constraint of the spec's
// request schemas is one or the other.
//
//	required    a string must not be blank; a pointer must not be nil (a
//	            *string, when set, must not be blank either)
//	notblank    a *string, when set, must not be blank (update requests:
//	            nil leaves the field as it is)
//	min=N       a string, when given, has at least N characters
//	country     a string, when given, is two ASCII letters (ISO 3166-1
//	            alpha-2; the spec's minLength/maxLength 2)
//	currency    a string, when given, is three ASCII letters (ISO 4217;
//	            the spec's minLength/maxLength 3)
//
// A string is given when not empty; a *string when not nil, so that
// setting a field to "" in an update is checked too.
//
// A nested request struct (a pointer to one) is checked when set.

// fieldRule is one field's compiled `validate` tag.
type fieldRule struct {
	index    int
	name     string
	jsonName string // the field's JSON name, "" when it has none
	required bool
	notBlank bool
	min      int
	letters  int    // country 2, currency 3: exactly this many ASCII letters
	lettersR string // the reason when letters fails
	nested   bool   // a pointer to a struct with rules of its own
}

var fieldRules sync.Map // reflect.Type (a struct) → []fieldRule

// rulesOf compiles the `validate` tags of struct type t once.
func rulesOf(t reflect.Type) []fieldRule {
	if r, ok := fieldRules.Load(t); ok {
		return r.([]fieldRule)
	}
	var rules []fieldRule
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		r := fieldRule{index: i, name: f.Name}
		if tag, _, _ := strings.Cut(f.Tag.Get("json"), ","); tag != "-" {
			r.jsonName = tag
		}
		for _, rule := range strings.Split(f.Tag.Get("validate"), ",") {
			switch {
			case rule == "":
			case rule == "required":
				r.required = true
			case rule == "notblank":
				r.notBlank = true
			case rule == "country":
				r.letters, r.lettersR = 2, "must be a two-letter country code"
			case rule == "currency":
				r.letters, r.lettersR = 3, "must be a three-letter ISO 4217 code"
			case strings.HasPrefix(rule, "min="):
				n, err := strconv.Atoi(rule[len("min="):])
				if err != nil {
					panic("emporix: bad validate tag on " + t.Name() + "." + f.Name)
				}
				r.min = n
			default:
				panic("emporix: unknown validate rule " + strconv.Quote(rule) + " on " + t.Name() + "." + f.Name)
			}
		}
		if f.Type.Kind() == reflect.Pointer && f.Type.Elem().Kind() == reflect.Struct {
			r.nested = len(rulesOf(f.Type.Elem())) > 0
		}
		if r.required || r.notBlank || r.min > 0 || r.letters > 0 || r.nested {
			rules = append(rules, r)
		}
	}
	got, _ := fieldRules.LoadOrStore(t, rules)
	return got.([]fieldRule)
}

// checkFields checks req, a pointer to a request struct, against its
// `validate` tags and returns the first violation as a *ValidationError
// (matching ErrInvalidInput) naming the field by its Go path under name,
// such as "SignupRequest.CustomerAddress.ContactName". A nil req is
// refused. The reasons never quote the value.
func checkFields(name string, req any) error {
	v := reflect.ValueOf(req)
	if v.Kind() != reflect.Pointer || v.IsNil() {
		return invalid(name, "is required")
	}
	return checkStruct(name, "", v.Elem())
}

// checkStruct checks v, whose Go path is name and JSON path jsonPath: ""
// for the request itself, and below a field without a JSON name.
func checkStruct(name, jsonPath string, v reflect.Value) error {
	for _, r := range rulesOf(v.Type()) {
		f := v.Field(r.index)
		at := fieldAt{goPath: name + "." + r.name}
		switch {
		case r.jsonName == "":
		case jsonPath != "":
			at.json = jsonPath + "." + r.jsonName
		case !strings.Contains(name, "."): // a field of the request itself
			at.json = r.jsonName
		}
		switch f.Kind() {
		case reflect.Pointer:
			if f.IsNil() {
				if r.required {
					return at.invalid("is required")
				}
				continue
			}
			if r.nested {
				if err := checkStruct(at.goPath, at.json, f.Elem()); err != nil {
					return err
				}
				continue
			}
			if f.Elem().Kind() == reflect.String {
				if err := checkString(at, f.Elem().String(), r, true); err != nil {
					return err
				}
			}
		case reflect.String:
			if err := checkString(at, f.String(), r, false); err != nil {
				return err
			}
		}
	}
	return nil
}

// fieldAt names a field by its Go path and, for a body field, its JSON path.
type fieldAt struct{ goPath, json string }

func (f fieldAt) invalid(reason string) error {
	return &ValidationError{Field: f.goPath, JSONField: f.json, Reason: reason}
}

// checkString applies r to s; set tells a *string that is not nil. An empty
// string field means "not given"; a *string set to "" is a value, so the
// length rules apply to it.
func checkString(at fieldAt, s string, r fieldRule, set bool) error {
	if blank(s) && (r.required || (set && r.notBlank)) {
		return at.invalid("must not be empty")
	}
	if s == "" && !set {
		return nil
	}
	if r.min > 0 && utf8.RuneCountInString(s) < r.min {
		return at.invalid("must be at least " + strconv.Itoa(r.min) + " characters long")
	}
	if r.letters > 0 && !isLetters(s, r.letters) {
		return at.invalid(r.lettersR)
	}
	return nil
}
