// Package scanforpay is the kiosk's client for ScanForPay's merchant API.
//
// It speaks the signed JSON envelope: merchant-presented QR orders
// (create, query), barcode payments (the customer presents the code),
// refunds and notification checks, with ScanForPay's codes and statuses
// read into payment outcomes here. ScanForPay has no cancel call, no
// expiry parameter, no refund query and no day listing, and the client
// says so through the payment package's interfaces instead of pretending.
package scanforpay

import (
	"bytes"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"qrkiosk/payment/internal/strictjson"
)

// SignType is the only signature ScanForPay documents (and its default).
const SignType = "SHA256"

// Sign returns the signature of a request or response: the lowercase hex
// SHA-256 of the exact JSON text of the `request` (or `response`) object
// followed directly by the sign key.
func Sign(object []byte, key string) string {
	h := sha256.New()
	h.Write(object)
	h.Write([]byte(key))
	return hex.EncodeToString(h.Sum(nil))
}

// ErrBadSignature: the signature is missing or does not match the text it
// covers with this merchant's key.
var ErrBadSignature = errors.New("scanforpay: signature missing or invalid")

// verify checks sig against object and key in constant time. ScanForPay
// writes lowercase hex; an upper-case copy of the same digest is accepted
// (it proves the same thing).
func verify(object []byte, sig, key string) error {
	if strings.TrimSpace(sig) == "" {
		return fmt.Errorf("%w: no signature", ErrBadSignature)
	}
	want := Sign(object, key)
	if subtle.ConstantTimeCompare([]byte(want), []byte(strings.ToLower(strings.TrimSpace(sig)))) != 1 {
		return ErrBadSignature
	}
	return nil
}

// wireRequest and wireResponse are the two envelope shapes. A RawMessage
// keeps the object's bytes exactly as received: the signature covers
// those bytes, and re-serialised JSON would not match.
type wireRequest struct {
	Request   json.RawMessage `json:"request"`
	Signature string          `json:"signature"`
}

type wireResponse struct {
	Response  json.RawMessage `json:"response"`
	Signature string          `json:"signature"`
}

// ErrMalformed: the text is not an envelope of the expected shape.
var ErrMalformed = errors.New("scanforpay: malformed envelope")

// ErrDuplicateKey: the envelope verifies, but an object in it gives a key
// twice (`response` itself, or `status` in its body). Go's decoder reads
// the last copy, another reader may take the first: what was signed would
// not be what everyone reads, so nothing in it is believed.
var ErrDuplicateKey = strictjson.ErrDuplicateKey

// OpenResponse reads a response-shaped envelope (an answer, or a
// notification) and checks its signature over the raw text of `response`
// with key, and that no object in it gives a key twice. Nothing in it may
// be believed unless this returns nil.
func OpenResponse(raw []byte, key string) (json.RawMessage, error) {
	return open(raw, key, false)
}

// OpenRequest is OpenResponse for a request envelope (the simulator checks
// requests exactly as ScanForPay does).
func OpenRequest(raw []byte, key string) (json.RawMessage, error) {
	return open(raw, key, true)
}

func open(raw []byte, key string, request bool) (json.RawMessage, error) {
	var obj json.RawMessage
	var sig string
	name := "response"
	if request {
		name = "request"
		var w wireRequest
		if err := json.Unmarshal(raw, &w); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
		}
		obj, sig = w.Request, w.Signature
	} else {
		var w wireResponse
		if err := json.Unmarshal(raw, &w); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
		}
		obj, sig = w.Response, w.Signature
	}
	if len(bytes.TrimSpace(obj)) == 0 || bytes.Equal(bytes.TrimSpace(obj), []byte("null")) {
		return nil, fmt.Errorf("%w: no %s object", ErrMalformed, name)
	}
	if obj[0] != '{' {
		return nil, fmt.Errorf("%w: %s is not an object", ErrMalformed, name)
	}
	if err := verify(obj, sig, key); err != nil {
		return nil, err
	}
	if err := strictjson.Check(raw); err != nil {
		return nil, fmt.Errorf("scanforpay: %w", err)
	}
	return obj, nil
}

// seal builds a request-shaped or response-shaped envelope around object,
// signing exactly the bytes it embeds.
func seal(name string, object []byte, key string) []byte {
	sig := Sign(object, key)
	var b bytes.Buffer
	b.Grow(len(object) + len(sig) + 32)
	b.WriteString(`{"`)
	b.WriteString(name)
	b.WriteString(`":`)
	b.Write(object)
	b.WriteString(`,"signature":"`)
	b.WriteString(sig)
	b.WriteString(`"}`)
	return b.Bytes()
}

// SealRequest wraps a serialised `request` object into the envelope sent
// to the gateway: serialise once, sign those bytes, send those bytes.
func SealRequest(object []byte, key string) []byte { return seal("request", object, key) }

// SealResponse wraps a serialised `response` object (the simulator's
// answers and notifications).
func SealResponse(object []byte, key string) []byte { return seal("response", object, key) }

// Marshal serialises v compactly, without HTML escaping and without a
// trailing newline. The gateway is documented to hash the text it gets;
// should it instead re-serialise what it parsed (a Java JSON library), this
// is also the form such a library writes.
func Marshal(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimRight(b.Bytes(), "\n"), nil
}
