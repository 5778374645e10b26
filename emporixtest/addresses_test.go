package emporixtest_test

import (
	"encoding/json"
	"net/url"
	"regexp"
	"testing"
)

func TestAddresses(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	_, tok, number := f.customer("addr@example.com")
	cust := s(tok["access_token"])
	base := f.path("/me/addresses")

	r := f.do(req{method: "GET", path: base, bearer: cust})
	wantStatus(t, r, 200)
	if string(r.body) != "[]" {
		t.Errorf("empty list %s", r.body)
	}

	r = f.do(req{method: "POST", path: base, bearer: cust, body: map[string]any{
		"contactName": "John Doe", "street": "Main", "country": "DE", "tags": []string{"BILLING", "BILLING"},
		"mixins": map[string]any{"x": 1},
	}})
	wantStatus(t, r, 201)
	id1 := s(r.json(t)["id"])
	if !regexp.MustCompile(`^[0-9a-f]{10}$`).MatchString(id1) {
		t.Errorf("address id %q", id1)
	}
	r = f.do(req{method: "POST", path: base, bearer: cust, body: map[string]any{"contactName": "Jane", "city": "Berlin"}})
	wantStatus(t, r, 201)
	id2 := s(r.json(t)["id"])

	get := func(id string) map[string]any {
		r := f.do(req{method: "GET", path: base + "/" + id, bearer: cust})
		wantStatus(t, r, 200)
		return r.json(t)
	}
	a1 := get(id1)
	if a1["id"] != id1 || a1["isDefault"] != true || s(a1["tags"]) != `["BILLING"]` || a1["country"] != "DE" ||
		s(a1["metadata"]) != `{"mixins":{},"version":1}` || s(a1["mixins"]) != `{"x":1}` {
		t.Errorf("first address %v", a1)
	}
	if a2 := get(id2); a2["isDefault"] != false || s(a2["tags"]) != "[]" {
		t.Errorf("second address %v", a2)
	}
	r = f.do(req{method: "GET", path: base, bearer: cust})
	wantStatus(t, r, 200)
	var list []map[string]any
	if err := json.Unmarshal(r.body, &list); err != nil || len(list) != 2 || list[0]["id"] != id1 || list[1]["id"] != id2 {
		t.Errorf("list %s (%v)", r.body, err)
	}

	// Update: fields, default, version.
	r = f.do(req{method: "PATCH", path: base + "/" + id2, bearer: cust, body: map[string]any{
		"city": "Hamburg", "isDefault": true, "tags": []string{"SHIPPING"}, "metadata": map[string]any{"version": 1}, "street": nil,
	}})
	wantNoContent(t, r, 200)
	a2 := get(id2)
	if a2["city"] != "Hamburg" || a2["isDefault"] != true || s(a2["tags"]) != `["SHIPPING"]` || a2["contactName"] != "Jane" ||
		n(t, a2["metadata"].(map[string]any)["version"]) != 2 {
		t.Errorf("updated address %v", a2)
	}
	if get(id1)["isDefault"] != false {
		t.Error("only one address may be the default")
	}
	r = f.do(req{method: "PATCH", path: base + "/" + id2, bearer: cust, body: map[string]any{"city": "Bonn", "metadata": map[string]any{"version": 1}}})
	wantError(t, r, 409, "conflict_resource", "")
	f.wantRejected(req{method: "PATCH", path: base + "/" + id2, bearer: cust}, map[string]any{
		"unknown":     map[string]any{"nickname": "x"},
		"country":     map[string]any{"country": "DEU"},
		"empty name":  map[string]any{"contactName": ""},
		"tags type":   map[string]any{"tags": "BILLING"},
		"isDefault":   map[string]any{"isDefault": "yes"},
		"bad version": map[string]any{"metadata": map[string]any{"version": 1.5}},
	})
	wantStatus(t, f.do(req{method: "PATCH", path: base + "/" + id2, bearer: cust, body: map[string]any{}, contentType: "application/merge-patch+json"}), 415)

	// Tags.
	tags := func(method, id, list string) resp {
		var q url.Values
		if list != "" {
			q = url.Values{"tags": {list}}
		}
		return f.do(req{method: method, path: base + "/" + id + "/tags", bearer: cust, query: q})
	}
	r = tags("POST", id2, "BILLING,SHIPPING,HOME")
	wantNoContent(t, r, 204)
	if got := s(get(id2)["tags"]); got != `["SHIPPING","BILLING","HOME"]` {
		t.Errorf("tags after add %s", got)
	}
	wantStatus(t, tags("DELETE", id2, "SHIPPING,NOPE"), 204)
	if got := s(get(id2)["tags"]); got != `["BILLING","HOME"]` {
		t.Errorf("tags after remove %s", got)
	}
	wantStatus(t, tags("POST", id2, ""), 400)
	wantStatus(t, tags("DELETE", id2, ","), 400)

	// Unknown addresses: the spec's 404 message, for every operation.
	msg := "Address nope of customer " + number + " not found."
	wantError(t, f.do(req{method: "GET", path: base + "/nope", bearer: cust}), 404, "resource_not_found", msg)
	wantError(t, f.do(req{method: "PATCH", path: base + "/nope", bearer: cust, body: map[string]any{}}), 404, "resource_not_found", msg)
	wantError(t, f.do(req{method: "DELETE", path: base + "/nope", bearer: cust}), 404, "resource_not_found", msg)
	wantError(t, tags("POST", "nope", "A"), 404, "resource_not_found", msg)
	wantError(t, tags("DELETE", "nope", "A"), 404, "resource_not_found", msg)

	// Delete the default: none is left.
	r = f.do(req{method: "DELETE", path: base + "/" + id2, bearer: cust})
	wantNoContent(t, r, 204)
	wantStatus(t, f.do(req{method: "GET", path: base + "/" + id2, bearer: cust}), 404)
	info, _ := f.srv.CustomerByNumber(number)
	if len(info.AddressIDs) != 1 || info.AddressIDs[0] != id1 || info.DefaultAddressID != "" {
		t.Errorf("after delete %+v", info)
	}
	// Un-defaulting: isDefault false on a non-default address changes nothing.
	wantStatus(t, f.do(req{method: "PATCH", path: base + "/" + id1, bearer: cust, body: map[string]any{"isDefault": true}}), 200)
	wantStatus(t, f.do(req{method: "PATCH", path: base + "/" + id1, bearer: cust, body: map[string]any{"isDefault": false}}), 200)
	if info, _ := f.srv.CustomerByNumber(number); info.DefaultAddressID != "" {
		t.Error("isDefault false must clear the default")
	}

	// Validation on create.
	wantStatus(t, f.do(req{method: "POST", path: base, bearer: cust, body: map[string]any{"street": "x"}}), 400)
	wantStatus(t, f.do(req{method: "POST", path: base, bearer: cust, body: map[string]any{"contactName": "x", "isDefault": true}}), 400)

	// Addresses are per customer.
	_, other, _ := f.customer("other@example.com")
	r = f.do(req{method: "GET", path: base + "/" + id1, bearer: s(other["access_token"])})
	wantStatus(t, r, 404)
}
