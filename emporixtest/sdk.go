package emporixtest

import "github.com/emporix-go/emporix"

// ClientOptions returns the options that point an SDK client at the fake:
// its URL, an HTTP client for it, and its clock, so that [Server.Advance]
// expires the client's tokens and, through the client, the sessions of a
// [emporix.MemoryStore] its [emporix.SessionManager] keeps:
//
//	client, err := emporix.NewClient(fake.Tenant(), fake.ClientID(), fake.ClientOptions()...)
//	sessions, err := emporix.NewSessionManager(client, emporix.NewMemoryStore())
//	fake.Advance(2 * time.Hour) // the anonymous token has expired for client and store alike
//
// Options given after these override them.
func (s *Server) ClientOptions() []emporix.Option {
	return []emporix.Option{
		emporix.WithBaseURL(s.URL()),
		emporix.WithHTTPClient(s.Client()),
		emporix.WithClock(s.Now),
	}
}
