package main

import (
	"context"
	"log/slog"

	"github.com/emporix-go/emporix"
)

// newTokenStore is the one place that decides where shopper sessions live.
// A MemoryStore serves one process; with several replicas, return a shared
// store here instead (one implementing emporix.TokenStore, and
// emporix.RefreshLocker so that replicas do not refresh the same session at
// once), for example on Redis. Nothing else changes.
func newTokenStore() (emporix.TokenStore, error) {
	return emporix.NewMemoryStore(), nil
}

// newSessionManager keeps the shoppers' sessions in store. Every new
// anonymous session is seeded with the shop's currency and site, and a
// change of a shopper's Emporix session ID (its anonymous refresh token
// died) is logged: a real shop would move the guest cart here, from the old
// session ID to the new one.
func newSessionManager(client *emporix.Client, store emporix.TokenStore, logger *slog.Logger) (*emporix.SessionManager, error) {
	return emporix.NewSessionManager(client, store,
		emporix.WithSessionContext(emporix.SessionContext{Currency: "EUR", SiteCode: "main"}),
		emporix.WithSessionChangeHook(func(ctx context.Context, ch emporix.SessionChange) {
			// ch.Key is the shopper's cookie value: a credential, never logged.
			logger.InfoContext(ctx, "shopper session changed: move the guest cart",
				"old_session_id", ch.OldSessionID, "new_session_id", ch.NewSessionID, "reason", string(ch.Reason))
		}))
}
