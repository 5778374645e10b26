package emporixtest

import (
	"sync/atomic"
	"time"
)

// clock is the fake clock every expiry is measured against. It stands
// still unless advanced.
type clock struct{ ns atomic.Int64 }

func (c *clock) now() time.Time      { return time.Unix(0, c.ns.Load()).UTC() }
func (c *clock) set(t time.Time)     { c.ns.Store(t.UnixNano()) }
func (c *clock) add(d time.Duration) { c.ns.Add(int64(d)) }

// Now returns the fake clock's time. Pass it to a client that takes a
// clock (the SDK's WithClock) so both sides agree on expiries.
func (s *Server) Now() time.Time { return s.clock.now() }

// Advance moves the fake clock forward by d (backward if d is negative).
// Tokens and e-mailed codes expire by this clock only: real time does not
// move it.
func (s *Server) Advance(d time.Duration) { s.clock.add(d) }

// SetNow sets the fake clock.
func (s *Server) SetNow(t time.Time) { s.clock.set(t) }

func (s *Server) now() time.Time { return s.clock.now() }

// Lifetimes are the validity periods of the tokens the server mints. The
// reported expires_in values are these durations in whole seconds.
type Lifetimes struct {
	// AnonymousAccess is the anonymous access token lifetime (3599 s).
	AnonymousAccess time.Duration
	// AnonymousRefresh is the anonymous refresh token lifetime (86399 s).
	AnonymousRefresh time.Duration
	// CustomerAccess is the lifetime of customer access tokens from
	// password login, social login, double opt-in and refresh (2591999 s).
	CustomerAccess time.Duration
	// CustomerRefresh is the customer refresh token lifetime (86399 s).
	CustomerRefresh time.Duration
	// ExchangeAccess is the access token lifetime of token exchange
	// (14399 s, as in the spec's example).
	ExchangeAccess time.Duration
	// ExchangeRefresh is the refresh token lifetime of token exchange
	// (15551999 s).
	ExchangeRefresh time.Duration
	// ServiceAccess is the service token lifetime of POST /oauth/token
	// (14399 s).
	ServiceAccess time.Duration
	// MailToken is how long e-mailed reset, e-mail change and opt-in
	// tokens stay valid (24 h).
	MailToken time.Duration
}

// DefaultLifetimes returns the lifetimes the Emporix documentation gives.
func DefaultLifetimes() Lifetimes {
	return Lifetimes{
		AnonymousAccess:  3599 * time.Second,
		AnonymousRefresh: 86399 * time.Second,
		CustomerAccess:   2591999 * time.Second,
		CustomerRefresh:  86399 * time.Second,
		ExchangeAccess:   14399 * time.Second,
		ExchangeRefresh:  15551999 * time.Second,
		ServiceAccess:    14399 * time.Second,
		MailToken:        24 * time.Hour,
	}
}

// merge returns l with the non-zero fields of o.
func (l Lifetimes) merge(o Lifetimes) Lifetimes {
	pick := func(cur *time.Duration, v time.Duration) {
		if v != 0 {
			*cur = v
		}
	}
	pick(&l.AnonymousAccess, o.AnonymousAccess)
	pick(&l.AnonymousRefresh, o.AnonymousRefresh)
	pick(&l.CustomerAccess, o.CustomerAccess)
	pick(&l.CustomerRefresh, o.CustomerRefresh)
	pick(&l.ExchangeAccess, o.ExchangeAccess)
	pick(&l.ExchangeRefresh, o.ExchangeRefresh)
	pick(&l.ServiceAccess, o.ServiceAccess)
	pick(&l.MailToken, o.MailToken)
	return l
}

// SetLifetimes changes the lifetimes of tokens minted from now on; zero
// fields keep their current value. Tokens already minted keep theirs.
func (s *Server) SetLifetimes(l Lifetimes) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cfg.lifetimes = s.cfg.lifetimes.merge(l)
}

// Lifetimes returns the current lifetimes.
func (s *Server) Lifetimes() Lifetimes {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cfg.lifetimes
}

// seconds renders a lifetime as the whole seconds expires_in reports.
func seconds(d time.Duration) int64 { return int64(d / time.Second) }
