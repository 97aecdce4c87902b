package qfpay_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"qrkiosk/payment"
	"qrkiosk/payment/internal/strictjson"
	"qrkiosk/payment/qfpay"
)

// Signature vectors. The expected digests were computed outside Go with
// coreutils, e.g.
//
//	printf '%s' 'mchid=ZaMVg12345&txamt=100&txcurrcd=HKDabcd1234' | md5sum
//
// so a bug in the code under test cannot also be in the expectation.
func TestSignVectors(t *testing.T) {
	spec := url.Values{"mchid": {"ZaMVg12345"}, "txamt": {"100"}, "txcurrcd": {"HKD"}, "udid": {""}}
	if got, want := qfpay.SigningString(spec, "abcd1234"), "mchid=ZaMVg12345&txamt=100&txcurrcd=HKDabcd1234"; got != want {
		t.Fatalf("signing string %q, want %q (spec's worked example; empty udid left out)", got, want)
	}
	tests := []struct {
		params url.Values
		typ    qfpay.SignType
		want   string
	}{
		{spec, qfpay.SignMD5, "3CB3AA9C21D818AB4CAFAA8FA3FEACF4"},
		{spec, qfpay.SignSHA256, "99D9F7174823928B74C74B1C7A7E1538DF733774DD21C9606A202CB8BB3D74E8"},
		{url.Values{ // raw, unescaped UTF-8 and a space in txdtm
			"txamt": {"2500"}, "txcurrcd": {"HKD"}, "pay_type": {"801501"}, "out_trade_no": {"A1"},
			"txdtm": {"2026-11-22 18:30:00"}, "goods_name": {"奶茶"},
		}, qfpay.SignMD5, "598188CF7A4B87292A414CD68EA0B0E5"},
	}
	for _, tt := range tests {
		if got := qfpay.Sign(tt.params, "abcd1234", tt.typ); got != tt.want {
			t.Errorf("Sign(%v, %s) = %s, want %s", tt.params, tt.typ, got, tt.want)
		}
	}
}

const notifyBody = `{"notify_type":"payment","syssn":"20261122000100020000000001","out_trade_no":"A1","txamt":"2500","txcurrcd":"HKD","respcd":"0000","status":"1"}`

// md5sum of notifyBody + "abcd1234", computed with coreutils.
const notifySign = "9F179626D040CE03173268338A6E659B"

func TestVerifyNotification(t *testing.T) {
	body := []byte(notifyBody)
	if err := qfpay.VerifyNotification(body, notifySign, "abcd1234", qfpay.SignMD5); err != nil {
		t.Fatalf("genuine notification rejected: %v", err)
	}
	var reserialised bytes.Buffer
	json.Indent(&reserialised, body, "", " ")
	forged := []struct {
		name string
		body []byte
		sign string
		key  string
	}{
		{"wrong key", body, notifySign, "other-key"},
		{"missing header", body, "", "abcd1234"},
		{"body changed after signing", bytes.Replace(body, []byte("2500"), []byte("2"), 1), notifySign, "abcd1234"},
		{"JSON re-serialised", reserialised.Bytes(), notifySign, "abcd1234"},
		{"lower-case signature", body, strings.ToLower(notifySign), "abcd1234"},
		{"empty body", nil, notifySign, "abcd1234"},
	}
	for _, f := range forged {
		if err := qfpay.VerifyNotification(f.body, f.sign, f.key, qfpay.SignMD5); !errors.Is(err, qfpay.ErrBadSignature) {
			t.Errorf("%s: err = %v, want ErrBadSignature", f.name, err)
		}
	}
	n, err := qfpay.ParseNotification(body)
	if err != nil || !n.Paid() || n.TxAmt != 2500 || n.OutTradeNo != "A1" {
		t.Fatalf("ParseNotification = %+v, %v", n, err)
	}
	for _, bad := range []string{`{`, `{"notify_type":"payment"}`, `{"notify_type":"x","syssn":"1","out_trade_no":"A","txamt":"5"}`, `{"notify_type":"payment","syssn":"1","out_trade_no":"A","txamt":"five"}`} {
		if _, err := qfpay.ParseNotification([]byte(bad)); !errors.Is(err, qfpay.ErrMalformedNotification) {
			t.Errorf("ParseNotification(%s) err = %v", bad, err)
		}
	}
}

func FuzzParseNotification(f *testing.F) {
	f.Add([]byte(notifyBody))
	f.Add([]byte(`{"txamt":12,"syssn":1}`))
	f.Add([]byte(`{"notify_type":"payment","syssn":"1","out_trade_no":"A","txamt":"1","TxAmt":"2500"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		n, err := qfpay.ParseNotification(b)
		if err == nil && (n.SysSN == "" || n.OutTradeNo == "" || n.TxAmt <= 0) {
			t.Fatalf("accepted an incomplete notification: %+v", n)
		}
		if err == nil && strictjson.Check(b) != nil {
			t.Fatalf("accepted %q, which gives a key twice", b)
		}
		// The machine decides by Status alone: an accepted notification
		// always states it, as QFPay's table reads its code and flag.
		if err == nil && (n.Transaction.Status != qfpay.Outcome(n.Code, n.Cancel) || n.Text != qfpay.Describe(n.Code)) {
			t.Fatalf("notification %+v: outcome %s, want %s from respcd %q cancel %d", n, n.Transaction.Status, qfpay.Outcome(n.Code, n.Cancel), n.Code, n.Cancel)
		}
	})
}

// gateway is an httptest QFPay that records what it receives.
type gateway struct {
	t       *testing.T
	mu      sync.Mutex
	reqs    []*http.Request
	forms   []url.Values
	handler func(n int, path string, form url.Values, w http.ResponseWriter)
	srv     *httptest.Server
}

func newGateway(t *testing.T, h func(n int, path string, form url.Values, w http.ResponseWriter)) *gateway {
	g := &gateway{t: t, handler: h}
	g.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/x-www-form-urlencoded") {
			t.Errorf("Content-Type %q", ct)
		}
		if err := r.ParseForm(); err != nil {
			t.Errorf("form: %v", err)
		}
		if got := r.Header.Get("X-QF-APPCODE"); got != "APP1" {
			t.Errorf("X-QF-APPCODE = %q", got)
		}
		st := qfpay.SignMD5
		if r.Header.Get("X-QF-SIGNTYPE") == "SHA256" {
			st = qfpay.SignSHA256
		}
		if err := qfpay.VerifyRequest(r.PostForm, "KEY1", r.Header.Get("X-QF-SIGN"), st); err != nil {
			t.Errorf("%s: signature does not verify: %v", r.URL.Path, err)
		}
		g.mu.Lock()
		n := len(g.reqs)
		g.reqs = append(g.reqs, r)
		g.forms = append(g.forms, r.PostForm)
		g.mu.Unlock()
		h(n, r.URL.Path, r.PostForm, w)
	}))
	t.Cleanup(g.srv.Close)
	return g
}

func (g *gateway) form(i int) url.Values {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.forms[i]
}

func (g *gateway) count() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.reqs)
}

func client(t *testing.T, g *gateway, opts ...qfpay.Option) *qfpay.Client {
	t.Helper()
	all := append([]qfpay.Option{qfpay.WithBaseURL(g.srv.URL), qfpay.WithRetry(3, time.Millisecond), qfpay.WithTimeout(2 * time.Second)}, opts...)
	c, err := qfpay.NewClient("APP1", "KEY1", all...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func sale(t *testing.T) payment.CreateRequest {
	hkd, _ := payment.LookupCurrency("HKD")
	amt, _ := payment.ParseAmount("12.34", hkd)
	pt, _ := payment.LookupPayType("alipayhk")
	return payment.CreateRequest{
		OutTradeNo: "QK1", Amount: amt, PayType: pt, Expiry: 5 * time.Minute, GoodsName: "Milk tea",
		TxTime: time.Date(2026, 11, 22, 10, 30, 0, 0, time.UTC),
	}
}

func created(w http.ResponseWriter, form url.Values) {
	fmt.Fprintf(w, `{"respcd":"0000","resperr":"success","syssn":"20261122000100020000000001","out_trade_no":%q,"qrcode":"https://qr.example.invalid/x","txamt":%s,"txcurrcd":"HKD"}`,
		form.Get("out_trade_no"), form.Get("txamt"))
}

func TestCreateMPMSendsTheProtocol(t *testing.T) {
	g := newGateway(t, func(n int, path string, form url.Values, w http.ResponseWriter) {
		if path != "/trade/v1/payment" {
			t.Errorf("path %s", path)
		}
		created(w, form)
	})
	got, err := client(t, g, qfpay.WithUDID("counter-1")).CreateMPM(context.Background(), sale(t))
	if err != nil {
		t.Fatal(err)
	}
	if got.SysSN != "20261122000100020000000001" || got.QRCode != "https://qr.example.invalid/x" || got.Adopted {
		t.Fatalf("created %+v", got)
	}
	want := url.Values{
		"txamt": {"1234"}, "txcurrcd": {"HKD"}, "pay_type": {"801501"}, "out_trade_no": {"QK1"},
		"txdtm": {"2026-11-22 18:30:00"}, "expired_time": {"5"}, "goods_name": {"Milk tea"}, "udid": {"counter-1"},
	}
	if f := g.form(0); f.Encode() != want.Encode() {
		t.Fatalf("form sent\n %s\nwant\n %s (no mchid when none was issued, no txzone in UTC+8)", f.Encode(), want.Encode())
	}
}

func TestCreateMPMMchIDSHA256AndZone(t *testing.T) {
	var hdr http.Header
	g := newGateway(t, func(n int, path string, form url.Values, w http.ResponseWriter) { created(w, form) })
	g.srv.Config.Handler = func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hdr = r.Header.Clone(); next.ServeHTTP(w, r) })
	}(g.srv.Config.Handler)
	tokyo := time.FixedZone("JST", 9*3600)
	req := sale(t)
	req.PayType, _ = payment.LookupPayType("payme") // gateway's own expiry: no expired_time
	_, err := client(t, g, qfpay.WithMchID("ZaMVg12345"), qfpay.WithSignType(qfpay.SignSHA256), qfpay.WithLocation(tokyo)).CreateMPM(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	f := g.form(0)
	if f.Get("mchid") != "ZaMVg12345" || f.Get("txzone") != "+0900" || f.Get("txdtm") != "2026-11-22 19:30:00" || f.Has("expired_time") {
		t.Fatalf("form %s", f.Encode())
	}
	if hdr.Get("X-QF-SIGNTYPE") != "SHA256" || len(hdr.Get("X-QF-SIGN")) != 64 {
		t.Fatalf("headers %v", hdr)
	}
}

func TestCreateRejectsBadInputWithoutCalling(t *testing.T) {
	g := newGateway(t, func(int, string, url.Values, http.ResponseWriter) {})
	c := client(t, g)
	tests := []struct {
		mod   func(*payment.CreateRequest)
		field string
	}{
		{func(r *payment.CreateRequest) { r.Expiry = 3 * time.Minute }, "expired_time"},
		{func(r *payment.CreateRequest) { r.Expiry = 121 * time.Minute }, "expired_time"},
		{func(r *payment.CreateRequest) { r.GoodsName = "Tea & cake" }, "goods_name"},
		{func(r *payment.CreateRequest) {
			r.GoodsName = "一二三四五六七八九十一二三四五六七八九十一"
		}, "goods_name"},
		{func(r *payment.CreateRequest) { r.OutTradeNo = strings.Repeat("x", 129) }, "out_trade_no"},
		{func(r *payment.CreateRequest) { r.PayType, _ = payment.LookupPayType("800108") }, "pay_type"},
	}
	for _, tt := range tests {
		req := sale(t)
		tt.mod(&req)
		_, err := c.CreateMPM(context.Background(), req)
		var fe *payment.FieldError
		if !errors.As(err, &fe) || fe.Field != tt.field {
			t.Errorf("err = %v, want a %s field error", err, tt.field)
		}
	}
	if g.count() != 0 {
		t.Fatalf("%d calls reached the gateway for bad input", g.count())
	}
	if _, err := qfpay.NewClient("APP1", "KEY1", qfpay.WithUDID(strings.Repeat("u", 41))); err == nil {
		t.Fatal("udid longer than 40 accepted")
	}
}

func TestCreateRefusedIsTypedError(t *testing.T) {
	g := newGateway(t, func(n int, path string, form url.Values, w http.ResponseWriter) {
		fmt.Fprint(w, `{"respcd":"1108","resperr":"signature error","respmsg":""}`)
	})
	_, err := client(t, g).CreateMPM(context.Background(), sale(t))
	var ge *payment.Error
	if !errors.As(err, &ge) || ge.Code != qfpay.CodeSignatureError {
		t.Fatalf("err = %v, want *payment.Error 1108", err)
	}
	if g.count() != 1 {
		t.Fatalf("%d calls: a refusal must not be retried", g.count())
	}
}

func TestCreateUnknownOutcomeAdoptsOrder(t *testing.T) {
	g := newGateway(t, func(n int, path string, form url.Values, w http.ResponseWriter) {
		switch path {
		case "/trade/v1/payment": // commit, then drop the reply
			hj, _ := w.(http.Hijacker)
			conn, _, _ := hj.Hijack()
			conn.Close()
		case "/trade/v1/query":
			if form.Get("out_trade_no") != "QK1" {
				t.Errorf("query form %s", form.Encode())
			}
			fmt.Fprint(w, `{"respcd":"0000","page":1,"data":[{"syssn":"S1","out_trade_no":"QK1","txamt":1234,"txcurrcd":"HKD","respcd":"1143","cancel":0,"qrcode":"https://qr.example.invalid/S1"}]}`)
		}
	})
	got, err := client(t, g).CreateMPM(context.Background(), sale(t))
	if err != nil {
		t.Fatal(err)
	}
	if !got.Adopted || got.SysSN != "S1" || got.QRCode != "https://qr.example.invalid/S1" {
		t.Fatalf("created %+v", got)
	}
	if g.count() != 2 {
		t.Fatalf("%d calls, want create then query: never a second create when the order exists", g.count())
	}
}

func TestCreate5xxNotFoundResendsSameOrder(t *testing.T) {
	g := newGateway(t, func(n int, path string, form url.Values, w http.ResponseWriter) {
		switch {
		case path == "/trade/v1/query":
			fmt.Fprint(w, `{"respcd":"0000","data":[]}`)
		case n == 0:
			w.WriteHeader(http.StatusBadGateway)
		default:
			created(w, form)
		}
	})
	if _, err := client(t, g).CreateMPM(context.Background(), sale(t)); err != nil {
		t.Fatal(err)
	}
	if g.count() != 3 {
		t.Fatalf("%d calls, want create, query, create", g.count())
	}
	if a, b := g.form(0).Encode(), g.form(2).Encode(); a != b {
		t.Fatalf("re-sent create differs:\n%s\n%s", a, b)
	}
}

func TestCreateUnknownAndQueryDownIsOutcomeUnknown(t *testing.T) {
	g := newGateway(t, func(n int, path string, form url.Values, w http.ResponseWriter) {
		w.WriteHeader(http.StatusServiceUnavailable)
	})
	_, err := client(t, g).CreateMPM(context.Background(), sale(t))
	if !errors.Is(err, payment.ErrOutcomeUnknown) {
		t.Fatalf("err = %v, want ErrOutcomeUnknown", err)
	}
	creates := 0
	for i := 0; i < g.count(); i++ {
		if g.form(i).Has("pay_type") && g.form(i).Has("txdtm") && g.form(i).Has("txcurrcd") {
			creates++
		}
	}
	if creates != 1 {
		t.Fatalf("%d creates while the outcome was unknown, want 1", creates)
	}
}

func TestRetries429AndHonoursContext(t *testing.T) {
	g := newGateway(t, func(n int, path string, form url.Values, w http.ResponseWriter) {
		if n < 2 {
			w.WriteHeader(http.StatusTooManyRequests)
			return
		}
		created(w, form)
	})
	if _, err := client(t, g, qfpay.WithRateLimitWait(time.Millisecond)).CreateMPM(context.Background(), sale(t)); err != nil || g.count() != 3 {
		t.Fatalf("err %v after %d calls; 429 means not processed, so retry", err, g.count())
	}
	// Asking again at once spends more of the merchant's budget: the
	// client waits what the gateway asks (Retry-After) before the next try.
	var at []time.Time
	wait := newGateway(t, func(n int, path string, form url.Values, w http.ResponseWriter) {
		at = append(at, time.Now())
		if n == 0 {
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusTooManyRequests)
			return
		}
		created(w, form)
	})
	if _, err := client(t, wait, qfpay.WithRateLimitWait(time.Millisecond)).CreateMPM(context.Background(), sale(t)); err != nil || len(at) != 2 || at[1].Sub(at[0]) < time.Second {
		t.Fatalf("err %v; retried after %v, want at least the 1 s the gateway asked", err, at[len(at)-1].Sub(at[0]))
	}
	// A query told 429 every time gives up with payment.ErrRateLimited.
	limited := newGateway(t, func(n int, path string, form url.Values, w http.ResponseWriter) {
		w.WriteHeader(http.StatusTooManyRequests)
	})
	if _, err := client(t, limited, qfpay.WithRateLimitWait(time.Millisecond)).QueryOrder(context.Background(), payment.OrderRef{OutTradeNo: "QK1", SysSN: "S1"}); !errors.Is(err, payment.ErrRateLimited) || !errors.Is(err, payment.ErrNotSent) {
		t.Fatalf("err %v, want ErrRateLimited (and nothing done)", err)
	}
	// Asked to wait longer than the caller has: the 429 comes back at
	// once, as a rate limit (the order machine slows its polling), not as
	// the caller's timeout.
	later := newGateway(t, func(n int, path string, form url.Values, w http.ResponseWriter) {
		w.Header().Set("Retry-After", "30")
		w.WriteHeader(http.StatusTooManyRequests)
	})
	short, cancelShort := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancelShort()
	if _, err := client(t, later).QueryOrder(short, payment.OrderRef{OutTradeNo: "QK1", SysSN: "S1"}); !errors.Is(err, payment.ErrRateLimited) || later.count() != 1 || short.Err() != nil {
		t.Fatalf("err %v after %d calls (ctx %v): want ErrRateLimited before the deadline", err, later.count(), short.Err())
	}
	slow := newGateway(t, func(int, string, url.Values, http.ResponseWriter) { time.Sleep(time.Second) })
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := client(t, slow).QueryOrder(ctx, payment.OrderRef{OutTradeNo: "QK1"})
	if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 900*time.Millisecond {
		t.Fatalf("err %v after %v: a cancelled ctx must stop the call", err, time.Since(start))
	}
}

func TestTolerantParsing(t *testing.T) {
	g := newGateway(t, func(n int, path string, form url.Values, w http.ResponseWriter) {
		fmt.Fprint(w, `{"respcd":"0000","syssn":12345,"txamt":1234,"pay_url":"weixin://wxpay/bizpayurl?pr=x","surcharge_fee":0}`)
	})
	got, err := client(t, g).CreateMPM(context.Background(), sale(t))
	if err != nil || got.QRCode != "weixin://wxpay/bizpayurl?pr=x" || got.SysSN != "12345" {
		t.Fatalf("created %+v, %v", got, err)
	}
}

func TestQueryBatchAndPages(t *testing.T) {
	g := newGateway(t, func(n int, path string, form url.Values, w http.ResponseWriter) {
		if form.Get("page") == "1" {
			items := make([]string, 100)
			for i := range items {
				items[i] = fmt.Sprintf(`{"syssn":"S%d","out_trade_no":"O%d","txamt":"1","respcd":"0000"}`, i, i)
			}
			fmt.Fprintf(w, `{"respcd":"0000","data":[%s]}`, strings.Join(items, ","))
			return
		}
		fmt.Fprint(w, `{"respcd":"0000","data":[{"syssn":"S100","out_trade_no":"O100","txamt":"1","respcd":"1143"}]}`)
	})
	c := client(t, g)
	all, err := c.QueryAll(context.Background(), qfpay.QueryParams{OutTradeNos: []string{"A", "B"}, Start: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), End: time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)})
	if err != nil || len(all) != 101 {
		t.Fatalf("QueryAll: %d, %v", len(all), err)
	}
	if f := g.form(0); f.Get("out_trade_no") != "A,B" || f.Get("page_size") != "100" || f.Get("start_time") != "2026-11-01 08:00:00" {
		t.Fatalf("query form %s", f.Encode())
	}
	if _, err := c.Query(context.Background(), qfpay.QueryParams{Start: time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC), End: time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)}); err == nil {
		t.Fatal("a query across two months must be refused before it is sent")
	}
	if _, err := c.QueryOrder(context.Background(), payment.OrderRef{OutTradeNo: "nope"}); !errors.Is(err, payment.ErrNotFound) {
		t.Fatalf("QueryOrder of a missing order: %v", err)
	}
}

func TestCancelOrderByPayType(t *testing.T) {
	var paths []string
	g := newGateway(t, func(n int, path string, form url.Values, w http.ResponseWriter) {
		paths = append(paths, path)
		if form.Get("txamt") != "1234" || form.Get("out_trade_no") != "QK1" || form.Get("txdtm") != "2026-11-22 18:30:00" {
			t.Errorf("cancel form %s", form.Encode())
		}
		fmt.Fprint(w, `{"respcd":"1142"}`) // already closed counts as withdrawn
	})
	c := client(t, g)
	req := sale(t)
	for _, wallet := range []string{"alipayhk", "wechat-cpm"} {
		pt, _ := payment.LookupPayType(wallet)
		if err := c.CancelOrder(context.Background(), payment.OrderRef{OutTradeNo: "QK1", Amount: req.Amount, PayType: pt, TxTime: req.TxTime}); err != nil {
			t.Fatalf("%s: %v", wallet, err)
		}
	}
	// Hong Kong pay types have no cancel: nothing is sent for them.
	for _, wallet := range []string{"payme", "unionpay", "fps", "octopus"} {
		pt, _ := payment.LookupPayType(wallet)
		if err := c.CancelOrder(context.Background(), payment.OrderRef{OutTradeNo: "QK1", PayType: pt}); !errors.Is(err, payment.ErrCancelUnsupported) {
			t.Fatalf("%s cancel: %v", wallet, err)
		}
	}
	if strings.Join(paths, " ") != "/trade/v1/reversal /trade/v1/close" {
		t.Fatalf("paths %v", paths)
	}
}

// QFPay's pages disagree on how WeChat MPM is withdrawn: a refused
// reversal is tried again as a close; an "in progress" answer is a
// withdrawal on its way (the final query decides).
func TestWeChatMPMWithdrawnByCloseWhenReversalRefused(t *testing.T) {
	var paths []string
	g := newGateway(t, func(n int, path string, form url.Values, w http.ResponseWriter) {
		paths = append(paths, path)
		if path == qfpay.PathReversal {
			fmt.Fprint(w, `{"respcd":"1104","resperr":"pay_type: not reversible"}`)
			return
		}
		fmt.Fprint(w, `{"respcd":"1143"}`)
	})
	wechat, _ := payment.LookupPayType("wechat")
	req := sale(t)
	if err := client(t, g).CancelOrder(context.Background(), payment.OrderRef{OutTradeNo: "QK1", SysSN: "S1", Amount: req.Amount, PayType: wechat, TxTime: req.TxTime}); err != nil {
		t.Fatal(err)
	}
	if strings.Join(paths, " ") != "/trade/v1/reversal /trade/v1/close" {
		t.Fatalf("paths %v", paths)
	}
}

func TestRefundUnknownOutcomeResolvedByQuery(t *testing.T) {
	g := newGateway(t, func(n int, path string, form url.Values, w http.ResponseWriter) {
		switch path {
		case "/trade/v1/refund":
			w.WriteHeader(http.StatusGatewayTimeout)
		case "/trade/v1/query":
			fmt.Fprint(w, `{"respcd":"0000","data":[{"syssn":"R1","orig_syssn":"S1","out_trade_no":"RF1","txamt":"500","respcd":"0000","order_type":"refund"}]}`)
		}
	})
	r, err := client(t, g).Refund(context.Background(), payment.RefundRequest{Orig: payment.OrderRef{SysSN: "S1"}, OutTradeNo: "RF1", Amount: payment.Amount{Minor: 500}, TxTime: time.Now()})
	if err != nil || r.SysSN != "R1" || g.count() != 2 {
		t.Fatalf("refund %+v, %v after %d calls", r, err, g.count())
	}
}

func TestSecretsNeverLogged(t *testing.T) {
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	var sign string
	g := newGateway(t, func(n int, path string, form url.Values, w http.ResponseWriter) {
		if path == "/trade/v1/payment" {
			w.WriteHeader(http.StatusBadGateway)
			return
		}
		fmt.Fprint(w, `{"respcd":"1108","resperr":"signature error"}`)
	})
	g.srv.Config.Handler = func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { sign = r.Header.Get("X-QF-SIGN"); next.ServeHTTP(w, r) })
	}(g.srv.Config.Handler)
	_, err := client(t, g, qfpay.WithLogger(log)).CreateMPM(context.Background(), sale(t))
	out := logs.String() + fmt.Sprint(err)
	if strings.Contains(out, "KEY1") || (sign != "" && strings.Contains(out, sign)) {
		t.Fatalf("a secret reached the logs or errors:\n%s", out)
	}
	if !strings.Contains(logs.String(), "QK1") {
		t.Fatalf("logs lack the out_trade_no:\n%s", logs.String())
	}
}

// QFPay's query sees only [start_time, end_time] (default: this month) and
// only syssn overrides it: an order is asked for by syssn when known, else
// in windows around its time, one per calendar month.
func TestQueryWindowsCoverTheOrder(t *testing.T) {
	var forms []url.Values
	g := newGateway(t, func(n int, path string, form url.Values, w http.ResponseWriter) {
		forms = append(forms, form)
		if form.Get("start_time") >= "2026-12-01" || form.Get("syssn") != "" {
			fmt.Fprint(w, `{"respcd":"0000","data":[{"syssn":"20261201000000000000000001","out_trade_no":"QK1","txamt":"1234","respcd":"0000","order_type":"payment"}]}`)
			return
		}
		fmt.Fprint(w, `{"respcd":"0000","data":[]}`)
	})
	c := client(t, g)
	ctx := context.Background()
	// Rung up a second before midnight on 30 November (Hong Kong): the
	// gateway may date it 1 December. November is asked first, then December.
	at := time.Date(2026, 11, 30, 23, 59, 59, 0, payment.HongKong)
	txn, err := c.QueryOrder(ctx, payment.OrderRef{OutTradeNo: "QK1", TxTime: at})
	if err != nil || txn.SysSN != "20261201000000000000000001" {
		t.Fatalf("txn %+v, %v", txn, err)
	}
	want := [][2]string{{"2026-11-29 23:59:59", "2026-11-30 23:59:59"}, {"2026-12-01 00:00:00", "2026-12-01 23:59:59"}}
	if len(forms) != 2 {
		t.Fatalf("%d queries, want 2", len(forms))
	}
	for i, f := range forms {
		if f.Get("out_trade_no") != "QK1" || f.Get("start_time") != want[i][0] || f.Get("end_time") != want[i][1] || f.Has("syssn") {
			t.Errorf("query %d: %s", i, f.Encode())
		}
	}
	// Mid-month: one window; with the syssn known: the syssn alone.
	forms = nil
	c.QueryOrder(ctx, payment.OrderRef{OutTradeNo: "QK1", TxTime: time.Date(2026, 11, 15, 12, 0, 0, 0, payment.HongKong)})
	if len(forms) != 1 || forms[0].Get("start_time") != "2026-11-14 12:00:00" || forms[0].Get("end_time") != "2026-11-16 12:00:00" {
		t.Fatalf("mid-month queries %v", forms)
	}
	forms = nil
	if _, err := c.QueryOrder(ctx, payment.OrderRef{OutTradeNo: "QK1", SysSN: "20261201000000000000000001", TxTime: at}); err != nil {
		t.Fatal(err)
	}
	if len(forms) != 1 || forms[0].Get("syssn") != "20261201000000000000000001" || forms[0].Has("start_time") {
		t.Fatalf("query by syssn %v", forms)
	}
}

// Identifiers are compared exactly: "QK1 " is not our order.
func TestQueryMatchesIdentifiersExactly(t *testing.T) {
	g := newGateway(t, func(n int, path string, form url.Values, w http.ResponseWriter) {
		fmt.Fprint(w, `{"respcd":"0000","data":[{"syssn":"S1","out_trade_no":"QK1 ","txamt":"1234","respcd":"0000","order_type":"payment"}]}`)
	})
	if _, err := client(t, g).QueryOrder(context.Background(), payment.OrderRef{OutTradeNo: "QK1"}); !errors.Is(err, payment.ErrNotFound) {
		t.Fatalf("a record for %q matched QK1: %v", "QK1 ", err)
	}
	n, err := qfpay.ParseNotification([]byte(`{"notify_type":"payment","syssn":"S1","out_trade_no":"QK1 ","txamt":"1234","status":"1"}`))
	if err != nil || n.OutTradeNo != "QK1 " {
		t.Fatalf("notification out_trade_no %q, %v: must be kept as sent", n.OutTradeNo, err)
	}
}

// A refund answered 1143/1145 is processing, not failed: it comes back
// pending and is not sent again; a duplicate number (our own earlier try
// got there) is settled by query.
func TestRefundProcessingAndDuplicate(t *testing.T) {
	req := payment.RefundRequest{Orig: payment.OrderRef{SysSN: "S1"}, OutTradeNo: "RF1", Amount: payment.Amount{Minor: 500}, TxTime: time.Date(2026, 11, 20, 10, 0, 0, 0, payment.HongKong)}
	var paths []string
	g := newGateway(t, func(n int, path string, form url.Values, w http.ResponseWriter) {
		paths = append(paths, path)
		fmt.Fprint(w, `{"respcd":"1143","resperr":"processing","syssn":"R1","orig_syssn":"S1","txamt":"500"}`)
	})
	r, err := client(t, g).Refund(context.Background(), req)
	if err != nil || r.Code != qfpay.CodeUserPaying || r.SysSN != "R1" || r.Kind != payment.TxnRefund || len(paths) != 1 {
		t.Fatalf("refund %+v, %v after %v", r, err, paths)
	}
	paths = nil
	dup := newGateway(t, func(n int, path string, form url.Values, w http.ResponseWriter) {
		paths = append(paths, path)
		if path == qfpay.PathRefund {
			fmt.Fprint(w, `{"respcd":"1251","resperr":"Do not use duplicate out_trade_no for request(1251)"}`)
			return
		}
		fmt.Fprint(w, `{"respcd":"0000","data":[{"syssn":"R1","origssn":"S1","out_trade_no":"RF1","txamt":"500","respcd":"0000","order_type":"refund"}]}`)
	})
	r, err = client(t, dup).Refund(context.Background(), req)
	if err != nil || r.Code != qfpay.CodeSuccess || r.OrigSysSN != "S1" || strings.Join(paths, " ") != "/trade/v1/refund /trade/v1/query" {
		t.Fatalf("refund %+v, %v after %v", r, err, paths)
	}
}

// A signature error names the likely cause: credentials of another
// environment.
func TestSignatureErrorHint(t *testing.T) {
	g := newGateway(t, func(n int, path string, form url.Values, w http.ResponseWriter) {
		fmt.Fprint(w, `{"respcd":"1108","resperr":"signature error"}`)
	})
	_, err := client(t, g).CreateMPM(context.Background(), sale(t))
	var ge *payment.Error
	if !errors.As(err, &ge) || !strings.Contains(ge.Reason(), "QFPAY_ENV") {
		t.Fatalf("err %v: want a hint about QFPAY_ENV", err)
	}
}

// A query row's chnlsn (the wallet's own number) is kept: a POS records it
// as the payment's reference.
func TestQueryKeepsTheWalletsNumber(t *testing.T) {
	g := newGateway(t, func(n int, path string, form url.Values, w http.ResponseWriter) {
		fmt.Fprint(w, `{"respcd":"0000","data":[{"syssn":"S1","out_trade_no":"QK1","txamt":"1234","respcd":"0000","order_type":"payment","chnlsn":"2025085675626675"}]}`)
	})
	tx, err := client(t, g).QueryOrder(context.Background(), payment.OrderRef{OutTradeNo: "QK1", SysSN: "S1"})
	if err != nil || tx.ChnlSN != "2025085675626675" {
		t.Fatalf("query %+v, %v", tx, err)
	}
}
