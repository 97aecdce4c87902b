package qfpaysim

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"qrkiosk/payment"
	"qrkiosk/payment/paymenttest"
	"qrkiosk/payment/qfpay"
)

// FuzzTradeParams sends an arbitrary, correctly signed form body to a
// trade/v1 endpoint of a fresh simulator holding one paid and one live
// order: no panic, and always a JSON answer with a respcd of QFPay's table.
func FuzzTradeParams(f *testing.F) {
	setup, orders := fuzzSim(f)
	setup.Close()
	paid, live := orders[0], orders[1]
	seeds := []string{
		"txamt=1000&txcurrcd=HKD&pay_type=801501&out_trade_no=A1&txdtm=2025-03-14+10:00:00",
		"txamt=1000&txcurrcd=HKD&pay_type=802001&out_trade_no=N1&txdtm=2025-03-14+10:00:00&expired_time=5&goods_name=%E8%8C%B6",
		"txamt=099&txcurrcd=RMB&pay_type=800108&out_trade_no=A3&txdtm=bad&expired_time=4",
		"txamt=880&txcurrcd=HKD&pay_type=800008&out_trade_no=C1&txdtm=2025-03-14+10:00:00&auth_code=134857901234588557",
		"txamt=880&txcurrcd=HKD&pay_type=800108&out_trade_no=C2&txdtm=2025-03-14+10:00:00&auth_code=13485790123458855x",
		"txamt=880&txcurrcd=HKD&pay_type=805808&out_trade_no=C3&txdtm=2025-03-14+10:00:00&auth_code=8812345678901234561201",
		"syssn=1,2,,3&out_trade_no=PAID,LIVE&pay_type=801501&page=2&page_size=100",
		"start_time=2025-03-31+23:00:00&end_time=2025-04-01+00:00:00",
		"syssn=" + paid.SysSN + "&txamt=1&out_trade_no=R1&txdtm=2025-03-14+10:00:00",
		"syssn=" + live.SysSN + "&txamt=1000",
		"out_trade_no=LIVE&txamt=1000&txdtm=2025-03-14+10:00:00",
		"syssn=" + paid.SysSN + "&txamt=1000&txdtm=2025-03-14+10:00:00&udid=k1",
		"out_trade_no=PAID&start_time=2025-02-01+00:00:00&end_time=2025-02-28+23:59:59&page_size=500",
		"mchid=M1&txamt=1&txamt=2",
		"goods_name=%FF%FE&udid=" + strings.Repeat("u", 50),
		"%zz=1",
	}
	for i, s := range seeds {
		f.Add(uint8(i), s)
	}
	paths := []string{"payment", "query", "reversal", "close", "refund"}
	f.Fuzz(func(t *testing.T, which uint8, body string) {
		sim, _ := fuzzSim(t)
		defer sim.Close()
		path := "/trade/v1/" + paths[int(which)%len(paths)]
		a, code := serveSigned(sim, path, body)
		if code != http.StatusOK {
			t.Fatalf("%s: HTTP %d", path, code)
		}
		if !qfpay.Known(payment.Code(a.Respcd)) {
			t.Fatalf("%s: respcd %q is not in the table", path, a.Respcd)
		}
		if a.Respcd == "1104" && !strings.Contains(a.Resperr, ":") {
			t.Fatalf("%s: a parameter error that names no field: %q", path, a.Resperr)
		}
		for _, d := range a.Data {
			if !qfpay.Known(payment.Code(d["respcd"])) {
				t.Fatalf("query lists respcd %q", d["respcd"])
			}
		}
	})
}

// fuzzSim returns a simulator with a paid order (out_trade_no PAID) and a
// live one (LIVE). The clock is fixed, so their syssn are the same every time.
func fuzzSim(tb testing.TB) (*Sim, [2]Order) {
	clock := paymenttest.NewClock(time.Date(2025, 3, 14, 10, 0, 0, 0, gatewayZone))
	sim := New(Config{AppCode: testApp, Key: testKey, Now: clock.Now, BaseURL: "http://sim.test"})
	for _, out := range []string{"PAID", "LIVE"} {
		body := payParams(out, "801501").Encode()
		if a, _ := serveSigned(sim, "/trade/v1/payment", body); a.Respcd != "0000" {
			tb.Fatalf("setup: respcd %s", a.Respcd)
		}
	}
	orders := sim.Orders()
	if err := sim.Pay(orders[0].SysSN); err != nil {
		tb.Fatal(err)
	}
	return sim, [2]Order{orders[0], orders[1]}
}

func serveSigned(sim *Sim, path, body string) (answer, int) {
	sign := ""
	if p, err := url.ParseQuery(body); err == nil {
		sign = qfpay.Sign(p, testKey, qfpay.SignMD5)
	}
	req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set(qfpay.HeaderAppCode, testApp)
	req.Header.Set(qfpay.HeaderSign, sign)
	rec := httptest.NewRecorder()
	sim.ServeHTTP(rec, req)
	var a answer
	if err := json.Unmarshal(rec.Body.Bytes(), &a); err != nil {
		a.Respcd = "not JSON: " + err.Error()
	}
	return a, rec.Code
}

// FuzzParsers feeds arbitrary values to each parameter of the validators
// directly.
func FuzzParsers(f *testing.F) {
	f.Add("1000", "HKD", "801501", "A1", "2025-03-14 10:00:00", "30", "Tea", "2", "")
	f.Add("0", "RMB", "800108", "", "2025-02-30 25:00:00", "-1", "Tea!", "101", "280438849930815813")
	f.Add("99999999999", "JPY", "802001", strings.Repeat("x", 200), "", "0120", "珍珠奶茶", "x", "1")
	f.Add("880", "HKD", "800008", "C1", "2025-03-14 10:00:00", "", "", "1", "134857901234588557")
	f.Fuzz(func(t *testing.T, txamt, cur, payType, out, dtm, expiry, goods, page, authCode string) {
		p := url.Values{
			"txamt": {txamt}, "txcurrcd": {cur}, "pay_type": {payType}, "out_trade_no": {out},
			"txdtm": {dtm}, "expired_time": {expiry}, "goods_name": {goods},
			"syssn": {out}, "page": {page}, "page_size": {page}, "start_time": {dtm}, "end_time": {dtm},
			"auth_code": {authCode},
		}
		if pp, rej := parsePaymentParams(p); rej == nil {
			if pp.txAmt <= 0 || pp.txAmt > payment.MaxMinor || pp.currency.Code != cur {
				t.Fatalf("accepted %+v", pp)
			}
			// A CPM pay type with the customer's code and no expiry, or an
			// MPM one without a code.
			if cpm := pp.cpm != nil; cpm != (pp.payType.Mode == payment.CPM) || cpm != (pp.authCode != "") || cpm && pp.expiry != 0 {
				t.Fatalf("accepted %+v", pp)
			}
			if pp.expiry != 0 && (pp.expiry < 5*time.Minute || pp.expiry > 120*time.Minute) {
				t.Fatalf("accepted expiry %v", pp.expiry)
			}
		} else if rej.code != qfpay.CodeParamError {
			t.Fatalf("payment: respcd %s", rej.code)
		}
		if q, rej := parseQueryParams(p, time.Date(2025, 3, 14, 10, 0, 0, 0, gatewayZone)); rej == nil && (q.page < 1 || q.pageSize < 1 || q.pageSize > maxPageSize) {
			t.Fatalf("accepted paging %d/%d", q.page, q.pageSize)
		}
		if rp, rej := parseRefundParams(p); rej == nil && rp.txAmt <= 0 {
			t.Fatalf("accepted refund amount %d", rp.txAmt)
		}
		parseCancelParams(p)
	})
}

// FuzzPyJSON: every string the simulator writes comes back unchanged
// through a JSON decoder, and is written in printable ASCII only.
func FuzzPyJSON(f *testing.F) {
	f.Add("奶茶 <&> /\"\\ \t\n\x01\x7f é 😀")
	f.Add("")
	f.Fuzz(func(t *testing.T, s string) {
		if !utf8.ValidString(s) {
			return // the simulator accepts only UTF-8 parameters
		}
		b := pyJSON(object{{"k", s}})
		for _, c := range b {
			if c < ' ' || c > '~' {
				t.Fatalf("byte %#x in %q", c, b)
			}
		}
		var m map[string]string
		if err := json.Unmarshal(b, &m); err != nil || m["k"] != s {
			t.Fatalf("%q: decoded %q, %v", b, m["k"], err)
		}
	})
}
