package ecr

import (
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"

	"qrkiosk/internal/ecr/posclient"
)

// reencode writes a decoded request's fields again with posclient's
// encoder (Odoo's format, or the docs' JSON form).
func reencode(t *testing.T, r Request, jsonForm bool) []byte {
	t.Helper()
	var p posclient.Payload
	for _, f := range r.Fields() {
		v := posclient.Raw(f.Value)
		if f.Quoted {
			v = posclient.Str(f.Value)
		}
		p = append(p, posclient.Field{Key: f.Key, Value: v})
	}
	var body []byte
	var err error
	if jsonForm {
		body, err = p.JSONBody(testKey)
	} else {
		body, err = p.Body(testKey)
	}
	if err != nil {
		t.Fatal(err)
	}
	return body
}

// sameRequest compares two requests, their fields in any order.
func sameRequest(a, b Request) bool {
	sorted := func(r Request) []Field {
		f := r.Fields()
		slices.SortFunc(f, func(x, y Field) int { return strings.Compare(x.Key, y.Key) })
		return f
	}
	return reflect.DeepEqual(withoutFields(a), withoutFields(b)) && reflect.DeepEqual(sorted(a), sorted(b))
}

// checkRoundTrip: an accepted request, written again by an independent
// encoder in both forms, decodes to the same request.
func checkRoundTrip(t *testing.T, req Request) {
	t.Helper()
	for _, jsonForm := range []bool{false, true} {
		again, err := Decode(reencode(t, req, jsonForm), Keys{POSKey: testKey})
		if err != nil {
			t.Fatalf("accepted %+v, but its fields written again (JSON form %v) are refused: %v", req, jsonForm, err)
		}
		if !sameRequest(req, again) {
			t.Fatalf("accepted %+v, written again (JSON form %v) it reads %+v", req, jsonForm, again)
		}
	}
}

func checkRefusal(t *testing.T, err error) {
	t.Helper()
	var re *RequestError
	if !errors.As(err, &re) {
		t.Fatalf("refusal %T %v is not a *RequestError", err, err)
	}
	if a := AnswerFor(err); a.Respcd == CodeOK || a.Resperr == "" {
		t.Fatalf("refusal answered %+v", a)
	}
}

// FuzzDecode: any body, encrypted or not, is refused with a named problem
// or read into a request that survives being written again.
func FuzzDecode(f *testing.F) {
	for _, v := range loadOdooVectors(f) {
		f.Add([]byte(v.Body), true)
		f.Add([]byte(v.Plaintext), false)
	}
	f.Add([]byte(`{"content":{"func_type":5001},"digest":"`+posclient.Digest("{func_type=5001}", testKey)+`"}`), false)
	f.Add([]byte(`"{content:{}, digest:''}"`), false)
	f.Fuzz(func(t *testing.T, body []byte, encryption bool) {
		req, err := Decode(body, Keys{POSKey: testKey, Encryption: encryption})
		if err != nil {
			checkRefusal(t, err)
			return
		}
		checkRoundTrip(t, req)
	})
}

// FuzzDecodeSigned: any content text, signed with the right key (which a
// fuzzer could not forge), so that the field rules are what is tried.
func FuzzDecodeSigned(f *testing.F) {
	for _, v := range loadOdooVectors(f) {
		f.Add(v.Content)
	}
	for _, s := range []string{
		"{amt=88,camera_id=1,channel='alipay',func_type=1001,moveToBack=1,out_trade_no='A-1',payment_timeout=90,scan_type='SCAN_PAY'}",
		"{allow_modify_flag=1,func_type=1002,orderId='1',refund_amount='0.05'}",
		"{func_type=3001,orderId='1'}", "{func_type=3002}", "{func_type=4001,out_trade_no='x'}",
		"{amt=1e-05,channel='wx',func_type=1001}", "{func_type='1001',amt='1',channel='fps',scan_type='SCAN_PAY'}",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, content string) {
		req, err := Decode([]byte(signed(content, testKey)), Keys{POSKey: testKey})
		if err != nil {
			checkRefusal(t, err)
			return
		}
		checkRoundTrip(t, req)
	})
}

// FuzzCheckFields: whatever a signed request holds, CheckFields either
// takes it (every field one its instruction takes) or refuses it naming a
// field it does not take, as a 4006.
func FuzzCheckFields(f *testing.F) {
	f.Add("{amt=1,channel='wx',func_type=1001,tip=5}")
	f.Add("{func_type=5001}")
	f.Add("{func_type=1002,orderId='1',refund_amount='1.00',allow_modify_flag=1}")
	f.Fuzz(func(t *testing.T, content string) {
		req, err := Decode(odooBody(t, content), Keys{POSKey: testKey, Encryption: true})
		if err != nil {
			return
		}
		err = CheckFields(req)
		for _, fd := range req.Fields() {
			if !slices.Contains(known[req.FuncType()], fd.Key) {
				var re *RequestError
				if !errors.As(err, &re) || !errors.Is(err, ErrUnknownField) || re.Field == "" || slices.Contains(known[req.FuncType()], re.Field) || AnswerFor(err).Respcd != CodeBadParams {
					t.Fatalf("%s: field %s taken: %v", content, fd.Key, err)
				}
				return
			}
		}
		if err != nil {
			t.Fatalf("%s: refused though every field is known: %v", content, err)
		}
	})
}
