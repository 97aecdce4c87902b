package ui

import (
	"context"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"qrkiosk/internal/journal"
	"qrkiosk/internal/pin"
	"qrkiosk/internal/settle"
	"qrkiosk/payment"
	"qrkiosk/payment/paymenttest"
	"qrkiosk/payment/qfpay"
	"qrkiosk/sim/qfpaysim"
)

const (
	simApp = "UITESTAPP0000000000000000000001"
	simKey = "UITESTKEY0000000000000000000001"
)

// newSim is an in-process qfpay-sim on the test's clock and the project's
// client for it.
func newSim(t *testing.T, now func() time.Time) (*qfpaysim.Sim, *qfpay.Client) {
	t.Helper()
	sim := qfpaysim.New(qfpaysim.Config{AppCode: simApp, Key: simKey, Now: now})
	srv := httptest.NewServer(sim)
	sim.SetBaseURL(srv.URL)
	t.Cleanup(func() { srv.Close(); sim.Close() })
	c, err := qfpay.NewClient(simApp, simKey, qfpay.WithBaseURL(srv.URL), qfpay.WithRetry(2, time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	return sim, c
}

// testPINHash is a manager PIN hash with few iterations, so that the
// tests do not spend seconds in PBKDF2 under -race.
func testPINHash(t *testing.T, p string) string {
	t.Helper()
	h, err := pin.HashIter(p, 1000)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// countingRefunder counts the refunds that reach the gateway.
type countingRefunder struct {
	payment.Refunder
	calls atomic.Int32
}

func (c *countingRefunder) Refund(ctx context.Context, r payment.RefundRequest) (*payment.Transaction, error) {
	c.calls.Add(1)
	return c.Refunder.Refund(ctx, r)
}

// okRefunder is a gateway that accepts every refund.
type okRefunder struct{ calls atomic.Int32 }

func (r *okRefunder) Refund(ctx context.Context, req payment.RefundRequest) (*payment.Transaction, error) {
	r.calls.Add(1)
	return &payment.Transaction{SysSN: "RFSYS" + req.OutTradeNo, OutTradeNo: req.OutTradeNo, Code: qfpay.CodeSuccess, Status: payment.OutcomePaid}, nil
}

func (r *okRefunder) QueryRefund(ctx context.Context, req payment.RefundRequest) (*payment.Transaction, error) {
	return nil, payment.ErrNotFound
}

// sale rings up amount with wallet i and ends it: pay (at the sim or the
// fake gateway) or let it expire.
func (h *harness) sale(amount string, wallet int, pay bool) payment.Snapshot {
	h.t.Helper()
	test.Tap(h.c.wallets.buttons[wallet])
	h.tapKeys(keyClear)
	h.typeText(amount)
	test.Tap(h.c.keypad.charge)
	s := h.awaiting()
	switch {
	case pay && h.sim != nil:
		if err := h.sim.Pay(s.SysSN); err != nil {
			h.t.Fatal(err)
		}
		h.tick(2 * time.Second)
	case pay:
		h.gw.Pay(s.OutTradeNo)
		h.tick(2 * time.Second)
	default:
		h.tick(5 * time.Minute)
	}
	return h.ready()
}

func (h *harness) row(outTradeNo string) historyRow {
	h.t.Helper()
	for _, r := range h.c.tabs.history.rows {
		if r.order.OutTradeNo == outTradeNo {
			return r
		}
	}
	h.t.Fatalf("history has no row for %s", outTradeNo)
	return historyRow{}
}

// refund enters amount and pin in the open refund panel, taps Refund and
// waits for the answer.
func (h *harness) refund(amount, pin string) string {
	h.t.Helper()
	hv := h.c.tabs.history
	hv.refundAmount.SetText(amount)
	hv.refundPIN.SetText(pin)
	test.Tap(hv.refundGo)
	h.pump("the refund's answer", func() bool { return !hv.busy })
	return hv.refundMsg.Text
}

// refundPanelOpen is a kiosk on the simulator with manager PIN 2468, one
// paid HK$50.00 sale, and the refund panel open on it; rf counts the
// refunds that reach the gateway.
func refundPanelOpen(t *testing.T) (*harness, *countingRefunder, payment.Snapshot) {
	t.Helper()
	rf := &countingRefunder{}
	h := newHarness(t, harnessOpt{sim: true, pinHash: testPINHash(t, "2468"), refunder: rf})
	rf.Refunder = h.simClient
	paid := h.sale("50", 0, true)
	test.Tap(h.c.tabs.historyTab)
	test.Tap(h.row(paid.OutTradeNo).refund)
	return h, rf, paid
}

// labels joins the texts of a grid of labels with "|".
func labels(objs []fyne.CanvasObject) string {
	var cells []string
	for _, o := range objs {
		if l, ok := o.(*widget.Label); ok {
			cells = append(cells, l.Text)
		}
	}
	return strings.Join(cells, "|")
}

func TestHistoryListsJournaledOrdersAndTotals(t *testing.T) {
	h := newHarness(t, harnessOpt{wallets: []string{"alipayhk", "wechat"}})
	a := h.sale("12.34", 0, true)
	b := h.sale("5", 1, true)
	c := h.sale("7", 0, false)
	if c.State != payment.StateExpired {
		t.Fatalf("third sale %s", c.State)
	}
	test.Tap(h.c.tabs.historyTab)
	if !h.c.tabs.history.content.Visible() || h.c.sale.status.Visible() || h.c.wallets.grid.Visible() {
		t.Fatal("the history view did not replace the sale view")
	}
	if len(h.c.tabs.history.rows) != 3 || h.c.tabs.history.rows[0].order.OutTradeNo != c.OutTradeNo {
		t.Fatalf("rows %+v", h.c.tabs.history.rows)
	}
	for _, tc := range []struct {
		otn  string
		want []string
	}{
		{a.OutTradeNo, []string{"18:00:00", "HK$12.34", "Alipay HK", "PAID"}},
		{b.OutTradeNo, []string{"HK$5.00", "WeChat Pay", "PAID"}},
		{c.OutTradeNo, []string{"HK$7.00", "EXPIRED"}},
	} {
		r := h.row(tc.otn)
		for _, w := range tc.want {
			if !strings.Contains(r.text, w) {
				t.Errorf("row %q lacks %q", r.text, w)
			}
		}
		if (r.order.State == payment.StatePaid && r.order.PayType.Refundable) != (r.refund != nil) {
			t.Errorf("row %q: a Refund button only for paid orders", r.text)
		}
	}
	got := labels(h.c.tabs.history.totals.Objects)
	day, _ := h.j.Today(context.Background())
	if len(day.Totals) != 2 {
		t.Fatalf("journal totals %+v", day.Totals)
	}
	for _, want := range []string{"Alipay HK HKD|1 × HK$12.34|HK$0.00|HK$12.34", "WeChat Pay HKD|1 × HK$5.00|HK$0.00|HK$5.00"} {
		if !strings.Contains(got, want) {
			t.Errorf("totals %q lack %q", got, want)
		}
	}
	test.Tap(h.c.tabs.saleTab)
	if h.c.tabs.history.content.Visible() || !h.c.sale.status.Visible() || !h.c.wallets.grid.Visible() {
		t.Fatal("Sale did not come back")
	}
}

func TestRefundGuardedByManagerPIN(t *testing.T) {
	rf := &countingRefunder{}
	h := newHarness(t, harnessOpt{wallets: []string{"alipayhk", "fps"}, sim: true, pinHash: testPINHash(t, "2468"), refunder: rf})
	rf.Refunder = h.simClient
	paid := h.sale("50", 0, true)
	fps := h.sale("30", 1, true)
	if paid.State != payment.StatePaid || fps.State != payment.StatePaid {
		t.Fatalf("sales %s %s", paid.State, fps.State)
	}
	test.Tap(h.c.tabs.historyTab)
	test.Tap(h.row(paid.OutTradeNo).refund)
	hv := h.c.tabs.history
	if !hv.panel.Visible() || hv.refundAmount.Text != "50.00" {
		t.Fatalf("refund panel: visible %v, amount %q", hv.panel.Visible(), hv.refundAmount.Text)
	}

	if msg := h.refund("20.00", "1111"); !strings.Contains(msg, "Wrong manager PIN") || rf.calls.Load() != 0 {
		t.Fatalf("wrong PIN: %q, gateway refunds %d", msg, rf.calls.Load())
	}
	if msg := h.refund("20.00", "2468"); !strings.Contains(msg, "REFUNDED HK$20.00") || rf.calls.Load() != 1 {
		t.Fatalf("right PIN: %q, gateway refunds %d", msg, rf.calls.Load())
	}
	for _, o := range h.sim.Orders() {
		if o.OutTradeNo == paid.OutTradeNo && o.RefundedAmt != 2000 {
			t.Fatalf("the gateway refunded %d", o.RefundedAmt)
		}
	}
	if r := h.row(paid.OutTradeNo); !strings.Contains(r.text, "refunded HK$20.00") {
		t.Errorf("row %q", r.text)
	}
	if got := labels(hv.totals.Objects); !strings.Contains(got, "Alipay HK HKD|1 × HK$50.00|HK$20.00|HK$30.00") {
		t.Errorf("totals %q", got)
	}

	// More than remains: refused by the journal, nothing sent.
	test.Tap(h.row(paid.OutTradeNo).refund)
	if msg := h.refund("30.01", "2468"); !strings.Contains(msg, "30.00 left to refund") || rf.calls.Load() != 1 {
		t.Fatalf("over the remaining: %q, gateway refunds %d", msg, rf.calls.Load())
	}
	// The rest, then nothing is left.
	test.Tap(h.row(paid.OutTradeNo).refund)
	if msg := h.refund("", "2468"); !strings.Contains(msg, "REFUNDED HK$30.00") {
		t.Fatalf("the rest: %q", msg)
	}
	test.Tap(h.row(paid.OutTradeNo).refund)
	if !strings.Contains(hv.refundMsg.Text, "already fully refunded") || !hv.refundGo.Disabled() {
		t.Fatalf("fully refunded: %q", hv.refundMsg.Text)
	}

	// FPS: no Refund button, the row says what to do instead; the panel,
	// opened anyway, refuses at once with the journal's words and sends
	// nothing even when Refund is forced.
	if r := h.row(fps.OutTradeNo); r.refund != nil || !strings.Contains(r.text, "bank transfer") {
		t.Fatalf("FPS row offers a refund the gateway cannot make: %q", r.text)
	}
	hv.onRefundOrder(fps.OutTradeNo)
	if !strings.Contains(hv.refundMsg.Text, "cannot be refunded") || !hv.refundGo.Disabled() {
		t.Fatalf("FPS: %q", hv.refundMsg.Text)
	}
	hv.refundPIN.SetText("2468")
	hv.onRefundConfirm()
	if hv.busy || !strings.Contains(hv.refundMsg.Text, "cannot be refunded") || rf.calls.Load() != 2 {
		t.Fatalf("FPS forced: %q, gateway refunds %d", hv.refundMsg.Text, rf.calls.Load())
	}
}

func TestPaidLateBannerAndItsRefund(t *testing.T) {
	rf := &okRefunder{}
	// PayMe has no cancel: its QR stays payable after the screen says
	// Expired, and a payment then is the gateway's word (its notification).
	h := newHarness(t, harnessOpt{wallets: []string{"payme"}, pinHash: testPINHash(t, "2468"), refunder: rf})
	h.gw.NoCancel = true
	s := h.sale("12.34", 0, false)
	if s.State != payment.StateExpired || s.Withdrawn || h.c.alerts.content.Visible() {
		t.Fatalf("expired sale %+v, banner %v", s, h.c.alerts.content.Visible())
	}
	if !strings.Contains(h.c.sale.status.Text, "payable") || strings.Contains(h.c.sale.status.Text, "withdrawn") {
		t.Fatalf("status %q: the cashier must be told the QR stays payable", h.c.sale.status.Text)
	}
	// The customer's payment arrives after the screen showed Expired.
	h.gw.Pay(s.OutTradeNo)
	note := h.gw.Record(s.OutTradeNo)
	h.orders[len(h.orders)-1].Notify(note)
	h.pump("the paid-late banner", func() bool { return h.c.alerts.content.Visible() })
	if !strings.Contains(h.c.alerts.title.Text, "PAID LATE — HK$12.34 PayMe") || !strings.Contains(h.c.alerts.detail.Text, s.OutTradeNo) {
		t.Fatalf("banner %q / %q", h.c.alerts.title.Text, h.c.alerts.detail.Text)
	}
	// No other sale has started: the status line and the screens, which
	// still showed how this sale ended, now say it was paid.
	h.pump("the status line", func() bool { return strings.HasPrefix(h.c.sale.status.Text, "PAID LATE") })
	if last := h.shown[len(h.shown)-1]; last.State != payment.StatePaid || !last.Late {
		t.Errorf("customer screen last shown %s", last.State)
	}
	if h.c.amount.typed != "" || h.gw.Count("create") != 1 {
		t.Fatalf("the paid sale's amount stays typed (%q): Enter would charge the customer again", h.c.amount.typed)
	}
	h.w.Resize(h.w.Canvas().Size().AddWidthHeight(0, 1)) // lay out the shown banner
	if b := h.c.alerts.refund.Size(); b.Height < minTouch || b.Width < minTouch {
		t.Errorf("banner refund button %v", b)
	}

	test.Tap(h.c.alerts.refund)
	hv := h.c.tabs.history
	if !hv.content.Visible() || !hv.panel.Visible() || hv.selected != s.OutTradeNo || hv.refundAmount.Text != "12.34" {
		t.Fatalf("one-tap refund: panel %v for %q amount %q", hv.panel.Visible(), hv.selected, hv.refundAmount.Text)
	}
	if msg := h.refund(hv.refundAmount.Text, "9999"); !strings.Contains(msg, "Wrong manager PIN") || rf.calls.Load() != 0 {
		t.Fatalf("wrong PIN: %q", msg)
	}
	if msg := h.refund(hv.refundAmount.Text, "2468"); !strings.Contains(msg, "REFUNDED HK$12.34") || rf.calls.Load() != 1 {
		t.Fatalf("refund: %q", msg)
	}
	// The banner stays until it is acknowledged.
	if !h.c.alerts.content.Visible() {
		t.Fatal("the banner went away by itself")
	}
	test.Tap(h.c.alerts.ack)
	if h.c.alerts.content.Visible() {
		t.Fatal("the banner stayed after Seen")
	}
}

// TestPaidLateFPSOffersNoRefund: FPS cannot be refunded at the gateway, so
// its paid-late banner says to give the money back by bank transfer and
// has no Refund button that would then be refused.
func TestPaidLateFPSOffersNoRefund(t *testing.T) {
	h := newHarness(t, harnessOpt{wallets: []string{"fps"}, pinHash: testPINHash(t, "2468"), refunder: &okRefunder{}})
	h.gw.NoCancel = true
	s := h.sale("80", 0, false)
	h.gw.Pay(s.OutTradeNo)
	h.orders[len(h.orders)-1].Notify(h.gw.Record(s.OutTradeNo))
	h.pump("the paid-late banner", func() bool { return h.c.alerts.content.Visible() })
	if h.c.alerts.refund.Visible() {
		t.Error("FPS paid late: the banner offers a refund the gateway cannot make")
	}
	if d := h.c.alerts.detail.Text; !strings.Contains(d, "bank transfer") {
		t.Errorf("banner %q does not say how to give the money back", d)
	}
}

// previousRun leaves an order the way a crash while its QR showed does:
// recorded, created at the gateway, not final.
func previousRun(t *testing.T, dir string, gw *paymenttest.Gateway) payment.Snapshot {
	t.Helper()
	clk := paymenttest.NewClock(t0.Add(-time.Minute))
	j, err := journal.Open(journal.Options{Dir: dir, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	hkd := mustCurrency(t, "HKD")
	ctx, cancel := context.WithCancel(context.Background())
	req := payment.CreateRequest{OutTradeNo: "QK-CRASHED-1", Amount: payment.Amount{Minor: 4200, Currency: hkd},
		PayType: mustPayType(t, "wechat"), Expiry: 5 * time.Minute, TxTime: clk.Now()}
	o, err := settle.Start(ctx, j, payment.MachineConfig{Gateway: gw, Clock: clk}, req)
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for o.Snapshot().State != payment.StateAwaitingPayment {
		if time.Now().After(deadline) {
			t.Fatal("the previous run's order never showed its QR")
		}
		time.Sleep(time.Millisecond)
	}
	cancel() // the power goes
	<-o.Closed()
	return o.Snapshot()
}

// recoverNow is the kiosk's start-up recovery on the harness's journal.
func (h *harness) recoverNow() {
	h.t.Helper()
	rec, err := settle.Recover(h.ctx, h.j, h.machine())
	if err != nil {
		h.t.Fatal(err)
	}
	h.orders = append(h.orders, rec.Orders...)
	h.c.onRecovered(rec.Orders, rec.Records, nil)
}

func TestRecoveryAtStartShowsTheResumedOrder(t *testing.T) {
	dir, gw := t.TempDir(), paymenttest.NewGateway()
	before := previousRun(t, dir, gw)
	h := newHarness(t, harnessOpt{dir: dir, gw: gw})
	h.c.hold("Checking what the last run left unfinished…")
	test.Tap(h.c.keypad.charge)
	if !h.c.keypad.charge.Disabled() || h.c.sale.live != "" {
		t.Fatal("charging must wait for the recovery")
	}
	h.recoverNow()
	s := h.awaiting()
	if s.OutTradeNo != before.OutTradeNo || s.QRCode != before.QRCode || h.c.sale.live != before.OutTradeNo || gw.Count("create") != 1 {
		t.Fatalf("resumed %+v, live %q, creates %d", s, h.c.sale.live, gw.Count("create"))
	}
	if h.amountShown() != "HK$42.00" || h.c.deps.Wallets[h.c.wallets.selected].Wallet != "wechat" || !strings.Contains(h.c.sale.status.Text, "Waiting for the customer") {
		t.Fatalf("cashier shows %q, wallet %d, status %q", h.amountShown(), h.c.wallets.selected, h.c.sale.status.Text)
	}
	if !s.Deadline.Equal(t0.Add(4 * time.Minute)) {
		t.Fatalf("the countdown runs to %v", s.Deadline)
	}
	// It ends as any order: paid now, with the cashier seeing it.
	gw.Pay(s.OutTradeNo)
	h.tick(2 * time.Second)
	if last := h.ready(); last.State != payment.StatePaid {
		t.Fatalf("resumed order ended %s", last.State)
	}
}

func TestRecoveryFindsOrderPaidWhileOffline(t *testing.T) {
	dir, gw := t.TempDir(), paymenttest.NewGateway()
	before := previousRun(t, dir, gw)
	gw.Pay(before.OutTradeNo) // the customer paid while the kiosk was down
	h := newHarness(t, harnessOpt{dir: dir, gw: gw})
	h.recoverNow()
	h.pump("the offline banner", func() bool { return h.c.alerts.content.Visible() })
	if !strings.Contains(h.c.alerts.title.Text, "PAID WHILE THE KIOSK WAS OFFLINE — HK$42.00") {
		t.Fatalf("banner %q", h.c.alerts.title.Text)
	}
	h.ready()
	test.Tap(h.c.tabs.historyTab)
	if r := h.row(before.OutTradeNo); !strings.Contains(r.text, "PAID (while offline)") {
		t.Fatalf("row %q", r.text)
	}
}

func TestKeypadTypesTheManagerPIN(t *testing.T) {
	rf := &okRefunder{}
	h := newHarness(t, harnessOpt{pinHash: testPINHash(t, "2468"), refunder: rf})
	s := h.sale("9", 0, true)
	h.tapKeys("4")
	test.Tap(h.c.tabs.historyTab)
	test.Tap(h.row(s.OutTradeNo).refund)
	h.tapKeys("2", "4", "6", "9", keyBack, "8")
	if h.c.tabs.history.refundPIN.Text != "2468" || h.c.amount.typed != "4" {
		t.Fatalf("PIN %q, sale amount %q", h.c.tabs.history.refundPIN.Text, h.c.amount.typed)
	}
	// Enter refunds; it never charges while the refund panel is open.
	h.w.Canvas().OnTypedKey()(&fyne.KeyEvent{Name: fyne.KeyReturn})
	h.pump("the refund", func() bool { return !h.c.tabs.history.busy })
	if !strings.Contains(h.c.tabs.history.refundMsg.Text, "REFUNDED HK$9.00") || h.c.sale.live != "" || len(h.orders) != 1 {
		t.Fatalf("refund %q, live %q, orders %d", h.c.tabs.history.refundMsg.Text, h.c.sale.live, len(h.orders))
	}
}

// A counter with only a touchscreen: a tap on the refund amount sends the
// keypad there (its first key replaces the amount proposed), a tap on the
// PIN sends it back, so a partial refund needs no keyboard.
func TestKeypadTypesAPartialRefundAmount(t *testing.T) {
	h, rf, paid := refundPanelOpen(t)
	hv := h.c.tabs.history
	if hv.refundAmount.Text != "50.00" {
		t.Fatalf("proposed %q", hv.refundAmount.Text)
	}

	test.Tap(hv.refundAmount)
	h.tapKeys("1", "2", keyPoint, "5", "0", "1")
	if hv.refundAmount.Text != "12.50" || !strings.Contains(hv.refundMsg.Text, "more than 2 decimal places") {
		t.Fatalf("amount %q, message %q", hv.refundAmount.Text, hv.refundMsg.Text)
	}
	if hv.refundPIN.Text != "" || hv.refundGo.Text != "Refund HK$12.50" {
		t.Fatalf("PIN %q, button %q", hv.refundPIN.Text, hv.refundGo.Text)
	}

	test.Tap(hv.refundPIN)
	h.tapKeys("2", "4", "6", "8")
	if hv.refundPIN.Text != "2468" || hv.refundAmount.Text != "12.50" {
		t.Fatalf("PIN %q, amount %q", hv.refundPIN.Text, hv.refundAmount.Text)
	}
	h.w.Canvas().OnTypedKey()(&fyne.KeyEvent{Name: fyne.KeyReturn})
	h.pump("the refund", func() bool { return !hv.busy })
	if !strings.Contains(hv.refundMsg.Text, "REFUNDED HK$12.50") || rf.calls.Load() != 1 {
		t.Fatalf("refund %q, gateway refunds %d", hv.refundMsg.Text, rf.calls.Load())
	}
	for _, o := range h.sim.Orders() {
		if o.OutTradeNo == paid.OutTradeNo && o.RefundedAmt != 1250 {
			t.Fatalf("the gateway refunded %d", o.RefundedAmt)
		}
	}
}

// Guessing the manager PIN: five wrong in a row lock refunds for a
// minute, during which even the right PIN refunds nothing; then it works.
func TestManagerPINLocksAfterWrongTries(t *testing.T) {
	h, rf, _ := refundPanelOpen(t)
	for i := 1; i <= pin.MaxTries; i++ {
		msg := h.refund("10.00", "1111")
		if !strings.Contains(msg, "Wrong manager PIN") || strings.Contains(msg, "locked") != (i == pin.MaxTries) {
			t.Fatalf("wrong PIN %d: %q", i, msg)
		}
	}
	if msg := h.refund("10.00", "2468"); !strings.Contains(msg, "locked for 1 min") || rf.calls.Load() != 0 {
		t.Fatalf("right PIN while locked: %q, gateway refunds %d", msg, rf.calls.Load())
	}
	h.clk.Advance(pin.Lockout)
	if msg := h.refund("10.00", "2468"); !strings.Contains(msg, "REFUNDED HK$10.00") || rf.calls.Load() != 1 {
		t.Fatalf("right PIN after the lockout: %q, gateway refunds %d", msg, rf.calls.Load())
	}
}
