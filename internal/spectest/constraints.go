package spectest

import (
	"fmt"
	"slices"
	"sort"

	"github.com/getkin/kin-openapi/openapi3"
)

// Constraint is one rule a request must meet to be valid per the spec: a
// required field or parameter, a length bound, a pattern or an enum.
// Types are left out: the SDK's Go types fix them.
type Constraint struct {
	Op   string // operation ID
	In   string // "body", "path", "query" or "header"
	Path string // the body's JSON path ("customerAddress.country") or the parameter name
	Kind string // "required", "minLength", "maxLength", "pattern" or "enum"
	// Value is the bound (an int), the pattern (a string) or the enum
	// values ([]any); nil for "required".
	Value any
}

func (c Constraint) String() string {
	if c.Value == nil {
		return fmt.Sprintf("%s %s %s: %s", c.Op, c.In, c.Path, c.Kind)
	}
	return fmt.Sprintf("%s %s %s: %s %v", c.Op, c.In, c.Path, c.Kind, c.Value)
}

// RequestConstraints lists the constraints the operation's parameters and
// request body declare, in a stable order. The body is the application/json
// one (else the first declared), with allOf parts merged; nested objects and
// array items are walked, their paths joined with "." and "[]".
func (o *Operation) RequestConstraints() []Constraint {
	var out []Constraint
	seen := map[string]bool{}
	params := append(append(openapi3.Parameters{}, o.pathItem.Parameters...), o.op.Parameters...)
	for _, ref := range params {
		p := ref.Value
		if p == nil || p.In == openapi3.ParameterInHeader {
			continue // headers carry tokens and session IDs the SDK sets itself
		}
		key := p.In + " " + p.Name
		if seen[key] {
			continue // declared twice (the spec repeats tenant on some paths)
		}
		seen[key] = true
		if p.Required {
			out = append(out, Constraint{Op: o.ID, In: p.In, Path: p.Name, Kind: "required"})
		}
		if p.Schema != nil && p.Schema.Value != nil {
			out = append(out, schemaBounds(o.ID, p.In, p.Name, p.Schema.Value)...)
		}
	}
	if o.op.RequestBody != nil && o.op.RequestBody.Value != nil {
		content := o.op.RequestBody.Value.Content
		mt := content.Get("application/json")
		if mt == nil {
			keys := make([]string, 0, len(content))
			for k := range content {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			if len(keys) > 0 {
				mt = content[keys[0]]
			}
		}
		if mt != nil && mt.Schema != nil {
			out = append(out, bodyConstraints(o.ID, "", mt.Schema.Value, 0)...)
		}
	}
	return out
}

func schemaBounds(op, in, path string, s *openapi3.Schema) []Constraint {
	var out []Constraint
	if s.MinLength > 0 {
		out = append(out, Constraint{Op: op, In: in, Path: path, Kind: "minLength", Value: int(s.MinLength)})
	}
	if s.MaxLength != nil {
		out = append(out, Constraint{Op: op, In: in, Path: path, Kind: "maxLength", Value: int(*s.MaxLength)})
	}
	if s.Pattern != "" {
		out = append(out, Constraint{Op: op, In: in, Path: path, Kind: "pattern", Value: s.Pattern})
	}
	if len(s.Enum) > 0 {
		out = append(out, Constraint{Op: op, In: in, Path: path, Kind: "enum", Value: s.Enum})
	}
	return out
}

// merged returns s's properties and required names with its allOf parts
// folded in.
func merged(s *openapi3.Schema) (openapi3.Schemas, []string) {
	props := openapi3.Schemas{}
	var required []string
	for _, part := range s.AllOf {
		if part.Value == nil {
			continue
		}
		p, r := merged(part.Value)
		for k, v := range p {
			props[k] = v
		}
		required = append(required, r...)
	}
	for k, v := range s.Properties {
		props[k] = v
	}
	return props, append(required, s.Required...)
}

func bodyConstraints(op, prefix string, s *openapi3.Schema, depth int) []Constraint {
	if s == nil || depth > 8 {
		return nil
	}
	join := func(name string) string {
		if prefix == "" {
			return name
		}
		return prefix + "." + name
	}
	var out []Constraint
	props, required := merged(s)
	slices.Sort(required)
	for _, name := range slices.Compact(required) {
		out = append(out, Constraint{Op: op, In: "body", Path: join(name), Kind: "required"})
	}
	names := make([]string, 0, len(props))
	for k := range props {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, name := range names {
		p := props[name].Value
		if p == nil {
			continue
		}
		out = append(out, schemaBounds(op, "body", join(name), p)...)
		if p.Items != nil && p.Items.Value != nil {
			out = append(out, schemaBounds(op, "body", join(name)+"[]", p.Items.Value)...)
			out = append(out, bodyConstraints(op, join(name)+"[]", p.Items.Value, depth+1)...)
		}
		out = append(out, bodyConstraints(op, join(name), p, depth+1)...)
	}
	return out
}
