// Package qfpay is the kiosk's client for QFPay's open API (trade/v1).
//
// It signs requests, creates QR orders and charges scanned codes, queries,
// withdraws (reversal, close) and refunds them, checks notifications, and
// owns QFPay's vocabulary: its response codes and cancel flags are read
// into payment outcomes here (respcd.go) and nowhere else.
package qfpay

import (
	"crypto/md5"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"net/url"
	"sort"
	"strings"
)

// SignType is the hash QFPay signs with; MD5 unless X-QF-SIGNTYPE says SHA256.
type SignType string

const (
	SignMD5    SignType = "MD5"
	SignSHA256 SignType = "SHA256"
)

// Header names of the protocol.
const (
	HeaderAppCode  = "X-QF-APPCODE"
	HeaderSign     = "X-QF-SIGN"
	HeaderSignType = "X-QF-SIGNTYPE"
)

// ParseSignType reads a sign type name; "" means MD5.
func ParseSignType(s string) (SignType, error) {
	switch strings.ToUpper(strings.TrimSpace(s)) {
	case "", "MD5":
		return SignMD5, nil
	case "SHA256", "SHA-256":
		return SignSHA256, nil
	}
	return "", fmt.Errorf("sign type %q: must be MD5 or SHA256", s)
}

func (t SignType) newHash() hash.Hash {
	if t == SignSHA256 {
		return sha256.New()
	}
	return md5.New()
}

// SigningString is what QFPay hashes for a request: every non-empty
// parameter sorted by name, joined as k=v&k=v with raw values, then the
// client key appended directly.
func SigningString(params url.Values, key string) string {
	names := make([]string, 0, len(params))
	for k, v := range params {
		if len(v) > 0 && v[0] != "" {
			names = append(names, k)
		}
	}
	sort.Strings(names)
	var b strings.Builder
	for i, k := range names {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(k)
		b.WriteByte('=')
		b.WriteString(params.Get(k))
	}
	b.WriteString(key)
	return b.String()
}

// Sign returns the X-QF-SIGN of request parameters.
func Sign(params url.Values, key string, t SignType) string {
	return hashUpper(t, []byte(SigningString(params, key)))
}

// SignBody returns the X-QF-SIGN of a notification: UPPER(HEX(hash(body+key))).
func SignBody(body []byte, key string, t SignType) string {
	buf := make([]byte, 0, len(body)+len(key))
	buf = append(append(buf, body...), key...)
	return hashUpper(t, buf)
}

func hashUpper(t SignType, data []byte) string {
	h := t.newHash()
	h.Write(data)
	return strings.ToUpper(hex.EncodeToString(h.Sum(nil)))
}

// ErrBadSignature: the signature is missing or does not match.
var ErrBadSignature = errors.New("qfpay: signature missing or invalid")

// VerifyRequest checks a request's X-QF-SIGN against its parameters.
func VerifyRequest(params url.Values, key, sign string, t SignType) error {
	return compareSign(Sign(params, key, t), sign)
}

// VerifyNotification checks a notification's X-QF-SIGN over the raw body
// bytes exactly as received (re-serialised JSON would not match). The hash
// is MD5 unless the header's sign type says SHA256. The comparison is
// constant-time and exact: QFPay sends upper-case hex.
func VerifyNotification(rawBody []byte, signHeader, key string, t SignType) error {
	if len(rawBody) == 0 {
		return fmt.Errorf("%w: empty body", ErrBadSignature)
	}
	return compareSign(SignBody(rawBody, key, t), signHeader)
}

func compareSign(want, got string) error {
	if got == "" {
		return fmt.Errorf("%w: no %s header", ErrBadSignature, HeaderSign)
	}
	if subtle.ConstantTimeCompare([]byte(want), []byte(got)) != 1 {
		return ErrBadSignature
	}
	return nil
}
