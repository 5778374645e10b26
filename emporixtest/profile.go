package emporixtest

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// AnonymousCustomerNumber is the customer number of the pseudo-customer
// GET /customer/{tenant}/me answers for an anonymous token.
const AnonymousCustomerNumber = "00000000"

// getProfile serves GET /customer/{tenant}/me. With expand=addresses the
// answer carries addresses (and defaultAddress, when there is one); without
// it, neither. mixin:* is accepted; mixins are always returned, so it
// changes nothing. An anonymous bearer gets the spec's "Anonymous"
// pseudo-customer.
func (s *Server) getProfile(c *call) reply {
	if c.token.kind == KindAnonymous {
		return jsonReply(http.StatusOK, map[string]any{
			"firstName": "Anonymous", "lastName": "Anonymous", "preferredSite": "default",
			"customerNumber": AnonymousCustomerNumber, "id": AnonymousCustomerNumber, "accounts": []any{},
		})
	}
	expand := false
	for _, e := range strings.Split(c.query.Get("expand"), ",") {
		expand = expand || strings.TrimSpace(e) == "addresses"
	}
	return jsonReply(http.StatusOK, s.st.customers[c.token.customer].render(expand))
}

// patchProfile serves PATCH /customer/{tenant}/me as application/json
// (present fields replace, nulls are ignored) or
// application/merge-patch+json (RFC 7396: nulls remove, objects merge). A
// metadata.version that differs from the stored one answers 409; without
// it the update is unconditional. Every successful PATCH increments the
// version. The answer is 200 without a body.
func (s *Server) patchProfile(c *call) reply {
	obj, mt, rep := jsonBody(c, profileSchema, false, "application/json", "application/merge-patch+json")
	if rep != nil {
		return *rep
	}
	cust := s.st.customers[c.token.customer]
	if rep := cust.applyPatch(obj, mt == "application/merge-patch+json"); rep != nil {
		return *rep
	}
	return empty(http.StatusOK)
}

// applyPatch checks metadata.version, applies obj to the profile and
// validates the result; nothing changes when it fails. On success the
// version is incremented.
func (c *customer) applyPatch(obj map[string]any, merge bool) *reply {
	if rep := checkVersion(obj, c.version, "Customer "+c.number); rep != nil {
		return rep
	}
	profile, meta, details := patchFields(c.profile, c.metaMixins, obj, merge)
	if len(details) == 0 {
		details = validateProfile(profile, "")
	}
	if len(details) > 0 {
		rep := validationFailed(details)
		return &rep
	}
	c.profile, c.metaMixins = profile, meta
	c.version++
	return nil
}

// checkVersion answers 409 when obj carries a metadata.version other than
// current.
func checkVersion(obj map[string]any, current int, what string) *reply {
	md := object(obj, "metadata")
	if md == nil || md["version"] == nil {
		return nil
	}
	v, _ := md["version"].(json.Number).Int64()
	if int(v) == current {
		return nil
	}
	rep := conflict(what + " was modified: version " + strconv.FormatInt(v, 10) +
		" does not match the current version " + strconv.Itoa(current) + ".")
	return &rep
}

// patchFields returns copies of fields and metaMixins with patch applied;
// metadata.version is ignored (see checkVersion).
func patchFields(fields, metaMixins, patch map[string]any, merge bool) (map[string]any, map[string]any, []errorDetail) {
	out := make(map[string]any, len(fields))
	for k, v := range fields {
		out[k] = v
	}
	var meta any = metaMixins
	var details []errorDetail
	for k, v := range patch {
		if k == "metadata" {
			if md, ok := v.(map[string]any); ok {
				if mx, present := md["mixins"]; present {
					meta = patchValue(meta, mx, merge)
				}
			}
			continue
		}
		if v == nil && !merge {
			continue // application/json: a null leaves the field alone
		}
		if k == "contactEmail" && out[k] != nil && out[k] != "" && (v == nil || v == "") {
			details = append(details, invalidValue(k, "contactEmail cannot be unset once a value is present."))
			continue
		}
		if v == nil {
			delete(out, k)
			continue
		}
		out[k] = patchValue(out[k], v, merge)
	}
	return out, asObject(meta), details
}

func patchValue(cur, v any, merge bool) any {
	if merge {
		return mergePatch(cur, v)
	}
	return v
}

func asObject(v any) map[string]any {
	m, _ := v.(map[string]any)
	return m
}

// mergePatch applies an RFC 7396 merge patch without modifying target.
func mergePatch(target, patch any) any {
	pm, ok := patch.(map[string]any)
	if !ok {
		return patch
	}
	out := map[string]any{}
	if tm, ok := target.(map[string]any); ok {
		for k, v := range tm {
			out[k] = v
		}
	}
	for k, v := range pm {
		if v == nil {
			delete(out, k)
		} else {
			out[k] = mergePatch(out[k], v)
		}
	}
	return out
}

// validateProfile checks the rules of CustomerCommonDto on a profile:
// preferredCurrency has three letters, and a B2B company registration ID
// makes firstName, lastName and company mandatory.
func validateProfile(p map[string]any, prefix string) []errorDetail {
	var out []errorDetail
	if cur, ok := p["preferredCurrency"].(string); ok && len(cur) != 3 {
		out = append(out, invalidValue(prefix+"preferredCurrency", "preferredCurrency must be a three-letter ISO 4217 code."))
	}
	if b2b := asObject(p["b2b"]); b2b != nil && str(b2b, "companyRegistrationId") != "" {
		for _, name := range []string{"firstName", "lastName", "company"} {
			if str(p, name) == "" {
				out = append(out, errorDetail{Field: prefix + name, Type: "missing_value",
					Message: name + " is required for a B2B customer (b2b.companyRegistrationId is set)."})
			}
		}
	}
	return out
}

// render is the Customer schema of GET /me.
func (c *customer) render(expandAddresses bool) map[string]any {
	m := map[string]any{}
	for k, v := range c.profile {
		if k != "b2b" {
			m[k] = v
		}
	}
	m["id"], m["customerNumber"] = c.number, c.number
	account := map[string]any{"id": c.login}
	if c.providerID != "" {
		account["providerId"] = c.providerID
	}
	m["accounts"] = []any{account}
	m["metadata"] = map[string]any{"mixins": orEmpty(c.metaMixins), "version": c.version}
	m["mixins"] = orEmpty(asObject(c.profile["mixins"]))
	m["businessModel"] = "B2C"
	b2b := asObject(c.profile["b2b"])
	if reg := str(b2b, "companyRegistrationId"); reg != "" || len(c.legalEntities) > 0 {
		if reg != "" {
			m["businessModel"] = "B2B"
		}
		entities := []any{}
		for _, e := range c.legalEntities {
			entities = append(entities, map[string]any{"id": e.ID, "name": e.Name, "contactAssignmentId": e.ContactAssignmentID})
		}
		out := map[string]any{"legalEntities": entities}
		if reg != "" {
			out["companyRegistrationId"] = reg
		}
		m["b2b"] = out
	}
	if !c.lastLogin.IsZero() {
		m["lastLogin"] = c.lastLogin.UTC().Format(time.RFC3339)
	}
	if expandAddresses {
		list := []any{}
		for _, a := range c.addresses {
			r := c.renderAddress(a)
			list = append(list, r)
			if a.id == c.defaultAddr {
				m["defaultAddress"] = r
			}
		}
		m["addresses"] = list
	}
	return m
}

func orEmpty(m map[string]any) map[string]any {
	if m == nil {
		return map[string]any{}
	}
	return m
}
