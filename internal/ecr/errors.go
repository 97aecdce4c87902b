package ecr

import (
	"errors"
	"fmt"
	"unicode/utf8"
)

// The kinds of refusal. A refused request is a *RequestError whose Kind is
// one of these (errors.Is matches them); AnswerFor turns it into the answer
// code QFPay's terminal gives for it.
var (
	// ErrKeySetup: the kiosk's own POS-KEY cannot be used (not 16, 24 or 32
	// bytes). Nothing a POS sends can fix it.
	ErrKeySetup = errors.New("the kiosk's POS-KEY is not set up")
	// ErrTooLarge: the body is over MaxBody bytes.
	ErrTooLarge = errors.New("request too large")
	// ErrNotBase64: an encrypted body that is not base64.
	ErrNotBase64 = errors.New("request is not base64")
	// ErrNotEncrypted: a plain request while the kiosk requires encryption.
	ErrNotEncrypted = errors.New("request is not encrypted")
	// ErrCannotDecrypt: the ciphertext is not whole AES blocks, or what it
	// decrypts to is not a request (a wrong POS-KEY gives that).
	ErrCannotDecrypt = errors.New("cannot decrypt the request")
	// ErrBadPadding: the decrypted PKCS#7 padding is wrong (a wrong POS-KEY,
	// almost always).
	ErrBadPadding = errors.New("cannot decrypt the request (bad padding)")
	// ErrBadDigest: the digest is not MD5(content + POS-KEY).
	ErrBadDigest = errors.New("digest does not match")
	// ErrMalformed: the plaintext is not {content:{...}, digest:'...'} or
	// the docs' JSON form.
	ErrMalformed = errors.New("malformed request")
	// ErrUnknownFuncType: func_type is not an instruction QFPay's ECR has.
	ErrUnknownFuncType = errors.New("unknown func_type")
	// ErrWrongEndpoint: the instruction was sent to another instruction's
	// endpoint.
	ErrWrongEndpoint = errors.New("instruction sent to the wrong endpoint")
	// ErrMissingField: a field the instruction needs is absent or empty.
	ErrMissingField = errors.New("missing field")
	// ErrBadAmount: amt or refund_amount is not an exact amount of the
	// currency.
	ErrBadAmount = errors.New("bad amount")
	// ErrBadChannel: channel is unknown, or a card channel this QR kiosk
	// does not take.
	ErrBadChannel = errors.New("bad channel")
	// ErrBadField: any other field breaks its rule.
	ErrBadField = errors.New("bad field")
	// ErrUnknownField: a field the instruction does not take (CheckFields).
	ErrUnknownField = errors.New("unknown field")
)

// RequestError says why a request was refused: its kind, and the field and
// the rule when one field is to blame. Its text names the problem for the
// cashier (Odoo shows it in a dialog) and carries no key or digest.
type RequestError struct {
	Kind  error
	Field string // "amt", "channel", ...; "" when no one field is to blame
	Value string // the offending value when it helps; never a secret
	Rule  string // what was expected, in plain words
}

func (e *RequestError) Error() string {
	switch {
	case e.Field == "":
		return fmt.Sprintf("%v: %s", e.Kind, e.Rule)
	case e.Value == "":
		return fmt.Sprintf("%v: %s %s", e.Kind, e.Field, e.Rule)
	default:
		return fmt.Sprintf("%v: %s %q %s", e.Kind, e.Field, e.Value, e.Rule)
	}
}

func (e *RequestError) Unwrap() error { return e.Kind }

func refuse(kind error, rule string) error {
	return &RequestError{Kind: kind, Rule: rule}
}

func refuseField(kind error, field, value, rule string) error {
	if len(value) > 64 {
		cut := 64
		for cut > 0 && !utf8.RuneStart(value[cut]) {
			cut--
		}
		value = value[:cut] + "…"
	}
	return &RequestError{Kind: kind, Field: field, Value: value, Rule: rule}
}
