package emporix

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"reflect"
	"sync"
)

// Secret is a password, token, code or client secret. It is an ordinary
// string to the SDK and on the wire, but it never prints: under every fmt
// verb (%v, %+v, %#v, %s, %q, %x, ...), in log/slog and in JSON it reads
// REDACTED when set and empty when not, wherever it sits (in a request, a
// [Token], a struct of yours, a map). Convert it to read the value:
// string(tok.AccessToken). A string constant assigns to it directly; a
// string variable needs Secret(v).
//
// One fmt path bypasses it: a verb that does not fit a pointer (%s, %q)
// applied to a pointer nested in a struct, slice or map makes fmt print
// "%!s(*T=&{...})" with every String and Format method switched off, so a
// Secret inside *T shows. Print such values with %v, %+v or %#v (a nested
// pointer then prints as its address), or pass the pointer itself.
type Secret string

// String returns REDACTED, or "" for the empty secret.
func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return redacted
}

// Format prints [Secret.String] under every verb; %#v quotes it.
func (s Secret) Format(f fmt.State, verb rune) {
	if verb == 'v' && f.Flag('#') || verb == 'q' {
		_, _ = fmt.Fprintf(f, "%q", s.String())
		return
	}
	_, _ = fmt.Fprint(f, s.String())
}

// LogValue masks the secret in log/slog output.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.String()) }

// MarshalJSON encodes the secret masked, so a logged or marshalled struct
// cannot leak it. The SDK sends the real value on the wire; to persist
// sessions, use [MarshalSessionState].
func (s Secret) MarshalJSON() ([]byte, error) { return json.Marshal(s.String()) }

var secretType = reflect.TypeFor[Secret]()

// holdsSecrets reports whether a value of type t can contain a Secret,
// cached per type.
func holdsSecrets(t reflect.Type) bool {
	if v, ok := holdsCache.Load(t); ok {
		return v.(bool)
	}
	v := typeHoldsSecrets(t, map[reflect.Type]bool{})
	holdsCache.Store(t, v)
	return v
}

var holdsCache sync.Map // reflect.Type → bool

func typeHoldsSecrets(t reflect.Type, seen map[reflect.Type]bool) bool {
	if t == secretType {
		return true
	}
	if seen[t] {
		return false
	}
	seen[t] = true
	switch t.Kind() {
	case reflect.Pointer, reflect.Slice, reflect.Array:
		return typeHoldsSecrets(t.Elem(), seen)
	case reflect.Map:
		return typeHoldsSecrets(t.Key(), seen) || typeHoldsSecrets(t.Elem(), seen)
	case reflect.Struct:
		for i := range t.NumField() {
			if f := t.Field(i); f.IsExported() && typeHoldsSecrets(f.Type, seen) {
				return true
			}
		}
	}
	return false
}

// collectSecrets calls add with every non-empty Secret reachable from v
// through exported fields, pointers, slices, arrays and maps.
func collectSecrets(v any, add func(string)) {
	rv := reflect.ValueOf(v)
	if !rv.IsValid() || !holdsSecrets(rv.Type()) {
		return
	}
	walkSecrets(rv, add)
}

func walkSecrets(v reflect.Value, add func(string)) {
	if !holdsSecrets(v.Type()) {
		return
	}
	if v.Type() == secretType {
		if s := v.String(); s != "" {
			add(s)
		}
		return
	}
	switch v.Kind() {
	case reflect.Pointer:
		if !v.IsNil() {
			walkSecrets(v.Elem(), add)
		}
	case reflect.Slice, reflect.Array:
		for i := range v.Len() {
			walkSecrets(v.Index(i), add)
		}
	case reflect.Map:
		for it := v.MapRange(); it.Next(); {
			walkSecrets(it.Key(), add)
			walkSecrets(it.Value(), add)
		}
	case reflect.Struct:
		t := v.Type()
		for i := range t.NumField() {
			if t.Field(i).IsExported() {
				walkSecrets(v.Field(i), add)
			}
		}
	}
}

// wireJSON encodes v for the wire: like json.Marshal, but with every
// Secret's real value. Types that hold no Secret are encoded as they are;
// those that do are copied into method-less twins whose Secret fields are
// strings, so the encoding is field for field what the declared json tags
// say.
func wireJSON(v any) ([]byte, error) {
	rv := reflect.ValueOf(v)
	if !rv.IsValid() || !holdsSecrets(rv.Type()) {
		return json.Marshal(v)
	}
	return json.Marshal(revealed(rv).Interface())
}

// revealed returns v with every Secret replaced by its string, in values of
// wireType(v.Type()).
func revealed(v reflect.Value) reflect.Value {
	t := v.Type()
	if !holdsSecrets(t) {
		return v
	}
	wt := wireType(t)
	if t == secretType {
		return reflect.ValueOf(v.String())
	}
	out := reflect.New(wt).Elem()
	switch v.Kind() {
	case reflect.Pointer:
		if !v.IsNil() {
			p := reflect.New(wt.Elem())
			p.Elem().Set(revealed(v.Elem()))
			out.Set(p)
		}
	case reflect.Slice:
		if !v.IsNil() {
			out.Set(reflect.MakeSlice(wt, v.Len(), v.Len()))
			for i := range v.Len() {
				out.Index(i).Set(revealed(v.Index(i)))
			}
		}
	case reflect.Array:
		for i := range v.Len() {
			out.Index(i).Set(revealed(v.Index(i)))
		}
	case reflect.Map:
		if !v.IsNil() {
			out.Set(reflect.MakeMapWithSize(wt, v.Len()))
			for it := v.MapRange(); it.Next(); {
				out.SetMapIndex(revealed(it.Key()), revealed(it.Value()))
			}
		}
	case reflect.Struct:
		j := 0
		for i := range t.NumField() {
			if !t.Field(i).IsExported() {
				continue
			}
			out.Field(j).Set(revealed(v.Field(i)))
			j++
		}
	}
	return out
}

var wireCache sync.Map // reflect.Type → reflect.Type

// wireType is the twin of t that encodes Secrets as plain strings: Secret
// becomes string, and structs that hold secrets become unnamed structs
// with the same exported fields and tags (unexported fields, which JSON
// skips, are dropped).
func wireType(t reflect.Type) reflect.Type {
	if !holdsSecrets(t) {
		return t
	}
	if w, ok := wireCache.Load(t); ok {
		return w.(reflect.Type)
	}
	var w reflect.Type
	switch t.Kind() {
	case reflect.String: // Secret
		w = reflect.TypeFor[string]()
	case reflect.Pointer:
		w = reflect.PointerTo(wireType(t.Elem()))
	case reflect.Slice:
		w = reflect.SliceOf(wireType(t.Elem()))
	case reflect.Array:
		w = reflect.ArrayOf(t.Len(), wireType(t.Elem()))
	case reflect.Map:
		w = reflect.MapOf(wireType(t.Key()), wireType(t.Elem()))
	case reflect.Struct:
		var fields []reflect.StructField
		for i := range t.NumField() {
			f := t.Field(i)
			if !f.IsExported() {
				continue
			}
			fields = append(fields, reflect.StructField{Name: f.Name, Type: wireType(f.Type), Tag: f.Tag, Anonymous: f.Anonymous})
		}
		w = reflect.StructOf(fields)
	}
	wireCache.Store(t, w)
	return w
}
