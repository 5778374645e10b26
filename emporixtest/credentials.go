package emporixtest

import (
	"net/http"
	"strings"
)

// minPassword is the shortest password the service lets anyone log in
// with (PasswordAuthentication.password minLength), so the fake refuses to
// set a shorter one.
const minPassword = 6

var (
	passwordChangeSchema = schema{"currentPassword": {}, "newPassword": {}}
	resetRequestSchema   = schema{"email": {}, "site": {}}
	resetSchema          = schema{"token": {}, "password": {}}
	emailChangeSchema    = schema{"email": {}, "password": {}, "newEmail": {}, "syncContactEmail": {t: tBool}}
	emailConfirmSchema   = schema{"token": {}}
)

// changePassword serves POST /customer/{tenant}/password/change:
// currentPassword must match (400 otherwise). Tokens already issued stay
// valid.
func (s *Server) changePassword(c *call) reply {
	obj, _, rep := jsonBody(c, passwordChangeSchema, true)
	if rep != nil {
		return *rep
	}
	if d := requireStrings(obj, "", map[string]int{"newPassword": minPassword}, "currentPassword", "newPassword"); len(d) > 0 {
		return validationFailed(d)
	}
	cust := s.me(c)
	if cust.password == "" || cust.password != str(obj, "currentPassword") {
		return badRequest("The current password is not correct.")
	}
	cust.password = str(obj, "newPassword")
	return empty(http.StatusNoContent)
}

// requestPasswordReset serves POST /customer/{tenant}/password/reset:
// always 204, so the answer reveals nothing about registered e-mails. Only
// an existing account gets a MailPasswordReset e-mail.
func (s *Server) requestPasswordReset(c *call) reply {
	obj, _, rep := jsonBody(c, resetRequestSchema, true)
	if rep != nil {
		return *rep
	}
	if d := requireStrings(obj, "", nil, "email"); len(d) > 0 {
		return validationFailed(d)
	}
	if cust := s.st.customerByLogin(str(obj, "email")); cust != nil {
		s.send(MailPasswordReset, cust.login, cust, str(obj, "site"), mailToken{})
	}
	return empty(http.StatusNoContent)
}

// resetPassword serves POST /customer/{tenant}/password/reset/update: an
// unknown, used or expired token answers 400. Success voids the customer's
// other reset tokens.
func (s *Server) resetPassword(c *call) reply {
	obj, _, rep := jsonBody(c, resetSchema, true)
	if rep != nil {
		return *rep
	}
	if d := requireStrings(obj, "", map[string]int{"password": minPassword}, "token", "password"); len(d) > 0 {
		return validationFailed(d)
	}
	mt := s.redeem(MailPasswordReset, str(obj, "token"))
	if mt == nil || s.st.customers[mt.customer] == nil {
		return badRequest("The password reset token is invalid or expired.")
	}
	s.spend(MailPasswordReset, mt.customer)
	s.st.customers[mt.customer].password = str(obj, "password")
	return empty(http.StatusNoContent)
}

// requestEmailChange serves POST
// /customer/{tenant}/me/accounts/internal/email/change: email must be the
// current login e-mail and password its password (400 otherwise); a
// newEmail another account logs in with answers 400. The token goes to the
// new address (MailEmailChange).
func (s *Server) requestEmailChange(c *call) reply {
	obj, _, rep := jsonBody(c, emailChangeSchema, true)
	if rep != nil {
		return *rep
	}
	if d := requireStrings(obj, "", nil, "email", "password", "newEmail"); len(d) > 0 {
		return validationFailed(d)
	}
	cust := s.me(c)
	if !strings.EqualFold(str(obj, "email"), cust.login) || cust.password == "" || cust.password != str(obj, "password") {
		return badRequest("The e-mail or password is not correct.")
	}
	newEmail := str(obj, "newEmail")
	if other := s.st.customerByLogin(newEmail); other != nil && other != cust {
		return badRequest("Duplicate account '" + newEmail + "' for tenant '" + s.cfg.tenant + "'.")
	}
	sync, _ := obj["syncContactEmail"].(bool)
	s.send(MailEmailChange, newEmail, cust, "", mailToken{newEmail: newEmail, sync: sync})
	return empty(http.StatusNoContent)
}

// confirmEmailChange serves POST
// /customer/{tenant}/me/accounts/internal/email/change/confirm, authorized
// by the anonymous bearer: the login e-mail becomes the new one (and the
// contact e-mail too when syncContactEmail was set, which increments the
// profile version). An unknown, used or expired token answers 400.
func (s *Server) confirmEmailChange(c *call) reply {
	obj, _, rep := jsonBody(c, emailConfirmSchema, true)
	if rep != nil {
		return *rep
	}
	if d := requireStrings(obj, "", nil, "token"); len(d) > 0 {
		return validationFailed(d)
	}
	mt := s.redeem(MailEmailChange, str(obj, "token"))
	cust := (*customer)(nil)
	if mt != nil {
		cust = s.st.customers[mt.customer]
	}
	if cust == nil {
		return badRequest("The e-mail change token is invalid or expired.")
	}
	if other := s.st.customerByLogin(mt.newEmail); other != nil && other != cust {
		return badRequest("Duplicate account '" + mt.newEmail + "' for tenant '" + s.cfg.tenant + "'.")
	}
	s.spend(MailEmailChange, cust.number)
	s.st.setLogin(cust, mt.newEmail)
	if mt.sync {
		cust.profile["contactEmail"] = mt.newEmail
		cust.version++
	}
	return empty(http.StatusNoContent)
}
