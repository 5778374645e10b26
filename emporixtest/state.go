package emporixtest

import (
	"fmt"
	"strings"
	"time"
)

// state is everything Reset clears. It is guarded by Server.mu.
type state struct {
	nextCustomer int
	customers    map[string]*customer // by customer number
	byLogin      map[string]*customer // by lower-cased login e-mail

	access  map[string]*accessToken
	refresh map[string]*refreshToken
	mailed  map[string]*mailToken
	outbox  []Mail

	socialCodes map[string]SocialCode
	subjects    map[string]Subject
	configs     map[string]bool

	carts map[string]*cart // by cart ID
}

func newState(cfg config) *state {
	st := &state{
		nextCustomer: 13869000,
		customers:    map[string]*customer{},
		byLogin:      map[string]*customer{},
		access:       map[string]*accessToken{},
		refresh:      map[string]*refreshToken{},
		mailed:       map[string]*mailToken{},
		socialCodes:  map[string]SocialCode{},
		subjects:     map[string]Subject{},
		configs:      map[string]bool{},
		carts:        map[string]*cart{},
	}
	for _, name := range cfg.configs {
		st.configs[name] = true
	}
	return st
}

// customer is a stored customer account and profile.
type customer struct {
	number     string
	login      string // login e-mail as given
	password   string // empty for accounts provisioned by social login or exchange
	providerID string // identity provider ID of a social-login account
	active     bool
	onHold     bool
	optIn      bool // waiting for double opt-in

	// profile holds the CustomerCommonDto fields and contactEmail by
	// their JSON names, metadata excluded.
	profile    map[string]any
	metaMixins map[string]any // metadata.mixins
	version    int

	addresses     []*address
	defaultAddr   string
	legalEntities []LegalEntity
	lastLogin     time.Time
}

// address is a stored customer address.
type address struct {
	id         string
	fields     map[string]any // AddressCreateDto strings and mixins by JSON name
	metaMixins map[string]any
	tags       []string
	version    int
}

// LegalEntity is a company a B2B customer is assigned to; see
// [Server.AssignLegalEntity].
type LegalEntity struct {
	// ID is the legal entity's ID, accepted as legalEntityId.
	ID string
	// Name is the company name.
	Name string
	// ContactAssignmentID is the ID of the customer's contact assignment.
	ContactAssignmentID string
}

func loginKey(email string) string { return strings.ToLower(strings.TrimSpace(email)) }

// newCustomer stores a new account. The caller has checked that the login
// is free.
func (st *state) newCustomer(login, password string) *customer {
	st.nextCustomer++
	c := &customer{
		number:   fmt.Sprintf("%08d", st.nextCustomer),
		login:    login,
		password: password,
		active:   true,
		profile:  defaultProfile(login),
		version:  1,
	}
	st.customers[c.number] = c
	st.byLogin[loginKey(login)] = c
	return c
}

func (st *state) customerByLogin(email string) *customer { return st.byLogin[loginKey(email)] }

// setLogin changes a customer's login e-mail.
func (st *state) setLogin(c *customer, email string) {
	delete(st.byLogin, loginKey(c.login))
	c.login = email
	st.byLogin[loginKey(email)] = c
}

func (c *customer) address(id string) *address {
	for _, a := range c.addresses {
		if a.id == id {
			return a
		}
	}
	return nil
}

func (c *customer) str(field string) string {
	s, _ := c.profile[field].(string)
	return s
}

// canLogIn reports whether the account is usable: active, not on hold and
// not waiting for double opt-in.
func (c *customer) canLogIn() bool { return c.active && !c.onHold && !c.optIn }

// Reset forgets all customers, tokens, e-mails, registered social-login
// codes and subject tokens, added exchange configurations, pending faults
// and the request log. The configuration (tenant, credentials, lifetimes,
// sign-up mode, exchange configurations given as options) and the clock
// are kept.
func (s *Server) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.st = newState(s.cfg)
	s.faults = nil
	s.log = nil
}
