package ui

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"qrkiosk/display"
	"qrkiosk/internal/escpos"
	"qrkiosk/internal/journal"
	"qrkiosk/internal/kiosk"
	"qrkiosk/payment"
)

// receiptPrinter is the kiosk's receipt printer as the pane uses it
// (*kiosk.Printer): it prints off the sale path and reports every slip,
// its own or one the kiosk printed by itself, to Watch.
type receiptPrinter interface {
	PrintSale(ctx context.Context, outTradeNo string) error
	PrintRefund(ctx context.Context, refundOutTradeNo string) error
	PrintSummary(ctx context.Context, from, to string) error
	Auto() bool
	Watch(func(kiosk.PrintResult)) (stop func())
}

// receiptRow is the printer's line under the status: how the last slip
// went, and Print receipt for the sale that just ended paid. Without a
// printer it has no widgets.
type receiptRow struct {
	printer receiptPrinter // nil: no printer
	ctx     context.Context
	sale    string // the paid sale the button prints ("" = none)
	label   *widget.Label
	button  *widget.Button
	row     fyne.CanvasObject
	stop    func()
}

func newReceiptRow(p receiptPrinter, ctx context.Context, do func(func()), also func(string, widget.Importance)) *receiptRow {
	r := &receiptRow{printer: p, ctx: ctx, stop: func() {}}
	if p == nil {
		return r
	}
	r.label = widget.NewLabel("Printer: receipts print when you tap Print receipt")
	if p.Auto() {
		r.label.SetText("Printer: each paid sale prints its receipt")
	}
	r.label.Truncation = fyne.TextTruncateEllipsis
	r.button = widget.NewButton("Print receipt", r.onPrint)
	r.button.Disable()
	r.row = container.NewBorder(nil, nil, nil, r.button, r.label)
	r.stop = p.Watch(func(res kiosk.PrintResult) {
		do(func() {
			text, imp := printText(res)
			r.say(text, imp)
			also(text, imp)
			if res.Err != nil && res.Job == kiosk.JobSale && res.OutTradeNo == r.sale {
				r.button.SetText("Reprint")
			}
		})
	})
	return r
}

// onSale is the pane's one call: a sale ended (snap final). A paid one can
// have its receipt printed; with auto on it is printing already.
func (r *receiptRow) onSale(snap payment.Snapshot) {
	if r.printer == nil {
		return
	}
	r.sale = ""
	r.button.SetText("Print receipt")
	r.button.Disable()
	if snap.State != payment.StatePaid {
		return
	}
	r.sale = snap.OutTradeNo
	r.button.Enable()
	if r.printer.Auto() && !snap.Late {
		r.say("Printing the receipt…", widget.MediumImportance)
	}
}

// refresh disables printing while a new sale is being charged: the button
// prints the sale that ended, never one in progress.
func (r *receiptRow) refresh(ready bool) {
	if r.printer == nil {
		return
	}
	if ready && r.sale != "" {
		r.button.Enable()
	} else {
		r.button.Disable()
	}
}

func (r *receiptRow) onPrint() {
	if r.sale == "" {
		return
	}
	r.say("Printing the receipt…", widget.MediumImportance)
	otn := r.sale
	go r.printer.PrintSale(r.ctx, otn) // its outcome comes through Watch
}

func (r *receiptRow) say(text string, imp widget.Importance) {
	r.label.Importance = imp
	r.label.SetText(text)
}

// printText is what the cashier is told of a slip: done, or what is wrong
// with the printer, in the printer's own words where it gave them (its
// status answer), and that the money is not affected.
func printText(r kiosk.PrintResult) (string, widget.Importance) {
	what, after := "Receipt", "; the sale is paid"
	switch r.Job {
	case kiosk.JobRefund:
		what, after = "Refund slip", "; the refund is done"
	case kiosk.JobSummary:
		what, after = "End-of-day summary", ""
	}
	if r.Err == nil {
		return what + " printed", widget.SuccessImportance
	}
	problem := "Not printed: " + r.Err.Error()
	for _, k := range []struct {
		err  error
		text string
	}{
		{escpos.ErrOffline, "Printer offline"},
		{escpos.ErrNotConnected, "Printer not connected"},
		{escpos.ErrOutOfPaper, "Out of paper"},
		{escpos.ErrCoverOpen, "Printer cover open"},
		{escpos.ErrPrinterError, "Printer error (switch it off and on)"},
		{escpos.ErrNoPermission, "No permission to use the printer"},
		{kiosk.ErrPrintQueueFull, "Printer stuck: too many slips waiting"},
		{context.DeadlineExceeded, "Printer too slow: it did not take the slip"},
	} {
		if errors.Is(r.Err, k.err) {
			problem = k.text
			break
		}
	}
	return fmt.Sprintf("%s — %s not printed%s", problem, strings.ToLower(what[:1])+what[1:], after), widget.DangerImportance
}

// printButtons are a paid order's buttons in Today & refunds (and row's):
// its receipt again, and the slip of its last refund.
func (h *historyView) printButtons(o journal.Order, row *historyRow) []fyne.CanvasObject {
	p := h.deps.Printer
	if p == nil || o.State != payment.StatePaid {
		return nil
	}
	otn := o.OutTradeNo
	row.print = widget.NewButton("Print", func() {
		h.printStatus("Printing the receipt of "+otn+"…", widget.MediumImportance)
		go p.PrintSale(h.deps.Ctx, otn)
	})
	out := []fyne.CanvasObject{row.print}
	if o.Refunded > 0 {
		row.refundSlip = widget.NewButton("Refund slip", func() {
			refund, err := h.lastRefund(otn)
			if err != nil {
				h.printStatus("No refund slip: "+err.Error(), widget.DangerImportance)
				return
			}
			h.printStatus("Printing the refund slip of "+otn+"…", widget.MediumImportance)
			go p.PrintRefund(h.deps.Ctx, refund)
		})
		out = append(out, row.refundSlip)
	}
	return out
}

// lastRefund is the newest refund of an order the gateway confirmed.
func (h *historyView) lastRefund(outTradeNo string) (string, error) {
	rs, err := h.deps.Journal.Refunds(h.deps.Ctx, outTradeNo)
	if err != nil {
		return "", err
	}
	for i := len(rs) - 1; i >= 0; i-- {
		if rs[i].State == journal.RefundDone {
			return rs[i].OutTradeNo, nil
		}
	}
	return "", errors.New("no confirmed refund")
}

// summaryButton prints today's end-of-day summary (nil without a printer).
func (h *historyView) summaryButton() fyne.CanvasObject {
	p := h.deps.Printer
	if p == nil {
		return nil
	}
	return widget.NewButton("Print end-of-day summary", func() {
		h.printStatus("Printing today's summary (checking it with the gateway)…", widget.MediumImportance)
		go p.PrintSummary(h.deps.Ctx, "", "")
	})
}

// printStatus says how the last slip went, over the list.
func (h *historyView) printStatus(text string, imp widget.Importance) {
	if h.printed == nil {
		return
	}
	h.printed.Importance = imp
	h.printed.SetText(text)
	if !h.printed.Visible() {
		h.printed.Show()
		h.scroll.Content.Refresh() // laid out while it was hidden
	}
}

// printRefundSlip prints a refund's slip the moment the gateway confirms
// it, when the kiosk prints every sale: the customer is at the counter.
func (p *refundPanel) printRefundSlip(r journal.Refund) {
	if pr := p.deps.Printer; pr != nil && pr.Auto() {
		go pr.PrintRefund(p.deps.Ctx, r.OutTradeNo)
	}
}

// onReceipt is the tablet's ShowReceipt: over the Paid page still on the
// screen, the receipt QR, and the keypad back only once it had its time.
func (s *singleLayout) onReceipt(outTradeNo, link string) {
	if outTradeNo != s.paid || !s.charging.Visible() {
		return
	}
	s.customer.ShowReceipt(outTradeNo, link)
	s.shown++ // the pending return to the keypad is the Paid page's: too soon
	s.backToKeypad(display.ReceiptHold)
}

// followEReceipts shows each paid sale's e-receipt link on the customer
// screens once the relay keeps it, until the returned stop.
func (w *windows) followEReceipts(k *kiosk.Kiosk) (stop func()) {
	return k.OnEReceipt(func(outTradeNo, link string) {
		w.do(func() { w.cashier.screens.showReceipt(outTradeNo, link) })
	})
}
