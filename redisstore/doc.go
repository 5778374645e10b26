// Package redisstore keeps emporix shopper sessions in Redis, so that the
// replicas of a storefront share them.
//
// A [Store] implements [emporix.TokenStore] and [emporix.RefreshLocker]:
//
//	rdb := redis.NewClient(&redis.Options{Addr: "localhost:6379"})
//	store, err := redisstore.New(rdb, "mytenant",
//		redisstore.WithSealKeys(key)) // optional: tokens encrypted at rest
//	sessions, err := emporix.NewSessionManager(client, store)
//
// Every replica creates its own [emporix.SessionManager] on the same Redis
// and tenant. Within a replica a refresh is single-flight; across replicas
// the manager takes the store's refresh lock, so however many requests of
// however many replicas find a session expired, the token service sees one
// refresh, and every replica then serves the token it returned.
//
// # Keys and values
//
// A session lives under "<prefix>:<tenant>:session:<digest>", where the
// prefix is "emporix" unless [WithKeyPrefix] says otherwise and digest is
// the SHA-256 of the application's session key (the shopper's cookie),
// base64url-encoded without padding. The value is a hash with two fields:
// "v", the decimal version used for compare-and-swap, and "state", the
// session as [emporix.MarshalSessionState] encodes it, or that encoding
// sealed (see below). No hash tags are used, so in Redis Cluster the
// sessions of one tenant spread over all slots; every command and script
// touches a single key.
//
// Refresh locks live under "<prefix>:<tenant>:lock:<digest>", the digest
// of the lock's name (which holds the session key), encoded the same way.
//
// Session keys are credentials of the shoppers' browser sessions: they never
// appear in an error of this package, and neither does a token. Nor are they
// sent to Redis: keys hold only their digests, so whoever can run SCAN or
// MONITOR, or reads a dump, cannot take a shopper's cookie from it, sealed
// or not (sealing covers the values). The digest is unkeyed: session keys
// are random ([emporix.NewSessionKey] draws 128 bits), so it can be neither
// reversed nor guessed. Application keys that are not random, or that are
// short, would be exposed to guessing; use [emporix.NewSessionKey]. The
// package logs nothing.
//
// # Compare-and-swap and expiry
//
// [Store.Save] runs one Lua script (EVALSHA, falling back to EVAL when the
// server does not know it, for instance after a restart) that compares the
// stored version with the expected one (0 meaning the session must not
// exist), writes the new state and version, and sets the entry's expiry, all
// in one step. A mismatch is [emporix.ErrStoreConflict].
//
// An entry expires a grace period ([WithGrace], by default one hour like
// [emporix.MemoryStore]) after its [emporix.SessionState.Deadline], the
// moment nothing in it can be used or renewed any more. The expiry is an
// absolute time (PEXPIREAT), so Redis's clock decides; the grace period
// absorbs clock skew between the replicas, which computed the token
// expiries, and Redis. A session without a deadline is kept until deleted,
// unless [WithMaxTTL] caps how long any entry is kept.
//
// # Refresh lock
//
// [Store.LockRefresh] takes a lock per name with SET NX PX and a random
// token, polling with short jittered sleeps until it is free or the context
// ends. While held, the lock's expiry is renewed every third of its TTL
// ([WithLockTTL], by default 10 s), so a slow refresh keeps it while the lock
// of a replica that died frees itself within one TTL. Unlocking deletes the
// lock only if it still holds the token it was taken with.
//
// # Sealing
//
// With [WithSealKeys] the state is encrypted with AES-256-GCM under a key the
// application provides: a random 12-byte nonce per write, and the Redis key
// (holding the session key's digest) as additional authenticated data, so a
// sealed value copied to another session's key does not open. Each sealed value records an ID derived from
// its key (see [SealKeyID]); new writes use the first key, and reads use
// whichever configured key matches, so keys can be rotated by putting the new
// key first and keeping the old ones until every session was written again
// or expired (a logged-in session may live about 30 days, plus the grace). A
// value that cannot be opened is an [*UnsealError], matched by
// [ErrUnsealable], whose text holds nothing of the value but its key ID.
//
// With sealing on, values that are not sealed are refused (also an
// [*UnsealError]), so that an attacker who can write to Redis cannot plant a
// session. To turn sealing on for sessions already stored unsealed, add
// [WithAllowUnsealed] for as long as those sessions may live (their deadline
// plus the grace): they are read, and sealed when next written.
//
// The sealed format is "sealed1:" followed by the 4-byte key ID, the nonce,
// and the ciphertext with its 16-byte tag.
//
// # Failures
//
// Redis errors are returned wrapped, with the operation named; they match
// with errors.Is as go-redis defines (for instance context.DeadlineExceeded).
// A failed unlock is not reported: the lock expires by itself within its TTL.
// After Redis restarts, the client reconnects and the scripts are loaded
// again on first use.
package redisstore
