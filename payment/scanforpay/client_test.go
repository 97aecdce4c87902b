package scanforpay

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"qrkiosk/payment"
)

// fakeGateway is an httptest server that checks every request's envelope
// and signature the way ScanForPay does and answers with handlers per
// path. Answers are signed with answerKey (the merchant's key unless a
// test forges them).
type fakeGateway struct {
	t         *testing.T
	srv       *httptest.Server
	answerKey string
	// editSigned, if set, rewrites an answer's response text before it is
	// signed: the answer verifies, whatever the edit put in it.
	editSigned func(obj []byte) []byte

	mu       sync.Mutex
	handlers map[string]func(h Header, body json.RawMessage) (any, bool) // bool false: drop the connection
	calls    []call
}

type call struct {
	path   string
	header Header
	body   map[string]any
}

func newFake(t *testing.T) *fakeGateway {
	g := &fakeGateway{t: t, answerKey: testKey, handlers: map[string]func(Header, json.RawMessage) (any, bool){}}
	g.srv = httptest.NewServer(http.HandlerFunc(g.serve))
	t.Cleanup(g.srv.Close)
	return g
}

func (g *fakeGateway) on(path string, fn func(h Header, body json.RawMessage) (any, bool)) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.handlers[path] = fn
}

func (g *fakeGateway) serve(w http.ResponseWriter, r *http.Request) {
	t := g.t
	raw, _ := io.ReadAll(r.Body)
	if r.Method != http.MethodPost || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		t.Errorf("%s %s with Content-Type %q; want a JSON POST", r.Method, r.URL.Path, r.Header.Get("Content-Type"))
	}
	// The signature is checked independently of Sign: SHA-256 of the raw
	// text of `request` followed by the key, lowercase hex.
	var env struct {
		Request   json.RawMessage `json:"request"`
		Signature string          `json:"signature"`
	}
	if err := json.Unmarshal(raw, &env); err != nil {
		t.Errorf("not an envelope: %s", raw)
		return
	}
	sum := sha256.Sum256(append(append([]byte{}, env.Request...), testKey...))
	if env.Signature != hex.EncodeToString(sum[:]) {
		t.Errorf("signature %q does not cover the request text sent", env.Signature)
	}
	var req struct {
		Header Header          `json:"header"`
		Body   json.RawMessage `json:"body"`
	}
	json.Unmarshal(env.Request, &req)
	var body map[string]any
	json.Unmarshal(req.Body, &body)
	g.mu.Lock()
	g.calls = append(g.calls, call{r.URL.Path, req.Header, body})
	fn := g.handlers[r.URL.Path]
	g.mu.Unlock()
	if fn == nil {
		http.NotFound(w, r)
		return
	}
	answer, ok := fn(req.Header, req.Body)
	if !ok {
		conn, _, _ := http.NewResponseController(w).Hijack()
		conn.Close()
		return
	}
	obj, _ := Marshal(Response{Header: Header{Version: Version, PartnerNo: req.Header.PartnerNo, ReqMsgID: req.Header.ReqMsgID, RespTime: time.Now().Format(time.RFC3339), SignType: SignType}, Body: mustJSON(answer)})
	if g.editSigned != nil {
		obj = g.editSigned(obj)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Write(SealResponse(obj, g.answerKey))
}

func mustJSON(v any) json.RawMessage {
	b, _ := Marshal(v)
	return b
}

func (g *fakeGateway) count(path string) int {
	g.mu.Lock()
	defer g.mu.Unlock()
	n := 0
	for _, c := range g.calls {
		if c.path == path {
			n++
		}
	}
	return n
}

func (g *fakeGateway) callsTo(path string) []call {
	g.mu.Lock()
	defer g.mu.Unlock()
	var out []call
	for _, c := range g.calls {
		if c.path == path {
			out = append(out, c)
		}
	}
	return out
}

func (g *fakeGateway) client(t *testing.T, opts ...Option) *Client {
	t.Helper()
	c, err := NewClient("10001", testKey, append([]Option{WithBaseURL(g.srv.URL), WithStoreNo("100010000000002"), WithRetry(3, time.Millisecond)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

var (
	hkd, _    = payment.LookupCurrency("HKD")
	jpy, _    = payment.LookupCurrency("JPY")
	alipay, _ = PayTypes().Lookup("alipay")
	wechat, _ = PayTypes().Lookup("wechat")
)

func createReq(otn string, minor int64, pt payment.PayType) payment.CreateRequest {
	return payment.CreateRequest{OutTradeNo: otn, Amount: payment.Amount{Minor: minor, Currency: hkd}, PayType: pt, Expiry: 5 * time.Minute, GoodsName: "Tea & <cake>", TxTime: time.Now()}
}

func created(otn string) map[string]any {
	return map[string]any{"code": 1, "msg": "success", "orderNo": "SFP" + otn, "partnerOrderNo": otn, "qrcode": "https://qr.example/" + otn}
}

func queried(otn string, amount int64, status int) map[string]any {
	return map[string]any{"code": 1, "msg": "success", "orderNo": "SFP" + otn, "partnerOrderNo": otn, "orderAmount": amount, "wallet": "Wechat", "currency": "HKD", "status": status}
}

func TestCreateSendsOneSignedEnvelope(t *testing.T) {
	g := newFake(t)
	g.on(PathCreate, func(_ Header, b json.RawMessage) (any, bool) {
		var cb CreateBody
		json.Unmarshal(b, &cb)
		return created(cb.PartnerOrderNo), true
	})
	at := time.Date(2025, 3, 14, 2, 0, 0, 0, time.UTC)
	c := g.client(t, WithTerminalNo("KIOSK-1"), WithNotifyURL("https://relay.example/notify/scanforpay"), WithClock(func() time.Time { return at }))
	cr, err := c.CreateMPM(context.Background(), createReq("QK-C1", 1234, wechat))
	if err != nil || cr.SysSN != "SFPQK-C1" || cr.QRCode != "https://qr.example/QK-C1" || cr.Adopted {
		t.Fatalf("create: %+v, %v", cr, err)
	}
	got := g.callsTo(PathCreate)
	if len(got) != 1 {
		t.Fatalf("%d creates", len(got))
	}
	h, b := got[0].header, got[0].body
	if h.Version != "1.0" || h.PartnerNo != "10001" || h.SignType != "SHA256" || len(h.ReqMsgID) != 32 {
		t.Errorf("header %+v", h)
	}
	// The merchant's offset, RFC 3339, under both names the documentation uses.
	if h.RequestTime != "2025-03-14T10:00:00+08:00" || h.ReqTime != h.RequestTime {
		t.Errorf("request time %q / %q, want 2025-03-14T10:00:00+08:00 in both", h.RequestTime, h.ReqTime)
	}
	want := map[string]any{"storeNo": "100010000000002", "partnerOrderNo": "QK-C1", "wallet": "Wechat", "orderAmount": 1234.0,
		"orderTitle": "Tea & <cake>", "terminalNo": "KIOSK-1", "notifyUrl": "https://relay.example/notify/scanforpay"}
	for k, v := range want {
		if b[k] != v {
			t.Errorf("body %s = %#v, want %#v", k, b[k], v)
		}
	}
	if len(b) != len(want) {
		t.Errorf("body %v has fields beyond %v (no expiry, no currency: ScanForPay has neither)", b, want)
	}
}

// JPY has no minor unit below the yen: 1500 yen is orderAmount 1500.
func TestAmountsAreMinorUnits(t *testing.T) {
	g := newFake(t)
	g.on(PathCreate, func(_ Header, b json.RawMessage) (any, bool) {
		var cb CreateBody
		json.Unmarshal(b, &cb)
		return created(cb.PartnerOrderNo), true
	})
	req := createReq("QK-JPY", 1500, alipay)
	req.Amount = payment.Amount{Minor: 1500, Currency: jpy}
	if _, err := g.client(t).CreateMPM(context.Background(), req); err != nil {
		t.Fatal(err)
	}
	if c := g.callsTo(PathCreate)[0]; c.body["orderAmount"] != 1500.0 || c.body["wallet"] != "Alipay" {
		t.Fatalf("body %v", c.body)
	}
}

func TestEveryRequestHasItsOwnMsgID(t *testing.T) {
	g := newFake(t)
	g.on(PathQuery, func(Header, json.RawMessage) (any, bool) { return queried("QK-M", 100, StatusUnpaid), true })
	c := g.client(t)
	for range 3 {
		if _, err := c.QueryOrder(context.Background(), payment.OrderRef{OutTradeNo: "QK-M"}); err != nil {
			t.Fatal(err)
		}
	}
	seen := map[string]bool{}
	for _, c := range g.callsTo(PathQuery) {
		seen[c.header.ReqMsgID] = true
	}
	if len(seen) != 3 {
		t.Fatalf("reqMsgIds %v; want three different", seen)
	}
}

func TestQueryStatuses(t *testing.T) {
	cases := []struct {
		answer  map[string]any
		outcome payment.Outcome
		err     error
	}{
		{queried("QK-Q", 1234, StatusUnpaid), payment.OutcomePending, nil},
		{queried("QK-Q", 1234, StatusPaid), payment.OutcomePaid, nil},
		{queried("QK-Q", 1234, StatusFailed), payment.OutcomeFailed, nil},
		{queried("QK-Q", 1234, StatusRefunded), payment.OutcomePaid, nil}, // refunded after paying: the sale happened
		{map[string]any{"code": 30, "msg": "订单不存在"}, 0, payment.ErrNotFound},
		{map[string]any{"code": "1", "msg": "success", "orderNo": "SFPQK-Q", "partnerOrderNo": "QK-Q", "orderAmount": "1234", "status": "1"}, payment.OutcomePaid, nil},
	}
	for _, tc := range cases {
		g := newFake(t)
		g.on(PathQuery, func(Header, json.RawMessage) (any, bool) { return tc.answer, true })
		txn, err := g.client(t).QueryOrder(context.Background(), payment.OrderRef{OutTradeNo: "QK-Q", SysSN: "SFPQK-Q"})
		if tc.err != nil {
			if !errors.Is(err, tc.err) {
				t.Errorf("%v: %v, want %v", tc.answer, err, tc.err)
			}
			continue
		}
		if err != nil || txn.Outcome() != tc.outcome || txn.TxAmt != 1234 || txn.SysSN != "SFPQK-Q" {
			t.Errorf("%v: %+v, %v; want %s", tc.answer, txn, err, tc.outcome)
		}
	}
	// Any other code is the gateway's error, with its code and message.
	g := newFake(t)
	g.on(PathQuery, func(Header, json.RawMessage) (any, bool) {
		return map[string]any{"code": 12, "msg": "store disabled"}, true
	})
	_, err := g.client(t).QueryOrder(context.Background(), payment.OrderRef{OutTradeNo: "QK-Q"})
	var ge *payment.Error
	if !errors.As(err, &ge) || ge.Code != "12" || ge.Message != "store disabled" {
		t.Fatalf("error %v", err)
	}
	if q := g.callsTo(PathQuery)[0]; q.body["storeNo"] != "100010000000002" || q.body["partnerOrderNo"] != "QK-Q" {
		t.Fatalf("query body %v", q.body)
	}
}

// An answer signed with another key is not believed: a query that says
// "paid" that way is an error, never a payment, and a forged create answer
// leaves the outcome unknown without a second order.
func TestForgedAnswersChangeNothing(t *testing.T) {
	g := newFake(t)
	g.answerKey = "SOMEONE-ELSES-KEY"
	g.on(PathQuery, func(Header, json.RawMessage) (any, bool) { return queried("QK-F", 1234, StatusPaid), true })
	g.on(PathCreate, func(_ Header, b json.RawMessage) (any, bool) { return created("QK-F"), true })
	g.on(PathRefund, func(Header, json.RawMessage) (any, bool) {
		return map[string]any{"code": 1, "msg": "success", "orderAmount": 1234, "status": RefundDone}, true
	})
	c := g.client(t)
	ctx := context.Background()
	txn, err := c.QueryOrder(ctx, payment.OrderRef{OutTradeNo: "QK-F"})
	if txn != nil || !errors.Is(err, ErrBadSignature) {
		t.Fatalf("forged query answer: %+v, %v; want ErrBadSignature and nothing", txn, err)
	}
	cr, err := c.CreateMPM(ctx, createReq("QK-F", 1234, wechat))
	if cr != nil || !errors.Is(err, payment.ErrOutcomeUnknown) {
		t.Fatalf("forged create answer: %+v, %v; want ErrOutcomeUnknown", cr, err)
	}
	if n := g.count(PathCreate); n != 1 {
		t.Fatalf("%d creates after a forged answer; want 1 (unknown outcomes are settled by query)", n)
	}
	rf, err := c.Refund(ctx, payment.RefundRequest{OutTradeNo: "RF-F", Orig: payment.OrderRef{OutTradeNo: "QK-F"}, Amount: payment.Amount{Minor: 1234, Currency: hkd}})
	if rf != nil || !errors.Is(err, payment.ErrOutcomeUnknown) || g.count(PathRefund) != 1 {
		t.Fatalf("forged refund answer: %+v, %v, %d refunds; want unknown, sent once", rf, err, g.count(PathRefund))
	}
}

// The create's reply is lost after the gateway made the order: the client
// asks by partnerOrderNo and adopts it, never creating a second.
func TestUnknownCreateAdoptedByQuery(t *testing.T) {
	g := newFake(t)
	g.on(PathCreate, func(Header, json.RawMessage) (any, bool) { return nil, false })
	g.on(PathQuery, func(Header, json.RawMessage) (any, bool) { return queried("QK-U", 1234, StatusUnpaid), true })
	cr, err := g.client(t).CreateMPM(context.Background(), createReq("QK-U", 1234, wechat))
	if err != nil || !cr.Adopted || cr.SysSN != "SFPQK-U" || cr.Existing == nil || cr.Existing.Outcome() != payment.OutcomePending {
		t.Fatalf("create: %+v, %v; want the order adopted", cr, err)
	}
	if cr.QRCode != "" {
		t.Fatalf("qrcode %q: payQuery has none, nothing may be made up", cr.QRCode)
	}
	if g.count(PathCreate) != 1 {
		t.Fatalf("%d creates, want 1", g.count(PathCreate))
	}
}

// The create never reached the gateway's books: the query says so, and
// only then is the same order (same partnerOrderNo) sent again.
func TestUnknownCreateNotThereIsSentAgain(t *testing.T) {
	g := newFake(t)
	var mu sync.Mutex
	drops := 1
	g.on(PathCreate, func(_ Header, b json.RawMessage) (any, bool) {
		mu.Lock()
		defer mu.Unlock()
		if drops > 0 {
			drops--
			return nil, false
		}
		var cb CreateBody
		json.Unmarshal(b, &cb)
		return created(cb.PartnerOrderNo), true
	})
	g.on(PathQuery, func(Header, json.RawMessage) (any, bool) {
		return map[string]any{"code": 30, "msg": "订单不存在"}, true
	})
	cr, err := g.client(t).CreateMPM(context.Background(), createReq("QK-N", 1234, wechat))
	if err != nil || cr.Adopted || cr.QRCode == "" {
		t.Fatalf("create: %+v, %v", cr, err)
	}
	cs := g.callsTo(PathCreate)
	if len(cs) != 2 || cs[0].body["partnerOrderNo"] != cs[1].body["partnerOrderNo"] || cs[0].header.ReqMsgID == cs[1].header.ReqMsgID {
		t.Fatalf("creates %+v; want the same order twice, each request with its own reqMsgId", cs)
	}
}

// A refusal of the first send is the gateway's verdict; a refusal of a
// re-send may be the duplicate of a lost first one, so it is not.
func TestCreateRefusals(t *testing.T) {
	g := newFake(t)
	g.on(PathCreate, func(Header, json.RawMessage) (any, bool) {
		return map[string]any{"code": 21, "msg": "wallet not enabled"}, true
	})
	_, err := g.client(t).CreateMPM(context.Background(), createReq("QK-R", 1234, alipay))
	var ge *payment.Error
	if !errors.As(err, &ge) || ge.Code != "21" || ge.Op != "create" || !strings.Contains(err.Error(), "wallet not enabled") {
		t.Fatalf("refusal: %v", err)
	}

	g = newFake(t)
	first := true
	g.on(PathCreate, func(Header, json.RawMessage) (any, bool) {
		if first {
			first = false
			return nil, false
		}
		return map[string]any{"code": 20, "msg": "partnerOrderNo exists"}, true
	})
	g.on(PathQuery, func(Header, json.RawMessage) (any, bool) {
		return map[string]any{"code": 30, "msg": "订单不存在"}, true
	})
	_, err = g.client(t).CreateMPM(context.Background(), createReq("QK-R2", 1234, alipay))
	if !errors.Is(err, payment.ErrOutcomeUnknown) || errors.As(err, &ge) {
		t.Fatalf("refused re-send: %v; want ErrOutcomeUnknown, not a verdict", err)
	}
}

func TestValidateCreate(t *testing.T) {
	payme, _ := payment.LookupPayType("payme")
	cpm, _ := payment.LookupPayType("alipay-cpm")
	long := strings.Repeat("x", 33)
	for name, c := range map[string]struct {
		req   payment.CreateRequest
		field string
	}{
		"a wallet ScanForPay does not take": {createReq("QK-V", 100, payme), "pay_type"},
		"a customer-presented pay type":     {createReq("QK-V", 100, cpm), "pay_type"},
		"partnerOrderNo over 32":            {createReq(long, 100, wechat), "partnerOrderNo"},
		"partnerOrderNo with a space":       {createReq("QK V", 100, wechat), "partnerOrderNo"},
		"over a 32-bit orderAmount":         {createReq("QK-V", MaxOrderAmount+1, wechat), "amount"},
		"title over 100": {func() payment.CreateRequest {
			r := createReq("QK-V", 100, wechat)
			r.GoodsName = strings.Repeat("茶", 101)
			return r
		}(), "goods_name"},
	} {
		var fe *payment.FieldError
		if err := ValidateCreate(c.req); !errors.As(err, &fe) || fe.Field != c.field {
			t.Errorf("%s: %v, want a field error on %s", name, err, c.field)
		}
	}
	ok := createReq("QK20250314020000a1b2c3d4e5f60718", MaxOrderAmount, wechat)
	ok.GoodsName = strings.Repeat("茶", 100)
	if err := ValidateCreate(ok); err != nil {
		t.Fatalf("a valid order: %v", err)
	}
}

func TestCancelIsUnsupported(t *testing.T) {
	g := newFake(t)
	if err := g.client(t).CancelOrder(context.Background(), payment.OrderRef{OutTradeNo: "QK-X"}); !errors.Is(err, payment.ErrCancelUnsupported) {
		t.Fatalf("cancel: %v", err)
	}
	for _, p := range PayTypes() {
		if p.Cancel != payment.CancelNone || p.HonoursExpiry || !p.Refundable {
			t.Errorf("%s: %+v; ScanForPay has no cancel and no expiry, and refunds", p.Wallet, p)
		}
	}
	if got := strings.Join(PayTypes().MPMWallets(), ","); got != "alipay,wechat" {
		t.Fatalf("wallets %s", got)
	}
}

func refundReq(amount int64) payment.RefundRequest {
	return payment.RefundRequest{OutTradeNo: "RF-1", Orig: payment.OrderRef{OutTradeNo: "QK-P", SysSN: "SFPQK-P"}, Amount: payment.Amount{Minor: amount, Currency: hkd}}
}

func TestRefund(t *testing.T) {
	for _, c := range []struct {
		status  any
		outcome payment.Outcome
	}{
		{RefundDone, payment.OutcomePaid},
		{RefundDealing, payment.OutcomePending},
		{RefundFailed, payment.OutcomeFailed},
		{nil, payment.OutcomePending}, // accepted, status unstated: not done until shown
	} {
		g := newFake(t)
		g.on(PathRefund, func(Header, json.RawMessage) (any, bool) {
			return map[string]any{"code": 1, "msg": "success", "orderAmount": 500, "currency": "HKD", "status": c.status}, true
		})
		txn, err := g.client(t).Refund(context.Background(), refundReq(500))
		if err != nil || txn.Outcome() != c.outcome || txn.Kind != payment.TxnRefund || txn.OutTradeNo != "RF-1" || txn.TxAmt != 500 {
			t.Errorf("status %v: %+v, %v; want %s", c.status, txn, err, c.outcome)
		}
		b := g.callsTo(PathRefund)[0].body
		if b["partnerOrderNo"] != "QK-P" || b["refundNo"] != "RF-1" || b["orderAmount"] != 500.0 || b["storeNo"] != nil {
			t.Errorf("refund body %v", b)
		}
	}
	// A lost answer: unknown, and never sent again.
	g := newFake(t)
	g.on(PathRefund, func(Header, json.RawMessage) (any, bool) { return nil, false })
	if _, err := g.client(t).Refund(context.Background(), refundReq(500)); !errors.Is(err, payment.ErrOutcomeUnknown) || g.count(PathRefund) != 1 {
		t.Fatalf("lost refund answer: %v after %d sends", err, g.count(PathRefund))
	}
	// Refused: the gateway's error.
	g = newFake(t)
	g.on(PathRefund, func(Header, json.RawMessage) (any, bool) {
		return map[string]any{"code": 41, "msg": "amount exceeds"}, true
	})
	var ge *payment.Error
	if _, err := g.client(t).Refund(context.Background(), refundReq(500)); !errors.As(err, &ge) || ge.Code != "41" {
		t.Fatalf("refused refund: %v", err)
	}
}

func TestQueryRefundFromPayQuery(t *testing.T) {
	for _, c := range []struct {
		status int
		want   payment.Outcome
		err    error
	}{
		{StatusRefunded, payment.OutcomePaid, nil},
		{StatusPaid, 0, payment.ErrOutcomeUnknown},
		{StatusUnpaid, 0, payment.ErrNotFound},
	} {
		g := newFake(t)
		g.on(PathQuery, func(Header, json.RawMessage) (any, bool) { return queried("QK-P", 1000, c.status), true })
		txn, err := g.client(t).QueryRefund(context.Background(), refundReq(1000))
		if c.err != nil {
			if !errors.Is(err, c.err) {
				t.Errorf("payment status %d: %v, want %v", c.status, err, c.err)
			}
			continue
		}
		if err != nil || txn.Outcome() != c.want || txn.Kind != payment.TxnRefund || txn.OutTradeNo != "RF-1" {
			t.Errorf("payment status %d: %+v, %v", c.status, txn, err)
		}
	}
}

func TestPayBarcode(t *testing.T) {
	g := newFake(t)
	g.on(PathPay, func(Header, json.RawMessage) (any, bool) {
		return map[string]any{"code": 1, "msg": "success", "orderNo": "SFPQK-B", "partnerOrderNo": "QK-B"}, true
	})
	req := BarcodeRequest{OutTradeNo: "QK-B", Amount: payment.Amount{Minor: 880, Currency: hkd}, Barcode: "281234567890123456"}
	txn, err := g.client(t).PayBarcode(context.Background(), req)
	if err != nil || txn.Outcome() != payment.OutcomePending || txn.SysSN != "SFPQK-B" {
		t.Fatalf("barcode: %+v, %v; want pending until a notification or query says", txn, err)
	}
	if b := g.callsTo(PathPay)[0].body; b["barcode"] != "281234567890123456" || b["orderAmount"] != 880.0 || b["storeNo"] != "100010000000002" {
		t.Fatalf("pay body %v", b)
	}
	// Lost answer: asked by partnerOrderNo, never charged again.
	g = newFake(t)
	g.on(PathPay, func(Header, json.RawMessage) (any, bool) { return nil, false })
	g.on(PathQuery, func(Header, json.RawMessage) (any, bool) { return queried("QK-B", 880, StatusPaid), true })
	txn, err = g.client(t).PayBarcode(context.Background(), req)
	if err != nil || txn.Outcome() != payment.OutcomePaid || g.count(PathPay) != 1 {
		t.Fatalf("lost barcode answer: %+v, %v, %d sends", txn, err, g.count(PathPay))
	}
	var fe *payment.FieldError
	if _, err := g.client(t).PayBarcode(context.Background(), BarcodeRequest{OutTradeNo: "QK-B", Amount: req.Amount, Barcode: "28-12"}); !errors.As(err, &fe) || fe.Field != "barcode" {
		t.Fatalf("bad barcode: %v", err)
	}
}

func notification(t *testing.T, key string, body map[string]any) []byte {
	t.Helper()
	obj, err := Marshal(Response{Header: Header{Version: Version, PartnerNo: "10001", RespTime: "2025-03-14T10:00:05+08:00", SignType: SignType}, Body: mustJSON(body)})
	if err != nil {
		t.Fatal(err)
	}
	return SealResponse(obj, key)
}

func TestVerifyNotification(t *testing.T) {
	c := newFake(t).client(t)
	paid := queried("QK-N", 1234, StatusPaid)
	txn, err := c.VerifyNotification(notification(t, testKey, paid), "")
	if err != nil || txn.Outcome() != payment.OutcomePaid || txn.OutTradeNo != "QK-N" || txn.TxAmt != 1234 || txn.Currency != "HKD" || txn.PayType != wechat.Code {
		t.Fatalf("genuine: %+v, %v", txn, err)
	}
	if _, err := c.VerifyNotification(notification(t, "FORGER", paid), ""); !errors.Is(err, ErrBadSignature) {
		t.Fatalf("forged: %v", err)
	}
	tampered := strings.Replace(string(notification(t, testKey, queried("QK-N", 1, StatusPaid))), `"orderAmount":1,`, `"orderAmount":1234,`, 1)
	if _, err := c.VerifyNotification([]byte(tampered), ""); !errors.Is(err, ErrBadSignature) {
		t.Fatalf("altered amount: %v", err)
	}
	if _, err := c.VerifyNotification(notification(t, testKey, map[string]any{"code": 1, "status": 1}), ""); !errors.Is(err, ErrMalformedNotification) {
		t.Fatalf("signed but without an order: %v", err)
	}
	n, _ := VerifyNotification(notification(t, testKey, queried("QK-N", 1234, StatusRefunded)), testKey)
	if n.Event() != "refunded" || n.EventID() != "SFPQK-N" {
		t.Fatalf("refunded notification: event %q id %q", n.Event(), n.EventID())
	}
}

func TestConfig(t *testing.T) {
	env := map[string]string{EnvPartnerNo: "10001", EnvStoreNo: "100010000000002", EnvKey: "SECRETKEY"}
	c := ConfigFromEnv(func(k string) string { return env[k] })
	if !c.HasCredentials() || len(c.Check()) != 0 {
		t.Fatalf("config %v: missing %v, problems %v", c, c.Missing(), c.Check())
	}
	if _, base := c.Endpoint(); base != ProductionURL {
		t.Fatalf("default endpoint %s", base)
	}
	if strings.Contains(c.String(), "SECRETKEY") {
		t.Fatal("the key is in the config's text")
	}
	c.BaseURL, c.TerminalNo = "ftp://x", strings.Repeat("t", 21)
	if len(c.Check()) != 2 {
		t.Fatalf("problems %v; want the base URL and the terminal number", c.Check())
	}
	if m := (Config{Key: "k"}).Missing(); len(m) != 2 || !(Config{Key: "k"}).Partial() {
		t.Fatalf("missing %v", m)
	}
}

// A 429 is a rate limit, as on QFPay: nothing was done, and the order
// machine polls less often instead of counting the gateway unreachable.
func TestRateLimitIsNotSent(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		w.WriteHeader(http.StatusTooManyRequests)
	}))
	t.Cleanup(srv.Close)
	c, err := NewClient("10001", testKey, WithBaseURL(srv.URL), WithStoreNo("100010000000002"), WithRetry(2, time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.QueryOrder(context.Background(), payment.OrderRef{OutTradeNo: "QK-429"})
	if !errors.Is(err, payment.ErrRateLimited) || !errors.Is(err, payment.ErrNotSent) || calls.Load() != 2 {
		t.Fatalf("after %d answers of 429: %v; want a rate limit, not sent", calls.Load(), err)
	}
}
