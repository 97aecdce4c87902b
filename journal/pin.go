package journal

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

// ErrWrongPIN: the PIN does not match.
var ErrWrongPIN = errors.New("wrong PIN")

// HashPIN returns the stored form of a manager PIN (at least 4 digits).
func HashPIN(pin string) (string, error) { return hashPIN(pin, pinIter) }

func hashPIN(pin string, iter int) (string, error) {
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

// VerifyPIN checks a PIN against HashPIN's output in constant time: nil on a
// match, ErrWrongPIN otherwise, another error for a malformed hash.
func VerifyPIN(stored, pin string) error {
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
		return ErrWrongPIN
	}
	return nil
}
