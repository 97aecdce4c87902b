package sfpsim

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"qrkiosk/payment"
	"qrkiosk/payment/paymenttest"
	"qrkiosk/payment/scanforpay"
)

const (
	testPartner = "10001"
	testStore   = "100010000000002"
	testKey     = "SIMTESTKEY000000000000000000001"
)

// fixture is a simulator on an httptest server with a settable clock, and
// the project's client for it.
type fixture struct {
	sim    *Sim
	srv    *httptest.Server
	client *scanforpay.Client
	clock  *paymenttest.Clock
}

func newFixture(t *testing.T, opts ...func(*Config)) *fixture {
	t.Helper()
	f := &fixture{clock: paymenttest.NewClock(time.Date(2025, 3, 14, 2, 0, 0, 0, time.UTC))}
	cfg := Config{PartnerNo: testPartner, StoreNo: testStore, Key: testKey, Now: f.clock.Now, Rand: rand.New(rand.NewPCG(1, 2)), NotifyScale: 0.001}
	for _, o := range opts {
		o(&cfg)
	}
	f.sim = New(cfg)
	f.srv = httptest.NewServer(f.sim)
	f.sim.SetBaseURL(f.srv.URL)
	t.Cleanup(func() { f.srv.Close(); f.sim.Close() })
	f.client = f.newClient(t)
	return f
}

func (f *fixture) newClient(t *testing.T, opts ...scanforpay.Option) *scanforpay.Client {
	t.Helper()
	c, err := scanforpay.NewClient(testPartner, testKey, append([]scanforpay.Option{scanforpay.WithBaseURL(f.srv.URL), scanforpay.WithStoreNo(testStore),
		scanforpay.WithRetry(3, time.Millisecond)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

var (
	hkd, _    = payment.LookupCurrency("HKD")
	alipay, _ = scanforpay.PayTypes().Lookup("alipay")
	wechat, _ = scanforpay.PayTypes().Lookup("wechat")
)

func req(otn string, minor int64, pt payment.PayType) payment.CreateRequest {
	return payment.CreateRequest{OutTradeNo: otn, Amount: payment.Amount{Minor: minor, Currency: hkd}, PayType: pt, Expiry: 5 * time.Minute, GoodsName: "Milk tea"}
}

// The project's own client works against the simulator: create, query,
// pay, partial and full refunds, and no cancel.
func TestWithScanForPayClient(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	c := f.client
	created, err := c.CreateMPM(ctx, req("QK-1", 4200, wechat))
	if err != nil || !strings.HasSuffix(created.QRCode, "/sim/pay/"+created.SysSN) {
		t.Fatalf("create: %+v, %v", created, err)
	}
	txn, err := c.QueryOrder(ctx, payment.OrderRef{OutTradeNo: "QK-1"})
	if err != nil || txn.Outcome() != payment.OutcomePending || txn.SysSN != created.SysSN || txn.TxAmt != 4200 || txn.Currency != "HKD" || txn.PayType != wechat.Code {
		t.Fatalf("query: %+v, %v", txn, err)
	}
	if err := c.CancelOrder(ctx, payment.OrderRef{OutTradeNo: "QK-1"}); !errors.Is(err, payment.ErrCancelUnsupported) {
		t.Fatalf("cancel: %v", err)
	}
	// No expiry at the gateway: a day later it is still payable.
	f.clock.Advance(24 * time.Hour)
	if err := f.sim.Pay(created.SysSN); err != nil {
		t.Fatalf("paying a day-old QR: %v", err)
	}
	if txn, _ = c.QueryOrder(ctx, payment.OrderRef{OutTradeNo: "QK-1", SysSN: created.SysSN}); txn.Outcome() != payment.OutcomePaid || txn.PayDtm == "" {
		t.Fatalf("after paying: %+v", txn)
	}
	orig := payment.OrderRef{OutTradeNo: "QK-1", SysSN: created.SysSN}
	refund := func(no string, minor int64) (*payment.Transaction, error) {
		return c.Refund(ctx, payment.RefundRequest{OutTradeNo: no, Orig: orig, Amount: payment.Amount{Minor: minor, Currency: hkd}})
	}
	if r, err := refund("RF-1", 1500); err != nil || r.Outcome() != payment.OutcomePaid {
		t.Fatalf("partial refund: %+v, %v", r, err)
	}
	// A partial refund cannot be confirmed by query: ScanForPay has none.
	if _, err := c.QueryRefund(ctx, payment.RefundRequest{OutTradeNo: "RF-1", Orig: orig, Amount: payment.Amount{Minor: 1500, Currency: hkd}}); !errors.Is(err, payment.ErrOutcomeUnknown) {
		t.Fatalf("query of a partial refund: %v", err)
	}
	var ge *payment.Error
	if _, err := refund("RF-2", 2701); !errors.As(err, &ge) || ge.Code != "33" {
		t.Fatalf("over-refund: %v", err)
	}
	if _, err := refund("RF-1", 100); !errors.As(err, &ge) || ge.Code != "34" {
		t.Fatalf("a refundNo used twice: %v", err)
	}
	if r, err := refund("RF-3", 2700); err != nil || r.Outcome() != payment.OutcomePaid {
		t.Fatalf("the rest: %+v, %v", r, err)
	}
	if txn, _ = c.QueryOrder(ctx, orig); txn.Outcome() != payment.OutcomePaid || txn.Cancel != scanforpay.StatusRefunded {
		t.Fatalf("fully refunded payment: %+v", txn)
	}
	if r, err := c.QueryRefund(ctx, payment.RefundRequest{OutTradeNo: "RF-1", Orig: orig, Amount: payment.Amount{Minor: 1500, Currency: hkd}}); err != nil || r.Outcome() != payment.OutcomePaid {
		t.Fatalf("query of a refund once the payment is refunded in full: %+v, %v", r, err)
	}
	if _, err := c.QueryOrder(ctx, payment.OrderRef{OutTradeNo: "NOPE"}); !errors.Is(err, payment.ErrNotFound) {
		t.Fatalf("unknown order: %v", err)
	}
	if _, err := c.CreateMPM(ctx, req("QK-1", 100, alipay)); !errors.As(err, &ge) || ge.Code != "20" {
		t.Fatalf("a partnerOrderNo used twice: %v", err)
	}
}

// A refund answered "dealing" is pending; it completes later at the
// gateway, where payQuery shows it once the payment is refunded in full.
func TestRefundDealing(t *testing.T) {
	f := newFixture(t, func(c *Config) { c.RefundDealingRate = 1; c.RefundDelay = time.Minute })
	ctx := context.Background()
	cr, _ := f.client.CreateMPM(ctx, req("QK-D", 800, alipay))
	f.sim.Pay(cr.SysSN)
	orig := payment.OrderRef{OutTradeNo: "QK-D", SysSN: cr.SysSN}
	rr := payment.RefundRequest{OutTradeNo: "RF-D", Orig: orig, Amount: payment.Amount{Minor: 800, Currency: hkd}}
	r, err := f.client.Refund(ctx, rr)
	if err != nil || r.Outcome() != payment.OutcomePending {
		t.Fatalf("dealing refund: %+v, %v", r, err)
	}
	if _, err := f.client.QueryRefund(ctx, rr); !errors.Is(err, payment.ErrOutcomeUnknown) {
		t.Fatalf("while dealing: %v", err)
	}
	var ge *payment.Error
	if _, err := f.client.Refund(ctx, payment.RefundRequest{OutTradeNo: "RF-D2", Orig: orig, Amount: payment.Amount{Minor: 1, Currency: hkd}}); !errors.As(err, &ge) || ge.Code != "32" {
		t.Fatalf("a second refund while the whole amount is dealing: %v", err)
	}
	f.clock.Advance(time.Minute)
	if r, err := f.client.QueryRefund(ctx, rr); err != nil || r.Outcome() != payment.OutcomePaid {
		t.Fatalf("once done: %+v, %v", r, err)
	}
	if rs := f.sim.Refunds(); len(rs) != 1 || rs[0].Status != scanforpay.RefundDone {
		t.Fatalf("refunds %+v", rs)
	}
}

// post sends raw bytes to an API path and opens the answer with key.
func post(t *testing.T, f *fixture, path string, raw []byte) (scanforpay.ResultBody, error) {
	t.Helper()
	resp, err := http.Post(f.srv.URL+path, "application/json", bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	obj, err := scanforpay.OpenResponse(b, testKey)
	if err != nil {
		return scanforpay.ResultBody{}, err
	}
	var r scanforpay.Response
	var rb scanforpay.ResultBody
	json.Unmarshal(obj, &r)
	json.Unmarshal(r.Body, &rb)
	return rb, nil
}

// The simulator checks a request's signature over the raw text of
// `request` as sent, whatever its whitespace; it takes the request time
// under either of its documented names.
func TestRequestSignatureOverRawText(t *testing.T) {
	f := newFixture(t)
	for name, header := range map[string]string{
		"requestTime (the samples)":                  `"version":"1.0","partnerNo":"10001","reqMsgId":"a1","requestTime":"2025-03-14T10:00:00+08:00","signType":"SHA256"`,
		"reqTime (the field table, the shop plugin)": `"version":"1.0","partnerNo":"10001","reqMsgId":"","reqTime":"2025-03-14T10:00:00+08:00"`,
	} {
		obj := "{\n    \"header\": {" + header + "},\n    \"body\": {\"storeNo\": \"" + testStore + "\", \"partnerOrderNo\": \"QK-NONE\"}\n  }"
		env := "{\n  \"request\" : " + obj + ",\n  \"signature\": \"" + scanforpay.Sign([]byte(obj), testKey) + "\"\n}"
		rb, err := post(t, f, scanforpay.PathQuery, []byte(env))
		if err != nil || rb.Code.Value != scanforpay.CodeOrderNotFound {
			t.Errorf("%s: %+v, %v; want a signed 'order does not exist'", name, rb, err)
		}
		// The same text re-serialised compactly is another text: its
		// signature no longer matches.
		var compact bytes.Buffer
		json.Compact(&compact, []byte(obj))
		env = `{"request":` + compact.String() + `,"signature":"` + scanforpay.Sign([]byte(obj), testKey) + `"}`
		if rb, _ := post(t, f, scanforpay.PathQuery, []byte(env)); rb.Code.Value != CodeBadSignature {
			t.Errorf("%s re-serialised: code %d, want %d (bad signature)", name, rb.Code.Value, CodeBadSignature)
		}
	}
}

func TestRequestsRefused(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	// Another key: refused, nothing made.
	forged, _ := scanforpay.NewClient(testPartner, "NOT-THE-KEY", scanforpay.WithBaseURL(f.srv.URL), scanforpay.WithStoreNo(testStore), scanforpay.WithRetry(1, time.Millisecond))
	_, err := forged.CreateMPM(ctx, req("QK-BAD", 100, alipay))
	if err == nil || len(f.sim.Orders()) != 0 {
		t.Fatalf("a request signed with another key: %v, %d orders", err, len(f.sim.Orders()))
	}
	// Another store: refused, with the rule.
	wrongStore, _ := scanforpay.NewClient(testPartner, testKey, scanforpay.WithBaseURL(f.srv.URL), scanforpay.WithStoreNo("999"))
	var ge *payment.Error
	if _, err := wrongStore.CreateMPM(ctx, req("QK-BAD", 100, alipay)); !errors.As(err, &ge) || ge.Code != "12" || !strings.Contains(ge.Message, "storeNo") {
		t.Fatalf("another store: %v", err)
	}
	// Another partner: the gateway has no key to sign its answer with, so
	// the client believes nothing.
	stranger, _ := scanforpay.NewClient("99999", testKey, scanforpay.WithBaseURL(f.srv.URL), scanforpay.WithStoreNo(testStore), scanforpay.WithRetry(1, time.Millisecond))
	if _, err := stranger.QueryOrder(ctx, payment.OrderRef{OutTradeNo: "QK-X"}); !errors.Is(err, scanforpay.ErrBadSignature) {
		t.Fatalf("unknown partner: %v", err)
	}
	if len(f.sim.Orders()) != 0 {
		t.Fatal("a refused request made an order")
	}
}

// With AnswerKey set the simulator signs its answers with another key:
// the client takes nothing from it, never a payment.
func TestForgedAnswersNeverBelieved(t *testing.T) {
	f := newFixture(t, func(c *Config) { c.AnswerKey = "FORGER" })
	ctx := context.Background()
	if _, err := f.client.CreateMPM(ctx, req("QK-F", 100, alipay)); !errors.Is(err, payment.ErrOutcomeUnknown) {
		t.Fatalf("create: %v", err)
	}
	orders := f.sim.Orders()
	if len(orders) != 1 {
		t.Fatalf("%d orders; the request was genuine, so the gateway made exactly one", len(orders))
	}
	f.sim.Pay(orders[0].OrderNo)
	if txn, err := f.client.QueryOrder(ctx, payment.OrderRef{OutTradeNo: "QK-F"}); txn != nil || !errors.Is(err, scanforpay.ErrBadSignature) {
		t.Fatalf("query of a paid order through forged answers: %+v, %v", txn, err)
	}
}

// A create whose reply is dropped after the order was made is settled by
// payQuery: adopted, one order at the gateway, and no QR (payQuery has
// none), so the kiosk cannot show a QR it does not have.
func TestCommitDrop(t *testing.T) {
	f := newFixture(t, func(c *Config) { c.CommitDropRate = 1 })
	created, err := f.client.CreateMPM(context.Background(), req("QK-DROP", 300, wechat))
	if err != nil || !created.Adopted || created.QRCode != "" || created.Existing.Outcome() != payment.OutcomePending {
		t.Fatalf("created %+v, %v", created, err)
	}
	if n := len(f.sim.Orders()); n != 1 {
		t.Fatalf("%d orders", n)
	}
}

func TestFaultFlags(t *testing.T) {
	f := newFixture(t, func(c *Config) { c.Fail5xxRate = 1 })
	c := f.newClient(t, scanforpay.WithRetry(2, time.Millisecond))
	if _, err := c.QueryOrder(context.Background(), payment.OrderRef{OutTradeNo: "QK"}); err == nil || !strings.Contains(err.Error(), "502") {
		t.Fatalf("5xx: %v", err)
	}
	f = newFixture(t, func(c *Config) { c.Latency = 50 * time.Millisecond })
	c = f.newClient(t, scanforpay.WithTimeout(10*time.Millisecond), scanforpay.WithRetry(1, time.Millisecond))
	if _, err := c.QueryOrder(context.Background(), payment.OrderRef{OutTradeNo: "QK"}); err == nil {
		t.Fatal("an answer slower than the client's timeout arrived")
	}
}

// notifySink records notifications and answers them.
type notifySink struct {
	srv   *httptest.Server
	mu    sync.Mutex
	got   [][]byte
	reply func(n int) (int, string)
}

func newSink(t *testing.T, reply func(n int) (int, string)) *notifySink {
	s := &notifySink{reply: reply}
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		s.mu.Lock()
		s.got = append(s.got, b)
		n := len(s.got)
		s.mu.Unlock()
		code, body := s.reply(n)
		w.WriteHeader(code)
		io.WriteString(w, body)
	}))
	t.Cleanup(s.srv.Close)
	return s
}

func (s *notifySink) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.got)
}

// Notifications go to the order's notifyUrl, signed over the raw text of
// `response`, and are retried until answered `success`.
func TestNotifications(t *testing.T) {
	sink := newSink(t, func(n int) (int, string) {
		if n == 1 {
			return http.StatusInternalServerError, "busy"
		}
		if n == 2 {
			return http.StatusOK, "SUCCESS!" // not the word ScanForPay wants
		}
		return http.StatusOK, "success"
	})
	f := newFixture(t)
	c := f.newClient(t, scanforpay.WithNotifyURL(sink.srv.URL+"/notify/scanforpay"))
	cr, err := c.CreateMPM(context.Background(), req("QK-N", 1234, wechat))
	if err != nil {
		t.Fatal(err)
	}
	f.sim.Pay(cr.SysSN)
	paymenttest.Eventually(t, "the notification answered success", 5*time.Second, func() bool { return f.sim.Orders()[0].Notified == 1 })
	if n := sink.count(); n != 3 {
		t.Fatalf("%d deliveries; want 3 (retried until success)", n)
	}
	sink.mu.Lock()
	body := sink.got[2]
	sink.mu.Unlock()
	txn, err := c.VerifyNotification(body, "")
	if err != nil || txn.OutTradeNo != "QK-N" || txn.SysSN != cr.SysSN || txn.Outcome() != payment.OutcomePaid || txn.TxAmt != 1234 {
		t.Fatalf("notification %s: %+v, %v", body, txn, err)
	}
	// An order without notifyUrl is not notified, as at ScanForPay.
	quiet, _ := f.client.CreateMPM(context.Background(), req("QK-Q", 100, alipay))
	f.sim.Pay(quiet.SysSN)
	if f.sim.Orders()[1].Notified != 0 || sink.count() != 3 {
		t.Fatal("an order without notifyUrl was notified")
	}
}

func TestNotificationFaults(t *testing.T) {
	ok := func(int) (int, string) { return http.StatusOK, "success" }
	sink := newSink(t, ok)
	f := newFixture(t, func(c *Config) { c.NotifyDupRate = 1 })
	c := f.newClient(t, scanforpay.WithNotifyURL(sink.srv.URL))
	cr, _ := c.CreateMPM(context.Background(), req("QK-DUP", 100, alipay))
	f.sim.Pay(cr.SysSN)
	paymenttest.Eventually(t, "two copies", 5*time.Second, func() bool { return sink.count() == 2 })

	drop := newSink(t, ok)
	f = newFixture(t, func(c *Config) { c.NotifyDropRate = 1 })
	c = f.newClient(t, scanforpay.WithNotifyURL(drop.srv.URL))
	cr, _ = c.CreateMPM(context.Background(), req("QK-DROP", 100, alipay))
	f.sim.Pay(cr.SysSN)
	f.sim.Close() // waits for any delivery in flight: none was scheduled
	if drop.count() != 0 {
		t.Fatal("a dropped notification was sent")
	}
}

func TestBarcodePayment(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	txn, err := f.client.PayBarcode(ctx, scanforpay.BarcodeRequest{OutTradeNo: "QK-B", Amount: payment.Amount{Minor: 880, Currency: hkd}, Barcode: "281234567890123456"})
	if err != nil || txn.Outcome() != payment.OutcomePending || txn.SysSN == "" {
		t.Fatalf("barcode: %+v, %v", txn, err)
	}
	if err := f.sim.Pay(txn.SysSN); err != nil {
		t.Fatal(err)
	}
	if q, _ := f.client.QueryOrder(ctx, payment.OrderRef{OutTradeNo: "QK-B"}); q.Outcome() != payment.OutcomePaid {
		t.Fatalf("after the customer confirmed: %+v", q)
	}
	// The gateway tells the wallet from the code: a WeChat Pay code
	// (10-15…) is paid as WeChat Pay, not Alipay.
	wc, err := f.client.PayBarcode(ctx, scanforpay.BarcodeRequest{OutTradeNo: "QK-W", Amount: payment.Amount{Minor: 880, Currency: hkd}, Barcode: "134857123456789012"})
	if err != nil {
		t.Fatal(err)
	}
	f.sim.Pay(wc.SysSN)
	ali, _ := f.client.QueryOrder(ctx, payment.OrderRef{OutTradeNo: "QK-B"})
	wq, _ := f.client.QueryOrder(ctx, payment.OrderRef{OutTradeNo: "QK-W"})
	if wq.PayType == "" || wq.PayType == ali.PayType {
		t.Fatalf("a WeChat Pay code paid as pay type %q, an Alipay one as %q: want WeChat Pay's", wq.PayType, ali.PayType)
	}
	var ge *payment.Error
	if _, err := f.client.PayBarcode(ctx, scanforpay.BarcodeRequest{OutTradeNo: "QK-B2", Amount: payment.Amount{Minor: 1, Currency: hkd}, Barcode: "123"}); !errors.As(err, &ge) || ge.Code != "40" {
		t.Fatalf("a code that is no payment code: %v", err)
	}
}

func TestCustomerPage(t *testing.T) {
	f := newFixture(t)
	cr, _ := f.client.CreateMPM(context.Background(), req("QK-P", 123450, wechat))
	resp, err := http.Get(cr.QRCode)
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{"ScanForPay simulator", "HK$1,234.50", "WeChat Pay", "微信支付", "Waiting for payment", `action="../pay/` + cr.SysSN, `action="../decline/` + cr.SysSN, "QK-P"} {
		if !strings.Contains(string(page), want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if strings.Contains(string(page), "expire") {
		t.Error("the page offers to let the QR expire: ScanForPay has no expiry")
	}
	r, _ := http.NewRequest(http.MethodPost, f.srv.URL+"/sim/decline/"+cr.SysSN, nil)
	r.Header.Set("Accept", "application/json")
	resp, err = http.DefaultClient.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	var res customerResult
	json.NewDecoder(resp.Body).Decode(&res)
	resp.Body.Close()
	if resp.StatusCode != 200 || res.Status != scanforpay.StatusFailed {
		t.Fatalf("decline: %d %+v", resp.StatusCode, res)
	}
	resp, _ = http.Post(f.srv.URL+"/sim/pay/"+cr.SysSN, "", nil)
	resp.Body.Close()
	if resp.StatusCode != http.StatusConflict {
		t.Fatalf("paying a declined order: %d", resp.StatusCode)
	}
}
