// Package emporixtest is an in-process, stateful fake of the Emporix
// Customer Service (customer managed), for testing code that talks to it,
// much as net/http/httptest fakes an HTTP server.
//
// [NewServer] starts it on a loopback port. It serves every operation of
// the customer-managed API (anonymous sessions, sign-up, password, social
// and double opt-in login, token exchange, customer-token refresh,
// validation and logout, the profile, addresses and credentials), plus
// POST /oauth/token (client credentials) and the tenant-managed PATCH
// /customer/{tenant}/customers/{customerNumber} that activates accounts,
// and a small stand-in for the Cart Service (see Carts below).
// It keeps real state: sessions, customers, addresses, tokens that expire
// by a controllable clock, refresh tokens that rotate, e-mailed codes.
// Besides the SDK it uses only the standard library, and it works outside
// tests too. [Server.ClientOptions] wires an SDK client to the fake's URL
// and clock in one call:
//
//	srv := emporixtest.NewServer()
//	defer srv.Close()
//	client, err := emporix.NewClient(srv.Tenant(), srv.ClientID(), srv.ClientOptions()...)
//
// A client of another kind is pointed at srv.URL(), tenant srv.Tenant()
// and storefront client ID srv.ClientID().
//
// # Answers
//
// Status codes, bodies and field names follow the OpenAPI documents:
// ErrorMessage bodies {status, type, message[, details]} for 400, 403,
// 404 and 409; the gateway's 401 body
// {"fault":{"faultstring":...,"detail":{"errorcode":...}}} for unknown,
// revoked and expired tokens ("Invalid access token" /
// oauth.v2.InvalidAccessToken, "Access Token expired" /
// keymanagement.service.access_token_expired); camelCase sessionId in the
// anonymous and validate answers and snake_case session_id in login,
// refresh and exchange answers; string expires_in in the social login
// answer; no body for PATCH (200), 202 and 204. An unknown path answers 404
// and a known path with another method 405 (with Allow), HEAD included:
// the spec documents no HEAD, and several GETs change state.
//
// Where the documents are silent the fake chooses, and says so on the
// handler concerned:
//
//   - A valid token of the wrong kind (a customer token where the anonymous
//     one is required, or the reverse, or either one on the employee
//     PATCH) answers 403 with the spec's 403 example body where the
//     operation documents 403, and otherwise 401 with an ErrorMessage body
//     (type "unauthorized"), never with a gateway error code, since the
//     token itself is fine.
//   - Password login with an unknown e-mail or a wrong password answers 401
//     "Invalid credentials."; with the right password for an inactive, on
//     hold or unconfirmed (double opt-in) account it answers 401 "Customer
//     account is not active." Both are ErrorMessage bodies of type
//     "unauthorized". The spec documents only 400 and 401 for login.
//   - An unknown, spent or expired refresh token answers 401 with an
//     ErrorMessage body. Customer refresh tokens rotate: each refresh
//     spends the one sent. Anonymous refresh answers with the same refresh
//     token, which stays usable until it expires.
//   - A stale metadata.version on PATCH /me, PATCH of an address or the
//     employee PATCH answers 409 conflict_resource (undocumented by the
//     spec for those operations); an omitted version updates
//     unconditionally. Each successful PATCH increments the version.
//   - Request bodies may carry only the fields their schema declares;
//     anything else answers 400 validation_failure. Unsupported request
//     media types answer 415.
//   - E-mailed codes (see [MailKind]) are single-use and expire after
//     Lifetimes.MailToken; using one voids the customer's other codes of
//     that kind. Invalid codes answer 400.
//   - POST /oauth/token answers errors in Apigee's {"ErrorCode","Error"}
//     shape: 401 invalid_client for wrong credentials.
//   - An unknown storefront client_id answers 401 with the gateway fault
//     "Invalid ApiKey" / oauth.v2.InvalidApiKey; a wrong tenant answers 400
//     "The tenant information provided with the request is not valid."
//
// # Carts
//
// Five operations of the Cart Service stand in for a storefront's cart:
// create a cart (POST /cart/{tenant}/carts), find the one cart of a site,
// type and legal entity for a sessionId or customerId (GET
// /cart/{tenant}/carts, create=true included), get a cart by ID, add an
// item (POST .../carts/{cartId}/items, siteCode required; the same product
// at the same price adds to its line) and merge guest carts into the
// customer's (POST .../carts/{cartId}/merge; merged guest carts are gone).
// Errors have the cart document's ErrorMessage shape {code, status,
// message}. Authorization works like the service's:
//
//   - the gateway answers an unknown, revoked or expired bearer with its
//     401 fault, as everywhere;
//   - a guest cart belongs to its session: it is created with the anonymous
//     token and the session-id header (missing: 400; another session's:
//     403), and only a token of that session (the anonymous one, or the
//     customer token of the customer who logged in on it) reaches it;
//   - a customer cart is created with the customer token and the
//     customer's saas-token header (missing: 400; another customer's: 403)
//     and only that customer's token reaches it;
//   - a service token (POST /oauth/token; the document's OAuth2 with
//     cart.cart_manage) reaches every cart, and makes a guest's cart with
//     the session-id header or a customer's with customerId;
//   - a cart the bearer does not reach answers 403 with the spec's 403
//     example, as does a session-id header naming another session than the
//     shopper's token, and a merge into a guest cart or of another
//     session's cart.
//
// Prices are not calculated, products are not looked up (any itemYrn is
// accepted; external items are not), and only one open cart per site,
// type, legal entity and owner exists: creating another answers 409.
// [Server.Carts] lists the stored carts for assertions.
//
// # Test controls
//
// Methods on [Server] steer the fake: [Server.Advance] moves the clock
// every expiry is measured by; [Server.SetLifetimes] changes token
// lifetimes; [Server.SetSignupMode] keeps new accounts inactive
// ([SignupInactive]) or switches to double opt-in ([SignupDoubleOptIn]);
// [Server.ActivateCustomer] activates an account; [Server.Outbox] and
// [Server.LastToken] read the e-mailed codes; [Server.AddSocialCode] and
// [Server.AddSubjectToken] register the external identities social login
// and token exchange accept; [Server.InjectFault] makes the next calls of
// an operation fail, stall or drop the connection; [Server.Requests]
// returns what clients sent, headers and bodies verbatim (Authorization
// included: the tokens are the fake's own); [Server.Reset] forgets all
// state.
//
// # Simplifications
//
// The fake is deliberately smaller than the real service:
//
//   - New sign-ups are active at once by default ([SignupActive]), so a
//     quickstart can log in right after signing up; the tutorial's tenant
//     keeps them inactive, which [SignupInactive] reproduces.
//   - One tenant and one storefront client ID per server; no scopes are
//     checked beyond the token kind, and no tenant configuration exists
//     besides the sign-up mode and the exchange configurations.
//   - Tokens are opaque random strings; SaaS and identity-provider tokens
//     are JWT-shaped with random signatures. The session idle time is
//     reported (3600 for social login, 120 for exchange and service
//     tokens) but not enforced.
//   - Refreshing does not revoke the previous access token: it stays valid
//     until it expires. Logout revokes the access token and its refresh
//     token. Password and e-mail changes and deactivation leave issued
//     tokens valid.
//   - Session context (currency, siteCode, language, targetLocation) is
//     accepted and ignored.
//   - expand=mixin:* is accepted and changes nothing (mixins are always
//     returned). New profiles get the schema defaults en_US, USD and main.
//   - A double opt-in sign-up stores the account at once, inactive, and
//     returns its number; the real service may create it only on opt-in.
//     Opt-in e-mails go to the login e-mail.
//   - Social login and token exchange log in the account with the
//     registered e-mail, or provision a new active account without a
//     password; SSO autoprovisioning cannot be switched off.
//   - The first address of a customer becomes the default one; deleting
//     or un-defaulting the default address leaves none.
//   - Logins are case-insensitive e-mails; nothing checks e-mail syntax.
//   - The clock stands still unless [Server.Advance] or [Server.SetNow]
//     moves it; injected delays use real time.
package emporixtest
