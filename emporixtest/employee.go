package emporixtest

import (
	"mime"
	"net/http"
	"net/url"
)

// oauthError is the gateway's body for a failed client credentials grant
// (Apigee's GenerateAccessToken errors). The OAuth spec documents no error
// responses.
type oauthError struct {
	ErrorCode string `json:"ErrorCode"`
	Error     string `json:"Error"`
}

// serviceTokenResponse is the OAuth service's AccessToken.
type serviceTokenResponse struct {
	AccessToken           string `json:"access_token"`
	TokenType             string `json:"token_type"`
	ExpiresIn             int64  `json:"expires_in"`
	SessionIdleTime       int64  `json:"session_idle_time"`
	RefreshToken          string `json:"refresh_token"`
	RefreshTokenExpiresIn int64  `json:"refresh_token_expires_in"`
	Scope                 string `json:"scope"`
}

// serviceToken serves POST /oauth/token: a form-encoded client
// credentials grant. A body that is not form-encoded or lacks grant_type
// answers 400 invalid_request, another grant type 400
// unsupported_grant_type, and wrong client credentials 401 invalid_client,
// all as {"ErrorCode","Error"}. There is no refresh token.
func (s *Server) serviceToken(c *call) reply {
	mt, _, err := mime.ParseMediaType(c.req.Header.Get("Content-Type"))
	if err != nil || mt != "application/x-www-form-urlencoded" {
		return jsonReply(http.StatusBadRequest, oauthError{"invalid_request", "The body must be application/x-www-form-urlencoded."})
	}
	form, err := url.ParseQuery(string(c.body))
	if err != nil {
		return jsonReply(http.StatusBadRequest, oauthError{"invalid_request", "Malformed form body."})
	}
	switch form.Get("grant_type") {
	case "client_credentials":
	case "":
		return jsonReply(http.StatusBadRequest, oauthError{"invalid_request", "Missing grant_type."})
	default:
		return jsonReply(http.StatusBadRequest, oauthError{"unsupported_grant_type", "Unsupported grant type : " + form.Get("grant_type")})
	}
	if form.Get("client_id") != s.cfg.serviceID || form.Get("client_secret") != s.cfg.serviceSecret {
		return jsonReply(http.StatusUnauthorized, oauthError{"invalid_client", "ClientId is Invalid"})
	}
	scope := form.Get("scope")
	if scope == "" {
		scope = "tenant=" + s.cfg.tenant + " customer.customer_manage customer.customer_read"
	}
	at := &accessToken{
		value: randomText(32), kind: KindService,
		expires: s.now().Add(s.cfg.lifetimes.ServiceAccess), scope: scope,
	}
	s.st.access[at.value] = at
	return jsonReply(http.StatusOK, serviceTokenResponse{
		AccessToken: at.value, TokenType: "Bearer", ExpiresIn: s.remaining(at.expires),
		SessionIdleTime: 120, RefreshToken: "", RefreshTokenExpiresIn: 0, Scope: scope,
	})
}

// sellerPatchSchema is CustomerPatchBySellerDto.
var sellerPatchSchema = profileSchema.with(schema{"active": {t: tBool}, "onHold": {t: tBool}})

// customerNotFound is the tenant-managed spec's 404_customer example,
// including its odd type.
func customerNotFound(number string) reply {
	return errReply(http.StatusNotFound, "application/json", "Customer not Found",
		errorDetail{Message: "Couldn't find a customer with customerNumber '" + number + "'"})
}

// patchCustomerBySeller serves the tenant-managed PATCH
// /customer/{tenant}/customers/{customerNumber}, authorized by a service
// token: application/json (CustomerPatchBySellerDto, which has active and
// onHold) or application/merge-patch+json (CustomerPatchDto, which has
// not). Activating an account also ends a pending double opt-in. The
// answer is 200 without a body; an unknown customer answers 404.
func (s *Server) patchCustomerBySeller(c *call) reply {
	cust := s.st.customers[c.param("customerNumber")]
	if cust == nil {
		return customerNotFound(c.param("customerNumber"))
	}
	sch := sellerPatchSchema
	if mt, _, _ := mime.ParseMediaType(c.req.Header.Get("Content-Type")); mt == "application/merge-patch+json" {
		sch = profileSchema
	}
	obj, mt, rep := jsonBody(c, sch, false, "application/json", "application/merge-patch+json")
	if rep != nil {
		return *rep
	}
	active, hasActive := obj["active"].(bool)
	onHold, hasOnHold := obj["onHold"].(bool)
	delete(obj, "active")
	delete(obj, "onHold")
	if rep := cust.applyPatch(obj, mt == "application/merge-patch+json"); rep != nil {
		return *rep
	}
	if hasActive {
		cust.active = active
		if active {
			cust.optIn = false
		}
	}
	if hasOnHold {
		cust.onHold = onHold
	}
	return empty(http.StatusOK)
}
