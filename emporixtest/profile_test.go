package emporixtest_test

import (
	"testing"
)

func TestAnonymousPseudoCustomer(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	me := f.me(f.anonToken(), "addresses")
	if me["customerNumber"] != "00000000" || me["id"] != "00000000" || me["firstName"] != "Anonymous" ||
		me["lastName"] != "Anonymous" || s(me["accounts"]) != "[]" {
		t.Errorf("anonymous customer %v", me)
	}
}

func TestProfileGet(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	anon := f.anonToken()
	r := f.do(req{method: "POST", path: f.path("/signup"), bearer: anon, body: map[string]any{
		"email": "p@example.com", "password": "password123",
		"customerDetails": map[string]any{"firstName": "Pat", "mixins": map[string]any{"loyalty": map[string]any{"level": "gold"}},
			"metadata": map[string]any{"mixins": map[string]any{"loyalty": "https://example.com/loyalty.json"}}},
		"customerAddress": map[string]any{"contactName": "Pat", "tags": []string{"BILLING"}},
	}})
	wantStatus(t, r, 201)
	number := s(r.json(t)["id"])
	tok := f.login(anon, "p@example.com", "password123")
	cust := s(tok["access_token"])

	me := f.me(cust, "")
	if me["id"] != number || me["customerNumber"] != number || me["contactEmail"] != "p@example.com" || me["firstName"] != "Pat" {
		t.Errorf("profile %v", me)
	}
	if s(me["accounts"]) != `[{"id":"p@example.com"}]` || me["businessModel"] != "B2C" {
		t.Errorf("accounts/businessModel %v", me)
	}
	if me["preferredLanguage"] != "en_US" || me["preferredCurrency"] != "USD" || me["preferredSite"] != "main" {
		t.Errorf("defaults %v", me)
	}
	if s(me["metadata"]) != `{"mixins":{"loyalty":"https://example.com/loyalty.json"},"version":1}` ||
		s(me["mixins"]) != `{"loyalty":{"level":"gold"}}` {
		t.Errorf("metadata/mixins %v %v", me["metadata"], me["mixins"])
	}
	if _, ok := me["addresses"]; ok {
		t.Error("addresses must only be present when expanded")
	}
	if _, ok := me["defaultAddress"]; ok {
		t.Error("defaultAddress must only be present when addresses are expanded")
	}
	if s(me["lastLogin"]) != f.srv.Now().Format("2006-01-02T15:04:05Z") {
		t.Errorf("lastLogin %v", me["lastLogin"])
	}
	for _, expand := range []string{"addresses", "addresses,mixin:*", "mixin:*, addresses"} {
		me = f.me(cust, expand)
		list, ok := me["addresses"].([]any)
		if !ok || len(list) != 1 {
			t.Fatalf("expand=%s: addresses %v", expand, me["addresses"])
		}
		a := list[0].(map[string]any)
		if a["contactName"] != "Pat" || a["isDefault"] != true || s(a["tags"]) != `["BILLING"]` {
			t.Errorf("address %v", a)
		}
		if s(me["defaultAddress"]) != s(a) {
			t.Errorf("defaultAddress %v", me["defaultAddress"])
		}
	}
	if _, ok := f.me(cust, "mixin:*")["addresses"]; ok {
		t.Error("expand=mixin:* alone must not expand addresses")
	}
}

func TestProfilePatch(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	_, tok, number := f.customer("pp@example.com")
	cust := s(tok["access_token"])
	patch := func(body any, contentType string) resp {
		return f.do(req{method: "PATCH", path: f.path("/me"), bearer: cust, body: body, contentType: contentType})
	}
	version := func() int64 { return n(t, f.me(cust, "")["metadata"].(map[string]any)["version"]) }

	// application/json with the current version.
	r := patch(map[string]any{"firstName": "Ann", "lastName": "Lee", "mixins": map[string]any{"a": 1, "b": 2}, "metadata": map[string]any{"version": 1}}, "")
	wantNoContent(t, r, 200)
	if r.header.Get("Content-Type") != "" {
		t.Errorf("Content-Type %q on an empty answer", r.header.Get("Content-Type"))
	}
	if version() != 2 {
		t.Errorf("version %d after one PATCH, want 2", version())
	}
	// A stale version conflicts and changes nothing.
	r = patch(map[string]any{"firstName": "Bob", "metadata": map[string]any{"version": 1}}, "")
	wantError(t, r, 409, "conflict_resource", "")
	if me := f.me(cust, ""); me["firstName"] != "Ann" || version() != 2 {
		t.Errorf("a conflicting PATCH changed the profile: %v", me)
	}
	// Omitted version: unconditional. A null in application/json is ignored.
	wantStatus(t, patch(map[string]any{"middleName": "M", "lastName": nil}, ""), 200)
	me := f.me(cust, "")
	if me["middleName"] != "M" || me["lastName"] != "Lee" || version() != 3 {
		t.Errorf("after json PATCH %v", me)
	}
	// application/json replaces objects whole.
	wantStatus(t, patch(map[string]any{"mixins": map[string]any{"c": 3}}, ""), 200)
	if got := s(f.me(cust, "")["mixins"]); got != `{"c":3}` {
		t.Errorf("json PATCH mixins %s", got)
	}
	// merge-patch: null removes, objects merge.
	r = patch(`{"middleName":null,"mixins":{"d":4,"c":null},"metadata":{"version":4}}`, "application/merge-patch+json")
	wantStatus(t, r, 200)
	me = f.me(cust, "")
	if _, ok := me["middleName"]; ok || s(me["mixins"]) != `{"d":4}` || version() != 5 {
		t.Errorf("after merge PATCH %v", me)
	}
	// The contact e-mail cannot be unset.
	wantStatus(t, patch(`{"contactEmail":null}`, "application/merge-patch+json"), 400)
	wantStatus(t, patch(map[string]any{"contactEmail": ""}, ""), 400)
	// Validation.
	f.wantRejected(req{method: "PATCH", path: f.path("/me"), bearer: cust}, map[string]any{
		"unknown field": map[string]any{"nickname": "x"},
		"wrong type":    map[string]any{"firstName": 5},
		"currency":      map[string]any{"preferredCurrency": "EURO"},
		"b2b":           map[string]any{"b2b": map[string]any{"companyRegistrationId": "1"}},
		"version type":  map[string]any{"metadata": map[string]any{"version": "x"}},
		"not an object": []int{1},
	})
	wantStatus(t, patch(map[string]any{"firstName": "X"}, "text/plain"), 415)
	if version() != 5 {
		t.Error("rejected PATCHes must not change the version")
	}
	// B2B with the mandatory fields.
	wantStatus(t, patch(map[string]any{"company": "ACME", "b2b": map[string]any{"companyRegistrationId": "R1"}}, ""), 200)
	me = f.me(cust, "")
	if me["businessModel"] != "B2B" || s(me["b2b"]) != `{"companyRegistrationId":"R1","legalEntities":[]}` {
		t.Errorf("b2b profile %v", me["b2b"])
	}
	if info, _ := f.srv.CustomerByNumber(number); info.Version != 6 || info.FirstName != "Ann" {
		t.Errorf("CustomerInfo %+v", info)
	}
	// An empty PATCH is a save too.
	wantStatus(t, patch(nil, ""), 200)
	if version() != 7 {
		t.Errorf("version %d after an empty PATCH", version())
	}
}
