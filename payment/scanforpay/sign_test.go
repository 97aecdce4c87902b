package scanforpay

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"qrkiosk/payment/internal/strictjson"
)

const testKey = "TESTSIGNKEY0000000000000000000001"

// The expected signatures were computed outside Go, with coreutils:
//
//	printf '%s' '<request text><key>' | sha256sum
//
// so a mistake shared by Sign and a Go-written test cannot hide.
var vectors = []struct {
	name, text, sign string
}{
	{
		name: "the documentation's create sample, compact, both time fields",
		text: `{"header":{"version":"1.0","partnerNo":"10001","reqMsgId":"615c11950cd0421cb612538bf03eabc7","requestTime":"2018-07-25T17:53:52+08:00","reqTime":"2018-07-25T17:53:52+08:00","signType":"SHA256"},"body":{"storeNo":"100010000000002","partnerOrderNo":"p20180725175352983070","wallet":"Alipay","orderAmount":2000,"orderTitle":"Consume","operatorId":"211918"}}`,
		sign: "bc313e26725f206441dba9bba0fcaf484d071df43b6dbec462a3dc5ba5525731",
	},
	{
		name: "a kiosk order whose title has characters JSON encoders like to escape",
		text: `{"header":{"version":"1.0","partnerNo":"10001","reqMsgId":"0123456789abcdef0123456789abcdef","requestTime":"2025-03-14T10:00:00+08:00","reqTime":"2025-03-14T10:00:00+08:00","signType":"SHA256"},"body":{"storeNo":"100010000000002","partnerOrderNo":"QK20250314020000a1b2c3d4e5f60718","wallet":"Wechat","orderAmount":1234,"orderTitle":"Tea & <cake>"}}`,
		sign: "c6b65b9d7e63bd75f8b1141ad35343f6685dd515a435f8bec81db8d87c6ecbdd",
	},
	{
		name: "the documentation's failed answer, indented as sent, with Chinese text",
		text: "{\n        \"header\": {\n            \"partnerNo\": \"10001\",\n            \"respTime\": \"2018-07-25T17:37:14+08:00\",\n            \"signType\": \"SHA256\",\n            \"version\": \"1.0\",\n            \"reqMsgId\": \"c11fe1c7-069b-4399-be00-31830a5de63d\"\n        },\n        \"body\": {\n            \"code\": 30,\n            \"msg\": \"订单不存在\"\n        }\n    }",
		sign: "308d51350d882ec79e5b4ea1c3e5eb983cc60ce690516db9fdfb8bd6c7782e52",
	},
}

func TestSignVectors(t *testing.T) {
	for _, v := range vectors {
		if got := Sign([]byte(v.text), testKey); got != v.sign {
			t.Errorf("%s: Sign = %s, want %s", v.name, got, v.sign)
		}
	}
}

// The client serialises a request exactly as the vectors' texts: field
// order, compact, no HTML escaping. Those bytes are what it signs and
// sends.
func TestMarshalIsTheSignedText(t *testing.T) {
	at := "2018-07-25T17:53:52+08:00"
	got, err := Marshal(Request{
		Header: Header{Version: Version, PartnerNo: "10001", ReqMsgID: "615c11950cd0421cb612538bf03eabc7", RequestTime: at, ReqTime: at, SignType: SignType},
		Body:   CreateBody{StoreNo: "100010000000002", PartnerOrderNo: "p20180725175352983070", Wallet: "Alipay", OrderAmount: 2000, OrderTitle: "Consume", OperatorID: "211918"},
	})
	if err != nil || string(got) != vectors[0].text {
		t.Fatalf("Marshal:\n%s\nwant\n%s (%v)", got, vectors[0].text, err)
	}
	at = "2025-03-14T10:00:00+08:00"
	got, _ = Marshal(Request{
		Header: Header{Version: Version, PartnerNo: "10001", ReqMsgID: "0123456789abcdef0123456789abcdef", RequestTime: at, ReqTime: at, SignType: SignType},
		Body:   CreateBody{StoreNo: "100010000000002", PartnerOrderNo: "QK20250314020000a1b2c3d4e5f60718", Wallet: "Wechat", OrderAmount: 1234, OrderTitle: "Tea & <cake>"},
	})
	if string(got) != vectors[1].text {
		t.Fatalf("Marshal:\n%s\nwant\n%s", got, vectors[1].text)
	}
	env := SealRequest(got, testKey)
	if want := `{"request":` + vectors[1].text + `,"signature":"` + vectors[1].sign + `"}`; string(env) != want {
		t.Fatalf("envelope:\n%s\nwant\n%s", env, want)
	}
}

// An answer is verified over the raw text of its `response` object, byte
// for byte: whitespace and key order as sent. Changing any byte, or the
// key, fails.
func TestOpenResponseUsesRawText(t *testing.T) {
	v := vectors[2]
	env := "{\n    \"response\": " + v.text + ",\n    \"signature\": \"" + v.sign + "\"\n}"
	obj, err := OpenResponse([]byte(env), testKey)
	if err != nil || string(obj) != v.text {
		t.Fatalf("OpenResponse: %q, %v", obj, err)
	}
	if _, err := OpenResponse([]byte(strings.Replace(env, v.sign, strings.ToUpper(v.sign), 1)), testKey); err != nil {
		t.Fatalf("upper-case hex of the same digest: %v", err)
	}
	for name, bad := range map[string]string{
		"one space less":     strings.Replace(env, "\"code\": 30", "\"code\":30", 1),
		"another code":       strings.Replace(env, "\"code\": 30", "\"code\": 1", 1),
		"no signature":       strings.Replace(env, v.sign, "", 1),
		"signature of other": strings.Replace(env, v.sign, vectors[0].sign, 1),
	} {
		if _, err := OpenResponse([]byte(bad), testKey); !errors.Is(err, ErrBadSignature) {
			t.Errorf("%s: %v, want ErrBadSignature", name, err)
		}
	}
	if _, err := OpenResponse([]byte(env), "ANOTHERKEY"); !errors.Is(err, ErrBadSignature) {
		t.Errorf("another key: %v, want ErrBadSignature", err)
	}
	for _, bad := range []string{``, `[]`, `{"signature":"` + v.sign + `"}`, `{"response":null,"signature":"x"}`, `{"response":"text","signature":"x"}`} {
		if _, err := OpenResponse([]byte(bad), testKey); err == nil {
			t.Errorf("%q: accepted", bad)
		}
	}
}

func FuzzOpenResponse(f *testing.F) {
	f.Add([]byte(`{"response":` + vectors[2].text + `,"signature":"` + vectors[2].sign + `"}`))
	f.Add([]byte(`{"response":{},"signature":""}`))
	f.Add([]byte(`{"response":{"body":{"code":"1"}},"signature":"00"}`))
	f.Add([]byte(`{"response":{},"response":` + vectors[2].text + `,"signature":"` + vectors[2].sign + `"}`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		obj, err := OpenResponse(raw, testKey)
		if err != nil {
			return
		}
		// Whatever was accepted is signed with the key, byte for byte.
		var w wireResponse
		if jerr := json.Unmarshal(raw, &w); jerr != nil || !strings.EqualFold(Sign(obj, testKey), strings.TrimSpace(w.Signature)) {
			t.Fatalf("accepted %q without its signature matching", raw)
		}
		// Every reader reads it alike: no object in it gives a key twice.
		if err := strictjson.Check(raw); err != nil {
			t.Fatalf("accepted %q: %v", raw, err)
		}
		if _, err := VerifyNotification(raw, testKey); err != nil && !errors.Is(err, ErrMalformedNotification) {
			t.Fatalf("a verified envelope failed as a notification with %v", err)
		}
	})
}
