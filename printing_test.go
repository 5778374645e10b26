package emporix

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// everyRendering prints v every way an application might: printings, and
// held in a struct field through slog's text and JSON handlers and
// json.Marshal.
func everyRendering(v any) string {
	nested := struct{ Field any }{v}
	var buf bytes.Buffer
	for _, h := range []slog.Handler{slog.NewTextHandler(&buf, nil), slog.NewJSONHandler(&buf, nil)} {
		slog.New(h).Info("x", "nested", nested)
	}
	out := append(printings(v), buf.String())
	if b, err := json.Marshal(nested); err == nil {
		out = append(out, string(b))
	}
	return strings.Join(out, "\n")
}

func TestTypesHoldingSecretsNeverPrintThem(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c, _ := newTestClient(t)
	store := NewMemoryStore()
	_, err := store.Save(ctx, "COOKIE-KEY-s3cr3t", &SessionState{Anonymous: anonToken(), Customer: custToken()}, 0)
	require.NoError(t, err)
	m, err := NewSessionManager(c, store)
	require.NoError(t, err)
	s := m.Session("COOKIE-KEY-s3cr3t")
	tok, err := s.Token(ctx)
	require.NoError(t, err)
	svc := c.Employee.ServiceTokenSource(&ServiceCredentials{ClientID: "id", ClientSecret: "CLIENT-SECRET-s3cr3t"})
	change := SessionChange{Key: "COOKIE-KEY-s3cr3t", OldSessionID: "old-sid", NewSessionID: "new-sid", Reason: ReasonRefreshExpired}
	secrets := []string{"COOKIE-KEY-s3cr3t", "CLIENT-SECRET-s3cr3t", string(tok.AccessToken), string(tok.RefreshToken), anonAccess, anonRefresh, custAccess, custRefresh, custSaas}

	for name, v := range map[string]any{
		"Session": s, "MemoryStore": store, "ServiceTokenSource": svc, "SessionChange": change,
		"StaticTokens": StaticTokens(anonToken(), custToken()), "Token": *custToken(), "*Token": custToken(),
		"SessionState": &SessionState{Anonymous: anonToken(), Customer: custToken()},
	} {
		out := everyRendering(v)
		for _, secret := range secrets {
			assert.NotContains(t, out, secret, "%s leaks through one of its renderings", name)
		}
	}
	// Redaction keeps what is not secret, so the output stays useful.
	assert.Contains(t, everyRendering(change), "new-sid")
	assert.Contains(t, everyRendering(custToken()), testSessionID)

	b, err := json.Marshal(custToken())
	require.NoError(t, err)
	var decoded map[string]any
	require.NoError(t, json.Unmarshal(b, &decoded))
	assert.Equal(t, "REDACTED", decoded["AccessToken"])
	assert.Equal(t, testSessionID, decoded["SessionID"])
	assert.Equal(t, "", decoded["SocialIDToken"], "an empty secret stays visibly empty")
}
