package qfpaysim

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"qrkiosk/payment"
	"qrkiosk/payment/qfpay"
)

// What public third-party QFPay clients do works against the simulator as
// against QFPay: a query by GET with its parameters in the URL, and a POST
// whose parameters are in the URL's query string; each signed over those
// parameters. Their answers carry the fields QFPay documents.
func TestPublicClientShapes(t *testing.T) {
	f := newFixture(t, nil)
	a := f.create("PUB-1", "801501")
	do := func(method, path string, p url.Values, body string) map[string]any {
		t.Helper()
		req, _ := http.NewRequest(method, f.srv.URL+path+"?"+p.Encode(), strings.NewReader(body))
		req.Header.Set(qfpay.HeaderAppCode, testApp)
		req.Header.Set(qfpay.HeaderSign, qfpay.Sign(p, testKey, qfpay.SignMD5))
		resp, err := f.srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatalf("%s %s: HTTP %d %s", method, path, resp.StatusCode, b)
		}
		return m
	}
	q := url.Values{"syssn": {a.SysSN}}
	for _, method := range []string{http.MethodGet, http.MethodPost} {
		m := do(method, "/trade/v1/query", q, "")
		rows, _ := m["data"].([]any)
		if m["respcd"] != "0000" || len(rows) != 1 {
			t.Fatalf("%s query with URL parameters: %v", method, m)
		}
		row := rows[0].(map[string]any)
		for _, k := range []string{"cardtp", "clisn", "goods_detail", "userid", "chnlsn", "chnlsn2"} {
			if _, ok := row[k]; !ok {
				t.Errorf("query row lacks %s: %v", k, row)
			}
		}
	}
	// A POST with its parameters in the URL, signed: a payment.
	p := payParams("PUB-2", "801501")
	m := do(http.MethodPost, "/trade/v1/payment", p, "")
	if m["respcd"] != "0000" || m["out_trade_no"] != "PUB-2" {
		t.Fatalf("payment with URL parameters: %v", m)
	}
	for _, k := range []string{"surcharge_fee", "surcharge_rate", "chnlsn2"} {
		if _, ok := m[k]; !ok {
			t.Errorf("the create answer lacks %s: %v", k, m)
		}
	}
	// Signed over other parameters than sent: refused as QFPay does.
	req, _ := http.NewRequest(http.MethodGet, f.srv.URL+"/trade/v1/query?syssn="+a.SysSN, nil)
	req.Header.Set(qfpay.HeaderAppCode, testApp)
	req.Header.Set(qfpay.HeaderSign, qfpay.Sign(url.Values{"syssn": {"other"}}, testKey, qfpay.SignMD5))
	if a := decode(t, mustDo(t, f, req)); a.Respcd != "1108" {
		t.Fatalf("a GET signed over other parameters: %s", a.Respcd)
	}
	// The same parameter in the URL and the body is refused, naming it.
	body := url.Values{"syssn": {a.SysSN}}.Encode()
	req, _ = http.NewRequest(http.MethodPost, f.srv.URL+"/trade/v1/query?syssn="+a.SysSN, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set(qfpay.HeaderAppCode, testApp)
	req.Header.Set(qfpay.HeaderSign, "X")
	if a := decode(t, mustDo(t, f, req)); a.Respcd != "1104" || !strings.Contains(a.Resperr, "syssn") {
		t.Fatalf("syssn twice: %s %s", a.Respcd, a.Resperr)
	}
}

func mustDo(t *testing.T, f *fixture, req *http.Request) *http.Response {
	t.Helper()
	resp, err := f.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

// FuzzURLParams: parameters in the URL (a GET query, or a POST with no
// body), signed over what the URL holds: no panic, always a JSON answer
// with a respcd of QFPay's table.
func FuzzURLParams(f *testing.F) {
	f.Add(true, "syssn=1,2&page=1")
	f.Add(false, "txamt=1000&txcurrcd=HKD&pay_type=801501&out_trade_no=A1&txdtm=2025-03-14+10:00:00")
	f.Add(true, "%zz=1&syssn=1")
	f.Add(false, "syssn=1&syssn=2")
	f.Fuzz(func(t *testing.T, get bool, query string) {
		sim, _ := fuzzSim(t)
		defer sim.Close()
		sign := ""
		if p, err := url.ParseQuery(query); err == nil {
			sign = qfpay.Sign(p, testKey, qfpay.SignMD5)
		}
		method, path := http.MethodPost, "/trade/v1/payment"
		if get {
			method, path = http.MethodGet, "/trade/v1/query"
		}
		req := httptest.NewRequest(method, path, nil)
		req.URL.RawQuery = query
		req.Header.Set(qfpay.HeaderAppCode, testApp)
		req.Header.Set(qfpay.HeaderSign, sign)
		rec := httptest.NewRecorder()
		sim.ServeHTTP(rec, req)
		var a answer
		if err := json.Unmarshal(rec.Body.Bytes(), &a); err != nil || rec.Code != http.StatusOK || !qfpay.Known(payment.Code(a.Respcd)) {
			t.Fatalf("%s %s?%s: HTTP %d %s", method, path, query, rec.Code, rec.Body.Bytes())
		}
	})
}
