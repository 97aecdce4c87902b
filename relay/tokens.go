package relay

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"unicode"

	"qrkiosk/relay/store"
	"qrkiosk/relay/wire"
)

// TokenPrefix starts every kiosk token, so one found in a log or a config
// file is recognisable (and scanners can look for it).
const TokenPrefix = "qrkt_"

// tokenBytes is the token's randomness: 256 bits.
const tokenBytes = 32

// HashToken is what the store keeps of a token: its SHA-256. Tokens are
// 256 random bits, so a fast hash is enough (nothing to brute-force).
func HashToken(secret string) []byte {
	h := sha256.Sum256([]byte(secret))
	return h[:]
}

// ValidDeviceID checks a kiosk's udid as a token binds it: what the kiosk
// sends QFPay on every order (QRKIOSK_UDID), 1-64 printable characters.
func ValidDeviceID(udid string) error {
	if udid == "" || len(udid) > wire.MaxUDID {
		return fmt.Errorf("udid %q: 1-%d characters (the kiosk's QRKIOSK_UDID)", udid, wire.MaxUDID)
	}
	for _, r := range udid {
		if !unicode.IsPrint(r) || unicode.IsSpace(r) {
			return fmt.Errorf("udid %q: printable characters without blanks only", udid)
		}
	}
	return nil
}

// IssueToken creates a kiosk token bound to a merchant and a device,
// stores its hash, and returns the secret: shown once, never stored.
func IssueToken(ctx context.Context, st store.Store, merchant, udid, note string) (secret string, t *store.Token, err error) {
	if err := ValidMerchantID(merchant); err != nil {
		return "", nil, err
	}
	if err := ValidDeviceID(udid); err != nil {
		return "", nil, err
	}
	if len(note) > 200 {
		return "", nil, fmt.Errorf("note: at most 200 characters")
	}
	b := make([]byte, tokenBytes)
	rand.Read(b) // never fails (crypto/rand panics rather than return short)
	secret = TokenPrefix + base64.RawURLEncoding.EncodeToString(b)
	t = &store.Token{Hash: HashToken(secret), Merchant: merchant, UDID: udid, Note: note}
	if err := st.AddToken(ctx, t); err != nil {
		return "", nil, err
	}
	return secret, t, nil
}
