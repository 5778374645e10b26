package emporix

// kindError is a refusal before sending for want of the right token: it
// matches its sentinel (ErrNoToken, ErrAnonymousTokenRequired or
// ErrCustomerTokenRequired) and says what to do, since the usual cause is
// a client built with the wrong token source (client.WithToken(customer)
// for a login, which the anonymous token authorizes).
type kindError struct {
	err  error
	hint string
}

func (e *kindError) Error() string { return e.err.Error() + ": " + e.hint }

func (e *kindError) Unwrap() error { return e.err }

// The refusals, made once: they carry nothing of the call.
var (
	errNoTokenSource = &kindError{ErrNoToken,
		"the client has no token source; derive one per shopper with client.WithTokenSource(StaticTokens(anonymous, customer)), or use a Session"}
	errEmptyToken = &kindError{ErrNoToken,
		"the token source gave no access token"}
	errNoStaticToken = &kindError{ErrNoToken,
		"the static token source was given no token; pass the shopper's tokens to StaticTokens(anonymous, customer), or use a Session"}
	errSessionNotLoggedIn = &kindError{ErrCustomerTokenRequired,
		"the session has no logged-in customer; log in with Session.Login first"}
	errAnonymousMissing = &kindError{ErrAnonymousTokenRequired,
		"this call is authorized with the shopper's anonymous token; use StaticTokens(anonymous, nil) or a Session"}
	errAnonymousNotCustomer = &kindError{ErrAnonymousTokenRequired,
		"this call is authorized with the shopper's anonymous token, not the customer token; use StaticTokens(anonymous, customer) or a Session"}
	errCustomerMissing = &kindError{ErrCustomerTokenRequired,
		"this call needs the logged-in customer's token, and the client has only the anonymous one; log in, then use StaticTokens(anonymous, customer) or a Session"}
)
