package redisstore

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strconv"
)

// SealKeySize is the size of a sealing key: AES-256.
const SealKeySize = 32

const (
	sealedPrefix = "sealed1:"
	keyIDSize    = 4
	nonceSize    = 12
	tagSize      = 16
	// aadLabel separates this use of a key from any other.
	aadLabel = "emporix-go/redisstore sealed session\x00"
	idLabel  = "emporix-go/redisstore key id"
)

// ErrUnsealable matches every [*UnsealError].
var ErrUnsealable = errors.New("redisstore: stored session cannot be unsealed")

// UnsealError reports a stored session that the store cannot open: no
// configured key has its key ID, none authenticates it (a wrong key, or a
// value altered or moved from another session's key), it is not sealed while
// sealing is on, or it is sealed while no keys are configured. It matches
// [ErrUnsealable]. It holds nothing of the value but its key ID.
//
// The session cannot be used until it is deleted ([Store.Delete]) or the
// right key is configured; an application may delete it and let the shopper
// start a new session.
type UnsealError struct {
	// KeyID is the ID of the key the value was sealed with (see
	// [SealKeyID]), or empty when the value is not sealed or malformed.
	KeyID string
	// Reason says what is wrong.
	Reason string
}

// Error describes the failure.
func (e *UnsealError) Error() string {
	msg := "redisstore: cannot unseal the stored session: " + e.Reason
	if e.KeyID != "" {
		msg += " (key ID " + e.KeyID + ")"
	}
	return msg
}

// Is matches [ErrUnsealable].
func (e *UnsealError) Is(target error) bool { return target == ErrUnsealable }

type sealKey struct {
	id   [keyIDSize]byte
	aead cipher.AEAD
}

// WithSealKeys seals every stored session with AES-256-GCM under the first
// key, and opens stored sessions with whichever key they were sealed with.
// Each key must be [SealKeySize] random bytes; keep them in a secret manager,
// not next to the Redis credentials. To rotate, put the new key first and
// keep the old ones until the sessions sealed with them have been written
// again or have expired. The keys are copied.
//
// A random nonce is drawn for every write; rotate keys well before one key
// has sealed 2^32 values.
func WithSealKeys(keys ...[]byte) Option {
	return func(s *Store) error {
		if len(keys) == 0 {
			return invalid("seal keys", "at least one key is required")
		}
		sealKeys := make([]sealKey, 0, len(keys))
		for i, k := range keys {
			if len(k) != SealKeySize {
				return invalid("seal keys["+strconv.Itoa(i)+"]", "must be 32 bytes")
			}
			block, err := aes.NewCipher(bytes.Clone(k))
			if err != nil {
				return invalid("seal keys["+strconv.Itoa(i)+"]", "not an AES key")
			}
			aead, err := cipher.NewGCM(block)
			if err != nil {
				return invalid("seal keys["+strconv.Itoa(i)+"]", "not an AES-GCM key")
			}
			sealKeys = append(sealKeys, sealKey{id: keyID(k), aead: aead})
		}
		s.keys = sealKeys
		return nil
	}
}

// WithAllowUnsealed lets a sealing store read sessions stored unsealed, for
// the migration of a store that ran without sealing: they are sealed when
// next written. Keep it only as long as such sessions may live (their
// deadline plus the grace), since while it is on, whoever can write to Redis
// can plant a session. Without sealing keys it changes nothing.
func WithAllowUnsealed() Option {
	return func(s *Store) error {
		s.allowUnsealed = true
		return nil
	}
}

// SealKeyID returns the ID that sealed values record for key, as an
// [*UnsealError] reports it: the first 4 bytes of HMAC-SHA-256 of a fixed
// label under the key, hex-encoded. It tells which key a value needs without
// revealing anything of the key.
func SealKeyID(key []byte) string {
	id := keyID(key)
	return hex.EncodeToString(id[:])
}

func keyID(key []byte) [keyIDSize]byte {
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(idLabel))
	var id [keyIDSize]byte
	copy(id[:], mac.Sum(nil))
	return id
}

// aad binds a sealed value to its Redis key and header.
func aad(rkey string, header []byte) []byte {
	b := make([]byte, 0, len(aadLabel)+len(header)+len(rkey))
	b = append(b, aadLabel...)
	b = append(b, header...)
	return append(b, rkey...)
}

// seal encrypts plaintext for rkey under the first key.
func (s *Store) seal(rkey string, plaintext []byte) ([]byte, error) {
	k := s.keys[0]
	out := make([]byte, 0, len(sealedPrefix)+keyIDSize+nonceSize+len(plaintext)+tagSize)
	out = append(out, sealedPrefix...)
	out = append(out, k.id[:]...)
	header := out[:len(out):len(out)]
	nonce := make([]byte, nonceSize)
	if _, err := rand.Read(nonce); err != nil {
		return nil, errors.New("redisstore: no randomness for a nonce")
	}
	out = append(out, nonce...)
	return k.aead.Seal(out, nonce, plaintext, aad(rkey, header)), nil
}

// open returns the encoded state of a stored value: unsealed when sealing is
// off, else decrypted under the key whose ID it records.
func (s *Store) open(rkey string, value []byte) ([]byte, error) {
	isSealed := bytes.HasPrefix(value, []byte(sealedPrefix))
	switch {
	case !isSealed && (len(s.keys) == 0 || s.allowUnsealed):
		return value, nil
	case !isSealed:
		return nil, &UnsealError{Reason: "the value is not sealed, and unsealed values are not allowed"}
	}
	body := value[len(sealedPrefix):]
	if len(body) < keyIDSize+nonceSize+tagSize {
		return nil, &UnsealError{Reason: "the sealed value is truncated"}
	}
	id := body[:keyIDSize]
	idHex := hex.EncodeToString(id)
	if len(s.keys) == 0 {
		return nil, &UnsealError{KeyID: idHex, Reason: "the value is sealed, but no seal keys are configured"}
	}
	header := value[:len(sealedPrefix)+keyIDSize]
	nonce := body[keyIDSize : keyIDSize+nonceSize]
	ciphertext := body[keyIDSize+nonceSize:]
	tried := false
	for _, k := range s.keys {
		if !bytes.Equal(k.id[:], id) {
			continue
		}
		tried = true
		if plain, err := k.aead.Open(nil, nonce, ciphertext, aad(rkey, header)); err == nil {
			return plain, nil
		}
	}
	if !tried {
		return nil, &UnsealError{KeyID: idHex, Reason: "no configured seal key has the value's key ID"}
	}
	return nil, &UnsealError{KeyID: idHex, Reason: "the value does not authenticate: it was altered, or moved from another key"}
}
