package emporix_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/emporix-go/emporix"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"
)

func TestOAuth2TokenSourceCarriesTheTokenAndItsExpiry(t *testing.T) {
	t.Parallel()
	expiry := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	src := emporix.OAuth2TokenSource(context.Background(), emporix.SingleToken(&emporix.Token{
		Kind: emporix.KindCustomer, AccessToken: "ACCESS-s3cr3t", TokenType: "bearer",
		RefreshToken: "REFRESH-s3cr3t", SaasToken: "SAAS-s3cr3t", Expiry: expiry,
	}))
	tok, err := src.Token()
	require.NoError(t, err)
	assert.Equal(t, "ACCESS-s3cr3t", tok.AccessToken)
	assert.Equal(t, "Bearer", tok.TokenType)
	assert.True(t, tok.Expiry.Equal(expiry), "expiry %v", tok.Expiry)
	assert.Empty(t, tok.RefreshToken, "the refresh token is not handed to oauth2")
	assert.Nil(t, tok.Extra("saas_token"))

	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q"} {
		out := fmt.Sprintf(verb, src)
		assert.NotContains(t, out, "s3cr3t", verb)
		assert.Contains(t, out, "emporix.OAuth2TokenSource", verb)
	}
}

func TestOAuth2TokenSourceErrors(t *testing.T) {
	t.Parallel()
	_, err := emporix.OAuth2TokenSource(context.Background(), nil).Token()
	assert.ErrorIs(t, err, emporix.ErrNoToken)
	_, err = emporix.OAuth2TokenSource(context.Background(), emporix.SingleToken(nil)).Token()
	assert.ErrorIs(t, err, emporix.ErrNoToken)
	failing := emporix.TokenSourceFunc(func(context.Context) (*emporix.Token, error) {
		return nil, fmt.Errorf("refresh: %w", emporix.ErrServer)
	})
	_, err = emporix.OAuth2TokenSource(context.Background(), failing).Token()
	var te *emporix.TokenError
	require.ErrorAs(t, err, &te)
	assert.ErrorIs(t, err, emporix.ErrServer)
}

func TestOAuth2TokenSourceUsesTheContextGiven(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var got error
	src := emporix.OAuth2TokenSource(ctx, emporix.TokenSourceFunc(func(ctx context.Context) (*emporix.Token, error) {
		got = ctx.Err()
		return nil, ctx.Err()
	}))
	_, err := src.Token()
	assert.ErrorIs(t, err, context.Canceled)
	assert.True(t, errors.Is(got, context.Canceled))
}

// TestOAuth2TokenSourceOnASession: an oauth2 client authorizes with the
// session's token and follows its refresh: after the anonymous token
// expires, the next call carries the refreshed one, with the new expiry.
func TestOAuth2TokenSourceOnASession(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	s := newShop(t)
	sess := s.m.Session(emporix.NewSessionKey())
	src := emporix.OAuth2TokenSource(ctx, sess)

	first, err := src.Token()
	require.NoError(t, err)
	anon, err := sess.AnonymousToken(ctx)
	require.NoError(t, err)
	assert.Equal(t, string(anon.AccessToken), string(first.AccessToken))
	assert.True(t, first.Expiry.Equal(anon.Expiry))

	hc := oauth2.NewClient(ctx, src)
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.url("/me"), nil)
	status, _ := send(t, hc, req)
	require.Equal(t, 200, status)
	got := s.srv.Requests(opProfileGet)
	require.Len(t, got, 1)
	assert.Equal(t, "Bearer "+string(anon.AccessToken), got[0].Header.Get("Authorization"))

	s.srv.Advance(s.srv.Lifetimes().AnonymousAccess + time.Second)
	next, err := src.Token()
	require.NoError(t, err)
	assert.NotEqual(t, first.AccessToken, next.AccessToken)
	assert.True(t, next.Expiry.After(first.Expiry), "the renewed expiry is carried over")
	assert.Len(t, s.srv.Requests(opAnonRefresh), 1)
}
