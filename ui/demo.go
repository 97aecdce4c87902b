package ui

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"qrkiosk/payment"
)

// demoPayer plays the customer in demo mode.
type demoPayer interface {
	Pay(payment.Snapshot) error
	Decline(payment.Snapshot) error
}

// demoRow plays the customer of the sale being charged, in demo mode only:
// Simulate payment and Simulate decline under the status line (and, on
// the tablet, in the bar under the customer screen), and the DEMO strip
// across the pane. Outside demo mode it has no widgets.
type demoRow struct {
	payer        demoPayer // nil outside demo mode
	sale         *sale
	pay, decline *widget.Button
	bar          []*widget.Button // the tablet's pair
	row          fyne.CanvasObject
	mark         fyne.CanvasObject
}

func newDemoRow(payer demoPayer, s *sale) *demoRow {
	d := &demoRow{payer: payer, sale: s}
	if payer == nil {
		return d
	}
	d.pay, d.decline = d.buttons()
	d.row = container.NewGridWithColumns(2, d.decline, d.pay)
	d.mark = newDemoMark()
	return d
}

func (d *demoRow) buttons() (pay, decline *widget.Button) {
	pay = widget.NewButton("Simulate payment", d.onPay)
	pay.Importance = widget.WarningImportance
	decline = widget.NewButton("Simulate decline", d.onDecline)
	return pay, decline
}

// barButtons are a second pair for the tablet's bar, on and off with the
// first.
func (d *demoRow) barButtons() (decline, pay *widget.Button) {
	pay, decline = d.buttons()
	d.bar = []*widget.Button{pay, decline}
	return decline, pay
}

func (d *demoRow) onPay() {
	if d.sale.order != nil && d.payer != nil {
		if err := d.payer.Pay(d.sale.order.Snapshot()); err != nil {
			d.sale.message.SetText("Simulated payment: " + err.Error())
		}
	}
}

func (d *demoRow) onDecline() {
	if d.sale.order != nil && d.payer != nil {
		if err := d.payer.Decline(d.sale.order.Snapshot()); err != nil {
			d.sale.message.SetText("Simulated decline: " + err.Error())
		}
	}
}

// refresh offers the simulated customer while a QR shows (ready: no sale
// is under way).
func (d *demoRow) refresh(ready bool) {
	if d.pay == nil {
		return
	}
	snap := payment.Snapshot{}
	if d.sale.order != nil {
		snap = d.sale.order.Snapshot()
	}
	on := !ready && snap.State == payment.StateAwaitingPayment && !snap.Cancelling && snap.SysSN != ""
	for _, b := range append([]*widget.Button{d.pay, d.decline}, d.bar...) {
		if on {
			b.Enable()
		} else {
			b.Disable()
		}
	}
}

// newDemoMark is the strip across the top of the pane in demo mode, as on
// the customer screen: no sale here moves real money.
func newDemoMark() fyne.CanvasObject {
	text := canvas.NewText("DEMO — no real money: payments are simulated", theme.Color(theme.ColorNameForegroundOnWarning))
	text.TextStyle.Bold = true
	text.Alignment = fyne.TextAlignCenter
	text.TextSize = theme.TextSize()
	bg := canvas.NewRectangle(theme.Color(theme.ColorNameWarning))
	return container.NewStack(bg, container.NewCenter(text))
}
