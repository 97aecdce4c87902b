package qfpaysim

import (
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"qrkiosk/payment"
	"qrkiosk/payment/paymenttest"
	"qrkiosk/payment/qfpay"
)

const (
	testApp = "TESTAPPCODE0000000000000000000001"
	testKey = "TESTKEY000000000000000000000000001"
)

type fixture struct {
	t     *testing.T
	sim   *Sim
	srv   *httptest.Server
	clock *paymenttest.Clock
}

func newFixture(t *testing.T, edit func(*Config)) *fixture {
	t.Helper()
	clock := paymenttest.NewClock(time.Date(2025, 3, 14, 10, 0, 0, 0, gatewayZone))
	cfg := Config{AppCode: testApp, Key: testKey, Now: clock.Now}
	if edit != nil {
		edit(&cfg)
	}
	sim := New(cfg)
	srv := httptest.NewServer(sim)
	sim.SetBaseURL(srv.URL)
	t.Cleanup(func() {
		srv.Close()
		sim.Close()
	})
	return &fixture{t: t, sim: sim, srv: srv, clock: clock}
}

// answer is a trade/v1 reply as a merchant reads it.
type answer struct {
	Respcd     string              `json:"respcd"`
	Resperr    string              `json:"resperr"`
	Respmsg    string              `json:"respmsg"`
	SysSN      string              `json:"syssn"`
	OrigSysSN  string              `json:"orig_syssn"`
	OutTradeNo string              `json:"out_trade_no"`
	QRCode     string              `json:"qrcode"`
	TxAmt      json.Number         `json:"txamt"` // a string in MPM answers, a number in CPM ones
	TxCurrcd   string              `json:"txcurrcd"`
	SysDtm     string              `json:"sysdtm"`
	Cancel     string              `json:"cancel"`
	Page       string              `json:"page"`
	PageSize   string              `json:"page_size"`
	Data       []map[string]string `json:"data"`
}

func (f *fixture) send(path string, p url.Values, app, sign string, st qfpay.SignType) (*http.Response, error) {
	req, err := http.NewRequest(http.MethodPost, f.srv.URL+path, strings.NewReader(p.Encode()))
	if err != nil {
		f.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set(qfpay.HeaderAppCode, app)
	req.Header.Set(qfpay.HeaderSign, sign)
	if st != "" {
		req.Header.Set(qfpay.HeaderSignType, string(st))
	}
	return f.srv.Client().Do(req)
}

func decode(t *testing.T, resp *http.Response) answer {
	t.Helper()
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("HTTP %d: %s", resp.StatusCode, b)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("Content-Type %q", ct)
	}
	var a answer
	if err := json.NewDecoder(resp.Body).Decode(&a); err != nil {
		t.Fatal(err)
	}
	return a
}

// call sends a correctly signed (MD5) request.
func (f *fixture) call(path string, p url.Values) answer {
	f.t.Helper()
	resp, err := f.send(path, p, testApp, qfpay.Sign(p, testKey, qfpay.SignMD5), "")
	if err != nil {
		f.t.Fatal(err)
	}
	return decode(f.t, resp)
}

func payParams(outTradeNo, payType string, kv ...string) url.Values {
	p := url.Values{
		"txamt":        {"1000"},
		"txcurrcd":     {"HKD"},
		"pay_type":     {payType},
		"out_trade_no": {outTradeNo},
		"txdtm":        {"2025-03-14 10:00:00"},
	}
	for i := 0; i+1 < len(kv); i += 2 {
		p.Set(kv[i], kv[i+1])
	}
	return p
}

func (f *fixture) create(outTradeNo, payType string, kv ...string) answer {
	f.t.Helper()
	a := f.call("/trade/v1/payment", payParams(outTradeNo, payType, kv...))
	if a.Respcd != "0000" {
		f.t.Fatalf("create %s: respcd %s %s", outTradeNo, a.Respcd, a.Resperr)
	}
	return a
}

// query returns the single transaction with this out_trade_no.
func (f *fixture) query(outTradeNo string) map[string]string {
	f.t.Helper()
	a := f.call("/trade/v1/query", url.Values{"out_trade_no": {outTradeNo}})
	if a.Respcd != "0000" || len(a.Data) != 1 {
		f.t.Fatalf("query %s: respcd %s, %d transactions", outTradeNo, a.Respcd, len(a.Data))
	}
	return a.Data[0]
}

func (f *fixture) customer(action, syssn string, form url.Values) (int, map[string]string) {
	f.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, f.srv.URL+"/sim/"+action+"/"+syssn, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	resp, err := f.srv.Client().Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]string
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		f.t.Fatal(err)
	}
	return resp.StatusCode, out
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	paymenttest.Eventually(t, what, 3*time.Second, cond)
}

func TestSignatureChecks(t *testing.T) {
	p := payParams("SIG-1", "801501")
	good := qfpay.Sign(p, testKey, qfpay.SignMD5)
	tests := []struct {
		name string
		app  string
		sign string
		st   qfpay.SignType
		want string
	}{
		{"md5", testApp, good, "", "0000"},
		{"md5 declared", testApp, good, qfpay.SignMD5, "0000"},
		{"sha256", testApp, qfpay.Sign(p, testKey, qfpay.SignSHA256), qfpay.SignSHA256, "0000"},
		{"sha256 signature without its header", testApp, qfpay.Sign(p, testKey, qfpay.SignSHA256), "", "1108"},
		{"wrong key", testApp, qfpay.Sign(p, "another key", qfpay.SignMD5), "", "1108"},
		{"lower-case hex", testApp, strings.ToLower(good), "", "0000"},
		{"lower-case sha256", testApp, strings.ToLower(qfpay.Sign(p, testKey, qfpay.SignSHA256)), qfpay.SignSHA256, "0000"},
		{"lower-case hex of a wrong key", testApp, strings.ToLower(qfpay.Sign(p, "another key", qfpay.SignMD5)), "", "1108"},
		{"missing signature", testApp, "", "", "1108"},
		{"unknown app code", "SOMEONEELSE", good, "", "1108"},
		{"missing app code", "", good, "", "1108"},
		{"unknown sign type", testApp, good, "CRC32", "1108"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, nil)
			resp, err := f.send("/trade/v1/payment", p, tt.app, tt.sign, tt.st)
			if err != nil {
				t.Fatal(err)
			}
			a := decode(t, resp)
			if a.Respcd != tt.want {
				t.Fatalf("respcd %s (%s), want %s", a.Respcd, a.Resperr, tt.want)
			}
			if n := len(f.sim.Orders()); (tt.want == "0000") != (n == 1) {
				t.Fatalf("%d orders after respcd %s", n, a.Respcd)
			}
		})
	}
}

func TestSignatureCoversEveryParameter(t *testing.T) {
	f := newFixture(t, nil)
	p := payParams("SIG-2", "801501")
	sign := qfpay.Sign(p, testKey, qfpay.SignMD5)
	p.Set("txamt", "1") // tampered after signing
	resp, err := f.send("/trade/v1/payment", p, testApp, sign, "")
	if err != nil {
		t.Fatal(err)
	}
	if a := decode(t, resp); a.Respcd != "1108" {
		t.Fatalf("tampered amount: respcd %s", a.Respcd)
	}
	if len(f.sim.Orders()) != 0 {
		t.Fatal("a tampered request created an order")
	}
}

type notification struct {
	body []byte
	sign string
	ct   string
}

// notifyServer answers the first `fail` notifications with an error, then
// SUCCESS, and records everything it receives.
func notifyServer(t *testing.T, fail int) (*httptest.Server, func() []notification) {
	var mu sync.Mutex
	var got []notification
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		got = append(got, notification{b, r.Header.Get(qfpay.HeaderSign), r.Header.Get("Content-Type")})
		n := len(got)
		mu.Unlock()
		switch {
		case n == 1 && fail > 0:
			http.Error(w, "busy", http.StatusInternalServerError)
		case n <= fail:
			io.WriteString(w, "FAIL")
		default:
			io.WriteString(w, " SUCCESS\n")
		}
	}))
	t.Cleanup(srv.Close)
	return srv, func() []notification {
		mu.Lock()
		defer mu.Unlock()
		return append([]notification(nil), got...)
	}
}

// md5Sign is QFPay's notification signature computed independently of the
// qfpay package.
func md5Sign(body []byte, key string) string {
	sum := md5.Sum(append(append([]byte{}, body...), key...))
	return strings.ToUpper(hex.EncodeToString(sum[:]))
}

func TestPayQueryAndNotification(t *testing.T) {
	ns, received := notifyServer(t, 2)
	f := newFixture(t, func(c *Config) {
		c.NotifyURL = ns.URL
		c.NotifyScale = 0.0001 // 2m → 12ms, 10m → 60ms
	})
	created := f.create("ORD-1", "801501", "goods_name", "Milk tea", "udid", "kiosk1")
	if len(created.SysSN) != 26 || strings.Trim(created.SysSN, "0123456789") != "" {
		t.Fatalf("syssn %q: want 26 digits", created.SysSN)
	}
	if !strings.HasPrefix(created.SysSN, "20250314") {
		t.Fatalf("syssn %q does not start with the gateway date", created.SysSN)
	}
	if want := f.srv.URL + "/sim/pay/" + created.SysSN; created.QRCode != want {
		t.Fatalf("qrcode %q, want %q", created.QRCode, want)
	}
	if created.TxAmt != "1000" || created.TxCurrcd != "HKD" || created.Resperr != "success" || created.SysDtm != "2025-03-14 10:00:00" {
		t.Fatalf("create answer %+v", created)
	}

	q := f.query("ORD-1")
	if q["respcd"] != "1143" || q["cancel"] != "0" || q["order_type"] != "payment" {
		t.Fatalf("pending query %v", q)
	}
	if _, ok := q["qrcode"]; ok {
		t.Fatalf("a query row carries qrcode: %v", q)
	}

	f.clock.Advance(time.Minute)
	if status, res := f.customer("pay", created.SysSN, nil); status != http.StatusOK || res["respcd"] != "0000" || res["state"] != "paid" {
		t.Fatalf("pay: %d %v", status, res)
	}
	q = f.query("ORD-1")
	if _, ok := q["qrcode"]; ok || q["respcd"] != "0000" || q["paydtm"] != "2025-03-14 10:01:00" {
		t.Fatalf("paid query %v", q)
	}
	if status, _ := f.customer("pay", created.SysSN, nil); status != http.StatusConflict {
		t.Fatalf("paying twice: HTTP %d, want 409", status)
	}

	eventually(t, "an acknowledged notification", func() bool { return f.sim.Orders()[0].Notified == 1 })
	got := received()
	if len(got) != 3 {
		t.Fatalf("%d deliveries, want 3 (two refused, then SUCCESS)", len(got))
	}
	for _, n := range got {
		if n.sign != md5Sign(n.body, testKey) {
			t.Fatalf("X-QF-SIGN %q does not match MD5(body+key)", n.sign)
		}
		if n.ct != "application/json" {
			t.Fatalf("Content-Type %q", n.ct)
		}
	}
	var body map[string]any
	if err := json.Unmarshal(got[0].body, &body); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"notify_type": "payment", "status": "1", "respcd": "0000", "syssn": created.SysSN,
		"out_trade_no": "ORD-1", "txamt": "1000", "txcurrcd": "HKD", "pay_type": "801501",
		"txdtm": "2025-03-14 10:00:00", "sysdtm": "2025-03-14 10:00:00", "paydtm": "2025-03-14 10:01:00",
		"cancel": "0", "goods_name": "Milk tea", "cash_fee": "0", "exchange_rate": "",
	}
	for k, v := range want {
		if body[k] != v {
			t.Errorf("notification %s = %#v, want %q", k, body[k], v)
		}
	}
	for k, v := range body {
		if _, ok := v.(string); !ok {
			t.Errorf("notification %s = %#v: QFPay sends strings", k, v)
		}
	}
	for _, k := range []string{"udid", "orig_syssn"} {
		if _, ok := body[k]; ok {
			t.Errorf("notification carries %s: %s", k, got[0].body)
		}
	}
	// A real notification names the merchant, issued a mchid or not (a
	// POS such as Odoo's keeps it), and where the customer comes from.
	if m, _ := body["mchid"].(string); m == "" || body["customer_source"] != "HK" || body["outcardnm"] != "" {
		t.Errorf("notification mchid %v customer_source %v outcardnm %v", body["mchid"], body["customer_source"], body["outcardnm"])
	}
	// The client package parses what the simulator sends.
	if err := qfpay.VerifyNotification(got[0].body, got[0].sign, testKey, qfpay.SignMD5); err != nil {
		t.Fatal(err)
	}
	n, err := qfpay.ParseNotification(got[0].body)
	if err != nil || !n.Paid() || n.SysSN != created.SysSN {
		t.Fatalf("ParseNotification: %+v, %v", n, err)
	}
}

func TestNotificationGivesUp(t *testing.T) {
	ns, received := notifyServer(t, 1000)
	f := newFixture(t, func(c *Config) {
		c.NotifyURL = ns.URL
		c.NotifyScale = 0.000001
	})
	a := f.create("GIVEUP", "801501")
	if err := f.sim.Pay(a.SysSN); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the whole retry schedule", func() bool { return len(received()) == 1+len(notifySchedule) })
	time.Sleep(50 * time.Millisecond)
	if n := len(received()); n != 1+len(notifySchedule) {
		t.Fatalf("%d deliveries after giving up", n)
	}
	if o := f.sim.Orders()[0]; o.Notified != 0 {
		t.Fatalf("Notified %d", o.Notified)
	}
}

func TestNotificationFaults(t *testing.T) {
	tests := []struct {
		name       string
		drop, dup  float64
		orderURL   bool
		deliveries int
	}{
		{"normal", 0, 0, false, 1},
		{"dropped", 1, 0, false, 0},
		{"duplicated", 0, 1, false, 2},
		{"notify_url per order", 0, 0, true, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfgSrv, cfgGot := notifyServer(t, 0)
			orderSrv, orderGot := notifyServer(t, 0)
			f := newFixture(t, func(c *Config) {
				c.NotifyURL = cfgSrv.URL
				c.NotifyDropRate, c.NotifyDupRate = tt.drop, tt.dup
			})
			var kv []string
			if tt.orderURL {
				kv = []string{"notify_url", orderSrv.URL + "/qfpay"}
			}
			a := f.create("N-1", "800201", kv...)
			if err := f.sim.Pay(a.SysSN); err != nil {
				t.Fatal(err)
			}
			got := cfgGot
			if tt.orderURL {
				got = orderGot
			}
			eventually(t, "deliveries", func() bool { return f.sim.Orders()[0].Notified == tt.deliveries })
			time.Sleep(30 * time.Millisecond)
			if n := len(got()); n != tt.deliveries {
				t.Fatalf("%d deliveries, want %d", n, tt.deliveries)
			}
			if tt.orderURL && len(cfgGot()) != 0 {
				t.Fatal("the configured URL was notified despite the order's notify_url")
			}
		})
	}
}

func TestDecline(t *testing.T) {
	f := newFixture(t, nil)
	a := f.create("DEC-1", "800201")
	if status, res := f.customer("decline", a.SysSN, url.Values{"respcd": {"1201"}}); status != http.StatusOK || res["respcd"] != "1201" || res["state"] != "failed" {
		t.Fatalf("decline: %d %v", status, res)
	}
	if q := f.query("DEC-1"); q["respcd"] != "1201" || q["errmsg"] == "" {
		t.Fatalf("declined query %v", q)
	}
	if status, _ := f.customer("pay", a.SysSN, nil); status != http.StatusConflict {
		t.Fatalf("pay after decline: HTTP %d, want 409", status)
	}

	b := f.create("DEC-2", "800201")
	if err := f.sim.Decline(b.SysSN, ""); err != nil {
		t.Fatal(err)
	}
	if q := f.query("DEC-2"); q["respcd"] != "1205" {
		t.Fatalf("default decline code %s", q["respcd"])
	}
	c := f.create("DEC-3", "800201")
	for _, code := range []payment.Code{"0000", "1143", "9999"} {
		if status, _ := f.customer("decline", c.SysSN, url.Values{"respcd": {string(code)}}); status != http.StatusBadRequest {
			t.Fatalf("decline with %s: HTTP %d", code, status)
		}
	}
	if status, _ := f.customer("decline", "20250314000000000000000000", nil); status != http.StatusNotFound {
		t.Fatalf("unknown syssn: HTTP %d", status)
	}
}

func TestExpiry(t *testing.T) {
	f := newFixture(t, func(c *Config) { c.DefaultExpiry = 20 * time.Minute })
	f.create("EXP-ALIPAY", "801501", "expired_time", "5") // honoured
	f.create("EXP-PAYME", "805801", "expired_time", "5")  // gateway's own expiry
	f.create("EXP-DEFAULT", "800201")                     // no expired_time
	f.create("EXP-MAX", "800201", "expired_time", "120")  // honoured
	states := func() string {
		var s []string
		for _, o := range []string{"EXP-ALIPAY", "EXP-PAYME", "EXP-DEFAULT", "EXP-MAX"} {
			s = append(s, f.query(o)["respcd"])
		}
		return strings.Join(s, " ")
	}
	steps := []struct {
		advance time.Duration
		want    string
	}{
		{4*time.Minute + 59*time.Second, "1143 1143 1143 1143"},
		{time.Second, "1181 1143 1143 1143"},
		{15 * time.Minute, "1181 1181 1181 1143"},
		{100 * time.Minute, "1181 1181 1181 1181"},
	}
	for _, st := range steps {
		f.clock.Advance(st.advance)
		if got := states(); got != st.want {
			t.Fatalf("after +%v: %s, want %s", st.advance, got, st.want)
		}
	}
	if err := f.sim.Pay(f.sim.Orders()[0].SysSN); err == nil {
		t.Fatal("an expired order was paid")
	}

	g := f.create("EXP-NOW", "801501")
	if status, res := f.customer("expire", g.SysSN, nil); status != http.StatusOK || res["respcd"] != "1181" {
		t.Fatalf("expire: %d %v", status, res)
	}
}

// cancelParamsFor names an order of payParams' defaults for reversal or
// close, with the txamt and txdtm QFPay marks mandatory.
func cancelParamsFor(outTradeNo, syssn string) url.Values {
	p := url.Values{"txamt": {"1000"}, "txdtm": {"2025-03-14 10:00:00"}}
	if outTradeNo != "" {
		p.Set("out_trade_no", outTradeNo)
	}
	if syssn != "" {
		p.Set("syssn", syssn)
	}
	return p
}

func TestReversalAndClose(t *testing.T) {
	pay := func(f *fixture, s string) { f.sim.Pay(s) }
	tests := []struct {
		name    string
		payType string
		setup   func(f *fixture, syssn string)
		path    string
		edit    []string // key, value pairs; value "" removes
		want    string
		cancel  string // the order's cancel flag afterwards
		respcd  string // the order's respcd afterwards
		state   string // the order's outcome afterwards
	}{
		{"reversal of unpaid Alipay HK", "801501", nil, "reversal", nil, "0000", "2", "1142", "closed"},
		{"reversal of unpaid Alipay", "800101", nil, "reversal", nil, "0000", "2", "1142", "closed"},
		{"reversal of unpaid WeChat", "800201", nil, "reversal", nil, "0000", "2", "1142", "closed"},
		{"close of unpaid WeChat", "800201", nil, "close", nil, "0000", "2", "1142", "closed"},
		{"close of Alipay", "801501", nil, "close", nil, "1136", "0", "1143", "pending"},
		{"reversal of paid Alipay revokes and refunds it", "801501", pay, "reversal", nil, "0000", "2", "0000", "closed"},
		{"reversal of paid WeChat", "800201", pay, "reversal", nil, "1260", "0", "0000", "paid"},
		{"close of paid WeChat", "800201", pay, "close", nil, "1260", "0", "0000", "paid"},
		{"reversal twice", "800201", func(f *fixture, s string) { f.call("/trade/v1/reversal", cancelParamsFor("", s)) }, "reversal", nil, "1142", "2", "1142", "closed"},
		{"reversal of expired", "800101", func(f *fixture, s string) { f.sim.Expire(s) }, "reversal", nil, "1181", "0", "1181", "expired"},
		{"reversal with wrong amount", "801501", nil, "reversal", []string{"txamt", "999"}, "1266", "0", "1143", "pending"},
		{"reversal without txamt", "801501", nil, "reversal", []string{"txamt", ""}, "1104", "0", "1143", "pending"},
		{"close without txdtm", "800201", nil, "close", []string{"txdtm", ""}, "1104", "0", "1143", "pending"},
		{"close by out_trade_no", "800201", nil, "close", []string{"syssn", "", "out_trade_no", "CAN-1"}, "0000", "2", "1142", "closed"},
		{"reversal of a partly refunded Alipay payment", "801501", func(f *fixture, s string) {
			pay(f, s)
			f.call("/trade/v1/refund", url.Values{"syssn": {s}, "out_trade_no": {"CAN-1-R"}, "txamt": {"100"}, "txdtm": {"2025-03-14 10:05:00"}})
		}, "reversal", nil, "1262", "5", "0000", "paid"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, nil)
			a := f.create("CAN-1", tt.payType)
			if tt.setup != nil {
				tt.setup(f, a.SysSN)
			}
			p := cancelParamsFor("", a.SysSN)
			for j := 0; j+1 < len(tt.edit); j += 2 {
				if tt.edit[j+1] == "" {
					p.Del(tt.edit[j])
				} else {
					p.Set(tt.edit[j], tt.edit[j+1])
				}
			}
			got := f.call("/trade/v1/"+tt.path, p)
			if got.Respcd != tt.want {
				t.Fatalf("respcd %s (%s), want %s", got.Respcd, got.Resperr, tt.want)
			}
			if got.Respcd == "0000" && (got.OrigSysSN != a.SysSN || got.SysSN == a.SysSN || len(got.SysSN) != 26) {
				t.Fatalf("answer: orig_syssn %q syssn %q: want the order's and the cancel's own", got.OrigSysSN, got.SysSN)
			}
			q := f.query("CAN-1")
			if q["cancel"] != tt.cancel || q["respcd"] != tt.respcd {
				t.Fatalf("afterwards cancel=%s respcd=%s, want %s %s", q["cancel"], q["respcd"], tt.cancel, tt.respcd)
			}
			if o := f.sim.Orders()[0]; o.State != tt.state {
				t.Fatalf("afterwards the order is %s, want %s", o.State, tt.state)
			}
		})
	}
	t.Run("unknown order", func(t *testing.T) {
		f := newFixture(t, nil)
		for _, p := range []url.Values{cancelParamsFor("", "20250314000000000000000001"), cancelParamsFor("NOPE", "")} {
			if got := f.call("/trade/v1/reversal", p); got.Respcd != "1136" {
				t.Fatalf("%v: respcd %s", p, got.Respcd)
			}
		}
		if got := f.call("/trade/v1/close", url.Values{"txamt": {"1"}, "txdtm": {"2025-03-14 10:00:00"}}); got.Respcd != "1104" {
			t.Fatalf("no reference: respcd %s", got.Respcd)
		}
	})
}

// A paid Alipay order that is reversed is revoked and refunded: it can be
// refunded no further, and the customer page says so.
func TestReversalOfPaidAlipay(t *testing.T) {
	f := newFixture(t, nil)
	a := f.create("REV-PAID", "800101")
	if err := f.sim.Pay(a.SysSN); err != nil {
		t.Fatal(err)
	}
	if got := f.call("/trade/v1/reversal", cancelParamsFor("REV-PAID", "")); got.Respcd != "0000" {
		t.Fatalf("reversal: %s %s", got.Respcd, got.Resperr)
	}
	r := f.call("/trade/v1/refund", url.Values{"syssn": {a.SysSN}, "out_trade_no": {"REV-PAID-R"}, "txamt": {"1000"}, "txdtm": {"2025-03-14 10:05:00"}})
	if r.Respcd != "1264" {
		t.Fatalf("refund of a reversed order: respcd %s (%s), want 1264", r.Respcd, r.Resperr)
	}
	if _, res := f.customer("pay", a.SysSN, nil); res["state"] != "closed" {
		t.Fatalf("customer page state %q", res["state"])
	}
}

// Hong Kong pay types have no cancel: both endpoints refuse them, and the
// order stays payable until the gateway's own expiry, whatever
// expired_time said.
func TestHongKongPayTypesHaveNoCancel(t *testing.T) {
	for _, pt := range []string{"805801", "800701", "802001", "803701"} {
		t.Run(pt, func(t *testing.T) {
			f := newFixture(t, func(c *Config) { c.DefaultExpiry = 30 * time.Minute })
			a := f.create("HK-1", pt, "expired_time", "5")
			for _, op := range []string{"reversal", "close"} {
				got := f.call("/trade/v1/"+op, cancelParamsFor("", a.SysSN))
				if qfpay.ClassOf(payment.Code(got.Respcd)) != qfpay.ClassFailure || got.Resperr != "Hong Kong PayTypes do not support transaction cancel" {
					t.Fatalf("%s: respcd %s resperr %q", op, got.Respcd, got.Resperr)
				}
			}
			f.clock.Advance(29 * time.Minute)
			if q := f.query("HK-1"); q["respcd"] != "1143" || q["cancel"] != "0" {
				t.Fatalf("after a refused cancel and 29 minutes: %v", q)
			}
			f.clock.Advance(time.Minute)
			if q := f.query("HK-1"); q["respcd"] != "1181" {
				t.Fatalf("after the gateway's 30 minutes: %v", q)
			}
		})
	}
}

// With CancelProcessing, a cancel answers 1145 and takes effect later; a
// customer who pays meanwhile is paid, and then an Alipay reversal revokes
// and refunds the payment, while a WeChat close leaves it paid.
func TestCancelProcessing(t *testing.T) {
	tests := []struct {
		name, payType, op string
		payMeanwhile      bool
		cancel, respcd    string
		state             string
	}{
		{"reversal of an unpaid order", "801501", "reversal", false, "2", "1142", "closed"},
		{"reversal after the customer paid", "801501", "reversal", true, "2", "0000", "closed"},
		{"close after the customer paid", "800201", "close", true, "0", "0000", "paid"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, func(c *Config) { c.CancelProcessing = 10 * time.Second })
			a := f.create("CP-1", tt.payType)
			if got := f.call("/trade/v1/"+tt.op, cancelParamsFor("CP-1", "")); got.Respcd != "1145" {
				t.Fatalf("first answer %s, want 1145 (in progress)", got.Respcd)
			}
			if got := f.call("/trade/v1/"+tt.op, cancelParamsFor("CP-1", "")); got.Respcd != "1145" {
				t.Fatalf("asked again while in progress: %s, want 1145", got.Respcd)
			}
			if q := f.query("CP-1"); q["respcd"] != "1143" {
				t.Fatalf("in progress: %v", q)
			}
			if tt.payMeanwhile {
				if err := f.sim.Pay(a.SysSN); err != nil {
					t.Fatalf("paying while the cancel is in progress: %v", err)
				}
			}
			f.clock.Advance(10 * time.Second)
			eventually(t, "the cancel to take effect", func() bool { return f.sim.Orders()[0].State == tt.state })
			if q := f.query("CP-1"); q["cancel"] != tt.cancel || q["respcd"] != tt.respcd {
				t.Fatalf("afterwards cancel=%s respcd=%s, want %s %s", q["cancel"], q["respcd"], tt.cancel, tt.respcd)
			}
		})
	}
}

func TestRefunds(t *testing.T) {
	ns, received := notifyServer(t, 0)
	f := newFixture(t, func(c *Config) { c.NotifyURL = ns.URL })
	paid := f.create("R-PAY", "801501")
	if err := f.sim.Pay(paid.SysSN); err != nil {
		t.Fatal(err)
	}
	unpaid := f.create("R-UNPAID", "801501")
	fps := f.create("R-FPS", "802001")
	if err := f.sim.Pay(fps.SysSN); err != nil {
		t.Fatal(err)
	}
	refund := func(syssn, out, amt string) answer {
		return f.call("/trade/v1/refund", url.Values{"syssn": {syssn}, "out_trade_no": {out}, "txamt": {amt}, "txdtm": {"2025-03-14 10:05:00"}})
	}

	r1 := refund(paid.SysSN, "R-REF-1", "300")
	if r1.Respcd != "0000" || r1.OrigSysSN != paid.SysSN || r1.SysSN == paid.SysSN || len(r1.SysSN) != 26 || r1.TxAmt != "300" || r1.OutTradeNo != "R-REF-1" {
		t.Fatalf("partial refund: %+v", r1)
	}
	if q := f.query("R-PAY"); q["cancel"] != "5" || q["respcd"] != "0000" {
		t.Fatalf("after partial refund: %v", q)
	}
	q := f.query("R-REF-1")
	if q["order_type"] != "refund" || q["origssn"] != paid.SysSN || q["respcd"] != "0000" || q["cancel"] != "0" || q["pay_type"] != "801501" {
		t.Fatalf("refund query: %v", q)
	}
	if _, ok := q["orig_syssn"]; ok {
		t.Fatalf("a refund row says orig_syssn; the gateway's rows say origssn: %v", q)
	}

	dup := refund(paid.SysSN, "R-UNPAID", "100")
	if dup.Respcd != "1251" || dup.Resperr != "Do not use duplicate out_trade_no for request(1251)" || dup.OrigSysSN != paid.SysSN || dup.SysSN != "" {
		t.Fatalf("refund reusing an out_trade_no: %+v", dup)
	}
	steps := []struct {
		name, syssn, out, amt, want string
	}{
		{"over-refund", paid.SysSN, "R-REF-2", "701", "1272"},
		{"clash with a refund's out_trade_no", paid.SysSN, "R-REF-1", "100", "1251"},
		{"unpaid original", unpaid.SysSN, "R-REF-3", "100", "1261"},
		{"FPS", fps.SysSN, "R-REF-4", "100", "1155"},
		{"unknown original", "20250314999999999999999999", "R-REF-5", "100", "1136"},
		{"the rest", paid.SysSN, "R-REF-6", "700", "0000"},
		{"fully refunded", paid.SysSN, "R-REF-7", "1", "1264"},
	}
	for _, st := range steps {
		if got := refund(st.syssn, st.out, st.amt); got.Respcd != st.want {
			t.Fatalf("%s: respcd %s (%s), want %s", st.name, got.Respcd, got.Resperr, st.want)
		}
	}
	o := f.sim.Orders()[0]
	if o.Cancel != qfpay.CancelFlagRefunded || o.RefundedAmt != 1000 {
		t.Fatalf("original after full refund: cancel %d, refunded %d", o.Cancel, o.RefundedAmt)
	}
	if len(f.sim.Orders()) != 3 {
		t.Fatalf("Orders lists %d payments, want 3 (refunds are not orders)", len(f.sim.Orders()))
	}
	// payment notifications for R-PAY and R-FPS, refund notifications for R-REF-1 and R-REF-6
	eventually(t, "four notifications", func() bool { return len(received()) == 4 })
	var refunds []string
	for _, n := range received() {
		var body map[string]any
		if err := json.Unmarshal(n.body, &body); err != nil {
			t.Fatal(err)
		}
		if body["notify_type"] == "refund" {
			refunds = append(refunds, body["out_trade_no"].(string))
			if body["orig_syssn"] != paid.SysSN || body["orig_out_trade_no"] != "R-PAY" || body["syssn"] == paid.SysSN {
				t.Fatalf("refund notification %s", n.body)
			}
		}
	}
	slices.Sort(refunds)
	if strings.Join(refunds, ",") != "R-REF-1,R-REF-6" {
		t.Fatalf("refund notifications for %v, want R-REF-1 and R-REF-6", refunds)
	}
}

// With RefundProcessing, a refund answers 1143 and is processing until its
// time has passed on the gateway's clock: reserved (no second refund may
// exceed the payment) but not refunded, and not notified.
func TestRefundProcessing(t *testing.T) {
	ns, received := notifyServer(t, 0)
	f := newFixture(t, func(c *Config) {
		c.NotifyURL = ns.URL
		c.RefundProcessing = time.Minute
	})
	paid := f.create("RP-PAY", "805801")
	if err := f.sim.Pay(paid.SysSN); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the payment notification", func() bool { return len(received()) == 1 })
	refund := func(out, amt string) answer {
		return f.call("/trade/v1/refund", url.Values{"syssn": {paid.SysSN}, "out_trade_no": {out}, "txamt": {amt}, "txdtm": {"2025-03-14 10:05:00"}})
	}
	r := refund("RP-REF-1", "400")
	if r.Respcd != "1143" || r.SysSN == "" || r.OrigSysSN != paid.SysSN {
		t.Fatalf("processing refund answer: %+v", r)
	}
	row := f.query("RP-REF-1")
	if row["respcd"] != "1143" || row["origssn"] != paid.SysSN || row["order_type"] != "refund" || row["pay_type"] != "805801" || row["cancel"] != "0" {
		t.Fatalf("processing refund row: %v", row)
	}
	if q := f.query("RP-PAY"); q["cancel"] != "0" {
		t.Fatalf("payment while its refund is processing: %v", q)
	}
	if o := f.sim.Orders()[0]; o.RefundedAmt != 0 || o.RefundingAmt != 400 {
		t.Fatalf("refunded %d, refunding %d; want 0 and 400", o.RefundedAmt, o.RefundingAmt)
	}
	if got := refund("RP-REF-2", "100"); got.Respcd != "1102" || !strings.Contains(got.Resperr, "processing") {
		t.Fatalf("second refund while one is processing: %s %q", got.Respcd, got.Resperr)
	}
	if got := refund("RP-REF-1", "100"); got.Respcd != "1251" {
		t.Fatalf("the same refund out_trade_no again: %s", got.Respcd)
	}

	f.clock.Advance(59 * time.Second)
	if row := f.query("RP-REF-1"); row["respcd"] != "1143" {
		t.Fatalf("a second early: %v", row)
	}
	if n := len(received()); n != 1 {
		t.Fatalf("%d notifications before the refund is done", n)
	}
	f.clock.Advance(time.Second)
	// Nobody asks: the refund is done and notified when its time comes.
	eventually(t, "the refund notification", func() bool { return len(received()) == 2 })
	if row := f.query("RP-REF-1"); row["respcd"] != "0000" || row["paydtm"] != "2025-03-14 10:01:00" {
		t.Fatalf("done refund row: %v", row)
	}
	if q := f.query("RP-PAY"); q["cancel"] != "5" {
		t.Fatalf("payment after a partial refund: %v", q)
	}
	if got := refund("RP-REF-3", "601"); got.Respcd != "1272" {
		t.Fatalf("refund over what remains: %s", got.Respcd)
	}
	if got := refund("RP-REF-3", "600"); got.Respcd != "1143" {
		t.Fatalf("the rest: %s", got.Respcd)
	}
	if o := f.sim.Orders()[0]; o.RefundedAmt != 400 || o.RefundingAmt != 600 {
		t.Fatalf("refunded %d, refunding %d; want 400 and 600", o.RefundedAmt, o.RefundingAmt)
	}
	if _, err := f.sim.AdvanceClock(time.Minute); err != nil {
		t.Fatal(err)
	}
	if o := f.sim.Orders()[0]; o.RefundedAmt != 1000 || o.Cancel != qfpay.CancelFlagRefunded {
		t.Fatalf("after the clock moved: refunded %d, cancel %d", o.RefundedAmt, o.Cancel)
	}
	if got := refund("RP-REF-4", "1"); got.Respcd != "1264" || got.Resperr != "Order closed, please confirm the order status before continuing(1264)" {
		t.Fatalf("refund of a fully refunded payment: %s %q", got.Respcd, got.Resperr)
	}
}

func TestDuplicateOutTradeNo(t *testing.T) {
	f := newFixture(t, nil)
	f.create("DUP-1", "801501")
	a := f.call("/trade/v1/payment", payParams("DUP-1", "800201", "txamt", "5"))
	if a.Respcd != "2011" || a.SysSN != "" {
		t.Fatalf("duplicate: %+v", a)
	}
	if n := len(f.sim.Orders()); n != 1 {
		t.Fatalf("%d orders", n)
	}
}

func TestCommitDrop(t *testing.T) {
	f := newFixture(t, func(c *Config) { c.CommitDropRate = 1 })
	p := payParams("DROP-1", "801501")
	resp, err := f.send("/trade/v1/payment", p, testApp, qfpay.Sign(p, testKey, qfpay.SignMD5), "")
	if err == nil {
		resp.Body.Close()
		t.Fatalf("got HTTP %d, want a transport error", resp.StatusCode)
	}
	// The merchant asks before creating again, and finds exactly one order.
	q := f.query("DROP-1")
	if _, ok := q["qrcode"]; ok || q["respcd"] != "1143" {
		t.Fatalf("query after a dropped reply: %v (the real query carries no qrcode)", q)
	}
	if n := len(f.sim.Orders()); n != 1 {
		t.Fatalf("%d orders", n)
	}
	// Other calls are not affected.
	if a := f.call("/trade/v1/reversal", cancelParamsFor("DROP-1", "")); a.Respcd != "0000" {
		t.Fatalf("reversal: %s", a.Respcd)
	}
}

func TestFail5xx(t *testing.T) {
	f := newFixture(t, func(c *Config) { c.Fail5xxRate = 1 })
	p := payParams("5XX-1", "801501")
	resp, err := f.send("/trade/v1/payment", p, testApp, qfpay.Sign(p, testKey, qfpay.SignMD5), "")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadGateway {
		t.Fatalf("HTTP %d", resp.StatusCode)
	}
	if n := len(f.sim.Orders()); n != 0 {
		t.Fatalf("a 502 left %d orders", n)
	}
}

func TestLatency(t *testing.T) {
	f := newFixture(t, func(c *Config) { c.Latency = 40 * time.Millisecond })
	start := time.Now()
	f.call("/trade/v1/query", url.Values{})
	if d := time.Since(start); d < 40*time.Millisecond {
		t.Fatalf("answered in %v", d)
	}
}

func TestQueryListsAndPaging(t *testing.T) {
	f := newFixture(t, nil)
	var syssns []string
	for i, pt := range []string{"801501", "800201", "805801", "801501", "800201"} {
		a := f.create("Q-"+string(rune('A'+i)), pt)
		syssns = append(syssns, a.SysSN)
		f.clock.Advance(time.Minute)
	}
	f.sim.Pay(syssns[1])
	outs := func(a answer) string {
		var s []string
		for _, d := range a.Data {
			s = append(s, d["out_trade_no"])
		}
		return strings.Join(s, ",")
	}
	tests := []struct {
		name   string
		params url.Values
		want   string
		page   string
	}{
		{"all, newest first", url.Values{}, "Q-E,Q-D,Q-C,Q-B,Q-A", "1"},
		{"out_trade_no list", url.Values{"out_trade_no": {"Q-A,Q-C,NOPE"}}, "Q-C,Q-A", "1"},
		{"syssn list", url.Values{"syssn": {syssns[0] + "," + syssns[4]}}, "Q-E,Q-A", "1"},
		{"syssn and out_trade_no", url.Values{"syssn": {syssns[0] + "," + syssns[4]}, "out_trade_no": {"Q-A"}}, "Q-A", "1"},
		{"pay_type list", url.Values{"pay_type": {"805801,800201"}}, "Q-E,Q-C,Q-B", "1"},
		{"respcd", url.Values{"respcd": {"0000"}}, "Q-B", "1"},
		{"page 1", url.Values{"page_size": {"2"}}, "Q-E,Q-D", "1"},
		{"page 3", url.Values{"page_size": {"2"}, "page": {"3"}}, "Q-A", "3"},
		{"past the end", url.Values{"page_size": {"2"}, "page": {"4"}}, "", "4"},
		{"time window", url.Values{"start_time": {"2025-03-14 10:01:00"}, "end_time": {"2025-03-14 10:03:00"}}, "Q-D,Q-C,Q-B", "1"},
		{"no match", url.Values{"out_trade_no": {"NOPE"}}, "", "1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := f.call("/trade/v1/query", tt.params)
			if a.Respcd != "0000" || a.Data == nil || a.Page != tt.page {
				t.Fatalf("respcd %s (%s), page %q, data %v", a.Respcd, a.Resperr, a.Page, a.Data)
			}
			if got := outs(a); got != tt.want {
				t.Fatalf("got %s, want %s", got, tt.want)
			}
		})
	}
	if a := f.call("/trade/v1/query", url.Values{"page_size": {"1000"}}); a.Respcd != "0000" || a.PageSize != "100" || len(a.Data) != 5 {
		t.Fatalf("page_size 1000: respcd %s, page_size %q, %d rows; want it clamped to 100", a.Respcd, a.PageSize, len(a.Data))
	}
	for _, bad := range []url.Values{
		{"page_size": {"0"}},
		{"page": {"0"}},
		{"start_time": {"2025-03-31 23:00:00"}, "end_time": {"2025-04-01 01:00:00"}},
		{"start_time": {"yesterday"}},
	} {
		if a := f.call("/trade/v1/query", bad); a.Respcd != "1104" {
			t.Fatalf("%v: respcd %s", bad, a.Respcd)
		}
	}
}

func TestMchID(t *testing.T) {
	tests := []struct {
		name, configured, sent, want string
	}{
		{"not issued, not sent", "", "", "0000"},
		{"not issued, sent", "", "M123", "1104"},
		{"issued, sent", "M123", "M123", "0000"},
		{"issued, missing", "M123", "", "1104"},
		{"issued, another", "M123", "M999", "1104"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, func(c *Config) { c.MchID = tt.configured })
			p := payParams("MCH-1", "801501", "mchid", tt.sent)
			a := f.call("/trade/v1/payment", p)
			if a.Respcd != tt.want {
				t.Fatalf("respcd %s (%s), want %s", a.Respcd, a.Resperr, tt.want)
			}
			if tt.want == "1104" && !strings.Contains(a.Resperr, "mchid") {
				t.Fatalf("resperr %q does not name mchid", a.Resperr)
			}
			q := f.call("/trade/v1/query", url.Values{"mchid": {tt.sent}})
			if q.Respcd != tt.want {
				t.Fatalf("query respcd %s, want %s", q.Respcd, tt.want)
			}
		})
	}
}

func TestPaymentParamValidation(t *testing.T) {
	tests := []struct {
		name  string
		edit  []string // key, value pairs; value "" removes
		field string
	}{
		{"txamt missing", []string{"txamt", ""}, "txamt"},
		{"txamt zero", []string{"txamt", "0"}, "txamt"},
		{"txamt negative", []string{"txamt", "-5"}, "txamt"},
		{"txamt decimal", []string{"txamt", "10.5"}, "txamt"},
		{"txamt 12 digits", []string{"txamt", "100000000000"}, "txamt"},
		{"txcurrcd RMB", []string{"txcurrcd", "RMB"}, "txcurrcd"},
		{"txcurrcd lower case", []string{"txcurrcd", "hkd"}, "txcurrcd"},
		{"txcurrcd unknown", []string{"txcurrcd", "GBP"}, "txcurrcd"},
		{"CPM without auth_code", []string{"pay_type", "800108"}, "auth_code"},
		{"auth_code on an MPM pay type", []string{"auth_code", "280438849930815813"}, "auth_code"},
		{"expired_time on a CPM pay type", []string{"pay_type", "800008", "auth_code", "280438849930815813", "expired_time", "10"}, "expired_time"},
		{"pay_type of another mode", []string{"pay_type", "800207"}, "pay_type"},
		{"pay_type wallet key", []string{"pay_type", "alipayhk"}, "pay_type"},
		{"pay_type unknown", []string{"pay_type", "123456"}, "pay_type"},
		{"out_trade_no missing", []string{"out_trade_no", ""}, "out_trade_no"},
		{"out_trade_no too long", []string{"out_trade_no", strings.Repeat("x", 129)}, "out_trade_no"},
		{"txdtm missing", []string{"txdtm", ""}, "txdtm"},
		{"txdtm bad", []string{"txdtm", "2025-03-14T10:00:00Z"}, "txdtm"},
		{"expired_time 4", []string{"expired_time", "4"}, "expired_time"},
		{"expired_time 121", []string{"expired_time", "121"}, "expired_time"},
		{"expired_time words", []string{"expired_time", "ten"}, "expired_time"},
		{"goods_name 21 characters", []string{"goods_name", strings.Repeat("茶", 21)}, "goods_name"},
		{"goods_name special", []string{"goods_name", "Tea & cake"}, "goods_name"},
		{"udid 41", []string{"udid", strings.Repeat("u", 41)}, "udid"},
		{"txzone", []string{"txzone", "UTC+8"}, "txzone"},
		{"notify_url", []string{"notify_url", "not a url"}, "notify_url"},
		{"limit_pay", []string{"limit_pay", "credit"}, "limit_pay"},
	}
	f := newFixture(t, nil)
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := payParams("V-"+string(rune('a'+i)), "801501")
			for j := 0; j+1 < len(tt.edit); j += 2 {
				if tt.edit[j+1] == "" {
					p.Del(tt.edit[j])
				} else {
					p.Set(tt.edit[j], tt.edit[j+1])
				}
			}
			a := f.call("/trade/v1/payment", p)
			if a.Respcd != "1104" || !strings.HasPrefix(a.Resperr, tt.field+":") {
				t.Fatalf("respcd %s resperr %q, want 1104 naming %s", a.Respcd, a.Resperr, tt.field)
			}
			if a.Respmsg != qfpay.Text(qfpay.CodeParamError) {
				t.Fatalf("respmsg %q", a.Respmsg)
			}
		})
	}
	if n := len(f.sim.Orders()); n != 0 {
		t.Fatalf("invalid requests created %d orders", n)
	}
	// Limits themselves are fine.
	f.create("V-OK-1", "801501", "goods_name", "珍珠奶茶 Bubble tea 2", "expired_time", "5", "txamt", "99999999999", "txzone", "+0800", "limit_pay", "no_credit", "pay_tag", "ALIPAYCN")
	f.create("V-OK-2", "800101", "txcurrcd", "JPY", "udid", strings.Repeat("u", 40), "out_trade_no", strings.Repeat("o", 128))
}

func TestFormatErrors(t *testing.T) {
	f := newFixture(t, nil)
	req, _ := http.NewRequest(http.MethodPost, f.srv.URL+"/trade/v1/payment", strings.NewReader(`{"txamt":"1"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(qfpay.HeaderAppCode, testApp)
	resp, err := f.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if a := decode(t, resp); a.Respcd != "1103" {
		t.Fatalf("JSON body: respcd %s", a.Respcd)
	}
	resp, err = f.srv.Client().Get(f.srv.URL + "/trade/v1/payment")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Fatalf("GET: HTTP %d", resp.StatusCode)
	}
}

func TestCustomerPage(t *testing.T) {
	f := newFixture(t, nil)
	a := f.create("PAGE-1", "801501", "txamt", "123450", "goods_name", "Cake")
	get := func(path string, accept string) (int, string) {
		req, _ := http.NewRequest(http.MethodGet, f.srv.URL+path, nil)
		if accept != "" {
			req.Header.Set("Accept", accept)
		}
		resp, err := f.srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	status, page := get("/sim/pay/"+a.SysSN, "text/html")
	if status != http.StatusOK {
		t.Fatalf("HTTP %d", status)
	}
	for _, want := range []string{`name="viewport"`, "QFPay simulator", "HK$1,234.50", "Alipay HK", "支付寶香港", "Waiting for payment", ">Pay", ">Decline", `action="../pay/` + a.SysSN, `action="../decline/` + a.SysSN, "Cake"} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	// A browser form post answers the page, showing the new state.
	resp, err := f.srv.Client().Post(f.srv.URL+"/sim/pay/"+a.SysSN, "application/x-www-form-urlencoded", nil)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(b), "Paid") || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("browser pay: HTTP %d\n%s", resp.StatusCode, b)
	}
	resp, err = f.srv.Client().Post(f.srv.URL+"/sim/decline/"+a.SysSN, "application/x-www-form-urlencoded", nil)
	if err != nil {
		t.Fatal(err)
	}
	b, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusConflict || !strings.Contains(string(b), "no longer waiting") {
		t.Fatalf("decline of a paid order: HTTP %d\n%s", resp.StatusCode, b)
	}
	if status, _ := get("/sim/pay/20250314000000000000000000", ""); status != http.StatusNotFound {
		t.Fatalf("unknown order: HTTP %d", status)
	}
	if status, body := get("/healthz", ""); status != http.StatusOK || strings.TrimSpace(body) != "ok" {
		t.Fatalf("healthz: %d %q", status, body)
	}
	status, body := get("/sim/orders", "")
	var orders []Order
	if err := json.Unmarshal([]byte(body), &orders); err != nil || status != http.StatusOK {
		t.Fatalf("orders: %d %v", status, err)
	}
	if len(orders) != 1 || orders[0].SysSN != a.SysSN || orders[0].Respcd != "0000" || orders[0].TxAmt != 123450 || orders[0].GoodsName != "Cake" {
		t.Fatalf("orders: %+v", orders)
	}
}

func TestConcurrentUse(t *testing.T) {
	ns, _ := notifyServer(t, 0)
	f := newFixture(t, func(c *Config) { c.NotifyURL = ns.URL })
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range 5 {
				out := "C-" + string(rune('a'+i)) + string(rune('a'+j))
				p := payParams(out, "801501")
				resp, err := f.send("/trade/v1/payment", p, testApp, qfpay.Sign(p, testKey, qfpay.SignMD5), "")
				if err != nil {
					t.Error(err)
					return
				}
				var a answer
				json.NewDecoder(resp.Body).Decode(&a)
				resp.Body.Close()
				f.sim.Pay(a.SysSN)
				f.sim.Orders()
			}
		}()
	}
	wg.Wait()
	orders := f.sim.Orders()
	seen := map[string]bool{}
	for _, o := range orders {
		if seen[o.SysSN] {
			t.Fatalf("syssn %s handed out twice", o.SysSN)
		}
		seen[o.SysSN] = true
	}
	if len(orders) != 40 {
		t.Fatalf("%d orders", len(orders))
	}
}
