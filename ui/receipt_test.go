package ui

import (
	"context"
	"strings"
	"sync"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"qrkiosk/internal/escpos"
	"qrkiosk/internal/kiosk"
)

// fakePrinter stands in for the kiosk's printer: it records what it is
// asked to print and reports each slip as done, or failed with err.
type fakePrinter struct {
	auto bool

	mu        sync.Mutex
	err       error
	sales     []string
	refunds   []string
	summaries int
	watchers  []func(kiosk.PrintResult)
}

func (f *fakePrinter) Auto() bool { return f.auto }

func (f *fakePrinter) Watch(fn func(kiosk.PrintResult)) func() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.watchers = append(f.watchers, fn)
	return func() {}
}

func (f *fakePrinter) print(job, otn string, list *[]string) error {
	f.mu.Lock()
	if list != nil {
		*list = append(*list, otn)
	} else {
		f.summaries++
	}
	err, ws := f.err, f.watchers
	f.mu.Unlock()
	for _, w := range ws {
		w(kiosk.PrintResult{Job: job, OutTradeNo: otn, Err: err})
	}
	return err
}

func (f *fakePrinter) PrintSale(_ context.Context, otn string) error {
	return f.print(kiosk.JobSale, otn, &f.sales)
}

func (f *fakePrinter) PrintRefund(_ context.Context, otn string) error {
	return f.print(kiosk.JobRefund, otn, &f.refunds)
}

func (f *fakePrinter) PrintSummary(context.Context, string, string) error {
	return f.print(kiosk.JobSummary, "", nil)
}

func (f *fakePrinter) setErr(err error) {
	f.mu.Lock()
	f.err = err
	f.mu.Unlock()
}

func (f *fakePrinter) printed() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.sales...)
}

// After a paid sale the cashier prints its receipt with one tap; while a
// sale is being charged, or after one that was not paid, there is nothing
// to print.
func TestPrintReceiptAfterASale(t *testing.T) {
	p := &fakePrinter{}
	h := newHarness(t, harnessOpt{printer: p})
	r := h.c.receipt
	if r.row == nil || !r.button.Disabled() || !strings.Contains(r.label.Text, "tap Print receipt") {
		t.Fatalf("before any sale: row %v, button enabled %v, %q", r.row != nil, !r.button.Disabled(), r.label.Text)
	}
	paid := h.sale("12.34", 0, true)
	if r.button.Disabled() {
		t.Fatal("Print receipt is off after a paid sale")
	}
	test.Tap(r.button)
	h.pump("the receipt printed", func() bool { return strings.Contains(r.label.Text, "Receipt printed") })
	if got := p.printed(); len(got) != 1 || got[0] != paid.OutTradeNo {
		t.Fatalf("printed %v, want the sale %s", got, paid.OutTradeNo)
	}

	h.tapKeys("5")
	test.Tap(h.c.keypad.charge)
	h.awaiting()
	if !r.button.Disabled() {
		t.Error("Print receipt is on while the next sale is being charged")
	}
	h.tick(5 * 60e9) // expires
	h.ready()
	if !r.button.Disabled() {
		t.Error("Print receipt is on after a sale that was not paid")
	}
}

// A printer that is off leaves the sale paid; the cashier is told what is
// wrong and can print again once it is fixed.
func TestPrinterTroubleIsToldTheCashier(t *testing.T) {
	p := &fakePrinter{auto: true}
	p.setErr(&escpos.Error{Addr: "tcp://printer:9100", Err: escpos.ErrOffline})
	h := newHarness(t, harnessOpt{printer: p})
	r := h.c.receipt
	paid := h.sale("8.80", 0, true)
	if !strings.Contains(h.c.sale.status.Text, "PAID") || !strings.Contains(r.label.Text, "Printing the receipt") {
		t.Fatalf("status %q, printer %q", h.c.sale.status.Text, r.label.Text)
	}
	// The kiosk's own (auto) print fails: reported through Watch.
	go p.PrintSale(context.Background(), paid.OutTradeNo)
	h.pump("the printer's trouble", func() bool { return strings.Contains(r.label.Text, "Printer offline") })
	if r.label.Text != "Printer offline — receipt not printed; the sale is paid" || r.button.Text != "Reprint" || r.button.Disabled() {
		t.Fatalf("printer line %q, button %q", r.label.Text, r.button.Text)
	}
	if !strings.Contains(h.c.sale.status.Text, "PAID") {
		t.Errorf("status %q", h.c.sale.status.Text)
	}
	p.setErr(&escpos.Error{Err: escpos.ErrOutOfPaper})
	test.Tap(r.button)
	h.pump("out of paper", func() bool { return strings.HasPrefix(r.label.Text, "Out of paper") })
	p.setErr(nil)
	test.Tap(r.button)
	h.pump("printed at last", func() bool { return r.label.Text == "Receipt printed" })
}

// Today & refunds reprints any paid sale, a refund's slip, and the day's
// summary; without a printer it offers none of them.
func TestPrintFromTodayAndRefunds(t *testing.T) {
	p := &fakePrinter{}
	rf := &okRefunder{}
	h := newHarness(t, harnessOpt{printer: p, pinHash: testPINHash(t, "2468"), refunder: rf})
	paid := h.sale("50", 0, true)
	expired := h.sale("20", 0, false)
	test.Tap(h.c.tabs.historyTab)
	hv := h.c.tabs.history
	if row := h.row(expired.OutTradeNo); row.print != nil {
		t.Error("an expired sale offers a receipt")
	}
	row := h.row(paid.OutTradeNo)
	if row.print == nil || row.refundSlip != nil {
		t.Fatalf("paid row: print %v, refund slip %v", row.print != nil, row.refundSlip != nil)
	}
	test.Tap(row.print)
	h.pump("the reprint", func() bool { return hv.printed.Visible() && hv.printed.Text == "Receipt printed" })
	if title, said := hv.title.Position().Y+hv.title.Size().Height, hv.printed.Position().Y; said < title {
		t.Errorf("the print status is drawn over the title (at %v, the title ends at %v)", said, title)
	}

	test.Tap(row.refund)
	if msg := h.refund("10.00", "2468"); !strings.Contains(msg, "REFUNDED") {
		t.Fatalf("refund: %q", msg)
	}
	row = h.row(paid.OutTradeNo)
	if row.refundSlip == nil {
		t.Fatal("a refunded sale offers no refund slip")
	}
	test.Tap(row.refundSlip)
	h.pump("the refund slip", func() bool { return hv.printed.Text == "Refund slip printed" })
	if len(p.refunds) != 1 || !strings.HasPrefix(p.refunds[0], "RF") {
		t.Fatalf("refund slips %v", p.refunds)
	}
	p.setErr(&escpos.Error{Err: escpos.ErrCoverOpen})
	test.Tap(findButton(t, hv.content, "Print end-of-day summary"))
	h.pump("the summary's trouble", func() bool { return strings.HasPrefix(hv.printed.Text, "Printer cover open") })
	if p.summaries != 1 {
		t.Fatalf("%d summaries", p.summaries)
	}

	none := newHarness(t, harnessOpt{})
	paid = none.sale("50", 0, true)
	test.Tap(none.c.tabs.historyTab)
	if none.c.receipt.row != nil || none.row(paid.OutTradeNo).print != nil {
		t.Error("no printer, yet the pane offers printing")
	}
}

// The e-receipt's link reaches the customer screen for the sale it is of.
func TestEReceiptReachesTheCustomerScreen(t *testing.T) {
	h := newHarness(t, harnessOpt{})
	var got []string
	h.c.screens.onReceipt = func(otn, link string) { got = append(got, otn+" "+link) }
	paid := h.sale("12.34", 0, true)
	h.c.screens.showReceipt(paid.OutTradeNo, "http://192.168.1.20:4000/r/x")
	if len(got) != 1 || got[0] != paid.OutTradeNo+" http://192.168.1.20:4000/r/x" {
		t.Fatalf("customer screen given %q", got)
	}
}

// findButton is the button labelled text among o's objects.
func findButton(t *testing.T, o fyne.CanvasObject, text string) *widget.Button {
	t.Helper()
	var found *widget.Button
	var walk func(fyne.CanvasObject)
	walk = func(o fyne.CanvasObject) {
		switch v := o.(type) {
		case *widget.Button:
			if v.Text == text {
				found = v
			}
		case *fyne.Container:
			for _, c := range v.Objects {
				walk(c)
			}
		case *container.Scroll:
			walk(v.Content)
		}
	}
	walk(o)
	if found == nil {
		t.Fatalf("no %q button", text)
	}
	return found
}
