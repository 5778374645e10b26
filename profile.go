package emporix

import (
	"context"
	"net/url"
	"strings"
	"time"
)

// ProfileService reads and updates the logged-in customer's profile.
type ProfileService service

var (
	opProfileGet    = op("GET-customer-retrieve-customer-profile")
	opProfileUpdate = op("PATCH-customer-update-customer")
)

// BusinessModel tells whether a customer belongs to a company.
type BusinessModel string

// Business models.
const (
	BusinessModelB2B BusinessModel = "B2B"
	BusinessModelB2C BusinessModel = "B2C"
)

// Customer is a customer profile.
type Customer struct {
	ID                string        `json:"id,omitempty"`
	CustomerNumber    string        `json:"customerNumber,omitempty"`
	Title             string        `json:"title,omitempty"`
	FirstName         string        `json:"firstName,omitempty"`
	MiddleName        string        `json:"middleName,omitempty"`
	LastName          string        `json:"lastName,omitempty"`
	ContactEmail      string        `json:"contactEmail,omitempty"`
	ContactPhone      string        `json:"contactPhone,omitempty"`
	Company           string        `json:"company,omitempty"`
	PreferredLanguage string        `json:"preferredLanguage,omitempty"`
	PreferredCurrency string        `json:"preferredCurrency,omitempty"`
	PreferredSite     string        `json:"preferredSite,omitempty"`
	Accounts          []Account     `json:"accounts,omitempty"`
	Addresses         []Address     `json:"addresses,omitempty"`
	DefaultAddress    *Address      `json:"defaultAddress,omitempty"`
	BusinessModel     BusinessModel `json:"businessModel,omitempty"`
	B2B               *B2B          `json:"b2b,omitempty"`
	Mixins            Mixins        `json:"mixins,omitempty"`
	Metadata          *Metadata     `json:"metadata,omitempty"`
	// LastLogin is nil for a customer who has not logged in since the field
	// was introduced.
	LastLogin *time.Time `json:"lastLogin,omitempty"`
}

// AnonymousCustomerNumber is the customer number GET /me reports for an
// anonymous token.
const AnonymousCustomerNumber = "00000000"

// Anonymous reports whether the profile is the pseudo-customer the service
// returns for an anonymous token.
func (c *Customer) Anonymous() bool { return c != nil && c.CustomerNumber == AnonymousCustomerNumber }

// Version returns metadata.version, the value to send back for optimistic
// locking, or 0.
func (c *Customer) Version() int {
	if c == nil || c.Metadata == nil {
		return 0
	}
	return c.Metadata.Version
}

// Account is a login account of a customer (AccountId).
type Account struct {
	// ID is the login e-mail.
	ID string `json:"id,omitempty"`
	// ProviderID is the identity provider's ID, for social-login accounts.
	ProviderID string `json:"providerId,omitempty"`
}

// B2B holds a B2B customer's company data (B2BGet).
type B2B struct {
	CompanyRegistrationID string        `json:"companyRegistrationId,omitempty"`
	LegalEntities         []LegalEntity `json:"legalEntities,omitempty"`
}

// LegalEntity is a company a B2B customer is assigned to.
type LegalEntity struct {
	ID                  string `json:"id,omitempty"`
	Name                string `json:"name,omitempty"`
	ContactAssignmentID string `json:"contactAssignmentId,omitempty"`
}

// B2BCreate carries a company registration ID when creating or updating a
// customer. With it set, FirstName, LastName and Company are mandatory.
type B2BCreate struct {
	CompanyRegistrationID string `json:"companyRegistrationId,omitempty"`
}

// Mixins holds custom attributes, keyed by mixin name.
type Mixins map[string]any

// Metadata is the metadata of a profile or address (DefaultDtoMetadata).
type Metadata struct {
	// Mixins links mixin names to their schemas.
	Mixins map[string]any `json:"mixins,omitempty"`
	// Version is the optimistic-locking version. On an update, a non-zero
	// Version must match the stored one or the service answers 409
	// (ErrConflict); zero sends no version and updates unconditionally.
	Version int `json:"version,omitempty"`
}

// CustomerDetails is the profile given at sign-up (CustomerUpdateDto).
type CustomerDetails struct {
	Title             string     `json:"title,omitempty"`
	FirstName         string     `json:"firstName,omitempty" emporix:"personal"`
	MiddleName        string     `json:"middleName,omitempty" emporix:"personal"`
	LastName          string     `json:"lastName,omitempty" emporix:"personal"`
	ContactEmail      string     `json:"contactEmail,omitempty" emporix:"personal"`
	ContactPhone      string     `json:"contactPhone,omitempty" emporix:"personal"`
	Company           string     `json:"company,omitempty"`
	PreferredLanguage string     `json:"preferredLanguage,omitempty"`
	PreferredCurrency string     `json:"preferredCurrency,omitempty" validate:"currency"`
	PreferredSite     string     `json:"preferredSite,omitempty"`
	B2B               *B2BCreate `json:"b2b,omitempty"`
	Metadata          *Metadata  `json:"metadata,omitempty"`
	Mixins            Mixins     `json:"mixins,omitempty"`
}

// validate adds the spec's cross-field rule to the field rules, which
// checkFields has applied already.
func (d *CustomerDetails) validate(field string) error {
	if d.B2B != nil && d.B2B.CompanyRegistrationID != "" {
		required := [...]struct{ name, value string }{
			{"FirstName", d.FirstName}, {"LastName", d.LastName}, {"Company", d.Company},
		}
		for _, r := range required {
			if blank(r.value) {
				return invalid(field+"."+r.name, "is required with a B2B company registration ID")
			}
		}
	}
	return nil
}

// ProfileUpdate is a partial profile update (CustomerPatchDto). Nil fields
// are left unchanged; use [Ptr] to set one.
type ProfileUpdate struct {
	Title             *string    `json:"title,omitempty"`
	FirstName         *string    `json:"firstName,omitempty" emporix:"personal"`
	MiddleName        *string    `json:"middleName,omitempty" emporix:"personal"`
	LastName          *string    `json:"lastName,omitempty" emporix:"personal"`
	ContactPhone      *string    `json:"contactPhone,omitempty" emporix:"personal"`
	Company           *string    `json:"company,omitempty"`
	PreferredLanguage *string    `json:"preferredLanguage,omitempty"`
	PreferredCurrency *string    `json:"preferredCurrency,omitempty" validate:"currency"`
	PreferredSite     *string    `json:"preferredSite,omitempty"`
	B2B               *B2BCreate `json:"b2b,omitempty"`
	// Metadata.Version, when non-zero, enables optimistic locking.
	Metadata *Metadata `json:"metadata,omitempty"`
	Mixins   Mixins    `json:"mixins,omitempty"`
	// ContactEmail cannot be unset once a value is present.
	ContactEmail *string `json:"contactEmail,omitempty" emporix:"personal"`
}

func (u *ProfileUpdate) validate() error {
	if err := checkFields("ProfileUpdate", u); err != nil {
		return err
	}
	if u.Metadata != nil && u.Metadata.Version < 0 {
		return invalid("ProfileUpdate.Metadata.Version", "must not be negative")
	}
	return nil
}

// Ptr returns a pointer to v, for the optional fields of update requests.
func Ptr[T any](v T) *T { return &v }

// ProfileGetOptions selects what GET /me expands.
type ProfileGetOptions struct {
	// Expand lists attributes to expand: "addresses", and "mixin:*" for
	// mixins. They are sent comma-separated.
	Expand []string
}

// Get returns the profile of the token's owner. For a guest (an anonymous
// token) the service answers with a pseudo-customer, customer number
// [AnonymousCustomerNumber], whose Anonymous method reports true, and no
// error. Through a [Session] whose customer login has just ended, the first
// call returns an error matching [ErrSessionExpired] instead of the guest's
// pseudo-customer.
//
// Emporix API: GET /customer/{tenant}/me. Needs a customer or anonymous token.
func (s *ProfileService) Get(ctx context.Context, opts *ProfileGetOptions) (*Customer, error) {
	c := s.client
	k := c.newCall(opProfileGet)
	if opts != nil && len(opts.Expand) > 0 {
		for _, e := range opts.Expand {
			if blank(e) || strings.Contains(e, ",") {
				return nil, invalid("ProfileGetOptions.Expand", "entries must be non-empty and contain no comma")
			}
		}
		k.query = url.Values{"expand": {strings.Join(opts.Expand, ",")}}
	}
	var cust Customer
	if err := c.doJSON(ctx, k, &cust); err != nil {
		return nil, err
	}
	return &cust, nil
}

// Update applies u to the customer's profile as application/json. The
// service answers with no body; call Get for the result. A stale
// Metadata.Version yields an error matching [ErrConflict].
//
// Emporix API: PATCH /customer/{tenant}/me. Needs the customer token.
func (s *ProfileService) Update(ctx context.Context, u *ProfileUpdate) error {
	return s.patch(ctx, u, contentJSON)
}

// MergePatch applies u as application/merge-patch+json (RFC 7396), which the
// service accepts for this operation only.
//
// Emporix API: PATCH /customer/{tenant}/me. Needs the customer token.
func (s *ProfileService) MergePatch(ctx context.Context, u *ProfileUpdate) error {
	return s.patch(ctx, u, contentMergePatch)
}

func (s *ProfileService) patch(ctx context.Context, u *ProfileUpdate, contentType string) error {
	if err := u.validate(); err != nil {
		return err
	}
	c := s.client
	k := c.newCall(opProfileUpdate)
	if err := k.jsonBody(u, contentType); err != nil {
		return err
	}
	return c.doNoContent(ctx, k)
}
