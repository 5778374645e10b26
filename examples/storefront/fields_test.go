package main

import (
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/emporix-go/emporix"
	"github.com/emporix-go/emporix/emporixtest"
)

// Creating an address with Country "Germany" answered only "400
// validation_failure: The request is not valid."; the storefront now
// answers what is wrong with which field, whether the SDK refused the
// input or the service did.
func TestAddressErrorsComePerField(t *testing.T) {
	f := newFixture(t)
	s := f.newShopper(t)
	if _, err := s.signupAndLogin("jane@example.com", "password123"); err != nil {
		t.Fatal(err)
	}
	var got errorBody
	bad := emporix.AddressCreate{ContactName: "Jane Doe", Country: "Germany"}
	if err := s.call("POST", "/addresses", bad, http.StatusBadRequest, &got); err != nil {
		t.Fatal(err)
	}
	want := []emporix.FieldError{{Field: "country", Type: "invalid_input", Message: "must be a two-letter country code"}}
	if !reflect.DeepEqual(got.Fields, want) {
		t.Errorf("refused before sending: fields %+v, want %+v", got.Fields, want)
	}

	f.fake.InjectFault("POST-customer-add-address", emporixtest.Fault{Status: 400, Body: `{"status":400,
		"type":"validation_failure","message":"The request is not valid for jane@example.com.","details":[
		{"field":"zipCode","type":"invalid_value","message":"zipCode is not a postal code of DE."}]}`})
	got = errorBody{}
	addr := emporix.AddressCreate{ContactName: "Jane Doe", Country: "DE", ZipCode: "1"}
	if err := s.call("POST", "/addresses", addr, http.StatusBadRequest, &got); err != nil {
		t.Fatal(err)
	}
	want = []emporix.FieldError{{Field: "zipCode", Type: "invalid_value", Message: "zipCode is not a postal code of DE."}}
	if !reflect.DeepEqual(got.Fields, want) {
		t.Errorf("refused by the service: fields %+v, want %+v", got.Fields, want)
	}
	if strings.Contains(got.Error, "jane@example.com") || !strings.Contains(got.Error, "j***@example.com") {
		t.Errorf("the message does not mask the e-mail address: %q", got.Error)
	}
}
