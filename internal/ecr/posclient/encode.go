package posclient

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/md5"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"math"
	"slices"
	"strconv"
	"strings"
)

// Value is a payload value as Python's f-string writes it: a str in single
// quotes, anything else bare.
type Value struct {
	text   string
	quoted bool
}

// Str is a Python str. Odoo sends a None as Str("").
func Str(s string) Value { return Value{text: s, quoted: true} }

// Int is a Python int.
func Int(n int64) Value { return Value{text: strconv.FormatInt(n, 10)} }

// Raw is a bare value written exactly as given (a number as another POS
// might print it).
func Raw(text string) Value { return Value{text: text} }

// Number is a JavaScript number as Odoo's page sends it through JSON-RPC to
// Python: JSON writes an integral number without a fraction, which Python
// reads as an int ("10"); any other is a float, which the f-string writes
// as repr does ("12.34", "30.299999999999997", "1e-05"). NaN and the
// infinities become JSON null, a None, sent as an empty string.
func Number(f float64) Value {
	switch {
	case math.IsNaN(f) || math.IsInf(f, 0):
		return Str("")
	case f == 0: // JSON writes -0 as 0
		return Int(0)
	case f == math.Trunc(f) && math.Abs(f) < 1e21:
		return Value{text: strconv.FormatFloat(f, 'f', -1, 64)}
	}
	return Value{text: pyRepr(f)}
}

// pyRepr writes a finite float as Python's repr: the shortest digits that
// read back, fixed notation for decimal exponents from -4 to 15 (with ".0"
// when integral), else d.ddde±XX.
func pyRepr(f float64) string {
	e := strconv.FormatFloat(f, 'e', -1, 64) // -d.ddde±XX
	sign := ""
	if e[0] == '-' {
		sign, e = "-", e[1:]
	}
	mant, exp, _ := strings.Cut(e, "e")
	x, _ := strconv.Atoi(exp)
	digits := strings.Replace(mant, ".", "", 1)
	if x < -4 || x >= 16 {
		ex := strconv.Itoa(abs(x))
		if len(ex) < 2 {
			ex = "0" + ex
		}
		if x < 0 {
			return sign + mant + "e-" + ex
		}
		return sign + mant + "e+" + ex
	}
	if x < 0 {
		return sign + "0." + strings.Repeat("0", -x-1) + digits
	}
	if len(digits) <= x+1 {
		return sign + digits + strings.Repeat("0", x+1-len(digits)) + ".0"
	}
	return sign + digits[:x+1] + "." + digits[x+1:]
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}

// Field is one name and value of a payload.
type Field struct {
	Key   string
	Value Value
}

// Payload is what the POS signs, in its own order (encoding sorts it).
type Payload []Field

// Trade is Odoo's payment payload: amt is the payment line's amount.
func Trade(amt Value, channel, outTradeNo string) Payload {
	return Payload{{"func_type", Int(1001)}, {"amt", amt}, {"channel", Str(channel)}, {"out_trade_no", Str(outTradeNo)}}
}

// Refund is Odoo's refund payload: the payment's syssn, and the amount as
// JavaScript's toFixed(2) writes it ("12.50").
func Refund(orderID, refundAmount string) Payload {
	return Payload{{"func_type", Int(1002)}, {"orderId", Str(orderID)}, {"refund_amount", Str(refundAmount)}}
}

// CancelRequest is Odoo's payload to abort the payment in progress.
func CancelRequest() Payload { return Payload{{"func_type", Int(5001)}} }

// Content is the payload as qfpay_sign_request writes it: sorted by name,
// {k='text',k=number}.
func (p Payload) Content() string {
	sorted := slices.Clone(p)
	slices.SortStableFunc(sorted, func(a, b Field) int { return strings.Compare(a.Key, b.Key) })
	parts := make([]string, len(sorted))
	for i, f := range sorted {
		if f.Value.quoted {
			parts[i] = f.Key + "='" + f.Value.text + "'"
		} else {
			parts[i] = f.Key + "=" + f.Value.text
		}
	}
	return "{" + strings.Join(parts, ",") + "}"
}

// Digest is upper-case hex MD5 of the content followed by the POS-KEY.
func Digest(content, posKey string) string {
	sum := md5.Sum([]byte(content + posKey))
	return strings.ToUpper(hex.EncodeToString(sum[:]))
}

// Plaintext is what Odoo encrypts: {content:..., digest:'...'}.
func (p Payload) Plaintext(posKey string) string {
	c := p.Content()
	return "{content:" + c + ", digest:'" + Digest(c, posKey) + "'}"
}

var iv = []byte("qfpay202306_hjsh")

// Seal encrypts plaintext as Odoo does: AES-CBC with the POS-KEY's bytes as
// the key, IV qfpay202306_hjsh, PKCS#7 padding, base64.
func Seal(plaintext, posKey string) (string, error) {
	block, err := aes.NewCipher([]byte(posKey))
	if err != nil {
		return "", err
	}
	pad := aes.BlockSize - len(plaintext)%aes.BlockSize
	buf := append([]byte(plaintext), slices.Repeat([]byte{byte(pad)}, pad)...)
	cipher.NewCBCEncrypter(block, iv).CryptBlocks(buf, buf)
	return base64.StdEncoding.EncodeToString(buf), nil
}

// Body is the request body Odoo's page POSTs: JSON.stringify of the sealed
// base64 text (base64 needs no escaping inside the quotes).
func (p Payload) Body(posKey string) ([]byte, error) {
	sealed, err := Seal(p.Plaintext(posKey), posKey)
	if err != nil {
		return nil, err
	}
	return []byte(`"` + sealed + `"`), nil
}

// JSONBody is the docs' plain form for a terminal whose encryption is off:
// {"content":{...},"digest":"..."}, the content in the payload's order, the
// digest over the sorted {k='v'} text.
func (p Payload) JSONBody(posKey string) ([]byte, error) {
	var b strings.Builder
	b.WriteString(`{"content":{`)
	for i, f := range p {
		if i > 0 {
			b.WriteByte(',')
		}
		k, err := json.Marshal(f.Key)
		if err != nil {
			return nil, err
		}
		b.Write(k)
		b.WriteByte(':')
		if !f.Value.quoted {
			b.WriteString(f.Value.text)
			continue
		}
		v, err := json.Marshal(f.Value.text)
		if err != nil {
			return nil, err
		}
		b.Write(v)
	}
	b.WriteString(`},"digest":"` + Digest(p.Content(), posKey) + `"}`)
	return []byte(b.String()), nil
}
