package ui

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"qrkiosk/internal/journal"
	"qrkiosk/internal/pin"
	"qrkiosk/internal/settle"
	"qrkiosk/payment"
)

// historyDeps is what the history view needs from the app.
type historyDeps struct {
	Journal *journal.Journal
	// Refunder is the gateway client refunds go through.
	Refunder payment.Refunder
	// PINHash is the manager PIN's salted hash; "" turns refunds off.
	// PINs counts wrong tries of it, with the pane's other manager tools
	// (nil: a count of its own).
	PINHash string
	PINs    *pin.Guard
	// Ctx bounds refunds and their checks (the app's lifetime).
	Ctx context.Context
	// Do runs a function on the Fyne goroutine.
	Do func(func())
	// Recheck is how often, and Rechecks how many times, a refund whose
	// answer was lost is asked about before it is left to the next start.
	Recheck  time.Duration
	Rechecks int
	Log      *slog.Logger
	// Now is the clock of the PIN lockout (nil: time.Now).
	Now func() time.Time
	// Touch is the side of a touch target in this window (0: minTouch).
	Touch float32
	// OnPanel is told when the refund panel opens or closes (the pane
	// lays itself out again).
	OnPanel func()
	// POSLink says where the shop's POS reaches the kiosk and which CA it
	// imports (its fingerprint to compare); "" when the kiosk answers no
	// POS.
	POSLink string
	// Tools are the manager's buttons, in a row under the title (none:
	// no row).
	Tools []fyne.CanvasObject
	// Printer reprints receipts and prints the day's summary (nil: no
	// printer; receipt.go).
	Printer receiptPrinter
}

// historyView is the cashier's view of today's business from the journal:
// the orders with their state and refunds, the totals per pay type and
// currency exactly as journal.Day gives them, and refunds behind the
// manager PIN. It reads the journal; it never decides a state itself.
type historyView struct {
	deps historyDeps

	title *widget.Label
	// printed says how the last slip printed from here went (hidden
	// until one is).
	printed *widget.Label
	totals  *fyne.Container
	list    *fyne.Container
	// rows are the orders listed, newest first (tests read them).
	rows []historyRow

	// The refund panel, shown for the order being refunded.
	*refundPanel

	scroll  *container.Scroll
	content fyne.CanvasObject
}

// historyRow is one order in the list.
type historyRow struct {
	order  journal.Order
	text   string
	refund *widget.Button // nil unless the order was paid
	// print and refundSlip print its receipt and its last refund's slip
	// (nil without a printer, or without a refund).
	print, refundSlip *widget.Button
}

func newHistoryView(deps historyDeps) *historyView {
	if deps.Ctx == nil {
		deps.Ctx = context.Background()
	}
	if deps.Do == nil {
		deps.Do = fyne.Do
	}
	if deps.Recheck <= 0 {
		deps.Recheck = settle.RefundRecheck
	}
	if deps.Rechecks <= 0 {
		deps.Rechecks = settle.RefundRechecks
	}
	if deps.Log == nil {
		deps.Log = slog.New(slog.DiscardHandler)
	}
	if deps.PINs == nil {
		deps.PINs = pin.NewGuard(deps.Now)
	}
	if deps.Touch < minTouch {
		deps.Touch = minTouch
	}
	h := &historyView{deps: deps}
	h.refundPanel = newRefundPanel(deps, h.refresh)
	h.build()
	return h
}

func (h *historyView) build() {
	h.title = widget.NewLabelWithStyle("Today", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	h.printed = widget.NewLabel("")
	h.printed.Wrapping = fyne.TextWrapWord
	h.printed.Hide()
	h.totals = container.NewGridWithColumns(4)
	h.list = container.NewVBox()

	var totalsTitle fyne.CanvasObject = widget.NewLabelWithStyle("Totals (paid − refunded)", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	if b := h.summaryButton(); b != nil {
		totalsTitle = container.NewBorder(nil, nil, nil, b, totalsTitle)
	}
	// One scroll for all of it: the refund panel, the totals and the list
	// fit any window, and the panel opens at the top.
	var top fyne.CanvasObject = h.title
	if len(h.deps.Tools) > 0 {
		// Under the title, which is long enough on its own.
		top = container.NewVBox(h.title, container.NewHBox(h.deps.Tools...))
	}
	parts := []fyne.CanvasObject{top, h.printed, h.panel, totalsTitle, h.totals, h.list}
	if h.deps.POSLink != "" {
		link := widget.NewLabel(h.deps.POSLink)
		link.Wrapping = fyne.TextWrapWord
		parts = append(parts, link)
	}
	h.scroll = container.NewVScroll(container.NewVBox(parts...))
	h.content = h.scroll
}

// onRefundOrder opens the refund panel for an order, scrolled into view.
func (h *historyView) onRefundOrder(outTradeNo string) {
	h.refundPanel.onRefundOrder(outTradeNo)
	// The panel was hidden when the list was laid out.
	h.scroll.Content.Refresh()
	h.scroll.ScrollToTop()
}

// refresh reads today from the journal (a few ms even on a busy day) and
// redraws the totals and the list. Called on the Fyne goroutine.
func (h *historyView) refresh() {
	day, err := h.deps.Journal.Today(h.deps.Ctx)
	if err != nil {
		h.title.SetText("Today: the journal cannot be read: " + err.Error())
		return
	}
	count := fmt.Sprintf("%d orders", len(day.Orders))
	if len(day.Orders) == 1 {
		count = "1 order"
	}
	h.title.SetText(fmt.Sprintf("Today, %s (%s) — %s", day.Date, h.deps.Journal.Location(), count))
	h.showTotals(day.Totals)
	h.showOrders(day.Orders)
	// The new rows take the view's text size only once the theme
	// override is refreshed.
	h.content.Refresh()
}

// showTotals fills the table of totals per pay type and currency. Cells
// wrap: on a narrow screen "1 × HK$250.00" takes two lines rather than
// the table more than the screen's width.
func (h *historyView) showTotals(totals []journal.Total) {
	cell := func(s string, bold bool) fyne.CanvasObject {
		l := widget.NewLabelWithStyle(s, fyne.TextAlignLeading, fyne.TextStyle{Bold: bold})
		l.Wrapping = fyne.TextWrapWord
		return l
	}
	head := func(s string) fyne.CanvasObject { return cell(s, true) }
	cells := []fyne.CanvasObject{head("Wallet"), head("Paid"), head("Refunded"), head("Net")}
	for _, t := range totals {
		cells = append(cells,
			cell(t.PayType.Name.En+" "+t.Currency.Code, false),
			cell(fmt.Sprintf("%d × %s", t.Count, payment.DisplayMinor(t.Paid, t.Currency)), false),
			cell(payment.DisplayMinor(t.Refunded, t.Currency), false),
			cell(payment.DisplayMinor(t.Net, t.Currency), true),
		)
	}
	if len(totals) == 0 {
		cells = append(cells, widget.NewLabel("no sales yet"), widget.NewLabel(""), widget.NewLabel(""), widget.NewLabel(""))
	}
	h.totals.Objects = cells
	h.totals.Refresh()
}

// showOrders lists the day's orders, newest first, a Refund… button on
// each paid one the gateway can refund.
func (h *historyView) showOrders(orders []journal.Order) {
	h.rows = h.rows[:0]
	var objs []fyne.CanvasObject
	for i := len(orders) - 1; i >= 0; i-- {
		row, obj := h.orderRow(orders[i])
		h.rows = append(h.rows, row)
		objs = append(objs, obj, widget.NewSeparator())
	}
	if len(objs) == 0 {
		objs = append(objs, widget.NewLabel("No orders today."))
	}
	h.list.Objects = objs
}

func (h *historyView) orderRow(o journal.Order) (historyRow, fyne.CanvasObject) {
	row := historyRow{order: o, text: h.orderText(o)}
	label := widget.NewLabel(row.text)
	label.Wrapping = fyne.TextWrapWord
	switch {
	case o.State == payment.StatePaid && (o.Late || o.PaidOffline):
		label.Importance = widget.WarningImportance
	case o.State == payment.StatePaid:
		label.Importance = widget.SuccessImportance
	case o.State == payment.StateFailed:
		label.Importance = widget.DangerImportance
	}
	var right fyne.CanvasObject
	buttons := h.printButtons(o, &row)
	switch {
	case o.State == payment.StatePaid && o.PayType.Refundable:
		otn := o.OutTradeNo
		row.refund = widget.NewButton("Refund…", func() { h.onRefundOrder(otn) })
		buttons = append(buttons, row.refund)
	case o.State == payment.StatePaid:
		// No button that the journal would refuse: say what to do.
		row.text += "\n" + o.PayType.Name.En + ": no gateway refund — give money back by bank transfer"
		label.SetText(row.text)
	}
	if len(buttons) > 0 {
		right = container.New(fixed{h: h.deps.Touch}, container.NewHBox(buttons...))
	}
	return row, container.NewBorder(nil, nil, nil, right, label)
}

// panelOpen: the refund panel is showing, so the keypad types into it.
func (h *historyView) panelOpen() bool { return h.content.Visible() && h.panel.Visible() }

// orderText is one order's line: time, amount, wallet, state, refunds.
func (h *historyView) orderText(o journal.Order) string {
	cur := o.Amount.Currency
	parts := []string{
		o.TxTime.In(h.deps.Journal.Location()).Format("15:04:05"),
		o.Amount.Display(),
		o.PayType.Name.En,
		stateWord(o),
	}
	if o.Refunded > 0 {
		parts = append(parts, "refunded "+payment.DisplayMinor(o.Refunded, cur))
	}
	if o.RefundPending > 0 {
		parts = append(parts, "refund of "+payment.DisplayMinor(o.RefundPending, cur)+" processing")
	}
	return strings.Join(parts, "   ") + "\n" + o.OutTradeNo
}

func stateWord(o journal.Order) string {
	w := strings.ToUpper(strings.ReplaceAll(o.State.String(), "_", " "))
	switch {
	case o.PaidOffline:
		w += " (while offline)"
	case o.Late:
		w += " (late)"
	}
	return w
}
