package emporixtest

import (
	"net/http"
	"strings"
)

var signupSchema = schema{
	"email":           {},
	"password":        {},
	"customerDetails": {t: tObject, sub: profileSchema},
	"customerAddress": {t: tObject, sub: signupAddressSchema},
	"signup":          {t: tObject, sub: loginSchema},
}

// defaultProfile is the profile of a new account: the schema defaults and
// the contact e-mail.
func defaultProfile(contactEmail string) map[string]any {
	return map[string]any{
		"contactEmail":      contactEmail,
		"preferredLanguage": "en_US",
		"preferredCurrency": "USD",
		"preferredSite":     "main",
	}
}

// signup serves POST /customer/{tenant}/signup: 201 {"id": customerNumber}.
// customerDetails.contactEmail, when given, must equal email. With a
// signup object, its e-mail and password are the login credentials and
// email stays the contact e-mail. A taken login answers 409 "Duplicate
// account '{email}' for tenant '{tenant}'.". What happens next depends on
// the [SignupMode].
func (s *Server) signup(c *call) reply {
	obj, _, rep := jsonBody(c, signupSchema, true)
	if rep != nil {
		return *rep
	}
	details := requireStrings(obj, "", map[string]int{"password": 1}, "email", "password")
	email := str(obj, "email")
	profile, meta := defaultProfile(email), map[string]any(nil)
	if d := object(obj, "customerDetails"); d != nil {
		if ce := str(d, "contactEmail"); ce != "" && !strings.EqualFold(ce, email) {
			details = append(details, invalidValue("customerDetails.contactEmail", "customerDetails.contactEmail must equal email."))
		}
		var more []errorDetail
		profile, meta, more = patchFields(profile, nil, d, false)
		details = append(details, more...)
		details = append(details, validateProfile(profile, "customerDetails.")...)
	}
	addr := object(obj, "customerAddress")
	if addr != nil {
		details = append(details, validateAddress(addr, "customerAddress.")...)
	}
	login, password := email, str(obj, "password")
	if su := object(obj, "signup"); su != nil {
		details = append(details, requireStrings(su, "signup.", map[string]int{"password": 6}, "email", "password")...)
		login, password = str(su, "email"), str(su, "password")
	}
	if len(details) > 0 {
		return validationFailed(details)
	}
	if s.st.customerByLogin(login) != nil {
		return conflict("Duplicate account '" + login + "' for tenant '" + s.cfg.tenant + "'.")
	}
	cust := s.st.newCustomer(login, password)
	cust.profile, cust.metaMixins = profile, meta
	if addr != nil {
		cust.addAddress(addr)
	}
	switch s.cfg.signupMode {
	case SignupInactive:
		cust.active = false
	case SignupDoubleOptIn:
		cust.active, cust.optIn = false, true
		s.send(MailOptIn, cust.login, cust, "", mailToken{})
	}
	return jsonReply(http.StatusCreated, map[string]string{"id": cust.number})
}

// confirmOptIn serves GET /customer/{tenant}/signup/optin/{token}: it
// activates the account and logs the customer in, keeping the anonymous
// bearer's session. Like the spec's example, the answer has no session_id
// and no initialPassword. An unknown, used or expired token answers 400.
func (s *Server) confirmOptIn(c *call) reply {
	mt := s.redeem(MailOptIn, c.param("token"))
	if mt == nil {
		return badRequest("The opt-in token is invalid or expired.")
	}
	cust := s.st.customers[mt.customer]
	if cust == nil {
		return badRequest("The opt-in token is invalid or expired.")
	}
	s.spend(MailOptIn, cust.number)
	cust.optIn, cust.active = false, true
	tok := s.logIn(cust, c.token.sessionID)
	tok.SessionID = ""
	return jsonReply(http.StatusOK, tok)
}

// resendOptIn serves POST /customer/{tenant}/signup/optin/refresh_token:
// always 202. When the e-mail belongs to an account awaiting opt-in, a new
// token is e-mailed and the earlier ones become invalid.
func (s *Server) resendOptIn(c *call) reply {
	obj, _, rep := jsonBody(c, schema{"email": {}}, true)
	if rep != nil {
		return *rep
	}
	if d := requireStrings(obj, "", nil, "email"); len(d) > 0 {
		return validationFailed(d)
	}
	if cust := s.st.customerByLogin(str(obj, "email")); cust != nil && cust.optIn {
		s.spend(MailOptIn, cust.number)
		s.send(MailOptIn, cust.login, cust, "", mailToken{})
	}
	return empty(http.StatusAccepted)
}
