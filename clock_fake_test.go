package emporix_test

import (
	"context"
	"testing"
	"time"

	"github.com/emporix-go/emporix"
	"github.com/emporix-go/emporix/emporixtest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestFakeClockGovernsClientAndStore: with the fake's ClientOptions and a
// MemoryStore given no clock, Advance expires the client's tokens and the
// stored sessions alike.
func TestFakeClockGovernsClientAndStore(t *testing.T) {
	t.Parallel()
	fake := emporixtest.NewServer()
	t.Cleanup(fake.Close)
	client, err := emporix.NewClient(fake.Tenant(), fake.ClientID(), fake.ClientOptions()...)
	require.NoError(t, err)
	store := emporix.NewMemoryStore()
	sessions, err := emporix.NewSessionManager(client, store)
	require.NoError(t, err)
	ctx := context.Background()

	s := sessions.Session("cookie-1")
	first, err := s.Token(ctx)
	require.NoError(t, err)
	assert.Equal(t, fake.Now().Add(fake.Lifetimes().AnonymousAccess), first.Expiry, "expiries are on the fake's clock")

	fake.Advance(fake.Lifetimes().AnonymousAccess + time.Minute)
	const refreshOp = "GET-oauth-refresh-anonymous-access-token"
	fake.ClearRequests()
	renewed, err := s.Token(ctx)
	require.NoError(t, err)
	assert.Len(t, fake.Requests(refreshOp), 1, "the client sees the token expired by the fake's clock")
	assert.Equal(t, first.SessionID, renewed.SessionID)

	state, _, err := store.Load(ctx, "cookie-1")
	require.NoError(t, err)
	fake.Advance(state.Deadline().Sub(fake.Now()) + emporix.DefaultStoreGrace)
	_, _, err = store.Load(ctx, "cookie-1")
	assert.ErrorIs(t, err, emporix.ErrSessionNotFound, "the store forgets the session by the fake's clock")
}

// TestStoreClockWinsOverTheClients: WithStoreClock keeps the store on its
// own clock, and a store follows only the first client's clock.
func TestStoreClockWinsOverTheClients(t *testing.T) {
	t.Parallel()
	fake := emporixtest.NewServer()
	t.Cleanup(fake.Close)
	other := emporixtest.NewServer()
	t.Cleanup(other.Close)
	other.Advance(1000 * time.Hour)
	client, err := emporix.NewClient(fake.Tenant(), fake.ClientID(), fake.ClientOptions()...)
	require.NoError(t, err)
	otherClient, err := emporix.NewClient(fake.Tenant(), fake.ClientID(), emporix.WithClock(other.Now))
	require.NoError(t, err)
	ctx := context.Background()
	state := &emporix.SessionState{Anonymous: &emporix.Token{
		Kind: emporix.KindAnonymous, AccessToken: "at", SessionID: "s",
		Expiry: fake.Now().Add(time.Hour), RefreshExpiry: fake.Now().Add(2 * time.Hour),
	}}

	pinned := emporix.NewMemoryStore(emporix.WithStoreClock(other.Now), emporix.WithStoreGrace(0))
	pm, err := emporix.NewSessionManager(client, pinned)
	require.NoError(t, err)
	_, err = pinned.Save(ctx, "k", state, 0)
	require.NoError(t, err)
	_, _, err = pinned.Load(ctx, "k")
	assert.ErrorIs(t, err, emporix.ErrSessionNotFound, "dead by the store's own clock, 1000 h later")
	// A session's token lookup asks the store by the store's clock too,
	// not by the client's: the stored token is gone, a new session starts.
	tok, err := pm.Session("k").Token(ctx)
	require.NoError(t, err)
	assert.NotEqual(t, emporix.Secret("at"), tok.AccessToken, "the lookup reads the store's own clock")

	follower := emporix.NewMemoryStore(emporix.WithStoreGrace(0))
	_, err = emporix.NewSessionManager(client, follower)
	require.NoError(t, err)
	_, err = emporix.NewSessionManager(otherClient, follower)
	require.NoError(t, err)
	_, err = follower.Save(ctx, "k", state, 0)
	require.NoError(t, err)
	_, _, err = follower.Load(ctx, "k")
	assert.NoError(t, err, "alive by the first client's clock, which the store follows")
	fake.Advance(2 * time.Hour)
	_, _, err = follower.Load(ctx, "k")
	assert.ErrorIs(t, err, emporix.ErrSessionNotFound)
}
