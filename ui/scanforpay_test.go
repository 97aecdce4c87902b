package ui

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"qrkiosk/display"
	"qrkiosk/internal/kiosk"
	"qrkiosk/internal/proctest"
	"qrkiosk/payment"
	"qrkiosk/payment/paymenttest"
)

// The app in demo mode on ScanForPay, headless: the cashier pane on the
// real assembled kiosk (the ScanForPay simulator and a relay in process)
// rings up a sale, the QR shows, the demo customer pays, and the payment
// reaches the pane through simulator → signed notification → relay →
// kiosk → order machine.
func TestDemoSaleOnScanForPay(t *testing.T) {
	app := test.NewTempApp(t)
	cfg := filepath.Join(t.TempDir(), "config.toml")
	if err := os.WriteFile(cfg, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	var logs proctest.Buffer
	log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelInfo}))
	k, err := kiosk.Open(kiosk.Options{DataDir: t.TempDir(), Getenv: func(k string) string {
		if k == "QRKIOSK_CONFIG" {
			return cfg
		}
		return ""
	}, Logger: log, DemoIfUnconfigured: true, DemoHost: "127.0.0.1", DemoGateway: "scanforpay"})
	if err != nil {
		t.Fatal(err)
	}
	defer k.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	queued := make(chan func(), 256)
	var shown []payment.Snapshot
	c := newCashier(cashierDeps{
		Currency: k.Config.Currency, Wallets: k.Config.PayTypes, Expiry: k.Config.Expiry, Prefs: app.Preferences(),
		Start: func(req payment.CreateRequest, observe func(payment.Event)) (*payment.Order, error) {
			return k.Start(req, observe)
		},
		Journal: k.Journal, Refunder: k.Gateway, ManagerPINHash: k.Config.ManagerPINHash, Ctx: ctx,
		Do: func(f func()) { queued <- f },
		// Past every deadline: no countdown ticks from a timer goroutine.
		Mirror: display.NewScreen(display.ScreenConfig{Wallets: k.Config.PayTypes, Demo: true,
			Now: func() time.Time { return time.Now().Add(24 * time.Hour) }, ResultHold: time.Hour}),
		Show: func(s payment.Snapshot) { shown = append(shown, s) },
		Demo: k.Demo, Log: log, CPM: cpmPayType(k.Gateway),
	})
	defer c.close()
	w := test.NewWindow(c.content)
	defer w.Close()
	w.Resize(fyne.NewSize(1200, 800))
	c.attach(w.Canvas())
	pump := func(what string, cond func() bool) {
		t.Helper()
		deadline := time.After(15 * time.Second)
		for !cond() {
			select {
			case f := <-queued:
				f()
			case <-deadline:
				t.Fatalf("timed out waiting for %s; status %q\n%s", what, c.sale.status.Text, logs.String())
			}
		}
	}
	last := func() payment.Snapshot {
		if len(shown) == 0 {
			return payment.Snapshot{}
		}
		return shown[len(shown)-1]
	}

	var labels []string
	for _, b := range c.wallets.buttons {
		// The English name, and the Chinese where the button is wide enough.
		en, _, _ := strings.Cut(b.Text, "  ")
		labels = append(labels, en)
	}
	if got := strings.Join(labels, "|"); got != "Alipay|WeChat Pay" || c.scan.button == nil {
		t.Fatalf("wallets %q, scan button %v: ScanForPay takes Alipay and WeChat Pay, and scanned codes", got, c.scan.button != nil)
	}
	test.Tap(c.wallets.buttons[1])
	for _, key := range []string{"1", "2", keyPoint, "3", "4"} {
		test.Tap(c.keypad.keys[key])
	}
	test.Tap(c.keypad.charge)
	pump("the QR", func() bool { return last().State == payment.StateAwaitingPayment && last().QRCode != "" })
	// With the relay link up the machine polls every 15 s only: a payment
	// seen within seconds came by push.
	pump("the relay link", func() bool { return last().PushUp })
	if !strings.Contains(c.sale.status.Text, "push connected") {
		t.Fatalf("status %q", c.sale.status.Text)
	}
	test.Tap(c.demo.pay)
	pump("paid", func() bool { return c.sale.live == "" })
	s := last()
	if s.State != payment.StatePaid || s.PayType.Wallet != "wechat" || s.Amount.String() != "12.34" || !strings.HasPrefix(c.sale.status.Text, "PAID — HK$12.34 WeChat Pay") {
		t.Fatalf("ended %s %s %s, status %q", s.State, s.PayType.Wallet, s.Amount, c.sale.status.Text)
	}
	// The machine logs how it learnt the payment just after it turns Paid.
	paidBy := `msg="order paid" out_trade_no=` + s.OutTradeNo + ` source=`
	paymenttest.Eventually(t, "the machine's log of the payment", 5*time.Second, func() bool { return strings.Contains(logs.String(), paidBy) })
	if !strings.Contains(logs.String(), paidBy+"push") {
		t.Fatalf("not paid by push:\n%s", logs.String())
	}
	o, err := k.Journal.Order(context.Background(), s.OutTradeNo)
	if err != nil || o.Gateway != "scanforpay" || o.State != payment.StatePaid {
		t.Fatalf("journal %+v, %v", o, err)
	}
}
