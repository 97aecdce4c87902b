package ecr

import (
	"crypto/aes"
	"crypto/cipher"
	"encoding/base64"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"qrkiosk/internal/ecr/posclient"
	"qrkiosk/payment"
)

const testKey = "0123456789abcdef0123456789ABCDEF"

// signed is Odoo's plaintext for a content text, signed with key.
func signed(content, key string) string {
	return "{content:" + content + ", digest:'" + posclient.Digest(content, key) + "'}"
}

// sealed is the body Odoo's page posts for a plaintext.
func sealed(t testing.TB, plaintext, key string) []byte {
	t.Helper()
	s, err := posclient.Seal(plaintext, key)
	if err != nil {
		t.Fatal(err)
	}
	return []byte(`"` + s + `"`)
}

// sealRaw encrypts whole blocks as they are, padding and all.
func sealRaw(t testing.TB, blocks []byte, key string) []byte {
	t.Helper()
	b, err := aes.NewCipher([]byte(key))
	if err != nil {
		t.Fatal(err)
	}
	out := make([]byte, len(blocks))
	cipher.NewCBCEncrypter(b, iv).CryptBlocks(out, blocks)
	return []byte(`"` + base64.StdEncoding.EncodeToString(out) + `"`)
}

func odooBody(t testing.TB, content string) []byte {
	return sealed(t, signed(content, testKey), testKey)
}

const trade = "amt=12.34,channel='wx',func_type=1001,out_trade_no='" + tradeNo + "'"

// TestDecodeRefuses: every refusal names its problem and maps to the code
// QFPay's docs give it.
func TestDecodeRefuses(t *testing.T) {
	on := Keys{POSKey: testKey, Encryption: true}
	off := Keys{POSKey: testKey}
	badPad := append([]byte("{content:{}}"), 0, 0, 0, 5) // last byte 5, the four before it not 5
	cases := []struct {
		name string
		body []byte
		keys Keys
		kind error
		code Code
		says string
	}{
		{"POS-KEY of 10 characters", odooBody(t, "{func_type=5001}"), Keys{POSKey: "0123456789"}, ErrKeySetup, CodeOther, "16, 24 or 32 characters"},
		{"body over the cap", []byte(`"` + strings.Repeat("A", MaxBody) + `"`), on, ErrTooLarge, CodeOther, "over 8192 bytes"},
		{"empty body", nil, on, ErrMalformed, CodeBadParams, "empty"},
		{"not base64", []byte(`"not*base64!"`), on, ErrNotBase64, CodeDecryption, "base64"},
		{"not whole blocks", []byte(`"` + base64.StdEncoding.EncodeToString([]byte("short")) + `"`), on, ErrCannotDecrypt, CodeDecryption, "POS-KEY"},
		{"broken JSON string", []byte(`"abc`), on, ErrMalformed, CodeBadParams, "JSON string"},
		{"another POS-KEY", sealed(t, signed("{func_type=5001}", testKey), "ffffffffffffffffffffffffffffffff"), on, nil, CodeDecryption, "POS-KEY"},
		{"bad padding", sealRaw(t, badPad, testKey), on, ErrBadPadding, CodeDecryption, "POS-KEY"},
		{"padding byte 0", sealRaw(t, append([]byte("{content:{}}abc"), 0), testKey), on, ErrBadPadding, CodeDecryption, "POS-KEY"},
		{"decrypts to no request", sealed(t, "hello, terminal", testKey), on, ErrCannotDecrypt, CodeDecryption, "POS-KEY"},
		{"plain while encryption is on", []byte(signed("{func_type=5001}", testKey)), on, ErrNotEncrypted, CodeDecryption, "encrypted requests only"},
		{"plain JSON string while encryption is on", []byte(`"{\"content\":{},\"digest\":\"x\"}"`), on, ErrNotEncrypted, CodeDecryption, "encrypted"},
		{"digest of another key", sealed(t, signed("{func_type=5001}", "ffffffffffffffffffffffffffffffff"), testKey), on, ErrBadDigest, CodeDenied, "not signed with this kiosk's POS-KEY"},
		{"digest of other content", sealed(t, "{content:{func_type=5001}, digest:'"+posclient.Digest("{func_type=1002}", testKey)+"'}", testKey), on, ErrBadDigest, CodeDenied, "POS-KEY"},
		{"digest too short", sealed(t, "{content:{func_type=5001}, digest:'ABC'}", testKey), on, ErrBadDigest, CodeDenied, ""},
		{"no digest", sealed(t, "{content:{func_type=5001}}", testKey), on, ErrMalformed, CodeBadParams, "no digest"},
		{"digest unquoted", sealed(t, "{content:{func_type=5001}, digest:"+posclient.Digest("{func_type=5001}", testKey)+"}", testKey), on, ErrMalformed, CodeBadParams, "quoted"},
		{"no content", sealed(t, "{digest:'"+posclient.Digest("", testKey)+"'}", testKey), on, ErrMalformed, CodeBadParams, "{content:"},
		{"space in content", odooBody(t, "{func_type=5001, x=1}"), on, ErrMalformed, CodeBadParams, "letters, digits and '_'"},
		{"quote inside a value", odooBody(t, "{func_type=5001,x='it's'}"), on, ErrMalformed, CodeBadParams, "x holds a single quote"},
		{"field twice", odooBody(t, "{func_type=5001,func_type=1001}"), on, ErrMalformed, CodeBadParams, "func_type is given twice"},
		{"value missing", odooBody(t, "{func_type=}"), on, ErrMalformed, CodeBadParams, "no value"},
		{"two contents", odooBody(t, "{func_type=5001}{a=1}"), on, ErrMalformed, CodeBadParams, "one {...}"},
		{"too many fields", odooBody(t, "{func_type=5001"+manyFields(40)+"}"), on, ErrMalformed, CodeBadParams, "too many fields"},
		{"no func_type", odooBody(t, "{amt=1}"), on, ErrMissingField, CodeBadParams, "func_type is required"},
		{"unknown func_type", odooBody(t, "{func_type=9999}"), on, ErrUnknownFuncType, CodeBadParams, `func_type "9999" is not one of 1001, 1002`},
		{"func_type not a number", odooBody(t, "{func_type='pay'}"), on, ErrUnknownFuncType, CodeBadParams, "not one of"},
		{"no amt", odooBody(t, "{channel='wx',func_type=1001}"), on, ErrMissingField, CodeBadParams, "amt is required"},
		{"amt zero", odooBody(t, "{amt=0,channel='wx',func_type=1001}"), on, ErrBadAmount, CodeBadParams, "zero"},
		{"amt 0.00", odooBody(t, "{amt='0.00',channel='wx',func_type=1001}"), on, ErrBadAmount, CodeBadParams, "zero"},
		{"amt negative", odooBody(t, "{amt=-5,channel='wx',func_type=1001}"), on, ErrBadAmount, CodeBadParams, "without a sign"},
		{"amt exponent", odooBody(t, "{amt=1e-05,channel='wx',func_type=1001}"), on, ErrBadAmount, CodeBadParams, "exponent"},
		{"amt 3 decimals", odooBody(t, "{amt=12.345,channel='wx',func_type=1001}"), on, ErrBadAmount, CodeBadParams, `amt "12.345"`},
		{"amt float artefact", odooBody(t, "{amt=30.299999999999997,channel='wx',func_type=1001}"), on, ErrBadAmount, CodeBadParams, "decimal places"},
		{"amt with comma", odooBody(t, "{amt='1,000.5',channel='wx',func_type=1001}"), on, ErrBadAmount, CodeBadParams, "such as 12.34"},
		{"amt inf", odooBody(t, "{amt=inf,channel='wx',func_type=1001}"), on, ErrMalformed, CodeBadParams, `amt "inf" is not a number`},
		{"amt .5", odooBody(t, "{amt=.5,channel='wx',func_type=1001}"), on, ErrMalformed, CodeBadParams, "not a number"},
		{"amt .5 quoted", odooBody(t, "{amt='.5',channel='wx',func_type=1001}"), on, ErrBadAmount, CodeBadParams, "such as 12.34"},
		{"amt 5. quoted", odooBody(t, "{amt='5.',channel='wx',func_type=1001}"), on, ErrBadAmount, CodeBadParams, "such as 12.34"},
		{"amt True", odooBody(t, "{amt=True,channel='wx',func_type=1001}"), on, ErrMalformed, CodeBadParams, "not a number"},
		{"amt over the gateway's 11 digits", odooBody(t, "{amt=1000000000,channel='wx',func_type=1001}"), on, ErrBadAmount, CodeBadParams, `amt "1000000000"`},
		{"no channel", odooBody(t, "{amt=1,func_type=1001}"), on, ErrMissingField, CodeBadParams, "channel is required"},
		{"card channel", odooBody(t, "{amt=1,channel='card_payment',func_type=1001}"), on, ErrBadChannel, CodeBadParams, "card channel card_payment is not accepted"},
		{"UnionPay card", odooBody(t, "{amt=1,channel='unionpay_card',func_type=1001}"), on, ErrBadChannel, CodeBadParams, "card channel unionpay_card is not accepted"},
		{"Amex card", odooBody(t, "{amt=1,channel='amex_card',func_type=1001}"), on, ErrBadChannel, CodeBadParams, "card channel amex_card is not accepted"},
		{"unknown channel", odooBody(t, "{amt=1,channel='bitcoin',func_type=1001}"), on, ErrBadChannel, CodeBadParams, `channel "bitcoin" is not one of wx, alipay`},
		{"channel in capitals", odooBody(t, "{amt=1,channel='WX',func_type=1001}"), on, ErrBadChannel, CodeBadParams, "not one of"},
		{"scanned FPS", odooBody(t, "{amt=1,channel='fps',func_type=1001,scan_type='SCAN_PAY'}"), on, ErrBadChannel, CodeBadParams, "bad channel: fps has no scanned-code payment; send scan_type QRCODE_PAY"},
		{"unknown scan_type", odooBody(t, "{amt=1,channel='wx',func_type=1001,scan_type='BOTH'}"), on, ErrBadField, CodeBadParams, "QRCODE_PAY or SCAN_PAY"},
		{"payment_timeout 0", odooBody(t, "{amt=1,channel='wx',func_type=1001,payment_timeout=0}"), on, ErrBadField, CodeBadParams, "from 1 to 7200"},
		{"payment_timeout negative", odooBody(t, "{amt=1,channel='wx',func_type=1001,payment_timeout=-1}"), on, ErrBadField, CodeBadParams, "from 1 to 7200"},
		{"payment_timeout too long", odooBody(t, "{amt=1,channel='wx',func_type=1001,payment_timeout=7201}"), on, ErrBadField, CodeBadParams, "from 1 to 7200"},
		{"payment_timeout fractional", odooBody(t, "{amt=1,channel='wx',func_type=1001,payment_timeout=1.5}"), on, ErrBadField, CodeBadParams, "whole seconds"},
		{"moveToBack 2", odooBody(t, "{amt=1,channel='wx',func_type=1001,moveToBack=2}"), on, ErrBadField, CodeBadParams, "moveToBack \"2\" must be 0 or 1"},
		{"out_trade_no with a comma", odooBody(t, "{amt=1,channel='wx',func_type=1001,out_trade_no='a,b'}"), on, ErrBadField, CodeBadParams, "letters, digits and -_.:/|#@"},
		{"out_trade_no with a space", odooBody(t, "{amt=1,channel='wx',func_type=1001,out_trade_no='a b'}"), on, ErrBadField, CodeBadParams, "letters, digits"},
		{"out_trade_no of 129 bytes", odooBody(t, "{amt=1,channel='wx',func_type=1001,out_trade_no='"+strings.Repeat("a", 129)+"'}"), on, ErrBadField, CodeBadParams, "at most 128 bytes"},
		{"refund without orderId", odooBody(t, "{func_type=1002,refund_amount='1.00'}"), on, ErrMissingField, CodeBadParams, "orderId is required"},
		{"refund of zero", odooBody(t, "{func_type=1002,orderId='123',refund_amount='0.00'}"), on, ErrBadAmount, CodeBadParams, "refund_amount \"0.00\""},
		{"refund of 3 decimals", odooBody(t, "{func_type=1002,orderId='123',refund_amount='1.005'}"), on, ErrBadAmount, CodeBadParams, "decimal places"},
		{"refund allow_modify_flag 7", odooBody(t, "{allow_modify_flag=7,func_type=1002,orderId='123'}"), on, ErrBadField, CodeBadParams, "0 or 1"},
		{"inquiry without a reference", odooBody(t, "{func_type=4001}"), on, ErrMissingField, CodeBadParams, "orderId or out_trade_no is required"},
		{"receipt with a bad orderId", odooBody(t, "{func_type=3001,orderId='1;2'}"), on, ErrBadField, CodeBadParams, "letters, digits"},
		{"JSON: nested content", []byte(`{"content":{"func_type":5001,"x":{"y":1}},"digest":"00000000000000000000000000000000"}`), off, ErrMalformed, CodeBadParams, "x must be a string or a number"},
		{"JSON: a boolean", []byte(`{"content":{"func_type":5001,"x":true},"digest":"00000000000000000000000000000000"}`), off, ErrMalformed, CodeBadParams, "string or a number"},
		{"JSON: another key", []byte(`{"content":{"func_type":5001},"digest":"0","more":1}`), off, ErrMalformed, CodeBadParams, `{"content"`},
		{"JSON: no digest", []byte(`{"content":{"func_type":5001}}`), off, ErrMalformed, CodeBadParams, "both content and digest"},
		{"JSON: content twice", []byte(`{"content":{},"content":{},"digest":"0"}`), off, ErrMalformed, CodeBadParams, "given twice"},
		{"JSON: trailing text", []byte(`{"content":{"func_type":5001},"digest":"0"} x`), off, ErrMalformed, CodeBadParams, "nothing may follow"},
		{"JSON: quote in a value", []byte(`{"content":{"func_type":5001,"x":"it's"},"digest":"0"}`), off, ErrMalformed, CodeBadParams, "single quote"},
		{"JSON: field name with a space", []byte(`{"content":{"func type":5001},"digest":"0"}`), off, ErrMalformed, CodeBadParams, "letters, digits"},
		{"JSON: wrong digest", []byte(`{"content":{"func_type":5001},"digest":"00000000000000000000000000000000"}`), off, ErrBadDigest, CodeDenied, "POS-KEY"},
		{"JSON: digest over unsorted text", jsonSignedAs(`{"content":{"func_type":1002,"orderId":"1"},"digest":"%s"}`, "{orderId='1',func_type=1002}", nil), off, ErrBadDigest, CodeDenied, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			req, err := Decode(c.body, c.keys)
			if err == nil {
				t.Fatalf("Decode accepted %+v", req)
			}
			var re *RequestError
			if !errors.As(err, &re) {
				t.Fatalf("error %T %v is not a *RequestError", err, err)
			}
			if c.kind != nil && !errors.Is(err, c.kind) {
				t.Fatalf("error %v; want %v", err, c.kind)
			}
			a := AnswerFor(err)
			if a.Respcd != c.code || !strings.Contains(a.Resperr, c.says) || a.Respmsg != meanings[c.code] {
				t.Fatalf("answer %+v; want %s saying %q (error %v)", a, c.code, c.says, err)
			}
			if strings.Contains(a.Resperr, testKey) || strings.Contains(err.Error(), testKey) {
				t.Fatal("the refusal carries the POS-KEY")
			}
		})
	}
}

func manyFields(n int) string {
	var b strings.Builder
	for i := range n {
		b.WriteString(",f")
		b.WriteString(itoa(i))
		b.WriteString("=1")
	}
	return b.String()
}

// jsonSignedAs fills format's %s with the digest of content (a JSON form
// signed over content text of one's own choosing), in the case cased makes
// of it (nil: as Odoo writes it).
func jsonSignedAs(format, content string, cased func(string) string) []byte {
	d := posclient.Digest(content, testKey)
	if cased != nil {
		d = cased(d)
	}
	return []byte(strings.Replace(format, "%s", d, 1))
}

// TestPaddingAndDecryptionLookAlike: a prober sees the same answer for bad
// padding as for a plaintext that is no request.
func TestPaddingAndDecryptionLookAlike(t *testing.T) {
	keys := Keys{POSKey: testKey, Encryption: true}
	_, padErr := Decode(sealRaw(t, append([]byte("{content:{}}"), 0, 0, 0, 5), testKey), keys)
	_, textErr := Decode(sealed(t, "not a request", testKey), keys)
	if !errors.Is(padErr, ErrBadPadding) || !errors.Is(textErr, ErrCannotDecrypt) {
		t.Fatalf("errors %v / %v", padErr, textErr)
	}
	if AnswerFor(padErr) != AnswerFor(textErr) {
		t.Fatalf("answers differ: %+v / %+v", AnswerFor(padErr), AnswerFor(textErr))
	}
}

// TestDecodeAccepts: each instruction and each form a POS may send.
func TestDecodeAccepts(t *testing.T) {
	on := Keys{POSKey: testKey, Encryption: true}
	off := Keys{POSKey: testKey}
	hkd := func(minor int64) payment.Amount {
		return payment.Amount{Minor: minor, Currency: payment.Currency{Code: "HKD", Exponent: 2, Symbol: "HK$"}}
	}
	five := hkd(5)
	wx := Channel{Name: "wx", MPMWallets: []string{"wechat"}, CPMWallet: "wechat"}
	full := "{amt=88,camera_id=1,channel='alipay',func_type=1001,moveToBack=1,out_trade_no='A-1',payment_timeout=90,scan_type='SCAN_PAY',wait_card_timeout=120}"
	docsForm := "{amt=100,channel='payme',func_type=1001,out_trade_no='456799999999',wait_card_timeout=120}"
	odooText := "{func_type=1002,orderId='9',refund_amount='0.05'}"
	cases := []struct {
		name string
		body []byte
		keys Keys
		want Request
	}{
		{"payment, every field", odooBody(t, full), on, &Payment{Amount: hkd(8800), AmountText: "88",
			Channel:    Channel{Name: "alipay", MPMWallets: []string{"alipayhk", "alipay"}, CPMWallet: "alipay"},
			OutTradeNo: "A-1", Timeout: 90 * time.Second, Scan: ScanCode, MoveToBack: true, FrontCam: true}},
		{"payment, numbers quoted", odooBody(t, "{amt='7.5',channel='wx',func_type='1001',moveToBack='0',scan_type='QRCODE_PAY'}"), on,
			&Payment{Amount: hkd(750), AmountText: "7.5", Channel: wx, Scan: ShowQR}},
		{"payment, None values are absent", odooBody(t, "{amt=1,channel='wx',func_type=1001,moveToBack='',out_trade_no='',scan_type=''}"), on,
			&Payment{Amount: hkd(100), AmountText: "1", Channel: wx}},
		{"payment, plain Odoo form with encryption off", []byte(signed("{amt=2,channel='octopus',func_type=1001}", testKey)), off,
			&Payment{Amount: hkd(200), AmountText: "2", Channel: Channel{Name: "octopus", MPMWallets: []string{"octopus"}}}},
		{"payment, encrypted with encryption off", odooBody(t, "{amt=3,channel='wx',func_type=1001}"), off,
			&Payment{Amount: hkd(300), AmountText: "3", Channel: wx}},
		{"payment, docs' JSON form, lower-case digest", jsonSignedAs(`{"content":{"amt":100,"channel":"payme","func_type":1001,"out_trade_no":"456799999999","wait_card_timeout":120},"digest":"%s"}`, docsForm, strings.ToLower), off,
			&Payment{Amount: hkd(10000), AmountText: "100", Channel: Channel{Name: "payme", MPMWallets: []string{"payme"}, CPMWallet: "payme"}, OutTradeNo: "456799999999"}},
		{"refund, docs' JSON form in any order, null refund_amount", jsonSignedAs(`{"digest":"%s","content":{"orderId":"20250826155400087645770447","func_type":1002,"allow_modify_flag":1,"refund_amount":null}}`,
			"{allow_modify_flag=1,func_type=1002,orderId='20250826155400087645770447',refund_amount=''}", nil), off,
			&Refund{OrderID: "20250826155400087645770447", AllowModify: true}},
		{"refund, JSON form carrying Odoo's content text, encrypted", sealed(t, `{"content":"`+odooText+`","digest":"`+posclient.Digest(odooText, testKey)+`"}`, testKey), on,
			&Refund{OrderID: "9", Amount: &five, AmountText: "0.05"}},
		{"print receipt", odooBody(t, "{func_type=3001,orderId='12345678'}"), on, &PrintReceipt{OrderID: "12345678"}},
		{"print summary", odooBody(t, "{func_type=3002}"), on, &PrintSummary{}},
		{"inquiry by out_trade_no", odooBody(t, "{func_type=4001,out_trade_no='"+tradeNo+"'}"), on, &Inquiry{OutTradeNo: tradeNo}},
		{"cancel request, raw base64 without JSON quotes", []byte(strings.Trim(string(odooBody(t, "{func_type=5001}")), `"`)), on, &CancelRequest{}},
		{"cancel request, body with a trailing newline", append(odooBody(t, "{func_type=5001}"), '\n'), on, &CancelRequest{}},
		{"cancel request, unknown fields kept", odooBody(t, "{func_type=5001,zz='x'}"), on, &CancelRequest{}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			req, err := Decode(c.body, c.keys)
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if len(req.Fields()) == 0 {
				t.Fatal("the request kept no fields")
			}
			if got := withoutFields(req); !reflect.DeepEqual(got, c.want) {
				t.Fatalf("got  %+v\nwant %+v", got, c.want)
			}
		})
	}
}

// withoutFields is a copy of r with no fields kept.
func withoutFields(r Request) Request {
	switch r := r.(type) {
	case *Payment:
		c := *r
		c.sent = sent{}
		return &c
	case *Refund:
		c := *r
		c.sent = sent{}
		return &c
	case *PrintReceipt:
		c := *r
		c.sent = sent{}
		return &c
	case *PrintSummary:
		return &PrintSummary{}
	case *Inquiry:
		c := *r
		c.sent = sent{}
		return &c
	case *CancelRequest:
		return &CancelRequest{}
	}
	panic("unknown request")
}

func TestCheckEndpoint(t *testing.T) {
	refund, err := Decode(odooBody(t, "{func_type=1002,orderId='1'}"), Keys{POSKey: testKey})
	if err != nil {
		t.Fatal(err)
	}
	if err := CheckEndpoint("cancel", refund); err != nil {
		t.Fatalf("refund on /api/pos/cancel: %v", err)
	}
	err = CheckEndpoint("trade", refund)
	if !errors.Is(err, ErrWrongEndpoint) || AnswerFor(err).Respcd != CodeBadParams ||
		!strings.Contains(err.Error(), "func_type is 1002, which goes to /api/pos/cancel, not /api/pos/trade") {
		t.Fatalf("refund on /api/pos/trade: %v", err)
	}
	for f, e := range endpoints {
		if got, ok := FuncTypeOf(e); !ok || got != f || f.Endpoint() != e {
			t.Fatalf("FuncTypeOf(%q) = %v, %v; want %v", e, got, ok, f)
		}
	}
	if _, ok := FuncTypeOf("pay"); ok {
		t.Fatal("FuncTypeOf(pay) found an instruction")
	}
}

// TestDecodeTimeoutUnits: payment_timeout is seconds.
func TestDecodeTimeoutUnits(t *testing.T) {
	req, err := Decode(odooBody(t, "{amt=1,channel='wx',func_type=1001,payment_timeout=7200}"), Keys{POSKey: testKey})
	if err != nil {
		t.Fatal(err)
	}
	if got := req.(*Payment).Timeout; got != 2*time.Hour {
		t.Fatalf("timeout %v; want 2h", got)
	}
}

// TestDecodeInTheKiosksCurrency: amounts are read in the currency the kiosk
// is set to, with its decimals.
func TestDecodeInTheKiosksCurrency(t *testing.T) {
	jpy, err := payment.LookupCurrency("JPY")
	if err != nil {
		t.Fatal(err)
	}
	keys := Keys{POSKey: testKey, Currency: jpy}
	req, err := Decode(odooBody(t, "{amt=1500,channel='wx',func_type=1001}"), keys)
	if err != nil || req.(*Payment).Amount != (payment.Amount{Minor: 1500, Currency: jpy}) {
		t.Fatalf("JPY 1500: %+v, %v", req, err)
	}
	if _, err := Decode(odooBody(t, "{amt=10.5,channel='wx',func_type=1001}"), keys); !errors.Is(err, ErrBadAmount) || !strings.Contains(err.Error(), "JPY") {
		t.Fatalf("JPY 10.5: %v", err)
	}
}

// TestRefusalTextStaysUTF8: a long value is shortened in the refusal on a
// character boundary, so the cashier reads characters, not byte escapes.
func TestRefusalTextStaysUTF8(t *testing.T) {
	_, err := Decode(odooBody(t, "{amt=1,channel='wx',func_type=1001,out_trade_no='"+strings.Repeat("訂單", 30)+"'}"), Keys{POSKey: testKey})
	if !errors.Is(err, ErrBadField) || !utf8.ValidString(err.Error()) || strings.Contains(err.Error(), `\x`) || !strings.Contains(err.Error(), "訂…") {
		t.Fatalf("refusal %q", err)
	}
}

// TestCheckFields: every field the docs give an instruction passes; any
// other is refused naming it, and answered 4006.
func TestCheckFields(t *testing.T) {
	for _, c := range []struct {
		content string
		bad     string
	}{
		{"{amt=88,camera_id=1,channel='alipay',func_type=1001,moveToBack=1,out_trade_no='A-1',payment_timeout=90,scan_type='SCAN_PAY',wait_card_timeout=120}", ""},
		{"{amt=1,channel='wx',func_type=1001,tip=5}", "tip"},
		{"{allow_modify_flag=1,func_type=1002,moveToBack=1,orderId='1',refund_amount='1.00'}", ""},
		{"{func_type=1002,orderId='1',amt=1}", "amt"},
		{"{func_type=5001,zz='x'}", "zz"},
		{"{func_type=4001,orderId='1',out_trade_no='x'}", ""},
	} {
		req, err := Decode(odooBody(t, c.content), Keys{POSKey: testKey, Encryption: true})
		if err != nil {
			t.Fatalf("%s: %v", c.content, err)
		}
		err = CheckFields(req)
		switch {
		case c.bad == "" && err != nil:
			t.Errorf("%s: %v", c.content, err)
		case c.bad != "" && (!errors.Is(err, ErrUnknownField) || !strings.Contains(err.Error(), c.bad+" is not a field of func_type") || AnswerFor(err).Respcd != CodeBadParams):
			t.Errorf("%s: %v", c.content, err)
		}
	}
}
