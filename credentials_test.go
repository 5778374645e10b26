package emporix

import (
	"context"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"
)

const (
	emailChangePath        = "/customer/mytenant/me/accounts/internal/email/change"
	emailChangeConfirmPath = "/customer/mytenant/me/accounts/internal/email/change/confirm"
	passwordResetPath      = "/customer/mytenant/password/reset"
	passwordResetUpdPath   = "/customer/mytenant/password/reset/update"
	passwordChangePath     = "/customer/mytenant/password/change"

	// emailToken is the spec's example of an e-mailed token.
	emailToken = "beExUmshJC5gnuXk1kET5dCLyQWkrAfKRGFOxVXLcJI13R1fn5USjaWku5G71whM"
)

// ---- RequestEmailChange ----

func TestCredentialsRequestEmailChange(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   *EmailChangeRequest
		want string
	}{
		{
			name: "spec example",
			in: &EmailChangeRequest{Email: "example@customer.com", Password: "password123",
				NewEmail: "example@emporix.com", SyncContactEmail: true},
			want: `{"email":"example@customer.com","password":"password123","newEmail":"example@emporix.com","syncContactEmail":true}`,
		},
		{
			name: "sync false is sent",
			in:   &EmailChangeRequest{Email: "a@b.c", Password: secretPassword, NewEmail: "d@e.f"},
			want: `{"email":"a@b.c","password":"PASSWORD-s3cr3t","newEmail":"d@e.f","syncContactEmail":false}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, mt := newTestClient(t)
			sent := serve(t, mt, http.MethodPost, emailChangePath, reply{status: http.StatusNoContent})
			require.NoError(t, c.Credentials.RequestEmailChange(context.Background(), tt.in))
			assertRequest(t, only(t, sent), wantRequest{
				method: http.MethodPost, path: emailChangePath, auth: "Bearer " + custAccess,
				contentType: "application/json", body: tt.want,
			})
		})
	}
}

func TestCredentialsRequestEmailChange_InvalidInput(t *testing.T) {
	t.Parallel()
	type edit = func(r *EmailChangeRequest) *EmailChangeRequest
	runInvalid(t, func(c *Client, in edit) (any, error) {
		return nil, c.Credentials.RequestEmailChange(authBG, in(&EmailChangeRequest{Email: "old@customer.com", Password: secretPassword, NewEmail: "new@customer.com"}))
	}, []invalidCase[edit]{
		{"nil", func(*EmailChangeRequest) *EmailChangeRequest { return nil }, "EmailChangeRequest"},
		{"empty email", func(r *EmailChangeRequest) *EmailChangeRequest { r.Email = ""; return r }, "EmailChangeRequest.Email"},
		{"blank email", func(r *EmailChangeRequest) *EmailChangeRequest { r.Email = "  "; return r }, "EmailChangeRequest.Email"},
		{"empty password", func(r *EmailChangeRequest) *EmailChangeRequest { r.Password = ""; return r }, "EmailChangeRequest.Password"},
		{"empty new email", func(r *EmailChangeRequest) *EmailChangeRequest { r.NewEmail = ""; return r }, "EmailChangeRequest.NewEmail"},
	})
}

// ---- ConfirmEmailChange ----

func TestCredentialsConfirmEmailChange(t *testing.T) {
	t.Parallel()
	c, mt := newTestClient(t) // holds both tokens: the anonymous one must be used
	sent := serve(t, mt, http.MethodPost, emailChangeConfirmPath, reply{status: http.StatusNoContent})
	require.NoError(t, c.Credentials.ConfirmEmailChange(context.Background(), emailToken))
	assertRequest(t, only(t, sent), wantRequest{
		method: http.MethodPost, path: emailChangeConfirmPath, auth: "Bearer " + anonAccess,
		contentType: "application/json", body: `{"token":"` + emailToken + `"}`,
	})
}

func TestCredentialsConfirmEmailChange_InvalidInput(t *testing.T) {
	t.Parallel()
	c, mt := newTestClient(t)
	requireInvalid(t, c.Credentials.ConfirmEmailChange(context.Background(), ""), "emailToken")
	requireNoRequests(t, mt)
}

// ---- RequestPasswordReset ----

func TestCredentialsRequestPasswordReset(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   *PasswordResetRequest
		want string
	}{
		{"spec example", &PasswordResetRequest{Email: "example@customer.com"}, `{"email":"example@customer.com"}`},
		{"with site", &PasswordResetRequest{Email: "example@customer.com", Site: "DE"}, `{"email":"example@customer.com","site":"DE"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, mt := newTestClient(t) // holds both tokens: the anonymous one must be used
			sent := serve(t, mt, http.MethodPost, passwordResetPath, reply{status: http.StatusNoContent})
			require.NoError(t, c.Credentials.RequestPasswordReset(context.Background(), tt.in))
			assertRequest(t, only(t, sent), wantRequest{
				method: http.MethodPost, path: passwordResetPath, auth: "Bearer " + anonAccess,
				contentType: "application/json", body: tt.want,
			})
		})
	}
}

func TestCredentialsRequestPasswordReset_InvalidInput(t *testing.T) {
	t.Parallel()
	runInvalid(t, func(c *Client, in *PasswordResetRequest) (any, error) {
		return nil, c.Credentials.RequestPasswordReset(authBG, in)
	}, []invalidCase[*PasswordResetRequest]{
		{"nil", nil, "PasswordResetRequest"},
		{"empty email", &PasswordResetRequest{Site: "DE"}, "PasswordResetRequest.Email"},
		{"blank email", &PasswordResetRequest{Email: " \t"}, "PasswordResetRequest.Email"},
	})
}

// ---- ResetPassword ----

func TestCredentialsResetPassword(t *testing.T) {
	t.Parallel()
	c, mt := newTestClient(t) // holds both tokens: the anonymous one must be used
	sent := serve(t, mt, http.MethodPost, passwordResetUpdPath, reply{status: http.StatusNoContent})
	require.NoError(t, c.Credentials.ResetPassword(context.Background(), &PasswordReset{Token: emailToken, Password: "P@ssw0rd123"}))
	assertRequest(t, only(t, sent), wantRequest{
		method: http.MethodPost, path: passwordResetUpdPath, auth: "Bearer " + anonAccess,
		contentType: "application/json", body: `{"token":"` + emailToken + `","password":"P@ssw0rd123"}`,
	})
}

func TestCredentialsResetPassword_InvalidInput(t *testing.T) {
	t.Parallel()
	runInvalid(t, func(c *Client, in *PasswordReset) (any, error) { return nil, c.Credentials.ResetPassword(authBG, in) }, []invalidCase[*PasswordReset]{
		{"nil", nil, "PasswordReset"},
		{"empty token", &PasswordReset{Password: secretPassword}, "PasswordReset.Token"},
		{"empty password", &PasswordReset{Token: emailToken}, "PasswordReset.Password"},
	}, emailToken)
}

// ---- ChangePassword ----

func TestCredentialsChangePassword(t *testing.T) {
	t.Parallel()
	c, mt := newTestClient(t)
	sent := serve(t, mt, http.MethodPost, passwordChangePath, reply{status: http.StatusNoContent})
	require.NoError(t, c.Credentials.ChangePassword(context.Background(),
		&PasswordChange{CurrentPassword: "password123", NewPassword: "P@ssw0rd123"}))
	assertRequest(t, only(t, sent), wantRequest{
		method: http.MethodPost, path: passwordChangePath, auth: "Bearer " + custAccess,
		contentType: "application/json", body: `{"currentPassword":"password123","newPassword":"P@ssw0rd123"}`,
	})
}

func TestCredentialsChangePassword_InvalidInput(t *testing.T) {
	t.Parallel()
	runInvalid(t, func(c *Client, in *PasswordChange) (any, error) { return nil, c.Credentials.ChangePassword(authBG, in) }, []invalidCase[*PasswordChange]{
		{"nil", nil, "PasswordChange"},
		{"empty current", &PasswordChange{NewPassword: secretPassword}, "PasswordChange.CurrentPassword"},
		{"empty new", &PasswordChange{CurrentPassword: secretPassword}, "PasswordChange.NewPassword"},
	})
}
