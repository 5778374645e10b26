package emporix

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

// TestRefreshWindowIsJitteredPerToken: tokens issued at the same moment
// with the same lifetime (sessions created together) fall due at moments
// spread over the last fifth of the window, so they do not all refresh at
// once; each token's moment stays fixed, and none falls due before the
// full window nor after four fifths of it.
func TestRefreshWindowIsJitteredPerToken(t *testing.T) {
	t.Parallel()
	const window = 60 * time.Second
	m := &SessionManager{cfg: sessionConfig{refreshWindow: window}}
	issued := testNow
	expiry := issued.Add(time.Hour)
	firstDue := func(tok *Token) time.Duration { // before expiry, to the second
		for before := window + time.Second; before >= 0; before -= time.Second {
			if m.due(tok, expiry.Add(-before)) {
				return before
			}
		}
		return 0
	}
	moments := map[time.Duration]int{}
	for i := range 200 {
		tok := &Token{AccessToken: Secret(fmt.Sprintf("access-token-%d", i)), IssuedAt: issued, Expiry: expiry}
		at := firstDue(tok)
		moments[at]++
		assert.LessOrEqual(t, at, window, "token %d is refreshed before its window", i)
		assert.GreaterOrEqual(t, at, window*4/5-time.Second, "token %d is refreshed later than 80%% of the window", i)
		for before := at; before >= 0; before -= time.Second {
			if !m.due(tok, expiry.Add(-before)) {
				t.Fatalf("token %d: due %v before expiry, but not %v before", i, at, before)
			}
		}
	}
	assert.GreaterOrEqual(t, len(moments), 8, "200 sessions created together refresh at %d distinct moments: %v", len(moments), moments)
	for at, n := range moments {
		assert.Less(t, n, 50, "%d of 200 sessions refresh together, %v before expiry", n, at)
	}
}

func TestSessionRefreshWindowScalesWithLifetime(t *testing.T) {
	t.Parallel()
	m := &SessionManager{cfg: sessionConfig{refreshWindow: time.Minute}}
	issued := testNow
	long := &Token{AccessToken: "a", IssuedAt: issued, Expiry: issued.Add(time.Hour)}
	assert.False(t, m.due(long, issued.Add(58*time.Minute)), "60 s window on a 1 h token")
	assert.True(t, m.due(long, issued.Add(59*time.Minute+1*time.Second)))
	short := &Token{AccessToken: "b", IssuedAt: issued, Expiry: issued.Add(100 * time.Second)}
	assert.False(t, m.due(short, issued.Add(89*time.Second)), "10% window on a 100 s token")
	assert.True(t, m.due(short, issued.Add(100*time.Second)))
	assert.False(t, m.due(&Token{AccessToken: "c"}, issued), "no expiry, no refresh")
}
