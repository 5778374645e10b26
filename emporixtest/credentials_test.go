package emporixtest_test

import (
	"testing"
	"time"

	"github.com/emporix-go/emporix/emporixtest"
)

func TestPasswordChange(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	anon, tok, _ := f.customer("pw@example.com")
	cust := s(tok["access_token"])
	change := func(body any) resp {
		return f.do(req{method: "POST", path: f.path("/password/change"), bearer: cust, body: body})
	}
	wantError(t, change(map[string]any{"currentPassword": "wrong-pass", "newPassword": "newpass123"}), 400, "bad_request", "")
	wantStatus(t, change(map[string]any{"currentPassword": "password123"}), 400)
	wantStatus(t, change(map[string]any{"currentPassword": "password123", "newPassword": "short"}), 400)
	r := change(map[string]any{"currentPassword": "password123", "newPassword": "newpass123"})
	wantNoContent(t, r, 204)
	wantStatus(t, f.tryLogin(anon, "pw@example.com", "password123"), 401)
	f.login(anon, "pw@example.com", "newpass123")
	// The token used for the change stays valid.
	wantStatus(t, f.do(req{method: "GET", path: f.path("/me"), bearer: cust}), 200)
}

func TestPasswordReset(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	anon, _, number := f.customer("reset@example.com")
	request := func(email string) resp {
		return f.do(req{method: "POST", path: f.path("/password/reset"), bearer: anon,
			body: map[string]any{"email": email, "site": "main"}})
	}
	// No account enumeration: 204 either way, but only a real account gets mail.
	r := request("nobody@example.com")
	wantNoContent(t, r, 204)
	if len(f.srv.Outbox("nobody@example.com")) != 0 {
		t.Error("no mail for an unknown e-mail")
	}
	wantStatus(t, request("RESET@example.com"), 204)
	mails := f.srv.Outbox("reset@example.com")
	if len(mails) != 1 || mails[0].Kind != emporixtest.MailPasswordReset || mails[0].CustomerNumber != number ||
		mails[0].Site != "main" || !mails[0].Sent.Equal(f.srv.Now()) || len(mails[0].Token) != 64 {
		t.Fatalf("outbox %+v", mails)
	}
	first := mails[0].Token
	wantStatus(t, request("reset@example.com"), 204)
	second := f.srv.LastToken(emporixtest.MailPasswordReset, "reset@example.com")
	if second == first || second == "" {
		t.Fatal("LastToken must return the newest token")
	}
	update := func(token, password string) resp {
		return f.do(req{method: "POST", path: f.path("/password/reset/update"), bearer: anon,
			body: map[string]any{"token": token, "password": password}})
	}
	wantStatus(t, update("bogus", "newpass123"), 400)
	wantStatus(t, update(second, "short"), 400)
	r = update(second, "newpass123")
	wantNoContent(t, r, 204)
	f.login(anon, "reset@example.com", "newpass123")
	// Single use, and the older token went with it.
	wantStatus(t, update(second, "another123"), 400)
	wantStatus(t, update(first, "another123"), 400)
	// Tokens expire.
	wantStatus(t, request("reset@example.com"), 204)
	f.srv.Advance(24 * time.Hour)
	anon = f.anonToken()
	wantStatus(t, update(f.srv.LastToken(emporixtest.MailPasswordReset, "reset@example.com"), "another123"), 400)
	wantStatus(t, f.do(req{method: "POST", path: f.path("/password/reset"), bearer: anon, body: map[string]any{}}), 400)
}

func TestEmailChange(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	anon, tok, number := f.customer("old@example.com")
	f.customer("taken@example.com")
	cust := s(tok["access_token"])
	request := func(body map[string]any) resp {
		return f.do(req{method: "POST", path: f.path("/me/accounts/internal/email/change"), bearer: cust, body: body})
	}
	wantStatus(t, request(map[string]any{"email": "old@example.com", "password": "wrong-pass", "newEmail": "new@example.com"}), 400)
	wantStatus(t, request(map[string]any{"email": "else@example.com", "password": "password123", "newEmail": "new@example.com"}), 400)
	wantStatus(t, request(map[string]any{"email": "old@example.com", "password": "password123"}), 400)
	wantStatus(t, request(map[string]any{"email": "old@example.com", "password": "password123", "newEmail": "taken@example.com"}), 400)
	r := request(map[string]any{"email": "old@example.com", "password": "password123", "newEmail": "new@example.com", "syncContactEmail": true})
	wantNoContent(t, r, 204)
	token := f.srv.LastToken(emporixtest.MailEmailChange, "new@example.com")
	if token == "" || len(f.srv.Outbox("old@example.com")) != 0 {
		t.Fatal("the token must be mailed to the new address only")
	}
	// Confirmation needs the anonymous token.
	confirm := func(bearer, token string) resp {
		return f.do(req{method: "POST", path: f.path("/me/accounts/internal/email/change/confirm"), bearer: bearer,
			body: map[string]any{"token": token}})
	}
	wantStatus(t, confirm(cust, token), 403)
	wantStatus(t, confirm(anon, "bogus"), 400)
	r = confirm(anon, token)
	wantNoContent(t, r, 204)
	wantStatus(t, confirm(anon, token), 400)
	info, ok := f.srv.Customer("new@example.com")
	if !ok || info.CustomerNumber != number || info.ContactEmail != "new@example.com" || info.Version != 2 {
		t.Errorf("after e-mail change %+v", info)
	}
	if _, ok := f.srv.Customer("old@example.com"); ok {
		t.Error("the old login must be gone")
	}
	f.login(anon, "new@example.com", "password123")
	r = f.validate(cust)
	if r.json(t)["email"] != "new@example.com" {
		t.Errorf("validate after e-mail change %s", r.body)
	}

	// Without syncContactEmail the contact e-mail stays.
	r = request(map[string]any{"email": "new@example.com", "password": "password123", "newEmail": "third@example.com"})
	wantStatus(t, r, 204)
	wantStatus(t, confirm(anon, f.srv.LastToken(emporixtest.MailEmailChange, "third@example.com")), 204)
	if info, _ := f.srv.Customer("third@example.com"); info.ContactEmail != "new@example.com" || info.Version != 2 {
		t.Errorf("after unsynced change %+v", info)
	}
}
