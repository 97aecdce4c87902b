package ecr

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/md5"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"strings"
	"unicode"
	"unicode/utf8"

	"qrkiosk/payment"
)

// MaxBody is the largest request body taken, in bytes. Odoo's largest (a
// payment) is about 300; decoding (JSON string, base64, AES) only shrinks
// it, so this bounds every later stage too.
const MaxBody = 8 << 10

// iv is the constant AES-CBC IV of QFPay's ECR protocol.
var iv = []byte("qfpay202306_hjsh")

// Keys is how the kiosk checks requests.
type Keys struct {
	// POSKey is the POS-KEY the POS signs (and encrypts) with. Its bytes are
	// the AES key, as Odoo uses them: 16, 24 or 32 characters (AES-128, -192,
	// -256; QFPay's keys are 32 hex characters).
	POSKey string
	// Encryption: requests must be encrypted. When off, a plain request
	// (the docs' JSON form) is taken, and an encrypted one still is: Odoo
	// always encrypts.
	Encryption bool
	// Currency of amt and refund_amount; the zero value is HKD, the only
	// currency of QFPay's ECR (Odoo refuses any other).
	Currency payment.Currency
}

// Check refuses a POS-KEY AES cannot use.
func (k Keys) Check() error {
	switch len(k.POSKey) {
	case 16, 24, 32:
		return nil
	}
	return refuse(ErrKeySetup, "the POS-KEY must be 16, 24 or 32 characters, as QFPay's are 32")
}

func (k Keys) currency() payment.Currency {
	if k.Currency.Code == "" {
		return payment.Currency{Code: "HKD", Exponent: 2, Symbol: "HK$"}
	}
	return k.Currency
}

// Decode reads one request body as a POS sends it and checks it:
//
//   - the body is the base64 text of the encrypted plaintext, usually as a
//     JSON string literal (Odoo POSTs JSON.stringify(base64)); or, with
//     encryption off, the plaintext itself, bare or as a JSON string;
//   - AES-CBC with the POS-KEY's bytes, IV qfpay202306_hjsh, PKCS#7 padding
//     checked strictly;
//   - the plaintext is Odoo's {content:{k='v',k=n}, digest:'HEX'}, or the
//     docs' JSON {"content":{...},"digest":"..."};
//   - the digest is MD5 of the content text followed by the POS-KEY, hex in
//     either case, compared in constant time. In Odoo's form the content
//     text is exactly as sent; in JSON form it is the fields sorted by name
//     and written as Odoo writes them (the docs' rule);
//   - the fields make one instruction (see Payment, Refund, ...).
//
// Every refusal is a *RequestError; no field is read into a request before
// the digest has matched.
func Decode(body []byte, keys Keys) (Request, error) {
	if err := keys.Check(); err != nil {
		return nil, err
	}
	if len(body) > MaxBody {
		return nil, refuse(ErrTooLarge, "the body is over "+itoa(MaxBody)+" bytes")
	}
	text := bytes.TrimSpace(body)
	if len(text) > 0 && text[0] == '"' {
		var s string
		if err := json.Unmarshal(text, &s); err != nil {
			return nil, refuse(ErrMalformed, "the body starts as a JSON string but is not one")
		}
		text = []byte(strings.TrimSpace(s))
	}
	var plain string
	if len(text) > 0 && text[0] == '{' {
		if keys.Encryption {
			return nil, refuse(ErrNotEncrypted, "this kiosk takes encrypted requests only (encryption is on for its POS-KEY)")
		}
		if !utf8.Valid(text) {
			return nil, refuse(ErrMalformed, "the request is not UTF-8 text")
		}
		plain = string(text)
	} else {
		var err error
		if plain, err = decrypt(text, keys.POSKey); err != nil {
			return nil, err
		}
	}
	fields, err := readPlaintext(plain, keys.POSKey)
	if err != nil {
		return nil, err
	}
	return buildRequest(fields, keys.currency())
}

// decrypt opens the base64 AES-CBC text. A wrong POS-KEY shows as bad
// padding, or as a plaintext that is not text starting with '{'.
func decrypt(text []byte, key string) (string, error) {
	if len(text) == 0 {
		return "", refuse(ErrMalformed, "the body is empty")
	}
	ct := make([]byte, base64.StdEncoding.DecodedLen(len(text)))
	n, err := base64.StdEncoding.Decode(ct, text)
	if err != nil {
		return "", refuse(ErrNotBase64, "the body must be base64 text of the encrypted request")
	}
	ct = ct[:n]
	if len(ct) == 0 || len(ct)%aes.BlockSize != 0 {
		return "", refuse(ErrCannotDecrypt, "the encrypted request is not whole AES blocks")
	}
	block, err := aes.NewCipher([]byte(key))
	if err != nil {
		return "", refuse(ErrKeySetup, err.Error())
	}
	cipher.NewCBCDecrypter(block, iv).CryptBlocks(ct, ct)
	pad := int(ct[len(ct)-1])
	if pad == 0 || pad > aes.BlockSize {
		return "", refuse(ErrBadPadding, "check that the POS uses this kiosk's POS-KEY")
	}
	for _, b := range ct[len(ct)-pad:] {
		if int(b) != pad {
			return "", refuse(ErrBadPadding, "check that the POS uses this kiosk's POS-KEY")
		}
	}
	plain := ct[:len(ct)-pad]
	if len(plain) == 0 || plain[0] != '{' || !utf8.Valid(plain) {
		return "", refuse(ErrCannotDecrypt, "it does not decrypt to a request: check that the POS uses this kiosk's POS-KEY")
	}
	return string(plain), nil
}

// readPlaintext checks the digest and returns the content's fields.
func readPlaintext(plain, key string) ([]Field, error) {
	plain = strings.TrimRightFunc(plain, unicode.IsSpace)
	if strings.HasPrefix(plain, "{content:") {
		return readOdooForm(plain, key)
	}
	if strings.HasPrefix(strings.TrimLeftFunc(plain[1:], unicode.IsSpace), `"`) {
		return readJSONForm(plain, key)
	}
	return nil, refuse(ErrMalformed, "the request must be {content:{...}, digest:'...'}")
}

// readOdooForm reads "{content:" + content + ", digest:'" + HEX + "'}".
// The content ends where the last "digest:" begins, so no value, whatever
// it holds, can move the boundary.
func readOdooForm(plain, key string) ([]Field, error) {
	if !strings.HasSuffix(plain, "}") {
		return nil, refuse(ErrMalformed, "the request has no closing '}'")
	}
	inner := plain[len("{content:") : len(plain)-1]
	at := strings.LastIndex(inner, "digest:")
	if at < 0 {
		return nil, refuse(ErrMalformed, "the request has no digest")
	}
	text, ok := strings.CutSuffix(strings.TrimRight(inner[:at], " "), ",")
	if !ok {
		return nil, refuse(ErrMalformed, "the content must be followed by ', digest:'")
	}
	text = strings.TrimRight(text, " ")
	digest := strings.TrimSpace(inner[at+len("digest:"):])
	if len(digest) < 2 || (digest[0] != '\'' && digest[0] != '"') || digest[len(digest)-1] != digest[0] {
		return nil, refuse(ErrMalformed, "the digest must be quoted")
	}
	if err := checkDigest(text, digest[1:len(digest)-1], key); err != nil {
		return nil, err
	}
	fields, rest, err := parseContent(text)
	if err != nil {
		return nil, err
	}
	if rest != "" {
		return nil, refuse(ErrMalformed, "the content must be one {...}")
	}
	return fields, nil
}

// checkDigest compares digest with MD5(content + POS-KEY) in constant time,
// in either case of hex.
func checkDigest(content, digest, key string) error {
	if len(digest) != 2*md5.Size {
		return refuse(ErrBadDigest, "the digest must be 32 hex digits")
	}
	sum := md5.Sum([]byte(content + key))
	want := strings.ToUpper(hex.EncodeToString(sum[:]))
	if subtle.ConstantTimeCompare([]byte(want), []byte(strings.ToUpper(digest))) != 1 {
		return refuse(ErrBadDigest, "the request is not signed with this kiosk's POS-KEY")
	}
	return nil
}
