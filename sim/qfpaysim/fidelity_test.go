package qfpaysim

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"qrkiosk/payment/paymenttest"
	"qrkiosk/payment/qfpay"
)

// Behaviours of the real gateway that a client written from the docs alone
// tends to miss. Each test talks HTTP to the simulator as a raw client.

// moveClock drives POST /sim/clock and returns its answer.
func (f *fixture) moveClock(form url.Values) (int, clockResult) {
	f.t.Helper()
	resp, err := f.srv.Client().PostForm(f.srv.URL+"/sim/clock", form)
	if err != nil {
		f.t.Fatal(err)
	}
	defer resp.Body.Close()
	var res clockResult
	if err := json.NewDecoder(resp.Body).Decode(&res); err != nil {
		f.t.Fatal(err)
	}
	return resp.StatusCode, res
}

func (f *fixture) rows(p url.Values) answer {
	f.t.Helper()
	a := f.call("/trade/v1/query", p)
	if a.Respcd != "0000" {
		f.t.Fatalf("query %v: respcd %s (%s)", p, a.Respcd, a.Resperr)
	}
	return a
}

func TestClockEndpoint(t *testing.T) {
	f := newFixture(t, nil)
	resp, err := f.srv.Client().Get(f.srv.URL + "/sim/clock")
	if err != nil {
		t.Fatal(err)
	}
	var res clockResult
	json.NewDecoder(resp.Body).Decode(&res)
	resp.Body.Close()
	if res.Now != "2025-03-14T10:00:00+08:00" || res.GatewayTime != "2025-03-14 10:00:00" || res.Offset != "0s" {
		t.Fatalf("GET /sim/clock: %+v", res)
	}
	a := f.create("CLK-1", "801501", "expired_time", "5")

	status, res := f.moveClock(url.Values{"advance": {"5m"}})
	if status != http.StatusOK || res.Now != "2025-03-14T10:05:00+08:00" || res.Offset != "5m0s" {
		t.Fatalf("advance 5m: %d %+v", status, res)
	}
	if q := f.query("CLK-1"); q["respcd"] != "1181" {
		t.Fatalf("expiry does not follow the moved clock: %v", q)
	}
	status, res = f.moveClock(url.Values{"set": {"2025-04-02T09:30:00+08:00"}})
	if status != http.StatusOK || res.GatewayTime != "2025-04-02 09:30:00" {
		t.Fatalf("set: %d %+v", status, res)
	}
	if b := f.create("CLK-2", "801501"); !strings.HasPrefix(b.SysSN, "20250402") || b.SysSN[8:] <= a.SysSN[8:] {
		t.Fatalf("syssn %q after moving the clock (the first was %q)", b.SysSN, a.SysSN)
	}
	for _, bad := range []struct {
		form   url.Values
		status int
		field  string
	}{
		{url.Values{"advance": {"-1h"}}, http.StatusConflict, "forward"},
		{url.Values{"set": {"2025-04-01T00:00:00+08:00"}}, http.StatusConflict, "forward"},
		{url.Values{"advance": {"a month"}}, http.StatusBadRequest, "advance"},
		{url.Values{"set": {"2025-04-03 00:00:00"}}, http.StatusBadRequest, "set"},
		{url.Values{"advance": {"1h"}, "set": {"2025-05-01T00:00:00+08:00"}}, http.StatusBadRequest, "exactly one"},
		{url.Values{}, http.StatusBadRequest, "exactly one"},
	} {
		status, res := f.moveClock(bad.form)
		if status != bad.status || !strings.Contains(res.Error, bad.field) {
			t.Fatalf("%v: HTTP %d %+v", bad.form, status, res)
		}
	}
	if got := f.sim.Now(); !got.Equal(time.Date(2025, 4, 2, 9, 30, 0, 0, gatewayZone)) {
		t.Fatalf("a refused move changed the clock: %v", got)
	}
}

// The query window is a calendar month of sysdtm (gateway time, UTC+8):
// by default the current month, given explicitly only within one month,
// and lifted only by syssn.
func TestQueryMonthWindow(t *testing.T) {
	f := newFixture(t, nil)
	f.clock.Advance(17*24*time.Hour + 13*time.Hour + 59*time.Minute + 59*time.Second) // 2025-03-31 23:59:59
	last := f.create("M-LASTSECOND", "801501", "txdtm", "2025-03-31 23:59:59")
	f.clock.Advance(time.Second)
	// Rung up at 16:30 UTC on the 31st (a kiosk that sends UTC), stamped
	// 00:30 on 1 April by the gateway.
	f.clock.Advance(30 * time.Minute)
	april := f.create("M-APRIL", "801501", "txdtm", "2025-03-31 16:30:00")
	if !strings.HasPrefix(april.SysSN, "20250401") || april.SysDtm != "2025-04-01 00:30:00" {
		t.Fatalf("syssn %s sysdtm %s", april.SysSN, april.SysDtm)
	}
	outs := func(a answer) string {
		var s []string
		for _, d := range a.Data {
			s = append(s, d["out_trade_no"])
		}
		return strings.Join(s, ",")
	}
	march := url.Values{"start_time": {"2025-03-01 00:00:00"}, "end_time": {"2025-03-31 23:59:59"}}
	tests := []struct {
		name   string
		params url.Values
		want   string
	}{
		{"default window: this month only", url.Values{}, "M-APRIL"},
		{"last month's order by out_trade_no alone", url.Values{"out_trade_no": {"M-LASTSECOND"}}, ""},
		{"both by out_trade_no alone", url.Values{"out_trade_no": {"M-LASTSECOND,M-APRIL"}}, "M-APRIL"},
		{"last month's window", withParams(march, "out_trade_no", "M-LASTSECOND,M-APRIL"), "M-LASTSECOND"},
		{"the window is on sysdtm, not txdtm", withParams(march, "out_trade_no", "M-APRIL"), ""},
		{"syssn lifts the window", url.Values{"syssn": {last.SysSN}}, "M-LASTSECOND"},
		{"syssn ignores a window given", withParams(url.Values{"start_time": {"2025-04-01 00:00:00"}, "end_time": {"2025-04-01 00:00:01"}}, "syssn", last.SysSN), "M-LASTSECOND"},
		{"end_time includes its whole second", url.Values{"start_time": {"2025-03-31 23:59:59"}, "end_time": {"2025-03-31 23:59:59"}}, "M-LASTSECOND"},
		{"start_time alone, this month", url.Values{"start_time": {"2025-04-01 00:30:01"}}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := outs(f.rows(tt.params)); got != tt.want {
				t.Fatalf("got %q, want %q", got, tt.want)
			}
		})
	}
	for _, bad := range []url.Values{
		{"start_time": {"2025-03-01 00:00:00"}}, // end_time defaults to the end of April
		{"end_time": {"2025-03-31 23:59:59"}},   // start_time defaults to 1 April
		{"start_time": {"2025-03-31 00:00:00"}, "end_time": {"2025-04-01 00:00:00"}},
		{"start_time": {"2025-03-01 00:00:00"}, "end_time": {"2024-03-31 00:00:00"}},
	} {
		a := f.call("/trade/v1/query", bad)
		if a.Respcd != "1104" || !strings.HasPrefix(a.Resperr, "start_time, end_time:") {
			t.Fatalf("%v: respcd %s resperr %q, want 1104 naming start_time and end_time", bad, a.Respcd, a.Resperr)
		}
	}
	if a := f.call("/trade/v1/query", url.Values{"start_time": {"2025-04-02 00:00:00"}, "end_time": {"2025-04-01 00:00:00"}}); a.Respcd != "1104" || !strings.HasPrefix(a.Resperr, "end_time:") {
		t.Fatalf("end before start: %s %q", a.Respcd, a.Resperr)
	}
}

func withParams(p url.Values, kv ...string) url.Values {
	out := url.Values{}
	for k, v := range p {
		out[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		out.Set(kv[i], kv[i+1])
	}
	return out
}

// An unknown out_trade_no or syssn is not an error: respcd 0000 and an
// empty data list, written as QFPay's Python writes JSON.
func TestQueryUnknownOrder(t *testing.T) {
	f := newFixture(t, nil)
	f.create("KNOWN", "801501")
	for _, p := range []url.Values{
		{"out_trade_no": {"NOPE"}},
		{"syssn": {"20250314000000000000000009"}},
		{"syssn": {"20250314000000000000000009"}, "out_trade_no": {"KNOWN"}},
	} {
		resp, err := f.send("/trade/v1/query", p, testApp, qfpay.Sign(p, testKey, qfpay.SignMD5), "")
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		for _, want := range []string{`"data": []`, `"respcd": "0000"`, `"page": "1"`, `"page_size": "10"`, `"resperr": "\u8bf7\u6c42\u6210\u529f"`} {
			if !strings.Contains(string(raw), want) {
				t.Fatalf("%v: answer %s lacks %s", p, raw, want)
			}
		}
	}
}

// Notifications are the exact bytes QFPay's Python sends, signed over
// those bytes: a verifier that re-serialises the JSON fails.
func TestNotificationBytes(t *testing.T) {
	ns, received := notifyServer(t, 0)
	f := newFixture(t, func(c *Config) {
		c.NotifyURL = ns.URL
		c.MchID = "MCH0001"
	})
	a := f.create("NB-1", "801501", "goods_name", "珍珠奶茶", "mchid", "MCH0001")
	f.clock.Advance(time.Minute)
	if err := f.sim.Pay(a.SysSN); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the payment notification", func() bool { return len(received()) == 1 })
	r := f.call("/trade/v1/refund", url.Values{"syssn": {a.SysSN}, "out_trade_no": {"NB-1-R"}, "txamt": {"250"}, "txdtm": {"2025-03-14 10:05:00"}, "mchid": {"MCH0001"}})
	if r.Respcd != "0000" {
		t.Fatalf("refund: %s %s", r.Respcd, r.Resperr)
	}
	eventually(t, "two notifications", func() bool { return len(received()) == 2 })
	got := received()
	wantPay := fmt.Sprintf(`{"status": "1", "pay_type": "801501", "sysdtm": "2025-03-14 10:00:00", "paydtm": "2025-03-14 10:01:00", `+
		`"goods_name": "\u73cd\u73e0\u5976\u8336", "txcurrcd": "HKD", "txdtm": "2025-03-14 10:00:00", "mchid": "MCH0001", "txamt": "1000", `+
		`"exchange_rate": "", "chnlsn2": "", "out_trade_no": "NB-1", "syssn": "%s", "cash_fee_type": "", "cancel": "0", "respcd": "0000", `+
		`"goods_info": "", "cash_fee": "0", "notify_type": "payment", "chnlsn": "SIM%s", "cardcd": "", "customer_source": "HK", "outcardnm": ""}`, a.SysSN, a.SysSN)
	wantRefund := fmt.Sprintf(`{"sysdtm": "2025-03-14 10:01:00", "txcurrcd": "HKD", "orig_out_trade_no": "NB-1", "mchid": "MCH0001", `+
		`"txdtm": "2025-03-14 10:05:00", "txamt": "250", "orig_syssn": "%s", "out_trade_no": "NB-1-R", "syssn": "%s", "respcd": "0000", "notify_type": "refund"}`,
		a.SysSN, r.SysSN)
	for i, want := range []string{wantPay, wantRefund} {
		if string(got[i].body) != want {
			t.Fatalf("notification %d:\n got %s\nwant %s", i, got[i].body, want)
		}
		if got[i].sign != md5Sign(got[i].body, testKey) {
			t.Fatalf("notification %d: X-QF-SIGN %q is not MD5(raw body + key) in upper case", i, got[i].sign)
		}
		var m map[string]any
		if err := json.Unmarshal(got[i].body, &m); err != nil {
			t.Fatal(err)
		}
		compact, _ := json.Marshal(m)
		if md5Sign(compact, testKey) == got[i].sign {
			t.Fatalf("notification %d: a re-serialised body verifies; the raw bytes must be what is signed", i)
		}
	}
}

func TestPyJSON(t *testing.T) {
	// Expected bytes are Python 3's json.dumps output for the same values.
	tests := []struct {
		v    any
		want string
	}{
		{object{{"goods_name", "奶茶 <&> /\"\\ \t\n\x01\x7f é 😀"}, {"k", "v"}},
			`{"goods_name": "\u5976\u8336 <&> /\"\\ \t\n\u0001\u007f \u00e9 \ud83d\ude00", "k": "v"}`},
		{[]object{{{"a", "1"}}, {}}, `[{"a": "1"}, {}]`},
		{map[string]any{"x": nil, "data": []map[string]string{}}, `{"data": [], "x": null}`},
		{map[string]any{"txamt": int64(880), "txcurrcd": "HKD", "big": int64(99999999999)}, `{"big": 99999999999, "txamt": 880, "txcurrcd": "HKD"}`},
	}
	for _, tt := range tests {
		if got := string(pyJSON(tt.v)); got != tt.want {
			t.Errorf("got  %s\nwant %s", got, tt.want)
		}
		var v any
		if err := json.Unmarshal(pyJSON(tt.v), &v); err != nil {
			t.Errorf("%s is not JSON: %v", pyJSON(tt.v), err)
		}
	}
}

// QFPay allows 400 requests a minute per merchant and answers HTTP 429
// past it; the window slides on the gateway's clock.
func TestRateLimit(t *testing.T) {
	f := newFixture(t, func(c *Config) { c.RateLimitPerMinute = 3 })
	status := func(app string) int {
		p := url.Values{"out_trade_no": {"X"}}
		resp, err := f.send("/trade/v1/query", p, app, qfpay.Sign(p, testKey, qfpay.SignMD5), "")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode == http.StatusTooManyRequests && len(b) > 64 {
			t.Fatalf("429 with a %d-byte body", len(b))
		}
		return resp.StatusCode
	}
	for i := range 3 {
		if s := status(testApp); s != http.StatusOK {
			t.Fatalf("request %d: HTTP %d", i+1, s)
		}
		f.clock.Advance(10 * time.Second)
	}
	if s := status(testApp); s != http.StatusTooManyRequests {
		t.Fatalf("4th request within a minute: HTTP %d", s)
	}
	if s := status("SOMEONEELSE"); s != http.StatusOK {
		t.Fatalf("another app code's request: HTTP %d (its budget is its own)", s)
	}
	f.clock.Advance(29 * time.Second) // 59 s after the first
	if s := status(testApp); s != http.StatusTooManyRequests {
		t.Fatalf("59 s after the first: HTTP %d", s)
	}
	f.clock.Advance(time.Second)
	if s := status(testApp); s != http.StatusOK {
		t.Fatalf("60 s after the first: HTTP %d", s)
	}
	if s := status(testApp); s != http.StatusTooManyRequests {
		t.Fatalf("the 2nd and 3rd are still in the window: HTTP %d", s)
	}
}

func TestNoRateLimitByDefault(t *testing.T) {
	sim := New(Config{AppCode: testApp, Key: testKey, Now: paymenttest.NewClock(time.Date(2025, 3, 14, 10, 0, 0, 0, gatewayZone)).Now})
	defer sim.Close()
	for i := range 1000 {
		req := httptest.NewRequest(http.MethodPost, "/trade/v1/query", strings.NewReader(""))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set(qfpay.HeaderAppCode, testApp)
		req.Header.Set(qfpay.HeaderSign, qfpay.Sign(url.Values{}, testKey, qfpay.SignMD5))
		rec := httptest.NewRecorder()
		sim.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			t.Fatalf("request %d: HTTP %d", i+1, rec.Code)
		}
	}
}

// respcd 1161 ("unknown result, query again") in a query row, on demand.
func TestQueryUnknownResult(t *testing.T) {
	f := newFixture(t, func(c *Config) { c.QueryUnknownRate = 1 })
	a := f.create("U-1", "801501")
	f.sim.Pay(a.SysSN)
	q := f.rows(url.Values{"out_trade_no": {"U-1"}})
	if len(q.Data) != 1 || q.Data[0]["respcd"] != "1161" || !strings.Contains(q.Data[0]["errmsg"], "query") {
		t.Fatalf("rows %v", q.Data)
	}
	g := newFixture(t, nil)
	b := g.create("U-1", "801501")
	g.sim.Pay(b.SysSN)
	if row := g.query("U-1"); row["respcd"] != "0000" {
		t.Fatalf("without the fault: %v", row)
	}
}
