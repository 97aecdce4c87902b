package ui

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"

	"qrkiosk/internal/kiosk"
	"qrkiosk/payment"
)

// posSale is a sale as the POS endpoint starts it through the till, off
// the Fyne goroutine.
func (h *harness) posSale(ref, amount, wallet string) kiosk.Sale {
	h.t.Helper()
	amt, err := payment.ParseAmount(amount, mustCurrency(h.t, "HKD"))
	if err != nil {
		h.t.Fatal(err)
	}
	s, err := h.c.deps.Till.Start(payment.CreateRequest{OutTradeNo: ref, Amount: amt, PayType: mustPayType(h.t, wallet),
		Expiry: 5 * time.Minute, TxTime: h.clk.Now()}, ref, true)
	if err != nil {
		h.t.Fatal(err)
	}
	return s
}

// A sale the POS sends shows on the customer screen and the mirror like a
// typed one, its amount and wallet on the pane and its reference on the
// status line; the keypad cannot start another meanwhile, and it ends as
// a typed sale ends.
func TestPOSSaleShowsLikeATypedOne(t *testing.T) {
	h := newHarness(t, harnessOpt{})
	const ref = "f1c2e3d4-a5b6-4c7d--17--3"
	s := h.posSale(ref, "12.34", "wechat")
	snap := h.awaiting()
	if snap.OutTradeNo != ref || snap.Amount.Minor != 1234 || snap.PayType.Wallet != "wechat" {
		t.Fatalf("customer screen shows %+v", snap)
	}
	if h.c.sale.live != ref || h.c.sale.order != s.Order {
		t.Fatalf("live %q", h.c.sale.live)
	}
	if st := h.c.sale.status.Text; !strings.HasPrefix(st, "POS sale "+ref+" — Waiting for the customer to scan — HK$12.34 WeChat Pay") {
		t.Fatalf("status %q", st)
	}
	if got := h.amountShown(); got != "HK$12.34" {
		t.Fatalf("amount %q", got)
	}
	if !h.c.keypad.charge.Disabled() {
		t.Fatal("Charge is enabled during the POS's sale")
	}
	h.typeText("5\n")
	test.Tap(h.c.keypad.charge)
	if n := h.gw.Count("create"); n != 1 {
		t.Fatalf("%d orders created; the POS's sale must be the only one", n)
	}
	if err := h.gw.Pay(ref); err != nil {
		t.Fatal(err)
	}
	h.tick(2 * time.Second)
	end := h.ready()
	if end.State != payment.StatePaid || !strings.HasPrefix(h.c.sale.status.Text, "POS sale "+ref+" — PAID") {
		t.Fatalf("end %v, status %q", end.State, h.c.sale.status.Text)
	}
	// The next typed sale is the cashier's own again.
	h.sale("3.00", 0, false)
	if st := h.c.sale.status.Text; strings.Contains(st, "POS") {
		t.Fatalf("the cashier's sale is named as the POS's: %q", st)
	}
}

// While the cashier's own sale is live, the POS is told the kiosk is busy
// and nothing is started for it.
func TestPOSSaleRefusedWhileTheCashierCharges(t *testing.T) {
	h := newHarness(t, harnessOpt{})
	h.typeText("7")
	test.Tap(h.c.keypad.charge)
	h.awaiting()
	amt, _ := payment.ParseAmount("12.34", mustCurrency(t, "HKD"))
	_, err := h.c.deps.Till.Start(payment.CreateRequest{OutTradeNo: "u--1--2", Amount: amt, PayType: mustPayType(t, "wechat"), TxTime: h.clk.Now()}, "u--1--2", true)
	if !errors.Is(err, kiosk.ErrBusy) || !strings.Contains(err.Error(), "HK$7.00") {
		t.Fatalf("err %v", err)
	}
	if n := h.gw.Count("create"); n != 1 {
		t.Fatalf("%d orders created", n)
	}
}

// A POS sale by the customer's code (SCAN_PAY) waits for the scanner on
// the pane and the customer screen; the scanned code is charged for the
// POS's amount under its out_trade_no.
func TestPOSScanSale(t *testing.T) {
	h := newHarness(t, harnessOpt{})
	amt, _ := payment.ParseAmount("8.80", mustCurrency(t, "HKD"))
	tk, err := h.c.deps.Till.AskForCode(kiosk.Wait{Amount: amt, POSRef: "u--4--2", OutTradeNo: "u--4--2", FromPOS: true})
	if err != nil {
		t.Fatal(err)
	}
	h.pump("the wait for the scanner", func() bool { return h.c.scan.waiting })
	if len(h.asked) != 1 || h.asked[0].Minor != 880 || !strings.Contains(h.c.sale.status.Text, "POS sale u--4--2 — Scan the customer's payment code — HK$8.80") {
		t.Fatalf("asked %v status %q", h.asked, h.c.sale.status.Text)
	}
	h.c.onScanned("287654321098765432")
	s, err := tk.Result()
	if err != nil {
		t.Fatal(err)
	}
	snap := s.Order.Snapshot()
	if snap.OutTradeNo != "u--4--2" || snap.Amount.Minor != 880 || snap.PayType.Mode != payment.CPM || h.c.sale.live != "u--4--2" {
		t.Fatalf("sale %+v, live %q", snap, h.c.sale.live)
	}
	h.pump("the POS's reference on the status line", func() bool { return strings.HasPrefix(h.c.sale.status.Text, "POS sale u--4--2") })
}

// The POS withdrawing its scan sale puts the pane back to ready, and
// Esc on the pane tells the POS the wait was cancelled at the kiosk.
func TestPOSScanSaleEnded(t *testing.T) {
	h := newHarness(t, harnessOpt{})
	amt, _ := payment.ParseAmount("8.80", mustCurrency(t, "HKD"))
	tk, _ := h.c.deps.Till.AskForCode(kiosk.Wait{Amount: amt, POSRef: "u--5--2", FromPOS: true})
	h.pump("the wait", func() bool { return h.c.scan.waiting })
	h.c.deps.Till.Cancel("cancelled by the POS", true)
	h.pump("ready", func() bool { return !h.c.scan.waiting })
	if h.idled == 0 || h.c.sale.status.Text != readyText {
		t.Fatalf("idled %d status %q", h.idled, h.c.sale.status.Text)
	}
	if _, err := tk.Result(); err == nil || err.Error() != "cancelled by the POS" {
		t.Fatalf("ticket %v", err)
	}

	tk, _ = h.c.deps.Till.AskForCode(kiosk.Wait{Amount: amt, POSRef: "u--6--2", FromPOS: true})
	h.pump("the wait", func() bool { return h.c.scan.waiting })
	h.c.scan.closePad()
	h.c.onCancel()
	if _, err := tk.Result(); err == nil || err.Error() != "cancelled at the kiosk" {
		t.Fatalf("ticket %v", err)
	}
}

// askRefund is the POS's refund ask as the endpoint makes it, waiting in
// the background; its decision arrives on the channel.
func (h *harness) askRefund(ctx context.Context) <-chan error {
	amt, _ := payment.ParseAmount("12.50", mustCurrency(h.t, "HKD"))
	done := make(chan error, 1)
	go func() {
		_, err := h.c.deps.Till.AskRefund(ctx, kiosk.RefundAsk{Order: "QK1", SysSN: "2025", Amount: amt, POSRef: "u--1--2"})
		done <- err
	}()
	return done
}

// decided pumps the pane until the refund ask's decision arrives.
func (h *harness) decided(done <-chan error) error {
	h.t.Helper()
	deadline := time.After(5 * time.Second)
	for {
		select {
		case err := <-done:
			return err
		case f := <-h.queued:
			f()
		case <-deadline:
			h.t.Fatalf("no decision on the refund; status %q", h.c.sale.status.Text)
		}
	}
}

// A refund the POS asks for moves nothing until the manager PIN is typed
// on the kiosk: a wrong PIN is refused and the ask stays; the right one
// approves it; Decline refuses it; without a manager PIN configured it is
// refused at once.
func TestPOSRefundNeedsTheManagerPIN(t *testing.T) {
	h := newHarness(t, harnessOpt{pinHash: testPINHash(t, "2468")})
	done := h.askRefund(context.Background())
	h.pump("the PIN pad", func() bool { return h.c.dialogs.modal != nil })
	pad := h.c.dialogs.modal
	if !strings.Contains(pad.ok.Text, "Refund") || !strings.Contains(h.c.sale.status.Text, "HK$12.50 of sale QK1 (POS ref u--1--2)") {
		t.Fatalf("pad %q status %q", pad.ok.Text, h.c.sale.status.Text)
	}
	for _, k := range "1111" {
		pad.onKey(string(k))
	}
	pad.onConfirm()
	h.pump("the wrong PIN refused", func() bool { return pad.message.Text == "Wrong manager PIN." })
	select {
	case err := <-done:
		t.Fatalf("decided after a wrong PIN: %v", err)
	default:
	}
	for _, k := range "2468" {
		pad.onKey(string(k))
	}
	pad.onConfirm()
	h.pump("the pad closed", func() bool { return h.c.dialogs.modal == nil })
	if err := h.decided(done); err != nil {
		t.Fatalf("approved: %v", err)
	}
	h.c.deps.Till.RefundDone(kiosk.RefundAsk{ID: h.c.posRefund.ask.ID}, "refunded")
	h.pump("the outcome", func() bool { return strings.Contains(h.c.sale.status.Text, ": refunded") })

	done = h.askRefund(context.Background())
	h.pump("the PIN pad", func() bool { return h.c.dialogs.modal != nil })
	h.c.dialogs.modal.close()
	if err := h.decided(done); !errors.Is(err, kiosk.ErrRefundDeclined) || !strings.Contains(err.Error(), "declined at the kiosk") {
		t.Fatalf("declined: %v", err)
	}

	// Nobody at the counter: the ask times out and its pad goes.
	ctx, cancel := context.WithCancel(context.Background())
	done = h.askRefund(ctx)
	h.pump("the PIN pad", func() bool { return h.c.dialogs.modal != nil })
	cancel()
	if err := h.decided(done); !errors.Is(err, kiosk.ErrRefundDeclined) {
		t.Fatalf("timed out: %v", err)
	}
	h.pump("the pad gone", func() bool { return h.c.dialogs.modal == nil })

	off := newHarness(t, harnessOpt{})
	if err := off.decided(off.askRefund(context.Background())); !errors.Is(err, kiosk.ErrRefundDeclined) || !strings.Contains(err.Error(), "no manager PIN is configured") {
		t.Fatalf("without a manager PIN: %v", err)
	}
}
