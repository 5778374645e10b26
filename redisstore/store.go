package redisstore

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/emporix-go/emporix"
	"github.com/redis/go-redis/v9"
)

// Defaults of a [Store].
const (
	// DefaultKeyPrefix starts every key the store writes.
	DefaultKeyPrefix = "emporix"
	// DefaultGrace is how long a session is kept past its deadline, the
	// same as [emporix.MemoryStore]'s.
	DefaultGrace = emporix.DefaultStoreGrace
	// DefaultLockTTL is how long a refresh lock outlives a replica that
	// died holding it, or a release that Redis never received. A live
	// holder renews it every third of it, so it can be short: waiters for
	// a vanished holder proceed after it.
	DefaultLockTTL = 5 * time.Second
)

// minLockTTL keeps the renewal interval (a third of the TTL) meaningful.
const minLockTTL = 30 * time.Millisecond

// ErrMalformed is returned by [Store.Load] for a stored session it cannot
// decode: a broken version field or an undecodable state. The error never
// quotes the stored value.
var ErrMalformed = errors.New("redisstore: stored session is malformed")

// Store is an [emporix.TokenStore] and [emporix.RefreshLocker] on Redis,
// shared by the replicas of a storefront. It is safe for concurrent use and
// holds no state besides its configuration: the Redis client's pool is the
// application's.
type Store struct {
	rdb           redis.UniversalClient
	prefix        string
	tenant        string
	sessionPrefix string // "<prefix>:<tenant>:session:"
	lockPrefix    string // "<prefix>:<tenant>:lock:"

	grace         time.Duration
	maxTTL        time.Duration
	lockTTL       time.Duration
	keys          []sealKey
	allowUnsealed bool
	now           func() time.Time
}

var (
	_ emporix.TokenStore    = (*Store)(nil)
	_ emporix.RefreshLocker = (*Store)(nil)
)

// Option configures a [Store]. Options validate their input, so [New]
// reports a bad option as an [*emporix.ValidationError].
type Option func(*Store) error

// WithKeyPrefix sets the prefix of every key, by default [DefaultKeyPrefix].
// Stores with different prefixes, or different tenants, never see each
// other's sessions.
func WithKeyPrefix(prefix string) Option {
	return func(s *Store) error {
		prefix = strings.TrimSuffix(prefix, ":")
		if prefix == "" {
			return invalid("key prefix", "must not be empty")
		}
		s.prefix = prefix
		return nil
	}
}

// WithGrace sets how long a session is kept past its
// [emporix.SessionState.Deadline], by default [DefaultGrace]: the key expires
// at [emporix.SessionState.KeepUntil], the deadline [emporix.MemoryStore]
// keeps too. The grace lets
// a shopper who returns just after the refresh token died get a new session
// whose change is reported with the old session ID; it also absorbs clock
// skew between the replicas and Redis.
func WithGrace(d time.Duration) Option {
	return func(s *Store) error {
		if d < 0 {
			return invalid("grace", "must not be negative")
		}
		s.grace = d
		return nil
	}
}

// WithMaxTTL caps how long any session is kept after it was last saved,
// sessions without a deadline included, which are otherwise kept until
// deleted. Zero, the default, sets no cap. A cap shorter than the refresh
// tokens' lifetime (24 hours for a guest, see
// [emporix.DefaultAnonymousRefreshLifetime]) forgets sessions that could
// still be renewed: a guest who returns later gets a new session ID.
func WithMaxTTL(d time.Duration) Option {
	return func(s *Store) error {
		if d < 0 {
			return invalid("max TTL", "must not be negative")
		}
		s.maxTTL = d
		return nil
	}
}

// WithLockTTL sets how long a refresh lock is kept when its holder stops
// renewing it (the holder died), by default [DefaultLockTTL]; the holder
// renews it every third of the TTL. Replicas waiting for a dead holder wait
// at most this long, within their refresh timeout
// ([emporix.WithRefreshTimeout]). It must be at least 30 ms.
func WithLockTTL(d time.Duration) Option {
	return func(s *Store) error {
		if d < minLockTTL {
			return invalid("lock TTL", "must be at least 30ms")
		}
		s.lockTTL = d
		return nil
	}
}

// New returns a store for the sessions of tenant in rdb, which may be a
// *redis.Client, *redis.ClusterClient or *redis.Ring. Nothing is sent to
// Redis until the store is used.
func New(rdb redis.UniversalClient, tenant string, opts ...Option) (*Store, error) {
	if rdb == nil {
		return nil, invalid("redis client", "must not be nil")
	}
	if err := validateTenant(tenant); err != nil {
		return nil, err
	}
	s := &Store{rdb: rdb, prefix: DefaultKeyPrefix, tenant: tenant, grace: DefaultGrace, lockTTL: DefaultLockTTL, now: time.Now}
	for _, opt := range opts {
		if opt == nil {
			continue
		}
		if err := opt(s); err != nil {
			return nil, err
		}
	}
	base := s.prefix + ":" + s.tenant + ":"
	s.sessionPrefix, s.lockPrefix = base+"session:", base+"lock:"
	return s, nil
}

// validateTenant keeps tenants to the characters Emporix uses, which also
// keeps the key layout unambiguous.
func validateTenant(tenant string) error {
	if tenant == "" {
		return invalid("tenant", "must not be empty")
	}
	for i := 0; i < len(tenant); i++ {
		c := tenant[i]
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '-' && c != '_' {
			return invalid("tenant", "must be lowercase letters, digits, '-' and '_'")
		}
	}
	return nil
}

func invalid(field, reason string) error {
	return &emporix.ValidationError{Field: field, Reason: reason}
}

// sessionKey returns the Redis key of the session under the application's
// key, and lockKey the Redis key of the refresh lock called name. Neither
// holds the key or name in clear: both end in its digest (see [keyDigest]).
func (s *Store) sessionKey(key string) string { return s.sessionPrefix + keyDigest(key) }
func (s *Store) lockKey(name string) string   { return s.lockPrefix + keyDigest(name) }

// keyDigest returns the SHA-256 digest of a session key or lock name,
// base64url-encoded without padding (43 characters, none of them ':' or a
// glob character). Session keys are credentials, and Redis keys are shown
// to whoever can run SCAN, KEYS or MONITOR, or reads a dump or a slow log;
// the digest names the entry without revealing the cookie. Session keys
// are random (128 bits from [emporix.NewSessionKey]), so an unkeyed hash
// can be neither reversed nor guessed, and distinct keys do not collide.
func keyDigest(s string) string {
	sum := sha256.Sum256([]byte(s))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// saveScript is the compare-and-swap: KEYS[1] the session; ARGV[1] the
// expected version ("0": must not exist), ARGV[2] the new version, ARGV[3]
// the state, ARGV[4] the expiry in Unix milliseconds ("0": none). Versions
// are compared as strings, so they stay exact beyond Lua's 2^53.
var saveScript = redis.NewScript(`
local cur = redis.call('HGET', KEYS[1], 'v')
if not cur then cur = '0' end
if cur ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'v', ARGV[2], 'state', ARGV[3])
if ARGV[4] == '0' then
  redis.call('PERSIST', KEYS[1])
else
  redis.call('PEXPIREAT', KEYS[1], ARGV[4])
end
return 1
`)

// Load implements [emporix.TokenStore]. It returns
// [emporix.ErrSessionNotFound] when there is no session under key, an
// [*UnsealError] when a sealed session cannot be opened (or an unsealed one
// is found while sealing is on), and [ErrMalformed] when the value cannot
// be decoded.
func (s *Store) Load(ctx context.Context, key string) (*emporix.SessionState, uint64, error) {
	if key == "" {
		return nil, 0, invalid("session key", "must not be empty")
	}
	rkey := s.sessionKey(key)
	vals, err := s.rdb.HMGet(ctx, rkey, "v", "state").Result()
	if err != nil {
		return nil, 0, fmt.Errorf("redisstore: loading a session: %w", err)
	}
	rawVersion, _ := vals[0].(string)
	rawState, _ := vals[1].(string)
	if vals[0] == nil {
		return nil, 0, emporix.ErrSessionNotFound
	}
	version, err := strconv.ParseUint(rawVersion, 10, 64)
	if err != nil || version == 0 {
		return nil, 0, fmt.Errorf("%w: bad version field", ErrMalformed)
	}
	if vals[1] == nil {
		return nil, 0, fmt.Errorf("%w: no state field", ErrMalformed)
	}
	data, err := s.open(rkey, []byte(rawState))
	if err != nil {
		return nil, 0, err
	}
	state, err := emporix.UnmarshalSessionState(data)
	clear(data)
	if err != nil {
		// The decoder's message may quote a character of the value.
		return nil, 0, fmt.Errorf("%w: undecodable state", ErrMalformed)
	}
	return state, version, nil
}

// Save implements [emporix.TokenStore]: it stores state if the stored version
// is expected (0: no session is stored), or returns
// [emporix.ErrStoreConflict]. The entry expires the grace period after the
// state's deadline.
func (s *Store) Save(ctx context.Context, key string, state *emporix.SessionState, expected uint64) (uint64, error) {
	if key == "" {
		return 0, invalid("session key", "must not be empty")
	}
	if expected == math.MaxUint64 {
		return 0, emporix.ErrStoreConflict
	}
	data, err := emporix.MarshalSessionState(state)
	if err != nil {
		return 0, err
	}
	rkey := s.sessionKey(key)
	if len(s.keys) > 0 {
		sealed, err := s.seal(rkey, data)
		clear(data)
		if err != nil {
			return 0, err
		}
		data = sealed
	}
	next := expected + 1
	ok, err := saveScript.Run(ctx, s.rdb, []string{rkey},
		strconv.FormatUint(expected, 10), strconv.FormatUint(next, 10), data, s.expireAt(state)).Int()
	clear(data)
	if err != nil {
		return 0, fmt.Errorf("redisstore: saving a session: %w", err)
	}
	if ok != 1 {
		return 0, emporix.ErrStoreConflict
	}
	return next, nil
}

// expireAt is the entry's expiry in Unix milliseconds for state, or 0 for
// none: [emporix.SessionState.KeepUntil] with the store's grace, the same
// deadline as [emporix.MemoryStore]'s, capped by the max TTL.
func (s *Store) expireAt(state *emporix.SessionState) int64 {
	at := state.KeepUntil(s.grace)
	if s.maxTTL > 0 {
		if limit := s.now().Add(s.maxTTL); at.IsZero() || at.After(limit) {
			at = limit
		}
	}
	if at.IsZero() {
		return 0
	}
	// A time before 1970 still means "expired": Redis deletes the key.
	return max(at.UnixMilli(), 1)
}

// Delete implements [emporix.TokenStore]. Deleting a missing session is not
// an error.
func (s *Store) Delete(ctx context.Context, key string) error {
	if key == "" {
		return invalid("session key", "must not be empty")
	}
	if err := s.rdb.Del(ctx, s.sessionKey(key)).Err(); err != nil {
		return fmt.Errorf("redisstore: deleting a session: %w", err)
	}
	return nil
}
