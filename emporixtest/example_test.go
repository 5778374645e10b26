package emporixtest_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/emporix-go/emporix/emporixtest"
)

// Start a fake, point a client at it, and request an anonymous token.
func Example() {
	srv := emporixtest.NewServer(emporixtest.WithTenant("mytenant"))
	defer srv.Close()

	fmt.Println("tenant:", srv.Tenant())
	fmt.Println("URL shape ok:", regexp.MustCompile(`^http://127\.0\.0\.1:\d+$`).MatchString(srv.URL()))

	q := url.Values{"tenant": {srv.Tenant()}, "client_id": {srv.ClientID()}}
	res, err := srv.Client().Get(srv.URL() + "/customerlogin/auth/anonymous/login?" + q.Encode())
	if err != nil {
		panic(err)
	}
	defer res.Body.Close()
	var tok struct {
		TokenType string `json:"token_type"`
		ExpiresIn int    `json:"expires_in"`
		Scope     string `json:"scope"`
	}
	if err := json.NewDecoder(res.Body).Decode(&tok); err != nil {
		panic(err)
	}
	fmt.Println(res.StatusCode, tok.TokenType, tok.ExpiresIn, tok.Scope)
	// Output:
	// tenant: mytenant
	// URL shape ok: true
	// 200 Bearer 3599 tenant=mytenant
}

// Make the next sign-up fail with a 503 that asks the client to wait.
func ExampleServer_InjectFault() {
	srv := emporixtest.NewServer()
	defer srv.Close()
	srv.InjectFault("POST-customer-create-customer-account", emporixtest.Fault{
		Status: http.StatusServiceUnavailable, RetryAfter: 2 * time.Second,
	})
	req, _ := http.NewRequest("POST", srv.URL()+"/customer/"+srv.Tenant()+"/signup",
		strings.NewReader(`{"email":"a@example.com","password":"password123"}`))
	res, err := srv.Client().Do(req)
	if err != nil {
		panic(err)
	}
	res.Body.Close()
	fmt.Println(res.StatusCode, res.Header.Get("Retry-After"))
	// Output: 503 2
}

// Read the token a password reset request "e-mails".
func ExampleServer_LastToken() {
	srv := emporixtest.NewServer()
	defer srv.Close()
	if _, err := srv.AddCustomer("jane@example.com", "password123"); err != nil {
		panic(err)
	}
	// The code under test would do this: an anonymous token, then the
	// reset request.
	q := url.Values{"tenant": {srv.Tenant()}, "client_id": {srv.ClientID()}}
	res, err := srv.Client().Get(srv.URL() + "/customerlogin/auth/anonymous/login?" + q.Encode())
	if err != nil {
		panic(err)
	}
	var anon struct {
		AccessToken string `json:"access_token"`
	}
	_ = json.NewDecoder(res.Body).Decode(&anon)
	res.Body.Close()
	req, _ := http.NewRequest("POST", srv.URL()+"/customer/"+srv.Tenant()+"/password/reset",
		strings.NewReader(`{"email":"jane@example.com"}`))
	req.Header.Set("Authorization", "Bearer "+anon.AccessToken)
	req.Header.Set("Content-Type", "application/json")
	if res, err = srv.Client().Do(req); err != nil {
		panic(err)
	}
	res.Body.Close()

	token := srv.LastToken(emporixtest.MailPasswordReset, "jane@example.com")
	fmt.Println(res.StatusCode, len(token))
	// Output: 204 64
}
