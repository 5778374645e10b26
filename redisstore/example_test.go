package redisstore_test

import (
	"encoding/base64"
	"errors"
	"fmt"
	"log"
	"net/http"
	"os"

	"github.com/emporix-go/emporix"
	"github.com/emporix-go/emporix/redisstore"
	"github.com/redis/go-redis/v9"
)

// Every replica of a storefront runs this setup against the same Redis. The
// example needs a Redis server, so it is compiled but not run.
func Example() {
	opts, err := redis.ParseURL(os.Getenv("REDIS_URL")) // e.g. redis://redis:6379/0
	if err != nil {
		log.Fatal(err)
	}
	rdb := redis.NewClient(opts)
	defer rdb.Close()

	// A 32-byte key from the secret manager, base64-encoded. To rotate, put
	// the new key first and keep the old one for a while.
	key, err := base64.StdEncoding.DecodeString(os.Getenv("SESSION_SEAL_KEY"))
	if err != nil {
		log.Fatal(err)
	}
	store, err := redisstore.New(rdb, "mytenant", redisstore.WithSealKeys(key))
	if err != nil {
		log.Fatal(err)
	}

	client, err := emporix.NewClient("mytenant", "storefront-client-id")
	if err != nil {
		log.Fatal(err)
	}
	sessions, err := emporix.NewSessionManager(client, store)
	if err != nil {
		log.Fatal(err)
	}

	http.HandleFunc("/profile", func(w http.ResponseWriter, r *http.Request) {
		cookie, err := r.Cookie("shopper")
		if err != nil {
			http.Error(w, "no session", http.StatusUnauthorized)
			return
		}
		profile, err := sessions.Session(cookie.Value).Client().Profile.Get(r.Context(), nil)
		if errors.Is(err, redisstore.ErrUnsealable) {
			// Sealed with a key that is no longer configured: start over.
			_ = store.Delete(r.Context(), cookie.Value)
		}
		if err != nil {
			http.Error(w, "unavailable", http.StatusBadGateway)
			return
		}
		_ = profile
	})
}

// An [redisstore.UnsealError] names the ID of the key a sealed session
// needs; SealKeyID tells which configured key that is.
func ExampleSealKeyID() {
	key := make([]byte, redisstore.SealKeySize) // all zeros: for the example only
	fmt.Println(redisstore.SealKeyID(key))
	// Output: 58c30846
}
