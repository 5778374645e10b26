package emporix

import (
	"context"
	"encoding/json"
	"net/url"
	"time"
)

// EmployeeService holds the employee operations a storefront backend may
// need around sign-up. They are not shopper operations: they use the
// tenant's service credentials (a client ID and secret with the
// customer.customer_manage scope), which must never reach a browser.
type EmployeeService service

var (
	opServiceToken     = op("POST-oauth-request-client-credentials")
	opActivateCustomer = op("PATCH-customer-tenant-update-customer")
)

// ServiceCredentials are the tenant's API credentials for the client
// credentials grant.
type ServiceCredentials struct {
	ClientID     string `validate:"required"`
	ClientSecret Secret `validate:"required"`
	// Scope optionally narrows the token, such as "tenant=mytenant customer.customer_manage".
	Scope string
}

// ServiceToken obtains a service access token with the client credentials
// grant. There is no refresh: request a new token when it expires.
//
// Emporix API: POST /oauth/token (OAuth Service), form-encoded. Needs no token.
func (s *EmployeeService) ServiceToken(ctx context.Context, creds *ServiceCredentials) (*Token, error) {
	if err := checkFields("ServiceCredentials", creds); err != nil {
		return nil, err
	}
	c := s.client
	k := c.newCall(opServiceToken)
	form := url.Values{
		"grant_type":    {"client_credentials"},
		"client_id":     {creds.ClientID},
		"client_secret": {string(creds.ClientSecret)},
	}
	setIf(form, "scope", creds.Scope)
	k.body, k.contentType = []byte(form.Encode()), contentForm
	k.hideIn(creds)
	resp, err := c.do(ctx, k)
	if err != nil {
		return nil, err
	}
	tok, err := c.doToken(k, resp, KindService)
	if err != nil {
		return nil, err
	}
	// The OAuth service reports refresh_token "" with a zero lifetime:
	// there is nothing to refresh with, so no refresh expiry either.
	if tok.RefreshToken == "" {
		tok.RefreshExpiry = time.Time{}
	}
	return tok, nil
}

// ActivateCustomer activates a self-signed-up customer account on tenants
// that keep new accounts inactive, sending {"active":true,"onHold":false}.
// serviceToken must come from [EmployeeService.ServiceToken].
//
// Emporix API: PATCH /customer/{tenant}/customers/{customerNumber}
// (Customer Service, tenant managed). Needs a service token with
// customer.customer_manage.
func (s *EmployeeService) ActivateCustomer(ctx context.Context, serviceToken *Token, customerNumber string) error {
	if serviceToken == nil || serviceToken.AccessToken == "" {
		return invalid("serviceToken", "a service access token is required")
	}
	if serviceToken.Kind == KindAnonymous || serviceToken.Kind == KindCustomer {
		return invalid("serviceToken", "must be a service token, not a "+serviceToken.Kind.String()+" token")
	}
	if err := requirePathParam("customerNumber", customerNumber); err != nil {
		return err
	}
	c := s.client
	k := c.newCall(opActivateCustomer, customerNumber)
	k.token = serviceToken
	body, _ := json.Marshal(struct {
		Active bool `json:"active"`
		OnHold bool `json:"onHold"`
	}{Active: true, OnHold: false})
	k.body, k.contentType = body, contentJSON
	return c.doNoContent(ctx, k)
}
