package view

import (
	"slices"
	"strings"
	"testing"
	"time"

	"qrkiosk/payment"
	"qrkiosk/payment/qfpay"
)

var (
	t0  = time.Date(2025, 3, 14, 15, 9, 26, 0, time.FixedZone("HKT", 8*3600))
	hkd = payment.Currency{Code: "HKD", Exponent: 2, Symbol: "HK$"}
)

func payType(t testing.TB, wallet string) payment.PayType {
	t.Helper()
	p, err := payment.LookupPayType(wallet)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func cpmType(t testing.TB, code string) payment.PayType {
	t.Helper()
	p, err := payment.LookupCPMPayType(code)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func order(t testing.TB, wallet string) payment.Snapshot {
	return payment.Snapshot{
		OutTradeNo: "QK20250314150926A7F3",
		QRCode:     "http://192.168.1.20:8080/pay/QK20250314150926A7F3?sig=9f2c41d07b",
		Amount:     payment.Amount{Minor: 123450, Currency: hkd},
		PayType:    payType(t, wallet),
		State:      payment.StateAwaitingPayment,
		Created:    t0,
		Deadline:   t0.Add(5 * time.Minute),
	}
}

func TestFailureReason(t *testing.T) {
	if got := failureReason(qfpay.CodeInsufficientBalance); got != reasonInsufficient {
		t.Errorf("insufficient balance: got %q", got.En)
	}
	for _, c := range []payment.Code{"", "9999", qfpay.CodeSuccess} {
		if got := failureReason(c); got != reasonDefault {
			t.Errorf("code %q: got %q, want the default", c, got.En)
		}
	}
	for c := range failureReasons {
		if !qfpay.Known(c) {
			t.Errorf("reason for %q, which is not in the gateway's table", c)
		}
	}
}

// TestLanguageFollowsTheWallet: mainland wallets put Simplified Chinese
// first, Hong Kong's Traditional Chinese, and English is always there, on
// every page of the order; what has no wallet keeps English first.
func TestLanguageFollowsTheWallet(t *testing.T) {
	scanToPay := map[string][]string{
		"mainland": {"请扫码付款", "Scan to pay", "請掃碼付款"},
		"hk":       {"請掃碼付款", "Scan to pay", "请扫码付款"},
	}
	for _, c := range []struct {
		wallet string
		want   string
	}{
		{"wechat", "mainland"}, {"alipay", "mainland"}, {"unionpay", "mainland"},
		{"alipayhk", "hk"}, {"payme", "hk"}, {"fps", "hk"}, {"octopus", "hk"},
	} {
		t.Run(c.wallet, func(t *testing.T) {
			m := NewModel(Config{})
			v, _ := m.Show(order(t, c.wallet))
			if !slices.Equal(v.Title.Lines, scanToPay[c.want]) {
				t.Errorf("awaiting: %q, want %q", v.Title.Lines, scanToPay[c.want])
			}
			if !strings.HasPrefix(v.AmountLabel, map[string]string{"mainland": "金额", "hk": "金額"}[c.want]) || !strings.Contains(v.AmountLabel, "Amount") {
				t.Errorf("amount label %q", v.AmountLabel)
			}
			if !strings.Contains(v.ExpiresLabel[1], "Expires in") {
				t.Errorf("countdown label %q: English second", v.ExpiresLabel)
			}
			paid := order(t, c.wallet)
			paid.State = payment.StatePaid
			v, _ = m.Show(paid)
			if len(v.Title.Lines) != 3 || v.Title.Lines[1] != "Paid — thank you" {
				t.Errorf("paid: %q", v.Title.Lines)
			}
		})
	}
	// No wallet known: the welcome, asking for a code, the all-in-one code.
	m := NewModel(Config{})
	if v := m.Current(); !strings.HasPrefix(v.Welcome, "Welcome") {
		t.Errorf("welcome %q", v.Welcome)
	}
	if v := m.AskForCode(payment.Amount{Minor: 100, Currency: hkd}); v.Title.Lines[0] != "Show your payment code to the scanner" {
		t.Errorf("asking for a code: %q", v.Title.Lines)
	}
	scanned := order(t, "alipayhk")
	scanned.PayType, scanned.QRCode, scanned.State = cpmType(t, payment.AllInOneCPM), "", payment.StateCreating
	if v, _ := m.Show(scanned); !slices.Equal(v.Title.Lines, []string{"Payment code", "付款碼", "付款码"}) {
		t.Errorf("all-in-one scanned code: %q", v.Title.Lines)
	}
	scanned.PayType = cpmType(t, "wechat")
	if v, _ := m.Show(scanned); !slices.Equal(v.Title.Lines, []string{"微信支付", "WeChat Pay"}) {
		t.Errorf("scanned WeChat code: %q", v.Title.Lines)
	}
}

func TestFixedLanguages(t *testing.T) {
	l, err := ParseLanguages(" EN, zh-hans ,zh-Hant")
	if err != nil {
		t.Fatal(err)
	}
	m := NewModel(Config{Languages: l, Demo: true})
	if v := m.Current(); !strings.HasPrefix(v.Welcome, "Welcome   欢迎光临") || !strings.HasPrefix(v.Banner, "DEMO") {
		t.Errorf("welcome %q, banner %q", v.Welcome, v.Banner)
	}
	v, _ := m.Show(order(t, "alipayhk"))
	if !slices.Equal(v.Title.Lines, []string{"Scan to pay", "请扫码付款", "請掃碼付款"}) {
		t.Errorf("fixed order on an Alipay HK order: %q", v.Title.Lines)
	}
	if l.String() != "en,zh-Hans,zh-Hant" {
		t.Errorf("String %q", l.String())
	}
}

func TestParseLanguages(t *testing.T) {
	for _, c := range []struct {
		in, want, err string
	}{
		{in: "", want: "wallet"},
		{in: "Wallet", want: "wallet"},
		{in: "zh-Hant,en,zh-Hans", want: "zh-Hant,en,zh-Hans"},
		{in: "en,zh-Hant", err: "the three languages"},
		{in: "en,zh-Hant,zh-Hant", err: "zh-Hant is named twice"},
		{in: "en,zh-Hant,fr", err: `"fr" is not a language`},
		{in: "en,,zh-Hant", err: `"" is not a language`},
	} {
		l, err := ParseLanguages(c.in)
		switch {
		case c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err)):
			t.Errorf("%q: error %v, want one saying %q", c.in, err, c.err)
		case c.err == "" && err != nil:
			t.Errorf("%q: %v", c.in, err)
		case c.err == "" && l.String() != c.want:
			t.Errorf("%q: %q, want %q", c.in, l.String(), c.want)
		}
	}
}

// FuzzParseLanguages: whatever is written, the setting is refused with a
// reason or is an order of all three languages, English among them, that
// reads back the same.
func FuzzParseLanguages(f *testing.F) {
	for _, s := range []string{"", "wallet", "en,zh-Hant,zh-Hans", "zh-hans , EN,zh-hant", "en,en,en", "en,zh-Hant"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		l, err := ParseLanguages(s)
		if err != nil {
			if !strings.Contains(err.Error(), "en") {
				t.Errorf("%q: error %q does not name the languages", s, err)
			}
			return
		}
		o := l.Default()
		if !slices.Contains(o[:], En) || !slices.Contains(o[:], ZhHant) || !slices.Contains(o[:], ZhHans) {
			t.Errorf("%q: order %v lacks a language", s, o)
		}
		back, err := ParseLanguages(l.String())
		if err != nil || back != l {
			t.Errorf("%q: %q reads back as %v, %v", s, l.String(), back, err)
		}
	})
}

// TestResultHeldOnce: a result is shown once; its repeat changes nothing,
// its hold ends in the welcome unless a newer view came, and after the
// hold the same result does not come back, while a changed one does.
func TestResultHeldOnce(t *testing.T) {
	m := NewModel(Config{ResultHold: 3 * time.Second})
	snap := order(t, "alipayhk")
	m.Show(snap)
	snap.State = payment.StatePaid
	paid, changed := m.Show(snap)
	if !changed || paid.Page != PageResult || paid.Hold != 3*time.Second || paid.Sign != SignCheck || paid.Amount != "HK$1,234.50" {
		t.Fatalf("paid: %+v", paid)
	}
	if v, changed := m.Show(snap); changed || v.Seq != paid.Seq {
		t.Error("a repeated result changed the view")
	}
	idle, ok := m.EndHold(paid.Seq)
	if !ok || idle.Page != PageIdle {
		t.Fatalf("hold ended in %+v", idle)
	}
	if _, ok := m.EndHold(paid.Seq); ok {
		t.Error("a hold ended twice")
	}
	if _, changed := m.Show(snap); changed {
		t.Error("the result came back after its hold")
	}
	late := order(t, "alipayhk")
	late.OutTradeNo, late.State = "QK2", payment.StateExpired
	expired, _ := m.Show(late)
	late.State = payment.StatePaid
	if v, changed := m.Show(late); !changed || v.Sign != SignCheck {
		t.Error("paid after expired: not shown")
	}
	if _, ok := m.EndHold(expired.Seq); ok {
		t.Error("the expired result's hold ended the newer paid one")
	}
}

// TestNoQRWhileWithdrawing: the QR is offered only while the order is
// payable and not being withdrawn.
func TestNoQRWhileWithdrawing(t *testing.T) {
	m := NewModel(Config{})
	snap := order(t, "wechat")
	if v, _ := m.Show(snap); !v.QRShown() || len(v.Modules) < 21 || v.Deadline != snap.Deadline {
		t.Fatalf("awaiting: QR %q, %d modules", v.QR, len(v.Modules))
	}
	snap.Cancelling = true
	if v, _ := m.Show(snap); v.QRShown() || v.Modules != nil || v.Title.Lines[1] != "Cancelling…" {
		t.Errorf("cancelling: %+v", v)
	}
	snap.Cancelling, snap.ConfirmingPaid = false, true
	if v, _ := m.Show(snap); v.QRShown() || v.Page != PageCreating {
		t.Errorf("confirming a pushed payment: %+v", v)
	}
	snap.ConfirmingPaid = false
	snap.QRCode = strings.Repeat("x", 8000) // more than a QR code holds
	if v, _ := m.Show(snap); v.QRShown() || !strings.Contains(strings.Join(v.Title.Lines, " "), "The shop cannot take this payment") {
		t.Errorf("a QR that cannot be drawn: %+v", v.Title)
	}
}

// The e-receipt's QR goes only on its own sale's Paid result, never on a
// page that offers a payment QR, another sale's result or a failure, and
// it keeps that result ReceiptHold.
func TestReceiptOnlyOnItsOwnPaidResult(t *testing.T) {
	const link = "https://relay.example/r/4f0c2b9a7d1e6c3b5a8f0e2d4c6b8a0f"
	m := NewModel(Config{})
	snap := order(t, "alipayhk")
	if _, ok := m.Receipt(snap.OutTradeNo, link); ok {
		t.Error("a receipt went on the welcome")
	}
	m.Show(snap)
	if _, ok := m.Receipt(snap.OutTradeNo, link); ok {
		t.Error("a receipt went on the page offering the payment QR")
	}
	failed := snap
	failed.State = payment.StateFailed
	m.Show(failed)
	if _, ok := m.Receipt(snap.OutTradeNo, link); ok {
		t.Error("a receipt went on a failed result")
	}
	paid := snap
	paid.OutTradeNo, paid.State = "QK20250314151000B1C2", payment.StatePaid
	before, _ := m.Show(paid)
	if _, ok := m.Receipt(snap.OutTradeNo, link); ok {
		t.Error("another sale's receipt went on this sale's Paid result")
	}
	v, ok := m.Receipt(paid.OutTradeNo, link)
	if !ok || v.Receipt != link || len(v.ReceiptModules) == 0 {
		t.Fatalf("no receipt on its own Paid result: ok=%v receipt=%q", ok, v.Receipt)
	}
	if v.Hold != ReceiptHold || v.Seq == before.Seq || v.Amount != before.Amount || v.Page != PageResult {
		t.Errorf("with its receipt the result is held %v (want %v), seq %d after %d, amount %q (want %q)", v.Hold, ReceiptHold, v.Seq, before.Seq, v.Amount, before.Amount)
	}
	if _, ok := m.EndHold(before.Seq); ok {
		t.Error("the Paid result's first hold ended the page that shows the receipt")
	}
	if w, ok := m.EndHold(v.Seq); !ok || w.Page != PageIdle || w.Receipt != "" {
		t.Errorf("after the receipt's hold: page %v receipt %q, want the welcome without one", w.Page, w.Receipt)
	}
}
