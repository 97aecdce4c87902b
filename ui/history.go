package ui

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"qrkiosk/internal/journal"
	"qrkiosk/internal/pin"
	"qrkiosk/payment"
)

// historyDeps is what the history view needs from the app.
type historyDeps struct {
	Journal *journal.Journal
	// Refunder is the gateway client refunds go through.
	Refunder payment.Refunder
	// PINHash is the manager PIN's salted hash; "" turns refunds off.
	PINHash string
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
}

// historyView is the cashier's view of today's business from the journal:
// the orders with their state and refunds, the totals per pay type and
// currency exactly as journal.Day gives them, and refunds behind the
// manager PIN. It reads the journal; it never decides a state itself.
type historyView struct {
	deps historyDeps

	title  *widget.Label
	totals *fyne.Container
	list   *fyne.Container
	// rows are the orders listed, newest first (tests read them).
	rows []historyRow

	// The refund panel, shown for the order being refunded.
	panel        fyne.CanvasObject
	selected     string // OutTradeNo in the panel
	refundInfo   *widget.Label
	refundAmount *tapEntry
	refundPIN    *tapEntry
	pins         *pin.Guard       // wrong manager PINs
	refundCur    payment.Currency // the selected order's
	refundGo     *widget.Button
	refundClose  *widget.Button
	refundMsg    *widget.Label
	busy         bool

	// keypadAmount: the keypad types the refund amount (after a tap on
	// it), not the PIN; amountFresh: its next digit replaces the amount
	// proposed.
	keypadAmount, amountFresh bool
	keypadHint                *widget.Label

	content fyne.CanvasObject
}

// historyRow is one order in the list.
type historyRow struct {
	order  journal.Order
	text   string
	refund *widget.Button // nil unless the order was paid
}

func newHistoryView(deps historyDeps) *historyView {
	if deps.Ctx == nil {
		deps.Ctx = context.Background()
	}
	if deps.Do == nil {
		deps.Do = fyne.Do
	}
	if deps.Recheck <= 0 {
		deps.Recheck = journal.RefundRecheck
	}
	if deps.Rechecks <= 0 {
		deps.Rechecks = journal.RefundRechecks
	}
	if deps.Log == nil {
		deps.Log = slog.New(slog.DiscardHandler)
	}
	h := &historyView{deps: deps, pins: pin.NewGuard(deps.Now)}
	h.build()
	return h
}

func (h *historyView) build() {
	h.title = widget.NewLabelWithStyle("Today", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	h.totals = container.NewGridWithColumns(4)
	h.list = container.NewVBox()

	h.refundInfo = widget.NewLabel("")
	// Two lines of its own, cut with … when narrow: a word-wrapped label in
	// this box was measured one line high and overlapped the amount field.
	h.refundInfo.Truncation = fyne.TextTruncateEllipsis
	h.refundInfo.TextStyle.Bold = true
	h.refundAmount = newTapEntry(false, func() { h.setKeypadTarget(true) })
	h.refundPIN = newTapEntry(true, func() { h.setKeypadTarget(false) })
	h.refundPIN.SetPlaceHolder("manager PIN")
	h.keypadHint = widget.NewLabel("")
	h.keypadHint.Importance = widget.LowImportance
	h.keypadHint.Wrapping = fyne.TextWrapWord
	h.refundPIN.OnSubmitted = func(string) { h.onRefundConfirm() }
	h.refundGo = widget.NewButtonWithIcon("Refund", theme.ConfirmIcon(), h.onRefundConfirm)
	h.refundGo.Importance = widget.DangerImportance
	h.refundClose = widget.NewButtonWithIcon("Close", theme.CancelIcon(), h.onRefundClose)
	h.refundMsg = widget.NewLabel("")
	h.refundMsg.Wrapping = fyne.TextWrapWord
	form := container.New(&fieldsLayout{label: 200},
		widget.NewLabel("Amount to refund"), container.New(atLeast{h: touchTarget}, h.refundAmount),
		widget.NewLabel("Manager PIN"), container.New(atLeast{h: touchTarget}, h.refundPIN),
	)
	buttons := container.NewGridWithColumns(2, touch(h.refundClose, 0), touch(h.refundGo, 0))
	h.panel = container.NewVBox(widget.NewSeparator(), h.refundInfo, form, h.keypadHint, buttons, h.refundMsg, widget.NewSeparator())
	h.panel.Hide()

	totalsTitle := widget.NewLabelWithStyle("Totals (paid − refunded)", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	top := container.NewVBox(h.title, totalsTitle, h.totals, h.panel)
	h.content = container.NewBorder(top, nil, nil, nil, container.NewVScroll(h.list))
}

// fieldsLayout puts label/field pairs in rows, the labels in a column of
// fixed width and the fields taking the rest.
type fieldsLayout struct{ label float32 }

func (f *fieldsLayout) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	y := float32(0)
	for i := 0; i+1 < len(objs); i += 2 {
		h := max(objs[i].MinSize().Height, objs[i+1].MinSize().Height)
		objs[i].Move(fyne.NewPos(0, y+(h-objs[i].MinSize().Height)/2))
		objs[i].Resize(fyne.NewSize(f.label, objs[i].MinSize().Height))
		objs[i+1].Move(fyne.NewPos(f.label, y))
		objs[i+1].Resize(fyne.NewSize(size.Width-f.label, h))
		y += h + theme.Padding()
	}
}

func (f *fieldsLayout) MinSize(objs []fyne.CanvasObject) fyne.Size {
	var s fyne.Size
	for i := 0; i+1 < len(objs); i += 2 {
		h := max(objs[i].MinSize().Height, objs[i+1].MinSize().Height)
		s.Width = max(s.Width, f.label+objs[i+1].MinSize().Width)
		s.Height += h + theme.Padding()
	}
	return s
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

	head := func(s string) fyne.CanvasObject {
		return widget.NewLabelWithStyle(s, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	}
	cells := []fyne.CanvasObject{head("Wallet"), head("Paid"), head("Refunded"), head("Net")}
	for _, t := range day.Totals {
		net := widget.NewLabelWithStyle(payment.DisplayMinor(t.Net, t.Currency), fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
		cells = append(cells,
			widget.NewLabel(t.PayType.Name.En+" "+t.Currency.Code),
			widget.NewLabel(fmt.Sprintf("%d × %s", t.Count, payment.DisplayMinor(t.Paid, t.Currency))),
			widget.NewLabel(payment.DisplayMinor(t.Refunded, t.Currency)),
			net,
		)
	}
	if len(day.Totals) == 0 {
		cells = append(cells, widget.NewLabel("no sales yet"), widget.NewLabel(""), widget.NewLabel(""), widget.NewLabel(""))
	}
	h.totals.Objects = cells
	h.totals.Refresh()

	h.rows = h.rows[:0]
	var objs []fyne.CanvasObject
	for i := len(day.Orders) - 1; i >= 0; i-- {
		o := day.Orders[i]
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
		if o.State == payment.StatePaid {
			otn := o.OutTradeNo
			row.refund = widget.NewButton("Refund…", func() { h.onRefundOrder(otn) })
			right = container.New(atLeast{w: 150, h: touchTarget}, row.refund)
		}
		h.rows = append(h.rows, row)
		objs = append(objs, container.NewBorder(nil, nil, nil, right, label), widget.NewSeparator())
	}
	if len(objs) == 0 {
		objs = append(objs, widget.NewLabel("No orders today."))
	}
	h.list.Objects = objs
	// The new rows take the view's text size only once the theme
	// override is refreshed.
	h.content.Refresh()
}

// panelOpen: the refund panel is showing, so the keypad types into it.
func (h *historyView) panelOpen() bool { return h.content.Visible() && h.panel.Visible() }

// setKeypadTarget sends the keypad to the refund amount (a tap on it: the
// next digit starts a new amount) or to the manager PIN, for counters
// without a keyboard.
func (h *historyView) setKeypadTarget(amount bool) {
	h.keypadAmount, h.amountFresh = amount, amount
	if amount {
		h.keypadHint.SetText("The keypad types the amount to refund. Tap the PIN field to type the PIN.")
	} else {
		h.keypadHint.SetText("The keypad types the manager PIN. Tap the amount to refund less.")
	}
}

// onKey types a keypad key into the refund amount or the manager PIN.
func (h *historyView) onKey(k string) {
	if h.busy {
		return
	}
	if h.keypadAmount {
		h.typeAmountKey(k)
		return
	}
	typed := h.refundPIN.Text
	switch k {
	case keyBack:
		if typed != "" {
			typed = typed[:len(typed)-1]
		}
	case keyClear:
		typed = ""
	default:
		if strings.Trim(k, "0123456789") != "" {
			return
		}
		typed += k
	}
	h.refundPIN.SetText(typed)
}

// typeAmountKey edits the refund amount as the cashier's keypad edits a
// sale's: a key that would make it invalid is refused with the reason.
func (h *historyView) typeAmountKey(k string) {
	typed := h.refundAmount.Text
	if h.amountFresh && k != keyBack {
		typed = "" // the proposed amount goes at the first key
	}
	h.amountFresh = false
	next, err := typeAmount(typed, k, h.refundCur)
	if err != nil {
		h.refundMsg.Importance = widget.DangerImportance
		h.refundMsg.SetText(amountProblem(err))
		return
	}
	if !h.refundGo.Disabled() {
		h.refundMsg.SetText("") // an earlier key's refusal
	}
	h.refundAmount.SetText(next)
}

// tapEntry is an entry that says when it is tapped or focused, so the
// keypad types into the field the manager last touched.
type tapEntry struct {
	widget.Entry
	onTouch func()
}

func newTapEntry(password bool, onTouch func()) *tapEntry {
	e := &tapEntry{onTouch: onTouch}
	if password {
		e.Password = true
		e.Wrapping = fyne.TextWrap(fyne.TextTruncateClip)
		e.ActionItem = noReveal()
	}
	e.ExtendBaseWidget(e)
	return e
}

func (e *tapEntry) Tapped(ev *fyne.PointEvent) {
	e.Entry.Tapped(ev)
	e.onTouch()
}

func (e *tapEntry) FocusGained() {
	e.Entry.FocusGained()
	e.onTouch()
}

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
		parts = append(parts, "refund of "+payment.DisplayMinor(o.RefundPending, cur)+" being checked")
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

// onRefundOrder opens the refund panel for an order: the whole remaining
// amount is proposed; a refusal the journal can tell without the gateway
// (FPS, not paid, fully refunded, a refund still being checked) shows at
// once and the Refund button stays off.
func (h *historyView) onRefundOrder(outTradeNo string) {
	if h.busy {
		return
	}
	o, err := h.deps.Journal.Order(h.deps.Ctx, outTradeNo)
	if err != nil {
		h.refundMsg.SetText(err.Error())
		return
	}
	h.selected = outTradeNo
	h.refundCur = o.Amount.Currency
	h.setKeypadTarget(false)
	h.refundInfo.SetText(h.infoText(o))
	h.refundAmount.SetText("")
	h.refundPIN.SetText("")
	h.refundMsg.Importance = widget.DangerImportance
	h.refundMsg.SetText("")
	h.refundGo.Enable()
	if _, err := journal.CheckRefund(o, 0); err != nil {
		h.refundMsg.SetText(refusal(err))
		h.refundGo.Disable()
	} else {
		h.refundAmount.SetText(payment.Amount{Minor: o.Remaining(), Currency: o.Amount.Currency}.String())
		h.refundGo.SetText("Refund " + payment.DisplayMinor(o.Remaining(), o.Amount.Currency))
		h.refundAmount.OnChanged = func(s string) { h.onAmountChanged(o, s) }
	}
	if h.deps.PINHash == "" && h.refundMsg.Text == "" {
		h.refundMsg.SetText("Refunds are off: no manager PIN is configured (manager_pin_hash in config.toml; qrkiosk config hash-pin makes it)")
		h.refundGo.Disable()
	}
	h.panel.Show()
}

func (h *historyView) infoText(o journal.Order) string {
	return fmt.Sprintf("Refund order %s\n%s %s, rung up %s; refunded so far %s",
		o.OutTradeNo, o.Amount.Display(), o.PayType.Name.En, o.TxTime.In(h.deps.Journal.Location()).Format("15:04:05"), payment.DisplayMinor(o.Refunded, o.Amount.Currency))
}

// onAmountChanged keeps the Refund button saying how much it gives back.
func (h *historyView) onAmountChanged(o journal.Order, s string) {
	if a, err := payment.ParseAmount(strings.TrimSpace(s), o.Amount.Currency); err == nil {
		h.refundGo.SetText("Refund " + a.Display())
		return
	}
	h.refundGo.SetText("Refund")
}

func (h *historyView) onRefundClose() {
	if h.busy {
		return
	}
	h.selected = ""
	h.refundAmount.OnChanged = nil
	h.refundPIN.SetText("")
	h.panel.Hide()
}

// refusal is the journal's own words for a refund refused before anything
// was sent.
func refusal(err error) string {
	var r *journal.RefusedError
	if errors.As(err, &r) {
		return "Refused, nothing was sent: " + r.Msg
	}
	return err.Error()
}

// onRefundConfirm checks the amount with the journal, then (off the Fyne
// goroutine: the PIN hash is deliberately slow, the gateway is far) the
// manager PIN, then refunds through the journal, which records the refund
// before the call.
func (h *historyView) onRefundConfirm() {
	if h.busy || h.selected == "" {
		return
	}
	h.refundMsg.Importance = widget.DangerImportance
	o, err := h.deps.Journal.Order(h.deps.Ctx, h.selected)
	if err != nil {
		h.refundMsg.SetText(err.Error())
		return
	}
	var minor int64
	if s := strings.TrimSpace(h.refundAmount.Text); s != "" {
		a, err := payment.ParseAmount(s, o.Amount.Currency)
		if err != nil {
			h.refundMsg.SetText(amountProblem(err))
			return
		}
		minor = a.Minor
	}
	if _, err := journal.CheckRefund(o, minor); err != nil {
		h.refundMsg.SetText(refusal(err))
		return
	}
	if h.deps.PINHash == "" || h.deps.Refunder == nil {
		h.refundMsg.SetText("Refunds are off: no manager PIN is configured")
		return
	}
	typed := h.refundPIN.Text
	h.refundPIN.SetText("")
	if d := h.pins.Wait(); d > 0 {
		h.refundMsg.SetText(fmt.Sprintf("Too many wrong manager PINs: refunds are locked for %s — nothing was refunded", pin.LockedText(d)))
		return
	}
	h.setBusy(true, "Checking the manager PIN…")
	otn := o.OutTradeNo
	go func() {
		if err := pin.Verify(h.deps.PINHash, typed); err != nil {
			if !errors.Is(err, pin.ErrWrong) {
				msg := "The configured manager PIN hash is not usable (" + err.Error() + ") — nothing was refunded"
				h.deps.Do(func() { h.setBusy(false, msg) })
				return
			}
			h.deps.Do(func() {
				msg := "Wrong manager PIN — nothing was refunded"
				locked := h.pins.Record(false)
				if locked > 0 {
					msg = fmt.Sprintf("Wrong manager PIN — nothing was refunded. %d wrong in a row: refunds are locked for %s", pin.MaxTries, pin.LockedText(locked))
				}
				h.deps.Log.Warn("wrong manager PIN for a refund", "orig_out_trade_no", otn, "locked_for", locked)
				h.setBusy(false, msg)
			})
			return
		}
		h.deps.Do(func() {
			h.pins.Record(true)
			h.refundMsg.SetText("Refunding — waiting for the gateway…")
		})
		r, err := h.deps.Journal.Refund(h.deps.Ctx, h.deps.Refunder, otn, minor)
		h.deps.Log.Info("refund", "out_trade_no", r.OutTradeNo, "orig_out_trade_no", otn, "state", r.State, "err", err)
		if errors.Is(err, journal.ErrRefundOutcomeUnknown) {
			h.deps.Do(func() {
				h.refresh()
				h.refundMsg.Importance = widget.WarningImportance
				h.refundMsg.SetText("Refund outcome unknown — checking with the gateway… Do not refund again.")
			})
			h.recheck(r)
			return
		}
		h.deps.Do(func() {
			h.refresh()
			h.showRefund(r, err)
		})
	}()
}

func (h *historyView) setBusy(busy bool, msg string) {
	h.busy = busy
	h.refundMsg.SetText(msg)
	if busy {
		h.refundGo.Disable()
		h.refundClose.Disable()
	} else {
		h.refundGo.Enable()
		h.refundClose.Enable()
	}
}

// showRefund shows a refund's end. Called on the Fyne goroutine.
func (h *historyView) showRefund(r journal.Refund, err error) {
	h.setBusy(false, "")
	if o, oerr := h.deps.Journal.Order(h.deps.Ctx, r.OrigOutTradeNo); oerr == nil && r.OrigOutTradeNo != "" {
		h.refundInfo.SetText(h.infoText(o))
	}
	switch {
	case err == nil && r.State == journal.RefundDone:
		h.refundMsg.Importance = widget.SuccessImportance
		h.refundMsg.SetText(fmt.Sprintf("REFUNDED %s of order %s (refund %s)", r.Amount.Display(), r.OrigOutTradeNo, r.OutTradeNo))
		h.refundGo.Disable()
	case err != nil:
		var refused *journal.RefusedError
		if errors.As(err, &refused) {
			h.refundMsg.SetText(refusal(err))
			return
		}
		h.refundMsg.SetText("Not refunded: " + err.Error())
	case r.State == journal.RefundFailed:
		h.refundMsg.SetText("Not refunded: " + r.Reason)
	default:
		h.refundMsg.Importance = widget.WarningImportance
		h.refundMsg.SetText("Refund outcome still unknown — it stays pending and is checked with the gateway at the next start. Do not refund again.")
	}
}

// recheck asks the gateway about a refund whose answer was lost until it
// is settled, or leaves it to the next start (the journal's policy). Runs
// off the Fyne goroutine.
func (h *historyView) recheck(r journal.Refund) {
	got, err := h.deps.Journal.FollowRefund(h.deps.Ctx, h.deps.Refunder, r, h.deps.Recheck, h.deps.Rechecks)
	if h.deps.Ctx.Err() != nil {
		return
	}
	if err != nil {
		h.deps.Log.Warn("checking a refund with the gateway", "out_trade_no", r.OutTradeNo, "err", err)
	}
	h.deps.Do(func() {
		h.refresh()
		h.showRefund(got, nil)
	})
}
