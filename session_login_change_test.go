package emporix_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/emporix-go/emporix"
	"github.com/emporix-go/emporix/emporixtest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestEveryLoginReportsAServerAssignedSession: when the service answers a
// login on a session with a session ID other than the anonymous one, the
// session-change hook hears of it, for every way a Session logs in, and
// the customer token is stored with the new ID.
func TestEveryLoginReportsAServerAssignedSession(t *testing.T) {
	t.Parallel()
	logins := map[string]struct {
		target string
		login  func(ctx context.Context, s *emporix.Session) (*emporix.Token, error)
	}{
		"Login": {"POST-customer-authenticate-customer", func(ctx context.Context, s *emporix.Session) (*emporix.Token, error) {
			return s.Login(ctx, &emporix.LoginRequest{Email: "shopper@example.com", Password: "password123"})
		}},
		"SocialLogin": {"POST-customer-login-customer-by-auth0", func(ctx context.Context, s *emporix.Session) (*emporix.Token, error) {
			return s.SocialLogin(ctx, &emporix.SocialLoginRequest{Code: "auth-code", RedirectURI: "https://shop.example.com/callback"})
		}},
		"ExchangeToken": {"POST-customer-exchange-authtoken", func(ctx context.Context, s *emporix.Session) (*emporix.Token, error) {
			return s.ExchangeToken(ctx, &emporix.ExchangeRequest{SubjectAccessToken: "eyJhbGciOiJub25lIn0.e30.", Config: "idp"})
		}},
		"ConfirmOptIn": {"GET-customer-signup-customer-optin", func(ctx context.Context, s *emporix.Session) (*emporix.Token, error) {
			return s.ConfirmOptIn(ctx, "opt-in-token")
		}},
	}
	for name, tc := range logins {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			fake := emporixtest.NewServer()
			t.Cleanup(fake.Close)
			client, err := emporix.NewClient(fake.Tenant(), fake.ClientID(), fake.ClientOptions()...)
			require.NoError(t, err)
			var (
				mu      sync.Mutex
				changes []emporix.SessionChange
			)
			sessions, err := emporix.NewSessionManager(client, emporix.NewMemoryStore(),
				emporix.WithSessionChangeHook(func(_ context.Context, c emporix.SessionChange) {
					mu.Lock()
					changes = append(changes, c)
					mu.Unlock()
				}))
			require.NoError(t, err)
			ctx := context.Background()
			s := sessions.Session("cookie-1")
			anon, err := s.Token(ctx)
			require.NoError(t, err)

			// The service answers the login with a session of its choosing.
			fake.InjectFault(tc.target, emporixtest.Fault{Status: 200, Body: fmt.Sprintf(
				`{"access_token":"cust-at","saas_token":"saas","expires_in":2591999,"refresh_token":"cust-rt",`+
					`"refresh_token_expires_in":86399,"token_type":"Bearer","session_id":%q}`, "server-assigned-session")})
			tok, err := tc.login(ctx, s)
			require.NoError(t, err)
			require.Equal(t, "server-assigned-session", tok.SessionID)

			mu.Lock()
			defer mu.Unlock()
			require.Len(t, changes, 1, "one session change reported")
			assert.Equal(t, emporix.SessionChange{
				Key: "cookie-1", OldSessionID: anon.SessionID, NewSessionID: "server-assigned-session",
				Reason: emporix.ReasonServerAssigned,
			}, changes[0])
			stored, err := s.Token(ctx)
			require.NoError(t, err)
			assert.Equal(t, "server-assigned-session", stored.SessionID, "the customer token is stored with its session ID")
		})
	}
}
