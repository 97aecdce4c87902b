package qfpaysim

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"qrkiosk/internal/proctest"
	"qrkiosk/payment"
	"qrkiosk/payment/qfpay"
)

// Customer-presented codes (CPM): the cashier scans the customer's wallet
// and sends its payment code as auth_code.

// Codes as wallets issue them (QFPay's samples: WeChat 134857…, Alipay
// 280438…); the last four digits pick the simulated customer's behaviour.
const (
	codeWeChat   = "134857901234588557"
	codeAlipay   = "280438849930815813"
	codeUnionPay = "6212345678901234567"
	codePayMe    = "8812345678901234"
)

func cpmParams(outTradeNo, payType, authCode string, kv ...string) url.Values {
	return payParams(outTradeNo, payType, append([]string{"auth_code", authCode, "txamt", "880"}, kv...)...)
}

// rawCall sends a signed request and returns the answer's JSON as decoded
// into Go's generic types (a JSON number stays a float64, a string a
// string) and its raw bytes.
func (f *fixture) rawCall(path string, p url.Values) (map[string]any, []byte) {
	f.t.Helper()
	resp, err := f.send(path, p, testApp, qfpay.Sign(p, testKey, qfpay.SignMD5), "")
	if err != nil {
		f.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		f.t.Fatalf("HTTP %d: %s", resp.StatusCode, b)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		f.t.Fatalf("%s: %v", b, err)
	}
	return m, b
}

// charge sends a CPM payment and returns its answer.
func (f *fixture) charge(outTradeNo, payType, authCode string, kv ...string) map[string]any {
	f.t.Helper()
	m, _ := f.rawCall("/trade/v1/payment", cpmParams(outTradeNo, payType, authCode, kv...))
	return m
}

// order returns the simulator's snapshot of the order with out_trade_no
// out. It reads the clock, like any request would.
func (f *fixture) order(out string) Order {
	f.t.Helper()
	for _, o := range f.sim.Orders() {
		if o.OutTradeNo == out {
			return o
		}
	}
	f.t.Fatalf("no order %s", out)
	return Order{}
}

// The answer to a CPM payment, field by field and type by type, and the
// customer confirming a moment later: the row says 1145 until the
// simulator's clock passes the confirmation, and then the payment is
// notified although nobody asked.
func TestCPMConfirmsAfterAMoment(t *testing.T) {
	for _, tt := range []struct{ payType, code string }{
		{"800008", codeWeChat}, {"800008", codeAlipay}, {"800008", codeUnionPay}, {"800008", codePayMe},
		{"800108", codeAlipay}, {"800208", codeWeChat}, {"801008", codeWeChat},
		{"805808", codePayMe}, {"800708", codeUnionPay},
	} {
		t.Run(tt.payType+" "+tt.code[:2], func(t *testing.T) {
			ns, received := notifyServer(t, 0)
			f := newFixture(t, func(c *Config) { c.NotifyURL = ns.URL })
			a := f.charge("CPM-1", tt.payType, tt.code, "udid", "kiosk1", "goods_name", "Milk tea")
			want := map[string]any{
				"respcd": "1145", "resperr": "Please wait while processing(1145)", "respmsg": "",
				"out_trade_no": "CPM-1", "pay_type": tt.payType, "txamt": float64(880), "txcurrcd": "HKD",
				"txdtm": "2025-03-14 10:00:00", "sysdtm": "2025-03-14 10:00:00", "paydtm": "", "udid": "kiosk1",
			}
			for k, v := range want {
				if a[k] != v {
					t.Errorf("answer %s = %#v, want %#v", k, a[k], v)
				}
			}
			syssn, _ := a["syssn"].(string)
			if len(syssn) != 26 || !strings.HasPrefix(syssn, "20250314") {
				t.Errorf("syssn %q", syssn)
			}
			for _, k := range []string{"qrcode", "pay_url", "expired_time"} {
				if _, ok := a[k]; ok {
					t.Errorf("a CPM answer carries %s", k)
				}
			}
			if q := f.query("CPM-1"); q["respcd"] != "1145" || q["cancel"] != "0" || q["syssn"] != syssn || q["pay_type"] != tt.payType || q["paydtm"] != "" {
				t.Fatalf("confirming: %v", q)
			}
			f.clock.Advance(DefaultCPMConfirmAfter - time.Millisecond)
			if q := f.query("CPM-1"); q["respcd"] != "1145" {
				t.Fatalf("confirmed early: %v", q)
			}
			f.clock.Advance(time.Millisecond)
			// Nobody queries: the simulator confirms and notifies by itself.
			eventually(t, "the notification", func() bool { return len(received()) == 1 })
			n := received()[0]
			var body map[string]any
			if err := json.Unmarshal(n.body, &body); err != nil || n.sign != md5Sign(n.body, testKey) {
				t.Fatalf("notification %s (sign %s): %v", n.body, n.sign, err)
			}
			for k, v := range map[string]string{"notify_type": "payment", "respcd": "0000", "syssn": syssn, "out_trade_no": "CPM-1", "pay_type": tt.payType, "txamt": "880", "cancel": "0", "paydtm": "2025-03-14 10:00:03"} {
				if body[k] != v {
					t.Errorf("notification %s = %#v, want %q", k, body[k], v)
				}
			}
			if q := f.query("CPM-1"); q["respcd"] != "0000" || q["paydtm"] != "2025-03-14 10:00:03" || q["errmsg"] != "success" {
				t.Fatalf("confirmed: %v", q)
			}
			if o := f.order("CPM-1"); o.Mode != "CPM" || o.State != "paid" || !o.ExpiresAt.IsZero() || !o.ConfirmAt.IsZero() || o.QRCode != "" {
				t.Fatalf("order %+v", o)
			}
		})
	}
}

// The last four digits of a code choose what the simulated customer does.
func TestCPMMagicCodes(t *testing.T) {
	tests := []struct {
		name    string
		code    string
		answer  string // respcd of the payment's answer
		resperr string
		later   string // the row's respcd an hour later
		notices int
	}{
		{"paid at once", "280438849930810000", "0000", "交易成功", "0000", 1},
		{"never confirms", "280438849930819999", "1145", "Please wait while processing(1145)", "1145", 0},
		{"bad or expired code", "280438849930811202", "1202", qfpay.Text(qfpay.CodeBadPaymentCode), "1202", 0},
		{"insufficient balance", "280438849930811201", "1201", qfpay.Text(qfpay.CodeInsufficientBalance), "1201", 0},
		{"password, then confirmed", "280438849930811143", "1143", "處理中，請稍等(1143)", "0000", 1},
		{"any other ending", codeAlipay, "1145", "Please wait while processing(1145)", "0000", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ns, received := notifyServer(t, 0)
			f := newFixture(t, func(c *Config) { c.NotifyURL = ns.URL })
			a, raw := f.rawCall("/trade/v1/payment", cpmParams("MAGIC", "800008", tt.code))
			if a["respcd"] != tt.answer || a["resperr"] != tt.resperr {
				t.Fatalf("answer %s", raw)
			}
			if tt.answer == "0000" {
				// The bytes of QFPay's CPM sample: \u escapes, respmsg OK.
				if !bytes.Contains(raw, []byte(`"resperr": "\u4ea4\u6613\u6210\u529f"`)) || a["respmsg"] != "OK" || a["paydtm"] != "2025-03-14 10:00:00" {
					t.Fatalf("answer %s", raw)
				}
			}
			if qfpay.ClassOf(payment.Code(tt.answer)) == qfpay.ClassFailure {
				// The wallet refused it: recorded, with its syssn, and found by query.
				if s, _ := a["syssn"].(string); len(s) != 26 || a["txamt"] != float64(880) {
					t.Fatalf("a refused code's answer lacks the order: %s", raw)
				}
			}
			if q := f.query("MAGIC"); q["respcd"] != tt.answer {
				t.Fatalf("row %v, want respcd %s", q, tt.answer)
			}
			f.clock.Advance(time.Hour)
			eventually(t, "notifications", func() bool { return len(received()) == tt.notices })
			q := f.query("MAGIC")
			if q["respcd"] != tt.later {
				t.Fatalf("an hour later: %v, want respcd %s", q, tt.later)
			}
			if qfpay.ClassOf(payment.Code(tt.later)) == qfpay.ClassFailure && q["errmsg"] != qfpay.Text(payment.Code(tt.later)) {
				t.Fatalf("failed row errmsg %q", q["errmsg"])
			}
			if n := len(received()); n != tt.notices {
				t.Fatalf("%d notifications, want %d", n, tt.notices)
			}
		})
	}
}

// Config.CPMConfirmAfter sets how long the customer takes; negative means
// at once.
func TestCPMConfirmAfter(t *testing.T) {
	f := newFixture(t, func(c *Config) { c.CPMConfirmAfter = -1 })
	if a := f.charge("NOW", "800208", codeWeChat); a["respcd"] != "0000" {
		t.Fatalf("at once: %v", a)
	}
	if a := f.charge("NOW-NEVER", "800208", "134857901234589999"); a["respcd"] != "1145" {
		t.Fatalf("a never-confirming code with confirmation at once: %v", a)
	}

	f = newFixture(t, func(c *Config) { c.CPMConfirmAfter = 40 * time.Second })
	f.charge("SLOW", "800108", codeAlipay)
	if o := f.order("SLOW"); !o.ConfirmAt.Equal(time.Date(2025, 3, 14, 10, 0, 40, 0, gatewayZone)) {
		t.Fatalf("ConfirmAt %v", o.ConfirmAt)
	}
	f.clock.Advance(39 * time.Second)
	if q := f.query("SLOW"); q["respcd"] != "1145" {
		t.Fatalf("after 39 s: %v", q)
	}
	f.clock.Advance(time.Second)
	if q := f.query("SLOW"); q["respcd"] != "0000" {
		t.Fatalf("after 40 s: %v", q)
	}
}

// The all-in-one pay type tells the wallet from the code's first digits;
// the others take their own wallet's codes only. A code no wallet issues,
// or not 16 to 24 digits, is refused before it reaches a wallet: nothing
// is recorded.
func TestCPMWalletFromCode(t *testing.T) {
	f := newFixture(t, nil)
	for _, tt := range []struct{ code, wallet string }{
		{"100000000000000001", "800208"}, {"159999999999999999", "800208"},
		{"250000000000000001", "800108"}, {"3000000000000000000001", "800108"},
		{"6200000000000000001", "800708"}, {"8800000000000001", "805808"},
	} {
		f.charge("W-"+tt.code, "800008", tt.code)
		if o := f.order("W-" + tt.code); o.Wallet != tt.wallet || o.PayType != "800008" {
			t.Errorf("code %s: wallet %s pay type %s, want %s", tt.code, o.Wallet, o.PayType, tt.wallet)
		}
	}
	n := len(f.sim.Orders())
	for _, tt := range []struct{ name, code, msg string }{
		{"no wallet's prefix", "160000000000000001", "beginning 16"},
		{"no wallet's prefix", "990000000000000001", "beginning 99"},
		{"15 digits", "280438849930815", "16 to 24 digits"},
		{"25 digits", "2804388499308158131234567", "16 to 24 digits"},
		{"not digits", "28043884993081581X", "16 to 24 digits"},
		{"spaces", "2804 3884 9930 8158", "16 to 24 digits"},
	} {
		a := f.charge("BAD-"+tt.code, "800008", tt.code)
		if a["respcd"] != "1202" || a["resperr"] != qfpay.Text(qfpay.CodeBadPaymentCode) || !strings.Contains(a["respmsg"].(string), tt.msg) || !strings.HasPrefix(a["respmsg"].(string), "auth_code:") {
			t.Errorf("%s: %v", tt.name, a)
		}
		if _, ok := a["syssn"]; ok {
			t.Errorf("%s: a refused code got a syssn", tt.name)
		}
	}
	if got := len(f.sim.Orders()); got != n {
		t.Fatalf("refused codes made %d orders", got-n)
	}
	// A single-wallet pay type sends the code to its wallet, which refuses
	// another wallet's code; the code stays good for its own wallet.
	a := f.charge("WRONG-WALLET", "800108", codeWeChat)
	if a["respcd"] != "1202" || !strings.Contains(a["respmsg"].(string), "WeChat Pay codes") {
		t.Fatalf("a WeChat code for Alipay: %v", a)
	}
	if q := f.query("WRONG-WALLET"); q["respcd"] != "1202" {
		t.Fatalf("row %v", q)
	}
	if a := f.charge("RIGHT-WALLET", "800208", codeWeChat); a["respcd"] != "1145" {
		t.Fatalf("the same code with WeChat: %v", a)
	}
	// The refused codes are free again and out_trade_no unused.
	if a := f.charge("BAD-160000000000000001", "800008", "150000000000000001"); a["respcd"] != "1145" {
		t.Fatalf("out_trade_no of a refused code: %v", a)
	}
}

// An auth_code can be used once: a second payment with it answers 2005,
// also after the first one failed; the first one is untouched.
func TestCPMCodeSingleUse(t *testing.T) {
	f := newFixture(t, nil)
	first := f.charge("USE-1", "800008", codeAlipay)
	again := f.charge("USE-2", "800108", codeAlipay)
	if again["respcd"] != "2005" || again["resperr"] != qfpay.Text(qfpay.CodeBadCustomerCode) || !strings.Contains(again["respmsg"].(string), first["syssn"].(string)) {
		t.Fatalf("second use: %v", again)
	}
	if q := f.query("USE-2"); q["respcd"] != "2005" {
		t.Fatalf("second use row %v", q)
	}
	f.clock.Advance(DefaultCPMConfirmAfter)
	if q := f.query("USE-1"); q["respcd"] != "0000" {
		t.Fatalf("first use %v", q)
	}
	f.charge("POOR-1", "800008", "134857901234581201")
	if a := f.charge("POOR-2", "800008", "134857901234581201"); a["respcd"] != "2005" {
		t.Fatalf("a code used by a failed payment: %v", a)
	}
	if a := f.charge("USE-1", "800008", codeUnionPay); a["respcd"] != "2011" {
		t.Fatalf("a used out_trade_no: %v", a)
	}
}

// A CPM order still confirming is withdrawn the way its wallet allows:
// reversal for Alipay, close for WeChat Pay, nothing for UnionPay and PayMe;
// an all-in-one order follows the wallet of its code. Withdrawn, its cancel
// flag is 1 (CPM) and the customer's confirmation comes to nothing.
func TestCPMWithdraw(t *testing.T) {
	const (
		never     = "9999" // codes ending so never confirm by themselves
		paidNow   = "0000"
		wechat    = "13485790123458"
		alipay    = "28043884993081"
		unionpay  = "621234567890123"
		payme     = "881234567890"
		hkNoFound = "Hong Kong PayTypes do not support transaction cancel"
	)
	tests := []struct {
		name, payType, code, op string
		want                    string // respcd of the reversal or close
		resperr                 string // when refused
		cancel, respcd, state   string // the order afterwards
	}{
		{"Alipay reversed", "800108", alipay + never, "reversal", "0000", "", "1", "1142", "closed"},
		{"Alipay cannot be closed", "800108", alipay + never, "close", "1136", "", "0", "1145", "pending"},
		{"WeChat closed", "800208", wechat + never, "close", "0000", "", "1", "1142", "closed"},
		{"WeChat cannot be reversed", "800208", wechat + never, "reversal", "1136", "", "0", "1145", "pending"},
		{"WeChat HK closed", "801008", wechat + never, "close", "0000", "", "1", "1142", "closed"},
		{"all-in-one WeChat closed", "800008", wechat + never, "close", "0000", "", "1", "1142", "closed"},
		{"all-in-one WeChat not reversed", "800008", wechat + never, "reversal", "1136", "", "0", "1145", "pending"},
		{"all-in-one Alipay reversed", "800008", alipay + never, "reversal", "0000", "", "1", "1142", "closed"},
		{"all-in-one Alipay not closed", "800008", alipay + never, "close", "1136", "", "0", "1145", "pending"},
		{"all-in-one UnionPay", "800008", unionpay + never, "close", "1136", hkNoFound, "0", "1145", "pending"},
		{"all-in-one PayMe", "800008", payme + never, "reversal", "1136", hkNoFound, "0", "1145", "pending"},
		{"PayMe", "805808", payme + never, "close", "1136", hkNoFound, "0", "1145", "pending"},
		{"UnionPay", "800708", unionpay + never, "reversal", "1136", hkNoFound, "0", "1145", "pending"},
		{"paid Alipay reversed: refunded", "800108", alipay + paidNow, "reversal", "0000", "", "1", "0000", "closed"},
		{"paid all-in-one Alipay reversed: refunded", "800008", alipay + paidNow, "reversal", "0000", "", "1", "0000", "closed"},
		{"paid WeChat cannot be closed", "800208", wechat + paidNow, "close", "1260", "", "0", "0000", "paid"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ns, received := notifyServer(t, 0)
			f := newFixture(t, func(c *Config) { c.NotifyURL = ns.URL })
			a := f.charge("WD-1", tt.payType, tt.code)
			p := url.Values{"syssn": {a["syssn"].(string)}, "txamt": {"880"}, "txdtm": {"2025-03-14 10:00:00"}}
			got := f.call("/trade/v1/"+tt.op, p)
			if got.Respcd != tt.want || tt.resperr != "" && got.Resperr != tt.resperr {
				t.Fatalf("%s: respcd %s resperr %q respmsg %q, want %s", tt.op, got.Respcd, got.Resperr, got.Respmsg, tt.want)
			}
			if got.Respcd == "0000" && (got.OrigSysSN != a["syssn"] || len(got.SysSN) != 26) {
				t.Fatalf("answer orig_syssn %q syssn %q", got.OrigSysSN, got.SysSN)
			}
			q := f.query("WD-1")
			if q["cancel"] != tt.cancel || q["respcd"] != tt.respcd {
				t.Fatalf("afterwards cancel=%s respcd=%s, want %s %s", q["cancel"], q["respcd"], tt.cancel, tt.respcd)
			}
			if o := f.order("WD-1"); o.State != tt.state {
				t.Fatalf("afterwards %s, want %s", o.State, tt.state)
			}
			// Confirming on the phone after the withdrawal pays nothing.
			if tt.state == "closed" {
				if status, _ := f.customer("confirm", a["syssn"].(string), nil); status != http.StatusConflict {
					t.Fatalf("confirm after withdrawal: HTTP %d", status)
				}
				if tt.respcd != "0000" && len(received()) != 0 {
					t.Fatalf("a withdrawn order was notified")
				}
			}
			if tt.respcd == "0000" && tt.state == "closed" {
				r := f.call("/trade/v1/refund", url.Values{"syssn": {a["syssn"].(string)}, "out_trade_no": {"WD-1-R"}, "txamt": {"880"}, "txdtm": {"2025-03-14 10:01:00"}})
				if r.Respcd != "1264" {
					t.Fatalf("refund of a reversed CPM payment: %s", r.Respcd)
				}
			}
		})
	}
	t.Run("a withdrawn order's confirmation time passes", func(t *testing.T) {
		ns, received := notifyServer(t, 0)
		f := newFixture(t, func(c *Config) { c.NotifyURL = ns.URL })
		a := f.charge("WD-2", "800208", codeWeChat)
		if got := f.call("/trade/v1/close", url.Values{"out_trade_no": {"WD-2"}, "txamt": {"880"}, "txdtm": {"2025-03-14 10:00:00"}}); got.Respcd != "0000" {
			t.Fatalf("close: %s", got.Respcd)
		}
		f.clock.Advance(time.Minute)
		if q := f.query("WD-2"); q["respcd"] != "1142" || q["cancel"] != "1" || q["syssn"] != a["syssn"] {
			t.Fatalf("a minute later: %v", q)
		}
		if n := len(received()); n != 0 {
			t.Fatalf("%d notifications", n)
		}
	})
}

// With Config.CancelProcessing a withdrawal answers 1145 and takes effect
// later; a customer who confirms meanwhile has paid: an Alipay reversal
// then refunds, a WeChat close leaves it paid.
func TestCPMConfirmedWhileWithdrawing(t *testing.T) {
	for _, tt := range []struct {
		payType, code, op string
		cancel, state     string
	}{
		{"800108", codeAlipay, "reversal", "1", "closed"},
		{"800208", codeWeChat, "close", "0", "paid"},
	} {
		t.Run(tt.op, func(t *testing.T) {
			ns, received := notifyServer(t, 0)
			f := newFixture(t, func(c *Config) {
				c.NotifyURL = ns.URL
				c.CancelProcessing = 10 * time.Second
			})
			f.charge("CW-1", tt.payType, tt.code)
			if got := f.call("/trade/v1/"+tt.op, url.Values{"out_trade_no": {"CW-1"}, "txamt": {"880"}, "txdtm": {"2025-03-14 10:00:00"}}); got.Respcd != "1145" {
				t.Fatalf("%s: %s, want 1145", tt.op, got.Respcd)
			}
			f.clock.Advance(10 * time.Second) // confirmed at +3 s, the cancel lands at +10 s
			eventually(t, "the payment's notification", func() bool { return len(received()) == 1 })
			q := f.query("CW-1")
			if q["respcd"] != "0000" || q["cancel"] != tt.cancel || q["paydtm"] != "2025-03-14 10:00:03" {
				t.Fatalf("afterwards %v", q)
			}
			if o := f.order("CW-1"); o.State != tt.state {
				t.Fatalf("state %s, want %s", o.State, tt.state)
			}
		})
	}
}

// Query, refunds and notifications treat CPM orders as MPM ones; with
// Config.AllInOneNamesWallet an all-in-one order names its wallet's pay type.
func TestCPMQueryRefundAndWalletPayType(t *testing.T) {
	for _, names := range []bool{false, true} {
		name := "echoes 800008"
		wantPT := "800008"
		if names {
			name, wantPT = "names the wallet", "800108"
		}
		t.Run(name, func(t *testing.T) {
			ns, received := notifyServer(t, 0)
			f := newFixture(t, func(c *Config) {
				c.NotifyURL = ns.URL
				c.AllInOneNamesWallet = names
			})
			a := f.charge("QR-1", "800008", "280438849930810000")
			if a["pay_type"] != wantPT {
				t.Fatalf("answer pay_type %v, want %s", a["pay_type"], wantPT)
			}
			f.charge("QR-2", "800208", "134857901234580000")
			for _, pt := range []string{"800008", wantPT} {
				rows := f.rows(url.Values{"pay_type": {pt}})
				if len(rows.Data) != 1 || rows.Data[0]["out_trade_no"] != "QR-1" || rows.Data[0]["pay_type"] != wantPT {
					t.Fatalf("query pay_type=%s: %v", pt, rows.Data)
				}
			}
			r := f.call("/trade/v1/refund", url.Values{"syssn": {a["syssn"].(string)}, "out_trade_no": {"QR-1-R"}, "txamt": {"300"}, "txdtm": {"2025-03-14 10:01:00"}})
			if r.Respcd != "0000" || r.OrigSysSN != a["syssn"] {
				t.Fatalf("refund %+v", r)
			}
			if q := f.query("QR-1"); q["cancel"] != "5" || q["respcd"] != "0000" {
				t.Fatalf("partly refunded: %v", q)
			}
			if q := f.query("QR-1-R"); q["origssn"] != a["syssn"] || q["pay_type"] != wantPT || q["order_type"] != "refund" {
				t.Fatalf("refund row %v", q)
			}
			eventually(t, "three notifications", func() bool { return len(received()) == 3 })
			var types []string
			for _, n := range received() {
				var body map[string]string
				if err := json.Unmarshal(n.body, &body); err != nil {
					t.Fatal(err)
				}
				types = append(types, body["notify_type"]+" "+body["out_trade_no"]+" "+body["pay_type"])
			}
			slices.Sort(types)
			if want := []string{"payment QR-1 " + wantPT, "payment QR-2 800208", "refund QR-1-R "}; !slices.Equal(types, want) {
				t.Fatalf("notifications %q, want %q", types, want)
			}
			// Last month's CPM order is out of this month's default window.
			f.clock.Advance(18 * 24 * time.Hour)
			if rows := f.rows(url.Values{"out_trade_no": {"QR-1"}}); len(rows.Data) != 0 {
				t.Fatalf("next month, by out_trade_no alone: %v", rows.Data)
			}
			if rows := f.rows(url.Values{"syssn": {a["syssn"].(string)}}); len(rows.Data) != 1 {
				t.Fatalf("next month, by syssn: %v", rows.Data)
			}
		})
	}
}

// A CPM payment whose answer is lost took effect: a query finds it, and
// sending the code again is refused (2005), so a client must query, never
// re-send. A request refused for the rate limit uses nothing.
func TestCPMLostAnswerAndRateLimit(t *testing.T) {
	f := newFixture(t, func(c *Config) {
		c.CommitDropFirst = 1
		c.RateLimitPerMinute = 3
	})
	p := cpmParams("LOST-1", "800008", codeWeChat)
	if resp, err := f.send("/trade/v1/payment", p, testApp, qfpay.Sign(p, testKey, qfpay.SignMD5), ""); err == nil {
		resp.Body.Close()
		t.Fatal("the answer was not dropped")
	}
	if q := f.query("LOST-1"); q["respcd"] != "1145" {
		t.Fatalf("the lost payment: %v", q)
	}
	if a := f.charge("LOST-2", "800008", codeWeChat); a["respcd"] != "2005" {
		t.Fatalf("the code sent again: %v", a)
	}
	p = cpmParams("LIMITED", "800008", codeAlipay)
	resp, err := f.send("/trade/v1/payment", p, testApp, qfpay.Sign(p, testKey, qfpay.SignMD5), "")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("fourth request in a minute: HTTP %d", resp.StatusCode)
	}
	f.clock.Advance(time.Minute)
	if a := f.charge("LIMITED", "800008", codeAlipay); a["respcd"] != "1145" {
		t.Fatalf("after the minute, the same code and out_trade_no: %v", a)
	}
}

// The customer endpoints work on CPM orders: /sim/confirm confirms (also a
// code that would never confirm by itself), /sim/decline fails it.
func TestCPMCustomerEndpoints(t *testing.T) {
	ns, received := notifyServer(t, 0)
	f := newFixture(t, func(c *Config) { c.NotifyURL = ns.URL })
	a := f.charge("CE-1", "800008", "280438849930819999")
	f.clock.Advance(7 * time.Second)
	status, res := f.customer("confirm", a["syssn"].(string), nil)
	if status != http.StatusOK || res["respcd"] != "0000" || res["state"] != "paid" {
		t.Fatalf("confirm: %d %v", status, res)
	}
	if q := f.query("CE-1"); q["respcd"] != "0000" || q["paydtm"] != "2025-03-14 10:00:07" {
		t.Fatalf("confirmed: %v", q)
	}
	eventually(t, "the notification", func() bool { return len(received()) == 1 })

	b := f.charge("CE-2", "800208", codeWeChat)
	if status, res := f.customer("decline", b["syssn"].(string), url.Values{"respcd": {"1201"}}); status != http.StatusOK || res["respcd"] != "1201" || res["state"] != "failed" {
		t.Fatalf("decline: %d %v", status, res)
	}
	f.clock.Advance(time.Minute)
	if q := f.query("CE-2"); q["respcd"] != "1201" {
		t.Fatalf("declined, then its confirmation time passed: %v", q)
	}

	// /sim/confirm on an MPM order pays it like /sim/pay.
	m := f.create("CE-4", "801501")
	if status, res := f.customer("confirm", m.SysSN, nil); status != http.StatusOK || res["state"] != "paid" {
		t.Fatalf("confirm of an MPM order: %d %v", status, res)
	}
}

// The customer page of a CPM order plays the customer confirming on the
// phone, and never shows the whole code.
func TestCPMCustomerPage(t *testing.T) {
	f := newFixture(t, nil)
	c := f.charge("CE-3", "800108", codeAlipay)
	resp, err := f.srv.Client().Get(f.srv.URL + "/sim/pay/" + c["syssn"].(string))
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{"HK$8.80", "Alipay", "Confirming on the phone", `action="../confirm/` + c["syssn"].(string), ">Confirm", ">Decline", "28************5813"} {
		if !strings.Contains(string(page), want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if strings.Contains(string(page), codeAlipay) {
		t.Error("the page shows the whole payment code")
	}
	resp, err = f.srv.Client().Get(f.srv.URL + "/sim/confirm/" + c["syssn"].(string))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /sim/confirm: HTTP %d", resp.StatusCode)
	}
	resp, err = f.srv.Client().Post(f.srv.URL+"/sim/confirm/"+c["syssn"].(string), "application/x-www-form-urlencoded", nil)
	if err != nil {
		t.Fatal(err)
	}
	page, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(page), "Paid") {
		t.Fatalf("browser confirm: HTTP %d\n%s", resp.StatusCode, page)
	}
}

// The project's QFPay client reads CPM rows and notifications as they are.
func TestCPMWithQFPayClient(t *testing.T) {
	ns, received := notifyServer(t, 0)
	f := newFixture(t, func(c *Config) { c.NotifyURL = ns.URL })
	client, err := qfpay.NewClient(testApp, testKey, qfpay.WithBaseURL(f.srv.URL))
	if err != nil {
		t.Fatal(err)
	}
	a := f.charge("CL-1", "800008", codeAlipay)
	ctx := context.Background()
	txn, err := client.QueryOrder(ctx, payment.OrderRef{OutTradeNo: "CL-1", TxTime: f.clock.Now()})
	if err != nil || txn.Outcome() != payment.OutcomePending || txn.Code != qfpay.CodeProcessing || txn.SysSN != a["syssn"] || txn.TxAmt != 880 {
		t.Fatalf("confirming: %+v, %v", txn, err)
	}
	f.clock.Advance(DefaultCPMConfirmAfter)
	eventually(t, "the notification", func() bool { return len(received()) == 1 })
	n := received()[0]
	if err := qfpay.VerifyNotification(n.body, n.sign, testKey, qfpay.SignMD5); err != nil {
		t.Fatal(err)
	}
	if note, err := qfpay.ParseNotification(n.body); err != nil || !note.Paid() || note.SysSN != a["syssn"] {
		t.Fatalf("notification %+v, %v", note, err)
	}
	if txn, err = client.QueryOrder(ctx, payment.OrderRef{OutTradeNo: "CL-1", SysSN: a["syssn"].(string)}); err != nil || txn.Outcome() != payment.OutcomePaid {
		t.Fatalf("confirmed: %+v, %v", txn, err)
	}
	b := f.charge("CL-2", "800108", "280438849930829999")
	if err := client.Reversal(ctx, qfpay.CancelParams{SysSN: b["syssn"].(string), TxAmt: 880, TxTime: f.clock.Now()}); err != nil {
		t.Fatal(err)
	}
	if txn, err = client.QueryOrder(ctx, payment.OrderRef{OutTradeNo: "CL-2", SysSN: b["syssn"].(string)}); err != nil || txn.Outcome() != payment.OutcomeClosed || txn.Cancel != qfpay.CancelFlagCPMReversed {
		t.Fatalf("reversed: %+v, %v", txn, err)
	}
}

// The simulator confirms by itself for every sale, also one that comes
// after a quiet spell; and its log never holds a whole payment code (one
// could be charged by whoever reads it).
func TestCPMLaterSaleAndLog(t *testing.T) {
	ns, received := notifyServer(t, 0)
	var log proctest.Buffer
	f := newFixture(t, func(c *Config) {
		c.NotifyURL = ns.URL
		c.Logger = slog.New(slog.NewTextHandler(&log, nil))
	})
	f.charge("LATER-1", "800008", codeWeChat)
	f.clock.Advance(DefaultCPMConfirmAfter)
	eventually(t, "the first notification", func() bool { return len(received()) == 1 })
	eventually(t, "a quiet spell (nothing waits, the sweep stops)", func() bool {
		f.sim.mu.Lock()
		defer f.sim.mu.Unlock()
		return !f.sim.sweeping
	})
	f.charge("LATER-2", "800008", codeAlipay)
	f.clock.Advance(DefaultCPMConfirmAfter)
	eventually(t, "the second notification", func() bool { return len(received()) == 2 })
	out := log.String()
	for _, code := range []string{codeWeChat, codeAlipay} {
		if strings.Contains(out, code) {
			t.Fatalf("the log holds the code %s:\n%s", code, out)
		}
		if !strings.Contains(out, maskCode(code)) {
			t.Fatalf("the log lacks %s:\n%s", maskCode(code), out)
		}
	}
}
