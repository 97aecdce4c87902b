package ui

import (
	"context"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"qrkiosk/payment"
)

// A customer's payment code as a scanner reads it (18 digits).
const scannedCode = "287654321098765432"

// Key gaps: a USB scanner types a key every few milliseconds; a quick
// person every 80 ms or so, and a very quick one 35 ms.
const (
	scannerGap = 4 * time.Millisecond
	personGap  = 120 * time.Millisecond
	quickGap   = 35 * time.Millisecond
)

func (h *harness) last() payment.Snapshot {
	if len(h.shown) == 0 {
		return payment.Snapshot{}
	}
	return h.shown[len(h.shown)-1]
}

// confirming waits until the customer is asked to approve the payment on
// the phone (the gateway answered 1145).
func (h *harness) confirming() payment.Snapshot {
	h.t.Helper()
	h.pump("the customer confirming on the phone", func() bool { return h.last().Confirming })
	return h.last()
}

// On the tablet (single layout, demo, no mouse): 8.80 typed at a person's
// pace, then a scanner's burst of 18 digits and Enter charges 8.80 as a
// scanned code: no QR anywhere, Paid, one CPM order in the journal, and
// the digits never reach the amount.
func TestScannerBurstChargesTheTypedAmount(t *testing.T) {
	h := newHarness(t, harnessOpt{single: true, demo: true})
	h.typeAt(personGap, "8.80")
	if got := h.amountShown(); got != "HK$8.80" {
		t.Fatalf("typed %q", got)
	}
	h.typeAt(scannerGap, scannedCode+"\n")
	s := h.confirming()
	if codes := h.gw.AuthCodes(); len(codes) != 1 || codes[0] != scannedCode || h.gw.Count("create") != 0 {
		t.Fatalf("gateway got codes %q, calls %v: one CPM charge of the scanned code", codes, h.gw.Calls())
	}
	if s.Amount.Minor != 880 || s.PayType.Mode != payment.CPM || s.PayType.Code != payment.AllInOneCPM {
		t.Fatalf("charged %+v", s)
	}
	if !h.single.charging.Visible() || h.single.keypad.Visible() || !strings.Contains(h.c.sale.status.Text, "confirming on the phone") {
		t.Fatalf("the tablet shows the customer screen while the customer confirms; status %q", h.c.sale.status.Text)
	}
	h.gw.Pay(s.OutTradeNo)
	h.tick(2500 * time.Millisecond)
	if end := h.ready(); end.State != payment.StatePaid {
		t.Fatalf("ended %v", end.State)
	}
	for _, snap := range h.shown {
		if snap.QRCode != "" {
			t.Fatalf("a QR was shown for a scanned code: %+v", snap)
		}
	}
	day, err := h.j.Today(context.Background())
	if err != nil || len(day.Orders) != 1 || day.Orders[0].PayType.Mode != payment.CPM || day.Orders[0].Amount.String() != "8.80" || day.Orders[0].State != payment.StatePaid {
		t.Fatalf("journal %+v, %v: one paid CPM order of 8.80", day.Orders, err)
	}
	if h.c.amount.typed != "" {
		t.Fatalf("amount %q after the sale", h.c.amount.typed)
	}
}

// A person typing, however quickly, is typing: digits go to the amount in
// order, Enter charges a QR, and nothing is charged as a scanned code.
func TestPersonTypingIsNeverAScan(t *testing.T) {
	h := newHarness(t, harnessOpt{})
	h.typeAt(quickGap, "1234567890123456")
	if h.gw.Count("cpm") != 0 || h.c.amount.typed != "123456789" || !strings.Contains(h.c.sale.message.Text, "Amount") {
		t.Fatalf("16 digits typed by hand: typed %q message %q calls %v", h.c.amount.typed, h.c.sale.message.Text, h.gw.Calls())
	}
	h.tapKeys(keyClear)
	h.typeAt(quickGap, "12.5\n")
	s := h.awaiting()
	if s.Amount.Minor != 1250 || s.PayType.Mode != payment.MPM || h.gw.Count("cpm") != 0 {
		t.Fatalf("12.5 and Enter typed by hand: %+v, calls %v", s, h.gw.Calls())
	}
}

// A scan without an amount charges nothing and says what to do first; the
// code's digits do not become the amount.
func TestScanWithoutAmountAsksForIt(t *testing.T) {
	h := newHarness(t, harnessOpt{})
	h.typeAt(scannerGap, scannedCode+"\n")
	if h.c.sale.message.Text != enterAmountFirst || h.c.amount.typed != "" || len(h.gw.Calls()) != 0 {
		t.Fatalf("message %q typed %q calls %v", h.c.sale.message.Text, h.c.amount.typed, h.gw.Calls())
	}
	test.Tap(h.c.scan.button)
	if h.c.sale.message.Text != enterAmountFirst || h.c.scan.waiting || len(h.asked) != 0 {
		t.Fatalf("Scan customer code without an amount: message %q scanning %v", h.c.sale.message.Text, h.c.scan.waiting)
	}
}

// A scan while a sale is live is not used: the customer is never charged
// twice, and the live sale goes on.
func TestScanDuringALiveSaleIsNotUsed(t *testing.T) {
	h := newHarness(t, harnessOpt{})
	h.typeAt(personGap, "20")
	test.Tap(h.c.keypad.charge)
	h.awaiting()
	h.typeAt(scannerGap, scannedCode+"\n")
	if h.gw.Count("cpm") != 0 || !strings.Contains(h.c.sale.message.Text, "not used") || h.c.sale.live == "" {
		t.Fatalf("message %q calls %v live %q", h.c.sale.message.Text, h.gw.Calls(), h.c.sale.live)
	}
}

// "Scan customer code" asks the customer for the code (both screens), and
// its dialog takes the code by hand when the scanner cannot read it: a
// code of the wrong length is refused there with nothing sent.
func TestScanButtonTakesACodeTypedByHand(t *testing.T) {
	h := newHarness(t, harnessOpt{})
	h.typeAt(personGap, "45")
	test.Tap(h.c.scan.button)
	if len(h.asked) != 1 || h.asked[0].Minor != 4500 || h.c.scan.codePad == nil || h.c.dialogs.modal != h.c.scan.codePad {
		t.Fatalf("asked %v, dialog %v", h.asked, h.c.scan.codePad != nil)
	}
	if !h.c.keypad.charge.Disabled() || !h.c.keypad.keys["1"].Disabled() || h.c.keypad.cancel.Disabled() {
		t.Fatal("while waiting for the scan the amount is fixed and Cancel stops")
	}
	pad := h.c.scan.codePad
	for _, k := range "28765432109876" { // 14 digits
		test.Tap(pad.keys[string(k)])
	}
	if pad.dots.Text != "2876 5432 1098 76" {
		t.Fatalf("the code shows %q", pad.dots.Text)
	}
	test.Tap(pad.ok)
	if h.gw.Count("cpm") != 0 || !strings.Contains(pad.message.Text, "16 to 24 digits; 14 typed") || pad.typed != "28765432109876" {
		t.Fatalf("14 digits: message %q typed %q calls %v", pad.message.Text, pad.typed, h.gw.Calls())
	}
	for _, k := range "5432" {
		test.Tap(pad.keys[string(k)])
	}
	test.Tap(pad.ok)
	s := h.confirming()
	if codes := h.gw.AuthCodes(); len(codes) != 1 || codes[0] != scannedCode || s.Amount.Minor != 4500 || h.c.dialogs.modal != nil {
		t.Fatalf("codes %q snapshot %+v dialog open %v", codes, s, h.c.dialogs.modal != nil)
	}
}

// While the dialog waits, the scanner's burst is the code: it charges the
// amount the customer screen shows and closes the dialog.
func TestScanWhileTheDialogWaits(t *testing.T) {
	h := newHarness(t, harnessOpt{})
	h.typeAt(personGap, "9.9")
	test.Tap(h.c.scan.button)
	h.typeAt(scannerGap, scannedCode+"\n")
	s := h.confirming()
	if s.Amount.Minor != 990 || h.c.dialogs.modal != nil || h.c.scan.waiting || h.gw.Count("cpm") != 1 {
		t.Fatalf("snapshot %+v dialog %v scanning %v calls %v", s, h.c.dialogs.modal != nil, h.c.scan.waiting, h.gw.Calls())
	}
}

// Esc stops waiting for the scan: the customer screen goes back to its
// welcome, the amount stays, and nothing was sent.
func TestStopWaitingForTheScan(t *testing.T) {
	h := newHarness(t, harnessOpt{})
	h.typeAt(personGap, "30")
	test.Tap(h.c.scan.button)
	h.w.Canvas().OnTypedKey()(&fyne.KeyEvent{Name: fyne.KeyEscape})
	if h.c.scan.waiting || h.c.dialogs.modal != nil || h.idled != 1 || h.c.amount.typed != "30" || len(h.gw.Calls()) != 0 || h.c.keypad.charge.Disabled() {
		t.Fatalf("after Esc: scanning %v dialog %v idled %d typed %q calls %v", h.c.scan.waiting, h.c.dialogs.modal != nil, h.idled, h.c.amount.typed, h.gw.Calls())
	}
	// Cancel on the keypad does the same (the dialog's own Cancel too).
	test.Tap(h.c.scan.button)
	test.Tap(h.c.scan.codePad.cancel)
	if h.c.scan.waiting || h.idled != 2 {
		t.Fatalf("after the dialog's Cancel: scanning %v idled %d", h.c.scan.waiting, h.idled)
	}
}

// On the tablet the customer screen itself asks for the code, with
// Cancel and Type the code below; the dialog's Cancel goes back to it.
func TestTabletAsksForTheCodeOnTheCustomerScreen(t *testing.T) {
	h := newHarness(t, harnessOpt{single: true})
	h.typeAt(personGap, "12")
	test.Tap(h.c.scan.button)
	s := h.single
	if !s.charging.Visible() || !s.typeCode.Visible() || !s.cancel.Visible() || h.c.dialogs.modal != nil {
		t.Fatalf("the customer screen asks: charging %v, Type the code %v, dialog %v", s.charging.Visible(), s.typeCode.Visible(), h.c.dialogs.modal != nil)
	}
	test.Tap(s.typeCode)
	if h.c.scan.codePad == nil {
		t.Fatal("Type the code opened no dialog")
	}
	test.Tap(h.c.scan.codePad.cancel)
	if !h.c.scan.waiting || !s.charging.Visible() {
		t.Fatal("the dialog's Cancel stops typing, not the wait for the scan")
	}
	test.Tap(s.cancel)
	if h.c.scan.waiting || !s.keypad.Visible() || h.c.amount.typed != "12" {
		t.Fatalf("Cancel: scanning %v keypad %v typed %q", h.c.scan.waiting, s.keypad.Visible(), h.c.amount.typed)
	}
}

// Not confirmed on the phone within 2 minutes: withdrawn, Failed, and the
// cashier is told to charge again.
func TestUnconfirmedScanFailsAfterTwoMinutes(t *testing.T) {
	h := newHarness(t, harnessOpt{})
	h.typeAt(personGap, "5")
	h.typeAt(scannerGap, scannedCode+"\n")
	h.confirming()
	for i := 0; i < 48; i++ {
		h.tick(2500 * time.Millisecond)
	}
	end := h.ready()
	if end.State != payment.StateFailed || !end.NotConfirmed || !strings.Contains(h.c.sale.status.Text, "charge again") {
		t.Fatalf("ended %+v, status %q", end, h.c.sale.status.Text)
	}
	if h.gw.Count("cpm") != 1 {
		t.Fatalf("calls %v: the code is charged once", h.gw.Calls())
	}
}

// A gateway without scanned codes: no button, and a scan says so.
func TestNoScanOnAGatewayWithoutCPM(t *testing.T) {
	h := newHarness(t, harnessOpt{noCPM: true})
	if h.c.scan.button != nil {
		t.Fatal("a scan button on a gateway that takes no scanned codes")
	}
	h.typeAt(personGap, "5")
	h.typeAt(scannerGap, scannedCode+"\n")
	if len(h.gw.Calls()) != 0 || !strings.Contains(h.c.sale.message.Text, "no scanned payment codes") || h.c.amount.typed != "5" {
		t.Fatalf("message %q typed %q calls %v", h.c.sale.message.Text, h.c.amount.typed, h.gw.Calls())
	}
}

// A product's barcode scanned by mistake (13 digits and Enter) is not a
// payment code: nothing is typed, and its Enter charges nothing.
func TestProductBarcodeChargesNothing(t *testing.T) {
	h := newHarness(t, harnessOpt{})
	h.typeAt(personGap, "20")
	h.typeAt(scannerGap, "4006381333931\n")
	if len(h.gw.Calls()) != 0 || h.c.amount.typed != "20" || !strings.Contains(h.c.sale.message.Text, "not a payment code (13 digits)") {
		t.Fatalf("typed %q message %q calls %v", h.c.amount.typed, h.c.sale.message.Text, h.gw.Calls())
	}
}

// A payment that arrives late for the previous sale raises the banner,
// but does not put "Paid" over the customer screen that is asking the
// next customer for their payment code: they would think they had paid.
func TestPaidLateDuringScanLeavesTheCustomerScreen(t *testing.T) {
	h := newHarness(t, harnessOpt{wallets: []string{"payme"}})
	h.gw.NoCancel = true
	s := h.sale("12.34", 0, false)
	if s.State != payment.StateExpired || s.Withdrawn {
		t.Fatalf("expired sale %+v", s)
	}
	h.typeAt(personGap, "45")
	test.Tap(h.c.scan.button)
	if !h.c.scan.waiting || len(h.asked) != 1 {
		t.Fatalf("scanning %v, asked %v", h.c.scan.waiting, h.asked)
	}
	shown := len(h.shown)
	late := s
	late.State, late.Late = payment.StatePaid, true
	h.c.onEvent(payment.Event{Snapshot: late, Kind: payment.EventPaidLate})
	if len(h.shown) != shown || !h.c.scan.waiting || strings.HasPrefix(h.c.sale.status.Text, "PAID LATE") {
		t.Fatalf("customer screen shown %v since the scan began, scanning %v, status %q: the ask for a code must stay",
			h.shown[shown:], h.c.scan.waiting, h.c.sale.status.Text)
	}
}
