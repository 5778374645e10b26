package emporixtest

import (
	"fmt"
	"time"
)

// CustomerInfo is a snapshot of a stored customer, for assertions.
type CustomerInfo struct {
	// CustomerNumber is the customer's number and ID.
	CustomerNumber string
	// Email is the login e-mail.
	Email string
	// ContactEmail is the profile's contact e-mail.
	ContactEmail string
	// FirstName and LastName are the profile's names.
	FirstName string
	LastName  string
	// ProviderID is set for accounts that logged in with social login.
	ProviderID string
	// HasPassword is false for accounts provisioned by social login or
	// token exchange.
	HasPassword bool
	// Active is false for accounts that are inactive (see
	// [SignupInactive]) or awaiting double opt-in.
	Active bool
	// OnHold is the employee-set on-hold flag; it blocks logins.
	OnHold bool
	// AwaitingOptIn tells whether a double opt-in sign-up is unconfirmed.
	AwaitingOptIn bool
	// Version is the profile's metadata.version.
	Version int
	// AddressIDs lists the addresses in creation order.
	AddressIDs []string
	// DefaultAddressID is the default address, or "".
	DefaultAddressID string
	// LegalEntities are the B2B legal entities assigned with
	// [Server.AssignLegalEntity].
	LegalEntities []LegalEntity
	// LastLogin is the fake clock's time of the last login, or zero.
	LastLogin time.Time
}

func (c *customer) info() CustomerInfo {
	out := CustomerInfo{
		CustomerNumber: c.number, Email: c.login, ContactEmail: c.str("contactEmail"),
		FirstName: c.str("firstName"), LastName: c.str("lastName"), ProviderID: c.providerID,
		HasPassword: c.password != "", Active: c.active, OnHold: c.onHold, AwaitingOptIn: c.optIn,
		Version: c.version, DefaultAddressID: c.defaultAddr, LastLogin: c.lastLogin,
		LegalEntities: append([]LegalEntity(nil), c.legalEntities...),
	}
	for _, a := range c.addresses {
		out.AddressIDs = append(out.AddressIDs, a.id)
	}
	return out
}

// Customer returns the customer who logs in with email
// (case-insensitively), or false.
func (s *Server) Customer(email string) (CustomerInfo, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c := s.st.customerByLogin(email); c != nil {
		return c.info(), true
	}
	return CustomerInfo{}, false
}

// CustomerByNumber returns the customer with the customer number, or false.
func (s *Server) CustomerByNumber(customerNumber string) (CustomerInfo, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c := s.st.customers[customerNumber]; c != nil {
		return c.info(), true
	}
	return CustomerInfo{}, false
}

// AddCustomer creates an active account that logs in with email and
// password, as if it had signed up and been activated, and returns its
// customer number. It fails when the e-mail is taken.
func (s *Server) AddCustomer(email, password string) (string, error) {
	if email == "" || len(password) < minPassword {
		return "", fmt.Errorf("emporixtest: AddCustomer needs an e-mail and a password of at least %d characters", minPassword)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.st.customerByLogin(email) != nil {
		return "", fmt.Errorf("emporixtest: duplicate account %q", email)
	}
	return s.st.newCustomer(email, password).number, nil
}

// ActivateCustomer activates an account directly, as the employee's PATCH
// {"active":true,"onHold":false} does, and ends a pending double opt-in.
// It reports whether the customer exists.
func (s *Server) ActivateCustomer(customerNumber string) bool {
	return s.setStatus(customerNumber, true, false)
}

// DeactivateCustomer makes an account inactive, so that logging in fails
// with 401. Tokens already issued stay valid. It reports whether the
// customer exists.
func (s *Server) DeactivateCustomer(customerNumber string) bool {
	return s.setStatus(customerNumber, false, false)
}

func (s *Server) setStatus(customerNumber string, active, onHold bool) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.st.customers[customerNumber]
	if c == nil {
		return false
	}
	c.active, c.onHold = active, onHold
	if active {
		c.optIn = false
	}
	return true
}

// AssignLegalEntity assigns a B2B legal entity to a customer: it appears
// in GET /me's b2b.legalEntities, and refreshauthtoken accepts its ID as
// legalEntityId. It reports whether the customer exists.
func (s *Server) AssignLegalEntity(customerNumber string, e LegalEntity) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.st.customers[customerNumber]
	if c == nil {
		return false
	}
	c.legalEntities = append(c.legalEntities, e)
	return true
}
