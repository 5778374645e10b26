package main

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/emporix-go/emporix"
	"github.com/emporix-go/emporix/redisstore"
	"github.com/redis/go-redis/v9"
)

// newTokenStore is the one place that decides where shopper sessions live.
//
// Without REDIS_URL it is a MemoryStore: the sessions of this process only,
// lost when it stops. With REDIS_URL it is a redisstore.Store, which every
// replica of the shop shares: a shopper may land on any replica, and a
// refresh lock in Redis keeps the replicas from refreshing the same session
// at once (the store is an emporix.RefreshLocker). With EMPORIX_SEAL_KEY the
// tokens are stored encrypted. Nothing else in the shop changes.
//
// closeStore releases what the store holds (the Redis connections); call it
// once the server has shut down. opts are added to the Redis store's
// options (the tests give each test a key prefix of its own).
func newTokenStore(ctx context.Context, cfg config, logger *slog.Logger, opts ...redisstore.Option) (store emporix.TokenStore, closeStore func() error, err error) {
	if cfg.RedisURL == "" {
		logger.InfoContext(ctx, "session store: in memory, this process only; set REDIS_URL to share sessions between replicas")
		return emporix.NewMemoryStore(), func() error { return nil }, nil
	}

	opt, err := redis.ParseURL(cfg.RedisURL)
	if err != nil {
		return nil, nil, fmt.Errorf("REDIS_URL is not a Redis URL (redis://[:password@]host:port/db): %w", withoutURL(err))
	}
	rdb := redis.NewClient(opt)
	defer func() {
		if err != nil {
			_ = rdb.Close()
		}
	}()
	// Fail at start-up rather than on the first shopper. The error names
	// the address, never the password.
	pingCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := rdb.Ping(pingCtx).Err(); err != nil {
		return nil, nil, fmt.Errorf("REDIS_URL: Redis at %s does not answer: %w", opt.Addr, err)
	}

	if len(cfg.SealKeys) > 0 {
		opts = append([]redisstore.Option{redisstore.WithSealKeys(cfg.SealKeys...)}, opts...)
	}
	s, err := redisstore.New(rdb, cfg.Tenant, opts...)
	if err != nil {
		return nil, nil, fmt.Errorf("redis session store: %w", err)
	}

	attrs := []any{"addr", opt.Addr, "db", opt.DB, "tls", opt.TLSConfig != nil, "sealed", len(cfg.SealKeys) > 0}
	if len(cfg.SealKeys) > 0 {
		// The key ID tells which key seals, without revealing the key.
		attrs = append(attrs, "seal_key_id", redisstore.SealKeyID(cfg.SealKeys[0]), "seal_keys", len(cfg.SealKeys))
	}
	logger.InfoContext(ctx, "session store: Redis, shared by every replica", attrs...)
	return s, rdb.Close, nil
}

// withoutURL drops the URL that url.Parse quotes in its errors: REDIS_URL
// may hold a password.
func withoutURL(err error) error {
	var urlErr *url.Error
	if errors.As(err, &urlErr) {
		return urlErr.Err
	}
	return err
}

// sealKeys are the keys that seal sessions in Redis: the first seals, all
// open. They never print: every fmt verb and log/slog show "REDACTED".
type sealKeys [][]byte

func (sealKeys) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, "REDACTED") }
func (sealKeys) LogValue() slog.Value       { return slog.StringValue("REDACTED") }

// parseSealKeys reads EMPORIX_SEAL_KEY: a standard base64-encoded key of
// redisstore.SealKeySize (32) random bytes, for example from
// `openssl rand -base64 32`. To rotate, give the new key first and the old
// one after it, separated by a comma, until the sessions sealed with the old
// key have expired. Errors never quote the value.
func parseSealKeys(v string) (sealKeys, error) {
	var keys sealKeys
	for i, part := range strings.Split(v, ",") {
		which := "EMPORIX_SEAL_KEY"
		if strings.Contains(v, ",") {
			which += " key " + strconv.Itoa(i+1)
		}
		k, err := base64.StdEncoding.DecodeString(strings.TrimSpace(part))
		if err != nil {
			// The error gives only the offset of the first bad character.
			return nil, fmt.Errorf("%s is not base64 (%v); generate one with `openssl rand -base64 32`", which, err)
		}
		if len(k) != redisstore.SealKeySize {
			return nil, fmt.Errorf("%s decodes to %d bytes, want %d; generate one with `openssl rand -base64 32`", which, len(k), redisstore.SealKeySize)
		}
		keys = append(keys, k)
	}
	return keys, nil
}

// newSessionManager keeps the shoppers' sessions in store. Every new
// anonymous session is seeded with the shop's currency and site, and a
// change of a shopper's Emporix session ID (its anonymous refresh token
// died) is logged: a real shop would move the guest cart here, from the old
// session ID to the new one.
func newSessionManager(client *emporix.Client, store emporix.TokenStore, logger *slog.Logger, moves *cartMoves) (*emporix.SessionManager, error) {
	return emporix.NewSessionManager(client, store,
		emporix.WithSessionContext(emporix.SessionContext{Currency: currency, SiteCode: siteCode}),
		emporix.WithSessionChangeHook(func(ctx context.Context, ch emporix.SessionChange) {
			// ch.Key is the shopper's cookie value: a credential, never logged.
			logger.InfoContext(ctx, "shopper session changed",
				"old_session_id", ch.OldSessionID, "new_session_id", ch.NewSessionID, "reason", string(ch.Reason))
			if moves != nil {
				moves.record(ch)
			}
		}))
}
