package emporixtest

import (
	"net/http"
	"slices"
	"strings"
)

// validateAddress checks a new address against the Address schema the
// service reads addresses back with: contactName is required and country,
// when given, has two letters.
func validateAddress(a map[string]any, prefix string) []errorDetail {
	var out []errorDetail
	if str(a, "contactName") == "" {
		out = append(out, missing(prefix+"contactName"))
	}
	return append(out, checkCountry(a, prefix)...)
}

func checkCountry(a map[string]any, prefix string) []errorDetail {
	if country, ok := a["country"].(string); ok && len(country) != 2 {
		return []errorDetail{invalidValue(prefix+"country", prefix+"country must be a two-letter country code.")}
	}
	return nil
}

// addAddress stores a new, checked address. The first address of a
// customer becomes the default one.
func (c *customer) addAddress(obj map[string]any) *address {
	a := &address{id: randomHex(10), fields: map[string]any{}, version: 1}
	a.set(obj)
	c.addresses = append(c.addresses, a)
	if c.defaultAddr == "" {
		c.defaultAddr = a.id
	}
	return a
}

// set copies the present, non-null fields of obj into the address; tags
// and mixins replace the old ones.
func (a *address) set(obj map[string]any) {
	for _, name := range addressStrings {
		if v, ok := obj[name].(string); ok {
			a.fields[name] = v
		}
	}
	if m := object(obj, "mixins"); m != nil {
		a.fields["mixins"] = m
	}
	if md := object(obj, "metadata"); md != nil {
		if mx, ok := md["mixins"].(map[string]any); ok {
			a.metaMixins = mx
		}
	}
	if has(obj, "tags") {
		a.tags = unionTags(nil, stringList(obj, "tags"))
	}
}

// unionTags appends the tags not yet present.
func unionTags(tags, more []string) []string {
	for _, t := range more {
		if t != "" && !slices.Contains(tags, t) {
			tags = append(tags, t)
		}
	}
	return tags
}

// renderAddress is AddressDto.
func (c *customer) renderAddress(a *address) map[string]any {
	m := map[string]any{}
	for k, v := range a.fields {
		m[k] = v
	}
	m["id"] = a.id
	m["isDefault"] = a.id == c.defaultAddr
	m["tags"] = append([]string{}, a.tags...)
	m["metadata"] = map[string]any{"mixins": orEmpty(a.metaMixins), "version": a.version}
	if m["mixins"] == nil {
		m["mixins"] = map[string]any{}
	}
	return m
}

// addressNotFound is the spec's 404_address answer.
func addressNotFound(id string, cust *customer) reply {
	return errReply(http.StatusNotFound, "resource_not_found",
		"Address "+id+" of customer "+cust.number+" not found.")
}

func (s *Server) me(c *call) *customer { return s.st.customers[c.token.customer] }

// listAddresses serves GET /customer/{tenant}/me/addresses: a bare array.
func (s *Server) listAddresses(c *call) reply {
	cust := s.me(c)
	list := []any{}
	for _, a := range cust.addresses {
		list = append(list, cust.renderAddress(a))
	}
	return jsonReply(http.StatusOK, list)
}

// createAddress serves POST /customer/{tenant}/me/addresses: 201 {"id"}.
func (s *Server) createAddress(c *call) reply {
	obj, _, rep := jsonBody(c, addressCreateSchema, false)
	if rep != nil {
		return *rep
	}
	if d := validateAddress(obj, ""); len(d) > 0 {
		return validationFailed(d)
	}
	a := s.me(c).addAddress(obj)
	return jsonReply(http.StatusCreated, map[string]string{"id": a.id})
}

// getAddress serves GET /customer/{tenant}/me/addresses/{addressId}.
func (s *Server) getAddress(c *call) reply {
	cust := s.me(c)
	a := cust.address(c.param("addressId"))
	if a == nil {
		return addressNotFound(c.param("addressId"), cust)
	}
	return jsonReply(http.StatusOK, cust.renderAddress(a))
}

// updateAddress serves PATCH /customer/{tenant}/me/addresses/{addressId}
// (application/json only): present fields replace, nulls are ignored,
// tags replace the old ones, isDefault true makes it the default address
// and false on the default address leaves the customer without one. A
// stale metadata.version answers 409. The answer is 200 without a body.
func (s *Server) updateAddress(c *call) reply {
	cust := s.me(c)
	a := cust.address(c.param("addressId"))
	if a == nil {
		return addressNotFound(c.param("addressId"), cust)
	}
	obj, _, rep := jsonBody(c, addressUpdateSchema, false)
	if rep != nil {
		return *rep
	}
	if rep := checkVersion(obj, a.version, "Address "+a.id); rep != nil {
		return *rep
	}
	details := checkCountry(obj, "")
	if v, ok := obj["contactName"].(string); ok && v == "" {
		details = append(details, missing("contactName"))
	}
	if len(details) > 0 {
		return validationFailed(details)
	}
	a.set(obj)
	if def, ok := obj["isDefault"].(bool); ok {
		switch {
		case def:
			cust.defaultAddr = a.id
		case cust.defaultAddr == a.id:
			cust.defaultAddr = ""
		}
	}
	a.version++
	return empty(http.StatusOK)
}

// deleteAddress serves DELETE /customer/{tenant}/me/addresses/{addressId}.
// Deleting the default address leaves the customer without one.
func (s *Server) deleteAddress(c *call) reply {
	cust := s.me(c)
	id := c.param("addressId")
	i := slices.IndexFunc(cust.addresses, func(a *address) bool { return a.id == id })
	if i < 0 {
		return addressNotFound(id, cust)
	}
	cust.addresses = slices.Delete(cust.addresses, i, i+1)
	if cust.defaultAddr == id {
		cust.defaultAddr = ""
	}
	return empty(http.StatusNoContent)
}

// tagParam reads the required, comma-separated tags parameter.
func tagParam(c *call) ([]string, *reply) {
	var tags []string
	for _, t := range strings.Split(c.query.Get("tags"), ",") {
		if t = strings.TrimSpace(t); t != "" {
			tags = append(tags, t)
		}
	}
	if len(tags) == 0 {
		rep := validationFailed([]errorDetail{missing("tags")})
		return nil, &rep
	}
	return tags, nil
}

// addTags serves POST /customer/{tenant}/me/addresses/{addressId}/tags.
func (s *Server) addTags(c *call) reply {
	return s.editTags(c, func(a *address, tags []string) { a.tags = unionTags(a.tags, tags) })
}

// removeTags serves DELETE /customer/{tenant}/me/addresses/{addressId}/tags.
// Removing a tag the address does not carry is not an error.
func (s *Server) removeTags(c *call) reply {
	return s.editTags(c, func(a *address, tags []string) {
		a.tags = slices.DeleteFunc(a.tags, func(t string) bool { return slices.Contains(tags, t) })
	})
}

func (s *Server) editTags(c *call, edit func(*address, []string)) reply {
	cust := s.me(c)
	a := cust.address(c.param("addressId"))
	if a == nil {
		return addressNotFound(c.param("addressId"), cust)
	}
	tags, rep := tagParam(c)
	if rep != nil {
		return *rep
	}
	edit(a, tags)
	return empty(http.StatusNoContent)
}
