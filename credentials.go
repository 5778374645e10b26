package emporix

import (
	"context"
)

// CredentialsService changes and resets passwords and login e-mails.
type CredentialsService service

var (
	opEmailChange          = op("POST-customer-change-customer-login-email")
	opEmailChangeConfirm   = op("POST-customer-confirm-customer-login-email")
	opPasswordResetRequest = op("POST-customer-request-reset-password")
	opPasswordReset        = op("POST-customer-reset-password")
	opPasswordChange       = op("POST-customer-change-account-password")
)

// EmailChangeRequest asks to change the login e-mail (ChangeEmailRequestDto).
//
// The spec marks no field required; the change cannot be made without all
// three, so they are required here.
type EmailChangeRequest struct {
	// Email is the current login e-mail.
	Email string `json:"email" validate:"required" emporix:"personal"`
	// Password is the account password.
	Password Secret `json:"password" validate:"required"`
	// NewEmail is the new login e-mail.
	NewEmail string `json:"newEmail" validate:"required" emporix:"personal"`
	// SyncContactEmail also changes the contact e-mail to NewEmail.
	SyncContactEmail bool `json:"syncContactEmail"`
}

// RequestEmailChange starts a login e-mail change: the service e-mails a
// token to confirm with [CredentialsService.ConfirmEmailChange]. The customer
// token needs the customer.customerprofile_edit scope.
//
// Emporix API: POST /customer/{tenant}/me/accounts/internal/email/change.
// Needs the customer token.
func (s *CredentialsService) RequestEmailChange(ctx context.Context, r *EmailChangeRequest) error {
	if err := checkFields("EmailChangeRequest", r); err != nil {
		return err
	}
	c := s.client
	k := c.newCall(opEmailChange)
	if err := k.jsonBody(r, contentJSON); err != nil {
		return err
	}
	return c.doNoContent(ctx, k)
}

// ConfirmEmailChange completes a login e-mail change with the e-mailed
// token. Despite its /me path, the operation is authorized with the
// anonymous token: the customer may confirm from another browser.
//
// Emporix API: POST /customer/{tenant}/me/accounts/internal/email/change/confirm.
// Needs the anonymous token.
func (s *CredentialsService) ConfirmEmailChange(ctx context.Context, emailToken string) error {
	if err := requireValue("emailToken", emailToken); err != nil {
		return err
	}
	c := s.client
	k := c.newCall(opEmailChangeConfirm)
	if err := k.jsonBody(struct {
		Token Secret `json:"token"`
	}{Secret(emailToken)}, contentJSON); err != nil {
		return err
	}
	return c.doNoContent(ctx, k)
}

// PasswordResetRequest asks for a password-reset e-mail (PasswordResetRequestDto).
type PasswordResetRequest struct {
	// Email is the account's e-mail. Required.
	Email string `json:"email" validate:"required" emporix:"personal"`
	// Site is the site the request came from, if any.
	Site string `json:"site,omitempty"`
}

// RequestPasswordReset has the service e-mail a reset token. The service
// answers the same whether or not the account exists, so the result reveals
// nothing about registered e-mails.
//
// Emporix API: POST /customer/{tenant}/password/reset. Needs the anonymous token.
func (s *CredentialsService) RequestPasswordReset(ctx context.Context, r *PasswordResetRequest) error {
	if err := checkFields("PasswordResetRequest", r); err != nil {
		return err
	}
	c := s.client
	k := c.newCall(opPasswordResetRequest)
	if err := k.jsonBody(r, contentJSON); err != nil {
		return err
	}
	return c.doNoContent(ctx, k)
}

// PasswordReset sets a new password with an e-mailed reset token (PasswordUpdate).
type PasswordReset struct {
	Token    Secret `json:"token" validate:"required"`
	Password Secret `json:"password" validate:"required"`
}

// ResetPassword sets a new password with the token from the reset e-mail.
//
// Emporix API: POST /customer/{tenant}/password/reset/update. Needs the
// anonymous token.
func (s *CredentialsService) ResetPassword(ctx context.Context, r *PasswordReset) error {
	if err := checkFields("PasswordReset", r); err != nil {
		return err
	}
	c := s.client
	k := c.newCall(opPasswordReset)
	if err := k.jsonBody(r, contentJSON); err != nil {
		return err
	}
	return c.doNoContent(ctx, k)
}

// PasswordChange changes the password of the logged-in customer (PasswordChangeDto).
type PasswordChange struct {
	CurrentPassword Secret `json:"currentPassword" validate:"required"`
	NewPassword     Secret `json:"newPassword" validate:"required"`
}

// ChangePassword changes the logged-in customer's password.
//
// Emporix API: POST /customer/{tenant}/password/change. Needs the customer token.
func (s *CredentialsService) ChangePassword(ctx context.Context, r *PasswordChange) error {
	if err := checkFields("PasswordChange", r); err != nil {
		return err
	}
	c := s.client
	k := c.newCall(opPasswordChange)
	if err := k.jsonBody(r, contentJSON); err != nil {
		return err
	}
	return c.doNoContent(ctx, k)
}
