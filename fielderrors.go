package emporix

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// FieldError is one field-level problem with a request: an entry of the
// service's ErrorMessage details ({field, type, message, moreInfo} in the
// spec's errorDetail schema), or the field the SDK refused before sending.
type FieldError struct {
	// Field is the request element at fault, by its JSON name as the
	// service gives it, such as "country" or "customerAddress.country";
	// empty when the problem is not field-specific.
	Field string `json:"field,omitempty"`
	// Type classifies the problem, such as "missing_value" or
	// "invalid_value" (the spec's errorDetail type); "invalid_input" for a
	// field the SDK refused before sending.
	Type string `json:"type,omitempty"`
	// Message says what is wrong, e-mail addresses masked.
	Message string `json:"message,omitempty"`
	// MoreInfo links to more information, if the service gave one.
	MoreInfo string `json:"moreInfo,omitempty"`
}

// FieldErrors returns the field-level problems err reports, for a handler
// to show next to its form fields: the service's details of an *APIError
// (typically a 400 validation_failure), or the one field of a
// *ValidationError the SDK refused before sending. It returns nil for any
// other error, and for an APIError without details.
//
//	for _, fe := range emporix.FieldErrors(err) {
//		form.SetError(fe.Field, fe.Message)
//	}
func FieldErrors(err error) []FieldError {
	var apiErr *APIError
	if errors.As(err, &apiErr) {
		return apiErr.Fields
	}
	var ve *ValidationError
	if errors.As(err, &ve) {
		field := ve.JSONField
		if field == "" {
			field = ve.Field
		}
		return []FieldError{{Field: field, Type: "invalid_input", Message: ve.Reason}}
	}
	return nil
}

// fieldErrorsOf decodes ErrorMessage details: objects as the spec gives
// them, and the plain strings some tenants send, as a message without a
// field. Entries of any other shape are left to Details.
func fieldErrorsOf(details []json.RawMessage) []FieldError {
	var out []FieldError
	for _, d := range details {
		if f, ok := objectFields(d); ok {
			fe := FieldError{Field: f.text("field"), Type: f.text("type"), Message: f.text("message"), MoreInfo: f.text("moreinfo")}
			if fe != (FieldError{}) {
				out = append(out, fe)
			}
			continue
		}
		if s := jsonText(d); s != "" {
			out = append(out, FieldError{Message: s})
		}
	}
	return out
}

// Format prints the error's text under every verb, so that no verb dumps
// ServerMessage; %#v prints the fields through GoString.
func (e *APIError) Format(f fmt.State, verb rune) {
	if verb == 'v' && f.Flag('#') {
		_, _ = io.WriteString(f, e.GoString())
		return
	}
	fmt.Fprintf(f, fmt.FormatString(f, verb), e.Error())
}

// GoString prints the error's fields for %#v, except ServerMessage, which
// may hold personal data: %#v is how a debugging session or a careless log
// line dumps an error.
func (e *APIError) GoString() string {
	if e == nil {
		return "(*emporix.APIError)(nil)"
	}
	c := *e // a value: its method set has no GoString, so no recursion
	if c.ServerMessage != "" {
		c.ServerMessage = "(not printed: it may hold personal data)"
	}
	return "&" + fmt.Sprintf("%#v", c)
}
