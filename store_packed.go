package emporix

import (
	"math"
	"strings"
	"sync"
	"time"
)

// How MemoryStore keeps a session compactly. A Token is 240 bytes of
// headers (nine strings, three time.Time) before its strings, so a
// logged-in session held as a SessionState and two Tokens costs about
// 950 bytes with its strings, key and indexes. The store keeps instead one
// string with every distinct string of the session (a token type, scope or
// session ID shared by both tokens is kept once) and, per token, where each
// field lies in it and its times as Unix nanoseconds. Load rebuilds the
// SessionState in one allocation whose strings point into that one string,
// and keeps it while the session is in use: the last hotSessions sessions
// loaded stay built, so the per-request lookup of a busy session allocates
// nothing.

// hotSessions bounds how many sessions stay built after a Load (about
// 500 bytes each): 2 MiB at most, whatever the number of sessions.
const hotSessions = 4096

// packedField names the string fields of a Token in a packedToken.
const (
	pAccess = iota
	pTokenType
	pRefresh
	pSaas
	pSessionID
	pScope
	pLegalEntity
	pSocialAccess
	pSocialID
	pFields
)

// noTime stands for the zero time.Time among packed times.
const noTime = math.MinInt64

// packedToken is a Token without its strings: where each string field lies
// in the entry's data, and its times.
type packedToken struct {
	str             [pFields][2]uint16 // start and length in the entry's data
	kind            TokenKind
	initialPassword bool
	local           uint8    // bit i: times[i] is in time.Local (else UTC)
	times           [3]int64 // IssuedAt, Expiry, RefreshExpiry; noTime for zero
	idle            time.Duration
}

// builtState is what Load hands out: the state and its tokens in one
// allocation.
type builtState struct {
	state     SessionState
	anon, cst Token
}

// packer lays out a session's strings in one string, each distinct value
// once: add assigns places, join builds the string in one allocation.
type packer struct {
	seen [2 * pFields]string
	at   [2 * pFields][2]uint16
	n    int
	size int
}

func (p *packer) add(s string) ([2]uint16, bool) {
	if s == "" {
		return [2]uint16{}, true
	}
	for i := range p.n {
		if p.seen[i] == s {
			return p.at[i], true
		}
	}
	if p.size+len(s) > math.MaxUint16 {
		return [2]uint16{}, false
	}
	at := [2]uint16{uint16(p.size), uint16(len(s))}
	p.size += len(s)
	p.seen[p.n], p.at[p.n] = s, at
	p.n++
	return at, true
}

func (p *packer) join() string {
	var b strings.Builder
	b.Grow(p.size)
	for _, s := range p.seen[:p.n] {
		b.WriteString(s)
	}
	return b.String()
}

// packTime converts t, reporting false for a time the packed form cannot
// give back as it was: outside the range of Unix nanoseconds, or in a
// location other than UTC and Local.
func packTime(t time.Time) (ns int64, local, ok bool) {
	if t.IsZero() {
		return noTime, false, true
	}
	loc := t.Location()
	if loc != time.UTC && loc != time.Local {
		return 0, false, false
	}
	if t.Year() < 1678 || t.Year() > 2261 {
		return 0, false, false
	}
	return t.UnixNano(), loc == time.Local, true
}

func unpackTime(ns int64, local bool) time.Time {
	if ns == noTime {
		return time.Time{}
	}
	t := time.Unix(0, ns)
	if !local {
		t = t.UTC()
	}
	return t
}

func (p *packer) token(t *Token, out *packedToken) bool {
	fields := [pFields]string{string(t.AccessToken), t.TokenType, string(t.RefreshToken), string(t.SaasToken), t.SessionID, t.Scope,
		t.LegalEntityID, string(t.SocialAccessToken), string(t.SocialIDToken)}
	for i, s := range fields {
		at, ok := p.add(s)
		if !ok {
			return false
		}
		out.str[i] = at
	}
	for i, tm := range [3]time.Time{t.IssuedAt, t.Expiry, t.RefreshExpiry} {
		ns, local, ok := packTime(tm)
		if !ok {
			return false
		}
		out.times[i] = ns
		if local {
			out.local |= 1 << i
		}
	}
	out.kind, out.initialPassword, out.idle = t.Kind, t.InitialPassword, t.SessionIdleTime
	return true
}

func (pt *packedToken) unpack(data string, t *Token) {
	f := func(i int) string { return data[pt.str[i][0] : int(pt.str[i][0])+int(pt.str[i][1])] }
	*t = Token{
		Kind: pt.kind, AccessToken: Secret(f(pAccess)), TokenType: f(pTokenType), RefreshToken: Secret(f(pRefresh)),
		SaasToken: Secret(f(pSaas)), SessionID: f(pSessionID), Scope: f(pScope), LegalEntityID: f(pLegalEntity),
		IssuedAt:        unpackTime(pt.times[0], pt.local&1 != 0),
		Expiry:          unpackTime(pt.times[1], pt.local&2 != 0),
		RefreshExpiry:   unpackTime(pt.times[2], pt.local&4 != 0),
		SessionIdleTime: pt.idle, InitialPassword: pt.initialPassword,
		SocialAccessToken: Secret(f(pSocialAccess)), SocialIDToken: Secret(f(pSocialID)),
	}
}

// Entry flags.
const (
	hasAnon uint8 = 1 << iota
	hasCustomer
	// pinned: the state could not be packed (see pack) and is kept as
	// given, in hot, for good.
	pinned
	// removed: the entry left the store (see MemoryStore.removeLocked).
	removed
)

// pack stores state in e, compactly when it can; otherwise e keeps state
// itself. The state built last is dropped either way.
func (e *memEntry) pack(state *SessionState) {
	e.flags, e.data = 0, ""
	e.anon, e.cust = packedToken{}, packedToken{}
	var p packer
	ok := state.EndedLogin == nil // rare and short-lived: kept as it is
	if ok && state.Anonymous != nil {
		ok = p.token(state.Anonymous, &e.anon)
		e.flags |= hasAnon
	}
	if ok && state.Customer != nil {
		ok = p.token(state.Customer, &e.cust)
		e.flags |= hasCustomer
	}
	if !ok {
		e.flags, e.anon, e.cust = pinned, packedToken{}, packedToken{}
		e.hot.Store(state)
		return
	}
	e.data = p.join()
	e.hot.Store(nil)
}

// build returns the state e holds, rebuilt from its packed form.
func (e *memEntry) build() *SessionState {
	if e.flags&pinned != 0 {
		return e.hot.Load()
	}
	b := &builtState{}
	if e.flags&hasAnon != 0 {
		e.anon.unpack(e.data, &b.anon)
		b.state.Anonymous = &b.anon
	}
	if e.flags&hasCustomer != 0 {
		e.cust.unpack(e.data, &b.cst)
		b.state.Customer = &b.cst
	}
	return &b.state
}

// hotRing remembers which entries hold a built state, and drops the
// oldest's when a new one is admitted.
type hotRing struct {
	mu   sync.Mutex
	ring [hotSessions]*memEntry
	next int
}

// state returns e's state, built once and kept while e is among the
// recently loaded. The caller holds the store's read lock.
func (m *MemoryStore) state(e *memEntry) *SessionState {
	if st := e.hot.Load(); st != nil {
		return st
	}
	st := e.build()
	if !e.hot.CompareAndSwap(nil, st) {
		return e.hot.Load()
	}
	h := &m.hot
	h.mu.Lock()
	if old := h.ring[h.next]; old != nil && old != e && old.flags&pinned == 0 {
		old.hot.Store(nil)
	}
	h.ring[h.next] = e
	h.next = (h.next + 1) % hotSessions
	h.mu.Unlock()
	return st
}
