package emporix

import (
	"encoding/json"
	"time"
)

// The persisted form of a session, shared by every store that serializes
// (MemoryStore snapshots, the Redis store). It is the only place tokens are
// written out with their secrets, so it is explicit and versioned instead of
// relying on the JSON encoding of Token.

type persistedSession struct {
	Key   string      `json:"key"`
	State storedState `json:"state"`
}

type storedState struct {
	Version   int          `json:"v"`
	Anonymous *storedToken `json:"anonymous,omitempty"`
	Customer  *storedToken `json:"customer,omitempty"`
	Ended     *storedEnded `json:"ended_login,omitempty"`
}

type storedEnded struct {
	CustomerNumber string    `json:"customer_number,omitempty"`
	At             time.Time `json:"at,omitzero"`
}

type storedToken struct {
	Kind              TokenKind `json:"kind"`
	AccessToken       string    `json:"access_token"`
	TokenType         string    `json:"token_type,omitempty"`
	RefreshToken      string    `json:"refresh_token,omitempty"`
	SaasToken         string    `json:"saas_token,omitempty"`
	SessionID         string    `json:"session_id,omitempty"`
	Scope             string    `json:"scope,omitempty"`
	LegalEntityID     string    `json:"legal_entity_id,omitempty"`
	IssuedAt          time.Time `json:"issued_at,omitzero"`
	Expiry            time.Time `json:"expiry,omitzero"`
	RefreshExpiry     time.Time `json:"refresh_expiry,omitzero"`
	SessionIdleTime   int64     `json:"session_idle_time_s,omitempty"`
	InitialPassword   bool      `json:"initial_password,omitempty"`
	SocialAccessToken string    `json:"social_access_token,omitempty"`
	SocialIDToken     string    `json:"social_id_token,omitempty"`
}

const storedStateVersion = 1

func encodeState(s *SessionState) storedState {
	st := storedState{Version: storedStateVersion, Anonymous: encodeToken(s.Anonymous), Customer: encodeToken(s.Customer)}
	if e := s.EndedLogin; e != nil {
		st.Ended = &storedEnded{CustomerNumber: e.CustomerNumber, At: e.At}
	}
	return st
}

func (s storedState) decode() *SessionState {
	st := &SessionState{Anonymous: s.Anonymous.decode(), Customer: s.Customer.decode()}
	if e := s.Ended; e != nil {
		st.EndedLogin = &EndedLogin{CustomerNumber: e.CustomerNumber, At: e.At}
	}
	return st
}

func encodeToken(t *Token) *storedToken {
	if t == nil {
		return nil
	}
	return &storedToken{
		Kind: t.Kind, AccessToken: string(t.AccessToken), TokenType: t.TokenType, RefreshToken: string(t.RefreshToken),
		SaasToken: string(t.SaasToken), SessionID: t.SessionID, Scope: t.Scope, LegalEntityID: t.LegalEntityID,
		IssuedAt: t.IssuedAt, Expiry: t.Expiry, RefreshExpiry: t.RefreshExpiry,
		SessionIdleTime: int64(t.SessionIdleTime / time.Second), InitialPassword: t.InitialPassword,
		SocialAccessToken: string(t.SocialAccessToken), SocialIDToken: string(t.SocialIDToken),
	}
}

func (s *storedToken) decode() *Token {
	if s == nil {
		return nil
	}
	return &Token{
		Kind: s.Kind, AccessToken: Secret(s.AccessToken), TokenType: s.TokenType, RefreshToken: Secret(s.RefreshToken),
		SaasToken: Secret(s.SaasToken), SessionID: s.SessionID, Scope: s.Scope, LegalEntityID: s.LegalEntityID,
		IssuedAt: s.IssuedAt, Expiry: s.Expiry, RefreshExpiry: s.RefreshExpiry,
		SessionIdleTime: time.Duration(s.SessionIdleTime) * time.Second, InitialPassword: s.InitialPassword,
		SocialAccessToken: Secret(s.SocialAccessToken), SocialIDToken: Secret(s.SocialIDToken),
	}
}

// MarshalSessionState encodes a session with its secrets, for stores that
// keep sessions outside the process. Protect the result like the tokens.
func MarshalSessionState(s *SessionState) ([]byte, error) {
	if s == nil {
		return nil, invalid("SessionState", "must not be nil")
	}
	return json.Marshal(encodeState(s))
}

// UnmarshalSessionState decodes what MarshalSessionState produced.
func UnmarshalSessionState(data []byte) (*SessionState, error) {
	var s storedState
	if err := json.Unmarshal(data, &s); err != nil {
		// The decoder's message can quote part of the value, which holds
		// tokens: keep only that the data is malformed.
		return nil, invalid("SessionState", "malformed encoding")
	}
	if s.Version != storedStateVersion {
		return nil, invalid("SessionState", "unsupported encoding version")
	}
	return s.decode(), nil
}
