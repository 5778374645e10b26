package emporix

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestServiceTokenSourceCachesUntilShortlyBeforeExpiry(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	c, mt := newTestClient(t, WithClock(clock.Now))
	serve(t, mt, "POST", "/oauth/token",
		jsonReply(200, `{"refresh_token_expires_in":0,"refresh_token":"","session_idle_time":120,"token_type":"Bearer","access_token":"SVC-1","expires_in":14399,"scope":"tenant=mytenant"}`),
		jsonReply(200, `{"refresh_token_expires_in":0,"refresh_token":"","session_idle_time":120,"token_type":"Bearer","access_token":"SVC-2","expires_in":14399,"scope":"tenant=mytenant"}`))
	src := c.Employee.ServiceTokenSource(&ServiceCredentials{ClientID: "svc-id", ClientSecret: "SVC-SECRET-s3cr3t"})
	ctx := context.Background()

	var wg sync.WaitGroup
	for range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tok, err := src.Token(ctx)
			assert.NoError(t, err)
			assert.Equal(t, "SVC-1", string(tok.AccessToken))
		}()
	}
	wg.Wait()
	assert.Equal(t, 1, calls(mt, "POST", "/oauth/token"), "concurrent callers share one fetch")

	clock.Advance(14399*time.Second - 2*time.Minute)
	tok, err := src.Token(ctx)
	require.NoError(t, err)
	assert.Equal(t, "SVC-1", string(tok.AccessToken))
	clock.Advance(90 * time.Second) // inside the last minute
	tok, err = src.Token(ctx)
	require.NoError(t, err)
	assert.Equal(t, "SVC-2", string(tok.AccessToken))
	assert.Equal(t, KindService, tok.Kind)
	assert.Equal(t, 2, calls(mt, "POST", "/oauth/token"))
	assert.NotContains(t, fmt.Sprintf("%v %+v %#v", src, src, src), "SVC-SECRET-s3cr3t")
}

func TestServiceTokenSourceReportsFailuresAndHonoursTheContext(t *testing.T) {
	t.Parallel()
	c, mt := newTestClient(t)
	allowOffSpecResponses(t, "the OAuth spec documents no error response")
	serve(t, mt, "POST", "/oauth/token", jsonReply(401, `{"ErrorCode":"invalid_client","Error":"ClientId is Invalid"}`))
	src := c.Employee.ServiceTokenSource(&ServiceCredentials{ClientID: "svc-id", ClientSecret: "wrong-secret"})
	_, err := src.Token(context.Background())
	require.ErrorIs(t, err, ErrUnauthorized)

	_, err = c.Employee.ServiceTokenSource(nil).Token(context.Background())
	require.ErrorIs(t, err, ErrInvalidInput)

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	blocked := c.Employee.ServiceTokenSource(&ServiceCredentials{ClientID: "a", ClientSecret: "b"}).(*serviceTokenSource)
	blocked.lock <- struct{}{} // another caller is fetching
	_, err = blocked.Token(ctx)
	assert.ErrorIs(t, err, context.Canceled)
}
