package main

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/emporix-go/emporix"
)

// tour is the state the tutorial steps share: the shopper's session, the
// new customer and the address and carts it creates. The tokens live in the
// session, which renews them; nothing secret is ever printed.
type tour struct {
	cfg    config
	out    io.Writer
	client *emporix.Client
	sess   *emporix.Session

	email, newEmail string
	password        string

	customerNumber string
	activated      bool
	version        int
	addressID      string
	guestCartID    string
}

type step struct {
	name string
	run  func(context.Context) error
}

// steps lists the tutorial in order.
func (t *tour) steps() []step {
	return []step{
		{"anonymous token", t.anonymousToken},
		{"anonymous refresh", t.anonymousRefresh},
		{"sign-up", t.signup},
		{"activation", t.activate},
		{"guest cart", t.guestCart},
		{"login", t.login},
		{"cart merge", t.cartMerge},
		{"validate", t.validate},
		{"profile read", t.profileRead},
		{"profile update", t.profileUpdate},
		{"address create", t.addressCreate},
		{"address list", t.addressList},
		{"address get", t.addressGet},
		{"address update", t.addressUpdate},
		{"address add tags", t.addressAddTags},
		{"address remove tags", t.addressRemoveTags},
		{"address delete", t.addressDelete},
		{"customer-token refresh", t.customerRefresh},
		{"password change", t.passwordChange},
		{"password-reset request", t.passwordResetRequest},
		{"e-mail change request", t.emailChangeRequest},
		{"logout", t.logout},
	}
}

// say prints one detail of a step.
func (t *tour) say(label string, format string, args ...any) {
	if label != "" {
		label += ":"
	}
	fmt.Fprintf(t.out, "    %-22s %s\n", label, fmt.Sprintf(format, args...))
}

// shopper is the client of the shopper's session: it authorizes each call
// with the customer token once logged in, and with the anonymous token for
// the operations Emporix authorizes with it, renewing either when due.
func (t *tour) shopper() *emporix.Client { return t.sess.Client() }

// until prints the time left until deadline, such as "59m59s" or
// "29d23h59m59s".
func until(deadline time.Time) string {
	if deadline.IsZero() {
		return "unknown"
	}
	d := time.Until(deadline).Round(time.Second)
	if days := d / (24 * time.Hour); days > 0 {
		return fmt.Sprintf("%dd%s", days, d-days*24*time.Hour)
	}
	return d.String()
}

// 1. A visitor arrives: the session logs in anonymously (Auth.AnonymousLogin)
// and keeps the anonymous token with its session ID.
func (t *tour) anonymousToken(ctx context.Context) error {
	tok, err := t.sess.AnonymousToken(ctx)
	if err != nil {
		return err
	}
	t.say("session ID", "%s", tok.SessionID)
	t.say("token valid for", "%s (refresh token: %s)", until(tok.Expiry), until(tok.RefreshExpiry))
	return nil
}

// 2. Refresh it with its refresh token (Auth.AnonymousRefresh): the session
// does so on its own before the token expires, and at once when the service
// rejects it, as InvalidateToken tells it here. The session ID stays.
func (t *tour) anonymousRefresh(ctx context.Context) error {
	old, err := t.sess.AnonymousToken(ctx)
	if err != nil {
		return err
	}
	if err := t.sess.InvalidateToken(ctx, old); err != nil {
		return err
	}
	tok, err := t.sess.AnonymousToken(ctx)
	if err != nil {
		return err
	}
	t.say("session ID", "%s (same as before: %t)", tok.SessionID, tok.SessionID == old.SessionID)
	t.say("new access token", "%t, valid for %s", tok.AccessToken != old.AccessToken, until(tok.Expiry))
	return nil
}

// 3. Create the account, authorized with the anonymous token.
func (t *tour) signup(ctx context.Context) error {
	number, err := t.shopper().Auth.Signup(ctx, &emporix.SignupRequest{
		Email:    t.email,
		Password: emporix.Secret(t.password),
		CustomerDetails: &emporix.CustomerDetails{
			Title: "MR", FirstName: "John", LastName: "Doe",
			ContactEmail: t.email, ContactPhone: "123456789", Company: "Emporix",
			PreferredLanguage: "en_US", PreferredCurrency: "EUR",
		},
		CustomerAddress: &emporix.Address{
			ContactName: "John Doe", CompanyName: "Emporix",
			Street: "Platz der Republik", StreetNumber: "1", ZipCode: "11011",
			City: "Berlin", Country: "DE", State: "Berlin", ContactPhone: "123456789",
			Tags: []string{emporix.TagBilling, emporix.TagShipping},
		},
	})
	if err != nil {
		return err
	}
	t.customerNumber = number
	t.say("customer number", "%s", number)
	t.say("e-mail", "%s", t.email)
	return nil
}

// 4. Activate it as an employee, with the tenant's service credentials.
func (t *tour) activate(ctx context.Context) error {
	if !t.cfg.canActivate() {
		t.say("skipped", "no EMPORIX_SERVICE_CLIENT_ID/EMPORIX_SERVICE_CLIENT_SECRET given;")
		t.say("", "only tenants that keep sign-ups active can log in next")
		return nil
	}
	svc, err := t.client.Employee.ServiceToken(ctx, &emporix.ServiceCredentials{
		ClientID: t.cfg.ServiceClientID, ClientSecret: emporix.Secret(t.cfg.ServiceClientSecret),
	})
	if err != nil {
		return fmt.Errorf("service token: %w", err)
	}
	t.say("service token", "obtained, valid for %s", until(svc.Expiry))
	if err := t.client.Employee.ActivateCustomer(ctx, svc, t.customerNumber); err != nil {
		return fmt.Errorf("activating customer %s: %w", t.customerNumber, err)
	}
	t.activated = true
	t.say("customer", "%s is active", t.customerNumber)
	return nil
}

// 6. Log in with the anonymous token: the session (and guest cart) carries
// over, and the session keeps the customer token.
func (t *tour) login(ctx context.Context) error {
	anon, err := t.sess.AnonymousToken(ctx)
	if err != nil {
		return err
	}
	tok, err := t.sess.Login(ctx, &emporix.LoginRequest{Email: t.email, Password: emporix.Secret(t.password)})
	if err != nil {
		if !t.activated && errors.Is(err, emporix.ErrUnauthorized) {
			return fmt.Errorf("%w (the new account may need activation: set EMPORIX_SERVICE_CLIENT_ID and EMPORIX_SERVICE_CLIENT_SECRET)", err)
		}
		return err
	}
	t.say("session ID", "%s (carried over from the anonymous session: %t)", tok.SessionID, tok.SessionID == anon.SessionID)
	t.say("customer token", "valid for %s", until(tok.Expiry))
	t.say("SaaS token received", "%t", tok.SaasToken != "")
	return nil
}

// 8. Ask the service about the customer token.
func (t *tour) validate(ctx context.Context) error {
	info, err := t.shopper().Auth.Validate(ctx)
	if err != nil {
		return err
	}
	t.say("e-mail", "%s", info.Email)
	t.say("session ID", "%s", info.SessionID)
	t.say("valid for", "%s", until(info.Expiry))
	t.say("scopes", "%d", len(strings.Fields(info.Scope)))
	return nil
}

// 9. Read the profile with its addresses and mixins.
func (t *tour) profileRead(ctx context.Context) error {
	p, err := t.shopper().Profile.Get(ctx, &emporix.ProfileGetOptions{Expand: []string{"addresses", "mixin:*"}})
	if err != nil {
		return err
	}
	t.version = p.Version()
	t.say("customer number", "%s", p.CustomerNumber)
	t.say("name", "%s %s %s", p.Title, p.FirstName, p.LastName)
	t.say("contact e-mail", "%s", p.ContactEmail)
	t.say("addresses", "%d", len(p.Addresses))
	t.say("metadata.version", "%d", p.Version())
	return nil
}

// 10. Update it, sending back metadata.version for optimistic locking: a
// stale version would fail with ErrConflict.
func (t *tour) profileUpdate(ctx context.Context) error {
	me := t.shopper()
	err := me.Profile.Update(ctx, &emporix.ProfileUpdate{
		ContactPhone: emporix.Ptr("+49 30 1234567"),
		Company:      emporix.Ptr("Emporix Go SDK"),
		Metadata:     &emporix.Metadata{Version: t.version},
	})
	if err != nil {
		return err
	}
	p, err := me.Profile.Get(ctx, nil)
	if err != nil {
		return fmt.Errorf("reading the updated profile: %w", err)
	}
	t.say("contact phone", "%s", p.ContactPhone)
	t.say("company", "%s", p.Company)
	t.say("metadata.version", "%d -> %d", t.version, p.Version())
	t.version = p.Version()
	return nil
}

func (t *tour) showAddress(ctx context.Context, what string) error {
	a, err := t.shopper().Addresses.Get(ctx, t.addressID)
	if err != nil {
		return fmt.Errorf("reading address %s: %w", t.addressID, err)
	}
	t.say(what, "%s", describe(a))
	return nil
}

func describe(a *emporix.Address) string {
	s := fmt.Sprintf("%s, %s %s, %s %s %s, tags %v", a.ContactName, a.Street, a.StreetNumber, a.ZipCode, a.City, a.Country, a.Tags)
	if a.StreetAppendix != "" {
		s += ", appendix " + a.StreetAppendix
	}
	if a.IsDefault {
		s += ", default"
	}
	return s
}

// 11. Add a shipping address.
func (t *tour) addressCreate(ctx context.Context) error {
	id, err := t.shopper().Addresses.Create(ctx, &emporix.AddressCreate{
		ContactName: "John Doe", CompanyName: "Emporix",
		Street: "Unter den Linden", StreetNumber: "77", ZipCode: "10117",
		City: "Berlin", Country: "DE", State: "Berlin", ContactPhone: "123456789",
		Tags: []string{emporix.TagShipping},
	})
	if err != nil {
		return err
	}
	t.addressID = id
	t.say("address ID", "%s", id)
	return nil
}

// 12. List all addresses: the one from the sign-up and the new one.
func (t *tour) addressList(ctx context.Context) error {
	list, err := t.shopper().Addresses.List(ctx)
	if err != nil {
		return err
	}
	t.say("addresses", "%d", len(list))
	for _, a := range list {
		t.say("  "+a.ID, "%s", describe(&a))
	}
	return nil
}

// 13. Read one address.
func (t *tour) addressGet(ctx context.Context) error { return t.showAddress(ctx, "address") }

// 14. Change the street number and appendix.
func (t *tour) addressUpdate(ctx context.Context) error {
	err := t.shopper().Addresses.Update(ctx, t.addressID, &emporix.AddressUpdate{
		StreetNumber: emporix.Ptr("78"), StreetAppendix: emporix.Ptr("Hinterhaus"),
	})
	if err != nil {
		return err
	}
	return t.showAddress(ctx, "updated")
}

// 15. Tag it for billing too, and with a custom tag.
func (t *tour) addressAddTags(ctx context.Context) error {
	if err := t.shopper().Addresses.AddTags(ctx, t.addressID, emporix.TagBilling, "CUSTOM"); err != nil {
		return err
	}
	return t.showAddress(ctx, "tagged")
}

// 16. Remove the custom tag.
func (t *tour) addressRemoveTags(ctx context.Context) error {
	if err := t.shopper().Addresses.RemoveTags(ctx, t.addressID, "CUSTOM"); err != nil {
		return err
	}
	return t.showAddress(ctx, "untagged")
}

// 17. Delete it; reading it afterwards answers 404.
func (t *tour) addressDelete(ctx context.Context) error {
	me := t.shopper()
	if err := me.Addresses.Delete(ctx, t.addressID); err != nil {
		return err
	}
	_, err := me.Addresses.Get(ctx, t.addressID)
	switch {
	case errors.Is(err, emporix.ErrNotFound):
		t.say("deleted", "%s (reading it now answers 404)", t.addressID)
		return nil
	case err == nil:
		return fmt.Errorf("address %s can still be read after deletion", t.addressID)
	default:
		return fmt.Errorf("reading the deleted address: %w", err)
	}
}

// 18. Renew the customer token (Auth.RefreshCustomer, authorized with the
// anonymous token). The session does so when the token is due or rejected,
// and keeps the rotated refresh token; InvalidateToken asks for it here.
func (t *tour) customerRefresh(ctx context.Context) error {
	old, err := t.sess.Token(ctx)
	if err != nil {
		return err
	}
	if err := t.sess.InvalidateToken(ctx, old); err != nil {
		return err
	}
	tok, err := t.sess.Token(ctx)
	if err != nil {
		return err
	}
	t.say("session ID", "%s (same as before: %t)", tok.SessionID, tok.SessionID == old.SessionID)
	t.say("new access token", "%t, valid for %s", tok.AccessToken != old.AccessToken, until(tok.Expiry))
	return nil
}

// 19. Change the password while logged in.
func (t *tour) passwordChange(ctx context.Context) error {
	next := rand.Text()
	err := t.shopper().Credentials.ChangePassword(ctx, &emporix.PasswordChange{
		CurrentPassword: emporix.Secret(t.password), NewPassword: emporix.Secret(next),
	})
	if err != nil {
		return err
	}
	t.password = next
	t.say("password", "changed (neither password is printed)")
	return nil
}

// 20. Ask for a password-reset e-mail, authorized with the anonymous token.
func (t *tour) passwordResetRequest(ctx context.Context) error {
	err := t.shopper().Credentials.RequestPasswordReset(ctx, &emporix.PasswordResetRequest{Email: t.email})
	if err != nil {
		return err
	}
	t.say("reset e-mail", "requested for %s", t.email)
	t.say("", "(the service answers alike whether or not the account exists)")
	return nil
}

// 21. Ask to change the login e-mail; the change takes effect once the
// token mailed to the new address is confirmed.
func (t *tour) emailChangeRequest(ctx context.Context) error {
	err := t.shopper().Credentials.RequestEmailChange(ctx, &emporix.EmailChangeRequest{
		Email: t.email, Password: emporix.Secret(t.password), NewEmail: t.newEmail, SyncContactEmail: true,
	})
	if err != nil {
		return err
	}
	t.say("confirmation e-mail", "requested for %s", t.newEmail)
	return nil
}

// 22. Log out (Auth.Logout): the customer token is invalidated on the
// server and the session ends.
func (t *tour) logout(ctx context.Context) error {
	cust, err := t.sess.Token(ctx)
	if err != nil {
		return err
	}
	if err := t.sess.Logout(ctx); err != nil {
		return err
	}
	_, err = t.client.WithToken(cust).Auth.Validate(ctx)
	switch {
	case errors.Is(err, emporix.ErrUnauthorized):
		t.say("customer token", "invalidated (validating it now answers 401)")
		return nil
	case err == nil:
		return errors.New("the customer token is still valid after logout")
	default:
		return fmt.Errorf("validating the logged-out token: %w", err)
	}
}
