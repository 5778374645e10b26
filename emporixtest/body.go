package emporixtest

import (
	"bytes"
	"encoding/json"
	"mime"
	"net/http"
	"sort"
	"strconv"
)

// ftype is the JSON type of a request body field.
type ftype int

const (
	tString ftype = iota
	tBool
	tInt
	tObject  // an object; its own fields are checked when sub is set
	tStrings // an array of strings
)

type field struct {
	t   ftype
	sub schema
}

// schema lists the fields a request body may carry. Fields outside it are
// rejected: the fake is stricter than JSON Schema's default, so a client
// inventing fields notices.
type schema map[string]field

var (
	metadataSchema      = schema{"mixins": {t: tObject}, "version": {t: tInt}}
	basicMetadataSchema = schema{"mixins": {t: tObject}}

	// profileSchema is CustomerCommonDto plus contactEmail
	// (CustomerUpdateDto, CustomerPatchDto).
	profileSchema = schema{
		"title": {}, "firstName": {}, "middleName": {}, "lastName": {}, "contactPhone": {},
		"company": {}, "preferredLanguage": {}, "preferredCurrency": {}, "preferredSite": {},
		"contactEmail": {},
		"b2b":          {t: tObject, sub: schema{"companyRegistrationId": {}}},
		"metadata":     {t: tObject, sub: metadataSchema},
		"mixins":       {t: tObject},
	}

	// addressStrings are the string fields of AddressCreateDto.
	addressStrings = []string{
		"contactName", "companyName", "street", "streetNumber", "streetAppendix",
		"extraLine1", "extraLine2", "extraLine3", "extraLine4", "zipCode", "city",
		"country", "state", "contactPhone",
	}
	addressCreateSchema = addressSchema(schema{"metadata": {t: tObject, sub: basicMetadataSchema}})
	addressUpdateSchema = addressSchema(schema{"metadata": {t: tObject, sub: metadataSchema}, "isDefault": {t: tBool}})
	// signupAddressSchema is the Address schema of CustomerSignup.
	signupAddressSchema = addressSchema(schema{"metadata": {t: tObject, sub: metadataSchema}, "isDefault": {t: tBool}, "id": {}})
)

func addressSchema(extra schema) schema {
	s := schema{"tags": {t: tStrings}, "mixins": {t: tObject}}
	for _, name := range addressStrings {
		s[name] = field{}
	}
	for k, v := range extra {
		s[k] = v
	}
	return s
}

// with returns a copy of s with more fields.
func (s schema) with(extra schema) schema {
	out := schema{}
	for k, v := range s {
		out[k] = v
	}
	for k, v := range extra {
		out[k] = v
	}
	return out
}

// check validates obj against s; null values pass (their meaning is up to
// the operation).
func (s schema) check(obj map[string]any, prefix string) []errorDetail {
	var out []errorDetail
	keys := make([]string, 0, len(obj))
	for k := range obj {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		name := prefix + k
		f, ok := s[k]
		if !ok {
			out = append(out, errorDetail{Field: name, Type: "unknown_field", Message: "Unrecognized field " + name + "."})
			continue
		}
		v := obj[k]
		if v == nil {
			continue
		}
		if !f.t.accepts(v) {
			out = append(out, errorDetail{Field: name, Type: "invalid_type", Message: name + " must be " + f.t.String() + "."})
			continue
		}
		if f.t == tObject && f.sub != nil {
			out = append(out, f.sub.check(v.(map[string]any), name+".")...)
		}
	}
	return out
}

func (t ftype) accepts(v any) bool {
	switch t {
	case tString:
		_, ok := v.(string)
		return ok
	case tBool:
		_, ok := v.(bool)
		return ok
	case tInt:
		n, ok := v.(json.Number)
		if !ok {
			return false
		}
		_, err := n.Int64()
		return err == nil
	case tObject:
		_, ok := v.(map[string]any)
		return ok
	case tStrings:
		arr, ok := v.([]any)
		if !ok {
			return false
		}
		for _, e := range arr {
			if _, ok := e.(string); !ok {
				return false
			}
		}
		return true
	}
	return false
}

// String describes the type for error messages.
func (t ftype) String() string {
	return [...]string{"a string", "a boolean", "an integer", "an object", "an array of strings"}[t]
}

// decodeObject parses a JSON object body; an empty body is an empty
// object. Numbers stay json.Number.
func decodeObject(body []byte) (map[string]any, *reply) {
	if len(bytes.TrimSpace(body)) == 0 {
		return map[string]any{}, nil
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil || dec.More() {
		rep := badRequest("Malformed JSON request body.")
		return nil, &rep
	}
	obj, ok := v.(map[string]any)
	if !ok {
		rep := badRequest("The request body must be a JSON object.")
		return nil, &rep
	}
	return obj, nil
}

// jsonBody checks the Content-Type against the accepted media types and
// decodes and checks the body. It returns the media type used.
func jsonBody(c *call, s schema, required bool, mediaTypes ...string) (map[string]any, string, *reply) {
	if len(mediaTypes) == 0 {
		mediaTypes = []string{"application/json"}
	}
	if len(bytes.TrimSpace(c.body)) == 0 {
		if required {
			rep := badRequest("Required request body is missing.")
			return nil, "", &rep
		}
		return map[string]any{}, mediaTypes[0], nil
	}
	mt, _, err := mime.ParseMediaType(c.req.Header.Get("Content-Type"))
	ok := false
	for _, want := range mediaTypes {
		ok = ok || (err == nil && mt == want)
	}
	if !ok {
		rep := errReply(http.StatusUnsupportedMediaType, "unsupported_media_type",
			"Content-Type '"+c.req.Header.Get("Content-Type")+"' is not supported.")
		return nil, "", &rep
	}
	obj, rep := decodeObject(c.body)
	if rep != nil {
		return nil, "", rep
	}
	if details := s.check(obj, ""); len(details) > 0 {
		rep := validationFailed(details)
		return nil, "", &rep
	}
	return obj, mt, nil
}

// str returns a string field ("" when absent or null).
func str(obj map[string]any, name string) string {
	v, _ := obj[name].(string)
	return v
}

// has reports whether a field is present and not null.
func has(obj map[string]any, name string) bool { return obj[name] != nil }

// strings returns a string array field.
func stringList(obj map[string]any, name string) []string {
	arr, _ := obj[name].([]any)
	out := make([]string, 0, len(arr))
	for _, e := range arr {
		out = append(out, e.(string))
	}
	return out
}

// object returns an object field, or nil.
func object(obj map[string]any, name string) map[string]any {
	m, _ := obj[name].(map[string]any)
	return m
}

// requireStrings reports the required string fields that are missing or
// empty, and those shorter than their minimum length.
func requireStrings(obj map[string]any, prefix string, minLen map[string]int, names ...string) []errorDetail {
	var out []errorDetail
	for _, n := range names {
		v := str(obj, n)
		switch {
		case v == "":
			out = append(out, missing(prefix+n))
		case len(v) < minLen[n]:
			out = append(out, invalidValue(prefix+n, prefix+n+" must be at least "+strconv.Itoa(minLen[n])+" characters long."))
		}
	}
	return out
}
