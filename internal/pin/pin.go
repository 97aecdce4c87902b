// Package pin keeps the kiosk's PINs: the manager PIN that guards refunds
// (only its salted, slow hash is stored) and the lockout that stops a
// patient customer from guessing either PIN. It imports no UI.
package pin

import (
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// The manager PIN guards refunds. Only a salted, slow hash of it is kept:
// "pbkdf2-sha256$ITER$SALT$HASH" (base64, no padding). A PIN has few
// digits, so the iteration count is what makes guessing a stolen hash cost.
const (
	pinScheme = "pbkdf2-sha256"
	pinIter   = 600_000 // OWASP's figure for PBKDF2-HMAC-SHA256
	pinSalt   = 16
	pinKey    = 32
	minPIN    = 4
)

// ErrWrong: the PIN does not match.
var ErrWrong = errors.New("wrong PIN")

// Hash returns the stored form of a manager PIN (at least 4 digits).
func Hash(pin string) (string, error) { return HashIter(pin, pinIter) }

// HashIter is Hash with another iteration count: tests use few, so that
// they do not spend seconds in PBKDF2 under -race.
func HashIter(pin string, iter int) (string, error) {
	if len(pin) < minPIN || strings.Trim(pin, "0123456789") != "" {
		return "", fmt.Errorf("a manager PIN is at least %d digits", minPIN)
	}
	salt := make([]byte, pinSalt)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	key, err := pbkdf2.Key(sha256.New, pin, salt, iter, pinKey)
	if err != nil {
		return "", err
	}
	enc := base64.RawStdEncoding
	return strings.Join([]string{pinScheme, strconv.Itoa(iter), enc.EncodeToString(salt), enc.EncodeToString(key)}, "$"), nil
}

// Verify checks a PIN against Hash's output in constant time: nil on a
// match, ErrWrong otherwise, another error for a malformed hash.
func Verify(stored, pin string) error {
	parts := strings.Split(stored, "$")
	if len(parts) != 4 || parts[0] != pinScheme {
		return errors.New("stored PIN hash: unknown format")
	}
	iter, err := strconv.Atoi(parts[1])
	if err != nil || iter < 1 || iter > 100_000_000 {
		return errors.New("stored PIN hash: bad iteration count")
	}
	enc := base64.RawStdEncoding
	salt, err1 := enc.DecodeString(parts[2])
	want, err2 := enc.DecodeString(parts[3])
	if err1 != nil || err2 != nil || len(salt) == 0 || len(want) == 0 {
		return errors.New("stored PIN hash: bad encoding")
	}
	got, err := pbkdf2.Key(sha256.New, pin, salt, iter, len(want))
	if err != nil {
		return err
	}
	if subtle.ConstantTimeCompare(got, want) != 1 {
		return ErrWrong
	}
	return nil
}

// WellFormed checks the shape of a stored hash ("pbkdf2-sha256$ITER$SALT$HASH")
// without the slow hash itself: a configuration check, so that the PIN
// itself is never put where its hash belongs.
func WellFormed(stored string) bool {
	parts := strings.Split(stored, "$")
	if len(parts) != 4 || parts[0] != pinScheme || parts[2] == "" || parts[3] == "" {
		return false
	}
	n, err := strconv.Atoi(parts[1])
	return err == nil && n > 0
}

// Equal compares a typed PIN with a configured one (the kiosk exit PIN) in
// constant time.
func Equal(typed, configured string) bool {
	return subtle.ConstantTimeCompare([]byte(typed), []byte(configured)) == 1
}
