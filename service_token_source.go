package emporix

import (
	"context"
	"fmt"
	"time"
)

// serviceTokenMargin is how long before expiry a cached service token is
// replaced.
const serviceTokenMargin = time.Minute

// ServiceTokenSource returns a [TokenSource] of service tokens for creds:
// it fetches one with [EmployeeService.ServiceToken] and reuses it until a
// minute before it expires (the OAuth service has no refresh). It is safe
// for concurrent use; callers that find no valid token wait for one fetch,
// each only as long as its own context allows. Its Token refuses a nil
// context with a *ValidationError matching ErrInvalidInput.
func (s *EmployeeService) ServiceTokenSource(creds *ServiceCredentials) TokenSource {
	src := &serviceTokenSource{svc: s, lock: make(chan struct{}, 1)}
	if creds != nil {
		src.creds = *creds
	}
	return src
}

type serviceTokenSource struct {
	svc   *EmployeeService
	creds ServiceCredentials
	lock  chan struct{} // a mutex whose wait honours the context
	tok   *Token        // guarded by lock
}

// Token returns the cached service token or fetches a new one.
func (s *serviceTokenSource) Token(ctx context.Context) (*Token, error) {
	if ctx == nil {
		return nil, invalid("context", "must not be nil")
	}
	select {
	case s.lock <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	defer func() { <-s.lock }()
	now := s.svc.client.now()
	if s.tok != nil && (s.tok.Expiry.IsZero() || now.Before(s.tok.Expiry.Add(-serviceTokenMargin))) {
		return s.tok, nil
	}
	tok, err := s.svc.ServiceToken(ctx, &s.creds)
	if err != nil {
		return nil, err
	}
	s.tok = tok
	return tok, nil
}

// String hides the credentials.
func (s *serviceTokenSource) String() string { return "emporix.ServiceTokenSource" }

// GoString hides the credentials.
func (s *serviceTokenSource) GoString() string { return "emporix.ServiceTokenSource{}" }

// Format hides the credentials under every verb.
func (s *serviceTokenSource) Format(f fmt.State, _ rune) { formatOpaque(f, s.String()) }
