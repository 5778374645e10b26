package emporix

import (
	"context"
	"net/url"
	"strings"
)

// AddressesService manages the logged-in customer's addresses.
type AddressesService service

var (
	opAddressList       = op("GET-customer-list-customer-addresses")
	opAddressCreate     = op("POST-customer-add-address")
	opAddressGet        = op("GET-customer-retrieve-address-by-id")
	opAddressUpdate     = op("PATCH-customer-update-customer-address")
	opAddressDelete     = op("DELETE-customer-remove-customer-address-by-id")
	opAddressTagsAdd    = op("POST-customer-add-address-tags")
	opAddressTagsRemove = op("DELETE-customer-remove-address-tags")
)

// Common address tags.
const (
	TagBilling  = "BILLING"
	TagShipping = "SHIPPING"
)

// Address is a customer address as the service returns it (AddressDto), and
// the first address given at sign-up (Address, which requires ContactName).
type Address struct {
	ID             string    `json:"id,omitempty"`
	ContactName    string    `json:"contactName,omitempty" validate:"required" emporix:"personal"`
	CompanyName    string    `json:"companyName,omitempty"`
	Street         string    `json:"street,omitempty" emporix:"personal"`
	StreetNumber   string    `json:"streetNumber,omitempty"`
	StreetAppendix string    `json:"streetAppendix,omitempty" emporix:"personal"`
	ExtraLine1     string    `json:"extraLine1,omitempty" emporix:"personal"`
	ExtraLine2     string    `json:"extraLine2,omitempty" emporix:"personal"`
	ExtraLine3     string    `json:"extraLine3,omitempty" emporix:"personal"`
	ExtraLine4     string    `json:"extraLine4,omitempty" emporix:"personal"`
	ZipCode        string    `json:"zipCode,omitempty"`
	City           string    `json:"city,omitempty"`
	Country        string    `json:"country,omitempty" validate:"country"`
	State          string    `json:"state,omitempty"`
	ContactPhone   string    `json:"contactPhone,omitempty" emporix:"personal"`
	IsDefault      bool      `json:"isDefault,omitempty"`
	Tags           []string  `json:"tags,omitempty"`
	Metadata       *Metadata `json:"metadata,omitempty"`
	Mixins         Mixins    `json:"mixins,omitempty"`
}

// HasTag reports whether the address carries tag.
func (a *Address) HasTag(tag string) bool {
	for _, t := range a.Tags {
		if t == tag {
			return true
		}
	}
	return false
}

// AddressCreate is a new address (AddressCreateDto). ContactName is
// required and Country, when set, is a two-letter code: the spec's
// AddressCreateDto marks nothing required, but the service checks a new
// address against the Address schema it reads addresses back with.
type AddressCreate struct {
	ContactName    string         `json:"contactName,omitempty" validate:"required" emporix:"personal"`
	CompanyName    string         `json:"companyName,omitempty"`
	Street         string         `json:"street,omitempty" emporix:"personal"`
	StreetNumber   string         `json:"streetNumber,omitempty"`
	StreetAppendix string         `json:"streetAppendix,omitempty" emporix:"personal"`
	ExtraLine1     string         `json:"extraLine1,omitempty" emporix:"personal"`
	ExtraLine2     string         `json:"extraLine2,omitempty" emporix:"personal"`
	ExtraLine3     string         `json:"extraLine3,omitempty" emporix:"personal"`
	ExtraLine4     string         `json:"extraLine4,omitempty" emporix:"personal"`
	ZipCode        string         `json:"zipCode,omitempty"`
	City           string         `json:"city,omitempty"`
	Country        string         `json:"country,omitempty" validate:"country"`
	State          string         `json:"state,omitempty"`
	ContactPhone   string         `json:"contactPhone,omitempty" emporix:"personal"`
	Tags           []string       `json:"tags,omitempty"`
	Metadata       *BasicMetadata `json:"metadata,omitempty"`
	Mixins         Mixins         `json:"mixins,omitempty"`
}

// BasicMetadata links mixin names to their schemas (BasicMetadataDto). A new
// address has no version yet.
type BasicMetadata struct {
	Mixins map[string]any `json:"mixins,omitempty"`
}

// AddressUpdate is a partial address update (AddressUpdateDto). Nil fields
// are left unchanged; use [Ptr] to set one. Tags, when not nil, replace the
// address's tags: an empty, non-nil slice is sent as [] to clear them.
type AddressUpdate struct {
	ContactName    *string  `json:"contactName,omitempty" validate:"notblank" emporix:"personal"`
	CompanyName    *string  `json:"companyName,omitempty"`
	Street         *string  `json:"street,omitempty" emporix:"personal"`
	StreetNumber   *string  `json:"streetNumber,omitempty"`
	StreetAppendix *string  `json:"streetAppendix,omitempty" emporix:"personal"`
	ExtraLine1     *string  `json:"extraLine1,omitempty" emporix:"personal"`
	ExtraLine2     *string  `json:"extraLine2,omitempty" emporix:"personal"`
	ExtraLine3     *string  `json:"extraLine3,omitempty" emporix:"personal"`
	ExtraLine4     *string  `json:"extraLine4,omitempty" emporix:"personal"`
	ZipCode        *string  `json:"zipCode,omitempty"`
	City           *string  `json:"city,omitempty"`
	Country        *string  `json:"country,omitempty" validate:"country"`
	State          *string  `json:"state,omitempty"`
	ContactPhone   *string  `json:"contactPhone,omitempty" emporix:"personal"`
	Tags           []string `json:"tags,omitzero"`
	IsDefault      *bool    `json:"isDefault,omitempty"`
	// Metadata.Version, when non-zero, enables optimistic locking.
	Metadata *Metadata `json:"metadata,omitempty"`
	Mixins   Mixins    `json:"mixins,omitempty"`
}

// List returns all addresses of the customer. The service does not page them.
//
// Emporix API: GET /customer/{tenant}/me/addresses. Needs the customer token.
func (s *AddressesService) List(ctx context.Context) ([]Address, error) {
	c := s.client
	k := c.newCall(opAddressList)
	var out []Address
	if err := c.doJSON(ctx, k, &out); err != nil {
		return nil, err
	}
	if out == nil {
		out = []Address{}
	}
	return out, nil
}

// Create adds an address and returns its ID.
//
// Emporix API: POST /customer/{tenant}/me/addresses. Needs the customer token.
func (s *AddressesService) Create(ctx context.Context, a *AddressCreate) (string, error) {
	if err := checkFields("AddressCreate", a); err != nil {
		return "", err
	}
	if err := validateTagList("AddressCreate.Tags", a.Tags, false); err != nil {
		return "", err
	}
	c := s.client
	k := c.newCall(opAddressCreate)
	if err := k.jsonBody(a, contentJSON); err != nil {
		return "", err
	}
	return c.doCreated(ctx, k)
}

// Get returns one address. An unknown ID yields an error matching [ErrNotFound].
//
// Emporix API: GET /customer/{tenant}/me/addresses/{addressId}. Needs the
// customer token.
func (s *AddressesService) Get(ctx context.Context, addressID string) (*Address, error) {
	if err := requireAddressID(addressID); err != nil {
		return nil, err
	}
	c := s.client
	k := c.newCall(opAddressGet, addressID)
	var a Address
	if err := c.doJSON(ctx, k, &a); err != nil {
		return nil, err
	}
	return &a, nil
}

// Update changes an address. The service answers with no body.
//
// Emporix API: PATCH /customer/{tenant}/me/addresses/{addressId}. Needs the
// customer token.
func (s *AddressesService) Update(ctx context.Context, addressID string, u *AddressUpdate) error {
	if err := requireAddressID(addressID); err != nil {
		return err
	}
	if err := checkFields("AddressUpdate", u); err != nil {
		return err
	}
	if err := validateTagList("AddressUpdate.Tags", u.Tags, false); err != nil {
		return err
	}
	if u.Metadata != nil && u.Metadata.Version < 0 {
		return invalid("AddressUpdate.Metadata.Version", "must not be negative")
	}
	c := s.client
	k := c.newCall(opAddressUpdate, addressID)
	if err := k.jsonBody(u, contentJSON); err != nil {
		return err
	}
	return c.doNoContent(ctx, k)
}

// Delete removes an address.
//
// Emporix API: DELETE /customer/{tenant}/me/addresses/{addressId}. Needs the
// customer token.
func (s *AddressesService) Delete(ctx context.Context, addressID string) error {
	if err := requireAddressID(addressID); err != nil {
		return err
	}
	c := s.client
	return c.doNoContent(ctx, c.newCall(opAddressDelete, addressID))
}

// AddTags adds tags (such as [TagBilling]) to an address.
//
// Emporix API: POST /customer/{tenant}/me/addresses/{addressId}/tags. Needs
// the customer token.
func (s *AddressesService) AddTags(ctx context.Context, addressID string, tags ...string) error {
	return s.tags(ctx, opAddressTagsAdd, addressID, tags)
}

// RemoveTags removes tags from an address.
//
// Emporix API: DELETE /customer/{tenant}/me/addresses/{addressId}/tags. Needs
// the customer token.
func (s *AddressesService) RemoveTags(ctx context.Context, addressID string, tags ...string) error {
	return s.tags(ctx, opAddressTagsRemove, addressID, tags)
}

func (s *AddressesService) tags(ctx context.Context, op *operation, addressID string, tags []string) error {
	if err := requireAddressID(addressID); err != nil {
		return err
	}
	// An empty tags= parameter would be accepted and change nothing, which
	// hides the caller's mistake.
	if err := validateTagList("tags", tags, true); err != nil {
		return err
	}
	c := s.client
	k := c.newCall(op, addressID)
	k.query = url.Values{"tags": {strings.Join(tags, ",")}}
	return c.doNoContent(ctx, k)
}

// requireAddressID refuses an address ID that is empty or a dot segment.
func requireAddressID(addressID string) error { return requirePathParam("addressID", addressID) }

// validateTagList refuses empty tags and tags with commas, which the
// comma-separated tags parameter cannot carry.
func validateTagList(field string, tags []string, required bool) error {
	if required && len(tags) == 0 {
		return invalid(field, "at least one tag is required")
	}
	for _, t := range tags {
		if blank(t) {
			return invalid(field, "tags must not be empty")
		}
		if strings.Contains(t, ",") {
			return invalid(field, "tags must not contain a comma")
		}
	}
	return nil
}
