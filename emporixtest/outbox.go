package emporixtest

import (
	"strings"
	"time"
)

// MailKind is the kind of e-mail the fake "sends".
type MailKind string

// Mail kinds.
const (
	// MailPasswordReset carries a token for POST
	// /customer/{tenant}/password/reset/update.
	MailPasswordReset MailKind = "password-reset"
	// MailEmailChange carries a token for POST
	// /customer/{tenant}/me/accounts/internal/email/change/confirm. It is
	// sent to the new address.
	MailEmailChange MailKind = "email-change"
	// MailOptIn carries a double opt-in token for GET
	// /customer/{tenant}/signup/optin/{token}.
	MailOptIn MailKind = "opt-in"
)

// Mail is an e-mail the fake would have sent: the real service mails these
// tokens to the customer, the fake puts them in an outbox for the test.
type Mail struct {
	// Kind tells what the token is for.
	Kind MailKind
	// To is the recipient: the login e-mail, or the new e-mail for
	// MailEmailChange.
	To string
	// Token is the code the customer would click or type.
	Token string
	// CustomerNumber is the account the token acts on.
	CustomerNumber string
	// Site is the site given with a password reset request, if any.
	Site string
	// Sent is the fake clock's time of sending; the token expires
	// Lifetimes.MailToken later.
	Sent time.Time
}

// mailToken is the server side of an e-mailed token.
type mailToken struct {
	kind     MailKind
	customer string
	expires  time.Time
	newEmail string // MailEmailChange
	sync     bool   // MailEmailChange: also change the contact e-mail
}

// send e-mails a new token and returns it.
func (s *Server) send(kind MailKind, to string, cust *customer, site string, extra mailToken) string {
	token := randomText(64)
	extra.kind, extra.customer = kind, cust.number
	extra.expires = s.now().Add(s.cfg.lifetimes.MailToken)
	s.st.mailed[token] = &extra
	s.st.outbox = append(s.st.outbox, Mail{
		Kind: kind, To: to, Token: token, CustomerNumber: cust.number, Site: site, Sent: s.now(),
	})
	return token
}

// redeem looks up an e-mailed token of kind. Expired tokens are removed.
// Once the caller has acted on it, it calls spend.
func (s *Server) redeem(kind MailKind, token string) *mailToken {
	mt := s.st.mailed[token]
	if mt == nil || mt.kind != kind {
		return nil
	}
	if s.expired(mt.expires) {
		delete(s.st.mailed, token)
		return nil
	}
	return mt
}

// spend invalidates every token of kind for the customer: using one
// reset token, for example, voids the other outstanding ones.
func (s *Server) spend(kind MailKind, customerNumber string) {
	for k, mt := range s.st.mailed {
		if mt.kind == kind && mt.customer == customerNumber {
			delete(s.st.mailed, k)
		}
	}
}

// Outbox returns the e-mails sent to email (case-insensitively), oldest
// first; with email "" it returns all of them.
func (s *Server) Outbox(email string) []Mail {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Mail
	for _, m := range s.st.outbox {
		if email == "" || strings.EqualFold(m.To, email) {
			out = append(out, m)
		}
	}
	return out
}

// LastToken returns the token of the newest e-mail of kind sent to email,
// or "" when there is none.
func (s *Server) LastToken(kind MailKind, email string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := len(s.st.outbox) - 1; i >= 0; i-- {
		if m := s.st.outbox[i]; m.Kind == kind && strings.EqualFold(m.To, email) {
			return m.Token
		}
	}
	return ""
}
