package emporix_test

import (
	"context"
	"fmt"
	"log"

	"github.com/emporix-go/emporix"
	"github.com/emporix-go/emporix/emporixtest"
)

// A storefront keeps the shopper's last session ID in its cookie beside the
// session key. Should the store lose the session, the new one is reported
// with the remembered ID, so the guest cart can follow.
func ExampleRememberSessionID() {
	srv := emporixtest.NewServer()
	defer srv.Close()
	client, err := emporix.NewClient(srv.Tenant(), srv.ClientID(), emporix.WithBaseURL(srv.URL()))
	if err != nil {
		log.Fatal(err)
	}
	store := emporix.NewMemoryStore()
	sessions, err := emporix.NewSessionManager(client, store,
		emporix.WithSessionChangeHook(func(_ context.Context, ch emporix.SessionChange) {
			fmt.Println("reported:", ch.Reason, "old ID known:", ch.OldSessionID != "")
		}))
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()

	// The cookie holds the key and, after each request, the session ID.
	key := emporix.NewSessionKey()
	lastID, err := sessions.Session(key).SessionID(ctx)
	if err != nil {
		log.Fatal(err)
	}

	_ = store.Delete(ctx, key) // the store loses the session (eviction, flush, restart)

	ctx = emporix.RememberSessionID(ctx, lastID)
	newID, err := sessions.Session(key).SessionID(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("new session:", newID != lastID)
	// Output:
	// reported: session-lost old ID known: true
	// new session: true
}

// A B2B customer works for a legal entity, then returns to their own token.
func ExampleSession_LeaveLegalEntity() {
	srv := emporixtest.NewServer()
	defer srv.Close()
	number, err := srv.AddCustomer("buyer@example.com", "P@ssw0rd123")
	if err != nil {
		log.Fatal(err)
	}
	srv.AssignLegalEntity(number, emporixtest.LegalEntity{ID: "le-1", Name: "Acme GmbH"})
	client, err := emporix.NewClient(srv.Tenant(), srv.ClientID(), emporix.WithBaseURL(srv.URL()))
	if err != nil {
		log.Fatal(err)
	}
	sessions, err := emporix.NewSessionManager(client, emporix.NewMemoryStore())
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	s := sessions.Session(emporix.NewSessionKey())
	if _, err := s.Login(ctx, &emporix.LoginRequest{Email: "buyer@example.com", Password: "P@ssw0rd123"}); err != nil {
		log.Fatal(err)
	}

	scoped, err := s.SwitchLegalEntity(ctx, "le-1")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("scoped to %q\n", scoped.LegalEntityID)

	own, err := s.LeaveLegalEntity(ctx)
	if err != nil {
		log.Fatal(err)
	}
	info, err := s.Client().Auth.Validate(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("scoped to %q, the service says %q\n", own.LegalEntityID, info.LegalEntityID)
	// Output:
	// scoped to "le-1"
	// scoped to "", the service says ""
}
