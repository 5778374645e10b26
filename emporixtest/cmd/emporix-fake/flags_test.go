package main

import (
	"io"
	"testing"
	"time"

	"github.com/emporix-go/emporix/emporixtest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseFault(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want namedFault
		err  string
	}{
		{in: "POST-customer-authenticate-customer=503", want: namedFault{"POST-customer-authenticate-customer", emporixtest.Fault{Status: 503}}},
		{in: "GET /customer/{tenant}/me=drop,times=3", want: namedFault{"GET /customer/{tenant}/me", emporixtest.Fault{Drop: true, Times: 3}}},
		{in: "x=429,retry-after=2s,delay=150ms", want: namedFault{"x", emporixtest.Fault{Status: 429, RetryAfter: 2 * time.Second, Delay: 150 * time.Millisecond}}},
		{in: "x=200,commit", want: namedFault{"x", emporixtest.Fault{Status: 200, Commit: true}}},
		{in: "x=500,commit", want: namedFault{"x", emporixtest.Fault{Status: 500, Commit: true}}},
		{in: "x=200", err: "status 200 is not a failure"},
		{in: "x=700", err: "want a status or drop first"},
		{in: "x=503,times=0", err: "times: want at least 1"},
		{in: "x=503,delay=soon", err: "delay:"},
		{in: "x=503,colour=red", err: `unknown item "colour=red"`},
		{in: "=503", err: "want target=spec"},
		{in: "x", err: "want target=spec"},
	} {
		got, err := parseFault(tc.in)
		if tc.err != "" {
			assert.ErrorContains(t, err, tc.err, tc.in)
			continue
		}
		require.NoError(t, err, tc.in)
		assert.Equal(t, tc.want, got, tc.in)
	}
}

func TestParseFlagsDefaults(t *testing.T) {
	cfg, err := parseFlags(nil, io.Discard)
	require.NoError(t, err)
	assert.Equal(t, "127.0.0.1:8787", cfg.addr, "loopback by default: the fake's controls are not for a network")
	assert.Equal(t, emporixtest.SignupActive, cfg.signup)
	assert.Equal(t, emporixtest.DefaultLifetimes(), cfg.lifetimes)
	assert.False(t, cfg.frozenClock)
	assert.Empty(t, cfg.corsOrigins)

	cfg, err = parseFlags([]string{"-cors-origin", "http://a.test/, http://b.test", "-cors-origin", "*", "-customer", "x@example.com:p:w"}, io.Discard)
	require.NoError(t, err)
	assert.Equal(t, []string{"http://a.test", "http://b.test", "*"}, cfg.corsOrigins)
	assert.Equal(t, []seedCustomer{{"x@example.com", "p:w"}}, cfg.customers, "the password may hold a colon")

	_, err = parseFlags([]string{"-h"}, io.Discard)
	assert.Equal(t, errHelp, err)
}
